/* render_window.c: the pooling operations (OP_MAXPOOL, OP_AVGPOOL and
 * their gradients) over a window descriptor (lenet_window: the input's
 * C x H x W, the output's OH x OW, the window's side and stride), in each
 * code style: the kernels style one call to the runtime's window kernel;
 * the loop style loops over windows and taps with the lanes written out;
 * the unrolled style every tap with literal indices. They read and write
 * the layer's in, out, dout and din.
 *
 * The max's gradient goes to the first position in the window that holds
 * the maximum.
 */
#include <stdio.h>

#include "lenetc.h"
#include "render.h"

/* Feature index of window tap (ky, kx) for output (c, oy, ox). */
static long tap(const Op *op, int c, int oy, int ox, int ky, int kx) {
    const lenet_window *W = &op->window;
    return ((long)c * W->h + oy * W->stride + ky) * W->w + ox * W->stride + kx;
}

static long outf(const Op *op, int c, int oy, int ox) {
    const lenet_window *W = &op->window;
    return ((long)c * W->oh + oy) * W->ow + ox;
}

/* Opens the loops over outputs (a channel or an axis of one value has
 * none), naming x (window corner), o and, for the backward pass, d and g
 * (dout and din at the same places); returns the blocks to close. */
static int open_windows(Emitter *e, const Op *op, bool backward) {
    const lenet_window *W = &op->window;
    const char *R = e->opt.real;
    int T = e->opt.tile;
    char corner_y[32], corner_x[32], idx[96], p[128];
    snprintf(corner_y, sizeof corner_y, W->stride == 1 ? "oy" : "oy * %d", W->stride);
    snprintf(corner_x, sizeof corner_x, W->stride == 1 ? "ox" : "ox * %d", W->stride);
    int open = emit_loop(e, "c", W->c);
    open += emit_loop(e, "oy", W->oh);
    open += emit_loop(e, "ox", W->ow);
    /* the window's corner in, and its output */
    char corner[96];
    index_expr(corner, 3,
               (const char *[]){"c", W->oh > 1 ? corner_y : NULL, W->ow > 1 ? corner_x : NULL},
               (const int[]){W->c, W->h, W->w});
    emit_line(e, "const %s *x = %s;", R, lanes_at(p, "in", corner, T));
    index_expr(idx, 3, (const char *[]){"c", "oy", "ox"}, (const int[]){W->c, W->oh, W->ow});
    emit_line(e, "%s%s *o = %s;", backward ? "const " : "", R, lanes_at(p, "out", idx, T));
    if (backward) {
        emit_line(e, "const %s *d = %s;", R, lanes_at(p, "dout", idx, T));
        emit_line(e, "%s *g = %s;", R, lanes_at(p, "din", corner, T));
    }
    return open;
}


/* "(ky * 26 + kx) * 16": window tap (ky, kx) from the corner */
static const char *window_tap(Emitter *e, const Op *op, char buf[128]) {
    const lenet_window *W = &op->window;
    char idx[96];
    const bool taps = W->size > 1; /* else no loops: the one tap is the corner */
    return times(buf, index_expr(idx, 2, (const char *[]){taps ? "ky" : NULL, taps ? "kx" : NULL},
                                 (const int[]){W->size, W->w}), e->opt.tile);
}

/* The window's taps: loops over ky and kx (none for a 1x1 window), naming
 * its tap's offset from the corner `f`; returns the blocks to close. */
static int open_taps(Emitter *e, const Op *op) {
    const lenet_window *W = &op->window;
    char tap_at[128];
    int open = emit_loop(e, "ky", W->size);
    open += emit_loop(e, "kx", W->size);
    emit_line(e, "const int f = %s;", window_tap(e, op, tap_at));
    return open;
}

/* Kernels style: the layer's windows as one descriptor, and one call; a
 * relu fused into a maxpool (fuse.c) is its flag. */
static void window_call(Emitter *e, const Op *op, const char *kernel, const char *args) {
    lenet_window W = op->window;
    char fn[48];
    if (op->relu)
        W.flags |= LENET_RELU;
    emit_window_desc(e, "win", &W);
    emit_line(e, "%s(&win, %s);", emit_kernel(e, kernel, fn), args);
}

/* ---- maxpool ---- */

static void maxpool_forward_kernels(Emitter *e, const Op *op) {
    window_call(e, op, "maxpool_forward", "in, out");
}

