/* render_conv.c: a convolution's operations (OP_CONV, OP_CONV_GRAD) in
 * each code style, from its geometry (lenetc.h: ConvGeometry):
 *   out[co][oy][ox] = bias[co] + sum over ci, ky, kx of
 *                     w[co][ci][ky][kx] * in[ci][oy*S + ky - pt][ox*S + kx - pl]
 * and its backward: the bias and weight gradients and, if need_dinput, din.
 * Taps that fall into the padding are skipped (they would add w * 0). The
 * loop and unrolled styles add the terms in the same order, so they agree
 * bit for bit; the kernels style is gemms over classes of output positions
 * that see the same taps (geometry.c), relu in the forward gemm when the
 * program fused it (op->relu), and a depthwise convolution's the runtime's
 * depthwise kernels. They read the layer's w, bias, in, out, dout and
 * write gb, gw, din.
 */
#include <stdio.h>
#include <string.h>

#include "lenetc.h"
#include "render.h"

typedef ConvGeometry Geo;

/* Input row (or column) of output o and tap k; -1 when it is padding. */
static int in_pos(int o, int k, int s, int pad, int size) {
    int i = o * s + k - pad;
    return i < 0 || i >= size ? -1 : i;
}

/* "oy + ky", "oy * 2 + ky - 1", ...; o NULL: "ky - 1" (o's only value is 0) */
static void pos_expr(char *buf, size_t n, const char *o, const char *k, int s, int pad) {
    char sc[16] = "", pc[16] = "", os[32] = "";
    if (s != 1)
        snprintf(sc, sizeof sc, " * %d", s);
    if (pad)
        snprintf(pc, sizeof pc, " - %d", pad);
    if (o)
        snprintf(os, sizeof os, "%s%s + ", o, sc);
    snprintf(buf, n, "%s%s%s", os, k, pc);
}

/* Opens the ky/kx (or oy/ox) loop pair and names the input position iy/ix,
 * which is oy*S + ky - pad whichever pair is outside (an outside oy or ox
 * of one value has no loop: it is left out). */
static void open_tap_loops(Emitter *e, const Geo *g, const char *a, const char *b, int na,
                           int nb) {
    char ex[64];
    const bool taps_inside = strcmp(a, "ky") == 0;
    emit_open(e, "for (int %s = 0; %s < %d; %s++)", a, a, na, a);
    pos_expr(ex, sizeof ex, taps_inside && g->OH == 1 ? NULL : "oy", "ky", g->S, g->PT);
    emit_line(e, "const int iy = %s;", ex);
    if (g->padded)
        emit_line(e, "if (iy < 0 || iy >= %d) continue;", g->H);
    emit_open(e, "for (int %s = 0; %s < %d; %s++)", b, b, nb, b);
    pos_expr(ex, sizeof ex, taps_inside && g->OW == 1 ? NULL : "ox", "kx", g->S, g->PL);
    emit_line(e, "const int ix = %s;", ex);
    if (g->padded)
        emit_line(e, "if (ix < 0 || ix >= %d) continue;", g->W);
}

/* w[co][ci][ky][kx], with the kernel's taps named ky and kx */
static const char *weight_index(const Geo *g, char buf[96]) {
    return index_expr(buf, 4, (const char *[]){"co", "ci", "ky", "kx"},
                      (const int[]){g->CO, g->CI, g->K, g->K});
}

/* "c + v" as short as it gets: v NULL means its only value, v0 */
static const char *plus(char buf[48], long c, const char *v, long v0) {
    if (!v)
        snprintf(buf, 48, "%ld", c + v0);
    else if (c == 0)
        snprintf(buf, 48, "%s", v);
    else
        snprintf(buf, 48, "%s %c %ld", v, c < 0 ? '-' : '+', c < 0 ? -c : c);
    return buf;
}

/* Output positions [oy0, oy1) x [ox0, ox1) as the kernels' groups: a row of
 * adjacent positions per group when the stride is 1, else one position. */
