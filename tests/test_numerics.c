/* test_numerics.c: the runtime's arithmetic against numbers worked out
 * independently (python3, double precision, from the published formulas):
 * softmax cross-entropy, Keras' Adam and SGD, the xoshiro256** generator,
 * Glorot initialisation, input tiles, and one training step / evaluation of
 * a tiny dense model whose forward and backward passes are written here.
 *
 * The python used for the reference values is quoted next to each table so
 * the numbers can be re-derived; none of them comes from the runtime itself. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lenet.h"
#include "tests.h"

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- softmax cross-entropy --------------------------------------------- */

/* python:
 *   def xent(z, y, scale):
 *       mx = max(z); s = sum(exp(v - mx) for v in z)
 *       loss = log(s) - (z[y] - mx)
 *       d = [f32((exp(v - mx) / s - (c == y)) * scale) for c, v in enumerate(z)]
 *   xent([1, 2, 0.5], 1, 0.5) + xent([-1, 0, 3], 0, 0.5) */
START_TEST(test_xent_values) {
    enum { K = 3, T = 4 };
    /* logits[c*T + b]; lanes 2 and 3 are unused and hold NaN: never read */
    const float logits[K * T] = {
        1.0f, -1.0f, NAN, NAN, /* class 0 */
        2.0f, 0.0f,  NAN, NAN, /* class 1 */
        0.5f, 3.0f,  NAN, NAN, /* class 2 */
    };
    const uint8_t labels[2] = {1, 0}; /* only n labels: ASan catches overreads */
    float d[K * T];
    for (size_t i = 0; i < NELEMS(d); i++)
        d[i] = 42.0f;
    int correct = 10;
    double loss = lenet_softmax_xent(logits, K, T, 2, labels, 0.5f, d, &correct);

    /* log(e^1+e^2+e^.5) - 2  +  log(e^-1+e^0+e^3) + 1 */
    const double want_loss = 4.5302526878653744;
    ck_assert_double_eq_tol(loss, want_loss, 1e-6 * want_loss);
    /* lane 0 predicts class 1 (= label), lane 1 predicts 2 (label 0): one more */
    ck_assert_int_eq(correct, 11);

    /* (softmax - onehot) * 0.5 */
    const double want_d[K][2] = {
        {0.11561194807291031, -0.49142608046531677},
        {-0.18573413789272308, 0.023306312039494514},
        {0.070122189819812775, 0.46811977028846741},
    };
    for (int c = 0; c < K; c++) {
        for (int b = 0; b < 2; b++)
            ck_assert_double_eq_tol(d[c * T + b], want_d[c][b], 1e-7);
        for (int b = 2; b < T; b++) /* unused lanes: exactly +0 */
            ck_assert(d[c * T + b] == 0.0f && !signbit(d[c * T + b]));
    }
    /* each valid lane's gradient sums to zero (softmax sums to one) */
    for (int b = 0; b < 2; b++)
        ck_assert_double_eq_tol((double)d[b] + d[T + b] + d[2 * T + b], 0.0, 1e-7);

    /* n = 0: no loss, no predictions, every lane zeroed */
    for (size_t i = 0; i < NELEMS(d); i++)
        d[i] = 42.0f;
    correct = 0;
    ck_assert_double_eq(lenet_softmax_xent(logits, K, T, 0, labels, 1.0f, d, &correct), 0.0);
    ck_assert_int_eq(correct, 0);
    for (size_t i = 0; i < NELEMS(d); i++)
        ck_assert_float_eq(d[i], 0.0f);
}
END_TEST

/* One lane (tile 1) through the loss; returns the loss, gradient in d. */
static double one_lane(float z0, float z1, float z2, uint8_t y, float d[3], int *correct) {
    const float z[3] = {z0, z1, z2};
    return lenet_softmax_xent(z, 3, 1, 1, &y, 1.0f, d, correct);
}

/* Large logits: a naive exp() overflows to inf (e^1000) or underflows every
 * term to 0 (e^-1000), giving inf/NaN. The values below are the python xent()
 * above with scale 1. */
START_TEST(test_xent_stable) {
    float d[3];
    int correct = 0;
    struct {
        float z[3];
        uint8_t y;
        double loss;
        double d[3];
        int correct;
    } cases[] = {
        /* log(e^-1 + 1 + e^-2) + 2 */
        {{1000, 1001, 999}, 2, 2.4076059644443806,
         {0.24472847580909729, 0.66524094343185425, -0.90996944904327393}, 0},
        /* e^-2000 underflows to 0 in any precision: loss 2000 exactly */
        {{-1000, 1000, 0}, 0, 2000.0, {-1.0, 1.0, 0.0}, 0},
        /* log 3; argmax tie -> class 0, label 1: wrong */
        {{-1000, -1000, -1000}, 1, 1.0986122886681098,
         {0.3333333432674408, -0.66666668653488159, 0.3333333432674408}, 0},
        /* tie between classes 0 and 1 -> class 0 = label: right */
        {{3, 3, 1}, 0, 0.7586236756795135,
         {-0.53168946504592896, 0.46831053495407104, 0.063378937542438507}, 1},
    };
    double sum = 0;
    int total_correct = 0;
    for (size_t i = 0; i < NELEMS(cases); i++) {
        correct = 0;
        double loss = one_lane(cases[i].z[0], cases[i].z[1], cases[i].z[2], cases[i].y, d,
                               &correct);
        ck_assert_msg(isfinite(loss), "case %zu: loss %g", i, loss);
        ck_assert_double_eq_tol(loss, cases[i].loss, 1e-6 * cases[i].loss);
        for (int c = 0; c < 3; c++) {
            ck_assert(isfinite(d[c]));
            ck_assert_double_eq_tol(d[c], cases[i].d[c], 1e-7);
        }
        ck_assert_int_eq(correct, cases[i].correct);
        sum += cases[i].loss;
        total_correct += cases[i].correct;
    }

    /* the same four as the lanes of one tile: layout [c][tile] */
    enum { K = 3, T = 4 };
    float logits[K * T], dl[K * T];
    uint8_t labels[T];
    for (int b = 0; b < T; b++) {
        for (int c = 0; c < K; c++)
            logits[c * T + b] = cases[b].z[c];
        labels[b] = cases[b].y;
    }
    correct = 0;
    double loss = lenet_softmax_xent(logits, K, T, T, labels, 1.0f, dl, &correct);
    ck_assert_double_eq_tol(loss, sum, 1e-9 * sum);
    ck_assert_int_eq(correct, total_correct);
    for (int b = 0; b < T; b++)
        for (int c = 0; c < K; c++)
            ck_assert_double_eq_tol(dl[c * T + b], cases[b].d[c], 1e-7);
}
END_TEST

