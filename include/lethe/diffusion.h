/*
 * lethe/diffusion.h - denoising diffusion models (models layer): noise
 * schedules, the UNet noise predictors (class-conditional DDPM and
 * text-conditional Stable-Diffusion-style), the epsilon-prediction loss,
 * classifier-free guidance and the DDPM/DDIM samplers.
 *
 * What is computed, and where it comes from:
 *   - Schedules: "linear" beta from 1e-4 to 0.02 over T = 1000 steps (the
 *     DDPM of SalUn's class-wise experiments) and "scaled_linear", the
 *     square of a linspace between sqrt(0.00085) and sqrt(0.012) (Stable
 *     Diffusion). betas are made in double and rounded to float32;
 *     abar_t = prod_{s<=t} (1 - beta_s) is accumulated in float32, in
 *     order, as torch.cumprod does on the official code's float tensor.
 *   - The UNet mirrors the class-conditional DDPM UNet of SalUn
 *     (DDPM/models/diffusion.py, itself the DDIM code's UNet): levels of
 *     ResNet blocks (GroupNorm, SiLU, 3x3 conv, dropout) with a skip
 *     connection per block, downsampling by a stride-2 3x3 conv after
 *     padding the right and bottom by one, nearest upsampling + 3x3 conv,
 *     single-head self-attention blocks at the listed resolutions and in
 *     the middle, a sinusoidal time embedding through a two-layer MLP, and
 *     a learned class embedding through its own two-layer MLP,
 *     CONCATENATED with the time embedding and projected into every ResNet
 *     block (SiLU, then a linear layer, added after the first conv). A
 *     learned null-class embedding stands for "no class": it is what
 *     classifier-free guidance runs unconditionally and what training
 *     substitutes with probability cond_drop (0.1). Parameter names equal
 *     the PyTorch module's state_dict() names (temb.dense.0, down.1.block.0
 *     .norm1, mid.attn_1.q, up.2.upsample.conv, classes_emb,
 *     null_classes_emb, ...). Scaled down for 2 cores: GroupNorm uses
 *     `groups` groups (the official code: 32 at 128 channels; here 8, so
 *     every width of the small presets divides), eps 1e-6.
 *   - The text-conditioned UNet ("text:" presets) has Stable Diffusion's
 *     structure (CompVis ldm openaimodel.py + attention.py) on the same
 *     ResNet blocks, sampling and time embedding: no class embedding (the
 *     blocks get the time embedding only, `temb_proj`); a
 *     SpatialTransformer (GroupNorm `norm`, 1x1 conv `proj_in`, one
 *     BasicTransformerBlock: self-attention attn1, cross-attention attn2
 *     whose keys and values come from the text context [N, L, ctx_dim],
 *     GEGLU feed-forward, each after a LayerNorm (eps 1e-5) with a
 *     residual; 1x1 conv `proj_out`, residual) after each ResNet block at
 *     the attention resolutions and in the middle. SD's names where the
 *     unlearning methods filter on them: the time MLP `time_embed.0/.2`,
 *     the output `out.0` (GroupNorm) and `out.2` (conv), `attn1`, `attn2`,
 *     `to_q/to_k/to_v` (no bias), `to_out.0`, `ff.net.0.proj`, `ff.net.2`;
 *     the DDPM names elsewhere (down.1.attn.0.transformer_blocks.0.attn2
 *     .to_k.weight, mid.attn_1.proj_in.weight, ...). docs/diffusion.md
 *     lists what the ESD name filters select.
 *   - Loss: x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) e; the squared error
 *     of the predicted noise summed over pixels, averaged over the batch
 *     (the official reduction). Timesteps are antithetic: n/2+1 uniform
 *     draws t and their mirrors T-1-t, the first n kept.
 *   - Guidance, both conventions, always named in outputs:
 *       "salun":  (1 + w) e(c) - w e(null)   (SalUn's DDPM; w = 2)
 *       "sd":     e(null) + s (e(c) - e(null)) (Stable Diffusion)
 *     w = 0 (salun) or s = 1 (sd) skips the unconditional pass.
 *   - Sampler: the generalized (DDIM) step of the official code on the
 *     uniform sequence 0, k, 2k, ... (k = T / steps): x0 = (x - sqrt(1-a)
 *     e) / sqrt(a); c1 = eta sqrt((1 - a/a') (1 - a') / (1 - a)); c2 =
 *     sqrt(1 - a' - c1^2); x' = sqrt(a') x0 + c1 z + c2 e, with a' = 1 after
 *     the last step. eta = 1 is the official default ("ddpm" here), eta = 0
 *     is DDIM. Images come out in [-1, 1] (not clipped: clip when
 *     converting to pixels).
 *   - Randomness is counter-based: the starting noise of sample i and the
 *     noise z of step k for sample i depend only on (seed, i, k), so a
 *     sample does not depend on the batch it was drawn in (beyond float
 *     rounding: another batch size changes the GEMM blocking) or on the
 *     thread count.
 */
