/* tile.c: images (uint8, row-major, each pixel's channels together) -> a
 * batch-innermost input tile, channel-planar as the generated code reads
 * it: in[c][y][x][lane]. The data stays uint8 until a tile needs it; a
 * 256-entry table does the scaling so every path converts pixels
 * identically. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lenet_core.h"
#include "lenet_model.h"

/* Pixel value v in lanes [0, n) and 0 in [n, T) of each of count pixels
 * from dst on (T lanes each): the padding around the images. */
static void fill_pixels(float *dst, size_t count, int T, int n, float v) {
    for (size_t p = 0; p < count; p++, dst += T) {
        for (int b = 0; b < n; b++)
            dst[b] = v;
        for (int b = n; b < T; b++)
            dst[b] = 0;
    }
}

/* dst[x * T] = lut[src[x * C]] for x < count, four at a time. */
static void lookup_row(const uint8_t *src, int C, int count, const float *lut, float *dst,
                       int T) {
    const size_t c = (size_t)C, t = (size_t)T;
    int x = 0;
    for (; x + 4 <= count; x += 4, src += 4 * c, dst += 4 * t) {
        const float v0 = lut[src[0]], v1 = lut[src[c]], v2 = lut[src[2 * c]],
                    v3 = lut[src[3 * c]];
        dst[0] = v0;
        dst[t] = v1;
        dst[2 * t] = v2;
        dst[3 * t] = v3;
    }
    for (; x < count; x++, src += c, dst += t)
        *dst = lut[*src];
}

/* The n images img[b] (data_h x data_w x data_c, uint8) into the tile.
 * Image by image, a row at a time: each lane is the table lookups of one
 * image's row, read in order and written T floats apart, so that the inner
 * loop is a byte load, a table load and a store (pixel by pixel, each of
 * the T lanes would reload its image's pointer and index). */
static void load_images(const lenet_model *m, const uint8_t *const *img, int cols, int n,
                        float *acts) {
    const int T = m->tile, P = m->pad, H = m->data_h + 2 * P, W = m->data_w + 2 * P;
    const int C = m->data_c, DW = m->data_w;
    float lut[256];
    for (int p = 0; p < 256; p++)
        lut[p] = (float)(m->scale_lo + (m->scale_hi - (double)m->scale_lo) * p / 255.0);
    for (int c = 0; c < C; c++)
        for (int y = 0; y < H; y++) {
            float *row = acts + ((size_t)c * H + y) * W * T;
            const int sy = y - P;
            if (sy < 0 || sy >= m->data_h) { /* a row of padding */
                fill_pixels(row, (size_t)W, T, n, lut[0]);
                continue;
            }
            fill_pixels(row, (size_t)P, T, n, lut[0]);
            fill_pixels(row + (size_t)(P + DW) * T, (size_t)P, T, n, lut[0]);
            float *inside = row + (size_t)P * T;
            for (int b = 0; b < n; b++)
                lookup_row(img[b] + (size_t)sy * cols * C + c, C, DW, lut, inside + b, T);
            if (n < T)
                for (int x = 0; x < DW; x++)
                    memset(inside + (size_t)x * T + n, 0, sizeof(float) * (size_t)(T - n));
        }
}

/* Bytes an image of ds takes, with the model's channels (the loader checks
 * that ds has them; a data set put together by hand may leave its own
 * count unset), and where image i starts. */
static size_t image_bytes(const lenet_model *m, const lenet_dataset *ds) {
    return (size_t)ds->rows * ds->cols * (size_t)m->data_c;
}

static const uint8_t *image_at(const lenet_model *m, const lenet_dataset *ds, int i) {
    return ds->images + (size_t)i * image_bytes(m, ds);
}

void lenet_load_tile(const lenet_model *m, const lenet_dataset *ds, const int *idx, int n,
                     float *acts) {
    const uint8_t *img[LENET_MAX_TILE];
    for (int b = 0; b < n; b++)
        img[b] = image_at(m, ds, idx[b]);
    load_images(m, img, ds->cols, n, acts);
}

void lenet_prefetch_tile(const lenet_model *m, const lenet_dataset *ds, const int *idx, int n) {
    const size_t size = image_bytes(m, ds);
    for (int b = 0; size > 0 && b < n; b++) {
        const char *img = (const char *)image_at(m, ds, idx[b]);
        for (size_t at = 0; at < size; at += 64) /* a cache line at a time */
            __builtin_prefetch(img + at, 0, 3);
        __builtin_prefetch(img + size - 1, 0, 3);
    }
}

void lenet_load_tile_augmented(const lenet_model *m, const lenet_dataset *ds, const int *idx,
                               int n, float *acts, const lenet_hparams *h, uint64_t key,
                               int first) {
    const size_t size = image_bytes(m, ds);
    uint8_t *copies = malloc(size * (size_t)(n ? n : 1));
    if (!copies) { /* no room for copies: the images as they are */
        lenet_load_tile(m, ds, idx, n, acts);
        return;
    }
    const uint8_t *img[LENET_MAX_TILE];
    for (int b = 0; b < n; b++) {
        lenet_augment_image(h, lenet_step_seed(key, first + b), image_at(m, ds, idx[b]),
                            ds->rows, ds->cols, m->data_c, copies + b * size);
        img[b] = copies + b * size;
    }
    load_images(m, img, ds->cols, n, acts);
    free(copies);
}
