/* layer_pool.c: max and average pooling over size x size windows.
 *
 *   - maxpool: {size: 2, stride: 2}     stride defaults to size
 *   - avgpool: {size: 2}
 *
 * Windows never leave the input ("valid", as Keras' default): the output is
 * floor((in - size) / stride) + 1 along each axis. The max's gradient goes
 * to the first position in the window that holds the maximum.
 */
#include <stdio.h>

#include "lenetc.h"

extern const LayerKind maxpool_kind;

static int pool_parse(Layer *l, const YNode *p, Diag *d) {
    static const char *const keys[] = {"name", "size", "stride", NULL};
    const char *what = l->kind == &maxpool_kind ? "maxpool layer" : "avgpool layer";
    if (spec_check_keys(p, what, keys, d))
        return -1;
    if (!p)
        return error_at(d, l->line, l->col, "%s needs a size", l->kind->kind);
    l->size = 0;
    if (spec_int(p, "size", 1, 64, true, &l->size, d))
        return -1;
    l->stride = l->size;
    return spec_int(p, "stride", 1, 64, false, &l->stride, d);
}

static int pool_infer(Layer *l, Diag *d) {
    if (l->in.flat)
        return error_at(d, l->line, l->col,
                        "%s: %s needs a height x width x channels input, but gets a vector of "
                        "%d values",
                        l->name, l->kind->kind, l->in.c);
    if (l->size > l->in.h || l->size > l->in.w)
        return error_at(d, l->line, l->col, "%s: window %dx%d is larger than its %dx%d input",
                        l->name, l->size, l->size, l->in.h, l->in.w);
    l->out = (Shape){l->in.c, (l->in.h - l->size) / l->stride + 1,
                     (l->in.w - l->size) / l->stride + 1, false};
    return 0;
}

static void pool_describe(const Layer *l, StrBuf *sb) {
    sb_printf(sb, "%s %dx%d stride %d", l->kind->kind, l->size, l->size, l->stride);
}

/* Feature index of window tap (ky, kx) for output (c, oy, ox). */
static long tap(const Layer *l, int c, int oy, int ox, int ky, int kx) {
    return ((long)c * l->in.h + oy * l->stride + ky) * l->in.w + ox * l->stride + kx;
}

static long outf(const Layer *l, int c, int oy, int ox) {
    return ((long)c * l->out.h + oy) * l->out.w + ox;
}

/* Opens the loops over outputs, naming x (window corner), o and, for the
 * backward pass, d and g (dout and din at the same places). */
static void open_windows(Emitter *e, const Layer *l, bool backward) {
    const char *R = e->opt.real;
    int T = e->opt.tile;
    char corner_y[32], corner_x[32], idx[96], p[128];
    snprintf(corner_y, sizeof corner_y, l->stride == 1 ? "oy" : "oy * %d", l->stride);
    snprintf(corner_x, sizeof corner_x, l->stride == 1 ? "ox" : "ox * %d", l->stride);
    emit_line(e, "for (int c = 0; c < %d; c++)", l->out.c);
    emit_line(e, "    for (int oy = 0; oy < %d; oy++)", l->out.h);
    e->indent += 2;
    emit_open(e, "for (int ox = 0; ox < %d; ox++)", l->out.w);
    /* the window's corner in, and its output */
    index_expr(idx, 3, (const char *[]){"c", corner_y, corner_x},
               (const int[]){l->in.c, l->in.h, l->in.w});
    emit_line(e, "const long at = %s;", times(p, idx, T));
    emit_line(e, "const %s *x = in + at;", R);
    index_expr(idx, 3, (const char *[]){"c", "oy", "ox"}, (const int[]){l->out.c, l->out.h, l->out.w});
    emit_line(e, "%s%s *o = %s;", backward ? "const " : "", R, lanes_at(p, "out", idx, T));
    if (backward) {
        emit_line(e, "const %s *d = %s;", R, lanes_at(p, "dout", idx, T));
        emit_line(e, "%s *g = din + at;", R);
    }
}

/* "(ky * 26 + kx) * 16": window tap (ky, kx) from the corner */
static const char *window_tap(Emitter *e, const Layer *l, char buf[128]) {
    char idx[96];
    return times(buf, index_expr(idx, 2, (const char *[]){"ky", "kx"},
                                 (const int[]){l->size, l->in.w}), e->opt.tile);
}

static void close_windows(Emitter *e) {
    emit_close(e);
    e->indent -= 2;
}

/* Kernels style: the layer's windows as one descriptor, and one call. */
static void window_call(Emitter *e, const Layer *l, const char *kernel, const char *args) {
    lenet_window w = {l->in.c, l->in.h, l->in.w, l->out.h, l->out.w, l->size, l->stride,
                      e->opt.tile};
    char fn[48];
    emit_window_desc(e, "win", &w);
    emit_line(e, "%s(&win, %s);", emit_kernel(e, kernel, fn), args);
}

/* ---- maxpool ---- */

static void maxpool_forward_kernels(Emitter *e, const Layer *l) {
    window_call(e, l, "maxpool_forward", "in, out");
}

