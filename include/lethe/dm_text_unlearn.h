/*
 * lethe/dm_text_unlearn.h - concept erasure on a text-conditioned
 * diffusion UNet (unlearn layer): ESD and FMN (Forget-Me-Not, at the
 * end). ESD, "Erasing Concepts from Diffusion Models", as the paper-era
 * official script computes it
 * (rohitgandikota/erasing, train-scripts/train-esd.py, with the CompVis
 * DDIM sampler of that repository), on Lethe's "text:" UNets.
 *
 * The concept is a prompt c (its CLIP context, computed by the caller);
 * the null condition is the empty caption's context. Each iteration, as
 * train_esd does with its defaults (batch 1, ddim_steps 50, ddim_eta 0):
 *   t_enc uniform in {0, ..., S - 1} (S = ddim_steps);
 *   t_ddpm uniform in [round(t_enc / S * T), round((t_enc + 1) / S * T));
 *   z = pure noise denoised by the model BEING TRAINED (no tape), guided
 *       as SD does (e_u + g (e_c - e_u), g = start_guidance 3), with
 *       CompVis DDIM (eta 0) on its timesteps tau_i = i * (T / S) + 1,
 *       i = S - 1 down to the index the code's till_T stops at: it breaks
 *       after index t_enc - 1, so t_enc 0 and 1 both run the whole chain
 *       (the code's `index + 1 == till` never holds for till 0). The step
 *       from index i goes to abar[tau_{i-1}], abar[0] for i = 0;
 *   loss = MSE_mean(e_theta(z, t_ddpm | c),
 *                   e*(z, t_ddpm | null) - eta (e*(z, t_ddpm | c)
 *                                                - e*(z, t_ddpm | null)))
 *       with e* a frozen copy of the starting weights (eval mode; the
 *       trained pass in training mode), eta = negative_guidance (1);
 *   Adam (lr 1e-5, betas 0.9/0.999, eps 1e-8, no weight decay, no
 *   gradient clipping) on the selected parameters only: every other
 *   weight, and its Adam moments, stays bit-identical (lt_optim_step's
 *   mask). 1000 iterations.
 * The parameter sets (train_method) select by name, as the script does on
 * the SD UNet's names, which Lethe's text UNets share where it matters:
 *   esd-x  ("xattn"):   names containing "attn2" (the cross-attentions);
 *   esd-u  ("noxattn"): every name except those starting with "out.",
 *                       containing "attn2" or containing "time_embed";
 *   selfattn: names containing "attn1"; full: all; notime: all but "out."
 *   and "time_embed". (The SD-specific xlayer / selflayer are not offered.)
 * The learning rate: 1e-5 is the script's default for SD v1.4; it is kept
 * as the default here and not tuned for the small text:xs / text:s models
 * (docs/canvas-unlearning.md).
 * Everything random in iteration k (t_enc, t_ddpm, the start noise) is a
 * function of (seed, k): the same seed gives the same weights.
 *
 * The "sd" variant (variant LT_ESD_SD, lt_esd_defaults_for) is today's
 * script, esd_sd.py with utils/sd_utils.py (diffusers), instead:
 *   run_till uniform in {0, ..., S - 1}; x_t = the FROZEN model's pipeline
 *       run (guidance e_u + g (e_c - e_u), g 3) over the first run_till
 *       timesteps of SD v1.4's default scheduler, PNDM with
 *       skip_prk_steps (PLMS, steps_offset 1, set_alpha_to_one false);
 *   the loss at that scheduler's timesteps[run_till], the noise level of
 *       x_t (t_ddpm = timesteps[t_enc]);
 *   loss = MSE_mean(e_theta(x_t | c), e*(x_t | c) - eta (e*(x_t | c)
 *                                                 - e*(x_t | null))),
 *       eta 2 (which equals the paper's form with eta 1), the trained
 *       pass in eval mode;
 *   the parameter sets pick Linear / Conv2d modules by name, so no norm
 *       is trained: esd-x (attn2), esd-u (all but attn2: time embedding
 *       and output conv included), esd-all, esd-x-strict (attn2.to_k and
 *       attn2.to_v);
 *   200 iterations of Adam at lr 5e-5 (the script trains in bfloat16;
 *       Lethe in float32).
 */
#ifndef LETHE_DM_TEXT_UNLEARN_H
#define LETHE_DM_TEXT_UNLEARN_H

