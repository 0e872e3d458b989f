/* spec.c: the YAML tree -> the Model IR, checking every key and value.
 *
 *   name: lenet5
 *   input: {shape: [28, 28, 1], scale: [-1, 1], pad: 0}
 *   layers:
 *     - conv: {filters: 6, kernel: 3}
 *     - relu
 *   train: {optimizer: {name: adam, lr: 0.001}, batch: 128, epochs: 2, seed: 1}
 *
 * The full format is documented in doc/lenetc-spec.5 (installed as
 * lenetc-spec(5); a test keeps its keys the parser's) and README.md. Keras'
 * spellings of kinds (Conv2D: LayerKind.keras) and keys (kernel_size:
 * key_aliases) are exact synonyms, and `- dense: 10` is `- dense: {units:
 * 10}` (LayerKind.shorthand).
 */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lenetc.h"

/* ---- generic value readers -------------------------------------------- */

/* What a node is, for "got ..." in messages; `key:` with no value is nothing. */
static const char *kind_name(const YNode *n) {
    if (n->kind == Y_SCALAR)
        return !n->quoted && n->text[0] == '\0' ? "nothing" : "a scalar";
    return n->kind == Y_SEQ ? "a list" : "a mapping";
}

/* Keeps user text out of messages when it could garble them. */
static const char *printable(const char *s, char buf[48]) {
    size_t i = 0;
    for (; s[i] && i < 40; i++)
        buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    buf[i] = '\0';
    if (s[i])
        strcpy(buf + 37, "...");
    return buf;
}

const char *spec_or_list(const char *const *words, char *buf, size_t n) {
    buf[0] = '\0';
    for (int i = 0; words[i]; i++) {
        const char *sep = i == 0 ? "" : words[i + 1] ? ", " : " or ";
        strncat(buf, sep, n - strlen(buf) - 1);
        strncat(buf, words[i], n - strlen(buf) - 1);
    }
    return buf;
}

/* Keras' names of keys, synonyms of lenetc's wherever those are read, so
 * that a Keras habit is no error and means the same. */
static const struct {
    const char *keras, *ours;
} key_aliases[] = {
    {"kernel_size", "kernel"}, {"strides", "stride"},     {"pool_size", "size"},
    {"epsilon", "eps"},        {"learning_rate", "lr"},   {"batch_size", "batch"},
};

/* What a key written k means: lenetc's spelling of it. */
static const char *key_meaning(const char *k) {
    for (size_t i = 0; i < sizeof key_aliases / sizeof key_aliases[0]; i++)
        if (strcmp(k, key_aliases[i].keras) == 0)
            return key_aliases[i].ours;
    return k;
}

/* Where key is in params (its key node's index), however it is spelt; -1
 * if absent. */
static int key_index(const YNode *params, const char *key) {
    if (!params || params->kind != Y_MAP)
        return -1;
    for (int i = 0; i < params->n; i += 2)
        if (strcmp(key_meaning(params->items[i]->text), key) == 0)
            return i;
    return -1;
}

/* key as the spec spells it ("kernel_size"), for messages; key if absent */
static const char *written(const YNode *params, const char *key) {
    int i = key_index(params, key);
    return i < 0 ? key : params->items[i]->text;
}

const YNode *spec_get(const YNode *params, const char *key) {
    int i = key_index(params, key);
    return i < 0 ? NULL : params->items[i + 1];
}

static int expect_map(const YNode *n, const char *what, Diag *d) {
    if (n->kind != Y_MAP)
        return error_at(d, n->line, n->col, "%s must be a mapping, got %s", what,
                        kind_name(n));
    return 0;
}

