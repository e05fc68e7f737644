/*
 * dm_text_salun.c - SalUn on a text-conditioned diffusion UNet as
 * UnlearnCanvas' scripts compute it (lethe/dm_text_salun.h): the mask
 * pass (the guided, negated denoising loss of the target's prompt on a
 * copy that the script also ascends with Adam), the global ranking of the
 * summed gradient, and the training loop that regresses the target
 * prompts' predictions onto the Photo prompts' (stop-gradient) plus the
 * remain set's denoising loss, over the parameter set times the mask.
 */
#include "lethe/dm_text_salun.h"
#include "lethe/optim.h"
#include "lethe/unlearn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

lt_salun_text_config lt_salun_text_defaults(void)
{
    return (lt_salun_text_config){.params = LT_ESD_X, .alpha = 1.0f,
                                  .lr = 1e-5f, .batch = 4, .epochs = 2,
                                  .cycle = false, .mask_ratio = 0.4f,
                                  .mask_bottom = false,
                                  .mask_guidance = 7.5f, .mask_lr = 1e-5f,
                                  .seed = 1};
}

static int64_t img_size(const lt_unet *u)
{
    return (int64_t)u->cfg.in_ch * u->cfg.res * u->cfg.res;
}

static int64_t n_batches(const lt_salun_text_config *cfg, int64_t n)
{
    return (n + cfg->batch - 1) / cfg->batch;
}

int64_t lt_salun_text_mask_iters(const lt_salun_text_config *cfg,
                                 int64_t n_forget)
{
    return n_batches(cfg, n_forget);
}

int64_t lt_salun_text_iters(const lt_salun_text_config *cfg, int64_t n_forget)
{
    return (int64_t)cfg->epochs * n_batches(cfg, n_forget);
}

void lt_salun_text_draws(const lt_salun_text_config *cfg, const lt_unet *u,
                         const lt_dm_schedule *s, int stream, int64_t k,
                         int B, lt_salun_text_draw *d)
{
    lt_rng g;
    lt_rng_init(&g, lt_hash3(cfg->seed, 81 + (uint64_t)stream, (uint64_t)k));
    int64_t per = img_size(u);
    for (int i = 0; i < B; i++)
        d->t[i] = (int32_t)lt_rng_below(&g, (uint64_t)s->T);
    lt_rng_fill_normal(&g, d->noise, B * per, 0, 1);
    if (stream && d->t_r && d->noise_r) {
        for (int i = 0; i < B; i++)
            d->t_r[i] = (int32_t)lt_rng_below(&g, (uint64_t)s->T);
        lt_rng_fill_normal(&g, d->noise_r, B * per, 0, 1);
    }
}

/* ---- losses ---------------------------------------------------------------------- */

static lt_tensor *images(lt_ctx *c, const lt_unet *u, int B, const float *x)
{
    return lt_from_data(c, 4, (int64_t[]){B, u->cfg.in_ch, u->cfg.res,
                                          u->cfg.res}, (float *)x);
}

static lt_tensor *contexts(lt_ctx *c, const lt_unet *u, int B,
                           const float *ctx)
{
    return lt_from_data(c, 3, (int64_t[]){B, u->cfg.ctx_len,
                                          u->cfg.ctx_dim}, (float *)ctx);
}

/* ctx [L, D] repeated B times, in c's arena. */
static float *repeat_ctx(lt_ctx *c, const lt_unet *u, int B, const float *ctx)
{
    size_t n = (size_t)u->cfg.ctx_len * (size_t)u->cfg.ctx_dim;
    float *r = lt_alloc(c, (size_t)B * n * sizeof *r);
    for (int i = 0; r && i < B; i++)
        memcpy(r + (size_t)i * n, ctx, n * sizeof *r);
    return r;
}

static float *times(lt_ctx *c, int B, const int32_t *t)
{
    float *tf = lt_alloc(c, (size_t)B * sizeof *tf);
    for (int i = 0; tf && i < B; i++)
        tf[i] = (float)t[i];
    return tf;
}

