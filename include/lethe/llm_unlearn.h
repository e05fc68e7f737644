/*
 * lethe/llm_unlearn.h - unlearning for the decoder language model (unlearn
 * layer, on top of lethe/llama.h and lethe/lm.h): the per-step losses of
 * GA, GradDiff, NPO, NPO+GD, SimNPO, refusal ("I don't know") tuning and
 * RMU; weight masks (WAGLE and its baselines) that freeze a share of the
 * weights; and the unlearning loop (AdamW, Sophia GNB or SOUL's Sophia).
 *
 * Losses of one step on a forget batch F and a retain batch R. NLL(b) is
 * the summed NLL of the scored (answer) tokens of sequence b, |y_b| their
 * number, "mean token NLL" the sum over the batch divided by the batch's
 * scored tokens (Hugging Face's outputs.loss):
 *   ga        -(mean token NLL on F)
 *   graddiff  -(mean token NLL on F) + lambda * (mean token NLL on R)
 *   npo       -(2/beta) mean_b log sigmoid(beta (NLL_theta(b) - NLL_ref(b)))
 *             with ref the frozen model before unlearning (minimising it
 *             raises the forget NLL, as the official NPO code does)
 *   npo-gd    npo + lambda * (mean token NLL on R)
 *   simnpo    -(2/beta) mean_b log sigmoid(beta (NLL(b)/|y_b| - gamma))
 *             * forget_weight + lambda * (mean token NLL on R). This is
 *             the official SimNPO code's form (OPTML-Group/Unlearn-Simple,
 *             TOFU/dataloader.py: logsigmoid(beta * (loss/len - gamma))):
 *             gamma sits inside beta's product, not beside it as in the
 *             paper's equation.
 *   refusal   mean token NLL on F, where F holds the forget questions with
 *             refusal answers (lt_llm_refusal_data), + lambda * (mean token
 *             NLL on R)
 *   idk       TOFU's `idk` loss (locuslab/tofu dataloader.py): ONE
 *             token-weighted mean NLL over the concatenation of the IDK
 *             batch (forget questions with "I don't know"-style answers,
 *             resampled per item every epoch from lt_llm_idk_text's 100
 *             lines) and the retain batch: (sum NLL_F + sum NLL_R) /
 *             (tokens_F + tokens_R); lambda is not used
 *   idkpo     TOFU's DPO loss (`dpo`): -mean_b log sigmoid(beta ((S_f -
 *             S_idk) - (S_f_ref - S_idk_ref))), S = per-sequence summed
 *             answer NLL, idk = the IDK answer, f = the true forget answer
 *             of the same question, ref the frozen model before
 *             unlearning, beta 0.1; no retain term (as TOFU's code)
 *   rmu       at decoder layer L (lt_llama_hidden, 1-based), forget term =
 *             mean over the non-pad tokens of F and the d dims of
 *             (h_theta - c u)^2, u a fixed unit vector (seeded uniform
 *             [0, 1) entries, normalised, as WMDP's RMU code draws it);
 *             retain term = alpha * mean over the non-pad tokens of R and
 *             the dims of (h_theta - h_ref)^2. Only the MLP down_proj
 *             weights of layers max(1, L-2)..L are trained.
 * lambda multiplies the retain term of graddiff, npo-gd, simnpo and
 * refusal (0 turns it off and skips the retain forward pass); rmu's retain
 * term is weighted by alpha alone (alpha 0 turns it off).
 *
 * Masks ("none", "wagle:R", "gradient:R", "magnitude:R", "snip:R",
 * "random:R") keep the top fraction R of the trainable weights, ranked
 * globally by a score: wagle |(theta - g_r/mu) * g_f|, gradient |g_f|,
 * magnitude |theta|, snip |theta * g_f|, random (seeded uniform), with
 * g_f / g_r the gradients of the summed answer NLL over the forget /
 * retain examples. Ties are broken towards the lower index. A mask entry
 * is 1 (trained) or 0 (frozen: lt_optim_step leaves it bit-identical).
 *
 * The loop (lt_llm_unlearn): per epoch, a seeded permutation of the forget
 * set in batches; each step pairs its forget batch with the next retain
 * batch (a seeded shuffle of the retain set, reshuffled each time it runs
 * out). Gradients are masked, then clipped to a global norm, then the
 * optimizer steps with a learning rate warmed up linearly over `warmup`
 * steps (default: one epoch, as TOFU's forget.py) and then decayed
 * linearly to 0 at the last step (the Hugging Face Trainer's default
 * schedule, which TOFU's and NPO's forget.py use).
 * With Sophia GNB, every hessian_interval steps the Hessian EMA gets the
 * squared gradient of the mean cross-entropy on labels sampled from the
 * model's own softmax at the forget batch's scored positions (official
 * Sophia), and sophia_bs is set to the number of those positions (the
 * official code's total_bsz: tokens per Hessian batch, since the squared
 * mean-token gradient shrinks like 1/tokens). A loss or gradient that is
 * not finite, or |loss| > max_loss (rmu, whose MSE lives on the hidden
 * states' scale: |loss| > max_loss x max(1, |first loss|)), stops the run
 * with LT_ERR_NAN; the
 * weights are then restored to the last good snapshot (the end of the last
 * completed epoch, or the start) and the report says so.
 */
