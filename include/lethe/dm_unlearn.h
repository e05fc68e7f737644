/*
 * lethe/dm_unlearn.h - class-wise forgetting on a class-conditional
 * diffusion UNet (unlearn layer): SalUn-DM and its baselines as one loop,
 * "a loss + a mask + an optimizer", after the official DDPM code of SalUn
 * (OPTML-Group/Unlearn-Saliency, DDPM/runners/diffusion.py:
 * generate_mask and saliency_unlearn; DDPM/configs/
 * cifar10_saliency_unlearn.yml for the defaults).
 *
 * The saliency mask (lt_dmu_saliency, lt_dmu_mask), as generate_mask:
 *   for every batch of forget-class images (all of them, in batches),
 *   with the model in eval mode (no layer dropout, no null-class
 *   dropout): x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) e with antithetic t;
 *   loss = mean over the batch of the pixel-summed (e - e_guided)^2 where
 *   e_guided = (1 + w) e(x_t | c_f) - w e(x_t | null), w = 2; its gradient
 *   clipped to global norm 1 (torch's clip_grad_norm_, 1e-6 in the
 *   denominator) BATCH BY BATCH, and summed over the batches (signed).
 *   The saliency is |that sum|; the mask keeps the floor(ratio * n)
 *   largest entries over all n parameters (int(len * 0.5) in the code;
 *   ties to the lower index, where torch's argsort leaves them
 *   unspecified).
 *
 * The loss of one step (lt_dmu_step_loss), as saliency_unlearn with the
 * model in training mode (layer dropout on in every pass):
 *   rl (SalUn's loss): MSE_mean(e(x_t^f | c_f), stopgrad e(x_t^f | c'))
 *      over all N*C*H*W entries (torch.nn.MSELoss), with c' = (c_f + 1)
 *      mod classes (the code's fixed next class) or, with random_target, a
 *      class drawn uniformly from the others per sample (the paper's
 *      wording); with pair_drop, each of the two passes replaces c_f / c'
 *      by the null class with probability cond_drop (10%) independently,
 *      as the code's mode="train" calls do (off by default: the code's
 *      dropout makes some pairs regress e(c_f) onto e(null) or onto e(c')
 *      from the null class);
 *   ga: minus the official denoising loss on the forget batch (pixel-
 *      summed, batch mean, 10% null-class dropout as the code's loss
 *      function does by default);
 *   esd: MSE_mean(e(x_t | c_f), e*(x_t | null) - eta (e*(x_t | c_f) -
 *      e*(x_t | null))) with e* a frozen copy of the starting weights and
 *      eta 7.5 (train.py's --negative_guidance default). x_t as the
 *      official train_esd reaches it (lt_dmu_esd_start): per sample,
 *      t_enc uniform in {0, ..., 50}; pure noise is denoised by the
 *      model being trained (no tape, guidance w = 2, generalized steps
 *      with eta 1, train.py's defaults) over the timesteps t_enc - 1, ...,
 *      0; the loss is then taken at a DDPM timestep uniform in
 *      [round(20 t_enc), round(20 (t_enc + 1))) (which reaches past T - 1
 *      for t_enc = 50, as in the code: only the time embedding sees it).
 *      esd_from_data instead noises forget-class training images to
 *      antithetic t (Lethe's cheaper variant, "esd-data");
 *   plus, for rl and ga, alpha times the official denoising loss on a
 *   retain batch (pixel-summed, batch mean, the model's 10% null-class
 *   dropout: the training loss). esd has no retain term (nor has
 *   train_esd).
 * Then: gradient norm clipped to clip (1), the gradient multiplied by the
 * mask, Adam (lr 1e-4, betas 0.9/0.999, eps 1e-8, no weight decay; a
 * masked weight and its Adam moments never change: lt_optim_step's
 * mask), for steps iterations (1000). No EMA (the config's ema: False).
 *
 * alpha: the code runs alpha = 1e-3 on CIFAR-10's 3 x 32 x 32 = 3072
 * pixels; the retain loss is summed over pixels while the forget loss is
 * a per-entry mean, so the same balance on D pixels is 1e-3 * 3072 / D:
 * 3.918e-3 on Fashion-MNIST's 784 (LT_DMU_ALPHA_AUTO picks it from the
 * model's image size).
 *
 * Everything random in step k (the batches, t, noise, dropout, c') is a
 * function of (seed, k); the same seed and thread count give the same
 * weights.
 */
#ifndef LETHE_DM_UNLEARN_H
#define LETHE_DM_UNLEARN_H

