/*
 * dm_unlearn.c - class-wise forgetting on a class-conditional diffusion
 * UNet (lethe/dm_unlearn.h): the forget losses of SalUn's DDPM code (rl:
 * e(c_f) regressed onto a stop-gradient e(c'); ga: the negated denoising
 * loss) and ESD's negative-guidance target, plus alpha times the retain
 * denoising loss, under Adam with gradient clipping and a weight mask, as
 * saliency_unlearn runs them. A step is computed in chunks of at most
 * cfg->chunk images (targets without a tape, then the forget and retain
 * terms each backpropagated on their own), which gives the gradient of the
 * one-tape loss of lt_dmu_step_loss with a fraction of its memory.
 * With cfg->dist the step's images are cut into shards (each a run of
 * chunks) whose gradients lt_dp (lethe/train.h, docs/mpi.md) sums over
 * the ranks; the terms are already scaled by the whole batch.
 */
#include "lethe/dm_unlearn.h"
#include "lethe/data.h"
#include "lethe/optim.h"
#include "lethe/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

lt_dmu_config lt_dmu_defaults(void)
{
    return (lt_dmu_config){.loss = LT_DMU_RL, .forget_class = -1,
                           .target_class = -1, .random_target = false,
                           .pair_drop = false, .alpha = LT_DMU_ALPHA_AUTO,
                           .esd_eta = 7.5f, .esd_from_data = false,
                           .esd_w = 2.0f, .esd_sample_eta = 1.0f,
                           .steps = 1000, .batch = 128,
                           .lr = 1e-4f, .clip = 1.0f, .seed = 1,
                           .chunk = 32};
}

void lt_dmu_recipe(lt_dmu_loss k, bool esd_from_data, int64_t *steps,
                   int *batch)
{
    bool sampled = k == LT_DMU_ESD && !esd_from_data;
    *steps = sampled ? 10000 : 1000;
    *batch = sampled ? 1 : 128;
}

static const char *const lt_dmu_names[] = {"rl", "ga", "esd"};

lt_status lt_dmu_loss_parse(const char *name, lt_dmu_loss *out)
{
    for (int k = 0; k <= LT_DMU_ESD; k++)
        if (name && !strcmp(name, lt_dmu_names[k])) {
            *out = (lt_dmu_loss)k;
            return LT_OK;
        }
    return lt_set_error(LT_ERR_ARG, "dm unlearn loss '%s': unknown (known: "
                        "rl, ga, esd)", name ? name : "(null)");
}

const char *lt_dmu_loss_name(lt_dmu_loss k)
{
    return (unsigned)k <= LT_DMU_ESD ? lt_dmu_names[k] : "?";
}

float lt_dmu_alpha(const lt_dmu_config *cfg, const lt_unet *u)
{
    if (cfg->alpha != LT_DMU_ALPHA_AUTO)
        return cfg->alpha;
    /* the code's 1e-3 on CIFAR-10's 3 * 32 * 32 pixels, same balance */
    double px = (double)u->cfg.in_ch * u->cfg.res * u->cfg.res;
    return (float)(1e-3 * 3072.0 / px);
}

/* ---- the terms, on a chunk of m images of a batch of B ---------------------- */

static int64_t img_size(const lt_unet *u)
{
    return (int64_t)u->cfg.in_ch * u->cfg.res * u->cfg.res;
}

/* x_t of the chunk (no tape) and its timesteps as floats. */
static lt_tensor *noised(lt_ctx *c, const lt_unet *u, const lt_dm_schedule *s,
                         const float *x0, const float *e, const int32_t *t,
                         int m, float **tf)
{
    int64_t shape[4] = {m, u->cfg.in_ch, u->cfg.res, u->cfg.res};
    lt_tensor *x = lt_from_data(c, 4, shape, (float *)x0);
    lt_tensor *ee = lt_from_data(c, 4, shape, (float *)e);
    *tf = lt_alloc(c, (size_t)m * sizeof **tf);
    if (!x || !ee || !*tf)
        return NULL;
    for (int i = 0; i < m; i++)
        (*tf)[i] = (float)t[i];
    return lt_dm_q_sample(c, s, x, ee, t);
}