#ifndef LETHE_LLM_UNLEARN_H
#define LETHE_LLM_UNLEARN_H

#include "lethe/lm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- methods and losses (src/unlearn/llm_loss.c) --------------------------- */

typedef enum {
    LT_LLM_GA = 0,
    LT_LLM_GRADDIFF,
    LT_LLM_NPO,
    LT_LLM_NPO_GD,
    LT_LLM_SIMNPO,
    LT_LLM_REFUSAL,
    LT_LLM_RMU,
    LT_LLM_IDK,
    LT_LLM_IDKPO
} lt_llm_method;

/* "ga", "graddiff", "npo", "npo-gd", "simnpo", "refusal", "rmu", "idk",
 * "idkpo". */
LT_API lt_status lt_llm_method_parse(const char *name, lt_llm_method *out);
LT_API const char *lt_llm_method_name(lt_llm_method m);
/* True for npo, npo-gd, rmu and idkpo (they need the frozen reference
 * model). */
LT_API bool lt_llm_method_needs_ref(lt_llm_method m);

typedef struct {
    lt_llm_method method;
    float beta;           /* npo 0.1, simnpo 2.5 */
    float gamma;          /* simnpo: 0 */
    float lambda;         /* retain weight: 1 */
    float forget_weight;  /* simnpo: 1 */
    bool npo_mean;        /* npo, npo-gd: false (default, NPO's own repo):
                             the log ratio of per-sequence summed answer
                             NLLs, one per example; true ("--npo-nll
                             mean", WAGLE's and SOUL's NPO.py): of the
                             batch's token-weighted mean NLL (the Hugging
                             Face outputs.loss), one ratio per batch */
    int rmu_layer;        /* 1..n_layers; 0: n_layers / 2 (at least 1) */
    float rmu_coeff;      /* c (> 0 in lt_llm_step_loss); 0: auto in the
                             loop, see lt_llm_loss_defaults */
    float rmu_alpha;      /* 1 (see lt_llm_loss_defaults) */
    uint64_t rmu_seed;    /* draws u */
} lt_llm_loss_cfg;

/* beta 0.1 for npo and npo-gd (NPO's config), else 2.5 (SimNPO's forget05
 * value; its forget10 config uses 4.5, which `lethe bench tofu` sets),
 * gamma 0, lambda 1, forget_weight 0.1375 for simnpo (SimNPO's TOFU
 * npo_coeff), else 1, rmu layer n/2, rmu coeff
 * 0 (auto), alpha 1, rmu seed 1.
 * RMU's alpha: WMDP uses 1200 on Zephyr-7B; on the models trained here
 * (auto c, hidden norms ~1e2-1e3) alpha 100 or 10 keeps the retain term in
 * charge and nothing is forgotten (micro model, 40 authors, forget10: ROUGE-L
 * recall 1.00 and 0.99 after 5 epochs), alpha 1 forgets (0.23 at lr 3e-3).
 * RMU's c: WMDP uses 6.5 on Zephyr-7B and 300 on Yi-34B, i.e. c tracks
 * the scale of the model's residual stream (c u must sit well away from
 * where the forget activations are, or the MSE barely changes them). The
 * residual norm of the models trained here is ~1e3 (d20: a mean token norm
 * of 1240-1580 over layers 1-4), so no fixed c fits every model: with
 * rmu_coeff 0 the loop sets c = 2 x the mean L2 norm of the layer-L hidden
 * states of the model before unlearning over the forget set's tokens
 * (lt_llm_rmu_auto_coeff); a positive rmu_coeff is used as is. */
LT_API lt_llm_loss_cfg lt_llm_loss_defaults(lt_llm_method m);
/* SimNPO's per-split TOFU settings (OPTML-Group/Unlearn-Simple, TOFU
 * README commands): forget10 (forget_pct >= 10) beta 4.5, npo_coeff 0.125;
 * otherwise (forget05) beta 2.5, npo_coeff 0.1375. Other methods: c is
 * left alone. */
