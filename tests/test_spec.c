/* test_spec.c: the YAML spec -> Model IR pass (spec.c, yaml.c, shape.c and
 * each layer's parse and infer).
 *
 *   - valid specs, the two shipped models included, parse to exactly the
 *     shapes, sizes, offsets and hyper-parameters worked out by hand;
 *   - bad specs, each with the full diagnostic it must produce (first
 *     line, source line and caret): golden diagnostics, kept as files in
 *     tests/specs/bad/ (NAME.yaml and NAME.err) but for the few no file can
 *     give; specs that load, with what `lenetc summary` prints, in
 *     tests/specs/good/ (test_spec_files.c runs both). A changed message
 *     fails; `make golden` rewrites the files, on purpose only.
 *
 * Every parse, good or bad, ends with model_free, so the suite runs clean
 * under valgrind and ASan.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lenetc.h"
#include "tests.h"

#define INPUT "input: {shape: [28, 28, 1]}\n"
/* the shortest valid end of a model: 784 features -> 10 logits */
#define TAIL "  - flatten\n  - dense: {units: 10}\n"

/* ---- helpers ----------------------------------------------------------- */

/* A layer's one-line description (LayerKind.describe), into buf. */
static const char *describe(const Layer *l, char buf[128]) {
    StrBuf sb = {0};
    l->kind->describe(l, &sb);
    snprintf(buf, 128, "%s", sb.data);
    sb_free(&sb);
    return buf;
}

/* A conv's padding above and left, as its torch.nn modules have it: a
 * ZeroPad2d((left, right, top, bottom)) first, or Conv2d's padding. */
static void conv_pads(const Layer *l, int *top, int *left) {
    json_t *modules = json_array();
    l->kind->torch(l, modules);
    const json_t *first = json_array_get(modules, 0);
    if (!strcmp(json_string_value(json_object_get(first, "module")), "ZeroPad2d")) {
        const json_t *p = json_array_get(json_object_get(first, "args"), 0);
        *left = (int)json_integer_value(json_array_get(p, 0));
        *top = (int)json_integer_value(json_array_get(p, 2));
    } else {
        *top = *left = (int)json_integer_value(
            json_object_get(json_object_get(first, "kwargs"), "padding"));
    }
    json_decref(modules);
}

/* Parses text as t.yaml; on failure the message is in d->msg. */
static int parse(const char *text, const char *default_name, Model *m, Diag *d) {
    *d = (Diag){.file = "t.yaml", .src = text};
    return test_parse_spec(text, strlen(text), default_name, m, d);
}

static void parse_ok(const char *text, const char *default_name, Model *m) {
    Diag d;
    int rc = parse(text, default_name, m, &d);
    ck_assert_msg(rc == 0, "spec failed: %s\n--- spec:\n%s", d.msg, text);
    ck_assert(!d.failed);
    ck_assert_str_eq(d.msg, "");
}

typedef struct {
    const char *kind;
    const char *name;
    int c, h, w;
    bool flat;
    long w_size, b_size, w_off, b_off, in_off, out_off;
    bool need_dinput, need_backward;
} Want;

static void check_layers(const Model *m, const Want *want, int n) {
    ck_assert_int_eq(m->n_layers, n);
    for (int i = 0; i < n; i++) {
        const Layer *l = &m->layers[i];
        const Want *w = &want[i];
        ck_assert_msg(strcmp(l->kind->kind, w->kind) == 0, "layer %d (%s): kind %s, expected %s",
                      i, l->name, l->kind->kind, w->kind);
        ck_assert_str_eq(l->name, w->name);
        ck_assert_msg(l->out.c == w->c && l->out.h == w->h && l->out.w == w->w &&
                          l->out.flat == w->flat,
                      "%s: out %dx%dx%d%s, expected %dx%dx%d%s", l->name, l->out.c, l->out.h,
                      l->out.w, l->out.flat ? " flat" : "", w->c, w->h, w->w,
                      w->flat ? " flat" : "");
        /* weight and bias: the first two tensors, where there are any */
        const long w_size = l->n_tensors ? l->tensors[0].size : 0;
        const long b_size = l->n_tensors ? l->tensors[1].size : 0;
        const long w_off = l->n_tensors ? l->tensors[0].off : 0;
        const long b_off = l->n_tensors ? l->tensors[1].off : 0;
        ck_assert_int_eq(l->n_tensors, w->w_size ? 2 : 0);
        ck_assert_msg(w_size == w->w_size && b_size == w->b_size,
                      "%s: w_size %ld b_size %ld, expected %ld %ld", l->name, w_size, b_size,
                      w->w_size, w->b_size);
        ck_assert_msg(w_off == w->w_off && b_off == w->b_off,
                      "%s: w_off %ld b_off %ld, expected %ld %ld", l->name, w_off, b_off,
                      w->w_off, w->b_off);
        ck_assert_msg(l->in_off == w->in_off && l->out_off == w->out_off,
                      "%s: in_off %ld out_off %ld, expected %ld %ld", l->name, l->in_off,
                      l->out_off, w->in_off, w->out_off);
        ck_assert_msg(l->need_dinput == w->need_dinput && l->need_backward == w->need_backward,
                      "%s: need_dinput %d need_backward %d, expected %d %d", l->name,
                      l->need_dinput, l->need_backward, w->need_dinput, w->need_backward);
        /* each layer's input is the previous layer's output */
        if (i > 0) {
            const Layer *p = &m->layers[i - 1];
            ck_assert(l->in.c == p->out.c && l->in.h == p->out.h && l->in.w == p->out.w &&
                      l->in.flat == p->out.flat);
            ck_assert_int_eq(l->in_off, p->out_off);
        }
    }
}

static void check_default_train(const lenet_hparams *h) {
    ck_assert_int_eq(h->optimizer, LENET_ADAM);
    ck_assert_float_eq(h->lr, 0.001f);
    ck_assert_float_eq(h->beta1, 0.9f);
    ck_assert_float_eq(h->beta2, 0.999f);
    ck_assert_float_eq(h->eps, 1e-7f);
    ck_assert_int_eq(h->batch, 128);
    ck_assert_int_eq(h->epochs, 2);
    ck_assert_uint_eq(h->seed, 1);
}

/* ---- the shipped models ------------------------------------------------ */

