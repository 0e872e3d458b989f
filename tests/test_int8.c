/* test_int8.c: the int8 export (lenetc SPEC --weights W --inference --int8).
 *
 * - an integer reference of its own: the quantized program (int8.h's
 *   QProgram, made in this process by int8_calibrate, int8_quantize and
 *   int8_plan as export_int8.c makes it) run by plain loops over (co, oy,
 *   ox, ci, ky, kx) that read each tensor directly, one buffer a tensor,
 *   requantizing in 128-bit arithmetic by int8.h's rule, written apart
 *   from the kernels render_int8.c emits;
 * - the rule itself: the export's requantize (its kernels' text, by tcc)
 *   against the reference's on edges
 *   and random operands; the plan of lenet5: lifetimes, no two live
 *   tensors sharing a byte, 4-byte places, NAME_ARENA_BYTES; the refusals
 *   (--int8 without --inference, --calibrate 0, a fused tanh: named by
 *   layer, file and line, no files written);
 * - (slow) exports of trained models built by the host's cc as C99 with
 *   -pedantic -Werror, with and without LENETC_PORTABLE, run on t10k:
 *   every score of every image the reference's; lenet5 (all 10,000
 *   images), a padded model with average pooling and a tanh table (all
 *   10,000), lenet5-plus and fashion-plus on Fashion-MNIST (1,000 each);
 *   the int8 accuracy within 0.5 points of float, as lenetc prints it and
 *   as the built program scores;
 * - graphs: the reference's add (TFLite's ADD), concat, global average
 *   pooling and depthwise conv; tests/graph/mnist_residual.yaml trained
 *   for a moment, its rendered code by tcc against the reference on 300
 *   images, and (slow) trained for 2 epochs, built, on all 10,000;
 *   ResNet-8's plan with placeholder ranges (no data needed): its adds
 *   fused into the convs before them, written in place, the arena.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "int8.h"
#include "tests.h"

/* test paths are short: gcc's worst cases for them are not */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#define FASHION "/usr/share/datasets/fashion-mnist"

/* ---- the reference ---------------------------------------------------------- */

/* For inner loops: Check's assertions mark the point (a write) each time
 * they pass, which over 10,000 images is minutes; this only fails. */
#define REQUIRE(expr, ...)                                                                   \
    do {                                                                                     \
        if (!(expr))                                                                         \
            ck_abort_msg(__VA_ARGS__);                                                       \
    } while (0)

/* int8.h's rule, exactly: floor((acc * mult + 2^(shift-1)) / 2^shift) by
 * a 128-bit division rounded toward zero, then moved down for a negative
 * quotient that was not exact. */
static int64_t ref_round(int64_t acc, int32_t mult, int shift) {
    REQUIRE(shift >= 1 && shift <= 62, "shift %d out of 1..62", shift);
    __extension__ typedef __int128 i128;
    const i128 num = (i128)acc * mult + ((i128)1 << (shift - 1));
    const i128 den = (i128)1 << shift;
    i128 q = num / den;
    if (num % den != 0 && num < 0)
        q -= 1;
    return (int64_t)q;
}

static int8_t ref_requantize(int64_t acc, int32_t mult, int shift, int zero, int lo, int hi) {
    const int64_t v = zero + ref_round(acc, mult, shift);
    return (int8_t)(v < lo ? lo : v > hi ? hi : v);
}

/* One buffer per tensor (no arena: the plan is not the reference's). */
typedef struct {
    const QProgram *qp;
    int8_t *t[MAX_QTENSORS];
} Ref;

static void ref_open(Ref *r, const QProgram *qp) {
    memset(r, 0, sizeof *r);
    r->qp = qp;
    for (int i = 0; i < qp->n_tensors; i++)
        if (!qp->tensors[i].scratch) {
            ck_assert_int_eq(qp->tensors[i].bytes, shape_size(qp->tensors[i].shape));
            r->t[i] = malloc((size_t)qp->tensors[i].bytes);
            ck_assert_ptr_nonnull(r->t[i]);
        }
}

static void ref_close(Ref *r) {
    for (int i = 0; i < MAX_QTENSORS; i++)
        free(r->t[i]);
}

/* A conv (a dense: 1x1 over CI inputs, no padding; a depthwise conv:
 * groups of CI = 1 input channel to CO outputs each): every output of
 * every channel by its own loop over its taps, those outside the input
 * left out. */
static void ref_conv(const Ref *r, const QOp *op) {
    const ConvGeometry g = op->g;
    const int groups = g.groups > 1 ? g.groups : 1, rows = groups * g.CO;
    const QTensor *ti = &r->qp->tensors[op->in], *to = &r->qp->tensors[op->out];
    REQUIRE(ti->bytes == (long)groups * g.CI * g.H * g.W && to->bytes == (long)rows * g.OH * g.OW,
            "%s: %ld -> %ld bytes for its geometry", op->what, ti->bytes, to->bytes);
    const int8_t *x = r->t[op->in];
    int8_t *y = r->t[op->out];
    const int zx = ti->q.zero, zy = to->q.zero;
    for (int co = 0; co < rows; co++)
        for (int oy = 0; oy < g.OH; oy++)
            for (int ox = 0; ox < g.OW; ox++) {
                /* the taps inside the input: those in the padding (real
                 * 0.0) add nothing */
                const int y0 = oy * g.S - g.PT, x0 = ox * g.S - g.PL;
                const int ky0 = y0 < 0 ? -y0 : 0, ky1 = g.H - y0 < g.K ? g.H - y0 : g.K;
                const int kx0 = x0 < 0 ? -x0 : 0, kx1 = g.W - x0 < g.K ? g.W - x0 : g.K;
                const int c0 = co / g.CO * g.CI; /* its group's first input channel */
                int64_t acc = op->bias[co];
                for (int ci = 0; ci < g.CI; ci++)
                    for (int ky = ky0; ky < ky1; ky++)
                        for (int kx = kx0; kx < kx1; kx++) {
                            const int w = op->w[(((long)co * g.CI + ci) * g.K + ky) * g.K + kx];
                            acc += w * (x[((long)(c0 + ci) * g.H + y0 + ky) * g.W + x0 + kx] - zx);
                        }
                /* the export sums in int32: it must not pass it */
                REQUIRE(acc >= INT32_MIN && acc <= INT32_MAX, "%s: a sum of %lld", op->what,
                        (long long)acc);
                y[((long)co * g.OH + oy) * g.OW + ox] =
                    ref_requantize(acc, op->mult[co], op->shift[co], zy, op->lo, 127);
            }
}

/* An add (TensorFlow Lite's ADD, int8.h): each input less its zero, times
 * 2^INT8_ADD_SHIFT, rounded to the sum's scale by its multiplier; the sum
 * requantized. A concat: each input requantized to the output's params,
 * its channels after those of the inputs before it. */
