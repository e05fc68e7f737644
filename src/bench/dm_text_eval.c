/*
 * dm_text_eval.c - the acceptance report of a text-conditioned diffusion
 * model on FashionCanvas (lt_bench_dm_text_eval, lethe/bench.h). For every
 * (style, object) pair, per_pair samples of the canonical prompt "An
 * {object} image in {style} style." are drawn with the named sampler and
 * guidance, and judged by the two fixed FashionCanvas evaluators:
 *   - per style: the style classifier's accuracy on the samples prompted
 *     with that style against its accuracy on real test pictures of the
 *     style (pass: >= 0.9x); the same per object with the object
 *     classifier;
 *   - overall: FD of all samples to a real test subset balanced the same
 *     way (per_pair pictures of every pair), in each classifier's features,
 *     with the real-vs-real floor (that test subset against a train subset
 *     of the same size and balance; pass: <= 5x in the object classifier's
 *     features), precision/recall, and the copying check of dm_eval.c
 *     (nearest-training-picture distance of samples vs of test pictures).
 * Thresholds are the class model's (LT_DM_ACCEPT_*, dm_accept.h). A last
 * table, not part of the verdict, says whether the model uses its prompt
 * at all (the diffusion-classifier check of dm_text_prompt.c); with
 * prompt_only it is the whole report.
 */
#include "lethe/bench.h"
#include "lethe/canvas.h"
#include "lethe/clip.h"
#include "lethe/diffusion.h"
#include "lethe/image_metrics.h"
#include "lethe/png.h"

#include "bench_util.h"
#include "dm_accept.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS LT_CANVAS_STYLES
#define NO LT_CANVAS_OBJECTS
#define NP (NS * NO)

lt_bench_dm_text_cfg lt_bench_dm_text_defaults(void)
{
    lt_bench_dm_text_cfg c = {.style_classifier = LT_CANVAS_EVAL_STYLE,
                              .object_classifier = LT_CANVAS_EVAL_OBJECT,
                              .per_pair = 2,
                              .prompt_check = 2,
                              .sample = lt_dm_sample_defaults_text(),
                              .seed = 1};
    return c;
}

lt_status lt_bench_dm_text_check(const lt_bench_dm_text_cfg *c)
{
    if (!c || !c->model || !c->canvas || !c->style_classifier ||
        !c->object_classifier)
        return lt_set_error(LT_ERR_ARG, "dm eval: model, canvas and both "
                            "classifiers are required");
    if (c->prompt_check < 0 || c->prompt_check > LT_CANVAS_OBJECTS ||
        (c->prompt_only && c->prompt_check < 1))
        return lt_set_error(LT_ERR_ARG, "dm eval: prompt check of %d pictures "
                            "per class outside [%d, %d]", c->prompt_check,
                            c->prompt_only ? 1 : 0, LT_CANVAS_OBJECTS);
    if (c->per_pair < 1 || c->per_pair > 10)
        return lt_set_error(LT_ERR_ARG, "dm eval: per_pair %d outside [1, 10] "
                            "(a default canvas has 10 test pictures per "
                            "style and object)", c->per_pair);
    return LT_OK;
}

typedef struct {
    const lt_bench_dm_text_cfg *c;
    lt_unet *u;
    lt_dm_schedule s;
    lt_clip *clip;
    lt_clip_vocab *vocab;
    lt_image_classifier ic[2];  /* 0 style, 1 object */
    lt_canvas tr, te;
    int64_t n, per;
    float *x;                   /* samples [n, 3, 32, 32] in [-1, 1] */
    float *probs[2], *feats[2];
} dm_text_eval;

static void dm_text_eval_free(dm_text_eval *e)
{
    lt_unet_free(e->u);
    lt_dm_schedule_free(&e->s);
    lt_clip_free(e->clip);
    lt_clip_vocab_free(e->vocab);
    for (int j = 0; j < 2; j++) {
        lt_image_classifier_free(&e->ic[j]);
        free(e->probs[j]);
        free(e->feats[j]);
    }
    lt_canvas_free(&e->tr);
    lt_canvas_free(&e->te);
    free(e->x);
}

