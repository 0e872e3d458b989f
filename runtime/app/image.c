/* image.c: `lenetc predict`: classify image files (PNG, JPEG or PGM).
 *
 * An image becomes the model's input the way the weights' training data
 * was made (lenet_prepare_for reads it from their provenance), one of:
 *   as-loaded  what the data loader does to an image folder's files:
 *              decoded to 8-bit pixels (decode.c; transparency by pixels.c's
 *              one rule), then lenet_fit_pixels: to the input's channels
 *              (BT.601 luma, or gray repeated) and stretched to its size,
 *              each axis on its own. Weights trained on image folders or
 *              CIFAR get this, so predict answers as eval does.
 *   mnist      the way MNIST's digits were made, for IDX-trained weights:
 *              1. gray (BT.601 luma); 2. white ink on black: if the image's
 *              border is mostly light (its mean is above 127) the image is
 *              inverted; 3. an image with no ink (no pixel above 32) gets no
 *              class; one already of the input's size is taken as it is;
 *              any other is cropped to the box around its ink, scaled with
 *              area averaging so that the box's longer side is 20/28 of the
 *              input's, and placed with its centre of mass at the input's
 *              centre (as LeCun centred MNIST's digits), background 0.
 *
 * The export's NAME_prepare (compiler/export.c) computes either from
 * decoded pixels byte for byte as lenet_prepare_image does: a change here
 * is a change there (tested).
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lenet_app.h"
#include "lenet_core.h"
#include "lenet_data.h"
#include "lenet_io.h"
#include "lenet_model.h"

#define MAX_IMAGE_SIDE 16384

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

static int read_pgm(FILE *f, const char *path, lenet_image *img, lenet_error *err) {
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
    img->c = 1;
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

int lenet_read_image(const char *path, lenet_image *img, lenet_error *err) {
    memset(img, 0, sizeof *img);
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
    if (n >= 2 && sig[0] == 'P' && (sig[1] == '2' || sig[1] == '5')) {
        rc = read_pgm(f, path, img, err);
    } else if ((n == 8 && png_sig_cmp(sig, 0, 8) == 0) ||
               (n >= 3 && sig[0] == 0xff && sig[1] == 0xd8 && sig[2] == 0xff)) {
        fclose(f);
        return lenet_decode_image(path, img, err);
    } else {
        lenet_set_error(err, "%s: %s", path, n ? "not a PNG, JPEG or PGM image" : "empty file");
        rc = -1;
    }
    fclose(f);
    return rc;
}

/* ---- fitting to the model's input -------------------------------------- */

/* Steps 2 and 3 of the comment at the top on a gray image g (w x h, left
 * as it is: the inversion is applied as pixels are read). The patch is
 * scaled into out's first oh * ow bytes, then moved to its place: out is
 * all the memory it needs, as the export's NAME_prepare does it. */
static int fit_gray(const uint8_t *g, int w, int h, int H, int W, uint8_t *out) {
    long border = 0, n = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            if (y == 0 || x == 0 || y == h - 1 || x == w - 1) {
                border += g[(size_t)y * w + x];
                n++;
            }
    const int inverted = border > 127 * n;
#define INK(y, x) (inverted ? 255 - g[(size_t)(y) * w + (x)] : g[(size_t)(y) * w + (x)])
    int x0 = w, y0 = h, x1 = -1, y1 = -1; /* the ink's box */
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            if (INK(y, x) > 32) {
                x0 = x < x0 ? x : x0;
                x1 = x > x1 ? x : x1;
                y0 = y < y0 ? y : y0;
                y1 = y > y1 ? y : y1;
            }
    memset(out, 0, (size_t)H * W);
    if (x1 < 0)
        return -1; /* no ink: nothing to classify */
    if (h == H && w == W) {
        for (int i = 0; i < H * W; i++)
            out[i] = (uint8_t)INK(i / W, i % W);
        return inverted;
    }
    const int bw = x1 - x0 + 1, bh = y1 - y0 + 1;
    const double side = (H < W ? H : W) * 20.0 / 28.0;
    const double scale = side / (bw > bh ? bw : bh); /* output pixels per input pixel */
    int ow = (int)lround(bw * scale) > 0 ? (int)lround(bw * scale) : 1;
    int oh = (int)lround(bh * scale) > 0 ? (int)lround(bh * scale) : 1;
    ow = ow < W ? ow : W; /* never more: the longer side is 20/28 of the input */
    oh = oh < H ? oh : H;
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
                    sum += a * INK(sy, sx);
                    area += a;
                }
            out[y * ow + x] = (uint8_t)lround(area > 0 ? sum / area : 0);
        }