static void position_groups(const Geo *g, int T, int rows, int cols, int *groups, int *width,
                            long c_g[2], long b_g[2], long in_w) {
    if (g->S == 1) {
        groups[0] = rows, groups[1] = 1, *width = cols * T;
        c_g[0] = (long)g->OW * T, c_g[1] = 0;
        b_g[0] = in_w * T, b_g[1] = 0;
    } else {
        groups[0] = rows, groups[1] = cols, *width = T;
        c_g[0] = (long)g->OW * T, c_g[1] = T;
        b_g[0] = (long)g->S * in_w * T, b_g[1] = (long)g->S * T;
    }
}

#define MAX_RUNS (2 * 64 + 2) /* an axis has at most 2K + 1 runs (kernel <= 64) */

/* A layer split into classes gets a block per class, its comment saying
 * which rows and columns (fmt: "outputs %d..%d x %d..%d: taps ky %d..%d, kx
 * %d..%d" and the like) see what; one class needs no block. */
static void open_class(Emitter *e, bool several, const char *fmt, const AxisRun *ry,
                       const AxisRun *rx) {
    if (!several)
        return;
    StrBuf what = {0};
    sb_printf(&what, fmt, ry->first, ry->end - 1, rx->first, rx->end - 1, ry->t0, ry->t1 - 1,
              rx->t0, rx->t1 - 1);
    emit_line(e, "{ /* %s */", what.data);
    sb_free(&what);
    e->indent++;
}

static void close_class(Emitter *e, bool several) {
    if (several)
        emit_close(e);
}

/* Kernels style: one gemm per class of output positions that see the same
 * taps (one class without padding): out[co][pos] = bias[co] + w[co][taps] x
 * in[taps][pos]. */
static void conv_forward_classes(Emitter *e, const Geo *g, int flags) {
    const int T = e->opt.tile;
    AxisRun rows[MAX_RUNS], cols[MAX_RUNS];
    int nr = axis_runs_by_output(g->OH, g->K, g->S, g->PT, g->H, rows);
    int nc = axis_runs_by_output(g->OW, g->K, g->S, g->PL, g->W, cols);
    char fn[48], a[64], b[64], c[64];
    emit_kernel(e, "gemm", fn);
    emit_line(e, "/* out[co][pos] = bias[co] + sum over taps (ci, ky, kx) of w x in */");
    for (int r = 0; r < nr; r++)
        for (int q = 0; q < nc; q++) {
            const AxisRun *ry = &rows[r], *rx = &cols[q];
            const int rn = ry->end - ry->first, cn = rx->end - rx->first;
            lenet_gemm d = {.m = g->CO, .k = {g->CI, ry->t1 - ry->t0, rx->t1 - rx->t0},
                            .a_row = (long)g->CI * g->K * g->K, .a_k = {g->K * g->K, g->K, 1},
                            .b_k = {(long)g->H * g->W * T, (long)g->W * T, T},
                            .c_row = (long)g->OH * g->OW * T, .flags = flags};
            position_groups(g, T, rn, cn, d.groups, &d.width, d.c_g, d.b_g, g->W);
            const long aoff = (long)ry->t0 * g->K + rx->t0;
            const long boff = (((long)ry->first * g->S + ry->t0 - g->PT) * g->W +
                               (long)rx->first * g->S + rx->t0 - g->PL) * T;
            const long coff = ((long)ry->first * g->OW + rx->first) * T;
            open_class(e, nr * nc > 1, "outputs %d..%d x %d..%d: taps ky %d..%d, kx %d..%d", ry,
                       rx);
            emit_gemm_desc(e, "fwd", &d);
            /* a class with no taps (all padding) has no input position */
            emit_line(e, "%s(&fwd, %s, %s, %s, %s);", fn, offset_expr(a, "w", aoff),
                      d.k[1] && d.k[2] ? offset_expr(b, "in", boff) : "in",
                      offset_expr(c, "out", coff), g->no_bias ? "0" : "bias");
            close_class(e, nr * nc > 1);
        }
}

static void conv_forward_kernels(Emitter *e, const Op *op) {
    conv_forward_classes(e, &op->conv, op->relu ? LENET_RELU : 0);
}

/* The loop code's input and output positions: in[ci][iy][ix], out[co][oy][ox] */
static const char *in_index(const Geo *g, char buf[96]) {
    return index_expr(buf, 3, (const char *[]){"ci", "iy", "ix"}, (const int[]){g->CI, g->H, g->W});
}

