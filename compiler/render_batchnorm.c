/* render_batchnorm.c: batch normalisation's operations (OP_BN_*, OP_AFFINE)
 * in each code style, over C channels of P positions (op->bn) in tiles of
 * T lanes (layer_batchnorm.c says what each computes and why). They read
 * the layer's gamma, beta, running_mean, running_var, in, saved, dout and
 * pass (its sums: pass->sums, the batch's: pass->batch_sums).
 *
 * The statistics are computed in double whatever the code's type, in one
 * order: a lane's sum over the positions, then the lanes in order (the
 * kernels' order), so that every style and target gives the same bits.
 * The kernels style calls the runtime's bn_* kernels for the per-value
 * work; the loop style writes it as loops over channels, positions and
 * lanes, which the unrolled style takes as well (there are no taps).
 */
#include <stdio.h>
#include <string.h>

#include "lenetc.h"
#include "render.h"

/* A spec's number as a double literal ("0.99", "0.001"). */
static const char *spec_double(const Emitter *e, float v, char buf[32]) {
    Emitter d = *e;
    d.opt.real = "double";
    return emit_spec_real(&d, v, buf);
}

/* `for (int c...) {`; leaves in idx the index of lane 0 of (c, s) divided
 * by the tile. */
static void open_channel(Emitter *e, const Op *op, char idx[96]) {
    emit_open(e, "for (int c = 0; c < %d; c++)", op->bn.C);
    index_expr(idx, 2, (const char *[]){"c", "s"}, (const int[]){op->bn.C, op->bn.P});
}

/* The pointer to the batch's sums and their count. */
static void batch_sums(Emitter *e, const Op *op) {
    char buf[64];
    emit_line(e, "const double *restrict batch = %s;",
              offset_expr(buf, "pass->batch_sums", op->bn.sums_off));
    if (op->bn.P > 1)
        emit_line(e, "const double count = (double)pass->batch * %d;", op->bn.P);
    else
        emit_line(e, "const double count = pass->batch;");
}

/* Inside the channel loop: the batch's mean and biased variance of c. */
static void batch_moments(Emitter *e, const Op *op) {
    emit_line(e, "const double mean = batch[c] / count;");
    emit_line(e, "const double var = batch[%d + c] / count - mean * mean;", op->bn.C);
}

/* The position and lane loops of channel c, i the value's index; returns
 * the blocks opened. */
static int open_lanes(Emitter *e, const Op *op, const char *idx) {
    const int opened = emit_loop(e, "s", op->bn.P);
    emit_open(e, "for (int b = 0; b < %d; b++)", op->tile);
    char at[128];
    times(at, idx, op->tile);
    if (strcmp(at, "0") == 0)
        emit_line(e, "const long i = b;");
    else
        emit_line(e, "const long i = %s + b;", at);
    return opened + 1;
}

/* The kernels' first arguments: channels, positions, tile. */
static const char *shape_args(const Op *op, char buf[64]) {
    snprintf(buf, 64, "%d, %d, %d", op->bn.C, op->bn.P, op->tile);
    return buf;
}

/* Every value of every channel: body (then then, if not NULL) in loops. */
static void per_value(Emitter *e, const Op *op, const char *body, const char *then) {
    char idx[96];
    open_channel(e, op, idx);
    const int n = open_lanes(e, op, idx);
    emit_line(e, "%s", body);
    if (then)
        emit_line(e, "%s", then);
    emit_close_loops(e, n + 1);
}

/* ---- OP_BN_BATCH: training, the whole batch's statistics ------------- */

static void bn_batch_begin(Emitter *e, const Op *op) {
    const int C = op->bn.C;
    const char *R = e->opt.real;
    char eps[32];
    emit_open(e, "if (pass->training)");
    emit_line(e, "/* the whole batch's statistics */");
    batch_sums(e, op);
    emit_line(e, "%s mean[%d], invstd[%d];", R, C, C);
    emit_open(e, "for (int c = 0; c < %d; c++)", C);
    emit_line(e, "const double m = batch[c] / count;");
    emit_line(e, "const double var = batch[%d + c] / count - m * m;", C);
    emit_line(e, "mean[c] = (%s)m;", R);
    emit_line(e, "invstd[c] = (%s)(1 / sqrt((var > 0 ? var : 0) + %s));", R,
              spec_double(e, op->bn.eps, eps));
    emit_close(e);
}

