/* export.c: the standalone export: a trained model as one dependency-free C file.
 *
 *   lenetc SPEC.yaml --weights W.safetensors --inference -o DIR
 *
 * writes DIR/NAME.c and DIR/NAME.h: the forward pass in the loop style for
 * one sample, the weights as a static const array (each float printed with
 * %.9g, which reads back to the same float), and
 *
 *   int NAME_predict(const uint8_t image[H * W * C], float probs[K]);
 *   int NAME_prepare(const uint8_t *pixels, int width, int height, int channels,
 *                    uint8_t out[H * W * C]);
 *
 * NAME_prepare makes decoded pixels of any size into the input as `lenetc
 * predict` does (runtime/app/image.c, lenet_prepare_image), byte for byte.
 *
 * It needs a C99 compiler and nothing else: no libc (exp and rounding are
 * computed here), no malloc, no static state. The sums are the loop style's,
 * in the same order, so a build without FMA contraction gives the JIT's
 * logits exactly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lenetc.h"

const char *export_base_name(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

void export_upper_name(const char *n, char up[MAX_NAME]) {
    size_t i = 0;
    for (; n[i] && i + 1 < MAX_NAME; i++)
        up[i] = (char)(n[i] >= 'a' && n[i] <= 'z' ? n[i] - 32 : n[i]);
    up[i] = '\0';
}

void export_header_sizes(const Model *m, const char *up, StrBuf *h) {
    sb_printf(h, "#define %s_HEIGHT %d\n#define %s_WIDTH %d\n#define %s_CHANNELS %d\n", up,
              m->in_h, up, m->in_w, up, m->in_c);
    sb_printf(h, "#define %s_PIXELS %ld\n#define %s_CLASSES %d\n", up,
              (long)m->in_h * m->in_w * m->in_c, up, m->n_classes);
}

void export_prepare_decl(const char *n, const char *up, StrBuf *h) {
    sb_printf(h,
              "int %s_prepare(const uint8_t *pixels, int width, int height, int channels,\n"
              "        uint8_t out[%s_PIXELS]);\n",
              n, up);
}

/* The tensor named name of layer l, or NULL. */
static const LayerTensor *tensor_named(const Layer *l, const char *name) {
    for (int i = 0; i < l->n_tensors; i++)
        if (strcmp(l->tensors[i].name, name) == 0)
            return &l->tensors[i];
    return NULL;
}

/* Whether an affine map of C channels folds into layer p, whose output it
 * takes: p computes weight x + bias, one weight row per channel, with
 * nothing after it (a conv, a dense layer without activation, or another
 * affine layer already in scale-and-shift form). */
static bool folds_into(const Layer *p, int C) {
    const LayerTensor *w = tensor_named(p, "weight"), *b = tensor_named(p, "bias");
    return !p->kind->view && layer_activation(p) == ACT_NONE && w && b && w->dims[0] == C && b->size == C &&
           w->size % C == 0;
}

/* The new model em's layer of this name; NULL if it keeps none. */
static Layer *kept(const Model *em, const char *name) {
    for (int k = 0; k < em->n_layers; k++)
        if (!strcmp(em->layers[k].name, name))
            return &em->layers[k];
    return NULL;
}

/* Whether l is the only reader of its input (and reads a layer's): then
 * it can be folded into it. A batchnorm after a layer in front of it
 * folds into it along the chain (m's layers, each of one reader). */
static bool only_reader(const Model *m, const Layer *l) {
    int k = l->inputs[0];
    while (k != INPUT_IMAGE && m->layers[k].users == 1) {
        if (!m->layers[k].kind->inference_affine)
            return true;
        k = m->layers[k].inputs[0];
    }
    return false;
}

/* The model the export computes, and its weights (*out, malloc'd): each
 * layer with an inference_affine map (batchnorm) folded into the conv or
 * dense layer before it where it can be (w *= scale, bias = bias * scale
 * + shift per output channel), else kept with weight = scale, bias =
 * shift. Tensors keep their names; their places are the new model's. */
