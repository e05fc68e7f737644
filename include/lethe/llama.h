/*
 * lethe/llama.h - a Llama-family decoder-only language model (models
 * layer): token embeddings, N x [RMSNorm -> causal self-attention with
 * rotate-half RoPE and optional grouped KV heads -> residual -> RMSNorm ->
 * SwiGLU MLP -> residual], a final RMSNorm and an LM head (or the
 * embedding matrix, tied). Parameter names, layouts ([out, in] as
 * torch.nn.Linear) and numerics are Hugging Face's LlamaForCausalLM, so a
 * Hugging Face checkpoint (config.json + model.safetensors, or shards with
 * model.safetensors.index.json) loads unchanged and computes what
 * transformers computes. Two more Hugging Face families share the code:
 * Mistral (model_type "mistral", Zephyr: a causal sliding window, see
 * lt_attention_window for its exact extent) and Qwen2 (model_type
 * "qwen2": q_proj, k_proj and v_proj carry biases, o_proj does not).
 *
 * Token ids, labels and masks are int32 / uint8 arrays of B*T entries
 * (row b, position t at b*T + t). Labels follow Hugging Face: labels[b, t]
 * is the token that position t should be (usually the id itself); the
 * logits at position t are scored against labels[b, t+1]; a label equal to
 * LT_LLAMA_IGNORE (or a position whose mask is 0) is not scored. Padded
 * batches are right-padded: causal attention never lets a real token see
 * padding, so padding only needs to be masked out of the loss.
 */
#ifndef LETHE_LLAMA_H
#define LETHE_LLAMA_H

#include "lethe/nn.h"
#include "lethe/ops.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LT_LLAMA_IGNORE (-100)

/* ---- configuration (src/models/llama_io.c) ------------------------------- */

/* The Hugging Face model_type of a config (read and written as such). */
typedef enum {
    LT_LLAMA_FAMILY_LLAMA = 0, /* "llama", LlamaForCausalLM */
    LT_LLAMA_FAMILY_MISTRAL,   /* "mistral": optional sliding window */
    LT_LLAMA_FAMILY_QWEN2      /* "qwen2": q/k/v projection biases */
} lt_llama_family;

typedef struct {
    int vocab_size;
    int hidden_size;          /* d */
    int n_layers;             /* num_hidden_layers */
    int n_heads;              /* num_attention_heads */
    int n_kv_heads;           /* num_key_value_heads (grouped KV) */
    int head_dim;             /* hidden_size / n_heads unless stated */
    int intermediate_size;    /* SwiGLU width */
    double rms_norm_eps;
    double rope_theta;
    int max_position_embeddings;
    bool tie_word_embeddings;
    int bos_token_id, eos_token_id; /* -1 when unknown */
    /* Mistral only (0 = none): the query at position p sees the keys at
     * positions p - sliding_window < j <= p, transformers' mask */
    int sliding_window;
    lt_llama_family family;   /* 0: Llama */
} lt_llama_config;

/* Presets for this machine's 2 cores: "micro" (2 layers, d 128, 4 heads,
 * SwiGLU 344, context 256: quick checks and CI), "tiny" (4 layers, d 256, 4 heads,
 * SwiGLU 688, context 256) and "small" (6 layers, d 384, 6 heads, SwiGLU
 * 1024, context 512); vocab_size from the tokenizer. */
LT_API lt_status lt_llama_preset(const char *name, int vocab_size,
                                 lt_llama_config *out);
/* "micro, tiny, small". */
LT_API const char *lt_llama_preset_names(void);
/* "llama", "mistral" or "qwen2" (the config's model_type); NULL if
 * unknown. */
LT_API const char *lt_llama_family_name(lt_llama_family f);
/* LT_ERR_ARG naming the first inconsistent field (what names the source). */
LT_API lt_status lt_llama_config_check(const lt_llama_config *cfg,
                                       const char *what);
/* The number of parameters (floats) a model of cfg holds, computed without
 * allocating (in double: a hostile config cannot overflow it). Loaders
 * compare it with the weight file before lt_llama_create allocates. */
LT_API double lt_llama_config_numel(const lt_llama_config *cfg);

/* Hugging Face config.json: parse text (what names it in errors: a file
 * name), read a file, write a file atomically. model_type "llama",
 * "mistral" or "qwen2" (absent: "llama", or "mistral" when the config
 * sets a sliding_window); a sliding_window key counts for Mistral only,
 * as in transformers. Unsupported features (rope_scaling, Llama's
 * attention or MLP biases, Qwen2's use_sliding_window, an activation other
 * than silu, another model_type) are LT_ERR_FORMAT naming the file and the
 * key; malformed JSON names its line. */
