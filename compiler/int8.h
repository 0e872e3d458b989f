/* int8.h: the int8 export's passes (lenetc SPEC --weights W --inference
 * --int8): calibrate (calibrate.c) -> quantize (quantize.c) -> plan the
 * arena (plan.c) -> render (render_int8.c) -> check on the test set
 * (export_int8.c).
 *
 * The scheme is TensorFlow Lite's: a real value r of a tensor is
 * scale * (q - zero) for its int8 q; weights per output channel,
 * symmetric (zero 0, -127..127); activations per tensor, asymmetric
 * (-128..127, 0.0 exactly representable); biases int32 at input scale x
 * weight scale. An operation's int32 sum becomes its int8 output by one
 * rule everywhere (requantize): q = zero + round(acc * mult / 2^shift),
 * the product exact in 64 bits, rounded half up (toward +infinity), then
 * clamped to [lo, 127] (relu: lo is the output's zero).
 *
 * Graphs: an operation reads its inputs' tensors by the graph (the layers
 * they compute), not the operation before it. An add is TensorFlow Lite's
 * ADD: each input, less its zero and times 2^INT8_ADD_SHIFT, rescaled by
 * its own multiplier to a common scale (its own rounding, the same rule
 * without the zero and the clamp: rescale), the terms summed in int32 and
 * the sum requantized to the output. A concat requantizes each input to
 * the output's params; global average pooling sums each channel in int32
 * and requantizes by s_in / (s_out positions), as TFLite's MEAN.
 */
#ifndef LENETC_INT8_H
#define LENETC_INT8_H

#include <stdint.h>

#include "lenetc.h"

/* An add's inputs, less their zeros, are shifted left this far before
 * their rescaling (TensorFlow Lite's ADD: 20 for int8) */
#define INT8_ADD_SHIFT 20

/* A quantized tensor: real = scale * (q - zero). */
typedef struct {
    double scale;
    int zero;
    double lo, hi;          /* the calibrated range it covers */
} QParams;

typedef enum {
    Q_CONV,                 /* acc = bias + sum of w (x - zx) over the valid
                             * taps; requantized per output channel */
    Q_DENSE,                /* a conv whose taps are every input (flat) */
    Q_MAXPOOL,              /* the max of each window; the input's params */
    Q_AVGPOOL,              /* round(sum of (x - z) / size^2) + z; the same */
    Q_TABLE,                /* out = table[x + 128]: any elementwise
                             * activation, by its 256 values */
    Q_ADD,                  /* acc = the sum of rescale((x_j - z_j) <<
                             * INT8_ADD_SHIFT, in_mult[j], in_shift[j]) over
                             * the inputs; requantized by in_mult[n_in] */
    Q_CONCAT,               /* input j requantized to the output's params
                             * (x_j - z_j by in_mult[j], in_shift[j]), after
                             * the channels of the inputs before it */
    Q_GLOBAL_AVGPOOL,       /* acc = the sum of x - z over a channel's
                             * positions; requantized by mult[0], shift[0] */
    N_QOPS
} QOpKind;

/* One operation of the quantized program, over tensors by number. */
typedef struct {
    QOpKind kind;
    const Layer *layer;     /* what it computes (the folded model's layer) */
    int in, out;            /* tensors: in is the first input */
    int n_in;               /* inputs (more than 1: Q_ADD, Q_CONCAT) */
    int ins[MAX_INPUTS];    /* ins[0] is in */
    int scratch;            /* Q_CONV, Q_DENSE: a tensor for the int16
                             * columns, -1 if none */
    ConvGeometry g;         /* Q_CONV (Q_DENSE: 1x1 with CI inputs, CO units;
                             * groups > 1: depthwise, CI 1, rows groups x CO;
                             * a batchnorm kept, a 1x1 depthwise of one tap) */
    lenet_window window;    /* pooling; Q_CONV with pooled: the maxpool
                             * fused into it (int8_fuse) */
    bool pooled;
    int8_t *w;              /* [rows][taps], PyTorch's order */
    int32_t *bias;          /* [rows], at in scale x weight scale (0: no bias) */
    int32_t *mult;          /* [rows], the Q31 multipliers */
    int8_t *shift;          /* the same, 1..62 */
    int lo;                 /* the output's clamp: [lo, 127] */
    /* Q_ADD, Q_CONCAT: each input's multiplier and shift, then the sum's */
    int32_t in_mult[MAX_INPUTS + 1];
    int8_t in_shift[MAX_INPUTS + 1];
    /* Q_CONV with the add after it fused in (int8_fuse): the conv's own
     * output (mid: two positions at a time) added to `other`, the add's
     * other input, by in_mult and in_shift (mid's, other's, the sum's) and
     * the clamp add_lo, into out, which takes other's place */
    bool added;
    int mid, other;
    int add_lo;
    int8_t table[256];      /* Q_TABLE */
    char what[128];         /* for comments: "conv1, relu folded in" */
} QOp;

