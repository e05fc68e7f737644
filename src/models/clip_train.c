/*
 * clip_train.c - contrastive pretraining of the CLIP-like model
 * (lethe/clip.h): batches of (image, caption) pairs from the caller's
 * callback, the symmetric InfoNCE loss, AdamW with weight decay on the
 * tensors of >= 2 dims only (two optimizers over the two halves of the
 * flat buffer), warm-up + cosine learning rate, gradient clipping, CLIP's
 * clamp of the logit scale, progress by callback and checkpoints that
 * carry the optimizer state, so a resumed run is the uninterrupted one.
 * Data parallel (cfg->dist), the loss is taken on the gathered embeddings
 * of every shard and each shard backpropagates its slice of their
 * gradient (dp_backward).
 */
#include "clip_internal.h"
#include "lethe/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define LOGIT_SCALE_MAX 4.6051702f /* ln(100): CLIP clamps the scale at 100 */
#define META_STEP "lethe.clip_step"

lt_clip_train_cfg lt_clip_train_defaults(void)
{
    lt_clip_train_cfg c;
    memset(&c, 0, sizeof c);
    c.optim = lt_optim_defaults(LT_OPT_ADAMW);
    c.optim.lr = 5e-4f;
    c.optim.beta1 = 0.9f;
    c.optim.beta2 = 0.98f;
    c.optim.eps = 1e-6f;
    c.optim.weight_decay = 0.1f;
    c.steps = 1000;
    c.batch = 64;
    c.image_h = c.image_w = 32;
    c.warmup = 50;
    c.clip = 1.0f;
    c.seed = 1;
    c.checkpoint_every = 100;
    return c;
}

/* ---- the loop's state ------------------------------------------------------------- */

typedef struct {
    lt_clip *m;
    const lt_clip_vocab *v;
    const lt_clip_train_cfg *cfg;
    lt_ctx *c;
    lt_optim decay, rest; /* theta[0, n_decay) and [n_decay, n_train) */
    lt_schedule sched;
    float *images;
    int32_t *ids, *eos;
    const char **captions;
    int64_t step;         /* steps done */
    lt_dp *dp;            /* data parallel (cfg->dist), else NULL */
} clip_run;

static lt_status check_cfg(const lt_clip *m, const lt_clip_train_cfg *cfg)
{
    if (!m || !cfg)
        return lt_set_error(LT_ERR_ARG, "clip_pretrain: model or config is "
                            "NULL");
    if (!cfg->batch_fn)
        return lt_set_error(LT_ERR_ARG, "clip_pretrain: batch_fn is NULL");
    if (cfg->batch < 2 || cfg->steps < 1 || cfg->image_h < 1 ||
        cfg->image_w < 1)
        return lt_set_error(LT_ERR_ARG, "clip_pretrain: need batch >= 2 (got "
                            "%d), steps >= 1 (got %lld) and an image size",
                            cfg->batch, (long long)cfg->steps);
    if (cfg->optim.kind != LT_OPT_ADAMW)
        return lt_set_error(LT_ERR_ARG, "clip_pretrain: the optimizer must be"
                            " AdamW");
    if (cfg->checkpoint && cfg->checkpoint_every < 1)
        return lt_set_error(LT_ERR_ARG, "clip_pretrain: checkpoint_every "
                            "must be >= 1");
    return LT_OK;
}

static void run_free(clip_run *r)
{
    lt_ctx_free(r->c);
    lt_optim_free(&r->decay);
    lt_optim_free(&r->rest);
    free(r->images);
    free(r->ids);
    free(r->eos);
    free(r->captions);
    lt_dp_free(r->dp);
}

