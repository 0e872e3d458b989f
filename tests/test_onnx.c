/* test_onnx.c: `lenetc onnx`, the ONNX export.
 *
 * - the file read back with protobuf-c (onnx.proto's messages): every node
 *   in order with its op, inputs, output and attributes, the graph's input
 *   and output, the initializers' shapes and bytes (bit-identical to the
 *   weights), the metadata; for lenet5 and the graphs (a residual network,
 *   depthwise convolutions, branches), every kind and the input's padding;
 * - bad input: a missing or mismatched weights file, missing arguments;
 * - make test: python3-onnx's checker (full_check) and OpenCV's dnn module,
 *   another runtime, run each file (tests/onnx/check_export.py): its logits
 *   within 1e-4 of lenetc's own (the JIT's) on all 10,000 t10k images for
 *   the MNIST models, trained, and on random images for the others.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "onnx.h"
#include "tests.h"

static void tmp_path(char path[512], const char *name) {
    snprintf(path, 512, "%s/onnx_%s", test_tmpdir(), name);
}

/* Runs `lenetc onnx` on spec and weights into path and reads the file back. */
static Onnx__ModelProto *export_and_read(const char *spec, const char *weights, const char *path) {
    char cmd[2048], out[4096];
    unlink(path);
    snprintf(cmd, sizeof cmd, "./lenetc onnx %s --weights %s -o %s", spec, weights, path);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s: %s", cmd, out);
    Diag d = {.file = path};
    size_t len;
    char *bytes = read_file(path, 1u << 30, &len, &d);
    ck_assert_msg(bytes != NULL, "%s", d.msg);
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, (const uint8_t *)bytes);
    ck_assert_msg(m != NULL, "%s: protobuf-c cannot unpack it", path);
    free(bytes);
    return m;
}

static void model_free_onnx(Onnx__ModelProto *m) { onnx__model_proto__free_unpacked(m, NULL); }

/* The node named name; fails if there is none. */
static const Onnx__NodeProto *node_named(const Onnx__ModelProto *m, const char *name) {
    for (size_t i = 0; i < m->graph->n_node; i++)
        if (!strcmp(m->graph->node[i]->name, name))
            return m->graph->node[i];
    ck_abort_msg("no node %s", name);
    return NULL;
}

static const Onnx__AttributeProto *attr_of(const Onnx__NodeProto *n, const char *name) {
    for (size_t i = 0; i < n->n_attribute; i++)
        if (!strcmp(n->attribute[i]->name, name))
            return n->attribute[i];
    return NULL;
}