static void bn_batch_end(Emitter *e) {
    emit_line(e, "return;");
    emit_close(e);
}

static void bn_batch_loops(Emitter *e, const Op *op) {
    bn_batch_begin(e, op);
    emit_line(e, "const int lanes = pass->lanes;");
    per_value(e, op, "saved[i] = b < lanes ? (in[i] - mean[c]) * invstd[c] : 0;",
              "out[i] = gamma[c] * saved[i] + beta[c];");
    bn_batch_end(e);
}

static void bn_batch_kernels(Emitter *e, const Op *op) {
    char args[64], fn[48];
    bn_batch_begin(e, op);
    emit_line(e, "%s(%s, pass->lanes, in, mean, invstd, gamma, beta, saved, out);",
              emit_kernel(e, "bn_normalize", fn), shape_args(op, args));
    bn_batch_end(e);
}

/* ---- OP_BN_RUNNING: evaluation, the running statistics ---------------- */

static void bn_running_begin(Emitter *e, const Op *op) {
    const int C = op->bn.C;
    const char *R = e->opt.real;
    char eps[32];
    emit_line(e, "/* evaluation: the running statistics */");
    emit_line(e, "%s scale[%d], shift[%d];", R, C, C);
    emit_open(e, "for (int c = 0; c < %d; c++)", C);
    emit_line(e, "scale[c] = (%s)(gamma[c] / sqrt((double)running_var[c] + %s));", R,
              spec_double(e, op->bn.eps, eps));
    emit_line(e, "shift[c] = beta[c] - running_mean[c] * scale[c];");
    emit_close(e);
}

static void bn_running_loops(Emitter *e, const Op *op) {
    bn_running_begin(e, op);
    per_value(e, op, "out[i] = in[i] * scale[c] + shift[c];", NULL);
}

static void bn_running_kernels(Emitter *e, const Op *op) {
    char args[64], fn[48];
    bn_running_begin(e, op);
    emit_line(e, "%s(%s, in, scale, shift, out);", emit_kernel(e, "bn_affine", fn),
              shape_args(op, args));
}

/* ---- OP_AFFINE: the export's, weight and bias already scale and shift */

static void affine_loops(Emitter *e, const Op *op) {
    per_value(e, op, "out[i] = in[i] * gamma[c] + beta[c];", NULL);
}

/* ---- OP_BN_SUMS: a tile's share of the batch's sums ------------------- */

/* sums[first + c] = sum of x, sums[first + C + c] = sum of x * y over the
 * sample lanes: each lane's sum over the positions, then the lanes in
 * order (the kernel's order) */