static const char *out_index(const Geo *g, char buf[96]) {
    return index_expr(buf, 3, (const char *[]){"co", "oy", "ox"},
                      (const int[]){g->CO, g->OH, g->OW});
}

static void conv_forward_loops(Emitter *e, const Op *op) {
    Geo g = op->conv;
    const char *R = e->opt.real;
    const int T = e->opt.tile;
    char i1[96], i2[96], p[128];
    int open = emit_loop(e, "co", g.CO);
    open += emit_loop(e, "oy", g.OH);
    open += emit_loop(e, "ox", g.OW);
    emit_line(e, "%s *o = %s;", R, lanes_at(p, "out", out_index(&g, i1), T));
    if (g.no_bias)
        emit_lanes(e, "o[$] = 0;");
    else
        emit_lanes(e, "o[$] = bias[%s];", g.CO == 1 ? "0" : "co");
    const int ci_loop = emit_loop(e, "ci", g.CI);
    open_tap_loops(e, &g, "ky", "kx", g.K, g.K);
    emit_line(e, "const %s wk = w[%s];", R, weight_index(&g, i2));
    emit_line(e, "const %s *x = %s;", R, lanes_at(p, "in", in_index(&g, i1), T));
    emit_lanes(e, "o[$] += wk * x[$];");
    emit_close_loops(e, 2 + ci_loop + open);
}

static void conv_forward_unrolled(Emitter *e, const Op *op) {
    Geo g = op->conv;
    char a[32], c[32];
    emit_lane_loop(e);
    for (int co = 0; co < g.CO; co++)
        for (int oy = 0; oy < g.OH; oy++)
            for (int ox = 0; ox < g.OW; ox++) {
                char b0[32];
                if (g.no_bias)
                    emit_real(e, 0.0, b0);
                else
                    snprintf(b0, sizeof b0, "bias[%d]", co);
                sum_begin(e, "out[%s] = %s", lane(e, ((long)co * g.OH + oy) * g.OW + ox, a), b0);
                for (int ci = 0; ci < g.CI; ci++)
                    for (int ky = 0; ky < g.K; ky++) {
                        int iy = in_pos(oy, ky, g.S, g.PT, g.H);
                        for (int kx = 0; kx < g.K && iy >= 0; kx++) {
                            int ix = in_pos(ox, kx, g.S, g.PL, g.W);
                            if (ix < 0)
                                continue;
                            long wi = (((long)co * g.CI + ci) * g.K + ky) * g.K + kx;
                            sum_term(e, " + w[%ld] * in[%s]", wi,
                                     lane(e, ((long)ci * g.H + iy) * g.W + ix, c));
                        }
                    }
                sum_end(e);
            }
    emit_close(e);
}