#include "lethe/clip.h"
#include "lethe/diffusion.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The trained parameter set (train_method of the script). */
typedef enum {
    LT_ESD_X = 0,     /* "esd-x" = "xattn" */
    LT_ESD_U,         /* "esd-u" = "noxattn" */
    LT_ESD_SELFATTN,  /* "selfattn" */
    LT_ESD_FULL,      /* "full" */
    LT_ESD_NOTIME,    /* "notime" */
    LT_ESD_ALL,       /* "esd-all" (sd variant only) */
    LT_ESD_X_STRICT   /* "esd-x-strict" (sd variant only) */
} lt_esd_params;

/* Which official script a run follows. */
typedef enum {
    LT_ESD_PAPER = 0, /* train-esd.py (the default) */
    LT_ESD_SD         /* esd_sd.py */
} lt_esd_variant;

/* "paper" | "sd" -> variant; LT_ERR_ARG naming name otherwise. */
LT_API lt_status lt_esd_variant_parse(const char *name, lt_esd_variant *out);
LT_API const char *lt_esd_variant_name(lt_esd_variant v);
/* Whether variant v's script has parameter set k (paper: esd-x, esd-u,
 * selfattn, full, notime; sd: esd-x, esd-u, esd-all, esd-x-strict). */
LT_API bool lt_esd_variant_has(lt_esd_variant v, lt_esd_params k);

/* "esd-x", "xattn", "esd-u", "noxattn", "selfattn", "full", "notime",
 * "esd-all", "esd-x-strict" -> set; LT_ERR_ARG naming name otherwise. */
LT_API lt_status lt_esd_params_parse(const char *name, lt_esd_params *out);
/* "esd-x", "esd-u", "selfattn", "full", "notime", "esd-all",
 * "esd-x-strict". */
LT_API const char *lt_esd_params_name(lt_esd_params k);
/* Whether set k trains the parameter called name (the paper's rules;
 * false for the sd-only sets). */
LT_API bool lt_esd_selects(lt_esd_params k, const char *name);
/* Whether set k of esd_sd.py trains the parameter called name: a Linear
 * or Conv2d weight or bias (not a norm's: a module whose last name part
 * starts with "norm", or "out.0") and the set's rule on the module name;
 * false for the paper-only sets. */
LT_API bool lt_esd_sd_selects(lt_esd_params k, const char *name);
/* mask[n_train]: 1 on the trainable entries of the parameters k selects
 * (the paper's rules), 0 elsewhere; *n_selected (may be NULL) gets their
 * count. LT_ERR_ARG for a class-conditional model or a set that selects
 * nothing. */
LT_API lt_status lt_esd_mask(const lt_unet *u, lt_esd_params k, float *mask,
                             int64_t *n_selected);
/* lt_esd_mask under variant v's rules; LT_ERR_ARG for a set the variant's
 * script does not have. */
LT_API lt_status lt_esd_mask_of(const lt_unet *u, lt_esd_variant v,
                                lt_esd_params k, float *mask,
                                int64_t *n_selected);

typedef struct {
    lt_esd_params params;  /* esd-x */
    float eta;             /* negative_guidance (1; sd 2) */
    float start_guidance;  /* guidance of the partial sampling (3) */
    int ddim_steps;        /* S (50; sd: num_inference_steps 50) */
    int64_t steps;         /* iterations (1000; sd 200) */
    float lr;              /* Adam (1e-5; sd 5e-5) */
    uint64_t seed;         /* 1 */
    const float *mask;     /* NULL, or a 0/1 mask [n_train] multiplied
                              into the parameter set's (any mask, e.g. a
                              saliency mask; not owned, must outlive the
                              run) */
    lt_esd_variant variant; /* LT_ESD_PAPER */
} lt_esd_config;

/* The paper-era script's defaults above. */
LT_API lt_esd_config lt_esd_defaults(void);
/* The defaults of variant v's script (LT_ESD_SD: esd_sd.py's argparse). */
LT_API lt_esd_config lt_esd_defaults_for(lt_esd_variant v);

/* The sd variant's scheduler timesteps (PNDMScheduler.set_timesteps(S)
 * with skip_prk_steps and steps_offset 1, on T training steps) into
 * ts[S + 1]; returns their count (S + 1, or 1 for S = 1), 0 when S does
 * not fit T. */
LT_API int lt_esd_sd_timesteps(int T, int S, int *ts);

