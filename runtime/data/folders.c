/* folders.c: image folders (Keras' image_dataset_from_directory, torchvision's
 * ImageFolder): PART/<class>/<image>.png|.jpg|.jpeg.
 *
 * Classes are the folder names in strcmp order, images in strcmp order in
 * each; the set takes the classes in turn (each one's first image, then
 * each one's second...), so that its first N images (--limit N) hold every
 * class in about its share, as a shuffled set's do. Names starting with '.' are hidden and left out (say .DS_Store);
 * anything else that is not a class folder, or not a .png, .jpg or .jpeg
 * file in one, is an error, as is a class folder without images: nothing
 * is skipped without a word.
 *
 * Images are decoded on all workers (decode.c), each made into the model's
 * size and channels (pixels.c). The result, uint8 as every data set, is
 * cached in CACHE/PART-HxWxC.bin, keyed by every file's name, size and
 * modification time and the target size: a second run reads one file.
 */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lenet_core.h"
#include "lenet_data.h"
#include "lenet_io.h"

#define MAX_IMAGES 10000000
/* 2: transparency by pixels.c's rule (1 composited over black): a cache of
 * another version is rebuilt, never read as this one's pixels */
#define CACHE_MAGIC "LENETCC2"

typedef struct {
    char *path; /* DIR/class/name */
    int label;
    long long size, mtime_ns;
} entry;

typedef struct {
    char **v;
    int n, cap;
} names;

static int push_name(names *l, const char *s) {
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 16;
        char **v = realloc(l->v, sizeof *v * (size_t)cap);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    return (l->v[l->n] = strdup(s)) ? (l->n++, 0) : -1;
}