static void maxpool_forward_loops(Emitter *e, const Layer *l) {
    int K = l->size;
    open_windows(e, l, false);
    emit_lanes(e, "o[$] = x[$];");
    emit_line(e, "for (int ky = 0; ky < %d; ky++)", K);
    e->indent++;
    emit_open(e, "for (int kx = 0; kx < %d; kx++)", K);
    char tap_at[128];
    emit_line(e, "const %s *v = x + %s;", e->opt.real, window_tap(e, l, tap_at));
    emit_line(e, "/* a select, not a branch: it vectorises */");
    emit_lanes(e, "o[$] = v[$] > o[$] ? v[$] : o[$];");
    emit_close(e);
    e->indent--;
    close_windows(e);
}

static void maxpool_forward_unrolled(Emitter *e, const Layer *l) {
    int K = l->size;
    char a[32], c[32];
    emit_lane_loop(e);
    for (int ch = 0; ch < l->out.c; ch++)
        for (int oy = 0; oy < l->out.h; oy++)
            for (int ox = 0; ox < l->out.w; ox++) {
                const char *o = lane(e, outf(l, ch, oy, ox), a);
                emit_line(e, "out[%s] = in[%s];", o, lane(e, tap(l, ch, oy, ox, 0, 0), c));
                for (int ky = 0; ky < K; ky++)
                    for (int kx = 0; kx < K; kx++) {
                        if (!ky && !kx)
                            continue;
                        lane(e, tap(l, ch, oy, ox, ky, kx), c);
                        emit_line(e, "if (in[%s] > out[%s]) out[%s] = in[%s];", c, o, o, c);
                    }
            }
    emit_close(e);
}

#define MAX_GRADIENT_RULE "/* dout goes to the first input equal to the window's max */"

static void maxpool_backward_kernels(Emitter *e, const Layer *l) {
    emit_line(e, MAX_GRADIENT_RULE);
    window_call(e, l, "maxpool_backward", "in, out, dout, din");
}

static void maxpool_backward_loops(Emitter *e, const Layer *l) {
    const char *R = e->opt.real;
    int T = e->opt.tile, K = l->size;
    emit_line(e, MAX_GRADIENT_RULE);
    emit_zero(e, "din", shape_size(l->in));
    /* Branch-free, so that it vectorises: `rest` is what is still to be
     * given; the first tap that matches takes it all, later ones add 0. */
    open_windows(e, l, true);
    emit_line(e, "%s rest[%d];", R, T);
    emit_line(e, "for (int b = 0; b < %d; b++)", T);
    emit_line(e, "    rest[b] = d[b];");
    emit_line(e, "for (int ky = 0; ky < %d; ky++)", K);
    e->indent++;
    emit_open(e, "for (int kx = 0; kx < %d; kx++)", K);
    char tap_at[128];
    emit_line(e, "const int f = %s;", window_tap(e, l, tap_at));
    emit_open(e, "for (int b = 0; b < %d; b++)", T);
    emit_line(e, "const int hit = x[f + b] == o[b];");
    emit_line(e, "g[f + b] += hit ? rest[b] : 0;");
    emit_line(e, "rest[b] = hit ? 0 : rest[b];");
    emit_close(e);
    emit_close(e);
    e->indent--;
    emit_line(e, "for (int b = 0; b < %d; b++) /* a NaN window matches nothing: its first tap */",
              T);
    emit_line(e, "    g[b] += rest[b];");
    close_windows(e);
}

static void maxpool_backward_unrolled(Emitter *e, const Layer *l) {
    int K = l->size;
    char a[32], c[32];
    emit_line(e, MAX_GRADIENT_RULE);
    emit_zero(e, "din", shape_size(l->in));
    emit_lane_loop(e);
    for (int ch = 0; ch < l->out.c; ch++)
        for (int oy = 0; oy < l->out.h; oy++)
            for (int ox = 0; ox < l->out.w; ox++) {
                const char *o = lane(e, outf(l, ch, oy, ox), a);
                for (int ky = 0; ky < K; ky++)
                    for (int kx = 0; kx < K; kx++) {
                        lane(e, tap(l, ch, oy, ox, ky, kx), c);
                        emit_line(e, "%sif (in[%s] == out[%s]) din[%s] += dout[%s];",
                                  ky || kx ? "else " : "", c, o, c, o);
                    }
                emit_line(e, "else din[%s] += dout[%s];", lane(e, tap(l, ch, oy, ox, 0, 0), c),
                          o);
            }
    emit_close(e);
}

/* ---- avgpool ---- */

static void avgpool_forward_kernels(Emitter *e, const Layer *l) {
    window_call(e, l, "avgpool_forward", "in, out");
}

