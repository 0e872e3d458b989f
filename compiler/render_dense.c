/* render_dense.c: a dense layer's operations (OP_DENSE, OP_DENSE_GRAD) in
 * each code style: out[j] = bias[j] + sum over i of w[j][i] x in[i] (w in
 * PyTorch's Linear layout [units][inputs]); its backward the bias and
 * weight gradients (sums over the tile's lanes, in lane order) and, if
 * need_dinput, din = w^T dout. They read the layer's w, bias, in, out,
 * dout and write gb, gw, din. The kernels style is gemms (relu in the
 * forward gemm when the program fused it: op->relu); the loop style loops
 * with the lanes written out; the unrolled style every multiply-add.
 */
#include <stdio.h>

#include "lenetc.h"
#include "render.h"

/* Kernels style: out[j] = bias[j] + w[j][i] x in[i], relu fused into the gemm. */
static void dense_forward_kernels(Emitter *e, const Op *op) {
    const int T = op->tile, N = op->inputs;
    char fn[48];
    lenet_gemm d = {.m = op->units, .k = {1, 1, N}, .groups = {1, 1}, .width = T,
                    .flags = op->relu ? LENET_RELU : 0, .a_row = N, .a_k = {0, 0, 1},
                    .b_k = {0, 0, T}, .c_row = T};
    emit_gemm_desc(e, "fwd", &d);
    emit_line(e, "%s(&fwd, w, in, out, bias);", emit_kernel(e, "gemm", fn));
}

/* Kernels style of the backward pass. The weight gradient sums over the
 * tile's lanes: with in transposed to [T][N] it is a gemm whose rows are
 * whole runs of weights, gw[j][i] += sum over b of dout[j][b] x in^T[b][i]. */
static void dense_backward_kernels(Emitter *e, const Op *op) {
    const int T = op->tile, N = op->inputs, U = op->units;
    char fn[48];
    emit_line(e, "/* bias: dout summed over lanes */");
    lenet_gemm_dot bs = {.m = U, .groups = {1, 1}, .width = T, .a_row = T};
    emit_dot_desc(e, "bias_sum", &bs);
    emit_line(e, "%s(&bias_sum, dout, gb);", emit_kernel(e, "sum_rows", fn));
    /* in^T is put where din goes: that space is free until din is written */
    char inT[48];
    snprintf(inT, sizeof inT, op->need_dinput ? "din" : "dacts + %ld", op->in_off * T);
    emit_line(e, "/* weights: in^T (in din's space, free until din is written) */");
    emit_line(e, "%s(%d, %d, in, %s);", emit_kernel(e, "transpose", fn), N, T, inT);
    lenet_gemm w = {.m = U, .k = {1, 1, T}, .groups = {1, 1}, .width = N,
                    .flags = LENET_ACCUMULATE, .a_row = T, .a_k = {0, 0, 1}, .b_k = {0, 0, N},
                    .c_row = N};
    emit_gemm_desc(e, "wgrad", &w);
    emit_kernel(e, "gemm", fn);
    emit_line(e, "%s(&wgrad, dout, %s, gw, 0);", fn, inT);
    if (!op->need_dinput)
        return;
    emit_line(e, "/* input: din[i] = sum over j of w[j][i] x dout[j] */");
    lenet_gemm d = {.m = N, .k = {1, 1, U}, .groups = {1, 1}, .width = T, .a_row = 1,
                    .a_k = {0, 0, N}, .b_k = {0, 0, T}, .c_row = T};
    emit_gemm_desc(e, "dgrad", &d);
    emit_line(e, "%s(&dgrad, w, dout, din, 0);", fn);
}

static void dense_forward_loops(Emitter *e, const Op *op) {
    const char *R = e->opt.real;
    int T = op->tile, N = op->inputs, U = op->units;
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
}

static void dense_forward_unrolled(Emitter *e, const Op *op) {
    int N = op->inputs, U = op->units;
    char a[32], c[32];
    emit_lane_loop(e);
    for (int j = 0; j < U; j++) {
        sum_begin(e, "out[%s] = bias[%d]", lane(e, j, a), j);
        for (int i = 0; i < N; i++)
            sum_term(e, " + w[%ld] * in[%s]", (long)j * N + i, lane(e, i, c));
        sum_end(e);
    }
    emit_close(e);
}

static void dense_backward_loops(Emitter *e, const Op *op) {
    const char *R = e->opt.real;
    int T = op->tile, N = op->inputs, U = op->units;
    char p[128];
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
    if (!op->need_dinput)
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

static void dense_backward_unrolled(Emitter *e, const Op *op) {
    int N = op->inputs, U = op->units;
    char a[32], c[32], zero[32];
    emit_real(e, 0.0, zero);
    /* one lane loop: each gradient still takes its lanes in order */
    emit_lane_loop(e);
    emit_line(e, "/* bias and weights */");
    for (int j = 0; j < U; j++) {
        lane(e, j, a);
        emit_line(e, "gb[%d] += dout[%s];", j, a);
        for (int i = 0; i < N; i++)
            emit_line(e, "gw[%ld] += dout[%s] * in[%s];", (long)j * N + i, a, lane(e, i, c));
    }
    if (op->need_dinput) {
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

const RenderFn render_dense_loops[N_OPS] = {
    [OP_DENSE] = dense_forward_loops,
    [OP_DENSE_GRAD] = dense_backward_loops,
};

const RenderFn render_dense_unrolled[N_OPS] = {
    [OP_DENSE] = dense_forward_unrolled,
    [OP_DENSE_GRAD] = dense_backward_unrolled,
};

const RenderFn render_dense_kernels[N_OPS] = {
    [OP_DENSE] = dense_forward_kernels,
    [OP_DENSE_GRAD] = dense_backward_kernels,
};
