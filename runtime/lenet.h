/* lenet.h: the lenetc runtime, shared by emitted trainers and the JIT.
 *
 * Generated code computes forward and backward passes for one *tile* of
 * samples at a time. Every activation in a tile is stored batch-innermost:
 * a tensor of shape C x H x W is laid out as float[C*H*W][tile], so sample b
 * of feature f lives at [f*tile + b]. Parameters live in one float array in
 * PyTorch layouts (conv [out][in][kh][kw], dense [out][in]).
 *
 * The runtime owns everything else: data loading, initialisation, loss,
 * optimiser, the training loop and safetensors I/O.
 */
#ifndef LENET_H
#define LENET_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lenet_kernels.h"

/* ---- model descriptor: what a compiled network looks like to the runtime */

#define LENET_MAX_TILE 64 /* lenetc emits tiles of 1..64 samples */

/* How a tensor starts (Keras' initialisers of the same names). */
typedef enum {
    LENET_INIT_ZEROS = 0,
    LENET_INIT_ONES,
    LENET_INIT_GLOROT_UNIFORM,  /* U(-a, a), a = sqrt(6 / (fan_in + fan_out)) */
    LENET_INIT_HE_UNIFORM,      /* U(-a, a), a = sqrt(6 / fan_in) */
} lenet_init;

typedef struct {
    const char *name;   /* "conv1.weight", as in a PyTorch state_dict */
    int ndim;
    int dims[4];
    size_t offset;      /* first float of this tensor within params */
    size_t size;        /* number of floats */
    int fan_in;         /* for the glorot and he initialisers */
    int fan_out;
    lenet_init init;
    int trainable;      /* 0: state such as running statistics, which the
                         * optimiser skips (kept after the trainable ones) */
} lenet_tensor;

typedef enum { LENET_ADAM = 0, LENET_SGD = 1, LENET_ADAMW = 2 } lenet_optimizer_kind;
typedef enum { LENET_CONSTANT = 0, LENET_COSINE = 1, LENET_STEP = 2 } lenet_schedule_kind;

typedef struct {
    lenet_optimizer_kind optimizer;
    float lr, beta1, beta2, eps;
    int batch;
    int epochs;
    uint64_t seed;
    float momentum;     /* sgd: PyTorch's buf = momentum buf + g; w -= lr buf */
    int nesterov;       /* sgd: w -= lr (g + momentum buf), as PyTorch's */
    float weight_decay; /* sgd: g += wd w (PyTorch); adamw: w -= lr wd w, then
                         * Adam's step (Keras' AdamW) */
    lenet_schedule_kind schedule; /* the learning rate over the run */
    float warmup_epochs;          /* cosine: linear from 0 over these epochs */
    int step_every;               /* step: epochs between ... */
    float step_factor;            /* ... multiplications of the rate by this */
    /* training images moved at random (augment.c): up to aug_shift pixels
     * each way, aug_rotate degrees, a scale within 1 +- aug_scale */
    float aug_shift, aug_rotate, aug_scale;
} lenet_hparams;

/* "adam", "sgd", "adamw"; "constant", "cosine", "step" */
const char *lenet_optimizer_name(lenet_optimizer_kind k);
const char *lenet_schedule_name(lenet_schedule_kind k);
/* The rate of step t (1, 2, ...) of a run of `epochs` epochs of
 * steps_per_epoch steps:
 *   constant  lr
 *   step      lr * factor^floor(epoch index / every), the epoch index from 0
 *   cosine    warmup: lr * t / W (W = warmup_epochs * steps_per_epoch), then
 *             lr * (1 + cos(pi * (t - W) / (T - W))) / 2 with T all steps */
float lenet_schedule_lr(const lenet_hparams *h, long t, long steps_per_epoch);

/* forward: reads the input tile at acts[0], writes every activation; pass
 * says what the pass is for (lenet_pass, in lenet_kernels.h).
 * backward: expects dacts[logits_offset..] to hold dLoss/dlogits, writes the
 * other activation gradients it needs and ADDS parameter gradients to grads
 * (a batch statistic's parameters: in the call for the tile of sample 0).
 * update_state: after a training step's forward parts, updates the state
 * (running statistics) from pass->batch_sums, once a step. */
typedef void (*lenet_forward_fn)(const float *params, float *acts, const lenet_pass *pass);
typedef void (*lenet_backward_fn)(const float *params, const float *acts, float *dacts,
                                  float *grads, const lenet_pass *pass);
