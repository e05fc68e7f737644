/*
 * dm_text_unlearn.c - ESD on a text-conditioned diffusion UNet
 * (lethe/dm_text_unlearn.h): the parameter sets of train-esd.py chosen by
 * name, the partial CompVis-DDIM sampling that gives each iteration's
 * starting point from the model being trained, the negative-guidance
 * regression onto a frozen copy, and the seeded Adam loop over the chosen
 * parameters only (the rest masked, so bit-identical); and FMN's
 * attention-resteering loss (the norm of the cross-attention
 * probabilities at the concept's tokens, read through the UNet's probe)
 * with its AdamW loop.
 */
#include "esd_internal.h"
#include "lethe/data.h"
#include "lethe/optim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- parameter sets ------------------------------------------------------------- */

static const char *const esd_names[] = {"esd-x", "esd-u", "selfattn", "full",
                                        "notime", "esd-all", "esd-x-strict"};
static const char *const esd_aliases[] = {"xattn", "noxattn", "selfattn",
                                          "full", "notime", "esd-all",
                                          "esd-x-strict"};

lt_status lt_esd_params_parse(const char *name, lt_esd_params *out)
{
    for (int k = 0; k <= LT_ESD_X_STRICT; k++)
        if (name && (!strcmp(name, esd_names[k]) ||
                     !strcmp(name, esd_aliases[k]))) {
            *out = (lt_esd_params)k;
            return LT_OK;
        }
    return lt_set_error(LT_ERR_ARG, "esd parameter set '%s': unknown (known: "
                        "esd-x (xattn), esd-u (noxattn), selfattn, full, "
                        "notime; sd variant: esd-all, esd-x-strict)",
                        name ? name : "(null)");
}

const char *lt_esd_params_name(lt_esd_params k)
{
    return (unsigned)k <= LT_ESD_X_STRICT ? esd_names[k] : "?";
}

lt_status lt_esd_variant_parse(const char *name, lt_esd_variant *out)
{
    if (name && !strcmp(name, "paper"))
        *out = LT_ESD_PAPER;
    else if (name && !strcmp(name, "sd"))
        *out = LT_ESD_SD;
    else
        return lt_set_error(LT_ERR_ARG, "esd variant '%s': unknown (known: "
                            "paper (train-esd.py), sd (esd_sd.py))",
                            name ? name : "(null)");
    return LT_OK;
}

const char *lt_esd_variant_name(lt_esd_variant v)
{
    return v == LT_ESD_SD ? "sd" : v == LT_ESD_PAPER ? "paper" : "?";
}

bool lt_esd_variant_has(lt_esd_variant v, lt_esd_params k)
{
    if (v == LT_ESD_SD)
        return k == LT_ESD_X || k == LT_ESD_U || k == LT_ESD_ALL ||
               k == LT_ESD_X_STRICT;
    return v == LT_ESD_PAPER && (unsigned)k <= LT_ESD_NOTIME;
}

static bool starts(const char *s, const char *p)
{
    return !strncmp(s, p, strlen(p));
}

bool lt_esd_selects(lt_esd_params k, const char *name)
{
    bool out = starts(name, "out."), x = strstr(name, "attn2") != NULL;
    bool time = strstr(name, "time_embed") != NULL;
    switch (k) {
    case LT_ESD_X:
        return x;
    case LT_ESD_U:
        return !(out || x || time);
    case LT_ESD_SELFATTN:
        return strstr(name, "attn1") != NULL;
    case LT_ESD_FULL:
        return true;
    case LT_ESD_NOTIME:
        return !(out || time);
    case LT_ESD_ALL: /* the sd variant's (lt_esd_sd_selects) */
    case LT_ESD_X_STRICT:
        return false;
    }
    return false;
}

lt_status lt_esd_mask(const lt_unet *u, lt_esd_params k, float *mask,
                      int64_t *n_selected)
{
    return lt_esd_mask_of(u, LT_ESD_PAPER, k, mask, n_selected);
}

