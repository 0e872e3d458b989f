/* layer_conv.c: 2-D convolution (cross-correlation, as in Keras and PyTorch).
 *
 *   - conv: {filters: 6, kernel: 3, stride: 1, padding: valid}
 *   - conv: {filters: 6, kernel: 3, activation: relu}
 *   - Conv2D: {filters: 6, kernel_size: [3, 3], strides: 1}    the same, Keras' way
 *
 * out[co][oy][ox] = bias[co] + sum over ci, ky, kx of
 *                   w[co][ci][ky][kx] * in[ci][oy*S + ky - pt][ox*S + kx - pl]
 * Taps that fall into the padding are skipped (they would add w * 0). Both
 * code styles add the terms in the same order, so they agree bit for bit.
 * An activation is fused as dense's is (activation.c): the same code as
 * the activation's layer after the conv, on out and dout in place.
 */
#include <stdio.h>
#include <string.h>

#include "lenetc.h"

/* conv's attributes: the fused activation first (activation.c reads it) */
typedef struct {
    FusedAct act;
    int filters, kernel, stride;
    int pad_mode;           /* PAD_VALID, PAD_SAME or PAD_EXPLICIT */
    int pad;                /* PAD_EXPLICIT's pixels */
    int pad_top, pad_left;  /* resolved by infer: rows above, columns left */
} Conv;
LAYER_DATA_FITS(Conv);
#define CONV(l) LAYER_DATA(Conv, l)

static int conv_parse(Layer *l, const YNode *p, Diag *d) {
    static const char *const keys[] = {"name",   "filters",    "kernel", "stride",
                                       "padding", "activation", "alpha",  NULL};
    if (spec_check_keys(p, "conv layer", keys, d))
        return -1;
    if (!p)
        return error_at(d, l->line, l->col, "conv needs filters and kernel");
    CONV(l)->stride = 1;
    if (spec_int(p, "filters", 1, MAX_DIM, true, &CONV(l)->filters, d) ||
        spec_square(p, "kernel", 1, 64, true, &CONV(l)->kernel, d) ||
        spec_square(p, "stride", 1, 64, false, &CONV(l)->stride, d))
        return -1;
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
    l->out = (Shape){CONV(l)->filters, oh, ow, false};
    /* PyTorch's Conv2d: weight [out][in][kh][kw] */
    const int rf = CONV(l)->kernel * CONV(l)->kernel;
    LayerTensor *w = layer_tensor(l, "weight", "w", "gw", LENET_INIT_GLOROT_UNIFORM, 4,
                                  (int[]){CONV(l)->filters, l->in.c, CONV(l)->kernel, CONV(l)->kernel});
    w->fan_in = l->in.c * rf;
    w->fan_out = CONV(l)->filters * rf;
    w->in_backward = true;
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
    return (long)l->out.c * l->in.c *
           valid_taps(l->out.h, CONV(l)->kernel, CONV(l)->stride, CONV(l)->pad_top, l->in.h) *
           valid_taps(l->out.w, CONV(l)->kernel, CONV(l)->stride, CONV(l)->pad_left, l->in.w);
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
                       json_pack("{s:i}", "padding", pad));
    activation_torch_module(l, modules);
}

static void conv_describe(const Layer *l, StrBuf *sb) {
    sb_printf(sb, "conv %d@%dx%d stride %d, padding ", CONV(l)->filters, CONV(l)->kernel, CONV(l)->kernel,
              CONV(l)->stride);
    if (CONV(l)->pad_mode == PAD_VALID)
        sb_puts(sb, "valid");
    else if (CONV(l)->pad_mode == PAD_SAME)
        sb_printf(sb, "same (%d before)", CONV(l)->pad_top);
    else
        sb_printf(sb, "%d", CONV(l)->pad);
    activation_describe(l, sb);
}

/* Geometry shared by the emitters. */
typedef struct {
    int CI, H, W, CO, OH, OW, K, S, PT, PL;
    bool padded;
} Geo;

static Geo geo(const Layer *l) {
    /* "same" can pad only after the input, so it always needs the checks */
    bool padded = CONV(l)->pad_mode == PAD_SAME || (CONV(l)->pad_mode == PAD_EXPLICIT && CONV(l)->pad > 0);
    return (Geo){l->in.c, l->in.h, l->in.w, l->out.c, l->out.h, l->out.w, CONV(l)->kernel, CONV(l)->stride,
                 CONV(l)->pad_top, CONV(l)->pad_left, padded};
}

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
            emit_line(e, "%s(&fwd, %s, %s, %s, bias);", fn, offset_expr(a, "w", aoff),
                      d.k[1] && d.k[2] ? offset_expr(b, "in", boff) : "in",
                      offset_expr(c, "out", coff));
            close_class(e, nr * nc > 1);
        }
}