#include "lethe/diffusion.h"
#include "lethe/unlearn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The forget loss. */
typedef enum {
    LT_DMU_RL = 0, /* SalUn's: e(c_f) regressed to stopgrad e(c') */
    LT_DMU_GA,     /* gradient ascent on the denoising loss */
    LT_DMU_ESD     /* ESD's negative-guidance target from a frozen copy */
} lt_dmu_loss;

/* alpha = 1e-3 * 3072 / (C * R * R) of the model (see the top). */
#define LT_DMU_ALPHA_AUTO (-1.0f)

typedef struct {
    lt_dmu_loss loss;
    int forget_class;     /* c_f, in [0, classes) (required; -1 in the
                             defaults) */
    int target_class;     /* c' of rl; -1: (c_f + 1) mod classes */
    bool random_target;   /* rl: c' uniform over the other classes, per
                             sample and step (off) */
    bool pair_drop;       /* rl: the code's null-class dropout (cond_drop)
                             inside the pair (off) */
    float alpha;          /* retain weight (LT_DMU_ALPHA_AUTO) */
    float esd_eta;        /* esd: negative guidance (7.5) */
    bool esd_from_data;   /* esd: x_t from noised training images instead
                             of partial sampling (off) */
    float esd_w;          /* esd sampling: guidance w, salun form (2) */
    float esd_sample_eta; /* esd sampling: generalized-steps eta (1) */
    int64_t steps;        /* iterations (1000) */
    int batch;            /* forget and retain images per step (128) */
    float lr;             /* Adam (1e-4) */
    float clip;           /* gradient-norm clip before the mask (1; <= 0:
                             off) */
    uint64_t seed;        /* 1 */
    int chunk;            /* images per forward pass inside a step (32):
                             memory only, the step's gradient is the same
                             up to rounding */
    lt_dist_mode dist;    /* data parallel (docs/mpi.md; LT_DIST_OFF):
                             every rank draws the whole step, shard j
                             runs images [B j / S, B (j + 1) / S) of the
                             forget and the retain batch (its dropout
                             drawn from (seed, step, j); shard 0: the
                             single-process draws), lt_dp (lethe/train.h)
                             sums the gradients before clipping, the mask
                             and Adam, which every rank runs */
    int shards;           /* 0: one per rank; a multiple of the ranks, at
                             most batch */
} lt_dmu_config;

/* The official defaults: rl, c' = next class, alpha auto, esd eta 7.5
 * (x_t by partial sampling with w 2 and eta 1),
 * 1000 steps of batch 128, Adam lr 1e-4, clip 1, seed 1, chunks of 32;
 * forget_class -1 (must be set). */
LT_API lt_dmu_config lt_dmu_defaults(void);
/* The official loop length of a loss: rl and ga 1000 steps of 128
 * (saliency_unlearn), esd by sampling 10,000 steps of 1 (train_esd's
 * loop), esd from data as rl. */
LT_API void lt_dmu_recipe(lt_dmu_loss k, bool esd_from_data, int64_t *steps,
                          int *batch);
/* "rl", "ga" or "esd" -> kind ("salun" is rl with the saliency mask, a
 * choice of the caller); LT_ERR_ARG naming name otherwise. */
LT_API lt_status lt_dmu_loss_parse(const char *name, lt_dmu_loss *out);
LT_API const char *lt_dmu_loss_name(lt_dmu_loss k);
/* The alpha a config means for u (resolves LT_DMU_ALPHA_AUTO). */
LT_API float lt_dmu_alpha(const lt_dmu_config *cfg, const lt_unet *u);

/* The mask's settings: guidance w of the loss (2), batch (128), ratio
 * (0.5), gradient clip per batch (1), seed of t and noise. */
typedef struct {
    float w;
    int batch;
    double ratio;
    float clip;
    uint64_t seed;
} lt_dmu_mask_config;

LT_API lt_dmu_mask_config lt_dmu_mask_defaults(void);

/* The saliency of generate_mask: sal[n_train] = |sum over batches of the
 * per-batch-clipped gradient of the guided loss| on the nf images xf
 * [nf, C, R, R] (in [-1, 1]), all of class forget_class, in batches of
 * cfg->batch in order (the last one shorter). u's gradient buffer is
 * overwritten. LT_ERR_ARG for a text model, a class out of range, nf < 1;
 * LT_ERR_NAN for a non-finite loss. */
