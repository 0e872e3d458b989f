/* test_golden.c: the generated code, byte for byte, against generated/.
 *
 *   generated/NAME/            every models/NAME.yaml, default (kernels) style
 *   generated/loops/NAME/      the same, --style loops
 *   generated/tests/NAME/      every tests/models/NAME.yaml, --unroll full
 *   generated/lenet5-unroll.sha256   lenet5 fully unrolled (megabytes)
 *   generated/export/mnist_tiny/     the standalone export (--inference) of
 *                              tests/models/mnist_tiny.yaml, weights trained
 *                              as the Makefile's EXPORT_WEIGHTS says
 *   generated/export-int8/mnist_tiny/  its int8 export (--inference --int8)
 *   generated/summary/NAME.json      (test_spec_files.c)
 *
 * All are emitted --target avx2 (the target only shows in the kernels
 * style's LENET_TARGET, the descriptor and the Makefile's flags).
 *
 * `make golden` rewrites them on purpose; review the diff like code.
 */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lenetc.h"
#include "tests.h"

static char *slurp(const char *path, size_t *len) {
    Diag d = {.file = path};
    char *s = read_file(path, 1u << 30, len, &d);
    ck_assert_msg(s != NULL, "%s (run `make golden` to create it)", d.msg);
    return s;
}

static void check_model(const char *spec, const char *dir, CodeStyle style, const char *runtime) {
    Model m;
    Diag d = {.file = spec};
    ck_assert_msg(test_load_spec(spec, &m, &d) == 0, "%s", d.msg);
    EmitOptions o = {.style = style, .target = "avx2", .tile = 16, .real = "float",
                     .spec_file = spec};
    StrBuf c = {0}, h = {0}, mk = {0};
    emit_source(&m, &o, &c);
    emit_header(&m, &o, &h);
    emit_makefile(&m, &o, runtime, NULL, &mk);
    char path[512];
    snprintf(path, sizeof path, "%s/%s/%s.c", dir, m.name, m.name);
    assert_file_is(spec, path, c.data, c.len);
    snprintf(path, sizeof path, "%s/%s/%s.h", dir, m.name, m.name);
    assert_file_is(spec, path, h.data, h.len);
    snprintf(path, sizeof path, "%s/%s/Makefile", dir, m.name);
    assert_file_is(spec, path, mk.data, mk.len);
    sb_free(&c);
    sb_free(&h);
    sb_free(&mk);
    model_free(&m);
}

static int for_each_spec(const char *pattern, const char *dir, CodeStyle style,
                         const char *runtime) {
    glob_t g;
    ck_assert_int_eq(glob(pattern, 0, NULL, &g), 0);
    for (size_t i = 0; i < g.gl_pathc; i++)
        check_model(g.gl_pathv[i], dir, style, runtime);
    int n = (int)g.gl_pathc;
    globfree(&g);
    return n;
}

START_TEST(test_models_kernels) {
    ck_assert_int_ge(for_each_spec("models/*.yaml", "generated", STYLE_KERNELS, "../../runtime"), 2);
}
END_TEST

START_TEST(test_models_loops) {
    ck_assert_int_ge(
        for_each_spec("models/*.yaml", "generated/loops", STYLE_LOOPS, "../../../runtime"), 2);
}
END_TEST

START_TEST(test_small_models_unrolled) {
    ck_assert_int_ge(
        for_each_spec("tests/models/*.yaml", "generated/tests", STYLE_UNROLL, "../../../runtime"),
        4);
}
END_TEST

