/*
 * clip.c - the CLIP-like model of lethe/clip.h as a composition of ops:
 * presets and config checks, parameter declaration with Hugging Face
 * CLIPModel names (one table walked to declare and to bind), CLIP's
 * initialisation, the text encoder (from ids or from input embeddings),
 * the pooled text projection, the CNN image encoder, the symmetric
 * InfoNCE loss and top-1 retrieval. Checkpoints are in clip_io.c, the
 * vocabulary and tokenizer in clip_vocab.c, pretraining in clip_train.c.
 */
#include "clip_internal.h"
#include "lethe/clip.h"
#include "llama_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUICK_GELU 1.702f
#define LOGIT_SCALE_INIT 2.6592600f /* ln(1 / 0.07), Hugging Face's value */

/* ---- presets --------------------------------------------------------------------- */

typedef struct {
    const char *name;
    int width, layers, heads, mlp, embed_dim;
    int stages, widths[LT_CLIP_MAX_STAGES], groups;
} clip_preset;

static const clip_preset PRESETS[] = {
    {"xs", 32, 2, 4, 128, 32, 2, {16, 32}, 4},
    {"tiny", 64, 2, 4, 256, 64, 3, {32, 64, 128}, 8},
    {"small", 128, 4, 4, 512, 128, 3, {32, 64, 128}, 8},
};
#define N_PRESETS (int)(sizeof PRESETS / sizeof PRESETS[0])
#define CONTEXT_LENGTH 16
#define NORM_EPS 1e-5f

const char *lt_clip_preset_names(void) { return "xs, tiny, small"; }

lt_status lt_clip_preset(const char *name, int vocab_size, lt_clip_config *out)
{
    if (!out)
        return lt_set_error(LT_ERR_ARG, "clip preset: out is NULL");
    for (int i = 0; name && i < N_PRESETS; i++) {
        const clip_preset *p = &PRESETS[i];
        if (strcmp(p->name, name))
            continue;
        *out = (lt_clip_config){vocab_size, CONTEXT_LENGTH, p->width,
                                p->layers, p->heads, p->mlp, p->embed_dim,
                                NORM_EPS, p->stages, {0}, p->groups, NORM_EPS};
        memcpy(out->vision_widths, p->widths, sizeof p->widths);
        return lt_clip_config_check(out);
    }
    return lt_set_error(LT_ERR_ARG, "clip preset: unknown name '%s' (known: "
                        "%s)", name ? name : "(null)", lt_clip_preset_names());
}

/* LT_ERR_ARG "clip config: field v outside [lo, hi]" when out of range. */
static bool in_range(const char *field, int v, int lo, int hi)
{
    if (v >= lo && v <= hi)
        return true;
    lt_set_error(LT_ERR_ARG, "clip config: %s %d outside [%d, %d]", field, v,
                 lo, hi);
    return false;
}

lt_status lt_clip_config_check(const lt_clip_config *c)
{
    if (!c)
        return lt_set_error(LT_ERR_ARG, "clip config: NULL");
    const int big = 1 << 20;
    if (!in_range("vocab_size", c->vocab_size, LT_CLIP_N_SPECIAL + 1, big) ||
        !in_range("context_length", c->context_length, 3, 4096) ||
        !in_range("width", c->width, 2, 1 << 14) ||
        !in_range("layers", c->layers, 1, 64) ||
        !in_range("heads", c->heads, 1, c->width) ||
        !in_range("mlp", c->mlp, 1, big) ||
        !in_range("embed_dim", c->embed_dim, 1, big) ||
        !in_range("vision_stages", c->vision_stages, 1, LT_CLIP_MAX_STAGES) ||
        !in_range("vision_groups", c->vision_groups, 1, big))
        return LT_ERR_ARG;
    if (c->width % c->heads || (c->width / c->heads) % 2)
        return lt_set_error(LT_ERR_ARG, "clip config: width %d must split "
                            "into %d heads of an even size", c->width,
                            c->heads);
    for (int i = 0; i < c->vision_stages; i++)
        if (c->vision_widths[i] < 1 || c->vision_widths[i] % c->vision_groups)
            return lt_set_error(LT_ERR_ARG, "clip config: vision_widths[%d] "
                                "%d is not a positive multiple of "
                                "vision_groups %d", i, c->vision_widths[i],
                                c->vision_groups);
    if (!(c->ln_eps > 0) || !(c->gn_eps > 0))
        return lt_set_error(LT_ERR_ARG, "clip config: ln_eps and gn_eps must "
                            "be > 0");
    return LT_OK;
}

