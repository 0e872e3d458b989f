/* main.c: the lenetc command line.
 *
 *   lenetc summary SPEC.yaml [--json]      Keras-style table of layers
 *   lenetc SPEC.yaml -o DIR [--style S]    write DIR/NAME.c, NAME.h, Makefile
 *   lenetc train SPEC.yaml [options]       JIT-compile with libtcc and train
 *   lenetc eval SPEC.yaml --weights W      JIT-compile, test the weights
 *   lenetc onnx SPEC.yaml --weights W -o F  the trained model as ONNX (onnx_export.c)
 *
 * Every command runs the same pipeline, one call per pass:
 *
 *   front_end       read_file (files.c) -> ytree_parse (yaml.c) -> spec_build
 *                   (spec.c: the IR) -> model_infer (shape.c: every shape)
 *   emit_check_size refuse code that would be too big, before writing any
 *   emit_*          the C: emit.c around each layer's pass, lowered to
 *                   operations (lower.c, the kind's lower) and rendered in
 *                   the code style (render*.c), or, for a kind that does not
 *                   lower yet, its own code (layer_*.c)
 *   then            jit_compile (jit.c, libtcc) and the runtime's trainer,
 *                   evaluator or predictor; or write_file_atomic (files.c)
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lenetc.h"
#include "onnx.h"
#include "onnx_import.h"

static const char *usage_text =
    "usage: lenetc summary SPEC.yaml [--json]\n"
    "       lenetc SPEC.yaml -o DIR [--target T] [--style kernels|loops|unrolled] [--tile N]\n"
    "       lenetc SPEC.yaml --weights W.safetensors --inference [--prepare P] -o DIR\n"
    "       lenetc SPEC.yaml --weights W.safetensors --inference --int8 [--calibrate N]\n"
    "              [--data DIR] [--prepare P] -o DIR\n"
    "       lenetc train SPEC.yaml [--target T] [--style S] [--tile N] [trainer options]\n"
    "       lenetc eval SPEC.yaml --weights W.safetensors [--target T] [--data DIR] [--threads N]\n"
    "       lenetc predict SPEC.yaml --weights W.safetensors [--target T] [--prepare P] [--json] IMAGE...\n"
    "       lenetc onnx SPEC.yaml --weights W.safetensors -o FILE.onnx\n"
    "       lenetc import FILE.onnx [--scale LO HI] -o DIR\n"
    "       lenetc targets\n"
    "       lenetc --version\n"
    "\n"
    "Compiles a YAML layer stack into C for its forward and backward passes.\n"
    "\n"
    "  summary       print the layers, output shapes and parameter counts;\n"
    "                --json: the same as JSON, with every tensor and each layer's\n"
    "                torch.nn modules (what tools/lenetc_torch.py reads)\n"
    "  -o DIR        write DIR/NAME.c, DIR/NAME.h and DIR/Makefile; `make -C DIR`\n"
    "                builds DIR/NAME-train against the lenetc runtime: this\n"
    "                source tree's by its absolute path, an installed lenetc's\n"
    "                by its prefix, or --runtime DIR's\n"
    "  --inference   with --weights: write DIR/NAME.c and DIR/NAME.h, the trained\n"
    "                model as standalone C99 (forward pass, weights compiled in):\n"
    "                int NAME_predict(const uint8_t image[], float probs[]) and\n"
    "                NAME_prepare, which makes an image the input as predict does;\n"
    "                --prepare mnist|as-loaded (default: as the weights' data was\n"
    "                loaded)\n"
    "  --int8        with --inference: the model quantized to int8 (TensorFlow\n"
    "                Lite's scheme), integer-only C99 for microcontrollers: int\n"
    "                NAME_scores(const uint8_t image[], int8_t scores[]) with its\n"
    "                activations in one planned arena (NAME_ARENA_BYTES), and\n"
    "                NAME_predict, NAME_prepare as above; calibrated on --calibrate\n"
    "                N training images (default 1000) of --data DIR (default:\n"
    "                MNIST), measured on its test images\n"
    "  train         compile the code in memory with libtcc and train at once\n"
    "  eval          the same, then test weights on t10k: accuracy per class and\n"
    "                the confusion matrix\n"
    "  predict       the same, then classify PNG, JPEG or PGM images (any size; see\n"
    "                lenetc predict SPEC --help)\n"
    "  onnx          the trained model as an ONNX file (opset 13) for other\n"
    "                runtimes: input float32 [N, C, H, W] of raw pixels 0..255\n"
    "                (the spec's padding and scaling are its first nodes),\n"
    "                output the logits [N, classes]\n"
    "  import        an ONNX graph (torch.onnx.export's) as DIR/NAME.yaml and\n"
    "                DIR/NAME.safetensors (see lenetc import --help)\n"
    "  targets       list the targets, and which this machine runs\n"
    "  --target T    the instruction set: native (the default: the widest this\n"
    "                CPU runs), avx512 (x86-64-v4), avx2 (x86-64-v3), sse2\n"
    "                (x86-64), neon (aarch64; -o only on other machines)\n"
    "  --style S     code style: 'kernels' (the default) calls the runtime's\n"
    "                vector kernels for the target; 'loops' plain C loops that\n"
    "                tcc or gcc compiles; 'unrolled' every multiply-add with\n"
    "                literal indices (megabytes: built with tcc). Older\n"
    "                spellings: --shape S, 'vector' for 'kernels', --unroll\n"
    "                full|loops\n"
    "  --tile N      samples per forward/backward call (default 16, max 64)\n"
    "\n"
    "Every command takes --help. Trainer options (lenetc train and NAME-train):\n"
    "see `lenetc train --help`; eval's and predict's: `lenetc eval --help`, ...\n"
    "The spec format is documented in README.md.\n";

/* A mistake on the command line: one line, and where the help is. */
static void usage_error(const char *fmt, const char *arg) {
    fprintf(stderr, "lenetc: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    lenet_try_help("lenetc");
}

/* What --target, --style (or its older spellings --shape and --unroll) and
 * --tile say: the emitter and the JIT both take them. */
typedef struct {
    int target; /* lenet_target_at(target); -1: native */
    int style;  /* a CodeStyle */
    int tile;
} CodeOptions;

/* "native", then every target lenet_target_at knows. */
static const lenet_choice *target_choices(void) {
    static lenet_choice choices[16];
    if (!choices[0].name) {
        int n = 0;
        choices[n++] = (lenet_choice){"native", -1};
        for (int i = 0; lenet_target_at(i) && n < 15; i++)
            choices[n++] = (lenet_choice){lenet_target_at(i)->name, i};
    }
    return choices;
}

static const char *target_takes(void) {
    static char takes[160];
    snprintf(takes, sizeof takes, "one of %s", lenet_target_names());
    return takes;
}

static const lenet_choice styles[] = {{"kernels", STYLE_KERNELS}, {"vector", STYLE_KERNELS},
                                      {"loops", STYLE_LOOPS},     {"unrolled", STYLE_UNROLL},
                                      {NULL, 0}};
static const lenet_choice unrolls[] = {
    {"full", STYLE_UNROLL}, {"loops", STYLE_LOOPS}, {"none", STYLE_LOOPS}, {NULL, 0}};

/* Table entries for a CodeOptions c. */
#define CODE_OPTIONS(c)                                                                            \
    {.name = "--target", .kind = LENET_OPT_CHOICE, .dest = &(c)->target,                         \
     .choices = target_choices(), .takes = target_takes()},                                        \
    {.name = "--style", .kind = LENET_OPT_CHOICE, .dest = &(c)->style, .choices = styles,          \
     .takes = "kernels, loops or unrolled"},                                                       \
    {.name = "--shape", .kind = LENET_OPT_CHOICE, .dest = &(c)->style, .choices = styles,          \
     .takes = "kernels, loops or unrolled"},                                                       \
    {.name = "--unroll", .kind = LENET_OPT_CHOICE, .dest = &(c)->style, .choices = unrolls,        \
     .takes = "full or loops"},                                                                    \
    {.name = "--tile", .kind = LENET_OPT_INT, .dest = &(c)->tile, .lo = 1, .hi = MAX_TILE}

/* The EmitOptions they make; native is what this CPU runs. */
static EmitOptions emit_options(const CodeOptions *c) {
    const lenet_target *t = c->target < 0 ? lenet_target_native() : lenet_target_at(c->target);
    return (EmitOptions){
        .style = (CodeStyle)c->style, .tile = c->tile, .real = "float", .target = t->name};
}

/* The front end, one call per pass: the spec's text (files.c), its YAML
 * tree (yaml.c), the Model (spec.c: the IR), every shape and offset
 * (shape.c). The Model with every size known, or the diagnostic printed. */
static int front_end(const char *path, Model *m, int tile) {
    Diag d = {.file = path};
    char name[256];
    size_t len = 0;
    YNode *tree = NULL;
    memset(m, 0, sizeof *m);
    char *text = read_file(path, MAX_SPEC_BYTES, &len, &d);
    d.src = text; /* for the caret under a message's column */
    int rc = !text || !(tree = ytree_parse(text, len, &d)) ||
                     spec_build(tree, spec_default_name(path, name), m, &d) ||
                     model_infer(m, &d)
                 ? -1
                 : 0;
    ytree_free(tree);
    free(text);
    if (rc) {
        fprintf(stderr, "%s\n", d.msg);
        model_free(m);
        return -1;
    }
    if (tile > 0) /* code for tiles of this many samples */
        model_warn_tile(m, tile, &d);
    fputs(d.warnings, stderr); /* likely mistakes, each said once */
    return 0;
}

/* Prints d's message if pass (a pipeline step's result) failed. */
static int step(int pass, const Diag *d) {
    if (pass)
        fprintf(stderr, "%s\n", d->msg);
    return pass;
}

/* The spec: the one argument that is no option. */
static int take_spec(void *ctx, char **argv, int i) {
    const char **spec = ctx;
    if (*spec) {
        fprintf(stderr, "lenetc: one spec at a time; '%s' is a second\n", argv[i]);
        return -1;
    }
    *spec = argv[i];
    return 0;
}

static int cmd_summary(int argc, char **argv) {
    const char *spec = NULL;
    int json = 0;
    const lenet_option options[] = {{.name = "--json", .kind = LENET_OPT_FLAG, .dest = &json},
                                    {.name = "--help", .kind = LENET_OPT_HELP},
                                    {0}};
    const lenet_command cmd = {
        .prog = "lenetc summary", .options = options, .operand = take_spec, .ctx = &spec};
    int r = lenet_read_args(&cmd, argc, argv, 2);
    if (r == LENET_ARGS_HELP) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (r || !spec) {
        if (!r)
            usage_error("%s", "summary takes a spec file");
        return 2;
    }
    Model m;
    if (front_end(spec, &m, 0))
        return 1;
    StrBuf sb = {0};
    if (json) {
        char *text = model_summary_json(&m);
        sb_printf(&sb, "%s\n", text ? text : "");
        free(text);
    } else {
        model_summary(&m, &sb);
    }
    fputs(sb.data, stdout);
    sb_free(&sb);
    model_free(&m);
    return 0;
}

static int write_one(const char *dir, const char *name, const StrBuf *sb) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    Diag d = {.file = "lenetc"};
    if (write_file_atomic(path, sb->data, sb->len, &d)) {
        fprintf(stderr, "%s\n", d.msg);
        return -1;
    }
    return 0;
}

