/*
 * lethe/methods.h - classification unlearning methods (unlearn layer), each
 * "a loss + a mask + an optimizer over one training loop" (the semantics
 * and official sources are in docs/methods.md): Retrain, FT, GA, RL,
 * l1-sparse, IU, BS, BE, SalUn, SalUn-soft, UGradSL and UGradSL+. Any
 * method takes any mask (none, saliency:R, random:R, soft:R) and any
 * optimizer (lt_optim_parse). The building block is one pass, an epoch
 * over a list of training indices, exported so later methods reuse it.
 */
#ifndef LETHE_METHODS_H
#define LETHE_METHODS_H

#include "lethe/dist.h"
#include "lethe/optim.h"
#include "lethe/unlearn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- one pass ----------------------------------------------------------- */

/* Buffers and optimizer state shared by the passes of one unlearning run. */
typedef struct {
    lt_ctx *c;            /* per-step arena */
    lt_optim opt;
    float *x, *x2;        /* [batch, C, H, W]: the pass's batch, a retain batch */
    int32_t *y, *y2;      /* [batch] */
    int64_t *perm;        /* [perm_n] */
    int64_t perm_n;
    int64_t *rperm;       /* retain order for joint passes, [rperm_n] */
    int64_t rperm_n, rpos;
    int batch;
    int64_t steps;        /* optimizer steps taken, all passes together */
    struct lt_dp *dp;     /* data parallel (lethe/train.h; set by the
                             caller, freed with the state), else NULL */
} lt_unlearn_state;

/* Allocate the state for model m on items shaped like d, batches of batch
 * items (>= 1), optimizer o (its n = m's trainable count), an arena of
 * arena_bytes (0: lt_arena_bytes_for; a pass with a joint retain term
 * holds two graphs and needs twice that). On error the state is safe to
 * free. */
LT_API lt_status lt_unlearn_state_init(lt_unlearn_state *s, const lt_model *m,
                                       const lt_dataset *d,
                                       const lt_optim_config *o, int batch,
                                       size_t arena_bytes);
LT_API void lt_unlearn_state_free(lt_unlearn_state *s);

/* The labels a pass trains toward. */
typedef enum {
    LT_TARGET_TRUE = 0,   /* the item's own label */
    LT_TARGET_RANDOM,     /* uniform in [0, K), drawn per batch (RL) */
    LT_TARGET_BOUNDARY,   /* the frozen model's label for the item moved one
                             FGSM step (fgsm_eps in pixel units) against
                             its own label (BS) */
    LT_TARGET_FIXED       /* fixed_label for every item (BE's extra class) */
} lt_target_kind;

typedef struct {
    float sign;           /* weight of the pass's CE: +1 descent, -1
                             ascent (GA); UGradSL+ uses -(1 - p) */
    lt_target_kind target;
    float smooth;         /* label smoothing alpha: targets (1 - alpha) *
                             onehot + alpha / K; 0 plain CE, < 0 UGradSL */
    int32_t fixed_label;  /* LT_TARGET_FIXED */
    lt_model *frozen;     /* LT_TARGET_BOUNDARY: the original model */
    float fgsm_eps;       /* LT_TARGET_BOUNDARY: 0.1 in the reference */
    float l1;             /* adds l1 * ||theta||_1 to the loss (l1-sparse) */
    float lr;
    const float *mask;    /* 0/1 over the trainable weights, or NULL */
    const float *scale;   /* soft mask: multiplies the gradient, or NULL */
    /* Joint retain term (UGradSL+): every step also adds retain_weight *
     * CE(true labels) on the next retain_batch of retain[0..n_retain)
     * (cycled in a seeded order). n_retain == 0: none. */
    const int64_t *retain;
    int64_t n_retain;
    float retain_weight;
    uint64_t seed;        /* the shuffle and the random labels */
    /* Per-item label override (RL_proximal's relabelled forget items in a
     * joint loader): item_label[i] >= 0 replaces dataset item i's label
     * (after the target kind's labels), < 0 keeps it; NULL: none. */
    const int32_t *item_label;
    /* Called after every optimizer step (RL_proximal's shrink); an error
     * stops the pass. NULL: none. */
    lt_status (*after_step)(void *ud, lt_model *m);
    void *after_ud;
    /* Told after every minibatch: steps done, steps of the pass, the
     * minibatch's loss (progress). NULL: none. */
    void (*on_batch)(void *ud, int64_t step, int64_t steps, double loss);
    void *batch_ud;
} lt_pass_spec;

/* A spec with sign +1, true labels, nothing else, at learning rate lr. */
LT_API lt_pass_spec lt_pass_plain(float lr, const float *mask, uint64_t seed);