static void ref_merge(const Ref *r, const QOp *op) {
    const QTensor *to = &r->qp->tensors[op->out];
    int8_t *y = r->t[op->out];
    long at = 0;
    for (int j = 0; j < op->n_in; j++) {
        const QTensor *tj = &r->qp->tensors[op->ins[j]];
        REQUIRE(op->kind == Q_CONCAT || tj->bytes == to->bytes, "%s: input %d has %ld bytes",
                op->what, j, tj->bytes);
        at += tj->bytes;
    }
    REQUIRE(op->kind == Q_ADD || at == to->bytes, "%s: inputs of %ld bytes into %ld", op->what,
            at, to->bytes);
    if (op->kind == Q_ADD) {
        for (long k = 0; k < to->bytes; k++) {
            int64_t acc = 0;
            for (int j = 0; j < op->n_in; j++) {
                const QTensor *tj = &r->qp->tensors[op->ins[j]];
                const int64_t x = r->t[op->ins[j]][k] - tj->q.zero;
                acc += ref_round(x * (1 << INT8_ADD_SHIFT), op->in_mult[j], op->in_shift[j]);
            }
            REQUIRE(acc >= INT32_MIN && acc <= INT32_MAX, "%s: a sum of %lld", op->what,
                    (long long)acc);
            y[k] = ref_requantize(acc, op->in_mult[op->n_in], op->in_shift[op->n_in], to->q.zero,
                                  op->lo, 127);
        }
        return;
    }
    at = 0;
    for (int j = 0; j < op->n_in; j++) {
        const QTensor *tj = &r->qp->tensors[op->ins[j]];
        for (long k = 0; k < tj->bytes; k++)
            y[at + k] = ref_requantize(r->t[op->ins[j]][k] - tj->q.zero, op->in_mult[j],
                                       op->in_shift[j], to->q.zero, -128, 127);
        at += tj->bytes;
    }
}

/* Global average pooling: each channel's sum of x - zero, requantized. */
static void ref_global_avgpool(const Ref *r, const QOp *op) {
    const QTensor *ti = &r->qp->tensors[op->in], *to = &r->qp->tensors[op->out];
    const long P = (long)ti->shape.h * ti->shape.w;
    REQUIRE(to->bytes == ti->shape.c && ti->bytes == ti->shape.c * P, "%s: %ld -> %ld bytes",
            op->what, ti->bytes, to->bytes);
    for (int c = 0; c < ti->shape.c; c++) {
        int64_t sum = 0;
        for (long p = 0; p < P; p++)
            sum += r->t[op->in][c * P + p] - ti->q.zero;
        r->t[op->out][c] = ref_requantize(sum, op->mult[0], op->shift[0], to->q.zero, -128, 127);
    }
}

static void ref_pool(const Ref *r, const QOp *op) {
    const lenet_window w = op->window;
    const QTensor *ti = &r->qp->tensors[op->in], *to = &r->qp->tensors[op->out];
    REQUIRE(ti->bytes == (long)w.c * w.h * w.w && to->bytes == (long)w.c * w.oh * w.ow,
            "%s: %ld -> %ld bytes for its window", op->what, ti->bytes, to->bytes);
    REQUIRE((w.oh - 1) * w.stride + w.size <= w.h && (w.ow - 1) * w.stride + w.size <= w.w,
            "%s: its windows leave the input", op->what);
    REQUIRE(ti->q.zero == to->q.zero && ti->q.scale == to->q.scale,
            "%s: pooling changes the params", op->what);
    const int8_t *x = r->t[op->in];
    int8_t *y = r->t[op->out];
    for (int c = 0; c < w.c; c++)
        for (int oy = 0; oy < w.oh; oy++)
            for (int ox = 0; ox < w.ow; ox++) {
                int best = -1000;
                int64_t sum = 0;
                for (int ky = 0; ky < w.size; ky++)
                    for (int kx = 0; kx < w.size; kx++) {
                        const int v = x[((long)c * w.h + oy * w.stride + ky) * w.w +
                                        ox * w.stride + kx];
                        if (v > best)
                            best = v;
                        sum += v - ti->q.zero;
                    }
                y[((long)c * w.oh + oy) * w.ow + ox] =
                    op->kind == Q_MAXPOOL
                        ? (int8_t)best
                        : ref_requantize(sum, op->mult[0], op->shift[0], ti->q.zero, -128, 127);
            }
}

/* The program on one image (in_h x in_w x in_c, channels together):
 * the scores (the logits' codes) and the class, the first highest. */
static int ref_scores(const Ref *r, const uint8_t *image, int8_t *scores) {
    const QProgram *qp = r->qp;
    const Model *m = &qp->folded;
    const int P = m->pad, C = m->input.c, H = m->input.h, W = m->input.w;
    REQUIRE(H == m->in_h + 2 * P && W == m->in_w + 2 * P && C == m->in_c,
            "the input is %dx%dx%d for images of %dx%dx%d and pad %d", C, H, W, m->in_c, m->in_h,
            m->in_w, P);
    int8_t *in = r->t[qp->input];
    for (int c = 0; c < C; c++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                const int sy = y - P, sx = x - P;
                const int p = sy < 0 || sy >= m->in_h || sx < 0 || sx >= m->in_w
                                  ? 0
                                  : image[((long)sy * m->in_w + sx) * C + c];
                in[((long)c * H + y) * W + x] = (int8_t)(p - 128);
            }
    for (int i = 0; i < qp->n_ops; i++) {
        const QOp *op = &qp->ops[i];
        switch (op->kind) {
        case Q_CONV:
        case Q_DENSE:
            ref_conv(r, op);
            break;
        case Q_MAXPOOL:
        case Q_AVGPOOL:
            ref_pool(r, op);
            break;
        case Q_ADD:
        case Q_CONCAT:
            ref_merge(r, op);
            break;
        case Q_GLOBAL_AVGPOOL:
            ref_global_avgpool(r, op);
            break;
        case Q_TABLE: {
            const long n = qp->tensors[op->out].bytes;
            REQUIRE(qp->tensors[op->in].bytes == n, "%s: %ld -> %ld bytes", op->what,
                    qp->tensors[op->in].bytes, n);
            for (long k = 0; k < n; k++)
                r->t[op->out][k] = op->table[r->t[op->in][k] + 128];
            break;
        }
        default:
            ck_abort_msg("operation %d: kind %d", i, op->kind);
        }
    }
    const int8_t *z = r->t[qp->logits];
    REQUIRE(qp->tensors[qp->logits].bytes == m->n_classes, "the logits are %ld bytes",
            qp->tensors[qp->logits].bytes);
    int best = 0;
    for (int k = 0; k < m->n_classes; k++) {
        scores[k] = z[k];
        if (z[k] > z[best])
            best = k;
    }
    return best;
}