/* The installation this lenetc runs from, if it is one (PREFIX/bin/lenetc
 * beside PREFIX/include/lenet.h and PREFIX/lib/liblenet.a), by its
 * absolute path; else "". Found from the executable, so an installation
 * staged in a DESTDIR or moved elsewhere names where it is now. */
static void installed_prefix(char prefix[PATH_MAX]) {
    char up[PATH_MAX + 4], header[PATH_MAX + 24], lib[PATH_MAX + 24];
    snprintf(up, sizeof up, "%s/..", exe_dir());
    if (!realpath(up, prefix)) {
        prefix[0] = '\0';
        return;
    }
    snprintf(header, sizeof header, "%s/include/lenet.h", prefix);
    snprintf(lib, sizeof lib, "%s/lib/liblenet.a", prefix);
    if (access(header, R_OK) != 0 || access(lib, R_OK) != 0)
        prefix[0] = '\0';
}

/* -o DIR: the model's source, header and Makefile. The Makefile builds
 * against runtime_dir if given (--runtime), else the runtime of the source
 * tree this lenetc runs from, by its absolute path (so DIR can move), else
 * (an installed lenetc) its installation's, by its prefix, whatever
 * PKG_CONFIG_PATH says; else the one pkg-config knows as lenet. */
static int write_build(const Model *m, const EmitOptions *o, const char *dir,
                       const char *runtime_dir) {
    char runtime[PATH_MAX], header[PATH_MAX + 16], full[PATH_MAX] = "", prefix[PATH_MAX] = "";
    snprintf(runtime, sizeof runtime, "%s/runtime", exe_dir());
    snprintf(header, sizeof header, "%s/lenet.h", runtime);
    if (runtime_dir)
        snprintf(full, sizeof full, "%s", runtime_dir);
    else if (access(header, R_OK) != 0 || !realpath(runtime, full)) {
        full[0] = '\0';
        installed_prefix(prefix);
    }
    StrBuf c = {0}, h = {0}, mk = {0};
    emit_source(m, o, &c);
    emit_header(m, o, &h);
    emit_makefile(m, o, full, prefix, &mk);
    char cname[MAX_NAME + 4], hname[MAX_NAME + 4];
    snprintf(cname, sizeof cname, "%s.c", m->name);
    snprintf(hname, sizeof hname, "%s.h", m->name);
    int rc = write_one(dir, cname, &c) || write_one(dir, hname, &h) ||
             write_one(dir, "Makefile", &mk);
    sb_free(&c);
    sb_free(&h);
    sb_free(&mk);
    return rc ? 1 : 0;
}