static void conv_backward_loops(Emitter *e, const Op *op) {
    const Geo *g = &op->conv;
    const char *R = e->opt.real;
    const int T = e->opt.tile;
    char i1[96], p[128];
    int open;
    if (g->no_bias)
        goto weights;
    emit_line(e, "/* bias: per-lane sums over positions, then over lanes */");
    open = emit_loop(e, "co", g->CO);
    emit_line(e, "%s acc[%d];", R, T);
    emit_lanes(e, "acc[$] = 0;");
    emit_open(e, "for (int p = 0; p < %d; p++)", g->OH * g->OW);
    emit_line(e, "const %s *d = %s;", R,
              lanes_at(p, "dout", index_expr(i1, 2, (const char *[]){"co", "p"},
                                             (const int[]){g->CO, g->OH * g->OW}),
                       T));
    emit_lanes(e, "acc[$] += d[$];");
    emit_close(e);
    emit_lane_sum(e, g->CO == 1 ? "gb[0]" : "gb[co]", "acc[$]");
    emit_close_loops(e, open);
weights:
    emit_line(e, "/* weights: the same, of dout * in */");
    open = emit_loop(e, "co", g->CO);
    open += emit_loop(e, "ci", g->CI);
    emit_open(e, "for (int ky = 0; ky < %d; ky++)", g->K);
    emit_open(e, "for (int kx = 0; kx < %d; kx++)", g->K);
    emit_line(e, "%s acc[%d];", R, T);
    emit_lanes(e, "acc[$] = 0;");
    open_tap_loops(e, g, "oy", "ox", g->OH, g->OW);
    emit_line(e, "const %s *d = %s;", R, lanes_at(p, "dout", out_index(g, i1), T));
    emit_line(e, "const %s *x = %s;", R, lanes_at(p, "in", in_index(g, i1), T));
    emit_lanes(e, "acc[$] += d[$] * x[$];");
    emit_close_loops(e, 2);
    char lhs[128];
    snprintf(lhs, sizeof lhs, "gw[%s]", weight_index(g, i1));
    emit_lane_sum(e, lhs, "acc[$]");
    emit_close_loops(e, 2 + open);

    if (!op->need_dinput)
        return;
    emit_line(e, "/* input: scatter w * dout back over the taps */");
    emit_zero(e, "din", (long)g->CI * g->H * g->W);
    open = emit_loop(e, "co", g->CO);
    open += emit_loop(e, "oy", g->OH);
    open += emit_loop(e, "ox", g->OW);
    emit_line(e, "const %s *d = %s;", R, lanes_at(p, "dout", out_index(g, i1), T));
    const int ci_loop = emit_loop(e, "ci", g->CI);
    open_tap_loops(e, g, "ky", "kx", g->K, g->K);
    emit_line(e, "const %s wk = w[%s];", R, weight_index(g, i1));
    emit_line(e, "%s *x = %s;", R, lanes_at(p, "din", in_index(g, i1), T));
    emit_lanes(e, "x[$] += wk * d[$];");
    emit_close_loops(e, 2 + ci_loop + open);
}

/* One lane loop holds every statement: each gradient still takes its lanes
 * in order b = 0, 1, ..., as the loop style does, so the sums agree. */
static void conv_backward_unrolled(Emitter *e, const Op *op) {
    const Geo *g = &op->conv;
    char a[32], c[32], zero[32];
    emit_real(e, 0.0, zero);
    emit_lane_loop(e);
    if (!g->no_bias)
        emit_line(e, "/* bias: per-lane sums over positions, then over lanes */");
    for (int co = 0; co < g->CO && !g->no_bias; co++) {
        sum_begin(e, "gb[%d] += %s", co, zero);
        for (long p = 0; p < (long)g->OH * g->OW; p++)
            sum_term(e, " + dout[%s]", lane(e, co * (long)g->OH * g->OW + p, a));
        sum_end(e);
    }
    emit_line(e, "/* weights: the same, of dout * in */");
    for (int co = 0; co < g->CO; co++)
        for (int ci = 0; ci < g->CI; ci++)
            for (int ky = 0; ky < g->K; ky++)
                for (int kx = 0; kx < g->K; kx++) {
                    sum_begin(e, "gw[%ld] += %s", (((long)co * g->CI + ci) * g->K + ky) * g->K + kx,
                              zero);
                    for (int oy = 0; oy < g->OH; oy++) {
                        int iy = in_pos(oy, ky, g->S, g->PT, g->H);
                        for (int ox = 0; ox < g->OW && iy >= 0; ox++) {
                            int ix = in_pos(ox, kx, g->S, g->PL, g->W);
                            if (ix < 0)
                                continue;
                            sum_term(e, " + dout[%s] * in[%s]",
                                     lane(e, ((long)co * g->OH + oy) * g->OW + ox, a),
                                     lane(e, ((long)ci * g->H + iy) * g->W + ix, c));
                        }
                    }
                    sum_end(e);
                }
    if (op->need_dinput) {
        /* Each input gathers its terms in the order the loop style scatters
         * them: by (co, oy, ox), one tap (ky, kx) per output position. */
        emit_line(e, "/* input: gather w * dout over the taps */");
        for (int ci = 0; ci < g->CI; ci++)
            for (int iy = 0; iy < g->H; iy++)
                for (int ix = 0; ix < g->W; ix++) {
                    sum_begin(e, "din[%s] = %s", lane(e, ((long)ci * g->H + iy) * g->W + ix, a),
                              zero);
                    for (int co = 0; co < g->CO; co++)
                        for (int oy = 0; oy < g->OH; oy++) {
                            int ky = iy - oy * g->S + g->PT;
                            if (ky < 0 || ky >= g->K)
                                continue;
                            for (int ox = 0; ox < g->OW; ox++) {
                                int kx = ix - ox * g->S + g->PL;
                                if (kx < 0 || kx >= g->K)
                                    continue;
                                sum_term(e, " + w[%ld] * dout[%s]",
                                         (((long)co * g->CI + ci) * g->K + ky) * g->K + kx,
                                         lane(e, ((long)co * g->OH + oy) * g->OW + ox, c));
                            }
                        }
                    sum_end(e);
                }
    }
    emit_close(e);
}