int spec_check_keys(const YNode *params, const char *what, const char *const *allowed, Diag *d) {
    if (!params)
        return 0;
    if (expect_map(params, what, d))
        return -1;
    for (int i = 0; i < params->n; i += 2) {
        const YNode *k = params->items[i];
        const char *meaning = key_meaning(k->text);
        bool ok = false;
        for (int j = 0; allowed[j]; j++)
            ok |= strcmp(meaning, allowed[j]) == 0;
        if (!ok) {
            char list[256] = "", buf[48];
            for (int j = 0; allowed[j]; j++) {
                strncat(list, j ? ", " : "", sizeof list - strlen(list) - 1);
                strncat(list, allowed[j], sizeof list - strlen(list) - 1);
            }
            return error_at(d, k->line, k->col, "unknown key '%s' in %s (expected %s)",
                            printable(k->text, buf), what, list);
        }
        /* the YAML parser refuses a key twice; two spellings of one, here */
        const YNode *first = params->items[key_index(params, meaning)];
        if (first != k)
            return error_at(d, k->line, k->col, "'%s' and '%s' (line %d) are the same key: give one",
                            k->text, first->text, first->line);
    }
    return 0;
}

/* Strict decimal integer: optional '-', digits, nothing else. */
static int parse_long(const YNode *v, const char *key, long *out, Diag *d) {
    char buf[48];
    if (v->kind != Y_SCALAR || (!v->quoted && !v->text[0]))
        return error_at(d, v->line, v->col, "%s must be an integer, got %s", key,
                        kind_name(v));
    const char *s = v->text;
    const char *p = s + (*s == '-' || *s == '+');
    bool digits = *p != '\0';
    for (const char *q = p; *q; q++)
        digits &= isdigit((unsigned char)*q) != 0;
    if (v->quoted)
        return error_at(d, v->line, v->col,
                        "%s must be an integer, got the quoted string '%s' (drop the quotes)",
                        key, printable(s, buf));
    if (!digits)
        return error_at(d, v->line, v->col, "%s must be an integer, got '%s'", key,
                        printable(s, buf));
    errno = 0;
    long x = strtol(s, NULL, 10);
    if (errno == ERANGE)
        return error_at(d, v->line, v->col, "%s is out of range: %s", key, printable(s, buf));
    *out = x;
    return 0;
}

static int read_int(const YNode *v, const char *key, long lo, long hi, int *out, Diag *d) {
    long x;
    if (parse_long(v, key, &x, d))
        return -1;
    if (x < lo || x > hi)
        return error_at(d, v->line, v->col, "%s must be between %ld and %ld, got %ld", key, lo,
                        hi, x);
    *out = (int)x;
    return 0;
}

int spec_int(const YNode *params, const char *key, long lo, long hi, bool required, int *out,
             Diag *d) {
    const YNode *v = spec_get(params, key);
    if (!v) {
        if (required)
            return error_at(d, params ? params->line : 0, params ? params->col : 0,
                            "missing required key '%s'", key);
        return 0;
    }
    return read_int(v, written(params, key), lo, hi, out, d);
}

/* Keras writes a kernel, a stride or a window as [3, 3] (height, width);
 * lenetc's are square, so the two must agree. */
int spec_square(const YNode *params, const char *key, long lo, long hi, bool required, int *out,
                Diag *d) {
    const YNode *v = spec_get(params, key);
    if (!v || v->kind != Y_SEQ)
        return spec_int(params, key, lo, hi, required, out, d);
    const char *name = written(params, key);
    if (v->n != 2)
        return error_at(d, v->line, v->col, "%s must be a number or a list of two equal numbers",
                        name);
    int side[2];
    if (read_int(v->items[0], name, lo, hi, &side[0], d) ||
        read_int(v->items[1], name, lo, hi, &side[1], d))
        return -1;
    if (side[0] != side[1])
        return error_at(d, v->items[1]->line, v->items[1]->col,
                        "%s [%d, %d]: lenetc's are the same along height and width (give one "
                        "number)",
                        name, side[0], side[1]);
    *out = side[0];
    return 0;
}

static int parse_real(const YNode *v, const char *key, double lo, double hi, float *out,
                      Diag *d) {
    char buf[48];
    if (v->kind != Y_SCALAR || (!v->quoted && !v->text[0]))
        return error_at(d, v->line, v->col, "%s must be a number, got %s", key, kind_name(v));
    if (v->quoted)
        return error_at(d, v->line, v->col,
                        "%s must be a number, got the quoted string '%s' (drop the quotes)", key,
                        printable(v->text, buf));
    char *end;
    errno = 0;
    double x = strtod(v->text, &end);
    if (end == v->text || *end || errno == ERANGE || !isfinite(x) ||
        strpbrk(v->text, "xXnNiI"))
        return error_at(d, v->line, v->col, "%s must be a number, got '%s'", key,
                        printable(v->text, buf));
    if (x < lo || x > hi)
        return error_at(d, v->line, v->col, "%s must be between %.10g and %.10g, got %.10g", key,
                        lo, hi, x);
    *out = (float)x;
    return 0;
}