/* x_t of forget-chunk images [o, o + m): b->xt_f as given, or xf noised
 * with ef at tf (no tape for the noising); *tf gets the timesteps. */
static lt_tensor *forget_xt(lt_ctx *c, const lt_unet *u,
                            const lt_dm_schedule *s, const lt_dmu_batch *b,
                            int o, int m, float **tf)
{
    int64_t per = img_size(u);
    if (!b->xt_f)
        return noised(c, u, s, b->xf + o * per, b->ef + o * per, b->tf + o,
                      m, tf);
    *tf = lt_alloc(c, (size_t)m * sizeof **tf);
    if (!*tf)
        return NULL;
    for (int i = 0; i < m; i++)
        (*tf)[i] = (float)b->tf[o + i];
    return lt_from_data(c, 4, (int64_t[]){m, u->cfg.in_ch, u->cfg.res,
                                          u->cfg.res},
                        (float *)b->xt_f + o * per);
}

/* The regression target of rl (e(x_t | c') of u) or esd (e*(null) -
 * eta (e*(c_f) - e*(null)) of the frozen copy), without a tape. */
static lt_tensor *target_of(lt_ctx *c, lt_unet *u, lt_unet *frozen,
                            const lt_dm_schedule *s, const lt_dmu_config *cfg,
                            const lt_dmu_batch *b, int o, int m,
                            bool training)
{
    bool was = lt_set_grad_enabled(c, false);
    float *tf = NULL;
    lt_tensor *xt = forget_xt(c, u, s, b, o, m, &tf), *out = NULL;
    if (xt && cfg->loss == LT_DMU_RL) {
        out = lt_unet_forward(c, u, xt, tf, b->cls_p + o, training);
    } else if (xt) {
        int32_t *cf = lt_alloc(c, (size_t)m * sizeof *cf);
        int32_t *cn = lt_alloc(c, (size_t)m * sizeof *cn);
        for (int i = 0; cf && cn && i < m; i++) {
            cf[i] = cfg->forget_class;
            cn[i] = -1;
        }
        lt_tensor *e0 = cf && cn ? lt_unet_forward(c, frozen, xt, tf, cn,
                                                   training) : NULL;
        lt_tensor *ep = e0 ? lt_unet_forward(c, frozen, xt, tf, cf, training)
                           : NULL;
        out = ep ? lt_sub(c, e0, lt_affine(c, lt_sub(c, ep, e0),
                                           cfg->esd_eta, 0)) : NULL;
    }
    lt_set_grad_enabled(c, was);
    return out;
}

/* e(x_t | cls) of m images x0 with noise e at timesteps t (a chunk). */
static lt_tensor *chunk_eps(lt_ctx *c, lt_unet *u, const lt_dm_schedule *s,
                            const float *x0, const float *e, const int32_t *t,
                            const int32_t *cls, int m, bool training)
{
    float *tf = NULL;
    lt_tensor *xt = noised(c, u, s, x0, e, t, m, &tf);
    return xt ? lt_unet_forward(c, u, xt, tf, cls, training) : NULL;
}

/* The forget term of the chunk's m images, scaled as its share of the
 * batch's: rl / esd sum((e(c_f) - target)^2) / (B * pixels); ga
 * -sum((e - e(c_f))^2) / B. target: [m, ...] (rl, esd). */