typedef void (*lenet_update_fn)(float *params, const lenet_pass *pass);

typedef struct {
    const char *name;
    int data_h, data_w, data_c; /* image size in the data set */
    int pad;                    /* zero-pixel border added around each image */
    float scale_lo, scale_hi;   /* pixel 0 maps to lo, pixel 255 to hi */
    int n_classes;
    int tile;                   /* samples per forward/backward call */
    size_t n_params;
    size_t n_trainable;         /* params[0..n_trainable) are what the
                                 * optimiser updates; the rest is state */
    int n_tensors;
    const lenet_tensor *tensors;
    size_t act_floats;          /* floats in acts (and dacts) for one tile */
    size_t logits_offset;       /* logits tile [n_classes][tile] within acts */
    lenet_forward_fn forward;
    lenet_backward_fn backward;
    /* batch statistics (batchnorm): a training step's passes run in `parts`
     * parts (1: none), each tile keeping `sums` doubles of sums between
     * them (lenet_pass); update_state is NULL without them */
    int parts;
    size_t sums;
    lenet_update_fn update_state;
    lenet_hparams defaults;     /* the spec's train: section */
    const char *style;          /* the code style: "kernels", "loops", "unrolled" */
    const char *target;         /* what the code was built for: "avx2" (kernels
                                 * run only on a CPU that has it) */
} lenet_model;

/* ---- targets (target.c): instruction sets and their kernels ---------- */

/* A kernel as the JIT binds it: generic name ("lenet_sgemm") -> code. */
typedef struct {
    const char *name;
    void *fn;
} lenet_symbol;

typedef struct {
    const char *name;      /* what --target takes: "avx2" */
    const char *describe;  /* "x86-64-v3: AVX2 + FMA, 8 floats per register" */
    const char *cflags;    /* gcc flags for code built for it */
    int lanes;             /* floats per vector register */
    const lenet_symbol *symbols; /* its kernels; NULL if this runtime lacks them
                                  * (neon on x86-64, ...); ends with {0, 0} */
} lenet_target;

/* The target named name (avx512, avx2, sse2, neon), or NULL. */
const lenet_target *lenet_target_find(const char *name);
/* The i-th known target, widest first; NULL past the last. */
const lenet_target *lenet_target_at(int i);
/* Whether this runtime has its kernels and this CPU runs them. */
int lenet_target_runs(const lenet_target *t);
/* The widest target this CPU runs: what "native" means. */
const lenet_target *lenet_target_native(void);
/* "native, avx512, avx2, sse2, neon", for messages. */
const char *lenet_target_names(void);

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

/* Opens path for reading if it is a regular file (never blocking on a FIFO):
 * a descriptor, or -1 with "PATH: why" in err. */
int lenet_open_regular(const char *path, lenet_error *err);

/* 0 if m's code runs here (the kernels style needs its target's kernels
 * and a CPU that has it); else -1 and a message saying what to do. */
int lenet_check_target(const lenet_model *m, lenet_error *err);

/* ---- data sets ------------------------------------------------------- */

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

/* Loads an IDX image file ([N, H, W] or [N, H, W, C] unsigned bytes) and its
 * label file (either may end in .gz or not; zlib reads both). Validates magic
 * numbers, dimensions, counts, and every label against classes (<= 0: 256),
 * naming the file and record of a bad one. */
int lenet_load_idx(const char *images_path, const char *labels_path, int classes,
                   lenet_dataset *out, lenet_error *err);
void lenet_free_dataset(lenet_dataset *ds);

/* Finds the directory holding MNIST: dir if given, else $LENETC_DATA (which
 * must exist), else ./data/mnist, ../shared/mnist, the same next to the
 * executable, /usr/share/datasets/mnist. Loads train (kind "train") or test
 * (kind "t10k") from it, labels checked against 10 classes. */
int lenet_load_mnist(const char *dir, const char *kind, lenet_dataset *out,
                     lenet_error *err);
/* The search list's first directory (not $LENETC_DATA) that holds kind's IDX
 * images, into dir; -1 with every place looked in said in err. */
int lenet_find_mnist(const char *kind, char *dir, size_t size, lenet_error *err);

