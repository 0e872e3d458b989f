/* dataset.c: what --data (or $LENETC_DATA, or the IDX files named one by one)
 * holds, loaded as the model needs it.
 *
 * The format is found from what is there (IDX files with MNIST's names,
 * CIFAR batches, train/ and test/ folders) and never guessed further: a path
 * that does not exist or holds none of them is an error, and the default
 * search list (data.c) is used only when nothing names the data. Every part
 * is then checked against the model: image size, channels, classes.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lenet_core.h"
#include "lenet_data.h"
#include "lenet_io.h"
#include "lenet_model.h"

lenet_data_request lenet_data_request_for(const lenet_model *m) {
    return (lenet_data_request){.h = m->data_h, .w = m->data_w, .c = m->data_c,
                                .classes = m->n_classes};
}

static int exists(const char *path, int want_dir) {
    struct stat st;
    return stat(path, &st) == 0 && (want_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode));
}

/* dir/base.gz or dir/base into path, whichever exists (gz first). */
static int find_idx(char *path, const char *dir, const char *base) {
    snprintf(path, PATH_MAX, "%s/%s.gz", dir, base);
    if (exists(path, 0))
        return 1;
    snprintf(path, PATH_MAX, "%s/%s", dir, base);
    return exists(path, 0);
}

/* ---- the formats --------------------------------------------------------- */

static int load_idx_dir(const char *dir, const char *kind, int classes, lenet_dataset *out,
                        lenet_error *err) {
    char ib[64], lb[64], ip[PATH_MAX], lp[PATH_MAX];
    snprintf(ib, sizeof ib, "%s-images-idx3-ubyte", kind);
    snprintf(lb, sizeof lb, "%s-labels-idx1-ubyte", kind);
    if (!find_idx(ip, dir, ib) || !find_idx(lp, dir, lb)) {
        lenet_set_error(err, "%s: IDX data without %s[.gz]", dir, find_idx(ip, dir, ib) ? lb : ib);
        return -1;
    }
    if (lenet_load_idx(ip, lp, classes, out, err))
        return -1;
    free(out->path);
    return (out->path = strdup(dir)) ? 0 : -1;
}

/* The number of a data_batch_N.bin name, for the order 1, 2, ..., 10. */
static long batch_number(const char *name) {
    return strtol(name + strlen("data_batch_"), NULL, 10);
}

static int by_batch(const void *a, const void *b) {
    const char *x = *(char *const *)a, *y = *(char *const *)b;
    long d = batch_number(x) - batch_number(y);
    return d ? (d < 0 ? -1 : 1) : strcmp(x, y);
}

/* dir's data_batch_*.bin, in number order; how many (0: none). */
static int cifar_batches(const char *dir, char ***out) {
    DIR *d = opendir(dir);
    *out = NULL;
    if (!d)
        return 0;
    int n = 0;
    char **v = NULL;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, "data_batch_", 11) || len < 15 ||
            strcmp(e->d_name + len - 4, ".bin"))
            continue;
        char **nv = realloc(v, sizeof *v * (size_t)(n + 1));
        if (!nv || !(nv[n] = strdup(e->d_name))) {
            v = nv ? nv : v;
            break;
        }
        v = nv;
        n++;
    }
    closedir(d);
    if (n > 1)
        qsort(v, (size_t)n, sizeof *v, by_batch);
    for (int i = 0; i < n; i++) { /* the names become paths */
        char *full = malloc(strlen(dir) + strlen(v[i]) + 2);
        if (full)
            sprintf(full, "%s/%s", dir, v[i]);
        free(v[i]);
        v[i] = full ? full : strdup("");
    }
    *out = v;
    return n;
}

/* batches.meta.txt's names (CIFAR-10's tarball has one: a name a line)
 * replace the digits, if there. */
