/* checkpoint.c: a training run's whole state in one safetensors file.
 *
 * The trainer's allocation starts params | grads | adam_m | adam_v (n_params
 * each, each on a 64-byte line), so a checkpoint is the model's tensor table
 * three times over that allocation: NAME at params, adam.m.NAME at adam_m,
 * adam.v.NAME at adam_v (trainable tensors only)
 * (gradients are recomputed every step and are not saved). The safetensors
 * reader checks every offset and shape before anything is copied.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lenet_core.h"
#include "lenet_io.h"
#include "lenet_model.h"

#define FORMAT "lenetc-checkpoint-1"

/* The trainer's memory seen as one model with 3 x n_tensors tensors. */
typedef struct {
    lenet_model m;
    lenet_tensor *tensors;
    char *names;
} state_view;

/* Floats from the allocation's start to the end of adam_v. */
static size_t state_floats(const lenet_trainer *t) {
    return (size_t)(t->adam_v - t->mem) + t->m->n_params;
}

static int view_init(state_view *v, const lenet_trainer *tr) {
    static const char *const prefix[3] = {"", "adam.m.", "adam.v."};
    const lenet_model *m = tr->m;
    const size_t slot[3] = {(size_t)(tr->params - tr->mem), (size_t)(tr->adam_m - tr->mem),
                            (size_t)(tr->adam_v - tr->mem)};
    v->m = *m;
    v->tensors = calloc(3 * (size_t)m->n_tensors, sizeof *v->tensors);
    v->names = calloc(3 * (size_t)m->n_tensors, 64);
    if (!v->tensors || !v->names) {
        free(v->tensors);
        free(v->names);
        return -1;
    }
    int n = 0;
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < m->n_tensors; i++) {
            if (k > 0 && !m->tensors[i].trainable)
                continue; /* state has no moments */
            lenet_tensor *t = &v->tensors[n];
            char *name = v->names + 64 * (size_t)n++;
            *t = m->tensors[i];
            snprintf(name, 64, "%s%s", prefix[k], m->tensors[i].name);
            t->name = name;
            t->offset += slot[k];
        }
    v->m.tensors = v->tensors;
    v->m.n_tensors = n;
    v->m.n_params = state_floats(tr);
    return 0;
}

static void view_free(state_view *v) {
    free(v->tensors);
    free(v->names);
}

/* The options a resumed run must share with the one that wrote the file. */
static void describe_options(const lenet_trainer *t, const lenet_checkpoint_info *o,
                             lenet_meta *meta) {
    char buf[224];
    lenet_meta_set(meta, "lenetc", FORMAT);
    lenet_meta_set(meta, "model", t->m->name);
    snprintf(buf, sizeof buf, "%" PRIu64, o->h.seed);
    lenet_meta_set(meta, "seed", buf);
    snprintf(buf, sizeof buf, "%d", o->h.batch);
    lenet_meta_set(meta, "batch", buf);
    lenet_meta_set(meta, "optimizer", lenet_optimizer_name(o->h.optimizer));
    lenet_meta_set(meta, "lr", lenet_shortest(o->h.lr, 1, buf));
    lenet_meta_set(meta, "momentum", lenet_shortest(o->h.momentum, 1, buf));
    lenet_meta_set(meta, "nesterov", o->h.nesterov ? "yes" : "no");
    lenet_meta_set(meta, "weight_decay", lenet_shortest(o->h.weight_decay, 1, buf));
    lenet_meta_set(meta, "label_smoothing", lenet_shortest(o->h.label_smoothing, 1, buf));
    /* the schedule by what sets its rates; a cosine's depend on the epochs */
    char num[32];
    if (o->h.schedule == LENET_COSINE)
        snprintf(buf, sizeof buf, "cosine warmup %s over %d epochs",
                 lenet_shortest(o->h.warmup_epochs, 1, num), o->h.epochs);
    else if (o->h.schedule == LENET_STEP)
        snprintf(buf, sizeof buf, "step every %d by %s", o->h.step_every,
                 lenet_shortest(o->h.step_factor, 1, num));
    else if (o->h.schedule == LENET_ONECYCLE) {
        char sched[160];
        lenet_schedule_describe(&o->h, sched, sizeof sched);
        snprintf(buf, sizeof buf, "%s over %d epochs", sched, o->h.epochs);
    }
    else
        snprintf(buf, sizeof buf, "constant");
    lenet_meta_set(meta, "schedule", buf);
    if (lenet_augments(&o->h))
        snprintf(buf, sizeof buf, "shift %g rotate %g scale %g", (double)o->h.aug_shift,
                 (double)o->h.aug_rotate, (double)o->h.aug_scale);
    else
        snprintf(buf, sizeof buf, "none");
    lenet_meta_set(meta, "augment", buf);
    snprintf(buf, sizeof buf, "%ld", o->limit);
    lenet_meta_set(meta, "limit", buf);
    lenet_meta_set(meta, "val", lenet_shortest(o->val, 0, buf));
    lenet_meta_set(meta, "shuffle", o->shuffle ? "yes" : "no");
}

