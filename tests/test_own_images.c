/* test_own_images.c: a newcomer's own image folders, end to end through the
 * commands (issue 19): each case a set the test draws, trained on for a few
 * seconds, then eval and predict on it.
 *
 * - black ink on white, 17 x 40 pixels (not the input's shape): predict
 *   prepares the files as the loader did, so its answers are eval's (the
 *   same confusion matrix; before, MNIST's preparation inverted and cropped
 *   them and predict was near chance);
 * - black ink on a transparent page: trains (before: composited over black,
 *   blank images, chance);
 * - a test/ folder without the first class: labels by name (before: every
 *   label shifted, accuracy 0);
 * - 10 scores for 3 classes: predict and eval name and list only the three;
 * - a set of blank images: a warning saying how many;
 * - only train/ with --val: trains, the last line reports validation.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests.h"

/* test paths are short: gcc's worst cases for them are not */
#pragma GCC diagnostic ignored "-Wformat-truncation"

enum { W = 17, H = 40, PER_CLASS = 40, TEST_PER_CLASS = 10 };
static const char *const classes[3] = {"bar", "cross", "ring"};

static uint32_t lcg(uint32_t *s) { return (*s = *s * 1664525u + 1013904223u) >> 8; }

static void mkdir_p(const char *path) {
    char cmd[1024], out[512];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", path);
    ck_assert_int_eq(run(cmd, out, sizeof out), 0);
}

/* Class k's shape, ink 1 and background 0, a little moved and thickened. */
static void draw(int k, uint32_t *s, float *ink) {
    const int cx = W / 2 + (int)(lcg(s) % 5) - 2, cy = H / 2 + (int)(lcg(s) % 9) - 4;
    const int t = 1 + (int)(lcg(s) % 2);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            const int dx = x - cx, dy = (y - cy) / 2; /* the image is tall */
            int on;
            if (k == 0)
                on = abs(dx) <= t && abs(y - cy) < 14;
            else if (k == 1)
                on = (abs(dx) <= t && abs(dy) < 7) || (abs(y - cy) <= t && abs(dx) < 7);
            else
                on = abs(dx * dx + dy * dy - 36) <= 6 * t;
            ink[y * W + x] = (float)on;
        }
}

/* DIR/PART/<class>/iN.png for the classes in `which` (a bit mask), drawn
 * black on white (gray PNG) or, with transparent, black on a transparent
 * page (RGBA); with blank, ink of the page's colour. */
static void write_set(const char *dir, const char *part, int n, unsigned which, int transparent,
                      int blank, uint32_t *s) {
    float ink[W * H];
    uint8_t px[W * H * 4];
    char p[1024];
    for (int k = 0; k < 3; k++) {
        if (!(which & 1u << k))
            continue;
        snprintf(p, sizeof p, "%s/%s/%s", dir, part, classes[k]);
        mkdir_p(p);
        for (int i = 0; i < n; i++) {
            draw(k, s, ink);
            for (int j = 0; j < W * H; j++) {
                const uint8_t v = (uint8_t)(255 - 255 * ink[j]);
                if (transparent) { /* black, as opaque as the ink */
                    px[4 * j] = px[4 * j + 1] = px[4 * j + 2] = blank ? 255 : 0;
                    px[4 * j + 3] = (uint8_t)(255 * ink[j]);
                } else {
                    px[j] = blank ? 255 : v;
                }
            }
            snprintf(p, sizeof p, "%s/%s/%s/i%d.png", dir, part, classes[k], i);
            test_write_png(p, px, W, H, transparent ? 4 : 1);
        }
    }
}

static const char *spec_path(void) {
    static char spec[512];
    snprintf(spec, sizeof spec, "%s/own.yaml", test_tmpdir());
    FILE *f = fopen(spec, "w");
    ck_assert_ptr_nonnull(f);
    /* 10 scores for 3 classes: the Keras user's "units: 10" habit */
    fputs("name: own\ninput: {shape: [20, 12, 1]}\nlayers:\n"
          "  - conv: {filters: 6, kernel: 3}\n  - relu\n  - maxpool: {size: 2}\n"
          "  - flatten\n  - dense: {units: 10}\n"
          "train: {epochs: 12, batch: 16, optimizer: {name: adam, lr: 0.005}}\n",
          f);
    ck_assert_int_eq(fclose(f), 0);
    return spec;
}

/* A fresh data set folder NAME under the test directory. */
static const char *fresh(const char *name) {
    static char dir[512];
    char cmd[1024], out[512];
    snprintf(dir, sizeof dir, "%s/%s", test_tmpdir(), name);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(run(cmd, out, sizeof out), 0);
    return dir;
}

