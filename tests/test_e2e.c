/* test_e2e.c: the trainers end to end, on real MNIST.
 *
 * - the emitted path: lenetc -o DIR, make -C DIR, DIR/lenet5-train;
 * - the JIT path against the emitted code compiled by gcc (the golden
 *   generated/lenet5/lenet5.c and its loop style are linked into this test
 *   binary), step by step; every target against the loop style;
 * - the code styles through the JIT; errors; determinism; weights.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "lenetc.h"
#include <sys/stat.h>

#include "tests.h"

/* generated/lenet5/lenet5.c (kernels for avx2) built by gcc as its Makefile
 * builds it, and generated/loops/lenet5/lenet5.c as tcc computes (FMA
 * contraction off) */
extern const lenet_model lenet5_model, lenet5_loops_model;

static lenet_dataset train_set;

static void load_train(void) {
    if (train_set.count)
        return;
    lenet_error err;
    ck_assert_msg(lenet_load_mnist(NULL, "train", &train_set, &err) == 0,
                  "%s (these tests need MNIST: see README)", err.msg);
}


typedef struct {
    Model m;
    lenet_model *lm;
    Jit *jit;
} JitModel;

/* target NULL: this machine's own */
static void jit_model_for(JitModel *j, const char *spec, CodeStyle style, const char *target) {
    Diag d = {.file = spec};
    ck_assert_msg(test_load_spec(spec, &j->m, &d) == 0, "%s", d.msg);
    EmitOptions o = {.style = style, .target = target ? target : lenet_target_native()->name,
                     .tile = 16, .real = "float", .spec_file = spec};
    j->lm = model_descriptor(&j->m, 16);
    j->jit = jit_compile(&j->m, &o, j->lm, &d, NULL, NULL);
    ck_assert_msg(j->jit != NULL, "%s", d.msg);
}

static void jit_model(JitModel *j, const char *spec, CodeStyle style) {
    jit_model_for(j, spec, style, NULL);
}

static void jit_model_free(JitModel *j) {
    jit_free(j->jit);
    descriptor_free(j->lm);
    model_free(&j->m);
}

/* Trains a and b side by side (on threads_a and threads_b workers) on the
 * first steps*batch images in file order; the losses must agree step by step
 * to 1e-5 relative. Returns the number of steps whose loss was bit-identical. */
static int compare_steps_threads(const lenet_model *a, int threads_a, const lenet_model *b,
                                 int threads_b, int steps, int batch, bool params_identical) {
    load_train();
    lenet_hparams h = a->defaults;
    h.batch = batch;
    lenet_trainer ta, tb;
    ck_assert_int_eq(lenet_trainer_init(&ta, a, &h, threads_a), 0);
    ck_assert_int_eq(lenet_trainer_init(&tb, b, &h, threads_b), 0);
    ck_assert_int_eq(ta.threads, threads_a);
    ck_assert_int_eq(tb.threads, threads_b);
    int *idx = malloc(sizeof *idx * (size_t)batch);
    int same = 0, ca = 0, cb = 0;
    for (int s = 0; s < steps; s++) {
        for (int i = 0; i < batch; i++)
            idx[i] = s * batch + i;
        double la = lenet_trainer_step(&ta, &train_set, idx, batch, &ca);
        double lb = lenet_trainer_step(&tb, &train_set, idx, batch, &cb);
        ck_assert_msg(isfinite(la) && fabs(la - lb) <= 1e-5 * fabs(la),
                      "step %d: loss %.9g vs %.9g", s + 1, la / batch, lb / batch);
        same += la == lb;
    }
    if (params_identical)
        ck_assert_msg(memcmp(ta.params, tb.params, a->n_params * sizeof(float)) == 0,
                      "parameters differ after %d steps", steps);
    ck_assert_int_eq(ca, cb);
    free(idx);
    lenet_trainer_free(&ta);
    lenet_trainer_free(&tb);
    return same;
}

static int compare_steps(const lenet_model *a, const lenet_model *b, int steps, int batch,
                         bool params_identical) {
    return compare_steps_threads(a, 1, b, 1, steps, batch, params_identical);
}

/* Every target's kernels follow the loop style's trajectory: fused
 * multiply-adds and sums in blocks round differently, but the losses of the
 * first 100 steps agree within 1e-5. Steps of 64 images: measured, some
 * windows of training are chaotic (nudging one initial weight by one ulp
 * moved a loss by 1.1e-4 within 100 steps of 128 images with the avx2
 * kernels, by 1.4e-4 with 256 in the loop style), while in this one every
 * target and every such nudge stayed under 5e-7. */
START_TEST(test_targets_follow_loops) {
    const lenet_target *t = test_target(_i);
    if (!t)
        return;
    JitModel j;
    jit_model_for(&j, "models/lenet5.yaml", STYLE_KERNELS, t->name);
    ck_assert_str_eq(j.lm->target, t->name);
    int same = compare_steps(&lenet5_loops_model, j.lm, 100, 64, false);
    ck_assert_int_lt(same, 100); /* it is other code */
    jit_model_free(&j);
}
END_TEST

/* Threads: a step's tiles fall into fixed slots, each summed in tile order,
 * the slots added in slot order; a worker takes whole slots. So the thread
 * count changes no bit: 1, 2, 3 and 16 threads train to the same weights,
 * with lenet5 and with batchnorm's whole-batch statistics (every_kind),
 * and so does a batch that is not a whole number of tiles. */
START_TEST(test_threads_deterministic) {
    JitModel j, k;
    jit_model(&j, "models/lenet5.yaml", STYLE_KERNELS);
    ck_assert_int_eq(compare_steps_threads(j.lm, 1, j.lm, 2, 30, 128, true), 30);
    ck_assert_int_eq(compare_steps_threads(j.lm, 1, j.lm, 3, 20, 100, true), 20);
    ck_assert_int_eq(compare_steps_threads(j.lm, 2, j.lm, 16, 10, 128, true), 10);
    jit_model(&k, "tests/models/every_kind.yaml", STYLE_KERNELS);
    ck_assert_int_eq(compare_steps_threads(k.lm, 1, k.lm, 3, 10, 100, true), 10);
    jit_model_free(&j);
    jit_model_free(&k);
}
END_TEST

/* Evaluation split over workers counts exactly what one thread counts. */
START_TEST(test_parallel_evaluate) {
    load_train();
    JitModel j;
    jit_model(&j, "models/lenet5.yaml", STYLE_KERNELS);
    const lenet_model *m = j.lm;
    lenet_hparams h = m->defaults;
    lenet_trainer t;
    ck_assert_int_eq(lenet_trainer_init(&t, m, &h, 2), 0);
    int idx[128], correct = 0;
    for (int s = 0; s < 20; s++) {
        for (int i = 0; i < 128; i++)
            idx[i] = s * 128 + i;
        lenet_trainer_step(&t, &train_set, idx, 128, &correct);
    }
    lenet_dataset part = train_set;
    part.count = 1001; /* not a whole number of tiles */
    float *acts = calloc(m->act_floats, sizeof *acts);
    double one = lenet_evaluate(m, t.params, &part, acts);
    double two = lenet_trainer_evaluate(&t, &part);
    ck_assert_double_eq(one, two);
    ck_assert(one > 0.5 && one < 1.0);
    free(acts);
    lenet_trainer_free(&t);
    jit_model_free(&j);
}
END_TEST

/* The JIT and the emitted build compute the same bits, step by step over
 * the first 100 steps: in the loop style tcc and gcc (FMA contraction off)
 * run the same operations in the same order; in the kernels style both call
 * the same kernels (here avx2's), gcc's code and tcc's only pass pointers. */
START_TEST(test_jit_matches_gcc_build) {
    JitModel j;
    jit_model(&j, "models/lenet5.yaml", STYLE_LOOPS);
    ck_assert_uint_eq(j.lm->n_params, lenet5_loops_model.n_params);
    ck_assert_uint_eq(j.lm->act_floats, lenet5_loops_model.act_floats);
    ck_assert_int_eq(compare_steps(&lenet5_loops_model, j.lm, 100, 128, true), 100);
    jit_model_free(&j);
    if (!test_target(1)) /* avx2 */
        return;
    ck_assert_str_eq(lenet5_model.target, "avx2");
    jit_model_for(&j, "models/lenet5.yaml", STYLE_KERNELS, "avx2");
    ck_assert_int_eq(compare_steps(&lenet5_model, j.lm, 100, 128, true), 100);
    jit_model_free(&j);
}
END_TEST

static const char *const shipped[] = {"models/lenet5.yaml", "models/lenet5-classic.yaml"};
/* and the torch round trip also for the plus recipe's layers (dropout, 5x5) */
static const char *const torch_shipped[] = {"models/lenet5.yaml", "models/lenet5-classic.yaml",
                                            "models/lenet5-plus.yaml"};

/* Both code styles through the JIT, for every shipped model: 100 steps of
 * 16 images (the unrolled style is the slow one). */
START_TEST(test_unrolled_matches_loops) {
    JitModel a, b;
    jit_model(&a, shipped[_i], STYLE_LOOPS);
    jit_model(&b, shipped[_i], STYLE_UNROLL);
    ck_assert_int_eq(compare_steps(a.lm, b.lm, 100, 16, true), 100);
    jit_model_free(&a);
    jit_model_free(&b);
}
END_TEST

START_TEST(test_same_seed_same_weights) {
    JitModel j;
    jit_model(&j, "models/lenet5.yaml", STYLE_LOOPS);
    ck_assert_int_eq(compare_steps(j.lm, j.lm, 20, 128, true), 20);
    /* and a different seed starts elsewhere */
    lenet_hparams h = j.lm->defaults;
    lenet_trainer a, b;
    ck_assert_int_eq(lenet_trainer_init(&a, j.lm, &h, 1), 0);
    h.seed++;
    ck_assert_int_eq(lenet_trainer_init(&b, j.lm, &h, 1), 0);
    ck_assert(memcmp(a.params, b.params, j.lm->n_params * sizeof(float)) != 0);
    lenet_trainer_free(&a);
    lenet_trainer_free(&b);
    jit_model_free(&j);
}
END_TEST

