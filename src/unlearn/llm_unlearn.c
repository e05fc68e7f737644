/*
 * llm_unlearn.c - the LLM unlearning loop: seeded forget batches paired
 * with cycling retain batches, the method's loss (llm_loss.c), a weight
 * mask (llm_mask.c, intersected with RMU's trainable set), gradient
 * clipping, a learning rate warmed up linearly (one epoch by default) and
 * then decayed linearly to 0 at the last step, AdamW / Sophia GNB /
 * SOUL's Sophia, and a divergence stop that restores the last good
 * weights. With cfg->dist set every rank draws the step's batches, runs
 * its shards of them (each loss normalised by the whole step's counts, so
 * the shards add up to the step's loss) and lt_dp (lethe/train.h,
 * docs/mpi.md) sums the gradients; masks, clipping and the optimizer then
 * run on identical numbers on every rank. See lethe/llm_unlearn.h.
 */
#include "lethe/llm_unlearn.h"
#include "lethe/data.h"
#include "lethe/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* AdamW, 5 epochs, batch 8, no mask: the search of bench/tofu_lr_search.sh
 * on `lethe bench tofu`'s default setting (40 synthetic authors, forget10,
 * the micro model; grids and results in docs/hyperparameters.md) chose, per
 * method, the rate with the highest forget quality that keeps model utility
 * >= 80% of the original model's. */
float lt_llm_default_lr(lt_llm_method m)
{
    switch (m) {
    case LT_LLM_GA: return 1e-3f;
    case LT_LLM_GRADDIFF: return 1e-3f;
    case LT_LLM_NPO: return 1e-3f;
    case LT_LLM_NPO_GD: return 3e-3f;
    case LT_LLM_SIMNPO: return 5e-3f;
    case LT_LLM_REFUSAL: return 3e-3f;
    case LT_LLM_RMU: return 5e-3f;
    case LT_LLM_IDK: return 3e-3f;   /* not searched: refusal's */
    case LT_LLM_IDKPO: return 3e-3f; /* not searched */
    }
    return 1e-3f;
}

lt_llm_unlearn_cfg lt_llm_unlearn_defaults(lt_llm_method m)
{
    lt_llm_unlearn_cfg c = {0};
    c.loss = lt_llm_loss_defaults(m);
    c.optim = lt_optim_defaults(LT_OPT_ADAMW);
    c.optim.lr = lt_llm_default_lr(m);
    c.optim.weight_decay = 0.01f;
    c.epochs = 5;
    c.batch = 8;
    c.warmup = -1;
    c.clip = 1.0f;
    c.max_loss = 1e3;
    c.seed = 1;
    c.mask = (lt_llm_mask_spec){LT_LLM_MASK_NONE, 1.0};
    c.mu = 1e-6;
    return c;
}

typedef struct {
    lt_ctx *c;
    lt_llama *ref;
    lt_optim opt;
    lt_schedule sched;
    lt_llm_batch fb, rb, pb; /* pb: idkpo's forget answers */
    lt_llm_batch sf, sr, sp; /* data parallel: a shard of fb, rb, pb */
    lt_dp *dp;               /* data parallel (cfg->dist), else NULL */
    int64_t *fperm, *rperm, *ridx, rpos, rcycle;
    float *mask;       /* NULL: every weight trains */
    bool freeze;       /* mask before clipping, frozen in the optimizer
                          (RMU, mask_freeze); else WAGLE's clip-then-mask */
    float *snap;       /* theta of the last good point */
    float *wd_mask;    /* sophia-soul: 0 on bias and norm weights */
    int32_t *sampled;  /* Sophia GNB labels */
    int64_t step, total, per_epoch;
    double t0, first;  /* first: |loss| of step 1 (rmu's max_loss scale) */
    lt_llm_loss_cfg loss; /* cfg->loss with rmu's c resolved */
} lt_llm_state;

/* SOUL's optimizer groups (SOUL src/optim/__init__.py): weight decay on
 * every trainable weight except biases and the RMSNorm weights (names
 * holding "norm" or "bias"). */
