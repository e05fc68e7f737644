/*
 * llama_internal.h - pieces shared by the Llama model files (llama.c,
 * llama_ops.c, llama_gen.c, llama_io.c); not part of the public API.
 */
#ifndef LETHE_LLAMA_INTERNAL_H
#define LETHE_LLAMA_INTERNAL_H

#include "lethe/llama.h"

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

/* Whole text file into a malloc'd NUL-terminated buffer. */
lt_status lt_llama_read_text(const char *path, char **out);
/* text plus a newline to path via a fsynced temporary file and rename. */
lt_status lt_llama_write_text(const char *path, const char *text);

#endif
