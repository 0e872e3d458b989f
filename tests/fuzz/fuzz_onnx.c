/* fuzz_onnx.c: libFuzzer target over the ONNX import.
 *
 * Bytes -> protobuf-c's unpacker -> onnx_read.c's checks -> the mapping to
 * layers (onnx_import.c) -> the spec it writes, compiled as any spec, and
 * the weights laid out by it. A file that is refused must come with a
 * message; one that is imported must give YAML that parses (no string from
 * the file may break the spec's syntax) and weights that fit the spec it
 * compiles to. Sanitizers turn any out-of-bounds access, leak or undefined
 * behaviour into a crash. `make fuzz` runs it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    Diag d = {.file = "fuzz.onnx"};
    int opset = 0;
    Onnx__ModelProto *mp = onnx_unpack(data, size, &opset, &d);
    if (!mp) {
        if (!d.msg[0])
            abort(); /* refused without a word */
        return 0;
    }
    OnnxImport im;
    /* both ways: as the command imports, and as the conformance harness */
    for (int harness = 0; harness < 2; harness++) {
        Diag id = {.file = "fuzz.onnx"};
        const OnnxImportOptions o = {.allow_no_layers = harness};
        if (onnx_import_model(mp, opset, "fuzz.onnx", &o, &im, &id)) {
            if (!id.msg[0])
                abort();
            continue;
        }
        Diag yd = {.file = "fuzz.yaml"};
        YNode *tree = ytree_parse(im.spec.data, im.spec.len, &yd);
        if (!tree) {
            fprintf(stderr, "the import wrote YAML that does not parse: %s\n%s", yd.msg,
                    im.spec.data);
            abort();
        }
        ytree_free(tree);
        Model m;
        Diag sd = {.file = "fuzz.yaml"};
        if (spec_parse(im.spec.data, im.spec.len, im.name, &m, &sd) == 0 &&
            model_infer(&m, &sd) == 0) {
            float *params = calloc((size_t)m.n_params + 1, sizeof *params);
            Diag pd = {.file = "fuzz.onnx"};
            if (!params || onnx_import_params(&im, &m, params, harness, &pd))
                if (!harness) { /* what the command imports has every weight */
                    fprintf(stderr, "weights do not fit the spec: %s\n%s", pd.msg, im.spec.data);
                    abort();
                }
            free(params);
        } else if (!sd.msg[0]) {
            abort();
        }
        model_free(&m);
        onnx_import_free(&im);
    }
    onnx__model_proto__free_unpacked(mp, NULL);
    return 0;
}