START_TEST(lenet5_model) {
    Model m;
    Diag d = {.file = "models/lenet5.yaml"};
    ck_assert_msg(test_load_spec("models/lenet5.yaml", &m, &d) == 0, "%s", d.msg);
    ck_assert_ptr_null(d.src); /* the file's text is gone after loading */
    ck_assert_str_eq(m.name, "lenet5");
    ck_assert_int_eq(m.in_h, 28);
    ck_assert_int_eq(m.in_w, 28);
    ck_assert_int_eq(m.in_c, 1);
    ck_assert_int_eq(m.pad, 0);
    ck_assert_float_eq(m.scale_lo, -1.0f);
    ck_assert_float_eq(m.scale_hi, 1.0f);
    /* activations: input 784, then each layer's output after the last */
    static const Want want[] = {
        {"conv", "conv1", 6, 26, 26, false, 54, 6, 0, 54, 0, 784, false, true},
        {"maxpool", "pool1", 6, 13, 13, false, 0, 0, 0, 0, 784, 4840, true, true},
        {"relu", "relu1", 6, 13, 13, false, 0, 0, 0, 0, 4840, 5854, true, true},
        {"conv", "conv2", 16, 11, 11, false, 864, 16, 60, 924, 5854, 6868, true, true},
        {"maxpool", "pool2", 16, 5, 5, false, 0, 0, 0, 0, 6868, 8804, true, true},
        {"relu", "relu2", 16, 5, 5, false, 0, 0, 0, 0, 8804, 9204, true, true},
        /* flatten moves no data: its output is its input */
        {"flatten", "flatten1", 400, 1, 1, true, 0, 0, 0, 0, 9204, 9204, true, true},
        {"dense", "dense1", 120, 1, 1, true, 48000, 120, 940, 48940, 9204, 9604, true, true},
        {"dense", "dense2", 60, 1, 1, true, 7200, 60, 49060, 56260, 9604, 9724, true, true},
        {"dense", "dense3", 10, 1, 1, true, 600, 10, 56320, 56920, 9724, 9784, true, true},
    };
    check_layers(&m, want, 10);
    ck_assert_int_eq(m.n_params, 56930);
    ck_assert_int_eq(m.n_classes, 10);
    ck_assert_int_eq(m.act_floats, 9794);
    ck_assert_int_eq(m.logits_off, 9784);
    /* the attributes behind the shapes */
    const Layer *c1 = &m.layers[0], *p1 = &m.layers[1], *d1 = &m.layers[7];
    char desc[128];
    int top, left;
    ck_assert_str_eq(describe(c1, desc), "conv 6@3x3 stride 1, padding valid");
    conv_pads(c1, &top, &left);
    ck_assert(top == 0 && left == 0);
    ck_assert(c1->in.c == 1 && c1->in.h == 28 && c1->in.w == 28 && !c1->in.flat);
    ck_assert_str_eq(describe(p1, desc), "maxpool 2x2 stride 2");
    ck_assert_str_eq(describe(d1, desc), "dense 400 -> 120, relu");
    ck_assert(layer_activation(d1) == ACT_RELU && layer_activation(&m.layers[8]) == ACT_RELU &&
              layer_activation(&m.layers[9]) == ACT_NONE && layer_activation(p1) == ACT_NONE);
    /* where each layer was written */
    ck_assert_int_eq(c1->line, 9);
    ck_assert_int_eq(c1->col, 5);
    ck_assert_int_eq(m.layers[9].line, 18);
    check_default_train(&m.train); /* the file spells out the defaults */
    model_free(&m);
    ck_assert_ptr_null(m.layers);
    ck_assert_int_eq(m.n_layers, 0);
    model_free(&m); /* twice is harmless */
}
END_TEST

START_TEST(lenet5_classic_model) {
    Model m;
    Diag d = {.file = "models/lenet5-classic.yaml"};
    ck_assert_msg(test_load_spec("models/lenet5-classic.yaml", &m, &d) == 0, "%s", d.msg);
    ck_assert_str_eq(m.name, "lenet5_classic");
    ck_assert_int_eq(m.in_h, 28);
    ck_assert_int_eq(m.pad, 2);
    /* the network sees 32x32: the input takes 1024 activations */
    static const Want want[] = {
        {"conv", "conv1", 6, 28, 28, false, 150, 6, 0, 150, 0, 1024, false, true},
        {"maxpool", "pool1", 6, 14, 14, false, 0, 0, 0, 0, 1024, 5728, true, true},
        {"relu", "relu1", 6, 14, 14, false, 0, 0, 0, 0, 5728, 6904, true, true},
        {"conv", "conv2", 16, 10, 10, false, 2400, 16, 156, 2556, 6904, 8080, true, true},
        {"maxpool", "pool2", 16, 5, 5, false, 0, 0, 0, 0, 8080, 9680, true, true},
        {"relu", "relu2", 16, 5, 5, false, 0, 0, 0, 0, 9680, 10080, true, true},
        {"flatten", "flatten1", 400, 1, 1, true, 0, 0, 0, 0, 10080, 10080, true, true},
        {"dense", "dense1", 120, 1, 1, true, 48000, 120, 2572, 50572, 10080, 10480, true,
         true},
        {"dense", "dense2", 84, 1, 1, true, 10080, 84, 50692, 60772, 10480, 10600, true,
         true},
        {"dense", "dense3", 10, 1, 1, true, 840, 10, 60856, 61696, 10600, 10684, true, true},
    };
    check_layers(&m, want, 10);
    ck_assert(m.layers[0].in.h == 32 && m.layers[0].in.w == 32);
    ck_assert_int_eq(m.n_params, 61706);
    ck_assert_int_eq(m.n_classes, 10);
    ck_assert_int_eq(m.act_floats, 10694);
    ck_assert_int_eq(m.logits_off, 10684);
    check_default_train(&m.train);
    model_free(&m);
}
END_TEST

/* ---- features of the format, one at a time ----------------------------- */

/* Everything optional left out: defaults for scale, pad, train. */
START_TEST(defaults) {
    Model m;
    parse_ok(INPUT "layers:\n" TAIL, "net", &m);
    ck_assert_str_eq(m.name, "net");
    ck_assert_float_eq(m.scale_lo, -1.0f);
    ck_assert_float_eq(m.scale_hi, 1.0f);
    ck_assert_int_eq(m.pad, 0);
    check_default_train(&m.train);
    static const Want want[] = {
        {"flatten", "flatten1", 784, 1, 1, true, 0, 0, 0, 0, 0, 0, false, false},
        {"dense", "dense1", 10, 1, 1, true, 7840, 10, 0, 7840, 0, 784, false, true},
    };
    check_layers(&m, want, 2);
    ck_assert(layer_activation(&m.layers[1]) != ACT_RELU);
    ck_assert_int_eq(m.n_params, 7850);
    ck_assert_int_eq(m.act_floats, 794);
    ck_assert_int_eq(m.logits_off, 784);
    model_free(&m);
}
END_TEST

START_TEST(input_options) {
    Model m;
    parse_ok("name: mnist_net\n"
             "input:\n"
             "  shape: [20, 30, 3]\n"
             "  scale: [0, 1.5]\n"
             "  pad: 1\n"
             "layers:\n" TAIL,
             "ignored", &m);
    ck_assert_str_eq(m.name, "mnist_net"); /* name: beats the default name */
    ck_assert(m.in_h == 20 && m.in_w == 30 && m.in_c == 3 && m.pad == 1);
    ck_assert_float_eq(m.scale_lo, 0.0f);
    ck_assert_float_eq(m.scale_hi, 1.5f);
    ck_assert_int_eq(m.layers[0].out.c, 3 * 22 * 32);
    model_free(&m);
}
END_TEST