static lt_tensor *forget_term(lt_ctx *c, lt_unet *u, const lt_dm_schedule *s,
                              const lt_dmu_config *cfg, const lt_dmu_batch *b,
                              int o, int m, lt_tensor *target, bool training)
{
    int64_t per = img_size(u);
    float *tf = NULL;
    lt_tensor *xt = forget_xt(c, u, s, b, o, m, &tf);
    lt_tensor *eps = xt ? lt_unet_forward(c, u, xt, tf, b->cls_f + o,
                                          training) : NULL;
    if (!eps)
        return NULL;
    if (cfg->loss == LT_DMU_GA) {
        lt_tensor *e = lt_from_data(c, eps->ndim, eps->shape,
                                    (float *)b->ef + o * per);
        return lt_affine(c, lt_mse(c, eps, e, LT_REDUCE_SUM),
                         -1.0f / (float)b->B, 0);
    }
    if (!target)
        return NULL;
    return lt_affine(c, lt_mse(c, eps, target, LT_REDUCE_SUM),
                     (float)(1.0 / ((double)b->B * (double)per)), 0);
}

/* alpha * sum((e - e(x_t | c_r))^2) / Br over the chunk. */
static lt_tensor *retain_term(lt_ctx *c, lt_unet *u, const lt_dm_schedule *s,
                              const lt_dmu_batch *b, int o, int m,
                              float alpha, bool training)
{
    int64_t per = img_size(u);
    lt_tensor *eps = chunk_eps(c, u, s, b->xr + o * per, b->er + o * per,
                               b->tr + o, b->cls_r + o, m, training);
    if (!eps)
        return NULL;
    lt_tensor *e = lt_from_data(c, eps->ndim, eps->shape,
                                (float *)b->er + o * per);
    return lt_affine(c, lt_mse(c, eps, e, LT_REDUCE_SUM),
                     alpha / (float)b->Br, 0);
}

static bool has_retain(const lt_dmu_batch *b, float alpha)
{
    return alpha != 0 && b->Br > 0 && b->xr && b->er && b->tr && b->cls_r;
}

lt_tensor *lt_dmu_step_loss(lt_ctx *c, lt_unet *u, lt_unet *frozen,
                            const lt_dm_schedule *s, const lt_dmu_config *cfg,
                            const lt_dmu_batch *b, bool training,
                            float *forget, float *retain)
{
    bool have_x = b && (b->xt_f ? cfg && cfg->loss == LT_DMU_ESD
                                : b->xf && b->ef);
    if (!c || !u || !s || !cfg || !b || b->B < 1 || !have_x ||
        !b->tf || !b->cls_f || (cfg->loss == LT_DMU_RL && !b->cls_p) ||
        (cfg->loss == LT_DMU_ESD && !frozen)) {
        lt_set_error(LT_ERR_ARG, "dm unlearn loss: missing arguments");
        return NULL;
    }
    lt_tensor *target = cfg->loss == LT_DMU_GA
                            ? NULL
                            : target_of(c, u, frozen, s, cfg, b, 0, b->B,
                                        training);
    lt_tensor *l = forget_term(c, u, s, cfg, b, 0, b->B, target, training);
    if (l && forget)
        *forget = l->data[0];
    float alpha = cfg->loss == LT_DMU_ESD ? 0 : lt_dmu_alpha(cfg, u);
    if (l && retain)
        *retain = 0;
    if (l && has_retain(b, alpha)) {
        lt_tensor *r = retain_term(c, u, s, b, 0, b->Br, alpha, training);
        if (r && retain)
            *retain = r->data[0] / alpha;
        l = r ? lt_add(c, l, r) : NULL;
    }
    return l;
}

/* ---- ESD's starting points (train_esd) --------------------------------------------- */

/* One generalized step of x (one sample) from timestep k to k - 1 with
 * the guided noise e. */
static void esd_step(float *x, const float *e, int64_t per, float at,
                     float an, float eta, lt_rng *rng)
{
    float c1 = eta * sqrtf((1 - at / an) * (1 - an) / (1 - at));
    float c2 = sqrtf(fmaxf(0.0f, (1 - an) - c1 * c1));
    float sa = sqrtf(at), sb = sqrtf(1 - at), sn = sqrtf(an);
    for (int64_t j = 0; j < per; j++) {
        float z = c1 != 0 ? (float)lt_rng_normal(rng) : 0.0f;
        float x0 = (x[j] - e[j] * sb) / sa;
        x[j] = sn * x0 + c1 * z + c2 * e[j];
    }
}