#undef INK
    double mass = 0, my = 0, mx = 0;
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++) {
            const double v = out[y * ow + x];
            mass += v, my += v * (y + 0.5), mx += v * (x + 0.5);
        }
    int oy = (int)lround(H / 2.0 - (mass > 0 ? my / mass : oh / 2.0));
    int ox = (int)lround(W / 2.0 - (mass > 0 ? mx / mass : ow / 2.0));
    oy = oy < 0 ? 0 : oy > H - oh ? H - oh : oy; /* the patch stays inside */
    ox = ox < 0 ? 0 : ox > W - ow ? W - ow : ox;
    /* to its place, last byte first: each goes to an index no lower than
     * its own, so none is overwritten before it moves */
    for (int i = oh * ow - 1; i >= 0; i--)
        out[(oy + i / ow) * W + ox + i % ow] = out[i];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            if (y < oy || y >= oy + oh || x < ox || x >= ox + ow)
                out[y * W + x] = 0;
    return inverted;
}

const lenet_choice lenet_prepare_choices[] = {
    {"mnist", LENET_PREPARE_MNIST}, {"as-loaded", LENET_PREPARE_AS_LOADED}, {NULL, 0}};

int lenet_prepare_for(const lenet_meta *meta, int channels) {
    /* the loader that made the training images (provenance.c); "pt" is
     * safetensors' own word, of weights that do not say */
    const char *format = meta ? lenet_meta_get(meta, "format") : NULL;
    if (channels != 1) /* MNIST's is a gray preparation */
        return LENET_PREPARE_AS_LOADED;
    if (format && (!strcmp(format, "image folders") || !strcmp(format, "CIFAR-10")))
        return LENET_PREPARE_AS_LOADED;
    return LENET_PREPARE_MNIST; /* IDX, or weights that do not say (as before) */
}

int lenet_prepare_image(const uint8_t *pixels, int width, int height, int channels, int H, int W,
                        int C, int prepare, uint8_t *out) {
    if (!pixels || !out || width < 1 || height < 1 || width > MAX_IMAGE_SIDE ||
        height > MAX_IMAGE_SIDE || channels < 1 || channels > 4 || H < 1 || W < 1 ||
        (C != 1 && C != 3) || (prepare == LENET_PREPARE_MNIST && C != 1))
        return -2;
    const size_t n = (size_t)width * height;
    const int alpha = channels == 2 || channels == 4, c = channels - alpha;
    const int gray = prepare == LENET_PREPARE_MNIST && c == 3; /* fit_gray wants gray */
    uint8_t *own = NULL; /* pixels composited or made gray */
    const uint8_t *src = pixels;
    if (alpha || gray) {
        own = malloc(n * c);
        if (!own)
            return -2;
        if (alpha)
            lenet_flatten_alpha(pixels, n, channels, own);
        if (gray)
            lenet_gray_pixels(alpha ? own : pixels, n, own);
        src = own;
    }
    int rc = 0;
    if (prepare == LENET_PREPARE_MNIST)
        rc = fit_gray(src, width, height, H, W, out);
    else
        lenet_fit_pixels(src, height, width, c, out, H, W, C);
    free(own);
    return rc;
}

/* ---- the command -------------------------------------------------------- */

