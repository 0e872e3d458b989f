/* export.c: the standalone export: a trained model as one dependency-free C file.
 *
 *   lenetc SPEC.yaml --weights W.safetensors --inference -o DIR
 *
 * writes DIR/NAME.c and DIR/NAME.h: the forward pass in the loop style for
 * one sample, the weights as a static const array (each float printed with
 * %.9g, which reads back to the same float), and
 *
 *   int NAME_predict(const uint8_t image[H * W * C], float probs[K]);
 *
 * It needs a C99 compiler and nothing else: no libc (exp is computed here),
 * no malloc, no static state. The sums are the loop style's, in the same
 * order, so a build without FMA contraction gives the JIT's logits exactly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lenetc.h"

static const char *base(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
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
    return !p->kind->view && p->act == ACT_NONE && w && b && w->dims[0] == C && b->size == C &&
           w->size % C == 0;
}

/* The model the export computes, and its weights (*out, malloc'd): each
 * layer with an inference_affine map (batchnorm) folded into the conv or
 * dense layer before it where it can be (w *= scale, bias = bias * scale
 * + shift per output channel), else kept with weight = scale, bias =
 * shift. Tensors keep their names; their places are the new model's. */
static int inference_model(const Model *m, const float *params, Model *em, float **out) {
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
        if (!l->kind->inference_affine) {
            em->layers[em->n_layers++] = *l;
            continue;
        }
        const int C = l->in.c;
        l->kind->inference_affine(l, p, scale, shift);
        /* what computes its input: the last layer kept (those left out
         * between are affine maps folded into it) */
        const Layer *prev = em->n_layers ? &em->layers[em->n_layers - 1] : NULL;
        const bool fold = prev && folds_into(prev, C);
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
            em->layers[em->n_layers++] = *l;
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

void emit_export(const Model *model, const float *trained, const char *spec_file,
                 const char *weights_file, StrBuf *c, StrBuf *h) {
    Model folded;
    float *params;
    if (inference_model(model, trained, &folded, &params)) {
        fprintf(stderr, "lenetc: out of memory\n");
        exit(1);
    }
    const Model *m = &folded;
    const char *n = m->name;
    char up[MAX_NAME];
    size_t i = 0;
    for (; n[i]; i++)
        up[i] = (char)(n[i] >= 'a' && n[i] <= 'z' ? n[i] - 32 : n[i]);
    up[i] = '\0';
    const Shape in = m->input;
    const long pixels = (long)m->in_h * m->in_w * m->in_c;
    const long act_bytes = m->act_floats * (long)sizeof(float);

    /* ---- the header */
    sb_printf(h, "/* %s.h: generated by lenetc from %s and %s; do not edit.\n", n,
              base(spec_file), base(weights_file));
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
              " * stack.\n"
              " */\n",
              n, m->n_params, n, up, up, m->in_h, m->in_w,
              m->in_c > 1 ? " (channels interleaved)" : "", (act_bytes + 1023) / 1024 + 1);
    sb_printf(h, "#ifndef %s_INFER_H\n#define %s_INFER_H\n\n#include <stdint.h>\n\n", up, up);
    sb_printf(h, "#define %s_HEIGHT %d\n#define %s_WIDTH %d\n#define %s_CHANNELS %d\n", up,
              m->in_h, up, m->in_w, up, m->in_c);
    sb_printf(h, "#define %s_PIXELS %ld\n#define %s_CLASSES %d\n\n", up, pixels, up,
              m->n_classes);
    sb_printf(h, "int %s_predict(const uint8_t image[%s_PIXELS], float probs[%s_CLASSES]);\n\n",
              n, up, up);
    sb_puts(h, "#endif\n");

    /* ---- the source */
    sb_printf(c, "/* %s.c: generated by lenetc from %s and %s; do not edit.\n", n,
              base(spec_file), base(weights_file));
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
    free(params);
    free(folded.layers);
}
