/* render.c: a lowered program (lenetc.h: Op) as C, in a code style.
 *
 * The target language is a table, as tinygrad's renderer has it: each
 * operation's code in the loop style (plain scalar C, the reference), and
 * the styles that write an operation their own way override that entry
 * only: the kernels style calls the runtime's kernels where it has one for
 * the operation; the unrolled style writes out what has taps to unroll
 * (pooling: render_window.c) and takes the loops for elementwise ones.
 */
#include "lenetc.h"
#include "render.h"

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

/* Each style's tables, searched in order: the first that writes the
 * operation wins, and the loop style's are always last, so a style
 * overrides only what it writes its own way. */
#define MAX_TABLES 4
static const RenderFn *const styles[N_STYLES][MAX_TABLES] = {
    [STYLE_LOOPS] = {loops, render_window_loops},
    [STYLE_UNROLL] = {render_window_unrolled, loops, render_window_loops},
    [STYLE_KERNELS] = {kernels, render_window_kernels, loops, render_window_loops},
};

void render_program(Emitter *e, const Program *p) {
    for (int i = 0; i < p->n; i++) {
        const OpKind k = p->ops[i].kind;
        RenderFn fn = NULL;
        for (int t = 0; !fn && t < MAX_TABLES && styles[e->opt.style][t]; t++)
            fn = styles[e->opt.style][t][k];
        fn(e, &p->ops[i]);
    }
}
