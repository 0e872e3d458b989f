/* lenet_data.h: data sets from files (IDX, CIFAR-10, image folders), the
 * decoding of image files and their pixels' conversions. The data set
 * itself (lenet_dataset) is the core's, which trains on it.
 */
#ifndef LENET_DATA_H
#define LENET_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "lenet_core.h"
#include "lenet_model.h"

/* ---- data sets (data.c, dataset.c) ----------------------------------- */

/* Loads an IDX image file ([N, H, W] or [N, H, W, C] unsigned bytes) and its
 * label file (either may end in .gz or not; zlib reads both). Validates magic
 * numbers, dimensions, counts, and every label against classes (<= 0: 256),
 * naming the file and record of a bad one. */
int lenet_load_idx(const char *images_path, const char *labels_path, int classes,
                   lenet_dataset *out, lenet_error *err);
void lenet_free_dataset(lenet_dataset *ds);

/* Finds the directory holding MNIST: dir if given, else $LENETC_DATA (which
 * must exist), else ./data/mnist, ../shared/mnist, the same next to the
 * executable, /usr/share/datasets/mnist. Loads train (kind "train") or test
 * (kind "t10k") from it, labels checked against 10 classes. */
int lenet_load_mnist(const char *dir, const char *kind, lenet_dataset *out,
                     lenet_error *err);
/* The search list's first directory (not $LENETC_DATA) that holds kind's IDX
 * images, into dir; -1 with every place looked in said in err. */
int lenet_find_mnist(const char *kind, char *dir, size_t size, lenet_error *err);

/* What to load (data.c finds the format) and what the model takes. */
typedef struct {
    const char *path;   /* --data: a directory; NULL: $LENETC_DATA, else MNIST's
                         * search list (lenet_load_mnist) */
    const char *train_images, *train_labels, *test_images, *test_labels; /* IDX files
                         * named one by one (instead of path) */
    int h, w, c;        /* the model's input: folder images are converted and
                         * resized to it; IDX and CIFAR must have it */
    int classes;        /* every label must be below it */
    int threads;        /* decoding workers (0: all cores) */
    int test_optional;  /* image folders without test/: an empty test set
                         * (training with --val) instead of an error */
} lenet_data_request;

/* The request for model m's input and classes, from nowhere in particular. */
lenet_data_request lenet_data_request_for(const lenet_model *m);

/* Loads the training set (train may be NULL: only the test set) and the test
 * set from what the request names, detecting the format from what is there:
 *   IDX            train-images-idx3-ubyte[.gz] and the three others, or the
 *                  files named one by one
 *   CIFAR-10       data_batch_*.bin (train), test_batch.bin (test): records
 *                  of 1 label byte + 3072 bytes, 32x32x3 channel-planar
 *   image folders  train/<class>/<images> (.png, .jpg, .jpeg), test/<class>/...
 *                  (folders.c)
 * Everything is checked against the request; -1 with a message naming the
 * file (and record) of the first thing wrong. */
int lenet_load_data(const lenet_data_request *rq, lenet_dataset *train, lenet_dataset *test,
                    lenet_error *err);

/* "../shared/mnist (IDX, 60000 train + 10000 test, 28x28x1, 10 classes)", and
 * the parts' notes (train may be NULL). */
void lenet_describe_data(const lenet_dataset *train, const lenet_dataset *test, char *buf,
                         size_t size);

/* Part of data.c that the formats share: n "0".."n-1" class names (NULL if
 * out of memory). */
char **lenet_digit_names(int n);

/* ---- formats (cifar.c, folders.c), called by lenet_load_data ----------- */

/* The CIFAR batches files[0..n) as one part; labels checked against classes. */
int lenet_load_cifar(const char *const *files, int n, int classes, lenet_dataset *out,
                     lenet_error *err);

/* dir/<class>/<image> for every class folder of dir, sorted: decoded on
 * `threads` workers, converted to h x w x c, cached in cache_dir (NULL: no
 * cache) under `part`; labels are the classes' places in that order (a test
 * part is then matched to the training part's by name). A class folder
 * whose name is not UTF-8 is an error naming it. */
int lenet_load_folders(const char *dir, const char *part, int h, int w, int c, int classes,
                       int threads, const char *cache_dir, lenet_dataset *out, lenet_error *err);

/* Makes ds's classes names[0..n): each label becomes the place of its
 * class's name there (a class names lacks is an error naming where, the
 * class and `whose`, e.g. "the training set's"); names ds lacks are classes
 * without images. Classes match by name, never by position. */
int lenet_match_classes(lenet_dataset *ds, const char *where, char *const *names, int n,
                        const char *whose, lenet_error *err);

/* ---- images (decode.c, pixels.c) -------------------------------------- */

typedef struct {
    int w, h, c;   /* c: 1 (gray) or 3 (RGB) */
    uint8_t *px;   /* h rows of w pixels of c bytes */
} lenet_image;

/* Decodes a PNG (any colour type and depth) or JPEG (gray, RGB or YCbCr)
 * file to 8-bit gray or RGB; alpha is composited as lenet_flatten_alpha
 * does. Any libjpeg warning (a truncated file, corrupt data) is an error. */
int lenet_decode_image(const char *path, lenet_image *img, lenet_error *err);

/* The background of n pixels of 2 (gray + alpha) or 4 (RGBA) channels: 255
 * (white, a page), unless what is drawn is light (the alpha-weighted mean
 * of its BT.601 luma above 127.5): 0. 255 for 1 or 3 channels. */
int lenet_alpha_background(const uint8_t *px, size_t n, int channels);
/* src's n pixels (2 or 4 channels) composited over that background into
 * dst (1 or 3 channels: (v a + bg (255 - a) + 127) / 255); dst may be src. */
void lenet_flatten_alpha(const uint8_t *src, size_t n, int channels, uint8_t *dst);
/* n RGB pixels to BT.601 luma, (299 R + 587 G + 114 B + 500) / 1000; gray
 * may be rgb. */
void lenet_gray_pixels(const uint8_t *rgb, size_t n, uint8_t *gray);

/* src (sh x sw x sc, sc 1 or 3) into dst (dh x dw x dc, dc 1 or 3): RGB to
 * gray by ITU-R BT.601 luma (0.299 R + 0.587 G + 0.114 B), gray to RGB by
 * copying; then each axis resized on its own, by area averaging when it
 * shrinks and bilinearly (pixel centres) when it grows, so the aspect ratio
 * follows the target's. */
void lenet_fit_pixels(const uint8_t *src, int sh, int sw, int sc, uint8_t *dst, int dh, int dw,
                      int dc);

#endif
