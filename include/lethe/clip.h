/*
 * lethe/clip.h - a small CLIP-like text encoder with its contrastive
 * pretraining (models layer): the text side of a text-conditioned
 * diffusion UNet, as in Stable Diffusion, scaled down to a closed
 * word-level vocabulary (FashionCanvas captions).
 *
 *   - A word-level tokenizer over a given vocabulary (lt_clip_vocab):
 *     lowercase, words and single punctuation marks, fixed context length
 *     L: <bos> w1 .. wn <eos> <pad> ... Ids 0, 1, 2 are <pad>, <bos>,
 *     <eos> (LT_CLIP_PAD/BOS/EOS); the words follow from id 3 in the order
 *     given. An unknown word is LT_ERR_ARG naming the word; a prompt with
 *     more than L - 2 words is truncated to its first L - 2 (the EOS is
 *     kept last) and reported through a flag.
 *   - The text encoder with Hugging Face CLIPTextModel's structure and
 *     parameter names: token + position embeddings, N pre-LN layers of
 *     causal multi-head self-attention and a quick_gelu MLP, a final
 *     LayerNorm; outputs the last hidden states [B, L, D] (the UNet's
 *     context) and text_projection (no bias) of the state at the EOS.
 *     Entry points from ids and from input embeddings [B, L, D] (soft
 *     one-hot mixtures times the embedding table, adversarial prefixes):
 *     gradients reach the token table and any embeddings given.
 *   - A small CNN image encoder for [B, 3, H, W] images in [-1, 1]:
 *     conv3x3-GroupNorm-SiLU blocks (the first at full resolution, each
 *     later one with stride 2), global average pool, visual_projection.
 *   - CLIP's symmetric InfoNCE loss on L2-normalised embeddings with a
 *     learnable logit scale, and the pretraining loop (AdamW, batches from
 *     a callback, checkpoints that resume exactly).
 * docs/text-encoder.md describes the structure and how it differs from
 * OpenAI's CLIP. Shapes: B batch, L context length, D width, P
 * projection dim.
 */
#ifndef LETHE_CLIP_H
#define LETHE_CLIP_H

#include "lethe/dist.h"
#include "lethe/nn.h"
#include "lethe/ops.h"
#include "lethe/optim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- vocabulary and tokenizer (src/models/clip_vocab.c) ------------------ */

#define LT_CLIP_PAD 0
#define LT_CLIP_BOS 1
#define LT_CLIP_EOS 2
#define LT_CLIP_N_SPECIAL 3 /* the first word has id 3 */

typedef struct lt_clip_vocab lt_clip_vocab;

/* A vocabulary of the n words (ids 3 .. n+2 in this order). Each word is
 * lowercased (ASCII) and must be one token as the tokenizer splits text:
 * a run of word characters (letters, digits, '_', bytes >= 0x80, and '-'
 * or '\'' between two of them) or one ASCII punctuation mark. LT_ERR_ARG
 * naming the word for an empty, split-able, special-looking ("<eos>") or
 * duplicated word. */
LT_API lt_status lt_clip_vocab_new(const char *const *words, int n,
                                   lt_clip_vocab **out);
LT_API void lt_clip_vocab_free(lt_clip_vocab *v);
/* Number of ids: n words + 3 specials. */
LT_API int lt_clip_vocab_size(const lt_clip_vocab *v);
/* The token of id ("<pad>", "<bos>", "<eos>" or a word); NULL if out of
 * range. */
LT_API const char *lt_clip_vocab_token(const lt_clip_vocab *v, int32_t id);
/* The id of a token (specials included), or -1. Case-sensitive: words are
 * stored lowercase. */
LT_API int32_t lt_clip_vocab_id(const lt_clip_vocab *v, const char *token);
/* JSON {"format": "lethe-clip-vocab", "tokens": ["<pad>", "<bos>",
 * "<eos>", word3, ...]} (malloc'd, caller frees), and its parser (what
 * names the source in errors). */
LT_API char *lt_clip_vocab_json(const lt_clip_vocab *v);
LT_API lt_status lt_clip_vocab_parse(const char *json, const char *what,
                                     lt_clip_vocab **out);
/* The JSON above to / from a file (written atomically). */
LT_API lt_status lt_clip_vocab_save(const lt_clip_vocab *v, const char *path);
LT_API lt_status lt_clip_vocab_load(const char *path, lt_clip_vocab **out);

