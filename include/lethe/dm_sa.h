/*
 * lethe/dm_sa.h - Selective Amnesia (SA) on a class-conditional diffusion
 * UNet (unlearn layer), as the official DDPM code computes it
 * (clear-nus/selective-amnesia, ddpm/runners/diffusion.py: sample_classes,
 * save_fim, train_forget; ddpm/configs/cifar10_forget.yml for the
 * defaults). docs/diffusion-unlearning.md describes it in full.
 *
 * Preparation, once per base model (lt_dmu_sa_prepare; cacheable with
 * lt_dmu_sa_save / lt_dmu_sa_load):
 *   - the replay set: per_class samples of EVERY class drawn from the
 *     model with the official sampler (generalized steps, 1000 steps,
 *     eta 1, guidance w = 2), stored as sample_classes stores them (with
 *     png: clamped to [0, 1], stretched to the image's own min..max and
 *     rounded to 8 bits, as torchvision's save_image(normalize=True)
 *     writes a PNG);
 *   - the diagonal Fisher (save_fim): for each replay sample x_i of class
 *     c_i, the gradient g_i of SUM over the timesteps t of the pixel-
 *     summed (e_t - eps(x_t | c_i'))^2, with fresh noise e_t per t, c_i'
 *     the null class with probability fim_cond_drop (0.1, the loss
 *     function's default), the model in eval mode (no layer dropout) and,
 *     as in the code (ToTensor without data_transform), x_i in [0, 1]
 *     unless fim_pm1; F = (1/N) sum_i g_i^2 over all N samples (every
 *     class, the forgotten one included).
 *
 * The loop (lt_dmu_sa_run), as train_forget, with the model in training
 * mode (layer dropout on), no null-class dropout (cond_drop_prob = 0):
 *   x_r, c_r: a batch of the replay set without the forgotten class
 *     (shuffled per epoch, the last batch of an epoch shorter:
 *     drop_last=False); x_f: as many images uniform in [-1, 1], class c_f;
 *   t: antithetic, shared by both terms; e_f, e_r: fresh noise;
 *   loss = L(x_f, c_f) + gamma L(x_r, c_r) + lambda sum F (theta -
 *     theta*)^2, L the pixel-summed, batch-mean denoising loss and theta*
 *     the starting weights; gradient norm clipped to clip (the EWC term's
 *     gradient included), Adam; an EMA of the weights (the official
 *     ema: True, rate 0.9999, starting at the model's weights) is the
 *     output.
 */
#ifndef LETHE_DM_SA_H
#define LETHE_DM_SA_H

#include "lethe/diffusion.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How the replay set and the Fisher are made. */
typedef struct {
    int per_class;              /* samples of each class (500: the README's
                                   --n_samples_per_class) */
    lt_dm_sample_config sample; /* sample.py's defaults: 1000 steps, eta 1,
                                   w 2 (lt_dm_sample_defaults) */
    bool png;                   /* store as sample_classes' PNGs (on) */
    int fim_timesteps;          /* timesteps summed per sample: 0 = all T
                                   (the code); K < T: every (T/K)-th, the
                                   sum scaled by T/K (Lethe's cheaper
                                   estimate; K must divide T) */
    bool fim_pm1;               /* Fisher on [-1, 1] images (off: the
                                   code's [0, 1]) */
    float fim_cond_drop;        /* null-class dropout in the Fisher (0.1) */
    uint64_t seed;              /* Fisher noise and dropout (1) */
    int chunk;                  /* timesteps per forward pass (32): memory */
    bool spread;                /* in a distributed run (mpirun), each rank
                                   makes a share of the replay samples
                                   (whole sampler batches: the same
                                   samples) and of the Fisher's samples
                                   (the sum in another order: the same up
                                   to rounding), and every rank gets the
                                   whole set (off: each makes all of it) */
} lt_dmu_sa_prep_config;

