/* layer_dropout.c: in training, each value is kept with probability 1 - rate
 * and scaled by 1 / (1 - rate) ("inverted" dropout, as Keras and PyTorch);
 * in evaluation, prediction and the standalone export, out = in.
 *
 *   - dropout: {rate: 0.25}
 *   - dropout: 0.25
 *
 * The mask is a hash of the step's seed, the sample's position in the batch
 * and the feature (splitmix64, 24 bits compared with the rate), so the same
 * seed and options give the same bits whatever the tile size or the thread
 * count. The forward pass keeps mask / (1 - rate) in its saved buffer; the
 * backward pass multiplies dout by it.
 */
#include <stdio.h>

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

/* out = in: evaluation, and the export */
static void pass_through(Emitter *e, long n) {
    emit_line(e, "for (int i = 0; i < %ld; i++)", n);
    emit_line(e, "    out[i] = in[i];");
}

static void dropout_forward(Emitter *e, const Layer *l) {
    const int T = e->opt.tile;
    const long n = shape_size(l->in);
    char keep[32], scale[32];
    if (e->opt.forward_only) { /* the export never trains */
        pass_through(e, n * T);
        return;
    }
    /* a value is kept when its 24 random bits are at least rate * 2^24 */
    const unsigned long threshold = (unsigned long)((double)rate_of(l) * 16777216.0 + 0.5);
    emit_real(e, 1.0 / (1.0 - (double)rate_of(l)), scale);
    snprintf(keep, sizeof keep, "%lu", threshold);
    emit_open(e, "if (!pass->training)");
    pass_through(e, n * T);
    emit_line(e, "return;");
    emit_close(e);
    emit_open(e, "for (int f = 0; f < %ld; f++)", n);
    emit_open(e, "for (int b = 0; b < %d; b++)", T);
    emit_line(e, "/* splitmix64 of (seed, sample, feature) */");
    emit_line(e, "unsigned long long z = pass->seed ^ (unsigned long long)(pass->sample + b) * "
                 "0x9e3779b97f4a7c15ull");
    emit_line(e, "    ^ (unsigned long long)f * 0xd1b54a32d192ed03ull;");
    emit_line(e, "z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;");
    emit_line(e, "z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;");
    emit_line(e, "z ^= z >> 31;");
    emit_line(e, "const long i = (long)f * %d + b;", T);
    emit_line(e, "saved[i] = (z >> 40) >= %sull ? %s : 0;", keep, scale);
    emit_line(e, "out[i] = in[i] * saved[i];");
    emit_close(e);
    emit_close(e);
}

static void dropout_backward(Emitter *e, const Layer *l) {
    emit_line(e, "for (int i = 0; i < %ld; i++)", shape_size(l->in) * e->opt.tile);
    emit_line(e, "    din[i] = dout[i] * saved[i];");
}

static void dropout_torch(const Layer *l, json_t *modules) {
    layer_torch_module(modules, l, NULL, "Dropout", json_pack("[o]", layer_json_real(rate_of(l))), NULL);
}

const LayerKind dropout_kind = {
    .kind = "dropout",
    .prefix = "dropout",
    .keras = "Dropout",
    .shorthand = "rate",
    .parse = dropout_parse,
    .infer = dropout_infer,
    .describe = dropout_describe,
    .torch = dropout_torch,
    .uses_pass = true,
    .forward = {[STYLE_LOOPS] = dropout_forward},
    .backward = {[STYLE_LOOPS] = dropout_backward},
};