/* ---- declaration ------------------------------------------------------------------ */

typedef struct {
    char name[LT_PARAM_NAME_MAX];
    int ndim;
    int64_t shape[4];
    lt_tensor **slot;
} clip_spec;

static void spec(clip_spec **s, lt_tensor **slot, int ndim, int64_t d0,
                 int64_t d1, int64_t d2, int64_t d3, const char *fmt, int i)
{
    clip_spec *p = (*s)++;
    snprintf(p->name, sizeof p->name, fmt, i);
    p->ndim = ndim;
    int64_t d[4] = {d0, d1, d2, d3};
    memcpy(p->shape, d, sizeof d);
    p->slot = slot;
}

#define TL "text_model.encoder.layers.%d."

static void layer_specs(clip_spec **s, lt_clip_layer *l, int i, int64_t D,
                        int64_t F)
{
    spec(s, &l->q_w, 2, D, D, 0, 0, TL "self_attn.q_proj.weight", i);
    spec(s, &l->k_w, 2, D, D, 0, 0, TL "self_attn.k_proj.weight", i);
    spec(s, &l->v_w, 2, D, D, 0, 0, TL "self_attn.v_proj.weight", i);
    spec(s, &l->o_w, 2, D, D, 0, 0, TL "self_attn.out_proj.weight", i);
    spec(s, &l->fc1_w, 2, F, D, 0, 0, TL "mlp.fc1.weight", i);
    spec(s, &l->fc2_w, 2, D, F, 0, 0, TL "mlp.fc2.weight", i);
    spec(s, &l->q_b, 1, D, 0, 0, 0, TL "self_attn.q_proj.bias", i);
    spec(s, &l->k_b, 1, D, 0, 0, 0, TL "self_attn.k_proj.bias", i);
    spec(s, &l->v_b, 1, D, 0, 0, 0, TL "self_attn.v_proj.bias", i);
    spec(s, &l->o_b, 1, D, 0, 0, 0, TL "self_attn.out_proj.bias", i);
    spec(s, &l->fc1_b, 1, F, 0, 0, 0, TL "mlp.fc1.bias", i);
    spec(s, &l->fc2_b, 1, D, 0, 0, 0, TL "mlp.fc2.bias", i);
    spec(s, &l->ln1_w, 1, D, 0, 0, 0, TL "layer_norm1.weight", i);
    spec(s, &l->ln1_b, 1, D, 0, 0, 0, TL "layer_norm1.bias", i);
    spec(s, &l->ln2_w, 1, D, 0, 0, 0, TL "layer_norm2.weight", i);
    spec(s, &l->ln2_b, 1, D, 0, 0, 0, TL "layer_norm2.bias", i);
}

static void vision_specs(clip_spec **s, lt_clip *m)
{
    const lt_clip_config *c = &m->cfg;
    for (int i = 0; i < c->vision_stages; i++) {
        lt_clip_stage *st = &m->stages[i];
        int64_t co = c->vision_widths[i], ci = i ? c->vision_widths[i - 1] : 3;
        spec(s, &st->conv_w, 4, co, ci, 3, 3, "vision_model.blocks.%d.conv."
             "weight", i);
        spec(s, &st->conv_b, 1, co, 0, 0, 0, "vision_model.blocks.%d.conv."
             "bias", i);
        spec(s, &st->norm_w, 1, co, 0, 0, 0, "vision_model.blocks.%d.norm."
             "weight", i);
        spec(s, &st->norm_b, 1, co, 0, 0, 0, "vision_model.blocks.%d.norm."
             "bias", i);
    }
    spec(s, &m->visual_proj, 2, c->embed_dim,
         c->vision_widths[c->vision_stages - 1], 0, 0,
         "visual_projection.weight", 0);
}

