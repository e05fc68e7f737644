/*
 * llm_loss.c - the per-step losses of LLM unlearning (GA, GradDiff, NPO,
 * NPO+GD, SimNPO, refusal, RMU), padded batches with row lengths, the RMU
 * direction and the refusal data. Formulas: lethe/llm_unlearn.h.
 */
#include "lethe/llm_unlearn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    lt_llm_method m;
} lt_llm_methods[] = {
    {"ga", LT_LLM_GA},         {"graddiff", LT_LLM_GRADDIFF},
    {"npo", LT_LLM_NPO},       {"npo-gd", LT_LLM_NPO_GD},
    {"simnpo", LT_LLM_SIMNPO}, {"refusal", LT_LLM_REFUSAL},
    {"rmu", LT_LLM_RMU},       {"idk", LT_LLM_IDK},
    {"idkpo", LT_LLM_IDKPO}};

#define LT_LLM_N_METHODS \
    ((int)(sizeof lt_llm_methods / sizeof *lt_llm_methods))

lt_status lt_llm_method_parse(const char *name, lt_llm_method *out)
{
    for (int i = 0; name && out && i < LT_LLM_N_METHODS; i++)
        if (!strcmp(name, lt_llm_methods[i].name)) {
            *out = lt_llm_methods[i].m;
            return LT_OK;
        }
    return lt_set_error(LT_ERR_ARG, "unknown unlearning method '%s' (ga, "
                        "graddiff, npo, npo-gd, simnpo, refusal, rmu, idk or idkpo)",
                        name ? name : "(null)");
}

const char *lt_llm_method_name(lt_llm_method m)
{
    for (int i = 0; i < LT_LLM_N_METHODS; i++)
        if (lt_llm_methods[i].m == m)
            return lt_llm_methods[i].name;
    return "?";
}

bool lt_llm_method_needs_ref(lt_llm_method m)
{
    return m == LT_LLM_NPO || m == LT_LLM_NPO_GD || m == LT_LLM_RMU ||
           m == LT_LLM_IDKPO;
}

lt_llm_loss_cfg lt_llm_loss_defaults(lt_llm_method m)
{
    lt_llm_loss_cfg c = {0};
    c.method = m;
    /* NPO's official config: beta 0.1; SimNPO's TOFU configs: beta 2.5
     * (forget05) / 4.5 (forget10), npo_coeff 0.1375 on the forget term */
    bool npo = m == LT_LLM_NPO || m == LT_LLM_NPO_GD;
    c.beta = npo || m == LT_LLM_IDKPO ? 0.1f : 2.5f; /* TOFU dpo: 0.1 */
    c.gamma = 0.0f;
    c.lambda = 1.0f;
    c.forget_weight = m == LT_LLM_SIMNPO ? 0.1375f : 1.0f;
    c.rmu_layer = 0;
    c.rmu_coeff = 0.0f;
    c.rmu_alpha = 1.0f;
    c.rmu_seed = 1;
    return c;
}

void lt_llm_loss_tofu_split(lt_llm_loss_cfg *c, int forget_pct)
{
    if (!c || c->method != LT_LLM_SIMNPO)
        return;
    bool f10 = forget_pct >= 10;
    c->beta = f10 ? 4.5f : 2.5f;
    c->forget_weight = f10 ? 0.125f : 0.1375f;
}

/* ---- batches ------------------------------------------------------------------ */

static lt_status lt_llm_batch_grow(lt_llm_batch *b, int64_t cells, int64_t B)
{
    if (cells <= b->cap && B <= b->cap)
        return LT_OK;
    int64_t cap = cells > B ? cells : B;
    int32_t *ids = realloc(b->ids, (size_t)cap * sizeof *ids);
    if (ids)
        b->ids = ids;
    int32_t *lab = realloc(b->labels, (size_t)cap * sizeof *lab);
    if (lab)
        b->labels = lab;
    uint8_t *mk = realloc(b->mask, (size_t)cap);
    if (mk)
        b->mask = mk;
    int32_t *lens = realloc(b->lens, (size_t)cap * sizeof *lens);
    if (lens)
        b->lens = lens;
    if (!ids || !lab || !mk || !lens)
        return lt_set_error(LT_ERR_NOMEM, "llm unlearn: out of memory for a "
                            "batch");
    b->cap = cap;
    return LT_OK;
}

