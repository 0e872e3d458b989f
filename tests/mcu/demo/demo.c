/* demo.c: see demo.h. The scheme, TFLite's for a dense layer:
 *   acc[c] = bias[c] + sum_i w[c][i] * x[i]        (int32; x the pixel, 0..255:
 *            an input scale of 1/255 with zero point 0 as uint8)
 *   q[c]   = clamp(ZERO + round(acc[c] * mult[c] / 2^(31 + shift[c])), -128, 127)
 * with mult[c] a Q31 multiplier in [2^30, 2^31) and one rounding rule:
 * round half up, (p + 2^(k-1)) >> k on the int64 product p (an arithmetic
 * shift for negative p, as gcc does everywhere). |acc| < 784*255*127 < 2^25,
 * so p < 2^56 fits. */
#include "demo.h"

extern const int8_t demo_weights[DEMO_CLASSES][DEMO_PIXELS];
extern const int32_t demo_bias[DEMO_CLASSES];
extern const int32_t demo_mult[DEMO_CLASSES];
extern const uint8_t demo_shift[DEMO_CLASSES];

static int8_t requantize(int32_t acc, int32_t mult, int shift) {
    int k = 31 + shift;
    int64_t p = (int64_t)acc * mult;
    int32_t q = (int32_t)((p + ((int64_t)1 << (k - 1))) >> k) + DEMO_SCORES_ZERO;
    return (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
}

int demo_scores(const uint8_t image[DEMO_PIXELS], int8_t scores[DEMO_CLASSES]) {
    int32_t acc[DEMO_CLASSES];
    for (int c = 0; c < DEMO_CLASSES; c++) {
        const int8_t *w = demo_weights[c];
        int32_t a = demo_bias[c];
        for (int i = 0; i < DEMO_PIXELS; i++)
            a += w[i] * image[i];
        acc[c] = a;
    }
    int best = 0;
    for (int c = 0; c < DEMO_CLASSES; c++) {
        scores[c] = requantize(acc[c], demo_mult[c], demo_shift[c]);
        if (scores[c] > scores[best])
            best = c;
    }
    return best;
}
