/*
 * methods.c - the classification unlearning methods of the SalUn line (FT,
 * GA, RL, l1-sparse, IU, BS, BE, SalUn, SalUn-soft (RL_proximal), UGradSL,
 * UGradSL+,
 * Retrain), each a sequence of passes (pass.c) or a one-shot step
 * (influence.c), under any weight mask and any optimizer.
 */
#include "lethe/methods.h"
#include "lethe/train.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the method table ----------------------------------------------------- */

typedef struct {
    const char *name;
    float lr;             /* default learning rate (IU: alpha) */
    int epochs;
} lt_method_info;

/* Epochs: the official SalUn code's (10; GA-like methods 5). Learning
 * rates: picked by the lowest Avg. Gap to Retrain on Fashion-MNIST, random
 * 10%, the bench's MLP (bench/lr_search.sh; grids and results in
 * docs/hyperparameters.md); the papers' CIFAR-10 values, in the comments,
 * over- or under-forget there. */
static const lt_method_info lt_methods[LT_METHOD_COUNT] = {
    [LT_METHOD_FT] = {"ft", 0.1f, 10},               /* paper 0.01 */
    [LT_METHOD_GA] = {"ga", 3e-4f, 5},               /* paper 1e-4 */
    [LT_METHOD_RL] = {"rl", 1e-3f, 10},              /* paper 0.013 */
    [LT_METHOD_L1] = {"l1-sparse", 3e-3f, 10},       /* paper 0.01 */
    [LT_METHOD_IU] = {"iu", 10.0f, 1},               /* alpha */
    [LT_METHOD_BS] = {"bs", 1e-5f, 10},
    [LT_METHOD_BE] = {"be", 1e-5f, 10},
    [LT_METHOD_SALUN] = {"salun", 1e-3f, 10},        /* paper 0.013 */
    [LT_METHOD_SALUN_SOFT] = {"salun-soft", 1e-3f, 10},
    [LT_METHOD_UGRADSL] = {"ugradsl", 3e-5f, 5},
    [LT_METHOD_UGRADSL_PLUS] = {"ugradsl+", 1e-4f, 5},
    [LT_METHOD_RETRAIN] = {"retrain", 0.1f, 10},
};

lt_status lt_method_parse(const char *name, lt_method_kind *out)
{
    for (int i = 0; i < LT_METHOD_COUNT; i++)
        if (name && !strcmp(name, lt_methods[i].name)) {
            *out = (lt_method_kind)i;
            return LT_OK;
        }
    return lt_set_error(LT_ERR_ARG, "unlearning method '%s' is not one of "
                        "%s", name ? name : "(null)", lt_method_names());
}

const char *lt_method_name(lt_method_kind k)
{
    return (unsigned)k < LT_METHOD_COUNT ? lt_methods[k].name : "?";
}

/* The comma-separated list, built once from the table (pthread_once, so
 * threads calling lt_method_names() together never see a partial list). */
static char lt_method_list[256];
static pthread_once_t lt_method_list_once = PTHREAD_ONCE_INIT;

static void lt_method_list_build(void)
{
    size_t k = 0;
    for (int i = 0; i < LT_METHOD_COUNT && k < sizeof lt_method_list; i++)
        k += (size_t)snprintf(lt_method_list + k, sizeof lt_method_list - k,
                              "%s%s", i ? "," : "", lt_methods[i].name);
}

const char *lt_method_names(void)
{
    pthread_once(&lt_method_list_once, lt_method_list_build);
    return lt_method_list;
}

lt_unlearn_cfg lt_unlearn_defaults(lt_method_kind k)
{
    lt_unlearn_cfg c;
    memset(&c, 0, sizeof c);
    c.method = k;
    c.optim = lt_optim_defaults(LT_OPT_SGD);
    c.optim.momentum = 0.9f;
    c.optim.weight_decay = 5e-4f;
    c.mask = (lt_mask_spec){LT_MASK_NONE, 1.0};
    if (k == LT_METHOD_SALUN)
        c.mask = (lt_mask_spec){LT_MASK_SALIENCY, 0.5};
    c.batch = 256;
    if ((unsigned)k < LT_METHOD_COUNT) {
        c.optim.lr = lt_methods[k].lr;
        c.epochs = lt_methods[k].epochs;
    }
    if (k == LT_METHOD_RETRAIN)
        c.batch = 128;
    c.alpha = 5e-4f;
    c.smooth = -0.5f;
    c.retain_weight = 0.5f;
    c.fgsm_eps = 0.1f;
    c.iu_samples = 1000;
    c.prox_ratio = 0.5;
    c.seed = 1;
    return c;
}

