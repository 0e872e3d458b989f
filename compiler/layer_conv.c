/* layer_conv.c: 2-D convolution (cross-correlation, as in Keras and PyTorch),
 * and its depthwise form.
 *
 *   - conv: {filters: 6, kernel: 3, stride: 1, padding: valid}
 *   - conv: {filters: 6, kernel: 3, activation: relu}
 *   - conv: {filters: 16, kernel: 3, padding: same, use_bias: false}
 *   - Conv2D: {filters: 6, kernel_size: [3, 3], strides: 1}    the same, Keras' way
 *   - depthwise_conv: {kernel: 3, stride: 1, padding: same, multiplier: 1}
 *
 * out[co][oy][ox] = bias[co] + sum over ci, ky, kx of
 *                   w[co][ci][ky][kx] * in[ci][oy*S + ky - pt][ox*S + kx - pl]
 * A depthwise convolution (Keras' DepthwiseConv2D; PyTorch's Conv2d with
 * groups = C) convolves each input channel c on its own into `multiplier`
 * outputs c*M .. c*M + M-1: weight [C*M][1][k][k]; it lowers to the same
 * operation with C groups of one channel.
 * Each pass lowers to the convolution's operation (render_conv.c writes
 * it in every style) and, with an activation, the activation's on out and
 * dout in place, as dense's: the same code as the activation's layer after
 * the conv (the kernels style fuses relu into its gemm).
 */
#include <stdio.h>
#include <string.h>

#include "lenetc.h"
#include "onnx.h"

/* conv's attributes: the fused activation first (activation.c reads it) */
typedef struct {
    FusedAct act;
    int filters, kernel, stride;
    int pad_mode;           /* PAD_VALID, PAD_SAME or PAD_EXPLICIT */
    int pad;                /* PAD_EXPLICIT's pixels */
    int pad_top, pad_left;  /* resolved by infer: rows above, columns left */
    int multiplier;         /* depthwise_conv: outputs per input channel */
    bool no_bias;           /* use_bias: false */
} Conv;
LAYER_DATA_FITS(Conv);
#define CONV(l) LAYER_DATA(Conv, l)

extern const LayerKind depthwise_conv_kind;
static bool depthwise(const Layer *l) { return l->kind == &depthwise_conv_kind; }

static int conv_parse(Layer *l, const YNode *p, Diag *d) {
    static const char *const keys[] = {"name",       "filters", "kernel",   "stride", "padding",
                                       "activation", "alpha",   "use_bias", NULL};
    static const char *const dw_keys[] = {"name",       "kernel", "stride",   "padding",
                                          "multiplier", "activation", "alpha", "use_bias",
                                          NULL};
    if (spec_check_keys(p, depthwise(l) ? "depthwise_conv layer" : "conv layer",
                        depthwise(l) ? dw_keys : keys, d))
        return -1;
    if (!p)
        return error_at(d, l->line, l->col, depthwise(l) ? "depthwise_conv needs a kernel"
                                                         : "conv needs filters and kernel");
    CONV(l)->stride = 1;
    CONV(l)->multiplier = 1;
    if ((!depthwise(l) && spec_int(p, "filters", 1, MAX_DIM, true, &CONV(l)->filters, d)) ||
        (depthwise(l) && spec_int(p, "multiplier", 1, 64, false, &CONV(l)->multiplier, d)) ||
        spec_square(p, "kernel", 1, 64, true, &CONV(l)->kernel, d) ||
        spec_square(p, "stride", 1, 64, false, &CONV(l)->stride, d))
        return -1;
    static const char *const bools[] = {"false", "true", NULL};
    int use_bias = 1;
    if (spec_choice(p, "use_bias", bools, &use_bias, d))
        return -1;
    CONV(l)->no_bias = !use_bias;
    CONV(l)->pad_mode = PAD_VALID;
    const YNode *pad = spec_get(p, "padding");
    if (pad && pad->kind == Y_SCALAR && !strcmp(pad->text, "same")) {
        CONV(l)->pad_mode = PAD_SAME;
    } else if (pad && !(pad->kind == Y_SCALAR && !strcmp(pad->text, "valid"))) {
        if (pad->kind != Y_SCALAR || !(pad->text[0] >= '0' && pad->text[0] <= '9'))
            return error_at(d, pad->line, pad->col,
                            "padding must be valid, same or a number of pixels");
        CONV(l)->pad_mode = PAD_EXPLICIT;
        if (spec_int(p, "padding", 0, 64, true, &CONV(l)->pad, d))
            return -1;
    }
    return activation_parse(l, p, d);
}

