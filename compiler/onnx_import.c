/* onnx_import.c: an ONNX graph (onnx_read.c has read and checked it) as a
 * spec and its weights.
 *
 * The nodes are walked in dependency order (the file's order need not be
 * one; a cycle or an undefined input is an error). Each ONNX value is a
 * layer's output (or the input), a constant (an initializer, a Constant
 * node), or a layer's output padded with zeros (Pad), which only a Conv or
 * an AveragePool may read. Each node becomes a layer, or is folded into
 * one: an activation named "LAYER/relu" (lenetc's export) into its conv or
 * dense, an Add of a constant into the bias before it, Identity, Flatten of
 * a vector and a final Softmax into nothing. Layouts are PyTorch's (NCHW),
 * which are lenetc's, so weights are copied as they are (Gemm's B without
 * transB transposed). Every name that reaches the spec is made an
 * identifier here and checked as the spec checks it; every number is
 * written by lenet_shortest; text from the file reaches only comments, made
 * printable.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_import.h"

typedef enum { V_LAYER, V_CONST, V_PADDED } ValueKind;

typedef struct {
    const char *name;       /* the ONNX value's (in the unpacked model) */
    ValueKind kind;
    int layer;              /* V_LAYER, V_PADDED: the layer giving it; -1: the input */
    Shape s;                /* lenetc's shape (V_PADDED: padded) */
    int rank;               /* ONNX's, the batch included */
    OnnxTensor t;           /* V_CONST */
    bool owns;              /* t is this value's to free (not an Identity's copy) */
    int pad[4];             /* V_PADDED: top, left, bottom, right */
    int sym;                /* V_CONST of a Shape: 1 + the index of its value
                             * that stands for the batch (its number 0 there
                             * is no number); 0: none */
    int stage;              /* the input: 0 as the graph takes it, 1 padded, 2
                             * scaled, 3 shifted (lenetc's export's input
                             * stage); layers read it at INPUT_READY */
} Value;

#define INPUT_READY 3

typedef struct {
    const char *kind;       /* the spec's */
    char name[MAX_NAME];
    StrBuf keys;            /* ", filters: 6, kernel: 3" */
    int n_inputs, inputs[MAX_INPUTS]; /* layers read (-1: the input) */
    bool merge;             /* inputs: [...], else input: */
    StrBuf from;            /* the nodes it comes from, for its comment */
    bool fuses;             /* conv, depthwise_conv, dense: takes an activation */
    bool has_act;
    bool open_bias;         /* a MatMul's dense: an Add may give its bias */
    int bias;               /* its bias tensor (im->tensors), -1: none */
    int units;              /* the bias's length */
} ImpLayer;

typedef struct {
    const Onnx__GraphProto *g;
    int opset;
    const OnnxImportOptions *o;
    OnnxImport *im;
    Diag *d;
    Value *values;
    int n_values, cap_values;
    int *slots;             /* values by name: an open-addressed hash of their
                             * indices (-1 empty), 2x the values or more */
    int n_slots;
    ImpLayer *layers;
    int n_layers, cap_layers;
    int pad;                /* lenetc.input's */
    float lo, hi;
    bool lenetc_input;      /* lenetc.input given: fold its input stage */
    const Onnx__NodeProto *node; /* being mapped, for messages */
} Ctx;