/* The five commands of the README, and the accuracy floor of one epoch. */
START_TEST(test_emitted_trainer_one_epoch) {
    static char out[1 << 16];
    char cmd[1024], dir[256];
    snprintf(dir, sizeof dir, "%s/e2e_lenet5", test_tmpdir());
    /* `make test SANITIZE=1` passes its flags on, so the trainer links */
    const char *cflags = getenv("LENETC_GEN_CFLAGS");
    snprintf(cmd, sizeof cmd, "./lenetc models/lenet5.yaml -o %s && make -s -C %s%s%s%s", dir, dir,
             cflags ? " CFLAGS='" : "", cflags ? cflags : "", cflags ? "'" : "");
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    snprintf(cmd, sizeof cmd, "%s/lenet5-train --epochs 1", dir);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    const char *line = strstr(out, "epoch 1/1 ");
    ck_assert_msg(line != NULL, "no epoch line in:\n%s", out);
    double loss, train_acc, test_acc, secs;
    ck_assert_int_eq(sscanf(line, "epoch 1/1 loss=%lf train_acc=%lf test_acc=%lf time=%lfs", &loss,
                            &train_acc, &test_acc, &secs),
                     4);
    ck_assert_msg(test_acc >= 0.965, "test accuracy %.4f after 1 epoch", test_acc);
    ck_assert(loss > 0 && loss < 0.6);
}
END_TEST

/* models/speedrun.yaml's promise: one epoch to a mean of 99 % over seeds
 * 1-5, each at least 98.8 % (the JIT, this machine's kernels; 99.05-99.10 %
 * mean with avx512, avx2 and sse2). Its time is for make bench, not a test.
 * Under SANITIZE=1 it is left out: five epochs of instrumented kernels add
 * nothing the other trainers' runs do not check. */
START_TEST(test_speedrun_reaches_99) {
    const char *san = getenv("LENETC_SANITIZE");
    if (san && !strcmp(san, "1")) {
        fprintf(stderr, "e2e: the speedrun's accuracy: skipped under SANITIZE=1 (make test runs it)\n");
        return;
    }
    static char out[1 << 14];
    double sum = 0, lowest = 1;
    char seen[256] = "";
    for (int seed = 1; seed <= 5; seed++) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "./lenetc train models/speedrun.yaml --seed %d", seed);
        ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
        const char *line = strstr(out, "epoch 1/1 ");
        double loss, train_acc, test_acc;
        ck_assert_msg(line && sscanf(line, "epoch 1/1 loss=%lf train_acc=%lf test_acc=%lf", &loss,
                                     &train_acc, &test_acc) == 3,
                      "no epoch line in:\n%s", out);
        sum += test_acc;
        lowest = fmin(lowest, test_acc);
        snprintf(seen + strlen(seen), sizeof seen - strlen(seen), " %.4f", test_acc);
    }
    fprintf(stderr, "e2e: speedrun, seeds 1-5:%s, mean %.4f\n", seen, sum / 5);
    ck_assert_msg(sum / 5 >= 0.99 && lowest >= 0.988, "speedrun: seeds 1-5 scored%s (mean %.4f)",
                  seen, sum / 5);
}
END_TEST

/* The largest difference between two weight files of spec's model, both
 * trained: neither is the initial weights. */
static double weights_differ(const char *spec, const char *wa, const char *wb) {
    JitModel j;
    jit_model(&j, spec, STYLE_KERNELS);
    const size_t n = j.lm->n_params;
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *init = calloc(n, sizeof *init);
    lenet_error err;
    ck_assert_msg(lenet_load_safetensors(j.lm, a, wa, &err) == 0, "%s", err.msg);
    ck_assert_msg(lenet_load_safetensors(j.lm, b, wb, &err) == 0, "%s", err.msg);
    lenet_init_params(j.lm, init, 1);
    ck_assert(memcmp(init, a, n * sizeof *a) != 0 && memcmp(init, b, n * sizeof *b) != 0);
    double worst = 0;
    for (size_t i = 0; i < n; i++)
        worst = fmax(worst, fabs((double)a[i] - b[i]));
    free(init);
    free(a);
    free(b);
    jit_model_free(&j);
    return worst;
}

/* A spec with every layer kind, optimiser setting, schedule and augmentation
 * trains through the JIT and through the emitted trainer (gcc, which may
 * fuse multiply-adds in the activations' loops where tcc does not) to the
 * same weights within 1e-5 over 100 steps of 64 images. */
START_TEST(test_every_kind_both_paths) {
    static char out[1 << 16];
    const char *spec = "tests/models/every_kind.yaml";
    char cmd[1024], dir[256], wj[256], we[256];
    snprintf(dir, sizeof dir, "%s/every_kind", test_tmpdir());
    snprintf(wj, sizeof wj, "%s/every_kind_jit.safetensors", test_tmpdir());
    snprintf(we, sizeof we, "%s/every_kind_gcc.safetensors", test_tmpdir());
    const char *cflags = getenv("LENETC_GEN_CFLAGS");
    snprintf(cmd, sizeof cmd, "./lenetc %s -o %s && make -s -C %s%s%s%s", spec, dir, dir,
             cflags ? " CFLAGS='" : "", cflags ? cflags : "", cflags ? "'" : "");
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    snprintf(cmd, sizeof cmd, "%s/every_kind-train --version", dir);
    ck_assert_msg(run(cmd, out, sizeof out) == 0 &&
                      strstr(out, "every_kind-train: lenetc " LENET_VERSION
                                  " runtime; every_kind, kernels code for "),
                  "%s", out);
    const char *steps = "--limit 6400 --threads 2 --quiet";
    snprintf(cmd, sizeof cmd, "%s/every_kind-train %s --save %s", dir, steps, we);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    snprintf(cmd, sizeof cmd, "./lenetc train %s %s --save %s", spec, steps, wj);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    const double worst = weights_differ(spec, wj, we);
    ck_assert_msg(worst <= 1e-5, "JIT and emitted trainer differ by %g after 100 steps", worst);
}
END_TEST

/* The bytes of a file, which must exist. */
static char *file_bytes(const char *path, size_t *len) {
    Diag d = {.file = path};
    char *s = read_file(path, 1u << 28, len, &d);
    ck_assert_msg(s != NULL, "%s", d.msg);
    return s;
}

static bool same_file(const char *a, const char *b) {
    size_t na, nb;
    char *x = file_bytes(a, &na), *y = file_bytes(b, &nb);
    const bool same = na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return same;
}

/* A graph (tests/graph/mnist_residual.yaml: shortcuts, an output read by
 * two layers, batchnorms, a depthwise conv, a concat) trains to the same
 * weights on 1, 2 and 3 threads, bit for bit, and when checkpointed on 3
 * threads after an epoch and resumed on 1; the emitted trainer (gcc) to
 * within 1e-5 of the JIT's; --val validates it. */
START_TEST(test_graph_paths_threads_resume) {
    static char out[1 << 16];
    const char *spec = "tests/graph/mnist_residual.yaml", *T = test_tmpdir();
    const char *steps = "--limit 3200 --epochs 2 --quiet";
    char cmd[2048], dir[256], w[4][256], ck[256];
    for (int t = 1; t <= 3; t++) {
        snprintf(w[t], sizeof w[t], "%s/graph_t%d.safetensors", T, t);
        snprintf(cmd, sizeof cmd, "./lenetc train %s %s --threads %d --save %s", spec, steps, t,
                 w[t]);
        ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    }
    ck_assert_msg(same_file(w[1], w[2]) && same_file(w[2], w[3]),
                  "1, 2 and 3 threads train the graph to other weights");
    snprintf(ck, sizeof ck, "%s/graph_ck.safetensors", T);
    snprintf(w[0], sizeof w[0], "%s/graph_resumed.safetensors", T);
    unlink(ck);
    snprintf(cmd, sizeof cmd,
             "./lenetc train %s --limit 3200 --epochs 1 --quiet --threads 3 --checkpoint %s && "
             "./lenetc train %s %s --threads 1 --checkpoint %s --resume %s --save %s",
             spec, ck, spec, steps, ck, ck, w[0]);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    ck_assert_msg(same_file(w[0], w[2]), "resumed on 1 thread: other weights than 2 threads");

    snprintf(dir, sizeof dir, "%s/graph_emitted", T);
    const char *cflags = getenv("LENETC_GEN_CFLAGS");
    snprintf(cmd, sizeof cmd,
             "./lenetc %s -o %s && make -s -C %s%s%s%s && "
             "%s/mnist_residual-train %s --threads 2 --save %s/emitted.safetensors",
             spec, dir, dir, cflags ? " CFLAGS='" : "", cflags ? cflags : "", cflags ? "'" : "",
             dir, steps, dir);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    char we[300];
    snprintf(we, sizeof we, "%s/emitted.safetensors", dir);
    const double worst = weights_differ(spec, w[2], we);
    ck_assert_msg(worst <= 1e-5, "JIT and emitted trainer differ by %g", worst);

    snprintf(cmd, sizeof cmd, "./lenetc train %s --limit 3200 --epochs 1 --val 640", spec);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    double val_acc = 0, test_acc = 0;
    const char *line = strstr(out, "epoch 1/1 ");
    ck_assert_msg(line && strstr(line, "val_acc=") && strstr(line, "test_acc="), "%s", out);
    sscanf(strstr(line, "val_acc="), "val_acc=%lf", &val_acc);
    sscanf(strstr(line, "test_acc="), "test_acc=%lf", &test_acc);
    ck_assert_msg(val_acc > 0.15 && test_acc > 0.15, "%s", out); /* chance: 0.1 */
}
END_TEST

/* The JIT path trains the seed network to the seed's recipe: >= 97.0% on
 * t10k after 2 epochs (tcc code is slower: this takes minutes). */
START_TEST(test_jit_two_epochs) {
    static char out[8192];
    ck_assert_msg(run("./lenetc train models/lenet5.yaml --epochs 2 --quiet", out, sizeof out) == 0,
                  "%s", out);
    const char *line = strstr(out, "epoch 2/2 ");
    ck_assert_msg(line != NULL, "no epoch line in:\n%s", out);
    const char *acc = strstr(line, "test_acc=");
    ck_assert(acc != NULL);
    double test_acc = atof(acc + 9);
    ck_assert_msg(test_acc >= 0.970, "JIT: test accuracy %.4f after 2 epochs", test_acc);
}
END_TEST