LT_API void lt_llm_loss_tofu_split(lt_llm_loss_cfg *c, int forget_pct);

/* A padded batch with its own buffers (grown by lt_llm_batch_fill). */
typedef struct lt_llm_batch_s {
    int32_t *ids, *labels;  /* B*T */
    uint8_t *mask;          /* B*T: scored positions */
    int32_t *lens;          /* B: real (non-pad) tokens of each row */
    int64_t B, T, cap;
    int64_t n_scored;       /* scored positions in all */
    int64_t n_real;         /* non-pad tokens in all */
    /* a shard of a data-parallel step: the whole step's rows, scored and
     * real tokens, the denominators of its means, so that the shards'
     * losses add up to the step's (0: this batch's own; fill resets) */
    int64_t norm_B, norm_scored, norm_real;
    const struct lt_llm_batch_s *pair; /* idkpo: the forget answers of the
                                          same questions, row for row */
} lt_llm_batch;

/* Examples idx[0..B) of d, right-padded with pad_id (lt_lm_batch). */
LT_API lt_status lt_llm_batch_fill(lt_llm_batch *b, const lt_lm_data *d,
                                   const int64_t *idx, int64_t B,
                                   int32_t pad_id);
LT_API void lt_llm_batch_free(lt_llm_batch *b);

/* What a step's loss is made of (NaN where a part is not computed: the
 * NLLs under rmu, the retain parts when lambda is 0 or there is no R). */
typedef struct {
    double loss;        /* the total */
    double forget;      /* the forget term, weights included */
    double retain;      /* the retain term, lambda / alpha included */
    double forget_nll;  /* mean token NLL on F */
    double retain_nll;  /* mean token NLL on R */
} lt_llm_parts;

/* The fixed RMU direction: d seeded uniform [0, 1) draws, normalised to
 * unit L2 norm. */
LT_API void lt_llm_rmu_direction(int64_t d, uint64_t seed, float *u);

/* True when the method's loss has a retain term under cfg. */
LT_API bool lt_llm_uses_retain(const lt_llm_loss_cfg *cfg);

/* The loss of one step, built on c's tape (grad mode on: backward from
 * *loss fills m's parameter gradients). ref is the frozen model (needed by
 * npo, npo-gd and rmu; its passes run without a tape). r may be NULL when
 * !lt_llm_uses_retain(cfg). parts may be NULL. */
LT_API lt_status lt_llm_step_loss(lt_ctx *c, lt_llama *m, lt_llama *ref,
                                  const lt_llm_loss_cfg *cfg,
                                  const lt_llm_batch *f, const lt_llm_batch *r,
                                  lt_tensor **loss, lt_llm_parts *parts);

/* 2 x the mean L2 norm of m's layer-`layer` hidden states over the
 * non-pad tokens after the first of every example of d (no tape). */
LT_API lt_status lt_llm_rmu_auto_coeff(lt_llama *m, const lt_lm_data *d,
                                       int layer, int32_t pad_id, double *c);

/* Arena bytes one step needs with batches of B rows of up to T tokens. */
LT_API size_t lt_llm_step_arena_bytes(const lt_llama_config *cfg, int64_t B,
                                      int64_t T);

/* Refusal data: each forget question with one of a built-in list of
 * "I don't know"-style answers, picked per question by a seeded RNG
 * (out is zeroed first). */
LT_API lt_status lt_llm_refusal_data(const lt_tokenizer *tok,
                                     const lt_tofu_set *forget, uint64_t seed,
                                     lt_lm_data *out);
/* The built-in refusal answers. */
LT_API int lt_llm_refusal_count(void);
LT_API const char *lt_llm_refusal_text(int i);
/* idk / idkpo: the 100 "I don't know"-style answers, in the style of
 * TOFU's data/idontknow.jsonl (Lethe's own lines: 10 openings x 10
 * endings), and the data of one epoch: every forget question with an answer
 * drawn uniformly from them, afresh per item and per epoch (TOFU's
 * TextForgetDatasetQA draws one per __getitem__); seeded by (seed, epoch);
 * out is zeroed first. */
#define LT_LLM_IDK_LINES 100
LT_API void lt_llm_idk_text(int i, char *buf, size_t n);
LT_API lt_status lt_llm_idk_data(const lt_tokenizer *tok,
                                 const lt_tofu_set *forget, uint64_t seed,
                                 int epoch, lt_lm_data *out);

/* ---- masks (src/unlearn/llm_mask.c) ---------------------------------------- */