static void assert_ints(const Onnx__NodeProto *n, const char *name, int count, const int64_t *want) {
    const Onnx__AttributeProto *a = attr_of(n, name);
    ck_assert_msg(a != NULL, "%s: no %s", n->name, name);
    ck_assert_int_eq(a->type, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    ck_assert_msg(a->n_ints == (size_t)count, "%s.%s: %zu values, not %d", n->name, name,
                  a->n_ints, count);
    for (int i = 0; i < count; i++)
        ck_assert_msg(a->ints[i] == want[i], "%s.%s[%d] = %lld, not %lld", n->name, name, i,
                      (long long)a->ints[i], (long long)want[i]);
}

static void assert_int(const Onnx__NodeProto *n, const char *name, int64_t want) {
    const Onnx__AttributeProto *a = attr_of(n, name);
    ck_assert_msg(a && a->type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT && a->i == want,
                  "%s: %s is not %lld", n->name, name, (long long)want);
}

static void assert_float(const Onnx__NodeProto *n, const char *name, float want) {
    const Onnx__AttributeProto *a = attr_of(n, name);
    ck_assert_msg(a && a->type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT && a->f == want,
                  "%s: %s is not %.9g", n->name, name, (double)want);
}

/* A node as expected: name, op, inputs (space-separated) and its output
 * (its name but for the logits). */
typedef struct {
    const char *name, *op, *inputs, *output;
} WantNode;

/* Exactly these nodes, in this order. */
static void assert_nodes(const Onnx__ModelProto *m, const WantNode *want, int n) {
    ck_assert_msg(m->graph->n_node == (size_t)n, "%zu nodes, not %d", m->graph->n_node, n);
    for (int i = 0; i < n; i++) {
        const Onnx__NodeProto *got = m->graph->node[i];
        ck_assert_msg(!strcmp(got->name, want[i].name), "node %d is %s, not %s", i, got->name,
                      want[i].name);
        ck_assert_msg(!strcmp(got->op_type, want[i].op), "%s is %s, not %s", got->name,
                      got->op_type, want[i].op);
        char inputs[512] = "";
        for (size_t j = 0; j < got->n_input; j++)
            snprintf(inputs + strlen(inputs), sizeof inputs - strlen(inputs), "%s%s",
                     j ? " " : "", got->input[j]);
        ck_assert_msg(!strcmp(inputs, want[i].inputs), "%s reads '%s', not '%s'", got->name,
                      inputs, want[i].inputs);
        const char *out = want[i].output ? want[i].output : want[i].name;
        ck_assert_msg(got->n_output == 1 && !strcmp(got->output[0], out), "%s writes %s, not %s",
                      got->name, got->n_output ? got->output[0] : "nothing", out);
    }
}

static const Onnx__TensorProto *initializer(const Onnx__ModelProto *m, const char *name) {
    for (size_t i = 0; i < m->graph->n_initializer; i++)
        if (!strcmp(m->graph->initializer[i]->name, name))
            return m->graph->initializer[i];
    ck_abort_msg("no initializer %s", name);
    return NULL;
}

/* One float of a scalar float32 initializer. */
static float scalar(const Onnx__ModelProto *m, const char *name) {
    const Onnx__TensorProto *t = initializer(m, name);
    ck_assert_int_eq(t->data_type, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT);
    ck_assert_uint_eq(t->n_dims, 0);
    ck_assert_uint_eq(t->raw_data.len, sizeof(float));
    float v;
    memcpy(&v, t->raw_data.data, sizeof v);
    return v;
}

/* Every tensor of the weights (read by the runtime's safetensors code) is
 * an initializer of its name, shape and bytes; beside them only the input
 * stage's consts (consts of them). */
static void assert_initializers(const Onnx__ModelProto *o, const char *spec, const char *weights,
                                int consts) {
    Model m;
    Diag d = {.file = spec};
    ck_assert_msg(test_load_spec(spec, &m, &d) == 0, "%s", d.msg);
    lenet_model *lm = model_descriptor(&m, 1);
    float *params = calloc((size_t)m.n_params, sizeof *params);
    lenet_error err;
    ck_assert_msg(lenet_load_safetensors(lm, params, weights, &err) == 0, "%s", err.msg);
    int tensors = 0;
    for (const Layer *l = m.layers; l < m.layers + m.n_layers; l++)
        for (const LayerTensor *t = l->tensors; t < l->tensors + l->n_tensors; t++, tensors++) {
            char name[2 * MAX_NAME];
            snprintf(name, sizeof name, "%s.%s", l->name, t->name);
            const Onnx__TensorProto *it = initializer(o, name);
            ck_assert_int_eq(it->data_type, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT);
            ck_assert_msg(it->n_dims == (size_t)t->ndim, "%s: %zu dims, not %d", name, it->n_dims,
                          t->ndim);
            for (int i = 0; i < t->ndim; i++)
                ck_assert_msg(it->dims[i] == t->dims[i], "%s: dim %d is %lld, not %d", name, i,
                              (long long)it->dims[i], t->dims[i]);
            ck_assert_msg(it->has_raw_data && it->raw_data.len == (size_t)t->size * 4,
                          "%s: %zu bytes, not %ld", name, it->raw_data.len, t->size * 4);
            ck_assert_msg(memcmp(it->raw_data.data, params + t->off, it->raw_data.len) == 0,
                          "%s: its bytes are not the weights'", name);
        }
    ck_assert_msg(o->graph->n_initializer == (size_t)(tensors + consts),
                  "%zu initializers, not %d tensors and %d consts", o->graph->n_initializer,
                  tensors, consts);
    free(params);
    descriptor_free(lm);
    model_free(&m);
}

static const char *meta_of(const Onnx__ModelProto *m, const char *key) {
    for (size_t i = 0; i < m->n_metadata_props; i++)
        if (!strcmp(m->metadata_props[i]->key, key))
            return m->metadata_props[i]->value;
    return NULL;
}

/* A value's type: float32 of these dims, the first the symbolic N. */
static void assert_value(const Onnx__ValueInfoProto *v, const char *name, int ndim,
                         const int64_t *dims) {
    ck_assert_str_eq(v->name, name);
    ck_assert_int_eq(v->type->value_case, ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE);
    const Onnx__TypeProto__Tensor *t = v->type->tensor_type;
    ck_assert_int_eq(t->elem_type, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT);
    ck_assert_uint_eq(t->shape->n_dim, (size_t)ndim);
    ck_assert_int_eq(t->shape->dim[0]->value_case,
                     ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM);
    ck_assert_str_eq(t->shape->dim[0]->dim_param, "N");
    for (int i = 1; i < ndim; i++) {
        ck_assert_int_eq(t->shape->dim[i]->value_case,
                         ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE);
        ck_assert_int_eq(t->shape->dim[i]->dim_value, dims[i]);
    }
}

/* The model's header: IR 7, opset 13, producer, graph name, input, output. */
static void assert_header(const Onnx__ModelProto *m, const char *name, int c, int h, int w,
                          int classes) {
    ck_assert_int_eq(m->ir_version, 7);
    ck_assert_uint_eq(m->n_opset_import, 1);
    ck_assert_str_eq(m->opset_import[0]->domain, "");
    ck_assert_int_eq(m->opset_import[0]->version, 13);
    ck_assert_str_eq(m->producer_name, "lenetc");
    ck_assert_str_eq(m->producer_version, LENET_VERSION);
    ck_assert_str_eq(m->graph->name, name);
    ck_assert_uint_eq(m->graph->n_input, 1);
    ck_assert_uint_eq(m->graph->n_output, 1);
    assert_value(m->graph->input[0], "image", 4, (const int64_t[]){0, c, h, w});
    assert_value(m->graph->output[0], "logits", 2, (const int64_t[]){0, classes});
}

/* LeNet-5: every node, attribute and tensor, the input's scaling to [-1,
 * 1], the metadata of weights that name no classes. */
START_TEST(test_lenet5) {
    char w[512], path[512];
    tmp_path(w, "lenet5.safetensors");
    tmp_path(path, "lenet5.onnx");
    test_init_weights("models/lenet5.yaml", w);
    Onnx__ModelProto *m = export_and_read("models/lenet5.yaml", w, path);
    assert_header(m, "lenet5", 1, 28, 28, 10);
    static const WantNode want[] = {
        {"input/scale", "Mul", "image input.scale", NULL},
        {"input/shift", "Add", "input/scale input.shift", NULL},
        {"conv1", "Conv", "input/shift conv1.weight conv1.bias", NULL},
        {"pool1", "MaxPool", "conv1", NULL},
        {"relu1", "Relu", "pool1", NULL},
        {"conv2", "Conv", "relu1 conv2.weight conv2.bias", NULL},
        {"pool2", "MaxPool", "conv2", NULL},
        {"relu2", "Relu", "pool2", NULL},
        {"flatten1", "Flatten", "relu2", NULL},
        {"dense1", "Gemm", "flatten1 dense1.weight dense1.bias", NULL},
        {"dense1/relu", "Relu", "dense1", NULL},
        {"dense2", "Gemm", "dense1/relu dense2.weight dense2.bias", NULL},
        {"dense2/relu", "Relu", "dense2", NULL},
        {"dense3", "Gemm", "dense2/relu dense3.weight dense3.bias", "logits"},
    };
    assert_nodes(m, want, sizeof want / sizeof want[0]);
    for (int i = 0; i < 2; i++) {
        const Onnx__NodeProto *conv = node_named(m, i ? "conv2" : "conv1");
        assert_ints(conv, "kernel_shape", 2, (const int64_t[]){3, 3});
        assert_ints(conv, "strides", 2, (const int64_t[]){1, 1});
        ck_assert_ptr_null(attr_of(conv, "pads")); /* valid */
        ck_assert_ptr_null(attr_of(conv, "group"));
        const Onnx__NodeProto *pool = node_named(m, i ? "pool2" : "pool1");
        assert_ints(pool, "kernel_shape", 2, (const int64_t[]){2, 2});
        assert_ints(pool, "strides", 2, (const int64_t[]){2, 2});
        ck_assert_ptr_null(attr_of(pool, "pads"));
    }
    assert_int(node_named(m, "flatten1"), "axis", 1);
    for (int i = 1; i <= 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "dense%d", i);
        assert_int(node_named(m, name), "transB", 1);
        ck_assert_uint_eq(node_named(m, name)->n_attribute, 1);
    }
    ck_assert(scalar(m, "input.scale") == (float)(2.0 / 255.0));
    ck_assert(scalar(m, "input.shift") == -1.0f);
    assert_initializers(m, "models/lenet5.yaml", w, 2);
    ck_assert_str_eq(meta_of(m, "lenetc.input"), "-1 1 0");
    ck_assert_str_eq(meta_of(m, "lenetc.spec"), "lenet5.yaml");
    ck_assert_str_eq(meta_of(m, "lenetc.weights"), "onnx_lenet5.safetensors");
    ck_assert_ptr_null(meta_of(m, "classes")); /* these weights name none */
    model_free_onnx(m);
}
END_TEST