/* ---- the quantized program, in this process ---------------------------------- */

typedef struct {
    Model m;
    lenet_model *lm;
    float *params;
    lenet_dataset train, test;
    QProgram *qp;           /* as quantized: what the reference runs */
    QProgram *fused;        /* after int8_fuse, planned: what is exported
                             * (its weights are qp's) */
    int calibrated;
    double float_acc;
} Quant;

/* As export_int8.c makes it: the weights loaded as main.c's write_export
 * loads them, the data by the model's request (data NULL: MNIST), the
 * float model over min(calibrate, training images) of them, quantized
 * and planned. With weights NULL, the spec's initial parameters. */
static void quant_open(Quant *q, const char *spec, const char *weights, const char *data,
                       int calibrate) {
    memset(q, 0, sizeof *q);
    Diag d = {.file = spec};
    ck_assert_msg(test_load_spec(spec, &q->m, &d) == 0, "%s", d.msg);
    q->lm = model_descriptor(&q->m, 1);
    q->params = calloc((size_t)q->m.n_params, sizeof *q->params);
    ck_assert_ptr_nonnull(q->params);
    lenet_error err;
    if (weights) {
        static lenet_meta meta;
        ck_assert_msg(lenet_load_weights(q->lm, q->params, &meta, weights, &err) == 0, "%s",
                      err.msg);
    } else {
        lenet_init_params(q->lm, q->params, 7);
    }
    lenet_data_request dr = lenet_data_request_for(q->lm);
    dr.path = data;
    ck_assert_msg(lenet_load_data(&dr, &q->train, &q->test, &err) == 0,
                  "%s (these tests need MNIST: see README)", err.msg);
    q->calibrated = calibrate < q->train.count ? calibrate : q->train.count;
    double (*range)[2] = calloc((size_t)q->m.n_layers, sizeof *range);
    q->qp = calloc(1, sizeof *q->qp);
    ck_assert(range && q->qp);
    ck_assert_int_eq(int8_calibrate(&q->m, q->params, &q->train, q->calibrated, range,
                                    &q->test, &q->float_acc),
                     0);
    ck_assert_msg(int8_quantize(&q->m, q->params, range, q->calibrated, q->qp, &d) == 0, "%s",
                  d.msg);
    int8_plan(q->qp);
    q->fused = malloc(sizeof *q->fused);
    ck_assert_ptr_nonnull(q->fused);
    *q->fused = *q->qp;
    int8_fuse(q->fused);
    int8_plan(q->fused);
    free(range);
}

static void quant_close(Quant *q) {
    free(q->fused);
    int8_free(q->qp);
    free(q->qp);
    free(q->params);
    descriptor_free(q->lm);
    lenet_free_dataset(&q->train);
    lenet_free_dataset(&q->test);
    model_free(&q->m);
}

/* quant_open's without data (shapes_open) */
static void quant_close_shapes(Quant *q) {
    free(q->fused);
    int8_free(q->qp);
    free(q->qp);
    free(q->params);
    descriptor_free(q->lm);
    model_free(&q->m);
}

/* ---- the plan ------------------------------------------------------------------ */

/* Each tensor's life from the program itself (not the plan's first and
 * last, which are checked against it): from the operation that writes it
 * (the input: before operation 0) to the last that reads it (the logits:
 * the argmax after the last); then no two tensors alive together share a
 * byte, every place is a multiple of 4 inside the arena, and the arena
 * holds the largest set of tensors alive together. */
static void check_plan(const QProgram *qp) {
    const int n = qp->n_tensors;
    int first[MAX_QTENSORS], last[MAX_QTENSORS];
    for (int t = 0; t < n; t++)
        first[t] = last[t] = -1;
    first[qp->input] = last[qp->input] = 0;
    for (int i = 0; i < qp->n_ops; i++) {
        const QOp *op = &qp->ops[i];
        ck_assert_msg(first[op->out] == -1, "%s is written twice", qp->tensors[op->out].name);
        first[op->out] = last[op->out] = i;
        ck_assert_int_eq(op->ins[0], op->in);
        ck_assert(op->n_in >= 1 && op->n_in <= MAX_INPUTS);
        for (int j = 0; j < op->n_in + op->added; j++) { /* a fused add reads other too */
            const int t = j < op->n_in ? op->ins[j] : op->other;
            ck_assert_msg(first[t] >= 0 && first[t] < i + (t == qp->input),
                          "%s is read before written", qp->tensors[t].name);
            last[t] = i;
        }
        if (op->scratch >= 0) {
            ck_assert(qp->tensors[op->scratch].scratch);
            first[op->scratch] = last[op->scratch] = i;
        }
        if (op->added) { /* its own output, two positions at a time */
            ck_assert_int_eq(qp->tensors[op->mid].bytes, 2L * op->g.CO);
            first[op->mid] = last[op->mid] = i;
        }
    }
    last[qp->logits] = qp->n_ops;
    long live_max = 0;
    for (int i = 0; i <= qp->n_ops; i++) {
        long live = 0;
        for (int t = 0; t < n; t++) /* one in place of another: once where both live */
            live += first[t] <= i && i <= last[t] &&
                            !(qp->tensors[t].in_place_of >= 0 && i == first[t])
                        ? qp->tensors[t].bytes
                        : 0;
        live_max = live > live_max ? live : live_max;
    }
    for (int a = 0; a < n; a++) {
        const QTensor *ta = &qp->tensors[a];
        if (!ta->bytes) { /* fused away (int8_fuse): nobody may touch it */
            ck_assert_msg(first[a] == -1, "%s has no bytes but is used", ta->name);
            continue;
        }
        ck_assert_msg(first[a] >= 0, "%s is never written", ta->name);
        ck_assert_msg(ta->first == first[a] && ta->last == last[a],
                      "%s: the plan says live %d..%d, the program %d..%d", ta->name, ta->first,
                      ta->last, first[a], last[a]);
        ck_assert_msg(ta->off % 4 == 0 && ta->off >= 0 && ta->off + ta->bytes <= qp->arena,
                      "%s: %ld bytes at %ld in an arena of %ld", ta->name, ta->bytes, ta->off,
                      qp->arena);
        for (int b = a + 1; b < n; b++) {
            const QTensor *tb = &qp->tensors[b];
            if (!tb->bytes)
                continue;
            const bool meet = first[a] <= last[b] && first[b] <= last[a];
            const bool share = ta->off < tb->off + tb->bytes && tb->off < ta->off + ta->bytes;
            /* written in place: b over a (or a over b), an add fused into the
             * conv that writes it, whose other input dies there */
            const int w = tb->in_place_of == a ? b : ta->in_place_of == b ? a : -1;
            if (w >= 0) {
                const int gone = w == b ? a : b;
                ck_assert_msg(first[w] == last[gone] && ta->off == tb->off &&
                                  ta->bytes == tb->bytes,
                              "%s in place of %s: lives %d..%d and %d..%d, %ld bytes at %ld and "
                              "%ld at %ld", qp->tensors[w].name, qp->tensors[gone].name, first[w],
                              last[w], first[gone], last[gone], qp->tensors[w].bytes,
                              qp->tensors[w].off, qp->tensors[gone].bytes, qp->tensors[gone].off);
                const QOp *op = &qp->ops[first[w]];
                ck_assert_msg(op->added && op->out == w && op->other == gone,
                              "%s is in place of %s, but operation %d is not their add",
                              qp->tensors[w].name, qp->tensors[gone].name, first[w]);
                continue;
            }
            ck_assert_msg(!(meet && share),
                          "%s (%ld bytes at %ld, ops %d..%d) and %s (%ld at %ld, ops %d..%d) "
                          "are alive together in the same bytes",
                          ta->name, ta->bytes, ta->off, first[a], last[a], tb->name, tb->bytes,
                          tb->off, first[b], last[b]);
        }
    }
    ck_assert_msg(qp->arena >= live_max, "arena %ld < %ld bytes alive at once", qp->arena,
                  live_max);
    ck_assert_int_eq(qp->arena % 4, 0);
}