/* What to load (data.c finds the format) and what the model takes. */
typedef struct {
    const char *path;   /* --data: a directory; NULL: $LENETC_DATA, else MNIST's
                         * search list (lenet_load_mnist) */
    const char *train_images, *train_labels, *test_images, *test_labels; /* IDX files
                         * named one by one (instead of path) */
    int h, w, c;        /* the model's input: folder images are converted and
                         * resized to it; IDX and CIFAR must have it */
    int classes;        /* every label must be below it */
    int threads;        /* decoding workers (0: all cores) */
    int test_optional;  /* image folders without test/: an empty test set
                         * (training with --val) instead of an error */
} lenet_data_request;

/* The request for model m's input and classes, from nowhere in particular. */
lenet_data_request lenet_data_request_for(const lenet_model *m);

/* Loads the training set (train may be NULL: only the test set) and the test
 * set from what the request names, detecting the format from what is there:
 *   IDX            train-images-idx3-ubyte[.gz] and the three others, or the
 *                  files named one by one
 *   CIFAR-10       data_batch_*.bin (train), test_batch.bin (test): records
 *                  of 1 label byte + 3072 bytes, 32x32x3 channel-planar
 *   image folders  train/<class>/<images> (.png, .jpg, .jpeg), test/<class>/...
 *                  (folders.c)
 * Everything is checked against the request; -1 with a message naming the
 * file (and record) of the first thing wrong. */
int lenet_load_data(const lenet_data_request *rq, lenet_dataset *train, lenet_dataset *test,
                    lenet_error *err);

/* "../shared/mnist (IDX, 60000 train + 10000 test, 28x28x1, 10 classes)", and
 * the parts' notes (train may be NULL). */
void lenet_describe_data(const lenet_dataset *train, const lenet_dataset *test, char *buf,
                         size_t size);

/* Part of data.c that the formats share: n "0".."n-1" class names (NULL if
 * out of memory). */
char **lenet_digit_names(int n);

/* ---- formats (cifar.c, folders.c), called by lenet_load_data ----------- */

/* The CIFAR batches files[0..n) as one part; labels checked against classes. */
int lenet_load_cifar(const char *const *files, int n, int classes, lenet_dataset *out,
                     lenet_error *err);

/* dir/<class>/<image> for every class folder of dir, sorted: decoded on
 * `threads` workers, converted to h x w x c, cached in cache_dir (NULL: no
 * cache) under `part`; labels are the classes' places in that order (a test
 * part is then matched to the training part's by name). A class folder
 * whose name is not UTF-8 is an error naming it. */
int lenet_load_folders(const char *dir, const char *part, int h, int w, int c, int classes,
                       int threads, const char *cache_dir, lenet_dataset *out, lenet_error *err);

/* Makes ds's classes names[0..n): each label becomes the place of its
 * class's name there (a class names lacks is an error naming where, the
 * class and `whose`, e.g. "the training set's"); names ds lacks are classes
 * without images. Classes match by name, never by position. */
int lenet_match_classes(lenet_dataset *ds, const char *where, char *const *names, int n,
                        const char *whose, lenet_error *err);

/* ---- images (decode.c, pixels.c) -------------------------------------- */

typedef struct {
    int w, h, c;   /* c: 1 (gray) or 3 (RGB) */
    uint8_t *px;   /* h rows of w pixels of c bytes */
} lenet_image;

/* Decodes a PNG (any colour type and depth) or JPEG (gray, RGB or YCbCr)
 * file to 8-bit gray or RGB; alpha is composited as lenet_flatten_alpha
 * does. Any libjpeg warning (a truncated file, corrupt data) is an error. */
int lenet_decode_image(const char *path, lenet_image *img, lenet_error *err);

/* The background of n pixels of 2 (gray + alpha) or 4 (RGBA) channels: 255
 * (white, a page), unless what is drawn is light (the alpha-weighted mean
 * of its BT.601 luma above 127.5): 0. 255 for 1 or 3 channels. */
int lenet_alpha_background(const uint8_t *px, size_t n, int channels);
/* src's n pixels (2 or 4 channels) composited over that background into
 * dst (1 or 3 channels: (v a + bg (255 - a) + 127) / 255); dst may be src. */
void lenet_flatten_alpha(const uint8_t *src, size_t n, int channels, uint8_t *dst);
/* n RGB pixels to BT.601 luma, (299 R + 587 G + 114 B + 500) / 1000; gray
 * may be rgb. */
void lenet_gray_pixels(const uint8_t *rgb, size_t n, uint8_t *gray);

