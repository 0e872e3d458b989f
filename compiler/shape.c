/* shape.c: infers every layer's shape, checks limits and assigns where each
 * parameter and activation lives. After this pass every size is known and
 * the emitter prints them as literals. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lenetc.h"

/* What compiles but is likely not what was meant. */
static void warn_mistakes(const Model *m, Diag *d) {
    for (int i = 0; i < m->n_layers; i++) {
        const Layer *l = &m->layers[i];
        if (l->kind->view && l->in.flat)
            warn_at(d, l->line, l->col, "%s: its input is already a vector: this %s does nothing",
                    l->name, l->kind->kind);
    }
    /* the logits: the last layer with parameters, and what follows it */
    int k = m->n_layers - 1;
    while (k > 0 && !layer_params(&m->layers[k], true))
        k--;
    const Layer *logits = &m->layers[k];
    if (layer_activation(logits) != ACT_NONE)
        warn_at(d, logits->line, logits->col,
                "%s gives the logits, but its activation %s changes them: softmax "
                "cross-entropy takes raw scores (activation: none)",
                logits->name, activation_names[layer_activation(logits)]);
    for (int i = k + 1; i < m->n_layers; i++) {
        const Layer *l = &m->layers[i];
        if (l->kind->activation)
            warn_at(d, l->line, l->col,
                    "%s comes after the logits (%s): softmax cross-entropy takes raw scores",
                    l->name, logits->name);
    }
}

void model_warn_tile(const Model *m, int tile, Diag *d) {
    if (m->train.batch < tile)
        warn_at(d, m->batch_line, m->batch_col,
                "a batch of %d is smaller than a tile of %d samples: %d lanes of each tile "
                "compute nothing (--tile %d, or a larger batch)",
                m->train.batch, tile, tile - m->train.batch, m->train.batch);
}

/* The layers each layer reads (inputs[], ins[], in_offs[], in, in_off),
 * by the names the spec gives: one defined above it, or "input"; none
 * named: the layer above. */
static int resolve_inputs(Model *m, int i, Diag *d) {
    Layer *l = &m->layers[i];
    if (l->n_inputs == 0) {
        l->inputs[0] = i - 1; /* INPUT_IMAGE for the first */
    }
    for (int j = 0; j < l->n_inputs; j++) {
        const char *want = l->input_names[j];
        int k = strcmp(want, "input") == 0 ? INPUT_IMAGE : -2;
        for (int q = 0; q < m->n_layers && k == -2; q++)
            if (strcmp(m->layers[q].name, want) == 0)
                k = q;
        if (k == -2) {
            /* what it can read: the model's input and the layers above */
            char names[256] = "input";
            for (int q = 0; q < i && strlen(names) + MAX_NAME + 8 < sizeof names; q++)
                snprintf(names + strlen(names), sizeof names - strlen(names), ", %s",
                         m->layers[q].name);
            return error_at(d, l->input_line[j], l->input_col[j],
                            "%s: no layer is named '%s' (it can read %s)", l->name, want,
                            names);
        }
        if (k >= i)
            return error_at(d, l->input_line[j], l->input_col[j],
                            "%s: '%s' is %s (line %d): a layer takes the output of one above it",
                            l->name, want, k == i ? "this layer" : "defined below",
                            m->layers[k].line);
        l->inputs[j] = k;
    }
    for (int j = 0; j < layer_inputs(l); j++) {
        const int k = l->inputs[j];
        l->ins[j] = k == INPUT_IMAGE ? m->input : m->layers[k].out;
        l->in_offs[j] = k == INPUT_IMAGE ? 0 : m->layers[k].out_off;
    }
    l->in = l->ins[0];
    l->in_off = l->in_offs[0];
    return 0;
}

/* Who reads what, and so what backward computes: which outputs reach the
 * logits, which layers have something trained at or before them
 * (need_backward) and need their inputs' gradients (need_dinput); an
 * output nobody reads is likely a mistake. */