static lt_status lt_llm_soul_decay(lt_llm_state *st, const lt_llama *m)
{
    int64_t n = m->params.n_train;
    if (!(st->wd_mask = malloc((size_t)n * sizeof *st->wd_mask)))
        return lt_set_error(LT_ERR_NOMEM, "llm unlearn: out of memory");
    for (int64_t i = 0; i < n; i++)
        st->wd_mask[i] = 1.0f;
    for (int i = 0; i < m->params.count; i++) {
        const lt_param *p = &m->params.p[i];
        if (!p->trainable || (!strstr(p->name, "norm") &&
                              !strstr(p->name, "bias")))
            continue;
        int64_t k = lt_shape_numel(p->t.ndim, p->t.shape);
        for (int64_t j = 0; j < k && p->offset + j < n; j++)
            st->wd_mask[p->offset + j] = 0.0f;
    }
    st->opt.wd_mask = st->wd_mask;
    return LT_OK;
}

/* ---- one step ----------------------------------------------------------------- */

/* The next retain batch of B examples (a reshuffle when it runs out). */
static lt_status lt_llm_next_retain(lt_llm_state *st, const lt_lm_data *r,
                                    const lt_llm_unlearn_cfg *cfg, int64_t B)
{
    int64_t *idx = st->ridx;
    for (int64_t i = 0; i < B; i++) {
        if (st->rpos == 0 || st->rpos >= r->n) {
            lt_permutation(st->rperm, r->n, cfg->seed * 7919u + 1u +
                                                (uint64_t)st->rcycle++);
            st->rpos = 0;
        }
        idx[i] = st->rperm[st->rpos++];
    }
    return lt_llm_batch_fill(&st->rb, r, idx, B, cfg->pad_id);
}

/* Sample a label at every scored position of fb from the softmax of the
 * logits one position earlier. Returns the number of positions. */
static int64_t lt_llm_sample(const lt_llm_batch *fb, const lt_tensor *logits,
                             int32_t *lab, uint64_t seed)
{
    int64_t B = fb->B, T = fb->T, V = logits->shape[2], n = 0;
    lt_rng r;
    lt_rng_init(&r, seed);
    for (int64_t i = 0; i < B * T; i++) {
        lab[i] = LT_LLAMA_IGNORE;
        if (i % T == 0 || !fb->mask[i])
            continue;
        const float *row = logits->data + (i - 1) * V;
        float mx = row[0];
        for (int64_t j = 1; j < V; j++)
            mx = row[j] > mx ? row[j] : mx;
        double z = 0;
        for (int64_t j = 0; j < V; j++)
            z += exp((double)(row[j] - mx));
        double u = lt_rng_uniform(&r) * z, acc = 0;
        int64_t j = 0;
        for (; j < V - 1; j++) {
            acc += exp((double)(row[j] - mx));
            if (acc > u)
                break;
        }
        lab[i] = (int32_t)j;
        n++;
    }
    return n;
}

/* Sophia GNB: squared gradient of the mean CE on sampled labels. */
static lt_status lt_llm_gnb(lt_llm_state *st, lt_llama *m,
                            const lt_llm_unlearn_cfg *cfg)
{
    lt_ctx_reset(st->c);
    lt_params_zero_grad(&m->params);
    const lt_llm_batch *fb = &st->fb;
    lt_tensor *logits = lt_llama_forward(st->c, m, fb->ids, fb->B, fb->T);
    if (!logits)
        return lt_last_status();
    int64_t n = lt_llm_sample(fb, logits, st->sampled,
                              cfg->seed * 104729u + (uint64_t)st->step);
    lt_status s = lt_backward(st->c, lt_llama_loss_logits(
        st->c, m, logits, fb->ids, st->sampled, fb->mask));
    if (s == LT_OK) {
        st->opt.cfg.sophia_bs = (float)(n > 0 ? n : 1);
        s = lt_sophia_hessian(&st->opt, m->params.grad, st->mask);
    }
    lt_params_zero_grad(&m->params);
    return s;
}

/* Divergence: a message naming the place and the value. */
static lt_status lt_llm_diverged(const lt_llm_state *st, int epoch,
                                 const char *what, double v)
{
    return lt_set_error(LT_ERR_NAN, "llm unlearn: %s %g at epoch %d, step "
                        "%lld", what, v, epoch, (long long)st->step + 1);
}