int lenet_save_checkpoint(const lenet_trainer *t, const lenet_checkpoint_info *o,
                          const lenet_progress *p, const char *path, lenet_error *err) {
    state_view v;
    if (view_init(&v, t)) {
        lenet_set_error(err, "%s: out of memory", path);
        return -1;
    }
    lenet_meta meta = {0};
    char buf[64];
    describe_options(t, o, &meta);
    snprintf(buf, sizeof buf, "%ld", t->step);
    lenet_meta_set(&meta, "step", buf);
    snprintf(buf, sizeof buf, "%d", p->epoch);
    lenet_meta_set(&meta, "epoch", buf);
    snprintf(buf, sizeof buf, "%d", p->next);
    lenet_meta_set(&meta, "next", buf);
    snprintf(buf, sizeof buf, "%.17g", p->loss_sum);
    lenet_meta_set(&meta, "loss_sum", buf);
    snprintf(buf, sizeof buf, "%d", p->correct);
    lenet_meta_set(&meta, "correct", buf);
    for (int i = 0; i < 4; i++) {
        char key[8];
        snprintf(key, sizeof key, "rng%d", i);
        snprintf(buf, sizeof buf, "%016" PRIx64, p->rng.s[i]);
        lenet_meta_set(&meta, key, buf);
    }
    if (t->data) /* what it trains on (not part of the run's identity) */
        lenet_meta_set_data(&meta, t->m, t->data);
    if (p->best_epoch) { /* --save-best's best so far */
        snprintf(buf, sizeof buf, "%d %.17g %.17g", p->best_epoch, p->best_val_acc,
                 p->best_val_loss);
        lenet_meta_set(&meta, "best", buf);
    }
    int rc = lenet_save_safetensors_meta(&v.m, t->mem, &meta, path, err);
    view_free(&v);
    return rc;
}

int lenet_load_weights(const lenet_model *m, float *params, lenet_meta *meta, const char *path,
                       lenet_error *err) {
    static const char *const optimiser[] = {"adam.m.", "adam.v.", NULL};
    lenet_meta *own = meta ? NULL : malloc(sizeof *own);
    lenet_meta *mt = meta ? meta : own;
    float *copy = malloc(m->n_params * sizeof *copy);
    int skipped = 0, rc = -1;
    if (!mt || !copy) {
        lenet_set_error(err, "%s: out of memory", path);
        goto out;
    }
    memcpy(copy, params, m->n_params * sizeof *copy);
    if (lenet_load_safetensors_skip(m, copy, mt, path, optimiser, &skipped, err))
        goto out;
    const char *format = lenet_meta_get(mt, "lenetc"), *step = lenet_meta_get(mt, "step");
    const int checkpoint = format && strcmp(format, FORMAT) == 0;
    if (skipped && !checkpoint) { /* optimiser state in what is not a checkpoint */
        lenet_set_error(err, "%s: has %d adam.* tensors but is not a lenetc checkpoint", path,
                        skipped);
        goto out;
    }
    if (checkpoint)
        fprintf(stderr, "note: %s is a checkpoint (step %s): using its weights, not its "
                "optimiser state\n", path, step ? step : "?");
    memcpy(params, copy, m->n_params * sizeof *copy);
    rc = 0;
out:
    free(own);
    free(copy);
    return rc;
}

/* The settings that are numbers (compared as the floats they are: files
 * from before printed them with 9 digits, 0.00100000005) and how the
 * command line spells each, "" for one the spec alone sets. */
static const struct {
    const char *key, *option;
    int real;
} settings[] = {
    {"seed", "--seed", 0},          {"batch", "--batch", 0},
    {"optimizer", "--optimizer", 0}, {"lr", "--lr", 1},
    {"momentum", "--momentum", 1},  {"nesterov", "nesterov", 0},
    {"weight_decay", "--weight-decay", 1}, {"schedule", "--schedule", 0},
    {"label_smoothing", "--label-smoothing", 1},
    {"augment", "--augment", 0},    {"limit", "--limit", 0},
    {"shuffle", "shuffle", 0},      {"val", "--val", 1},
    {"model", "the model", 0},
};

static int setting(const char *key) {
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++)
        if (!strcmp(settings[i].key, key))
            return (int)i;
    return -1;
}

static int same_setting(const char *key, const char *a, const char *b) {
    const int i = setting(key);
    if (i >= 0 && settings[i].real)
        return (float)strtod(a, NULL) == (float)strtod(b, NULL);
    return strcmp(a, b) == 0;
}

/* "--lr 0.001", "no --limit", "the model lenet5": a setting as the user
 * wrote it, into buf */
static const char *as_written(const char *key, const char *value, char buf[256]) {
    const int i = setting(key);
    const char *name = i >= 0 ? settings[i].option : key;
    char num[32];
    if (!value) { /* a file without the key */
        snprintf(buf, 256, "no %s", name);
        return buf;
    }
    if (i >= 0 && settings[i].real)
        value = lenet_shortest(strtod(value, NULL), 1, num);
    if ((!strcmp(key, "limit") || !strcmp(key, "val")) && !strcmp(value, "0"))
        snprintf(buf, 256, "no %s", name);
    else
        snprintf(buf, 256, "%s %s", name, value);
    return buf;
}