/* src (sh x sw x sc, sc 1 or 3) into dst (dh x dw x dc, dc 1 or 3): RGB to
 * gray by ITU-R BT.601 luma (0.299 R + 0.587 G + 0.114 B), gray to RGB by
 * copying; then each axis resized on its own, by area averaging when it
 * shrinks and bilinearly (pixel centres) when it grows, so the aspect ratio
 * follows the target's. */
void lenet_fit_pixels(const uint8_t *src, int sh, int sw, int sc, uint8_t *dst, int dh, int dw,
                      int dc);

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

/* ---- weights: safetensors -------------------------------------------- */

/* Writes params as F32 tensors named by the model's tensor table, atomically
 * (temp file, fsync, rename). */
int lenet_save_safetensors(const lenet_model *m, const float *params,
                           const char *path, lenet_error *err);
/* Reads weights for this model; every tensor must be present with F32 dtype
 * and the expected shape. */
int lenet_load_safetensors(const lenet_model *m, float *params,
                           const char *path, lenet_error *err);

/* String metadata of a safetensors file ("__metadata__"): up to 40
 * key/value pairs, keys of up to 31 bytes, values of up to 1,023. */
#define LENET_META_MAX 40
typedef struct {
    int n;
    char key[LENET_META_MAX][32];
    char value[LENET_META_MAX][1024];
} lenet_meta;
/* Adds or replaces key (false if full or too long); gets NULL if absent. */
int lenet_meta_set(lenet_meta *meta, const char *key, const char *value);
const char *lenet_meta_get(const lenet_meta *meta, const char *key);

/* Provenance (provenance.c): what weights were trained on, in their
 * metadata: the data's directory, format and class names and the model's
 * input. lenet_meta_classes gives the class names it records (n of them;
 * NULL if none), lenet_warn_provenance warns on stderr where the weights
 * were trained on other data, classes or input than m and ds (ds may be
 * NULL), and returns how many warnings it gave. */
void lenet_meta_set_data(lenet_meta *meta, const lenet_model *m, const lenet_dataset *ds);
char **lenet_meta_classes(const lenet_meta *meta, int *n);
void lenet_free_names(char **names, int n);
/* "a, b, c, d, ... (n)": up to the first 4 of names, into buf (returned). */
const char *lenet_name_list(char *const *names, int n, char *buf, size_t size);
/* Whether names are just the class numbers "0", "1", ... (or NULL). */
int lenet_names_are_digits(char *const *names, int n);
int lenet_warn_provenance(const char *weights, const lenet_meta *meta, const lenet_model *m,
                          const lenet_dataset *ds);
/* The same, with metadata written after "format" and "producer", and read
 * back (meta may be NULL). */
int lenet_save_safetensors_meta(const lenet_model *m, const float *params,
                                const lenet_meta *meta, const char *path, lenet_error *err);
/* The same, checking but not loading tensors whose names start with one of
 * the prefixes in skip (NULL-terminated); *n_skipped counts them. */
int lenet_load_safetensors_skip(const lenet_model *m, float *params, lenet_meta *meta,
                                const char *path, const char *const *skip, int *n_skipped,
                                lenet_error *err);
int lenet_load_safetensors_meta(const lenet_model *m, float *params, lenet_meta *meta,
                                const char *path, lenet_error *err);

/* ---- training --------------------------------------------------------- */

/* Monotonic wall-clock seconds, for the time= and jit: figures. */
double lenet_seconds(void);

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

/* ---- training --------------------------------------------------------- */

/* One worker's scratch: the activations of the tile it is working on, and
 * what it scored in an evaluation. */
typedef struct {
    float *acts, *dacts; /* act_floats each */
    double loss;
    int correct;
} lenet_worker;

/* A step's gradient is summed in a fixed order, whatever the thread count:
 * the batch's tiles in contiguous runs of two ("slots"; at most this
 * many), each run's tiles added in order into the slot's own buffer, then
 * the slots added in order. A worker takes whole slots. */
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

/* ---- evaluation report (eval.c) --------------------------------------- */

/* `lenetc eval SPEC --weights W [--data DIR] [--threads N]`: accuracy on the
 * t10k test set, per class, and the confusion matrix. prog names the
 * command in messages. Returns an exit code. */
int lenet_eval_main(const lenet_model *m, int argc, char **argv, const char *prog);

