/* test_safetensors.c: saving and loading weights as safetensors, byte for
 * byte, and every way a bad file must be refused. */
#include <dirent.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lenet.h"
#include "tests.h"

/* A small model by hand; the safetensors code only reads the table. */
static const lenet_tensor tensors[] = {
    {"conv1.weight", 4, {2, 1, 3, 3}, 0, 18, 9, 18, LENET_INIT_GLOROT_UNIFORM, 1},
    {"conv1.bias", 1, {2}, 18, 2, 0, 0, LENET_INIT_ZEROS, 1},
    {"dense1.weight", 2, {3, 8}, 20, 24, 8, 3, LENET_INIT_GLOROT_UNIFORM, 1},
    {"dense1.bias", 1, {3}, 44, 3, 0, 0, LENET_INIT_ZEROS, 1},
};
#define N_PARAMS 47
static const lenet_model model = {
    .name = "st_test",
    .n_params = N_PARAMS,
    .n_trainable = N_PARAMS,
    .n_tensors = 4,
    .tensors = tensors,
};

/* The header lenet_save_safetensors must write for this model, before the
 * padding: 324 bytes, padded with 4 spaces so 8 + 328 is a multiple of 8. */
static const char expected_header[] =
    "{\"__metadata__\":{\"format\":\"pt\",\"producer\":\"lenetc\"},"
    "\"conv1.weight\":{\"dtype\":\"F32\",\"shape\":[2,1,3,3],"
    "\"data_offsets\":[0,72]},"
    "\"conv1.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[72,80]},"
    "\"dense1.weight\":{\"dtype\":\"F32\",\"shape\":[3,8],"
    "\"data_offsets\":[80,176]},"
    "\"dense1.bias\":{\"dtype\":\"F32\",\"shape\":[3],"
    "\"data_offsets\":[176,188]}}";
#define HEADER_LEN 328
#define FILE_LEN (8 + HEADER_LEN + 4 * N_PARAMS) /* 524 */

static const char *tmp_path(const char *name) {
    static char buf[4][512];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", test_tmpdir(), name);
    return p;
}

static unsigned char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    unsigned char *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Writes a safetensors file: a length prefix claiming header_len bytes,
 * the header text, then data_len bytes of data (floats 0, 1, 2, ...). */
static void write_st_len(const char *path, const char *header,
                         unsigned long long header_len, size_t data_len) {
    size_t h = strlen(header);
    size_t len = 8 + h + data_len;
    unsigned char *buf = calloc(1, len);
    ck_assert_ptr_nonnull(buf);
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)(header_len >> (8 * i));
    memcpy(buf + 8, header, h);
    for (size_t i = 0; i + 4 <= data_len; i += 4) {
        float v = (float)(i / 4);
        memcpy(buf + 8 + h + i, &v, 4);
    }
    test_write_file(path, buf, len);
    free(buf);
}

static void write_st(const char *path, const char *header, size_t data_len) {
    write_st_len(path, header, strlen(header), data_len);
}

/* Params with awkward bit patterns: signed zero, infinities, NaN payloads,
 * denormals, then a pseudo-random fill. */
static void fill_params(float *p) {
    static const uint32_t special[] = {
        0x80000000u, 0x7f800000u, 0xff800000u, 0x7fc12345u, 0xffa00001u,
        0x00000001u, 0x807fffffu, 0x7f7fffffu, 0x3f800000u,
    };
    uint32_t x = 12345;
    for (int i = 0; i < N_PARAMS; i++) {
        x = x * 1664525u + 1013904223u;
        uint32_t bits = i < 9 ? special[i] : x;
        memcpy(&p[i], &bits, 4);
    }
}

static const float SENTINEL = -7.25f;

static void fill_sentinel(float *p) {
    for (int i = 0; i < N_PARAMS; i++)
        p[i] = SENTINEL;
}

