/* test_layer_api.c: what LayerKind offers the layers to come (dropout,
 * batchnorm), through a kind defined here: a state tensor the optimiser
 * skips, a saved buffer, and the pass that reaches the forward code.
 *
 *   probe: out = in * gain (gain: one non-trainable value per feature,
 *          initialised to ones); saved = pass->training, per lane;
 *          backward: din = dout * gain
 *
 * It is swapped in for a relu of a parsed spec and the model re-inferred,
 * then compiled by the JIT in every style (the probe has only loop code,
 * so the others fall back to it).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lenetc.h"
#include "onnx.h"
#include "tests.h"

/* compiler/TEMPLATE, the starting file of a new kind, as it stands: it
 * must build and be a working kind (template_is_a_kind). */
#include "TEMPLATE"

/* A layer with state: a gain per feature that nothing trains, beside the
 * dense layers' weights. Its code is a copy (a scale by 1). */
static int probe_infer(Layer *l, Diag *d) {
    l->out = l->in;
    const int n = (int)shape_size(l->in);
    layer_tensor(l, "gain", "gain", NULL, LENET_INIT_ONES, 1, (int[]){n});
    l->saved = 1; /* a saved buffer, placed beside the output */
    return 0;
}

static void probe_describe(const Layer *l, StrBuf *sb) { sb_puts(sb, "probe"); }

static void probe_lower(const Layer *l, const Lowering *how, Program *p) {
    const long n = shape_size(l->in) * how->tile;
    if (!how->backward)
        program_add(p, (Op){.kind = OP_SCALE, .n = n, .factor = 1, .in = "in", .out = "out"});
    else if (l->need_dinput)
        program_add(p, (Op){.kind = OP_SCALE, .n = n, .factor = 1, .in = "dout", .out = "din"});
}

static const LayerKind probe_kind = {
    .kind = "probe",
    .prefix = "probe",
    .keras = "Probe",
    .infer = probe_infer,
    .describe = probe_describe,
    .lower = probe_lower,
};

static const char spec[] = "name: api\n"
                           "input: {shape: [4, 4, 1]}\n"
                           "layers:\n"
                           "  - flatten\n"
                           "  - dense: {units: 6}\n"
                           "  - relu\n"
                           "  - dropout: 0.5\n"
                           "  - dense: {units: 3}\n";

/* The spec with its relu (layer 2) made a probe. */
static void probe_model(Model *m) {
    Diag d = {.file = "api.yaml"};
    ck_assert_msg(spec_parse(spec, strlen(spec), "api", m, &d) == 0, "%s", d.msg);
    m->layers[2].kind = &probe_kind;
    ck_assert_msg(model_infer(m, &d) == 0, "%s", d.msg);
}

START_TEST(state_after_trainable) {
    Model m;
    probe_model(&m);
    /* dense1 102, dense2 21 trainable; the probe's 6 gains after them */
    ck_assert_int_eq(m.n_params, 129);
    ck_assert_int_eq(m.n_trainable, 123);
    const LayerTensor *g = &m.layers[2].tensors[0];
    ck_assert(!g->trainable);
    ck_assert_int_eq(g->off, 123);
    ck_assert_int_eq(m.layers[4].tensors[0].off, 102); /* dense2.weight right after dense1 */
    /* the saved buffer sits beside the probe's output */
    ck_assert_int_eq(m.layers[2].saved_off, m.layers[2].out_off + 6);
    StrBuf sb = {0};
    model_summary(&m, &sb);
    ck_assert_msg(strstr(sb.data, "Total params: 129\nTrainable params: 123\n"
                                  "Non-trainable params: 6\n"),
                  "%s", sb.data);
    sb_free(&sb);
    lenet_model *lm = model_descriptor(&m, 4);
    ck_assert_int_eq(lm->n_trainable, 123);
    /* the layer keeps the name the spec gave it */
    ck_assert_str_eq(lm->tensors[lm->n_tensors - 1].name, "relu1.gain");
    ck_assert_int_eq(lm->tensors[lm->n_tensors - 1].init, LENET_INIT_ONES);
    ck_assert_int_eq(lm->tensors[lm->n_tensors - 1].trainable, 0);
    descriptor_free(lm);
    model_free(&m);
}
END_TEST

/* Training: the pass says training (dropout draws its mask) and the state
 * stays as initialised (ones) while the weights move; evaluation: the pass
 * says so (dropout copies, its mask untouched). Every style. */
