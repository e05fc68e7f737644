/*
 * canvas.c - UnlearnCanvas on FashionCanvas (lt_bench_canvas,
 * lethe/bench_canvas.h): per target and method, unlearn a copy of the
 * text UNet, draw the answer set of every style x object prompt, judge it
 * with the fixed style and object classifiers, and report UA / IRA / CRA
 * (lt_canvas_scores_of), FD in each classifier's features with its floor,
 * time, peak memory and storage. The quick setting trains its own tiny
 * base on a generated canvas in the cache, as bench dm's does. Under
 * mpirun the rows are spread over the ranks and every finished row is
 * kept in CACHE/runs (--resume skips it): bench_dist.h, docs/mpi.md.
 * The unlearning methods are canvas_unlearn.c's; the types both share
 * are canvas_bench.h's.
 */
#include "lethe/bench_canvas.h"
#include "lethe/canvas_metrics.h"
#include "lethe/dm_canvas.h"
#include "lethe/dm_canvas_unlearn.h"
#include "lethe/image_metrics.h"
#include "lethe/io.h"
#include "lethe/png.h"

#include "bench_dist.h"
#include "bench_util.h"
#include "canvas_bench.h"
#include "lethe/dist.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

lt_bench_canvas_cfg lt_bench_canvas_defaults(void)
{
    lt_bench_canvas_cfg c = {
        .base_arch = "text:xs", .base_steps = 200,
        .quick_encoder = "models/fashion-canvas-clip-tiny-v1.safetensors",
        .quick_per_class = 3, .style_classifier = LT_CANVAS_EVAL_STYLE,
        .object_classifier = LT_CANVAS_EVAL_OBJECT, .targets = "subset",
        .subset_styles = 6, .subset_objects = 4, .subset_seed = 1,
        .methods = "original,esd-x,esd-u,fmn,salun", .seeds = 5, .runs = 1,
        .esd = lt_esd_defaults(), .fmn = lt_fmn_defaults(),
        .ti = lt_fmn_ti_defaults(),
        .salun = lt_salun_text_defaults(), .salun_per_pair = 3,
        .sample = lt_dm_sample_defaults_text(), .eval_seed = 1};
    c.sample.w = 9.0f; /* UnlearnCanvas' cfg 9, SD convention */
    return c;
}

void lt_bench_canvas_quick(lt_bench_canvas_cfg *c)
{
    c->model = NULL;
    c->canvas = NULL;
    c->base_arch = "text:xs,ch=8,groups=4,blocks=1";
    c->base_steps = 30;
    c->quick_per_class = 1;
    c->targets = "style:neon,object:bag";
    c->methods = "original,esd-x,fmn,salun";
    c->seeds = 1;
    c->esd.steps = 2;
    c->esd.ddim_steps = 2;
    c->fmn.steps = 2;
    c->ti.steps = 2;
    c->salun.epochs = 1;
    c->salun_per_pair = 1;
    c->sample.steps = 2;
}

/* ---- methods and targets ------------------------------------------------------- */

static lt_status cv_method_parse(const char *spec, cv_method *m)
{
    char base[LT_TABLE_TEXT];
    snprintf(m->name, sizeof m->name, "%s", spec);
    snprintf(base, sizeof base, "%s", spec);
    char *plus = strchr(base, '+');
    if (plus)
        *plus++ = 0;
    m->params = LT_ESD_X;
    if (!strcmp(base, "original"))
        m->kind = CV_ORIGINAL;
    else if (!strcmp(base, "fmn"))
        m->kind = CV_FMN;
    else if (!strcmp(base, "salun"))
        m->kind = CV_SALUN;
    else if (!strcmp(base, "esd-x") || !strcmp(base, "esd-u"))
        m->kind = CV_ESD, m->params = base[4] == 'x' ? LT_ESD_X : LT_ESD_U;
    else
        return lt_set_error(LT_ERR_ARG, "bench canvas: method '%s': "
                            "unknown (known: original, esd-x, esd-u, fmn, "
                            "salun, each with +saliency or +none)", spec);
    m->mask = m->kind == CV_SALUN ? CV_MASK_SALIENCY : CV_MASK_NONE;
    if (plus && m->kind == CV_ORIGINAL)
        return lt_set_error(LT_ERR_ARG, "bench canvas: method '%s': the "
                            "original takes no mask", spec);
    if (plus && !strcmp(plus, "saliency"))
        m->mask = CV_MASK_SALIENCY;
    else if (plus && !strcmp(plus, "none"))
        m->mask = CV_MASK_NONE;
    else if (plus)
        return lt_set_error(LT_ERR_ARG, "bench canvas: method '%s': mask "
                            "'%s' unknown (saliency, none)", spec, plus);
    return LT_OK;
}

/* A seeded draw of k of the n classes from first on, into t. */
static int cv_draw(int first, int n, int k, bool is_style, uint64_t seed,
                   cv_target *t)
{
    int64_t perm[NS];
    lt_permutation(perm, n - first, seed);
    k = k < n - first ? k : n - first;
    for (int i = 0; i < k; i++)
        t[i] = (cv_target){is_style, first + (int)perm[i]};
    return k;
}

