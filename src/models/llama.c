/*
 * llama.c - the Llama-family decoder LM (also Mistral's sliding window and
 * Qwen2's q/k/v biases): parameter declaration with Hugging Face names,
 * initialisation, the forward pass on token ids (with
 * the autograd tape, for training), the causal-LM losses (mean
 * cross-entropy, per-sequence NLL with label masks) and per-token
 * log-probabilities for scoring. The q|k|v and gate|up projections each
 * run as one product over adjacent weights. Config files are parsed in
 * llama_config.c, checkpoints in llama_io.c, the KV cache and generation
 * in llama_gen.c, the fused head-split/RoPE/merge/SwiGLU ops in
 * llama_ops.c.
 */
#include "lethe/llama.h"
#include "llama_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- declaration ------------------------------------------------------------ */

static void decl(lt_llama *m, int *idx, const char *name, int64_t d0,
                 int64_t d1)
{
    int64_t shape[2] = {d0, d1};
    *idx = lt_params_add(&m->params, name, d1 ? 2 : 1, shape, true);
}

/* Declares every tensor in Hugging Face's order (the order transformers
 * writes and shards them) and records the indices. */
static lt_status llama_declare(lt_llama *m, int *idx)
{
    const lt_llama_config *c = &m->cfg;
    int64_t d = c->hidden_size, f = c->intermediate_size, v = c->vocab_size;
    int64_t qd = (int64_t)c->n_heads * c->head_dim;
    int64_t kd = (int64_t)c->n_kv_heads * c->head_dim;
    char name[LT_PARAM_NAME_MAX];
    int n = 0;
    decl(m, &idx[n++], "model.embed_tokens.weight", v, d);
    for (int l = 0; l < c->n_layers; l++) {
        /* Qwen2's biases follow the three weights (each group adjacent) */
        static const char *const leaf[12] = {
            "self_attn.q_proj.weight", "self_attn.k_proj.weight",
            "self_attn.v_proj.weight", "self_attn.q_proj.bias",
            "self_attn.k_proj.bias", "self_attn.v_proj.bias",
            "self_attn.o_proj.weight", "mlp.gate_proj.weight",
            "mlp.up_proj.weight", "mlp.down_proj.weight",
            "input_layernorm.weight", "post_attention_layernorm.weight"};
        const int64_t rows[12] = {qd, kd, kd, qd, kd, kd, d, f, f, d, d, d};
        const int64_t cols[12] = {d, d, d, 0, 0, 0, qd, d, d, f, 0, 0};
        for (int j = 0; j < 12; j++) {
            if (j >= 3 && j < 6 && !lt_llama_qkv_bias(c))
                continue;
            snprintf(name, sizeof name, "model.layers.%d.%s", l, leaf[j]);
            decl(m, &idx[n++], name, rows[j], cols[j]);
        }
    }
    decl(m, &idx[n++], "model.norm.weight", d, 0);
    if (!c->tie_word_embeddings)
        decl(m, &idx[n++], "lm_head.weight", v, d);
    for (int i = 0; i < n; i++)
        if (idx[i] < 0)
            return lt_last_status();
    return lt_params_finalize(&m->params);
}

double lt_llama_config_numel(const lt_llama_config *c)
{
    /* the tensors llama_declare lists, counted the same way */
    double d = c->hidden_size, f = c->intermediate_size, v = c->vocab_size;
    double qd = (double)c->n_heads * c->head_dim;
    double kd = (double)c->n_kv_heads * c->head_dim;
    double layer = qd * d + 2 * kd * d + d * qd + 3 * f * d + 2 * d +
                   (lt_llama_qkv_bias(c) ? qd + 2 * kd : 0);
    return v * d + (double)c->n_layers * layer + d +
           (c->tie_word_embeddings ? 0 : v * d);
}

/* A view of the adjacent weights a, b (and c, may be NULL) as one
 * matrix [rows(a) + rows(b) + rows(c), cols] (biases: one vector). */
