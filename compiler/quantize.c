/* quantize.c: a trained float model as an int8 program (int8.h: the
 * scheme), a pass over its lowered operations.
 *
 * The model is first the export's (batchnorm folded into the layer it
 * reads where it is that layer's only reader); each layer is lowered for
 * inference and its operations are taken one by one, in the model's
 * order, each reading the tensors of the layers its inputs name: a conv
 * or dense gemm becomes Q_CONV or Q_DENSE with its weights quantized per
 * output channel (a depthwise conv: per channel, in groups), a batchnorm
 * kept is a 1x1 depthwise conv of one tap, an add is TFLite's ADD, a
 * concat requantizes its inputs to its params, global average pooling is
 * TFLite's MEAN; a relu that is the only reader of a conv, dense, add or
 * kept batchnorm (or of the maxpool that is its only reader: max and relu
 * commute) goes into its clamp; pooling keeps its input's params, any
 * other activation becomes a 256-entry table, and a copy (dropout) is
 * nothing. Each output's params come from the calibrated range of the
 * float layer whose output it is.
 *
 * Rounding: weights and biases to nearest, halves away from zero (C's
 * round, on the host); every int32 sum to int8 by the rule int8.h states.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "int8.h"

/* Params covering [lo, hi] (widened to take 0.0 exactly). */
static QParams act_params(double lo, double hi) {
    lo = fmin(lo, 0.0);
    hi = fmax(hi, 0.0);
    if (hi - lo < 1e-8)
        hi = lo + 1e-8;
    QParams q = {.scale = (hi - lo) / 255.0, .lo = lo, .hi = hi};
    const double z = round(-128.0 - lo / q.scale);
    q.zero = z < -128 ? -128 : z > 127 ? 127 : (int)z;
    return q;
}

/* The multiplier of a real factor: real = mult / 2^shift, 0 <= mult <
 * 2^31. A factor in [2^-16, 0.5) has shift 32 (on a DSP, one multiply
 * that keeps the high word, rounded: SMMULR), mult at least 2^16, so 16
 * bits or more of it; any other is normalised, mult in [2^30, 2^31).
 * -1 if it is 2^30 or more. */
static int multiplier(double real, int32_t *mult, int8_t *shift) {
    *mult = 0;
    *shift = 32;
    if (!(real > 0))
        return 0;
    const long long high = llround(real * 4294967296.0);
    if (real >= 1.0 / 65536 && high < 2147483648LL) {
        *mult = (int32_t)high;
        return 0;
    }
    int e;
    const double f = frexp(real, &e); /* real = f 2^e, f in [0.5, 1) */
    long long m = llround(f * 2147483648.0);
    if (m == 2147483648LL)
        m /= 2, e++;
    int s = 31 - e;
    if (s < 1)
        return -1;
    while (s > 62)
        m >>= 1, s--;
    *mult = (int32_t)m;
    *shift = (int8_t)s;
    return 0;
}

static int add_tensor(QProgram *qp, const char *name, Shape s, long bytes, QParams q) {
    QTensor *t = &qp->tensors[qp->n_tensors];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->shape = s;
    t->bytes = bytes;
    t->q = q;
    t->first = t->last = -1;
    t->in_place_of = -1;
    return qp->n_tensors++;
}

static QOp *add_op(QProgram *qp, QOpKind k, const Layer *l, int in) {
    QOp *op = &qp->ops[qp->n_ops++];
    memset(op, 0, sizeof *op);
    op->kind = k;
    op->layer = l;
    op->in = in;
    op->n_in = 1;
    op->ins[0] = in;
    op->scratch = -1;
    op->mid = op->other = -1;
    op->lo = -128;
    return op;
}

/* The layer of m named as l (the folded model keeps names). */
static int layer_index(const Model *m, const Layer *l) {
    for (int i = 0; i < m->n_layers; i++)
        if (!strcmp(m->layers[i].name, l->name))
            return i;
    return -1;
}

static bool kept(const Model *f, const char *name) {
    for (int j = 0; j < f->n_layers; j++)
        if (!strcmp(f->layers[j].name, name))
            return true;
    return false;
}

