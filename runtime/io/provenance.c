/* provenance.c: what a set of weights was trained on, kept in its
 * safetensors metadata, and the warnings when it is used on something else
 * (Fashion-MNIST weights scored on digits say so, instead of a silent 6 %).
 *
 * Keys, beside the file's own:
 *   data     the training data's real path
 *   format   its format: "IDX", "CIFAR-10", "image folders"
 *   classes  its class names, a JSON array
 *   input    the model's input: "28x28x1 scale -1 1"
 */
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lenet_core.h"
#include "lenet_io.h"
#include "lenet_model.h"

static void input_of(const lenet_model *m, char *buf, size_t n) {
    snprintf(buf, n, "%dx%dx%d scale %g %g", m->data_h, m->data_w, m->data_c,
             (double)m->scale_lo, (double)m->scale_hi);
}

/* ds's directory, absolute (as given if that fails): where IDX files
 * named one by one are, so that train and test files of one set agree */
static void real_path(const lenet_dataset *ds, char *buf, size_t n) {
    char full[PATH_MAX];
    const char *p = ds->path ? ds->path : "";
    struct stat st;
    if (!*p || !realpath(p, full)) {
        snprintf(buf, n, "%s", p);
        return;
    }
    char *slash = strrchr(full, '/');
    if (stat(full, &st) == 0 && S_ISREG(st.st_mode) && slash && slash != full)
        *slash = '\0';
    snprintf(buf, n, "%s", full);
}

void lenet_meta_set_data(lenet_meta *meta, const lenet_model *m, const lenet_dataset *ds) {
    char buf[sizeof meta->value[0]];
    real_path(ds, buf, sizeof buf);
    lenet_meta_set(meta, "data", buf); /* a path too long to keep is left out */
    lenet_meta_set(meta, "format", ds->format ? ds->format : "");
    json_t *names = json_array();
    for (int c = 0; names && ds->class_names && c < ds->n_classes; c++)
        json_array_append_new(names, json_string(ds->class_names[c]));
    char *text = names ? json_dumps(names, JSON_COMPACT) : NULL;
    if (text)
        lenet_meta_set(meta, "classes", text);
    free(text);
    json_decref(names);
    input_of(m, buf, sizeof buf);
    lenet_meta_set(meta, "input", buf);
}

char **lenet_meta_classes(const lenet_meta *meta, int *n) {
    *n = 0;
    const char *text = lenet_meta_get(meta, "classes");
    json_t *names = text ? json_loads(text, 0, NULL) : NULL;
    const size_t count = json_is_array(names) ? json_array_size(names) : 0;
    char **out = count ? calloc(count, sizeof *out) : NULL;
    for (size_t i = 0; out && i < count; i++) {
        const char *s = json_string_value(json_array_get(names, i));
        if (!s || !(out[i] = strdup(s))) {
            lenet_free_names(out, (int)i);
            out = NULL;
        }
    }
    json_decref(names);
    if (out)
        *n = (int)count;
    return out;
}

int lenet_names_are_digits(char *const *names, int n) {
    for (int c = 0; names && c < n; c++) {
        char digits[16];
        snprintf(digits, sizeof digits, "%d", c);
        if (strcmp(names[c], digits) != 0)
            return 0;
    }
    return 1;
}

void lenet_free_names(char **names, int n) {
    for (int i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}

const char *lenet_name_list(char *const *names, int n, char *buf, size_t size) {
    buf[0] = '\0';
    for (int i = 0; i < n && i < 4; i++)
        snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", i ? ", " : "", names[i]);
    if (n > 4)
        snprintf(buf + strlen(buf), size - strlen(buf), ", ... (%d)", n);
    return buf;
}

int lenet_warn_provenance(const char *weights, const lenet_meta *meta, const lenet_model *m,
                          const lenet_dataset *ds) {
    int warned = 0;
    char here[PATH_MAX], input[128];
    const char *data = lenet_meta_get(meta, "data"), *format = lenet_meta_get(meta, "format");
    const char *trained_input = lenet_meta_get(meta, "input");
    input_of(m, input, sizeof input);
    if (trained_input && strcmp(trained_input, input) != 0) {
        fprintf(stderr, "warning: %s was trained with input %s; this spec's is %s\n", weights,
                trained_input, input);
        warned++;
    }
    if (!ds)
        return warned;
    real_path(ds, here, sizeof here);
    if (data && *data && strcmp(data, here) != 0) {
        fprintf(stderr, "warning: %s was trained on %s (%s); this data is %s (%s)\n", weights,
                data, format ? format : "?", here, ds->format ? ds->format : "?");
        warned++;
    }
    int n = 0;
    char **names = lenet_meta_classes(meta, &n);
    int differ = names && ds->class_names && n != ds->n_classes;
    for (int c = 0; names && ds->class_names && !differ && c < n; c++)
        differ = strcmp(names[c], ds->class_names[c]) != 0;
    if (differ) {
        char a[256], b[256];
        fprintf(stderr, "warning: %s was trained on the classes %s; this data's are %s\n",
                weights, lenet_name_list(names, n, a, sizeof a),
                lenet_name_list(ds->class_names, ds->n_classes, b, sizeof b));
        warned++;
    }
    lenet_free_names(names, n);
    return warned;
}
