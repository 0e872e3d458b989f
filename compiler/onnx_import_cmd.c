/* onnx_import_cmd.c: `lenetc import FILE.onnx [--scale LO HI] -o DIR`.
 *
 * The import (onnx_import.c) gives a spec's text and tensors; the spec is
 * then compiled as any spec is (spec_parse, model_infer), so what is
 * written is a spec lenetc takes, and the weights are laid out by its
 * tensor table and saved by the runtime's safetensors writer. Both files
 * are written atomically, and only once everything has been checked.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_import.h"

static const char usage[] =
    "usage: lenetc import FILE.onnx [--scale LO HI] -o DIR\n"
    "\n"
    "Writes DIR/NAME.yaml, a spec of the ONNX graph (each layer's comment names\n"
    "its nodes), and DIR/NAME.safetensors, its weights; NAME is the file's name\n"
    "(or, for a file lenetc exported, its spec's). Then `lenetc eval NAME.yaml\n"
    "--weights NAME.safetensors`, `lenetc train NAME.yaml --init ...`, -o and\n"
    "--inference take them as any spec.\n"
    "\n"
    "  --scale LO HI  what the pixels 0..255 become: the network's input range\n"
    "                 (PyTorch's ToTensor: 0 1, the default); a file lenetc\n"
    "                 exported says its own\n"
    "  -o DIR         where the files go (made if missing)\n";

static int bad_usage(const char *why) {
    fprintf(stderr, "lenetc import: %s\n", why);
    lenet_try_help("lenetc import");
    return 2;
}

static int parse_real(const char *s, float *out) {
    char *end;
    const double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v) || fabs(v) > 1e6)
        return -1;
    *out = (float)v;
    return 0;
}

int onnx_import_main(int argc, char **argv) {
    const char *file = NULL, *dir = NULL;
    OnnxImportOptions o = {0};
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage, stdout);
            return 0;
        } else if (!strcmp(argv[i], "--scale")) {
            if (i + 2 >= argc || parse_real(argv[i + 1], &o.lo) || parse_real(argv[i + 2], &o.hi))
                return bad_usage("--scale takes two numbers, LO HI");
            if (!(o.lo < o.hi))
                return bad_usage("--scale LO HI: LO must be less than HI");
            o.scale_given = true;
            i += 2;
        } else if (!strcmp(argv[i], "-o")) {
            if (i + 1 >= argc)
                return bad_usage("-o needs a directory");
            dir = argv[++i];
        } else if (argv[i][0] == '-') {
            char why[96];
            snprintf(why, sizeof why, "unknown option '%.40s'", argv[i]);
            return bad_usage(why);
        } else if (file) {
            return bad_usage("one ONNX file at a time");
        } else {
            file = argv[i];
        }
    }
    if (!file || !dir)
        return bad_usage(file ? "missing -o DIR" : "missing the ONNX file");
    Diag d = {.file = file};
    int opset = 0;
    Onnx__ModelProto *mp = onnx_read(file, &opset, &d);
    OnnxImport im;
    if (!mp || onnx_import_model(mp, opset, file, &o, &im, &d)) {
        fprintf(stderr, "%s\n", d.msg);
        if (mp)
            onnx__model_proto__free_unpacked(mp, NULL);
        return 1;
    }
    onnx__model_proto__free_unpacked(mp, NULL);
    fputs(im.notes.data ? im.notes.data : "", stderr);
    /* the spec as lenetc reads it: what is written must compile */
    Model m;
    Diag sd = {.file = file};
    char yaml[PATH_MAX], weights[PATH_MAX];
    snprintf(yaml, sizeof yaml, "%s/%s.yaml", dir, im.name);
    snprintf(weights, sizeof weights, "%s/%s.safetensors", dir, im.name);
    int rc = 1;
    if (spec_parse(im.spec.data, im.spec.len, im.name, &m, &sd) || model_infer(&m, &sd)) {
        fprintf(stderr, "%s: error: lenetc cannot compile the network it maps to: %s\n", file,
                sd.msg);
        onnx_import_free(&im);
        return 1;
    }
    lenet_model *lm = model_descriptor(&m, 1);
    float *params = calloc((size_t)m.n_params + 1, sizeof *params);
    lenet_error err;
    Diag fd = {.file = file};
    if (!params) {
        fprintf(stderr, "lenetc: out of memory\n");
    } else if (onnx_import_params(&im, &m, params, false, &fd) || make_dirs(dir, &fd) ||
               write_file_atomic(yaml, im.spec.data, im.spec.len, &fd)) {
        fprintf(stderr, "%s\n", fd.msg);
    } else if (lenet_save_safetensors(lm, params, weights, &err)) {
        fprintf(stderr, "%s\n", err.msg);
    } else {
        printf("import: %s -> %s, %s (%d layers, %ld parameters)\n", file, yaml, weights,
               m.n_layers, m.n_params);
        rc = 0;
    }
    free(params);
    descriptor_free(lm);
    model_free(&m);
    onnx_import_free(&im);
    return rc;
}
