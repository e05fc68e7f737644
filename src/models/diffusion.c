/*
 * diffusion.c - the diffusion process around the UNet (lethe/diffusion.h):
 * beta schedules, antithetic timesteps, q-sampling, the official
 * epsilon-prediction loss, classifier-free guidance in both conventions
 * and the generalized (DDIM / eta = 1 DDPM) sampler with counter-based
 * noise, plus UNet checkpoints in safetensors. Class and text models
 * share every step: only the condition differs (class ids, or a context
 * with the empty caption's as the null condition).
 */
#include "lethe/diffusion.h"
#include "lethe/safetensors.h"
#include "dm_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- schedules ------------------------------------------------------------------ */

lt_status lt_dm_schedule_make(const char *name, int T, lt_dm_schedule *out)
{
    if (!out)
        return lt_set_error(LT_ERR_ARG, "schedule: NULL output");
    memset(out, 0, sizeof *out);
    bool scaled = name && !strcmp(name, "scaled_linear");
    if (!name || (!scaled && strcmp(name, "linear")))
        return lt_set_error(LT_ERR_ARG, "schedule '%s': unknown (known: "
                            "linear, scaled_linear)", name ? name : "(null)");
    if (T < 2 || T > 100000)
        return lt_set_error(LT_ERR_ARG, "schedule: T = %d outside [2, 100000]",
                            T);
    out->beta = malloc((size_t)T * sizeof *out->beta);
    out->abar = malloc((size_t)T * sizeof *out->abar);
    if (!out->beta || !out->abar) {
        lt_dm_schedule_free(out);
        return lt_set_error(LT_ERR_NOMEM, "schedule: out of memory");
    }
    snprintf(out->name, sizeof out->name, "%s", name);
    out->T = T;
    double b0 = scaled ? sqrt(0.00085) : 1e-4, b1 = scaled ? sqrt(0.012) : 0.02;
    float a = 1.0f;
    for (int i = 0; i < T; i++) {
        double b = i == T - 1 ? b1 : b0 + (b1 - b0) / (T - 1) * i;
        out->beta[i] = (float)(scaled ? b * b : b);
        a *= 1.0f - out->beta[i];
        out->abar[i] = a;
    }
    return LT_OK;
}

const char *lt_dm_schedule_default(int unet_kind)
{
    return unet_kind == LT_UNET_TEXT ? "scaled_linear" : "linear";
}

void lt_dm_schedule_free(lt_dm_schedule *s)
{
    if (!s)
        return;
    free(s->beta);
    free(s->abar);
    memset(s, 0, sizeof *s);
}

/* ---- loss ------------------------------------------------------------------------- */

void lt_dm_timesteps(lt_rng *rng, int T, int n, int32_t *t)
{
    int h = n / 2 + 1; /* n >= 1 gives h <= n */
    for (int i = 0; i < h; i++)
        t[i] = (int32_t)lt_rng_below(rng, (uint64_t)T);
    for (int i = h; i < n; i++)
        t[i] = T - 1 - t[i - h];
}

lt_tensor *lt_dm_q_sample(lt_ctx *c, const lt_dm_schedule *s,
                          const lt_tensor *x0, const lt_tensor *e,
                          const int32_t *t)
{
    if (!x0 || !e || !s || !t)
        return NULL;
    if (!lt_same_shape(x0, e)) {
        lt_set_error(LT_ERR_SHAPE, "q_sample: x0 and noise differ in shape");
        return NULL;
    }
    lt_tensor *x = lt_new_like(c, x0);
    if (!x)
        return NULL;
    int64_t n = x0->shape[0], per = x0->numel / n;
    for (int64_t i = 0; i < n; i++) {
        if (t[i] < 0 || t[i] >= s->T) {
            lt_set_error(LT_ERR_ARG, "q_sample: timestep %d outside [0, %d)",
                         t[i], s->T);
            return NULL;
        }
        float a = s->abar[t[i]], sa = sqrtf(a), sb = sqrtf(1.0f - a);
        const float *px = x0->data + i * per, *pe = e->data + i * per;
        float *py = x->data + i * per;
        for (int64_t k = 0; k < per; k++)
            py[k] = px[k] * sa + pe[k] * sb;
    }
    return x;
}