/* --inference: the trained model as one standalone C file and header. */
static int write_export(const Model *m, const char *spec, const char *weights, int prepare,
                        const Int8Request *int8, const char *dir) {
    lenet_model *lm = model_descriptor(m, 1);
    float *params = calloc((size_t)m->n_params, sizeof *params);
    static lenet_meta meta; /* 40 KiB: not on the stack */
    lenet_error err;
    int rc = 1;
    if (!params) {
        fprintf(stderr, "lenetc: out of memory\n");
    } else if (lenet_load_weights(lm, params, &meta, weights, &err)) {
        fprintf(stderr, "%s\n", err.msg);
    } else if (prepare == LENET_PREPARE_MNIST && m->in_c != 1) {
        char why[MAX_NAME + 80];
        snprintf(why, sizeof why, "--prepare mnist is for 1-channel models; %s takes %d channels",
                 m->name, m->in_c);
        usage_error("%s", why);
        rc = 2;
    } else {
        /* NAME_prepare as the weights' data was loaded, unless told */
        const char *format = lenet_meta_get(&meta, "format");
        char why[128];
        if (prepare >= 0)
            snprintf(why, sizeof why, "chosen by --prepare");
        else if (format && strcmp(format, "pt"))
            snprintf(why, sizeof why, "as the weights' training data, %.40s, was made", format);
        else
            snprintf(why, sizeof why, "the default of weights that do not name their data");
        if (prepare < 0)
            prepare = lenet_prepare_for(&meta, m->in_c);
        StrBuf c = {0}, h = {0};
        if (int8) {
            Int8Request rq = *int8;
            rq.spec_file = spec;
            rq.weights_file = weights;
            rq.prepare = prepare;
            rq.why = why;
            rc = export_int8(m, params, &rq, &c, &h);
        } else {
            emit_export(m, params, spec, weights, prepare, why, &c, &h);
            rc = 0;
        }
        char cname[MAX_NAME + 4], hname[MAX_NAME + 4];
        snprintf(cname, sizeof cname, "%s.c", m->name);
        snprintf(hname, sizeof hname, "%s.h", m->name);
        Diag files = {.file = "lenetc"};
        if (!rc) /* the directory only once there is something to put in it */
            rc = step(make_dirs(dir, &files), &files) || write_one(dir, cname, &c) ||
                         write_one(dir, hname, &h)
                     ? 1
                     : 0;
        sb_free(&c);
        sb_free(&h);
    }
    free(params);
    descriptor_free(lm);
    return rc;
}