static void free_names(names *l) {
    for (int i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int by_strcmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The visible entries of dir, sorted. */
static int list_dir(const char *dir, names *out, lenet_error *err) {
    DIR *d = opendir(dir);
    if (!d) {
        lenet_set_error(err, "%s: %s", dir, strerror(errno));
        return -1;
    }
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' && push_name(out, e->d_name)) {
            closedir(d);
            lenet_set_error(err, "%s: out of memory", dir);
            return -1;
        }
    closedir(d);
    if (out->n > 1)
        qsort(out->v, (size_t)out->n, sizeof *out->v, by_strcmp);
    return 0;
}

static int is_image_name(const char *s) {
    const char *dot = strrchr(s, '.');
    return dot && (!strcasecmp(dot, ".png") || !strcasecmp(dot, ".jpg") ||
                   !strcasecmp(dot, ".jpeg"));
}

static char *join(const char *a, const char *b) {
    size_t n = strlen(a) + strlen(b) + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s/%s", a, b);
    return s;
}

/* ---- the cache ---------------------------------------------------------- */

/* FNV-1a over bytes: the key of the folder's files. */
static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

/* A checksum of the cached bytes, 8 at a time (fast enough to add little
 * to reading them). */
static uint64_t checksum(const uint8_t *p, size_t n) {
    uint64_t h = 0x9e3779b97f4a7c15ull;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 29;
    }
    for (; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

typedef struct {
    uint64_t key;
    const lenet_dataset *ds;
} cache_out;

static int put32(FILE *f, uint32_t v) { return fwrite(&v, 4, 1, f) == 1 ? 0 : -1; }

/* Header (magic, key, count, h, w, c, classes, names), labels, images,
 * then the checksum of labels and images. Native byte order: the cache is
 * this machine's. */
static int write_cache(FILE *f, void *ctx) {
    const cache_out *c = ctx;
    const lenet_dataset *ds = c->ds;
    const size_t bytes = (size_t)ds->count * ds->rows * ds->cols * ds->channels;
    if (fwrite(CACHE_MAGIC, 8, 1, f) != 1 || fwrite(&c->key, 8, 1, f) != 1 ||
        put32(f, (uint32_t)ds->count) || put32(f, (uint32_t)ds->rows) ||
        put32(f, (uint32_t)ds->cols) || put32(f, (uint32_t)ds->channels) ||
        put32(f, (uint32_t)ds->n_classes))
        return -1;
    for (int k = 0; k < ds->n_classes; k++) {
        const uint32_t len = (uint32_t)strlen(ds->class_names[k]);
        if (put32(f, len) || fwrite(ds->class_names[k], 1, len, f) != len)
            return -1;
    }
    const uint64_t sum = checksum(ds->images, bytes) ^ checksum(ds->labels, (size_t)ds->count);
    if (fwrite(ds->labels, 1, (size_t)ds->count, f) != (size_t)ds->count ||
        fwrite(ds->images, 1, bytes, f) != bytes || fwrite(&sum, 8, 1, f) != 1)
        return -1;
    return 0;
}

/* Reads path into ds if it holds exactly this key and shape: 0; else -1 (a
 * cache that is missing, stale or damaged is rebuilt, not an error). */
static int read_cache(const char *path, uint64_t key, int count, int h, int w, int c,
                      const names *classes, lenet_dataset *ds) {
    lenet_error ignored;
    int fd = lenet_open_regular(path, &ignored);
    if (fd < 0)
        return -1;
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        close(fd);
        return -1;
    }
    char magic[8];
    uint64_t k;
    uint32_t hdr[5];
    int ok = fread(magic, 8, 1, f) == 1 && !memcmp(magic, CACHE_MAGIC, 8) &&
             fread(&k, 8, 1, f) == 1 && k == key && fread(hdr, 4, 5, f) == 5 &&
             hdr[0] == (uint32_t)count && hdr[1] == (uint32_t)h && hdr[2] == (uint32_t)w &&
             hdr[3] == (uint32_t)c && hdr[4] == (uint32_t)classes->n;
    for (int i = 0; ok && i < classes->n; i++) {
        uint32_t len;
        char name[256];
        ok = fread(&len, 4, 1, f) == 1 && len == strlen(classes->v[i]) && len < sizeof name &&
             fread(name, 1, len, f) == len && !memcmp(name, classes->v[i], len);
    }
    const size_t bytes = (size_t)count * h * w * c;
    uint64_t sum;
    uint8_t *labels = ok ? malloc((size_t)count) : NULL, *images = ok ? malloc(bytes) : NULL;
    char extra;
    ok = ok && labels && images && fread(labels, 1, (size_t)count, f) == (size_t)count &&
         fread(images, 1, bytes, f) == bytes && fread(&sum, 8, 1, f) == 1 &&
         fread(&extra, 1, 1, f) == 0 &&
         sum == (checksum(images, bytes) ^ checksum(labels, (size_t)count));
    fclose(f);
    if (!ok) {
        free(labels);
        free(images);
        return -1;
    }
    ds->labels = labels;
    ds->images = images;
    return 0;
}

/* ---- decoding on every worker ------------------------------------------ */

typedef struct {
    const entry *e;
    int n, h, w, c;
    uint8_t *images;
    atomic_int next;
    atomic_int failed;
    int bad[LENET_MAX_THREADS]; /* each worker's first failing image, or -1 */
    lenet_error err[LENET_MAX_THREADS];
} decode_job;

static void decode_work(void *ctx, int worker, int n_workers) {
    decode_job *j = ctx;
    (void)n_workers;
    j->bad[worker] = -1;
    for (;;) {
        const int i = atomic_fetch_add(&j->next, 1);
        if (i >= j->n || atomic_load(&j->failed))
            return;
        lenet_image img;
        if (lenet_decode_image(j->e[i].path, &img, &j->err[worker])) {
            j->bad[worker] = i;
            atomic_store(&j->failed, 1);
            return;
        }
        lenet_fit_pixels(img.px, img.h, img.w, img.c,
                         j->images + (size_t)i * j->h * j->w * j->c, j->h, j->w, j->c);
        free(img.px);
    }
}

static int decode_all(const entry *e, int n, int h, int w, int c, int threads, uint8_t *images,
                      lenet_error *err) {
    decode_job *j = calloc(1, sizeof *j);
    lenet_threads *set = lenet_threads_create(threads > 0 ? threads : lenet_default_threads());
    if (!j || !set) {
        free(j);
        lenet_threads_free(set);
        lenet_set_error(err, "%s: out of memory", e[0].path);
        return -1;
    }
    *j = (decode_job){.e = e, .n = n, .h = h, .w = w, .c = c, .images = images};
    lenet_threads_run(set, decode_work, j);
    /* the first bad image any worker met (the lowest index, when several) */
    int first = -1, rc = 0;
    for (int k = 0; k < lenet_threads_size(set); k++)
        if (j->bad[k] >= 0 && (first < 0 || j->bad[k] < j->bad[first]))
            first = k;
    if (first >= 0) {
        *err = j->err[first];
        rc = -1;
    }
    lenet_threads_free(set);
    free(j);
    return rc;
}

/* ---- the part ------------------------------------------------------------ */

/* Images whose pixels all lie within FLAT_RANGE levels of each other: blank
 * as the model gets them (black ink composited over black, say), worth a
 * word, since a set of them trains to chance without one. */
#define FLAT_RANGE 16

static int count_flat(const lenet_dataset *ds) {
    const size_t n = (size_t)ds->rows * ds->cols * ds->channels;
    int flat = 0;
    for (int i = 0; i < ds->count; i++) {
        const uint8_t *p = ds->images + n * i;
        uint8_t lo = 255, hi = 0;
        for (size_t k = 0; k < n; k++) {
            lo = p[k] < lo ? p[k] : lo;
            hi = p[k] > hi ? p[k] : hi;
        }
        flat += hi - lo < FLAT_RANGE;
    }
    return flat;
}

/* name with every byte outside printable ASCII as \xNN, into buf */
static const char *escaped(const char *name, char *buf, size_t size) {
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)name; *p && n + 5 < size; p++)
        n += (size_t)snprintf(buf + n, size - n, *p >= 0x20 && *p < 0x7f ? "%c" : "\\x%02X", *p);
    buf[n] = '\0';
    return buf;
}

