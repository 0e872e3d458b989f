/* emit.c: the model's passes as C. Layer bodies come from layer_<kind>.c;
 * this file writes what surrounds them: each layer function's comment and
 * signature, and the model-level forward and backward that call them part
 * by part. The text helpers are emit_text.c's, the descriptors emit_desc.c's,
 * the files around the code emit_files.c's.
 *
 * Output is deterministic: the same spec gives the same bytes every run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lenetc.h"

/* What the passes across layers (fuse.c) did to a layer's functions:
 * the layer after it whose pass it takes in (its output and gradient are
 * then that layer's), the layer whose relu it took, the one it gave its
 * relu; NULL: none. */
typedef struct {
    const Layer *fused, *relu_from, *relu_to;
} Fusion;

static Fusion layer_fusion(const Emitter *e, const Model *m, int i) {
    return (Fusion){
        .fused = model_fuses_next(m, i, &e->opt) ? &m->layers[i + 1] : NULL,
        .relu_from = i > 0 && model_relu_moves_next(m, i - 1, &e->opt) ? &m->layers[i - 1] : NULL,
        .relu_to = model_relu_moves_next(m, i, &e->opt) ? &m->layers[i + 1] : NULL};
}

static void layer_comment(Emitter *e, const Layer *l, const Fusion *f, const char *pass) {
    const Layer *fused = f ? f->fused : NULL;
    StrBuf desc = {0};
    l->kind->describe(l, &desc);
    if (fused) {
        sb_printf(&desc, ", then %s: ", fused->name);
        fused->kind->describe(fused, &desc);
    }
    char in[64], out[64];
    shape_str(l->in, in, sizeof in);
    shape_str(l->out, out, sizeof out);
    sb_printf(e->out, "\n/* %s %s: %s\n *   in %s -> out %s (C x H x W, %d samples innermost)", l->name,
              pass, desc.data, in, out, e->opt.tile);
    /* a layer that names what it reads: which is which */
    for (int j = 0; j < l->n_inputs; j++) {
        shape_str(l->ins[j], in, sizeof in);
        sb_printf(e->out, "%s%s: %s %s", j ? ", " : "\n *   ", input_var("in", j),
                  l->input_names[j], in);
    }
    for (int i = 0; i < l->n_tensors; i++) {
        const LayerTensor *t = &l->tensors[i];
        sb_printf(e->out, "%s%s params[%ld..%ld)", i ? ", " : "\n *   ", t->name, t->off,
                  t->off + t->size);
    }
    if (l->saved)
        sb_printf(e->out, "\n *   saved for backward: %ld features", l->saved);
    if (fused)
        sb_printf(e->out, "\n *   fused: out is %s's output%s", fused->name,
                  strcmp(pass, "forward") ? ", dout its gradient" : "");
    if (f && f->relu_from)
        sb_printf(e->out, "\n *   then %s's relu, moved here (fused)", f->relu_from->name);
    if (f && f->relu_to)
        sb_printf(e->out, "\n *   its relu is done in %s (fused)", f->relu_to->name);
    sb_puts(e->out, " */\n");
    sb_free(&desc);
}

/* Whether l's forward takes the pass: the export's forward has none (it
 * never trains, and a kind that uses the pass sees forward_only). */
static bool uses_pass(const Emitter *e, const Layer *l) {
    return l->kind->uses_pass && !e->opt.forward_only;
}

/* Pointers to a layer's tensors: params + offset (and grads + offset). */
static void tensor_pointers(Emitter *e, const Layer *l, bool backward) {
    const char *R = e->opt.real;
    char buf[64];
    for (int i = 0; i < l->n_tensors; i++) {
        const LayerTensor *t = &l->tensors[i];
        /* the export has state folded into weights (export.c) */
        const bool state_folded = e->opt.forward_only && !t->trainable;
        if ((!backward || t->in_backward) && !state_folded)
            emit_line(e, "const %s *restrict %s = %s;", R, t->var, offset_expr(buf, "params", t->off));
    }
}

