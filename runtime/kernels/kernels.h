/* kernels.h: the body of every target's kernels (see lenet_kernels.h for
 * what each computes). kernels_<target>.c includes it twice, with REAL
 * float and with REAL double (kernels_target.h does that), after defining
 *   TARGET           its name: lenet_<TARGET>_sgemm, ...
 *   VBYTES           bytes in one vector register
 *   GEMM_MR, GEMM_NV lenet_gemm's register block: MR rows x NV vectors
 *   DOT_MR, DOT_KR   lenet_gemm_dot's block: MR rows x KR terms
 *   DW_R             the depthwise kernels' block: DW_R output positions
 *   DW_EDGES         (optional) the depthwise kernels' edge copies (kernels_depthwise.h)
 * Accumulators must fit the register file with room for the operands:
 * MR * NV + NV + 1 (gemm) and MR * KR + MR + 1 (dot) vectors; DW_R + 3
 * (depthwise), and 9 + 1 + DW_R / 2 (its weight gradient).
 *
 * Plain C with gcc's vector types: the compiler flags of the target's file
 * (-march=..., -ffp-contract=fast: multiply-adds are fused where the ISA
 * has FMA) pick the instructions. Every sum has a fixed order, so a target
 * gives the same bits run to run.
 */
#include "lenet_kernels.h"
#include "lenet_target.h" /* lenet_symbol, for the JIT's table */

#ifndef KERNELS_H_ONCE
#define KERNELS_H_ONCE
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define KFN3_(t, p, n) lenet_##t##_##p##n
#define KFN3(t, p, n) KFN3_(t, p, n)
/* the exported name of kernel n: lenet_avx2_sgemm */
#define KFN(n) KFN3(TARGET, P, n)
/* a file-local name, one per REAL */
#define LOCAL(n) CAT(n, P)
#define INLINE static inline __attribute__((always_inline))
/* the loops over a block's registers must unroll completely */
#define UNROLL _Pragma("GCC unroll 32")
/* where a gemm's sums start */
enum { START_ZERO, START_BIAS, START_C };
/* terms of a sum whose offsets are tabulated at once */
#define KCHUNK 256
#define SYMBOL(n) {"lenet_" #n, (void *)KFN3(TARGET, , n)}
#define KSYMBOLS_(t) lenet_##t##_symbols
#define KSYMBOLS(t) KSYMBOLS_(t)
/* the JIT's table: generic name -> this target's kernel */
#define KERNEL_SYMBOLS(table)                                                                  \
    const lenet_symbol table[] = {                                                             \
        SYMBOL(sgemm), SYMBOL(dgemm), SYMBOL(sgemm_dot), SYMBOL(dgemm_dot),                    \
        SYMBOL(ssum_rows), SYMBOL(dsum_rows), SYMBOL(stranspose), SYMBOL(dtranspose),          \
        SYMBOL(smaxpool_forward), SYMBOL(dmaxpool_forward), SYMBOL(smaxpool_backward),         \
        SYMBOL(dmaxpool_backward), SYMBOL(savgpool_forward), SYMBOL(davgpool_forward),         \
        SYMBOL(savgpool_backward), SYMBOL(davgpool_backward), SYMBOL(srelu_forward),           \
        SYMBOL(drelu_forward), SYMBOL(srelu_backward), SYMBOL(drelu_backward), SYMBOL(szero),  \
        SYMBOL(dzero), SYMBOL(sbn_sums), SYMBOL(dbn_sums), SYMBOL(sbn_normalize),              \
        SYMBOL(dbn_normalize), SYMBOL(sbn_affine), SYMBOL(dbn_affine), SYMBOL(sbn_grad),       \
        SYMBOL(dbn_grad), SYMBOL(sdepthwise_forward), SYMBOL(ddepthwise_forward),              \
        SYMBOL(sdepthwise_input_grad), SYMBOL(ddepthwise_input_grad),                          \
        SYMBOL(sdepthwise_weight_grad), SYMBOL(ddepthwise_weight_grad), {0, 0}}
#endif

