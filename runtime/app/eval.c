/* eval.c: how good a set of weights is on the t10k test set: accuracy,
 * accuracy per class and the confusion matrix. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lenet_app.h"
#include "lenet_core.h"
#include "lenet_data.h"
#include "lenet_io.h"
#include "lenet_model.h"

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
            "usage: %s --weights W.safetensors [--data PATH] [--threads N]\n"
            "Evaluates the weights on the test set: accuracy, accuracy per class and the\n"
            "confusion matrix (rows: true class, columns: predicted).\n"
            "\n"
            "  --weights W   safetensors weights for this model (from --save, say)\n"
            "  --data PATH   the data, as for training (IDX, CIFAR batches, image folders)\n"
            "  --test-images F, --test-labels F  IDX files by name, instead of --data\n"
            "  --threads N   worker threads (default: all cores)\n"
            "  --classes S   class names: digits or fashion (default: fashion if the\n"
            "                data directory's path says fashion, else digits)\n"
            "  --plot F.png  draw the confusion matrix as a heat map with gnuplot (else\n"
            "                write its gnuplot script and data beside F.png)\n"
            "  --help        this text\n",
            prog);
}

/* Accuracy, per class and in all, and the confusion matrix, over K classes
 * (every label and prediction is below K): a class without images has no
 * row; and its heat map at plot (if not NULL). An exit code. */
static int report(const lenet_model *m, const lenet_dataset *ds, const uint8_t *pred, int K,
                  const char *weights, const char *const *names, int n_names,
                  const char *plot) {
    long *conf = calloc((size_t)K * K, sizeof *conf), right = 0;
    if (!conf) {
        fprintf(stderr, "error: out of memory\n");
        return 1;
    }
#define conf(c, p) conf[(size_t)(c) * K + (p)]
    for (int i = 0; i < ds->count; i++) {
        conf(ds->labels[i], pred[i])++;
        right += pred[i] == ds->labels[i];
    }
    printf("%s with %s: test accuracy %.4f (%ld of %d)\n\n", m->name, weights,
           (double)right / ds->count, right, ds->count);
    printf("class  accuracy  images%s\n", names ? "  name" : "");
    long images[LENET_MAX_CLASSES] = {0};
    for (int c = 0; c < K; c++) {
        for (int p = 0; p < K; p++)
            images[c] += conf(c, p);
        if (!images[c])
            continue; /* none in this data */
        const char *name = names && c < n_names ? names[c] : "";
        printf("%5d  %8.4f  %6ld%s%s\n", c, (double)conf(c, c) / images[c], images[c],
               names ? "  " : "", name);
    }
    printf("\nconfusion (rows: true class, columns: predicted)\n     ");
    for (int p = 0; p < K; p++)
        printf("%6d", p);
    printf("\n");
    for (int c = 0; c < K; c++) {
        if (!images[c])
            continue;
        printf("%5d", c);
        for (int p = 0; p < K; p++)
            printf("%6ld", conf(c, p));
        printf("\n");
    }
#undef conf
    int rc = 0;
    if (plot) {
        char title[1024];
        lenet_error err;
        snprintf(title, sizeof title, "%s with %s: test accuracy %.4f (%ld of %d)", m->name,
                 weights, (double)right / ds->count, right, ds->count);
        const int drawn = lenet_plot_confusion(plot, title, K, conf, names, n_names, &err);
        if (drawn)
            fprintf(stderr, "%s: %s\n", drawn > 0 ? "warning" : "error", err.msg);
        else
            printf("\nplotted %s\n", plot);
        rc = drawn < 0;
    }
    free(conf);
    return rc;
}

/* The data set's class names, unless they are just the class numbers. */
static const char *const *data_names(const lenet_dataset *ds) {
    return lenet_names_are_digits(ds->class_names, ds->n_classes)
               ? NULL
               : (const char *const *)ds->class_names;
}

const lenet_choice lenet_class_sets[] = {{"digits", 0}, {"fashion", 1}, {NULL, 0}};