/* What the samples are judged with (not needed by the prompt check
 * alone): both classifiers, the train split, the samples' buffers, and
 * the check that every pair has per_pair real pictures. */
static lt_status dm_text_eval_open_judges(dm_text_eval *e)
{
    const lt_bench_dm_text_cfg *c = e->c;
    if (lt_image_classifier_load(c->style_classifier, &e->ic[0]) != LT_OK ||
        lt_image_classifier_load(c->object_classifier, &e->ic[1]) != LT_OK ||
        lt_canvas_load(c->canvas, "train", &e->tr) != LT_OK)
        return lt_last_status();
    if (e->ic[0].model->in.classes != NS || e->ic[1].model->in.classes != NO)
        return lt_set_error(LT_ERR_ARG, "dm eval: the style classifier needs "
                            "%d classes and the object classifier %d", NS, NO);
    e->n = (int64_t)NP * c->per_pair;
    e->x = malloc((size_t)(e->n * e->per) * sizeof *e->x);
    int64_t *idx = malloc((size_t)e->n * sizeof *idx);
    /* enough real pictures of every pair? (checked before sampling) */
    lt_status st = !idx ? lt_set_error(LT_ERR_NOMEM, "dm eval: out of memory")
                   : lt_canvas_pair_subset(&e->te, c->per_pair, c->seed, idx);
    if (st == LT_OK)
        st = lt_canvas_pair_subset(&e->tr, c->per_pair, c->seed + 1, idx);
    free(idx);
    if (st != LT_OK)
        return st;
    for (int j = 0; j < 2; j++) {
        int64_t k = e->ic[j].model->in.classes;
        e->probs[j] = malloc((size_t)(e->n * k) * sizeof(float));
        e->feats[j] = malloc((size_t)(e->n * lt_model_feature_dim(
                                  e->ic[j].model)) * sizeof(float));
        if (!e->probs[j] || !e->feats[j])
            return lt_set_error(LT_ERR_NOMEM, "dm eval: out of memory");
    }
    return e->x ? LT_OK : lt_set_error(LT_ERR_NOMEM, "dm eval: out of memory");
}

static lt_status dm_text_eval_open(dm_text_eval *e)
{
    const lt_bench_dm_text_cfg *c = e->c;
    char enc[4096];
    snprintf(enc, sizeof enc, "%s.clip.safetensors", c->model);
    if (lt_unet_load(c->model, &e->u, &e->s) != LT_OK ||
        lt_clip_load(c->encoder ? c->encoder : enc, &e->clip,
                     &e->vocab) != LT_OK ||
        lt_canvas_load(c->canvas, "test", &e->te) != LT_OK)
        return lt_last_status();
    if (e->u->cfg.kind != LT_UNET_TEXT || e->u->cfg.res != LT_CANVAS_SIDE ||
        e->u->cfg.in_ch != 3)
        return lt_set_error(LT_ERR_ARG, "dm eval: %s (%s) is not a text model "
                            "of 32x32 RGB pictures", c->model, e->u->arch);
    e->per = 3 * LT_CANVAS_SIDE * LT_CANVAS_SIDE;
    return c->prompt_only ? LT_OK : dm_text_eval_open_judges(e);
}

/* Text contexts [n, L, D] of the canonical prompts, pair-major (sample i
 * shows pair i / per_pair: style pair / NO, object pair % NO), and the
 * empty caption's [L, D]. */
static lt_status dm_text_contexts(dm_text_eval *e, float **ctx,
                                  float *null_ctx)
{
    const int64_t LD = (int64_t)e->clip->cfg.context_length *
                       e->clip->cfg.width;
    float *pairs = malloc((size_t)(NP * LD) * sizeof *pairs);
    *ctx = malloc((size_t)(e->n * LD) * sizeof **ctx);
    lt_status s = pairs && *ctx
                      ? lt_bench_canvas_pair_contexts(e->clip, e->vocab, pairs,
                                                      null_ctx)
                      : lt_set_error(LT_ERR_NOMEM, "dm eval: out of memory");
    for (int64_t i = 0; s == LT_OK && i < e->n; i++)
        memcpy(*ctx + i * LD, pairs + (i / e->c->per_pair) * LD,
               (size_t)LD * sizeof **ctx);
    free(pairs);
    return s;
}

