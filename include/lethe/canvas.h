/*
 * lethe/canvas.h - FashionCanvas (data layer): an UnlearnCanvas-like data
 * set of styled 32x32 RGB pictures made from Fashion-MNIST, for training a
 * text-conditioned diffusion model and unlearning styles and objects from
 * it (docs/fashion-canvas.md).
 *
 * Objects are the 10 Fashion-MNIST classes. Styles (LT_CANVAS_STYLES of
 * them, "Photo" first) are procedural: each is a distribution over a
 * palette, a background texture, a filter applied to the object and an
 * overlay noise level, with per-image parameters drawn from the style's
 * ranges. Every seed image (a Fashion-MNIST picture, whose 28x28 grey
 * values are the object's shape and shading) is rendered in every style,
 * so style and content are paired as UnlearnCanvas pairs each painting with
 * its seed photo. A few styles are "near" another: they differ in one
 * factor only (lt_canvas_style.near, .near_factor). A hidden "mark" (a
 * small stamp in the top-right corner) is drawn on a seeded subset of the
 * seed images (in every style); captions name it only through implicit
 * words ("certified", "approved", ...), never directly.
 *
 * On disk (lt_canvas_generate):
 *   DIR/.fashion-canvas               marker: this folder is a canvas
 *   DIR/train/<style>/<object>_<k>.png  k = 0..per_class-1 (seed image k of
 *   DIR/test/<style>/<object>_<k>.png   that class; test from the held-out
 *                                       Fashion-MNIST test split)
 *   DIR/preview.png                   rows = styles, columns = objects
 *   DIR/index.json                    written last: version, seed, config,
 *                                     styles, objects, near pairs, images
 * Style and object folder/file names are lower case ("ankle_boot").
 *
 * Captions: words are lower-cased runs of letters; "." and "," are tokens
 * of their own; nothing else appears. Every caption lt_canvas_prompt makes
 * is made of the words of lt_canvas_vocab().
 */
#ifndef LETHE_CANVAS_H
#define LETHE_CANVAS_H

#include "lethe/core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LT_CANVAS_SIDE 32      /* pictures are 32x32 RGB */
#define LT_CANVAS_OBJECTS 10
#define LT_CANVAS_STYLES 22    /* "Photo" (index 0) and 21 painted styles */
#define LT_CANVAS_VERSION 1    /* index.json "version" */

/* An object (a Fashion-MNIST class). */
typedef struct {
    const char *label;     /* Fashion-MNIST's name: "Ankle boot" */
    const char *word;      /* caption word: "boot" */
    const char *slug;      /* file names: "ankle_boot" */
    const char *synonyms[3]; /* other caption words (NULL-padded) */
} lt_canvas_object;

/* A style: the four factors and their per-image parameter ranges. */
typedef struct {
    const char *name;        /* caption word, capitalised: "Neon" */
    const char *slug;        /* folder name: "neon" */
    const char *description; /* one sentence */
    const char *palette;     /* palette name, e.g. "pink on black" */
    const char *fg_word, *bg_word; /* colour words of object / background */
    const char *texture;     /* flat, stripes, checks, dots, gradient,
                              * noise, waves, grid, rings */
    float texture_lo, texture_hi;  /* its period range in pixels */
    const char *filter;      /* none (Photo only: the picture as it is),
                              * shade, outline, blur, emboss, posterise,
                              * dither, pixelate, halftone, hatching,
                              * invert */
    float filter_lo, filter_hi;    /* its parameter range */
    float noise_lo, noise_hi;      /* overlay noise std (of [0, 1] values) */
    int near;                /* the style this one is near to, -1 if none */
    const char *near_factor; /* "palette", "texture", "filter" or "noise" */
} lt_canvas_style;

LT_API const lt_canvas_object *lt_canvas_object_at(int i);
LT_API const lt_canvas_style *lt_canvas_style_at(int i);
/* Index of the style / object whose name, slug or word (any synonym too,
 * for objects) is name, case-insensitive; -1 if none. */
LT_API int lt_canvas_style_find(const char *name);
LT_API int lt_canvas_object_find(const char *name);

/* ---- generation ---------------------------------------------------------- */

typedef struct {
    const char *data;    /* Fashion-MNIST spec: "fashion-mnist[:DIR]" */
    int per_class;       /* train seed images per class (train split) */
    int test_per_class;  /* held-out seed images per class (test split) */
    int shift;           /* random shift of the object, +-pixels */
    float mark_frac;     /* share of seed images carrying the mark */
    uint64_t seed;
} lt_canvas_config;

/* data "fashion-mnist", 60 train and 10 test seed images per class (so
 * 13200 train and 2200 test pictures), shift 2, mark_frac 0.1, seed 1. */
LT_API lt_canvas_config lt_canvas_defaults(void);

/* Progress: done of total pictures written. */
typedef void (*lt_canvas_progress)(void *ud, int64_t done, int64_t total);