int export_fold(const Model *m, const float *params, Model *em, float **out) {
    float *p = malloc(sizeof *p * (size_t)m->n_params);
    float *scale = malloc(sizeof *scale * MAX_DIM), *shift = malloc(sizeof *shift * MAX_DIM);
    *em = *m;
    em->layers = calloc((size_t)m->n_layers, sizeof *em->layers);
    em->n_layers = 0;
    if (!p || !scale || !shift || !em->layers)
        goto fail;
    memcpy(p, params, sizeof *p * (size_t)m->n_params);
    for (int i = 0; i < m->n_layers; i++) {
        const Layer *l = &m->layers[i];
        /* the new model names every input: a folded layer's readers read
         * what it was folded into */
        Layer el = *l;
        el.n_inputs = layer_inputs(l);
        for (int j = 0; j < el.n_inputs; j++) {
            const int k = l->inputs[j];
            const Layer *from = k == INPUT_IMAGE ? NULL : &m->layers[k];
            while (from && from->kind->inference_affine && !kept(em, from->name))
                from = from->inputs[0] == INPUT_IMAGE ? NULL : &m->layers[from->inputs[0]];
            snprintf(el.input_names[j], MAX_NAME, "%s", from ? from->name : "input");
        }
        /* reading the layer above needs no name (a stack stays one) */
        const char *above = em->n_layers ? em->layers[em->n_layers - 1].name : "input";
        if (!l->n_inputs && !strcmp(el.input_names[0], above))
            el.n_inputs = 0;
        if (!l->kind->inference_affine) {
            em->layers[em->n_layers++] = el;
            continue;
        }
        const int C = l->in.c;
        l->kind->inference_affine(l, p, scale, shift);
        /* what computes its input, if it reads nothing else: a layer kept
         * (affine maps between are folded into it) */
        const Layer *prev = kept(em, el.input_names[0]);
        const bool fold = prev && folds_into(prev, C) && only_reader(m, l);
        const LayerTensor *w = tensor_named(fold ? prev : l, "weight");
        const LayerTensor *b = tensor_named(fold ? prev : l, "bias");
        const long row = w->size / C;
        for (int c = 0; c < C; c++) {
            if (fold) {
                for (long k = 0; k < row; k++)
                    p[w->off + c * row + k] *= scale[c];
                p[b->off + c] = p[b->off + c] * scale[c] + shift[c];
            } else {
                p[w->off + c] = scale[c];
                p[b->off + c] = shift[c];
            }
        }
        if (!fold)
            em->layers[em->n_layers++] = el;
    }
    Diag d = {0};
    if (model_infer(em, &d))
        goto fail;
    *out = malloc(sizeof **out * (size_t)em->n_params);
    if (!*out)
        goto fail;
    /* every tensor of the new model from the old one of its name */
    for (int i = 0; i < em->n_layers; i++) {
        const Layer *el = &em->layers[i];
        const Layer *l = m->layers;
        while (strcmp(l->name, el->name) != 0)
            l++;
        for (int k = 0; k < el->n_tensors; k++)
            memcpy(*out + el->tensors[k].off, p + tensor_named(l, el->tensors[k].name)->off,
                   sizeof **out * (size_t)el->tensors[k].size);
    }
    free(p);
    free(scale);
    free(shift);
    return 0;
fail:
    free(p);
    free(scale);
    free(shift);
    free(em->layers);
    em->layers = NULL;
    return -1;
}

/* ---- NAME_prepare: predict's preparation (runtime/app/image.c) --------- */

/* Helpers of both preparations: a pixel as decode.c and pixels.c make it,
 * alpha (channels 2 and 4) composited over pixels.c's background. */
