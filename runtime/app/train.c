/* train.c: the training loop and the trainer's command line (the trainer
 * itself, its steps and evaluation, is trainer.c). One implementation,
 * called by emitted trainers and by `lenetc train`. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lenet_app.h"
#include "lenet_core.h"
#include "lenet_data.h"
#include "lenet_io.h"
#include "lenet_model.h"
#include "lenet_target.h"

/* ---- options ----------------------------------------------------------- */

void lenet_train_usage(const char *prog, const lenet_model *m, void *stream) {
    const lenet_hparams *h = &m->defaults;
    fprintf(stream,
            "usage: %s [options]\n"
            "Trains %s and reports its accuracy on the test set.\n"
            "\n"
            "  --data PATH      the data: IDX files, CIFAR batches or image folders\n"
            "                   (train/<class>/, test/<class>/), found from what is there\n"
            "                   (default: $LENETC_DATA, else MNIST in ./data/mnist,\n"
            "                   ../shared/mnist, then the same next to the executable)\n"
            "  --train-images F, --train-labels F, --test-images F, --test-labels F\n"
            "                   IDX files by name, instead of --data\n"
            "  --epochs N       passes over the training set (spec: %d)\n"
            "  --batch B        samples per update (spec: %d)\n"
            "  --lr X           learning rate (spec: %g)\n"
            "  --optimizer O    adam, adamw or sgd (spec: %s)\n"
            "  --momentum M     sgd's momentum, PyTorch's (spec: %g)\n"
            "  --weight-decay W sgd: added to the gradient as W w (PyTorch); adamw:\n"
            "                   w -= lr W w before each step (Keras) (spec: %g)\n"
            "  --label-smoothing E  train towards 1 - E + E/K for the label and E/K for\n"
            "                   the other classes (spec: %g; scores stay one-hot)\n"
            "  --augment none   train on the images as they are (default: spec, which\n"
            "                   %s)\n"
            "  --schedule S     the rate over the run: constant, cosine, step or onecycle\n"
            "                   (spec: %s; the spec's settings for it, else cosine\n"
            "                   without warmup, step halving every 5 epochs, onecycle\n"
            "                   as PyTorch's OneCycleLR with lr its max_lr)\n"
            "  --seed S         seed for initialisation and shuffling (spec: %llu)\n"
            "  --limit N        train on the first N training images only\n"
            "  --val N          hold out N training images (or a fraction: --val 0.1),\n"
            "                   chosen by a shuffle seeded by --seed, to validate on:\n"
            "                   val_loss and val_acc each epoch, the test set at the end\n"
            "  --test-every-epoch  with --val, score the test set every epoch too\n"
            "  --save-best FILE with --val, keep the weights of the epoch with the best\n"
            "                   val_acc (then the lowest val_loss) in FILE\n"
            "  --threads N      worker threads (default: all %d cores); any number gives\n"
            "                   the same result, bit for bit\n"
            "  --no-shuffle     keep the training images in file order\n"
            "  --init FILE      start from weights in a safetensors file\n"
            "  --save FILE      write the trained weights as safetensors\n"
            "  --checkpoint F   keep the whole run's state in F (weights, Adam moments,\n"
            "                   step, position, RNG): written atomically every N steps\n"
            "                   and at each epoch's end\n"
            "  --checkpoint-every N  steps between checkpoints (default 100; 0: epoch\n"
            "                   ends only)\n"
            "  --resume F       continue the run checkpoint F was written by, exactly:\n"
            "                   the same options give the same weights, bit for bit\n"
            "  --log FILE.csv   write a row per step and per epoch (loss, accuracies, time)\n"
            "  --plot FILE.png  draw this run's loss and accuracy per epoch (train,\n"
            "                   validation, test) with gnuplot; without it, write the\n"
            "                   gnuplot script and data beside FILE to draw later\n"
            "  --quiet          print only the final line (and no progress bar; the bar\n"
            "                   shows only on a terminal)\n"
            "  --help           this text; --version: lenetc's version\n"
            "\n"
            "Each epoch prints: epoch N/M loss=... train_acc=... test_acc=... time=...s eval=...s\n"
            "lr=... (time: the training steps; eval: the scoring; lr: the rate of its last\n"
            "step); with --val, val_loss=... val_acc=... in place of test_acc=..., which\n"
            "only the last epoch's line has\n",
            prog, m->name, h->epochs, h->batch, (double)h->lr,
            lenet_optimizer_name(h->optimizer), (double)h->momentum, (double)h->weight_decay,
            (double)h->label_smoothing,
            lenet_augments(h) ? "moves the training images at random" : "has none",
            lenet_schedule_name(h->schedule), (unsigned long long)h->seed,
            lenet_default_threads());
}

