/*
 * lethe/dm_advunlearn.h - AdvUnlearn (unlearn layer): concept erasure by
 * adversarial training of a text-conditioned diffusion model's text
 * encoder, as OPTML-Group/AdvUnlearn computes it with its defaults
 * (train-scripts/AdvUnlearn.py, utils/attack_util.py soft_prompt_attack,
 * utils/get_loss.py get_train_loss_retain, utils/util.py param_choices);
 * docs/advunlearn.md says what is computed and where Lethe differs.
 *
 * Trained (train_method text_encoder_full, component all): every
 * parameter "text_model.encoder.layers.*" and "text_model.final_layer_
 * norm.*" of the CLIP-like encoder; not the token or position embeddings,
 * not the projections or the image tower; the UNet is frozen. With
 * LT_ADV_TRAIN_UNET the same training updates an ESD parameter set of the
 * UNet instead and the encoder is frozen (the encoder-vs-UNet comparison).
 *
 * E0 / U0 are frozen copies of the starting encoder / UNet (only the
 * trained one is copied). All "original" contexts come from E0: c_p (the
 * concept prompt), c_0 (the empty caption), c_r (the retain prompts).
 * Iteration i (0-based):
 *   1. attack, when i >= warmup and i % update_every == 0: k continuous
 *      prefix word embeddings a [k, D] (k = adv_prompt_num, 1), started
 *      from the last round's (attack_init 'latest'; the first round from
 *      k random words' embeddings), fresh Adam (lr 1e-3), attack_steps
 *      (30) steps, each with its own draws (t_enc, t_ddpm, start noise):
 *        z = DDIM of U from the noise with c_p, c_0, guidance 3 until
 *            t_enc (lt_esd_start);
 *        loss = MSE(U(z, t_ddpm | E(<bos> a w_1..w_n <eos> <pad>..)),
 *                   U0(z, t_ddpm | c_p))
 *      The code never zeroes the attack gradient: each backward adds to
 *      the sum of the earlier ones and Adam steps on that sum (kept by
 *      default; zero_grad resets it every step). fast_at replaces the
 *      accumulated gradient by its sign, in place, before Adam (so the
 *      next step adds to the sign). The round returns the prefix built
 *      at its last step, i.e. BEFORE the last update: that prefix is
 *      what training sees and what the next round starts from.
 *   2. outer step, draws (t_enc, t_ddpm, start noise, retain_batch retain
 *      prompts without replacement, their start noises):
 *        z as above; e_0 = U0(z | c_0), e_p = U0(z | c_p);
 *        e_n = U(z | E(concept ids)) during warm-up (i < warmup), after
 *              it U(z | E(<bos> a w.. <eos>..)) with the attack's prefix;
 *        z_r = DDIM of U with c_r (same t_enc, guidance 3);
 *        loss = MSE(e_n, e_0 - eta (e_p - e_0))
 *             + gamma * MSE(U(z_r | E(retain ids)), U0(z_r | c_r));
 *      Adam (lr 1e-5) on the trained parameters only (a mask: everything
 *      else and its Adam moments stay bit-identical). gamma = 0 drops the
 *      retain term (the code's retain_train other than 'reg').
 * Defaults: 1000 iterations, warm-up 200, update_every 1, k 1, 30 attack
 * steps at 1e-3, eta 1, start guidance 3, DDIM 50, retain batch 5, gamma
 * 0.3 for the implicit concept (the README's nudity command) and 0.5 for
 * objects and styles (lt_adv_retain_weight).
 * Everything random in iteration i is a function of (seed, i).
 */
#ifndef LETHE_DM_ADVUNLEARN_H
#define LETHE_DM_ADVUNLEARN_H

#include "lethe/clip.h"
#include "lethe/dm_text_unlearn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    LT_ADV_TRAIN_ENCODER = 0, /* text_encoder_full */
    LT_ADV_TRAIN_UNET         /* an ESD set of the UNet (unet_params) */
} lt_adv_target;

typedef enum {
    LT_ADV_PGD = 0, /* attack_method 'pgd' */
    LT_ADV_FAST_AT  /* 'fast_at': sign of the accumulated gradient */
} lt_adv_attack;

typedef struct {
    lt_adv_target train;        /* encoder */
    lt_esd_params unet_params;  /* with LT_ADV_TRAIN_UNET: esd-u */
    lt_adv_attack attack;       /* pgd */
    int k;                      /* adversarial prefix tokens (1) */
    int attack_steps;           /* 30 */
    float attack_lr;            /* 1e-3 */
    bool attack_random_init;    /* false: warm start ('latest') */
    bool attack_zero_grad;      /* false: accumulate, as the code */
    int64_t warmup;             /* 200 */
    int64_t update_every;       /* adv_prompt_update_step (1) */
    float retain_weight;        /* gamma (0.5; 0.3 implicit); 0: none */
    int retain_batch;           /* 5 */
    float eta;                  /* negative guidance (1) */
    float start_guidance;       /* 3 */
    int ddim_steps;             /* 50 */
    int64_t steps;              /* iterations (1000) */
    float lr;                   /* Adam (1e-5) */
    uint64_t seed;              /* 1 */
} lt_adv_config;

