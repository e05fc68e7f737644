/*
 * optim.c - SGD, Adam, AdamW and Sophia over flat parameter buffers, with
 * exact freezing of masked weights. The update rules follow PyTorch 1.13's
 * torch.optim (SGD with dampening 0, Adam, AdamW) and the official SophiaG
 * code (clipped sign update with a diagonal Hessian EMA); SOUL's SophiaG
 * (sophia-soul) refreshes the Hessian EMA with g*g inside every step and
 * updates the momentum twice per step, as its code does (lethe/optim.h).
 */
#include "lethe/optim.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

lt_optim_config lt_optim_defaults(lt_optim_kind kind)
{
    lt_optim_config c = {0};
    c.kind = kind;
    switch (kind) {
    case LT_OPT_SGD:
        c.lr = 0.01f;
        c.momentum = 0.9f;
        break;
    case LT_OPT_ADAM:
    case LT_OPT_ADAMW:
        c.lr = 1e-3f;
        c.beta1 = 0.9f;
        c.beta2 = 0.999f;
        c.eps = 1e-8f;
        c.weight_decay = kind == LT_OPT_ADAMW ? 1e-2f : 0.0f;
        break;
    case LT_OPT_SOPHIA:
        c.lr = 1e-4f;
        c.beta1 = 0.965f;
        c.beta2 = 0.99f;
        c.eps = 1e-15f;
        c.rho = 0.04f;
        c.weight_decay = 1e-1f;
        c.sophia_bs = 1.0f;
        c.hessian_interval = 10;
        break;
    }
    return c;
}

lt_status lt_optim_parse(const char *name, lt_optim_config *out)
{
    static const struct {
        const char *name;
        lt_optim_kind kind;
        lt_sophia_hessian_mode mode;
    } t[] = {{"sgd", LT_OPT_SGD, LT_SOPHIA_GNB},
             {"adam", LT_OPT_ADAM, LT_SOPHIA_GNB},
             {"adamw", LT_OPT_ADAMW, LT_SOPHIA_GNB},
             {"sophia", LT_OPT_SOPHIA, LT_SOPHIA_GNB},
             {"sophia-soul", LT_OPT_SOPHIA, LT_SOPHIA_SOUL}};
    for (size_t i = 0; name && i < sizeof t / sizeof *t; i++)
        if (!strcmp(name, t[i].name)) {
            *out = lt_optim_defaults(t[i].kind);
            out->hessian_mode = t[i].mode;
            if (t[i].mode == LT_SOPHIA_SOUL && t[i].kind == LT_OPT_SOPHIA) {
                out->beta1 = 0.9f;      /* SOUL's TOFU configs */
                out->beta2 = 0.95f;
                out->sophia_bs = 5120.0f; /* SophiaG.step(bs=5120) */
            }
            return LT_OK;
        }
    return lt_set_error(LT_ERR_ARG, "unknown optimizer '%s' (expected sgd, "
                        "adam, adamw, sophia or sophia-soul)",
                        name ? name : "(null)");
}

lt_status lt_optim_init(lt_optim *o, const lt_optim_config *cfg, int64_t n)
{
    memset(o, 0, sizeof *o);
    if (!cfg || n < 0)
        return lt_set_error(LT_ERR_ARG, "lt_optim_init: bad arguments");
    o->cfg = *cfg;
    o->n = n;
    bool need_m = cfg->kind != LT_OPT_SGD || cfg->momentum != 0;
    bool need_v = cfg->kind != LT_OPT_SGD;
    o->m = need_m ? calloc((size_t)n + 1, sizeof(float)) : NULL;
    o->v = need_v ? calloc((size_t)n + 1, sizeof(float)) : NULL;
    if ((need_m && !o->m) || (need_v && !o->v)) {
        lt_optim_free(o);
        return lt_set_error(LT_ERR_NOMEM, "lt_optim_init: cannot allocate "
                            "state for %lld parameters", (long long)n);
    }
    return LT_OK;
}

void lt_optim_free(lt_optim *o)
{
    free(o->m);
    free(o->v);
    o->m = o->v = NULL;
}

/* The first non-finite gradient (a masked-out entry does not count): a
 * vectorised pass over the exponent bits finds whether there is one, and
 * only then a second pass finds which. */
