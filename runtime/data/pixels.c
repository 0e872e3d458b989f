/* pixels.c: an image's pixels into a model's input size and channels.
 *
 * Transparency has one rule, here, for the data loader and predict alike
 * (and written out again in the export's NAME_prepare): a transparent
 * pixel is white, as the page a drawing program's ink sits on, unless what
 * is drawn is light (its mean brightness, weighted by alpha, above half):
 * then black. So black ink on a transparent page reads as ink on paper and
 * white ink on one as ink on a blackboard, never as a blank image.
 *
 * Channels first (on the source's pixels, the fewer when shrinking is the
 * common case), then each axis on its own: the area average for an axis
 * that shrinks (every source pixel counts with the part of it an output
 * pixel covers) and bilinear interpolation between pixel centres for one
 * that grows. Both are separable, so the two passes give the 2-D filter.
 */
#include <stdlib.h>
#include <string.h>

#include "lenet_data.h"

/* Taps of one output position along an axis: source pixels [first, first +
 * n) with weights w[0..n), summing to 1. */
typedef struct {
    int first, n;
    float *w;
} taps;

/* The taps of every output position of an axis of `in` pixels resized to
 * `out`; a table of out entries whose weights live in *store. */
static taps *axis_taps(int in, int out, float **store) {
    const int most = in > out ? in / out + 2 : 2;
    taps *t = malloc(sizeof *t * (size_t)out);
    float *w = malloc(sizeof *w * (size_t)out * most);
    if (!t || !w) {
        free(t);
        free(w);
        return NULL;
    }
    *store = w;
    const double scale = (double)in / out; /* source pixels per output pixel */
    for (int o = 0; o < out; o++) {
        taps *k = &t[o];
        k->w = w + (size_t)o * most;
        if (in > out) { /* area: [o * scale, (o + 1) * scale) */
            const double a = o * scale, b = (o + 1) * scale;
            k->first = (int)a;
            k->n = 0;
            for (int s = k->first; s < b && s < in; s++)
                k->w[k->n++] = (float)(((s + 1 < b ? s + 1 : b) - (s > a ? s : a)) / scale);
        } else { /* bilinear: the centre o + 0.5 maps to (o + 0.5) * scale - 0.5 */
            double x = (o + 0.5) * scale - 0.5;
            x = x < 0 ? 0 : x > in - 1 ? in - 1 : x;
            k->first = (int)x;
            const float f = (float)(x - k->first);
            k->n = k->first + 1 < in && f > 0 ? 2 : 1;
            k->w[0] = k->n == 2 ? 1 - f : 1;
            k->w[1] = f;
        }
    }
    return t;
}

/* ---- transparency ---------------------------------------------------- */

static unsigned luma(const uint8_t *p, int c) {
    return c == 3 ? (299u * p[0] + 587u * p[1] + 114u * p[2] + 500) / 1000 : p[0];
}

void lenet_gray_pixels(const uint8_t *rgb, size_t n, uint8_t *gray) {
    for (size_t i = 0; i < n; i++) /* front to back: gray may be rgb */
        gray[i] = (uint8_t)luma(rgb + i * 3, 3);
}

int lenet_alpha_background(const uint8_t *px, size_t n, int channels) {
    if (channels != 2 && channels != 4)
        return 255;
    const int c = channels - 1;
    uint64_t alpha = 0, ink = 0; /* sums of a and of a * luma */
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = px + i * channels;
        alpha += p[c];
        ink += (uint64_t)p[c] * luma(p, c);
    }
    return 2 * ink > 255 * alpha ? 0 : 255;
}

void lenet_flatten_alpha(const uint8_t *src, size_t n, int channels, uint8_t *dst) {
    const unsigned bg = (unsigned)lenet_alpha_background(src, n, channels);
    const int c = channels - 1;
    for (size_t i = 0; i < n; i++) { /* front to back: dst may be src */
        const uint8_t *p = src + i * channels;
        const unsigned a = p[c];
        for (int k = 0; k < c; k++)
            dst[i * c + k] = (uint8_t)((p[k] * a + bg * (255 - a) + 127) / 255);
    }
}

/* ---- resizing --------------------------------------------------------- */

static uint8_t to_byte(float v) {
    return v <= 0 ? 0 : v >= 255 ? 255 : (uint8_t)(v + 0.5f);
}

void lenet_fit_pixels(const uint8_t *src, int sh, int sw, int sc, uint8_t *dst, int dh, int dw,
                      int dc) {
    const size_t spix = (size_t)sh * sw;
    /* channels: copy, BT.601 luma, or gray repeated */
    uint8_t *conv = NULL;
    const uint8_t *in = src;
    if (sc != dc) {
        conv = malloc(spix * dc);
        if (!conv) {
            memset(dst, 0, (size_t)dh * dw * dc);
            return;
        }
        if (dc == 1)
            lenet_gray_pixels(src, spix, conv);
        else
            for (size_t i = 0; i < spix; i++)
                for (int k = 0; k < dc; k++)
                    conv[i * dc + k] = src[i];
        in = conv;
    }
    const int c = dc;
    if (sh == dh && sw == dw) {
        memcpy(dst, in, spix * c);
        free(conv);
        return;
    }
    float *wx = NULL, *wy = NULL;
    taps *tx = axis_taps(sw, dw, &wx), *ty = axis_taps(sh, dh, &wy);
    float *rows = malloc(sizeof *rows * (size_t)sh * dw * c); /* after the x pass */
    if (!tx || !ty || !rows) {
        memset(dst, 0, (size_t)dh * dw * c);
        goto out;
    }
    for (int y = 0; y < sh; y++)
        for (int x = 0; x < dw; x++)
            for (int k = 0; k < c; k++) {
                const taps *t = &tx[x];
                const uint8_t *p = in + ((size_t)y * sw + t->first) * c + k;
                float v = 0;
                for (int i = 0; i < t->n; i++)
                    v += t->w[i] * p[(size_t)i * c];
                rows[((size_t)y * dw + x) * c + k] = v;
            }
    for (int y = 0; y < dh; y++)
        for (int x = 0; x < dw; x++)
            for (int k = 0; k < c; k++) {
                const taps *t = &ty[y];
                const float *p = rows + ((size_t)t->first * dw + x) * c + k;
                float v = 0;
                for (int i = 0; i < t->n; i++)
                    v += t->w[i] * p[(size_t)i * dw * c];
                dst[((size_t)y * dw + x) * c + k] = to_byte(v);
            }
out:
    free(tx);
    free(ty);
    free(wx);
    free(wy);
    free(rows);
    free(conv);
}
