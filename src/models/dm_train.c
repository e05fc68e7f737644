/*
 * dm_train.c - training a diffusion UNet (lethe/diffusion.h): the
 * official epsilon loss under Adam with gradient clipping and an EMA of
 * the weights, resumable from a state file beside the output. Everything
 * random in step k (data order, timesteps, noise, null-class and layer
 * dropout, flips) is a function of (seed, k), so a run killed and resumed
 * computes what an uninterrupted run computes. Class models draw their
 * batches from an image array; text models from the caller's callback
 * (images and captions of step k), with the empty caption's context as
 * the dropped condition and an optional frozen CLIP encoding ids. With
 * cfg->dist set every rank draws the whole batch, computes its shards of
 * it and lt_dp (lethe/train.h, docs/mpi.md) sums their gradients, so
 * Adam and the EMA run on identical numbers on every rank; rank 0 alone
 * writes the files.
 */
#include "lethe/diffusion.h"
#include "lethe/data.h"
#include "lethe/optim.h"
#include "lethe/safetensors.h"
#include "lethe/train.h"
#include "dm_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DM_MAX_META 8 /* extra metadata pairs of lt_dm_train_config */

lt_dm_train_config lt_dm_train_defaults(void)
{
    return (lt_dm_train_config){.steps = 5000, .batch = 64, .lr = 2e-4f,
                                .clip = 1.0f, .ema = 0.999f,
                                .ckpt_every = 500, .seed = 1,
                                .hflip = false};
}

float lt_dm_ema_decay(float ema, int64_t step)
{
    float warm = (float)(1 + step) / (float)(10 + step);
    return ema < warm ? ema : warm;
}

void lt_dm_state_path(const char *out, char *buf, size_t n)
{
    snprintf(buf, n, "%s.state", out ? out : "");
}

typedef struct {
    lt_unet *u;
    const lt_dm_schedule *s;
    const float *x;               /* class models: the images and labels */
    const int32_t *y;
    int64_t n, per;
    const lt_dm_text_source *src; /* text models: where batches come from */
    const lt_dm_train_config *cfg;
    float *ema;
    lt_optim opt;
    int64_t step;
    int64_t *perm, perm_epoch;
    float *bx, *be;
    int32_t *by, *bt;
    float *bctx, *null_ctx;       /* text: [B, L, D] and [L, D] */
    int32_t *bids;                /* text: [B, L] */
    bool have_ids;
    lt_ctx *c;
    lt_dp *dp;                    /* data parallel (cfg->dist), else NULL */
    bool writer;                  /* writes the model and state files */
} trainer;

static void trainer_free(trainer *t)
{
    free(t->ema);
    lt_optim_free(&t->opt);
    free(t->perm);
    free(t->bx);
    free(t->be);
    free(t->by);
    free(t->bt);
    free(t->bctx);
    free(t->null_ctx);
    free(t->bids);
    lt_ctx_free(t->c);
    lt_dp_free(t->dp);
}

/* The text buffers, and the null context from the source (given, or
 * encoded by its CLIP). */
static lt_status text_init(trainer *t)
{
    int64_t b = t->cfg->batch, L = t->u->cfg.ctx_len, D = t->u->cfg.ctx_dim;
    t->bctx = malloc((size_t)(b * L * D) * sizeof *t->bctx);
    t->bids = calloc((size_t)(b * L), sizeof *t->bids);
    t->null_ctx = malloc((size_t)(L * D) * sizeof *t->null_ctx);
    if (!t->bctx || !t->bids || !t->null_ctx)
        return lt_set_error(LT_ERR_NOMEM, "dm train: out of memory");
    if (t->src->null_ctx) {
        memcpy(t->null_ctx, t->src->null_ctx,
               (size_t)(L * D) * sizeof *t->null_ctx);
        return LT_OK;
    }
    return lt_dm_empty_context(t->src->clip, t->null_ctx);
}

static size_t arena_bytes(const trainer *t)
{
    size_t b = lt_unet_arena_bytes(t->u, t->cfg->batch, true);
    if (t->src && t->src->clip)
        b += lt_clip_arena_bytes(&t->src->clip->cfg, t->cfg->batch, 1, 1,
                                 false);
    return b;
}

