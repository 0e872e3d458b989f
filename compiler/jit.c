/* jit.c: compiles generated C in memory with libtcc.
 *
 * Facts that shape this file (see ../shared/notes/codegen-facts.md):
 * libtcc is not reentrant, so every compile holds one lock; the machine code
 * belongs to its TCCState, so a Jit lives as long as its function pointers;
 * generated kernels call nothing but libm's tanhf, expf and sqrt (bound below), so
 * we compile with -nostdlib and need neither libc nor tcc's libtcc1.a at
 * run time. The kernels style calls
 * the runtime's vector kernels: the chosen target's are handed to tcc as
 * plain function pointers (tcc links neither ifunc nor target_clones), and
 * their declarations, runtime/kernels/lenet_kernels.h, are compiled in front of
 * the code: that text is built into lenetc (below), so nothing but lenetc
 * itself is needed at run time.
 */
#include <libtcc.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lenetc.h"

struct Jit {
    TCCState *s;
};

/* runtime/kernels/lenet_kernels.h as a string (the assembler includes the file) */
extern const char lenetc_kernels_header[];
__asm__(".section .rodata\n"
        ".globl lenetc_kernels_header\n"
        ".hidden lenetc_kernels_header\n"
        "lenetc_kernels_header:\n"
        ".incbin \"runtime/kernels/lenet_kernels.h\"\n"
        ".byte 0\n"
        ".previous\n");

static pthread_mutex_t tcc_lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct {
    const char *src;
    char msg[512];
} ErrorSink;

/* tcc reports "<string>:LINE: error: ..."; keep the first message and the
 * generated line it points at. */
static void on_tcc_error(void *opaque, const char *msg) {
    ErrorSink *sink = opaque;
    if (sink->msg[0])
        return;
    const char *p = strstr(msg, "<string>:");
    int line = p ? atoi(p + 9) : 0;
    const char *src = sink->src;
    for (int l = 1; src && l < line; l++) {
        src = strchr(src, '\n');
        if (src)
            src++;
    }
    if (line > 0 && src)
        snprintf(sink->msg, sizeof sink->msg, "%s\n    generated line %d: %.200s", msg, line,
                 src);
    else
        snprintf(sink->msg, sizeof sink->msg, "%s", msg);
    char *nl = strchr(sink->msg + strlen(msg) + 1, '\n');
    if (nl)
        *nl = '\0';
}

Jit *jit_compile_text(const char *src, const lenet_symbol *symbols, Diag *d) {
    ErrorSink sink = {.src = src};
    pthread_mutex_lock(&tcc_lock);
    TCCState *s = tcc_new();
    if (!s) {
        pthread_mutex_unlock(&tcc_lock);
        error_at(d, 0, 0, "jit: cannot create a tcc state");
        return NULL;
    }
    tcc_set_error_func(s, &sink, on_tcc_error);
    tcc_set_options(s, "-nostdlib");
    tcc_set_output_type(s, TCC_OUTPUT_MEMORY);
    /* libm's functions that activations call (lenet_kernels.h), then the
     * target's kernels */
    static const lenet_symbol libm[] = {{"tanhf", (void *)tanhf}, {"expf", (void *)expf},
                                        {"tanh", (void *)tanh},   {"exp", (void *)exp},
                                        {"sqrt", (void *)sqrt},
                                        {0, 0}};
    for (const lenet_symbol *k = libm; k->name; k++)
        tcc_add_symbol(s, k->name, k->fn);
    for (const lenet_symbol *k = symbols; k && k->name; k++)
        tcc_add_symbol(s, k->name, k->fn);
    int ok = tcc_compile_string(s, src) == 0 && tcc_relocate(s, TCC_RELOCATE_AUTO) >= 0;
    pthread_mutex_unlock(&tcc_lock);
    if (!ok) {
        tcc_delete(s);
        error_at(d, 0, 0, "jit: tcc failed on the generated code (a lenetc bug): %s",
                 sink.msg[0] ? sink.msg : "unknown error");
        return NULL;
    }
    Jit *j = malloc(sizeof *j);
    if (!j) {
        tcc_delete(s);
        error_at(d, 0, 0, "out of memory");
        return NULL;
    }
    j->s = s;
    return j;
}

void *jit_symbol(Jit *j, const char *name) { return tcc_get_symbol(j->s, name); }

void jit_free(Jit *j) {
    if (!j)
        return;
    tcc_delete(j->s);
    free(j);
}

Jit *jit_compile(const Model *m, const EmitOptions *o, lenet_model *lm, Diag *d,
                 double *seconds, size_t *code_bytes) {
    const lenet_target *t = emit_target(o);
    if (o->style == STYLE_KERNELS && !lenet_target_runs(t)) {
        error_at(d, 0, 0, "jit: this CPU cannot run --target %s (it runs %s)", t->name,
                 lenet_target_native()->name);
        return NULL;
    }
    StrBuf src = {0};
    double t0 = lenet_seconds();
    /* the kernels' declarations and lenet_pass, which every forward takes */
    sb_puts(&src, lenetc_kernels_header);
    emit_kernels(m, o, &src);
    Jit *j = jit_compile_text(src.data, o->style == STYLE_KERNELS ? t->symbols : NULL, d);
    if (seconds)
        *seconds = lenet_seconds() - t0;
    if (code_bytes)
        *code_bytes = src.len;
    sb_free(&src);
    if (!j)
        return NULL;
    char name[MAX_NAME + 16];
    snprintf(name, sizeof name, "%s_forward", m->name);
    lm->forward = (lenet_forward_fn)jit_symbol(j, name);
    snprintf(name, sizeof name, "%s_backward", m->name);
    lm->backward = (lenet_backward_fn)jit_symbol(j, name);
    if (m->parts > 1) {
        snprintf(name, sizeof name, "%s_update_state", m->name);
        lm->update_state = (lenet_update_fn)jit_symbol(j, name);
    }
    if (!lm->forward || !lm->backward || (m->parts > 1 && !lm->update_state)) {
        jit_free(j);
        error_at(d, 0, 0, "jit: generated code lacks %s", name);
        return NULL;
    }
    lm->style = emit_style_name(o->style);
    /* the loop styles run tcc's own code, whatever the CPU */
    lm->target = o->style == STYLE_KERNELS ? t->name : "tcc";
    return j;
}
