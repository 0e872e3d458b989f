/* safetensors.c: weights in the safetensors format of Hugging Face / PyTorch.
 *
 * A file is: u64 little-endian header length N, N bytes of JSON header, then
 * the data section. The header maps each tensor name to
 *   {"dtype":"F32","shape":[...],"data_offsets":[begin,end]}
 * with byte offsets relative to the data section, plus an optional
 * "__metadata__" object of strings. jansson parses and prints the JSON.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lenet_core.h"
#include "lenet_io.h"
#include "lenet_model.h"

/* Tensor data goes to and from disk as the host's own floats. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "safetensors data is little-endian; this host is not");
_Static_assert(sizeof(float) == 4, "F32 tensors need 4-byte floats");

/* Limits checked before allocating, so a corrupt length cannot exhaust
 * memory. The header limit is the reference implementation's. */
#define MAX_FILE_BYTES ((uint64_t)1 << 30)
#define MAX_HEADER_BYTES ((uint64_t)100000000)

#define METADATA_KEY "__metadata__"

/* Multiplies element counts, saturating just above anything a file within
 * MAX_FILE_BYTES can hold, so a hostile shape cannot overflow. */
static uint64_t mul_capped(uint64_t a, uint64_t b) {
    if (a == 0 || b == 0)
        return 0;
    if (a > MAX_FILE_BYTES / b)
        return MAX_FILE_BYTES + 1;
    return a * b;
}

/* Checks the model's tensor table, so neither direction can touch floats
 * outside params or write a header with two entries of one name. */
static int check_model(const lenet_model *m, const char *path,
                       lenet_error *err) {
    for (int i = 0; i < m->n_tensors; i++) {
        const lenet_tensor *t = &m->tensors[i];
        uint64_t n = 1;
        int ok = t->name && t->ndim >= 0 && t->ndim <= 4;
        for (int d = 0; ok && d < t->ndim; d++) {
            ok = t->dims[d] >= 0;
            n = mul_capped(n, ok ? (uint64_t)t->dims[d] : 0);
        }
        ok = ok && n == t->size && t->offset <= m->n_params &&
             t->size <= m->n_params - t->offset &&
             strcmp(t->name, METADATA_KEY) != 0;
        for (int j = 0; ok && j < i; j++)
            ok = strcmp(m->tensors[j].name, t->name) != 0;
        if (!ok) {
            lenet_set_error(err, "%s: model tensor %d (%s) is inconsistent",
                            path, i, t->name ? t->name : "unnamed");
            return -1;
        }
    }
    return 0;
}

/* ---- save ------------------------------------------------------------ */

/* The compact JSON header, keys in a fixed order: __metadata__ first (as the
 * reference writer puts it), then tensors in table order, each with dtype,
 * shape, data_offsets. NULL if jansson fails (out of memory, non-UTF-8
 * name); json_*_set_new release their value on failure, so no leaks. */
static char *make_header(const lenet_model *m, const lenet_meta *extra) {
    json_t *root = json_object();
    json_t *meta = json_object();
    int bad = json_object_set_new(meta, "format", json_string("pt"));
    bad |= json_object_set_new(meta, "producer", json_string("lenetc"));
    for (int i = 0; extra && i < extra->n; i++)
        bad |= json_object_set_new(meta, extra->key[i], json_string(extra->value[i]));
    bad |= json_object_set_new(root, METADATA_KEY, meta);

    uint64_t at = 0;
    for (int i = 0; i < m->n_tensors; i++) {
        const lenet_tensor *t = &m->tensors[i];
        uint64_t end = at + 4 * (uint64_t)t->size;
        json_t *shape = json_array();
        for (int d = 0; d < t->ndim; d++)
            bad |= json_array_append_new(shape, json_integer(t->dims[d]));
        json_t *offsets = json_array();
        bad |= json_array_append_new(offsets, json_integer((json_int_t)at));
        bad |= json_array_append_new(offsets, json_integer((json_int_t)end));
        json_t *entry = json_object();
        bad |= json_object_set_new(entry, "dtype", json_string("F32"));
        bad |= json_object_set_new(entry, "shape", shape);
        bad |= json_object_set_new(entry, "data_offsets", offsets);
        bad |= json_object_set_new(root, t->name, entry);
        at = end;
    }
    char *text = bad ? NULL : json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return text;
}

