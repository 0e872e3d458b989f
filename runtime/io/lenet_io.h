/* lenet_io.h: files: weights (safetensors), their metadata and
 * provenance, checkpoints, files written atomically, inputs opened safely.
 */
#ifndef LENET_IO_H
#define LENET_IO_H

#include <stddef.h>
#include <stdio.h>

#include "lenet_core.h"
#include "lenet_model.h"

/* ---- opening inputs (open.c) ----------------------------------------- */

/* Opens path for reading if it is a regular file (never blocking on a FIFO):
 * a descriptor, or -1 with "PATH: why" in err. */
int lenet_open_regular(const char *path, lenet_error *err);

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

/* ---- checkpoints (checkpoint.c) --------------------------------------- */

/* What a checkpoint records of its run besides the trainer's state: the
 * settings a resumed run must share with the run that wrote it. */
typedef struct {
    lenet_hparams h; /* seed, batch, optimiser and its settings, schedule,
                      * augmentation (the epochs only for a cosine schedule) */
    long limit;      /* training images used; 0 = all */
    double val;      /* held out for validation; 0 = none */
    int shuffle;
} lenet_checkpoint_info;

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
int lenet_save_checkpoint(const lenet_trainer *t, const lenet_checkpoint_info *info,
                          const lenet_progress *p, const char *path, lenet_error *err);
/* Weights for eval, predict, --init and the export: a weights file, or a
 * checkpoint, whose weights it takes (its optimiser state left, as a note
 * on stderr says); meta (may be NULL) gets the file's metadata. */
int lenet_load_weights(const lenet_model *m, float *params, lenet_meta *meta, const char *path,
                       lenet_error *err);
/* Loads into an initialised trainer; refuses a checkpoint of another model
 * or one written with other settings than info's (naming the difference). */
int lenet_load_checkpoint(lenet_trainer *t, const lenet_checkpoint_info *info,
                          lenet_progress *p, const char *path, lenet_error *err);

#endif