lt_status lt_unlearn_set_optim(lt_unlearn_cfg *cfg, const char *name)
{
    lt_optim_config o;
    if (lt_optim_parse(name, &o) != LT_OK)
        return LT_ERR_ARG;
    if (o.kind == LT_OPT_SGD) {
        o.momentum = 0.9f;
        o.weight_decay = 5e-4f;
    }
    o.lr = cfg->optim.lr;
    cfg->optim = o;
    return LT_OK;
}

/* ---- masks ------------------------------------------------------------------ */

/* The mask of cfg (0/1 or soft), or NULL for none (every weight free). */
static lt_status lt_method_mask(lt_model *m, const lt_dataset *train,
                                const lt_forget_set *f,
                                const lt_unlearn_cfg *cfg, float **out)
{
    *out = NULL;
    if (cfg->mask.kind == LT_MASK_NONE)
        return LT_OK;
    int64_t n = m->params.n_train;
    float *mask = malloc((size_t)n * sizeof(float));
    if (!mask)
        return lt_set_error(LT_ERR_NOMEM, "unlearn: cannot allocate a mask "
                            "of %lld weights", (long long)n);
    lt_status st = LT_OK;
    if (cfg->mask.kind == LT_MASK_SALIENCY || cfg->mask.kind == LT_MASK_SOFT)
        st = lt_forget_gradient(m, train, f->forget, f->n_forget, cfg->batch,
                                NULL);
    if (st == LT_OK)
        st = lt_mask_build(&cfg->mask, m->params.grad, n, cfg->seed, mask);
    lt_params_zero_grad(&m->params);
    if (st != LT_OK)
        free(mask);
    else
        *out = mask;
    return st;
}

/* ---- epochs ----------------------------------------------------------------- */

/* What one run needs beyond the config: the mask as a freeze or a scale,
 * the frozen original (BS) and the class count of the model trained. */
typedef struct {
    const float *mask, *scale;
    lt_model *frozen;
    int classes;
} lt_run_ctx;

/* Where a pass is, for its per-minibatch progress events. */
typedef struct {
    const lt_unlearn_cfg *cfg;
    int epoch;
    const char *phase;
    int64_t steps;
} lt_pass_news;

static void lt_pass_batch(void *ud, int64_t step, int64_t steps, double loss)
{
    lt_pass_news *n = ud;
    n->steps = steps;
    lt_unlearn_event ev = {.epoch = n->epoch, .epochs = n->cfg->epochs,
                           .phase = n->phase, .loss = loss, .step = step,
                           .steps = steps};
    n->cfg->progress(n->cfg->ud, &ev);
}

/* lt_unlearn_pass with cfg's progress told of every minibatch and of the
 * pass's end (phase ph of epoch e). */
static lt_status lt_method_pass(lt_unlearn_state *s, lt_model *m,
                                const lt_dataset *d, const int64_t *idx,
                                int64_t k, lt_pass_spec *p,
                                const lt_unlearn_cfg *cfg, int e,
                                const char *ph, double *loss)
{
    lt_pass_news n = {cfg, e, ph, 0};
    if (cfg->progress) {
        p->on_batch = lt_pass_batch;
        p->batch_ud = &n;
    }
    lt_status st = lt_unlearn_pass(s, m, d, idx, k, p, loss);
    if (st == LT_OK && cfg->progress) {
        lt_unlearn_event ev = {.epoch = e, .epochs = cfg->epochs, .phase = ph,
                               .loss = *loss, .step = n.steps,
                               .steps = n.steps, .pass_end = true};
        cfg->progress(cfg->ud, &ev);
    }
    return st;
}