START_TEST(test_argmax_ties) {
    enum { K = 3, T = 4 };
    const float logits[K * T] = {
        5, 1, -2, 3, /* class 0 */
        5, 7, -1, 1, /* class 1 */
        5, 7, -1, 3, /* class 2 */
    };
    ck_assert_int_eq(lenet_argmax_lane(logits, K, T, 0), 0); /* 5 5 5 */
    ck_assert_int_eq(lenet_argmax_lane(logits, K, T, 1), 1); /* 1 7 7 */
    ck_assert_int_eq(lenet_argmax_lane(logits, K, T, 2), 1); /* -2 -1 -1 */
    ck_assert_int_eq(lenet_argmax_lane(logits, K, T, 3), 0); /* 3 1 3 */
    ck_assert_int_eq(lenet_argmax_lane(logits, 1, T, 2), 0); /* one class */
    /* the last class wins when it is strictly largest */
    const float last[3] = {-1e30f, 0.0f, 1e-30f};
    ck_assert_int_eq(lenet_argmax_lane(last, 3, 1, 0), 2);
}
END_TEST

/* ---- optimisers -------------------------------------------------------- */

/* python (double; grads rounded to float first):
 *   lr, b1, b2, eps = 1e-3, 0.9, 0.999, 1e-7
 *   for t, g in enumerate(G, 1):
 *       lr_t = lr * sqrt(1 - b2**t) / (1 - b1**t)
 *       m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g*g
 *       keras: p -= lr_t * m / (sqrt(v) + eps)
 *       torch: p -= lr * (m/(1-b1**t)) / (sqrt(v/(1-b2**t)) + eps)
 * Parameter 2 gets a tiny gradient (1e-8): there eps dominates Keras'
 * sqrt(v) ~ 3e-10 but not PyTorch's sqrt(v_hat) ~ 1e-8, and the two formulas
 * differ by ~1e-4. Parameter 3 has zero gradient and must not move. */
START_TEST(test_adam_keras) {
    const lenet_hparams h = {.optimizer = LENET_ADAM, .lr = 1e-3f, .beta1 = 0.9f,
                             .beta2 = 0.999f, .eps = 1e-7f};
    float p[4] = {0.5f, -0.25f, 0.75f, 0.125f};
    float m[4] = {0}, v[4] = {0};
    const float g[3][4] = {
        {0.1f, -0.2f, 1e-8f, 0.0f},
        {0.05f, 0.3f, 1e-8f, 0.0f},
        {-0.1f, 0.1f, 1e-8f, 0.0f},
    };
    const double keras[3][4] = {
        {0.49900003162177614, -0.24900001581113806, 0.74999684769083586, 0.125},
        {0.49806787835879252, -0.24924771546558747, 0.74999239657410377, 0.125},
        {0.4979570976241014, -0.24960304686104984, 0.74998695189377895, 0.125},
    };
    const double torch[3][4] = {
        {0.49900000099999897, -0.24900000049999974, 0.74990909090959323, 0.125},
        {0.49806782254048737, -0.24924770223010578, 0.74981818181918647, 0.125},
        {0.49795703959708637, -0.24960303646598558, 0.7497272727287797, 0.125},
    };
    for (int t = 0; t < 3; t++) {
        lenet_adam_step(p, g[t], m, v, 4, &h, t + 1);
        for (int i = 0; i < 4; i++)
            ck_assert_msg(fabs(p[i] - keras[t][i]) <= 1e-7,
                          "step %d param %d: %.9g, Keras says %.9g", t + 1, i, (double)p[i],
                          keras[t][i]);
        ck_assert_msg(fabs(p[2] - torch[t][2]) > 5e-5,
                      "step %d: param 2 = %.9g follows PyTorch's formula", t + 1, (double)p[2]);
        ck_assert_float_eq(p[3], 0.125f); /* zero gradient: bit-identical */
    }
    /* moments after three steps. v is good only to ~1e-5 relative: beta2 is
     * the float 0.999f, so 1 - beta2 = 0.00099998713 (as in Keras' float32);
     * lr_t carries the same factor under its sqrt, so the params are not hurt */
    const double want_m[4] = {0.0026000000387430191, 0.020800000980496402,
                              2.7099999835300531e-09, 0};
    const double want_v[4] = {2.2477510669882027e-05, 0.00013983004863313823,
                              2.9970009635716298e-19, 0};
    for (int i = 0; i < 4; i++) {
        ck_assert_double_eq_tol(m[i], want_m[i], 1e-6 * fabs(want_m[i]) + 1e-30);
        ck_assert_double_eq_tol(v[i], want_v[i], 5e-5 * fabs(want_v[i]) + 1e-40);
    }
    ck_assert_float_eq(m[3], 0.0f);
    ck_assert_float_eq(v[3], 0.0f);
}
END_TEST

/* Step 1 from zero moments: m = (1-b1) g, sqrt(v) = sqrt(1-b2)|g|, so the
 * update is lr * g / (|g| + eps/sqrt(1-b2)) ~ lr * sign(g) for |g| >> eps. */
START_TEST(test_adam_first_step) {
    const lenet_hparams h = {.optimizer = LENET_ADAM, .lr = 0.01f, .beta1 = 0.9f,
                             .beta2 = 0.999f, .eps = 1e-7f};
    float p[3] = {0, 0, 0}, m[3] = {0}, v[3] = {0};
    const float g[3] = {4.0f, -0.5f, 1000.0f};
    lenet_adam_step(p, g, m, v, 3, &h, 1);
    /* python: -0.01 * g / (abs(g) + 1e-7 / sqrt(0.001)); float arithmetic
     * (lr, betas and m, v all float) is good to ~1e-6 relative */
    ck_assert_double_eq_tol(p[0], -0.009999992094312099, 1e-8);
    ck_assert_double_eq_tol(p[1], 0.0099999367548467936, 1e-8);
    ck_assert_double_eq_tol(p[2], -0.0099999999683772246, 1e-8);
}
END_TEST