lt_status lt_esd_mask_of(const lt_unet *u, lt_esd_variant v, lt_esd_params k,
                         float *mask, int64_t *n_selected)
{
    if (!u || !mask || (unsigned)k > LT_ESD_X_STRICT)
        return lt_set_error(LT_ERR_ARG, "esd mask: bad argument");
    if (!lt_esd_variant_has(v, k))
        return lt_set_error(LT_ERR_ARG, "esd: the %s variant's script has "
                            "no parameter set %s (paper: esd-x, esd-u, "
                            "selfattn, full, notime; sd: esd-x, esd-u, "
                            "esd-all, esd-x-strict)", lt_esd_variant_name(v),
                            lt_esd_params_name(k));
    if (u->cfg.kind != LT_UNET_TEXT)
        return lt_set_error(LT_ERR_ARG, "esd: unet %s is class-conditional; "
                            "ESD erases a prompt from a text-conditioned "
                            "model (text:...)", u->arch);
    const lt_params *ps = &u->params;
    memset(mask, 0, (size_t)ps->n_train * sizeof *mask);
    int64_t n = 0;
    for (int j = 0; j < ps->count; j++) {
        const lt_param *p = &ps->p[j];
        if (!p->trainable || !(v == LT_ESD_SD ? lt_esd_sd_selects(k, p->name)
                                              : lt_esd_selects(k, p->name)))
            continue;
        for (int64_t i = 0; i < p->t.numel; i++)
            mask[p->offset + i] = 1;
        n += p->t.numel;
    }
    if (n_selected)
        *n_selected = n;
    if (n == 0)
        return lt_set_error(LT_ERR_ARG, "esd: parameter set %s selects no "
                            "parameter of %s", lt_esd_params_name(k),
                            u->arch);
    return LT_OK;
}

lt_esd_config lt_esd_defaults(void)
{
    return lt_esd_defaults_for(LT_ESD_PAPER);
}

lt_esd_config lt_esd_defaults_for(lt_esd_variant v)
{
    lt_esd_config c = {.params = LT_ESD_X, .eta = 1.0f,
                       .start_guidance = 3.0f, .ddim_steps = 50,
                       .steps = 1000, .lr = 1e-5f, .seed = 1,
                       .variant = v};
    if (v == LT_ESD_SD) { /* esd_sd.py's argparse */
        c.eta = 2.0f;
        c.steps = 200;
        c.lr = 5e-5f;
    }
    return c;
}

/* ---- the starting point: CompVis DDIM until till_T ------------------------------ */

int64_t lt_esd_img_size(const lt_unet *u)
{
    return (int64_t)u->cfg.in_ch * u->cfg.res * u->cfg.res;
}

/* make_ddim_timesteps("uniform"): tau_i = i * (T / S) + 1. */
static int ddim_tau(int T, int S, int i)
{
    return i * (T / S) + 1;
}

static lt_status check_S(int T, int S)
{
    if (S < 1 || S > T || ddim_tau(T, S, S - 1) >= T)
        return lt_set_error(LT_ERR_ARG, "esd: %d DDIM steps do not fit T = "
                            "%d", S, T);
    return LT_OK;
}

lt_tensor *lt_esd_guided1(lt_ctx *c, lt_unet *u, const float *x, float t,
                          const float *ctx, const float *null_ctx, float g)
{
    int64_t L = u->cfg.ctx_len, D = u->cfg.ctx_dim;
    lt_tensor *xt = lt_from_data(c, 4, (int64_t[]){1, u->cfg.in_ch,
                                                   u->cfg.res, u->cfg.res},
                                 (float *)x);
    lt_tensor *k = lt_from_data(c, 3, (int64_t[]){1, L, D}, (float *)ctx);
    lt_tensor *n = lt_from_data(c, 2, (int64_t[]){L, D}, (float *)null_ctx);
    if (!xt || !k || !n)
        return NULL;
    return lt_dm_guided_eps_text(c, u, xt, &t, k, n, LT_GUIDE_SD, g);
}

