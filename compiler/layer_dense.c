/* layer_dense.c: fully connected, optionally followed by an activation.
 *
 *   - dense: {units: 120, activation: relu}
 *   - dense: {units: 64, activation: leaky_relu, alpha: 0.1}
 *   - dense: 10                         units 10
 *
 * out[j] = act(bias[j] + sum over i of w[j][i] * in[i]), w in PyTorch's
 * Linear layout [units][inputs]. The activation (none, relu, leaky_relu,
 * tanh, sigmoid) is fused (activation.c): it is applied to out in place,
 * and the backward pass scales dout by its derivative, in place, before the
 * sums. Each pass lowers to the dense operation and the activation's
 * (render_dense.c writes it; the kernels style fuses relu into its gemm).
 */
#include <stdio.h>

#include "lenetc.h"
#include "onnx.h"

/* dense's attributes: the fused activation first (activation.c reads it) */
typedef struct {
    FusedAct act;
    int units;
} Dense;
LAYER_DATA_FITS(Dense);
#define DENSE(l) LAYER_DATA(Dense, l)

static int dense_parse(Layer *l, const YNode *p, Diag *d) {
    static const char *const keys[] = {"name", "units", "activation", "alpha", NULL};
    if (spec_check_keys(p, "dense layer", keys, d))
        return -1;
    if (!p)
        return error_at(d, l->line, l->col, "dense needs units");
    return spec_int(p, "units", 1, 1 << 16, true, &DENSE(l)->units, d) || activation_parse(l, p, d);
}

static int dense_infer(Layer *l, Diag *d) {
    if (!l->in.flat)
        return error_at(d, l->line, l->col,
                        "%s: dense needs a vector, but gets %dx%dx%d: add a flatten layer before it",
                        l->name, l->in.h, l->in.w, l->in.c);
    l->out = (Shape){DENSE(l)->units, 1, 1, true};
    /* PyTorch's Linear: weight [out][in] */
    LayerTensor *w = layer_tensor(l, "weight", "w", "gw", LENET_INIT_GLOROT_UNIFORM, 2,
                                  (int[]){DENSE(l)->units, l->in.c});
    w->fan_in = l->in.c;
    w->fan_out = DENSE(l)->units;
    w->in_backward = true;
    layer_tensor(l, "bias", "bias", "gb", LENET_INIT_ZEROS, 1, (int[]){DENSE(l)->units});
    return 0;
}

static long dense_macs(const Layer *l) { return (long)DENSE(l)->units * l->in.c; }

static void dense_torch(const Layer *l, json_t *modules) {
    layer_torch_module(modules, l, NULL, "Linear", json_pack("[i, i]", l->in.c, DENSE(l)->units), NULL);
    activation_torch_module(l, modules);
}

/* Gemm with the weight [units][inputs] transposed, then the activation */
static void dense_onnx(const Layer *l, OnnxGraph *g) {
    const char *in[3] = {onnx_input(g, 0), onnx_tensor(g, "weight"), onnx_tensor(g, "bias")};
    onnx_attr_int(g, onnx_node(g, "Gemm", NULL, 3, in), "transB", 1);
    activation_onnx(l, g);
}

static void dense_describe(const Layer *l, StrBuf *sb) {
    sb_printf(sb, "dense %d -> %d", l->in.c, DENSE(l)->units);
    activation_describe(l, sb);
}

/* The gemm, then the fused activation on out in place (the kernels style's
 * fusion pass puts relu into the gemm); backward: the activation's
 * derivative on dout in place, then the sums. */
static void dense_lower(const Layer *l, const Lowering *how, Program *p) {
    const Op dense = {.kind = how->backward ? OP_DENSE_GRAD : OP_DENSE, .units = DENSE(l)->units,
                      .inputs = l->in.c, .tile = how->tile, .need_dinput = l->need_dinput,
                      .in_off = l->in_off};
    if (how->backward) {
        lower_fused_activation(p, l, how);
        program_add(p, dense);
    } else {
        program_add(p, dense);
        lower_fused_activation(p, l, how);
    }
}

const LayerKind dense_kind = {
    .kind = "dense",
    .prefix = "dense",
    .keras = "Dense",
    .shorthand = "units",
    .parse = dense_parse,
    .infer = dense_infer,
    .describe = dense_describe,
    .macs = dense_macs,
    .torch = dense_torch,
    .onnx = dense_onnx,
    .fuses_activation = true,
    .lower = dense_lower,
};