static void dm_text_progress(int64_t done, int64_t total, void *ud)
{
    const lt_bench_dm_text_cfg *c = ud;
    if (c->progress && (done == total || done % (2 * c->sample.batch) == 0))
        lt_bench_note(c->progress, c->ud, "  sampled %lld/%lld",
                      (long long)done, (long long)total);
}

/* The first sample of every pair: a row per style, a column per object. */
static lt_status dm_text_grid(dm_text_eval *e)
{
    float *g = malloc((size_t)(NP * e->per) * sizeof *g);
    if (!g)
        return lt_set_error(LT_ERR_NOMEM, "dm eval: out of memory");
    for (int p = 0; p < NP; p++)
        memcpy(g + (int64_t)p * e->per,
               e->x + (int64_t)p * e->c->per_pair * e->per,
               (size_t)e->per * sizeof *g);
    lt_status s = lt_png_grid(e->c->grid, g, NP, 3, LT_CANVAS_SIDE,
                              LT_CANVAS_SIDE, NO, -1.0f, 1.0f);
    free(g);
    return s;
}

static lt_status dm_text_sample(dm_text_eval *e)
{
    const lt_bench_dm_text_cfg *c = e->c;
    char desc[160];
    lt_dm_sample_describe(&c->sample, e->s.T, desc, sizeof desc);
    lt_bench_note(c->progress, c->ud, "dm eval: %lld samples (%d per style "
                  "and object) of %s, %s", (long long)e->n, c->per_pair,
                  e->u->arch, desc);
    float *ctx = NULL;
    float *null_ctx = malloc((size_t)e->clip->cfg.context_length *
                             e->clip->cfg.width * sizeof *null_ctx);
    lt_status s = null_ctx ? dm_text_contexts(e, &ctx, null_ctx)
                           : lt_set_error(LT_ERR_NOMEM, "dm eval: out of "
                                          "memory");
    if (s == LT_OK)
        s = lt_dm_sample_text(e->u, &e->s, &c->sample, e->n, ctx, null_ctx,
                              e->x, dm_text_progress, (void *)c);
    free(ctx);
    free(null_ctx);
    if (s == LT_OK && c->grid)
        s = dm_text_grid(e);
    for (int j = 0; s == LT_OK && j < 2; j++)
        s = lt_image_classify(&e->ic[j], e->x, e->n, LT_PIXELS_PM1,
                              e->probs[j], e->feats[j]);
    return s;
}


/* Pixels [m, 3, 32, 32] in [0, 1] of the pictures idx[0..m) of cv. */
static float *canvas_pixels(const lt_canvas *cv, const int64_t *idx,
                            int64_t m, int64_t per)
{
    float *img = malloc((size_t)(m * per) * sizeof *img);
    for (int64_t i = 0; img && i < m; i++)
        memcpy(img + i * per, cv->x + idx[i] * per, (size_t)per * sizeof *img);
    return img;
}

static lt_status fd_of(const float *a, const float *b, int64_t m, int64_t D,
                       double *fd)
{
    lt_fd_stats sa = {0}, sb = {0};
    lt_status s = lt_fd_stats_compute(a, m, (int)D, &sa);
    if (s == LT_OK)
        s = lt_fd_stats_compute(b, m, (int)D, &sb);
    if (s == LT_OK)
        s = lt_fd(&sa, &sb, fd);
    lt_fd_stats_free(&sa);
    lt_fd_stats_free(&sb);
    return s;
}

/* Per-style (j = 0) or per-object (j = 1) accuracy on samples against the
 * classifier's accuracy on every real test picture. */
