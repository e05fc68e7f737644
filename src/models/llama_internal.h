/*
 * llama_internal.h - pieces shared by the Llama model files; not part of
 * the public API. Calls go one way: llama_gen.c and llama_io.c use
 * llama.c; llama.c uses llama_ops.c, llama_cache.c and llama_config.c;
 * llama_config.c uses only the io layer.
 */
#ifndef LETHE_LLAMA_INTERNAL_H
#define LETHE_LLAMA_INTERNAL_H

#include "lethe/llama.h"

/* Whether q/k/v projections carry biases (Qwen2). */
static inline bool lt_llama_qkv_bias(const lt_llama_config *c)
{
    return c->family == LT_LLAMA_FAMILY_QWEN2;
}

/* The KV cache (llama_cache.c). */
struct lt_llama_cache {
    int64_t batch, max_len, len;
    int n_layers;
    int64_t n_kv, head_dim;
    float *k, *v; /* [layer][batch][n_kv][max_len][head_dim] */
};

/* Columns [col0, col0 + nh*hd) of x [B*T, W] -> [B, nh, T, hd], rotated
 * by RoPE at positions pos0.. when rope is set. */
lt_tensor *lt_llama_heads(lt_ctx *c, lt_tensor *x, int64_t B, int64_t T,
                          int64_t col0, int64_t nh, int64_t hd, int64_t pos0,
                          float theta, bool rope);
/* a [B, H, T, hd] -> [B*T, H*hd]. */
lt_tensor *lt_llama_merge_heads(lt_ctx *c, lt_tensor *a);

/* Ids in the vocabulary, B, T >= 1 and pos0 + T within the context;
 * otherwise LT_ERR_ARG (op names the caller) and false. */
bool lt_llama_check_ids(const lt_llama *m, const int32_t *ids, int64_t B,
                        int64_t T, int64_t pos0, const char *op);

/* Embedding and the first n_layers decoder layers -> [B*T, d]; kv NULL
 * for the full forward, else the cache to append positions pos0.. to. */
lt_tensor *lt_llama_layers(lt_ctx *c, lt_llama *m, const int32_t *ids,
                           int64_t B, int64_t T, int64_t pos0, int n_layers,
                           lt_llama_cache *kv);
/* Final norm and LM head: x [B*T, d] -> logits [B, T, V]. */
lt_tensor *lt_llama_head(lt_ctx *c, lt_llama *m, lt_tensor *x, int64_t B,
                         int64_t T);
/* Store the new keys or values x [B, Hkv, T, hd] of layer l at the cache's
 * current length and return all of them so far [B, Hkv, len + T, hd]. */
lt_tensor *lt_llama_cache_append(lt_ctx *c, lt_llama_cache *kv, int l,
                                 lt_tensor *x, bool keys);

#endif