typedef enum {
    LT_LLM_MASK_NONE = 0,
    LT_LLM_MASK_WAGLE,
    LT_LLM_MASK_GRADIENT,
    LT_LLM_MASK_MAGNITUDE,
    LT_LLM_MASK_SNIP,
    LT_LLM_MASK_RANDOM
} lt_llm_mask_kind;

typedef struct {
    lt_llm_mask_kind kind;
    double ratio;         /* fraction of weights kept trainable, (0, 1] */
} lt_llm_mask_spec;

/* "none", "KIND:R" with 0 < R <= 1, or "KIND" alone: ratio 0, resolved by
 * lt_llm_mask_default_ratio when the run starts. */
LT_API lt_status lt_llm_mask_parse(const char *spec, lt_llm_mask_spec *out);
/* WAGLE's TOFU configs: keep 0.95 of the weights for GradDiff and NPO
 * (and every other method), 0.8 for PO (refusal). */
LT_API double lt_llm_mask_default_ratio(lt_llm_method m);
/* "none", "wagle:0.5", "wagle" (the method's default ratio) ... */
LT_API void lt_llm_mask_text(const lt_llm_mask_spec *s, char *buf, size_t n);

/* Scores of n weights for kind (gf, gr may be NULL where the kind does not
 * use them; mu for wagle; seed for random). */
LT_API lt_status lt_llm_mask_scores(lt_llm_mask_kind kind, const float *theta,
                                    const float *gf, const float *gr, int64_t n,
                                    double mu, uint64_t seed, float *score);
/* mask[i] = 1 for the int(ratio * n) (at least 1; WAGLE's threshold_idx)
 * highest scores, ties to the lower index, else 0 (lt_mask_top_k: O(n); LT_ERR_NAN for a NaN
 * score); *kept (may be NULL) gets the kept fraction. */
LT_API lt_status lt_llm_mask_select(const float *score, int64_t n, double ratio,
                                    float *mask, double *kept);

typedef struct {
    lt_llm_mask_spec spec;
    double mu;            /* wagle: 1e-6 */
    int64_t max_retain;   /* retain examples for g_r: <= 0 all, else the
                             first N of a seeded permutation */
    int batch;            /* examples per gradient pass */
    int32_t pad_id;
    uint64_t seed;
} lt_llm_mask_opts;

/* The mask over m's trainable weights (mask[m->params.n_train]); spec
 * "none" gives all ones. m's gradients are left zero. */
LT_API lt_status lt_llm_mask_compute(lt_llama *m, const lt_lm_data *forget,
                                     const lt_lm_data *retain,
                                     const lt_llm_mask_opts *o, float *mask,
                                     double *kept);
/* The RMU trainable set: 1 on the mlp.down_proj weights of layers
 * max(1, layer-2)..layer (1-based), 0 elsewhere. */
LT_API lt_status lt_llm_rmu_mask(const lt_llama *m, int layer, float *mask);

/* ---- the loop (src/unlearn/llm_unlearn.c) ---------------------------------- */

typedef struct {
    int epoch, epochs;
    int64_t step, steps;
    double loss, forget_nll, retain_nll; /* see lt_llm_parts (refusal:
                                            forget_nll is on the refusal
                                            answers; rmu: NaN) */
    double lr, grad_norm, seconds;
} lt_llm_event;

typedef struct {
    lt_llm_loss_cfg loss;
    lt_optim_config optim;    /* kind, lr, weight decay, Sophia settings */
    int epochs;               /* 5 */
    int batch;                /* 8 forget (and retain) examples per step */
    int64_t warmup;           /* linear warm-up steps; < 0: one epoch */
    float clip;               /* max gradient norm; 0: off (1) */
    double max_loss;          /* |loss| above it is divergence (1e3) */
    uint64_t seed;            /* batch order, refusal picks, masks */
    int32_t pad_id;
    lt_llm_mask_spec mask;    /* none */
    double mu;                /* wagle (1e-6) */
    int64_t mask_samples;     /* retain examples for g_r: 0 (default) as
                                 many as the forget set has (WAGLE's
                                 paired loader), < 0 all, else N */
    bool mask_freeze;         /* false (default, WAGLE's trainer): clip the
                                 gradient, then zero the masked entries;
                                 the optimizer still decays masked weights
                                 (AdamW / Sophia weight decay). true: mask
                                 before clipping and freeze masked weights
                                 exactly (Lethe's earlier form; RMU's
                                 trainable set always freezes) */
    const lt_lm_data *mask_forget; /* forget data for g_f (NULL: forget;
                                      refusal passes the true answers) */
    const lt_lm_data *forget_epochs; /* idk, idkpo: one forget data set per
                                        epoch (epochs of them, the IDK
                                        answers resampled), NULL: forget */
    const lt_lm_data *pair;   /* idkpo: the true forget answers, example
                                 for example with the forget data */
    /* data parallelism (docs/mpi.md): LT_DIST_OFF, or every step's
     * batches cut into `shards` (0: one per rank) summed by lt_dp; not
     * with npo_mean (a function of the whole batch's mean NLL) */
    lt_dist_mode dist;
    int shards;
    lt_precision precision; /* of the run's matrix products (core.h): 0,
                               LT_PRECISION_DEFAULT, the process default */
    void (*progress)(void *ud, const lt_llm_event *ev);
    void *ud;
} lt_llm_unlearn_cfg;

