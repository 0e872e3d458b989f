/* fuzz_spec.c: libFuzzer target over the whole front end and emitter.
 *
 * Spec text -> YAML tree -> IR -> shapes -> C in every code style. A spec
 * that is accepted must give C that libtcc compiles (no spec can make
 * lenetc write broken or foreign code); one that is refused must come with
 * a message. A small accepted spec's kernels-style code also runs, forward
 * and backward, on buffers of exactly the sizes it declares, so that a
 * descriptor that reaches past them is caught. Sanitizers turn any
 * out-of-bounds access, leak or undefined behaviour into a crash. `make
 * fuzz` runs it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lenetc.h"

/* Keeps the slow parts (unrolling, compiling, running) for specs of a sane
 * size. */
#define MAX_UNROLL_MACS 20000
#define MAX_RUN_MACS 50000
#define MAX_COMPILE_BYTES (256 << 10)

/* One forward and backward pass of the compiled kernels-style code, every
 * buffer allocated to exactly its size (ASan guards its ends). */
static void run_once(const Model *m, Jit *j, int tile) {
    char name[MAX_NAME + 16];
    snprintf(name, sizeof name, "%s_forward", m->name);
    lenet_forward_fn fwd = (lenet_forward_fn)jit_symbol(j, name);
    snprintf(name, sizeof name, "%s_backward", m->name);
    lenet_backward_fn bwd = (lenet_backward_fn)jit_symbol(j, name);
    if (!fwd || !bwd)
        abort();
    const size_t P = (size_t)m->n_params, A = (size_t)m->act_floats * tile;
    float *params = calloc(P, sizeof *params), *grads = calloc(P, sizeof *grads);
    float *acts = calloc(A, sizeof *acts), *dacts = calloc(A, sizeof *dacts);
    for (size_t i = 0; i < P; i++)
        params[i] = (float)((i * 7919) % 13) / 13.0f - 0.5f;
    for (size_t i = 0; i < (size_t)shape_size(m->input) * tile; i++)
        acts[i] = (float)(i % 5) - 2.0f;
    /* a batch of one tile, the last lane padding; its sums are the batch's */
    double *sums = calloc((size_t)m->sums + 1, sizeof *sums);
    double *batch = calloc((size_t)m->sums + 1, sizeof *batch);
    lenet_pass pass = {.training = 1, .seed = 1, .lanes = tile > 1 ? tile - 1 : 1,
                       .batch = tile > 1 ? tile - 1 : 1, .sums = sums, .batch_sums = batch};
    for (int part = 0; part < m->parts; part++) {
        if (part > 0)
            memcpy(batch, sums, (size_t)m->sums * sizeof *sums);
        pass.part = part;
        fwd(params, acts, &pass);
    }
    for (size_t i = 0; i < (size_t)m->n_classes * tile; i++)
        dacts[(size_t)m->logits_off * tile + i] = 0.125f;
    for (int part = m->parts - 1; part >= 0; part--) {
        if (part < m->parts - 1)
            memcpy(batch, sums, (size_t)m->sums * sizeof *sums);
        pass.part = part;
        bwd(params, acts, dacts, grads, &pass);
    }
    /* and evaluation, all parts in one call */
    fwd(params, acts, &(lenet_pass){.training = 0});
    free(sums);
    free(batch);
    free(params);
    free(grads);
    free(acts);
    free(dacts);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > MAX_SPEC_BYTES)
        return 0;
    Model m;
    Diag d = {.file = "fuzz.yaml"};
    if (spec_parse((const char *)data, size, "fuzz", &m, &d) != 0 || model_infer(&m, &d) != 0) {
        if (!d.msg[0])
            abort(); /* refused without a word */
        model_free(&m);
        return 0;
    }
    long macs = 0;
    for (int i = 0; i < m.n_layers; i++)
        macs += layer_macs(&m.layers[i], false) + layer_macs(&m.layers[i], true);
    static const CodeStyle styles[] = {STYLE_LOOPS, STYLE_KERNELS, STYLE_UNROLL};
    /* sse2 (what `make fuzz` builds instrumented), or the machine's own */
    const lenet_target *target = lenet_target_runs(lenet_target_find("sse2"))
                                     ? lenet_target_find("sse2")
                                     : lenet_target_native();
    for (int s = 0; s < 3; s++) {
        if (styles[s] == STYLE_UNROLL && macs > MAX_UNROLL_MACS)
            continue;
        /* the kernels style with a tile that fills no vector, too */
        const int tile = styles[s] == STYLE_KERNELS && (size & 1) ? 5 : 16;
        EmitOptions o = {.style = styles[s], .target = target->name, .tile = tile,
                         .real = "float", .spec_file = "fuzz.yaml"};
        StrBuf c = {0}, h = {0}, mk = {0};
        emit_source(&m, &o, &c);
        emit_header(&m, &o, &h);
        emit_makefile(&m, &o, "../runtime", NULL, &mk);
        sb_free(&c);
        sb_free(&h);
        sb_free(&mk);
        const bool kernels = styles[s] == STYLE_KERNELS;
        StrBuf k = {0};
        sb_puts(&k, lenetc_kernels_header); /* lenet_pass, and the kernels */
        emit_kernels(&m, &o, &k);
        if (k.len <= MAX_COMPILE_BYTES) {
            Diag jd = {.file = "fuzz.yaml"};
            Jit *j = jit_compile_text(k.data, kernels ? target->symbols : NULL, &jd);
            if (!j) {
                fprintf(stderr, "accepted spec gave C that tcc refuses: %s\n", jd.msg);
                abort();
            }
            if (kernels && macs <= MAX_RUN_MACS)
                run_once(&m, j, tile);
            jit_free(j);
        }
        sb_free(&k);
    }
    model_free(&m);
    return 0;
}