lt_status lt_dmu_esd_start(lt_unet *u, const lt_dm_schedule *s, int64_t n,
                           int cls, const int32_t *t_enc, float w, float eta,
                           lt_rng *rng, float *x)
{
    if (!u || !s || !t_enc || !rng || !x || n < 1 ||
        u->cfg.kind != LT_UNET_CLASS || !isfinite(w) || !(eta >= 0))
        return lt_set_error(LT_ERR_ARG, "esd start: bad argument");
    for (int64_t i = 0; i < n; i++)
        if (t_enc[i] < 0 || t_enc[i] > s->T)
            return lt_set_error(LT_ERR_ARG, "esd start: t_enc %d outside "
                                "[0, %d]", t_enc[i], s->T);
    int64_t per = img_size(u);
    int64_t shape[4] = {1, u->cfg.in_ch, u->cfg.res, u->cfg.res};
    lt_ctx *c = lt_ctx_new(lt_unet_arena_bytes(u, 2, false));
    if (!c)
        return lt_set_error(LT_ERR_NOMEM, "esd start: out of memory");
    lt_set_grad_enabled(c, false);
    lt_status st = LT_OK;
    for (int64_t i = 0; st == LT_OK && i < n; i++) {
        float *xi = x + i * per;
        for (int k = t_enc[i] - 1; st == LT_OK && k >= 0; k--) {
            lt_ctx_reset(c);
            float tk = (float)k;
            lt_tensor *xt = lt_from_data(c, 4, shape, xi);
            lt_tensor *e = lt_dm_guided_eps(c, u, xt, &tk, &cls,
                                            LT_GUIDE_SALUN, w);
            if (!e) {
                st = lt_last_status();
                break;
            }
            esd_step(xi, e->data, per, s->abar[k], k > 0 ? s->abar[k - 1]
                                                         : 1.0f, eta, rng);
        }
    }
    lt_ctx_free(c);
    return st;
}

/* ---- the loop ------------------------------------------------------------------- */

/* Cycles through a list of image indices in seeded per-epoch orders. */
typedef struct {
    int64_t *idx, n, *perm, epoch;
    uint64_t seed;
} cycler;

static int64_t cycler_at(cycler *cy, int64_t k)
{
    int64_t ep = k / cy->n;
    if (ep != cy->epoch) {
        lt_permutation(cy->perm, cy->n, lt_hash3(cy->seed, 0, (uint64_t)ep));
        cy->epoch = ep;
    }
    return cy->idx[cy->perm[k % cy->n]];
}

typedef struct {
    lt_unet *u, *frozen;
    const lt_dm_schedule *s;
    const lt_dmu_config *cfg;
    const float *x, *mask;
    const int32_t *y;
    cycler fc, rc;
    lt_optim opt;
    lt_ctx *c;
    float *xf, *ef, *xr, *er, *tgt, *xs, alpha; /* xs: esd's sampled x_t */
    int32_t *tf, *tr, *cf, *cp, *cr;
    int64_t step;
    lt_dp *dp;          /* data parallel (cfg->dist), else NULL */
} runner;

static void runner_free(runner *r)
{
    free(r->fc.idx);
    free(r->fc.perm);
    free(r->rc.idx);
    free(r->rc.perm);
    lt_optim_free(&r->opt);
    lt_ctx_free(r->c);
    free(r->xf);
    free(r->ef);
    free(r->xr);
    free(r->er);
    free(r->tgt);
    free(r->xs);
    free(r->tf);
    free(r->tr);
    free(r->cf);
    free(r->cp);
    free(r->cr);
    lt_unet_free(r->frozen);
    lt_dp_free(r->dp);
}

