/* test_predict.c: `lenetc predict` and what deploys it.
 *
 * - reading: PNG alpha composited over white (black ink on a transparent
 *   page is ink) while the data-set decoder keeps black; JPEG; PGM;
 * - preparation: lenet_prepare_image (what predict classifies) against the
 *   export's NAME_prepare, byte for byte, on random images, also read back
 *   from PNG and PGM files: a gray 28x28 model (the golden export), a gray
 *   non-square padded one and an RGB one;
 * - the command: no ink gets no class, unreadable files are named and the
 *   rest still classified (exit 1), --json, usage errors;
 * - (slow) the README's deployment program, built against an export of a
 *   trained LeNet-5, classifies PGM files as predict does.
 */
#include <jansson.h>
#include <jpeglib.h>
#include <math.h>
#include <png.h>
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

/* A PNG of w x h pixels of c channels (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA). */
static void write_png(const char *path, const uint8_t *px, int w, int h, int c) {
    static const int types[] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    ck_assert(setjmp(png_jmpbuf(png)) == 0);
    png_init_io(png, f);
    png_set_compression_level(png, 0); /* hundreds of them: fast */
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

static void write_jpeg(const char *path, const uint8_t *px, int w, int h) {
    struct jpeg_compress_struct cinfo;
    struct jpeg_error_mgr jerr;
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    cinfo.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&cinfo);
    jpeg_stdio_dest(&cinfo, f);
    cinfo.image_width = (JDIMENSION)w;
    cinfo.image_height = (JDIMENSION)h;
    cinfo.input_components = 1;
    cinfo.in_color_space = JCS_GRAYSCALE;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, 100, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(px + (size_t)cinfo.next_scanline * w);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    ck_assert_int_eq(fclose(f), 0);
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

/* Runs a shell command: its exit status, its stdout (and stderr unless
 * quiet_stderr) in out. */
static int run_cmd(const char *cmd, char *out, size_t n, int with_stderr) {
    char full[4096];
    snprintf(full, sizeof full, "%s%s", cmd, with_stderr ? " 2>&1" : " 2>/dev/null");
    FILE *p = popen(full, "r");
    ck_assert(p != NULL);
    size_t len = fread(out, 1, n - 1, p);
    out[len] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int run(const char *cmd, char *out, size_t n) { return run_cmd(cmd, out, n, 1); }

/* Weights for a spec with no training: its initial values, seeded. */
static void init_weights(const char *spec, const char *path) {
    Model m;
    Diag d = {.file = spec};
    ck_assert_msg(spec_load_file(spec, &m, &d) == 0, "%s", d.msg);
    lenet_model *lm = model_descriptor(&m, 1);
    float *params = calloc((size_t)lm->n_params, sizeof *params);
    lenet_init_params(lm, params, 7);
    lenet_error err;
    ck_assert_msg(lenet_save_safetensors(lm, params, path, &err) == 0, "%s", err.msg);
    free(params);
    descriptor_free(lm);
    model_free(&m);
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

/* Black ink on a transparent page (what drawing programs save): predict
 * reads ink (alpha over white, then inverted), exactly the white-on-black
 * image; the data-set decoder still composites over black. */
START_TEST(test_read_alpha_over_white) {
    char p[512];
    uint8_t ink[784], ga[784 * 2], rgba[784 * 4];
    ring(ink);
    for (int i = 0; i < 784; i++) {
        ga[2 * i] = 0, ga[2 * i + 1] = ink[i]; /* black, as opaque as the stroke */
        rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = 0, rgba[4 * i + 3] = ink[i];
    }
    lenet_image img;
    lenet_error err = {""};
    uint8_t want[784], got[784];
    ck_assert_int_eq(lenet_prepare_image(ink, 28, 28, 1, 28, 28, 1, want), 0);
    ck_assert_mem_eq(want, ink, 784);
    for (int c = 2; c <= 4; c += 2) {
        write_png(tmp(p, c == 2 ? "transparent_ga.png" : "transparent_rgba.png"),
                  c == 2 ? ga : rgba, 28, 28, c);
        ck_assert_msg(lenet_read_image(p, &img, &err) == 0, "%s", err.msg);
        ck_assert(img.w == 28 && img.h == 28 && img.c == c - 1);
        for (int i = 0; i < 784; i++) /* over white: 255 - alpha */
            ck_assert_int_eq(img.px[i * img.c], 255 - ink[i]);
        ck_assert_int_eq(lenet_prepare_image(img.px, 28, 28, img.c, 28, 28, 1, got), 1);
        ck_assert_mem_eq(got, want, 784);
        free(img.px);
        /* the same pixels straight to the preparation: the same bytes */
        ck_assert_int_eq(lenet_prepare_image(c == 2 ? ga : rgba, 28, 28, c, 28, 28, 1, got), 1);
        ck_assert_mem_eq(got, want, 784);
        /* data sets: over black, as before (black ink on black: nothing) */
        ck_assert_msg(lenet_decode_image(p, &img, &err) == 0, "%s", err.msg);
        for (int i = 0; i < 784 * img.c; i++)
            ck_assert_int_eq(img.px[i], 0);
        free(img.px);
    }
    /* half-transparent gray over white: (v a + 255 (255 - a) + 127) / 255 */
    const uint8_t half[4] = {100, 128, 0, 0};
    write_png(tmp(p, "half.png"), half, 2, 1, 2);
    ck_assert_msg(lenet_read_image(p, &img, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(img.px[0], (100 * 128 + 255 * 127 + 127) / 255);
    ck_assert_int_eq(img.px[1], 255);
    free(img.px);

    /* JPEG (near the pixels: lossy), PGM P5 and P2 (exact) */
    write_jpeg(tmp(p, "ring.jpg"), ink, 28, 28);
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
    ck_assert_int_eq(lenet_prepare_image(dim, 40, 30, 1, 28, 28, 1, out), -1);
    for (int i = 0; i < 784; i++)
        ck_assert_int_eq(out[i], 0);
    uint8_t white[28 * 28];
    memset(white, 250, sizeof white); /* a blank page: inverted, then no ink */
    ck_assert_int_eq(lenet_prepare_image(white, 28, 28, 1, 28, 28, 1, out), -1);
    /* a 10x5 block of 255 in a 60x60 image: scaled so its longer side is
     * 20 pixels (20x10), centred: rows 4..23, columns 9..18 */
    uint8_t big[60 * 60] = {0};
    for (int y = 3; y < 13; y++)
        for (int x = 40; x < 45; x++)
            big[y * 60 + x] = 255;
    ck_assert_int_eq(lenet_prepare_image(big, 60, 60, 1, 28, 28, 1, out), 0);
    for (int y = 0; y < 28; y++)
        for (int x = 0; x < 28; x++)
            ck_assert_msg(out[y * 28 + x] == (y >= 4 && y < 24 && x >= 9 && x < 19 ? 255 : 0),
                          "(%d, %d) is %d", y, x, out[y * 28 + x]);
    /* bad arguments */
    ck_assert_int_eq(lenet_prepare_image(big, 0, 60, 1, 28, 28, 1, out), -2);
    ck_assert_int_eq(lenet_prepare_image(big, 60, 60, 5, 28, 28, 1, out), -2);
    ck_assert_int_eq(lenet_prepare_image(big, 60, 60, 1, 28, 28, 2, out), -2);
    /* a colour model: the data loader's resize, no inversion, no crop */
    uint8_t rgb[4 * 4 * 3], want[2 * 2 * 3];
    for (int i = 0; i < 48; i++)
        rgb[i] = (uint8_t)(200 + i);
    lenet_fit_pixels(rgb, 4, 4, 3, want, 2, 2, 3);
    ck_assert_int_eq(lenet_prepare_image(rgb, 4, 4, 3, 2, 2, 3, out), 0);
    ck_assert_mem_eq(out, want, 12);
}
END_TEST

/* ---- the export's NAME_prepare, byte for byte ----------------------------- */

static uint32_t lcg(uint32_t *s) { return (*s = *s * 1664525u + 1013904223u) >> 8; }

enum { MAX_SIDE = 300, N_IMAGES = 160 };

/* Image r of the set: sizes from 1x1 to 300x200 (the input's own among
 * them), 1 to 4 channels, a light or dark page (transparent, for some with
 * alpha) with noise, and up to three strokes of ink of the other tone, or
 * none. */
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
        const int tone = transparent ? (int)(lcg(s) % 40) : light ? (int)(lcg(s) % 60)
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
                          int C) {
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
        rcs[r] = (signed char)lenet_prepare_image(px, w, h, c, H, W, C, o);
        ck_assert_int_ge(rcs[r], -1);
        seen[rcs[r] + 1]++;
        /* predict's path: the file read back, then prepared */
        lenet_image img;
        lenet_error err;
        snprintf(p, sizeof p, "%s/img%d.%s", dir, r, c == 1 && r % 2 ? "pgm" : "png");
        if (c == 1 && r % 2)
            write_pgm(p, px, w, h, r % 4 == 3);
        else
            write_png(p, px, w, h, c);
        ck_assert_msg(lenet_read_image(p, &img, &err) == 0, "%s", err.msg);
        ck_assert_int_eq(lenet_prepare_image(img.px, img.w, img.h, img.c, H, W, C, got), rcs[r]);
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
                                                             bad[b][2], H, W, C, got);
        ck_assert_int_eq(rcs[N_IMAGES + b], -2);
    }
    ck_assert_int_eq(fclose(f), 0);
    /* the set has every outcome (a colour model only says 0) */
    if (C == 1)
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
 * shape (24 rows of 36, padded) and of a colour one (20 rows of 16, RGB). */
START_TEST(test_prepare_matches_export) {
    char dir[512], spec[512], w[512], cmd[2048];
    static char out[8192];
    if (_i == 0) {
        /* the golden files, copied so the driver builds beside them */
        snprintf(dir, sizeof dir, "%s/prep_tiny", test_tmpdir());
        snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s && cp generated/export/mnist_tiny/* %s",
                 dir, dir, dir);
        ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
        check_prepare(dir, "mnist_tiny", "MNIST_TINY", 28, 28, 1);
        return;
    }
    const int rgb = _i == 2;
    snprintf(dir, sizeof dir, "%s/prep_%s", test_tmpdir(), rgb ? "rgb" : "wide");
    snprintf(spec, sizeof spec, "%s/prep_%s.yaml", test_tmpdir(), rgb ? "rgb" : "wide");
    snprintf(w, sizeof w, "%s/prep_%s.safetensors", test_tmpdir(), rgb ? "rgb" : "wide");
    write_text(spec, rgb ? "name: rgb\ninput: {shape: [20, 16, 3]}\n"
                           "layers:\n  - flatten\n  - dense: {units: 4}\n"
                         : "name: wide\ninput: {shape: [24, 36, 1], pad: 2}\n"
                           "layers:\n  - flatten\n  - dense: {units: 3}\n");
    init_weights(spec, w);
    snprintf(cmd, sizeof cmd, "rm -rf %s && ./lenetc %s --weights %s --inference -o %s", dir,
             spec, w, dir);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    if (rgb)
        check_prepare(dir, "rgb", "RGB", 20, 16, 3);
    else
        check_prepare(dir, "wide", "WIDE", 24, 36, 1);
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
    init_weights(spec, tmp(w, "pred_tiny.safetensors"));
    uint8_t ink[784], rgba[784 * 4], blank[50 * 40];
    ring(ink);
    for (int i = 0; i < 784; i++)
        rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = 0, rgba[4 * i + 3] = ink[i];
    memset(blank, 255, sizeof blank);
    char f_ink[512], f_alpha[512], f_blank[512], f_missing[512], f_text[512], f_cut[512],
        f_jpeg[512];
    write_png(tmp(f_ink, "b_ink.png"), ink, 28, 28, 1);
    write_png(tmp(f_alpha, "b_alpha.png"), rgba, 28, 28, 4);
    write_pgm(tmp(f_blank, "b_blank.pgm"), blank, 50, 40, 0);
    tmp(f_missing, "b_missing.png");
    write_text(tmp(f_text, "b_text.png"), "not an image\n");
    write_png(tmp(f_cut, "b_cut.png"), rgba, 28, 28, 4);
    ck_assert_int_eq(truncate(f_cut, 60), 0);
    write_jpeg(tmp(f_jpeg, "b_ring.jpg"), ink, 28, 28);
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
    ck_assert_int_eq(run_cmd(cmd, out, sizeof out, 0), 1);
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
    ck_assert_int_eq(run_cmd(cmd, js, sizeof js, 0), 1);
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
    ck_assert_msg(strstr(out, "usage: lenetc predict SPEC.yaml --weights W.safetensors [--json] "
                              "IMAGE...\n") && strstr(out, "  --json "),
                  "%s", out);
    static const char *const bad[][2] = {
        {"./lenetc predict models/lenet5.yaml --weights w.safetensors",
         "lenetc predict SPEC.yaml: no images given\n"},
        {"./lenetc predict models/lenet5.yaml x.png",
         "lenetc predict SPEC.yaml: --weights is required\n"},
        {"./lenetc predict models/lenet5.yaml --classes roman",
         "lenetc predict SPEC.yaml: --classes takes digits or fashion, not 'roman'\n"},
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
    init_weights(spec, tmp(w, "two.safetensors"));
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
    init_weights(spec, tmp(w, "rgbm.safetensors"));
    uint8_t big[24 * 16 * 4], small[8 * 8 * 3];
    uint32_t s = 99;
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i % 4 == 3 ? 128 + lcg(&s) % 128 : lcg(&s) % 256);
    write_png(tmp(a, "rgba_big.png"), big, 24, 16, 4);
    /* what predict makes of it, written at the input's size: read as is */
    ck_assert_int_eq(lenet_prepare_image(big, 24, 16, 4, 8, 8, 3, small), 0);
    write_png(tmp(b, "rgb_small.png"), small, 8, 8, 3);
    snprintf(cmd, sizeof cmd, "./lenetc predict %s --weights %s %s %s", spec, w, a, b);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    const result ra = parse_line(out, a), rb = parse_line(out, b);
    ck_assert_msg(ra.k >= 0 && ra.k == rb.k && ra.p == rb.p && !ra.inverted, "%s", out);
}
END_TEST

Suite *predict_suite(void) {
    Suite *s = suite_create("predict");
    TCase *tc = tcase_create("predict");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_read_alpha_over_white);
    tcase_add_test(tc, test_prepare_rules);
    tcase_add_loop_test(tc, test_prepare_matches_export, 0, 3);
    tcase_add_test(tc, test_predict_batch);
    tcase_add_test(tc, test_predict_usage);
    tcase_add_test(tc, test_predict_rgb_model);
    suite_add_tcase(s, tc);
    return s;
}
