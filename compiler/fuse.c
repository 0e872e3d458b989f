/* fuse.c: passes over a lowered program (lenetc.h: Program) before it is
 * rendered, where operations are merged for a style: so far the kernels
 * style's relu into the gemm before it (the gemm kernel clamps as it
 * stores: one pass over the output, not two). */
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
