/* fuzz_image.c: libFuzzer target over the image readers `predict` and the
 * image-folder loader use: PNG (libpng), JPEG (libjpeg-turbo) and PGM (read
 * by image.c), then both preparations for a gray and a colour input. The
 * file lives in memory (memfd), opened by /proc path as a user's would be.
 * Every read must succeed or fail with a message naming the file, and
 * every prepared image must be the input's size.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lenet.h"

static void check_read(int rc, const lenet_image *img, const lenet_error *err,
                       const char *path) {
    if (rc != 0 && strncmp(err->msg, path, strlen(path)) != 0) {
        fprintf(stderr, "error without the file's name: %s\n", err->msg);
        abort();
    }
    if (rc == 0 && (img->w < 1 || img->h < 1 || img->w > 16384 || img->h > 16384 ||
                    (img->c != 1 && img->c != 3) || !img->px))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int fd = memfd_create("fuzz", 0);
    if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
        abort();
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    lenet_error err = {{0}};
    lenet_image img;
    int rc = lenet_read_image(path, &img, &err); /* predict's reader */
    check_read(rc, &img, &err, path);
    if (rc == 0) {
        /* a gray 12x10 input both ways, a colour 6x7 one as loaded */
        uint8_t gray[12 * 10], rgb[6 * 7 * 3];
        if (lenet_prepare_image(img.px, img.w, img.h, img.c, 12, 10, 1, LENET_PREPARE_MNIST,
                                gray) < -1 ||
            lenet_prepare_image(img.px, img.w, img.h, img.c, 12, 10, 1,
                                LENET_PREPARE_AS_LOADED, gray) != 0 ||
            lenet_prepare_image(img.px, img.w, img.h, img.c, 6, 7, 3, LENET_PREPARE_AS_LOADED,
                                rgb) != 0)
            abort();
        free(img.px);
    }
    rc = lenet_decode_image(path, &img, &err); /* the folder loader's */
    check_read(rc, &img, &err, path);
    if (rc == 0)
        free(img.px);
    close(fd);
    return 0;
}