static int cifar_names(const char *dir, lenet_dataset *ds, lenet_error *err) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/batches.meta.txt", dir);
    if (!exists(path, 0))
        return 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        lenet_set_error(err, "%s: %s", path, strerror(errno));
        return -1;
    }
    char line[256], *names[LENET_MAX_CLASSES];
    int n = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0])
            continue;
        if (n == LENET_MAX_CLASSES) {
            lenet_set_error(err, "%s: more than %d names", path, LENET_MAX_CLASSES);
            rc = -1;
            break;
        }
        if (!(names[n++] = strdup(line))) {
            n--;
            rc = -1;
            lenet_set_error(err, "%s: out of memory", path);
            break;
        }
    }
    fclose(f);
    if (!rc && n < ds->n_classes) {
        lenet_set_error(err, "%s: names %d classes, but the labels go up to %d", path, n,
                        ds->n_classes - 1);
        rc = -1;
    }
    if (rc) {
        for (int i = 0; i < n; i++)
            free(names[i]);
        return -1;
    }
    for (int i = 0; i < ds->n_classes; i++)
        free(ds->class_names[i]);
    free(ds->class_names);
    ds->class_names = malloc(sizeof *ds->class_names * (size_t)n);
    if (!ds->class_names) {
        for (int i = 0; i < n; i++)
            free(names[i]);
        ds->n_classes = 0;
        lenet_set_error(err, "%s: out of memory", path);
        return -1;
    }
    memcpy(ds->class_names, names, sizeof *names * (size_t)n);
    ds->n_classes = n;
    return 0;
}

static int load_cifar_dir(const char *dir, int train, int classes, lenet_dataset *out,
                          lenet_error *err) {
    char **files = NULL, test[PATH_MAX + 16];
    int n;
    if (train) {
        n = cifar_batches(dir, &files);
        if (n == 0) {
            lenet_set_error(err, "%s: CIFAR data without data_batch_*.bin (the training set)",
                            dir);
            return -1;
        }
    } else {
        snprintf(test, sizeof test, "%s/test_batch.bin", dir);
        if (!exists(test, 0)) {
            lenet_set_error(err, "%s: CIFAR data without test_batch.bin (the test set)", dir);
            return -1;
        }
        n = 1;
    }
    const char *one[1] = {test};
    int rc = lenet_load_cifar(train ? (const char *const *)files : one, n, classes, out, err);
    if (train) {
        for (int i = 0; i < n; i++)
            free(files[i]);
        free(files);
    }
    if (rc == 0 && (!(out->path = strdup(dir)) || cifar_names(dir, out, err))) {
        lenet_free_dataset(out);
        return -1;
    }
    return rc;
}

/* PATH/.lenetc-cache if it is or can be made a directory; else NULL and why
 * in note. */
static char *cache_dir(const char *dir, char *note, size_t size) {
    char *c = malloc(strlen(dir) + 16);
    if (!c)
        return NULL;
    sprintf(c, "%s/.lenetc-cache", dir);
    if (mkdir(c, 0777) == 0 || (errno == EEXIST && exists(c, 1)))
        return c;
    snprintf(note, size, "no cache: %s: %s", c, errno == EEXIST ? "not a directory" : strerror(errno));
    free(c);
    return NULL;
}

static int load_folders_dir(const char *dir, const lenet_data_request *rq, lenet_dataset *train,
                            lenet_dataset *test, lenet_error *err) {
    char tdir[PATH_MAX + 8], note[200] = "";
    char *cache = cache_dir(dir, note, sizeof note);
    int rc = 0;
    if (train) {
        snprintf(tdir, sizeof tdir, "%s/train", dir);
        rc = lenet_load_folders(tdir, "train", rq->h, rq->w, rq->c, rq->classes, rq->threads,
                                cache, train, err);
    }
    snprintf(tdir, sizeof tdir, "%s/test", dir);
    if (!rc && train && rq->test_optional && !exists(tdir, 1)) {
        /* no test set: an empty one of the training set's classes */
        *test = (lenet_dataset){.rows = rq->h, .cols = rq->w, .channels = rq->c,
                                .format = train->format};
        rc = lenet_match_classes(test, tdir, train->class_names, train->n_classes, "", err);
    } else if (!rc) {
        rc = lenet_load_folders(tdir, "test", rq->h, rq->w, rq->c, rq->classes, rq->threads,
                                cache, test, err);
        if (!rc && train) /* labels by name, not position */
            rc = lenet_match_classes(test, tdir, train->class_names, train->n_classes,
                                     "the training set's", err);
    }
    free(cache);
    lenet_dataset *parts[2] = {train, test};
    for (int i = 0; !rc && i < 2; i++) {
        if (!parts[i])
            continue;
        if (!(parts[i]->path = strdup(dir)))
            rc = -1;
        if (note[0])
            snprintf(parts[i]->note, sizeof parts[i]->note, "%s", note);
    }
    return rc;
}

