/* test_onnx_import.c: lenetc import on small ONNX models built here with
 * protobuf-c (a conv, a flatten, a Gemm), each test changing one thing: a
 * good one imports to the spec and the bits of its weights; truncated,
 * lying and malformed ones (a tensor claiming more values than it holds,
 * huge dims, a cycle, an undefined input, an unknown op or attribute type,
 * external data, a layout lenetc cannot map) fail with one line naming the
 * file and the node; a node name cannot inject YAML. The PyTorch model end
 * to end is tests/onnx/torch_import.py, run here when torch is installed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lenet.h"
#include "onnx_import.h"
#include "tests.h"

/* image [N, 1, 4, 4] -> Conv c (2 filters, 3x3) -> Flatten flat -> Gemm d
 * (3 units, transB 1) -> logits */
typedef struct {
    Onnx__ModelProto model;
    Onnx__OperatorSetIdProto opset, *opsets[1];
    Onnx__GraphProto graph;
    Onnx__NodeProto nodes[4], *node_ptrs[4];
    char *ins[4][3], *outs[4][1];
    Onnx__AttributeProto attr, *attrs[1];
    Onnx__TensorProto inits[4], *init_ptrs[4];
    int64_t tdims[4][4];
    float data[4][48];
    Onnx__ValueInfoProto input, output, *inputs[1], *outputs[1];
    Onnx__TypeProto type;
    Onnx__TypeProto__Tensor tensor_type;
    Onnx__TensorShapeProto shape;
    Onnx__TensorShapeProto__Dimension dims[4], *dim_ptrs[4];
} Builder;

static void tensor(Builder *b, int k, const char *name, int ndim, const int64_t *dims) {
    Onnx__TensorProto *t = &b->inits[k];
    onnx__tensor_proto__init(t);
    t->name = (char *)name;
    t->has_data_type = 1;
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    t->n_dims = (size_t)ndim;
    t->dims = b->tdims[k];
    long n = 1;
    for (int i = 0; i < ndim; i++)
        n *= (b->tdims[k][i] = dims[i]);
    for (long i = 0; i < n; i++)
        b->data[k][i] = (float)(i % 7) * 0.125f - 0.25f + (float)k;
    t->n_float_data = (size_t)n;
    t->float_data = b->data[k];
    b->init_ptrs[k] = t;
}

static void node(Builder *b, int k, const char *op, const char *name, int n_in,
                 const char *i0, const char *i1, const char *i2, const char *out) {
    Onnx__NodeProto *n = &b->nodes[k];
    onnx__node_proto__init(n);
    n->op_type = (char *)op;
    n->name = (char *)name;
    b->ins[k][0] = (char *)i0;
    b->ins[k][1] = (char *)i1;
    b->ins[k][2] = (char *)i2;
    b->outs[k][0] = (char *)out;
    n->n_input = (size_t)n_in;
    n->input = b->ins[k];
    n->n_output = 1;
    n->output = b->outs[k];
    b->node_ptrs[k] = n;
}

