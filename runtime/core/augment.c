/* augment.c: random translation, rotation and scaling of training images,
 * on their uint8 pixels, before the tile's scaling.
 *
 * Each image gets its own draw from a stream keyed by the step's seed and
 * its place in the batch, so a run's augmentations do not depend on the
 * thread count, and a resumed run draws the same ones. The output pixel
 * (x, y) samples the input bilinearly at the inverse transform about the
 * image's centre; what falls outside the image is 0 (MNIST's background).
 */
#include <math.h>
#include <stdbool.h>

#include "lenet_core.h"
#include "lenet_model.h"

int lenet_augments(const lenet_hparams *h) {
    return h->aug_shift > 0 || h->aug_rotate > 0 || h->aug_scale > 0;
}

/* Pixel (x, y) of channel ch, 0 outside. */
static float pixel(const uint8_t *img, int h, int w, int c, int x, int y, int ch) {
    return x < 0 || y < 0 || x >= w || y >= h ? 0.0f : img[((size_t)y * w + x) * c + ch];
}

void lenet_augment_image(const lenet_hparams *hp, uint64_t key, const uint8_t *src, int h, int w,
                         int c, uint8_t *dst) {
    lenet_rng r;
    lenet_rng_seed(&r, key);
    /* uniform in [-a, a] */
    const float dx = hp->aug_shift * (2 * lenet_rng_uniform(&r) - 1);
    const float dy = hp->aug_shift * (2 * lenet_rng_uniform(&r) - 1);
    const double angle = hp->aug_rotate * (2 * lenet_rng_uniform(&r) - 1) * 3.14159265358979 / 180;
    const double scale = 1 + hp->aug_scale * (2 * lenet_rng_uniform(&r) - 1);
    /* the inverse: undo the shift, then the rotation and the scaling */
    const float ca = (float)(cos(angle) / scale), sa = (float)(sin(angle) / scale);
    const float cx = (w - 1) * 0.5f, cy = (h - 1) * 0.5f;
    /* floor by truncation of a positive number: every source point a
     * sample can reach lies above -bias */
    const int bias = 2 * (w + h) + 128;
    for (int y = 0; y < h; y++) {
        /* the source point of (x, y) moves by (ca, -sa) per step in x */
        const float py = y - cy - dy, px0 = -cx - dx;
        float sx = ca * px0 + sa * py + cx, sy = -sa * px0 + ca * py + cy;
        for (int x = 0; x < w; x++, sx += ca, sy -= sa) {
            const int x0 = (int)(sx + bias) - bias, y0 = (int)(sy + bias) - bias;
            const float ax = sx - x0, ay = sy - y0;
            uint8_t *out = dst + ((size_t)y * w + x) * c;
            if (x0 < -1 || y0 < -1 || x0 >= w || y0 >= h) { /* wholly outside */
                for (int ch = 0; ch < c; ch++)
                    out[ch] = 0;
                continue;
            }
            const bool inside = x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h;
            for (int ch = 0; ch < c; ch++) {
                float p00, p01, p10, p11;
                if (inside) {
                    const uint8_t *q = src + ((size_t)y0 * w + x0) * c + ch;
                    p00 = q[0], p01 = q[c], p10 = q[(size_t)w * c], p11 = q[(size_t)w * c + c];
                } else {
                    p00 = pixel(src, h, w, c, x0, y0, ch);
                    p01 = pixel(src, h, w, c, x0 + 1, y0, ch);
                    p10 = pixel(src, h, w, c, x0, y0 + 1, ch);
                    p11 = pixel(src, h, w, c, x0 + 1, y0 + 1, ch);
                }
                const float v = (1 - ay) * ((1 - ax) * p00 + ax * p01) +
                                ay * ((1 - ax) * p10 + ax * p11);
                out[ch] = (uint8_t)(v + 0.5f);
            }
        }
    }
}