static const char prep_common_src[] =
    "\n/* ---- the preparation: an image made into the input as `lenetc predict`\n"
    " * makes it (runtime/image.c, runtime/pixels.c), byte for byte */\n"
    "\n/* BT.601 luma of an RGB pixel, rounded */\n"
    "static unsigned prep_luma(unsigned r, unsigned g, unsigned b) {\n"
    "    return (299u * r + 587u * g + 114u * b + 500) / 1000;\n"
    "}\n"
    "\n/* What a transparent pixel shows: white (a page), unless what is drawn\n"
    " * is light (its mean luma, weighted by alpha, above half): then black */\n"
    "static unsigned prep_background(const uint8_t *pixels, long n, int channels) {\n"
    "    if (channels != 2 && channels != 4)\n"
    "        return 255;\n"
    "    unsigned long long alpha = 0, ink = 0;\n"
    "    for (long i = 0; i < n; i++) {\n"
    "        const uint8_t *p = pixels + i * channels;\n"
    "        const unsigned a = p[channels - 1];\n"
    "        alpha += a;\n"
    "        ink += (unsigned long long)a * (channels == 4 ? prep_luma(p[0], p[1], p[2]) : p[0]);\n"
    "    }\n"
    "    return 2 * ink > 255 * alpha ? 0 : 255;\n"
    "}\n"
    "\n/* Channel k of pixel i (channels 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA),\n"
    " * alpha over bg, rounded */\n"
    "static unsigned prep_value(const uint8_t *pixels, long i, int channels, unsigned bg, int k) {\n"
    "    const uint8_t *p = pixels + i * channels;\n"
    "    if (channels != 2 && channels != 4)\n"
    "        return p[k];\n"
    "    const unsigned a = p[channels - 1];\n"
    "    return (p[k] * a + bg * (255 - a) + 127) / 255;\n"
    "}\n"
    "\n/* Pixel i as gray: the luma of its composited channels */\n"
    "static int prep_gray(const uint8_t *pixels, long i, int channels, unsigned bg) {\n"
    "    if (channels < 3)\n"
    "        return (int)prep_value(pixels, i, channels, bg, 0);\n"
    "    return (int)prep_luma(prep_value(pixels, i, channels, bg, 0),\n"
    "                          prep_value(pixels, i, channels, bg, 1),\n"
    "                          prep_value(pixels, i, channels, bg, 2));\n"
    "}\n";

/* The mnist preparation's helpers (a gray model's). */
static const char prep_mnist_src[] =
    "\n/* Pixel (y, x), inverted if the image is: the ink */\n"
    "static int prep_ink(const uint8_t *pixels, int width, int channels, unsigned bg, int inverted,\n"
    "                    int y, int x) {\n"
    "    const int g = prep_gray(pixels, (long)y * width + x, channels, bg);\n"
    "    return inverted ? 255 - g : g;\n"
    "}\n"
    "\n/* x rounded half away from zero, as libm's lround: x - (int)x is exact */\n"
    "static int prep_round(double x) {\n"
    "    const int i = (int)x;\n"
    "    const double f = x - i;\n"
    "    return f >= 0.5 ? i + 1 : f <= -0.5 ? i - 1 : i;\n"
    "}\n";

