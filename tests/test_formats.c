/* test_formats.c: data sets beyond MNIST, built here on the fly: image
 * folders (PNG and JPEG, gray and RGB, odd sizes, the cache), CIFAR
 * batches, IDX with channels and named files; the errors of each (corrupt
 * and truncated files, bad labels, empty class folders, missing data); the
 * decoders, resizing and channel rules by exact bytes; tiles of three
 * channels; and, tagged slow, an RGB and a 12-class model trained end to end
 * through the JIT and the emitted trainer.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utime.h>

#include "lenet.h"
#include "tests.h"

/* test paths are short: gcc's worst cases for them are not */
#pragma GCC diagnostic ignored "-Wformat-truncation"

/* lenet_load_data reaches the folder loader by a weak symbol (dataset.c):
 * this test binary links it, as lenetc does */
int (*const test_folders_linked)(const char *, const char *, int, int, int, int, int,
                                 const char *, lenet_dataset *,
                                 lenet_error *) = lenet_load_folders;

/* ---- writing files ---------------------------------------------------- */

static void mkdirs(const char *path) {
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = '\0';
            mkdir(p, 0777);
            *s = '/';
        }
    mkdir(p, 0777);
}

static void rmtree(const char *path) {
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    ck_assert_int_eq(system(cmd), 0);
}