static lt_status run_init(clip_run *r)
{
    const lt_clip_train_cfg *cfg = r->cfg;
    const lt_clip *m = r->m;
    int64_t B = cfg->batch, L = m->cfg.context_length;
    lt_optim_config nd = cfg->optim;
    nd.weight_decay = 0.0f;
    size_t arena = cfg->arena_bytes
        ? cfg->arena_bytes
        : lt_clip_arena_bytes(&m->cfg, B, cfg->image_h, cfg->image_w, true);
    r->c = lt_ctx_new(arena);
    r->images = malloc((size_t)(B * 3 * cfg->image_h * cfg->image_w) *
                       sizeof(float));
    r->ids = malloc((size_t)(B * L) * sizeof *r->ids);
    r->eos = malloc((size_t)B * sizeof *r->eos);
    r->captions = malloc((size_t)B * sizeof *r->captions);
    if (!r->c || !r->images || !r->ids || !r->eos || !r->captions)
        return lt_set_error(LT_ERR_NOMEM, "clip_pretrain: out of memory");
    if (lt_optim_init(&r->decay, &cfg->optim, m->n_decay) != LT_OK ||
        lt_optim_init(&r->rest, &nd, m->params.n_train - m->n_decay) != LT_OK)
        return lt_last_status();
    if (cfg->dist != LT_DIST_OFF &&
        !(r->dp = lt_dp_new(&m->params, cfg->dist, cfg->shards, (int)B)))
        return lt_last_status();
    r->sched = (lt_schedule){.kind = LT_SCHED_COSINE,
                             .base_lr = cfg->optim.lr,
                             .warmup = cfg->warmup,
                             .total = cfg->steps,
                             .min_lr = cfg->min_lr};
    return LT_OK;
}

/* ---- checkpoints ---------------------------------------------------------------- */

/* The AdamW moments of both halves as one [n_train] array each. */
static lt_status save_checkpoint(clip_run *r)
{
    if (r->dp && lt_dist_rank() != 0) /* data parallel: rank 0 writes */
        return LT_OK;
    int64_t n = r->m->params.n_train, nd = r->m->n_decay;
    float *mv = malloc((size_t)(2 * n) * sizeof(float));
    if (!mv)
        return lt_set_error(LT_ERR_NOMEM, "clip_pretrain: out of memory");
    memcpy(mv, r->decay.m, (size_t)nd * sizeof(float));
    memcpy(mv + nd, r->rest.m, (size_t)(n - nd) * sizeof(float));
    memcpy(mv + n, r->decay.v, (size_t)nd * sizeof(float));
    memcpy(mv + n + nd, r->rest.v, (size_t)(n - nd) * sizeof(float));
    lt_st_tensor t[2] = {
        {.name = LT_CLIP_OPTIM_PREFIX "exp_avg", .ndim = 1, .shape = {n},
         .data = mv},
        {.name = LT_CLIP_OPTIM_PREFIX "exp_avg_sq", .ndim = 1, .shape = {n},
         .data = mv + n}};
    char step[32];
    snprintf(step, sizeof step, "%lld", (long long)r->step);
    const char *meta[2] = {META_STEP, step};
    lt_status s = lt_clip_save_with(r->m, r->v, r->cfg->checkpoint, t, 2,
                                    meta, 1);
    free(mv);
    return s;
}

static lt_status read_moments(clip_run *r, const lt_st_file *f,
                              const char *path)
{
    int64_t n = r->m->params.n_train, nd = r->m->n_decay;
    const lt_st_tensor *a = lt_st_get(f, LT_CLIP_OPTIM_PREFIX "exp_avg");
    const lt_st_tensor *b = lt_st_get(f, LT_CLIP_OPTIM_PREFIX "exp_avg_sq");
    if (!a || !b || a->numel != n || b->numel != n)
        return lt_set_error(LT_ERR_FORMAT, "%s: no optimizer state of %lld "
                            "values (optimizer.exp_avg, optimizer.exp_avg_sq)"
                            ": not a training checkpoint of this model", path,
                            (long long)n);
    memcpy(r->decay.m, a->data, (size_t)nd * sizeof(float));
    memcpy(r->rest.m, a->data + nd, (size_t)(n - nd) * sizeof(float));
    memcpy(r->decay.v, b->data, (size_t)nd * sizeof(float));
    memcpy(r->rest.v, b->data + nd, (size_t)(n - nd) * sizeof(float));
    return LT_OK;
}

