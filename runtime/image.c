/* image.c: `lenetc predict`: classify image files (PGM or PNG).
 *
 * Any image becomes the model's input the way MNIST's digits were made:
 *   1. gray levels, 8 bits (PNG colour, alpha and 16-bit depth are
 *      converted by libpng; PGM P2 and P5 are read here);
 *   2. white ink on black: if the image's border is mostly light (its mean
 *      is above 127) the image is inverted;
 *   3. an image already of the input's size is taken as it is; any other is
 *      cropped to the box around its ink (pixels above 32), scaled with area
 *      averaging so that the box's longer side is 20/28 of the input's, and
 *      placed with its centre of mass at the input's centre (as LeCun
 *      centred MNIST's digits), background 0.
 */
#include <errno.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lenet.h"

#define MAX_IMAGE_SIDE 16384

typedef struct {
    int w, h;
    uint8_t *px; /* h rows of w gray pixels */
} image;

/* ---- reading ------------------------------------------------------------ */

/* The next PGM header number, skipping white space and # comments. */
static int pgm_number(FILE *f, long *out) {
    int c = fgetc(f);
    for (;;) {
        while (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            c = fgetc(f);
        if (c != '#')
            break;
        while (c != '\n' && c != EOF)
            c = fgetc(f);
    }
    if (c < '0' || c > '9')
        return -1;
    long v = 0;
    while (c >= '0' && c <= '9') {
        v = v * 10 + (c - '0');
        if (v > 1000000)
            return -1;
        c = fgetc(f);
    }
    *out = v;
    return c; /* the byte after the number */
}

static int read_pgm(FILE *f, const char *path, image *img, lenet_error *err) {
    char magic[2];
    long w, h, maxval;
    if (fread(magic, 1, 2, f) != 2 || magic[0] != 'P' || (magic[1] != '2' && magic[1] != '5') ||
        pgm_number(f, &w) < 0 || pgm_number(f, &h) < 0) {
        lenet_set_error(err, "%s: not a PGM image (P2 or P5)", path);
        return -1;
    }
    int after = pgm_number(f, &maxval);
    if (after < 0 || maxval < 1 || maxval > 65535 || w < 1 || h < 1 || w > MAX_IMAGE_SIDE ||
        h > MAX_IMAGE_SIDE) {
        lenet_set_error(err, "%s: bad PGM header (size %ldx%ld, maxval %ld)", path, w, h, maxval);
        return -1;
    }
    img->w = (int)w;
    img->h = (int)h;
    img->px = malloc((size_t)w * (size_t)h);
    if (!img->px) {
        lenet_set_error(err, "%s: out of memory", path);
        return -1;
    }
    for (long i = 0; i < w * h; i++) {
        long v;
        if (magic[1] == '2') {
            if (pgm_number(f, &v) < 0 && !(i == w * h - 1 && feof(f)))
                goto short_read;
        } else if (maxval < 256) {
            int c = fgetc(f);
            if (c == EOF)
                goto short_read;
            v = c;
        } else {
            int hi = fgetc(f), lo = fgetc(f);
            if (lo == EOF)
                goto short_read;
            v = hi << 8 | lo;
        }
        if (v > maxval)
            v = maxval;
        img->px[i] = (uint8_t)((v * 255 + maxval / 2) / maxval);
    }
    return 0;
short_read:
    lenet_set_error(err, "%s: PGM data ends early", path);
    free(img->px);
    img->px = NULL;
    return -1;
}

/* libpng reports errors by longjmp; the message is kept for ours. */
typedef struct {
    lenet_error *err;
    const char *path;
} png_ctx;

static void png_fail(png_structp png, png_const_charp msg) {
    png_ctx *c = png_get_error_ptr(png);
    lenet_set_error(c->err, "%s: bad PNG: %s", c->path, msg);
    png_longjmp(png, 1);
}

static void png_warn(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg;
}

static int read_png(FILE *f, const char *path, image *img, lenet_error *err) {
    png_ctx ctx = {err, path};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, png_fail, png_warn);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    uint8_t *volatile px = NULL;
    png_bytep *volatile rows = NULL;
    if (!info) {
        lenet_set_error(err, "%s: out of memory", path);
        png_destroy_read_struct(&png, NULL, NULL);
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        free(px);
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    png_set_user_limits(png, MAX_IMAGE_SIDE, MAX_IMAGE_SIDE);
    png_init_io(png, f);
    png_read_info(png, info);
    /* whatever it holds, read 8-bit gray */
    png_set_expand(png);
    png_set_strip_16(png);
    png_set_strip_alpha(png);
    int type = png_get_color_type(png, info);
    if (type & PNG_COLOR_MASK_COLOR)
        png_set_rgb_to_gray_fixed(png, 1, -1, -1);
    png_read_update_info(png, info);
    const int w = (int)png_get_image_width(png, info), h = (int)png_get_image_height(png, info);
    if (png_get_rowbytes(png, info) != (size_t)w)
        png_error(png, "unexpected pixel format");
    px = malloc((size_t)w * (size_t)h);
    rows = malloc(sizeof *rows * (size_t)h);
    if (!px || !rows)
        png_error(png, "out of memory");
    for (int y = 0; y < h; y++)
        rows[y] = px + (size_t)y * w;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    img->w = w;
    img->h = h;
    img->px = px;
    return 0;
}

static int read_image(const char *path, image *img, lenet_error *err) {
    int fd = lenet_open_regular(path, err);
    FILE *f = fd < 0 ? NULL : fdopen(fd, "rb");
    if (!f) {
        if (fd >= 0) {
            close(fd);
            lenet_set_error(err, "%s: %s", path, strerror(errno));
        }
        return -1;
    }
    unsigned char sig[8] = {0};
    size_t n = fread(sig, 1, 8, f);
    rewind(f);
    int rc;
    if (n == 8 && png_sig_cmp(sig, 0, 8) == 0)
        rc = read_png(f, path, img, err);
    else if (n >= 2 && sig[0] == 'P' && (sig[1] == '2' || sig[1] == '5'))
        rc = read_pgm(f, path, img, err);
    else {
        lenet_set_error(err, "%s: not a PNG or PGM image", path);
        rc = -1;
    }
    fclose(f);
    return rc;
}

/* ---- fitting to the model's input -------------------------------------- */

/* Steps 2 and 3 of the comment at the top; returns 1 if it inverted. */
static int fit(image *img, int H, int W, uint8_t *out) {
    long border = 0, n = 0;
    for (int y = 0; y < img->h; y++)
        for (int x = 0; x < img->w; x++)
            if (y == 0 || x == 0 || y == img->h - 1 || x == img->w - 1) {
                border += img->px[(size_t)y * img->w + x];
                n++;
            }
    const int inverted = border > 127 * n;
    if (inverted)
        for (size_t i = 0; i < (size_t)img->w * img->h; i++)
            img->px[i] = (uint8_t)(255 - img->px[i]);
    if (img->h == H && img->w == W) {
        memcpy(out, img->px, (size_t)H * W);
        return inverted;
    }
    int x0 = img->w, y0 = img->h, x1 = -1, y1 = -1; /* the ink's box */
    for (int y = 0; y < img->h; y++)
        for (int x = 0; x < img->w; x++)
            if (img->px[(size_t)y * img->w + x] > 32) {
                x0 = x < x0 ? x : x0;
                x1 = x > x1 ? x : x1;
                y0 = y < y0 ? y : y0;
                y1 = y > y1 ? y : y1;
            }
    memset(out, 0, (size_t)H * W);
    if (x1 < 0)
        return inverted; /* no ink: an empty input */
    const int bw = x1 - x0 + 1, bh = y1 - y0 + 1;
    const double side = (H < W ? H : W) * 20.0 / 28.0;
    const double scale = side / (bw > bh ? bw : bh); /* output pixels per input pixel */
    const int ow = (int)lround(bw * scale) > 0 ? (int)lround(bw * scale) : 1;
    const int oh = (int)lround(bh * scale) > 0 ? (int)lround(bh * scale) : 1;
    uint8_t *patch = calloc((size_t)oh * ow, 1);
    if (!patch)
        return inverted;
    /* each output pixel averages the input area it covers */
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++) {
            const double sy0 = y0 + y / scale, sy1 = y0 + (y + 1) / scale;
            const double sx0 = x0 + x / scale, sx1 = x0 + (x + 1) / scale;
            double sum = 0, area = 0;
            for (int sy = (int)sy0; sy < sy1 && sy <= y1; sy++)
                for (int sx = (int)sx0; sx < sx1 && sx <= x1; sx++) {
                    const double a = (fmin(sy + 1, sy1) - fmax(sy, sy0)) *
                                     (fmin(sx + 1, sx1) - fmax(sx, sx0));
                    sum += a * img->px[(size_t)sy * img->w + sx];
                    area += a;
                }
            patch[(size_t)y * ow + x] = (uint8_t)lround(area > 0 ? sum / area : 0);
        }
    double mass = 0, my = 0, mx = 0;
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++) {
            const double v = patch[(size_t)y * ow + x];
            mass += v, my += v * (y + 0.5), mx += v * (x + 0.5);
        }
    int oy = (int)lround(H / 2.0 - (mass > 0 ? my / mass : oh / 2.0));
    int ox = (int)lround(W / 2.0 - (mass > 0 ? mx / mass : ow / 2.0));
    oy = oy < 0 ? 0 : oy > H - oh ? H - oh : oy; /* the patch stays inside */
    ox = ox < 0 ? 0 : ox > W - ow ? W - ow : ox;
    for (int y = 0; y < oh; y++)
        memcpy(out + (size_t)(oy + y) * W + ox, patch + (size_t)y * ow, (size_t)ow);
    free(patch);
    return inverted;
}