int spec_real(const YNode *params, const char *key, double lo, double hi, float *out, Diag *d) {
    const YNode *v = spec_get(params, key);
    return v ? parse_real(v, written(params, key), lo, hi, out, d) : 0;
}

int spec_choice(const YNode *params, const char *key, const char *const *choices, int *out,
                Diag *d) {
    const YNode *v = spec_get(params, key);
    if (!v)
        return 0;
    key = written(params, key);
    char list[256] = "", buf[48];
    for (int j = 0; choices[j]; j++) {
        if (v->kind == Y_SCALAR && strcmp(v->text, choices[j]) == 0) {
            *out = j;
            return 0;
        }
        strncat(list, j ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, choices[j], sizeof list - strlen(list) - 1);
    }
    if (v->kind != Y_SCALAR)
        return error_at(d, v->line, v->col, "%s must be one of %s, got %s", key, list,
                        kind_name(v));
    return error_at(d, v->line, v->col, "%s must be one of %s, got '%s'", key, list,
                    printable(v->text, buf));
}

/* ---- identifiers ------------------------------------------------------- */

static const char *const c_keywords[] = {
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
    "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register",
    "restrict", "return", "short", "signed", "sizeof", "static", "struct", "switch", "typedef",
    "union", "unsigned", "void", "volatile", "while", "_Alignas", "_Alignof", "_Atomic", "_Bool",
    "_Complex", "_Generic", "_Imaginary", "_Noreturn", "_Static_assert", "_Thread_local", NULL};

