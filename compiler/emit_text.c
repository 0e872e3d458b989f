/* emit_text.c: writing C text: indented lines and blocks, numbers as C
 * literals, lane loops and lane templates, index expressions, loops, and the
 * unrolled style's long sums. Nothing here knows a layer or a model. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lenetc.h"

/* ---- printing helpers -------------------------------------------------- */

void emit_indent(Emitter *e) {
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

const char *offset_expr(char buf[64], const char *p, long off) {
    if (off)
        snprintf(buf, 64, "%s + %ld", p, off);
    else
        snprintf(buf, 64, "%s", p);
    return buf;
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

/* "6x26x26" for a feature map, "120" for a vector */
void shape_str(Shape s, char *buf, size_t n) {
    if (s.flat)
        snprintf(buf, n, "%d", s.c);
    else
        snprintf(buf, n, "%dx%dx%d", s.c, s.h, s.w);
}