/* eval's accuracy line, "test accuracy 0.9333 (28 of 30)": the fraction. */
static double eval_accuracy(const char *out) {
    const char *a = strstr(out, "test accuracy ");
    ck_assert_msg(a != NULL, "%s", out);
    return strtod(a + strlen("test accuracy "), NULL);
}

/* eval's per-class table (from its header to the confusion matrix) into
 * buf: the rows of the classes it lists. */
static const char *class_table(const char *ev, char *buf, size_t n) {
    const char *a = strstr(ev, "class  accuracy"), *b = strstr(ev, "\nconfusion");
    ck_assert_msg(a && b && b > a, "%s", ev);
    snprintf(buf, n, "%.*s", (int)(b - a), a);
    return buf;
}

/* Whether eval's table has a row for class k. */
static int has_row(const char *table, int k) {
    char row[16];
    snprintf(row, sizeof row, "\n%5d  ", k);
    return strstr(table, row) != NULL;
}

/* Trains the spec on dir into w, then checks eval on it: its accuracy at
 * least `least`, its per-class table the three classes by name and no
 * other; eval's stdout into ev. */
static void train_and_eval(const char *spec, const char *dir, const char *w, double least,
                           char *ev, size_t n) {
    char cmd[2048];
    static char out[16384];
    snprintf(cmd, sizeof cmd, "./lenetc train %s --data %s --threads 2 --quiet --save %s", spec,
             dir, w);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s\n%s", cmd, out);
    snprintf(cmd, sizeof cmd, "./lenetc eval %s --weights %s --data %s", spec, w, dir);
    ck_assert_msg(run_stdout(cmd, ev, n) == 0, "%s\n%s", cmd, ev);
    ck_assert_msg(eval_accuracy(ev) >= least, "%s", ev);
    /* the table: three rows, named; no empty classes past them */
    char table[4096];
    class_table(ev, table, sizeof table);
    for (int k = 0; k < 3; k++) {
        char row[64];
        snprintf(row, sizeof row, "\n%5d  ", k);
        const char *r = strstr(table, row);
        ck_assert_msg(r && strstr(r, classes[k]) && strstr(r, classes[k]) < strchr(r + 1, '\n'),
                      "class %d: %s", k, ev);
    }
    ck_assert_msg(!has_row(table, 3), "%s", ev);
}

/* predict --json on every test image of dir: the confusion matrix of its
 * answers (rows: the folder's class), and every answer named and among the
 * three classes. */
static void predict_confusion(const char *spec, const char *w, const char *dir, long conf[3][3]) {
    char cmd[8192], p[600];
    static char out[1 << 16];
    memset(conf, 0, sizeof(long) * 9);
    int n = snprintf(cmd, sizeof cmd, "./lenetc predict %s --weights %s --json", spec, w);
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < TEST_PER_CLASS; i++)
            n += snprintf(cmd + n, sizeof cmd - (size_t)n, " %s/test/%s/i%d.png", dir,
                          classes[k], i);
    ck_assert_msg(run_stdout(cmd, out, sizeof out) == 0, "%s", out);
    char *line = out;
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < TEST_PER_CLASS; i++) {
            char *end = strchr(line, '\n');
            ck_assert_ptr_nonnull(end);
            *end = '\0';
            json_t *o = json_loads(line, 0, NULL);
            ck_assert_msg(o != NULL, "%s", line);
            snprintf(p, sizeof p, "%s/test/%s/i%d.png", dir, classes[k], i);
            ck_assert_str_eq(json_string_value(json_object_get(o, "file")), p);
            const int c = (int)json_integer_value(json_object_get(o, "class"));
            ck_assert_msg(c >= 0 && c < 3, "%s", line);
            ck_assert_str_eq(json_string_value(json_object_get(o, "name")), classes[c]);
            ck_assert_int_eq(json_array_size(json_object_get(o, "probabilities")), 3);
            ck_assert_ptr_null(json_object_get(o, "inverted")); /* no MNIST preparation */
            conf[k][c]++;
            json_decref(o);
            line = end + 1;
        }
}

/* eval's confusion rows for the three classes. */
static void eval_confusion(const char *ev, long conf[3][3]) {
    const char *m = strstr(ev, "confusion (rows: true class, columns: predicted)\n");
    ck_assert_ptr_nonnull(m);
    m = strchr(m, '\n') + 1;
    m = strchr(m, '\n') + 1; /* the column numbers */
    for (int k = 0; k < 3; k++) {
        int row, used;
        ck_assert_int_eq(sscanf(m, "%d%n", &row, &used), 1);
        ck_assert_int_eq(row, k);
        m += used;
        for (int c = 0; c < 3; c++) {
            ck_assert_int_eq(sscanf(m, "%ld%n", &conf[k][c], &used), 1);
            m += used;
        }
        ck_assert_msg(*m == '\n', "more columns than the three classes: %s", ev);
        m++;
    }
}