START_TEST(pass_and_state_in_training) {
    const CodeStyle style = (CodeStyle)_i;
    Model m;
    probe_model(&m);
    EmitOptions o = {.style = style, .target = lenet_target_native()->name, .tile = 4,
                     .real = "float", .spec_file = "api.yaml"};
    lenet_model *lm = model_descriptor(&m, o.tile);
    Diag d = {.file = "api.yaml"};
    Jit *j = jit_compile(&m, &o, lm, &d, NULL, NULL);
    ck_assert_msg(j != NULL, "%s", d.msg);
    lenet_hparams h = lm->defaults;
    h.batch = 8;
    lenet_trainer t;
    ck_assert_int_eq(lenet_trainer_init(&t, lm, &h, 1), 0);
    for (int i = 123; i < 129; i++)
        ck_assert_float_eq(t.params[i], 1.0f);
    float before[123];
    memcpy(before, t.params, sizeof before);
    /* a moment an update of the state would act on: it must not be used */
    for (int i = 123; i < 129; i++)
        t.adam_m[i] = 1.0f;
    /* 8 images of 4x4 with labels 0..2 */
    uint8_t images[8 * 16], labels[8];
    for (int i = 0; i < 8 * 16; i++)
        images[i] = (uint8_t)(i * 37);
    for (int i = 0; i < 8; i++)
        labels[i] = (uint8_t)(i % 3);
    lenet_dataset ds = {.count = 8, .rows = 4, .cols = 4, .images = images, .labels = labels};
    int idx[8] = {0, 1, 2, 3, 4, 5, 6, 7}, correct = 0;
    ck_assert(isfinite(lenet_trainer_step(&t, &ds, idx, 8, &correct)));
    /* the last tile was a training pass: a mask of 0 and 2 (rate 0.5) */
    float *mask = t.acts + m.layers[3].saved_off * o.tile;
    int dropped = 0, kept = 0;
    for (int i = 0; i < 6 * o.tile; i++) {
        ck_assert(mask[i] == 0.0f || mask[i] == 2.0f);
        dropped += mask[i] == 0.0f;
        kept += mask[i] == 2.0f;
    }
    ck_assert(dropped > 0 && kept > 0);
    for (int i = 123; i < 129; i++)
        ck_assert_float_eq(t.params[i], 1.0f);
    ck_assert(memcmp(before, t.params, sizeof before) != 0);
    for (int i = 0; i < 6 * o.tile; i++)
        mask[i] = 7.0f;
    lenet_trainer_evaluate(&t, &ds);
    const float *in = t.acts + m.layers[3].in_off * o.tile;
    const float *out = t.acts + m.layers[3].out_off * o.tile;
    for (int i = 0; i < 6 * o.tile; i++) {
        ck_assert_float_eq(mask[i], 7.0f);
        ck_assert_float_eq(out[i], in[i]);
    }
    lenet_trainer_free(&t);
    jit_free(j);
    descriptor_free(lm);
    model_free(&m);
}
END_TEST

/* The initialisers: ones, zeros, glorot and he ranges, one stream. */
START_TEST(initialisers) {
    const lenet_tensor t[4] = {
        {.name = "a", .ndim = 1, .dims = {1000}, .offset = 0, .size = 1000, .fan_in = 50,
         .fan_out = 100, .init = LENET_INIT_GLOROT_UNIFORM, .trainable = 1},
        {.name = "b", .ndim = 1, .dims = {1000}, .offset = 1000, .size = 1000, .fan_in = 24,
         .init = LENET_INIT_HE_UNIFORM, .trainable = 1},
        {.name = "c", .ndim = 1, .dims = {10}, .offset = 2000, .size = 10,
         .init = LENET_INIT_ZEROS, .trainable = 1},
        {.name = "d", .ndim = 1, .dims = {10}, .offset = 2010, .size = 10,
         .init = LENET_INIT_ONES, .trainable = 0},
    };
    lenet_model m = {.n_params = 2020, .n_trainable = 2010, .n_tensors = 4, .tensors = t};
    float *p = malloc(2020 * sizeof *p);
    lenet_init_params(&m, p, 7);
    const double glorot = sqrt(6.0 / 150), he = sqrt(6.0 / 24); /* 0.2, 0.5 */
    double max_a = 0, max_b = 0;
    for (int i = 0; i < 1000; i++) {
        max_a = fmax(max_a, fabs(p[i]));
        max_b = fmax(max_b, fabs(p[1000 + i]));
    }
    ck_assert(max_a <= glorot && max_a > 0.95 * glorot);
    ck_assert(max_b <= he && max_b > 0.95 * he);
    for (int i = 0; i < 10; i++) {
        ck_assert_float_eq(p[2000 + i], 0.0f);
        ck_assert_float_eq(p[2010 + i], 1.0f);
    }
    free(p);
}
END_TEST