static lt_status runner_init(runner *r, int64_t n)
{
    const lt_dmu_config *cfg = r->cfg;
    int64_t B = cfg->batch, per = img_size(r->u), nf = 0;
    for (int64_t i = 0; i < n; i++)
        nf += r->y[i] == cfg->forget_class;
    if (nf == 0 || nf == n)
        return lt_set_error(LT_ERR_ARG, "dm unlearn: the data has %lld "
                            "images of class %d and %lld of others: both "
                            "must be >= 1", (long long)nf, cfg->forget_class,
                            (long long)(n - nf));
    r->fc = (cycler){.n = nf, .epoch = -1, .seed = lt_hash3(cfg->seed, 41, 0)};
    r->rc = (cycler){.n = n - nf, .epoch = -1,
                     .seed = lt_hash3(cfg->seed, 42, 0)};
    r->fc.idx = malloc((size_t)nf * sizeof(int64_t));
    r->fc.perm = malloc((size_t)nf * sizeof(int64_t));
    r->rc.idx = malloc((size_t)(n - nf) * sizeof(int64_t));
    r->rc.perm = malloc((size_t)(n - nf) * sizeof(int64_t));
    size_t img = (size_t)(B * per) * sizeof(float), lab = (size_t)B * 4;
    r->xf = malloc(img);
    r->ef = malloc(img);
    r->xr = malloc(img);
    r->er = malloc(img);
    r->tgt = malloc(img);
    r->tf = malloc(lab);
    r->tr = malloc(lab);
    r->cf = malloc(lab);
    r->cp = malloc(lab);
    r->cr = malloc(lab);
    int chunk = B < cfg->chunk ? (int)B : cfg->chunk;
    r->c = lt_ctx_new(lt_unet_arena_bytes(r->u, 2 * chunk, true));
    if (!r->fc.idx || !r->fc.perm || !r->rc.idx || !r->rc.perm || !r->xf ||
        !r->ef || !r->xr || !r->er || !r->tgt || !r->tf || !r->tr ||
        !r->cf || !r->cp || !r->cr || !r->c)
        return lt_set_error(LT_ERR_NOMEM, "dm unlearn: out of memory");
    for (int64_t i = 0, a = 0, b = 0; i < n; i++) {
        if (r->y[i] == cfg->forget_class)
            r->fc.idx[a++] = i;
        else
            r->rc.idx[b++] = i;
    }
    if (cfg->loss == LT_DMU_ESD) {
        if (!cfg->esd_from_data && !(r->xs = malloc(img)))
            return lt_set_error(LT_ERR_NOMEM, "dm unlearn: out of memory");
        if (lt_unet_create(r->u->arch, &r->frozen) != LT_OK)
            return lt_last_status();
        memcpy(r->frozen->params.theta, r->u->params.theta,
               (size_t)r->u->params.n_total * sizeof(float));
    }
    r->alpha = cfg->loss == LT_DMU_ESD ? 0 : lt_dmu_alpha(cfg, r->u);
    if (cfg->dist != LT_DIST_OFF &&
        !(r->dp = lt_dp_new(&r->u->params, cfg->dist, cfg->shards,
                            cfg->batch)))
        return lt_last_status();
    lt_optim_config oc = lt_optim_defaults(LT_OPT_ADAM);
    oc.lr = cfg->lr;
    oc.weight_decay = 0;
    return lt_optim_init(&r->opt, &oc, r->u->params.n_train);
}

/* The null class with probability p, else k. */
static int32_t maybe_null(lt_rng *g, int32_t k, float p)
{
    return p > 0 && lt_rng_uniform(g) < p ? -1 : k;
}