static void build(Builder *b) {
    memset(b, 0, sizeof *b);
    onnx__model_proto__init(&b->model);
    b->model.has_ir_version = 1;
    b->model.ir_version = 7;
    b->model.producer_name = "test_onnx_import";
    onnx__operator_set_id_proto__init(&b->opset);
    b->opset.domain = "";
    b->opset.has_version = 1;
    b->opset.version = 13;
    b->opsets[0] = &b->opset;
    b->model.n_opset_import = 1;
    b->model.opset_import = b->opsets;
    onnx__graph_proto__init(&b->graph);
    b->model.graph = &b->graph;
    node(b, 0, "Conv", "/c/Conv", 3, "image", "c.weight", "c.bias", "h");
    node(b, 1, "Flatten", "flat", 1, "h", NULL, NULL, "f");
    node(b, 2, "Gemm", "/d/Gemm", 3, "f", "d.weight", "d.bias", "logits");
    onnx__attribute_proto__init(&b->attr);
    b->attr.name = "transB";
    b->attr.has_type = 1;
    b->attr.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    b->attr.has_i = 1;
    b->attr.i = 1;
    b->attrs[0] = &b->attr;
    b->nodes[2].n_attribute = 1;
    b->nodes[2].attribute = b->attrs;
    b->graph.n_node = 3;
    b->graph.node = b->node_ptrs;
    tensor(b, 0, "c.weight", 4, (int64_t[]){2, 1, 3, 3});
    tensor(b, 1, "c.bias", 1, (int64_t[]){2});
    tensor(b, 2, "d.weight", 2, (int64_t[]){3, 8});
    tensor(b, 3, "d.bias", 1, (int64_t[]){3});
    b->graph.n_initializer = 4;
    b->graph.initializer = b->init_ptrs;
    onnx__value_info_proto__init(&b->input);
    b->input.name = "image";
    b->input.type = &b->type;
    onnx__type_proto__init(&b->type);
    b->type.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    b->type.tensor_type = &b->tensor_type;
    onnx__type_proto__tensor__init(&b->tensor_type);
    b->tensor_type.has_elem_type = 1;
    b->tensor_type.elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    b->tensor_type.shape = &b->shape;
    onnx__tensor_shape_proto__init(&b->shape);
    static const int64_t dims[4] = {1, 1, 4, 4};
    for (int i = 0; i < 4; i++) {
        onnx__tensor_shape_proto__dimension__init(&b->dims[i]);
        b->dims[i].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        b->dims[i].dim_value = dims[i];
        b->dim_ptrs[i] = &b->dims[i];
    }
    b->dims[0].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
    b->dims[0].dim_param = "N";
    b->shape.n_dim = 4;
    b->shape.dim = b->dim_ptrs;
    b->inputs[0] = &b->input;
    b->graph.n_input = 1;
    b->graph.input = b->inputs;
    onnx__value_info_proto__init(&b->output);
    b->output.name = "logits";
    b->outputs[0] = &b->output;
    b->graph.n_output = 1;
    b->graph.output = b->outputs;
}

/* b packed into tests/tmp/NAME.onnx, cut to keep bytes (0: all); the path */
static const char *pack(const Builder *b, const char *name, size_t keep) {
    static char path[512];
    const size_t n = onnx__model_proto__get_packed_size(&b->model);
    uint8_t *buf = malloc(n);
    ck_assert_uint_eq(onnx__model_proto__pack(&b->model, buf), n);
    snprintf(path, sizeof path, "%s/%s.onnx", test_tmpdir(), name);
    test_write_file(path, buf, keep ? keep : n);
    free(buf);
    return path;
}

/* lenetc import of b must fail with one line naming the file and saying want */
static void refused(const Builder *b, const char *name, size_t keep, const char *want) {
    const char *path = pack(b, name, keep);
    char cmd[1200], out[4096], head[600];
    snprintf(cmd, sizeof cmd, "./lenetc import %s -o %s/%s-out", path, test_tmpdir(), name);
    const int rc = run(cmd, out, sizeof out);
    ck_assert_msg(rc == 1, "%s: exit %d, not 1:\n%s", name, rc, out);
    snprintf(head, sizeof head, "%s: error: ", path);
    ck_assert_msg(!strncmp(out, head, strlen(head)), "%s: does not start '%s':\n%s", name, head,
                  out);
    ck_assert_msg(strchr(out, '\n') == out + strlen(out) - 1, "%s: not one line:\n%s", name, out);
    ck_assert_msg(strstr(out, want) != NULL, "%s: no '%s' in:\n%s", name, want, out);
}