/* The divergence checks of a step's loss (before its update). */
static lt_status lt_llm_check_loss(lt_llm_state *st,
                                   const lt_llm_unlearn_cfg *cfg, int epoch,
                                   const lt_llm_parts *p)
{
    if (!isfinite(p->loss))
        return lt_llm_diverged(st, epoch, "the loss is not finite:", p->loss);
    bool rmu = st->loss.method == LT_LLM_RMU;
    if (st->step == 0)
        st->first = fabs(p->loss);
    double lim = cfg->max_loss * (rmu && st->first > 1 ? st->first : 1);
    if (fabs(p->loss) > lim)
        return lt_llm_diverged(st, epoch, rmu ? "|loss| exceeds max_loss x "
                               "|first loss|: loss" : "|loss| exceeds "
                               "max_loss: loss", p->loss);
    return LT_OK;
}

static lt_status lt_llm_forward_backward(lt_llm_state *st, lt_llama *m,
                                         const lt_llm_unlearn_cfg *cfg,
                                         int epoch, lt_llm_parts *p)
{
    lt_tensor *loss = NULL;
    lt_ctx_reset(st->c);
    lt_params_zero_grad(&m->params);
    bool ret = lt_llm_uses_retain(&st->loss);
    lt_status s = lt_llm_step_loss(st->c, m, st->ref, &st->loss, &st->fb,
                                   ret ? &st->rb : NULL, &loss, p);
    if (s == LT_OK)
        s = lt_llm_check_loss(st, cfg, epoch, p);
    return s == LT_OK ? lt_backward(st->c, loss) : s;
}

/* Rows [lo, hi) of the step's batch `whole` (examples idx of d) into
 * shard, normalised by the whole batch's counts. */
static lt_status lt_llm_shard_fill(lt_llm_batch *shard,
                                   const lt_llm_batch *whole,
                                   const lt_lm_data *d, const int64_t *idx,
                                   int64_t lo, int64_t hi, int32_t pad)
{
    lt_status s = lt_llm_batch_fill(shard, d, idx + lo, hi - lo, pad);
    shard->norm_B = whole->B;
    shard->norm_scored = whole->n_scored;
    shard->norm_real = whole->n_real;
    return s;
}

/* Forward and backward of rows [lo, hi) of the step's batches; the
 * shard's share of the loss and the mean NLLs into vals. */
static lt_status lt_llm_shard(lt_llm_state *st, lt_llama *m,
                              const lt_lm_data *f, const lt_lm_data *r,
                              const lt_llm_unlearn_cfg *cfg,
                              const int64_t *idx, int64_t lo, int64_t hi,
                              float *vals)
{
    bool ret = lt_llm_uses_retain(&st->loss);
    lt_status s = lt_llm_shard_fill(&st->sf, &st->fb, f, idx, lo, hi,
                                    cfg->pad_id);
    if (s == LT_OK && cfg->pair) {
        s = lt_llm_shard_fill(&st->sp, &st->pb, cfg->pair, idx, lo, hi,
                              cfg->pad_id);
        st->sf.pair = &st->sp;
    }
    if (s == LT_OK && ret)
        s = lt_llm_shard_fill(&st->sr, &st->rb, r, st->ridx, lo, hi,
                              cfg->pad_id);
    lt_tensor *loss = NULL;
    lt_llm_parts p = {NAN, NAN, NAN, NAN, NAN};
    lt_ctx_reset(st->c);
    if (s == LT_OK)
        s = lt_llm_step_loss(st->c, m, st->ref, &st->loss, &st->sf,
                             ret ? &st->sr : NULL, &loss, &p);
    if (s == LT_OK)
        s = lt_backward(st->c, loss);
    vals[0] = (float)p.loss;
    vals[1] = (float)p.forget_nll;
    vals[2] = (float)p.retain_nll;
    return s;
}

/* The data-parallel step's gradient: this rank's shards of the batches,
 * summed over the ranks; the step's loss parts into p, checked after the
 * sum, so every rank stops together. */