static void predict_usage(const char *prog, FILE *f) {
    fprintf(f,
            "usage: %s --weights W.safetensors [--prepare P] [--json] IMAGE...\n"
            "Classifies PNG, JPEG or PGM images: prints each one's class and top\n"
            "probabilities, over the classes the weights were trained on. Images are\n"
            "made into the model's input as the weights' training data was loaded:\n"
            "  as-loaded  (image folders, CIFAR) as the data loader does: transparent\n"
            "             pixels white (black if what is drawn is light), then the\n"
            "             input's channels (luma, or gray repeated), stretched to its\n"
            "             size; so predict gives the class eval gives the same file\n"
            "  mnist      (IDX, and 1-channel weights that do not say) as MNIST's were:\n"
            "             gray, inverted if their border is light (the model wants\n"
            "             white ink on black), then, unless they already have the\n"
            "             input's size, cropped to the ink, scaled to 20/28 of the\n"
            "             input and centred; an image with no ink gets no class\n"
            "             (\"FILE: no ink found\")\n"
            "An unreadable image is reported and the others classified; the exit\n"
            "status is then 1.\n"
            "\n"
            "  --weights W   safetensors weights for this model\n"
            "  --prepare P   mnist or as-loaded (default: as the weights' data was\n"
            "                loaded, from their metadata)\n"
            "  --classes S   print class names: digits or fashion (default: the\n"
            "                weights' own, if they name them)\n"
            "  --json        one JSON object per image, a line each, on stdout\n"
            "  --target T    the kernels' instruction set (see lenetc targets)\n"
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
        lenet_try_help(im->prog);
        return -1;
    }
    im->n++;
    return 0;
}

/* Prints one image's JSON object as a line and frees it. */
static void print_json(json_t *o) {
    char *text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
    if (text)
        puts(text);
    free(text);
    json_decref(o);
}

