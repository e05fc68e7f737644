/*
 * dm_fmn_ti.c - Forget-Me-Not's first stage, textual inversion
 * (lethe/dm_text_unlearn.h, lt_fmn_ti_*), as train_ti.py computes it with
 * configs/ti.yaml: new token rows beside the encoder's table, trained by
 * AdamW on the denoising loss of the concept's pictures through the
 * frozen encoder and UNet, with clip_ti_decay's norm pull after every
 * step; and the contexts and marks that hand the learned tokens to the
 * attention-resteering stage (dm_text_unlearn.c's lt_fmn_run).
 */
#include "lethe/data.h"
#include "lethe/dm_text_unlearn.h"
#include "lethe/optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

lt_fmn_ti_config lt_fmn_ti_defaults(void)
{
    return (lt_fmn_ti_config){.n_rand = 2, .rand_sigma = 1.0f, .steps = 500,
                              .lr = 1e-3f, .weight_decay = 0.1f,
                              .decay = true,
                              .norm_target = LT_FMN_TI_NORM_AUTO,
                              .flip = true, .seed = 1};
}

/* ---- the context ---------------------------------------------------------------- */

lt_tensor *lt_fmn_ti_context(lt_ctx *c, lt_clip *clip, const int32_t *ids,
                             int L, lt_tensor *emb)
{
    if (!c || !clip || !ids || !emb || emb->ndim != 2 ||
        emb->shape[1] != clip->cfg.width) {
        lt_set_error(LT_ERR_ARG, "fmn ti context: bad argument");
        return NULL;
    }
    int64_t D = clip->cfg.width, K = emb->shape[0], V = clip->cfg.vocab_size;
    /* x = table rows (placeholders 0) + S emb, S [L, K] selecting rows */
    lt_tensor *base = lt_new2(c, L, D), *sel = lt_new2(c, L, K);
    if (!base || !sel)
        return NULL;
    memset(base->data, 0, (size_t)(L * D) * sizeof(float));
    memset(sel->data, 0, (size_t)(L * K) * sizeof(float));
    for (int i = 0; i < L; i++) {
        int32_t id = ids[i];
        if (id >= V || -1 - (int64_t)id >= K) {
            lt_set_error(LT_ERR_ARG, "fmn ti context: id %d at %d outside "
                         "the table (%lld rows) and the %lld placeholders",
                         id, i, (long long)V, (long long)K);
            return NULL;
        }
        if (id >= 0)
            memcpy(base->data + i * D, clip->tok_emb->data + id * D,
                   (size_t)D * sizeof(float));
        else
            sel->data[i * K + (-1 - id)] = 1;
    }
    lt_tensor *x = lt_add(c, base, lt_matmul(c, sel, emb));
    int64_t shape[3] = {1, L, D};
    return x ? lt_clip_text_hidden(c, clip, lt_reshape(c, x, 3, shape))
             : NULL;
}

lt_status lt_fmn_ti_ids(const int32_t *ids, int L, int32_t word, int K,
                        int32_t *out)
{
    if (!ids || !out || L < 1 || K < 1)
        return lt_set_error(LT_ERR_ARG, "fmn ti ids: bad argument");
    int n = 0, hits = 0;
    bool eos = false;
    for (int i = 0; i < L && !eos; i++) {
        int add = ids[i] == word ? K : 1;
        if (n + add > L)
            return lt_set_error(LT_ERR_ARG, "fmn ti ids: the prompt with %d "
                                "placeholder tokens for its concept does "
                                "not fit the context of %d", K, L);
        for (int k = 0; k < add; k++)
            out[n++] = ids[i] == word ? -1 - k : ids[i];
        hits += ids[i] == word;
        eos = ids[i] == LT_CLIP_EOS;
    }
    while (n < L)
        out[n++] = LT_CLIP_PAD;
    if (!hits)
        return lt_set_error(LT_ERR_ARG, "fmn ti ids: the concept's token "
                            "does not occur in the prompt");
    return LT_OK;
}

lt_status lt_fmn_ti_init(const lt_clip *clip, const int32_t *word_ids,
                         int n_words, const lt_fmn_ti_config *cfg, float *emb)
{
    if (!clip || !cfg || !emb || n_words < 0 || (n_words && !word_ids) ||
        cfg->n_rand < 0 || n_words + cfg->n_rand < 1 ||
        !isfinite(cfg->rand_sigma))
        return lt_set_error(LT_ERR_ARG, "fmn ti init: bad argument");
    int64_t D = clip->cfg.width;
    for (int k = 0; k < n_words; k++) {
        if (word_ids[k] < 0 || word_ids[k] >= clip->cfg.vocab_size)
            return lt_set_error(LT_ERR_ARG, "fmn ti init: word id %d outside "
                                "the vocabulary", word_ids[k]);
        memcpy(emb + k * D, clip->tok_emb->data + word_ids[k] * D,
               (size_t)D * sizeof(float));
    }
    lt_rng g;
    lt_rng_init(&g, lt_hash3(cfg->seed, 80, 0));
    lt_rng_fill_normal(&g, emb + n_words * D, cfg->n_rand * D, 0,
                       cfg->rand_sigma);
    return LT_OK;
}