/* The forget pass of method k at epoch e (GA, RL, SalUn(-soft), BS, BE,
 * UGradSL(+)); false for methods without one. */
static bool lt_forget_spec(const lt_unlearn_cfg *cfg, const lt_forget_set *f,
                           const lt_run_ctx *r, lt_pass_spec *p)
{
    switch (cfg->method) {
    case LT_METHOD_GA: p->sign = -1.0f; return true;
    case LT_METHOD_RL:
    case LT_METHOD_SALUN: p->target = LT_TARGET_RANDOM; return true;
    case LT_METHOD_BS:
        p->target = LT_TARGET_BOUNDARY;
        p->frozen = r->frozen;
        p->fgsm_eps = cfg->fgsm_eps;
        return true;
    case LT_METHOD_BE:
        p->target = LT_TARGET_FIXED;
        p->fixed_label = r->classes - 1;
        return true;
    case LT_METHOD_UGRADSL:
        p->sign = -1.0f;
        p->smooth = cfg->smooth;
        return true;
    case LT_METHOD_UGRADSL_PLUS:
        p->sign = -(1.0f - cfg->retain_weight);
        p->smooth = cfg->smooth;
        p->retain = f->retain;
        p->n_retain = f->n_retain;
        p->retain_weight = cfg->retain_weight;
        return true;
    default: return false;
    }
}

static bool lt_has_retain_pass(lt_method_kind k)
{
    return k == LT_METHOD_FT || k == LT_METHOD_L1 || k == LT_METHOD_RL ||
           k == LT_METHOD_SALUN;
}

/* ---- SalUn-soft: RL_proximal ---------------------------------------------- */

typedef struct {
    float *theta0, *work;  /* the epoch's starting weights; scratch */
    int64_t k;             /* this epoch's shrink count */
} lt_prox;

static lt_status lt_prox_after_step(void *ud, lt_model *m)
{
    lt_prox *x = ud;
    return lt_proximal_shrink(m->params.theta, x->theta0, m->params.n_train,
                              x->k, x->work, NULL);
}

/* One epoch of RL_proximal (Unlearn-Saliency RL_pro.py, the CIFAR path):
 * the anchor is the weights at the epoch's start, the forget items get
 * uniform random labels drawn once for the epoch, one shuffled loader
 * walks forget + retain, every step is followed by the shrink. */
static lt_status lt_prox_epoch(lt_unlearn_state *s, lt_model *m,
                               const lt_dataset *train,
                               const lt_forget_set *f,
                               const lt_unlearn_cfg *cfg,
                               const lt_run_ctx *r, int e,
                               lt_unlearn_report *rep)
{
    int64_t n = m->params.n_train, nf = f->n_forget, nr = f->n_retain;
    int64_t len = (nf + cfg->batch - 1) / cfg->batch +
                  (nr + cfg->batch - 1) / cfg->batch;
    lt_prox x = {malloc((size_t)n * sizeof(float)),
                 malloc((size_t)n * sizeof(float)),
                 lt_proximal_count(cfg->prox_ratio, cfg->epochs, len, e - 1,
                                   n)};
    int32_t *lab = malloc((size_t)train->n * sizeof *lab);
    int64_t *idx = malloc((size_t)(nf + nr) * sizeof *idx);
    lt_status st = x.theta0 && x.work && lab && idx ? LT_OK :
        lt_set_error(LT_ERR_NOMEM, "salun-soft: out of memory");
    if (st == LT_OK) {
        memcpy(x.theta0, m->params.theta, (size_t)n * sizeof(float));
        uint64_t seed = cfg->seed * 1000003u + (uint64_t)e * 2;
        lt_rng rng;
        lt_rng_init(&rng, seed ^ 0x5bd1e995u);
        for (int64_t i = 0; i < train->n; i++)
            lab[i] = -1;
        for (int64_t i = 0; i < nf; i++) {
            lab[f->forget[i]] = (int32_t)lt_rng_below(&rng, (uint64_t)r->classes);
            idx[i] = f->forget[i];
        }
        memcpy(idx + nf, f->retain, (size_t)nr * sizeof *idx);
        lt_pass_spec p = lt_pass_plain(cfg->optim.lr, r->mask, seed);
        p.item_label = lab;
        p.after_step = lt_prox_after_step;
        p.after_ud = &x;
        st = lt_method_pass(s, m, train, idx, nf + nr, &p, cfg, e,
                            "forget+retain", &rep->forget_loss);
        rep->retain_loss = rep->forget_loss;
    }
    free(x.theta0);
    free(x.work);
    free(lab);
    free(idx);
    return st;
}

