/* data.c: MNIST-style IDX files, raw or gzip'd, and where to find MNIST.
 *
 * An IDX file is a big-endian header (magic 0x000008TD: T = 08 for unsigned
 * bytes, D = number of dimensions, then one uint32 per dimension) followed
 * by the raw bytes. Images are [N, H, W] (MNIST) or [N, H, W, C] (a channel
 * dimension, pixels' channels together); labels [N]. zlib's gzread reads
 * gzip'd and plain files alike.
 *
 * Headers are not trusted: their numbers are range-checked, and the data
 * buffer grows only as bytes actually arrive, so a header that promises
 * terabytes in a 1 KB file fails with "truncated" instead of a huge malloc.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "lenet_core.h"
#include "lenet_data.h"
#include "lenet_io.h"

#define IDX_IMAGES_MAGIC 0x00000803u /* ubyte, 3 dims: count, rows, cols */
#define IDX_IMAGES4_MAGIC 0x00000804u /* ubyte, 4 dims: count, rows, cols, channels */
#define MAX_CHANNELS 64u
#define IDX_LABELS_MAGIC 0x00000801u /* ubyte, 1 dim: count */
#define MAX_SIDE 1024u
#define MAX_COUNT 10000000u
#define CHUNK (1u << 20) /* bytes per gzread and first allocation */

typedef struct {
    const char *path;
    gzFile gz;
} idx_file;

/* gzerror's message, without the "<fd:N>: " prefix zlib puts on some (the
 * file was opened by descriptor; the caller names it). */
static const char *zmsg(idx_file *f, int *errnum) {
    const char *m = gzerror(f->gz, errnum);
    const char *end = strncmp(m, "<fd:", 4) == 0 ? strstr(m, ">: ") : NULL;
    return end ? end + 3 : m;
}

/* Reads up to n bytes; *got says how many arrived before end of file.
 * Fails only on an I/O or gzip error. A gzip stream cut short is not an
 * error here (zlib reports it as Z_BUF_ERROR): the caller sees a short
 * count and says "truncated". */
static int read_bytes(idx_file *f, void *buf, size_t n, size_t *got,
                      lenet_error *err) {
    *got = 0;
    while (*got < n) {
        size_t want = n - *got < CHUNK ? n - *got : CHUNK;
        int r = gzread(f->gz, (char *)buf + *got, (unsigned)want);
        if (r < 0) {
            int errnum;
            const char *m = zmsg(f, &errnum);
            if (errnum == Z_ERRNO)
                lenet_set_error(err, "%s: read error: %s", f->path, m);
            else
                lenet_set_error(err, "%s: corrupt gzip data: %s", f->path, m);
            return -1;
        }
        if (r == 0)
            break;
        *got += (size_t)r;
    }
    return 0;
}

static uint32_t be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}

/* Opens path and reads its header: checks the magic and reads ndim sizes.
 * Images take either magic: ndim says 3, and becomes 4 for 0x804. */
static int open_idx(idx_file *f, const char *path, uint32_t magic, int *ndim_io,
                    const char *what, uint32_t *dims, lenet_error *err) {
    int ndim = *ndim_io;
    f->path = path;
    int fd = lenet_open_regular(path, err);
    if (fd < 0)
        return -1;
    f->gz = gzdopen(fd, "rb");
    if (!f->gz) {
        close(fd);
        lenet_set_error(err, "%s: cannot open: out of memory", path);
        return -1;
    }
    gzbuffer(f->gz, 1u << 17);

    unsigned char hdr[20];
    size_t got;
    if (read_bytes(f, hdr, 4, &got, err) < 0)
        return -1;
    if (got == 4 && magic == IDX_IMAGES_MAGIC && be32(hdr) == IDX_IMAGES4_MAGIC)
        *ndim_io = ndim = 4;
    else if (got == 4 && be32(hdr) != magic) {
        lenet_set_error(err, "%s: bad magic 0x%08x, expected 0x%08x (IDX %s)%s",
                        path, be32(hdr), magic, what,
                        magic == IDX_IMAGES_MAGIC ? " or 0x00000804 (with channels)" : "");
        return -1;
    }
    const size_t want = 4 + 4 * (size_t)ndim;
    size_t rest = 0;
    if (got == 4 && read_bytes(f, hdr + 4, want - 4, &rest, err) < 0)
        return -1;
    if (got + rest < want) {
        lenet_set_error(err,
                        "%s: truncated header: expected %zu bytes, got %zu",
                        path, want, got + rest);
        return -1;
    }
    for (int i = 0; i < ndim; i++)
        dims[i] = be32(hdr + 4 + 4 * i);
    return 0;
}