/* A bad spec gives the same diagnostic through the emitter and the JIT. */
START_TEST(test_bad_spec_same_error_both_paths) {
    static char a[4096], b[4096];
    char path[256], cmd[600];
    snprintf(path, sizeof path, "%s/bad.yaml", test_tmpdir());
    FILE *f = fopen(path, "w");
    ck_assert(f != NULL);
    fputs("input: {shape: [28, 28, 1]}\nlayers:\n  - conv: {filters: 6, kernel: 3}\n"
          "  - dense: {units: 10}\n",
          f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "./lenetc %s -o %s/bad_out", path, test_tmpdir());
    ck_assert_int_eq(run(cmd, a, sizeof a), 1);
    snprintf(cmd, sizeof cmd, "./lenetc train %s --epochs 1", path);
    ck_assert_int_eq(run(cmd, b, sizeof b), 1);
    ck_assert_str_eq(a, b);
    ck_assert_msg(strstr(a, "bad.yaml:4:5: error: dense1: dense needs a vector") != NULL, "%s", a);
}
END_TEST

/* Nothing from a spec reaches generated C but checked identifiers and the
 * compiler's own numbers: hostile names are refused through the emitter and
 * the JIT alike, with the same message, and no file is written. */
static const struct {
    const char *layer; /* the layer line of the spec */
    const char *error; /* what both paths must say */
} injections[] = {
    {"  - relu: {name: 'x; system(\"id\"); //'}\n",
     "inj.yaml:3:18: error: name 'x; system(\"id\"); //' may hold only letters, digits and '_'"},
    {"  - relu: {name: 'a */ int evil; /*'}\n",
     "inj.yaml:3:18: error: name 'a */ int evil; /*' may hold only letters, digits and '_'"},
    {"  - relu: {name: \"a\\nb\"}\n", /* shown with the newline as '?' */
     "inj.yaml:3:18: error: name 'a?b' may hold only letters, digits and '_'"},
    {"  - relu: {name: while}\n", "inj.yaml:3:18: error: name 'while' is a C keyword"},
    {"  - dense: {units: '10); abort(); (void'}\n",
     "inj.yaml:3:20: error: units must be an integer, got the quoted string '10); abort(); "
     "(void'"},
};

START_TEST(test_injection_refused_both_paths) {
    static char a[4096], b[4096];
    char path[256], out[300], cmd[1024];
    snprintf(path, sizeof path, "%s/inj.yaml", test_tmpdir());
    snprintf(out, sizeof out, "%s/inj_out", test_tmpdir());
    FILE *f = fopen(path, "w");
    ck_assert(f != NULL);
    fprintf(f, "input: {shape: [4, 4, 1]}\nlayers:\n%s  - flatten\n  - dense: {units: 10}\n",
            injections[_i].layer);
    fclose(f);
    snprintf(cmd, sizeof cmd, "rm -rf %s && ./lenetc %s -o %s", out, path, out);
    ck_assert_int_eq(run(cmd, a, sizeof a), 1);
    snprintf(cmd, sizeof cmd, "./lenetc train %s --epochs 1", path);
    ck_assert_int_eq(run(cmd, b, sizeof b), 1);
    ck_assert_str_eq(a, b);
    const char *msg = strstr(a, "inj.yaml:");
    ck_assert_msg(msg && strncmp(msg, injections[_i].error, strlen(injections[_i].error)) == 0,
                  "got: %s\nwant: %s", a, injections[_i].error);
    ck_assert_int_ne(access(out, F_OK), 0); /* nothing written */
}
END_TEST

/* The unrolled style is refused before it writes a gigabyte. */
START_TEST(test_unrolled_size_limit) {
    static char a[4096], b[4096];
    char path[256], cmd[700];
    snprintf(path, sizeof path, "%s/big.yaml", test_tmpdir());
    FILE *f = fopen(path, "w");
    ck_assert(f != NULL);
    fputs("input: {shape: [64, 64, 3]}\nlayers:\n  - conv: {filters: 64, kernel: 5}\n"
          "  - flatten\n  - dense: {units: 10}\n",
          f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "./lenetc %s --shape unrolled -o %s/big_out", path, test_tmpdir());
    ck_assert_int_eq(run(cmd, a, sizeof a), 1);
    snprintf(cmd, sizeof cmd, "./lenetc train %s --style unrolled", path);
    ck_assert_int_eq(run(cmd, b, sizeof b), 1);
    ck_assert_str_eq(a, b);
    ck_assert_msg(strstr(a, "big.yaml: error: unrolled, this model would be about 1344 MiB of C "
                            "(41472000 multiply-adds per sample; the limit is 128 MiB)"),
                  "%s", a);
}
END_TEST

/* The standalone export (--inference): one C99 file with the weights
 * compiled in, built with nothing but `cc -std=c99` (and libm for tanh and
 * sigmoid), classifies every t10k image as the JIT (what `lenetc eval`
 * runs) does: the seed's LeNet, every_kind, whose batchnorms are folded
 * into the conv before one and kept as a scale and shift after a sigmoid,
 * and a graph (tests/graph/mnist_residual.yaml). */
static const struct {
    const char *spec, *name, *upper, *libs, *limit;
} exported[] = {
    {"models/lenet5.yaml", "lenet5", "LENET5", "", "2000"},
    {"tests/models/every_kind.yaml", "every_kind", "EVERY_KIND", " -lm", "6400"},
    /* a graph: a residual add, a batchnorm folded, one kept after an add,
     * a depthwise conv, a concat of two branches, global pooling */
    {"tests/graph/mnist_residual.yaml", "mnist_residual", "MNIST_RESIDUAL", "", "30000"},
};

START_TEST(test_inference_export_matches_eval) {
    static char out[8192];
    const char *spec = exported[_i].spec, *name = exported[_i].name, *up = exported[_i].upper;
    char w[256], dir[256], cmd[1600];
    snprintf(w, sizeof w, "%s/inf_%s.safetensors", test_tmpdir(), name);
    snprintf(dir, sizeof dir, "%s/inf_%s", test_tmpdir(), name);
    snprintf(cmd, sizeof cmd, "./lenetc train %s --limit %s --epochs 1 --quiet --save %s", spec,
             exported[_i].limit, w);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    snprintf(cmd, sizeof cmd, "rm -rf %s && ./lenetc %s --weights %s --inference -o %s", dir, spec,
             w, dir);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);

    /* the driver reads raw images and prints one class per line */
    lenet_dataset test;
    lenet_error err;
    ck_assert_msg(lenet_load_mnist(NULL, "t10k", &test, &err) == 0, "%s", err.msg);
    char raw[300], drv[300], exe[300];
    snprintf(raw, sizeof raw, "%s/images.raw", dir);
    snprintf(drv, sizeof drv, "%s/driver.c", dir);
    snprintf(exe, sizeof exe, "%s/predict", dir);
    FILE *f = fopen(raw, "wb");
    ck_assert(f != NULL);
    fwrite(test.images, 784, (size_t)test.count, f);
    fclose(f);
    f = fopen(drv, "w");
    ck_assert(f != NULL);
    fprintf(f,
            "#include <stdio.h>\n#include \"%s.h\"\n"
            "int main(int argc, char **argv) {\n"
            "    FILE *f = fopen(argv[1], \"rb\");\n"
            "    uint8_t img[%s_PIXELS];\n"
            "    float probs[%s_CLASSES];\n"
            "    while (f && fread(img, 1, sizeof img, f) == sizeof img) {\n"
            "        int k = %s_predict(img, probs);\n"
            "        float sum = 0;\n"
            "        for (int c = 0; c < %s_CLASSES; c++)\n"
            "            sum += probs[c];\n"
            "        printf(\"%%d %%d\\n\", k, sum > 0.9999f && sum < 1.0001f && probs[k] >= 0.1f);\n"
            "    }\n"
            "    return 0;\n"
            "}\n",
            name, up, up, name, up);
    fclose(f);
    /* the export alone must build with no flags, warnings and libraries */
    snprintf(cmd, sizeof cmd,
             "cc -std=c99 -pedantic -Wall -Wextra -Werror -c -o %s/%s.o %s/%s.c && "
             "cc -std=c99 -o %s %s %s/%s.o%s", dir, name, dir, name, exe, drv, dir, name,
             exported[_i].libs);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);

    /* the loop style's predictions through the JIT (the export computes its
     * logits bit for bit), and what lenetc eval computes, the kernels' */
    JitModel j, jk;
    jit_model(&j, spec, STYLE_LOOPS);
    jit_model(&jk, spec, STYLE_KERNELS);
    lenet_trainer t, tk;
    ck_assert_int_eq(lenet_trainer_init(&t, j.lm, &j.lm->defaults, 2), 0);
    ck_assert_int_eq(lenet_trainer_init(&tk, jk.lm, &jk.lm->defaults, 2), 0);
    ck_assert_msg(lenet_load_safetensors(j.lm, t.params, w, &err) == 0, "%s", err.msg);
    ck_assert_msg(lenet_load_safetensors(jk.lm, tk.params, w, &err) == 0, "%s", err.msg);
    uint8_t *pred = malloc((size_t)test.count), *pred_k = malloc((size_t)test.count);
    double acc = lenet_trainer_predict(&t, &test, pred);
    ck_assert(acc > 0.5); /* trained a little: well above chance */
    lenet_trainer_predict(&tk, &test, pred_k);
    ck_assert_msg(memcmp(pred, pred_k, (size_t)test.count) == 0,
                  "lenetc eval (kernels for %s) classifies some image otherwise", jk.lm->target);

    snprintf(cmd, sizeof cmd, "%s %s", exe, raw);
    FILE *p = popen(cmd, "r");
    ck_assert(p != NULL);
    int n = 0, k, probs_ok, differ = 0;
    while (fscanf(p, "%d %d", &k, &probs_ok) == 2) {
        ck_assert_msg(probs_ok, "image %d: probabilities do not add up", n);
        differ += n < test.count && k != pred[n];
        n++;
    }
    ck_assert_int_eq(pclose(p), 0);
    ck_assert_int_eq(n, test.count);
    ck_assert_msg(differ == 0, "%d of %d images classified differently", differ, n);
    free(pred);
    free(pred_k);
    lenet_trainer_free(&t);
    lenet_trainer_free(&tk);
    jit_model_free(&j);
    jit_model_free(&jk);
    lenet_free_dataset(&test);
}
END_TEST