/* The condition of a batch: class ids (class models) or a context. */
typedef struct {
    const int32_t *cls; /* [N] */
    lt_tensor *ctx;     /* [N, L, ctx_dim] */
} dm_cond;

static lt_tensor *forward(lt_ctx *c, lt_unet *u, lt_tensor *x,
                          const float *t, const dm_cond *k, bool training)
{
    return k->ctx ? lt_unet_forward_text(c, u, x, t, k->ctx, training)
                  : lt_unet_forward(c, u, x, t, k->cls, training);
}

static lt_tensor *loss_of(lt_ctx *c, lt_unet *u, const lt_dm_schedule *s,
                          const lt_tensor *x0, const lt_tensor *e,
                          const int32_t *t, const dm_cond *k, bool training)
{
    lt_tensor *xt = lt_dm_q_sample(c, s, x0, e, t);
    if (!xt)
        return NULL;
    int64_t n = xt->shape[0];
    float *tf = lt_alloc(c, (size_t)n * sizeof *tf);
    if (!tf)
        return NULL;
    for (int64_t i = 0; i < n; i++)
        tf[i] = (float)t[i];
    lt_tensor *eps = forward(c, u, xt, tf, k, training);
    lt_tensor *target = lt_from_data(c, e->ndim, e->shape, e->data);
    lt_tensor *sum = lt_mse(c, eps, target, LT_REDUCE_SUM);
    return lt_affine(c, sum, 1.0f / (float)n, 0.0f);
}

lt_tensor *lt_dm_loss(lt_ctx *c, lt_unet *u, const lt_dm_schedule *s,
                      const lt_tensor *x0, const lt_tensor *e,
                      const int32_t *t, const int32_t *cls, bool training)
{
    return loss_of(c, u, s, x0, e, t, &(dm_cond){.cls = cls}, training);
}

lt_tensor *lt_dm_loss_text(lt_ctx *c, lt_unet *u, const lt_dm_schedule *s,
                           const lt_tensor *x0, const lt_tensor *e,
                           const int32_t *t, lt_tensor *ctx, bool training)
{
    if (!ctx)
        return NULL;
    return loss_of(c, u, s, x0, e, t, &(dm_cond){.ctx = ctx}, training);
}

/* ---- guidance ----------------------------------------------------------------------- */

lt_status lt_guidance_parse(const char *name, lt_guidance_kind *out)
{
    if (name && !strcmp(name, "salun"))
        *out = LT_GUIDE_SALUN;
    else if (name && !strcmp(name, "sd"))
        *out = LT_GUIDE_SD;
    else
        return lt_set_error(LT_ERR_ARG, "guidance '%s': unknown (known: salun "
                            "= (1+w)e(c) - w e(null), sd = e(null) + s(e(c) - "
                            "e(null)))", name ? name : "(null)");
    return LT_OK;
}

const char *lt_guidance_name(lt_guidance_kind k)
{
    return k == LT_GUIDE_SD ? "sd" : "salun";
}

/* Weights (a, b) with guided = a e(c) + b e(null). */
static void guidance_weights(lt_guidance_kind k, float w, float *a, float *b)
{
    *a = k == LT_GUIDE_SD ? w : 1 + w;
    *b = k == LT_GUIDE_SD ? 1 - w : -w;
}

/* null_ctx [L, D] (or [1, L, D]) repeated n times -> [n, L, D]; NULL
 * with LT_ERR_SHAPE naming null_ctx when it is not u's context. */
