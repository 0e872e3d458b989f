/* trainer.c: a training run's state and its steps: forward and backward
 * over tiles on a set of worker threads, the gradient sum, Adam or SGD; and
 * evaluation. Needs no file or data-set code, so a cross-compiled check
 * (make check-neon) can link it alone. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lenet_core.h"
#include "lenet_model.h"

/* ---- evaluation -------------------------------------------------------- */

/* Predicts samples [start, end) of ds, each the best of the first `classes`
 * scores (into pred[start..end) if pred is not NULL); returns how many are
 * right. With dlogits (scratch of the logits tile's size), adds their summed
 * cross-entropy to *loss. */
static int predict_range(const lenet_model *m, int classes, const float *params,
                         const lenet_dataset *ds, int start, int end, float *acts, uint8_t *pred,
                         float *dlogits, double *loss) {
    const int T = m->tile;
    int idx[LENET_MAX_TILE], correct = 0, unused = 0;
    for (int s = start; s < end; s += T) {
        int n = end - s < T ? end - s : T;
        for (int b = 0; b < n; b++)
            idx[b] = s + b;
        lenet_load_tile(m, ds, idx, n, acts);
        const lenet_pass pass = {.training = 0, .sample = s};
        m->forward(params, acts, &pass);
        for (int b = 0; b < n; b++) {
            int k = lenet_argmax_lane(acts + m->logits_offset, classes, T, b);
            correct += k == ds->labels[s + b];
            if (pred)
                pred[s + b] = (uint8_t)k;
        }
        if (dlogits)
            *loss += lenet_softmax_xent(acts + m->logits_offset, m->n_classes, T, n,
                                        ds->labels + s, 1.0f, dlogits, &unused);
    }
    return correct;
}

double lenet_evaluate(const lenet_model *m, const float *params, const lenet_dataset *ds,
                      float *acts) {
    if (ds->count == 0 || m->tile > LENET_MAX_TILE)
        return 0;
    return (double)predict_range(m, m->n_classes, params, ds, 0, ds->count, acts, NULL, NULL,
                                 NULL) /
           ds->count;
}

typedef struct {
    lenet_trainer *t;
    const lenet_dataset *ds;
    const int *idx;
    int n;
    uint8_t *pred;
    int want_loss;
} job;

/* Worker w's share of n items in units of `unit`: [*lo, *hi). */
static void share(int n, int unit, int w, int nw, int *lo, int *hi) {
    int units = (n + unit - 1) / unit;
    *lo = (int)((long)units * w / nw) * unit;
    *hi = (int)((long)units * (w + 1) / nw) * unit;
    if (*hi > n)
        *hi = n;
    if (*lo > n)
        *lo = n;
}

static void evaluate_work(void *ctx, int w, int nw) {
    job *j = ctx;
    lenet_worker *k = &j->t->workers[w];
    const lenet_model *m = j->t->m;
    int lo, hi;
    share(j->ds->count, m->tile, w, nw, &lo, &hi);
    k->loss = 0;
    k->correct = predict_range(m, j->t->classes, j->t->params, j->ds, lo, hi, k->acts, j->pred,
                               j->want_loss ? k->dacts + m->logits_offset : NULL, &k->loss);
}

static double score(lenet_trainer *t, const lenet_dataset *ds, uint8_t *pred, double *loss) {
    if (ds->count == 0)
        return 0;
    job j = {.t = t, .ds = ds, .pred = pred, .want_loss = loss != NULL};
    lenet_threads_run(t->thread_set, evaluate_work, &j);
    long correct = 0;
    double sum = 0;
    for (int w = 0; w < t->threads; w++) {
        correct += t->workers[w].correct;
        sum += t->workers[w].loss;
    }
    if (loss)
        *loss = sum / ds->count;
    return (double)correct / ds->count;
}

double lenet_trainer_evaluate(lenet_trainer *t, const lenet_dataset *ds) {
    return score(t, ds, NULL, NULL);
}

double lenet_trainer_predict(lenet_trainer *t, const lenet_dataset *ds, uint8_t *pred) {
    return score(t, ds, pred, NULL);
}

double lenet_trainer_score(lenet_trainer *t, const lenet_dataset *ds, double *loss) {
    return score(t, ds, NULL, loss);
}

/* ---- training ---------------------------------------------------------- */

