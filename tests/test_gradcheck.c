/* test_gradcheck.c: the generated backward pass against central finite
 * differences, and the code styles against each other.
 *
 * Gradients are checked in double precision: lenetc emits the same code
 * with `double` in place of `float` (the kernels style then calls each
 * target's double kernels), libtcc compiles it in memory, and the
 * loss is a fixed random linear probe of the logits, L = sum r * logits, so
 * dL/dlogits = r exactly and every other digit comes from generated code.
 * Finite differences use h = 1e-6: truncation (~h^2) and rounding
 * (~1e-16 / h) errors both stay near 1e-10, far under the 1e-6 tolerance.
 */
#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lenetc.h"
#include "tests.h"

/* Generated code of either type, called through these (the pointers are
 * all a call passes: float and double code are called alike). */
typedef void (*fwd_any)(const void *, void *, const lenet_pass *);
typedef void (*bwd_any)(const void *, const void *, void *, void *, const lenet_pass *);
typedef void (*update_any)(void *, const lenet_pass *);

typedef struct {
    Model m;
    EmitOptions o;
    Jit *jit;
    void *forward, *backward, *update_state;
    int tile;
    long n_params, n_acts, n_in, n_logits;
} Net;

/* Compiles spec with options o (for the kernels style: calling target's
 * kernels) with libtcc. */
static void net_compile_with(Net *net, const char *spec, const lenet_target *target,
                             EmitOptions o) {
    const CodeStyle style = o.style;
    const int tile = o.tile;
    memset(net, 0, sizeof *net);
    Diag d = {.file = spec};
    ck_assert_msg(test_load_spec(spec, &net->m, &d) == 0, "%s", d.msg);
    net->o = o;
    StrBuf src = {0};
    sb_puts(&src, lenetc_kernels_header);
    emit_kernels(&net->m, &o, &src);
    net->jit = jit_compile_text(src.data, style == STYLE_KERNELS ? target->symbols : NULL, &d);
    sb_free(&src);
    ck_assert_msg(net->jit != NULL, "%s", d.msg);
    char name[96];
    snprintf(name, sizeof name, "%s_forward", net->m.name);
    net->forward = jit_symbol(net->jit, name);
    snprintf(name, sizeof name, "%s_backward", net->m.name);
    net->backward = jit_symbol(net->jit, name);
    ck_assert(net->forward && net->backward);
    snprintf(name, sizeof name, "%s_update_state", net->m.name);
    net->update_state = net->m.parts > 1 ? jit_symbol(net->jit, name) : NULL;
    ck_assert(net->m.parts == 1 || net->update_state);
    net->tile = tile;
    net->n_params = net->m.n_params;
    net->n_acts = net->m.act_floats * tile;
    net->n_in = shape_size(net->m.input) * tile;
    net->n_logits = (long)net->m.n_classes * tile;
}

/* The same in style, of real numbers real, for tiles of tile samples. */
static void net_compile(Net *net, const char *spec, CodeStyle style, const lenet_target *target,
                        const char *real, int tile) {
    net_compile_with(net, spec, target,
                     (EmitOptions){.style = style, .tile = tile, .real = real, .spec_file = spec});
}

static void net_free(Net *net) {
    jit_free(net->jit);
    model_free(&net->m);
}

static double uniform(lenet_rng *r, double lo, double hi) {
    return lo + (hi - lo) * lenet_rng_uniform(r);
}

/* ---- a batch of tiles, as the trainer runs one ----------------------- */

/* n samples in tiles of the net's tile, each tile's activations and their
 * gradients (of `size` bytes a value: float or double code) and sums. A
 * model with batch statistics runs its passes in parts over every tile, as
 * the trainer does (lenet_pass); the last tile may be partly filled. */
typedef struct {
    const Net *net;
    size_t size;
    int n, tiles;
    char *acts, *dacts;
    double *sums, *batch_sums;
} Batch;

static void batch_init(Batch *b, const Net *net, size_t size, int n) {
    *b = (Batch){.net = net, .size = size, .n = n, .tiles = (n + net->tile - 1) / net->tile};
    const size_t bytes = (size_t)b->tiles * net->n_acts * size;
    b->acts = calloc(1, bytes);
    b->dacts = calloc(1, bytes);
    b->sums = calloc((size_t)(b->tiles + 1) * (net->m.sums + 1), sizeof *b->sums);
    b->batch_sums = b->sums + (size_t)b->tiles * (net->m.sums + 1);
}

static void batch_free(Batch *b) {
    free(b->acts);
    free(b->dacts);
    free(b->sums);
}

/* tile i's activations (or gradients: base = b->dacts) */
static void *batch_tile(const Batch *b, char *base, int i) {
    return base + (size_t)i * b->net->n_acts * b->size;
}

static int batch_lanes(const Batch *b, int i) {
    const int T = b->net->tile;
    return b->n - i * T < T ? b->n - i * T : T;
}

/* A training pass's settings for tile i, part `part`; one seed for every
 * check, so a random layer draws the same mask every time. */
static lenet_pass batch_pass(const Batch *b, int i, int part) {
    return (lenet_pass){.training = 1, .seed = 12345, .sample = i * b->net->tile,
                        .part = part, .lanes = batch_lanes(b, i), .batch = b->n,
                        .sums = b->sums + (size_t)i * (b->net->m.sums + 1),
                        .batch_sums = b->batch_sums};
}

/* every tile's sums added in tile order, as the trainer adds them */
static void batch_add_sums(Batch *b) {
    for (long k = 0; k < b->net->m.sums; k++) {
        double sum = 0;
        for (int i = 0; i < b->tiles; i++)
            sum += b->sums[(size_t)i * (b->net->m.sums + 1) + k];
        b->batch_sums[k] = sum;
    }
}

static void batch_forward(Batch *b, const void *params) {
    for (int part = 0; part < b->net->m.parts; part++) {
        if (part > 0)
            batch_add_sums(b);
        for (int i = 0; i < b->tiles; i++) {
            const lenet_pass pass = batch_pass(b, i, part);
            ((fwd_any)b->net->forward)(params, batch_tile(b, b->acts, i), &pass);
        }
    }
}

/* expects each tile's dLoss/dlogits in dacts; adds to grads */
static void batch_backward(Batch *b, const void *params, void *grads) {
    for (int part = b->net->m.parts - 1; part >= 0; part--) {
        if (part < b->net->m.parts - 1)
            batch_add_sums(b);
        for (int i = 0; i < b->tiles; i++) {
            const lenet_pass pass = batch_pass(b, i, part);
            ((bwd_any)b->net->backward)(params, batch_tile(b, b->acts, i),
                                        batch_tile(b, b->dacts, i), grads, &pass);
        }
    }
}