typedef struct {
    int64_t steps;
    int epochs_done;          /* epochs completed */
    double seconds, first_loss, last_loss;
    double mask_kept;         /* fraction of weights trained */
    double rmu_coeff;         /* rmu: the c used (auto resolved) */
    bool diverged;
    int restored_epoch;       /* diverged: weights are those after this
                                 epoch (0: the start) */
    char message[320];        /* diverged: what happened */
} lt_llm_report;

/* The default learning rate of a method under AdamW (Sophia: the same). */
LT_API float lt_llm_default_lr(lt_llm_method m);
/* The defaults above with AdamW (betas 0.9/0.999, weight decay 0.01) at
 * lt_llm_default_lr(m). */
LT_API lt_llm_unlearn_cfg lt_llm_unlearn_defaults(lt_llm_method m);

/* Unlearn forget from m (for refusal, forget is lt_llm_refusal_data's).
 * retain may be NULL for ga and npo. rep may be NULL. */
LT_API lt_status lt_llm_unlearn(lt_llama *m, const lt_lm_data *forget,
                                const lt_lm_data *retain,
                                const lt_llm_unlearn_cfg *cfg,
                                lt_llm_report *rep);

/* ---- a run on TOFU files (src/unlearn/llm_run.c) -------------------------- */

/* The TOFU splits of a run and their examples. */
typedef struct {
    lt_tofu_set forget_qa, retain_qa;
    lt_lm_data forget, retain;  /* retain: empty without a retain file */
    lt_lm_data refusal;         /* refusal only: lt_llm_refusal_data */
    lt_lm_data *idk;            /* idk, idkpo: one data set per epoch
                                   (lt_llm_idk_data), n_idk of them */
    int n_idk;
    bool have_retain;           /* a retain file was loaded */
} lt_llm_unlearn_data;

/* Load the forget file (and the retain file, when not NULL) and tokenize
 * them (lt_lm_data_qa, cut to max_len tokens); for c->loss.method refusal
 * also the refusal data (seeded by c->seed). d is zeroed first; free it
 * with lt_llm_unlearn_data_free, also after an error. */
LT_API lt_status lt_llm_unlearn_data_load(const lt_tokenizer *t,
                                          const char *forget,
                                          const char *retain, int64_t max_len,
                                          const lt_llm_unlearn_cfg *c,
                                          lt_llm_unlearn_data *d);
LT_API void lt_llm_unlearn_data_free(lt_llm_unlearn_data *d);
/* lt_llm_unlearn on d: refusal trains on d->refusal with the mask's g_f
 * from the true answers (d->forget); the retain set when one was loaded. */
LT_API lt_status lt_llm_unlearn_run(lt_llama *m, const lt_llm_unlearn_data *d,
                                    const lt_llm_unlearn_cfg *c,
                                    lt_llm_report *rep);

/* What a run's JSON summary names besides its config and report. */
typedef struct {
    const char *command;  /* the command line */
    const char *model, *forget, *retain, *out; /* files; retain may be NULL */
    const char *optim;    /* the optimizer as named ("sophia-soul") */
} lt_llm_run_info;

/* {"command", "method", "model", "forget", ["retain",] "out", "options":
 * {the settings of c}, "steps", "epochs_done", "seconds", "first_loss",
 * "last_loss", "diverged", ["restored_epoch", "message",] "mask_fraction",
 * "precision", "backend", ["rmu_coeff_used"]} atomically to path. Float settings are written as
 * the shortest decimal of their float value (1e-4, not 9.99e-05). */
LT_API lt_status lt_llm_unlearn_write_json(const lt_llm_unlearn_cfg *c,
                                           const lt_llm_report *rep,
                                           const lt_llm_run_info *info,
                                           const char *path);

#ifdef __cplusplus
}
#endif
#endif
