/* lenet_core.h: errors, the data set a trainer reads, random numbers and
 * initialisation, input tiles, augmentation, the loss, the optimisers,
 * threads and the trainer's steps. Nothing here reads a file or a command
 * line (make check-neon links the core alone).
 */
#ifndef LENET_CORE_H
#define LENET_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "lenet_model.h"

/* ---- errors ---------------------------------------------------------- */

/* Runtime functions report failure by returning -1 after writing a message
 * (naming the file where there is one) into the caller's buffer. */
typedef struct {
    char msg[512];
} lenet_error;

void lenet_set_error(lenet_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The shortest decimal that reads back as v (as a float if is_float):
 * 0.001, not 0.00100000005; what messages and generated code print. */
const char *lenet_shortest(double v, int is_float, char buf[32]);

/* ---- data sets (loaded by data/, lenet_data.h) ----------------------- */

/* One part (train or test) of a data set, whatever its format. Pixel (y, x)
 * of image i has its channels together: images[((i * rows + y) * cols + x)
 * * channels + c]. Labels are uint8, so at most 256 classes. */
typedef struct {
    int count;
    int rows, cols, channels;
    uint8_t *images;     /* count * rows * cols * channels bytes */
    uint8_t *labels;     /* count bytes, each < n_classes */
    int n_classes;
    char **class_names;  /* n_classes names: folder names, CIFAR's batches.meta.txt,
                          * else "0", "1", ... (NULL in hand-made sets) */
    char *path;          /* the directory or file it came from */
    const char *format;  /* "IDX", "CIFAR-10", "image folders" */
    char note[200];      /* what the loader wants said once (the cache), or "" */
} lenet_dataset;

#define LENET_MAX_CLASSES 256 /* labels are uint8 */

/* ---- random numbers and initialisation -------------------------------- */

typedef struct {
    uint64_t s[4];
} lenet_rng;

void lenet_rng_seed(lenet_rng *r, uint64_t seed);
uint64_t lenet_rng_next(lenet_rng *r);
float lenet_rng_uniform(lenet_rng *r); /* [0, 1), 24 random bits */
uint32_t lenet_rng_below(lenet_rng *r, uint32_t n);

/* Every tensor as its table entry says (init), in table order, from one
 * stream seeded with seed. */
void lenet_init_params(const lenet_model *m, float *params, uint64_t seed);
/* The seed of a training step's own random stream (dropout masks...):
 * the run's seed and the step, mixed. */
uint64_t lenet_step_seed(uint64_t seed, long step);

/* ---- input tiles ------------------------------------------------------ */

/* Copies images idx[0..n) into the model's input tile (acts[0..]), scaled and
 * padded, channel-planar (in[c][y][x][lane], as the generated code reads it);
 * lanes n..tile-1 are zero. ds must hold m->data_c channels (the loader
 * checks). */
void lenet_load_tile(const lenet_model *m, const lenet_dataset *ds,
                     const int *idx, int n, float *acts);
/* Asks the cache for images idx[0..n) of ds (m's input channels each, as
 * lenet_load_tile reads them), so that the next tile's
 * lenet_load_tile finds them there (a shuffled batch's images are far
 * apart: each would otherwise be a wait on memory). Changes nothing else. */
void lenet_prefetch_tile(const lenet_model *m, const lenet_dataset *ds, const int *idx,
                         int n);

/* ---- augmentation (augment.c) ---------------------------------------- */

/* Whether h moves training images at all. */
int lenet_augments(const lenet_hparams *h);
/* dst = src (h x w x c uint8) shifted, rotated and scaled at random, as h
 * says, by the stream key (bilinear; 0 outside). */
void lenet_augment_image(const lenet_hparams *hp, uint64_t key, const uint8_t *src, int h, int w,
                         int c, uint8_t *dst);
/* lenet_load_tile of augmented copies: image b's key mixes key and
 * first + b (its place in the batch). */
void lenet_load_tile_augmented(const lenet_model *m, const lenet_dataset *ds, const int *idx,
                               int n, float *acts, const lenet_hparams *h, uint64_t key,
                               int first);

/* ---- loss ------------------------------------------------------------- */

/* Softmax cross-entropy on a logits tile [k][tile] for the first n lanes.
 * Writes dLoss/dlogits * grad_scale into dlogits (zero for unused lanes),
 * returns the summed (not averaged) loss of the n samples and counts the
 * correct argmax predictions into *correct. */
double lenet_softmax_xent(const float *logits, int k, int tile, int n,
                          const uint8_t *labels, float grad_scale,
                          float *dlogits, int *correct);

/* The same against labels smoothed by `smoothing` (PyTorch's
 * CrossEntropyLoss(label_smoothing=), Keras' label_smoothing): the target
 * of class c is (1 - smoothing) [c == y] + smoothing / k. smoothing 0 is
 * lenet_softmax_xent, bit for bit. */
double lenet_softmax_xent_smoothed(const float *logits, int k, int tile, int n,
                                   const uint8_t *labels, float smoothing, float grad_scale,
                                   float *dlogits, int *correct);

/* argmax per lane of a logits tile, first maximum wins. */
int lenet_argmax_lane(const float *logits, int k, int tile, int lane);

/* ---- optimisers ------------------------------------------------------- */

/* Keras' Adam: lr_t = lr * sqrt(1-b2^t) / (1-b1^t);
 *              p -= lr_t * m / (sqrt(v) + eps); t counts from 1. */
void lenet_adam_step(float *restrict params, const float *restrict grads, float *restrict m,
                     float *restrict v, size_t n, const lenet_hparams *h, long step);
/* SGD as PyTorch's: g' = g + wd w; with momentum buf = momentum buf + g'
 * (buf starts at 0, so its first value is g') and w -= lr (nesterov ? g' +
 * momentum buf : buf); without, w -= lr g'. buf may be NULL without momentum. */
void lenet_sgd_step(float *restrict params, const float *restrict grads, float *restrict buf,
                    size_t n, const lenet_hparams *h);
/* AdamW's decoupled decay, before the Adam step: w -= lr wd w. */
void lenet_weight_decay(float *restrict params, size_t n, float lr, float wd);

/* "adam", "sgd", "adamw"; "constant", "cosine", "step", "onecycle" */
const char *lenet_optimizer_name(lenet_optimizer_kind k);
const char *lenet_schedule_name(lenet_schedule_kind k);
/* The rate of step t (1, 2, ...) of a run of `epochs` epochs of
 * steps_per_epoch steps:
 *   constant  lr
 *   step      lr * factor^floor(epoch index / every), the epoch index from 0
 *   cosine    warmup: lr * t / W (W = warmup_epochs * steps_per_epoch), then
 *             lr * (1 + cos(pi * (t - W) / (T - W))) / 2 with T all steps
 *   onecycle  PyTorch's OneCycleLR at its step t - 1: with E = pct_start * T
 *             - 1, from lr / div_factor to lr over steps [0, E], then to
 *             lr / div_factor / final_div_factor at step T - 1 */
float lenet_schedule_lr(const lenet_hparams *h, long t, long steps_per_epoch);
/* Sets schedule k with its settings' defaults (cosine: no warmup; step:
 * halving every 5 epochs; onecycle: PyTorch's, 0.3, 25, 1e4, cos, momentum
 * from 0.95 to 0.85). */
void lenet_schedule_defaults(lenet_hparams *h, lenet_schedule_kind k);
/* "cosine (warmup 1 epochs)", "onecycle (...)", "constant": for messages */
void lenet_schedule_describe(const lenet_hparams *h, char *buf, size_t n);
/* The momentum of step t that a onecycle schedule with cycle_momentum
 * gives (Adam's beta1, SGD's momentum), as OneCycleLR's; -1 if none. */
float lenet_schedule_momentum(const lenet_hparams *h, long t, long steps_per_epoch);

/* ---- threads ---------------------------------------------------------- */

#define LENET_MAX_THREADS 64

/* A persistent set of threads: lenet_threads_run calls fn(ctx, worker,
 * n_workers) once on each of n workers (the caller is worker 0) and returns
 * when all are done. */
typedef struct lenet_threads lenet_threads;
typedef void (*lenet_threads_fn)(void *ctx, int worker, int n_workers);
lenet_threads *lenet_threads_create(int n_workers);
int lenet_threads_size(const lenet_threads *set);
void lenet_threads_run(lenet_threads *set, lenet_threads_fn fn, void *ctx);
/* Inside a job: returns when every worker of the set has called it. */
void lenet_threads_barrier(lenet_threads *set);
void lenet_threads_free(lenet_threads *set);
/* The online cores, at most LENET_MAX_THREADS. */
int lenet_default_threads(void);

/* ---- the trainer (trainer.c) ----------------------------------------- */

/* One worker's scratch: the activations of the tile it is working on, and
 * what it scored in an evaluation. */
typedef struct {
    float *acts, *dacts; /* act_floats each */
    double loss;
    int correct;
} lenet_worker;

/* A step's gradient is summed in a fixed order, whatever the thread count:
 * each tile into a "slot" of its own (past this many, contiguous runs of
 * tiles share one, added in order), then the slots added in order. A
 * worker takes whole slots. */
#define LENET_MAX_SLOTS 16

/* Everything one training run owns. params, grads, the Adam moments and the
 * workers' buffers share one allocation, as in llm.c. */
typedef struct {
    const lenet_model *m;
    lenet_hparams h;
    float *mem;
    float *params, *grads, *adam_m, *adam_v; /* n_params each */
    float *acts, *dacts;                     /* worker 0's tile buffers */
    lenet_threads *thread_set;
    int threads;
    lenet_worker workers[LENET_MAX_THREADS];
    long step;                               /* optimiser steps taken */
    int slots;                               /* gradient slots (<= LENET_MAX_SLOTS) */
    float *slot_grads[LENET_MAX_SLOTS];      /* slot 0 is grads */
    int tiles;                               /* tiles of a whole batch */
    double *tile_loss;                       /* each tile's loss and right */
    int *tile_correct;                       /* answers, summed in tile order */
    double step_loss;                        /* the last step's loss */
    /* batch statistics (m->parts > 1): every tile of a batch stays in
     * memory between the parts of its passes */
    float *tile_acts, *tile_dacts;           /* batch_tiles x act_floats each */
    const lenet_dataset *data;               /* what it trains on, for the
                                              * checkpoints' provenance; or NULL */
    double *tile_sums, *batch_sums;          /* batch_tiles x m->sums; m->sums */
    int classes;                             /* predictions are the best of the
                                              * first `classes` scores: the data's
                                              * classes (m->n_classes by default) */
} lenet_trainer;

/* Allocates and initialises (Glorot-uniform from h->seed) a trainer with
 * `threads` workers (<= 0: lenet_default_threads()). -1 if out of memory. */
int lenet_trainer_init(lenet_trainer *t, const lenet_model *m, const lenet_hparams *h,
                       int threads);
void lenet_trainer_free(lenet_trainer *t);
/* One optimiser step on samples idx[0..n) of ds (n <= batch): forward and
 * backward tile by tile, the batch's tiles split into one contiguous run per
 * worker; the workers' gradients are summed in worker order, the mean taken,
 * then Adam or SGD. Returns the summed loss of the n samples and adds correct
 * predictions to *correct. A non-finite loss leaves the parameters as they
 * were (no update) so that the caller can stop with the last good ones. */
double lenet_trainer_step(lenet_trainer *t, const lenet_dataset *ds, const int *idx, int n,
                          int *correct);
/* Accuracy of the trainer's params on ds, on all its workers. */
double lenet_trainer_evaluate(lenet_trainer *t, const lenet_dataset *ds);
/* The same, also writing each sample's predicted class to pred[i] (if not
 * NULL; ds->count entries). */
double lenet_trainer_predict(lenet_trainer *t, const lenet_dataset *ds, uint8_t *pred);
/* Accuracy and (into *loss) the mean softmax cross-entropy on ds. */
double lenet_trainer_score(lenet_trainer *t, const lenet_dataset *ds, double *loss);

/* Accuracy of params on ds (forward only, on the calling thread). */
double lenet_evaluate(const lenet_model *m, const float *params,
                      const lenet_dataset *ds, float *acts);

#endif
