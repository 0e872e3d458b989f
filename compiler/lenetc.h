/* lenetc.h: the types shared by every pass of the compiler, a section per
 * pass, in the order main.c runs them:
 *
 *   spec.yaml --files.c--> text --yaml.c--> YNode tree --spec.c--> Model (IR)
 *             --shape.c--> shapes, tensors' places, lenet_model descriptor
 *             --lower.c + layer_*.c--> each layer's pass as operations
 *             --render*.c, emit*.c--> C source --jit.c--> running code
 *                                             \--files.c--> DIR/NAME.c, .h, Makefile
 *
 * Everything about one kind of layer is in layer_<kind>.c behind a LayerKind;
 * layers.c lists the kinds.
 */
#ifndef LENETC_H
#define LENETC_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lenet.h"

/* ---- limits: every size a spec can ask for is checked against these ---- */
#define MAX_LAYERS 256
#define MAX_NAME 64             /* identifier length, including the NUL */
#define MAX_DIM 4096            /* height, width, channels, units, kernel... */
#define MAX_TENSOR (1L << 26)   /* elements in one activation or parameter */
#define MAX_PARAMS (1L << 27)   /* parameters in the whole model */
#define MAX_SPEC_BYTES (1 << 20)
#define MAX_TILE LENET_MAX_TILE

/* ---- growable string (strbuf.c) ---------------------------------------- */
typedef struct {
    char *data;
    size_t len, cap;
} StrBuf;

