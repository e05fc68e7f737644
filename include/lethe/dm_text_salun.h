/*
 * lethe/dm_text_salun.h - SalUn for a text-conditioned diffusion UNet
 * (unlearn layer), as UnlearnCanvas' SalUn scripts compute it
 * (OPTML-Group/UnlearnCanvas, machine_unlearning/mu_saliency_unlearn_salun:
 * generate_mask.py, then train-erase.py, with their argparse defaults):
 * the target (a style, or an object) is "replaced by Photo".
 *
 * Data (what generate_dataset.py lists, the caller builds it): the forget
 * set, pictures of the target with their prompts ("An {object} image in
 * {style} style."); the remain set, Photo pictures with theirs ("An
 * {object} image in Photo style."), paired item by item with the forget
 * set (same object for a style target); and the mask pass's prompt "An
 * image in {target} style." with a "null" context.
 *
 * Mask (generate_mask.py, threshold 0.4, c_guidance 7.5, batch 4): on a
 * copy of the model in training mode, ceil(n_forget / batch) iterations,
 * each on one forget batch (the script's `next(iter(forget_dl))` without
 * shuffling gives the FIRST batch every time; `cycle` walks the batches)
 * with t uniform in [0, T) and Gaussian noise:
 *   preds = (1 + c) e(x_t | prompt) - c e(x_t | null),
 *   loss  = -MSE_mean(noise, preds),
 * whose gradient over every UNet weight is summed; after each backward
 * the script also takes an Adam step (lr 1e-5) on the copy, so later
 * gradients come from the ascended copy (mask_lr, 0 for none). The mask
 * is 1 on the round(ratio * n) entries of largest |sum| ranked over all
 * weights at once (SalUn's rule; the script's `null` batch carries the
 * prompt itself, so its preds are e(x_t | prompt): the caller passes the
 * prompt's context as null for that; and the script ranks ascending
 * without Unlearn-Saliency's minus sign, which selects the SMALLEST
 * entries: `bottom`, off by default - docs/canvas-unlearning.md).
 *
 * Training (train-erase.py: train_method xattn, alpha 1, 2 epochs, lr
 * 1e-5, batch 4): 2 * ceil(n_forget / batch) iterations, each on the
 * first forget batch and the first remain batch (or the k-th with cycle):
 *   forget = MSE_mean(e(x_t | forget prompt), sg(e(x_t | pseudo prompt)))
 *            with x_t the forget pictures noised at t with noise n, and
 *            the pseudo prompts the remain batch's (Photo) prompts;
 *   remain = MSE_mean(e(x'_t' | remain prompt), n') (LDM's shared_step
 *            on the remain batch, its own t' and n');
 *   loss = forget + alpha * remain; Adam (betas 0.9/0.999, eps 1e-8, no
 *   weight decay, no clipping) on the parameter set's weights times the
 *   mask. (The script loads the mask but tests `n in parameters`, a name
 *   against a list of tensors, which never holds, so it trains unmasked;
 *   pass mask NULL for that.)
 * Everything random in iteration k is a function of (seed, k).
 */
#ifndef LETHE_DM_TEXT_SALUN_H
#define LETHE_DM_TEXT_SALUN_H

#include "lethe/dm_text_unlearn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    lt_esd_params params; /* train_method (esd-x = "xattn") */
    float alpha;          /* weight of the remain loss (1) */
    float lr;             /* Adam (1e-5) */
    int batch;            /* 4 */
    int epochs;           /* 2 */
    bool cycle;           /* walk the batches (off: the first, as the
                             scripts' next(iter(dl))) */
    float mask_ratio;     /* threshold (0.4) */
    bool mask_bottom;     /* the script's ascending rank (off) */
    float mask_guidance;  /* c_guidance (7.5) */
    float mask_lr;        /* Adam lr of the mask pass (1e-5; 0: none) */
    uint64_t seed;        /* 1 */
} lt_salun_text_config;

LT_API lt_salun_text_config lt_salun_text_defaults(void);