static void assert_sentinel(const float *p) {
    for (int i = 0; i < N_PARAMS; i++)
        ck_assert_msg(p[i] == SENTINEL, "params[%d] changed by a failed load",
                      i);
}

/* Loads path, expecting failure with a message naming the file and holding
 * fragment, and params untouched. */
static void expect_load_error(const char *path, const char *fragment) {
    float params[N_PARAMS];
    fill_sentinel(params);
    lenet_error err = {{0}};
    int rc = lenet_load_safetensors(&model, params, path, &err);
    ck_assert_msg(rc == -1, "loading %s should fail", path);
    ck_assert_msg(strstr(err.msg, fragment) != NULL,
                  "message \"%s\" lacks \"%s\"", err.msg, fragment);
    ck_assert_msg(strncmp(err.msg, path, strlen(path)) == 0,
                  "message \"%s\" does not start with the path %s", err.msg,
                  path);
    assert_sentinel(params);
}

/* Writes header + data_len bytes to a fresh file and expects the load to
 * fail with fragment. */
static void expect_header_error(const char *name, const char *header,
                                size_t data_len, const char *fragment) {
    const char *path = tmp_path(name);
    write_st(path, header, data_len);
    expect_load_error(path, fragment);
}

/* Header entries, so bad files read as one change from a good one. */
#define E(name, dtype, shape, b, e)                                          \
    "\"" name "\":{\"dtype\":\"" dtype "\",\"shape\":" shape                 \
    ",\"data_offsets\":[" #b "," #e "]}"
#define CONV_W E("conv1.weight", "F32", "[2,1,3,3]", 0, 72)
#define CONV_B E("conv1.bias", "F32", "[2]", 72, 80)
#define DENSE_W E("dense1.weight", "F32", "[3,8]", 80, 176)
#define DENSE_B E("dense1.bias", "F32", "[3]", 176, 188)
#define DATA_LEN 188

/* ---- saving ---------------------------------------------------------- */

START_TEST(test_roundtrip_bit_exact) {
    const char *path = tmp_path("st_roundtrip.safetensors");
    float params[N_PARAMS], back[N_PARAMS];
    fill_params(params);
    memset(back, 0xab, sizeof back);
    lenet_error err = {{0}};
    ck_assert_msg(lenet_save_safetensors(&model, params, path, &err) == 0,
                  "%s", err.msg);
    ck_assert_msg(lenet_load_safetensors(&model, back, path, &err) == 0,
                  "%s", err.msg);
    ck_assert_mem_eq(back, params, sizeof params);
}
END_TEST

START_TEST(test_file_layout) {
    const char *path = tmp_path("st_layout.safetensors");
    float params[N_PARAMS];
    fill_params(params);
    lenet_error err = {{0}};
    ck_assert_msg(lenet_save_safetensors(&model, params, path, &err) == 0,
                  "%s", err.msg);
    size_t len;
    unsigned char *buf = read_all(path, &len);

    ck_assert_uint_eq(len, FILE_LEN);
    ck_assert_uint_eq(len, 8 + HEADER_LEN + 4 * N_PARAMS);
    ck_assert_uint_eq((8 + HEADER_LEN) % 8, 0);

    /* u64 little-endian header length */
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | buf[i];
    ck_assert_uint_eq(n, HEADER_LEN);

    /* the exact JSON text, then spaces up to the data */
    size_t jlen = strlen(expected_header);
    ck_assert_uint_eq(jlen, 324);
    ck_assert_mem_eq(buf + 8, expected_header, jlen);
    for (size_t i = 8 + jlen; i < 8 + HEADER_LEN; i++)
        ck_assert_int_eq(buf[i], ' ');

    /* data: the params, little-endian, in table order (here also params
     * order, since the table is contiguous) */
    ck_assert_mem_eq(buf + 8 + HEADER_LEN, params, sizeof params);
    float first;
    memcpy(&first, buf + 8 + HEADER_LEN + 4 * 8, 4);
    ck_assert(first == 1.0f); /* special[8] = 0x3f800000 */
    ck_assert_int_eq(buf[8 + HEADER_LEN + 4 * 8 + 3], 0x3f); /* LE */
    free(buf);
}
END_TEST