static lt_status lt_llm_dp_forward_backward(lt_llm_state *st, lt_llama *m,
                                            const lt_lm_data *f,
                                            const lt_lm_data *r,
                                            const lt_llm_unlearn_cfg *cfg,
                                            int epoch, const int64_t *idx,
                                            int64_t B, lt_llm_parts *p)
{
    int first, count = lt_dp_local(st->dp, &first);
    for (int j = 0; j < count; j++) {
        int64_t lo, hi;
        float vals[LT_DP_VALS] = {0};
        lt_dp_range(st->dp, first + j, B, &lo, &hi);
        lt_dp_shard_begin(st->dp, &m->params, j);
        lt_status s = hi > lo ? lt_llm_shard(st, m, f, r, cfg, idx, lo, hi,
                                             vals) : LT_OK;
        if (s != LT_OK)
            return s;
        lt_dp_shard_end(st->dp, &m->params, j, 1.0f,
                        (float)((double)(hi - lo) / (double)B), vals);
    }
    float vals[LT_DP_VALS] = {0};
    lt_status s = lt_dp_reduce(st->dp, &m->params, vals);
    if (s != LT_OK)
        return s;
    *p = (lt_llm_parts){vals[0], NAN, NAN, vals[1], vals[2]};
    return lt_llm_check_loss(st, cfg, epoch, p);
}

static lt_status lt_llm_step(lt_llm_state *st, lt_llama *m,
                             const lt_lm_data *f, const lt_lm_data *r,
                             const lt_llm_unlearn_cfg *cfg, int epoch,
                             const int64_t *idx, int64_t B, lt_llm_event *ev)
{
    lt_status s = lt_llm_batch_fill(&st->fb, f, idx, B, cfg->pad_id);
    if (s == LT_OK && cfg->pair) { /* idkpo: the same questions' answers */
        s = lt_llm_batch_fill(&st->pb, cfg->pair, idx, B, cfg->pad_id);
        st->fb.pair = &st->pb;
    }
    if (s == LT_OK && lt_llm_uses_retain(&st->loss))
        s = lt_llm_next_retain(st, r, cfg, B);
    lt_llm_parts p;
    if (s == LT_OK && st->dp)
        s = lt_llm_dp_forward_backward(st, m, f, r, cfg, epoch, idx, B, &p);
    else if (s == LT_OK)
        s = lt_llm_forward_backward(st, m, cfg, epoch, &p);
    if (s != LT_OK)
        return s;
    int64_t n = m->params.n_train;
    for (int64_t i = 0; st->mask && st->freeze && i < n; i++)
        m->params.grad[i] *= st->mask[i];
    double norm = lt_clip_grad_norm(m->params.grad, n,
                                    cfg->clip > 0 ? cfg->clip : INFINITY);
    if (!isfinite(norm))
        return lt_llm_diverged(st, epoch, "the gradient norm is not finite:",
                               norm);
    /* WAGLE's trainer: clip, then grad *= mask, then the optimizer over
     * every weight (masked ones keep zero moments and only decay) */
    for (int64_t i = 0; st->mask && !st->freeze && i < n; i++)
        m->params.grad[i] *= st->mask[i];
    float lr = lt_schedule_lr(&st->sched, st->step);
    s = lt_optim_step(&st->opt, m->params.theta, m->params.grad,
                      st->freeze ? st->mask : NULL, lr);
    if (s != LT_OK)
        return s == LT_ERR_NAN ? lt_llm_diverged(st, epoch, "a gradient is "
                                                 "not finite: loss", p.loss)
                               : s;
    if (lt_sophia_wants_hessian(&st->opt) && (s = lt_llm_gnb(st, m, cfg)))
        return s;
    st->step++;
    *ev = (lt_llm_event){epoch, cfg->epochs, st->step, st->total, p.loss,
                         p.forget_nll, p.retain_nll, lr, norm,
                         lt_clock_seconds() - st->t0};
    return LT_OK;
}

/* ---- epochs, snapshots --------------------------------------------------------- */