/* The data, all in the model's shapes: pictures [n, C, R, R] in [-1, 1],
 * contexts [n, L, D]. */
typedef struct {
    int64_t n_forget, n_remain;
    const float *x_forget, *ctx_forget;
    const float *x_remain, *ctx_remain;
    const float *ctx_mask, *null_mask; /* [L, D] each */
} lt_salun_text_data;

/* One iteration's draws for a batch of B: t [B] in [0, T) and noise
 * [B, C, R, R] of the forget batch, t_r and noise_r of the remain batch
 * (training only). Buffers are the caller's. */
typedef struct {
    int32_t *t, *t_r;
    float *noise, *noise_r;
} lt_salun_text_draw;

/* Iterations of the mask pass and of training for cfg and n_forget. */
LT_API int64_t lt_salun_text_mask_iters(const lt_salun_text_config *cfg,
                                        int64_t n_forget);
LT_API int64_t lt_salun_text_iters(const lt_salun_text_config *cfg,
                                   int64_t n_forget);

/* The draws of iteration k (stream 0: mask pass, 1: training) for a batch
 * of B on u's image shape. */
LT_API void lt_salun_text_draws(const lt_salun_text_config *cfg,
                                const lt_unet *u, const lt_dm_schedule *s,
                                int stream, int64_t k, int B,
                                lt_salun_text_draw *d);

/* The mask pass's loss on the tape of c: B pictures x0 noised with e at
 * t, prompt and null contexts [L, D] shared by the batch (a scalar [1]). */
LT_API lt_tensor *lt_salun_text_mask_loss(lt_ctx *c, lt_unet *u,
                                          const lt_dm_schedule *s,
                                          const float *x0, const float *e,
                                          const int32_t *t, int B,
                                          const float *ctx,
                                          const float *null_ctx,
                                          float guidance, bool training);

/* The training loss on the tape of c for a batch of B: forget pictures xf
 * with their contexts ctxf [B, L, D] and the pseudo contexts ctxp
 * [B, L, D]; remain pictures xr with ctxr; draws d (a scalar [1]). */
LT_API lt_tensor *lt_salun_text_loss(lt_ctx *c, lt_unet *u,
                                     const lt_dm_schedule *s, const float *xf,
                                     const float *ctxf, const float *ctxp,
                                     const float *xr, const float *ctxr,
                                     const lt_salun_text_draw *d, int B,
                                     float alpha, bool training);

/* The summed mask-pass gradient into g [n_train] (u unchanged: the pass
 * runs on a copy). draws: one per iteration, or NULL for the seeded ones.
 * LT_ERR_ARG for a class model, empty data or a bad config. */
LT_API lt_status lt_salun_text_saliency(const lt_unet *u,
                                        const lt_dm_schedule *s,
                                        const lt_salun_text_data *d,
                                        const lt_salun_text_config *cfg,
                                        const lt_salun_text_draw *draws,
                                        float *g);

/* mask [n] from the summed gradient g: 1 on the round(ratio * n) largest
 * |g| (bottom: the smallest), ties to the lower index. */
LT_API lt_status lt_salun_text_mask(const float *g, int64_t n, float ratio,
                                    bool bottom, float *mask);

typedef struct {
    int64_t step, steps;
    float loss;
    double seconds;
} lt_salun_text_event;

typedef void (*lt_salun_text_fn)(const lt_salun_text_event *e, void *ud);

/* Train u in place (mask [n_train] or NULL: the parameter set alone).
 * draws: one per iteration or NULL for the seeded ones. LT_ERR_NAN naming
 * the step on a non-finite loss. */
LT_API lt_status lt_salun_text_run(lt_unet *u, const lt_dm_schedule *s,
                                   const lt_salun_text_data *d,
                                   const float *mask,
                                   const lt_salun_text_config *cfg,
                                   const lt_salun_text_draw *draws,
                                   lt_salun_text_fn cb, void *ud);

#ifdef __cplusplus
}
#endif
#endif
