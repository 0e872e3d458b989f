/* kernels_depthwise.h: the depthwise convolution's kernels (lenet_depthwise
 * in lenet_kernels.h), part of kernels.h's body: included at its end, once
 * per REAL, with its vector type V and helpers.
 *
 * A channel's kernel is k x k values, too few for a gemm: instead a block
 * of a row's output positions is held in registers, one vector of lanes
 * each, and each row of the kernel is added to it: every input of the row
 * is loaded once, for all the block's taps that read it, and an input in
 * the padding is not loaded (its taps are the ones the loop style skips).
 * The usual kernel (3 x 3, stride 1 or 2) has copies with constant sizes;
 * any other goes one output and one tap at a time. Lanes that fill no
 * vector are summed one at a time, in the same order.
 *
 * DW_R (the target's file): outputs a block holds, at most 16.
 * DW_EDGES (the target's file, 0 if not): 1 for copies of a block with
 * constant bounds at a row's edges too, its inputs' addresses stepped.
 * Measured at ds-cnn's shape: avx2 35 -> 50 % of peak (forward), 33 -> 52 %
 * (input gradient); avx512 55 -> 44-50 %, slower, so off there.
 */
#ifndef DW_EDGES
#define DW_EDGES 0
#endif

/* Feature (ch, y, x) of a tile of H x W channels, as an offset. */
#define AT(d, ch, y, x, H, W) ((((long)(ch) * (H) + (y)) * (W) + (x)) * (d)->tile)

/* Taps [t0, t1) that output o of an axis sees: 0 <= o * s + t - pad < size.
 * Empty when t1 <= t0. */
INLINE void LOCAL(dw_taps_)(int o, int k, int s, int pad, int size, int *t0, int *t1) {
    const int i = o * s - pad;
    *t0 = i < 0 ? -i : 0;
    *t1 = size - i < k ? size - i : k;
}

/* Block q of `blocks` over n outputs, their sizes within one of each
 * other: its first output *at and its size *r. */
INLINE void LOCAL(dw_block_)(int n, int blocks, int q, int *at, int *r) {
    const int base = n / blocks, extra = n % blocks;
    *at = q * base + (q < extra ? q : extra);
    *r = base + (q < extra);
}

/* A switch over a block's size r <= MAX (a constant), each case a copy of
 * FN with r constant. */
#define DW_CASE(R, MAX, FN, ...)                                                               \
    case R:                                                                                    \
        if (R <= (MAX))                                                                        \
            FN(R <= (MAX) ? R : 1, __VA_ARGS__);                                               \
        break;
#define DW_SWITCH(MAX, r, FN, ...)                                                             \
    switch (r) {                                                                               \
        DW_CASE(1, MAX, FN, __VA_ARGS__) DW_CASE(2, MAX, FN, __VA_ARGS__)                      \
        DW_CASE(3, MAX, FN, __VA_ARGS__) DW_CASE(4, MAX, FN, __VA_ARGS__)                      \
        DW_CASE(5, MAX, FN, __VA_ARGS__) DW_CASE(6, MAX, FN, __VA_ARGS__)                      \
        DW_CASE(7, MAX, FN, __VA_ARGS__) DW_CASE(8, MAX, FN, __VA_ARGS__)                      \
        DW_CASE(9, MAX, FN, __VA_ARGS__) DW_CASE(10, MAX, FN, __VA_ARGS__)                     \
        DW_CASE(11, MAX, FN, __VA_ARGS__) DW_CASE(12, MAX, FN, __VA_ARGS__)                    \
        DW_CASE(13, MAX, FN, __VA_ARGS__) DW_CASE(14, MAX, FN, __VA_ARGS__)                    \
        DW_CASE(15, MAX, FN, __VA_ARGS__) DW_CASE(16, MAX, FN, __VA_ARGS__)                    \
    }

/* FN(r, args...) over a row of n outputs, in order, as blocks of at most
 * MAX; the arguments may name ox, the block's first output. */