/* Step k's batches, noise, timesteps and classes. */
static void draw(runner *r, lt_rng *g)
{
    const lt_dmu_config *cfg = r->cfg;
    int B = cfg->batch, K = r->u->cfg.classes, cf = cfg->forget_class;
    int64_t per = img_size(r->u);
    float drop = r->u->cfg.cond_drop;
    for (int i = 0; i < B; i++) {
        int64_t j = cycler_at(&r->rc, r->step * B + i);
        memcpy(r->xr + i * per, r->x + j * per, (size_t)per * sizeof(float));
        r->cr[i] = maybe_null(g, r->y[j], drop);
        j = cycler_at(&r->fc, r->step * B + i);
        memcpy(r->xf + i * per, r->x + j * per, (size_t)per * sizeof(float));
    }
    lt_dm_timesteps(g, r->s->T, B, r->tr);
    lt_rng_fill_normal(g, r->er, B * per, 0, 1);
    lt_dm_timesteps(g, r->s->T, B, r->tf);
    lt_rng_fill_normal(g, r->ef, B * per, 0, 1);
    int fixed = cfg->target_class >= 0 ? cfg->target_class : (cf + 1) % K;
    for (int i = 0; i < B; i++) {
        float pf = cfg->loss == LT_DMU_GA ||
                   (cfg->loss == LT_DMU_RL && cfg->pair_drop) ? drop : 0;
        r->cf[i] = maybe_null(g, cf, pf);
        int cp = fixed;
        if (cfg->random_target) { /* uniform over the K - 1 others */
            cp = (int)lt_rng_below(g, (uint64_t)(K - 1));
            cp += cp >= cf;
        }
        r->cp[i] = maybe_null(g, cp, cfg->pair_drop ? drop : 0);
    }
}

/* ESD's x_t for the step (train_esd): t_enc uniform in {0, ..., 50},
 * pure noise denoised by the model over t_enc - 1, ..., 0, the DDPM
 * timestep uniform in [round(20 t_enc), round(20 (t_enc + 1))) (the
 * code's 50 DDIM steps of 1000). */
static lt_status esd_sampled_batch(runner *r, lt_rng *g)
{
    const lt_dmu_config *cfg = r->cfg;
    int B = cfg->batch, T = r->s->T, S = 50;
    int64_t per = img_size(r->u);
    int32_t *t_enc = r->cp; /* unused by esd: scratch */
    for (int i = 0; i < B; i++) {
        t_enc[i] = (int32_t)lt_rng_below(g, (uint64_t)S + 1);
        int lo = (int)lround((double)t_enc[i] / S * T);
        int hi = (int)lround((double)(t_enc[i] + 1) / S * T);
        r->tf[i] = lo + (int32_t)lt_rng_below(g, (uint64_t)(hi - lo));
    }
    lt_rng_fill_normal(g, r->xs, B * per, 0, 1);
    return lt_dmu_esd_start(r->u, r->s, B, cfg->forget_class, t_enc,
                            cfg->esd_w, cfg->esd_sample_eta, g, r->xs);
}

/* Backpropagate one chunk's term (the gradient accumulates). */
static lt_status backprop(lt_ctx *c, lt_tensor *l, double *sum)
{
    if (!l || lt_backward(c, l) != LT_OK)
        return lt_last_status();
    *sum += l->data[0];
    return LT_OK;
}

/* The gradient of images [lo, hi) of the step's batch b, chunk by chunk
 * (it accumulates), its dropout drawn from the step's generator (part 0)
 * or shard part's; their forget and retain terms add to *fsum, *rsum. */