static double row_norm(const float *w, int64_t D)
{
    double s = 0;
    for (int64_t j = 0; j < D; j++)
        s += (double)w[j] * w[j];
    return sqrt(s);
}

float lt_fmn_ti_norm_target(const lt_clip *clip, const lt_fmn_ti_config *cfg)
{
    if (cfg->norm_target != LT_FMN_TI_NORM_AUTO)
        return cfg->norm_target;
    int64_t V = clip->cfg.vocab_size, D = clip->cfg.width;
    double s = 0;
    for (int64_t i = 0; i < V; i++)
        s += row_norm(clip->tok_emb->data + i * D, D);
    return (float)(s / (double)V);
}

/* ---- the loop ------------------------------------------------------------------- */

struct lt_fmn_ti {
    lt_unet *u;
    const lt_dm_schedule *s;
    lt_clip *clip;
    const float *x;
    const int32_t *ids;
    int64_t n, epoch, step, *perm;
    int K;
    float *emb, *grad, *img, *noise, target;
    lt_fmn_ti_config cfg;
    lt_optim opt;
    lt_ctx *c;
    double t0;
};

void lt_fmn_ti_free(lt_fmn_ti *r)
{
    if (!r)
        return;
    free(r->perm);
    free(r->grad);
    free(r->img);
    free(r->noise);
    lt_optim_free(&r->opt);
    lt_ctx_free(r->c);
    free(r);
}

static lt_status ti_check(const lt_fmn_ti *r)
{
    const lt_fmn_ti_config *cfg = &r->cfg;
    const lt_unet *u = r->u;
    if (u->cfg.kind != LT_UNET_TEXT)
        return lt_set_error(LT_ERR_ARG, "fmn ti: unet %s is class-"
                            "conditional (text:... needed)", u->arch);
    if (r->n < 1 || r->K < 1 || cfg->steps < 1 || !(cfg->lr > 0) ||
        !isfinite(cfg->lr) || !(cfg->weight_decay >= 0) ||
        !isfinite(cfg->norm_target) || cfg->norm_target < 0)
        return lt_set_error(LT_ERR_ARG, "fmn ti: need images >= 1, tokens "
                            ">= 1, steps >= 1, lr > 0, weight decay >= 0 "
                            "and a norm target >= 0");
    if (r->clip->cfg.context_length != u->cfg.ctx_len ||
        r->clip->cfg.width != u->cfg.ctx_dim)
        return lt_set_error(LT_ERR_ARG, "fmn ti: the encoder gives %dx%d "
                            "contexts, %s takes %dx%d",
                            r->clip->cfg.context_length, r->clip->cfg.width,
                            u->arch, u->cfg.ctx_len, u->cfg.ctx_dim);
    int L = u->cfg.ctx_len;
    for (int64_t i = 0; i < r->n; i++) {
        int ph = 0;
        for (int j = 0; j < L; j++) {
            int32_t id = r->ids[i * L + j];
            if (id >= r->clip->cfg.vocab_size || -1 - (int64_t)id >= r->K)
                return lt_set_error(LT_ERR_ARG, "fmn ti: image %lld: id %d "
                                    "out of range", (long long)i, id);
            ph += id < 0;
        }
        if (!ph)
            return lt_set_error(LT_ERR_ARG, "fmn ti: the ids of image %lld "
                                "hold no placeholder", (long long)i);
    }
    return LT_OK;
}

