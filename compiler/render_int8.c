/* render_int8.c: a quantized program (int8.h) as C99: NAME.c and NAME.h.
 *
 * The code holds no state: constants are `static const` (flash on a
 * microcontroller), and every activation lives in one arena at the place
 * the plan gave it, which the caller passes (NAME_scores_in) or which
 * NAME_scores keeps on its stack. Integer arithmetic only in NAME_scores;
 * NAME_predict adds the softmax (float) and NAME_prepare is the float
 * export's.
 *
 * The kernels are written once, as text, in portable C99; the gemms'
 * inner loops have a second form for Armv7E-M (Cortex-M4, M7), chosen by
 * __ARM_FEATURE_DSP: the dual 16-bit multiply-accumulate SMLAD (ACLE's
 * __smlad) on weights widened by SXTB16 (__sxtb16), two multiply-adds an
 * instruction. Both compute the same integer sums, so the same bits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "int8.h"

static const char kernels_src[] =
    "\n/* ---- the kernels ------------------------------------------------------\n"
    " * Portable C99, integer only. On Armv7E-M (Cortex-M4, M7) the gemms' inner\n"
    " * loops use its dual 16-bit multiply-accumulate (SMLAD: ACLE's __smlad),\n"
    " * two multiply-adds an instruction; the sums are the same integers, so\n"
    " * the bits are too. Define LENETC_PORTABLE to use the portable loops. */\n"
    "/* Each layer's function calls the kernels with its sizes as literals, and\n"
    " * the kernels are inlined into it: loops of known trip counts, no\n"
    " * arguments to keep in registers. The layers' functions stay apart. */\n"
    "#ifdef __GNUC__\n"
    "#define LENETC_INLINE static inline __attribute__((always_inline))\n"
    "#define LENETC_LAYER static __attribute__((noinline))\n"
    "#define LENETC_UNROLL _Pragma(\"GCC unroll 8\")\n"
    "#else\n"
    "#define LENETC_INLINE static inline\n"
    "#define LENETC_LAYER static\n"
    "#define LENETC_UNROLL\n"
    "#endif\n"
    "#if defined(__ARM_FEATURE_DSP) && !defined(LENETC_PORTABLE)\n"
    "#include <arm_acle.h>\n"
    "#include <string.h>\n"
    "#define LENETC_DSP 1\n"

    "#else\n"
    "#define LENETC_DSP 0\n"
    "#endif\n"
    "\n"
    "/* The one rounding rule: zero + round(acc * mult / 2^shift), halves up\n"
    " * (toward +infinity), the product exact in 64 bits; clamped to [lo, 127].\n"
    " * C leaves the shift of a negative number to the compiler: the product\n"
    " * is offset by 2^63 and shifted unsigned. */\n"
    "LENETC_INLINE int8_t clamp8(int64_t q, int lo) { return (int8_t)(q < lo ? lo : q > 127 ? 127 : q); }\n"
    "static int8_t requantize_any(int32_t acc, int32_t mult, int shift, int zero, int lo) {\n"
    "    const uint64_t biased = (uint64_t)((int64_t)acc * mult) + ((uint64_t)1 << 63) +\n"
    "                            ((uint64_t)1 << (shift - 1));\n"
    "    return clamp8(zero + (int64_t)(biased >> shift) - (int64_t)((uint64_t)1 << (63 - shift)), lo);\n"
    "}\n"
    "/* Most multipliers have shift 32: the high word of the rounded product;\n"
    " * any: whether some of the layer's do not. */\n"
    "LENETC_INLINE int8_t requantize(int32_t acc, int32_t mult, int shift, int zero, int lo,\n"
    "                                int any) {\n"
    "    if (any && shift != 32)\n"
    "        return requantize_any(acc, mult, shift, zero, lo);\n"
    "    const uint64_t biased = (uint64_t)((int64_t)acc * mult) + 0x8000000080000000u;\n"
    "    /* |acc * mult / 2^32| < 2^30: the sum fits 32 bits */\n"
    "    const int32_t q = zero + (int32_t)((int64_t)(uint32_t)(biased >> 32) - 0x80000000);\n"
    "    return (int8_t)(q < lo ? lo : q > 127 ? 127 : q);\n"
    "}\n"
    "\n"
    "/* The column of an output position whose taps start at (iy0, ix0): the\n"
    " * input (CI x H x W) less its zero, widened to 16 bits, 0 where a tap\n"
    " * falls into the padding (where the real input is 0.0, whose code is the\n"
    " * zero); k = (ci, ky, kx). padded: whether any tap can fall outside;\n"
    " * where none can, the zero is in the bias instead (zx is 0). */\n"
    "LENETC_INLINE void column(const int8_t *x, int16_t *col, int CI, int H, int W, int K, int iy0,\n"
    "                   int ix0, int zx, int padded) {\n"
    "    for (int ci = 0; ci < CI; ci++)\n"
    "        for (int ky = 0; ky < K; ky++) {\n"
    "            const int iy = iy0 + ky;\n"
    "            const int8_t *row = x + ((long)ci * H + iy) * W + ix0;\n"
    "            if (!padded) {\n"
    "                LENETC_UNROLL\n"
    "                for (int kx = 0; kx < K; kx++)\n"
    "                    *col++ = (int16_t)(row[kx] - zx);\n"
    "                continue;\n"
    "            }\n"
    "            for (int kx = 0; kx < K; kx++) {\n"
    "                const int ix = ix0 + kx;\n"
    "                const int inside = iy >= 0 && iy < H && ix >= 0 && ix < W;\n"
    "                *col++ = (int16_t)(inside ? row[kx] - zx : 0);\n"
    "            }\n"
    "        }\n"
    "}\n"
    "\n"
    "/* Rows of weights: taps4 int8 each (the taps, then 0s to a multiple of 4),\n"
    " * each 4 kept as taps 0 2 1 3, so that a word's bytes 0 and 2 are the\n"
    " * weights of taps 0 and 1 (the pair SXTB16 makes on a DSP) and bytes 1\n"
    " * and 3 those of taps 2 and 3. DOT4(w, c) is the 4 taps' sum. */\n"
    "#define DOT4(w, c) ((w)[0] * (c)[0] + (w)[2] * (c)[1] + (w)[1] * (c)[2] + (w)[3] * (c)[3])\n"
    "#if LENETC_DSP\n"
    "#define PAIR_EVEN(wd) __sxtb16(wd)\n"
    "#ifdef __GNUC__\n"
    "LENETC_INLINE int32_t pair_odd(int32_t wd) { /* bytes 1 and 3 */\n"
    "    int32_t r;\n"
    "    __asm__(\"sxtb16 %0, %1, ror #8\" : \"=r\"(r) : \"r\"(wd));\n"
    "    return r;\n"
    "}\n"
    "#else\n"
    "LENETC_INLINE int32_t pair_odd(int32_t wd) {\n"
    "    return __sxtb16((int32_t)((uint32_t)wd >> 8 | (uint32_t)wd << 24));\n"
    "}\n"
    "#endif\n"
    "LENETC_INLINE int32_t word(const void *p) {\n"
    "    int32_t v;\n"
    "    memcpy(&v, p, 4);\n"
    "    return v;\n"
    "}\n"
    "#endif\n"
    "\n"
    "/* out[r * stride], r < rows: bias[r] + row r of w . col, requantized by\n"
    " * row r's multiplier to the output's zero, clamped at lo. Rows two at a\n"
    " * time (on a DSP four), then one: each load of the column serves them. */\n"
    "LENETC_INLINE void gemm(const int16_t *col, const int8_t *w, const int32_t *bias,\n"
    "                 const int32_t *mult, const int8_t *shift, int taps4, int rows, int zero,\n"
    "                 int lo, int any, int8_t *out, long stride) {\n"
    "    int r = 0;\n"
    "#if LENETC_DSP /* four rows: each column word serves 4 (a Cortex-M0 has too few\n"
    "                * registers for it) */\n"
    "    for (; r + 3 < rows; r += 4) {\n"
    "        const int8_t *w0 = w + (long)r * taps4, *w1 = w0 + taps4, *w2 = w1 + taps4,\n"
    "                     *w3 = w2 + taps4;\n"
    "        int32_t a0 = bias[r], a1 = bias[r + 1], a2 = bias[r + 2], a3 = bias[r + 3];\n"
    "        for (int k = 0; k < taps4; k += 4) {\n"
    "            const int32_t c01 = word(col + k), c23 = word(col + k + 2);\n"
    "            const int32_t p0 = word(w0 + k), p1 = word(w1 + k);\n"
    "            const int32_t p2 = word(w2 + k), p3 = word(w3 + k);\n"
    "            a0 = __smlad(pair_odd(p0), c23, __smlad(PAIR_EVEN(p0), c01, a0));\n"
    "            a1 = __smlad(pair_odd(p1), c23, __smlad(PAIR_EVEN(p1), c01, a1));\n"
    "            a2 = __smlad(pair_odd(p2), c23, __smlad(PAIR_EVEN(p2), c01, a2));\n"
    "            a3 = __smlad(pair_odd(p3), c23, __smlad(PAIR_EVEN(p3), c01, a3));\n"
    "        }\n"
    "        out[r * stride] = requantize(a0, mult[r], shift[r], zero, lo, any);\n"
    "        out[(r + 1) * stride] = requantize(a1, mult[r + 1], shift[r + 1], zero, lo, any);\n"
    "        out[(r + 2) * stride] = requantize(a2, mult[r + 2], shift[r + 2], zero, lo, any);\n"
    "        out[(r + 3) * stride] = requantize(a3, mult[r + 3], shift[r + 3], zero, lo, any);\n"
    "    }\n"
    "#endif\n"
    "    for (; r + 1 < rows; r += 2) {\n"
    "        const int8_t *w0 = w + (long)r * taps4, *w1 = w0 + taps4;\n"
    "        int32_t a0 = bias[r], a1 = bias[r + 1];\n"
    "        for (int k = 0; k < taps4; k += 4) {\n"
    "#if LENETC_DSP\n"
    "            const int32_t p0 = word(w0 + k), p1 = word(w1 + k);\n"
    "            const int32_t c01 = word(col + k), c23 = word(col + k + 2);\n"
    "            a0 = __smlad(PAIR_EVEN(p0), c01, a0);\n"
    "            a0 = __smlad(pair_odd(p0), c23, a0);\n"
    "            a1 = __smlad(PAIR_EVEN(p1), c01, a1);\n"
    "            a1 = __smlad(pair_odd(p1), c23, a1);\n"
    "#else\n"
    "            a0 += DOT4(w0 + k, col + k);\n"
    "            a1 += DOT4(w1 + k, col + k);\n"
    "#endif\n"
    "        }\n"
    "        out[r * stride] = requantize(a0, mult[r], shift[r], zero, lo, any);\n"
    "        out[(r + 1) * stride] = requantize(a1, mult[r + 1], shift[r + 1], zero, lo, any);\n"
    "    }\n"
    "    if (r < rows) { /* the last of an odd count */\n"
    "        const int8_t *wr = w + (long)r * taps4;\n"
    "        int32_t a = bias[r];\n"
    "        for (int k = 0; k < taps4; k += 4)\n"
    "            a += DOT4(wr + k, col + k);\n"
    "        out[r * stride] = requantize(a, mult[r], shift[r], zero, lo, any);\n"
    "    }\n"
    "}\n"
    "\n"
    "/* The same for two columns (col, then col + taps4: adjacent output\n"
    " * positions) into out[r * stride] and out[r * stride + 1]: each weight\n"
    " * loaded serves both, each column word both rows. */\n"
    "LENETC_INLINE void gemm2(const int16_t *col, const int8_t *w, const int32_t *bias,\n"
    "                  const int32_t *mult, const int8_t *shift, int taps4, int rows, int zero,\n"
    "                  int lo, int any, int8_t *out, long stride) {\n"
    "    const int16_t *cb = col + taps4;\n"
    "    int r = 0;\n"
    "    for (; r + 1 < rows; r += 2) {\n"
    "        const int8_t *w0 = w + (long)r * taps4, *w1 = w0 + taps4;\n"
    "        int32_t a00 = bias[r], a01 = bias[r], a10 = bias[r + 1], a11 = bias[r + 1];\n"
    "        for (int k = 0; k < taps4; k += 4) {\n"
    "#if LENETC_DSP\n"
    "            const int32_t p0 = word(w0 + k), p1 = word(w1 + k);\n"
    "            const int32_t e0 = PAIR_EVEN(p0), o0 = pair_odd(p0);\n"
    "            const int32_t e1 = PAIR_EVEN(p1), o1 = pair_odd(p1);\n"
    "            const int32_t a01w = word(col + k), a23w = word(col + k + 2);\n"
    "            const int32_t b01w = word(cb + k), b23w = word(cb + k + 2);\n"
    "            a00 = __smlad(o0, a23w, __smlad(e0, a01w, a00));\n"
    "            a01 = __smlad(o0, b23w, __smlad(e0, b01w, a01));\n"
    "            a10 = __smlad(o1, a23w, __smlad(e1, a01w, a10));\n"
    "            a11 = __smlad(o1, b23w, __smlad(e1, b01w, a11));\n"
    "#else\n"
    "            a00 += DOT4(w0 + k, col + k);\n"
    "            a01 += DOT4(w0 + k, cb + k);\n"
    "            a10 += DOT4(w1 + k, col + k);\n"
    "            a11 += DOT4(w1 + k, cb + k);\n"
    "#endif\n"
    "        }\n"
    "        out[r * stride] = requantize(a00, mult[r], shift[r], zero, lo, any);\n"
    "        out[r * stride + 1] = requantize(a01, mult[r], shift[r], zero, lo, any);\n"
    "        out[(r + 1) * stride] = requantize(a10, mult[r + 1], shift[r + 1], zero, lo, any);\n"
    "        out[(r + 1) * stride + 1] = requantize(a11, mult[r + 1], shift[r + 1], zero, lo, any);\n"
    "    }\n"
    "    if (r < rows) {\n"
    "        gemm(col, w + (long)r * taps4, bias + r, mult + r, shift + r, taps4, 1, zero, lo,\n"
    "             any, out + r * stride, stride);\n"
    "        gemm(cb, w + (long)r * taps4, bias + r, mult + r, shift + r, taps4, 1, zero, lo,\n"
    "             any, out + r * stride + 1, stride);\n"
    "    }\n"
    "}\n"
    "\n"
    "/* The largest of four columns' sums (the positions of a 2 x 2 window:\n"
    " * col + j * taps4) for each row r < rows, requantized into out[r *\n"
    " * stride]. One load of 4 weights serves the 4 columns. */\n"
    "LENETC_INLINE void gemm_max4(const int16_t *col, const int8_t *w, const int32_t *bias,\n"
    "                             const int32_t *mult, const int8_t *shift, int taps, int rows,\n"
    "                             int zero, int lo, int any, int8_t *out, long stride) {\n"
    "    const int taps4 = (taps + 3) & ~3, full = taps & ~3;\n"
    "    const int16_t *c0 = col, *c1 = col + taps4, *c2 = c1 + taps4, *c3 = c2 + taps4;\n"
    "    for (int r = 0; r < rows; r++) {\n"
    "        const int8_t *wr = w + (long)r * taps4;\n"
    "        int32_t a0 = bias[r], a1 = bias[r], a2 = bias[r], a3 = bias[r];\n"
    "        int k = 0;\n"
    "        for (; k < full; k += 4) {\n"
    "#if LENETC_DSP\n"
    "            const int32_t p = word(wr + k), e = PAIR_EVEN(p), o = pair_odd(p);\n"
    "            a0 = __smlad(o, word(c0 + k + 2), __smlad(e, word(c0 + k), a0));\n"
    "            a1 = __smlad(o, word(c1 + k + 2), __smlad(e, word(c1 + k), a1));\n"
    "            a2 = __smlad(o, word(c2 + k + 2), __smlad(e, word(c2 + k), a2));\n"
    "            a3 = __smlad(o, word(c3 + k + 2), __smlad(e, word(c3 + k), a3));\n"
    "#else\n"
    "            a0 += DOT4(wr + k, c0 + k);\n"
    "            a1 += DOT4(wr + k, c1 + k);\n"
    "            a2 += DOT4(wr + k, c2 + k);\n"
    "            a3 += DOT4(wr + k, c3 + k);\n"
    "#endif\n"
    "        }\n"
    "        for (int t = 0; k + t < taps; t++) { /* the last taps % 4, one by one */\n"
    "            const int32_t wt = wr[k + \"\\0\\2\\1\\3\"[t]];\n"
    "            a0 += wt * c0[k + t];\n"
    "            a1 += wt * c1[k + t];\n"
    "            a2 += wt * c2[k + t];\n"
    "            a3 += wt * c3[k + t];\n"
    "        }\n"
    "        const int32_t m01 = a0 > a1 ? a0 : a1, m23 = a2 > a3 ? a2 : a3;\n"
    "        out[r * stride] = requantize(m01 > m23 ? m01 : m23, mult[r], shift[r], zero, lo, any);\n"
    "    }\n"
    "}\n"
    "\n"
    "/* A convolution and the 2 x 2 max pooling (stride 2) after it in one: the\n"
    " * four columns of each window's positions, the largest sum of each row,\n"
    " * requantized once. Requantization keeps the order of the sums, so this\n"
    " * is the max of the requantized outputs, and the convolution's output\n"
    " * is never stored. POH x POW: the pooled output. */\n"
    "LENETC_INLINE void conv_pool(const int8_t *x, int8_t *y, int16_t *col, const int8_t *w,\n"
    "                             const int32_t *bias, const int32_t *mult, const int8_t *shift,\n"
    "                             int CI, int H, int W, int CO, int POH, int POW, int K, int S,\n"
    "                             int PT, int PL, int padded, int zx, int zy, int lo, int any) {\n"
    "    const int taps = CI * K * K, taps4 = (taps + 3) & ~3;\n"
    "    for (int j = 0; j < 4; j++) /* the taps past the last: 0, as the weights */\n"
    "        for (int k = taps; k < taps4; k++)\n"
    "            col[j * taps4 + k] = 0;\n"
    "    for (int py = 0; py < POH; py++)\n"
    "        for (int px = 0; px < POW; px++) {\n"
    "            for (int j = 0; j < 4; j++)\n"
    "                column(x, col + j * taps4, CI, H, W, K, (2 * py + j / 2) * S - PT,\n"
    "                       (2 * px + j % 2) * S - PL, zx, padded);\n"
    "            gemm_max4(col, w, bias, mult, shift, taps, CO, zy, lo, any,\n"
    "                      y + py * POW + px, (long)POH * POW);\n"
    "        }\n"
    "}\n"
    "\n"
    "/* A convolution, CI x H x W -> CO x OH x OW, K x K at stride S, PT rows and\n"
    " * PL columns of padding before (padded: some tap falls into it): the\n"
    " * columns of two output positions at a time (2 x taps4 halfwords in col),\n"
    " * then a gemm over the CO rows of weights. A dense layer is one position\n"
    " * of 1 x 1 taps. */\n"
    "LENETC_INLINE void conv(const int8_t *x, int8_t *y, int16_t *col, const int8_t *w,\n"
    "                 const int32_t *bias, const int32_t *mult, const int8_t *shift, int CI,\n"
    "                 int H, int W, int CO, int OH, int OW, int K, int S, int PT, int PL,\n"
    "                 int padded, int zx, int zy, int lo, int any) {\n"
    "    const int taps = CI * K * K, taps4 = (taps + 3) & ~3;\n"
    "    const long P = (long)OH * OW;\n"
    "    /* the taps past the last, to a multiple of 4: 0 (the weights are too) */\n"
    "    for (int k = taps; k < taps4; k++)\n"
    "        col[k] = col[taps4 + k] = 0;\n"
    "    int oy = 0, ox = 0; /* position p */\n"
    "    long p = 0;\n"
    "    for (; p + 1 < P; p += 2) {\n"
    "        column(x, col, CI, H, W, K, oy * S - PT, ox * S - PL, zx, padded);\n"
    "        if (++ox == OW)\n"
    "            ox = 0, oy++;\n"
    "        column(x, col + taps4, CI, H, W, K, oy * S - PT, ox * S - PL, zx, padded);\n"
    "        if (++ox == OW)\n"
    "            ox = 0, oy++;\n"
    "        gemm2(col, w, bias, mult, shift, taps4, CO, zy, lo, any, y + p, P);\n"
    "    }\n"
    "    if (p < P) {\n"
    "        column(x, col, CI, H, W, K, oy * S - PT, ox * S - PL, zx, padded);\n"
    "        gemm(col, w, bias, mult, shift, taps4, CO, zy, lo, any, y + p, P);\n"
    "    }\n"
    "}\n";