#define DW_ROW(MAX, n, FN, ...)                                                                \
    do {                                                                                       \
        const int blocks_ = ((n) + (MAX) - 1) / (MAX);                                         \
        for (int q_ = 0; q_ < blocks_; q_++) {                                                 \
            int ox, r_;                                                                        \
            LOCAL(dw_block_)(n, blocks_, q_, &ox, &r_);                                        \
            DW_SWITCH(MAX, r_, FN, __VA_ARGS__)                                                \
        }                                                                                      \
    } while (0)

/* The inputs [q0, q1) of the n a block reads from column c0 on that lie
 * inside a row of `size`. */
INLINE void LOCAL(dw_inside_)(int c0, int n, int size, int *q0, int *q1) {
    *q0 = c0 < 0 ? -c0 : 0;
    *q1 = size - c0 < n ? size - c0 : n;
}

/* The fixed kernel's size: its blocks hold its taps in registers. */
#define DW_K 3

/* FN(args..., q0, q1) with q0 and q1 constants where they can be (fixed,
 * when the kernel is DW_K: its per-input tests of [q0, q1) then fold away)
 * for a block of n inputs inside the row, or at its left or right edge
 * only, one or two of them in the padding (a 16-wide row in blocks of 8
 * has no block inside it); any other block tests each input. Without
 * DW_EDGES, only dw_row_'s copy for a row inside. */
#define DW_CLIP(fixed, n, q0, q1, FN, ...)                                                     \
    do {                                                                                       \
        if (!(fixed) || !DW_EDGES)                                                             \
            FN(__VA_ARGS__, q0, q1);                                                           \
        else if ((q0) == 0 && (q1) == (n))                                                     \
            FN(__VA_ARGS__, 0, n);                                                             \
        else if ((q0) == 1 && (q1) == (n))                                                     \
            FN(__VA_ARGS__, 1, n);                                                             \
        else if ((q0) == 0 && (q1) == (n) - 1)                                                 \
            FN(__VA_ARGS__, 0, (n) - 1);                                                       \
        else if ((q0) == 2 && (q1) == (n))                                                     \
            FN(__VA_ARGS__, 2, n);                                                             \
        else if ((q0) == 0 && (q1) == (n) - 2)                                                 \
            FN(__VA_ARGS__, 0, (n) - 2);                                                       \
        else                                                                                   \
            FN(__VA_ARGS__, q0, q1);                                                           \
    } while (0)

/* acc[i] += wv[kx] x row[c0 + i * S + kx] for a block's r outputs, over
 * the taps kx < DW_K whose input q = i * S + kx is in [q0, q1), in order of
 * kx; each input loaded once, for every tap that reads it. */
INLINE void LOCAL(dw_row_taps_)(const int r, const int S, V *acc, const V *wv, const REAL *row,
                                int c0, long T, const int q0, const int q1) {
    const REAL *p = row + (long)c0 * T; /* DW_EDGES: input q, stepped (no index register each) */
    UNROLL for (int q = 0; q < (r - 1) * S + DW_K; q++, p += T) {
        if (q < q0 || q >= q1)
            continue; /* padding */
        const V x = LOCAL(load_)(DW_EDGES ? p : row + (c0 + q) * T);
        UNROLL for (int kx = 0; kx < DW_K; kx++)
            if (q >= kx && (q - kx) % S == 0 && (q - kx) / S < r)
                acc[(q - kx) / S] += wv[kx] * x;
    }
}

/* acc[i] += wr[kx * ws] x row[c0 + i * S + kx] for a block's r outputs,
 * over the taps kx < K whose input q = i * S + kx is in [q0, q1), in order
 * of kx: one row of a kernel (ws = -1: read backwards) on a row of inputs
 * T apart. The fixed kernel (K = DW_K, S a constant) goes by dw_row_taps_
 * (q0 and q1 constants by DW_CLIP when they can be); any other has blocks
 * of one (r = 1) and goes tap by tap. */