/* TensorFlow's "same": out = ceil(in / stride), total padding
 * max((out - 1) * stride + kernel - in, 0), the smaller half before. */
START_TEST(conv_padding_same) {
    static const struct {
        int h, w, kernel, stride;
        int oh, ow, pad_top, pad_left;
    } cases[] = {
        {28, 28, 3, 1, 28, 28, 1, 1}, /* odd kernel: 1 before, 1 after */
        {28, 28, 4, 1, 28, 28, 1, 1}, /* even kernel: 1 before, 2 after */
        {28, 28, 5, 1, 28, 28, 2, 2},
        {28, 28, 1, 1, 28, 28, 0, 0},
        {28, 28, 3, 2, 14, 14, 0, 0}, /* total 1: all of it after */
        {28, 28, 4, 2, 14, 14, 1, 1}, /* total 2 */
        {28, 27, 5, 2, 14, 14, 1, 2}, /* totals 3 and 4: rows and columns differ */
        {5, 5, 1, 2, 3, 3, 0, 0},     /* total 0 */
        {7, 7, 3, 3, 3, 3, 1, 1},     /* total 2 */
        {2, 2, 5, 1, 2, 2, 2, 2},     /* kernel larger than the input is fine */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[256];
        snprintf(text, sizeof text,
                 "input: {shape: [%d, %d, 2]}\n"
                 "layers:\n"
                 "  - conv: {filters: 4, kernel: %d, stride: %d, padding: same}\n" TAIL,
                 cases[i].h, cases[i].w, cases[i].kernel, cases[i].stride);
        Model m;
        parse_ok(text, "net", &m);
        const Layer *l = &m.layers[0];
        char desc[128];
        int top, left;
        ck_assert_msg(strstr(describe(l, desc), "padding same ("), "%s", desc);
        conv_pads(l, &top, &left);
        ck_assert_msg(l->out.c == 4 && l->out.h == cases[i].oh && l->out.w == cases[i].ow &&
                          top == cases[i].pad_top && left == cases[i].pad_left,
                      "case %zu: out %dx%dx%d pad %d,%d; expected 4x%dx%d pad %d,%d", i, l->out.c,
                      l->out.h, l->out.w, top, left, cases[i].oh, cases[i].ow,
                      cases[i].pad_top, cases[i].pad_left);
        ck_assert_int_eq(l->tensors[0].size, 4L * 2 * cases[i].kernel * cases[i].kernel);
        ck_assert_int_eq(l->tensors[1].size, 4);
        model_free(&m);
    }
}
END_TEST

START_TEST(conv_padding_explicit) {
    Model m;
    parse_ok(INPUT "layers:\n"
                   "  - conv: {filters: 4, kernel: 5, padding: 2}\n"
                   "  - conv: {filters: 3, kernel: 3, stride: 2, padding: 1}\n"
                   "  - conv: {filters: 2, kernel: 3, padding: valid}\n"
                   "  - conv: {filters: 2, kernel: 2, stride: 3, padding: 0}\n" TAIL,
             "net", &m);
    const Layer *l = m.layers;
    char desc[128];
    int top, left;
    /* 28 + 4 - 5 + 1 = 28 */
    ck_assert_str_eq(describe(&l[0], desc), "conv 4@5x5 stride 1, padding 2");
    conv_pads(&l[0], &top, &left);
    ck_assert(top == 2 && left == 2);
    ck_assert(l[0].out.c == 4 && l[0].out.h == 28 && l[0].out.w == 28);
    ck_assert_int_eq(l[0].tensors[0].size, 4 * 1 * 25);
    /* (28 + 2 - 3) / 2 + 1 = 14 */
    ck_assert_str_eq(describe(&l[1], desc), "conv 3@3x3 stride 2, padding 1");
    ck_assert(l[1].out.c == 3 && l[1].out.h == 14 && l[1].out.w == 14);
    ck_assert_int_eq(l[1].tensors[0].size, 3 * 4 * 9);
    /* 14 - 3 + 1 = 12 */
    ck_assert_str_eq(describe(&l[2], desc), "conv 2@3x3 stride 1, padding valid");
    conv_pads(&l[2], &top, &left);
    ck_assert_int_eq(top, 0);
    ck_assert(l[2].out.h == 12 && l[2].out.w == 12);
    /* (12 - 2) / 3 + 1 = 4: the last row and column are never read */
    ck_assert_str_eq(describe(&l[3], desc), "conv 2@2x2 stride 3, padding 0");
    ck_assert(l[3].out.c == 2 && l[3].out.h == 4 && l[3].out.w == 4);
    ck_assert_int_eq(m.layers[4].out.c, 32);
    model_free(&m);
}
END_TEST

START_TEST(pooling) {
    Model m;
    parse_ok("input: {shape: [28, 26, 3]}\n"
             "layers:\n"
             "  - maxpool: {size: 3}\n"            /* stride defaults to size: 9x8 */
             "  - avgpool: {size: 2, stride: 1}\n" /* overlapping windows: 8x7 */
             "  - maxpool: {size: 3, stride: 2}\n" /* 3x3 */
             "  - avgpool: {size: 3}\n" TAIL,      /* the whole input: 1x1 */
             "net", &m);
    static const Want want[] = {
        {"maxpool", "pool1", 3, 9, 8, false, 0, 0, 0, 0, 0, 2184, false, false},
        {"avgpool", "pool2", 3, 8, 7, false, 0, 0, 0, 0, 2184, 2400, false, false},
        {"maxpool", "pool3", 3, 3, 3, false, 0, 0, 0, 0, 2400, 2568, false, false},
        {"avgpool", "pool4", 3, 1, 1, false, 0, 0, 0, 0, 2568, 2595, false, false},
        {"flatten", "flatten1", 3, 1, 1, true, 0, 0, 0, 0, 2595, 2595, false, false},
        {"dense", "dense1", 10, 1, 1, true, 30, 10, 0, 30, 2595, 2598, false, true},
    };
    check_layers(&m, want, 6);
    char desc[128];
    ck_assert_str_eq(describe(&m.layers[0], desc), "maxpool 3x3 stride 3");
    ck_assert_str_eq(describe(&m.layers[1], desc), "avgpool 2x2 stride 1");
    ck_assert_str_eq(describe(&m.layers[2], desc), "maxpool 3x3 stride 2");
    ck_assert_int_eq(m.n_params, 40);
    ck_assert_int_eq(m.act_floats, 2608);
    model_free(&m);
}
END_TEST

START_TEST(dense_activation) {
    Model m;
    parse_ok(INPUT "layers:\n"
                   "  - flatten\n"
                   "  - dense: {units: 32, activation: relu}\n"
                   "  - dense: {units: 16, activation: none}\n"
                   "  - dense: {units: 2}\n",
             "net", &m);
    ck_assert(layer_activation(&m.layers[1]) == ACT_RELU &&
              layer_activation(&m.layers[2]) == ACT_NONE &&
              layer_activation(&m.layers[3]) == ACT_NONE);
    char desc[128];
    ck_assert_str_eq(describe(&m.layers[1], desc), "dense 784 -> 32, relu");
    ck_assert_int_eq(m.layers[1].tensors[0].size, 32 * 784);
    ck_assert_int_eq(m.layers[2].tensors[0].size, 16 * 32);
    ck_assert_int_eq(m.n_classes, 2);
    ck_assert_int_eq(m.n_params, 32 * 785 + 16 * 33 + 2 * 17);
    model_free(&m);
}
END_TEST