/* Class names: "digits" (MNIST: NULL, the class number is its name) or
 * "fashion" (Fashion-MNIST's ten). lenet_class_names_for_data guesses from a
 * data directory's path (NULL unless it looks like Fashion-MNIST). */
const char *const *lenet_class_names(const char *set);
const char *const *lenet_class_names_for_data(const char *dir);

/* `lenetc predict SPEC --weights W IMAGE...` (image.c): classifies PNG, JPEG
 * or PGM files, printing each one's class and top probabilities (or, with
 * --json, one JSON object per image). */
int lenet_predict_main(const lenet_model *m, int argc, char **argv, const char *prog);

/* predict's reading: a PGM (P2, P5), PNG or JPEG file as 8-bit gray or RGB,
 * alpha composited as lenet_flatten_alpha does. */
int lenet_read_image(const char *path, lenet_image *img, lenet_error *err);

/* How predict and the export's NAME_prepare make an image into the input
 * (image.c says each): as the data loader makes an image folder's, or as
 * MNIST's digits were made. */
enum { LENET_PREPARE_MNIST, LENET_PREPARE_AS_LOADED };
/* The preparation for weights of this provenance (meta may be NULL): as
 * their training data was loaded: for a 1-channel model mnist (IDX, or
 * weights that do not say), as-loaded for image folders and CIFAR; always
 * as-loaded for a colour model. */
int lenet_prepare_for(const lenet_meta *meta, int channels);

/* predict's preparation of decoded pixels (width x height, channels 1 gray,
 * 2 gray + alpha, 3 RGB, 4 RGBA; alpha as lenet_flatten_alpha) for a
 * model's H x W x C input (C 1 or 3) in out, as `prepare` says (mnist only
 * for C 1). Returns, for mnist, 1 if it inverted, 0 if not, -1 if the image
 * has no ink (out all 0); for as-loaded 0; -2 for bad arguments or no
 * memory. The export's NAME_prepare computes the same bytes. */
int lenet_prepare_image(const uint8_t *pixels, int width, int height, int channels, int H, int W,
                        int C, int prepare, uint8_t *out);

typedef struct {
    const char *data_dir;        /* --data */
    const char *train_images, *train_labels, *test_images, *test_labels; /* IDX files */
    const char *save_path;
    const char *init_path;
    lenet_hparams h;
    const char *checkpoint_path; /* written every checkpoint_every steps and */
    long checkpoint_every;       /* at each epoch's end; 0 = epoch ends only */
    const char *resume_path;     /* a checkpoint to continue from */
    const char *log_path;        /* CSV of every step and epoch */
    long limit;   /* use only the first N training images; 0 = all */
    double val;   /* training samples held out for validation: a count (>= 1)
                   * or a fraction (< 1); 0 = none */
    const char *save_best_path; /* the weights of the best validation epoch */
    int test_every_epoch; /* with a validation set: score the test set
                           * after every epoch, not only the last */
    int threads;  /* workers; 0 = all cores */
    int shuffle;
    int quiet;
    const char *plot_path; /* --plot: loss and accuracy per epoch as a PNG */
} lenet_train_options;

/* ---- progress (meter.c) ---------------------------------------------- */

typedef struct {
    int tty;          /* draw the live bar (stdout is a terminal, not --quiet) */
    int drawn;        /* a bar is on the line now */
    FILE *log;        /* --log CSV */
    double start, last_draw;
} lenet_meter;

/* A meter for a run: the live bar unless quiet (or stdout is no terminal),
 * and the CSV at log_path (NULL: none). */
int lenet_meter_open(lenet_meter *mt, int quiet, const char *log_path, lenet_error *err);
/* After each step: done of total images of this epoch so far. */
void lenet_meter_step(lenet_meter *mt, int epoch, int epochs, long step, int done, int total,
                      double batch_loss, int batch_n, int batch_correct, double epoch_loss,
                      double epoch_secs);
/* What an epoch scored: NAN where a set was not scored. */
typedef struct {
    double loss, train_acc, val_loss, val_acc, test_loss, test_acc;
} lenet_scores;

/* Before the epoch's line is printed. */
void lenet_meter_epoch(lenet_meter *mt, int epoch, long step, int images, const lenet_scores *s);
int lenet_meter_close(lenet_meter *mt, lenet_error *err, const char *log_path);

/* ---- plots (plot.c): PNGs drawn by gnuplot ---------------------------- */

/* The scores of a run's epochs, in order (this run's only: a resumed run
 * starts with the epoch it resumes). */