START_TEST(test_sgd_exact) {
    /* powers of two: every product and difference is exact in float */
    float p[5] = {1.0f, -2.0f, 0.5f, 3.0f, 0.0f};
    const float g[5] = {0.5f, 0.25f, -1.0f, 0.0f, 8.0f};
    const lenet_hparams h = {.optimizer = LENET_SGD, .lr = 0.5f};
    lenet_sgd_step(p, g, NULL, 5, &h);
    const float want[5] = {0.75f, -2.125f, 1.0f, 3.0f, -4.0f};
    for (int i = 0; i < 5; i++)
        ck_assert_float_eq(p[i], want[i]);
    lenet_sgd_step(p, g, NULL, 0, &h); /* n = 0 touches nothing */
    for (int i = 0; i < 5; i++)
        ck_assert_float_eq(p[i], want[i]);
}
END_TEST

/* Momentum, Nesterov and weight decay: two steps, against what PyTorch
 * 1.13's torch.optim.SGD(lr=0.5, momentum=0.5, nesterov=..., weight_decay=
 * 0.25) gives for the same start and gradient in float32 (exact: powers
 * of two). */
START_TEST(test_sgd_momentum_as_pytorch) {
    static const float want[2][2][5] = {
        {{0.625f, -1.875f, 0.9375f, 2.625f, -4.0f},
         {0.109375f, -1.703125f, 1.5390625f, 2.109375f, -9.5f}},
        {{0.4375f, -1.8125f, 1.15625f, 2.4375f, -6.0f},
         {-0.11328125f, -1.62890625f, 1.798828125f, 1.88671875f, -11.875f}}};
    const float g[5] = {0.5f, 0.25f, -1.0f, 0.0f, 8.0f};
    for (int nesterov = 0; nesterov < 2; nesterov++) {
        float p[5] = {1.0f, -2.0f, 0.5f, 3.0f, 0.0f}, buf[5] = {0};
        const lenet_hparams h = {.optimizer = LENET_SGD, .lr = 0.5f, .momentum = 0.5f,
                                 .nesterov = nesterov, .weight_decay = 0.25f};
        for (int step = 0; step < 2; step++) {
            lenet_sgd_step(p, g, buf, 5, &h);
            for (int i = 0; i < 5; i++)
                ck_assert_msg(p[i] == want[nesterov][step][i],
                              "nesterov %d step %d: p[%d] = %.9g, PyTorch %.9g", nesterov, step,
                              i, p[i], want[nesterov][step][i]);
        }
    }
}
END_TEST

/* Learning-rate schedules, by step (10 steps per epoch, 4 epochs). */
START_TEST(test_schedules) {
    lenet_hparams h = {.lr = 0.1f, .epochs = 4, .schedule = LENET_CONSTANT};
    ck_assert_float_eq(lenet_schedule_lr(&h, 1, 10), 0.1f);
    ck_assert_float_eq(lenet_schedule_lr(&h, 40, 10), 0.1f);
    /* step: x0.5 every 2 epochs: steps 1-20 at 0.1, 21-40 at 0.05 */
    h.schedule = LENET_STEP;
    h.step_every = 2;
    h.step_factor = 0.5f;
    ck_assert_float_eq(lenet_schedule_lr(&h, 20, 10), 0.1f);
    ck_assert_float_eq(lenet_schedule_lr(&h, 21, 10), 0.05f);
    /* cosine, one epoch of warmup: 0.1 * t / 10, then half a cosine to 0 */
    h.schedule = LENET_COSINE;
    h.warmup_epochs = 1;
    ck_assert_float_eq(lenet_schedule_lr(&h, 1, 10), 0.01f);
    ck_assert_float_eq(lenet_schedule_lr(&h, 10, 10), 0.1f);
    ck_assert_float_eq_tol(lenet_schedule_lr(&h, 25, 10), 0.05f, 1e-7); /* half way */
    ck_assert_float_eq_tol(lenet_schedule_lr(&h, 40, 10), 0.0f, 1e-9);
    ck_assert_float_eq_tol(lenet_schedule_lr(&h, 11, 10),
                           (float)(0.1 * 0.5 * (1 + cos(3.14159265358979 / 30))), 1e-8);
    /* no warmup: the first step already runs the cosine */
    h.warmup_epochs = 0;
    ck_assert_float_eq_tol(lenet_schedule_lr(&h, 1, 10),
                           (float)(0.1 * 0.5 * (1 + cos(3.14159265358979 / 40))), 1e-8);
    ck_assert_str_eq(lenet_schedule_name(LENET_COSINE), "cosine");
}
END_TEST

/* Augmentation: none is the identity; the same key, the same image; ink
 * is moved, not lost, by a small transform; keys give different draws. */
START_TEST(test_augment_image) {
    enum { H = 12, W = 10 };
    uint8_t src[H * W], a[H * W], b[H * W];
    for (int i = 0; i < H * W; i++)
        src[i] = 0;
    for (int y = 4; y < 8; y++) /* a 4x4 block of ink in the middle */
        for (int x = 3; x < 7; x++)
            src[y * W + x] = 200;
    lenet_hparams h = {0};
    ck_assert(!lenet_augments(&h));
    lenet_augment_image(&h, 1, src, H, W, 1, a);
    ck_assert(memcmp(a, src, sizeof a) == 0);
    h.aug_shift = 2;
    h.aug_rotate = 10;
    h.aug_scale = 0.1f;
    ck_assert(lenet_augments(&h));
    lenet_augment_image(&h, 7, src, H, W, 1, a);
    lenet_augment_image(&h, 7, src, H, W, 1, b);
    ck_assert(memcmp(a, b, sizeof a) == 0);
    long ink = 0;
    for (int i = 0; i < H * W; i++)
        ink += a[i];
    ck_assert_msg(ink > 16 * 200 * 0.75 && ink < 16 * 200 * 1.3, "ink %ld of %d", ink, 16 * 200);
    int differ = 0;
    for (uint64_t key = 8; key < 12; key++) {
        lenet_augment_image(&h, key, src, H, W, 1, b);
        differ += memcmp(a, b, sizeof a) != 0;
    }
    ck_assert_int_eq(differ, 4);
}
END_TEST

