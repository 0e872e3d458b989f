/* layer_pool.c: max and average pooling over size x size windows.
 *
 *   - maxpool: {size: 2, stride: 2}     stride defaults to size
 *   - avgpool: {size: 2}
 *   - maxpool: 2                        size 2
 *   - MaxPooling2D: {pool_size: [2, 2], strides: 2}    Keras' spellings
 *
 * Windows never leave the input ("valid", as Keras' default): the output is
 * floor((in - size) / stride) + 1 along each axis. Each pass lowers to one
 * window operation, which render_window.c writes in every style.
 */
#include <stdio.h>

#include "lenetc.h"
#include "onnx.h"

/* pool's attributes */
typedef struct {
    int size, stride;       /* the window's side and step */
} Pool;
LAYER_DATA_FITS(Pool);
#define POOL(l) LAYER_DATA(Pool, l)

extern const LayerKind maxpool_kind;

static int pool_parse(Layer *l, const YNode *p, Diag *d) {
    static const char *const keys[] = {"name", "size", "stride", NULL};
    const char *what = l->kind == &maxpool_kind ? "maxpool layer" : "avgpool layer";
    if (spec_check_keys(p, what, keys, d))
        return -1;
    if (!p)
        return error_at(d, l->line, l->col, "%s needs a size", l->kind->kind);
    POOL(l)->size = 0;
    if (spec_square(p, "size", 1, 64, true, &POOL(l)->size, d))
        return -1;
    POOL(l)->stride = POOL(l)->size;
    return spec_square(p, "stride", 1, 64, false, &POOL(l)->stride, d);
}

static int pool_infer(Layer *l, Diag *d) {
    if (l->in.flat)
        return error_at(d, l->line, l->col,
                        "%s: %s needs a height x width x channels input, but gets a vector of "
                        "%d values",
                        l->name, l->kind->kind, l->in.c);
    if (POOL(l)->size > l->in.h || POOL(l)->size > l->in.w)
        return error_at(d, l->line, l->col, "%s: window %dx%d is larger than its %dx%d input",
                        l->name, POOL(l)->size, POOL(l)->size, l->in.h, l->in.w);
    l->out = (Shape){l->in.c, (l->in.h - POOL(l)->size) / POOL(l)->stride + 1,
                     (l->in.w - POOL(l)->size) / POOL(l)->stride + 1, false};
    return 0;
}

static void pool_describe(const Layer *l, StrBuf *sb) {
    sb_printf(sb, "%s %dx%d stride %d", l->kind->kind, POOL(l)->size, POOL(l)->size, POOL(l)->stride);
}

/* One window operation: the layer's geometry as the kernels' descriptor. */
static void pool_lower(const Layer *l, const Lowering *how, Program *p) {
    const bool max = l->kind == &maxpool_kind;
    const OpKind k = max ? (how->backward ? OP_MAXPOOL_GRAD : OP_MAXPOOL)
                         : (how->backward ? OP_AVGPOOL_GRAD : OP_AVGPOOL);
    program_add(p, (Op){.kind = k,
                        .window = {l->in.c, l->in.h, l->in.w, l->out.h, l->out.w, POOL(l)->size,
                                   POOL(l)->stride, how->tile}});
}

static void pool_torch(const Layer *l, json_t *modules) {
    layer_torch_module(modules, l, NULL, l->kind == &maxpool_kind ? "MaxPool2d" : "AvgPool2d",
                       json_pack("[i, i]", POOL(l)->size, POOL(l)->stride), NULL);
}

/* MaxPool or AveragePool, without pads: lenetc's windows stay inside */
static void pool_onnx(const Layer *l, OnnxGraph *g) {
    const char *in = onnx_input(g, 0);
    Onnx__NodeProto *n =
        onnx_node(g, l->kind == &maxpool_kind ? "MaxPool" : "AveragePool", NULL, 1, &in);
    const int64_t k = POOL(l)->size, s = POOL(l)->stride;
    onnx_attr_ints(g, n, "kernel_shape", 2, (const int64_t[]){k, k});
    onnx_attr_ints(g, n, "strides", 2, (const int64_t[]){s, s});
}

const LayerKind maxpool_kind = {
    .kind = "maxpool",
    .prefix = "pool",
    .keras = "MaxPooling2D",
    .shorthand = "size",
    .parse = pool_parse,
    .infer = pool_infer,
    .describe = pool_describe,
    .torch = pool_torch,
    .onnx = pool_onnx,
    .lower = pool_lower,
};

const LayerKind avgpool_kind = {
    .kind = "avgpool",
    .prefix = "pool",
    .keras = "AveragePooling2D",
    .shorthand = "size",
    .parse = pool_parse,
    .infer = pool_infer,
    .describe = pool_describe,
    .torch = pool_torch,
    .onnx = pool_onnx,
    .lower = pool_lower,
};