/* ---- checks against the model --------------------------------------------- */

static int check_part(const lenet_dataset *ds, const lenet_data_request *rq, const char *what,
                      lenet_error *err) {
    if (ds->rows != rq->h || ds->cols != rq->w || ds->channels != rq->c) {
        lenet_set_error(err, "%s: the %s set has %dx%dx%d images (%s), but the model takes "
                        "%dx%dx%d", ds->path, what, ds->rows, ds->cols, ds->channels,
                        ds->format, rq->h, rq->w, rq->c);
        return -1;
    }
    if (ds->n_classes > rq->classes) { /* more names than the model has scores */
        lenet_set_error(err, "%s: the %s set has %d classes, but the model gives %d class "
                        "scores", ds->path, what, ds->n_classes, rq->classes);
        return -1;
    }
    return 0;
}

/* Both parts name the same classes: the larger set of digits, for IDX and
 * CIFAR without names, whose count comes from the labels seen. */
static int same_classes(lenet_dataset *a, lenet_dataset *b, lenet_error *err) {
    lenet_dataset *small = a->n_classes < b->n_classes ? a : b;
    const int n = a->n_classes > b->n_classes ? a->n_classes : b->n_classes;
    if (small->n_classes == n)
        return 0;
    char **names = lenet_digit_names(n);
    if (!names) {
        lenet_set_error(err, "out of memory");
        return -1;
    }
    for (int i = 0; i < small->n_classes; i++)
        free(small->class_names[i]);
    free(small->class_names);
    small->class_names = names;
    small->n_classes = n;
    return 0;
}

int lenet_match_classes(lenet_dataset *ds, const char *where, char *const *names, int n,
                        const char *whose, lenet_error *err) {
    int map[LENET_MAX_CLASSES];
    if (n < 1 || n > LENET_MAX_CLASSES) {
        lenet_set_error(err, "%s: %d classes to match", where, n);
        return -1;
    }
    for (int c = 0; c < ds->n_classes; c++) {
        map[c] = -1;
        for (int k = 0; k < n && map[c] < 0; k++)
            if (!strcmp(ds->class_names[c], names[k]))
                map[c] = k;
        if (map[c] < 0) {
            char list[512];
            lenet_set_error(err, "%s: class '%s' is not one of %s classes (%s)", where,
                            ds->class_names[c], whose,
                            lenet_name_list(names, n, list, sizeof list));
            return -1;
        }
    }
    char **own = calloc((size_t)n, sizeof *own);
    for (int k = 0; own && k < n; k++)
        if (!(own[k] = strdup(names[k]))) {
            lenet_free_names(own, k);
            own = NULL;
        }
    if (!own) {
        lenet_set_error(err, "out of memory");
        return -1;
    }
    for (int i = 0; i < ds->count; i++)
        ds->labels[i] = (uint8_t)map[ds->labels[i]];
    lenet_free_names(ds->class_names, ds->n_classes);
    ds->class_names = own;
    ds->n_classes = n;
    return 0;
}

/* ---- the entry point ------------------------------------------------------- */

static int load_named_files(const lenet_data_request *rq, lenet_dataset *train,
                            lenet_dataset *test, lenet_error *err) {
    if (rq->path) {
        lenet_set_error(err, "--data and the files named one by one (--train-images, ...) "
                        "are either-or");
        return -1;
    }
    const char *need[4][2] = {{rq->train_images, "--train-images"},
                              {rq->train_labels, "--train-labels"},
                              {rq->test_images, "--test-images"},
                              {rq->test_labels, "--test-labels"}};
    for (int i = train ? 0 : 2; i < 4; i++)
        if (!need[i][0]) {
            lenet_set_error(err, "IDX files named one by one: %s is missing (%s)", need[i][1],
                            train ? "give all four of --train-images, --train-labels, "
                                    "--test-images and --test-labels"
                                  : "give --test-images and --test-labels");
            return -1;
        }
    if (train && lenet_load_idx(rq->train_images, rq->train_labels, rq->classes, train, err))
        return -1;
    return lenet_load_idx(rq->test_images, rq->test_labels, rq->classes, test, err);
}

