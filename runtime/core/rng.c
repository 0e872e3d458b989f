/* rng.c: xoshiro256** seeded through splitmix64, and parameter initialisation.
 * Same seed, same numbers, on every machine: no floating point in the
 * generator, and one stream consumed in tensor-table order. */
#include <math.h>
#include <string.h>

#include "lenet_core.h"
#include "lenet_model.h"

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void lenet_rng_seed(lenet_rng *r, uint64_t seed) {
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t lenet_rng_next(lenet_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

float lenet_rng_uniform(lenet_rng *r) {
    return (float)(lenet_rng_next(r) >> 40) * (1.0f / 16777216.0f);
}

/* Unbiased: rejects the top sliver of the 64-bit range that would favour
 * small results. */
uint32_t lenet_rng_below(lenet_rng *r, uint32_t n) {
    if (n == 0)
        return 0;
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do
        x = lenet_rng_next(r);
    while (x >= limit);
    return (uint32_t)(x % n);
}

uint64_t lenet_step_seed(uint64_t seed, long step) {
    uint64_t x = seed ^ ((uint64_t)step * 0xd1b54a32d192ed03ull);
    splitmix64(&x);
    return splitmix64(&x);
}

/* Keras' initialisers: glorot_uniform U(-a, a) with a = sqrt(6 / (fan_in +
 * fan_out)), he_uniform with a = sqrt(6 / fan_in), zeros and ones. Only the
 * random ones draw from the stream. */
void lenet_init_params(const lenet_model *m, float *params, uint64_t seed) {
    lenet_rng r;
    lenet_rng_seed(&r, seed);
    memset(params, 0, m->n_params * sizeof *params);
    for (int i = 0; i < m->n_tensors; i++) {
        const lenet_tensor *t = &m->tensors[i];
        float *p = params + t->offset;
        double a = 0;
        switch (t->init) {
        case LENET_INIT_ZEROS:
            continue;
        case LENET_INIT_ONES:
            for (size_t k = 0; k < t->size; k++)
                p[k] = 1.0f;
            continue;
        case LENET_INIT_GLOROT_UNIFORM:
            a = sqrt(6.0 / (t->fan_in + t->fan_out));
            break;
        case LENET_INIT_HE_UNIFORM:
            a = sqrt(6.0 / t->fan_in);
            break;
        }
        for (size_t k = 0; k < t->size; k++)
            p[k] = (float)((2.0 * lenet_rng_uniform(&r) - 1.0) * a);
    }
}