#undef P
#undef VL
#undef V
#undef VLANES
#ifdef REAL_IS_DOUBLE /* the target's file defines it with REAL double */
#define P d
#define VLANES (VBYTES / 8)
typedef long long LOCAL(bits_);
#else
#define P s
#define VLANES (VBYTES / 4)
typedef int LOCAL(bits_);
#endif
#define VL VLANES
typedef REAL LOCAL(vec_) __attribute__((vector_size(VBYTES)));
typedef REAL LOCAL(uvec_) __attribute__((vector_size(VBYTES), aligned(sizeof(REAL)), may_alias));
typedef LOCAL(bits_) LOCAL(mask_) __attribute__((vector_size(VBYTES)));
#define V LOCAL(vec_)

INLINE V LOCAL(load_)(const REAL *p) { return *(const LOCAL(uvec_) *)p; }
INLINE void LOCAL(store_)(REAL *p, V v) { *(LOCAL(uvec_) *)p = v; }
/* x in every lane (a broadcast; not (V){0} + x, which is an addition:
 * -0 + 0 = +0) */
#if VLANES == 2
#define SPLAT(x) {x, x}
#elif VLANES == 4
#define SPLAT(x) {x, x, x, x}
#elif VLANES == 8
#define SPLAT(x) {x, x, x, x, x, x, x, x}
#elif VLANES == 16
#define SPLAT(x) {x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x}
#endif
INLINE V LOCAL(splat_)(REAL x) { return (V)SPLAT(x); }
#undef SPLAT
/* max(x, 0) as the loop style's x > 0 ? x : 0 (NaN and -0 give +0); C has
 * no ?: on vectors, so through the comparison's mask */
INLINE V LOCAL(relu_)(V x) { return (V)((LOCAL(mask_))(x > 0) & (LOCAL(mask_))x); }

/* Offsets of terms first .. first + n - 1 of a k box, in A and in B. */
static void LOCAL(box_offsets_)(const int k[3], const long as[3], const long bs[3], long first,
                                int n, long *ao, long *bo) {
    if (n <= 0)
        return;
    long i0 = first / ((long)k[1] * k[2]), rest = first % ((long)k[1] * k[2]);
    long i1 = rest / k[2], i2 = rest % k[2];
    for (int t = 0; t < n; t++) {
        ao[t] = i0 * as[0] + i1 * as[1] + i2 * as[2];
        bo[t] = i0 * bs[0] + i1 * bs[1] + i2 * bs[2];
        if (++i2 == k[2]) {
            i2 = 0;
            if (++i1 == k[1])
                i1 = 0, i0++;
        }
    }
}

/* ---- lenet_gemm ---------------------------------------------------------- */

/* The register budget: GEMM_MR x GEMM_NV accumulators, spent as more rows
 * when a block has fewer vectors (a dense layer's tile is one or two). */
#define GEMM_ACC (GEMM_MR * GEMM_NV)
#define GEMM_ROWS(nv) (GEMM_ACC / (nv) < 24 ? GEMM_ACC / (nv) : 24)

/* mr rows x nv vectors of C, over kn terms. mr and nv are constants at each
 * call, so the accumulators live in registers. */
INLINE void LOCAL(gemm_tile_)(const int mr, const int nv, int kn, const long *ao, const long *bo,
                              const REAL *a, long a_row, const REAL *b, REAL *c, long c_row,
                              int start, const REAL *bias, int relu) {
    V acc[GEMM_ROWS(1)][GEMM_NV];
    UNROLL for (int m = 0; m < mr; m++)
        UNROLL for (int v = 0; v < nv; v++)
            acc[m][v] = start == START_C      ? LOCAL(load_)(c + m * c_row + v * VL)
                        : start == START_BIAS ? LOCAL(splat_)(bias[m])
                                              : LOCAL(splat_)(0);
    for (int k = 0; k < kn; k++) {
        const REAL *bk = b + bo[k], *ak = a + ao[k];
        V bv[GEMM_NV];
        UNROLL for (int v = 0; v < nv; v++)
            bv[v] = LOCAL(load_)(bk + v * VL);
        UNROLL for (int m = 0; m < mr; m++) {
            const V av = LOCAL(splat_)(ak[m * a_row]);
            UNROLL for (int v = 0; v < nv; v++)
                acc[m][v] += av * bv[v];
        }
    }
    UNROLL for (int m = 0; m < mr; m++)
        UNROLL for (int v = 0; v < nv; v++)
            LOCAL(store_)(c + m * c_row + v * VL, relu ? LOCAL(relu_)(acc[m][v]) : acc[m][v]);
}

