/*
 * dm_sa.c - Selective Amnesia on a class-conditional diffusion UNet
 * (lethe/dm_sa.h), after the official DDPM code: the replay set sampled
 * from the model and stored as its PNGs, the diagonal Fisher of the
 * per-sample ELBO-style loss summed over the timesteps (save_fim), and
 * train_forget's loop (uniform-noise images of the forgotten class +
 * generative replay + EWC, Adam with clipping, EMA output). The replay set
 * and Fisher are computed once per base model and saved to a safetensors
 * file, since the Fisher costs T forward/backward passes per sample.
 */
#include "lethe/dm_sa.h"
#include "lethe/data.h"
#include "lethe/optim.h"
#include "lethe/safetensors.h"
#include "lethe/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

lt_dmu_sa_prep_config lt_dmu_sa_prep_defaults(void)
{
    return (lt_dmu_sa_prep_config){.per_class = 500,
                                   .sample = lt_dm_sample_defaults(),
                                   .png = true, .fim_timesteps = 0,
                                   .fim_pm1 = false, .fim_cond_drop = 0.1f,
                                   .seed = 1, .chunk = 32};
}

void lt_dmu_sa_prep_describe(const lt_dmu_sa_prep_config *cfg, char *buf,
                             size_t n)
{
    char smp[160];
    lt_dm_sample_describe(&cfg->sample, 1000, smp, sizeof smp);
    snprintf(buf, n, "replay %d/class, %s, sampler seed %llu%s; fisher "
             "timesteps %d (0: all), inputs %s, null-class drop %g, seed "
             "%llu", cfg->per_class, smp,
             (unsigned long long)cfg->sample.seed, cfg->png ? ", png" : "",
             cfg->fim_timesteps, cfg->fim_pm1 ? "[-1,1]" : "[0,1]",
             (double)cfg->fim_cond_drop, (unsigned long long)cfg->seed);
}

void lt_dmu_sa_data_free(lt_dmu_sa_data *d)
{
    if (!d)
        return;
    free(d->fisher);
    free(d->x);
    free(d->y);
    memset(d, 0, sizeof *d);
}

static int64_t img_size(const lt_unet *u)
{
    return (int64_t)u->cfg.in_ch * u->cfg.res * u->cfg.res;
}

static lt_status class_model(const lt_unet *u, const char *what)
{
    if (!u || u->cfg.kind != LT_UNET_CLASS)
        return lt_set_error(LT_ERR_ARG, "%s: needs a class-conditional unet "
                            "(cond:...)%s%s", what, u ? ", not " : "",
                            u ? u->arch : "");
    return LT_OK;
}

/* ---- the replay set (sample_classes) ---------------------------------------------- */

/* x [per] as torchvision's save_image(normalize=True) writes it after
 * inverse_data_transform, read back by ToTensor and data_transform:
 * clamp((x + 1) / 2) stretched to its own min..max, 8 bits, then 2 v - 1. */
static void as_png(float *x, int64_t per)
{
    float lo = INFINITY, hi = -INFINITY;
    for (int64_t j = 0; j < per; j++) {
        float v = fminf(fmaxf((x[j] + 1.0f) / 2.0f, 0.0f), 1.0f);
        x[j] = v;
        lo = fminf(lo, v);
        hi = fmaxf(hi, v);
    }
    float span = fmaxf(hi - lo, 1e-5f);
    for (int64_t j = 0; j < per; j++) {
        float v = (x[j] - lo) / span;
        float q = floorf(fminf(fmaxf(v * 255.0f + 0.5f, 0.0f), 255.0f));
        x[j] = 2.0f * (q / 255.0f) - 1.0f;
    }
}

/* Rank r's share [lo, hi) of n items in blocks of b: whole blocks, the
 * blocks dealt out as evenly as they go. */
static void share(int64_t n, int64_t b, int r, int R, int64_t *lo,
                  int64_t *hi)
{
    int64_t nb = (n + b - 1) / b;
    *lo = nb * r / R * b;
    *hi = nb * (r + 1) / R * b;
    *lo = *lo < n ? *lo : n;
    *hi = *hi < n ? *hi : n;
}

/* The replay samples made by the ranks, each its share of whole sampler
 * batches (so the batches, and the bits, are one process's), then one
 * all-gather: every rank holds all n in d->x. */