const char *input_var(const char *base, int j) {
    static const char *const names[2][MAX_INPUTS] = {
        {"in", "in1", "in2", "in3", "in4", "in5", "in6", "in7"},
        {"din", "din1", "din2", "din3", "din4", "din5", "din6", "din7"}};
    return names[base[0] == 'd'][j];
}

/* in (din) = acts (dacts) + the first input's place; a merge's others
 * are in1, in2... (din1, din2...). */
static void input_pointers(Emitter *e, const Layer *l, const char *base, const char *buf_name,
                           const long *offs, bool read_only) {
    char buf[64];
    for (int j = 0; j < layer_inputs(l); j++)
        emit_line(e, "%s%s *restrict %s = %s;", read_only ? "const " : "", e->opt.real,
                  input_var(base, j), offset_expr(buf, buf_name, offs[j] * e->opt.tile));
}

/* out (and dout) are fused's when l's pass takes in fused's (fuse.c) */
static void forward_begin(Emitter *e, const Layer *l, const Fusion *f) {
    const char *R = e->opt.real;
    int T = e->opt.tile;
    const long out_off = f && f->fused ? f->fused->out_off : l->out_off;
    layer_comment(e, l, f, "forward");
    char params[64] = "";
    if (l->n_tensors)
        snprintf(params, sizeof params, "const %s *restrict params, ", R);
    emit_open(e, "static void %s_forward(%s%s *restrict acts%s)", l->name, params, R,
              uses_pass(e, l) ? ", const lenet_pass *pass" : "");
    tensor_pointers(e, l, false);
    input_pointers(e, l, "in", "acts", l->in_offs, true);
    emit_line(e, "%s *restrict out = acts + %ld;", R, out_off * T);
    if (l->saved && !e->opt.forward_only) /* kept for a backward pass */
        emit_line(e, "%s *restrict saved = acts + %ld;", R, l->saved_off * T);
}

void emit_forward_begin(Emitter *e, const Layer *l) { forward_begin(e, l, NULL); }

static void backward_begin(Emitter *e, const Layer *l, const Fusion *f) {
    const char *R = e->opt.real;
    int T = e->opt.tile;
    const bool trained = layer_params(l, true) > 0;
    const long out_off = f && f->fused ? f->fused->out_off : l->out_off;
    layer_comment(e, l, f, "backward");
    char params[64] = "", grads[64] = "";
    if (l->n_tensors)
        snprintf(params, sizeof params, "const %s *restrict params, ", R);
    if (trained)
        snprintf(grads, sizeof grads, ", %s *restrict grads", R);
    emit_open(e, "static void %s_backward(%sconst %s *restrict acts, %s *restrict dacts%s%s)",
              l->name, params, R, R, grads,
              l->kind->batch_statistics ? ", const lenet_pass *pass" : "");
    tensor_pointers(e, l, true);
    char buf[64];
    input_pointers(e, l, "in", "acts", l->in_offs, true);
    emit_line(e, "const %s *restrict out = acts + %ld;", R, out_off * T);
    if (l->saved)
        emit_line(e, "const %s *restrict saved = acts + %ld;", R, l->saved_off * T);
    emit_line(e, "%s *restrict dout = dacts + %ld;", R, out_off * T);
    if (l->need_dinput)
        input_pointers(e, l, "din", "dacts", l->din_offs, false);
    for (int i = 0; i < l->n_tensors; i++) {
        const LayerTensor *t = &l->tensors[i];
        if (t->trainable)
            emit_line(e, "%s *restrict %s = %s;", R, t->grad_var, offset_expr(buf, "grads", t->off));
    }
}

void emit_backward_begin(Emitter *e, const Layer *l) { backward_begin(e, l, NULL); }

void emit_function_end(Emitter *e) { emit_close(e); }

