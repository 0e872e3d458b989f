/* render.c: a lowered program (lenetc.h: Op) as C, in a code style.
 *
 * The target language is a table, as tinygrad's renderer has it: each
 * operation's code in the loop style (plain scalar C, the reference), and
 * the styles that write an operation their own way override that entry
 * only: the kernels style calls the runtime's kernels where it has one for
 * the operation; the unrolled style writes out what has taps to unroll
 * (pooling, dense, conv: render_window.c, render_dense.c, render_conv.c)
 * and takes the loops for elementwise ones and batchnorm's
 * (render_batchnorm.c).
 */
#include <stdio.h>
#include <stdlib.h>

#include "lenetc.h"
#include "render.h"

/* ---- the loop style: every operation ----------------------------------- */

static void activation_loops(Emitter *e, const Op *op) {
    emit_activation(e, op->act, op->alpha, op->n, op->in, op->out);
}

#define RELU_GRADIENT_RULE "/* relu: no gradient where the output was clamped */"

/* A layer's fused activation says what it does to dout in place. */
static void fused_comment(Emitter *e, const Op *op) {
    if (op->fused)
        emit_line(e, op->act == ACT_RELU ? RELU_GRADIENT_RULE
                                         : "/* the activation's derivative, from the output */");
}

static void activation_grad_loops(Emitter *e, const Op *op) {
    fused_comment(e, op);
    emit_activation_grad(e, op->act, op->alpha, op->n, op->out, op->dout, op->din);
}

/* "i" or "80 + i" */
static const char *at_i(char buf[32], long at) {
    if (at)
        snprintf(buf, 32, "%ld + i", at);
    else
        snprintf(buf, 32, "i");
    return buf;
}

static void copy_loops(Emitter *e, const Op *op) {
    char o[32], i[32];
    emit_line(e, "for (int i = 0; i < %ld; i++)", op->n);
    emit_line(e, "    %s[%s] = %s[%s];", op->out, at_i(o, op->out_at), op->in, at_i(i, op->in_at));
}

static void add_loops(Emitter *e, const Op *op) {
    emit_line(e, "for (int i = 0; i < %ld; i++)", op->n);
    emit_line(e, "    %s[i] = %s[i] + %s[i];", op->out, op->in, op->by);
}

/* The mean over positions: each lane's sum in position order, times 1 / P */
static void global_avgpool_loops(Emitter *e, const Op *op) {
    const int T = op->tile;
    char k[32];
    emit_real(e, 1.0 / op->positions, k);
    emit_open(e, "for (int c = 0; c < %d; c++)", op->channels);
    emit_line(e, "%s *o = out + c * %d;", e->opt.real, T);
    emit_lanes(e, "o[$] = 0;");
    emit_open(e, "for (int p = 0; p < %d; p++)", op->positions);
    emit_line(e, "const %s *x = in + ((long)c * %d + p) * %d;", e->opt.real, op->positions, T);
    emit_lanes(e, "o[$] += x[$];");
    emit_close(e);
    emit_lanes(e, "o[$] *= %s;", k);
    emit_close(e);
}

static void global_avgpool_grad_loops(Emitter *e, const Op *op) {
    const int T = op->tile;
    char k[32];
    emit_real(e, 1.0 / op->positions, k);
    emit_open(e, "for (int c = 0; c < %d; c++)", op->channels);
    emit_line(e, "const %s *d = dout + c * %d;", e->opt.real, T);
    emit_open(e, "for (int p = 0; p < %d; p++)", op->positions);
    emit_line(e, "%s *x = din + ((long)c * %d + p) * %d;", e->opt.real, op->positions, T);
    emit_lanes(e, "x[$] = d[$] * %s;", k);
    emit_close(e);
    emit_close(e);
}

static void scale_loops(Emitter *e, const Op *op) {
    char k[32];
    emit_line(e, "for (int i = 0; i < %ld; i++)", op->n);
    emit_line(e, "    %s[i] = %s * %s[i];", op->out, emit_spec_real(e, op->factor, k), op->in);
}

static void mul_loops(Emitter *e, const Op *op) {
    emit_line(e, "for (int i = 0; i < %ld; i++)", op->n);
    emit_line(e, "    %s[i] = %s[i] * %s[i];", op->out, op->in, op->by);
}

/* The mask: a value is kept when its 24 random bits (splitmix64 of the
 * pass's seed, the sample's place in the batch and the feature) are at
 * least rate * 2^24, so the bits do not depend on the tile or thread count;
 * kept values are scaled by 1 / (1 - rate). Outside training, a copy. */