START_TEST(test_import_good) {
    Builder b;
    build(&b);
    const char *path = pack(&b, "good", 0);
    char cmd[1200], out[8192], dir[600], yaml[700];
    snprintf(dir, sizeof dir, "%s/good-out", test_tmpdir());
    snprintf(cmd, sizeof cmd, "./lenetc import %s --scale -1 1 -o %s", path, dir);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    snprintf(yaml, sizeof yaml, "%s/good.yaml", dir);
    char *text = test_slurp(yaml);
    ck_assert_msg(strstr(text, "  # Conv '/c/Conv'\n  - conv: {name: c, filters: 2, kernel: 3}\n"),
                  "%s", text);
    ck_assert_msg(strstr(text, "  - flatten: {name: flat}\n  # Gemm '/d/Gemm'\n"
                               "  - dense: {name: d, units: 3}\n"), "%s", text);
    ck_assert_msg(strstr(text, "  shape: [4, 4, 1]\n  scale: [-1, 1]\n"), "%s", text);
    /* the weights: the initializers' bits, under the spec's names */
    Model m;
    Diag d = {.file = yaml};
    ck_assert_msg(test_parse_spec(text, strlen(text), "good", &m, &d) == 0, "%s", d.msg);
    lenet_model *lm = model_descriptor(&m, 1);
    float *params = calloc(lm->n_params, sizeof *params);
    lenet_error err;
    snprintf(yaml, sizeof yaml, "%s/good.safetensors", dir);
    ck_assert_msg(lenet_load_safetensors(lm, params, yaml, &err) == 0, "%s", err.msg);
    const long sizes[4] = {18, 2, 24, 3};
    long off = 0;
    for (int k = 0; k < 4; k++) {
        for (long i = 0; i < sizes[k]; i++)
            ck_assert_msg(params[off + i] == b.data[k][i], "tensor %d value %ld: %g, not %g", k,
                          i, params[off + i], b.data[k][i]);
        off += sizes[k];
    }
    ck_assert_int_eq(lm->n_params, off);
    free(params);
    descriptor_free(lm);
    model_free(&m);
    free(text);
}
END_TEST

START_TEST(test_import_truncated) {
    Builder b;
    build(&b);
    const size_t n = onnx__model_proto__get_packed_size(&b.model);
    refused(&b, "truncated", n / 2, "not an ONNX model");
    refused(&b, "truncated1", n - 1, "not an ONNX model");
}
END_TEST

START_TEST(test_import_lying_tensor) {
    Builder b;
    build(&b);
    b.inits[0].n_float_data = 9; /* dims [2, 1, 3, 3] claim 18 */
    refused(&b, "short_floats", 0,
            "initializer 'c.weight': its dims claim 18 values but it holds 9");
    build(&b);
    uint8_t raw[72] = {0};
    b.inits[0].n_float_data = 0;
    b.inits[0].has_raw_data = 1;
    b.inits[0].raw_data = (ProtobufCBinaryData){36, raw};
    refused(&b, "short_raw", 0, "its dims claim 18 values but it holds 9");
    b.inits[0].raw_data.len = 71;
    refused(&b, "odd_raw", 0, "raw_data of 71 bytes is no whole number of 4-byte values");
}
END_TEST

START_TEST(test_import_huge_dims) {
    Builder b;
    build(&b);
    b.tdims[0][0] = 1LL << 40;
    refused(&b, "huge_tensor", 0, "initializer 'c.weight': dimension 0 is 1099511627776");
    build(&b);
    b.tdims[0][0] = 1 << 20; /* each fine, together too many */
    b.tdims[0][2] = 1 << 20;
    refused(&b, "huge_product", 0, "more than 67108864 values");
    build(&b);
    b.dims[2].dim_value = 1000000000000LL;
    refused(&b, "huge_input", 0, "input 'image': dimension 2 must be a number from 1 to 4096");
}
END_TEST

START_TEST(test_import_cycle) {
    Builder b;
    build(&b);
    b.ins[1][0] = "loop"; /* flat reads loop, which is a Relu of flat's output */
    node(&b, 3, "Relu", "back", 1, "f", NULL, NULL, "loop");
    b.graph.n_node = 4;
    refused(&b, "cycle", 0, "the graph has a cycle through this node");
    build(&b);
    b.ins[1][0] = "nowhere";
    refused(&b, "undefined", 0,
            "node 'flat' (Flatten, opset 13): input 'nowhere' is defined by no node");
}
END_TEST

START_TEST(test_import_unknown_op) {
    Builder b;
    build(&b);
    b.nodes[1].op_type = "Frobnicate";
    refused(&b, "unknown_op", 0,
            "node 'flat' (Frobnicate, opset 13): lenetc cannot import this op");
    build(&b);
    b.opset.version = 99;
    refused(&b, "unknown_opset", 0, "opset 99: lenetc reads opsets 1 to 21");
}
END_TEST