static int trace_users(Model *m, Diag *d) {
    for (int i = 0; i < m->n_layers; i++)
        m->layers[i].users = 0;
    for (int i = 0; i < m->n_layers; i++)
        for (int j = 0; j < layer_inputs(&m->layers[i]); j++)
            if (m->layers[i].inputs[j] != INPUT_IMAGE)
                m->layers[m->layers[i].inputs[j]].users++;
    for (int i = m->n_layers - 1; i >= 0; i--) {
        Layer *l = &m->layers[i];
        l->reaches_loss = i == m->n_layers - 1;
        for (int k = i + 1; k < m->n_layers && !l->reaches_loss; k++)
            for (int j = 0; j < layer_inputs(&m->layers[k]); j++)
                l->reaches_loss |= m->layers[k].inputs[j] == i && m->layers[k].reaches_loss;
        if (l->users > MAX_USERS)
            return error_at(d, l->line, l->col, "%s: its output is read by %d layers (at most %d)",
                            l->name, l->users, MAX_USERS);
        if (!l->users && i < m->n_layers - 1)
            warn_at(d, l->line, l->col,
                    "%s: no layer reads its output (the logits are the last layer's)", l->name);
    }
    /* trained at or before: its own trainable tensors, or an input's */
    for (int i = 0; i < m->n_layers; i++) {
        Layer *l = &m->layers[i];
        bool before = false;
        for (int j = 0; j < layer_inputs(l); j++)
            before |= l->inputs[j] != INPUT_IMAGE && m->layers[l->inputs[j]].need_backward;
        l->need_dinput = before;
        l->need_backward = (before || layer_params(l, true) > 0) && l->reaches_loss;
    }
    return 0;
}

/* Where each backward writes its inputs' gradients (din_offs): for each
 * output, one reader writes into its place (a view must: its output is
 * that place), the others into places of their own after the activations
 * (act: their end, grown), summed into it before its backward. */
static int place_gradients(Model *m, long *act, Diag *d) {
    for (int i = 0; i < m->n_layers; i++)
        m->layers[i].n_grad_sums = 0;
    for (int p = INPUT_IMAGE; p < m->n_layers; p++) {
        Layer *pl = p == INPUT_IMAGE ? NULL : &m->layers[p];
        const long place = pl ? pl->out_off : 0;
        const long size = shape_size(pl ? pl->out : m->input);
        /* the readers whose backward writes a gradient of p's output */
        bool placed = false;
        const Layer *view = NULL; /* the view that has the place */
        for (int pass = 0; pass < 2; pass++) /* views first: they must have the place */
            for (int i = p + 1; i < m->n_layers; i++) {
                Layer *l = &m->layers[i];
                if (l->kind->view != (pass == 0))
                    continue;
                for (int j = 0; j < layer_inputs(l); j++) {
                    if (l->inputs[j] != p)
                        continue;
                    const bool writes = l->need_backward && l->need_dinput;
                    if (!writes || !pl || !pl->need_backward || !placed) {
                        /* nobody needs p's gradient, or the first writer */
                        l->din_offs[j] = place;
                        placed |= writes && pl && pl->need_backward;
                        view = l->kind->view && !view ? l : view;
                        continue;
                    }
                    if (l->kind->view)
                        return error_at(d, l->line, l->col,
                                        "%s: %s's output is already seen this way by %s: "
                                        "read %s instead",
                                        l->name, pl->name, view->name, view->name);
                    l->din_offs[j] = *act;
                    pl->grad_sums[pl->n_grad_sums++] = *act;
                    *act += size;
                }
            }
    }
    return 0;
}