static lt_status replay_spread(lt_unet *u, const lt_dm_schedule *s,
                               const lt_dmu_sa_prep_config *cfg, int64_t n,
                               lt_dm_progress_fn progress, void *ud,
                               lt_dmu_sa_data *d)
{
    int R = lt_dist_size();
    int64_t per = d->per, b = cfg->sample.batch > 0 ? cfg->sample.batch : 1;
    int64_t most = ((n + b - 1) / b + R - 1) / R * b, lo, hi;
    share(n, b, lt_dist_rank(), R, &lo, &hi);
    float *mine = calloc((size_t)(most * per), sizeof *mine);
    float *all = malloc((size_t)(R * most * per) * sizeof *all);
    lt_status st = mine && all ? LT_OK
                   : lt_set_error(LT_ERR_NOMEM, "sa replay: out of memory");
    if (st == LT_OK && hi > lo)
        st = lt_dm_sample_range(u, s, &cfg->sample, lo, hi - lo, d->y + lo,
                                mine, progress, ud);
    if (st == LT_OK)
        st = lt_dist_allgather(mine, all, (size_t)(most * per) *
                               sizeof *mine);
    for (int q = 0; st == LT_OK && q < R; q++) {
        share(n, b, q, R, &lo, &hi);
        memcpy(d->x + lo * per, all + q * most * per,
               (size_t)((hi - lo) * per) * sizeof *all);
    }
    free(mine);
    free(all);
    return st;
}

lt_status lt_dmu_sa_replay(lt_unet *u, const lt_dm_schedule *s,
                           const lt_dmu_sa_prep_config *cfg,
                           lt_dm_progress_fn progress, void *ud,
                           lt_dmu_sa_data *d)
{
    if (class_model(u, "sa replay") != LT_OK)
        return lt_last_status();
    if (!s || !cfg || !d || cfg->per_class < 1)
        return lt_set_error(LT_ERR_ARG, "sa replay: need per_class >= 1 "
                            "(got %d)", cfg ? cfg->per_class : 0);
    int K = u->cfg.classes;
    int64_t n = (int64_t)cfg->per_class * K, per = img_size(u);
    free(d->x);
    free(d->y);
    d->x = malloc((size_t)(n * per) * sizeof *d->x);
    d->y = malloc((size_t)n * sizeof *d->y);
    d->n = 0;
    d->per = per;
    if (!d->x || !d->y)
        return lt_set_error(LT_ERR_NOMEM, "sa replay: out of memory");
    for (int64_t i = 0; i < n; i++)
        d->y[i] = (int32_t)(i / cfg->per_class);
    lt_status st = cfg->spread && lt_dist_size() > 1
                       ? replay_spread(u, s, cfg, n, progress, ud, d)
                       : lt_dm_sample(u, s, &cfg->sample, n, d->y, d->x,
                                      progress, ud);
    if (st != LT_OK)
        return lt_set_error(st, "sa replay: %s", lt_last_error());
    for (int64_t i = 0; cfg->png && i < n; i++)
        as_png(d->x + i * per, per);
    d->n = n;
    return LT_OK;
}

/* ---- the Fisher (save_fim) -------------------------------------------------------- */

/* The chunk [o, o + m) of one sample's timesteps, backpropagated. */
static lt_status grad_chunk(lt_ctx *c, lt_unet *u, const lt_dm_schedule *s,
                            const float *x, int o, int m, const int32_t *t,
                            const float *e, const int32_t *cls, float scale)
{
    int64_t per = img_size(u);
    int64_t shape[4] = {m, u->cfg.in_ch, u->cfg.res, u->cfg.res};
    lt_ctx_reset(c);
    lt_tensor *x0 = lt_new(c, 4, shape);
    float *tf = lt_alloc(c, (size_t)m * sizeof *tf);
    if (!x0 || !tf)
        return lt_last_status();
    for (int i = 0; i < m; i++) {
        memcpy(x0->data + i * per, x, (size_t)per * sizeof(float));
        tf[i] = (float)t[o + i];
    }
    lt_tensor *ee = lt_from_data(c, 4, shape, (float *)e + (int64_t)o * per);
    lt_tensor *xt = ee ? lt_dm_q_sample(c, s, x0, ee, t + o) : NULL;
    lt_tensor *eps = xt ? lt_unet_forward(c, u, xt, tf, cls + o, false)
                        : NULL;
    lt_tensor *l = eps ? lt_mse(c, eps, ee, LT_REDUCE_SUM) : NULL;
    l = l ? lt_affine(c, l, scale, 0.0f) : NULL;
    if (!l || lt_backward(c, l) != LT_OK)
        return lt_last_status();
    if (!isfinite(l->data[0]))
        return lt_set_error(LT_ERR_NAN, "sa fisher: non-finite loss");
    return LT_OK;
}

static lt_status sample_grad(lt_ctx *c, lt_unet *u, const lt_dm_schedule *s,
                             const float *x, int nt, const int32_t *t,
                             const float *e, const int32_t *cls, float scale,
                             int chunk, float *g)
{
    lt_params_zero_grad(&u->params);
    for (int o = 0; o < nt; o += chunk) {
        int m = nt - o < chunk ? nt - o : chunk;
        lt_status st = grad_chunk(c, u, s, x, o, m, t, e, cls, scale);
        if (st != LT_OK)
            return st;
    }
    memcpy(g, u->params.grad, (size_t)u->params.n_train * sizeof *g);
    return LT_OK;
}