lt_status lt_fmn_ti_new(lt_unet *u, const lt_dm_schedule *s, lt_clip *clip,
                        const float *x, const int32_t *ids, int64_t n, int K,
                        float *emb, const lt_fmn_ti_config *cfg,
                        lt_fmn_ti **out)
{
    if (!u || !s || !clip || !x || !ids || !emb || !cfg || !out)
        return lt_set_error(LT_ERR_ARG, "fmn ti: NULL argument");
    *out = NULL;
    lt_fmn_ti *r = calloc(1, sizeof *r);
    if (!r)
        return lt_set_error(LT_ERR_NOMEM, "fmn ti: out of memory");
    *r = (lt_fmn_ti){.u = u, .s = s, .clip = clip, .x = x, .ids = ids,
                     .n = n, .K = K, .emb = emb, .cfg = *cfg, .epoch = -1,
                     .t0 = lt_clock_seconds()};
    lt_status st = ti_check(r);
    int64_t per = (int64_t)u->cfg.in_ch * u->cfg.res * u->cfg.res;
    int64_t KD = (int64_t)K * clip->cfg.width;
    if (st == LT_OK) {
        r->perm = malloc((size_t)n * sizeof *r->perm);
        r->grad = calloc((size_t)KD, sizeof *r->grad);
        r->img = malloc((size_t)per * sizeof *r->img);
        r->noise = malloc((size_t)per * sizeof *r->noise);
        r->c = lt_ctx_new(lt_unet_arena_bytes(u, 1, true) +
                          lt_clip_arena_bytes(&clip->cfg, 1, 1, 1, true));
        if (!r->perm || !r->grad || !r->img || !r->noise || !r->c)
            st = lt_set_error(LT_ERR_NOMEM, "fmn ti: out of memory");
    }
    if (st == LT_OK) {
        lt_optim_config oc = lt_optim_defaults(LT_OPT_ADAMW);
        oc.lr = cfg->lr;
        oc.weight_decay = cfg->weight_decay;
        st = lt_optim_init(&r->opt, &oc, KD);
    }
    if (st != LT_OK) {
        lt_fmn_ti_free(r);
        return st;
    }
    r->target = lt_fmn_ti_norm_target(clip, cfg);
    *out = r;
    return LT_OK;
}

const float *lt_fmn_ti_grad(const lt_fmn_ti *r)
{
    return r ? r->grad : NULL;
}

/* The seeded draws of step k (the shuffle of its epoch, the flip, t and
 * the noise into d->noise). */
static void ti_draws(lt_fmn_ti *r, int64_t k, lt_fmn_ti_draw *d)
{
    int64_t ep = k / r->n;
    if (ep != r->epoch) {
        lt_permutation(r->perm, r->n, lt_hash3(r->cfg.seed, 82,
                                                (uint64_t)ep));
        r->epoch = ep;
    }
    lt_rng g;
    lt_rng_init(&g, lt_hash3(r->cfg.seed, 81, (uint64_t)k));
    d->index = r->perm[k % r->n];
    d->flip = r->cfg.flip && lt_rng_uniform(&g) > 0.5f;
    d->t = (int32_t)lt_rng_below(&g, (uint64_t)r->s->T);
    lt_rng_fill_normal(&g, d->noise, (int64_t)r->u->cfg.in_ch *
                                         r->u->cfg.res * r->u->cfg.res, 0, 1);
}

/* The image of d, flipped left-right when d says so, into r->img. */
static void ti_image(lt_fmn_ti *r, const lt_fmn_ti_draw *d)
{
    int R = r->u->cfg.res;
    int64_t per = (int64_t)r->u->cfg.in_ch * R * R;
    const float *src = r->x + d->index * per;
    for (int64_t q = 0; q < per; q += R)
        for (int w = 0; w < R; w++)
            r->img[q + w] = src[q + (d->flip ? R - 1 - w : w)];
}

/* The loss MSE_mean(e(x_t, t | E(prompt)), noise) on r->c's tape. */
static lt_tensor *ti_loss(lt_fmn_ti *r, const lt_fmn_ti_draw *d,
                          lt_tensor *leaf)
{
    lt_unet *u = r->u;
    int L = u->cfg.ctx_len;
    int64_t shape[4] = {1, u->cfg.in_ch, u->cfg.res, u->cfg.res};
    lt_tensor *x0 = lt_from_data(r->c, 4, shape, r->img);
    lt_tensor *e = lt_from_data(r->c, 4, shape, d->noise);
    lt_tensor *ctx = lt_fmn_ti_context(r->c, r->clip, r->ids + d->index * L,
                                       L, leaf);
    if (!x0 || !e || !ctx)
        return NULL;
    bool was = lt_set_grad_enabled(r->c, false);
    lt_tensor *xt = lt_dm_q_sample(r->c, r->s, x0, e, &d->t);
    lt_set_grad_enabled(r->c, was);
    float tf = (float)d->t;
    lt_tensor *out = xt ? lt_unet_forward_text(r->c, u, xt, &tf, ctx, false)
                        : NULL;
    return out ? lt_mse(r->c, out, e, LT_REDUCE_MEAN) : NULL;
}