/* Reads exactly n data bytes into a new buffer, then insists on end of file.
 * The buffer starts small and doubles as data arrives (never beyond n). */
static int read_body(idx_file *f, uint64_t n, const char *what,
                     uint8_t **out, lenet_error *err) {
    *out = NULL;
    size_t cap = n < CHUNK ? (size_t)n : CHUNK;
    uint8_t *buf = malloc(cap);
    if (!buf) {
        lenet_set_error(err, "%s: out of memory", f->path);
        return -1;
    }
    uint64_t have = 0;
    while (have < n) {
        if (have == cap) {
            size_t ncap = cap * 2 < n ? cap * 2 : (size_t)n;
            uint8_t *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                lenet_set_error(err, "%s: out of memory reading %llu bytes",
                                f->path, (unsigned long long)n);
                return -1;
            }
            buf = nb;
            cap = ncap;
        }
        size_t want = cap - (size_t)have, got;
        if (read_bytes(f, buf + have, want, &got, err) < 0) {
            free(buf);
            return -1;
        }
        have += got;
        if (got < want)
            break; /* end of file */
    }
    if (have < n) {
        free(buf);
        lenet_set_error(err, "%s: truncated: expected %llu bytes of %s, got %llu",
                        f->path, (unsigned long long)n, what,
                        (unsigned long long)have);
        return -1;
    }
    /* One more byte must not exist. The read also lets zlib verify the gzip
     * trailer (CRC and length), which it only does at end of stream. */
    unsigned char extra;
    size_t got;
    if (read_bytes(f, &extra, 1, &got, err) < 0) {
        free(buf);
        return -1;
    }
    if (got) {
        free(buf);
        lenet_set_error(err,
                        "%s: trailing bytes after the %llu bytes of %s the "
                        "header declares",
                        f->path, (unsigned long long)n, what);
        return -1;
    }
    *out = buf;
    return 0;
}

static void close_idx(idx_file *f) {
    if (f->gz)
        gzclose(f->gz);
    f->gz = NULL;
}

int lenet_load_idx(const char *images_path, const char *labels_path, int classes,
                   lenet_dataset *out, lenet_error *err) {
    memset(out, 0, sizeof *out);
    idx_file im = {0}, lb = {0};
    uint32_t idims[4] = {0, 0, 0, 1}, ldims[1];
    uint8_t *images = NULL, *labels = NULL;
    int indim = 3, lndim = 1;
    if (classes <= 0 || classes > LENET_MAX_CLASSES)
        classes = LENET_MAX_CLASSES;

    /* Both headers first, so a count mismatch fails before any big read. */
    if (open_idx(&im, images_path, IDX_IMAGES_MAGIC, &indim, "images", idims, err) < 0)
        goto fail;
    uint32_t count = idims[0], rows = idims[1], cols = idims[2], chans = idims[3];
    if (count < 1 || count > MAX_COUNT) {
        lenet_set_error(err, "%s: bad image count %u (must be 1..%u)",
                        images_path, count, MAX_COUNT);
        goto fail;
    }
    if (rows < 1 || rows > MAX_SIDE || cols < 1 || cols > MAX_SIDE) {
        lenet_set_error(err, "%s: bad image size %ux%u (rows and cols must be 1..%u)",
                        images_path, rows, cols, MAX_SIDE);
        goto fail;
    }
    if (chans < 1 || chans > MAX_CHANNELS) {
        lenet_set_error(err, "%s: bad channel count %u (must be 1..%u)", images_path, chans,
                        MAX_CHANNELS);
        goto fail;
    }
    if (open_idx(&lb, labels_path, IDX_LABELS_MAGIC, &lndim, "labels", ldims, err) < 0)
        goto fail;
    if (ldims[0] != count) {
        lenet_set_error(err, "%s has %u images but %s has %u labels",
                        images_path, count, labels_path, ldims[0]);
        goto fail;
    }

    uint64_t npix = (uint64_t)count * rows * cols * chans;
    if (read_body(&im, npix, "pixels", &images, err) < 0)
        goto fail;
    if (read_body(&lb, count, "labels", &labels, err) < 0)
        goto fail;
    int most = 0;
    for (uint32_t i = 0; i < count; i++) {
        if (labels[i] >= classes) {
            lenet_set_error(err, "%s: label %d of record %u is out of range: %d classes "
                            "(labels 0..%d)", labels_path, (int)labels[i], i, classes,
                            classes - 1);
            goto fail;
        }
        most = labels[i] > most ? labels[i] : most;
    }
    close_idx(&im);
    close_idx(&lb);
    out->count = (int)count;
    out->rows = (int)rows;
    out->cols = (int)cols;
    out->channels = (int)chans;
    out->images = images;
    out->labels = labels;
    out->n_classes = most + 1;
    out->class_names = lenet_digit_names(out->n_classes);
    out->path = strdup(images_path);
    out->format = "IDX";
    if (!out->class_names || !out->path) {
        lenet_free_dataset(out);
        lenet_set_error(err, "%s: out of memory", images_path);
        return -1;
    }
    return 0;

fail:
    close_idx(&im);
    close_idx(&lb);
    free(images);
    free(labels);
    return -1;
}

