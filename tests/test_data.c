/* test_data.c: the IDX loader on small hand-made files (raw and gzip'd), on
 * every kind of broken file we can think of, and on the real MNIST. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "lenet.h"
#include "tests.h"

#define IMAGES_MAGIC 0x00000803u
#define LABELS_MAGIC 0x00000801u

/* The reference data set: 3 images of 4x5 pixels, labels 7 0 9. */
enum { N = 3, ROWS = 4, COLS = 5, NPIX = N * ROWS * COLS };
static uint8_t pixels[NPIX];
static const uint8_t digits[N] = {7, 0, 9};

static void make_pixels(void) {
    for (int i = 0; i < NPIX; i++)
        pixels[i] = (uint8_t)(i * 37 + 11);
}

/* ---- building files ---------------------------------------------------- */

static char *tmp_path(char *buf, const char *name) {
    snprintf(buf, PATH_MAX, "%s/%s", test_tmpdir(), name);
    return buf;
}

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Writes bytes to path, gzip'd if gz. */
static void write_file(const char *path, const void *p, size_t n, int gz) {
    if (gz) {
        gzFile f = gzopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        if (n)
            ck_assert_int_eq(gzwrite(f, p, (unsigned)n), (int)n);
        ck_assert_int_eq(gzclose(f), Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(p, 1, n, f), n);
        ck_assert_int_eq(fclose(f), 0);
    }
}

/* Reads a whole file as stored on disk (no decompression). */
static size_t read_file(const char *path, uint8_t *buf, size_t cap) {
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    ck_assert_uint_lt(n, cap);
    return n;
}

/* An image file: header, then npix bytes from pix (which may be fewer or
 * more than the header declares). */
static void write_images(const char *path, uint32_t magic, uint32_t count,
                         uint32_t rows, uint32_t cols, const uint8_t *pix,
                         size_t npix, int gz) {
    uint8_t *buf = malloc(16 + npix);
    put_be32(buf, magic);
    put_be32(buf + 4, count);
    put_be32(buf + 8, rows);
    put_be32(buf + 12, cols);
    memcpy(buf + 16, pix, npix);
    write_file(path, buf, 16 + npix, gz);
    free(buf);
}

static void write_labels(const char *path, uint32_t magic, uint32_t count,
                         const uint8_t *lab, size_t n, int gz) {
    uint8_t *buf = malloc(8 + n);
    put_be32(buf, magic);
    put_be32(buf + 4, count);
    memcpy(buf + 8, lab, n);
    write_file(path, buf, 8 + n, gz);
    free(buf);
}

/* Writes the reference data set as <stem>-images / <stem>-labels. */
static void write_valid(const char *stem, int gz, char *ipath, char *lpath) {
    char name[128];
    make_pixels();
    snprintf(name, sizeof name, "%s-images%s", stem, gz ? ".gz" : "");
    write_images(tmp_path(ipath, name), IMAGES_MAGIC, N, ROWS, COLS, pixels,
                 NPIX, gz);
    snprintf(name, sizeof name, "%s-labels%s", stem, gz ? ".gz" : "");
    write_labels(tmp_path(lpath, name), LABELS_MAGIC, N, digits, N, gz);
}

/* ---- checking results -------------------------------------------------- */

static void expect_valid(const char *ipath, const char *lpath) {
    lenet_dataset ds;
    lenet_error err = {""};
    int rc = lenet_load_idx(ipath, lpath, 10, &ds, &err);
    ck_assert_msg(rc == 0, "load failed: %s", err.msg);
    ck_assert_int_eq(ds.count, 3);
    ck_assert_int_eq(ds.rows, 4);
    ck_assert_int_eq(ds.cols, 5);
    ck_assert_mem_eq(ds.images, pixels, NPIX);
    /* Spot values, independent of make_pixels: 11, 48, ..., (59*37+11)%256 */
    ck_assert_uint_eq(ds.images[0], 11);
    ck_assert_uint_eq(ds.images[1], 48);
    ck_assert_uint_eq(ds.images[20], 239); /* image 1, pixel (0,0) */
    ck_assert_uint_eq(ds.images[59], 146);
    ck_assert_uint_eq(ds.labels[0], 7);
    ck_assert_uint_eq(ds.labels[1], 0);
    ck_assert_uint_eq(ds.labels[2], 9);
    lenet_free_dataset(&ds);
    ck_assert_ptr_null(ds.images);
    ck_assert_ptr_null(ds.labels);
    ck_assert_int_eq(ds.count, 0);
    lenet_free_dataset(&ds); /* freeing twice is harmless */
}

