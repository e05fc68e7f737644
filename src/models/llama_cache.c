/*
 * llama_cache.c - the KV cache of the Llama LM: the rotated keys and the
 * values of every layer for a batch of sequences, up to max_len positions.
 * The decoder layers (llama.c) append to it; incremental decoding
 * (llama_gen.c) creates, resets and reads its length. It calls nothing
 * else of the model, so both files can depend on it.
 */
#include "llama_internal.h"

#include <stdlib.h>
#include <string.h>

lt_status lt_llama_cache_new(const lt_llama *m, int64_t batch,
                             int64_t max_len, lt_llama_cache **out)
{
    if (!out)
        return lt_set_error(LT_ERR_ARG, "llama_cache_new: out is NULL");
    *out = NULL;
    if (!m || batch < 1 || max_len < 1 ||
        max_len > m->cfg.max_position_embeddings)
        return lt_set_error(LT_ERR_ARG, "llama_cache_new: need a model, batch "
                            ">= 1 and 1 <= max_len <= %d (got %lld, %lld)",
                            m ? m->cfg.max_position_embeddings : 0,
                            (long long)batch, (long long)max_len);
    lt_llama_cache *kv = calloc(1, sizeof *kv);
    if (!kv)
        return lt_set_error(LT_ERR_NOMEM, "llama_cache_new: out of memory");
    kv->batch = batch;
    kv->max_len = max_len;
    kv->n_layers = m->cfg.n_layers;
    kv->n_kv = m->cfg.n_kv_heads;
    kv->head_dim = m->cfg.head_dim;
    size_t n = (size_t)(kv->n_layers * batch * kv->n_kv * max_len *
                        kv->head_dim);
    kv->k = malloc(n * sizeof(float));
    kv->v = malloc(n * sizeof(float));
    if (!kv->k || !kv->v) {
        lt_llama_cache_free(kv);
        return lt_set_error(LT_ERR_NOMEM, "llama_cache_new: out of memory "
                            "for %zu cached floats", 2 * n);
    }
    *out = kv;
    return LT_OK;
}

void lt_llama_cache_free(lt_llama_cache *kv)
{
    if (!kv)
        return;
    free(kv->k);
    free(kv->v);
    free(kv);
}

void lt_llama_cache_reset(lt_llama_cache *kv)
{
    if (kv)
        kv->len = 0;
}

int64_t lt_llama_cache_len(const lt_llama_cache *kv)
{
    return kv ? kv->len : 0;
}

lt_tensor *lt_llama_cache_append(lt_ctx *c, lt_llama_cache *kv, int l,
                                 lt_tensor *x, bool keys)
{
    if (!x)
        return NULL;
    int64_t T = x->shape[2], D = kv->head_dim, rows = kv->batch * kv->n_kv;
    int64_t tot = kv->len + T;
    float *base = (keys ? kv->k : kv->v) + l * rows * kv->max_len * D;
    lt_tensor *all = lt_new4(c, kv->batch, kv->n_kv, tot, D);
    if (!all)
        return NULL;
    for (int64_t r = 0; r < rows; r++) {
        float *slot = base + r * kv->max_len * D;
        memcpy(slot + kv->len * D, x->data + r * T * D,
               (size_t)(T * D) * sizeof(float));
        memcpy(all->data + r * tot * D, slot, (size_t)(tot * D) *
                                                  sizeof(float));
    }
    return all;
}