lt_status lt_esd_start(lt_unet *u, const lt_dm_schedule *s, int S,
                       int t_enc, float guidance, const float *ctx,
                       const float *null_ctx, float *x)
{
    if (!u || !s || !ctx || !null_ctx || !x || !isfinite(guidance))
        return lt_set_error(LT_ERR_ARG, "esd start: bad argument");
    if (u->cfg.kind != LT_UNET_TEXT)
        return lt_set_error(LT_ERR_ARG, "esd start: unet %s is not a text "
                            "model", u->arch);
    if (check_S(s->T, S) != LT_OK)
        return lt_last_status();
    if (t_enc < 0 || t_enc >= S)
        return lt_set_error(LT_ERR_ARG, "esd start: t_enc %d outside [0, %d)",
                            t_enc, S);
    int64_t per = lt_esd_img_size(u);
    lt_ctx *c = lt_ctx_new(lt_unet_arena_bytes(u, 2, false));
    if (!c)
        return lt_set_error(LT_ERR_NOMEM, "esd start: out of memory");
    lt_set_grad_enabled(c, false);
    int last = t_enc > 0 ? t_enc - 1 : 0; /* the code's till_T break */
    lt_status st = LT_OK;
    for (int i = S - 1; i >= last; i--) {
        lt_ctx_reset(c);
        int ti = ddim_tau(s->T, S, i);
        lt_tensor *e = lt_esd_guided1(c, u, x, (float)ti, ctx, null_ctx,
                                      guidance);
        if (!e) {
            st = lt_last_status();
            break;
        }
        float a = s->abar[ti];
        float ap = i > 0 ? s->abar[ddim_tau(s->T, S, i - 1)] : s->abar[0];
        float sb = sqrtf(1 - a), sa = sqrtf(a), sp = sqrtf(ap);
        float dp = sqrtf(1 - ap);
        for (int64_t j = 0; j < per; j++) {
            float x0 = (x[j] - sb * e->data[j]) / sa;
            x[j] = sp * x0 + dp * e->data[j];
        }
    }
    lt_ctx_free(c);
    return st;
}

/* ---- the loss ------------------------------------------------------------------- */

/* The loss with the target base - eta (e*(c) - e*(null)): base is
 * e*(null) in the paper-era script, e*(c) in esd_sd.py (sd). */
static lt_tensor *esd_loss(lt_ctx *c, lt_unet *u, lt_unet *frozen,
                           const float *z, int t, const float *ctx,
                           const float *null_ctx, float eta, bool training,
                           bool sd)
{
    if (!c || !u || !frozen || !z || !ctx || !null_ctx ||
        u->cfg.kind != LT_UNET_TEXT) {
        lt_set_error(LT_ERR_ARG, "esd loss: bad argument");
        return NULL;
    }
    int64_t L = u->cfg.ctx_len, D = u->cfg.ctx_dim;
    int64_t shape[4] = {1, u->cfg.in_ch, u->cfg.res, u->cfg.res};
    float tf = (float)t;
    lt_tensor *x = lt_from_data(c, 4, shape, (float *)z);
    lt_tensor *k = lt_from_data(c, 3, (int64_t[]){1, L, D}, (float *)ctx);
    lt_tensor *n = lt_from_data(c, 3, (int64_t[]){1, L, D},
                                (float *)null_ctx);
    if (!x || !k || !n)
        return NULL;
    bool was = lt_set_grad_enabled(c, false);
    lt_tensor *e0 = lt_unet_forward_text(c, frozen, x, &tf, n, false);
    lt_tensor *ep = e0 ? lt_unet_forward_text(c, frozen, x, &tf, k, false)
                       : NULL;
    lt_tensor *tg = ep ? lt_sub(c, sd ? ep : e0,
                                lt_affine(c, lt_sub(c, ep, e0), eta, 0))
                       : NULL;
    lt_set_grad_enabled(c, was);
    lt_tensor *en = tg ? lt_unet_forward_text(c, u, x, &tf, k, training)
                       : NULL;
    return en ? lt_mse(c, en, tg, LT_REDUCE_MEAN) : NULL;
}

