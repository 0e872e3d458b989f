/* shape.c: infers every layer's shape, checks limits and assigns where each
 * parameter and activation lives. After this pass every size is known and
 * the emitter prints them as literals. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lenetc.h"

int model_infer(Model *m, Diag *d) {
    Shape s = {m->in_c, m->in_h + 2 * m->pad, m->in_w + 2 * m->pad, false};
    m->input = s;
    if (shape_size(s) > MAX_TENSOR)
        return error_at(d, 0, 0, "input of %ld values exceeds the limit of %ld", shape_size(s),
                        MAX_TENSOR);
    long act = shape_size(s), params = 0;
    long in_off = 0;
    bool seen_params = false;
    for (int i = 0; i < m->n_layers; i++) {
        Layer *l = &m->layers[i];
        l->in = s;
        l->in_off = in_off;
        if (l->kind->infer(l, d))
            return -1;
        if (l->out.c < 1 || l->out.h < 1 || l->out.w < 1)
            return error_at(d, l->line, l->col, "%s: output shape is empty", l->name);
        if (shape_size(l->out) > MAX_TENSOR || l->w_size > MAX_TENSOR)
            return error_at(d, l->line, l->col, "%s: tensor exceeds the limit of %ld values",
                            l->name, MAX_TENSOR);
        l->need_dinput = seen_params;
        seen_params |= l->w_size > 0;
        l->need_backward = seen_params;
        if (l->w_size) {
            l->w_off = params;
            l->b_off = params + l->w_size;
            params += l->w_size + l->b_size;
            if (params > MAX_PARAMS)
                return error_at(d, l->line, l->col,
                                "%s: the model exceeds the limit of %ld parameters", l->name,
                                MAX_PARAMS);
        }
        if (l->kind == &flatten_kind) {
            l->out_off = l->in_off; /* same memory, seen as a vector */
        } else {
            l->out_off = act;
            act += shape_size(l->out);
            if (act > MAX_PARAMS)
                return error_at(d, l->line, l->col,
                                "%s: activations exceed the limit of %ld values per sample",
                                l->name, MAX_PARAMS);
        }
        in_off = l->out_off;
        s = l->out;
    }
    const Layer *last = &m->layers[m->n_layers - 1];
    if (!s.flat)
        return error_at(d, last->line, last->col,
                        "the last layer must give a vector of class scores (logits), but %s "
                        "gives %dx%dx%d: end with flatten and dense",
                        last->name, s.h, s.w, s.c);
    if (s.c < 2)
        return error_at(d, last->line, last->col,
                        "the last layer gives %d class score; at least 2 are needed", s.c);
    if (!seen_params)
        return error_at(d, last->line, last->col, "the model has no trainable parameters");
    m->n_params = params;
    m->act_floats = act;
    m->logits_off = last->out_off;
    m->n_classes = s.c;
    return 0;
}

/* ---- the runtime's view ------------------------------------------------ */

static void add_tensor(lenet_tensor *t, const char *layer, const char *what, long off, long size,
                       int ndim, const int *dims, int fan_in, int fan_out) {
    char name[MAX_NAME + 8];
    snprintf(name, sizeof name, "%s.%s", layer, what);
    t->name = strdup(name);
    t->ndim = ndim;
    for (int i = 0; i < 4; i++)
        t->dims[i] = i < ndim ? dims[i] : 0;
    t->offset = (size_t)off;
    t->size = (size_t)size;
    t->fan_in = fan_in;
    t->fan_out = fan_out;
}

lenet_model *model_descriptor(const Model *m, int tile) {
    lenet_model *lm = calloc(1, sizeof *lm);
    int n = 0;
    for (int i = 0; i < m->n_layers; i++)
        n += m->layers[i].w_size ? 2 : 0;
    lenet_tensor *t = calloc((size_t)n, sizeof *t);
    if (!lm || !t) {
        fprintf(stderr, "lenetc: out of memory\n");
        exit(1);
    }
    int k = 0;
    for (int i = 0; i < m->n_layers; i++) {
        const Layer *l = &m->layers[i];
        if (!l->w_size)
            continue;
        if (l->kind == &conv_kind) {
            /* PyTorch Conv2d: weight [out][in][kh][kw] */
            int dims[4] = {l->filters, l->in.c, l->kernel, l->kernel};
            int rf = l->kernel * l->kernel;
            add_tensor(&t[k++], l->name, "weight", l->w_off, l->w_size, 4, dims, l->in.c * rf,
                       l->filters * rf);
        } else {
            /* PyTorch Linear: weight [out][in] */
            int dims[2] = {l->units, l->in.c};
            add_tensor(&t[k++], l->name, "weight", l->w_off, l->w_size, 2, dims, l->in.c,
                       l->units);
        }
        int bdims[1] = {(int)l->b_size};
        add_tensor(&t[k++], l->name, "bias", l->b_off, l->b_size, 1, bdims, 0, 0);
    }
    lm->name = strdup(m->name);
    lm->data_h = m->in_h;
    lm->data_w = m->in_w;
    lm->data_c = m->in_c;
    lm->pad = m->pad;
    lm->scale_lo = m->scale_lo;
    lm->scale_hi = m->scale_hi;
    lm->n_classes = m->n_classes;
    lm->tile = tile;
    lm->n_params = (size_t)m->n_params;
    lm->n_tensors = n;
    lm->tensors = t;
    lm->act_floats = (size_t)(m->act_floats * tile);
    lm->logits_offset = (size_t)(m->logits_off * tile);
    lm->defaults = m->train;
    return lm;
}

