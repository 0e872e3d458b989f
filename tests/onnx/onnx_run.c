/* onnx_run.c: imported ONNX graphs run by lenetc's JIT, for the tests.
 *
 *   onnx_run conform TEST_DIR...
 *       ONNX's node tests (make check-onnx): each TEST_DIR/model.onnx is
 *       imported with its graph inputs 1.. (test_data_set_0/input_K.pb: the
 *       weights) as constants, compiled with a flatten and a 2-unit dense
 *       after the node's output (a spec must end in logits; their numbers
 *       are not looked at), and run with tile 1 on each sample of input_0.pb
 *       as raw floats written into the input tile (no pixel scaling): the
 *       output layer's activations must match output_0.pb within 1e-5
 *       (absolute, plus 1e-5 relative). PASS, FAIL or SKIP(why: the import's
 *       message) per test, then the counts; exit 1 on any FAIL.
 *   onnx_run logits SPEC WEIGHTS MNIST_DIR OUT
 *       the spec's logits on MNIST's t10k images, loaded and scaled as
 *       lenetc eval loads them: float32 [10000][classes] to OUT.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lenet.h"
#include "onnx_import.h"

#define TOL 1e-5

static Onnx__TensorProto *read_tensor(const char *path, Diag *d) {
    size_t len;
    char *buf = read_file(path, ONNX_MAX_BYTES, &len, d);
    if (!buf)
        return NULL;
    Onnx__TensorProto *t = onnx__tensor_proto__unpack(NULL, len, (const uint8_t *)buf);
    free(buf);
    if (!t)
        error_at(d, 0, 0, "not a TensorProto");
    return t;
}

/* A compiled spec: its model, descriptor and code. */
typedef struct {
    Model m;
    lenet_model *lm;
    Jit *jit;
} Compiled;

static int compile(const char *text, size_t len, int tile, Compiled *c, Diag *d) {
    memset(c, 0, sizeof *c);
    if (spec_parse(text, len, "onnx", &c->m, d) || model_infer(&c->m, d))
        return -1;
    c->lm = model_descriptor(&c->m, tile);
    EmitOptions o = {.style = STYLE_KERNELS, .tile = tile, .real = "float",
                     .target = lenet_target_native()->name, .spec_file = "onnx"};
    double secs;
    size_t bytes;
    c->jit = jit_compile(&c->m, &o, c->lm, d, &secs, &bytes);
    return c->jit ? 0 : -1;
}

static void compiled_free(Compiled *c) {
    if (c->jit)
        jit_free(c->jit);
    if (c->lm)
        descriptor_free(c->lm);
    model_free(&c->m);
}

enum { PASS, FAIL, SKIP };

/* One node test: PASS, FAIL or SKIP, with why. */
static int conform(const char *dir, char *why, size_t n) {
    char path[4096];
    Diag d = {.file = "model.onnx"};
    int opset, rc = SKIP;
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    Onnx__ModelProto *mp = onnx_read(path, &opset, &d);
    Onnx__TensorProto *ts[16] = {0}, *expect = NULL;
    OnnxConstant extra[16];
    int n_in = 0;
    OnnxImport im = {0};
    Compiled cm = {0};
    float *params = NULL, *acts = NULL;
    if (!mp) {
        snprintf(why, n, "%s", d.msg);
        return SKIP;
    }
    const Onnx__GraphProto *g = mp->graph;
    for (size_t k = 0; k < g->n_input && k < 16; k++) {
        snprintf(path, sizeof path, "%s/test_data_set_0/input_%zu.pb", dir, k);
        if (!(ts[k] = read_tensor(path, &d)))
            goto out;
        if (k)
            extra[n_in++] = (OnnxConstant){g->input[k]->name, ts[k]};
    }
    snprintf(path, sizeof path, "%s/test_data_set_0/output_0.pb", dir);
    if (!(expect = read_tensor(path, &d)))
        goto out;
    const OnnxImportOptions o = {.extra = extra, .n_extra = n_in, .allow_no_layers = true};
    if (onnx_import_model(mp, opset, path, &o, &im, &d)) {
        snprintf(why, n, "%s", strstr(d.msg, "error: ") ? strstr(d.msg, "error: ") + 7 : d.msg);
        goto out;
    }
    rc = FAIL;
    StrBuf spec = {0};
    sb_puts(&spec, im.spec.data);
    sb_printf(&spec, "  - flatten: {name: harness_flat, input: %s}\n"
                     "  - dense: {name: harness_logits, units: 2}\n", im.output);
    Diag cd = {.file = "spec"};
    const int bad = compile(spec.data, spec.len, 1, &cm, &cd);
    sb_free(&spec);
    OnnxTensor x = {0}, y = {0};
    if (bad) {
        snprintf(why, n, "the imported spec: %s", cd.msg);
        goto out;
    }
    params = calloc(cm.m.n_params + 1, sizeof *params);
    acts = calloc(cm.m.act_floats + 1, sizeof *acts);
    if (onnx_import_params(&im, &cm.m, params, true, &cd) ||
        onnx_decode(ts[0], "input_0", &x, &cd) || onnx_decode(expect, "output_0", &y, &cd) ||
        !x.f || !y.f || x.ndim < 1) {
        snprintf(why, n, "%s", cd.msg[0] ? cd.msg : "not float tensors");
        goto free_xy;
    }
    const long N = x.dims[0], fin = N ? x.n / N : 0, fout = N ? y.n / N : 0;
    long out_off = 0, out_n = shape_size(cm.m.input);
    for (int i = 0; i < cm.m.n_layers; i++)
        if (!strcmp(cm.m.layers[i].name, im.output)) {
            out_off = cm.m.layers[i].out_off;
            out_n = shape_size(cm.m.layers[i].out);
        }
    if (fin != shape_size(cm.m.input) || fout != out_n || y.n != N * fout) {
        snprintf(why, n, "sizes: input %ld per sample for %ld, output %ld for %ld", fin,
                 shape_size(cm.m.input), fout, out_n);
        goto free_xy;
    }
    double worst = 0;
    long at = -1;
    for (long s = 0; s < N; s++) {
        memset(acts, 0, (cm.m.act_floats + 1) * sizeof *acts);
        memcpy(acts, x.f + s * fin, (size_t)fin * sizeof *acts);
        cm.lm->forward(params, acts, &(lenet_pass){.training = 0});
        for (long i = 0; i < fout; i++) {
            const double want = y.f[s * fout + i], got = acts[out_off + i];
            const double err = fabs(got - want) / (1 + fabs(want));
            if (!(err <= worst)) {
                worst = isnan(err) ? INFINITY : err;
                at = s * fout + i;
            }
        }
    }
    if (worst <= TOL) {
        snprintf(why, n, "%ld values, max error %.2g", y.n, worst);
        rc = PASS;
    } else {
        snprintf(why, n, "value %ld is %.9g, not %.9g (error %.2g)", at,
                 acts[out_off + at % (fout ? fout : 1)], y.f[at], worst);
    }
free_xy:
    onnx_decode_free(&x);
    onnx_decode_free(&y);
out:
    if (rc == SKIP && !why[0])
        snprintf(why, n, "%s", d.msg);
    free(params);
    free(acts);
    compiled_free(&cm);
    onnx_import_free(&im);
    for (int k = 0; k < 16; k++)
        if (ts[k])
            onnx__tensor_proto__free_unpacked(ts[k], NULL);
    if (expect)
        onnx__tensor_proto__free_unpacked(expect, NULL);
    onnx__model_proto__free_unpacked(mp, NULL);
    return rc;
}