void sb_printf(StrBuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vprintf(StrBuf *sb, const char *fmt, va_list ap);
void sb_puts(StrBuf *sb, const char *s);
void sb_free(StrBuf *sb);

/* ---- diagnostics (diag.c) ---------------------------------------------- */
/* The first error stops compilation; its text (with the source line and a
 * caret under the column) is kept in msg for the caller to print. */
typedef struct {
    const char *file;   /* as the user named it */
    const char *src;    /* the spec's text, for the caret line; may be NULL */
    char msg[1024];
    bool failed;
    /* likely mistakes that still compile (warn_at), each with its line and
     * caret; the caller prints them */
    char warnings[2048];
    int n_warnings;
} Diag;

/* line and col are 1-based; 0 means "no position". Always returns -1. */
int error_at(Diag *d, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The same as a warning, appended to d->warnings ("FILE:L:C: warning: ..."). */
void warn_at(Diag *d, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- YAML tree (yaml.c) ------------------------------------------------ */
typedef enum { Y_SCALAR, Y_SEQ, Y_MAP } YKind;

typedef struct YNode YNode;
struct YNode {
    YKind kind;
    int line, col;          /* 1-based */
    char *text;             /* Y_SCALAR: the value */
    bool quoted;            /* Y_SCALAR written in quotes */
    YNode **items;          /* Y_SEQ: items; Y_MAP: key, value, key, value... */
    int n;                  /* number of items (pairs * 2 for maps) */
};

/* Parses text into a tree; rejects anchors, aliases, tags, multiple documents
 * and duplicate keys. Returns NULL after error_at on failure. */
YNode *ytree_parse(const char *text, size_t len, Diag *d);
void ytree_free(YNode *n);

/* ---- the IR ------------------------------------------------------------ */
typedef struct {
    int c, h, w;            /* a flat vector of n features is (n, 1, 1) */
    bool flat;
} Shape;

/* Values in one sample of a tensor of this shape. */
static inline long shape_size(Shape s) { return (long)s.c * s.h * s.w; }

typedef struct Layer Layer;
typedef struct Emitter Emitter;
typedef struct Program Program;
typedef struct OnnxGraph OnnxGraph; /* onnx_export.c's graph being built (onnx.h) */
/* Which of a layer's functions is lowered: its pass (forward or
 * backward), or, for a kind with batch statistics, the sums a tile adds to
 * them at the end of the part before it (forward: of its input; backward:
 * of its output's gradient) or its state's update from them, once a step. */
typedef enum { LOWER_PASS, LOWER_SUMS, LOWER_STATE } LowerStage;

/* What a layer is lowered for (LayerKind.lower). */
typedef struct {
    int tile;               /* samples per call */
    LowerStage stage;
    bool backward;          /* its backward pass (sums), else its forward */
    bool inference;         /* a forward pass that never trains (the export) */
} Lowering;

/* How generated code is written (emit.c):
 * KERNELS: each layer a few calls to the runtime's vector kernels
 *   (lenet_kernels.h) with literal descriptors; the default of both paths.
 * LOOPS: constant-bound loops, plain C that does its own arithmetic.
 * UNROLL: every multiply-add written out with literal indices. */
typedef enum { STYLE_LOOPS, STYLE_UNROLL, STYLE_KERNELS, N_STYLES } CodeStyle;

/* One layer kind: everything about it lives in layer_<kind>.c, behind this
 * table entry, and layers.c lists the kinds. */
typedef struct {
    const char *kind;       /* spelling in the spec: "conv" */
    const char *prefix;     /* default names: conv1, conv2, ... */
    const char *keras;      /* type column of the summary: "Conv2D"; also a
                             * spelling of the kind in a spec, unless another
                             * kind has the same (tanh, sigmoid: Activation) */
    const char *shorthand;  /* the key a lone value gives: "units" makes
                             * `- dense: 10` {units: 10}; NULL: none */
    /* reads the layer's own keys (name is handled by spec.c) */
    int (*parse)(Layer *l, const YNode *params, Diag *d);
    /* sets l->out from l->in, declares its tensors (layer_tensor) and any
     * saved buffer (l->saved) */
    int (*infer)(Layer *l, Diag *d);
    /* one-line description for comments: "conv 6@3x3 stride 1 valid" */
    void (*describe)(const Layer *l, StrBuf *sb);
    /* forward multiply-adds per sample; NULL: none worth counting */
    long (*macs)(const Layer *l);
    /* appends the torch.nn modules that compute the same to modules (a
     * JSON array of {"name", "module", "args", "kwargs"}), for summary --json;
     * NULL: none (tools/lenetc_torch.py then cannot build the model) */
    void (*torch)(const Layer *l, json_t *modules);
    /* appends the ONNX nodes that compute the same to g (onnx.h's
     * onnx_node and the rest, by onnx.h's conventions); one that adds none
     * passes its input on (dropout); NULL: the kind has no ONNX form, and
     * `lenetc onnx` says so */
    void (*onnx)(const Layer *l, OnnxGraph *g);
    /* the output is the input seen another way (flatten): no code, no memory */
    bool view;
    /* an elementwise activation (relu, tanh...): one after the logits is
     * likely a mistake (softmax cross-entropy takes raw scores) */
    bool activation;
    /* forward reads the pass (lenet_pass: training flag, step seed) */
    bool uses_pass;
    /* takes several inputs, named by its `inputs:` list (add, concat:
     * their parse reads it with spec_inputs), not `input:` */
    bool merges;
    /* its attributes (LAYER_DATA) start with a FusedAct: an activation
     * applied to its output (conv, dense; activation.c) */
    bool fuses_activation;
    /* A kind that needs the whole batch's statistics (batchnorm) in
     * training: it keeps l->sums doubles of sums per tile (lenet_pass), its
     * forward and backward read the batch's (and take the pass), and the
     * passes are split before it; it lowers two stages more (LowerStage):
     * a tile's sums (the forward part before it ends with its input's, the
     * backward part after it with its gradient's) and its state's update
     * from the batch's sums, once a step. */
    bool batch_statistics;
    /* In inference, a per-channel affine map, out = in * scale + shift
     * (batchnorm): its scale and shift (l->in.c each) from the trained
     * tensors. The export folds it into the conv or dense before it, or
     * keeps the layer with its "weight" and "bias" holding them. */
    void (*inference_affine)(const Layer *l, const float *params, float *scale, float *shift);
    /* Its forward (backward: its backward) pass as operations over the
     * buffers emit.c names (in, out, saved, dout, din, its tensors'), for
     * tiles of `tile` samples: the renderers write them in every style
     * (render.c). A kind has no code of its own. */
    void (*lower)(const Layer *l, const Lowering *how, Program *p);
} LayerKind;

/* layers.c: every kind, NULL-terminated, in the order messages list them */
extern const LayerKind *const layer_kinds[];
/* "conv, maxpool, ... or dense" */
const char *layer_kind_list(void);
/* The kind spelt s (its kind or Keras name); NULL if none or if s is the
 * Keras name of several. */
const LayerKind *layer_kind_find(const char *s);
/* The kinds whose Keras name is s, as "tanh or sigmoid" into buf; the count. */
int layer_keras_kinds(const char *s, char *buf, size_t n);
/* The kind s names but for letter case ("Relu", "conv2d"); NULL if none. */
const LayerKind *layer_kind_like(const char *s);

/* A tensor a layer owns in the parameter array. */
typedef struct {
    const char *name;       /* "weight": saved as conv1.weight (PyTorch's name) */
    const char *var;        /* its pointer in generated code: "w" */
    const char *grad_var;   /* its gradient's, if trainable: "gw" */
    int ndim, dims[4];      /* PyTorch layout */
    int fan_in, fan_out;    /* for the glorot and he initialisers */
    lenet_init init;
    bool trainable;         /* false: state (running statistics) */
    bool in_backward;       /* the backward pass reads it (conv's weight) */
    long size, off;         /* floats; off into params (shape.c) */
} LayerTensor;

#define MAX_LAYER_TENSORS 6
#define MAX_INPUTS 8
#define MAX_USERS 16     /* layers that read one output */

/* The model's input, as an input of a layer (Layer.inputs) */
#define INPUT_IMAGE (-1)

struct Layer {
    const LayerKind *kind;
    char name[MAX_NAME];
    int line, col;          /* where the layer was written */
    /* what it reads, as the spec names it (`input: NAME`, a merge's
     * `inputs: [...]`; "input" is the model's input), each with where it
     * was written; none named: the layer above (or the model's input) */
    int n_inputs;
    char input_names[MAX_INPUTS][MAX_NAME];
    int input_line[MAX_INPUTS], input_col[MAX_INPUTS];
    /* the kind's attributes: layer_<kind>.c keeps its struct here
     * (LAYER_DATA), so a kind needs no field in this header */
    _Alignas(double) unsigned char data[64];
    /* resolved by model_infer before infer: the layers read (their index
     * in the model, INPUT_IMAGE for its input), their shapes and places;
     * in and in_off are the first's */
    int inputs[MAX_INPUTS];
    Shape ins[MAX_INPUTS];
    long in_offs[MAX_INPUTS];
    /* set by infer */
    Shape in, out;
    LayerTensor tensors[MAX_LAYER_TENSORS];
    int n_tensors;
    long saved;             /* features per sample kept for backward (its
                             * pointer: saved), beside the output */
    long sums;              /* batch statistics: doubles of sums per tile */
    /* computed by shape.c */
    long in_off, out_off, saved_off; /* features into a sample's activations */
    /* where its backward writes each input's gradient (features into a
     * sample's dacts): the input's own place, or, for all but one of the
     * layers that read an output, a place of its own, added to the
     * output's gradient before that is used (the gradient of an output
     * read by several layers is the sum of theirs) */
    long din_offs[MAX_INPUTS];
    int users;              /* layers (inputs of layers) that read its output */
    bool reaches_loss;      /* the logits depend on its output */
    /* the gradients of its other readers (dacts offsets) that its
     * output's gradient sums before its backward */
    int n_grad_sums;
    long grad_sums[MAX_USERS];
    long sums_off;          /* doubles into a tile's sums */
    int part;               /* the forward part it runs in (the batch
                             * statistics before it, counted) */
    bool need_dinput;       /* backward must produce the input gradient */
    bool need_backward;     /* some layer at or before this one is trained */
};

/* The inputs l reads: its named ones, or the one above it. */
static inline int layer_inputs(const Layer *l) { return l->n_inputs ? l->n_inputs : 1; }

/* A kind's attribute struct T in l->data; the kind's file checks that it
 * fits with LAYER_DATA_FITS(T). */
#define LAYER_DATA(T, l) ((T *)(l)->data)
#define LAYER_DATA_FITS(T) _Static_assert(sizeof(T) <= sizeof(((Layer *)0)->data), #T " fits")

/* ---- activations (activation.c), for activation layers, conv and dense */
typedef enum { ACT_NONE, ACT_RELU, ACT_LEAKY_RELU, ACT_TANH, ACT_SIGMOID, N_ACTIVATIONS } Activation;
/* The activation a kind that fuses one (LayerKind.fuses_activation) applies
 * to its output: the first member of its attributes. */
typedef struct {
    int act;                /* an Activation */
    float alpha;            /* leaky_relu's slope */
} FusedAct;
/* l's fused activation; ACT_NONE for a kind that fuses none */
Activation layer_activation(const Layer *l);
/* their spellings in a spec ("none", "relu", ...), NULL-terminated */
extern const char *const activation_names[];
/* its torch.nn module: "ReLU", "LeakyReLU", "Tanh", "Sigmoid" */
const char *activation_torch(Activation a);
/* out[i] = f(in[i]) for i < n (in may be out); alpha: leaky_relu's slope */
void emit_activation(Emitter *e, Activation a, float alpha, long n, const char *in,
                     const char *out);
/* din[i] = dout[i] * f'(...) for i < n, from the output (din may be dout) */
void emit_activation_grad(Emitter *e, Activation a, float alpha, long n, const char *out,
                          const char *dout, const char *din);
/* "softmax cross-entropy (the loss) already applies softmax...": what a
 * spec asking for softmax (a layer or an activation) is told */
extern const char *const softmax_is_the_loss;
/* The fused activation of a conv or dense layer l (its FusedAct): reads
 * `activation` and `alpha` from p; ", relu" for describe; its torch.nn
 * module after the layer's. Its code is lowered (lower_fused_activation). */
int activation_parse(Layer *l, const YNode *p, Diag *d);
void activation_describe(const Layer *l, StrBuf *sb);
void activation_torch_module(const Layer *l, json_t *modules);
/* ... and its ONNX node after the layer's, "LAYER/relu" (onnx.h) */
void activation_onnx(const Layer *l, OnnxGraph *g);

/* Declares a tensor of l (its size is the product of dims); returns it. */
LayerTensor *layer_tensor(Layer *l, const char *name, const char *var, const char *grad_var,
                          lenet_init init, int ndim, const int *dims);
/* Parameters of l: all, or only the trainable ones. */
long layer_params(const Layer *l, bool trainable_only);
/* Appends {"name": NAME, "module": module, "args": args, "kwargs": kwargs}
 * to modules (takes the references of args and kwargs; either may be NULL).
 * suffix, if not NULL, is added to the layer's name: "conv1_pad". */
void layer_torch_module(json_t *modules, const Layer *l, const char *suffix, const char *module,
                        json_t *args, json_t *kwargs);
/* A float as JSON, by its shortest decimal (0.3, not 0.30000001192...). */
json_t *layer_json_real(float v);

enum { PAD_VALID, PAD_SAME, PAD_EXPLICIT };

typedef struct {
    char name[MAX_NAME];
    int in_h, in_w, in_c;   /* data image size */
    int pad;                /* border added to each image */
    float scale_lo, scale_hi;
    Layer *layers;
    int n_layers;
    lenet_hparams train;
    /* computed by shape.c */
    Shape input;            /* what the first layer sees: the padded image */
    long n_params;          /* all of them: the trainable ones, then state */
    long n_trainable;
    long act_floats;        /* features per sample over all activations */
    long logits_off;
    int n_classes;
    int parts;              /* of a training pass: 1 + the batch statistics */
    long sums;              /* doubles of sums per tile, for them */
    int batch_line, batch_col; /* where train: batch was written (0: not) */
} Model;

/* Warns (warn_at) of a spec's batch smaller than the tile: lanes that
 * compute nothing. */
void model_warn_tile(const Model *m, int tile, Diag *d);

/* spec.c helpers for the layer parsers. params may be NULL (no keys given).
 * what names the owner in messages ("conv layer"). A key is found however
 * it is spelt, lenetc's way or Keras' ("kernel_size": spec.c's key_aliases),
 * and messages name it as written. */
int spec_check_keys(const YNode *params, const char *what, const char *const *allowed, Diag *d);
const YNode *spec_get(const YNode *params, const char *key);
/* Reads params[key] as an integer in [lo, hi]; keeps *out if key is absent
 * and required is false. */
int spec_int(const YNode *params, const char *key, long lo, long hi, bool required, int *out,
             Diag *d);
/* The same for a side of a square (kernel, stride, window), which may also
 * be written as Keras' [n, n]. */
int spec_square(const YNode *params, const char *key, long lo, long hi, bool required, int *out,
                Diag *d);
/* Reads params[key] as one of the words in choices; returns its index or -1. */
int spec_choice(const YNode *params, const char *key, const char *const *choices, int *out,
                Diag *d);
/* "a, b or c" of the NULL-terminated words, into buf. */
const char *spec_or_list(const char *const *words, char *buf, size_t n);
/* Reads params[key] as a number in [lo, hi]; keeps *out if key is absent. */
int spec_real(const YNode *params, const char *key, double lo, double hi, float *out, Diag *d);
/* Reads a merge's `inputs: [A, B, ...]` (at least two names) into l. */
int spec_inputs(Layer *l, const YNode *params, Diag *d);

/* spec.c: builds the Model (the IR, shapes not yet known: model_infer)
 * from a spec's YAML tree; default_name is used when the spec has no name:
 * key. spec_default_name makes one of a file's path ("lenet5-plus.yaml":
 * lenet5_plus) in buf. spec_parse is ytree_parse then spec_build, for
 * text. */
int spec_build(const YNode *root, const char *default_name, Model *m, Diag *d);
const char *spec_default_name(const char *path, char buf[256]);
/* Why s cannot name a layer or a spec (C identifiers only, no keyword, no
 * lenet_ prefix); NULL if it can. */
const char *spec_name_problem(const char *s);
int spec_parse(const char *text, size_t len, const char *default_name, Model *m, Diag *d);
void model_free(Model *m);

/* shape.c: infers every shape, checks limits, assigns offsets. */
int model_infer(Model *m, Diag *d);
/* Builds the runtime's view of the model (without function pointers). The
 * descriptor's strings point into *storage; free both with descriptor_free. */
lenet_model *model_descriptor(const Model *m, int tile);
void descriptor_free(lenet_model *lm);
void model_summary(const Model *m, StrBuf *out);
/* The same as JSON (malloc'd, NULL if out of memory), with each tensor's
 * place and initialiser and each layer's torch.nn modules, for tools such
 * as tools/lenetc_torch.py. */
char *model_summary_json(const Model *m);
/* Multiply-adds one sample costs in a layer's forward or backward pass
 * (conv taps that fall into padding are not computed, so not counted). */
long layer_macs(const Layer *l, bool backward);

/* ---- the lowered program (lower.c) and its renderers (render.c) ------- */
/* A layer's pass as operations over named buffers with static sizes, in
 * the manner of tinygrad's lowering: a kind says what is computed
 * (LayerKind.lower), a renderer how it is written in each code style, each
 * style overriding only the operations it writes its own way. */
typedef enum {
    OP_ACTIVATION,          /* out[i] = f(in[i]), i < n (in may be out) */
    OP_ACTIVATION_GRAD,     /* din[i] = dout[i] * f'(...), from out[i] */
    OP_MAXPOOL,             /* out = the max of each window of in */
    OP_MAXPOOL_GRAD,        /* din = 0, then dout to each window's first max */
    OP_AVGPOOL,             /* out = the mean of each window of in */
    OP_AVGPOOL_GRAD,        /* din = 0, then dout / size^2 to each window */
    OP_COPY,                /* out[out_at + i] = in[in_at + i] */
    OP_ADD,                 /* out[i] = in[i] + by[i] (out may be in) */
    OP_GLOBAL_AVGPOOL,      /* out[c] = the mean of in's channel c (P positions) */
    OP_GLOBAL_AVGPOOL_GRAD, /* din[c][p] = dout[c] / P */
    OP_MUL,                 /* out[i] = in[i] * by[i] */
    OP_DROPOUT,             /* training: by = the scaled mask (a hash of the
                             * pass's seed, sample and feature), out = in * by;
                             * else out = in */
    OP_DENSE,               /* out = bias + w in (a dense layer's) */
    OP_DENSE_GRAD,          /* gb, gw += its sums; din = w^T dout if need_dinput */
    OP_CONV,                /* out = bias + w * in (a convolution's) */
    OP_CONV_GRAD,           /* gb, gw += its sums; din if need_dinput */
    OP_SCALE,               /* out[i] = factor * in[i] */
    /* batch normalisation (bn: C channels of P positions): */
    OP_BN_BATCH,            /* training: saved = xhat by the batch's mean and
                             * variance, out = gamma xhat + beta; returns */
    OP_BN_RUNNING,          /* out = in * scale + shift, from the running
                             * statistics */
    OP_AFFINE,              /* out = in * weight + bias per channel (the
                             * export's batchnorm, folded) */
    OP_BN_SUMS,             /* sums[first + c] = sum of x, sums[first + C + c]
                             * = sum of x * y (x: in, y: by) over c's values */
    OP_BN_GRAD,             /* ggamma, gbeta += the batch's sums (once, with
                             * sample 0's tile); din if need_dinput */
    OP_BN_UPDATE,           /* running_mean, running_var from the batch's */
    N_OPS
} OpKind;

/* A convolution's geometry: input CI x H x W, output CO x OH x OW, a K x K
 * kernel at stride S, PT rows and PL columns of padding before the input;
 * padded: some tap can fall into the padding (the loops check). */
typedef struct {
    int CI, H, W, CO, OH, OW, K, S, PT, PL;
    bool padded;
    /* groups > 1: that many convolutions side by side, each of CI of the
     * input's channels to CO of the output's (a depthwise convolution:
     * CI = 1, CO its multiplier), each group's weights and biases after the
     * last's; 0 or 1: one */
    int groups;
    bool no_bias;           /* use_bias: false */
} ConvGeometry;

typedef struct {
    OpKind kind;
    long n;                 /* activations: values (features x tile lanes) */
    Activation act;         /* f */
    float alpha;            /* leaky_relu's slope */
    const char *in, *out, *dout, *din; /* activations' buffers, as emit.c
                             * names them (pooling reads the layer's own) */
    const char *by;         /* OP_MUL's factors; OP_DROPOUT's mask */
    lenet_window window;    /* pooling: the geometry, as the kernels take it */
    long features;          /* OP_DROPOUT: per sample (n / tile) */
    int tile;               /* OP_DROPOUT, OP_DENSE*, OP_CONV* */
    float rate;             /* OP_DROPOUT */
    int units, inputs;      /* OP_DENSE*: out and in features */
    bool need_dinput;       /* OP_DENSE_GRAD, OP_CONV_GRAD: din too */
    ConvGeometry conv;      /* OP_CONV* */
    long in_off;            /* OP_DENSE_GRAD: the input's place (din's space is
                             * its scratch without din) */
    bool relu;              /* OP_DENSE, OP_CONV, OP_MAXPOOL(_GRAD): relu
                             * fused into it (fuse.c) */
    bool fused;             /* OP_ACTIVATION_GRAD: a layer's fused activation,
                             * in place on dout (its comment says so) */
    float factor;           /* OP_SCALE */
    long in_at, out_at;     /* OP_COPY: offsets into in and out */
    int channels, positions; /* OP_GLOBAL_AVGPOOL* */
    struct {
        int C, P;           /* channels, positions per channel */
        int first;          /* OP_BN_SUMS: the first of its 2C sums */
        long sums_off;      /* doubles into pass->batch_sums */
        float eps, momentum; /* as the spec gives them */
    } bn;                   /* OP_BN_*, OP_AFFINE */
} Op;

#define MAX_OPS 16
struct Program {
    Op ops[MAX_OPS];
    int n;
};

/* The name of a layer's input j in its functions: "in", "in1", ... (base
 * "in") or "din", "din1", ... (base "din"); emit.c declares them. */
const char *input_var(const char *base, int j);
/* Appends op (a kind lowers to a few; more than MAX_OPS is a bug). */
void program_add(Program *p, Op op);
/* The elementwise activation a over n values, in -> out (backward: its
 * gradient dout -> din from out). */
void lower_activation(Program *p, bool backward, Activation a, float alpha, long n);
/* The fused activation of a conv or dense layer l (its FusedAct), on out
 * in place (backward: its derivative on dout in place); none if ACT_NONE. */
void lower_fused_activation(Program *p, const Layer *l, const Lowering *how);
/* fuse.c: the passes over a lowered program before it is rendered in a
 * style: the kernels style's relu into the gemm before it. */
void program_fuse(Program *p, CodeStyle style);
/* Writes p in e's style. */
void render_program(Emitter *e, const Program *p);

/* ---- emitter: the C text (emit_text.c), descriptors (emit_desc.c), axis
 * geometry (geometry.c), the model's passes (emit.c), the files
 * (emit_files.c) --------------------------------------------------------- */
typedef struct {
    CodeStyle style;
    const char *target;     /* kernels and compiler flags for: "avx2", ... */
    int tile;               /* samples per call, default 16 */
    const char *real;       /* "float"; "double" for gradient checks */
    const char *spec_file;  /* named in the header comment */
    bool forward_only;      /* no backward pass (the standalone export) */
    bool every_output;      /* each layer writes its own output (calibrate.c
                             * reads them all): no fusion across layers */
} EmitOptions;

/* fuse.c: whether layer i's passes take in layer i + 1's in o's code
 * (program_fuse_next, both passes): i + 1 reads only i's output, which
 * nothing else reads. Its functions are then gone, and i's write its
 * output (and read its gradient) in i + 1's place: i's own output is
 * never written. */
bool model_fuses_next(const Model *m, int i, const EmitOptions *o);
/* fuse.c: whether layer i's own relu (a conv's activation) moves into the
 * maxpool after it (i + 1 reads only i's output, which nothing else
 * reads): i's code no longer clamps, and i + 1's does. */
bool model_relu_moves_next(const Model *m, int i, const EmitOptions *o);
/* The passes across layers over p, layer i's pass (forward or backward)
 * after program_fuse, for o's code (the kernels style): a maxpool takes in
 * the relu layer after it (model_fuses_next), and a conv's relu moves into
 * the maxpool after it, which only the conv feeds. */
void model_fuse(const Model *m, int i, const EmitOptions *o, bool backward, Program *p);

/* lower.c: a layer's lowered stage (LayerKind.lower) for these options:
 * their tile, and inference when they are forward_only. */
void layer_lower(const Layer *l, const EmitOptions *o, LowerStage stage, bool backward,
                 Program *p);

struct Emitter {
    StrBuf *out;
    EmitOptions opt;
    int indent;
    int terms;              /* terms on the current line of a sum */
};

/* ---- emit_text.c: what layer emitters write through */
/* The indentation of the current block (emit_line and the rest start with it). */
void emit_indent(Emitter *e);
/* "6x26x26" for a feature map, "120" for a vector, into buf */
void shape_str(Shape s, char *buf, size_t n);
void emit_line(Emitter *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void emit_open(Emitter *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void emit_close(Emitter *e);
/* (The shortest decimal that reads back as v: lenet_shortest, lenet.h.) */
/* A real literal in the emitted type, shortest: "0.25f" or "0.25". */
const char *emit_real(Emitter *e, double v, char buf[32]);
/* The same for a number the spec gave (kept as a float): as written, so
 * double code computes with 0.3 where float code has 0.3f. */
const char *emit_spec_real(Emitter *e, float v, char buf[32]);

/* Emits `for (int b = 0; b < TILE; b++)` and opens its block. */
void emit_lane_loop(Emitter *e);
/* A row-major index over (name, extent) pairs in Horner's form, as
 * "(co * 6 + ci) * 9 + k", leaving out the names whose extent is 1 (their
 * only value is 0) and so any "* 1"; a NULL name is one whose only value
 * is 0 (no loop) of a larger extent; "0" when nothing is left. */
const char *index_expr(char buf[96], int count, const char *const *names, const int *extents);
/* "p + off", or p at offset 0 */
const char *offset_expr(char buf[64], const char *p, long off);
/* "expr * k", "(a + b) * k", or expr when k is 1 or expr is "0" */
const char *times(char buf[128], const char *expr, long k);
/* "p + (index) * T", "p + index" (T = 1) or "p" (index "0"): the first lane
 * of a feature of a tile-innermost tensor p. */
const char *lanes_at(char buf[128], const char *p, const char *index, int T);
/* `for (int v = 0; v < n; v++) {`, or nothing for a loop of one trip (the
 * indices leave v out: index_expr); returns the blocks opened, for
 * emit_close_loops. emit_loop_from opens [from, to) whatever its length. */
int emit_loop(Emitter *e, const char *v, int n);
int emit_loop_from(Emitter *e, const char *v, int from, int to);
void emit_close_loops(Emitter *e, int n);
/* Zeroes n features (x tile lanes) at pointer p. */
void emit_zero(Emitter *e, const char *p, long n);

/* One statement per lane: fmt (printf-style) names the lane `$`, as in
 * "o[$] += wk * x[$];". The loop style writes the lanes out, four to a line
 * (tcc keeps nothing in registers across statements, so a lane loop costs
 * it more than its multiply-adds); other styles get `for (int b...)`. */
void emit_lanes(Emitter *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* lhs += term over the lanes in lane order, term naming the lane `$`: in
 * the loop style one left-to-right sum, lhs = lhs + t0 + t1 + ..., which
 * rounds exactly like the loop. */
void emit_lane_sum(Emitter *e, const char *lhs, const char *term);

/* Long sums for the unrolled style, wrapped a few terms per line:
 *   sum_begin(e, "out[%ld + b] = bias[%d]", ...); sum_term(e, " + w[%d] * in[%s]", ...);
 *   ...; sum_end(e); */
void sum_begin(Emitter *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sum_term(Emitter *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sum_end(Emitter *e);
/* "b" or "336 + b": the lane b of feature f in a tile-innermost tensor. */
const char *lane(Emitter *e, long f, char buf[32]);

/* ---- emit_desc.c */
/* Kernels style: "lenet_sgemm" (float) or "lenet_dgemm" (double). */
const char *emit_kernel(Emitter *e, const char *name, char buf[48]);
/* `static const lenet_gemm NAME = {...};` with the nonzero fields, and the
 * same for the other descriptors. */
void emit_gemm_desc(Emitter *e, const char *name, const lenet_gemm *g);
void emit_dot_desc(Emitter *e, const char *name, const lenet_gemm_dot *g);
void emit_window_desc(Emitter *e, const char *name, const lenet_window *w);
void emit_depthwise_desc(Emitter *e, const char *name, const lenet_depthwise *d);
/* ---- geometry.c */
/* An axis of a convolution split into classes: runs of outputs o that see
 * the same taps t (0 <= o * stride + t - pad < size), or, by tap, runs of
 * taps that see the same outputs. */
typedef struct {
    int first, end;         /* outputs (or taps) [first, end) */
    int t0, t1;             /* their taps (or outputs) [t0, t1); empty if t0 == t1 */
} AxisRun;
int axis_runs_by_output(int out, int k, int stride, int pad, int size, AxisRun *runs);
int axis_runs_by_tap(int out, int k, int stride, int pad, int size, AxisRun *runs);

/* ---- emit.c */
/* emit.c brackets each layer's code with these: the layer's comment, its
 * signature and named pointers with literal offsets:
 *   forward:  each tensor's var (w, bias...), in, out, saved (if any); pass
 *             if the kind uses it
 *   backward: the tensors read in backward, in, out, saved, dout, din (if
 *             need_dinput), each trainable tensor's grad_var (gw, gb...)
 * A kind's emitters write only the body. */
void emit_forward_begin(Emitter *e, const Layer *l);
void emit_backward_begin(Emitter *e, const Layer *l);
void emit_function_end(Emitter *e);
/* The same for a batch statistic's functions (LayerKind.batch_statistics):
 *   forward_sums:  in, sums (its doubles in pass->sums), pass
 *   backward_sums: out, saved, dout, sums, pass
 *   update_state:  each state tensor's var (writable), pass */
void emit_forward_sums_begin(Emitter *e, const Layer *l);
void emit_backward_sums_begin(Emitter *e, const Layer *l);
void emit_update_state_begin(Emitter *e, const Layer *l);
/* The kernels: every layer's functions and <model>_forward/_backward. Needs
 * nothing from any header, so the JIT compiles exactly this text. */
/* The unrolled style grows with the multiply-adds (about 34 bytes of C for
 * each); a spec whose unrolled code would pass MAX_UNROLLED_BYTES is refused
 * before anything is written. */
#define MAX_UNROLLED_BYTES (128L << 20)
int emit_check_size(const Model *m, const EmitOptions *o, Diag *d);
/* "kernels", "loops", "unrolled" */
const char *emit_style_name(CodeStyle style);
/* The target the options name; the machine's own when they name none. */
const lenet_target *emit_target(const EmitOptions *o);
void emit_kernels(const Model *m, const EmitOptions *o, StrBuf *out);
/* ---- emit_files.c */
/* The three files of an emitted build. runtime_dir is written into the
 * Makefile (relative to the output directory); when it is empty, the
 * Makefile builds against the installation under prefix (absolute), or
 * with no prefix (NULL or empty) the one pkg-config knows. */
void emit_source(const Model *m, const EmitOptions *o, StrBuf *out);
void emit_header(const Model *m, const EmitOptions *o, StrBuf *out);
void emit_makefile(const Model *m, const EmitOptions *o, const char *runtime_dir,
                   const char *prefix, StrBuf *out);

/* export.c: the standalone export, one C99 file and its header
 * with params (n_params floats) compiled in. weights_file is named in the
 * banner; NAME_prepare prepares images as `prepare` says (LENET_PREPARE_*),
 * and the header says why ("chosen by --prepare", ...). */
void emit_export(const Model *m, const float *params, const char *spec_file,
                 const char *weights_file, int prepare, const char *why, StrBuf *c,
                 StrBuf *h);
/* The model the export computes, and its weights (*out, malloc'd; free it
 * and em->layers): each batchnorm folded into the conv or dense before it
 * where it can be, else kept with weight = scale, bias = shift. -1 if out
 * of memory. */
int export_fold(const Model *m, const float *params, Model *em, float **out);
/* NAME_prepare (prepare: LENET_PREPARE_*) and its helpers, into c; up is
 * NAME in capitals. */
void emit_prepare(const Model *m, int prepare, const char *n, const char *up, StrBuf *c);
/* export_int8.c: the int8 export (--inference --int8; int8.h its passes)
 * of m with trained params into c (NAME.c) and h (NAME.h), calibrated on
 * the data's training images and measured on its test images, of which it
 * prints one line. 1 after a message. */
typedef struct {
    const char *spec_file, *weights_file; /* named in the banners */
    const char *data;       /* --data, or NULL: MNIST's search list */
    int calibrate;          /* training images to calibrate on */
    int prepare;            /* NAME_prepare's (LENET_PREPARE_*), and why */
    const char *why;
} Int8Request;
#define INT8_CALIBRATE_DEFAULT 1000
int export_int8(const Model *m, const float *params, const Int8Request *rq, StrBuf *c,
                StrBuf *h);
/* What both exports' files share: a path's last part (for banners), NAME
 * in capitals (macros), the header's NAME_HEIGHT, _WIDTH, _CHANNELS,
 * _PIXELS and _CLASSES, and NAME_prepare's declaration. */
const char *export_base_name(const char *path);
void export_upper_name(const char *n, char up[MAX_NAME]);
void export_header_sizes(const Model *m, const char *up, StrBuf *h);
void export_prepare_decl(const char *n, const char *up, StrBuf *h);
/* static float exp_neg(float x), e^x for x <= 0 without libm, into c */
void emit_exp_neg(StrBuf *c);

/* ---- files (files.c) --------------------------------------------------- */
/* Reads a whole regular file of at most max bytes; NUL-terminated. */
char *read_file(const char *path, size_t max, size_t *len, Diag *d);
/* Writes data to path atomically: temp file, fsync, rename. */
int write_file_atomic(const char *path, const char *data, size_t len, Diag *d);
/* mkdir -p */
int make_dirs(const char *path, Diag *d);
/* Directory holding the running executable (no trailing slash). */
const char *exe_dir(void);

/* ---- JIT (jit.c) ------------------------------------------------------- */
typedef struct Jit Jit;
/* Compiles the model's kernels in memory with libtcc and fills lm's
 * forward/backward. The code lives until jit_free. */
Jit *jit_compile(const Model *m, const EmitOptions *o, lenet_model *lm, Diag *d,
                 double *seconds, size_t *code_bytes);
/* Compiles arbitrary kernel text, binding symbols (NULL, or a list that
 * ends with {0, 0}), and returns symbols (for tests). */
Jit *jit_compile_text(const char *src, const lenet_symbol *symbols, Diag *d);
/* runtime/kernels/lenet_kernels.h, which the kernels style needs in front of it */
extern const char lenetc_kernels_header[];
void *jit_symbol(Jit *j, const char *name);
void jit_free(Jit *j);

#endif
