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

/* The n images img[b] (data_h x data_w x data_c, uint8) into the tile. */
static void load_images(const lenet_model *m, const uint8_t *const *img, int cols, int n,
                        float *acts) {
    const int T = m->tile, P = m->pad, H = m->data_h + 2 * P, W = m->data_w + 2 * P;
    const int C = m->data_c;
    float lut[256];
    for (int p = 0; p < 256; p++)
        lut[p] = (float)(m->scale_lo + (m->scale_hi - (double)m->scale_lo) * p / 255.0);
    /* pixel by pixel, so that each pixel's T lanes are written together */
    for (int c = 0; c < C; c++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                float *dst = acts + (((size_t)c * H + y) * W + x) * T;
                const int sy = y - P, sx = x - P;
                const bool inside = sy >= 0 && sy < m->data_h && sx >= 0 && sx < m->data_w;
                const size_t at = inside ? ((size_t)sy * cols + sx) * C + c : 0;
                for (int b = 0; b < n; b++)
                    dst[b] = lut[inside ? img[b][at] : 0];
                for (int b = n; b < T; b++)
                    dst[b] = 0;
            }
}

void lenet_load_tile(const lenet_model *m, const lenet_dataset *ds, const int *idx, int n,
                     float *acts) {
    const uint8_t *img[LENET_MAX_TILE];
    for (int b = 0; b < n; b++)
        img[b] = ds->images + (size_t)idx[b] * ds->rows * ds->cols * m->data_c;
    load_images(m, img, ds->cols, n, acts);
}

void lenet_load_tile_augmented(const lenet_model *m, const lenet_dataset *ds, const int *idx,
                               int n, float *acts, const lenet_hparams *h, uint64_t key,
                               int first) {
    const size_t size = (size_t)ds->rows * ds->cols * m->data_c;
    uint8_t *copies = malloc(size * (size_t)(n ? n : 1));
    if (!copies) { /* no room for copies: the images as they are */
        lenet_load_tile(m, ds, idx, n, acts);
        return;
    }
    const uint8_t *img[LENET_MAX_TILE];
    for (int b = 0; b < n; b++) {
        lenet_augment_image(h, lenet_step_seed(key, first + b), ds->images + idx[b] * size,
                            ds->rows, ds->cols, m->data_c, copies + b * size);
        img[b] = copies + b * size;
    }
    load_images(m, img, ds->cols, n, acts);
    free(copies);
}