/* predict's answers on dir's test images make eval's confusion matrix ev. */
static void expect_predict_is_eval(const char *spec, const char *w, const char *dir,
                                   const char *ev) {
    long by_eval[3][3], by_predict[3][3];
    eval_confusion(ev, by_eval);
    predict_confusion(spec, w, dir, by_predict);
    for (int k = 0; k < 3; k++)
        for (int c = 0; c < 3; c++)
            ck_assert_msg(by_eval[k][c] == by_predict[k][c],
                          "class %d predicted %d: eval %ld times, predict %ld\n%s", k, c,
                          by_eval[k][c], by_predict[k][c], ev);
}

/* Black on white, 17 x 40: predict gives eval's answers, and names them. */
START_TEST(test_predict_answers_as_eval) {
    uint32_t s = 1;
    const char *dir = fresh("own_ink");
    write_set(dir, "train", PER_CLASS, 7, 0, 0, &s);
    write_set(dir, "test", TEST_PER_CLASS, 7, 0, 0, &s);
    char w[600];
    static char ev[16384];
    snprintf(w, sizeof w, "%s/own_ink.safetensors", test_tmpdir());
    const char *spec = spec_path();
    train_and_eval(spec, dir, w, 0.9, ev, sizeof ev);
    expect_predict_is_eval(spec, w, dir, ev);
    /* the plain lines name the class; top lists only the three */
    char cmd[2048];
    static char out[4096];
    snprintf(cmd, sizeof cmd, "./lenetc predict %s --weights %s %s/test/ring/i0.png", spec, w, dir);
    ck_assert_msg(run_stdout(cmd, out, sizeof out) == 0, "%s", out);
    int best, t[3];
    double pb, pt[3];
    char name[32];
    const char *colon = strstr(out, ".png: ");
    ck_assert_msg(colon && sscanf(colon + 6, "%d (%lf) %31s  top: %d %lf %d %lf %d %lf", &best,
                                  &pb, name, &t[0], &pt[0], &t[1], &pt[1], &t[2], &pt[2]) == 9,
                  "%s", out);
    ck_assert_str_eq(name, classes[best]);
    for (int r = 0; r < 3; r++)
        ck_assert_msg(t[r] >= 0 && t[r] < 3, "%s", out);
    /* --prepare mnist, asked for: MNIST's way, which inverts these */
    snprintf(cmd, sizeof cmd, "./lenetc predict %s --weights %s --prepare mnist %s/test/ring/i0.png",
             spec, w, dir);
    ck_assert_msg(run_stdout(cmd, out, sizeof out) == 0, "%s", out);
    ck_assert_msg(strstr(out, "[inverted]"), "%s", out);
}
END_TEST

/* Black ink on a transparent page trains, and predict reads it as eval. */
START_TEST(test_transparent_ink_trains) {
    uint32_t s = 2;
    const char *dir = fresh("own_alpha");
    write_set(dir, "train", PER_CLASS, 7, 1, 0, &s);
    write_set(dir, "test", TEST_PER_CLASS, 7, 1, 0, &s);
    char w[600], cmd[2048];
    static char ev[16384], out[16384];
    snprintf(w, sizeof w, "%s/own_alpha.safetensors", test_tmpdir());
    const char *spec = spec_path();
    train_and_eval(spec, dir, w, 0.9, ev, sizeof ev);
    expect_predict_is_eval(spec, w, dir, ev);
    /* no blank images here: no warning */
    snprintf(cmd, sizeof cmd, "./lenetc eval %s --weights %s --data %s", spec, w, dir);
    ck_assert_int_eq(run(cmd, out, sizeof out), 0);
    ck_assert_msg(!strstr(out, "nearly constant"), "%s", out);
}
END_TEST

/* Ink the colour of its page: blank images, and a warning that counts them
 * (white ink on a transparent page is not one: it reads as white on black). */
START_TEST(test_blank_images_warned) {
    uint32_t s = 3;
    const char *dir = fresh("own_blank");
    write_set(dir, "train", 4, 7, 0, 1, &s);
    write_set(dir, "test", 2, 7, 1, 1, &s);
    char cmd[2048];
    static char out[16384];
    snprintf(cmd, sizeof cmd, "./lenetc train %s --data %s --epochs 1 --quiet", spec_path(), dir);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    char want[700];
    snprintf(want, sizeof want, "warning: %s/train: 12 of 12 images are nearly constant after "
             "decoding", dir);
    ck_assert_msg(strstr(out, want), "%s", out);
    snprintf(want, sizeof want, "%s/test: ", dir); /* the test set is drawn */
    ck_assert_msg(!strstr(out, want), "%s", out);
}
END_TEST

/* A test/ folder without the first class: eval still scores it by name;
 * and an unknown class is an error naming it. */
