/*
 * png.c - PNG pictures through libpng (lethe/png.h): 8-bit grey / RGB
 * encode to memory then one atomic write, decode from a whole-file read
 * with every libpng format turned into 8-bit grey or RGB, and image grids.
 *
 * libpng reports errors by calling an error function that must not
 * return. Ours records the message and longjmps back to the setjmp of
 * lt_png_encode / lt_png_decode, which free what was allocated and turn the
 * message into an lt_status naming the file. Everything those functions
 * touch after setjmp lives in an lt_png_job reached through a pointer (never
 * in their own locals), so nothing is indeterminate after the longjmp.
 * Warnings are dropped: the library never prints.
 */
#include "lethe/png.h"
#include "lethe/io.h"

#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

/* The state of one encode or decode; see the comment at the top. */
typedef struct {
    const char *path;
    jmp_buf jb;
    char msg[200];
    png_structp png;
    png_infop info;
    /* decode: the file's bytes and read position; the pixels and rows */
    const uint8_t *in;
    size_t in_len, in_pos;
    uint8_t *pix;
    png_bytep *rows;
    /* encode: the growing output buffer */
    uint8_t *out;
    size_t out_len, out_cap;
} lt_png_job;

static void lt_png_on_error(png_structp png, png_const_charp msg)
{
    lt_png_job *j = png_get_error_ptr(png);
    snprintf(j->msg, sizeof j->msg, "%s", msg ? msg : "libpng error");
    longjmp(j->jb, 1);
}

static void lt_png_on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

/* ---- encoding ------------------------------------------------------------ */

static void lt_png_put(png_structp png, png_bytep data, size_t n)
{
    lt_png_job *j = png_get_io_ptr(png);
    if (n > j->out_cap - j->out_len) {
        size_t cap = j->out_cap ? j->out_cap : 4096;
        while (cap - j->out_len < n)
            cap *= 2;
        uint8_t *b = realloc(j->out, cap);
        if (!b)
            png_error(png, "out of memory");
        j->out = b;
        j->out_cap = cap;
    }
    memcpy(j->out + j->out_len, data, n);
    j->out_len += n;
}

static void lt_png_flush(png_structp png)
{
    (void)png;
}

/* Encode into j->out; 0 on success, 1 after a libpng error (j->msg). */
static int lt_png_encode(lt_png_job *j, int w, int h, int channels,
                         const uint8_t *pix)
{
    if (setjmp(j->jb))
        return 1;
    png_set_write_fn(j->png, j, lt_png_put, lt_png_flush);
    png_set_IHDR(j->png, j->info, (png_uint_32)w, (png_uint_32)h, 8,
                 channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(j->png, 9);
    png_write_info(j->png, j->info);
    for (int y = 0; y < h; y++)
        png_write_row(j->png, pix + (size_t)y * w * channels);
    png_write_end(j->png, NULL);
    return 0;
}

lt_status lt_png_write(const char *path, int w, int h, int channels,
                       const uint8_t *pix)
{
    if (!path || !pix)
        return lt_set_error(LT_ERR_ARG, "png write: NULL argument");
    if (w < 1 || h < 1 || w > LT_PNG_MAX_SIDE || h > LT_PNG_MAX_SIDE ||
        (channels != 1 && channels != 3))
        return lt_set_error(LT_ERR_ARG, "%s: cannot write a %dx%d PNG with "
                            "%d channels (sides 1..%d, channels 1 or 3)",
                            path, w, h, channels, LT_PNG_MAX_SIDE);
    lt_png_job j = {.path = path};
    j.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &j, lt_png_on_error,
                                    lt_png_on_warning);
    j.info = j.png ? png_create_info_struct(j.png) : NULL;
    if (!j.info) {
        png_destroy_write_struct(&j.png, NULL);
        return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", path);
    }
    int bad = lt_png_encode(&j, w, h, channels, pix);
    png_destroy_write_struct(&j.png, &j.info);
    lt_status s = bad ? lt_set_error(LT_ERR_IO, "%s: PNG encoding failed: %s",
                                     path, j.msg)
                      : lt_write_file_atomic(path, j.out, j.out_len);
    free(j.out);
    return s;
}

/* ---- decoding ------------------------------------------------------------ */

static void lt_png_get(png_structp png, png_bytep data, size_t n)
{
    lt_png_job *j = png_get_io_ptr(png);
    if (n > j->in_len - j->in_pos)
        png_error(png, "file is truncated");
    memcpy(data, j->in + j->in_pos, n);
    j->in_pos += n;
}