LT_API lt_status lt_llama_config_parse(const char *text, const char *what,
                                       lt_llama_config *out);
LT_API lt_status lt_llama_config_load(const char *path, lt_llama_config *out);
LT_API lt_status lt_llama_config_save(const lt_llama_config *cfg,
                                      const char *path);
/* The config as config.json text (malloc'd, caller frees), or NULL. */
LT_API char *lt_llama_config_json(const lt_llama_config *cfg, bool pretty);

/* ---- the model (src/models/llama.c) -------------------------------------- */

typedef struct {
    lt_tensor *input_norm, *q, *k, *v, *o, *post_norm, *gate, *up, *down;
    /* views of the adjacent q|k|v and gate|up weights (and gradients) as
     * one matrix each, so each block runs one product */
    lt_tensor qkv, gate_up;
    /* Qwen2: the q/k/v biases and their adjacent view (NULL / unused
     * otherwise) */
    lt_tensor *q_bias, *k_bias, *v_bias;
    lt_tensor qkv_bias;
} lt_llama_layer;

typedef struct {
    lt_llama_config cfg;
    lt_params params;  /* Hugging Face names; optimizers use theta/grad */
    lt_tensor *embed, *norm, *lm_head; /* lm_head == embed when tied */
    lt_llama_layer *layers;
    /* the SHA-256 (hex) of the tokenizer file the model was saved with
     * (metadata lethe.tokenizer_sha256, written by lt_lm_save); "" when the
     * checkpoint does not record one (older or foreign checkpoints) */
    char tokenizer_sha256[65];
} lt_llama;

/* Declare and allocate (zeroed) the parameters of cfg. */
LT_API lt_status lt_llama_create(const lt_llama_config *cfg, lt_llama **out);
LT_API void lt_llama_free(lt_llama *m);
/* Hugging Face initialisation, seeded: every Linear and the embedding
 * N(0, 0.02^2), norms 1, biases 0. */
LT_API void lt_llama_init(lt_llama *m, uint64_t seed);
/* A new model with the same config and a copy of the weights (e.g. the
 * frozen reference of NPO); NULL on error. */
LT_API lt_llama *lt_llama_clone(const lt_llama *m);
/* Arena bytes that comfortably hold one step at batch B, length T
 * (training: forward + backward; otherwise forward only). */
LT_API size_t lt_llama_arena_bytes(const lt_llama_config *cfg, int64_t B,
                                   int64_t T, bool training);

/* ids [B, T] -> logits [B, T, vocab]. Records the tape when the context's
 * grad mode is on. */
LT_API lt_tensor *lt_llama_forward(lt_ctx *c, lt_llama *m, const int32_t *ids,
                                   int64_t B, int64_t T);
/* The residual stream after `layer` decoder layers (1..n_layers, no final
 * norm) -> [B, T, d]; the rest of the model is not run (RMU). */
LT_API lt_tensor *lt_llama_hidden(lt_ctx *c, lt_llama *m, const int32_t *ids,
                                  int64_t B, int64_t T, int layer);

/* Shifted targets for lt_seq_nll: targets[b*T + t] = labels[b, t+1] if
 * that label is scored (labels NULL means ids; mask NULL means all on; a
 * mask entry applies to the label position), else LT_LLAMA_IGNORE; the
 * last position of each row is never scored. *n_scored (may be NULL) gets
 * the number of scored positions. LT_ERR_ARG for a label outside
 * [0, vocab) that is not LT_LLAMA_IGNORE. */
LT_API lt_status lt_llama_targets(const lt_llama *m, const int32_t *ids,
                                  const int32_t *labels, const uint8_t *mask,
                                  int64_t B, int64_t T, int32_t *targets,
                                  int64_t *n_scored);
/* From logits [B, T, V]: the summed NLL of the scored tokens of each
 * sequence -> [B] (differentiable). */
LT_API lt_tensor *lt_llama_seq_nll_logits(lt_ctx *c, lt_llama *m,
                                          lt_tensor *logits, const int32_t *ids,
                                          const int32_t *labels,
                                          const uint8_t *mask);
/* Mean next-token cross-entropy over all scored positions -> [1]
 * (Hugging Face's LlamaForCausalLM loss; 0 when nothing is scored). */
LT_API lt_tensor *lt_llama_loss_logits(lt_ctx *c, lt_llama *m,
                                       lt_tensor *logits, const int32_t *ids,
                                       const int32_t *labels,
                                       const uint8_t *mask);
/* Forward + the above. */
LT_API lt_tensor *lt_llama_seq_nll(lt_ctx *c, lt_llama *m, const int32_t *ids,
                                   const int32_t *labels, const uint8_t *mask,
                                   int64_t B, int64_t T);