#define MAX_QOPS 64
#define MAX_QTENSORS (MAX_QOPS * 2 + 1)

/* A tensor: its bytes (per sample), its params, its place in the arena
 * (plan.c) and the operations that write and last read it. */
typedef struct {
    char name[MAX_NAME + 16];
    Shape shape;            /* activations; a scratch tensor: (bytes, 1, 1) */
    long bytes;
    QParams q;
    bool scratch;           /* int16 columns, live during one operation */
    int first, last;        /* operations */
    int in_place_of;        /* -1, or the tensor whose bytes it takes: one
                             * that dies where it is written (int8_fuse) */
    long off;               /* bytes into the arena */
} QTensor;

typedef struct {
    Model folded;           /* the float model it quantizes (batchnorm folded) */
    float *params;          /* its weights */
    QOp ops[MAX_QOPS];
    int n_ops;
    QTensor tensors[MAX_QTENSORS];
    int n_tensors;          /* 0: the input, then each op's output */
    int input, logits;      /* tensors */
    long arena;             /* bytes, set by plan.c */
    int calibrated;         /* images the ranges were taken from */
    char plan[4096];        /* the plan, for the export's comment */
} QProgram;

/* calibrate.c: the float model (batchnorm folded or not: m as trained)
 * over n images of ds spread evenly over it (all if n >= its count):
 * range[i] = {min, max} of layer i's output. Also the float accuracy on
 * test, if not NULL. -1 after a message. */
int int8_calibrate(const Model *m, const float *params, const lenet_dataset *ds, int n,
                   double (*range)[2], const lenet_dataset *test, double *accuracy);

/* quantize.c: the program computing model m (as trained; batchnorm is
 * folded here) with params, by the calibrated ranges of m's layers. -1
 * with d set if m has something int8 cannot compute. */
int int8_quantize(const Model *m, const float *params, double (*range)[2], int calibrated,
                  QProgram *qp, Diag *d);
void int8_free(QProgram *qp);

/* quantize.c: the passes over the program before its plan: a conv and
 * the 2x2 maxpool after it become one operation (the pool of the sums,
 * requantized once: the same bits, as requantization keeps their order),
 * whose output before pooling is never stored (its tensor: 0 bytes); a
 * conv and the add of two inputs after it that reads it (its only reader)
 * become one operation, the conv's output two positions at a time, the
 * add's output written over its other input where that dies (in place:
 * ResNet-8's blocks then hold two feature maps, not three). */
void int8_fuse(QProgram *qp);

/* plan.c: each tensor's place in one arena (buffers reused once dead),
 * and each tensor's first and last operation (its writer, its last
 * reader). */
void int8_plan(QProgram *qp);

/* render_int8.c: the kernels' text every export starts with (for tests:
 * requantize(acc, mult, shift, zero, lo, any) among them), after
 * <stdint.h>. */
const char *int8_kernels_text(void);
/* render_int8.c: NAME.c and NAME.h. prepare, why: as emit_export's. */
void int8_render(const QProgram *qp, const char *spec_file, const char *weights_file,
                 int prepare, const char *why, const char *summary, StrBuf *c, StrBuf *h);
/* NAME.h alone (summary: a sentence for its banner). */
void int8_render_header(const QProgram *qp, const char *spec_file, const char *weights_file,
                        int prepare, const char *why, const char *summary, StrBuf *h);

#endif