static lt_tensor *repeat_null(lt_ctx *c, const lt_unet *u,
                              lt_tensor *null_ctx, int64_t n)
{
    int64_t L = u->cfg.ctx_len, D = u->cfg.ctx_dim;
    bool lead1 = null_ctx->ndim == 2 ||
                 (null_ctx->ndim == 3 && null_ctx->shape[0] == 1);
    if (!lead1 || null_ctx->shape[null_ctx->ndim - 2] != L ||
        null_ctx->shape[null_ctx->ndim - 1] != D) {
        char b[64];
        lt_set_error(LT_ERR_SHAPE, "unet %s: null_ctx %s, expected [L=%lld, "
                     "ctx_dim=%lld]", u->arch,
                     lt_shape_str(null_ctx, b, sizeof b), (long long)L,
                     (long long)D);
        return NULL;
    }
    lt_tensor *one = lt_reshape(c, null_ctx, 3, (int64_t[]){1, L, D});
    return lt_add(c, lt_zeros(c, 3, (int64_t[]){n, L, D}), one);
}

/* The condition k for the first n samples and the null one for the next
 * n: classes then -1, or contexts then the null context. */
static bool double_cond(lt_ctx *c, const lt_unet *u, const dm_cond *k,
                        lt_tensor *null_ctx, int64_t n, dm_cond *out)
{
    if (k->ctx) {
        lt_tensor *nul = repeat_null(c, u, null_ctx, n);
        out->ctx = lt_concat(c, 2, (lt_tensor *[]){k->ctx, nul}, 0);
        return out->ctx != NULL;
    }
    int32_t *cc = lt_alloc(c, 2 * (size_t)n * sizeof *cc);
    if (!cc)
        return false;
    for (int64_t i = 0; i < n; i++) {
        cc[i] = k->cls[i];
        cc[n + i] = -1;
    }
    out->cls = cc;
    return true;
}

static lt_tensor *guided_eps(lt_ctx *c, lt_unet *u, lt_tensor *x,
                             const float *t, const dm_cond *k,
                             lt_tensor *null_ctx, lt_guidance_kind kind,
                             float w)
{
    if (!x)
        return NULL;
    float a, b;
    guidance_weights(kind, w, &a, &b);
    if (b == 0)
        return forward(c, u, x, t, k, false);
    int64_t n = x->shape[0];
    lt_tensor *xx = lt_concat(c, 2, (lt_tensor *[]){x, x}, 0);
    float *tt = lt_alloc(c, 2 * (size_t)n * sizeof *tt);
    dm_cond kk = {0};
    if (!xx || !tt || !double_cond(c, u, k, null_ctx, n, &kk))
        return NULL;
    for (int64_t i = 0; i < n; i++)
        tt[i] = tt[n + i] = t[i];
    lt_tensor *e = forward(c, u, xx, tt, &kk, false);
    lt_tensor *ec = lt_slice(c, e, 0, 0, n), *en = lt_slice(c, e, 0, n, 2 * n);
    return lt_add(c, lt_affine(c, ec, a, 0), lt_affine(c, en, b, 0));
}

lt_tensor *lt_dm_guided_eps(lt_ctx *c, lt_unet *u, lt_tensor *x,
                            const float *t, const int32_t *cls,
                            lt_guidance_kind kind, float w)
{
    if (!cls) {
        lt_set_error(LT_ERR_ARG, "guided eps: NULL classes");
        return NULL;
    }
    return guided_eps(c, u, x, t, &(dm_cond){.cls = cls}, NULL, kind, w);
}

lt_tensor *lt_dm_guided_eps_text(lt_ctx *c, lt_unet *u, lt_tensor *x,
                                 const float *t, lt_tensor *ctx,
                                 lt_tensor *null_ctx, lt_guidance_kind kind,
                                 float w)
{
    if (!ctx || !null_ctx || !u)
        return NULL;
    if (u->cfg.kind != LT_UNET_TEXT) {
        lt_set_error(LT_ERR_ARG, "unet %s: a class-conditional model takes "
                     "classes, not a text context", u->arch);
        return NULL;
    }
    return guided_eps(c, u, x, t, &(dm_cond){.ctx = ctx}, null_ctx, kind, w);
}

/* ---- sampling --------------------------------------------------------------------------- */

lt_dm_sample_config lt_dm_sample_defaults(void)
{
    return (lt_dm_sample_config){.steps = 1000, .eta = 1.0f,
                                 .guidance = LT_GUIDE_SALUN, .w = 2.0f,
                                 .seed = 1234, .batch = 100};
}