/* text -> ids[L] (L >= 3): <bos>, the words' ids, <eos>, <pad>... Split:
 * whitespace separates; each ASCII punctuation mark is its own token;
 * letters are lowercased. *n_tokens (may be NULL) gets the tokens before
 * the padding (BOS and EOS included); *truncated (may be NULL) whether
 * words were dropped to fit. LT_ERR_ARG naming the word not in the
 * vocabulary (and its position). */
LT_API lt_status lt_clip_tokenize(const lt_clip_vocab *v, const char *text,
                                  int L, int32_t *ids, int *n_tokens,
                                  bool *truncated);
/* n texts -> ids[n * L]; *n_truncated (may be NULL) counts truncations.
 * Errors name the text's index. */
LT_API lt_status lt_clip_tokenize_batch(const lt_clip_vocab *v,
                                        const char *const *texts, int64_t n,
                                        int L, int32_t *ids,
                                        int64_t *n_truncated);
/* The position of the first <eos> in each of the B rows of ids[B, L]
 * (the pooled position); LT_ERR_ARG naming a row without one. */
LT_API lt_status lt_clip_eos_positions(const int32_t *ids, int64_t B, int L,
                                       int32_t *pos);

/* ---- configuration and model (src/models/clip.c) ------------------------- */

#define LT_CLIP_MAX_STAGES 4

typedef struct {
    int vocab_size;        /* ids (words + 3 specials) */
    int context_length;    /* L: max_position_embeddings */
    int width;             /* D: hidden_size */
    int layers;            /* num_hidden_layers */
    int heads;             /* num_attention_heads (D divisible) */
    int mlp;               /* intermediate_size */
    int embed_dim;         /* P: projection_dim of both encoders */
    float ln_eps;          /* layer_norm_eps: 1e-5 */
    int vision_stages;     /* conv blocks: 1 .. LT_CLIP_MAX_STAGES */
    int vision_widths[LT_CLIP_MAX_STAGES]; /* channels of each block */
    int vision_groups;     /* GroupNorm groups (divides every width) */
    float gn_eps;          /* 1e-5 */
} lt_clip_config;

/* Presets (vocab_size from the vocabulary, context 16, ln/gn eps 1e-5):
 *   "xs":    D 32,  2 layers, 4 heads, MLP 128, P 32,  CNN 16-32, GN 4;
 *   "tiny":  D 64,  2 layers, 4 heads, MLP 256, P 64,  CNN 32-64-128, GN 8;
 *   "small": D 128, 4 layers, 4 heads, MLP 512, P 128, CNN 32-64-128, GN 8.
 * LT_ERR_ARG for another name (listing these). */
LT_API lt_status lt_clip_preset(const char *name, int vocab_size,
                                lt_clip_config *out);
/* "xs, tiny, small". */
LT_API const char *lt_clip_preset_names(void);
/* LT_ERR_ARG naming the first bad field. */
LT_API lt_status lt_clip_config_check(const lt_clip_config *cfg);

typedef struct {
    lt_tensor *ln1_w, *ln1_b, *q_w, *q_b, *k_w, *k_b, *v_w, *v_b;
    lt_tensor *o_w, *o_b, *ln2_w, *ln2_b, *fc1_w, *fc1_b, *fc2_w, *fc2_b;
} lt_clip_layer;

typedef struct {
    lt_tensor *conv_w, *conv_b, *norm_w, *norm_b;
} lt_clip_stage;

typedef struct {
    lt_clip_config cfg;
    lt_params params; /* one flat buffer; names below */
    int64_t n_decay;  /* theta[0, n_decay): the tensors of >= 2 dims */
    /* text_model.embeddings.{token,position}_embedding.weight [V|L, D] */
    lt_tensor *tok_emb, *pos_emb;
    lt_clip_layer *layers; /* text_model.encoder.layers.{i}.* */
    lt_tensor *final_ln_w, *final_ln_b; /* text_model.final_layer_norm */
    lt_tensor *text_proj;               /* text_projection.weight [P, D] */
    lt_clip_stage stages[LT_CLIP_MAX_STAGES]; /* vision_model.blocks.{i} */
    lt_tensor *visual_proj;  /* visual_projection.weight [P, C_last] */
    lt_tensor *logit_scale;  /* logit_scale [1] (log of the scale) */
} lt_clip;

