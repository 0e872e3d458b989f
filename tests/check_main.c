/* check_main.c: runs every suite; LENETC_SUITE=name runs just one.
 * Check's CK_EXCLUDE_TAGS=slow (make check) leaves out the test cases tagged
 * slow: those that train on MNIST. */
#include <png.h>
#include <jpeglib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "lenetc.h"
#include "tests.h"

static int run_with(const char *cmd, const char *redirect, char *out, size_t n) {
    char full[4096];
    snprintf(full, sizeof full, "%s %s", cmd, redirect);
    FILE *p = popen(full, "r");
    ck_assert(p != NULL);
    size_t len = fread(out, 1, n - 1, p);
    out[len] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int run(const char *cmd, char *out, size_t n) { return run_with(cmd, "2>&1", out, n); }

int run_stdout(const char *cmd, char *out, size_t n) {
    return run_with(cmd, "2>/dev/null", out, n);
}

static int env_is(const char *name, const char *value) {
    const char *v = getenv(name);
    return v && !strcmp(v, value);
}

char *test_slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s missing", path);
    fseek(f, 0, SEEK_END);
    const long n = ftell(f);
    rewind(f);
    char *s = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

void test_write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

void test_init_weights(const char *spec, const char *path) {
    Model m;
    Diag d = {.file = spec};
    ck_assert_msg(test_load_spec(spec, &m, &d) == 0, "%s", d.msg);
    lenet_model *lm = model_descriptor(&m, 1);
    float *params = calloc((size_t)lm->n_params, sizeof *params);
    lenet_init_params(lm, params, 7);
    lenet_error err;
    ck_assert_msg(lenet_save_safetensors(lm, params, path, &err) == 0, "%s", err.msg);
    free(params);
    descriptor_free(lm);
    model_free(&m);
}

int test_torch(const char *checks) {
    if (env_is("LENETC_SANITIZE", "1")) {
        fprintf(stderr, "%s: skipped under SANITIZE=1 (make test runs them)\n", checks);
        return 0;
    }
    if (system("/usr/bin/python3 -c 'import torch, numpy' >/dev/null 2>&1") == 0)
        return 1;
    ck_assert_msg(!env_is("LENETC_REQUIRE_TORCH", "1"),
                  "%s: python3-torch or python3-numpy is not installed (make test-deps installs them)",
                  checks);
    fprintf(stderr, "%s: skipped: python3-torch or python3-numpy is not installed (make test-deps)\n",
            checks);
    return 0;
}

void test_write_png(const char *path, const unsigned char *px, int w, int h, int c) {
    static const int types[] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    ck_assert(png && info && setjmp(png_jmpbuf(png)) == 0);
    png_init_io(png, f);
    png_set_compression_level(png, 0); /* tests write hundreds: fast */
    png_set_filter(png, 0, PNG_FILTER_NONE);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, types[c], PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < h; y++)
        png_write_row(png, (png_bytep)(px + (size_t)y * w * c));
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    ck_assert_int_eq(fclose(f), 0);
}

void test_write_jpeg(const char *path, const unsigned char *px, int w, int h, int c) {
    struct jpeg_compress_struct cinfo;
    struct jpeg_error_mgr jerr;
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    cinfo.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&cinfo);
    jpeg_stdio_dest(&cinfo, f);
    cinfo.image_width = (JDIMENSION)w;
    cinfo.image_height = (JDIMENSION)h;
    cinfo.input_components = c;
    cinfo.in_color_space = c == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, 100, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(px + (size_t)cinfo.next_scanline * w * c);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    ck_assert_int_eq(fclose(f), 0);
}

int test_load_spec(const char *path, Model *m, Diag *d) {
    char name[256];
    size_t len = 0;
    YNode *tree = NULL;
    memset(m, 0, sizeof *m);
    char *text = read_file(path, MAX_SPEC_BYTES, &len, d);
    d->src = text;
    const int rc = !text || !(tree = ytree_parse(text, len, d)) ||
                           spec_build(tree, spec_default_name(path, name), m, d) ||
                           model_infer(m, d)
                       ? -1
                       : 0;
    d->src = NULL; /* the caret line is already in d->msg */
    ytree_free(tree);
    free(text);
    return rc;
}