int model_infer(Model *m, Diag *d) {
    Shape s = {m->in_c, m->in_h + 2 * m->pad, m->in_w + 2 * m->pad, false};
    m->input = s;
    if (shape_size(s) > MAX_TENSOR)
        return error_at(d, 0, 0, "input of %ld values exceeds the limit of %ld", shape_size(s),
                        MAX_TENSOR);
    long act = shape_size(s), params = 0;
    long sums = 0;
    int part = 0;
    for (int i = 0; i < m->n_layers; i++) {
        Layer *l = &m->layers[i];
        if (resolve_inputs(m, i, d))
            return -1;
        l->n_tensors = 0;
        if (l->kind->infer(l, d))
            return -1;
        if (l->out.c < 1 || l->out.h < 1 || l->out.w < 1)
            return error_at(d, l->line, l->col, "%s: output shape is empty", l->name);
        bool too_big = shape_size(l->out) > MAX_TENSOR || l->saved > MAX_TENSOR;
        for (int k = 0; k < l->n_tensors; k++)
            too_big |= l->tensors[k].size > MAX_TENSOR;
        if (too_big)
            return error_at(d, l->line, l->col, "%s: tensor exceeds the limit of %ld values",
                            l->name, MAX_TENSOR);
        params += layer_params(l, false);
        if (params > MAX_PARAMS)
            return error_at(d, l->line, l->col,
                            "%s: the model exceeds the limit of %ld parameters", l->name,
                            MAX_PARAMS);
        if (l->kind->view) {
            l->out_off = l->in_off; /* same memory, seen another way */
        } else {
            l->out_off = act;
            act += shape_size(l->out);
        }
        l->saved_off = act;
        act += l->saved;
        if (act > MAX_PARAMS)
            return error_at(d, l->line, l->col,
                            "%s: activations exceed the limit of %ld values per sample",
                            l->name, MAX_PARAMS);
        if (l->kind->batch_statistics) { /* a batch statistic starts a part */
            part++;
            l->sums_off = sums;
            sums += l->sums;
        }
        l->part = part;
        s = l->out;
    }
    if (trace_users(m, d) || place_gradients(m, &act, d))
        return -1;
    if (act > MAX_PARAMS)
        return error_at(d, 0, 0, "activations exceed the limit of %ld values per sample",
                        MAX_PARAMS);
    bool seen_trainable = false;
    for (int i = 0; i < m->n_layers; i++)
        seen_trainable |= layer_params(&m->layers[i], true) > 0 && m->layers[i].reaches_loss;
    const Layer *last = &m->layers[m->n_layers - 1];
    if (!s.flat)
        return error_at(d, last->line, last->col,
                        "the last layer must give a vector of class scores (logits), but %s "
                        "gives %dx%dx%d: end with flatten and dense",
                        last->name, s.h, s.w, s.c);
    if (s.c < 2)
        return error_at(d, last->line, last->col,
                        "the last layer gives %d class score; at least 2 are needed", s.c);
    if (!seen_trainable)
        return error_at(d, last->line, last->col, "the model has no trainable parameters");
    warn_mistakes(m, d);
    /* the trainable tensors first, in layer order, then the state: the
     * optimiser updates one run, params[0..n_trainable) */
    long off = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < m->n_layers; i++)
            for (int k = 0; k < m->layers[i].n_tensors; k++) {
                LayerTensor *t = &m->layers[i].tensors[k];
                if (t->trainable == (pass == 0)) {
                    t->off = off;
                    off += t->size;
                }
            }
        if (pass == 0)
            m->n_trainable = off;
    }
    m->n_params = params;
    m->act_floats = act;
    m->logits_off = last->out_off;
    m->n_classes = s.c;
    m->parts = part + 1;
    m->sums = sums;
    return 0;
}

/* ---- the runtime's view ------------------------------------------------ */