/* AdamW (Keras): w -= lr wd w, then the Adam step. */
START_TEST(test_adamw_decay) {
    float p[3] = {1.0f, -2.0f, 0.0f};
    lenet_weight_decay(p, 3, 0.5f, 0.25f);
    ck_assert_float_eq(p[0], 0.875f);
    ck_assert_float_eq(p[1], -1.75f);
    ck_assert_float_eq(p[2], 0.0f);
    ck_assert_str_eq(lenet_optimizer_name(LENET_ADAMW), "adamw");
}
END_TEST

/* ---- random numbers ---------------------------------------------------- */

/* python, after Vigna's reference C (prng.di.unimi.it):
 *   def splitmix(x): x = (x + 0x9e3779b97f4a7c15) % 2**64; z = x
 *       z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) % 2**64
 *       z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) % 2**64
 *       return x, z ^ (z >> 31)
 *   next(): res = rotl(s1*5, 7)*9; t = s1 << 17; s2 ^= s0; s3 ^= s1;
 *           s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 45)
 * That python reproduces the published vectors checked below (splitmix64
 * from 0 starts e220a8397b1dcdaf; xoshiro256** from state {1,2,3,4} gives
 * 11520, 0, 1509978240, ... as in rand_xoshiro's tests). */
START_TEST(test_rng_pinned) {
    lenet_rng r;
    lenet_rng_seed(&r, 0);
    const uint64_t s0[4] = {0xe220a8397b1dcdafull, 0x6e789e6aa1b965f4ull, 0x06c45d188009454full,
                            0xf88bb8a8724c81ecull};
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(r.s[i], s0[i]);

    lenet_rng_seed(&r, 1);
    const uint64_t s1[4] = {0x910a2dec89025cc1ull, 0xbeeb8da1658eec67ull, 0xf893a2eefb32555eull,
                            0x71c18690ee42c90bull};
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(r.s[i], s1[i]);
    const uint64_t next1[5] = {0xb3f2af6d0fc710c5ull, 0x853b559647364ceaull,
                               0x92f89756082a4514ull, 0x642e1c7bc266a3a7ull,
                               0xb27a48e29a233673ull};
    for (int i = 0; i < 5; i++)
        ck_assert_uint_eq(lenet_rng_next(&r), next1[i]);

    lenet_rng k = {{1, 2, 3, 4}};
    const uint64_t known[6] = {11520ull, 0ull, 1509978240ull, 1215971899390074240ull,
                               1216172134540287360ull, 607988272756665600ull};
    for (int i = 0; i < 6; i++)
        ck_assert_uint_eq(lenet_rng_next(&k), known[i]);

    /* uniform = (next >> 40) / 2^24: 0xb3f2af -> 0.7029218077659607 ... */
    lenet_rng_seed(&r, 1);
    ck_assert_float_eq(lenet_rng_uniform(&r), 0.7029218077659607f);
    ck_assert_float_eq(lenet_rng_uniform(&r), 0.5204365849494934f);
    ck_assert_float_eq(lenet_rng_uniform(&r), 0.5741056799888611f);

    /* below(10) from seed 7: python x % 10 with rejection above
     * 2^64-1 - (2^64-1) % 10 (never hit here) */
    lenet_rng_seed(&r, 7);
    const uint32_t b7[8] = {4, 4, 8, 4, 4, 1, 6, 6};
    for (int i = 0; i < 8; i++)
        ck_assert_uint_eq(lenet_rng_below(&r, 10), b7[i]);
}
END_TEST

START_TEST(test_rng_ranges) {
    lenet_rng r;
    lenet_rng_seed(&r, 12345);
    double sum = 0;
    float lo = 1, hi = 0;
    for (int i = 0; i < 100000; i++) {
        float u = lenet_rng_uniform(&r);
        ck_assert(u >= 0.0f && u < 1.0f);
        /* 24 bits: u * 2^24 is an integer */
        ck_assert_float_eq(u * 16777216.0f, floorf(u * 16777216.0f));
        sum += u;
        lo = u < lo ? u : lo;
        hi = u > hi ? u : hi;
    }
    /* mean of 1e5 U(0,1): sd 0.0009 */
    ck_assert_double_eq_tol(sum / 100000, 0.5, 0.005);
    ck_assert_float_lt(lo, 0.001f);
    ck_assert_float_gt(hi, 0.999f);

    /* below(n) < n, and roughly uniform: chi-square with 9 degrees of freedom
     * has mean 9; 40 is beyond its 1e-5 tail */
    enum { N = 10, DRAWS = 100000 };
    int count[N] = {0};
    for (int i = 0; i < DRAWS; i++) {
        uint32_t x = lenet_rng_below(&r, N);
        ck_assert_uint_lt(x, N);
        count[x]++;
    }
    double chi2 = 0, e = (double)DRAWS / N;
    for (int i = 0; i < N; i++)
        chi2 += (count[i] - e) * (count[i] - e) / e;
    ck_assert_msg(chi2 < 40, "chi-square %g over %d bins", chi2, N);

    for (int i = 0; i < 1000; i++)
        ck_assert_uint_eq(lenet_rng_below(&r, 1), 0);
    const uint32_t big[3] = {0x80000001u, UINT32_MAX, 3u};
    for (int j = 0; j < 3; j++)
        for (int i = 0; i < 10000; i++)
            ck_assert_uint_lt(lenet_rng_below(&r, big[j]), big[j]);
    /* the top half of a 2^31+1 range is reached */
    int high = 0;
    for (int i = 0; i < 1000; i++)
        high += lenet_rng_below(&r, 0x80000001u) >= 0x40000000u;
    ck_assert_int_gt(high, 400);
    ck_assert_int_lt(high, 600);
}
END_TEST

START_TEST(test_rng_repeatable) {
    lenet_rng a, b, c;
    lenet_rng_seed(&a, 99);
    lenet_rng_seed(&b, 99);
    lenet_rng_seed(&c, 100);
    int same_as_c = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = lenet_rng_next(&a);
        ck_assert_uint_eq(x, lenet_rng_next(&b));
        same_as_c += x == lenet_rng_next(&c);
    }
    ck_assert_int_eq(same_as_c, 0);
}
END_TEST

/* ---- initialisation ---------------------------------------------------- */

static const lenet_tensor init_tensors[] = {
    {"w1", 2, {3, 4}, 0, 12, 4, 3, LENET_INIT_GLOROT_UNIFORM, 1},
    {"b1", 1, {3}, 12, 3, 0, 0, LENET_INIT_ZEROS, 1},
    {"w2", 2, {2, 3}, 15, 6, 3, 2, LENET_INIT_GLOROT_UNIFORM, 1},
    {"b2", 1, {2}, 21, 2, 0, 0, LENET_INIT_ZEROS, 1},
};

