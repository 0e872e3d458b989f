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
 * sums. relu is fused into the kernels style's gemm; the others run
 * activation.c's loop.
 */
#include <stdio.h>

#include "lenetc.h"

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

static void dense_describe(const Layer *l, StrBuf *sb) {
    sb_printf(sb, "dense %d -> %d", l->in.c, DENSE(l)->units);
    activation_describe(l, sb);
}

/* Kernels style: out[j] = bias[j] + w[j][i] x in[i], relu fused into the gemm. */
static void dense_forward_kernels(Emitter *e, const Layer *l) {
    const int T = e->opt.tile, N = l->in.c;
    char fn[48];
    lenet_gemm d = {.m = DENSE(l)->units, .k = {1, 1, N}, .groups = {1, 1}, .width = T,
                    .flags = activation_gemm_flags(e, l), .a_row = N, .a_k = {0, 0, 1},
                    .b_k = {0, 0, T}, .c_row = T};
    emit_gemm_desc(e, "fwd", &d);
    emit_line(e, "%s(&fwd, w, in, out, bias);", emit_kernel(e, "gemm", fn));
    emit_fused_activation(e, l);
}

/* Kernels style of the backward pass. The weight gradient sums over the
 * tile's lanes: with in transposed to [T][N] it is a gemm whose rows are
 * whole runs of weights, gw[j][i] += sum over b of dout[j][b] x in^T[b][i]. */
static void dense_backward_kernels(Emitter *e, const Layer *l) {
    const int T = e->opt.tile, N = l->in.c, U = DENSE(l)->units;
    char fn[48];
    emit_fused_activation_grad(e, l);
    emit_line(e, "/* bias: dout summed over lanes */");
    lenet_gemm_dot bs = {.m = U, .groups = {1, 1}, .width = T, .a_row = T};
    emit_dot_desc(e, "bias_sum", &bs);
    emit_line(e, "%s(&bias_sum, dout, gb);", emit_kernel(e, "sum_rows", fn));
    /* in^T is put where din goes: that space is free until din is written */
    char inT[48];
    snprintf(inT, sizeof inT, l->need_dinput ? "din" : "dacts + %ld", l->in_off * T);
    emit_line(e, "/* weights: in^T (in din's space, free until din is written) */");
    emit_line(e, "%s(%d, %d, in, %s);", emit_kernel(e, "transpose", fn), N, T, inT);
    lenet_gemm w = {.m = U, .k = {1, 1, T}, .groups = {1, 1}, .width = N,
                    .flags = LENET_ACCUMULATE, .a_row = T, .a_k = {0, 0, 1}, .b_k = {0, 0, N},
                    .c_row = N};
    emit_gemm_desc(e, "wgrad", &w);
    emit_kernel(e, "gemm", fn);
    emit_line(e, "%s(&wgrad, dout, %s, gw, 0);", fn, inT);
    if (!l->need_dinput)
        return;
    emit_line(e, "/* input: din[i] = sum over j of w[j][i] x dout[j] */");
    lenet_gemm d = {.m = N, .k = {1, 1, U}, .groups = {1, 1}, .width = T, .a_row = 1,
                    .a_k = {0, 0, N}, .b_k = {0, 0, T}, .c_row = T};
    emit_gemm_desc(e, "dgrad", &d);
    emit_line(e, "%s(&dgrad, w, dout, din, 0);", fn);
}

static void dense_forward_loops(Emitter *e, const Layer *l) {
    const char *R = e->opt.real;
    int T = e->opt.tile, N = l->in.c, U = DENSE(l)->units;
    char p[128];
    emit_open(e, "for (int j = 0; j < %d; j++)", U);
    emit_line(e, "%s *o = %s;", R, lanes_at(p, "out", "j", T));
    emit_lanes(e, "o[$] = bias[j];");
    emit_open(e, "for (int i = 0; i < %d; i++)", N);
    emit_line(e, "const %s wk = w[j * %d + i];", R, N);
    emit_line(e, "const %s *x = %s;", R, lanes_at(p, "in", "i", T));
    emit_lanes(e, "o[$] += wk * x[$];");
    emit_close(e);
    emit_close(e);
    emit_fused_activation(e, l);
}

