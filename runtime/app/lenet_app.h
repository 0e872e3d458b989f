/* lenet_app.h: the runtime's commands: the training loop and an emitted
 * trainer's main, `lenetc eval` and `lenetc predict`, and what they share:
 * the command-line reader, the progress meter, plots and the clock.
 */
#ifndef LENET_APP_H
#define LENET_APP_H

#include <stdint.h>
#include <stdio.h>

#include "lenet_core.h"
#include "lenet_data.h"
#include "lenet_io.h"
#include "lenet_model.h"

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

/* ---- clock (clock.c) ------------------------------------------------- */

/* Monotonic wall-clock seconds, for the time= and jit: figures. */
double lenet_seconds(void);

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

/* ---- predict (image.c) ----------------------------------------------- */

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

/* ---- training options (train.c) ------------------------------------- */

/* What a training run is told (the trainer's command line). */
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
/* The same, titled with the model's name and the run's recipe (h); a
 * resumed run's title says which epochs it drew. */
int lenet_plot_training(const char *path, const lenet_model *m, const lenet_hparams *h,
                        int resumed, const lenet_history *hist, lenet_error *err);
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

/* ---- training (train.c) ---------------------------------------------- */

/* Parses trainer options over the model's defaults. Returns 0 to go on,
 * 1 if --help was printed, -1 on a usage error (message printed). */
int lenet_parse_train_args(const lenet_model *m, int argc, char **argv,
                           lenet_train_options *o, const char *prog);
/* The same in one pass over argv[first..argc) with a command's own options
 * too (more, ending with {0}; NULL: none) and their help (more_help, after
 * the trainer's; NULL: none): `lenetc train` adds its code options. */
int lenet_read_train_args(const lenet_model *m, int argc, char **argv, int first,
                          const lenet_option *more, const char *more_help,
                          lenet_train_options *o, const char *prog);
void lenet_train_usage(const char *prog, const lenet_model *m, void *stream);

/* What a checkpoint of a run with these options records and checks. */
lenet_checkpoint_info lenet_train_checkpoint_info(const lenet_train_options *o);

/* Trains and evaluates, printing one line per epoch. Returns an exit code. */
int lenet_train(const lenet_model *m, const lenet_train_options *o);

/* main() of an emitted trainer. */
int lenet_train_main(int argc, char **argv, const lenet_model *m);

#endif