LT_API lt_status lt_dmu_saliency(lt_unet *u, const lt_dm_schedule *s,
                                 const float *xf, int64_t nf,
                                 int forget_class,
                                 const lt_dmu_mask_config *cfg, float *sal);
/* mask[n_train]: 1 on the floor(cfg->ratio * n) largest saliencies
 * (lt_mask_top_k), 0 elsewhere; the saliency is computed as
 * lt_dmu_saliency (sal, when not NULL, receives it). */
LT_API lt_status lt_dmu_mask(lt_unet *u, const lt_dm_schedule *s,
                             const float *xf, int64_t nf, int forget_class,
                             const lt_dmu_mask_config *cfg, float *mask,
                             float *sal);

/* The mask spec names for forgetting forget_class from u, into *mask
 * [n_train] (malloc'ed; NULL for "none"): "saliency:R" is lt_dmu_mask on
 * every image of that class in x [n, C, R, R] / y [n] with cfg (its ratio
 * replaced by R), "random:R" lt_mask_random with cfg->seed. LT_ERR_ARG
 * for an unknown spec or a soft mask. */
LT_API lt_status lt_dmu_mask_spec(lt_unet *u, const lt_dm_schedule *s,
                                  const float *x, const int32_t *y, int64_t n,
                                  int forget_class, const char *spec,
                                  const lt_dmu_mask_config *cfg, float **mask);

/* What the caller supplies to one step's loss: the forget batch xf
 * [B, C, R, R] with its noise ef and timesteps tf, the retain batch xr,
 * yr, er, tr, and for every pass its classes after any null-class
 * dropout (-1 = null): cls_f (rl: the e(c_f) pass; ga: the forget loss;
 * esd: the trained pass), cls_p (rl: the c' pass), cls_r (retain). NULL
 * retain arrays (or alpha 0) mean no retain term. */
typedef struct {
    int B;
    const float *xt_f;   /* esd by sampling: the forget x_t itself
                            [B, C, R, R] (xf and ef then unused; tf may
                            exceed T - 1); NULL: xf noised with ef at tf */
    const float *xf, *ef;
    const int32_t *tf, *cls_f, *cls_p;
    int Br;
    const float *xr, *er;
    const int32_t *tr, *cls_r;
} lt_dmu_batch;

/* The loss of one step on the tape of c (a scalar [1]): the forget loss
 * of cfg->loss plus alpha times the retain loss. training enables layer
 * dropout. frozen (esd only) is the frozen copy. *forget and *retain,
 * when not NULL, get the two terms' values (retain before alpha). */
LT_API lt_tensor *lt_dmu_step_loss(lt_ctx *c, lt_unet *u, lt_unet *frozen,
                                   const lt_dm_schedule *s,
                                   const lt_dmu_config *cfg,
                                   const lt_dmu_batch *b, bool training,
                                   float *forget, float *retain);

/* The official train_esd's starting points for n samples of class cls:
 * x [n, C, R, R] holds pure noise on entry and, on return, that noise
 * denoised over the timesteps t_enc[i] - 1, ..., 0 (t_enc[i] in [0, T];
 * 0 leaves it as is) by u without a tape, guided as SalUn's sampler does
 * (w, salun form) and with generalized steps of eta (its extra noise from
 * rng). Layer dropout is off (the code samples in training mode). */
LT_API lt_status lt_dmu_esd_start(lt_unet *u, const lt_dm_schedule *s,
                                  int64_t n, int cls, const int32_t *t_enc,
                                  float w, float eta, lt_rng *rng, float *x);

typedef struct {
    int64_t step, steps;
    float loss, forget, retain; /* this step's total and its two terms */
    double grad_norm;           /* before clipping */
    double seconds;
} lt_dmu_event;

typedef void (*lt_dmu_fn)(const lt_dmu_event *e, void *ud);

/* Unlearn class cfg->forget_class from u in place: x [n, C, R, R] in
 * [-1, 1] with labels y [n] (the training set: forget = label c_f,
 * retain = the rest), mask [n_train] 0/1 (NULL: none), cfg->steps steps.
 * LT_ERR_ARG for a text model, a class out of range or a set without
 * forget or retain images; LT_ERR_NAN naming the step on a non-finite
 * loss or gradient (u then holds the previous step's weights). */
LT_API lt_status lt_dmu_run(lt_unet *u, const lt_dm_schedule *s,
                            const float *x, const int32_t *y, int64_t n,
                            const lt_dmu_config *cfg, const float *mask,
                            lt_dmu_fn cb, void *ud);

#ifdef __cplusplus
}
#endif
#endif