static int cmd_emit(int argc, char **argv) {
    CodeOptions code = {.target = -1, .style = STYLE_KERNELS, .tile = 16};
    const char *spec = NULL, *dir = NULL, *weights = NULL, *runtime = NULL;
    int inference = 0, prepare = -1, int8 = 0, calibrate = -1;
    const char *data = NULL;
    const lenet_option options[] = {
        CODE_OPTIONS(&code),
        {.name = "-o", .kind = LENET_OPT_STRING, .dest = &dir, .needs = "a directory"},
        {.name = "--runtime", .kind = LENET_OPT_STRING, .dest = &runtime, .needs = "a directory"},
        {.name = "--weights", .kind = LENET_OPT_STRING, .dest = &weights, .needs = "a file"},
        {.name = "--inference", .kind = LENET_OPT_FLAG, .dest = &inference},
        {.name = "--prepare", .kind = LENET_OPT_CHOICE, .dest = &prepare,
         .choices = lenet_prepare_choices},
        {.name = "--int8", .kind = LENET_OPT_FLAG, .dest = &int8},
        {.name = "--calibrate", .kind = LENET_OPT_INT, .dest = &calibrate, .lo = 1,
         .hi = 1000000},
        {.name = "--data", .kind = LENET_OPT_STRING, .dest = &data, .needs = "a directory"},
        {.name = "--help", .kind = LENET_OPT_HELP},
        {0}};
    const lenet_command cmd = {
        .prog = "lenetc", .options = options, .operand = take_spec, .ctx = &spec};
    const int r = lenet_read_args(&cmd, argc, argv, 1);
    if (r == LENET_ARGS_HELP) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (r)
        return 2;
    if (!spec || !dir) {
        usage_error("%s", spec ? "missing -o DIR" : "missing the spec file");
        return 2;
    }
    EmitOptions o = emit_options(&code);
    if (inference != (weights != NULL)) {
        usage_error("%s", inference ? "--inference needs --weights W.safetensors"
                                    : "--weights goes with --inference");
        return 2;
    }
    if (prepare >= 0 && !inference) {
        usage_error("%s", "--prepare goes with --inference (it shapes NAME_prepare)");
        return 2;
    }
    if (int8 && !inference) {
        usage_error("%s", "--int8 goes with --inference (it quantizes the trained model)");
        return 2;
    }
    if ((calibrate >= 0 || data) && !int8) {
        usage_error("%s", calibrate >= 0 ? "--calibrate goes with --int8"
                                         : "--data goes with --int8 (its images calibrate)");
        return 2;
    }
    const Int8Request int8_rq = {.data = data,
                                 .calibrate = calibrate >= 0 ? calibrate : INT8_CALIBRATE_DEFAULT};
    o.spec_file = spec;
    Model m;
    Diag d = {.file = spec}, files = {.file = "lenetc"};
    int rc = 1;
    if (front_end(spec, &m, inference ? 0 : o.tile))
        return 1;
    if (!step(emit_check_size(&m, &o, &d), &d) && (inference || !step(make_dirs(dir, &files), &files)))
        rc = inference ? write_export(&m, spec, weights, prepare, int8 ? &int8_rq : NULL, dir)
                       : write_build(&m, &o, dir, runtime);
    model_free(&m);
    return rc;
}