/* One epoch over the training items idx[0..k) of d, shuffled with
 * lt_permutation(k, seed): minibatches of s->batch (the last one partial,
 * as a PyTorch DataLoader without drop_last), train-mode forward (BatchNorm
 * statistics are updated), sign * mean cross-entropy toward p's targets
 * (+ the retain term, + the l1 term), backward, the gradient times p->scale,
 * lt_optim_step under p->mask at p->lr, zero gradients. Sophia GNB gets its
 * Hessian refresh from the batch gradient itself when
 * lt_sophia_wants_hessian says so: the pass's labels stand in for labels
 * sampled from the model. *mean_loss receives the mean unsigned CE of the
 * pass's own items. A NaN or infinite loss or gradient is LT_ERR_NAN (the
 * pass stops; the weights are those reached so far), e.g. when gradient
 * ascent diverges. */
LT_API lt_status lt_unlearn_pass(lt_unlearn_state *s, lt_model *m,
                                 const lt_dataset *d, const int64_t *idx,
                                 int64_t k, const lt_pass_spec *p,
                                 double *mean_loss);

/* x [b, C, H, W] of dataset d (normalised) moved in place by one FGSM step
 * of eps pixel units (x_pix + eps * sign(grad_x CE(model(x), y))), clipped
 * to [0, 1] pixels and rounded to a multiple of 1/255, as the reference's
 * boundary shrink does; the model runs in eval mode and its gradients are
 * zeroed afterwards. c is reset first. */
LT_API lt_status lt_fgsm(lt_ctx *c, lt_model *model, const lt_dataset *d,
                         float *x, const int32_t *y, int64_t b, float eps);

/* The model with one more output class (BE): the same architecture for
 * K + 1 classes, every weight copied, the last layer's first K rows copied
 * and its new row initialised like a PyTorch Linear (U(+-1/sqrt(fan_in)),
 * seeded). */
LT_API lt_status lt_model_expand(const lt_model *m, uint64_t seed,
                                 lt_model **out);
/* Copy big's weights back into m (the first K rows of the widened layer). */
LT_API void lt_model_shrink_into(const lt_model *big, lt_model *m);
/* Map a mask over m's trainable weights onto big's (new rows free: 1). */
LT_API void lt_mask_expand(const lt_model *m, const float *mask,
                           const lt_model *big, float *out);

/* IU in one shot: theta += alpha * F^-1 v with v = n_f/n * (mean CE
 * gradient on the forget items - mean on the retain items), F^-1 v by the
 * reference's WoodFisher recursion over the first n_samples + 2 retain
 * items' gradients (damping n_samples), all in eval mode; the step is
 * multiplied by mask (0/1 or soft) when non-NULL. */
LT_API lt_status lt_influence_unlearn(lt_model *m, const lt_dataset *d,
                                      const lt_forget_set *f, float alpha,
                                      int n_samples, const float *mask,
                                      int batch);

/* ---- methods ------------------------------------------------------------ */

typedef enum {
    LT_METHOD_FT = 0,     /* "ft": CE on retain */
    LT_METHOD_GA,         /* "ga": -CE on forget */
    LT_METHOD_RL,         /* "rl": random labels on forget, then retain */
    LT_METHOD_L1,         /* "l1-sparse": CE on retain + alpha_t ||theta||_1,
                             alpha_t = alpha (1 - (e-1)/epochs) */
    LT_METHOD_IU,         /* "iu": one shot theta += lr * F^-1 v (WoodFisher
                             influence; lr plays the reference's alpha) */
    LT_METHOD_BS,         /* "bs": boundary shrink (FGSM neighbour labels) */
    LT_METHOD_BE,         /* "be": boundary expand (an extra class) */
    LT_METHOD_SALUN,      /* "salun": RL with a saliency mask (0.5) */
    LT_METHOD_SALUN_SOFT, /* "salun-soft": SalUn's soft thresholding, the
                             official RL_proximal: one shuffled loader over
                             forget (random labels drawn per epoch) and
                             retain, and after every step the proximal
                             shrink of theta toward the epoch's starting
                             weights (lt_proximal_shrink, k decaying with
                             lt_proximal_count at prox_ratio) */
    LT_METHOD_UGRADSL,    /* "ugradsl": GA toward negatively smoothed labels */
    LT_METHOD_UGRADSL_PLUS, /* "ugradsl+": p CE(retain) - (1-p) CE_smooth(forget) */
    LT_METHOD_RETRAIN,    /* "retrain": fresh weights trained on retain only
                             (cosine schedule, cfg.retrain_aug); the gold
                             standard */
    LT_METHOD_COUNT
} lt_method_kind;