START_TEST(test_lenet5_unrolled_checksum) {
    Model m;
    Diag d = {.file = "models/lenet5.yaml"};
    ck_assert_msg(test_load_spec("models/lenet5.yaml", &m, &d) == 0, "%s", d.msg);
    EmitOptions o = {.style = STYLE_UNROLL, .target = "avx2", .tile = 16, .real = "float",
                     .spec_file = "models/lenet5.yaml"};
    StrBuf c = {0};
    emit_source(&m, &o, &c);
    /* megabytes of straight-line code: one statement per output per layer */
    ck_assert_uint_gt(c.len, 10u << 20);
    char path[512], cmd[600], got[128] = "";
    snprintf(path, sizeof path, "%s/lenet5.c", test_tmpdir());
    ck_assert_int_eq(write_file_atomic(path, c.data, c.len, &d), 0);
    snprintf(cmd, sizeof cmd, "sha256sum < %s", path);
    FILE *p = popen(cmd, "r");
    ck_assert(p != NULL);
    ck_assert(fgets(got, sizeof got, p) != NULL);
    pclose(p);
    got[64] = '\0';
    size_t len;
    char *want = slurp("generated/lenet5-unroll.sha256", &len);
    ck_assert_msg(len >= 64 && strncmp(want, got, 64) == 0,
                  "lenet5 --unroll full: sha256 %s, generated/lenet5-unroll.sha256 says %.64s "
                  "(run `make golden` if the change is intended)",
                  got, want);
    free(want);
    sb_free(&c);
    model_free(&m);
}
END_TEST

/* Same spec, same bytes: nothing in the output depends on time or memory. */
START_TEST(test_deterministic) {
    StrBuf a = {0}, b = {0};
    for (int k = 0; k < 2; k++) {
        Model m;
        Diag d = {.file = "models/lenet5.yaml"};
        ck_assert(test_load_spec("models/lenet5.yaml", &m, &d) == 0);
        EmitOptions o = {.style = STYLE_KERNELS, .target = "avx2", .tile = 16, .real = "float",
                         .spec_file = "models/lenet5.yaml"};
        emit_source(&m, &o, k ? &b : &a);
        model_free(&m);
    }
    ck_assert_uint_eq(a.len, b.len);
    ck_assert(memcmp(a.data, b.data, a.len) == 0);
    sb_free(&a);
    sb_free(&b);
}
END_TEST

/* The exports, float and int8, through the command line as `make golden`
 * writes them: the weights come from a short run on MNIST in tcc's code on
 * one thread, the int8 calibration from the sse2 kernels: the same bits on
 * any x86-64 machine. */
START_TEST(test_export) {
    char cmd[2048], out[4096], path[512];
    snprintf(cmd, sizeof cmd,
             "./lenetc train tests/models/mnist_tiny.yaml --style loops --threads 1 --limit 2048 "
             "--epochs 1 --quiet --save %s/export-w.safetensors >/dev/null && "
             "./lenetc tests/models/mnist_tiny.yaml --weights %s/export-w.safetensors "
             "--inference -o %s/export 2>&1 && "
             "./lenetc tests/models/mnist_tiny.yaml --weights %s/export-w.safetensors "
             "--inference --int8 -o %s/export-int8 >/dev/null 2>&1",
             test_tmpdir(), test_tmpdir(), test_tmpdir(), test_tmpdir(), test_tmpdir());
    FILE *p = popen(cmd, "r");
    ck_assert(p != NULL);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    ck_assert_msg(pclose(p) == 0, "%s", out);
    static const char *const files[] = {"mnist_tiny.c", "mnist_tiny.h"};
    static const char *const dirs[] = {"export", "export-int8"};
    for (int i = 0; i < 4; i++) {
        size_t len;
        snprintf(path, sizeof path, "%s/%s/%s", test_tmpdir(), dirs[i / 2], files[i % 2]);
        char *got = slurp(path, &len), golden[512];
        snprintf(golden, sizeof golden, "generated/%s/mnist_tiny/%s", dirs[i / 2], files[i % 2]);
        assert_file_is(path, golden, got, len);
        free(got);
    }
}
END_TEST

Suite *golden_suite(void) {
    Suite *s = suite_create("golden");
    TCase *tc = tcase_create("generated");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_models_kernels);
    tcase_add_test(tc, test_models_loops);
    tcase_add_test(tc, test_small_models_unrolled);
    tcase_add_test(tc, test_lenet5_unrolled_checksum);
    tcase_add_test(tc, test_deterministic);
    suite_add_tcase(s, tc);
    TCase *mnist = tcase_create("export");
    tcase_set_tags(mnist, "slow"); /* trains on MNIST: left to make test */
    tcase_add_test(mnist, test_export);
    suite_add_tcase(s, mnist);
    return s;
}