/* `- relu`, `- relu:`, `- relu: {}` and `- {relu: }` are the same layer. */
START_TEST(layer_forms) {
    Model m;
    parse_ok(INPUT "layers:\n"
                   "  - relu\n"
                   "  - relu:\n"
                   "  - relu: {}\n"
                   "  - {relu: }\n"
                   "  - \"relu\"\n"
                   "  - flatten:\n"
                   "  - dense:\n"
                   "      units: 10\n"
                   "      activation: none\n",
             "net", &m);
    ck_assert_int_eq(m.n_layers, 7);
    for (int i = 0; i < 5; i++) {
        char name[16];
        snprintf(name, sizeof name, "relu%d", i + 1);
        ck_assert_str_eq(m.layers[i].kind->kind, "relu");
        ck_assert_str_eq(m.layers[i].name, name);
        ck_assert_int_eq(m.layers[i].line, 3 + i);
    }
    char desc[128];
    ck_assert_str_eq(describe(&m.layers[6], desc), "dense 784 -> 10");
    model_free(&m);
    /* block style and flow style throughout: tests/specs/good/ */
}
END_TEST

START_TEST(optimizers) {
    Model m;
    /* sgd as a bare word: its own default rate */
    parse_ok(INPUT "layers:\n" TAIL "train: {optimizer: sgd}\n", "net", &m);
    ck_assert_int_eq(m.train.optimizer, LENET_SGD);
    ck_assert_float_eq(m.train.lr, 0.01f);
    model_free(&m);
    parse_ok(INPUT "layers:\n" TAIL "train: {optimizer: {name: sgd, lr: 0.05}, batch: 32}\n",
             "net", &m);
    ck_assert_int_eq(m.train.optimizer, LENET_SGD);
    ck_assert_float_eq(m.train.lr, 0.05f);
    ck_assert_int_eq(m.train.batch, 32);
    model_free(&m);
    parse_ok(INPUT "layers:\n" TAIL "train: {optimizer: adam}\n", "net", &m);
    check_default_train(&m.train);
    model_free(&m);
    parse_ok(INPUT "layers:\n" TAIL
                   "train:\n"
                   "  optimizer: {name: adam, lr: 3e-4, beta1: 0.5, beta2: 0.99, eps: 1e-8}\n"
                   "  batch: 1\n"
                   "  epochs: 100000\n"
                   "  seed: 2147483647\n"
                   "  loss: softmax_cross_entropy\n"
                   "  init: glorot_uniform\n",
             "net", &m);
    ck_assert_int_eq(m.train.optimizer, LENET_ADAM);
    ck_assert_float_eq(m.train.lr, 3e-4f);
    ck_assert_float_eq(m.train.beta1, 0.5f);
    ck_assert_float_eq(m.train.beta2, 0.99f);
    ck_assert_float_eq(m.train.eps, 1e-8f);
    ck_assert_int_eq(m.train.batch, 1);
    ck_assert_int_eq(m.train.epochs, 100000);
    ck_assert_uint_eq(m.train.seed, 2147483647u);
    model_free(&m);
    /* the largest beta2 accepted is still below 1 as a float */
    parse_ok(INPUT "layers:\n" TAIL "train: {optimizer: {name: adam, beta2: 0.9999999}}\n", "net",
             &m);
    ck_assert(m.train.beta2 < 1.0f);
    model_free(&m);
    /* SGD's momentum, Nesterov and weight decay; AdamW's decay (Keras' 0.004) */
    parse_ok(INPUT "layers:\n" TAIL
                   "train: {optimizer: {name: sgd, lr: 0.05, momentum: 0.9, nesterov: true, "
                   "weight_decay: 5.0e-4}}\n",
             "net", &m);
    ck_assert_int_eq(m.train.optimizer, LENET_SGD);
    ck_assert_float_eq(m.train.momentum, 0.9f);
    ck_assert_int_eq(m.train.nesterov, 1);
    ck_assert_float_eq(m.train.weight_decay, 5e-4f);
    model_free(&m);
    parse_ok(INPUT "layers:\n" TAIL "train: {optimizer: adamw}\n", "net", &m);
    ck_assert_int_eq(m.train.optimizer, LENET_ADAMW);
    ck_assert_float_eq(m.train.lr, 0.001f);
    ck_assert_float_eq(m.train.weight_decay, 0.004f);
    model_free(&m);
    parse_ok(INPUT "layers:\n" TAIL "train: {optimizer: {name: adamw, weight_decay: 0.01}}\n",
             "net", &m);
    ck_assert_float_eq(m.train.weight_decay, 0.01f);
    ck_assert_float_eq(m.train.momentum, 0.0f);
    model_free(&m);
    /* schedules: a name, or a name with its settings */
    parse_ok(INPUT "layers:\n" TAIL "train: {schedule: {name: cosine, warmup_epochs: 1}}\n",
             "net", &m);
    ck_assert_int_eq(m.train.schedule, LENET_COSINE);
    ck_assert_float_eq(m.train.warmup_epochs, 1.0f);
    model_free(&m);
    parse_ok(INPUT "layers:\n" TAIL "train: {schedule: {name: step, every: 3, factor: 0.1}}\n",
             "net", &m);
    ck_assert_int_eq(m.train.schedule, LENET_STEP);
    ck_assert_int_eq(m.train.step_every, 3);
    ck_assert_float_eq(m.train.step_factor, 0.1f);
    model_free(&m);
    /* the loss by name, or with label smoothing */
    parse_ok(INPUT "layers:\n" TAIL "train: {loss: softmax_cross_entropy}\n", "net", &m);
    ck_assert_float_eq(m.train.label_smoothing, 0.0f);
    model_free(&m);
    parse_ok(INPUT "layers:\n" TAIL
             "train: {loss: {name: softmax_cross_entropy, label_smoothing: 0.1}}\n", "net", &m);
    ck_assert_float_eq(m.train.label_smoothing, 0.1f);
    model_free(&m);
    /* onecycle: PyTorch's OneCycleLR defaults, or the spec's */
    parse_ok(INPUT "layers:\n" TAIL "train: {schedule: onecycle}\n", "net", &m);
    ck_assert_int_eq(m.train.schedule, LENET_ONECYCLE);
    ck_assert_float_eq(m.train.pct_start, 0.3f);
    ck_assert_float_eq(m.train.div_factor, 25.0f);
    ck_assert_float_eq(m.train.final_div_factor, 1e4f);
    ck_assert_int_eq(m.train.onecycle_linear, 0);
    ck_assert_int_eq(m.train.cycle_momentum, 1);
    ck_assert_float_eq(m.train.base_momentum, 0.85f);
    ck_assert_float_eq(m.train.max_momentum, 0.95f);
    model_free(&m);
    parse_ok(INPUT "layers:\n" TAIL
             "train: {optimizer: {name: adam, beta1: 0.7}, schedule: {name: onecycle, pct_start: "
             "0.2, div_factor: 10, final_div_factor: 100, anneal: linear, cycle_momentum: false}}\n",
             "net", &m);
    ck_assert_float_eq(m.train.beta1, 0.7f);
    ck_assert_float_eq(m.train.pct_start, 0.2f);
    ck_assert_float_eq(m.train.div_factor, 10.0f);
    ck_assert_float_eq(m.train.final_div_factor, 100.0f);
    ck_assert_int_eq(m.train.onecycle_linear, 1);
    ck_assert_int_eq(m.train.cycle_momentum, 0);
    model_free(&m);
    parse_ok(INPUT "layers:\n" TAIL "train: {schedule: constant}\n", "net", &m);
    ck_assert_int_eq(m.train.schedule, LENET_CONSTANT);
    model_free(&m);
    parse_ok(INPUT "layers:\n" TAIL "train: {augment: {shift: 2, rotate: 10, scale: 0.1}}\n",
             "net", &m);
    ck_assert_float_eq(m.train.aug_shift, 2.0f);
    ck_assert_float_eq(m.train.aug_rotate, 10.0f);
    ck_assert_float_eq(m.train.aug_scale, 0.1f);
    model_free(&m);
}
END_TEST

