/* layer_pool.c: max and average pooling over size x size windows.
 *
 *   - maxpool: {size: 2, stride: 2}     stride defaults to size
 *   - avgpool: {size: 2}
 *   - maxpool: 2                        size 2
 *   - MaxPooling2D: {pool_size: [2, 2], strides: 2}    Keras' spellings
 *
 * Windows never leave the input ("valid", as Keras' default): the output is
 * floor((in - size) / stride) + 1 along each axis. The max's gradient goes
 * to the first position in the window that holds the maximum.
 */
#include <stdio.h>

#include "lenetc.h"

/* pool's attributes */
typedef struct {
    int size, stride;       /* the window's side and step */
} Pool;
LAYER_DATA_FITS(Pool);
#define POOL(l) LAYER_DATA(Pool, l)

extern const LayerKind maxpool_kind;

static int pool_parse(Layer *l, const YNode *p, Diag *d) {
    static const char *const keys[] = {"name", "size", "stride", NULL};
    const char *what = l->kind == &maxpool_kind ? "maxpool layer" : "avgpool layer";
    if (spec_check_keys(p, what, keys, d))
        return -1;
    if (!p)
        return error_at(d, l->line, l->col, "%s needs a size", l->kind->kind);
    POOL(l)->size = 0;
    if (spec_square(p, "size", 1, 64, true, &POOL(l)->size, d))
        return -1;
    POOL(l)->stride = POOL(l)->size;
    return spec_square(p, "stride", 1, 64, false, &POOL(l)->stride, d);
}

static int pool_infer(Layer *l, Diag *d) {
    if (l->in.flat)
        return error_at(d, l->line, l->col,
                        "%s: %s needs a height x width x channels input, but gets a vector of "
                        "%d values",
                        l->name, l->kind->kind, l->in.c);
    if (POOL(l)->size > l->in.h || POOL(l)->size > l->in.w)
        return error_at(d, l->line, l->col, "%s: window %dx%d is larger than its %dx%d input",
                        l->name, POOL(l)->size, POOL(l)->size, l->in.h, l->in.w);
    l->out = (Shape){l->in.c, (l->in.h - POOL(l)->size) / POOL(l)->stride + 1,
                     (l->in.w - POOL(l)->size) / POOL(l)->stride + 1, false};
    return 0;
}

static void pool_describe(const Layer *l, StrBuf *sb) {
    sb_printf(sb, "%s %dx%d stride %d", l->kind->kind, POOL(l)->size, POOL(l)->size, POOL(l)->stride);
}

/* Feature index of window tap (ky, kx) for output (c, oy, ox). */
static long tap(const Layer *l, int c, int oy, int ox, int ky, int kx) {
    return ((long)c * l->in.h + oy * POOL(l)->stride + ky) * l->in.w + ox * POOL(l)->stride + kx;
}

static long outf(const Layer *l, int c, int oy, int ox) {
    return ((long)c * l->out.h + oy) * l->out.w + ox;
}

/* Opens the loops over outputs, naming x (window corner), o and, for the
 * backward pass, d and g (dout and din at the same places). */
/* Opens the loops over outputs (a channel or an axis of one value has
 * none), naming x (window corner), o and, for the backward pass, d and g
 * (dout and din at the same places); returns the blocks to close. */
static int open_windows(Emitter *e, const Layer *l, bool backward) {
    const char *R = e->opt.real;
    int T = e->opt.tile;
    char corner_y[32], corner_x[32], idx[96], p[128];
    snprintf(corner_y, sizeof corner_y, POOL(l)->stride == 1 ? "oy" : "oy * %d", POOL(l)->stride);
    snprintf(corner_x, sizeof corner_x, POOL(l)->stride == 1 ? "ox" : "ox * %d", POOL(l)->stride);
    int open = emit_loop(e, "c", l->out.c);
    open += emit_loop(e, "oy", l->out.h);
    open += emit_loop(e, "ox", l->out.w);
    /* the window's corner in, and its output */
    char corner[96];
    index_expr(corner, 3,
               (const char *[]){"c", l->out.h > 1 ? corner_y : NULL, l->out.w > 1 ? corner_x : NULL},
               (const int[]){l->in.c, l->in.h, l->in.w});
    emit_line(e, "const %s *x = %s;", R, lanes_at(p, "in", corner, T));
    index_expr(idx, 3, (const char *[]){"c", "oy", "ox"}, (const int[]){l->out.c, l->out.h, l->out.w});
    emit_line(e, "%s%s *o = %s;", backward ? "const " : "", R, lanes_at(p, "out", idx, T));
    if (backward) {
        emit_line(e, "const %s *d = %s;", R, lanes_at(p, "dout", idx, T));
        emit_line(e, "%s *g = %s;", R, lanes_at(p, "din", corner, T));
    }
    return open;
}


