/* layer_merge.c: layers that take several outputs (their `inputs:`).
 *
 *   - add: {inputs: [conv3, shortcut]}     the sum of same-shaped outputs (Keras' Add)
 *   - concat: {inputs: [a, b]}             along channels (Keras' Concatenate)
 *
 * Backward, each input's gradient is the output's (add) or its channels'
 * part of it (concat): copies, which model_infer places so that an output
 * read by several layers sums their gradients.
 */
#include <stdio.h>

#include "lenetc.h"
#include "onnx.h"

extern const LayerKind add_kind;

static int merge_parse(Layer *l, const YNode *p, Diag *d) {
    static const char *const keys[] = {"name", "inputs", NULL};
    if (spec_check_keys(p, l->kind == &add_kind ? "add layer" : "concat layer", keys, d))
        return -1;
    return spec_inputs(l, p, d);
}

/* "16x8x8" of input j, for messages */
static const char *in_str(const Layer *l, int j, char buf[64]) {
    shape_str(l->ins[j], buf, 64);
    return buf;
}

static int add_infer(Layer *l, Diag *d) {
    char a[64], b[64];
    for (int j = 1; j < l->n_inputs; j++) {
        const Shape s = l->ins[j], s0 = l->ins[0];
        if (s.c != s0.c || s.h != s0.h || s.w != s0.w || s.flat != s0.flat)
            return error_at(d, l->input_line[j], l->input_col[j],
                            "%s: cannot add %s (%s) to %s (%s): add takes outputs of one shape",
                            l->name, l->input_names[j], in_str(l, j, a), l->input_names[0],
                            in_str(l, 0, b));
    }
    l->out = l->in;
    return 0;
}

static int concat_infer(Layer *l, Diag *d) {
    char a[64], b[64];
    long c = 0;
    for (int j = 0; j < l->n_inputs; j++) {
        const Shape s = l->ins[j], s0 = l->ins[0];
        if (s.h != s0.h || s.w != s0.w || s.flat != s0.flat)
            return error_at(d, l->input_line[j], l->input_col[j],
                            "%s: cannot concatenate %s (%s) with %s (%s): concat takes outputs "
                            "of one height and width",
                            l->name, l->input_names[j], in_str(l, j, a), l->input_names[0],
                            in_str(l, 0, b));
        c += s.c;
    }
    if (c > MAX_DIM)
        return error_at(d, l->line, l->col, "%s: %ld channels exceed %d", l->name, c, MAX_DIM);
    l->out = (Shape){(int)c, l->in.h, l->in.w, l->in.flat};
    return 0;
}

static void merge_describe(const Layer *l, StrBuf *sb) {
    sb_puts(sb, l->kind == &add_kind ? "add" : "concat");
    for (int j = 0; j < l->n_inputs; j++)
        sb_printf(sb, "%s%s", j ? ", " : " of ", l->input_names[j]);
}

/* add: out = in + in1 + in2 ... in that order; backward: din_j = dout */
static void add_lower(const Layer *l, const Lowering *how, Program *p) {
    const long n = shape_size(l->out) * how->tile;
    for (int j = 0; j < l->n_inputs; j++) {
        if (how->backward)
            program_add(p, (Op){.kind = OP_COPY, .n = n, .in = "dout",
                                .out = input_var("din", j)});
        else if (j)
            program_add(p, (Op){.kind = OP_ADD, .n = n, .in = j == 1 ? "in" : "out",
                                .by = input_var("in", j), .out = "out"});
    }
}

/* concat: input j's channels after those of the inputs before it (a
 * channel's values are contiguous: C x H x W, lanes innermost) */
static void concat_lower(const Layer *l, const Lowering *how, Program *p) {
    long at = 0;
    for (int j = 0; j < l->n_inputs; j++) {
        const long n = shape_size(l->ins[j]) * how->tile;
        if (how->backward)
            program_add(p, (Op){.kind = OP_COPY, .n = n, .in = "dout", .in_at = at,
                                .out = input_var("din", j)});
        else
            program_add(p, (Op){.kind = OP_COPY, .n = n, .in = input_var("in", j), .out = "out",
                                .out_at = at});
        at += n;
    }
}

static void merge_torch(const Layer *l, json_t *modules) {
    layer_torch_module(modules, l, NULL, l->kind == &add_kind ? "Add" : "Concat", NULL, NULL);
}

/* Add (Sum of more than two, ONNX's Add taking two), or Concat along the
 * channels (axis 1 of NCHW, and of N x features) */
static void merge_onnx(const Layer *l, OnnxGraph *g) {
    const char *in[MAX_INPUTS];
    for (int j = 0; j < l->n_inputs; j++)
        in[j] = onnx_input(g, j);
    if (l->kind == &add_kind)
        onnx_node(g, l->n_inputs == 2 ? "Add" : "Sum", NULL, l->n_inputs, in);
    else
        onnx_attr_int(g, onnx_node(g, "Concat", NULL, l->n_inputs, in), "axis", 1);
}

const LayerKind add_kind = {
    .kind = "add",
    .prefix = "add",
    .keras = "Add",
    .parse = merge_parse,
    .infer = add_infer,
    .describe = merge_describe,
    .torch = merge_torch,
    .onnx = merge_onnx,
    .merges = true,
    .lower = add_lower,
};

const LayerKind concat_kind = {
    .kind = "concat",
    .prefix = "concat",
    .keras = "Concatenate",
    .parse = merge_parse,
    .infer = concat_infer,
    .describe = merge_describe,
    .torch = merge_torch,
    .onnx = merge_onnx,
    .merges = true,
    .lower = concat_lower,
};