/* The config of f must be m's (compared as JSON text). */
static lt_status same_config(const lt_clip *m, const lt_st_file *f,
                             const char *path)
{
    lt_clip_config cf;
    if (lt_clip_read_config(f, path, &cf) != LT_OK)
        return lt_last_status();
    char *a = lt_clip_config_json(&cf), *b = lt_clip_config_json(&m->cfg);
    lt_status s = a && b ? LT_OK : LT_ERR_NOMEM;
    if (s == LT_OK && strcmp(a, b))
        s = lt_set_error(LT_ERR_FORMAT, "%s: the checkpoint's config %s is "
                         "not the model's %s", path, a, b);
    free(a);
    free(b);
    return s;
}

static lt_status resume(clip_run *r)
{
    const char *path = r->cfg->checkpoint;
    struct stat st;
    if (!r->cfg->resume || !path || stat(path, &st) != 0)
        return LT_OK;
    lt_st_file *f = NULL;
    if (lt_st_load(path, &f) != LT_OK)
        return lt_last_status();
    const char *step = lt_st_meta(f, META_STEP);
    char *end = NULL;
    long long k = step ? strtoll(step, &end, 10) : -1;
    lt_status s = same_config(r->m, f, path);
    if (s == LT_OK && (k < 0 || *end))
        s = lt_set_error(LT_ERR_FORMAT, "%s: metadata '%s' is missing or not "
                         "a step count", path, META_STEP);
    if (s == LT_OK)
        s = lt_clip_read_weights(r->m, f, path);
    if (s == LT_OK)
        s = read_moments(r, f, path);
    lt_st_free(f);
    r->step = r->decay.step = r->rest.step = s == LT_OK ? k : 0;
    return s;
}

/* ---- one step ------------------------------------------------------------------ */

static lt_status fetch_batch(clip_run *r)
{
    int64_t B = r->cfg->batch;
    int L = r->m->cfg.context_length;
    for (int64_t i = 0; i < B; i++)
        r->captions[i] = NULL;
    lt_clip_batch b = {r->images, r->ids, r->captions, false};
    lt_status s = r->cfg->batch_fn(r->cfg->batch_ud, r->step, r->cfg->seed, B,
                                   &b);
    if (s != LT_OK)
        return lt_set_error(s, "clip_pretrain: batch %lld: %s",
                            (long long)r->step, lt_last_error());
    if (!b.have_ids) {
        if (!r->v)
            return lt_set_error(LT_ERR_ARG, "clip_pretrain: the batch gave "
                                "captions but no vocabulary was passed");
        if (lt_clip_tokenize_batch(r->v, r->captions, B, L, r->ids, NULL) !=
            LT_OK)
            return lt_set_error(lt_last_status(), "clip_pretrain: batch %lld, "
                                "%s", (long long)r->step, lt_last_error());
    }
    return lt_clip_eos_positions(r->ids, B, L, r->eos);
}

/* The text and image embeddings [hi - lo, P] of pairs [lo, hi) of the
 * batch, in a fresh arena (recorded when gradients are on). */
static lt_status embed_rows(clip_run *r, int64_t lo, int64_t hi,
                            lt_tensor **t, lt_tensor **v)
{
    lt_clip *m = r->m;
    const lt_clip_train_cfg *cfg = r->cfg;
    int64_t L = m->cfg.context_length, n = hi - lo;
    int64_t img = 3 * (int64_t)cfg->image_h * cfg->image_w;
    lt_ctx_reset(r->c);
    lt_tensor *x = lt_from_data(r->c, 4, (int64_t[]){n, 3, cfg->image_h,
                                                     cfg->image_w},
                                r->images + lo * img);
    *t = lt_clip_text_project(r->c, m,
                              lt_clip_text_encode(r->c, m, r->ids + lo * L,
                                                  n),
                              r->eos + lo);
    *v = lt_clip_image_embeds(r->c, m, x);
    return *t && *v ? LT_OK : lt_last_status();
}