/* The lanes of a group that do not fill a vector, one at a time. */
static void LOCAL(gemm_lanes_)(int mr, int lanes, int kn, const long *ao, const long *bo,
                               const REAL *a, long a_row, const REAL *b, REAL *c, long c_row,
                               int start, const REAL *bias, int relu) {
    for (int m = 0; m < mr; m++)
        for (int j = 0; j < lanes; j++) {
            REAL s = start == START_C ? c[m * c_row + j] : start == START_BIAS ? bias[m] : 0;
            for (int k = 0; k < kn; k++)
                s += a[ao[k] + m * a_row] * b[bo[k] + j];
            c[m * c_row + j] = relu && !(s > 0) ? 0 : s;
        }
}

/* A block of mr rows and nv vectors, dispatched to its constant version:
 * case nv * 32 + mr for every pair the budget allows. */
#define GEMM_ARGS kn, ao, bo, a, a_row, b, c, c_row, start, bias, relu
#define GEMM_OK(NV, MR) ((NV) <= GEMM_NV && (MR) <= GEMM_ROWS(NV))
#define GEMM_CASE(NV, MR)                                                                      \
    case NV * 32 + MR:                                                                         \
        if (GEMM_OK(NV, MR))                                                                   \
            LOCAL(gemm_tile_)(GEMM_OK(NV, MR) ? MR : 1, GEMM_OK(NV, MR) ? NV : 1, GEMM_ARGS);   \
        break;
#define GEMM_CASES(NV)                                                                         \
    GEMM_CASE(NV, 1) GEMM_CASE(NV, 2) GEMM_CASE(NV, 3) GEMM_CASE(NV, 4) GEMM_CASE(NV, 5)       \
    GEMM_CASE(NV, 6) GEMM_CASE(NV, 7) GEMM_CASE(NV, 8) GEMM_CASE(NV, 9) GEMM_CASE(NV, 10)      \
    GEMM_CASE(NV, 11) GEMM_CASE(NV, 12) GEMM_CASE(NV, 13) GEMM_CASE(NV, 14) GEMM_CASE(NV, 15)  \
    GEMM_CASE(NV, 16) GEMM_CASE(NV, 17) GEMM_CASE(NV, 18) GEMM_CASE(NV, 19) GEMM_CASE(NV, 20)  \
    GEMM_CASE(NV, 21) GEMM_CASE(NV, 22) GEMM_CASE(NV, 23) GEMM_CASE(NV, 24)

static void LOCAL(gemm_block_)(int mr, int nv, int kn, const long *ao, const long *bo,
                               const REAL *a, long a_row, const REAL *b, REAL *c, long c_row,
                               int start, const REAL *bias, int relu) {
    switch (nv * 32 + mr) {
        GEMM_CASES(1) GEMM_CASES(2) GEMM_CASES(3) GEMM_CASES(4)
    }
}