lt_tensor *lt_esd_loss(lt_ctx *c, lt_unet *u, lt_unet *frozen,
                       const float *z, int t, const float *ctx,
                       const float *null_ctx, float eta, bool training)
{
    return esd_loss(c, u, frozen, z, t, ctx, null_ctx, eta, training, false);
}

/* ---- the loop ------------------------------------------------------------------- */

struct lt_esd {
    lt_unet *u, *frozen;
    const lt_dm_schedule *s;
    const float *ctx, *null_ctx;
    lt_esd_config cfg;
    float *mask, *z;
    lt_optim opt;
    lt_ctx *c;
    int64_t step;
    double t0;
};

void lt_esd_draws(const lt_esd_config *cfg, const lt_unet *u,
                  const lt_dm_schedule *s, int64_t k, lt_esd_draw *d)
{
    lt_rng g;
    lt_rng_init(&g, lt_hash3(cfg->seed, 61, (uint64_t)k));
    int S = cfg->ddim_steps, T = s->T;
    d->t_enc = (int)lt_rng_below(&g, (uint64_t)S);
    if (cfg->variant == LT_ESD_SD) { /* the loss at timesteps[run_till] */
        int *ts = malloc(((size_t)S + 1) * sizeof *ts);
        d->t_ddpm = ts && lt_esd_sd_timesteps(T, S, ts) ? ts[d->t_enc] : -1;
        free(ts);
        if (d->start)
            lt_rng_fill_normal(&g, d->start, lt_esd_img_size(u), 0, 1);
        return;
    }
    int lo = (int)lround((double)d->t_enc / S * T);
    int hi = (int)lround((double)(d->t_enc + 1) / S * T);
    hi = hi > T ? T : hi;
    d->t_ddpm = lo + (hi > lo ? (int)lt_rng_below(&g, (uint64_t)(hi - lo))
                              : 0);
    if (d->start)
        lt_rng_fill_normal(&g, d->start, lt_esd_img_size(u), 0, 1);
}

static lt_status check_config(const lt_unet *u, const lt_dm_schedule *s,
                              const lt_esd_config *cfg)
{
    if (u->cfg.kind != LT_UNET_TEXT)
        return lt_set_error(LT_ERR_ARG, "esd: unet %s is class-conditional; "
                            "ESD erases a prompt from a text-conditioned "
                            "model (text:...)", u->arch);
    if (cfg->steps < 1 || !(cfg->lr > 0) || !isfinite(cfg->lr) ||
        !isfinite(cfg->eta) || !isfinite(cfg->start_guidance) ||
        (unsigned)cfg->variant > LT_ESD_SD)
        return lt_set_error(LT_ERR_ARG, "esd: need steps >= 1, lr > 0 and "
                            "finite eta and start guidance (got %lld, %g, "
                            "%g, %g)", (long long)cfg->steps, (double)cfg->lr,
                            (double)cfg->eta, (double)cfg->start_guidance);
    if (!lt_esd_variant_has(cfg->variant, cfg->params))
        return lt_set_error(LT_ERR_ARG, "esd: the %s variant has no "
                            "parameter set %s",
                            lt_esd_variant_name(cfg->variant),
                            lt_esd_params_name(cfg->params));
    return check_S(s->T, cfg->ddim_steps);
}

static lt_status check_ctx(const lt_unet *u, const float *ctx,
                           const char *what)
{
    int64_t n = (int64_t)u->cfg.ctx_len * u->cfg.ctx_dim;
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(ctx[i]))
            return lt_set_error(LT_ERR_ARG, "esd: %s context has a non-"
                                "finite value at %lld", what, (long long)i);
    return LT_OK;
}