/* "(ky * 26 + kx) * 16": window tap (ky, kx) from the corner */
static const char *window_tap(Emitter *e, const Layer *l, char buf[128]) {
    char idx[96];
    const bool taps = POOL(l)->size > 1; /* else no loops: the one tap is the corner */
    return times(buf, index_expr(idx, 2, (const char *[]){taps ? "ky" : NULL, taps ? "kx" : NULL},
                                 (const int[]){POOL(l)->size, l->in.w}), e->opt.tile);
}

/* The window's taps: loops over ky and kx (none for a 1x1 window), naming
 * its tap's offset from the corner `f`; returns the blocks to close. */
static int open_taps(Emitter *e, const Layer *l) {
    char tap_at[128];
    int open = emit_loop(e, "ky", POOL(l)->size);
    open += emit_loop(e, "kx", POOL(l)->size);
    emit_line(e, "const int f = %s;", window_tap(e, l, tap_at));
    return open;
}

/* Kernels style: the layer's windows as one descriptor, and one call. */
static void window_call(Emitter *e, const Layer *l, const char *kernel, const char *args) {
    lenet_window w = {l->in.c, l->in.h, l->in.w, l->out.h, l->out.w, POOL(l)->size, POOL(l)->stride,
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
    int open = open_windows(e, l, false);
    emit_lanes(e, "o[$] = x[$];");
    open += open_taps(e, l);
    emit_line(e, "const %s *v = x + f;", e->opt.real);
    emit_line(e, "/* a select, not a branch: it vectorises */");
    emit_lanes(e, "o[$] = v[$] > o[$] ? v[$] : o[$];");
    emit_close_loops(e, open);
}

static void maxpool_forward_unrolled(Emitter *e, const Layer *l) {
    int K = POOL(l)->size;
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
    emit_line(e, MAX_GRADIENT_RULE);
    emit_zero(e, "din", shape_size(l->in));
    /* Branch-free, so that it vectorises: `rest` is what is still to be
     * given; the first tap that matches takes it all, later ones add 0. */
    int open = open_windows(e, l, true);
    emit_line(e, "%s rest[%d];", R, e->opt.tile);
    emit_lanes(e, "rest[$] = d[$];");
    const int taps = open_taps(e, l);
    emit_line(e, "const %s *v = x + f;", R);
    emit_line(e, "%s *h = g + f;", R);
    emit_lanes(e, "h[$] += v[$] == o[$] ? rest[$] : 0;");
    emit_lanes(e, "rest[$] = v[$] == o[$] ? 0 : rest[$];");
    emit_close_loops(e, taps);
    emit_line(e, "/* a NaN window matches nothing: its first tap */");
    emit_lanes(e, "g[$] += rest[$];");
    emit_close_loops(e, open);
}

static void maxpool_backward_unrolled(Emitter *e, const Layer *l) {
    int K = POOL(l)->size;
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
    char inv[32];
    emit_real(e, 1.0 / (POOL(l)->size * POOL(l)->size), inv);
    int open = open_windows(e, l, false);
    emit_lanes(e, "o[$] = 0;");
    const int taps = open_taps(e, l);
    emit_line(e, "const %s *v = x + f;", e->opt.real);
    emit_lanes(e, "o[$] += v[$];");
    emit_close_loops(e, taps);
    emit_lanes(e, "o[$] *= %s;", inv);
    emit_close_loops(e, open);
}

static void avgpool_forward_unrolled(Emitter *e, const Layer *l) {
    int K = POOL(l)->size;
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
    emit_line(e, "/* each input of a window gets dout / %d */", POOL(l)->size * POOL(l)->size);
}

static void avgpool_backward_kernels(Emitter *e, const Layer *l) {
    avg_gradient_rule(e, l);
    window_call(e, l, "avgpool_backward", "dout, din");
}

static void avgpool_backward_loops(Emitter *e, const Layer *l) {
    char inv[32];
    emit_real(e, 1.0 / (POOL(l)->size * POOL(l)->size), inv);
    avg_gradient_rule(e, l);
    emit_zero(e, "din", shape_size(l->in));
    int open = open_windows(e, l, true);
    open += open_taps(e, l);
    emit_line(e, "%s *h = g + f;", e->opt.real);
    emit_lanes(e, "h[$] += d[$] * %s;", inv);
    emit_close_loops(e, open);
}

static void avgpool_backward_unrolled(Emitter *e, const Layer *l) {
    int K = POOL(l)->size;
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
                       json_pack("[i, i]", POOL(l)->size, POOL(l)->stride), NULL);
}

const LayerKind maxpool_kind = {
    .kind = "maxpool",
    .prefix = "pool",
    .keras = "MaxPooling2D",
    .shorthand = "size",
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
    .shorthand = "size",
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