/* The float output of folded layer l is m's layer i's, or that of the
 * batchnorms folded into it: the chain of m's layers that read it and
 * that the folded model does not keep. */
static int output_index(const Model *m, const Model *f, const Layer *l) {
    int i = layer_index(m, l);
    for (int j = i + 1; j < m->n_layers; j++)
        if (m->layers[j].inputs[0] == i && m->layers[j].kind->inference_affine &&
            !kept(f, m->layers[j].name))
            i = j;
    return i;
}

/* The one layer of f that reads layer i's output; -1 if none or several
 * (then nothing can be folded into i's operation). */
static int sole_reader(const Model *f, int i) {
    if (f->layers[i].users != 1)
        return -1;
    for (int j = i + 1; j < f->n_layers; j++) {
        const Layer *l = &f->layers[j];
        for (int k = 0; k < (l->n_inputs ? l->n_inputs : 1); k++)
            if (l->inputs[k] == i)
                return j;
    }
    return -1;
}

static bool is_kind(const Model *f, int i, const char *kind) {
    return i >= 0 && !strcmp(f->layers[i].kind->kind, kind);
}

static const LayerTensor *tensor_of(const Layer *l, const char *name) {
    for (int i = 0; i < l->n_tensors; i++)
        if (!strcmp(l->tensors[i].name, name))
            return &l->tensors[i];
    return NULL;
}

/* The one operation a layer is lowered to for inference (kinds of int8's
 * interest lower to one, or an activation after it: fused). */
static Program lowered(const Layer *l) {
    Program p = {.n = 0};
    const EmitOptions o = {.style = STYLE_LOOPS, .tile = 1, .real = "float",
                           .forward_only = true};
    layer_lower(l, &o, LOWER_PASS, false, &p);
    return p;
}

/* w, bias, mult, shift of a gemm (conv or dense) of CO channels of `taps`
 * weights, from input params qi to output params qo. */
static int quantize_gemm(QOp *op, const Layer *l, const float *params, int CO, long taps,
                         QParams qi, QParams qo, Diag *d) {
    const LayerTensor *wt = tensor_of(l, "weight"), *bt = tensor_of(l, "bias");
    op->w = malloc((size_t)(CO * taps));
    op->bias = malloc(sizeof *op->bias * (size_t)CO);
    op->mult = malloc(sizeof *op->mult * (size_t)CO);
    op->shift = malloc((size_t)CO);
    if (!op->w || !op->bias || !op->mult || !op->shift)
        return error_at(d, l->line, l->col, "out of memory");
    const float *w = params + wt->off, *b = bt ? params + bt->off : NULL;
    for (int c = 0; c < CO; c++) {
        double mx = 0;
        for (long k = 0; k < taps; k++)
            mx = fmax(mx, fabs(w[c * taps + k]));
        const double sw = mx > 0 ? mx / 127.0 : 1.0;
        for (long k = 0; k < taps; k++) {
            const double q = round(w[c * taps + k] / sw);
            op->w[c * taps + k] = (int8_t)(q > 127 ? 127 : q < -127 ? -127 : q);
        }
        const double bq = b ? round(b[c] / (qi.scale * sw)) : 0;
        /* the sum's bound: the bias and every tap at its largest (the
         * kernels also fold the input's zero into the bias: 127 * 128
         * a tap each side) */
        if (fabs(bq) + (double)taps * 127 * 256 > 2147483647.0)
            return error_at(d, l->line, l->col,
                            "%s: its sums could pass 32 bits in int8 (%ld taps, a bias of %.0f)",
                            l->name, taps, bq);
        op->bias[c] = (int32_t)bq;
        if (multiplier(qi.scale * sw / qo.scale, &op->mult[c], &op->shift[c]))
            return error_at(d, l->line, l->col,
                            "%s: channel %d's scale is too large for int8 (%g)", l->name, c,
                            qi.scale * sw / qo.scale);
    }
    return 0;
}

/* f(x) of an activation, as the float code computes it (in double). */
static double activation_value(Activation a, double alpha, double x) {
    switch (a) {
    case ACT_RELU: return x > 0 ? x : 0;
    case ACT_LEAKY_RELU: return x > 0 ? x : alpha * x;
    case ACT_TANH: return tanh(x);
    case ACT_SIGMOID: return 1 / (1 + exp(-x));
    default: return x;
    }
}

