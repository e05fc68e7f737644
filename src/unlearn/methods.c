/*
 * methods.c - the first classification unlearning methods (FT, GA, RL,
 * SalUn) as one pass function (an epoch of masked optimizer steps on
 * +-cross-entropy with true or random labels) driven per method, with any
 * weight mask and any optimizer.
 */
#include "lethe/methods.h"
#include "lethe/train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double lt_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- state ---------------------------------------------------------------- */

lt_status lt_unlearn_state_init(lt_unlearn_state *s, const lt_model *m,
                                const lt_dataset *d, const lt_optim_config *o,
                                int batch, size_t arena_bytes)
{
    memset(s, 0, sizeof *s);
    if (batch < 1)
        return lt_set_error(LT_ERR_ARG, "unlearn: batch %d must be >= 1",
                            batch);
    int64_t item = (int64_t)d->c * d->h * d->w;
    s->batch = batch;
    s->c = lt_ctx_new(arena_bytes ? arena_bytes : lt_arena_bytes_for(m, batch));
    if (!s->c)
        return lt_last_status();
    s->x = malloc((size_t)(batch * item) * sizeof(float));
    s->y = malloc((size_t)batch * sizeof(int32_t));
    if (!s->x || !s->y) {
        lt_unlearn_state_free(s);
        return lt_set_error(LT_ERR_NOMEM, "unlearn: cannot allocate a batch "
                            "of %d items", batch);
    }
    lt_status st = lt_optim_init(&s->opt, o, m->params.n_train);
    if (st != LT_OK)
        lt_unlearn_state_free(s);
    return st;
}

void lt_unlearn_state_free(lt_unlearn_state *s)
{
    lt_optim_free(&s->opt);
    lt_ctx_free(s->c);
    free(s->x);
    free(s->y);
    free(s->perm);
    memset(s, 0, sizeof *s);
}

/* ---- one pass ------------------------------------------------------------- */

static lt_status lt_perm_reserve(lt_unlearn_state *s, int64_t k)
{
    if (k <= s->perm_n)
        return LT_OK;
    int64_t *p = realloc(s->perm, (size_t)k * sizeof(int64_t));
    if (!p)
        return lt_set_error(LT_ERR_NOMEM, "unlearn: cannot allocate %lld "
                            "indices", (long long)k);
    s->perm = p;
    s->perm_n = k;
    return LT_OK;
}

/* Forward, +-CE, backward, masked step, zero grads for the batch in s. */
static lt_status lt_pass_step(lt_unlearn_state *s, lt_model *m,
                              const lt_dataset *d, int64_t b,
                              const lt_pass_spec *p, double *loss)
{
    lt_ctx_reset(s->c);
    lt_tensor *x = lt_from_data(s->c, 4, (int64_t[]){b, d->c, d->h, d->w},
                                s->x);
    lt_tensor *l = lt_cross_entropy(s->c, lt_model_forward(s->c, m, x, true),
                                    s->y, LT_REDUCE_MEAN);
    if (!l)
        return lt_last_status();
    *loss = l->data[0];
    if (!isfinite(*loss))
        return lt_set_error(LT_ERR_NAN, "unlearning: the loss is %s after %lld "
                            "steps (the method diverged; lower the "
                            "learning rate)",
                            isnan(*loss) ? "NaN" : "infinite",
                            (long long)s->steps);
    lt_tensor *obj = p->sign < 0 ? lt_neg(s->c, l) : l;
    if (!obj || lt_backward(s->c, obj) != LT_OK)
        return lt_last_status();
    float *g = m->params.grad;
    lt_status st = lt_optim_step(&s->opt, m->params.theta, g, p->mask, p->lr);
    if (st == LT_ERR_NAN)
        return lt_set_error(LT_ERR_NAN, "unlearning: a gradient is not "
                            "finite after %lld steps (the method diverged; "
                            "lower the learning rate)", (long long)s->steps);
    if (st != LT_OK)
        return st;
    s->steps++;
    if (s->opt.cfg.kind == LT_OPT_SOPHIA && lt_sophia_wants_hessian(&s->opt))
        st = lt_sophia_hessian(&s->opt, g, p->mask);
    lt_params_zero_grad(&m->params);
    return st;
}