void emit_forward_sums_begin(Emitter *e, const Layer *l) {
    const char *R = e->opt.real;
    char buf[64];
    sb_printf(e->out, "\n/* %s forward sums: this tile's share of the batch statistics of its "
                      "input */\n", l->name);
    emit_open(e, "static void %s_forward_sums(const %s *restrict acts, const lenet_pass *pass)",
              l->name, R);
    emit_line(e, "const %s *restrict in = %s;", R, offset_expr(buf, "acts", l->in_off * e->opt.tile));
    emit_line(e, "double *restrict sums = %s;", offset_expr(buf, "pass->sums", l->sums_off));
}

void emit_backward_sums_begin(Emitter *e, const Layer *l) {
    const char *R = e->opt.real;
    const int T = e->opt.tile;
    char buf[64];
    sb_printf(e->out, "\n/* %s backward sums: this tile's share of the batch statistics of its "
                      "output's gradient */\n", l->name);
    emit_open(e,
              "static void %s_backward_sums(const %s *restrict acts, const %s *restrict dacts, "
              "const lenet_pass *pass)",
              l->name, R, R);
    emit_line(e, "const %s *restrict out = acts + %ld;", R, l->out_off * T);
    if (l->saved)
        emit_line(e, "const %s *restrict saved = acts + %ld;", R, l->saved_off * T);
    emit_line(e, "const %s *restrict dout = dacts + %ld;", R, l->out_off * T);
    emit_line(e, "double *restrict sums = %s;", offset_expr(buf, "pass->sums", l->sums_off));
}

void emit_update_state_begin(Emitter *e, const Layer *l) {
    const char *R = e->opt.real;
    char buf[64];
    sb_printf(e->out, "\n/* %s state: from the batch statistics of a training step */\n", l->name);
    emit_open(e, "static void %s_update_state(%s *restrict params, const lenet_pass *pass)", l->name,
              R);
    for (int i = 0; i < l->n_tensors; i++) {
        const LayerTensor *t = &l->tensors[i];
        if (!t->trainable)
            emit_line(e, "%s *restrict %s = %s;", R, t->var, offset_expr(buf, "params", t->off));
    }
}

/* The gradient of an output several layers read: the sum of theirs, into
 * the place the first wrote (the others wrote places of their own). */
static void emit_gradient_sum(Emitter *e, const Layer *l) {
    const char *R = e->opt.real;
    const int T = e->opt.tile;
    sb_printf(e->out, "\n/* %s gradient: %d layers read its output; its gradient is the sum of "
                      "theirs */\n", l->name, l->n_grad_sums + 1);
    emit_open(e, "static void %s_gradient(%s *restrict dacts)", l->name, R);
    emit_line(e, "%s *restrict dout = dacts + %ld;", R, l->out_off * T);
    Program p = {.n = 0};
    static const char *const names[] = {"g1", "g2", "g3", "g4", "g5", "g6", "g7", "g8",
                                        "g9", "g10", "g11", "g12", "g13", "g14", "g15"};
    for (int k = 0; k < l->n_grad_sums; k++) {
        emit_line(e, "const %s *restrict %s = dacts + %ld;", R, names[k], l->grad_sums[k] * T);
        program_add(&p, (Op){.kind = OP_ADD, .n = shape_size(l->out) * T, .in = "dout",
                             .by = names[k], .out = "dout"});
    }
    render_program(e, &p);
    emit_close(e);
}

/* ---- the kernels ------------------------------------------------------- */

const lenet_target *emit_target(const EmitOptions *o) {
    const lenet_target *t = o->target ? lenet_target_find(o->target) : NULL;
    return t ? t : lenet_target_native();
}

const char *emit_style_name(CodeStyle style) {
    static const char *const names[] = {
        [STYLE_LOOPS] = "loops", [STYLE_UNROLL] = "unrolled", [STYLE_KERNELS] = "kernels"};
    return names[style];
}