/* The loss of the whole batch's embeddings T, V [B, P] (gathered): its
 * value and retrieval into ev, its gradients with respect to T, V and the
 * log logit scale into gt, gv, *gs. */
static lt_status gathered_loss(clip_run *r, const float *T, const float *V,
                               float *gt, float *gv, float *gs,
                               lt_clip_event *ev)
{
    lt_clip *m = r->m;
    int64_t B = r->cfg->batch, P = m->cfg.embed_dim;
    lt_ctx *c = lt_ctx_new((size_t)(64 * B * (B + P)) * sizeof(float) +
                           ((size_t)1 << 20));
    if (!c)
        return lt_set_error(LT_ERR_NOMEM, "clip_pretrain: loss arena");
    const int64_t sh[2] = {B, P};
    lt_tensor *t = lt_requires_grad(lt_from_data(c, 2, sh, T));
    lt_tensor *v = lt_requires_grad(lt_from_data(c, 2, sh, V));
    lt_tensor *s = lt_requires_grad(lt_from_data(c, 1, (int64_t[]){1},
                                                 m->logit_scale->data));
    lt_tensor *logits = NULL;
    lt_tensor *loss = lt_clip_loss_scaled(c, t, v, s, &logits);
    lt_status st = loss ? lt_backward(c, loss) : lt_last_status();
    if (st == LT_OK) {
        memcpy(gt, t->grad, (size_t)(B * P) * sizeof *gt);
        memcpy(gv, v->grad, (size_t)(B * P) * sizeof *gv);
        *gs = s->grad[0];
        ev->loss = loss->data[0];
        lt_clip_retrieval_acc(logits->data, r->ids, B, m->cfg.context_length,
                              &ev->t2i, &ev->i2t);
    }
    lt_ctx_free(c);
    return st;
}

/* A shard's text and image embeddings (unrecorded) for lt_dp_gather:
 * rows * P text floats, then rows * P image floats. */
static lt_status fill_embeds(void *ud, int shard, float *out)
{
    clip_run *r = ud;
    int64_t B = r->cfg->batch, P = r->m->cfg.embed_dim, lo, hi;
    int first, S = lt_dp_local(r->dp, &first) * lt_dist_size();
    int64_t rows = (B + S - 1) / S;
    lt_dp_range(r->dp, shard, B, &lo, &hi);
    if (hi == lo)
        return LT_OK;
    lt_tensor *t, *v;
    bool was = lt_set_grad_enabled(r->c, false);
    lt_status st = embed_rows(r, lo, hi, &t, &v);
    lt_set_grad_enabled(r->c, was);
    if (st == LT_OK) {
        memcpy(out, t->data, (size_t)t->numel * sizeof(float));
        memcpy(out + rows * P, v->data, (size_t)v->numel * sizeof(float));
    }
    return st;
}

/* Every shard's embeddings, gathered to every rank into T and V [B, P] in
 * batch order. */
static lt_status gather_embeds(clip_run *r, float *T, float *V)
{
    int first, S = lt_dp_local(r->dp, &first) * lt_dist_size();
    int64_t B = r->cfg->batch, P = r->m->cfg.embed_dim;
    int64_t rows = (B + S - 1) / S, slot = 2 * rows * P, lo, hi;
    float *all = malloc((size_t)(S * slot) * sizeof *all);
    lt_status st = all ? lt_dp_gather(r->dp, slot, fill_embeds, r, all)
                       : lt_set_error(LT_ERR_NOMEM, "clip_pretrain: "
                                      "embeddings");
    for (int q = 0; st == LT_OK && q < S; q++) {
        lt_dp_range(r->dp, q, B, &lo, &hi);
        memcpy(T + lo * P, all + q * slot, (size_t)((hi - lo) * P) *
               sizeof *T);
        memcpy(V + lo * P, all + q * slot + rows * P,
               (size_t)((hi - lo) * P) * sizeof *V);
    }
    free(all);
    return st;
}

