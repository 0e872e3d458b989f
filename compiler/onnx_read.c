/* onnx_read.c: an ONNX file, unpacked by protobuf-c's generated code
 * (build/onnx/onnx.pb-c.c) and checked before anything reads it.
 *
 * protobuf-c checks the wire format (a truncated or garbled file does not
 * unpack) but not what the fields claim: a tensor's dims against the bytes
 * it holds, an attribute's type against the enum, a dimension of 2^62. Those
 * are checked here, each with a message naming the node or tensor.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_import.h"

const char *onnx_printable(const char *s, char buf[48]) {
    size_t i = 0;
    if (!s)
        s = "";
    for (; s[i] && i < 40; i++)
        buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    buf[i] = '\0';
    if (s[i])
        strcpy(buf + 37, "...");
    return buf;
}

const char *onnx_node_str(const Onnx__NodeProto *n, int opset, char buf[160]) {
    char a[48], b[48];
    if (!n->name || !n->name[0])
        snprintf(buf, 160, "unnamed node (%s, opset %d)", onnx_printable(n->op_type, b), opset);
    else
        snprintf(buf, 160, "node '%s' (%s, opset %d)", onnx_printable(n->name, a),
                 onnx_printable(n->op_type, b), opset);
    return buf;
}

/* The default domain's opset; 0 if the model imports none. */
static int default_opset(const Onnx__ModelProto *mp) {
    for (size_t i = 0; i < mp->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = mp->opset_import[i];
        if (!o->domain || !o->domain[0] || !strcmp(o->domain, "ai.onnx"))
            return o->has_version && o->version > 0 && o->version < 1000 ? (int)o->version : -1;
    }
    return 0;
}

Onnx__ModelProto *onnx_unpack(const uint8_t *data, size_t len, int *opset, Diag *d) {
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, len, data);
    if (!mp) {
        error_at(d, 0, 0, "not an ONNX model: the protobuf does not parse (truncated or "
                          "not a ModelProto)");
        return NULL;
    }
    const int v = default_opset(mp);
    const char *why = NULL;
    char buf[64];
    if (!mp->graph)
        why = "the model has no graph";
    else if (v == 0)
        why = "the model imports no opset of the default domain (ai.onnx)";
    else if (v < 1 || v > 21) {
        snprintf(buf, sizeof buf, "opset %d: lenetc reads opsets 1 to 21", v);
        why = buf;
    } else if (mp->n_functions)
        why = "the model defines functions, which lenetc does not import";
    else if (mp->graph->n_sparse_initializer)
        why = "sparse initializers are not supported";
    else if (mp->graph->n_node > ONNX_MAX_NODES) {
        snprintf(buf, sizeof buf, "%zu nodes; the limit is %d", mp->graph->n_node,
                 ONNX_MAX_NODES);
        why = buf;
    }
    if (why) {
        error_at(d, 0, 0, "%s", why);
        onnx__model_proto__free_unpacked(mp, NULL);
        return NULL;
    }
    *opset = v;
    return mp;
}

Onnx__ModelProto *onnx_read(const char *path, int *opset, Diag *d) {
    size_t len = 0;
    char *text = read_file(path, ONNX_MAX_BYTES, &len, d);
    if (!text)
        return NULL;
    Onnx__ModelProto *mp = onnx_unpack((const uint8_t *)text, len, opset, d);
    free(text);
    return mp;
}

void onnx_decode_free(OnnxTensor *t) {
    free(t->f);
    free(t->i);
    t->f = NULL;
    t->i = NULL;
}

int onnx_decode(const Onnx__TensorProto *t, const char *what, OnnxTensor *out, Diag *d) {
    memset(out, 0, sizeof *out);
    if ((t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) ||
        t->n_external_data)
        return error_at(d, 0, 0, "%s: its data is in an external file, which lenetc does not read",
                        what);
    if (t->segment)
        return error_at(d, 0, 0, "%s: a segment of a tensor is not supported", what);
    if (t->n_dims > ONNX_MAX_RANK)
        return error_at(d, 0, 0, "%s: %zu dimensions; at most %d", what, t->n_dims, ONNX_MAX_RANK);
    long n = 1;
    for (size_t k = 0; k < t->n_dims; k++) {
        if (t->dims[k] < 0 || t->dims[k] > MAX_TENSOR)
            return error_at(d, 0, 0, "%s: dimension %zu is %lld (0 to %ld)", what, k,
                            (long long)t->dims[k], MAX_TENSOR);
        n *= (long)t->dims[k];
        if (n > MAX_TENSOR)
            return error_at(d, 0, 0, "%s: more than %ld values", what, MAX_TENSOR);
        out->dims[k] = t->dims[k];
    }
    out->ndim = (int)t->n_dims;
    out->n = n;
    const int type = t->has_data_type ? t->data_type : 0;
    const bool is_float = type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    if (!is_float && type != ONNX__TENSOR_PROTO__DATA_TYPE__INT64)
        return error_at(d, 0, 0, "%s: data type %d; lenetc reads float32 (1) and int64 (7)", what,
                        type);
    const size_t width = is_float ? 4 : 8;
    const size_t given = t->has_raw_data ? t->raw_data.len / width
                         : is_float       ? t->n_float_data
                                          : t->n_int64_data;
    if (t->has_raw_data && t->raw_data.len % width)
        return error_at(d, 0, 0, "%s: raw_data of %zu bytes is no whole number of %zu-byte values",
                        what, t->raw_data.len, width);
    if (given != (size_t)n)
        return error_at(d, 0, 0, "%s: its dims claim %ld values but it holds %zu", what, n, given);
    void *buf = malloc((size_t)(n ? n : 1) * width);
    if (!buf)
        return error_at(d, 0, 0, "%s: out of memory", what);
    /* raw_data is little-endian, as this machine's floats are */
    if (t->has_raw_data && n)
        memcpy(buf, t->raw_data.data, (size_t)n * width);
    else if (n)
        memcpy(buf, is_float ? (void *)t->float_data : (void *)t->int64_data, (size_t)n * width);
    if (is_float)
        out->f = buf;
    else
        out->i = buf;
    return 0;
}