/* A step's gradient slots (lenet.h): one a tile, up to LENET_MAX_SLOTS
 * (then a slot holds several), a number that depends on the batch alone, so
 * the sums, and the bits, do not depend on the threads. A worker takes whole
 * slots, so as many workers as a batch has tiles are busy: slots of two
 * tiles left one of two cores idle on ResNet-8's batch of 32 (7.3 s an epoch
 * of 6,000 images; 3.7 s with a slot a tile), and the slots cost nothing
 * measurable on lenet5 and the speedrun (2-core AMD EPYC, 2026-12-03). */
static int step_slots(int tiles) {
    return tiles < LENET_MAX_SLOTS ? tiles : LENET_MAX_SLOTS;
}

int lenet_trainer_init(lenet_trainer *t, const lenet_model *m, const lenet_hparams *h,
                       int threads) {
    memset(t, 0, sizeof *t);
    if (m->tile < 1 || m->tile > LENET_MAX_TILE)
        return -1;
    if (threads <= 0)
        threads = lenet_default_threads();
    if (threads > LENET_MAX_THREADS)
        threads = LENET_MAX_THREADS;
    t->m = m;
    t->h = *h;
    t->classes = m->n_classes;
    const size_t P = m->n_params, A = m->act_floats;
    const int T = m->tile, B = h->batch > 0 ? h->batch : 1;
    t->tiles = (B + T - 1) / T;
    t->slots = step_slots(t->tiles);
    /* params, grads (slot 0), m, v; per worker acts, dacts; slots 1.. */
    /* every array starts on a 64-byte line, so every feature's tile of
     * lanes does too (the kernels' vector loads never straddle lines) */
    const size_t Pa = (P + 15) / 16 * 16, Aa = (A + 15) / 16 * 16;
    const size_t floats = 4 * Pa + (size_t)threads * 2 * Aa + (size_t)(t->slots - 1) * Pa;
    t->mem = aligned_alloc(64, floats * sizeof *t->mem);
    t->tile_loss = calloc((size_t)t->tiles, sizeof *t->tile_loss);
    t->tile_correct = calloc((size_t)t->tiles, sizeof *t->tile_correct);
    t->thread_set = t->mem && t->tile_loss && t->tile_correct ? lenet_threads_create(threads)
                                                               : NULL;
    if (!t->thread_set) {
        lenet_trainer_free(t);
        return -1;
    }
    memset(t->mem, 0, floats * sizeof *t->mem);
    t->threads = lenet_threads_size(t->thread_set);
    t->params = t->mem;
    t->grads = t->mem + Pa;
    t->adam_m = t->mem + 2 * Pa;
    t->adam_v = t->mem + 3 * Pa;
    float *p = t->mem + 4 * Pa;
    for (int w = 0; w < t->threads; w++) {
        t->workers[w].acts = p;
        t->workers[w].dacts = p + Aa;
        p += 2 * Aa;
    }
    t->slot_grads[0] = t->grads;
    for (int s = 1; s < t->slots; s++, p += Pa)
        t->slot_grads[s] = p;
    t->acts = t->workers[0].acts;
    t->dacts = t->workers[0].dacts;
    if (m->parts > 1) {
        t->tile_acts = aligned_alloc(64, (size_t)t->tiles * 2 * Aa * sizeof(float));
        t->tile_sums = calloc((size_t)(t->tiles + 1) * m->sums, sizeof(double));
        if (!t->tile_acts || !t->tile_sums) {
            lenet_trainer_free(t);
            return -1;
        }
        memset(t->tile_acts, 0, (size_t)t->tiles * 2 * Aa * sizeof(float));
        t->tile_dacts = t->tile_acts + (size_t)t->tiles * Aa;
        t->batch_sums = t->tile_sums + (size_t)t->tiles * m->sums;
    }
    lenet_init_params(m, t->params, h->seed);
    return 0;
}

void lenet_trainer_free(lenet_trainer *t) {
    lenet_threads_free(t->thread_set);
    free(t->mem);
    free(t->tile_acts);
    free(t->tile_sums);
    free(t->tile_loss);
    free(t->tile_correct);
    memset(t, 0, sizeof *t);
}

/* The batch's tile of samples s..s+n into acts: the images as they are,
 * or moved at random (the step's stream, salted). */
static void load_batch_tile(const job *j, int s, int n, float *acts) {
    const lenet_trainer *t = j->t;
    if (lenet_augments(&t->h))
        lenet_load_tile_augmented(t->m, j->ds, j->idx + s, n, acts, &t->h,
                                  lenet_step_seed(t->h.seed ^ 0x415547ull, t->step + 1), s);
    else
        lenet_load_tile(t->m, j->ds, j->idx + s, n, acts);
}