/* Input gradient, stride 1, as one gemm per class of input positions that
 * see the same taps: din[ci][pos] = sum over (co, ky, kx) of
 * w[co][ci][ky][kx] x dout[co][pos - tap + pad]. Each value is written once.
 * An input i sees tap t when 0 <= i + pad - t < out: with t' = K - 1 - t
 * that is an output's rule for padding K - 1 - pad. */
static void conv_input_gather(Emitter *e, const Geo *g) {
    const int T = e->opt.tile, K = g->K;
    const long P = (long)g->OH * g->OW * T;
    AxisRun rows[MAX_RUNS], cols[MAX_RUNS];
    int nr = axis_runs_by_output(g->H, K, 1, K - 1 - g->PT, g->OH, rows);
    int nc = axis_runs_by_output(g->W, K, 1, K - 1 - g->PL, g->OW, cols);
    char fn[48], a[64], b[64], c[64];
    emit_kernel(e, "gemm", fn);
    emit_line(e, "/* input: din[ci][pos] = sum over (co, ky, kx) of w x dout[co][pos - tap] */");
    for (int r = 0; r < nr; r++)
        for (int q = 0; q < nc; q++) {
            /* the inputs, and their taps [K - t1', K - t0') unflipped */
            const AxisRun *ry = &rows[r], *rx = &cols[q];
            const AxisRun fy = {ry->first, ry->end, K - ry->t1, K - ry->t0},
                          fx = {rx->first, rx->end, K - rx->t1, K - rx->t0};
            const int ky0 = fy.t0, ky1 = fy.t1, kx0 = fx.t0, kx1 = fx.t1;
            const int rn = ry->end - ry->first, cn = rx->end - rx->first;
            lenet_gemm d = {.m = g->CI, .k = {g->CO, ky1 - ky0, kx1 - kx0},
                            .groups = {rn, 1}, .width = cn * T, .a_row = (long)K * K,
                            .a_k = {(long)g->CI * K * K, K, 1},
                            .b_k = {P, -(long)g->OW * T, -(long)T}, .b_g = {(long)g->OW * T, 0},
                            .c_row = (long)g->H * g->W * T, .c_g = {(long)g->W * T, 0}};
            const long boff = (((long)ry->first - ky0 + g->PT) * g->OW +
                               (long)rx->first - kx0 + g->PL) * T;
            const long coff = ((long)ry->first * g->W + rx->first) * T;
            open_class(e, nr * nc > 1, "inputs %d..%d x %d..%d: taps ky %d..%d, kx %d..%d", &fy,
                       &fx);
            emit_gemm_desc(e, "dgrad", &d);
            /* a class that sees no tap gets zeros */
            emit_line(e, "%s(&dgrad, %s, %s, %s, 0);", fn,
                      offset_expr(a, "w", (long)ky0 * K + kx0),
                      d.k[1] && d.k[2] ? offset_expr(b, "dout", boff) : "dout",
                      offset_expr(c, "din", coff));
            close_class(e, nr * nc > 1);
        }
}

/* Input gradient, any stride: din is zeroed, then each tap adds
 * w[co][ci][tap] x dout[co][pos] at its input positions. */
