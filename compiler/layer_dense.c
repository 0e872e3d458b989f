/* layer_dense.c: fully connected, optionally followed by relu.
 *
 *   - dense: {units: 120, activation: relu}
 *
 * out[j] = act(bias[j] + sum over i of w[j][i] * in[i]), w in PyTorch's
 * Linear layout [units][inputs]. The relu is fused: the backward pass masks
 * dout where the output is not positive, in place.
 */
#include <stdio.h>

#include "lenetc.h"

static int dense_parse(Layer *l, const YNode *p, Diag *d) {
    static const char *const keys[] = {"name", "units", "activation", NULL};
    static const char *const acts[] = {"none", "relu", NULL};
    if (spec_check_keys(p, "dense layer", keys, d))
        return -1;
    if (!p)
        return error_at(d, l->line, l->col, "dense needs units");
    int act = 0;
    if (spec_int(p, "units", 1, 1 << 16, true, &l->units, d) ||
        spec_choice(p, "activation", acts, &act, d))
        return -1;
    l->relu = act == 1;
    return 0;
}

static int dense_infer(Layer *l, Diag *d) {
    if (!l->in.flat)
        return error_at(d, l->line, l->col,
                        "%s: dense needs a vector, but gets %dx%dx%d: add a flatten layer before it",
                        l->name, l->in.h, l->in.w, l->in.c);
    l->out = (Shape){l->units, 1, 1, true};
    l->w_size = (long)l->units * l->in.c;
    l->b_size = l->units;
    return 0;
}

static void dense_describe(const Layer *l, StrBuf *sb) {
    sb_printf(sb, "dense %d -> %d%s", l->in.c, l->units, l->relu ? ", relu" : "");
}

static void relu_in_place(Emitter *e, const Layer *l) {
    emit_line(e, "for (int i = 0; i < %ld; i++)", (long)l->units * e->opt.tile);
    emit_line(e, "    out[i] = out[i] > 0 ? out[i] : 0;");
}

/* Vector shape: blocks of up to 8 units share each input load; every output
 * adds bias, then the inputs in order, as the loop shape does. */
static void dense_forward_vector(Emitter *e, const Layer *l) {
    int T = e->opt.tile, N = l->in.c, parts[2][3];
    for (int k = 0, n = emit_blocks(l->units, 8, parts); k < n; k++) {
        int cb = parts[k][2];
        emit_open(e, "for (int j = %d; j < %d; j += %d)", parts[k][0], parts[k][1], cb);
        emit_line(e, LANES " acc[%d];", cb);
        emit_line(e, "for (int c = 0; c < %d; c++)", cb);
        emit_line(e, "    acc[c] = (" LANES "){0} + bias[j + c];");
        emit_open(e, "for (int i = 0; i < %d; i++)", N);
        emit_line(e, "const " LANES " x = *(const " LANES " *)(in + i * %d);", T);
        emit_line(e, "for (int c = 0; c < %d; c++)", cb);
        emit_line(e, "    acc[c] += w[(j + c) * %d + i] * x;", N);
        emit_close(e);
        emit_line(e, "for (int c = 0; c < %d; c++)", cb);
        emit_line(e, "    *(" LANES " *)(out + (j + c) * %d) = acc[c];", T);
        emit_close(e);
    }
}

/* Inputs transposed per chunk, so that a run of T weights of one unit takes
 * each lane b as one vector step: gw[j][i] += dout[j][b] * in[i][b] for
 * b = 0, 1, ..., the loop shape's order. */
#define DENSE_CHUNK 64

static void dense_backward_vector(Emitter *e, const Layer *l) {
    const char *R = e->opt.real;
    int T = e->opt.tile, N = l->in.c, U = l->units, parts[2][3];
    int NV = N / T * T; /* inputs in whole vectors; the rest take the loop shape */
    emit_line(e, "/* bias: sums over lanes, in lane order */");
    emit_line(e, "for (int j = 0; j < %d; j++)", U);
    emit_line(e, "    for (int b = 0; b < %d; b++)", T);
    emit_line(e, "        gb[j] += dout[j * %d + b];", T);
    emit_line(e, "/* weights: per chunk of inputs, transposed to in[b][i]; each lane b");
    emit_line(e, " * is one step for %d weights, in lane order */", T);
    for (int k = 0, n = NV ? emit_blocks(NV, DENSE_CHUNK, parts) : 0; k < n; k++) {
        int cw = parts[k][2];
        emit_open(e, "for (int i0 = %d; i0 < %d; i0 += %d)", parts[k][0], parts[k][1], cw);
        emit_line(e, "%s xt[%d][%d];", R, T, cw);
        emit_line(e, "for (int i = 0; i < %d; i++)", cw);
        emit_line(e, "    for (int b = 0; b < %d; b++)", T);
        emit_line(e, "        xt[b][i] = in[(i0 + i) * %d + b];", T);
        emit_open(e, "for (int j = 0; j < %d; j++)", U);
        emit_line(e, "const %s *d = dout + j * %d;", R, T);
        emit_open(e, "for (int i = 0; i < %d; i += %d)", cw, T);
        emit_line(e, LANES " *g = (" LANES " *)(gw + j * %d + i0 + i);", N);
        emit_line(e, LANES " acc = *g;");
        emit_line(e, "for (int b = 0; b < %d; b++)", T);
        emit_line(e, "    acc += d[b] * *(const " LANES " *)&xt[b][i];");
        emit_line(e, "*g = acc;");
        emit_close(e);
        emit_close(e);
        emit_close(e);
    }
    if (NV < N) {
        emit_line(e, "for (int j = 0; j < %d; j++)", U);
        emit_line(e, "    for (int i = %d; i < %d; i++)", NV, N);
        emit_line(e, "        for (int b = 0; b < %d; b++)", T);
        emit_line(e, "            gw[j * %d + i] += dout[j * %d + b] * in[i * %d + b];", N, T, T);
    }
    if (!l->need_dinput)
        return;
    emit_line(e, "/* input: din[i] = sum over j of w[j][i] * dout[j], j in order; a block");
    emit_line(e, " * of up to 8 inputs shares each dout load */");
    for (int k = 0, n = emit_blocks(N, 8, parts); k < n; k++) {
        int cb = parts[k][2];
        emit_open(e, "for (int i = %d; i < %d; i += %d)", parts[k][0], parts[k][1], cb);
        emit_line(e, LANES " acc[%d] = {0};", cb);
        emit_open(e, "for (int j = 0; j < %d; j++)", U);
        emit_line(e, "const " LANES " d = *(const " LANES " *)(dout + j * %d);", T);
        emit_line(e, "for (int c = 0; c < %d; c++)", cb);
        emit_line(e, "    acc[c] += w[j * %d + i + c] * d;", N);
        emit_close(e);
        emit_line(e, "for (int c = 0; c < %d; c++)", cb);
        emit_line(e, "    *(" LANES " *)(din + (i + c) * %d) = acc[c];", T);
        emit_close(e);
    }
}

