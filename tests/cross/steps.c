/* steps.c: the driver of `make check-neon`. Trains the model it is linked
 * with (lenet5_model) for STEPS steps of 64 images, in file order, on one
 * thread, from raw (not gzip'd) IDX files, and prints each step's mean loss.
 * (64: in this window of training a one-ulp nudge to a weight stayed under
 * 5e-7; in some windows of 128 or 256 it moves a loss by 1e-4.)
 * Given a file of another build's losses, it checks that every step agrees
 * within 1e-4 (relative) and exits 1 at the first that does not.
 *
 *   steps IMAGES LABELS STEPS [REFERENCE]
 *
 * It links only the runtime's core (runtime/core/) and kernels (no zlib, no
 * JSON, no PNG), so it cross-compiles with nothing but a C library. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lenet_core.h"   /* what it links: the core ... */
#include "lenet_target.h" /* ... and the target choice */

extern const lenet_model lenet5_model;

static unsigned char *slurp(const char *path, long *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    *len = ftell(f);
    rewind(f);
    unsigned char *p = malloc((size_t)*len);
    if (!p || fread(p, 1, (size_t)*len, f) != (size_t)*len) {
        fprintf(stderr, "%s: cannot read\n", path);
        exit(2);
    }
    fclose(f);
    return p;
}

static unsigned be32(const unsigned char *p) {
    return (unsigned)p[0] << 24 | (unsigned)p[1] << 16 | (unsigned)p[2] << 8 | p[3];
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s IMAGES LABELS STEPS [REFERENCE]\n", argv[0]);
        return 2;
    }
    long ilen, llen;
    unsigned char *img = slurp(argv[1], &ilen), *lab = slurp(argv[2], &llen);
    lenet_dataset ds = {.count = (int)be32(img + 4), .rows = (int)be32(img + 8),
                        .cols = (int)be32(img + 12), .images = img + 16, .labels = lab + 8};
    const int steps = atoi(argv[3]), B = 64;
    if (be32(img) != 0x803 || be32(lab) != 0x801 || steps < 1 || (long)steps * B > ds.count ||
        ilen < 16 + (long)ds.count * ds.rows * ds.cols || llen < 8 + ds.count) {
        fprintf(stderr, "%s: need IDX image and label files of at least %d x %d images\n",
                argv[0], steps, B);
        return 2;
    }
    FILE *ref = argc > 4 ? fopen(argv[4], "r") : NULL;
    if (argc > 4 && !ref) {
        perror(argv[4]);
        return 2;
    }
    lenet_error err;
    if (lenet_check_target(&lenet5_model, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 2;
    }
    lenet_hparams h = lenet5_model.defaults;
    h.batch = B;
    lenet_trainer t;
    if (lenet_trainer_init(&t, &lenet5_model, &h, 1)) {
        fprintf(stderr, "out of memory\n");
        return 2;
    }
    int idx[64], correct = 0, rc = 0;
    for (int s = 0; s < steps && !rc; s++) {
        for (int i = 0; i < B; i++)
            idx[i] = s * B + i;
        const double loss = lenet_trainer_step(&t, &ds, idx, B, &correct) / B;
        printf("%d %.9g\n", s + 1, loss);
        double want;
        int step;
        if (ref && (fscanf(ref, "%d %lf", &step, &want) != 2 || step != s + 1 ||
                    !(fabs(loss - want) <= 1e-4 * fabs(want)))) {
            fprintf(stderr, "step %d: loss %.9g, the reference has %.9g\n", s + 1, loss, want);
            rc = 1;
        }
    }
    if (ref)
        fclose(ref);
    lenet_trainer_free(&t);
    free(img);
    free(lab);
    return rc;
}
