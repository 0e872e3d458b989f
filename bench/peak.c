/* peak.c: this machine's fp32 multiply-add peak, for make bench's "% peak".
 *
 * Every core runs independent chains of fused multiply-adds, as wide as
 * -march allows (16 lanes with AVX-512, 8 with AVX, 4 with SSE: there, with
 * no FMA, a multiply and an add). How many chains a core
 * needs to keep its FMA pipes full is its pipes times their latency (Zen 3
 * and 4: 2 x 4 = 8; Zen 5 and Sapphire Rapids: 2 x 4 with 512-bit pipes;
 * some cores more), and too many spill out of the registers (16 vector
 * registers without AVX-512, 32 with): so it tries 8 to 28 chains (to 14
 * without AVX-512), each for a quarter of a second on all cores at once,
 * and prints the best GFLOP/s over all cores. A kernel cannot beat what
 * the best of these reaches, so "% of peak" stays under 100.
 * Build with -O3 and the target's -march (FMA contraction on: gcc's default
 * for GNU C; -std=c11 would turn it off and halve the figure). */
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#ifdef __AVX512F__
typedef float vec __attribute__((vector_size(64)));
#define LANES 16
#define MAX_CHAINS 28
#elif defined(__AVX__)
typedef float vec __attribute__((vector_size(32)));
#define LANES 8
#define MAX_CHAINS 14
#else
/* SSE's registers hold 4 floats: 8-float vectors would be two registers
 * a chain, and 8 to 14 chains would spill out of the 16 registers (the
 * sse2 build read 54 GFLOP/s on a Zen 4 where the trainer then ran at
 * 99 % of it) */
typedef float vec __attribute__((vector_size(16)));
#define LANES 4
#define MAX_CHAINS 14
#endif

#ifndef __FP_FAST_FMAF
#warning "no FMA contraction: this probe measures multiplies and adds apart"
#endif

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* CHAINS independent a = a * x + y chains, for 0.25 s: FLOP/s. The count
 * is a constant in each copy, so the chains live in registers. */
#define SPIN(CHAINS)                                                         \
    static double spin_##CHAINS(void) {                                     \
        vec a[CHAINS], x = {0}, y = {0};                                    \
        x += 0.999999f;                                                     \
        y += 1e-7f;                                                         \
        for (int i = 0; i < CHAINS; i++)                                    \
            a[i] = x * (float)i;                                            \
        long n = 0;                                                         \
        double t0 = now(), t = t0;                                          \
        while (t - t0 < 0.25) {                                             \
            for (int r = 0; r < 20000; r++)                                 \
                for (int i = 0; i < CHAINS; i++)                            \
                    a[i] = a[i] * x + y;                                    \
            n += 20000;                                                     \
            t = now();                                                      \
        }                                                                   \
        float sink = 0;                                                     \
        for (int i = 0; i < CHAINS; i++)                                    \
            sink += a[i][0];                                                \
        return n * (double)CHAINS * LANES * 2 / (t - t0) + (sink == 12345); \
    }
SPIN(8)
SPIN(10)
SPIN(12)
SPIN(14)
#if MAX_CHAINS > 14
SPIN(16)
SPIN(20)
SPIN(24)
SPIN(28)
#endif

static double (*const spins[])(void) = {
    spin_8, spin_10, spin_12, spin_14,
#if MAX_CHAINS > 14
    spin_16, spin_20, spin_24, spin_28,
#endif
};
#define N_SPINS (int)(sizeof spins / sizeof spins[0])

typedef struct {
    int which;
    double flops;
} Job;

static void *run(void *arg) {
    Job *j = arg;
    j->flops = spins[j->which]();
    return NULL;
}

int main(void) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1 || cores > 256)
        cores = 1;
    double best = 0;
    for (int s = 0; s < N_SPINS; s++) {
        pthread_t th[256];
        Job jobs[256];
        double sum = 0;
        for (long c = 0; c < cores; c++) {
            jobs[c] = (Job){s, 0};
            pthread_create(&th[c], NULL, run, &jobs[c]);
        }
        for (long c = 0; c < cores; c++) {
            pthread_join(th[c], NULL);
            sum += jobs[c].flops;
        }
        if (sum > best)
            best = sum;
    }
    printf("%.1f\n", best / 1e9);
    return 0;
}