static lenet_model init_model(void) {
    lenet_model m = {0};
    m.name = "init";
    m.n_params = m.n_trainable = 23;
    m.n_tensors = 4;
    m.tensors = init_tensors;
    return m;
}

/* python (one stream in table order; biases draw nothing):
 *   r = X(42); a = sqrt(6/(fan_in+fan_out))
 *   w = f32((2*r.uniform() - 1) * a) */
START_TEST(test_init_pinned) {
    lenet_model m = init_model();
    float p[23], q[23];
    for (int i = 0; i < 23; i++)
        p[i] = NAN;
    lenet_init_params(&m, p, 42);
    ck_assert_float_eq(p[0], -0.770536065f);
    ck_assert_float_eq(p[1], -0.224085093f);
    ck_assert_float_eq(p[2], 0.333375603f);
    ck_assert_float_eq(p[15], 0.659511089f); /* w2[0]: draw 13 */
    ck_assert_float_eq(p[20], 0.769857049f); /* w2[5]: draw 18 */
    const float a1 = (float)sqrt(6.0 / 7), a2 = (float)sqrt(6.0 / 5);
    for (int i = 0; i < 12; i++)
        ck_assert(fabsf(p[i]) <= a1 && p[i] != 0);
    for (int i = 15; i < 21; i++)
        ck_assert(fabsf(p[i]) <= a2 && p[i] != 0);
    for (int i = 12; i < 15; i++) /* biases: exactly +0, NaN overwritten */
        ck_assert(p[i] == 0.0f && !signbit(p[i]));
    for (int i = 21; i < 23; i++)
        ck_assert(p[i] == 0.0f && !signbit(p[i]));

    lenet_init_params(&m, q, 42);
    ck_assert_int_eq(memcmp(p, q, sizeof p), 0);
    lenet_init_params(&m, q, 43);
    int same = 0;
    for (int i = 0; i < 23; i++)
        same += p[i] == q[i] && p[i] != 0;
    ck_assert_int_eq(same, 0);
}
END_TEST

START_TEST(test_init_distribution) {
    /* 100x50 dense: a = sqrt(6/150) = 0.2; U(-a,a) has variance a^2/3 */
    const lenet_tensor t[2] = {
        {"fc.weight", 2, {100, 50}, 0, 5000, 50, 100, LENET_INIT_GLOROT_UNIFORM, 1},
        {"fc.bias", 1, {100}, 5000, 100, 0, 0, LENET_INIT_ZEROS, 1}};
    lenet_model m = {0};
    m.n_params = m.n_trainable = 5100;
    m.n_tensors = 2;
    m.tensors = t;
    float *p = malloc(sizeof *p * 5100);
    ck_assert_ptr_nonnull(p);
    lenet_init_params(&m, p, 7);
    double sum = 0, sq = 0, lo = 1, hi = -1;
    for (int i = 0; i < 5000; i++) {
        ck_assert(fabsf(p[i]) <= 0.2f);
        sum += p[i];
        sq += (double)p[i] * p[i];
        lo = p[i] < lo ? p[i] : lo;
        hi = p[i] > hi ? p[i] : hi;
    }
    for (int i = 5000; i < 5100; i++)
        ck_assert_float_eq(p[i], 0.0f);
    /* sd of the mean: 0.2/sqrt(3)/sqrt(5000) = 0.0016 */
    ck_assert_double_eq_tol(sum / 5000, 0.0, 0.01);
    ck_assert_double_eq_tol(sq / 5000, 0.04 / 3, 0.04 / 3 * 0.1);
    ck_assert_double_lt(lo, -0.19);
    ck_assert_double_gt(hi, 0.19);
    free(p);
}
END_TEST

START_TEST(test_trainer_init) {
    lenet_model m = init_model();
    lenet_hparams h = {.optimizer = LENET_ADAM, .lr = 1e-3f, .beta1 = 0.9f, .beta2 = 0.999f,
                       .eps = 1e-7f, .batch = 4, .epochs = 1, .seed = 42};
    m.act_floats = 8;
    m.tile = 4;
    lenet_trainer t;
    m.tile = LENET_MAX_TILE + 1; /* the runtime's fixed lane buffers hold 64 */
    ck_assert_int_eq(lenet_trainer_init(&t, &m, &h, 1), -1);
    m.tile = 4;
    ck_assert_int_eq(lenet_trainer_init(&t, &m, &h, 1), 0);
    ck_assert_int_eq(t.step, 0);
    ck_assert_float_eq(t.params[0], -0.770536065f); /* the seed-42 stream */
    float q[23];
    lenet_init_params(&m, q, 42);
    ck_assert_int_eq(memcmp(t.params, q, sizeof q), 0);
    for (int i = 0; i < 23; i++) {
        ck_assert_float_eq(t.grads[i], 0);
        ck_assert_float_eq(t.adam_m[i], 0);
        ck_assert_float_eq(t.adam_v[i], 0);
    }
    lenet_trainer_free(&t);
    ck_assert_ptr_null(t.mem);
}
END_TEST

/* ---- input tiles ------------------------------------------------------- */

/* python: f32(-1.0 + (1.0 - -1.0) * p / 255.0), printed with %.9g */
static float px(int p) {
    switch (p) {
    case 0: return -1.0f;
    case 255: return 1.0f;
    case 128: return 0.00392156886f;
    case 64: return -0.498039216f;
    case 1: return -0.992156863f;
    case 254: return 0.992156863f;
    case 10: return -0.921568632f;
    case 20: return -0.843137264f;
    case 30: return -0.764705896f;
    case 40: return -0.686274529f;
    }
    ck_abort_msg("no reference value for pixel %d", p);
    return 0;
}