/* x_t = q_sample(x0, t, e), off the tape. */
static lt_tensor *noised(lt_ctx *c, const lt_unet *u, const lt_dm_schedule *s,
                         int B, const float *x0, const float *e,
                         const int32_t *t)
{
    lt_tensor *x = images(c, u, B, x0), *n = images(c, u, B, e);
    if (!x || !n)
        return NULL;
    bool was = lt_set_grad_enabled(c, false);
    lt_tensor *xt = lt_dm_q_sample(c, s, x, n, t);
    lt_set_grad_enabled(c, was);
    return xt;
}

static bool text_unet(const lt_unet *u, const char *what)
{
    if (u && u->cfg.kind == LT_UNET_TEXT)
        return true;
    lt_set_error(LT_ERR_ARG, "salun (canvas) %s: unet %s is class-"
                 "conditional; this SalUn replaces a prompt of a text-"
                 "conditioned model (text:...)", what, u ? u->arch : "NULL");
    return false;
}

lt_tensor *lt_salun_text_mask_loss(lt_ctx *c, lt_unet *u,
                                   const lt_dm_schedule *s, const float *x0,
                                   const float *e, const int32_t *t, int B,
                                   const float *ctx, const float *null_ctx,
                                   float guidance, bool training)
{
    if (!c || !s || !x0 || !e || !t || B < 1 || !ctx || !null_ctx) {
        lt_set_error(LT_ERR_ARG, "salun (canvas) mask loss: bad argument");
        return NULL;
    }
    if (!text_unet(u, "mask loss"))
        return NULL;
    lt_tensor *xt = noised(c, u, s, B, x0, e, t);
    float *tf = times(c, B, t), *kc = repeat_ctx(c, u, B, ctx);
    float *kn = repeat_ctx(c, u, B, null_ctx);
    lt_tensor *noise = images(c, u, B, e);
    if (!xt || !tf || !kc || !kn || !noise)
        return NULL;
    lt_tensor *f = lt_unet_forward_text(c, u, xt, tf, contexts(c, u, B, kc),
                                        training);
    lt_tensor *nl = f ? lt_unet_forward_text(c, u, xt, tf,
                                             contexts(c, u, B, kn), training)
                      : NULL;
    lt_tensor *p = nl ? lt_sub(c, lt_affine(c, f, 1 + guidance, 0),
                               lt_affine(c, nl, guidance, 0))
                      : NULL;
    lt_tensor *l = p ? lt_mse(c, noise, p, LT_REDUCE_MEAN) : NULL;
    return l ? lt_affine(c, l, -1, 0) : NULL;
}

lt_tensor *lt_salun_text_loss(lt_ctx *c, lt_unet *u, const lt_dm_schedule *s,
                              const float *xf, const float *ctxf,
                              const float *ctxp, const float *xr,
                              const float *ctxr, const lt_salun_text_draw *d,
                              int B, float alpha, bool training)
{
    if (!c || !s || !xf || !ctxf || !ctxp || !xr || !ctxr || !d || B < 1) {
        lt_set_error(LT_ERR_ARG, "salun (canvas) loss: bad argument");
        return NULL;
    }
    if (!text_unet(u, "loss"))
        return NULL;
    lt_tensor *xt = noised(c, u, s, B, xf, d->noise, d->t);
    lt_tensor *xrt = noised(c, u, s, B, xr, d->noise_r, d->t_r);
    float *tf = times(c, B, d->t), *tr = times(c, B, d->t_r);
    lt_tensor *nr = images(c, u, B, d->noise_r);
    if (!xt || !xrt || !tf || !tr || !nr)
        return NULL;
    bool was = lt_set_grad_enabled(c, false);
    lt_tensor *pseudo = lt_unet_forward_text(c, u, xt, tf,
                                             contexts(c, u, B, ctxp),
                                             training);
    lt_set_grad_enabled(c, was);
    lt_tensor *f = pseudo ? lt_unet_forward_text(c, u, xt, tf,
                                                 contexts(c, u, B, ctxf),
                                                 training)
                          : NULL;
    lt_tensor *lf = f ? lt_mse(c, f, pseudo, LT_REDUCE_MEAN) : NULL;
    lt_tensor *r = lf ? lt_unet_forward_text(c, u, xrt, tr,
                                             contexts(c, u, B, ctxr),
                                             training)
                      : NULL;
    lt_tensor *lr = r ? lt_mse(c, r, nr, LT_REDUCE_MEAN) : NULL;
    return lr ? lt_add(c, lf, lt_affine(c, lr, alpha, 0)) : NULL;
}