/* A class name is kept as text (the weights' metadata is JSON): a folder
 * name that is not UTF-8 would be dropped there, so it is refused here. */
static int is_utf8(const char *s) {
    json_t *j = json_string(s); /* jansson checks the encoding */
    json_decref(j);
    return j != NULL;
}

/* Class folders of dir and their images. */
/* e's n entries, in runs of one class each (0, 1, ... k - 1), reordered
 * to take the classes in turn, each in its own order. */
static int interleave(entry *e, int n, int k) {
    if (n < 1 || k < 1)
        return 0;
    entry *by = malloc(sizeof *by * (size_t)n);
    int *first = calloc((size_t)k + 1, sizeof *first), *taken = calloc((size_t)k, sizeof *taken);
    if (!by || !first || !taken) {
        free(by);
        free(first);
        free(taken);
        return -1;
    }
    for (int i = 0; i < n; i++)
        first[e[i].label + 1]++;
    for (int c = 0; c < k; c++)
        first[c + 1] += first[c];
    for (int m = 0; m < n;)
        for (int c = 0; c < k; c++)
            if (first[c] + taken[c] < first[c + 1])
                by[m++] = e[first[c] + taken[c]++];
    memcpy(e, by, sizeof *e * (size_t)n);
    free(by);
    free(first);
    free(taken);
    return 0;
}

static int scan(const char *dir, int classes, names *cls, entry **out, int *count,
                lenet_error *err) {
    if (list_dir(dir, cls, err))
        return -1;
    for (int k = 0; k < cls->n; k++) {
        char *p = join(dir, cls->v[k]);
        struct stat st;
        int isdir = p && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
        if (!isdir) {
            lenet_set_error(err, "%s/%s: not a class folder (%s holds one folder of images "
                            "per class)", dir, cls->v[k], dir);
            free(p);
            return -1;
        }
        if (!is_utf8(cls->v[k])) {
            char shown[256];
            lenet_set_error(err, "%s/%s: a class folder whose name is not UTF-8 (rename it: "
                            "class names are kept as text with the weights)", dir,
                            escaped(cls->v[k], shown, sizeof shown));
            free(p);
            return -1;
        }
        free(p);
    }
    if (cls->n == 0) {
        lenet_set_error(err, "%s: no class folders", dir);
        return -1;
    }
    if (cls->n > LENET_MAX_CLASSES) {
        lenet_set_error(err, "%s: %d class folders; labels are bytes, so at most %d", dir,
                        cls->n, LENET_MAX_CLASSES);
        return -1;
    }
    if (cls->n > classes) {
        lenet_set_error(err, "%s: %d class folders, but the model gives %d class scores", dir,
                        cls->n, classes);
        return -1;
    }
    entry *e = NULL;
    int n = 0, cap = 0;
    for (int k = 0; k < cls->n; k++) {
        char *cdir = join(dir, cls->v[k]);
        names files = {0};
        if (!cdir || list_dir(cdir, &files, err))
            goto fail_class;
        if (files.n == 0) {
            lenet_set_error(err, "%s: no images (.png, .jpg, .jpeg) in this class folder", cdir);
            goto fail_class;
        }
        for (int i = 0; i < files.n; i++) {
            char *p = join(cdir, files.v[i]);
            struct stat st;
            if (!p) {
                lenet_set_error(err, "%s: out of memory", cdir);
                goto fail_class;
            }
            if (stat(p, &st) != 0 || !S_ISREG(st.st_mode) || !is_image_name(files.v[i])) {
                lenet_set_error(err, "%s: %s", p,
                                stat(p, &st) != 0 ? strerror(errno)
                                : !S_ISREG(st.st_mode)
                                    ? "not a file (a class folder holds only images)"
                                    : "not a .png, .jpg or .jpeg image");
                free(p);
                goto fail_class;
            }
            if (n == cap) {
                cap = cap ? 2 * cap : 1024;
                entry *ne = n < MAX_IMAGES ? realloc(e, sizeof *e * (size_t)cap) : NULL;
                if (!ne) {
                    lenet_set_error(err, "%s: %s", p,
                                    n < MAX_IMAGES ? "out of memory" : "too many images");
                    free(p);
                    goto fail_class;
                }
                e = ne;
            }
            e[n++] = (entry){p, k, (long long)st.st_size,
                             (long long)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec};
        }
        free_names(&files);
        free(cdir);
        continue;
    fail_class:
        free_names(&files);
        free(cdir);
        for (int i = 0; i < n; i++)
            free(e[i].path);
        free(e);
        return -1;
    }
    if (interleave(e, n, cls->n)) {
        lenet_set_error(err, "%s: out of memory", dir);
        for (int i = 0; i < n; i++)
            free(e[i].path);
        free(e);
        return -1;
    }
    *out = e;
    *count = n;
    return 0;
}