/* need_backward: some layer at or before has parameters; need_dinput: some
 * layer strictly before has, so the first parametered layer skips din. */
START_TEST(backward_flags) {
    Model m;
    parse_ok(INPUT "layers:\n"
                   "  - maxpool: {size: 2}\n"
                   "  - relu\n"
                   "  - conv: {filters: 2, kernel: 3}\n"
                   "  - relu\n"
                   "  - flatten\n"
                   "  - dense: {units: 10}\n",
             "net", &m);
    static const bool dinput[] = {false, false, false, true, true, true};
    static const bool backward[] = {false, false, true, true, true, true};
    for (int i = 0; i < 6; i++) {
        ck_assert_msg(m.layers[i].need_dinput == dinput[i], "%s", m.layers[i].name);
        ck_assert_msg(m.layers[i].need_backward == backward[i], "%s", m.layers[i].name);
    }
    model_free(&m);
}
END_TEST

/* 256 layers is the limit, inclusive. */
static char *many_layers(int n_relu) {
    size_t cap = 64 + (size_t)n_relu * 16 + sizeof TAIL;
    char *text = malloc(cap);
    ck_assert_ptr_nonnull(text);
    size_t len = (size_t)snprintf(text, cap, INPUT "layers:\n");
    for (int i = 0; i < n_relu; i++)
        len += (size_t)snprintf(text + len, cap - len, "  - relu\n");
    snprintf(text + len, cap - len, TAIL);
    return text;
}

START_TEST(layer_limit) {
    Model m;
    Diag d;
    char *text = many_layers(254);
    parse_ok(text, "net", &m);
    ck_assert_int_eq(m.n_layers, 256);
    ck_assert_str_eq(m.layers[253].name, "relu254");
    model_free(&m);
    free(text);
    text = many_layers(255);
    ck_assert_int_eq(parse(text, "net", &m, &d), -1);
    /* the 257th layer, on line 259, is the one too many */
    ck_assert_str_eq(d.msg, "t.yaml:259:5: error: more than 256 layers\n"
                            "      - dense: {units: 10}\n"
                            "        ^");
    model_free(&m);
    free(text);
}
END_TEST

START_TEST(nul_byte) {
    static const char text[] = INPUT "layers:\n  - fla\0tten\n  - dense: {units: 10}\n";
    Model m;
    Diag d = {.file = "t.yaml", .src = text};
    ck_assert_int_eq(test_parse_spec(text, sizeof text - 1, "net", &m, &d), -1);
    /* the line is shown up to the NUL and the caret points just past it */
    ck_assert_str_eq(d.msg, "t.yaml:3:8: error: spec contains a NUL byte\n"
                            "      - fla\n"
                            "           ^");
    model_free(&m);
    /* a NUL as the very last byte still counts */
    static const char text2[] = INPUT "layers:\n" TAIL "\0";
    d = (Diag){.file = "t.yaml", .src = text2};
    ck_assert_int_eq(test_parse_spec(text2, sizeof text2 - 1, "net", &m, &d), -1);
    ck_assert_str_eq(d.msg, "t.yaml:5:1: error: spec contains a NUL byte");
    model_free(&m);
}
END_TEST

/* ---- spec_load_file ---------------------------------------------------- */

static void write_spec(const char *path, const char *text, size_t len) {
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

START_TEST(load_file_names) {
    char path[512];
    Model m;
    Diag d;
    /* the default name is the base name without extension, '-' -> '_' */
    snprintf(path, sizeof path, "%s/my-net.yaml", test_tmpdir());
    write_spec(path, INPUT "layers:\n" TAIL, strlen(INPUT "layers:\n" TAIL));
    d = (Diag){.file = path};
    ck_assert_msg(test_load_spec(path, &m, &d) == 0, "%s", d.msg);
    ck_assert_str_eq(m.name, "my_net");
    model_free(&m);
    /* no extension at all */
    snprintf(path, sizeof path, "%s/plain", test_tmpdir());
    write_spec(path, INPUT "layers:\n" TAIL, strlen(INPUT "layers:\n" TAIL));
    d = (Diag){.file = path};
    ck_assert_msg(test_load_spec(path, &m, &d) == 0, "%s", d.msg);
    ck_assert_str_eq(m.name, "plain");
    model_free(&m);
    /* only the last extension goes: "v1.2" is no identifier */
    snprintf(path, sizeof path, "%s/v1.2.yaml", test_tmpdir());
    write_spec(path, INPUT "layers:\n" TAIL, strlen(INPUT "layers:\n" TAIL));
    d = (Diag){.file = "v1.2.yaml"};
    ck_assert_int_eq(test_load_spec(path, &m, &d), -1);
    ck_assert_str_eq(d.msg, "v1.2.yaml:1:1: error: model name 'v1.2' (taken from the file name) "
                            "may hold only letters, digits and '_' (names must match "
                            "[A-Za-z_][A-Za-z0-9_]*); add a 'name:' key\n"
                            "    input: {shape: [28, 28, 1]}\n"
                            "    ^");
    ck_assert_ptr_null(d.src);
    model_free(&m);
    /* a name: key makes any file name fine */
    snprintf(path, sizeof path, "%s/9-lives.yaml", test_tmpdir());
    write_spec(path, "name: lives\n" INPUT "layers:\n" TAIL,
               strlen("name: lives\n" INPUT "layers:\n" TAIL));
    d = (Diag){.file = path};
    ck_assert_msg(test_load_spec(path, &m, &d) == 0, "%s", d.msg);
    ck_assert_str_eq(m.name, "lives");
    model_free(&m);
}
END_TEST

/* ---- write_file_atomic -------------------------------------------------- */

/* Generated files: the mode fopen gives, and over a directory a one-line
 * error naming the file, with no temp file left behind. */
START_TEST(write_file_errors) {
    char path[512];
    snprintf(path, sizeof path, "%s/written.c", test_tmpdir());
    Diag d = {.file = "lenetc"};
    ck_assert_msg(write_file_atomic(path, "int x;\n", 7, &d) == 0, "%s", d.msg);
    mode_t mask = umask(0);
    umask(mask);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0666 & ~mask);
    ck_assert_int_eq(st.st_size, 7);
    snprintf(path, sizeof path, "%s/written_dir.c", test_tmpdir());
    mkdir(path, 0777);
    d = (Diag){.file = "lenetc"};
    ck_assert_int_eq(write_file_atomic(path, "int x;\n", 7, &d), -1);
    char want[600];
    snprintf(want, sizeof want, "lenetc: error: cannot write %s: Is a directory", path);
    ck_assert_str_eq(d.msg, want);
    ck_assert_int_eq(rmdir(path), 0);
    char tmp_glob[600];
    snprintf(tmp_glob, sizeof tmp_glob, "ls %s/written_dir.c.tmp.* 2>/dev/null", test_tmpdir());
    FILE *p = popen(tmp_glob, "r");
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(fgetc(p), EOF);
    pclose(p);
}
END_TEST