lt_status lt_dmu_sa_sample_grad(lt_unet *u, const lt_dm_schedule *s,
                                const float *x, int nt, const int32_t *t,
                                const float *e, const int32_t *cls,
                                float scale, int chunk, float *g)
{
    if (class_model(u, "sa fisher") != LT_OK)
        return lt_last_status();
    if (!s || !x || !t || !e || !cls || !g || nt < 1 || chunk < 1)
        return lt_set_error(LT_ERR_ARG, "sa fisher: bad argument");
    int m = nt < chunk ? nt : chunk;
    lt_ctx *c = lt_ctx_new(lt_unet_arena_bytes(u, m, true));
    if (!c)
        return lt_set_error(LT_ERR_NOMEM, "sa fisher: out of memory");
    lt_status st = sample_grad(c, u, s, x, nt, t, e, cls, scale, chunk, g);
    lt_ctx_free(c);
    return st;
}

/* The timesteps of the Fisher's sum: all T, or every (T/K)-th. */
static lt_status fisher_steps(const lt_dmu_sa_prep_config *cfg, int T,
                              int32_t **t, int *nt, float *scale)
{
    int K = cfg->fim_timesteps > 0 ? cfg->fim_timesteps : T;
    if (K > T || T % K)
        return lt_set_error(LT_ERR_ARG, "sa fisher: fim_timesteps %d must "
                            "divide T = %d", cfg->fim_timesteps, T);
    *t = malloc((size_t)K * sizeof **t);
    if (!*t)
        return lt_set_error(LT_ERR_NOMEM, "sa fisher: out of memory");
    for (int k = 0; k < K; k++)
        (*t)[k] = k * (T / K);
    *nt = K;
    *scale = (float)T / (float)K;
    return LT_OK;
}

/* Sample i's noise [nt, per] and classes [nt] (seeded by i). */
static void fisher_draw(const lt_dmu_sa_prep_config *cfg, int64_t i, int nt,
                        int64_t per, int32_t y, float *e, int32_t *cls)
{
    lt_rng r;
    lt_rng_init(&r, lt_hash3(cfg->seed, 51, (uint64_t)i));
    lt_rng_fill_normal(&r, e, nt * per, 0, 1);
    for (int k = 0; k < nt; k++)
        cls[k] = cfg->fim_cond_drop > 0 &&
                 lt_rng_uniform(&r) < cfg->fim_cond_drop ? -1 : y;
}

/* The ranks' partial sums acc [n] (double), added in rank order into acc
 * on every rank. */
static lt_status fisher_gather(double *acc, int64_t n)
{
    int R = lt_dist_size();
    double *all = malloc((size_t)(R * n) * sizeof *all);
    if (!all)
        return lt_set_error(LT_ERR_NOMEM, "sa fisher: out of memory");
    lt_status st = lt_dist_allgather(acc, all, (size_t)n * sizeof *acc);
    for (int64_t j = 0; st == LT_OK && j < n; j++) {
        acc[j] = all[j];
        for (int q = 1; q < R; q++)
            acc[j] += all[q * n + j];
    }
    free(all);
    return st;
}