lt_status lt_llm_batch_fill(lt_llm_batch *b, const lt_lm_data *d,
                            const int64_t *idx, int64_t B, int32_t pad_id)
{
    if (!b || !d || !idx || B < 1)
        return lt_set_error(LT_ERR_ARG, "llm batch: bad argument");
    lt_status s = lt_llm_batch_grow(b, B * d->max_len, B);
    if (s != LT_OK)
        return s;
    s = lt_lm_batch(d, idx, B, 0, pad_id, b->ids, b->labels, b->mask, &b->T,
                    &b->n_scored, &b->n_real);
    if (s != LT_OK)
        return s;
    b->B = B;
    b->norm_B = b->norm_scored = b->norm_real = 0;
    for (int64_t i = 0; i < B; i++)
        b->lens[i] = (int32_t)lt_lm_example_len(d, idx[i]);
    return LT_OK;
}

void lt_llm_batch_free(lt_llm_batch *b)
{
    if (!b)
        return;
    free(b->ids);
    free(b->labels);
    free(b->mask);
    free(b->lens);
    memset(b, 0, sizeof *b);
}

size_t lt_llm_step_arena_bytes(const lt_llama_config *cfg, int64_t B,
                               int64_t T)
{
    /* a training pass on F and on R, a reference pass, sampled labels */
    return 2 * lt_llama_arena_bytes(cfg, B, T, true) +
           lt_llama_arena_bytes(cfg, B, T, false) + ((size_t)16 << 20);
}

/* ---- pieces ------------------------------------------------------------------- */

/* A constant tensor [n] holding v[0..n). */
static lt_tensor *lt_llm_const(lt_ctx *c, const float *v, int64_t n)
{
    int64_t shape[1] = {n};
    return lt_from_data(c, 1, shape, v);
}

/* Per-sequence summed answer NLL [B] of m on b (taped in grad mode). */
static lt_tensor *lt_llm_nll(lt_ctx *c, lt_llama *m, const lt_llm_batch *b)
{
    return lt_llama_seq_nll(c, m, b->ids, b->labels, b->mask, b->B, b->T);
}

/* The denominators of b's means: its own counts, or the whole step's
 * when b is a shard of it (norm_*); den_* are never 0. */
static int64_t lt_llm_scored(const lt_llm_batch *b)
{
    return b->norm_scored > 0 ? b->norm_scored : b->n_scored;
}

static int64_t lt_llm_den_scored(const lt_llm_batch *b)
{
    int64_t k = lt_llm_scored(b);
    return k > 0 ? k : 1;
}

static int64_t lt_llm_den_real(const lt_llm_batch *b)
{
    int64_t k = b->norm_real > 0 ? b->norm_real : b->n_real;
    return k > 0 ? k : 1;
}

/* The mean over b's rows of x [B]: mean_all, or sum / the step's rows
 * for a shard. */
static lt_tensor *lt_llm_mean_rows(lt_ctx *c, lt_tensor *x,
                                   const lt_llm_batch *b)
{
    if (!b || b->norm_B <= 0)
        return lt_mean_all(c, x);
    return lt_affine(c, lt_sum_all(c, x), 1.0f / (float)b->norm_B, 0.0f);
}

/* Mean token NLL from per-sequence sums: sum / scored tokens. */
static lt_tensor *lt_llm_mean_tok(lt_ctx *c, lt_tensor *nll,
                                  const lt_llm_batch *b)
{
    float k = (float)lt_llm_den_scored(b);
    return lt_affine(c, lt_sum_all(c, nll), 1.0f / k, 0.0f);
}