static lt_status trainer_init(trainer *t)
{
    const lt_dm_train_config *cfg = t->cfg;
    int64_t nt = t->u->params.n_total, b = cfg->batch;
    t->per = (int64_t)t->u->cfg.in_ch * t->u->cfg.res * t->u->cfg.res;
    t->ema = malloc((size_t)nt * sizeof *t->ema);
    t->perm = t->src ? NULL : malloc((size_t)t->n * sizeof *t->perm);
    t->bx = malloc((size_t)(b * t->per) * sizeof *t->bx);
    t->be = malloc((size_t)(b * t->per) * sizeof *t->be);
    t->by = malloc((size_t)b * sizeof *t->by);
    t->bt = malloc((size_t)b * sizeof *t->bt);
    t->c = lt_ctx_new(arena_bytes(t));
    t->perm_epoch = -1;
    lt_optim_config oc = lt_optim_defaults(LT_OPT_ADAM);
    oc.lr = cfg->lr;
    if (!t->ema || (!t->src && !t->perm) || !t->bx || !t->be || !t->by ||
        !t->bt || !t->c)
        return lt_set_error(LT_ERR_NOMEM, "dm train: out of memory");
    if (t->src && text_init(t) != LT_OK)
        return lt_last_status();
    memcpy(t->ema, t->u->params.theta, (size_t)nt * sizeof *t->ema);
    t->writer = cfg->dist == LT_DIST_OFF || lt_dist_rank() == 0;
    if (cfg->dist != LT_DIST_OFF &&
        (!(t->dp = lt_dp_new(&t->u->params, cfg->dist, cfg->shards, b)) ||
         (cfg->dp_overlap && lt_dp_enable_overlap(t->dp, 0) != LT_OK)))
        return lt_last_status();
    return lt_optim_init(&t->opt, &oc, t->u->params.n_train);
}

/* ---- state file ---------------------------------------------------------------- */

static lt_status save_state(trainer *t, const char *path)
{
    int64_t nt = t->u->params.n_total, ntr = t->u->params.n_train;
    lt_st_tensor ts[4] = {
        {.name = "adam.m", .ndim = 1, .shape = {ntr}, .data = t->opt.m},
        {.name = "adam.v", .ndim = 1, .shape = {ntr}, .data = t->opt.v},
        {.name = "ema", .ndim = 1, .shape = {nt}, .data = t->ema},
        {.name = "theta", .ndim = 1, .shape = {nt},
         .data = t->u->params.theta}};
    char step[32], astep[32], batch[32], seed[32], lr[32];
    snprintf(step, sizeof step, "%lld", (long long)t->step);
    snprintf(astep, sizeof astep, "%lld", (long long)t->opt.step);
    snprintf(batch, sizeof batch, "%d", t->cfg->batch);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)t->cfg->seed);
    snprintf(lr, sizeof lr, "%.9g", (double)t->cfg->lr);
    const char *meta[] = {"lethe.dm.arch", t->u->arch,
                          "lethe.dm.schedule", t->s->name,
                          "step", step, "adam_step", astep, "batch", batch,
                          "seed", seed, "lr", lr};
    return lt_st_save(path, ts, 4, meta, 7);
}

static lt_status check_meta(const lt_st_file *f, const char *path,
                            const char *key, const char *want)
{
    const char *got = lt_st_meta(f, key);
    if (!got || strcmp(got, want))
        return lt_set_error(LT_ERR_ARG, "%s: cannot resume: its %s is '%s', "
                            "this run's is '%s'", path, key,
                            got ? got : "(missing)", want);
    return LT_OK;
}

static lt_status read_vec(const lt_st_file *f, const char *path,
                          const char *name, float *dst, int64_t n)
{
    lt_tensor v;
    lt_tensor_wrap(&v, dst, NULL, 1, (int64_t[]){n});
    if (lt_st_read_into(f, name, &v) != LT_OK)
        return lt_set_error(LT_ERR_FORMAT, "%s: %s", path, lt_last_error());
    return LT_OK;
}