/* clip_ti_decay: each row to norm pre + lambda (target - pre). */
static double ti_decay(lt_fmn_ti *r)
{
    int64_t D = r->clip->cfg.width;
    double lambda = fmin(1.0, 100.0 * r->cfg.lr), mean = 0;
    for (int k = 0; k < r->K; k++) {
        float *w = r->emb + k * D;
        double pre = row_norm(w, D);
        if (r->cfg.decay) {
            double scale = (pre + lambda * (r->target - pre)) /
                           fmax(pre, 1e-12);
            for (int64_t j = 0; j < D; j++)
                w[j] = (float)(w[j] * scale);
        }
        mean += row_norm(w, D) / r->K;
    }
    return mean;
}

lt_status lt_fmn_ti_step(lt_fmn_ti *r, const lt_fmn_ti_draw *d,
                         lt_fmn_ti_event *ev)
{
    if (!r || !ev || (d && (!d->noise || d->index < 0 || d->index >= r->n ||
                            d->t < 0 || d->t >= r->s->T)))
        return lt_set_error(LT_ERR_ARG, "fmn ti step: bad argument");
    lt_fmn_ti_draw own = {.noise = r->noise};
    if (d) {
        own = *d;
    } else {
        ti_draws(r, r->step, &own);
    }
    ti_image(r, &own);
    long long k = (long long)r->step + 1;
    int64_t KD = (int64_t)r->K * r->clip->cfg.width;
    lt_ctx_reset(r->c);
    memset(r->grad, 0, (size_t)KD * sizeof *r->grad);
    lt_tensor leaf_t;
    int64_t shp[2] = {r->K, r->clip->cfg.width};
    lt_status st = lt_tensor_wrap(&leaf_t, r->emb, r->grad, 2, shp);
    lt_tensor *l = st == LT_OK ? ti_loss(r, &own, &leaf_t) : NULL;
    if (!l || lt_backward(r->c, l) != LT_OK)
        return lt_set_error(lt_last_status(), "fmn ti step %lld: %s", k,
                            lt_last_error());
    if (!isfinite(l->data[0]))
        return lt_set_error(LT_ERR_NAN, "fmn ti step %lld: loss %g", k,
                            (double)l->data[0]);
    if (lt_optim_step(&r->opt, r->emb, r->grad, NULL, r->cfg.lr) != LT_OK)
        return lt_last_status();
    double norm = ti_decay(r);
    r->step++;
    *ev = (lt_fmn_ti_event){.step = r->step, .steps = r->cfg.steps,
                            .loss = l->data[0], .norm = (float)norm,
                            .seconds = lt_clock_seconds() - r->t0};
    return LT_OK;
}

lt_status lt_fmn_ti_run(lt_unet *u, const lt_dm_schedule *s, lt_clip *clip,
                        const float *x, const int32_t *ids, int64_t n, int K,
                        float *emb, const lt_fmn_ti_config *cfg,
                        lt_fmn_ti_fn cb, void *ud)
{
    lt_fmn_ti *r = NULL;
    lt_status st = lt_fmn_ti_new(u, s, clip, x, ids, n, K, emb, cfg, &r);
    while (st == LT_OK && r->step < cfg->steps) {
        lt_fmn_ti_event ev;
        st = lt_fmn_ti_step(r, NULL, &ev);
        if (st == LT_OK && cb)
            cb(&ev, ud);
    }
    lt_fmn_ti_free(r);
    return st;
}

lt_status lt_fmn_ti_contexts(lt_clip *clip, const int32_t *ids, int64_t n,
                             int K, const float *emb, float *ctx, float *mask)
{
    if (!clip || !ids || !emb || !ctx || !mask || n < 1 || K < 1)
        return lt_set_error(LT_ERR_ARG, "fmn ti contexts: bad argument");
    int L = clip->cfg.context_length;
    int64_t D = clip->cfg.width;
    lt_ctx *c = lt_ctx_new(lt_clip_arena_bytes(&clip->cfg, 1, 1, 1, false));
    if (!c)
        return lt_set_error(LT_ERR_NOMEM, "fmn ti contexts: out of memory");
    lt_set_grad_enabled(c, false);
    lt_status st = LT_OK;
    for (int64_t i = 0; st == LT_OK && i < n; i++) {
        lt_ctx_reset(c);
        lt_tensor *e = lt_from_data(c, 2, (int64_t[]){K, D}, (float *)emb);
        lt_tensor *h = e ? lt_fmn_ti_context(c, clip, ids + i * L, L, e)
                         : NULL;
        if (!h) {
            st = lt_last_status();
            break;
        }
        memcpy(ctx + i * L * D, h->data, (size_t)(L * D) * sizeof(float));
        for (int j = 0; j < L; j++) {
            int32_t id = ids[i * L + j];
            mask[i * L + j] = id < 0 || id == LT_CLIP_EOS;
        }
    }
    lt_ctx_free(c);
    return st;
}
