/* fuse.c: passes over lowered programs (lenetc.h: Program) before they are
 * rendered, where operations are merged for a style, so far both for the
 * kernels style: within a layer, its relu into the gemm before it (the
 * gemm kernel clamps as it stores: one pass over the output, not two);
 * across layers, a relu layer into the maxpool before it (the window
 * kernel clamps as it stores, and its backward routes the gradient only
 * from windows whose output is positive: the relu layer's two passes over
 * the pooled map are gone). */
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
 * that p's maxpool can take in: max(relu(x)) = relu(max(x)) exactly, and
 * where the max is not positive the relu passes no gradient whichever
 * input the pool would give it to. */
static bool relu_after_maxpool(const Program *p, const Program *next, bool backward) {
    if (p->n != 1 || next->n != 1)
        return false;
    const Op *pool = &p->ops[0], *relu = &next->ops[0];
    return pool->kind == (backward ? OP_MAXPOOL_GRAD : OP_MAXPOOL) &&
           relu->kind == (backward ? OP_ACTIVATION_GRAD : OP_ACTIVATION) &&
           relu->act == ACT_RELU && !relu->fused;
}

bool program_fuse_next(Program *p, const Program *next, bool backward) {
    if (!relu_after_maxpool(p, next, backward))
        return false;
    p->ops[0].relu = true;
    return true;
}

/* Layer i + 1 reads only layer i's output, which nothing else reads: its
 * pass may be done in layer i's, writing its output in i's place. */
static bool only_reader_next(const Model *m, int i) {
    if (i + 1 >= m->n_layers)
        return false;
    const Layer *l = &m->layers[i], *next = &m->layers[i + 1];
    return l->users == 1 && layer_inputs(next) == 1 && next->inputs[0] == i &&
           !l->kind->view && !next->kind->view && !l->kind->batch_statistics &&
           !next->kind->batch_statistics && next->part == l->part;
}

bool model_fuses_next(const Model *m, int i, const EmitOptions *o) {
    if (o->style != STYLE_KERNELS || o->every_output || !only_reader_next(m, i))
        return false;
    /* both passes must fuse, or the relu's functions are still needed */
    for (int backward = 0; backward < 2; backward++) {
        Program p = {.n = 0}, next = {.n = 0};
        layer_lower(&m->layers[i], o, LOWER_PASS, backward, &p);
        layer_lower(&m->layers[i + 1], o, LOWER_PASS, backward, &next);
        program_fuse(&p, o->style);
        if (!relu_after_maxpool(&p, &next, backward))
            return false;
    }
    return true;
}