lt_dm_sample_config lt_dm_sample_defaults_text(void)
{
    lt_dm_sample_config c = lt_dm_sample_defaults();
    c.steps = 50;
    c.eta = 0;
    c.guidance = LT_GUIDE_SD;
    c.w = 7.5f;
    return c;
}

void lt_dm_sample_describe(const lt_dm_sample_config *cfg, int T, char *buf,
                           size_t n)
{
    snprintf(buf, n, "%s-%d of %d (eta %g), guidance %s %s=%g",
             cfg->eta == 0 ? "DDIM" : "generalized", cfg->steps, T,
             (double)cfg->eta, lt_guidance_name(cfg->guidance),
             cfg->guidance == LT_GUIDE_SD ? "s" : "w", (double)cfg->w);
}

static lt_status check_sample_config(const lt_dm_sample_config *cfg, int T)
{
    if (cfg->steps < 1 || cfg->steps > T || T % cfg->steps)
        return lt_set_error(LT_ERR_ARG, "sample: %d steps must divide T = %d",
                            cfg->steps, T);
    if (!isfinite(cfg->w) || fabsf(cfg->w) > 1000)
        return lt_set_error(LT_ERR_ARG, "sample: guidance %g is not a finite "
                            "number in [-1000, 1000]", (double)cfg->w);
    if (!(cfg->eta >= 0 && cfg->eta <= 10))
        return lt_set_error(LT_ERR_ARG, "sample: eta %g outside [0, 10]",
                            (double)cfg->eta);
    if (cfg->batch < 1)
        return lt_set_error(LT_ERR_ARG, "sample: batch %d < 1", cfg->batch);
    return LT_OK;
}

/* Normal noise of sample gi for draw k (0: the start, k >= 1: step k). */
static void sample_noise(uint64_t seed, int64_t gi, int k, float *z,
                         int64_t per)
{
    lt_rng r;
    lt_rng_init(&r, lt_hash3(seed, (uint64_t)gi, (uint64_t)k));
    lt_rng_fill_normal(&r, z, per, 0, 1);
}

/* One generalized step from abar a to a_next for the batch. */
static void step_update(float *x, const float *et, int64_t nb, int64_t per,
                        float a, float a_next, float eta, uint64_t seed,
                        int64_t i0, int k, float *z)
{
    float c1 = eta * sqrtf((1 - a / a_next) * (1 - a_next) / (1 - a));
    float c2 = sqrtf(fmaxf(0.0f, (1 - a_next) - c1 * c1));
    float sa = sqrtf(a), sb = sqrtf(1 - a), sn = sqrtf(a_next);
    for (int64_t i = 0; i < nb; i++) {
        float *xi = x + i * per;
        const float *ei = et + i * per;
        if (c1 != 0)
            sample_noise(seed, i0 + i, k, z, per);
        for (int64_t j = 0; j < per; j++) {
            float x0 = (xi[j] - ei[j] * sb) / sa;
            xi[j] = sn * x0 + c2 * ei[j] + (c1 != 0 ? c1 * z[j] : 0);
        }
    }
}

/* What the sampler conditions n samples on (arrays, not tensors: they
 * are copied into the arena of each step). */
typedef struct {
    const int32_t *cls;    /* class models: [n] */
    const float *ctx;      /* text models: [n, L, D] */
    const float *null_ctx; /* text models: [L, D] */
    int64_t first;         /* the number of sample 0 (its noise's index) */
} sample_cond;

/* The guided noise of samples [i0, i0 + nb) at x. */
static lt_tensor *step_eps(lt_ctx *c, lt_unet *u, lt_tensor *x,
                           const float *t, const sample_cond *k, int64_t i0,
                           const lt_dm_sample_config *cfg)
{
    if (!k->ctx)
        return guided_eps(c, u, x, t, &(dm_cond){.cls = k->cls + i0}, NULL,
                          cfg->guidance, cfg->w);
    int64_t nb = x->shape[0], L = u->cfg.ctx_len, D = u->cfg.ctx_dim;
    lt_tensor *ctx = lt_from_data(c, 3, (int64_t[]){nb, L, D},
                                  k->ctx + i0 * L * D);
    lt_tensor *nul = lt_from_data(c, 2, (int64_t[]){L, D}, k->null_ctx);
    if (!ctx || !nul)
        return NULL;
    return guided_eps(c, u, x, t, &(dm_cond){.ctx = ctx}, nul, cfg->guidance,
                      cfg->w);
}