/* Parse a method name (LT_ERR_ARG listing the names). */
LT_API lt_status lt_method_parse(const char *name, lt_method_kind *out);
LT_API const char *lt_method_name(lt_method_kind k);
/* "ft,ga,rl,..." - every method name, in enum order. */
LT_API const char *lt_method_names(void);

/* Progress of a run: one event per minibatch (step of steps in the pass,
 * loss of that minibatch), then one at the end of the pass (pass_end,
 * loss the pass's mean). */
typedef struct {
    int epoch, epochs;
    const char *phase;    /* "forget", "retain" or "forget+retain" */
    double loss;          /* the minibatch's CE; at pass_end the pass's mean */
    int64_t step, steps;  /* minibatches of the pass done, in all */
    bool pass_end;
} lt_unlearn_event;

typedef struct {
    lt_method_kind method;
    lt_optim_config optim; /* optim.lr is the (constant) learning rate */
    lt_mask_spec mask;
    int epochs, batch;
    uint64_t seed;        /* shuffles, random labels, a random mask */
    float alpha;          /* l1: the l1 coefficient at epoch 1 */
    float smooth;         /* ugradsl(+): the smoothing rate (< 0) */
    float retain_weight;  /* ugradsl+: p */
    float fgsm_eps;       /* bs: pixel-space FGSM step */
    int iu_samples;       /* iu: per-sample retain gradients (N) */
    double prox_ratio;    /* salun-soft: RL_proximal's mask_ratio (0.5) */
    bool be_drop_shadow;  /* be: false (default, the OPTML code): the run
                             also returns the K+1-way model it trained
                             (lt_unlearn_report.be_model) for evaluation;
                             true: only the K-way weights (the shadow
                             class dropped, the original Boundary
                             Unlearning paper's form) */
    size_t arena_bytes;   /* 0: sized from the model and batch */
    lt_augment retrain_aug; /* Retrain's augmentation (default none; the
                               CLI uses lethe train's choice) */
    lt_dist_mode dist;    /* data parallel over MPI ranks (docs/mpi.md):
                             the passes' steps and Retrain's training */
    int shards;           /* shards of a batch (0: one per rank) */
    lt_precision precision; /* of the run's matrix products (core.h): 0,
                               LT_PRECISION_DEFAULT, the process default */
    void (*progress)(void *ud, const lt_unlearn_event *ev); /* per step
                                                                and pass */
    void *ud;
} lt_unlearn_cfg;

/* Defaults (the official SalUn code's where the papers give them, else our lr search,
 * docs/hyperparameters.md): SGD momentum 0.9, weight decay 5e-4, batch 256,
 * seed 1, mask none except SalUn (saliency:0.5) (SalUn-soft takes no mask,
 * as RL_proximal; its prox_ratio is 0.5); per-method lr and epochs in
 * lt_method_table (methods.c).
 * Retrain: lethe train's defaults (lr 0.1 with cosine decay, batch 128,
 * 10 epochs). */
LT_API lt_unlearn_cfg lt_unlearn_defaults(lt_method_kind k);
/* Switch cfg to the optimizer name (lt_optim_parse) keeping its learning
 * rate: SGD with momentum 0.9 and weight decay 5e-4 as above, any other
 * with its own defaults. LT_ERR_ARG (cfg unchanged) for an unknown name. */
LT_API lt_status lt_unlearn_set_optim(lt_unlearn_cfg *cfg, const char *name);

typedef struct {
    double forget_loss;   /* mean CE of the last forget pass (NAN if none) */
    double retain_loss;   /* mean CE of the last retain pass (NAN if none) */
    int64_t steps;        /* optimizer steps */
    int64_t mask_ones;    /* free weights (n_train for no mask) */
    double seconds;       /* wall time, mask included (RTE) */
    lt_model *be_model;   /* be, unless cfg.be_drop_shadow: the K+1-way
                             model as trained (the caller frees it with
                             lt_model_free); NULL otherwise */
} lt_unlearn_report;

/* Unlearn the forget set f (made on train) from m in place (BE: m gets
 * the first K rows of the widened layer; see be_model above). The saliency
 * mask is computed once, before any step, from lt_forget_gradient at the
 * original weights. Errors: LT_ERR_ARG (bad config, a dataset that does not
 * fit m), LT_ERR_NAN (divergence; m holds the weights reached), arena
 * or allocation errors. */
LT_API lt_status lt_unlearn_run(lt_model *m, const lt_dataset *train,
                                const lt_forget_set *f,
                                const lt_unlearn_cfg *cfg,
                                lt_unlearn_report *rep);

#ifdef __cplusplus
}
#endif
#endif