int emit_check_size(const Model *m, const EmitOptions *o, Diag *d) {
    if (o->style != STYLE_UNROLL)
        return 0; /* loop-shaped code does not grow with the sizes */
    long macs = 0;
    for (int i = 0; i < m->n_layers; i++)
        macs += layer_macs(&m->layers[i], false) + layer_macs(&m->layers[i], true);
    const long bytes = 34 * macs;
    if (bytes <= MAX_UNROLLED_BYTES)
        return 0;
    return error_at(d, 0, 0,
                    "unrolled, this model would be about %ld MiB of C (%ld multiply-adds per "
                    "sample; the limit is %ld MiB): use --style loops",
                    bytes >> 20, macs, MAX_UNROLLED_BYTES >> 20);
}

/* Whether layer i's passes are done in layer i - 1's (fuse.c). */
static bool fused_into_previous(const Emitter *e, const Model *m, int i) {
    return i > 0 && model_fuses_next(m, i - 1, &e->opt);
}

/* The call of layer i's function from the model's: its arguments are those
 * emit_forward_begin and emit_backward_begin declare. */
static void layer_call(Emitter *e, const Model *m, int i, bool backward) {
    const Layer *l = &m->layers[i];
    const bool params = l->n_tensors > 0;
    if (fused_into_previous(e, m, i))
        emit_line(e, "/* %s: done in %s's %s (fused) */", l->name, m->layers[i - 1].name,
                  backward ? "gradient" : "store");
    else if (l->kind->view)
        emit_line(e, backward ? "/* %s: nothing to do */"
                              : "/* %s: its output is its input, seen another way */",
                  l->name);
    else if (!backward)
        emit_line(e, "%s_forward(%sacts%s);", l->name, params ? "params, " : "",
                  uses_pass(e, l) ? ", pass" : "");
    else
        emit_line(e, "%s_backward(%sacts, dacts%s%s);", l->name, params ? "params, " : "",
                  layer_params(l, true) ? ", grads" : "", l->kind->batch_statistics ? ", pass" : "");
}

/* A case label of the parts' switch, at the switch's own indentation. */
static void emit_case(Emitter *e, int part) {
    e->indent--;
    emit_line(e, "case %d:", part);
    e->indent++;
}

/* The model's forward pass: the layers in order; in parts when the model
 * has batch statistics (lenet_pass), except in the export. */
static void emit_model_forward(Emitter *E, const Model *m) {
    const bool parts = m->parts > 1 && !E->opt.forward_only;
    if (parts) {
        emit_line(E, "/* a training step runs this in %d parts, a call each, split at the batch",
                  m->parts);
        emit_line(E, " * statistics (pass->part); evaluation runs them all in one call */");
        emit_open(E, "switch (pass->training ? pass->part : 0)");
        emit_case(E, 0);
    }
    for (int i = 0; i < m->n_layers; i++) {
        const Layer *l = &m->layers[i];
        if (parts && l->kind->batch_statistics) {
            emit_open(E, "if (pass->training)");
            emit_line(E, "%s_forward_sums(acts, pass);", l->name);
            emit_line(E, "return;");
            emit_close(E);
            emit_line(E, "/* fall through */");
            emit_case(E, l->part);
        }
        layer_call(E, m, i, false);
    }
    if (parts)
        emit_close(E);
}

/* The model's backward pass: the trained layers in reverse, in parts. */
static void emit_model_backward(Emitter *E, const Model *m) {
    const bool parts = m->parts > 1;
    if (parts) {
        emit_line(E, "/* in %d parts, from the last to 0 (pass->part), split at the batch "
                     "statistics */", m->parts);
        emit_open(E, "switch (pass->part)");
        emit_case(E, m->parts - 1);
    }
    for (int i = m->n_layers - 1; i >= 0; i--) {
        const Layer *l = &m->layers[i];
        if (!l->need_backward)
            continue;
        if (l->n_grad_sums)
            emit_line(E, "%s_gradient(dacts);", l->name);
        if (parts && l->kind->batch_statistics) {
            emit_line(E, "%s_backward_sums(acts, dacts, pass);", l->name);
            emit_line(E, "return;");
            emit_case(E, l->part - 1);
        }
        layer_call(E, m, i, true);
    }
    if (parts)
        emit_close(E);
}