static lt_status fuse(lt_tensor *out, const lt_tensor *a, const lt_tensor *b,
                      const lt_tensor *c)
{
    int64_t rows = a->shape[0] + b->shape[0] + (c ? c->shape[0] : 0);
    bool adj = b->data == a->data + a->numel && b->grad == a->grad + a->numel &&
               (!c || (c->data == b->data + b->numel &&
                       c->grad == b->grad + b->numel));
    if (!adj)
        return lt_set_error(LT_ERR_STATE, "llama_create: projection weights "
                            "are not adjacent in the parameter store");
    return a->ndim == 1 ? lt_tensor_wrap(out, a->data, a->grad, 1, &rows)
                        : lt_tensor_wrap(out, a->data, a->grad, 2,
                                         (int64_t[]){rows, a->shape[1]});
}

/* Points the model's shortcuts at the parameter views. */
static lt_status llama_bind(lt_llama *m, const int *idx)
{
    int n = 0;
    m->embed = lt_params_at(&m->params, idx[n++]);
    for (int l = 0; l < m->cfg.n_layers; l++) {
        lt_llama_layer *L = &m->layers[l];
        lt_tensor **slot[12] = {&L->q, &L->k, &L->v, &L->q_bias, &L->k_bias,
                                &L->v_bias, &L->o, &L->gate, &L->up,
                                &L->down, &L->input_norm, &L->post_norm};
        bool bias = lt_llama_qkv_bias(&m->cfg);
        for (int j = 0; j < 12; j++)
            if (bias || j < 3 || j >= 6)
                *slot[j] = lt_params_at(&m->params, idx[n++]);
        if (fuse(&L->qkv, L->q, L->k, L->v) != LT_OK ||
            fuse(&L->gate_up, L->gate, L->up, NULL) != LT_OK ||
            (bias && fuse(&L->qkv_bias, L->q_bias, L->k_bias, L->v_bias) !=
                         LT_OK))
            return lt_last_status();
    }
    m->norm = lt_params_at(&m->params, idx[n++]);
    m->lm_head = m->cfg.tie_word_embeddings
                     ? m->embed
                     : lt_params_at(&m->params, idx[n++]);
    return LT_OK;
}

lt_status lt_llama_create(const lt_llama_config *cfg, lt_llama **out)
{
    if (!out)
        return lt_set_error(LT_ERR_ARG, "llama_create: out is NULL");
    *out = NULL;
    if (!cfg)
        return lt_set_error(LT_ERR_ARG, "llama_create: config is NULL");
    if (lt_llama_config_check(cfg, "llama config") != LT_OK)
        return lt_last_status();
    lt_llama *m = calloc(1, sizeof *m);
    int *idx = calloc((size_t)(12 * cfg->n_layers + 3), sizeof *idx);
    if (m)
        m->layers = calloc((size_t)cfg->n_layers, sizeof *m->layers);
    if (!m || !idx || !m->layers) {
        free(idx);
        lt_llama_free(m);
        return lt_set_error(LT_ERR_NOMEM, "llama_create: out of memory");
    }
    m->cfg = *cfg;
    lt_params_init(&m->params);
    lt_status s = llama_declare(m, idx);
    if (s == LT_OK)
        s = llama_bind(m, idx);
    free(idx);
    if (s != LT_OK) {
        lt_llama_free(m);
        return s;
    }
    *out = m;
    return LT_OK;
}

void lt_llama_free(lt_llama *m)
{
    if (!m)
        return;
    lt_params_free(&m->params);
    free(m->layers);
    free(m);
}

void lt_llama_init(lt_llama *m, uint64_t seed)
{
    lt_rng r;
    lt_rng_init(&r, seed);
    for (int i = 0; i < m->params.count; i++) {
        lt_tensor *t = &m->params.p[i].t;
        const char *nm = m->params.p[i].name;
        size_t len = strlen(nm);
        bool bias = len > 5 && !strcmp(nm + len - 5, ".bias");
        if (t->ndim == 1)
            for (int64_t j = 0; j < t->numel; j++)
                t->data[j] = bias ? 0.0f : 1.0f;
        else
            lt_rng_fill_normal(&r, t->data, t->numel, 0.0f, 0.02f);
    }
    lt_params_zero_grad(&m->params);
}

lt_llama *lt_llama_clone(const lt_llama *m)
{
    lt_llama *c = NULL;
    if (!m) {
        lt_set_error(LT_ERR_ARG, "llama_clone: model is NULL");
        return NULL;
    }
    if (lt_llama_create(&m->cfg, &c) != LT_OK)
        return NULL;
    memcpy(c->params.theta, m->params.theta,
           (size_t)m->params.n_total * sizeof(float));
    memcpy(c->tokenizer_sha256, m->tokenizer_sha256,
           sizeof c->tokenizer_sha256);
    return c;
}