typedef struct {
    int epoch;
    lenet_scores s;
} lenet_epoch_scores;
typedef struct {
    lenet_epoch_scores *e;
    int n, cap;
} lenet_history;
/* -1 if out of memory. */
int lenet_history_add(lenet_history *h, int epoch, const lenet_scores *s);
void lenet_history_free(lenet_history *h);

/* What --plot takes: a file name ending in one of these (any case). */
extern const char *const lenet_plot_suffixes[];

/* Each draws a PNG at path through gnuplot's pngcairo terminal, or an SVG
 * (its svg terminal) for a path ending in .svg (gnuplot is
 * $LENETC_GNUPLOT, else gnuplot on PATH; run without a shell, stdin
 * /dev/null, killed after $LENETC_PLOT_TIMEOUT seconds, default 60) and
 * replaces path with it atomically. Returns 0 when drawn; 1 when not
 * (gnuplot missing or failing): the gnuplot script and its data are then
 * written beside path (path less a .png or .svg suffix, plus .gp and .dat)
 * and err says so in one line; -1 if a file could not be written (err). */
/* Loss (train, validation, test) above accuracy, per epoch of h: the sets
 * not scored in an epoch are left out (NAN in its scores). */
int lenet_plot_history(const char *path, const char *title, const lenet_history *h,
                       lenet_error *err);
/* The same, titled with the model's name and the run's recipe. */
int lenet_plot_training(const char *path, const lenet_model *m, const lenet_train_options *o,
                        const lenet_history *h, lenet_error *err);
/* A k x k confusion matrix (conf[true * k + predicted]) as a heat map:
 * rows the true class, columns the predicted one, coloured by the fraction
 * of the true class, labelled with counts; the axes name the classes
 * (names[0..n_names); NULL, or past n_names: their numbers). In a PNG, a
 * name no installed font can draw (fc-list says) is its number, with a
 * warning on stderr. */
int lenet_plot_confusion(const char *path, const char *title, int k, const long *conf,
                         const char *const *names, int n_names, lenet_error *err);
/* 0 if a plot can be written at path (its directory exists and is
 * writable, path is no directory): checked before a run, not after it. */
int lenet_plot_check(const char *path, lenet_error *err);

/* ---- checkpoints (checkpoint.c) --------------------------------------- */

/* Where a run stands between two steps: enough, with the trainer's params,
 * Adam moments and step count, to continue as if it had never stopped. */
typedef struct {
    int epoch;       /* the epoch to continue, from 1 */
    int next;        /* its first sample still to train on (0: not started) */
    double loss_sum; /* that epoch's sums so far, for its line */
    int correct;
    lenet_rng rng;   /* the shuffle RNG after that epoch's shuffle */
    /* the best validation epoch so far (--save-best): 0 = none yet */
    int best_epoch;
    double best_val_acc, best_val_loss;
} lenet_progress;

/* A safetensors file: the weights under their own names, the Adam moments
 * as adam.m.NAME and adam.v.NAME, and in its metadata the step, progress,
 * RNG state and the options that must not change on resume. Written
 * atomically (temp file, fsync, rename). */
int lenet_save_checkpoint(const lenet_trainer *t, const lenet_train_options *o,
                          const lenet_progress *p, const char *path, lenet_error *err);
/* Weights for eval, predict, --init and the export: a weights file, or a
 * checkpoint, whose weights it takes (its optimiser state left, as a note
 * on stderr says); meta (may be NULL) gets the file's metadata. */
int lenet_load_weights(const lenet_model *m, float *params, lenet_meta *meta, const char *path,
                       lenet_error *err);
/* Loads into an initialised trainer; refuses a checkpoint of another model
 * or one written with other seed, batch, threads, optimiser, lr, limit or
 * shuffling (naming the difference). */
int lenet_load_checkpoint(lenet_trainer *t, const lenet_train_options *o, lenet_progress *p,
                          const char *path, lenet_error *err);

/* Parses trainer options over the model's defaults. Returns 0 to go on,
 * 1 if --help was printed, -1 on a usage error (message printed). */
int lenet_parse_train_args(const lenet_model *m, int argc, char **argv,
                           lenet_train_options *o, const char *prog);
void lenet_train_usage(const char *prog, const lenet_model *m, void *stream);

/* Trains and evaluates, printing one line per epoch. Returns an exit code. */
int lenet_train(const lenet_model *m, const lenet_train_options *o);