/* The reverse chain on one batch held in x (in: x_T, out: x_0). */
static lt_status denoise_batch(lt_unet *u, const lt_dm_schedule *s,
                               const lt_dm_sample_config *cfg, lt_ctx *c,
                               int64_t i0, int64_t nb,
                               const sample_cond *cond, float *x)
{
    int64_t per = (int64_t)u->cfg.in_ch * u->cfg.res * u->cfg.res;
    int64_t shape[4] = {nb, u->cfg.in_ch, u->cfg.res, u->cfg.res};
    float *z = malloc((size_t)per * sizeof *z);
    float *t = malloc((size_t)nb * sizeof *t);
    if (!z || !t) {
        free(z);
        free(t);
        return lt_set_error(LT_ERR_NOMEM, "sample: out of memory");
    }
    int skip = s->T / cfg->steps;
    lt_status st = LT_OK;
    for (int k = 1; k <= cfg->steps && st == LT_OK; k++) {
        int ti = s->T - k * skip, tn = ti - skip; /* seq reversed */
        for (int64_t i = 0; i < nb; i++)
            t[i] = (float)ti;
        lt_ctx_reset(c);
        lt_tensor *xt = lt_from_data(c, 4, shape, x);
        lt_tensor *et = step_eps(c, u, xt, t, cond, i0, cfg);
        if (!et) {
            st = lt_last_status();
            break;
        }
        float a = s->abar[ti], an = tn >= 0 ? s->abar[tn] : 1.0f;
        step_update(x, et->data, nb, per, a, an, cfg->eta, cfg->seed,
                    cond->first + i0, k, z);
    }
    for (int64_t j = 0; st == LT_OK && j < nb * per; j++)
        if (!isfinite(x[j]))
            st = lt_set_error(LT_ERR_NAN, "sample: sample %lld became "
                              "non-finite",
                              (long long)(cond->first + i0 + j / per));
    free(z);
    free(t);
    return st;
}

/* The condition must be the model's kind, and present. */
static lt_status check_sample_cond(const lt_unet *u, const sample_cond *k)
{
    bool text = u->cfg.kind == LT_UNET_TEXT;
    if (text && !k->ctx)
        return lt_set_error(LT_ERR_ARG, "sample: unet %s is text-conditioned:"
                            " it samples from contexts (lt_dm_sample_text)",
                            u->arch);
    if (!text && !k->cls)
        return lt_set_error(LT_ERR_ARG, "sample: unet %s is class-"
                            "conditional: it samples from classes "
                            "(lt_dm_sample)", u->arch);
    if (text && !k->null_ctx)
        return lt_set_error(LT_ERR_ARG, "sample: NULL null_ctx (the empty "
                            "caption's context)");
    return LT_OK;
}

/* Run denoise_batch over n samples in batches of cfg->batch. */
static lt_status denoise_all(lt_unet *u, const lt_dm_schedule *s,
                             const lt_dm_sample_config *cfg, int64_t n,
                             const sample_cond *k, float *x, bool fill_noise,
                             lt_dm_progress_fn progress, void *ud)
{
    if (!u || !s || !cfg || !x || n < 1)
        return lt_set_error(LT_ERR_ARG, "sample: NULL argument or n < 1");
    if (check_sample_cond(u, k) != LT_OK ||
        check_sample_config(cfg, s->T) != LT_OK)
        return lt_last_status();
    int64_t per = (int64_t)u->cfg.in_ch * u->cfg.res * u->cfg.res;
    int b = cfg->batch;
    lt_ctx *c = lt_ctx_new(lt_unet_arena_bytes(u, 2 * b, false));
    if (!c)
        return lt_set_error(LT_ERR_NOMEM, "sample: no memory for the arena");
    lt_set_grad_enabled(c, false);
    lt_set_frozen_weights(c, true); /* bf16: weights rounded once */
    lt_status st = LT_OK;
    for (int64_t i0 = 0; i0 < n && st == LT_OK; i0 += b) {
        int64_t nb = n - i0 < b ? n - i0 : b;
        for (int64_t i = 0; fill_noise && i < nb; i++)
            sample_noise(cfg->seed, k->first + i0 + i, 0, x + (i0 + i) * per,
                         per);
        st = denoise_batch(u, s, cfg, c, i0, nb, k, x + i0 * per);
        if (st == LT_OK && progress)
            progress(i0 + nb, n, ud);
    }
    lt_ctx_free(c);
    return st;
}

