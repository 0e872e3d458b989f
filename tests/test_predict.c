/* test_predict.c: `lenetc predict` and what deploys it.
 *
 * - reading: PNG alpha composited by one rule for predict and the data
 *   sets (black ink on a transparent page is ink on white, white ink on
 *   one ink on black); JPEG; PGM;
 * - preparation: lenet_prepare_image (what predict classifies) against the
 *   export's NAME_prepare, byte for byte, on random images, also read back
 *   from PNG and PGM files: a gray 28x28 model (the golden export), a gray
 *   non-square padded one, both mnist and as-loaded, and an RGB one;
 * - the command: no ink gets no class, unreadable files are named and the
 *   rest still classified (exit 1), --json, usage errors;
 * - (slow) the README's deployment program, built against an export of a
 *   trained LeNet-5, classifies PGM files as predict does.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lenetc.h"
#include "tests.h"

/* test paths are short: gcc's worst cases for them are not */
#pragma GCC diagnostic ignored "-Wformat-truncation"

/* ---- files ---------------------------------------------------------------- */

static char *tmp(char *buf, const char *name) {
    snprintf(buf, 512, "%s/%s", test_tmpdir(), name);
    return buf;
}


/* A gray PGM: P5 (binary) or P2 (text, with a comment). */
static void write_pgm(const char *path, const uint8_t *px, int w, int h, int text) {
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "P%c\n%s%d %d\n255\n", text ? '2' : '5', text ? "# test\n" : "", w, h);
    if (text)
        for (int i = 0; i < w * h; i++)
            fprintf(f, "%d%c", px[i], i % w == w - 1 ? '\n' : ' ');
    else
        ck_assert_uint_eq(fwrite(px, 1, (size_t)w * h, f), (size_t)w * h);
    ck_assert_int_eq(fclose(f), 0);
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

/* ---- reading --------------------------------------------------------------- */

/* A 28x28 stroke: a ring, 255 on 0. */
static void ring(uint8_t *px) {
    for (int y = 0; y < 28; y++)
        for (int x = 0; x < 28; x++) {
            const int d = (y - 14) * (y - 14) + (x - 13) * (x - 13);
            px[y * 28 + x] = d >= 36 && d <= 64 ? 255 : d > 25 && d < 81 ? 120 : 0;
        }
}

/* Black ink on a transparent page (what drawing programs save) reads as
 * black ink on white, for predict and the data sets alike (the loader
 * composited over black, and such a set trained on blank images); white
 * ink on a transparent page as white on black. */