static lt_status cv_targets(const lt_bench_canvas_cfg *c, cv_target *t,
                            int *n)
{
    *n = 0;
    if (!c->targets || !*c->targets)
        return lt_set_error(LT_ERR_ARG, "bench canvas: no target (a comma "
                            "list of style:NAME / object:NAME, all or "
                            "subset)");
    if (!strcmp(c->targets, "all") || !strcmp(c->targets, "subset")) {
        bool all = c->targets[0] == 'a';
        *n = cv_draw(1, NS, all ? NS : c->subset_styles, true,
                     c->subset_seed, t);
        *n += cv_draw(0, NO, all ? NO : c->subset_objects, false,
                      c->subset_seed + 1, t + *n);
        return *n > 0 ? LT_OK
                      : lt_set_error(LT_ERR_ARG, "bench canvas: the subset "
                                     "is empty");
    }
    char buf[LT_TABLE_TEXT];
    for (int i = 0; lt_list_item(c->targets, i, buf, sizeof buf); i++) {
        if (*n == CV_MAX_TARGETS)
            return lt_set_error(LT_ERR_ARG, "bench canvas: more than %d "
                                "targets", CV_MAX_TARGETS);
        if (lt_canvas_target_parse(buf, &t[*n].is_style, &t[*n].index) !=
            LT_OK)
            return lt_set_error(LT_ERR_ARG, "bench canvas: %s",
                                lt_last_error());
        (*n)++;
    }
    return *n > 0 ? LT_OK
                  : lt_set_error(LT_ERR_ARG, "bench canvas: no target in "
                                 "'%s'", c->targets);
}

lt_status lt_bench_canvas_check(const lt_bench_canvas_cfg *c)
{
    if (!c || !c->style_classifier || !c->object_classifier || !c->methods)
        return lt_set_error(LT_ERR_ARG, "bench canvas: classifiers and "
                            "methods are required");
    if ((!c->model || !c->canvas) && !c->cache)
        return lt_set_error(LT_ERR_ARG, "bench canvas: without --model and "
                            "--data a cache folder is needed (the quick "
                            "base and canvas go there)");
    if (!c->model && (!c->base_arch || !c->quick_encoder ||
                      c->base_steps < 1))
        return lt_set_error(LT_ERR_ARG, "bench canvas: a quick base needs "
                            "an arch, an encoder and steps >= 1");
    if (c->runs < 1 || c->runs > LT_TABLE_MAX_SEEDS)
        return lt_set_error(LT_ERR_ARG, "bench canvas: runs %d outside [1, "
                            "%d]", c->runs, LT_TABLE_MAX_SEEDS);
    if (c->seeds < 1 || c->seeds > LT_TABLE_MAX_SEEDS ||
        c->salun_per_pair < 1 || c->quick_per_class < 1 ||
        c->subset_styles < 0 || c->subset_objects < 0)
        return lt_set_error(LT_ERR_ARG, "bench canvas: need seeds in [1, "
                            "%d], per-pair and per-class counts >= 1 (got "
                            "%d, %d, %d)", LT_TABLE_MAX_SEEDS, c->seeds,
                            c->salun_per_pair, c->quick_per_class);
    if (c->resume && !c->cache)
        return lt_set_error(LT_ERR_ARG, "bench canvas: --resume needs "
                            "--cache (the rows are kept in CACHE/runs)");
    if (c->grid_dir && !lt_bench_exists(c->grid_dir))
        return lt_set_error(LT_ERR_ARG, "bench canvas: grid folder %s does "
                            "not exist", c->grid_dir);
    cv_target t[CV_MAX_TARGETS];
    int n = 0;
    if (cv_targets(c, t, &n) != LT_OK)
        return lt_last_status();
    char buf[LT_TABLE_TEXT];
    int k = 0;
    for (; lt_list_item(c->methods, k, buf, sizeof buf); k++) {
        cv_method m;
        if (cv_method_parse(buf, &m) != LT_OK)
            return lt_last_status();
        if (m.kind == CV_ESD && !lt_esd_variant_has(c->esd.variant, m.params))
            return lt_set_error(LT_ERR_ARG, "bench canvas: method '%s': the "
                                "%s ESD variant has no such parameter set",
                                buf, lt_esd_variant_name(c->esd.variant));
    }
    if (c->n_unlearned < 0 || c->n_unlearned > LT_BENCH_ASR_MAX_MODELS)
        return lt_set_error(LT_ERR_ARG, "bench canvas: %d unlearned models "
                            "(at most %d)", c->n_unlearned,
                            LT_BENCH_ASR_MAX_MODELS);
    for (int i = 0; i < c->n_unlearned; i++)
        if (cvb_file_check(&c->unlearned[i]) != LT_OK)
            return lt_last_status();
    return k + c->n_unlearned > 0
               ? LT_OK
               : lt_set_error(LT_ERR_ARG, "bench canvas: no method");
}

/* ---- the run's state ------------------------------------------------------------- */

static void cvb_free(cvb *d)
{
    lt_unet_free(d->u0);
    lt_dm_schedule_free(&d->s);
    lt_clip_free(d->clip);
    lt_clip_vocab_free(d->v);
    lt_canvas_free(&d->tr);
    lt_canvas_free(&d->te);
    free(d->ctx);
    free(d->null_ctx);
    free(d->x);
    free(d->sty);
    free(d->obj);
    for (int j = 0; j < 2; j++) {
        lt_image_classifier_free(&d->ic[j]);
        free(d->probs[j]);
        free(d->feats[j]);
        free(d->pred[j]);
        lt_fd_stats_free(&d->real[j]);
    }
}