/* ---- checks and batches ------------------------------------------------------ */

static lt_status check(const lt_unet *u, const lt_dm_schedule *s,
                       const lt_salun_text_data *d,
                       const lt_salun_text_config *cfg, bool training)
{
    if (!u || !s || !d || !cfg)
        return lt_set_error(LT_ERR_ARG, "salun (canvas): NULL argument");
    if (!text_unet(u, training ? "training" : "mask"))
        return lt_last_status();
    if (d->n_forget < 1 || !d->x_forget || !d->ctx_forget)
        return lt_set_error(LT_ERR_ARG, "salun (canvas): no forget picture");
    if (training && (d->n_remain < 1 || !d->x_remain || !d->ctx_remain))
        return lt_set_error(LT_ERR_ARG, "salun (canvas): no remain (Photo) "
                            "picture");
    if (!training && (!d->ctx_mask || !d->null_mask))
        return lt_set_error(LT_ERR_ARG, "salun (canvas): the mask pass "
                            "needs its prompt and null contexts");
    if (cfg->batch < 1 || cfg->epochs < 1 || !(cfg->lr > 0) ||
        !isfinite(cfg->lr) || !isfinite(cfg->alpha) ||
        !(cfg->mask_ratio > 0 && cfg->mask_ratio <= 1) ||
        !isfinite(cfg->mask_guidance) || !(cfg->mask_lr >= 0) ||
        !isfinite(cfg->mask_lr) || (unsigned)cfg->params > LT_ESD_NOTIME)
        return lt_set_error(LT_ERR_ARG, "salun (canvas): need batch, epochs "
                            ">= 1, lr > 0, mask ratio in (0, 1], mask lr >= "
                            "0 and finite alpha and guidance (got %d, %d, "
                            "%g, %g, %g)", cfg->batch, cfg->epochs,
                            (double)cfg->lr, (double)cfg->mask_ratio,
                            (double)cfg->mask_lr);
    return LT_OK;
}

/* The first item and size of batch k over n items. */
static int batch_at(const lt_salun_text_config *cfg, int64_t n, int64_t k,
                    int64_t *first)
{
    int64_t b = cfg->cycle ? k % n_batches(cfg, n) : 0;
    *first = b * cfg->batch;
    int64_t left = n - *first;
    return (int)(left < cfg->batch ? left : cfg->batch);
}

typedef struct {
    int32_t *t, *t_r;
    float *e, *e_r;
} draw_bufs;

static lt_status bufs_new(const lt_unet *u, int B, draw_bufs *b,
                          lt_salun_text_draw *d)
{
    size_t per = (size_t)img_size(u) * (size_t)B;
    b->t = malloc((size_t)B * sizeof *b->t);
    b->t_r = malloc((size_t)B * sizeof *b->t_r);
    b->e = malloc(per * sizeof *b->e);
    b->e_r = malloc(per * sizeof *b->e_r);
    *d = (lt_salun_text_draw){b->t, b->t_r, b->e, b->e_r};
    if (!b->t || !b->t_r || !b->e || !b->e_r)
        return lt_set_error(LT_ERR_NOMEM, "salun (canvas): out of memory");
    return LT_OK;
}

static void bufs_free(draw_bufs *b)
{
    free(b->t);
    free(b->t_r);
    free(b->e);
    free(b->e_r);
}

/* ---- the mask ----------------------------------------------------------------- */

