/*
 * dm_mask.c - SalUn's saliency mask for a class-conditional diffusion
 * UNet (lethe/dm_unlearn.h), as the official DDPM code's generate_mask
 * computes it: the gradient of the classifier-free-guided (w = 2)
 * denoising loss on the forget-class images, clipped to norm 1 batch by
 * batch, summed over the batches, its absolute value ranked over all
 * parameters (lt_mask_top_k, the library's one global top-k) and the top
 * half kept.
 */
#include "lethe/dm_unlearn.h"
#include "lethe/optim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

lt_dmu_mask_config lt_dmu_mask_defaults(void)
{
    return (lt_dmu_mask_config){.w = 2.0f, .batch = 128, .ratio = 0.5,
                                .clip = 1.0f, .seed = 1};
}

static lt_status mask_args(const lt_unet *u, const lt_dm_schedule *s,
                           const float *xf, int64_t nf, int forget_class,
                           const lt_dmu_mask_config *cfg, const float *out)
{
    if (!u || !s || !xf || !cfg || !out)
        return lt_set_error(LT_ERR_ARG, "dm saliency: NULL argument");
    if (u->cfg.kind != LT_UNET_CLASS)
        return lt_set_error(LT_ERR_ARG, "dm saliency: unet %s is text-"
                            "conditioned; class-wise forgetting needs a "
                            "class-conditional model", u->arch);
    if (forget_class < 0 || forget_class >= u->cfg.classes)
        return lt_set_error(LT_ERR_ARG, "dm saliency: forget class %d "
                            "outside [0, %d)", forget_class, u->cfg.classes);
    if (nf < 1 || cfg->batch < 1 || !(cfg->ratio > 0 && cfg->ratio <= 1) ||
        !isfinite(cfg->w))
        return lt_set_error(LT_ERR_ARG, "dm saliency: need images (got %lld), "
                            "batch >= 1 (%d), ratio in (0, 1] (%g) and a "
                            "finite w", (long long)nf, cfg->batch, cfg->ratio);
    return LT_OK;
}

/* Images per guided pass (memory, not semantics: the batch's loss is
 * the sum of its chunks' shares). */
enum { LT_DMU_MASK_CHUNK = 32 };

/* Chunk [o, o + m) of a batch of b: its share of the batch's guided loss,
 * backpropagated (the gradient accumulates). */
static lt_status saliency_chunk(lt_ctx *c, lt_unet *u, const lt_dm_schedule *s,
                                const float *x0, const float *e0,
                                const int32_t *t0, int64_t m, int64_t b,
                                int cls, float w)
{
    lt_ctx_reset(c);
    int64_t shape[4] = {m, u->cfg.in_ch, u->cfg.res, u->cfg.res};
    lt_tensor *x = lt_from_data(c, 4, shape, (float *)x0);
    lt_tensor *e = lt_from_data(c, 4, shape, (float *)e0);
    float *tf = lt_alloc(c, (size_t)m * sizeof *tf);
    int32_t *cc = lt_alloc(c, (size_t)m * sizeof *cc);
    if (!x || !e || !tf || !cc)
        return lt_last_status();
    for (int64_t i = 0; i < m; i++) {
        cc[i] = cls;
        tf[i] = (float)t0[i];
    }
    lt_tensor *xt = lt_dm_q_sample(c, s, x, e, t0);
    lt_tensor *eps = lt_dm_guided_eps(c, u, xt, tf, cc, LT_GUIDE_SALUN, w);
    lt_tensor *l = eps ? lt_mse(c, eps, e, LT_REDUCE_SUM) : NULL;
    l = l ? lt_affine(c, l, 1.0f / (float)b, 0.0f) : NULL;
    if (!l || lt_backward(c, l) != LT_OK)
        return lt_last_status();
    return LT_OK;
}

/* Batch k of b images from x0: the guided loss's gradient, clipped to
 * cfg->clip, in u's gradient buffer. */
static lt_status saliency_batch(lt_ctx *c, lt_unet *u, const lt_dm_schedule *s,
                                const float *x0, int64_t b, int cls,
                                const lt_dmu_mask_config *cfg, uint64_t k,
                                float *ebuf, int32_t *t)
{
    int64_t per = (int64_t)u->cfg.in_ch * u->cfg.res * u->cfg.res;
    lt_rng r;
    lt_rng_init(&r, lt_hash3(cfg->seed, 31, k));
    lt_dm_timesteps(&r, s->T, (int)b, t);
    lt_rng_fill_normal(&r, ebuf, b * per, 0, 1);
    lt_params_zero_grad(&u->params);
    for (int64_t o = 0; o < b; o += LT_DMU_MASK_CHUNK) {
        int64_t m = b - o < LT_DMU_MASK_CHUNK ? b - o : LT_DMU_MASK_CHUNK;
        if (saliency_chunk(c, u, s, x0 + o * per, ebuf + o * per, t + o, m,
                           b, cls, cfg->w) != LT_OK)
            return lt_set_error(lt_last_status(), "dm saliency: batch %llu: "
                                "%s", (unsigned long long)k + 1,
                                lt_last_error());
    }
    lt_clip_grad_norm(u->params.grad, u->params.n_train,
                      cfg->clip > 0 ? cfg->clip : INFINITY);
    return LT_OK;
}