INLINE void LOCAL(dw_row_)(const int r, const int K, const int S, const int fixed, V *acc,
                           const REAL *wr, int ws, const REAL *row, int c0, long T, int q0,
                           int q1) {
    if (!fixed) {
        const REAL *x = row + (c0 + q0) * T;
        for (int kx = q0; kx < q1 && kx < K; kx++, x += T)
            acc[0] += LOCAL(splat_)(wr[kx * ws]) * LOCAL(load_)(x);
        return;
    }
    V wv[DW_K];
    UNROLL for (int kx = 0; kx < DW_K; kx++)
        wv[kx] = LOCAL(splat_)(wr[kx * ws]);
    const int n = (r - 1) * S + DW_K;
    if (!DW_EDGES && q0 == 0 && q1 == n)
        LOCAL(dw_row_taps_)(r, S, acc, wv, row, c0, T, 0, n);
    else
        LOCAL(dw_row_taps_)(r, S, acc, wv, row, c0, T, q0, q1);
}

/* ---- forward ------------------------------------------------------------- */

/* Outputs ox .. ox + r - 1 of row oy of one channel, VL lanes from x (the
 * input channel) and o (the output row), its inputs [q0, q1) inside the
 * row: bias, then taps ky in [ky0, ky1) and kx in order, those in the
 * padding left out. */
INLINE void LOCAL(dw_forward_clip_)(const int r, const lenet_depthwise *d, const int K,
                                    const int S, const int fixed, const REAL *wk, const REAL *x,
                                    REAL *o, REAL b0, int oy, int ky0, int ky1, int ox, int relu,
                                    const int q0, const int q1) {
    const long T = d->tile;
    const int c0 = ox * S - d->pl;
    V acc[DW_R];
    UNROLL for (int i = 0; i < r; i++)
        acc[i] = LOCAL(splat_)(b0);
    for (int ky = ky0; ky < ky1; ky++)
        LOCAL(dw_row_)(r, K, S, fixed, acc, wk + ky * K, 1,
                       x + (long)(oy * S - d->pt + ky) * d->w * T, c0, T, q0, q1);
    UNROLL for (int i = 0; i < r; i++)
        LOCAL(store_)(o + (ox + i) * T, relu ? LOCAL(relu_)(acc[i]) : acc[i]);
}

INLINE void LOCAL(dw_forward_block_)(const int r, const lenet_depthwise *d, const int K,
                                     const int S, const int fixed, const REAL *wk, const REAL *x,
                                     REAL *o, REAL b0, int oy, int ky0, int ky1, int ox,
                                     int relu) {
    const int n = (r - 1) * S + K;
    int q0, q1;
    LOCAL(dw_inside_)(ox * S - d->pl, n, d->w, &q0, &q1);
    DW_CLIP(fixed, n, q0, q1, LOCAL(dw_forward_clip_), r, d, K, S, fixed, wk, x, o, b0, oy, ky0,
            ky1, ox, relu);
}

/* The lanes [b0, T) that fill no vector, one at a time, in the same order. */
static void LOCAL(dw_forward_lanes_)(const lenet_depthwise *d, const REAL *w, const REAL *in,
                                     REAL *out, const REAL *bias, int b0) {
    const int K = d->k, S = d->stride;
    for (int co = 0; co < d->c * d->mult; co++)
        for (int oy = 0; oy < d->oh; oy++)
            for (int ox = 0; ox < d->ow; ox++) {
                int ky0, ky1, kx0, kx1;
                LOCAL(dw_taps_)(oy, K, S, d->pt, d->h, &ky0, &ky1);
                LOCAL(dw_taps_)(ox, K, S, d->pl, d->w, &kx0, &kx1);
                REAL *o = out + AT(d, co, oy, ox, d->oh, d->ow);
                for (int b = b0; b < d->tile; b++) {
                    REAL s = bias ? bias[co] : 0;
                    for (int ky = ky0; ky < ky1; ky++)
                        for (int kx = kx0; kx < kx1; kx++)
                            s += w[((long)co * K + ky) * K + kx] *
                                 in[AT(d, co / d->mult, oy * S - d->pt + ky, ox * S - d->pl + kx,
                                       d->h, d->w) + b];
                    o[b] = (d->flags & LENET_RELU) && !(s > 0) ? 0 : s;
                }
            }
}