static lt_status load_state(trainer *t, const char *path)
{
    lt_st_file *f = NULL;
    if (lt_st_load(path, &f) != LT_OK)
        return lt_last_status();
    char batch[32], seed[32], lr[32];
    snprintf(batch, sizeof batch, "%d", t->cfg->batch);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)t->cfg->seed);
    snprintf(lr, sizeof lr, "%.9g", (double)t->cfg->lr);
    int64_t nt = t->u->params.n_total, ntr = t->u->params.n_train;
    lt_status s = check_meta(f, path, "lethe.dm.arch", t->u->arch);
    if (s == LT_OK)
        s = check_meta(f, path, "lethe.dm.schedule", t->s->name);
    if (s == LT_OK)
        s = check_meta(f, path, "batch", batch);
    if (s == LT_OK)
        s = check_meta(f, path, "seed", seed);
    if (s == LT_OK)
        s = check_meta(f, path, "lr", lr);
    const char *step = lt_st_meta(f, "step"), *astep = lt_st_meta(f,
                                                                  "adam_step");
    if (s == LT_OK && (!step || !astep))
        s = lt_set_error(LT_ERR_FORMAT, "%s: no step in the metadata", path);
    if (s == LT_OK)
        s = read_vec(f, path, "theta", t->u->params.theta, nt);
    if (s == LT_OK)
        s = read_vec(f, path, "ema", t->ema, nt);
    if (s == LT_OK)
        s = read_vec(f, path, "adam.m", t->opt.m, ntr);
    if (s == LT_OK)
        s = read_vec(f, path, "adam.v", t->opt.v, ntr);
    if (s == LT_OK) {
        t->step = strtoll(step, NULL, 10);
        t->opt.step = strtoll(astep, NULL, 10);
        if (t->step < 0 || t->opt.step < 0)
            s = lt_set_error(LT_ERR_FORMAT, "%s: negative step", path);
    }
    lt_st_free(f);
    return s;
}

static lt_status save_all(trainer *t, const char *out, const char *state)
{
    if (!t->writer) /* data parallel: rank 0 writes what every rank holds */
        return LT_OK;
    char step[32];
    snprintf(step, sizeof step, "%lld", (long long)t->step);
    const char *meta[2 * (2 + DM_MAX_META)] = {"lethe.dm.steps", step,
                                               "lethe.dm.weights", "ema"};
    int n = t->cfg->meta ? t->cfg->n_meta : 0;
    for (int i = 0; i < 2 * n; i++)
        meta[4 + i] = t->cfg->meta[i];
    if (save_state(t, state) != LT_OK)
        return lt_last_status();
    return lt_unet_save_theta(t->u, t->ema, out, t->s, meta, 2 + n);
}

/* ---- one step --------------------------------------------------------------------- */

/* The item of global draw position k (epoch-wise seeded permutations). */
static int64_t data_index(trainer *t, int64_t k)
{
    int64_t epoch = k / t->n;
    if (epoch != t->perm_epoch) {
        lt_permutation(t->perm, t->n, lt_hash3(t->cfg->seed, 11,
                                               (uint64_t)epoch));
        t->perm_epoch = epoch;
    }
    return t->perm[k % t->n];
}

/* Mirror every row of the image img (per floats, rows of R) when the
 * draw says so (hflip on). */
static void maybe_flip(trainer *t, lt_rng *r, float *img)
{
    if (!t->cfg->hflip || !(lt_rng_uniform(r) < 0.5f))
        return;
    int R = t->u->cfg.res;
    for (int64_t row = 0; row < t->per; row += R)
        for (int a = 0, b = R - 1; a < b; a++, b--) {
            float v = img[row + a];
            img[row + a] = img[row + b];
            img[row + b] = v;
        }
}

/* Class models: images from the array, labels or -1 (null class). */
static lt_status class_batch(trainer *t, lt_rng *r)
{
    int b = t->cfg->batch;
    for (int i = 0; i < b; i++) {
        int64_t j = data_index(t, t->step * b + i);
        float *dst = t->bx + i * t->per;
        memcpy(dst, t->x + j * t->per, (size_t)t->per * sizeof *dst);
        maybe_flip(t, r, dst);
        t->by[i] = lt_rng_uniform(r) < t->u->cfg.cond_drop ? -1 : t->y[j];
    }
    return LT_OK;
}