#ifndef LETHE_DIFFUSION_H
#define LETHE_DIFFUSION_H

#include "lethe/clip.h"
#include "lethe/dist.h"
#include "lethe/nn.h"
#include "lethe/ops.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- noise schedules ------------------------------------------------------ */

typedef struct {
    char name[24];  /* "linear" or "scaled_linear" */
    int T;
    float *beta;    /* [T] */
    float *abar;    /* [T] */
} lt_dm_schedule;

/* The schedule called name with T steps (its default beta range).
 * LT_ERR_ARG for an unknown name or T outside [2, 100000]. */
LT_API lt_status lt_dm_schedule_make(const char *name, int T,
                                     lt_dm_schedule *out);
LT_API void lt_dm_schedule_free(lt_dm_schedule *s);
/* The schedule a new model of this kind trains on unless told otherwise:
 * "linear" for class models (SalUn's DDPM), "scaled_linear" for text
 * models (Stable Diffusion's, whose place they take). */
LT_API const char *lt_dm_schedule_default(int unet_kind);

/* ---- the UNet ---------------------------------------------------------------- */

#define LT_UNET_MAX_LEVELS 4

/* What the UNet is conditioned on. */
typedef enum {
    LT_UNET_CLASS = 0, /* class ids (lt_unet_forward) */
    LT_UNET_TEXT       /* a text context [N, L, ctx_dim]
                          (lt_unet_forward_text) */
} lt_unet_kind;

typedef struct {
    lt_unet_kind kind;
    int in_ch;                     /* image channels (output has as many) */
    int res;                       /* square image size, divisible by
                                      2^(levels-1) after padding rules */
    int ch;                        /* base width */
    int n_levels;
    int ch_mult[LT_UNET_MAX_LEVELS];
    int blocks;                    /* ResNet blocks per level (down) */
    int n_attn;
    int attn_res[LT_UNET_MAX_LEVELS]; /* resolutions with attention (class:
                                         self-attention; text: a
                                         SpatialTransformer) */
    int groups;                    /* GroupNorm groups */
    float dropout;
    int classes;                   /* class models: number of classes
                                      (text: 0) */
    float cond_drop;               /* null-class / empty-caption probability
                                      in training */
    int heads;                     /* text: heads of every transformer (head
                                      width = the level's width / heads) */
    int ctx_dim;                   /* text: context width (the CLIP width D) */
    int ctx_len;                   /* text: context length L */
} lt_unet_config;

/* A probe on the cross-attentions of a text model (Forget-Me-Not's
 * attention controller): while lt_unet.probe points to one, every attn2
 * computes its probabilities explicitly, p = softmax(Q K^T / sqrt(d))
 * [B, heads, queries, L], and adds the sum of p^2 over the batch, heads,
 * queries and the keys marked in mask [B, L] (1: watch this token) to
 * sumsq, a scalar on the tape (NULL until the first attn2 runs); layers
 * counts the attn2 passes. The forward's output is the same up to
 * rounding. */
typedef struct {
    const float *mask;
    lt_tensor *sumsq;
    int layers;
} lt_unet_probe;