/* The residual graph: "same" padding resolved into pads (stride 2: the
 * extra row after), batchnorm in its inference form with its own epsilon
 * and momentum (num_batches_tracked an initializer too), add, a depthwise
 * conv (group), a maxpool of an earlier layer, concat, global average
 * pooling and its Flatten. */
START_TEST(test_residual) {
    char w[512], path[512];
    tmp_path(w, "residual.safetensors");
    tmp_path(path, "residual.onnx");
    test_init_weights("tests/graph/mnist_residual.yaml", w);
    Onnx__ModelProto *m = export_and_read("tests/graph/mnist_residual.yaml", w, path);
    assert_header(m, "mnist_residual", 1, 28, 28, 10);
    static const WantNode want[] = {
        {"input/scale", "Mul", "image input.scale", NULL},
        {"input/shift", "Add", "input/scale input.shift", NULL},
        {"stem", "Conv", "input/shift stem.weight stem.bias", NULL},
        {"stem/relu", "Relu", "stem", NULL},
        {"b1", "Conv", "stem/relu b1.weight b1.bias", NULL},
        {"b1_bn", "BatchNormalization",
         "b1 b1_bn.weight b1_bn.bias b1_bn.running_mean b1_bn.running_var", NULL},
        {"relu1", "Relu", "b1_bn", NULL},
        {"b2", "Conv", "relu1 b2.weight b2.bias", NULL},
        {"sum1", "Add", "b2 stem/relu", NULL},
        {"sum1_bn", "BatchNormalization",
         "sum1 sum1_bn.weight sum1_bn.bias sum1_bn.running_mean sum1_bn.running_var", NULL},
        {"r1", "Relu", "sum1_bn", NULL},
        {"dw", "Conv", "r1 dw.weight dw.bias", NULL},
        {"dw/relu", "Relu", "dw", NULL},
        {"pw", "Conv", "dw/relu pw.weight pw.bias", NULL},
        {"pw/relu", "Relu", "pw", NULL},
        {"side", "MaxPool", "r1", NULL},
        {"concat1", "Concat", "pw/relu side", NULL},
        {"gap1", "GlobalAveragePool", "concat1", NULL},
        {"gap1/flatten", "Flatten", "gap1", NULL},
        {"dense1", "Gemm", "gap1/flatten dense1.weight dense1.bias", "logits"},
    };
    assert_nodes(m, want, sizeof want / sizeof want[0]);
    /* 28 at stride 2 "same": 14 outputs, one row of padding, after */
    const Onnx__NodeProto *stem = node_named(m, "stem");
    assert_ints(stem, "strides", 2, (const int64_t[]){2, 2});
    assert_ints(stem, "pads", 4, (const int64_t[]){0, 0, 1, 1});
    assert_ints(node_named(m, "b1"), "pads", 4, (const int64_t[]){1, 1, 1, 1});
    const Onnx__NodeProto *dw = node_named(m, "dw");
    assert_int(dw, "group", 8);
    assert_ints(dw, "pads", 4, (const int64_t[]){0, 0, 1, 1});
    ck_assert_ptr_null(attr_of(node_named(m, "pw"), "pads")); /* 1x1, valid */
    ck_assert_ptr_null(attr_of(node_named(m, "pw"), "group"));
    for (int i = 0; i < 2; i++) {
        const Onnx__NodeProto *bn = node_named(m, i ? "sum1_bn" : "b1_bn");
        assert_float(bn, "epsilon", 0.001f);
        assert_float(bn, "momentum", 0.9f);
        ck_assert_uint_eq(bn->n_attribute, 2);
        ck_assert_uint_eq(initializer(m, i ? "sum1_bn.num_batches_tracked"
                                           : "b1_bn.num_batches_tracked")->n_dims, 0);
    }
    assert_int(node_named(m, "concat1"), "axis", 1);
    assert_int(node_named(m, "gap1/flatten"), "axis", 1);
    assert_initializers(m, "tests/graph/mnist_residual.yaml", w, 2);
    model_free_onnx(m);
}
END_TEST

