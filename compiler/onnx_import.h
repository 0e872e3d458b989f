/* onnx_import.h: an ONNX graph into a spec and its weights.
 *
 *   lenetc import FILE.onnx [--scale LO HI] -o DIR
 *
 * onnx_read.c reads and checks the file (protobuf-c's unpacker, then every
 * field the import uses: tensors' sizes against their dims, attributes'
 * types, the opset); onnx_import.c maps its nodes to layers and writes
 * DIR/NAME.yaml and DIR/NAME.safetensors. The file is untrusted: anything
 * wrong is one message, never a crash.
 */
#ifndef LENETC_ONNX_IMPORT_H
#define LENETC_ONNX_IMPORT_H

#include "onnx.h"

/* ---- onnx_read.c -------------------------------------------------------- */
#define ONNX_MAX_BYTES (512L << 20) /* a file */
#define ONNX_MAX_NODES 4096
#define ONNX_MAX_RANK 8

/* A tensor's values, decoded and checked against its dims: floats (f) or
 * 64-bit integers (i), n of them, malloc'd. */
typedef struct {
    int ndim;
    int64_t dims[ONNX_MAX_RANK];
    long n;
    float *f;
    int64_t *i;
} OnnxTensor;

/* The model in data[0..len), unpacked and checked at the model's level (a
 * graph, the default domain's opset, no external data); NULL after a
 * message. *opset: the default domain's version. */
Onnx__ModelProto *onnx_unpack(const uint8_t *data, size_t len, int *opset, Diag *d);
/* The same, of a file. */
Onnx__ModelProto *onnx_read(const char *path, int *opset, Diag *d);
/* A node as messages name it: "node 'conv1' (Conv, opset 13)", printable */
const char *onnx_node_str(const Onnx__NodeProto *n, int opset, char buf[160]);
/* Text from the file made safe to print: printable ASCII, at most 40
 * characters ("..." after) */
const char *onnx_printable(const char *s, char buf[48]);
/* Decodes t (FLOAT or INT64); what names it in messages. */
int onnx_decode(const Onnx__TensorProto *t, const char *what, OnnxTensor *out, Diag *d);
void onnx_decode_free(OnnxTensor *t);
/* Every attribute of n has a known type and a name in allowed (NULL-ended). */
int onnx_check_attrs(const Onnx__NodeProto *n, int opset, const char *const *allowed, Diag *d);
/* n's attribute name, or NULL */
const Onnx__AttributeProto *onnx_get_attr(const Onnx__NodeProto *n, const char *name);
/* Attribute readers: keep *out if absent; an attribute of another type is
 * an error naming the node. */
int onnx_get_int(const Onnx__NodeProto *n, int opset, const char *name, int64_t *out, Diag *d);
int onnx_get_float(const Onnx__NodeProto *n, int opset, const char *name, float *out, Diag *d);
int onnx_get_string(const Onnx__NodeProto *n, int opset, const char *name, char *out,
                     size_t size, Diag *d);
/* INTS: up to max of them into out, their count into *count (kept if absent) */
int onnx_get_ints(const Onnx__NodeProto *n, int opset, const char *name, int64_t *out, int max,
                   int *count, Diag *d);

/* ---- onnx_import.c ------------------------------------------------------- */
/* A weight the spec's layers take: "conv1.weight" and its floats. */
typedef struct {
    char name[2 * MAX_NAME];
    long n;
    float *data;
} ImportTensor;

/* A graph input given as a constant (ONNX's node tests pass weights so). */
typedef struct {
    const char *name;
    const Onnx__TensorProto *t;
} OnnxConstant;

typedef struct {
    bool scale_given;       /* --scale LO HI; else lenetc.input's, or 0 1 */
    float lo, hi;
    const OnnxConstant *extra;
    int n_extra;
    bool allow_no_layers;   /* the conformance harness: a graph that is
                             * only its input, or gives no logits */
} OnnxImportOptions;

typedef struct {
    char name[MAX_NAME];    /* the spec's */
    StrBuf spec;            /* its YAML */
    ImportTensor *tensors;
    int n_tensors;
    char output[MAX_NAME];  /* the layer giving the graph's output; "input" */
    StrBuf notes;           /* said on stderr (a dropped Softmax) */
} OnnxImport;

/* The spec and weights of a read model (path names it in the spec's
 * comments and gives its default name). */
int onnx_import_model(const Onnx__ModelProto *mp, int opset, const char *path,
                      const OnnxImportOptions *o, OnnxImport *im, Diag *d);
/* Fills params (the model m the spec gave, its tensors' places) from the
 * import's tensors; a tensor it does not have is an error unless zero_missing
 * (num_batches_tracked is always 0). */
int onnx_import_params(const OnnxImport *im, const Model *m, float *params, bool zero_missing,
                       Diag *d);
void onnx_import_free(OnnxImport *im);
/* `lenetc import ...` (argv[1] is "import"): the exit status. */
int onnx_import_main(int argc, char **argv);

#endif
