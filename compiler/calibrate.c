/* calibrate.c: the ranges of a float model's activations, for int8.
 *
 * The model runs in evaluation mode (batchnorm by its running statistics,
 * dropout a copy) through the JIT with the sse2 kernels, whose bits are the
 * same on every x86-64 CPU (no FMA, whatever the machine has), so that the
 * export is too; where there are none (aarch64), the loop style, tcc's
 * own scalar code; over images
 * spread evenly through the data, and every layer's output is watched:
 * its minimum and maximum over all of them (TensorFlow Lite's default
 * calibration). The same run gives the float model's test accuracy, which
 * the int8 export is measured against.
 */
#include <float.h>
#include <stdio.h>
#include <stdlib.h>

#include "int8.h"

enum { TILE = 16 };

typedef struct {
    const Model *m;
    lenet_model *lm;
    Jit *jit;
    const float *params;
    float *acts;
} FloatModel;

static int open_float(FloatModel *f, const Model *m, const float *params) {
    Diag d = {.file = m->name};
    const lenet_target *sse2 = lenet_target_find("sse2");
    const bool portable = sse2 && lenet_target_runs(sse2);
    EmitOptions o = {.style = portable ? STYLE_KERNELS : STYLE_LOOPS,
                     .target = portable ? "sse2" : NULL, .tile = TILE, .real = "float",
                     .spec_file = m->name, .every_output = true};
    f->m = m;
    f->params = params;
    f->lm = model_descriptor(m, TILE);
    f->acts = f->lm ? calloc(f->lm->act_floats, sizeof *f->acts) : NULL;
    f->jit = f->acts ? jit_compile(m, &o, f->lm, &d, NULL, NULL) : NULL;
    if (!f->jit) {
        fprintf(stderr, "lenetc: %s\n", f->acts ? d.msg : "out of memory");
        return -1;
    }
    return 0;
}

static void close_float(FloatModel *f) {
    if (f->jit)
        jit_free(f->jit);
    free(f->acts);
    if (f->lm)
        descriptor_free(f->lm);
}

/* The forward pass over samples idx[0..n) of ds (n <= TILE). */
static void run_tile(FloatModel *f, const lenet_dataset *ds, const int *idx, int n) {
    lenet_load_tile(f->lm, ds, idx, n, f->acts);
    f->lm->forward(f->params, f->acts, &(lenet_pass){.training = 0, .lanes = n});
}

/* Lane b's class: the first highest logit. */
static int best_class(const FloatModel *f, int b) {
    const float *z = f->acts + f->m->logits_off * TILE;
    int best = 0;
    for (int k = 1; k < f->m->n_classes; k++)
        if (z[k * TILE + b] > z[best * TILE + b])
            best = k;
    return best;
}

int int8_calibrate(const Model *m, const float *params, const lenet_dataset *ds, int n,
                   double (*range)[2], const lenet_dataset *test, double *accuracy) {
    FloatModel f = {0};
    if (open_float(&f, m, params)) {
        close_float(&f);
        return -1;
    }
    if (n > ds->count)
        n = ds->count;
    for (int i = 0; i < m->n_layers; i++)
        range[i][0] = DBL_MAX, range[i][1] = -DBL_MAX;
    int idx[TILE];
    for (int s = 0; s < n; s += TILE) {
        const int k = n - s < TILE ? n - s : TILE;
        for (int b = 0; b < k; b++) /* spread over the set: every class */
            idx[b] = (int)((long)(s + b) * ds->count / n);
        run_tile(&f, ds, idx, k);
        for (int i = 0; i < m->n_layers; i++) {
            const Layer *l = &m->layers[i];
            const float *out = f.acts + l->out_off * TILE;
            for (long v = 0; v < shape_size(l->out); v++)
                for (int b = 0; b < k; b++) {
                    const double x = out[v * TILE + b];
                    if (x < range[i][0])
                        range[i][0] = x;
                    if (x > range[i][1])
                        range[i][1] = x;
                }
        }
    }
    if (test && accuracy) {
        int right = 0;
        for (int s = 0; s < test->count; s += TILE) {
            const int k = test->count - s < TILE ? test->count - s : TILE;
            for (int b = 0; b < k; b++)
                idx[b] = s + b;
            run_tile(&f, test, idx, k);
            for (int b = 0; b < k; b++)
                right += best_class(&f, b) == test->labels[s + b];
        }
        *accuracy = test->count ? (double)right / test->count : 0;
    }
    close_float(&f);
    return 0;
}
