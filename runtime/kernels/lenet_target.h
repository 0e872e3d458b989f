/* lenet_target.h: the instruction sets lenetc generates code for, which
 * of them this runtime has kernels for and this CPU runs (target.c). What
 * generated code calls is lenet_kernels.h, free of #include for the JIT.
 */
#ifndef LENET_TARGET_H
#define LENET_TARGET_H

#include "lenet_core.h"
#include "lenet_model.h"

/* ---- targets (target.c): instruction sets and their kernels ---------- */

/* A kernel as the JIT binds it: generic name ("lenet_sgemm") -> code. */
typedef struct {
    const char *name;
    void *fn;
} lenet_symbol;

typedef struct {
    const char *name;      /* what --target takes: "avx2" */
    const char *describe;  /* "x86-64-v3: AVX2 + FMA, 8 floats per register" */
    const char *cflags;    /* gcc flags for code built for it */
    int lanes;             /* floats per vector register */
    const lenet_symbol *symbols; /* its kernels; NULL if this runtime lacks them
                                  * (neon on x86-64, ...); ends with {0, 0} */
} lenet_target;

/* The target named name (avx512, avx2, sse2, neon), or NULL. */
const lenet_target *lenet_target_find(const char *name);
/* The i-th known target, widest first; NULL past the last. */
const lenet_target *lenet_target_at(int i);
/* Whether this runtime has its kernels and this CPU runs them. */
int lenet_target_runs(const lenet_target *t);
/* The widest target this CPU runs: what "native" means. */
const lenet_target *lenet_target_native(void);
/* "native, avx512, avx2, sse2, neon", for messages. */
const char *lenet_target_names(void);

/* 0 if m's code runs here (the kernels style needs its target's kernels
 * and a CPU that has it); else -1 and a message saying what to do. */
int lenet_check_target(const lenet_model *m, lenet_error *err);

#endif
