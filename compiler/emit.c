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
    bool is_float = strcmp(e->opt.real, "float") == 0;
    /* %.9g round-trips a float, %.17g a double */
    snprintf(buf, 32, is_float ? "%.9g" : "%.17g", is_float ? (double)(float)v : v);
    if (!strpbrk(buf, ".e"))
        strcat(buf, ".0");
    if (is_float)
        strcat(buf, "f");
    return buf;
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

#define LANES_WRITTEN_OUT(e) ((e)->opt.shape == SHAPE_LOOPS && (e)->opt.tile <= 16)

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

int emit_blocks(int n, int block, int parts[2][3]) {
    int whole = n / block * block, k = 0;
    if (whole)
        parts[k][0] = 0, parts[k][1] = whole, parts[k++][2] = block;
    if (n > whole)
        parts[k][0] = whole, parts[k][1] = n, parts[k++][2] = n - whole;
    return k;
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
    if (l->w_size)
        sb_printf(e->out, "\n *   weight params[%ld..%ld), bias params[%ld..%ld)", l->w_off,
                  l->w_off + l->w_size, l->b_off, l->b_off + l->b_size);
    sb_puts(e->out, " */\n");
    sb_free(&desc);
}

void emit_forward_begin(Emitter *e, const Layer *l) {
    const char *R = e->opt.real;
    int T = e->opt.tile;
    layer_comment(e, l, "forward");
    if (l->w_size)
        emit_open(e, "static void %s_forward(const %s *restrict params, %s *restrict acts)",
                  l->name, R, R);
    else
        emit_open(e, "static void %s_forward(%s *restrict acts)", l->name, R);
    if (l->w_size) {
        emit_line(e, "const %s *restrict w = params + %ld;", R, l->w_off);
        emit_line(e, "const %s *restrict bias = params + %ld;", R, l->b_off);
    }
    emit_line(e, "const %s *restrict in = acts + %ld;", R, l->in_off * T);
    emit_line(e, "%s *restrict out = acts + %ld;", R, l->out_off * T);
}

void emit_backward_begin(Emitter *e, const Layer *l) {
    const char *R = e->opt.real;
    int T = e->opt.tile;
    layer_comment(e, l, "backward");
    if (l->w_size)
        emit_open(e,
                  "static void %s_backward(const %s *restrict params, const %s *restrict acts, "
                  "%s *restrict dacts, %s *restrict grads)",
                  l->name, R, R, R, R);
    else
        emit_open(e, "static void %s_backward(const %s *restrict acts, %s *restrict dacts)",
                  l->name, R, R);
    if (l->w_size)
        emit_line(e, "const %s *restrict w = params + %ld;", R, l->w_off);
    emit_line(e, "const %s *restrict in = acts + %ld;", R, l->in_off * T);
    emit_line(e, "const %s *restrict out = acts + %ld;", R, l->out_off * T);
    emit_line(e, "%s *restrict dout = dacts + %ld;", R, l->out_off * T);
    if (l->need_dinput)
        emit_line(e, "%s *restrict din = dacts + %ld;", R, l->in_off * T);
    if (l->w_size) {
        emit_line(e, "%s *restrict gw = grads + %ld;", R, l->w_off);
        emit_line(e, "%s *restrict gb = grads + %ld;", R, l->b_off);
    }
}

void emit_function_end(Emitter *e) { emit_close(e); }

/* ---- the kernels ------------------------------------------------------- */

static bool has_code(const Layer *l) { return l->kind != &flatten_kind; }

int emit_check_size(const Model *m, const EmitOptions *o, Diag *d) {
    if (o->shape != SHAPE_UNROLL)
        return 0; /* loop-shaped code does not grow with the sizes */
    long macs = 0;
    for (int i = 0; i < m->n_layers; i++)
        macs += layer_macs(&m->layers[i], false) + layer_macs(&m->layers[i], true);
    const long bytes = 34 * macs;
    if (bytes <= MAX_UNROLLED_BYTES)
        return 0;
    return error_at(d, 0, 0,
                    "unrolled, this model would be about %ld MiB of C (%ld multiply-adds per "
                    "sample; the limit is %ld MiB): use --shape loops",
                    bytes >> 20, macs, MAX_UNROLLED_BYTES >> 20);
}