static lt_status mask_iter(lt_unet *m, const lt_dm_schedule *s,
                           const lt_salun_text_data *d,
                           const lt_salun_text_config *cfg,
                           const lt_salun_text_draw *dr, int64_t k,
                           lt_ctx *c, lt_optim *opt, float *g)
{
    int64_t first;
    int B = batch_at(cfg, d->n_forget, k, &first);
    lt_ctx_reset(c);
    lt_params_zero_grad(&m->params);
    lt_tensor *l = lt_salun_text_mask_loss(
        c, m, s, d->x_forget + first * img_size(m), dr->noise, dr->t, B,
        d->ctx_mask, d->null_mask, cfg->mask_guidance, true);
    if (!l || lt_backward(c, l) != LT_OK)
        return lt_set_error(lt_last_status(), "salun (canvas) mask pass "
                            "%lld: %s", (long long)k + 1, lt_last_error());
    if (!isfinite(l->data[0]))
        return lt_set_error(LT_ERR_NAN, "salun (canvas) mask pass %lld: "
                            "loss %g", (long long)k + 1, (double)l->data[0]);
    const float *gr = m->params.grad;
    for (int64_t j = 0; j < m->params.n_train; j++)
        g[j] += gr[j];
    if (cfg->mask_lr > 0 &&
        lt_optim_step(opt, m->params.theta, gr, NULL, cfg->mask_lr) != LT_OK)
        return lt_last_status();
    return LT_OK;
}

lt_status lt_salun_text_saliency(const lt_unet *u, const lt_dm_schedule *s,
                                 const lt_salun_text_data *d,
                                 const lt_salun_text_config *cfg,
                                 const lt_salun_text_draw *draws, float *g)
{
    if (check(u, s, d, cfg, false) != LT_OK)
        return lt_last_status();
    if (!g)
        return lt_set_error(LT_ERR_ARG, "salun (canvas) mask: NULL output");
    lt_unet *m = NULL;
    lt_optim opt = {0};
    draw_bufs b = {0};
    lt_salun_text_draw own;
    int B = cfg->batch;
    lt_ctx *c = lt_ctx_new(lt_unet_arena_bytes(u, 2 * B, true));
    lt_status st = c ? bufs_new(u, B, &b, &own)
                     : lt_set_error(LT_ERR_NOMEM, "salun (canvas): out of "
                                    "memory");
    if (st == LT_OK)
        st = lt_unet_create(u->arch, &m);
    if (st == LT_OK) {
        memcpy(m->params.theta, u->params.theta,
               (size_t)u->params.n_total * sizeof(float));
        lt_optim_config oc = lt_optim_defaults(LT_OPT_ADAM);
        oc.lr = cfg->mask_lr > 0 ? cfg->mask_lr : 1;
        oc.weight_decay = 0;
        st = lt_optim_init(&opt, &oc, m->params.n_train);
    }
    if (st == LT_OK)
        memset(g, 0, (size_t)u->params.n_train * sizeof *g);
    int64_t iters = lt_salun_text_mask_iters(cfg, d->n_forget);
    for (int64_t k = 0; st == LT_OK && k < iters; k++) {
        const lt_salun_text_draw *dr = draws ? &draws[k] : &own;
        if (!draws)
            lt_salun_text_draws(cfg, u, s, 0, k, B, &own);
        st = mask_iter(m, s, d, cfg, dr, k, c, &opt, g);
    }
    bufs_free(&b);
    lt_optim_free(&opt);
    lt_unet_free(m);
    lt_ctx_free(c);
    return st;
}

lt_status lt_salun_text_mask(const float *g, int64_t n, float ratio,
                             bool bottom, float *mask)
{
    if (!g || !mask || n < 1 || !(ratio > 0 && ratio <= 1))
        return lt_set_error(LT_ERR_ARG, "salun (canvas) mask: bad argument "
                            "(ratio %g)", (double)ratio);
    int64_t k = lt_mask_count(n, ratio);
    if (!bottom)
        return lt_mask_top_k(g, n, k, true, mask);
    float *neg = malloc((size_t)n * sizeof *neg);
    if (!neg)
        return lt_set_error(LT_ERR_NOMEM, "salun (canvas) mask: out of "
                            "memory");
    for (int64_t i = 0; i < n; i++)
        neg[i] = -fabsf(g[i]);
    lt_status st = lt_mask_top_k(neg, n, k, false, mask);
    free(neg);
    return st;
}

/* ---- training ----------------------------------------------------------------- */

typedef struct {
    lt_unet *u;
    const lt_dm_schedule *s;
    const lt_salun_text_data *d;
    const lt_salun_text_config *cfg;
    float *sel;
    lt_optim opt;
    lt_ctx *c;
} salun_run;