const char *int8_kernels_text(void) { return kernels_src; }

static const char maxpool_src[] =
    "\n/* Max pooling, C x H x W -> C x OH x OW (the input's params kept). */\n"
    "static void maxpool(const int8_t *x, int8_t *y, int C, int H, int W, int OH, int OW,\n"
    "                    int size, int stride) {\n"
    "    for (int c = 0; c < C; c++)\n"
    "        for (int oy = 0; oy < OH; oy++)\n"
    "            for (int ox = 0; ox < OW; ox++) {\n"
    "                int m = -128;\n"
    "                for (int ky = 0; ky < size; ky++)\n"
    "                    for (int kx = 0; kx < size; kx++) {\n"
    "                        const int v = x[(c * H + oy * stride + ky) * W + ox * stride + kx];\n"
    "                        m = v > m ? v : m;\n"
    "                    }\n"
    "                y[(c * OH + oy) * OW + ox] = (int8_t)m;\n"
    "            }\n"
    "}\n";

static const char avgpool_src[] =
    "\n/* Average pooling (the input's params kept): the window's sum of x - zero,\n"
    " * requantized by 1 / size^2. */\n"
    "static void avgpool(const int8_t *x, int8_t *y, int C, int H, int W, int OH, int OW,\n"
    "                    int size, int stride, int zero, int32_t mult, int shift) {\n"
    "    for (int c = 0; c < C; c++)\n"
    "        for (int oy = 0; oy < OH; oy++)\n"
    "            for (int ox = 0; ox < OW; ox++) {\n"
    "                int32_t sum = 0;\n"
    "                for (int ky = 0; ky < size; ky++)\n"
    "                    for (int kx = 0; kx < size; kx++)\n"
    "                        sum += x[(c * H + oy * stride + ky) * W + ox * stride + kx] - zero;\n"
    "                y[(c * OH + oy) * OW + ox] = requantize(sum, mult, shift, zero, -128, 1);\n"
    "            }\n"
    "}\n";