void KFN(gemm)(const lenet_gemm *g, const REAL *a, const REAL *b, REAL *c, const REAL *bias) {
    const long K = (long)g->k[0] * g->k[1] * g->k[2];
    const int relu_flag = (g->flags & LENET_RELU) != 0;
    long ao[KCHUNK], bo[KCHUNK];
    /* K in chunks: each chunk's terms are tabulated once and serve every
     * block; a later chunk continues the sums from C, in the same order */
    for (long k0 = 0; k0 == 0 || k0 < K; k0 += KCHUNK) {
        const int kn = K - k0 < KCHUNK ? (int)(K - k0) : KCHUNK;
        LOCAL(box_offsets_)(g->k, g->a_k, g->b_k, k0, kn, ao, bo);
        const int start = k0 > 0 || (g->flags & LENET_ACCUMULATE) ? START_C
                          : bias                                  ? START_BIAS
                                                                  : START_ZERO;
        const int relu = relu_flag && k0 + kn >= K;
        for (int g0 = 0; g0 < g->groups[0]; g0++)
            for (int g1 = 0; g1 < g->groups[1]; g1++) {
                const REAL *bg = b + g0 * g->b_g[0] + g1 * g->b_g[1];
                REAL *cg = c + g0 * g->c_g[0] + g1 * g->c_g[1];
                /* blocks of nv vectors (a short one ends the group), each
                 * for all rows, GEMM_ROWS(nv) at a time */
                int j = 0;
                for (int nv; (nv = (g->width - j) / VL) > 0; j += nv * VL) {
                    nv = nv < GEMM_NV ? nv : GEMM_NV;
                    for (int m0 = 0; m0 < g->m; m0 += GEMM_ROWS(nv)) {
                        const int mr = g->m - m0 < GEMM_ROWS(nv) ? g->m - m0 : GEMM_ROWS(nv);
                        LOCAL(gemm_block_)(mr, nv, kn, ao, bo, a + m0 * g->a_row, g->a_row,
                                           bg + j, cg + m0 * g->c_row + j, g->c_row, start,
                                           bias ? bias + m0 : 0, relu);
                    }
                }
                for (int m0 = 0; j < g->width && m0 < g->m; m0 += GEMM_MR) {
                    const int mr = g->m - m0 < GEMM_MR ? g->m - m0 : GEMM_MR;
                    LOCAL(gemm_lanes_)(mr, g->width - j, kn, ao, bo, a + m0 * g->a_row, g->a_row,
                                       bg + j, cg + m0 * g->c_row + j, g->c_row, start,
                                       bias ? bias + m0 : 0, relu);
                }
            }
    }
}

/* ---- lenet_gemm_dot ------------------------------------------------------ */

/* The lanes' sum, pairwise: lanes i and i + VL/2, then again on the half. */
INLINE REAL LOCAL(hsum_)(V v) {
    REAL t[VL];
    __builtin_memcpy(t, &v, sizeof t);
    for (int w = VL / 2; w > 0; w /= 2)
        for (int i = 0; i < w; i++)
            t[i] += t[i + w];
    return t[0];
}

/* mr rows x kr terms of C; each accumulator sums over all groups and lanes. */
INLINE void LOCAL(dot_tile_)(const int mr, const int kr, const lenet_gemm_dot *g, const REAL *a,
                             const REAL *b, const long *bo, REAL *c, const long *co) {
    V acc[DOT_MR][DOT_KR];
    REAL tail[DOT_MR][DOT_KR];
    UNROLL for (int m = 0; m < mr; m++)
        UNROLL for (int k = 0; k < kr; k++)
            acc[m][k] = LOCAL(splat_)(0), tail[m][k] = 0;
    const int W = g->width, WV = W / VL * VL;
    for (int g0 = 0; g0 < g->groups[0]; g0++)
        for (int g1 = 0; g1 < g->groups[1]; g1++) {
            const REAL *ag = a + g0 * g->a_g[0] + g1 * g->a_g[1];
            const REAL *bg = b + g0 * g->b_g[0] + g1 * g->b_g[1];
            for (int j = 0; j < WV; j += VL) {
                V av[DOT_MR];
                UNROLL for (int m = 0; m < mr; m++)
                    av[m] = LOCAL(load_)(ag + m * g->a_row + j);
                UNROLL for (int k = 0; k < kr; k++) {
                    const V bv = LOCAL(load_)(bg + bo[k] + j);
                    UNROLL for (int m = 0; m < mr; m++)
                        acc[m][k] += av[m] * bv;
                }
            }
            for (int j = WV; j < W; j++)
                for (int m = 0; m < mr; m++)
                    for (int k = 0; k < kr; k++)
                        tail[m][k] += ag[m * g->a_row + j] * bg[bo[k] + j];
        }
    for (int m = 0; m < mr; m++)
        for (int k = 0; k < kr; k++)
            c[m * g->c_row + co[k]] += LOCAL(hsum_)(acc[m][k]) + tail[m][k];
}