/* One epoch of the method: its passes in order. */
static lt_status lt_method_epoch(lt_unlearn_state *s, lt_model *m,
                                 const lt_dataset *train,
                                 const lt_forget_set *f,
                                 const lt_unlearn_cfg *cfg,
                                 const lt_run_ctx *r, int e,
                                 lt_unlearn_report *rep)
{
    if (cfg->method == LT_METHOD_SALUN_SOFT)
        return lt_prox_epoch(s, m, train, f, cfg, r, e, rep);
    uint64_t seed = cfg->seed * 1000003u + (uint64_t)e * 2;
    lt_pass_spec p = lt_pass_plain(cfg->optim.lr, r->mask, seed);
    p.scale = r->scale;
    lt_status st = LT_OK;
    if (lt_forget_spec(cfg, f, r, &p)) {
        st = lt_method_pass(s, m, train, f->forget, f->n_forget, &p, cfg, e,
                            "forget", &rep->forget_loss);
    }
    if (st == LT_OK && lt_has_retain_pass(cfg->method)) {
        p = lt_pass_plain(cfg->optim.lr, r->mask, seed + 1);
        p.scale = r->scale;
        if (cfg->method == LT_METHOD_L1) /* alpha decays linearly to 0 */
            p.l1 = cfg->alpha * (1.0f - (float)(e - 1) / (float)cfg->epochs);
        st = lt_method_pass(s, m, train, f->retain, f->n_retain, &p, cfg, e,
                            "retain", &rep->retain_loss);
    }
    return st;
}

static lt_status lt_unlearn_check(const lt_model *m, const lt_dataset *train,
                                  const lt_forget_set *f,
                                  const lt_unlearn_cfg *cfg)
{
    if ((unsigned)cfg->method >= LT_METHOD_COUNT || cfg->epochs < 1 ||
        cfg->batch < 1 || !(cfg->optim.lr > 0) || !isfinite(cfg->optim.lr))
        return lt_set_error(LT_ERR_ARG, "unlearn: bad config (method %d, "
                            "epochs %d, batch %d, lr %g)", (int)cfg->method,
                            cfg->epochs, cfg->batch, (double)cfg->optim.lr);
    if (!(cfg->retain_weight >= 0 && cfg->retain_weight <= 1) ||
        !isfinite(cfg->smooth) || !isfinite(cfg->alpha) ||
        !(cfg->fgsm_eps >= 0) || cfg->iu_samples < 1 ||
        !(cfg->prox_ratio >= 0 && cfg->prox_ratio <= 1))
        return lt_set_error(LT_ERR_ARG, "unlearn: bad method parameter "
                            "(retain weight %g in [0, 1], smooth %g, alpha "
                            "%g, fgsm eps %g >= 0, iu samples %d >= 1, "
                            "prox ratio %g in [0, 1])",
                            (double)cfg->retain_weight, (double)cfg->smooth,
                            (double)cfg->alpha, (double)cfg->fgsm_eps,
                            cfg->iu_samples, cfg->prox_ratio);
    if (train->c != m->in.channels || train->h != m->in.height ||
        train->w != m->in.width || train->classes != m->in.classes)
        return lt_set_error(LT_ERR_ARG, "unlearn: data %s (%dx%dx%d, %d "
                            "classes) does not fit model %s", train->name,
                            train->c, train->h, train->w, train->classes,
                            m->arch);
    if (f->n != train->n || f->n_forget < 1 || f->n_retain < 1)
        return lt_set_error(LT_ERR_ARG, "unlearn: forget set '%s' splits %lld "
                            "items, the data has %lld", f->spec,
                            (long long)f->n, (long long)train->n);
    return LT_OK;
}

