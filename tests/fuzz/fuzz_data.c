/* fuzz_data.c: libFuzzer target over the loaders of untrusted files:
 * IDX images and labels (raw or gzip'd) and safetensors weights and
 * checkpoints. The first byte picks the loader; the rest is the file (for
 * IDX, two files: the next two bytes say where the labels start). Files live
 * in memory (memfd) and are opened by /proc path, as a user's would be.
 * Every load must succeed or fail with a message naming the file.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lenet.h"

/* A path to a memory file holding data[0..n). */
static int mem_file(const uint8_t *data, size_t n, char path[64]) {
    int fd = memfd_create("fuzz", 0);
    if (fd < 0)
        abort();
    if (n && write(fd, data, n) != (ssize_t)n)
        abort();
    snprintf(path, 64, "/proc/self/fd/%d", fd);
    return fd;
}

static void expect_message(int rc, const lenet_error *err, const char *path) {
    if (rc != 0 && strncmp(err->msg, path, strlen(path)) != 0) {
        fprintf(stderr, "error without the file's name: %s\n", err->msg);
        abort();
    }
}

/* A small model for the weights loaders: a conv and a dense. */
static const lenet_tensor tensors[] = {
    {"conv1.weight", 4, {2, 1, 3, 3}, 0, 18, 9, 18, LENET_INIT_GLOROT_UNIFORM, 1},
    {"conv1.bias", 1, {2, 0, 0, 0}, 18, 2, 0, 0, LENET_INIT_ZEROS, 1},
    {"dense1.weight", 2, {3, 4, 0, 0}, 20, 12, 4, 3, LENET_INIT_GLOROT_UNIFORM, 1},
    {"dense1.bias", 1, {3, 0, 0, 0}, 32, 3, 0, 0, LENET_INIT_ZEROS, 1},
};
static void nothing(const float *p, float *a, const lenet_pass *pass) { (void)p, (void)a, (void)pass; }
static void nothing_back(const float *p, const float *a, float *d, float *g,
                         const lenet_pass *pass) {
    (void)p, (void)a, (void)d, (void)g, (void)pass;
}
static const lenet_model model = {
    .name = "fuzz", .data_h = 4, .data_w = 4, .data_c = 1, .n_classes = 3, .tile = 1,
    .n_params = 35, .n_trainable = 35, .n_tensors = 4, .tensors = tensors, .act_floats = 64, .logits_offset = 0,
    .forward = nothing, .backward = nothing_back,
    .defaults = {LENET_ADAM, 0.001f, 0.9f, 0.999f, 1e-7f, 128, 2, 1},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    lenet_error err = {{0}};
    const int mode = data[0] % 3;
    data++, size--;
    if (mode == 0) { /* IDX images + labels */
        if (size < 2)
            return 0;
        size_t split = (size_t)(data[0] | data[1] << 8);
        data += 2, size -= 2;
        if (split > size)
            split = size;
        char ip[64], lp[64];
        int a = mem_file(data, split, ip), b = mem_file(data + split, size - split, lp);
        lenet_dataset ds;
        int rc = lenet_load_idx(ip, lp, 0, &ds, &err);
        if (rc == 0)
            lenet_free_dataset(&ds);
        else if (!strstr(err.msg, "/proc/self/fd/"))
            abort();
        close(a);
        close(b);
        return 0;
    }
    char path[64];
    int fd = mem_file(data, size, path);
    if (mode == 1) { /* weights */
        float params[35];
        lenet_meta meta;
        expect_message(lenet_load_safetensors_meta(&model, params, &meta, path, &err), &err,
                       path);
    } else { /* a checkpoint, into a trainer of the small model */
        const lenet_checkpoint_info info = {.h = model.defaults, .shuffle = 1};
        lenet_trainer t;
        if (lenet_trainer_init(&t, &model, &info.h, 1) == 0) {
            lenet_progress p;
            expect_message(lenet_load_checkpoint(&t, &info, &p, path, &err), &err, path);
            lenet_trainer_free(&t);
        }
    }
    close(fd);
    return 0;
}