/* The quick canvas: generated into the cache once. */
static lt_status cvb_canvas(cvb *d)
{
    const lt_bench_canvas_cfg *c = d->c;
    if (c->canvas) {
        snprintf(d->canvas, sizeof d->canvas, "%s",
                 !strncmp(c->canvas, "canvas:", 7) ? c->canvas + 7
                                                   : c->canvas);
        return LT_OK;
    }
    lt_canvas_config g = lt_canvas_defaults();
    g.per_class = g.test_per_class = c->quick_per_class;
    snprintf(d->canvas, sizeof d->canvas, "%s/canvas-q%d", c->cache,
             c->quick_per_class);
    char idx[1200];
    snprintf(idx, sizeof idx, "%s/index.json", d->canvas);
    if (lt_bench_exists(idx))
        return LT_OK;
    lt_bench_note(c->progress, c->ud, "bench canvas: generating a canvas of "
                  "%d picture(s) per class -> %s", c->quick_per_class,
                  d->canvas);
    return lt_canvas_generate(&g, d->canvas, NULL, NULL);
}

static void cvb_train_note(const lt_dm_train_event *e, void *ud)
{
    const cvb *d = ud;
    if (e->step == e->steps || e->step % 50 == 0)
        lt_bench_note(d->c->progress, d->c->ud, "  dm train %lld/%lld loss "
                      "%.2f", (long long)e->step, (long long)e->steps,
                      (double)e->loss);
}

/* The base: the given model, or a quick one trained into the cache. */
static lt_status cvb_base(cvb *d)
{
    const lt_bench_canvas_cfg *c = d->c;
    if (c->model) {
        snprintf(d->base, sizeof d->base, "%s", c->model);
        snprintf(d->enc, sizeof d->enc, "%s", c->encoder ? c->encoder : "");
        if (!c->encoder)
            snprintf(d->enc, sizeof d->enc, "%s.clip.safetensors", c->model);
        return LT_OK;
    }
    snprintf(d->enc, sizeof d->enc, "%s",
             c->encoder ? c->encoder : c->quick_encoder);
    uint64_t h = lt_bench_fnv(c->base_arch);
    h = lt_bench_fnv_bytes(h, &c->base_steps, sizeof c->base_steps);
    h = lt_bench_fnv_bytes(h, d->enc, strlen(d->enc));
    h = lt_bench_fnv_bytes(h, d->canvas, strlen(d->canvas));
    h = lt_bench_fnv_precision(h); /* a bf16 run's is its own */
    snprintf(d->base, sizeof d->base, "%s/canvas-base-%016llx.safetensors",
             c->cache, (unsigned long long)h);
    if (lt_bench_exists(d->base))
        return LT_OK;
    lt_unet *u = NULL;
    lt_dm_schedule s = {0};
    lt_status st = lt_unet_create(c->base_arch, &u);
    if (st == LT_OK)
        st = lt_dm_schedule_make("linear", 1000, &s);
    if (st == LT_OK) {
        lt_unet_init(u, 1);
        lt_dm_train_config tc = lt_dm_train_defaults();
        tc.steps = c->base_steps;
        tc.batch = 16;
        lt_bench_note(c->progress, c->ud, "bench canvas: training %s (%lld "
                      "steps of 16) -> %s", c->base_arch,
                      (long long)c->base_steps, d->base);
        st = lt_canvas_dm_train(u, &s, d->clip, d->v, &d->tr, &tc, d->base,
                                true, cvb_train_note, d);
    }
    lt_unet_free(u);
    lt_dm_schedule_free(&s);
    return st;
}


/* FD statistics of classifier j on the k-per-pair subset of cv. */
static lt_status real_stats(cvb *d, const lt_canvas *cv, int j, uint64_t seed,
                            lt_fd_stats *out)
{
    int k = d->c->seeds;
    int64_t m = (int64_t)NP * k;
    int64_t *idx = malloc((size_t)m * sizeof *idx);
    float *img = malloc((size_t)(m * PIX) * sizeof *img);
    lt_status st = idx && img ? lt_canvas_pair_subset(cv, k, seed, idx)
                              : lt_set_error(LT_ERR_NOMEM, "bench canvas: "
                                             "out of memory");
    for (int64_t i = 0; st == LT_OK && i < m; i++)
        memcpy(img + i * PIX, cv->x + idx[i] * PIX, PIX * sizeof *img);
    if (st == LT_OK)
        st = lt_fd_stats_of_images(&d->ic[j], img, m, LT_PIXELS_01, out);
    free(idx);
    free(img);
    return st;
}

/* Real test statistics and the floor (test vs train at the same N). */
static lt_status cvb_real(cvb *d)
{
    lt_status st = LT_OK;
    for (int j = 0; st == LT_OK && j < 2; j++) {
        lt_fd_stats tr = {0};
        st = real_stats(d, &d->te, j, d->c->eval_seed, &d->real[j]);
        if (st == LT_OK)
            st = real_stats(d, &d->tr, j, d->c->eval_seed + 1, &tr);
        if (st == LT_OK)
            st = lt_fd(&d->real[j], &tr, &d->floor[j]);
        lt_fd_stats_free(&tr);
    }
    return st;
}