static lt_status rows_backward(runner *r, const lt_dmu_batch *bp, int lo,
                               int hi, int part, double *fsum, double *rsum)
{
    const lt_dmu_config *cfg = r->cfg;
    const lt_dmu_batch b = *bp;
    uint64_t seed = lt_hash3(cfg->seed, 44, (uint64_t)r->step);
    lt_rng_init(lt_ctx_rng(r->c), part ? lt_hash3(seed, 45, (uint64_t)part)
                                       : seed);
    int64_t per = img_size(r->u);
    lt_status st = LT_OK;
    int ch = cfg->chunk;
    for (int o = lo; st == LT_OK && o < hi; o += ch) {
        int m = hi - o < ch ? hi - o : ch;
        lt_tensor *tg = NULL;
        if (cfg->loss != LT_DMU_GA) {
            lt_ctx_reset(r->c);
            lt_tensor *t0 = target_of(r->c, r->u, r->frozen, r->s, cfg, &b,
                                      o, m, true);
            if (!t0)
                return lt_last_status();
            memcpy(r->tgt, t0->data, (size_t)(m * per) * sizeof(float));
        }
        lt_ctx_reset(r->c);
        if (cfg->loss != LT_DMU_GA)
            tg = lt_from_data(r->c, 4, (int64_t[]){m, r->u->cfg.in_ch,
                                                   r->u->cfg.res,
                                                   r->u->cfg.res}, r->tgt);
        st = backprop(r->c, forget_term(r->c, r->u, r->s, cfg, &b, o, m, tg,
                                        true), fsum);
        if (st == LT_OK && r->alpha != 0) {
            lt_ctx_reset(r->c);
            st = backprop(r->c, retain_term(r->c, r->u, r->s, &b, o, m,
                                            r->alpha, true), rsum);
        }
    }
    return st;
}

/* This rank's shards of the step, summed over the ranks (the terms are
 * scaled by the whole batch already: the shards' gradients add up). */
static lt_status dp_backward(runner *r, const lt_dmu_batch *b, double *fsum,
                             double *rsum)
{
    int B = r->cfg->batch, first, count = lt_dp_local(r->dp, &first);
    for (int j = 0; j < count; j++) {
        int64_t lo, hi;
        double f = 0, q = 0;
        lt_dp_range(r->dp, first + j, B, &lo, &hi);
        lt_dp_shard_begin(r->dp, &r->u->params, j);
        if (hi > lo && rows_backward(r, b, (int)lo, (int)hi, first + j, &f,
                                     &q) != LT_OK)
            return lt_last_status();
        float vals[LT_DP_VALS] = {(float)f, (float)q};
        lt_dp_shard_end(r->dp, &r->u->params, j, 1.0f,
                        (float)(hi - lo) / (float)B, vals);
    }
    float vals[LT_DP_VALS] = {0};
    lt_status st = lt_dp_reduce(r->dp, &r->u->params, vals);
    *fsum = vals[0];
    *rsum = vals[1];
    return st;
}

static lt_status run_step(runner *r, lt_dmu_event *ev)
{
    const lt_dmu_config *cfg = r->cfg;
    lt_rng g;
    lt_rng_init(&g, lt_hash3(cfg->seed, 43, (uint64_t)r->step));
    draw(r, &g);
    if (r->xs && esd_sampled_batch(r, &g) != LT_OK)
        return lt_set_error(lt_last_status(), "dm unlearn step %lld: %s",
                            (long long)r->step + 1, lt_last_error());
    int B = cfg->batch;
    lt_dmu_batch b = {.B = B, .xt_f = r->xs, .xf = r->xf, .ef = r->ef,
                      .tf = r->tf,
                      .cls_f = r->cf, .cls_p = r->cp, .Br = B, .xr = r->xr,
                      .er = r->er, .tr = r->tr, .cls_r = r->cr};
    lt_params_zero_grad(&r->u->params);
    double fsum = 0, rsum = 0;
    lt_status st = r->dp ? dp_backward(r, &b, &fsum, &rsum)
                         : rows_backward(r, &b, 0, B, 0, &fsum, &rsum);
    if (st != LT_OK)
        return lt_set_error(lt_last_status(), "dm unlearn step %lld: %s",
                            (long long)r->step + 1, lt_last_error());
    float *gr = r->u->params.grad;
    int64_t ntr = r->u->params.n_train;
    double norm = lt_clip_grad_norm(gr, ntr, cfg->clip > 0 ? cfg->clip
                                                           : INFINITY);
    if (!isfinite(norm))
        return lt_set_error(LT_ERR_NAN, "dm unlearn step %lld: gradient norm "
                            "%g", (long long)r->step + 1, norm);
    if (r->mask)
        for (int64_t i = 0; i < ntr; i++)
            gr[i] *= r->mask[i];
    if (lt_optim_step(&r->opt, r->u->params.theta, gr, r->mask, cfg->lr) !=
        LT_OK)
        return lt_last_status();
    r->step++;
    ev->forget = (float)fsum;
    ev->retain = r->alpha != 0 ? (float)(rsum / r->alpha) : 0;
    ev->loss = (float)(fsum + rsum);
    ev->grad_norm = norm;
    return LT_OK;
}