static void conv_input_scatter(Emitter *e, const Geo *g, const AxisRun *ys, int ny,
                               const AxisRun *xs, int nx) {
    const int T = e->opt.tile;
    const long P = (long)g->OH * g->OW * T;
    char fn[48], b[64];
    emit_line(e, "/* input: din[ci][tap + pos] += sum over co of w[co][ci][tap] x dout[co][pos] */");
    emit_line(e, "%s(%ld, din);", emit_kernel(e, "zero", fn), (long)g->CI * g->H * g->W * T);
    emit_kernel(e, "gemm", fn);
    for (int r = 0; r < ny; r++)
        for (int q = 0; q < nx; q++) {
            const AxisRun *ry = &ys[r], *rx = &xs[q];
            const int rn = ry->t1 - ry->t0, cn = rx->t1 - rx->t0;
            if (!rn || !cn)
                continue;
            lenet_gemm d = {.m = g->CI, .k = {1, 1, g->CO}, .flags = LENET_ACCUMULATE,
                            .a_row = (long)g->K * g->K, .a_k = {0, 0, (long)g->CI * g->K * g->K},
                            .b_k = {0, 0, P}, .c_row = (long)g->H * g->W * T};
            /* groups walk dout (b) by output and din (c) by input position */
            position_groups(g, T, rn, cn, d.groups, &d.width, d.b_g, d.c_g, g->W);
            /* taps [first, end) on each axis: a loop, or the one tap (in a
             * block of its own: each class declares its descriptor) */
            const int one_y = ry->end - ry->first == 1, one_x = rx->end - rx->first == 1;
            int loops = one_y ? 0 : emit_loop_from(e, "ky", ry->first, ry->end);
            loops += one_x ? 0 : emit_loop_from(e, "kx", rx->first, rx->end);
            if (!loops) {
                emit_line(e, "{ /* tap ky = %d, kx = %d */", ry->first, rx->first);
                e->indent++;
                loops = 1;
            }
            emit_gemm_desc(e, "dgrad", &d);
            /* din at row t0*S - PT + ky, column t0*S - PL + kx; w at tap (ky, kx) */
            char cpos[160], wpos[64];
            if (one_y && one_x) {
                const long iy = (long)ry->t0 * g->S - g->PT + ry->first;
                const long ix = (long)rx->t0 * g->S - g->PL + rx->first;
                offset_expr(cpos, "din", (iy * g->W + ix) * T);
                offset_expr(wpos, "w", (long)ry->first * g->K + rx->first);
            } else {
                char iy[48], ix[48], idx[96], wy[32], wx[32];
                plus(iy, (long)ry->t0 * g->S - g->PT, one_y ? NULL : "ky", ry->first);
                plus(ix, (long)rx->t0 * g->S - g->PL, one_x ? NULL : "kx", rx->first);
                lanes_at(cpos, "din",
                         index_expr(idx, 2, (const char *[]){iy, ix}, (const int[]){g->H, g->W}),
                         T);
                if (one_y)
                    snprintf(wy, sizeof wy, "%ld", (long)ry->first * g->K);
                else
                    snprintf(wy, sizeof wy, "ky * %d", g->K);
                if (one_x)
                    snprintf(wx, sizeof wx, "%d", rx->first);
                else
                    snprintf(wx, sizeof wx, "kx");
                snprintf(wpos, sizeof wpos, "w + %.24s + %.24s", wy, wx);
            }
            emit_line(e, "%s(&dgrad, %s, %s, %s, 0);", fn, wpos,
                      offset_expr(b, "dout", ((long)ry->t0 * g->OW + rx->t0) * T), cpos);
            emit_close_loops(e, loops);
        }
}

/* Kernels style of the backward pass: the bias and weight gradients sum over
 * positions and lanes (one call per class of taps that see the same output
 * positions); the input gradient is gathered (stride 1) or scattered. */