/* Output size along one axis, and the padding before it. */
static int conv_axis(const Layer *l, int in, int *pad_before) {
    int k = CONV(l)->kernel, s = CONV(l)->stride;
    if (CONV(l)->pad_mode == PAD_SAME) {
        int out = (in + s - 1) / s;
        int total = (out - 1) * s + k - in;
        *pad_before = total > 0 ? total / 2 : 0;
        return out;
    }
    int p = CONV(l)->pad_mode == PAD_EXPLICIT ? CONV(l)->pad : 0;
    *pad_before = p;
    return in + 2 * p < k ? 0 : (in + 2 * p - k) / s + 1;
}

static int conv_infer(Layer *l, Diag *d) {
    if (l->in.flat)
        return error_at(d, l->line, l->col,
                        "%s: conv needs a height x width x channels input, but gets a vector of "
                        "%d values",
                        l->name, l->in.c);
    int oh = conv_axis(l, l->in.h, &CONV(l)->pad_top);
    int ow = conv_axis(l, l->in.w, &CONV(l)->pad_left);
    if (oh < 1 || ow < 1)
        return error_at(d, l->line, l->col,
                        "%s: kernel %dx%d is larger than its %dx%d input (padding %d)", l->name,
                        CONV(l)->kernel, CONV(l)->kernel, l->in.h, l->in.w,
                        CONV(l)->pad_mode == PAD_EXPLICIT ? CONV(l)->pad : 0);
    if (depthwise(l)) {
        if ((long)l->in.c * CONV(l)->multiplier > MAX_DIM)
            return error_at(d, l->line, l->col, "%s: %d channels x multiplier %d exceed %d",
                            l->name, l->in.c, CONV(l)->multiplier, MAX_DIM);
        CONV(l)->filters = l->in.c * CONV(l)->multiplier;
    }
    l->out = (Shape){CONV(l)->filters, oh, ow, false};
    /* PyTorch's Conv2d: weight [out][in / groups][kh][kw] */
    const int rf = CONV(l)->kernel * CONV(l)->kernel;
    const int per_group = depthwise(l) ? 1 : l->in.c;
    LayerTensor *w = layer_tensor(l, "weight", "w", "gw", LENET_INIT_GLOROT_UNIFORM, 4,
                                  (int[]){CONV(l)->filters, per_group, CONV(l)->kernel, CONV(l)->kernel});
    /* Keras' fans of a depthwise kernel [k, k, C, M]: k*k*M in, k*k*C out */
    w->fan_in = depthwise(l) ? rf * CONV(l)->multiplier : l->in.c * rf;
    w->fan_out = depthwise(l) ? rf * l->in.c : CONV(l)->filters * rf;
    w->in_backward = true;
    if (!CONV(l)->no_bias)
        layer_tensor(l, "bias", "bias", "gb", LENET_INIT_ZEROS, 1, (int[]){CONV(l)->filters});
    return 0;
}

/* Taps that land inside the input along one axis, over all outputs. */
static long valid_taps(int out, int k, int s, int pad, int in) {
    long n = 0;
    for (int o = 0; o < out; o++)
        for (int t = 0; t < k; t++)
            n += o * s + t - pad >= 0 && o * s + t - pad < in;
    return n;
}

/* Taps that fall into padding are not computed, so not counted. */
static long conv_macs(const Layer *l) {
    return (long)l->out.c * (depthwise(l) ? 1 : l->in.c) *
           valid_taps(l->out.h, CONV(l)->kernel, CONV(l)->stride, CONV(l)->pad_top, l->in.h) *
           valid_taps(l->out.w, CONV(l)->kernel, CONV(l)->stride, CONV(l)->pad_left, l->in.w);
}

/* Conv2d's keywords: padding, and groups and bias where they are not
 * PyTorch's defaults */
static json_t *conv_kwargs(const Layer *l, int pad) {
    json_t *kw = json_pack("{s:i}", "padding", pad);
    if (depthwise(l))
        json_object_set_new(kw, "groups", json_integer(l->in.c));
    if (CONV(l)->no_bias)
        json_object_set_new(kw, "bias", json_false());
    return kw;
}

/* PyTorch pads both sides alike; "same" with an even kernel pads one more
 * pixel after, which takes a ZeroPad2d in front. */
static void conv_torch(const Layer *l, json_t *modules) {
    int pb = (l->out.h - 1) * CONV(l)->stride + CONV(l)->kernel - l->in.h - CONV(l)->pad_top;
    int pr = (l->out.w - 1) * CONV(l)->stride + CONV(l)->kernel - l->in.w - CONV(l)->pad_left;
    pb = pb > 0 ? pb : 0;
    pr = pr > 0 ? pr : 0;
    int pad = 0;
    if (CONV(l)->pad_top == pb && CONV(l)->pad_left == pr && CONV(l)->pad_top == CONV(l)->pad_left)
        pad = CONV(l)->pad_top;
    else
        layer_torch_module(modules, l, "_pad", "ZeroPad2d",
                           json_pack("[[i, i, i, i]]", CONV(l)->pad_left, pr, CONV(l)->pad_top, pb), NULL);
    layer_torch_module(modules, l, NULL, "Conv2d",
                       json_pack("[i, i, i, i]", l->in.c, CONV(l)->filters, CONV(l)->kernel, CONV(l)->stride),
                       conv_kwargs(l, pad));
    activation_torch_module(l, modules);
}