static void fill_table(QOp *op, Activation a, double alpha, QParams qi, QParams qo) {
    for (int q = -128; q < 128; q++) {
        const double y = activation_value(a, alpha, qi.scale * (q - qi.zero));
        const double v = round(y / qo.scale) + qo.zero;
        op->table[q + 128] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
    }
}

/* The tensor of layer l's input j: the model's input, or the layer's. */
static int input_tensor(const QProgram *qp, const int *tens, const Layer *l, int j) {
    return l->inputs[j] == INPUT_IMAGE ? qp->input : tens[l->inputs[j]];
}

/* The multipliers of an add of n inputs (TensorFlow Lite's ADD): input
 * j's to a common scale, twice the largest input's over 2^INT8_ADD_SHIFT
 * (so each is at most 0.5), then the sum's to the output's. */
static int add_multipliers(const double *si, int n, double so, int32_t *mult, int8_t *shift) {
    double top = 0;
    for (int j = 0; j < n; j++)
        top = fmax(top, si[j]);
    int rc = 0;
    for (int j = 0; j < n; j++)
        rc |= multiplier(si[j] / (2 * top), &mult[j], &shift[j]);
    return rc | multiplier(2 * top / (ldexp(1.0, INT8_ADD_SHIFT) * so), &mult[n], &shift[n]);
}

static int alloc_mult(QOp *q, int n, const Layer *l, Diag *d) {
    q->mult = calloc((size_t)n, sizeof *q->mult);
    q->shift = calloc((size_t)n, 1);
    if (!q->mult || !q->shift)
        return error_at(d, l->line, l->col, "out of memory");
    return 0;
}