START_TEST(test_load_tile) {
    lenet_model m = {0};
    m.data_h = m.data_w = 2;
    m.data_c = 1;
    m.pad = 1;
    m.scale_lo = -1;
    m.scale_hi = 1;
    m.tile = 4;
    uint8_t images[3 * 4] = {0, 255, 128, 64, /* image 0 */
                             255, 0, 1, 254,  /* image 1 */
                             10, 20, 30, 40}; /* image 2 */
    uint8_t labels[3] = {0, 1, 2};
    lenet_dataset ds = {.count = 3, .rows = 2, .cols = 2, .images = images, .labels = labels};
    const int idx[3] = {2, 0, 1}; /* lane b holds image idx[b] */
    float acts[64 + 4];
    for (size_t i = 0; i < NELEMS(acts); i++)
        acts[i] = 123.0f;
    lenet_load_tile(&m, &ds, idx, 3, acts);

    /* padded 4x4, acts[(y*4 + x)*4 + b]; the border is pixel 0 (= -1) in the
     * used lanes; lane 3 is unused and exactly 0 everywhere */
    const int P0 = 0; /* border */
    const int want[16][3] = {
        {P0, P0, P0}, {P0, P0, P0},    {P0, P0, P0},  {P0, P0, P0},
        {P0, P0, P0}, {10, 0, 255},    {20, 255, 0},  {P0, P0, P0},
        {P0, P0, P0}, {30, 128, 1},    {40, 64, 254}, {P0, P0, P0},
        {P0, P0, P0}, {P0, P0, P0},    {P0, P0, P0},  {P0, P0, P0},
    };
    for (int f = 0; f < 16; f++) {
        for (int b = 0; b < 3; b++)
            ck_assert_msg(acts[f * 4 + b] == px(want[f][b]), "y %d x %d lane %d: %.9g", f / 4,
                          f % 4, b, (double)acts[f * 4 + b]);
        ck_assert(acts[f * 4 + 3] == 0.0f && !signbit(acts[f * 4 + 3]));
    }
    for (int i = 64; i < 68; i++) /* nothing past H*W*tile */
        ck_assert_float_eq(acts[i], 123.0f);

    /* no padding, scale 0..1: 255 -> 1 and 0 -> 0 exactly; n = 1 */
    m.pad = 0;
    m.scale_lo = 0;
    m.scale_hi = 1;
    for (size_t i = 0; i < NELEMS(acts); i++)
        acts[i] = 123.0f;
    lenet_load_tile(&m, &ds, (const int[]){1}, 1, acts);
    const float want1[4] = {1.0f, 0.0f, 0.00392156886f /* f32(1/255) */, 0.996078432f /* f32(254/255) */};
    for (int f = 0; f < 4; f++) {
        ck_assert_float_eq(acts[f * 4], want1[f]);
        for (int b = 1; b < 4; b++)
            ck_assert_float_eq(acts[f * 4 + b], 0.0f);
    }
    ck_assert_float_eq(acts[16], 123.0f);
}
END_TEST

/* Three channels, a width of 7 (the loader converts four pixels at a
 * time: a tail of 3) and a border of 2, in a tile of 8 lanes of which 5
 * hold images: every value is its pixel's table entry, computed here as
 * the loader's table defines it, the border pixel 0's and the empty lanes
 * +0. */