/* ONNX's Conv: pads [top, left, bottom, right] when it pads (explicit: the
 * spec's on every side; "same": as infer resolved it, the rest after),
 * group C for a depthwise one; then the fused activation. */
static void conv_onnx(const Layer *l, OnnxGraph *g) {
    const Conv *c = CONV(l);
    const char *in[3] = {onnx_input(g, 0), onnx_tensor(g, "weight"),
                         c->no_bias ? NULL : onnx_tensor(g, "bias")};
    Onnx__NodeProto *n = onnx_node(g, "Conv", NULL, c->no_bias ? 2 : 3, in);
    const int64_t k = c->kernel, s = c->stride;
    onnx_attr_ints(g, n, "kernel_shape", 2, (const int64_t[]){k, k});
    onnx_attr_ints(g, n, "strides", 2, (const int64_t[]){s, s});
    int64_t pads[4] = {c->pad_top, c->pad_left, c->pad, c->pad};
    if (c->pad_mode == PAD_SAME) {
        const int64_t pb = (int64_t)(l->out.h - 1) * s + k - l->in.h - c->pad_top;
        const int64_t pr = (int64_t)(l->out.w - 1) * s + k - l->in.w - c->pad_left;
        pads[2] = pb > 0 ? pb : 0;
        pads[3] = pr > 0 ? pr : 0;
    }
    if (c->pad_mode != PAD_VALID && (pads[0] || pads[1] || pads[2] || pads[3]))
        onnx_attr_ints(g, n, "pads", 4, pads);
    if (depthwise(l))
        onnx_attr_int(g, n, "group", l->in.c);
    activation_onnx(l, g);
}

static void conv_describe(const Layer *l, StrBuf *sb) {
    if (depthwise(l))
        sb_printf(sb, "depthwise conv x%d %dx%d stride %d, padding ", CONV(l)->multiplier,
                  CONV(l)->kernel, CONV(l)->kernel, CONV(l)->stride);
    else
        sb_printf(sb, "conv %d@%dx%d stride %d, padding ", CONV(l)->filters, CONV(l)->kernel,
                  CONV(l)->kernel, CONV(l)->stride);
    if (CONV(l)->pad_mode == PAD_VALID)
        sb_puts(sb, "valid");
    else if (CONV(l)->pad_mode == PAD_SAME)
        sb_printf(sb, "same (%d before)", CONV(l)->pad_top);
    else
        sb_printf(sb, "%d", CONV(l)->pad);
    if (CONV(l)->no_bias)
        sb_puts(sb, ", no bias");
    activation_describe(l, sb);
}

/* The convolution, then the fused activation on out in place (the kernels
 * style's fusion pass puts relu into the gemm); backward: the activation's
 * derivative on dout in place, then the convolution's gradients. */
static void conv_lower(const Layer *l, const Lowering *how, Program *p) {
    /* "same" can pad only after the input, so it always needs the checks */
    const bool padded = CONV(l)->pad_mode == PAD_SAME ||
                        (CONV(l)->pad_mode == PAD_EXPLICIT && CONV(l)->pad > 0);
    const int groups = depthwise(l) ? l->in.c : 1;
    const Op conv = {.kind = how->backward ? OP_CONV_GRAD : OP_CONV,
                     .conv = {l->in.c / groups, l->in.h, l->in.w, l->out.c / groups, l->out.h,
                              l->out.w, CONV(l)->kernel, CONV(l)->stride, CONV(l)->pad_top,
                              CONV(l)->pad_left, padded, groups, CONV(l)->no_bias},
                     .tile = how->tile, .need_dinput = l->need_dinput};
    if (how->backward) {
        lower_fused_activation(p, l, how);
        program_add(p, conv);
    } else {
        program_add(p, conv);
        lower_fused_activation(p, l, how);
    }
}

const LayerKind conv_kind = {
    .kind = "conv",
    .prefix = "conv",
    .keras = "Conv2D",
    .parse = conv_parse,
    .infer = conv_infer,
    .describe = conv_describe,
    .macs = conv_macs,
    .torch = conv_torch,
    .onnx = conv_onnx,
    .fuses_activation = true,
    .lower = conv_lower,
};

const LayerKind depthwise_conv_kind = {
    .kind = "depthwise_conv",
    .prefix = "dwconv",
    .keras = "DepthwiseConv2D",
    .parse = conv_parse,
    .infer = conv_infer,
    .describe = conv_describe,
    .macs = conv_macs,
    .torch = conv_torch,
    .onnx = conv_onnx,
    .fuses_activation = true,
    .lower = conv_lower,
};
