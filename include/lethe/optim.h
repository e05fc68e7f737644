/*
 * lethe/optim.h - optimizers over flat parameter buffers (optim layer).
 * A model keeps all its parameters in one float array theta[n] and their
 * gradients in grad[n]; an optimizer keeps its state the same way, so each
 * step is one loop. An optional 0/1 mask[n] freezes weights exactly: where
 * mask[i] == 0 neither theta[i] nor any optimizer state of i changes
 * (no momentum, no weight-decay leak), whatever the gradient says.
 */
#ifndef LETHE_OPTIM_H
#define LETHE_OPTIM_H

#include "lethe/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    LT_OPT_SGD = 0,   /* momentum, dampening 0, nesterov, L2 weight decay */
    LT_OPT_ADAM,      /* L2 weight decay added to the gradient (torch Adam) */
    LT_OPT_ADAMW,     /* decoupled weight decay (torch AdamW) */
    LT_OPT_SOPHIA     /* SophiaG: clipped sign update, diagonal Hessian EMA */
} lt_optim_kind;

typedef enum {
    /* Official Sophia: h is refreshed by lt_sophia_hessian() every k steps
     * from the gradient of the loss on labels sampled from the model
     * (Gauss-Newton-Bartlett estimate). */
    LT_SOPHIA_GNB = 0,
    /* SOUL's code: h <- b2*h + (1-b2)*g*g inside every step. */
    LT_SOPHIA_SOUL
} lt_sophia_hessian_mode;

typedef struct {
    lt_optim_kind kind;
    float lr;
    float weight_decay;
    float momentum;        /* SGD */
    bool nesterov;         /* SGD */
    float beta1, beta2;    /* Adam(W), Sophia */
    float eps;             /* Adam(W): 1e-8; Sophia: 1e-15 */
    float rho;             /* Sophia: 0.04 */
    float sophia_bs;       /* Sophia: the official code's batch-size factor
                              in rho*bs*h (1: no batch-size factor) */
    int hessian_interval;  /* Sophia GNB: k (10) */
    lt_sophia_hessian_mode hessian_mode;
} lt_optim_config;

/* Defaults of each optimizer as in PyTorch / the official Sophia code. */
LT_API lt_optim_config lt_optim_defaults(lt_optim_kind kind);
/* Parse "sgd", "adam", "adamw", "sophia" (GNB) or "sophia-soul".
 * "sophia" is Liuhong99's official SophiaG (betas 0.965 / 0.99, rho 0.04,
 * weight decay 0.1, Hessian EMA refreshed from sampled-label gradients
 * every k steps). "sophia-soul" is SOUL's own SophiaG
 * (OPTML-Group/SOUL src/optim/sophia.py with its TOFU configs): every step
 * h <- b2 h + (1-b2) g^2, m <- b1 m + (1-b1) g, theta *= 1 - lr wd,
 * m <- b1 m + (1-b1) g AGAIN (the code updates the momentum twice),
 * theta -= lr sign(m) min(|m| / (rho bs h + 1e-15), 1), with betas
 * (0.9, 0.95), rho 0.04, bs 5120 (step()'s default), weight decay 0.1 on
 * non-bias, non-norm weights (wd_mask). */
LT_API lt_status lt_optim_parse(const char *name, lt_optim_config *out);

typedef struct {
    lt_optim_config cfg;
    int64_t n;
    int64_t step;  /* steps taken */
    float *m;      /* momentum buffer / first moment */
    float *v;      /* second moment (Adam) or Hessian estimate (Sophia) */
    const float *wd_mask; /* per-weight weight-decay factor (0: none, 1:
                             full), NULL: every weight decays; set by the
                             caller after lt_optim_init, not owned (SOUL's
                             optimizer decays non-bias, non-norm weights) */
} lt_optim;

LT_API lt_status lt_optim_init(lt_optim *o, const lt_optim_config *cfg,
                               int64_t n);
LT_API void lt_optim_free(lt_optim *o);
/* One step at learning rate lr (from a schedule; cfg.lr is the base).
 * mask may be NULL. Returns LT_ERR_NAN (and changes nothing) if a gradient
 * of an unmasked weight is not finite. */
LT_API lt_status lt_optim_step(lt_optim *o, float *theta, const float *grad,
                               const float *mask, float lr);
/* Sophia GNB: fold the gradient g_hat of the loss on sampled labels into
 * the Hessian EMA: h <- b2*h + (1-b2)*g_hat*g_hat (masked entries kept). */
LT_API lt_status lt_sophia_hessian(lt_optim *o, const float *ghat,
                                   const float *mask);
/* True when the Sophia GNB schedule wants a Hessian refresh after this
 * step (every hessian_interval steps). */
LT_API bool lt_sophia_wants_hessian(const lt_optim *o);

/* Scale grad so its L2 norm is at most max_norm (as torch's
 * clip_grad_norm_, with 1e-6 in the denominator); returns the norm before
 * clipping (NaN if any gradient is not finite; then nothing is scaled). */
LT_API double lt_clip_grad_norm(float *grad, int64_t n, double max_norm);

/* ---- learning-rate schedules ---------------------------------------------- */

/* LINEAR: after the warm-up, base_lr * (total - step) / (total - warmup)
 * down to 0 at step total (Hugging Face's get_linear_schedule_with_warmup,
 * the Trainer's default). */
typedef enum { LT_SCHED_CONSTANT = 0, LT_SCHED_MULTISTEP, LT_SCHED_COSINE,
               LT_SCHED_LINEAR } lt_sched_kind;

typedef struct {
    lt_sched_kind kind;
    float base_lr;
    int64_t warmup;          /* linear warm-up steps from 0 (0: none) */
    int64_t total;           /* cosine: steps to decay over (incl. warm-up) */
    float min_lr;            /* cosine floor */
    int64_t milestones[8];   /* multistep: steps where lr *= gamma */
    int n_milestones;
    float gamma;
} lt_schedule;

/* The schedule named "constant", "cosine" or "multistep" (x0.1 at 50% and
 * 75% of training: milestones left 0 for the trainer to fill) from
 * base_lr with warmup steps; total is left 0 (the trainer fills it).
 * LT_ERR_ARG for another name. */
LT_API lt_status lt_schedule_parse(const char *name, float base_lr,
                                   int64_t warmup, lt_schedule *out);

/* Learning rate for step (0-based). */
LT_API float lt_schedule_lr(const lt_schedule *s, int64_t step);

#ifdef __cplusplus
}
#endif
#endif
