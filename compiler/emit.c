/* emit.c: the IR -> C source. Layer bodies come from layer_<kind>.c; this
 * file writes what surrounds them: comments, signatures, the model-level
 * forward/backward, the header, the runtime descriptor and the Makefile.
 *
 * Output is deterministic: the same spec gives the same bytes every run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lenetc.h"

/* ---- printing helpers -------------------------------------------------- */

static void emit_indent(Emitter *e) {
    for (int i = 0; i < e->indent; i++)
        sb_puts(e->out, "    ");
}

void emit_line(Emitter *e, const char *fmt, ...) {
    emit_indent(e);
    va_list ap;
    va_start(ap, fmt);
    sb_vprintf(e->out, fmt, ap);
    va_end(ap);
    sb_puts(e->out, "\n");
}

void emit_open(Emitter *e, const char *fmt, ...) {
    emit_indent(e);
    va_list ap;
    va_start(ap, fmt);
    sb_vprintf(e->out, fmt, ap);
    va_end(ap);
    sb_puts(e->out, " {\n");
    e->indent++;
}

void emit_close(Emitter *e) {
    e->indent--;
    emit_line(e, "}");
}

const char *emit_real(Emitter *e, double v, char buf[32]) {
    const bool is_float = strcmp(e->opt.real, "float") == 0;
    lenet_shortest(v, is_float, buf);
    if (!strpbrk(buf, ".en"))
        strcat(buf, ".0");
    if (is_float)
        strcat(buf, "f");
    return buf;
}

const char *emit_spec_real(Emitter *e, float v, char buf[32]) {
    char digits[32];
    return emit_real(e, strtod(lenet_shortest(v, true, digits), NULL), buf);
}

void emit_lane_loop(Emitter *e) {
    emit_open(e, "for (int b = 0; b < %d; b++)", e->opt.tile);
}

/* Writes template t with every `$` replaced by lane (or by "b" if lane < 0). */
static void put_lane(StrBuf *out, const char *t, int lane) {
    for (; *t; t++)
        if (*t != '$')
            sb_printf(out, "%c", *t);
        else if (lane < 0)
            sb_puts(out, "b");
        else
            sb_printf(out, "%d", lane);
}

#define LANES_WRITTEN_OUT(e) ((e)->opt.style == STYLE_LOOPS && (e)->opt.tile <= 16)

void emit_lanes(Emitter *e, const char *fmt, ...) {
    char t[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t, sizeof t, fmt, ap);
    va_end(ap);
    if (!LANES_WRITTEN_OUT(e)) {
        emit_line(e, "for (int b = 0; b < %d; b++)", e->opt.tile);
        emit_indent(e);
        sb_puts(e->out, "    ");
        put_lane(e->out, t, -1);
        sb_puts(e->out, "\n");
        return;
    }
    const int per_line = strlen(t) < 32 ? 4 : 2;
    for (int b = 0; b < e->opt.tile; b++) {
        if (b % per_line == 0)
            emit_indent(e);
        put_lane(e->out, t, b);
        sb_puts(e->out, b % per_line == per_line - 1 || b + 1 == e->opt.tile ? "\n" : " ");
    }
}

void emit_lane_sum(Emitter *e, const char *lhs, const char *term) {
    if (!LANES_WRITTEN_OUT(e)) {
        emit_line(e, "for (int b = 0; b < %d; b++)", e->opt.tile);
        emit_indent(e);
        sb_printf(e->out, "    %s += ", lhs);
        put_lane(e->out, term, -1);
        sb_puts(e->out, ";\n");
        return;
    }
    emit_indent(e);
    sb_printf(e->out, "%s = %s", lhs, lhs);
    for (int b = 0; b < e->opt.tile; b++) {
        sb_puts(e->out, b && b % 4 == 0 ? "\n" : "");
        if (b && b % 4 == 0) {
            emit_indent(e);
            sb_puts(e->out, "   ");
        }
        sb_puts(e->out, " + ");
        put_lane(e->out, term, b);
    }
    sb_puts(e->out, ";\n");
}

void emit_zero(Emitter *e, const char *p, long n) {
    emit_line(e, "for (int i = 0; i < %ld; i++)", n * e->opt.tile);
    emit_line(e, "    %s[i] = 0;", p);
}

/* Whether expr needs parentheses before a "*": it adds or subtracts. */
static bool is_sum(const char *expr) { return strstr(expr, " + ") || strstr(expr, " - "); }