typedef struct {
    char arch[160];   /* the spec it was made from, e.g. "cond:s" */
    lt_unet_config cfg;
    lt_params params;
    int temb_ch;      /* 4 * ch */
    lt_unet_probe *probe; /* text models: see lt_unet_probe (NULL) */
} lt_unet;

/* The presets: "cond:xs" (ch 16, 1 block per level) and "cond:s" (ch 32,
 * 1 block per level); both 28x28x1 Fashion-MNIST inputs, ch_mult 1,2,2
 * (28 -> 14 -> 7), attention at 7x7 and in the middle, dropout 0.1, 10
 * classes. "text:xs" (ch 16) and "text:s" (ch 32): 32x32x3 inputs,
 * ch_mult 1,2,2 (32 -> 16 -> 8), 1 block per level, a SpatialTransformer
 * of 4 heads at 16x16, 8x8 and in the middle, context 16 x 64 (CLIP
 * "tiny"), dropout 0, empty-caption dropout 0.1; GroupNorm 8 groups in
 * both families. A preset may be followed by overrides,
 * "cond:s,ch=48,blocks=2,dropout=0", "text:xs,ctx_dim=32,heads=2" (keys:
 * ch, blocks, mult=1-2-2, attn=16-8|none, groups, dropout, cond_drop,
 * res, in; class models also classes; text models heads, ctx_dim,
 * ctx_len). LT_ERR_ARG names what is wrong. */
LT_API lt_status lt_unet_config_parse(const char *spec, lt_unet_config *out);
/* The accepted preset names, comma-separated ("cond:xs, cond:s, text:xs,
 * text:s"). */
LT_API const char *lt_unet_names(void);

/* Declare and allocate the parameters (zero; call lt_unet_init). */
LT_API lt_status lt_unet_create(const char *spec, lt_unet **out);
LT_API void lt_unet_free(lt_unet *u);
/* PyTorch's default initialisation (Linear and Conv weights and biases
 * U(+-1/sqrt(fan_in)), GroupNorm and LayerNorm 1 and 0, embeddings
 * N(0, 1)), seeded; text models then zero what Stable Diffusion zeroes
 * (zero_module): every ResNet block's conv2, every transformer's
 * proj_out and the output conv out.2. */
LT_API void lt_unet_init(lt_unet *u, uint64_t seed);
/* Class models. x [N, C, R, R], t [N] timesteps (as floats, as the
 * official code passes them), cls [N] class ids in [0, classes) or -1 for
 * the null class. training enables dropout (the caller draws the
 * null-class dropout and passes -1). Returns the predicted noise
 * [N, C, R, R]. LT_ERR_ARG for a text model. */
LT_API lt_tensor *lt_unet_forward(lt_ctx *c, lt_unet *u, lt_tensor *x,
                                  const float *t, const int32_t *cls,
                                  bool training);
/* Text models: as lt_unet_forward with the text context ctx [N, ctx_len,
 * ctx_dim] (the CLIP hidden states; the empty caption's for the null
 * condition) in place of classes. ctx is an ordinary tensor: when it
 * requires a gradient (soft prompts, CLIP embeddings on the tape),
 * backward reaches it through every cross-attention. LT_ERR_SHAPE naming
 * ctx for another shape, LT_ERR_ARG for a class model. */
LT_API lt_tensor *lt_unet_forward_text(lt_ctx *c, lt_unet *u, lt_tensor *x,
                                       const float *t, lt_tensor *ctx,
                                       bool training);
/* Arena bytes one training step of batch n needs (forward + backward). */
LT_API size_t lt_unet_arena_bytes(const lt_unet *u, int n, bool training);

/* Save with "lethe.dm.arch", "lethe.dm.schedule" and "lethe.dm.T" in the
 * metadata (plus the caller's pairs); atomic. Load rebuilds the
 * architecture and, when s is not NULL, the schedule (free it with
 * lt_dm_schedule_free) from the metadata. */
LT_API lt_status lt_unet_save(const lt_unet *u, const char *path,
                              const lt_dm_schedule *s,
                              const char *const *meta, int n_meta);
LT_API lt_status lt_unet_load(const char *path, lt_unet **out,
                              lt_dm_schedule *s);

/* ---- loss ----------------------------------------------------------------------- */