/* Names become C identifiers in generated code, so only these get through. */
static const char *identifier_problem(const char *s) {
    size_t n = strlen(s);
    if (n == 0)
        return "is empty";
    if (n >= MAX_NAME)
        return "is longer than 63 characters";
    if (!(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return "must start with a letter or '_' (names must match [A-Za-z_][A-Za-z0-9_]*)";
    for (size_t i = 0; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
            return "may hold only letters, digits and '_' (names must match "
                   "[A-Za-z_][A-Za-z0-9_]*)";
    for (int i = 0; c_keywords[i]; i++)
        if (strcmp(s, c_keywords[i]) == 0)
            return "is a C keyword";
    if (strncmp(s, "lenet_", 6) == 0)
        return "uses the reserved prefix 'lenet_'";
    return NULL;
}

const char *spec_name_problem(const char *s) { return identifier_problem(s); }

static int read_name(const YNode *v, char out[MAX_NAME], Diag *d) {
    char buf[48];
    if (v->kind != Y_SCALAR)
        return error_at(d, v->line, v->col, "name must be a scalar, got %s", kind_name(v));
    const char *why = identifier_problem(v->text);
    if (why)
        return error_at(d, v->line, v->col, "name '%s' %s", printable(v->text, buf), why);
    snprintf(out, MAX_NAME, "%s", v->text);
    return 0;
}

/* A layer's input as the spec names it: checked as a name here, found
 * (above the layer) by model_infer. */
static int read_input_name(const YNode *v, Layer *l, Diag *d) {
    char buf[48];
    if (l->n_inputs == MAX_INPUTS)
        return error_at(d, v->line, v->col, "more than %d inputs", MAX_INPUTS);
    if (v->kind != Y_SCALAR)
        return error_at(d, v->line, v->col, "an input must be a layer's name, got %s",
                        kind_name(v));
    const char *why = identifier_problem(v->text);
    if (why)
        return error_at(d, v->line, v->col, "input '%s' %s", printable(v->text, buf), why);
    snprintf(l->input_names[l->n_inputs], MAX_NAME, "%s", v->text);
    l->input_line[l->n_inputs] = v->line;
    l->input_col[l->n_inputs] = v->col;
    l->n_inputs++;
    return 0;
}

int spec_inputs(Layer *l, const YNode *params, Diag *d) {
    const YNode *v = spec_get(params, "inputs");
    if (!v)
        return error_at(d, l->line, l->col, "%s needs inputs: [A, B, ...], the layers it takes",
                        l->kind->kind);
    if (v->kind != Y_SEQ || v->n < 2)
        return error_at(d, v->line, v->col,
                        "inputs must be a list of at least two layers' names, [A, B, ...]");
    for (int i = 0; i < v->n; i++)
        if (read_input_name(v->items[i], l, d))
            return -1;
    return 0;
}

/* ---- sections ---------------------------------------------------------- */

static int parse_pair(const YNode *v, const char *key, float lo_hi[2], Diag *d) {
    if (v->kind != Y_SEQ || v->n != 2)
        return error_at(d, v->line, v->col, "%s must be a list of two numbers [lo, hi]", key);
    if (parse_real(v->items[0], key, -1e6, 1e6, &lo_hi[0], d) ||
        parse_real(v->items[1], key, -1e6, 1e6, &lo_hi[1], d))
        return -1;
    if (!(lo_hi[0] < lo_hi[1]))
        return error_at(d, v->line, v->col, "%s: lo must be less than hi", key);
    return 0;
}

static int parse_input(const YNode *in, Model *m, Diag *d) {
    static const char *const keys[] = {"shape", "scale", "pad", NULL};
    if (spec_check_keys(in, "input", keys, d))
        return -1;
    const YNode *shape = spec_get(in, "shape");
    if (!shape)
        return error_at(d, in->line, in->col, "missing required key 'shape' in input");
    if (shape->kind != Y_SEQ || shape->n != 3)
        return error_at(d, shape->line, shape->col,
                        "shape must be a list [height, width, channels]");
    long hwc[3];
    static const char *const what[] = {"height", "width", "channels"};
    for (int i = 0; i < 3; i++) {
        const YNode *v = shape->items[i];
        if (parse_long(v, what[i], &hwc[i], d))
            return -1;
        if (hwc[i] < 1 || hwc[i] > MAX_DIM)
            return error_at(d, v->line, v->col, "%s must be between 1 and %d, got %ld", what[i],
                            MAX_DIM, hwc[i]);
    }
    /* PyTorch's order (and Keras' channels_first): likely not meant */
    if ((hwc[0] == 1 || hwc[0] == 3) && hwc[2] > 4)
        warn_at(d, shape->line, shape->col,
                "shape [%ld, %ld, %ld] looks like channels first: lenetc's order is height, "
                "width, channels ([%ld, %ld, %ld])",
                hwc[0], hwc[1], hwc[2], hwc[1], hwc[2], hwc[0]);
    m->in_h = (int)hwc[0];
    m->in_w = (int)hwc[1];
    m->in_c = (int)hwc[2];
    float lo_hi[2] = {-1.0f, 1.0f};
    const YNode *scale = spec_get(in, "scale");
    if (scale && parse_pair(scale, "scale", lo_hi, d))
        return -1;
    m->scale_lo = lo_hi[0];
    m->scale_hi = lo_hi[1];
    return spec_int(in, "pad", 0, 64, false, &m->pad, d);
}

/* A choice written `what: NAME` or `what: {name: NAME, ...}`: the index of
 * NAME in names (NULL-terminated). */
static int named_choice(const YNode *v, const char *what, const char *const *names, int *which,
                        Diag *d) {
    const YNode *name = v;
    if (v->kind == Y_MAP) {
        name = spec_get(v, "name");
        if (!name)
            return error_at(d, v->line, v->col, "missing required key 'name' in %s", what);
    }
    for (int i = 0; names[i]; i++)
        if (name->kind == Y_SCALAR && strcmp(name->text, names[i]) == 0) {
            *which = i;
            return 0;
        }
    char list[256], buf[48];
    spec_or_list(names, list, sizeof list);
    if (name->kind != Y_SCALAR)
        return error_at(d, name->line, name->col, "%s must be %s, got %s", what, list,
                        kind_name(name));
    return error_at(d, name->line, name->col, "%s must be %s, got '%s'", what, list,
                    printable(name->text, buf));
}

static int parse_optimizer(const YNode *v, lenet_hparams *h, Diag *d) {
    static const char *const names[] = {"adam", "sgd", "adamw", NULL};
    static const lenet_optimizer_kind kinds[] = {LENET_ADAM, LENET_SGD, LENET_ADAMW};
    static const char *const keys[][8] = {
        {"name", "lr", "beta1", "beta2", "eps", NULL},
        {"name", "lr", "momentum", "nesterov", "weight_decay", NULL},
        {"name", "lr", "beta1", "beta2", "eps", "weight_decay", NULL}};
    static const char *const what[] = {"adam optimizer", "sgd optimizer", "adamw optimizer"};
    static const char *const yes_no[] = {"false", "true", NULL};
    int which;
    if (named_choice(v, "optimizer", names, &which, d))
        return -1;
    /* Keras' defaults: lr 0.01 for SGD, 0.001 for Adam; AdamW decays by 0.004 */
    h->optimizer = kinds[which];
    h->lr = kinds[which] == LENET_SGD ? 1e-2f : 1e-3f;
    h->weight_decay = kinds[which] == LENET_ADAMW ? 0.004f : 0;
    if (v->kind != Y_MAP)
        return 0;
    if (spec_check_keys(v, what[which], keys[which], d))
        return -1;
    if (spec_real(v, "lr", 1e-12, 1e3, &h->lr, d) ||
        spec_real(v, "beta1", 0.0, 0.999999, &h->beta1, d) ||
        spec_real(v, "beta2", 0.0, 0.9999999, &h->beta2, d) ||
        spec_real(v, "eps", 1e-30, 1.0, &h->eps, d) ||
        spec_real(v, "momentum", 0.0, 0.999999, &h->momentum, d) ||
        spec_choice(v, "nesterov", yes_no, &h->nesterov, d) ||
        spec_real(v, "weight_decay", 0.0, 1.0, &h->weight_decay, d))
        return -1;
    const YNode *nesterov = spec_get(v, "nesterov");
    if (h->nesterov && h->momentum == 0)
        return error_at(d, nesterov->line, nesterov->col,
                        "nesterov needs a momentum above 0 (as PyTorch's SGD)");
    return 0;
}

/* schedule: constant | {name: cosine, warmup_epochs: 1} | {name: step, every: 5, factor: 0.5}
 * | {name: onecycle, pct_start: 0.3, div_factor: 25, final_div_factor: 1e4, anneal: cos,
 *    cycle_momentum: true, base_momentum: 0.85, max_momentum: 0.95} (PyTorch's OneCycleLR) */
static int parse_schedule(const YNode *v, lenet_hparams *h, Diag *d) {
    static const char *const names[] = {"constant", "cosine", "step", "onecycle", NULL};
    static const char *const keys[][9] = {
        {"name", NULL},
        {"name", "warmup_epochs", NULL},
        {"name", "every", "factor", NULL},
        {"name", "pct_start", "div_factor", "final_div_factor", "anneal", "cycle_momentum",
         "base_momentum", "max_momentum", NULL}};
    static const char *const what[] = {"constant schedule", "cosine schedule", "step schedule",
                                       "onecycle schedule"};
    static const char *const anneals[] = {"cos", "linear", NULL};
    static const char *const yes_no[] = {"false", "true", NULL};
    int which;
    if (named_choice(v, "schedule", names, &which, d))
        return -1;
    lenet_schedule_defaults(h, (lenet_schedule_kind)which);
    if (v->kind != Y_MAP)
        return 0;
    if (spec_check_keys(v, what[which], keys[which], d) ||
        spec_real(v, "warmup_epochs", 0.0, 1000.0, &h->warmup_epochs, d) ||
        spec_int(v, "every", 1, 100000, false, &h->step_every, d) ||
        spec_real(v, "factor", 1e-6, 1.0, &h->step_factor, d) ||
        spec_real(v, "pct_start", 0.0, 1.0, &h->pct_start, d) ||
        spec_real(v, "div_factor", 1.0, 1e9, &h->div_factor, d) ||
        spec_real(v, "final_div_factor", 1.0, 1e12, &h->final_div_factor, d) ||
        spec_choice(v, "anneal", anneals, &h->onecycle_linear, d) ||
        spec_choice(v, "cycle_momentum", yes_no, &h->cycle_momentum, d) ||
        spec_real(v, "base_momentum", 0.0, 0.999999, &h->base_momentum, d) ||
        spec_real(v, "max_momentum", 0.0, 0.999999, &h->max_momentum, d))
        return -1;
    const YNode *pct = spec_get(v, "pct_start");
    if (pct && (h->pct_start <= 0 || h->pct_start >= 1))
        return error_at(d, pct->line, pct->col,
                        "pct_start is the part of the steps the rate rises in: above 0 and "
                        "below 1 (PyTorch's default 0.3)");
    return 0;
}

/* augment: {shift: 2, rotate: 10, scale: 0.1}: pixels, degrees, a fraction */
static int parse_augment(const YNode *v, lenet_hparams *h, Diag *d) {
    static const char *const keys[] = {"shift", "rotate", "scale", NULL};
    if (spec_check_keys(v, "augment", keys, d))
        return -1;
    return spec_real(v, "shift", 0.0, 64.0, &h->aug_shift, d) ||
           spec_real(v, "rotate", 0.0, 180.0, &h->aug_rotate, d) ||
           spec_real(v, "scale", 0.0, 0.9, &h->aug_scale, d);
}

static int parse_train(const YNode *t, lenet_hparams *h, Diag *d) {
    static const char *const keys[] = {"loss", "optimizer", "schedule", "augment", "batch",
                                       "epochs", "seed", "init", NULL};
    static const char *const losses[] = {"softmax_cross_entropy", NULL};
    static const char *const inits[] = {"glorot_uniform", NULL};
    int unused = 0;
    const int lr = key_index(t, "lr"); /* Keras' fit() has none either */
    if (lr >= 0) {
        const YNode *k = t->items[lr];
        return error_at(d, k->line, k->col,
                        "%s is the optimizer's: optimizer: {name: adam, %s: ...}", k->text,
                        k->text);
    }
    /* loss: softmax_cross_entropy | {name: softmax_cross_entropy, label_smoothing: 0.1} */
    const YNode *loss = spec_get(t, "loss");
    static const char *const loss_keys[] = {"name", "label_smoothing", NULL};
    if (spec_check_keys(t, "train", keys, d) ||
        (loss && named_choice(loss, "loss", losses, &unused, d)) ||
        (loss && loss->kind == Y_MAP &&
         (spec_check_keys(loss, "softmax_cross_entropy loss", loss_keys, d) ||
          spec_real(loss, "label_smoothing", 0.0, 0.999999, &h->label_smoothing, d))) ||
        spec_choice(t, "init", inits, &unused, d))
        return -1;
    const YNode *opt = spec_get(t, "optimizer"), *schedule = spec_get(t, "schedule");
    const YNode *augment = spec_get(t, "augment");
    if ((opt && parse_optimizer(opt, h, d)) || (schedule && parse_schedule(schedule, h, d)) ||
        (augment && parse_augment(augment, h, d)))
        return -1;
    /* a onecycle schedule that cycles the momentum sets it at every step */
    const char *cycled = h->optimizer == LENET_SGD ? "momentum" : "beta1";
    const YNode *given = opt && opt->kind == Y_MAP ? spec_get(opt, cycled) : NULL;
    if (given && h->schedule == LENET_ONECYCLE && h->cycle_momentum)
        return error_at(d, given->line, given->col,
                        "%s: the onecycle schedule sets it at every step (from max_momentum "
                        "%g to base_momentum %g and back, as PyTorch's OneCycleLR); to keep "
                        "%s, give the schedule cycle_momentum: false",
                        cycled, (double)h->max_momentum, (double)h->base_momentum, cycled);
    int seed = (int)h->seed;
    if (spec_int(t, "batch", 1, 65536, false, &h->batch, d) ||
        spec_int(t, "epochs", 1, 100000, false, &h->epochs, d) ||
        spec_int(t, "seed", 0, 2147483647, false, &seed, d))
        return -1;
    h->seed = (uint64_t)seed;
    return 0;
}

/* Why no kind is spelt s: a softmax, a Keras name of several kinds, a
 * kind in other letter case, or none of them. */
static int unknown_kind(const YNode *k, Diag *d) {
    char buf[48], kinds[256];
    const LayerKind *like = layer_kind_like(k->text);
    if (strcasecmp(k->text, "softmax") == 0)
        return error_at(d, k->line, k->col, "%s", softmax_is_the_loss);
    if (layer_keras_kinds(k->text, kinds, sizeof kinds) > 1)
        return error_at(d, k->line, k->col, "%s is Keras' name of %s: write which one",
                        k->text, kinds);
    if (like)
        return error_at(d, k->line, k->col, "unknown layer kind '%s' (did you mean %s?)",
                        printable(k->text, buf), like->kind);
    return error_at(d, k->line, k->col, "unknown layer kind '%s' (expected %s)",
                    printable(k->text, buf), layer_kind_list());
}

/* A layer is written `- relu`, `- relu: {name: r}`, `- conv: {filters: 6, ...}`
 * or, for a kind with a shorthand key, `- dense: 10`. */
static int parse_layer(const YNode *item, Layer *l, Diag *d) {
    const YNode *kind_node = item, *params = NULL;
    if (item->kind == Y_MAP) {
        if (item->n != 2)
            return error_at(d, item->line, item->col,
                            "a layer is a mapping with one key, its kind (e.g. '- conv: {...}')");
        kind_node = item->items[0];
        params = item->items[1];
        /* `- relu:` with nothing after it means no parameters */
        if (params->kind == Y_SCALAR && !params->quoted && params->text[0] == '\0')
            params = NULL;
    } else if (item->kind != Y_SCALAR) {
        return error_at(d, item->line, item->col, "a layer must be a kind or a mapping, got %s",
                        kind_name(item));
    }
    l->kind = layer_kind_find(kind_node->text);
    if (!l->kind)
        return unknown_kind(kind_node, d);
    l->line = kind_node->line;
    l->col = kind_node->col;
    /* `- dense: 10` is {units: 10}, the key written where the value is */
    YNode key, map;
    YNode *pair[2] = {&key, (YNode *)params};
    if (params && params->kind != Y_MAP && l->kind->shorthand) {
        key = (YNode){.kind = Y_SCALAR, .line = params->line, .col = params->col,
                      .text = (char *)l->kind->shorthand};
        map = (YNode){.kind = Y_MAP, .line = params->line, .col = params->col, .items = pair,
                      .n = 2};
        params = &map;
    }
    if (params && expect_map(params, "layer parameters", d))
        return -1;
    const YNode *name = spec_get(params, "name");
    if (name && read_name(name, l->name, d))
        return -1;
    /* `input: NAME` is every kind's but a merge's: read here, and the
     * kind's parser sees the other keys */
    const int in = key_index(params, "input");
    if (in < 0)
        return l->kind->parse(l, params, d);
    const YNode *k = params->items[in], *v = params->items[in + 1];
    if (l->kind->merges)
        return error_at(d, k->line, k->col, "%s takes inputs: [A, B, ...], not input",
                        l->kind->kind);
    if (read_input_name(v, l, d))
        return -1;
    YNode rest = *params;
    YNode *items[params->n];
    rest.items = items;
    rest.n = 0;
    for (int i = 0; i < params->n; i += 2)
        if (i != in) {
            items[rest.n++] = params->items[i];
            items[rest.n++] = params->items[i + 1];
        }
    return l->kind->parse(l, &rest, d);
}

static int parse_layers(const YNode *list, Model *m, Diag *d) {
    if (list->kind != Y_SEQ)
        return error_at(d, list->line, list->col, "layers must be a list, got %s",
                        kind_name(list));
    if (list->n == 0)
        return error_at(d, list->line, list->col, "layers is empty");
    if (list->n > MAX_LAYERS)
        return error_at(d, list->items[MAX_LAYERS]->line, list->items[MAX_LAYERS]->col,
                        "more than %d layers", MAX_LAYERS);
    m->layers = calloc((size_t)list->n, sizeof *m->layers);
    if (!m->layers)
        return error_at(d, 0, 0, "out of memory");
    for (int i = 0; i < list->n; i++) {
        m->n_layers = i + 1;
        if (parse_layer(list->items[i], &m->layers[i], d))
            return -1;
    }
    /* Default names count layers with the same prefix: conv1, pool1, conv2... */
    for (int i = 0; i < m->n_layers; i++) {
        Layer *l = &m->layers[i];
        if (l->name[0])
            continue;
        int k = 1;
        for (int j = 0; j < i; j++)
            k += strcmp(m->layers[j].kind->prefix, l->kind->prefix) == 0;
        snprintf(l->name, MAX_NAME, "%s%d", l->kind->prefix, k);
    }
    /* a clash points at the name: key if there is one, else at the layer */
    for (int i = 0; i < m->n_layers; i++) {
        Layer *l = &m->layers[i];
        const YNode *item = list->items[i];
        const YNode *name = item->kind == Y_MAP ? spec_get(item->items[1], "name") : NULL;
        int line = name ? name->line : l->line, col = name ? name->col : l->col;
        const char *what = name ? "layer name" : "this layer's default name";
        if (strcmp(l->name, m->name) == 0)
            return error_at(d, line, col, "%s '%s' is the model's name", what, l->name);
        if (strcmp(l->name, "input") == 0)
            return error_at(d, line, col, "%s 'input' names the model's input (input: input)",
                            what);
        for (int j = 0; j < i; j++)
            if (strcmp(m->layers[j].name, l->name) == 0)
                return error_at(d, line, col, "%s '%s' is already used by the layer at line %d",
                                what, l->name, m->layers[j].line);
    }
    return 0;
}

static void default_hparams(lenet_hparams *h) {
    h->optimizer = LENET_ADAM;
    h->lr = 1e-3f;
    h->beta1 = 0.9f;
    h->beta2 = 0.999f;
    h->eps = 1e-7f;
    h->batch = 128;
    h->epochs = 2;
    h->seed = 1;
}

int spec_build(const YNode *root, const char *default_name, Model *m, Diag *d) {
    static const char *const keys[] = {"name", "input", "layers", "train", NULL};
    memset(m, 0, sizeof *m);
    default_hparams(&m->train);
    if (expect_map(root, "a spec", d) || spec_check_keys(root, "the spec", keys, d))
        return -1;
    const YNode *name = spec_get(root, "name");
    if (name) {
        if (read_name(name, m->name, d))
            return -1;
    } else {
        const char *why = identifier_problem(default_name);
        if (why) {
            char buf[48];
            return error_at(d, root->line, root->col,
                            "model name '%s' (taken from the file name) %s; add a 'name:' key",
                            printable(default_name, buf), why);
        }
        snprintf(m->name, MAX_NAME, "%s", default_name);
    }
    const YNode *input = spec_get(root, "input"), *layers = spec_get(root, "layers");
    if (!input)
        return error_at(d, root->line, root->col, "missing required key 'input'");
    if (!layers)
        return error_at(d, root->line, root->col, "missing required key 'layers'");
    const YNode *train = spec_get(root, "train");
    if (parse_input(input, m, d) || parse_layers(layers, m, d) ||
        (train && parse_train(train, &m->train, d))) {
        model_free(m);
        return -1;
    }
    const YNode *batch = train ? spec_get(train, "batch") : NULL;
    if (batch) { /* for a warning that the tile wastes lanes */
        m->batch_line = batch->line;
        m->batch_col = batch->col;
    }
    return 0;
}

const char *spec_default_name(const char *path, char buf[256]) {
    char *copy = strdup(path);
    snprintf(buf, 256, "%s", copy ? basename(copy) : "model");
    free(copy);
    char *dot = strrchr(buf, '.');
    if (dot && dot != buf)
        *dot = '\0';
    for (char *p = buf; *p; p++)
        if (*p == '-')
            *p = '_';
    return buf;
}

int spec_parse(const char *text, size_t len, const char *default_name, Model *m, Diag *d) {
    memset(m, 0, sizeof *m);
    YNode *root = ytree_parse(text, len, d);
    const int rc = root ? spec_build(root, default_name, m, d) : -1;
    ytree_free(root);
    return rc;
}

void model_free(Model *m) {
    free(m->layers);
    m->layers = NULL;
    m->n_layers = 0;
}