START_TEST(load_file_errors) {
    char path[512];
    Model m;
    Diag d = {.file = "nowhere.yaml"};
    ck_assert_int_eq(test_load_spec("tests/no/such/dir/nowhere.yaml", &m, &d), -1);
    ck_assert_str_eq(d.msg, "nowhere.yaml: error: cannot open: No such file or directory");
    model_free(&m);
    d = (Diag){.file = "models"};
    ck_assert_int_eq(test_load_spec("models", &m, &d), -1);
    ck_assert_str_eq(d.msg, "models: error: not a regular file (a directory)");
    model_free(&m);
    /* a FIFO with no writer would block a plain open(): refused at once */
    snprintf(path, sizeof path, "%s/fifo.yaml", test_tmpdir());
    unlink(path);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    d = (Diag){.file = "fifo.yaml"};
    ck_assert_int_eq(test_load_spec(path, &m, &d), -1);
    ck_assert_str_eq(d.msg, "fifo.yaml: error: not a regular file (a FIFO)");
    model_free(&m);
    unlink(path);
    d = (Diag){.file = "/dev/zero"};
    ck_assert_int_eq(test_load_spec("/dev/zero", &m, &d), -1);
    ck_assert_str_eq(d.msg, "/dev/zero: error: not a regular file (a device)");
    model_free(&m);
    /* the caret line comes from the file's text */
    static const char bad[] = INPUT "layers:\n  - conv: {filtres: 6, kernel: 3}\n" TAIL;
    snprintf(path, sizeof path, "%s/bad.yaml", test_tmpdir());
    write_spec(path, bad, sizeof bad - 1);
    d = (Diag){.file = "bad.yaml"};
    ck_assert_int_eq(test_load_spec(path, &m, &d), -1);
    ck_assert_str_eq(d.msg, "bad.yaml:3:12: error: unknown key 'filtres' in conv layer "
                            "(expected name, filters, kernel, stride, padding, activation, alpha, use_bias)\n"
                            "      - conv: {filtres: 6, kernel: 3}\n"
                            "               ^");
    ck_assert_ptr_null(d.src);
    model_free(&m);
    /* a NUL in the file */
    static const char nul[] = INPUT "layers:\n" TAIL "# \0\n";
    snprintf(path, sizeof path, "%s/nul.yaml", test_tmpdir());
    write_spec(path, nul, sizeof nul - 1);
    d = (Diag){.file = "nul.yaml"};
    ck_assert_int_eq(test_load_spec(path, &m, &d), -1);
    ck_assert_str_eq(d.msg, "nul.yaml:5:3: error: spec contains a NUL byte\n"
                            "    # \n"
                            "      ^");
    model_free(&m);
    /* larger than MAX_SPEC_BYTES */
    snprintf(path, sizeof path, "%s/huge.yaml", test_tmpdir());
    size_t n = MAX_SPEC_BYTES + 1;
    char *big = malloc(n);
    ck_assert_ptr_nonnull(big);
    memset(big, '#', n);
    write_spec(path, big, n);
    free(big);
    d = (Diag){.file = "huge.yaml"};
    ck_assert_int_eq(test_load_spec(path, &m, &d), -1);
    ck_assert_str_eq(d.msg, "huge.yaml: error: file is 1048577 bytes; the limit is 1048576");
    model_free(&m);
    remove(path);
}
END_TEST

/* ---- golden diagnostics ------------------------------------------------ */

/* Bad specs are files: tests/specs/bad/NAME.yaml, with the whole diagnostic
 * in NAME.err (test_spec_files.c). These few are not, as no file gives them:
 * the default model name is the file's base name, which spec_load_file never
 * leaves with a '-' and never empty, and which would hold a newline only in
 * an awkward file name; spec_parse takes any default name. */
static const struct {
    const char *default_name;
    const char *msg; /* the whole message, caret lines included */
} bad_default_names[] = {
    {"my-net",
     "t.yaml:1:1: error: model name 'my-net' (taken from the file name) may hold only letters, digits and '_' (names must match [A-Za-z_][A-Za-z0-9_]*); add a 'name:' key\n"
     "    input: {shape: [28, 28, 1]}\n"
     "    ^"},
    {"",
     "t.yaml:1:1: error: model name '' (taken from the file name) is empty; add a 'name:' key\n"
     "    input: {shape: [28, 28, 1]}\n"
     "    ^"},
    {"a\nb",
     "t.yaml:1:1: error: model name 'a?b' (taken from the file name) may hold only letters, digits and '_' (names must match [A-Za-z_][A-Za-z0-9_]*); add a 'name:' key\n"
     "    input: {shape: [28, 28, 1]}\n"
     "    ^"},
};

START_TEST(bad_default_name) {
    Model m;
    Diag d;
    int rc = parse(INPUT "layers:\n" TAIL, bad_default_names[_i].default_name, &m, &d);
    model_free(&m);
    ck_assert_msg(rc == -1, "default name '%s': the spec was accepted",
                  bad_default_names[_i].default_name);
    ck_assert(d.failed);
    ck_assert_msg(strcmp(d.msg, bad_default_names[_i].msg) == 0,
                  "default name '%s':\n--- expected:\n%s\n--- got:\n%s",
                  bad_default_names[_i].default_name, bad_default_names[_i].msg, d.msg);
}
END_TEST

#define N_OF(a) (int)(sizeof a / sizeof a[0])

/* Likely mistakes compile, with a warning each, line and caret: a flatten
 * of a vector, an activation on the logits (fused or a layer after them),
 * a batch smaller than the tile. */