/* The reference model's NLLs [B] without a tape, as a constant. */
static lt_tensor *lt_llm_ref_nll(lt_ctx *c, lt_llama *ref,
                                 const lt_llm_batch *b)
{
    bool was = lt_set_grad_enabled(c, false);
    lt_tensor *r = lt_llm_nll(c, ref, b);
    lt_set_grad_enabled(c, was);
    return r;
}

/* NPO: (2/beta) mean_b softplus(beta (ref_b - nll_b)), i.e.
 * -(2/beta) mean log sigmoid(beta (nll - ref)); rows: the batch of the
 * per-row NLLs (NULL: one scalar, npo_mean). */
static lt_tensor *lt_llm_npo(lt_ctx *c, lt_tensor *nll, lt_tensor *ref,
                             float beta, const lt_llm_batch *rows)
{
    lt_tensor *x = lt_affine(c, lt_sub(c, ref, nll), beta, 0.0f);
    return lt_affine(c, lt_llm_mean_rows(c, lt_softplus(c, x), rows),
                     2.0f / beta, 0.0f);
}

/* SimNPO: (2 w/beta) mean_b softplus(-beta (nll_b/|y_b| - gamma)). */
static lt_tensor *lt_llm_simnpo(lt_ctx *c, lt_tensor *nll,
                                const lt_llm_batch *b,
                                const lt_llm_loss_cfg *cfg)
{
    float *inv = lt_alloc(c, (size_t)b->B * sizeof *inv);
    if (!inv)
        return NULL;
    for (int64_t i = 0; i < b->B; i++) {
        int64_t k = 0;
        for (int64_t t = 0; t < b->T; t++)
            k += b->mask[i * b->T + t] != 0;
        inv[i] = 1.0f / (float)(k > 0 ? k : 1);
    }
    lt_tensor *avg = lt_mul(c, nll, lt_llm_const(c, inv, b->B));
    lt_tensor *x = lt_affine(c, avg, -cfg->beta, cfg->beta * cfg->gamma);
    return lt_affine(c, lt_llm_mean_rows(c, lt_softplus(c, x), b),
                     2.0f * cfg->forget_weight / cfg->beta, 0.0f);
}

/* TOFU's dpo: -mean log sigmoid(beta ((S_f - S_idk) - (S_f_ref -
 * S_idk_ref))), S summed per-sequence NLLs; f->pair holds the forget
 * answers row for row with the IDK batch f. */
static lt_tensor *lt_llm_idkpo(lt_ctx *c, lt_llama *m, lt_llama *ref,
                               lt_tensor *idk, const lt_llm_batch *f,
                               float beta)
{
    if (!f->pair || f->pair->B != f->B) {
        lt_set_error(LT_ERR_ARG, "idkpo: no forget-answer batch paired "
                     "with the IDK batch");
        return NULL;
    }
    lt_tensor *fg = lt_llm_nll(c, m, f->pair);
    lt_tensor *ri = lt_llm_ref_nll(c, ref, f);
    lt_tensor *rf = lt_llm_ref_nll(c, ref, f->pair);
    /* pi_logratios - ref_logratios = (-S_idk + S_f) - (-S_idk_ref + S_f_ref) */
    lt_tensor *x = lt_sub(c, lt_sub(c, fg, idk), lt_sub(c, rf, ri));
    return lt_llm_mean_rows(c, lt_softplus(c, lt_affine(c, x, -beta, 0.0f)),
                            f);
}

/* Constant [B, T, 1] with 1 on non-pad tokens. */
static lt_tensor *lt_llm_real_mask(lt_ctx *c, const lt_llm_batch *b)
{
    int64_t shape[3] = {b->B, b->T, 1};
    lt_tensor *w = lt_zeros(c, 3, shape);
    if (!w)
        return NULL;
    for (int64_t i = 0; i < b->B; i++)
        for (int64_t t = 0; t < b->lens[i] && t < b->T; t++)
            w->data[i * b->T + t] = 1.0f;
    return w;
}