static void conv_forward_kernels(Emitter *e, const Layer *l) {
    Geo g = geo(l);
    conv_forward_classes(e, &g, activation_gemm_flags(e, l));
    emit_fused_activation(e, l);
}

/* The loop code's input and output positions: in[ci][iy][ix], out[co][oy][ox] */
static const char *in_index(const Geo *g, char buf[96]) {
    return index_expr(buf, 3, (const char *[]){"ci", "iy", "ix"}, (const int[]){g->CI, g->H, g->W});
}

static const char *out_index(const Geo *g, char buf[96]) {
    return index_expr(buf, 3, (const char *[]){"co", "oy", "ox"},
                      (const int[]){g->CO, g->OH, g->OW});
}

static void conv_forward_loops(Emitter *e, const Layer *l) {
    Geo g = geo(l);
    const char *R = e->opt.real;
    const int T = e->opt.tile;
    char i1[96], i2[96], p[128];
    int open = emit_loop(e, "co", g.CO);
    open += emit_loop(e, "oy", g.OH);
    open += emit_loop(e, "ox", g.OW);
    emit_line(e, "%s *o = %s;", R, lanes_at(p, "out", out_index(&g, i1), T));
    emit_lanes(e, "o[$] = bias[%s];", g.CO == 1 ? "0" : "co");
    const int ci_loop = emit_loop(e, "ci", g.CI);
    open_tap_loops(e, &g, "ky", "kx", g.K, g.K);
    emit_line(e, "const %s wk = w[%s];", R, weight_index(&g, i2));
    emit_line(e, "const %s *x = %s;", R, lanes_at(p, "in", in_index(&g, i1), T));
    emit_lanes(e, "o[$] += wk * x[$];");
    emit_close_loops(e, 2 + ci_loop + open);
    emit_fused_activation(e, l);
}

static void conv_forward_unrolled(Emitter *e, const Layer *l) {
    Geo g = geo(l);
    char a[32], c[32];
    emit_lane_loop(e);
    for (int co = 0; co < g.CO; co++)
        for (int oy = 0; oy < g.OH; oy++)
            for (int ox = 0; ox < g.OW; ox++) {
                sum_begin(e, "out[%s] = bias[%d]", lane(e, ((long)co * g.OH + oy) * g.OW + ox, a),
                          co);
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
    emit_fused_activation(e, l);
}

static void conv_backward_loops(Emitter *e, const Layer *l) {
    const Geo geometry = geo(l), *g = &geometry;
    const char *R = e->opt.real;
    const int T = e->opt.tile;
    char i1[96], p[128];
    emit_fused_activation_grad(e, l);
    emit_line(e, "/* bias: per-lane sums over positions, then over lanes */");
    int open = emit_loop(e, "co", g->CO);
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

    if (!l->need_dinput)
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
static void conv_backward_unrolled(Emitter *e, const Layer *l) {
    const Geo geometry = geo(l), *g = &geometry;
    char a[32], c[32], zero[32];
    emit_real(e, 0.0, zero);
    emit_fused_activation_grad(e, l);
    emit_lane_loop(e);
    emit_line(e, "/* bias: per-lane sums over positions, then over lanes */");
    for (int co = 0; co < g->CO; co++) {
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
    if (l->need_dinput) {
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
static void conv_backward_kernels(Emitter *e, const Layer *l) {
    const Geo geometry = geo(l), *g = &geometry;
    const int T = e->opt.tile;
    const long P = (long)g->OH * g->OW * T; /* one channel of dout */
    char fn[48], a[64], b[64], c[64];
    emit_fused_activation_grad(e, l);
    emit_line(e, "/* bias: dout summed over positions and lanes */");
    lenet_gemm_dot bs = {.m = g->CO, .groups = {1, 1}, .width = (int)P, .a_row = P};
    emit_dot_desc(e, "bias_sum", &bs);
    emit_line(e, "%s(&bias_sum, dout, gb);", emit_kernel(e, "sum_rows", fn));

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

    if (!l->need_dinput)
        return;
    if (g->S == 1)
        conv_input_gather(e, g);
    else
        conv_input_scatter(e, g, ys, ny, xs, nx);
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
    .fuses_activation = true,
    .forward = {[STYLE_LOOPS] = conv_forward_loops, [STYLE_UNROLL] = conv_forward_unrolled,
                [STYLE_KERNELS] = conv_forward_kernels},
    .backward = {[STYLE_LOOPS] = conv_backward_loops, [STYLE_UNROLL] = conv_backward_unrolled,
                 [STYLE_KERNELS] = conv_backward_kernels},
};