/* The types protobuf-c leaves unchecked (it keeps any enum's number). */
static bool known_type(int type) {
    return type >= ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT &&
           type <= ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTOS;
}

int onnx_check_attrs(const Onnx__NodeProto *n, int opset, const char *const *allowed, Diag *d) {
    char nb[160], ab[48];
    for (size_t i = 0; i < n->n_attribute; i++) {
        const Onnx__AttributeProto *a = n->attribute[i];
        const char *an = a->name ? a->name : "";
        if (!a->has_type || !known_type(a->type))
            return error_at(d, 0, 0, "%s: attribute '%s' has unknown type %d",
                            onnx_node_str(n, opset, nb), onnx_printable(a->name, ab),
                            a->has_type ? (int)a->type : 0);
        if (a->ref_attr_name && a->ref_attr_name[0])
            return error_at(d, 0, 0, "%s: attribute '%s' refers to a function's attribute",
                            onnx_node_str(n, opset, nb), onnx_printable(a->name, ab));
        int k = 0;
        while (allowed[k] && strcmp(allowed[k], an))
            k++;
        if (!allowed[k])
            return error_at(d, 0, 0, "%s: attribute '%s' is not supported",
                            onnx_node_str(n, opset, nb), onnx_printable(a->name, ab));
        for (size_t j = 0; j < i; j++)
            if (!strcmp(n->attribute[j]->name ? n->attribute[j]->name : "", an))
                return error_at(d, 0, 0, "%s: attribute '%s' is given twice",
                                onnx_node_str(n, opset, nb), onnx_printable(a->name, ab));
    }
    return 0;
}

const Onnx__AttributeProto *onnx_get_attr(const Onnx__NodeProto *n, const char *name) {
    for (size_t i = 0; i < n->n_attribute; i++)
        if (n->attribute[i]->name && !strcmp(n->attribute[i]->name, name))
            return n->attribute[i];
    return NULL;
}

/* The attribute, if present, of the type wanted; NULL if absent, and *bad
 * set after a message if of another type. */
static const Onnx__AttributeProto *typed(const Onnx__NodeProto *n, int opset, const char *name,
                                         int type, const char *type_name, bool *bad, Diag *d) {
    const Onnx__AttributeProto *a = onnx_get_attr(n, name);
    *bad = false;
    if (a && a->type != (Onnx__AttributeProto__AttributeType)type) {
        char nb[160];
        error_at(d, 0, 0, "%s: attribute '%s' must be %s", onnx_node_str(n, opset, nb), name,
                 type_name);
        *bad = true;
        return NULL;
    }
    return a;
}

int onnx_get_int(const Onnx__NodeProto *n, int opset, const char *name, int64_t *out, Diag *d) {
    bool bad;
    const Onnx__AttributeProto *a =
        typed(n, opset, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT, "an int", &bad, d);
    if (a)
        *out = a->i;
    return bad ? -1 : 0;
}

int onnx_get_float(const Onnx__NodeProto *n, int opset, const char *name, float *out, Diag *d) {
    bool bad;
    const Onnx__AttributeProto *a =
        typed(n, opset, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT, "a float", &bad, d);
    if (a)
        *out = a->f;
    return bad ? -1 : 0;
}

int onnx_get_string(const Onnx__NodeProto *n, int opset, const char *name, char *out,
                     size_t size, Diag *d) {
    bool bad;
    const Onnx__AttributeProto *a =
        typed(n, opset, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING, "a string", &bad, d);
    if (a) {
        const size_t len = a->s.len < size - 1 ? a->s.len : size - 1;
        if (len) /* an empty string may have no data at all */
            memcpy(out, a->s.data, len);
        out[len] = '\0';
        if (memchr(out, '\0', len)) /* a NUL inside: no word lenetc knows */
            out[0] = '?';
    }
    return bad ? -1 : 0;
}

int onnx_get_ints(const Onnx__NodeProto *n, int opset, const char *name, int64_t *out, int max,
                   int *count, Diag *d) {
    bool bad;
    const Onnx__AttributeProto *a =
        typed(n, opset, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS, "a list of ints", &bad,
              d);
    if (!a)
        return bad ? -1 : 0;
    if (a->n_ints > (size_t)max) {
        char nb[160];
        return error_at(d, 0, 0, "%s: attribute '%s' has %zu values; at most %d",
                        onnx_node_str(n, opset, nb), name, a->n_ints, max);
    }
    if (a->n_ints)
        memcpy(out, a->ints, a->n_ints * sizeof *out);
    *count = (int)a->n_ints;
    return 0;
}