static void dense_forward(Emitter *e, const Layer *l) {
    const char *R = e->opt.real;
    int T = e->opt.tile, N = l->in.c, U = l->units;
    char a[32], c[32];
    emit_forward_begin(e, l);
    if (e->opt.shape == SHAPE_VECTOR) {
        dense_forward_vector(e, l);
    } else if (e->opt.shape == SHAPE_LOOPS) {
        emit_open(e, "for (int j = 0; j < %d; j++)", U);
        emit_line(e, "%s *o = out + j * %d;", R, T);
        emit_lanes(e, "o[$] = bias[j];");
        emit_open(e, "for (int i = 0; i < %d; i++)", N);
        emit_line(e, "const %s wk = w[j * %d + i];", R, N);
        emit_line(e, "const %s *x = in + i * %d;", R, T);
        emit_lanes(e, "o[$] += wk * x[$];");
        emit_close(e);
        emit_close(e);
    } else {
        emit_lane_loop(e);
        for (int j = 0; j < U; j++) {
            sum_begin(e, "out[%s] = bias[%d]", lane(e, j, a), j);
            for (int i = 0; i < N; i++)
                sum_term(e, " + w[%ld] * in[%s]", (long)j * N + i, lane(e, i, c));
            sum_end(e);
        }
        emit_close(e);
    }
    if (l->relu)
        relu_in_place(e, l);
    emit_function_end(e);
}

static void dense_backward(Emitter *e, const Layer *l) {
    const char *R = e->opt.real;
    int T = e->opt.tile, N = l->in.c, U = l->units;
    char a[32], c[32], zero[32];
    emit_real(e, 0.0, zero);
    emit_backward_begin(e, l);
    if (l->relu) {
        emit_line(e, "/* relu: no gradient where the output was clamped */");
        emit_line(e, "for (int i = 0; i < %ld; i++)", (long)U * T);
        emit_line(e, "    if (!(out[i] > 0))");
        emit_line(e, "        dout[i] = 0;");
    }
    if (e->opt.shape == SHAPE_VECTOR) {
        dense_backward_vector(e, l);
    } else if (e->opt.shape == SHAPE_LOOPS) {
        emit_line(e, "/* bias and weights: sums over lanes, in lane order */");
        emit_open(e, "for (int j = 0; j < %d; j++)", U);
        emit_line(e, "const %s *d = dout + j * %d;", R, T);
        emit_lane_sum(e, "gb[j]", "d[$]");
        emit_open(e, "for (int i = 0; i < %d; i++)", N);
        emit_line(e, "const %s *x = in + i * %d;", R, T);
        char lhs[64];
        snprintf(lhs, sizeof lhs, "gw[j * %d + i]", N);
        emit_lane_sum(e, lhs, "d[$] * x[$]");
        emit_close(e);
        emit_close(e);
        if (l->need_dinput) {
            emit_line(e, "/* input: din[i] = sum over j of w[j][i] * dout[j] */");
            emit_zero(e, "din", N);
            emit_open(e, "for (int j = 0; j < %d; j++)", U);
            emit_line(e, "const %s *d = dout + j * %d;", R, T);
            emit_open(e, "for (int i = 0; i < %d; i++)", N);
            emit_line(e, "const %s wk = w[j * %d + i];", R, N);
            emit_line(e, "%s *x = din + i * %d;", R, T);
            emit_lanes(e, "x[$] += wk * d[$];");
            emit_close(e);
            emit_close(e);
        }
    } else {
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
    emit_function_end(e);
}

const LayerKind dense_kind = {
    .kind = "dense",
    .prefix = "dense",
    .keras = "Dense",
    .parse = dense_parse,
    .infer = dense_infer,
    .forward = dense_forward,
    .backward = dense_backward,
    .describe = dense_describe,
};