/* Text models: the callback's batch; by[i] = -1 marks an empty caption. */
static lt_status text_batch(trainer *t, lt_rng *r)
{
    int b = t->cfg->batch;
    lt_dm_text_batch tb = {.x0 = t->bx, .ctx = t->bctx, .ids = t->bids};
    lt_status cs = t->src->batch(t->src->ud, t->step, t->cfg->seed, b, &tb);
    if (cs != LT_OK)
        return lt_set_error(cs, "dm train step %lld: batch: %s",
                            (long long)t->step + 1, lt_last_error());
    if (tb.have_ids && !t->src->clip)
        return lt_set_error(LT_ERR_ARG, "dm train step %lld: the batch gave "
                            "caption ids but the source has no CLIP to "
                            "encode them", (long long)t->step + 1);
    t->have_ids = tb.have_ids;
    for (int i = 0; i < b; i++) {
        maybe_flip(t, r, t->bx + i * t->per);
        t->by[i] = lt_rng_uniform(r) < t->u->cfg.cond_drop ? -1 : 0;
    }
    return LT_OK;
}

static lt_status make_batch(trainer *t, lt_rng *r)
{
    lt_status st = t->src ? text_batch(t, r) : class_batch(t, r);
    if (st != LT_OK)
        return st;
    lt_dm_timesteps(r, t->s->T, t->cfg->batch, t->bt);
    lt_rng_fill_normal(r, t->be, t->cfg->batch * t->per, 0, 1);
    return LT_OK;
}

/* The contexts of batch rows [lo, hi) in the step's arena (no tape): the
 * frozen CLIP's encoding of the ids or the callback's contexts, with the
 * empty caption's in the rows marked -1. */
static lt_tensor *batch_context(trainer *t, int64_t lo, int64_t hi)
{
    int64_t b = hi - lo, L = t->u->cfg.ctx_len, D = t->u->cfg.ctx_dim;
    bool was = lt_set_grad_enabled(t->c, false);
    lt_tensor *ctx =
        t->have_ids ? lt_clip_text_encode(t->c, t->src->clip,
                                          t->bids + lo * L, b)
                    : lt_from_data(t->c, 3, (int64_t[]){b, L, D},
                                   t->bctx + lo * L * D);
    lt_set_grad_enabled(t->c, was);
    for (int64_t i = 0; ctx && i < b; i++)
        if (t->by[lo + i] < 0)
            memcpy(ctx->data + i * L * D, t->null_ctx,
                   (size_t)(L * D) * sizeof(float));
    return ctx;
}

/* Forward and backward of the mean loss over batch rows [lo, hi), in a
 * fresh arena whose generator (dropout) is seeded by (seed, step, part);
 * part 0 is the whole batch of a single-process step. The loss into
 * *loss. */
static lt_status rows_backward(trainer *t, int64_t lo, int64_t hi, int part,
                               float *loss)
{
    lt_ctx_reset(t->c);
    uint64_t seed = lt_hash3(t->cfg->seed, 13, (uint64_t)t->step);
    lt_rng_init(lt_ctx_rng(t->c), part ? lt_hash3(seed, 14, (uint64_t)part)
                                       : seed);
    int64_t per = t->per, shape[4] = {hi - lo, t->u->cfg.in_ch,
                                      t->u->cfg.res, t->u->cfg.res};
    lt_tensor *x0 = lt_from_data(t->c, 4, shape, t->bx + lo * per);
    lt_tensor *e = lt_from_data(t->c, 4, shape, t->be + lo * per);
    lt_tensor *l =
        !x0 || !e ? NULL
        : !t->src ? lt_dm_loss(t->c, t->u, t->s, x0, e, t->bt + lo,
                               t->by + lo, true)
                  : lt_dm_loss_text(t->c, t->u, t->s, x0, e, t->bt + lo,
                                    batch_context(t, lo, hi), true);
    if (!l || lt_backward(t->c, l) != LT_OK)
        return lt_set_error(lt_last_status(), "dm train step %lld: %s",
                            (long long)t->step + 1, lt_last_error());
    *loss = l->data[0];
    return LT_OK;
}

/* The gradient of the batch mean from this rank's shards, summed over the
 * ranks (each shard's mean weighted by its share of the batch). */
