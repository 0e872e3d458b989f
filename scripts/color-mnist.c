/* color-mnist.c: a colour image-folder data set made from MNIST or
 * Fashion-MNIST, for models with a 32x32x3 input.
 *
 *   build/color-mnist SRC OUT [--train N] [--test N] [--tint random|class] [--seed S]
 *
 * Each 28x28 image is centred in 32x32 (2 pixels of border) and coloured:
 * its ink (the pixel value, as coverage) in a foreground colour over a
 * background colour, written as an RGB PNG to OUT/train/<class>/NNNNN.png
 * and OUT/test/<class>/NNNNN.png. --tint random (the default) draws a bright
 * foreground hue and a dark background per image, so colour says nothing of
 * the class and a model must read shapes through three channels; --tint
 * class gives every class its own hue on black (colour alone tells the
 * class). Class folders are named by word (MNIST: zero ... nine;
 * Fashion-MNIST when SRC's path says fashion: its names), so the labels are
 * the folder names' sorted order, as for any image folders.
 *
 * OUT must not exist: the set is written to OUT.partial and renamed to OUT
 * at the end, so OUT is either absent or whole. Built by `make
 * build/color-mnist` against the runtime (IDX reading) and libpng.
 */
#include <errno.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lenet.h"

static const char *const digits[10] = {"zero", "one", "two",   "three", "four",
                                       "five", "six", "seven", "eight", "nine"};
static const char *const fashion[10] = {"t-shirt-top", "trouser", "pullover", "dress",
                                        "coat",        "sandal",  "shirt",    "sneaker",
                                        "bag",         "ankle-boot"};

static uint64_t next(uint64_t *s) { /* splitmix64 */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double uniform(uint64_t *s) { return (next(s) >> 11) * (1.0 / 9007199254740992.0); }

/* hue in [0, 1), full saturation and value -> rgb */
static void hue_rgb(double h, double rgb[3]) {
    for (int k = 0; k < 3; k++) { /* a trapezoid per channel, shifted by 120 degrees */
        const double x = fmod(h * 6 + (k == 0 ? 0 : k == 1 ? 4 : 2), 6);
        rgb[k] = x < 1 ? 1 : x < 2 ? 2 - x : x < 4 ? 0 : x < 5 ? x - 4 : 1;
    }
}

static int write_png(const char *path, const uint8_t *rgb, int w, int h) {
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(f);
        return -1;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < h; y++)
        png_write_row(png, (png_bytep)(rgb + (size_t)y * w * 3));
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return fclose(f) ? -1 : 0;
}

static int make_part(const char *src, const char *kind, const char *out, const char *part,
                     int limit, int class_tint, uint64_t seed, const char *const *names) {
    lenet_dataset ds;
    lenet_error err;
    if (lenet_load_mnist(src, kind, &ds, &err)) {
        fprintf(stderr, "color-mnist: %s\n", err.msg);
        return -1;
    }
    const int n = limit > 0 && limit < ds.count ? limit : ds.count;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", out, part);
    mkdir(path, 0777);
    for (int c = 0; c < 10; c++) {
        snprintf(path, sizeof path, "%s/%s/%s", out, part, names[c]);
        if (mkdir(path, 0777) && errno != EEXIST) {
            fprintf(stderr, "color-mnist: %s: %s\n", path, strerror(errno));
            lenet_free_dataset(&ds);
            return -1;
        }
    }
    uint64_t rng = seed ^ (uint64_t)(part[1] * 7919);
    uint8_t rgb[32 * 32 * 3];
    for (int i = 0; i < n; i++) {
        const int label = ds.labels[i];
        double fg[3], bg[3] = {0, 0, 0};
        if (class_tint) {
            hue_rgb(label / 10.0, fg);
        } else {
            hue_rgb(uniform(&rng), fg);
            for (int k = 0; k < 3; k++) /* a light tint of the ink, a dark background */
                fg[k] = 0.35 + 0.65 * fg[k], bg[k] = 0.25 * uniform(&rng);
        }
        const uint8_t *img = ds.images + (size_t)i * 28 * 28;
        for (int y = 0; y < 32; y++)
            for (int x = 0; x < 32; x++) {
                const int sy = y - 2, sx = x - 2;
                const double a = sy >= 0 && sy < 28 && sx >= 0 && sx < 28 ? img[sy * 28 + sx] / 255.0
                                                                           : 0;
                for (int k = 0; k < 3; k++)
                    rgb[(y * 32 + x) * 3 + k] =
                        (uint8_t)lround(255 * (bg[k] * (1 - a) + fg[k] * a));
            }
        snprintf(path, sizeof path, "%s/%s/%s/%05d.png", out, part, names[label], i);
        if (write_png(path, rgb, 32, 32)) {
            fprintf(stderr, "color-mnist: %s: cannot write\n", path);
            lenet_free_dataset(&ds);
            return -1;
        }
    }
    printf("color-mnist: %s: %d images\n", part, n);
    lenet_free_dataset(&ds);
    return 0;
}

int main(int argc, char **argv) {
    int train = 0, test = 0, tint = 0;
    long seed = 1;
    static const lenet_choice tints[] = {{"random", 0}, {"class", 1}, {NULL, 0}};
    const lenet_option options[] = {
        {.name = "--help", .kind = LENET_OPT_HELP},
        {.name = "--train", .kind = LENET_OPT_INT, .dest = &train, .lo = 1, .hi = 60000},
        {.name = "--test", .kind = LENET_OPT_INT, .dest = &test, .lo = 1, .hi = 10000},
        {.name = "--tint", .kind = LENET_OPT_CHOICE, .dest = &tint, .choices = tints},
        {.name = "--seed", .kind = LENET_OPT_LONG, .dest = &seed, .lo = 0, .hi = 2147483647},
        {0}};
    const char *args[2] = {0};
    int nargs = 0;
    for (int i = 1; i < argc; i++) /* the two paths first, then options */
        if (argv[i][0] != '-' && nargs < 2)
            args[nargs++] = argv[i];
        else
            break;
    const lenet_command cmd = {.prog = "color-mnist", .options = options};
    int parsed = nargs == 2 ? lenet_read_args(&cmd, argc, argv, 3) : LENET_ARGS_ERROR;
    if (parsed) {
        fprintf(parsed > 0 ? stdout : stderr,
                "usage: color-mnist SRC OUT [--train N] [--test N] [--tint random|class] "
                "[--seed S]\n");
        return parsed > 0 ? 0 : 2;
    }
    const char *src = args[0], *out = args[1];
    struct stat st;
    if (stat(out, &st) == 0) {
        fprintf(stderr, "color-mnist: %s exists: remove it first\n", out);
        return 1;
    }
    char partial[4096];
    snprintf(partial, sizeof partial, "%s.partial", out);
    char rm[4200];
    snprintf(rm, sizeof rm, "rm -rf '%s'", partial);
    if (strchr(partial, '\'') || system(rm) != 0 || mkdir(partial, 0777)) {
        fprintf(stderr, "color-mnist: cannot create %s\n", partial);
        return 1;
    }
    const char *const *names = strstr(src, "fashion") ? fashion : digits;
    if (make_part(src, "train", partial, "train", train, tint, (uint64_t)seed, names) ||
        make_part(src, "t10k", partial, "test", test, tint, (uint64_t)seed, names))
        return 1;
    if (rename(partial, out)) {
        fprintf(stderr, "color-mnist: %s -> %s: %s\n", partial, out, strerror(errno));
        return 1;
    }
    printf("color-mnist: wrote %s (%s tint)\n", out, tint ? "class" : "random");
    return 0;
}
