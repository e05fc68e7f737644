/*
 * canvas_internal.h - what the three FashionCanvas files share
 * (canvas.c: generation and loading; canvas_styles.c: the object and
 * style tables and the renderer; canvas_text.c: captions and vocabulary).
 */
#ifndef LETHE_CANVAS_INTERNAL_H
#define LETHE_CANVAS_INTERNAL_H

#include "lethe/canvas.h"

/* Texture and filter kinds, in the order of their names in
 * lt_cv_texture_names / lt_cv_filter_names. */
enum {
    LT_CV_FLAT, LT_CV_STRIPES, LT_CV_CHECKS, LT_CV_DOTS, LT_CV_GRADIENT,
    LT_CV_NOISE, LT_CV_WAVES, LT_CV_GRID, LT_CV_RINGS, LT_CV_NTEXTURES
};
enum {
    LT_CV_NONE, LT_CV_SHADE, LT_CV_OUTLINE, LT_CV_BLUR, LT_CV_EMBOSS, LT_CV_POSTERISE,
    LT_CV_DITHER, LT_CV_PIXELATE, LT_CV_HALFTONE, LT_CV_HATCHING,
    LT_CV_INVERT, LT_CV_NFILTERS
};

/* The caption adjective of a style's texture / filter ("striped",
 * "outlined"). */
const char *lt_cv_texture_word(int style);
const char *lt_cv_filter_word(int style);
/* Every texture / filter adjective (for the vocabulary). */
extern const char *const lt_cv_texture_words[LT_CV_NTEXTURES];
extern const char *const lt_cv_filter_words[LT_CV_NFILTERS];

#endif