START_TEST(test_load_tile_channels) {
    enum { R = 3, CO = 7, CH = 3, PAD = 2, T = 8, N = 5, H = R + 2 * PAD, W = CO + 2 * PAD };
    lenet_model m = {.data_h = R, .data_w = CO, .data_c = CH, .pad = PAD, .scale_lo = -0.5f,
                     .scale_hi = 2, .tile = T};
    uint8_t images[6][R * CO * CH];
    for (int i = 0; i < 6; i++)
        for (int k = 0; k < R * CO * CH; k++)
            images[i][k] = (uint8_t)((i * 97 + k * 31 + 7) % 256);
    uint8_t labels[6] = {0};
    lenet_dataset ds = {.count = 6, .rows = R, .cols = CO, .images = &images[0][0],
                        .labels = labels};
    const int idx[N] = {4, 1, 5, 0, 2};
    static float acts[CH * H * W * T];
    for (size_t i = 0; i < NELEMS(acts); i++)
        acts[i] = 123.0f;
    lenet_load_tile(&m, &ds, idx, N, acts);
    long wrong = 0;
    for (int c = 0; c < CH; c++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                for (int b = 0; b < T; b++) {
                    const int sy = y - PAD, sx = x - PAD;
                    const int in = sy >= 0 && sy < R && sx >= 0 && sx < CO;
                    const int p = in ? images[idx[b < N ? b : 0]][(sy * CO + sx) * CH + c] : 0;
                    const float want =
                        b < N ? (float)(-0.5 + (2 - (double)-0.5f) * p / 255.0) : 0.0f;
                    const float got = acts[(((size_t)c * H + y) * W + x) * T + b];
                    wrong += memcmp(&got, &want, sizeof got) != 0;
                }
    ck_assert_int_eq(wrong, 0);
}
END_TEST

/* ---- a tiny model: one dense layer, 2x2 pixels -> 3 classes ------------- */

enum { DT = 4, DIN = 4, DK = 3, DPARAMS = DK * DIN + DK };

/* acts: input [4][T] at 0, logits [3][T] at 4T. params: W [3][4] then b [3]. */
static void dense_forward(const float *params, float *acts, const lenet_pass *pass) {
    const float *x = acts, *bias = params + DK * DIN;
    float *z = acts + DIN * DT;
    for (int c = 0; c < DK; c++)
        for (int b = 0; b < DT; b++) {
            float s = bias[c];
            for (int i = 0; i < DIN; i++)
                s += params[c * DIN + i] * x[i * DT + b];
            z[c * DT + b] = s;
        }
}

static void dense_backward(const float *params, const float *acts, float *dacts,
                           float *grads, const lenet_pass *pass) {
    const float *x = acts, *dz = dacts + DIN * DT;
    float *dx = dacts;
    for (int c = 0; c < DK; c++)
        for (int b = 0; b < DT; b++) {
            grads[DK * DIN + c] += dz[c * DT + b];
            for (int i = 0; i < DIN; i++)
                grads[c * DIN + i] += dz[c * DT + b] * x[i * DT + b];
        }
    for (int i = 0; i < DIN; i++) /* input gradient, unused by the runtime */
        for (int b = 0; b < DT; b++) {
            float s = 0;
            for (int c = 0; c < DK; c++)
                s += params[c * DIN + i] * dz[c * DT + b];
            dx[i * DT + b] = s;
        }
}

static const lenet_tensor dense_tensors[] = {
    {"fc.weight", 2, {DK, DIN}, 0, DK * DIN, DIN, DK, LENET_INIT_GLOROT_UNIFORM, 1},
    {"fc.bias", 1, {DK}, DK * DIN, DK, 0, 0, LENET_INIT_ZEROS, 1},
};

static lenet_model dense_model(void) {
    lenet_model m = {0};
    m.name = "dense";
    m.data_h = m.data_w = 2;
    m.data_c = 1;
    m.pad = 0;
    m.scale_lo = 0;
    m.scale_hi = 1;
    m.n_classes = DK;
    m.tile = DT;
    m.n_params = m.n_trainable = DPARAMS;
    m.n_tensors = 2;
    m.tensors = dense_tensors;
    m.act_floats = (DIN + DK) * DT;
    m.logits_offset = DIN * DT;
    m.forward = dense_forward;
    m.backward = dense_backward;
    return m;
}

static const float dense_p0[DPARAMS] = {
    0.1f,  -0.2f, 0.3f, 0.05f, /* W[0] */
    -0.1f, 0.2f,  0.1f, -0.3f, /* W[1] */
    0.25f, 0.15f, -0.05f, 0.1f, /* W[2] */
    0.01f, -0.02f, 0.03f,       /* b */
};

/* 6 images: pixel j of image i = ((4i + j)*37 + 11) & 255 */
static uint8_t train_px[6 * 4] = {11,  48,  85,  122, 159, 196, 233, 14,  51,  88,  125, 162,
                                  199, 236, 17,  54,  91,  128, 165, 202, 239, 20,  57,  94};
static uint8_t train_lb[6] = {0, 1, 2, 2, 1, 0};

/* python, with x = f32(p/255) and the params above rounded to f32, over the
 * batch idx = [5, 2, 0, 4, 1, 3] (two tiles: 4 lanes, then 2):
 *   z = b + W x;  loss = sum of xent;  g = sum over samples of
 *   (softmax(z) - onehot) * [x, 1] / 6;  then the Keras Adam update above
 *   (lr 1e-3), or p - 0.5 g for SGD. Step 2 repeats on the same batch. */
static const double dense_loss[2] = {6.4227607823889032, 6.4186438873714806};
static const double dense_grads[2][DPARAMS] = {
    {-0.0027461299125376773, 0.10613795911806606, 0.061100755021687041, 0.0062813700810104463,
     -0.026175303024290185, -0.074809291767959446, -0.132512471611964, -0.025385590111401461,
     0.028921432936827834, -0.031328667350106636, 0.071411716590276952, 0.019104220030391004,
     0.0040727539437732108, -0.051303839623790537, 0.047231085680017298},
    {-0.002923887644850437, 0.10590497717782987, 0.060870640333665842, 0.0060894085734116456,
     -0.025712705161430233, -0.07434112900125639, -0.13205538353736915, -0.02498319907486287,
     0.028636592806280697, -0.031563848176573456, 0.071184743203703327, 0.018893790501451267,
     0.0036369485125856763, -0.050354108251956797, 0.046717159739371197},
};
static const double dense_adam[2][DPARAMS] = {
    {0.10099885127491839, -0.20099997318708876, 0.29900006367338283, 0.049000503929301484,
     -0.099000122287023942, 0.20099996071083071, 0.10099997762668531, -0.29900013647520446,
     0.24900010932832894, 0.15099990503186575, -0.050999956464682451, 0.099000166990424285,
     0.0090007756210996864, -0.019000061187392104, 0.029000066278278242},
    {0.10199920492955059, -0.20199989420991096, 0.29800020047499381, 0.04800179424260121,
     -0.098000712932986442, 0.2019997621665526, 0.10199986916222216, -0.29800067360517868,
     0.24800045724497277, 0.15200002184593692, -0.051999840853168743, 0.098000588691567567,
     0.0080058880847809436, -0.018000635815205106, 0.028000414008046277},
};
static const double dense_sgd[DPARAMS] = {
    0.10137306644638495,  -0.25306898253926524, 0.26944963441008546, 0.046859315704552838,
    -0.086912349977971023, 0.23740464886421198, 0.16625623729609812, -0.2873072168652282,
    0.2355392835315861,   0.1656643396355178,   -0.085705859040196536, 0.090447891474920619,
    0.0079636228045959767, 0.0056519202589301043, 0.006384456489439097};

START_TEST(test_trainer_step_adam) {
    const lenet_model m = dense_model();
    const lenet_hparams h = {.optimizer = LENET_ADAM, .lr = 1e-3f, .beta1 = 0.9f,
                             .beta2 = 0.999f, .eps = 1e-7f, .batch = 6, .epochs = 1, .seed = 5};
    lenet_dataset ds = {.count = 6, .rows = 2, .cols = 2, .images = train_px, .labels = train_lb};
    const int idx[6] = {5, 2, 0, 4, 1, 3};
    lenet_trainer t;
    ck_assert_int_eq(lenet_trainer_init(&t, &m, &h, 1), 0);
    memcpy(t.params, dense_p0, sizeof dense_p0);

    int correct = 100;
    for (int s = 0; s < 2; s++) {
        double loss = lenet_trainer_step(&t, &ds, idx, 6, &correct);
        ck_assert_double_eq_tol(loss, dense_loss[s], 1e-6 * dense_loss[s]);
        ck_assert_int_eq(correct, 100 + 3 * (s + 1)); /* 3 right per pass */
        ck_assert_int_eq(t.step, s + 1);
        /* the mean gradient of this step only: zeroed first, scaled by 1/6 */
        for (int i = 0; i < DPARAMS; i++)
            ck_assert_msg(fabs(t.grads[i] - dense_grads[s][i]) <= 1e-6,
                          "step %d grad %d: %.9g, want %.9g", s + 1, i, (double)t.grads[i],
                          dense_grads[s][i]);
        for (int i = 0; i < DPARAMS; i++)
            ck_assert_msg(fabs(t.params[i] - dense_adam[s][i]) <= 1e-7,
                          "step %d param %d: %.9g, want %.9g", s + 1, i, (double)t.params[i],
                          dense_adam[s][i]);
    }
    /* first moment after two steps: 0.9 * 0.1 g1 + 0.1 g2 */
    for (int i = 0; i < DPARAMS; i++)
        ck_assert_double_eq_tol(t.adam_m[i], 0.09 * dense_grads[0][i] + 0.1 * dense_grads[1][i],
                                1e-7);
    lenet_trainer_free(&t);
}
END_TEST

START_TEST(test_trainer_step_sgd) {
    const lenet_model m = dense_model();
    const lenet_hparams h = {.optimizer = LENET_SGD, .lr = 0.5f, .batch = 6, .epochs = 1,
                             .seed = 5};
    lenet_dataset ds = {.count = 6, .rows = 2, .cols = 2, .images = train_px, .labels = train_lb};
    const int idx[6] = {5, 2, 0, 4, 1, 3};
    lenet_trainer t;
    ck_assert_int_eq(lenet_trainer_init(&t, &m, &h, 1), 0);
    memcpy(t.params, dense_p0, sizeof dense_p0);
    int correct = 0;
    double loss = lenet_trainer_step(&t, &ds, idx, 6, &correct);
    ck_assert_double_eq_tol(loss, dense_loss[0], 1e-6 * dense_loss[0]);
    ck_assert_int_eq(correct, 3);
    ck_assert_int_eq(t.step, 1);
    for (int i = 0; i < DPARAMS; i++) {
        ck_assert_double_eq_tol(t.params[i], dense_sgd[i], 1e-6);
        ck_assert_float_eq(t.adam_m[i], 0); /* SGD keeps no moments */
        ck_assert_float_eq(t.adam_v[i], 0);
    }
    lenet_trainer_free(&t);
}
END_TEST

/* The same batch split differently (one sample, or a permutation) gives the
 * same mean gradient: the 1/n scale is over the whole batch, not per tile. */
START_TEST(test_trainer_step_batching) {
    const lenet_model m = dense_model();
    const lenet_hparams h = {.optimizer = LENET_SGD, .lr = 0.0f, .batch = 6, .seed = 5};
    lenet_dataset ds = {.count = 6, .rows = 2, .cols = 2, .images = train_px, .labels = train_lb};
    lenet_trainer t;
    ck_assert_int_eq(lenet_trainer_init(&t, &m, &h, 1), 0);
    memcpy(t.params, dense_p0, sizeof dense_p0);
    int correct = 0;
    const int perm[6] = {0, 1, 2, 3, 4, 5};
    lenet_trainer_step(&t, &ds, perm, 6, &correct);
    for (int i = 0; i < DPARAMS; i++) /* lr 0: params unchanged */
        ck_assert_double_eq_tol(t.grads[i], dense_grads[0][i], 1e-6);

    /* the average of six one-sample steps equals the six-sample gradient */
    double acc[DPARAMS] = {0};
    for (int j = 0; j < 6; j++) {
        lenet_trainer_step(&t, &ds, &perm[j], 1, &correct);
        for (int i = 0; i < DPARAMS; i++)
            acc[i] += t.grads[i] / 6.0;
    }
    for (int i = 0; i < DPARAMS; i++)
        ck_assert_double_eq_tol(acc[i], dense_grads[0][i], 1e-6);
    ck_assert_int_eq(t.step, 7);
    ck_assert_int_eq(correct, 6);
    lenet_trainer_free(&t);
}
END_TEST

/* ---- evaluation -------------------------------------------------------- */

START_TEST(test_evaluate) {
    const lenet_model m = dense_model();
    /* logit c = pixel c / 255: the prediction is the brightest of the first
     * three pixels, first one on ties */
    float p[DPARAMS] = {0};
    for (int c = 0; c < DK; c++)
        p[c * DIN + c] = 1.0f;
    uint8_t images[7 * 4] = {
        200, 10,  10,  0,   /* -> 0, label 0: right */
        10,  200, 10,  0,   /* -> 1, label 1: right */
        10,  10,  200, 0,   /* -> 2, label 2: right */
        50,  50,  10,  0,   /* tie -> 0, label 0: right */
        50,  50,  10,  0,   /* tie -> 0, label 1: wrong */
        0,   0,   0,   255, /* all 0 -> 0, label 0: right (pixel 3 unused) */
        30,  20,  10,  0,   /* -> 0, label 2: wrong */
    };
    uint8_t labels[7] = {0, 1, 2, 0, 1, 0, 2};
    lenet_dataset ds = {.count = 7, .rows = 2, .cols = 2, .images = images, .labels = labels};
    float acts[(DIN + DK) * DT];
    /* two tiles, the second with 3 lanes */
    ck_assert_double_eq(lenet_evaluate(&m, p, &ds, acts), 5.0 / 7.0);

    ds.count = 4; /* exactly one full tile */
    ck_assert_double_eq(lenet_evaluate(&m, p, &ds, acts), 1.0);
    ds.count = 5;
    ck_assert_double_eq(lenet_evaluate(&m, p, &ds, acts), 4.0 / 5.0);

    ds.count = 7; /* a bias of 2 on class 2 outweighs every pixel: all say 2 */
    p[DK * DIN + 2] = 2.0f;
    ck_assert_double_eq(lenet_evaluate(&m, p, &ds, acts), 2.0 / 7.0);
}
END_TEST

Suite *numerics_suite(void) {
    Suite *s = suite_create("numerics");
    TCase *tc = tcase_create("loss");
    tcase_add_test(tc, test_xent_values);
    tcase_add_test(tc, test_xent_stable);
    tcase_add_test(tc, test_argmax_ties);
    suite_add_tcase(s, tc);

    tc = tcase_create("optim");
    tcase_add_test(tc, test_adam_keras);
    tcase_add_test(tc, test_adam_first_step);
    tcase_add_test(tc, test_sgd_exact);
    tcase_add_test(tc, test_sgd_momentum_as_pytorch);
    tcase_add_test(tc, test_adamw_decay);
    tcase_add_test(tc, test_schedules);
    tcase_add_test(tc, test_augment_image);
    suite_add_tcase(s, tc);

    tc = tcase_create("rng");
    tcase_add_test(tc, test_rng_pinned);
    tcase_add_test(tc, test_rng_ranges);
    tcase_add_test(tc, test_rng_repeatable);
    tcase_add_test(tc, test_init_pinned);
    tcase_add_test(tc, test_init_distribution);
    tcase_add_test(tc, test_trainer_init);
    suite_add_tcase(s, tc);

    tc = tcase_create("train");
    tcase_add_test(tc, test_load_tile);
    tcase_add_test(tc, test_load_tile_channels);
    tcase_add_test(tc, test_trainer_step_adam);
    tcase_add_test(tc, test_trainer_step_sgd);
    tcase_add_test(tc, test_trainer_step_batching);
    tcase_add_test(tc, test_evaluate);
    suite_add_tcase(s, tc);
    return s;
}