static lt_status class_table(dm_text_eval *e, int j, lt_report *r,
                             bool *all_pass)
{
    static const lt_table_col cols[] = {
        {"class", "Class", NULL, 0, false},
        {"acc_samples", "Acc. on samples (%)", "%.1f", 0, false},
        {"acc_real", "Acc. on real test (%)", "%.1f", 0, false},
        {"acc_ratio", "Ratio", "%.3f", 0, false},
        {"entropy", "Entropy (nats)", "%.3f", 0, false},
        {"pass", "Pass", NULL, 0, false},
    };
    const int K = j ? NO : NS;
    double real[NS], fake[NS];
    int32_t *lab = malloc((size_t)(e->n > e->te.n ? e->n : e->te.n) *
                          sizeof *lab);
    float *p = malloc((size_t)(e->te.n * K) * sizeof *p);
    lt_status s = lab && p ? LT_OK : lt_set_error(LT_ERR_NOMEM, "dm eval: "
                                                  "out of memory");
    if (s == LT_OK)
        s = lt_image_classify(&e->ic[j], e->te.x, e->te.n, LT_PIXELS_01, p,
                              NULL);
    if (s == LT_OK)
        s = lt_per_class_accuracy(p, e->te.n, K, j ? e->te.object
                                                   : e->te.style, real, NULL);
    for (int64_t i = 0; s == LT_OK && i < e->n; i++) {
        int pair = (int)(i / e->c->per_pair);
        lab[i] = j ? pair % NO : pair / NO;
    }
    if (s == LT_OK)
        s = lt_per_class_accuracy(e->probs[j], e->n, K, lab, fake, NULL);
    char title[160];
    snprintf(title, sizeof title, "Per %s (%d samples each, %s classifier)",
             j ? "object" : "style", e->c->per_pair * (j ? NS : NO),
             j ? "object" : "style");
    lt_table *t = s == LT_OK ? lt_report_table(r, title, cols, 6) : NULL;
    for (int k = 0; t && k < K; k++) {
        lt_table_row *row = lt_table_add_row(t);
        double ent = 0;
        int64_t cnt = 0;
        for (int64_t i = 0; i < e->n; i++) {
            if (lab[i] != k)
                continue;
            for (int q = 0; q < K; q++) {
                double v = e->probs[j][i * K + q];
                ent -= v > 0 ? v * log(v) : 0;
            }
            cnt++;
        }
        bool pass = fake[k] >= LT_DM_ACCEPT_ACC * real[k];
        *all_pass = *all_pass && pass;
        if (!row)
            break;
        snprintf(row->text[0], LT_TABLE_TEXT, "%s",
                 j ? lt_canvas_object_at(k)->label
                   : lt_canvas_style_at(k)->name);
        snprintf(row->text[5], LT_TABLE_TEXT, "%s", pass ? "yes" : "NO");
        double v[LT_TABLE_MAX_COLS] = {NAN, fake[k], real[k],
                                       fake[k] / real[k],
                                       cnt ? ent / (double)cnt : NAN, NAN};
        s = lt_table_row_add_run(row, v);
    }
    if (s == LT_OK && !t)
        s = lt_last_status();
    free(lab);
    free(p);
    return s;
}

/* FD (with its floor) in classifier j's features; test and train are the
 * real pair-balanced subsets' pixels. */
static lt_status fd_rows(dm_text_eval *e, int j, const float *test,
                         const float *train, lt_table *t, bool *all_pass,
                         float **test_feats)
{
    int64_t D = lt_model_feature_dim(e->ic[j].model);
    float *fa = malloc((size_t)(e->n * D) * sizeof *fa);
    float *fb = malloc((size_t)(e->n * D) * sizeof *fb);
    double fd = NAN, fl = NAN;
    lt_status s = fa && fb ? LT_OK : lt_set_error(LT_ERR_NOMEM, "dm eval: "
                                                  "out of memory");
    if (s == LT_OK)
        s = lt_image_classify(&e->ic[j], test, e->n, LT_PIXELS_01, NULL, fa);
    if (s == LT_OK)
        s = lt_image_classify(&e->ic[j], train, e->n, LT_PIXELS_01, NULL, fb);
    if (s == LT_OK)
        s = fd_of(e->feats[j], fa, e->n, D, &fd);
    if (s == LT_OK)
        s = fd_of(fb, fa, e->n, D, &fl);
    bool ok = fd <= LT_DM_ACCEPT_FD * fl;
    if (j == 1)
        *all_pass = *all_pass && ok;
    if (s == LT_OK)
        s = lt_bench_dm_check_row(t, j ? "FD, object features (vs floor)"
                                       : "FD, style features (vs floor)",
                                  fd, fl, j ? (ok ? "yes" : "NO") : "-");
    free(fb);
    if (s == LT_OK && test_feats)
        *test_feats = fa;
    else
        free(fa);
    return s;
}