/* Depthwise convolutions with a multiplier ("same": a pixel each side),
 * without bias (no B input), explicit padding at stride 2 (its pads are
 * the spec's), batchnorm's defaults, a 7x7x2 input. */
START_TEST(test_depthwise) {
    char w[512], path[512];
    tmp_path(w, "depthwise.safetensors");
    tmp_path(path, "depthwise.onnx");
    test_init_weights("tests/models/depthwise.yaml", w);
    Onnx__ModelProto *m = export_and_read("tests/models/depthwise.yaml", w, path);
    assert_header(m, "depthwise", 2, 7, 7, 4);
    static const WantNode want[] = {
        {"input/scale", "Mul", "image input.scale", NULL},
        {"input/shift", "Add", "input/scale input.shift", NULL},
        {"dwconv1", "Conv", "input/shift dwconv1.weight dwconv1.bias", NULL},
        {"dwconv1/relu", "Relu", "dwconv1", NULL},
        {"conv1", "Conv", "dwconv1/relu conv1.weight", NULL},
        {"dwconv2", "Conv", "conv1 dwconv2.weight", NULL},
        {"batchnorm1", "BatchNormalization",
         "dwconv2 batchnorm1.weight batchnorm1.bias batchnorm1.running_mean "
         "batchnorm1.running_var",
         NULL},
        {"relu1", "Relu", "batchnorm1", NULL},
        {"gap1", "GlobalAveragePool", "relu1", NULL},
        {"gap1/flatten", "Flatten", "gap1", NULL},
        {"dense1", "Gemm", "gap1/flatten dense1.weight dense1.bias", "logits"},
    };
    assert_nodes(m, want, sizeof want / sizeof want[0]);
    const Onnx__NodeProto *dw1 = node_named(m, "dwconv1"), *dw2 = node_named(m, "dwconv2");
    assert_int(dw1, "group", 2);
    assert_ints(dw1, "pads", 4, (const int64_t[]){1, 1, 1, 1});
    assert_ints(dw1, "strides", 2, (const int64_t[]){1, 1});
    ck_assert_int_eq(initializer(m, "dwconv1.weight")->dims[0], 4); /* 2 channels x 2 */
    ck_assert_int_eq(initializer(m, "dwconv1.weight")->dims[1], 1);
    assert_int(dw2, "group", 3);
    assert_ints(dw2, "pads", 4, (const int64_t[]){1, 1, 1, 1});
    assert_ints(dw2, "strides", 2, (const int64_t[]){2, 2});
    assert_float(node_named(m, "batchnorm1"), "epsilon", 0.001f);
    assert_float(node_named(m, "batchnorm1"), "momentum", 0.99f);
    assert_initializers(m, "tests/models/depthwise.yaml", w, 2);
    model_free_onnx(m);
}
END_TEST

/* Branches over vectors (the model's input read far below: the input
 * stage's value), a concat of five, a fused tanh; and weights that name
 * their classes: "classes" in the metadata, as a JSON array. */