/* Every tensor of m; returns the count (at most 8 + 16 * layers + 4 *
 * stages entries are written to s). */
static int clip_specs(lt_clip *m, clip_spec *s0)
{
    const lt_clip_config *c = &m->cfg;
    int64_t D = c->width;
    clip_spec *s = s0;
    spec(&s, &m->tok_emb, 2, c->vocab_size, D, 0, 0,
         "text_model.embeddings.token_embedding.weight", 0);
    spec(&s, &m->pos_emb, 2, c->context_length, D, 0, 0,
         "text_model.embeddings.position_embedding.weight", 0);
    for (int i = 0; i < c->layers; i++)
        layer_specs(&s, &m->layers[i], i, D, c->mlp);
    spec(&s, &m->final_ln_w, 1, D, 0, 0, 0,
         "text_model.final_layer_norm.weight", 0);
    spec(&s, &m->final_ln_b, 1, D, 0, 0, 0,
         "text_model.final_layer_norm.bias", 0);
    spec(&s, &m->text_proj, 2, c->embed_dim, D, 0, 0,
         "text_projection.weight", 0);
    vision_specs(&s, m);
    spec(&s, &m->logit_scale, 1, 1, 0, 0, 0, "logit_scale", 0);
    return (int)(s - s0);
}

/* Tensors of >= 2 dims first (they take weight decay), then the rest;
 * then bind each slot to its view. */
static lt_status clip_declare(lt_clip *m, clip_spec *s, int n)
{
    int *idx = calloc((size_t)n, sizeof *idx);
    if (!idx)
        return lt_set_error(LT_ERR_NOMEM, "clip_create: out of memory");
    lt_status st = LT_OK;
    for (int pass = 0; pass < 2 && st == LT_OK; pass++)
        for (int i = 0; i < n && st == LT_OK; i++)
            if ((s[i].ndim >= 2) == (pass == 0) &&
                (idx[i] = lt_params_add(&m->params, s[i].name, s[i].ndim,
                                        s[i].shape, true)) < 0)
                st = lt_last_status();
    if (st == LT_OK)
        st = lt_params_finalize(&m->params);
    for (int i = 0; i < n && st == LT_OK; i++) {
        *s[i].slot = lt_params_at(&m->params, idx[i]);
        if (s[i].ndim >= 2)
            m->n_decay += (*s[i].slot)->numel;
    }
    free(idx);
    return st;
}

lt_status lt_clip_create(const lt_clip_config *cfg, lt_clip **out)
{
    if (!out)
        return lt_set_error(LT_ERR_ARG, "clip_create: out is NULL");
    *out = NULL;
    if (lt_clip_config_check(cfg) != LT_OK)
        return lt_last_status();
    int cap = 8 + 16 * cfg->layers + 4 * cfg->vision_stages;
    lt_clip *m = calloc(1, sizeof *m);
    clip_spec *s = calloc((size_t)cap, sizeof *s);
    if (m)
        m->layers = calloc((size_t)cfg->layers, sizeof *m->layers);
    if (!m || !s || !m->layers) {
        free(s);
        lt_clip_free(m);
        return lt_set_error(LT_ERR_NOMEM, "clip_create: out of memory");
    }
    m->cfg = *cfg;
    lt_params_init(&m->params);
    lt_status st = clip_declare(m, s, clip_specs(m, s));
    free(s);
    if (st != LT_OK) {
        lt_clip_free(m);
        return st;
    }
    *out = m;
    return LT_OK;
}

void lt_clip_free(lt_clip *m)
{
    if (!m)
        return;
    lt_params_free(&m->params);
    free(m->layers);
    free(m);
}

