/* test_spec.c: the YAML spec -> Model IR pass (spec.c, yaml.c, shape.c and
 * each layer's parse and infer).
 *
 *   - valid specs, the two shipped models included, parse to exactly the
 *     shapes, sizes, offsets and hyper-parameters worked out by hand;
 *   - a table of bad specs, each with the full diagnostic it must produce
 *     (first line, source line and caret): golden diagnostics. A changed
 *     message fails here; update the table on purpose.
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

/* Parses text as t.yaml; on failure the message is in d->msg. */
static int parse(const char *text, const char *default_name, Model *m, Diag *d) {
    *d = (Diag){.file = "t.yaml", .src = text};
    return spec_parse(text, strlen(text), default_name, m, d);
}

static void parse_ok(const char *text, const char *default_name, Model *m) {
    Diag d;
    int rc = parse(text, default_name, m, &d);
    ck_assert_msg(rc == 0, "spec failed: %s\n--- spec:\n%s", d.msg, text);
    ck_assert(!d.failed);
    ck_assert_str_eq(d.msg, "");
}

typedef struct {
    const LayerKind *kind;
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
        ck_assert_msg(l->kind == w->kind, "layer %d (%s): kind %s, expected %s", i, l->name,
                      l->kind->kind, w->kind->kind);
        ck_assert_str_eq(l->name, w->name);
        ck_assert_msg(l->out.c == w->c && l->out.h == w->h && l->out.w == w->w &&
                          l->out.flat == w->flat,
                      "%s: out %dx%dx%d%s, expected %dx%dx%d%s", l->name, l->out.c, l->out.h,
                      l->out.w, l->out.flat ? " flat" : "", w->c, w->h, w->w,
                      w->flat ? " flat" : "");
        ck_assert_msg(l->w_size == w->w_size && l->b_size == w->b_size,
                      "%s: w_size %ld b_size %ld, expected %ld %ld", l->name, l->w_size,
                      l->b_size, w->w_size, w->b_size);
        ck_assert_msg(l->w_off == w->w_off && l->b_off == w->b_off,
                      "%s: w_off %ld b_off %ld, expected %ld %ld", l->name, l->w_off, l->b_off,
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
    ck_assert_msg(spec_load_file("models/lenet5.yaml", &m, &d) == 0, "%s", d.msg);
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
        {&conv_kind, "conv1", 6, 26, 26, false, 54, 6, 0, 54, 0, 784, false, true},
        {&maxpool_kind, "pool1", 6, 13, 13, false, 0, 0, 0, 0, 784, 4840, true, true},
        {&relu_kind, "relu1", 6, 13, 13, false, 0, 0, 0, 0, 4840, 5854, true, true},
        {&conv_kind, "conv2", 16, 11, 11, false, 864, 16, 60, 924, 5854, 6868, true, true},
        {&maxpool_kind, "pool2", 16, 5, 5, false, 0, 0, 0, 0, 6868, 8804, true, true},
        {&relu_kind, "relu2", 16, 5, 5, false, 0, 0, 0, 0, 8804, 9204, true, true},
        /* flatten moves no data: its output is its input */
        {&flatten_kind, "flatten1", 400, 1, 1, true, 0, 0, 0, 0, 9204, 9204, true, true},
        {&dense_kind, "dense1", 120, 1, 1, true, 48000, 120, 940, 48940, 9204, 9604, true, true},
        {&dense_kind, "dense2", 60, 1, 1, true, 7200, 60, 49060, 56260, 9604, 9724, true, true},
        {&dense_kind, "dense3", 10, 1, 1, true, 600, 10, 56320, 56920, 9724, 9784, true, true},
    };
    check_layers(&m, want, 10);
    ck_assert_int_eq(m.n_params, 56930);
    ck_assert_int_eq(m.n_classes, 10);
    ck_assert_int_eq(m.act_floats, 9794);
    ck_assert_int_eq(m.logits_off, 9784);
    /* the attributes behind the shapes */
    const Layer *c1 = &m.layers[0], *p1 = &m.layers[1], *d1 = &m.layers[7];
    ck_assert_int_eq(c1->filters, 6);
    ck_assert_int_eq(c1->kernel, 3);
    ck_assert_int_eq(c1->stride, 1);
    ck_assert_int_eq(c1->pad_mode, PAD_VALID);
    ck_assert_int_eq(c1->pad_top, 0);
    ck_assert_int_eq(c1->pad_left, 0);
    ck_assert(c1->in.c == 1 && c1->in.h == 28 && c1->in.w == 28 && !c1->in.flat);
    ck_assert_int_eq(p1->size, 2);
    ck_assert_int_eq(p1->stride, 2);
    ck_assert_int_eq(d1->units, 120);
    ck_assert(d1->relu && m.layers[8].relu && !m.layers[9].relu);
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
    ck_assert_msg(spec_load_file("models/lenet5-classic.yaml", &m, &d) == 0, "%s", d.msg);
    ck_assert_str_eq(m.name, "lenet5_classic");
    ck_assert_int_eq(m.in_h, 28);
    ck_assert_int_eq(m.pad, 2);
    /* the network sees 32x32: the input takes 1024 activations */
    static const Want want[] = {
        {&conv_kind, "conv1", 6, 28, 28, false, 150, 6, 0, 150, 0, 1024, false, true},
        {&maxpool_kind, "pool1", 6, 14, 14, false, 0, 0, 0, 0, 1024, 5728, true, true},
        {&relu_kind, "relu1", 6, 14, 14, false, 0, 0, 0, 0, 5728, 6904, true, true},
        {&conv_kind, "conv2", 16, 10, 10, false, 2400, 16, 156, 2556, 6904, 8080, true, true},
        {&maxpool_kind, "pool2", 16, 5, 5, false, 0, 0, 0, 0, 8080, 9680, true, true},
        {&relu_kind, "relu2", 16, 5, 5, false, 0, 0, 0, 0, 9680, 10080, true, true},
        {&flatten_kind, "flatten1", 400, 1, 1, true, 0, 0, 0, 0, 10080, 10080, true, true},
        {&dense_kind, "dense1", 120, 1, 1, true, 48000, 120, 2572, 50572, 10080, 10480, true,
         true},
        {&dense_kind, "dense2", 84, 1, 1, true, 10080, 84, 50692, 60772, 10480, 10600, true,
         true},
        {&dense_kind, "dense3", 10, 1, 1, true, 840, 10, 60856, 61696, 10600, 10684, true, true},
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
        {&flatten_kind, "flatten1", 784, 1, 1, true, 0, 0, 0, 0, 0, 0, false, false},
        {&dense_kind, "dense1", 10, 1, 1, true, 7840, 10, 0, 7840, 0, 784, false, true},
    };
    check_layers(&m, want, 2);
    ck_assert(!m.layers[1].relu);
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
        ck_assert_int_eq(l->pad_mode, PAD_SAME);
        ck_assert_msg(l->out.c == 4 && l->out.h == cases[i].oh && l->out.w == cases[i].ow &&
                          l->pad_top == cases[i].pad_top && l->pad_left == cases[i].pad_left,
                      "case %zu: out %dx%dx%d pad %d,%d; expected 4x%dx%d pad %d,%d", i, l->out.c,
                      l->out.h, l->out.w, l->pad_top, l->pad_left, cases[i].oh, cases[i].ow,
                      cases[i].pad_top, cases[i].pad_left);
        ck_assert_int_eq(l->w_size, 4L * 2 * cases[i].kernel * cases[i].kernel);
        ck_assert_int_eq(l->b_size, 4);
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
    /* 28 + 4 - 5 + 1 = 28 */
    ck_assert(l[0].pad_mode == PAD_EXPLICIT && l[0].pad == 2);
    ck_assert(l[0].pad_top == 2 && l[0].pad_left == 2);
    ck_assert(l[0].out.c == 4 && l[0].out.h == 28 && l[0].out.w == 28);
    ck_assert_int_eq(l[0].w_size, 4 * 1 * 25);
    /* (28 + 2 - 3) / 2 + 1 = 14 */
    ck_assert(l[1].pad_mode == PAD_EXPLICIT && l[1].pad == 1 && l[1].stride == 2);
    ck_assert(l[1].out.c == 3 && l[1].out.h == 14 && l[1].out.w == 14);
    ck_assert_int_eq(l[1].w_size, 3 * 4 * 9);
    /* 14 - 3 + 1 = 12 */
    ck_assert(l[2].pad_mode == PAD_VALID && l[2].pad_top == 0);
    ck_assert(l[2].out.h == 12 && l[2].out.w == 12);
    /* (12 - 2) / 3 + 1 = 4: the last row and column are never read */
    ck_assert(l[3].pad_mode == PAD_EXPLICIT && l[3].pad == 0);
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
        {&maxpool_kind, "pool1", 3, 9, 8, false, 0, 0, 0, 0, 0, 2184, false, false},
        {&avgpool_kind, "pool2", 3, 8, 7, false, 0, 0, 0, 0, 2184, 2400, false, false},
        {&maxpool_kind, "pool3", 3, 3, 3, false, 0, 0, 0, 0, 2400, 2568, false, false},
        {&avgpool_kind, "pool4", 3, 1, 1, false, 0, 0, 0, 0, 2568, 2595, false, false},
        {&flatten_kind, "flatten1", 3, 1, 1, true, 0, 0, 0, 0, 2595, 2595, false, false},
        {&dense_kind, "dense1", 10, 1, 1, true, 30, 10, 0, 30, 2595, 2598, false, true},
    };
    check_layers(&m, want, 6);
    ck_assert(m.layers[0].size == 3 && m.layers[0].stride == 3);
    ck_assert(m.layers[1].size == 2 && m.layers[1].stride == 1);
    ck_assert(m.layers[2].size == 3 && m.layers[2].stride == 2);
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
    ck_assert(m.layers[1].relu && !m.layers[2].relu && !m.layers[3].relu);
    ck_assert_int_eq(m.layers[1].units, 32);
    ck_assert_int_eq(m.layers[1].w_size, 32 * 784);
    ck_assert_int_eq(m.layers[2].w_size, 16 * 32);
    ck_assert_int_eq(m.n_classes, 2);
    ck_assert_int_eq(m.n_params, 32 * 785 + 16 * 33 + 2 * 17);
    model_free(&m);
}
END_TEST