/* fixed: K and S are constants (blocks of DW_R), else blocks of one */
INLINE void LOCAL(dw_forward_)(const lenet_depthwise *d, const REAL *w, const REAL *in,
                               REAL *out, const REAL *bias, const int K, const int S,
                               const int fixed) {
    const int TV = d->tile / VL * VL, relu = (d->flags & LENET_RELU) != 0;
    for (int co = 0; co < d->c * d->mult; co++) {
        const REAL *wk = w + (long)co * K * K;
        const REAL b0 = bias ? bias[co] : 0;
        for (int oy = 0; oy < d->oh; oy++) {
            int ky0, ky1;
            LOCAL(dw_taps_)(oy, K, S, d->pt, d->h, &ky0, &ky1);
            for (int b = 0; b < TV; b += VL) {
                const REAL *x = in + AT(d, co / d->mult, 0, 0, d->h, d->w) + b;
                REAL *o = out + AT(d, co, oy, 0, d->oh, d->ow) + b;
                DW_ROW(fixed ? DW_R : 1, d->ow, LOCAL(dw_forward_block_), d, K, S, fixed, wk, x,
                       o, b0, oy, ky0, ky1, ox, relu);
            }
        }
    }
    if (TV < d->tile)
        LOCAL(dw_forward_lanes_)(d, w, in, out, bias, TV);
}

void KFN(depthwise_forward)(const lenet_depthwise *d, const REAL *w, const REAL *in, REAL *out,
                            const REAL *bias) {
    if (d->k == DW_K && d->stride == 1)
        LOCAL(dw_forward_)(d, w, in, out, bias, DW_K, 1, 1);
    else if (d->k == DW_K && d->stride == 2)
        LOCAL(dw_forward_)(d, w, in, out, bias, DW_K, 2, 1);
    else
        LOCAL(dw_forward_)(d, w, in, out, bias, d->k, d->stride, 0);
}

/* ---- input gradient -------------------------------------------------------- */

/* Output (oy, ox) of an axis pair that input (iy, ix) meets through tap
 * (ky, kx): 1 if there is one (oy * S + ky - pt = iy, inside the output). */
INLINE int LOCAL(dw_meets_)(int i, int t, int s, int pad, int out, int *o) {
    const int p = i + pad - t;
    *o = p / s;
    return p >= 0 && p % s == 0 && *o < out;
}

/* Stride 1: an input's taps, from the last, are an output's of padding
 * K - 1 - pad in order (t = K - 1 - ky: its outputs in (oy, ox) order), so
 * the input gradient is the forward pass over dout with the kernel
 * flipped, summed over the channel's outputs j. Inputs ix .. ix + r - 1 of
 * row iy of channel ch, VL lanes from wc and dc (the weights and dout of
 * its first output channel) and g (the din row), its dout [q0, q1) inside
 * the row. */
INLINE void LOCAL(dw_input_clip_)(const int r, const lenet_depthwise *d, const int K,
                                  const int fixed, const REAL *wc, const REAL *dc, REAL *g, int iy,
                                  int ty0, int ty1, int ix, const int q0, const int q1) {
    const long T = d->tile, plane = (long)d->oh * d->ow * T;
    const int fy = K - 1 - d->pt, c0 = ix - (K - 1 - d->pl); /* the flipped kernel's padding */
    V acc[DW_R];
    UNROLL for (int i = 0; i < r; i++)
        acc[i] = LOCAL(splat_)(0);
    for (int j = 0; j < d->mult; j++)
        for (int ty = ty0; ty < ty1; ty++) /* w[j][K - 1 - ty][K - 1 - tx] */
            LOCAL(dw_row_)(r, K, 1, fixed, acc, wc + ((long)j * K + K - 1 - ty) * K + K - 1, -1,
                           dc + j * plane + (long)(iy - fy + ty) * d->ow * T, c0, T, q0, q1);
    UNROLL for (int i = 0; i < r; i++)
        LOCAL(store_)(g + (ix + i) * T, acc[i]);
}