/* `lenetc train`, `lenetc eval` and `lenetc predict`: JIT-compile the spec
 * and run the runtime's trainer, evaluator or predictor on it. */
enum { JIT_TRAIN, JIT_EVAL, JIT_PREDICT };

/* What `lenetc train --help` adds to the trainer's own help: lenetc's code
 * options, read in the same pass as the trainer's. */
static const char jit_train_help[] =
    "\nlenetc train also takes:\n"
    "  --target T              native (default), avx512, avx2 or sse2\n"
    "  --style S               kernels (default), loops or unrolled\n"
    "  --tile N                samples per generated call (default 16)\n";

/* `lenetc train --help` with no spec: the runtime's own help, for a model
 * that has the defaults of a spec without a train: section. */
static int help_without_spec(int what) {
    static const char spec[] = "name: SPEC\ninput: {shape: [28, 28, 1]}\n"
                               "layers: [flatten, {dense: {units: 10}}]\n";
    Model m;
    Diag d = {.file = "SPEC"};
    if (spec_parse(spec, sizeof spec - 1, "SPEC", &m, &d) || model_infer(&m, &d)) {
        fprintf(stderr, "%s\n", d.msg);
        return 1;
    }
    lenet_model *lm = model_descriptor(&m, 16);
    char *help[] = {what == JIT_TRAIN ? "lenetc train SPEC.yaml"
                    : what == JIT_EVAL ? "lenetc eval SPEC.yaml"
                                       : "lenetc predict SPEC.yaml",
                    "--help", NULL};
    if (what == JIT_TRAIN) {
        printf("(The values in parentheses are those of a spec without a train: section;\n"
               "`lenetc train SPEC.yaml --help` gives a spec's own.)\n\n");
        CodeOptions code = {.target = -1, .style = STYLE_KERNELS, .tile = 16};
        const lenet_option ours[] = {CODE_OPTIONS(&code), {0}};
        lenet_train_options to;
        lenet_read_train_args(lm, 2, help, 1, ours, jit_train_help, &to, help[0]);
    } else if (what == JIT_EVAL) {
        lenet_eval_main(lm, 2, help, help[0]);
    } else {
        lenet_predict_main(lm, 2, help, help[0]);
    }
    descriptor_free(lm);
    model_free(&m);
    return 0;
}