START_TEST(test_deterministic) {
    const char *a = tmp_path("st_det_a.safetensors");
    const char *b = tmp_path("st_det_b.safetensors");
    float params[N_PARAMS];
    fill_params(params);
    lenet_error err = {{0}};
    ck_assert_int_eq(lenet_save_safetensors(&model, params, a, &err), 0);
    ck_assert_int_eq(lenet_save_safetensors(&model, params, b, &err), 0);
    size_t la, lb;
    unsigned char *x = read_all(a, &la);
    unsigned char *y = read_all(b, &lb);
    ck_assert_uint_eq(la, lb);
    ck_assert_mem_eq(x, y, la);
    free(y);

    /* saving over an existing file replaces it with the same bytes */
    ck_assert_int_eq(lenet_save_safetensors(&model, params, a, &err), 0);
    y = read_all(a, &lb);
    ck_assert_uint_eq(la, lb);
    ck_assert_mem_eq(x, y, la);
    free(x);
    free(y);
}
END_TEST

START_TEST(test_overwrite_and_mode) {
    const char *path = tmp_path("st_overwrite.safetensors");
    test_write_file(path, "old contents", 12);
    float params[N_PARAMS], back[N_PARAMS];
    for (int i = 0; i < N_PARAMS; i++)
        params[i] = (float)i * 0.5f - 3.0f;
    lenet_error err = {{0}};
    ck_assert_int_eq(lenet_save_safetensors(&model, params, path, &err), 0);
    ck_assert_int_eq(lenet_load_safetensors(&model, back, path, &err), 0);
    ck_assert_mem_eq(back, params, sizeof params);

    /* the temp file's 0600 must not survive: mode is what fopen gives */
    mode_t mask = umask(0);
    umask(mask);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0666 & ~mask);
}
END_TEST