static const char prep_mnist_body[] =
    "    long border = 0, n = 0;\n"
    "    for (int y = 0; y < height; y++)\n"
    "        for (int x = 0; x < width; x++)\n"
    "            if (y == 0 || x == 0 || y == height - 1 || x == width - 1) {\n"
    "                border += prep_gray(pixels, (long)y * width + x, channels, bg);\n"
    "                n++;\n"
    "            }\n"
    "    const int inverted = border > 127 * n;\n"
    "    int x0 = width, y0 = height, x1 = -1, y1 = -1; /* the ink's box */\n"
    "    for (int y = 0; y < height; y++)\n"
    "        for (int x = 0; x < width; x++)\n"
    "            if (prep_ink(pixels, width, channels, bg, inverted, y, x) > 32) {\n"
    "                x0 = x < x0 ? x : x0;\n"
    "                x1 = x > x1 ? x : x1;\n"
    "                y0 = y < y0 ? y : y0;\n"
    "                y1 = y > y1 ? y : y1;\n"
    "            }\n"
    "    for (int i = 0; i < H * W; i++)\n"
    "        out[i] = 0;\n"
    "    if (x1 < 0)\n"
    "        return -1; /* no ink */\n"
    "    if (height == H && width == W) {\n"
    "        for (int y = 0; y < H; y++)\n"
    "            for (int x = 0; x < W; x++)\n"
    "                out[y * W + x] = (uint8_t)prep_ink(pixels, width, channels, bg, inverted, y, x);\n"
    "        return inverted;\n"
    "    }\n"
    "    const int bw = x1 - x0 + 1, bh = y1 - y0 + 1;\n"
    "    const double side = (H < W ? H : W) * 20.0 / 28.0;\n"
    "    const double scale = side / (bw > bh ? bw : bh); /* output pixels per input pixel */\n"
    "    int ow = prep_round(bw * scale) > 0 ? prep_round(bw * scale) : 1;\n"
    "    int oh = prep_round(bh * scale) > 0 ? prep_round(bh * scale) : 1;\n"
    "    ow = ow < W ? ow : W;\n"
    "    oh = oh < H ? oh : H;\n"
    "    /* each output pixel averages the input area it covers */\n"
    "    for (int y = 0; y < oh; y++)\n"
    "        for (int x = 0; x < ow; x++) {\n"
    "            const double sy0 = y0 + y / scale, sy1 = y0 + (y + 1) / scale;\n"
    "            const double sx0 = x0 + x / scale, sx1 = x0 + (x + 1) / scale;\n"
    "            double sum = 0, area = 0;\n"
    "            for (int sy = (int)sy0; sy < sy1 && sy <= y1; sy++)\n"
    "                for (int sx = (int)sx0; sx < sx1 && sx <= x1; sx++) {\n"
    "                    const double a = ((sy + 1 < sy1 ? sy + 1 : sy1) - (sy > sy0 ? sy : sy0)) *\n"
    "                                     ((sx + 1 < sx1 ? sx + 1 : sx1) - (sx > sx0 ? sx : sx0));\n"
    "                    sum += a * prep_ink(pixels, width, channels, bg, inverted, sy, sx);\n"
    "                    area += a;\n"
    "                }\n"
    "            out[y * ow + x] = (uint8_t)prep_round(area > 0 ? sum / area : 0);\n"
    "        }\n"
    "    double mass = 0, my = 0, mx = 0;\n"
    "    for (int y = 0; y < oh; y++)\n"
    "        for (int x = 0; x < ow; x++) {\n"
    "            const double v = out[y * ow + x];\n"
    "            mass += v, my += v * (y + 0.5), mx += v * (x + 0.5);\n"
    "        }\n"
    "    int oy = prep_round(H / 2.0 - (mass > 0 ? my / mass : oh / 2.0));\n"
    "    int ox = prep_round(W / 2.0 - (mass > 0 ? mx / mass : ow / 2.0));\n"
    "    oy = oy < 0 ? 0 : oy > H - oh ? H - oh : oy; /* the patch stays inside */\n"
    "    ox = ox < 0 ? 0 : ox > W - ow ? W - ow : ox;\n"
    "    /* to its place, last byte first: each goes no lower than it was */\n"
    "    for (int i = oh * ow - 1; i >= 0; i--)\n"
    "        out[(oy + i / ow) * W + ox + i % ow] = out[i];\n"
    "    for (int y = 0; y < H; y++)\n"
    "        for (int x = 0; x < W; x++)\n"
    "            if (y < oy || y >= oy + oh || x < ox || x >= ox + ow)\n"
    "                out[y * W + x] = 0;\n"
    "    return inverted;\n"
    "}\n";