static lt_status lt_check_grads(const float *g, const float *mask, int64_t n)
{
    int any = 0;
#pragma omp parallel for schedule(static) reduction(| : any) if (n > 16384)
    for (int64_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &g[i], sizeof u);
        any |= (u & 0x7f800000u) == 0x7f800000u && (!mask || mask[i] != 0);
    }
    if (!any)
        return LT_OK;
    int64_t bad = 0;
    while (bad < n && ((mask && mask[bad] == 0) || isfinite(g[bad])))
        bad++;
    return lt_set_error(LT_ERR_NAN, "optimizer step: gradient %lld is %s; "
                        "the parameters were not changed", (long long)bad,
                        isnan(g[bad]) ? "NaN" : "infinite");
}

/* The common case, no mask, one weight decay, momentum without Nesterov:
 * a loop the compiler vectorises. */
static void lt_sgd_plain(lt_optim *o, float *th, const float *g, float lr)
{
    const float wd = o->cfg.weight_decay, mu = o->cfg.momentum;
    float *buf = o->m;
#pragma omp parallel for schedule(static) if (o->n > 16384)
    for (int64_t i = 0; i < o->n; i++) {
        float d = g[i] + wd * th[i];
        buf[i] = mu * buf[i] + d;
        th[i] -= lr * buf[i];
    }
}

static void lt_sgd(lt_optim *o, float *th, const float *g, const float *mk,
                   float lr)
{
    const float wd = o->cfg.weight_decay, mu = o->cfg.momentum;
    const bool nest = o->cfg.nesterov;
    float *buf = o->m;
    if (!mk && !o->wd_mask && buf && !nest) {
        lt_sgd_plain(o, th, g, lr);
        return;
    }
#pragma omp parallel for schedule(static) if (o->n > 16384)
    for (int64_t i = 0; i < o->n; i++) {
        if (mk && mk[i] == 0)
            continue;
        float d = g[i] + (o->wd_mask ? wd * o->wd_mask[i] : wd) * th[i];
        if (buf) {
            buf[i] = mu * buf[i] + d;
            d = nest ? d + mu * buf[i] : buf[i];
        }
        th[i] -= lr * d;
    }
}

static void lt_adam(lt_optim *o, float *th, const float *g, const float *mk,
                    float lr)
{
    const lt_optim_config *c = &o->cfg;
    const bool decoupled = c->kind == LT_OPT_ADAMW;
    const float b1 = c->beta1, b2 = c->beta2, eps = c->eps, wd = c->weight_decay;
    const double t = (double)o->step;
    const float bc1 = (float)(1.0 - pow(b1, t));
    const float sbc2 = (float)sqrt(1.0 - pow(b2, t));
    const float step = lr / bc1;
    float *m = o->m, *v = o->v;
#pragma omp parallel for schedule(static) if (o->n > 16384)
    for (int64_t i = 0; i < o->n; i++) {
        if (mk && mk[i] == 0)
            continue;
        float gi = g[i], wdi = o->wd_mask ? wd * o->wd_mask[i] : wd;
        if (decoupled)
            th[i] *= 1.0f - lr * wdi;
        else
            gi += wdi * th[i];
        m[i] = b1 * m[i] + (1.0f - b1) * gi;
        v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
        th[i] -= step * m[i] / (sqrtf(v[i]) / sbc2 + eps);
    }
}

static void lt_sophia(lt_optim *o, float *th, const float *g, const float *mk,
                      float lr)
{
    const lt_optim_config *c = &o->cfg;
    const float b1 = c->beta1, b2 = c->beta2, wd = c->weight_decay;
    const float rb = c->rho * (c->sophia_bs > 0 ? c->sophia_bs : 1.0f);
    const bool soul = c->hessian_mode == LT_SOPHIA_SOUL;
    const float *wm = o->wd_mask;
    float *m = o->m, *h = o->v;
#pragma omp parallel for schedule(static) if (o->n > 16384)
    for (int64_t i = 0; i < o->n; i++) {
        if (mk && mk[i] == 0)
            continue;
        if (soul) { /* SOUL's step(): update_hessian, update_exp_avg */
            h[i] = b2 * h[i] + (1.0f - b2) * g[i] * g[i];
            m[i] = b1 * m[i] + (1.0f - b1) * g[i];
        }
        th[i] *= 1.0f - lr * (wm ? wd * wm[i] : wd);
        m[i] = b1 * m[i] + (1.0f - b1) * g[i];
        float ratio = fabsf(m[i]) / (rb * h[i] + c->eps);
        if (ratio > 1.0f)
            ratio = 1.0f;
        th[i] -= lr * (m[i] > 0 ? ratio : m[i] < 0 ? -ratio : 0.0f);
    }
}