lt_status lt_dm_denoise(lt_unet *u, const lt_dm_schedule *s,
                        const lt_dm_sample_config *cfg, int64_t n,
                        const int32_t *cls, float *x)
{
    return denoise_all(u, s, cfg, n, &(sample_cond){.cls = cls}, x, false,
                       NULL, NULL);
}

lt_status lt_dm_sample(lt_unet *u, const lt_dm_schedule *s,
                       const lt_dm_sample_config *cfg, int64_t n,
                       const int32_t *cls, float *out,
                       lt_dm_progress_fn progress, void *ud)
{
    return denoise_all(u, s, cfg, n, &(sample_cond){.cls = cls}, out, true,
                       progress, ud);
}

lt_status lt_dm_sample_range(lt_unet *u, const lt_dm_schedule *s,
                             const lt_dm_sample_config *cfg, int64_t first,
                             int64_t n, const int32_t *cls, float *out,
                             lt_dm_progress_fn progress, void *ud)
{
    if (first < 0)
        return lt_set_error(LT_ERR_ARG, "sample: first sample %lld < 0",
                            (long long)first);
    return denoise_all(u, s, cfg, n, &(sample_cond){.cls = cls,
                                                    .first = first},
                       out, true, progress, ud);
}

lt_status lt_dm_denoise_text(lt_unet *u, const lt_dm_schedule *s,
                             const lt_dm_sample_config *cfg, int64_t n,
                             const float *ctx, const float *null_ctx,
                             float *x)
{
    sample_cond k = {.ctx = ctx, .null_ctx = null_ctx};
    return denoise_all(u, s, cfg, n, &k, x, false, NULL, NULL);
}

lt_status lt_dm_sample_text(lt_unet *u, const lt_dm_schedule *s,
                            const lt_dm_sample_config *cfg, int64_t n,
                            const float *ctx, const float *null_ctx,
                            float *out, lt_dm_progress_fn progress, void *ud)
{
    sample_cond k = {.ctx = ctx, .null_ctx = null_ctx};
    return denoise_all(u, s, cfg, n, &k, out, true, progress, ud);
}

lt_status lt_dm_empty_context(lt_clip *clip, float *out)
{
    if (!clip || !out)
        return lt_set_error(LT_ERR_ARG, "empty context: NULL clip or output");
    int L = clip->cfg.context_length;
    int32_t ids[1024] = {LT_CLIP_BOS, LT_CLIP_EOS}; /* the rest <pad> (0) */
    if (L < 2 || L > 1024)
        return lt_set_error(LT_ERR_ARG, "empty context: context length %d "
                            "outside [2, 1024]", L);
    lt_ctx *c = lt_ctx_new(lt_clip_arena_bytes(&clip->cfg, 1, 1, 1, false));
    if (!c)
        return lt_set_error(LT_ERR_NOMEM, "empty context: out of memory");
    lt_set_grad_enabled(c, false);
    lt_tensor *h = lt_clip_text_encode(c, clip, ids, 1);
    if (h)
        memcpy(out, h->data, (size_t)h->numel * sizeof *out);
    lt_status st = h ? LT_OK : lt_last_status();
    lt_ctx_free(c);
    return st;
}

/* ---- checkpoints ------------------------------------------------------------------------- */

/* Save the parameters with values taken from theta (the model's own
 * buffer, or an EMA copy laid out the same way). */