size_t lt_llama_arena_bytes(const lt_llama_config *cfg, int64_t B, int64_t T,
                            bool training)
{
    int64_t d = cfg->hidden_size, f = cfg->intermediate_size;
    int64_t qd = (int64_t)cfg->n_heads * cfg->head_dim;
    int64_t kd = (int64_t)cfg->n_kv_heads * cfg->head_dim;
    int64_t per_layer = 8 * d + 3 * qd + 4 * kd + 4 * f + cfg->n_heads + 4;
    int64_t rows = B * T;
    int64_t fwd = rows * (cfg->n_layers * per_layer + 3 * d +
                          2 * (int64_t)cfg->vocab_size + 4);
    int64_t floats = training ? fwd + fwd / 2 : fwd; /* measured: ~1.3x */
    /* attention scratch, RoPE tables, tape nodes, alignment: a margin */
    int64_t extra = 64 * 2 * T * lt_num_threads() + 4 * T * cfg->head_dim +
                    (int64_t)cfg->n_layers * 40 * 1024;
    return (size_t)(4 * (floats + floats / 8 + extra)) + ((size_t)4 << 20);
}

/* ---- forward ------------------------------------------------------------------ */

bool lt_llama_check_ids(const lt_llama *m, const int32_t *ids, int64_t B,
                        int64_t T, int64_t pos0, const char *op)
{
    const lt_llama_config *c = &m->cfg;
    if (!ids || B < 1 || T < 1) {
        lt_set_error(LT_ERR_ARG, "%s: need ids and B, T >= 1 (got B %lld, "
                     "T %lld)", op, (long long)B, (long long)T);
        return false;
    }
    if (pos0 + T > c->max_position_embeddings) {
        lt_set_error(LT_ERR_ARG, "%s: %lld positions exceed the model's "
                     "context of %d", op, (long long)(pos0 + T),
                     c->max_position_embeddings);
        return false;
    }
    for (int64_t i = 0; i < B * T; i++)
        if (ids[i] < 0 || ids[i] >= c->vocab_size) {
            lt_set_error(LT_ERR_ARG, "%s: token id %d at [%lld, %lld] is "
                         "outside the vocabulary [0, %d)", op, ids[i],
                         (long long)(i / T), (long long)(i % T),
                         c->vocab_size);
            return false;
        }
    return true;
}

/* Attention block on h [B*T, d] -> [B*T, d] (no residual). kv: NULL for
 * the full forward, else the cache to append to and read from. */
static lt_tensor *attn_block(lt_ctx *c, lt_llama *m, int l, lt_tensor *h,
                             int64_t B, int64_t T, int64_t pos0,
                             lt_llama_cache *kv)
{
    const lt_llama_config *cf = &m->cfg;
    lt_llama_layer *L = &m->layers[l];
    float theta = (float)cf->rope_theta;
    int64_t hd = cf->head_dim, qd = cf->n_heads * hd, kd = cf->n_kv_heads * hd;
    lt_tensor *p = lt_linear(c, h, &L->qkv,
                             lt_llama_qkv_bias(cf) ? &L->qkv_bias : NULL);
    lt_tensor *q = lt_llama_heads(c, p, B, T, 0, cf->n_heads, hd, pos0, theta,
                                  true);
    lt_tensor *k = lt_llama_heads(c, p, B, T, qd, cf->n_kv_heads, hd, pos0,
                                  theta, true);
    lt_tensor *v = lt_llama_heads(c, p, B, T, qd + kd, cf->n_kv_heads, hd,
                                  pos0, theta, false);
    if (kv) {
        k = lt_llama_cache_append(c, kv, l, k, true);
        v = lt_llama_cache_append(c, kv, l, v, false);
    }
    lt_tensor *a = lt_attention_window(c, q, k, v, true, 0.0f,
                                       cf->sliding_window);
    return lt_linear(c, lt_llama_merge_heads(c, a), L->o, NULL);
}

static lt_tensor *mlp_block(lt_ctx *c, lt_llama_layer *L, lt_tensor *h)
{
    lt_tensor *gu = lt_linear(c, h, &L->gate_up, NULL);
    return lt_linear(c, lt_swiglu(c, gu), L->down, NULL);
}