/* A step's seed depends on the run's seed and the step, nothing else. */
START_TEST(step_seeds) {
    ck_assert_uint_eq(lenet_step_seed(1, 5), lenet_step_seed(1, 5));
    ck_assert_uint_ne(lenet_step_seed(1, 5), lenet_step_seed(1, 6));
    ck_assert_uint_ne(lenet_step_seed(1, 5), lenet_step_seed(2, 5));
}
END_TEST

/* dropout's mask: the same for a sample and feature whatever the tile
 * (so whatever the thread count), about 1 - rate of the values kept and
 * scaled by 1 / (1 - rate), nothing dropped in evaluation. */
START_TEST(dropout_mask) {
    Model m;
    Diag d = {.file = "tests/models/dropout.yaml"};
    ck_assert_msg(test_load_spec("tests/models/dropout.yaml", &m, &d) == 0, "%s", d.msg);
    const Layer *drop = &m.layers[4]; /* rate 0.5, after dense1's 5 units */
    ck_assert_str_eq(drop->kind->kind, "dropout");
    enum { N = 20 }; /* samples */
    float mask[2][N][5];
    for (int k = 0; k < 2; k++) {
        const int tile = k ? 5 : 16;
        EmitOptions o = {.style = STYLE_KERNELS, .target = lenet_target_native()->name,
                         .tile = tile, .real = "float", .spec_file = "dropout.yaml"};
        lenet_model *lm = model_descriptor(&m, tile);
        Jit *j = jit_compile(&m, &o, lm, &d, NULL, NULL);
        ck_assert_msg(j != NULL, "%s", d.msg);
        float *params = calloc(lm->n_params, sizeof *params);
        float *acts = calloc(lm->act_floats, sizeof *acts);
        for (size_t i = 0; i < lm->n_params; i++)
            params[i] = 0.1f;
        for (int s0 = 0; s0 < N; s0 += tile) {
            for (long i = 0; i < shape_size(m.input) * tile; i++)
                acts[i] = 1.0f;
            lm->forward(params, acts, &(lenet_pass){.training = 1, .seed = 99, .sample = s0});
            for (int b = 0; b < tile && s0 + b < N; b++)
                for (int f = 0; f < 5; f++)
                    mask[k][s0 + b][f] = acts[(drop->saved_off + f) * tile + b];
        }
        if (k == 1) { /* evaluation: out = in */
            lm->forward(params, acts, &(lenet_pass){.training = 0});
            for (long i = 0; i < 5 * tile; i++)
                ck_assert_float_eq(acts[drop->out_off * tile + i], acts[drop->in_off * tile + i]);
        }
        free(params);
        free(acts);
        jit_free(j);
        descriptor_free(lm);
    }
    int kept = 0;
    for (int b = 0; b < N; b++)
        for (int f = 0; f < 5; f++) {
            ck_assert_float_eq(mask[0][b][f], mask[1][b][f]);
            ck_assert(mask[0][b][f] == 0.0f || mask[0][b][f] == 2.0f);
            kept += mask[0][b][f] != 0;
        }
    ck_assert_msg(kept > 30 && kept < 70, "%d of 100 kept at rate 0.5", kept);
    model_free(&m);
}
END_TEST

/* The template's kind (a scale by 2, by default), swapped in for the relu
 * and compiled in every style: out = 2 in, din = 2 dout. */
START_TEST(template_is_a_kind) {
    const CodeStyle style = (CodeStyle)_i;
    Model m;
    Diag d = {.file = "api.yaml"};
    ck_assert_msg(spec_parse(spec, strlen(spec), "api", &m, &d) == 0, "%s", d.msg);
    Layer *l = &m.layers[2];
    l->kind = &TEMPLATE_kind;
    memset(l->data, 0, sizeof l->data);
    ck_assert_msg(l->kind->parse(l, NULL, &d) == 0, "%s", d.msg);
    ck_assert_msg(model_infer(&m, &d) == 0, "%s", d.msg);
    EmitOptions o = {.style = style, .target = lenet_target_native()->name, .tile = 4,
                     .real = "float", .spec_file = "api.yaml"};
    lenet_model *lm = model_descriptor(&m, o.tile);
    Jit *j = jit_compile(&m, &o, lm, &d, NULL, NULL);
    ck_assert_msg(j != NULL, "%s", d.msg);
    float *params = calloc((size_t)lm->n_params, sizeof *params);
    float *grads = calloc((size_t)lm->n_params, sizeof *grads);
    float *acts = calloc((size_t)lm->act_floats * o.tile, sizeof *acts);
    float *dacts = calloc((size_t)lm->act_floats * o.tile, sizeof *dacts);
    lenet_init_params(lm, params, 3);
    for (long i = 0; i < 16 * o.tile; i++)
        acts[i] = (float)(i % 7) - 3;
    lm->forward(params, acts, &(lenet_pass){.training = 1});
    const long in = l->in_off * o.tile, out = l->out_off * o.tile, n = shape_size(l->in) * o.tile;
    for (long i = 0; i < n; i++)
        ck_assert_float_eq(acts[out + i], 2 * acts[in + i]);
    for (long i = 0; i < (long)lm->act_floats * o.tile; i++)
        dacts[i] = (float)(i % 5) - 2;
    lm->backward(params, acts, dacts, grads, &(lenet_pass){.training = 1});
    /* the relu's place: its input's gradient is twice its output's */
    long ok = 0;
    for (long i = 0; i < n; i++)
        ok += dacts[in + i] == 2 * dacts[out + i];
    ck_assert_int_eq(ok, n);
    free(params);
    free(grads);
    free(acts);
    free(dacts);
    jit_free(j);
    descriptor_free(lm);
    model_free(&m);
}
END_TEST

