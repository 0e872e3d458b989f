/* layer_tanh_sigmoid.c: the two smooth activations, elementwise.
 *
 *   - tanh          out = tanh(in)
 *   - sigmoid       out = 1 / (1 + exp(-in))
 *
 * Each lowers to one activation operation, activation.c's loop in every
 * style (render.c); their gradients come from the output.
 */
#include "lenetc.h"
#include "onnx.h"

extern const LayerKind tanh_kind;

static Activation act_of(const Layer *l) { return l->kind == &tanh_kind ? ACT_TANH : ACT_SIGMOID; }

static int squash_parse(Layer *l, const YNode *p, Diag *d) {
    static const char *const keys[] = {"name", NULL};
    return spec_check_keys(p, act_of(l) == ACT_TANH ? "tanh layer" : "sigmoid layer", keys, d);
}

static int squash_infer(Layer *l, Diag *d) {
    l->out = l->in;
    return 0;
}

static void squash_describe(const Layer *l, StrBuf *sb) { sb_puts(sb, l->kind->kind); }

static void squash_lower(const Layer *l, const Lowering *how, Program *p) {
    lower_activation(p, how->backward, act_of(l), 0, shape_size(l->in) * how->tile);
}

static void squash_torch(const Layer *l, json_t *modules) {
    layer_torch_module(modules, l, NULL, activation_torch(act_of(l)), NULL, NULL);
}

static void squash_onnx(const Layer *l, OnnxGraph *g) { onnx_activation(g, act_of(l), 0, NULL); }

const LayerKind tanh_kind = {
    .kind = "tanh",
    .activation = true,
    .prefix = "tanh",
    .keras = "Activation",
    .parse = squash_parse,
    .infer = squash_infer,
    .describe = squash_describe,
    .torch = squash_torch,
    .onnx = squash_onnx,
    .lower = squash_lower,
};

const LayerKind sigmoid_kind = {
    .kind = "sigmoid",
    .activation = true,
    .prefix = "sigmoid",
    .keras = "Activation",
    .parse = squash_parse,
    .infer = squash_infer,
    .describe = squash_describe,
    .torch = squash_torch,
    .onnx = squash_onnx,
    .lower = squash_lower,
};