/* see lenetc.h: a NULL name is a value of 0 whose extent still counts */
const char *index_expr(char buf[96], int count, const char *const *names,
                       const int *extents) {
    char acc[96] = "";
    for (int i = 0; i < count; i++) {
        if (extents[i] == 1 && (i > 0 || count > 1))
            continue;
        char next[96];
        if (!acc[0])
            snprintf(next, sizeof next, "%s", names[i] ? names[i] : "");
        else if (!names[i])
            snprintf(next, sizeof next, is_sum(acc) ? "(%s) * %d" : "%s * %d", acc, extents[i]);
        else
            snprintf(next, sizeof next, is_sum(acc) ? "(%s) * %d + %s" : "%s * %d + %s", acc,
                     extents[i], names[i]);
        snprintf(acc, sizeof acc, "%s", next);
    }
    snprintf(buf, 96, "%s", acc[0] ? acc : "0");
    return buf;
}

const char *times(char buf[128], const char *expr, long k) {
    if (k == 1 || !strcmp(expr, "0"))
        snprintf(buf, 128, "%s", expr);
    else
        snprintf(buf, 128, is_sum(expr) ? "(%s) * %ld" : "%s * %ld", expr, k);
    return buf;
}

const char *lanes_at(char buf[128], const char *p, const char *index, int T) {
    char scaled[128];
    if (!strcmp(index, "0"))
        snprintf(buf, 128, "%s", p);
    else
        snprintf(buf, 128, "%s + %.100s", p, times(scaled, index, T));
    return buf;
}

int emit_loop(Emitter *e, const char *v, int n) {
    if (n == 1)
        return 0;
    emit_open(e, "for (int %s = 0; %s < %d; %s++)", v, v, n, v);
    return 1;
}

int emit_loop_from(Emitter *e, const char *v, int from, int to) {
    emit_open(e, "for (int %s = %d; %s < %d; %s++)", v, from, v, to, v);
    return 1;
}

void emit_close_loops(Emitter *e, int n) {
    while (n--)
        emit_close(e);
}