static void maxpool_forward_loops(Emitter *e, const Op *op) {
    int open = open_windows(e, op, false);
    emit_lanes(e, "o[$] = x[$];");
    open += open_taps(e, op);
    emit_line(e, "const %s *v = x + f;", e->opt.real);
    emit_line(e, "/* a select, not a branch: it vectorises */");
    emit_lanes(e, "o[$] = v[$] > o[$] ? v[$] : o[$];");
    emit_close_loops(e, open);
}

static void maxpool_forward_unrolled(Emitter *e, const Op *op) {
    const lenet_window *W = &op->window;
    int K = W->size;
    char a[32], c[32];
    emit_lane_loop(e);
    for (int ch = 0; ch < W->c; ch++)
        for (int oy = 0; oy < W->oh; oy++)
            for (int ox = 0; ox < W->ow; ox++) {
                const char *o = lane(e, outf(op, ch, oy, ox), a);
                emit_line(e, "out[%s] = in[%s];", o, lane(e, tap(op, ch, oy, ox, 0, 0), c));
                for (int ky = 0; ky < K; ky++)
                    for (int kx = 0; kx < K; kx++) {
                        if (!ky && !kx)
                            continue;
                        lane(e, tap(op, ch, oy, ox, ky, kx), c);
                        emit_line(e, "if (in[%s] > out[%s]) out[%s] = in[%s];", c, o, o, c);
                    }
            }
    emit_close(e);
}

#define MAX_GRADIENT_RULE "/* dout goes to the first input equal to the window's max */"

static void maxpool_backward_kernels(Emitter *e, const Op *op) {
    emit_line(e, MAX_GRADIENT_RULE);
    if (op->relu)
        emit_line(e, "/* relu: only from windows whose output is positive */");
    window_call(e, op, "maxpool_backward", "in, out, dout, din");
}

static void maxpool_backward_loops(Emitter *e, const Op *op) {
    const lenet_window *W = &op->window;
    const char *R = e->opt.real;
    emit_line(e, MAX_GRADIENT_RULE);
    emit_zero(e, "din", ((long)W->c * W->h * W->w));
    /* Branch-free, so that it vectorises: `rest` is what is still to be
     * given; the first tap that matches takes it all, later ones add 0. */
    int open = open_windows(e, op, true);
    emit_line(e, "%s rest[%d];", R, e->opt.tile);
    emit_lanes(e, "rest[$] = d[$];");
    const int taps = open_taps(e, op);
    emit_line(e, "const %s *v = x + f;", R);
    emit_line(e, "%s *h = g + f;", R);
    emit_lanes(e, "h[$] += v[$] == o[$] ? rest[$] : 0;");
    emit_lanes(e, "rest[$] = v[$] == o[$] ? 0 : rest[$];");
    emit_close_loops(e, taps);
    emit_line(e, "/* a NaN window matches nothing: its first tap */");
    emit_lanes(e, "g[$] += rest[$];");
    emit_close_loops(e, open);
}

static void maxpool_backward_unrolled(Emitter *e, const Op *op) {
    const lenet_window *W = &op->window;
    int K = W->size;
    char a[32], c[32];
    emit_line(e, MAX_GRADIENT_RULE);
    emit_zero(e, "din", ((long)W->c * W->h * W->w));
    emit_lane_loop(e);
    for (int ch = 0; ch < W->c; ch++)
        for (int oy = 0; oy < W->oh; oy++)
            for (int ox = 0; ox < W->ow; ox++) {
                const char *o = lane(e, outf(op, ch, oy, ox), a);
                for (int ky = 0; ky < K; ky++)
                    for (int kx = 0; kx < K; kx++) {
                        lane(e, tap(op, ch, oy, ox, ky, kx), c);
                        emit_line(e, "%sif (in[%s] == out[%s]) din[%s] += dout[%s];",
                                  ky || kx ? "else " : "", c, o, c, o);
                    }
                emit_line(e, "else din[%s] += dout[%s];", lane(e, tap(op, ch, oy, ox, 0, 0), c),
                          o);
            }
    emit_close(e);
}

/* ---- avgpool ---- */

static void avgpool_forward_kernels(Emitter *e, const Op *op) {
    window_call(e, op, "avgpool_forward", "in, out");
}