#define DOT_KR_CASES(MR)                                                                       \
    switch (kr) {                                                                              \
    case 1: LOCAL(dot_tile_)(MR, 1, g, am, b, bo, cm, co); break;                                \
    case 2: if (DOT_KR >= 2) LOCAL(dot_tile_)(MR, 2 <= DOT_KR ? 2 : 1, g, am, b, bo, cm, co); break; \
    case 3: if (DOT_KR >= 3) LOCAL(dot_tile_)(MR, 3 <= DOT_KR ? 3 : 1, g, am, b, bo, cm, co); break; \
    case 4: if (DOT_KR >= 4) LOCAL(dot_tile_)(MR, 4 <= DOT_KR ? 4 : 1, g, am, b, bo, cm, co); break; \
    case 5: if (DOT_KR >= 5) LOCAL(dot_tile_)(MR, 5 <= DOT_KR ? 5 : 1, g, am, b, bo, cm, co); break; \
    case 6: if (DOT_KR >= 6) LOCAL(dot_tile_)(MR, 6 <= DOT_KR ? 6 : 1, g, am, b, bo, cm, co); break; \
    }
#define DOT_MR_CASE(MR)                                                                        \
    case MR:                                                                                   \
        if (MR <= DOT_MR) {                                                                    \
            DOT_KR_CASES(MR <= DOT_MR ? MR : 1)                                                \
        }                                                                                      \
        break;

void KFN(gemm_dot)(const lenet_gemm_dot *g, const REAL *a, const REAL *b, REAL *c) {
    const long K = (long)g->k[0] * g->k[1] * g->k[2];
    long bo[DOT_KR], co[DOT_KR];
    for (long k0 = 0; k0 < K; k0 += DOT_KR) {
        const int kr = K - k0 < DOT_KR ? (int)(K - k0) : DOT_KR;
        LOCAL(box_offsets_)(g->k, g->c_k, g->b_k, k0, kr, co, bo);
        for (int m0 = 0; m0 < g->m; m0 += DOT_MR) {
            const int mr = g->m - m0 < DOT_MR ? g->m - m0 : DOT_MR;
            const REAL *am = a + m0 * g->a_row;
            REAL *cm = c + m0 * g->c_row;
            switch (mr) { DOT_MR_CASE(1) DOT_MR_CASE(2) DOT_MR_CASE(3) DOT_MR_CASE(4)
                          DOT_MR_CASE(5) DOT_MR_CASE(6) }
        }
    }
}

void KFN(sum_rows)(const lenet_gemm_dot *g, const REAL *a, REAL *out) {
    const int W = g->width, WV = W / VL * VL;
    for (int m = 0; m < g->m; m++) {
        V acc = LOCAL(splat_)(0);
        REAL tail = 0;
        for (int g0 = 0; g0 < g->groups[0]; g0++)
            for (int g1 = 0; g1 < g->groups[1]; g1++) {
                const REAL *ag = a + m * g->a_row + g0 * g->a_g[0] + g1 * g->a_g[1];
                for (int j = 0; j < WV; j += VL)
                    acc += LOCAL(load_)(ag + j);
                for (int j = WV; j < W; j++)
                    tail += ag[j];
            }
        out[m] += LOCAL(hsum_)(acc) + tail;
    }
}

/* ---- data movement and elementwise layers -------------------------------- */

void KFN(transpose)(long rows, long cols, const REAL *src, REAL *dst) {
    enum { B = 8 }; /* blocks of B x B stay in cache lines */
    for (long r0 = 0; r0 < rows; r0 += B)
        for (long c0 = 0; c0 < cols; c0 += B)
            for (long r = r0; r < r0 + B && r < rows; r++)
                for (long q = c0; q < c0 + B && q < cols; q++)
                    dst[q * rows + r] = src[r * cols + q];
}