static const char table_src[] =
    "\n/* An elementwise activation by its 256 values: y = table[x + 128]. */\n"
    "static void lookup(const int8_t *x, int8_t *y, long n, const int8_t *table) {\n"
    "    for (long i = 0; i < n; i++)\n"
    "        y[i] = table[x[i] + 128];\n"
    "}\n";

static const char rescale_src[] =
    "\n/* The rule without the zero and the clamp: round(v * mult / 2^shift),\n"
    " * halves up, as an int32 (a term of an add). */\n"
    "LENETC_INLINE int32_t rescale(int32_t v, int32_t mult, int shift) {\n"
    "    const uint64_t biased = (uint64_t)((int64_t)v * mult) + ((uint64_t)1 << 63) +\n"
    "                            ((uint64_t)1 << (shift - 1));\n"
    "    return (int32_t)((int64_t)(biased >> shift) - (int64_t)((uint64_t)1 << (63 - shift)));\n"
    "}\n"
    "/* An add's input x (zero point zero) as a term of its sum, TensorFlow\n"
    " * Lite's ADD: x - zero, times 2^20, rescaled to the sum's scale. */\n"
    "LENETC_INLINE int32_t add_term(int x, int zero, int32_t mult, int shift) {\n"
    "    return rescale((x - zero) * (1 << 20), mult, shift);\n"
    "}\n";
