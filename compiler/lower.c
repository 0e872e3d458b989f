/* lower.c: building a layer's lowered program (lenetc.h: Op, Program), the
 * operations its pass computes, which render.c writes in a code style. */
#include <stdio.h>
#include <stdlib.h>

#include "lenetc.h"

void program_add(Program *p, Op op) {
    if (p->n == MAX_OPS) { /* no kind lowers to this many: a bug, not input */
        fprintf(stderr, "lenetc: internal error: more than %d operations in a pass\n", MAX_OPS);
        abort();
    }
    p->ops[p->n++] = op;
}

void lower_activation(Program *p, bool backward, Activation a, float alpha, long n) {
    if (backward)
        program_add(p, (Op){.kind = OP_ACTIVATION_GRAD, .n = n, .act = a, .alpha = alpha,
                            .out = "out", .dout = "dout", .din = "din"});
    else
        program_add(p, (Op){.kind = OP_ACTIVATION, .n = n, .act = a, .alpha = alpha, .in = "in",
                            .out = "out"});
}

void layer_lower(const Layer *l, const EmitOptions *o, LowerStage stage, bool backward,
                 Program *p) {
    const Lowering how = {.tile = o->tile, .stage = stage, .backward = backward,
                          .inference = o->forward_only};
    l->kind->lower(l, &how, p);
}

void lower_fused_activation(Program *p, const Layer *l, const Lowering *how) {
    const Activation a = layer_activation(l);
    const long n = shape_size(l->out) * how->tile;
    if (a == ACT_NONE)
        return;
    const float alpha = LAYER_DATA(FusedAct, l)->alpha;
    if (how->backward)
        program_add(p, (Op){.kind = OP_ACTIVATION_GRAD, .n = n, .act = a, .alpha = alpha,
                            .out = "out", .dout = "dout", .din = "dout", .fused = true});
    else
        program_add(p, (Op){.kind = OP_ACTIVATION, .n = n, .act = a, .alpha = alpha, .in = "out",
                            .out = "out"});
}