void KFN(zero)(long n, REAL *p) {
    for (long i = 0; i < n; i++)
        p[i] = 0;
}

void KFN(relu_forward)(long n, const REAL *in, REAL *out) {
    for (long i = 0; i < n; i++)
        out[i] = in[i] > 0 ? in[i] : 0;
}

void KFN(relu_backward)(long n, const REAL *out, const REAL *dout, REAL *din) {
    for (long i = 0; i < n; i++)
        din[i] = out[i] > 0 ? dout[i] : 0;
}

/* Feature (c, y, x) of a C x H x W tile, as an offset. */
#define AT(w, ch, y, x, H, W) ((((long)(ch) * (H) + (y)) * (W) + (x)) * (w)->tile)

/* a where mask m is set, else b */
INLINE V LOCAL(select_)(LOCAL(mask_) m, V a, V b) {
    return (V)((m & (LOCAL(mask_))a) | (~m & (LOCAL(mask_))b));
}

/* The pooling kernels' bodies take the window's size (and the max whether
 * a relu is fused) as arguments, so that the usual 2 x 2 gets its own
 * constant-size copies, without a test in the loops. */
INLINE void LOCAL(maxpool_forward_)(const lenet_window *w, const REAL *in, REAL *out,
                                    const int size, const int relu) {
    const int T = w->tile, TV = T / VL * VL;
    for (int ch = 0; ch < w->c; ch++)
        for (int oy = 0; oy < w->oh; oy++)
            for (int ox = 0; ox < w->ow; ox++) {
                const REAL *x = in + AT(w, ch, oy * w->stride, ox * w->stride, w->h, w->w);
                REAL *o = out + AT(w, ch, oy, ox, w->oh, w->ow);
                for (int b = 0; b < TV; b += VL) {
                    V m = LOCAL(load_)(x + b);
                    for (int ky = 0; ky < size; ky++)
                        for (int kx = 0; kx < size; kx++) {
                            const V v = LOCAL(load_)(x + ((long)ky * w->w + kx) * T + b);
                            m = LOCAL(select_)(v > m, v, m);
                        }
                    LOCAL(store_)(o + b, relu ? LOCAL(relu_)(m) : m);
                }
                for (int b = TV; b < T; b++) {
                    REAL m = x[b];
                    for (int ky = 0; ky < size; ky++)
                        for (int kx = 0; kx < size; kx++) {
                            const REAL v = x[((long)ky * w->w + kx) * T + b];
                            m = v > m ? v : m;
                        }
                    o[b] = relu && !(m > 0) ? 0 : m;
                }
            }
}

void KFN(maxpool_forward)(const lenet_window *w, const REAL *in, REAL *out) {
    const int relu = (w->flags & LENET_RELU) != 0;
    if (w->size == 2 && relu)
        LOCAL(maxpool_forward_)(w, in, out, 2, 1);
    else if (w->size == 2)
        LOCAL(maxpool_forward_)(w, in, out, 2, 0);
    else
        LOCAL(maxpool_forward_)(w, in, out, w->size, relu);
}

/* Pooling's backward passes write din window by window. Where windows
 * neither overlap nor leave gaps (stride == size) each input belongs to at
 * most one window: its gradient is written as 0 + (its share), the value
 * the loop style's zero-then-add gives, and only the rows and columns past
 * the last window are zeroed. Otherwise din is zeroed and windows add.
 * Returns which: 1 when windows tile the input. */
static int LOCAL(clear_din_)(const lenet_window *w, REAL *din) {
    if (w->stride != w->size) {
        KFN(zero)(AT(w, w->c, 0, 0, w->h, w->w), din);
        return 0;
    }
    const int T = w->tile, ch = w->oh * w->stride, cw = w->ow * w->stride;
    for (int c = 0; c < w->c; c++)
        for (int y = 0; y < w->h; y++)
            if (y >= ch)
                KFN(zero)((long)w->w * T, din + AT(w, c, y, 0, w->h, w->w));
            else if (cw < w->w)
                KFN(zero)((long)(w->w - cw) * T, din + AT(w, c, y, cw, w->h, w->w));
    return 1; /* windows tile the input: write, do not add */
}