void lt_esd_free(lt_esd *r)
{
    if (!r)
        return;
    lt_unet_free(r->frozen);
    free(r->mask);
    free(r->z);
    lt_optim_free(&r->opt);
    lt_ctx_free(r->c);
    free(r);
}

lt_status lt_esd_new(lt_unet *u, const lt_dm_schedule *s, const float *ctx,
                     const float *null_ctx, const lt_esd_config *cfg,
                     lt_esd **out)
{
    if (!u || !s || !ctx || !null_ctx || !cfg || !out)
        return lt_set_error(LT_ERR_ARG, "esd: NULL argument");
    *out = NULL;
    if (check_config(u, s, cfg) != LT_OK ||
        check_ctx(u, ctx, "concept") != LT_OK ||
        check_ctx(u, null_ctx, "null") != LT_OK)
        return lt_last_status();
    lt_esd *r = calloc(1, sizeof *r);
    if (!r)
        return lt_set_error(LT_ERR_NOMEM, "esd: out of memory");
    *r = (lt_esd){.u = u, .s = s, .ctx = ctx, .null_ctx = null_ctx,
                  .cfg = *cfg, .t0 = lt_clock_seconds()};
    r->mask = malloc((size_t)u->params.n_train * sizeof *r->mask);
    r->z = malloc((size_t)lt_esd_img_size(u) * sizeof *r->z);
    r->c = lt_ctx_new(lt_unet_arena_bytes(u, 3, true));
    lt_status st = r->mask && r->z && r->c
                       ? LT_OK
                       : lt_set_error(LT_ERR_NOMEM, "esd: out of memory");
    if (st == LT_OK)
        st = lt_esd_mask_of(u, cfg->variant, cfg->params, r->mask, NULL);
    for (int64_t j = 0; st == LT_OK && cfg->mask && j < u->params.n_train;
         j++)
        r->mask[j] *= cfg->mask[j] != 0;
    if (st == LT_OK)
        st = lt_unet_create(u->arch, &r->frozen);
    if (st == LT_OK) {
        memcpy(r->frozen->params.theta, u->params.theta,
               (size_t)u->params.n_total * sizeof(float));
        lt_optim_config oc = lt_optim_defaults(LT_OPT_ADAM);
        oc.lr = cfg->lr;
        oc.weight_decay = 0;
        st = lt_optim_init(&r->opt, &oc, u->params.n_train);
    }
    if (st != LT_OK) {
        lt_esd_free(r);
        return st;
    }
    *out = r;
    return LT_OK;
}