lt_status lt_unlearn_pass(lt_unlearn_state *s, lt_model *m,
                          const lt_dataset *d, const int64_t *idx, int64_t k,
                          const lt_pass_spec *p, double *mean_loss)
{
    *mean_loss = NAN;
    if (k < 1)
        return lt_set_error(LT_ERR_ARG, "unlearn: a pass over %lld items",
                            (long long)k);
    lt_status st = lt_perm_reserve(s, k);
    if (st != LT_OK)
        return st;
    lt_permutation(s->perm, k, p->seed);
    for (int64_t i = 0; i < k; i++)
        s->perm[i] = idx[s->perm[i]];
    lt_rng labels;
    lt_rng_init(&labels, p->seed ^ 0x9e3779b97f4a7c15ull);
    double sum = 0;
    int64_t batches = 0;
    lt_params_zero_grad(&m->params);
    for (int64_t i = 0; i < k && st == LT_OK; i += s->batch, batches++) {
        int64_t b = k - i < s->batch ? k - i : s->batch;
        lt_dataset_batch(d, s->perm + i, b, s->x, s->y, NULL, NULL);
        for (int64_t j = 0; p->random_labels && j < b; j++)
            s->y[j] = (int32_t)lt_rng_below(&labels, (uint64_t)d->classes);
        double l = 0;
        st = lt_pass_step(s, m, d, b, p, &l);
        sum += l;
    }
    if (st == LT_OK)
        *mean_loss = sum / (double)batches;
    return st;
}

/* ---- methods -------------------------------------------------------------- */

static const char *const lt_method_names[] = {"ft", "ga", "rl", "salun",
                                              "retrain"};
#define LT_N_METHODS 5

lt_status lt_method_parse(const char *name, lt_method_kind *out)
{
    for (int i = 0; i < LT_N_METHODS; i++)
        if (name && !strcmp(name, lt_method_names[i])) {
            *out = (lt_method_kind)i;
            return LT_OK;
        }
    return lt_set_error(LT_ERR_ARG, "unlearning method '%s' is not ft, ga, "
                        "rl, salun or retrain", name ? name : "(null)");
}

const char *lt_method_name(lt_method_kind k)
{
    return (unsigned)k < LT_N_METHODS ? lt_method_names[k] : "?";
}

lt_unlearn_cfg lt_unlearn_defaults(lt_method_kind k)
{
    lt_unlearn_cfg c;
    memset(&c, 0, sizeof c);
    c.method = k;
    c.optim = lt_optim_defaults(LT_OPT_SGD);
    c.optim.momentum = 0.9f;
    c.optim.weight_decay = 5e-4f;
    c.optim.lr = k == LT_METHOD_FT ? 0.01f : k == LT_METHOD_GA ? 1e-4f : 0.013f;
    c.mask = (lt_mask_spec){LT_MASK_NONE, 1.0};
    if (k == LT_METHOD_SALUN)
        c.mask = (lt_mask_spec){LT_MASK_SALIENCY, 0.5};
    c.epochs = k == LT_METHOD_GA ? 5 : 10;
    c.batch = 256;
    if (k == LT_METHOD_RETRAIN) {
        c.optim.lr = 0.1f;
        c.batch = 128;
    }
    c.seed = 1;
    return c;
}

/* The mask of cfg, or NULL for none (every weight free). */
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
    if (cfg->mask.kind == LT_MASK_SALIENCY)
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

static void lt_report_pass(const lt_unlearn_cfg *cfg, int e, const char *ph,
                           double loss)
{
    if (cfg->progress) {
        lt_unlearn_event ev = {e, cfg->epochs, ph, loss};
        cfg->progress(cfg->ud, &ev);
    }
}

