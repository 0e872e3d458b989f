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
 *
 * In a graph a tensor lives to its last reader, however far (a residual
 * block's shortcut across the block). A tensor written in place of
 * another (in_place_of: an add fused into the conv before it writes over
 * its other input, which dies there) is not placed: it takes the other's
 * bytes, whose life is then both lives.
 */
#include <stdio.h>
#include <stdlib.h>

#include "int8.h"

/* The tensor whose bytes t has (itself, or what it is in place of). */
static int root(const QTensor *t, int i) {
    while (t[i].in_place_of >= 0)
        i = t[i].in_place_of;
    return i;
}

static bool lives_meet(const int *first, const int *last, int a, int b) {
    return first[a] <= last[b] && first[b] <= last[a];
}

static long align4(long n) { return (n + 3) & ~3L; }

void int8_plan(QProgram *qp) {
    QTensor *t = qp->tensors;
    const int n = qp->n_tensors;
    t[qp->input].first = 0;
    for (int i = 0; i < qp->n_ops; i++) {
        const QOp *op = &qp->ops[i];
        for (int j = 0; j < op->n_in; j++)
            t[op->ins[j]].last = i;
        t[op->out].first = i;
        t[op->out].last = i;
        if (op->scratch >= 0)
            t[op->scratch].first = t[op->scratch].last = i;
        if (op->added) {
            t[op->mid].first = t[op->mid].last = i;
            t[op->other].last = i;
        }
    }
    t[qp->logits].last = qp->n_ops; /* read by the argmax */
    /* each placed tensor's life, with those of the tensors in its place */
    int first[MAX_QTENSORS], last[MAX_QTENSORS];
    for (int i = 0; i < n; i++)
        first[i] = t[i].first, last[i] = t[i].last;
    for (int i = 0; i < n; i++) {
        const int r = root(t, i);
        first[r] = first[r] < t[i].first ? first[r] : t[i].first;
        last[r] = last[r] > t[i].last ? last[r] : t[i].last;
    }
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
        if (!a->bytes || a->in_place_of >= 0) /* fused away: never stored; in place */
            continue;
        for (bool moved = true; moved;) {
            moved = false;
            for (int j = 0; j < n_placed; j++) {
                const QTensor *b = &t[placed[j]];
                if (lives_meet(first, last, order[i], placed[j]) && off < b->off + b->bytes &&
                    b->off < off + a->bytes) {
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
    for (int i = 0; i < n; i++)
        t[i].off = t[root(t, i)].off;
    qp->arena = align4(qp->arena);
    /* the plan as the export's comment shows it */
    int len = 0;
    for (int i = 0; i < n && len < (int)sizeof qp->plan - 100; i++)
        if (t[i].bytes)
            len += snprintf(qp->plan + len, sizeof qp->plan - (size_t)len,
                        " *   %-22s %6ld bytes at %6ld, live in operations %d..%d\n",
                        t[i].name, t[i].bytes, t[i].off, t[i].first, t[i].last);
}