/* Antithetic timesteps: t[0..n/2+1) uniform in [0, T) from rng, then
 * T-1-t of those, the first n kept. */
LT_API void lt_dm_timesteps(lt_rng *rng, int T, int n, int32_t *t);
/* x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) e, per sample (a plain tensor,
 * no gradient). x0 and e [N, ...], t [N]. */
LT_API lt_tensor *lt_dm_q_sample(lt_ctx *c, const lt_dm_schedule *s,
                                 const lt_tensor *x0, const lt_tensor *e,
                                 const int32_t *t);
/* The official epsilon loss: mean over the batch of the pixel-summed
 * (e - unet(x_t, t, cls))^2. Returns a scalar [1]. */
LT_API lt_tensor *lt_dm_loss(lt_ctx *c, lt_unet *u, const lt_dm_schedule *s,
                             const lt_tensor *x0, const lt_tensor *e,
                             const int32_t *t, const int32_t *cls,
                             bool training);
/* The same loss for a text model with contexts ctx [N, L, ctx_dim]
 * (gradients reach ctx when it requires one). */
LT_API lt_tensor *lt_dm_loss_text(lt_ctx *c, lt_unet *u,
                                  const lt_dm_schedule *s,
                                  const lt_tensor *x0, const lt_tensor *e,
                                  const int32_t *t, lt_tensor *ctx,
                                  bool training);

/* ---- guidance and sampling ---------------------------------------------------- */

typedef enum { LT_GUIDE_SALUN = 0, LT_GUIDE_SD } lt_guidance_kind;

typedef struct {
    int steps;                 /* sampling steps (T must be divisible) */
    float eta;                 /* 1: DDPM-like (official default), 0: DDIM */
    lt_guidance_kind guidance;
    float w;                   /* salun: w (2); sd: s */
    uint64_t seed;
    int batch;                 /* samples per forward pass */
} lt_dm_sample_config;

/* Defaults of the official DDPM sampler: 1000 steps, eta 1, salun w 2,
 * seed 1234, batch 100. */
LT_API lt_dm_sample_config lt_dm_sample_defaults(void);
/* Stable Diffusion's txt2img defaults for text models: DDIM 50 steps,
 * eta 0, guidance sd s = 7.5, seed 1234, batch 100. */
LT_API lt_dm_sample_config lt_dm_sample_defaults_text(void);
/* "salun" or "sd" -> kind; LT_ERR_ARG otherwise. */
LT_API lt_status lt_guidance_parse(const char *name, lt_guidance_kind *out);
LT_API const char *lt_guidance_name(lt_guidance_kind k);
/* Describe the sampler in one line ("DDIM-50 (eta 0), guidance salun w=2"). */
LT_API void lt_dm_sample_describe(const lt_dm_sample_config *cfg, int T,
                                  char *buf, size_t n);

/* Progress of a sampling run: samples done of total. */
typedef void (*lt_dm_progress_fn)(int64_t done, int64_t total, void *ud);

/* Draw n samples of classes cls[n] (-1: unconditional) into out
 * [n, C, R, R] (values in about [-1, 1]). Sample i is a function of
 * (seed, i) and the model only. Errors: bad config (steps not dividing T,
 * guidance not finite), LT_ERR_NAN if a sample becomes non-finite. The
 * same seed, batch and model give bit-identical samples. */
LT_API lt_status lt_dm_sample(lt_unet *u, const lt_dm_schedule *s,
                              const lt_dm_sample_config *cfg, int64_t n,
                              const int32_t *cls, float *out,
                              lt_dm_progress_fn progress, void *ud);
/* Samples first .. first + n - 1 of such a run (classes cls[n], into
 * out [n, C, R, R]): each one's noise is that sample's, so the run cut
 * into ranges gives the same samples (the same bits when every range
 * starts at a multiple of cfg->batch, as the batches are then the
 * same). */
LT_API lt_status lt_dm_sample_range(lt_unet *u, const lt_dm_schedule *s,
                                    const lt_dm_sample_config *cfg,
                                    int64_t first, int64_t n,
                                    const int32_t *cls, float *out,
                                    lt_dm_progress_fn progress, void *ud);