int test_parse_spec(const char *text, size_t len, const char *default_name, Model *m, Diag *d) {
    return spec_parse(text, len, default_name, m, d) || model_infer(m, d) ? -1 : 0;
}

const char *test_tmpdir(void) {
    static char dir[256];
    if (!dir[0]) {
        const char *t = getenv("LENETC_TEST_TMP");
        snprintf(dir, sizeof dir, "%s", t ? t : "tests/tmp");
        mkdir(dir, 0777);
    }
    return dir;
}

void assert_file_is(const char *what, const char *path, const char *got, size_t len) {
    Diag d = {.file = path};
    size_t want_len;
    char *want = read_file(path, 1u << 30, &want_len, &d);
    ck_assert_msg(want != NULL, "%s: %s (`make golden` writes it)", what, d.msg);
    if (want_len != len || memcmp(want, got, len) != 0) {
        int line = 1;
        size_t i = 0, start = 0;
        for (; i < want_len && i < len && want[i] == got[i]; i++)
            if (want[i] == '\n') {
                line++;
                start = i + 1;
            }
        /* the first line that differs comes first: Check cuts long messages;
         * short texts (diagnostics, summaries) follow whole */
        const bool whole = want_len + len < 4096;
        ck_abort_msg("%s: differs from %s at line %d (`make golden` rewrites it from ./lenetc; "
                     "only on purpose)\n  expected: %.*s\n  got:      %.*s%s%.*s%s%.*s%s",
                     what, path, line, (int)strcspn(want + start, "\n"), want + start,
                     (int)strcspn(got + start, "\n"), got + start,
                     whole ? "\n--- expected:\n" : "", whole ? (int)want_len : 0, want,
                     whole ? "--- got:\n" : "", whole ? (int)len : 0, got, whole ? "--- end" : "");
    }
    free(want);
}

const lenet_target *test_target(int i) {
    const lenet_target *t = lenet_target_at(i);
    return t && lenet_target_runs(t) ? t : NULL;
}

/* Says once which targets' tests run here, and why the others do not. */
static void say_targets(void) {
    printf("targets tested:");
    for (int i = 0; i < TEST_TARGETS; i++)
        if (test_target(i))
            printf(" %s", lenet_target_at(i)->name);
    printf("; not here:");
    for (int i = 0; i < TEST_TARGETS; i++) {
        const lenet_target *t = lenet_target_at(i);
        if (!test_target(i))
            printf(" %s (%s)", t->name, t->symbols ? "this CPU lacks it" : "no kernels in this build");
    }
    printf("\n");
    fflush(stdout);
}

int main(void) {
    struct {
        const char *name;
        Suite *(*make)(void);
    } suites[] = {
        {"data", data_suite},       {"formats", formats_suite},
        {"safetensors", safetensors_suite},
        {"numerics", numerics_suite}, {"spec", spec_suite}, {"layer_api", layer_api_suite},
        {"golden", golden_suite},   {"gradcheck", gradcheck_suite},
        {"e2e", e2e_suite},         {"checkpoint", checkpoint_suite},
        {"predict", predict_suite},
        {"plot", plot_suite},       {"own_images", own_images_suite},
        {"int8", int8_suite},       {"onnx", onnx_suite},
        {"onnx_import", onnx_import_suite},
    };
    say_targets();
    const char *left_out = getenv("CK_EXCLUDE_TAGS");
    if (left_out && *left_out)
        printf("test cases tagged %s left out (CK_EXCLUDE_TAGS; make test runs them)\n", left_out);
    const char *only = getenv("LENETC_SUITE");
    SRunner *sr = NULL;
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++) {
        /* LENETC_SUITE=name runs one suite, =!name all but it */
        if (only && (only[0] == '!' ? !strcmp(only + 1, suites[i].name)
                                    : strcmp(only, suites[i].name) != 0))
            continue;
        if (!sr)
            sr = srunner_create(suites[i].make());
        else
            srunner_add_suite(sr, suites[i].make());
    }
    if (!sr) {
        fprintf(stderr, "run_tests: no suite named '%s'\n", only);
        return 2;
    }
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