INLINE void LOCAL(dw_input_block_)(const int r, const lenet_depthwise *d, const int K,
                                   const int fixed, const REAL *wc, const REAL *dc, REAL *g,
                                   int iy, int ty0, int ty1, int ix) {
    const int n = r - 1 + K;
    int q0, q1;
    LOCAL(dw_inside_)(ix - (K - 1 - d->pl), n, d->ow, &q0, &q1);
    DW_CLIP(fixed, n, q0, q1, LOCAL(dw_input_clip_), r, d, K, fixed, wc, dc, g, iy, ty0, ty1, ix);
}

INLINE void LOCAL(dw_input_s1_)(const lenet_depthwise *d, const REAL *w, const REAL *dout,
                                REAL *din, const int K, const int fixed, int TV) {
    for (int ch = 0; ch < d->c; ch++) {
        const REAL *wc = w + (long)ch * d->mult * K * K;
        for (int iy = 0; iy < d->h; iy++) {
            int ty0, ty1;
            LOCAL(dw_taps_)(iy, K, 1, K - 1 - d->pt, d->oh, &ty0, &ty1);
            for (int b = 0; b < TV; b += VL) {
                const REAL *dc = dout + AT(d, ch * d->mult, 0, 0, d->oh, d->ow) + b;
                REAL *g = din + AT(d, ch, iy, 0, d->h, d->w) + b;
                DW_ROW(fixed ? DW_R : 1, d->w, LOCAL(dw_input_block_), d, K, fixed, wc, dc, g, iy,
                       ty0, ty1, ox);
            }
        }
    }
}

/* Any stride, one input at a time: lanes [b0, b1), VL at a time when
 * vector (the rest one by one), the same order as the blocks. */
static void LOCAL(dw_input_any_)(const lenet_depthwise *d, const REAL *w, const REAL *dout,
                                 REAL *din, int b0, int vector) {
    const int K = d->k, S = d->stride;
    const long T = d->tile;
    for (int ch = 0; ch < d->c; ch++)
        for (int iy = 0; iy < d->h; iy++)
            for (int ix = 0; ix < d->w; ix++) {
                REAL *g = din + AT(d, ch, iy, ix, d->h, d->w);
                for (int b = b0; b < T; b += vector ? VL : 1) {
                    if (vector && b + VL > T)
                        break;
                    V acc = LOCAL(splat_)(0);
                    REAL s = 0;
                    for (int j = 0; j < d->mult; j++) {
                        const int co = ch * d->mult + j;
                        for (int ky = K - 1; ky >= 0; ky--) {
                            int oy, ox;
                            if (!LOCAL(dw_meets_)(iy, ky, S, d->pt, d->oh, &oy))
                                continue;
                            for (int kx = K - 1; kx >= 0; kx--) {
                                if (!LOCAL(dw_meets_)(ix, kx, S, d->pl, d->ow, &ox))
                                    continue;
                                const REAL wv = w[((long)co * K + ky) * K + kx];
                                const REAL *dp = dout + AT(d, co, oy, ox, d->oh, d->ow) + b;
                                if (vector)
                                    acc += LOCAL(splat_)(wv) * LOCAL(load_)(dp);
                                else
                                    s += wv * *dp;
                            }
                        }
                    }
                    if (vector)
                        LOCAL(store_)(g + b, acc);
                    else
                        g[b] = s;
                }
            }
}

void KFN(depthwise_input_grad)(const lenet_depthwise *d, const REAL *w, const REAL *dout,
                               REAL *din) {
    const int TV = d->tile / VL * VL;
    if (d->stride == 1 && d->k == DW_K)
        LOCAL(dw_input_s1_)(d, w, dout, din, DW_K, 1, TV);
    else if (d->stride == 1)
        LOCAL(dw_input_s1_)(d, w, dout, din, d->k, 0, TV);
    else
        LOCAL(dw_input_any_)(d, w, dout, din, 0, 1);
    if (TV < d->tile)
        LOCAL(dw_input_any_)(d, w, dout, din, TV, 0);
}

