/* optim.c: parameter updates over the flat parameter array. The arrays never
 * overlap (restrict), so the loops vectorise: sqrt and division are exactly
 * rounded in vector registers too, so the bits do not depend on it. */
#include <math.h>

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
        [LENET_CONSTANT] = "constant", [LENET_COSINE] = "cosine", [LENET_STEP] = "step"};
    return k >= LENET_CONSTANT && k <= LENET_STEP ? names[k] : "?";
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
    default:
        return (float)lr;
    }
}