/* Counts entries of the test directory starting with prefix. */
static int count_prefixed(const char *prefix) {
    DIR *d = opendir(test_tmpdir());
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

START_TEST(test_save_into_missing_dir) {
    const char *path = tmp_path("st_no_such_dir/w.safetensors");
    float params[N_PARAMS];
    fill_params(params);
    lenet_error err = {{0}};
    ck_assert_int_eq(lenet_save_safetensors(&model, params, path, &err), -1);
    ck_assert_msg(strstr(err.msg, path) != NULL, "%s", err.msg);
    ck_assert_msg(strstr(err.msg, "No such file or directory") != NULL, "%s",
                  err.msg);
    struct stat st;
    ck_assert_int_ne(stat(path, &st), 0);
    ck_assert_int_eq(count_prefixed("st_no_such_dir"), 0);
}
END_TEST

/* The temp file is written, then rename fails (the target is a directory):
 * the temp file must be removed. */
START_TEST(test_failed_rename_removes_temp) {
    const char *path = tmp_path("st_isdir.safetensors");
    mkdir(path, 0777);
    float params[N_PARAMS];
    fill_params(params);
    lenet_error err = {{0}};
    ck_assert_int_eq(lenet_save_safetensors(&model, params, path, &err), -1);
    ck_assert_msg(strstr(err.msg, path) != NULL, "%s", err.msg);
    ck_assert_msg(strstr(err.msg, "Is a directory") != NULL, "%s", err.msg);
    ck_assert_int_eq(count_prefixed("st_isdir.safetensors.tmp."), 0);
    ck_assert_int_eq(rmdir(path), 0);
}
END_TEST

/* lenet_write_atomic, which weights, checkpoints and lenetc's generated
 * files all go through: a writer that fails leaves the old file as it was
 * and no temp file, and says why. */
static int write_then_fail(FILE *f, void *ctx) {
    fputs("half a file", f);
    errno = ENOSPC;
    return -1;
}

START_TEST(test_write_atomic_failing_writer) {
    const char *path = tmp_path("wa_keep.txt");
    test_write_file(path, "old", 3);
    lenet_error err = {{0}};
    errno = 0;
    ck_assert_int_eq(lenet_write_atomic(path, write_then_fail, NULL, &err), -1);
    ck_assert_int_eq(errno, ENOSPC);
    char want[600];
    snprintf(want, sizeof want, "%s: write failed: %s", path, strerror(ENOSPC));
    ck_assert_str_eq(err.msg, want);
    size_t len;
    unsigned char *back = read_all(path, &len);
    ck_assert_uint_eq(len, 3);
    ck_assert_mem_eq(back, "old", 3);
    free(back);
    ck_assert_int_eq(count_prefixed("wa_keep.txt.tmp."), 0);
}
END_TEST

/* ---- loading files from elsewhere ------------------------------------ */

/* As PyTorch's safetensors writes it: __metadata__ first, tensors sorted by
 * name and laid out in that order, then padding. One entry has its keys in
 * another order and there is extra whitespace, which JSON allows. */
START_TEST(test_load_pytorch_style) {
    const char *header =
        "{\"__metadata__\":{\"format\":\"pt\"},"
        "\"conv1.bias\":{\"dtype\":\"F32\",\"shape\":[2],"
        "\"data_offsets\":[0,8]},"
        "\"conv1.weight\":{\"dtype\":\"F32\",\"shape\":[2,1,3,3],"
        "\"data_offsets\":[8,80]},"
        "\"dense1.bias\": {\"data_offsets\": [80, 92], \"shape\": [3], "
        "\"dtype\": \"F32\"},"
        "\"dense1.weight\":{\"dtype\":\"F32\",\"shape\":[3,8],"
        "\"data_offsets\":[92,188]}}";
    char padded[512];
    size_t h = strlen(header);
    size_t n = h + (8 - (8 + h) % 8) % 8;
    ck_assert_uint_lt(n, sizeof padded);
    memset(padded, ' ', n);
    memcpy(padded, header, h);
    padded[n] = '\0';

    /* data value = 100 + the param index it belongs to */
    float data[N_PARAMS];
    int k = 0;
    for (int i = 18; i < 20; i++) data[k++] = 100.0f + (float)i; /* conv1.bias */
    for (int i = 0; i < 18; i++) data[k++] = 100.0f + (float)i;  /* conv1.weight */
    for (int i = 44; i < 47; i++) data[k++] = 100.0f + (float)i; /* dense1.bias */
    for (int i = 20; i < 44; i++) data[k++] = 100.0f + (float)i; /* dense1.weight */
    ck_assert_int_eq(k, N_PARAMS);

    unsigned char buf[1024];
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)((uint64_t)n >> (8 * i));
    memcpy(buf + 8, padded, n);
    memcpy(buf + 8 + n, data, sizeof data);
    const char *path = tmp_path("st_pytorch.safetensors");
    test_write_file(path, buf, 8 + n + sizeof data);

    float params[N_PARAMS];
    fill_sentinel(params);
    lenet_error err = {{0}};
    ck_assert_msg(lenet_load_safetensors(&model, params, path, &err) == 0,
                  "%s", err.msg);
    for (int i = 0; i < N_PARAMS; i++)
        ck_assert_msg(params[i] == 100.0f + (float)i, "params[%d] = %g", i,
                      (double)params[i]);
}
END_TEST

/* No __metadata__, no padding, trailing bytes after the last tensor. */
START_TEST(test_load_minimal) {
    const char *path = tmp_path("st_minimal.safetensors");
    write_st(path, "{" CONV_W "," CONV_B "," DENSE_W "," DENSE_B "}",
             DATA_LEN + 8);
    float params[N_PARAMS];
    lenet_error err = {{0}};
    ck_assert_msg(lenet_load_safetensors(&model, params, path, &err) == 0,
                  "%s", err.msg);
    for (int i = 0; i < N_PARAMS; i++)
        ck_assert(params[i] == (float)i);
}
END_TEST