/* the trainer's options and a command's own, in one table */
#define MAX_TRAIN_OPTIONS 64

int lenet_read_train_args(const lenet_model *m, int argc, char **argv, int first,
                          const lenet_option *more, const char *more_help,
                          lenet_train_options *o, const char *prog) {
    memset(o, 0, sizeof *o);
    o->h = m->defaults;
    o->checkpoint_every = 100;
    int no_shuffle = 0, optimizer = o->h.optimizer;
    long seed = -1;
    double lr = 0; /* 0: not given */
    static const lenet_choice optimizers[] = {
        {"adam", LENET_ADAM}, {"sgd", LENET_SGD}, {"adamw", LENET_ADAMW}, {NULL, 0}};
    double momentum = -1, weight_decay = -1, smoothing = -1; /* -1: not given */
    int schedule = o->h.schedule, augment = 1;
    static const lenet_choice augments[] = {{"none", 0}, {"spec", 1}, {NULL, 0}};
    static const lenet_choice schedules[] = {
        {"constant", LENET_CONSTANT}, {"cosine", LENET_COSINE}, {"step", LENET_STEP},
        {"onecycle", LENET_ONECYCLE}, {NULL, 0}};
    const lenet_option options[] = {
        {.name = "--help", .kind = LENET_OPT_HELP},
        {.name = "--version", .kind = LENET_OPT_VERSION},
        {.name = "--no-shuffle", .kind = LENET_OPT_FLAG, .dest = &no_shuffle},
        {.name = "--quiet", .kind = LENET_OPT_FLAG, .dest = &o->quiet},
        {.name = "--data", .kind = LENET_OPT_STRING, .dest = &o->data_dir},
        {.name = "--train-images", .kind = LENET_OPT_STRING, .dest = &o->train_images},
        {.name = "--train-labels", .kind = LENET_OPT_STRING, .dest = &o->train_labels},
        {.name = "--test-images", .kind = LENET_OPT_STRING, .dest = &o->test_images},
        {.name = "--test-labels", .kind = LENET_OPT_STRING, .dest = &o->test_labels},
        {.name = "--epochs", .kind = LENET_OPT_INT, .dest = &o->h.epochs, .lo = 1, .hi = 100000},
        {.name = "--batch", .kind = LENET_OPT_INT, .dest = &o->h.batch, .lo = 1, .hi = 65536},
        {.name = "--lr", .kind = LENET_OPT_REAL, .dest = &lr, .lo = 0, .hi = 1e3},
        {.name = "--seed", .kind = LENET_OPT_LONG, .dest = &seed, .lo = 0, .hi = 2147483647},
        {.name = "--limit", .kind = LENET_OPT_LONG, .dest = &o->limit, .lo = 1, .hi = 1e8},
        {.name = "--save", .kind = LENET_OPT_STRING, .dest = &o->save_path},
        {.name = "--init", .kind = LENET_OPT_STRING, .dest = &o->init_path},
        {.name = "--optimizer", .kind = LENET_OPT_CHOICE, .dest = &optimizer,
         .choices = optimizers},
        {.name = "--momentum", .kind = LENET_OPT_REAL, .dest = &momentum, .lo = 0,
         .lo_included = 1, .hi = 0.999999},
        {.name = "--weight-decay", .kind = LENET_OPT_REAL, .dest = &weight_decay, .lo = 0,
         .lo_included = 1, .hi = 1},
        {.name = "--schedule", .kind = LENET_OPT_CHOICE, .dest = &schedule,
         .choices = schedules},
        {.name = "--augment", .kind = LENET_OPT_CHOICE, .dest = &augment, .choices = augments},
        {.name = "--label-smoothing", .kind = LENET_OPT_REAL, .dest = &smoothing, .lo = 0,
         .lo_included = 1, .hi = 0.999999},
        {.name = "--threads", .kind = LENET_OPT_INT, .dest = &o->threads, .lo = 1,
         .hi = LENET_MAX_THREADS},
        {.name = "--checkpoint", .kind = LENET_OPT_STRING, .dest = &o->checkpoint_path},
        {.name = "--checkpoint-every", .kind = LENET_OPT_LONG, .dest = &o->checkpoint_every,
         .lo = 0, .hi = 1e9},
        {.name = "--resume", .kind = LENET_OPT_STRING, .dest = &o->resume_path},
        {.name = "--log", .kind = LENET_OPT_STRING, .dest = &o->log_path},
        {.name = "--val", .kind = LENET_OPT_REAL, .dest = &o->val, .lo = 0, .hi = 1e8},
        {.name = "--test-every-epoch", .kind = LENET_OPT_FLAG, .dest = &o->test_every_epoch},
        {.name = "--save-best", .kind = LENET_OPT_STRING, .dest = &o->save_best_path},
        {.name = "--plot", .kind = LENET_OPT_STRING, .dest = &o->plot_path,
         .needs = "a file (FILE.png or FILE.svg)", .suffixes = lenet_plot_suffixes},
        {0}};
    /* the command's options after the trainer's: argv is read once */
    lenet_option all[MAX_TRAIN_OPTIONS];
    int n = 0;
    for (const lenet_option *t = options; t->name; t++)
        all[n++] = *t;
    for (const lenet_option *t = more; t && t->name; t++) {
        if (n == MAX_TRAIN_OPTIONS - 1) {
            fprintf(stderr, "%s: internal error: more than %d options\n", prog,
                    MAX_TRAIN_OPTIONS - 1);
            return -1;
        }
        all[n++] = *t;
    }
    all[n] = (lenet_option){0};
    const lenet_command cmd = {.prog = prog, .options = all};
    const int parsed = lenet_read_args(&cmd, argc, argv, first);
    if (parsed == LENET_ARGS_HELP) {
        lenet_train_usage(prog, m, stdout);
        if (more_help)
            fputs(more_help, stdout);
    }
    if (parsed == LENET_ARGS_VERSION)
        printf("%s: lenetc %s runtime; %s, %s code for %s\n", prog, LENET_VERSION, m->name,
               m->style ? m->style : "?", m->target ? m->target : "?");
    if (parsed)
        return parsed > 0 ? 1 : -1;
    o->shuffle = !no_shuffle;
    if (seed >= 0)
        o->h.seed = (uint64_t)seed;
    o->h.optimizer = (lenet_optimizer_kind)optimizer;
    if (lr > 0)
        o->h.lr = (float)lr;
    /* switching optimiser without --lr takes Keras' default rate for it */
    else if (o->h.optimizer != m->defaults.optimizer)
        o->h.lr = o->h.optimizer == LENET_SGD ? 0.01f : 0.001f;
    /* and its own settings: none but AdamW's decay (Keras' 0.004) */
    if (o->h.optimizer != m->defaults.optimizer) {
        o->h.momentum = 0;
        o->h.nesterov = 0;
        o->h.weight_decay = o->h.optimizer == LENET_ADAMW ? 0.004f : 0;
    }
    /* another schedule than the spec's: its defaults */
    if (schedule != (int)o->h.schedule)
        lenet_schedule_defaults(&o->h, (lenet_schedule_kind)schedule);
    if (!augment)
        o->h.aug_shift = o->h.aug_rotate = o->h.aug_scale = 0;
    if (momentum >= 0)
        o->h.momentum = (float)momentum;
    if (weight_decay >= 0)
        o->h.weight_decay = (float)weight_decay;
    if (smoothing >= 0)
        o->h.label_smoothing = (float)smoothing;
    if (o->h.momentum > 0 && o->h.optimizer != LENET_SGD) {
        fprintf(stderr, "%s: --momentum is sgd's; this run's optimizer is %s\n", prog,
                lenet_optimizer_name(o->h.optimizer));
        lenet_try_help(prog);
        return -1;
    }
    if (momentum > 0 && o->h.schedule == LENET_ONECYCLE && o->h.cycle_momentum) {
        fprintf(stderr, "%s: --momentum: this run's onecycle schedule sets the momentum at "
                "every step (from %g to %g and back)\n", prog, (double)o->h.max_momentum,
                (double)o->h.base_momentum);
        lenet_try_help(prog);
        return -1;
    }
    if (o->h.weight_decay > 0 && o->h.optimizer == LENET_ADAM) {
        fprintf(stderr, "%s: --weight-decay needs sgd or adamw (adam has none)\n", prog);
        lenet_try_help(prog);
        return -1;
    }
    if (o->val >= 1 && o->val != floor(o->val)) {
        fprintf(stderr, "%s: --val takes a count of images or a fraction below 1, not %g\n",
                prog, o->val);
        lenet_try_help(prog);
        return -1;
    }
    if ((o->save_best_path || o->test_every_epoch) && o->val == 0) {
        fprintf(stderr, "%s: %s needs a validation set (--val)\n", prog,
                o->save_best_path ? "--save-best" : "--test-every-epoch");
        lenet_try_help(prog);
        return -1;
    }
    return 0;
}