lt_status lt_esd_step(lt_esd *r, const lt_esd_draw *d, lt_esd_event *ev)
{
    if (!r || !ev || (d && !d->start))
        return lt_set_error(LT_ERR_ARG, "esd step: NULL argument");
    lt_esd_draw own = {.start = r->z};
    if (!d) {
        lt_esd_draws(&r->cfg, r->u, r->s, r->step, &own);
    } else {
        own.t_enc = d->t_enc;
        own.t_ddpm = d->t_ddpm;
        memcpy(r->z, d->start, (size_t)lt_esd_img_size(r->u) * sizeof *r->z);
    }
    long long k = (long long)r->step + 1;
    if (own.t_ddpm < 0 || own.t_ddpm >= r->s->T)
        return lt_set_error(LT_ERR_ARG, "esd step %lld: t_ddpm %d outside "
                            "[0, %d)", k, own.t_ddpm, r->s->T);
    bool sd = r->cfg.variant == LT_ESD_SD;
    lt_status st =
        sd ? lt_esd_sd_start(r->frozen, r->s, r->cfg.ddim_steps, own.t_enc,
                             r->cfg.start_guidance, r->ctx, r->null_ctx,
                             r->z)
           : lt_esd_start(r->u, r->s, r->cfg.ddim_steps, own.t_enc,
                          r->cfg.start_guidance, r->ctx, r->null_ctx, r->z);
    if (st != LT_OK)
        return lt_set_error(lt_last_status(), "esd step %lld: %s", k,
                            lt_last_error());
    lt_ctx_reset(r->c);
    lt_params_zero_grad(&r->u->params);
    /* esd_sd.py's model is in eval mode (from_pretrained) */
    lt_tensor *l = esd_loss(r->c, r->u, r->frozen, r->z, own.t_ddpm, r->ctx,
                            r->null_ctx, r->cfg.eta, !sd, sd);
    if (!l || lt_backward(r->c, l) != LT_OK)
        return lt_set_error(lt_last_status(), "esd step %lld: %s", k,
                            lt_last_error());
    if (!isfinite(l->data[0]))
        return lt_set_error(LT_ERR_NAN, "esd step %lld: loss %g", k,
                            (double)l->data[0]);
    if (lt_optim_step(&r->opt, r->u->params.theta, r->u->params.grad,
                      r->mask, r->cfg.lr) != LT_OK)
        return lt_last_status();
    r->step++;
    *ev = (lt_esd_event){.step = r->step, .steps = r->cfg.steps,
                         .loss = l->data[0], .t_enc = own.t_enc,
                         .t_ddpm = own.t_ddpm,
                         .seconds = lt_clock_seconds() - r->t0};
    return LT_OK;
}

lt_status lt_esd_run(lt_unet *u, const lt_dm_schedule *s, const float *ctx,
                     const float *null_ctx, const lt_esd_config *cfg,
                     lt_esd_fn cb, void *ud)
{
    lt_esd *r = NULL;
    lt_status st = lt_esd_new(u, s, ctx, null_ctx, cfg, &r);
    while (st == LT_OK && r->step < cfg->steps) {
        lt_esd_event ev;
        st = lt_esd_step(r, NULL, &ev);
        if (st == LT_OK && cb)
            cb(&ev, ud);
    }
    lt_esd_free(r);
    return st;
}

/* ---- FMN ------------------------------------------------------------------------ */

lt_fmn_config lt_fmn_defaults(void)
{
    return (lt_fmn_config){.only_ca = false, .steps = 35, .lr = 2e-6f,
                           .weight_decay = 0.01f, .clip = 1.0f, .seed = 1};
}

lt_status lt_fmn_positions(const int32_t *ids, int L, const int32_t *cid,
                           int n, bool pooler, float *mask, int *marked)
{
    if (!ids || !cid || !mask || L < 1 || n < 1)
        return lt_set_error(LT_ERR_ARG, "fmn positions: bad argument");
    int hits = 0, count = 0;
    for (int i = 0; i < L; i++)
        mask[i] = 0;
    for (int i = 0; i + n <= L; i++)
        if (!memcmp(ids + i, cid, (size_t)n * sizeof *cid)) {
            for (int j = 0; j < n; j++)
                mask[i + j] = 1;
            hits++;
        }
    for (int i = 0; pooler && i < L; i++)
        if (ids[i] == LT_CLIP_EOS)
            mask[i] = 1;
    for (int i = 0; i < L; i++)
        count += mask[i] != 0;
    if (marked)
        *marked = count;
    if (!hits)
        return lt_set_error(LT_ERR_ARG, "fmn positions: the concept's %d "
                            "token(s) do not occur in the prompt", n);
    return LT_OK;
}

