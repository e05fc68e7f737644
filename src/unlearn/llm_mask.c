/*
 * llm_mask.c - weight masks for LLM unlearning: WAGLE's score
 * |(theta - g_r/mu) * g_f| and the gradient, magnitude, SNIP and random
 * baselines, ranked globally over every trainable weight (top fraction
 * kept trainable, ties to the lower index, by lt_mask_top_k of mask.c),
 * and the RMU trainable set (the MLP down-projections of three layers).
 * See lethe/llm_unlearn.h.
 */
#include "lethe/llm_unlearn.h"
#include "lethe/unlearn.h"
#include "lethe/data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const lt_llm_mask_names[] = {
    "none", "wagle", "gradient", "magnitude", "snip", "random"};

lt_status lt_llm_mask_parse(const char *spec, lt_llm_mask_spec *out)
{
    if (!spec || !out)
        return lt_set_error(LT_ERR_ARG, "mask: NULL spec");
    if (!strcmp(spec, "none")) {
        *out = (lt_llm_mask_spec){LT_LLM_MASK_NONE, 1.0};
        return LT_OK;
    }
    const char *colon = strchr(spec, ':');
    size_t k = colon ? (size_t)(colon - spec) : strlen(spec);
    for (int i = 1; i < 6; i++) {
        if (strlen(lt_llm_mask_names[i]) != k ||
            strncmp(spec, lt_llm_mask_names[i], k))
            continue;
        if (!colon) { /* the method's default ratio */
            *out = (lt_llm_mask_spec){(lt_llm_mask_kind)i, 0.0};
            return LT_OK;
        }
        char *end = NULL;
        double r = strtod(colon + 1, &end);
        if (end == colon + 1 || *end || !(r > 0 && r <= 1))
            return lt_set_error(LT_ERR_ARG, "mask '%s': want %s:R with R the "
                                "kept fraction in (0, 1]", spec,
                                lt_llm_mask_names[i]);
        *out = (lt_llm_mask_spec){(lt_llm_mask_kind)i, r};
        return LT_OK;
    }
    return lt_set_error(LT_ERR_ARG, "mask '%s': unknown kind (none, wagle:R, "
                        "gradient:R, magnitude:R, snip:R or random:R)", spec);
}

void lt_llm_mask_text(const lt_llm_mask_spec *s, char *buf, size_t n)
{
    if (!s || s->kind == LT_LLM_MASK_NONE || (int)s->kind > 5)
        snprintf(buf, n, "none");
    else if (!(s->ratio > 0))
        snprintf(buf, n, "%s", lt_llm_mask_names[s->kind]);
    else
        snprintf(buf, n, "%s:%g", lt_llm_mask_names[s->kind], s->ratio);
}

double lt_llm_mask_default_ratio(lt_llm_method m)
{
    return m == LT_LLM_REFUSAL ? 0.8 : 0.95;
}

lt_status lt_llm_mask_scores(lt_llm_mask_kind kind, const float *theta,
                             const float *gf, const float *gr, int64_t n,
                             double mu, uint64_t seed, float *score)
{
    bool need_gf = kind == LT_LLM_MASK_WAGLE || kind == LT_LLM_MASK_GRADIENT ||
                   kind == LT_LLM_MASK_SNIP;
    if (!score || n < 1 || (need_gf && !gf) ||
        (kind == LT_LLM_MASK_WAGLE && (!gr || !(mu > 0))) ||
        (kind != LT_LLM_MASK_RANDOM && kind != LT_LLM_MASK_GRADIENT && !theta))
        return lt_set_error(LT_ERR_ARG, "mask scores: missing input for %s",
                            (int)kind >= 0 && (int)kind <= 5 ?
                            lt_llm_mask_names[kind] : "?");
    for (int64_t i = 0; i < n; i++) {
        double s = 0;
        switch (kind) {
        case LT_LLM_MASK_WAGLE:
            s = ((double)theta[i] - (double)gr[i] / mu) * gf[i];
            break;
        case LT_LLM_MASK_GRADIENT: s = gf[i]; break;
        case LT_LLM_MASK_MAGNITUDE: s = theta[i]; break;
        case LT_LLM_MASK_SNIP: s = (double)theta[i] * gf[i]; break;
        case LT_LLM_MASK_RANDOM:
            s = lt_u64_to_uniform(lt_hash3(seed, 0x6d61736bu, (uint64_t)i));
            break;
        case LT_LLM_MASK_NONE: s = 1; break;
        }
        score[i] = (float)fabs(s);
        if (!isfinite(score[i]))
            return lt_set_error(LT_ERR_NAN, "mask scores: the %s score of "
                                "weight %lld is not finite",
                                lt_llm_mask_names[kind], (long long)i);
    }
    return LT_OK;
}

lt_status lt_llm_mask_select(const float *score, int64_t n, double ratio,
                             float *mask, double *kept)
{
    if (!score || !mask || n < 1 || !(ratio > 0 && ratio <= 1))
        return lt_set_error(LT_ERR_ARG, "mask select: bad argument (ratio "
                            "%g)", ratio);
    int64_t k = (int64_t)(ratio * (double)n); /* WAGLE: int(len * ratio) */
    k = k < 1 ? 1 : k > n ? n : k;
    lt_status st = lt_mask_top_k(score, n, k, false, mask);
    if (st != LT_OK)
        return st;
    if (kept)
        *kept = (double)k / (double)n;
    return LT_OK;
}

/* grad += d/dtheta of sum_i (mean-token answer NLL of example i) over
 * examples idx[0..k) of d: WAGLE's generate_mask.py backpropagates each
 * example's Hugging Face outputs.loss (batch 1) and sums the gradients. */