lt_status lt_optim_step(lt_optim *o, float *theta, const float *grad,
                        const float *mask, float lr)
{
    if (!o || !theta || !grad)
        return lt_set_error(LT_ERR_ARG, "lt_optim_step: NULL argument");
    if (!isfinite(lr) || lr < 0)
        return lt_set_error(LT_ERR_ARG, "lt_optim_step: learning rate %g",
                            (double)lr);
    if (lt_check_grads(grad, mask, o->n) != LT_OK)
        return LT_ERR_NAN;
    o->step++;
    switch (o->cfg.kind) {
    case LT_OPT_SGD: lt_sgd(o, theta, grad, mask, lr); break;
    case LT_OPT_ADAM:
    case LT_OPT_ADAMW: lt_adam(o, theta, grad, mask, lr); break;
    case LT_OPT_SOPHIA: lt_sophia(o, theta, grad, mask, lr); break;
    }
    return LT_OK;
}

lt_status lt_sophia_hessian(lt_optim *o, const float *ghat, const float *mask)
{
    if (!o || o->cfg.kind != LT_OPT_SOPHIA || !ghat)
        return lt_set_error(LT_ERR_STATE, "lt_sophia_hessian: not a Sophia "
                            "optimizer or NULL gradient");
    if (lt_check_grads(ghat, mask, o->n) != LT_OK)
        return LT_ERR_NAN;
    const float b2 = o->cfg.beta2;
    float *h = o->v;
#pragma omp parallel for schedule(static) if (o->n > 16384)
    for (int64_t i = 0; i < o->n; i++)
        if (!mask || mask[i] != 0)
            h[i] = b2 * h[i] + (1.0f - b2) * ghat[i] * ghat[i];
    return LT_OK;
}

bool lt_sophia_wants_hessian(const lt_optim *o)
{
    int k = o->cfg.hessian_interval > 0 ? o->cfg.hessian_interval : 10;
    return o->cfg.kind == LT_OPT_SOPHIA &&
           o->cfg.hessian_mode == LT_SOPHIA_GNB && o->step % k == 0;
}

double lt_clip_grad_norm(float *grad, int64_t n, double max_norm)
{
    double ss = 0;
#pragma omp parallel for schedule(static) reduction(+ : ss) if (n > 16384)
    for (int64_t i = 0; i < n; i++)
        ss += (double)grad[i] * grad[i];
    double norm = sqrt(ss);
    if (!isfinite(norm))
        return NAN;
    if (norm > max_norm) {
        float s = (float)(max_norm / (norm + 1e-6));
#pragma omp parallel for schedule(static) if (n > 16384)
        for (int64_t i = 0; i < n; i++)
            grad[i] *= s;
    }
    return norm;
}

float lt_schedule_lr(const lt_schedule *s, int64_t step)
{
    if (s->warmup > 0 && step < s->warmup)
        return s->base_lr * (float)(step + 1) / (float)s->warmup;
    switch (s->kind) {
    case LT_SCHED_CONSTANT:
        return s->base_lr;
    case LT_SCHED_MULTISTEP: {
        float lr = s->base_lr;
        for (int i = 0; i < s->n_milestones; i++)
            if (step >= s->milestones[i])
                lr *= s->gamma;
        return lr;
    }
    case LT_SCHED_LINEAR: {
        int64_t span = s->total - s->warmup;
        double left = (double)(s->total - step);
        return span > 0 && left > 0 ? s->base_lr * (float)(left / (double)span)
                                    : 0.0f;
    }
    case LT_SCHED_COSINE: {
        int64_t span = s->total - s->warmup;
        double p = span > 0 ? (double)(step - s->warmup) / (double)span : 1.0;
        if (p > 1)
            p = 1;
        return s->min_lr + (s->base_lr - s->min_lr) *
                               (float)(0.5 * (1.0 + cos(3.14159265358979323846 * p)));
    }
    }
    return s->base_lr;
}

lt_status lt_schedule_parse(const char *name, float base_lr, int64_t warmup,
                            lt_schedule *out)
{
    *out = (lt_schedule){.base_lr = base_lr, .warmup = warmup};
    if (name && !strcmp(name, "cosine")) {
        out->kind = LT_SCHED_COSINE;
    } else if (name && !strcmp(name, "multistep")) {
        out->kind = LT_SCHED_MULTISTEP;
        out->n_milestones = 2;
        out->gamma = 0.1f;
    } else if (!name || strcmp(name, "constant"))
        return lt_set_error(LT_ERR_ARG, "unknown schedule '%s' (expected "
                            "constant, cosine or multistep)",
                            name ? name : "(null)");
    return LT_OK;
}