lt_status lt_unet_save_theta(const lt_unet *u, const float *theta,
                             const char *path, const lt_dm_schedule *s,
                             const char *const *meta, int n_meta)
{
    if (!u || !theta || !path || !s)
        return lt_set_error(LT_ERR_ARG, "unet save: NULL argument");
    int n = u->params.count;
    lt_st_tensor *t = calloc((size_t)n, sizeof *t);
    const char **kv = calloc((size_t)(2 * n_meta + 6), sizeof *kv);
    if (!t || !kv) {
        free(t);
        free(kv);
        return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", path);
    }
    for (int i = 0; i < n; i++) {
        t[i] = lt_st_entry(u->params.p[i].name, &u->params.p[i].t);
        t[i].data = (float *)theta + u->params.p[i].offset;
    }
    char T[16];
    snprintf(T, sizeof T, "%d", s->T);
    const char *own[6] = {"lethe.dm.arch", u->arch, "lethe.dm.schedule",
                          s->name, "lethe.dm.T", T};
    memcpy(kv, own, sizeof own);
    for (int i = 0; i < 2 * n_meta; i++)
        kv[6 + i] = meta[i];
    lt_status st = lt_st_save(path, t, n, kv, n_meta + 3);
    free(t);
    free(kv);
    return st;
}

lt_status lt_unet_save(const lt_unet *u, const char *path,
                       const lt_dm_schedule *s, const char *const *meta,
                       int n_meta)
{
    return lt_unet_save_theta(u, u ? u->params.theta : NULL, path, s, meta,
                              n_meta);
}

static lt_status read_weights(lt_unet *u, const lt_st_file *f,
                              const char *path)
{
    for (int i = 0; i < u->params.count; i++) {
        lt_param *p = &u->params.p[i];
        if (!lt_st_get(f, p->name))
            return lt_set_error(LT_ERR_FORMAT, "%s: no tensor '%s': not a "
                                "%s UNet", path, p->name, u->arch);
        if (lt_st_read_into(f, p->name, &p->t) != LT_OK)
            return lt_set_error(LT_ERR_FORMAT, "%s: %s", path,
                                lt_last_error());
    }
    if (lt_st_count(f) != u->params.count)
        return lt_set_error(LT_ERR_FORMAT, "%s: %d tensors, a %s UNet has %d",
                            path, lt_st_count(f), u->arch, u->params.count);
    return LT_OK;
}

/* The schedule named in f's metadata. */
static lt_status read_schedule(const lt_st_file *f, const char *path,
                               lt_dm_schedule *s)
{
    const char *name = lt_st_meta(f, "lethe.dm.schedule");
    const char *T = lt_st_meta(f, "lethe.dm.T");
    char *end = NULL;
    long t = T ? strtol(T, &end, 10) : 0;
    if (!name || !T || *end || lt_dm_schedule_make(name, (int)t, s) != LT_OK)
        return lt_set_error(LT_ERR_FORMAT, "%s: bad schedule metadata "
                            "(lethe.dm.schedule '%s', lethe.dm.T '%s')", path,
                            name ? name : "", T ? T : "");
    return LT_OK;
}

lt_status lt_unet_load(const char *path, lt_unet **out, lt_dm_schedule *s)
{
    if (!path || !out)
        return lt_set_error(LT_ERR_ARG, "unet load: NULL argument");
    *out = NULL;
    lt_st_file *f = NULL;
    if (lt_st_load(path, &f) != LT_OK)
        return lt_last_status();
    const char *arch = lt_st_meta(f, "lethe.dm.arch");
    lt_unet *u = NULL;
    lt_status st;
    if (!arch)
        st = lt_set_error(LT_ERR_FORMAT, "%s: not a Lethe diffusion UNet (no "
                          "lethe.dm.arch metadata)", path);
    else if (lt_unet_create(arch, &u) != LT_OK)
        st = lt_set_error(LT_ERR_FORMAT, "%s: %s", path, lt_last_error());
    else
        st = read_weights(u, f, path);
    if (st == LT_OK && s)
        st = read_schedule(f, path, s);
    lt_st_free(f);
    if (st != LT_OK)
        lt_unet_free(u);
    else
        *out = u;
    return st;
}