static void write_bytes(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(p, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

static size_t file_size(const char *path) {
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    return (size_t)st.st_size;
}

static void truncate_to(const char *path, size_t n) { ck_assert_int_eq(truncate(path, (off_t)n), 0); }

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* IDX images [n, h, w] (c == 0) or [n, h, w, c], and labels. */
static void write_idx(const char *ipath, const char *lpath, const uint8_t *px, int n, int h, int w,
                      int c, const uint8_t *labels) {
    const int dims = c ? 4 : 3;
    const size_t bytes = (size_t)n * h * w * (c ? c : 1);
    uint8_t *buf = malloc(4 + 4 * dims + bytes);
    put_be32(buf, 0x800u + (uint32_t)dims);
    put_be32(buf + 4, (uint32_t)n), put_be32(buf + 8, (uint32_t)h), put_be32(buf + 12, (uint32_t)w);
    if (c)
        put_be32(buf + 16, (uint32_t)c);
    memcpy(buf + 4 + 4 * dims, px, bytes);
    write_bytes(ipath, buf, 4 + 4 * dims + bytes);
    free(buf);
    uint8_t *lb = malloc(8 + (size_t)n);
    put_be32(lb, 0x801u), put_be32(lb + 4, (uint32_t)n);
    memcpy(lb + 8, labels, (size_t)n);
    write_bytes(lpath, lb, 8 + (size_t)n);
    free(lb);
}

/* A CIFAR record's pixel p (0..1023) of channel c in record r of a batch. */
static uint8_t cifar_px(int batch, int r, int c, int p) {
    return (uint8_t)(batch * 61 + r * 17 + c * 89 + p * 7);
}

static void write_cifar(const char *path, int batch, int n, const uint8_t *labels) {
    uint8_t *buf = malloc((size_t)n * 3073);
    for (int r = 0; r < n; r++) {
        buf[(size_t)r * 3073] = labels[r];
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < 1024; p++)
                buf[(size_t)r * 3073 + 1 + c * 1024 + p] = cifar_px(batch, r, c, p);
    }
    write_bytes(path, buf, (size_t)n * 3073);
    free(buf);
}

static char *tmp(char *buf, const char *name) {
    snprintf(buf, PATH_MAX, "%s/%s", test_tmpdir(), name);
    return buf;
}

#define EXPECT_LOAD_ERROR(rq, train, phrase)                                                    \
    do {                                                                                        \
        lenet_dataset tr_, te_;                                                                 \
        lenet_error e_ = {""};                                                                  \
        ck_assert_int_eq(lenet_load_data(rq, (train) ? &tr_ : NULL, &te_, &e_), -1);           \
        ck_assert_msg(strstr(e_.msg, phrase), "expected '%s' in: %s", phrase, e_.msg);        \
        ck_assert_ptr_null(te_.images);                                                         \
    } while (0)

/* ---- pixels --------------------------------------------------------------- */

START_TEST(test_fit_pixels) {
    /* area: 4x4 -> 2x2, every output the mean of its 2x2 block */
    const uint8_t a[16] = {0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 151};
    uint8_t out[64];
    lenet_fit_pixels(a, 4, 4, 1, out, 2, 2, 1);
    ck_assert_int_eq(out[0], 25);  /* (0 + 10 + 40 + 50) / 4 */
    ck_assert_int_eq(out[1], 45);  /* (20 + 30 + 60 + 70) / 4 */
    ck_assert_int_eq(out[2], 105); /* (80 + 90 + 120 + 130) / 4 */
    ck_assert_int_eq(out[3], 125); /* (100 + 110 + 140 + 151) / 4 = 125.25 */
    /* 3 -> 2 along x: output 0 covers pixels 0 and half of 1 */
    const uint8_t b[3] = {30, 90, 240};
    lenet_fit_pixels(b, 1, 3, 1, out, 1, 2, 1);
    ck_assert_int_eq(out[0], 50);  /* (30 + 0.5 * 90) / 1.5 */
    ck_assert_int_eq(out[1], 190); /* (0.5 * 90 + 240) / 1.5 */
    /* bilinear: 2 -> 4, centres at -0.25 (clamped), 0.25, 0.75, 1.25 (clamped) */
    const uint8_t g[2] = {0, 100};
    lenet_fit_pixels(g, 1, 2, 1, out, 1, 4, 1);
    ck_assert_int_eq(out[0], 0);
    ck_assert_int_eq(out[1], 25);
    ck_assert_int_eq(out[2], 75);
    ck_assert_int_eq(out[3], 100);
    /* one axis grows while the other shrinks: 2x1 -> 1x2 */
    const uint8_t v[2] = {40, 200};
    lenet_fit_pixels(v, 2, 1, 1, out, 1, 2, 1);
    ck_assert_int_eq(out[0], 120);
    ck_assert_int_eq(out[1], 120);
    /* RGB -> gray: BT.601 luma, rounded; gray -> RGB: copies */
    const uint8_t rgb[6] = {10, 20, 30, 255, 0, 0};
    lenet_fit_pixels(rgb, 1, 2, 3, out, 1, 2, 1);
    ck_assert_int_eq(out[0], 18); /* 0.299*10 + 0.587*20 + 0.114*30 = 18.15 */
    ck_assert_int_eq(out[1], 76); /* 0.299 * 255 = 76.2 */
    const uint8_t gray[2] = {7, 250};
    lenet_fit_pixels(gray, 1, 2, 1, out, 1, 2, 3);
    const uint8_t rep[6] = {7, 7, 7, 250, 250, 250};
    ck_assert_mem_eq(out, rep, 6);
}
END_TEST

/* ---- decoding ------------------------------------------------------------- */

START_TEST(test_decode) {
    char p[PATH_MAX];
    lenet_image img;
    lenet_error err = {""};
    /* gray and RGB PNG: exact */
    uint8_t px[5 * 3 * 4];
    for (int i = 0; i < 60; i++)
        px[i] = (uint8_t)(i * 41 + 3);
    test_write_png(tmp(p, "d_gray.png"), px, 5, 3, 1);
    ck_assert_msg(lenet_decode_image(p, &img, &err) == 0, "%s", err.msg);
    ck_assert(img.w == 5 && img.h == 3 && img.c == 1);
    ck_assert_mem_eq(img.px, px, 15);
    free(img.px);
    test_write_png(tmp(p, "d_rgb.png"), px, 5, 3, 3);
    ck_assert_msg(lenet_decode_image(p, &img, &err) == 0, "%s", err.msg);
    ck_assert(img.w == 5 && img.h == 3 && img.c == 3);
    ck_assert_mem_eq(img.px, px, 45);
    free(img.px);
    /* alpha over white, what is drawn being dark (luma 124, weighted by
     * alpha): (v a + 255 (255 - a) + 127) / 255 */
    const uint8_t rgba[8] = {200, 100, 50, 128, 255, 255, 255, 0};
    test_write_png(tmp(p, "d_rgba.png"), rgba, 2, 1, 4);
    ck_assert_msg(lenet_decode_image(p, &img, &err) == 0, "%s", err.msg);
    const uint8_t over_white[6] = {227, 177, 152, 255, 255, 255};
    ck_assert(img.c == 3);
    ck_assert_mem_eq(img.px, over_white, 6);
    free(img.px);
    const uint8_t ga[4] = {255, 51, 90, 255}; /* mean (255 * 51 + 90 * 255) / 306: dark */
    test_write_png(tmp(p, "d_ga.png"), ga, 2, 1, 2);
    ck_assert_msg(lenet_decode_image(p, &img, &err) == 0, "%s", err.msg);
    ck_assert(img.c == 1 && img.px[0] == 255 && img.px[1] == 90);
    free(img.px);
    /* over black when what is drawn is light: v a / 255, rounded */
    const uint8_t light[4] = {200, 128, 255, 0};
    test_write_png(tmp(p, "d_light.png"), light, 2, 1, 2);
    ck_assert_msg(lenet_decode_image(p, &img, &err) == 0, "%s", err.msg);
    ck_assert(img.c == 1 && img.px[0] == (200 * 128 + 127) / 255 && img.px[1] == 0);
    free(img.px);
    /* a PNG past the limit says it, as a JPEG does */
    static uint8_t wide[16385];
    test_write_png(tmp(p, "d_wide.png"), wide, 16385, 1, 1);
    ck_assert_int_eq(lenet_decode_image(p, &img, &err), -1);
    ck_assert_msg(strstr(err.msg, "d_wide.png: PNG of 16385x1 pixels (at most 16384 a side)"),
                  "%s", err.msg);
    /* JPEG, quality 100, flat colours: within 2 of what was written */
    uint8_t flat[16 * 16 * 3];
    for (int i = 0; i < 16 * 16; i++)
        flat[i * 3] = 200, flat[i * 3 + 1] = 40, flat[i * 3 + 2] = 90;
    test_write_jpeg(tmp(p, "d_rgb.jpg"), flat, 16, 16, 3);
    ck_assert_msg(lenet_decode_image(p, &img, &err) == 0, "%s", err.msg);
    ck_assert(img.w == 16 && img.h == 16 && img.c == 3);
    for (int i = 0; i < 16 * 16 * 3; i++)
        ck_assert_msg(abs(img.px[i] - flat[i]) <= 2, "byte %d: %d for %d", i, img.px[i], flat[i]);
    free(img.px);
    test_write_jpeg(tmp(p, "d_gray.jpg"), flat, 16, 16, 1);
    ck_assert_msg(lenet_decode_image(p, &img, &err) == 0, "%s", err.msg);
    ck_assert(img.c == 1);
    free(img.px);

    /* broken files: one-line errors naming the file */
    char q[PATH_MAX];
    test_write_jpeg(tmp(q, "d_cut.jpg"), flat, 16, 16, 3);
    truncate_to(q, file_size(q) / 2);
    ck_assert_int_eq(lenet_decode_image(q, &img, &err), -1);
    ck_assert_msg(strstr(err.msg, q) && strstr(err.msg, "bad JPEG: "), "%s", err.msg);
    tmp(q, "d_cut.png");
    test_write_png(q, px, 5, 3, 3);
    truncate_to(q, file_size(q) - 20);
    ck_assert_int_eq(lenet_decode_image(q, &img, &err), -1);
    ck_assert_msg(strstr(err.msg, q) && strstr(err.msg, "bad PNG: "), "%s", err.msg);
    write_bytes(tmp(q, "d_text.png"), "hello", 5);
    ck_assert_int_eq(lenet_decode_image(q, &img, &err), -1);
    ck_assert_msg(strstr(err.msg, "d_text.png: neither a PNG nor a JPEG image"), "%s", err.msg);
    write_bytes(tmp(q, "d_empty.jpg"), "", 0);
    ck_assert_int_eq(lenet_decode_image(q, &img, &err), -1);
    ck_assert_msg(strstr(err.msg, "d_empty.jpg: empty file"), "%s", err.msg);
}
END_TEST

/* ---- image folders ----------------------------------------------------- */

/* An image of class k, number i: its pixels say both. */
static void pattern(uint8_t *px, int w, int h, int c, int k, int i) {
    for (int j = 0; j < w * h * c; j++)
        px[j] = (uint8_t)(k * 70 + i * 13 + j * 5);
}

/* DIR/{train,test}/{a,b,c}: train 2 images a class, test 1; PNG RGB of
 * 6x5, a gray PNG of 3x3 and a JPEG among them. */
static void make_folders(const char *dir) {
    rmtree(dir);
    static const char *cls[3] = {"a", "b", "c"};
    char p[PATH_MAX];
    uint8_t px[16 * 16 * 3];
    for (int part = 0; part < 2; part++)
        for (int k = 0; k < 3; k++) {
            snprintf(p, sizeof p, "%s/%s/%s", dir, part ? "test" : "train", cls[k]);
            mkdirs(p);
            for (int i = 0; i < (part ? 1 : 2); i++) {
                snprintf(p, sizeof p, "%s/%s/%s/img%d.%s", dir, part ? "test" : "train", cls[k],
                         i, k == 2 && i == 1 ? "jpg" : "png");
                if (k == 2 && i == 1) {
                    pattern(px, 16, 16, 3, k, i);
                    test_write_jpeg(p, px, 16, 16, 3);
                } else if (k == 1 && i == 1) {
                    pattern(px, 3, 3, 1, k, i);
                    test_write_png(p, px, 3, 3, 1);
                } else {
                    pattern(px, 6, 5, 3, k, i);
                    test_write_png(p, px, 6, 5, 3);
                }
            }
        }
    snprintf(p, sizeof p, "%s/train/.DS_Store", dir); /* hidden: left out */
    write_bytes(p, "x", 1);
}

START_TEST(test_folders) {
    char dir[PATH_MAX];
    make_folders(tmp(dir, "folders3"));
    lenet_data_request rq = {.path = dir, .h = 4, .w = 4, .c = 3, .classes = 3, .threads = 2};
    lenet_dataset train, test;
    lenet_error err = {""};
    ck_assert_msg(lenet_load_data(&rq, &train, &test, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(train.count, 6);
    ck_assert_int_eq(test.count, 3);
    ck_assert(train.rows == 4 && train.cols == 4 && train.channels == 3);
    ck_assert_int_eq(train.n_classes, 3);
    ck_assert_str_eq(train.class_names[0], "a");
    ck_assert_str_eq(train.class_names[2], "c");
    ck_assert_str_eq(train.format, "image folders");
    /* the classes in turn: a/img0, b/img0, c/img0, a/img1, b/img1, c/img1 */
    const uint8_t labels[6] = {0, 1, 2, 0, 1, 2}, test_labels[3] = {0, 1, 2};
    ck_assert_mem_eq(train.labels, labels, 6);
    ck_assert_mem_eq(test.labels, test_labels, 3);
    /* image 0 (a/img0.png, 6x5 RGB) shrunk to 4x4; image 4 (b/img1.png,
     * 3x3 gray) grown and made RGB: as lenet_fit_pixels makes them */
    uint8_t src[6 * 5 * 3], want[4 * 4 * 3];
    pattern(src, 6, 5, 3, 0, 0);
    lenet_fit_pixels(src, 5, 6, 3, want, 4, 4, 3);
    ck_assert_mem_eq(train.images, want, 48);
    pattern(src, 3, 3, 1, 1, 1);
    lenet_fit_pixels(src, 3, 3, 1, want, 4, 4, 3);
    ck_assert_mem_eq(train.images + 4 * 48, want, 48);
    ck_assert(want[0] == want[1] && want[1] == want[2]);
    ck_assert_msg(strstr(train.note, "cache written to") && strstr(train.note, ".lenetc-cache"),
                  "%s", train.note);
    char line[1024];
    lenet_describe_data(&train, &test, line, sizeof line);
    ck_assert_msg(strstr(line, "folders3 (image folders, 6 train + 3 test, 4x4x3, 3 classes); "
                               "decoded, cache written to "),
                  "%s", line);

    /* the second load reads the cache: the same bytes */
    lenet_dataset again, again_test;
    ck_assert_msg(lenet_load_data(&rq, &again, &again_test, &err) == 0, "%s", err.msg);
    ck_assert_msg(strstr(again.note, "read from the cache"), "%s", again.note);
    ck_assert_mem_eq(again.images, train.images, 6 * 48);
    ck_assert_mem_eq(again.labels, train.labels, 6);
    ck_assert_mem_eq(again_test.images, test.images, 3 * 48);
    ck_assert_str_eq(again.class_names[1], "b");
    lenet_free_dataset(&again);
    lenet_free_dataset(&again_test);

    /* a file changed: decoded again, the new pixels */
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/train/a/img0.png", dir);
    pattern(src, 6, 5, 3, 2, 2);
    test_write_png(p, src, 6, 5, 3);
    struct utimbuf later = {.actime = 2000000000, .modtime = 2000000000};
    utime(p, &later);
    ck_assert_msg(lenet_load_data(&rq, &again, &again_test, &err) == 0, "%s", err.msg);
    ck_assert_msg(strstr(again.note, "decoded"), "%s", again.note);
    ck_assert_msg(strstr(again_test.note, "read from the cache"), "%s", again_test.note);
    lenet_fit_pixels(src, 5, 6, 3, want, 4, 4, 3);
    ck_assert_mem_eq(again.images, want, 48);
    lenet_free_dataset(&again);
    lenet_free_dataset(&again_test);

    /* gray model: RGB images by luma; another size: a cache file of its own */
    lenet_data_request gray = rq;
    gray.c = 1;
    gray.h = 3;
    ck_assert_msg(lenet_load_data(&gray, &again, &again_test, &err) == 0, "%s", err.msg);
    ck_assert(again.channels == 1 && again.rows == 3);
    pattern(src, 6, 5, 3, 2, 2);
    lenet_fit_pixels(src, 5, 6, 3, want, 3, 4, 1);
    ck_assert_mem_eq(again.images, want, 12);
    lenet_free_dataset(&again);
    lenet_free_dataset(&again_test);
    snprintf(p, sizeof p, "%s/.lenetc-cache/train-3x4x1.bin", dir);
    ck_assert_int_eq(access(p, R_OK), 0);

    /* a damaged cache is rebuilt, not trusted */
    snprintf(p, sizeof p, "%s/.lenetc-cache/test-4x4x3.bin", dir);
    truncate_to(p, file_size(p) - 1);
    ck_assert_msg(lenet_load_data(&rq, &again, &again_test, &err) == 0, "%s", err.msg);
    ck_assert_msg(strstr(again_test.note, "decoded"), "%s", again_test.note);
    ck_assert_mem_eq(again_test.images, test.images, 3 * 48);
    lenet_free_dataset(&again);
    lenet_free_dataset(&again_test);

    /* the cache cannot be written: loads all the same, and says so once */
    snprintf(p, sizeof p, "%s/.lenetc-cache", dir);
    rmtree(p);
    write_bytes(p, "not a directory", 15);
    ck_assert_msg(lenet_load_data(&rq, &again, &again_test, &err) == 0, "%s", err.msg);
    ck_assert_mem_eq(again_test.images, test.images, 3 * 48);
    lenet_describe_data(&again, &again_test, line, sizeof line);
    ck_assert_msg(strstr(line, "3 classes); no cache: ") && strstr(line, "not a directory") &&
                      !strstr(line, "test: "),
                  "%s", line);
    lenet_free_dataset(&again);
    lenet_free_dataset(&again_test);
    lenet_free_dataset(&train);
    lenet_free_dataset(&test);
}
END_TEST

START_TEST(test_folder_errors) {
    char dir[PATH_MAX], p[PATH_MAX];
    tmp(dir, "folders_bad");
    lenet_data_request rq = {.path = dir, .h = 4, .w = 4, .c = 3, .classes = 3, .threads = 2};
    uint8_t px[48] = {0};

    /* an undecodable image: named */
    make_folders(dir);
    snprintf(p, sizeof p, "%s/train/b/img0.png", dir);
    write_bytes(p, "\x89PNG\r\n\x1a\n garbage", 17);
    EXPECT_LOAD_ERROR(&rq, 1, "folders_bad/train/b/img0.png: bad PNG: ");
    /* a truncated JPEG: an error, not gray filler */
    make_folders(dir);
    snprintf(p, sizeof p, "%s/train/c/img1.jpg", dir);
    truncate_to(p, file_size(p) - 200);
    EXPECT_LOAD_ERROR(&rq, 1, "folders_bad/train/c/img1.jpg: bad JPEG: ");
    /* an empty class folder */
    make_folders(dir);
    snprintf(p, sizeof p, "%s/test/b/img0.png", dir);
    unlink(p);
    EXPECT_LOAD_ERROR(&rq, 1, "folders_bad/test/b: no images (.png, .jpg, .jpeg) in this class folder");
    /* a file that is not an image, a file where class folders go */
    make_folders(dir);
    snprintf(p, sizeof p, "%s/train/a/notes.txt", dir);
    write_bytes(p, "x", 1);
    EXPECT_LOAD_ERROR(&rq, 1, "train/a/notes.txt: not a .png, .jpg or .jpeg image");
    make_folders(dir);
    snprintf(p, sizeof p, "%s/test/readme.md", dir);
    write_bytes(p, "x", 1);
    EXPECT_LOAD_ERROR(&rq, 1, "test/readme.md: not a class folder");
    /* test classes are the training set's, by name */
    make_folders(dir);
    snprintf(p, sizeof p, "%s/test/d", dir);
    mkdirs(p);
    snprintf(p, sizeof p, "%s/test/d/x.png", dir);
    test_write_png(p, px, 4, 4, 3);
    lenet_data_request more = rq;
    more.classes = 4;
    EXPECT_LOAD_ERROR(&more, 1, "folders_bad/test: class 'd' is not one of the training set's "
                                "classes (a, b, c)");
    /* a class folder name that is not UTF-8 (Latin-1's e acute): named, escaped */
    make_folders(dir);
    snprintf(p, sizeof p, "%s/train/caf\xe9", dir);
    mkdirs(p);
    snprintf(p, sizeof p, "%s/train/caf\xe9/x.png", dir);
    test_write_png(p, px, 4, 4, 3);
    EXPECT_LOAD_ERROR(&more, 1, "folders_bad/train/caf\\xE9: a class folder whose name is not "
                                "UTF-8 (rename it");
    /* more classes than the model scores; channels it cannot give */
    make_folders(dir);
    lenet_data_request two = rq;
    two.classes = 2;
    EXPECT_LOAD_ERROR(&two, 1, "folders_bad/train: 3 class folders, but the model gives 2 class scores");
    lenet_data_request four = rq;
    four.c = 4;
    EXPECT_LOAD_ERROR(&four, 1, "image folders give gray (1 channel) or RGB (3) images; the model "
                                "takes 4 channels");
}
END_TEST

/* A test/ folder without the first class: the others keep their labels
 * (by name, not position: b is still 1, c 2), and a class of no images is
 * simply one the test set lacks. Before, every label shifted by one. */
START_TEST(test_folders_test_lacks_a_class) {
    char dir[PATH_MAX], p[PATH_MAX];
    make_folders(tmp(dir, "folders_lack"));
    snprintf(p, sizeof p, "%s/test/a", dir);
    rmtree(p);
    lenet_data_request rq = {.path = dir, .h = 4, .w = 4, .c = 3, .classes = 3, .threads = 2};
    lenet_dataset train, test;
    lenet_error err = {""};
    ck_assert_msg(lenet_load_data(&rq, &train, &test, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(test.count, 2);
    ck_assert_int_eq(test.n_classes, 3);
    ck_assert_str_eq(test.class_names[0], "a");
    ck_assert_int_eq(test.labels[0], 1); /* b */
    ck_assert_int_eq(test.labels[1], 2); /* c */
    lenet_free_dataset(&train);
    lenet_free_dataset(&test);
    /* only train/: an error, unless the request takes no test set (--val) */
    snprintf(p, sizeof p, "%s/test", dir);
    rmtree(p);
    EXPECT_LOAD_ERROR(&rq, 1, "folders_lack/test: No such file or directory");
    rq.test_optional = 1;
    ck_assert_msg(lenet_load_data(&rq, &train, &test, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(test.count, 0);
    ck_assert_int_eq(test.n_classes, 3);
    char line[1024];
    lenet_describe_data(&train, &test, line, sizeof line);
    ck_assert_msg(strstr(line, "(image folders, 6 train, no test set, 4x4x3, 3 classes)"), "%s",
                  line);
    lenet_free_dataset(&train);
    lenet_free_dataset(&test);
}
END_TEST

/* 12 classes, names sorted as strings: c00 .. c11 */
START_TEST(test_folders_12_classes) {
    char dir[PATH_MAX], p[PATH_MAX];
    tmp(dir, "folders12");
    rmtree(dir);
    uint8_t px[7 * 9];
    for (int part = 0; part < 2; part++)
        for (int k = 11; k >= 0; k--) {
            snprintf(p, sizeof p, "%s/%s/c%02d", dir, part ? "test" : "train", k);
            mkdirs(p);
            snprintf(p, sizeof p, "%s/%s/c%02d/%d.png", dir, part ? "test" : "train", k, k);
            pattern(px, 7, 9, 1, k, part);
            test_write_png(p, px, 7, 9, 1);
        }
    lenet_data_request rq = {.path = dir, .h = 5, .w = 5, .c = 1, .classes = 12, .threads = 1};
    lenet_dataset train, test;
    lenet_error err = {""};
    ck_assert_msg(lenet_load_data(&rq, &train, &test, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(train.n_classes, 12);
    for (int k = 0; k < 12; k++) {
        char name[8];
        snprintf(name, sizeof name, "c%02d", k);
        ck_assert_str_eq(train.class_names[k], name);
        ck_assert_int_eq(train.labels[k], k);
        ck_assert_int_eq(test.labels[k], k);
    }
    lenet_free_dataset(&train);
    lenet_free_dataset(&test);
    rq.classes = 10;
    EXPECT_LOAD_ERROR(&rq, 1, "12 class folders, but the model gives 10 class scores");
}
END_TEST

/* ---- CIFAR ------------------------------------------------------------------ */

START_TEST(test_cifar) {
    char dir[PATH_MAX], p[PATH_MAX];
    tmp(dir, "cifar");
    rmtree(dir);
    mkdirs(dir);
    const uint8_t l1[3] = {3, 0, 9}, l2[2] = {1, 1}, lt[2] = {7, 2};
    /* batch 10 comes after batch 2 */
    snprintf(p, sizeof p, "%s/data_batch_10.bin", dir);
    write_cifar(p, 10, 2, l2);
    snprintf(p, sizeof p, "%s/data_batch_2.bin", dir);
    write_cifar(p, 2, 3, l1);
    snprintf(p, sizeof p, "%s/test_batch.bin", dir);
    write_cifar(p, 0, 2, lt);
    lenet_data_request rq = {.path = dir, .h = 32, .w = 32, .c = 3, .classes = 10};
    lenet_dataset train, test;
    lenet_error err = {""};
    ck_assert_msg(lenet_load_data(&rq, &train, &test, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(train.count, 5);
    ck_assert_int_eq(test.count, 2);
    ck_assert_str_eq(train.format, "CIFAR-10");
    const uint8_t labels[5] = {3, 0, 9, 1, 1};
    ck_assert_mem_eq(train.labels, labels, 5);
    ck_assert_mem_eq(test.labels, lt, 2);
    /* channel-planar records -> each pixel's channels together */
    for (int r = 0; r < 5; r++)
        for (int px = 0; px < 1024; px += 97)
            for (int c = 0; c < 3; c++)
                ck_assert_int_eq(train.images[((size_t)r * 1024 + px) * 3 + c],
                                 cifar_px(r < 3 ? 2 : 10, r < 3 ? r : r - 3, c, px));
    ck_assert_int_eq(train.n_classes, 10); /* up to label 9: digits */
    ck_assert_int_eq(test.n_classes, 10);
    ck_assert_str_eq(test.class_names[9], "9");
    char line[512];
    lenet_describe_data(&train, &test, line, sizeof line);
    ck_assert_msg(strstr(line, "cifar (CIFAR-10, 5 train + 2 test, 32x32x3, 10 classes)"), "%s",
                  line);
    lenet_free_dataset(&train);
    lenet_free_dataset(&test);

    /* names from batches.meta.txt */
    snprintf(p, sizeof p, "%s/batches.meta.txt", dir);
    write_bytes(p, "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n", 62);
    ck_assert_msg(lenet_load_data(&rq, &train, &test, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(test.n_classes, 10);
    ck_assert_str_eq(test.class_names[3], "cat");
    ck_assert_str_eq(train.class_names[9], "truck");
    lenet_free_dataset(&train);
    lenet_free_dataset(&test);

    /* a truncated batch, a label out of range, another input size */
    snprintf(p, sizeof p, "%s/data_batch_2.bin", dir);
    truncate_to(p, 3073 * 2 + 100);
    EXPECT_LOAD_ERROR(&rq, 1, "data_batch_2.bin: truncated: 6246 bytes is not a whole number of "
                              "3073-byte records (record 2 has 100 bytes)");
    write_cifar(p, 2, 3, l1);
    lenet_data_request six = rq;
    six.classes = 6;
    EXPECT_LOAD_ERROR(&six, 1, "data_batch_2.bin: label 9 of record 2 is out of range: 6 classes");
    lenet_data_request small = rq;
    small.h = small.w = 28;
    EXPECT_LOAD_ERROR(&small, 1, "the training set has 32x32x3 images (CIFAR-10), but the model "
                                 "takes 28x28x3");
    snprintf(p, sizeof p, "%s/test_batch.bin", dir);
    unlink(p);
    EXPECT_LOAD_ERROR(&rq, 0, "CIFAR data without test_batch.bin");
}
END_TEST

/* ---- IDX with channels, named files, where the data is ------------------ */

START_TEST(test_idx_channels_and_files) {
    char ip[PATH_MAX], lp[PATH_MAX], tip[PATH_MAX], tlp[PATH_MAX];
    uint8_t px[2 * 3 * 4 * 3];
    for (int i = 0; i < 72; i++)
        px[i] = (uint8_t)(i * 3);
    const uint8_t labels[2] = {11, 4};
    write_idx(tmp(ip, "rgb-images.idx"), tmp(lp, "rgb-labels.idx"), px, 2, 3, 4, 3, labels);
    write_idx(tmp(tip, "rgb-test-images.idx"), tmp(tlp, "rgb-test-labels.idx"), px, 2, 3, 4, 3,
              labels);
    lenet_dataset ds;
    lenet_error err = {""};
    ck_assert_msg(lenet_load_idx(ip, lp, 12, &ds, &err) == 0, "%s", err.msg);
    ck_assert(ds.count == 2 && ds.rows == 3 && ds.cols == 4 && ds.channels == 3);
    ck_assert_mem_eq(ds.images, px, 72);
    ck_assert_int_eq(ds.n_classes, 12);
    lenet_free_dataset(&ds);
    ck_assert_int_eq(lenet_load_idx(ip, lp, 10, &ds, &err), -1);
    ck_assert_msg(strstr(err.msg, "rgb-labels.idx: label 11 of record 0 is out of range: 10 "
                                  "classes (labels 0..9)"),
                  "%s", err.msg);

    lenet_data_request rq = {.train_images = ip, .train_labels = lp, .test_images = tip,
                             .test_labels = tlp, .h = 3, .w = 4, .c = 3, .classes = 12};
    lenet_dataset train, test;
    ck_assert_msg(lenet_load_data(&rq, &train, &test, &err) == 0, "%s", err.msg);
    char line[1024];
    lenet_describe_data(&train, &test, line, sizeof line);
    ck_assert_msg(strstr(line, "rgb-images.idx + ") &&
                      strstr(line, "rgb-test-images.idx (IDX, 2 train + 2 test, 3x4x3, 12 classes)"),
                  "%s", line);
    lenet_free_dataset(&train);
    lenet_free_dataset(&test);
    /* eval needs only the test files */
    lenet_data_request only_test = {.test_images = tip, .test_labels = tlp, .h = 3, .w = 4,
                                    .c = 3, .classes = 12};
    ck_assert_msg(lenet_load_data(&only_test, NULL, &test, &err) == 0, "%s", err.msg);
    lenet_free_dataset(&test);
    lenet_data_request gray = rq;
    gray.c = 1;
    EXPECT_LOAD_ERROR(&gray, 1, "rgb-images.idx: the training set has 3x4x3 images (IDX), but the "
                                "model takes 3x4x1");
    lenet_data_request missing = rq;
    missing.train_labels = NULL;
    EXPECT_LOAD_ERROR(&missing, 1, "--train-labels is missing");
    lenet_data_request both = rq;
    both.path = test_tmpdir();
    EXPECT_LOAD_ERROR(&both, 1, "are either-or");
}
END_TEST

START_TEST(test_where_the_data_is) {
    char empty[PATH_MAX];
    mkdirs(tmp(empty, "no-data-here"));
    lenet_data_request rq = {.path = "/nowhere/at/all", .h = 28, .w = 28, .c = 1, .classes = 10};
    EXPECT_LOAD_ERROR(&rq, 1, "--data /nowhere/at/all: No such file or directory");
    rq.path = empty;
    EXPECT_LOAD_ERROR(&rq, 1, "no-data-here: no data found: expected IDX files");
    /* a LENETC_DATA that does not exist: an error, not another directory */
    const char *old = getenv("LENETC_DATA");
    char *saved = old ? strdup(old) : NULL;
    setenv("LENETC_DATA", "/nowhere", 1);
    rq.path = NULL;
    lenet_dataset tr, te;
    lenet_error err = {""};
    int rc = lenet_load_data(&rq, &tr, &te, &err);
    int rc_mnist = lenet_load_mnist(NULL, "t10k", &te, &err);
    if (saved)
        setenv("LENETC_DATA", saved, 1);
    else
        unsetenv("LENETC_DATA");
    free(saved);
    ck_assert_int_eq(rc, -1);
    ck_assert_int_eq(rc_mnist, -1);
    ck_assert_msg(strstr(err.msg, "LENETC_DATA=/nowhere: No such file or directory"), "%s",
                  err.msg);
}
END_TEST

/* ---- tiles of three channels ---------------------------------------------- */

START_TEST(test_tile_channels) {
    /* 2 images of 2x2x3, padded by 1: in[c][y][x][lane], 0 (scaled) around */
    lenet_model m = {.data_h = 2, .data_w = 2, .data_c = 3, .pad = 1, .scale_lo = 0,
                     .scale_hi = 255, .tile = 3};
    uint8_t images[2 * 12];
    for (int i = 0; i < 24; i++)
        images[i] = (uint8_t)(i + 1);
    uint8_t labels[2] = {0, 1};
    lenet_dataset ds = {.count = 2, .rows = 2, .cols = 2, .channels = 3, .images = images,
                        .labels = labels};
    float acts[3 * 4 * 4 * 3];
    int idx[2] = {1, 0};
    lenet_load_tile(&m, &ds, idx, 2, acts);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 4; x++)
                for (int b = 0; b < 3; b++) {
                    const bool in = y >= 1 && y <= 2 && x >= 1 && x <= 2 && b < 2;
                    const int img = b == 0 ? 1 : 0;
                    const float want =
                        in ? images[img * 12 + ((y - 1) * 2 + (x - 1)) * 3 + c] : 0;
                    ck_assert_float_eq(acts[((c * 4 + y) * 4 + x) * 3 + b], want);
                }
}
END_TEST

/* ---- end to end: both paths --------------------------------------------- */

static uint32_t lcg(uint32_t *s) { return (*s = *s * 1664525u + 1013904223u) >> 8; }

/* RGB folders of 3 classes told apart by colour and place, noisy, 10x10
 * PNGs for an 8x8x3 model (resized); 120 train and 30 test a class. */
static void make_rgb_set(const char *dir) {
    rmtree(dir);
    static const char *cls[3] = {"blue", "green", "red"};
    char p[PATH_MAX];
    uint32_t s = 7;
    uint8_t px[10 * 10 * 3];
    for (int part = 0; part < 2; part++)
        for (int k = 0; k < 3; k++) {
            snprintf(p, sizeof p, "%s/%s/%s", dir, part ? "test" : "train", cls[k]);
            mkdirs(p);
            for (int i = 0; i < (part ? 30 : 120); i++) {
                for (int j = 0; j < 300; j++)
                    px[j] = (uint8_t)(lcg(&s) % 120);
                const int ch = 2 - k, x0 = (int)(lcg(&s) % 6), y0 = (int)(lcg(&s) % 6);
                for (int y = y0; y < y0 + 4; y++)
                    for (int x = x0; x < x0 + 4; x++)
                        px[(y * 10 + x) * 3 + ch] = (uint8_t)(180 + lcg(&s) % 76);
                snprintf(p, sizeof p, "%s/%s/%s/%03d.png", dir, part ? "test" : "train", cls[k], i);
                test_write_png(p, px, 10, 10, 3);
            }
        }
}

/* IDX [N, 6, 6, 1] of 12 classes: class k lights pixel k (of the first 12)
 * over noise; 600 train, 120 test. */
static void make_12_class_set(const char *dir) {
    rmtree(dir);
    mkdirs(dir);
    uint32_t s = 11;
    static const int counts[2] = {600, 120};
    static const char *names[2][2] = {{"train-images-idx3-ubyte", "train-labels-idx1-ubyte"},
                                      {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}};
    for (int part = 0; part < 2; part++) {
        const int n = counts[part];
        uint8_t *px = malloc((size_t)n * 36), *lb = malloc((size_t)n);
        for (int i = 0; i < n; i++) {
            lb[i] = (uint8_t)(i % 12);
            for (int j = 0; j < 36; j++)
                px[i * 36 + j] = (uint8_t)(lcg(&s) % 100);
            px[i * 36 + lb[i] * 2] = 255;
        }
        char ip[PATH_MAX], lp[PATH_MAX];
        snprintf(ip, sizeof ip, "%s/%s", dir, names[part][0]);
        snprintf(lp, sizeof lp, "%s/%s", dir, names[part][1]);
        write_idx(ip, lp, px, n, 6, 6, 0, lb);
        free(px);
        free(lb);
    }
}

static void write_spec(const char *path, const char *text) { write_bytes(path, text, strlen(text)); }

/* The JIT and the emitted trainer on DIR with SPEC: both finish, name the
 * data and beat chance by far (test_acc >= floor); eval agrees. */
static void both_paths(const char *spec, const char *name, const char *data, const char *format,
                       double floor, const char *make_args) {
    static char out[1 << 16];
    char cmd[4096], gen[PATH_MAX], w[PATH_MAX];
    snprintf(gen, sizeof gen, "%s/gen_%s", test_tmpdir(), name);
    snprintf(w, sizeof w, "%s/%s_w.safetensors", test_tmpdir(), name);
    const char *cflags = getenv("LENETC_GEN_CFLAGS");
    snprintf(cmd, sizeof cmd, "./lenetc %s -o %s && make -B -s -C %s%s%s%s %s", spec, gen, gen,
             cflags ? " CFLAGS='" : "", cflags ? cflags : "", cflags ? "'" : "", make_args);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    for (int path = 0; path < 2; path++) {
        if (path == 0)
            snprintf(cmd, sizeof cmd, "./lenetc train %s --data %s --threads 2 --save %s", spec,
                     data, w);
        else
            snprintf(cmd, sizeof cmd, "%s/%s-train --data %s --threads 2", gen, name, data);
        ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s: %s", cmd, out);
        ck_assert_msg(strstr(out, "data: ") && strstr(out, format), "%s: %s", cmd, out);
        const char *last = strstr(out, "epoch 4/4 ");
        const char *acc = last ? strstr(last, "test_acc=") : NULL;
        ck_assert_msg(acc != NULL, "%s", out);
        const double test_acc = atof(acc + 9);
        ck_assert_msg(test_acc >= floor, "%s: test accuracy %.4f (floor %.2f)\n%s", cmd, test_acc,
                      floor, out);
    }
    snprintf(cmd, sizeof cmd, "./lenetc eval %s --weights %s --data %s", spec, w, data);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    ck_assert_msg(strstr(out, "test accuracy "), "%s", out);
}

START_TEST(test_rgb_folders_both_paths) {
    char dir[PATH_MAX], spec[PATH_MAX];
    make_rgb_set(tmp(dir, "e2e_rgb"));
    write_spec(tmp(spec, "rgb3.yaml"),
               "name: rgb3\ninput: {shape: [8, 8, 3]}\nlayers:\n"
               "  - conv: {filters: 8, kernel: 3}\n  - maxpool: {size: 2}\n  - relu\n"
               "  - flatten\n  - dense: {units: 3}\n"
               "train: {batch: 32, epochs: 4, optimizer: {name: adam, lr: 0.01}}\n");
    /* an emitted trainer reads them as the JIT does */
    both_paths(spec, "rgb3", dir, "(image folders, 360 train + 90 test, 8x8x3, 3 classes)", 0.9, "");
    static char out[1 << 14];
    char cmd[2048];
    /* eval names the classes */
    snprintf(cmd, sizeof cmd, "./lenetc eval %s --weights %s/rgb3_w.safetensors --data %s", spec,
             test_tmpdir(), dir);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    ck_assert_msg(strstr(out, "  blue\n") && strstr(out, "  green\n") && strstr(out, "  red\n"),
                  "%s", out);
}
END_TEST

START_TEST(test_12_classes_both_paths) {
    char dir[PATH_MAX], spec[PATH_MAX];
    make_12_class_set(tmp(dir, "e2e_12"));
    write_spec(tmp(spec, "twelve.yaml"),
               "name: twelve\ninput: {shape: [6, 6, 1]}\nlayers:\n"
               "  - flatten\n  - dense: {units: 32, activation: relu}\n  - dense: {units: 12}\n"
               "train: {batch: 32, epochs: 4, optimizer: {name: adam, lr: 0.01}}\n");
    both_paths(spec, "twelve", dir, "(IDX, 600 train + 120 test, 6x6x1, 12 classes)", 0.9, "");
    /* 12 rows in eval's report, and a 10-class model refuses the labels */
    static char out[1 << 14];
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "./lenetc eval %s --weights %s/twelve_w.safetensors --data %s",
             spec, test_tmpdir(), dir);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    ck_assert_msg(strstr(out, "\n   11  ") && strstr(out, "images\n"), "%s", out);
    write_spec(tmp(spec, "ten.yaml"), "name: ten\ninput: {shape: [6, 6, 1]}\nlayers:\n"
                                      "  - flatten\n  - dense: {units: 10}\n");
    snprintf(cmd, sizeof cmd, "./lenetc train %s --data %s", spec, dir);
    ck_assert_int_eq(run(cmd, out, sizeof out), 1);
    ck_assert_msg(strstr(out, "train-labels-idx1-ubyte: label 10 of record 10 is out of range: "
                              "10 classes (labels 0..9)"),
                  "%s", out);
}
END_TEST

/* Data errors through the command line: one line, exit 1, nothing trained. */
START_TEST(test_command_line_errors) {
    static char out[1 << 14];
    ck_assert_int_eq(run("./lenetc train models/lenet5.yaml --data /nowhere", out, sizeof out), 1);
    ck_assert_msg(strstr(out, "error: --data /nowhere: No such file or directory\n"), "%s", out);
    ck_assert_int_eq(run("LENETC_DATA=/nowhere ./lenetc train models/lenet5.yaml", out,
                         sizeof out), 1);
    ck_assert_msg(strstr(out, "error: LENETC_DATA=/nowhere: No such file or directory\n"), "%s",
                  out);
    ck_assert_int_eq(run("./lenetc train models/lenet5.yaml --limit 100000", out, sizeof out), 1);
    ck_assert_msg(strstr(out, "error: --limit 100000: the training set has only 60000 images\n"),
                  "%s", out);
}
END_TEST

Suite *formats_suite(void) {
    Suite *s = suite_create("formats");
    TCase *tc = tcase_create("formats");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_fit_pixels);
    tcase_add_test(tc, test_decode);
    tcase_add_test(tc, test_folders);
    tcase_add_test(tc, test_folder_errors);
    tcase_add_test(tc, test_folders_test_lacks_a_class);
    tcase_add_test(tc, test_folders_12_classes);
    tcase_add_test(tc, test_cifar);
    tcase_add_test(tc, test_idx_channels_and_files);
    tcase_add_test(tc, test_where_the_data_is);
    tcase_add_test(tc, test_tile_channels);
    tcase_add_test(tc, test_command_line_errors);
    suite_add_tcase(s, tc);
    TCase *slow = tcase_create("formats_e2e");
    tcase_set_tags(slow, "slow");
    tcase_set_timeout(slow, 600);
    tcase_add_test(slow, test_rgb_folders_both_paths);
    tcase_add_test(slow, test_12_classes_both_paths);
    suite_add_tcase(s, slow);
    return s;
}