static lt_status overall_table(dm_text_eval *e, lt_report *r, bool *all_pass)
{
    char title[160];
    snprintf(title, sizeof title, "Overall (%lld samples; real subsets of %d "
             "pictures per style and object)", (long long)e->n,
             e->c->per_pair);
    lt_table *t = lt_bench_dm_overall_table(r, title);
    int64_t *ia = malloc((size_t)e->n * sizeof *ia);
    int64_t *ib = malloc((size_t)e->n * sizeof *ib);
    float *test = NULL, *train = NULL, *real = NULL;
    lt_status s = t && ia && ib ? LT_OK : lt_last_status();
    if (s == LT_OK && (s = lt_canvas_pair_subset(&e->te, e->c->per_pair,
                                                 e->c->seed, ia)) == LT_OK)
        s = lt_canvas_pair_subset(&e->tr, e->c->per_pair, e->c->seed + 1,
                                  ib);
    if (s == LT_OK && (!(test = canvas_pixels(&e->te, ia, e->n, e->per)) ||
                       !(train = canvas_pixels(&e->tr, ib, e->n, e->per))))
        s = lt_set_error(LT_ERR_NOMEM, "dm eval: out of memory");
    if (s == LT_OK)
        s = fd_rows(e, 1, test, train, t, all_pass, &real);
    if (s == LT_OK)
        s = fd_rows(e, 0, test, train, t, all_pass, NULL);
    double prec = NAN, rec = NAN;
    if (s == LT_OK)
        s = lt_precision_recall(real, e->n, e->feats[1], e->n,
                                lt_model_feature_dim(e->ic[1].model), 3,
                                &prec, &rec);
    if (s == LT_OK)
        s = lt_bench_dm_check_row(t, "precision (k=3, object features)", prec,
                                  NAN, "-");
    if (s == LT_OK)
        s = lt_bench_dm_check_row(t, "recall (k=3, object features)", rec,
                                  NAN, "-");
    if (s == LT_OK)
        s = lt_bench_dm_copying_rows(t, e->x, e->n, test, e->n, e->tr.x,
                                     e->tr.n, e->per, all_pass);
    free(ia);
    free(ib);
    free(test);
    free(train);
    free(real);
    return s;
}

/* The prompt check's second table: one row per timestep. */
static lt_status prompt_t_table(dm_text_eval *e, const lt_bench_prompt_check *pc,
                                lt_report *r)
{
    static const lt_table_col cols[] = {
        {"t", "t", "%.0f", 0, false},
        {"style_accuracy", "Style: own prompt wins (%)", "%.1f", 0, false},
        {"style_gain", "Style: error cut (%)", "%.2f", 0, false},
        {"object_accuracy", "Object: own prompt wins (%)", "%.1f", 0, false},
        {"object_gain", "Object: error cut (%)", "%.2f", 0, false},
    };
    lt_table *t = lt_report_table(r, "Prompt check by timestep (each "
                                  "timestep's error alone)", cols, 5);
    lt_status s = t ? LT_OK : lt_last_status();
    for (int k = 0; s == LT_OK && k < LT_BENCH_PROMPT_STEPS; k++) {
        lt_table_row *row = lt_table_add_row(t);
        if (!row)
            return lt_last_status();
        double v[LT_TABLE_MAX_COLS] = {
            lt_bench_prompt_timestep(e->s.T, k), pc->style.by_t[k].accuracy,
            pc->style.by_t[k].gain, pc->object.by_t[k].accuracy,
            pc->object.by_t[k].gain};
        s = lt_table_row_add_run(row, v);
    }
    return s;
}

/* The prompt check (dm_text_prompt.c): two rows over all timesteps, then
 * a row per timestep. */