/* ---- initialisation ------------------------------------------------------------- */

static void fill(lt_tensor *t, float v)
{
    for (int64_t i = 0; i < t->numel; i++)
        t->data[i] = v;
}

static void init_layer(lt_clip_layer *l, lt_rng *r, const lt_clip_config *c)
{
    float D = (float)c->width, N = (float)c->layers;
    float in_std = 1.0f / sqrtf(D) / sqrtf(2.0f * N);
    float out_std = 1.0f / sqrtf(D), fc_std = 1.0f / sqrtf(2.0f * D);
    lt_tensor *in_proj[3] = {l->q_w, l->k_w, l->v_w};
    for (int i = 0; i < 3; i++)
        lt_rng_fill_normal(r, in_proj[i]->data, in_proj[i]->numel, 0, in_std);
    lt_rng_fill_normal(r, l->o_w->data, l->o_w->numel, 0, out_std);
    lt_rng_fill_normal(r, l->fc1_w->data, l->fc1_w->numel, 0, fc_std);
    lt_rng_fill_normal(r, l->fc2_w->data, l->fc2_w->numel, 0, in_std);
    fill(l->ln1_w, 1.0f);
    fill(l->ln2_w, 1.0f);
}

static void init_vision(lt_clip *m, lt_rng *r)
{
    for (int i = 0; i < m->cfg.vision_stages; i++) {
        lt_clip_stage *s = &m->stages[i];
        float b = 1.0f / sqrtf((float)(s->conv_w->numel / s->conv_w->shape[0]));
        lt_rng_fill_uniform(r, s->conv_w->data, s->conv_w->numel, -b, b);
        lt_rng_fill_uniform(r, s->conv_b->data, s->conv_b->numel, -b, b);
        fill(s->norm_w, 1.0f);
    }
    lt_tensor *v = m->visual_proj;
    lt_rng_fill_normal(r, v->data, v->numel, 0,
                       1.0f / sqrtf((float)v->shape[1]));
}

void lt_clip_init(lt_clip *m, uint64_t seed)
{
    if (!m)
        return;
    lt_rng r;
    lt_rng_init(&r, seed);
    memset(m->params.theta, 0, (size_t)m->params.n_total * sizeof(float));
    lt_rng_fill_normal(&r, m->tok_emb->data, m->tok_emb->numel, 0, 0.02f);
    lt_rng_fill_normal(&r, m->pos_emb->data, m->pos_emb->numel, 0, 0.02f);
    for (int i = 0; i < m->cfg.layers; i++)
        init_layer(&m->layers[i], &r, &m->cfg);
    fill(m->final_ln_w, 1.0f);
    lt_rng_fill_normal(&r, m->text_proj->data, m->text_proj->numel, 0,
                       1.0f / sqrtf((float)m->cfg.width));
    init_vision(m, &r);
    m->logit_scale->data[0] = LOGIT_SCALE_INIT;
    lt_params_zero_grad(&m->params);
}

size_t lt_clip_arena_bytes(const lt_clip_config *cfg, int64_t B, int64_t h,
                           int64_t w, bool training)
{
    int64_t D = cfg->width, L = cfg->context_length, rows = B * L;
    int64_t text = rows * (cfg->layers * (20 * D + 5 * (int64_t)cfg->mlp +
                                          cfg->heads * (L + 4)) +
                           4 * D) +
                   B * 4 * (D + cfg->embed_dim);
    int64_t vis = 0, ci = 3;
    for (int i = 0; training && i < cfg->vision_stages; i++) {
        if (i) { /* 3x3, stride 2, padding 1 */
            h = (h - 1) / 2 + 1;
            w = (w - 1) / 2 + 1;
        }
        int64_t co = cfg->vision_widths[i];
        vis += B * h * w * (4 * co + 9 * ci); /* outputs, im2col */
        ci = co;
    }
    int64_t floats = text + vis + (training ? 8 * B * B : 0);
    if (training) /* gradients (measured peaks: 0.5 to 0.6 of this) */
        floats += floats / 2;
    return (size_t)floats * sizeof(float) + ((size_t)8 << 20);
}