START_TEST(warnings) {
    static const char text[] = INPUT "layers:\n"
                               "  - flatten\n"
                               "  - flatten\n"
                               "  - dense: {units: 10, activation: relu}\n"
                               "  - dropout: {rate: 0.1}\n"
                               "  - sigmoid\n"
                               "train: {batch: 8}\n";
    Model m;
    Diag d;
    ck_assert_int_eq(parse(text, "net", &m, &d), 0);
    ck_assert_int_eq(d.n_warnings, 3);
    ck_assert_str_eq(d.warnings,
                     "t.yaml:4:5: warning: flatten2: its input is already a vector: this flatten "
                     "does nothing\n"
                     "      - flatten\n"
                     "        ^\n"
                     "t.yaml:5:5: warning: dense1 gives the logits, but its activation relu "
                     "changes them: softmax cross-entropy takes raw scores (activation: none)\n"
                     "      - dense: {units: 10, activation: relu}\n"
                     "        ^\n"
                     "t.yaml:7:5: warning: sigmoid1 comes after the logits (dense1): softmax "
                     "cross-entropy takes raw scores\n"
                     "      - sigmoid\n"
                     "        ^\n");
    d.warnings[0] = '\0';
    model_warn_tile(&m, 16, &d);
    ck_assert_str_eq(d.warnings, "t.yaml:8:16: warning: a batch of 8 is smaller than a tile of 16 "
                                 "samples: 8 lanes of each tile compute nothing (--tile 8, or a "
                                 "larger batch)\n"
                                 "    train: {batch: 8}\n"
                                 "                   ^\n");
    d.warnings[0] = '\0';
    model_warn_tile(&m, 8, &d);
    ck_assert_str_eq(d.warnings, "");
    model_free(&m);
    /* a graph's output that no layer reads (its backward is left out: the
     * conv's weights get no gradient, and the model trains without it) */
    static const char branch[] = INPUT "layers:\n"
                                 "  - conv: {name: a, filters: 2, kernel: 3}\n"
                                 "  - conv: {name: unused, filters: 2, kernel: 3}\n"
                                 "  - flatten: {input: a}\n"
                                 "  - dense: 2\n";
    ck_assert_int_eq(parse(branch, "net", &m, &d), 0);
    ck_assert_int_eq(d.n_warnings, 1);
    ck_assert_str_eq(d.warnings, "t.yaml:4:5: warning: unused: no layer reads its output (the "
                                 "logits are the last layer's)\n"
                                 "      - conv: {name: unused, filters: 2, kernel: 3}\n"
                                 "        ^\n");
    ck_assert(!m.layers[1].need_backward && m.layers[0].need_backward && m.layers[0].users == 2);
    model_free(&m);
    /* the shipped models have none */
    static const char *const shipped[] = {"models/lenet5.yaml", "models/lenet5-classic.yaml",
                                          "models/lenet5-plus.yaml", "models/fashion-plus.yaml",
                                          "models/color-mnist.yaml", "models/resnet8.yaml",
                                          "models/ds-cnn.yaml", "models/resnet8-fashion.yaml"};
    for (size_t i = 0; i < sizeof shipped / sizeof shipped[0]; i++) {
        Diag f = {.file = shipped[i]};
        ck_assert_msg(test_load_spec(shipped[i], &m, &f) == 0, "%s", f.msg);
        model_warn_tile(&m, 16, &f);
        ck_assert_msg(f.n_warnings == 0, "%s", f.warnings);
        model_free(&m);
    }
}
END_TEST

/* Keras' spellings are exact synonyms: the same Model, summary and
 * generated code, every style, as lenetc's own. */
START_TEST(keras_spellings_are_synonyms) {
    static const char keras[] =
        "name: net\n" INPUT "layers:\n"
        "  - Conv2D: {filters: 6, kernel_size: [3, 3], strides: [2, 2], activation: relu}\n"
        "  - MaxPooling2D: {pool_size: [2, 2], strides: 1}\n"
        "  - AveragePooling2D: {pool_size: 2}\n"
        "  - BatchNormalization: {epsilon: 0.01}\n"
        "  - Flatten\n"
        "  - Dropout: 0.25\n"
        "  - Dense: {units: 10}\n"
        "train: {optimizer: {name: adam, learning_rate: 0.01, epsilon: 0.001}, batch_size: 32}\n";
    static const char ours[] =
        "name: net\n" INPUT "layers:\n"
        "  - conv: {filters: 6, kernel: 3, stride: 2, activation: relu}\n"
        "  - maxpool: {size: 2, stride: 1}\n"
        "  - avgpool: 2\n"
        "  - batchnorm: {eps: 0.01}\n"
        "  - flatten\n"
        "  - dropout: {rate: 0.25}\n"
        "  - dense: 10\n"
        "train: {optimizer: {name: adam, lr: 0.01, eps: 0.001}, batch: 32}\n";
    Model a, b;
    parse_ok(keras, "net", &a);
    parse_ok(ours, "net", &b);
    char desc[128];
    ck_assert_str_eq(describe(&a.layers[0], desc), "conv 6@3x3 stride 2, padding valid, relu");
    ck_assert_str_eq(describe(&a.layers[1], desc), "maxpool 2x2 stride 1");
    ck_assert_int_eq(a.train.batch, 32);
    ck_assert_float_eq(a.train.lr, 0.01f);
    ck_assert_float_eq(a.train.eps, 0.001f);
    ck_assert_int_eq(a.batch_line, 11);
    StrBuf sa = {0}, sb = {0};
    model_summary(&a, &sa);
    model_summary(&b, &sb);
    ck_assert_str_eq(sa.data, sb.data);
    for (int style = 0; style < N_STYLES; style++) {
        EmitOptions o = {.style = (CodeStyle)style, .target = "avx2", .tile = 16,
                         .real = "float", .spec_file = "t.yaml"};
        StrBuf ca = {0}, cb = {0};
        emit_source(&a, &o, &ca);
        emit_source(&b, &o, &cb);
        ck_assert_msg(ca.len == cb.len && memcmp(ca.data, cb.data, ca.len) == 0,
                      "%s: the generated C differs", emit_style_name((CodeStyle)style));
        sb_free(&ca);
        sb_free(&cb);
    }
    sb_free(&sa);
    sb_free(&sb);
    model_free(&a);
    model_free(&b);
}
END_TEST

/* [1, 28, 28] is PyTorch's order: it compiles (an image 1 pixel high), with
 * a warning; a real height of 1 or 3 with few channels gets none. */