/* Where sample j's feature f (or class score) lives: its tile's lane. */
static long batch_at(const Batch *b, long feature, int j) {
    const int T = b->net->tile;
    return (long)(j / T) * b->net->n_acts + feature * T + j % T;
}

/* A gradient check's batch: one tile; two, the second one sample short of
 * full, when the model has batch statistics (whose sums must span tiles
 * and leave padding out). */
static int check_batch(const Net *net) {
    return net->m.parts > 1 ? 2 * net->tile - (net->tile > 1) : net->tile;
}

/* L = sum over the batch's samples and classes of r * logits */
static double probe_loss(Batch *b, const double *params, const double *r) {
    batch_forward(b, params);
    const double *acts = (const double *)b->acts;
    double L = 0;
    for (int j = 0; j < b->n; j++)
        for (int k = 0; k < b->net->m.n_classes; k++)
            L += r[j * b->net->m.n_classes + k] * acts[batch_at(b, b->net->m.logits_off + k, j)];
    return L;
}

/* Checks every parameter's gradient if max_checks >= n_params, else a
 * random sample that includes the first and last of every tensor. */
static void gradcheck(const char *spec, CodeStyle style, const lenet_target *target, int tile,
                      long max_checks) {
    Net net;
    net_compile(&net, spec, style, target, "double", tile);
    lenet_rng rng;
    lenet_rng_seed(&rng, 1234);
    Batch batch;
    batch_init(&batch, &net, sizeof(double), check_batch(&net));
    /* a loss over two tiles costs two: half the sample, the same time */
    if (batch.tiles > 1 && max_checks < net.n_params)
        max_checks /= 2;
    const int K = net.m.n_classes;
    double *p = malloc(sizeof *p * net.n_params);
    double *g = calloc((size_t)net.n_params, sizeof *g);
    double *r = malloc(sizeof *r * batch.n * K);
    double *acts = (double *)batch.acts, *dacts = (double *)batch.dacts;
    for (long i = 0; i < net.n_params; i++)
        p[i] = uniform(&rng, -0.5, 0.5);
    /* every lane, padding too: what is in it must not matter */
    for (int t = 0; t < batch.tiles; t++)
        for (long i = 0; i < net.n_in; i++)
            acts[t * net.n_acts + i] = uniform(&rng, -1, 1);
    for (int j = 0; j < batch.n; j++)
        for (int k = 0; k < K; k++)
            dacts[batch_at(&batch, net.m.logits_off + k, j)] = r[j * K + k] =
                uniform(&rng, -1, 1);

    probe_loss(&batch, p, r);
    batch_backward(&batch, p, g);

    const double h = 1e-6;
    long checked = 0;
    double worst = 0;
    for (long k = 0; k < net.n_params; k++) {
        bool pick = max_checks >= net.n_params;
        for (int li = 0; li < net.m.n_layers && !pick; li++) {
            const Layer *l = &net.m.layers[li];
            for (int ti = 0; ti < l->n_tensors && !pick; ti++) {
                const LayerTensor *t = &l->tensors[ti];
                pick = k == t->off || k == t->off + t->size - 1;
            }
        }
        if (!pick && lenet_rng_below(&rng, (uint32_t)net.n_params) >= (uint32_t)max_checks)
            continue;
        double keep = p[k];
        p[k] = keep + h;
        double lp = probe_loss(&batch, p, r);
        p[k] = keep - h;
        double lm = probe_loss(&batch, p, r);
        p[k] = keep;
        double fd = (lp - lm) / (2 * h);
        double err = fabs(fd - g[k]);
        double tol = 1e-6 + 1e-5 * fabs(g[k]);
        ck_assert_msg(err <= tol, "%s (%s): d/dparam[%ld]: backward %.12g, finite difference %.12g",
                      spec, target ? target->name : emit_style_name(style), k, g[k], fd);
        worst = err > worst ? err : worst;
        checked++;
    }
    ck_assert_int_ge(checked, max_checks < net.n_params ? max_checks / 2 : net.n_params);
    /* every trained gradient is non-trivial somewhere: a dead backward would
     * pass a check of zeros against zeros (state has none) */
    double norm = 0;
    for (long k = 0; k < net.m.n_trainable; k++)
        norm += g[k] * g[k];
    ck_assert_msg(norm > 1e-6, "%s: gradient is all zero", spec);
    free(p);
    free(g);
    free(r);
    batch_free(&batch);
    net_free(&net);
}

/* The small models: every .yaml file in tests/models, sorted (listed by
 * gradcheck_suite), so that a model added there is checked here too. */
static glob_t small_glob;
static char **small_models;
static int n_small;

static void list_small_models(void) {
    int rc = glob("tests/models/*.yaml", 0, NULL, &small_glob);
    if (rc != 0 && rc != GLOB_NOMATCH) /* none: test_small_models_found fails */
        fprintf(stderr, "test_gradcheck: glob tests/models/*.yaml failed (%d)\n", rc);
    small_models = small_glob.gl_pathv;
    n_small = (int)small_glob.gl_pathc;
}

static void free_small_models(void) { globfree(&small_glob); }

/* the loops below must not pass for want of a model */
START_TEST(test_small_models_found) {
    ck_assert_msg(n_small > 0, "no tests/models/*.yaml: nothing would be checked");
}
END_TEST

/* Every parameter of a small model (they have a few hundred); of a larger
 * one (every_kind's 2,840), a random 300 (150 over two tiles) and each
 * tensor's first and last. */
#define SMALL_CHECKS 300

START_TEST(test_small_models_loops) {
    gradcheck(small_models[_i], STYLE_LOOPS, NULL, 3, SMALL_CHECKS);
}
END_TEST

START_TEST(test_small_models_unrolled) {
    gradcheck(small_models[_i], STYLE_UNROLL, NULL, 3, SMALL_CHECKS);
}
END_TEST

START_TEST(test_lenet5_loops) { gradcheck("models/lenet5.yaml", STYLE_LOOPS, NULL, 2, 400); }
END_TEST

START_TEST(test_lenet5_classic_loops) {
    gradcheck("models/lenet5-classic.yaml", STYLE_LOOPS, NULL, 2, 300);
}
END_TEST

/* Every target's kernels, in double: every small model with tiles 3 (no
 * whole vector: the lanes one at a time) and 16, and both LeNets. */