/* ---- text encoder ---------------------------------------------------------------- */

/* x [B*T, D] -> causal self-attention output [B*T, D] (no residual). */
static lt_tensor *attn_block(lt_ctx *c, lt_clip *m, lt_clip_layer *l,
                             lt_tensor *x, int64_t B, int64_t T)
{
    int64_t H = m->cfg.heads, hd = m->cfg.width / H;
    lt_tensor *q = lt_linear(c, x, l->q_w, l->q_b);
    lt_tensor *k = lt_linear(c, x, l->k_w, l->k_b);
    lt_tensor *v = lt_linear(c, x, l->v_w, l->v_b);
    q = lt_llama_heads(c, q, B, T, 0, H, hd, 0, 0.0f, false);
    k = lt_llama_heads(c, k, B, T, 0, H, hd, 0, 0.0f, false);
    v = lt_llama_heads(c, v, B, T, 0, H, hd, 0, 0.0f, false);
    lt_tensor *a = lt_attention(c, q, k, v, true, 0.0f);
    return lt_linear(c, lt_llama_merge_heads(c, a), l->o_w, l->o_b);
}

/* quick_gelu(x) = x * sigmoid(1.702 x), CLIP's activation. */
static lt_tensor *quick_gelu(lt_ctx *c, lt_tensor *x)
{
    return lt_mul(c, x, lt_sigmoid(c, lt_affine(c, x, QUICK_GELU, 0.0f)));
}

static lt_tensor *mlp_block(lt_ctx *c, lt_clip_layer *l, lt_tensor *x)
{
    lt_tensor *h = quick_gelu(c, lt_linear(c, x, l->fc1_w, l->fc1_b));
    return lt_linear(c, h, l->fc2_w, l->fc2_b);
}

static bool check_model(lt_ctx *c, const lt_clip *m, const char *op)
{
    if (c && m)
        return true;
    lt_set_error(LT_ERR_ARG, "%s: context or model is NULL", op);
    return false;
}

lt_tensor *lt_clip_token_embeds(lt_ctx *c, lt_clip *m, const int32_t *ids,
                                int64_t B)
{
    if (!check_model(c, m, "clip_token_embeds"))
        return NULL;
    int64_t L = m->cfg.context_length;
    if (!ids || B < 1) {
        lt_set_error(LT_ERR_ARG, "clip_token_embeds: need ids and B >= 1");
        return NULL;
    }
    lt_tensor *e = lt_embedding(c, m->tok_emb, ids, B * L);
    return lt_reshape(c, e, 3, (int64_t[]){B, L, m->cfg.width});
}

lt_tensor *lt_clip_text_hidden(lt_ctx *c, lt_clip *m, lt_tensor *x)
{
    if (!x || !check_model(c, m, "clip_text_hidden"))
        return NULL;
    const lt_clip_config *cf = &m->cfg;
    if (x->ndim != 3 || x->shape[1] < 1 ||
        x->shape[1] > cf->context_length || x->shape[2] != cf->width) {
        char b[64];
        lt_set_error(LT_ERR_SHAPE, "clip_text_hidden: input embeddings %s "
                     "must be [B, T <= %d, %d]", lt_shape_str(x, b, sizeof b),
                     cf->context_length, cf->width);
        return NULL;
    }
    int64_t B = x->shape[0], T = x->shape[1], D = cf->width;
    lt_tensor *h = lt_add(c, x, lt_slice(c, m->pos_emb, 0, 0, T));
    h = lt_reshape(c, h, 2, (int64_t[]){B * T, D});
    for (int i = 0; i < cf->layers && h; i++) {
        lt_clip_layer *l = &m->layers[i];
        lt_tensor *a = lt_layer_norm(c, h, l->ln1_w, l->ln1_b, cf->ln_eps);
        h = lt_add(c, h, attn_block(c, m, l, a, B, T));
        a = lt_layer_norm(c, h, l->ln2_w, l->ln2_b, cf->ln_eps);
        h = lt_add(c, h, mlp_block(c, l, a));
    }
    h = lt_layer_norm(c, h, m->final_ln_w, m->final_ln_b, cf->ln_eps);
    return lt_reshape(c, h, 3, (int64_t[]){B, T, D});
}