/* ---- refusing bad files ---------------------------------------------- */

START_TEST(test_error_header_beyond_file) {
    const char *path = tmp_path("st_err_hlen.safetensors");
    write_st_len(path, "{}", 1000, 0);
    expect_load_error(path, "header length 1000 exceeds");
}
END_TEST

/* An image (or any file that is no safetensors) given as weights says so,
 * not that its first 8 bytes are a header length past the limit. */
START_TEST(test_error_not_safetensors) {
    static const struct {
        const char *bytes;
        size_t n;
        const char *says;
    } files[] = {
        {"P5\n28 28\n255\n\0\0\0", 17, "not a safetensors file (a PNM image)"},
        {"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16, "not a safetensors file (a PNG image)"},
        {"\xff\xd8\xff\xe0\0\x10JFIF\0", 11, "not a safetensors file (a JPEG image)"},
        {"\x20\0\0\0\0\0\0\0[1, 2, 3]", 17, "not a safetensors file (its header is no JSON object)"},
        {"\x02\0\0\0\0\0\0\0", 8, "not a safetensors file (no header after its length)"},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        const char *path = tmp_path("st_not.safetensors");
        FILE *f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(files[i].bytes, 1, files[i].n, f), files[i].n);
        ck_assert_int_eq(fclose(f), 0);
        expect_load_error(path, files[i].says);
    }
}
END_TEST

START_TEST(test_error_header_too_large) {
    const char *path = tmp_path("st_err_hbig.safetensors");
    write_st_len(path, "{}", 200000000ULL, 0);
    expect_load_error(path, "100 MB limit");
    write_st_len(path, "{}", ~0ULL, 0);
    expect_load_error(path, "100 MB limit");
}
END_TEST

START_TEST(test_error_file_too_large) {
    /* a sparse file: refused on its size, never read */
    const char *path = tmp_path("st_err_huge.safetensors");
    write_st(path, "{}", 0);
    ck_assert_int_eq(truncate(path, (1L << 30) + 1), 0);
    expect_load_error(path, "file too large");
    unlink(path);
}
END_TEST

START_TEST(test_error_truncated_data) {
    expect_header_error("st_err_trunc.safetensors",
                        "{" CONV_W "," CONV_B "," DENSE_W "," DENSE_B "}", 100,
                        "tensor dense1.weight: data_offsets [80,176] past end "
                        "of data (100 bytes)");
}
END_TEST

START_TEST(test_error_overlap) {
    expect_header_error("st_err_overlap.safetensors",
                        "{" CONV_W "," E("conv1.bias", "F32", "[2]", 64, 72)
                        "," DENSE_W "," DENSE_B "}",
                        DATA_LEN,
                        "tensors conv1.weight [0,72] and conv1.bias [64,72] "
                        "overlap");
    /* the same bytes twice */
    expect_header_error("st_err_overlap2.safetensors",
                        "{" CONV_W "," CONV_B ","
                        E("dense1.weight", "F32", "[3,8]", 80, 176) ","
                        E("dense1.bias", "F32", "[3]", 80, 92) "}",
                        DATA_LEN, "overlap");
}
END_TEST

START_TEST(test_error_dtype) {
    expect_header_error("st_err_dtype.safetensors",
                        "{" E("conv1.weight", "BF16", "[2,1,3,3]", 0, 36)
                        "," CONV_B "," DENSE_W "," DENSE_B "}",
                        DATA_LEN, "tensor conv1.weight: dtype BF16, expected F32");
    expect_header_error("st_err_nodtype.safetensors",
                        "{\"conv1.weight\":{\"shape\":[2,1,3,3],"
                        "\"data_offsets\":[0,72]}}",
                        DATA_LEN, "tensor conv1.weight: dtype missing");
}
END_TEST