/* Shard part's pairs [lo, hi) recorded again, with the loss <t, gt> +
 * <v, gv> (their rows of the batch loss's embedding gradient), plus, for
 * shard 0 alone, log_scale * gs: backward adds the shard's part of the
 * batch's gradient. */
static lt_status shard_backward(clip_run *r, int part, int64_t lo,
                                int64_t hi, const float *gt, const float *gv,
                                float gs)
{
    lt_tensor *t, *v;
    int64_t P = r->m->cfg.embed_dim;
    if (embed_rows(r, lo, hi, &t, &v) != LT_OK)
        return lt_last_status();
    lt_ctx *c = r->c;
    lt_tensor *a = lt_from_data(c, 2, t->shape, gt + lo * P);
    lt_tensor *b = lt_from_data(c, 2, v->shape, gv + lo * P);
    lt_tensor *l = lt_add(c, lt_sum_all(c, lt_mul(c, t, a)),
                          lt_sum_all(c, lt_mul(c, v, b)));
    if (part == 0 && l)
        l = lt_add(c, l, lt_mul(c, r->m->logit_scale,
                                lt_from_data(c, 1, (int64_t[]){1}, &gs)));
    return l ? lt_backward(c, l) : lt_last_status();
}

/* The batch's gradient on every rank, data parallel. */
static lt_status dp_backward(clip_run *r, lt_clip_event *ev)
{
    int64_t B = r->cfg->batch, P = r->m->cfg.embed_dim, lo, hi;
    float *buf = malloc((size_t)(4 * B * P) * sizeof *buf), gs = 0;
    if (!buf)
        return lt_set_error(LT_ERR_NOMEM, "clip_pretrain: embeddings");
    float *T = buf, *V = T + B * P, *gt = V + B * P, *gv = gt + B * P;
    lt_status st = gather_embeds(r, T, V);
    if (st == LT_OK)
        st = gathered_loss(r, T, V, gt, gv, &gs, ev);
    int first, count = lt_dp_local(r->dp, &first);
    lt_params *ps = &r->m->params;
    for (int j = 0; st == LT_OK && j < count; j++) {
        lt_dp_range(r->dp, first + j, B, &lo, &hi);
        lt_dp_shard_begin(r->dp, ps, j);
        if (hi > lo)
            st = shard_backward(r, first + j, lo, hi, gt, gv, gs);
        float vals[LT_DP_VALS] = {0};
        lt_dp_shard_end(r->dp, ps, j, 1.0f, 1.0f, vals);
    }
    float vals[LT_DP_VALS] = {0};
    if (st == LT_OK)
        st = lt_dp_reduce(r->dp, ps, vals);
    free(buf);
    return st;
}

/* Forward and backward of the whole batch in one process. */
static lt_status one_backward(clip_run *r, lt_clip_event *ev)
{
    lt_tensor *t, *v, *logits = NULL;
    if (embed_rows(r, 0, r->cfg->batch, &t, &v) != LT_OK)
        return lt_last_status();
    lt_tensor *loss = lt_clip_loss(r->c, r->m, t, v, &logits);
    if (!loss || lt_backward(r->c, loss) != LT_OK)
        return lt_last_status();
    ev->loss = loss->data[0];
    lt_clip_retrieval_acc(logits->data, r->ids, r->cfg->batch,
                          r->m->cfg.context_length, &ev->t2i, &ev->i2t);
    return LT_OK;
}