static void conv_backward_kernels(Emitter *e, const Op *op) {
    const Geo *g = &op->conv;
    const int T = e->opt.tile;
    const long P = (long)g->OH * g->OW * T; /* one channel of dout */
    char fn[48], a[64], b[64], c[64];
    if (!g->no_bias) {
        emit_line(e, "/* bias: dout summed over positions and lanes */");
        lenet_gemm_dot bs = {.m = g->CO, .groups = {1, 1}, .width = (int)P, .a_row = P};
        emit_dot_desc(e, "bias_sum", &bs);
        emit_line(e, "%s(&bias_sum, dout, gb);", emit_kernel(e, "sum_rows", fn));
    }

    AxisRun ys[MAX_RUNS], xs[MAX_RUNS];
    int ny = axis_runs_by_tap(g->OH, g->K, g->S, g->PT, g->H, ys);
    int nx = axis_runs_by_tap(g->OW, g->K, g->S, g->PL, g->W, xs);
    emit_line(e, "/* weights: gw[co][tap] += sum over positions and lanes of dout x in */");
    emit_kernel(e, "gemm_dot", fn);
    for (int r = 0; r < ny; r++)
        for (int q = 0; q < nx; q++) {
            const AxisRun *ry = &ys[r], *rx = &xs[q]; /* taps, and the outputs they see */
            const int rn = ry->t1 - ry->t0, cn = rx->t1 - rx->t0;
            if (!rn || !cn)
                continue; /* taps that see only padding */
            lenet_gemm_dot d = {.m = g->CO, .k = {g->CI, ry->end - ry->first, rx->end - rx->first},
                                .a_row = P, .b_k = {(long)g->H * g->W * T, (long)g->W * T, T},
                                .c_row = (long)g->CI * g->K * g->K,
                                .c_k = {g->K * g->K, g->K, 1}};
            position_groups(g, T, rn, cn, d.groups, &d.width, d.a_g, d.b_g, g->W);
            const long aoff = ((long)ry->t0 * g->OW + rx->t0) * T;
            const long boff = (((long)ry->t0 * g->S + ry->first - g->PT) * g->W +
                               (long)rx->t0 * g->S + rx->first - g->PL) * T;
            open_class(e, ny * nx > 1, "taps ky %d..%d, kx %d..%d: outputs %d..%d x %d..%d", ry,
                       rx);
            emit_dot_desc(e, "wgrad", &d);
            emit_line(e, "%s(&wgrad, %s, %s, %s);", fn, offset_expr(a, "dout", aoff),
                      offset_expr(b, "in", boff),
                      offset_expr(c, "gw", (long)ry->first * g->K + rx->first));
            close_class(e, ny * nx > 1);
        }

    if (!op->need_dinput)
        return;
    if (g->S == 1)
        conv_input_gather(e, g);
    else
        conv_input_scatter(e, g, ys, ny, xs, nx);
}

/* A grouped convolution (a depthwise one) is its groups' convolutions,
 * one after another: a loop over the groups whose body is one group's code
 * in the style, the layer's pointers (w, in, out, ...) moved to the
 * group's part under the same names. */
static void grouped(Emitter *e, const Op *op, RenderFn one) {
    const Geo *g = &op->conv;
    if (g->groups <= 1) {
        one(e, op);
        return;
    }
    const char *R = e->opt.real;
    const int T = e->opt.tile;
    const bool bwd = op->kind == OP_CONV_GRAD;
    const long wg = (long)g->CO * g->CI * g->K * g->K, ig = (long)g->CI * g->H * g->W * T,
               og = (long)g->CO * g->OH * g->OW * T;
    struct { const char *name; bool writes, used; long step; } ptrs[] = {
        {"w", false, true, wg},
        {"bias", false, !bwd && !g->no_bias, g->CO},
        {"in", false, true, ig},
        {"out", !bwd, !bwd, og},
        {"dout", false, bwd, og},
        {"din", true, bwd && op->need_dinput, ig},
        {"gw", true, bwd, wg},
        {"gb", true, bwd && !g->no_bias, g->CO},
    };
    emit_line(e, "{ /* %d groups of %d input channel%s to %d output%s, one after another */",
              g->groups, g->CI, g->CI == 1 ? "" : "s", g->CO, g->CO == 1 ? "" : "s");
    e->indent++;
    for (size_t i = 0; i < sizeof ptrs / sizeof *ptrs; i++)
        if (ptrs[i].used)
            emit_line(e, "%s%s *const %s_all = %s;", ptrs[i].writes ? "" : "const ", R,
                      ptrs[i].name, ptrs[i].name);
    emit_open(e, "for (int g = 0; g < %d; g++)", g->groups);
    for (size_t i = 0; i < sizeof ptrs / sizeof *ptrs; i++)
        if (ptrs[i].used)
            emit_line(e, "%s%s *restrict %s = %s_all + g * %ld;", ptrs[i].writes ? "" : "const ",
                      R, ptrs[i].name, ptrs[i].name, ptrs[i].step);
    Op one_group = *op;
    one_group.conv.groups = 1;
    one(e, &one_group);
    emit_close(e);
    emit_close(e);
}

