/* layer_batchnorm.c: batch normalisation, per channel of a feature map
 * (BatchNorm2d) or per feature of a vector (BatchNorm1d).
 *
 *   - batchnorm                                 Keras' defaults:
 *   - batchnorm: {momentum: 0.99, eps: 0.001}   momentum 0.99, eps 0.001
 *
 * In training, out = gamma * xhat + beta with xhat = (in - mean) / sqrt(var
 * + eps), mean and (biased) var over the whole batch: every position and
 * every sample of every tile and thread, as Keras and PyTorch compute them.
 * A tile sees only its own samples, so the passes are split here (see
 * lenet_pass): the part before ends with this tile's sums of in and in^2
 * (its sums stage), the trainer adds every tile's, and forward reads them;
 * backward likewise with the sums of dout and dout * xhat, from which the
 * gradients of gamma and beta are the batch's own:
 *   dgamma = sum dout xhat, dbeta = sum dout,
 *   din = gamma / sqrt(var + eps) * (dout - mean(dout) - xhat mean(dout xhat))
 * Sums are in double; a tile's padding lanes take no part.
 *
 * In evaluation, the running statistics: out = in * scale + shift, scale =
 * gamma / sqrt(running_var + eps), shift = beta - running_mean * scale
 * (PyTorch's arithmetic). Each training step updates them once
 * (its state stage), Keras' momentum m: running = m running + (1 - m) batch,
 * the variance unbiased as PyTorch keeps it; num_batches_tracked counts the
 * steps. Tensors are PyTorch's: weight, bias (trained), running_mean,
 * running_var, num_batches_tracked (state).
 *
 * The standalone export gets weight and bias already as scale and shift
 * (export.c folds them, or folds the layer into the conv or dense before
 * it), so its code is out = in * weight + bias.
 *
 * Sums per tile: [sum in | sum in^2 | sum dout | sum dout xhat], C each.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lenetc.h"
#include "onnx.h"

typedef struct {
    float momentum, eps;
} BatchNorm;
LAYER_DATA_FITS(BatchNorm);

static const BatchNorm *bn_of(const Layer *l) { return LAYER_DATA(const BatchNorm, l); }

static int batchnorm_parse(Layer *l, const YNode *p, Diag *d) {
    static const char *const keys[] = {"name", "momentum", "eps", NULL};
    BatchNorm *k = LAYER_DATA(BatchNorm, l);
    k->momentum = 0.99f;
    k->eps = 0.001f;
    return spec_check_keys(p, "batchnorm layer", keys, d) ||
           spec_real(p, "momentum", 0.0, 0.999999, &k->momentum, d) ||
           spec_real(p, "eps", 1e-12, 1.0, &k->eps, d);
}

/* channels, and positions per channel */
static int channels(const Layer *l) { return l->in.c; }
static int positions(const Layer *l) { return l->in.h * l->in.w; }

static int batchnorm_infer(Layer *l, Diag *d) {
    const int C = channels(l);
    l->out = l->in;
    l->saved = shape_size(l->in); /* xhat */
    l->sums = 4L * C;
    layer_tensor(l, "weight", "gamma", "ggamma", LENET_INIT_ONES, 1, &C)->in_backward = true;
    layer_tensor(l, "bias", "beta", "gbeta", LENET_INIT_ZEROS, 1, &C);
    layer_tensor(l, "running_mean", "running_mean", NULL, LENET_INIT_ZEROS, 1, &C);
    layer_tensor(l, "running_var", "running_var", NULL, LENET_INIT_ONES, 1, &C);
    layer_tensor(l, "num_batches_tracked", "batches", NULL, LENET_INIT_ZEROS, 0, NULL);
    return 0;
}

static void batchnorm_describe(const Layer *l, StrBuf *sb) {
    sb_printf(sb, "batchnorm momentum %g eps %g, per %s", bn_of(l)->momentum, bn_of(l)->eps,
              l->in.flat ? "feature" : "channel");
}