static lt_status lt_llm_sum_grad(lt_llama *m, const lt_lm_data *d,
                                 const int64_t *idx, int64_t k, int batch,
                                 int32_t pad)
{
    lt_ctx *c = lt_ctx_new(lt_llama_arena_bytes(&m->cfg, batch, d->max_len,
                                                true));
    lt_llm_batch b = {0};
    lt_status s = c ? LT_OK : lt_set_error(LT_ERR_NOMEM, "mask: out of "
                                           "memory for the arena");
    for (int64_t i = 0; i < k && s == LT_OK; i += batch) {
        int64_t B = k - i < batch ? k - i : batch;
        lt_ctx_reset(c);
        s = lt_llm_batch_fill(&b, d, idx + i, B, pad);
        float *inv = s == LT_OK ? lt_alloc(c, (size_t)B * sizeof *inv) : NULL;
        for (int64_t r = 0; inv && r < B; r++) {
            int64_t cnt = 0;
            for (int64_t t = 0; t < b.T; t++)
                cnt += b.mask[r * b.T + t] != 0;
            inv[r] = 1.0f / (float)(cnt > 0 ? cnt : 1);
        }
        lt_tensor *w = inv ? lt_from_data(c, 1, (int64_t[]){B}, inv) : NULL;
        if (s == LT_OK)
            s = lt_backward(c, lt_sum_all(c, lt_mul(c, lt_llama_seq_nll(
                c, m, b.ids, b.labels, b.mask, b.B, b.T), w)));
    }
    lt_llm_batch_free(&b);
    lt_ctx_free(c);
    return s;
}

/* The gradient of the summed NLL over the first k examples of a seeded
 * permutation of d (k <= 0: all) into out. */
static lt_status lt_llm_data_grad(lt_llama *m, const lt_lm_data *d,
                                  int64_t k, const lt_llm_mask_opts *o,
                                  float *out)
{
    int64_t *idx = malloc((size_t)d->n * sizeof *idx);
    if (!idx)
        return lt_set_error(LT_ERR_NOMEM, "mask: out of memory");
    lt_permutation(idx, d->n, o->seed * 2654435761u + 17u);
    lt_params_zero_grad(&m->params);
    lt_status s = lt_llm_sum_grad(m, d, idx, k > 0 && k < d->n ? k : d->n,
                                  o->batch > 0 ? o->batch : 8, o->pad_id);
    if (s == LT_OK)
        memcpy(out, m->params.grad, (size_t)m->params.n_train * sizeof *out);
    lt_params_zero_grad(&m->params);
    free(idx);
    return s;
}

lt_status lt_llm_mask_compute(lt_llama *m, const lt_lm_data *forget,
                              const lt_lm_data *retain,
                              const lt_llm_mask_opts *o, float *mask,
                              double *kept)
{
    if (!m || !o || !mask)
        return lt_set_error(LT_ERR_ARG, "mask: NULL argument");
    int64_t n = m->params.n_train;
    lt_llm_mask_kind kind = o->spec.kind;
    if (kind == LT_LLM_MASK_NONE) {
        for (int64_t i = 0; i < n; i++)
            mask[i] = 1.0f;
        if (kept)
            *kept = 1.0;
        return LT_OK;
    }
    bool need_gf = kind == LT_LLM_MASK_WAGLE || kind == LT_LLM_MASK_GRADIENT ||
                   kind == LT_LLM_MASK_SNIP;
    if ((need_gf && (!forget || forget->n < 1)) ||
        (kind == LT_LLM_MASK_WAGLE && (!retain || retain->n < 1)))
        return lt_set_error(LT_ERR_ARG, "mask %s: needs the forget%s data",
                            lt_llm_mask_names[kind],
                            kind == LT_LLM_MASK_WAGLE ? " and retain" : "");
    float *gf = need_gf ? malloc((size_t)n * sizeof *gf) : NULL;
    float *gr = kind == LT_LLM_MASK_WAGLE ? malloc((size_t)n * sizeof *gr)
                                          : NULL;
    float *score = malloc((size_t)n * sizeof *score);
    lt_status s = score && (gf || !need_gf) &&
                  (gr || kind != LT_LLM_MASK_WAGLE) ? LT_OK :
                  lt_set_error(LT_ERR_NOMEM, "mask: out of memory");
    if (s == LT_OK && gf)
        s = lt_llm_data_grad(m, forget, 0, o, gf);
    if (s == LT_OK && gr)
        s = lt_llm_data_grad(m, retain, o->max_retain, o, gr);
    if (s == LT_OK)
        s = lt_llm_mask_scores(kind, m->params.theta, gf, gr, n, o->mu,
                               o->seed, score);
    if (s == LT_OK)
        s = lt_llm_mask_select(score, n, o->spec.ratio, mask, kept);
    free(gf);
    free(gr);
    free(score);
    return s;
}

lt_status lt_llm_rmu_mask(const lt_llama *m, int layer, float *mask)
{
    if (!m || !mask || layer < 1 || layer > m->cfg.n_layers)
        return lt_set_error(LT_ERR_ARG, "rmu mask: layer %d outside 1..%d",
                            layer, m ? m->cfg.n_layers : 0);
    memset(mask, 0, (size_t)m->params.n_train * sizeof *mask);
    for (int l = layer - 2 < 1 ? 1 : layer - 2; l <= layer; l++) {
        const lt_tensor *w = m->layers[l - 1].down;
        int64_t off = w->data - m->params.theta;
        for (int64_t i = 0; i < w->numel; i++)
            mask[off + i] = 1.0f;
    }
    return LT_OK;
}
