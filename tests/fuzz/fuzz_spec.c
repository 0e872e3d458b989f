/* fuzz_spec.c: libFuzzer target over the whole front end and emitter.
 *
 * Spec text -> YAML tree -> IR -> shapes -> C in every code shape. A spec
 * that is accepted must give C that libtcc compiles (no spec can make
 * lenetc write broken or foreign code); one that is refused must come with
 * a message. Sanitizers turn any out-of-bounds access, leak or undefined
 * behaviour into a crash. `make fuzz` runs it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lenetc.h"

/* Keeps the slow parts (unrolling, compiling) for specs of a sane size. */
#define MAX_UNROLL_MACS 20000
#define MAX_COMPILE_BYTES (256 << 10)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > MAX_SPEC_BYTES)
        return 0;
    Model m;
    Diag d = {.file = "fuzz.yaml"};
    if (spec_parse((const char *)data, size, "fuzz", &m, &d) != 0) {
        if (!d.msg[0])
            abort(); /* refused without a word */
        model_free(&m);
        return 0;
    }
    long macs = 0;
    for (int i = 0; i < m.n_layers; i++)
        macs += layer_macs(&m.layers[i], false) + layer_macs(&m.layers[i], true);
    static const CodeShape shapes[] = {SHAPE_LOOPS, SHAPE_VECTOR, SHAPE_UNROLL};
    for (int s = 0; s < 3; s++) {
        if (shapes[s] == SHAPE_UNROLL && macs > MAX_UNROLL_MACS)
            continue;
        EmitOptions o = {.shape = shapes[s], .tile = 16, .real = "float", .spec_file = "fuzz.yaml"};
        StrBuf c = {0}, h = {0}, mk = {0};
        emit_source(&m, &o, &c);
        emit_header(&m, &o, &h);
        emit_makefile(&m, &o, "../runtime", &mk);
        sb_free(&c);
        sb_free(&h);
        sb_free(&mk);
        if (shapes[s] == SHAPE_VECTOR)
            continue; /* tcc has no vector types */
        StrBuf k = {0};
        emit_kernels(&m, &o, &k);
        if (k.len <= MAX_COMPILE_BYTES) {
            Diag jd = {.file = "fuzz.yaml"};
            Jit *j = jit_compile_text(k.data, &jd);
            if (!j) {
                fprintf(stderr, "accepted spec gave C that tcc refuses: %s\n", jd.msg);
                abort();
            }
            jit_free(j);
        }
        sb_free(&k);
    }
    model_free(&m);
    return 0;
}