int lenet_meta_set(lenet_meta *meta, const char *key, const char *value) {
    if (strlen(key) >= sizeof meta->key[0] || strlen(value) >= sizeof meta->value[0])
        return 0;
    int i = 0;
    while (i < meta->n && strcmp(meta->key[i], key) != 0)
        i++;
    if (i == LENET_META_MAX)
        return 0;
    if (i == meta->n)
        meta->n++;
    strcpy(meta->key[i], key);
    strcpy(meta->value[i], value);
    return 1;
}

const char *lenet_meta_get(const lenet_meta *meta, const char *key) {
    for (int i = 0; i < meta->n; i++)
        if (strcmp(meta->key[i], key) == 0)
            return meta->value[i];
    return NULL;
}

int lenet_save_safetensors(const lenet_model *m, const float *params,
                           const char *path, lenet_error *err) {
    return lenet_save_safetensors_meta(m, params, NULL, path, err);
}

/* What lenet_write_atomic puts in the file: the length prefix and padded
 * header, then each tensor's floats in table order. */
typedef struct {
    const lenet_model *m;
    const float *params;
    const unsigned char *prefix;
    size_t prefix_len;
} contents;

static int write_contents(FILE *f, void *ctx) {
    const contents *c = ctx;
    if (fwrite(c->prefix, 1, c->prefix_len, f) != c->prefix_len)
        return -1;
    for (int i = 0; i < c->m->n_tensors; i++) {
        const lenet_tensor *t = &c->m->tensors[i];
        if (fwrite(c->params + t->offset, sizeof(float), t->size, f) != t->size)
            return -1;
    }
    return 0;
}

int lenet_save_safetensors_meta(const lenet_model *m, const float *params,
                                const lenet_meta *meta, const char *path, lenet_error *err) {
    if (check_model(m, path, err) != 0)
        return -1;
    char *json = make_header(m, meta);
    if (!json) {
        lenet_set_error(err, "%s: cannot build the JSON header "
                        "(out of memory or a tensor name is not UTF-8)", path);
        return -1;
    }

    /* Length prefix + header, padded with spaces so data starts 8-aligned. */
    size_t n = strlen(json);
    n += (8 - n % 8) % 8;
    unsigned char *prefix = malloc(8 + n);
    if (!prefix) {
        free(json);
        lenet_set_error(err, "%s: out of memory", path);
        return -1;
    }
    for (int i = 0; i < 8; i++)
        prefix[i] = (unsigned char)((uint64_t)n >> (8 * i));
    memset(prefix + 8, ' ', n);
    memcpy(prefix + 8, json, strlen(json));
    free(json);

    contents c = {.m = m, .params = params, .prefix = prefix, .prefix_len = 8 + n};
    int rc = lenet_write_atomic(path, write_contents, &c, err);
    free(prefix);
    return rc;
}

/* ---- load ------------------------------------------------------------ */