lt_status cvb_contexts(const cvb *d, lt_clip *clip, const lt_clip_vocab *v,
                       float *ctx, float *null_ctx)
{
    int64_t LD = (int64_t)clip->cfg.context_length * clip->cfg.width;
    int64_t k = d->c->seeds;
    float *pc = malloc((size_t)(NP * LD) * sizeof *pc);
    char(*cap)[LT_CANVAS_CAPTION_MAX] = malloc(NP * sizeof *cap);
    const char **texts = malloc(NP * sizeof *texts);
    lt_status st = pc && cap && texts
                       ? LT_OK
                       : lt_set_error(LT_ERR_NOMEM, "bench canvas: out of "
                                      "memory");
    for (int p = 0; st == LT_OK && p < NP; p++) {
        st = lt_canvas_prompt(p % NO, p / NO, false, 0, 0, cap[p],
                              sizeof cap[p]);
        texts[p] = cap[p];
    }
    if (st == LT_OK)
        st = lt_canvas_contexts(clip, v, texts, NP, pc);
    if (st == LT_OK)
        st = lt_dm_empty_context(clip, null_ctx);
    for (int64_t i = 0; st == LT_OK && i < NP * k; i++)
        memcpy(ctx + i * LD, pc + (i / k) * LD, (size_t)LD * sizeof *pc);
    free(pc);
    free(cap);
    free(texts);
    return st;
}

/* The answer set's prompts (pair-major, seeds per pair), contexts and
 * verdict buffers. */
static lt_status cvb_prompts(cvb *d)
{
    int L = d->clip->cfg.context_length, D = d->clip->cfg.width;
    int64_t k = d->c->seeds;
    d->n = NP * k;
    d->ctx = malloc((size_t)(d->n * L * D) * sizeof *d->ctx);
    d->null_ctx = malloc((size_t)L * D * sizeof *d->null_ctx);
    d->sty = malloc((size_t)d->n * sizeof *d->sty);
    d->obj = malloc((size_t)d->n * sizeof *d->obj);
    d->x = malloc((size_t)(d->n * PIX) * sizeof *d->x);
    lt_status st = d->ctx && d->null_ctx && d->sty && d->obj && d->x
                       ? LT_OK
                       : lt_set_error(LT_ERR_NOMEM, "bench canvas: out of "
                                      "memory");
    if (st == LT_OK)
        st = cvb_contexts(d, d->clip, d->v, d->ctx, d->null_ctx);
    for (int64_t i = 0; st == LT_OK && i < d->n; i++) {
        int p = (int)(i / k);
        d->sty[i] = p / NO;
        d->obj[i] = p % NO;
    }
    for (int j = 0; st == LT_OK && j < 2; j++) {
        int64_t K = d->ic[j].model->in.classes;
        d->probs[j] = malloc((size_t)(d->n * K) * sizeof(float));
        d->feats[j] = malloc((size_t)(d->n * lt_model_feature_dim(
                                  d->ic[j].model)) * sizeof(float));
        d->pred[j] = malloc((size_t)d->n * sizeof(int32_t));
        if (!d->probs[j] || !d->feats[j] || !d->pred[j])
            st = lt_set_error(LT_ERR_NOMEM, "bench canvas: out of memory");
    }
    return st;
}

/* The loaded base must be a text model of canvas pictures. */
static lt_status cvb_check_base(const cvb *d)
{
    if (d->u0->cfg.kind == LT_UNET_TEXT && d->u0->cfg.in_ch == 3 &&
        d->u0->cfg.res == LT_CANVAS_SIDE)
        return LT_OK;
    return lt_set_error(LT_ERR_ARG, "bench canvas: %s (%s) is not a text-"
                        "conditioned model of 32x32 RGB pictures; "
                        "UnlearnCanvas needs one (text:...)", d->base,
                        d->u0->arch);
}

static lt_status cvb_open(cvb *d)
{
    const lt_bench_canvas_cfg *c = d->c;
    lt_status st = LT_OK;
    if (c->model) { /* a wrong model is refused before any other work */
        st = cvb_base(d);
        if (st == LT_OK)
            st = lt_unet_load(d->base, &d->u0, &d->s);
        if (st == LT_OK)
            st = cvb_check_base(d);
    }
    if (st == LT_OK && c->cache)
        st = lt_mkdirs(c->cache);
    if (st == LT_OK)
        st = cvb_canvas(d);
    if (st == LT_OK)
        st = lt_canvas_load(d->canvas, "train", &d->tr);
    if (st == LT_OK)
        st = lt_canvas_load(d->canvas, "test", &d->te);
    if (st == LT_OK)
        st = lt_clip_load(c->model ? d->enc
                          : c->encoder ? c->encoder : c->quick_encoder,
                          &d->clip, &d->v);
    if (st == LT_OK && !c->model) {
        st = cvb_base(d);
        if (st == LT_OK)
            st = lt_unet_load(d->base, &d->u0, &d->s);
        if (st == LT_OK)
            st = cvb_check_base(d);
    }
    if (st == LT_OK && (d->clip->cfg.context_length != d->u0->cfg.ctx_len ||
                        d->clip->cfg.width != d->u0->cfg.ctx_dim))
        st = lt_set_error(LT_ERR_ARG, "bench canvas: the encoder %s gives "
                          "%dx%d contexts, %s takes %dx%d", d->enc,
                          d->clip->cfg.context_length, d->clip->cfg.width,
                          d->u0->arch, d->u0->cfg.ctx_len,
                          d->u0->cfg.ctx_dim);
    if (st == LT_OK)
        st = lt_image_classifier_load(c->style_classifier, &d->ic[0]);
    if (st == LT_OK)
        st = lt_image_classifier_load(c->object_classifier, &d->ic[1]);
    if (st == LT_OK && (d->ic[0].model->in.classes != NS ||
                        d->ic[1].model->in.classes != NO))
        st = lt_set_error(LT_ERR_ARG, "bench canvas: the style classifier "
                          "needs %d classes and the object classifier %d",
                          NS, NO);
    if (st == LT_OK)
        st = cvb_prompts(d);
    if (st == LT_OK)
        st = cvb_real(d);
    return st;
}