/* ---- weight gradient ------------------------------------------------------- */

/* acc[kx] += dv[i] x row[c0 + i * S + kx] for a block's r outputs, for
 * the taps kx < DW_K whose input q = i * S + kx is in [q0, q1), output by
 * output; each input loaded once, for every tap that reads it. */
INLINE void LOCAL(dw_weight_row_)(const int r, const int S, V *acc, const V *dv, const REAL *row,
                                  int c0, long T, const int q0, const int q1) {
    UNROLL for (int q = 0; q < (r - 1) * S + DW_K; q++) {
        if (q < q0 || q >= q1)
            continue; /* padding */
        const V x = LOCAL(load_)(row + (c0 + q) * T);
        UNROLL for (int kx = 0; kx < DW_K; kx++)
            if (q >= kx && (q - kx) % S == 0 && (q - kx) / S < r)
                acc[kx] += dv[(q - kx) / S] * x;
    }
}

/* Outputs ox .. ox + r - 1 of row oy of channel co, VL lanes of dout from
 * dc (the channel) and of its input channel from x: dout added to the
 * bias' sum, dout x in to tap (ky, kx)'s, acc[ky * DW_K + kx], for ky in
 * [ky0, ky1) (the sums' indices stay constants: registers); a copy for
 * blocks that see no padding. */
INLINE void LOCAL(dw_weight_block_)(const int r, const lenet_depthwise *d, const int S,
                                    const REAL *dc, const REAL *x, V *acc, V *accb, int oy,
                                    int ky0, int ky1, int ox) {
    const long T = d->tile;
    const int c0 = ox * S - d->pl, n = (r - 1) * S + DW_K;
    int q0, q1;
    LOCAL(dw_inside_)(c0, n, d->w, &q0, &q1);
    V dv[DW_R];
    UNROLL for (int i = 0; i < r; i++) {
        dv[i] = LOCAL(load_)(dc + ((long)oy * d->ow + ox + i) * T);
        *accb += dv[i];
    }
    UNROLL for (int ky = 0; ky < DW_K; ky++) {
        if (ky < ky0 || ky >= ky1)
            continue;
        const REAL *row = x + (long)(oy * S - d->pt + ky) * d->w * T;
        if (q0 == 0 && q1 == n)
            LOCAL(dw_weight_row_)(r, S, acc + ky * DW_K, dv, row, c0, T, 0, n);
        else
            LOCAL(dw_weight_row_)(r, S, acc + ky * DW_K, dv, row, c0, T, q0, q1);
    }
}

/* Lanes [b0, T) of tap (ky, kx)'s sum (ky < 0: the bias'), one at a time. */
static REAL LOCAL(dw_weight_lanes_)(const lenet_depthwise *d, const REAL *dout, const REAL *in,
                                    int co, int ky, int kx, int b0) {
    REAL s = 0;
    for (int b = b0; b < d->tile; b++)
        for (int oy = 0; oy < d->oh; oy++)
            for (int ox = 0; ox < d->ow; ox++) {
                const REAL dv = dout[AT(d, co, oy, ox, d->oh, d->ow) + b];
                const int iy = oy * d->stride - d->pt + ky, ix = ox * d->stride - d->pl + kx;
                if (ky < 0)
                    s += dv;
                else if (iy >= 0 && iy < d->h && ix >= 0 && ix < d->w)
                    s += dv * in[AT(d, co / d->mult, iy, ix, d->h, d->w) + b];
            }
    return s;
}

/* The fixed kernel: a channel's DW_K x DW_K taps and its bias summed at
 * once, in registers; blocks of DW_R / 2 outputs (their dout beside the
 * sums). */