/* Declare and allocate (zeroed) the parameters of cfg. */
LT_API lt_status lt_clip_create(const lt_clip_config *cfg, lt_clip **out);
LT_API void lt_clip_free(lt_clip *m);
/* Hugging Face CLIP's initialisation (seeded): token and position
 * embeddings N(0, 0.02^2), q/k/v/out and MLP weights with CLIP's
 * depth-scaled stds, biases 0, LayerNorm 1/0, projections N(0, 1/fan_in);
 * convolutions PyTorch's default U(+-1/sqrt(fan_in)), GroupNorm 1/0;
 * logit_scale ln(1/0.07). */
LT_API void lt_clip_init(lt_clip *m, uint64_t seed);
/* Arena bytes for one step at batch B (training: text + image forward,
 * loss and backward; otherwise the text forward) on h x w images. */
LT_API size_t lt_clip_arena_bytes(const lt_clip_config *cfg, int64_t B,
                                  int64_t h, int64_t w, bool training);

/* ---- forward passes (src/models/clip.c) ---------------------------------- */

/* ids [B, L] -> token embeddings [B, L, D] (no positions). */
LT_API lt_tensor *lt_clip_token_embeds(lt_ctx *c, lt_clip *m,
                                       const int32_t *ids, int64_t B);
/* Input embeddings x [B, L, D] (+ position embeddings inside) -> last
 * hidden states after the final LayerNorm [B, L, D]. */
LT_API lt_tensor *lt_clip_text_hidden(lt_ctx *c, lt_clip *m, lt_tensor *x);
/* ids [B, L] -> last hidden states [B, L, D]. */
LT_API lt_tensor *lt_clip_text_encode(lt_ctx *c, lt_clip *m,
                                      const int32_t *ids, int64_t B);
/* Hidden states [B, L, D] and the pooled positions eos_pos[B] (see
 * lt_clip_eos_positions) -> text_projection(hidden[b, eos_pos[b]]) [B, P]
 * (not normalised). */
LT_API lt_tensor *lt_clip_text_project(lt_ctx *c, lt_clip *m,
                                       lt_tensor *hidden,
                                       const int32_t *eos_pos);
/* Images [B, 3, H, W] in [-1, 1] -> visual_projection(pooled) [B, P]. */
LT_API lt_tensor *lt_clip_image_embeds(lt_ctx *c, lt_clip *m, lt_tensor *x);

/* ---- contrastive loss and retrieval (src/models/clip.c) ------------------- */

/* CLIP's symmetric InfoNCE: t [B, P] text and v [B, P] image embeddings
 * (any scale; L2-normalised inside), logits = exp(logit_scale) * t v^T,
 * loss = (CE(logits, arange) + CE(logits^T, arange)) / 2 -> [1].
 * logits_out (may be NULL) gets the [B, B] text x image logits tensor. */
LT_API lt_tensor *lt_clip_loss(lt_ctx *c, lt_clip *m, lt_tensor *t,
                               lt_tensor *v, lt_tensor **logits_out);
/* Top-1 retrieval accuracies (0..1) in a batch from its text x image
 * similarities sim[B, B]: text i retrieves argmax_j sim[i, j], image j
 * argmax_i sim[i, j]. A hit is the pair's own partner, or, when ids[B, L]
 * is given, any partner whose caption ids are identical (duplicate
 * captions are indistinguishable). t2i or i2t may be NULL. */
LT_API void lt_clip_retrieval_acc(const float *sim, const int32_t *ids,
                                  int64_t B, int L, double *t2i, double *i2t);
/* The same from the model on images [B, 3, H, W] and ids [B, L] (no
 * tape; the forward is allocated in c's arena, which is not reset). */
LT_API lt_status lt_clip_retrieval(lt_ctx *c, lt_clip *m, lt_tensor *images,
                                   const int32_t *ids, double *t2i,
                                   double *i2t);

/* ---- checkpoints (src/models/clip_io.c) ----------------------------------- */

/* Safetensors with the parameter names above; metadata "lethe.clip_config"
 * (JSON, Hugging Face's key names for the text side) and
 * "lethe.clip_vocab" (the vocabulary JSON; v may be NULL), plus the
 * caller's pairs (meta[2i] key, meta[2i+1] value). Atomic. */
LT_API lt_status lt_clip_save(const lt_clip *m, const lt_clip_vocab *v,
                              const char *path, const char *const *meta,
                              int n_meta);
/* Load a checkpoint written by lt_clip_save: the config comes from its
 * metadata; *vocab (may be NULL) gets its vocabulary (NULL when the file
 * has none). Tensors "optimizer.*" (training state) are skipped; any
 * other unknown or missing tensor is LT_ERR_FORMAT naming it. */
