/* layer_dropout.c: in training, each value is kept with probability 1 - rate
 * and scaled by 1 / (1 - rate) ("inverted" dropout, as Keras and PyTorch);
 * in evaluation, prediction and the standalone export, out = in; an ONNX
 * file leaves it out (its onnx adds no node: its readers read its input).
 *
 *   - dropout: {rate: 0.25}
 *   - dropout: 0.25
 *
 * The mask is a hash of the step's seed, the sample's position in the batch
 * and the feature (splitmix64, 24 bits compared with the rate), so the same
 * seed and options give the same bits whatever the tile size or the thread
 * count (render.c writes it). The forward pass keeps mask / (1 - rate) in
 * its saved buffer; the backward pass multiplies dout by it.
 */
#include "lenetc.h"

typedef struct {
    float rate;
} Dropout;
LAYER_DATA_FITS(Dropout);

static float rate_of(const Layer *l) { return LAYER_DATA(const Dropout, l)->rate; }

static int dropout_parse(Layer *l, const YNode *p, Diag *d) {
    static const char *const keys[] = {"name", "rate", NULL};
    if (spec_check_keys(p, "dropout layer", keys, d))
        return -1;
    if (!spec_get(p, "rate"))
        return error_at(d, l->line, l->col, "dropout needs a rate: {rate: 0.25}");
    return spec_real(p, "rate", 0.0, 0.99, &LAYER_DATA(Dropout, l)->rate, d);
}

static int dropout_infer(Layer *l, Diag *d) {
    l->out = l->in;
    l->saved = shape_size(l->in); /* the scaled mask */
    return 0;
}

static void dropout_describe(const Layer *l, StrBuf *sb) {
    sb_printf(sb, "dropout rate %g (training only)", rate_of(l));
}

/* training: the mask into saved, out = in * saved; the export, which never
 * trains: a copy; backward: din = dout * saved */
static void dropout_lower(const Layer *l, const Lowering *how, Program *p) {
    const long n = shape_size(l->in) * how->tile;
    if (how->backward)
        program_add(p, (Op){.kind = OP_MUL, .n = n, .in = "dout", .by = "saved", .out = "din"});
    else if (how->inference)
        program_add(p, (Op){.kind = OP_COPY, .n = n, .in = "in", .out = "out"});
    else
        program_add(p, (Op){.kind = OP_DROPOUT, .n = n, .features = shape_size(l->in),
                            .tile = how->tile, .rate = rate_of(l), .in = "in", .out = "out",
                            .by = "saved"});
}

static void dropout_torch(const Layer *l, json_t *modules) {
    layer_torch_module(modules, l, NULL, "Dropout", json_pack("[o]", layer_json_real(rate_of(l))), NULL);
}

/* inference's copy is no node at all (onnx_export.c makes a dropout that
 * gives the logits an Identity) */
static void dropout_onnx(const Layer *l, OnnxGraph *g) {}

const LayerKind dropout_kind = {
    .kind = "dropout",
    .prefix = "dropout",
    .keras = "Dropout",
    .shorthand = "rate",
    .parse = dropout_parse,
    .infer = dropout_infer,
    .describe = dropout_describe,
    .torch = dropout_torch,
    .onnx = dropout_onnx,
    .uses_pass = true,
    .lower = dropout_lower,
};