START_TEST(test_branches) {
    char w[512], path[512];
    tmp_path(w, "branches.safetensors");
    tmp_path(path, "branches.onnx");
    Model mm;
    Diag d = {.file = "branches"};
    ck_assert_msg(test_load_spec("tests/models/branches.yaml", &mm, &d) == 0, "%s", d.msg);
    lenet_model *lm = model_descriptor(&mm, 1);
    float *params = calloc((size_t)lm->n_params, sizeof *params);
    lenet_init_params(lm, params, 3);
    lenet_meta meta = {0};
    ck_assert(lenet_meta_set(&meta, "classes", "[\"cat\",\"dog\",\"b\\u00e9e\"]"));
    lenet_error err;
    ck_assert_msg(lenet_save_safetensors_meta(lm, params, &meta, w, &err) == 0, "%s", err.msg);
    free(params);
    descriptor_free(lm);
    model_free(&mm);
    Onnx__ModelProto *m = export_and_read("tests/models/branches.yaml", w, path);
    assert_header(m, "branches", 1, 6, 6, 3);
    static const WantNode want[] = {
        {"input/scale", "Mul", "image input.scale", NULL},
        {"input/shift", "Add", "input/scale input.shift", NULL},
        {"c", "Conv", "input/shift c.weight c.bias", NULL},
        {"c/tanh", "Tanh", "c", NULL},
        {"flat", "Flatten", "c/tanh", NULL},
        {"h1", "Gemm", "flat h1.weight h1.bias", NULL},
        {"h1/tanh", "Tanh", "h1", NULL},
        {"h2", "Gemm", "flat h2.weight h2.bias", NULL},
        {"g", "GlobalAveragePool", "c/tanh", NULL},
        {"g/flatten", "Flatten", "g", NULL},
        {"p", "MaxPool", "input/shift", NULL},
        {"pf", "Flatten", "p", NULL},
        {"concat1", "Concat", "h1/tanh h2 g/flatten flat pf", NULL},
        {"dense3", "Gemm", "concat1 dense3.weight dense3.bias", "logits"},
    };
    assert_nodes(m, want, sizeof want / sizeof want[0]);
    assert_int(node_named(m, "concat1"), "axis", 1);
    /* scale: [-1, 1], the default */
    ck_assert(scalar(m, "input.scale") == (float)(2.0 / 255.0));
    ck_assert(scalar(m, "input.shift") == -1.0f);
    ck_assert_str_eq(meta_of(m, "lenetc.input"), "-1 1 0");
    ck_assert_str_eq(meta_of(m, "classes"), "[\"cat\",\"dog\",\"b\xc3\xa9" "e\"]");
    assert_initializers(m, "tests/models/branches.yaml", w, 2);
    model_free_onnx(m);
}
END_TEST

/* Every other kind: leaky_relu (its alpha), avgpool, tanh, sigmoid and
 * leaky_relu fused into dense (Keras' 0.2), a batchnorm of vectors, and the
 * dropouts left out (their readers read their input). */
START_TEST(test_every_kind) {
    char w[512], path[512];
    tmp_path(w, "every_kind.safetensors");
    tmp_path(path, "every_kind.onnx");
    test_init_weights("tests/models/every_kind.yaml", w);
    Onnx__ModelProto *m = export_and_read("tests/models/every_kind.yaml", w, path);
    static const WantNode want[] = {
        {"input/scale", "Mul", "image input.scale", NULL},
        {"input/shift", "Add", "input/scale input.shift", NULL},
        {"conv1", "Conv", "input/shift conv1.weight conv1.bias", NULL},
        {"batchnorm1", "BatchNormalization",
         "conv1 batchnorm1.weight batchnorm1.bias batchnorm1.running_mean batchnorm1.running_var",
         NULL},
        {"leaky_relu1", "LeakyRelu", "batchnorm1", NULL},
        {"pool1", "AveragePool", "leaky_relu1", NULL},
        {"tanh1", "Tanh", "pool1", NULL},
        {"flatten1", "Flatten", "tanh1", NULL},
        {"dense1", "Gemm", "flatten1 dense1.weight dense1.bias", NULL},
        {"dense1/sigmoid", "Sigmoid", "dense1", NULL},
        {"batchnorm2", "BatchNormalization",
         "dense1/sigmoid batchnorm2.weight batchnorm2.bias batchnorm2.running_mean "
         "batchnorm2.running_var",
         NULL},
        {"dense2", "Gemm", "batchnorm2 dense2.weight dense2.bias", NULL},
        {"dense2/leaky_relu", "LeakyRelu", "dense2", NULL},
        {"sigmoid1", "Sigmoid", "dense2/leaky_relu", NULL},
        {"dense3", "Gemm", "sigmoid1 dense3.weight dense3.bias", "logits"},
    };
    assert_nodes(m, want, sizeof want / sizeof want[0]);
    assert_float(node_named(m, "leaky_relu1"), "alpha", 0.1f);
    assert_float(node_named(m, "dense2/leaky_relu"), "alpha", 0.2f);
    assert_ints(node_named(m, "conv1"), "strides", 2, (const int64_t[]){2, 2});
    assert_ints(node_named(m, "pool1"), "kernel_shape", 2, (const int64_t[]){2, 2});
    assert_float(node_named(m, "batchnorm2"), "epsilon", 1e-4f);
    assert_float(node_named(m, "batchnorm2"), "momentum", 0.9f);
    assert_initializers(m, "tests/models/every_kind.yaml", w, 2);
    model_free_onnx(m);
}
END_TEST