START_TEST(test_error_shape) {
    expect_header_error("st_err_shape.safetensors",
                        "{" CONV_W "," CONV_B ","
                        E("dense1.weight", "F32", "[4,6]", 80, 176) ","
                        DENSE_B "}",
                        DATA_LEN,
                        "tensor dense1.weight: shape [4,6], expected [3,8]");
    expect_header_error("st_err_rank.safetensors",
                        "{" CONV_W "," CONV_B ","
                        E("dense1.weight", "F32", "[24]", 80, 176) ","
                        DENSE_B "}",
                        DATA_LEN,
                        "tensor dense1.weight: shape [24], expected [3,8]");
    /* shape and offsets disagree within the file */
    expect_header_error("st_err_span.safetensors",
                        "{" CONV_W "," CONV_B ","
                        E("dense1.weight", "F32", "[3,9]", 80, 176) ","
                        DENSE_B "}",
                        DATA_LEN, "span 96 bytes, shape [3,9] needs 108");
    expect_header_error("st_err_negdim.safetensors",
                        "{" E("conv1.weight", "F32", "[-2,1,3,3]", 0, 72) "}",
                        DATA_LEN, "shape must hold non-negative integers");
    expect_header_error("st_err_realdim.safetensors",
                        "{" E("conv1.weight", "F32", "[2.0,1,3,3]", 0, 72) "}",
                        DATA_LEN, "shape must hold non-negative integers");
    expect_header_error("st_err_noshape.safetensors",
                        "{" E("conv1.weight", "F32", "\"2,1,3,3\"", 0, 72) "}",
                        DATA_LEN, "shape missing or not an array");
    /* a product that overflows 64 bits must not wrap to a small size */
    expect_header_error("st_err_bigdim.safetensors",
                        "{" E("conv1.weight", "F32",
                              "[4294967296,4294967296,1]", 0, 0) "}",
                        DATA_LEN, "tensor conv1.weight: shape "
                        "[4294967296,4294967296,1] too large");
}
END_TEST

START_TEST(test_error_missing) {
    expect_header_error("st_err_missing.safetensors",
                        "{" CONV_W "," CONV_B "," DENSE_W "}", DATA_LEN,
                        "missing tensors: dense1.bias");
    expect_header_error("st_err_empty_obj.safetensors", "{}", 0,
                        "missing tensors: conv1.weight, conv1.bias, "
                        "dense1.weight, dense1.bias");
}
END_TEST

START_TEST(test_error_extra) {
    expect_header_error("st_err_extra.safetensors",
                        "{" CONV_W "," CONV_B "," DENSE_W "," DENSE_B ","
                        E("fc9.weight", "F32", "[1]", 188, 192) "}",
                        DATA_LEN + 4,
                        "unexpected tensors not in the model: fc9.weight");
}
END_TEST

START_TEST(test_error_json) {
    /* jansson's own text, with where it stopped */
    const char *path = tmp_path("st_err_json.safetensors");
    write_st(path, "{\"conv1.weight\":{\"dtype\":}}", DATA_LEN);
    expect_load_error(path, "invalid JSON header: unexpected token");
    expect_load_error(path, "(line 1, column 26)");
    expect_header_error("st_err_nulhdr.safetensors", "", DATA_LEN,
                        "invalid JSON header");
    expect_header_error("st_err_dupkey.safetensors",
                        "{" CONV_W "," CONV_W "}", DATA_LEN, "duplicate");
}
END_TEST