static lt_status run_args(const lt_unet *u, const lt_dm_schedule *s,
                          const float *x, const int32_t *y, int64_t n,
                          const lt_dmu_config *cfg)
{
    if (!u || !s || !x || !y || !cfg || n < 2)
        return lt_set_error(LT_ERR_ARG, "dm unlearn: NULL argument or fewer "
                            "than 2 images");
    if (u->cfg.kind != LT_UNET_CLASS)
        return lt_set_error(LT_ERR_ARG, "dm unlearn: unet %s is text-"
                            "conditioned; class-wise forgetting needs a "
                            "class-conditional model (cond:...)", u->arch);
    int K = u->cfg.classes;
    if (cfg->forget_class < 0 || cfg->forget_class >= K)
        return lt_set_error(LT_ERR_ARG, "dm unlearn: forget class %d outside "
                            "[0, %d)", cfg->forget_class, K);
    if (cfg->target_class >= K || cfg->target_class == cfg->forget_class ||
        K < 2)
        return lt_set_error(LT_ERR_ARG, "dm unlearn: target class %d must "
                            "be another class in [0, %d) (-1: the next)",
                            cfg->target_class, K);
    if (cfg->steps < 1 || cfg->batch < 1 || cfg->batch > 4096 ||
        cfg->chunk < 1 ||
        !(cfg->lr > 0) || !isfinite(cfg->lr) || !isfinite(cfg->alpha) ||
        !isfinite(cfg->esd_eta) || (unsigned)cfg->loss > LT_DMU_ESD)
        return lt_set_error(LT_ERR_ARG, "dm unlearn: need steps >= 1, batch "
                            "in [1, 4096], chunk >= 1, lr > 0 and finite "
                            "alpha, eta (got %lld, %d, %d, %g)", (long long)cfg->steps,
                            cfg->batch, cfg->chunk, (double)cfg->lr);
    for (int64_t i = 0; i < n; i++)
        if (y[i] < 0 || y[i] >= K)
            return lt_set_error(LT_ERR_ARG, "dm unlearn: label %d of image "
                                "%lld outside [0, %d)", y[i], (long long)i,
                                K);
    return LT_OK;
}

lt_status lt_dmu_run(lt_unet *u, const lt_dm_schedule *s, const float *x,
                     const int32_t *y, int64_t n, const lt_dmu_config *cfg,
                     const float *mask, lt_dmu_fn cb, void *ud)
{
    if (run_args(u, s, x, y, n, cfg) != LT_OK)
        return lt_last_status();
    runner r = {.u = u, .s = s, .cfg = cfg, .x = x, .y = y, .mask = mask};
    lt_status st = runner_init(&r, n);
    double t0 = lt_clock_seconds();
    while (st == LT_OK && r.step < cfg->steps) {
        lt_dmu_event ev = {.steps = cfg->steps};
        st = run_step(&r, &ev);
        ev.step = r.step;
        ev.seconds = lt_clock_seconds() - t0;
        if (st == LT_OK && cb)
            cb(&ev, ud);
    }
    runner_free(&r);
    return st;
}