START_TEST(test_small_models_kernels) {
    const lenet_target *t = test_target(_i / (2 * n_small));
    if (t)
        gradcheck(small_models[_i % n_small], STYLE_KERNELS, t, _i / n_small % 2 ? 16 : 3,
                  SMALL_CHECKS);
}
END_TEST

START_TEST(test_lenets_kernels) {
    const lenet_target *t = test_target(_i / 2);
    if (t)
        gradcheck(_i % 2 ? "models/lenet5-classic.yaml" : "models/lenet5.yaml", STYLE_KERNELS, t,
                  16, 300);
}
END_TEST

/* Where b's code fuses across layers (fuse.c), its activations (x: tiles
 * of n_acts; acts says which) are made comparable with a's (y), where
 * each layer writes its own: a layer that takes in the next one's passes
 * (a relu into the maxpool before it) writes that layer's output and reads
 * its gradient, never its own, whose places must still hold 0, as they
 * were allocated, and are compared as 0 in a's; a conv whose relu moved
 * into the maxpool after it stores its output unclamped, which is compared
 * clamped (its gradient, as a's). */
static void fused_places(const Net *b, float *x, float *y, int tiles, bool acts,
                         const char *what) {
    for (int i = 0; i < b->m.n_layers; i++) {
        const Layer *l = &b->m.layers[i];
        if (acts && model_relu_moves_next(&b->m, i, &b->o))
            for (int t = 0; t < tiles; t++)
                for (long f = l->out_off * b->tile;
                     f < (l->out_off + shape_size(l->out)) * b->tile; f++)
                    x[t * b->n_acts + f] = x[t * b->n_acts + f] > 0 ? x[t * b->n_acts + f] : 0;
        if (!model_fuses_next(&b->m, i, &b->o))
            continue;
        long written = 0;
        for (int t = 0; t < tiles; t++)
            for (long f = l->out_off * b->tile; f < (l->out_off + shape_size(l->out)) * b->tile;
                 f++) {
                written += x[t * b->n_acts + f] != 0;
                y[t * b->n_acts + f] = 0;
            }
        ck_assert_msg(!written, "%s: %s, fused into the next layer, wrote %ld values of its own",
                      what, l->name, written);
    }
}

/* Runs a and b's forward and backward on the same random batch (a tile;
 * a tile and a half with batch statistics); the loop and unrolled styles
 * add the same terms in the same order, so in fp32 they agree bit for bit
 * (tol 0); the kernels fuse multiply-adds and sum in blocks, so they agree
 * to tol relative to each value's scale. */
static void nets_agree(Net *a, Net *b, const char *what, double tol) {
    const int tile = a->tile;
    lenet_rng rng;
    lenet_rng_seed(&rng, 99);
    const int n = a->m.parts > 1 ? tile + (tile + 1) / 2 : tile;
    Batch ba, bb;
    batch_init(&ba, a, sizeof(float), n);
    batch_init(&bb, b, sizeof(float), n);
    size_t np = (size_t)a->n_params, na = (size_t)a->n_acts * ba.tiles;
    float *p = malloc(sizeof *p * np);
    float *ga = calloc(np, sizeof *ga), *gb = calloc(np, sizeof *gb);
    float *acta = (float *)ba.acts, *dacta = (float *)ba.dacts;
    float *actb = (float *)bb.acts, *dactb = (float *)bb.dacts;
    for (size_t i = 0; i < np; i++)
        p[i] = (float)uniform(&rng, -0.5, 0.5);
    for (int t = 0; t < ba.tiles; t++)
        for (long i = 0; i < a->n_in; i++)
            acta[t * a->n_acts + i] = actb[t * a->n_acts + i] = (float)uniform(&rng, -1, 1);
    for (int j = 0; j < n; j++)
        for (int k = 0; k < a->m.n_classes; k++) {
            const long at = batch_at(&ba, a->m.logits_off + k, j);
            dacta[at] = dactb[at] = (float)uniform(&rng, -1, 1);
        }
    batch_forward(&ba, p);
    batch_forward(&bb, p);
    batch_backward(&ba, p, ga);
    batch_backward(&bb, p, gb);
    /* the first layer with parameters needs no input gradient: the kernels
     * style may use that space as scratch (dense: its input transposed) */
    for (int i = 0; i < a->m.n_layers; i++) {
        const Layer *l = &a->m.layers[i];
        if (!layer_params(l, true))
            continue;
        for (int t = 0; t < ba.tiles; t++)
            for (long f = l->in_off * tile; f < (l->in_off + shape_size(l->in)) * tile; f++)
                dacta[t * a->n_acts + f] = dactb[t * a->n_acts + f] = 0;
        break;
    }
    fused_places(b, actb, acta, ba.tiles, true, what);
    fused_places(b, dactb, dacta, ba.tiles, false, what);
    const float *x[3] = {acta, dacta, ga}, *y[3] = {actb, dactb, gb};
    const size_t sizes[3] = {na, na, np};
    const char *name[3] = {"activations", "activation gradients", "gradients"};
    for (int k = 0; k < 3; k++) {
        if (tol == 0) {
            ck_assert_msg(memcmp(x[k], y[k], sizes[k] * sizeof(float)) == 0, "%s: %s differ",
                          what, name[k]);
            continue;
        }
        double scale = 0;
        for (size_t i = 0; i < sizes[k]; i++)
            scale = fmax(scale, fabs(x[k][i]));
        /* the first value out of tolerance, asserted once: Check records
         * every assertion, and these are hundreds of thousands */
        size_t bad = 0;
        while (bad < sizes[k] && fabs(x[k][bad] - y[k][bad]) <= tol * scale)
            bad++;
        ck_assert_msg(bad == sizes[k], "%s: %s[%zu]: %.9g vs %.9g (scale %.3g)", what, name[k],
                      bad, bad < sizes[k] ? x[k][bad] : 0, bad < sizes[k] ? y[k][bad] : 0, scale);
    }
    double norm = 0;
    for (size_t i = 0; i < np; i++)
        norm += (double)ga[i] * ga[i];
    ck_assert(norm > 0);
    free(p);
    free(ga);
    free(gb);
    batch_free(&ba);
    batch_free(&bb);
}

static void styles_agree(const char *spec, int tile, CodeStyle style, const lenet_target *t) {
    Net a, b;
    net_compile(&a, spec, STYLE_LOOPS, NULL, "float", tile);
    net_compile(&b, spec, style, t, "float", tile);
    char what[256];
    snprintf(what, sizeof what, "%s, %s%s%s, tile %d", spec, emit_style_name(style),
             t ? " for " : "", t ? t->name : "", tile);
    nets_agree(&a, &b, what, style == STYLE_KERNELS ? 1e-5 : 0);
    net_free(&a);
    net_free(&b);
}