static int cmd_conform(int argc, char **argv) {
    int count[3] = {0};
    static const char *const words[] = {"PASS", "FAIL", "SKIP"};
    for (int i = 2; i < argc; i++) {
        char why[1100] = "";
        const int r = conform(argv[i], why, sizeof why);
        count[r]++;
        const char *base = strrchr(argv[i], '/') ? strrchr(argv[i], '/') + 1 : argv[i];
        for (char *p = why; *p; p++)
            if (*p == '\n')
                *p = ' ';
        printf(r == SKIP ? "%s(%s) %s\n" : "%s %s: %s\n", words[r], r == SKIP ? why : base,
               r == SKIP ? base : why);
    }
    printf("check-onnx: %d passed, %d failed, %d skipped of %d\n", count[PASS], count[FAIL],
           count[SKIP], argc - 2);
    return count[FAIL] ? 1 : 0;
}

static int cmd_logits(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: onnx_run logits SPEC WEIGHTS MNIST_DIR OUT\n");
        return 2;
    }
    Diag d = {.file = argv[2]};
    size_t len;
    char *text = read_file(argv[2], MAX_SPEC_BYTES, &len, &d);
    Compiled cm;
    lenet_error err;
    lenet_dataset ds;
    const int T = 16;
    if (!text || compile(text, len, T, &cm, &d)) {
        fprintf(stderr, "%s\n", d.msg);
        return 1;
    }
    free(text);
    float *params = calloc(cm.lm->n_params, sizeof *params);
    float *acts = calloc(cm.lm->act_floats, sizeof *acts);
    if (lenet_load_safetensors(cm.lm, params, argv[3], &err) ||
        lenet_load_mnist(argv[4], "t10k", &ds, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    const int K = cm.lm->n_classes;
    float *logits = malloc((size_t)ds.count * K * sizeof *logits);
    for (int first = 0; first < ds.count; first += T) {
        int idx[16], n = ds.count - first < T ? ds.count - first : T;
        for (int b = 0; b < n; b++)
            idx[b] = first + b;
        lenet_load_tile(cm.lm, &ds, idx, n, acts);
        cm.lm->forward(params, acts, &(lenet_pass){.training = 0});
        for (int b = 0; b < n; b++)
            for (int k = 0; k < K; k++)
                logits[(size_t)(first + b) * K + k] =
                    acts[cm.lm->logits_offset + (size_t)k * T + b];
    }
    FILE *f = fopen(argv[5], "wb");
    const int bad = !f || fwrite(logits, sizeof *logits, (size_t)ds.count * K, f) !=
                              (size_t)ds.count * K;
    if (f)
        fclose(f);
    free(logits);
    free(params);
    free(acts);
    lenet_free_dataset(&ds);
    compiled_free(&cm);
    if (bad)
        fprintf(stderr, "%s: cannot write\n", argv[5]);
    return bad;
}

int main(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "conform"))
        return cmd_conform(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "logits"))
        return cmd_logits(argc, argv);
    fprintf(stderr, "usage: onnx_run conform TEST_DIR... | logits SPEC WEIGHTS MNIST_DIR OUT\n");
    return 2;
}
