/* test_e2e.c: the trainers end to end, on real MNIST.
 *
 * - the emitted path: lenetc -o DIR, make -C DIR, DIR/lenet5-train;
 * - the JIT path against the emitted code compiled by gcc (the golden
 *   generated/lenet5/lenet5.c is linked into this test binary), step by step;
 * - the two code shapes through the JIT; errors; determinism; weights.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "lenetc.h"
#include "tests.h"

/* generated/lenet5/lenet5.c built by gcc twice: as the JIT computes (FMA
 * contraction off) and as its Makefile builds it (FMA on) */
extern const lenet_model lenet5_model, lenet5_fma_model;

static lenet_dataset train_set;

static void load_train(void) {
    if (train_set.count)
        return;
    lenet_error err;
    ck_assert_msg(lenet_load_mnist(NULL, "train", &train_set, &err) == 0,
                  "%s (these tests need MNIST: see README)", err.msg);
}

/* Runs a shell command, returns its exit status and its stdout+stderr. */
static int run(const char *cmd, char *out, size_t n) {
    char full[2048];
    snprintf(full, sizeof full, "%s 2>&1", cmd);
    FILE *p = popen(full, "r");
    ck_assert(p != NULL);
    size_t len = fread(out, 1, n - 1, p);
    out[len] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

typedef struct {
    Model m;
    lenet_model *lm;
    Jit *jit;
} JitModel;

static void jit_model(JitModel *j, const char *spec, CodeShape shape) {
    Diag d = {.file = spec};
    ck_assert_msg(spec_load_file(spec, &j->m, &d) == 0, "%s", d.msg);
    EmitOptions o = {.shape = shape, .tile = 16, .real = "float", .spec_file = spec};
    j->lm = model_descriptor(&j->m, 16);
    j->jit = jit_compile(&j->m, &o, j->lm, &d, NULL, NULL);
    ck_assert_msg(j->jit != NULL, "%s", d.msg);
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

/* The emitted Makefile lets gcc fuse multiply-adds: other roundings, the
 * same trajectory (losses within 1e-5 over 100 steps). */
START_TEST(test_fma_build_same_trajectory) {
    int same = compare_steps(&lenet5_model, &lenet5_fma_model, 100, 128, false);
    ck_assert_int_lt(same, 100); /* it is a different build */
}
END_TEST

/* Threads: each worker sums its own run of tiles, the sums are added in
 * worker order. The same seed and thread count give the same bits; 1 and 2
 * threads round differently but follow the same trajectory. */
START_TEST(test_threads_deterministic) {
    ck_assert_int_eq(compare_steps_threads(&lenet5_model, 2, &lenet5_model, 2, 30, 128, true), 30);
    ck_assert_int_eq(compare_steps_threads(&lenet5_model, 3, &lenet5_model, 3, 10, 100, true), 10);
}
END_TEST

START_TEST(test_threads_same_trajectory) {
    int same = compare_steps_threads(&lenet5_model, 1, &lenet5_model, 2, 30, 128, false);
    ck_assert_int_lt(same, 30);
}
END_TEST

/* Evaluation split over workers counts exactly what one thread counts. */
START_TEST(test_parallel_evaluate) {
    load_train();
    lenet_hparams h = lenet5_model.defaults;
    lenet_trainer t;
    ck_assert_int_eq(lenet_trainer_init(&t, &lenet5_model, &h, 2), 0);
    int idx[128], correct = 0;
    for (int s = 0; s < 20; s++) {
        for (int i = 0; i < 128; i++)
            idx[i] = s * 128 + i;
        lenet_trainer_step(&t, &train_set, idx, 128, &correct);
    }
    lenet_dataset part = train_set;
    part.count = 1001; /* not a whole number of tiles */
    float *acts = calloc(lenet5_model.act_floats, sizeof *acts);
    double one = lenet_evaluate(&lenet5_model, t.params, &part, acts);
    double two = lenet_trainer_evaluate(&t, &part);
    ck_assert_double_eq(one, two);
    ck_assert(one > 0.5 && one < 1.0);
    free(acts);
    lenet_trainer_free(&t);
}
END_TEST

/* The JIT (tcc) and the emitted build (gcc -O3 -march=native
 * -ffp-contract=off) run the same operations in the same order: every one
 * of the first 100 steps gives the same loss, bit for bit. */
START_TEST(test_jit_matches_gcc_build) {
    JitModel j;
    jit_model(&j, "models/lenet5.yaml", SHAPE_LOOPS);
    ck_assert_uint_eq(j.lm->n_params, lenet5_model.n_params);
    ck_assert_uint_eq(j.lm->act_floats, lenet5_model.act_floats);
    int same = compare_steps(&lenet5_model, j.lm, 100, 128, true);
    ck_assert_int_eq(same, 100);
    jit_model_free(&j);
}
END_TEST

static const char *const shipped[] = {"models/lenet5.yaml", "models/lenet5-classic.yaml"};

/* Both code shapes through the JIT, for every shipped model: 100 steps of
 * 16 images (the unrolled shape is the slow one). */
START_TEST(test_unrolled_matches_loops) {
    JitModel a, b;
    jit_model(&a, shipped[_i], SHAPE_LOOPS);
    jit_model(&b, shipped[_i], SHAPE_UNROLL);
    ck_assert_int_eq(compare_steps(a.lm, b.lm, 100, 16, true), 100);
    jit_model_free(&a);
    jit_model_free(&b);
}
END_TEST

START_TEST(test_same_seed_same_weights) {
    JitModel j;
    jit_model(&j, "models/lenet5.yaml", SHAPE_LOOPS);
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

/* The unrolled shape is refused before it writes a gigabyte. */
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
    snprintf(cmd, sizeof cmd, "./lenetc train %s --shape unrolled", path);
    ck_assert_int_eq(run(cmd, b, sizeof b), 1);
    ck_assert_str_eq(a, b);
    ck_assert_msg(strstr(a, "big.yaml: error: unrolled, this model would be about 1344 MiB of C "
                            "(41472000 multiply-adds per sample; the limit is 128 MiB)"),
                  "%s", a);
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
    jit_model(&j, "models/lenet5.yaml", SHAPE_LOOPS);
    float *p = calloc(j.lm->n_params, sizeof *p);
    lenet_error err;
    ck_assert_msg(lenet_load_safetensors(j.lm, p, path, &err) == 0, "%s", err.msg);
    double norm = 0;
    for (size_t i = 0; i < j.lm->n_params; i++)
        norm += (double)p[i] * p[i];
    ck_assert(norm > 1.0);
    free(p);
    jit_model_free(&j);
}
END_TEST

/* A tcc error (a lenetc bug, should one happen) names the generated line. */
START_TEST(test_jit_error_names_generated_line) {
    Diag d = {.file = "spec.yaml"};
    Jit *j = jit_compile_text("void f(float *x) {\n    x[0] = y;\n}\n", &d);
    ck_assert(j == NULL);
    ck_assert_msg(strstr(d.msg, "jit: tcc failed on the generated code") != NULL, "%s", d.msg);
    ck_assert_msg(strstr(d.msg, "generated line 2:     x[0] = y;") != NULL, "%s", d.msg);
}
END_TEST

Suite *e2e_suite(void) {
    Suite *s = suite_create("e2e");
    TCase *tc = tcase_create("mnist");
    tcase_set_timeout(tc, 1800);
    tcase_add_test(tc, test_jit_error_names_generated_line);
    tcase_add_test(tc, test_jit_matches_gcc_build);
    tcase_add_test(tc, test_fma_build_same_trajectory);
    tcase_add_test(tc, test_threads_deterministic);
    tcase_add_test(tc, test_threads_same_trajectory);
    tcase_add_test(tc, test_parallel_evaluate);
    tcase_add_loop_test(tc, test_unrolled_matches_loops, 0, 2);
    tcase_add_test(tc, test_same_seed_same_weights);
    tcase_add_test(tc, test_bad_spec_same_error_both_paths);
    tcase_add_loop_test(tc, test_injection_refused_both_paths, 0,
                        (int)(sizeof injections / sizeof injections[0]));
    tcase_add_test(tc, test_unrolled_size_limit);
    tcase_add_test(tc, test_jit_train_save);
    tcase_add_test(tc, test_emitted_trainer_one_epoch);
    tcase_add_test(tc, test_jit_two_epochs);
    suite_add_tcase(s, tc);
    return s;
}
