/*
 * lethe/methods.h - classification unlearning methods (unlearn layer), each
 * "a loss + a mask + an optimizer over one training loop" (REFERENCE.md
 * section 1): FT (descent on retain), GA (ascent on forget), RL (random
 * labels on forget, then descent on retain) and SalUn (RL under a saliency
 * mask). Any method takes any mask (none, saliency:R, random:R) and any
 * optimizer (lt_optim_parse). The building block is one pass, an epoch
 * over a list of training indices, exported so later methods reuse it.
 */
#ifndef LETHE_METHODS_H
#define LETHE_METHODS_H

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
    float *x;             /* [batch, C, H, W] */
    int32_t *y;           /* [batch] */
    int64_t *perm;        /* [perm_n] */
    int64_t perm_n;
    int batch;
    int64_t steps;        /* optimizer steps taken, all passes together */
} lt_unlearn_state;

/* Allocate the state for model m on items shaped like d, batches of batch
 * items (>= 1), optimizer o (its n = m's trainable count), an arena of
 * arena_bytes (0: lt_arena_bytes_for). On error the state is safe to free. */
lt_status lt_unlearn_state_init(lt_unlearn_state *s, const lt_model *m,
                                const lt_dataset *d, const lt_optim_config *o,
                                int batch, size_t arena_bytes);
void lt_unlearn_state_free(lt_unlearn_state *s);

typedef struct {
    float sign;           /* +1: descent on CE, -1: ascent (GA) */
    bool random_labels;   /* labels uniform in [0, K), drawn per batch */
    float lr;
    const float *mask;    /* 0/1 over the trainable weights, or NULL */
    uint64_t seed;        /* the shuffle and the random labels */
} lt_pass_spec;

/* One epoch over the training items idx[0..k) of d, shuffled with
 * lt_permutation(k, seed): minibatches of s->batch (the last one partial,
 * as a PyTorch DataLoader without drop_last), train-mode forward (BatchNorm
 * statistics are updated), sign * mean cross-entropy with the true labels
 * or random ones (lt_rng seeded from seed), backward, lt_optim_step under
 * the mask at p->lr, zero gradients. Sophia GNB gets its Hessian refresh
 * from the batch gradient itself when lt_sophia_wants_hessian says so: the
 * true (or random) labels stand in for labels sampled from the model.
 * *mean_loss receives the mean unsigned CE over the batches. A NaN or
 * infinite loss or gradient is LT_ERR_NAN (the pass stops; the weights are
 * those reached so far), e.g. when gradient ascent diverges. */
lt_status lt_unlearn_pass(lt_unlearn_state *s, lt_model *m,
                          const lt_dataset *d, const int64_t *idx, int64_t k,
                          const lt_pass_spec *p, double *mean_loss);

/* ---- methods ------------------------------------------------------------ */

typedef enum {
    LT_METHOD_FT = 0,     /* "ft": CE on retain */
    LT_METHOD_GA,         /* "ga": -CE on forget */
    LT_METHOD_RL,         /* "rl": random labels on forget, then retain */
    LT_METHOD_SALUN,      /* "salun": RL with a saliency mask (0.5) */
    LT_METHOD_RETRAIN     /* "retrain": fresh weights trained on retain only
                             (cosine schedule, cfg.retrain_aug); the gold
                             standard */
} lt_method_kind;

/* Parse "ft", "ga", "rl", "salun" or "retrain" (LT_ERR_ARG naming it). */
lt_status lt_method_parse(const char *name, lt_method_kind *out);
const char *lt_method_name(lt_method_kind k);

typedef struct {
    int epoch, epochs;
    const char *phase;    /* "forget" or "retain" */
    double loss;          /* mean CE of the pass */
} lt_unlearn_event;

typedef struct {
    lt_method_kind method;
    lt_optim_config optim; /* optim.lr is the (constant) learning rate */
    lt_mask_spec mask;
    int epochs, batch;
    uint64_t seed;        /* shuffles, random labels, a random mask */
    size_t arena_bytes;   /* 0: sized from the model and batch */
    lt_augment retrain_aug; /* Retrain's augmentation (default none; the
                               CLI uses lethe train's choice) */
    void (*progress)(void *ud, const lt_unlearn_event *ev); /* per pass */
    void *ud;
} lt_unlearn_cfg;

/* REFERENCE.md defaults: SGD momentum 0.9, weight decay 5e-4, batch 256;
 * FT lr 0.01 10 epochs; GA lr 1e-4 5 epochs; RL and SalUn lr 0.013 10
 * epochs; mask none except SalUn (saliency:0.5); seed 1. Retrain: lethe
 * train's defaults (lr 0.1 with cosine decay, batch 128, 10 epochs). */
lt_unlearn_cfg lt_unlearn_defaults(lt_method_kind k);

typedef struct {
    double forget_loss;   /* mean CE of the last forget pass (NAN if none) */
    double retain_loss;   /* mean CE of the last retain pass (NAN if none) */
    int64_t steps;        /* optimizer steps */
    int64_t mask_ones;    /* free weights (n_train for no mask) */
    double seconds;       /* wall time, mask included (RTE) */
} lt_unlearn_report;

/* Unlearn the forget set f (made on train) from m in place. The saliency
 * mask is computed once, before any step, from lt_forget_gradient at the
 * original weights. Errors: LT_ERR_ARG (bad config, a dataset that does not
 * fit m), LT_ERR_NAN (divergence; m holds the weights reached), arena
 * or allocation errors. */
lt_status lt_unlearn_run(lt_model *m, const lt_dataset *train,
                         const lt_forget_set *f, const lt_unlearn_cfg *cfg,
                         lt_unlearn_report *rep);

#ifdef __cplusplus
}
#endif
#endif