LT_API lt_dmu_sa_prep_config lt_dmu_sa_prep_defaults(void);
/* One line naming the settings above that shape the data (for a cache
 * file's metadata and reports). */
LT_API void lt_dmu_sa_prep_describe(const lt_dmu_sa_prep_config *cfg,
                                    char *buf, size_t n);

/* The prepared data: F [n_train] and the replay set x [n, C, R, R] in
 * [-1, 1] with labels y [n]. */
typedef struct {
    int64_t n_train, n, per;
    float *fisher, *x;
    int32_t *y;
} lt_dmu_sa_data;

LT_API void lt_dmu_sa_data_free(lt_dmu_sa_data *d);

/* The replay set of u (cfg->per_class samples of each of its classes, in
 * class order) into d->x, d->y. */
LT_API lt_status lt_dmu_sa_replay(lt_unet *u, const lt_dm_schedule *s,
                                  const lt_dmu_sa_prep_config *cfg,
                                  lt_dm_progress_fn progress, void *ud,
                                  lt_dmu_sa_data *d);
/* g [n_train] = the gradient of sum over the timesteps t[k] (k < nt) of
 * scale * sum_pixels (e_k - eps(x_t | cls[k]))^2 for one image x [C, R, R]
 * (as given: the caller picks [0, 1] or [-1, 1]), noise e [nt, C, R, R],
 * classes cls [nt] (-1: null), the model in eval mode, in chunks of chunk
 * timesteps. u's gradient buffer is overwritten. */
LT_API lt_status lt_dmu_sa_sample_grad(lt_unet *u, const lt_dm_schedule *s,
                                       const float *x, int nt,
                                       const int32_t *t, const float *e,
                                       const int32_t *cls, float scale,
                                       int chunk, float *g);
/* The Fisher of the replay set in d (d->x, d->y) into d->fisher (see the
 * top); progress counts samples. Sample i's noise and classes come from
 * lt_rng_init(lt_hash3(cfg->seed, 51, i)): nt * pixels normals (e_t in
 * timestep order), then one uniform per timestep (null class when below
 * fim_cond_drop). */
LT_API lt_status lt_dmu_sa_fisher(lt_unet *u, const lt_dm_schedule *s,
                                  const lt_dmu_sa_prep_config *cfg,
                                  lt_dm_progress_fn progress, void *ud,
                                  lt_dmu_sa_data *d);
/* Both, into a zeroed d. */
LT_API lt_status lt_dmu_sa_prepare(lt_unet *u, const lt_dm_schedule *s,
                                   const lt_dmu_sa_prep_config *cfg,
                                   lt_dm_progress_fn progress, void *ud,
                                   lt_dmu_sa_data *d);
/* Write d to a safetensors file ("fisher" [n_train], "replay.x",
 * "replay.y") with the meta pairs, atomically. */
LT_API lt_status lt_dmu_sa_save(const char *path, const lt_dmu_sa_data *d,
                                const char *const *meta, int n_meta);
/* Read such a file into a zeroed d for u (LT_ERR_FORMAT naming path when
 * its shapes do not fit u). meta_key / want (both may be NULL): the file's
 * metadata value of meta_key must equal want (LT_ERR_ARG naming path and
 * both values otherwise: a Fisher of another model or setting). */
LT_API lt_status lt_dmu_sa_load(const char *path, const lt_unet *u,
                                const char *meta_key, const char *want,
                                lt_dmu_sa_data *d);

/* The EMA decay that keeps the starting weights' share of the output at
 * the official 0.9999^20000 (e^-2) whatever the step count:
 * 0.9999^(20000 / steps). */
#define LT_DMU_SA_EMA_AUTO (-1.0f)