static void dropout_loops(Emitter *e, const Op *op) {
    const int T = op->tile;
    char keep[32], scale[32];
    const unsigned long threshold = (unsigned long)((double)op->rate * 16777216.0 + 0.5);
    emit_real(e, 1.0 / (1.0 - (double)op->rate), scale);
    snprintf(keep, sizeof keep, "%lu", threshold);
    emit_open(e, "if (!pass->training)");
    copy_loops(e, op);
    emit_line(e, "return;");
    emit_close(e);
    emit_open(e, "for (int f = 0; f < %ld; f++)", op->features);
    emit_open(e, "for (int b = 0; b < %d; b++)", T);
    emit_line(e, "/* splitmix64 of (seed, sample, feature) */");
    emit_line(e, "unsigned long long z = pass->seed ^ (unsigned long long)(pass->sample + b) * "
                 "0x9e3779b97f4a7c15ull");
    emit_line(e, "    ^ (unsigned long long)f * 0xd1b54a32d192ed03ull;");
    emit_line(e, "z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;");
    emit_line(e, "z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;");
    emit_line(e, "z ^= z >> 31;");
    emit_line(e, "const long i = (long)f * %d + b;", T);
    emit_line(e, "%s[i] = (z >> 40) >= %sull ? %s : 0;", op->by, keep, scale);
    emit_line(e, "%s[i] = %s[i] * %s[i];", op->out, op->in, op->by);
    emit_close(e);
    emit_close(e);
}

static const RenderFn loops[N_OPS] = {
    [OP_ACTIVATION] = activation_loops,
    [OP_ACTIVATION_GRAD] = activation_grad_loops,
    [OP_COPY] = copy_loops,
    [OP_ADD] = add_loops,
    [OP_GLOBAL_AVGPOOL] = global_avgpool_loops,
    [OP_GLOBAL_AVGPOOL_GRAD] = global_avgpool_grad_loops,
    [OP_SCALE] = scale_loops,
    [OP_MUL] = mul_loops,
    [OP_DROPOUT] = dropout_loops,
};

/* ---- the kernels style: the runtime's relu; the rest as loops --------- */

static void activation_kernels(Emitter *e, const Op *op) {
    char fn[48];
    if (op->act != ACT_RELU)
        activation_loops(e, op);
    else
        emit_line(e, "%s(%ld, %s, %s);", emit_kernel(e, "relu_forward", fn), op->n, op->in,
                  op->out);
}

static void activation_grad_kernels(Emitter *e, const Op *op) {
    char fn[48];
    if (op->act != ACT_RELU) {
        activation_grad_loops(e, op);
        return;
    }
    fused_comment(e, op);
    emit_line(e, "%s(%ld, %s, %s, %s);", emit_kernel(e, "relu_backward", fn), op->n, op->out,
              op->dout, op->din);
}

static const RenderFn kernels[N_OPS] = {
    [OP_ACTIVATION] = activation_kernels,
    [OP_ACTIVATION_GRAD] = activation_grad_kernels,
};

/* ---- every style -------------------------------------------------------- */

/* Each style's tables, searched in order: the first that writes the
 * operation wins, and the elementwise loops come last, so a style
 * overrides only what it writes its own way. */
#define MAX_TABLES 8
static const RenderFn *const styles[N_STYLES][MAX_TABLES] = {
    [STYLE_LOOPS] = {loops, render_window_loops, render_dense_loops, render_conv_loops,
                     render_batchnorm_loops},
    [STYLE_UNROLL] = {render_window_unrolled, render_dense_unrolled, render_conv_unrolled, loops,
                      render_batchnorm_loops},
    [STYLE_KERNELS] = {kernels, render_window_kernels, render_dense_kernels, render_conv_kernels,
                       render_batchnorm_kernels, loops, render_batchnorm_loops},
};

void render_program(Emitter *e, const Program *p) {
    for (int i = 0; i < p->n; i++) {
        const OpKind k = p->ops[i].kind;
        RenderFn fn = NULL;
        for (int t = 0; !fn && t < MAX_TABLES && styles[e->opt.style][t]; t++)
            fn = styles[e->opt.style][t][k];
        if (!fn) { /* an operation some style cannot write: a bug, not input */
            fprintf(stderr, "lenetc: internal error: no %s code for operation %d\n",
                    emit_style_name(e->opt.style), k);
            abort();
        }
        fn(e, &p->ops[i]);
    }
}