static void avgpool_forward_loops(Emitter *e, const Layer *l) {
    int T = e->opt.tile, K = l->size;
    char inv[32];
    emit_real(e, 1.0 / (K * K), inv);
    open_windows(e, l, false);
    emit_line(e, "for (int b = 0; b < %d; b++)", T);
    emit_line(e, "    o[b] = 0;");
    emit_line(e, "for (int ky = 0; ky < %d; ky++)", K);
    emit_line(e, "    for (int kx = 0; kx < %d; kx++)", K);
    emit_line(e, "        for (int b = 0; b < %d; b++)", T);
    char tap_at[128];
    emit_line(e, "            o[b] += x[%s + b];", window_tap(e, l, tap_at));
    emit_line(e, "for (int b = 0; b < %d; b++)", T);
    emit_line(e, "    o[b] *= %s;", inv);
    close_windows(e);
}

static void avgpool_forward_unrolled(Emitter *e, const Layer *l) {
    int K = l->size;
    char a[32], c[32], inv[32], zero[32];
    emit_real(e, 1.0 / (K * K), inv);
    emit_real(e, 0.0, zero);
    emit_lane_loop(e);
    for (int ch = 0; ch < l->out.c; ch++)
        for (int oy = 0; oy < l->out.h; oy++)
            for (int ox = 0; ox < l->out.w; ox++) {
                sum_begin(e, "out[%s] = (%s", lane(e, outf(l, ch, oy, ox), a), zero);
                for (int ky = 0; ky < K; ky++)
                    for (int kx = 0; kx < K; kx++)
                        sum_term(e, " + in[%s]", lane(e, tap(l, ch, oy, ox, ky, kx), c));
                sum_term(e, ") * %s", inv);
                sum_end(e);
            }
    emit_close(e);
}

static void avg_gradient_rule(Emitter *e, const Layer *l) {
    emit_line(e, "/* each input of a window gets dout / %d */", l->size * l->size);
}

static void avgpool_backward_kernels(Emitter *e, const Layer *l) {
    avg_gradient_rule(e, l);
    window_call(e, l, "avgpool_backward", "dout, din");
}

static void avgpool_backward_loops(Emitter *e, const Layer *l) {
    int T = e->opt.tile, K = l->size;
    char inv[32];
    emit_real(e, 1.0 / (K * K), inv);
    avg_gradient_rule(e, l);
    emit_zero(e, "din", shape_size(l->in));
    open_windows(e, l, true);
    emit_line(e, "for (int ky = 0; ky < %d; ky++)", K);
    emit_line(e, "    for (int kx = 0; kx < %d; kx++)", K);
    emit_line(e, "        for (int b = 0; b < %d; b++)", T);
    char tap_at[128];
    emit_line(e, "            g[%s + b] += d[b] * %s;", window_tap(e, l, tap_at), inv);
    close_windows(e);
}

static void avgpool_backward_unrolled(Emitter *e, const Layer *l) {
    int K = l->size;
    char a[32], c[32], inv[32];
    emit_real(e, 1.0 / (K * K), inv);
    avg_gradient_rule(e, l);
    emit_zero(e, "din", shape_size(l->in));
    emit_lane_loop(e);
    for (int ch = 0; ch < l->out.c; ch++)
        for (int oy = 0; oy < l->out.h; oy++)
            for (int ox = 0; ox < l->out.w; ox++) {
                lane(e, outf(l, ch, oy, ox), a);
                for (int ky = 0; ky < K; ky++)
                    for (int kx = 0; kx < K; kx++)
                        emit_line(e, "din[%s] += dout[%s] * %s;",
                                  lane(e, tap(l, ch, oy, ox, ky, kx), c), a, inv);
            }
    emit_close(e);
}

static void pool_torch(const Layer *l, json_t *modules) {
    layer_torch_module(modules, l, NULL, l->kind == &maxpool_kind ? "MaxPool2d" : "AvgPool2d",
                       json_pack("[i, i]", l->size, l->stride), NULL);
}

const LayerKind maxpool_kind = {
    .kind = "maxpool",
    .prefix = "pool",
    .keras = "MaxPooling2D",
    .parse = pool_parse,
    .infer = pool_infer,
    .describe = pool_describe,
    .torch = pool_torch,
    .forward = {[STYLE_LOOPS] = maxpool_forward_loops, [STYLE_UNROLL] = maxpool_forward_unrolled,
                [STYLE_KERNELS] = maxpool_forward_kernels},
    .backward = {[STYLE_LOOPS] = maxpool_backward_loops,
                 [STYLE_UNROLL] = maxpool_backward_unrolled,
                 [STYLE_KERNELS] = maxpool_backward_kernels},
};

const LayerKind avgpool_kind = {
    .kind = "avgpool",
    .prefix = "pool",
    .keras = "AveragePooling2D",
    .parse = pool_parse,
    .infer = pool_infer,
    .describe = pool_describe,
    .torch = pool_torch,
    .forward = {[STYLE_LOOPS] = avgpool_forward_loops, [STYLE_UNROLL] = avgpool_forward_unrolled,
                [STYLE_KERNELS] = avgpool_forward_kernels},
    .backward = {[STYLE_LOOPS] = avgpool_backward_loops,
                 [STYLE_UNROLL] = avgpool_backward_unrolled,
                 [STYLE_KERNELS] = avgpool_backward_kernels},
};