static lt_status dp_backward(trainer *t, float *loss)
{
    int first, count = lt_dp_local(t->dp, &first);
    for (int j = 0; j < count; j++) {
        int64_t lo, hi;
        float l = 0;
        lt_dp_range(t->dp, first + j, t->cfg->batch, &lo, &hi);
        float w = (float)(hi - lo) / (float)t->cfg->batch;
        lt_dp_shard_begin(t->dp, &t->u->params, j);
        lt_dp_watch(t->dp, &t->u->params, t->c, w);
        if (hi > lo && rows_backward(t, lo, hi, first + j, &l) != LT_OK)
            return lt_last_status();
        float vals[LT_DP_VALS] = {l * w, 0};
        lt_dp_shard_end(t->dp, &t->u->params, j, w, w, vals);
    }
    float vals[LT_DP_VALS] = {0};
    if (lt_dp_reduce(t->dp, &t->u->params, vals) != LT_OK)
        return lt_last_status();
    *loss = vals[0];
    return LT_OK;
}

static lt_status train_step(trainer *t, float *loss_out, double *norm_out)
{
    lt_rng r;
    lt_rng_init(&r, lt_hash3(t->cfg->seed, 12, (uint64_t)t->step));
    if (make_batch(t, &r) != LT_OK)
        return lt_last_status();
    lt_params_zero_grad(&t->u->params);
    float lv = 0;
    lt_status bs = t->dp ? dp_backward(t, &lv)
                         : rows_backward(t, 0, t->cfg->batch, 0, &lv);
    if (bs != LT_OK)
        return bs;
    float *g = t->u->params.grad;
    int64_t ntr = t->u->params.n_train;
    double norm = lt_clip_grad_norm(g, ntr, t->cfg->clip > 0 ? t->cfg->clip
                                                             : INFINITY);
    if (!isfinite(norm) || !isfinite(lv))
        return lt_set_error(LT_ERR_NAN, "dm train step %lld: loss %g, "
                            "gradient norm %g: stopped (nothing of this step "
                            "is saved)", (long long)t->step + 1, (double)lv,
                            norm);
    if (lt_optim_step(&t->opt, t->u->params.theta, g, NULL, t->cfg->lr) !=
        LT_OK)
        return lt_last_status();
    float mu = lt_dm_ema_decay(t->cfg->ema, t->step), *th = t->u->params.theta;
    for (int64_t i = 0; i < ntr; i++)
        t->ema[i] = (1 - mu) * th[i] + mu * t->ema[i];
    t->step++;
    *loss_out = lv;
    *norm_out = norm;
    return LT_OK;
}

/* ---- the loop -------------------------------------------------------------------------- */

/* The checks both families share. */
static lt_status check_common(const lt_unet *u, const lt_dm_schedule *s,
                              const lt_dm_train_config *cfg, const char *out)
{
    if (!u || !s || !cfg || !out)
        return lt_set_error(LT_ERR_ARG, "dm train: NULL argument");
    if (cfg->batch < 1 || cfg->batch > 4096 || cfg->steps < 1 ||
        cfg->ckpt_every < 1)
        return lt_set_error(LT_ERR_ARG, "dm train: need batch in [1, 4096], "
                            "steps >= 1 and ckpt_every >= 1 (got %d, %lld, "
                            "%lld)", cfg->batch, (long long)cfg->steps,
                            (long long)cfg->ckpt_every);
    if (!(cfg->lr > 0) || !isfinite(cfg->lr) || !(cfg->ema >= 0) ||
        !(cfg->ema < 1))
        return lt_set_error(LT_ERR_ARG, "dm train: lr %g must be > 0 and ema "
                            "%g in [0, 1)", (double)cfg->lr, (double)cfg->ema);
    if (cfg->meta && (cfg->n_meta < 0 || cfg->n_meta > DM_MAX_META))
        return lt_set_error(LT_ERR_ARG, "dm train: %d metadata pairs (at "
                            "most %d)", cfg->n_meta, DM_MAX_META);
    return LT_OK;
}

static lt_status check_args(const lt_unet *u, const lt_dm_schedule *s,
                            const float *x, const int32_t *y, int64_t n,
                            const lt_dm_train_config *cfg, const char *out)
{
    if (check_common(u, s, cfg, out) != LT_OK)
        return lt_last_status();
    if (u->cfg.kind != LT_UNET_CLASS)
        return lt_set_error(LT_ERR_ARG, "dm train: unet %s is text-"
                            "conditioned: train it with lt_dm_train_text",
                            u->arch);
    if (!x || !y || n < 1)
        return lt_set_error(LT_ERR_ARG, "dm train: need images, labels and "
                            "n >= 1 (got n = %lld)", (long long)n);
    for (int64_t i = 0; i < n; i++)
        if (y[i] < 0 || y[i] >= u->cfg.classes)
            return lt_set_error(LT_ERR_ARG, "dm train: label %d of item %lld "
                                "outside [0, %d)", y[i], (long long)i,
                                u->cfg.classes);
    return LT_OK;
}