static lt_status lt_llm_epoch(lt_llm_state *st, lt_llama *m,
                              const lt_lm_data *f, const lt_lm_data *r,
                              const lt_llm_unlearn_cfg *cfg, int epoch,
                              lt_llm_report *rep)
{
    if (cfg->forget_epochs) /* idk, idkpo: this epoch's IDK answers */
        f = &cfg->forget_epochs[epoch - 1];
    lt_permutation(st->fperm, f->n, cfg->seed * 1000003u + (uint64_t)epoch);
    for (int64_t i = 0; i < f->n; i += cfg->batch) {
        int64_t B = f->n - i < cfg->batch ? f->n - i : cfg->batch;
        lt_llm_event ev;
        lt_status s = lt_llm_step(st, m, f, r, cfg, epoch, st->fperm + i, B,
                                  &ev);
        if (s != LT_OK)
            return s;
        if (st->step == 1)
            rep->first_loss = ev.loss;
        rep->last_loss = ev.loss;
        rep->steps = st->step;
        if (cfg->progress)
            cfg->progress(cfg->ud, &ev);
    }
    return LT_OK;
}

/* The longest forget-side example: f, every epoch's data, the pair. */
static int64_t lt_llm_forget_len(const lt_lm_data *f,
                                 const lt_llm_unlearn_cfg *cfg)
{
    int64_t T = f->max_len;
    for (int e = 0; cfg->forget_epochs && e < cfg->epochs; e++)
        T = cfg->forget_epochs[e].max_len > T ? cfg->forget_epochs[e].max_len
                                              : T;
    if (cfg->pair && cfg->pair->max_len > T)
        T = cfg->pair->max_len;
    return T;
}

static lt_status lt_llm_check(const lt_llama *m, const lt_lm_data *f,
                              const lt_lm_data *r,
                              const lt_llm_unlearn_cfg *cfg)
{
    if (!m || !f || !cfg || f->n < 1)
        return lt_set_error(LT_ERR_ARG, "llm unlearn: no model or no forget "
                            "data");
    if (cfg->epochs < 1 || cfg->batch < 1 || !(cfg->max_loss > 0))
        return lt_set_error(LT_ERR_ARG, "llm unlearn: epochs %d and batch %d "
                            "must be >= 1 and max_loss %g > 0", cfg->epochs,
                            cfg->batch, cfg->max_loss);
    bool need_r = lt_llm_uses_retain(&cfg->loss) ||
                  cfg->mask.kind == LT_LLM_MASK_WAGLE;
    if (need_r && (!r || r->n < 1))
        return lt_set_error(LT_ERR_ARG, "llm unlearn: %s needs retain data",
                            cfg->mask.kind == LT_LLM_MASK_WAGLE ?
                            "the wagle mask" :
                            lt_llm_method_name(cfg->loss.method));
    for (int e = 0; cfg->forget_epochs && e < cfg->epochs; e++)
        if (cfg->forget_epochs[e].n != f->n)
            return lt_set_error(LT_ERR_ARG, "llm unlearn: epoch %d's forget "
                                "data has %lld examples, not %lld", e + 1,
                                (long long)cfg->forget_epochs[e].n,
                                (long long)f->n);
    if (cfg->loss.method == LT_LLM_IDKPO && (!cfg->pair ||
                                             cfg->pair->n != f->n))
        return lt_set_error(LT_ERR_ARG, "llm unlearn: idkpo needs the forget "
                            "answers paired with the IDK data (cfg.pair)");
    int64_t T = lt_llm_forget_len(f, cfg);
    T = T > (r ? r->max_len : 0) ? T : r->max_len;
    if (T > m->cfg.max_position_embeddings)
        return lt_set_error(LT_ERR_ARG, "llm unlearn: examples of %lld tokens "
                            "exceed the model's %d positions", (long long)T,
                            m->cfg.max_position_embeddings);
    if (cfg->pad_id < 0 || cfg->pad_id >= m->cfg.vocab_size)
        return lt_set_error(LT_ERR_ARG, "llm unlearn: pad id %d outside the "
                            "vocabulary", cfg->pad_id);
    bool npo = cfg->loss.method == LT_LLM_NPO ||
               cfg->loss.method == LT_LLM_NPO_GD;
    if (cfg->dist != LT_DIST_OFF && npo && cfg->loss.npo_mean)
        return lt_set_error(LT_ERR_ARG, "llm unlearn: %s on the batch's mean "
                            "NLL (npo_nll mean) is not a sum over examples, "
                            "so it cannot be split over data-parallel shards;"
                            " use npo_nll sum or one process",
                            lt_llm_method_name(cfg->loss.method));
    return LT_OK;
}