/* Tile i's loss (of its samples s..s+n) and right answers, and
 * dLoss/dlogits into dacts. */
static void tile_loss(const job *j, int i, int s, int n, const float *acts, float *dacts) {
    lenet_trainer *t = j->t;
    const lenet_model *m = t->m;
    uint8_t labels[LENET_MAX_TILE];
    for (int b = 0; b < n; b++)
        labels[b] = j->ds->labels[j->idx[s + b]];
    t->tile_correct[i] = 0;
    t->tile_loss[i] = lenet_softmax_xent_smoothed(acts + m->logits_offset, m->n_classes, m->tile,
                                                  n, labels, t->h.label_smoothing, 1.0f / j->n,
                                                  dacts + m->logits_offset, &t->tile_correct[i]);
}

/* Slot s's tiles: [*lo, *hi). */
static void slot_tiles(int tiles, int s, int *lo, int *hi) {
    const int n = step_slots(tiles);
    *lo = (int)((long)tiles * s / n);
    *hi = (int)((long)tiles * (s + 1) / n);
}

/* The slot of tile i. */
static int slot_of(int tiles, int i) {
    int s = 0, lo, hi;
    for (slot_tiles(tiles, s, &lo, &hi); i >= hi; slot_tiles(tiles, ++s, &lo, &hi))
        ;
    return s;
}

/* Worker w's slots: each slot's tiles one after the other, forward, loss
 * and backward each, into the slot's gradient buffer. */
static void tile_passes(job *j, int w, int nw) {
    lenet_trainer *t = j->t;
    const lenet_model *m = t->m;
    lenet_worker *k = &t->workers[w];
    const int T = m->tile, tiles = (j->n + T - 1) / T;
    int slo, shi;
    share(step_slots(tiles), 1, w, nw, &slo, &shi);
    if (slo == 0 && shi > 0) /* slot 0; the others were cleared as they were added */
        memset(t->grads, 0, m->n_trainable * sizeof *t->grads);
    for (int slot = slo; slot < shi; slot++) {
        float *grads = t->slot_grads[slot];
        int lo, hi;
        slot_tiles(tiles, slot, &lo, &hi);
        for (int i = lo; i < hi; i++) {
            const int s = i * T, n = j->n - s < T ? j->n - s : T;
            load_batch_tile(j, s, n, k->acts);
            if (i + 1 < hi || slot + 1 < shi) { /* this worker's next tile */
                const int s1 = s + T, n1 = j->n - s1 < T ? j->n - s1 : T;
                lenet_prefetch_tile(m, j->ds, j->idx + s1, n1);
            }
            const lenet_pass pass = {
                .training = 1, .seed = lenet_step_seed(t->h.seed, t->step + 1), .sample = s};
            m->forward(t->params, k->acts, &pass);
            tile_loss(j, i, s, n, k->acts, k->dacts);
            m->backward(t->params, k->acts, k->dacts, grads, &pass);
        }
    }
}

/* Between two parts: every tile's sums added in tile order (each worker a
 * slice of them), so the batch's statistics do not depend on the threads. */
static void add_tile_sums(lenet_trainer *t, int tiles, int w, int nw) {
    const size_t n = t->m->sums;
    int lo, hi;
    lenet_threads_barrier(t->thread_set);
    share((int)n, 1, w, nw, &lo, &hi);
    for (int i = lo; i < hi; i++) {
        double sum = 0;
        for (int b = 0; b < tiles; b++)
            sum += t->tile_sums[(size_t)b * n + i];
        t->batch_sums[i] = sum;
    }
    lenet_threads_barrier(t->thread_set);
}

/* With batch statistics: worker w's slots' tiles, each part of the passes
 * over every tile of the batch before the sums are added (lenet_pass). */