/* ---- one model's answer set ------------------------------------------------------ */

static void cvb_sample_note(int64_t done, int64_t total, void *ud)
{
    const cvb *d = ud;
    if (done == total)
        lt_bench_note(d->c->progress, d->c->ud, "  answer set %lld/%lld",
                      (long long)done, (long long)total);
}

static int32_t argmax(const float *p, int64_t K)
{
    int32_t b = 0;
    for (int64_t k = 1; k < K; k++)
        if (p[k] > p[b])
            b = (int32_t)k;
    return b;
}

/* Sample u's answer set with the contexts ctx and null_ctx, classify it:
 * the verdict counts and FD. */
static lt_status cvb_answer(cvb *d, lt_unet *u, const float *ctx,
                            const float *null_ctx, cv_counts *cnt,
                            double fd[2])
{
    lt_dm_sample_config sp = d->c->sample;
    sp.seed = cvb_seed(d, sp.seed);
    lt_status st = lt_dm_sample_text(u, &d->s, &sp, d->n, ctx, null_ctx,
                                     d->x, cvb_sample_note, d);
    for (int j = 0; st == LT_OK && j < 2; j++) {
        int64_t K = d->ic[j].model->in.classes;
        st = lt_image_classify(&d->ic[j], d->x, d->n, LT_PIXELS_PM1,
                               d->probs[j], d->feats[j]);
        for (int64_t i = 0; st == LT_OK && i < d->n; i++)
            d->pred[j][i] = argmax(d->probs[j] + i * K, K);
        lt_fd_stats fs = {0};
        if (st == LT_OK)
            st = lt_fd_stats_compute(d->feats[j], d->n,
                                     (int)lt_model_feature_dim(
                                         d->ic[j].model), &fs);
        if (st == LT_OK)
            st = lt_fd(&fs, &d->real[j], &fd[j]);
        lt_fd_stats_free(&fs);
    }
    if (st == LT_OK)
        st = lt_canvas_count(NS, NO, d->n, d->sty, d->obj, d->pred[0],
                             d->pred[1], cnt->n, cnt->s, cnt->o);
    return st;
}

/* The grid of the answer set in d->x (first sample of every prompt) as
 * grid_dir/NAME.png. */
static lt_status cvb_grid(cvb *d, const char *name)
{
    if (!d->c->grid_dir)
        return LT_OK;
    char path[1400];
    snprintf(path, sizeof path, "%s/%s.png", d->c->grid_dir, name);
    float *g = malloc((size_t)NP * PIX * sizeof *g);
    if (!g)
        return lt_set_error(LT_ERR_NOMEM, "bench canvas: out of memory");
    for (int p = 0; p < NP; p++)
        memcpy(g + (int64_t)p * PIX, d->x + (int64_t)p * d->c->seeds * PIX,
               PIX * sizeof *g);
    lt_status st = lt_png_grid(path, g, NP, 3, LT_CANVAS_SIDE, LT_CANVAS_SIDE,
                               NO, -1.0f, 1.0f);
    free(g);
    return st;
}

/* Bytes of the full weights and of a sparse delta against the base; enc
 * (NULL: the base's encoder) as cvb_model's: an encoder that differs
 * is kept as well. */
static void storage(const lt_unet *base, const lt_unet *u,
                    const int64_t *enc, double *full, double *delta)
{
    int64_t changed, touched, n = u->params.n_total;
    cvb_delta(&base->params, &u->params, &changed, &touched);
    if (enc && enc[0] > 0) {
        changed += enc[0];
        touched += enc[1];
        n += enc[2];
    }
    *full = 4.0 * (double)n / 1e6;
    *delta = (4.0 * (double)changed + (double)((touched + 7) / 8)) / 1e6;
}

static double peak_rss_mb(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss / 1024.0 : NAN;
}

/* ---- tables and the protocol --------------------------------------------------- */

static const lt_table_col cv_cols[] = {
    {"target", "Target", NULL, 0, false},
    {"axis", "Axis", NULL, 0, false},
    {"method", "Method", NULL, 0, false},
    {"UA", "UA (%)", "%.1f", 0, false},
    {"IRA", "IRA (%)", "%.1f", 0, false},
    {"CRA", "CRA (%)", "%.1f", 0, false},
    {"FD_style", "FD (style feats)", "%.2f", 0, false},
    {"FD_object", "FD (object feats)", "%.2f", 0, false},
    {"seconds", "Time (s)", "%.1f", 0, false},
    {"rss_mb", "Peak RSS (MB)", "%.0f", 0, false},
    {"full_mb", "Storage full (MB)", "%.3f", 0, false},
    {"delta_mb", "Storage delta (MB)", "%.3f", 0, false},
};
#define CV_NUM0 3

static const char *target_name(cv_target t)
{
    return t.is_style ? lt_canvas_style_at(t.index)->slug
                      : lt_canvas_object_at(t.index)->slug;
}