/* The mask: cfg's spec, intersected with RMU's layers; NULL when all ones. */
static lt_status lt_llm_make_mask(lt_llm_state *st, lt_llama *m,
                                  const lt_lm_data *f, const lt_lm_data *r,
                                  const lt_llm_unlearn_cfg *cfg, double *kept)
{
    int64_t n = m->params.n_train;
    bool rmu = cfg->loss.method == LT_LLM_RMU;
    *kept = 1.0;
    if (cfg->mask.kind == LT_LLM_MASK_NONE && !rmu)
        return LT_OK;
    float *rm = rmu ? malloc((size_t)n * sizeof *rm) : NULL;
    st->mask = malloc((size_t)n * sizeof *st->mask);
    if (!st->mask || (rmu && !rm)) {
        free(rm);
        return lt_set_error(LT_ERR_NOMEM, "llm unlearn: out of memory");
    }
    const lt_lm_data *mf = cfg->mask_forget ? cfg->mask_forget : f;
    lt_llm_mask_opts o = {cfg->mask, cfg->mu,
                          cfg->mask_samples == 0 ? mf->n /* WAGLE: paired */
                          : cfg->mask_samples < 0 ? 0 : cfg->mask_samples,
                          cfg->batch, cfg->pad_id, cfg->seed};
    if (!(o.spec.ratio > 0))
        o.spec.ratio = lt_llm_mask_default_ratio(cfg->loss.method);
    st->freeze = rmu || cfg->mask_freeze;
    lt_status s = lt_llm_mask_compute(m, mf, r, &o, st->mask, kept);
    int L = cfg->loss.rmu_layer > 0 ? cfg->loss.rmu_layer
                                    : m->cfg.n_layers / 2;
    if (s == LT_OK && rmu)
        s = lt_llm_rmu_mask(m, L < 1 ? 1 : L, rm);
    if (s == LT_OK && rmu) {
        int64_t on = 0;
        for (int64_t i = 0; i < n; i++)
            on += (st->mask[i] *= rm[i]) != 0.0f;
        *kept = (double)on / (double)n;
    }
    free(rm);
    return s;
}

static lt_status lt_llm_setup(lt_llm_state *st, lt_llama *m,
                              const lt_lm_data *f, const lt_lm_data *r,
                              const lt_llm_unlearn_cfg *cfg, double *kept)
{
    int64_t T = lt_llm_forget_len(f, cfg);
    T = T > (r ? r->max_len : 0) ? T : r->max_len;
    st->per_epoch = (f->n + cfg->batch - 1) / cfg->batch;
    st->total = st->per_epoch * cfg->epochs;
    st->sched = (lt_schedule){.kind = LT_SCHED_LINEAR,
                              .base_lr = cfg->optim.lr, .total = st->total,
                              .warmup = cfg->warmup < 0 ? st->per_epoch
                                                        : cfg->warmup};
    /* idkpo runs the model and the reference on two batches */
    st->c = lt_ctx_new(lt_llm_step_arena_bytes(
        &m->cfg, cfg->loss.method == LT_LLM_IDKPO ? 2 * (int64_t)cfg->batch
                                                  : cfg->batch, T));
    st->fperm = malloc((size_t)f->n * sizeof *st->fperm);
    st->rperm = r ? malloc((size_t)r->n * sizeof *st->rperm) : NULL;
    st->ridx = malloc((size_t)cfg->batch * sizeof *st->ridx);
    st->snap = malloc((size_t)m->params.n_total * sizeof *st->snap);
    st->sampled = malloc((size_t)(cfg->batch * T) * sizeof *st->sampled);
    if (!st->c || !st->fperm || (r && !st->rperm) || !st->ridx || !st->snap ||
        !st->sampled)
        return lt_set_error(LT_ERR_NOMEM, "llm unlearn: out of memory");
    if (lt_llm_method_needs_ref(cfg->loss.method) &&
        !(st->ref = lt_llama_clone(m)))
        return lt_last_status();
    memcpy(st->snap, m->params.theta,
           (size_t)m->params.n_total * sizeof *st->snap);
    st->loss = cfg->loss;
    lt_status s = LT_OK;
    if (st->loss.method == LT_LLM_RMU && !(st->loss.rmu_coeff > 0)) {
        int L = st->loss.rmu_layer > 0 ? st->loss.rmu_layer
                                       : m->cfg.n_layers / 2;
        double c = 0;
        s = lt_llm_rmu_auto_coeff(m, f, L < 1 ? 1 : L, cfg->pad_id, &c);
        st->loss.rmu_coeff = (float)c;
    }
    if (s == LT_OK)
        s = lt_llm_make_mask(st, m, f, r, cfg, kept);
    if (s == LT_OK)
        s = lt_optim_init(&st->opt, &cfg->optim, m->params.n_train);
    if (s == LT_OK && cfg->optim.kind == LT_OPT_SOPHIA &&
        cfg->optim.hessian_mode == LT_SOPHIA_SOUL)
        s = lt_llm_soul_decay(st, m);
    if (s == LT_OK && cfg->dist != LT_DIST_OFF &&
        !(st->dp = lt_dp_new(&m->params, cfg->dist, cfg->shards,
                             cfg->batch)))
        s = lt_last_status();
    return s;
}