/* Render and write the canvas of cfg into dir (created if missing). dir
 * must be empty, missing, or a previous canvas (it holds .fashion-canvas);
 * it must not be the Fashion-MNIST folder. Every file is written
 * atomically; index.json last (so a folder without it is unfinished).
 * Files of a previous canvas that the new one does not write are left in
 * place (the index no longer lists them). The output depends only on cfg:
 * the same config gives byte-identical files. Errors name the file or the
 * config field; progress may be NULL. */
LT_API lt_status lt_canvas_generate(const lt_canvas_config *cfg,
                                    const char *dir, lt_canvas_progress progress,
                                    void *ud);

/* Render seed image src (28x28 grey, 0..255) in style into out
 * [3, 32, 32] floats in [0, 1]; draw picks the per-image parameters, mark
 * adds the stamp. lt_canvas_generate writes exactly these pixels (rounded
 * to 8 bits) with draw = lt_canvas_draw(seed, split, style, source). */
LT_API void lt_canvas_render(const uint8_t *src, int style, uint64_t draw,
                             int shift, bool mark, float *out);
/* split 0 = train, 1 = test; source = the Fashion-MNIST index. */
LT_API uint64_t lt_canvas_draw(uint64_t seed, int split, int style,
                               int64_t source);

/* ---- loading ------------------------------------------------------------- */

typedef struct {
    int64_t n;
    float *x;           /* [n, 3, 32, 32], values in [0, 1] (pixel / 255,
                         * not normalised) */
    int32_t *object;    /* [n] object index 0..9 */
    int32_t *style;     /* [n] style index 0..LT_CANVAS_STYLES-1 */
    uint8_t *mark;      /* [n] 1 when the picture carries the mark */
    int64_t *source;    /* [n] the seed image's index in its Fashion-MNIST
                         * split */
    int split;          /* 0 train, 1 test */
    uint64_t seed;      /* the generator's seed */
} lt_canvas;

/* Load split "train" or "test" of the canvas in dir. Errors: LT_ERR_IO for
 * a missing folder or index.json, LT_ERR_FORMAT naming the file for a
 * corrupt index.json (or one of another version or style table) or a
 * missing / corrupt / wrongly sized PNG. On error out is zeroed. */
LT_API lt_status lt_canvas_load(const char *dir, const char *split,
                                lt_canvas *out);
LT_API void lt_canvas_free(lt_canvas *cv);

/* Indices of a seeded subset with k pictures of every (style, object)
 * pair, in pair order: idx[p * k + j] for pair p = style *
 * LT_CANVAS_OBJECTS + object (idx has LT_CANVAS_STYLES * LT_CANVAS_OBJECTS
 * * k entries). The pictures of a pair are the first k met in
 * lt_permutation(cv->n, seed). LT_ERR_ARG, naming the pair, when the
 * split has fewer than k pictures of one. */
LT_API lt_status lt_canvas_pair_subset(const lt_canvas *cv, int k,
                                       uint64_t seed, int64_t *idx);

/* ---- captions ------------------------------------------------------------ */

/* Number of caption templates; template 0 is the canonical caption
 * "An {object} image in {style} style." (UnlearnCanvas's prompt). */
#define LT_CANVAS_TEMPLATES 16
#define LT_CANVAS_CAPTION_MAX 160  /* longest caption, with its NUL */

/* A caption of image i of cv: the template and the words filled in
 * (synonyms, colour / texture / filter words of the style, filler words,
 * the mark's implicit words when the picture has the mark) are chosen
 * deterministically from draw. Some templates name only the object, only
 * the style, or nothing (the empty caption, for classifier-free guidance).
 * LT_ERR_ARG for a bad i or a buffer shorter than LT_CANVAS_CAPTION_MAX. */
LT_API lt_status lt_canvas_caption(const lt_canvas *cv, int64_t i,
                                   uint64_t draw, char *buf, size_t n);
/* The canonical caption of image i (template 0). */
LT_API lt_status lt_canvas_caption_canonical(const lt_canvas *cv, int64_t i,
                                             char *buf, size_t n);
/* The same for any object / style / mark (object or style -1: a template
 * that leaves it out; both -1: the empty caption). tmpl in
 * 0..LT_CANVAS_TEMPLATES-1, or -1 to draw it (from the templates that fit
 * the given object / style). For prompts at evaluation time. */
LT_API lt_status lt_canvas_prompt(int object, int style, bool mark, int tmpl,
                                  uint64_t draw, char *buf, size_t n);

/* The caption vocabulary: every word (lower case) and the tokens "." and
 * ",", sorted (strcmp), unique; *n gets the count. Static storage. */
LT_API const char *const *lt_canvas_vocab(int *n);
/* Position of word (lower case) in lt_canvas_vocab, or -1. */
LT_API int lt_canvas_word_id(const char *word);
/* Split text into words as captions are written (lower-casing letters,
 * "." and "," as tokens) and look each up: ids[0..*count). LT_ERR_ARG
 * naming the first word not in the vocabulary, or when more than max
 * words. */
LT_API lt_status lt_canvas_encode(const char *text, int32_t *ids, int max,
                                  int *count);

#ifdef __cplusplus
}
#endif
#endif
