/* layer_relu.c: out = max(in, 0), elementwise. Its gradient passes where
 * the output is positive. Elementwise code has no reduction to unroll, so
 * the loop and unrolled shapes emit the same loop; the kernels shape calls
 * the runtime's. */
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

static void relu_forward(Emitter *e, const Layer *l) {
    char fn[48];
    emit_forward_begin(e, l);
    if (e->opt.shape == SHAPE_KERNELS) {
        emit_line(e, "%s(%ld, in, out);", emit_kernel(e, "relu_forward", fn), tile_values(e, l));
    } else {
        emit_line(e, "for (int i = 0; i < %ld; i++)", tile_values(e, l));
        emit_line(e, "    out[i] = in[i] > 0 ? in[i] : 0;");
    }
    emit_function_end(e);
}

static void relu_backward(Emitter *e, const Layer *l) {
    emit_backward_begin(e, l);
    char fn[48];
    if (l->need_dinput && e->opt.shape == SHAPE_KERNELS) {
        emit_line(e, "%s(%ld, out, dout, din);", emit_kernel(e, "relu_backward", fn),
                  tile_values(e, l));
    } else if (l->need_dinput) {
        emit_line(e, "for (int i = 0; i < %ld; i++)", tile_values(e, l));
        emit_line(e, "    din[i] = out[i] > 0 ? dout[i] : 0;");
    }
    emit_function_end(e);
}

const LayerKind relu_kind = {
    .kind = "relu",
    .prefix = "relu",
    .keras = "ReLU",
    .parse = relu_parse,
    .infer = relu_infer,
    .forward = relu_forward,
    .backward = relu_backward,
    .describe = relu_describe,
};