int lenet_load_data(const lenet_data_request *rq, lenet_dataset *train, lenet_dataset *test,
                    lenet_error *err) {
    if (train)
        memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    int rc;
    if (rq->train_images || rq->train_labels || rq->test_images || rq->test_labels) {
        rc = load_named_files(rq, train, test, err);
        goto checks;
    }
    /* what names the data: --data, else $LENETC_DATA, else the search list */
    const char *dir = rq->path, *env = getenv("LENETC_DATA"), *named = "--data";
    char found[PATH_MAX];
    if (!dir && env && *env) {
        dir = env;
        named = "LENETC_DATA=";
    }
    if (!dir) {
        if (lenet_find_mnist(train ? "train" : "t10k", found, sizeof found, err))
            return -1;
        dir = found;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        lenet_set_error(err, "%s%s%s: %s", named, named[0] == '-' ? " " : "", dir,
                        stat(dir, &st) != 0 ? strerror(errno)
                                            : "not a directory (for single IDX files: "
                                              "--train-images, --train-labels, ...)");
        return -1;
    }
    char p[PATH_MAX], tb[PATH_MAX + 16], **batches = NULL;
    snprintf(tb, sizeof tb, "%s/test_batch.bin", dir);
    const int nb = cifar_batches(dir, &batches);
    for (int i = 0; i < nb; i++)
        free(batches[i]);
    free(batches);
    if (find_idx(p, dir, "train-images-idx3-ubyte") || find_idx(p, dir, "t10k-images-idx3-ubyte") ||
        find_idx(p, dir, "train-labels-idx1-ubyte") || find_idx(p, dir, "t10k-labels-idx1-ubyte")) {
        rc = (train && load_idx_dir(dir, "train", rq->classes, train, err)) ||
                     load_idx_dir(dir, "t10k", rq->classes, test, err)
                 ? -1
                 : 0;
    } else if (nb > 0 || exists(tb, 0)) {
        rc = (train && load_cifar_dir(dir, 1, rq->classes, train, err)) ||
                     load_cifar_dir(dir, 0, rq->classes, test, err)
                 ? -1
                 : 0;
    } else {
        char tr[PATH_MAX + 8], te[PATH_MAX + 8];
        snprintf(tr, sizeof tr, "%s/train", dir);
        snprintf(te, sizeof te, "%s/test", dir);
        if (!exists(tr, 1) && !exists(te, 1)) {
            lenet_set_error(err, "%s: no data found: expected IDX files "
                            "(train-images-idx3-ubyte[.gz], ...), CIFAR batches "
                            "(data_batch_*.bin, test_batch.bin) or image folders "
                            "(train/<class>/, test/<class>/)", dir);
            return -1;
        }
        rc = load_folders_dir(dir, rq, train, test, err);
    }
checks:
    if (!rc && train && check_part(train, rq, "training", err))
        rc = -1;
    if (!rc && check_part(test, rq, "test", err))
        rc = -1;
    if (!rc && train && train->class_names && test->class_names &&
        !strcmp(train->class_names[0], "0") && !strcmp(test->class_names[0], "0") &&
        same_classes(train, test, err))
        rc = -1;
    if (rc) {
        if (train)
            lenet_free_dataset(train);
        lenet_free_dataset(test);
    }
    return rc;
}

void lenet_describe_data(const lenet_dataset *train, const lenet_dataset *test, char *buf,
                         size_t size) {
    const lenet_dataset *d = train ? train : test;
    int n = 0;
    if (train && strcmp(train->path, test->path))
        n = snprintf(buf, size, "%s + %s (%s, %d train + %d test", train->path, test->path,
                     d->format, train->count, test->count);
    else if (train && !test->count)
        n = snprintf(buf, size, "%s (%s, %d train, no test set", d->path, d->format, train->count);
    else if (train)
        n = snprintf(buf, size, "%s (%s, %d train + %d test", d->path, d->format, train->count,
                     test->count);
    else
        n = snprintf(buf, size, "%s (%s, %d test", d->path, d->format, test->count);
    if (n < 0 || (size_t)n >= size)
        return;
    n += snprintf(buf + n, size - (size_t)n, ", %dx%dx%d, %d classes)", d->rows, d->cols,
                  d->channels, d->n_classes);
    const char *notes[2] = {train ? train->note : "", test->note};
    for (int i = 0; i < 2 && (size_t)n < size; i++)
        if (notes[i][0] && (i == 0 || strcmp(notes[0], notes[1])))
            n += snprintf(buf + n, size - (size_t)n, "; %s%s", i && train ? "test: " : "",
                          notes[i]);
}