static void batch_passes(job *j, int w, int nw) {
    lenet_trainer *t = j->t;
    const lenet_model *m = t->m;
    const int T = m->tile, tiles = (j->n + T - 1) / T;
    const size_t A = (size_t)(m->act_floats + 15) / 16 * 16;
    int slo, shi, lo = 0, hi = 0, unused;
    share(step_slots(tiles), 1, w, nw, &slo, &shi);
    if (slo < shi) { /* its tiles: those of its slots */
        slot_tiles(tiles, slo, &lo, &unused);
        slot_tiles(tiles, shi - 1, &unused, &hi);
    }
    if (slo == 0 && shi > 0) /* slot 0; the others were cleared as they were added */
        memset(t->grads, 0, m->n_trainable * sizeof *t->grads);
    lenet_pass pass = {.training = 1, .seed = lenet_step_seed(t->h.seed, t->step + 1),
                       .batch = j->n, .batch_sums = t->batch_sums};
    for (int part = 0; part < m->parts; part++) {
        if (part > 0)
            add_tile_sums(t, tiles, w, nw);
        for (int i = lo; i < hi; i++) {
            const int s = i * T, n = j->n - s < T ? j->n - s : T;
            float *acts = t->tile_acts + i * A, *dacts = t->tile_dacts + i * A;
            pass.part = part;
            pass.sample = s;
            pass.lanes = n;
            pass.sums = t->tile_sums + (size_t)i * m->sums;
            if (part == 0)
                load_batch_tile(j, s, n, acts);
            m->forward(t->params, acts, &pass);
            if (part == m->parts - 1) {
                tile_loss(j, i, s, n, acts, dacts);
                m->backward(t->params, acts, dacts, t->slot_grads[slot_of(tiles, i)], &pass);
            }
        }
    }
    for (int part = m->parts - 2; part >= 0; part--) {
        add_tile_sums(t, tiles, w, nw);
        for (int i = lo; i < hi; i++) {
            const int s = i * T;
            pass.part = part;
            pass.sample = s;
            pass.lanes = j->n - s < T ? j->n - s : T;
            pass.sums = t->tile_sums + (size_t)i * m->sums;
            m->backward(t->params, t->tile_acts + i * A, t->tile_dacts + i * A,
                        t->slot_grads[slot_of(tiles, i)], &pass);
        }
    }
}

/* dst += src, src = 0 (a slot added into slot 0 and cleared for the next
 * step in one pass); built for the widest vectors the CPU has */
#if defined(__x86_64__) && !defined(__clang__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
static void add_and_clear(float *restrict dst, float *restrict src, long n) {
    for (long i = 0; i < n; i++) {
        dst[i] += src[i];
        src[i] = 0;
    }
}

/* Worker w: forward and backward over its slots' tiles; then, once every
 * worker is done, the gradient sum and the update of its own slice of the
 * parameters (the update is elementwise, so slicing it does not change a
 * bit). Every sum has an order that does not depend on the threads. */
static void step_work(void *ctx, int w, int nw) {
    job *j = ctx;
    lenet_trainer *t = j->t;
    const lenet_model *m = t->m;
    if (m->parts > 1)
        batch_passes(j, w, nw);
    else
        tile_passes(j, w, nw);
    lenet_threads_barrier(t->thread_set);
    const int tiles = (j->n + m->tile - 1) / m->tile;
    double loss = 0;
    for (int i = 0; i < tiles; i++)
        loss += t->tile_loss[i];
    if (w == 0)
        t->step_loss = loss;
    int plo, phi;
    /* only the trainable parameters: the state after them is not updated */
    share((int)m->n_trainable, 16, w, nw, &plo, &phi);
    /* the slots into slot 0, in order, each cleared for the next step as
     * it is read (no pass of its own) */
    for (int s = 1; s < step_slots(tiles); s++)
        add_and_clear(t->grads + plo, t->slot_grads[s] + plo, phi - plo);
    if (!isfinite(loss))
        return; /* keep the last good parameters */
    if (w == 0 && m->update_state) /* the state after the trained params: no overlap */
        m->update_state(t->params, &(lenet_pass){.training = 1, .batch = j->n,
                                                 .batch_sums = t->batch_sums});
    const size_t n = (size_t)(phi - plo);
    /* SGD's momentum buffer is Adam's first moment's array */
    if (t->h.optimizer == LENET_SGD) {
        lenet_sgd_step(t->params + plo, t->grads + plo, t->adam_m + plo, n, &t->h);
        return;
    }
    if (t->h.optimizer == LENET_ADAMW)
        lenet_weight_decay(t->params + plo, n, t->h.lr, t->h.weight_decay);
    lenet_adam_step(t->params + plo, t->grads + plo, t->adam_m + plo, t->adam_v + plo, n, &t->h,
                    t->step + 1);
}

double lenet_trainer_step(lenet_trainer *t, const lenet_dataset *ds, const int *idx, int n,
                          int *correct) {
    job j = {.t = t, .ds = ds, .idx = idx, .n = n};
    lenet_threads_run(t->thread_set, step_work, &j);
    for (int i = 0; i < (n + t->m->tile - 1) / t->m->tile; i++)
        *correct += t->tile_correct[i];
    if (isfinite(t->step_loss))
        t->step++;
    return t->step_loss;
}