static void avgpool_forward_loops(Emitter *e, const Op *op) {
    const lenet_window *W = &op->window;
    char inv[32];
    emit_real(e, 1.0 / (W->size * W->size), inv);
    int open = open_windows(e, op, false);
    emit_lanes(e, "o[$] = 0;");
    const int taps = open_taps(e, op);
    emit_line(e, "const %s *v = x + f;", e->opt.real);
    emit_lanes(e, "o[$] += v[$];");
    emit_close_loops(e, taps);
    emit_lanes(e, "o[$] *= %s;", inv);
    emit_close_loops(e, open);
}

static void avgpool_forward_unrolled(Emitter *e, const Op *op) {
    const lenet_window *W = &op->window;
    int K = W->size;
    char a[32], c[32], inv[32], zero[32];
    emit_real(e, 1.0 / (K * K), inv);
    emit_real(e, 0.0, zero);
    emit_lane_loop(e);
    for (int ch = 0; ch < W->c; ch++)
        for (int oy = 0; oy < W->oh; oy++)
            for (int ox = 0; ox < W->ow; ox++) {
                sum_begin(e, "out[%s] = (%s", lane(e, outf(op, ch, oy, ox), a), zero);
                for (int ky = 0; ky < K; ky++)
                    for (int kx = 0; kx < K; kx++)
                        sum_term(e, " + in[%s]", lane(e, tap(op, ch, oy, ox, ky, kx), c));
                sum_term(e, ") * %s", inv);
                sum_end(e);
            }
    emit_close(e);
}

static void avg_gradient_rule(Emitter *e, const Op *op) {
    const lenet_window *W = &op->window;
    emit_line(e, "/* each input of a window gets dout / %d */", W->size * W->size);
}

static void avgpool_backward_kernels(Emitter *e, const Op *op) {
    avg_gradient_rule(e, op);
    window_call(e, op, "avgpool_backward", "dout, din");
}

static void avgpool_backward_loops(Emitter *e, const Op *op) {
    const lenet_window *W = &op->window;
    char inv[32];
    emit_real(e, 1.0 / (W->size * W->size), inv);
    avg_gradient_rule(e, op);
    emit_zero(e, "din", ((long)W->c * W->h * W->w));
    int open = open_windows(e, op, true);
    open += open_taps(e, op);
    emit_line(e, "%s *h = g + f;", e->opt.real);
    emit_lanes(e, "h[$] += d[$] * %s;", inv);
    emit_close_loops(e, open);
}

static void avgpool_backward_unrolled(Emitter *e, const Op *op) {
    const lenet_window *W = &op->window;
    int K = W->size;
    char a[32], c[32], inv[32];
    emit_real(e, 1.0 / (K * K), inv);
    avg_gradient_rule(e, op);
    emit_zero(e, "din", ((long)W->c * W->h * W->w));
    emit_lane_loop(e);
    for (int ch = 0; ch < W->c; ch++)
        for (int oy = 0; oy < W->oh; oy++)
            for (int ox = 0; ox < W->ow; ox++) {
                lane(e, outf(op, ch, oy, ox), a);
                for (int ky = 0; ky < K; ky++)
                    for (int kx = 0; kx < K; kx++)
                        emit_line(e, "din[%s] += dout[%s] * %s;",
                                  lane(e, tap(op, ch, oy, ox, ky, kx), c), a, inv);
            }
    emit_close(e);
}

const RenderFn render_window_loops[N_OPS] = {
    [OP_MAXPOOL] = maxpool_forward_loops,
    [OP_MAXPOOL_GRAD] = maxpool_backward_loops,
    [OP_AVGPOOL] = avgpool_forward_loops,
    [OP_AVGPOOL_GRAD] = avgpool_backward_loops,
};

const RenderFn render_window_unrolled[N_OPS] = {
    [OP_MAXPOOL] = maxpool_forward_unrolled,
    [OP_MAXPOOL_GRAD] = maxpool_backward_unrolled,
    [OP_AVGPOOL] = avgpool_forward_unrolled,
    [OP_AVGPOOL_GRAD] = avgpool_backward_unrolled,
};

const RenderFn render_window_kernels[N_OPS] = {
    [OP_MAXPOOL] = maxpool_forward_kernels,
    [OP_MAXPOOL_GRAD] = maxpool_backward_kernels,
    [OP_AVGPOOL] = avgpool_forward_kernels,
    [OP_AVGPOOL_GRAD] = avgpool_backward_kernels,
};