int int8_quantize(const Model *m, const float *trained, double (*range)[2], int calibrated,
                  QProgram *qp, Diag *d) {
    memset(qp, 0, sizeof *qp);
    qp->calibrated = calibrated;
    if (export_fold(m, trained, &qp->folded, &qp->params))
        return error_at(d, 0, 0, "out of memory");
    const Model *f = &qp->folded;
    /* the input: pixel p in 0..255 as q = p - 128, real lo + (hi - lo) p / 255 */
    const double lo = m->scale_lo, hi = m->scale_hi;
    QParams qin = {.scale = (hi - lo) / 255.0, .lo = lo, .hi = hi};
    const double z = round(-128.0 - lo / qin.scale);
    qin.zero = z < -128 ? -128 : z > 127 ? 127 : (int)z;
    qp->input = add_tensor(qp, "input", f->input, shape_size(f->input), qin);
    /* each layer's output tensor; done: computed by an operation before it
     * (a relu or maxpool folded into the layer it reads) */
    int tens[MAX_LAYERS];
    bool done[MAX_LAYERS] = {0};
    for (int i = 0; i < f->n_layers; i++) {
        const Layer *l = &f->layers[i];
        if (done[i])
            continue;
        const int in = input_tensor(qp, tens, l, 0);
        if (l->kind->view) {
            tens[i] = in;
            continue;
        }
        const Program p = lowered(l);
        const Op *op0 = &p.ops[0];
        const QParams qi = qp->tensors[in].q;
        if (p.n == 1 && op0->kind == OP_COPY && !l->kind->merges) {
            tens[i] = in; /* dropout: nothing in inference */
            continue;
        }
        if (qp->n_ops + 2 > MAX_QOPS)
            return error_at(d, l->line, l->col, "int8: more than %d operations", MAX_QOPS);
        const int r = output_index(m, f, l);
        const bool add = l->kind->merges && op0->kind == OP_ADD;
        if (op0->kind == OP_CONV || op0->kind == OP_DENSE || op0->kind == OP_AFFINE || add) {
            const bool conv = op0->kind == OP_CONV || op0->kind == OP_AFFINE;
            Activation a = p.n > 1 && !add ? p.ops[1].act : ACT_NONE;
            if (a != ACT_NONE && a != ACT_RELU)
                return error_at(d, l->line, l->col,
                                "int8: %s's fused %s is not supported (write it as a layer of "
                                "its own after %s)",
                                l->name, activation_names[a], l->name);
            if (op0->kind == OP_CONV && op0->conv.groups > 1 && op0->conv.CI != 1)
                return error_at(d, l->line, l->col,
                                "int8: %s: groups of %d channels are not supported (depthwise "
                                "convolutions are)", l->name, op0->conv.CI);
            /* a relu after it, or after the maxpool after it, is its clamp
             * (each the only reader of what it reads) */
            int out_layer = r, pool = -1, relu = -1;
            const int next = sole_reader(f, i), after = next >= 0 ? sole_reader(f, next) : -1;
            if (a == ACT_NONE && is_kind(f, next, "relu"))
                relu = next;
            else if (a == ACT_NONE && is_kind(f, next, "maxpool") && is_kind(f, after, "relu"))
                pool = next, relu = after;
            if (relu >= 0)
                a = ACT_RELU, out_layer = output_index(m, f, &f->layers[relu]);
            QParams qo = act_params(range[out_layer][0], range[out_layer][1]);
            if (a == ACT_RELU)
                qo = act_params(0, range[out_layer][1]);
            const Shape so = conv || add ? l->out : (Shape){l->out.c, 1, 1, true};
            const int out = add_tensor(qp, l->name, so, shape_size(so), qo);
            QOp *q = add_op(qp, add ? Q_ADD : conv ? Q_CONV : Q_DENSE, l, in);
            q->out = out;
            q->lo = a == ACT_RELU ? qo.zero : -128;
            if (add) {
                double si[MAX_INPUTS];
                q->n_in = l->n_inputs;
                for (int j = 0; j < q->n_in; j++) {
                    q->ins[j] = input_tensor(qp, tens, l, j);
                    si[j] = qp->tensors[q->ins[j]].q.scale;
                }
                if (add_multipliers(si, q->n_in, qo.scale, q->in_mult, q->in_shift))
                    return error_at(d, l->line, l->col,
                                    "%s: its inputs' scales are too far apart for int8", l->name);
            } else {
                if (op0->kind == OP_CONV) {
                    q->g = op0->conv;
                } else if (conv) { /* a batchnorm kept: a 1x1 depthwise conv of one tap */
                    q->g = (ConvGeometry){.CI = 1, .H = l->in.h, .W = l->in.w, .CO = 1,
                                          .OH = l->in.h, .OW = l->in.w, .K = 1, .S = 1,
                                          .groups = l->in.c};
                } else {
                    q->g = (ConvGeometry){.CI = op0->inputs, .H = 1, .W = 1, .CO = op0->units,
                                          .OH = 1, .OW = 1, .K = 1, .S = 1};
                }
                const int groups = q->g.groups > 1 ? q->g.groups : 1;
                const long taps = (long)q->g.CI * q->g.K * q->g.K;
                /* its int16 columns: two output positions' taps, to a
                 * multiple of 4 (conv); the input (dense) */
                char sname[MAX_NAME + 16];
                snprintf(sname, sizeof sname, "%s columns", l->name);
                q->scratch = add_tensor(qp, sname, (Shape){1, 1, 1, true},
                                        (conv ? 2 : 1) * ((taps + 3) & ~3L) * 2, (QParams){0});
                qp->tensors[q->scratch].scratch = true;
                if (quantize_gemm(q, l, qp->params, groups * q->g.CO, taps, qi, qo, d))
                    return -1;
                if (in == qp->input && !q->g.padded) { /* the input's half step */
                    /* the code takes x - zero with the rounded zero; the real
                     * input is x - z_true: the difference, times each row's
                     * sum, is a constant of the row, where no tap can fall
                     * into padding */
                    const double z_true = -128.0 - lo / qin.scale;
                    for (int c = 0; c < groups * q->g.CO; c++) {
                        long sum = 0;
                        for (long k = 0; k < taps; k++)
                            sum += q->w[c * taps + k];
                        q->bias[c] += (int32_t)llround((qin.zero - z_true) * (double)sum);
                    }
                }
            }
            snprintf(q->what, sizeof q->what, "%s%s", l->name,
                     relu < 0 ? (a == ACT_RELU ? ", relu" : "")
                              : pool < 0 ? ", relu folded in"
                                         : ", relu (after the maxpool) folded in");
            tens[i] = out;
            if (pool >= 0) { /* the maxpool, then the relu is done */
                const Layer *pl = &f->layers[pool];
                const Program pp = lowered(pl);
                const int pout = add_tensor(qp, pl->name, pl->out, shape_size(pl->out), qo);
                QOp *mp = add_op(qp, Q_MAXPOOL, pl, out);
                mp->out = pout;
                mp->window = pp.ops[0].window;
                snprintf(mp->what, sizeof mp->what, "%s", pl->name);
                tens[pool] = pout;
                done[pool] = true;
            }
            if (relu >= 0) {
                tens[relu] = tens[pool >= 0 ? pool : i];
                done[relu] = true;
            }
            continue;
        }
        if (op0->kind == OP_MAXPOOL || op0->kind == OP_AVGPOOL) {
            const int out = add_tensor(qp, l->name, l->out, shape_size(l->out), qi);
            QOp *q = add_op(qp, op0->kind == OP_MAXPOOL ? Q_MAXPOOL : Q_AVGPOOL, l, in);
            q->out = out;
            q->window = op0->window;
            snprintf(q->what, sizeof q->what, "%s", l->name);
            if (q->kind == Q_AVGPOOL) {
                if (alloc_mult(q, 1, l, d))
                    return -1;
                const int n = q->window.size * q->window.size;
                multiplier(1.0 / n, q->mult, q->shift);
            }
            tens[i] = out;
            continue;
        }
        if (op0->kind == OP_GLOBAL_AVGPOOL) { /* its own params: the mean's range */
            const QParams qo = act_params(range[r][0], range[r][1]);
            const int out = add_tensor(qp, l->name, l->out, shape_size(l->out), qo);
            QOp *q = add_op(qp, Q_GLOBAL_AVGPOOL, l, in);
            q->out = out;
            snprintf(q->what, sizeof q->what, "%s", l->name);
            if (alloc_mult(q, 1, l, d))
                return -1;
            if (multiplier(qi.scale / (qo.scale * op0->positions), q->mult, q->shift))
                return error_at(d, l->line, l->col, "%s: its scale is too large for int8",
                                l->name);
            tens[i] = out;
            continue;
        }
        if (l->kind->merges) { /* concat: each input to the output's params */
            const QParams qo = act_params(range[r][0], range[r][1]);
            const int out = add_tensor(qp, l->name, l->out, shape_size(l->out), qo);
            QOp *q = add_op(qp, Q_CONCAT, l, in);
            q->out = out;
            q->n_in = l->n_inputs;
            snprintf(q->what, sizeof q->what, "%s", l->name);
            for (int j = 0; j < q->n_in; j++) {
                q->ins[j] = input_tensor(qp, tens, l, j);
                if (multiplier(qp->tensors[q->ins[j]].q.scale / qo.scale, &q->in_mult[j],
                               &q->in_shift[j]))
                    return error_at(d, l->line, l->col,
                                    "%s: its inputs' scales are too far apart for int8", l->name);
            }
            tens[i] = out;
            continue;
        }
        if (op0->kind == OP_ACTIVATION) {
            const QParams qo = act_params(range[r][0], range[r][1]);
            const int out = add_tensor(qp, l->name, l->out, shape_size(l->out), qo);
            QOp *q = add_op(qp, Q_TABLE, l, in);
            q->out = out;
            fill_table(q, op0->act, op0->alpha, qi, qo);
            snprintf(q->what, sizeof q->what, "%s", l->name);
            tens[i] = out;
            continue;
        }
        return error_at(d, l->line, l->col, "int8: %s (%s) cannot be quantized", l->name,
                        l->kind->kind);
    }
    qp->logits = f->n_layers ? tens[f->n_layers - 1] : qp->input;
    if (!qp->n_ops)
        return error_at(d, 0, 0, "int8: %s computes nothing", m->name);
    return 0;
}

