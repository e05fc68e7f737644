/*
 * lethe/dm_canvas.h - training the text-conditioned models on FashionCanvas
 * (models layer, on lethe/canvas.h, lethe/clip.h and lethe/diffusion.h):
 * the CLIP vocabulary of the canvas captions, contrastive pretraining of
 * the text encoder on caption-image pairs, and text-UNet training with the
 * frozen encoder.
 *
 * Batches: item i of step k is picture j = hash(seed, k, i) mod n (drawn
 * with replacement) with a caption drawn by lt_canvas_caption from
 * hash(seed, k, i, j) - so step k's batch is a function of (seed, k) and a
 * resumed run sees what an uninterrupted one saw. Pictures are scaled
 * from [0, 1] to [-1, 1] for both the image encoder and the UNet.
 */
#ifndef LETHE_DM_CANVAS_H
#define LETHE_DM_CANVAS_H

#include "lethe/canvas.h"
#include "lethe/clip.h"
#include "lethe/diffusion.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A CLIP vocabulary holding every word of the canvas captions. */
LT_API lt_status lt_canvas_clip_vocab(lt_clip_vocab **out);

/* lt_clip_pretrain on cv's pictures and captions (cfg->batch_fn and
 * batch_ud are set here; the rest of cfg is the caller's). */
LT_API lt_status lt_canvas_clip_pretrain(lt_clip *m, const lt_clip_vocab *v,
                                         const lt_canvas *cv,
                                         lt_clip_train_cfg *cfg,
                                         lt_clip_report *rep);

/* Zero-shot accuracy (%) of the encoder on cv's pictures: each picture
 * goes to the canonical prompt ("An {object} image in {style} style.") of
 * the (object, style) pair whose text embedding is nearest (cosine) to
 * its image embedding; *object_acc, *style_acc and *both_acc are the
 * shares of pictures whose object, style, or both were right (chance:
 * 10%, 1/22 and 1/220). */
LT_API lt_status lt_canvas_clip_zeroshot(lt_clip *m, const lt_clip_vocab *v,
                                         const lt_canvas *cv,
                                         double *object_acc,
                                         double *style_acc, double *both_acc);

/* lt_dm_train_text on cv with the frozen encoder clip and its vocabulary
 * v (the captions are tokenized with v; clip encodes them). */
LT_API lt_status lt_canvas_dm_train(lt_unet *u, const lt_dm_schedule *s,
                                    lt_clip *clip, const lt_clip_vocab *v,
                                    const lt_canvas *cv,
                                    const lt_dm_train_config *cfg,
                                    const char *out, bool resume,
                                    lt_dm_train_fn cb, void *ud);

#ifdef __cplusplus
}
#endif
#endif