_Static_assert(INT8_ADD_SHIFT == 20, "rescale_src's add_term shifts by INT8_ADD_SHIFT");

static const char depthwise_src[] =
    "\n/* A depthwise convolution: each of C channels convolved on its own into M\n"
    " * outputs (rows c M to c M + M - 1): each position's column of K x K taps\n"
    " * (to a multiple of 4), then its M rows of weights; on a DSP by SMLAD, two\n"
    " * taps an instruction. (A batchnorm the export keeps is one of 1 x 1.) */\n"
    "LENETC_INLINE void depthwise(const int8_t *x, int8_t *y, int16_t *col, const int8_t *w,\n"
    "                             const int32_t *bias, const int32_t *mult, const int8_t *shift,\n"
    "                             int C, int H, int W, int M, int OH, int OW, int K, int S,\n"
    "                             int PT, int PL, int padded, int zx, int zy, int lo, int any) {\n"
    "    const int taps = K * K, taps4 = (taps + 3) & ~3;\n"
    "    const long P = (long)OH * OW;\n"
    "    for (int k = taps; k < taps4; k++)\n"
    "        col[k] = 0;\n"
    "    for (int c = 0; c < C; c++)\n"
    "        for (int oy = 0; oy < OH; oy++)\n"
    "            for (int ox = 0; ox < OW; ox++) {\n"
    "                column(x + (long)c * H * W, col, 1, H, W, K, oy * S - PT, ox * S - PL, zx,\n"
    "                       padded);\n"
    "                for (int m = 0; m < M; m++) {\n"
    "                    const int r = c * M + m;\n"
    "                    const int8_t *wr = w + (long)r * taps4;\n"
    "                    int32_t a = bias[r];\n"
    "                    for (int k = 0; k < taps4; k += 4) {\n"
    "#if LENETC_DSP\n"
    "                        const int32_t p = word(wr + k);\n"
    "                        a = __smlad(pair_odd(p), word(col + k + 2),\n"
    "                                    __smlad(PAIR_EVEN(p), word(col + k), a));\n"
    "#else\n"
    "                        a += DOT4(wr + k, col + k);\n"
    "#endif\n"
    "                    }\n"
    "                    y[r * P + (long)oy * OW + ox] =\n"
    "                        requantize(a, mult[r], shift[r], zy, lo, any);\n"
    "                }\n"
    "            }\n"
    "}\n";