/* Every argument lenetc does not read itself, for the runtime's reader. */
typedef struct {
    char **argv;
    int n;
} Rest;

static int pass_on(void *ctx, char **argv, int i) {
    Rest *rest = ctx;
    rest->argv[rest->n++] = argv[i];
    return 0;
}

/* The JIT's first line: the model, its code's size and style, the compile. */
static void say_jit(const Model *m, const EmitOptions *o, size_t bytes, double secs) {
    char desc[160];
    if (o->style == STYLE_KERNELS)
        snprintf(desc, sizeof desc, "kernels style, %s kernels: %s", o->target,
                 lenet_target_find(o->target)->describe);
    else
        snprintf(desc, sizeof desc, "%s style: tcc's own scalar code", emit_style_name(o->style));
    printf("jit: %s %zu KiB C (%s), compiled in %.3f s\n", m->name, (bytes + 1023) / 1024, desc,
           secs);
    fflush(stdout);
}

/* The JIT's code for m (its size checked first, as -o checks it), or NULL
 * after the message. */
static Jit *jit_for(const Model *m, const EmitOptions *o, lenet_model *lm, Diag *d,
                    double *secs, size_t *bytes) {
    Jit *j = NULL;
    if (step(emit_check_size(m, o, d), d) || step(!(j = jit_compile(m, o, lm, d, secs, bytes)), d))
        return NULL;
    return j;
}

