/* layers.c: the table of layer kinds, and what every kind shares.
 *
 * A kind is one file, layer_<kind>.c, defining a LayerKind named
 * <kind>_kind; adding one is one row in LAYER_KINDS below. Nothing outside
 * layer_*.c knows any kind by name.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lenetc.h"

/* Every kind, in the order messages list them. */
#define LAYER_KINDS(X)                                                                       \
    X(conv)                                                                                  \
    X(depthwise_conv)                                                                        \
    X(maxpool)                                                                               \
    X(avgpool)                                                                               \
    X(global_avgpool)                                                                        \
    X(relu)                                                                                  \
    X(leaky_relu)                                                                            \
    X(tanh)                                                                                  \
    X(sigmoid)                                                                               \
    X(dropout)                                                                               \
    X(batchnorm)                                                                             \
    X(flatten)                                                                               \
    X(dense)                                                                                 \
    X(add)                                                                                   \
    X(concat)

#define DECLARE(k) extern const LayerKind k##_kind;
LAYER_KINDS(DECLARE)
#define ROW(k) &k##_kind,
const LayerKind *const layer_kinds[] = {LAYER_KINDS(ROW) NULL};

const char *layer_kind_list(void) {
    static char list[512];
    if (!list[0]) {
        const char *names[64];
        int n = 0;
        for (; layer_kinds[n] && n < 63; n++)
            names[n] = layer_kinds[n]->kind;
        names[n] = NULL;
        spec_or_list(names, list, sizeof list);
    }
    return list;
}

const LayerKind *layer_kind_find(const char *s) {
    char buf[8];
    for (int i = 0; layer_kinds[i]; i++)
        if (strcmp(s, layer_kinds[i]->kind) == 0 ||
            (strcmp(s, layer_kinds[i]->keras) == 0 && layer_keras_kinds(s, buf, sizeof buf) == 1))
            return layer_kinds[i];
    return NULL;
}

int layer_keras_kinds(const char *s, char *buf, size_t n) {
    const char *names[64];
    int k = 0;
    for (int i = 0; layer_kinds[i] && k < 63; i++)
        if (strcmp(s, layer_kinds[i]->keras) == 0)
            names[k++] = layer_kinds[i]->kind;
    names[k] = NULL;
    spec_or_list(names, buf, n);
    return k;
}

const LayerKind *layer_kind_like(const char *s) {
    for (int i = 0; layer_kinds[i]; i++)
        if (strcasecmp(s, layer_kinds[i]->kind) == 0 || strcasecmp(s, layer_kinds[i]->keras) == 0)
            return layer_kinds[i];
    return NULL;
}

LayerTensor *layer_tensor(Layer *l, const char *name, const char *var, const char *grad_var,
                          lenet_init init, int ndim, const int *dims) {
    assert(l->n_tensors < MAX_LAYER_TENSORS); /* a kind declares a fixed few */
    LayerTensor *t = &l->tensors[l->n_tensors++];
    *t = (LayerTensor){.name = name, .var = var, .grad_var = grad_var, .ndim = ndim,
                       .init = init, .trainable = grad_var != NULL, .size = 1};
    for (int i = 0; i < ndim; i++) {
        t->dims[i] = dims[i];
        t->size *= dims[i];
    }
    return t;
}

long layer_params(const Layer *l, bool trainable_only) {
    long n = 0;
    for (int i = 0; i < l->n_tensors; i++)
        if (l->tensors[i].trainable || !trainable_only)
            n += l->tensors[i].size;
    return n;
}


void layer_torch_module(json_t *modules, const Layer *l, const char *suffix, const char *module,
                        json_t *args, json_t *kwargs) {
    char name[MAX_NAME + 16];
    snprintf(name, sizeof name, "%s%s", l->name, suffix ? suffix : "");
    json_array_append_new(modules, json_pack("{s:s, s:s, s:o, s:o}", "name", name, "module",
                                             module, "args", args ? args : json_array(),
                                             "kwargs", kwargs ? kwargs : json_object()));
}

json_t *layer_json_real(float v) {
    char buf[32];
    return json_real(strtod(lenet_shortest(v, true, buf), NULL));
}