/* The input's padding: a Pad of raw pixels by the border, before the
 * scaling; its pads an int64 initializer; "lo hi pad" says so. */
START_TEST(test_input_pad) {
    char w[512], path[512];
    tmp_path(w, "classic.safetensors");
    tmp_path(path, "classic.onnx");
    test_init_weights("models/lenet5-classic.yaml", w);
    Onnx__ModelProto *m = export_and_read("models/lenet5-classic.yaml", w, path);
    assert_header(m, "lenet5_classic", 1, 28, 28, 10); /* the image, unpadded */
    const Onnx__NodeProto *first = m->graph->node[0];
    ck_assert_str_eq(first->name, "input/pad");
    ck_assert_str_eq(first->op_type, "Pad");
    ck_assert_uint_eq(first->n_input, 2);
    ck_assert_str_eq(first->input[0], "image");
    ck_assert_str_eq(first->input[1], "input.pads");
    ck_assert_uint_eq(first->n_attribute, 0); /* mode constant, value 0 */
    ck_assert_str_eq(m->graph->node[1]->name, "input/scale");
    ck_assert_str_eq(m->graph->node[1]->input[0], "input/pad");
    const Onnx__TensorProto *pads = initializer(m, "input.pads");
    ck_assert_int_eq(pads->data_type, ONNX__TENSOR_PROTO__DATA_TYPE__INT64);
    ck_assert_uint_eq(pads->n_dims, 1);
    ck_assert_int_eq(pads->dims[0], 8);
    ck_assert_uint_eq(pads->raw_data.len, 8 * sizeof(int64_t));
    int64_t p[8];
    memcpy(p, pads->raw_data.data, sizeof p);
    const int64_t want[8] = {0, 0, 2, 2, 0, 0, 2, 2};
    for (int i = 0; i < 8; i++)
        ck_assert_int_eq(p[i], want[i]);
    ck_assert_str_eq(meta_of(m, "lenetc.input"), "-1 1 2");
    assert_initializers(m, "models/lenet5-classic.yaml", w, 3);
    model_free_onnx(m);
}
END_TEST

/* Writes text as a spec in the scratch directory, and initial weights. */
static void small_spec(const char *name, const char *text, char spec[512], char w[512]) {
    char file[64];
    snprintf(file, sizeof file, "%s.yaml", name);
    tmp_path(spec, file);
    test_write_file(spec, text, strlen(text));
    snprintf(file, sizeof file, "%s.safetensors", name);
    tmp_path(w, file);
    test_init_weights(spec, w);
}

/* A dropout that gives the logits is an Identity writing them; an add of
 * three is a Sum (ONNX's Add takes two); a scale of the spec's own. */
START_TEST(test_trailing_dropout_and_sum) {
    char spec[512], w[512], path[512];
    small_spec("tail", "name: tail\ninput: {shape: [4, 4, 1], scale: [0.1, 0.7]}\nlayers:\n"
               "  - conv: {name: a, filters: 2, kernel: 1}\n"
               "  - conv: {name: b, filters: 2, kernel: 1, input: input}\n"
               "  - conv: {name: c, filters: 2, kernel: 1, input: input}\n"
               "  - add: {name: s, inputs: [a, b, c]}\n"
               "  - flatten\n  - dense: 3\n  - dropout: 0.5\n",
               spec, w);
    tmp_path(path, "tail.onnx");
    Onnx__ModelProto *m = export_and_read(spec, w, path);
    const WantNode want[] = {
        {"input/scale", "Mul", "image input.scale", NULL},
        {"input/shift", "Add", "input/scale input.shift", NULL},
        {"a", "Conv", "input/shift a.weight a.bias", NULL},
        {"b", "Conv", "input/shift b.weight b.bias", NULL},
        {"c", "Conv", "input/shift c.weight c.bias", NULL},
        {"s", "Sum", "a b c", NULL},
        {"flatten1", "Flatten", "s", NULL},
        {"dense1", "Gemm", "flatten1 dense1.weight dense1.bias", NULL},
        {"dropout1", "Identity", "dense1", "logits"},
    };
    assert_nodes(m, want, sizeof want / sizeof want[0]);
    assert_initializers(m, spec, w, 2);
    /* the scale's own numbers, shortest, and the floats lenetc computes with */
    ck_assert_str_eq(meta_of(m, "lenetc.input"), "0.1 0.7 0");
    ck_assert(scalar(m, "input.scale") == (float)(((double)0.7f - (double)0.1f) / 255.0));
    ck_assert(scalar(m, "input.shift") == 0.1f);
    model_free_onnx(m);
}
END_TEST

