/* decode.c: image files -> 8-bit pixels (PNG via libpng, JPEG via
 * libjpeg-turbo), gray or RGB, for image-folder data sets.
 *
 * Both libraries report errors by longjmp; their messages are kept for ours,
 * which name the file. A JPEG that libjpeg only warns about (cut short,
 * corrupt entropy data) would decode to gray filler: here it is an error,
 * as nothing may be used without saying so. Alpha is composited over the
 * background pixels.c's rule picks (lenet_flatten_alpha), for data sets
 * and predict alike.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
/* jpeglib.h wants stdio.h's FILE and size_t first */
#include <jpeglib.h>
#include <png.h>
#include <string.h>
#include <unistd.h>

#include "lenet_core.h"
#include "lenet_data.h"
#include "lenet_io.h"

#define MAX_SIDE 16384

/* ---- PNG ---------------------------------------------------------------- */

typedef struct {
    lenet_error *err;
    const char *path;
} png_ctx;

static void png_fail(png_structp png, png_const_charp msg) {
    png_ctx *c = png_get_error_ptr(png);
    lenet_set_error(c->err, "%s: bad PNG: %s", c->path, msg);
    png_longjmp(png, 1);
}

/* Warnings are about ancillary chunks (colour profiles, text): the pixels
 * are whole. */
static void png_warn(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg;
}

static int read_png(FILE *f, const char *path, lenet_image *img, lenet_error *err) {
    png_ctx ctx = {err, path};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, png_fail, png_warn);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    uint8_t *volatile px = NULL;
    png_bytep *volatile rows = NULL;
    if (!info) {
        lenet_set_error(err, "%s: out of memory", path);
        png_destroy_read_struct(&png, NULL, NULL);
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        free(px);
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    png_init_io(png, f);
    png_read_info(png, info);
    const png_uint_32 pw = png_get_image_width(png, info), ph = png_get_image_height(png, info);
    if (pw > MAX_SIDE || ph > MAX_SIDE) { /* the limit said as JPEG's is */
        lenet_set_error(err, "%s: PNG of %ux%u pixels (at most %d a side)", path, (unsigned)pw,
                        (unsigned)ph, MAX_SIDE);
        png_longjmp(png, 1);
    }
    /* palette and low depths to 8 bits, tRNS to alpha, 16 bits scaled */
    png_set_expand(png);
    png_set_scale_16(png);
    png_read_update_info(png, info);
    const int type = png_get_color_type(png, info);
    const int w = (int)png_get_image_width(png, info), h = (int)png_get_image_height(png, info);
    const int in_c = png_get_channels(png, info); /* 1 gray, 2 +alpha, 3 RGB, 4 +alpha */
    if (png_get_rowbytes(png, info) != (size_t)w * in_c)
        png_error(png, "unexpected pixel format");
    px = malloc((size_t)w * h * in_c);
    rows = malloc(sizeof *rows * (size_t)h);
    if (!px || !rows)
        png_error(png, "out of memory");
    for (int y = 0; y < h; y++)
        rows[y] = px + (size_t)y * w * in_c;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    const int alpha = (type & PNG_COLOR_MASK_ALPHA) != 0, c = in_c - alpha;
    if (alpha) /* in place */
        lenet_flatten_alpha(px, (size_t)w * h, in_c, px);
    img->w = w;
    img->h = h;
    img->c = c;
    img->px = px;
    return 0;
}

/* ---- JPEG --------------------------------------------------------------- */

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    lenet_error *err;
    const char *path;
} jpeg_ctx;

static void jpeg_fail(j_common_ptr cinfo) {
    jpeg_ctx *c = (jpeg_ctx *)cinfo->err;
    char msg[JMSG_LENGTH_MAX];
    c->pub.format_message(cinfo, msg);
    lenet_set_error(c->err, "%s: bad JPEG: %s", c->path, msg);
    longjmp(c->jump, 1);
}

/* level -1 is a warning (data missing or corrupt): an error here; higher
 * levels are trace messages. */
static void jpeg_message(j_common_ptr cinfo, int level) {
    if (level < 0)
        jpeg_fail(cinfo);
}

static int read_jpeg(FILE *f, const char *path, lenet_image *img, lenet_error *err) {
    struct jpeg_decompress_struct cinfo;
    jpeg_ctx ctx = {.err = err, .path = path};
    uint8_t *volatile px = NULL;
    cinfo.err = jpeg_std_error(&ctx.pub);
    ctx.pub.error_exit = jpeg_fail;
    ctx.pub.emit_message = jpeg_message;
    if (setjmp(ctx.jump)) {
        free(px);
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_stdio_src(&cinfo, f);
    jpeg_read_header(&cinfo, TRUE);
    if (cinfo.image_width > MAX_SIDE || cinfo.image_height > MAX_SIDE) {
        lenet_set_error(err, "%s: JPEG of %ux%u pixels (at most %d a side)", path,
                        cinfo.image_width, cinfo.image_height, MAX_SIDE);
        longjmp(ctx.jump, 1);
    }
    if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
        lenet_set_error(err, "%s: CMYK JPEG: convert it to RGB", path);
        longjmp(ctx.jump, 1);
    }
    const int gray = cinfo.jpeg_color_space == JCS_GRAYSCALE;
    cinfo.out_color_space = gray ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    const int w = (int)cinfo.output_width, h = (int)cinfo.output_height;
    const int c = cinfo.output_components;
    px = malloc((size_t)w * h * c);
    if (!px) {
        lenet_set_error(err, "%s: out of memory", path);
        longjmp(ctx.jump, 1);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = px + (size_t)cinfo.output_scanline * w * c;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    img->w = w;
    img->h = h;
    img->c = c;
    img->px = px;
    return 0;
}

/* ---- either ------------------------------------------------------------- */

int lenet_decode_image(const char *path, lenet_image *img, lenet_error *err) {
    memset(img, 0, sizeof *img);
    int fd = lenet_open_regular(path, err);
    FILE *f = fd < 0 ? NULL : fdopen(fd, "rb");
    if (!f) {
        if (fd >= 0) {
            lenet_set_error(err, "%s: %s", path, strerror(errno));
            close(fd);
        }
        return -1;
    }
    unsigned char sig[8] = {0};
    size_t n = fread(sig, 1, 8, f);
    rewind(f);
    int rc;
    if (n == 8 && png_sig_cmp(sig, 0, 8) == 0)
        rc = read_png(f, path, img, err);
    else if (n >= 3 && sig[0] == 0xff && sig[1] == 0xd8 && sig[2] == 0xff)
        rc = read_jpeg(f, path, img, err);
    else {
        lenet_set_error(err, "%s: %s", path, n ? "neither a PNG nor a JPEG image" : "empty file");
        rc = -1;
    }
    fclose(f);
    return rc;
}