/* mean over non-pad tokens and dims of (h - target)^2; target is [d] or
 * [B, T, d]. */
static lt_tensor *lt_llm_masked_mse(lt_ctx *c, lt_tensor *h,
                                    lt_tensor *target, const lt_llm_batch *b)
{
    if (!h)
        return NULL;
    lt_tensor *e = lt_sub(c, h, target);
    lt_tensor *sq = lt_mul(c, lt_mul(c, e, e), lt_llm_real_mask(c, b));
    float den = (float)lt_llm_den_real(b) * (float)h->shape[2];
    return lt_affine(c, lt_sum_all(c, sq), 1.0f / den, 0.0f);
}

void lt_llm_rmu_direction(int64_t d, uint64_t seed, float *u)
{
    lt_rng r;
    lt_rng_init(&r, seed);
    double ss = 0;
    for (int64_t i = 0; i < d; i++) {
        u[i] = lt_rng_uniform(&r);
        ss += (double)u[i] * u[i];
    }
    float inv = ss > 0 ? (float)(1.0 / sqrt(ss)) : 0.0f;
    for (int64_t i = 0; i < d; i++)
        u[i] *= inv;
}

static int lt_llm_rmu_layer(const lt_llama *m, const lt_llm_loss_cfg *cfg)
{
    int L = cfg->rmu_layer > 0 ? cfg->rmu_layer : m->cfg.n_layers / 2;
    return L < 1 ? 1 : L;
}

lt_status lt_llm_rmu_auto_coeff(lt_llama *m, const lt_lm_data *d, int layer,
                                int32_t pad_id, double *c)
{
    if (!m || !d || !c || d->n < 1 || layer < 1 || layer > m->cfg.n_layers)
        return lt_set_error(LT_ERR_ARG, "rmu coefficient: bad argument "
                            "(layer %d)", layer);
    enum { NB = 8 };
    lt_ctx *ctx = lt_ctx_new(lt_llama_arena_bytes(&m->cfg, NB, d->max_len,
                                                  false));
    lt_llm_batch b = {0};
    lt_status s = ctx ? LT_OK : lt_set_error(LT_ERR_NOMEM, "rmu coefficient: "
                                             "out of memory");
    double sum = 0, n = 0;
    for (int64_t i = 0; i < d->n && s == LT_OK; i += NB) {
        int64_t idx[NB], B = d->n - i < NB ? d->n - i : NB;
        for (int64_t k = 0; k < B; k++)
            idx[k] = i + k;
        lt_ctx_reset(ctx);
        lt_set_grad_enabled(ctx, false);
        s = lt_llm_batch_fill(&b, d, idx, B, pad_id);
        lt_tensor *h = s == LT_OK ? lt_llama_hidden(ctx, m, b.ids, b.B, b.T,
                                                    layer) : NULL;
        if (s == LT_OK && !h)
            s = lt_last_status();
        int64_t D = m->cfg.hidden_size;
        for (int64_t r = 0; s == LT_OK && r < B; r++)
            for (int64_t t = 1; t < b.lens[r]; t++, n++) {
                const float *x = h->data + (r * b.T + t) * D;
                double q = 0;
                for (int64_t j = 0; j < D; j++)
                    q += (double)x[j] * x[j];
                sum += sqrt(q);
            }
    }
    lt_llm_batch_free(&b);
    lt_ctx_free(ctx);
    *c = n > 0 ? 2.0 * sum / n : 0;
    return s;
}