int lenet_eval_main(const lenet_model *m, int argc, char **argv, const char *prog) {
    const char *weights = NULL, *data = NULL, *test_images = NULL, *test_labels = NULL;
    const char *plot = NULL;
    int threads = 0, classes = -1;
    const lenet_option options[] = {
        {.name = "--help", .kind = LENET_OPT_HELP},
        {.name = "--weights", .kind = LENET_OPT_STRING, .dest = &weights, .needs = "a file"},
        {.name = "--data", .kind = LENET_OPT_STRING, .dest = &data},
        {.name = "--test-images", .kind = LENET_OPT_STRING, .dest = &test_images},
        {.name = "--test-labels", .kind = LENET_OPT_STRING, .dest = &test_labels},
        {.name = "--threads", .kind = LENET_OPT_INT, .dest = &threads, .lo = 1,
         .hi = LENET_MAX_THREADS},
        {.name = "--classes", .kind = LENET_OPT_CHOICE, .dest = &classes,
         .choices = lenet_class_sets},
        {.name = "--plot", .kind = LENET_OPT_STRING, .dest = &plot,
         .needs = "a file (FILE.png or FILE.svg)", .suffixes = lenet_plot_suffixes},
        {0}};
    const lenet_command cmd = {.prog = prog, .options = options};
    const int parsed = lenet_read_args(&cmd, argc, argv, 1);
    if (parsed == LENET_ARGS_HELP)
        eval_usage(prog, stdout);
    if (parsed)
        return parsed > 0 ? 0 : 2;
    if (!weights) {
        fprintf(stderr, "%s: --weights is required\n", prog);
        lenet_try_help(prog);
        return 2;
    }
    lenet_error err = {{0}};
    lenet_dataset test = {0};
    lenet_trainer t;
    uint8_t *pred = NULL;
    char **trained_names = NULL;
    int n_trained = 0;
    int rc = 1;
    if (plot && lenet_plot_check(plot, &err)) { /* before the work, not after it */
        fprintf(stderr, "error: %s\n", err.msg);
        return 1;
    }
    if (lenet_trainer_init(&t, m, &m->defaults, threads)) {
        fprintf(stderr, "error: out of memory\n");
        return 1;
    }
    lenet_data_request rq = lenet_data_request_for(m);
    rq.path = data;
    rq.test_images = test_images;
    rq.test_labels = test_labels;
    rq.threads = threads;
    static lenet_meta meta; /* 40 KiB: not on the stack */
    if (lenet_load_weights(m, t.params, &meta, weights, &err) ||
        lenet_load_data(&rq, NULL, &test, &err)) {
        fprintf(stderr, "error: %s\n", err.msg);
        goto out;
    }
    char line[1024];
    lenet_describe_data(NULL, &test, line, sizeof line);
    printf("data: %s\n", line);
    fflush(stdout);
    trained_names = lenet_meta_classes(&meta, &n_trained);
    /* the data's classes by name, as the weights know them (weights that do
     * not name theirs: by position, with provenance's warning) */
    if (trained_names && n_trained <= m->n_classes) {
        char whose[PATH_MAX + 16];
        snprintf(whose, sizeof whose, "%s's", weights);
        if (lenet_match_classes(&test, test.path, trained_names, n_trained, whose, &err)) {
            fprintf(stderr, "error: %s\n", err.msg);
            goto out;
        }
        t.classes = test.n_classes; /* the answers are among them */
    }
    lenet_warn_provenance(weights, &meta, m, &test);
    pred = malloc((size_t)test.count);
    if (!pred) {
        fprintf(stderr, "error: out of memory\n");
        goto out;
    }
    lenet_trainer_predict(&t, &test, pred);
    /* the names: --classes, the data's, the weights' data's, or a guess */
    const char *const *fashion_guess = lenet_class_names_for_data(test.path);
    lenet_dataset trained = {.n_classes = n_trained, .class_names = trained_names};
    const char *const *names =
        classes >= 0                                 ? lenet_class_names(lenet_class_sets[classes].name)
        : data_names(&test)                          ? data_names(&test)
        : n_trained == test.n_classes && data_names(&trained) ? data_names(&trained)
        : fashion_guess && test.n_classes <= 10      ? fashion_guess
                                                     : NULL;
    /* --classes fashion names ten classes, whatever the data has */
    const int n_names = names == lenet_class_names("fashion") && test.n_classes > 10
                            ? 10
                            : test.n_classes;
    rc = report(m, &test, pred, t.classes, weights, names, n_names, plot);
out:
    lenet_free_names(trained_names, n_trained);
    free(pred);
    lenet_free_dataset(&test);
    lenet_trainer_free(&t);
    return rc;
}