/* ---- the command -------------------------------------------------------- */

static void predict_usage(const char *prog, FILE *f) {
    fprintf(f,
            "usage: %s --weights W.safetensors IMAGE...\n"
            "Classifies PNG or PGM images: prints each one's class and top probabilities.\n"
            "Images are made into the model's input as MNIST's were: gray, inverted if\n"
            "their border is light (the model wants white ink on black), then, unless\n"
            "they already have the input's size, cropped to the ink, scaled to 20/28 of\n"
            "the input and centred.\n"
            "\n"
            "  --weights W   safetensors weights for this model\n"
            "  --classes S   print class names: digits (the default) or fashion\n"
            "  --help        this text\n",
            prog);
}

/* The images: argv[first..first + n), after every option. */
typedef struct {
    const char *prog;
    int first, n;
} images;

static int take_image(void *ctx, char **argv, int i) {
    images *im = ctx;
    (void)argv;
    if (!im->n)
        im->first = i;
    else if (im->first + im->n != i) {
        fprintf(stderr, "%s: options go before the images\n", im->prog);
        return -1;
    }
    im->n++;
    return 0;
}

int lenet_predict_main(const lenet_model *m, int argc, char **argv, const char *prog) {
    const char *weights = NULL;
    int classes = -1; /* -1: the weights' own, if they name them */
    const lenet_option options[] = {
        {.name = "--help", .kind = LENET_OPT_HELP},
        {.name = "--weights", .kind = LENET_OPT_STRING, .dest = &weights, .needs = "a file"},
        {.name = "--classes", .kind = LENET_OPT_CHOICE, .dest = &classes,
         .choices = lenet_class_sets},
        {0}};
    images im = {.prog = prog};
    const lenet_command cmd = {.prog = prog, .options = options, .operand = take_image, .ctx = &im};
    const int parsed = lenet_read_args(&cmd, argc, argv, 1);
    if (parsed == LENET_ARGS_HELP || parsed == LENET_ARGS_UNKNOWN)
        predict_usage(prog, parsed > 0 ? stdout : stderr);
    if (parsed)
        return parsed > 0 ? 0 : 2;
    const int first_image = im.first, n_images = im.n;
    const char *const *names =
        classes >= 0 ? lenet_class_names(lenet_class_sets[classes].name) : NULL;
    if (!weights || !n_images) {
        fprintf(stderr, "%s: %s\n", prog, weights ? "no images given" : "--weights is required");
        predict_usage(prog, stderr);
        return 2;
    }
    if (m->data_c != 1) {
        fprintf(stderr, "%s: %s takes %d-channel images; predict reads gray ones\n", prog,
                m->name, m->data_c);
        return 1;
    }
    lenet_error err = {{0}};
    lenet_trainer t;
    if (lenet_trainer_init(&t, m, &m->defaults, 1)) {
        fprintf(stderr, "error: out of memory\n");
        return 1;
    }
    static lenet_meta meta; /* 40 KiB: not on the stack */
    if (lenet_load_weights(m, t.params, &meta, weights, &err)) {
        fprintf(stderr, "error: %s\n", err.msg);
        lenet_trainer_free(&t);
        return 1;
    }
    lenet_warn_provenance(weights, &meta, m, NULL);
    /* the class names the weights' training data had, unless digits */
    int n_trained = 0;
    char **trained = lenet_meta_classes(&meta, &n_trained);
    for (int c = 0; !names && trained && n_trained == m->n_classes && c < n_trained; c++) {
        char digits[16];
        snprintf(digits, sizeof digits, "%d", c);
        if (strcmp(trained[c], digits) != 0)
            names = (const char *const *)trained;
    }
    const int H = m->data_h, W = m->data_w, K = m->n_classes;
    uint8_t *pixels = malloc((size_t)H * W), label = 0;
    double *prob = malloc(sizeof *prob * (size_t)K);
    int rc = pixels && prob ? 0 : 1;
    for (int i = first_image; !rc && i < first_image + n_images; i++) {
        image img = {0};
        if (read_image(argv[i], &img, &err)) {
            fprintf(stderr, "error: %s\n", err.msg);
            rc = 1;
            continue;
        }
        const int inverted = fit(&img, H, W, pixels);
        free(img.px);
        /* one image through the model: a data set of one */
        int idx = 0;
        lenet_dataset one = {.count = 1, .rows = H, .cols = W, .images = pixels, .labels = &label};
        lenet_load_tile(m, &one, &idx, 1, t.acts);
        m->forward(t.params, t.acts, &(lenet_pass){.training = 0});
        const float *z = t.acts + m->logits_offset;
        const int best = lenet_argmax_lane(z, K, m->tile, 0);
        double sum = 0;
        for (int k = 0; k < K; k++)
            sum += prob[k] = exp((double)z[k * m->tile] - z[best * m->tile]);
        printf("%s: %d (%.4f)%s%s%s  top:", argv[i], best, prob[best] / sum,
               names ? " " : "", names ? names[best] : "", inverted ? " [inverted]" : "");
        for (int r = 0; r < 3 && r < K; r++) { /* the three most likely */
            int arg = -1;
            for (int k = 0; k < K; k++)
                if (prob[k] >= 0 && (arg < 0 || prob[k] > prob[arg]))
                    arg = k;
            printf(" %d %.4f", arg, prob[arg] / sum);
            prob[arg] = -1;
        }
        printf("\n");
    }
    free(pixels);
    free(prob);
    lenet_free_names(trained, n_trained);
    lenet_trainer_free(&t);
    return rc;
}
