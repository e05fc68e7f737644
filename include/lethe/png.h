/*
 * lethe/png.h - PNG pictures (io layer, through libpng): 8-bit grey or RGB
 * images read and written, and image grids (many NCHW float images tiled
 * into one picture, as torchvision's make_grid) for looking at samples.
 *
 * Pixels are uint8, row-major, channels interleaved: pixel (x, y) channel
 * k of a w-wide image with c channels is pix[(y * w + x) * c + k].
 * Writes go through the atomic helpers of lethe/io.h (temporary file, then
 * rename), so a failed write leaves the target as it was. The bytes written
 * depend only on the pixels (no time stamps), so equal images give equal
 * files.
 */
#ifndef LETHE_PNG_H
#define LETHE_PNG_H

#include "lethe/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The largest width and height lt_png_read accepts (and lt_png_write
 * writes). */
#define LT_PNG_MAX_SIDE 16384

/* Write a w x h image with channels 1 (grey) or 3 (RGB) to path. LT_ERR_ARG
 * for a bad size or channel count, LT_ERR_IO naming path if it cannot be
 * written. */
LT_API lt_status lt_png_write(const char *path, int w, int h, int channels,
                              const uint8_t *pix);

/* Read the PNG at path as 8-bit grey (*channels = 1) or RGB (3): palette
 * images become RGB (grey when the palette is all grey is NOT detected:
 * palette means RGB), grey images with fewer than 8 bits are expanded,
 * 16-bit samples keep their high byte, and an alpha channel (or a tRNS
 * transparency chunk) is dropped (the colour under it is kept). *pix is
 * malloc'd (free() it). Errors: LT_ERR_IO (cannot open), LT_ERR_FORMAT
 * naming the file for anything that is not a whole, valid PNG (bad
 * signature, truncated, bad CRC of a critical chunk, corrupt data) or that
 * is larger than LT_PNG_MAX_SIDE a side. On error nothing is allocated and
 * the outputs are zero / NULL. */
LT_API lt_status lt_png_read(const char *path, int *w, int *h, int *channels,
                             uint8_t **pix);

/* Tile n images x [n, c, h, w] (NCHW float, c = 1 or 3) into a grid of
 * ncol columns and ceil(n / ncol) rows, with 2 black pixels between the
 * tiles and around the border (so the picture is ncol * (w + 2) + 2 wide),
 * mapping [lo, hi] linearly to [0, 255] (values outside are clamped, NaN is
 * 0; v -> round(255 * (v - lo) / (hi - lo))), and write it to path as grey
 * (c = 1) or RGB (c = 3). ncol larger than n is cut to n. LT_ERR_ARG for
 * bad sizes or lo >= hi, else as lt_png_write. */
#define LT_PNG_GRID_PAD 2
LT_API lt_status lt_png_grid(const char *path, const float *x, int n, int c,
                             int h, int w, int ncol, float lo, float hi);

#ifdef __cplusplus
}
#endif
#endif