void emit_kernels(const Model *m, const EmitOptions *o, StrBuf *out) {
    Emitter e = {.out = out, .opt = *o};
    Emitter *E = &e;
    const char *R = o->real;
    if (o->shape == SHAPE_VECTOR) {
        sb_printf(out,
                  "\n/* One feature of a tile: its %d lanes, one per sample, as one value that\n"
                  " * gcc and clang keep in vector registers. */\n"
                  "typedef %s " LANES " __attribute__((vector_size(%d), aligned(%d), may_alias));\n",
                  o->tile, R, o->tile * (int)(strcmp(R, "float") ? sizeof(double) : sizeof(float)),
                  (int)(strcmp(R, "float") ? sizeof(double) : sizeof(float)));
    }
    for (int i = 0; i < m->n_layers; i++)
        if (has_code(&m->layers[i]))
            m->layers[i].kind->forward(E, &m->layers[i]);
    for (int i = m->n_layers - 1; i >= 0 && !o->forward_only; i--)
        if (has_code(&m->layers[i]) && m->layers[i].need_backward)
            m->layers[i].kind->backward(E, &m->layers[i]);

    sb_printf(out, "\n/* %s forward: the input tile is acts[0..%ld), the logits tile acts[%ld..%ld) */\n",
              m->name, shape_size(m->input) * o->tile,
              m->logits_off * o->tile, (m->logits_off + m->n_classes) * o->tile);
    emit_open(E, "%svoid %s_forward(const %s *restrict params, %s *restrict acts)",
              o->forward_only ? "static " : "", m->name, R, R);
    for (int i = 0; i < m->n_layers; i++) {
        const Layer *l = &m->layers[i];
        if (!has_code(l))
            emit_line(E, "/* %s: the C x H x W layout is already flat */", l->name);
        else if (l->w_size)
            emit_line(E, "%s_forward(params, acts);", l->name);
        else
            emit_line(E, "%s_forward(acts);", l->name);
    }
    emit_close(E);

    if (o->forward_only)
        return;
    sb_printf(out, "\n/* %s backward: dacts holds dLoss/dlogits at the logits offset;\n"
                   " * parameter gradients are ADDED to grads. */\n",
              m->name);
    emit_open(E,
              "void %s_backward(const %s *restrict params, const %s *restrict acts, "
              "%s *restrict dacts, %s *restrict grads)",
              m->name, R, R, R, R);
    for (int i = m->n_layers - 1; i >= 0; i--) {
        const Layer *l = &m->layers[i];
        if (!l->need_backward)
            continue;
        if (!has_code(l))
            emit_line(E, "/* %s: nothing to do */", l->name);
        else if (l->w_size)
            emit_line(E, "%s_backward(params, acts, dacts, grads);", l->name);
        else
            emit_line(E, "%s_backward(acts, dacts);", l->name);
    }
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
    static const char *const shape_names[] = {
        [SHAPE_LOOPS] = "loops",
        [SHAPE_UNROLL] = "fully unrolled",
        [SHAPE_VECTOR] = "vector types, for gcc or clang",
    };
    sb_printf(out, " *\n * Forward and backward passes of %s for tiles of %d samples (%s).\n", m->name,
              o->tile, shape_names[o->shape]);
    sb_printf(out, " * Activations are batch-innermost: a C x H x W tensor is %s[C*H*W][%d].\n",
              o->real, o->tile);
    sb_puts(out, " *\n *   layer        output        params\n");
    char shape[64];
    shape_str(m->input, shape, sizeof shape);
    sb_printf(out, " *   %-12s %-13s %ld\n", "input", shape, 0L);
    for (int i = 0; i < m->n_layers; i++) {
        const Layer *l = &m->layers[i];
        shape_str(l->out, shape, sizeof shape);
        sb_printf(out, " *   %-12s %-13s %ld\n", l->name, shape, l->w_size + l->b_size);
    }
    sb_printf(out, " *   total                      %ld\n */\n", m->n_params);
}

void emit_source(const Model *m, const EmitOptions *o, StrBuf *out) {
    char file[MAX_NAME + 8];
    snprintf(file, sizeof file, "%s.c", m->name);
    file_banner(m, o, file, out);
    layer_table(m, o, out);
    sb_printf(out, "#include \"%s.h\"\n", m->name);
    if (o->shape == SHAPE_VECTOR)
        sb_puts(out, "\n#ifdef __TINYC__\n"
                     "#error \"this shape needs vector types: for tcc, emit it with lenetc --shape loops\"\n"
                     "#endif\n");
    emit_kernels(m, o, out);

    /* the descriptor the runtime trains from */
    lenet_model *lm = model_descriptor(m, o->tile);
    sb_puts(out, "\n/* ---- what the lenetc runtime needs to know ---- */\n\n");
    sb_printf(out, "static const lenet_tensor %s_tensors[%d] = {\n", m->name, lm->n_tensors);
    for (int i = 0; i < lm->n_tensors; i++) {
        const lenet_tensor *t = &lm->tensors[i];
        sb_printf(out, "    {\"%s\", %d, {%d, %d, %d, %d}, %zu, %zu, %d, %d},\n", t->name, t->ndim,
                  t->dims[0], t->dims[1], t->dims[2], t->dims[3], t->offset, t->size, t->fan_in,
                  t->fan_out);
    }
    sb_puts(out, "};\n\n");
    Emitter e = {.out = out, .opt = *o};
    char lo[32], hi[32], lr[32], b1[32], b2[32], eps[32];
    e.opt.real = "float";
    const lenet_hparams *h = &lm->defaults;
    sb_printf(out,
              "const lenet_model %s_model = {\n"
              "    .name = \"%s\",\n"
              "    .data_h = %d, .data_w = %d, .data_c = %d, .pad = %d,\n"
              "    .scale_lo = %s, .scale_hi = %s,\n"
              "    .n_classes = %d,\n"
              "    .tile = %d,\n"
              "    .n_params = %zu,\n"
              "    .n_tensors = %d,\n"
              "    .tensors = %s_tensors,\n"
              "    .act_floats = %zu,\n"
              "    .logits_offset = %zu,\n"
              "    .forward = %s_forward,\n"
              "    .backward = %s_backward,\n"
              "    .defaults = {%s, %s, %s, %s, %s, %d, %d, %lluu},\n"
              "};\n",
              m->name, m->name, lm->data_h, lm->data_w, lm->data_c, lm->pad,
              emit_real(&e, lm->scale_lo, lo), emit_real(&e, lm->scale_hi, hi), lm->n_classes,
              lm->tile, lm->n_params, lm->n_tensors, m->name, lm->act_floats, lm->logits_offset,
              m->name, m->name, h->optimizer == LENET_ADAM ? "LENET_ADAM" : "LENET_SGD",
              emit_real(&e, h->lr, lr), emit_real(&e, h->beta1, b1), emit_real(&e, h->beta2, b2),
              emit_real(&e, h->eps, eps), h->batch, h->epochs, (unsigned long long)h->seed);
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
    sb_printf(out, "void %s_forward(const %s *params, %s *acts);\n", m->name, R, R);
    sb_printf(out,
              "void %s_backward(const %s *params, const %s *acts, %s *dacts, %s *grads);\n",
              m->name, R, R, R, R);
    sb_printf(out, "extern const lenet_model %s_model;\n\n#endif\n", m->name);
}