uint64_t cvb_seed(const cvb *d, uint64_t seed)
{
    return seed + (uint64_t)d->run;
}

/* Run d->run of target x method into v (its columns from CV_NUM0);
 * *diverged when the method diverges (row message set). */
static lt_status cvb_run_once(cvb *d, const cv_method *m, cv_target t,
                              lt_table_row *row, double *v, bool *diverged)
{
    const int r = d->run;
    cv_counts cnt, *use = &cnt;
    double fd[2] = {NAN, NAN}, secs = 0;
    lt_unet *u = NULL;
    float *ctx = NULL, *nul = NULL;
    int64_t enc[3] = {0, 0, 0};
    lt_status st = LT_OK;
    if (m->kind == CV_ORIGINAL && d->have_orig[r]) {
        use = &d->orig[r];
        fd[0] = d->orig_fd[r][0];
        fd[1] = d->orig_fd[r][1];
    } else {
        st = cvb_model(d, m, t, &u, &ctx, &nul, enc, &secs);
        if (st == LT_ERR_NAN) {
            *diverged = true;
            snprintf(row->message, sizeof row->message, "%s on %s (run %d): "
                     "%s", m->name, row->text[0], r + 1, lt_last_error());
            lt_unet_free(u);
            return LT_OK;
        }
        if (st == LT_OK)
            st = cvb_answer(d, u, ctx ? ctx : d->ctx,
                            nul ? nul : d->null_ctx, &cnt, fd);
        char gname[2 * LT_TABLE_TEXT + 2];
        snprintf(gname, sizeof gname, "%s-%s", row->text[0], m->name);
        if (st == LT_OK && r == 0) /* the grids show the first run */
            st = cvb_grid(d, m->kind == CV_ORIGINAL ? "original" : gname);
        if (st == LT_OK && m->kind == CV_ORIGINAL) {
            d->orig[r] = cnt;
            d->orig_fd[r][0] = fd[0];
            d->orig_fd[r][1] = fd[1];
            d->have_orig[r] = true;
        }
    }
    free(ctx);
    free(nul);
    lt_canvas_table tab = {NS, NO, use->n, use->s, use->o};
    lt_canvas_scores sc = {0};
    if (st == LT_OK)
        st = lt_canvas_scores_of(&tab, t.is_style ? LT_CANVAS_STYLE
                                                  : LT_CANVAS_OBJECT,
                                 t.index, d->c->cra_without_target, &sc);
    if (st == LT_OK) {
        double full = 4.0 * (double)d->u0->params.n_total / 1e6, delta = 0;
        if (u)
            storage(d->u0, u, enc, &full, &delta);
        v[CV_NUM0 + 0] = 100 * sc.ua;
        v[CV_NUM0 + 1] = 100 * sc.ira;
        v[CV_NUM0 + 2] = 100 * sc.cra;
        v[CV_NUM0 + 3] = fd[0];
        v[CV_NUM0 + 4] = fd[1];
        v[CV_NUM0 + 5] = m->kind == CV_ORIGINAL ? 0 : secs;
        v[CV_NUM0 + 6] = peak_rss_mb();
        v[CV_NUM0 + 7] = full;
        v[CV_NUM0 + 8] = delta;
    }
    lt_unet_free(u);
    return st;
}

/* One target x method into its row, a run per unlearning seed (failed
 * when the method diverges in any run). */
static lt_status cvb_run(cvb *d, const cv_method *m, cv_target t,
                         lt_table_row *row)
{
    lt_status st = LT_OK;
    for (int r = 0; st == LT_OK && r < d->c->runs; r++) {
        lt_bench_note(d->c->progress, d->c->ud, "bench canvas: %s on %s:%s"
                      " (run %d of %d)", m->name, row->text[1], row->text[0],
                      r + 1, d->c->runs);
        double v[LT_TABLE_MAX_COLS];
        for (int i = 0; i < LT_TABLE_MAX_COLS; i++)
            v[i] = NAN;
        bool diverged = false;
        d->run = r;
        st = cvb_run_once(d, m, t, row, v, &diverged);
        if (st == LT_OK && diverged) {
            row->failed = row->diverged = true;
            break;
        }
        if (st == LT_OK)
            st = lt_table_row_add_run(row, v);
    }
    d->run = 0;
    return st;
}

/* ---- rows over the ranks, kept rows ------------------------------------------------- */

/* The key of a row's run file: the commit, the inputs and every setting
 * that changes the row's numbers. */
