/*
 * lethe/bench_dm.h - the class-wise diffusion-unlearning protocol
 * (`lethe bench dm`, src/bench/dm_forget.c): forget one class of a
 * class-conditional DDPM with each method, then measure with the
 * independent evaluator whether the class is gone and the others are
 * intact (SalUn's DDPM experiment, scaled to Fashion-MNIST).
 *
 * Per forgotten class c_f, method and seed (seeds 1..N):
 *   - unlearn a fresh copy of the base model (lethe/dm_unlearn.h: the mask
 *     of the method, then lt_dmu_run with unlearn.seed = seed); "original"
 *     leaves it as it is and "retrain" trains a new model on the other
 *     classes with the base recipe (lt_dm_train, retrain_steps; cached);
 *   - draw ua_samples samples of c_f with the sampler (its seed + seed);
 *     UA = 100 - the evaluator's accuracy on them (%), with their mean
 *     P(c_f), mean entropy and the histogram of the predicted classes;
 *   - draw fd_per_class samples of every other class; FD in the
 *     evaluator's features against as many real test images of those
 *     classes (seeded, class-balanced), with the real-vs-real floor at the
 *     same N (test vs train images);
 *   - time of mask + unlearning (s) and the process's peak RSS (MB).
 * Two tables: the metrics (a row per method and class, a run per seed)
 * and the predicted-class histograms (%).
 *
 * Method names: original, retrain, salun (rl + saliency:0.5), rl,
 * rl-random (rl + random:0.5), ga, ga-saliency (ga + saliency:0.5), esd
 * (train_esd's partial sampling), esd-data (esd_from_data),
 * salun-noretain (salun with alpha 0), sa (Selective Amnesia,
 * lethe/dm_sa.h; "sa+MASK" under a mask), sa-short (SA with Lethe's
 * short preset, a variant, not the official method; "sa-short+MASK"),
 * or LOSS+MASK for any loss (rl,
 * ga, esd) and mask spec (none, saliency:R, random:R), e.g.
 * "ga+random:0.3".
 */
#ifndef LETHE_BENCH_DM_H
#define LETHE_BENCH_DM_H

#include "lethe/bench.h"
#include "lethe/dm_sa.h"
#include "lethe/dm_unlearn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const char *model;        /* base class-conditional UNet; NULL: train
                                 a base of base_arch for base_steps into
                                 the cache (the --quick setting) */
    const char *base_arch;    /* "cond:xs" (only without model) */
    int64_t base_steps;       /* 60 (only without model) */
    const char *data;         /* "fashion-mnist" */
    const char *classifier;   /* the independent evaluator (LT_FMNIST_EVAL_B) */
    const char *classes;      /* forgotten classes, a comma list ("1") */
    const char *methods;      /* comma list, or "all" */
    const char *cache;        /* folder for Retrain and quick base models
                                 (NULL: retrain and model NULL are errors) */
    int seeds;                /* 3 */
    lt_dmu_config unlearn;    /* lt_dmu_defaults() with steps and batch 0:
                                 each loss's official loop (lt_dmu_recipe:
                                 rl/ga 1000 x 128, esd 10000 x 1) */
    lt_dmu_mask_config mask;  /* lt_dmu_mask_defaults() */
    lt_dmu_sa_config sa;      /* Selective Amnesia (lt_dmu_sa_defaults());
                                 its steps, batch and chunk are unlearn's
                                 when those are > 0 */
    lt_dmu_sa_prep_config sa_prep; /* its replay set and Fisher
                                 (lt_dmu_sa_prep_defaults()), made once
                                 per base model and cached */
    lt_dmu_sa_config sa_short; /* the method "sa-short": SA with Lethe's
                                 short preset (lt_dmu_sa_recipe "short";
                                 steps, batch, chunk as for sa) */
    lt_dmu_sa_prep_config sa_short_prep; /* its replay set and Fisher */
    int64_t retrain_steps;    /* Retrain's steps with lt_dm_train's recipe
                                 (3000: the base model's) */
    int ua_samples;           /* samples of the forgotten class (500) */
    int fd_per_class;         /* samples of each other class (500) */
    lt_dm_sample_config sample; /* DDIM-50, eta 0, salun w = 2, seed 1234 */
    int spot_samples;         /* the spot check (0: off): this many
                                 samples of the forgotten class from each
                                 unlearned model with spot_sample, their
                                 UA, P(c_f) and entropy in a third table
                                 beside the main sampler's UA */
    lt_dm_sample_config spot_sample; /* SalUn's own sampler: sample.py's
                                 1000 stochastic steps (generalized, eta
                                 1), w = 2 (lt_dm_sample_defaults()) */
    uint64_t eval_seed;       /* the real subsets of the FD and floor (1) */
    bool resume;              /* reuse the runs kept in <cache>/runs */
    lt_precision precision;  /* of the run's matrix products (core.h): 0,
                                LT_PRECISION_DEFAULT, the process default */
    const char *command;      /* recorded in the report (NULL: none) */
    lt_bench_progress progress;
    void *ud;
} lt_bench_dm_forget_cfg;

/* The defaults above; model = the committed models/fmnist-cond-s-v1. */
LT_API lt_bench_dm_forget_cfg lt_bench_dm_forget_defaults(void);
/* The small setting CI runs: a cond:xs base trained 60 steps into the
 * cache, 1 seed, 3 unlearning steps of 8 images, 8 + 8 x 9 samples of
 * DDIM-4, methods original,salun,rl; SA's replay set 2 samples per class
 * of 4 steps, its Fisher over 4 timesteps; minutes at most on 2 cores. */
LT_API void lt_bench_dm_forget_quick(lt_bench_dm_forget_cfg *c);
/* Check every option that can be checked before any work (names, ranges,
 * classes against the model's). */
LT_API lt_status lt_bench_dm_forget_check(const lt_bench_dm_forget_cfg *c);
/* Run the protocol into out (see the top). A method that fails (a
 * non-finite loss) is a row marked failed with the reason. */
LT_API lt_status lt_bench_dm_forget(const lt_bench_dm_forget_cfg *c,
                                    lt_report *out);

#ifdef __cplusplus
}
#endif
#endif
