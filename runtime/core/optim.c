/* optim.c: parameter updates over the flat parameter array. The arrays never
 * overlap (restrict), so the loops vectorise: sqrt and division are exactly
 * rounded in vector registers too, so the bits do not depend on it. */
#include <math.h>
#include <stdio.h>

#include "lenet_core.h"
#include "lenet_model.h"

void lenet_adam_step(float *restrict params, const float *restrict grads, float *restrict m,
                     float *restrict v, size_t n, const lenet_hparams *h, long step) {
    /* Keras folds both bias corrections into the step size and adds eps to
     * the uncorrected sqrt(v); PyTorch corrects v before adding eps. */
    const float lr_t = (float)(h->lr * sqrt(1.0 - pow(h->beta2, (double)step)) /
                               (1.0 - pow(h->beta1, (double)step)));
    const float b1 = h->beta1, b2 = h->beta2, eps = h->eps;
    for (size_t i = 0; i < n; i++) {
        const float g = grads[i];
        m[i] = b1 * m[i] + (1.0f - b1) * g;
        v[i] = b2 * v[i] + (1.0f - b2) * g * g;
        params[i] -= lr_t * m[i] / (sqrtf(v[i]) + eps);
    }
}

void lenet_sgd_step(float *restrict params, const float *restrict grads, float *restrict buf,
                    size_t n, const lenet_hparams *h) {
    const float lr = h->lr, wd = h->weight_decay, mu = h->momentum;
    if (mu == 0) {
        for (size_t i = 0; i < n; i++)
            params[i] -= lr * (grads[i] + wd * params[i]);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const float g = grads[i] + wd * params[i];
        buf[i] = mu * buf[i] + g;
        params[i] -= lr * (h->nesterov ? g + mu * buf[i] : buf[i]);
    }
}

void lenet_weight_decay(float *restrict params, size_t n, float lr, float wd) {
    const float k = lr * wd;
    for (size_t i = 0; i < n; i++)
        params[i] -= k * params[i];
}

const char *lenet_optimizer_name(lenet_optimizer_kind k) {
    static const char *const names[] = {
        [LENET_ADAM] = "adam", [LENET_SGD] = "sgd", [LENET_ADAMW] = "adamw"};
    return k >= LENET_ADAM && k <= LENET_ADAMW ? names[k] : "?";
}

const char *lenet_schedule_name(lenet_schedule_kind k) {
    static const char *const names[] = {
        [LENET_CONSTANT] = "constant", [LENET_COSINE] = "cosine", [LENET_STEP] = "step",
        [LENET_ONECYCLE] = "onecycle"};
    return k >= LENET_CONSTANT && k <= LENET_ONECYCLE ? names[k] : "?";
}

void lenet_schedule_defaults(lenet_hparams *h, lenet_schedule_kind k) {
    h->schedule = k;
    h->warmup_epochs = 0;
    h->step_every = 5;
    h->step_factor = 0.5f;
    h->pct_start = 0.3f;
    h->div_factor = 25;
    h->final_div_factor = 1e4f;
    h->onecycle_linear = 0;
    h->cycle_momentum = k == LENET_ONECYCLE;
    h->base_momentum = 0.85f;
    h->max_momentum = 0.95f;
}

void lenet_schedule_describe(const lenet_hparams *h, char *buf, size_t n) {
    char a[32], b[32];
    switch (h->schedule) {
    case LENET_COSINE:
        snprintf(buf, n, "cosine (warmup %s epochs)", lenet_shortest(h->warmup_epochs, 1, a));
        break;
    case LENET_STEP:
        snprintf(buf, n, "step (x%s every %d epochs)", lenet_shortest(h->step_factor, 1, a),
                 h->step_every);
        break;
    case LENET_ONECYCLE: {
        char pct[32], lo[32], hi[32];
        /* "onecycle (0.3 of the steps up from lr/25, cos, down to lr/25/10000;
         * momentum 0.95 to 0.85)" */
        snprintf(buf, n, "onecycle (%s of the steps up from lr/%s, %s, down to lr/%s/%s%s%s%s%s)",
                 lenet_shortest(h->pct_start, 1, pct), lenet_shortest(h->div_factor, 1, b),
                 h->onecycle_linear ? "linear" : "cos", b,
                 lenet_shortest(h->final_div_factor, 1, a),
                 h->cycle_momentum ? "; momentum " : "",
                 h->cycle_momentum ? lenet_shortest(h->max_momentum, 1, hi) : "",
                 h->cycle_momentum ? " to " : "",
                 h->cycle_momentum ? lenet_shortest(h->base_momentum, 1, lo) : "");
        break;
    }
    default:
        snprintf(buf, n, "constant");
    }
}

/* OneCycleLR's two phases at step s (0-based) of T: which one, and how far
 * into it (0 to 1), as torch/optim/lr_scheduler.py computes them: phase 1
 * ends at step pct_start * T - 1, phase 2 at T - 1. */
static double onecycle_phase(const lenet_hparams *h, long s, long T, int *second) {
    const double end1 = (double)h->pct_start * T - 1, end2 = (double)T - 1;
    *second = !(s <= end1);
    if (!*second)
        return end1 > 0 ? s / end1 : 1;
    return end2 > end1 ? (s - end1) / (end2 - end1) : 1;
}

/* from a to b, pct of the way: a half cosine (PyTorch's _annealing_cos) or a line */
static double anneal(const lenet_hparams *h, double a, double b, double pct) {
    const double pi = 3.14159265358979323846;
    if (h->onecycle_linear)
        return (b - a) * pct + a;
    return b + (a - b) / 2.0 * (cos(pi * pct) + 1);
}

static long total_steps(const lenet_hparams *h, long steps_per_epoch) {
    return (long)h->epochs * steps_per_epoch;
}

float lenet_schedule_momentum(const lenet_hparams *h, long t, long steps_per_epoch) {
    if (h->schedule != LENET_ONECYCLE || !h->cycle_momentum)
        return -1;
    int second;
    const double pct = onecycle_phase(h, t - 1, total_steps(h, steps_per_epoch), &second);
    return second ? (float)anneal(h, h->base_momentum, h->max_momentum, pct)
                  : (float)anneal(h, h->max_momentum, h->base_momentum, pct);
}

float lenet_schedule_lr(const lenet_hparams *h, long t, long steps_per_epoch) {
    const double lr = h->lr;
    switch (h->schedule) {
    case LENET_STEP: {
        const long epoch = (t - 1) / steps_per_epoch;
        const int every = h->step_every > 0 ? h->step_every : 1;
        return (float)(lr * pow(h->step_factor, (double)(epoch / every)));
    }
    case LENET_COSINE: {
        const double T = (double)h->epochs * steps_per_epoch;
        const double W = fmin((double)h->warmup_epochs * steps_per_epoch, T);
        if (t <= W)
            return (float)(lr * t / W);
        const double pi = 3.14159265358979323846;
        return (float)(lr * 0.5 * (1.0 + cos(pi * (t - W) / (T - W))));
    }
    case LENET_ONECYCLE: {
        const double initial = lr / h->div_factor, least = initial / h->final_div_factor;
        int second;
        const double pct = onecycle_phase(h, t - 1, total_steps(h, steps_per_epoch), &second);
        return second ? (float)anneal(h, lr, least, pct) : (float)anneal(h, initial, lr, pct);
    }
    default:
        return (float)lr;
    }
}