/* "NODE: why", once */
__attribute__((format(printf, 2, 3))) static int fail(Ctx *c, const char *fmt, ...) {
    char why[512], nb[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    if (c->node)
        return error_at(c->d, 0, 0, "%s: %s", onnx_node_str(c->node, c->opset, nb), why);
    return error_at(c->d, 0, 0, "%s", why);
}

static unsigned hash(const char *s) {
    unsigned h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* The slot name has or would have */
static int slot_of(const Ctx *c, const char *name) {
    unsigned i = hash(name) & (unsigned)(c->n_slots - 1);
    while (c->slots[i] >= 0 && strcmp(c->values[c->slots[i]].name, name))
        i = (i + 1) & (unsigned)(c->n_slots - 1);
    return (int)i;
}

static Value *find(Ctx *c, const char *name) {
    if (!c->n_slots)
        return NULL;
    const int k = c->slots[slot_of(c, name)];
    return k >= 0 ? &c->values[k] : NULL;
}

static Value *add_value(Ctx *c, const char *name) {
    if (find(c, name)) {
        char b[48];
        fail(c, "value '%s' is defined twice", onnx_printable(name, b));
        return NULL;
    }
    if (c->n_values == c->cap_values) {
        int cap = c->cap_values ? 2 * c->cap_values : 64;
        Value *v = realloc(c->values, (size_t)cap * sizeof *v);
        int *slots = malloc((size_t)cap * 2 * sizeof *slots);
        if (!v || !slots) {
            free(slots);
            if (v)
                c->values = v;
            fail(c, "out of memory");
            return NULL;
        }
        c->values = v;
        c->cap_values = cap;
        free(c->slots);
        c->slots = slots;
        c->n_slots = cap * 2;
        for (int i = 0; i < c->n_slots; i++)
            slots[i] = -1;
        for (int i = 0; i < c->n_values; i++)
            slots[slot_of(c, c->values[i].name)] = i;
    }
    Value *v = &c->values[c->n_values];
    memset(v, 0, sizeof *v);
    v->name = name;
    c->slots[slot_of(c, name)] = c->n_values++;
    return v;
}

/* Readers of name: node inputs and graph outputs (a graph output counts). */
static int users(const Ctx *c, const char *name) {
    int n = 0;
    for (size_t i = 0; i < c->g->n_node; i++)
        for (size_t k = 0; k < c->g->node[i]->n_input; k++)
            n += !strcmp(c->g->node[i]->input[k], name);
    for (size_t i = 0; i < c->g->n_output; i++)
        n += c->g->output[i]->name && !strcmp(c->g->output[i]->name, name);
    return n;
}

static bool is_graph_output(const Ctx *c, const char *name) {
    for (size_t i = 0; i < c->g->n_output; i++)
        if (c->g->output[i]->name && !strcmp(c->g->output[i]->name, name))
            return true;
    return false;
}

/* ---- names ------------------------------------------------------------- */

static bool name_taken(const Ctx *c, const char *s) {
    if (!strcmp(s, "input"))
        return true;
    for (int i = 0; i < c->n_layers; i++)
        if (!strcmp(c->layers[i].name, s))
            return true;
    return false;
}

/* A layer name from hint (a module's prefix, a node's name): its letters,
 * digits and '_', the rest '_'; prefix when nothing is left or it starts
 * with a digit; then _2, _3... until the spec would take it. */
static void pick_name(Ctx *c, const char *hint, const char *prefix, char out[MAX_NAME]) {
    char base[48];
    size_t n = 0;
    for (const char *p = hint ? hint : ""; *p && n < 40; p++) {
        const char ch = *p;
        const bool word = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                          (ch >= '0' && ch <= '9') || ch == '_';
        if (word)
            base[n++] = ch;
        else if (n && base[n - 1] != '_')
            base[n++] = '_';
    }
    while (n && base[n - 1] == '_')
        n--;
    base[n] = '\0';
    size_t lead = strspn(base, "_");
    memmove(base, base + lead, n - lead + 1);
    char full[MAX_NAME];
    if (!base[0])
        snprintf(full, sizeof full, "%s", prefix);
    else if ((base[0] >= '0' && base[0] <= '9') || !strncmp(base, "lenet_", 6))
        snprintf(full, sizeof full, "%s_%s", prefix, base);
    else
        snprintf(full, sizeof full, "%s", base);
    snprintf(out, MAX_NAME, "%s", full);
    for (int k = 2; spec_name_problem(out) || name_taken(c, out); k++)
        snprintf(out, MAX_NAME, "%.48s_%d", full, k);
}

/* The module a weight belongs to: "conv1" of "conv1.weight"; NULL if the
 * name is no module's weight. */
static const char *module_of(const char *weight, char buf[MAX_NAME]) {
    const char *dot = strrchr(weight, '.');
    if (!dot || strcmp(dot, ".weight") || dot == weight || dot - weight >= MAX_NAME)
        return NULL;
    memcpy(buf, weight, (size_t)(dot - weight));
    buf[dot - weight] = '\0';
    return buf;
}

/* ---- layers and their tensors ------------------------------------------ */

/* torch.onnx names nodes by their module's path and op: "/pool1/MaxPool",
 * "/Relu_1"; the path is the name ("pool1"; none: the kind's prefix). */
static const char *node_hint(const Onnx__NodeProto *n, char buf[MAX_NAME]) {
    const char *nm = n->name ? n->name : "";
    const char *slash = strrchr(nm, '/');
    const char *op = n->op_type ? n->op_type : "";
    if (nm[0] != '/' || !op[0] || strncmp(slash + 1, op, strlen(op)) ||
        slash - nm >= MAX_NAME)
        return nm;
    memcpy(buf, nm, (size_t)(slash - nm));
    buf[slash - nm] = '\0';
    return buf;
}

static int new_layer(Ctx *c, const char *kind, const char *hint, const char *prefix) {
    if (c->n_layers >= MAX_LAYERS)
        return fail(c, "more than %d layers", MAX_LAYERS);
    if (c->n_layers == c->cap_layers) {
        int cap = c->cap_layers ? 2 * c->cap_layers : 32;
        ImpLayer *l = realloc(c->layers, (size_t)cap * sizeof *l);
        if (!l)
            return fail(c, "out of memory");
        c->layers = l;
        c->cap_layers = cap;
    }
    ImpLayer *l = &c->layers[c->n_layers];
    memset(l, 0, sizeof *l);
    l->kind = kind;
    l->bias = -1;
    char buf[MAX_NAME];
    pick_name(c, hint && hint[0] ? hint : node_hint(c->node, buf), prefix, l->name);
    char a[48], b[48];
    sb_printf(&l->from, "%s '%s'", onnx_printable(c->node->op_type, a),
              onnx_printable(c->node->name, b));
    return c->n_layers++;
}

/* Records that layer li also comes from the node being mapped. */
static void also_from(Ctx *c, int li) {
    char a[48], b[48];
    sb_printf(&c->layers[li].from, ", %s '%s'", onnx_printable(c->node->op_type, a),
              onnx_printable(c->node->name, b));
}

/* A tensor of layer li named "LAYER.what" of n floats (zeroed); its index. */
static int add_tensor(Ctx *c, int li, const char *what, long n) {
    OnnxImport *im = c->im;
    ImportTensor *t = realloc(im->tensors, (size_t)(im->n_tensors + 1) * sizeof *t);
    if (!t)
        return fail(c, "out of memory");
    im->tensors = t;
    t = &im->tensors[im->n_tensors];
    snprintf(t->name, sizeof t->name, "%s.%s", c->layers[li].name, what);
    t->n = n;
    t->data = calloc((size_t)(n ? n : 1), sizeof *t->data);
    if (!t->data)
        return fail(c, "out of memory");
    return im->n_tensors++;
}

/* The output value of the node being mapped (its output k), given by
 * layer li with shape s. */
static int give(Ctx *c, int k, int li, Shape s, int rank) {
    if ((size_t)k >= c->node->n_output || !c->node->output[k][0])
        return fail(c, "it has no output %d", k);
    Value *v = add_value(c, c->node->output[k]);
    if (!v)
        return -1;
    v->kind = V_LAYER;
    v->layer = li;
    v->s = s;
    v->rank = rank;
    return 0;
}

/* Input k of the node being mapped; NULL after a message if absent or
 * undefined. */
static Value *input(Ctx *c, int k) {
    if ((size_t)k >= c->node->n_input || !c->node->input[k][0]) {
        fail(c, "input %d is missing", k);
        return NULL;
    }
    Value *v = find(c, c->node->input[k]);
    if (!v) {
        char b[48];
        fail(c, "input '%s' is not defined", onnx_printable(c->node->input[k], b));
    }
    return v;
}

static bool has_input(const Ctx *c, int k) {
    return (size_t)k < c->node->n_input && c->node->input[k][0];
}

/* Input k as a layer's output; pad_ok: a padded one too (Conv, AveragePool). */
static Value *data_input(Ctx *c, int k, bool pad_ok) {
    Value *v = input(c, k);
    if (!v)
        return NULL;
    char b[48];
    if (v->kind == V_CONST) {
        fail(c, "input '%s' is a constant; lenetc computes only from the graph's input",
             onnx_printable(v->name, b));
        return NULL;
    }
    if (v->layer == -1 && v->kind != V_CONST && v->stage != INPUT_READY) {
        fail(c, "it reads the input before lenetc's input stage (input/pad, input/scale, "
                "input/shift) that lenetc.input says the graph has");
        return NULL;
    }
    if (v->kind == V_PADDED && !pad_ok) {
        fail(c, "it reads '%s', a Pad's output; lenetc pads only into a Conv or an AveragePool",
             onnx_printable(v->name, b));
        return NULL;
    }
    return v;
}

/* Input k as a float constant of ndim dims (-1: any); NULL after a message. */
static const OnnxTensor *const_input(Ctx *c, int k, int ndim, bool is_float) {
    Value *v = input(c, k);
    if (!v)
        return NULL;
    char b[48];
    if (v->kind == V_CONST && v->sym) {
        fail(c, "input %d ('%s') is computed from the batch size, which only a Reshape to "
                "[N, features] may read", k, onnx_printable(v->name, b));
        return NULL;
    }
    if (v->kind != V_CONST) {
        fail(c, "input %d ('%s') must be a constant (an initializer)", k,
             onnx_printable(v->name, b));
        return NULL;
    }
    if (is_float != (v->t.f != NULL)) {
        fail(c, "input %d ('%s') must be %s", k, onnx_printable(v->name, b),
             is_float ? "float32" : "int64");
        return NULL;
    }
    if (ndim >= 0 && v->t.ndim != ndim) {
        fail(c, "input %d ('%s') has %d dimensions, not %d", k, onnx_printable(v->name, b),
             v->t.ndim, ndim);
        return NULL;
    }
    return &v->t;
}

/* Layer li reads v's layer (one input; the layer above is implicit in
 * the spec when it is the one just before). */
static void reads(Ctx *c, int li, const Value *v) {
    ImpLayer *l = &c->layers[li];
    l->inputs[l->n_inputs++] = v->layer;
}

/* The number v as shortest decimal float */
static const char *real(double v, char buf[32]) { return lenet_shortest(v, 1, buf); }

static int check_outputs(Ctx *c, int n) {
    for (size_t k = (size_t)n; k < c->node->n_output; k++)
        if (c->node->output[k][0] && users(c, c->node->output[k]))
            return fail(c, "output %zu is read, but lenetc computes only the first %d", k, n);
    return 0;
}

/* ---- the ops ----------------------------------------------------------- */

/* A square window's side and stride from kernel_shape and strides. */
static int window(Ctx *c, int64_t kdefault, int *k, int *s) {
    int64_t ks[ONNX_MAX_RANK] = {kdefault, kdefault}, st[ONNX_MAX_RANK] = {1, 1},
            dil[ONNX_MAX_RANK] = {1, 1};
    int nk = kdefault ? 2 : 0, ns = 2, nd = 2;
    if (onnx_get_ints(c->node, c->opset, "kernel_shape", ks, ONNX_MAX_RANK, &nk, c->d) ||
        onnx_get_ints(c->node, c->opset, "strides", st, ONNX_MAX_RANK, &ns, c->d) ||
        onnx_get_ints(c->node, c->opset, "dilations", dil, ONNX_MAX_RANK, &nd, c->d))
        return -1;
    if (nk != 2 || ns != 2 || nd != 2)
        return fail(c, "lenetc maps only 2-D windows (kernel_shape, strides and dilations of 2 "
                       "values)");
    if (ks[0] != ks[1] || st[0] != st[1])
        return fail(c, "window %lldx%lld stride %lldx%lld: lenetc's windows and strides are "
                       "square", (long long)ks[0], (long long)ks[1], (long long)st[0],
                    (long long)st[1]);
    if (ks[0] < 1 || ks[0] > 64 || st[0] < 1 || st[0] > 64)
        return fail(c, "window %lld stride %lld: lenetc takes 1 to 64", (long long)ks[0],
                    (long long)st[0]);
    if (dil[0] != 1 || dil[1] != 1)
        return fail(c, "dilations %lldx%lld: lenetc has no dilated windows", (long long)dil[0],
                    (long long)dil[1]);
    *k = (int)ks[0];
    *s = (int)st[0];
    return 0;
}

/* The padding [top, left, bottom, right] pads and auto_pad give, plus a
 * Pad's before it (x). */
static int padding(Ctx *c, const Value *x, int k, int s, int pad[4]) {
    int64_t p[ONNX_MAX_RANK] = {0};
    int np = 4;
    char mode[32] = "NOTSET";
    if (onnx_get_ints(c->node, c->opset, "pads", p, ONNX_MAX_RANK, &np, c->d) ||
        onnx_get_string(c->node, c->opset, "auto_pad", mode, sizeof mode, c->d))
        return -1;
    if (np != 4)
        return fail(c, "pads has %d values; a 2-D window takes 4", np);
    for (int i = 0; i < 4; i++) {
        if (p[i] < 0 || p[i] > 64)
            return fail(c, "pads of %lld: lenetc takes 0 to 64", (long long)p[i]);
        pad[i] = (int)p[i];
    }
    const int in[2] = {x->s.h, x->s.w};
    if (!strcmp(mode, "SAME_UPPER") || !strcmp(mode, "SAME_LOWER")) {
        for (int a = 0; a < 2; a++) {
            const int out = (in[a] + s - 1) / s;
            const int total = (out - 1) * s + k - in[a] > 0 ? (out - 1) * s + k - in[a] : 0;
            const int small = total / 2;
            pad[a] = mode[5] == 'U' ? small : total - small;
            pad[a + 2] = total - pad[a];
        }
    } else if (strcmp(mode, "NOTSET") && strcmp(mode, "VALID")) {
        char b[48];
        return fail(c, "auto_pad '%s' is none of NOTSET, VALID, SAME_UPPER, SAME_LOWER",
                    onnx_printable(mode, b));
    } else if (!strcmp(mode, "VALID")) {
        memset(pad, 0, 4 * sizeof *pad);
    }
    if (x->kind == V_PADDED)
        for (int i = 0; i < 4; i++)
            pad[i] += x->pad[i];
    for (int i = 0; i < 4; i++)
        if (pad[i] > 64)
            return fail(c, "padding of %d: lenetc takes 0 to 64", pad[i]);
    return 0;
}

/* The spec's padding for pad: "3" (every side alike, as the file says),
 * "same" where it is what lenetc's same pads at this stride, or an error:
 * lenetc cannot pad otherwise. */
static int padding_key(Ctx *c, const Shape in, int k, int s, const int pad[4], char key[16]) {
    if (pad[0] == pad[1] && pad[1] == pad[2] && pad[2] == pad[3]) {
        snprintf(key, 16, "%d", pad[0]);
        return 0;
    }
    const int size[2] = {in.h, in.w};
    bool same = true;
    for (int a = 0; a < 2; a++) {
        const int out = (size[a] + s - 1) / s, total = (out - 1) * s + k - size[a];
        const int before = total > 0 ? total / 2 : 0, after = total > 0 ? total - before : 0;
        same &= pad[a] == before && pad[a + 2] == after;
    }
    if (!same)
        return fail(c, "padding [top %d, left %d, bottom %d, right %d]: lenetc cannot map this "
                       "layout (its padding is the same on every side, or Keras' 'same')",
                    pad[0], pad[1], pad[2], pad[3]);
    snprintf(key, 16, "same");
    return 0;
}

/* The spatial size a k-window at stride s gives of in, padded by pad. */
static int out_size(int in, int k, int s, int before, int after) {
    return in + before + after < k ? 0 : (in + before + after - k) / s + 1;
}

static int need_map(Ctx *c, const Value *x, const char *what) {
    if (x->s.flat || x->rank != 4)
        return fail(c, "%s needs a feature map [N, C, H, W], but gets a tensor of rank %d", what,
                    x->rank);
    return 0;
}

static int op_conv(Ctx *c) {
    static const char *const attrs[] = {"kernel_shape", "strides", "pads", "dilations", "group",
                                        "auto_pad", NULL};
    if (onnx_check_attrs(c->node, c->opset, attrs, c->d) || check_outputs(c, 1))
        return -1;
    const Value *x = data_input(c, 0, true);
    const OnnxTensor *w = x ? const_input(c, 1, 4, true) : NULL;
    const OnnxTensor *b = w && has_input(c, 2) ? const_input(c, 2, 1, true) : NULL;
    if (!w || (has_input(c, 2) && !b) || need_map(c, x, "Conv"))
        return -1;
    const long M = w->dims[0], Cg = w->dims[1];
    if (w->dims[2] != w->dims[3])
        return fail(c, "kernel %lldx%lld: lenetc's kernels are square", (long long)w->dims[2],
                    (long long)w->dims[3]);
    int k, s, pad[4];
    if (window(c, w->dims[2], &k, &s) || padding(c, x, k, s, pad))
        return -1;
    if (k != w->dims[2])
        return fail(c, "kernel_shape %d does not match the weight's %lld", k,
                    (long long)w->dims[2]);
    int64_t group = 1;
    if (onnx_get_int(c->node, c->opset, "group", &group, c->d))
        return -1;
    const int C = x->s.c;
    const bool depthwise = group > 1 && group == C;
    if (M < 1 || M > MAX_DIM)
        return fail(c, "%ld filters: lenetc takes 1 to %d", M, MAX_DIM);
    if (group != 1 && !depthwise)
        return fail(c, "group %lld of %d channels: lenetc maps groups of 1 or of every channel "
                       "(a depthwise convolution)", (long long)group, C);
    if (depthwise ? (Cg != 1 || M % C || M / C > 64) : Cg != C)
        return fail(c, "weight [%ld, %ld, %d, %d] does not fit an input of %d channels in %lld "
                       "groups", M, Cg, k, k, C, (long long)group);
    if (b && b->dims[0] != M)
        return fail(c, "bias of %lld values for %ld filters", (long long)b->dims[0], M);
    char key[16];
    const Shape unpadded = {C, x->s.h, x->s.w, false};
    if (padding_key(c, unpadded, k, s, pad, key))
        return -1;
    const int oh = out_size(x->s.h, k, s, pad[0], pad[2]);
    const int ow = out_size(x->s.w, k, s, pad[1], pad[3]);
    if (oh < 1 || ow < 1)
        return fail(c, "kernel %d is larger than its %dx%d input", k, x->s.h, x->s.w);
    char hint[MAX_NAME];
    const int li = new_layer(c, depthwise ? "depthwise_conv" : "conv",
                             module_of(c->node->input[1], hint), "conv");
    if (li < 0)
        return -1;
    ImpLayer *l = &c->layers[li];
    l->fuses = true;
    if (depthwise)
        sb_printf(&l->keys, ", kernel: %d", k);
    else
        sb_printf(&l->keys, ", filters: %ld, kernel: %d", M, k);
    if (s != 1)
        sb_printf(&l->keys, ", stride: %d", s);
    if (strcmp(key, "0"))
        sb_printf(&l->keys, ", padding: %s", key);
    if (depthwise && M / C != 1)
        sb_printf(&l->keys, ", multiplier: %ld", M / C);
    if (!b)
        sb_puts(&l->keys, ", use_bias: false");
    reads(c, li, x);
    const int wt = add_tensor(c, li, "weight", w->n);
    if (wt < 0)
        return -1;
    memcpy(c->im->tensors[wt].data, w->f, (size_t)w->n * sizeof(float));
    if (b) {
        const int bt = add_tensor(c, li, "bias", M);
        if (bt < 0)
            return -1;
        memcpy(c->im->tensors[bt].data, b->f, (size_t)M * sizeof(float));
        c->layers[li].bias = bt;
        c->layers[li].units = (int)M;
    }
    return give(c, 0, li, (Shape){(int)M, oh, ow, false}, 4);
}

static int op_pool(Ctx *c, bool max) {
    static const char *const max_attrs[] = {"kernel_shape", "strides", "pads", "auto_pad",
                                            "ceil_mode", "dilations", "storage_order", NULL};
    static const char *const avg_attrs[] = {"kernel_shape", "strides", "pads", "auto_pad",
                                            "ceil_mode", "count_include_pad", NULL};
    if (onnx_check_attrs(c->node, c->opset, max ? max_attrs : avg_attrs, c->d) ||
        check_outputs(c, 1))
        return -1;
    const Value *x = data_input(c, 0, !max);
    int k, s, pad[4];
    int64_t ceil_mode = 0, include = 0, order = 0;
    if (!x || need_map(c, x, max ? "MaxPool" : "AveragePool") || window(c, 0, &k, &s) ||
        padding(c, x, k, s, pad) ||
        onnx_get_int(c->node, c->opset, "ceil_mode", &ceil_mode, c->d) ||
        onnx_get_int(c->node, c->opset, "count_include_pad", &include, c->d) ||
        onnx_get_int(c->node, c->opset, "storage_order", &order, c->d))
        return -1;
    const bool padded = pad[0] || pad[1] || pad[2] || pad[3];
    const int H = x->s.h, W = x->s.w;
    const int oh = out_size(H, k, s, pad[0], pad[2]), ow = out_size(W, k, s, pad[1], pad[3]);
    if (oh < 1 || ow < 1)
        return fail(c, "window %d is larger than its %dx%d input", k, H, W);
    /* ceil_mode gives the same windows when they fit exactly */
    if (ceil_mode && ((H + pad[0] + pad[2] - k) % s || (W + pad[1] + pad[3] - k) % s))
        return fail(c, "ceil_mode 1 with windows that overhang: lenetc's pooling floors");
    if (order)
        return fail(c, "storage_order %lld: lenetc stores rows first", (long long)order);
    if (padded && max)
        return fail(c, "padding [%d, %d, %d, %d]: lenetc's maxpool has no padding", pad[0],
                    pad[1], pad[2], pad[3]);
    /* pads the average does not count: lenetc cannot map them */
    const bool attr_pads = x->kind != V_PADDED ||
                           memcmp(pad, x->pad, sizeof x->pad) != 0;
    if (padded && attr_pads && !include)
        return fail(c, "padding with count_include_pad 0: lenetc cannot map an average over "
                       "a window's part inside the input");
    char key[16] = "0";
    if (padded && padding_key(c, (Shape){x->s.c, H, W, false}, k, s, pad, key))
        return -1;
    /* zero padding, then the mean of k x k: a depthwise convolution whose
     * weights are all 1/k^2 (lenetc's pooling has no padding) */
    const int li = new_layer(c, padded ? "depthwise_conv" : max ? "maxpool" : "avgpool", NULL,
                             max ? "pool" : "avgpool");
    if (li < 0)
        return -1;
    ImpLayer *l = &c->layers[li];
    if (padded) {
        sb_printf(&l->keys, ", kernel: %d", k);
        if (s != 1)
            sb_printf(&l->keys, ", stride: %d", s);
        sb_printf(&l->keys, ", padding: %s, use_bias: false", key);
        const int wt = add_tensor(c, li, "weight", (long)x->s.c * k * k);
        if (wt < 0)
            return -1;
        for (long i = 0; i < c->im->tensors[wt].n; i++)
            c->im->tensors[wt].data[i] = 1.0f / (float)(k * k);
    } else {
        sb_printf(&l->keys, ", size: %d", k);
        if (s != k)
            sb_printf(&l->keys, ", stride: %d", s);
    }
    reads(c, li, x);
    return give(c, 0, li, (Shape){x->s.c, oh, ow, false}, 4);
}

static int op_global_avgpool(Ctx *c) {
    static const char *const attrs[] = {NULL};
    if (onnx_check_attrs(c->node, c->opset, attrs, c->d) || check_outputs(c, 1))
        return -1;
    const Value *x = data_input(c, 0, false);
    if (!x || need_map(c, x, "GlobalAveragePool"))
        return -1;
    const int li = new_layer(c, "global_avgpool", NULL, "pool");
    if (li < 0)
        return -1;
    reads(c, li, x);
    /* [N, C, 1, 1] in ONNX: lenetc's vector of C, the same values */
    return give(c, 0, li, (Shape){x->s.c, 1, 1, true}, 4);
}

/* Relu, Tanh, Sigmoid, LeakyRelu: their own layer, or (lenetc's export
 * names a fused one "LAYER/relu") the activation of the conv or dense
 * whose only reader it is. */
static int op_activation(Ctx *c, const char *kind) {
    static const char *const attrs[] = {NULL};
    static const char *const leaky_attrs[] = {"alpha", NULL};
    const bool leaky = !strcmp(kind, "leaky_relu");
    float alpha = 0.01f;
    if (onnx_check_attrs(c->node, c->opset, leaky ? leaky_attrs : attrs, c->d) ||
        check_outputs(c, 1) || onnx_get_float(c->node, c->opset, "alpha", &alpha, c->d))
        return -1;
    if (!(alpha >= 0.0f && alpha <= 1.0f))
        return fail(c, "alpha %g: lenetc's leaky_relu takes 0 to 1", alpha);
    const Value *x = data_input(c, 0, false);
    if (!x)
        return -1;
    char a[32];
    const char *nm = c->node->name ? c->node->name : "";
    const char *slash = strrchr(nm, '/');
    if (x->layer >= 0 && slash && !strcmp(slash + 1, kind) && users(c, x->name) == 1 &&
        !is_graph_output(c, x->name)) {
        ImpLayer *l = &c->layers[x->layer];
        if (l->fuses && !l->has_act && (size_t)(slash - nm) == strlen(l->name) &&
            !strncmp(nm, l->name, strlen(l->name))) {
            l->has_act = true;
            sb_printf(&l->keys, ", activation: %s", kind);
            if (leaky)
                sb_printf(&l->keys, ", alpha: %s", real(alpha, a));
            also_from(c, x->layer);
            return give(c, 0, x->layer, x->s, x->rank);
        }
    }
    const int li = new_layer(c, kind, NULL, kind);
    if (li < 0)
        return -1;
    if (leaky)
        sb_printf(&c->layers[li].keys, ", alpha: %s", real(alpha, a));
    reads(c, li, x);
    return give(c, 0, li, x->s, x->rank);
}

static int op_batchnorm(Ctx *c) {
    static const char *const attrs[] = {"epsilon", "momentum", "training_mode", "spatial",
                                        "is_test", NULL};
    float eps = 1e-5f, momentum = 0.9f;
    int64_t training = 0, spatial = 1;
    if (onnx_check_attrs(c->node, c->opset, attrs, c->d) || check_outputs(c, 1) ||
        onnx_get_float(c->node, c->opset, "epsilon", &eps, c->d) ||
        onnx_get_float(c->node, c->opset, "momentum", &momentum, c->d) ||
        onnx_get_int(c->node, c->opset, "training_mode", &training, c->d) ||
        onnx_get_int(c->node, c->opset, "spatial", &spatial, c->d))
        return -1;
    if (training)
        return fail(c, "training_mode 1: lenetc imports the inference form");
    if (!spatial)
        return fail(c, "spatial 0: lenetc normalises per channel");
    if (!(eps >= 1e-12f && eps <= 1.0f))
        return fail(c, "epsilon %g: lenetc takes 1e-12 to 1", eps);
    if (!(momentum >= 0.0f && momentum <= 0.999999f))
        return fail(c, "momentum %g: lenetc takes 0 to 0.999999", momentum);
    const Value *x = data_input(c, 0, false);
    if (!x)
        return -1;
    const OnnxTensor *t[4];
    for (int k = 0; k < 4; k++)
        if (!(t[k] = const_input(c, k + 1, 1, true)))
            return -1;
        else if (t[k]->n != x->s.c)
            return fail(c, "input %d has %ld values for %d channels", k + 1, t[k]->n, x->s.c);
    const int li = new_layer(c, "batchnorm", NULL, "bn");
    if (li < 0)
        return -1;
    char a[32], b[32];
    sb_printf(&c->layers[li].keys, ", momentum: %s, eps: %s", real(momentum, a), real(eps, b));
    reads(c, li, x);
    static const char *const names[] = {"weight", "bias", "running_mean", "running_var"};
    for (int k = 0; k < 4; k++) {
        const int ti = add_tensor(c, li, names[k], t[k]->n);
        if (ti < 0)
            return -1;
        memcpy(c->im->tensors[ti].data, t[k]->f, (size_t)t[k]->n * sizeof(float));
    }
    /* the steps counted, an initializer no node reads (lenetc's export,
     * as a float; torch's state_dict, an int64) beside the module's weight */
    char module[MAX_NAME], steps[2 * MAX_NAME];
    const Value *v = NULL;
    if (module_of(c->node->input[1], module)) {
        snprintf(steps, sizeof steps, "%s.num_batches_tracked", module);
        v = find(c, steps);
    }
    if (v && v->kind == V_CONST && v->t.n == 1) {
        const int ti = add_tensor(c, li, "num_batches_tracked", 1);
        if (ti < 0)
            return -1;
        c->im->tensors[ti].data[0] = v->t.f ? v->t.f[0] : (float)v->t.i[0];
    }
    return give(c, 0, li, x->s, x->rank);
}

static int op_dropout(Ctx *c) {
    static const char *const attrs[] = {"ratio", "seed", "is_test", NULL};
    float ratio = 0.5f;
    if (onnx_check_attrs(c->node, c->opset, attrs, c->d) || check_outputs(c, 1) ||
        onnx_get_float(c->node, c->opset, "ratio", &ratio, c->d))
        return -1;
    if (has_input(c, 1)) {
        const OnnxTensor *r = const_input(c, 1, -1, true);
        if (!r)
            return -1;
        if (r->n != 1)
            return fail(c, "ratio has %ld values, not 1", r->n);
        ratio = r->f[0];
    }
    if (has_input(c, 2))
        return fail(c, "a training_mode input: lenetc imports the inference form");
    if (!(ratio >= 0.0f && ratio <= 0.99f))
        return fail(c, "ratio %g: lenetc's dropout takes 0 to 0.99", ratio);
    const Value *x = data_input(c, 0, false);
    if (!x)
        return -1;
    const int li = new_layer(c, "dropout", NULL, "dropout");
    if (li < 0)
        return -1;
    char a[32];
    sb_printf(&c->layers[li].keys, ", rate: %s", real(ratio, a));
    reads(c, li, x);
    return give(c, 0, li, x->s, x->rank);
}

/* x as a vector: a flatten layer, or x itself if it is one already */
static int flatten(Ctx *c, const Value *x) {
    if (x->s.flat)
        return give(c, 0, x->layer, x->s, 2);
    const int li = new_layer(c, "flatten", NULL, "flatten");
    if (li < 0)
        return -1;
    reads(c, li, x);
    return give(c, 0, li, (Shape){(int)shape_size(x->s), 1, 1, true}, 2);
}

static int op_flatten(Ctx *c) {
    static const char *const attrs[] = {"axis", NULL};
    int64_t axis = 1;
    if (onnx_check_attrs(c->node, c->opset, attrs, c->d) || check_outputs(c, 1) ||
        onnx_get_int(c->node, c->opset, "axis", &axis, c->d))
        return -1;
    const Value *x = data_input(c, 0, false);
    if (!x)
        return -1;
    if (axis < 0)
        axis += x->rank;
    if (axis != 1)
        return fail(c, "axis %lld: lenetc flattens each sample (axis 1)", (long long)axis);
    return flatten(c, x);
}

/* Reshape to [N, features]: torch's x.view(x.size(0), -1) */
static int op_reshape(Ctx *c) {
    static const char *const attrs[] = {"allowzero", NULL};
    int64_t allowzero = 0;
    if (onnx_check_attrs(c->node, c->opset, attrs, c->d) || check_outputs(c, 1) ||
        onnx_get_int(c->node, c->opset, "allowzero", &allowzero, c->d))
        return -1;
    const Value *x = data_input(c, 0, false);
    const Value *sv = x ? input(c, 1) : NULL;
    if (!sv)
        return -1;
    if (sv->kind != V_CONST || !sv->t.i || sv->t.ndim != 1 || (sv->sym && sv->sym != 1))
        return fail(c, "its shape must be int64 [2] and constant, or [N, ...] of the batch");
    const long f = shape_size(x->s);
    const int64_t *v = sv->t.n == 2 ? sv->t.i : NULL;
    /* the batch: the input's (0 copied, or torch's x.size(0)), -1 (inferred)
     * or a number with the features given; the features: f or -1 */
    const bool batch = v && (sv->sym == 1 || (v[0] == 0 && !allowzero));
    if (!v || !(v[1] == f || (v[1] == -1 && (batch || v[0] == 1))) || (!batch && v[0] < -1) ||
        (!batch && v[0] == 0))
        return fail(c, "a reshape to [%s]: lenetc maps only a reshape of each sample to a "
                       "vector ([N, %ld])",
                    sv->t.n == 2 ? "two values that are no [N, features]" : "not 2 values", f);
    return flatten(c, x);
}

/* torch's x.view(x.size(0), -1) with a dynamic batch: Shape, Gather,
 * Unsqueeze and Concat of int64 constants, computed here, the batch kept
 * as a mark (sym) for the Reshape they feed. */
static Value *int_result(Ctx *c, long n, int ndim) {
    Value *v = add_value(c, c->node->output[0]);
    if (!v)
        return NULL;
    v->kind = V_CONST;
    v->owns = true;
    v->t.ndim = ndim;
    v->t.dims[0] = n;
    v->t.n = n;
    if (!(v->t.i = calloc((size_t)(n ? n : 1), sizeof *v->t.i))) {
        fail(c, "out of memory");
        return NULL;
    }
    return v;
}

/* Input k as an int64 constant (of a Shape, too) of at most max values */
static Value *int_input(Ctx *c, int k, long max) {
    Value *v = input(c, k);
    if (!v)
        return NULL;
    if (v->kind != V_CONST || !v->t.i || v->t.ndim > 1 || v->t.n > max) {
        char b[48];
        fail(c, "input %d ('%s') must be an int64 constant of at most %ld values", k,
             onnx_printable(v->name, b), max);
        return NULL;
    }
    return v;
}

static int op_shape(Ctx *c) {
    static const char *const attrs[] = {NULL};
    if (onnx_check_attrs(c->node, c->opset, attrs, c->d) || check_outputs(c, 1))
        return -1;
    const Value *x = data_input(c, 0, false);
    if (!x)
        return -1;
    const int rank = x->rank;
    const long dims[4] = {0, x->s.c, x->s.h, x->s.w};
    const Shape s = x->s;
    Value *v = int_result(c, rank, 1);
    if (!v)
        return -1;
    for (int i = 1; i < rank; i++)
        v->t.i[i] = dims[i];
    if (rank == 2)
        v->t.i[1] = shape_size(s);
    v->sym = 1; /* [0] is the batch */
    return 0;
}

static int op_gather(Ctx *c) {
    static const char *const attrs[] = {"axis", NULL};
    int64_t axis = 0;
    if (onnx_check_attrs(c->node, c->opset, attrs, c->d) || check_outputs(c, 1) ||
        onnx_get_int(c->node, c->opset, "axis", &axis, c->d))
        return -1;
    const Value *data = int_input(c, 0, ONNX_MAX_RANK), *idx = data ? int_input(c, 1, 1) : NULL;
    if (!idx)
        return -1;
    if (axis != 0 || idx->t.n != 1)
        return fail(c, "lenetc computes a Gather of one value of a shape only");
    const long n = data->t.n;
    int64_t k = idx->t.i[0];
    if (k < 0)
        k += n;
    if (k < 0 || k >= n)
        return fail(c, "index %lld of %ld values", (long long)idx->t.i[0], n);
    const int sym = data->sym && data->sym - 1 == k;
    const int64_t value = data->t.i[k];
    const int ndim = idx->t.ndim;
    Value *v = int_result(c, 1, ndim);
    if (!v)
        return -1;
    v->t.i[0] = value;
    v->sym = sym;
    return 0;
}

static int op_unsqueeze(Ctx *c) {
    static const char *const attrs[] = {"axes", NULL};
    int64_t axes[ONNX_MAX_RANK] = {0};
    int na = 0;
    if (onnx_check_attrs(c->node, c->opset, attrs, c->d) || check_outputs(c, 1) ||
        onnx_get_ints(c->node, c->opset, "axes", axes, ONNX_MAX_RANK, &na, c->d))
        return -1;
    const Value *x = int_input(c, 0, 1);
    if (!x)
        return -1;
    if (c->opset >= 13) {
        const Value *a = int_input(c, 1, ONNX_MAX_RANK);
        if (!a)
            return -1;
        na = (int)a->t.n;
        memcpy(axes, a->t.i, (size_t)na * sizeof *axes);
    }
    if (x->t.ndim != 0 || na != 1 || (axes[0] != 0 && axes[0] != -1))
        return fail(c, "lenetc computes an Unsqueeze of a scalar to [1] only");
    const int64_t value = x->t.i[0];
    const int sym = x->sym;
    Value *v = int_result(c, 1, 1);
    if (!v)
        return -1;
    v->t.i[0] = value;
    v->sym = sym;
    return 0;
}

/* Concat of int64 constants (a shape being built) */
static int concat_ints(Ctx *c) {
    long n = 0;
    for (size_t k = 0; k < c->node->n_input; k++) {
        const Value *x = int_input(c, (int)k, ONNX_MAX_RANK);
        if (!x)
            return -1;
        if (x->t.ndim != 1)
            return fail(c, "lenetc concatenates int64 vectors only");
        n += x->t.n;
    }
    if (n > ONNX_MAX_RANK)
        return fail(c, "a shape of %ld values", n);
    int64_t all[ONNX_MAX_RANK];
    int sym = 0;
    long at = 0;
    for (size_t k = 0; k < c->node->n_input; k++) {
        const Value *x = find(c, c->node->input[k]);
        if (x->sym && !sym)
            sym = (int)at + x->sym;
        for (long i = 0; i < x->t.n; i++)
            all[at++] = x->t.i[i];
    }
    Value *v = int_result(c, n, 1);
    if (!v)
        return -1;
    memcpy(v->t.i, all, (size_t)n * sizeof *all);
    v->sym = sym;
    return 0;
}

/* A dense layer of units outputs from x (flattened first where ONNX sees
 * a matrix that lenetc keeps as C x 1 x 1): its index; *wt its weight to
 * fill, its bias zeros. */
static int dense(Ctx *c, const Value *x, long units, int *wt) {
    if (x->rank != 2)
        return fail(c, "it takes a matrix [N, features], but gets a tensor of rank %d", x->rank);
    if (units < 1 || units > MAX_DIM)
        return fail(c, "%ld units: lenetc takes 1 to %d", units, MAX_DIM);
    Value flat = *x;
    if (!x->s.flat) {
        const int fl = new_layer(c, "flatten", "flatten", "flatten");
        if (fl < 0)
            return -1;
        reads(c, fl, x);
        flat.layer = fl;
        flat.s = (Shape){(int)shape_size(x->s), 1, 1, true};
    }
    char hint[MAX_NAME];
    const int li = new_layer(c, "dense", module_of(c->node->input[1], hint), "dense");
    if (li < 0)
        return -1;
    ImpLayer *l = &c->layers[li];
    l->fuses = true;
    sb_printf(&l->keys, ", units: %ld", units);
    reads(c, li, &flat);
    if ((*wt = add_tensor(c, li, "weight", units * shape_size(flat.s))) < 0)
        return -1;
    const int bt = add_tensor(c, li, "bias", units);
    if (bt < 0)
        return -1;
    c->layers[li].bias = bt;
    c->layers[li].units = (int)units;
    return li;
}

static int op_gemm(Ctx *c) {
    static const char *const attrs[] = {"alpha", "beta", "transA", "transB", NULL};
    float alpha = 1.0f, beta = 1.0f;
    int64_t ta = 0, tb = 0;
    if (onnx_check_attrs(c->node, c->opset, attrs, c->d) || check_outputs(c, 1) ||
        onnx_get_float(c->node, c->opset, "alpha", &alpha, c->d) ||
        onnx_get_float(c->node, c->opset, "beta", &beta, c->d) ||
        onnx_get_int(c->node, c->opset, "transA", &ta, c->d) ||
        onnx_get_int(c->node, c->opset, "transB", &tb, c->d))
        return -1;
    if (ta)
        return fail(c, "transA 1: lenetc's dense reads each sample as a row");
    if (!isfinite(alpha) || !isfinite(beta))
        return fail(c, "alpha and beta must be finite");
    const Value *x = data_input(c, 0, false);
    const OnnxTensor *b = x ? const_input(c, 1, 2, true) : NULL;
    const OnnxTensor *bias = b && has_input(c, 2) ? const_input(c, 2, -1, true) : NULL;
    if (!b || (has_input(c, 2) && !bias))
        return -1;
    const long K = tb ? b->dims[1] : b->dims[0], N = tb ? b->dims[0] : b->dims[1];
    const long f = shape_size(x->s);
    if (K != f)
        return fail(c, "B is [%lld, %lld] (transB %lld) for %ld input features",
                    (long long)b->dims[0], (long long)b->dims[1], (long long)tb, f);
    if (bias && bias->n != 1 && bias->n != N)
        return fail(c, "C has %ld values: lenetc maps a bias of 1 or %ld (one per output), the "
                       "same for every sample", bias->n, N);
    int wt;
    const int li = dense(c, x, N, &wt);
    if (li < 0)
        return -1;
    float *w = c->im->tensors[wt].data, *bv = c->im->tensors[c->layers[li].bias].data;
    for (long n = 0; n < N; n++) {
        for (long k = 0; k < K; k++)
            w[n * K + k] = alpha * (tb ? b->f[n * K + k] : b->f[k * N + n]);
        if (bias)
            bv[n] = beta * bias->f[bias->n == 1 ? 0 : n];
    }
    return give(c, 0, li, (Shape){(int)N, 1, 1, true}, 2);
}

/* MatMul by a constant [K, N]: a dense layer whose bias an Add after it
 * may give (torch writes Linear so in some versions) */
static int op_matmul(Ctx *c) {
    static const char *const attrs[] = {NULL};
    if (onnx_check_attrs(c->node, c->opset, attrs, c->d) || check_outputs(c, 1))
        return -1;
    const Value *x = data_input(c, 0, false);
    const OnnxTensor *b = x ? const_input(c, 1, 2, true) : NULL;
    if (!b)
        return -1;
    const long K = b->dims[0], N = b->dims[1], f = shape_size(x->s);
    if (K != f)
        return fail(c, "B is [%ld, %ld] for %ld input features", K, N, f);
    int wt;
    const int li = dense(c, x, N, &wt);
    if (li < 0)
        return -1;
    float *w = c->im->tensors[wt].data;
    for (long n = 0; n < N; n++)
        for (long k = 0; k < K; k++)
            w[n * K + k] = b->f[k * N + n];
    c->layers[li].open_bias = true;
    return give(c, 0, li, (Shape){(int)N, 1, 1, true}, 2);
}

/* Add of two layers' outputs: an add layer; of a constant: the bias of
 * the conv or dense whose only reader it is */
static int op_add(Ctx *c) {
    static const char *const attrs[] = {NULL};
    if (onnx_check_attrs(c->node, c->opset, attrs, c->d) || check_outputs(c, 1))
        return -1;
    Value *a = input(c, 0), *b = a ? input(c, 1) : NULL;
    if (!b)
        return -1;
    if (a->kind == V_CONST && b->kind != V_CONST) {
        Value *t = a;
        a = b;
        b = t;
    }
    char n1[48], n2[48];
    if (a->kind == V_PADDED || b->kind == V_PADDED || a->kind == V_CONST)
        return fail(c, "it adds '%s' and '%s': lenetc adds layers' outputs, or a bias",
                    onnx_printable(a->name, n1), onnx_printable(b->name, n2));
    if (b->kind == V_CONST) {
        ImpLayer *l = a->layer >= 0 ? &c->layers[a->layer] : NULL;
        const bool conv = l && (!strcmp(l->kind, "conv") || !strcmp(l->kind, "depthwise_conv"));
        /* a conv's per-channel constant is [C, 1, 1] (or [1, C, 1, 1]) */
        const bool shaped = b->t.f && b->t.n == (l ? l->units : -1) &&
                            (conv ? b->t.ndim >= 3 && b->t.dims[b->t.ndim - 1] == 1 &&
                                        b->t.dims[b->t.ndim - 2] == 1
                                  : b->t.ndim >= 1 && b->t.ndim <= 2);
        if (!l || !(l->open_bias || (conv && l->bias >= 0)) || l->has_act || !shaped ||
            users(c, a->name) != 1 || is_graph_output(c, a->name))
            return fail(c, "it adds the constant '%s' to '%s', which is no conv's or dense's "
                           "output read only here with a bias of that shape: lenetc cannot "
                           "map it", onnx_printable(b->name, n2), onnx_printable(a->name, n1));
        float *bias = c->im->tensors[l->bias].data;
        for (long i = 0; i < b->t.n; i++)
            bias[i] += b->t.f[i];
        l->open_bias = false;
        also_from(c, a->layer);
        return give(c, 0, a->layer, a->s, a->rank);
    }
    if (a->s.c != b->s.c || a->s.h != b->s.h || a->s.w != b->s.w || a->s.flat != b->s.flat)
        return fail(c, "it adds '%s' and '%s' of different shapes: lenetc's add does not "
                       "broadcast", onnx_printable(a->name, n1), onnx_printable(b->name, n2));
    const int li = new_layer(c, "add", NULL, "add");
    if (li < 0)
        return -1;
    c->layers[li].merge = true;
    reads(c, li, a);
    reads(c, li, b);
    return give(c, 0, li, a->s, a->rank);
}

/* Sum of layers' outputs (lenetc's export writes an add of three so) */
static int op_sum(Ctx *c) {
    static const char *const attrs[] = {NULL};
    if (onnx_check_attrs(c->node, c->opset, attrs, c->d) || check_outputs(c, 1))
        return -1;
    const size_t n = c->node->n_input;
    if (n < 2 || n > MAX_INPUTS)
        return fail(c, "%zu inputs: lenetc's add takes 2 to %d", n, MAX_INPUTS);
    const Value *first = data_input(c, 0, false);
    if (!first)
        return -1;
    const int li = new_layer(c, "add", NULL, "add");
    if (li < 0)
        return -1;
    c->layers[li].merge = true;
    for (size_t k = 0; k < n; k++) {
        const Value *x = data_input(c, (int)k, false);
        if (!x)
            return -1;
        if (x->s.c != first->s.c || x->s.h != first->s.h || x->s.w != first->s.w ||
            x->s.flat != first->s.flat)
            return fail(c, "its inputs differ in shape: lenetc's add does not broadcast");
        reads(c, li, x);
    }
    return give(c, 0, li, first->s, first->rank);
}

static int op_concat(Ctx *c) {
    static const char *const attrs[] = {"axis", NULL};
    int64_t axis = 1;
    if (onnx_check_attrs(c->node, c->opset, attrs, c->d) || check_outputs(c, 1) ||
        onnx_get_int(c->node, c->opset, "axis", &axis, c->d))
        return -1;
    const size_t n = c->node->n_input;
    if (n < 2 || n > MAX_INPUTS)
        return fail(c, "%zu inputs: lenetc's concat takes 2 to %d", n, MAX_INPUTS);
    const Value *v0 = input(c, 0);
    if (v0 && v0->kind == V_CONST && v0->t.i) {
        if (axis != 0 && axis != -1)
            return fail(c, "axis %lld of int64 vectors", (long long)axis);
        return concat_ints(c);
    }
    const Value *first = data_input(c, 0, false);
    if (!first)
        return -1;
    if (axis < 0)
        axis += first->rank;
    if (axis != 1)
        return fail(c, "axis %lld: lenetc concatenates channels (axis 1)", (long long)axis);
    const int li = new_layer(c, "concat", NULL, "concat");
    if (li < 0)
        return -1;
    c->layers[li].merge = true;
    long channels = 0;
    for (size_t k = 0; k < n; k++) {
        const Value *x = data_input(c, (int)k, false);
        if (!x)
            return -1;
        if (x->rank != first->rank || x->s.h != first->s.h || x->s.w != first->s.w ||
            x->s.flat != first->s.flat)
            return fail(c, "its inputs differ in rank, height or width");
        channels += x->s.c;
        reads(c, li, x);
    }
    return give(c, 0, li, (Shape){(int)channels, first->s.h, first->s.w, first->s.flat},
                first->rank);
}

/* Pad with zeros of H and W: a padded value, for the Conv or AveragePool after */
static int op_pad(Ctx *c) {
    static const char *const attrs[] = {"mode", "pads", "value", NULL};
    char mode[32] = "constant";
    float value = 0.0f;
    int64_t p[2 * ONNX_MAX_RANK] = {0};
    int np = -1;
    if (onnx_check_attrs(c->node, c->opset, attrs, c->d) || check_outputs(c, 1) ||
        onnx_get_string(c->node, c->opset, "mode", mode, sizeof mode, c->d) ||
        onnx_get_float(c->node, c->opset, "value", &value, c->d) ||
        onnx_get_ints(c->node, c->opset, "pads", p, 2 * ONNX_MAX_RANK, &np, c->d))
        return -1;
    Value *x = data_input(c, 0, true);
    if (!x)
        return -1;
    if (c->opset >= 11) {
        const OnnxTensor *t = const_input(c, 1, 1, false);
        if (!t)
            return -1;
        if (t->n > 2 * ONNX_MAX_RANK)
            return fail(c, "pads has %ld values", t->n);
        np = (int)t->n;
        memcpy(p, t->i, (size_t)np * sizeof *p);
        if (has_input(c, 2)) {
            const OnnxTensor *v = const_input(c, 2, -1, true);
            if (!v)
                return -1;
            value = v->n == 1 ? v->f[0] : NAN;
        }
        if (has_input(c, 3))
            return fail(c, "an axes input: lenetc pads height and width, by pads alone");
    }
    if (strcmp(mode, "constant") || value != 0.0f) {
        char b[48];
        return fail(c, "mode '%s' value %g: lenetc pads only with zeros", onnx_printable(mode, b),
                    value);
    }
    if (need_map(c, x, "Pad"))
        return -1;
    if (np != 8 || p[0] || p[1] || p[4] || p[5])
        return fail(c, "pads must be 8 values that pad only height and width");
    for (int i = 0; i < 8; i++)
        if (p[i] < 0 || p[i] > 64)
            return fail(c, "pads of %lld: lenetc takes 0 to 64", (long long)p[i]);
    Value *v = add_value(c, c->node->output[0]);
    if (!v)
        return -1;
    x = find(c, c->node->input[0]); /* add_value may have moved it */
    /* s stays the unpadded input's, which Conv and AveragePool read with pad */
    *v = (Value){.name = c->node->output[0], .kind = V_PADDED, .layer = x->layer, .rank = 4,
                 .s = x->s, .pad = {(int)p[2], (int)p[3], (int)p[6], (int)p[7]}};
    if (x->kind == V_PADDED) /* a Pad of a Pad: both */
        for (int i = 0; i < 4; i++)
            v->pad[i] += x->pad[i];
    return 0;
}

static int op_constant(Ctx *c) {
    static const char *const attrs[] = {"value", "value_float", "value_floats", "value_int",
                                        "value_ints", NULL};
    if (onnx_check_attrs(c->node, c->opset, attrs, c->d) || check_outputs(c, 1))
        return -1;
    if (c->node->n_attribute != 1)
        return fail(c, "a Constant takes exactly one attribute");
    const Onnx__AttributeProto *a = c->node->attribute[0];
    OnnxTensor t = {0};
    char what[200];
    onnx_node_str(c->node, c->opset, what);
    switch (a->type) {
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR:
        if (!a->t)
            return fail(c, "its value holds no tensor");
        if (onnx_decode(a->t, what, &t, c->d))
            return -1;
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT:
        t.n = 1;
        if (a->type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT &&
            (t.f = malloc(sizeof *t.f)))
            t.f[0] = a->f;
        else if (a->type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT &&
                 (t.i = malloc(sizeof *t.i)))
            t.i[0] = a->i;
        else
            return fail(c, "out of memory");
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS: {
        const bool fl = a->type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS;
        const size_t n = fl ? a->n_floats : a->n_ints;
        if (n > MAX_TENSOR)
            return fail(c, "%zu values", n);
        t.ndim = 1;
        t.dims[0] = (int64_t)n;
        t.n = (long)n;
        void *buf = malloc((n ? n : 1) * 8);
        if (!buf)
            return fail(c, "out of memory");
        if (n)
            memcpy(buf, fl ? (void *)a->floats : (void *)a->ints, n * (fl ? 4 : 8));
        if (fl)
            t.f = buf;
        else
            t.i = buf;
        break;
    }
    default:
        return fail(c, "its attribute must be a tensor or numbers");
    }
    const bool ok = (strcmp(a->name, "value_float") && strcmp(a->name, "value_int")) ||
                    a->type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT ||
                    a->type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    Value *v = ok ? add_value(c, c->node->output[0]) : NULL;
    if (!v) {
        onnx_decode_free(&t);
        return ok ? -1 : fail(c, "attribute '%s' has the wrong type", a->name);
    }
    v->kind = V_CONST;
    v->t = t;
    v->owns = true;
    return 0;
}

/* Identity and a final Softmax: the output is the input */
static int alias(Ctx *c) {
    Value *x = input(c, 0);
    if (!x)
        return -1;
    Value *v = add_value(c, c->node->output[0]);
    if (!v)
        return -1;
    x = find(c, c->node->input[0]);
    const char *name = v->name;
    *v = *x;
    v->name = name;
    v->owns = false;
    return 0;
}

static int op_identity(Ctx *c) {
    static const char *const attrs[] = {NULL};
    return onnx_check_attrs(c->node, c->opset, attrs, c->d) || check_outputs(c, 1) ? -1
                                                                                    : alias(c);
}

static int op_softmax(Ctx *c) {
    static const char *const attrs[] = {"axis", NULL};
    if (onnx_check_attrs(c->node, c->opset, attrs, c->d) || check_outputs(c, 1))
        return -1;
    if (c->node->n_output < 1 || !is_graph_output(c, c->node->output[0]))
        return fail(c, "a Softmax that is not the graph's output: lenetc cannot map it");
    if (data_input(c, 0, false) == NULL)
        return -1;
    char nb[160];
    sb_printf(&c->im->notes, "dropped the final %s: lenetc's logits are its input\n",
              onnx_node_str(c->node, c->opset, nb));
    return alias(c);
}

/* lenetc's own export: input/pad, input/scale and input/shift are the
 * spec's input stage (lenetc.input gives its numbers), folded back into it */
static int op_input_stage(Ctx *c, const char *stage) {
    if (strcmp(stage, "pad") && strcmp(stage, "scale") && strcmp(stage, "shift"))
        return fail(c, "lenetc's input stage has input/pad, input/scale and input/shift only");
    const char *want = !strcmp(stage, "pad") ? "Pad" : !strcmp(stage, "scale") ? "Mul" : "Add";
    if (!c->node->op_type || strcmp(c->node->op_type, want))
        return fail(c, "lenetc's input stage 'input/%s' must be %s %s", stage,
                    want[0] == 'A' ? "an" : "a", want);
    const int step = !strcmp(stage, "pad") ? 1 : !strcmp(stage, "scale") ? 2 : 3;
    const Value *x = input(c, 0);
    if (!x)
        return -1;
    /* pad (when lenetc.input pads), then scale, then shift */
    if (x->kind != V_LAYER || x->layer != -1 || (c->pad && x->stage != step - 1) ||
        (!c->pad && x->stage != (step == 2 ? 0 : step - 1)))
        return fail(c, "lenetc's input stage must read the graph's input: input/pad (when it "
                       "pads), input/scale, input/shift in that order");
    if (strcmp(stage, "pad")) {
        const OnnxTensor *k = const_input(c, 1, -1, true);
        if (!k)
            return -1;
        const double expect = !strcmp(stage, "scale") ? (c->hi - c->lo) / 255.0 : c->lo;
        if (k->n != 1 || fabs(k->f[0] - expect) > 1e-6 * (1 + fabs(expect)))
            return fail(c, "it does not compute what lenetc.input says (%g %g %d)", c->lo, c->hi,
                        c->pad);
    } else if (c->pad == 0) {
        return fail(c, "lenetc.input pads by 0, but the graph has input/pad");
    } else {
        const OnnxTensor *p = const_input(c, 1, 1, false);
        if (!p)
            return -1;
        static const int at[8] = {0, 0, 1, 1, 0, 0, 1, 1};
        bool ok = p->n == 8;
        for (int i = 0; ok && i < 8; i++)
            ok = p->i[i] == at[i] * c->pad;
        if (!ok)
            return fail(c, "it does not pad by lenetc.input's %d", c->pad);
    }
    if (alias(c))
        return -1;
    c->values[c->n_values - 1].stage = step;
    return 0;
}

static int map_node(Ctx *c) {
    const char *op = c->node->op_type ? c->node->op_type : "";
    const char *nm = c->node->name ? c->node->name : "";
    if (c->node->domain && c->node->domain[0] && strcmp(c->node->domain, "ai.onnx")) {
        char b[48];
        return fail(c, "domain '%s': lenetc imports the default domain's ops",
                    onnx_printable(c->node->domain, b));
    }
    if (c->node->n_output < 1 || !c->node->output[0][0])
        return fail(c, "it has no output");
    if (c->lenetc_input && !strncmp(nm, "input/", 6))
        return op_input_stage(c, nm + 6);
    if (!strcmp(op, "Conv"))
        return op_conv(c);
    if (!strcmp(op, "MaxPool") || !strcmp(op, "AveragePool"))
        return op_pool(c, op[0] == 'M');
    if (!strcmp(op, "GlobalAveragePool"))
        return op_global_avgpool(c);
    if (!strcmp(op, "Relu"))
        return op_activation(c, "relu");
    if (!strcmp(op, "LeakyRelu"))
        return op_activation(c, "leaky_relu");
    if (!strcmp(op, "Tanh"))
        return op_activation(c, "tanh");
    if (!strcmp(op, "Sigmoid"))
        return op_activation(c, "sigmoid");
    if (!strcmp(op, "BatchNormalization"))
        return op_batchnorm(c);
    if (!strcmp(op, "Dropout"))
        return op_dropout(c);
    if (!strcmp(op, "Flatten"))
        return op_flatten(c);
    if (!strcmp(op, "Reshape"))
        return op_reshape(c);
    if (!strcmp(op, "Shape"))
        return op_shape(c);
    if (!strcmp(op, "Gather"))
        return op_gather(c);
    if (!strcmp(op, "Unsqueeze"))
        return op_unsqueeze(c);
    if (!strcmp(op, "Gemm"))
        return op_gemm(c);
    if (!strcmp(op, "MatMul"))
        return op_matmul(c);
    if (!strcmp(op, "Add"))
        return op_add(c);
    if (!strcmp(op, "Sum"))
        return op_sum(c);
    if (!strcmp(op, "Concat"))
        return op_concat(c);
    if (!strcmp(op, "Pad"))
        return op_pad(c);
    if (!strcmp(op, "Constant"))
        return op_constant(c);
    if (!strcmp(op, "Identity"))
        return op_identity(c);
    if (!strcmp(op, "Softmax"))
        return op_softmax(c);
    return fail(c, "lenetc cannot import this op (it imports Conv, MaxPool, AveragePool, "
                   "GlobalAveragePool, Relu, LeakyRelu, Tanh, Sigmoid, BatchNormalization, "
                   "Dropout, Flatten, Reshape (and the Shape, Gather, Unsqueeze and Concat "
                   "torch computes its shape with), Gemm, MatMul, Add, Sum, Concat, Pad, "
                   "Constant, Identity and a final Softmax)");
}

/* ---- the graph --------------------------------------------------------- */

static bool is_constant_name(const Ctx *c, const char *name) {
    for (size_t i = 0; i < c->g->n_initializer; i++)
        if (c->g->initializer[i]->name && !strcmp(c->g->initializer[i]->name, name))
            return true;
    for (int i = 0; i < c->o->n_extra; i++)
        if (!strcmp(c->o->extra[i].name, name))
            return true;
    return false;
}

/* Initializers and the options' extra constants as values. */
static int constants(Ctx *c) {
    char what[96], b[48];
    for (size_t i = 0; i < c->g->n_initializer; i++) {
        const Onnx__TensorProto *t = c->g->initializer[i];
        snprintf(what, sizeof what, "initializer '%s'", onnx_printable(t->name, b));
        if (!t->name || !t->name[0])
            return fail(c, "an initializer has no name");
        Value *v = add_value(c, t->name);
        if (!v || onnx_decode(t, what, &v->t, c->d))
            return -1;
        v->kind = V_CONST;
        v->owns = true;
    }
    for (int i = 0; i < c->o->n_extra; i++) {
        snprintf(what, sizeof what, "input '%s'", onnx_printable(c->o->extra[i].name, b));
        Value *v = add_value(c, c->o->extra[i].name);
        if (!v || onnx_decode(c->o->extra[i].t, what, &v->t, c->d))
            return -1;
        v->kind = V_CONST;
        v->owns = true;
    }
    return 0;
}

/* The one graph input that is no constant: float32 [N, C, H, W] (or
 * [N, F], [N, C, L]), N anything. */
static int graph_input(Ctx *c) {
    const Onnx__ValueInfoProto *in = NULL;
    for (size_t i = 0; i < c->g->n_input; i++) {
        const Onnx__ValueInfoProto *v = c->g->input[i];
        if (!v->name || !v->name[0])
            return fail(c, "a graph input has no name");
        if (is_constant_name(c, v->name))
            continue;
        if (in)
            return fail(c, "the graph has several inputs ('%s', '%s'...): lenetc's networks "
                           "take one image", in->name, v->name);
        in = v;
    }
    if (!in)
        return fail(c, "the graph has no input");
    char b[48];
    const char *nm = onnx_printable(in->name, b);
    const Onnx__TypeProto *tp = in->type;
    if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type ||
        !tp->tensor_type->shape)
        return fail(c, "input '%s' is not a tensor of known shape", nm);
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    if (!tt->has_elem_type || tt->elem_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
        return fail(c, "input '%s' is not float32", nm);
    const size_t rank = tt->shape->n_dim;
    if (rank < 2 || rank > 4)
        return fail(c, "input '%s' has rank %zu: lenetc maps [N, C, H, W], [N, C, L] and [N, F]",
                    nm, rank);
    int dims[4] = {1, 1, 1, 1};
    for (size_t k = 1; k < rank; k++) {
        const Onnx__TensorShapeProto__Dimension *dm = tt->shape->dim[k];
        if (dm->value_case != ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE ||
            dm->dim_value < 1 || dm->dim_value > MAX_DIM)
            return fail(c, "input '%s': dimension %zu must be a number from 1 to %d", nm, k,
                        MAX_DIM);
        dims[k] = (int)dm->dim_value;
    }
    Value *v = add_value(c, in->name);
    if (!v)
        return -1;
    v->kind = V_LAYER;
    v->layer = -1;
    v->rank = (int)rank;
    /* [N, F]: F x 1 x 1; [N, C, L]: C x L x 1 */
    v->s = (Shape){dims[1], dims[2] + 2 * c->pad, dims[3] + 2 * c->pad, false};
    v->stage = c->lenetc_input ? 0 : INPUT_READY;
    c->im->output[0] = '\0';
    return 0;
}

/* Whether every input of node n is defined */
static bool ready(Ctx *c, const Onnx__NodeProto *n) {
    for (size_t k = 0; k < n->n_input; k++)
        if (n->input[k][0] && !find(c, n->input[k]))
            return false;
    return true;
}

/* The nodes in an order in which each reads only what is defined before
 * it; a cycle or an undefined input is an error. */
static int walk(Ctx *c) {
    const size_t n = c->g->n_node;
    bool *done = calloc(n ? n : 1, sizeof *done);
    if (!done)
        return fail(c, "out of memory");
    size_t left = n;
    int rc = 0;
    while (left && !rc) {
        size_t progress = 0;
        for (size_t i = 0; i < n && !rc; i++)
            if (!done[i] && ready(c, c->g->node[i])) {
                c->node = c->g->node[i];
                rc = map_node(c);
                done[i] = true;
                left--;
                progress++;
            }
        if (rc || progress)
            continue;
        /* stuck: a name nothing defines, or nodes that wait on each other */
        for (size_t i = 0; i < n && !rc; i++) {
            if (done[i])
                continue;
            c->node = c->g->node[i];
            for (size_t k = 0; k < c->node->n_input && !rc; k++) {
                const char *want = c->node->input[k];
                bool made = !want[0] || find(c, want);
                for (size_t j = 0; j < n && !made; j++)
                    for (size_t o = 0; o < c->g->node[j]->n_output; o++)
                        made |= !strcmp(c->g->node[j]->output[o], want);
                char b[48];
                if (!made)
                    rc = fail(c, "input '%s' is defined by no node, initializer or graph input",
                              onnx_printable(want, b));
            }
        }
        for (size_t i = 0; i < n && !rc; i++)
            if (!done[i]) {
                c->node = c->g->node[i];
                rc = fail(c, "the graph has a cycle through this node");
            }
    }
    free(done);
    c->node = NULL;
    return rc;
}

static int graph_output(Ctx *c) {
    if (c->g->n_output != 1)
        return fail(c, "the graph has %zu outputs; lenetc's networks give one (the logits)",
                    c->g->n_output);
    const char *name = c->g->output[0]->name ? c->g->output[0]->name : "";
    char b[48];
    const Value *v = find(c, name);
    if (!v)
        return fail(c, "the graph's output '%s' is computed by no node", onnx_printable(name, b));
    if (v->kind != V_LAYER)
        return fail(c, "the graph's output '%s' is %s", onnx_printable(name, b),
                    v->kind == V_CONST ? "a constant" : "a Pad's output");
    if (c->o->allow_no_layers) {
        snprintf(c->im->output, sizeof c->im->output, "%s",
                 v->layer < 0 ? "input" : c->layers[v->layer].name);
        return 0;
    }
    if (v->layer < 0)
        return fail(c, "the graph's output is its input: there are no layers");
    if (v->layer != c->n_layers - 1)
        return fail(c, "the graph's output comes from layer %s, not the last (%s): lenetc's "
                       "logits are the last layer's", c->layers[v->layer].name,
                    c->layers[c->n_layers - 1].name);
    if (!v->s.flat)
        return fail(c, "the graph's output is a feature map, not a vector of class scores "
                       "[N, classes]");
    snprintf(c->im->output, sizeof c->im->output, "%s", c->layers[v->layer].name);
    return 0;
}

/* lenetc.input = "lo hi pad" (lenetc's export) */
static int read_lenetc_input(Ctx *c, const Onnx__ModelProto *mp) {
    for (size_t i = 0; i < mp->n_metadata_props; i++) {
        const Onnx__StringStringEntryProto *e = mp->metadata_props[i];
        if (!e->key || strcmp(e->key, "lenetc.input"))
            continue;
        double lo, hi;
        int pad, used = 0;
        if (!e->value || sscanf(e->value, "%lf %lf %d%n", &lo, &hi, &pad, &used) != 3 ||
            e->value[used] || !isfinite(lo) || !isfinite(hi) || !(lo < hi) || fabs(lo) > 1e6 ||
            fabs(hi) > 1e6 || pad < 0 || pad > 64)
            return fail(c, "metadata lenetc.input must be \"lo hi pad\" (lo < hi, pad 0 to 64)");
        c->lenetc_input = true;
        c->lo = (float)lo;
        c->hi = (float)hi;
        c->pad = pad;
    }
    return 0;
}

/* The spec's text: a header naming the file, the input, each layer with
 * a comment naming its nodes. */
static void render(Ctx *c, const Onnx__ModelProto *mp, const char *path) {
    StrBuf *sb = &c->im->spec;
    char b1[48], b2[48], b3[48], lo[32], hi[32];
    const char *version = mp->producer_version ? mp->producer_version : "";
    sb_printf(sb, "# Imported by lenetc import from %s (producer: %s%s%s, opset %d).\n",
              onnx_printable(path, b1), onnx_printable(mp->producer_name, b2),
              version[0] ? " " : "", onnx_printable(version, b3), c->opset);
    sb_puts(sb, "# Each layer's comment names the ONNX nodes it comes from.\n");
    sb_printf(sb, "name: %s\ninput:\n", c->im->name);
    const Value *in = NULL;
    for (int i = 0; i < c->n_values && !in; i++)
        if (c->values[i].kind == V_LAYER && c->values[i].layer == -1)
            in = &c->values[i];
    sb_printf(sb, "  shape: [%d, %d, %d]\n", in->s.h - 2 * c->pad, in->s.w - 2 * c->pad, in->s.c);
    sb_printf(sb, "  scale: [%s, %s]\n", real(c->lo, lo), real(c->hi, hi));
    if (c->pad)
        sb_printf(sb, "  pad: %d\n", c->pad);
    sb_puts(sb, "layers:\n");
    for (int i = 0; i < c->n_layers; i++) {
        const ImpLayer *l = &c->layers[i];
        sb_printf(sb, "  # %s\n  - %s: {name: %s%s", l->from.data, l->kind, l->name,
                  l->keys.data ? l->keys.data : "");
        if (l->merge) {
            sb_puts(sb, ", inputs: [");
            for (int k = 0; k < l->n_inputs; k++)
                sb_printf(sb, "%s%s", k ? ", " : "",
                          l->inputs[k] < 0 ? "input" : c->layers[l->inputs[k]].name);
            sb_puts(sb, "]");
        } else if (l->n_inputs && l->inputs[0] != i - 1) {
            sb_printf(sb, ", input: %s", l->inputs[0] < 0 ? "input" : c->layers[l->inputs[0]].name);
        }
        sb_puts(sb, "}\n");
    }
}

int onnx_import_model(const Onnx__ModelProto *mp, int opset, const char *path,
                      const OnnxImportOptions *o, OnnxImport *im, Diag *d) {
    memset(im, 0, sizeof *im);
    Ctx c = {.g = mp->graph, .opset = opset, .o = o, .im = im, .d = d, .lo = 0.0f, .hi = 1.0f};
    int rc = read_lenetc_input(&c, mp);
    if (!rc && o->scale_given) {
        c.lo = o->lo;
        c.hi = o->hi;
    }
    /* the spec's name: the graph's where lenetc wrote it (lenetc.spec
     * present), else the file's */
    char name[256];
    spec_default_name(path, name);
    for (size_t i = 0; i < mp->n_metadata_props; i++)
        if (mp->metadata_props[i]->key && !strcmp(mp->metadata_props[i]->key, "lenetc.spec") &&
            mp->graph->name && !spec_name_problem(mp->graph->name))
            snprintf(name, sizeof name, "%s", mp->graph->name);
    if (spec_name_problem(name))
        snprintf(name, sizeof name, "imported");
    snprintf(im->name, sizeof im->name, "%.63s", name);
    if (!rc)
        rc = constants(&c) || graph_input(&c) || walk(&c) || graph_output(&c) ? -1 : 0;
    if (!rc)
        render(&c, mp, path);
    for (int i = 0; i < c.n_values; i++)
        if (c.values[i].owns)
            onnx_decode_free(&c.values[i].t);
    for (int i = 0; i < c.n_layers; i++) {
        sb_free(&c.layers[i].keys);
        sb_free(&c.layers[i].from);
    }
    free(c.values);
    free(c.slots);
    free(c.layers);
    if (rc)
        onnx_import_free(im);
    return rc;
}

void onnx_import_free(OnnxImport *im) {
    for (int i = 0; i < im->n_tensors; i++)
        free(im->tensors[i].data);
    free(im->tensors);
    im->tensors = NULL;
    im->n_tensors = 0;
    sb_free(&im->spec);
    sb_free(&im->notes);
}

int onnx_import_params(const OnnxImport *im, const Model *m, float *params, bool zero_missing,
                       Diag *d) {
    for (int i = 0; i < m->n_layers; i++)
        for (int k = 0; k < m->layers[i].n_tensors; k++) {
            const LayerTensor *t = &m->layers[i].tensors[k];
            char name[2 * MAX_NAME];
            snprintf(name, sizeof name, "%s.%s", m->layers[i].name, t->name);
            const ImportTensor *it = NULL;
            for (int j = 0; j < im->n_tensors && !it; j++)
                if (!strcmp(im->tensors[j].name, name))
                    it = &im->tensors[j];
            if (it && it->n != t->size)
                return error_at(d, 0, 0, "%s: the import has %ld values, the spec's layer takes "
                                         "%ld", name, it->n, t->size);
            if (it)
                memcpy(params + t->off, it->data, (size_t)t->size * sizeof *params);
            else if (zero_missing || !strcmp(t->name, "num_batches_tracked"))
                memset(params + t->off, 0, (size_t)t->size * sizeof *params);
            else
                return error_at(d, 0, 0, "%s: the import has no values for it", name);
        }
    return 0;
}