LT_API lt_status lt_clip_load(const char *path, lt_clip **out,
                              lt_clip_vocab **vocab);
LT_API char *lt_clip_config_json(const lt_clip_config *cfg);
LT_API lt_status lt_clip_config_parse(const char *json, const char *what,
                                      lt_clip_config *out);

/* ---- pretraining (src/models/clip_train.c) -------------------------------- */

/* One batch, filled by the caller's callback. images [B, 3, h, w] and
 * ids [B, L] are buffers of the loop; captions[B] pointers start NULL.
 * The callback either points every captions[i] at a caption (kept valid
 * until it returns to the loop, tokenized with the vocabulary) or fills
 * ids and sets have_ids. */
typedef struct {
    float *images;
    int32_t *ids;
    const char **captions;
    bool have_ids;
} lt_clip_batch;

/* Fill batch number index (0-based; the same index and seed must give the
 * same batch, so a resumed run sees the data it would have seen). */
typedef lt_status (*lt_clip_batch_fn)(void *ud, int64_t index, uint64_t seed,
                                      int64_t B, lt_clip_batch *out);

typedef struct {
    int64_t step, steps;   /* optimizer steps done (1-based), in all */
    double loss;           /* loss of this step's batch */
    double t2i, i2t;       /* top-1 retrieval in this batch (0..1) */
    double logit_scale;    /* exp(logit_scale) after the step */
    double lr, grad_norm;  /* grad_norm before clipping */
    double seconds;        /* since the loop started (this run) */
} lt_clip_event;

typedef struct {
    lt_optim_config optim;   /* AdamW (lr, betas, eps, weight decay) */
    int64_t steps;           /* optimizer steps in all */
    int batch;               /* pairs per step */
    int image_h, image_w;    /* 32 x 32 */
    int64_t warmup;          /* linear warm-up, then cosine to min_lr */
    float min_lr;
    float clip;              /* max gradient norm; 0: off */
    uint64_t seed;           /* passed to the batch callback */
    const char *checkpoint;  /* NULL: none; else saved every
                                checkpoint_every steps and at the end */
    int64_t checkpoint_every;
    bool resume;             /* continue from checkpoint when it exists */
    size_t arena_bytes;      /* 0: lt_clip_arena_bytes */
    lt_clip_batch_fn batch_fn;
    void *batch_ud;
    void (*progress)(void *ud, const lt_clip_event *ev); /* may be NULL */
    void *ud;
    /* data parallelism (docs/mpi.md): LT_DIST_OFF, or every batch cut into
     * `shards` (0: one per rank). The InfoNCE loss scores every pair of
     * the batch, so it is taken on the gathered embeddings of all the
     * shards (an unrecorded forward pass each, one all-gather), and each
     * shard backpropagates its slice of the loss's embedding gradient
     * (lt_dp sums them); one extra forward pass per shard. */
    lt_dist_mode dist;
    int shards;
} lt_clip_train_cfg;

typedef struct {
    double first_loss, last_loss;
    double mean_loss_tail;   /* mean loss of the last 10% of steps run */
    double t2i_tail, i2t_tail; /* mean batch retrieval of those steps */
    int64_t steps_run;       /* steps this call ran (after a resume: less) */
    int64_t start_step;      /* steps done before this call (resume) */
    double seconds, seconds_per_step;
    size_t arena_peak;
} lt_clip_report;

/* AdamW lr 5e-4, betas 0.9/0.98, eps 1e-6 (CLIP's), weight decay 0.1;
 * 1000 steps of batch 64, 32 x 32 images, warm-up 50, min_lr 0, clip 1,
 * seed 1, no checkpoint. batch_fn must be set by the caller. */
LT_API lt_clip_train_cfg lt_clip_train_defaults(void);

/* Train m contrastively (text and image encoders and logit_scale, which
 * is clamped to [0, ln 100] after every step as CLIP does). Weight decay
 * applies to the tensors of 2 or more dims only, theta[0, n_decay)
 * (open_clip's rule: gains, biases and logit_scale are exempt). rep (may
 * be NULL) gets the summary. Checkpoints hold the weights, the vocabulary, the AdamW state
 * ("optimizer.exp_avg", "optimizer.exp_avg_sq") and the step, so a
 * resumed run ends with the weights of an uninterrupted one. */
LT_API lt_status lt_clip_pretrain(lt_clip *m, const lt_clip_vocab *v,
                                  const lt_clip_train_cfg *cfg,
                                  lt_clip_report *rep);

#ifdef __cplusplus
}
#endif
#endif