lt_status lt_dmu_saliency(lt_unet *u, const lt_dm_schedule *s,
                          const float *xf, int64_t nf, int forget_class,
                          const lt_dmu_mask_config *cfg, float *sal)
{
    lt_status st = mask_args(u, s, xf, nf, forget_class, cfg, sal);
    if (st != LT_OK)
        return st;
    int64_t B = nf < cfg->batch ? nf : cfg->batch, ntr = u->params.n_train;
    int64_t per = (int64_t)u->cfg.in_ch * u->cfg.res * u->cfg.res;
    int64_t m = B < LT_DMU_MASK_CHUNK ? B : LT_DMU_MASK_CHUNK;
    lt_ctx *c = lt_ctx_new(lt_unet_arena_bytes(u, (int)(2 * m), true));
    float *e = malloc((size_t)(B * per) * sizeof *e);
    int32_t *t = malloc((size_t)B * sizeof *t);
    double *acc = calloc((size_t)ntr, sizeof *acc);
    if (!c || !e || !t || !acc)
        st = lt_set_error(LT_ERR_NOMEM, "dm saliency: out of memory");
    for (int64_t i = 0, k = 0; st == LT_OK && i < nf; i += B, k++) {
        int64_t b = nf - i < B ? nf - i : B;
        st = saliency_batch(c, u, s, xf + i * per, b, forget_class, cfg,
                            (uint64_t)k, e, t);
        const float *g = u->params.grad;
        for (int64_t j = 0; st == LT_OK && j < ntr; j++)
            acc[j] += g[j];
    }
    for (int64_t j = 0; st == LT_OK && j < ntr; j++)
        sal[j] = (float)fabs(acc[j]);
    lt_ctx_free(c);
    free(e);
    free(t);
    free(acc);
    return st;
}

lt_status lt_dmu_mask(lt_unet *u, const lt_dm_schedule *s, const float *xf,
                      int64_t nf, int forget_class,
                      const lt_dmu_mask_config *cfg, float *mask, float *sal)
{
    lt_status st = mask_args(u, s, xf, nf, forget_class, cfg, mask);
    if (st != LT_OK)
        return st;
    int64_t n = u->params.n_train;
    float *g = sal ? sal : malloc((size_t)n * sizeof *g);
    if (!g)
        return lt_set_error(LT_ERR_NOMEM, "dm saliency: out of memory");
    st = lt_dmu_saliency(u, s, xf, nf, forget_class, cfg, g);
    /* int(len * ratio) in the official code: the floor */
    int64_t k = (int64_t)floor(cfg->ratio * (double)n);
    if (st == LT_OK)
        st = lt_mask_top_k(g, n, k, true, mask);
    if (!sal)
        free(g);
    return st;
}

/* The images of class k in x [n, per] (malloc'ed into *xf; *nf of them). */
static lt_status class_images(const float *x, const int32_t *y, int64_t n,
                              int64_t per, int k, float **xf, int64_t *nf)
{
    *nf = 0;
    *xf = malloc((size_t)(n * per) * sizeof **xf);
    if (!*xf)
        return lt_set_error(LT_ERR_NOMEM, "dm mask: out of memory");
    for (int64_t i = 0; i < n; i++)
        if (y[i] == k)
            memcpy(*xf + (*nf)++ * per, x + i * per,
                   (size_t)per * sizeof **xf);
    return LT_OK;
}

lt_status lt_dmu_mask_spec(lt_unet *u, const lt_dm_schedule *s,
                           const float *x, const int32_t *y, int64_t n,
                           int forget_class, const char *spec,
                           const lt_dmu_mask_config *cfg, float **mask)
{
    *mask = NULL;
    lt_mask_spec ms;
    if (lt_mask_parse(spec, &ms) != LT_OK)
        return lt_last_status();
    if (ms.kind == LT_MASK_NONE)
        return LT_OK;
    if (ms.kind == LT_MASK_SOFT)
        return lt_set_error(LT_ERR_ARG, "mask %s: diffusion unlearning takes "
                            "saliency:R, random:R or none", spec);
    int64_t ntr = u->params.n_train, nf = 0;
    *mask = malloc((size_t)ntr * sizeof **mask);
    if (!*mask)
        return lt_set_error(LT_ERR_NOMEM, "dm mask: out of memory");
    lt_status st;
    if (ms.kind == LT_MASK_RANDOM) {
        st = lt_mask_random(ntr, ms.ratio, cfg->seed, *mask);
    } else {
        float *xf = NULL;
        lt_dmu_mask_config mc = *cfg;
        mc.ratio = ms.ratio;
        st = class_images(x, y, n, (int64_t)u->cfg.in_ch * u->cfg.res *
                          u->cfg.res, forget_class, &xf, &nf);
        if (st == LT_OK)
            st = lt_dmu_mask(u, s, xf, nf, forget_class, &mc, *mask, NULL);
        free(xf);
    }
    if (st != LT_OK) {
        free(*mask);
        *mask = NULL;
    }
    return st;
}