/* Forward, backward and the optimizer step; ev gets the numbers. */
static lt_status train_step(clip_run *r, lt_clip_event *ev)
{
    lt_clip *m = r->m;
    const lt_clip_train_cfg *cfg = r->cfg;
    lt_params_zero_grad(&m->params);
    if ((r->dp ? dp_backward(r, ev) : one_backward(r, ev)) != LT_OK)
        return lt_set_error(lt_last_status(), "clip_pretrain: step %lld: %s",
                            (long long)r->step + 1, lt_last_error());
    ev->grad_norm = cfg->clip > 0
        ? lt_clip_grad_norm(m->params.grad, m->params.n_train, cfg->clip)
        : lt_clip_grad_norm(m->params.grad, m->params.n_train, INFINITY);
    ev->lr = lt_schedule_lr(&r->sched, r->step);
    float *th = m->params.theta, *g = m->params.grad;
    int64_t nd = m->n_decay;
    if (lt_optim_step(&r->decay, th, g, NULL, (float)ev->lr) != LT_OK ||
        lt_optim_step(&r->rest, th + nd, g + nd, NULL, (float)ev->lr) != LT_OK)
        return lt_set_error(lt_last_status(), "clip_pretrain: step %lld: %s",
                            (long long)r->step + 1, lt_last_error());
    float *ls = m->logit_scale->data;
    ls[0] = ls[0] < 0.0f ? 0.0f : ls[0] > LOGIT_SCALE_MAX ? LOGIT_SCALE_MAX
                                                            : ls[0];
    ev->logit_scale = exp(ls[0]);
    return LT_OK;
}

/* ---- the loop ------------------------------------------------------------------ */

static void report_step(clip_run *r, const lt_clip_event *ev, int64_t tail0,
                        lt_clip_report *rep)
{
    if (rep->steps_run == 0)
        rep->first_loss = ev->loss;
    rep->steps_run++;
    rep->last_loss = ev->loss;
    if (r->step > tail0) {
        rep->mean_loss_tail += ev->loss;
        rep->t2i_tail += ev->t2i;
        rep->i2t_tail += ev->i2t;
    }
}

static lt_status run_loop(clip_run *r, lt_clip_report *rep)
{
    const lt_clip_train_cfg *cfg = r->cfg;
    double t0 = lt_clock_seconds();
    rep->start_step = r->step;
    int64_t todo = cfg->steps - r->step, n_tail = todo / 10 > 0 ? todo / 10 : 1;
    int64_t tail0 = cfg->steps - n_tail;
    while (r->step < cfg->steps) {
        lt_clip_event ev = {.steps = cfg->steps};
        if (fetch_batch(r) != LT_OK || train_step(r, &ev) != LT_OK)
            return lt_last_status();
        ev.step = ++r->step;
        ev.seconds = lt_clock_seconds() - t0;
        report_step(r, &ev, tail0, rep);
        if (cfg->progress)
            cfg->progress(cfg->ud, &ev);
        if (cfg->checkpoint &&
            (r->step % cfg->checkpoint_every == 0 || r->step == cfg->steps) &&
            save_checkpoint(r) != LT_OK)
            return lt_last_status();
    }
    int64_t k = rep->steps_run < n_tail ? rep->steps_run : n_tail;
    if (k > 0) {
        rep->mean_loss_tail /= (double)k;
        rep->t2i_tail /= (double)k;
        rep->i2t_tail /= (double)k;
    }
    rep->seconds = lt_clock_seconds() - t0;
    rep->seconds_per_step = rep->steps_run
        ? rep->seconds / (double)rep->steps_run : 0.0;
    rep->arena_peak = lt_ctx_peak(r->c);
    return LT_OK;
}

lt_status lt_clip_pretrain(lt_clip *m, const lt_clip_vocab *v,
                           const lt_clip_train_cfg *cfg, lt_clip_report *rep)
{
    if (check_cfg(m, cfg) != LT_OK)
        return lt_last_status();
    if (v && lt_clip_vocab_size(v) != m->cfg.vocab_size)
        return lt_set_error(LT_ERR_ARG, "clip_pretrain: the vocabulary has "
                            "%d tokens, the model's vocab_size is %d",
                            lt_clip_vocab_size(v), m->cfg.vocab_size);
    clip_run r;
    memset(&r, 0, sizeof r);
    r.m = m;
    r.v = v;
    r.cfg = cfg;
    lt_clip_report local;
    memset(&local, 0, sizeof local);
    lt_status s = run_init(&r);
    if (s == LT_OK)
        s = resume(&r);
    if (s == LT_OK)
        s = run_loop(&r, &local);
    run_free(&r);
    if (rep)
        *rep = local;
    return s;
}