lt_status lt_dmu_sa_fisher(lt_unet *u, const lt_dm_schedule *s,
                           const lt_dmu_sa_prep_config *cfg,
                           lt_dm_progress_fn progress, void *ud,
                           lt_dmu_sa_data *d)
{
    if (class_model(u, "sa fisher") != LT_OK)
        return lt_last_status();
    if (!s || !cfg || !d || !d->x || !d->y || d->n < 1 || cfg->chunk < 1)
        return lt_set_error(LT_ERR_ARG, "sa fisher: no replay samples");
    int nt = 0;
    float scale = 1;
    int32_t *t = NULL;
    if (fisher_steps(cfg, s->T, &t, &nt, &scale) != LT_OK)
        return lt_last_status();
    int64_t per = img_size(u), ntr = u->params.n_train;
    int m = nt < cfg->chunk ? nt : cfg->chunk;
    lt_ctx *c = lt_ctx_new(lt_unet_arena_bytes(u, m, true));
    float *e = malloc((size_t)(nt * per) * sizeof *e);
    float *x = malloc((size_t)per * sizeof *x);
    float *g = malloc((size_t)ntr * sizeof *g);
    int32_t *cls = malloc((size_t)nt * sizeof *cls);
    double *acc = calloc((size_t)ntr, sizeof *acc);
    lt_status st = c && e && x && g && cls && acc
                       ? LT_OK
                       : lt_set_error(LT_ERR_NOMEM, "sa fisher: out of memory");
    int64_t lo = 0, hi = d->n; /* spread: this rank's samples */
    if (cfg->spread)
        share(d->n, 1, lt_dist_rank(), lt_dist_size(), &lo, &hi);
    for (int64_t i = lo; st == LT_OK && i < hi; i++) {
        for (int64_t j = 0; j < per; j++) /* ToTensor's [0, 1] */
            x[j] = cfg->fim_pm1 ? d->x[i * per + j]
                                : (d->x[i * per + j] + 1.0f) / 2.0f;
        fisher_draw(cfg, i, nt, per, d->y[i], e, cls);
        st = sample_grad(c, u, s, x, nt, t, e, cls, scale, cfg->chunk, g);
        for (int64_t j = 0; st == LT_OK && j < ntr; j++)
            acc[j] += (double)g[j] * g[j];
        if (st == LT_OK && progress)
            progress(i + 1 - lo, hi - lo, ud);
    }
    if (st == LT_OK && cfg->spread && lt_dist_size() > 1)
        st = fisher_gather(acc, ntr);
    if (st == LT_OK) {
        free(d->fisher);
        d->fisher = malloc((size_t)ntr * sizeof *d->fisher);
        if (!d->fisher)
            st = lt_set_error(LT_ERR_NOMEM, "sa fisher: out of memory");
        for (int64_t j = 0; st == LT_OK && j < ntr; j++)
            d->fisher[j] = (float)(acc[j] / (double)d->n);
        d->n_train = ntr;
    }
    lt_ctx_free(c);
    free(e);
    free(x);
    free(g);
    free(cls);
    free(acc);
    free(t);
    return st;
}

lt_status lt_dmu_sa_prepare(lt_unet *u, const lt_dm_schedule *s,
                            const lt_dmu_sa_prep_config *cfg,
                            lt_dm_progress_fn progress, void *ud,
                            lt_dmu_sa_data *d)
{
    lt_status st = lt_dmu_sa_replay(u, s, cfg, progress, ud, d);
    return st == LT_OK ? lt_dmu_sa_fisher(u, s, cfg, progress, ud, d) : st;
}

/* ---- the cache file ---------------------------------------------------------------- */

lt_status lt_dmu_sa_save(const char *path, const lt_dmu_sa_data *d,
                         const char *const *meta, int n_meta)
{
    if (!path || !d || !d->fisher || !d->x || !d->y || d->n < 1)
        return lt_set_error(LT_ERR_ARG, "sa save: nothing to save");
    float *yf = malloc((size_t)d->n * sizeof *yf);
    if (!yf)
        return lt_set_error(LT_ERR_NOMEM, "sa save: out of memory");
    for (int64_t i = 0; i < d->n; i++)
        yf[i] = (float)d->y[i];
    lt_st_tensor t[3] = {
        {.name = "fisher", .ndim = 1, .shape = {d->n_train},
         .data = d->fisher},
        {.name = "replay.x", .ndim = 2, .shape = {d->n, d->per},
         .data = d->x},
        {.name = "replay.y", .ndim = 1, .shape = {d->n}, .data = yf}};
    lt_status st = lt_st_save(path, t, 3, meta, n_meta);
    free(yf);
    return st;
}

static lt_status load_from(const lt_st_file *f, const char *path,
                           const lt_unet *u, lt_dmu_sa_data *d)
{
    const lt_st_tensor *F = lt_st_get(f, "fisher");
    const lt_st_tensor *X = lt_st_get(f, "replay.x");
    const lt_st_tensor *Y = lt_st_get(f, "replay.y");
    int64_t per = img_size(u);
    if (!F || !X || !Y || F->ndim != 1 || F->shape[0] != u->params.n_train ||
        X->ndim != 2 || X->shape[1] != per || Y->ndim != 1 ||
        Y->shape[0] != X->shape[0] || X->shape[0] < 1)
        return lt_set_error(LT_ERR_FORMAT, "%s: not a Selective Amnesia file "
                            "for %s (%lld weights, %lld pixels)", path,
                            u->arch, (long long)u->params.n_train,
                            (long long)per);
    d->n_train = F->shape[0];
    d->n = X->shape[0];
    d->per = per;
    d->fisher = malloc((size_t)d->n_train * sizeof *d->fisher);
    d->x = malloc((size_t)(d->n * per) * sizeof *d->x);
    d->y = malloc((size_t)d->n * sizeof *d->y);
    if (!d->fisher || !d->x || !d->y)
        return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", path);
    memcpy(d->fisher, F->data, (size_t)d->n_train * sizeof *d->fisher);
    memcpy(d->x, X->data, (size_t)(d->n * per) * sizeof *d->x);
    for (int64_t i = 0; i < d->n; i++) {
        float v = Y->data[i];
        if (!(v >= 0 && v < (float)u->cfg.classes) || v != floorf(v))
            return lt_set_error(LT_ERR_FORMAT, "%s: replay label %g of "
                                "sample %lld outside 0..%d", path, (double)v,
                                (long long)i, u->cfg.classes - 1);
        d->y[i] = (int32_t)v;
    }
    return LT_OK;
}

