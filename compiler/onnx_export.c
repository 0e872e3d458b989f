/* onnx_export.c: a trained model as an ONNX file (`lenetc onnx`), by
 * onnx.h's conventions: the input stage's nodes, each layer's (its kind's
 * LayerKind.onnx, through the builder below), every tensor of the weights as
 * an initializer, the metadata, then protobuf-c's pack.
 *
 * The message tree points into the builder's allocations (freed together
 * at the end) and into params (the initializers' raw_data: not copied).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx.h"

/* ONNX's raw_data is little-endian, as the floats in memory (and in the
 * safetensors file they were read from) are here */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "raw_data is little-endian");

#define MAX_NODE_ATTRS 8

struct OnnxGraph {
    const Model *m;
    const float *params;
    Onnx__GraphProto *graph;
    size_t node_cap, init_cap;
    const char **value;     /* each layer's output value, once written */
    const char *image;      /* the input stage's output */
    int at;                 /* the layer whose nodes are being added */
    size_t first_node;      /* its first */
    bool *in_graph;         /* per tensor (layer at, tensor k): added already */
    void **owned;           /* every allocation, freed at the end */
    size_t n_owned, owned_cap;
};

/* Tiny allocations only: running out is the end of the command. */
static void *out_of_memory(void) {
    fprintf(stderr, "lenetc: out of memory\n");
    exit(1);
}

static void *g_alloc(OnnxGraph *g, size_t n) {
    if (g->n_owned == g->owned_cap) {
        g->owned_cap = g->owned_cap ? 2 * g->owned_cap : 64;
        void **grown = realloc(g->owned, g->owned_cap * sizeof *grown);
        if (!grown)
            return out_of_memory();
        g->owned = grown;
    }
    void *p = calloc(1, n ? n : 1);
    if (!p)
        return out_of_memory();
    return g->owned[g->n_owned++] = p;
}

