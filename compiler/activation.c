/* activation.c: elementwise activations, written once for the layers that
 * are one (relu, leaky_relu, tanh, sigmoid) and for dense's fused one.
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

const char *const activation_names[] = {
    [ACT_NONE] = "none", [ACT_RELU] = "relu", [ACT_LEAKY_RELU] = "leaky_relu",
    [ACT_TANH] = "tanh", [ACT_SIGMOID] = "sigmoid", [N_ACTIVATIONS] = NULL};

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