static lt_status run_init(salun_run *r, const float *mask)
{
    lt_unet *u = r->u;
    int64_t n = u->params.n_train;
    r->sel = malloc((size_t)n * sizeof *r->sel);
    r->c = lt_ctx_new(lt_unet_arena_bytes(u, 3 * r->cfg->batch, true));
    if (!r->sel || !r->c)
        return lt_set_error(LT_ERR_NOMEM, "salun (canvas): out of memory");
    if (lt_esd_mask(u, r->cfg->params, r->sel, NULL) != LT_OK)
        return lt_last_status();
    for (int64_t j = 0; mask && j < n; j++)
        r->sel[j] *= mask[j] != 0;
    lt_optim_config oc = lt_optim_defaults(LT_OPT_ADAM);
    oc.lr = r->cfg->lr;
    oc.weight_decay = 0;
    return lt_optim_init(&r->opt, &oc, n);
}

static lt_status run_step(salun_run *r, const lt_salun_text_draw *dr,
                          int64_t k, float *loss)
{
    const lt_salun_text_data *d = r->d;
    lt_unet *u = r->u;
    int64_t per = img_size(u), LD = (int64_t)u->cfg.ctx_len * u->cfg.ctx_dim;
    int64_t f0, r0;
    int B = batch_at(r->cfg, d->n_forget, k, &f0);
    int Br = batch_at(r->cfg, d->n_remain, k, &r0);
    /* the remain batch pairs with the forget batch item by item */
    float *xr = lt_alloc(r->c, (size_t)(B * per) * sizeof *xr);
    float *cr = lt_alloc(r->c, (size_t)(B * LD) * sizeof *cr);
    if (!xr || !cr)
        return lt_set_error(LT_ERR_NOMEM, "salun (canvas): arena");
    for (int i = 0; i < B; i++) {
        int64_t j = r0 + i % Br;
        memcpy(xr + i * per, d->x_remain + j * per, (size_t)per * 4);
        memcpy(cr + i * LD, d->ctx_remain + j * LD, (size_t)LD * 4);
    }
    lt_params_zero_grad(&u->params);
    lt_tensor *l = lt_salun_text_loss(r->c, u, r->s, d->x_forget + f0 * per,
                                      d->ctx_forget + f0 * LD, cr, xr, cr,
                                      dr, B, r->cfg->alpha, true);
    if (!l || lt_backward(r->c, l) != LT_OK)
        return lt_set_error(lt_last_status(), "salun (canvas) step %lld: %s",
                            (long long)k + 1, lt_last_error());
    if (!isfinite(l->data[0]))
        return lt_set_error(LT_ERR_NAN, "salun (canvas) step %lld: loss %g",
                            (long long)k + 1, (double)l->data[0]);
    *loss = l->data[0];
    return lt_optim_step(&r->opt, u->params.theta, u->params.grad, r->sel,
                         r->cfg->lr);
}

lt_status lt_salun_text_run(lt_unet *u, const lt_dm_schedule *s,
                            const lt_salun_text_data *d, const float *mask,
                            const lt_salun_text_config *cfg,
                            const lt_salun_text_draw *draws,
                            lt_salun_text_fn cb, void *ud)
{
    if (check(u, s, d, cfg, true) != LT_OK)
        return lt_last_status();
    salun_run r = {.u = u, .s = s, .d = d, .cfg = cfg};
    draw_bufs b = {0};
    lt_salun_text_draw own;
    lt_status st = run_init(&r, mask);
    if (st == LT_OK)
        st = bufs_new(u, cfg->batch, &b, &own);
    int64_t iters = lt_salun_text_iters(cfg, d->n_forget);
    double t0 = lt_clock_seconds();
    for (int64_t k = 0; st == LT_OK && k < iters; k++) {
        if (!draws)
            lt_salun_text_draws(cfg, u, s, 1, k, cfg->batch, &own);
        lt_ctx_reset(r.c);
        float loss = 0;
        st = run_step(&r, draws ? &draws[k] : &own, k, &loss);
        lt_salun_text_event ev = {.step = k + 1, .steps = iters,
                                  .loss = loss,
                                  .seconds = lt_clock_seconds() - t0};
        if (st == LT_OK && cb)
            cb(&ev, ud);
    }
    bufs_free(&b);
    free(r.sel);
    lt_optim_free(&r.opt);
    lt_ctx_free(r.c);
    return st;
}