/* The sd variant's x_t: x [C, R, R] holds the start latent on entry and,
 * on return, the result of the first run_till PLMS steps (fresh scheduler
 * state) of frozen's guided prediction, as esd_sd_call(run_till_timestep)
 * computes it. LT_ERR_ARG for a class model, run_till or S out of
 * range. */
LT_API lt_status lt_esd_sd_start(lt_unet *frozen, const lt_dm_schedule *s,
                                 int S, int run_till, float guidance,
                                 const float *ctx, const float *null_ctx,
                                 float *x);

/* The starting point of an iteration: x [C, R, R] holds the start noise
 * on entry and z on return, denoised by u (no tape) as described at the
 * top for t_enc in [0, S). ctx and null_ctx [L, ctx_dim]. LT_ERR_ARG for
 * a class model, t_enc or S out of range. */
LT_API lt_status lt_esd_start(lt_unet *u, const lt_dm_schedule *s, int S,
                              int t_enc, float guidance, const float *ctx,
                              const float *null_ctx, float *x);

/* The ESD loss at z [C, R, R] and DDPM timestep t on the tape of c (a
 * scalar [1]; gradients reach u only): frozen gives e*, u the trained
 * pass (training mode when training). */
LT_API lt_tensor *lt_esd_loss(lt_ctx *c, lt_unet *u, lt_unet *frozen,
                              const float *z, int t, const float *ctx,
                              const float *null_ctx, float eta,
                              bool training);

/* One iteration's random draws. start: [C, R, R] (the caller's buffer).
 * In the sd variant t_enc is run_till and t_ddpm its scheduler timestep. */
typedef struct {
    int t_enc, t_ddpm;
    float *start;
} lt_esd_draw;

/* The draws of iteration k (0-based) for cfg on u's image shape (T from
 * s): what lt_esd_step uses when given no draws. */
LT_API void lt_esd_draws(const lt_esd_config *cfg, const lt_unet *u,
                         const lt_dm_schedule *s, int64_t k, lt_esd_draw *d);

typedef struct {
    int64_t step, steps;
    float loss;
    int t_enc, t_ddpm;
    double seconds;
} lt_esd_event;

typedef void (*lt_esd_fn)(const lt_esd_event *e, void *ud);

/* A run in progress: the frozen copy, the mask and Adam's state. */
typedef struct lt_esd lt_esd;

/* Start unlearning the concept of context ctx [L, ctx_dim] from u (which
 * is updated in place; s, ctx and null_ctx must outlive the run).
 * LT_ERR_ARG for a class model, a bad config or non-finite contexts. */
LT_API lt_status lt_esd_new(lt_unet *u, const lt_dm_schedule *s,
                            const float *ctx, const float *null_ctx,
                            const lt_esd_config *cfg, lt_esd **out);
/* One iteration with draws d (NULL: lt_esd_draws of the next step).
 * LT_ERR_NAN naming the step on a non-finite loss (u unchanged). */
LT_API lt_status lt_esd_step(lt_esd *r, const lt_esd_draw *d,
                             lt_esd_event *ev);
LT_API void lt_esd_free(lt_esd *r);

/* cfg->steps iterations of lt_esd_step, cb after each (may be NULL). */
LT_API lt_status lt_esd_run(lt_unet *u, const lt_dm_schedule *s,
                            const float *ctx, const float *null_ctx,
                            const lt_esd_config *cfg, lt_esd_fn cb, void *ud);

/* ---- FMN: Forget-Me-Not's attention resteering ---------------------------------
 * As SHI-Labs/Forget-Me-Not src/train_attn.py computes it with
 * configs/attn.yaml. By default without its textual-inversion stage
 * (use_ti: the concept is its own words); lt_fmn_ti_* below is that
 * stage, whose contexts and marks (lt_fmn_ti_contexts) this loop then
 * takes (--fmn-ti). Each step takes one image of the
 * concept (a seeded shuffle per epoch, DataLoader(shuffle=True) with
 * batch 1), noises it at t uniform in [0, T) (DDPMScheduler.add_noise),
 * runs the UNet on it with the prompt's context (the output is unused)
 * and minimises the L2 norm (not squared) of the concatenated attn2
 * probabilities at the marked tokens, over every attn2 layer, head and
 * query (AttnController.loss); AdamW (lr 2e-6, betas 0.9/0.999, eps
 * 1e-8, weight decay 0.01), 35 steps. only_ca (only_optimize_ca, off)
 * trains the attn2 weights only. Gradient clipping: the script clips
 * `params_to_optimize`, which with only_optimize_ca false is a generator
 * the optimizer has already consumed, so nothing is clipped; with
 * only_ca it is a list and the attn2 gradient is clipped to norm 1. Lethe
 * does the same (clip applies with only_ca). */