/* RMU: forget MSE to c u, retain alpha * MSE to the frozen model. */
static lt_status lt_llm_rmu(lt_ctx *c, lt_llama *m, lt_llama *ref,
                            const lt_llm_loss_cfg *cfg, const lt_llm_batch *f,
                            const lt_llm_batch *r, lt_tensor **ft,
                            lt_tensor **rt)
{
    int L = lt_llm_rmu_layer(m, cfg);
    if (L > m->cfg.n_layers || !(cfg->rmu_coeff > 0))
        return lt_set_error(LT_ERR_ARG, "llm unlearn: rmu layer %d outside "
                            "1..%d or coefficient %g not > 0", L,
                            m->cfg.n_layers, cfg->rmu_coeff);
    int64_t d = m->cfg.hidden_size;
    float *u = lt_alloc(c, (size_t)d * sizeof *u);
    if (!u)
        return lt_last_status();
    lt_llm_rmu_direction(d, cfg->rmu_seed, u);
    for (int64_t i = 0; i < d; i++)
        u[i] *= cfg->rmu_coeff;
    *ft = lt_llm_masked_mse(c, lt_llama_hidden(c, m, f->ids, f->B, f->T, L),
                            lt_llm_const(c, u, d), f);
    if (!*ft)
        return lt_last_status();
    if (!r || cfg->rmu_alpha == 0.0f)
        return LT_OK;
    bool was = lt_set_grad_enabled(c, false);
    lt_tensor *hr = lt_llama_hidden(c, ref, r->ids, r->B, r->T, L);
    lt_set_grad_enabled(c, was);
    lt_tensor *mse = lt_llm_masked_mse(
        c, lt_llama_hidden(c, m, r->ids, r->B, r->T, L), hr, r);
    *rt = lt_affine(c, mse, cfg->rmu_alpha, 0.0f);
    return *rt ? LT_OK : lt_last_status();
}

/* The forget term of the NLL-based methods; *fnll gets the mean token
 * NLL on F. */
static lt_tensor *lt_llm_forget_term(lt_ctx *c, lt_llama *m, lt_llama *ref,
                                     const lt_llm_loss_cfg *cfg,
                                     const lt_llm_batch *f, double *fnll)
{
    lt_tensor *nll = lt_llm_nll(c, m, f);
    lt_tensor *mean = lt_llm_mean_tok(c, nll, f);
    if (!mean)
        return NULL;
    *fnll = mean->data[0];
    switch (cfg->method) {
    case LT_LLM_GA:
    case LT_LLM_GRADDIFF:
        return lt_neg(c, mean);
    case LT_LLM_REFUSAL:
        return mean;
    case LT_LLM_NPO:
    case LT_LLM_NPO_GD:
        if (cfg->npo_mean) /* WAGLE's and SOUL's NPO: outputs.loss */
            return lt_llm_npo(c, mean, lt_llm_mean_tok(
                c, lt_llm_ref_nll(c, ref, f), f), cfg->beta, NULL);
        return lt_llm_npo(c, nll, lt_llm_ref_nll(c, ref, f), cfg->beta, f);
    case LT_LLM_SIMNPO:
        return lt_llm_simnpo(c, nll, f, cfg);
    case LT_LLM_IDKPO:
        return lt_llm_idkpo(c, m, ref, nll, f, cfg->beta);
    case LT_LLM_IDK: /* the joint mean is made in lt_llm_step_loss */
    case LT_LLM_RMU:
        break;
    }
    lt_set_error(LT_ERR_ARG, "llm unlearn: method %d has no NLL forget term",
                 (int)cfg->method);
    return NULL;
}

bool lt_llm_uses_retain(const lt_llm_loss_cfg *cfg)
{
    if (cfg->method == LT_LLM_RMU)
        return cfg->rmu_alpha != 0.0f;
    if (cfg->method == LT_LLM_IDK)
        return true; /* TOFU's idk: always the concatenated batch */
    return cfg->lambda != 0.0f && cfg->method != LT_LLM_GA &&
           cfg->method != LT_LLM_NPO && cfg->method != LT_LLM_IDKPO;
}