/* What a file that is not safetensors seems to be, from its first 9 bytes. */
static const char *file_kind(const unsigned char *b, int ninth) {
    if (b[0] == 'P' && b[1] >= '1' && b[1] <= '6')
        return "a PNM image";
    if (b[0] == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G')
        return "a PNG image";
    if (b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff)
        return "a JPEG image";
    if (b[0] == 0x1f && b[1] == 0x8b)
        return "gzip data";
    return ninth == EOF ? "no header after its length" : "its header is no JSON object";
}

/* Reads the file after its 8-byte length prefix into a fresh buffer, with
 * every size check done before the allocation. */
static unsigned char *read_file(const char *path, uint64_t *header_len,
                                uint64_t *body_len, lenet_error *err) {
    int fd = lenet_open_regular(path, err);
    FILE *f = fd < 0 ? NULL : fdopen(fd, "rb");
    if (!f) {
        if (fd >= 0) {
            close(fd);
            lenet_set_error(err, "%s: cannot open: %s", path, strerror(errno));
        }
        return NULL;
    }
    unsigned char *body = NULL;
    struct stat st;
    unsigned char len8[8];
    if (fstat(fileno(f), &st) != 0) {
        lenet_set_error(err, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        lenet_set_error(err, "%s: not a regular file", path);
        goto out;
    }
    uint64_t size = (uint64_t)st.st_size;
    if (size == 0) {
        lenet_set_error(err, "%s: empty file, not safetensors", path);
        goto out;
    }
    if (size < 8) {
        lenet_set_error(err, "%s: file too short (%" PRIu64 " bytes) "
                        "for a safetensors header", path, size);
        goto out;
    }
    if (size > MAX_FILE_BYTES) {
        lenet_set_error(err, "%s: file too large (%" PRIu64 " bytes, "
                        "limit 1 GiB)", path, size);
        goto out;
    }
    if (fread(len8, 1, 8, f) != 8) {
        lenet_set_error(err, "%s: read failed", path);
        goto out;
    }
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | len8[i];
    /* a length the file cannot hold, before no JSON object: no safetensors
     * file at all (an image given as --weights, say), not a header too long */
    const int first = fgetc(f);
    if ((n > MAX_HEADER_BYTES || n > size - 8) && first != '{') {
        lenet_set_error(err, "%s: not a safetensors file (%s)", path, file_kind(len8, first));
        goto out;
    }
    if (first != EOF)
        ungetc(first, f);
    if (n > MAX_HEADER_BYTES) {
        lenet_set_error(err, "%s: header length %" PRIu64 " exceeds the "
                        "100 MB limit", path, n);
        goto out;
    }
    if (n > size - 8) {
        lenet_set_error(err, "%s: header length %" PRIu64 " exceeds the "
                        "%" PRIu64 " bytes after the length prefix",
                        path, n, size - 8);
        goto out;
    }
    body = malloc(size - 8);
    if (!body) {
        lenet_set_error(err, "%s: out of memory", path);
        goto out;
    }
    if (fread(body, 1, size - 8, f) != size - 8) {
        lenet_set_error(err, "%s: read failed: %s", path,
                        ferror(f) ? strerror(errno) : "file shrank");
        free(body);
        body = NULL;
        goto out;
    }
    *header_len = n;
    *body_len = size - 8;
out:
    fclose(f);
    return body;
}

/* One tensor of the file: where its bytes are, which model tensor it is. */
typedef struct {
    const char *name;
    uint64_t begin, end;
    const lenet_tensor *t;
} span;

static int nonneg_int(const json_t *v) {
    return json_is_integer(v) && json_integer_value(v) >= 0;
}

/* Appends "name" to a comma-separated list, truncating quietly. */
/* Names for a message: as many whole names as fit, then how many more. */
typedef struct {
    char text[240];
    int more;
} name_list;

static void list_add(name_list *l, const char *name) {
    size_t n = strlen(l->text);
    if (l->more || n + strlen(name) + 2 >= sizeof l->text) {
        l->more++;
        return;
    }
    snprintf(l->text + n, sizeof l->text - n, "%s%s", n ? ", " : "", name);
}

/* "a, b, c" or "a, b and 12 more" */
static const char *list_text(name_list *l) {
    if (l->more) {
        size_t n = strlen(l->text);
        snprintf(l->text + n, sizeof l->text - n, " and %d more", l->more);
        l->more = 0;
    }
    return l->text;
}

/* Whether name starts with one of the prefixes (a NULL-terminated list). */
static int skipped(const char *name, const char *const *skip) {
    for (; skip && *skip; skip++)
        if (strncmp(name, *skip, strlen(*skip)) == 0)
            return 1;
    return 0;
}

static void format_json_shape(const json_t *shape, char *buf, size_t cap) {
    size_t i;
    json_t *d;
    snprintf(buf, cap, "[");
    json_array_foreach(shape, i, d) {
        size_t n = strlen(buf);
        snprintf(buf + n, cap - n, "%s%" JSON_INTEGER_FORMAT, i ? "," : "",
                 json_integer_value(d));
    }
    size_t n = strlen(buf);
    snprintf(buf + n, cap - n, "]");
}

static void format_model_shape(const lenet_tensor *t, char *buf, size_t cap) {
    snprintf(buf, cap, "[");
    for (int d = 0; d < t->ndim; d++) {
        size_t n = strlen(buf);
        snprintf(buf + n, cap - n, "%s%d", d ? "," : "", t->dims[d]);
    }
    size_t n = strlen(buf);
    snprintf(buf + n, cap - n, "]");
}

static int shape_matches(const json_t *shape, const lenet_tensor *t) {
    if (json_array_size(shape) != (size_t)t->ndim)
        return 0;
    for (int d = 0; d < t->ndim; d++)
        if (json_integer_value(json_array_get(shape, (size_t)d)) != t->dims[d])
            return 0;
    return 1;
}

/* Validates one header entry on its own terms: F32, a shape of
 * non-negative integers, offsets inside the data section spanning exactly
 * the bytes the shape needs. */
static int parse_entry(const char *path, const char *name, const json_t *v,
                       uint64_t data_len, span *out, lenet_error *err) {
    if (!json_is_object(v)) {
        lenet_set_error(err, "%s: tensor %s: entry is not a JSON object",
                        path, name);
        return -1;
    }
    const json_t *dtype = json_object_get(v, "dtype");
    if (!json_is_string(dtype)) {
        lenet_set_error(err, "%s: tensor %s: dtype missing or not a string",
                        path, name);
        return -1;
    }
    if (strcmp(json_string_value(dtype), "F32") != 0) {
        lenet_set_error(err, "%s: tensor %s: dtype %s, expected F32", path,
                        name, json_string_value(dtype));
        return -1;
    }
    const json_t *shape = json_object_get(v, "shape");
    if (!json_is_array(shape)) {
        lenet_set_error(err, "%s: tensor %s: shape missing or not an array",
                        path, name);
        return -1;
    }
    uint64_t count = 1;
    size_t i;
    json_t *d;
    json_array_foreach(shape, i, d) {
        if (!nonneg_int(d)) {
            lenet_set_error(err, "%s: tensor %s: shape must hold "
                            "non-negative integers", path, name);
            return -1;
        }
        count = mul_capped(count, (uint64_t)json_integer_value(d));
    }
    if (count > MAX_FILE_BYTES / 4) {
        char s[128];
        format_json_shape(shape, s, sizeof s);
        lenet_set_error(err, "%s: tensor %s: shape %s too large", path, name,
                        s);
        return -1;
    }
    const json_t *off = json_object_get(v, "data_offsets");
    if (!json_is_array(off) || json_array_size(off) != 2 ||
        !nonneg_int(json_array_get(off, 0)) ||
        !nonneg_int(json_array_get(off, 1))) {
        lenet_set_error(err, "%s: tensor %s: data_offsets must be "
                        "[begin,end] of non-negative integers", path, name);
        return -1;
    }
    uint64_t begin = (uint64_t)json_integer_value(json_array_get(off, 0));
    uint64_t end = (uint64_t)json_integer_value(json_array_get(off, 1));
    if (begin > end) {
        lenet_set_error(err, "%s: tensor %s: data_offsets [%" PRIu64 ",%"
                        PRIu64 "] end before begin", path, name, begin, end);
        return -1;
    }
    if (end > data_len) {
        lenet_set_error(err, "%s: tensor %s: data_offsets [%" PRIu64 ",%"
                        PRIu64 "] past end of data (%" PRIu64 " bytes)",
                        path, name, begin, end, data_len);
        return -1;
    }
    if (end - begin != count * 4) {
        char s[128];
        format_json_shape(shape, s, sizeof s);
        lenet_set_error(err, "%s: tensor %s: data_offsets [%" PRIu64 ",%"
                        PRIu64 "] span %" PRIu64 " bytes, shape %s needs %"
                        PRIu64, path, name, begin, end, end - begin, s,
                        count * 4);
        return -1;
    }
    out->name = name;
    out->begin = begin;
    out->end = end;
    return 0;
}

static int by_begin(const void *a, const void *b) {
    const span *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return (x->end > y->end) - (x->end < y->end);
}

/* Everything about the header that must hold before any params change. */
static int check_header(const lenet_model *m, const char *path, json_t *root,
                        uint64_t data_len, const char *const *skip, int *n_skipped, span *spans,
                        size_t *n_spans, lenet_error *err) {
    if (!json_is_object(root)) {
        lenet_set_error(err, "%s: header is not a JSON object", path);
        return -1;
    }
    name_list unknown = {.more = 0};
    size_t n = 0;
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        if (strcmp(key, METADATA_KEY) == 0) {
            const char *mk;
            json_t *mv;
            int ok = json_is_object(v);
            if (ok) {
                json_object_foreach(v, mk, mv) {
                    ok = ok && json_is_string(mv);
                }
            }
            if (!ok) {
                lenet_set_error(err, "%s: " METADATA_KEY " must be an object "
                                "of strings", path);
                return -1;
            }
            continue;
        }
        span *s = &spans[n++];
        if (parse_entry(path, key, v, data_len, s, err) != 0)
            return -1;
        s->t = NULL;
        for (int i = 0; i < m->n_tensors; i++)
            if (strcmp(m->tensors[i].name, key) == 0)
                s->t = &m->tensors[i];
        if (!s->t && skipped(key, skip))
            (*n_skipped)++; /* checked, not copied */
        else if (!s->t)
            list_add(&unknown, key);
    }
    *n_spans = n;
    if (unknown.text[0]) {
        lenet_set_error(err, "%s: unexpected tensors not in the model: %s", path,
                        list_text(&unknown));
        return -1;
    }

    name_list missing = {.more = 0};
    for (int i = 0; i < m->n_tensors; i++) {
        const lenet_tensor *t = &m->tensors[i];
        const json_t *entry = json_object_get(root, t->name);
        if (!entry) {
            list_add(&missing, t->name);
            continue;
        }
        const json_t *shape = json_object_get(entry, "shape");
        if (!shape_matches(shape, t)) {
            char got[128], want[64];
            format_json_shape(shape, got, sizeof got);
            format_model_shape(t, want, sizeof want);
            lenet_set_error(err, "%s: tensor %s: shape %s, expected %s", path,
                            t->name, got, want);
            return -1;
        }
    }
    if (missing.text[0]) {
        lenet_set_error(err, "%s: missing tensors: %s", path, list_text(&missing));
        return -1;
    }

    /* Sorted by begin, a tensor overlaps an earlier one exactly when it
     * starts before the furthest end seen so far. Empty tensors occupy no
     * bytes and cannot overlap. */
    qsort(spans, n, sizeof *spans, by_begin);
    const span *far = NULL;
    for (size_t i = 0; i < n; i++) {
        const span *s = &spans[i];
        if (s->begin == s->end)
            continue;
        if (far && s->begin < far->end) {
            lenet_set_error(err, "%s: tensors %s [%" PRIu64 ",%" PRIu64 "] "
                            "and %s [%" PRIu64 ",%" PRIu64 "] overlap", path,
                            far->name, far->begin, far->end, s->name,
                            s->begin, s->end);
            return -1;
        }
        if (!far || s->end > far->end)
            far = s;
    }
    return 0;
}

/* Copies the header's string metadata (already checked to be strings);
 * pairs too long for lenet_meta are an error, not silently cut. */
static int read_meta(json_t *root, lenet_meta *meta, const char *path, lenet_error *err) {
    memset(meta, 0, sizeof *meta);
    json_t *obj = json_object_get(root, METADATA_KEY);
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        if (!lenet_meta_set(meta, k, json_string_value(v))) {
            lenet_set_error(err, "%s: metadata %.40s: too long or too many entries", path, k);
            return -1;
        }
    }
    return 0;
}