static void lt_llm_teardown(lt_llm_state *st, lt_llama *m)
{
    lt_params_zero_grad(&m->params);
    lt_optim_free(&st->opt);
    lt_ctx_free(st->c);
    lt_llama_free(st->ref);
    lt_llm_batch_free(&st->fb);
    lt_llm_batch_free(&st->rb);
    lt_llm_batch_free(&st->pb);
    lt_llm_batch_free(&st->sf);
    lt_llm_batch_free(&st->sr);
    lt_llm_batch_free(&st->sp);
    lt_dp_free(st->dp);
    free(st->fperm);
    free(st->rperm);
    free(st->ridx);
    free(st->mask);
    free(st->snap);
    free(st->wd_mask);
    free(st->sampled);
}

static lt_status lt_llm_unlearn_body(lt_llama *m, const lt_lm_data *forget,
    const lt_lm_data *retain, const lt_llm_unlearn_cfg *cfg,
    lt_llm_report *rep)
{
    lt_llm_report local;
    rep = rep ? rep : &local;
    memset(rep, 0, sizeof *rep);
    lt_status s = lt_llm_check(m, forget, retain, cfg);
    if (s != LT_OK)
        return s;
    lt_llm_state st = {0};
    st.t0 = lt_clock_seconds();
    s = lt_llm_setup(&st, m, forget, retain, cfg, &rep->mask_kept);
    rep->rmu_coeff = st.loss.rmu_coeff;
    bool in_loop = s == LT_OK; /* a setup failure is not a divergence */
    for (int e = 1; e <= cfg->epochs && s == LT_OK; e++) {
        s = lt_llm_epoch(&st, m, forget, retain, cfg, e, rep);
        if (s == LT_OK) {
            memcpy(st.snap, m->params.theta,
                   (size_t)m->params.n_total * sizeof *st.snap);
            rep->epochs_done = e;
        }
    }
    if (s == LT_ERR_NAN && in_loop && st.snap) {
        memcpy(m->params.theta, st.snap,
               (size_t)m->params.n_total * sizeof *st.snap);
        rep->diverged = true;
        rep->restored_epoch = rep->epochs_done;
        char where[48] = "the start";
        if (rep->epochs_done)
            snprintf(where, sizeof where, "the end of epoch %d",
                     rep->epochs_done);
        snprintf(rep->message, sizeof rep->message, "%s; weights restored to "
                 "%s", lt_last_error(), where);
        lt_set_error(LT_ERR_NAN, "%s", rep->message);
    }
    rep->seconds = lt_clock_seconds() - st.t0;
    rep->steps = st.step;
    lt_llm_teardown(&st, m);
    return s;
}

/* The run in the precision its config asks for (core.h). */
lt_status lt_llm_unlearn(lt_llama *m, const lt_lm_data *forget,
                         const lt_lm_data *retain,
                         const lt_llm_unlearn_cfg *cfg, lt_llm_report *rep)
{
    lt_precision old =
        lt_precision_enter(cfg ? cfg->precision : LT_PRECISION_DEFAULT);
    lt_status r = lt_llm_unlearn_body(m, forget, retain, cfg, rep);
    lt_set_default_precision(old);
    return r;
}