/* Operations from `from` on that read tensor t, and whether it is the
 * logits (the operations before from may have been moved: int8_fuse). */
static int readers(const QProgram *qp, int t, int from) {
    int n = t == qp->logits;
    for (int i = from; i < qp->n_ops; i++)
        for (int j = 0; j < qp->ops[i].n_in; j++)
            n += qp->ops[i].ins[j] == t;
    return n;
}

/* Whether op's output may be fused with the operation after it, next: a
 * plain conv whose output next alone reads. */
static bool fusable(const QProgram *qp, int i, const QOp *op, const QOp *next) {
    return op->kind == Q_CONV && next && op->g.groups <= 1 && !op->pooled && !op->added &&
           readers(qp, op->out, i + 1) == 1 && next->in == op->out;
}

/* The conv and the add after it (int8.h: int8_fuse), if the add has two
 * inputs, one the conv's, and the other dies at the add and is not what
 * the conv reads (it is overwritten as the conv goes). */
static bool fuse_add(QProgram *qp, int i, QOp *op, const QOp *next) {
    if (!(op->kind == Q_CONV && next && next->kind == Q_ADD && next->n_in == 2 &&
          op->g.groups <= 1 && !op->pooled && readers(qp, op->out, i + 1) == 1))
        return false;
    const int self = next->ins[0] == op->out ? 0 : next->ins[1] == op->out ? 1 : -1;
    const int other = self < 0 ? -1 : next->ins[1 - self];
    if (other < 0 || other == op->in || other == qp->input || readers(qp, other, i + 1) != 1)
        return false;
    op->added = true;
    op->mid = op->out;
    op->other = other;
    op->in_mult[0] = next->in_mult[self], op->in_shift[0] = next->in_shift[self];
    op->in_mult[1] = next->in_mult[1 - self], op->in_shift[1] = next->in_shift[1 - self];
    op->in_mult[2] = next->in_mult[2], op->in_shift[2] = next->in_shift[2];
    op->add_lo = next->lo;
    op->out = next->out;
    qp->tensors[op->mid].bytes = 2L * op->g.CO; /* two positions' outputs */
    qp->tensors[op->out].in_place_of = other;
    snprintf(op->what + strlen(op->what), sizeof op->what - strlen(op->what),
             ", %s (add) fused in", next->layer->name);
    return true;
}