/* ---- files and commands -------------------------------------------------------- */

/* The value of `#define NAME value` in header text, as text. */
static const char *define_of(const char *h, const char *name, char *val) {
    char key[128];
    snprintf(key, sizeof key, "#define %s ", name);
    const char *at = strstr(h, key);
    ck_assert_msg(at != NULL, "no %s in the header", name);
    at += strlen(key);
    const size_t n = strcspn(at, "\n");
    memcpy(val, at, n);
    val[n] = '\0';
    return val;
}

/* The header's arena and scores' params are the in-process program's: the
 * guard that it is the program lenetc exported. */
static void check_header(const char *h, const QProgram *qp) {
    char up[MAX_NAME], key[MAX_NAME + 32], val[128];
    export_upper_name(qp->folded.name, up);
    const QParams z = qp->tensors[qp->logits].q;
    snprintf(key, sizeof key, "%s_ARENA_BYTES", up);
    ck_assert_int_eq(atol(define_of(h, key, val)), qp->arena);
    snprintf(key, sizeof key, "%s_SCORES_ZERO", up);
    ck_assert_int_eq(atoi(define_of(h, key, val)), z.zero);
    snprintf(key, sizeof key, "%s_SCORES_SCALE", up);
    char *end;
    const double s = strtod(define_of(h, key, val), &end);
    ck_assert_msg(*end == 'f' && fabs(s - z.scale) <= 1e-8 * z.scale,
                  "the header's %s is %s; this process's program has %.12g", key, val, z.scale);
}

/* What lenetc prints on success. */
typedef struct {
    int images, calibrated;
    double float_acc, int8_acc;
} Printed;

static Printed parse_printed(const char *out, const char *name) {
    Printed p;
    char head[MAX_NAME + 16];
    snprintf(head, sizeof head, "%s int8: ", name);
    const char *line = strstr(out, head), *acc = line ? strstr(line, "accuracy on ") : NULL;
    ck_assert_msg(acc && sscanf(acc, "accuracy on %d test images: float %lf, int8 %lf "
                                     "(calibrated on %d)",
                                &p.images, &p.float_acc, &p.int8_acc, &p.calibrated) == 4,
                  "no accuracy line in: %s", out);
    return p;
}

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* The export in dir built by the host's cc, strict C99, into dir/NAME-run
 * (portable: with LENETC_PORTABLE), a program that reads raw images from
 * a file and writes, for each, its class and scores: NAME_scores's, and
 * checked against NAME_scores_in's on an arena filled with junk first. */
static void build_program(const char *dir, const char *name, int portable, char *prog) {
    char up[MAX_NAME], src[600], text[4096], cmd[4096];
    static char out[16384];
    export_upper_name(name, up);
    snprintf(src, sizeof src, "%s/%s-main.c", dir, name);
    snprintf(text, sizeof text,
             "#include <stdio.h>\n#include <string.h>\n#include \"%s.h\"\n\n"
             "int main(int argc, char **argv) {\n"
             "    static uint8_t image[%s_PIXELS];\n"
             "    int8_t s[%s_CLASSES], again[%s_CLASSES];\n"
             "    %s_arena arena;\n"
             "    FILE *in = argc == 3 ? fopen(argv[1], \"rb\") : NULL;\n"
             "    FILE *out = argc == 3 ? fopen(argv[2], \"wb\") : NULL;\n"
             "    long i = 0;\n"
             "    if (!in || !out)\n        return 2;\n"
             "    for (; fread(image, 1, sizeof image, in) == sizeof image; i++) {\n"
             "        const int k = %s_scores(image, s);\n"
             "        memset(&arena, (int)(i * 37 & 255), sizeof arena);\n"
             "        if (i %% 8 == 0 &&\n"
             "            (%s_scores_in(&arena, image, again) != k || memcmp(s, again, sizeof s)))\n"
             "            return 3;\n"
             "        fputc(k, out);\n"
             "        fwrite(s, 1, sizeof s, out);\n"
             "    }\n"
             "    fclose(in);\n"
             "    return fclose(out) ? 4 : 0;\n"
             "}\n",
             name, up, up, up, name, name, name);
    test_write_file(src, text, strlen(text));
    const char *san = getenv("LENETC_SANITIZE");
    snprintf(prog, 600, "%s/%s-run%s", dir, name, portable ? "-portable" : "");
    snprintf(cmd, sizeof cmd,
             "cc -std=c99 -pedantic -Wall -Wextra -Werror -O2%s%s -I%s -o %s %s %s/%s.c",
             portable ? " -DLENETC_PORTABLE" : "",
             san && !strcmp(san, "1")
                 ? " -fsanitize=address,undefined -fno-sanitize-recover=all"
                 : "",
             dir, prog, src, dir, name);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s:\n%s", cmd, out);
}

/* The reference on test's first n images: per image its class, then its
 * scores (as the built program writes them). */
static uint8_t *reference_run(const Quant *q, const Ref *r, int n) {
    const lenet_dataset *test = &q->test;
    const long pixels = (long)test->rows * test->cols * test->channels;
    const int K = q->m.n_classes;
    uint8_t *want = malloc((size_t)n * (K + 1));
    ck_assert_ptr_nonnull(want);
    for (int i = 0; i < n; i++) {
        uint8_t *o = want + (long)i * (K + 1);
        o[0] = (uint8_t)ref_scores(r, test->images + pixels * i, (int8_t *)o + 1);
    }
    return want;
}

/* The program on test's first n images, every class and score compared
 * with the reference's (want); the fraction it gets right. */
