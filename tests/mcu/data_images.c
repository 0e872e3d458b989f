/* data_images.c: a host tool that writes the harness's test images as C
 * from any data set lenetc reads (--data: image folders, CIFAR batches),
 * as the model takes them:
 *
 *   data-images DATA H W C N OUT.c
 *
 * loads DATA's test set converted to H x W x C (the runtime's loader, so
 * the bytes are those lenetc's export scored) and writes N of its images,
 * spread evenly over it (a folder set is sorted by class: the first N
 * would be one class), in images.c's form: mcu_images[N][H*W*C] (rows,
 * then columns, channels together), mcu_image_count, mcu_image_pixels. */
#include <stdio.h>
#include <stdlib.h>

#include "lenet.h"

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: data-images DATA H W C N OUT.c\n");
        return 2;
    }
    lenet_data_request rq = {.path = argv[1], .h = atoi(argv[2]), .w = atoi(argv[3]),
                             .c = atoi(argv[4]), .classes = LENET_MAX_CLASSES};
    const long n = strtol(argv[5], NULL, 10);
    lenet_dataset test = {0};
    lenet_error err;
    if (rq.h < 1 || rq.w < 1 || rq.c < 1) {
        fprintf(stderr, "data-images: bad size %sx%sx%s\n", argv[2], argv[3], argv[4]);
        return 2;
    }
    if (lenet_load_data(&rq, NULL, &test, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    if (n < 1 || n > test.count) {
        fprintf(stderr, "data-images: %s has %d test images; asked for %ld\n", argv[1],
                test.count, n);
        return 1;
    }
    const long pixels = (long)rq.h * rq.w * rq.c, row = (long)rq.w * rq.c;
    FILE *out = fopen(argv[6], "w");
    if (!out) {
        perror(argv[6]);
        return 1;
    }
    fprintf(out, "/* %ld of the %d test images of %s (%dx%dx%d), by tests/mcu/data_images.c */\n",
            n, test.count, argv[1], rq.h, rq.w, rq.c);
    fprintf(out, "#include <stdint.h>\n\n");
    fprintf(out, "const unsigned mcu_image_count = %ld, mcu_image_pixels = %ld;\n", n, pixels);
    fprintf(out, "const uint8_t mcu_images[%ld][%ld] = {\n", n, pixels);
    for (long i = 0; i < n; i++) {
        const uint8_t *img = test.images + pixels * (i * test.count / n);
        fprintf(out, "  {");
        for (long p = 0; p < pixels; p++)
            fprintf(out, "%s%u,", p % row ? "" : "\n   ", img[p]);
        fprintf(out, "\n  },\n");
    }
    fprintf(out, "};\n");
    lenet_free_dataset(&test);
    if (fclose(out)) {
        perror(argv[6]);
        return 1;
    }
    return 0;
}