void int8_fuse(QProgram *qp) {
    int n = 0;
    for (int i = 0; i < qp->n_ops; i++) {
        QOp *op = &qp->ops[i];
        const QOp *next = i + 1 < qp->n_ops ? &qp->ops[i + 1] : NULL;
        if (fusable(qp, i, op, next) && next->kind == Q_MAXPOOL && next->window.size == 2 &&
            next->window.stride == 2) {
            QTensor *gone = &qp->tensors[op->out];
            gone->bytes = 0;
            op->pooled = true;
            op->window = next->window;
            op->out = next->out;
            /* the columns of a window's 4 positions */
            const long taps4 = ((long)op->g.CI * op->g.K * op->g.K + 3) & ~3L;
            qp->tensors[op->scratch].bytes = 4 * taps4 * 2;
            snprintf(op->what + strlen(op->what), sizeof op->what - strlen(op->what),
                     ", %s fused in", next->layer->name);
            qp->ops[n++] = *op;
            i++; /* the maxpool is done */
            continue;
        }
        qp->ops[n++] = *op;
    }
    qp->n_ops = n;
    n = 0;
    for (int i = 0; i < qp->n_ops; i++) {
        QOp *op = &qp->ops[i];
        const QOp *next = i + 1 < qp->n_ops ? &qp->ops[i + 1] : NULL;
        const bool fused = fuse_add(qp, i, op, next);
        qp->ops[n++] = *op;
        i += fused; /* the add is done */
    }
    qp->n_ops = n;
}

void int8_free(QProgram *qp) {
    for (int i = 0; i < qp->n_ops; i++) {
        free(qp->ops[i].w);
        free(qp->ops[i].bias);
        free(qp->ops[i].mult);
        free(qp->ops[i].shift);
    }
    free(qp->params);
    free(qp->folded.layers);
    memset(qp, 0, sizeof *qp);
}