static double compare_program(const char *prog, const Quant *q, const uint8_t *want, int n,
                              const char *dir) {
    const lenet_dataset *test = &q->test;
    const long pixels = (long)test->rows * test->cols * test->channels;
    const int K = q->m.n_classes;
    char images[600], scores[600], cmd[2048];
    static char out[4096];
    snprintf(images, sizeof images, "%s/images.raw", dir);
    snprintf(scores, sizeof scores, "%s/scores.raw", dir);
    test_write_file(images, test->images, (size_t)(pixels * n));
    snprintf(cmd, sizeof cmd, "%s %s %s", prog, images, scores);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s: %s", cmd, out);
    FILE *f = fopen(scores, "rb");
    ck_assert_ptr_nonnull(f);
    uint8_t *got = malloc((size_t)n * (K + 1));
    ck_assert_uint_eq(fread(got, 1, (size_t)n * (K + 1), f), (size_t)n * (K + 1));
    ck_assert_int_eq(fgetc(f), EOF);
    fclose(f);
    int right = 0;
    for (int i = 0; i < n; i++) {
        const uint8_t *g = got + (long)i * (K + 1), *w = want + (long)i * (K + 1);
        for (int c = 0; c < K; c++)
            REQUIRE(g[1 + c] == w[1 + c], "%s: image %d, score %d is %d; the reference's %d",
                    prog, i, c, (int8_t)g[1 + c], (int8_t)w[1 + c]);
        REQUIRE(g[0] == w[0], "%s: image %d is class %d; the reference's %d", prog, i, g[0], w[0]);
        right += g[0] == test->labels[i];
    }
    free(got);
    return (double)right / n;
}

/* Trains spec (train_args: lenetc train's options) into dir, exports it
 * --int8 (export_args: its options) and checks the export: the printed
 * line, the header against the program made here, the plan, the built
 * program against the reference on `compare` test images (and with
 * LENETC_PORTABLE if portable), and int8 within 0.5 points of float. */
static void check_model(const char *spec, const char *train_args, const char *data, int compare,
                        int portable) {
    char dir[512], w[600], cmd[4096], path[700], prog[600];
    static char out[65536];
    const char *base = strrchr(spec, '/') ? strrchr(spec, '/') + 1 : spec;
    snprintf(dir, sizeof dir, "%s/int8-%.*s", test_tmpdir(), (int)strcspn(base, "."), base);
    snprintf(w, sizeof w, "%s/w.safetensors", dir);
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", dir, dir);
    ck_assert_int_eq(system(cmd), 0);
    double t0 = seconds();
    snprintf(cmd, sizeof cmd, "./lenetc train %s %s%s%s --quiet --save %s", spec, train_args,
             data ? " --data " : "", data ? data : "", w);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s:\n%s", cmd, out);
    const double t_train = seconds() - t0;
    t0 = seconds();
    snprintf(cmd, sizeof cmd, "./lenetc %s --weights %s --inference --int8%s%s -o %s", spec, w,
             data ? " --data " : "", data ? data : "", dir);
    ck_assert_msg(run_stdout(cmd, out, sizeof out) == 0, "%s:\n%s", cmd, out);
    const double t_export = seconds() - t0;

    Quant q;
    t0 = seconds();
    quant_open(&q, spec, w, data, INT8_CALIBRATE_DEFAULT);
    const char *name = q.m.name;
    const Printed p = parse_printed(out, name);
    ck_assert_int_eq(p.images, q.test.count);
    ck_assert_int_eq(p.calibrated, q.calibrated);
    ck_assert_int_eq(q.calibrated, 1000);
    ck_assert_msg(fabs(p.float_acc - q.float_acc) <= 0.00005, "lenetc says float %.4f, here %.6f",
                  p.float_acc, q.float_acc);
    snprintf(path, sizeof path, "%s/%s.h", dir, name);
    char *h = test_slurp(path);
    check_header(h, q.fused);
    free(h);
    check_plan(q.qp);
    check_plan(q.fused);

    Ref r;
    ref_open(&r, q.qp);
    if (compare > q.test.count)
        compare = q.test.count;
    const double t1 = seconds();
    uint8_t *want = reference_run(&q, &r, compare);
    const double t_ref = seconds() - t1;
    build_program(dir, name, 0, prog);
    const double right = compare_program(prog, &q, want, compare, dir);
    if (compare == q.test.count) /* the built program's accuracy, lenetc's figure */
        ck_assert_msg(fabs(right - p.int8_acc) <= 0.00005,
                      "lenetc says int8 %.4f; the built program scores %.6f", p.int8_acc, right);
    if (portable) {
        build_program(dir, name, 1, prog);
        compare_program(prog, &q, want, compare, dir);
    }
    free(want);
    const double t_check = seconds() - t0;
    ck_assert_msg(fabs(p.int8_acc - p.float_acc) <= 0.005 + 1e-9,
                  "%s: int8 %.4f is not within 0.5 points of float %.4f", name, p.int8_acc,
                  p.float_acc);
    printf("int8: %s (%s): float %.4f, int8 %.4f on %d test images; %d compared with the "
           "reference; train %.1f s, export %.1f s, checks %.1f s (the reference %.1f s)\n",
           name, train_args, p.float_acc, p.int8_acc, p.images, compare, t_train, t_export,
           t_check, t_ref);
    fflush(stdout);
    ref_close(&r);
    quant_close(&q);
}

/* ---- the rule, the plan, the refusals (no training) ---------------------------- */

/* The export's own requantize (its kernels' text, compiled by tcc) is the
 * reference's rule, clamped: on the edges of its operands and on random
 * ones whose results are near the int8 range (else every answer is a
 * clamp), by the general path (any = 1) and by the shift-32 one. */
typedef int8_t (*requantize_fn)(int32_t acc, int32_t mult, int shift, int zero, int any);