/* sb_printf, returning how many characters it added */
static int sb_printf_len(StrBuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int sb_printf_len(StrBuf *sb, const char *fmt, ...) {
    size_t before = sb->len;
    va_list ap;
    va_start(ap, fmt);
    sb_vprintf(sb, fmt, ap);
    va_end(ap);
    return (int)(sb->len - before);
}

const char *emit_kernel(Emitter *e, const char *name, char buf[48]) {
    snprintf(buf, 48, "lenet_%c%s", strcmp(e->opt.real, "float") ? 'd' : 's', name);
    return buf;
}

/* Descriptor fields: ", .name = v" for nonzero ones; arrays print whole. */
static void field(StrBuf *sb, const char *name, long v) {
    if (v)
        sb_printf(sb, ", .%s = %ld", name, v);
}
static void field_n(StrBuf *sb, const char *name, const long *v, int n) {
    bool any = false;
    for (int i = 0; i < n; i++)
        any |= v[i] != 0;
    if (!any)
        return;
    sb_printf(sb, ", .%s = {", name);
    for (int i = 0; i < n; i++)
        sb_printf(sb, "%s%ld", i ? ", " : "", v[i]);
    sb_puts(sb, "}");
}

/* Prints `static const TYPE NAME = {fields};`, wrapped before 100 columns. */
static void emit_desc(Emitter *e, const char *type, const char *name, StrBuf *fields) {
    emit_indent(e);
    int col = 4 * e->indent;
    col += sb_printf_len(e->out, "static const %s %s = {", type, name);
    const char *f = fields->data + 2; /* past the first ", " */
    for (bool first = true; *f; first = false) {
        const char *next = strstr(f, ", .");
        int len = next ? (int)(next - f) : (int)strlen(f);
        if (!first && col + len + 2 > 96) {
            sb_puts(e->out, ",\n");
            emit_indent(e);
            sb_puts(e->out, "    ");
            col = 4 * e->indent + 4;
        } else if (!first) {
            sb_puts(e->out, ", ");
            col += 2;
        }
        sb_printf(e->out, "%.*s", len, f);
        col += len;
        f = next ? next + 2 : f + len;
    }
    sb_puts(e->out, "};\n");
}

/* The fields both multiply kernels' descriptors start with. */
static void size_fields(StrBuf *f, int m, const int k[3], const int groups[2], int width) {
    const long kl[3] = {k[0], k[1], k[2]}, gl[2] = {groups[0], groups[1]};
    field(f, "m", m);
    field_n(f, "k", kl, 3);
    field_n(f, "groups", gl, 2);
    field(f, "width", width);
}

void emit_gemm_desc(Emitter *e, const char *name, const lenet_gemm *g) {
    StrBuf f = {0};
    size_fields(&f, g->m, g->k, g->groups, g->width);
    if (g->flags)
        sb_printf(&f, ", .flags = %s%s%s", g->flags & LENET_ACCUMULATE ? "LENET_ACCUMULATE" : "",
                  g->flags == (LENET_ACCUMULATE | LENET_RELU) ? " | " : "",
                  g->flags & LENET_RELU ? "LENET_RELU" : "");
    field(&f, "a_row", g->a_row);
    field_n(&f, "a_k", g->a_k, 3);
    field_n(&f, "b_k", g->b_k, 3);
    field_n(&f, "b_g", g->b_g, 2);
    field(&f, "c_row", g->c_row);
    field_n(&f, "c_g", g->c_g, 2);
    emit_desc(e, "lenet_gemm", name, &f);
    sb_free(&f);
}

void emit_dot_desc(Emitter *e, const char *name, const lenet_gemm_dot *g) {
    StrBuf f = {0};
    size_fields(&f, g->m, g->k, g->groups, g->width);
    field(&f, "a_row", g->a_row);
    field_n(&f, "a_g", g->a_g, 2);
    field_n(&f, "b_k", g->b_k, 3);
    field_n(&f, "b_g", g->b_g, 2);
    field(&f, "c_row", g->c_row);
    field_n(&f, "c_k", g->c_k, 3);
    emit_desc(e, "lenet_gemm_dot", name, &f);
    sb_free(&f);
}

void emit_window_desc(Emitter *e, const char *name, const lenet_window *w) {
    StrBuf f = {0};
    sb_printf(&f, ", .c = %d, .h = %d, .w = %d, .oh = %d, .ow = %d, .size = %d, .stride = %d, "
                  ".tile = %d",
              w->c, w->h, w->w, w->oh, w->ow, w->size, w->stride, w->tile);
    emit_desc(e, "lenet_window", name, &f);
    sb_free(&f);
}

/* Taps [t0, t1) that output o sees along an axis (t1 <= t0: none). */
static void taps_of(int o, int k, int stride, int pad, int size, int *t0, int *t1) {
    int lo = pad - o * stride, hi = size + pad - o * stride; /* 0 <= o*s + t - pad < size */
    *t0 = lo > 0 ? lo : 0;
    *t1 = hi < k ? hi : k;
    if (*t1 < *t0)
        *t1 = *t0;
}

int axis_runs_by_output(int out, int k, int stride, int pad, int size, AxisRun *runs) {
    int n = 0;
    for (int o = 0; o < out; o++) {
        int t0, t1;
        taps_of(o, k, stride, pad, size, &t0, &t1);
        if (n && runs[n - 1].t0 == t0 && runs[n - 1].t1 == t1)
            runs[n - 1].end = o + 1;
        else
            runs[n++] = (AxisRun){o, o + 1, t0, t1};
    }
    return n;
}

int axis_runs_by_tap(int out, int k, int stride, int pad, int size, AxisRun *runs) {
    int n = 0;
    for (int t = 0; t < k; t++) {
        int o0 = out, o1 = out; /* outputs [o0, o1) that see tap t: contiguous */
        for (int o = 0; o < out; o++) {
            int t0, t1;
            taps_of(o, k, stride, pad, size, &t0, &t1);
            if (t >= t0 && t < t1) {
                o0 = o0 < o ? o0 : o;
                o1 = o + 1;
            }
        }
        if (o0 >= o1)
            o0 = o1 = 0;
        if (n && runs[n - 1].t0 == o0 && runs[n - 1].t1 == o1)
            runs[n - 1].end = t + 1;
        else
            runs[n++] = (AxisRun){t, t + 1, o0, o1};
    }
    return n;
}

/* "6x26x26" for a feature map, "120" for a vector */
static void shape_str(Shape s, char *buf, size_t n) {
    if (s.flat)
        snprintf(buf, n, "%d", s.c);
    else
        snprintf(buf, n, "%dx%dx%d", s.c, s.h, s.w);
}

static void layer_comment(Emitter *e, const Layer *l, const char *pass) {
    StrBuf desc = {0};
    l->kind->describe(l, &desc);
    char in[64], out[64];
    shape_str(l->in, in, sizeof in);
    shape_str(l->out, out, sizeof out);
    sb_printf(e->out, "\n/* %s %s: %s\n *   in %s -> out %s (C x H x W, %d samples innermost)", l->name,
              pass, desc.data, in, out, e->opt.tile);
    for (int i = 0; i < l->n_tensors; i++) {
        const LayerTensor *t = &l->tensors[i];
        sb_printf(e->out, "%s%s params[%ld..%ld)", i ? ", " : "\n *   ", t->name, t->off,
                  t->off + t->size);
    }
    if (l->saved)
        sb_printf(e->out, "\n *   saved for backward: %ld features", l->saved);
    sb_puts(e->out, " */\n");
    sb_free(&desc);
}

/* Whether l's forward takes the pass: the export's forward has none (it
 * never trains, and a kind that uses the pass sees forward_only). */
static bool uses_pass(const Emitter *e, const Layer *l) {
    return l->kind->uses_pass && !e->opt.forward_only;
}

const char *offset_expr(char buf[64], const char *p, long off) {
    if (off)
        snprintf(buf, 64, "%s + %ld", p, off);
    else
        snprintf(buf, 64, "%s", p);
    return buf;
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

void emit_forward_begin(Emitter *e, const Layer *l) {
    const char *R = e->opt.real;
    int T = e->opt.tile;
    layer_comment(e, l, "forward");
    char params[64] = "";
    if (l->n_tensors)
        snprintf(params, sizeof params, "const %s *restrict params, ", R);
    emit_open(e, "static void %s_forward(%s%s *restrict acts%s)", l->name, params, R,
              uses_pass(e, l) ? ", const lenet_pass *pass" : "");
    tensor_pointers(e, l, false);
    char buf[64];
    emit_line(e, "const %s *restrict in = %s;", R, offset_expr(buf, "acts", l->in_off * T));
    emit_line(e, "%s *restrict out = acts + %ld;", R, l->out_off * T);
    if (l->saved && !e->opt.forward_only) /* kept for a backward pass */
        emit_line(e, "%s *restrict saved = acts + %ld;", R, l->saved_off * T);
}

void emit_backward_begin(Emitter *e, const Layer *l) {
    const char *R = e->opt.real;
    int T = e->opt.tile;
    const bool trained = layer_params(l, true) > 0;
    layer_comment(e, l, "backward");
    char params[64] = "", grads[64] = "";
    if (l->n_tensors)
        snprintf(params, sizeof params, "const %s *restrict params, ", R);
    if (trained)
        snprintf(grads, sizeof grads, ", %s *restrict grads", R);
    emit_open(e, "static void %s_backward(%sconst %s *restrict acts, %s *restrict dacts%s%s)",
              l->name, params, R, R, grads,
              l->kind->forward_sums ? ", const lenet_pass *pass" : "");
    tensor_pointers(e, l, true);
    char buf[64];
    emit_line(e, "const %s *restrict in = %s;", R, offset_expr(buf, "acts", l->in_off * T));
    emit_line(e, "const %s *restrict out = acts + %ld;", R, l->out_off * T);
    if (l->saved)
        emit_line(e, "const %s *restrict saved = acts + %ld;", R, l->saved_off * T);
    emit_line(e, "%s *restrict dout = dacts + %ld;", R, l->out_off * T);
    if (l->need_dinput)
        emit_line(e, "%s *restrict din = %s;", R, offset_expr(buf, "dacts", l->in_off * T));
    for (int i = 0; i < l->n_tensors; i++) {
        const LayerTensor *t = &l->tensors[i];
        if (t->trainable)
            emit_line(e, "%s *restrict %s = %s;", R, t->grad_var, offset_expr(buf, "grads", t->off));
    }
}

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

/* The call of a layer's function from the model's: its arguments are those
 * emit_forward_begin and emit_backward_begin declare. */
static void layer_call(Emitter *e, const Layer *l, bool backward) {
    const bool params = l->n_tensors > 0;
    if (l->kind->view)
        emit_line(e, backward ? "/* %s: nothing to do */"
                              : "/* %s: its output is its input, seen another way */",
                  l->name);
    else if (!backward)
        emit_line(e, "%s_forward(%sacts%s);", l->name, params ? "params, " : "",
                  uses_pass(e, l) ? ", pass" : "");
    else
        emit_line(e, "%s_backward(%sacts, dacts%s%s);", l->name, params ? "params, " : "",
                  layer_params(l, true) ? ", grads" : "", l->kind->forward_sums ? ", pass" : "");
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
        if (parts && l->kind->forward_sums) {
            emit_open(E, "if (pass->training)");
            emit_line(E, "%s_forward_sums(acts, pass);", l->name);
            emit_line(E, "return;");
            emit_close(E);
            emit_line(E, "/* fall through */");
            emit_case(E, l->part);
        }
        layer_call(E, l, false);
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
        if (parts && l->kind->forward_sums) {
            emit_line(E, "%s_backward_sums(acts, dacts, pass);", l->name);
            emit_line(E, "return;");
            emit_case(E, l->part - 1);
        }
        layer_call(E, l, true);
    }
    if (parts)
        emit_close(E);
}

void emit_kernels(const Model *m, const EmitOptions *o, StrBuf *out) {
    Emitter e = {.out = out, .opt = *o};
    Emitter *E = &e;
    const char *R = o->real;
    for (int i = 0; i < m->n_layers; i++) {
        const Layer *l = &m->layers[i];
        if (l->kind->view)
            continue;
        emit_forward_begin(E, l);
        layer_forward(l, o->style)(E, l);
        emit_function_end(E);
        if (l->kind->forward_sums && !o->forward_only) {
            emit_forward_sums_begin(E, l);
            l->kind->forward_sums(E, l);
            emit_function_end(E);
        }
    }
    for (int i = m->n_layers - 1; i >= 0 && !o->forward_only; i--) {
        const Layer *l = &m->layers[i];
        if (l->kind->view || !l->need_backward)
            continue;
        if (l->kind->backward_sums) {
            emit_backward_sums_begin(E, l);
            l->kind->backward_sums(E, l);
            emit_function_end(E);
        }
        emit_backward_begin(E, l);
        if (l->need_dinput || layer_params(l, true))
            layer_backward(l, o->style)(E, l);
        emit_function_end(E);
    }
    for (int i = 0; i < m->n_layers && !o->forward_only; i++) {
        const Layer *l = &m->layers[i];
        if (l->kind->update_state) {
            emit_update_state_begin(E, l);
            l->kind->update_state(E, l);
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
        if (m->layers[i].kind->update_state)
            emit_line(E, "%s_update_state(params, pass);", m->layers[i].name);
    emit_close(E);
}

/* ---- the files --------------------------------------------------------- */

static void upper(const char *s, char *buf, size_t n) {
    size_t i = 0;
    for (; s[i] && i + 1 < n; i++)
        buf[i] = (s[i] >= 'a' && s[i] <= 'z') ? (char)(s[i] - 32) : s[i];
    buf[i] = '\0';
}

static const char *base_name(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static void file_banner(const Model *m, const EmitOptions *o, const char *file, StrBuf *out) {
    sb_printf(out, "/* %s: generated by lenetc from %s; do not edit.\n", file,
              base_name(o->spec_file));
}

static void layer_table(const Model *m, const EmitOptions *o, StrBuf *out) {
    static const char *const style_names[] = {
        [STYLE_LOOPS] = "loops",
        [STYLE_UNROLL] = "fully unrolled",
        [STYLE_KERNELS] = "calls to the lenetc runtime's vector kernels",
    };
    sb_printf(out, " *\n * Forward and backward passes of %s for tiles of %d samples (%s).\n", m->name,
              o->tile, style_names[o->style]);
    sb_printf(out, " * Activations are batch-innermost: a C x H x W tensor is %s[C*H*W][%d].\n",
              o->real, o->tile);
    sb_puts(out, " *\n *   layer        output        params\n");
    char shape[64];
    shape_str(m->input, shape, sizeof shape);
    sb_printf(out, " *   %-12s %-13s %ld\n", "input", shape, 0L);
    for (int i = 0; i < m->n_layers; i++) {
        const Layer *l = &m->layers[i];
        shape_str(l->out, shape, sizeof shape);
        sb_printf(out, " *   %-12s %-13s %ld\n", l->name, shape, layer_params(l, false));
    }
    sb_printf(out, " *   total                      %ld\n */\n", m->n_params);
}

void emit_source(const Model *m, const EmitOptions *o, StrBuf *out) {
    char file[MAX_NAME + 8];
    snprintf(file, sizeof file, "%s.c", m->name);
    file_banner(m, o, file, out);
    layer_table(m, o, out);
    if (o->style == STYLE_KERNELS)
        sb_printf(out, "\n/* the kernels of the runtime built for %s (lenet_kernels.h) */\n"
                       "#define LENET_TARGET %s\n", emit_target(o)->name, emit_target(o)->name);
    sb_printf(out, "#include \"%s.h\"\n", m->name);
    emit_kernels(m, o, out);

    /* the descriptor the runtime trains from */
    lenet_model *lm = model_descriptor(m, o->tile);
    sb_puts(out, "\n/* ---- what the lenetc runtime needs to know ---- */\n\n");
    static const char *const inits[] = {
        [LENET_INIT_ZEROS] = "LENET_INIT_ZEROS", [LENET_INIT_ONES] = "LENET_INIT_ONES",
        [LENET_INIT_GLOROT_UNIFORM] = "LENET_INIT_GLOROT_UNIFORM",
        [LENET_INIT_HE_UNIFORM] = "LENET_INIT_HE_UNIFORM"};
    sb_printf(out, "static const lenet_tensor %s_tensors[%d] = {\n", m->name, lm->n_tensors);
    for (int i = 0; i < lm->n_tensors; i++) {
        const lenet_tensor *t = &lm->tensors[i];
        sb_printf(out, "    {.name = \"%s\", .ndim = %d, .dims = {", t->name, t->ndim);
        for (int k = 0; k < t->ndim; k++)
            sb_printf(out, "%s%d", k ? ", " : "", t->dims[k]);
        sb_printf(out, "}, .offset = %zu, .size = %zu,\n     .init = %s", t->offset, t->size,
                  inits[t->init]);
        if (t->fan_in || t->fan_out)
            sb_printf(out, ", .fan_in = %d, .fan_out = %d", t->fan_in, t->fan_out);
        sb_printf(out, ", .trainable = %d},\n", t->trainable);
    }
    sb_puts(out, "};\n\n");
    Emitter e = {.out = out, .opt = *o};
    char lo[32], hi[32], lr[32], b1[32], b2[32], eps[32];
    e.opt.real = "float";
    const lenet_hparams *h = &lm->defaults;
    static const char *const optimizers[] = {
        [LENET_ADAM] = "LENET_ADAM", [LENET_SGD] = "LENET_SGD", [LENET_ADAMW] = "LENET_ADAMW"};
    /* the settings only some optimisers and schedules have, when set */
    StrBuf sgd = {0};
    char k[32];
    if (h->momentum > 0)
        sb_printf(&sgd, ",\n                 .momentum = %s", emit_real(&e, h->momentum, k));
    if (h->nesterov)
        sb_puts(&sgd, ", .nesterov = 1");
    if (h->weight_decay > 0)
        sb_printf(&sgd, ", .weight_decay = %s", emit_real(&e, h->weight_decay, k));
    if (h->schedule == LENET_COSINE)
        sb_printf(&sgd, ",\n                 .schedule = LENET_COSINE, .warmup_epochs = %s",
                  emit_real(&e, h->warmup_epochs, k));
    if (h->schedule == LENET_STEP)
        sb_printf(&sgd, ",\n                 .schedule = LENET_STEP, .step_every = %d",
                  h->step_every);
    if (h->schedule == LENET_STEP)
        sb_printf(&sgd, ", .step_factor = %s", emit_real(&e, h->step_factor, k));
    if (h->aug_shift > 0 || h->aug_rotate > 0 || h->aug_scale > 0) {
        char k2[32], k3[32];
        sb_printf(&sgd, ",\n                 .aug_shift = %s, .aug_rotate = %s, .aug_scale = %s",
                  emit_real(&e, h->aug_shift, k), emit_real(&e, h->aug_rotate, k2),
                  emit_real(&e, h->aug_scale, k3));
    }
    StrBuf parts = {0}; /* batch statistics, if any */
    if (m->parts > 1)
        sb_printf(&parts, "    .parts = %d, .sums = %ld, .update_state = %s_update_state,\n",
                  m->parts, m->sums, m->name);
    sb_printf(out,
              "const lenet_model %s_model = {\n"
              "    .name = \"%s\",\n"
              "    .data_h = %d, .data_w = %d, .data_c = %d, .pad = %d,\n"
              "    .scale_lo = %s, .scale_hi = %s,\n"
              "    .n_classes = %d,\n"
              "    .tile = %d,\n"
              "    .n_params = %zu,\n"
              "    .n_trainable = %zu,\n"
              "    .n_tensors = %d,\n"
              "    .tensors = %s_tensors,\n"
              "    .act_floats = %zu,\n"
              "    .logits_offset = %zu,\n"
              "    .forward = %s_forward,\n"
              "    .backward = %s_backward,\n%s"
              "    .defaults = {.optimizer = %s, .lr = %s, .beta1 = %s, .beta2 = %s, .eps = %s,\n"
              "                 .batch = %d, .epochs = %d, .seed = %llu%s},\n"
              "    .style = \"%s\",\n"
              "    .target = \"%s\",\n"
              "};\n",
              m->name, m->name, lm->data_h, lm->data_w, lm->data_c, lm->pad,
              emit_real(&e, lm->scale_lo, lo), emit_real(&e, lm->scale_hi, hi), lm->n_classes,
              lm->tile, lm->n_params, lm->n_trainable, lm->n_tensors, m->name, lm->act_floats,
              lm->logits_offset, m->name, m->name, parts.data ? parts.data : "",
              optimizers[h->optimizer], emit_real(&e, h->lr, lr), emit_real(&e, h->beta1, b1),
              emit_real(&e, h->beta2, b2), emit_real(&e, h->eps, eps), h->batch, h->epochs,
              (unsigned long long)h->seed, sgd.data ? sgd.data : "", emit_style_name(o->style),
              emit_target(o)->name);
    sb_free(&sgd);
    sb_free(&parts);
    sb_printf(out,
              "\n#ifdef LENETC_TRAINER_MAIN\n"
              "int main(int argc, char **argv) { return lenet_train_main(argc, argv, &%s_model); }\n"
              "#endif\n",
              m->name);
    descriptor_free(lm);
}

void emit_header(const Model *m, const EmitOptions *o, StrBuf *out) {
    char file[MAX_NAME + 8], up[MAX_NAME];
    snprintf(file, sizeof file, "%s.h", m->name);
    upper(m->name, up, sizeof up);
    const char *R = o->real;
    file_banner(m, o, file, out);
    sb_puts(out, " */\n");
    sb_printf(out, "#ifndef %s_H\n#define %s_H\n\n#include \"lenet.h\"\n\n", up, up);
    sb_printf(out, "#define %s_TILE %d       /* samples per forward/backward call */\n", up, o->tile);
    sb_printf(out, "#define %s_PARAMS %ld\n", up, m->n_params);
    sb_printf(out, "#define %s_ACT_FLOATS %ld /* acts and dacts, per tile */\n", up,
              m->act_floats * o->tile);
    sb_printf(out, "#define %s_LOGITS %ld     /* offset of the logits tile in acts */\n\n", up,
              m->logits_off * o->tile);
    sb_printf(out, "void %s_forward(const %s *params, %s *acts, const lenet_pass *pass);\n",
              m->name, R, R);
    sb_printf(out,
              "void %s_backward(const %s *params, const %s *acts, %s *dacts, %s *grads,\n"
              "    const lenet_pass *pass);\n",
              m->name, R, R, R, R);
    if (m->parts > 1)
        sb_printf(out, "void %s_update_state(%s *params, const lenet_pass *pass);\n", m->name, R);
    sb_printf(out, "extern const lenet_model %s_model;\n\n#endif\n", m->name);
}

/* what the runtime links, besides itself */
#define RUNTIME_DEPS "$(shell pkg-config --libs zlib jansson libpng libjpeg) -lm -lpthread"

void emit_makefile(const Model *m, const EmitOptions *o, const char *runtime_dir,
                   const char *prefix, StrBuf *out) {
    const char *n = m->name;
    sb_printf(out, "# Makefile: generated by lenetc from %s; do not edit.\n", base_name(o->spec_file));
    sb_printf(out, "# `make` builds %s-train, the trainer for %s, against the lenetc runtime.\n", n, n);
    /* an installed lenetc names its own prefix: no pkg-config path to set */
    if (prefix && prefix[0])
        sb_printf(out, "# The runtime: a lenetc source tree's (LENETC_RUNTIME) or, when that is\n"
                       "# empty, the installation's under LENETC_PREFIX (the lenetc that wrote this).\n"
                       "LENETC_RUNTIME ?= %s\nLENETC_PREFIX ?= %s\n"
                       "ifeq ($(LENETC_RUNTIME),)\n"
                       "RUNTIME_CFLAGS = -I$(LENETC_PREFIX)/include\n"
                       "RUNTIME_LIB = $(LENETC_PREFIX)/lib/liblenet.a\n"
                       "LDLIBS = $(RUNTIME_LIB) " RUNTIME_DEPS "\n",
                  runtime_dir, prefix);
    else
        sb_printf(out, "# The runtime: a lenetc source tree's (LENETC_RUNTIME) or, when that is\n"
                       "# empty, the installed one pkg-config knows as lenet.\n"
                       "LENETC_RUNTIME ?= %s\n"
                       "ifeq ($(LENETC_RUNTIME),)\n"
                       "RUNTIME_CFLAGS = $(shell pkg-config --cflags lenet)\n"
                       "LDLIBS = $(shell pkg-config --libs --static lenet)\n",
                  runtime_dir);
    sb_puts(out, "else\n"
                 "RUNTIME_CFLAGS = -I$(LENETC_RUNTIME)\n"
                 "RUNTIME_LIB = $(LENETC_RUNTIME)/liblenet.a\n"
                 "LDLIBS = $(RUNTIME_LIB) " RUNTIME_DEPS "\n"
                 "endif\n");
    if (o->style == STYLE_UNROLL) {
        sb_puts(out, "# Fully unrolled code is megabytes: gcc needs minutes and gigabytes for it,\n"
                     "# tcc compiles it in about a second.\n");
        sb_puts(out, "TCC ?= tcc\nTCCFLAGS ?=\nLDFLAGS ?=\n\n");
        sb_printf(out, "%s-train: %s.o $(RUNTIME_LIB)\n\t$(CC) $(LDFLAGS) -o $@ %s.o $(LDLIBS)\n\n", n, n, n);
        sb_printf(out, "%s.o: %s.c %s.h\n\t$(TCC) $(TCCFLAGS) $(RUNTIME_CFLAGS) -DLENETC_TRAINER_MAIN -c -o $@ %s.c\n\n", n, n, n, n);
    } else {
        const lenet_target *t = emit_target(o);
        if (o->style == STYLE_KERNELS)
            sb_printf(out, "# Built for %s (%s): the kernels it calls are the\n"
                           "# runtime's %s ones, which run only on a CPU that has it.\n"
                           "CFLAGS ?= -O3 %s\n",
                      t->name, t->describe, t->name, t->cflags);
        else
            sb_printf(out, "# Built for %s (%s).\n"
                           "# -ffp-contract=off keeps a*b+c as two roundings, as tcc does, so\n"
                           "# both paths compute the same numbers.\n"
                           "CFLAGS ?= -O3 %s -ffp-contract=off\n",
                      t->name, t->describe, t->cflags);
        sb_puts(out, "LDFLAGS ?=\n\n");
        sb_printf(out, "%s-train: %s.c %s.h $(RUNTIME_LIB)\n\t$(CC) $(CFLAGS) $(LDFLAGS) $(RUNTIME_CFLAGS) -DLENETC_TRAINER_MAIN -o $@ %s.c $(LDLIBS)\n\n", n, n, n, n);
    }
    sb_printf(out, "clean:\n\trm -f %s-train %s.o\n\n.PHONY: clean\n", n, n);
}

/* ---- long sums (unrolled style) ---------------------------------------- */

#define TERMS_PER_LINE 6

void sum_begin(Emitter *e, const char *fmt, ...) {
    emit_indent(e);
    va_list ap;
    va_start(ap, fmt);
    sb_vprintf(e->out, fmt, ap);
    va_end(ap);
    e->terms = 1;
}

void sum_term(Emitter *e, const char *fmt, ...) {
    if (e->terms++ == TERMS_PER_LINE) {
        sb_puts(e->out, "\n");
        emit_indent(e);
        sb_puts(e->out, "   ");
        e->terms = 1;
    }
    va_list ap;
    va_start(ap, fmt);
    sb_vprintf(e->out, fmt, ap);
    va_end(ap);
}

void sum_end(Emitter *e) { sb_puts(e->out, ";\n"); }

const char *lane(Emitter *e, long f, char buf[32]) {
    if (f == 0)
        snprintf(buf, 32, "b");
    else
        snprintf(buf, 32, "%ld + b", f * e->opt.tile);
    return buf;
}