/* A body of one of layer i's functions: its lowered stage, through the
 * passes over the program (its pass: those across layers too), rendered
 * in the style. */
static void layer_body(Emitter *e, const Model *m, int i, LowerStage stage, bool backward) {
    Program p = {.n = 0};
    layer_lower(&m->layers[i], &e->opt, stage, backward, &p);
    program_fuse(&p, e->opt.style);
    if (stage == LOWER_PASS)
        model_fuse(m, i, &e->opt, backward, &p);
    render_program(e, &p);
}

void emit_kernels(const Model *m, const EmitOptions *o, StrBuf *out) {
    Emitter e = {.out = out, .opt = *o};
    Emitter *E = &e;
    const char *R = o->real;
    for (int i = 0; i < m->n_layers; i++) {
        const Layer *l = &m->layers[i];
        const Fusion f = layer_fusion(E, m, i);
        if (l->kind->view || fused_into_previous(E, m, i))
            continue;
        forward_begin(E, l, &f);
        layer_body(E, m, i, LOWER_PASS, false);
        emit_function_end(E);
        if (l->kind->batch_statistics && !o->forward_only) {
            emit_forward_sums_begin(E, l);
            layer_body(E, m, i, LOWER_SUMS, false);
            emit_function_end(E);
        }
    }
    for (int i = m->n_layers - 1; i >= 0 && !o->forward_only; i--) {
        const Layer *l = &m->layers[i];
        const Fusion f = layer_fusion(E, m, i);
        if (l->n_grad_sums && l->need_backward)
            emit_gradient_sum(E, l);
        if (l->kind->view || !l->need_backward || fused_into_previous(E, m, i))
            continue;
        if (l->kind->batch_statistics) {
            emit_backward_sums_begin(E, l);
            layer_body(E, m, i, LOWER_SUMS, true);
            emit_function_end(E);
        }
        backward_begin(E, l, &f);
        if (l->need_dinput || layer_params(l, true))
            layer_body(E, m, i, LOWER_PASS, true);
        emit_function_end(E);
    }
    for (int i = 0; i < m->n_layers && !o->forward_only; i++) {
        const Layer *l = &m->layers[i];
        if (l->kind->batch_statistics) {
            emit_update_state_begin(E, l);
            layer_body(E, m, i, LOWER_STATE, false);
            emit_function_end(E);
        }
    }

    sb_printf(out, "\n/* %s forward: the input tile is acts[0..%ld), the logits tile acts[%ld..%ld) */\n",
              m->name, shape_size(m->input) * o->tile,
              m->logits_off * o->tile, (m->logits_off + m->n_classes) * o->tile);
    if (o->forward_only)
        emit_open(E, "static void %s_forward(const %s *restrict params, %s *restrict acts)",
                  m->name, R, R);
    else
        emit_open(E,
                  "void %s_forward(const %s *restrict params, %s *restrict acts, "
                  "const lenet_pass *pass)",
                  m->name, R, R);
    emit_model_forward(E, m);
    emit_close(E);

    if (o->forward_only)
        return;
    sb_printf(out, "\n/* %s backward: dacts holds dLoss/dlogits at the logits offset;\n"
                   " * parameter gradients are ADDED to grads. */\n",
              m->name);
    emit_open(E,
              "void %s_backward(const %s *restrict params, const %s *restrict acts, "
              "%s *restrict dacts, %s *restrict grads, const lenet_pass *pass)",
              m->name, R, R, R, R);
    emit_model_backward(E, m);
    emit_close(E);
    if (m->parts < 2)
        return;
    sb_printf(out, "\n/* %s state: the running statistics, from a training step's batch sums;\n"
                   " * once a step, after its forward parts. */\n", m->name);
    emit_open(E, "void %s_update_state(%s *restrict params, const lenet_pass *pass)", m->name, R);
    for (int i = 0; i < m->n_layers; i++)
        if (m->layers[i].kind->batch_statistics)
            emit_line(E, "%s_update_state(params, pass);", m->layers[i].name);
    emit_close(E);
}