static uint64_t cvb_key(const cvb *d, const cv_method *m, cv_target t)
{
    const lt_bench_canvas_cfg *c = d->c;
    const lt_esd_config *e = &c->esd;
    const lt_fmn_config *f = &c->fmn;
    const lt_fmn_ti_config *ti = &c->ti;
    const lt_salun_text_config *sl = &c->salun;
    const lt_dm_sample_config *sp = &c->sample;
    const char *text[] = {lt_bench_commit(), d->base, d->enc, d->canvas,
                          c->style_classifier, c->object_classifier,
                          m->name, t.is_style ? "style" : "object"};
    double num[] = {t.index, c->seeds, c->runs, c->salun_per_pair,
                    c->cra_without_target, e->eta, e->start_guidance,
                    e->ddim_steps, (double)e->steps, e->lr, f->only_ca,
                    (double)f->steps, f->lr, f->weight_decay, f->clip,
                    sl->params, sl->alpha, sl->lr, sl->batch, sl->epochs,
                    sl->cycle, sl->mask_ratio, sl->mask_bottom,
                    sl->mask_guidance, sl->mask_lr, sp->steps, sp->eta,
                    sp->guidance, sp->w, sp->batch, e->variant, c->fmn_ti,
                    (double)ti->steps, ti->lr, ti->weight_decay, ti->n_rand,
                    ti->rand_sigma, ti->decay, ti->norm_target, ti->flip};
    uint64_t seeds[] = {c->eval_seed, e->seed, f->seed, sl->seed, sp->seed,
                        ti->seed};
    uint64_t h = lt_bench_fnv("canvas-row|v3");
    for (size_t i = 0; i < sizeof text / sizeof *text; i++)
        h = lt_bench_fnv_bytes(h, text[i], strlen(text[i]) + 1);
    h = lt_bench_fnv_bytes(h, num, sizeof num);
    h = lt_bench_fnv_bytes(h, seeds, sizeof seeds);
    if (m->kind == CV_FILE) { /* a model made elsewhere: its bytes */
        char enc[1200];
        cvb_file_encoder(m->file, enc, sizeof enc);
        h = lt_bench_fnv_bytes(h, "|file", 5);
        if (lt_bench_fnv_file(&h, m->file->file) != LT_OK ||
            lt_bench_fnv_file(&h, enc) != LT_OK)
            return 0; /* not kept; the run names the unreadable file */
    }
    return lt_bench_fnv_precision(h);
}

/* Row number q (target t, method m): its placeholder in the table, run
 * here when this rank owns it (or loaded with --resume) and kept. */
static lt_status cvb_unit(cvb *d, const cv_method *m, cv_target t, int q,
                          char *label, size_t n)
{
    lt_table_row *row = lt_table_add_row(d->t);
    if (!row)
        return lt_last_status();
    snprintf(row->text[0], LT_TABLE_TEXT, "%s", target_name(t));
    snprintf(row->text[1], LT_TABLE_TEXT, "%s", t.is_style ? "style"
                                                           : "object");
    snprintf(row->text[2], LT_TABLE_TEXT, "%s", m->name);
    snprintf(label, n, "%s on %s:%s", m->name, row->text[1], row->text[0]);
    if (!lt_bench_mine(q))
        return LT_OK;
    uint64_t key = d->c->cache ? cvb_key(d, m, t) : 0;
    if (key && d->c->resume &&
        lt_bench_row_load(d->c->cache, key, row, LT_TABLE_MAX_COLS)) {
        lt_bench_note(d->c->progress, d->c->ud, "bench canvas: %s done "
                      "before (--resume)", label);
        return LT_OK;
    }
    lt_status st = cvb_run(d, m, t, row);
    if (st == LT_OK && key &&
        (st = lt_bench_row_save(d->c->cache, key, row, LT_TABLE_MAX_COLS)) !=
            LT_OK)
        st = lt_set_error(st, "keeping the row: %s", lt_last_error());
    return st;
}

/* Every target x method: row q is rank q mod K's; a failure stops the
 * sweep after every rank's rows, naming its rank and row; then every
 * rank receives the others' rows. */
static lt_status cvb_rows(cvb *d, const cv_target *t, int nt)
{
    const lt_bench_canvas_cfg *c = d->c;
    char buf[LT_TABLE_TEXT], label[4 * LT_TABLE_TEXT] = "";
    lt_status st = LT_OK;
    int q = 0;
    for (int i = 0; st == LT_OK && i < nt; i++) {
        for (int k = 0; st == LT_OK && lt_list_item(c->methods, k, buf,
                                                    sizeof buf); k++, q++) {
            cv_method m;
            st = cv_method_parse(buf, &m);
            if (st == LT_OK)
                st = cvb_unit(d, &m, t[i], q, label, sizeof label);
        }
        for (int k = 0; st == LT_OK && k < c->n_unlearned; k++, q++) {
            cv_method m = {.kind = CV_FILE, .file = &c->unlearned[k]};
            snprintf(m.name, sizeof m.name, "%s", c->unlearned[k].name);
            st = cvb_unit(d, &m, t[i], q, label, sizeof label);
        }
    }
    st = lt_bench_agree(st, label);
    int n = d->t->n_rows, size = lt_dist_size();
    if (st != LT_OK || size == 1) /* the ranks may hold different counts */
        return st;
    int *owner = malloc((size_t)(n > 0 ? n : 1) * sizeof *owner);
    if (!owner)
        return lt_set_error(LT_ERR_NOMEM, "bench canvas: %d rows", n);
    for (int i = 0; i < n; i++)
        owner[i] = i % size;
    st = lt_bench_share(d->t->rows, sizeof *d->t->rows, n, owner);
    free(owner);
    return st;
}