/* `lenetc train SPEC [options]`: the trainer's options (over the spec's
 * defaults) and lenetc's code options in one table, argv read once. */
static int cmd_train(int argc, char **argv, const char *spec) {
    CodeOptions code = {.target = -1, .style = STYLE_KERNELS, .tile = 16};
    const lenet_option ours[] = {CODE_OPTIONS(&code), {0}};
    Model m;
    if (front_end(spec, &m, 0))
        return 1;
    /* the spec's defaults and name, for the reader and the help; the tile
     * is read with the rest */
    lenet_model *lm = model_descriptor(&m, code.tile);
    lenet_train_options to;
    int rc = lenet_read_train_args(lm, argc, argv, 3, ours, jit_train_help, &to,
                                   "lenetc train SPEC.yaml");
    if (rc != 0) {
        rc = rc > 0 ? 0 : 2;
        goto out;
    }
    EmitOptions o = emit_options(&code);
    o.spec_file = spec;
    Diag d = {.file = spec};
    model_warn_tile(&m, o.tile, &d); /* what front_end says of a tile */
    fputs(d.warnings, stderr);
    if (o.tile != lm->tile) {
        descriptor_free(lm);
        lm = model_descriptor(&m, o.tile);
    }
    double secs;
    size_t bytes;
    Jit *j = jit_for(&m, &o, lm, &d, &secs, &bytes);
    if (!j) {
        rc = 1;
        goto out;
    }
    say_jit(&m, &o, bytes, secs);
    rc = lenet_train(lm, &to);
    jit_free(j);
out:
    descriptor_free(lm);
    model_free(&m);
    return rc;
}

static int cmd_jit(int argc, char **argv, int what) {
    static const char *const names[] = {"train", "eval", "predict"};
    const char *cmd = names[what];
    /* the spec comes first, so option values are never mistaken for it */
    const char *spec = argc > 2 && argv[2][0] != '-' ? argv[2] : NULL;
    if (what == JIT_TRAIN && spec)
        return cmd_train(argc, argv, spec);
    CodeOptions code = {.target = -1, .style = STYLE_KERNELS, .tile = 16};
    const lenet_option options[] = {CODE_OPTIONS(&code), {0}};
    /* argv for the runtime's option reader: everything but ours */
    Rest passed = {calloc((size_t)argc + 1, sizeof *passed.argv), 0};
    char **rest = passed.argv;
    char self[32];
    snprintf(self, sizeof self, "lenetc %s", cmd);
    rest[passed.n++] = self;
    const lenet_command ours = {.prog = "lenetc", .options = options, .operand = pass_on,
                                .ctx = &passed, .pass_unknown = 1};
    if (lenet_read_args(&ours, argc, argv, spec ? 3 : 2)) {
        free(rest);
        return 2;
    }
    const int n = passed.n;
    EmitOptions o = emit_options(&code);
    if (!spec) {
        for (int i = 1; i < n; i++)
            if (!strcmp(rest[i], "--help") || !strcmp(rest[i], "-h")) {
                free(rest);
                return help_without_spec(what);
            }
        char why[96];
        snprintf(why, sizeof why, "%s needs a spec file first: lenetc %s SPEC.yaml [options]",
                 cmd, cmd);
        usage_error("%s", why);
        free(rest);
        return 2;
    }
    o.spec_file = spec;
    Model m;
    if (front_end(spec, &m, 0)) {
        free(rest);
        return 1;
    }
    lenet_model *lm = model_descriptor(&m, o.tile);
    int rc;
    Diag d = {.file = spec};
    double secs;
    size_t bytes;
    Jit *j = jit_for(&m, &o, lm, &d, &secs, &bytes);
    if (!j) {
        rc = 1;
        goto out;
    }
    if (what == JIT_EVAL)
        rc = lenet_eval_main(lm, n, rest, "lenetc eval SPEC.yaml");
    else
        rc = lenet_predict_main(lm, n, rest, "lenetc predict SPEC.yaml");
    jit_free(j);
out:
    descriptor_free(lm);
    model_free(&m);
    free(rest);
    return rc;
}