/* The load must fail, leave out zeroed, and say what went wrong where. */
#define EXPECT_ERROR(ip, lp, file, phrase) \
    expect_error(__LINE__, ip, lp, file, phrase)

static void expect_error(int line, const char *ipath, const char *lpath,
                         const char *file, const char *phrase) {
    lenet_dataset ds;
    memset(&ds, 0xAB, sizeof ds);
    lenet_error err = {""};
    int rc = lenet_load_idx(ipath, lpath, 10, &ds, &err);
    ck_assert_msg(rc == -1, "line %d: load succeeded, expected '%s'", line,
                  phrase);
    ck_assert_msg(ds.count == 0 && ds.rows == 0 && ds.cols == 0 &&
                      !ds.images && !ds.labels,
                  "line %d: dataset not zeroed on error", line);
    ck_assert_msg(strstr(err.msg, file), "line %d: message '%s' does not name %s",
                  line, err.msg, file);
    ck_assert_msg(strstr(err.msg, phrase),
                  "line %d: message '%s' does not contain '%s'", line, err.msg,
                  phrase);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- valid files ------------------------------------------------------- */

START_TEST(test_valid_raw) {
    char ip[PATH_MAX], lp[PATH_MAX];
    write_valid("valid", 0, ip, lp);
    expect_valid(ip, lp);
}
END_TEST

START_TEST(test_valid_gz) {
    char ip[PATH_MAX], lp[PATH_MAX], rip[PATH_MAX], rlp[PATH_MAX];
    write_valid("validgz", 1, ip, lp);
    expect_valid(ip, lp);
    /* mixed: gzip'd images with raw labels and the other way round */
    write_valid("validmix", 0, rip, rlp);
    expect_valid(ip, rlp);
    expect_valid(rip, lp);
}
END_TEST

/* ---- broken headers ---------------------------------------------------- */

START_TEST(test_bad_magic) {
    char ip[PATH_MAX], lp[PATH_MAX], bad[PATH_MAX];
    write_valid("magic", 0, ip, lp);

    /* labels passed as images, and images as labels */
    EXPECT_ERROR(lp, lp, lp, "bad magic 0x00000801, expected 0x00000803 (IDX images)");
    EXPECT_ERROR(ip, ip, ip, "bad magic 0x00000803, expected 0x00000801 (IDX labels)");

    /* int32 elements (type 0x0c) instead of ubyte */
    write_images(tmp_path(bad, "magic-int32.gz"), 0x00000c03u, N, ROWS, COLS,
                 pixels, NPIX, 1);
    EXPECT_ERROR(bad, lp, "magic-int32.gz", "bad magic 0x00000c03");

    /* little-endian header */
    write_images(bad, 0x03080000u, N, ROWS, COLS, pixels, NPIX, 1);
    EXPECT_ERROR(bad, lp, bad, "bad magic 0x03080000");
}
END_TEST

START_TEST(test_truncated_header) {
    char ip[PATH_MAX], lp[PATH_MAX], bad[PATH_MAX];
    write_valid("hdr", 0, ip, lp);
    uint8_t hdr[16] = {0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5};

    write_file(tmp_path(bad, "hdr-short-images"), hdr, 10, 0);
    EXPECT_ERROR(bad, lp, bad, "truncated header: expected 16 bytes, got 10");

    write_file(bad, hdr, 2, 1); /* gzip'd, even the magic is cut */
    EXPECT_ERROR(bad, lp, bad, "truncated header: expected 16 bytes, got 2");

    write_file(bad, hdr, 0, 0); /* empty file */
    EXPECT_ERROR(bad, lp, bad, "truncated header: expected 16 bytes, got 0");

    uint8_t lhdr[8] = {0, 0, 8, 1, 0, 0, 0, 3};
    write_file(tmp_path(bad, "hdr-short-labels"), lhdr, 6, 0);
    EXPECT_ERROR(ip, bad, bad, "truncated header: expected 8 bytes, got 6");
}
END_TEST

START_TEST(test_bad_dims) {
    char ip[PATH_MAX], lp[PATH_MAX], bad[PATH_MAX];
    write_valid("dims", 0, ip, lp);
    tmp_path(bad, "dims-bad-images");

    write_images(bad, IMAGES_MAGIC, 0, ROWS, COLS, pixels, 0, 0);
    EXPECT_ERROR(bad, lp, bad, "bad image count 0 (must be 1..10000000)");
    write_images(bad, IMAGES_MAGIC, 10000001, ROWS, COLS, pixels, NPIX, 0);
    EXPECT_ERROR(bad, lp, bad, "bad image count 10000001");
    write_images(bad, IMAGES_MAGIC, N, 0, COLS, pixels, NPIX, 0);
    EXPECT_ERROR(bad, lp, bad, "bad image size 0x5 (rows and cols must be 1..1024)");
    write_images(bad, IMAGES_MAGIC, N, ROWS, 1025, pixels, NPIX, 0);
    EXPECT_ERROR(bad, lp, bad, "bad image size 4x1025");
}
END_TEST

/* A header promising far more than the file holds must fail at once, not
 * try to allocate what it promises. */
START_TEST(test_huge_header) {
    char ip[PATH_MAX], lp[PATH_MAX], bad[PATH_MAX], badl[PATH_MAX];
    write_valid("huge", 0, ip, lp);
    uint8_t junk[1000];
    memset(junk, 3, sizeof junk);
    double t0 = now();

    /* 4 billion images: beyond the count limit */
    write_images(tmp_path(bad, "huge-big-images"), IMAGES_MAGIC, 4000000000u, 28,
                 28, junk, sizeof junk, 0);
    write_labels(tmp_path(badl, "huge-big-labels"), LABELS_MAGIC, 4000000000u,
                 junk, sizeof junk, 0);
    EXPECT_ERROR(bad, badl, bad, "bad image count 4000000000");
    EXPECT_ERROR(ip, badl, badl, "has 4000000000 labels");

    /* within every limit, yet 10 TB of pixels promised by a 1 KB file; an
     * up-front allocation would fail or abort instead of saying truncated */
    for (int gz = 0; gz <= 1; gz++) {
        write_images(bad, IMAGES_MAGIC, 10000000, 1024, 1024, junk,
                     sizeof junk, gz);
        write_labels(badl, LABELS_MAGIC, 10000000, junk, sizeof junk, gz);
        EXPECT_ERROR(bad, badl, bad,
                     "truncated: expected 10485760000000 bytes of pixels, got 1000");
    }

    /* the largest count allowed, 1x1 pixels */
    write_images(bad, IMAGES_MAGIC, 10000000, 1, 1, junk, sizeof junk, 0);
    write_labels(badl, LABELS_MAGIC, 10000000, junk, sizeof junk, 0);
    EXPECT_ERROR(bad, badl, bad, "expected 10000000 bytes of pixels, got 1000");

    ck_assert_msg(now() - t0 < 2.0, "huge headers took %.2f s", now() - t0);
}
END_TEST

/* ---- broken data ------------------------------------------------------- */

START_TEST(test_truncated_pixels) {
    char ip[PATH_MAX], lp[PATH_MAX], bad[PATH_MAX];
    write_valid("trunc", 0, ip, lp);
    for (int gz = 0; gz <= 1; gz++) {
        write_images(tmp_path(bad, gz ? "trunc-short.gz" : "trunc-short"),
                     IMAGES_MAGIC, N, ROWS, COLS, pixels, 50, gz);
        EXPECT_ERROR(bad, lp, bad, "truncated: expected 60 bytes of pixels, got 50");
    }
    write_labels(tmp_path(bad, "trunc-short-labels"), LABELS_MAGIC, N, digits,
                 2, 0);
    EXPECT_ERROR(ip, bad, bad, "truncated: expected 3 bytes of labels, got 2");
}
END_TEST

START_TEST(test_count_mismatch) {
    char ip[PATH_MAX], lp[PATH_MAX], bad[PATH_MAX];
    write_valid("count", 0, ip, lp);
    write_labels(tmp_path(bad, "count-two-labels"), LABELS_MAGIC, 2, digits, 2, 0);
    EXPECT_ERROR(ip, bad, ip, "has 3 images but");
    EXPECT_ERROR(ip, bad, bad, "has 2 labels");
}
END_TEST

START_TEST(test_label_out_of_range) {
    char ip[PATH_MAX], lp[PATH_MAX], bad[PATH_MAX];
    write_valid("label", 0, ip, lp);
    const uint8_t lab[N] = {7, 10, 9};
    write_labels(tmp_path(bad, "label-ten.gz"), LABELS_MAGIC, N, lab, N, 1);
    EXPECT_ERROR(ip, bad, bad, "label 10 of record 1 is out of range: 10 classes (labels 0..9)");
    const uint8_t lab255[N] = {7, 0, 255};
    write_labels(bad, LABELS_MAGIC, N, lab255, N, 1);
    EXPECT_ERROR(ip, bad, bad, "label 255 of record 2");
}
END_TEST

START_TEST(test_trailing_bytes) {
    char ip[PATH_MAX], lp[PATH_MAX], bad[PATH_MAX];
    write_valid("trail", 0, ip, lp);
    uint8_t more[NPIX + 1];
    memcpy(more, pixels, NPIX);
    more[NPIX] = 0;
    for (int gz = 0; gz <= 1; gz++) {
        write_images(tmp_path(bad, gz ? "trail-extra-images.gz" : "trail-extra-images"),
                     IMAGES_MAGIC, N, ROWS, COLS, more, sizeof more, gz);
        EXPECT_ERROR(bad, lp, bad,
                     "trailing bytes after the 60 bytes of pixels the header declares");
    }
    const uint8_t lab[N + 2] = {7, 0, 9, 1, 1};
    write_labels(tmp_path(bad, "trail-extra-labels"), LABELS_MAGIC, N, lab, N + 2, 0);
    EXPECT_ERROR(ip, bad, bad, "trailing bytes after the 3 bytes of labels");
}
END_TEST

START_TEST(test_corrupt_gzip) {
    char ip[PATH_MAX], lp[PATH_MAX], bad[PATH_MAX];
    write_valid("gzbad", 1, ip, lp);

    /* a valid gzip header (magic, deflate, no flags, OS unix), then bytes
     * that are not deflate data: 0xff starts a block of type 3, which
     * does not exist */
    uint8_t garbage[64] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
    for (size_t i = 10; i < sizeof garbage; i++)
        garbage[i] = (uint8_t)(0xff - 2 * (i - 10));
    write_file(tmp_path(bad, "gzbad-garbage.gz"), garbage, sizeof garbage, 0);
    EXPECT_ERROR(bad, lp, bad, "corrupt gzip data: invalid block type");
    EXPECT_ERROR(ip, bad, bad, "corrupt gzip data");

    /* intact deflate data, wrong CRC in the trailer: found only at the end */
    uint8_t gz[4096];
    size_t n = read_file(ip, gz, sizeof gz);
    gz[n - 8] ^= 0x55;
    write_file(tmp_path(bad, "gzbad-crc.gz"), gz, n, 0);
    EXPECT_ERROR(bad, lp, bad, "corrupt gzip data: incorrect data check");

    /* the compressed stream cut in half */
    n = read_file(ip, gz, sizeof gz);
    write_file(tmp_path(bad, "gzbad-cut.gz"), gz, n / 2, 0);
    EXPECT_ERROR(bad, lp, bad, "truncated");
}
END_TEST

START_TEST(test_missing_file) {
    char ip[PATH_MAX], lp[PATH_MAX], none[PATH_MAX];
    write_valid("missing", 0, ip, lp);
    tmp_path(none, "no-such-file-idx3-ubyte.gz");
    EXPECT_ERROR(none, lp, none, "cannot open: No such file or directory");
    EXPECT_ERROR(ip, none, none, "cannot open: No such file or directory");
    /* a directory is not a data file */
    EXPECT_ERROR(test_tmpdir(), lp, test_tmpdir(), "not a regular file (a directory)");
    /* nor is a FIFO, which must not block the open */
    char fifo[PATH_MAX];
    tmp_path(fifo, "fifo-idx1-ubyte");
    unlink(fifo);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    EXPECT_ERROR(ip, fifo, fifo, "not a regular file (a FIFO)");
    unlink(fifo);
}
END_TEST

/* ---- finding MNIST ----------------------------------------------------- */

/* Makes dir/<kind>-images-idx3-ubyte.gz (valid) and a broken raw twin, so a
 * successful load proves the .gz is tried first; labels raw only. */
static void make_mnist_dir(const char *dir, const char *kind) {
    char p[PATH_MAX];
    mkdir(dir, 0777);
    make_pixels();
    snprintf(p, sizeof p, "%s/%s-images-idx3-ubyte.gz", dir, kind);
    write_images(p, IMAGES_MAGIC, N, ROWS, COLS, pixels, NPIX, 1);
    snprintf(p, sizeof p, "%s/%s-images-idx3-ubyte", dir, kind);
    write_images(p, 0xdeadbeefu, N, ROWS, COLS, pixels, NPIX, 0);
    snprintf(p, sizeof p, "%s/%s-labels-idx1-ubyte", dir, kind);
    write_labels(p, LABELS_MAGIC, N, digits, N, 0);
}

START_TEST(test_mnist_dir) {
    char dir[PATH_MAX], empty[PATH_MAX];
    lenet_dataset ds;
    lenet_error err = {""};
    make_mnist_dir(tmp_path(dir, "mnist-small"), "train");

    ck_assert_msg(lenet_load_mnist(dir, "train", &ds, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(ds.count, 3);
    ck_assert_mem_eq(ds.images, pixels, NPIX);
    ck_assert_mem_eq(ds.labels, digits, N);
    lenet_free_dataset(&ds);

    /* an explicit dir is the only place looked in */
    ck_assert_int_eq(lenet_load_mnist(dir, "t10k", &ds, &err), -1);
    ck_assert_ptr_null(ds.images);
    ck_assert_msg(strstr(err.msg, "no MNIST files in ") && strstr(err.msg, dir) &&
                      strstr(err.msg, "t10k-images-idx3-ubyte"),
                  "%s", err.msg);

    mkdir(tmp_path(empty, "mnist-empty"), 0777);
    ck_assert_int_eq(lenet_load_mnist(empty, "train", &ds, &err), -1);
    ck_assert_msg(strstr(err.msg, empty), "%s", err.msg);

    ck_assert_int_eq(lenet_load_mnist(dir, "test", &ds, &err), -1);
    ck_assert_msg(strstr(err.msg, "unknown MNIST part 'test'"), "%s", err.msg);
}
END_TEST

START_TEST(test_mnist_search) {
    char dir[PATH_MAX], cwd[PATH_MAX];
    lenet_dataset ds;
    lenet_error err = {""};
    make_mnist_dir(tmp_path(dir, "mnist-env"), "t10k");
    const char *old = getenv("LENETC_DATA");
    char *saved = old ? strdup(old) : NULL;

    /* $LENETC_DATA comes first */
    setenv("LENETC_DATA", dir, 1);
    ck_assert_msg(lenet_load_mnist(NULL, "t10k", &ds, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(ds.count, 3);
    lenet_free_dataset(&ds);

    /* Elsewhere nothing is in ./data/mnist or ../shared/mnist; the real data
     * may still be found next to the executable. Either way is checked. */
    unsetenv("LENETC_DATA");
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    ck_assert_int_eq(chdir(dir), 0);
    int rc = lenet_load_mnist(NULL, "t10k", &ds, &err);
    ck_assert_int_eq(chdir(cwd), 0);
    if (saved)
        setenv("LENETC_DATA", saved, 1);
    free(saved);
    if (rc == 0) {
        ck_assert_int_eq(ds.count, 10000);
        lenet_free_dataset(&ds);
    } else {
        ck_assert_msg(strstr(err.msg, "MNIST t10k files not found") &&
                          strstr(err.msg, "--data DIR") &&
                          strstr(err.msg, "scripts/fetch-mnist.sh") &&
                          strstr(err.msg, "data/mnist, ../shared/mnist"),
                      "%s", err.msg);
    }
}
END_TEST

/* ---- the real thing ---------------------------------------------------- */

static void check_mnist(const char *kind, int count, const int first[10],
                        const int classes[10], long sum_first, long sum_last) {
    lenet_dataset ds;
    lenet_error err = {""};
    ck_assert_msg(lenet_load_mnist("../shared/mnist", kind, &ds, &err) == 0,
                  "%s", err.msg);
    ck_assert_int_eq(ds.count, count);
    ck_assert_int_eq(ds.rows, 28);
    ck_assert_int_eq(ds.cols, 28);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(ds.labels[i], first[i]);
    int seen[10] = {0};
    for (int i = 0; i < ds.count; i++)
        seen[ds.labels[i]]++;
    for (int c = 0; c < 10; c++)
        ck_assert_int_eq(seen[c], classes[c]);
    /* pixel sums of the first and last image (computed with Python's gzip) */
    long s0 = 0, s1 = 0;
    const uint8_t *last = ds.images + (size_t)(ds.count - 1) * 784;
    for (int i = 0; i < 784; i++) {
        s0 += ds.images[i];
        s1 += last[i];
    }
    ck_assert_int_eq(s0, sum_first);
    ck_assert_int_eq(s1, sum_last);
    lenet_free_dataset(&ds);
}

START_TEST(test_real_mnist) {
    struct stat st;
    if (stat("../shared/mnist", &st) != 0) {
        fprintf(stderr, "test_real_mnist: ../shared/mnist absent, skipped\n");
        return;
    }
    static const int train_first[10] = {5, 0, 4, 1, 9, 2, 1, 3, 1, 4};
    static const int train_classes[10] = {5923, 6742, 5958, 6131, 5842,
                                          5421, 5918, 6265, 5851, 5949};
    static const int test_first[10] = {7, 2, 1, 0, 4, 1, 4, 9, 5, 9};
    static const int test_classes[10] = {980, 1135, 1032, 1010, 982,
                                         892, 958,  1028, 974,  1009};
    check_mnist("train", 60000, train_first, train_classes, 27525, 20920);
    check_mnist("t10k", 10000, test_first, test_classes, 18454, 41833);
}
END_TEST

Suite *data_suite(void) {
    Suite *s = suite_create("data");
    TCase *tc = tcase_create("idx");
    tcase_add_test(tc, test_valid_raw);
    tcase_add_test(tc, test_valid_gz);
    tcase_add_test(tc, test_bad_magic);
    tcase_add_test(tc, test_truncated_header);
    tcase_add_test(tc, test_bad_dims);
    tcase_add_test(tc, test_huge_header);
    tcase_add_test(tc, test_truncated_pixels);
    tcase_add_test(tc, test_count_mismatch);
    tcase_add_test(tc, test_label_out_of_range);
    tcase_add_test(tc, test_trailing_bytes);
    tcase_add_test(tc, test_corrupt_gzip);
    tcase_add_test(tc, test_missing_file);
    suite_add_tcase(s, tc);

    TCase *tm = tcase_create("mnist");
    tcase_add_test(tm, test_mnist_dir);
    tcase_add_test(tm, test_mnist_search);
    tcase_add_test(tm, test_real_mnist);
    tcase_set_timeout(tm, 120); /* decompressing 55 MB, slow under valgrind */
    suite_add_tcase(s, tm);
    return s;
}
