/* export_int8.c: `lenetc SPEC --weights W --inference --int8 [--calibrate N]
 * [--data PATH] -o DIR`, the int8 export's pipeline in order:
 *
 *   load the data -> calibrate (the float model over N training images)
 *   -> quantize -> plan the arena -> render -> compile the rendered C
 *   with tcc and score it on the test set -> write NAME.c and NAME.h
 *
 * so the accuracy it prints is that of the very code it writes, run on
 * this machine (the portable kernels: the bits any target computes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "int8.h"

/* The rendered source as one text tcc compiles: the header in place of
 * its #include. */
static char *jit_text(const StrBuf *c, const StrBuf *h, const char *name) {
    char inc[MAX_NAME + 16];
    snprintf(inc, sizeof inc, "#include \"%s.h\"\n", name);
    const char *at = strstr(c->data, inc);
    if (!at)
        return NULL;
    StrBuf t = {0};
    sb_printf(&t, "%.*s", (int)(at - c->data), c->data);
    sb_puts(&t, h->data);
    sb_puts(&t, at + strlen(inc));
    return t.data;
}

typedef int (*scores_fn)(const uint8_t *image, int8_t *scores);

/* The test set split among threads (NAME_scores keeps no state). */
typedef struct {
    scores_fn scores;
    const lenet_dataset *test;
    int right[LENET_MAX_THREADS];
} Scoring;

static void score_part(void *ctx, int worker, int workers) {
    Scoring *s = ctx;
    const lenet_dataset *t = s->test;
    const long pixels = (long)t->rows * t->cols * t->channels;
    int8_t out[LENET_MAX_CLASSES];
    for (int i = worker; i < t->count; i += workers)
        s->right[worker] += s->scores(t->images + i * pixels, out) == t->labels[i];
}

/* The int8 code's accuracy on test: -1 if tcc cannot compile it (a bug). */
static double int8_accuracy(const StrBuf *c, const StrBuf *h, const char *name,
                            const lenet_dataset *test) {
    char *text = jit_text(c, h, name);
    Diag d = {.file = name};
    Jit *j = text ? jit_compile_text(text, NULL, &d) : NULL;
    free(text);
    char fn[MAX_NAME + 16];
    snprintf(fn, sizeof fn, "%s_scores", name);
    scores_fn scores = j ? (scores_fn)jit_symbol(j, fn) : NULL;
    if (!scores) {
        fprintf(stderr, "lenetc: internal error: the int8 code does not compile: %s\n", d.msg);
        jit_free(j);
        return -1;
    }
    Scoring s = {.scores = scores, .test = test};
    lenet_threads *set = lenet_threads_create(lenet_default_threads());
    int right = 0;
    if (set) {
        lenet_threads_run(set, score_part, &s);
        for (int w = 0; w < lenet_threads_size(set); w++)
            right += s.right[w];
        lenet_threads_free(set);
    } else {
        score_part(&s, 0, 1);
        right = s.right[0];
    }
    jit_free(j);
    return test->count ? (double)right / test->count : 0;
}

/* The bytes of constants the code keeps in flash. */
static long constant_bytes(const QProgram *qp) {
    long n = 0;
    for (int i = 0; i < qp->n_ops; i++) {
        const QOp *op = &qp->ops[i];
        const long rows = (long)op->g.CO * (op->g.groups > 1 ? op->g.groups : 1);
        if (op->kind == Q_CONV || op->kind == Q_DENSE) /* rows to a multiple of 4 */
            n += rows * (((long)op->g.CI * op->g.K * op->g.K + 3) & ~3L) + rows * 9L;
        else if (op->kind == Q_TABLE)
            n += 256;
    }
    return n;
}

int export_int8(const Model *m, const float *params, const Int8Request *rq, StrBuf *c,
                StrBuf *h) {
    lenet_model *lm = model_descriptor(m, 1);
    lenet_data_request dr = lenet_data_request_for(lm);
    dr.path = rq->data;
    lenet_dataset train = {0}, test = {0};
    lenet_error err;
    QProgram *qp = calloc(1, sizeof *qp);
    double (*range)[2] = calloc((size_t)m->n_layers, sizeof *range);
    int rc = 1;
    if (!qp || !range) {
        fprintf(stderr, "lenetc: out of memory\n");
        goto done;
    }
    /* what int8 cannot compute is said before the data is read: the
     * program with placeholder ranges */
    Diag d = {.file = rq->spec_file};
    for (int i = 0; i < m->n_layers; i++)
        range[i][0] = -1, range[i][1] = 1;
    if (int8_quantize(m, params, range, 0, qp, &d)) {
        fprintf(stderr, "%s\n", d.msg);
        goto done;
    }
    int8_free(qp);
    if (lenet_load_data(&dr, &train, &test, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        goto done;
    }
    if (!train.count || !test.count) {
        fprintf(stderr, "lenetc: --int8 needs training images (to calibrate) and test images "
                        "(to measure): %s has %d and %d\n",
                train.path ? train.path : "the data", train.count, test.count);
        goto done;
    }
    const int n = rq->calibrate < train.count ? rq->calibrate : train.count;
    double float_acc = 0;
    if (int8_calibrate(m, params, &train, n, range, &test, &float_acc))
        goto done;
    if (int8_quantize(m, params, range, n, qp, &d)) {
        fprintf(stderr, "%s\n", d.msg);
        goto done;
    }
    int8_fuse(qp);
    int8_plan(qp);
    char summary[512];
    snprintf(summary, sizeof summary, "Calibrated on %d of the %d training images (%s).", n,
             train.count, train.format ? train.format : "");
    int8_render(qp, rq->spec_file, rq->weights_file, rq->prepare, rq->why, summary, c, h);
    const double int8_acc = int8_accuracy(c, h, qp->folded.name, &test);
    if (int8_acc < 0)
        goto done;
    /* the header again, saying what was measured */
    sb_free(h);
    snprintf(summary, sizeof summary,
             "Calibrated on %d of the %d training images (%s); on the %d test\n"
             " * images the float model scores %.4f, this code %.4f.",
             n, train.count, train.format ? train.format : "", test.count, float_acc, int8_acc);
    int8_render_header(qp, rq->spec_file, rq->weights_file, rq->prepare, rq->why, summary, h);
    printf("%s int8: %ld bytes of constants (flash, besides the code), arena %ld bytes; "
           "accuracy on %d test images: float %.4f, int8 %.4f (calibrated on %d)\n",
           qp->folded.name, constant_bytes(qp), qp->arena, test.count, float_acc, int8_acc, n);
    rc = 0;
done:
    lenet_free_dataset(&train);
    lenet_free_dataset(&test);
    if (qp)
        int8_free(qp);
    free(qp);
    free(range);
    descriptor_free(lm);
    return rc;
}