static long batchnorm_macs(const Layer *l) { return shape_size(l->in); }

/* The same number as a double: what that literal reads as. */
static double spec_value(float v) {
    char buf[32];
    return strtod(lenet_shortest(v, true, buf), NULL);
}

/* Its functions' operations (render_batchnorm.c writes them): training's
 * forward normalises by the batch (and returns), evaluation's by the
 * running statistics, the export's is the folded affine map; the sums
 * stages end the parts before it (forward: of in and in^2; backward: of
 * dout and dout * xhat, after the sums of in's two); the state stage
 * updates the running statistics. */
static void batchnorm_lower(const Layer *l, const Lowering *how, Program *p) {
    const int C = channels(l);
    Op op = {.tile = how->tile, .need_dinput = l->need_dinput, .in = "in", .by = "in",
             .bn = {.C = C, .P = positions(l), .sums_off = l->sums_off,
                    .eps = bn_of(l)->eps, .momentum = bn_of(l)->momentum}};
    switch (how->stage) {
    case LOWER_SUMS:
        op.kind = OP_BN_SUMS;
        if (how->backward)
            op.in = "dout", op.by = "saved", op.bn.first = 2 * C;
        break;
    case LOWER_STATE:
        op.kind = OP_BN_UPDATE;
        break;
    case LOWER_PASS:
        if (how->backward) {
            op.kind = OP_BN_GRAD;
        } else if (how->inference) {
            op.kind = OP_AFFINE;
        } else {
            op.kind = OP_BN_BATCH;
            program_add(p, op);
            op.kind = OP_BN_RUNNING;
        }
        break;
    }
    program_add(p, op);
}

/* evaluation's scale and shift, computed as its code computes them */
static void batchnorm_inference_affine(const Layer *l, const float *params, float *scale,
                                       float *shift) {
    const float *gamma = params + l->tensors[0].off, *beta = params + l->tensors[1].off;
    const float *mean = params + l->tensors[2].off, *var = params + l->tensors[3].off;
    const double e = spec_value(bn_of(l)->eps);
    for (int c = 0; c < channels(l); c++) {
        scale[c] = (float)(gamma[c] / sqrt((double)var[c] + e));
        shift[c] = beta[c] - mean[c] * scale[c];
    }
}

static void batchnorm_torch(const Layer *l, json_t *modules) {
    json_t *kwargs = json_pack("{s:o, s:f}", "eps", layer_json_real(bn_of(l)->eps), "momentum",
                               1 - spec_value(bn_of(l)->momentum));
    layer_torch_module(modules, l, NULL, l->in.flat ? "BatchNorm1d" : "BatchNorm2d",
                       json_pack("[i]", channels(l)), kwargs);
}

/* BatchNormalization's inference form: the running statistics; ONNX's
 * momentum is Keras' (running = m running + (1 - m) batch). Its
 * num_batches_tracked is an initializer no node reads. */
static void batchnorm_onnx(const Layer *l, OnnxGraph *g) {
    const char *in[5] = {onnx_input(g, 0), onnx_tensor(g, "weight"), onnx_tensor(g, "bias"),
                         onnx_tensor(g, "running_mean"), onnx_tensor(g, "running_var")};
    Onnx__NodeProto *n = onnx_node(g, "BatchNormalization", NULL, 5, in);
    onnx_attr_float(g, n, "epsilon", bn_of(l)->eps);
    onnx_attr_float(g, n, "momentum", bn_of(l)->momentum);
}

const LayerKind batchnorm_kind = {
    .kind = "batchnorm",
    .prefix = "batchnorm",
    .keras = "BatchNormalization",
    .parse = batchnorm_parse,
    .infer = batchnorm_infer,
    .describe = batchnorm_describe,
    .macs = batchnorm_macs,
    .torch = batchnorm_torch,
    .onnx = batchnorm_onnx,
    .uses_pass = true,
    .batch_statistics = true,
    .lower = batchnorm_lower,
    .inference_affine = batchnorm_inference_affine,
};
