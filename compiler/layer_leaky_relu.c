/* layer_leaky_relu.c: out = in where in > 0, alpha * in elsewhere.
 *
 *   - leaky_relu                    alpha 0.3, Keras' LeakyReLU default
 *   - leaky_relu: {alpha: 0.01}     PyTorch's default
 *
 * Elementwise: one activation operation, a loop in every style (render.c;
 * gcc vectorises it in an emitted build).
 */
#include "lenetc.h"
#include "onnx.h"

typedef struct {
    float alpha; /* the slope below zero */
} LeakyRelu;
LAYER_DATA_FITS(LeakyRelu);

static int leaky_relu_parse(Layer *l, const YNode *p, Diag *d) {
    static const char *const keys[] = {"name", "alpha", NULL};
    LeakyRelu *k = LAYER_DATA(LeakyRelu, l);
    k->alpha = 0.3f;
    return spec_check_keys(p, "leaky_relu layer", keys, d) ||
           spec_real(p, "alpha", 0.0, 1.0, &k->alpha, d);
}

static float alpha_of(const Layer *l) { return LAYER_DATA(const LeakyRelu, l)->alpha; }

static int leaky_relu_infer(Layer *l, Diag *d) {
    l->out = l->in;
    return 0;
}

static void leaky_relu_describe(const Layer *l, StrBuf *sb) {
    sb_printf(sb, "leaky_relu alpha %g", alpha_of(l));
}

static void leaky_relu_lower(const Layer *l, const Lowering *how, Program *p) {
    lower_activation(p, how->backward, ACT_LEAKY_RELU, alpha_of(l), shape_size(l->in) * how->tile);
}

static void leaky_relu_torch(const Layer *l, json_t *modules) {
    layer_torch_module(modules, l, NULL, "LeakyReLU", json_pack("[o]", layer_json_real(alpha_of(l))),
                       NULL);
}

static void leaky_relu_onnx(const Layer *l, OnnxGraph *g) {
    onnx_activation(g, ACT_LEAKY_RELU, alpha_of(l), NULL);
}

const LayerKind leaky_relu_kind = {
    .kind = "leaky_relu",
    .activation = true,
    .prefix = "leaky_relu",
    .keras = "LeakyReLU",
    .parse = leaky_relu_parse,
    .infer = leaky_relu_infer,
    .describe = leaky_relu_describe,
    .torch = leaky_relu_torch,
    .onnx = leaky_relu_onnx,
    .lower = leaky_relu_lower,
};