/* Bad input: one line naming the file, a non-zero exit, no file written. */
START_TEST(test_errors) {
    char w[512], path[512], cmd[2048], out[4096];
    tmp_path(w, "err_lenet5.safetensors");
    tmp_path(path, "err.onnx");
    test_init_weights("models/lenet5.yaml", w);
    unlink(path);
    snprintf(cmd, sizeof cmd, "./lenetc onnx models/lenet5.yaml --weights %s/none.safetensors -o %s",
             test_tmpdir(), path);
    ck_assert_int_eq(run(cmd, out, sizeof out), 1);
    ck_assert_msg(strstr(out, "none.safetensors: cannot open") != NULL, "%s", out);
    ck_assert_msg(strchr(out, '\n') == out + strlen(out) - 1, "not one line: %s", out);
    /* lenet5's weights are not the branches' */
    snprintf(cmd, sizeof cmd, "./lenetc onnx tests/models/branches.yaml --weights %s -o %s", w,
             path);
    ck_assert_int_eq(run(cmd, out, sizeof out), 1);
    ck_assert_msg(strstr(out, "err_lenet5.safetensors") != NULL, "%s", out);
    ck_assert_msg(strchr(out, '\n') == out + strlen(out) - 1, "not one line: %s", out);
    ck_assert_int_ne(access(path, F_OK), 0);
    snprintf(cmd, sizeof cmd, "./lenetc onnx models/lenet5.yaml -o %s", path);
    ck_assert_int_eq(run(cmd, out, sizeof out), 2);
    ck_assert_msg(strstr(out, "--weights") != NULL, "%s", out);
    snprintf(cmd, sizeof cmd, "./lenetc onnx models/lenet5.yaml --weights %s", w);
    ck_assert_int_eq(run(cmd, out, sizeof out), 2);
    ck_assert_msg(strstr(out, "-o FILE.onnx") != NULL, "%s", out);
    snprintf(cmd, sizeof cmd, "./lenetc onnx --weights %s -o %s", w, path);
    ck_assert_int_eq(run(cmd, out, sizeof out), 2);
    ck_assert_int_ne(access(path, F_OK), 0);
    /* a directory that is not there */
    snprintf(cmd, sizeof cmd, "./lenetc onnx models/lenet5.yaml --weights %s -o %s/no/such.onnx",
             w, test_tmpdir());
    ck_assert_int_eq(run(cmd, out, sizeof out), 1);
    ck_assert_msg(strstr(out, "no/such.onnx") != NULL, "%s", out);
}
END_TEST

/* ---- another runtime: OpenCV's dnn module ------------------------------ */

/* Whether the ONNX checks run: python3-onnx, python3-opencv and numpy are
 * installed, and this is not SANITIZE=1 (they compare numbers, which the
 * sanitizers do not change); with LENETC_REQUIRE_ONNX=1 (CI) missing ones
 * fail. */
static int onnx_tools(void) {
    const char *san = getenv("LENETC_SANITIZE");
    if (san && !strcmp(san, "1")) {
        fprintf(stderr, "onnx: the OpenCV checks skipped under SANITIZE=1 (make test runs them)\n");
        return 0;
    }
    if (system("/usr/bin/python3 -c 'import onnx, cv2, numpy' >/dev/null 2>&1") == 0)
        return 1;
    const char *req = getenv("LENETC_REQUIRE_ONNX");
    ck_assert_msg(!(req && !strcmp(req, "1")),
                  "onnx: python3-onnx, python3-opencv or python3-numpy is not installed "
                  "(make test-deps installs them)");
    fprintf(stderr, "onnx: the OpenCV checks skipped: python3-onnx, python3-opencv or "
                    "python3-numpy is not installed (make test-deps)\n");
    return 0;
}

/* lenetc's own logits for ds (the JIT's code, as eval runs it) into
 * logits (count x classes, sample-major), and the images as the ONNX
 * input takes them: uint8 N x C x H x W (ds keeps channels together). */
static void lenetc_logits(const char *spec, const char *weights, const lenet_dataset *ds,
                          const char *logits_path, const char *images_path) {
    Model m;
    Diag d = {.file = spec};
    ck_assert_msg(test_load_spec(spec, &m, &d) == 0, "%s", d.msg);
    EmitOptions o = {.style = STYLE_KERNELS, .target = lenet_target_native()->name, .tile = 16,
                     .real = "float", .spec_file = spec};
    lenet_model *lm = model_descriptor(&m, 16);
    Jit *j = jit_compile(&m, &o, lm, &d, NULL, NULL);
    ck_assert_msg(j != NULL, "%s", d.msg);
    float *params = calloc((size_t)lm->n_params, sizeof *params);
    lenet_error err;
    ck_assert_msg(lenet_load_weights(lm, params, NULL, weights, &err) == 0, "%s", err.msg);
    float *acts = aligned_alloc(64, (lm->act_floats * sizeof(float) + 63) / 64 * 64);
    const int K = lm->n_classes, T = lm->tile;
    float *out = malloc(sizeof *out * (size_t)ds->count * K);
    for (int s = 0; s < ds->count; s += T) {
        int idx[LENET_MAX_TILE], n = ds->count - s < T ? ds->count - s : T;
        for (int b = 0; b < n; b++)
            idx[b] = s + b;
        lenet_load_tile(lm, ds, idx, n, acts);
        const lenet_pass pass = {.training = 0, .sample = s};
        lm->forward(params, acts, &pass);
        for (int b = 0; b < n; b++)
            for (int k = 0; k < K; k++)
                out[(size_t)(s + b) * K + k] = acts[lm->logits_offset + (size_t)k * T + b];
    }
    test_write_file(logits_path, out, sizeof *out * (size_t)ds->count * K);
    const size_t H = (size_t)ds->rows, W = (size_t)ds->cols, C = (size_t)ds->channels;
    uint8_t *px = malloc(ds->count * C * H * W);
    for (size_t i = 0; i < (size_t)ds->count; i++)
        for (size_t c = 0; c < C; c++)
            for (size_t p = 0; p < H * W; p++)
                px[((i * C + c) * H * W) + p] = ds->images[(i * H * W + p) * C + c];
    test_write_file(images_path, px, ds->count * C * H * W);
    free(px);
    free(out);
    free(acts);
    free(params);
    jit_free(j);
    descriptor_free(lm);
    model_free(&m);
}