lt_tensor *lt_clip_text_encode(lt_ctx *c, lt_clip *m, const int32_t *ids,
                               int64_t B)
{
    return lt_clip_text_hidden(c, m, lt_clip_token_embeds(c, m, ids, B));
}

lt_tensor *lt_clip_text_project(lt_ctx *c, lt_clip *m, lt_tensor *hidden,
                                const int32_t *eos_pos)
{
    if (!hidden || !check_model(c, m, "clip_text_project"))
        return NULL;
    if (hidden->ndim != 3 || hidden->shape[2] != m->cfg.width || !eos_pos) {
        char b[64];
        lt_set_error(LT_ERR_SHAPE, "clip_text_project: hidden %s must be [B, "
                     "T, %d] and eos_pos given", lt_shape_str(hidden, b,
                     sizeof b), m->cfg.width);
        return NULL;
    }
    int64_t B = hidden->shape[0], T = hidden->shape[1];
    int32_t *rows = lt_alloc(c, (size_t)B * sizeof *rows);
    if (!rows)
        return NULL;
    for (int64_t b = 0; b < B; b++) {
        if (eos_pos[b] < 0 || eos_pos[b] >= T) {
            lt_set_error(LT_ERR_ARG, "clip_text_project: eos_pos[%lld] = %d "
                         "outside [0, %lld)", (long long)b, eos_pos[b],
                         (long long)T);
            return NULL;
        }
        rows[b] = (int32_t)(b * T + eos_pos[b]);
    }
    lt_tensor *flat = lt_reshape(c, hidden, 2, (int64_t[]){B * T,
                                                           m->cfg.width});
    return lt_linear(c, lt_embedding(c, flat, rows, B), m->text_proj, NULL);
}

/* ---- image encoder ----------------------------------------------------------------- */

lt_tensor *lt_clip_image_embeds(lt_ctx *c, lt_clip *m, lt_tensor *x)
{
    if (!x || !check_model(c, m, "clip_image_embeds"))
        return NULL;
    if (x->ndim != 4 || x->shape[1] != 3) {
        char b[64];
        lt_set_error(LT_ERR_SHAPE, "clip_image_embeds: images %s must be [B, "
                     "3, H, W]", lt_shape_str(x, b, sizeof b));
        return NULL;
    }
    lt_tensor *h = x;
    for (int i = 0; i < m->cfg.vision_stages; i++) {
        lt_clip_stage *s = &m->stages[i];
        lt_conv_args a = {.stride_h = i ? 2 : 1, .stride_w = i ? 2 : 1,
                          .pad_h = 1, .pad_w = 1};
        h = lt_conv2d(c, h, s->conv_w, s->conv_b, a);
        h = lt_group_norm(c, h, m->cfg.vision_groups, s->norm_w, s->norm_b,
                          m->cfg.gn_eps);
        h = lt_silu(c, h);
    }
    return lt_linear(c, lt_global_avg_pool(c, h), m->visual_proj, NULL);
}

/* ---- contrastive loss and retrieval ------------------------------------------------ */

/* x [B, P] / ||x||_2 per row (Hugging Face divides by the norm, no eps). */
static lt_tensor *l2_normalize(lt_ctx *c, lt_tensor *x)
{
    lt_tensor *n = lt_sqrt(c, lt_sum(c, lt_mul(c, x, x), -1, true));
    return lt_div(c, x, n);
}

lt_tensor *lt_clip_loss(lt_ctx *c, lt_clip *m, lt_tensor *t, lt_tensor *v,
                        lt_tensor **logits_out)
{
    if (!t || !v || !check_model(c, m, "clip_loss"))
        return NULL;
    return lt_clip_loss_scaled(c, t, v, m->logit_scale, logits_out);
}