typedef struct {
    int forget_class; /* c_f (required; -1 in the defaults) */
    float lambda;     /* EWC weight (10: the config's lmbda) */
    float gamma;      /* replay weight (1) */
    int64_t steps;    /* 20000 (n_iters) */
    int batch;        /* 128 */
    float lr;         /* Adam 1e-4, betas 0.9/0.999, eps 1e-8, no decay */
    float clip;       /* 1 (<= 0: off) */
    float ema;        /* LT_DMU_SA_EMA_AUTO (0.9999 at 20000 steps); 0:
                         no EMA, the raw weights are the output */
    uint64_t seed;    /* 1 */
    int chunk;        /* images per forward pass (32): memory */
    /* data parallelism (docs/mpi.md): LT_DIST_OFF, or every step's images
     * (forget and replay alike) cut into `shards` (0: one per rank) whose
     * gradients lt_dp sums; the EWC term, clipping, the mask, Adam and
     * the EMA follow on every rank. Shard j's dropout draws from (seed,
     * step, j), shard 0's as one process's. */
    lt_dist_mode dist;
    int shards;
} lt_dmu_sa_config;

LT_API lt_dmu_sa_config lt_dmu_sa_defaults(void);
/* A named recipe into p and c (either may be NULL): "official" (the
 * defaults above: 500 replay samples per class from 1000 generalized
 * steps, the Fisher over all T timesteps, 20000 steps of 128) or "short",
 * Lethe's preset for benchmarks, which is NOT the official method and is
 * reported as "sa-short": 20 replay samples per class from DDIM-50
 * (eta 0), the Fisher over 20 timesteps (every T/20-th, scaled), 200
 * steps of 16 (+ 16 noise images); the EMA rule keeps the official e^-2.
 * LT_ERR_ARG for another name. */
LT_API lt_status lt_dmu_sa_recipe(const char *name, lt_dmu_sa_prep_config *p,
                                  lt_dmu_sa_config *c);
/* The EMA decay a config means (resolves LT_DMU_SA_EMA_AUTO). */
LT_API float lt_dmu_sa_ema(const lt_dmu_sa_config *cfg);

/* One step's batch: B images of each kind; xf the uniform images, ef and
 * er the noise, t the shared timesteps, xr / yr the replay images. */
typedef struct {
    int B;
    const float *xf, *ef, *xr, *er;
    const int32_t *t, *yr;
} lt_dmu_sa_batch;

/* The two denoising terms of a step on the tape of c: L(x_f, c_f) + gamma
 * L(x_r, c_r) (a scalar [1]); *forget and *replay, when not NULL, get
 * the two values (replay before gamma). */
LT_API lt_tensor *lt_dmu_sa_step_loss(lt_ctx *c, lt_unet *u,
                                      const lt_dm_schedule *s,
                                      const lt_dmu_sa_config *cfg,
                                      const lt_dmu_sa_batch *b, bool training,
                                      float *forget, float *replay);
/* The EWC term lambda sum F (theta - theta_star)^2 over u's n_train
 * trainable entries; its gradient 2 lambda F (theta - theta_star) is
 * ADDED to u's gradient buffer. */
LT_API double lt_dmu_sa_ewc(lt_unet *u, const float *fisher,
                            const float *theta_star, float lambda);

typedef struct {
    int64_t step, steps;
    float loss, forget, replay, ewc;
    double grad_norm; /* before clipping */
    double seconds;
} lt_dmu_sa_event;

typedef void (*lt_dmu_sa_fn)(const lt_dmu_sa_event *e, void *ud);

/* Forget cfg->forget_class from u in place with the prepared d; mask
 * [n_train] 0/1 (NULL: none) freezes weights as lt_optim_step does. On
 * return u holds the EMA weights (the raw ones with ema 0). LT_ERR_ARG for
 * a text model, a class out of range, a replay set without other classes;
 * LT_ERR_NAN naming the step. */
LT_API lt_status lt_dmu_sa_run(lt_unet *u, const lt_dm_schedule *s,
                               const lt_dmu_sa_data *d,
                               const lt_dmu_sa_config *cfg, const float *mask,
                               lt_dmu_sa_fn cb, void *ud);

#ifdef __cplusplus
}
#endif
#endif
