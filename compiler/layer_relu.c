/* layer_relu.c: out = max(in, 0), elementwise. Its gradient passes where
 * the output is positive. It lowers to one activation operation, which the
 * kernels style renders as the runtime's relu and the others as a loop
 * (render.c). */
#include "lenetc.h"
#include "onnx.h"

static int relu_parse(Layer *l, const YNode *p, Diag *d) {
    static const char *const keys[] = {"name", NULL};
    return spec_check_keys(p, "relu layer", keys, d);
}

static int relu_infer(Layer *l, Diag *d) {
    l->out = l->in;
    return 0;
}

static void relu_describe(const Layer *l, StrBuf *sb) { sb_puts(sb, "relu"); }

/* forward: out = max(in, 0); backward: din = dout where out > 0 */
static void relu_lower(const Layer *l, const Lowering *how, Program *p) {
    lower_activation(p, how->backward, ACT_RELU, 0, shape_size(l->in) * how->tile);
}

static void relu_torch(const Layer *l, json_t *modules) {
    layer_torch_module(modules, l, NULL, "ReLU", NULL, NULL);
}

static void relu_onnx(const Layer *l, OnnxGraph *g) { onnx_activation(g, ACT_RELU, 0, NULL); }

const LayerKind relu_kind = {
    .kind = "relu",
    .activation = true,
    .prefix = "relu",
    .keras = "ReLU",
    .parse = relu_parse,
    .infer = relu_infer,
    .describe = relu_describe,
    .torch = relu_torch,
    .onnx = relu_onnx,
    .lower = relu_lower,
};
