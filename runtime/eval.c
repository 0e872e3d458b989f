/* eval.c: how good a set of weights is on the t10k test set: accuracy,
 * accuracy per class and the confusion matrix. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lenet.h"

static const char *const fashion[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

const char *const *lenet_class_names(const char *set) {
    return set && !strcmp(set, "fashion") ? fashion : NULL;
}

const char *const *lenet_class_names_for_data(const char *dir) {
    return dir && strstr(dir, "fashion") ? fashion : NULL;
}

static void eval_usage(const char *prog, FILE *f) {
    fprintf(f,
            "usage: %s --weights W.safetensors [--data DIR] [--threads N]\n"
            "Evaluates the weights on the 10,000 t10k test images: accuracy, accuracy per\n"
            "class and the confusion matrix (rows: true class, columns: predicted).\n"
            "\n"
            "  --weights W   safetensors weights for this model (from --save, say)\n"
            "  --data DIR    data directory (default: as for training)\n"
            "  --threads N   worker threads (default: all cores)\n"
            "  --classes S   class names: digits or fashion (default: fashion if the\n"
            "                data directory's path says fashion, else digits)\n"
            "  --help        this text\n",
            prog);
}

/* Accuracy, per class and in all, and the confusion matrix. */
static void report(const lenet_model *m, const lenet_dataset *ds, const uint8_t *pred,
                   const char *weights, const char *const *names) {
    enum { K = 10 };
    long conf[K][K] = {{0}}, right = 0;
    for (int i = 0; i < ds->count; i++) {
        int p = pred[i] < K ? pred[i] : K - 1; /* a model with more outputs */
        conf[ds->labels[i]][p]++;
        right += pred[i] == ds->labels[i];
    }
    printf("%s with %s: test accuracy %.4f (%ld of %d)\n\n", m->name, weights,
           (double)right / ds->count, right, ds->count);
    printf("class  accuracy  images%s\n", names ? "  name" : "");
    for (int c = 0; c < K; c++) {
        long n = 0;
        for (int p = 0; p < K; p++)
            n += conf[c][p];
        printf("%5d  %8.4f  %6ld%s%s\n", c, n ? (double)conf[c][c] / n : 0.0, n,
               names ? "  " : "", names ? names[c] : "");
    }
    printf("\nconfusion (rows: true class, columns: predicted)\n     ");
    for (int p = 0; p < K; p++)
        printf("%6d", p);
    printf("\n");
    for (int c = 0; c < K; c++) {
        printf("%5d", c);
        for (int p = 0; p < K; p++)
            printf("%6ld", conf[c][p]);
        printf("\n");
    }
}

const lenet_choice lenet_class_sets[] = {{"digits", 0}, {"fashion", 1}, {NULL, 0}};

int lenet_eval_main(const lenet_model *m, int argc, char **argv, const char *prog) {
    const char *weights = NULL, *data = NULL;
    int threads = 0, classes = -1;
    const lenet_option options[] = {
        {.name = "--help", .kind = LENET_OPT_HELP},
        {.name = "--weights", .kind = LENET_OPT_STRING, .dest = &weights, .needs = "a file"},
        {.name = "--data", .kind = LENET_OPT_STRING, .dest = &data},
        {.name = "--threads", .kind = LENET_OPT_INT, .dest = &threads, .lo = 1,
         .hi = LENET_MAX_THREADS},
        {.name = "--classes", .kind = LENET_OPT_CHOICE, .dest = &classes,
         .choices = lenet_class_sets},
        {0}};
    const lenet_command cmd = {.prog = prog, .options = options};
    const int parsed = lenet_read_args(&cmd, argc, argv, 1);
    if (parsed == LENET_ARGS_HELP || parsed == LENET_ARGS_UNKNOWN)
        eval_usage(prog, parsed > 0 ? stdout : stderr);
    if (parsed)
        return parsed > 0 ? 0 : 2;
    if (!weights) {
        fprintf(stderr, "%s: --weights is required\n", prog);
        eval_usage(prog, stderr);
        return 2;
    }
    lenet_error err = {{0}};
    lenet_dataset test = {0};
    lenet_trainer t;
    uint8_t *pred = NULL;
    int rc = 1;
    if (lenet_trainer_init(&t, m, &m->defaults, threads)) {
        fprintf(stderr, "error: out of memory\n");
        return 1;
    }
    if (lenet_load_safetensors(m, t.params, weights, &err) ||
        lenet_load_mnist(data, "t10k", &test, &err)) {
        fprintf(stderr, "error: %s\n", err.msg);
        goto out;
    }
    if (test.rows != m->data_h || test.cols != m->data_w || m->n_classes < 10) {
        fprintf(stderr, "error: %s takes %dx%d images with %d classes; the test set has %dx%d "
                "with 10\n", m->name, m->data_h, m->data_w, m->n_classes, test.rows, test.cols);
        goto out;
    }
    pred = malloc((size_t)test.count);
    if (!pred) {
        fprintf(stderr, "error: out of memory\n");
        goto out;
    }
    lenet_trainer_predict(&t, &test, pred);
    report(m, &test, pred, weights,
           classes >= 0 ? lenet_class_names(lenet_class_sets[classes].name)
                        : lenet_class_names_for_data(data));
    rc = 0;
out:
    free(pred);
    lenet_free_dataset(&test);
    lenet_trainer_free(&t);
    return rc;
}