START_TEST(test_import_bad_attribute) {
    Builder b;
    build(&b);
    b.attr.type = (Onnx__AttributeProto__AttributeType)99;
    refused(&b, "attr_type", 0,
            "node '/d/Gemm' (Gemm, opset 13): attribute 'transB' has unknown type 99");
    build(&b);
    b.attr.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
    refused(&b, "attr_wrong", 0, "attribute 'transB' must be an int");
    build(&b);
    b.attr.name = "transC";
    refused(&b, "attr_unknown", 0, "attribute 'transC' is not supported");
}
END_TEST

START_TEST(test_import_refusals) {
    Builder b;
    build(&b);
    b.inits[0].has_data_location = 1;
    b.inits[0].data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    refused(&b, "external", 0, "its data is in an external file");
    build(&b);
    /* pads [top 1, left 0, bottom 0, right 0] */
    Onnx__AttributeProto pads = b.attr, *conv_attrs[1] = {&pads};
    int64_t p[4] = {1, 0, 0, 0};
    pads.name = "pads";
    pads.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
    pads.has_i = 0;
    pads.n_ints = 4;
    pads.ints = p;
    b.nodes[0].n_attribute = 1;
    b.nodes[0].attribute = conv_attrs;
    refused(&b, "asymmetric", 0, "lenetc cannot map this layout");
    build(&b);
    /* lenetc.input says lenetc's export made it, but the stage is missing */
    Onnx__StringStringEntryProto meta = ONNX__STRING_STRING_ENTRY_PROTO__INIT, *metas[1] = {&meta};
    meta.key = "lenetc.input";
    meta.value = "0 1 0";
    b.model.n_metadata_props = 1;
    b.model.metadata_props = metas;
    refused(&b, "no_stage", 0, "node '/c/Conv' (Conv, opset 13): it reads the input before "
                               "lenetc's input stage");
    meta.value = "0 1 x";
    refused(&b, "bad_stage", 0, "metadata lenetc.input must be \"lo hi pad\"");
    build(&b);
    /* a Softmax inside the graph */
    node(&b, 3, "Softmax", "sm", 1, "h", NULL, NULL, "hs");
    b.ins[1][0] = "hs";
    b.node_ptrs[3] = &b.nodes[3];
    b.graph.n_node = 4;
    refused(&b, "inner_softmax", 0, "a Softmax that is not the graph's output");
    build(&b);
    b.tdims[2][1] = 7; /* Gemm's B for 7 features, not 8 */
    b.inits[2].n_float_data = 21;
    refused(&b, "gemm_shape", 0, "B is [3, 7] (transB 1) for 8 input features");
}
END_TEST

/* What fuzz_onnx found (tests/onnx/bad/): refused with one line, no crash */
START_TEST(test_import_fuzz_findings) {
    static const char *const files[][2] = {
        {"tests/onnx/bad/fuzz-empty-string.onnx", "node '/Pad' (Pad, opset 13): input 0 is missing"},
        {"tests/onnx/bad/fuzz-no-op-type.onnx",
         "node 'input/shift' (, opset 13): lenetc's input stage 'input/shift' must be an Add"}};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char cmd[600], out[4096], want[400];
        snprintf(cmd, sizeof cmd, "./lenetc import %s -o %s/fuzz-out", files[i][0], test_tmpdir());
        ck_assert_int_eq(run(cmd, out, sizeof out), 1);
        snprintf(want, sizeof want, "%s: error: %s\n", files[i][0], files[i][1]);
        ck_assert_str_eq(out, want);
    }
}
END_TEST

/* A final Softmax is dropped, with a note on stderr: lenetc's logits are
 * its input. */
START_TEST(test_import_softmax) {
    Builder b;
    build(&b);
    b.outs[2][0] = "scores";
    node(&b, 3, "Softmax", "probs", 1, "scores", NULL, NULL, "logits");
    b.graph.n_node = 4;
    const char *path = pack(&b, "softmax", 0);
    char cmd[1200], out[4096];
    snprintf(cmd, sizeof cmd, "./lenetc import %s -o %s/softmax-out", path, test_tmpdir());
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    ck_assert_msg(strstr(out, "dropped the final node 'probs' (Softmax, opset 13): lenetc's "
                              "logits are its input\n"), "%s", out);
}
END_TEST