static void bn_sums_loops(Emitter *e, const Op *op) {
    const int C = op->bn.C, T = op->tile, first = op->bn.first;
    char idx[96], at[64];
    emit_line(e, "const int lanes = pass->lanes;");
    open_channel(e, op, idx);
    emit_line(e, "double lane_sum[%d], lane_dot[%d];", T, T);
    emit_line(e, "for (int b = 0; b < %d; b++)", T);
    emit_line(e, "    lane_sum[b] = lane_dot[b] = 0;");
    const int n = open_lanes(e, op, idx);
    emit_line(e, "lane_sum[b] += %s[i];", op->in);
    emit_line(e, "lane_dot[b] += (double)%s[i] * %s[i];", op->in, op->by);
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

static void bn_sums_kernels(Emitter *e, const Op *op) {
    char args[64], fn[48], at[64];
    emit_line(e, "%s(%s, pass->lanes, %s, %s, %s);", emit_kernel(e, "bn_sums", fn),
              shape_args(op, args), op->in, op->by, offset_expr(at, "sums", op->bn.first));
}

/* ---- OP_BN_GRAD: the backward pass ------------------------------------ */

/* gamma's and beta's gradients, and (need_dinput) the factors of din */
static void bn_grad_begin(Emitter *e, const Op *op) {
    const int C = op->bn.C;
    const char *R = e->opt.real;
    char eps[32];
    batch_sums(e, op);
    if (op->need_dinput)
        emit_line(e, "%s k[%d], mean_dout[%d], mean_dot[%d];", R, C, C, C);
    emit_open(e, "for (int c = 0; c < %d; c++)", C);
    emit_line(e, "const double sum = batch[%d + c], dot = batch[%d + c];", 2 * C, 3 * C);
    emit_open(e, "if (pass->sample == 0)");
    emit_line(e, "/* the batch's gradients: added once, with the first tile's */");
    emit_line(e, "ggamma[c] += (%s)dot;", R);
    emit_line(e, "gbeta[c] += (%s)sum;", R);
    emit_close(e);
    if (op->need_dinput) {
        batch_moments(e, op);
        emit_line(e, "k[c] = (%s)(gamma[c] / sqrt((var > 0 ? var : 0) + %s));", R,
                  spec_double(e, op->bn.eps, eps));
        emit_line(e, "mean_dout[c] = (%s)(sum / count);", R);
        emit_line(e, "mean_dot[c] = (%s)(dot / count);", R);
    }
    emit_close(e);
}

static void bn_grad_loops(Emitter *e, const Op *op) {
    bn_grad_begin(e, op);
    if (!op->need_dinput)
        return;
    emit_line(e, "const int lanes = pass->lanes;");
    per_value(e, op,
              "din[i] = b < lanes ? k[c] * (dout[i] - mean_dout[c] - saved[i] * mean_dot[c]) : 0;",
              NULL);
}

static void bn_grad_kernels(Emitter *e, const Op *op) {
    char args[64], fn[48];
    bn_grad_begin(e, op);
    if (op->need_dinput)
        emit_line(e, "%s(%s, pass->lanes, dout, saved, k, mean_dout, mean_dot, din);",
                  emit_kernel(e, "bn_grad", fn), shape_args(op, args));
}

/* ---- OP_BN_UPDATE: the running statistics, once a step ---------------- */

static void bn_update_loops(Emitter *e, const Op *op) {
    const char *R = e->opt.real;
    char mom[32];
    spec_double(e, op->bn.momentum, mom);
    batch_sums(e, op);
    emit_open(e, "for (int c = 0; c < %d; c++)", op->bn.C);
    batch_moments(e, op);
    emit_line(e, "/* PyTorch keeps the unbiased variance */");
    emit_line(e, "const double unbiased = count > 1 ? (var > 0 ? var : 0) * count / (count - 1) : 0;");
    emit_line(e, "running_mean[c] = (%s)(%s * running_mean[c] + (1 - %s) * mean);", R, mom, mom);
    emit_line(e, "running_var[c] = (%s)(%s * running_var[c] + (1 - %s) * unbiased);", R, mom, mom);
    emit_close(e);
    emit_line(e, "batches[0] += 1;");
}

const RenderFn render_batchnorm_loops[N_OPS] = {
    [OP_BN_BATCH] = bn_batch_loops,   [OP_BN_RUNNING] = bn_running_loops,
    [OP_AFFINE] = affine_loops,       [OP_BN_SUMS] = bn_sums_loops,
    [OP_BN_GRAD] = bn_grad_loops,     [OP_BN_UPDATE] = bn_update_loops,
};

/* the per-value work by the runtime's kernels; the export's affine map and
 * the once-a-step update stay loops */
const RenderFn render_batchnorm_kernels[N_OPS] = {
    [OP_BN_BATCH] = bn_batch_kernels, [OP_BN_RUNNING] = bn_running_kernels,
    [OP_BN_SUMS] = bn_sums_kernels,   [OP_BN_GRAD] = bn_grad_kernels,
};