int lenet_load_folders(const char *dir, const char *part, int h, int w, int c, int classes,
                       int threads, const char *cache_dir, lenet_dataset *out, lenet_error *err) {
    memset(out, 0, sizeof *out);
    if (c != 1 && c != 3) {
        lenet_set_error(err, "%s: image folders give gray (1 channel) or RGB (3) images; the "
                        "model takes %d channels", dir, c);
        return -1;
    }
    names cls = {0};
    entry *e = NULL;
    int n = 0, rc = -1;
    char *cache = NULL;
    if (scan(dir, classes, &cls, &e, &n, err))
        goto out;

    /* the key: every file's name, size and time, and what they become */
    uint64_t key = fnv(0xcbf29ce484222325ull, CACHE_MAGIC, 8);
    const int shape[3] = {h, w, c};
    key = fnv(key, shape, sizeof shape);
    for (int i = 0; i < n; i++) {
        key = fnv(key, e[i].path + strlen(dir), strlen(e[i].path + strlen(dir)) + 1);
        key = fnv(key, &e[i].size, sizeof e[i].size);
        key = fnv(key, &e[i].mtime_ns, sizeof e[i].mtime_ns);
    }
    out->count = n;
    out->rows = h;
    out->cols = w;
    out->channels = c;
    out->n_classes = cls.n;
    out->format = "image folders";
    if (cache_dir) {
        char name[64];
        snprintf(name, sizeof name, "%s-%dx%dx%d.bin", part, h, w, c);
        cache = join(cache_dir, name);
    }
    if (cache && read_cache(cache, key, n, h, w, c, &cls, out) == 0) {
        snprintf(out->note, sizeof out->note, "read from the cache %s", cache_dir);
    } else {
        out->labels = malloc((size_t)n);
        out->images = malloc((size_t)n * h * w * c);
        if (!out->labels || !out->images) {
            lenet_set_error(err, "%s: out of memory for %d images of %dx%dx%d", dir, n, h, w, c);
            goto out;
        }
        for (int i = 0; i < n; i++)
            out->labels[i] = (uint8_t)e[i].label;
        if (decode_all(e, n, h, w, c, threads, out->images, err))
            goto out;
    }
    const int flat = count_flat(out);
    if (flat)
        fprintf(stderr, "warning: %s: %d of %d images are nearly constant after decoding (every "
                "pixel within %d levels): blank to the model; are they drawn in the colour "
                "of their background?\n", dir, flat, n, FLAT_RANGE - 1);
    out->class_names = cls.v; /* the dataset owns them now */
    cls.v = NULL;
    cls.n = 0;
    if (cache && !out->note[0]) {
        lenet_error werr;
        if (lenet_write_atomic(cache, write_cache, &(cache_out){key, out}, &werr) == 0)
            snprintf(out->note, sizeof out->note, "decoded, cache written to %s", cache_dir);
        else
            snprintf(out->note, sizeof out->note, "decoded; no cache: %.170s", werr.msg);
    }
    rc = 0;
out:
    if (rc)
        lenet_free_dataset(out);
    free_names(&cls);
    for (int i = 0; i < n; i++)
        free(e[i].path);
    free(e);
    free(cache);
    return rc;
}
