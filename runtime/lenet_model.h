/* lenet_model.h: what a compiled network looks like to the runtime: all
 * that generated code includes (its NAME.h includes this, and the kernels'
 * declarations come with it), nothing of training, data or command lines.
 *
 * Generated code computes forward and backward passes for one *tile* of
 * samples at a time. Every activation in a tile is stored batch-innermost:
 * a tensor of shape C x H x W is laid out as float[C*H*W][tile], so sample b
 * of feature f lives at [f*tile + b]. Parameters live in one float array in
 * PyTorch layouts (conv [out][in][kh][kw], dense [out][in]).
 */
#ifndef LENET_MODEL_H
#define LENET_MODEL_H

#include <stddef.h>
#include <stdint.h>

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
typedef enum {
    LENET_CONSTANT = 0,
    LENET_COSINE = 1,
    LENET_STEP = 2,
    LENET_ONECYCLE = 3
} lenet_schedule_kind;

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
    /* onecycle (PyTorch's OneCycleLR, lr its max_lr): from lr / div_factor
     * up to lr over the first pct_start of the run's steps, then down to
     * lr / div_factor / final_div_factor, by half cosines (onecycle_linear:
     * straight lines); with cycle_momentum, beta1 (sgd: momentum) the other
     * way, from max_momentum down to base_momentum and back */
    float pct_start, div_factor, final_div_factor;
    int onecycle_linear;
    int cycle_momentum;
    float base_momentum, max_momentum;
    /* training images moved at random (augment.c): up to aug_shift pixels
     * each way, aug_rotate degrees, a scale within 1 +- aug_scale */
    float aug_shift, aug_rotate, aug_scale;
    /* the training loss's targets: 1 - e + e / K for the label, e / K for
     * the other classes (0: one-hot); scores (eval, val_loss) stay one-hot */
    float label_smoothing;
} lenet_hparams;

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

#endif