static int8_t ref_clamped(int32_t acc, int32_t mult, int shift, int zero) {
    const int64_t q = zero + ref_round(acc, mult, shift);
    return (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
}

START_TEST(test_requantize_rule) {
    StrBuf src = {0};
    sb_puts(&src, "#include <stdint.h>\n");
    sb_puts(&src, int8_kernels_text());
    sb_puts(&src, "int8_t rq(int32_t acc, int32_t mult, int shift, int zero, int any) {\n"
                  "    return any ? requantize(acc, mult, shift, zero, -128, 1)\n"
                  "               : requantize(acc, mult, 32, zero, -128, 0);\n}\n");
    Diag d = {.file = "kernels"};
    Jit *j = jit_compile_text(src.data, NULL, &d);
    sb_free(&src);
    ck_assert_msg(j != NULL, "%s", d.msg);
    const requantize_fn rq = (requantize_fn)jit_symbol(j, "rq");
    ck_assert(rq != NULL);
    static const int32_t accs[] = {0, 1, -1, 2, -2, 3, -3, 127, -128, 1 << 20, -(1 << 20),
                                   INT32_MAX, INT32_MIN, INT32_MIN + 1, 123456789, -987654321};
    static const int32_t mults[] = {0, 1, 2, 3, 1 << 16, 1 << 30, (1 << 30) + 1, INT32_MAX};
    for (size_t a = 0; a < sizeof accs / sizeof accs[0]; a++)
        for (size_t m = 0; m < sizeof mults / sizeof mults[0]; m++)
            for (int s = 1; s <= 62; s++)
                for (int zero = -128; zero <= 127; zero += 85) {
                    const int8_t want = ref_clamped(accs[a], mults[m], s, zero);
                    REQUIRE(rq(accs[a], mults[m], s, zero, 1) == want,
                            "requantize(%d, %d, %d, zero %d) = %d, the rule %d", accs[a],
                            mults[m], s, zero, rq(accs[a], mults[m], s, zero, 1), want);
                    if (s == 32)
                        REQUIRE(rq(accs[a], mults[m], 32, zero, 0) == want,
                                "requantize(%d, %d, 32, zero %d), the shift-32 path", accs[a],
                                mults[m], zero);
                }
    /* halves go up, toward +infinity: 5/2 -> 3, -5/2 -> -2, -7/2 -> -3 */
    ck_assert_int_eq(ref_round(5, 1 << 30, 31), 3);
    ck_assert_int_eq(ref_round(-5, 1 << 30, 31), -2);
    ck_assert_int_eq(ref_round(-7, 1 << 30, 31), -3);
    ck_assert_int_eq(ref_round(-3, 1 << 30, 32), -1); /* -0.75 */
    ck_assert_int_eq(ref_round(-2, 1 << 30, 32), 0);  /* -0.5 */
    ck_assert_int_eq(rq(-5, 1 << 30, 31, 0, 1), -2);
    ck_assert_int_eq(rq(-2, 1 << 30, 32, 0, 0), 0);
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        const int32_t mult = (int32_t)((x >> 32) & 0x7fffffff) | 1;
        const int s = i % 2 ? 32 : 1 + (int)((x >> 40) % 62);
        /* |acc| up to 300 2^s / mult: results around the int8 range */
        const double span = fmin(2147483647.0, 300.0 * ldexp(1.0, s) / mult);
        const int32_t acc = (int32_t)((double)(int64_t)(x % 2000001 - 1000000) / 1e6 * span);
        const int zero = (int)(x >> 56) - 128;
        const int8_t want = ref_clamped(acc, mult, s, zero);
        REQUIRE(rq(acc, mult, s, zero, 1) == want, "requantize(%d, %d, %d, zero %d)", acc, mult,
                s, zero);
        if (s == 32)
            REQUIRE(rq(acc, mult, 32, zero, 0) == want, "requantize(%d, %d, 32, zero %d), the "
                    "shift-32 path", acc, mult, zero);
    }
    jit_free(j);
}
END_TEST

/* lenet5's plan (initial weights: the plan depends on shapes only), with
 * NAME_ARENA_BYTES as rendered; and the padded model's. */
START_TEST(test_plan) {
    static const char *const specs[] = {"models/lenet5.yaml", "tests/int8/padded.yaml",
                                        "models/lenet5-plus.yaml"};
    Quant q;
    quant_open(&q, specs[_i], NULL, NULL, 200);
    check_plan(q.qp);
    check_plan(q.fused);
    StrBuf c = {0}, h = {0};
    int8_render(q.fused, specs[_i], "w.safetensors", LENET_PREPARE_MNIST, "test", "A test.", &c,
                &h);
    check_header(h.data, q.fused);
    if (_i == 0) { /* lenet5: the operations the issue names, in order */
        static const QOpKind kinds[] = {Q_CONV, Q_MAXPOOL, Q_CONV, Q_MAXPOOL,
                                        Q_DENSE, Q_DENSE, Q_DENSE};
        ck_assert_int_eq(q.qp->n_ops, 7);
        for (int i = 0; i < 7; i++)
            ck_assert_int_eq(q.qp->ops[i].kind, kinds[i]);
        /* relu folded into the clamps (through the maxpools), not the logits' */
        for (int i = 0; i < 6; i++)
            if (q.qp->ops[i].kind != Q_MAXPOOL)
                ck_assert_int_eq(q.qp->ops[i].lo, q.qp->tensors[q.qp->ops[i].out].q.zero);
        ck_assert_int_eq(q.qp->ops[6].lo, -128);
        ck_assert_msg(q.qp->arena <= 8192, "lenet5's arena is %ld bytes", q.qp->arena);
        /* fused: each conv with its maxpool, the conv's output never stored */
        ck_assert_int_eq(q.fused->n_ops, 5);
        ck_assert(q.fused->ops[0].pooled && q.fused->ops[1].pooled);
        ck_assert_int_eq(q.fused->ops[0].out, q.qp->ops[1].out);
        ck_assert_int_eq(q.qp->tensors[q.qp->ops[0].out].bytes, 4056);
        ck_assert_int_eq(q.fused->tensors[q.qp->ops[0].out].bytes, 0);
        ck_assert_msg(q.fused->arena < q.qp->arena, "fused %ld, not fused %ld", q.fused->arena,
                      q.qp->arena);
    }
    sb_free(&c);
    sb_free(&h);
    quant_close(&q);
}
END_TEST

/* A program with placeholder ranges, [-1, 1] everywhere (what export_int8
 * quantizes before the data is read): the plan depends on shapes only, so
 * a model whose data the tests do not have (ResNet-8's) is planned. */
static void shapes_open(Quant *q, const char *spec) {
    memset(q, 0, sizeof *q);
    Diag d = {.file = spec};
    ck_assert_msg(test_load_spec(spec, &q->m, &d) == 0, "%s", d.msg);
    q->lm = model_descriptor(&q->m, 1);
    q->params = calloc((size_t)q->m.n_params, sizeof *q->params);
    ck_assert_ptr_nonnull(q->params);
    lenet_init_params(q->lm, q->params, 7);
    double (*range)[2] = calloc((size_t)q->m.n_layers, sizeof *range);
    q->qp = calloc(1, sizeof *q->qp);
    ck_assert(range && q->qp);
    for (int i = 0; i < q->m.n_layers; i++)
        range[i][0] = -1, range[i][1] = 1;
    ck_assert_msg(int8_quantize(&q->m, q->params, range, 1, q->qp, &d) == 0, "%s", d.msg);
    int8_plan(q->qp);
    q->fused = malloc(sizeof *q->fused);
    ck_assert_ptr_nonnull(q->fused);
    *q->fused = *q->qp;
    int8_fuse(q->fused);
    int8_plan(q->fused);
    free(range);
}