lt_tensor *lt_fmn_loss(lt_ctx *c, lt_unet *u, const lt_dm_schedule *s,
                       const float *x0, const float *e, const int32_t *t,
                       const float *ctx, const float *mask, int B,
                       bool training)
{
    if (!c || !u || !s || !x0 || !e || !t || !ctx || !mask || B < 1 ||
        u->cfg.kind != LT_UNET_TEXT) {
        lt_set_error(LT_ERR_ARG, "fmn loss: bad argument");
        return NULL;
    }
    int64_t shape[4] = {B, u->cfg.in_ch, u->cfg.res, u->cfg.res};
    int64_t L = u->cfg.ctx_len, D = u->cfg.ctx_dim;
    float *tf = lt_alloc(c, (size_t)B * sizeof *tf);
    lt_tensor *x = lt_from_data(c, 4, shape, (float *)x0);
    lt_tensor *n = lt_from_data(c, 4, shape, (float *)e);
    lt_tensor *k = lt_from_data(c, 3, (int64_t[]){B, L, D}, (float *)ctx);
    if (!tf || !x || !n || !k)
        return NULL;
    for (int i = 0; i < B; i++)
        tf[i] = (float)t[i];
    bool was = lt_set_grad_enabled(c, false);
    lt_tensor *xt = lt_dm_q_sample(c, s, x, n, t);
    lt_set_grad_enabled(c, was);
    lt_unet_probe pr = {.mask = mask};
    u->probe = &pr;
    lt_tensor *out = xt ? lt_unet_forward_text(c, u, xt, tf, k, training)
                        : NULL;
    u->probe = NULL;
    if (!out)
        return NULL;
    if (!pr.sumsq) {
        lt_set_error(LT_ERR_ARG, "fmn loss: unet %s has no cross-attention",
                     u->arch);
        return NULL;
    }
    return lt_sqrt(c, pr.sumsq);
}

typedef struct {
    lt_unet *u;
    const lt_dm_schedule *s;
    const float *x, *ctx, *mask;
    int64_t n;
    const lt_fmn_config *cfg;
    float *sel, *e; /* sel: the trained entries (only_ca, mask), else NULL */
    int64_t *perm, epoch;
    lt_optim opt;
    lt_ctx *c;
} fmn_runner;

static void fmn_free(fmn_runner *r)
{
    free(r->sel);
    free(r->e);
    free(r->perm);
    lt_optim_free(&r->opt);
    lt_ctx_free(r->c);
}

static lt_status fmn_init(fmn_runner *r)
{
    const lt_fmn_config *cfg = r->cfg;
    lt_unet *u = r->u;
    if (u->cfg.kind != LT_UNET_TEXT)
        return lt_set_error(LT_ERR_ARG, "fmn: unet %s is class-conditional; "
                            "FMN resteers a text model's cross-attention "
                            "(text:...)", u->arch);
    if (r->n < 1 || cfg->steps < 1 || !(cfg->lr > 0) || !isfinite(cfg->lr) ||
        !(cfg->weight_decay >= 0) || !isfinite(cfg->weight_decay))
        return lt_set_error(LT_ERR_ARG, "fmn: need images >= 1, steps >= 1, "
                            "lr > 0 and weight decay >= 0 (got %lld, %lld, "
                            "%g, %g)", (long long)r->n, (long long)cfg->steps,
                            (double)cfg->lr, (double)cfg->weight_decay);
    for (int64_t i = 0; i < r->n; i++) {
        double m = 0;
        for (int j = 0; j < u->cfg.ctx_len; j++)
            m += r->mask[i * u->cfg.ctx_len + j];
        if (!(m > 0))
            return lt_set_error(LT_ERR_ARG, "fmn: the mask of image %lld "
                                "marks no token", (long long)i);
    }
    int64_t per = lt_esd_img_size(u);
    r->e = malloc((size_t)per * sizeof *r->e);
    r->perm = malloc((size_t)r->n * sizeof *r->perm);
    r->c = lt_ctx_new(lt_unet_arena_bytes(u, 2, true));
    if (!r->e || !r->perm || !r->c)
        return lt_set_error(LT_ERR_NOMEM, "fmn: out of memory");
    r->epoch = -1;
    if (cfg->only_ca || cfg->mask) {
        int64_t nt = u->params.n_train;
        r->sel = malloc((size_t)nt * sizeof *r->sel);
        if (!r->sel)
            return lt_set_error(LT_ERR_NOMEM, "fmn: out of memory");
        for (int64_t j = 0; j < nt; j++)
            r->sel[j] = 1;
        if (cfg->only_ca && lt_esd_mask(u, LT_ESD_X, r->sel, NULL) != LT_OK)
            return lt_last_status();
        for (int64_t j = 0; cfg->mask && j < nt; j++)
            r->sel[j] *= cfg->mask[j] != 0;
    }
    lt_optim_config oc = lt_optim_defaults(LT_OPT_ADAMW);
    oc.lr = cfg->lr;
    oc.weight_decay = cfg->weight_decay;
    return lt_optim_init(&r->opt, &oc, u->params.n_train);
}

