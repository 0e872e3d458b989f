/* layer_flatten.c: C x H x W -> a vector of C*H*W features in channel,
 * height, width order (PyTorch's nn.Flatten order). Activations are stored
 * feature-major already, so this layer moves no data and emits no code:
 * it is a view: its output shares its input's memory (see model_infer). */
#include "lenetc.h"

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

const LayerKind flatten_kind = {
    .kind = "flatten",
    .prefix = "flatten",
    .keras = "Flatten",
    .parse = flatten_parse,
    .infer = flatten_infer,
    .describe = flatten_describe,
    .torch = flatten_torch,
    .view = true,
};