/* Exports spec's weights, runs check_export.py on ds's images (the
 * checker, then OpenCV against lenetc's logits) and prints what it
 * measured. */
static void opencv_check(const char *name, const char *spec, const char *weights,
                         const lenet_dataset *ds) {
    char path[512], logits[512], images[512], cmd[4096], out[8192], file[128];
    snprintf(file, sizeof file, "cv_%s.onnx", name);
    tmp_path(path, file);
    model_free_onnx(export_and_read(spec, weights, path));
    snprintf(file, sizeof file, "cv_%s.logits", name);
    tmp_path(logits, file);
    snprintf(file, sizeof file, "cv_%s.images", name);
    tmp_path(images, file);
    lenetc_logits(spec, weights, ds, logits, images);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/onnx/check_export.py %s %s %s %d", path,
             images, logits, ds->count);
    const int rc = run(cmd, out, sizeof out);
    printf("%s", out);
    fflush(stdout);
    ck_assert_msg(rc == 0, "%s: %s", cmd, out);
}

/* Trains spec on MNIST (train_args) and checks it on all of t10k. */
static void opencv_mnist(const char *name, const char *spec, const char *train_args) {
    char w[512], cmd[2048], out[4096], file[128];
    snprintf(file, sizeof file, "cv_%s.safetensors", name);
    tmp_path(w, file);
    snprintf(cmd, sizeof cmd, "./lenetc train %s %s --quiet --save %s", spec, train_args, w);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s: %s", cmd, out);
    lenet_dataset test = {0};
    lenet_error err;
    ck_assert_msg(lenet_load_mnist(NULL, "t10k", &test, &err) == 0,
                  "%s (these tests need MNIST: see README)", err.msg);
    ck_assert_int_eq(test.count, 10000);
    opencv_check(name, spec, w, &test);
    lenet_free_dataset(&test);
}

/* Checks spec with its initial weights on n random images of its size. */
static void opencv_random(const char *name, const char *spec, int n) {
    char w[512], file[128];
    snprintf(file, sizeof file, "cv_%s.safetensors", name);
    tmp_path(w, file);
    test_init_weights(spec, w);
    Model m;
    Diag d = {.file = spec};
    ck_assert_msg(test_load_spec(spec, &m, &d) == 0, "%s", d.msg);
    lenet_dataset ds = {.count = n, .rows = m.in_h, .cols = m.in_w, .channels = m.in_c,
                        .n_classes = m.n_classes};
    const size_t size = (size_t)n * m.in_h * m.in_w * m.in_c;
    ds.images = malloc(size);
    ds.labels = calloc((size_t)n, 1);
    lenet_rng rng;
    lenet_rng_seed(&rng, 11);
    for (size_t i = 0; i < size; i++)
        ds.images[i] = (uint8_t)lenet_rng_below(&rng, 256);
    model_free(&m);
    opencv_check(name, spec, w, &ds);
    free(ds.images);
    free(ds.labels);
}

START_TEST(test_opencv_lenet5) {
    if (onnx_tools())
        opencv_mnist("lenet5", "models/lenet5.yaml", "--epochs 1");
}
END_TEST

START_TEST(test_opencv_graphs) {
    if (!onnx_tools())
        return;
    opencv_mnist("mnist_residual", "tests/graph/mnist_residual.yaml", "--epochs 1");
    opencv_mnist("every_kind", "tests/models/every_kind.yaml", "--epochs 1 --limit 20000");
    opencv_mnist("lenet5_classic", "models/lenet5-classic.yaml", "--epochs 1 --limit 20000");
    opencv_random("depthwise", "tests/models/depthwise.yaml", 2000);
    opencv_random("branches", "tests/models/branches.yaml", 2000);
}
END_TEST

Suite *onnx_suite(void) {
    Suite *s = suite_create("onnx");
    TCase *tc = tcase_create("onnx");
    tcase_add_test(tc, test_lenet5);
    tcase_add_test(tc, test_residual);
    tcase_add_test(tc, test_depthwise);
    tcase_add_test(tc, test_branches);
    tcase_add_test(tc, test_every_kind);
    tcase_add_test(tc, test_input_pad);
    tcase_add_test(tc, test_trailing_dropout_and_sum);
    tcase_add_test(tc, test_errors);
    suite_add_tcase(s, tc);
    /* trained on MNIST, and another runtime: make test */
    TCase *slow = tcase_create("onnx_opencv");
    tcase_set_tags(slow, "slow");
    tcase_set_timeout(slow, 600);
    tcase_add_test(slow, test_opencv_lenet5);
    tcase_add_test(slow, test_opencv_graphs);
    suite_add_tcase(s, slow);
    return s;
}