/* Accuracy of params on ds (forward only, on the calling thread). */
double lenet_evaluate(const lenet_model *m, const float *params,
                      const lenet_dataset *ds, float *acts);

/* main() of an emitted trainer. */
int lenet_train_main(int argc, char **argv, const lenet_model *m);

/* ---- writing files atomically (write_atomic.c) ----------------------- */

/* Writes a file's contents to f: 0, or -1 with errno saying why. */
typedef int (*lenet_write_fn)(FILE *f, void *ctx);

/* Replaces path with what fill writes, so that readers see the old file or
 * the whole new one: a temp file beside path (PATH.tmp.XXXXXX, with the mode
 * fopen would give), flushed, fsynced and renamed over path, then path's
 * directory fsynced. -1 on failure, the temp file removed, with errno
 * saying why and err "PATH: cannot create temporary file: why" (or "write
 * failed", "cannot replace file"). */
int lenet_write_atomic(const char *path, lenet_write_fn fill, void *ctx, lenet_error *err);

/* ---- command lines (options.c) --------------------------------------- */

/* A word an option of kind LENET_OPT_CHOICE takes, and what it stores. */
typedef struct {
    const char *name;
    int value;
} lenet_choice;

/* lenetc's version: `lenetc --version`, the trainers' --version, lenet.pc */
#define LENET_VERSION "0.5"

typedef enum {
    LENET_OPT_HELP,   /* --help (or -h): the walk stops there */
    LENET_OPT_VERSION, /* --version: the same */
    LENET_OPT_FLAG,   /* no value: *(int *)dest = 1 */
    LENET_OPT_INT,    /* a whole number from lo to hi: *(int *)dest */
    LENET_OPT_LONG,   /* the same into *(long *)dest */
    LENET_OPT_REAL,   /* a finite number over lo (or from it: lo_included), at most hi:
                       * *(double *)dest */
    LENET_OPT_STRING, /* any word: *(const char **)dest */
    LENET_OPT_CHOICE, /* one of choices (ending with {NULL, 0}): *(int *)dest */
} lenet_option_kind;

/* One option of a command; a table of them ends with {0}. */
typedef struct {
    const char *name; /* "--threads" */
    lenet_option_kind kind;
    void *dest;
    double lo, hi;                /* INT, LONG, REAL */
    int lo_included;              /* REAL: lo itself is accepted too */
    const lenet_choice *choices;  /* CHOICE */
    const char *takes;            /* "--x takes TAKES, not 'v'"; NULL: said from the
                                   * bounds or the choices */
    const char *needs;            /* "--x needs NEEDS"; NULL: "a value" */
    const char *const *suffixes;  /* STRING: it ends in one of these (any case;
                                   * NULL-ended), or NULL: any word */
} lenet_option;

/* An argument that is not an option (or, with pass_unknown, an option not in
 * the table) is handed to operand (argv[i]): 0, or -1 after printing why. */
typedef int (*lenet_operand_fn)(void *ctx, char **argv, int i);

typedef struct {
    const char *prog;              /* begins each message: "lenetc eval SPEC.yaml" */
    const lenet_option *options;
    lenet_operand_fn operand;      /* NULL: any other argument is unknown */
    void *ctx;
    int pass_unknown;
} lenet_command;

#define LENET_ARGS_HELP 1      /* --help seen; nothing after it read */
#define LENET_ARGS_VERSION 2   /* --version seen; the same */
#define LENET_ARGS_ERROR (-1)  /* a message printed, and where help is */
#define LENET_ARGS_UNKNOWN (-2) /* "unknown option" printed, the same */

/* Reads argv[first..argc) against cmd's table, storing values as it goes:
 * 0 at the end, or one of the above. A mistake gets one line saying what
 * is wrong and lenet_try_help's, not the whole usage. */
int lenet_read_args(const lenet_command *cmd, int argc, char **argv, int first);
/* "try 'lenetc train --help'" on stderr, for prog ("lenetc train SPEC.yaml",
 * "./lenet5-train"): after any error in a command line. */
void lenet_try_help(const char *prog);

/* What --classes takes (eval.c): digits (value 0) and fashion (1), the sets
 * lenet_class_names knows. */
extern const lenet_choice lenet_class_sets[];
/* predict's and the export's --prepare: mnist, as-loaded (image.c) */
extern const lenet_choice lenet_prepare_choices[];

#endif