lenet_model *model_descriptor(const Model *m, int tile) {
    lenet_model *lm = calloc(1, sizeof *lm);
    int n = 0;
    for (int i = 0; i < m->n_layers; i++)
        n += m->layers[i].n_tensors;
    lenet_tensor *t = calloc((size_t)n, sizeof *t);
    if (!lm || !t) {
        fprintf(stderr, "lenetc: out of memory\n");
        exit(1);
    }
    /* in params order: a table whose offsets only grow */
    int k = 0;
    for (int trainable = 1; trainable >= 0; trainable--)
        for (int i = 0; i < m->n_layers; i++) {
            const Layer *l = &m->layers[i];
            for (int j = 0; j < l->n_tensors; j++) {
                const LayerTensor *lt = &l->tensors[j];
                if (lt->trainable != trainable)
                    continue;
                char name[2 * MAX_NAME];
                snprintf(name, sizeof name, "%s.%s", l->name, lt->name);
                t[k++] = (lenet_tensor){.name = strdup(name), .ndim = lt->ndim,
                                        .dims = {lt->dims[0], lt->dims[1], lt->dims[2], lt->dims[3]},
                                        .offset = (size_t)lt->off, .size = (size_t)lt->size,
                                        .fan_in = lt->fan_in, .fan_out = lt->fan_out,
                                        .init = lt->init, .trainable = lt->trainable};
            }
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
    lm->n_trainable = (size_t)m->n_trainable;
    lm->n_tensors = n;
    lm->tensors = t;
    lm->act_floats = (size_t)(m->act_floats * tile);
    lm->logits_offset = (size_t)(m->logits_off * tile);
    lm->parts = m->parts;
    lm->sums = (size_t)m->sums;
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

long layer_macs(const Layer *l, bool backward) {
    long fwd = l->kind->macs ? l->kind->macs(l) : 0;
    if (!backward)
        return fwd;
    if (!l->need_backward)
        return 0;
    /* weight gradients (if trained), input gradients (if needed) */
    return (layer_params(l, true) ? fwd : 0) + (l->need_dinput ? fwd : 0);
}

/* Whether some layer reads another than the one above it (the summary
 * then says what each reads, as Keras' does of a functional model). */
static bool is_graph(const Model *m) {
    for (int i = 0; i < m->n_layers; i++)
        if (m->layers[i].n_inputs)
            return true;
    return false;
}

/* "stem, a2" (the names of l's inputs), into sb */
static void inputs_str(const Model *m, const Layer *l, StrBuf *sb) {
    for (int j = 0; j < layer_inputs(l); j++)
        sb_printf(sb, "%s%s", j ? ", " : "",
                  l->inputs[j] == INPUT_IMAGE ? "input" : m->layers[l->inputs[j]].name);
}

void model_summary(const Model *m, StrBuf *out) {
    const bool graph = is_graph(m);
    const char *rule = graph ? "__________________________________________________________________"
                               "______________________________\n"
                             : "_________________________________________________________________\n";
    const char *thick = graph ? "================================================================="
                                "===============================\n"
                              : "=================================================================\n";
    sb_printf(out, "Model: \"%s\"\n%s", m->name, rule);
    if (graph)
        sb_printf(out, " %-28s%-26s%-12s%s\n%s", "Layer (type)", "Output Shape", "Param #",
                  "Connected to", thick);
    else
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
        group_digits(layer_params(l, false), count, sizeof count);
        if (graph) {
            StrBuf from = {0};
            inputs_str(m, l, &from);
            sb_printf(out, " %-27s %-25s %-11s %s\n", label, shape, count, from.data);
            sb_free(&from);
        } else {
            sb_printf(out, " %-27s %-25s %s\n", label, shape, count);
        }
        if (i + 1 < m->n_layers)
            sb_puts(out, "\n");
    }
    char trainable[32], state[32];
    group_digits(m->n_params, count, sizeof count);
    group_digits(m->n_trainable, trainable, sizeof trainable);
    group_digits(m->n_params - m->n_trainable, state, sizeof state);
    sb_printf(out, "%sTotal params: %s\nTrainable params: %s\nNon-trainable params: %s\n", thick,
              count, trainable, state);
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

/* ---- the same for tools: lenetc summary --json ------------------------- */

static json_t *shape_json(Shape s) {
    return s.flat ? json_pack("[i]", s.c) : json_pack("[i, i, i]", s.h, s.w, s.c);
}

char *model_summary_json(const Model *m) {
    static const char *const inits[] = {
        [LENET_INIT_ZEROS] = "zeros", [LENET_INIT_ONES] = "ones",
        [LENET_INIT_GLOROT_UNIFORM] = "glorot_uniform", [LENET_INIT_HE_UNIFORM] = "he_uniform"};
    json_t *layers = json_array(), *tensors = json_array();
    long fwd = 0, bwd = 0;
    for (int i = 0; i < m->n_layers; i++) {
        const Layer *l = &m->layers[i];
        StrBuf desc = {0};
        l->kind->describe(l, &desc);
        json_t *modules = json_array(), *inputs = json_array();
        if (l->kind->torch)
            l->kind->torch(l, modules);
        for (int j = 0; j < layer_inputs(l); j++)
            json_array_append_new(inputs, json_string(l->inputs[j] == INPUT_IMAGE
                                                          ? "input"
                                                          : m->layers[l->inputs[j]].name));
        json_array_append_new(
            layers, json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:I, s:o}", "name", l->name,
                              "kind", l->kind->kind, "keras", l->kind->keras, "describe",
                              desc.data, "inputs", inputs, "output", shape_json(l->out),
                              "params", (json_int_t)layer_params(l, false), "torch", modules));
        sb_free(&desc);
        for (int k = 0; k < l->n_tensors; k++) {
            const LayerTensor *t = &l->tensors[k];
            char name[2 * MAX_NAME];
            snprintf(name, sizeof name, "%s.%s", l->name, t->name);
            json_t *dims = json_array();
            for (int j = 0; j < t->ndim; j++)
                json_array_append_new(dims, json_integer(t->dims[j]));
            json_array_append_new(
                tensors, json_pack("{s:s, s:o, s:I, s:I, s:b, s:s}", "name", name, "shape", dims,
                                   "offset", (json_int_t)t->off, "size", (json_int_t)t->size,
                                   "trainable", t->trainable, "init", inits[t->init]));
        }
        fwd += layer_macs(l, false);
        bwd += layer_macs(l, true);
    }
    json_t *root = json_pack(
        "{s:s, s:{s:[i, i, i], s:i, s:[o, o]}, s:o, s:o, s:{s:I, s:I, s:I}, s:{s:I, s:I}}", "name",
        m->name, "input", "shape", m->in_h, m->in_w, m->in_c, "pad", m->pad, "scale",
        layer_json_real(m->scale_lo), layer_json_real(m->scale_hi), "layers", layers, "tensors", tensors,
        "params", "total", (json_int_t)m->n_params, "trainable", (json_int_t)m->n_trainable,
        "non_trainable", (json_int_t)(m->n_params - m->n_trainable), "multiply_adds", "forward",
        (json_int_t)fwd, "backward", (json_int_t)bwd);
    char *text = root ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(root);
    return text;
}