lt_status lt_dmu_sa_load(const char *path, const lt_unet *u,
                         const char *meta_key, const char *want,
                         lt_dmu_sa_data *d)
{
    if (!path || !d || class_model(u, "sa load") != LT_OK)
        return lt_set_error(LT_ERR_ARG, "sa load: bad argument");
    lt_st_file *f = NULL;
    lt_status st = lt_st_load(path, &f);
    if (st != LT_OK)
        return st;
    const char *have = meta_key ? lt_st_meta(f, meta_key) : NULL;
    if (meta_key && want && (!have || strcmp(have, want)))
        st = lt_set_error(LT_ERR_ARG, "%s: made for %s = '%s', not '%s' "
                          "(delete it or give another file)", path, meta_key,
                          have ? have : "(none)", want);
    if (st == LT_OK)
        st = load_from(f, path, u, d);
    if (st != LT_OK)
        lt_dmu_sa_data_free(d);
    lt_st_free(f);
    return st;
}

/* ---- the loss (train_forget) -------------------------------------------------------- */

lt_dmu_sa_config lt_dmu_sa_defaults(void)
{
    return (lt_dmu_sa_config){.forget_class = -1, .lambda = 10.0f,
                              .gamma = 1.0f, .steps = 20000, .batch = 128,
                              .lr = 1e-4f, .clip = 1.0f,
                              .ema = LT_DMU_SA_EMA_AUTO, .seed = 1,
                              .chunk = 32};
}

lt_status lt_dmu_sa_recipe(const char *name, lt_dmu_sa_prep_config *p,
                           lt_dmu_sa_config *c)
{
    bool official = name && !strcmp(name, "official");
    if (!official && !(name && !strcmp(name, "short")))
        return lt_set_error(LT_ERR_ARG, "sa recipe '%s': unknown (known: "
                            "official, short)", name ? name : "(null)");
    lt_dmu_sa_prep_config pp = lt_dmu_sa_prep_defaults();
    lt_dmu_sa_config cc = lt_dmu_sa_defaults();
    if (!official) { /* Lethe's short preset (docs/diffusion-unlearning.md) */
        pp.per_class = 20;
        pp.sample.steps = 50; /* DDIM-50 */
        pp.sample.eta = 0;
        pp.fim_timesteps = 20;
        cc.steps = 200;
        cc.batch = 16;
    }
    if (p)
        *p = pp;
    if (c)
        *c = cc;
    return LT_OK;
}

float lt_dmu_sa_ema(const lt_dmu_sa_config *cfg)
{
    if (cfg->ema != LT_DMU_SA_EMA_AUTO)
        return cfg->ema;
    /* the official 0.9999 over 20000 steps: the same e^-2 share left */
    return (float)pow(0.9999, 20000.0 / (double)(cfg->steps > 0 ? cfg->steps
                                                                : 1));
}

/* scale * sum((e - eps(x_t | cls))^2) over m images (a chunk). */
static lt_tensor *denoise_term(lt_ctx *c, lt_unet *u, const lt_dm_schedule *s,
                               const float *x0, const float *e,
                               const int32_t *t, const int32_t *cls, int m,
                               float scale, bool training)
{
    int64_t shape[4] = {m, u->cfg.in_ch, u->cfg.res, u->cfg.res};
    lt_tensor *x = lt_from_data(c, 4, shape, (float *)x0);
    lt_tensor *ee = lt_from_data(c, 4, shape, (float *)e);
    float *tf = lt_alloc(c, (size_t)m * sizeof *tf);
    if (!x || !ee || !tf)
        return NULL;
    for (int i = 0; i < m; i++)
        tf[i] = (float)t[i];
    lt_tensor *xt = lt_dm_q_sample(c, s, x, ee, t);
    lt_tensor *eps = xt ? lt_unet_forward(c, u, xt, tf, cls, training) : NULL;
    lt_tensor *l = eps ? lt_mse(c, eps, ee, LT_REDUCE_SUM) : NULL;
    return l ? lt_affine(c, l, scale, 0.0f) : NULL;
}

/* The forget term's classes: c_f for m images (on c's arena). */
static int32_t *forget_classes(lt_ctx *c, int m, int cf)
{
    int32_t *k = lt_alloc(c, (size_t)m * sizeof *k);
    for (int i = 0; k && i < m; i++)
        k[i] = cf;
    return k;
}