static lt_status check_text_args(const lt_unet *u, const lt_dm_schedule *s,
                                 const lt_dm_text_source *src,
                                 const lt_dm_train_config *cfg,
                                 const char *out)
{
    if (check_common(u, s, cfg, out) != LT_OK)
        return lt_last_status();
    if (u->cfg.kind != LT_UNET_TEXT)
        return lt_set_error(LT_ERR_ARG, "dm train: unet %s is class-"
                            "conditional: train it with lt_dm_train", u->arch);
    if (!src || !src->batch || (!src->clip && !src->null_ctx))
        return lt_set_error(LT_ERR_ARG, "dm train: the text source needs a "
                            "batch callback and a CLIP or a null_ctx");
    const lt_clip_config *cc = src->clip ? &src->clip->cfg : NULL;
    if (cc && (cc->width != u->cfg.ctx_dim ||
               cc->context_length != u->cfg.ctx_len))
        return lt_set_error(LT_ERR_SHAPE, "dm train: the CLIP's context is "
                            "%d x %d, unet %s takes ctx_len %d x ctx_dim %d",
                            cc->context_length, cc->width, u->arch,
                            u->cfg.ctx_len, u->cfg.ctx_dim);
    return LT_OK;
}

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* The loop of both families, from a trainer holding its data source. */
static lt_status run_steps(trainer *t, const char *out, bool resume,
                           lt_dm_train_fn cb, void *ud)
{
    const lt_dm_train_config *cfg = t->cfg;
    char state[4096];
    lt_dm_state_path(out, state, sizeof state);
    lt_status st = trainer_init(t);
    if (st == LT_OK && resume && file_exists(state))
        st = load_state(t, state);
    int64_t from = t->step;
    double t0 = lt_clock_seconds();
    while (st == LT_OK && t->step < cfg->steps) {
        lt_dm_train_event ev = {.steps = cfg->steps, .resumed_from = from};
        st = train_step(t, &ev.loss, &ev.grad_norm);
        if (st != LT_OK)
            break;
        ev.step = t->step;
        ev.saved = t->step % cfg->ckpt_every == 0 || t->step == cfg->steps;
        if (ev.saved)
            st = save_all(t, out, state);
        ev.seconds = lt_clock_seconds() - t0;
        if (st == LT_OK && cb)
            cb(&ev, ud);
    }
    if (st == LT_OK && from >= cfg->steps && !file_exists(out))
        st = save_all(t, out, state);
    if (st == LT_OK) /* leave u holding the EMA weights, as saved */
        memcpy(t->u->params.theta, t->ema,
               (size_t)t->u->params.n_total * sizeof *t->ema);
    trainer_free(t);
    return st;
}

/* The run in the precision its config asks for (core.h). */
static lt_status run(trainer *t, const char *out, bool resume,
                     lt_dm_train_fn cb, void *ud)
{
    lt_precision old = lt_precision_enter(t->cfg->precision);
    lt_status st = run_steps(t, out, resume, cb, ud);
    lt_set_default_precision(old);
    return st;
}

lt_status lt_dm_train(lt_unet *u, const lt_dm_schedule *s, const float *x,
                      const int32_t *y, int64_t n,
                      const lt_dm_train_config *cfg, const char *out,
                      bool resume, lt_dm_train_fn cb, void *ud)
{
    if (check_args(u, s, x, y, n, cfg, out) != LT_OK)
        return lt_last_status();
    trainer t = {.u = u, .s = s, .x = x, .y = y, .n = n, .cfg = cfg};
    return run(&t, out, resume, cb, ud);
}

lt_status lt_dm_train_text(lt_unet *u, const lt_dm_schedule *s,
                           const lt_dm_text_source *src,
                           const lt_dm_train_config *cfg, const char *out,
                           bool resume, lt_dm_train_fn cb, void *ud)
{
    if (check_text_args(u, s, src, cfg, out) != LT_OK)
        return lt_last_status();
    trainer t = {.u = u, .s = s, .src = src, .cfg = cfg};
    return run(&t, out, resume, cb, ud);
}
