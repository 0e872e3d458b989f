/* images.c: a host tool that writes the harness's test images as C:
 *
 *   images IDX.gz N OUT.c
 *
 * reads the first N images of a gzip'd IDX image file (MNIST's
 * t10k-images-idx3-ubyte.gz) and writes OUT.c with
 *   const uint8_t mcu_images[N][ROWS*COLS]   (const: in the board's flash)
 *   const unsigned mcu_image_count, mcu_image_pixels;
 * which run.c links on the board and on the host alike. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <zlib.h>

static uint32_t be32(const unsigned char *b) {
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: images IDX.gz N OUT.c\n");
        return 2;
    }
    long n = strtol(argv[2], NULL, 10);
    gzFile in = gzopen(argv[1], "rb");
    if (!in) {
        perror(argv[1]);
        return 1;
    }
    unsigned char h[16];
    if (gzread(in, h, sizeof h) != (int)sizeof h || be32(h) != 0x803) {
        fprintf(stderr, "%s: not an IDX file of 8-bit images (magic 0x00000803)\n", argv[1]);
        return 1;
    }
    uint32_t count = be32(h + 4), pixels = be32(h + 8) * be32(h + 12);
    if (n < 1 || (uint32_t)n > count || pixels == 0 || pixels > 1u << 20) {
        fprintf(stderr, "%s: has %u images of %u pixels; asked for %ld\n", argv[1], count,
                pixels, n);
        return 1;
    }
    unsigned char *img = malloc(pixels);
    FILE *out = fopen(argv[3], "w");
    if (!img || !out) {
        perror(argv[3]);
        return 1;
    }
    fprintf(out, "/* %ld images of %u pixels from %s, by tests/mcu/images.c */\n", n, pixels,
            argv[1]);
    fprintf(out, "#include <stdint.h>\n\n");
    fprintf(out, "const unsigned mcu_image_count = %ld, mcu_image_pixels = %u;\n", n, pixels);
    fprintf(out, "const uint8_t mcu_images[%ld][%u] = {\n", n, pixels);
    for (long i = 0; i < n; i++) {
        if (gzread(in, img, pixels) != (int)pixels) {
            fprintf(stderr, "%s: short read at image %ld\n", argv[1], i);
            return 1;
        }
        fprintf(out, "  {");
        for (uint32_t p = 0; p < pixels; p++)
            fprintf(out, "%s%u,", p % 28 ? "" : "\n   ", img[p]);
        fprintf(out, "\n  },\n");
    }
    fprintf(out, "};\n");
    gzclose(in);
    free(img);
    if (fclose(out)) {
        perror(argv[3]);
        return 1;
    }
    return 0;
}