static const char conv_add_src[] =
    "\n/* The add after a convolution, for rows of one position: t[2 r] (the\n"
    " * conv's output, zero zc) plus y[r * stride] (the other input, zero zo),\n"
    " * each rescaled to the sum (add_term), the sum requantized over y. */\n"
    "LENETC_INLINE void add_into(const int8_t *t, int8_t *y, int rows, long stride, int zc,\n"
    "                            int32_t mc, int sc, int zo, int32_t mo, int so, int zy,\n"
    "                            int32_t my, int sy, int lo) {\n"
    "    for (int r = 0; r < rows; r++) {\n"
    "        int8_t *o = y + r * stride;\n"
    "        *o = requantize(add_term(t[2 * r], zc, mc, sc) + add_term(*o, zo, mo, so), my, sy, zy,\n"
    "                        lo, 1);\n"
    "    }\n"
    "}\n"
    "\n"
    "/* A convolution (as conv) and the add of its output to another tensor\n"
    " * of its shape, y, in one: each two positions' CO outputs requantized into\n"
    " * t (2 CO bytes: the conv's output is never stored whole), then added to\n"
    " * y's values there, the sums written over them. */\n"
    "LENETC_INLINE void conv_add(const int8_t *x, int8_t *y, int16_t *col, int8_t *t,\n"
    "                            const int8_t *w, const int32_t *bias, const int32_t *mult,\n"
    "                            const int8_t *shift, int CI, int H, int W, int CO, int OH, int OW,\n"
    "                            int K, int S, int PT, int PL, int padded, int zx, int zc, int lo,\n"
    "                            int any, int32_t mc, int sc, int zo, int32_t mo, int so, int zy,\n"
    "                            int32_t my, int sy, int alo) {\n"
    "    const int taps = CI * K * K, taps4 = (taps + 3) & ~3;\n"
    "    const long P = (long)OH * OW;\n"
    "    for (int k = taps; k < taps4; k++)\n"
    "        col[k] = col[taps4 + k] = 0;\n"
    "    int oy = 0, ox = 0; /* position p */\n"
    "    long p = 0;\n"
    "    for (; p + 1 < P; p += 2) {\n"
    "        column(x, col, CI, H, W, K, oy * S - PT, ox * S - PL, zx, padded);\n"
    "        if (++ox == OW)\n"
    "            ox = 0, oy++;\n"
    "        column(x, col + taps4, CI, H, W, K, oy * S - PT, ox * S - PL, zx, padded);\n"
    "        if (++ox == OW)\n"
    "            ox = 0, oy++;\n"
    "        gemm2(col, w, bias, mult, shift, taps4, CO, zc, lo, any, t, 2);\n"
    "        add_into(t, y + p, CO, P, zc, mc, sc, zo, mo, so, zy, my, sy, alo);\n"
    "        add_into(t + 1, y + p + 1, CO, P, zc, mc, sc, zo, mo, so, zy, my, sy, alo);\n"
    "    }\n"
    "    if (p < P) {\n"
    "        column(x, col, CI, H, W, K, oy * S - PT, ox * S - PL, zx, padded);\n"
    "        gemm(col, w, bias, mult, shift, taps4, CO, zc, lo, any, t, 2);\n"
    "        add_into(t, y + p, CO, P, zc, mc, sc, zo, mo, so, zy, my, sy, alo);\n"
    "    }\n"
    "}\n";

static const char concat_src[] =
    "\n/* A concat's input: n values of x (zero point zx) requantized to the\n"
    " * output's params (by mult, shift; zero zy). */\n"
    "static void requantize_copy(const int8_t *x, int8_t *y, long n, int zx, int32_t mult,\n"
    "                            int shift, int zy) {\n"
    "    for (long i = 0; i < n; i++)\n"
    "        y[i] = requantize(x[i] - zx, mult, shift, zy, -128, 1);\n"
    "}\n";

static const char global_avgpool_src[] =
    "\n/* Global average pooling, C x P -> C (TensorFlow Lite's MEAN): each\n"
    " * channel's sum of x - zx in int32, requantized by s_in / (s_out P). */\n"
    "static void global_avgpool(const int8_t *x, int8_t *y, int C, int P, int zx, int32_t mult,\n"
    "                           int shift, int zy) {\n"
    "    for (int c = 0; c < C; c++) {\n"
    "        int32_t sum = 0;\n"
    "        for (int p = 0; p < P; p++)\n"
    "            sum += x[(long)c * P + p] - zx;\n"
    "        y[c] = requantize(sum, mult, shift, zy, -128, 1);\n"
    "    }\n"
    "}\n";

/* A constant array of n values, 16 (int8) or 6 (int32) a line. */
static void int8_array(StrBuf *c, const char *type, const char *name, const int8_t *v, long n) {
    sb_printf(c, "static const %s %s[%ld] = {\n", type, name, n);
    for (long k = 0; k < n; k++)
        sb_printf(c, "%s%d,%s", k % 16 ? "" : "    ", v[k], k % 16 == 15 || k == n - 1 ? "\n" : " ");
    sb_puts(c, "};\n");
}

static void int32_array(StrBuf *c, const char *name, const int32_t *v, long n) {
    sb_printf(c, "static const int32_t %s[%ld] = {\n", name, n);
    for (long k = 0; k < n; k++)
        sb_printf(c, "%s%ld,%s", k % 6 ? "" : "    ", (long)v[k], k % 6 == 5 || k == n - 1 ? "\n" : " ");
    sb_puts(c, "};\n");
}

static const char *const qop_names[N_QOPS] = {
    [Q_CONV] = "conv", [Q_DENSE] = "dense", [Q_MAXPOOL] = "maxpool", [Q_AVGPOOL] = "avgpool",
    [Q_TABLE] = "table", [Q_ADD] = "add", [Q_CONCAT] = "concat",
    [Q_GLOBAL_AVGPOOL] = "global_avgpool"};

/* The shape of a tensor as comments show it: "6x26x26" or "120". */
static const char *shape_text(Shape s, char buf[48]) {
    if (s.flat)
        snprintf(buf, 48, "%d", s.c);
    else
        snprintf(buf, 48, "%dx%dx%d", s.c, s.h, s.w);
    return buf;
}

static void tensor_comment(StrBuf *c, const QTensor *t) {
    char sh[48];
    sb_printf(c, " *   %-22s %-9s scale %.9g zero %4d  (range %.6g .. %.6g)\n", t->name,
              shape_text(t->shape, sh), t->q.scale, t->q.zero, t->q.lo, t->q.hi);
}

/* Whether a gemm's input zero point is in its bias (sum w (x - zx) = sum w
 * x - zx sum w, so the columns are the input as it is): where no tap can
 * fall into padding, whose taps must read 0 after the subtraction. */
static bool zero_in_bias(const QOp *op) { return !op->g.padded; }

/* A gemm's rows of weights: its output channels (a depthwise conv's:
 * each group's). */
static int qop_rows(const QOp *op) { return op->g.CO * (op->g.groups > 1 ? op->g.groups : 1); }