lt_tensor *lt_dmu_sa_step_loss(lt_ctx *c, lt_unet *u, const lt_dm_schedule *s,
                               const lt_dmu_sa_config *cfg,
                               const lt_dmu_sa_batch *b, bool training,
                               float *forget, float *replay)
{
    if (!c || !u || !s || !cfg || !b || b->B < 1 || !b->xf || !b->ef ||
        !b->xr || !b->er || !b->t || !b->yr ||
        class_model(u, "sa loss") != LT_OK) {
        lt_set_error(LT_ERR_ARG, "sa loss: missing arguments");
        return NULL;
    }
    int32_t *cf = forget_classes(c, b->B, cfg->forget_class);
    float inv = 1.0f / (float)b->B;
    lt_tensor *lf = cf ? denoise_term(c, u, s, b->xf, b->ef, b->t, cf, b->B,
                                      inv, training) : NULL;
    lt_tensor *lr = lf ? denoise_term(c, u, s, b->xr, b->er, b->t, b->yr,
                                      b->B, inv, training) : NULL;
    if (!lr)
        return NULL;
    if (forget)
        *forget = lf->data[0];
    if (replay)
        *replay = lr->data[0];
    return lt_add(c, lf, lt_affine(c, lr, cfg->gamma, 0.0f));
}

double lt_dmu_sa_ewc(lt_unet *u, const float *fisher, const float *theta_star,
                     float lambda)
{
    const float *th = u->params.theta;
    float *g = u->params.grad;
    double sum = 0;
    for (int64_t i = 0; i < u->params.n_train; i++) {
        double d = (double)th[i] - theta_star[i];
        sum += (double)fisher[i] * d * d;
        g[i] += (float)(2.0 * lambda * fisher[i] * d);
    }
    return lambda * sum;
}

/* ---- the loop ----------------------------------------------------------------------- */

typedef struct {
    lt_unet *u;
    const lt_dm_schedule *s;
    const lt_dmu_sa_data *d;
    const lt_dmu_sa_config *cfg;
    const float *mask;
    int64_t *idx, n, *perm, epoch; /* the replay samples of other classes */
    lt_optim opt;
    lt_ctx *c;
    float *star, *ema, *xf, *ef, *xr, *er, decay;
    int32_t *t, *yr;
    int64_t step;
    lt_dp *dp; /* data parallel (cfg->dist), else NULL */
} sa_runner;

static void sa_free(sa_runner *r)
{
    free(r->idx);
    free(r->perm);
    lt_optim_free(&r->opt);
    lt_ctx_free(r->c);
    free(r->star);
    free(r->ema);
    free(r->xf);
    free(r->ef);
    free(r->xr);
    free(r->er);
    free(r->t);
    free(r->yr);
    lt_dp_free(r->dp);
}

static lt_status sa_init(sa_runner *r)
{
    const lt_dmu_sa_config *cfg = r->cfg;
    const lt_dmu_sa_data *d = r->d;
    int64_t ntr = r->u->params.n_train, per = d->per, B = cfg->batch;
    r->idx = malloc((size_t)d->n * sizeof *r->idx);
    r->perm = malloc((size_t)d->n * sizeof *r->perm);
    for (int64_t i = 0; r->idx && i < d->n; i++)
        if (d->y[i] != cfg->forget_class)
            r->idx[r->n++] = i;
    r->epoch = -1;
    r->star = malloc((size_t)ntr * sizeof *r->star);
    r->ema = malloc((size_t)ntr * sizeof *r->ema);
    size_t img = (size_t)(B * per) * sizeof(float);
    r->xf = malloc(img);
    r->ef = malloc(img);
    r->xr = malloc(img);
    r->er = malloc(img);
    r->t = malloc((size_t)B * sizeof *r->t);
    r->yr = malloc((size_t)B * sizeof *r->yr);
    int ch = B < cfg->chunk ? (int)B : cfg->chunk;
    r->c = lt_ctx_new(lt_unet_arena_bytes(r->u, ch, true));
    if (!r->idx || !r->perm || !r->star || !r->ema || !r->xf || !r->ef ||
        !r->xr || !r->er || !r->t || !r->yr || !r->c)
        return lt_set_error(LT_ERR_NOMEM, "sa: out of memory");
    if (r->n == 0)
        return lt_set_error(LT_ERR_ARG, "sa: the replay set has no sample "
                            "of a class other than %d", cfg->forget_class);
    if (cfg->dist != LT_DIST_OFF &&
        !(r->dp = lt_dp_new(&r->u->params, cfg->dist, cfg->shards,
                            (int)B)))
        return lt_last_status();
    memcpy(r->star, r->u->params.theta, (size_t)ntr * sizeof *r->star);
    memcpy(r->ema, r->star, (size_t)ntr * sizeof *r->ema);
    r->decay = lt_dmu_sa_ema(cfg);
    lt_optim_config oc = lt_optim_defaults(LT_OPT_ADAM);
    oc.lr = cfg->lr;
    oc.weight_decay = 0;
    return lt_optim_init(&r->opt, &oc, ntr);
}