/* Parses a whole decimal or hex field in [lo, hi]. */
static int field(const lenet_meta *meta, const char *key, int base, long long lo,
                 unsigned long long hi, unsigned long long *out) {
    const char *s = lenet_meta_get(meta, key);
    if (!s || !*s || (*s == '-' && lo >= 0))
        return -1;
    char *end;
    unsigned long long v = strtoull(s, &end, base);
    if (*end || v > hi)
        return -1;
    *out = v;
    return 0;
}

int lenet_load_checkpoint(lenet_trainer *t, const lenet_checkpoint_info *o, lenet_progress *p,
                          const char *path, lenet_error *err) {
    state_view v;
    if (view_init(&v, t)) {
        lenet_set_error(err, "%s: out of memory", path);
        return -1;
    }
    /* read into a copy, so that a bad file leaves the trainer untouched */
    const size_t P = t->m->n_params, n = state_floats(t);
    float *copy = malloc(n * sizeof *copy);
    lenet_meta meta;
    int rc = -1;
    if (!copy) {
        lenet_set_error(err, "%s: out of memory", path);
        goto out;
    }
    memcpy(copy, t->mem, n * sizeof *copy);
    if (lenet_load_safetensors_meta(&v.m, copy, &meta, path, err))
        goto out;
    const char *format = lenet_meta_get(&meta, "lenetc");
    if (!format || strcmp(format, FORMAT) != 0) {
        lenet_set_error(err, "%s: not a lenetc checkpoint (no \"lenetc\": \"" FORMAT
                        "\" in its metadata)", path);
        goto out;
    }
    /* every option that shapes the run must be the same */
    lenet_meta want = {0};
    describe_options(t, o, &want);
    /* keys newer than a file stand for what runs without them did */
    static const char *const newer[][2] = {
        {"momentum", "0"}, {"nesterov", "no"}, {"weight_decay", "0"}, {"schedule", "constant"},
        {"label_smoothing", "0"},
        {"augment", "none"}, {"val", "0"}};
    for (int i = 0; i < want.n; i++) {
        const char *got = lenet_meta_get(&meta, want.key[i]);
        for (size_t k = 0; k < sizeof newer / sizeof newer[0] && !got; k++)
            if (!strcmp(want.key[i], newer[k][0]))
                got = newer[k][1];
        if (!got || !same_setting(want.key[i], got, want.value[i])) {
            char a[256], b[256];
            lenet_set_error(err, "%s: written with %s, but this run has %s: resume with the same "
                            "options", path, as_written(want.key[i], got, a),
                            as_written(want.key[i], want.value[i], b));
            goto out;
        }
    }
    unsigned long long step, epoch, next, correct, rng[4];
    int bad = field(&meta, "step", 10, 0, (unsigned long long)1 << 40, &step) ||
              field(&meta, "epoch", 10, 1, 100000, &epoch) || epoch < 1 ||
              field(&meta, "next", 10, 0, 100000000, &next) ||
              field(&meta, "correct", 10, 0, 100000000, &correct) || correct > next;
    for (int i = 0; i < 4 && !bad; i++) {
        char key[8];
        snprintf(key, sizeof key, "rng%d", i);
        bad = field(&meta, key, 16, 0, UINT64_MAX, &rng[i]);
    }
    const char *ls = lenet_meta_get(&meta, "loss_sum");
    char *end = NULL;
    double loss_sum = ls ? strtod(ls, &end) : 0;
    /* the best validation epoch so far, if --save-best saved one */
    const char *best = lenet_meta_get(&meta, "best");
    int best_epoch = 0, used = 0;
    double best_acc = 0, best_loss = 0;
    if (best && (sscanf(best, "%d %lf %lf%n", &best_epoch, &best_acc, &best_loss, &used) != 3 ||
                 best[used] || best_epoch < 1 || !(best_acc >= 0 && best_acc <= 1) ||
                 !(best_loss >= 0)))
        bad = 1;
    if (bad || !ls || *end || !(loss_sum >= 0) || loss_sum > 1e300) {
        lenet_set_error(err, "%s: checkpoint metadata (step, epoch, next, loss_sum, correct, "
                        "rng0-3, best) missing or out of range", path);
        goto out;
    }
    memcpy(t->params, copy + (t->params - t->mem), P * sizeof *copy);
    memcpy(t->adam_m, copy + (t->adam_m - t->mem), P * sizeof *copy);
    memcpy(t->adam_v, copy + (t->adam_v - t->mem), P * sizeof *copy);
    t->step = (long)step;
    p->epoch = (int)epoch;
    p->next = (int)next;
    p->loss_sum = loss_sum;
    p->correct = (int)correct;
    for (int i = 0; i < 4; i++)
        p->rng.s[i] = rng[i];
    p->best_epoch = best_epoch;
    p->best_val_acc = best_acc;
    p->best_val_loss = best_loss;
    rc = 0;
out:
    free(copy);
    view_free(&v);
    return rc;
}