/* Each operation's constants: weights, biases, multipliers, shifts, tables. */
static void constants(const QProgram *qp, const char *n, StrBuf *c) {
    char name[MAX_NAME * 2 + 16];
    for (int i = 0; i < qp->n_ops; i++) {
        const QOp *op = &qp->ops[i];
        const char *l = op->layer->name;
        if (op->kind == Q_CONV || op->kind == Q_DENSE) {
            const long taps = (long)op->g.CI * op->g.K * op->g.K;
            const int rows = qop_rows(op);
            sb_printf(c, "\n/* %s: %d rows of %ld int8 weights (PyTorch's order, 0s to a multiple of 4,\n"
                         " * each 4 as 0 2 1 3: gemm), per row an int32 bias (less the input's zero\n"
                         " * times the row's sum, where no tap falls into padding: the columns\n"
                         " * are then the input as it is) and the multiplier and shift of its\n"
                         " * requantization */\n", l, rows, taps);
            snprintf(name, sizeof name, "%s_%s_w", n, l);
            const long taps4 = (taps + 3) & ~3L;
            int8_t *kept = calloc((size_t)(rows * taps4), 1);
            if (!kept) {
                fprintf(stderr, "lenetc: out of memory\n");
                exit(1);
            }
            for (long r = 0; r < rows; r++) /* each 4 taps as 0 2 1 3 (gemm) */
                for (long k = 0; k < taps; k++)
                    kept[r * taps4 + (k & ~3L) + "\0\2\1\3"[k & 3]] = op->w[r * taps + k];
            int8_array(c, "int8_t", name, kept, rows * taps4);
            free(kept);
            const int zx = zero_in_bias(op) ? qp->tensors[op->in].q.zero : 0;
            int32_t *bias = malloc(sizeof *bias * (size_t)rows);
            if (!bias) {
                fprintf(stderr, "lenetc: out of memory\n");
                exit(1);
            }
            for (long r = 0; r < rows; r++) {
                long sum = 0;
                for (long k = 0; k < taps; k++)
                    sum += op->w[r * taps + k];
                bias[r] = (int32_t)(op->bias[r] - (long)zx * sum);
            }
            snprintf(name, sizeof name, "%s_%s_bias", n, l);
            int32_array(c, name, bias, rows);
            free(bias);
            snprintf(name, sizeof name, "%s_%s_mult", n, l);
            int32_array(c, name, op->mult, rows);
            snprintf(name, sizeof name, "%s_%s_shift", n, l);
            int8_array(c, "int8_t", name, op->shift, rows);
        } else if (op->kind == Q_TABLE) {
            sb_printf(c, "\n/* %s: its value for each input code, -128 first */\n", l);
            snprintf(name, sizeof name, "%s_%s_table", n, l);
            int8_array(c, "int8_t", name, op->table, 256);
        }
    }
}

/* An add's function: TensorFlow Lite's ADD with its inputs' params and
 * multipliers as literals. */
static void add_function(const QProgram *qp, const QOp *op, const char *n, StrBuf *c) {
    const QTensor *to = &qp->tensors[op->out];
    sb_printf(c, "\n/* %s */\nLENETC_LAYER void %s_%s(", op->what, n, op->layer->name);
    for (int j = 0; j < op->n_in; j++)
        sb_printf(c, "const int8_t *x%d, ", j);
    sb_printf(c, "int8_t *y) {\n    for (long i = 0; i < %ld; i++)\n        y[i] = requantize(",
              to->bytes);
    for (int j = 0; j < op->n_in; j++)
        sb_printf(c, "%sadd_term(x%d[i], %d, %ld, %d)", j ? " +\n                          " : "",
                  j, qp->tensors[op->ins[j]].q.zero, (long)op->in_mult[j], op->in_shift[j]);
    sb_printf(c, ",\n                          %ld, %d, %d, %d, 1);\n}\n",
              (long)op->in_mult[op->n_in], op->in_shift[op->n_in], to->q.zero, op->lo);
}

/* Each gemm's function: the kernel with the layer's sizes as literals. */
static void layer_functions(const QProgram *qp, const char *n, StrBuf *c) {
    for (int i = 0; i < qp->n_ops; i++) {
        const QOp *op = &qp->ops[i];
        if (op->kind == Q_ADD)
            add_function(qp, op, n, c);
        if (op->kind != Q_CONV && op->kind != Q_DENSE)
            continue;
        const QTensor *ti = &qp->tensors[op->in], *to = &qp->tensors[op->out];
        const ConvGeometry *g = &op->g;
        const char *l = op->layer->name;
        bool any = false; /* a multiplier whose shift is not 32 */
        for (int r = 0; r < qop_rows(op); r++)
            any |= op->shift[r] != 32;
        const int zy = op->added ? qp->tensors[op->mid].q.zero : to->q.zero;
        sb_printf(c, "\n/* %s */\n", op->what);
        sb_printf(c, "LENETC_LAYER void %s_%s(const int8_t *x, int8_t *y, int16_t *col%s) {\n", n,
                  l, op->added ? ", int8_t *t" : "");
        sb_printf(c, "    %s(x, y, col, %s%s_%s_w, %s_%s_bias, %s_%s_mult, %s_%s_shift,\n",
                  op->pooled ? "conv_pool" : op->added ? "conv_add" : g->groups > 1 ? "depthwise"
                                                                                     : "conv",
                  op->added ? "t, " : "", n, l, n, l, n, l, n, l);
        sb_printf(c, "         %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d",
                  g->groups > 1 ? g->groups : g->CI, g->H, g->W, g->CO,
                  op->pooled ? op->window.oh : g->OH, op->pooled ? op->window.ow : g->OW, g->K,
                  g->S, g->PT, g->PL, g->padded ? 1 : 0, zero_in_bias(op) ? 0 : ti->q.zero, zy,
                  op->lo, any ? 1 : 0);
        if (op->added)
            sb_printf(c, ",\n         %ld, %d, %d, %ld, %d, %d, %ld, %d, %d",
                      (long)op->in_mult[0], op->in_shift[0], qp->tensors[op->other].q.zero,
                      (long)op->in_mult[1], op->in_shift[1], to->q.zero, (long)op->in_mult[2],
                      op->in_shift[2], op->add_lo);
        sb_puts(c, ");\n}\n");
    }
}

/* The input copy: image[y][x][ch] (0..255) -> in[ch][y + pad][x + pad] as
 * p - 128, the border pixel 0. */