START_TEST(test_styles_agree_small) { styles_agree(small_models[_i], 16, STYLE_UNROLL, NULL); }
END_TEST

START_TEST(test_styles_agree_lenet5) {
    styles_agree("models/lenet5.yaml", 16, STYLE_UNROLL, NULL);
}
END_TEST

START_TEST(test_styles_agree_lenet5_classic) {
    styles_agree("models/lenet5-classic.yaml", 16, STYLE_UNROLL, NULL);
}
END_TEST

/* every target's kernels against the loop style: every small model
 * (padding, strides, pools, tails that fill no vector) with tiles 16 and 5,
 * and both LeNets */
START_TEST(test_kernels_agree_small) {
    const lenet_target *t = test_target(_i / (2 * n_small));
    if (t)
        styles_agree(small_models[_i % n_small], _i / n_small % 2 ? 5 : 16, STYLE_KERNELS, t);
}
END_TEST

START_TEST(test_kernels_agree_lenets) {
    const lenet_target *t = test_target(_i / 2);
    if (t)
        styles_agree(_i % 2 ? "models/lenet5-classic.yaml" : "models/lenet5.yaml", 16,
                     STYLE_KERNELS, t);
}
END_TEST

/* A relu next to a maxpool is done in the pool's kernel (fuse.c): lenet5's
 * two relu layers after its pools, the speedrun's two convs' relus before
 * them; with the same parameters and inputs the activations (but the
 * pools' own outputs, never written, and the convs', unclamped), their
 * gradients and the parameters' gradients are bit for bit those of the
 * layers run one by one, on every target. */
START_TEST(test_relu_fused_into_maxpool) {
    const lenet_target *t = test_target(_i / 2);
    if (!t)
        return;
    const char *spec = _i % 2 ? "models/speedrun.yaml" : "models/lenet5.yaml";
    Net a, b;
    net_compile_with(&a, spec, t,
                     (EmitOptions){.style = STYLE_KERNELS, .tile = 16, .real = "float",
                                   .spec_file = spec, .every_output = true});
    net_compile(&b, spec, STYLE_KERNELS, t, "float", 16);
    int fused = 0, moved = 0;
    for (int i = 0; i < b.m.n_layers; i++) {
        fused += model_fuses_next(&b.m, i, &b.o);
        moved += model_relu_moves_next(&b.m, i, &b.o);
        ck_assert(!model_fuses_next(&a.m, i, &a.o) && !model_relu_moves_next(&a.m, i, &a.o));
    }
    /* lenet5: pool1 and pool2 take in relu1 and relu2; the speedrun: conv1
     * and conv2 give theirs to pool1 and pool2 */
    ck_assert_int_eq(fused, _i % 2 ? 0 : 2);
    ck_assert_int_eq(moved, _i % 2 ? 2 : 0);
    if (_i % 2)
        ck_assert(model_relu_moves_next(&b.m, 0, &b.o) && model_relu_moves_next(&b.m, 2, &b.o));
    else
        ck_assert(model_fuses_next(&b.m, 1, &b.o) && model_fuses_next(&b.m, 4, &b.o));
    char what[128];
    snprintf(what, sizeof what, "%s, relu fused into maxpool, %s", spec, t->name);
    nets_agree(&a, &b, what, 0);
    net_free(&a);
    net_free(&b);
}
END_TEST

/* A pool whose output another layer reads too keeps its relu layer; one
 * read only by its relu fuses it. */
START_TEST(test_relu_not_fused_into_read_pool) {
    static const char layers[] =
        "input: {shape: [6, 6, 1]}\n"
        "layers:\n"
        "  - conv: {filters: 2, kernel: 3}\n"
        "  - maxpool: {name: p, size: 2}\n"
        "  - relu\n"
        "  - flatten\n"
        "  - dense: {name: d1, units: 3}\n"
        "  - flatten: {name: pf, input: p}\n"
        "  - concat: {inputs: [d1, pf]}\n"
        "  - dense: 3\n";
    char path[512];
    snprintf(path, sizeof path, "%s/pool_read_twice.yaml", test_tmpdir());
    FILE *f = fopen(path, "w");
    ck_assert(f && fputs(layers, f) >= 0 && fclose(f) == 0);
    Model m;
    Diag d = {.file = path};
    ck_assert_msg(test_load_spec(path, &m, &d) == 0, "%s", d.msg);
    const EmitOptions o = {.style = STYLE_KERNELS, .tile = 4, .real = "float"};
    ck_assert_int_eq(m.layers[1].users, 2);
    for (int i = 0; i < m.n_layers; i++)
        ck_assert_msg(!model_fuses_next(&m, i, &o), "%s fused", m.layers[i].name);
    model_free(&m);
    /* the same with the second reader reading the conv instead */
    char *at = strstr(layers, "input: p");
    ck_assert(at);
    char twin[sizeof layers + 16];
    snprintf(twin, sizeof twin, "%.*sinput: conv1%s", (int)(at - layers), layers, at + 8);
    f = fopen(path, "w");
    ck_assert(f && fputs(twin, f) >= 0 && fclose(f) == 0);
    ck_assert_msg(test_load_spec(path, &m, &d) == 0, "%s", d.msg);
    ck_assert(model_fuses_next(&m, 1, &o));
    ck_assert(!model_fuses_next(&m, 1, &(EmitOptions){.style = STYLE_LOOPS, .tile = 4}));
    model_free(&m);
}
END_TEST

/* A conv's fused activation is the activation's layer after it: with the
 * same parameters and inputs, tests/models/conv_act.yaml and its twin with
 * the activations as layers give the same logits and gradients, bit for
 * bit, in every style and on every target. */
static const char conv_act_layers[] =
    "name: conv_act_layers\n"
    "input: {shape: [6, 6, 1]}\n"
    "layers:\n"
    "  - conv: {filters: 2, kernel: 3}\n"
    "  - relu\n"
    "  - conv: {filters: 2, kernel: 2, padding: same}\n"
    "  - leaky_relu: {alpha: 0.1}\n"
    "  - conv: {filters: 2, kernel: 2, stride: 2}\n"
    "  - tanh\n"
    "  - conv: {filters: 2, kernel: 1}\n"
    "  - sigmoid\n"
    "  - flatten\n"
    "  - dense: {units: 3}\n";

