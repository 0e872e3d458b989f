/* render.c: a lowered program (lenetc.h: Op) as C, in a code style.
 *
 * The target language is a table, as tinygrad's renderer has it: each
 * operation's code in the loop style (plain scalar C, the reference), and
 * the styles that write an operation their own way override that entry
 * only: the kernels style calls the runtime's kernels where it has one for
 * the operation; the unrolled style has nothing to unroll in an
 * elementwise operation and takes the loops.
 */
#include "lenetc.h"

typedef void (*RenderFn)(Emitter *e, const Op *op);

/* ---- the loop style: every operation ----------------------------------- */

static void activation_loops(Emitter *e, const Op *op) {
    emit_activation(e, op->act, op->alpha, op->n, op->in, op->out);
}

static void activation_grad_loops(Emitter *e, const Op *op) {
    emit_activation_grad(e, op->act, op->alpha, op->n, op->out, op->dout, op->din);
}

static const RenderFn loops[N_OPS] = {
    [OP_ACTIVATION] = activation_loops,
    [OP_ACTIVATION_GRAD] = activation_grad_loops,
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
    if (op->act != ACT_RELU)
        activation_grad_loops(e, op);
    else
        emit_line(e, "%s(%ld, %s, %s, %s);", emit_kernel(e, "relu_backward", fn), op->n, op->out,
                  op->dout, op->din);
}

static const RenderFn kernels[N_OPS] = {
    [OP_ACTIVATION] = activation_kernels,
    [OP_ACTIVATION_GRAD] = activation_grad_kernels,
};

/* ---- every style -------------------------------------------------------- */

/* Each style's overrides; NULL entries (and the unrolled style's, so far)
 * are the loop style's. */
static const RenderFn *const styles[N_STYLES] = {
    [STYLE_LOOPS] = loops,
    [STYLE_KERNELS] = kernels,
};

void render_program(Emitter *e, const Program *p) {
    const RenderFn *table = styles[e->opt.style];
    for (int i = 0; i < p->n; i++) {
        const OpKind k = p->ops[i].kind;
        (table && table[k] ? table[k] : loops[k])(e, &p->ops[i]);
    }
}
