/* depthwise.c: the runtime's depthwise kernels on their own, one thread,
 * at ds-cnn's shape (64 channels of 16x16, 3x3, stride 1, padding 1; a
 * tile of 16): GFLOP/s of each (2 per multiply-add, padding taps counted
 * as the model's multiply-adds are) for each target this CPU runs, the best
 * of 5 runs of 200 calls. CHANNELS (2nd argument) fewer keeps the data in
 * cache; PEAK (1st, GFLOP/s of one core: bench/peak.c's figure over the
 * cores) adds "% of peak".
 *
 *   cc -O2 -Iruntime -Iruntime/kernels -Iruntime/core -o build/bench-depthwise \
 *     bench/depthwise.c runtime/liblenet.a -lm -lpthread
 *   build/bench-depthwise 115.5 64
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lenet_kernels.h"
#include "lenet_target.h"

typedef void (*forward_fn)(const lenet_depthwise *, const float *, const float *, float *,
                           const float *);
typedef void (*input_fn)(const lenet_depthwise *, const float *, const float *, float *);
typedef void (*weight_fn)(const lenet_depthwise *, const float *, const float *, float *,
                          float *);

static void *symbol(const lenet_target *t, const char *name) {
    for (const lenet_symbol *s = t->symbols; s->name; s++)
        if (!strcmp(s->name, name))
            return s->fn;
    return NULL;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    const double peak = argc > 1 ? atof(argv[1]) : 0;
    const int C = argc > 2 ? atoi(argv[2]) : 64, T = 16, N = 200;
    const lenet_depthwise d = {.c = C, .h = 16, .w = 16, .mult = 1, .oh = 16, .ow = 16,
                               .k = 3, .stride = 1, .pt = 1, .pl = 1, .tile = T};
    const long n = (long)C * 16 * 16 * T;
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    float *w = malloc(C * 9 * sizeof *w), *bias = calloc(C, sizeof *bias);
    float *gw = calloc(C * 9, sizeof *gw), *gb = calloc(C, sizeof *gb);
    for (long i = 0; i < n; i++)
        a[i] = (float)(i % 7) * 0.1f, b[i] = (float)(i % 5) * 0.1f;
    for (int i = 0; i < C * 9; i++)
        w[i] = (float)i * 0.01f;
    const double flops = 2.0 * C * 16 * 16 * 9 * T;
    for (int i = 0; lenet_target_at(i); i++) {
        const lenet_target *t = lenet_target_at(i);
        if (!lenet_target_runs(t))
            continue;
        forward_fn fwd = (forward_fn)symbol(t, "lenet_sdepthwise_forward");
        input_fn in = (input_fn)symbol(t, "lenet_sdepthwise_input_grad");
        weight_fn wg = (weight_fn)symbol(t, "lenet_sdepthwise_weight_grad");
        static const char *const what[] = {"forward", "input gradient", "weight gradient"};
        for (int k = 0; k < 3; k++) {
            double best = 1e30;
            for (int run = 0; run < 5; run++) {
                const double t0 = now();
                for (int j = 0; j < N; j++)
                    if (k == 0)
                        fwd(&d, w, a, b, bias);
                    else if (k == 1)
                        in(&d, w, b, a);
                    else
                        wg(&d, b, a, gw, gb);
                const double dt = (now() - t0) / N;
                best = dt < best ? dt : best;
            }
            printf("%-6s %-15s %7.1f us %6.1f GFLOP/s", t->name, what[k], best * 1e6,
                   flops / best * 1e-9);
            if (peak > 0)
                printf("  %3.0f %% of %.1f", 100 * flops / best * 1e-9 / peak, peak);
            printf("\n");
        }
    }
    free(a), free(b), free(w), free(bias), free(gw), free(gb);
    return 0;
}