/* Step k's replay batch: batch k % nb of epoch k / nb (the last one of an
 * epoch shorter, drop_last=False); returns its size. */
static int sa_replay_batch(sa_runner *r)
{
    int B = r->cfg->batch;
    int64_t nb = (r->n + B - 1) / B, ep = r->step / nb, k = r->step % nb;
    if (ep != r->epoch) {
        lt_permutation(r->perm, r->n, lt_hash3(r->cfg->seed, 61,
                                               (uint64_t)ep));
        r->epoch = ep;
    }
    int64_t lo = k * B, m = r->n - lo < B ? r->n - lo : B, per = r->d->per;
    for (int64_t i = 0; i < m; i++) {
        int64_t j = r->idx[r->perm[lo + i]];
        memcpy(r->xr + i * per, r->d->x + j * per, (size_t)per * sizeof(float));
        r->yr[i] = r->d->y[j];
    }
    return (int)m;
}

/* The denoising terms of images [lo, hi) of step's batch b in chunks
 * (each scaled by the whole batch), backpropagated. */
static lt_status sa_backprop(sa_runner *r, const lt_dmu_sa_batch *b, int lo,
                             int hi, double *fsum, double *rsum)
{
    const lt_dmu_sa_config *cfg = r->cfg;
    int64_t per = r->d->per;
    float inv = 1.0f / (float)b->B;
    for (int o = lo; o < hi; o += cfg->chunk) {
        int m = hi - o < cfg->chunk ? hi - o : cfg->chunk;
        for (int term = 0; term < 2; term++) {
            lt_ctx_reset(r->c);
            const int32_t *cls = term ? b->yr + o
                                      : forget_classes(r->c, m,
                                                       cfg->forget_class);
            lt_tensor *l =
                !cls ? NULL
                : term ? denoise_term(r->c, r->u, r->s, b->xr + o * per,
                                      b->er + o * per, b->t + o, cls, m,
                                      inv * cfg->gamma, true)
                       : denoise_term(r->c, r->u, r->s, b->xf + o * per,
                                      b->ef + o * per, b->t + o, cls, m, inv,
                                      true);
            if (!l || lt_backward(r->c, l) != LT_OK)
                return lt_last_status();
            *(term ? rsum : fsum) += l->data[0];
        }
    }
    return LT_OK;
}

/* The gradient of step's batch b from this rank's shards, summed over
 * the ranks (the terms are already scaled by the whole batch: no
 * weight); shard j's dropout from (seed, step, j). */
static lt_status sa_dp_backprop(sa_runner *r, const lt_dmu_sa_batch *b,
                                uint64_t seed, double *fsum, double *rsum)
{
    lt_params *ps = &r->u->params;
    int first, count = lt_dp_local(r->dp, &first);
    for (int j = 0; j < count; j++) {
        int64_t lo, hi;
        double f = 0, g = 0;
        int part = first + j;
        lt_dp_range(r->dp, part, b->B, &lo, &hi);
        lt_dp_shard_begin(r->dp, ps, j);
        lt_rng_init(lt_ctx_rng(r->c), part ? lt_hash3(seed, 64,
                                                      (uint64_t)part)
                                           : seed);
        if (hi > lo && sa_backprop(r, b, (int)lo, (int)hi, &f, &g) != LT_OK)
            return lt_last_status();
        float vals[LT_DP_VALS] = {(float)f, (float)g, 0, 0};
        lt_dp_shard_end(r->dp, ps, j, 1.0f, 1.0f, vals);
    }
    float vals[LT_DP_VALS] = {0};
    lt_status st = lt_dp_reduce(r->dp, ps, vals);
    *fsum = vals[0];
    *rsum = vals[1];
    return st;
}

