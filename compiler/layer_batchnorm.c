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
 * (forward_sums), the trainer adds every tile's, and forward reads them;
 * backward likewise with the sums of dout and dout * xhat, from which the
 * gradients of gamma and beta are the batch's own:
 *   dgamma = sum dout xhat, dbeta = sum dout,
 *   din = gamma / sqrt(var + eps) * (dout - mean(dout) - xhat mean(dout xhat))
 * Sums are in double; a tile's padding lanes take no part.
 *
 * In evaluation, the running statistics: out = in * scale + shift, scale =
 * gamma / sqrt(running_var + eps), shift = beta - running_mean * scale
 * (PyTorch's arithmetic). Each training step updates them once
 * (update_state), Keras' momentum m: running = m running + (1 - m) batch,
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

/* A spec's number as a double literal ("0.99", "0.001"): the statistics
 * are computed in double whatever the code's type. */
static const char *spec_double(const Emitter *e, float v, char buf[32]) {
    Emitter d = *e;
    d.opt.real = "double";
    return emit_spec_real(&d, v, buf);
}

/* The same number as a double: what that literal reads as. */
static double spec_value(float v) {
    char buf[32];
    return strtod(lenet_shortest(v, true, buf), NULL);
}

/* `for (int c...) {`; leaves in idx the index of lane 0 of (c, s)
 * divided by the tile. */
static void open_channel(Emitter *e, const Layer *l, char idx[96]) {
    emit_open(e, "for (int c = 0; c < %d; c++)", channels(l));
    index_expr(idx, 2, (const char *[]){"c", "s"}, (const int[]){channels(l), positions(l)});
}

/* The pointer to the batch's sums and their count. */
static void batch_sums(Emitter *e, const Layer *l) {
    char buf[64];
    emit_line(e, "const double *restrict batch = %s;",
              offset_expr(buf, "pass->batch_sums", l->sums_off));
    if (positions(l) > 1)
        emit_line(e, "const double count = (double)pass->batch * %d;", positions(l));
    else
        emit_line(e, "const double count = pass->batch;");
}

/* Inside the channel loop: the batch's mean and biased variance of c. */
static void batch_moments(Emitter *e, const Layer *l) {
    emit_line(e, "const double mean = batch[c] / count;");
    emit_line(e, "const double var = batch[%d + c] / count - mean * mean;", channels(l));
}

/* The position and lane loops of channel c (the loop style), i the
 * value's index; returns the blocks opened. */
static int open_lanes(Emitter *e, const Layer *l, const char *idx) {
    const int opened = emit_loop(e, "s", positions(l));
    emit_open(e, "for (int b = 0; b < %d; b++)", e->opt.tile);
    char at[128];
    times(at, idx, e->opt.tile);
    if (strcmp(at, "0") == 0)
        emit_line(e, "const long i = b;");
    else
        emit_line(e, "const long i = %s + b;", at);
    return opened + 1;
}

/* The kernel's first arguments: channels, positions, tile. */
static const char *shape_args(Emitter *e, const Layer *l, char buf[64]) {
    snprintf(buf, 64, "%d, %d, %d", channels(l), positions(l), e->opt.tile);
    return buf;
}

/* Every value of every channel: the loop style's statements (then, if not
 * NULL), or the kernels style's call. */
static void per_value(Emitter *e, const Layer *l, const char *body, const char *then,
                      const char *call) {
    char idx[96];
    if (e->opt.style == STYLE_KERNELS && call) {
        emit_line(e, "%s", call);
        return;
    }
    open_channel(e, l, idx);
    const int n = open_lanes(e, l, idx);
    emit_line(e, "%s", body);
    if (then)
        emit_line(e, "%s", then);
    emit_close_loops(e, n + 1);
}

static void batchnorm_forward(Emitter *e, const Layer *l) {
    const int C = channels(l);
    const char *R = e->opt.real;
    char eps[32], args[64], call[256], kernel[48];
    spec_double(e, bn_of(l)->eps, eps);
    shape_args(e, l, args);
    if (e->opt.forward_only) { /* the export: scale and shift, folded */
        per_value(e, l, "out[i] = in[i] * gamma[c] + beta[c];", NULL, NULL);
        return;
    }
    emit_open(e, "if (pass->training)");
    emit_line(e, "/* the whole batch's statistics */");
    batch_sums(e, l);
    emit_line(e, "%s mean[%d], invstd[%d];", R, C, C);
    emit_open(e, "for (int c = 0; c < %d; c++)", C);
    emit_line(e, "const double m = batch[c] / count;");
    emit_line(e, "const double var = batch[%d + c] / count - m * m;", C);
    emit_line(e, "mean[c] = (%s)m;", R);
    emit_line(e, "invstd[c] = (%s)(1 / sqrt((var > 0 ? var : 0) + %s));", R, eps);
    emit_close(e);
    snprintf(call, sizeof call, "%s(%s, pass->lanes, in, mean, invstd, gamma, beta, saved, out);",
             emit_kernel(e, "bn_normalize", kernel), args);
    if (e->opt.style != STYLE_KERNELS)
        emit_line(e, "const int lanes = pass->lanes;");
    per_value(e, l,
              "saved[i] = b < lanes ? (in[i] - mean[c]) * invstd[c] : 0;",
              "out[i] = gamma[c] * saved[i] + beta[c];", call);
    emit_line(e, "return;");
    emit_close(e);
    emit_line(e, "/* evaluation: the running statistics */");
    emit_line(e, "%s scale[%d], shift[%d];", R, C, C);
    emit_open(e, "for (int c = 0; c < %d; c++)", C);
    emit_line(e, "scale[c] = (%s)(gamma[c] / sqrt((double)running_var[c] + %s));", R, eps);
    emit_line(e, "shift[c] = beta[c] - running_mean[c] * scale[c];");
    emit_close(e);
    snprintf(call, sizeof call, "%s(%s, in, scale, shift, out);",
             emit_kernel(e, "bn_affine", kernel), args);
    per_value(e, l, "out[i] = in[i] * scale[c] + shift[c];", NULL, call);
}

/* sums[first + c] = sum of x, sums[first + C + c] = sum of x * y over the
 * sample lanes: each lane's sum over the positions, then the lanes in
 * order (the kernel's order) */
static void emit_sums(Emitter *e, const Layer *l, const char *x, const char *y, int first) {
    const int C = channels(l), T = e->opt.tile;
    char args[64], kernel[48], idx[96], at[64];
    if (e->opt.style == STYLE_KERNELS) {
        emit_line(e, "%s(%s, pass->lanes, %s, %s, %s);", emit_kernel(e, "bn_sums", kernel),
                  shape_args(e, l, args), x, y, offset_expr(at, "sums", first));
        return;
    }
    emit_line(e, "const int lanes = pass->lanes;");
    open_channel(e, l, idx);
    emit_line(e, "double lane_sum[%d], lane_dot[%d];", T, T);
    emit_line(e, "for (int b = 0; b < %d; b++)", T);
    emit_line(e, "    lane_sum[b] = lane_dot[b] = 0;");
    const int n = open_lanes(e, l, idx);
    emit_line(e, "lane_sum[b] += %s[i];", x);
    emit_line(e, "lane_dot[b] += (double)%s[i] * %s[i];", x, y);
    emit_close_loops(e, n);
    emit_line(e, "double sum = 0, dot = 0;");
    emit_open(e, "for (int b = 0; b < lanes; b++)");
    emit_line(e, "sum += lane_sum[b];");
    emit_line(e, "dot += lane_dot[b];");
    emit_close(e);
    emit_line(e, "sums[%s] = sum;", first ? (snprintf(at, sizeof at, "%d + c", first), at) : "c");
    emit_line(e, "sums[%d + c] = dot;", first + C);
    emit_close(e);
}

static void batchnorm_forward_sums(Emitter *e, const Layer *l) { emit_sums(e, l, "in", "in", 0); }

static void batchnorm_backward_sums(Emitter *e, const Layer *l) {
    emit_sums(e, l, "dout", "saved", 2 * channels(l));
}

static void batchnorm_backward(Emitter *e, const Layer *l) {
    const int C = channels(l);
    const char *R = e->opt.real;
    char eps[32], args[64], call[256], kernel[48];
    spec_double(e, bn_of(l)->eps, eps);
    batch_sums(e, l);
    if (l->need_dinput)
        emit_line(e, "%s k[%d], mean_dout[%d], mean_dot[%d];", R, C, C, C);
    emit_open(e, "for (int c = 0; c < %d; c++)", C);
    emit_line(e, "const double sum = batch[%d + c], dot = batch[%d + c];", 2 * C, 3 * C);
    emit_open(e, "if (pass->sample == 0)");
    emit_line(e, "/* the batch's gradients: added once, with the first tile's */");
    emit_line(e, "ggamma[c] += (%s)dot;", R);
    emit_line(e, "gbeta[c] += (%s)sum;", R);
    emit_close(e);
    if (l->need_dinput) {
        batch_moments(e, l);
        emit_line(e, "k[c] = (%s)(gamma[c] / sqrt((var > 0 ? var : 0) + %s));", R, eps);
        emit_line(e, "mean_dout[c] = (%s)(sum / count);", R);
        emit_line(e, "mean_dot[c] = (%s)(dot / count);", R);
    }
    emit_close(e);
    if (!l->need_dinput)
        return;
    snprintf(call, sizeof call, "%s(%s, pass->lanes, dout, saved, k, mean_dout, mean_dot, din);",
             emit_kernel(e, "bn_grad", kernel), shape_args(e, l, args));
    if (e->opt.style != STYLE_KERNELS)
        emit_line(e, "const int lanes = pass->lanes;");
    per_value(e, l,
              "din[i] = b < lanes ? k[c] * (dout[i] - mean_dout[c] - saved[i] * mean_dot[c]) : 0;",
              NULL, call);
}

static void batchnorm_update_state(Emitter *e, const Layer *l) {
    const char *R = e->opt.real;
    char mom[32];
    spec_double(e, bn_of(l)->momentum, mom);
    batch_sums(e, l);
    emit_open(e, "for (int c = 0; c < %d; c++)", channels(l));
    batch_moments(e, l);
    emit_line(e, "/* PyTorch keeps the unbiased variance */");
    emit_line(e, "const double unbiased = count > 1 ? (var > 0 ? var : 0) * count / (count - 1) : 0;");
    emit_line(e, "running_mean[c] = (%s)(%s * running_mean[c] + (1 - %s) * mean);", R, mom, mom);
    emit_line(e, "running_var[c] = (%s)(%s * running_var[c] + (1 - %s) * unbiased);", R, mom, mom);
    emit_close(e);
    emit_line(e, "batches[0] += 1;");
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

const LayerKind batchnorm_kind = {
    .kind = "batchnorm",
    .prefix = "batchnorm",
    .keras = "BatchNormalization",
    .parse = batchnorm_parse,
    .infer = batchnorm_infer,
    .describe = batchnorm_describe,
    .macs = batchnorm_macs,
    .torch = batchnorm_torch,
    .uses_pass = true,
    /* one emitter per pass writes both styles: loops, or the kernels' calls */
    .forward = {[STYLE_LOOPS] = batchnorm_forward},
    .backward = {[STYLE_LOOPS] = batchnorm_backward},
    .forward_sums = batchnorm_forward_sums,
    .backward_sums = batchnorm_backward_sums,
    .update_state = batchnorm_update_state,
    .inference_affine = batchnorm_inference_affine,
};
