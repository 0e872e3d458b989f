/* layer_global_pool.c: global average pooling, C x H x W -> a vector of C
 * (Keras' GlobalAveragePooling2D; PyTorch's AdaptiveAvgPool2d(1), then
 * Flatten).
 *
 *   - global_avgpool
 *
 * out[c] = (the sum of channel c's H*W values, in position order) / (H*W);
 * backward, each position gets dout[c] / (H*W).
 */
#include "lenetc.h"
#include "onnx.h"

static int global_pool_parse(Layer *l, const YNode *p, Diag *d) {
    static const char *const keys[] = {"name", NULL};
    return spec_check_keys(p, "global_avgpool layer", keys, d);
}

static int global_pool_infer(Layer *l, Diag *d) {
    if (l->in.flat)
        return error_at(d, l->line, l->col,
                        "%s: global_avgpool needs a height x width x channels input, but gets a "
                        "vector of %d values",
                        l->name, l->in.c);
    l->out = (Shape){l->in.c, 1, 1, true};
    return 0;
}

static void global_pool_describe(const Layer *l, StrBuf *sb) {
    sb_printf(sb, "global average pooling of %dx%d", l->in.h, l->in.w);
}

static void global_pool_lower(const Layer *l, const Lowering *how, Program *p) {
    program_add(p, (Op){.kind = how->backward ? OP_GLOBAL_AVGPOOL_GRAD : OP_GLOBAL_AVGPOOL,
                        .tile = how->tile, .channels = l->in.c, .positions = l->in.h * l->in.w,
                        .in = "in", .out = "out", .dout = "dout", .din = "din"});
}

static void global_pool_torch(const Layer *l, json_t *modules) {
    layer_torch_module(modules, l, NULL, "AdaptiveAvgPool2d", json_pack("[i]", 1), NULL);
    layer_torch_module(modules, l, "_flatten", "Flatten", NULL, NULL);
}

/* GlobalAveragePool gives N x C x 1 x 1; lenetc's output is a vector */
static void global_pool_onnx(const Layer *l, OnnxGraph *g) {
    const char *in = onnx_input(g, 0);
    onnx_node(g, "GlobalAveragePool", NULL, 1, &in);
    in = onnx_last(g);
    onnx_attr_int(g, onnx_node(g, "Flatten", "flatten", 1, &in), "axis", 1);
}

const LayerKind global_avgpool_kind = {
    .kind = "global_avgpool",
    .prefix = "gap",
    .keras = "GlobalAveragePooling2D",
    .parse = global_pool_parse,
    .infer = global_pool_infer,
    .describe = global_pool_describe,
    .torch = global_pool_torch,
    .onnx = global_pool_onnx,
    .lower = global_pool_lower,
};