START_TEST(test_fused_is_two_layers) {
    const CodeStyle style = _i < 2 ? (CodeStyle)_i : STYLE_KERNELS;
    const lenet_target *t = style == STYLE_KERNELS ? test_target(_i - 2) : NULL;
    if (style == STYLE_KERNELS && !t)
        return;
    char twin[512];
    snprintf(twin, sizeof twin, "%s/conv_act_layers.yaml", test_tmpdir());
    FILE *f = fopen(twin, "w");
    ck_assert(f && fputs(conv_act_layers, f) >= 0 && fclose(f) == 0);
    Net a, b;
    net_compile(&a, "tests/models/conv_act.yaml", style, t, "float", 5);
    net_compile(&b, twin, style, t, "float", 5);
    ck_assert_int_eq(a.n_params, b.n_params);
    ck_assert_int_eq(a.m.n_classes, b.m.n_classes);
    lenet_rng rng;
    lenet_rng_seed(&rng, 7);
    const int n = 8; /* a full tile and a partial one */
    Batch ba, bb;
    batch_init(&ba, &a, sizeof(float), n);
    batch_init(&bb, &b, sizeof(float), n);
    float *p = malloc(sizeof *p * (size_t)a.n_params);
    float *ga = calloc((size_t)a.n_params, sizeof *ga), *gb = calloc((size_t)a.n_params, sizeof *gb);
    for (long i = 0; i < a.n_params; i++)
        p[i] = (float)uniform(&rng, -1, 1);
    float *xa = (float *)ba.acts, *xb = (float *)bb.acts;
    for (int j = 0; j < n; j++)
        for (long i = 0; i < shape_size(a.m.input); i++)
            xa[batch_at(&ba, i, j)] = xb[batch_at(&bb, i, j)] = (float)uniform(&rng, -1, 1);
    batch_forward(&ba, p);
    batch_forward(&bb, p);
    for (int j = 0; j < n; j++)
        for (int k = 0; k < a.m.n_classes; k++) {
            const long la = batch_at(&ba, a.m.logits_off + k, j);
            const long lb = batch_at(&bb, b.m.logits_off + k, j);
            ck_assert_msg(memcmp(&xa[la], &xb[lb], sizeof(float)) == 0,
                          "%s: sample %d, logit %d: %.9g fused, %.9g as layers",
                          emit_style_name(style), j, k, xa[la], xb[lb]);
            ((float *)ba.dacts)[la] = ((float *)bb.dacts)[lb] = (float)uniform(&rng, -1, 1);
        }
    batch_backward(&ba, p, ga);
    batch_backward(&bb, p, gb);
    ck_assert_msg(memcmp(ga, gb, sizeof *ga * (size_t)a.n_params) == 0,
                  "%s: the gradients differ", emit_style_name(style));
    free(p);
    free(ga);
    free(gb);
    batch_free(&ba);
    batch_free(&bb);
    net_free(&a);
    net_free(&b);
}
END_TEST

/* sse2 has no FMA, and a kernel adds each sum's terms in the loop style's
 * order: the forward pass (and every gemm-shaped gradient) matches the
 * loops bit for bit, which pins the kernels' order of summation. */
START_TEST(test_sse2_forward_exact) {
    static const lenet_pass training = {.training = 1, .seed = 12345};
    const lenet_target *t = lenet_target_find("sse2");
    if (!lenet_target_runs(t))
        return;
    Net a, b;
    net_compile(&a, "models/lenet5.yaml", STYLE_LOOPS, NULL, "float", 16);
    net_compile(&b, "models/lenet5.yaml", STYLE_KERNELS, t, "float", 16);
    lenet_rng rng;
    lenet_rng_seed(&rng, 5);
    float *p = malloc(sizeof *p * (size_t)a.n_params);
    float *acta = calloc((size_t)a.n_acts, sizeof *acta), *actb = calloc((size_t)a.n_acts, 4);
    for (long i = 0; i < a.n_params; i++)
        p[i] = (float)uniform(&rng, -0.5, 0.5);
    for (long i = 0; i < a.n_in; i++)
        acta[i] = actb[i] = (float)uniform(&rng, -1, 1);
    ((lenet_forward_fn)a.forward)(p, acta, &training);
    ((lenet_forward_fn)b.forward)(p, actb, &training);
    fused_places(&b, actb, acta, 1, true, "sse2 kernels");
    ck_assert_msg(memcmp(acta, actb, sizeof *acta * (size_t)a.n_acts) == 0,
                  "sse2 kernels: the forward pass differs from the loop style's");
    free(p);
    free(acta);
    free(actb);
    net_free(&a);
    net_free(&b);
}
END_TEST

/* ---- against PyTorch, in float64 ------------------------------------ */

static void write_doubles(const char *path, const double *x, size_t n) {
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f && fwrite(x, sizeof *x, n, f) == n && fclose(f) == 0, "cannot write %s", path);
}

static double *read_doubles(const char *path, size_t n) {
    double *x = malloc(n * sizeof *x);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f && fread(x, sizeof *x, n, f) == n, "%s: fewer than %zu doubles", path, n);
    fclose(f);
    return x;
}

static void run_check_py(const char *args) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/torch/check.py %s", args);
    ck_assert_msg(system(cmd) == 0, "failed: %s", cmd);
}

/* The models with the new activations (tanh, sigmoid, leaky_relu as layers
 * and fused into dense), batchnorm and the graphs (a residual network with
 * batchnorm, branches over vectors, depthwise-separable convolutions):
 * logits and parameter gradients of the loop style, in double, against
 * torch's in float64 from the same weights and inputs, a batch of 5 in
 * tiles of 3 (torch's batch is one). */
static const char *const torch_models[] = {
    "tests/models/squash.yaml",   "tests/models/leaky.yaml",    "tests/models/batchnorm.yaml",
    "tests/models/residual.yaml", "tests/models/branches.yaml", "tests/models/depthwise.yaml"};
enum { TORCH_N = 5, TORCH_TILE = 3 };

/* Random inputs for a batch: x (torch's order, sample-major) and the same
 * values in the batch's tiles. */
static void random_inputs(Batch *b, lenet_rng *rng, double *x) {
    const long F = b->net->n_in / b->net->tile;
    double *acts = (double *)b->acts;
    for (int j = 0; j < b->n; j++)
        for (long f = 0; f < F; f++)
            acts[batch_at(b, f, j)] = x[j * F + f] = uniform(rng, -1, 1);
}

/* The same for the probe r of the logits, into the logits' gradients. */
static void random_probe(Batch *b, lenet_rng *rng, double *r) {
    const int K = b->net->m.n_classes;
    double *dacts = (double *)b->dacts;
    for (int j = 0; j < b->n; j++)
        for (int k = 0; k < K; k++)
            dacts[batch_at(b, b->net->m.logits_off + k, j)] = r[j * K + k] = uniform(rng, -1, 1);
}