START_TEST(channels_first_warning) {
    static const char *const quiet[] = {"[28, 28, 1]", "[3, 32, 4]", "[1, 28, 3]", "[32, 32, 3]"};
    char text[256];
    Model m;
    Diag d;
    snprintf(text, sizeof text, "input: {shape: [1, 28, 28]}\nlayers:\n" TAIL);
    ck_assert_int_eq(parse(text, "net", &m, &d), 0);
    model_free(&m);
    ck_assert_str_eq(d.warnings,
                     "t.yaml:1:16: warning: shape [1, 28, 28] looks like channels first: "
                     "lenetc's order is height, width, channels ([28, 28, 1])\n"
                     "    input: {shape: [1, 28, 28]}\n"
                     "                   ^\n");
    snprintf(text, sizeof text, "input:\n  shape: [3, 32, 32]\nlayers:\n" TAIL);
    ck_assert_int_eq(parse(text, "net", &m, &d), 0);
    model_free(&m);
    ck_assert_int_eq(d.n_warnings, 1);
    ck_assert_ptr_nonnull(strstr(d.warnings, "t.yaml:2:10: warning: shape [3, 32, 32]"));
    for (size_t i = 0; i < sizeof quiet / sizeof quiet[0]; i++) {
        snprintf(text, sizeof text, "input: {shape: %s}\nlayers:\n" TAIL, quiet[i]);
        ck_assert_int_eq(parse(text, "net", &m, &d), 0);
        model_free(&m);
        ck_assert_msg(d.n_warnings == 0, "%s: %s", quiet[i], d.warnings);
    }
}
END_TEST

/* ---- the man page (doc/lenetc-spec.5) ----------------------------------- */

/* The text of the man page's section whose .SS line names title (".SS
 * maxpool, avgpool" names both), up to the next section; NULL if none. */
static char *man_section(const char *man, const char *title, char *buf, size_t n) {
    for (const char *p = strstr(man, "\n.SS "); p; p = strstr(p + 1, "\n.SS ")) {
        const char *names = p + 5, *eol = strchr(names, '\n');
        for (const char *q = names; q && q < eol; q = strstr(q, ", ") ? strstr(q, ", ") + 2 : NULL) {
            size_t len = strlen(title);
            if (!strncmp(q, title, len) && (q[len] == ',' || q + len == eol)) {
                const char *end = strstr(eol, "\n.S");
                size_t size = end ? (size_t)(end - eol) : strlen(eol);
                snprintf(buf, n, "%.*s\n", (int)size, eol);
                return buf;
            }
        }
    }
    return NULL;
}

/* Every key the parser takes has its entry (a line `.B key`) in the man
 * page's section for its mapping: the parser's own list of keys, from the
 * message of an unknown one. */
START_TEST(man_page_has_every_key) {
    size_t len;
    Diag rd = {.file = "doc/lenetc-spec.5"};
    char *man = read_file("doc/lenetc-spec.5", 1u << 20, &len, &rd);
    ck_assert_msg(man != NULL, "%s", rd.msg);
    char spec[512], section[16384], entry[64];
    struct {
        const char *title, *spec;
    } maps[64] = {{NULL, "zz: 1\n" INPUT "layers: [relu]\n"}, /* the spec's: anywhere */
                  {"input", "input: {shape: [28, 28, 1], zz: 1}\nlayers: [relu]\n"},
                  {"train", INPUT "layers: [relu]\ntrain: {zz: 1}\n"},
                  {"optimizer", INPUT "layers: [relu]\ntrain: {optimizer: {name: adam, zz: 1}}\n"},
                  {"optimizer", INPUT "layers: [relu]\ntrain: {optimizer: {name: sgd, zz: 1}}\n"},
                  {"optimizer", INPUT "layers: [relu]\ntrain: {optimizer: {name: adamw, zz: 1}}\n"},
                  {"schedule", INPUT "layers: [relu]\ntrain: {schedule: {name: cosine, zz: 1}}\n"},
                  {"schedule", INPUT "layers: [relu]\ntrain: {schedule: {name: step, zz: 1}}\n"},
                  {"augment", INPUT "layers: [relu]\ntrain: {augment: {zz: 1}}\n"}};
    const int first_layer = 9;
    int n = first_layer;
    static char layer_specs[32][128];
    for (int i = 0; layer_kinds[i]; i++, n++) {
        snprintf(layer_specs[i], sizeof layer_specs[i], INPUT "layers:\n  - %s: {zz: 1}\n",
                 layer_kinds[i]->kind);
        maps[n].title = layer_kinds[i]->kind;
        maps[n].spec = layer_specs[i];
    }
    for (int i = 0; i < n; i++) {
        Model m;
        Diag d;
        ck_assert_int_eq(parse(maps[i].spec, "net", &m, &d), -1);
        model_free(&m);
        const char *list = strstr(d.msg, "(expected ");
        ck_assert_msg(strstr(d.msg, "unknown key 'zz'") && list, "%s", d.msg);
        ck_assert_msg(!maps[i].title || man_section(man, maps[i].title, section, sizeof section),
                      "doc/lenetc-spec.5 has no section .SS %s", maps[i].title);
        snprintf(spec, sizeof spec, "%s", list + strlen("(expected "));
        *strchr(spec, ')') = '\0';
        for (char *key = strtok(spec, ", "); key; key = strtok(NULL, ", ")) {
            if (!strcmp(key, "name") && i >= first_layer) /* every layer's: one paragraph */
                continue;
            snprintf(entry, sizeof entry, "\n.B %s\n", key);
            char heading[64];
            snprintf(heading, sizeof heading, "\n.SS %s\n", key);
            ck_assert_msg(maps[i].title ? strstr(section, entry) != NULL
                                        : strstr(man, entry) || strstr(man, heading),
                          "doc/lenetc-spec.5: %s has no entry for %s",
                          maps[i].title ? maps[i].title : "the spec", key);
        }
    }
    ck_assert(strstr(man, "Every kind also takes\n.BR name ,\n"));
    free(man);
}
END_TEST

Suite *spec_suite(void) {
    Suite *s = suite_create("spec");
    TCase *t = tcase_create("valid");
    tcase_add_test(t, lenet5_model);
    tcase_add_test(t, warnings);
    tcase_add_test(t, keras_spellings_are_synonyms);
    tcase_add_test(t, channels_first_warning);
    tcase_add_test(t, lenet5_classic_model);
    tcase_add_test(t, defaults);
    tcase_add_test(t, input_options);
    tcase_add_test(t, conv_padding_same);
    tcase_add_test(t, conv_padding_explicit);
    tcase_add_test(t, pooling);
    tcase_add_test(t, dense_activation);
    tcase_add_test(t, layer_forms);
    tcase_add_test(t, optimizers);
    tcase_add_test(t, backward_flags);
    suite_add_tcase(s, t);
    t = tcase_create("limits");
    tcase_add_test(t, layer_limit);
    tcase_add_test(t, nul_byte);
    tcase_add_test(t, load_file_names);
    tcase_add_test(t, load_file_errors);
    tcase_add_test(t, write_file_errors);
    suite_add_tcase(s, t);
    t = tcase_create("diagnostics");
    tcase_add_loop_test(t, bad_default_name, 0, N_OF(bad_default_names));
    suite_add_tcase(s, t);
    t = tcase_create("man page");
    tcase_add_test(t, man_page_has_every_key);
    suite_add_tcase(s, t);
    suite_add_tcase(s, spec_files_tcase()); /* tests/specs/{bad,good}/ */
    return s;
}
