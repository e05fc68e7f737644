/*
 * lethe/dm_canvas_unlearn.h - the FashionCanvas side of unlearning a
 * text-conditioned UNet (unlearn layer, on lethe/canvas.h, lethe/clip.h
 * and the methods of dm_text_unlearn.h / dm_text_salun.h): naming a
 * target ("style:NAME", "object:NAME"), the data sets SalUn and FMN take
 * from a canvas, and 0/1 weight masks on disk so any method runs with any
 * mask.
 *
 * SalUn's sets (what UnlearnCanvas' generate_dataset.py lists, with 3
 * pictures per pair there): for a style target, per object in order, the
 * first per_pair training pictures of (style, object) with "An {object}
 * image in {style} style."; for an object target, per style in order
 * (Photo included, as the script's theme list holds Seed_Images), the
 * first per_pair pictures of (style, object). The remain set is always the
 * Photo pictures, per object in order, with "An {object} image in Photo
 * style.". The mask prompt is "An image in {Style} style." (the object's
 * word for an object target), as generate_mask.py writes it; its null
 * context is that prompt itself (the script's null batch carries the
 * prompt) or, with empty_null, the empty caption's.
 *
 * Mask files: safetensors with one float tensor per trainable UNet
 * parameter, named and shaped as the parameter, holding 0 or 1 (the
 * official scripts' `{name: 0/1 tensor}` dict).
 */
#ifndef LETHE_DM_CANVAS_UNLEARN_H
#define LETHE_DM_CANVAS_UNLEARN_H

#include "lethe/canvas.h"
#include "lethe/clip.h"
#include "lethe/dm_text_salun.h"
#include "lethe/dm_text_unlearn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* "style:NAME" or "object:NAME" (a FashionCanvas style or object: name,
 * slug or word, any case) -> *is_style and *index. LT_ERR_ARG naming the
 * spec otherwise (an empty name, an unknown one, a missing prefix). */
LT_API lt_status lt_canvas_target_parse(const char *spec, bool *is_style,
                                        int *index);
/* The target's caption word, lower case ("neon", "bag"), static. */
LT_API const char *lt_canvas_target_word(bool is_style, int index);

/* n texts -> their contexts ctx [n, L, D] by the frozen encoder clip
 * with vocabulary v. LT_ERR_ARG naming a word outside v. */
LT_API lt_status lt_canvas_contexts(lt_clip *clip, const lt_clip_vocab *v,
                                    const char *const *texts, int64_t n,
                                    float *ctx);

typedef struct {
    int64_t n_forget, n_remain;
    float *x_forget, *ctx_forget, *x_remain, *ctx_remain;
    float *ctx_mask, *null_mask;
} lt_salun_canvas_set;

/* SalUn's sets from the training split cv (see the top). LT_ERR_ARG for
 * a bad target, per_pair < 1 or a canvas lacking a pair's pictures. */
LT_API lt_status lt_salun_canvas_data(const lt_canvas *cv, lt_clip *clip,
                                      const lt_clip_vocab *v, bool is_style,
                                      int index, int per_pair,
                                      bool empty_null,
                                      lt_salun_canvas_set *out);
/* The set as lt_salun_text_data (views, no copy). */
LT_API lt_salun_text_data lt_salun_canvas_view(const lt_salun_canvas_set *s);
LT_API void lt_salun_canvas_free(lt_salun_canvas_set *s);

/* FMN's set: every training picture of the target with its canonical
 * caption, the marks of the target's word and <eos> (lt_fmn_positions),
 * the caption's token ids (for --fmn-ti's placeholders) and the word's
 * id. */
typedef struct {
    int64_t n;
    float *x, *ctx, *mask;
    int32_t *ids; /* [n, L] */
    int32_t word;
} lt_fmn_canvas_set;

LT_API lt_status lt_fmn_canvas_data(const lt_canvas *cv, lt_clip *clip,
                                    const lt_clip_vocab *v, bool is_style,
                                    int index, lt_fmn_canvas_set *out);
LT_API void lt_fmn_canvas_free(lt_fmn_canvas_set *s);
/* --fmn-ti: textual inversion (lt_fmn_ti_run) of 1 + cfg->n_rand tokens
 * that replace the set's word in every caption, started from the word's
 * row and cfg->n_rand random rows, on the set's pictures; then the set's
 * contexts and marks rebuilt with the learned tokens for the attention
 * stage (lt_fmn_ti_contexts). LT_ERR_ARG when a caption with the tokens
 * does not fit the context. */
LT_API lt_status lt_fmn_ti_canvas(lt_unet *u, const lt_dm_schedule *s,
                                  lt_clip *clip, lt_fmn_canvas_set *set,
                                  const lt_fmn_ti_config *cfg,
                                  lt_fmn_ti_fn cb, void *ud);

/* mask [n_train] of u to path (atomic; meta pairs as lt_st_save). */
LT_API lt_status lt_unet_mask_save(const lt_unet *u, const float *mask,
                                   const char *path, const char *const *meta,
                                   int n_meta);
/* path -> mask [n_train] of u. LT_ERR_FORMAT naming the file and the
 * tensor for a missing parameter, a shape that differs, or a value other
 * than 0 or 1. */
LT_API lt_status lt_unet_mask_load(const lt_unet *u, const char *path,
                                   float *mask);

#ifdef __cplusplus
}
#endif
#endif