/* The largest difference between the batch's logits and want (N x K), and
 * the logits' scale. */
static double logits_differ(const Batch *b, const double *want, double *scale) {
    const int K = b->net->m.n_classes;
    double worst = 0;
    for (int j = 0; j < b->n; j++)
        for (int k = 0; k < K; k++) {
            const double z = ((const double *)b->acts)[batch_at(b, b->net->m.logits_off + k, j)];
            worst = fmax(worst, fabs(z - want[j * K + k]));
            *scale = fmax(*scale, fabs(z));
        }
    return worst;
}

/* Random parameters in [-0.5, 0.5); the state tensors (running
 * statistics) as initialised (mean 0, variance 1, no batches) or, for a
 * single pass, random but what they can be: positive (a variance, a count). */
static void random_params(const Net *net, lenet_rng *rng, double *p, bool state_as_initialised) {
    for (long i = 0; i < net->n_params; i++)
        p[i] = uniform(rng, -0.5, 0.5);
    for (const Layer *l = net->m.layers; l < net->m.layers + net->m.n_layers; l++)
        for (const LayerTensor *t = l->tensors; t < l->tensors + l->n_tensors; t++)
            for (long i = t->off; !t->trainable && i < t->off + t->size; i++)
                p[i] = state_as_initialised ? t->init == LENET_INIT_ONES : fabs(p[i]) + 0.5;
}

static void tmp_path(char path[256], const char *name) {
    snprintf(path, 256, "%s/%s", test_tmpdir(), name);
}

START_TEST(test_grads_match_torch) {
    if (!test_torch("gradcheck: the PyTorch checks"))
        return;
    const char *spec = torch_models[_i];
    Net net;
    net_compile(&net, spec, STYLE_LOOPS, NULL, "double", TORCH_TILE);
    Batch b;
    batch_init(&b, &net, sizeof(double), TORCH_N);
    lenet_rng rng;
    lenet_rng_seed(&rng, 77);
    const long P = net.n_params, F = net.n_in / TORCH_TILE, K = net.m.n_classes;
    double *p = malloc(sizeof *p * P), *g = calloc((size_t)P, sizeof *g);
    double *x = malloc(sizeof *x * TORCH_N * F), *r = malloc(sizeof *r * TORCH_N * K);
    random_params(&net, &rng, p, false);
    random_inputs(&b, &rng, x);
    random_probe(&b, &rng, r);
    batch_forward(&b, p);
    batch_backward(&b, p, g);

    char pp[256], xp[256], rp[256], op[256], args[1400];
    tmp_path(pp, "torch_p.f64");
    tmp_path(xp, "torch_x.f64");
    tmp_path(rp, "torch_r.f64");
    tmp_path(op, "torch_out.f64");
    write_doubles(pp, p, (size_t)P);
    write_doubles(xp, x, (size_t)(TORCH_N * F));
    write_doubles(rp, r, (size_t)(TORCH_N * K));
    snprintf(args, sizeof args, "grads %s %d %s %s %s %s", spec, TORCH_N, pp, xp, rp, op);
    run_check_py(args);
    double *t = read_doubles(op, (size_t)(TORCH_N * K + P));
    double scale = 0;
    double worst = logits_differ(&b, t, &scale);
    ck_assert_msg(worst <= 1e-12 * fmax(scale, 1), "%s: logits differ from torch's by %g", spec,
                  worst);
    scale = worst = 0;
    for (long i = 0; i < net.m.n_trainable; i++) {
        worst = fmax(worst, fabs(g[i] - t[TORCH_N * K + i]));
        scale = fmax(scale, fabs(g[i]));
    }
    ck_assert(scale > 0);
    ck_assert_msg(worst <= 1e-12 * scale, "%s: gradients differ from torch's by %g (scale %g)",
                  spec, worst, scale);
    free(t);
    free(p);
    free(g);
    free(x);
    free(r);
    batch_free(&b);
    net_free(&net);
}
END_TEST

/* 10 training steps (plain SGD on a probe loss, new inputs each step) of
 * the models with the new kinds, against torch's in float64: each step's
 * logits (batchnorm: whole-batch statistics), every tensor after the steps
 * (batchnorm's running statistics and num_batches_tracked included), and
 * evaluation (batchnorm: with the running statistics). */
START_TEST(test_trains_as_torch) {
    if (!test_torch("gradcheck: the PyTorch checks"))
        return;
    enum { STEPS = 10 };
    const char *spec = torch_models[_i];
    const double lr = 0.1;
    Net net;
    net_compile(&net, spec, STYLE_LOOPS, NULL, "double", TORCH_TILE);
    Batch b;
    batch_init(&b, &net, sizeof(double), TORCH_N);
    lenet_rng rng;
    lenet_rng_seed(&rng, 2024);
    const long P = net.n_params, F = net.n_in / TORCH_TILE, K = net.m.n_classes;
    double *p = malloc(sizeof *p * P), *g = malloc(sizeof *g * P), *p0 = malloc(sizeof *p0 * P);
    double *x = malloc(sizeof *x * STEPS * TORCH_N * F), *r = malloc(sizeof *r * STEPS * TORCH_N * K);
    double *logits = malloc(sizeof *logits * STEPS * TORCH_N * K);
    random_params(&net, &rng, p, true);
    memcpy(p0, p, sizeof *p * P);
    for (int s = 0; s < STEPS; s++) {
        random_inputs(&b, &rng, x + s * TORCH_N * F);
        random_probe(&b, &rng, r + s * TORCH_N * K);
        batch_forward(&b, p);
        for (int j = 0; j < TORCH_N; j++)
            for (int k = 0; k < K; k++)
                logits[(s * TORCH_N + j) * K + k] =
                    ((double *)b.acts)[batch_at(&b, net.m.logits_off + k, j)];
        memset(g, 0, sizeof *g * P);
        batch_backward(&b, p, g);
        for (long i = 0; i < net.m.n_trainable; i++)
            p[i] -= lr * g[i];
        if (net.update_state)
            ((update_any)net.update_state)(p, &(lenet_pass){.training = 1, .batch = TORCH_N,
                                                            .batch_sums = b.batch_sums});
    }
    /* evaluation: the whole forward pass in one call a tile */
    for (int i = 0; i < b.tiles; i++)
        ((fwd_any)net.forward)(p, batch_tile(&b, b.acts, i), &(lenet_pass){.training = 0});

    char pp[256], xp[256], rp[256], op[256], args[1400];
    tmp_path(pp, "steps_p.f64");
    tmp_path(xp, "steps_x.f64");
    tmp_path(rp, "steps_r.f64");
    tmp_path(op, "steps_out.f64");
    write_doubles(pp, p0, (size_t)P);
    write_doubles(xp, x, (size_t)(STEPS * TORCH_N * F));
    write_doubles(rp, r, (size_t)(STEPS * TORCH_N * K));
    snprintf(args, sizeof args, "train %s %d %d %g %s %s %s %s", spec, STEPS, TORCH_N, lr, pp, xp,
             rp, op);
    run_check_py(args);
    double *t = read_doubles(op, (size_t)(STEPS * TORCH_N * K + P + TORCH_N * K));
    for (int s = 0; s < STEPS; s++)
        for (long i = 0; i < TORCH_N * K; i++) {
            const double z = logits[s * TORCH_N * K + i], want = t[s * TORCH_N * K + i];
            ck_assert_msg(fabs(z - want) <= 1e-10 * fmax(1, fabs(want)),
                          "step %d: logit %ld is %.15g, torch's %.15g", s + 1, i, z, want);
        }
    const double *state = t + STEPS * TORCH_N * K;
    for (long i = 0; i < P; i++)
        ck_assert_msg(fabs(p[i] - state[i]) <= 1e-10 * fmax(1, fabs(state[i])),
                      "%s after %d steps: param %ld is %.15g, torch's %.15g", spec, STEPS, i,
                      p[i], state[i]);
    double scale = 0;
    const double worst = logits_differ(&b, state + P, &scale);
    ck_assert_msg(worst <= 1e-10 * fmax(scale, 1),
                  "evaluation: logits differ from torch's by %g", worst);
    free(t);
    free(p);
    free(p0);
    free(g);
    free(x);
    free(r);
    free(logits);
    batch_free(&b);
    net_free(&net);
}
END_TEST