/* The reverse chain from given starting noise: x [n, C, R, R] holds x_T
 * on entry and the samples on return (step noise, when eta > 0, drawn as
 * lt_dm_sample draws it for samples 0..n-1). */
LT_API lt_status lt_dm_denoise(lt_unet *u, const lt_dm_schedule *s,
                               const lt_dm_sample_config *cfg, int64_t n,
                               const int32_t *cls, float *x);
/* The guided noise prediction for one batch (what the sampler uses). */
LT_API lt_tensor *lt_dm_guided_eps(lt_ctx *c, lt_unet *u, lt_tensor *x,
                                   const float *t, const int32_t *cls,
                                   lt_guidance_kind kind, float w);

/* Text models. The null condition is the empty caption's context
 * null_ctx [L, ctx_dim] (lt_dm_empty_context), shared by every sample. */

/* The guided noise prediction with contexts ctx [N, L, ctx_dim]; both
 * conventions as lt_dm_guided_eps (one batched pass of 2N when the
 * unconditional term is needed). Gradients reach ctx and null_ctx when
 * they require them. */
LT_API lt_tensor *lt_dm_guided_eps_text(lt_ctx *c, lt_unet *u, lt_tensor *x,
                                        const float *t, lt_tensor *ctx,
                                        lt_tensor *null_ctx,
                                        lt_guidance_kind kind, float w);
/* Draw n samples for the contexts ctx [n, L, ctx_dim] (one per sample;
 * repeat a prompt's rows for several samples of it) into out
 * [n, C, R, R], with lt_dm_sample's noise: sample i depends on (seed, i),
 * its context and the model only. */
LT_API lt_status lt_dm_sample_text(lt_unet *u, const lt_dm_schedule *s,
                                   const lt_dm_sample_config *cfg, int64_t n,
                                   const float *ctx, const float *null_ctx,
                                   float *out, lt_dm_progress_fn progress,
                                   void *ud);
/* The reverse chain from given starting noise x [n, C, R, R] (see
 * lt_dm_denoise). */
LT_API lt_status lt_dm_denoise_text(lt_unet *u, const lt_dm_schedule *s,
                                    const lt_dm_sample_config *cfg, int64_t n,
                                    const float *ctx, const float *null_ctx,
                                    float *x);
/* The empty caption's context: clip's hidden states of <bos> <eos>
 * <pad>... (L = clip's context length) into out [L, D], computed without
 * a tape. */
LT_API lt_status lt_dm_empty_context(lt_clip *clip, float *out);

/* ---- training (src/models/dm_train.c) ------------------------------------- */

/* The official recipe (Adam lr 2e-4, betas 0.9/0.999, eps 1e-8, no weight
 * decay, gradient norm clipped to 1, EMA of the weights, 10% null-class
 * dropout from the model config) on a batch of images in [-1, 1]. */
typedef struct {
    int64_t steps;       /* total optimizer steps */
    int batch;           /* 64 */
    float lr;            /* 2e-4 */
    float clip;          /* 1.0; <= 0: no clipping */
    float ema;           /* 0.999, warmed up (lt_dm_ema_decay); the
                            official code: 0.9999 without warm-up over 800k
                            steps. Lethe's runs are thousands of steps,
                            where a plain 0.999 average would still hold
                            0.999^k of the random initial weights (47%
                            after 750 steps: noise samples) */
    int64_t ckpt_every;  /* save model + state every K steps (500) */
    uint64_t seed;       /* data order, timesteps, noise, dropout (1) */
    bool hflip;          /* random horizontal flips (off) */
    /* data parallelism (docs/mpi.md): LT_DIST_OFF, or every step's batch
     * cut into `shards` (0: one per rank) summed by lt_dp; rank 0 alone
     * writes the model and the state file */
    lt_dist_mode dist;
    int shards;
    bool dp_overlap;     /* sum the gradient in buckets during backward
                            (lt_dp_enable_overlap in lethe/train.h) */
    lt_precision precision; /* of the run's matrix products (core.h): 0,
                               LT_PRECISION_DEFAULT, the process default */
    /* extra metadata pairs (meta[2i] key, meta[2i+1] value) for the model
     * file, e.g. the command line and commit (at most 8 pairs; none) */
    const char *const *meta;
    int n_meta;
} lt_dm_train_config;