/* The template's ONNX form: a Mul of its input by its factor, a constant
 * initializer of its own; and a kind without one is refused by name. */
START_TEST(template_in_onnx) {
    Model m;
    Diag d = {.file = "api.yaml"};
    ck_assert_msg(spec_parse(spec, strlen(spec), "api", &m, &d) == 0, "%s", d.msg);
    Layer *l = &m.layers[2];
    l->kind = &TEMPLATE_kind;
    memset(l->data, 0, sizeof l->data);
    ck_assert_msg(l->kind->parse(l, NULL, &d) == 0, "%s", d.msg);
    ck_assert_msg(model_infer(&m, &d) == 0, "%s", d.msg);
    float *params = calloc((size_t)m.n_params, sizeof *params);
    uint8_t *bytes;
    size_t len;
    ck_assert_msg(onnx_export(&m, params, NULL, "api.yaml", "w.safetensors", &bytes, &len, &d) == 0,
                  "%s", d.msg);
    Onnx__ModelProto *o = onnx__model_proto__unpack(NULL, len, bytes);
    ck_assert_ptr_nonnull(o);
    const Onnx__NodeProto *mul = NULL;
    for (size_t i = 0; i < o->graph->n_node; i++)
        if (!strcmp(o->graph->node[i]->name, l->name))
            mul = o->graph->node[i];
    ck_assert_msg(mul != NULL, "no node %s", l->name);
    ck_assert_str_eq(mul->op_type, "Mul");
    ck_assert_uint_eq(mul->n_input, 2);
    ck_assert_str_eq(mul->input[0], "dense1");
    char factor[2 * MAX_NAME];
    snprintf(factor, sizeof factor, "%s.factor", l->name);
    ck_assert_str_eq(mul->input[1], factor);
    bool found = false;
    for (size_t i = 0; i < o->graph->n_initializer; i++) {
        const Onnx__TensorProto *t = o->graph->initializer[i];
        if (strcmp(t->name, factor))
            continue;
        float v;
        ck_assert_uint_eq(t->raw_data.len, sizeof v);
        memcpy(&v, t->raw_data.data, sizeof v);
        ck_assert(v == 2.0f);
        found = true;
    }
    ck_assert_msg(found, "no initializer %s", factor);
    onnx__model_proto__free_unpacked(o, NULL);
    free(bytes);
    /* the same kind without its onnx */
    LayerKind bare = TEMPLATE_kind;
    bare.onnx = NULL;
    l->kind = &bare;
    Diag e = {.file = "api.yaml"};
    ck_assert_int_eq(onnx_export(&m, params, NULL, "api.yaml", "w", &bytes, &len, &e), -1);
    ck_assert_msg(strstr(e.msg, "a TEMPLATE layer has no ONNX form") != NULL, "%s", e.msg);
    ck_assert_ptr_null(bytes);
    free(params);
    model_free(&m);
}
END_TEST

Suite *layer_api_suite(void) {
    Suite *s = suite_create("layer_api");
    TCase *t = tcase_create("core");
    tcase_add_test(t, state_after_trainable);
    tcase_add_loop_test(t, pass_and_state_in_training, 0, N_STYLES);
    tcase_add_test(t, initialisers);
    tcase_add_test(t, step_seeds);
    tcase_add_test(t, dropout_mask);
    tcase_add_loop_test(t, template_is_a_kind, 0, N_STYLES);
    tcase_add_test(t, template_in_onnx);
    suite_add_tcase(s, t);
    return s;
}