/* torch's x.view(x.size(0), -1) with a dynamic batch: Shape, Gather,
 * Unsqueeze, Concat, then Reshape, as a flatten; a shape that keeps no
 * batch is refused. */
START_TEST(test_import_dynamic_reshape) {
    for (int bad = 0; bad < 2; bad++) {
        Builder b;
        build(&b);
        static Onnx__NodeProto more[5];
        static Onnx__NodeProto *all[8];
        static char *ins[5][2], *outs[5][1];
        static const char *const ops[5] = {"Shape", "Gather", "Unsqueeze", "Concat", "Reshape"};
        static const char *const in0[5] = {"h", "sh", "n", "n1", "h"};
        static const char *const in1[5] = {NULL, "zero", "axes", "minus1", "target"};
        static const char *const out[5] = {"sh", "n", "n1", "target", "f"};
        for (int k = 0; k < 5; k++) {
            onnx__node_proto__init(&more[k]);
            more[k].op_type = (char *)ops[k];
            more[k].name = (char *)out[k];
            ins[k][0] = (char *)in0[k];
            ins[k][1] = (char *)in1[k];
            outs[k][0] = (char *)out[k];
            more[k].n_input = in1[k] ? 2 : 1;
            more[k].input = ins[k];
            more[k].n_output = 1;
            more[k].output = outs[k];
        }
        static Onnx__AttributeProto axis0, *concat_attrs[1] = {&axis0};
        onnx__attribute_proto__init(&axis0);
        axis0.name = "axis";
        axis0.has_type = 1;
        axis0.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
        axis0.has_i = 1;
        axis0.i = 0;
        more[3].n_attribute = 1;
        more[3].attribute = concat_attrs;
        /* Gather index 1 (the channels) in the bad one: no batch */
        static int64_t zero[2], one = 1, axes = 0, minus1 = -1;
        static Onnx__TensorProto ints[3], *inits[7];
        static int64_t dim1 = 1;
        static const char *const names[3] = {"zero", "axes", "minus1"};
        int64_t *vals[3] = {bad ? &one : &zero[0], &axes, &minus1};
        for (int k = 0; k < 3; k++) {
            onnx__tensor_proto__init(&ints[k]);
            ints[k].name = (char *)names[k];
            ints[k].has_data_type = 1;
            ints[k].data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
            ints[k].n_dims = k ? 1 : 0; /* Gather's index a scalar */
            ints[k].dims = &dim1;
            ints[k].n_int64_data = 1;
            ints[k].int64_data = vals[k];
        }
        for (int k = 0; k < 4; k++)
            inits[k] = b.init_ptrs[k];
        for (int k = 0; k < 3; k++)
            inits[4 + k] = &ints[k];
        b.graph.n_initializer = 7;
        b.graph.initializer = inits;
        all[0] = &b.nodes[0];
        for (int k = 0; k < 5; k++)
            all[1 + k] = &more[k];
        all[6] = &b.nodes[2];
        b.graph.node = all;
        b.graph.n_node = 7;
        if (bad) {
            refused(&b, "dynamic_reshape_bad", 0, "node 'f' (Reshape, opset 13): a reshape to "
                                                  "[two values that are no [N, features]]");
            continue;
        }
        const char *path = pack(&b, "dynamic_reshape", 0);
        char cmd[1200], text[4096], yaml[700];
        snprintf(cmd, sizeof cmd, "./lenetc import %s -o %s/dyn-out", path, test_tmpdir());
        ck_assert_msg(run(cmd, text, sizeof text) == 0, "%s", text);
        snprintf(yaml, sizeof yaml, "%s/dyn-out/dynamic_reshape.yaml", test_tmpdir());
        char *spec = test_slurp(yaml);
        ck_assert_msg(strstr(spec, "  # Reshape 'f'\n  - flatten: {name: f}\n"), "%s", spec);
        free(spec);
    }
}
END_TEST