/* Ask libpng for 8-bit grey or RGB whatever the file holds. */
static void lt_png_transforms(png_structp png, png_infop info)
{
    int type = png_get_color_type(png, info);
    int depth = png_get_bit_depth(png, info);
    if (type == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (type == PNG_COLOR_TYPE_GRAY && depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (depth == 16)
        png_set_strip_16(png);
    if ((type & PNG_COLOR_MASK_ALPHA) ||
        png_get_valid(png, info, PNG_INFO_tRNS))
        png_set_strip_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
}

/* The decoded image must fit in a file of this many bytes: deflate cannot
 * compress better than 1032:1, so a header promising more raw data than
 * that (plus some slack) is a truncated or forged file; refusing it early
 * keeps a 100-byte file from allocating hundreds of megabytes. */
static bool lt_png_plausible(png_structp png, png_infop info, size_t len)
{
    uint64_t w = png_get_image_width(png, info);
    uint64_t h = png_get_image_height(png, info);
    uint64_t bits = (uint64_t)png_get_bit_depth(png, info) *
                    png_get_channels(png, info);
    uint64_t raw = h * (1 + (w * bits + 7) / 8);
    return raw <= (uint64_t)len * 1032 + 4096;
}

/* Decode j->in into j->pix; 0 on success, 1 after an error (j->msg). */
static int lt_png_decode(lt_png_job *j, int *w, int *h, int *channels)
{
    if (setjmp(j->jb))
        return 1;
    png_set_read_fn(j->png, j, lt_png_get);
    png_set_user_limits(j->png, LT_PNG_MAX_SIDE, LT_PNG_MAX_SIDE);
    png_read_info(j->png, j->info);
    if (!lt_png_plausible(j->png, j->info, j->in_len))
        png_error(j->png, "file is truncated (too short for its size)");
    lt_png_transforms(j->png, j->info);
    png_uint_32 pw = png_get_image_width(j->png, j->info);
    png_uint_32 ph = png_get_image_height(j->png, j->info);
    int c = png_get_channels(j->png, j->info);
    size_t rowbytes = png_get_rowbytes(j->png, j->info);
    if ((c != 1 && c != 3) || png_get_bit_depth(j->png, j->info) != 8 ||
        rowbytes != (size_t)pw * c)
        png_error(j->png, "unsupported pixel format");
    j->pix = malloc(rowbytes * ph);
    j->rows = malloc(sizeof *j->rows * ph);
    if (!j->pix || !j->rows)
        png_error(j->png, "out of memory");
    for (png_uint_32 y = 0; y < ph; y++)
        j->rows[y] = j->pix + rowbytes * y;
    png_read_image(j->png, j->rows);
    png_read_end(j->png, NULL);
    *w = (int)pw;
    *h = (int)ph;
    *channels = c;
    return 0;
}

lt_status lt_png_read(const char *path, int *w, int *h, int *channels,
                      uint8_t **pix)
{
    if (!path || !w || !h || !channels || !pix)
        return lt_set_error(LT_ERR_ARG, "png read: NULL argument");
    *w = *h = *channels = 0;
    *pix = NULL;
    char *data;
    size_t len;
    lt_status s = lt_read_file(path, &data, &len);
    if (s != LT_OK)
        return s;
    if (len < 8 || png_sig_cmp((png_const_bytep)data, 0, 8)) {
        free(data);
        return lt_set_error(LT_ERR_FORMAT, "%s: not a PNG file (bad "
                            "signature)", path);
    }
    lt_png_job j = {.path = path, .in = (const uint8_t *)data, .in_len = len};
    j.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &j, lt_png_on_error,
                                   lt_png_on_warning);
    j.info = j.png ? png_create_info_struct(j.png) : NULL;
    if (!j.info) {
        png_destroy_read_struct(&j.png, NULL, NULL);
        free(data);
        return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", path);
    }
    int bad = lt_png_decode(&j, w, h, channels);
    png_destroy_read_struct(&j.png, &j.info, NULL);
    free(data);
    free(j.rows);
    if (!bad) {
        *pix = j.pix;
        return LT_OK;
    }
    free(j.pix);
    *w = *h = *channels = 0;
    if (!strcmp(j.msg, "out of memory"))
        return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", path);
    return lt_set_error(LT_ERR_FORMAT, "%s: corrupt PNG: %s", path, j.msg);
}

/* ---- grids --------------------------------------------------------------- */

static uint8_t lt_png_level(float v, float lo, float hi)
{
    float t = (v - lo) / (hi - lo) * 255.0f;
    if (!(t > 0.0f)) /* also NaN */
        return 0;
    return t >= 255.0f ? 255 : (uint8_t)(t + 0.5f);
}

lt_status lt_png_grid(const char *path, const float *x, int n, int c, int h,
                      int w, int ncol, float lo, float hi)
{
    if (!path || !x || n < 1 || (c != 1 && c != 3) || h < 1 || w < 1 ||
        ncol < 1 || !(lo < hi))
        return lt_set_error(LT_ERR_ARG, "%s: bad image grid (n %d, c %d, "
                            "%dx%d, %d columns, range [%g, %g])",
                            path ? path : "(null)", n, c, h, w, ncol, lo, hi);
    if (ncol > n)
        ncol = n;
    int nrow = (n + ncol - 1) / ncol, pad = LT_PNG_GRID_PAD;
    int64_t gw = (int64_t)ncol * (w + pad) + pad;
    int64_t gh = (int64_t)nrow * (h + pad) + pad;
    if (gw > LT_PNG_MAX_SIDE || gh > LT_PNG_MAX_SIDE)
        return lt_set_error(LT_ERR_ARG, "%s: image grid %lldx%lld is larger "
                            "than %d a side", path, (long long)gw,
                            (long long)gh, LT_PNG_MAX_SIDE);
    uint8_t *g = calloc((size_t)(gw * gh * c), 1);
    if (!g)
        return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", path);
    for (int i = 0; i < n; i++) {
        int64_t x0 = pad + (int64_t)(i % ncol) * (w + pad);
        int64_t y0 = pad + (int64_t)(i / ncol) * (h + pad);
        const float *img = x + (size_t)i * c * h * w;
        for (int y = 0; y < h; y++)
            for (int xx = 0; xx < w; xx++)
                for (int k = 0; k < c; k++)
                    g[((y0 + y) * gw + x0 + xx) * c + k] = lt_png_level(
                        img[((size_t)k * h + y) * w + xx], lo, hi);
    }
    lt_status s = lt_png_write(path, (int)gw, (int)gh, c, g);
    free(g);
    return s;
}