LT_API lt_tensor *lt_llama_loss(lt_ctx *c, lt_llama *m, const int32_t *ids,
                                const int32_t *labels, const uint8_t *mask,
                                int64_t B, int64_t T);
/* Scoring without a tape: out[b*(T-1) + t] = log p(ids[b, t+1] | ids[b,
 * <= t]) for t + 1 < lengths[b] (lengths NULL: all T), 0 beyond. The
 * forward pass is allocated in c's arena (not reset here). */
LT_API lt_status lt_llama_token_logprobs(lt_ctx *c, lt_llama *m,
                                         const int32_t *ids, int64_t B,
                                         int64_t T, const int32_t *lengths,
                                         float *out);

/* ---- KV cache and generation (src/models/llama_gen.c) --------------------- */

typedef struct lt_llama_cache lt_llama_cache;

/* Keys and values of every layer for batch rows of up to max_len
 * positions. */
LT_API lt_status lt_llama_cache_new(const lt_llama *m, int64_t batch,
                                    int64_t max_len, lt_llama_cache **out);
LT_API void lt_llama_cache_free(lt_llama_cache *kv);
LT_API void lt_llama_cache_reset(lt_llama_cache *kv);
/* Positions already in the cache. */
LT_API int64_t lt_llama_cache_len(const lt_llama_cache *kv);

/* Append ids [B, T] (B = the cache's batch) at positions len..len+T-1 and
 * return their logits [B, T, V] (no tape). Equals the matching rows of
 * lt_llama_forward on the whole sequence. */
LT_API lt_tensor *lt_llama_forward_cached(lt_ctx *c, lt_llama *m,
                                          lt_llama_cache *kv,
                                          const int32_t *ids, int64_t B,
                                          int64_t T);

typedef struct {
    int64_t max_new_tokens;
    float temperature; /* <= 0: greedy (argmax, lowest id on ties) */
    float top_p;       /* nucleus sampling mass in (0, 1]; 1: no cut */
    int32_t eos_id;    /* stop after emitting it; -1: never */
    uint64_t seed;     /* sampling RNG */
} lt_llama_gen_opts;

/* Greedy, 64 new tokens, top_p 1, eos from the config, seed 0. */
LT_API lt_llama_gen_opts lt_llama_gen_defaults(const lt_llama *m);

/* Continue prompt[n_prompt] (n_prompt >= 1): out gets up to
 * o->max_new_tokens new ids (the EOS, when produced, is the last) and
 * *n_out their number. The prompt plus the new tokens must fit in
 * max_position_embeddings. */
LT_API lt_status lt_llama_generate(lt_llama *m, const int32_t *prompt,
                                   int64_t n_prompt, const lt_llama_gen_opts *o,
                                   int32_t *out, int64_t *n_out);

/* ---- checkpoints (src/models/llama_io.c) --------------------------------- */

/* path ending in ".safetensors": one file whose metadata holds the config
 * ("lethe.llama_config") next to Hugging Face's "format": "pt". Any other
 * path: a Hugging Face directory (created if absent) with config.json and
 * model.safetensors, or, when max_shard_bytes > 0 and the weights are
 * larger, model-0000i-of-0000N.safetensors shards and
 * model.safetensors.index.json. Every file is written atomically; a
 * stale file of the other layout is removed after the new one is in
 * place. Tied models store no lm_head.weight. */
LT_API lt_status lt_llama_save(const lt_llama *m, const char *path,
                               int64_t max_shard_bytes);
/* lt_llama_save with n_meta extra metadata pairs (meta[2i] = key,
 * meta[2i+1] = value) in every safetensors file written. */
LT_API lt_status lt_llama_save_meta(const lt_llama *m, const char *path,
                                    int64_t max_shard_bytes,
                                    const char *const *meta, int n_meta);
/* Load a model saved by lt_llama_save or by Hugging Face: a directory
 * (config.json, then model.safetensors or model.safetensors.index.json) or
 * a .safetensors file (config from its metadata, else config.json beside
 * it). F32, F16 and BF16 tensors are accepted. Before the model is
 * allocated, the config's parameter count is checked against the values the
 * weight file holds (a sharded index: its metadata total_size in bytes), so
 * a config that does not fit its weights is refused naming both files. */
LT_API lt_status lt_llama_load(const char *path, lt_llama **out);
/* Copy weights from a directory or .safetensors file into m: every
 * parameter exactly once with the shape the config implies; unknown
 * tensors are errors except Hugging Face's rotary inv_freq buffers and a
 * tied model's lm_head.weight. Errors name the tensor and the file. */
LT_API lt_status lt_llama_load_weights(lt_llama *m, const char *path);

#ifdef __cplusplus
}
#endif
#endif
