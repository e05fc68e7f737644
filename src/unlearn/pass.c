/*
 * pass.c - one epoch of masked optimizer steps over a list of training
 * items, the building block of every iterative unlearning method: the
 * targets (true, random, FGSM-boundary or a fixed class, optionally label
 * smoothed), the signed cross-entropy, an optional l1 term and joint retain
 * term, the soft-mask gradient scale, and the divergence checks. With a
 * data-parallel reducer in the state (s->dp) every batch's objective is
 * computed shard by shard on the ranks and combined before the step
 * (lethe/train.h, docs/mpi.md).
 */
#include "lethe/methods.h"
#include "lethe/train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- state ---------------------------------------------------------------- */

lt_status lt_unlearn_state_init(lt_unlearn_state *s, const lt_model *m,
                                const lt_dataset *d, const lt_optim_config *o,
                                int batch, size_t arena_bytes)
{
    memset(s, 0, sizeof *s);
    if (batch < 1)
        return lt_set_error(LT_ERR_ARG, "unlearn: batch %d must be >= 1",
                            batch);
    size_t item = (size_t)d->c * (size_t)d->h * (size_t)d->w;
    s->batch = batch;
    s->c = lt_ctx_new(arena_bytes ? arena_bytes
                                  : lt_arena_bytes_for(m, batch));
    if (!s->c)
        return lt_last_status();
    s->x = malloc((size_t)batch * item * sizeof(float));
    s->x2 = malloc((size_t)batch * item * sizeof(float));
    s->y = malloc((size_t)batch * sizeof(int32_t));
    s->y2 = malloc((size_t)batch * sizeof(int32_t));
    if (!s->x || !s->y || !s->x2 || !s->y2) {
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
    lt_dp_free(s->dp);
    lt_ctx_free(s->c);
    free(s->x);
    free(s->x2);
    free(s->y);
    free(s->y2);
    free(s->perm);
    free(s->rperm);
    memset(s, 0, sizeof *s);
}

lt_pass_spec lt_pass_plain(float lr, const float *mask, uint64_t seed)
{
    lt_pass_spec p;
    memset(&p, 0, sizeof p);
    p.sign = 1.0f;
    p.target = LT_TARGET_TRUE;
    p.lr = lr;
    p.mask = mask;
    p.seed = seed;
    return p;
}

static lt_status lt_reserve(int64_t **buf, int64_t *cap, int64_t k)
{
    if (k <= *cap)
        return LT_OK;
    int64_t *p = realloc(*buf, (size_t)k * sizeof(int64_t));
    if (!p)
        return lt_set_error(LT_ERR_NOMEM, "unlearn: cannot allocate %lld "
                            "indices", (long long)k);
    *buf = p;
    *cap = k;
    return LT_OK;
}

/* ---- FGSM (boundary shrink) ----------------------------------------------- */

lt_status lt_fgsm(lt_ctx *c, lt_model *model, const lt_dataset *d, float *x,
                  const int32_t *y, int64_t b, float eps)
{
    lt_ctx_reset(c);
    lt_tensor *in = lt_from_data(c, 4, (int64_t[]){b, d->c, d->h, d->w}, x);
    if (!in)
        return lt_last_status();
    lt_requires_grad(in);
    lt_tensor *l = lt_cross_entropy(c, lt_model_forward(c, model, in, false),
                                    y, LT_REDUCE_MEAN);
    if (!l || lt_backward(c, l) != LT_OK)
        return lt_last_status();
    int64_t plane = (int64_t)d->h * d->w, item = plane * d->c;
    for (int64_t i = 0; i < b * item; i++) {
        int ch = (int)((i % item) / plane);
        float g = in->grad[i];
        float px = x[i] * d->std[ch] + d->mean[ch];
        px += g > 0 ? eps : g < 0 ? -eps : 0.0f;
        px = px < 0 ? 0 : px > 1 ? 1 : px;
        px = roundf(px * 255.0f) / 255.0f;
        x[i] = (px - d->mean[ch]) / d->std[ch];
    }
    lt_params_zero_grad(&model->params);
    return LT_OK;
}

/* The frozen model's predictions on the FGSM neighbours of batch s->x
 * become the labels s->y (s->x itself is left clean: it is copied). */
static lt_status lt_boundary_labels(lt_unlearn_state *s, const lt_dataset *d,
                                    int64_t b, const lt_pass_spec *p)
{
    int64_t item = (int64_t)d->c * d->h * d->w;
    memcpy(s->x2, s->x, (size_t)(b * item) * sizeof(float));
    lt_status st = lt_fgsm(s->c, p->frozen, d, s->x2, s->y, b, p->fgsm_eps);
    if (st != LT_OK)
        return st;
    lt_ctx_reset(s->c);
    bool was = lt_set_grad_enabled(s->c, false);
    lt_tensor *in = lt_from_data(s->c, 4, (int64_t[]){b, d->c, d->h, d->w},
                                 s->x2);
    lt_tensor *z = in ? lt_model_forward(s->c, p->frozen, in, false) : NULL;
    lt_set_grad_enabled(s->c, was);
    if (!z)
        return lt_last_status();
    int64_t k = z->shape[1];
    for (int64_t i = 0; i < b; i++) {
        const float *r = z->data + i * k;
        int32_t best = 0;
        for (int64_t j = 1; j < k; j++)
            if (r[j] > r[best])
                best = (int32_t)j;
        s->y[i] = best;
    }
    return LT_OK;
}

/* The labels of the batch in s (already loaded with true labels). */
static lt_status lt_pass_targets(lt_unlearn_state *s, const lt_dataset *d,
                                 int64_t b, const lt_pass_spec *p,
                                 lt_rng *labels)
{
    switch (p->target) {
    case LT_TARGET_TRUE:
        return LT_OK;
    case LT_TARGET_RANDOM:
        for (int64_t j = 0; j < b; j++)
            s->y[j] = (int32_t)lt_rng_below(labels, (uint64_t)d->classes);
        return LT_OK;
    case LT_TARGET_FIXED:
        for (int64_t j = 0; j < b; j++)
            s->y[j] = p->fixed_label;
        return LT_OK;
    case LT_TARGET_BOUNDARY:
        if (!p->frozen)
            return lt_set_error(LT_ERR_ARG, "unlearn: boundary targets need "
                                "the frozen original model");
        return lt_boundary_labels(s, d, b, p);
    }
    return lt_set_error(LT_ERR_ARG, "unlearn: unknown target kind %d",
                        (int)p->target);
}

/* ---- one step ------------------------------------------------------------- */

/* Mean CE of model(x) toward y, smoothed by alpha when alpha != 0. */
static lt_tensor *lt_pass_ce(lt_ctx *c, lt_model *m, const lt_dataset *d,
                             float *x, const int32_t *y, int64_t b,
                             float alpha)
{
    lt_tensor *in = lt_from_data(c, 4, (int64_t[]){b, d->c, d->h, d->w}, x);
    lt_tensor *z = in ? lt_model_forward(c, m, in, true) : NULL;
    if (!z)
        return NULL;
    if (alpha == 0)
        return lt_cross_entropy(c, z, y, LT_REDUCE_MEAN);
    return lt_cross_entropy_soft(c, z, lt_smooth_targets(c, y, b, z->shape[1],
                                                         alpha),
                                 LT_REDUCE_MEAN);
}

static lt_status lt_nan_loss(const lt_unlearn_state *s, double loss)
{
    return lt_set_error(LT_ERR_NAN, "unlearning: the loss is %s after %lld "
                        "steps (the method diverged; lower the learning "
                        "rate)", isnan(loss) ? "NaN" : "infinite",
                        (long long)s->steps);
}

/* The next retain batch of a joint pass into s->x2 / s->y2. */
static lt_status lt_next_retain(lt_unlearn_state *s, const lt_dataset *d,
                                int64_t b, const lt_pass_spec *p)
{
    if (s->rpos == 0 || s->rpos + b > p->n_retain) {
        lt_status st = lt_reserve(&s->rperm, &s->rperm_n, p->n_retain);
        if (st != LT_OK)
            return st;
        lt_permutation(s->rperm, p->n_retain, p->seed ^ (uint64_t)s->steps);
        for (int64_t i = 0; i < p->n_retain; i++)
            s->rperm[i] = p->retain[s->rperm[i]];
        s->rpos = 0;
    }
    if (b > p->n_retain)
        b = p->n_retain;
    lt_dataset_batch(d, s->rperm + s->rpos, b, s->x2, s->y2, NULL, NULL);
    s->rpos += b;
    return LT_OK;
}

/* The part of a batch (and of its retain batch) one objective covers:
 * items [lo, hi) of the b in s->x, [rlo, rhi) of the rb in s->x2. */
typedef struct {
    int64_t lo, hi, b, rlo, rhi, rb;
} lt_pass_part;

/* The objective of a part: sign * CE(items) [+ w * CE(retain items)],
 * each mean scaled by the part's share of its batch (1 for a whole batch);
 * NULL with the error set, or with none for an empty part. */
static lt_tensor *lt_pass_objective(lt_unlearn_state *s, lt_model *m,
                                    const lt_dataset *d, const lt_pass_part *q,
                                    const lt_pass_spec *p, double *loss)
{
    int64_t item = (int64_t)d->c * d->h * d->w, nf = q->hi - q->lo,
            nr = q->rhi - q->rlo;
    float fs = (float)((double)nf / (double)q->b),
          rs = nr ? (float)((double)nr / (double)q->rb) : 0;
    lt_tensor *obj = NULL;
    *loss = 0;
    if (nf > 0) {
        lt_tensor *l = lt_pass_ce(s->c, m, d, s->x + q->lo * item,
                                  s->y + q->lo, nf, p->smooth);
        if (!l)
            return NULL;
        *loss = l->data[0] * fs;
        obj = p->sign * fs == 1.0f ? l
              : lt_affine(s->c, l, p->sign * fs, 0.0f);
        if (!obj)
            return NULL;
    }
    if (nr < 1)
        return obj;
    lt_tensor *r = lt_pass_ce(s->c, m, d, s->x2 + q->rlo * item,
                              s->y2 + q->rlo, nr, 0);
    if (!r)
        return NULL;
    if (!isfinite(r->data[0]))
        *loss = r->data[0];
    r = lt_affine(s->c, r, p->retain_weight * rs, 0.0f);
    return obj && r ? lt_add(s->c, obj, r) : r;
}

/* The objective of this rank's shards of the batch, combined over the
 * ranks: gradient in m, *loss and *obj the whole batch's (data parallel). */
static lt_status lt_pass_shards(lt_unlearn_state *s, lt_model *m,
                                const lt_dataset *d, int64_t b, int64_t rb,
                                const lt_pass_spec *p, double *loss,
                                double *obj)
{
    int first, count = lt_dp_local(s->dp, &first);
    for (int j = 0; j < count; j++) {
        lt_pass_part q = {0, 0, b, 0, 0, rb};
        lt_dp_range(s->dp, first + j, b, &q.lo, &q.hi);
        if (rb > 0)
            lt_dp_range(s->dp, first + j, rb, &q.rlo, &q.rhi);
        lt_dp_shard_begin(s->dp, &m->params, j);
        lt_ctx_reset(s->c);
        double l = 0;
        lt_tensor *o = lt_pass_objective(s, m, d, &q, p, &l);
        if (!o && (q.hi > q.lo || q.rhi > q.rlo)) /* else: empty shard */
            return lt_last_status();
        /* a non-finite value travels in the sum to every rank */
        if (o && isfinite(o->data[0]) && lt_backward(s->c, o) != LT_OK)
            return lt_last_status();
        float vals[LT_DP_VALS] = {(float)l, o ? o->data[0] : 0};
        lt_dp_shard_end(s->dp, &m->params, j, 1.0f,
                        (float)((double)(q.hi - q.lo) / (double)b), vals);
    }
    float vals[LT_DP_VALS] = {0};
    lt_status st = lt_dp_reduce(s->dp, &m->params, vals);
    *loss = vals[0];
    *obj = vals[1];
    return st;
}

/* The l1 subgradient and the soft-mask scale, added to / applied on g. */
static void lt_pass_grad_terms(lt_model *m, const lt_pass_spec *p)
{
    float *g = m->params.grad;
    const float *th = m->params.theta;
    int64_t n = m->params.n_train;
    if (p->l1 != 0)
        for (int64_t i = 0; i < n; i++)
            g[i] += th[i] > 0 ? p->l1 : th[i] < 0 ? -p->l1 : 0.0f;
    if (p->scale)
        for (int64_t i = 0; i < n; i++)
            g[i] *= p->scale[i];
}

/* Targets, forward, objective, backward, masked step, zero grads for the
 * batch in s. */
static lt_status lt_pass_step(lt_unlearn_state *s, lt_model *m,
                              const lt_dataset *d, const int64_t *items,
                              int64_t b, const lt_pass_spec *p,
                              lt_rng *labels, double *loss)
{
    lt_status st = lt_pass_targets(s, d, b, p, labels);
    if (st != LT_OK)
        return st;
    for (int64_t j = 0; p->item_label && j < b; j++)
        if (p->item_label[items[j]] >= 0)
            s->y[j] = p->item_label[items[j]];
    int64_t rb = p->n_retain < 1 ? 0 : b < p->n_retain ? b : p->n_retain;
    if (rb > 0 && (st = lt_next_retain(s, d, rb, p)) != LT_OK)
        return st;
    if (s->dp) {
        double o = 0;
        if ((st = lt_pass_shards(s, m, d, b, rb, p, loss, &o)) != LT_OK)
            return st;
        if (!isfinite(*loss) || !isfinite(o))
            return lt_nan_loss(s, isfinite(*loss) ? o : *loss);
    } else {
        lt_ctx_reset(s->c);
        lt_pass_part q = {0, b, b, 0, rb, rb};
        lt_tensor *obj = lt_pass_objective(s, m, d, &q, p, loss);
        if (!obj)
            return lt_last_status();
        if (!isfinite(*loss) || !isfinite(obj->data[0]))
            return lt_nan_loss(s, isfinite(*loss) ? obj->data[0] : *loss);
        if (lt_backward(s->c, obj) != LT_OK)
            return lt_last_status();
    }
    lt_pass_grad_terms(m, p);
    float *g = m->params.grad;
    st = lt_optim_step(&s->opt, m->params.theta, g, p->mask, p->lr);
    if (st == LT_ERR_NAN)
        return lt_set_error(LT_ERR_NAN, "unlearning: a gradient is not "
                            "finite after %lld steps (the method diverged; "
                            "lower the learning rate)", (long long)s->steps);
    if (st != LT_OK)
        return st;
    s->steps++;
    if (s->opt.cfg.kind == LT_OPT_SOPHIA && lt_sophia_wants_hessian(&s->opt))
        st = lt_sophia_hessian(&s->opt, g, p->mask);
    if (st == LT_OK && p->after_step)
        st = p->after_step(p->after_ud, m);
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
    lt_status st = lt_reserve(&s->perm, &s->perm_n, k);
    if (st != LT_OK)
        return st;
    lt_permutation(s->perm, k, p->seed);
    for (int64_t i = 0; i < k; i++)
        s->perm[i] = idx[s->perm[i]];
    s->rpos = 0;
    lt_rng labels;
    lt_rng_init(&labels, p->seed ^ 0x9e3779b97f4a7c15ull);
    double sum = 0;
    int64_t batches = 0;
    lt_params_zero_grad(&m->params);
    for (int64_t i = 0; i < k && st == LT_OK; i += s->batch, batches++) {
        int64_t b = k - i < s->batch ? k - i : s->batch;
        lt_dataset_batch(d, s->perm + i, b, s->x, s->y, NULL, NULL);
        double l = 0;
        st = lt_pass_step(s, m, d, s->perm + i, b, p, &labels, &l);
        sum += l;
        if (st == LT_OK && p->on_batch)
            p->on_batch(p->batch_ud, batches + 1,
                        (k + s->batch - 1) / s->batch, l);
    }
    if (st == LT_OK)
        *mean_loss = sum / (double)batches;
    return st;
}