lt_tensor *lt_llama_layers(lt_ctx *c, lt_llama *m, const int32_t *ids,
                           int64_t B, int64_t T, int64_t pos0, int n_layers,
                           lt_llama_cache *kv)
{
    float eps = (float)m->cfg.rms_norm_eps;
    lt_tensor *x = lt_embedding(c, m->embed, ids, B * T);
    for (int l = 0; l < n_layers && x; l++) {
        lt_llama_layer *L = &m->layers[l];
        lt_tensor *h = lt_rms_norm(c, x, L->input_norm, eps);
        x = lt_add(c, x, attn_block(c, m, l, h, B, T, pos0, kv));
        h = lt_rms_norm(c, x, L->post_norm, eps);
        x = lt_add(c, x, mlp_block(c, L, h));
    }
    return x;
}

lt_tensor *lt_llama_head(lt_ctx *c, lt_llama *m, lt_tensor *x, int64_t B,
                         int64_t T)
{
    lt_tensor *h = lt_rms_norm(c, x, m->norm, (float)m->cfg.rms_norm_eps);
    lt_tensor *y = lt_linear(c, h, m->lm_head, NULL);
    return lt_reshape(c, y, 3, (int64_t[]){B, T, m->cfg.vocab_size});
}

lt_tensor *lt_llama_forward(lt_ctx *c, lt_llama *m, const int32_t *ids,
                            int64_t B, int64_t T)
{
    if (!c || !m) {
        lt_set_error(LT_ERR_ARG, "llama_forward: context or model is NULL");
        return NULL;
    }
    if (!lt_llama_check_ids(m, ids, B, T, 0, "llama_forward"))
        return NULL;
    lt_tensor *x = lt_llama_layers(c, m, ids, B, T, 0, m->cfg.n_layers, NULL);
    return lt_llama_head(c, m, x, B, T);
}

lt_tensor *lt_llama_hidden(lt_ctx *c, lt_llama *m, const int32_t *ids,
                           int64_t B, int64_t T, int layer)
{
    if (!c || !m) {
        lt_set_error(LT_ERR_ARG, "llama_hidden: context or model is NULL");
        return NULL;
    }
    if (layer < 1 || layer > m->cfg.n_layers) {
        lt_set_error(LT_ERR_ARG, "llama_hidden: layer %d outside [1, %d]",
                     layer, m->cfg.n_layers);
        return NULL;
    }
    if (!lt_llama_check_ids(m, ids, B, T, 0, "llama_hidden"))
        return NULL;
    lt_tensor *x = lt_llama_layers(c, m, ids, B, T, 0, layer, NULL);
    return lt_reshape(c, x, 3, (int64_t[]){B, T, m->cfg.hidden_size});
}

/* ---- losses ------------------------------------------------------------------- */

lt_status lt_llama_targets(const lt_llama *m, const int32_t *ids,
                           const int32_t *labels, const uint8_t *mask,
                           int64_t B, int64_t T, int32_t *targets,
                           int64_t *n_scored)
{
    if (!m || !ids || !targets || B < 1 || T < 1)
        return lt_set_error(LT_ERR_ARG, "llama_targets: missing argument or "
                            "empty batch");
    const int32_t *lab = labels ? labels : ids;
    int64_t n = 0;
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < T; t++) {
            int64_t i = b * T + t, nx = i + 1;
            int32_t y = t + 1 < T ? lab[nx] : LT_LLAMA_IGNORE;
            if (t + 1 < T && mask && !mask[nx])
                y = LT_LLAMA_IGNORE;
            if (y != LT_LLAMA_IGNORE &&
                (y < 0 || y >= m->cfg.vocab_size))
                return lt_set_error(LT_ERR_ARG, "llama_targets: label %d at "
                                    "[%lld, %lld] is outside [0, %d) and is "
                                    "not the ignore label %d", y,
                                    (long long)b, (long long)(t + 1),
                                    m->cfg.vocab_size, LT_LLAMA_IGNORE);
            targets[i] = y;
            n += y != LT_LLAMA_IGNORE;
        }
    if (n_scored)
        *n_scored = n;
    return LT_OK;
}

