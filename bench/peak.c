/* peak.c: this machine's fp32 multiply-add peak, for make bench's "% peak".
 * Every core runs 12 independent chains of fused multiply-adds, as wide as
 * -march=native allows (16 lanes with AVX-512, else 8), for half a second;
 * prints GFLOP/s over all cores. Build with -O3 -march=native. */
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#ifdef __AVX512F__
typedef float v8 __attribute__((vector_size(64)));
#define LANES 16
#else
typedef float v8 __attribute__((vector_size(32)));
#define LANES 8
#endif

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *spin(void *out) {
    v8 a[12], x = {0}, y = {0};
    x += 0.999999f;
    y += 1e-7f;
    for (int i = 0; i < 12; i++)
        a[i] = x * (float)i;
    long n = 0;
    double t0 = now(), t = t0;
    while (t - t0 < 0.5) {
        for (int r = 0; r < 100000; r++)
            for (int i = 0; i < 12; i++)
                a[i] = a[i] * x + y;
        n += 100000;
        t = now();
    }
    float sink = 0;
    for (int i = 0; i < 12; i++)
        sink += a[i][0];
    *(double *)out = n * 12.0 * LANES * 2 / (t - t0) + (sink == 12345 ? 1 : 0);
    return NULL;
}

int main(void) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1 || cores > 256)
        cores = 1;
    pthread_t th[256];
    double flops[256], sum = 0;
    for (long c = 0; c < cores; c++)
        pthread_create(&th[c], NULL, spin, &flops[c]);
    for (long c = 0; c < cores; c++) {
        pthread_join(th[c], NULL);
        sum += flops[c];
    }
    printf("%.1f\n", sum / 1e9);
    return 0;
}