/* The as-loaded preparation's helpers: lenet_fit_pixels (runtime/data/pixels.c),
 * which keeps a table of taps and a buffer of rows, here computed on demand. */
static const char prep_loaded_src[] =
    "\n/* Channel k of pixel i in the input's C channels: gray (luma), or gray\n"
    " * repeated, or RGB */\n"
    "static int prep_channel(const uint8_t *pixels, long i, int channels, unsigned bg, int C,\n"
    "                        int k) {\n"
    "    if (C == 1)\n"
    "        return prep_gray(pixels, i, channels, bg);\n"
    "    return (int)prep_value(pixels, i, channels, bg, channels >= 3 ? k : 0);\n"
    "}\n"
    "\n/* Output o of an axis of `in` pixels resized to `out` reads source pixels\n"
    " * [*first, *first + return): the area it covers where the axis shrinks,\n"
    " * the two nearest pixel centres where it grows */\n"
    "static int prep_taps(int in, int out, int o, int *first) {\n"
    "    const double scale = (double)in / out;\n"
    "    if (in > out) {\n"
    "        const double b = (o + 1) * scale;\n"
    "        int n = 0;\n"
    "        *first = (int)(o * scale);\n"
    "        for (int s = *first; s < b && s < in; s++)\n"
    "            n++;\n"
    "        return n;\n"
    "    }\n"
    "    double x = (o + 0.5) * scale - 0.5;\n"
    "    x = x < 0 ? 0 : x > in - 1 ? in - 1 : x;\n"
    "    *first = (int)x;\n"
    "    return *first + 1 < in && (float)(x - *first) > 0 ? 2 : 1;\n"
    "}\n"
    "\n/* The weight of the tap j of those n */\n"
    "static float prep_weight(int in, int out, int o, int first, int n, int j) {\n"
    "    const double scale = (double)in / out;\n"
    "    if (in > out) {\n"
    "        const double a = o * scale, b = (o + 1) * scale;\n"
    "        const int s = first + j;\n"
    "        return (float)(((s + 1 < b ? s + 1 : b) - (s > a ? s : a)) / scale);\n"
    "    }\n"
    "    double x = (o + 0.5) * scale - 0.5;\n"
    "    x = x < 0 ? 0 : x > in - 1 ? in - 1 : x;\n"
    "    const float f = (float)(x - first);\n"
    "    return j ? f : n == 2 ? 1 - f : 1;\n"
    "}\n";

/* The as-loaded body after `const int H = .., W = .., C = ..;` and bg: each output
 * byte from the x pass's sums over its rows, recomputed, in the same order. */
static const char prep_loaded_body[] =
    "    if (height == H && width == W) {\n"
    "        for (long i = 0; i < (long)H * W; i++)\n"
    "            for (int k = 0; k < C; k++)\n"
    "                out[i * C + k] = (uint8_t)prep_channel(pixels, i, channels, bg, C, k);\n"
    "        return 0;\n"
    "    }\n"
    "    for (int y = 0; y < H; y++) {\n"
    "        int fy;\n"
    "        const int ny = prep_taps(height, H, y, &fy);\n"
    "        for (int x = 0; x < W; x++) {\n"
    "            int fx;\n"
    "            const int nx = prep_taps(width, W, x, &fx);\n"
    "            for (int k = 0; k < C; k++) {\n"
    "                float v = 0;\n"
    "                for (int i = 0; i < ny; i++) {\n"
    "                    float r = 0; /* source row fy + i resized along x */\n"
    "                    for (int j = 0; j < nx; j++)\n"
    "                        r += prep_weight(width, W, x, fx, nx, j) *\n"
    "                             prep_channel(pixels, (long)(fy + i) * width + fx + j, channels, bg, C, k);\n"
    "                    v += prep_weight(height, H, y, fy, ny, i) * r;\n"
    "                }\n"
    "                out[(y * W + x) * C + k] = v <= 0 ? 0 : v >= 255 ? 255 : (uint8_t)(v + 0.5f);\n"
    "            }\n"
    "        }\n"
    "    }\n"
    "    return 0;\n"
    "}\n";