typedef struct {
    bool only_ca;        /* attn2 only (off: the whole UNet) */
    int64_t steps;       /* 35 */
    float lr;            /* 2e-6 */
    float weight_decay;  /* 0.01 */
    float clip;          /* 1, applied with only_ca (see above) */
    uint64_t seed;       /* 1 */
    const float *mask;   /* NULL, or a 0/1 mask [n_train] on the trained
                            weights (as lt_esd_config.mask) */
} lt_fmn_config;

LT_API lt_fmn_config lt_fmn_defaults(void);

/* mask[L] for a prompt's ids[L]: 1 at every run of the concept's ids
 * cid[n] (the script's subsequence match) and, with pooler (use_pooler,
 * on in the script), at the <eos> (Lethe pads with <pad>, not with <eos>
 * as SD's CLIP tokenizer does, so only the one <eos> is marked). *marked
 * (may be NULL) gets the count. LT_ERR_ARG when the concept does not
 * occur in the prompt. */
LT_API lt_status lt_fmn_positions(const int32_t *ids, int L,
                                  const int32_t *cid, int n, bool pooler,
                                  float *mask, int *marked);

/* The FMN loss of B images x0 [B, C, R, R] noised with e at timesteps t,
 * prompts' contexts ctx [B, L, D] and marks mask [B, L], on the tape of c
 * (a scalar [1]; gradients reach u). */
LT_API lt_tensor *lt_fmn_loss(lt_ctx *c, lt_unet *u, const lt_dm_schedule *s,
                              const float *x0, const float *e,
                              const int32_t *t, const float *ctx,
                              const float *mask, int B, bool training);

typedef struct {
    int64_t step, steps;
    float loss;
    double grad_norm; /* of the trained gradient, before any clipping */
    double seconds;
} lt_fmn_event;

typedef void (*lt_fmn_fn)(const lt_fmn_event *e, void *ud);

/* FMN on u in place from the n concept images x [n, C, R, R] in [-1, 1]
 * with their prompts' contexts ctx [n, L, D] and marks mask [n, L].
 * LT_ERR_ARG for a class model, n < 1, a bad config or a mask marking
 * nothing; LT_ERR_NAN naming the step on a non-finite loss (u then holds
 * the previous step's weights). */
LT_API lt_status lt_fmn_run(lt_unet *u, const lt_dm_schedule *s,
                            const float *x, const float *ctx,
                            const float *mask, int64_t n,
                            const lt_fmn_config *cfg, lt_fmn_fn cb, void *ud);

/* ---- FMN's first stage: textual inversion (--fmn-ti) ----------------------------
 * As SHI-Labs/Forget-Me-Not src/train_ti.py computes it with configs/
 * ti.yaml, on Lethe's CLIP-like encoder and text UNet: K new tokens (rows
 * [K, D] beside the encoder's table; in ids an id < 0 is placeholder
 * -1 - id) stand for the concept in the prompts. Each step takes one
 * image (a seeded shuffle per epoch, batch 1), flips it horizontally with
 * probability 0.5 (the dataset's h_flip), noises it at t uniform in
 * [0, T) and computes loss = MSE_mean(e(x_t, t | E(prompt)), noise) with
 * the UNet frozen in eval mode; only the K rows train, by AdamW (lr 1e-3,
 * betas 0.9/0.999, eps 1e-8, weight decay 0.1, constant lr), 500 steps.
 * After each step clip_ti_decay rescales each row to norm
 * pre + lambda (target - pre), lambda = min(1, 100 lr), keeping its
 * direction. The script's target is 0.4 for SD's CLIP; Lethe's default
 * (norm_target 0, LT_FMN_TI_NORM_AUTO) is the mean norm of the encoder's
 * own token rows (docs/canvas-unlearning.md). The rows start as the
 * concept's word embeddings followed by n_rand rows N(0, rand_sigma^2)
 * (ti.yaml: "taylor|swift|<rand-1>|<rand-1>": the words, then two
 * random rows of sigma 1). */

#define LT_FMN_TI_NORM_AUTO 0.0f