static void input_copy(const QProgram *qp, StrBuf *c) {
    const Model *m = &qp->folded;
    const QTensor *t = &qp->tensors[qp->input];
    const int H = m->input.h, W = m->input.w, C = m->input.c, P = m->pad;
    sb_printf(c, "    /* the input: pixel p as p - 128 (scale %.9g, zero %d)%s */\n", t->q.scale,
              t->q.zero, P ? ", in a border of pixel 0" : "");
    sb_printf(c, "    int8_t *in = a + %ld;\n", t->off);
    sb_printf(c, "    for (int ch = 0; ch < %d; ch++)\n", C);
    sb_printf(c, "        for (int y = 0; y < %d; y++)\n", H);
    sb_printf(c, "            for (int x = 0; x < %d; x++) {\n", W);
    if (P) {
        sb_printf(c, "                const int sy = y - %d, sx = x - %d;\n", P, P);
        sb_printf(c, "                const int p = sy >= 0 && sy < %d && sx >= 0 && sx < %d\n"
                     "                    ? image[(sy * %d + sx) * %d + ch] : 0;\n",
                  m->in_h, m->in_w, m->in_w, m->in_c);
    } else {
        sb_printf(c, "                const int p = image[(y * %d + x) * %d + ch];\n", W, C);
    }
    sb_printf(c, "                in[(ch * %d + y) * %d + x] = (int8_t)(p - 128);\n", H, W);
    sb_puts(c, "            }\n");
}

/* The call of one operation. */
static void op_call(const QProgram *qp, const QOp *op, const char *n, StrBuf *c) {
    const QTensor *ti = &qp->tensors[op->in], *to = &qp->tensors[op->out];
    const char *l = op->layer->name;
    char si[48], so[48];
    sb_printf(c, "    /* %s: %s %s", op->what, qop_names[op->kind], shape_text(ti->shape, si));
    for (int j = 1; j < op->n_in; j++)
        sb_printf(c, ", %s", shape_text(qp->tensors[op->ins[j]].shape, si));
    if (op->added)
        sb_printf(c, " + %s", qp->tensors[op->other].name);
    sb_printf(c, " -> %s */\n", shape_text(to->shape, so));
    const lenet_window *w = &op->window;
    switch (op->kind) {
    case Q_CONV:
    case Q_DENSE:
        sb_printf(c, "    %s_%s(a + %ld, a + %ld, h + %ld", n, l, ti->off, to->off,
                  qp->tensors[op->scratch].off / 2);
        if (op->added)
            sb_printf(c, ", a + %ld", qp->tensors[op->mid].off);
        sb_puts(c, ");\n");
        break;
    case Q_ADD:
        sb_printf(c, "    %s_%s(", n, l);
        for (int j = 0; j < op->n_in; j++)
            sb_printf(c, "a + %ld, ", qp->tensors[op->ins[j]].off);
        sb_printf(c, "a + %ld);\n", to->off);
        break;
    case Q_CONCAT: {
        long at = 0;
        for (int j = 0; j < op->n_in; j++) {
            const QTensor *tj = &qp->tensors[op->ins[j]];
            sb_printf(c, "    requantize_copy(a + %ld, a + %ld, %ld, %d, %ld, %d, %d);\n", tj->off,
                      to->off + at, tj->bytes, tj->q.zero, (long)op->in_mult[j], op->in_shift[j],
                      to->q.zero);
            at += tj->bytes;
        }
        break;
    }
    case Q_GLOBAL_AVGPOOL:
        sb_printf(c, "    global_avgpool(a + %ld, a + %ld, %d, %d, %d, %ld, %d, %d);\n", ti->off,
                  to->off, ti->shape.c, ti->shape.h * ti->shape.w, ti->q.zero, (long)op->mult[0],
                  op->shift[0], to->q.zero);
        break;
    case Q_MAXPOOL:
        sb_printf(c, "    maxpool(a + %ld, a + %ld, %d, %d, %d, %d, %d, %d, %d);\n", ti->off, to->off,
                  w->c, w->h, w->w, w->oh, w->ow, w->size, w->stride);
        break;
    case Q_AVGPOOL:
        sb_printf(c, "    avgpool(a + %ld, a + %ld, %d, %d, %d, %d, %d, %d, %d, %d, %ld, %d);\n",
                  ti->off, to->off, w->c, w->h, w->w, w->oh, w->ow, w->size, w->stride, ti->q.zero,
                  (long)op->mult[0], op->shift[0]);
        break;
    case Q_TABLE:
        sb_printf(c, "    lookup(a + %ld, a + %ld, %ld, %s_%s_table);\n", ti->off, to->off,
                  shape_size(to->shape), n, l);
        break;
    default:
        break;
    }
}

static bool uses(const QProgram *qp, QOpKind k) {
    for (int i = 0; i < qp->n_ops; i++)
        if (qp->ops[i].kind == k)
            return true;
    return false;
}

/* Whether some conv is depthwise (groups), or has an add fused in. */
static bool uses_conv(const QProgram *qp, bool added) {
    for (int i = 0; i < qp->n_ops; i++)
        if (qp->ops[i].kind == Q_CONV && (added ? qp->ops[i].added : qp->ops[i].g.groups > 1))
            return true;
    return false;
}

void int8_render_header(const QProgram *qp, const char *spec_file, const char *weights_file,
                          int prepare, const char *why, const char *summary, StrBuf *h) {
    const Model *m = &qp->folded;
    const char *n = m->name;
    char up[MAX_NAME];
    export_upper_name(n, up);
    const QTensor *z = &qp->tensors[qp->logits];
    sb_printf(h, "/* %s.h: generated by lenetc from %s and %s (int8); do not edit.\n", n,
              export_base_name(spec_file), export_base_name(weights_file));
    sb_printf(h,
              " *\n"
              " * %s, trained, quantized to int8 (TensorFlow Lite's scheme: weights per\n"
              " * output channel, activations per tensor), as standalone C99: integer\n"
              " * arithmetic only in %s_scores, no malloc, no static mutable state (safe\n"
              " * from any number of threads), constants in flash.\n"
              " * %s\n"
              " *\n"
              " * RAM: the arena, %s_ARENA_BYTES (%ld), where every activation lives at a\n"
              " * planned place, plus the stack of %s_scores_in's own few locals (make\n"
              " * check-mcu measures it); %s_scores puts the arena on its stack.\n"
              " *\n"
              " *   int %s_scores(const uint8_t image[%s_PIXELS], int8_t scores[%s_CLASSES]);\n"
              " *   int %s_scores_in(%s_arena *arena, const uint8_t image[%s_PIXELS],\n"
              " *           int8_t scores[%s_CLASSES]);\n"
              " *\n"
              " * image: %d rows of %d pixels%s, row-major, 0 (background) to 255, as in\n"
              " * MNIST. Returns the predicted class (the first highest score) and writes\n"
              " * the int8 scores: logit k is %s_SCORES_SCALE * (scores[k] - %s_SCORES_ZERO).\n"
              " *\n"
              " *   int %s_predict(const uint8_t image[%s_PIXELS], float probs[%s_CLASSES]);\n"
              " *\n"
              " * The same class, and the softmax of the scores' logits in probs (if not\n"
              " * NULL), as the float export's %s_predict.\n",
              n, n, summary, up, qp->arena, n, n, n, up, up, n, n, up, up, m->in_h, m->in_w,
              m->in_c > 1 ? " (channels interleaved)" : "", up, up, n, up, up, n);
    const bool has_prepare = m->in_c == 1 || m->in_c == 3;
    if (has_prepare)
        sb_printf(h,
                  " *\n"
                  " *   int %s_prepare(const uint8_t *pixels, int width, int height, int channels,\n"
                  " *           uint8_t out[%s_PIXELS]);\n"
                  " *\n"
                  " * Makes an image into the input as `lenetc predict --prepare %s` does,\n"
                  " * byte for byte (%s), exactly as the float export's %s_prepare.\n",
                  n, up, lenet_prepare_choices[prepare].name, why, n);
    sb_puts(h, " */\n");
    sb_printf(h, "#ifndef %s_INT8_H\n#define %s_INT8_H\n\n#include <stdint.h>\n\n", up, up);
    export_header_sizes(m, up, h);
    sb_printf(h, "#define %s_ARENA_BYTES %ld\n", up, qp->arena);
    sb_printf(h, "#define %s_SCORES_SCALE %.9gf\n#define %s_SCORES_ZERO %d\n\n", up, z->q.scale,
              up, z->q.zero);
    sb_printf(h, "/* the arena: any %s_ARENA_BYTES bytes, 4-byte aligned, of this type */\n", up);
    sb_printf(h, "typedef union {\n    int16_t h[%ld];\n    int32_t align;\n} %s_arena;\n\n",
              qp->arena / 2, n);
    sb_printf(h, "int %s_scores(const uint8_t image[%s_PIXELS], int8_t scores[%s_CLASSES]);\n", n,
              up, up);
    sb_printf(h, "int %s_scores_in(%s_arena *arena, const uint8_t image[%s_PIXELS],\n"
                 "        int8_t scores[%s_CLASSES]);\n", n, n, up, up);
    sb_printf(h, "int %s_predict(const uint8_t image[%s_PIXELS], float probs[%s_CLASSES]);\n", n,
              up, up);
    if (has_prepare)
        export_prepare_decl(n, up, h);
    sb_puts(h, "\n#endif\n");
}