/* Retrain's training events told as unlearning events of the "retain"
 * phase (an epoch is a pass; the loss is the epoch's running mean). */
static void lt_retrain_news(void *ud, const lt_train_event *ev)
{
    const lt_unlearn_cfg *cfg = ud;
    lt_unlearn_event u = {.epoch = ev->epoch, .epochs = ev->epochs,
                          .phase = "retain", .loss = ev->loss,
                          .step = ev->step, .steps = ev->steps,
                          .pass_end = ev->epoch_end};
    cfg->progress(cfg->ud, &u);
}

/* Retrain: new weights (seeded), trained on the retain items alone with
 * cosine decay and cfg->retrain_aug. */
static lt_status lt_retrain(lt_model *m, const lt_dataset *train,
                            const lt_forget_set *f, const lt_unlearn_cfg *cfg,
                            lt_unlearn_report *rep)
{
    lt_dataset sub;
    if (lt_dataset_subset(train, f->retain, f->n_retain, &sub) != LT_OK)
        return lt_last_status();
    lt_train_cfg t;
    memset(&t, 0, sizeof t);
    t.optim = cfg->optim;
    t.sched = (lt_schedule){.kind = LT_SCHED_COSINE, .base_lr = cfg->optim.lr};
    t.epochs = cfg->epochs;
    t.batch = cfg->batch < sub.n ? cfg->batch : (int)sub.n;
    t.seed = cfg->seed;
    t.aug = cfg->retrain_aug;
    t.arena_bytes = cfg->arena_bytes;
    t.dist = cfg->dist;
    t.shards = cfg->shards;
    if (cfg->progress) {
        t.progress = lt_retrain_news;
        t.ud = (void *)cfg;
    }
    lt_model_init(m, cfg->seed);
    lt_train_report tr;
    int rc = lt_train_classifier(m, &sub, NULL, &t, &tr);
    rep->retain_loss = tr.train_loss;
    rep->steps = (int64_t)cfg->epochs * (sub.n / t.batch);
    lt_dataset_free(&sub);
    return rc ? lt_last_status() : LT_OK;
}

/* A copy of m (same architecture, every weight and buffer). */
static lt_status lt_model_copy(const lt_model *m, lt_model **out)
{
    lt_status st = lt_model_create(m->arch, m->in, out);
    if (st == LT_OK)
        memcpy((*out)->params.theta, m->params.theta,
               (size_t)m->params.n_total * sizeof(float));
    return st;
}

/* The epochs of an iterative method on model t (m itself, or BE's
 * widened copy) with r's mask; the steps go to rep. */
static lt_status lt_iterate(lt_model *t, const lt_dataset *train,
                           const lt_forget_set *f, const lt_unlearn_cfg *cfg,
                           const lt_run_ctx *r, lt_unlearn_report *rep)
{
    lt_unlearn_state s;
    size_t arena = cfg->arena_bytes; /* joint passes hold two batches' graphs */
    if (!arena && cfg->method == LT_METHOD_UGRADSL_PLUS)
        arena = 2 * lt_arena_bytes_for(t, cfg->batch);
    lt_status st = lt_unlearn_state_init(&s, t, train, &cfg->optim,
                                         cfg->batch, arena);
    if (st == LT_OK && cfg->dist != LT_DIST_OFF &&
        !(s.dp = lt_dp_new(&t->params, cfg->dist, cfg->shards,
                           cfg->batch)))
        st = lt_last_status();
    for (int e = 1; e <= cfg->epochs && st == LT_OK; e++)
        st = lt_method_epoch(&s, t, train, f, cfg, r, e, rep);
    rep->steps = s.steps;
    lt_unlearn_state_free(&s);
    return st;
}