/* SGD (momentum 0.9, Nesterov, weight decay 0.01, lr 0.1) and AdamW (lr
 * 0.01, weight decay 0.05) over 10 steps of the same gradients: lenetc's
 * float32 steps against torch.optim's in float64. AdamW is Keras' (eps
 * added to the uncorrected sqrt(v)), torch's adds it to the corrected one:
 * with these gradients eps is 1e-5 of sqrt(v), far below the tolerance. */
START_TEST(test_optimizers_match_torch) {
    if (!test_torch("gradcheck: the PyTorch checks"))
        return;
    enum { STEPS = 10, N = 8 };
    lenet_rng rng;
    lenet_rng_seed(&rng, 5);
    double p0[N], grads[STEPS][N];
    for (int i = 0; i < N; i++)
        p0[i] = uniform(&rng, -1, 1);
    for (int s = 0; s < STEPS; s++)
        for (int i = 0; i < N; i++)
            grads[s][i] = uniform(&rng, -1, 1);
    char pp[256], gp[256], op[256], args[1200];
    snprintf(pp, sizeof pp, "%s/optim_p.f64", test_tmpdir());
    snprintf(gp, sizeof gp, "%s/optim_g.f64", test_tmpdir());
    snprintf(op, sizeof op, "%s/optim_out.f64", test_tmpdir());
    write_doubles(pp, p0, N);
    write_doubles(gp, &grads[0][0], STEPS * N);
    for (int adamw = 0; adamw < 2; adamw++) {
        snprintf(args, sizeof args, "optim %s %d %d %s %s %s", adamw ? "adamw" : "sgd", STEPS, N, pp,
                 gp, op);
        run_check_py(args);
        double *want = read_doubles(op, STEPS * N);
        float p[N], g[N], m[N] = {0}, v[N] = {0};
        for (int i = 0; i < N; i++)
            p[i] = (float)p0[i];
        lenet_hparams h = {.optimizer = adamw ? LENET_ADAMW : LENET_SGD,
                           .lr = adamw ? 0.01f : 0.1f, .beta1 = 0.9f, .beta2 = 0.999f,
                           .eps = 1e-7f, .momentum = 0.9f, .nesterov = 1,
                           .weight_decay = adamw ? 0.05f : 0.01f};
        for (int s = 0; s < STEPS; s++) {
            for (int i = 0; i < N; i++)
                g[i] = (float)grads[s][i];
            if (adamw) {
                lenet_weight_decay(p, N, h.lr, h.weight_decay);
                lenet_adam_step(p, g, m, v, N, &h, s + 1);
            } else {
                lenet_sgd_step(p, g, m, N, &h);
            }
            for (int i = 0; i < N; i++)
                ck_assert_msg(fabs(p[i] - want[s * N + i]) <= 2e-6 * fmax(1, fabs(want[s * N + i])),
                              "%s step %d: p[%d] = %.9g, torch %.9g", adamw ? "adamw" : "sgd",
                              s + 1, i, p[i], want[s * N + i]);
        }
        free(want);
    }
}
END_TEST

/* The onecycle schedule against torch's OneCycleLR, step by step: the
 * rate and (cycle_momentum) Adam's beta1, PyTorch's defaults on 37 steps
 * of a run of 1 epoch (phase 1 ends at 37 * 0.3 - 1 = 10.1, between steps),
 * then straight lines, another split and no momentum on 3 epochs of 20. */