/* NAME_prepare: what lenet_prepare_image (runtime/app/image.c) computes for
 * this model's input, with out as its only memory. */
void emit_prepare(const Model *m, int prepare, const char *n, const char *up, StrBuf *c) {
    const bool mnist = prepare == LENET_PREPARE_MNIST;
    sb_puts(c, prep_common_src);
    sb_puts(c, mnist ? prep_mnist_src : prep_loaded_src);
    sb_printf(c,
              "\nint %s_prepare(const uint8_t *pixels, int width, int height, int channels,\n"
              "        uint8_t out[%s_PIXELS]) {\n",
              n, up);
    sb_puts(c, "    if (!pixels || !out || width < 1 || height < 1 || width > 16384 ||\n"
               "        height > 16384 || channels < 1 || channels > 4)\n"
               "        return -2;\n");
    sb_printf(c, "    const int H = %d, W = %d", m->in_h, m->in_w);
    if (!mnist)
        sb_printf(c, ", C = %d", m->in_c);
    sb_puts(c, ";\n    const unsigned bg = prep_background(pixels, (long)width * height, channels);\n");
    sb_puts(c, mnist ? prep_mnist_body : prep_loaded_body);
}

/* exp_neg(x): e^x for x <= 0 (softmax's), without libm */
void emit_exp_neg(StrBuf *c) {
    sb_puts(c, "\n/* e^x for x <= 0, to float precision: 2^(x log2 e) split into a power of\n"
               " * two (built in the exponent bits) and a polynomial on [-0.5, 0.5]. */\n");
    sb_puts(c, "static float exp_neg(float x) {\n"
               "    if (x < -87.0f)\n"
               "        return 0.0f;\n"
               "    const float t = x * 1.44269504f;\n"
               "    const int k = (int)(t < 0 ? t - 0.5f : t + 0.5f);\n"
               "    const float f = (t - (float)k) * 0.693147181f;\n"
               "    float p = 1.0f + f * (1.0f + f * (0.5f + f * (0.166666667f + f * (0.0416666667f\n"
               "                + f * (0.00833333333f + f * 0.00138888889f)))));\n"
               "    union { float f; uint32_t u; } two = {.u = (uint32_t)(k + 127) << 23};\n"
               "    return p * two.f;\n"
               "}\n");
}