static lt_status fmn_step(fmn_runner *r, int64_t k, lt_fmn_event *ev)
{
    lt_unet *u = r->u;
    int64_t ep = k / r->n, per = lt_esd_img_size(u);
    int64_t L = u->cfg.ctx_len, D = u->cfg.ctx_dim;
    if (ep != r->epoch) {
        lt_permutation(r->perm, r->n, lt_hash3(r->cfg->seed, 71,
                                               (uint64_t)ep));
        r->epoch = ep;
    }
    int64_t i = r->perm[k % r->n];
    lt_rng g;
    lt_rng_init(&g, lt_hash3(r->cfg->seed, 72, (uint64_t)k));
    int32_t t = (int32_t)lt_rng_below(&g, (uint64_t)r->s->T);
    lt_rng_fill_normal(&g, r->e, per, 0, 1);
    lt_ctx_reset(r->c);
    lt_params_zero_grad(&u->params);
    lt_tensor *l = lt_fmn_loss(r->c, u, r->s, r->x + i * per, r->e, &t,
                               r->ctx + i * L * D, r->mask + i * L, 1, true);
    if (!l || lt_backward(r->c, l) != LT_OK)
        return lt_set_error(lt_last_status(), "fmn step %lld: %s",
                            (long long)k + 1, lt_last_error());
    float *gr = u->params.grad;
    int64_t ntr = u->params.n_train;
    if (r->sel)
        for (int64_t j = 0; j < ntr; j++)
            gr[j] *= r->sel[j];
    double norm = lt_clip_grad_norm(gr, ntr, r->cfg->only_ca &&
                                                     r->cfg->clip > 0
                                                 ? r->cfg->clip
                                                 : INFINITY);
    if (!isfinite(l->data[0]) || !isfinite(norm))
        return lt_set_error(LT_ERR_NAN, "fmn step %lld: loss %g, gradient "
                            "norm %g", (long long)k + 1, (double)l->data[0],
                            norm);
    if (lt_optim_step(&r->opt, u->params.theta, gr, r->sel, r->cfg->lr) !=
        LT_OK)
        return lt_last_status();
    *ev = (lt_fmn_event){.step = k + 1, .steps = r->cfg->steps,
                         .loss = l->data[0], .grad_norm = norm};
    return LT_OK;
}

lt_status lt_fmn_run(lt_unet *u, const lt_dm_schedule *s, const float *x,
                     const float *ctx, const float *mask, int64_t n,
                     const lt_fmn_config *cfg, lt_fmn_fn cb, void *ud)
{
    if (!u || !s || !x || !ctx || !mask || !cfg)
        return lt_set_error(LT_ERR_ARG, "fmn: NULL argument");
    fmn_runner r = {.u = u, .s = s, .x = x, .ctx = ctx, .mask = mask,
                    .n = n, .cfg = cfg};
    lt_status st = fmn_init(&r);
    double t0 = lt_clock_seconds();
    for (int64_t k = 0; st == LT_OK && k < cfg->steps; k++) {
        lt_fmn_event ev;
        st = fmn_step(&r, k, &ev);
        ev.seconds = lt_clock_seconds() - t0;
        if (st == LT_OK && cb)
            cb(&ev, ud);
    }
    fmn_free(&r);
    return st;
}