int lenet_predict_main(const lenet_model *m, int argc, char **argv, const char *prog) {
    const char *weights = NULL;
    int classes = -1, as_json = 0; /* classes -1: the weights' own, if they name them */
    int prepare = -1;              /* -1: as the weights' data was loaded */
    const lenet_option options[] = {
        {.name = "--help", .kind = LENET_OPT_HELP},
        {.name = "--weights", .kind = LENET_OPT_STRING, .dest = &weights, .needs = "a file"},
        {.name = "--classes", .kind = LENET_OPT_CHOICE, .dest = &classes,
         .choices = lenet_class_sets},
        {.name = "--prepare", .kind = LENET_OPT_CHOICE, .dest = &prepare,
         .choices = lenet_prepare_choices},
        {.name = "--json", .kind = LENET_OPT_FLAG, .dest = &as_json},
        {0}};
    images im = {.prog = prog};
    const lenet_command cmd = {.prog = prog, .options = options, .operand = take_image, .ctx = &im};
    const int parsed = lenet_read_args(&cmd, argc, argv, 1);
    if (parsed == LENET_ARGS_HELP) {
        predict_usage(prog, stdout);
        return 0;
    }
    if (parsed) /* the reader said what and where the help is */
        return 2;
    const int first_image = im.first, n_images = im.n;
    const char *const *names =
        classes >= 0 ? lenet_class_names(lenet_class_sets[classes].name) : NULL;
    int n_names = names ? 10 : 0; /* a --classes set names ten */
    if (!weights || !n_images) {
        fprintf(stderr, "%s: %s\n", prog, weights ? "no images given" : "--weights is required");
        lenet_try_help(prog);
        return 2;
    }
    if (m->data_c != 1 && m->data_c != 3) {
        fprintf(stderr, "%s: %s takes %d-channel images; predict reads gray or RGB ones\n", prog,
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
    if (prepare < 0)
        prepare = lenet_prepare_for(&meta, m->data_c);
    if (prepare == LENET_PREPARE_MNIST && m->data_c != 1) {
        fprintf(stderr, "%s: --prepare mnist is for 1-channel models; %s takes %d channels\n",
                prog, m->name, m->data_c);
        lenet_try_help(prog);
        lenet_trainer_free(&t);
        return 2;
    }
    /* the classes the weights were trained on: the first K of the model's
     * scores (all of them if the weights do not say); their names, unless
     * they are the class numbers */
    int n_trained = 0;
    char **trained = lenet_meta_classes(&meta, &n_trained);
    const int K = n_trained > 0 && n_trained <= m->n_classes ? n_trained : m->n_classes;
    if (!names && n_trained == K && !lenet_names_are_digits(trained, n_trained)) {
        names = (const char *const *)trained;
        n_names = n_trained;
    }
    const int H = m->data_h, W = m->data_w, C = m->data_c;
    uint8_t *pixels = malloc((size_t)H * W * C), label = 0;
    double *prob = malloc(sizeof *prob * (size_t)K);
    if (!pixels || !prob) {
        fprintf(stderr, "error: out of memory\n");
        free(pixels);
        free(prob);
        lenet_free_names(trained, n_trained);
        lenet_trainer_free(&t);
        return 1;
    }
    int failed = 0;
    for (int i = first_image; i < first_image + n_images; i++) {
        const char *file = argv[i];
        lenet_image img;
        int prepared = -3;
        if (lenet_read_image(file, &img, &err) == 0) {
            prepared = lenet_prepare_image(img.px, img.w, img.h, img.c, H, W, C, prepare, pixels);
            if (prepared == -2)
                lenet_set_error(&err, "%s: out of memory", file);
            free(img.px);
        }
        if (prepared < -1) { /* unreadable: said, and on to the next */
            failed++;
            if (as_json) {
                print_json(json_pack("{s:s, s:s}", "file", file, "error", err.msg));
            } else {
                fflush(stdout); /* in order with the lines before it */
                fprintf(stderr, "error: %s\n", err.msg);
            }
            continue;
        }
        if (prepared == -1) {
            if (as_json)
                print_json(json_pack("{s:s, s:n, s:b}", "file", file, "class", "no_ink", 1));
            else
                printf("%s: no ink found\n", file);
            continue;
        }
        const int inverted = prepared == 1;
        /* one image through the model: a data set of one */
        int idx = 0;
        lenet_dataset one = {.count = 1, .rows = H, .cols = W, .channels = C, .images = pixels,
                             .labels = &label};
        lenet_load_tile(m, &one, &idx, 1, t.acts);
        m->forward(t.params, t.acts, &(lenet_pass){.training = 0});
        const float *z = t.acts + m->logits_offset;
        const int best = lenet_argmax_lane(z, K, m->tile, 0);
        const char *name = names && best < n_names ? names[best] : NULL;
        double sum = 0;
        for (int k = 0; k < K; k++)
            sum += prob[k] = exp((double)z[k * m->tile] - z[best * m->tile]);
        for (int k = 0; k < K; k++)
            prob[k] /= sum;
        if (as_json) {
            json_t *o = json_pack("{s:s, s:i}", "file", file, "class", best);
            if (name)
                json_object_set_new(o, "name", json_string(name));
            json_object_set_new(o, "probability", json_real(prob[best]));
            if (prepare == LENET_PREPARE_MNIST)
                json_object_set_new(o, "inverted", json_boolean(inverted));
            json_t *all = json_array();
            for (int k = 0; k < K; k++)
                json_array_append_new(all, json_real(prob[k]));
            json_object_set_new(o, "probabilities", all);
            print_json(o);
            continue;
        }
        printf("%s: %d (%.4f)%s%s%s  top:", file, best, prob[best], name ? " " : "",
               name ? name : "", inverted ? " [inverted]" : "");
        for (int r = 0; r < 3 && r < K; r++) { /* the three most likely */
            int arg = -1;
            for (int k = 0; k < K; k++)
                if (prob[k] >= 0 && (arg < 0 || prob[k] > prob[arg]))
                    arg = k;
            printf(" %d %.4f", arg, prob[arg]);
            prob[arg] = -1;
        }
        printf("\n");
    }
    if (failed) {
        fflush(stdout);
        fprintf(stderr, "%s: %d of %d images could not be read\n", prog, failed, n_images);
    }
    free(pixels);
    free(prob);
    lenet_free_names(trained, n_trained);
    lenet_trainer_free(&t);
    return failed ? 1 : 0;
}