/* The defaults above (gamma 0.5). */
LT_API lt_adv_config lt_adv_defaults(void);
/* gamma: 0.3 for an implicit concept (the mark, nudity), 0.5 otherwise. */
LT_API float lt_adv_retain_weight(bool implicit);
/* "encoder" | "unet" and "pgd" | "fast-at" (also "fast_at"); LT_ERR_ARG
 * naming name otherwise. */
LT_API lt_status lt_adv_target_parse(const char *name, lt_adv_target *out);
LT_API lt_status lt_adv_attack_parse(const char *name, lt_adv_attack *out);
LT_API const char *lt_adv_target_name(lt_adv_target t);
LT_API const char *lt_adv_attack_name(lt_adv_attack a);

/* Whether text_encoder_full trains the encoder parameter called name. */
LT_API bool lt_adv_encoder_selects(const char *name);
/* mask[m->params.n_train]: 1 on the entries lt_adv_encoder_selects picks;
 * *n_selected (may be NULL) their count. */
LT_API lt_status lt_adv_encoder_mask(const lt_clip *m, float *mask,
                                     int64_t *n_selected);

/* What a run works on. clip and u: the encoder and UNet (the trained one
 * is updated in place); concept_ids [L]: the concept prompt's ids
 * (<bos> w_1..w_n <eos> <pad>.., with k + n + 2 <= L); retain_ids
 * [n_retain, L] (may be NULL with n_retain 0 or gamma 0). Everything must
 * outlive the run. */
typedef struct {
    lt_clip *clip;
    lt_unet *u;
    const lt_dm_schedule *s;
    const int32_t *concept_ids;
    const int32_t *retain_ids;
    int64_t n_retain;
} lt_adv_data;

/* The draws of one attack step or outer step. start [C, R, R];
 * retain_start [retain batch, C, R, R] and retain[retain batch] (indices
 * into the retain prompts) for the outer step only. */
typedef struct {
    int t_enc, t_ddpm;
    float *start;
    float *retain_start;
    int64_t *retain;
} lt_adv_draw;

typedef struct {
    int64_t step, steps;
    float loss;          /* the outer loss (ESD + gamma retain) */
    float esd_loss, retain_loss;
    float attack_loss;   /* last attack step's loss (NAN: no attack ran) */
    bool adversarial;    /* the trained branch saw the prefix */
    double seconds;
} lt_adv_event;

typedef void (*lt_adv_fn)(const lt_adv_event *e, void *ud);

typedef struct lt_adv lt_adv;

/* Start a run. LT_ERR_ARG for a class model, an encoder whose contexts do
 * not fit the UNet, a bad config, a concept too long for k prefix tokens
 * (k + words + 2 > L), ids out of the vocabulary, gamma > 0 without
 * retain prompts. */
LT_API lt_status lt_adv_new(const lt_adv_data *d, const lt_adv_config *cfg,
                            lt_adv **out);
LT_API void lt_adv_free(lt_adv *r);

/* The prefix the trained branch sees after warm-up and the next round's
 * warm start, [k, D] (writable). */
LT_API float *lt_adv_prefix(lt_adv *r);
/* The attack's variable during a round, [k, D] (writable). */
LT_API float *lt_adv_attack_var(lt_adv *r);

/* Begin an attack round: the variable from the prefix (or random words'
 * embeddings on the first round / with random init), fresh Adam state,
 * the accumulated gradient zeroed. */
LT_API lt_status lt_adv_attack_begin(lt_adv *r);
/* One attack step with draws d (NULL: the run's own). *loss gets its
 * loss, grad (may be NULL) [k, D] the gradient Adam stepped on (the
 * accumulated sum, or its sign with fast_at). */
LT_API lt_status lt_adv_attack_step(lt_adv *r, const lt_adv_draw *d,
                                    float *loss, float *grad);
/* End the round: the prefix becomes the variable of the last step's
 * forward (before its update). */
LT_API void lt_adv_attack_end(lt_adv *r);

/* One outer step with draws d (NULL: the run's own), adversarial or not
 * by the iteration count and the warm-up; no attack round is run here.
 * LT_ERR_NAN naming the step on a non-finite loss (weights unchanged). */
LT_API lt_status lt_adv_train_step(lt_adv *r, const lt_adv_draw *d,
                                   lt_adv_event *ev);
/* One whole iteration: the attack round when due, then the outer step. */
LT_API lt_status lt_adv_step(lt_adv *r, lt_adv_event *ev);

/* Iterations done so far. */
LT_API int64_t lt_adv_steps_done(const lt_adv *r);
/* The run's state to path (safetensors, atomic): the trained weights,
 * Adam's moments and step, the prefix, the iteration, the attack round
 * and the position in the retain prompts, so a run killed and resumed
 * from it ends with the weights of an uninterrupted one. */
LT_API lt_status lt_adv_save_state(const lt_adv *r, const char *path);
/* Resume from a state lt_adv_save_state wrote for the same setting:
 * LT_ERR_ARG naming the field when the trained part, parameter set,
 * model size, k, seed, learning rate or retain prompts differ;
 * LT_ERR_FORMAT for a damaged file. */
LT_API lt_status lt_adv_load_state(lt_adv *r, const char *path);

/* cfg->steps iterations, cb after each (may be NULL). */
LT_API lt_status lt_adv_run(const lt_adv_data *d, const lt_adv_config *cfg,
                            lt_adv_fn cb, void *ud);

#ifdef __cplusplus
}
#endif
#endif