void int8_render(const QProgram *qp, const char *spec_file, const char *weights_file, int prepare,
                 const char *why, const char *summary, StrBuf *c, StrBuf *h) {
    const Model *m = &qp->folded;
    const char *n = m->name;
    char up[MAX_NAME];
    export_upper_name(n, up);
    int8_render_header(qp, spec_file, weights_file, prepare, why, summary, h);

    sb_printf(c, "/* %s.c: generated by lenetc from %s and %s (int8); do not edit.\n", n,
              export_base_name(spec_file), export_base_name(weights_file));
    sb_printf(c, " * Standalone int8 inference for %s: see %s.h.\n *\n", n, n);
    sb_printf(c, " * Calibrated on %d training images (each tensor's min and max, widened to\n"
                 " * take 0.0). A tensor's real value is scale * (q - zero):\n", qp->calibrated);
    for (int i = 0; i < qp->n_tensors; i++)
        if (!qp->tensors[i].scratch)
            tensor_comment(c, &qp->tensors[i]);
    sb_printf(c, " * Weights: int8 per output channel, max |w| -> 127; biases int32 at input\n"
                 " * scale x weight scale; both rounded to nearest, halves away from zero.\n"
                 " * Every sum is made int8 by requantize (one rule: halves up).\n"
                 " *\n"
                 " * The arena (%ld bytes): each tensor's place, reused once it is dead\n"
                 " * (operations numbered from 0; the input is written before 0):\n",
              qp->arena);
    sb_puts(c, qp->plan);
    sb_puts(c, " */\n");
    sb_printf(c, "#include \"%s.h\"\n", n);
    sb_puts(c, kernels_src);
    if (uses(qp, Q_MAXPOOL))
        sb_puts(c, maxpool_src);
    if (uses(qp, Q_AVGPOOL))
        sb_puts(c, avgpool_src);
    if (uses(qp, Q_TABLE))
        sb_puts(c, table_src);
    if (uses(qp, Q_ADD) || uses_conv(qp, true))
        sb_puts(c, rescale_src);
    if (uses_conv(qp, false))
        sb_puts(c, depthwise_src);
    if (uses_conv(qp, true))
        sb_puts(c, conv_add_src);
    if (uses(qp, Q_CONCAT))
        sb_puts(c, concat_src);
    if (uses(qp, Q_GLOBAL_AVGPOOL))
        sb_puts(c, global_avgpool_src);
    constants(qp, n, c);
    layer_functions(qp, n, c);

    sb_printf(c, "\nint %s_scores_in(%s_arena *arena, const uint8_t image[%s_PIXELS],\n"
                 "        int8_t scores[%s_CLASSES]) {\n", n, n, up, up);
    sb_puts(c, "    int8_t *a = (int8_t *)arena->h; /* the activations, by byte */\n");
    if (uses(qp, Q_CONV) || uses(qp, Q_DENSE))
        sb_puts(c, "    int16_t *h = arena->h;          /* the columns, by halfword */\n");
    input_copy(qp, c);
    for (int i = 0; i < qp->n_ops; i++)
        op_call(qp, &qp->ops[i], n, c);
    const QTensor *z = &qp->tensors[qp->logits];
    sb_printf(c, "    const int8_t *z = a + %ld;\n", z->off);
    sb_puts(c, "    int best = 0;\n");
    sb_printf(c, "    for (int k = 0; k < %d; k++) {\n", m->n_classes);
    sb_puts(c, "        scores[k] = z[k];\n        if (z[k] > z[best])\n            best = k;\n    }\n");
    sb_puts(c, "    return best;\n}\n");

    sb_printf(c, "\nint %s_scores(const uint8_t image[%s_PIXELS], int8_t scores[%s_CLASSES]) {\n"
                 "    %s_arena arena;\n"
                 "    return %s_scores_in(&arena, image, scores);\n}\n", n, up, up, n, n);

    emit_exp_neg(c);
    sb_printf(c, "\nint %s_predict(const uint8_t image[%s_PIXELS], float probs[%s_CLASSES]) {\n", n,
              up, up);
    sb_printf(c, "    int8_t s[%s_CLASSES];\n", up);
    sb_printf(c, "    const int best = %s_scores(image, s);\n", n);
    sb_puts(c, "    if (probs) {\n        float sum = 0;\n");
    sb_printf(c, "        for (int k = 0; k < %s_CLASSES; k++)\n", up);
    sb_printf(c, "            sum += probs[k] = exp_neg(%s_SCORES_SCALE * (float)(s[k] - s[best]));\n", up);
    sb_printf(c, "        for (int k = 0; k < %s_CLASSES; k++)\n", up);
    sb_puts(c, "            probs[k] /= sum;\n    }\n    return best;\n}\n");
    if (m->in_c == 1 || m->in_c == 3)
        emit_prepare(m, prepare, n, up, c);
}