START_TEST(test_read_alpha_rule) {
    char p[512];
    uint8_t ink[784], ga[784 * 2], rgba[784 * 4];
    ring(ink);
    lenet_image img;
    lenet_error err = {""};
    uint8_t want[784], got[784];
    ck_assert_int_eq(lenet_prepare_image(ink, 28, 28, 1, 28, 28, 1, LENET_PREPARE_MNIST, want), 0);
    ck_assert_mem_eq(want, ink, 784);
    for (int tone = 0; tone <= 255; tone += 255) /* black ink, then white */
        for (int c = 2; c <= 4; c += 2) {
            for (int i = 0; i < 784; i++) {
                ga[2 * i] = (uint8_t)tone, ga[2 * i + 1] = ink[i]; /* as opaque as the stroke */
                rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = (uint8_t)tone;
                rgba[4 * i + 3] = ink[i];
            }
            test_write_png(tmp(p, c == 2 ? "transparent_ga.png" : "transparent_rgba.png"),
                           c == 2 ? ga : rgba, 28, 28, c);
            ck_assert_msg(lenet_read_image(p, &img, &err) == 0, "%s", err.msg);
            ck_assert(img.w == 28 && img.h == 28 && img.c == c - 1);
            for (int i = 0; i < 784; i++) /* black ink over white: 255 - alpha */
                ck_assert_int_eq(img.px[i * img.c], tone ? ink[i] : 255 - ink[i]);
            ck_assert_int_eq(
                lenet_prepare_image(img.px, 28, 28, img.c, 28, 28, 1, LENET_PREPARE_MNIST, got),
                tone ? 0 : 1);
            ck_assert_mem_eq(got, want, 784);
            free(img.px);
            /* the same pixels straight to the preparation: the same bytes */
            ck_assert_int_eq(lenet_prepare_image(c == 2 ? ga : rgba, 28, 28, c, 28, 28, 1,
                                                 LENET_PREPARE_MNIST, got),
                             tone ? 0 : 1);
            ck_assert_mem_eq(got, want, 784);
            /* the data sets' decoder: the same pixels as predict's reader */
            ck_assert_msg(lenet_decode_image(p, &img, &err) == 0, "%s", err.msg);
            for (int i = 0; i < 784; i++)
                ck_assert_int_eq(img.px[i * img.c], tone ? ink[i] : 255 - ink[i]);
            free(img.px);
        }
    /* the rule's edge: mean luma weighted by alpha above 127.5 is light */
    const uint8_t at_half[4] = {127, 255, 128, 255}, above[4] = {128, 255, 128, 255};
    ck_assert_int_eq(lenet_alpha_background(at_half, 2, 2), 255);
    ck_assert_int_eq(lenet_alpha_background(above, 2, 2), 0);
    const uint8_t nothing[4] = {255, 0, 255, 0}; /* all transparent: a page */
    ck_assert_int_eq(lenet_alpha_background(nothing, 2, 2), 255);
    ck_assert_int_eq(lenet_alpha_background(nothing, 4, 1), 255); /* no alpha */
    /* half-transparent gray over white: (v a + 255 (255 - a) + 127) / 255 */
    const uint8_t half[4] = {100, 128, 0, 0};
    test_write_png(tmp(p, "half.png"), half, 2, 1, 2);
    ck_assert_msg(lenet_read_image(p, &img, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(img.px[0], (100 * 128 + 255 * 127 + 127) / 255);
    ck_assert_int_eq(img.px[1], 255);
    free(img.px);

    /* JPEG (near the pixels: lossy), PGM P5 and P2 (exact) */
    test_write_jpeg(tmp(p, "ring.jpg"), ink, 28, 28, 1);
    ck_assert_msg(lenet_read_image(p, &img, &err) == 0, "%s", err.msg);
    ck_assert(img.w == 28 && img.h == 28 && img.c == 1);
    for (int i = 0; i < 784; i++)
        ck_assert_msg(abs(img.px[i] - ink[i]) <= 8, "pixel %d: %d for %d", i, img.px[i], ink[i]);
    free(img.px);
    for (int text = 0; text < 2; text++) {
        write_pgm(tmp(p, text ? "ring2.pgm" : "ring5.pgm"), ink, 28, 28, text);
        ck_assert_msg(lenet_read_image(p, &img, &err) == 0, "%s", err.msg);
        ck_assert(img.w == 28 && img.h == 28 && img.c == 1);
        ck_assert_mem_eq(img.px, ink, 784);
        free(img.px);
    }
    /* what is not an image: one line naming the file and why */
    write_text(tmp(p, "notes.txt"), "hello\n");
    ck_assert_int_eq(lenet_read_image(p, &img, &err), -1);
    ck_assert_msg(strstr(err.msg, "notes.txt: not a PNG, JPEG or PGM image"), "%s", err.msg);
    ck_assert_int_eq(lenet_read_image(tmp(p, "missing.png"), &img, &err), -1);
    ck_assert_msg(strstr(err.msg, "missing.png: cannot open: No such file"), "%s", err.msg);
    write_text(tmp(p, "short.pgm"), "P5\n4 4\n255\nab");
    ck_assert_int_eq(lenet_read_image(p, &img, &err), -1);
    ck_assert_msg(strstr(err.msg, "short.pgm: PGM data ends early"), "%s", err.msg);
}
END_TEST

/* The preparation's rules on hand-made images: no ink, the crop, scale and
 * centre, an image already of the input's size, RGB for a colour model. */
START_TEST(test_prepare_rules) {
    uint8_t out[28 * 28 * 3];
    /* nothing above 32 (after inversion): no ink, out all 0 */
    uint8_t dim[40 * 30];
    for (int i = 0; i < 40 * 30; i++)
        dim[i] = (uint8_t)(i % 33);
    memset(out, 7, sizeof out);
    ck_assert_int_eq(lenet_prepare_image(dim, 40, 30, 1, 28, 28, 1, LENET_PREPARE_MNIST, out), -1);
    for (int i = 0; i < 784; i++)
        ck_assert_int_eq(out[i], 0);
    uint8_t white[28 * 28];
    memset(white, 250, sizeof white); /* a blank page: inverted, then no ink */
    ck_assert_int_eq(lenet_prepare_image(white, 28, 28, 1, 28, 28, 1, LENET_PREPARE_MNIST, out), -1);
    /* a 10x5 block of 255 in a 60x60 image: scaled so its longer side is
     * 20 pixels (20x10), centred: rows 4..23, columns 9..18 */
    uint8_t big[60 * 60] = {0};
    for (int y = 3; y < 13; y++)
        for (int x = 40; x < 45; x++)
            big[y * 60 + x] = 255;
    ck_assert_int_eq(lenet_prepare_image(big, 60, 60, 1, 28, 28, 1, LENET_PREPARE_MNIST, out), 0);
    for (int y = 0; y < 28; y++)
        for (int x = 0; x < 28; x++)
            ck_assert_msg(out[y * 28 + x] == (y >= 4 && y < 24 && x >= 9 && x < 19 ? 255 : 0),
                          "(%d, %d) is %d", y, x, out[y * 28 + x]);
    /* bad arguments */
    /* as loaded: the same block stretched as the data loader stretches,
     * no crop, no inversion */
    uint8_t loaded[28 * 28];
    lenet_fit_pixels(big, 60, 60, 1, loaded, 28, 28, 1);
    ck_assert_int_eq(lenet_prepare_image(big, 60, 60, 1, 28, 28, 1, LENET_PREPARE_AS_LOADED, out),
                     0);
    ck_assert_mem_eq(out, loaded, 784);
    ck_assert_int_eq(lenet_prepare_image(white, 28, 28, 1, 28, 28, 1, LENET_PREPARE_AS_LOADED,
                                         out), 0); /* a blank page is a page */
    ck_assert_mem_eq(out, white, 784);
    /* bad arguments */
    const int mn = LENET_PREPARE_MNIST;
    ck_assert_int_eq(lenet_prepare_image(big, 0, 60, 1, 28, 28, 1, mn, out), -2);
    ck_assert_int_eq(lenet_prepare_image(big, 60, 60, 5, 28, 28, 1, mn, out), -2);
    ck_assert_int_eq(lenet_prepare_image(big, 60, 60, 1, 28, 28, 2, mn, out), -2);
    ck_assert_int_eq(lenet_prepare_image(big, 60, 60, 1, 28, 28, 3, mn, out), -2); /* gray only */
    /* a colour model: the data loader's resize, no inversion, no crop */
    uint8_t rgb[4 * 4 * 3], want[2 * 2 * 3];
    for (int i = 0; i < 48; i++)
        rgb[i] = (uint8_t)(200 + i);
    lenet_fit_pixels(rgb, 4, 4, 3, want, 2, 2, 3);
    ck_assert_int_eq(lenet_prepare_image(rgb, 4, 4, 3, 2, 2, 3, LENET_PREPARE_AS_LOADED, out), 0);
    ck_assert_mem_eq(out, want, 12);
    /* the default: from the weights' provenance */
    static lenet_meta meta;
    memset(&meta, 0, sizeof meta);
    ck_assert_int_eq(lenet_prepare_for(NULL, 1), LENET_PREPARE_MNIST);
    ck_assert_int_eq(lenet_prepare_for(&meta, 1), LENET_PREPARE_MNIST); /* says nothing */
    ck_assert_int_eq(lenet_prepare_for(&meta, 3), LENET_PREPARE_AS_LOADED);
    lenet_meta_set(&meta, "format", "pt"); /* safetensors' own: says nothing either */
    ck_assert_int_eq(lenet_prepare_for(&meta, 1), LENET_PREPARE_MNIST);
    lenet_meta_set(&meta, "format", "image folders");
    ck_assert_int_eq(lenet_prepare_for(&meta, 1), LENET_PREPARE_AS_LOADED);
    lenet_meta_set(&meta, "format", "CIFAR-10");
    ck_assert_int_eq(lenet_prepare_for(&meta, 1), LENET_PREPARE_AS_LOADED);
    lenet_meta_set(&meta, "format", "IDX");
    ck_assert_int_eq(lenet_prepare_for(&meta, 1), LENET_PREPARE_MNIST);
    ck_assert_int_eq(lenet_prepare_for(&meta, 3), LENET_PREPARE_AS_LOADED); /* IDX of RGB */
}
END_TEST

/* ---- the export's NAME_prepare, byte for byte ----------------------------- */

static uint32_t lcg(uint32_t *s) { return (*s = *s * 1664525u + 1013904223u) >> 8; }

enum { MAX_SIDE = 300, N_IMAGES = 160 };

/* Image r of the set: sizes from 1x1 to 300x200 (the input's own among
 * them), 1 to 4 channels, a light or dark page (transparent, for some with
 * alpha) with noise, and up to three strokes of ink of the other tone (on
 * a transparent page, dark or light ink), or none. */
static uint8_t *random_image(uint32_t *s, int r, int H, int W, int *w, int *h, int *c) {
    static const int sizes[][2] = {{28, 28}, {36, 24}, {100, 60}, {7, 5}, {1, 40}, {40, 1},
                                   {120, 90}, {24, 36}, {16, 20}, {1, 1}, {3, 90}, {29, 27}};
    const int k = r % 16;
    if (r == 6) /* once a large one */
        *w = 300, *h = 200;
    else if (k < 12)
        *w = sizes[k][0], *h = sizes[k][1];
    else if (k == 12)
        *w = W, *h = H;
    else
        *w = 1 + (int)(lcg(s) % 120), *h = 1 + (int)(lcg(s) % 120);
    *c = 1 + (int)(lcg(s) % 4);
    const int C = *c, alpha = C == 2 || C == 4, light = lcg(s) % 2;
    const int transparent = alpha && lcg(s) % 2; /* black ink on nothing */
    const int base = light ? 200 + (int)(lcg(s) % 56) : (int)(lcg(s) % 24);
    uint8_t *px = malloc((size_t)*w * *h * C);
    for (int i = 0; i < *w * *h; i++) {
        for (int ch = 0; ch < C - alpha; ch++) {
            const int v = base + (int)(lcg(s) % 17) - 8;
            px[i * C + ch] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
        if (alpha)
            px[i * C + C - 1] = (uint8_t)(transparent ? 0 : 255 - lcg(s) % 40);
    }
    const int strokes = (int)(lcg(s) % 4);
    for (int n = 0; n < strokes; n++) {
        const int x0 = (int)(lcg(s) % *w), y0 = (int)(lcg(s) % *h);
        const int x1 = x0 + (int)(lcg(s) % (*w - x0)), y1 = y0 + (int)(lcg(s) % (*h - y0));
        const int tone = transparent ? (light ? (int)(lcg(s) % 40) : 200 + (int)(lcg(s) % 56))
                         : light ? (int)(lcg(s) % 60)
                                 : 160 + (int)(lcg(s) % 96);
        for (int y = y0; y <= y1; y++)
            for (int x = x0; x <= x1; x++) {
                uint8_t *p = px + ((size_t)y * *w + x) * C;
                for (int ch = 0; ch < C - alpha; ch++)
                    p[ch] = (uint8_t)(tone + ch * 9 < 256 ? tone + ch * 9 : tone);
                if (alpha)
                    p[C - 1] = (uint8_t)(255 - lcg(s) % 100);
            }
    }
    return px;
}

/* The export in dir (name, NAME) built with a driver that prepares every
 * image of a file; the images r = 0..N_IMAGES through it and through
 * predict's own steps (from the pixels, and from PNG and PGM files of
 * them) must give the same return values and bytes. */
static void check_prepare(const char *dir, const char *name, const char *up, int H, int W,
                          int C, int prepare) {
    char drv[512], exe[512], images[512], prepared[512], cmd[4096], p[512];
    static char out[16384];
    snprintf(drv, sizeof drv, "%s/driver.c", dir);
    snprintf(exe, sizeof exe, "%s/prepare", dir);
    snprintf(images, sizeof images, "%s/images.bin", dir);
    snprintf(prepared, sizeof prepared, "%s/prepared.bin", dir);
    FILE *f = fopen(drv, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "#include <stdio.h>\n#include <string.h>\n#include \"%s.h\"\n"
            "static uint8_t px[%d * %d * 4];\n"
            "int main(int argc, char **argv) {\n"
            "    FILE *in = fopen(argv[1], \"rb\"), *out = fopen(argv[2], \"wb\");\n"
            "    int whc[3];\n"
            "    if (argc != 3 || !in || !out)\n        return 1;\n"
            "    while (fread(whc, sizeof whc, 1, in) == 1) {\n"
            "        uint8_t o[%s_PIXELS];\n"
            "        const size_t n = (size_t)whc[0] * whc[1] * whc[2];\n"
            "        if (n > sizeof px || fread(px, 1, n, in) != n)\n            return 1;\n"
            "        memset(o, 0xab, sizeof o); /* unwritten bytes would show */\n"
            "        signed char rc = (signed char)%s_prepare(px, whc[0], whc[1], whc[2], o);\n"
            "        fwrite(&rc, 1, 1, out);\n"
            "        fwrite(o, 1, sizeof o, out);\n"
            "    }\n"
            "    return fclose(out) != 0;\n"
            "}\n",
            name, MAX_SIDE, MAX_SIDE, up, name);
    ck_assert_int_eq(fclose(f), 0);
    /* plain C99 as a user builds it; under the sanitizers when the tests are */
    const char *san = getenv("LENETC_SANITIZE");
    snprintf(cmd, sizeof cmd,
             "cc -std=c99 -pedantic -Wall -Wextra -Werror %s -I%s -o %s %s %s/%s.c",
             san && !strcmp(san, "1") ? "-fsanitize=address,undefined -fno-sanitize-recover=all"
                                      : "",
             dir, exe, drv, dir, name);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s\n%s", cmd, out);

    const size_t pixels = (size_t)H * W * C;
    uint32_t seed = 12345;
    f = fopen(images, "wb");
    ck_assert_ptr_nonnull(f);
    uint8_t *want = malloc(pixels * N_IMAGES), *got = malloc(pixels);
    signed char rcs[N_IMAGES + 3];
    int seen[4] = {0}; /* how many returned -1, 0, 1 and -2 */
    for (int r = 0; r < N_IMAGES; r++) {
        int w, h, c;
        uint8_t *px = random_image(&seed, r, H, W, &w, &h, &c);
        int whc[3] = {w, h, c};
        fwrite(whc, sizeof whc, 1, f);
        fwrite(px, 1, (size_t)w * h * c, f);
        uint8_t *o = want + pixels * r;
        rcs[r] = (signed char)lenet_prepare_image(px, w, h, c, H, W, C, prepare, o);
        ck_assert_int_ge(rcs[r], -1);
        seen[rcs[r] + 1]++;
        /* predict's path: the file read back, then prepared */
        lenet_image img;
        lenet_error err;
        snprintf(p, sizeof p, "%s/img%d.%s", dir, r, c == 1 && r % 2 ? "pgm" : "png");
        if (c == 1 && r % 2)
            write_pgm(p, px, w, h, r % 4 == 3);
        else
            test_write_png(p, px, w, h, c);
        ck_assert_msg(lenet_read_image(p, &img, &err) == 0, "%s", err.msg);
        ck_assert_int_eq(lenet_prepare_image(img.px, img.w, img.h, img.c, H, W, C, prepare, got),
                         rcs[r]);
        ck_assert_msg(memcmp(got, o, pixels) == 0, "%s: read from the file, prepared otherwise",
                      p);
        free(img.px);
        free(px);
    }
    /* and what it refuses: a side of 0, five channels, a side too long */
    static const int bad[][3] = {{0, 5, 1}, {5, 5, 5}, {16385, 1, 1}};
    for (int b = 0; b < 3; b++) {
        fwrite(bad[b], sizeof bad[b], 1, f);
        uint8_t zeros[16385] = {0};
        fwrite(zeros, 1, (size_t)bad[b][0] * bad[b][1] * bad[b][2], f);
        rcs[N_IMAGES + b] = (signed char)lenet_prepare_image(zeros, bad[b][0], bad[b][1],
                                                             bad[b][2], H, W, C, prepare, got);
        ck_assert_int_eq(rcs[N_IMAGES + b], -2);
    }
    ck_assert_int_eq(fclose(f), 0);
    /* the set has every outcome (as loaded only says 0) */
    if (prepare == LENET_PREPARE_MNIST)
        ck_assert_msg(seen[0] > 5 && seen[1] > 20 && seen[2] > 20,
                      "no ink %d, as is %d, inverted %d", seen[0], seen[1], seen[2]);

    snprintf(cmd, sizeof cmd, "%s %s %s", exe, images, prepared);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s\n%s", cmd, out);
    f = fopen(prepared, "rb");
    ck_assert_ptr_nonnull(f);
    int differ = 0;
    for (int r = 0; r < N_IMAGES + 3; r++) {
        signed char rc;
        ck_assert_uint_eq(fread(&rc, 1, 1, f), 1);
        ck_assert_uint_eq(fread(got, 1, pixels, f), pixels);
        ck_assert_msg(rc == rcs[r], "%s image %d: %s_prepare says %d, predict %d", dir, r, name,
                      rc, rcs[r]);
        if (r < N_IMAGES && memcmp(got, want + pixels * r, pixels) != 0) {
            size_t i = 0;
            while (got[i] == want[pixels * r + i])
                i++;
            fprintf(stderr, "%s image %d: byte %zu is %d, predict's %d\n", dir, r, i, got[i],
                    want[pixels * r + i]);
            differ++;
        }
    }
    ck_assert_int_eq(fgetc(f), EOF);
    fclose(f);
    ck_assert_msg(differ == 0, "%s: %d of %d images prepared otherwise", dir, differ, N_IMAGES);
    free(want);
    free(got);
}

/* The golden export (28x28 gray), and exports of a gray model of another
 * shape (24 rows of 36, padded), both as MNIST's digits were made (the
 * default of weights that do not say) and as loaded, and of a colour one
 * (20 rows of 16, RGB: as loaded). */
START_TEST(test_prepare_matches_export) {
    char dir[512], spec[512], w[512], cmd[2048];
    static char out[8192];
    if (_i == 0) {
        /* the golden files, copied so the driver builds beside them */
        snprintf(dir, sizeof dir, "%s/prep_tiny", test_tmpdir());
        snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s && cp generated/export/mnist_tiny/* %s",
                 dir, dir, dir);
        ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
        check_prepare(dir, "mnist_tiny", "MNIST_TINY", 28, 28, 1, LENET_PREPARE_MNIST);
        return;
    }
    static const char *const kinds[] = {NULL, "wide", "rgb", "wide_loaded"};
    const int rgb = _i == 2, loaded = _i == 3;
    snprintf(dir, sizeof dir, "%s/prep_%s", test_tmpdir(), kinds[_i]);
    snprintf(spec, sizeof spec, "%s/prep_%s.yaml", test_tmpdir(), kinds[_i]);
    snprintf(w, sizeof w, "%s/prep_%s.safetensors", test_tmpdir(), kinds[_i]);
    write_text(spec, rgb ? "name: rgb\ninput: {shape: [20, 16, 3]}\n"
                           "layers:\n  - flatten\n  - dense: {units: 4}\n"
                         : "name: wide\ninput: {shape: [24, 36, 1], pad: 2}\n"
                           "layers:\n  - flatten\n  - dense: {units: 3}\n");
    test_init_weights(spec, w);
    snprintf(cmd, sizeof cmd, "rm -rf %s && ./lenetc %s --weights %s --inference%s -o %s", dir,
             spec, w, loaded ? " --prepare as-loaded" : "", dir);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    if (rgb)
        check_prepare(dir, "rgb", "RGB", 20, 16, 3, LENET_PREPARE_AS_LOADED);
    else
        check_prepare(dir, "wide", "WIDE", 24, 36, 1,
                      loaded ? LENET_PREPARE_AS_LOADED : LENET_PREPARE_MNIST);
    /* the header says which */
    snprintf(cmd, sizeof cmd, "grep -c 'lenetc predict --prepare %s' %s/%s.h",
             rgb || loaded ? "as-loaded" : "mnist", dir, rgb ? "rgb" : "wide");
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
}
END_TEST

/* ---- the command --------------------------------------------------------- */

/* One image's result as predict prints it: class (-1: no ink), probability,
 * inverted. */
typedef struct {
    int k;
    double p;
    int inverted;
} result;

static result parse_line(const char *out, const char *file) {
    char head[600];
    snprintf(head, sizeof head, "%s: ", file);
    const char *line = strstr(out, head);
    ck_assert_msg(line != NULL, "no line for %s in:\n%s", file, out);
    line += strlen(head);
    result r = {-1, 0, 0};
    if (!strncmp(line, "no ink found\n", 13))
        return r;
    ck_assert_msg(sscanf(line, "%d (%lf)", &r.k, &r.p) == 2, "%s", line);
    const char *end = strchr(line, '\n');
    const char *inv = strstr(line, "[inverted]");
    r.inverted = inv && (!end || inv < end);
    return r;
}

/* predict on a batch: ink on a transparent page reads as the same ink on
 * black; a blank image gets no class; a missing file, a text file and a
 * cut PNG are each named with why, and the images after them are still
 * classified; the exit status is then 1. --json says the same, a line
 * each. */
START_TEST(test_predict_batch) {
    char spec[512], w[512], cmd[4096];
    static char out[65536], js[65536];
    snprintf(spec, sizeof spec, "tests/models/mnist_tiny.yaml");
    test_init_weights(spec, tmp(w, "pred_tiny.safetensors"));
    uint8_t ink[784], rgba[784 * 4], blank[50 * 40];
    ring(ink);
    for (int i = 0; i < 784; i++)
        rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = 0, rgba[4 * i + 3] = ink[i];
    memset(blank, 255, sizeof blank);
    char f_ink[512], f_alpha[512], f_blank[512], f_missing[512], f_text[512], f_cut[512],
        f_jpeg[512];
    test_write_png(tmp(f_ink, "b_ink.png"), ink, 28, 28, 1);
    test_write_png(tmp(f_alpha, "b_alpha.png"), rgba, 28, 28, 4);
    write_pgm(tmp(f_blank, "b_blank.pgm"), blank, 50, 40, 0);
    tmp(f_missing, "b_missing.png");
    write_text(tmp(f_text, "b_text.png"), "not an image\n");
    test_write_png(tmp(f_cut, "b_cut.png"), rgba, 28, 28, 4);
    ck_assert_int_eq(truncate(f_cut, 60), 0);
    test_write_jpeg(tmp(f_jpeg, "b_ring.jpg"), ink, 28, 28, 1);
    const char *files = "%s %s %s %s %s %s %s";
    char list[4096];
    snprintf(list, sizeof list, files, f_ink, f_missing, f_alpha, f_text, f_blank, f_cut, f_jpeg);

    snprintf(cmd, sizeof cmd, "./lenetc predict %s --weights %s %s", spec, w, list);
    ck_assert_int_eq(run(cmd, out, sizeof out), 1);
    const result a = parse_line(out, f_ink), b = parse_line(out, f_alpha);
    ck_assert_msg(a.k >= 0 && !a.inverted, "%s", out);
    ck_assert_msg(b.k == a.k && b.p == a.p && b.inverted, "%s", out);
    ck_assert_int_eq(parse_line(out, f_blank).k, -1);
    ck_assert_int_ge(parse_line(out, f_jpeg).k, 0);
    char want[1024];
    snprintf(want, sizeof want, "error: %s: cannot open: No such file or directory\n", f_missing);
    ck_assert_msg(strstr(out, want), "%s", out);
    snprintf(want, sizeof want, "error: %s: not a PNG, JPEG or PGM image\n", f_text);
    ck_assert_msg(strstr(out, want), "%s", out);
    snprintf(want, sizeof want, "error: %s: bad PNG: ", f_cut);
    ck_assert_msg(strstr(out, want), "%s", out);
    ck_assert_msg(strstr(out, "lenetc predict SPEC.yaml: 3 of 7 images could not be read\n"),
                  "%s", out);
    /* results on stdout, one line per readable image, in order */
    ck_assert_int_eq(run_stdout(cmd, out, sizeof out), 1);
    char *line = out;
    const char *order[] = {f_ink, f_alpha, f_blank, f_jpeg};
    for (int i = 0; i < 4; i++) {
        ck_assert_msg(!strncmp(line, order[i], strlen(order[i])), "line %d: %s", i, line);
        line = strchr(line, '\n') + 1;
    }
    ck_assert_str_eq(line, "");
    /* all readable: exit 0, a blank image included */
    snprintf(cmd, sizeof cmd, "./lenetc predict %s --weights %s %s %s", spec, w, f_ink, f_blank);
    ck_assert_int_eq(run(cmd, out, sizeof out), 0);

    /* --json: one object per image, in order, errors included */
    snprintf(cmd, sizeof cmd, "./lenetc predict %s --weights %s --json %s", spec, w, list);
    ck_assert_int_eq(run_stdout(cmd, js, sizeof js), 1);
    snprintf(cmd, sizeof cmd, "./lenetc predict %s --weights %s %s", spec, w, list);
    run(cmd, out, sizeof out);
    const char *names[] = {f_ink, f_missing, f_alpha, f_text, f_blank, f_cut, f_jpeg};
    line = js;
    for (int i = 0; i < 7; i++) {
        char *end = strchr(line, '\n');
        ck_assert_msg(end != NULL, "object %d missing in:\n%s", i, js);
        *end = '\0';
        json_error_t jerr;
        json_t *o = json_loads(line, 0, &jerr);
        ck_assert_msg(o != NULL, "%s: %s", line, jerr.text);
        ck_assert_str_eq(json_string_value(json_object_get(o, "file")), names[i]);
        const json_t *error = json_object_get(o, "error");
        if (i == 1 || i == 3 || i == 5) {
            ck_assert_msg(json_is_string(error) &&
                              strstr(json_string_value(error), names[i]) == json_string_value(error),
                          "%s", line);
        } else if (i == 4) {
            ck_assert_msg(json_is_null(json_object_get(o, "class")) &&
                              json_is_true(json_object_get(o, "no_ink")),
                          "%s", line);
        } else {
            const result r = parse_line(out, names[i]);
            ck_assert_msg(!error && json_integer_value(json_object_get(o, "class")) == r.k, "%s",
                          line);
            const double prob = json_real_value(json_object_get(o, "probability"));
            ck_assert_msg(fabs(prob - r.p) <= 0.00005, "%s", line);
            ck_assert_int_eq(json_is_true(json_object_get(o, "inverted")), r.inverted);
            const json_t *all = json_object_get(o, "probabilities");
            ck_assert_int_eq(json_array_size(all), 10);
            double sum = 0;
            for (size_t k = 0; k < 10; k++) {
                const double pk = json_real_value(json_array_get(all, k));
                ck_assert(pk <= prob);
                sum += pk;
            }
            ck_assert_double_eq_tol(sum, 1, 1e-4);
            ck_assert_double_eq(json_real_value(json_array_get(all, (size_t)r.k)), prob);
        }
        json_decref(o);
        line = end + 1;
    }
    ck_assert_str_eq(line, "");
}
END_TEST

/* predict's usage: --help exits 0; a mistake is one line and where the
 * help is; a 2-channel model is refused in a line. */
START_TEST(test_predict_usage) {
    static char out[8192];
    char w[512], cmd[2048], spec[512];
    ck_assert_int_eq(run("./lenetc predict models/lenet5.yaml --help", out, sizeof out), 0);
    ck_assert_msg(strstr(out, "usage: lenetc predict SPEC.yaml --weights W.safetensors "
                              "[--prepare P] [--json] IMAGE...\n") &&
                      strstr(out, "  --json ") && strstr(out, "  --prepare P "),
                  "%s", out);
    static const char *const bad[][2] = {
        {"./lenetc predict models/lenet5.yaml --weights w.safetensors",
         "lenetc predict SPEC.yaml: no images given\n"},
        {"./lenetc predict models/lenet5.yaml x.png",
         "lenetc predict SPEC.yaml: --weights is required\n"},
        {"./lenetc predict models/lenet5.yaml --classes roman",
         "lenetc predict SPEC.yaml: --classes takes digits or fashion, not 'roman'\n"},
        {"./lenetc predict models/lenet5.yaml --prepare keras",
         "lenetc predict SPEC.yaml: --prepare takes mnist or as-loaded, not 'keras'\n"},
        {"./lenetc predict models/lenet5.yaml --weights w x.png --json y.png",
         "lenetc predict SPEC.yaml: options go before the images\n"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(run(bad[i][0], out, sizeof out) == 2, "%s: %s", bad[i][0], out);
        char want[512];
        snprintf(want, sizeof want, "%stry 'lenetc predict --help'\n", bad[i][1]);
        ck_assert_str_eq(out, want);
    }
    snprintf(spec, sizeof spec, "%s/two.yaml", test_tmpdir());
    write_text(spec, "name: two\ninput: {shape: [8, 8, 2]}\nlayers:\n  - flatten\n"
                     "  - dense: {units: 3}\n");
    test_init_weights(spec, tmp(w, "two.safetensors"));
    snprintf(cmd, sizeof cmd, "./lenetc predict %s --weights %s x.png", spec, w);
    ck_assert_int_eq(run(cmd, out, sizeof out), 1);
    ck_assert_str_eq(out, "lenetc predict SPEC.yaml: two takes 2-channel images; predict reads "
                          "gray or RGB ones\n");
}
END_TEST

/* A colour model classifies an RGB image as it classifies the pixels its
 * data loader makes of it, alpha over white. */
START_TEST(test_predict_rgb_model) {
    static char out[8192];
    char spec[512], w[512], cmd[2048], a[512], b[512];
    snprintf(spec, sizeof spec, "%s/rgb_model.yaml", test_tmpdir());
    write_text(spec, "name: rgbm\ninput: {shape: [8, 8, 3]}\nlayers:\n  - flatten\n"
                     "  - dense: {units: 5}\n");
    test_init_weights(spec, tmp(w, "rgbm.safetensors"));
    uint8_t big[24 * 16 * 4], small[8 * 8 * 3];
    uint32_t s = 99;
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i % 4 == 3 ? 128 + lcg(&s) % 128 : lcg(&s) % 256);
    test_write_png(tmp(a, "rgba_big.png"), big, 24, 16, 4);
    /* what predict makes of it, written at the input's size: read as is */
    ck_assert_int_eq(lenet_prepare_image(big, 24, 16, 4, 8, 8, 3, LENET_PREPARE_AS_LOADED, small), 0);
    test_write_png(tmp(b, "rgb_small.png"), small, 8, 8, 3);
    snprintf(cmd, sizeof cmd, "./lenetc predict %s --weights %s %s %s", spec, w, a, b);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    const result ra = parse_line(out, a), rb = parse_line(out, b);
    ck_assert_msg(ra.k >= 0 && ra.k == rb.k && ra.p == rb.p && !ra.inverted, "%s", out);
    /* MNIST's preparation is a gray one */
    snprintf(cmd, sizeof cmd, "./lenetc predict %s --weights %s --prepare mnist %s", spec, w, a);
    ck_assert_int_eq(run(cmd, out, sizeof out), 2);
    ck_assert_str_eq(out, "lenetc predict SPEC.yaml: --prepare mnist is for 1-channel models; "
                          "rgbm takes 3 channels\ntry 'lenetc predict --help'\n");
}
END_TEST

/* ---- deployment (slow: trains on MNIST) ---------------------------------- */

/* README's deployment program is examples/classify.c, verbatim; built with
 * the export of a briefly trained LeNet-5 it classifies PGM files of t10k
 * digits (as they are, inverted, enlarged on a larger page, moved) as
 * `lenetc predict` does, and finds no ink on a blank page as it does; built
 * with the int8 export, the same program finds no ink exactly there and
 * answers as predict on all but at most 2 of the 48 pages. */
START_TEST(test_readme_deployment_program) {
    char *readme = test_slurp("README.md"), *prog = test_slurp("examples/classify.c");
    ck_assert_msg(strstr(readme, prog) != NULL,
                  "README.md does not hold examples/classify.c verbatim: copy it into the "
                  "Deployment section");
    free(readme);
    free(prog);

    char w[512], dir[512], cmd[8192], path[512];
    static char out[65536], one[1024];
    snprintf(w, sizeof w, "%s/deploy_w.safetensors", test_tmpdir());
    snprintf(dir, sizeof dir, "%s/deploy", test_tmpdir());
    snprintf(cmd, sizeof cmd,
             "./lenetc train models/lenet5.yaml --limit 6000 --epochs 1 --quiet --save %s && "
             "rm -rf %s && ./lenetc models/lenet5.yaml --weights %s --inference -o %s && "
             "cc -std=c99 -O2 -pedantic -Wall -Wextra -Werror -I%s -o %s/classify "
             "examples/classify.c %s/lenet5.c && "
             "./lenetc models/lenet5.yaml --weights %s --inference --int8 -o %s/int8 && "
             "cc -std=c99 -O2 -pedantic -Wall -Wextra -Werror -I%s/int8 -o %s/classify8 "
             "examples/classify.c %s/int8/lenet5.c",
             w, dir, w, dir, dir, dir, dir, w, dir, dir, dir, dir);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);

    lenet_dataset test;
    lenet_error err;
    ck_assert_msg(lenet_load_mnist(NULL, "t10k", &test, &err) == 0, "%s", err.msg);
    enum { N = 12, FORMS = 4 };
    int len = snprintf(cmd, sizeof cmd, "./lenetc predict models/lenet5.yaml --weights %s", w);
    char files[N * FORMS + 1][512];
    for (int i = 0; i < N; i++) {
        const uint8_t *img = test.images + 784 * i;
        for (int form = 0; form < FORMS; form++) {
            /* 0: as is; 1: inverted; 2: 3x, inverted, on a 100x90 page;
             * 3: 2x, moved to a corner of a 70x60 page */
            static const int pw[] = {28, 28, 100, 70}, ph[] = {28, 28, 90, 60};
            static const int zoom[] = {1, 1, 3, 2}, dx[] = {0, 0, 5, 10}, dy[] = {0, 0, 3, 0};
            const int W = pw[form], H = ph[form], z = zoom[form], inv = form == 1 || form == 2;
            uint8_t *page = malloc((size_t)W * H);
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) {
                    const int sy = (y - dy[form]) / z, sx = (x - dx[form]) / z;
                    const int in = y >= dy[form] && x >= dx[form] && sy < 28 && sx < 28;
                    const int v = in ? img[sy * 28 + sx] : 0;
                    page[y * W + x] = (uint8_t)(inv ? 255 - v : v);
                }
            snprintf(files[i * FORMS + form], 512, "%s/d%d-%d.pgm", dir, i, form);
            write_pgm(files[i * FORMS + form], page, W, H, 0);
            free(page);
            len += snprintf(cmd + len, sizeof cmd - len, " %s", files[i * FORMS + form]);
        }
    }
    uint8_t blank[40 * 30];
    memset(blank, 240, sizeof blank);
    snprintf(files[N * FORMS], 512, "%s/blank.pgm", dir);
    write_pgm(files[N * FORMS], blank, 40, 30, 0);
    snprintf(cmd + len, sizeof cmd - len, " %s", files[N * FORMS]);
    ck_assert_msg(run_stdout(cmd, out, sizeof out) == 0, "%s", out);

    int right = 0, int8_differs = 0;
    for (int f = 0; f <= N * FORMS; f++) {
        const result want = parse_line(out, files[f]);
        snprintf(path, sizeof path, "%s/classify %s", dir, files[f]);
        ck_assert_msg(run(path, one, sizeof one) == 0, "%s", one);
        const result got = parse_line(one, files[f]);
        ck_assert_msg(got.k == want.k && fabs(got.p - want.p) <= 0.00015,
                      "%s: the README's program says %s; predict: %d (%.4f)", files[f], one,
                      want.k, want.p);
        /* the same program on the int8 export: the same preparation (no ink
         * where predict finds none), the int8 model's class */
        snprintf(path, sizeof path, "%s/classify8 %s", dir, files[f]);
        ck_assert_msg(run(path, one, sizeof one) == 0, "%s", one);
        const result got8 = parse_line(one, files[f]);
        ck_assert_msg((got8.k == -1) == (want.k == -1), "%s: int8: %s; predict: %d", files[f],
                      one, want.k);
        int8_differs += got8.k != want.k;
        if (f < N * FORMS)
            right += want.k == test.labels[f / FORMS];
    }
    ck_assert_int_eq(parse_line(out, files[N * FORMS]).k, -1);
    ck_assert_msg(right >= N * FORMS * 3 / 4, "only %d of %d read right", right, N * FORMS);
    ck_assert_msg(int8_differs <= 2, "the int8 export differs from predict on %d of %d",
                  int8_differs, N * FORMS);
    lenet_free_dataset(&test);
}
END_TEST

/* ---- tools/lenetc_torch.py (installed as lenetc-torch) ------------------- */

/* The torch model's input stage (pad with pixel 0, then lenetc's table)
 * makes of raw uint8 images exactly the floats lenetc's input tile holds,
 * for LeCun's padded LeNet and for a spec of its own scale. */
START_TEST(test_torch_input_stage) {
    if (!test_torch("predict: the lenetc-torch checks"))
        return;
    static const char *const specs[] = {"models/lenet5-classic.yaml", NULL};
    char spec[512], raw[512], got_path[512], cmd[2048];
    static char out[8192];
    snprintf(spec, sizeof spec, "%s/scaled.yaml", test_tmpdir());
    write_text(spec, "name: scaled\ninput: {shape: [9, 7, 1], pad: 1, scale: [0.1, 0.7]}\n"
                     "layers:\n  - flatten\n  - dense: {units: 3}\n");
    const char *path = _i == 0 ? specs[0] : spec;
    Model m;
    Diag d = {.file = path};
    ck_assert_msg(test_load_spec(path, &m, &d) == 0, "%s", d.msg);
    lenet_model *lm = model_descriptor(&m, 16);
    const int H = lm->data_h, W = lm->data_w, P = lm->pad, N = 16;
    const int Hp = H + 2 * P, Wp = W + 2 * P;
    uint8_t *images = malloc((size_t)N * H * W), labels[16] = {0};
    for (int i = 0; i < N * H * W; i++)
        images[i] = (uint8_t)(i * 7 + i / 13); /* every value 0..255 */
    tmp(raw, "stage.raw");
    FILE *f = fopen(raw, "wb");
    ck_assert_ptr_nonnull(f);
    fwrite(images, 1, (size_t)N * H * W, f);
    ck_assert_int_eq(fclose(f), 0);
    tmp(got_path, "stage.f32");
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c \"import sys, numpy as np, torch; sys.path.insert(0, 'tools'); "
             "import lenetc_torch as lt; m, inp = lt.build('%s'); "
             "x = torch.from_numpy(np.fromfile('%s', np.uint8).reshape(%d, 1, %d, %d)); "
             "stage = [s for n, s in m.named_children() if n.startswith('input_')]; "
             "[x := s(x) for s in stage]; x.numpy().astype('<f4').tofile('%s'); "
             "print(len(stage), x.dtype)\"",
             path, raw, N, H, W, got_path);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    ck_assert_str_eq(out, P ? "2 torch.float32\n" : "1 torch.float32\n");
    /* lenetc's tile: in[c][y][x][lane] */
    lenet_dataset ds = {.count = N, .rows = H, .cols = W, .channels = 1, .images = images,
                        .labels = labels};
    int idx[16];
    for (int i = 0; i < N; i++)
        idx[i] = i;
    float *acts = calloc(lm->act_floats, sizeof *acts);
    lenet_load_tile(lm, &ds, idx, N, acts);
    float *got = malloc(sizeof *got * (size_t)N * Hp * Wp);
    f = fopen(got_path, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fread(got, sizeof *got, (size_t)N * Hp * Wp, f), (size_t)N * Hp * Wp);
    fclose(f);
    for (int n = 0; n < N; n++)
        for (int y = 0; y < Hp; y++)
            for (int x = 0; x < Wp; x++) {
                const float a = acts[((size_t)y * Wp + x) * 16 + n];
                const float b = got[((size_t)n * Hp + y) * Wp + x];
                ck_assert_msg(memcmp(&a, &b, sizeof a) == 0, "%s image %d (%d, %d): lenetc %.9g, "
                              "torch %.9g", path, n, y, x, a, b);
            }
    free(acts);
    free(got);
    free(images);
    descriptor_free(lm);
    model_free(&m);
}
END_TEST

/* Its mistakes are one line each, never a traceback: a bad spec, a missing
 * file, weights of another shape or names, a file that is not weights, a
 * wrong command line; cut short by `head`, it ends quietly. */
START_TEST(test_torch_tool_errors) {
    if (!test_torch("predict: the lenetc-torch checks"))
        return;
    static char out[16384];
    char bad[512], tiny[512], classic[512], pt[512], text[512], cmd[4096], err[512];
    write_text(tmp(bad, "torch_bad.yaml"),
               "name: bad\ninput: {shape: [28, 28, 1]}\nlayers:\n  - conv: {filters: 6, kernal: 5}\n");
    test_init_weights("tests/models/mnist_tiny.yaml", tmp(tiny, "torch_tiny.safetensors"));
    test_init_weights("models/lenet5-classic.yaml", tmp(classic, "torch_classic.safetensors"));
    write_text(tmp(text, "torch_text.pt"), "not a pickle\n");
    tmp(pt, "torch_out.pt");
    const char *tool = "/usr/bin/python3 tools/lenetc_torch.py";
    const struct {
        const char *args, *want;
        int rc;
    } cases[] = {
        {"to-torch %s models/lenet5.yaml x.pt", NULL, 1}, /* filled below */
        {"to-torch models/lenet5.yaml %s/nothing.safetensors x.pt", NULL, 1},
        {"to-torch models/lenet5.yaml %s x.pt", NULL, 1},
        {"eval models/lenet5.yaml %s ../shared/mnist", NULL, 1},
        {"from-torch models/lenet5.yaml %s x.safetensors", NULL, 1},
        {"bogus", NULL, 2},
        {"eval models/lenet5.yaml", NULL, 2},
    };
    char args[7][1024], want[7][1024];
    snprintf(args[0], 1024, cases[0].args, bad);
    snprintf(want[0], 1024, "lenetc_torch.py: %s:4:24: error: unknown key 'kernal' in conv layer "
             "(expected name, filters, kernel, stride, padding, activation, alpha, use_bias)\n",
             bad);
    snprintf(args[1], 1024, cases[1].args, test_tmpdir());
    snprintf(want[1], 1024, "lenetc_torch.py: %s/nothing.safetensors: cannot open: No such file "
             "or directory\n", test_tmpdir());
    snprintf(args[2], 1024, cases[2].args, tiny);
    snprintf(want[2], 1024, "lenetc_torch.py: %s: does not fit the model: missing conv1.weight, "
             "conv1.bias, conv2.weight, conv2.bias, dense2.weight, dense2.bias, dense3.weight, "
             "dense3.bias; dense1.weight is 10x16, the model's is 120x400; dense1.bias is 10, "
             "the model's is 120\n", tiny);
    snprintf(args[3], 1024, cases[3].args, classic);
    snprintf(want[3], 1024, "lenetc_torch.py: %s: does not fit the model: conv1.weight is "
             "6x1x5x5, the model's is 6x1x3x3; conv2.weight is 16x6x5x5, the model's is 16x6x3x3; "
             "dense2.weight is 84x120, the model's is 60x120; dense2.bias is 84, the model's is "
             "60; dense3.weight is 10x84, the model's is 10x60\n", classic);
    snprintf(args[4], 1024, cases[4].args, text);
    snprintf(want[4], 1024, "lenetc_torch.py: %s: not a file torch.save wrote (UnpicklingError: "
             "invalid load key, 'n'.)\n", text);
    snprintf(args[5], 1024, "%s", cases[5].args);
    snprintf(want[5], 1024, "lenetc_torch.py: unknown command 'bogus'\n"
             "try 'lenetc_torch.py --help'\n");
    snprintf(args[6], 1024, "%s", cases[6].args);
    snprintf(want[6], 1024, "lenetc_torch.py: eval takes 3 or 4 arguments, not 1\n"
             "try 'lenetc_torch.py --help'\n");
    for (int i = 0; i < 7; i++) {
        snprintf(cmd, sizeof cmd, "%s %s", tool, args[i]);
        ck_assert_msg(run(cmd, out, sizeof out) == cases[i].rc, "%s: %s", cmd, out);
        ck_assert_str_eq(out, want[i]);
    }
    snprintf(cmd, sizeof cmd, "%s --help", tool);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    ck_assert_msg(strstr(out, "lenetc-torch to-torch SPEC.yaml W.safetensors OUT.pt"), "%s", out);

    /* into head: two lines, and nothing on stderr */
    snprintf(cmd, sizeof cmd, "%s to-torch models/lenet5-classic.yaml %s %s && "
             "%s eval models/lenet5-classic.yaml %s ../shared/mnist 2>%s | head -2",
             tool, classic, pt, tool, classic, tmp(err, "torch_head.err"));
    ck_assert_msg(run_stdout(cmd, out, sizeof out) == 0, "%s", out);
    double acc;
    int k;
    ck_assert_msg(sscanf(out, "accuracy %lf\n%d\n", &acc, &k) == 2 && strlen(out) < 24, "%s",
                  out);
    snprintf(cmd, sizeof cmd, "cat %s", err);
    ck_assert_int_eq(run(cmd, out, sizeof out), 0);
    ck_assert_str_eq(out, "");
}
END_TEST

/* make install puts it in PREFIX/bin as lenetc-torch, where it runs the
 * lenetc installed beside it; make uninstall takes it away. */
START_TEST(test_torch_tool_installed) {
    if (!test_torch("predict: the lenetc-torch checks"))
        return;
    static char out[16384];
    char dest[600], cmd[4096], bad[512];
    const char *san = getenv("LENETC_SANITIZE");
    snprintf(dest, sizeof dest, "%s/%s/torch_dest", getenv("PWD") ? getenv("PWD") : ".",
             test_tmpdir());
    snprintf(cmd, sizeof cmd, "rm -rf %s && make -s install DESTDIR=%s PREFIX=/usr SANITIZE=%s",
             dest, dest, san ? san : "");
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    write_text(tmp(bad, "installed_bad.yaml"), "name: x\ninput: {shape: [28, 28, 1]}\n");
    /* no $LENETC, no tree lenetc on PATH: it must find the installed one */
    snprintf(cmd, sizeof cmd, "cd / && env -u LENETC PATH=/usr/bin:/bin %s/usr/bin/lenetc-torch "
             "to-torch %s/%s w.safetensors x.pt",
             dest, getenv("PWD") ? getenv("PWD") : ".", bad);
    ck_assert_int_eq(run(cmd, out, sizeof out), 1);
    ck_assert_msg(!strncmp(out, "lenetc-torch: ", 14) && strstr(out, "installed_bad.yaml") &&
                      strchr(out, '\n') == out + strlen(out) - 1,
                  "%s", out);
    snprintf(cmd, sizeof cmd, "%s/usr/bin/lenetc-torch --help", dest);
    ck_assert_int_eq(run(cmd, out, sizeof out), 0);
    snprintf(cmd, sizeof cmd, "make -s uninstall DESTDIR=%s PREFIX=/usr SANITIZE=%s && "
             "test -z \"$(find %s -type f)\"", dest, san ? san : "", dest);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
}
END_TEST

Suite *predict_suite(void) {
    Suite *s = suite_create("predict");
    TCase *tc = tcase_create("predict");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_read_alpha_rule);
    tcase_add_test(tc, test_prepare_rules);
    tcase_add_loop_test(tc, test_prepare_matches_export, 0, 4);
    tcase_add_test(tc, test_predict_batch);
    tcase_add_test(tc, test_predict_usage);
    tcase_add_test(tc, test_predict_rgb_model);
    suite_add_tcase(s, tc);
    TCase *slow = tcase_create("predict_mnist");
    tcase_set_tags(slow, "slow");
    tcase_set_timeout(slow, 300);
    tcase_add_test(slow, test_readme_deployment_program);
    tcase_add_loop_test(slow, test_torch_input_stage, 0, 2);
    tcase_add_test(slow, test_torch_tool_errors);
    tcase_add_test(slow, test_torch_tool_installed);
    suite_add_tcase(s, slow);
    return s;
}