/* Explicit names replace the default; defaults still count every layer of
 * the prefix before them, named or not (maxpool and avgpool share pool). */
START_TEST(layer_names) {
    Model m;
    parse_ok(INPUT "layers:\n"
                   "  - conv: {name: stem, filters: 2, kernel: 3}\n"
                   "  - conv: {filters: 2, kernel: 3}\n"
                   "  - avgpool: {size: 2}\n"
                   "  - maxpool: {size: 2, name: _Pool_9}\n"
                   "  - relu: {name: act}\n"
                   "  - relu\n"
                   "  - flatten: {name: f}\n"
                   "  - dense: {units: 10, name: logits}\n",
             "net", &m);
    static const char *const names[] = {"stem", "conv2", "pool1", "_Pool_9",
                                        "act",  "relu2", "f",     "logits"};
    ck_assert_int_eq(m.n_layers, 8);
    for (int i = 0; i < 8; i++)
        ck_assert_str_eq(m.layers[i].name, names[i]);
    model_free(&m);
    /* the longest name allowed: 63 characters */
    char text[512];
    snprintf(text, sizeof text, INPUT "layers:\n  - relu: {name: %063d}\n" TAIL, 0);
    text[strlen(INPUT "layers:\n  - relu: {name: ")] = 'x';
    parse_ok(text, "net", &m);
    ck_assert_uint_eq(strlen(m.layers[0].name), 63);
    ck_assert_int_eq(m.layers[0].name[0], 'x');
    model_free(&m);
}
END_TEST

START_TEST(model_name) {
    Model m;
    parse_ok(INPUT "layers:\n" TAIL, "my_net", &m);
    ck_assert_str_eq(m.name, "my_net");
    model_free(&m);
    parse_ok("name: Net_2\n" INPUT "layers:\n" TAIL, "9net", &m); /* name: wins */
    ck_assert_str_eq(m.name, "Net_2");
    model_free(&m);
    parse_ok("name: \"quoted\"\n" INPUT "layers:\n" TAIL, "net", &m);
    ck_assert_str_eq(m.name, "quoted");
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
        ck_assert(m.layers[i].kind == &relu_kind);
        ck_assert_str_eq(m.layers[i].name, name);
        ck_assert_int_eq(m.layers[i].line, 3 + i);
    }
    ck_assert_int_eq(m.layers[6].units, 10);
    model_free(&m);
    /* block style throughout, flow style throughout */
    parse_ok("input:\n  shape:\n    - 28\n    - 28\n    - 1\n"
             "layers:\n  -\n    flatten\n  - dense: {units: 10}\n",
             "net", &m);
    ck_assert_int_eq(m.n_params, 7850);
    model_free(&m);
    parse_ok("{input: {shape: [28, 28, 1]}, layers: [flatten, {dense: {units: 10}}]}", "net",
             &m);
    ck_assert_int_eq(m.n_params, 7850);
    model_free(&m);
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
    ck_assert_int_eq(spec_parse(text, sizeof text - 1, "net", &m, &d), -1);
    /* the line is shown up to the NUL and the caret points just past it */
    ck_assert_str_eq(d.msg, "t.yaml:3:8: error: spec contains a NUL byte\n"
                            "      - fla\n"
                            "           ^");
    model_free(&m);
    /* a NUL as the very last byte still counts */
    static const char text2[] = INPUT "layers:\n" TAIL "\0";
    d = (Diag){.file = "t.yaml", .src = text2};
    ck_assert_int_eq(spec_parse(text2, sizeof text2 - 1, "net", &m, &d), -1);
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
    ck_assert_msg(spec_load_file(path, &m, &d) == 0, "%s", d.msg);
    ck_assert_str_eq(m.name, "my_net");
    model_free(&m);
    /* no extension at all */
    snprintf(path, sizeof path, "%s/plain", test_tmpdir());
    write_spec(path, INPUT "layers:\n" TAIL, strlen(INPUT "layers:\n" TAIL));
    d = (Diag){.file = path};
    ck_assert_msg(spec_load_file(path, &m, &d) == 0, "%s", d.msg);
    ck_assert_str_eq(m.name, "plain");
    model_free(&m);
    /* only the last extension goes: "v1.2" is no identifier */
    snprintf(path, sizeof path, "%s/v1.2.yaml", test_tmpdir());
    write_spec(path, INPUT "layers:\n" TAIL, strlen(INPUT "layers:\n" TAIL));
    d = (Diag){.file = "v1.2.yaml"};
    ck_assert_int_eq(spec_load_file(path, &m, &d), -1);
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
    ck_assert_msg(spec_load_file(path, &m, &d) == 0, "%s", d.msg);
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
    ck_assert_int_eq(spec_load_file("tests/no/such/dir/nowhere.yaml", &m, &d), -1);
    ck_assert_str_eq(d.msg, "nowhere.yaml: error: cannot open: No such file or directory");
    model_free(&m);
    d = (Diag){.file = "models"};
    ck_assert_int_eq(spec_load_file("models", &m, &d), -1);
    ck_assert_str_eq(d.msg, "models: error: not a regular file (a directory)");
    model_free(&m);
    /* a FIFO with no writer would block a plain open(): refused at once */
    snprintf(path, sizeof path, "%s/fifo.yaml", test_tmpdir());
    unlink(path);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    d = (Diag){.file = "fifo.yaml"};
    ck_assert_int_eq(spec_load_file(path, &m, &d), -1);
    ck_assert_str_eq(d.msg, "fifo.yaml: error: not a regular file (a FIFO)");
    model_free(&m);
    unlink(path);
    d = (Diag){.file = "/dev/zero"};
    ck_assert_int_eq(spec_load_file("/dev/zero", &m, &d), -1);
    ck_assert_str_eq(d.msg, "/dev/zero: error: not a regular file (a device)");
    model_free(&m);
    /* the caret line comes from the file's text */
    static const char bad[] = INPUT "layers:\n  - conv: {filtres: 6, kernel: 3}\n" TAIL;
    snprintf(path, sizeof path, "%s/bad.yaml", test_tmpdir());
    write_spec(path, bad, sizeof bad - 1);
    d = (Diag){.file = "bad.yaml"};
    ck_assert_int_eq(spec_load_file(path, &m, &d), -1);
    ck_assert_str_eq(d.msg, "bad.yaml:3:12: error: unknown key 'filtres' in conv layer "
                            "(expected name, filters, kernel, stride, padding)\n"
                            "      - conv: {filtres: 6, kernel: 3}\n"
                            "               ^");
    ck_assert_ptr_null(d.src);
    model_free(&m);
    /* a NUL in the file */
    static const char nul[] = INPUT "layers:\n" TAIL "# \0\n";
    snprintf(path, sizeof path, "%s/nul.yaml", test_tmpdir());
    write_spec(path, nul, sizeof nul - 1);
    d = (Diag){.file = "nul.yaml"};
    ck_assert_int_eq(spec_load_file(path, &m, &d), -1);
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
    ck_assert_int_eq(spec_load_file(path, &m, &d), -1);
    ck_assert_str_eq(d.msg, "huge.yaml: error: file is 1048577 bytes; the limit is 1048576");
    model_free(&m);
    remove(path);
}
END_TEST