lt_tensor *lt_clip_loss_scaled(lt_ctx *c, lt_tensor *t, lt_tensor *v,
                               lt_tensor *log_scale, lt_tensor **logits_out)
{
    if (!t || !v || !log_scale)
        return NULL;
    if (t->ndim != 2 || !lt_same_shape(t, v)) {
        char a[64], b[64];
        lt_set_error(LT_ERR_SHAPE, "clip_loss: text %s and image %s embeddings"
                     " must both be [B, P]", lt_shape_str(t, a, sizeof a),
                     lt_shape_str(v, b, sizeof b));
        return NULL;
    }
    int64_t B = t->shape[0];
    int32_t *labels = lt_alloc(c, (size_t)B * sizeof *labels);
    if (!labels)
        return NULL;
    for (int64_t i = 0; i < B; i++)
        labels[i] = (int32_t)i;
    lt_tensor *sim = lt_matmul(c, l2_normalize(c, t),
                               lt_transpose(c, l2_normalize(c, v), 0, 1));
    lt_tensor *logits = lt_mul(c, sim, lt_exp(c, log_scale));
    lt_tensor *lt = lt_cross_entropy(c, logits, labels, LT_REDUCE_MEAN);
    lt_tensor *li = lt_cross_entropy(c, lt_transpose(c, logits, 0, 1), labels,
                                     LT_REDUCE_MEAN);
    if (logits_out)
        *logits_out = logits;
    return lt_affine(c, lt_add(c, lt, li), 0.5f, 0.0f);
}

static bool same_caption(const int32_t *ids, int L, int64_t i, int64_t j)
{
    return i == j || (ids && !memcmp(ids + i * L, ids + j * L,
                                     (size_t)L * sizeof *ids));
}

void lt_clip_retrieval_acc(const float *sim, const int32_t *ids, int64_t B,
                           int L, double *t2i, double *i2t)
{
    int64_t hit_t = 0, hit_i = 0;
    for (int64_t i = 0; sim && i < B; i++) {
        int64_t bt = 0, bi = 0; /* best image for text i, text for image i */
        for (int64_t j = 1; j < B; j++) {
            bt = sim[i * B + j] > sim[i * B + bt] ? j : bt;
            bi = sim[j * B + i] > sim[bi * B + i] ? j : bi;
        }
        hit_t += same_caption(ids, L, i, bt);
        hit_i += same_caption(ids, L, i, bi);
    }
    if (t2i)
        *t2i = B > 0 ? (double)hit_t / (double)B : 0.0;
    if (i2t)
        *i2t = B > 0 ? (double)hit_i / (double)B : 0.0;
}

lt_status lt_clip_retrieval(lt_ctx *c, lt_clip *m, lt_tensor *images,
                            const int32_t *ids, double *t2i, double *i2t)
{
    if (!check_model(c, m, "clip_retrieval"))
        return LT_ERR_ARG;
    if (!images || !ids)
        return lt_set_error(LT_ERR_ARG, "clip_retrieval: images or ids is "
                            "NULL");
    int64_t B = images->shape[0];
    int32_t *eos = lt_alloc(c, (size_t)B * sizeof *eos);
    if (!eos ||
        lt_clip_eos_positions(ids, B, m->cfg.context_length, eos) != LT_OK)
        return lt_last_status();
    bool was = lt_set_grad_enabled(c, false);
    lt_tensor *t = lt_clip_text_project(c, m, lt_clip_text_encode(c, m, ids,
                                                                  B), eos);
    lt_tensor *v = lt_clip_image_embeds(c, m, images);
    lt_tensor *logits = NULL;
    lt_tensor *loss = lt_clip_loss(c, m, t, v, &logits);
    lt_set_grad_enabled(c, was);
    if (!loss)
        return lt_last_status();
    lt_clip_retrieval_acc(logits->data, ids, B, m->cfg.context_length, t2i,
                          i2t);
    return LT_OK;
}
