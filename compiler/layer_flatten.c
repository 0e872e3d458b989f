/* layer_flatten.c: C x H x W -> a vector of C*H*W features in channel,
 * height, width order (PyTorch's nn.Flatten order). Activations are stored
 * feature-major already, so this layer moves no data and emits no code:
 * it is a view: its output shares its input's memory (see model_infer). */
#include "lenetc.h"
#include "onnx.h"

static int flatten_parse(Layer *l, const YNode *p, Diag *d) {
    static const char *const keys[] = {"name", NULL};
    return spec_check_keys(p, "flatten layer", keys, d);
}

static int flatten_infer(Layer *l, Diag *d) {
    l->out = (Shape){l->in.c * l->in.h * l->in.w, 1, 1, true};
    return 0;
}

static void flatten_describe(const Layer *l, StrBuf *sb) { sb_puts(sb, "flatten"); }

static void flatten_torch(const Layer *l, json_t *modules) {
    layer_torch_module(modules, l, NULL, "Flatten", NULL, NULL);
}

/* ONNX's Flatten at axis 1 of NCHW is the same C, H, W order */
static void flatten_onnx(const Layer *l, OnnxGraph *g) {
    const char *in = onnx_input(g, 0);
    onnx_attr_int(g, onnx_node(g, "Flatten", NULL, 1, &in), "axis", 1);
}

const LayerKind flatten_kind = {
    .kind = "flatten",
    .prefix = "flatten",
    .keras = "Flatten",
    .parse = flatten_parse,
    .infer = flatten_infer,
    .describe = flatten_describe,
    .torch = flatten_torch,
    .onnx = flatten_onnx,
    .view = true,
};