static lt_status sa_step(sa_runner *r, lt_dmu_sa_event *ev)
{
    const lt_dmu_sa_config *cfg = r->cfg;
    int B = sa_replay_batch(r);
    int64_t per = r->d->per, ntr = r->u->params.n_train;
    lt_rng g;
    lt_rng_init(&g, lt_hash3(cfg->seed, 62, (uint64_t)r->step));
    lt_rng_fill_uniform(&g, r->xf, B * per, -1.0f, 1.0f);
    lt_rng_fill_normal(&g, r->er, B * per, 0, 1);
    lt_rng_fill_normal(&g, r->ef, B * per, 0, 1);
    lt_dm_timesteps(&g, r->s->T, B, r->t);
    uint64_t seed = lt_hash3(cfg->seed, 63, (uint64_t)r->step);
    lt_rng_init(lt_ctx_rng(r->c), seed);
    lt_dmu_sa_batch b = {.B = B, .xf = r->xf, .ef = r->ef, .xr = r->xr,
                         .er = r->er, .t = r->t, .yr = r->yr};
    lt_params_zero_grad(&r->u->params);
    double fsum = 0, rsum = 0;
    lt_status st = r->dp ? sa_dp_backprop(r, &b, seed, &fsum, &rsum)
                         : sa_backprop(r, &b, 0, B, &fsum, &rsum);
    if (st != LT_OK)
        return lt_set_error(st, "sa step %lld: %s", (long long)r->step + 1,
                            lt_last_error());
    double ewc = lt_dmu_sa_ewc(r->u, r->d->fisher, r->star, cfg->lambda);
    float *gr = r->u->params.grad;
    double norm = lt_clip_grad_norm(gr, ntr, cfg->clip > 0 ? cfg->clip
                                                           : INFINITY);
    if (!isfinite(norm) || !isfinite(ewc))
        return lt_set_error(LT_ERR_NAN, "sa step %lld: gradient norm %g, "
                            "ewc %g", (long long)r->step + 1, norm, ewc);
    if (r->mask)
        for (int64_t i = 0; i < ntr; i++)
            gr[i] *= r->mask[i];
    float *th = r->u->params.theta;
    if (lt_optim_step(&r->opt, th, gr, r->mask, cfg->lr) != LT_OK)
        return lt_last_status();
    for (int64_t i = 0; i < ntr; i++) /* EMAHelper.update; frozen: as is */
        if (!r->mask || r->mask[i] != 0)
            r->ema[i] = (1.0f - r->decay) * th[i] + r->decay * r->ema[i];
    r->step++;
    *ev = (lt_dmu_sa_event){.step = r->step, .steps = cfg->steps,
                            .forget = (float)fsum,
                            .replay = cfg->gamma != 0
                                          ? (float)(rsum / cfg->gamma) : 0,
                            .ewc = (float)ewc,
                            .loss = (float)(fsum + rsum + ewc),
                            .grad_norm = norm};
    return LT_OK;
}

static lt_status sa_args(const lt_unet *u, const lt_dm_schedule *s,
                         const lt_dmu_sa_data *d, const lt_dmu_sa_config *cfg)
{
    if (class_model(u, "sa") != LT_OK)
        return lt_last_status();
    if (!s || !d || !cfg || !d->fisher || !d->x || !d->y ||
        d->n_train != u->params.n_train || d->per != img_size(u))
        return lt_set_error(LT_ERR_ARG, "sa: no Fisher and replay set for "
                            "this model (%s)", u->arch);
    if (cfg->forget_class < 0 || cfg->forget_class >= u->cfg.classes)
        return lt_set_error(LT_ERR_ARG, "sa: forget class %d outside "
                            "[0, %d)", cfg->forget_class, u->cfg.classes);
    float ema = lt_dmu_sa_ema(cfg);
    if (cfg->steps < 1 || cfg->batch < 1 || cfg->batch > 4096 ||
        cfg->chunk < 1 || !(cfg->lr > 0) || !isfinite(cfg->lr) ||
        !(cfg->lambda >= 0) || !isfinite(cfg->lambda) ||
        !isfinite(cfg->gamma) || !(ema >= 0 && ema < 1))
        return lt_set_error(LT_ERR_ARG, "sa: need steps >= 1, batch in "
                            "[1, 4096], chunk >= 1, lr > 0, finite lambda "
                            ">= 0 and gamma, ema in [0, 1) (got %lld, %d, "
                            "%d, %g, %g, %g, %g)", (long long)cfg->steps,
                            cfg->batch, cfg->chunk, (double)cfg->lr,
                            (double)cfg->lambda, (double)cfg->gamma,
                            (double)ema);
    return LT_OK;
}

lt_status lt_dmu_sa_run(lt_unet *u, const lt_dm_schedule *s,
                        const lt_dmu_sa_data *d, const lt_dmu_sa_config *cfg,
                        const float *mask, lt_dmu_sa_fn cb, void *ud)
{
    if (sa_args(u, s, d, cfg) != LT_OK)
        return lt_last_status();
    sa_runner r = {.u = u, .s = s, .d = d, .cfg = cfg, .mask = mask};
    lt_status st = sa_init(&r);
    double t0 = lt_clock_seconds();
    while (st == LT_OK && r.step < cfg->steps) {
        lt_dmu_sa_event ev;
        st = sa_step(&r, &ev);
        ev.seconds = lt_clock_seconds() - t0;
        if (st == LT_OK && cb)
            cb(&ev, ud);
    }
    if (st == LT_OK && r.decay > 0)
        memcpy(u->params.theta, r.ema,
               (size_t)u->params.n_train * sizeof *r.ema);
    sa_free(&r);
    return st;
}