START_TEST(test_error_not_object) {
    expect_header_error("st_err_array.safetensors", "[1,2]", DATA_LEN,
                        "header is not a JSON object");
    expect_header_error("st_err_entry.safetensors",
                        "{\"conv1.weight\":[0,72]}", DATA_LEN,
                        "tensor conv1.weight: entry is not a JSON object");
    expect_header_error("st_err_meta.safetensors",
                        "{\"__metadata__\":{\"epoch\":3}," CONV_W "," CONV_B
                        "," DENSE_W "," DENSE_B "}",
                        DATA_LEN, "__metadata__ must be an object of strings");
    expect_header_error("st_err_meta2.safetensors",
                        "{\"__metadata__\":\"pt\"," CONV_W "," CONV_B ","
                        DENSE_W "," DENSE_B "}",
                        DATA_LEN, "__metadata__ must be an object of strings");
}
END_TEST

START_TEST(test_error_offsets) {
    const char *msg = "tensor conv1.weight: data_offsets must be [begin,end] "
                      "of non-negative integers";
    expect_header_error("st_err_neg.safetensors",
                        "{" E("conv1.weight", "F32", "[2,1,3,3]", -8, 64) "}",
                        DATA_LEN, msg);
    expect_header_error("st_err_real.safetensors",
                        "{" E("conv1.weight", "F32", "[2,1,3,3]", 0.0, 72.0)
                        "}",
                        DATA_LEN, msg);
    expect_header_error("st_err_str.safetensors",
                        "{" E("conv1.weight", "F32", "[2,1,3,3]", "0", "72")
                        "}",
                        DATA_LEN, msg);
    expect_header_error("st_err_three.safetensors",
                        "{\"conv1.weight\":{\"dtype\":\"F32\",\"shape\":"
                        "[2,1,3,3],\"data_offsets\":[0,72,80]}}",
                        DATA_LEN, msg);
    expect_header_error("st_err_backwards.safetensors",
                        "{" E("conv1.weight", "F32", "[2,1,3,3]", 72, 0) "}",
                        DATA_LEN,
                        "tensor conv1.weight: data_offsets [72,0] end before "
                        "begin");
}
END_TEST

START_TEST(test_error_short_files) {
    const char *path = tmp_path("st_err_empty.safetensors");
    test_write_file(path, "", 0);
    expect_load_error(path, "empty file");

    path = tmp_path("st_err_short.safetensors");
    test_write_file(path, "\x02\0\0\0\0", 5);
    expect_load_error(path, "file too short (5 bytes)");

    expect_load_error(tmp_path("st_err_does_not_exist.safetensors"),
                      "cannot open: No such file or directory");
    expect_load_error(test_tmpdir(), "not a regular file");
}
END_TEST

Suite *safetensors_suite(void) {
    Suite *s = suite_create("safetensors");
    TCase *save = tcase_create("save");
    tcase_add_test(save, test_roundtrip_bit_exact);
    tcase_add_test(save, test_file_layout);
    tcase_add_test(save, test_deterministic);
    tcase_add_test(save, test_overwrite_and_mode);
    tcase_add_test(save, test_save_into_missing_dir);
    tcase_add_test(save, test_failed_rename_removes_temp);
    tcase_add_test(save, test_write_atomic_failing_writer);
    suite_add_tcase(s, save);

    TCase *load = tcase_create("load");
    tcase_add_test(load, test_load_pytorch_style);
    tcase_add_test(load, test_load_minimal);
    suite_add_tcase(s, load);

    TCase *bad = tcase_create("errors");
    tcase_add_test(bad, test_error_header_beyond_file);
    tcase_add_test(bad, test_error_header_too_large);
    tcase_add_test(bad, test_error_not_safetensors);
    tcase_add_test(bad, test_error_file_too_large);
    tcase_add_test(bad, test_error_truncated_data);
    tcase_add_test(bad, test_error_overlap);
    tcase_add_test(bad, test_error_dtype);
    tcase_add_test(bad, test_error_shape);
    tcase_add_test(bad, test_error_missing);
    tcase_add_test(bad, test_error_extra);
    tcase_add_test(bad, test_error_json);
    tcase_add_test(bad, test_error_not_object);
    tcase_add_test(bad, test_error_offsets);
    tcase_add_test(bad, test_error_short_files);
    suite_add_tcase(s, bad);
    return s;
}
