/* emit_desc.c: the kernels' descriptors (lenet_kernels.h) as C: each
 * `static const lenet_gemm NAME = {...};` printed field by field, only the
 * fields that are not 0, wrapped before 100 columns. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lenetc.h"

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
    if (w->flags & LENET_RELU)
        sb_puts(&f, ", .flags = LENET_RELU");
    emit_desc(e, "lenet_window", name, &f);
    sb_free(&f);
}

void emit_depthwise_desc(Emitter *e, const char *name, const lenet_depthwise *d) {
    StrBuf f = {0};
    sb_printf(&f, ", .c = %d, .h = %d, .w = %d, .mult = %d, .oh = %d, .ow = %d, .k = %d, "
                  ".stride = %d",
              d->c, d->h, d->w, d->mult, d->oh, d->ow, d->k, d->stride);
    field(&f, "pt", d->pt);
    field(&f, "pl", d->pl);
    sb_printf(&f, ", .tile = %d", d->tile);
    if (d->flags)
        sb_puts(&f, ", .flags = LENET_RELU");
    emit_desc(e, "lenet_depthwise", name, &f);
    sb_free(&f);
}