int lenet_load_safetensors(const lenet_model *m, float *params,
                           const char *path, lenet_error *err) {
    return lenet_load_safetensors_meta(m, params, NULL, path, err);
}

int lenet_load_safetensors_meta(const lenet_model *m, float *params, lenet_meta *meta,
                                const char *path, lenet_error *err) {
    int n_skipped = 0;
    return lenet_load_safetensors_skip(m, params, meta, path, NULL, &n_skipped, err);
}

int lenet_load_safetensors_skip(const lenet_model *m, float *params, lenet_meta *meta,
                                const char *path, const char *const *skip, int *n_skipped,
                                lenet_error *err) {
    *n_skipped = 0;
    if (check_model(m, path, err) != 0)
        return -1;
    uint64_t header_len = 0, body_len = 0;
    unsigned char *body = read_file(path, &header_len, &body_len, err);
    if (!body)
        return -1;

    json_error_t jerr;
    json_t *root = json_loadb((const char *)body, header_len,
                              JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        lenet_set_error(err, "%s: invalid JSON header: %s (line %d, column %d)",
                        path, jerr.text, jerr.line, jerr.column);
        free(body);
        return -1;
    }

    const unsigned char *data = body + header_len;
    size_t n_spans = 0;
    span *spans = malloc((json_object_size(root) + 1) * sizeof *spans);
    int rc = -1;
    if (!spans)
        lenet_set_error(err, "%s: out of memory", path);
    else if (check_header(m, path, root, body_len - header_len, skip, n_skipped, spans,
                          &n_spans, err) == 0 &&
             (!meta || read_meta(root, meta, path, err) == 0)) {
        for (size_t i = 0; i < n_spans; i++)
            if (spans[i].t)
                memcpy(params + spans[i].t->offset, data + spans[i].begin,
                       spans[i].end - spans[i].begin);
        rc = 0;
    }
    free(spans);
    json_decref(root);
    free(body);
    return rc;
}