void emit_export(const Model *model, const float *trained, const char *spec_file,
                 const char *weights_file, int prepare, const char *why, StrBuf *c,
                 StrBuf *h) {
    Model folded;
    float *params;
    if (export_fold(model, trained, &folded, &params)) {
        fprintf(stderr, "lenetc: out of memory\n");
        exit(1);
    }
    const Model *m = &folded;
    const char *n = m->name;
    char up[MAX_NAME];
    export_upper_name(n, up);
    const Shape in = m->input;
    const long act_bytes = m->act_floats * (long)sizeof(float);

    /* ---- the header */
    sb_printf(h, "/* %s.h: generated by lenetc from %s and %s; do not edit.\n", n,
              export_base_name(spec_file), export_base_name(weights_file));
    sb_printf(h,
              " *\n"
              " * %s, trained, as standalone C: the forward pass with its %ld weights\n"
              " * compiled in. Needs a C99 compiler and nothing else (no libc, no malloc,\n"
              " * no static state: safe from any number of threads).\n"
              " *\n"
              " *   int %s_predict(const uint8_t image[%s_PIXELS], float probs[%s_CLASSES]);\n"
              " *\n"
              " * image: %d rows of %d pixels%s, row-major, 0 (background) to 255, as in\n"
              " * MNIST. Returns the predicted class (the first highest score) and writes\n"
              " * the softmax probabilities to probs (if not NULL). Uses about %ld KiB of\n"
              " * stack.\n",
              n, m->n_params, n, up, up, m->in_h, m->in_w,
              m->in_c > 1 ? " (channels interleaved)" : "", (act_bytes + 1023) / 1024 + 1);
    const bool has_prepare = m->in_c == 1 || m->in_c == 3; /* what predict reads */
    if (has_prepare) {
        sb_printf(h,
                  " *\n"
                  " *   int %s_prepare(const uint8_t *pixels, int width, int height, int channels,\n"
                  " *           uint8_t out[%s_PIXELS]);\n"
                  " *\n"
                  " * Makes an image into the input as `lenetc predict --prepare %s` does,\n"
                  " * byte for byte (%s).\n"
                  " * pixels: height rows of width pixels (1 to 16384 a side), row-major,\n"
                  " * each of `channels` bytes: 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA. A\n"
                  " * transparent pixel is white, unless what is drawn is light (its mean\n"
                  " * luma, weighted by alpha, above half): then black.\n",
                  n, up, lenet_prepare_choices[prepare].name, why);
        if (prepare == LENET_PREPARE_MNIST)
            sb_puts(h,
                    " * The image is made gray (BT.601 luma), inverted if its border is mostly\n"
                    " * light (the model wants white ink on black), then, unless it has the\n"
                    " * input's size, cropped to the box around its ink (pixels above 32),\n"
                    " * scaled with area averaging so that the box's longer side is 20/28 of\n"
                    " * the input's, and placed with its centre of mass at the centre.\n"
                    " * Returns 1 if it inverted the image, 0 if not, -1 if the image has no\n"
                    " * ink (out all 0: give it no class), -2 for bad arguments (NULL, a side\n"
                    " * out of range, channels not 1 to 4).\n");
        else
            sb_puts(h,
                    " * The image is made the input's channels (BT.601 luma, or gray\n"
                    " * repeated), then resized to the input as lenetc's data loader resizes,\n"
                    " * each axis on its own (area averaging where it shrinks, bilinear where\n"
                    " * it grows). Returns 0, or -2 for bad arguments (NULL, a side out of\n"
                    " * range, channels not 1 to 4).\n");
        sb_puts(h, " * It uses no memory but out and a few locals (no malloc).\n");
    }
    sb_puts(h, " */\n");
    sb_printf(h, "#ifndef %s_INFER_H\n#define %s_INFER_H\n\n#include <stdint.h>\n\n", up, up);
    export_header_sizes(m, up, h);
    sb_puts(h, "\n");
    sb_printf(h, "int %s_predict(const uint8_t image[%s_PIXELS], float probs[%s_CLASSES]);\n",
              n, up, up);
    if (has_prepare)
        export_prepare_decl(n, up, h);
    sb_puts(h, "\n");
    sb_puts(h, "#endif\n");

    /* ---- the source */
    sb_printf(c, "/* %s.c: generated by lenetc from %s and %s; do not edit.\n", n,
              export_base_name(spec_file), export_base_name(weights_file));
    sb_printf(c, " * Standalone inference for %s: see %s.h. */\n", n, n);
    sb_printf(c, "#include \"%s.h\"\n", n);
    EmitOptions o = {.style = STYLE_LOOPS, .tile = 1, .real = "float", .spec_file = spec_file,
                     .forward_only = true};
    StrBuf code = {0};
    emit_kernels(m, &o, &code);
    if (strstr(code.data, "tanhf(") || strstr(code.data, "expf("))
        sb_puts(c, "\n/* libm's (link with -lm), for the tanh and sigmoid activations */\n"
                   "float tanhf(float);\nfloat expf(float);\n");
    sb_puts(c, code.data);
    sb_free(&code);

    Emitter e = {.out = c, .opt = o};
    char num[32];
    sb_printf(c, "\n/* the trained weights, in PyTorch layouts (%ld floats) */\n", m->n_params);
    sb_printf(c, "static const float %s_params[%ld] = {\n", n, m->n_params);
    for (long k = 0; k < m->n_params; k++) {
        emit_real(&e, params[k], num);
        sb_printf(c, "%s%s,%s", k % 6 ? "" : "    ", num, k % 6 == 5 ? "\n" : " ");
    }
    sb_puts(c, m->n_params % 6 ? "\n};\n" : "};\n");

    /* the trainer's pixel table, lo + (hi - lo) * p / 255 in double from
     * the float lo and hi: the same two doubles, written out */
    char lo[32], span[32];
    Emitter d = {.out = c, .opt = o};
    d.opt.real = "double";
    emit_real(&d, (double)m->scale_lo, lo);
    emit_real(&d, (double)m->scale_hi - (double)m->scale_lo, span);
    emit_exp_neg(c);
    sb_printf(c, "\nint %s_predict(const uint8_t image[%s_PIXELS], float probs[%s_CLASSES]) {\n",
              n, up, up);
    sb_printf(c, "    float acts[%ld]; /* every activation of one sample */\n", m->act_floats);
    if (m->pad)
        sb_printf(c, "    /* the %dx%d image inside a border of %d pixels of 0 */\n", m->in_h,
                  m->in_w, m->pad);
    /* image[y][x][ch] (height, width, channels) -> acts[ch][y][x] */
    const bool gray = in.c == 1;
    char src[96], dst[96];
    index_expr(src, 3, (const char *[]){m->pad ? "sy" : "y", m->pad ? "sx" : "x", "ch"},
               (const int[]){m->in_h, m->in_w, m->in_c});
    index_expr(dst, 3, (const char *[]){"ch", "y", "x"}, (const int[]){in.c, in.h, in.w});
    sb_printf(c, "    for (int y = 0; y < %d; y++) {\n", in.h);
    sb_printf(c, "        for (int x = 0; x < %d; x++) {\n", in.w);
    const char *ind = gray ? "            " : "                ";
    if (!gray)
        sb_printf(c, "            for (int ch = 0; ch < %d; ch++) {\n", in.c);
    if (m->pad) {
        sb_printf(c, "%sconst int sy = y - %d, sx = x - %d;\n", ind, m->pad, m->pad);
        sb_printf(c, "%sconst int inside = sy >= 0 && sy < %d && sx >= 0 && sx < %d;\n", ind,
                  m->in_h, m->in_w);
        sb_printf(c, "%sconst int p = inside ? image[%s] : 0;\n", ind, src);
    } else {
        sb_printf(c, "%sconst int p = image[%s];\n", ind, src);
    }
    sb_printf(c, "%s/* pixel p maps to lo + (hi - lo) * p / 255, rounded once,\n"
                 "%s * as the trainer's table does */\n", ind, ind);
    sb_printf(c, "%sacts[%s] = (float)(%s + %s * p / 255.0);\n", ind, dst, lo, span);
    if (!gray)
        sb_puts(c, "            }\n");
    sb_puts(c, "        }\n    }\n");
    sb_printf(c, "    %s_forward(%s_params, acts);\n", n, n);
    sb_printf(c, "    const float *z = acts + %ld;\n", m->logits_off);
    sb_puts(c, "    int best = 0;\n");
    sb_printf(c, "    for (int k = 1; k < %d; k++)\n", m->n_classes);
    sb_puts(c, "        if (z[k] > z[best])\n            best = k;\n");
    sb_puts(c, "    if (probs) {\n        float sum = 0;\n");
    sb_printf(c, "        for (int k = 0; k < %d; k++)\n", m->n_classes);
    sb_puts(c, "            sum += probs[k] = exp_neg(z[k] - z[best]);\n");
    sb_printf(c, "        for (int k = 0; k < %d; k++)\n", m->n_classes);
    sb_puts(c, "            probs[k] /= sum;\n    }\n    return best;\n}\n");
    if (has_prepare)
        emit_prepare(m, prepare, n, up, c);
    free(params);
    free(folded.layers);
}