/* A node name is text from the file: it becomes an identifier, and YAML
 * never sees it but in a comment made printable. */
START_TEST(test_import_names) {
    Builder b;
    build(&b);
    b.nodes[1].name = "x}\n  - relu: {name: evil\n# \"'";
    const char *path = pack(&b, "names", 0);
    char cmd[1200], out[4096], yaml[700];
    snprintf(cmd, sizeof cmd, "./lenetc import %s -o %s/names-out", path, test_tmpdir());
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    snprintf(yaml, sizeof yaml, "%s/names-out/names.yaml", test_tmpdir());
    char *text = test_slurp(yaml);
    Model m;
    Diag d = {.file = yaml};
    ck_assert_msg(test_parse_spec(text, strlen(text), "names", &m, &d) == 0, "%s", d.msg);
    ck_assert_int_eq(m.n_layers, 3);
    ck_assert_str_eq(m.layers[1].name, "x_relu_name_evil");
    ck_assert_msg(strstr(text, "  # Flatten 'x}?  - relu: {name: evil?# \"''\n"), "%s", text);
    model_free(&m);
    free(text);
}
END_TEST

/* lenetc onnx, then lenetc import: the same network (every layer's kind,
 * name, inputs, attributes as described, activation, shape and tensors, the
 * input stage) and bit-identical weights. Specs with dropout are left out:
 * the export leaves dropout out. */
static const char *const round_trips[] = {
    "models/lenet5.yaml",           "models/resnet8.yaml",          "tests/models/batchnorm.yaml",
    "tests/models/branches.yaml",   "tests/models/conv_act.yaml",   "tests/models/conv_chain.yaml",
    "tests/models/conv_pad.yaml",   "tests/models/dense_only.yaml", "tests/models/depthwise.yaml",
    "tests/models/leaky.yaml",      "tests/models/mnist_tiny.yaml", "tests/models/pools.yaml",
    "tests/models/residual.yaml",   "tests/models/squash.yaml"};

/* A layer's description without its padding's words: `padding: same`
 * comes back as the number of pixels it pads where that is the same on
 * every side (the file says only the pads), the same network. */
static void describe_unpadded(const Layer *l, StrBuf *sb) {
    l->kind->describe(l, sb);
    char *p = strstr(sb->data, ", padding ");
    if (p) {
        char *end = strpbrk(p + 2, ",");
        memmove(p, end ? end : p + strlen(p), strlen(end ? end : p + strlen(p)) + 1);
    }
}