START_TEST(test_test_folder_lacks_first_class) {
    uint32_t s = 4;
    const char *dir = fresh("own_lack");
    write_set(dir, "train", PER_CLASS, 7, 0, 0, &s);
    write_set(dir, "test", TEST_PER_CLASS, 6, 0, 0, &s); /* cross and ring */
    char w[600], cmd[2048];
    static char out[16384];
    snprintf(w, sizeof w, "%s/own_lack.safetensors", test_tmpdir());
    const char *spec = spec_path();
    snprintf(cmd, sizeof cmd, "./lenetc train %s --data %s --threads 2 --save %s", spec, dir, w);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    const char *last = strstr(out, "epoch 12/12 ");
    ck_assert_msg(last && strstr(last, "test_acc="), "%s", out);
    ck_assert_msg(strtod(strstr(last, "test_acc=") + 9, NULL) >= 0.9, "%s", out);
    snprintf(cmd, sizeof cmd, "./lenetc eval %s --weights %s --data %s", spec, w, dir);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    ck_assert_msg(eval_accuracy(out) >= 0.9, "%s", out);
    char table[4096];
    class_table(out, table, sizeof table);
    ck_assert_msg(!has_row(table, 0) && has_row(table, 1) && has_row(table, 2),
                  "the per-class table lists the classes there are: %s", out);
    ck_assert_msg(!strstr(out, "warning"), "%s", out);
    /* a class the weights do not know */
    char p[700];
    snprintf(p, sizeof p, "%s/test/star", dir);
    mkdir_p(p);
    snprintf(p, sizeof p, "%s/test/star/x.png", dir);
    uint8_t px[W * H] = {0};
    test_write_png(p, px, W, H, 1);
    ck_assert_int_eq(run(cmd, out, sizeof out), 1);
    snprintf(p, sizeof p, "error: %s: class 'star' is not one of %s's classes (bar, cross, ring)",
             dir, w);
    ck_assert_msg(strstr(out, p), "%s", out);
}
END_TEST

/* Only train/: with --val it trains and reports validation; without, the
 * missing test/ is said. */
START_TEST(test_train_folder_only_with_val) {
    uint32_t s = 5;
    const char *dir = fresh("own_trainonly");
    write_set(dir, "train", PER_CLASS, 7, 0, 0, &s);
    char cmd[2048];
    static char out[16384];
    snprintf(cmd, sizeof cmd, "./lenetc train %s --data %s --epochs 3 --val 0.2", spec_path(), dir);
    ck_assert_msg(run_stdout(cmd, out, sizeof out) == 0, "%s", out);
    ck_assert_msg(strstr(out, "(image folders, 96 train, no test set, 20x12x1, 3 classes"), "%s",
                  out); /* 24 held out */
    ck_assert_msg(strstr(out, "train on 96 images, no test set;"), "%s", out);
    const char *last = strstr(out, "epoch 3/3 ");
    ck_assert_msg(last && strstr(last, " val_acc=") && !strstr(last, "test_acc"), "%s", out);
    snprintf(cmd, sizeof cmd, "./lenetc train %s --data %s --epochs 1", spec_path(), dir);
    ck_assert_int_eq(run(cmd, out, sizeof out), 1);
    ck_assert_msg(strstr(out, "/test: No such file or directory"), "%s", out);
    /* a step schedule is named in the first line beside augmentation (it
     * was left out whenever the spec augmented) */
    char spec[600];
    snprintf(spec, sizeof spec, "%s/own_augment.yaml", test_tmpdir());
    FILE *f = fopen(spec, "w");
    ck_assert_ptr_nonnull(f);
    fputs("name: own\ninput: {shape: [20, 12, 1]}\nlayers:\n  - flatten\n  - dense: {units: 3}\n"
          "train: {augment: {shift: 1}}\n",
          f);
    ck_assert_int_eq(fclose(f), 0);
    snprintf(cmd, sizeof cmd, "./lenetc train %s --data %s --epochs 1 --val 0.2 --schedule step",
             spec, dir);
    ck_assert_msg(run_stdout(cmd, out, sizeof out) == 0, "%s", out);
    ck_assert_msg(strstr(out, " step (x0.5 every 5 epochs), augment shift 1 "), "%s", out);
}
END_TEST

Suite *own_images_suite(void) {
    Suite *s = suite_create("own_images");
    TCase *tc = tcase_create("own_images");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_predict_answers_as_eval);
    tcase_add_test(tc, test_transparent_ink_trains);
    tcase_add_test(tc, test_blank_images_warned);
    tcase_add_test(tc, test_test_folder_lacks_first_class);
    tcase_add_test(tc, test_train_folder_only_with_val);
    suite_add_tcase(s, tc);
    return s;
}