static int count_ops(const QProgram *qp, QOpKind k, bool added) {
    int n = 0;
    for (int i = 0; i < qp->n_ops; i++)
        n += qp->ops[i].kind == k && (!added || qp->ops[i].added);
    return n;
}

/* The tensor of a layer's output (by the tensor's name), -1 if none. */
static int tensor_named(const QProgram *qp, const char *name) {
    for (int t = 0; t < qp->n_tensors; t++)
        if (!strcmp(qp->tensors[t].name, name))
            return t;
    return -1;
}

/* ResNet-8's program: three adds, each fused into the conv before it
 * and written in place, the shortcut alive until its add; the arena holds
 * two of stack 1's 16x32x32 maps at a time, not three. */
START_TEST(test_plan_resnet8) {
    Quant q;
    shapes_open(&q, "models/resnet8.yaml");
    check_plan(q.qp);
    check_plan(q.fused);
    ck_assert_int_eq(count_ops(q.qp, Q_ADD, false), 3);
    ck_assert_int_eq(count_ops(q.qp, Q_GLOBAL_AVGPOOL, false), 1);
    ck_assert_int_eq(count_ops(q.fused, Q_ADD, false), 0);
    ck_assert_int_eq(count_ops(q.fused, Q_CONV, true), 3);
    /* stem_relu (the stem's output: the relu folded in) lives from the stem
     * to s1's add, across s1a and s1b */
    const int stem = tensor_named(q.qp, "stem");
    ck_assert_int_ge(stem, 0);
    const QTensor *st = &q.qp->tensors[stem];
    ck_assert_msg(q.qp->ops[st->last].kind == Q_ADD && st->last - st->first == 3,
                  "stem lives %d..%d", st->first, st->last);
    const long map = 16 * 32 * 32;
    ck_assert_msg(q.qp->arena >= 3 * map, "unfused %ld", q.qp->arena);
    ck_assert_msg(q.fused->arena < 2 * map + 2048, "ResNet-8's fused arena is %ld bytes",
                  q.fused->arena);
    quant_close_shapes(&q);
}
END_TEST

typedef int (*scores_fn)(const uint8_t *image, int8_t *scores);

/* The rendered text as one program tcc compiles (the header in place of
 * its #include), as export_int8.c scores it. */
static scores_fn jit_scores(const StrBuf *c, const StrBuf *h, const char *name, Jit **j) {
    char inc[MAX_NAME + 16], fn[MAX_NAME + 16];
    snprintf(inc, sizeof inc, "#include \"%s.h\"\n", name);
    const char *at = strstr(c->data, inc);
    ck_assert_ptr_nonnull(at);
    StrBuf t = {0};
    sb_printf(&t, "%.*s", (int)(at - c->data), c->data);
    sb_puts(&t, h->data);
    sb_puts(&t, at + strlen(inc));
    Diag d = {.file = name};
    *j = jit_compile_text(t.data, NULL, &d);
    sb_free(&t);
    ck_assert_msg(*j != NULL, "%s", d.msg);
    snprintf(fn, sizeof fn, "%s_scores", name);
    const scores_fn f = (scores_fn)jit_symbol(*j, fn);
    ck_assert_ptr_nonnull(f);
    return f;
}

/* The graph test model (a residual add, a batchnorm kept after it, a
 * depthwise conv, a concat, global average pooling), trained for a moment
 * (initial weights give every image one class): its program's operations
 * and plan, and its rendered code (by tcc, in this process) against the
 * reference on 300 test images, every score. */
START_TEST(test_graph) {
    char w[512], cmd[1024];
    static char out[8192];
    snprintf(w, sizeof w, "%s/int8-graph-w.safetensors", test_tmpdir());
    snprintf(cmd, sizeof cmd, "./lenetc train tests/graph/mnist_residual.yaml --limit 2000 "
                              "--epochs 1 --threads 1 --quiet --save %s", w);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s:\n%s", cmd, out);
    Quant q;
    quant_open(&q, "tests/graph/mnist_residual.yaml", w, NULL, 200);
    check_plan(q.qp);
    check_plan(q.fused);
    const QProgram *qp = q.qp;
    ck_assert_int_eq(count_ops(qp, Q_ADD, false), 1);
    ck_assert_int_eq(count_ops(qp, Q_CONCAT, false), 1);
    ck_assert_int_eq(count_ops(qp, Q_GLOBAL_AVGPOOL, false), 1);
    int depthwise = 0, affine = 0;
    for (int i = 0; i < qp->n_ops; i++) {
        const QOp *op = &qp->ops[i];
        depthwise += op->kind == Q_CONV && op->g.groups == 8 && op->g.K == 3;
        affine += op->kind == Q_CONV && op->g.groups == 8 && op->g.K == 1;
        if (op->kind == Q_ADD) /* r1's relu is not the add's: the kept batchnorm is between */
            ck_assert_int_eq(op->lo, -128);
    }
    ck_assert_int_eq(depthwise, 1);
    ck_assert_int_eq(affine, 1);
    /* the add fused into b2, over stem (stem dies there) */
    ck_assert_int_eq(count_ops(q.fused, Q_CONV, true), 1);
    const int stem = tensor_named(q.fused, "stem"), sum = tensor_named(q.fused, "sum1");
    ck_assert_int_eq(q.fused->tensors[sum].in_place_of, stem);
    ck_assert_int_eq(q.fused->tensors[sum].off, q.fused->tensors[stem].off);

    StrBuf c = {0}, h = {0};
    int8_render(q.fused, "mnist_residual.yaml", "w.safetensors", LENET_PREPARE_MNIST, "test",
                "A test.", &c, &h);
    check_header(h.data, q.fused);
    Jit *j;
    const scores_fn scores = jit_scores(&c, &h, q.m.name, &j);
    Ref r;
    ref_open(&r, qp);
    const long pixels = (long)q.test.rows * q.test.cols * q.test.channels;
    int8_t got[LENET_MAX_CLASSES], want[LENET_MAX_CLASSES];
    int classes[LENET_MAX_CLASSES] = {0};
    for (int i = 0; i < 300; i++) {
        const uint8_t *image = q.test.images + pixels * i;
        const int k = scores(image, got), kr = ref_scores(&r, image, want);
        REQUIRE(k == kr && !memcmp(got, want, (size_t)q.m.n_classes),
                "image %d: class %d, the reference's %d (or a score differs)", i, k, kr);
        classes[k]++;
    }
    int seen = 0; /* not every image the same answer (the test would see little) */
    for (int k = 0; k < q.m.n_classes; k++)
        seen += classes[k] > 0;
    ck_assert_int_ge(seen, 2);
    jit_free(j);
    ref_close(&r);
    sb_free(&c);
    sb_free(&h);
    quant_close(&q);
}
END_TEST