/* The val_acc of an epoch line (-1 if it has none). */
static double val_acc_of(const char *out, int epoch, int epochs, const char **line) {
    char head[64];
    snprintf(head, sizeof head, "epoch %d/%d ", epoch, epochs);
    *line = strstr(out, head);
    const char *v = *line ? strstr(*line, "val_acc=") : NULL;
    return v ? atof(v + 8) : -1;
}

/* --val: images held out of the training set by a seeded shuffle; each
 * epoch scores them (val_loss, val_acc) and only the last the test set;
 * --save-best keeps the best epoch's weights (the same as a run stopped
 * there: the rate is constant); the same seed holds out the same images. */
START_TEST(test_validation_split) {
    static char out[8192], again[8192];
    char best[256], at_best[256], cmd[1024];
    snprintf(best, sizeof best, "%s/best.safetensors", test_tmpdir());
    snprintf(at_best, sizeof at_best, "%s/at_best.safetensors", test_tmpdir());
    unlink(best);
    const char *args = "models/lenet5.yaml --limit 2000 --val 1000 --threads 2";
    char ck[256];
    snprintf(ck, sizeof ck, "%s/val_ck.safetensors", test_tmpdir());
    snprintf(cmd, sizeof cmd, "./lenetc train %s --epochs 3 --save-best %s --checkpoint %s", args,
             best, ck);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    /* the checkpoint keeps the split, the best epoch so far and the data */
    size_t len;
    Diag d = {.file = ck};
    char *file = read_file(ck, 1 << 26, &len, &d);
    ck_assert_msg(file && len > 8, "%s", d.msg);
    uint64_t header = 0;
    memcpy(&header, file, 8);
    json_t *root = json_loadb(file + 8, header, 0, NULL);
    json_t *meta = json_object_get(root, "__metadata__");
    ck_assert_str_eq(json_string_value(json_object_get(meta, "val")), "1000");
    ck_assert_str_eq(json_string_value(json_object_get(meta, "format")), "IDX");
    const char *best_meta = json_string_value(json_object_get(meta, "best"));
    ck_assert(best_meta != NULL);
    const int best_in_ck = atoi(best_meta);
    json_decref(root);
    free(file);
    ck_assert_msg(strstr(out, "validation: 1000 of the training images, held out by seed 1\n") &&
                      strstr(out, "train on 2000 images"),
                  "%s", out);
    double acc[4], top = -1;
    int best_epoch = 0;
    for (int e = 1; e <= 3; e++) {
        const char *line;
        acc[e] = val_acc_of(out, e, 3, &line);
        ck_assert_msg(line && acc[e] > 0.5 && strstr(line, "val_loss="), "%s", out);
        const char *end = strchr(line, '\n'), *test = strstr(line, "test_acc=");
        ck_assert_msg((test && test < end) == (e == 3), "epoch %d: %s", e, out);
        if (acc[e] > top) { /* ties: the lower val_loss; not met here */
            top = acc[e];
            best_epoch = e;
        }
    }
    char want[64];
    snprintf(want, sizeof want, "best so far: epoch %d (val_acc=%.4f", best_epoch, top);
    ck_assert_msg(strstr(out, want), "no '%s' in %s", want, out);
    ck_assert_int_eq(best_in_ck, best_epoch);
    /* the best file holds that epoch's weights */
    snprintf(cmd, sizeof cmd, "./lenetc train %s --epochs %d --save %s --quiet", args, best_epoch,
             at_best);
    ck_assert_msg(run(cmd, again, sizeof again) == 0, "%s", again);
    JitModel j;
    jit_model(&j, "models/lenet5.yaml", STYLE_KERNELS);
    float *p = malloc(j.lm->n_params * sizeof *p), *q = malloc(j.lm->n_params * sizeof *q);
    lenet_error err;
    ck_assert_msg(lenet_load_safetensors(j.lm, p, best, &err) == 0, "%s", err.msg);
    ck_assert_msg(lenet_load_safetensors(j.lm, q, at_best, &err) == 0, "%s", err.msg);
    ck_assert(memcmp(p, q, j.lm->n_params * sizeof *p) == 0);
    free(p);
    free(q);
    jit_model_free(&j);
    /* the same seed, the same split and scores; a fraction; another seed */
    snprintf(cmd, sizeof cmd, "./lenetc train %s --epochs 1", args);
    ck_assert_msg(run(cmd, again, sizeof again) == 0, "%s", again);
    const char *line;
    ck_assert_double_eq(val_acc_of(again, 1, 1, &line), acc[1]);
    snprintf(cmd, sizeof cmd, "./lenetc train %s --epochs 1 --seed 2", args);
    ck_assert_msg(run(cmd, again, sizeof again) == 0, "%s", again);
    ck_assert_msg(strstr(again, "held out by seed 2"), "%s", again);
    ck_assert(run("./lenetc train models/lenet5.yaml --limit 1000 --val 0.05 --epochs 1", again,
                  sizeof again) == 0);
    ck_assert_msg(strstr(again, "validation: 3000 of the training images"), "%s", again);
    /* what it refuses */
    static const char *const bad[][2] = {
        {"--val 1.5", "--val takes a count of images or a fraction below 1, not 1.5"},
        {"--val 60000", "--val 60000: 60000 of the training set's 60000 images would leave none "
                        "to train on"},
        {"--save-best x.safetensors", "--save-best needs a validation set (--val)"},
        {"--val 59000 --limit 2000", "--limit 2000: after --val 59000 the training set has 1000 "
                                     "images"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(cmd, sizeof cmd, "./lenetc train models/lenet5.yaml --epochs 1 %s", bad[i][0]);
        ck_assert_msg(run(cmd, again, sizeof again) != 0 && strstr(again, bad[i][1]),
                      "%s: %s", bad[i][0], again);
    }
}
END_TEST

/* How many times needle occurs in haystack. */
static int occurrences(const char *haystack, const char *needle) {
    int n = 0;
    for (const char *p = strstr(haystack, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* A checkpoint serves as weights (eval, --init, the export): its weights
 * are taken, its optimiser state left, and a note says so once; what the
 * plain loader says of one names a few tensors and how many more. */
START_TEST(test_checkpoint_as_weights) {
    static char out[8192], plain[8192];
    char ck[256], w[256], dir[256], cmd[1024];
    snprintf(ck, sizeof ck, "%s/asw_ck.safetensors", test_tmpdir());
    snprintf(w, sizeof w, "%s/asw_w.safetensors", test_tmpdir());
    snprintf(dir, sizeof dir, "%s/asw_export", test_tmpdir());
    unlink(ck);
    snprintf(cmd, sizeof cmd,
             "./lenetc train models/lenet5.yaml --limit 1280 --epochs 1 --quiet --checkpoint %s "
             "--save %s", ck, w);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    char note[512];
    snprintf(note, sizeof note,
             "note: %s is a checkpoint (step 10): using its weights, not its optimiser state\n",
             ck);
    snprintf(cmd, sizeof cmd, "./lenetc eval models/lenet5.yaml --weights %s", ck);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    ck_assert_msg(occurrences(out, note) == 1, "%s", out);
    snprintf(cmd, sizeof cmd, "./lenetc eval models/lenet5.yaml --weights %s", w);
    ck_assert_msg(run(cmd, plain, sizeof plain) == 0, "%s", plain);
    /* the same report, the note aside */
    const char *a = strstr(out, "test accuracy"), *b = strstr(plain, "test accuracy");
    ck_assert(a && b && strncmp(a, b, 40) == 0);
    snprintf(cmd, sizeof cmd,
             "./lenetc train models/lenet5.yaml --limit 256 --epochs 1 --quiet --init %s", ck);
    ck_assert_msg(run(cmd, out, sizeof out) == 0 && occurrences(out, note) == 1, "%s", out);
    snprintf(cmd, sizeof cmd, "rm -rf %s && ./lenetc models/lenet5.yaml --weights %s --inference -o %s",
             dir, ck, dir);
    ck_assert_msg(run(cmd, out, sizeof out) == 0 && occurrences(out, note) == 1, "%s", out);
    /* the plain loader refuses one, naming a few tensors and the count */
    JitModel j;
    jit_model(&j, "models/lenet5.yaml", STYLE_KERNELS);
    float *p = calloc(j.lm->n_params, sizeof *p);
    lenet_error err;
    ck_assert_int_eq(lenet_load_safetensors(j.lm, p, ck, &err), -1);
    ck_assert_msg(strstr(err.msg, "unexpected tensors not in the model: adam.m.conv1.weight, "),
                  "%s", err.msg);
    /* whole names, then how many more: no name cut off */
    const char *and = strrchr(err.msg, ',');
    int more = 0, used = 0;
    and = and ? strstr(and, " and ") : NULL;
    ck_assert_msg(and && sscanf(and, " and %d more%n", &more, &used) == 1 && more > 0 &&
                      and[used] == '\0',
                  "%s", err.msg);
    ck_assert_msg(lenet_load_weights(j.lm, p, NULL, ck, &err) == 0, "%s", err.msg);
    free(p);
    jit_model_free(&j);
}
END_TEST

/* On a terminal (a pty from script(1)) training draws a live bar; in a pipe
 * only the epoch lines appear. --log writes a CSV row per step and epoch. */
START_TEST(test_progress_bar_and_log) {
    static char tty[16384], pipe_out[4096];
    char log[256], cmd[1024];
    snprintf(log, sizeof log, "%s/train_log.csv", test_tmpdir());
    const char *train = "./lenetc train models/lenet5.yaml --limit 2560 --epochs 2 --threads 2";
    snprintf(cmd, sizeof cmd, "script -qfec '%s --log %s' /dev/null", train, log);
    ck_assert_msg(run(cmd, tty, sizeof tty) == 0, "%s", tty);
    ck_assert_msg(strstr(tty, "\rEpoch 1/2 [") && strstr(tty, "\rEpoch 2/2 ["), "%s", tty);
    ck_assert_msg(strstr(tty, "] 2560/2560 loss ") && strstr(tty, " img/s - ETA "), "%s", tty);
    ck_assert_msg(strstr(tty, "epoch 2/2 loss="), "%s", tty);
    snprintf(cmd, sizeof cmd, "%s | cat", train);
    ck_assert_int_eq(run(cmd, pipe_out, sizeof pipe_out), 0);
    ck_assert_msg(!strchr(pipe_out, '\r') && !strstr(pipe_out, "Epoch 1/2 ["), "%s", pipe_out);
    ck_assert_msg(strstr(pipe_out, "epoch 1/2 loss="), "%s", pipe_out);

    /* the log: a header, 20 step rows per epoch, an epoch row each with the
     * test accuracy the epoch line printed */
    size_t len;
    Diag d = {.file = log};
    char *csv = read_file(log, 1 << 20, &len, &d);
    ck_assert_msg(csv != NULL, "%s", d.msg);
    const char *header =
        "kind,epoch,step,images,loss,train_acc,val_loss,val_acc,test_loss,test_acc,seconds\n";
    ck_assert(strncmp(csv, header, strlen(header)) == 0);
    int steps = 0, epochs = 0;
    double test_acc = -1, test_loss = -1;
    for (char *l = strchr(csv, '\n') + 1; *l; l = strchr(l, '\n') + 1) {
        steps += strncmp(l, "step,", 5) == 0;
        if (strncmp(l, "epoch,", 6) == 0) {
            epochs++;
            int e, images;
            long step;
            double loss, tr;
            /* no validation set: its two fields empty */
            ck_assert(sscanf(l, "epoch,%d,%ld,%d,%lf,%lf,,,%lf,%lf", &e, &step, &images, &loss,
                             &tr, &test_loss, &test_acc) == 7);
            ck_assert(test_loss > 0 && test_loss < 3);
            ck_assert_int_eq(e, epochs);
            ck_assert_int_eq(step, 20L * epochs);
            ck_assert_int_eq(images, 2560);
        }
    }
    ck_assert_int_eq(steps, 40);
    ck_assert_int_eq(epochs, 2);
    char want[64];
    snprintf(want, sizeof want, "test_acc=%.4f", test_acc);
    ck_assert_msg(strstr(pipe_out, want), "%s not in %s", want, pipe_out);
    free(csv);
}
END_TEST

/* A PNG of w x h gray pixels, or (rgb) each gray value in R, G and B. */
static void write_png(const char *path, const uint8_t *px, int w, int h, int rgb) {
    uint8_t *wide = malloc((size_t)w * h * 3);
    for (int i = 0; i < w * h; i++)
        for (int c = 0; c < 3; c++)
            wide[3 * i + c] = px[i];
    test_write_png(path, rgb ? wide : px, w, h, rgb ? 3 : 1);
    free(wide);
}

/* lenetc predict on digits cut from t10k: as PNG and PGM at 28x28 it
 * classifies them exactly as the JIT does for those test images; inverted
 * (black on white) it says so and still does; three times larger, in
 * colour and black on white, it finds the digit and still reads it. */
START_TEST(test_predict_png_pgm) {
    char w[256], dir[256], cmd[8192], path[300];
    snprintf(w, sizeof w, "%s/pred_w.safetensors", test_tmpdir());
    snprintf(dir, sizeof dir, "%s/pred", test_tmpdir());
    mkdir(dir, 0777);
    char *argv[] = {"t", "--limit", "20000", "--epochs", "1", "--quiet", "--save", w, NULL};
    lenet_train_options o;
    ck_assert_int_eq(lenet_parse_train_args(&lenet5_model, 8, argv, &o, "t"), 0);
    ck_assert_int_eq(lenet_train(&lenet5_model, &o), 0);

    lenet_dataset test;
    lenet_error err;
    ck_assert_msg(lenet_load_mnist(NULL, "t10k", &test, &err) == 0, "%s", err.msg);
    enum { N = 10 };
    int len = snprintf(cmd, sizeof cmd, "./lenetc predict models/lenet5.yaml --weights %s", w);
    for (int i = 0; i < N; i++) {
        const uint8_t *img = test.images + 784 * i;
        uint8_t inv[784], big[84 * 84];
        for (int p = 0; p < 784; p++)
            inv[p] = (uint8_t)(255 - img[p]);
        for (int y = 0; y < 84; y++)
            for (int x = 0; x < 84; x++)
                big[y * 84 + x] = inv[(y / 3) * 28 + x / 3];
        snprintf(path, sizeof path, "%s/%d.png", dir, i);
        write_png(path, img, 28, 28, 0);
        len += snprintf(cmd + len, sizeof cmd - len, " %s", path);
        snprintf(path, sizeof path, "%s/%d.pgm", dir, i);
        FILE *f = fopen(path, "wb");
        fprintf(f, "P5\n28 28\n255\n");
        fwrite(img, 1, 784, f);
        fclose(f);
        len += snprintf(cmd + len, sizeof cmd - len, " %s", path);
        snprintf(path, sizeof path, "%s/%d-inv.pgm", dir, i);
        f = fopen(path, "w");
        fprintf(f, "P2\n# black on white\n28 28\n255\n");
        for (int p = 0; p < 784; p++)
            fprintf(f, "%d%c", inv[p], p % 28 == 27 ? '\n' : ' ');
        fclose(f);
        len += snprintf(cmd + len, sizeof cmd - len, " %s", path);
        snprintf(path, sizeof path, "%s/%d-big.png", dir, i);
        write_png(path, big, 84, 84, 1);
        len += snprintf(cmd + len, sizeof cmd - len, " %s", path);
    }

    /* what the JIT predicts for those ten test images */
    JitModel j;
    jit_model(&j, "models/lenet5.yaml", STYLE_LOOPS);
    lenet_trainer t;
    ck_assert_int_eq(lenet_trainer_init(&t, j.lm, &j.lm->defaults, 1), 0);
    ck_assert_msg(lenet_load_safetensors(j.lm, t.params, w, &err) == 0, "%s", err.msg);
    lenet_dataset ten = test;
    ten.count = N;
    uint8_t pred[N];
    lenet_trainer_predict(&t, &ten, pred);

    FILE *p = popen(cmd, "r");
    ck_assert(p != NULL);
    char line[512];
    int big_right = 0;
    for (int i = 0; i < 4 * N; i++) {
        ck_assert(fgets(line, sizeof line, p) != NULL);
        int sample = i / 4, kind = i % 4, k;
        double prob;
        const char *colon = strstr(line, ": ");
        ck_assert_msg(colon && sscanf(colon, ": %d (%lf)", &k, &prob) == 2, "%s", line);
        ck_assert_msg(prob > 0 && prob <= 1 && strstr(line, "  top: "), "%s", line);
        ck_assert_msg(!strstr(line, "[inverted]") == (kind < 2), "%s", line);
        if (kind < 3)
            ck_assert_msg(k == pred[sample], "%s: the JIT says %d", line, pred[sample]);
        else
            big_right += k == test.labels[sample];
    }
    ck_assert_int_eq(pclose(p), 0);
    ck_assert_msg(big_right >= 8, "only %d of %d enlarged digits read right", big_right, N);

    /* a file that is no image is an error naming it */
    static char out[1024];
    snprintf(cmd, sizeof cmd, "./lenetc predict models/lenet5.yaml --weights %s models/lenet5.yaml",
             w);
    ck_assert_int_eq(run(cmd, out, sizeof out), 1);
    ck_assert_msg(strstr(out, "models/lenet5.yaml: not a PNG, JPEG or PGM image"), "%s", out);
    lenet_trainer_free(&t);
    jit_model_free(&j);
    lenet_free_dataset(&test);
}
END_TEST

/* make install PREFIX=P (a directory pkg-config has never heard of): P/bin/lenetc
 * emits a model whose Makefile builds against P's runtime with no
 * PKG_CONFIG_PATH, and the trainer it builds runs; the man pages and
 * fetch-mnist.sh are installed, and an installed lenetc that finds no MNIST
 * names the installed script; make uninstall takes everything away. */
START_TEST(test_install_and_build_outside_the_tree) {
    static char out[16384];
    char cwd[200], prefix[300], gen[300], cmd[4096];
    const char *san = getenv("LENETC_SANITIZE");
    /* the physical path: what the installed lenetc finds itself under */
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    snprintf(prefix, sizeof prefix, "%s/%s/prefix", cwd, test_tmpdir());
    snprintf(gen, sizeof gen, "%s/installed_gen", test_tmpdir());
    snprintf(cmd, sizeof cmd, "rm -rf %s %s && make -s install PREFIX=%s SANITIZE=%s", prefix,
             gen, prefix, san ? san : "");
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    static const char *const files[] = {"bin/lenetc", "lib/liblenet.a", "include/lenet.h",
                                        "include/lenet_model.h", "include/lenet_kernels.h",
                                        "lib/pkgconfig/lenet.pc", "share/man/man1/lenetc.1",
                                        "share/man/man5/lenetc-spec.5",
                                        "share/lenetc/models/lenet5.yaml"};
    char path[600];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", prefix, files[i]);
        ck_assert_msg(access(path, R_OK) == 0, "%s not installed", path);
    }
    snprintf(path, sizeof path, "%s/share/lenetc/fetch-mnist.sh", prefix);
    ck_assert_msg(access(path, X_OK) == 0, "%s not installed", path);
    /* the runtime was built as this test binary was (maybe with sanitizers):
     * the generated code must be built the same way to link with it */
    const char *cflags = getenv("LENETC_GEN_CFLAGS");
    snprintf(cmd, sizeof cmd,
             "unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR LENETC_RUNTIME && "
             "%s/bin/lenetc %s/share/lenetc/models/lenet5.yaml -o %s && "
             "grep -qx 'LENETC_PREFIX ?= %s' %s/Makefile && make -s -C %s%s%s%s && "
             "%s/lenet5-train --limit 1000 --epochs 1 --threads 2",
             prefix, prefix, gen, prefix, gen, gen, cflags ? " CFLAGS='" : "",
             cflags ? cflags : "", cflags ? "'" : "", gen);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    ck_assert_msg(strstr(out, "epoch 1/1 loss="), "%s", out);
    snprintf(cmd, sizeof cmd, "%s/bin/lenetc --help", prefix);
    ck_assert_int_eq(run(cmd, out, sizeof out), 0);
    ck_assert_msg(strstr(out, "lenetc predict SPEC.yaml"), "%s", out);
    /* where no MNIST is (unless this machine has it for everyone) */
    if (access("/usr/share/datasets/mnist", F_OK) != 0) {
        snprintf(cmd, sizeof cmd, "cd %s && unset LENETC_DATA && %s/bin/lenetc train "
                 "%s/share/lenetc/models/lenet5.yaml", gen, prefix, prefix);
        ck_assert_int_eq(run(cmd, out, sizeof out), 1);
        char want[400];
        snprintf(want, sizeof want, "or run %s/share/lenetc/fetch-mnist.sh)", prefix);
        ck_assert_msg(strstr(out, want), "%s", out);
    }
    snprintf(cmd, sizeof cmd, "make -s uninstall PREFIX=%s SANITIZE=%s && "
             "test -z \"$(find %s -type f)\"", prefix, san ? san : "", prefix);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
}
END_TEST

/* Every command has --help; an unknown option is one line and the usage. */
START_TEST(test_help_and_unknown_options) {
    static char out[8192];
    /* every command and form: --help, exit 0, with what it takes */
    static const char *const helps[][2] = {
        {"./lenetc --help", "usage: lenetc summary"},
        {"./lenetc summary --help", "usage: lenetc summary"},
        {"./lenetc summary models/lenet5.yaml --help", "usage: lenetc summary"},
        {"./lenetc models/lenet5.yaml --help", "usage: lenetc summary"},
        {"./lenetc models/lenet5.yaml -o x --help", "usage: lenetc summary"},
        {"./lenetc targets --help", "usage: lenetc summary"},
        {"./lenetc train --help", "  --epochs N "},
        {"./lenetc train models/lenet5.yaml --help", "  --epochs N "},
        {"./lenetc eval --help", "  --weights W "},
        {"./lenetc eval models/lenet5.yaml --help", "  --weights W "},
        {"./lenetc predict --help", "usage: lenetc predict"},
        {"./lenetc predict models/lenet5.yaml --help", "usage: lenetc predict"},
        {"./lenetc --version", "lenetc " LENET_VERSION "\n"}};
    for (size_t i = 0; i < sizeof helps / sizeof helps[0]; i++) {
        ck_assert_msg(run(helps[i][0], out, sizeof out) == 0, "%s: %s", helps[i][0], out);
        ck_assert_msg(strstr(out, helps[i][1]), "%s: %s", helps[i][0], out);
    }
    /* a mistake: one line, and where the help is; not the whole usage */
    static const char *const bad[][2] = {
        {"./lenetc models/lenet5.yaml -o x --bogus", "try 'lenetc --help'\n"},
        {"./lenetc summary models/lenet5.yaml --bogus", "try 'lenetc summary --help'\n"},
        {"./lenetc train models/lenet5.yaml --bogus", "try 'lenetc train --help'\n"},
        {"./lenetc eval models/lenet5.yaml --bogus", "try 'lenetc eval --help'\n"},
        {"./lenetc train models/lenet5.yaml --val 0.5 --val 1.5", "try 'lenetc train --help'\n"},
        {"./lenetc targets now", "try 'lenetc --help'\n"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(run(bad[i][0], out, sizeof out) == 2, "%s: %s", bad[i][0], out);
        ck_assert_msg(strstr(out, bad[i][1]) && !strstr(out, "usage:"), "%s: %s", bad[i][0],
                      out);
    }
    /* predict: the one line, then where the help is, not the whole usage */
    ck_assert_int_eq(run("./lenetc predict models/lenet5.yaml --bogus", out, sizeof out), 2);
    ck_assert_str_eq(out, "lenetc predict SPEC.yaml: unknown option '--bogus'\n"
                          "try 'lenetc predict --help'\n");
    /* a value missing or out of range: one line, in one wording everywhere */
    static const char *const values[][2] = {
        {"./lenetc train models/lenet5.yaml --threads 0",
         "lenetc train SPEC.yaml: --threads takes a number from 1 to 64, not '0'\n"},
        {"./lenetc train models/lenet5.yaml --optimizer rmsprop",
         "lenetc train SPEC.yaml: --optimizer takes adam, sgd or adamw, not 'rmsprop'\n"},
        {"./lenetc train models/lenet5.yaml --momentum 0.9",
         "lenetc train SPEC.yaml: --momentum is sgd's; this run's optimizer is adam\n"},
        {"./lenetc train models/lenet5.yaml --weight-decay 0.01",
         "lenetc train SPEC.yaml: --weight-decay needs sgd or adamw (adam has none)\n"},
        {"./lenetc train models/lenet5.yaml --optimizer sgd --momentum 1",
         "lenetc train SPEC.yaml: --momentum takes a number from 0 to 0.999999, not '1'\n"},
        {"./lenetc train models/lenet5.yaml --lr 0",
         "lenetc train SPEC.yaml: --lr takes a number over 0 and at most 1000, not '0'\n"},
        {"./lenetc eval models/lenet5.yaml --threads x",
         "lenetc eval SPEC.yaml: --threads takes a number from 1 to 64, not 'x'\n"},
        {"./lenetc eval models/lenet5.yaml --weights",
         "lenetc eval SPEC.yaml: --weights needs a file\n"},
        {"./lenetc predict models/lenet5.yaml --classes",
         "lenetc predict SPEC.yaml: --classes needs a value\n"},
        {"./lenetc models/lenet5.yaml -o x --tile 0",
         "lenetc: --tile takes a number from 1 to 64, not '0'\ntry 'lenetc --help'\n"}};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        ck_assert_msg(run(values[i][0], out, sizeof out) == 2, "%s: %s", values[i][0], out);
        ck_assert_msg(strstr(out, values[i][1]), "%s: %s", values[i][0], out);
    }
}
END_TEST

/* An emitted build names this tree's runtime by its absolute path: the
 * output directory can move and still builds. */
START_TEST(test_emitted_build_moves) {
    static char out[8192];
    char cmd[2048], flags[512] = "";
    const char *tmp = test_tmpdir(), *cflags = getenv("LENETC_GEN_CFLAGS");
    if (cflags) /* as the runtime was built (SANITIZE=1) */
        snprintf(flags, sizeof flags, " CFLAGS='%s'", cflags);
    snprintf(cmd, sizeof cmd,
             "rm -rf %s/mv_a %s/mv_b && ./lenetc tests/models/dense_only.yaml --style loops "
             "-o %s/mv_a && mv %s/mv_a %s/mv_b && make -s -C %s/mv_b%s && test -x "
             "%s/mv_b/dense_only-train && grep '^LENETC_RUNTIME ?= /' %s/mv_b/Makefile",
             tmp, tmp, tmp, tmp, tmp, tmp, flags, tmp, tmp);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    ck_assert_msg(strstr(out, "/runtime\n"), "%s", out);
}
END_TEST

/* Runs the option reader with its messages caught: into msg. */
static int read_args_caught(const lenet_command *cmd, int argc, char **argv, char *msg,
                            size_t cap) {
    char path[512];
    snprintf(path, sizeof path, "%s/reader_stderr", test_tmpdir());
    fflush(stderr);
    int saved = dup(2);
    FILE *f = fopen(path, "w+");
    ck_assert(saved >= 0 && f != NULL);
    dup2(fileno(f), 2);
    int r = lenet_read_args(cmd, argc, argv, 1);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(f);
    size_t n = fread(msg, 1, cap - 1, f);
    msg[n] = '\0';
    fclose(f);
    return r;
}

static int collect(void *ctx, char **argv, int i) {
    char *seen = ctx;
    strcat(seen, argv[i]);
    strcat(seen, " ");
    return 0;
}

/* The one option reader (options.c) behind every command line: values
 * stored as the table says, the last of a repeated option counting,
 * operands handed on, and one wording for each kind of mistake. */
START_TEST(test_option_reader) {
    int flag = 0, n = 0, choice = 0;
    long big = 0;
    double x = 0;
    const char *str = NULL;
    static const lenet_choice numbers[] = {{"one", 1}, {"two", 2}, {"three", 3}, {NULL, 0}};
    const lenet_option options[] = {
        {.name = "--help", .kind = LENET_OPT_HELP},
        {.name = "--flag", .kind = LENET_OPT_FLAG, .dest = &flag},
        {.name = "--n", .kind = LENET_OPT_INT, .dest = &n, .lo = 1, .hi = 10},
        {.name = "--big", .kind = LENET_OPT_LONG, .dest = &big, .lo = -5, .hi = 1e10},
        {.name = "--x", .kind = LENET_OPT_REAL, .dest = &x, .lo = 0, .hi = 1},
        {.name = "--str", .kind = LENET_OPT_STRING, .dest = &str, .needs = "a file"},
        {.name = "--c", .kind = LENET_OPT_CHOICE, .dest = &choice, .choices = numbers},
        {0}};
    char seen[256] = "", msg[512];
    lenet_command cmd = {.prog = "t", .options = options, .operand = collect, .ctx = seen};
    char *ok[] = {"t", "--flag", "--n", "7", "a", "--n", "9", "--x", "0.5", "--str", "-v",
                  "--c", "two", "-", "--big", "9876543210"};
    ck_assert_int_eq(read_args_caught(&cmd, 16, ok, msg, sizeof msg), 0);
    ck_assert_str_eq(msg, "");
    ck_assert_int_eq(flag, 1);
    ck_assert_int_eq(n, 9);
    ck_assert(big == 9876543210L);
    ck_assert(x == 0.5);
    ck_assert_str_eq(str, "-v");
    ck_assert_int_eq(choice, 2);
    ck_assert_str_eq(seen, "a - ");

    static const struct {
        int argc;
        char *argv[3];
        int rc;
        const char *msg;
    } bad[] = {
        {2, {"t", "--n"}, LENET_ARGS_ERROR, "t: --n needs a value\ntry 't --help'\n"},
        {2, {"t", "--str"}, LENET_ARGS_ERROR, "t: --str needs a file\ntry 't --help'\n"},
        {3, {"t", "--n", "11"}, LENET_ARGS_ERROR,
         "t: --n takes a number from 1 to 10, not '11'\ntry 't --help'\n"},
        {3, {"t", "--n", "4x"}, LENET_ARGS_ERROR,
         "t: --n takes a number from 1 to 10, not '4x'\ntry 't --help'\n"},
        {3, {"t", "--big", ""}, LENET_ARGS_ERROR,
         "t: --big takes a number from -5 to 10000000000, not ''\ntry 't --help'\n"},
        {3, {"t", "--x", "0"}, LENET_ARGS_ERROR,
         "t: --x takes a number over 0 and at most 1, not '0'\ntry 't --help'\n"},
        {3, {"t", "--x", "inf"}, LENET_ARGS_ERROR,
         "t: --x takes a number over 0 and at most 1, not 'inf'\ntry 't --help'\n"},
        {3, {"t", "--c", "four"}, LENET_ARGS_ERROR,
         "t: --c takes one, two or three, not 'four'\ntry 't --help'\n"},
        {2, {"t", "--zzz"}, LENET_ARGS_UNKNOWN, "t: unknown option '--zzz'\ntry 't --help'\n"},
        {3, {"t", "-h", "--zzz"}, LENET_ARGS_HELP, ""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(read_args_caught(&cmd, bad[i].argc, (char **)bad[i].argv, msg,
                                          sizeof msg), bad[i].rc);
        ck_assert_str_eq(msg, bad[i].msg);
    }
    /* no operand function: a word is an unknown option; with pass_unknown,
     * unknown options go to the operand function too */
    char *word[] = {"t", "word"};
    cmd.operand = NULL;
    ck_assert_int_eq(read_args_caught(&cmd, 2, word, msg, sizeof msg), LENET_ARGS_UNKNOWN);
    ck_assert_str_eq(msg, "t: unknown option 'word'\ntry 't --help'\n");
    char *pass[] = {"t", "--zzz", "--n", "2", "--epochs", "3"};
    seen[0] = '\0';
    cmd.operand = collect;
    cmd.pass_unknown = 1;
    ck_assert_int_eq(read_args_caught(&cmd, 6, pass, msg, sizeof msg), 0);
    ck_assert_str_eq(seen, "--zzz --epochs 3 ");
    ck_assert_int_eq(n, 2);
}
END_TEST

/* --target: every command takes it, names it in its first line; a name it
 * does not know, or a target this CPU or this lenetc cannot run, is a clear
 * error; -o writes any target, with its flags, even one for another CPU. */
START_TEST(test_target_option) {
    static char out[8192];
    char cmd[1024], path[512];
    ck_assert_msg(run("./lenetc targets", out, sizeof out) == 0, "%s", out);
    ck_assert_msg(strstr(out, "runs here (native)") && strstr(out, "neon "), "%s", out);
    const char *native = lenet_target_native()->name;
    for (int i = 0; i < TEST_TARGETS; i++) {
        const lenet_target *t = test_target(i);
        if (!t)
            continue;
        snprintf(cmd, sizeof cmd,
                 "./lenetc train models/lenet5.yaml --target %s --limit 256 --epochs 1", t->name);
        ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s: %s", cmd, out);
        char want[128];
        snprintf(want, sizeof want, "kernels style, %s kernels", t->name);
        ck_assert_msg(strstr(out, want), "%s: %s", cmd, out);
        snprintf(want, sizeof want, "params; kernels code for %s;", t->name);
        ck_assert_msg(strstr(out, want), "%s: %s", cmd, out);
    }
    /* native is the default */
    ck_assert_msg(run("./lenetc train models/lenet5.yaml --limit 128 --epochs 1", out, sizeof out) ==
                      0, "%s", out);
    char want[128];
    snprintf(want, sizeof want, "kernels code for %s;", native);
    ck_assert_msg(strstr(out, want), "%s", out);
    ck_assert_int_eq(run("./lenetc train models/lenet5.yaml --target avx3", out, sizeof out), 2);
    ck_assert_msg(strstr(out, "--target takes one of native, avx512, avx2, sse2, neon, not 'avx3'"),
                  "%s", out);
    ck_assert_int_eq(run("./lenetc eval models/lenet5.yaml --target neon --weights x", out,
                         sizeof out), 1);
    ck_assert_msg(strstr(out, "jit: this CPU cannot run --target neon (it runs "), "%s", out);
    /* -o for another machine: its LENET_TARGET and its compiler flags */
    snprintf(cmd, sizeof cmd, "./lenetc models/lenet5.yaml --target neon -o %s/neon_out",
             test_tmpdir());
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    size_t len;
    Diag d = {.file = "neon_out"};
    snprintf(path, sizeof path, "%s/neon_out/lenet5.c", test_tmpdir());
    char *src = read_file(path, 1 << 20, &len, &d);
    ck_assert_msg(src && strstr(src, "\n#define LENET_TARGET neon\n") &&
                      strstr(src, ".target = \"neon\""), "%s", d.msg);
    free(src);
    snprintf(path, sizeof path, "%s/neon_out/Makefile", test_tmpdir());
    src = read_file(path, 1 << 20, &len, &d);
    ck_assert_msg(src && strstr(src, "CFLAGS ?= -O3 -march=armv8-a\n"), "%s", d.msg);
    free(src);
}
END_TEST

/* lenetc-torch to-torch, then from-torch, of the weights at w (params, as
 * lm lays them out): torch.save(state_dict) -> safetensors lenetc reads,
 * the same floats bit for bit. The files are named after stem. */
static void torch_round_trip(const char *spec, const lenet_model *lm, const float *params,
                             const char *w, const char *stem) {
    static char out[1 << 14];
    const char *py = "/usr/bin/python3";
    char pt[256], back[256], cmd[2048];
    snprintf(pt, sizeof pt, "%s/torch_%s.pt", test_tmpdir(), stem);
    snprintf(back, sizeof back, "%s/torch_back_%s.safetensors", test_tmpdir(), stem);
    snprintf(cmd, sizeof cmd,
             "%s tools/lenetc_torch.py to-torch %s %s %s && "
             "%s tools/lenetc_torch.py from-torch %s %s %s",
             py, spec, w, pt, py, spec, pt, back);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    lenet_error err;
    float *p2 = calloc(lm->n_params, sizeof *p2);
    ck_assert_msg(lenet_load_safetensors(lm, p2, back, &err) == 0, "%s", err.msg);
    for (size_t i = 0; i < lm->n_params; i++)
        ck_assert_msg(memcmp(&p2[i], &params[i], sizeof *p2) == 0,
                      "%s: float %zu came back from torch as %.9g, not %.9g", spec, i, p2[i],
                      params[i]);
    free(p2);
}

/* PyTorch interop through tools/lenetc_torch.py (when python3-torch and
 * numpy are installed; the tool builds the torch.nn model from `lenetc
 * summary --json`): lenetc's weights load into the equivalent
 * torch.nn model with load_state_dict(strict=True) and, fed the raw uint8
 * t10k images (its input stage pads and scales them as lenetc's table
 * does), it classifies them as lenetc does; a state_dict saved by torch comes back as
 * safetensors lenetc reads, the same floats. Both LeNets (classic pads its
 * input). */
START_TEST(test_torch_interop) {
    if (!test_torch("e2e: test_torch_interop"))
        return;
    static char out[1 << 17];
    const char *py = "/usr/bin/python3";
    char cmd[2048];
    const char *data = NULL;
    static const char *const dirs[] = {"data/mnist", "../shared/mnist", "/usr/share/datasets/mnist"};
    for (size_t i = 0; i < 3 && !data; i++) {
        char probe[256];
        snprintf(probe, sizeof probe, "%s/t10k-images-idx3-ubyte.gz", dirs[i]);
        if (access(probe, R_OK) == 0)
            data = dirs[i];
    }
    ck_assert_msg(data != NULL, "MNIST not found");
    const char *spec = torch_shipped[_i];
    char w[256], stem[16];
    snprintf(w, sizeof w, "%s/torch_w%d.safetensors", test_tmpdir(), _i);
    snprintf(stem, sizeof stem, "w%d", _i);
    snprintf(cmd, sizeof cmd, "./lenetc train %s --limit 3000 --epochs 1 --quiet --save %s", spec,
             w);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);

    /* lenetc's predictions (the JIT, as lenetc eval runs it) */
    JitModel j;
    jit_model(&j, spec, STYLE_LOOPS);
    lenet_trainer t;
    lenet_error err;
    ck_assert_int_eq(lenet_trainer_init(&t, j.lm, &j.lm->defaults, 2), 0);
    ck_assert_msg(lenet_load_safetensors(j.lm, t.params, w, &err) == 0, "%s", err.msg);
    lenet_dataset test;
    ck_assert_msg(lenet_load_mnist(NULL, "t10k", &test, &err) == 0, "%s", err.msg);
    uint8_t *pred = malloc((size_t)test.count);
    double acc = lenet_trainer_predict(&t, &test, pred);

    /* torch's, with the same weights, from the raw pixels */
    snprintf(cmd, sizeof cmd, "%s tools/lenetc_torch.py eval %s %s %s", py, spec, w, data);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    double torch_acc;
    ck_assert_msg(sscanf(out, "accuracy %lf", &torch_acc) == 1, "%s", out);
    const char *line = strchr(out, '\n');
    int n = 0, differ = 0, k, used;
    while (line && sscanf(line, "%d%n", &k, &used) == 1) {
        differ += n < test.count && k != pred[n];
        n++;
        line += used;
    }
    ck_assert_int_eq(n, test.count);
    /* other summation orders move logits by ~1e-6: a near tie may flip */
    ck_assert_msg(differ <= 3, "%d of %d images classified differently", differ, n);
    ck_assert_double_eq_tol(torch_acc, acc, 0.0004);

    /* and back: torch.save(state_dict) -> safetensors -> the same floats */
    torch_round_trip(spec, j.lm, t.params, w, stem);
    free(pred);
    lenet_free_dataset(&test);
    lenet_trainer_free(&t);
    jit_model_free(&j);
}
END_TEST

/* The same round trip for a graph (tests/models/residual.yaml: a shortcut,
 * an output read by three layers, a concat, a conv without bias and a
 * batchnorm): lenetc_torch.py's Graph takes lenetc's tensors by their names
 * and gives back the same floats. Every float random, the running
 * statistics too (a variance positive, the batch count an integer: torch
 * keeps it as one), so a tensor put in another's place shows. */
START_TEST(test_torch_round_trip_graph) {
    if (!test_torch("e2e: test_torch_round_trip_graph"))
        return;
    const char *spec = "tests/models/residual.yaml";
    Model m;
    Diag d = {.file = spec};
    ck_assert_msg(test_load_spec(spec, &m, &d) == 0, "%s", d.msg);
    lenet_model *lm = model_descriptor(&m, 1);
    float *params = malloc(lm->n_params * sizeof *params);
    lenet_rng rng;
    lenet_rng_seed(&rng, 11);
    for (size_t i = 0; i < lm->n_params; i++)
        params[i] = lenet_rng_uniform(&rng) - 0.5f;
    int counts = 0;
    for (const lenet_tensor *t = lm->tensors; t < lm->tensors + lm->n_tensors; t++) {
        const char *dot = strrchr(t->name, '.');
        for (size_t i = t->offset; !t->trainable && i < t->offset + t->size; i++)
            params[i] = dot && strcmp(dot, ".num_batches_tracked") == 0 ? (float)(37 + counts++)
                                                                        : fabsf(params[i]) + 0.5f;
    }
    ck_assert_int_eq(counts, 1); /* it has a batchnorm */
    char w[256];
    lenet_error err;
    snprintf(w, sizeof w, "%s/torch_graph.safetensors", test_tmpdir());
    ck_assert_msg(lenet_save_safetensors(lm, params, w, &err) == 0, "%s", err.msg);
    torch_round_trip(spec, lm, params, w, "graph");
    free(params);
    descriptor_free(lm);
    model_free(&m);
}
END_TEST

/* Fashion-MNIST (Debian's dataset-fashion-mnist) trains through --data, and
 * eval names its classes. */
START_TEST(test_fashion_mnist) {
    const char *dir = "/usr/share/datasets/fashion-mnist";
    ck_assert_msg(access(dir, R_OK) == 0, "%s missing: make test-deps installs dataset-fashion-mnist",
                  dir);
    char w[256], cmd[1024];
    static char out[8192];
    snprintf(w, sizeof w, "%s/fashion_w.safetensors", test_tmpdir());
    char *argv[] = {"t", "--data", (char *)dir, "--limit", "6000", "--epochs", "1", "--quiet",
                    "--save", w, NULL};
    lenet_train_options o;
    ck_assert_int_eq(lenet_parse_train_args(&lenet5_model, 10, argv, &o, "t"), 0);
    ck_assert_int_eq(lenet_train(&lenet5_model, &o), 0);
    snprintf(cmd, sizeof cmd, "./lenetc eval models/lenet5.yaml --weights %s --data %s", w, dir);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    double acc;
    const char *line = strstr(out, "test accuracy ");
    ck_assert_msg(line && sscanf(line, "test accuracy %lf", &acc) == 1 && acc > 0.6, "%s", out);
    ck_assert_msg(strstr(out, "    9  ") && strstr(out, "  Ankle boot\n") &&
                      strstr(out, "  T-shirt/top\n"),
                  "%s", out);
    ck_assert_msg(!strstr(out, "warning"), "%s", out);
    /* the weights say what they were trained on: scored on digits, eval
     * warns; and their metadata names the data, format, classes, input */
    snprintf(cmd, sizeof cmd, "./lenetc eval models/lenet5.yaml --weights %s", w);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    char want[512];
    snprintf(want, sizeof want, "warning: %s was trained on %s (IDX); this data is ", w, dir);
    ck_assert_msg(strstr(out, want), "no '%s' in %s", want, out);
    lenet_meta meta;
    lenet_error err;
    float *p = malloc(lenet5_model.n_params * sizeof *p);
    ck_assert_msg(lenet_load_safetensors_meta(&lenet5_model, p, &meta, w, &err) == 0, "%s",
                  err.msg);
    ck_assert_str_eq(lenet_meta_get(&meta, "data"), dir);
    ck_assert_str_eq(lenet_meta_get(&meta, "format"), "IDX");
    ck_assert_str_eq(lenet_meta_get(&meta, "classes"),
                     "[\"0\",\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\"]");
    ck_assert_str_eq(lenet_meta_get(&meta, "input"), "28x28x1 scale -1 1");
    free(p);
    /* weights for another input (scale [0, 1]) are named as such */
    snprintf(cmd, sizeof cmd,
             "sed 's/scale: \\[-1, 1\\]/scale: [0, 1]/' models/lenet5.yaml > %s/lenet5_01.yaml && "
             "grep -q 'scale: \\[0, 1\\]' %s/lenet5_01.yaml && "
             "./lenetc eval %s/lenet5_01.yaml --weights %s --data %s",
             test_tmpdir(), test_tmpdir(), test_tmpdir(), w, dir);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    snprintf(want, sizeof want,
             "warning: %s was trained with input 28x28x1 scale -1 1; this spec's is 28x28x1 "
             "scale 0 1", w);
    ck_assert_msg(strstr(out, want), "no '%s' in %s", want, out);
}
END_TEST

/* --save writes safetensors that load back for the same model. */
START_TEST(test_jit_train_save) {
    static char out[8192];
    char path[256], cmd[600];
    snprintf(path, sizeof path, "%s/w.safetensors", test_tmpdir());
    remove(path);
    snprintf(cmd, sizeof cmd,
             "./lenetc train models/lenet5.yaml --limit 512 --epochs 1 --save %s", path);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    ck_assert_msg(strncmp(out, "jit: lenet5 ", 12) == 0, "%s", out);
    ck_assert(strstr(out, "epoch 1/1 loss=") != NULL);
    JitModel j;
    jit_model(&j, "models/lenet5.yaml", STYLE_LOOPS);
    float *p = calloc(j.lm->n_params, sizeof *p);
    lenet_error err;
    ck_assert_msg(lenet_load_safetensors(j.lm, p, path, &err) == 0, "%s", err.msg);
    double norm = 0;
    for (size_t i = 0; i < j.lm->n_params; i++)
        norm += (double)p[i] * p[i];
    ck_assert(norm > 1.0);
    free(p);
    jit_model_free(&j);

    /* lenetc eval on those weights: the accuracy the training run reported,
     * per class, and a confusion matrix that adds up */
    double trained;
    const char *line = strstr(out, "test_acc=");
    ck_assert(line && sscanf(line, "test_acc=%lf", &trained) == 1);
    static char rep[8192];
    snprintf(cmd, sizeof cmd, "./lenetc eval models/lenet5.yaml --weights %s --threads 2", path);
    ck_assert_msg(run(cmd, rep, sizeof rep) == 0, "%s", rep);
    double acc;
    int right, total;
    line = strstr(rep, "test accuracy ");
    ck_assert_msg(line && sscanf(line, "test accuracy %lf (%d of %d)", &acc, &right, &total) == 3,
                  "%s", rep);
    ck_assert_int_eq(total, 10000);
    ck_assert_double_eq_tol(acc, trained, 1e-9);
    ck_assert_double_eq_tol(acc, right / 10000.0, 1e-9);
    line = strstr(rep, "predicted)\n");
    ck_assert(line != NULL);
    line = strchr(line, '\n') + 1;
    line = strchr(line, '\n') + 1; /* the header row */
    long sum = 0, diagonal = 0;
    for (int c = 0; c < 10; c++) {
        int label, used;
        ck_assert(sscanf(line, "%d%n", &label, &used) == 1 && label == c);
        line += used;
        for (int k = 0; k < 10; k++) {
            long v;
            ck_assert(sscanf(line, "%ld%n", &v, &used) == 1);
            line += used;
            sum += v;
            diagonal += k == c ? v : 0;
        }
    }
    ck_assert_int_eq(sum, 10000);
    ck_assert_int_eq(diagonal, right);
    /* and without weights it says so */
    snprintf(cmd, sizeof cmd, "./lenetc eval models/lenet5.yaml");
    ck_assert_int_eq(run(cmd, rep, sizeof rep), 2);
    ck_assert_msg(strstr(rep, "--weights is required"), "%s", rep);
}
END_TEST

/* A tcc error (a lenetc bug, should one happen) names the generated line. */
START_TEST(test_jit_error_names_generated_line) {
    Diag d = {.file = "spec.yaml"};
    Jit *j = jit_compile_text("void f(float *x) {\n    x[0] = y;\n}\n", NULL, &d);
    ck_assert(j == NULL);
    ck_assert_msg(strstr(d.msg, "jit: tcc failed on the generated code") != NULL, "%s", d.msg);
    ck_assert_msg(strstr(d.msg, "generated line 2:     x[0] = y;") != NULL, "%s", d.msg);
}
END_TEST

Suite *e2e_suite(void) {
    Suite *s = suite_create("e2e");
    /* what needs no MNIST: refusals and the command line (make check) */
    TCase *cli = tcase_create("cli");
    tcase_set_timeout(cli, 120);
    tcase_add_test(cli, test_jit_error_names_generated_line);
    tcase_add_test(cli, test_bad_spec_same_error_both_paths);
    tcase_add_loop_test(cli, test_injection_refused_both_paths, 0,
                        (int)(sizeof injections / sizeof injections[0]));
    tcase_add_test(cli, test_unrolled_size_limit);
    tcase_add_test(cli, test_help_and_unknown_options);
    tcase_add_test(cli, test_option_reader);
    tcase_add_test(cli, test_emitted_build_moves);
    suite_add_tcase(s, cli);
    /* training on MNIST: slow, left to make test */
    TCase *tc = tcase_create("mnist");
    tcase_set_tags(tc, "slow");
    tcase_set_timeout(tc, 1800);
    tcase_add_test(tc, test_jit_matches_gcc_build);
    tcase_add_loop_test(tc, test_targets_follow_loops, 0, TEST_TARGETS);
    tcase_add_test(tc, test_threads_deterministic);
    tcase_add_test(tc, test_parallel_evaluate);
    tcase_add_loop_test(tc, test_unrolled_matches_loops, 0, 2);
    tcase_add_test(tc, test_same_seed_same_weights);
    tcase_add_loop_test(tc, test_inference_export_matches_eval, 0, 3);
    tcase_add_test(tc, test_graph_paths_threads_resume);
    tcase_add_test(tc, test_validation_split);
    tcase_add_test(tc, test_checkpoint_as_weights);
    tcase_add_test(tc, test_progress_bar_and_log);
    tcase_add_test(tc, test_predict_png_pgm);
    tcase_add_test(tc, test_install_and_build_outside_the_tree);
    tcase_add_test(tc, test_target_option);
    tcase_add_loop_test(tc, test_torch_interop, 0, 3);
    tcase_add_test(tc, test_torch_round_trip_graph);
    tcase_add_test(tc, test_fashion_mnist);
    tcase_add_test(tc, test_jit_train_save);
    tcase_add_test(tc, test_emitted_trainer_one_epoch);
    tcase_add_test(tc, test_speedrun_reaches_99);
    tcase_add_test(tc, test_jit_two_epochs);
    tcase_add_test(tc, test_every_kind_both_paths);
    suite_add_tcase(s, tc);
    return s;
}