/* ---- golden diagnostics ------------------------------------------------ */

typedef struct {
    const char *what;
    const char *text;
    const char *default_name; /* NULL: "net" */
    const char *msg;          /* the whole message, caret lines included */
} BadSpec;

/* Written from what lenetc prints, each read for position and wording. */
static const BadSpec bad_specs[] = {
    {"yaml syntax error",
     INPUT
     "layers:\n"
     "  - conv: filters: 6\n",
     NULL,
     "t.yaml:3:18: error: invalid YAML: mapping values are not allowed in this context\n"
     "      - conv: filters: 6\n"
     "                     ^"},
    {"bad indentation",
     INPUT
     " layers:\n"
     TAIL,
     NULL,
     "t.yaml:2:2: error: invalid YAML: did not find expected key while parsing a block mapping\n"
     "     layers:\n"
     "     ^"},
    {"duplicate key",
     "name: a\n"
     INPUT
     "name: b\n"
     "layers:\n"
     TAIL,
     NULL,
     "t.yaml:3:1: error: duplicate key 'name' (first at line 1)\n"
     "    name: b\n"
     "    ^"},
    {"duplicate key in a layer",
     INPUT
     "layers:\n"
     "  - conv: {filters: 6, kernel: 3, filters: 8}\n"
     TAIL,
     NULL,
     "t.yaml:3:35: error: duplicate key 'filters' (first at line 3)\n"
     "      - conv: {filters: 6, kernel: 3, filters: 8}\n"
     "                                      ^"},
    {"anchor",
     INPUT
     "layers: &l\n"
     TAIL,
     NULL,
     "t.yaml:2:9: error: YAML anchors and aliases are not supported in a spec\n"
     "    layers: &l\n"
     "            ^"},
    {"billion laughs",
     "a: &a [\"lol\", \"lol\", \"lol\"]\n"
     "b: &b [*a, *a, *a]\n"
     "c: [*b, *b, *b]\n",
     NULL,
     "t.yaml:1:4: error: YAML anchors and aliases are not supported in a spec\n"
     "    a: &a [\"lol\", \"lol\", \"lol\"]\n"
     "       ^"},
    {"alias without anchor",
     "name: *n\n"
     INPUT
     "layers:\n"
     TAIL,
     NULL,
     "t.yaml:1:7: error: YAML anchors and aliases are not supported in a spec\n"
     "    name: *n\n"
     "          ^"},
    {"tag !!str",
     INPUT
     "layers:\n"
     "  - !!str relu\n"
     TAIL,
     NULL,
     "t.yaml:3:5: error: YAML tags are not supported in a spec\n"
     "      - !!str relu\n"
     "        ^"},
    {"local tag",
     "input: !shape {shape: [28, 28, 1]}\n"
     "layers:\n"
     TAIL,
     NULL,
     "t.yaml:1:8: error: YAML tags are not supported in a spec\n"
     "    input: !shape {shape: [28, 28, 1]}\n"
     "           ^"},
    {"two documents",
     INPUT
     "layers:\n"
     TAIL
     "---\n"
     INPUT
     "layers:\n"
     TAIL,
     NULL,
     "t.yaml:5:1: error: a spec holds one YAML document, found a second\n"
     "    ---\n"
     "    ^"},
    {"complex key",
     "? [a]\n"
     ": b\n",
     NULL,
     "t.yaml:1:3: error: mapping keys must be plain scalars\n"
     "    ? [a]\n"
     "      ^"},
    {"deep nesting",
     "a: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
     NULL,
     "t.yaml:1:35: error: spec nested deeper than 32 levels\n"
     "    a: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n"
     "                                      ^"},
    {"empty file",
     "",
     NULL,
     "t.yaml: error: empty spec"},
    {"only comments",
     "# nothing here\n"
     "\n",
     NULL,
     "t.yaml: error: empty spec"},
    {"top level list",
     "- relu\n"
     "- flatten\n",
     NULL,
     "t.yaml:1:1: error: a spec must be a mapping, got a list\n"
     "    - relu\n"
     "    ^"},
    {"top level scalar",
     "lenet5\n",
     NULL,
     "t.yaml:1:1: error: a spec must be a mapping, got a scalar\n"
     "    lenet5\n"
     "    ^"},
    {"unknown top-level key",
     INPUT
     "layers:\n"
     TAIL
     "nmae: net\n",
     NULL,
     "t.yaml:5:1: error: unknown key 'nmae' in the spec (expected name, input, layers, train)\n"
     "    nmae: net\n"
     "    ^"},
    {"missing input",
     "layers:\n"
     TAIL,
     NULL,
     "t.yaml:1:1: error: missing required key 'input'\n"
     "    layers:\n"
     "    ^"},
    {"missing layers",
     INPUT,
     NULL,
     "t.yaml:1:1: error: missing required key 'layers'\n"
     "    input: {shape: [28, 28, 1]}\n"
     "    ^"},
    {"input not a mapping",
     "input: [28, 28, 1]\n"
     "layers:\n"
     TAIL,
     NULL,
     "t.yaml:1:8: error: input must be a mapping, got a list\n"
     "    input: [28, 28, 1]\n"
     "           ^"},
    {"input empty",
     "input:\n"
     "layers:\n"
     TAIL,
     NULL,
     "t.yaml:1:7: error: input must be a mapping, got nothing\n"
     "    input:\n"
     "          ^"},
    {"layers not a list",
     INPUT
     "layers: {conv: {filters: 6, kernel: 3}}\n",
     NULL,
     "t.yaml:2:9: error: layers must be a list, got a mapping\n"
     "    layers: {conv: {filters: 6, kernel: 3}}\n"
     "            ^"},
    {"layers a scalar",
     INPUT
     "layers: relu\n",
     NULL,
     "t.yaml:2:9: error: layers must be a list, got a scalar\n"
     "    layers: relu\n"
     "            ^"},
    {"layers empty",
     INPUT
     "layers: []\n",
     NULL,
     "t.yaml:2:9: error: layers is empty\n"
     "    layers: []\n"
     "            ^"},
    {"layers nothing",
     INPUT
     "layers:\n",
     NULL,
     "t.yaml:2:8: error: layers must be a list, got nothing\n"
     "    layers:\n"
     "           ^"},
    {"shape with 2 entries",
     "input: {shape: [28, 28]}\n"
     "layers:\n"
     TAIL,
     NULL,
     "t.yaml:1:16: error: shape must be a list [height, width, channels]\n"
     "    input: {shape: [28, 28]}\n"
     "                   ^"},
    {"shape not a list",
     "input: {shape: 28}\n"
     "layers:\n"
     TAIL,
     NULL,
     "t.yaml:1:16: error: shape must be a list [height, width, channels]\n"
     "    input: {shape: 28}\n"
     "                   ^"},
    {"shape with 0",
     "input: {shape: [28, 0, 1]}\n"
     "layers:\n"
     TAIL,
     NULL,
     "t.yaml:1:21: error: width must be between 1 and 4096, got 0\n"
     "    input: {shape: [28, 0, 1]}\n"
     "                        ^"},
    {"shape too big",
     "input: {shape: [28, 28, 5000]}\n"
     "layers:\n"
     TAIL,
     NULL,
     "t.yaml:1:25: error: channels must be between 1 and 4096, got 5000\n"
     "    input: {shape: [28, 28, 5000]}\n"
     "                            ^"},
    {"shape not integer",
     "input: {shape: [28, 28.0, 1]}\n"
     "layers:\n"
     TAIL,
     NULL,
     "t.yaml:1:21: error: width must be an integer, got '28.0'\n"
     "    input: {shape: [28, 28.0, 1]}\n"
     "                        ^"},
    {"missing shape",
     "input: {scale: [0, 1]}\n"
     "layers:\n"
     TAIL,
     NULL,
     "t.yaml:1:8: error: missing required key 'shape' in input\n"
     "    input: {scale: [0, 1]}\n"
     "           ^"},
    {"unknown input key",
     "input: {shape: [28, 28, 1], channels: 1}\n"
     "layers:\n"
     TAIL,
     NULL,
     "t.yaml:1:29: error: unknown key 'channels' in input (expected shape, scale, pad)\n"
     "    input: {shape: [28, 28, 1], channels: 1}\n"
     "                                ^"},
    {"scale reversed",
     "input: {shape: [28, 28, 1], scale: [1, -1]}\n"
     "layers:\n"
     TAIL,
     NULL,
     "t.yaml:1:36: error: scale: lo must be less than hi\n"
     "    input: {shape: [28, 28, 1], scale: [1, -1]}\n"
     "                                       ^"},
    {"scale equal",
     "input: {shape: [28, 28, 1], scale: [0, 0]}\n"
     "layers:\n"
     TAIL,
     NULL,
     "t.yaml:1:36: error: scale: lo must be less than hi\n"
     "    input: {shape: [28, 28, 1], scale: [0, 0]}\n"
     "                                       ^"},
    {"scale three entries",
     "input: {shape: [28, 28, 1], scale: [0, 1, 2]}\n"
     "layers:\n"
     TAIL,
     NULL,
     "t.yaml:1:36: error: scale must be a list of two numbers [lo, hi]\n"
     "    input: {shape: [28, 28, 1], scale: [0, 1, 2]}\n"
     "                                       ^"},
    {"scale scalar",
     "input: {shape: [28, 28, 1], scale: 1}\n"
     "layers:\n"
     TAIL,
     NULL,
     "t.yaml:1:36: error: scale must be a list of two numbers [lo, hi]\n"
     "    input: {shape: [28, 28, 1], scale: 1}\n"
     "                                       ^"},
    {"scale word",
     "input: {shape: [28, 28, 1], scale: [0, one]}\n"
     "layers:\n"
     TAIL,
     NULL,
     "t.yaml:1:40: error: scale must be a number, got 'one'\n"
     "    input: {shape: [28, 28, 1], scale: [0, one]}\n"
     "                                           ^"},
    {"scale huge",
     "input: {shape: [28, 28, 1], scale: [0, 1e7]}\n"
     "layers:\n"
     TAIL,
     NULL,
     "t.yaml:1:40: error: scale must be between -1000000 and 1000000, got 10000000\n"
     "    input: {shape: [28, 28, 1], scale: [0, 1e7]}\n"
     "                                           ^"},
    {"pad too big",
     "input: {shape: [28, 28, 1], pad: 65}\n"
     "layers:\n"
     TAIL,
     NULL,
     "t.yaml:1:34: error: pad must be between 0 and 64, got 65\n"
     "    input: {shape: [28, 28, 1], pad: 65}\n"
     "                                     ^"},
    {"pad negative",
     "input: {shape: [28, 28, 1], pad: -1}\n"
     "layers:\n"
     TAIL,
     NULL,
     "t.yaml:1:34: error: pad must be between 0 and 64, got -1\n"
     "    input: {shape: [28, 28, 1], pad: -1}\n"
     "                                     ^"},
    {"unknown layer kind",
     INPUT
     "layers:\n"
     "  - convolution: {filters: 6, kernel: 3}\n"
     TAIL,
     NULL,
     "t.yaml:3:5: error: unknown layer kind 'convolution' (expected conv, maxpool, avgpool, relu, flatten or dense)\n"
     "      - convolution: {filters: 6, kernel: 3}\n"
     "        ^"},
    {"unknown bare layer kind",
     INPUT
     "layers:\n"
     "  - softmax\n"
     TAIL,
     NULL,
     "t.yaml:3:5: error: unknown layer kind 'softmax' (expected conv, maxpool, avgpool, relu, flatten or dense)\n"
     "      - softmax\n"
     "        ^"},
    {"layer mapping with two keys",
     INPUT
     "layers:\n"
     "  - {conv: {filters: 6, kernel: 3}, relu: }\n"
     TAIL,
     NULL,
     "t.yaml:3:5: error: a layer is a mapping with one key, its kind (e.g. '- conv: {...}')\n"
     "      - {conv: {filters: 6, kernel: 3}, relu: }\n"
     "        ^"},
    {"layer is a list",
     INPUT
     "layers:\n"
     "  - [relu]\n"
     TAIL,
     NULL,
     "t.yaml:3:5: error: a layer must be a kind or a mapping, got a list\n"
     "      - [relu]\n"
     "        ^"},
    {"layer params a scalar",
     INPUT
     "layers:\n"
     "  - relu: 5\n"
     TAIL,
     NULL,
     "t.yaml:3:11: error: layer parameters must be a mapping, got a scalar\n"
     "      - relu: 5\n"
     "              ^"},
    {"layer params a list",
     INPUT
     "layers:\n"
     "  - maxpool: [2]\n"
     TAIL,
     NULL,
     "t.yaml:3:14: error: layer parameters must be a mapping, got a list\n"
     "      - maxpool: [2]\n"
     "                 ^"},
    {"conv unknown key",
     INPUT
     "layers:\n"
     "  - conv: {filtres: 6, kernel: 3}\n"
     TAIL,
     NULL,
     "t.yaml:3:12: error: unknown key 'filtres' in conv layer (expected name, filters, kernel, stride, padding)\n"
     "      - conv: {filtres: 6, kernel: 3}\n"
     "               ^"},
    {"conv without params",
     INPUT
     "layers:\n"
     "  - conv\n"
     TAIL,
     NULL,
     "t.yaml:3:5: error: conv needs filters and kernel\n"
     "      - conv\n"
     "        ^"},
    {"conv with empty params",
     INPUT
     "layers:\n"
     "  - conv:\n"
     TAIL,
     NULL,
     "t.yaml:3:5: error: conv needs filters and kernel\n"
     "      - conv:\n"
     "        ^"},
    {"conv missing filters",
     INPUT
     "layers:\n"
     "  - conv: {kernel: 3}\n"
     TAIL,
     NULL,
     "t.yaml:3:11: error: missing required key 'filters'\n"
     "      - conv: {kernel: 3}\n"
     "              ^"},
    {"conv missing kernel",
     INPUT
     "layers:\n"
     "  - conv: {filters: 6}\n"
     TAIL,
     NULL,
     "t.yaml:3:11: error: missing required key 'kernel'\n"
     "      - conv: {filters: 6}\n"
     "              ^"},
    {"filters 0",
     INPUT
     "layers:\n"
     "  - conv: {filters: 0, kernel: 3}\n"
     TAIL,
     NULL,
     "t.yaml:3:21: error: filters must be between 1 and 4096, got 0\n"
     "      - conv: {filters: 0, kernel: 3}\n"
     "                        ^"},
    {"filters too many",
     INPUT
     "layers:\n"
     "  - conv: {filters: 4097, kernel: 3}\n"
     TAIL,
     NULL,
     "t.yaml:3:21: error: filters must be between 1 and 4096, got 4097\n"
     "      - conv: {filters: 4097, kernel: 3}\n"
     "                        ^"},
    {"negative kernel",
     INPUT
     "layers:\n"
     "  - conv: {filters: 6, kernel: -3}\n"
     TAIL,
     NULL,
     "t.yaml:3:32: error: kernel must be between 1 and 64, got -3\n"
     "      - conv: {filters: 6, kernel: -3}\n"
     "                                   ^"},
    {"filters 6.5",
     INPUT
     "layers:\n"
     "  - conv: {filters: 6.5, kernel: 3}\n"
     TAIL,
     NULL,
     "t.yaml:3:21: error: filters must be an integer, got '6.5'\n"
     "      - conv: {filters: 6.5, kernel: 3}\n"
     "                        ^"},
    {"filters six",
     INPUT
     "layers:\n"
     "  - conv: {filters: six, kernel: 3}\n"
     TAIL,
     NULL,
     "t.yaml:3:21: error: filters must be an integer, got 'six'\n"
     "      - conv: {filters: six, kernel: 3}\n"
     "                        ^"},
    {"filters quoted",
     INPUT
     "layers:\n"
     "  - conv: {filters: \"6\", kernel: 3}\n"
     TAIL,
     NULL,
     "t.yaml:3:21: error: filters must be an integer, got the quoted string '6' (drop the quotes)\n"
     "      - conv: {filters: \"6\", kernel: 3}\n"
     "                        ^"},
    {"filters a list",
     INPUT
     "layers:\n"
     "  - conv: {filters: [6], kernel: 3}\n"
     TAIL,
     NULL,
     "t.yaml:3:21: error: filters must be an integer, got a list\n"
     "      - conv: {filters: [6], kernel: 3}\n"
     "                        ^"},
    {"filters nothing",
     INPUT
     "layers:\n"
     "  - conv: {filters: , kernel: 3}\n"
     TAIL,
     NULL,
     "t.yaml:3:21: error: filters must be an integer, got nothing\n"
     "      - conv: {filters: , kernel: 3}\n"
     "                        ^"},
    {"filters overflow",
     INPUT
     "layers:\n"
     "  - conv: {filters: 99999999999999999999, kernel: 3}\n"
     TAIL,
     NULL,
     "t.yaml:3:21: error: filters is out of range: 99999999999999999999\n"
     "      - conv: {filters: 99999999999999999999, kernel: 3}\n"
     "                        ^"},
    {"filters beyond int",
     INPUT
     "layers:\n"
     "  - conv: {filters: 9999999999, kernel: 3}\n"
     TAIL,
     NULL,
     "t.yaml:3:21: error: filters must be between 1 and 4096, got 9999999999\n"
     "      - conv: {filters: 9999999999, kernel: 3}\n"
     "                        ^"},
    {"stride 0",
     INPUT
     "layers:\n"
     "  - conv: {filters: 6, kernel: 3, stride: 0}\n"
     TAIL,
     NULL,
     "t.yaml:3:43: error: stride must be between 1 and 64, got 0\n"
     "      - conv: {filters: 6, kernel: 3, stride: 0}\n"
     "                                              ^"},
    {"kernel larger than input",
     INPUT
     "layers:\n"
     "  - conv: {filters: 6, kernel: 29}\n"
     TAIL,
     NULL,
     "t.yaml:3:5: error: conv1: kernel 29x29 is larger than its 28x28 input (padding 0)\n"
     "      - conv: {filters: 6, kernel: 29}\n"
     "        ^"},
    {"kernel larger than padded input",
     INPUT
     "layers:\n"
     "  - conv: {filters: 6, kernel: 33, padding: 2}\n"
     TAIL,
     NULL,
     "t.yaml:3:5: error: conv1: kernel 33x33 is larger than its 28x28 input (padding 2)\n"
     "      - conv: {filters: 6, kernel: 33, padding: 2}\n"
     "        ^"},
    {"bad padding word",
     INPUT
     "layers:\n"
     "  - conv: {filters: 6, kernel: 3, padding: full}\n"
     TAIL,
     NULL,
     "t.yaml:3:44: error: padding must be valid, same or a number of pixels\n"
     "      - conv: {filters: 6, kernel: 3, padding: full}\n"
     "                                               ^"},
    {"negative padding",
     INPUT
     "layers:\n"
     "  - conv: {filters: 6, kernel: 3, padding: -1}\n"
     TAIL,
     NULL,
     "t.yaml:3:44: error: padding must be valid, same or a number of pixels\n"
     "      - conv: {filters: 6, kernel: 3, padding: -1}\n"
     "                                               ^"},
    {"padding too big",
     INPUT
     "layers:\n"
     "  - conv: {filters: 6, kernel: 3, padding: 65}\n"
     TAIL,
     NULL,
     "t.yaml:3:44: error: padding must be between 0 and 64, got 65\n"
     "      - conv: {filters: 6, kernel: 3, padding: 65}\n"
     "                                               ^"},
    {"padding 3x",
     INPUT
     "layers:\n"
     "  - conv: {filters: 6, kernel: 3, padding: 3x}\n"
     TAIL,
     NULL,
     "t.yaml:3:44: error: padding must be an integer, got '3x'\n"
     "      - conv: {filters: 6, kernel: 3, padding: 3x}\n"
     "                                               ^"},
    {"padding a list",
     INPUT
     "layers:\n"
     "  - conv: {filters: 6, kernel: 3, padding: [1, 1]}\n"
     TAIL,
     NULL,
     "t.yaml:3:44: error: padding must be valid, same or a number of pixels\n"
     "      - conv: {filters: 6, kernel: 3, padding: [1, 1]}\n"
     "                                               ^"},
    {"conv after flatten",
     INPUT
     "layers:\n"
     "  - flatten\n"
     "  - conv: {filters: 6, kernel: 3}\n"
     TAIL,
     NULL,
     "t.yaml:4:5: error: conv1: conv needs a height x width x channels input, but gets a vector of 784 values\n"
     "      - conv: {filters: 6, kernel: 3}\n"
     "        ^"},
    {"pool without size",
     INPUT
     "layers:\n"
     "  - maxpool\n"
     TAIL,
     NULL,
     "t.yaml:3:5: error: maxpool needs a size\n"
     "      - maxpool\n"
     "        ^"},
    {"pool unknown key",
     INPUT
     "layers:\n"
     "  - avgpool: {size: 2, padding: same}\n"
     TAIL,
     NULL,
     "t.yaml:3:24: error: unknown key 'padding' in avgpool layer (expected name, size, stride)\n"
     "      - avgpool: {size: 2, padding: same}\n"
     "                           ^"},
    {"pool window larger than input",
     INPUT
     "layers:\n"
     "  - maxpool: {size: 29}\n"
     TAIL,
     NULL,
     "t.yaml:3:5: error: pool1: window 29x29 is larger than its 28x28 input\n"
     "      - maxpool: {size: 29}\n"
     "        ^"},
    {"pool stride 0",
     INPUT
     "layers:\n"
     "  - avgpool: {size: 2, stride: 0}\n"
     TAIL,
     NULL,
     "t.yaml:3:32: error: stride must be between 1 and 64, got 0\n"
     "      - avgpool: {size: 2, stride: 0}\n"
     "                                   ^"},
    {"pool after flatten",
     INPUT
     "layers:\n"
     "  - flatten\n"
     "  - maxpool: {size: 2}\n"
     TAIL,
     NULL,
     "t.yaml:4:5: error: pool1: maxpool needs a height x width x channels input, but gets a vector of 784 values\n"
     "      - maxpool: {size: 2}\n"
     "        ^"},
    {"relu unknown key",
     INPUT
     "layers:\n"
     "  - relu: {alpha: 0.1}\n"
     TAIL,
     NULL,
     "t.yaml:3:12: error: unknown key 'alpha' in relu layer (expected name)\n"
     "      - relu: {alpha: 0.1}\n"
     "               ^"},
    {"flatten unknown key",
     INPUT
     "layers:\n"
     "  - flatten: {start_dim: 1}\n"
     TAIL,
     NULL,
     "t.yaml:3:15: error: unknown key 'start_dim' in flatten layer (expected name)\n"
     "      - flatten: {start_dim: 1}\n"
     "                  ^"},
    {"dense without units",
     INPUT
     "layers:\n"
     "  - flatten\n"
     "  - dense\n",
     NULL,
     "t.yaml:4:5: error: dense needs units\n"
     "      - dense\n"
     "        ^"},
    {"dense units 0",
     INPUT
     "layers:\n"
     "  - flatten\n"
     "  - dense: {units: 0}\n",
     NULL,
     "t.yaml:4:20: error: units must be between 1 and 65536, got 0\n"
     "      - dense: {units: 0}\n"
     "                       ^"},
    {"dense directly after conv",
     INPUT
     "layers:\n"
     "  - conv: {filters: 6, kernel: 3}\n"
     "  - dense: {units: 10}\n",
     NULL,
     "t.yaml:4:5: error: dense1: dense needs a vector, but gets 26x26x6: add a flatten layer before it\n"
     "      - dense: {units: 10}\n"
     "        ^"},
    {"dense directly after input",
     INPUT
     "layers:\n"
     "  - dense: {units: 10}\n",
     NULL,
     "t.yaml:3:5: error: dense1: dense needs a vector, but gets 28x28x1: add a flatten layer before it\n"
     "      - dense: {units: 10}\n"
     "        ^"},
    {"bad activation",
     INPUT
     "layers:\n"
     "  - flatten\n"
     "  - dense: {units: 10, activation: sigmoid}\n",
     NULL,
     "t.yaml:4:36: error: activation must be one of none, relu, got 'sigmoid'\n"
     "      - dense: {units: 10, activation: sigmoid}\n"
     "                                       ^"},
    {"activation a list",
     INPUT
     "layers:\n"
     "  - flatten\n"
     "  - dense: {units: 10, activation: [relu]}\n",
     NULL,
     "t.yaml:4:36: error: activation must be one of none, relu, got a list\n"
     "      - dense: {units: 10, activation: [relu]}\n"
     "                                       ^"},
    {"last layer with 1 unit",
     INPUT
     "layers:\n"
     "  - flatten\n"
     "  - dense: {units: 1}\n",
     NULL,
     "t.yaml:4:5: error: the last layer gives 1 class score; at least 2 are needed\n"
     "      - dense: {units: 1}\n"
     "        ^"},
    {"no parameters",
     INPUT
     "layers:\n"
     "  - maxpool: {size: 2}\n"
     "  - flatten\n",
     NULL,
     "t.yaml:4:5: error: the model has no trainable parameters\n"
     "      - flatten\n"
     "        ^"},
    {"tensor too big",
     "input: {shape: [4096, 4096, 4]}\n"
     "layers:\n"
     TAIL,
     NULL,
     "t.yaml:4:5: error: dense1: tensor exceeds the limit of 67108864 values\n"
     "      - dense: {units: 10}\n"
     "        ^"},
    {"train not a mapping",
     INPUT
     "layers:\n"
     TAIL
     "train: [adam]\n",
     NULL,
     "t.yaml:5:8: error: train must be a mapping, got a list\n"
     "    train: [adam]\n"
     "           ^"},
    {"unknown train key",
     INPUT
     "layers:\n"
     TAIL
     "train: {optimiser: adam}\n",
     NULL,
     "t.yaml:5:9: error: unknown key 'optimiser' in train (expected loss, optimizer, batch, epochs, seed, init)\n"
     "    train: {optimiser: adam}\n"
     "            ^"},
    {"bad loss",
     INPUT
     "layers:\n"
     TAIL
     "train: {loss: mse}\n",
     NULL,
     "t.yaml:5:15: error: loss must be one of softmax_cross_entropy, got 'mse'\n"
     "    train: {loss: mse}\n"
     "                  ^"},
    {"bad init",
     INPUT
     "layers:\n"
     TAIL
     "train: {init: he_normal}\n",
     NULL,
     "t.yaml:5:15: error: init must be one of glorot_uniform, got 'he_normal'\n"
     "    train: {init: he_normal}\n"
     "                  ^"},
    {"bad optimizer name",
     INPUT
     "layers:\n"
     TAIL
     "train: {optimizer: adamw}\n",
     NULL,
     "t.yaml:5:20: error: optimizer must be adam or sgd, got 'adamw'\n"
     "    train: {optimizer: adamw}\n"
     "                       ^"},
    {"optimizer a list",
     INPUT
     "layers:\n"
     TAIL
     "train: {optimizer: [adam]}\n",
     NULL,
     "t.yaml:5:20: error: optimizer must be adam or sgd, got a list\n"
     "    train: {optimizer: [adam]}\n"
     "                       ^"},
    {"optimizer without name",
     INPUT
     "layers:\n"
     TAIL
     "train: {optimizer: {lr: 0.1}}\n",
     NULL,
     "t.yaml:5:20: error: missing required key 'name' in optimizer\n"
     "    train: {optimizer: {lr: 0.1}}\n"
     "                       ^"},
    {"optimizer bad name in mapping",
     INPUT
     "layers:\n"
     TAIL
     "train: {optimizer: {name: rmsprop}}\n",
     NULL,
     "t.yaml:5:27: error: optimizer must be adam or sgd, got 'rmsprop'\n"
     "    train: {optimizer: {name: rmsprop}}\n"
     "                              ^"},
    {"unknown adam key",
     INPUT
     "layers:\n"
     TAIL
     "train: {optimizer: {name: adam, momentum: 0.9}}\n",
     NULL,
     "t.yaml:5:33: error: unknown key 'momentum' in adam optimizer (expected name, lr, beta1, beta2, eps)\n"
     "    train: {optimizer: {name: adam, momentum: 0.9}}\n"
     "                                    ^"},
    {"adam key on sgd",
     INPUT
     "layers:\n"
     TAIL
     "train: {optimizer: {name: sgd, beta1: 0.9}}\n",
     NULL,
     "t.yaml:5:32: error: unknown key 'beta1' in sgd optimizer (expected name, lr)\n"
     "    train: {optimizer: {name: sgd, beta1: 0.9}}\n"
     "                                   ^"},
    {"lr not a number",
     INPUT
     "layers:\n"
     TAIL
     "train: {optimizer: {name: adam, lr: fast}}\n",
     NULL,
     "t.yaml:5:37: error: lr must be a number, got 'fast'\n"
     "    train: {optimizer: {name: adam, lr: fast}}\n"
     "                                        ^"},
    {"lr quoted",
     INPUT
     "layers:\n"
     TAIL
     "train: {optimizer: {name: adam, lr: \"0.1\"}}\n",
     NULL,
     "t.yaml:5:37: error: lr must be a number, got the quoted string '0.1' (drop the quotes)\n"
     "    train: {optimizer: {name: adam, lr: \"0.1\"}}\n"
     "                                        ^"},
    {"lr a list",
     INPUT
     "layers:\n"
     TAIL
     "train: {optimizer: {name: adam, lr: [0.1]}}\n",
     NULL,
     "t.yaml:5:37: error: lr must be a number, got a list\n"
     "    train: {optimizer: {name: adam, lr: [0.1]}}\n"
     "                                        ^"},
    {"lr 0",
     INPUT
     "layers:\n"
     TAIL
     "train: {optimizer: {name: adam, lr: 0}}\n",
     NULL,
     "t.yaml:5:37: error: lr must be between 1e-12 and 1000, got 0\n"
     "    train: {optimizer: {name: adam, lr: 0}}\n"
     "                                        ^"},
    {"lr negative",
     INPUT
     "layers:\n"
     TAIL
     "train: {optimizer: {name: sgd, lr: -0.1}}\n",
     NULL,
     "t.yaml:5:36: error: lr must be between 1e-12 and 1000, got -0.1\n"
     "    train: {optimizer: {name: sgd, lr: -0.1}}\n"
     "                                       ^"},
    {"lr too big",
     INPUT
     "layers:\n"
     TAIL
     "train: {optimizer: {name: sgd, lr: 1e4}}\n",
     NULL,
     "t.yaml:5:36: error: lr must be between 1e-12 and 1000, got 10000\n"
     "    train: {optimizer: {name: sgd, lr: 1e4}}\n"
     "                                       ^"},
    {"lr nan",
     INPUT
     "layers:\n"
     TAIL
     "train: {optimizer: {name: adam, lr: .nan}}\n",
     NULL,
     "t.yaml:5:37: error: lr must be a number, got '.nan'\n"
     "    train: {optimizer: {name: adam, lr: .nan}}\n"
     "                                        ^"},
    {"lr inf",
     INPUT
     "layers:\n"
     TAIL
     "train: {optimizer: {name: adam, lr: inf}}\n",
     NULL,
     "t.yaml:5:37: error: lr must be a number, got 'inf'\n"
     "    train: {optimizer: {name: adam, lr: inf}}\n"
     "                                        ^"},
    {"lr hex",
     INPUT
     "layers:\n"
     TAIL
     "train: {optimizer: {name: adam, lr: 0x1p-4}}\n",
     NULL,
     "t.yaml:5:37: error: lr must be a number, got '0x1p-4'\n"
     "    train: {optimizer: {name: adam, lr: 0x1p-4}}\n"
     "                                        ^"},
    {"beta1 1",
     INPUT
     "layers:\n"
     TAIL
     "train: {optimizer: {name: adam, beta1: 1}}\n",
     NULL,
     "t.yaml:5:40: error: beta1 must be between 0 and 0.999999, got 1\n"
     "    train: {optimizer: {name: adam, beta1: 1}}\n"
     "                                           ^"},
    {"beta2 rounds to 1 as float",
     INPUT
     "layers:\n"
     TAIL
     "train: {optimizer: {name: adam, beta2: 0.99999999}}\n",
     NULL,
     "t.yaml:5:40: error: beta2 must be between 0 and 0.9999999, got 0.99999999\n"
     "    train: {optimizer: {name: adam, beta2: 0.99999999}}\n"
     "                                           ^"},
    {"eps 0",
     INPUT
     "layers:\n"
     TAIL
     "train: {optimizer: {name: adam, eps: 0}}\n",
     NULL,
     "t.yaml:5:38: error: eps must be between 1e-30 and 1, got 0\n"
     "    train: {optimizer: {name: adam, eps: 0}}\n"
     "                                         ^"},
    {"batch 0",
     INPUT
     "layers:\n"
     TAIL
     "train: {batch: 0}\n",
     NULL,
     "t.yaml:5:16: error: batch must be between 1 and 65536, got 0\n"
     "    train: {batch: 0}\n"
     "                   ^"},
    {"epochs word",
     INPUT
     "layers:\n"
     TAIL
     "train: {epochs: two}\n",
     NULL,
     "t.yaml:5:17: error: epochs must be an integer, got 'two'\n"
     "    train: {epochs: two}\n"
     "                    ^"},
    {"seed negative",
     INPUT
     "layers:\n"
     TAIL
     "train: {seed: -1}\n",
     NULL,
     "t.yaml:5:15: error: seed must be between 0 and 2147483647, got -1\n"
     "    train: {seed: -1}\n"
     "                  ^"},
    {"seed too big",
     INPUT
     "layers:\n"
     TAIL
     "train: {seed: 2147483648}\n",
     NULL,
     "t.yaml:5:15: error: seed must be between 0 and 2147483647, got 2147483648\n"
     "    train: {seed: 2147483648}\n"
     "                  ^"},
    {"layer name with code",
     INPUT
     "layers:\n"
     "  - relu: {name: x; system(\"id\"); //}\n"
     TAIL,
     NULL,
     "t.yaml:3:18: error: name 'x; system(\"id\"); //' may hold only letters, digits and '_' (names must match [A-Za-z_][A-Za-z0-9_]*)\n"
     "      - relu: {name: x; system(\"id\"); //}\n"
     "                     ^"},
    {"layer name quoted code",
     INPUT
     "layers:\n"
     "  - relu: {name: 'x; system(\"id\"); //'}\n"
     TAIL,
     NULL,
     "t.yaml:3:18: error: name 'x; system(\"id\"); //' may hold only letters, digits and '_' (names must match [A-Za-z_][A-Za-z0-9_]*)\n"
     "      - relu: {name: 'x; system(\"id\"); //'}\n"
     "                     ^"},
    {"layer name closing a comment",
     INPUT
     "layers:\n"
     "  - relu: {name: \"a*/b\"}\n"
     TAIL,
     NULL,
     "t.yaml:3:18: error: name 'a*/b' may hold only letters, digits and '_' (names must match [A-Za-z_][A-Za-z0-9_]*)\n"
     "      - relu: {name: \"a*/b\"}\n"
     "                     ^"},
    {"layer name with a newline",
     INPUT
     "layers:\n"
     "  - relu: {name: \"a\\nb\"}\n"
     TAIL,
     NULL,
     "t.yaml:3:18: error: name 'a?b' may hold only letters, digits and '_' (names must match [A-Za-z_][A-Za-z0-9_]*)\n"
     "      - relu: {name: \"a\\nb\"}\n"
     "                     ^"},
    {"layer name with control bytes",
     INPUT
     "layers:\n"
     "  - relu: {name: \"\\x01\\x1b[2J\"}\n"
     TAIL,
     NULL,
     "t.yaml:3:18: error: name '?\?[2J' must start with a letter or '_' (names must match [A-Za-z_][A-Za-z0-9_]*)\n"
     "      - relu: {name: \"\\x01\\x1b[2J\"}\n"
     "                     ^"},
    {"layer name non-ascii",
     INPUT
     "layers:\n"
     "  - relu: {name: caf\303\251}\n"
     TAIL,
     NULL,
     "t.yaml:3:18: error: name 'caf?\?' may hold only letters, digits and '_' (names must match [A-Za-z_][A-Za-z0-9_]*)\n"
     "      - relu: {name: caf\303\251}\n"
     "                     ^"},
    {"layer name a C keyword",
     INPUT
     "layers:\n"
     "  - relu: {name: int}\n"
     TAIL,
     NULL,
     "t.yaml:3:18: error: name 'int' is a C keyword\n"
     "      - relu: {name: int}\n"
     "                     ^"},
    {"layer name reserved prefix",
     INPUT
     "layers:\n"
     "  - relu: {name: lenet_x}\n"
     TAIL,
     NULL,
     "t.yaml:3:18: error: name 'lenet_x' uses the reserved prefix 'lenet_'\n"
     "      - relu: {name: lenet_x}\n"
     "                     ^"},
    {"layer name 64 chars",
     INPUT
     "layers:\n"
     "  - relu: {name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}\n"
     TAIL,
     NULL,
     "t.yaml:3:18: error: name 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' is longer than 63 characters\n"
     "      - relu: {name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}\n"
     "                     ^"},
    {"layer name starts with a digit",
     INPUT
     "layers:\n"
     "  - relu: {name: 1st}\n"
     TAIL,
     NULL,
     "t.yaml:3:18: error: name '1st' must start with a letter or '_' (names must match [A-Za-z_][A-Za-z0-9_]*)\n"
     "      - relu: {name: 1st}\n"
     "                     ^"},
    {"layer name empty",
     INPUT
     "layers:\n"
     "  - relu: {name: \"\"}\n"
     TAIL,
     NULL,
     "t.yaml:3:18: error: name '' is empty\n"
     "      - relu: {name: \"\"}\n"
     "                     ^"},
    {"layer name a list",
     INPUT
     "layers:\n"
     "  - relu: {name: [a]}\n"
     TAIL,
     NULL,
     "t.yaml:3:18: error: name must be a scalar, got a list\n"
     "      - relu: {name: [a]}\n"
     "                     ^"},
    {"duplicate explicit names",
     INPUT
     "layers:\n"
     "  - relu: {name: act}\n"
     "  - relu: {name: act}\n"
     TAIL,
     NULL,
     "t.yaml:4:18: error: layer name 'act' is already used by the layer at line 3\n"
     "      - relu: {name: act}\n"
     "                     ^"},
    {"explicit name takes a later default",
     INPUT
     "layers:\n"
     "  - flatten: {name: dense1}\n"
     "  - dense: {units: 10}\n",
     NULL,
     "t.yaml:4:5: error: this layer's default name 'dense1' is already used by the layer at line 3\n"
     "      - dense: {units: 10}\n"
     "        ^"},
    {"explicit name repeats an earlier default",
     INPUT
     "layers:\n"
     "  - flatten\n"
     "  - dense: {units: 10, name: flatten1}\n",
     NULL,
     "t.yaml:4:30: error: layer name 'flatten1' is already used by the layer at line 3\n"
     "      - dense: {units: 10, name: flatten1}\n"
     "                                 ^"},
    {"layer named like the model",
     "name: net\n"
     INPUT
     "layers:\n"
     "  - relu: {name: net}\n"
     TAIL,
     NULL,
     "t.yaml:4:18: error: layer name 'net' is the model's name\n"
     "      - relu: {name: net}\n"
     "                     ^"},
    {"default layer name is the model name",
     "name: dense1\n"
     INPUT
     "layers:\n"
     TAIL,
     NULL,
     "t.yaml:5:5: error: this layer's default name 'dense1' is the model's name\n"
     "      - dense: {units: 10}\n"
     "        ^"},
    {"model name invalid",
     "name: my-net\n"
     INPUT
     "layers:\n"
     TAIL,
     NULL,
     "t.yaml:1:7: error: name 'my-net' may hold only letters, digits and '_' (names must match [A-Za-z_][A-Za-z0-9_]*)\n"
     "    name: my-net\n"
     "          ^"},
    {"model name a keyword",
     "name: float\n"
     INPUT
     "layers:\n"
     TAIL,
     NULL,
     "t.yaml:1:7: error: name 'float' is a C keyword\n"
     "    name: float\n"
     "          ^"},
    {"model name empty",
     "name:\n"
     INPUT
     "layers:\n"
     TAIL,
     NULL,
     "t.yaml:1:6: error: name '' is empty\n"
     "    name:\n"
     "         ^"},
    {"model name a mapping",
     "name: {a: 1}\n"
     INPUT
     "layers:\n"
     TAIL,
     NULL,
     "t.yaml:1:7: error: name must be a scalar, got a mapping\n"
     "    name: {a: 1}\n"
     "          ^"},
    {"default name not an identifier",
     INPUT
     "layers:\n"
     TAIL,
     "9net",
     "t.yaml:1:1: error: model name '9net' (taken from the file name) must start with a letter or '_' (names must match [A-Za-z_][A-Za-z0-9_]*); add a 'name:' key\n"
     "    input: {shape: [28, 28, 1]}\n"
     "    ^"},
    {"default name with a dash",
     INPUT
     "layers:\n"
     TAIL,
     "my-net",
     "t.yaml:1:1: error: model name 'my-net' (taken from the file name) may hold only letters, digits and '_' (names must match [A-Za-z_][A-Za-z0-9_]*); add a 'name:' key\n"
     "    input: {shape: [28, 28, 1]}\n"
     "    ^"},
    {"default name empty",
     INPUT
     "layers:\n"
     TAIL,
     "",
     "t.yaml:1:1: error: model name '' (taken from the file name) is empty; add a 'name:' key\n"
     "    input: {shape: [28, 28, 1]}\n"
     "    ^"},
    {"default name with a newline",
     INPUT
     "layers:\n"
     TAIL,
     "a\nb",
     "t.yaml:1:1: error: model name 'a?b' (taken from the file name) may hold only letters, digits and '_' (names must match [A-Za-z_][A-Za-z0-9_]*); add a 'name:' key\n"
     "    input: {shape: [28, 28, 1]}\n"
     "    ^"},
    {"non-UTF-8 byte", /* reported, but the line is not echoed */
     "name: a\xff" "b\n" INPUT "layers:\n" TAIL,
     NULL,
     "t.yaml:1:8: error: invalid YAML: invalid leading UTF-8 octet"},
    {"terminal escape in a key", /* nor is a line with control bytes */
     INPUT "layers:\n  - conv: {filters: 6, kernel: 3, \x1b[31mred: 1}\n" TAIL,
     NULL,
     "t.yaml:3:35: error: invalid YAML: control characters are not allowed"},
    {"tab indentation",
     INPUT
     "layers:\n"
     "\t- relu\n"
     TAIL,
     NULL,
     "t.yaml:3:1: error: invalid YAML: a tab; YAML indents with spaces only\n"
     "    \t- relu\n"
     "    ^"},
    {"last layer not flat",
     INPUT
     "layers:\n"
     "  - conv: {filters: 6, kernel: 3}\n",
     NULL,
     "t.yaml:3:5: error: the last layer must give a vector of class scores (logits), but conv1 gives 26x26x6: end with flatten and dense\n"
     "      - conv: {filters: 6, kernel: 3}\n"
     "        ^"},
};