LT_API lt_dm_train_config lt_dm_train_defaults(void);

typedef struct {
    int64_t step, steps;  /* steps done, total */
    float loss;           /* this step's loss */
    double grad_norm;     /* before clipping */
    double seconds;       /* since this run (not the resumed one) began */
    int64_t resumed_from; /* step the run resumed from (0: fresh) */
    bool saved;           /* a checkpoint was written after this step */
} lt_dm_train_event;

typedef void (*lt_dm_train_fn)(const lt_dm_train_event *e, void *ud);

/* The EMA decay used after step (0-based) steps: min(ema, (1 + step) /
 * (10 + step)), the warm-up of TensorFlow's ExponentialMovingAverage, so
 * early averages forget the initial weights quickly. */
LT_API float lt_dm_ema_decay(float ema, int64_t step);

/* The path of the training state kept beside out: "<out>.state". */
LT_API void lt_dm_state_path(const char *out, char *buf, size_t n);

/* Train u on x [n, C, R, R] (values in [-1, 1]) with labels y [n] for
 * cfg->steps steps. Every ckpt_every steps and at the end, the EMA
 * weights go to out (an lt_unet_save file: what sampling uses) and the
 * raw weights, EMA, Adam moments and step go to lt_dm_state_path(out),
 * both atomically. With resume, training continues from that state if it
 * exists (its architecture, schedule, batch, seed and learning rate must
 * equal this run's; the data order, noise and dropout of step k are
 * functions of (seed, k), so a resumed run equals an uninterrupted one);
 * without it, or when no state exists, from u as given. A non-finite
 * loss or gradient stops with LT_ERR_NAN naming the step (nothing of that
 * step is saved). */
LT_API lt_status lt_dm_train(lt_unet *u, const lt_dm_schedule *s,
                             const float *x, const int32_t *y, int64_t n,
                             const lt_dm_train_config *cfg, const char *out,
                             bool resume, lt_dm_train_fn cb, void *ud);

/* One text-model training batch, filled by the caller's callback into the
 * loop's buffers: the images x0 [B, C, R, R] in [-1, 1] and EITHER the
 * contexts ctx [B, L, ctx_dim] OR the caption token ids [B, L] (then set
 * have_ids: the source's frozen CLIP encodes them). */
typedef struct {
    float *x0;
    float *ctx;
    int32_t *ids;
    bool have_ids;
} lt_dm_text_batch;

/* Fill the batch of step (0-based) for seed; the same (step, seed) must
 * give the same batch, so a resumed run sees what an uninterrupted one
 * saw. A status other than LT_OK stops training with that error. */
typedef lt_status (*lt_dm_text_batch_fn)(void *ud, int64_t step,
                                         uint64_t seed, int B,
                                         lt_dm_text_batch *out);

/* Where a text model's training data comes from. */
typedef struct {
    lt_dm_text_batch_fn batch; /* required */
    void *ud;                  /* passed to batch */
    lt_clip *clip;             /* frozen text encoder for batches of ids
                                  (never updated); may be NULL when the
                                  callback fills contexts */
    const float *null_ctx;     /* the empty caption's context [L, ctx_dim];
                                  NULL: lt_dm_empty_context(clip) */
} lt_dm_text_source;

/* lt_dm_train for a text model: the same recipe, state file and
 * resume-equals-uninterrupted property, with each step's images and
 * captions from src and the empty caption (src's null context) in place
 * of a sample's context with probability cond_drop (10%). The CLIP, if
 * any, must produce u's context (width ctx_dim, length ctx_len). */
LT_API lt_status lt_dm_train_text(lt_unet *u, const lt_dm_schedule *s,
                                  const lt_dm_text_source *src,
                                  const lt_dm_train_config *cfg,
                                  const char *out, bool resume,
                                  lt_dm_train_fn cb, void *ud);

#ifdef __cplusplus
}
#endif
#endif