static void conv_forward_loops_g(Emitter *e, const Op *op) { grouped(e, op, conv_forward_loops); }
static void conv_backward_loops_g(Emitter *e, const Op *op) { grouped(e, op, conv_backward_loops); }
static void conv_forward_unrolled_g(Emitter *e, const Op *op) {
    grouped(e, op, conv_forward_unrolled);
}
static void conv_backward_unrolled_g(Emitter *e, const Op *op) {
    grouped(e, op, conv_backward_unrolled);
}

/* Kernels style of a depthwise convolution (groups of one input channel):
 * the runtime's depthwise kernels, the whole layer in a call each. */
static bool depthwise(const Geo *g) { return g->groups > 1 && g->CI == 1; }

static lenet_depthwise depthwise_desc(const Geo *g, int tile, int flags) {
    return (lenet_depthwise){.c = g->groups, .h = g->H, .w = g->W, .mult = g->CO, .oh = g->OH,
                             .ow = g->OW, .k = g->K, .stride = g->S, .pt = g->PT, .pl = g->PL,
                             .tile = tile, .flags = flags};
}

static void depthwise_forward_kernels(Emitter *e, const Op *op) {
    const Geo *g = &op->conv;
    char fn[48];
    if (g->CO == 1)
        emit_line(e, "/* out[ch][pos] = bias[ch] + sum over taps of w[ch][tap] x in[ch][pos + tap] */");
    else
        emit_line(e, "/* out[ch * %d + j][pos] = bias + sum over taps of w x in[ch][pos + tap] */",
                  g->CO);
    lenet_depthwise d = depthwise_desc(g, e->opt.tile, op->relu ? LENET_RELU : 0);
    emit_depthwise_desc(e, "fwd", &d);
    emit_line(e, "%s(&fwd, w, in, out, %s);", emit_kernel(e, "depthwise_forward", fn),
              g->no_bias ? "0" : "bias");
}

static void depthwise_backward_kernels(Emitter *e, const Op *op) {
    const Geo *g = &op->conv;
    char fn[48];
    lenet_depthwise d = depthwise_desc(g, e->opt.tile, 0);
    emit_depthwise_desc(e, "bwd", &d);
    emit_line(e, "/* weights%s: sums over positions and lanes of dout x in%s */",
              g->no_bias ? "" : " and bias", g->no_bias ? "" : " and of dout");
    emit_line(e, "%s(&bwd, dout, in, gw, %s);", emit_kernel(e, "depthwise_weight_grad", fn),
              g->no_bias ? "0" : "gb");
    if (!op->need_dinput)
        return;
    emit_line(e, "/* input: din[ch][pos] = sum over its outputs and taps of w x dout */");
    emit_line(e, "%s(&bwd, w, dout, din);", emit_kernel(e, "depthwise_input_grad", fn));
}

static void conv_forward_kernels_g(Emitter *e, const Op *op) {
    if (depthwise(&op->conv))
        depthwise_forward_kernels(e, op);
    else
        grouped(e, op, conv_forward_kernels);
}
static void conv_backward_kernels_g(Emitter *e, const Op *op) {
    if (depthwise(&op->conv))
        depthwise_backward_kernels(e, op);
    else
        grouped(e, op, conv_backward_kernels);
}

const RenderFn render_conv_loops[N_OPS] = {
    [OP_CONV] = conv_forward_loops_g,
    [OP_CONV_GRAD] = conv_backward_loops_g,
};

const RenderFn render_conv_unrolled[N_OPS] = {
    [OP_CONV] = conv_forward_unrolled_g,
    [OP_CONV_GRAD] = conv_backward_unrolled_g,
};

const RenderFn render_conv_kernels[N_OPS] = {
    [OP_CONV] = conv_forward_kernels_g,
    [OP_CONV_GRAD] = conv_backward_kernels_g,
};