START_TEST(test_import_round_trip) {
    const char *spec = round_trips[_i];
    char stem[128], w[512], onnx[512], dir[512], cmd[2600], out[8192], yaml[700], back[700];
    snprintf(stem, sizeof stem, "%s", strrchr(spec, '/') + 1);
    *strrchr(stem, '.') = '\0';
    snprintf(w, sizeof w, "%s/rt_%s.safetensors", test_tmpdir(), stem);
    snprintf(onnx, sizeof onnx, "%s/rt_%s.onnx", test_tmpdir(), stem);
    snprintf(dir, sizeof dir, "%s/rt_%s", test_tmpdir(), stem);
    test_init_weights(spec, w);
    snprintf(cmd, sizeof cmd, "./lenetc onnx %s --weights %s -o %s && ./lenetc import %s -o %s",
             spec, w, onnx, onnx, dir);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s: %s", spec, out);
    Model a, b;
    Diag d = {.file = spec};
    ck_assert_msg(test_load_spec(spec, &a, &d) == 0, "%s", d.msg);
    snprintf(yaml, sizeof yaml, "%s/%s.yaml", dir, a.name);
    snprintf(back, sizeof back, "%s/%s.safetensors", dir, a.name);
    Diag e = {.file = yaml};
    ck_assert_msg(test_load_spec(yaml, &b, &e) == 0, "%s", e.msg);
    ck_assert_int_eq(b.n_layers, a.n_layers);
    ck_assert(a.in_h == b.in_h && a.in_w == b.in_w && a.in_c == b.in_c && a.pad == b.pad);
    ck_assert(a.scale_lo == b.scale_lo && a.scale_hi == b.scale_hi);
    for (int i = 0; i < a.n_layers; i++) {
        const Layer *la = &a.layers[i], *lb = &b.layers[i];
        StrBuf da = {0}, db = {0};
        describe_unpadded(la, &da);
        describe_unpadded(lb, &db);
        ck_assert_msg(la->kind == lb->kind && !strcmp(la->name, lb->name) &&
                          !strcmp(da.data, db.data) &&
                          layer_activation(la) == layer_activation(lb) &&
                          la->out.c == lb->out.c && la->out.h == lb->out.h &&
                          la->out.w == lb->out.w && layer_inputs(la) == layer_inputs(lb) &&
                          la->in_off == lb->in_off && la->out_off == lb->out_off &&
                          la->n_tensors == lb->n_tensors,
                      "%s: layer %d is %s '%s' (%s), imported %s '%s' (%s)", spec, i,
                      la->kind->kind, la->name, da.data, lb->kind->kind, lb->name, db.data);
        for (int j = 0; j < layer_inputs(la); j++)
            ck_assert_int_eq(la->inputs[j], lb->inputs[j]);
        for (int k = 0; k < la->n_tensors; k++)
            ck_assert(!strcmp(la->tensors[k].name, lb->tensors[k].name) &&
                      la->tensors[k].off == lb->tensors[k].off &&
                      la->tensors[k].size == lb->tensors[k].size);
        sb_free(&da);
        sb_free(&db);
    }
    lenet_model *lm = model_descriptor(&a, 1), *lm2 = model_descriptor(&b, 1);
    float *pa = calloc(lm->n_params, sizeof *pa), *pb = calloc(lm->n_params, sizeof *pb);
    lenet_error err;
    ck_assert_msg(lenet_load_safetensors(lm, pa, w, &err) == 0, "%s", err.msg);
    ck_assert_msg(lenet_load_safetensors(lm2, pb, back, &err) == 0, "%s", err.msg);
    ck_assert_msg(!memcmp(pa, pb, lm->n_params * sizeof *pa), "%s: weights differ", spec);
    free(pa);
    free(pb);
    descriptor_free(lm);
    descriptor_free(lm2);
    model_free(&a);
    model_free(&b);
}
END_TEST

/* PyTorch end to end: tests/onnx/torch_import.py */
START_TEST(test_import_torch) {
    if (!test_torch("onnx: test_import_torch"))
        return;
    char cmd[1024], out[16384];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 tests/onnx/torch_import.py ./lenetc build/onnx/onnx_run "
             "../shared/mnist %s/torch_import", test_tmpdir());
    const int rc = run(cmd, out, sizeof out);
    fputs(out, stdout);
    ck_assert_msg(rc == 0, "torch_import.py: exit %d\n%s", rc, out);
    ck_assert_msg(strstr(out, "10000/10000 t10k predictions agree"), "%s", out);
}
END_TEST

Suite *onnx_import_suite(void) {
    Suite *s = suite_create("onnx_import");
    TCase *tc = tcase_create("malformed");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_import_good);
    tcase_add_test(tc, test_import_truncated);
    tcase_add_test(tc, test_import_lying_tensor);
    tcase_add_test(tc, test_import_huge_dims);
    tcase_add_test(tc, test_import_cycle);
    tcase_add_test(tc, test_import_unknown_op);
    tcase_add_test(tc, test_import_bad_attribute);
    tcase_add_test(tc, test_import_refusals);
    tcase_add_test(tc, test_import_names);
    tcase_add_test(tc, test_import_softmax);
    tcase_add_test(tc, test_import_fuzz_findings);
    tcase_add_test(tc, test_import_dynamic_reshape);
    tcase_add_loop_test(tc, test_import_round_trip, 0,
                        (int)(sizeof round_trips / sizeof round_trips[0]));
    suite_add_tcase(s, tc);
    TCase *torch = tcase_create("torch");
    tcase_set_tags(torch, "slow");
    tcase_set_timeout(torch, 900);
    tcase_add_test(torch, test_import_torch);
    suite_add_tcase(s, torch);
    return s;
}