/* Only files lenetc was not to write: none in dir (which may not exist). */
static void assert_no_files(const char *dir) {
    char cmd[700];
    static char out[4096];
    snprintf(cmd, sizeof cmd, "test ! -e %s || ls -A %s", dir, dir);
    ck_assert_int_eq(run(cmd, out, sizeof out), 0);
    ck_assert_msg(out[0] == '\0', "%s holds files after a refusal: %s", dir, out);
}

START_TEST(test_refusals) {
    char w[512], dir[512], cmd[2048];
    static char out[16384];
    snprintf(w, sizeof w, "%s/int8-fused-w.safetensors", test_tmpdir());
    snprintf(dir, sizeof dir, "%s/int8-refused", test_tmpdir());
    test_init_weights("tests/int8/fused_tanh.yaml", w);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);

    /* --int8 without --inference: a usage error */
    snprintf(cmd, sizeof cmd, "./lenetc models/lenet5.yaml --int8 -o %s", dir);
    ck_assert_int_eq(run(cmd, out, sizeof out), 2);
    ck_assert_str_eq(out, "lenetc: --int8 goes with --inference (it quantizes the trained model)\n"
                          "try 'lenetc --help'\n");
    /* --calibrate 0, and --calibrate without --int8 */
    snprintf(cmd, sizeof cmd,
             "./lenetc models/lenet5.yaml --weights %s --inference --int8 --calibrate 0 -o %s", w,
             dir);
    ck_assert_int_eq(run(cmd, out, sizeof out), 2);
    ck_assert_msg(strstr(out, "--calibrate takes a number from 1 to 1000000, not '0'"), "%s", out);
    snprintf(cmd, sizeof cmd,
             "./lenetc models/lenet5.yaml --weights %s --inference --calibrate 10 -o %s", w, dir);
    ck_assert_int_eq(run(cmd, out, sizeof out), 2);
    ck_assert_msg(strstr(out, "--calibrate goes with --int8"), "%s", out);
    assert_no_files(dir);

    /* a dense with a fused tanh: named by layer, file, line and column */
    snprintf(cmd, sizeof cmd,
             "./lenetc tests/int8/fused_tanh.yaml --weights %s --inference --int8 -o %s", w, dir);
    ck_assert_int_eq(run(cmd, out, sizeof out), 1);
    ck_assert_msg(strstr(out, "tests/int8/fused_tanh.yaml:9:5: error: int8: dense1's fused tanh "
                              "is not supported (write it as a layer of its own after dense1)"),
                  "%s", out);
    assert_no_files(dir);
    /* the same from the pass, in this process */
    Quant q;
    memset(&q, 0, sizeof q);
    Diag d = {.file = "tests/int8/fused_tanh.yaml"};
    ck_assert_msg(test_load_spec(d.file, &q.m, &d) == 0, "%s", d.msg);
    q.params = calloc((size_t)q.m.n_params, sizeof *q.params);
    double (*range)[2] = calloc((size_t)q.m.n_layers, sizeof *range);
    for (int i = 0; i < q.m.n_layers; i++)
        range[i][0] = -1, range[i][1] = 1;
    QProgram *qp = calloc(1, sizeof *qp);
    ck_assert_int_eq(int8_quantize(&q.m, q.params, range, 1, qp, &d), -1);
    ck_assert_msg(strstr(d.msg, ":9:5: error: int8: dense1's fused tanh"), "%s", d.msg);
    int8_free(qp);
    free(qp);
    free(range);
    free(q.params);
    model_free(&q.m);
}
END_TEST

/* ---- trained models (slow) ----------------------------------------------------- */

/* lenet5 as its recipe trains it (2 epochs): all 10,000 test images bit
 * for bit, both builds; its accuracy from the built program. */
START_TEST(test_lenet5) {
    check_model("models/lenet5.yaml", "--epochs 2", NULL, 1 << 30, 1);
}
END_TEST

/* padding, average pooling, a table, batchnorm, dropout: 10,000 images */
START_TEST(test_padded) {
    check_model("tests/int8/padded.yaml", "--limit 6000 --epochs 1", NULL, 1 << 30, 1);
}
END_TEST

/* the graph test model: a residual add (fused, in place), a batchnorm
 * kept as a 1x1 depthwise conv, a depthwise conv, a concat, global
 * average pooling: 10,000 images, both builds */
/* Three epochs: after two its running statistics still swing the test
 * accuracy between epochs (0.9016 then 0.8936, measured), where float and
 * int8 part by up to 0.9 points on the images at the border; after three
 * (0.9472) they agree within 0.1. */
START_TEST(test_residual) {
    check_model("tests/graph/mnist_residual.yaml", "--limit 20000 --epochs 3", NULL, 1 << 30, 1);
}
END_TEST

/* lenet5-plus, 2 of its recipe's 20 epochs; fashion-plus on
 * Fashion-MNIST, 1 of 18: 1,000 images each compared */
/* The larger models' accuracy: their arithmetic is the plain run's under
 * the sanitizers (lenet5 and the padded model run there), so, as the
 * PyTorch checks, only the plain run trains them. */
static int plain_run(const char *what) {
    const char *san = getenv("LENETC_SANITIZE");
    if (san && !strcmp(san, "1")) {
        fprintf(stderr, "%s: skipped under SANITIZE=1 (make test runs it)\n", what);
        return 0;
    }
    return 1;
}

START_TEST(test_lenet5_plus) {
    if (!plain_run("int8 lenet5-plus"))
        return;
    check_model("models/lenet5-plus.yaml", "--epochs 2", NULL, 1000, 0);
}
END_TEST

START_TEST(test_fashion_plus) {
    if (!plain_run("int8 fashion-plus"))
        return;
    ck_assert_msg(access(FASHION, R_OK) == 0,
                  "%s missing: make test-deps installs dataset-fashion-mnist", FASHION);
    check_model("models/fashion-plus.yaml", "--epochs 1", FASHION, 1000, 0);
}
END_TEST

Suite *int8_suite(void) {
    Suite *s = suite_create("int8");
    /* no training (make check): MNIST calibrates */
    TCase *tc = tcase_create("int8");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_requantize_rule);
    tcase_add_loop_test(tc, test_plan, 0, 3);
    tcase_add_test(tc, test_refusals);
    tcase_add_test(tc, test_plan_resnet8);
    tcase_add_test(tc, test_graph);
    suite_add_tcase(s, tc);
    /* trained on MNIST and Fashion-MNIST: make test */
    TCase *slow = tcase_create("int8_trained");
    tcase_set_tags(slow, "slow");
    tcase_set_timeout(slow, 600);
    tcase_add_test(slow, test_lenet5);
    tcase_add_test(slow, test_padded);
    tcase_add_test(slow, test_residual);
    tcase_add_test(slow, test_lenet5_plus);
    tcase_add_test(slow, test_fashion_plus);
    suite_add_tcase(s, slow);
    return s;
}