void emit_makefile(const Model *m, const EmitOptions *o, const char *runtime_dir, StrBuf *out) {
    const char *n = m->name;
    sb_printf(out, "# Makefile: generated by lenetc from %s; do not edit.\n", base_name(o->spec_file));
    sb_printf(out, "# `make` builds %s-train, the trainer for %s, against the lenetc runtime.\n", n, n);
    sb_puts(out, "# The runtime: a lenetc source tree's (LENETC_RUNTIME) or, when that is\n"
                 "# empty, the installed one pkg-config knows as lenet.\n");
    sb_printf(out, "LENETC_RUNTIME ?= %s\n", runtime_dir);
    sb_puts(out, "ifeq ($(LENETC_RUNTIME),)\n"
                 "RUNTIME_CFLAGS = $(shell pkg-config --cflags lenet)\n"
                 "LDLIBS = $(shell pkg-config --libs --static lenet)\n"
                 "else\n"
                 "RUNTIME_CFLAGS = -I$(LENETC_RUNTIME)\n"
                 "RUNTIME_LIB = $(LENETC_RUNTIME)/liblenet.a\n"
                 "LDLIBS = $(RUNTIME_LIB) $(shell pkg-config --libs zlib jansson) -lm -lpthread\n"
                 "endif\n");
    if (o->shape == SHAPE_UNROLL) {
        sb_puts(out, "# Fully unrolled code is megabytes: gcc needs minutes and gigabytes for it,\n"
                     "# tcc compiles it in about a second.\n");
        sb_puts(out, "TCC ?= tcc\nTCCFLAGS ?=\nLDFLAGS ?=\n\n");
        sb_printf(out, "%s-train: %s.o $(RUNTIME_LIB)\n\t$(CC) $(LDFLAGS) -o $@ %s.o $(LDLIBS)\n\n", n, n, n);
        sb_printf(out, "%s.o: %s.c %s.h\n\t$(TCC) $(TCCFLAGS) $(RUNTIME_CFLAGS) -DLENETC_TRAINER_MAIN -c -o $@ %s.c\n\n", n, n, n, n);
    } else {
        if (o->shape == SHAPE_VECTOR)
            sb_puts(out, "# gcc fuses a*b+c into one FMA here (faster); add -ffp-contract=off to\n"
                         "# round twice, as the JIT (tcc) does, and get its numbers bit for bit.\n"
                         "CFLAGS ?= -O3 -march=native\n");
        else
            sb_puts(out, "# -ffp-contract=off keeps a*b+c as two roundings, as the JIT (tcc) does,\n"
                         "# so both paths compute the same numbers.\n"
                         "CFLAGS ?= -O3 -march=native -ffp-contract=off\n");
        sb_puts(out, "LDFLAGS ?=\n\n");
        sb_printf(out, "%s-train: %s.c %s.h $(RUNTIME_LIB)\n\t$(CC) $(CFLAGS) $(LDFLAGS) $(RUNTIME_CFLAGS) -DLENETC_TRAINER_MAIN -o $@ %s.c $(LDLIBS)\n\n", n, n, n, n);
    }
    sb_printf(out, "clean:\n\trm -f %s-train %s.o\n\n.PHONY: clean\n", n, n);
}

/* ---- long sums (unrolled shape) ---------------------------------------- */

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