INLINE void LOCAL(dw_weight_fixed_)(const lenet_depthwise *d, const REAL *dout, const REAL *in,
                                  REAL *gw, REAL *gb, const int S) {
    const int TV = d->tile / VL * VL;
    for (int co = 0; co < d->c * d->mult; co++) {
        V acc[DW_K * DW_K], accb = LOCAL(splat_)(0);
        UNROLL for (int t = 0; t < DW_K * DW_K; t++)
            acc[t] = LOCAL(splat_)(0);
        for (int b = 0; b < TV; b += VL) {
            const REAL *dc = dout + AT(d, co, 0, 0, d->oh, d->ow) + b;
            const REAL *x = in + AT(d, co / d->mult, 0, 0, d->h, d->w) + b;
            for (int oy = 0; oy < d->oh; oy++) {
                int ky0, ky1;
                LOCAL(dw_taps_)(oy, DW_K, S, d->pt, d->h, &ky0, &ky1);
                DW_ROW(DW_R / 2, d->ow, LOCAL(dw_weight_block_), d, S, dc, x, acc, &accb, oy, ky0,
                       ky1, ox);
            }
        }
        UNROLL for (int t = 0; t < DW_K * DW_K; t++)
            gw[(long)co * DW_K * DW_K + t] +=
                LOCAL(hsum_)(acc[t]) +
                LOCAL(dw_weight_lanes_)(d, dout, in, co, t / DW_K, t % DW_K, TV);
        if (gb)
            gb[co] += LOCAL(hsum_)(accb) + LOCAL(dw_weight_lanes_)(d, dout, in, co, -1, 0, TV);
    }
}

/* Any kernel: one tap (and the bias) at a time. */
static void LOCAL(dw_weight_any_)(const lenet_depthwise *d, const REAL *dout, const REAL *in,
                                  REAL *gw, REAL *gb) {
    const int K = d->k, S = d->stride, TV = d->tile / VL * VL;
    for (int co = 0; co < d->c * d->mult; co++) {
        const REAL *dc = dout + AT(d, co, 0, 0, d->oh, d->ow);
        const REAL *x = in + AT(d, co / d->mult, 0, 0, d->h, d->w);
        if (gb) {
            V acc = LOCAL(splat_)(0);
            for (int b = 0; b < TV; b += VL)
                for (long p = 0; p < (long)d->oh * d->ow; p++)
                    acc += LOCAL(load_)(dc + p * d->tile + b);
            gb[co] += LOCAL(hsum_)(acc) + LOCAL(dw_weight_lanes_)(d, dout, in, co, -1, 0, TV);
        }
        for (int ky = 0; ky < K; ky++)
            for (int kx = 0; kx < K; kx++) {
                V acc = LOCAL(splat_)(0);
                for (int b = 0; b < TV; b += VL)
                    for (int oy = 0; oy < d->oh; oy++) {
                        const int iy = oy * S - d->pt + ky;
                        if (iy < 0 || iy >= d->h)
                            continue;
                        for (int ox = 0; ox < d->ow; ox++) {
                            const int ix = ox * S - d->pl + kx;
                            if (ix >= 0 && ix < d->w)
                                acc += LOCAL(load_)(dc + ((long)oy * d->ow + ox) * d->tile + b) *
                                       LOCAL(load_)(x + ((long)iy * d->w + ix) * d->tile + b);
                        }
                    }
                gw[((long)co * K + ky) * K + kx] +=
                    LOCAL(hsum_)(acc) + LOCAL(dw_weight_lanes_)(d, dout, in, co, ky, kx, TV);
            }
    }
}

void KFN(depthwise_weight_grad)(const lenet_depthwise *d, const REAL *dout, const REAL *in,
                                REAL *gw, REAL *gb) {
    if (d->k == DW_K && d->stride == 1)
        LOCAL(dw_weight_fixed_)(d, dout, in, gw, gb, 1);
    else if (d->k == DW_K && d->stride == 2)
        LOCAL(dw_weight_fixed_)(d, dout, in, gw, gb, 2);
    else
        LOCAL(dw_weight_any_)(d, dout, in, gw, gb);
}
#undef AT