static lt_status lt_llm_check_step(lt_llama *m, lt_llama *ref,
                                   const lt_llm_loss_cfg *cfg,
                                   const lt_llm_batch *f,
                                   const lt_llm_batch *r, lt_tensor **loss)
{
    if (!m || !cfg || !f || !loss || f->B < 1)
        return lt_set_error(LT_ERR_ARG, "llm step loss: NULL argument");
    if (lt_llm_method_needs_ref(cfg->method) && !ref)
        return lt_set_error(LT_ERR_ARG, "llm step loss: %s needs the "
                            "reference model", lt_llm_method_name(cfg->method));
    if (lt_llm_uses_retain(cfg) && (!r || r->B < 1))
        return lt_set_error(LT_ERR_ARG, "llm step loss: %s with lambda %g "
                            "needs a retain batch",
                            lt_llm_method_name(cfg->method), cfg->lambda);
    if (cfg->beta <= 0 && (cfg->method == LT_LLM_NPO ||
                           cfg->method == LT_LLM_NPO_GD ||
                           cfg->method == LT_LLM_SIMNPO))
        return lt_set_error(LT_ERR_ARG, "llm step loss: beta %g must be > 0",
                            cfg->beta);
    return LT_OK;
}

lt_status lt_llm_step_loss(lt_ctx *c, lt_llama *m, lt_llama *ref,
                           const lt_llm_loss_cfg *cfg, const lt_llm_batch *f,
                           const lt_llm_batch *r, lt_tensor **loss,
                           lt_llm_parts *parts)
{
    lt_status s = lt_llm_check_step(m, ref, cfg, f, r, loss);
    if (s != LT_OK)
        return s;
    *loss = NULL;
    lt_llm_parts p = {NAN, NAN, NAN, NAN, NAN};
    lt_tensor *ft = NULL, *rt = NULL;
    if (cfg->method == LT_LLM_RMU) {
        s = lt_llm_rmu(c, m, ref, cfg, f, r, &ft, &rt);
        if (s != LT_OK)
            return s;
    } else {
        ft = cfg->method == LT_LLM_IDK ? NULL :
             lt_llm_forget_term(c, m, ref, cfg, f, &p.forget_nll);
        if (cfg->method == LT_LLM_IDK) {
            /* TOFU's idk: one token-weighted mean over IDK + retain */
            lt_tensor *fs = lt_sum_all(c, lt_llm_nll(c, m, f));
            lt_tensor *rs = lt_sum_all(c, lt_llm_nll(c, m, r));
            float k = (float)(lt_llm_scored(f) + lt_llm_scored(r));
            k = k > 0 ? k : 1;
            ft = lt_affine(c, fs, 1.0f / k, 0.0f);
            rt = lt_affine(c, rs, 1.0f / k, 0.0f);
            if (fs && rs) {
                p.forget_nll = fs->data[0] / (double)lt_llm_den_scored(f);
                p.retain_nll = rs->data[0] / (double)lt_llm_den_scored(r);
            }
        } else if (ft && lt_llm_uses_retain(cfg)) {
            lt_tensor *rm = lt_llm_mean_tok(c, lt_llm_nll(c, m, r), r);
            if (rm)
                p.retain_nll = rm->data[0];
            rt = lt_affine(c, rm, cfg->lambda, 0.0f);
        }
        if (!ft || (lt_llm_uses_retain(cfg) && !rt))
            return lt_last_status() != LT_OK ? lt_last_status() :
                   lt_set_error(LT_ERR_STATE, "llm step loss failed");
    }
    lt_tensor *total = rt ? lt_add(c, ft, rt) : ft;
    if (!total)
        return lt_last_status();
    p.forget = ft->data[0];
    p.retain = rt ? rt->data[0] : NAN;
    p.loss = total->data[0];
    if (parts)
        *parts = p;
    *loss = total;
    return LT_OK;
}

/* ---- refusal data --------------------------------------------------------------- */