static lt_status prompt_table(dm_text_eval *e, lt_report *r)
{
    static const lt_table_col cols[] = {
        {"axis", "Axis", NULL, 0, false},
        {"pictures", "Pictures", "%.0f", 0, false},
        {"candidates", "Candidate prompts", "%.0f", 0, false},
        {"accuracy", "Own prompt wins (%)", "%.1f", 0, false},
        {"chance", "Chance (%)", "%.1f", 0, false},
        {"gain", "Error cut by the prompt vs empty (%)", "%.2f", 0, false},
    };
    lt_bench_prompt_check pc;
    lt_bench_note(e->c->progress, e->c->ud, "dm eval: prompt check (the "
                  "model as a diffusion classifier on %d real pictures per "
                  "style and object)", e->c->prompt_check);
    lt_status s = lt_bench_dm_text_prompt_check(e->u, &e->s, e->clip,
                                                e->vocab, &e->te,
                                                e->c->prompt_check,
                                                e->c->seed, &pc);
    lt_table *t = s == LT_OK ? lt_report_table(r, "Prompt check (the model "
                                               "as a diffusion classifier on "
                                               "real test pictures, errors "
                                               "summed over 5 timesteps; not "
                                               "sampled)", cols, 6)
                             : NULL;
    for (int j = 0; t && j < 2; j++) {
        const lt_bench_prompt_axis *a = j ? &pc.object : &pc.style;
        lt_table_row *row = lt_table_add_row(t);
        if (!row)
            break;
        snprintf(row->text[0], LT_TABLE_TEXT, "%s", j ? "object" : "style");
        double v[LT_TABLE_MAX_COLS] = {NAN, a->pictures, a->candidates,
                                       a->all.accuracy, a->chance,
                                       a->all.gain};
        s = lt_table_row_add_run(row, v);
    }
    if (s == LT_OK && !t)
        s = lt_last_status();
    return s == LT_OK ? prompt_t_table(e, &pc, r) : s;
}

static void dm_text_settings(dm_text_eval *e, lt_report *r)
{
    const lt_bench_dm_text_cfg *c = e->c;
    lt_bench_dm_settings(r, c->model, e->u->arch, &c->sample, e->s.T,
                         c->command);
    lt_report_set(r, "prompts", "canonical: A(n) {object} image in {style} "
                  "style.");
    lt_report_set(r, "style_classifier", c->style_classifier);
    lt_report_set(r, "object_classifier", c->object_classifier);
    lt_report_set(r, "canvas", c->canvas);
    lt_report_set_num(r, "per_pair", c->per_pair);
    lt_report_set_num(r, "samples", (double)e->n);
    lt_report_set_num(r, "prompt_check_pictures", c->prompt_check);
}

static lt_status lt_bench_dm_text_eval_body(const lt_bench_dm_text_cfg *c,
    lt_report *out, float **samples)
{
    if (lt_bench_dm_text_check(c) != LT_OK)
        return lt_last_status();
    double t0 = lt_clock_seconds();
    dm_text_eval e = {.c = c};
    bool pass = true;
    lt_status s = dm_text_eval_open(&e);
    if (s == LT_OK && !c->prompt_only)
        s = dm_text_sample(&e);
    if (s == LT_OK)
        dm_text_settings(&e, out);
    for (int j = 0; s == LT_OK && !c->prompt_only && j < 2; j++)
        s = class_table(&e, j, out, &pass);
    if (s == LT_OK && !c->prompt_only)
        s = overall_table(&e, out, &pass);
    if (s == LT_OK && c->prompt_check > 0)
        s = prompt_table(&e, out);
    if (s == LT_OK) {
        lt_report_set(out, "accepted", c->prompt_only ? "not judged (prompt "
                      "check only)" : pass ? "yes" : "no");
        out->seconds = lt_clock_seconds() - t0;
        if (samples) {
            *samples = e.x;
            e.x = NULL;
        }
    }
    dm_text_eval_free(&e);
    return s;
}

/* The run in the precision its config asks for (core.h). */
lt_status lt_bench_dm_text_eval(const lt_bench_dm_text_cfg *c, lt_report *out,
                                float **samples)
{
    lt_precision old =
        lt_precision_enter(c ? c->precision : LT_PRECISION_DEFAULT);
    lt_status r = lt_bench_dm_text_eval_body(c, out, samples);
    lt_set_default_precision(old);
    return r;
}
