/*
 * llama_gen.c - incremental decoding for the Llama LM: the cached forward
 * that appends new positions to the KV cache (llama_cache.c; same logits
 * as the full forward), and generation by greedy choice or seeded
 * temperature / top-p sampling.
 */
#include "llama_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

lt_tensor *lt_llama_forward_cached(lt_ctx *c, lt_llama *m,
                                   lt_llama_cache *kv, const int32_t *ids,
                                   int64_t B, int64_t T)
{
    if (!c || !m || !kv) {
        lt_set_error(LT_ERR_ARG, "llama_forward_cached: NULL argument");
        return NULL;
    }
    if (B != kv->batch || kv->n_layers != m->cfg.n_layers ||
        kv->n_kv != m->cfg.n_kv_heads || kv->head_dim != m->cfg.head_dim) {
        lt_set_error(LT_ERR_ARG, "llama_forward_cached: the cache was made "
                     "for another model or batch (batch %lld, got %lld)",
                     (long long)kv->batch, (long long)B);
        return NULL;
    }
    if (T < 1 || kv->len + T > kv->max_len) {
        lt_set_error(LT_ERR_ARG, "llama_forward_cached: %lld new positions "
                     "after %lld do not fit the cache of %lld", (long long)T,
                     (long long)kv->len, (long long)kv->max_len);
        return NULL;
    }
    if (!lt_llama_check_ids(m, ids, B, T, kv->len, "llama_forward_cached"))
        return NULL;
    bool was = lt_set_grad_enabled(c, false);
    lt_tensor *x = lt_llama_layers(c, m, ids, B, T, kv->len, m->cfg.n_layers,
                                   kv);
    lt_tensor *y = lt_llama_head(c, m, x, B, T);
    lt_set_grad_enabled(c, was);
    if (y)
        kv->len += T;
    return y;
}

/* ---- generation ------------------------------------------------------------ */

lt_llama_gen_opts lt_llama_gen_defaults(const lt_llama *m)
{
    lt_llama_gen_opts o = {64, 0.0f, 1.0f, -1, 0};
    if (m)
        o.eos_id = m->cfg.eos_token_id;
    return o;
}

static int32_t argmax(const float *x, int64_t n)
{
    int64_t best = 0;
    for (int64_t i = 1; i < n; i++)
        if (x[i] > x[best])
            best = i;
    return (int32_t)best;
}

typedef struct {
    float p;
    int32_t id;
} gen_prob;

static int prob_desc(const void *a, const void *b)
{
    const gen_prob *x = a, *y = b;
    if (x->p != y->p)
        return x->p < y->p ? 1 : -1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Softmax of logits/temperature, cut to the top-p nucleus, sampled. */
static int32_t sample(const float *x, int64_t n, const lt_llama_gen_opts *o,
                      lt_rng *r, gen_prob *buf)
{
    float mx = x[argmax(x, n)];
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) {
        buf[i].p = expf((x[i] - mx) / o->temperature);
        buf[i].id = (int32_t)i;
        sum += buf[i].p;
    }
    qsort(buf, (size_t)n, sizeof *buf, prob_desc);
    int64_t keep = 0;
    double cum = 0.0, cut = (o->top_p < 1.0f ? o->top_p : 1.0) * sum;
    while (keep < n && (keep == 0 || cum < cut))
        cum += buf[keep++].p;
    double u = lt_rng_uniform(r) * cum, acc = 0.0;
    for (int64_t i = 0; i < keep; i++) {
        acc += buf[i].p;
        if (u < acc)
            return buf[i].id;
    }
    return buf[keep - 1].id;
}

static lt_status gen_check(const lt_llama *m, const int32_t *prompt,
                           int64_t n_prompt, const lt_llama_gen_opts *o,
                           const int32_t *out, const int64_t *n_out)
{
    if (!m || !prompt || !o || !out || !n_out || n_prompt < 1 ||
        o->max_new_tokens < 1)
        return lt_set_error(LT_ERR_ARG, "llama_generate: need a model, a "
                            "prompt of >= 1 token, max_new_tokens >= 1 and "
                            "output buffers");
    if (!(o->top_p > 0.0f && o->top_p <= 1.0f))
        return lt_set_error(LT_ERR_ARG, "llama_generate: top_p %g outside "
                            "(0, 1]", (double)o->top_p);
    if (n_prompt + o->max_new_tokens > m->cfg.max_position_embeddings)
        return lt_set_error(LT_ERR_ARG, "llama_generate: prompt of %lld + "
                            "%lld new tokens exceeds the context of %d",
                            (long long)n_prompt, (long long)o->max_new_tokens,
                            m->cfg.max_position_embeddings);
    return LT_OK;
}

/* The decoding loop once the cache, arena and buffers exist. */
static lt_status gen_loop(lt_ctx *c, lt_llama *m, lt_llama_cache *kv,
                          const int32_t *prompt, int64_t n_prompt,
                          const lt_llama_gen_opts *o, int32_t *out,
                          int64_t *n_out, gen_prob *buf)
{
    int64_t V = m->cfg.vocab_size;
    lt_rng r;
    lt_rng_init(&r, o->seed);
    const int32_t *feed = prompt;
    int64_t n_feed = n_prompt;
    for (int64_t i = 0; i < o->max_new_tokens; i++) {
        lt_ctx_reset(c);
        lt_tensor *y = lt_llama_forward_cached(c, m, kv, feed, 1, n_feed);
        if (!y)
            return lt_last_status();
        const float *last = y->data + (n_feed - 1) * V;
        out[i] = o->temperature > 0.0f ? sample(last, V, o, &r, buf)
                                       : argmax(last, V);
        *n_out = i + 1;
        if (out[i] == o->eos_id)
            break;
        feed = &out[i];
        n_feed = 1;
    }
    return LT_OK;
}

lt_status lt_llama_generate(lt_llama *m, const int32_t *prompt,
                            int64_t n_prompt, const lt_llama_gen_opts *o,
                            int32_t *out, int64_t *n_out)
{
    if (gen_check(m, prompt, n_prompt, o, out, n_out) != LT_OK)
        return lt_last_status();
    *n_out = 0;
    int64_t total = n_prompt + o->max_new_tokens;
    const lt_llama_config *cf = &m->cfg;
    size_t cache_copy = (size_t)(2 * cf->n_layers * cf->n_kv_heads *
                                 cf->head_dim * total) * sizeof(float);
    lt_llama_cache *kv = NULL;
    lt_ctx *c = lt_ctx_new(lt_llama_arena_bytes(cf, 1, total, false) +
                           cache_copy);
    gen_prob *buf = malloc((size_t)cf->vocab_size * sizeof *buf);
    lt_status s = c && buf ? lt_llama_cache_new(m, 1, total, &kv)
                           : lt_set_error(LT_ERR_NOMEM, "llama_generate: out "
                                          "of memory");
    if (s == LT_OK) {
        lt_set_frozen_weights(c, true); /* bf16: weights rounded once */
        s = gen_loop(c, m, kv, prompt, n_prompt, o, out, n_out, buf);
    }
    lt_llama_cache_free(kv);
    lt_ctx_free(c);
    free(buf);
    return s;
}