void descriptor_free(lenet_model *lm) {
    if (!lm)
        return;
    for (int i = 0; i < lm->n_tensors; i++)
        free((char *)lm->tensors[i].name);
    free((lenet_tensor *)lm->tensors);
    free((char *)lm->name);
    free(lm);
}

/* ---- summary, in the style of Keras' model.summary() ------------------ */

static void group_digits(long v, char *buf, size_t n) {
    char raw[32];
    snprintf(raw, sizeof raw, "%ld", v);
    size_t len = strlen(raw), j = 0;
    for (size_t i = 0; i < len && j + 2 < n; i++) {
        if (i && (len - i) % 3 == 0)
            buf[j++] = ',';
        buf[j++] = raw[i];
    }
    buf[j] = '\0';
}

/* Taps of a conv that land inside the input along one axis, over all outputs. */
static long valid_taps(int out, int k, int s, int pad, int in) {
    long n = 0;
    for (int o = 0; o < out; o++)
        for (int t = 0; t < k; t++)
            n += o * s + t - pad >= 0 && o * s + t - pad < in;
    return n;
}

long layer_macs(const Layer *l, bool backward) {
    long fwd = 0;
    if (l->kind == &conv_kind)
        fwd = (long)l->out.c * l->in.c * valid_taps(l->out.h, l->kernel, l->stride, l->pad_top, l->in.h) *
              valid_taps(l->out.w, l->kernel, l->stride, l->pad_left, l->in.w);
    else if (l->kind == &dense_kind)
        fwd = (long)l->units * l->in.c;
    if (!backward)
        return fwd;
    if (!l->need_backward)
        return 0;
    return fwd + (l->need_dinput ? fwd : 0); /* weight gradients, input gradients */
}

void model_summary(const Model *m, StrBuf *out) {
    static const char *rule =
        "_________________________________________________________________\n";
    static const char *thick =
        "=================================================================\n";
    sb_printf(out, "Model: \"%s\"\n%s", m->name, rule);
    sb_printf(out, " %-28s%-26s%s\n%s", "Layer (type)", "Output Shape", "Param #", thick);
    char shape[64], label[96], count[32];
    snprintf(shape, sizeof shape, "(None, %d, %d, %d)", m->input.h, m->input.w, m->input.c);
    snprintf(label, sizeof label, "input (InputLayer)");
    sb_printf(out, " %-28s%-26s%d\n\n", label, shape, 0);
    for (int i = 0; i < m->n_layers; i++) {
        const Layer *l = &m->layers[i];
        if (l->out.flat)
            snprintf(shape, sizeof shape, "(None, %d)", l->out.c);
        else
            snprintf(shape, sizeof shape, "(None, %d, %d, %d)", l->out.h, l->out.w, l->out.c);
        snprintf(label, sizeof label, "%s (%s)", l->name, l->kind->keras);
        group_digits(l->w_size + l->b_size, count, sizeof count);
        sb_printf(out, " %-28s%-26s%s\n", label, shape, count);
        if (i + 1 < m->n_layers)
            sb_puts(out, "\n");
    }
    group_digits(m->n_params, count, sizeof count);
    sb_printf(out, "%sTotal params: %s\nTrainable params: %s\nNon-trainable params: 0\n", thick,
              count, count);
    long fwd = 0, bwd = 0;
    for (int i = 0; i < m->n_layers; i++) {
        fwd += layer_macs(&m->layers[i], false);
        bwd += layer_macs(&m->layers[i], true);
    }
    char f[32], b[32], t[32];
    group_digits(fwd, f, sizeof f);
    group_digits(bwd, b, sizeof b);
    group_digits(fwd + bwd, t, sizeof t);
    sb_printf(out, "Multiply-adds per training sample: %s (forward %s, backward %s)\n%s", t, f, b,
              rule);
}