int lenet_parse_train_args(const lenet_model *m, int argc, char **argv, lenet_train_options *o,
                           const char *prog) {
    return lenet_read_train_args(m, argc, argv, 1, NULL, NULL, o, prog);
}

/* Fisher-Yates over the first n entries. */
static void shuffle(int *order, int n, lenet_rng *r) {
    for (int i = n - 1; i > 0; i--) {
        int j = (int)lenet_rng_below(r, (uint32_t)i + 1);
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

/* Holds out n of ds's samples, picked by a shuffle seeded by seed (the
 * same every run with the same seed), as val (in ds's order); ds keeps the
 * rest, in their order. */
static int hold_out(lenet_dataset *ds, int n, uint64_t seed, lenet_dataset *val,
                    lenet_error *err) {
    const size_t size = (size_t)ds->rows * ds->cols * ds->channels;
    int *order = malloc(sizeof *order * (size_t)ds->count);
    char *held = calloc((size_t)ds->count, 1);
    *val = *ds;
    val->count = n;
    val->images = malloc(size * (size_t)n);
    val->labels = malloc((size_t)n);
    val->class_names = ds->class_names ? calloc((size_t)ds->n_classes, sizeof(char *)) : NULL;
    val->path = ds->path ? strdup(ds->path) : NULL;
    int ok = order && held && val->images && val->labels && (!ds->class_names || val->class_names) &&
             (!ds->path || val->path);
    for (int c = 0; ok && val->class_names && c < ds->n_classes; c++)
        ok = (val->class_names[c] = strdup(ds->class_names[c])) != NULL;
    if (!ok) {
        free(order);
        free(held);
        lenet_free_dataset(val);
        lenet_set_error(err, "out of memory for --val");
        return -1;
    }
    lenet_rng r;
    lenet_rng_seed(&r, seed ^ 0x56414c4944ull); /* "VALID" */
    for (int i = 0; i < ds->count; i++)
        order[i] = i;
    shuffle(order, ds->count, &r);
    for (int i = 0; i < n; i++) /* the first n of the shuffle */
        held[order[i]] = 1;
    int v = 0, k = 0;
    for (int i = 0; i < ds->count; i++) {
        lenet_dataset *to = held[i] ? val : ds;
        int *at = held[i] ? &v : &k;
        memmove(to->images + size * (size_t)*at, ds->images + size * (size_t)i, size);
        to->labels[*at] = ds->labels[i];
        (*at)++;
    }
    ds->count = k;
    free(order);
    free(held);
    return 0;
}

/* The data the options name, checked against m (the loader checks every
 * image and label), and the validation set held out of the training set
 * (--val; else val stays empty); the data line unless quiet. */
static int load_data(const lenet_model *m, const lenet_train_options *o, lenet_dataset *train,
                     lenet_dataset *val, lenet_dataset *test) {
    lenet_error err = {{0}};
    lenet_data_request rq = lenet_data_request_for(m);
    rq.path = o->data_dir;
    rq.train_images = o->train_images;
    rq.train_labels = o->train_labels;
    rq.test_images = o->test_images;
    rq.test_labels = o->test_labels;
    rq.threads = o->threads;
    rq.test_optional = o->val > 0; /* --val alone tells how training went */
    if (lenet_load_data(&rq, train, test, &err)) {
        fprintf(stderr, "error: %s\n", err.msg);
        return -1;
    }
    if (o->limit > train->count) {
        fprintf(stderr, "error: --limit %ld: the training set has only %d images\n", o->limit,
                train->count);
        return -1;
    }
    if (o->val > 0) {
        const long n = o->val < 1 ? lround(o->val * train->count) : (long)o->val;
        if (n < 1 || n >= train->count) {
            fprintf(stderr, "error: --val %g: %ld of the training set's %d images would leave %s\n",
                    o->val, n, train->count, n < 1 ? "none to validate on" : "none to train on");
            return -1;
        }
        if (hold_out(train, (int)n, o->h.seed, val, &err)) {
            fprintf(stderr, "error: %s\n", err.msg);
            return -1;
        }
        if (o->limit > train->count) {
            fprintf(stderr, "error: --limit %ld: after --val %g the training set has %d images\n",
                    o->limit, o->val, train->count);
            return -1;
        }
    }
    if (!o->quiet) {
        char line[1024];
        lenet_describe_data(train, test, line, sizeof line);
        printf("data: %s\n", line);
        if (val->count)
            printf("validation: %d of the training images, held out by seed %llu\n", val->count,
                   (unsigned long long)o->h.seed);
    }
    return 0;
}

lenet_checkpoint_info lenet_train_checkpoint_info(const lenet_train_options *o) {
    return (lenet_checkpoint_info){.h = o->h, .limit = o->limit, .val = o->val,
                                   .shuffle = o->shuffle};
}

/* The weights, and what they were trained on in their metadata. */
static int save_weights(const lenet_model *m, const float *params, const lenet_dataset *train,
                        const char *path, lenet_error *err) {
    lenet_meta meta = {0};
    lenet_meta_set_data(&meta, m, train);
    return lenet_save_safetensors_meta(m, params, &meta, path, err);
}

/* Everything one training run owns, from run_open to run_free. */
typedef struct {
    const lenet_model *m;
    const lenet_train_options *o;
    lenet_checkpoint_info ck; /* what its checkpoints record of o */
    lenet_error err;
    lenet_dataset train, val, test;
    lenet_trainer tr;
    lenet_meter meter;
    lenet_history hist;     /* the epochs' scores, for --plot */
    int *order;             /* the training set's order, shuffled each epoch */
    lenet_rng shuffle_rng;
    lenet_progress at;      /* where the run is: epoch, sample, sums, best */
    int N, B;               /* images per epoch (--limit), batch */
    long steps_per_epoch;
} lenet_run;

/* Data, trainer (initialised, or from --init or a checkpoint), shuffle
 * r->order and the meter, and the run's first line: 0, or 1 said. */
static int run_open(lenet_run *r) {
    const lenet_model *m = r->m;
    const lenet_train_options *o = r->o;
    if (lenet_check_target(m, &r->err)) {
        fprintf(stderr, "error: %s\n", r->err.msg);
        return 1;
    }
    if (load_data(m, o, &r->train, &r->val, &r->test))
        return 1;
    const int B = r->B = o->h.batch;
    const int N = r->N = o->limit && o->limit < r->train.count ? (int)o->limit : r->train.count;
    if (B < m->tile && B != m->defaults.batch) /* the spec's own: lenetc warned */
        fprintf(stderr, "warning: --batch %d is smaller than a tile of %d samples: %d lanes of "
                "each tile compute nothing\n", B, m->tile, m->tile - B);
    r->steps_per_epoch = (N + B - 1) / B;
    r->order = malloc(sizeof *r->order * (size_t)r->train.count);
    if (!r->order || lenet_trainer_init(&r->tr, m, &o->h, o->threads)) {
        fprintf(stderr, "error: out of memory\n");
        return 1;
    }
    r->tr.data = &r->train;
    if (r->train.n_classes > 0 && r->train.n_classes < m->n_classes)
        r->tr.classes = r->train.n_classes; /* the answers are among the data's classes */
    if (o->init_path && lenet_load_weights(m, r->tr.params, NULL, o->init_path, &r->err)) {
        fprintf(stderr, "error: %s\n", r->err.msg);
        return 1;
    }
    for (int i = 0; i < r->train.count; i++)
        r->order[i] = i;
    lenet_rng_seed(&r->shuffle_rng, o->h.seed ^ 0x53485546464c45ull); /* "SHUFFLE" */
    r->at = (lenet_progress){.epoch = 1};
    /* a plot that could not be written fails now, not after the run */
    if (lenet_meter_open(&r->meter, o->quiet, o->log_path, &r->err) ||
        (o->plot_path && lenet_plot_check(o->plot_path, &r->err))) {
        fprintf(stderr, "error: %s\n", r->err.msg);
        return 1;
    }
    if (o->resume_path) {
        if (lenet_load_checkpoint(&r->tr, &r->ck, &r->at, o->resume_path, &r->err)) {
            fprintf(stderr, "error: %s\n", r->err.msg);
            return 1;
        }
        /* the r->order of an epoch comes from all the shuffles before it:
         * replay them, and check that they end where the file says */
        for (int e = 1; e < r->at.epoch + (r->at.next > 0); e++)
            if (o->shuffle)
                shuffle(r->order, N, &r->shuffle_rng);
        if (memcmp(&r->shuffle_rng, &r->at.rng, sizeof r->at.rng) != 0 || r->at.next > N) {
            fprintf(stderr, "error: %s: its position (epoch %d, sample %d) does not follow "
                    "from its seed and options\n", o->resume_path, r->at.epoch, r->at.next);
            return 1;
        }
    }
    if (!o->quiet) {
        char extra[512] = "";
        if (o->h.momentum > 0)
            snprintf(extra, sizeof extra, " momentum %g%s", (double)o->h.momentum,
                     o->h.nesterov ? " nesterov" : "");
        if (o->h.weight_decay > 0)
            snprintf(extra + strlen(extra), sizeof extra - strlen(extra), " weight_decay %g",
                     (double)o->h.weight_decay);
        if (o->h.schedule != LENET_CONSTANT) {
            char sched[160];
            lenet_schedule_describe(&o->h, sched, sizeof sched);
            snprintf(extra + strlen(extra), sizeof extra - strlen(extra), " %s", sched);
        }
        if (o->h.label_smoothing > 0)
            snprintf(extra + strlen(extra), sizeof extra - strlen(extra),
                     ", label_smoothing %g", (double)o->h.label_smoothing);
        if (lenet_augments(&o->h))
            snprintf(extra + strlen(extra), sizeof extra - strlen(extra),
                     ", augment shift %g rotate %g scale %g", (double)o->h.aug_shift,
                     (double)o->h.aug_rotate, (double)o->h.aug_scale);
        char tested[32] = "no test set";
        if (r->test.count)
            snprintf(tested, sizeof tested, "test on %d", r->test.count);
        printf("%s: %zu params; %s code for %s; train on %d images, %s; batch %d, %s lr "
               "%g%s, seed %llu, %d thread%s\n",
               m->name, m->n_params, m->style ? m->style : "?", m->target ? m->target : "?", N,
               tested, B, lenet_optimizer_name(o->h.optimizer), (double)o->h.lr, extra,
               (unsigned long long)o->h.seed, r->tr.threads, r->tr.threads == 1 ? "" : "s");
        if (o->resume_path)
            printf("resumed from %s: epoch %d, sample %d, step %ld\n", o->resume_path, r->at.epoch,
                   r->at.next, r->tr.step);
    }
    fflush(stdout);
    return 0;
}

/* One epoch: its steps (resuming inside it if the checkpoint was), the
 * scores, the epoch line, --save-best and the checkpoint: 0, or 1 said. */
static int run_epoch(lenet_run *r, int epoch) {
    const lenet_model *m = r->m;
    const lenet_train_options *o = r->o;
    const int N = r->N, B = r->B;
    double t0 = lenet_seconds();
    int first = 0;
    r->at.epoch = epoch;
    if (r->at.next > 0) { /* resuming inside this epoch: already shuffled */
        first = r->at.next;
    } else {
        r->at.loss_sum = 0;
        r->at.correct = 0;
        if (o->shuffle)
            shuffle(r->order, N, &r->shuffle_rng);
    }
    for (int start = first; start < N; start += B) {
        const int nb = N - start < B ? N - start : B;
        const int correct_before = r->at.correct;
        r->tr.h.lr = lenet_schedule_lr(&o->h, r->tr.step + 1, r->steps_per_epoch);
        const float momentum = lenet_schedule_momentum(&o->h, r->tr.step + 1, r->steps_per_epoch);
        if (momentum >= 0 && o->h.optimizer == LENET_SGD)
            r->tr.h.momentum = momentum;
        else if (momentum >= 0)
            r->tr.h.beta1 = momentum;
        const double loss =
            lenet_trainer_step(&r->tr, &r->train, r->order + start, nb, &r->at.correct);
        r->at.loss_sum += loss;
        if (!isfinite(r->at.loss_sum)) {
            fprintf(stderr, "error: the loss is not finite at epoch %d step %ld: stopping "
                    "with the weights of step %ld%s%s\n", epoch, r->tr.step + 1, r->tr.step,
                    o->checkpoint_path ? "; the last checkpoint is " : "",
                    o->checkpoint_path ? o->checkpoint_path : "");
            return 1;
        }
        r->at.next = start + nb;
        r->at.rng = r->shuffle_rng;
        lenet_meter_step(&r->meter, epoch, o->h.epochs, r->tr.step, r->at.next, N, loss, nb,
                         r->at.correct - correct_before, r->at.loss_sum / r->at.next,
                         lenet_seconds() - t0);
        if (o->checkpoint_path && o->checkpoint_every > 0 &&
            r->tr.step % o->checkpoint_every == 0 && r->at.next < N &&
            lenet_save_checkpoint(&r->tr, &r->ck, &r->at, o->checkpoint_path, &r->err)) {
            fprintf(stderr, "error: %s\n", r->err.msg);
            return 1;
        }
    }
    double t1 = lenet_seconds();
    lenet_scores sc = {.loss = r->at.loss_sum / N, .train_acc = (double)r->at.correct / N,
                       .val_loss = NAN, .val_acc = NAN, .test_loss = NAN, .test_acc = NAN};
    if (r->val.count)
        sc.val_acc = lenet_trainer_score(&r->tr, &r->val, &sc.val_loss);
    if (r->test.count && (!r->val.count || o->test_every_epoch || epoch == o->h.epochs))
        sc.test_acc = lenet_trainer_score(&r->tr, &r->test, &sc.test_loss);
    double t2 = lenet_seconds();
    lenet_meter_epoch(&r->meter, epoch, r->tr.step, N, &sc);
    if (o->plot_path && lenet_history_add(&r->hist, epoch, &sc)) {
        fprintf(stderr, "error: out of memory\n");
        return 1;
    }
    if (!o->quiet || epoch == o->h.epochs) {
        char scores[128] = "";
        if (r->val.count)
            snprintf(scores, sizeof scores, " val_loss=%.4f val_acc=%.4f", sc.val_loss,
                     sc.val_acc);
        if (sc.test_acc == sc.test_acc)
            snprintf(scores + strlen(scores), sizeof scores - strlen(scores),
                     " test_acc=%.4f", sc.test_acc);
        printf("epoch %d/%d loss=%.4f train_acc=%.4f%s time=%.2fs eval=%.3fs lr=%.3g\n",
               epoch, o->h.epochs, sc.loss, sc.train_acc, scores, t1 - t0, t2 - t1,
               (double)r->tr.h.lr);
    }
    const int best = !r->at.best_epoch || sc.val_acc > r->at.best_val_acc ||
                      (sc.val_acc == r->at.best_val_acc && sc.val_loss < r->at.best_val_loss);
    if (o->save_best_path && best) {
        if (save_weights(m, r->tr.params, &r->train, o->save_best_path, &r->err)) {
            fprintf(stderr, "error: %s\n", r->err.msg);
            return 1;
        }
        if (!o->quiet)
            printf("best so far: epoch %d (val_acc=%.4f val_loss=%.4f), saved %s\n", epoch,
                   sc.val_acc, sc.val_loss, o->save_best_path);
        r->at.best_epoch = epoch;
        r->at.best_val_acc = sc.val_acc;
        r->at.best_val_loss = sc.val_loss;
    }
    fflush(stdout);
    /* the next epoch, not yet shuffled */
    lenet_progress end = {.epoch = epoch + 1, .rng = r->shuffle_rng,
                          .best_epoch = r->at.best_epoch, .best_val_acc = r->at.best_val_acc,
                          .best_val_loss = r->at.best_val_loss};
    r->at.next = 0;
    if (o->checkpoint_path &&
        lenet_save_checkpoint(&r->tr, &r->ck, &end, o->checkpoint_path, &r->err)) {
        fprintf(stderr, "error: %s\n", r->err.msg);
        return 1;
    }
    return 0;
}

/* The weights (--save), the plot and the log: 0, or 1 said. */
static int run_close(lenet_run *r) {
    const lenet_model *m = r->m;
    const lenet_train_options *o = r->o;
    if (o->save_path) {
        if (save_weights(m, r->tr.params, &r->train, o->save_path, &r->err)) {
            fprintf(stderr, "error: %s\n", r->err.msg);
            return 1;
        }
        if (!o->quiet)
            printf("saved %s\n", o->save_path);
    }
    if (o->plot_path) {
        const int drawn =
            lenet_plot_training(o->plot_path, m, &o->h, o->resume_path != NULL, &r->hist, &r->err);
        if (drawn < 0) {
            fprintf(stderr, "error: %s\n", r->err.msg);
            return 1;
        }
        if (drawn > 0)
            fprintf(stderr, "warning: %s\n", r->err.msg);
        else if (!o->quiet)
            printf("plotted %s\n", o->plot_path);
    }
    if (lenet_meter_close(&r->meter, &r->err, o->log_path)) {
        fprintf(stderr, "error: %s\n", r->err.msg);
        return 1;
    }
    return 0;
}
static void run_free(lenet_run *r) {
    lenet_meter_close(&r->meter, &r->err, r->o->log_path); /* if not closed */
    lenet_free_dataset(&r->train);
    lenet_free_dataset(&r->val);
    lenet_free_dataset(&r->test);
    lenet_trainer_free(&r->tr);
    lenet_history_free(&r->hist);
    free(r->order);
}

/* A training run in the shape of llm.c's: open, the epochs, close. */
int lenet_train(const lenet_model *m, const lenet_train_options *o) {
    lenet_run r = {.m = m, .o = o, .ck = lenet_train_checkpoint_info(o)};
    int rc = run_open(&r);
    for (int epoch = r.at.epoch; !rc && epoch <= o->h.epochs; epoch++)
        rc = run_epoch(&r, epoch);
    if (!rc)
        rc = run_close(&r);
    run_free(&r);
    return rc;
}

int lenet_train_main(int argc, char **argv, const lenet_model *m) {
    lenet_train_options o;
    int r = lenet_parse_train_args(m, argc, argv, &o, argv[0]);
    if (r)
        return r > 0 ? 0 : 2;
    return lenet_train(m, &o);
}