START_TEST(bad_spec) {
    const BadSpec *b = &bad_specs[_i];
    Model m;
    Diag d;
    int rc = parse(b->text, b->default_name ? b->default_name : "net", &m, &d);
    model_free(&m);
    ck_assert_msg(rc == -1, "%s: the spec was accepted", b->what);
    ck_assert(d.failed);
    ck_assert_msg(strcmp(d.msg, b->msg) == 0, "%s:\n--- expected:\n%s\n--- got:\n%s", b->what,
                  b->msg, d.msg);
}
END_TEST

/* Diagnostics known to be weak, pinned only as far as they are right (the
 * start of the first line); the comment says what a good one would do. */
static const BadSpec weak_specs[] = {
    /* has no position: it should point at input's shape */
    {"input too big",
     "input: {shape: [4096, 4096, 8]}\n"
     "layers:\n"
     TAIL,
     NULL,
     "t.yaml: error: input of 134217728 values exceeds the limit of 67108864"},
    /* points at the next line ('layers:'); the '{' opened at 1:8 (libyaml's context_mark) is the place */
    {"unclosed flow mapping",
     "input: {shape: [28, 28, 1]\n"
     "layers:\n"
     TAIL,
     NULL,
     "t.yaml:2:1: error: invalid YAML: did not find expected ',' or '}'"},
    /* points past the end of the file, so no source line is shown; the '{' at 3:11 is the place */
    {"unclosed flow mapping at the end",
     INPUT
     "layers:\n"
     "  - conv: {filters: 6, kernel: 3\n",
     NULL,
     "t.yaml:4:1: error: invalid YAML: did not find expected ',' or '}'"},
    /* points past the end of the file; the quote opened at 1:7 is the place */
    {"unclosed quote",
     "name: \"lenet\n"
     INPUT
     "layers:\n"
     TAIL,
     NULL,
     "t.yaml:6:1: error: invalid YAML: found unexpected end of stream while scanning a quoted scalar"},
};

