/* activation.c: elementwise activations, written once for the layers that
 * are one (relu, leaky_relu, tanh, sigmoid) and for the fused one of conv
 * and dense (`activation: relu`), which is applied to the layer's out in
 * place, its gradient to dout in place before the layer's own sums.
 *
 * Each gradient is computed from the output, so a fused activation can
 * work in place (in == out): relu and leaky_relu pass where out > 0 (with
 * alpha >= 0 that is where the input was), tanh' = 1 - out^2, sigmoid' =
 * out (1 - out). tanh and sigmoid call libm's tanhf and expf (tanh and exp
 * in double): the JIT binds the same functions an emitted build links, so
 * both paths compute the same bits.
 */
#include <stdio.h>
#include <string.h>

#include "lenetc.h"
#include "onnx.h"

const char *const activation_names[] = {
    [ACT_NONE] = "none", [ACT_RELU] = "relu", [ACT_LEAKY_RELU] = "leaky_relu",
    [ACT_TANH] = "tanh", [ACT_SIGMOID] = "sigmoid", [N_ACTIVATIONS] = NULL};

const char *const softmax_is_the_loss =
    "softmax cross-entropy (the loss) already applies softmax to the logits: leave the softmax "
    "out";

const char *activation_torch(Activation a) {
    static const char *const modules[] = {[ACT_RELU] = "ReLU", [ACT_LEAKY_RELU] = "LeakyReLU",
                                          [ACT_TANH] = "Tanh", [ACT_SIGMOID] = "Sigmoid"};
    return modules[a];
}

/* "tanhf" or "tanh": the libm function for the emitted type */
static const char *libm(Emitter *e, const char *name, char buf[16]) {
    snprintf(buf, 16, "%s%s", name, strcmp(e->opt.real, "float") ? "" : "f");
    return buf;
}

void emit_activation(Emitter *e, Activation a, float alpha, long n, const char *in,
                     const char *out) {
    char k[32], fn[16];
    if (a == ACT_NONE)
        return;
    emit_line(e, "for (int i = 0; i < %ld; i++)", n);
    switch (a) {
    case ACT_RELU:
        emit_line(e, "    %s[i] = %s[i] > 0 ? %s[i] : 0;", out, in, in);
        break;
    case ACT_LEAKY_RELU:
        emit_line(e, "    %s[i] = %s[i] > 0 ? %s[i] : %s * %s[i];", out, in, in,
                  emit_spec_real(e, alpha, k), in);
        break;
    case ACT_TANH:
        emit_line(e, "    %s[i] = %s(%s[i]);", out, libm(e, "tanh", fn), in);
        break;
    case ACT_SIGMOID:
        emit_line(e, "    %s[i] = %s / (%s + %s(-%s[i]));", out, emit_real(e, 1.0, k), k,
                  libm(e, "exp", fn), in);
        break;
    default:
        break;
    }
}

void emit_activation_grad(Emitter *e, Activation a, float alpha, long n, const char *out,
                          const char *dout, const char *din) {
    char k[32];
    if (a == ACT_NONE)
        return;
    emit_line(e, "for (int i = 0; i < %ld; i++)", n);
    switch (a) {
    case ACT_RELU:
        emit_line(e, "    %s[i] = %s[i] > 0 ? %s[i] : 0;", din, out, dout);
        break;
    case ACT_LEAKY_RELU:
        emit_line(e, "    %s[i] = %s[i] > 0 ? %s[i] : %s * %s[i];", din, out, dout,
                  emit_spec_real(e, alpha, k), dout);
        break;
    case ACT_TANH:
        emit_line(e, "    %s[i] = %s[i] * (%s - %s[i] * %s[i]);", din, dout, emit_real(e, 1.0, k),
                  out, out);
        break;
    case ACT_SIGMOID:
        emit_line(e, "    %s[i] = %s[i] * %s[i] * (%s - %s[i]);", din, dout, out,
                  emit_real(e, 1.0, k), out);
        break;
    default:
        break;
    }
}

/* ---- fused: conv and dense ---------------------------------------------- */

static FusedAct *fused(const Layer *l) { return LAYER_DATA(FusedAct, l); }

Activation layer_activation(const Layer *l) {
    return l->kind->fuses_activation ? (Activation)fused(l)->act : ACT_NONE;
}

int activation_parse(Layer *l, const YNode *p, Diag *d) {
    fused(l)->act = ACT_NONE;
    fused(l)->alpha = 0.2f; /* Keras' leaky_relu activation */
    const YNode *act = spec_get(p, "activation"), *alpha = spec_get(p, "alpha");
    if (act && act->kind == Y_SCALAR && strcmp(act->text, "softmax") == 0)
        return error_at(d, act->line, act->col, "%s (activation: none)", softmax_is_the_loss);
    if (spec_choice(p, "activation", activation_names, &fused(l)->act, d) ||
        spec_real(p, "alpha", 0.0, 1.0, &fused(l)->alpha, d))
        return -1;
    if (alpha && fused(l)->act != ACT_LEAKY_RELU)
        return error_at(d, alpha->line, alpha->col,
                        "alpha is leaky_relu's slope: it needs activation: leaky_relu");
    return 0;
}

void activation_describe(const Layer *l, StrBuf *sb) {
    if (fused(l)->act == ACT_LEAKY_RELU)
        sb_printf(sb, ", leaky_relu %g", fused(l)->alpha);
    else if (fused(l)->act != ACT_NONE)
        sb_printf(sb, ", %s", activation_names[fused(l)->act]);
}

void activation_torch_module(const Layer *l, json_t *modules) {
    char suffix[32];
    snprintf(suffix, sizeof suffix, "_%s", activation_names[fused(l)->act]);
    if (fused(l)->act == ACT_LEAKY_RELU)
        layer_torch_module(modules, l, suffix, "LeakyReLU",
                           json_pack("[o]", layer_json_real(fused(l)->alpha)), NULL);
    else if (fused(l)->act != ACT_NONE)
        layer_torch_module(modules, l, suffix, activation_torch(fused(l)->act), NULL, NULL);
}

void activation_onnx(const Layer *l, OnnxGraph *g) {
    onnx_activation(g, (Activation)fused(l)->act, fused(l)->alpha, activation_names[fused(l)->act]);
}