char **lenet_digit_names(int n) {
    char **names = calloc((size_t)(n > 0 ? n : 1), sizeof *names);
    for (int i = 0; names && i < n; i++) {
        char d[16];
        snprintf(d, sizeof d, "%d", i);
        if (!(names[i] = strdup(d))) {
            for (int k = 0; k < i; k++)
                free(names[k]);
            free(names);
            return NULL;
        }
    }
    return names;
}

void lenet_free_dataset(lenet_dataset *ds) {
    if (!ds)
        return;
    free(ds->images);
    free(ds->labels);
    lenet_free_names(ds->class_names, ds->n_classes);
    free(ds->path);
    memset(ds, 0, sizeof *ds);
}

/* ---- finding MNIST ------------------------------------------------------ */

static int is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && !S_ISDIR(st.st_mode);
}

/* Sets path to dir/base.gz or dir/base, whichever exists (gz first). */
static int find_file(char *path, size_t size, const char *dir, const char *base) {
    static const char *ext[] = {".gz", ""};
    for (int i = 0; i < 2; i++) {
        int n = snprintf(path, size, "%s/%s%s", dir, base, ext[i]);
        if (n > 0 && (size_t)n < size && is_file(path))
            return 1;
    }
    return 0;
}

/* Loads kind's two files from dir; returns 1 if they are not both there. */
static int try_dir(const char *dir, const char *kind, lenet_dataset *out,
                   lenet_error *err, int *status) {
    char ibase[64], lbase[64], ipath[PATH_MAX], lpath[PATH_MAX];
    snprintf(ibase, sizeof ibase, "%s-images-idx3-ubyte", kind);
    snprintf(lbase, sizeof lbase, "%s-labels-idx1-ubyte", kind);
    if (!find_file(ipath, sizeof ipath, dir, ibase) ||
        !find_file(lpath, sizeof lpath, dir, lbase))
        return 1;
    *status = lenet_load_idx(ipath, lpath, 10, out, err);
    if (*status == 0) { /* the data set is the directory */
        free(out->path);
        if (!(out->path = strdup(dir))) {
            lenet_free_dataset(out);
            lenet_set_error(err, "%s: out of memory", dir);
            *status = -1;
        }
    }
    return 0;
}

/* The directory of the running executable, or "" if unknown. */
static const char *exe_dir(char exe[PATH_MAX]) {
    ssize_t len = readlink("/proc/self/exe", exe, PATH_MAX - 1);
    exe[len > 0 ? len : 0] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    else
        exe[0] = '\0';
    return exe;
}