static void dense_forward_unrolled(Emitter *e, const Layer *l) {
    int N = l->in.c, U = DENSE(l)->units;
    char a[32], c[32];
    emit_lane_loop(e);
    for (int j = 0; j < U; j++) {
        sum_begin(e, "out[%s] = bias[%d]", lane(e, j, a), j);
        for (int i = 0; i < N; i++)
            sum_term(e, " + w[%ld] * in[%s]", (long)j * N + i, lane(e, i, c));
        sum_end(e);
    }
    emit_close(e);
    emit_fused_activation(e, l);
}

static void dense_backward_loops(Emitter *e, const Layer *l) {
    const char *R = e->opt.real;
    int T = e->opt.tile, N = l->in.c, U = DENSE(l)->units;
    char p[128];
    emit_fused_activation_grad(e, l);
    emit_line(e, "/* bias and weights: sums over lanes, in lane order */");
    emit_open(e, "for (int j = 0; j < %d; j++)", U);
    emit_line(e, "const %s *d = %s;", R, lanes_at(p, "dout", "j", T));
    emit_lane_sum(e, "gb[j]", "d[$]");
    emit_open(e, "for (int i = 0; i < %d; i++)", N);
    emit_line(e, "const %s *x = %s;", R, lanes_at(p, "in", "i", T));
    char lhs[64];
    snprintf(lhs, sizeof lhs, "gw[j * %d + i]", N);
    emit_lane_sum(e, lhs, "d[$] * x[$]");
    emit_close(e);
    emit_close(e);
    if (!l->need_dinput)
        return;
    emit_line(e, "/* input: din[i] = sum over j of w[j][i] * dout[j] */");
    emit_zero(e, "din", N);
    emit_open(e, "for (int j = 0; j < %d; j++)", U);
    emit_line(e, "const %s *d = %s;", R, lanes_at(p, "dout", "j", T));
    emit_open(e, "for (int i = 0; i < %d; i++)", N);
    emit_line(e, "const %s wk = w[j * %d + i];", R, N);
    emit_line(e, "%s *x = %s;", R, lanes_at(p, "din", "i", T));
    emit_lanes(e, "x[$] += wk * d[$];");
    emit_close(e);
    emit_close(e);
}

static void dense_backward_unrolled(Emitter *e, const Layer *l) {
    int N = l->in.c, U = DENSE(l)->units;
    char a[32], c[32], zero[32];
    emit_real(e, 0.0, zero);
    emit_fused_activation_grad(e, l);
    /* one lane loop: each gradient still takes its lanes in order */
    emit_lane_loop(e);
    emit_line(e, "/* bias and weights */");
    for (int j = 0; j < U; j++) {
        lane(e, j, a);
        emit_line(e, "gb[%d] += dout[%s];", j, a);
        for (int i = 0; i < N; i++)
            emit_line(e, "gw[%ld] += dout[%s] * in[%s];", (long)j * N + i, a, lane(e, i, c));
    }
    if (l->need_dinput) {
        emit_line(e, "/* input */");
        for (int i = 0; i < N; i++) {
            sum_begin(e, "din[%s] = %s", lane(e, i, a), zero);
            for (int j = 0; j < U; j++)
                sum_term(e, " + w[%ld] * dout[%s]", (long)j * N + i, lane(e, j, c));
            sum_end(e);
        }
    }
    emit_close(e);
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
    .fuses_activation = true,
    .forward = {[STYLE_LOOPS] = dense_forward_loops, [STYLE_UNROLL] = dense_forward_unrolled,
                [STYLE_KERNELS] = dense_forward_kernels},
    .backward = {[STYLE_LOOPS] = dense_backward_loops, [STYLE_UNROLL] = dense_backward_unrolled,
                 [STYLE_KERNELS] = dense_backward_kernels},
};
