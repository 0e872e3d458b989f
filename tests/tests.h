/* tests.h: the Check suites of lenetc, one per concern, run by run_tests. */
#ifndef LENETC_TESTS_H
#define LENETC_TESTS_H

#include <check.h>
#include <stddef.h>

Suite *data_suite(void);        /* test_data.c: IDX / gzip loader */
Suite *formats_suite(void);     /* test_formats.c: folders, CIFAR, IDX channels, decoders */
Suite *safetensors_suite(void); /* test_safetensors.c: weights I/O */
Suite *numerics_suite(void);    /* test_numerics.c: loss, Adam, RNG, init */
Suite *spec_suite(void);        /* test_spec.c: YAML -> IR, diagnostics */
TCase *spec_files_tcase(void);  /* test_spec_files.c: tests/specs/ (in spec_suite) */
Suite *layer_api_suite(void);   /* test_layer_api.c: state, saved buffers, the pass */
Suite *golden_suite(void);      /* test_golden.c: generated code vs generated/ */
Suite *gradcheck_suite(void);   /* test_gradcheck.c: backward vs finite differences */
Suite *e2e_suite(void);         /* test_e2e.c: trainers end to end */
Suite *checkpoint_suite(void);  /* test_checkpoint.c: kill, resume, NaN */
Suite *predict_suite(void);     /* test_predict.c: predict, NAME_prepare, deployment */
Suite *plot_suite(void);        /* test_plot.c: --plot, gnuplot's scripts and PNGs */
Suite *own_images_suite(void);  /* test_own_images.c: a user's image folders, end to end */
Suite *int8_suite(void);        /* test_int8.c: the int8 export against a reference */
Suite *onnx_suite(void);        /* test_onnx.c: the ONNX export, read back and run by OpenCV */
Suite *onnx_import_suite(void); /* test_onnx_import.c: lenetc import, malformed ONNX files */

/* Fails unless the file at path holds exactly got[0..len), naming what is
 * checked, the first line that differs and `make golden`. */
void assert_file_is(const char *what, const char *path, const char *got, size_t len);

/* Scratch directory for files a test writes (created on demand). */
const char *test_tmpdir(void);

/* A whole file as a NUL-terminated string (malloc'd); fails the test if
 * it cannot be read. */
char *test_slurp(const char *path);
/* Writes n bytes to path; fails the test if it cannot. */
void test_write_file(const char *path, const void *data, size_t n);

#ifdef LENETC_H
/* The compiler's front end as main.c runs it, pass by pass: a spec file
 * read, its YAML, the IR, every shape (the message in d->msg); the same
 * from text. */
int test_load_spec(const char *path, Model *m, Diag *d);
int test_parse_spec(const char *text, size_t len, const char *default_name, Model *m, Diag *d);
/* Weights for a spec with no training: its initial values (seed 7), saved
 * as safetensors at path. */
void test_init_weights(const char *spec, const char *path);
#endif

/* Runs a shell command; its stdout and stderr (or its stdout alone, with
 * stderr dropped) into out (n bytes at most); returns its exit status (-1
 * if it did not exit). */
int run(const char *cmd, char *out, size_t n);
int run_stdout(const char *cmd, char *out, size_t n);

/* Whether the PyTorch checks run: python3-torch and python3-numpy are
 * installed (make deps installs them) and this is not SANITIZE=1 (they
 * compare numbers with PyTorch's, which the sanitizers do not change, and
 * would only rerun make test's). When they do not run it says so, naming
 * the checks; with LENETC_REQUIRE_TORCH=1 (CI) a missing torch fails. */
int test_torch(const char *checks);

/* Writes a PNG of w x h pixels of c channels (1 gray, 2 gray+alpha, 3 RGB,
 * 4 RGBA), px row by row. */
void test_write_png(const char *path, const unsigned char *px, int w, int h, int c);
/* The same as a JPEG (quality 100) of 1 (gray) or 3 (RGB) channels. */
void test_write_jpeg(const char *path, const unsigned char *px, int w, int h, int c);

/* The i-th known target (lenet_target_at) if this machine runs it, else
 * NULL (run_tests says at the start which targets it tests). Tests loop
 * over i in [0, TEST_TARGETS). */
#include "lenet.h"
#define TEST_TARGETS 4
const lenet_target *test_target(int i);

#endif