/* `lenetc onnx SPEC --weights W -o FILE.onnx`: the trained model as an
 * ONNX file (onnx_export.c), written atomically. */
static int cmd_onnx(int argc, char **argv) {
    const char *spec = NULL, *weights = NULL, *path = NULL;
    const lenet_option options[] = {
        {.name = "--weights", .kind = LENET_OPT_STRING, .dest = &weights, .needs = "a file"},
        {.name = "-o", .kind = LENET_OPT_STRING, .dest = &path, .needs = "a file (FILE.onnx)"},
        {.name = "--help", .kind = LENET_OPT_HELP},
        {0}};
    const lenet_command cmd = {
        .prog = "lenetc onnx", .options = options, .operand = take_spec, .ctx = &spec};
    const int r = lenet_read_args(&cmd, argc, argv, 2);
    if (r == LENET_ARGS_HELP) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (r)
        return 2;
    if (!spec || !weights || !path) {
        usage_error("%s", !spec      ? "onnx needs a spec file: lenetc onnx SPEC.yaml --weights W -o FILE.onnx"
                          : !weights ? "onnx needs --weights W.safetensors (the trained model)"
                                     : "onnx needs -o FILE.onnx");
        return 2;
    }
    Model m;
    if (front_end(spec, &m, 0))
        return 1;
    lenet_model *lm = model_descriptor(&m, 1);
    float *params = calloc((size_t)m.n_params, sizeof *params);
    static lenet_meta meta; /* 40 KiB: not on the stack */
    lenet_error err;
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc = 1;
    Diag d = {.file = spec}, files = {.file = "lenetc"};
    if (!lm || !params)
        fprintf(stderr, "lenetc: out of memory\n");
    else if (lenet_load_weights(lm, params, &meta, weights, &err))
        fprintf(stderr, "%s\n", err.msg);
    else if (onnx_export(&m, params, &meta, spec, weights, &bytes, &len, &d))
        fprintf(stderr, "%s\n", d.failed ? d.msg : "lenetc: out of memory");
    else
        rc = step(write_file_atomic(path, (const char *)bytes, len, &files), &files) ? 1 : 0;
    free(bytes);
    free(params);
    descriptor_free(lm);
    model_free(&m);
    return rc;
}

/* `lenetc targets`: what --target takes, and what runs here. */
static int cmd_targets(int argc, char **argv) {
    if (argc == 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (argc > 2) {
        usage_error("%s", "targets takes no arguments");
        return 2;
    }
    const lenet_target *native = lenet_target_native();
    for (int i = 0; lenet_target_at(i); i++) {
        const lenet_target *t = lenet_target_at(i);
        printf("%-7s %-45s %s\n", t->name, t->describe,
               lenet_target_runs(t) ? (t == native ? "runs here (native)" : "runs here")
               : t->symbols        ? "not on this CPU (-o only)"
                                   : "-o only (no kernels in this lenetc)");
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fputs(usage_text, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version")) {
        printf("lenetc %s\n", LENET_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "summary"))
        return cmd_summary(argc, argv);
    if (!strcmp(cmd, "targets"))
        return cmd_targets(argc, argv);
    if (!strcmp(cmd, "onnx"))
        return cmd_onnx(argc, argv);
    if (!strcmp(cmd, "import"))
        return onnx_import_main(argc, argv);
    if (!strcmp(cmd, "train"))
        return cmd_jit(argc, argv, JIT_TRAIN);
    if (!strcmp(cmd, "eval"))
        return cmd_jit(argc, argv, JIT_EVAL);
    if (!strcmp(cmd, "predict"))
        return cmd_jit(argc, argv, JIT_PREDICT);
    return cmd_emit(argc, argv);
}
