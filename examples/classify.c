/* classify.c: classifies a binary PGM (P5, maxval 255, no comments) with the
 * standalone export of lenet5: cc -std=c99 -O2 classify.c lenet5.c -o classify */
#include <stdio.h>
#include <stdlib.h>
#include "lenet5.h"

int main(int argc, char **argv) {
    int w, h, max;
    FILE *f = argc == 2 ? fopen(argv[1], "rb") : NULL;
    if (!f || fscanf(f, "P5 %d %d %d", &w, &h, &max) != 3 || w < 1 || h < 1 || max != 255 ||
        fgetc(f) == EOF) {
        fprintf(stderr, "usage: classify IMAGE.pgm (a binary PGM, maxval 255)\n");
        return 2;
    }
    uint8_t *pixels = malloc((size_t)w * h), input[LENET5_PIXELS];
    if (!pixels || fread(pixels, 1, (size_t)w * h, f) != (size_t)w * h) {
        fprintf(stderr, "%s: cannot read %dx%d pixels\n", argv[1], w, h);
        return 1;
    }
    if (lenet5_prepare(pixels, w, h, 1, input) < 0) { /* -1: no ink */
        printf("%s: no ink found\n", argv[1]);
        return 0;
    }
    float probs[LENET5_CLASSES];
    const int k = lenet5_predict(input, probs);
    printf("%s: %d (%.4f)\n", argv[1], k, probs[k]);
    return 0;
}
