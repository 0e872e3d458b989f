/* layer_relu.c: out = max(in, 0), elementwise. Its gradient passes where
 * the output is positive. Elementwise code has no reduction to unroll, so
 * the unrolled style falls back to the loop; the kernels style calls the
 * runtime's. */
#include "lenetc.h"

static int relu_parse(Layer *l, const YNode *p, Diag *d) {
    static const char *const keys[] = {"name", NULL};
    return spec_check_keys(p, "relu layer", keys, d);
}

static int relu_infer(Layer *l, Diag *d) {
    l->out = l->in;
    return 0;
}

static void relu_describe(const Layer *l, StrBuf *sb) { sb_puts(sb, "relu"); }

static long tile_values(Emitter *e, const Layer *l) {
    return shape_size(l->in) * e->opt.tile;
}

static void relu_forward_loops(Emitter *e, const Layer *l) {
    emit_activation(e, ACT_RELU, 0, tile_values(e, l), "in", "out");
}

static void relu_forward_kernels(Emitter *e, const Layer *l) {
    char fn[48];
    emit_line(e, "%s(%ld, in, out);", emit_kernel(e, "relu_forward", fn), tile_values(e, l));
}

static void relu_backward_loops(Emitter *e, const Layer *l) {
    emit_activation_grad(e, ACT_RELU, 0, tile_values(e, l), "out", "dout", "din");
}

static void relu_backward_kernels(Emitter *e, const Layer *l) {
    char fn[48];
    emit_line(e, "%s(%ld, out, dout, din);", emit_kernel(e, "relu_backward", fn),
              tile_values(e, l));
}

static void relu_torch(const Layer *l, json_t *modules) {
    layer_torch_module(modules, l, NULL, "ReLU", NULL, NULL);
}

const LayerKind relu_kind = {
    .kind = "relu",
    .activation = true,
    .prefix = "relu",
    .keras = "ReLU",
    .parse = relu_parse,
    .infer = relu_infer,
    .describe = relu_describe,
    .torch = relu_torch,
    .forward = {[STYLE_LOOPS] = relu_forward_loops, [STYLE_KERNELS] = relu_forward_kernels},
    .backward = {[STYLE_LOOPS] = relu_backward_loops, [STYLE_KERNELS] = relu_backward_kernels},
};