static lt_status cvb_settings(cvb *d, lt_report *r, const cv_target *t,
                              int nt)
{
    const lt_bench_canvas_cfg *c = d->c;
    char desc[160], targets[CV_MAX_TARGETS * 24] = "", buf[512];
    lt_dm_sample_describe(&c->sample, d->s.T, desc, sizeof desc);
    for (int i = 0; i < nt; i++) {
        size_t l = strlen(targets);
        snprintf(targets + l, sizeof targets - l, "%s%s:%s", i ? "," : "",
                 t[i].is_style ? "style" : "object", target_name(t[i]));
    }
    snprintf(r->title, sizeof r->title, "UnlearnCanvas on FashionCanvas: "
             "%.300s (%.100s)", d->base, d->u0->arch);
    lt_status st = lt_bench_common_settings(r, c->command);
    const char *kv[][2] = {{"model", d->base}, {"arch", d->u0->arch},
                           {"encoder", d->enc}, {"canvas", d->canvas},
                           {"style_classifier", c->style_classifier},
                           {"object_classifier", c->object_classifier},
                           {"targets", targets}, {"methods", c->methods},
                           {"sampler", desc}};
    for (size_t i = 0; st == LT_OK && i < sizeof kv / sizeof *kv; i++)
        st = lt_report_set(r, kv[i][0], kv[i][1]);
    char ti[96] = "";
    if (c->fmn_ti)
        snprintf(ti, sizeof ti, " after textual inversion of %d tokens (%lld "
                 "steps, lr %g)", 1 + c->ti.n_rand, (long long)c->ti.steps,
                 (double)c->ti.lr);
    snprintf(buf, sizeof buf, "esd (%s): %lld iterations, lr %g, eta "
             "%g, %s %d; fmn: %lld steps, lr %g%s; salun: %d epochs of batch "
             "%d, lr %g, alpha %g, mask %g%s, %d picture(s) per pair",
             c->esd.variant == LT_ESD_SD ? "sd variant, esd_sd.py" :
             "paper variant, train-esd.py", (long long)c->esd.steps,
             (double)c->esd.lr, (double)c->esd.eta,
             c->esd.variant == LT_ESD_SD ? "PLMS" : "DDIM", c->esd.ddim_steps,
             (long long)c->fmn.steps, (double)c->fmn.lr, ti,
             c->salun.epochs, c->salun.batch, (double)c->salun.lr,
             (double)c->salun.alpha, (double)c->salun.mask_ratio,
             c->salun.mask_bottom ? " (bottom)" : "", c->salun_per_pair);
    if (st == LT_OK)
        st = lt_report_set(r, "unlearning", buf);
    for (int i = 0; st == LT_OK && i < c->n_unlearned; i++) {
        char key[LT_TABLE_TEXT + 16], enc[1200], val[2500];
        cvb_file_encoder(&c->unlearned[i], enc, sizeof enc);
        snprintf(key, sizeof key, "unlearned_%s", c->unlearned[i].name);
        snprintf(val, sizeof val, "%s with the encoder %s (unlearned "
                 "elsewhere; its time is not measured here)",
                 c->unlearned[i].file, enc);
        st = lt_report_set(r, key, val);
    }
    if (st == LT_OK)
        st = lt_report_set_num(r, "seeds", c->seeds);
    char runs[160];
    snprintf(runs, sizeof runs, "%d (run r = 0..%d adds r to every method's "
             "seed and to the sampling seed; rows are mean +- std)", c->runs,
             c->runs - 1);
    if (st == LT_OK)
        st = lt_report_set(r, "unlearning_runs", runs);
    if (st == LT_OK)
        st = lt_report_set_num(r, "answer_set", (double)d->n);
    if (st == LT_OK)
        st = lt_report_set_num(r, "fd_floor_style", d->floor[0]);
    if (st == LT_OK)
        st = lt_report_set_num(r, "fd_floor_object", d->floor[1]);
    if (st == LT_OK)
        st = lt_report_set(r, "cra", c->cra_without_target
                                         ? "without the target's images"
                                         : "every image (accuracy.py)");
    return st;
}

static lt_status lt_bench_canvas_body(const lt_bench_canvas_cfg *c,
    lt_report *out)
{
    memset(out, 0, sizeof *out);
    if (lt_bench_canvas_check(c) != LT_OK)
        return lt_last_status();
    double t0 = lt_clock_seconds();
    cvb d = {.c = c};
    cv_target t[CV_MAX_TARGETS];
    int nt = 0;
    lt_status st = cv_targets(c, t, &nt);
    /* the quick canvas and base: rank 0 makes them in the cache while the
     * others wait, then they find them there */
    bool lead = lt_dist_rank() == 0;
    if (st == LT_OK)
        st = lt_bench_agree(lead ? cvb_open(&d) : LT_OK, "the base model");
    if (st == LT_OK)
        st = lt_bench_agree(lead ? LT_OK : cvb_open(&d), "opening the data");
    if (st == LT_OK)
        st = cvb_settings(&d, out, t, nt);
    char title[256];
    snprintf(title, sizeof title, "UA / IRA / CRA on %lld answer-set "
             "images (%d per prompt); FD against as many real test "
             "pictures (floor: %.2f style, %.2f object); %d run%s",
             (long long)d.n, c->seeds, d.floor[0], d.floor[1], c->runs,
             c->runs == 1 ? "" : "s, mean +- std");
    if (st == LT_OK && !(d.t = lt_report_table(out, title, cv_cols,
                                               (int)(sizeof cv_cols /
                                                     sizeof *cv_cols))))
        st = lt_last_status();
    if (st == LT_OK)
        st = cvb_rows(&d, t, nt);
    out->seconds = lt_clock_seconds() - t0;
    cvb_free(&d);
    return st;
}

/* The run in the precision its config asks for (core.h). */
lt_status lt_bench_canvas(const lt_bench_canvas_cfg *c, lt_report *out)
{
    lt_precision old =
        lt_precision_enter(c ? c->precision : LT_PRECISION_DEFAULT);
    lt_status r = lt_bench_canvas_body(c, out);
    lt_set_default_precision(old);
    return r;
}