/* BE: train a widened copy (mask mapped onto it), then copy it back. */
static lt_status lt_expand_run(lt_model *m, const lt_dataset *train,
                               const lt_forget_set *f,
                               const lt_unlearn_cfg *cfg, lt_run_ctx r,
                               const float *mask, lt_unlearn_report *rep)
{
    lt_model *big = NULL;
    float *bmask = NULL;
    lt_status st = lt_model_expand(m, cfg->seed, &big);
    if (st == LT_OK && mask) {
        bmask = malloc((size_t)big->params.n_train * sizeof(float));
        if (!bmask)
            st = lt_set_error(LT_ERR_NOMEM, "be: cannot allocate a mask");
        else
            lt_mask_expand(m, mask, big, bmask);
    }
    r.classes = m->in.classes + 1;
    if (r.mask)
        r.mask = bmask;
    if (r.scale)
        r.scale = bmask;
    if (st == LT_OK)
        st = lt_iterate(big, train, f, cfg, &r, rep);
    if (st == LT_OK)
        lt_model_shrink_into(big, m);
    free(bmask);
    if (st == LT_OK && !cfg->be_drop_shadow)
        rep->be_model = big; /* the OPTML code evaluates this one */
    else
        lt_model_free(big);
    return st;
}

/* Every method but Retrain, once the mask is built. */
static lt_status lt_unlearn_with_mask(lt_model *m, const lt_dataset *train,
                                      const lt_forget_set *f,
                                      const lt_unlearn_cfg *cfg,
                                      const float *mask,
                                      lt_unlearn_report *rep)
{
    lt_run_ctx r = {NULL, NULL, NULL, m->in.classes};
    if (cfg->mask.kind == LT_MASK_SOFT)
        r.scale = mask;
    else
        r.mask = mask;
    if (cfg->method == LT_METHOD_IU) {
        rep->steps = 1;
        return lt_influence_unlearn(m, train, f, cfg->optim.lr,
                                    cfg->iu_samples, mask, cfg->batch);
    }
    if (cfg->method == LT_METHOD_BE)
        return lt_expand_run(m, train, f, cfg, r, mask, rep);
    lt_status st = LT_OK;
    if (cfg->method == LT_METHOD_BS)
        st = lt_model_copy(m, &r.frozen);
    if (st == LT_OK)
        st = lt_iterate(m, train, f, cfg, &r, rep);
    lt_model_free(r.frozen);
    return st;
}

static lt_status lt_unlearn_run_body(lt_model *m, const lt_dataset *train,
    const lt_forget_set *f, const lt_unlearn_cfg *cfg, lt_unlearn_report *rep)
{
    *rep = (lt_unlearn_report){NAN, NAN, 0, m->params.n_train, 0, NULL};
    lt_status st = lt_unlearn_check(m, train, f, cfg);
    if (st != LT_OK)
        return st;
    double t0 = lt_clock_seconds();
    if (cfg->method == LT_METHOD_RETRAIN) {
        st = cfg->mask.kind == LT_MASK_NONE ? lt_retrain(m, train, f, cfg, rep)
             : lt_set_error(LT_ERR_ARG, "unlearn: retrain trains every weight "
                            "from scratch: it takes no mask");
        rep->seconds = lt_clock_seconds() - t0;
        return st;
    }
    float *mask = NULL;
    st = lt_method_mask(m, train, f, cfg, &mask);
    if (st == LT_OK && mask)
        rep->mask_ones = lt_mask_count(m->params.n_train, cfg->mask.ratio);
    if (st == LT_OK)
        st = lt_unlearn_with_mask(m, train, f, cfg, mask, rep);
    rep->seconds = lt_clock_seconds() - t0;
    free(mask);
    return st;
}

/* The run in the precision its config asks for (core.h). */
lt_status lt_unlearn_run(lt_model *m, const lt_dataset *train,
                         const lt_forget_set *f, const lt_unlearn_cfg *cfg,
                         lt_unlearn_report *rep)
{
    lt_precision old =
        lt_precision_enter(cfg ? cfg->precision : LT_PRECISION_DEFAULT);
    lt_status r = lt_unlearn_run_body(m, train, f, cfg, rep);
    lt_set_default_precision(old);
    return r;
}