static char *g_printf(OnnxGraph *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *g_printf(OnnxGraph *g, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    const int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = g_alloc(g, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

static const Layer *layer_at(const OnnxGraph *g) { return &g->m->layers[g->at]; }

/* ---- the builder the kinds use (onnx.h) --------------------------------- */

const char *onnx_input(const OnnxGraph *g, int j) {
    const int from = layer_at(g)->inputs[j];
    return from == INPUT_IMAGE ? g->image : g->value[from];
}

const char *onnx_last(const OnnxGraph *g) {
    return g->value[g->at] ? g->value[g->at] : onnx_input(g, 0);
}

/* A float32 initializer of dims over count floats at data (not copied). */
static Onnx__TensorProto *add_floats(OnnxGraph *g, const char *name, int ndim, const int64_t *dims,
                                     const float *data, long count) {
    Onnx__TensorProto *t = g_alloc(g, sizeof *t);
    onnx__tensor_proto__init(t);
    t->name = g_printf(g, "%s", name);
    t->has_data_type = true;
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    t->n_dims = (size_t)ndim;
    t->dims = g_alloc(g, sizeof *t->dims * (size_t)(ndim ? ndim : 1));
    memcpy(t->dims, dims, sizeof *t->dims * (size_t)ndim);
    t->has_raw_data = true;
    t->raw_data = (ProtobufCBinaryData){(size_t)count * sizeof *data, (uint8_t *)data};
    if (g->graph->n_initializer == g->init_cap) {
        g->init_cap *= 2;
        Onnx__TensorProto **grown =
            realloc(g->graph->initializer, sizeof *grown * g->init_cap);
        if (!grown)
            out_of_memory();
        g->graph->initializer = grown;
    }
    g->graph->initializer[g->graph->n_initializer++] = t;
    return t;
}

/* Layer at's tensor k as an initializer, once. */
static const char *add_tensor(OnnxGraph *g, int k) {
    const Layer *l = layer_at(g);
    const LayerTensor *t = &l->tensors[k];
    const char *name = g_printf(g, "%s.%s", l->name, t->name);
    bool *added = &g->in_graph[g->at * MAX_LAYER_TENSORS + k];
    if (!*added) {
        int64_t dims[4];
        for (int i = 0; i < t->ndim; i++)
            dims[i] = t->dims[i];
        add_floats(g, name, t->ndim, dims, g->params + t->off, t->size);
        *added = true;
    }
    return name;
}

const char *onnx_tensor(OnnxGraph *g, const char *name) {
    const Layer *l = layer_at(g);
    for (int k = 0; k < l->n_tensors; k++)
        if (!strcmp(l->tensors[k].name, name))
            return add_tensor(g, k);
    abort(); /* a kind names only its own tensors */
}

/* A node named name; its output is the value of that name. */
static Onnx__NodeProto *add_node(OnnxGraph *g, const char *op_type, const char *name, int n,
                                 const char *const *in) {
    Onnx__NodeProto *node = g_alloc(g, sizeof *node);
    onnx__node_proto__init(node);
    node->name = g_printf(g, "%s", name);
    node->op_type = g_printf(g, "%s", op_type);
    node->input = g_alloc(g, sizeof *node->input * (size_t)n);
    for (int i = 0; i < n; i++)
        node->input[node->n_input++] = g_printf(g, "%s", in[i]);
    node->output = g_alloc(g, sizeof *node->output);
    node->output[node->n_output++] = node->name;
    node->attribute = g_alloc(g, sizeof *node->attribute * MAX_NODE_ATTRS);
    if (g->graph->n_node == g->node_cap) {
        g->node_cap *= 2;
        Onnx__NodeProto **grown = realloc(g->graph->node, sizeof *grown * g->node_cap);
        if (!grown)
            out_of_memory();
        g->graph->node = grown;
    }
    g->graph->node[g->graph->n_node++] = node;
    return node;
}

Onnx__NodeProto *onnx_node(OnnxGraph *g, const char *op_type, const char *what, int n,
                           const char *const *in) {
    const Layer *l = layer_at(g);
    const char *name = what ? g_printf(g, "%s/%s", l->name, what) : l->name;
    Onnx__NodeProto *node = add_node(g, op_type, name, n, in);
    g->value[g->at] = node->output[0];
    return node;
}

static Onnx__AttributeProto *add_attr(OnnxGraph *g, Onnx__NodeProto *node, const char *name,
                                      Onnx__AttributeProto__AttributeType type) {
    if (node->n_attribute == MAX_NODE_ATTRS) /* a kind writes a few: a bug */
        abort();
    Onnx__AttributeProto *a = g_alloc(g, sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = g_printf(g, "%s", name);
    a->has_type = true;
    a->type = type;
    node->attribute[node->n_attribute++] = a;
    return a;
}

void onnx_attr_int(OnnxGraph *g, Onnx__NodeProto *node, const char *name, int64_t v) {
    Onnx__AttributeProto *a = add_attr(g, node, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    a->has_i = true;
    a->i = v;
}

void onnx_attr_ints(OnnxGraph *g, Onnx__NodeProto *node, const char *name, int n,
                    const int64_t *v) {
    Onnx__AttributeProto *a = add_attr(g, node, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    a->ints = g_alloc(g, sizeof *a->ints * (size_t)n);
    memcpy(a->ints, v, sizeof *a->ints * (size_t)n);
    a->n_ints = (size_t)n;
}

void onnx_attr_float(OnnxGraph *g, Onnx__NodeProto *node, const char *name, float v) {
    Onnx__AttributeProto *a = add_attr(g, node, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    a->has_f = true;
    a->f = v;
}

const char *onnx_constant(OnnxGraph *g, const char *what, float v) {
    const Layer *l = layer_at(g);
    for (int k = 0; k < l->n_tensors; k++)
        if (!strcmp(l->tensors[k].name, what)) /* a kind's mistake */
            abort();
    float *at = g_alloc(g, sizeof *at);
    *at = v;
    const char *name = g_printf(g, "%s.%s", l->name, what);
    add_floats(g, name, 0, NULL, at, 1);
    return name;
}

void onnx_activation(OnnxGraph *g, Activation a, float alpha, const char *what) {
    static const char *const ops[] = {[ACT_RELU] = "Relu", [ACT_LEAKY_RELU] = "LeakyRelu",
                                      [ACT_TANH] = "Tanh", [ACT_SIGMOID] = "Sigmoid"};
    if (a == ACT_NONE)
        return;
    const char *in = onnx_last(g);
    Onnx__NodeProto *node = onnx_node(g, ops[a], what, 1, &in);
    if (a == ACT_LEAKY_RELU)
        onnx_attr_float(g, node, "alpha", alpha);
}

/* ---- the graph ---------------------------------------------------------- */

static Onnx__ValueInfoProto *value_info(OnnxGraph *g, const char *name, int ndim,
                                        const int64_t *dims) {
    Onnx__ValueInfoProto *v = g_alloc(g, sizeof *v);
    onnx__value_info_proto__init(v);
    v->name = g_printf(g, "%s", name);
    v->type = g_alloc(g, sizeof *v->type);
    onnx__type_proto__init(v->type);
    v->type->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    Onnx__TypeProto__Tensor *t = v->type->tensor_type = g_alloc(g, sizeof *t);
    onnx__type_proto__tensor__init(t);
    t->has_elem_type = true;
    t->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    t->shape = g_alloc(g, sizeof *t->shape);
    onnx__tensor_shape_proto__init(t->shape);
    t->shape->dim = g_alloc(g, sizeof *t->shape->dim * (size_t)ndim);
    for (int i = 0; i < ndim; i++) {
        Onnx__TensorShapeProto__Dimension *d = g_alloc(g, sizeof *d);
        onnx__tensor_shape_proto__dimension__init(d);
        if (i == 0) { /* the batch */
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            d->dim_param = g_printf(g, "N");
        } else {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            d->dim_value = dims[i];
        }
        t->shape->dim[t->shape->n_dim++] = d;
    }
    return v;
}

/* Pad (if the spec pads), Mul by (hi - lo) / 255, Add lo: as lenetc makes
 * an image its input (pixels padded with 0 first, then scaled). */
static void input_stage(OnnxGraph *g, float *consts, int64_t *pads) {
    const Model *m = g->m;
    const char *v = "image";
    if (m->pad > 0) {
        const int64_t p = m->pad, dims[1] = {8};
        const int64_t at[8] = {0, 0, p, p, 0, 0, p, p}; /* N C H W begins, then ends */
        memcpy(pads, at, sizeof at);
        Onnx__TensorProto *t = add_floats(g, "input.pads", 1, dims, NULL, 0);
        t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
        t->raw_data = (ProtobufCBinaryData){sizeof at, (uint8_t *)pads};
        v = add_node(g, "Pad", "input/pad", 2, (const char *[]){v, "input.pads"})->name;
    }
    consts[0] = (float)(((double)m->scale_hi - m->scale_lo) / 255.0);
    consts[1] = m->scale_lo;
    add_floats(g, "input.scale", 0, NULL, &consts[0], 1);
    add_floats(g, "input.shift", 0, NULL, &consts[1], 1);
    v = add_node(g, "Mul", "input/scale", 2, (const char *[]){v, "input.scale"})->name;
    g->image = add_node(g, "Add", "input/shift", 2, (const char *[]){v, "input.shift"})->name;
}

/* Each layer's nodes by its kind; a layer that adds none passes its input
 * on, but the logits' (a trailing dropout) is an Identity; the logits'
 * last node writes "logits". And every tensor of the layer an initializer. */
static void layers(OnnxGraph *g) {
    const Model *m = g->m;
    for (g->at = 0; g->at < m->n_layers; g->at++) {
        const Layer *l = layer_at(g);
        g->first_node = g->graph->n_node;
        l->kind->onnx(l, g);
        const bool logits = g->at == m->n_layers - 1;
        if (g->graph->n_node == g->first_node) { /* dropout */
            const char *in = onnx_input(g, 0);
            if (logits)
                onnx_node(g, "Identity", NULL, 1, &in);
            else
                g->value[g->at] = in;
        }
        if (logits)
            g->graph->node[g->graph->n_node - 1]->output[0] = "logits";
        for (int k = 0; k < l->n_tensors; k++)
            add_tensor(g, k);
    }
}

/* metadata_props: key = value, strings copied */
static void meta_prop(OnnxGraph *g, Onnx__ModelProto *model, const char *key, const char *value) {
    Onnx__StringStringEntryProto *e = g_alloc(g, sizeof *e);
    onnx__string_string_entry_proto__init(e);
    e->key = g_printf(g, "%s", key);
    e->value = g_printf(g, "%s", value);
    model->metadata_props[model->n_metadata_props++] = e;
}

/* The class names the weights record, as a JSON array; NULL if none. */
static char *classes_json(const lenet_meta *meta) {
    int n = 0;
    char **names = meta ? lenet_meta_classes(meta, &n) : NULL;
    if (!names)
        return NULL;
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_string(names[i]));
    char *text = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    lenet_free_names(names, n);
    return text;
}

int onnx_export(const Model *m, const float *params, const lenet_meta *meta,
                const char *spec_file, const char *weights_file, uint8_t **out, size_t *len,
                Diag *d) {
    *out = NULL;
    for (const Layer *l = m->layers; l < m->layers + m->n_layers; l++)
        if (!l->kind->onnx)
            return error_at(d, l->line, l->col, "%s: a %s layer has no ONNX form in lenetc",
                            l->name, l->kind->kind);
    OnnxGraph g = {.m = m, .params = params};
    long tensors = 0;
    for (int i = 0; i < m->n_layers; i++)
        tensors += m->layers[i].n_tensors;
    Onnx__GraphProto graph = ONNX__GRAPH_PROTO__INIT;
    g.graph = &graph;
    /* both grow: a layer's few nodes, every tensor and the constants */
    g.node_cap = 2 * (size_t)m->n_layers + 3;
    g.init_cap = (size_t)tensors + 3;
    graph.node = malloc(sizeof *graph.node * g.node_cap);
    graph.initializer = malloc(sizeof *graph.initializer * g.init_cap);
    if (!graph.node || !graph.initializer)
        out_of_memory();
    g.value = g_alloc(&g, sizeof *g.value * (size_t)m->n_layers);
    g.in_graph = g_alloc(&g, sizeof *g.in_graph * (size_t)m->n_layers * MAX_LAYER_TENSORS);
    graph.name = g_printf(&g, "%s", m->name);

    float consts[2];
    int64_t pads[8];
    input_stage(&g, consts, pads);
    layers(&g);
    Onnx__ValueInfoProto *in = value_info(&g, "image", 4,
                                          (const int64_t[]){0, m->in_c, m->in_h, m->in_w});
    Onnx__ValueInfoProto *logits = value_info(&g, "logits", 2, (const int64_t[]){0, m->n_classes});
    graph.input = &in;
    graph.n_input = 1;
    graph.output = &logits;
    graph.n_output = 1;

    Onnx__OperatorSetIdProto opset = ONNX__OPERATOR_SET_ID_PROTO__INIT, *opsets = &opset;
    opset.domain = "";
    opset.has_version = true;
    opset.version = ONNX_OPSET;
    Onnx__ModelProto model = ONNX__MODEL_PROTO__INIT;
    model.has_ir_version = true;
    model.ir_version = ONNX_IR_VERSION;
    model.opset_import = &opsets;
    model.n_opset_import = 1;
    model.producer_name = "lenetc";
    model.producer_version = LENET_VERSION;
    model.graph = &graph;
    model.metadata_props = g_alloc(&g, sizeof *model.metadata_props * 4);
    char lo[32], hi[32];
    meta_prop(&g, &model, "lenetc.input",
              g_printf(&g, "%s %s %d", lenet_shortest(m->scale_lo, true, lo),
                       lenet_shortest(m->scale_hi, true, hi), m->pad));
    meta_prop(&g, &model, "lenetc.spec", export_base_name(spec_file));
    char *classes = classes_json(meta);
    if (classes)
        meta_prop(&g, &model, "classes", classes);
    free(classes);
    meta_prop(&g, &model, "lenetc.weights", export_base_name(weights_file));

    *len = onnx__model_proto__get_packed_size(&model);
    *out = malloc(*len ? *len : 1);
    if (*out)
        onnx__model_proto__pack(&model, *out);
    for (size_t i = 0; i < g.n_owned; i++)
        free(g.owned[i]);
    free(g.owned);
    free(graph.node);
    free(graph.initializer);
    return *out ? 0 : -1;
}