INLINE void LOCAL(maxpool_backward_)(const lenet_window *w, const REAL *in, const REAL *out,
                                     const REAL *dout, REAL *din, const int size,
                                     const int relu) {
    const int T = w->tile, TV = T / VL * VL, tiles = LOCAL(clear_din_)(w, din);
    for (int ch = 0; ch < w->c; ch++)
        for (int oy = 0; oy < w->oh; oy++)
            for (int ox = 0; ox < w->ow; ox++) {
                const long at = AT(w, ch, oy * w->stride, ox * w->stride, w->h, w->w);
                const REAL *x = in + at, *o = out + AT(w, ch, oy, ox, w->oh, w->ow);
                const REAL *d = dout + AT(w, ch, oy, ox, w->oh, w->ow);
                REAL *g = din + at;
                /* `rest` is what is still to be given: the first tap equal
                 * to the max takes it all, later ones add 0; a window of
                 * NaNs matches nothing and gives it to its first tap; a
                 * fused relu gives nothing where out is not positive */
                for (int b = 0; b < TV; b += VL) {
                    const V ov = LOCAL(load_)(o + b), zero = LOCAL(splat_)(0);
                    V rest = LOCAL(load_)(d + b);
                    if (relu)
                        rest = LOCAL(select_)(ov > zero, rest, zero);
                    for (int ky = 0; ky < size; ky++)
                        for (int kx = 0; kx < size; kx++) {
                            const long f = ((long)ky * w->w + kx) * T + b;
                            const LOCAL(mask_) hit = LOCAL(load_)(x + f) == ov;
                            const V before = tiles ? zero : LOCAL(load_)(g + f);
                            LOCAL(store_)(g + f, before + LOCAL(select_)(hit, rest, zero));
                            rest = LOCAL(select_)(hit, zero, rest);
                        }
                    LOCAL(store_)(g + b, LOCAL(load_)(g + b) + rest);
                }
                for (int b = TV; b < T; b++) {
                    REAL rest = relu && !(o[b] > 0) ? 0 : d[b];
                    for (int ky = 0; ky < size; ky++)
                        for (int kx = 0; kx < size; kx++) {
                            const long f = ((long)ky * w->w + kx) * T + b;
                            const int hit = x[f] == o[b];
                            g[f] = (tiles ? 0 : g[f]) + (hit ? rest : 0);
                            rest = hit ? 0 : rest;
                        }
                    g[b] += rest;
                }
            }
}

void KFN(maxpool_backward)(const lenet_window *w, const REAL *in, const REAL *out,
                           const REAL *dout, REAL *din) {
    const int relu = (w->flags & LENET_RELU) != 0;
    if (w->size == 2 && relu)
        LOCAL(maxpool_backward_)(w, in, out, dout, din, 2, 1);
    else if (w->size == 2)
        LOCAL(maxpool_backward_)(w, in, out, dout, din, 2, 0);
    else
        LOCAL(maxpool_backward_)(w, in, out, dout, din, w->size, relu);
}

void KFN(avgpool_forward)(const lenet_window *w, const REAL *in, REAL *out) {
    const int T = w->tile;
    const REAL inv = (REAL)(1.0 / ((double)w->size * w->size));
    for (int ch = 0; ch < w->c; ch++)
        for (int oy = 0; oy < w->oh; oy++)
            for (int ox = 0; ox < w->ow; ox++) {
                const REAL *x = in + AT(w, ch, oy * w->stride, ox * w->stride, w->h, w->w);
                REAL *o = out + AT(w, ch, oy, ox, w->oh, w->ow);
                for (int b = 0; b < T; b++)
                    o[b] = 0;
                for (int ky = 0; ky < w->size; ky++)
                    for (int kx = 0; kx < w->size; kx++)
                        for (int b = 0; b < T; b++)
                            o[b] += x[((long)ky * w->w + kx) * T + b];
                for (int b = 0; b < T; b++)
                    o[b] *= inv;
            }
}