/* One epoch of the method: its passes in order. */
static lt_status lt_method_epoch(lt_unlearn_state *s, lt_model *m,
                                 const lt_dataset *train,
                                 const lt_forget_set *f,
                                 const lt_unlearn_cfg *cfg, const float *mask,
                                 int e, lt_unlearn_report *rep)
{
    lt_method_kind k = cfg->method;
    uint64_t seed = cfg->seed * 1000003u + (uint64_t)e * 2;
    lt_pass_spec p = {1.0f, false, cfg->optim.lr, mask, seed};
    lt_status st = LT_OK;
    if (k != LT_METHOD_FT) { /* the forget pass: GA, RL, SalUn */
        p.sign = k == LT_METHOD_GA ? -1.0f : 1.0f;
        p.random_labels = k != LT_METHOD_GA;
        st = lt_unlearn_pass(s, m, train, f->forget, f->n_forget, &p,
                             &rep->forget_loss);
        if (st == LT_OK)
            lt_report_pass(cfg, e, "forget", rep->forget_loss);
    }
    if (st == LT_OK && k != LT_METHOD_GA) { /* the retain pass */
        p = (lt_pass_spec){1.0f, false, cfg->optim.lr, mask, seed + 1};
        st = lt_unlearn_pass(s, m, train, f->retain, f->n_retain, &p,
                             &rep->retain_loss);
        if (st == LT_OK)
            lt_report_pass(cfg, e, "retain", rep->retain_loss);
    }
    return st;
}

static lt_status lt_unlearn_check(const lt_model *m, const lt_dataset *train,
                                  const lt_forget_set *f,
                                  const lt_unlearn_cfg *cfg)
{
    if ((unsigned)cfg->method > LT_METHOD_RETRAIN || cfg->epochs < 1 ||
        cfg->batch < 1 || !(cfg->optim.lr > 0))
        return lt_set_error(LT_ERR_ARG, "unlearn: bad config (method %d, "
                            "epochs %d, batch %d, lr %g)", (int)cfg->method,
                            cfg->epochs, cfg->batch, (double)cfg->optim.lr);
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
    lt_model_init(m, cfg->seed);
    lt_train_report tr;
    int rc = lt_train_classifier(m, &sub, NULL, &t, &tr);
    rep->retain_loss = tr.train_loss;
    rep->steps = (int64_t)cfg->epochs * (sub.n / t.batch);
    lt_dataset_free(&sub);
    return rc ? lt_last_status() : LT_OK;
}

lt_status lt_unlearn_run(lt_model *m, const lt_dataset *train,
                         const lt_forget_set *f, const lt_unlearn_cfg *cfg,
                         lt_unlearn_report *rep)
{
    *rep = (lt_unlearn_report){NAN, NAN, 0, m->params.n_train, 0};
    lt_status st = lt_unlearn_check(m, train, f, cfg);
    if (st != LT_OK)
        return st;
    if (cfg->method == LT_METHOD_RETRAIN) {
        double t0 = lt_seconds();
        st = cfg->mask.kind == LT_MASK_NONE ? lt_retrain(m, train, f, cfg, rep)
             : lt_set_error(LT_ERR_ARG, "unlearn: retrain trains every weight "
                            "from scratch: it takes no mask");
        rep->seconds = lt_seconds() - t0;
        return st;
    }
    double t0 = lt_seconds();
    float *mask = NULL;
    lt_unlearn_state s;
    st = lt_method_mask(m, train, f, cfg, &mask);
    if (st == LT_OK && mask)
        rep->mask_ones = lt_mask_count(m->params.n_train, cfg->mask.ratio);
    if (st == LT_OK)
        st = lt_unlearn_state_init(&s, m, train, &cfg->optim, cfg->batch,
                                   cfg->arena_bytes);
    else
        memset(&s, 0, sizeof s);
    for (int e = 1; e <= cfg->epochs && st == LT_OK; e++)
        st = lt_method_epoch(&s, m, train, f, cfg, mask, e, rep);
    rep->steps = s.steps;
    rep->seconds = lt_seconds() - t0;
    lt_unlearn_state_free(&s);
    free(mask);
    return st;
}