typedef struct {
    int n_rand;          /* random rows after the word rows (2) */
    float rand_sigma;    /* <rand-1>: 1 */
    int64_t steps;       /* max_train_steps_ti (500) */
    float lr;            /* learning_rate_ti (1e-3) */
    float weight_decay;  /* weight_decay_ti (0.1) */
    bool decay;          /* clip_ti_decay (on) */
    float norm_target;   /* its target: LT_FMN_TI_NORM_AUTO (see above) */
    bool flip;           /* h_flip (on) */
    uint64_t seed;       /* 1 */
} lt_fmn_ti_config;

LT_API lt_fmn_ti_config lt_fmn_ti_defaults(void);

/* The context [1, L, D] of ids [L] (id < 0: row -1 - id of emb [K, D], a
 * tensor that may be on c's tape) through the encoder: the embedded
 * sequence into lt_clip_text_hidden. NULL with the error set. */
LT_API lt_tensor *lt_fmn_ti_context(lt_ctx *c, lt_clip *clip,
                                    const int32_t *ids, int L,
                                    lt_tensor *emb);

/* ids [L] with every occurrence of the token word replaced by the K
 * placeholders -1 .. -K (the rest shifted right) into out [L].
 * LT_ERR_ARG when word does not occur or the result (up to its <eos>)
 * does not fit L. */
LT_API lt_status lt_fmn_ti_ids(const int32_t *ids, int L, int32_t word,
                               int K, int32_t *out);

/* The starting rows emb [n_words + cfg->n_rand, D]: the token rows of
 * word_ids[n_words], then N(0, rand_sigma^2) rows (seeded by cfg->seed). */
LT_API lt_status lt_fmn_ti_init(const lt_clip *clip, const int32_t *word_ids,
                                int n_words, const lt_fmn_ti_config *cfg,
                                float *emb);

/* clip_ti_decay's target for clip under cfg (norm_target, or the mean
 * norm of the token rows when it is LT_FMN_TI_NORM_AUTO). */
LT_API float lt_fmn_ti_norm_target(const lt_clip *clip,
                                   const lt_fmn_ti_config *cfg);

/* One step's draws: the image, its flip, t and the noise [C, R, R]. */
typedef struct {
    int64_t index;
    bool flip;
    int32_t t;
    float *noise;
} lt_fmn_ti_draw;

typedef struct {
    int64_t step, steps;
    float loss;
    float norm; /* the mean norm of the rows after the step */
    double seconds;
} lt_fmn_ti_event;

typedef void (*lt_fmn_ti_fn)(const lt_fmn_ti_event *e, void *ud);

typedef struct lt_fmn_ti lt_fmn_ti;

/* Start TI of the K rows emb [K, D] (updated in place; must outlive the
 * run) on the n images x [n, C, R, R] in [-1, 1] with their ids [n, L]
 * (placeholders negative). u and clip are not changed. LT_ERR_ARG for a
 * class model, a bad config, an id out of range or an image whose ids
 * hold no placeholder. */
LT_API lt_status lt_fmn_ti_new(lt_unet *u, const lt_dm_schedule *s,
                               lt_clip *clip, const float *x,
                               const int32_t *ids, int64_t n, int K,
                               float *emb, const lt_fmn_ti_config *cfg,
                               lt_fmn_ti **out);
/* One step with draws d (NULL: the seeded draws of the next step). */
LT_API lt_status lt_fmn_ti_step(lt_fmn_ti *r, const lt_fmn_ti_draw *d,
                                lt_fmn_ti_event *ev);
/* The gradient [K, D] of the last step's loss w.r.t. the rows. */
LT_API const float *lt_fmn_ti_grad(const lt_fmn_ti *r);
LT_API void lt_fmn_ti_free(lt_fmn_ti *r);
/* cfg->steps steps, cb after each (may be NULL). */
LT_API lt_status lt_fmn_ti_run(lt_unet *u, const lt_dm_schedule *s,
                               lt_clip *clip, const float *x,
                               const int32_t *ids, int64_t n, int K,
                               float *emb, const lt_fmn_ti_config *cfg,
                               lt_fmn_ti_fn cb, void *ud);

/* FMN's second stage with the learned tokens (train_attn.py, use_ti):
 * the contexts ctx [n, L, D] of ids [n, L] with the rows emb [K, D], and
 * the marks mask [n, L]: every placeholder and the <eos> (use_pooler). */
LT_API lt_status lt_fmn_ti_contexts(lt_clip *clip, const int32_t *ids,
                                    int64_t n, int K, const float *emb,
                                    float *ctx, float *mask);

#ifdef __cplusplus
}
#endif
#endif