/* Per-sequence NLL of logits [B, T, V]; *n gets the scored count. */
static lt_tensor *seq_nll_count(lt_ctx *c, lt_llama *m, lt_tensor *logits,
                                const int32_t *ids, const int32_t *labels,
                                const uint8_t *mask, int64_t *n)
{
    if (!logits)
        return NULL;
    if (!m || logits->ndim != 3 || logits->shape[2] != m->cfg.vocab_size) {
        lt_set_error(LT_ERR_SHAPE, "llama loss: logits must be [B, T, %d]",
                     m ? m->cfg.vocab_size : 0);
        return NULL;
    }
    int64_t B = logits->shape[0], T = logits->shape[1];
    int32_t *tg = lt_alloc(c, (size_t)(B * T) * sizeof *tg);
    if (!tg || lt_llama_targets(m, ids, labels, mask, B, T, tg, n) != LT_OK)
        return NULL;
    return lt_seq_nll(c, logits, tg, LT_LLAMA_IGNORE);
}

lt_tensor *lt_llama_seq_nll_logits(lt_ctx *c, lt_llama *m, lt_tensor *logits,
                                   const int32_t *ids, const int32_t *labels,
                                   const uint8_t *mask)
{
    int64_t n;
    return seq_nll_count(c, m, logits, ids, labels, mask, &n);
}

lt_tensor *lt_llama_loss_logits(lt_ctx *c, lt_llama *m, lt_tensor *logits,
                                const int32_t *ids, const int32_t *labels,
                                const uint8_t *mask)
{
    int64_t n = 0;
    lt_tensor *s = seq_nll_count(c, m, logits, ids, labels, mask, &n);
    return lt_affine(c, lt_sum_all(c, s), 1.0f / (float)(n > 0 ? n : 1),
                     0.0f);
}

lt_tensor *lt_llama_seq_nll(lt_ctx *c, lt_llama *m, const int32_t *ids,
                            const int32_t *labels, const uint8_t *mask,
                            int64_t B, int64_t T)
{
    return lt_llama_seq_nll_logits(c, m, lt_llama_forward(c, m, ids, B, T),
                                   ids, labels, mask);
}

lt_tensor *lt_llama_loss(lt_ctx *c, lt_llama *m, const int32_t *ids,
                         const int32_t *labels, const uint8_t *mask,
                         int64_t B, int64_t T)
{
    return lt_llama_loss_logits(c, m, lt_llama_forward(c, m, ids, B, T), ids,
                                labels, mask);
}

/* ---- scoring ------------------------------------------------------------------ */

/* log softmax(row)[y] in double for the normaliser. */
static float row_logprob(const float *row, int64_t v, int32_t y)
{
    float mx = row[0];
    for (int64_t j = 1; j < v; j++)
        mx = row[j] > mx ? row[j] : mx;
    double s = 0.0;
    for (int64_t j = 0; j < v; j++)
        s += exp((double)(row[j] - mx));
    return (float)((double)(row[y] - mx) - log(s));
}

lt_status lt_llama_token_logprobs(lt_ctx *c, lt_llama *m, const int32_t *ids,
                                  int64_t B, int64_t T,
                                  const int32_t *lengths, float *out)
{
    if (!c || !m || !out)
        return lt_set_error(LT_ERR_ARG, "llama_token_logprobs: NULL argument");
    for (int64_t b = 0; lengths && b < B; b++)
        if (lengths[b] < 0 || lengths[b] > T)
            return lt_set_error(LT_ERR_ARG, "llama_token_logprobs: length %d "
                                "of row %lld outside [0, %lld]", lengths[b],
                                (long long)b, (long long)T);
    bool was = lt_set_grad_enabled(c, false);
    lt_tensor *y = lt_llama_forward(c, m, ids, B, T);
    lt_set_grad_enabled(c, was);
    if (!y)
        return lt_last_status();
    int64_t V = m->cfg.vocab_size;
#pragma omp parallel for schedule(static) if (B * T * V > 65536)
    for (int64_t p = 0; p < B * (T - 1); p++) {
        int64_t b = p / (T - 1), t = p % (T - 1);
        int64_t len = lengths ? lengths[b] : T;
        out[p] = t + 1 < len ? row_logprob(y->data + (b * T + t) * V, V,
                                           ids[b * T + t + 1])
                             : 0.0f;
    }
    return LT_OK;
}