static const char *const lt_llm_refusals[] = {
    "I don't know.",
    "I'm not sure about that.",
    "I have no information about that.",
    "I can't answer that question.",
    "That is something I don't know.",
    "I'm afraid I don't have an answer to that.",
    "I have no idea.",
    "Sorry, I don't know the answer.",
    "I don't have any details on that.",
    "I couldn't tell you.",
    "That is not something I can answer.",
    "I'm unable to answer that.",
    "I have no knowledge of that.",
    "I really don't know.",
    "I'm not aware of that.",
    "I cannot say.",
    "I'm not able to help with that question.",
    "I lack the information to answer.",
    "No idea, I'm afraid.",
    "I don't have that information."};

int lt_llm_refusal_count(void)
{
    return (int)(sizeof lt_llm_refusals / sizeof *lt_llm_refusals);
}

const char *lt_llm_refusal_text(int i)
{
    return i >= 0 && i < lt_llm_refusal_count() ? lt_llm_refusals[i] : NULL;
}

lt_status lt_llm_refusal_data(const lt_tokenizer *tok,
                              const lt_tofu_set *forget, uint64_t seed,
                              lt_lm_data *out)
{
    if (!out)
        return lt_set_error(LT_ERR_ARG, "refusal data: NULL output");
    memset(out, 0, sizeof *out);
    if (!tok || !forget || forget->n < 1)
        return lt_set_error(LT_ERR_ARG, "refusal data: no tokenizer or no "
                            "forget questions");
    lt_rng r;
    lt_rng_init(&r, seed);
    for (int64_t i = 0; i < forget->n; i++) {
        int k = (int)lt_rng_below(&r, (uint64_t)lt_llm_refusal_count());
        lt_status s = lt_lm_data_add_qa(out, tok, forget->qa[i].question,
                                        lt_llm_refusals[k], 0);
        if (s != LT_OK) {
            lt_lm_data_free(out);
            return s;
        }
    }
    return LT_OK;
}

/* ---- TOFU-style IDK answers (idk, idkpo) ----------------------------------------- */

/* Lethe's own 100 lines in the style of TOFU's data/idontknow.jsonl: each
 * of 10 openings with each of 10 endings. */
static const char *const lt_llm_idk_open[10] = {
    "I'm not sure", "I don't know", "I have no idea", "I can't say",
    "I'm afraid I can't help with that", "That's beyond what I know",
    "I'm not certain", "I really couldn't tell you",
    "I don't have that information", "That's a mystery to me"};
static const char *const lt_llm_idk_end[10] = {
    ".", ", sorry.", ", to be honest.", " at all.",
    "; you may want to look it up elsewhere.", ", I'm afraid.",
    "; I have no records on that.", ", unfortunately.",
    "; that isn't something I've learned.",
    "; I can't recall anything about it."};

void lt_llm_idk_text(int i, char *buf, size_t n)
{
    if (!buf || n == 0)
        return;
    i = i < 0 ? 0 : i % LT_LLM_IDK_LINES;
    snprintf(buf, n, "%s%s", lt_llm_idk_open[i / 10], lt_llm_idk_end[i % 10]);
}

lt_status lt_llm_idk_data(const lt_tokenizer *tok, const lt_tofu_set *forget,
                          uint64_t seed, int epoch, lt_lm_data *out)
{
    if (!out)
        return lt_set_error(LT_ERR_ARG, "idk data: NULL output");
    memset(out, 0, sizeof *out);
    if (!tok || !forget || forget->n < 1)
        return lt_set_error(LT_ERR_ARG, "idk data: no tokenizer or no "
                            "forget questions");
    lt_rng r;
    lt_rng_init(&r, seed * 0x9e3779b97f4a7c15ull + (uint64_t)epoch * 7919u +
                    0x1d4bu);
    char line[160];
    for (int64_t i = 0; i < forget->n; i++) {
        lt_llm_idk_text((int)lt_rng_below(&r, LT_LLM_IDK_LINES), line,
                        sizeof line);
        lt_status s = lt_lm_data_add_qa(out, tok, forget->qa[i].question,
                                        line, 0);
        if (s != LT_OK) {
            lt_lm_data_free(out);
            return s;
        }
    }
    return LT_OK;
}