START_TEST(weak_spec) {
    const BadSpec *b = &weak_specs[_i];
    Model m;
    Diag d;
    int rc = parse(b->text, b->default_name ? b->default_name : "net", &m, &d);
    model_free(&m);
    ck_assert_msg(rc == -1, "%s: the spec was accepted", b->what);
    ck_assert_msg(strncmp(d.msg, b->msg, strlen(b->msg)) == 0,
                  "%s:\n--- expected to start with:\n%s\n--- got:\n%s", b->what, b->msg, d.msg);
}
END_TEST

#define N_OF(a) (int)(sizeof a / sizeof a[0])

Suite *spec_suite(void) {
    Suite *s = suite_create("spec");
    TCase *t = tcase_create("valid");
    tcase_add_test(t, lenet5_model);
    tcase_add_test(t, lenet5_classic_model);
    tcase_add_test(t, defaults);
    tcase_add_test(t, input_options);
    tcase_add_test(t, conv_padding_same);
    tcase_add_test(t, conv_padding_explicit);
    tcase_add_test(t, pooling);
    tcase_add_test(t, dense_activation);
    tcase_add_test(t, layer_names);
    tcase_add_test(t, model_name);
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
    tcase_add_loop_test(t, bad_spec, 0, N_OF(bad_specs));
    tcase_add_loop_test(t, weak_spec, 0, N_OF(weak_specs));
    suite_add_tcase(s, t);
    return s;
}
