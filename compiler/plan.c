/* plan.c: the int8 program's memory plan: every tensor (activations and
 * the gemms' int16 columns) gets a place in one arena, reused once the
 * tensor is dead.
 *
 * A tensor lives from the operation that writes it to the last that
 * reads it (the input from the copy before operation 0, the logits to
 * the argmax after the last); two tensors whose lives meet must not
 * share a byte. Places are chosen greedily, largest tensor first, each at
 * the lowest offset (a multiple of 4: the DSP kernels load words) clear
 * of every placed tensor it meets, as TensorFlow Lite Micro's greedy
 * planner does. The arena is the highest end.
 */
#include <stdio.h>
#include <stdlib.h>

#include "int8.h"

static bool lives_meet(const QTensor *a, const QTensor *b) {
    return a->first <= b->last && b->first <= a->last;
}

static long align4(long n) { return (n + 3) & ~3L; }

void int8_plan(QProgram *qp) {
    QTensor *t = qp->tensors;
    const int n = qp->n_tensors;
    t[qp->input].first = 0;
    for (int i = 0; i < qp->n_ops; i++) {
        const QOp *op = &qp->ops[i];
        t[op->in].last = i;
        t[op->out].first = i;
        t[op->out].last = i;
        if (op->scratch >= 0)
            t[op->scratch].first = t[op->scratch].last = i;
    }
    t[qp->logits].last = qp->n_ops; /* read by the argmax */
    int order[MAX_QTENSORS], placed[MAX_QTENSORS], n_placed = 0;
    for (int i = 0; i < n; i++)
        order[i] = i;
    for (int i = 1; i < n; i++) /* by size, largest first; stable */
        for (int j = i; j > 0 && t[order[j]].bytes > t[order[j - 1]].bytes; j--) {
            const int k = order[j];
            order[j] = order[j - 1];
            order[j - 1] = k;
        }
    qp->arena = 0;
    for (int i = 0; i < n; i++) {
        QTensor *a = &t[order[i]];
        long off = 0;
        if (!a->bytes) /* fused away: never stored */
            continue;
        for (bool moved = true; moved;) {
            moved = false;
            for (int j = 0; j < n_placed; j++) {
                const QTensor *b = &t[placed[j]];
                if (lives_meet(a, b) && off < b->off + b->bytes && b->off < off + a->bytes) {
                    off = align4(b->off + b->bytes);
                    moved = true;
                }
            }
        }
        a->off = off;
        placed[n_placed++] = order[i];
        if (off + a->bytes > qp->arena)
            qp->arena = off + a->bytes;
    }
    qp->arena = align4(qp->arena);
    /* the plan as the export's comment shows it */
    int len = 0;
    for (int i = 0; i < n && len < (int)sizeof qp->plan - 100; i++)
        if (t[i].bytes)
            len += snprintf(qp->plan + len, sizeof qp->plan - (size_t)len,
                        " *   %-22s %6ld bytes at %6ld, live in operations %d..%d\n",
                        t[i].name, t[i].bytes, t[i].off, t[i].first, t[i].last);
}