/* The download script a message points at: an installed lenetc's
 * (PREFIX/bin/lenetc beside PREFIX/share/lenetc/fetch-mnist.sh) by its
 * path, else the source tree's. */
static const char *fetch_script(char path[PATH_MAX]) {
    char exe[PATH_MAX], script[PATH_MAX + 40];
    snprintf(script, sizeof script, "%s/../share/lenetc/fetch-mnist.sh", exe_dir(exe));
    return exe[0] && realpath(script, path) ? path : "scripts/fetch-mnist.sh";
}

/* The search list after $LENETC_DATA: the working directory, then next to
 * the executable, so a trainer finds the data wherever it is run from. */
int lenet_find_mnist(const char *kind, char *dir, size_t size, lenet_error *err) {
    char cand[8][PATH_MAX], probe[PATH_MAX], base[64];
    int n = 0;
    snprintf(cand[n++], PATH_MAX, "data/mnist");
    snprintf(cand[n++], PATH_MAX, "../shared/mnist");
    char exe[PATH_MAX];
    if (exe_dir(exe)[0]) {
        static const char *rel[] = {"data/mnist", "../shared/mnist", "../../shared/mnist",
                                    "../../../shared/mnist"};
        for (int i = 0; i < 4; i++) {
            int w = snprintf(cand[n], PATH_MAX, "%s/%s", exe, rel[i]);
            if (w > 0 && w < PATH_MAX) /* a cut-off path would be wrong */
                n++;
        }
    }
    snprintf(cand[n++], PATH_MAX, "/usr/share/datasets/mnist");

    snprintf(base, sizeof base, "%s-images-idx3-ubyte", kind);
    for (int i = 0; i < n; i++)
        if (find_file(probe, sizeof probe, cand[i], base) && strlen(cand[i]) < size) {
            snprintf(dir, size, "%s", cand[i]);
            return 0;
        }

    char tried[1024];
    size_t used = 0;
    tried[0] = '\0';
    for (int i = 0; i < n && used < sizeof tried; i++) {
        int w = snprintf(tried + used, sizeof tried - used, "%s%s",
                         i ? ", " : "", cand[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    char script[PATH_MAX];
    lenet_set_error(err, "MNIST %s files not found (pass --data DIR, or run %s); looked in %s",
                    kind, fetch_script(script), tried);
    return -1;
}

int lenet_load_mnist(const char *dir, const char *kind, lenet_dataset *out,
                     lenet_error *err) {
    memset(out, 0, sizeof *out);
    if (!kind || (strcmp(kind, "train") != 0 && strcmp(kind, "t10k") != 0)) {
        lenet_set_error(err, "unknown MNIST part '%s' (expected train or t10k)",
                        kind ? kind : "(null)");
        return -1;
    }
    int status;
    if (dir) {
        if (try_dir(dir, kind, out, err, &status) == 0)
            return status;
        lenet_set_error(err,
                        "no MNIST files in %s (looked for %s-images-idx3-ubyte"
                        "[.gz] and %s-labels-idx1-ubyte[.gz])",
                        dir, kind, kind);
        return -1;
    }
    /* a $LENETC_DATA that is set is the only place looked in: a typo must
     * not fall back to other data */
    const char *env = getenv("LENETC_DATA");
    if (env && *env) {
        if (try_dir(env, kind, out, err, &status) == 0)
            return status;
        struct stat st;
        if (stat(env, &st) != 0 || !S_ISDIR(st.st_mode))
            lenet_set_error(err, "LENETC_DATA=%s: %s", env,
                            stat(env, &st) != 0 ? strerror(errno) : "not a directory");
        else
            lenet_set_error(err,
                            "LENETC_DATA=%s: no MNIST files (looked for %s-images-idx3-ubyte"
                            "[.gz] and %s-labels-idx1-ubyte[.gz])",
                            env, kind, kind);
        return -1;
    }
    char found[PATH_MAX];
    if (lenet_find_mnist(kind, found, sizeof found, err))
        return -1;
    if (try_dir(found, kind, out, err, &status) == 0)
        return status;
    lenet_set_error(err, "%s: no %s-labels-idx1-ubyte[.gz] beside its images", found, kind);
    return -1;
}
