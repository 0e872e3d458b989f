/* fuse.c: passes over lowered programs (lenetc.h: Program) before they are
 * rendered, where operations are merged for a style, so far all for the
 * kernels style: within a layer, its relu into the gemm before it (the
 * gemm kernel clamps as it stores: one pass over the output, not two);
 * across layers, where a layer's output has one reader, the one after it,
 * a relu into the maxpool next to it: a relu layer after the pool (its two
 * passes over the pooled map are gone) and a conv's own relu before it
 * (its backward pass over the conv's output is gone). The window kernel
 * clamps as it stores and its backward gives no gradient from a window
 * whose output is not positive: the same bits either way. */
#include <string.h>

#include "lenetc.h"

/* Whether op is a relu on out in place, right after a gemm (a dense
 * layer's or a convolution's forward operation). */
static bool relu_after_gemm(const Op *gemm, const Op *op) {
    return (gemm->kind == OP_DENSE || gemm->kind == OP_CONV) && op->kind == OP_ACTIVATION && op->act == ACT_RELU &&
           !strcmp(op->in, "out") && !strcmp(op->out, "out");
}

void program_fuse(Program *p, CodeStyle style) {
    if (style != STYLE_KERNELS)
        return;
    int n = 0;
    for (int i = 0; i < p->n; i++) {
        if (n && relu_after_gemm(&p->ops[n - 1], &p->ops[i])) {
            p->ops[n - 1].relu = true;
            continue;
        }
        p->ops[n++] = p->ops[i];
    }
    p->n = n;
}

/* Whether next, the pass of the layer after p's, is a relu of its input
 * that p's maxpool can take in: max then relu, as the layers compute it,
 * in one kernel (its backward passes no gradient from a window whose
 * output is not positive, which the relu's would have zeroed). */
static bool relu_after_maxpool(const Program *p, const Program *next, bool backward) {
    if (p->n != 1 || next->n != 1)
        return false;
    const Op *pool = &p->ops[0], *relu = &next->ops[0];
    return pool->kind == (backward ? OP_MAXPOOL_GRAD : OP_MAXPOOL) &&
           relu->kind == (backward ? OP_ACTIVATION_GRAD : OP_ACTIVATION) &&
           relu->act == ACT_RELU && !relu->fused;
}

/* Layer i + 1 reads only layer i's output, which nothing else reads: what
 * one does to it, the other may. */
static bool only_reader_next(const Model *m, int i) {
    if (i < 0 || i + 1 >= m->n_layers)
        return false;
    const Layer *l = &m->layers[i], *next = &m->layers[i + 1];
    return l->users == 1 && layer_inputs(next) == 1 && next->inputs[0] == i &&
           !l->kind->view && !next->kind->view && !l->kind->batch_statistics &&
           !next->kind->batch_statistics && next->part == l->part;
}

/* Whether o's code fuses across layers at all: the kernels style, unless
 * every layer's output must be there. */
static bool fuses_layers(const EmitOptions *o) {
    return o->style == STYLE_KERNELS && !o->every_output;
}

/* Layer i's pass (forward or backward) as program_fuse leaves it. */
static void lowered(const Model *m, int i, const EmitOptions *o, bool backward, Program *p) {
    *p = (Program){.n = 0};
    layer_lower(&m->layers[i], o, LOWER_PASS, backward, p);
    program_fuse(p, o->style);
}

bool model_fuses_next(const Model *m, int i, const EmitOptions *o) {
    if (!fuses_layers(o) || !only_reader_next(m, i))
        return false;
    /* both passes must fuse, or the relu's functions are still needed */
    for (int backward = 0; backward < 2; backward++) {
        Program p, next;
        lowered(m, i, o, backward, &p);
        lowered(m, i + 1, o, backward, &next);
        if (!relu_after_maxpool(&p, &next, backward))
            return false;
    }
    return true;
}

/* Whether layer i's own relu (a conv's `activation: relu`) moves into the
 * maxpool after it, which only it feeds: relu then max becomes max then
 * relu, the same values (relu is monotonic; only a NaN input, which the
 * relu clamped and the max keeps, differs), and in backward the pool's
 * kernel gives no gradient from a window whose output is not positive,
 * which is what the conv's relu did to the one it gave: the same bits, and
 * the relu's pass over the conv's output (size^2 times the pool's) is
 * gone. */
bool model_relu_moves_next(const Model *m, int i, const EmitOptions *o) {
    if (!fuses_layers(o) || !only_reader_next(m, i) ||
        layer_activation(&m->layers[i]) != ACT_RELU)
        return false;
    for (int backward = 0; backward < 2; backward++) {
        Program next;
        lowered(m, i + 1, o, backward, &next);
        if (next.n != 1 || next.ops[0].kind != (backward ? OP_MAXPOOL_GRAD : OP_MAXPOOL))
            return false;
    }
    return true;
}

/* p without its relu: the gemm's (forward) and the derivative on dout
 * (backward). */
static void drop_relu(Program *p) {
    int n = 0;
    for (int i = 0; i < p->n; i++) {
        Op *op = &p->ops[i];
        if ((op->kind == OP_ACTIVATION || op->kind == OP_ACTIVATION_GRAD) && op->act == ACT_RELU)
            continue;
        op->relu = false;
        p->ops[n++] = *op;
    }
    p->n = n;
}

void model_fuse(const Model *m, int i, const EmitOptions *o, bool backward, Program *p) {
    if (!fuses_layers(o))
        return;
    if (model_relu_moves_next(m, i, o))
        drop_relu(p);
    if (model_relu_moves_next(m, i - 1, o) || model_fuses_next(m, i, o))
        p->ops[0].relu = true; /* its one operation, the maxpool (or its gradient) */
}
