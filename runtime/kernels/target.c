/* target.c: the instruction sets lenetc generates code for, which of them
 * this runtime has kernels for, and which this CPU runs.
 *
 * Dispatch is by plain function pointers chosen here at start-up: tcc can
 * link neither ifunc nor target_clones (see shared/notes/codegen-facts.md).
 */
#include <stdio.h>
#include <string.h>

#include "lenet_core.h"
#include "lenet_model.h"
#include "lenet_target.h"

#if defined(__x86_64__)
extern const lenet_symbol lenet_sse2_symbols[], lenet_avx2_symbols[], lenet_avx512_symbols[];
#define X86(sym) sym
#else
#define X86(sym) NULL
#endif
#if defined(__aarch64__)
extern const lenet_symbol lenet_neon_symbols[];
#define ARM(sym) sym
#else
#define ARM(sym) NULL
#endif

/* widest first: the first one this CPU runs is the native target */
static const lenet_target targets[] = {
    {"avx512", "x86-64-v4: AVX-512, 16 floats per register",
     "-march=x86-64-v4 -mprefer-vector-width=512", 16, X86(lenet_avx512_symbols)},
    {"avx2", "x86-64-v3: AVX2 + FMA, 8 floats per register", "-march=x86-64-v3", 8,
     X86(lenet_avx2_symbols)},
    {"sse2", "x86-64: SSE2, 4 floats per register, no FMA", "-march=x86-64", 4,
     X86(lenet_sse2_symbols)},
    {"neon", "aarch64: NEON + FMA, 4 floats per register", "-march=armv8-a", 4,
     ARM(lenet_neon_symbols)},
};
#define N_TARGETS (int)(sizeof targets / sizeof targets[0])

const lenet_target *lenet_target_find(const char *name) {
    for (int i = 0; i < N_TARGETS; i++)
        if (!strcmp(targets[i].name, name))
            return &targets[i];
    return NULL;
}

const lenet_target *lenet_target_at(int i) { return i >= 0 && i < N_TARGETS ? &targets[i] : NULL; }

int lenet_target_runs(const lenet_target *t) {
    if (!t || !t->symbols)
        return 0;
#if defined(__x86_64__)
    __builtin_cpu_init();
    /* what -march=x86-64-v3 and -v4 let gcc use in the kernels (every CPU
     * with AVX2, FMA and BMI2 has the rest of v3; libgcc also checks that the
     * OS saves the AVX registers) */
    const int v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                   __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2");
    if (!strcmp(t->name, "avx512"))
        return v3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512vl");
    if (!strcmp(t->name, "avx2"))
        return v3;
#endif
    return 1; /* the architecture's baseline: sse2 on x86-64, neon on aarch64 */
}

const lenet_target *lenet_target_native(void) {
    for (int i = 0; i < N_TARGETS; i++)
        if (lenet_target_runs(&targets[i]))
            return &targets[i];
    return NULL;
}

const char *lenet_target_names(void) {
    static char names[128]; /* built once, from the table */
    if (!names[0]) {
        size_t len = (size_t)snprintf(names, sizeof names, "native");
        for (int i = 0; i < N_TARGETS && len < sizeof names; i++)
            len += (size_t)snprintf(names + len, sizeof names - len, ", %s", targets[i].name);
    }
    return names;
}

int lenet_check_target(const lenet_model *m, lenet_error *err) {
    if (!m->style || strcmp(m->style, "kernels"))
        return 0; /* the loop styles do their own arithmetic */
    const lenet_target *t = m->target ? lenet_target_find(m->target) : NULL;
    if (lenet_target_runs(t))
        return 0;
    const lenet_target *native = lenet_target_native();
    lenet_set_error(err, "%s was built for %s, which %s; this CPU runs %s: emit it again with "
                    "--target %s",
                    m->name, m->target ? m->target : "an unknown target",
                    t && t->symbols ? "this CPU lacks" : "this runtime has no kernels for",
                    native->name, native->name);
    return -1;
}