START_TEST(test_onecycle_matches_torch) {
    if (!test_torch("gradcheck: the PyTorch checks"))
        return;
    static const struct {
        int epochs, steps_per_epoch;
        float lr, pct, div, final;
        int linear, cycle;
        float base, top;
    } runs[] = {{1, 37, 0.01f, 0.3f, 25, 1e4f, 0, 1, 0.85f, 0.95f},
                {3, 20, 0.5f, 0.25f, 10, 100, 1, 0, 0.8f, 0.9f},
                {2, 7, 0.002f, 0.5f, 4, 1e3f, 0, 1, 0.7f, 0.9f}};
    char op[256], args[1200];
    snprintf(op, sizeof op, "%s/onecycle.f64", test_tmpdir());
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        const lenet_hparams h = {.lr = runs[r].lr, .beta1 = 0.9f, .epochs = runs[r].epochs,
                                 .schedule = LENET_ONECYCLE, .pct_start = runs[r].pct,
                                 .div_factor = runs[r].div, .final_div_factor = runs[r].final,
                                 .onecycle_linear = runs[r].linear,
                                 .cycle_momentum = runs[r].cycle, .base_momentum = runs[r].base,
                                 .max_momentum = runs[r].top};
        const int T = runs[r].epochs * runs[r].steps_per_epoch;
        /* the settings as floats, printed to read back as the same floats */
        snprintf(args, sizeof args, "onecycle %d %.9g %.9g %.9g %.9g %s %d %.9g %.9g %s", T,
                 (double)h.lr, (double)h.pct_start, (double)h.div_factor,
                 (double)h.final_div_factor, h.onecycle_linear ? "linear" : "cos",
                 h.cycle_momentum, (double)h.base_momentum, (double)h.max_momentum, op);
        run_check_py(args);
        double *want = read_doubles(op, (size_t)T * 2);
        for (int t = 1; t <= T; t++) {
            const double lr = lenet_schedule_lr(&h, t, runs[r].steps_per_epoch);
            const double m = lenet_schedule_momentum(&h, t, runs[r].steps_per_epoch);
            const double want_lr = want[2 * (t - 1)], want_m = want[2 * (t - 1) + 1];
            /* the same double computation, rounded once to float */
            ck_assert_msg(fabs(lr - want_lr) <= 1e-7 * want_lr + 1e-12,
                          "run %zu step %d: lr %.9g, torch %.9g", r, t, lr, want_lr);
            if (h.cycle_momentum)
                ck_assert_msg(fabs(m - want_m) <= 1e-7,
                              "run %zu step %d: beta1 %.9g, torch %.9g", r, t, m, want_m);
            else
                ck_assert_msg(m == -1 && want_m == 0.9, "run %zu: no cycled momentum", r);
        }
        free(want);
    }
}
END_TEST

/* The loss with label smoothing 0.1 (and 0, and 0.5) against torch's
 * CrossEntropyLoss(label_smoothing=) in float64, from the same float
 * logits: the summed loss and its gradient, 7 samples of 10 classes in a
 * tile of 8 (the last lane unused). */
START_TEST(test_label_smoothing_matches_torch) {
    if (!test_torch("gradcheck: the PyTorch checks"))
        return;
    enum { N = 7, K = 10, T = 8 };
    lenet_rng rng;
    lenet_rng_seed(&rng, 11);
    float logits[K * T], d[K * T];
    double z[N * K], y[N];
    uint8_t labels[N];
    for (int b = 0; b < T; b++)
        for (int c = 0; c < K; c++)
            logits[c * T + b] = (float)uniform(&rng, -4, 4);
    for (int b = 0; b < N; b++) {
        labels[b] = (uint8_t)(b * 3 % K);
        y[b] = labels[b];
        for (int c = 0; c < K; c++)
            z[b * K + c] = logits[c * T + b];
    }
    char zp[256], yp[256], op[256], args[1200];
    snprintf(zp, sizeof zp, "%s/xent_z.f64", test_tmpdir());
    snprintf(yp, sizeof yp, "%s/xent_y.f64", test_tmpdir());
    snprintf(op, sizeof op, "%s/xent_out.f64", test_tmpdir());
    write_doubles(zp, z, N * K);
    write_doubles(yp, y, N);
    static const float smoothings[] = {0.1f, 0, 0.5f};
    for (int s = 0; s < 3; s++) {
        snprintf(args, sizeof args, "xent %d %d %.17g %s %s %s", N, K, (double)smoothings[s], zp,
                 yp, op);
        run_check_py(args);
        double *want = read_doubles(op, 1 + N * K);
        int correct = 0;
        const double loss =
            lenet_softmax_xent_smoothed(logits, K, T, N, labels, smoothings[s], 1.0f, d, &correct);
        ck_assert_msg(fabs(loss - want[0]) <= 1e-12 * want[0], "smoothing %g: loss %.15g, torch %.15g",
                      (double)smoothings[s], loss, want[0]);
        for (int b = 0; b < N; b++)
            for (int c = 0; c < K; c++)
                ck_assert_msg(fabs(d[c * T + b] - want[1 + b * K + c]) <= 1e-7,
                              "smoothing %g: dz[%d][%d] %.9g, torch %.9g", (double)smoothings[s],
                              b, c, (double)d[c * T + b], want[1 + b * K + c]);
        for (int c = 0; c < K; c++)
            ck_assert(d[c * T + N] == 0.0f);
        free(want);
    }
}
END_TEST

Suite *gradcheck_suite(void) {
    static bool listed;
    if (!listed) {
        list_small_models();
        atexit(free_small_models);
        listed = true;
    }
    Suite *s = suite_create("gradcheck");
    TCase *tc = tcase_create("finite_differences");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_small_models_found);
    tcase_add_loop_test(tc, test_small_models_loops, 0, n_small);
    tcase_add_loop_test(tc, test_small_models_unrolled, 0, n_small);
    tcase_add_test(tc, test_lenet5_loops);
    tcase_add_test(tc, test_lenet5_classic_loops);
    tcase_add_loop_test(tc, test_small_models_kernels, 0, TEST_TARGETS * 2 * n_small);
    tcase_add_loop_test(tc, test_lenets_kernels, 0, TEST_TARGETS * 2);
    suite_add_tcase(s, tc);
    TCase *sh = tcase_create("code_styles");
    tcase_set_timeout(sh, 300);
    tcase_add_loop_test(sh, test_styles_agree_small, 0, n_small);
    tcase_add_test(sh, test_styles_agree_lenet5);
    tcase_add_test(sh, test_styles_agree_lenet5_classic);
    tcase_add_loop_test(sh, test_kernels_agree_small, 0, TEST_TARGETS * 2 * n_small);
    tcase_add_loop_test(sh, test_kernels_agree_lenets, 0, TEST_TARGETS * 2);
    tcase_add_test(sh, test_sse2_forward_exact);
    tcase_add_loop_test(sh, test_fused_is_two_layers, 0, 2 + TEST_TARGETS);
    tcase_add_loop_test(sh, test_relu_fused_into_maxpool, 0, 2 * TEST_TARGETS);
    tcase_add_test(sh, test_relu_not_fused_into_read_pool);
    suite_add_tcase(s, sh);
    TCase *torch = tcase_create("torch");
    tcase_set_tags(torch, "slow"); /* PyTorch takes seconds to start: left to make test */
    tcase_set_timeout(torch, 120);
    const int n_torch = (int)(sizeof torch_models / sizeof torch_models[0]);
    tcase_add_loop_test(torch, test_grads_match_torch, 0, n_torch);
    tcase_add_loop_test(torch, test_trains_as_torch, 0, n_torch);
    tcase_add_test(torch, test_optimizers_match_torch);
    tcase_add_test(torch, test_onecycle_matches_torch);
    tcase_add_test(torch, test_label_smoothing_matches_torch);
    suite_add_tcase(s, torch);
    return s;
}