void KFN(avgpool_backward)(const lenet_window *w, const REAL *dout, REAL *din) {
    const int T = w->tile, tiles = LOCAL(clear_din_)(w, din);
    const REAL inv = (REAL)(1.0 / ((double)w->size * w->size));
    for (int ch = 0; ch < w->c; ch++)
        for (int oy = 0; oy < w->oh; oy++)
            for (int ox = 0; ox < w->ow; ox++) {
                REAL *g = din + AT(w, ch, oy * w->stride, ox * w->stride, w->h, w->w);
                const REAL *d = dout + AT(w, ch, oy, ox, w->oh, w->ow);
                for (int ky = 0; ky < w->size; ky++)
                    for (int kx = 0; kx < w->size; kx++) {
                        REAL *gk = g + ((long)ky * w->w + kx) * T;
                        for (int b = 0; b < T; b++)
                            gk[b] = (tiles ? 0 : gk[b]) + d[b] * inv;
                    }
            }
}
#undef AT

/* ---- batch normalisation ------------------------------------------------ */

/* Channel ch's first lane at position p of c channels of s positions. */
#define AT(ch, p) (((long)(ch) * s + (p)) * tile)

void KFN(bn_sums)(int c, long s, int tile, int lanes, const REAL *x, const REAL *y,
                  double *sums) {
    double a[LENET_MAX_TILE], b2[LENET_MAX_TILE];
    for (int ch = 0; ch < c; ch++) {
        for (int b = 0; b < tile; b++)
            a[b] = b2[b] = 0;
        /* a lane's own sums over the positions first: independent chains
         * that vectorise; each product of two floats is exact in double */
        for (long p = 0; p < s; p++) {
            const REAL *xp = x + AT(ch, p), *yp = y + AT(ch, p);
            for (int b = 0; b < tile; b++) {
                a[b] += xp[b];
                b2[b] += (double)xp[b] * yp[b];
            }
        }
        double sum = 0, dot = 0;
        for (int b = 0; b < lanes; b++) {
            sum += a[b];
            dot += b2[b];
        }
        sums[ch] = sum;
        sums[c + ch] = dot;
    }
}

void KFN(bn_normalize)(int c, long s, int tile, int lanes, const REAL *x, const REAL *mean,
                       const REAL *invstd, const REAL *gamma, const REAL *beta, REAL *xhat,
                       REAL *out) {
    for (int ch = 0; ch < c; ch++) {
        const REAL m = mean[ch], k = invstd[ch], g = gamma[ch], t = beta[ch];
        for (long p = 0; p < s; p++) {
            const long at = AT(ch, p);
            for (int b = 0; b < tile; b++) {
                const REAL h = b < lanes ? (x[at + b] - m) * k : 0;
                xhat[at + b] = h;
                out[at + b] = g * h + t;
            }
        }
    }
}

void KFN(bn_affine)(int c, long s, int tile, const REAL *x, const REAL *scale, const REAL *shift,
                    REAL *out) {
    for (int ch = 0; ch < c; ch++) {
        const REAL k = scale[ch], t = shift[ch];
        for (long i = AT(ch, 0); i < AT(ch + 1, 0); i++)
            out[i] = x[i] * k + t;
    }
}

void KFN(bn_grad)(int c, long s, int tile, int lanes, const REAL *dout, const REAL *xhat,
                  const REAL *k, const REAL *mean_dout, const REAL *mean_dot, REAL *din) {
    for (int ch = 0; ch < c; ch++) {
        const REAL kc = k[ch], a = mean_dout[ch], d = mean_dot[ch];
        for (long p = 0; p < s; p++) {
            const long at = AT(ch, p);
            for (int b = 0; b < tile; b++)
                din[at + b] = b < lanes ? kc * (dout[at + b] - a - xhat[at + b] * d) : 0;
        }
    }
}
#undef AT

#include "kernels_depthwise.h"
