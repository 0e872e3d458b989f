/* cifar.c: CIFAR-10's binary batches (data_batch_1.bin ... test_batch.bin).
 *
 * A batch is records of 1 label byte and 3072 pixel bytes: a 32x32 red
 * plane, then green, then blue, rows top to bottom. Any number of records
 * per file (CIFAR-10's hold 10,000); a file whose length is not a whole
 * number of records is truncated or not a batch, and says which record is
 * cut short. Pixels are stored here with each pixel's channels together,
 * as every data set is.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lenet_core.h"
#include "lenet_data.h"
#include "lenet_io.h"

#define SIDE 32
#define PLANE (SIDE * SIDE)
#define RECORD (1 + 3 * PLANE)
#define MAX_RECORDS 10000000L

/* The record count of one batch file, from its length. */
static long batch_records(const char *path, lenet_error *err) {
    struct stat st;
    if (stat(path, &st) != 0) {
        lenet_set_error(err, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (st.st_size == 0) {
        lenet_set_error(err, "%s: empty: no records", path);
        return -1;
    }
    if (st.st_size % RECORD) {
        lenet_set_error(err, "%s: truncated: %lld bytes is not a whole number of %d-byte records "
                        "(record %lld has %lld bytes)", path, (long long)st.st_size, RECORD,
                        (long long)(st.st_size / RECORD), (long long)(st.st_size % RECORD));
        return -1;
    }
    return (long)(st.st_size / RECORD);
}

/* Reads the n records of path into images and labels (each pixel's channels
 * together), checking every label against classes. */
static int read_batch(const char *path, long n, int classes, uint8_t *images, uint8_t *labels,
                      int *most, lenet_error *err) {
    int fd = lenet_open_regular(path, err);
    if (fd < 0)
        return -1;
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        lenet_set_error(err, "%s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    uint8_t rec[RECORD];
    for (long r = 0; r < n; r++) {
        if (fread(rec, 1, RECORD, f) != RECORD) {
            lenet_set_error(err, "%s: read error at record %ld%s%s", path, r,
                            ferror(f) ? ": " : " (the file shrank)",
                            ferror(f) ? strerror(errno) : "");
            fclose(f);
            return -1;
        }
        if (rec[0] >= classes) {
            lenet_set_error(err, "%s: label %d of record %ld is out of range: %d classes "
                            "(labels 0..%d)", path, rec[0], r, classes, classes - 1);
            fclose(f);
            return -1;
        }
        labels[r] = rec[0];
        *most = rec[0] > *most ? rec[0] : *most;
        uint8_t *img = images + (size_t)r * 3 * PLANE;
        for (int p = 0; p < PLANE; p++)
            for (int c = 0; c < 3; c++)
                img[p * 3 + c] = rec[1 + c * PLANE + p];
    }
    fclose(f);
    return 0;
}

int lenet_load_cifar(const char *const *files, int n, int classes, lenet_dataset *out,
                     lenet_error *err) {
    memset(out, 0, sizeof *out);
    if (classes <= 0 || classes > LENET_MAX_CLASSES)
        classes = LENET_MAX_CLASSES;
    long total = 0;
    for (int i = 0; i < n; i++) {
        long k = batch_records(files[i], err);
        if (k < 0)
            return -1;
        total += k;
        if (total > MAX_RECORDS) {
            lenet_set_error(err, "%s: more than %ld records in all", files[i], MAX_RECORDS);
            return -1;
        }
    }
    out->images = malloc((size_t)total * 3 * PLANE);
    out->labels = malloc((size_t)total);
    if (!out->images || !out->labels) {
        lenet_free_dataset(out);
        lenet_set_error(err, "%s: out of memory for %ld records", files[0], total);
        return -1;
    }
    long at = 0;
    int most = 0;
    for (int i = 0; i < n; i++) {
        long k = batch_records(files[i], err);
        if (k < 0 || at + k > total ||
            read_batch(files[i], k, classes, out->images + (size_t)at * 3 * PLANE,
                       out->labels + at, &most, err)) {
            if (k >= 0 && at + k > total)
                lenet_set_error(err, "%s: grew while being read", files[i]);
            lenet_free_dataset(out);
            return -1;
        }
        at += k;
    }
    out->count = (int)total;
    out->rows = out->cols = SIDE;
    out->channels = 3;
    out->n_classes = most + 1;
    out->class_names = lenet_digit_names(out->n_classes);
    out->format = "CIFAR-10";
    if (!out->class_names) {
        lenet_free_dataset(out);
        lenet_set_error(err, "%s: out of memory", files[0]);
        return -1;
    }
    return 0;
}
