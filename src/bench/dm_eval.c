/*
 * dm_eval.c - the acceptance report of a class-conditional diffusion
 * model (lt_bench_dm_eval, lethe/bench.h): draw per_class samples of
 * every class with the named sampler and guidance, classify them with the
 * fixed evaluator, and compare with real images at the same N:
 *   - per class: the evaluator's accuracy on the samples against its
 *     accuracy on real test images of that class (pass: >= 0.9x), Selective
 *     Amnesia's entropy and target probability, and the FD of the class's
 *     samples to real test images of the class with its real-vs-real floor;
 *   - overall: FD of all samples to a class-balanced real test set with
 *     the floor at the same N (pass: <= 5x), precision/recall, and the
 *     nearest-training-image distance of the samples next to that of real
 *     test images (a copying check: pass when the samples' mean distance is
 *     at least half the test images').
 * The thresholds are Lethe's acceptance bar for base models, written once
 * in dm_accept.h (LT_DM_ACCEPT_*), with the rows text models share.
 */
#include "lethe/bench.h"
#include "lethe/diffusion.h"
#include "lethe/image_metrics.h"
#include "lethe/png.h"

#include "bench_util.h"
#include "dm_accept.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

lt_bench_dm_cfg lt_bench_dm_defaults(void)
{
    lt_bench_dm_cfg c = {.classifier = LT_FMNIST_EVAL_B,
                         .data = "fashion-mnist", .per_class = 450,
                         .sample = lt_dm_sample_defaults(), .seed = 1};
    c.sample.steps = 50;
    c.sample.eta = 0;
    return c;
}

lt_status lt_bench_dm_check(const lt_bench_dm_cfg *c)
{
    if (!c || !c->model || !c->classifier || !c->data)
        return lt_set_error(LT_ERR_ARG, "dm eval: model, classifier and data "
                            "are required");
    if (c->per_class < 4 || c->per_class > 1000)
        return lt_set_error(LT_ERR_ARG, "dm eval: per_class %d outside [4, "
                            "1000] (the test split has 1000 per class)",
                            c->per_class);
    return LT_OK;
}

typedef struct {
    const lt_bench_dm_cfg *c;
    lt_unet *u;
    lt_dm_schedule s;
    lt_image_classifier ic;
    lt_dataset tr, te;
    int K;
    int64_t n, per;
    float *x, *probs, *feats;
    int32_t *cls;
} dm_eval;

static void dm_eval_free(dm_eval *e)
{
    lt_unet_free(e->u);
    lt_dm_schedule_free(&e->s);
    lt_image_classifier_free(&e->ic);
    lt_dataset_free(&e->tr);
    lt_dataset_free(&e->te);
    free(e->x);
    free(e->probs);
    free(e->feats);
    free(e->cls);
}

static lt_status dm_eval_open(dm_eval *e)
{
    const lt_bench_dm_cfg *c = e->c;
    if (lt_unet_load(c->model, &e->u, &e->s) != LT_OK ||
        lt_image_classifier_load(c->classifier, &e->ic) != LT_OK ||
        lt_dataset_load(c->data, "train", &e->tr) != LT_OK ||
        lt_dataset_load(c->data, "test", &e->te) != LT_OK)
        return lt_last_status();
    e->K = e->u->cfg.classes;
    if (e->te.classes != e->K || e->te.c != e->u->cfg.in_ch ||
        e->te.h != e->u->cfg.res)
        return lt_set_error(LT_ERR_ARG, "dm eval: %s (%d classes of %dx%d) "
                            "does not match the model %s", c->data,
                            e->te.classes, e->te.h, e->te.w, e->u->arch);
    e->n = (int64_t)e->K * c->per_class;
    e->per = (int64_t)e->te.c * e->te.h * e->te.w;
    int64_t D = lt_model_feature_dim(e->ic.model);
    e->x = malloc((size_t)(e->n * e->per) * sizeof *e->x);
    e->probs = malloc((size_t)(e->n * e->K) * sizeof *e->probs);
    e->feats = malloc((size_t)(e->n * D) * sizeof *e->feats);
    e->cls = malloc((size_t)e->n * sizeof *e->cls);
    if (!e->x || !e->probs || !e->feats || !e->cls)
        return lt_set_error(LT_ERR_NOMEM, "dm eval: out of memory");
    for (int64_t i = 0; i < e->n; i++)
        e->cls[i] = (int32_t)(i / c->per_class);
    return LT_OK;
}

static void dm_eval_progress(int64_t done, int64_t total, void *ud)
{
    const lt_bench_dm_cfg *c = ud;
    if (c->progress && (done == total || done % (10 * c->sample.batch) == 0))
        lt_bench_note(c->progress, c->ud, "  sampled %lld/%lld",
                      (long long)done, (long long)total);
}

/* The first (up to) 10 samples of each class, a class per row. */
static lt_status write_grid(dm_eval *e)
{
    int cols = e->c->per_class < 10 ? e->c->per_class : 10;
    float *g = malloc((size_t)(e->K * cols * e->per) * sizeof *g);
    if (!g)
        return lt_set_error(LT_ERR_NOMEM, "dm eval: out of memory");
    for (int k = 0; k < e->K; k++)
        memcpy(g + (int64_t)k * cols * e->per,
               e->x + (int64_t)k * e->c->per_class * e->per,
               (size_t)(cols * e->per) * sizeof *g);
    const lt_unet_config *u = &e->u->cfg;
    lt_status s = lt_png_grid(e->c->grid, g, e->K * cols, u->in_ch, u->res,
                              u->res, cols, -1.0f, 1.0f);
    free(g);
    return s;
}

static lt_status dm_eval_sample(dm_eval *e)
{
    const lt_bench_dm_cfg *c = e->c;
    char desc[160];
    lt_dm_sample_describe(&c->sample, e->s.T, desc, sizeof desc);
    lt_bench_note(c->progress, c->ud, "dm eval: %lld samples (%d per class) "
                  "of %s, %s", (long long)e->n, c->per_class, e->u->arch,
                  desc);
    if (lt_dm_sample(e->u, &e->s, &c->sample, e->n, e->cls, e->x,
                     dm_eval_progress, (void *)c) != LT_OK ||
        (c->grid && write_grid(e) != LT_OK))
        return lt_last_status();
    return lt_image_classify(&e->ic, e->x, e->n, LT_PIXELS_PM1, e->probs,
                             e->feats);
}

/* Real accuracy per class of the evaluator on the whole test split. */
static lt_status real_accuracy(dm_eval *e, double *acc)
{
    float *p = malloc((size_t)(e->te.n * e->K) * sizeof *p);
    float *img = malloc((size_t)(e->te.n * e->per) * sizeof *img);
    lt_status s = p && img ? LT_OK : lt_set_error(LT_ERR_NOMEM, "dm eval: "
                                                  "out of memory");
    if (s == LT_OK)
        lt_dataset_pixels(&e->te, NULL, e->te.n, img);
    if (s == LT_OK)
        s = lt_image_classify(&e->ic, img, e->te.n, LT_PIXELS_01, p, NULL);
    if (s == LT_OK)
        s = lt_per_class_accuracy(p, e->te.n, e->K, e->te.y, acc, NULL);
    free(p);
    free(img);
    return s;
}

/* Evaluator features [nc * per_class, D] of a seeded class-balanced real
 * test subset of classes[0..nc) (malloc'ed into *out). */
static lt_status real_features(dm_eval *e, const int32_t *classes, int nc,
                               float **out)
{
    int64_t D = lt_model_feature_dim(e->ic.model);
    int64_t m = (int64_t)nc * e->c->per_class;
    int64_t *idx = malloc((size_t)m * sizeof *idx);
    float *img = malloc((size_t)(m * e->per) * sizeof *img);
    *out = malloc((size_t)(m * D) * sizeof **out);
    lt_status s = idx && img && *out ? LT_OK
                                     : lt_set_error(LT_ERR_NOMEM, "dm eval: "
                                                    "out of memory");
    if (s == LT_OK)
        s = lt_class_balanced_subset(&e->te, classes, nc, e->c->per_class,
                                     e->c->seed, idx);
    if (s == LT_OK) {
        lt_dataset_pixels(&e->te, idx, m, img);
        s = lt_image_classify(&e->ic, img, m, LT_PIXELS_01, NULL, *out);
    }
    free(idx);
    free(img);
    return s;
}

/* FD of the samples of classes[0..nc) (features rows) to the real
 * features real [nc * per_class, D] of the same classes, and the floor at
 * that size. */
static lt_status fd_pair(dm_eval *e, const int32_t *classes, int nc,
                         const float *real, double *fd, double *floor)
{
    int64_t D = lt_model_feature_dim(e->ic.model), m = 0;
    int64_t pc = e->c->per_class;
    float *f = malloc((size_t)(nc * pc * D) * sizeof *f);
    if (!f)
        return lt_set_error(LT_ERR_NOMEM, "dm eval: out of memory");
    for (int k = 0; k < nc; k++, m += pc)
        memcpy(f + m * D, e->feats + (int64_t)classes[k] * pc * D,
               (size_t)(pc * D) * sizeof *f);
    lt_fd_stats a = {0}, b = {0};
    lt_fd_terms fl = {.fd = NAN};
    lt_status s = lt_fd_stats_compute(f, m, (int)D, &a);
    if (s == LT_OK)
        s = lt_fd_stats_compute(real, m, (int)D, &b);
    if (s == LT_OK)
        s = lt_fd(&a, &b, fd);
    if (s == LT_OK)
        s = lt_fd_floor(&e->ic, &e->tr, &e->te, classes, nc, pc,
                        e->c->seed + 1, &fl);
    *floor = fl.fd;
    lt_fd_stats_free(&a);
    lt_fd_stats_free(&b);
    free(f);
    return s;
}

static const lt_table_col class_cols[] = {
    {"class", "Class", NULL, 0, false},
    {"acc_samples", "Acc. on samples (%)", "%.1f", 0, false},
    {"acc_real", "Acc. on real test (%)", "%.1f", 0, false},
    {"acc_ratio", "Ratio", "%.3f", 0, false},
    {"entropy", "Entropy (nats)", "%.3f", 0, false},
    {"target_prob", "p(class)", "%.3f", 0, false},
    {"fd", "FD to real", "%.2f", 0, false},
    {"fd_floor", "FD floor", "%.2f", 0, false},
    {"pass", "Pass", NULL, 0, false},
};

static lt_status per_class_table(dm_eval *e, lt_report *r, bool *all_pass)
{
    double real[1024];
    if (e->K > 1024 || real_accuracy(e, real) != LT_OK)
        return lt_last_status();
    char title[160];
    snprintf(title, sizeof title, "Per class (%d samples each; FD in the "
             "evaluator's features, floor = real test vs real train at the "
             "same N)", e->c->per_class);
    lt_table *t = lt_report_table(r, title, class_cols, 9);
    for (int k = 0; t && k < e->K; k++) {
        lt_class_sample_metrics m;
        int64_t pc = e->c->per_class;
        double v[LT_TABLE_MAX_COLS] = {NAN}, fd = NAN, fl = NAN;
        int32_t cl = k;
        float *rf = NULL;
        lt_status st = lt_class_sample_metrics_compute(
            e->probs + k * pc * e->K, pc, e->K, k, &m);
        if (st == LT_OK)
            st = real_features(e, &cl, 1, &rf);
        if (st == LT_OK)
            st = fd_pair(e, &cl, 1, rf, &fd, &fl);
        free(rf);
        if (st != LT_OK)
            return st;
        lt_table_row *row = lt_table_add_row(t);
        if (!row)
            return lt_last_status();
        bool pass = m.accuracy >= LT_DM_ACCEPT_ACC * real[k];
        *all_pass = *all_pass && pass;
        snprintf(row->text[0], LT_TABLE_TEXT, "%d", k);
        snprintf(row->text[8], LT_TABLE_TEXT, "%s", pass ? "yes" : "NO");
        double w[9] = {NAN, m.accuracy, real[k], m.accuracy / real[k],
                       m.entropy, m.target_prob, fd, fl, NAN};
        memcpy(v, w, sizeof w);
        lt_table_row_add_run(row, v);
    }
    return t ? LT_OK : lt_last_status();
}

lt_table *lt_bench_dm_overall_table(lt_report *r, const char *title)
{
    static const lt_table_col cols[] = {
        {"check", "Check", NULL, 0, false},
        {"value", "Value", "%.3f", 0, false},
        {"reference", "Reference", "%.3f", 0, false},
        {"ratio", "Ratio", "%.3f", 0, false},
        {"pass", "Pass", NULL, 0, false},
    };
    return lt_report_table(r, title, cols, 5);
}

lt_status lt_bench_dm_check_row(lt_table *t, const char *name, double v,
                                double ref, const char *pass)
{
    lt_table_row *row = lt_table_add_row(t);
    if (!row)
        return lt_last_status();
    snprintf(row->text[0], LT_TABLE_TEXT, "%s", name);
    snprintf(row->text[4], LT_TABLE_TEXT, "%s", pass);
    double w[LT_TABLE_MAX_COLS] = {NAN, v, ref,
                                   ref != 0 && !isnan(ref) ? v / ref : NAN,
                                   NAN};
    return lt_table_row_add_run(row, w);
}

lt_status lt_bench_dm_copying_rows(lt_table *t, const float *samples,
                                   int64_t ns, const float *real, int64_t nr,
                                   const float *train, int64_t nt,
                                   int64_t per, bool *all_pass)
{
    float *a = malloc((size_t)(ns * per) * sizeof *a);
    lt_nn_summary sa, sb;
    lt_status s = a ? LT_OK : lt_set_error(LT_ERR_NOMEM, "dm eval: out of "
                                           "memory");
    for (int64_t i = 0; s == LT_OK && i < ns * per; i++) {
        float p = (samples[i] + 1) / 2;
        a[i] = p < 0 ? 0 : p > 1 ? 1 : p;
    }
    if (s == LT_OK)
        s = lt_nn_distance(a, ns, train, nt, per, NULL, NULL, &sa);
    if (s == LT_OK)
        s = lt_nn_distance(real, nr, train, nt, per, NULL, NULL, &sb);
    bool ok = s == LT_OK && sa.mean >= LT_DM_ACCEPT_NN * sb.mean;
    if (s == LT_OK)
        s = lt_bench_dm_check_row(t, "NN distance to train (samples vs test)",
                                  sa.mean, sb.mean, ok ? "yes" : "NO");
    if (s == LT_OK)
        s = lt_bench_dm_check_row(t, "closest sample to a train image",
                                  sa.min, sb.min, "-");
    *all_pass = *all_pass && ok;
    free(a);
    return s;
}

/* The copying check against the training set, denormalised once. */
static lt_status copying_check(dm_eval *e, lt_table *t, bool *all_pass)
{
    int64_t n = e->n < e->te.n ? e->n : e->te.n;
    float *b = malloc((size_t)(n * e->per) * sizeof *b);
    float *tr = malloc((size_t)(e->tr.n * e->per) * sizeof *tr);
    lt_status s = b && tr ? LT_OK : lt_set_error(LT_ERR_NOMEM,
                                                 "dm eval: out of memory");
    if (s == LT_OK) {
        lt_dataset_pixels(&e->te, NULL, n, b);
        lt_dataset_pixels(&e->tr, NULL, e->tr.n, tr);
        s = lt_bench_dm_copying_rows(t, e->x, n, b, n, tr, e->tr.n, e->per,
                                     all_pass);
    }
    free(b);
    free(tr);
    return s;
}

static lt_status overall_table(dm_eval *e, lt_report *r, bool *all_pass)
{
    char title[160];
    snprintf(title, sizeof title, "Overall (%lld samples)", (long long)e->n);
    lt_table *t = lt_bench_dm_overall_table(r, title);
    if (!t)
        return lt_last_status();
    int32_t classes[1024];
    for (int k = 0; k < e->K; k++)
        classes[k] = k;
    double fd = NAN, fl = NAN, prec = NAN, rec = NAN;
    float *real = NULL;
    lt_status s = real_features(e, classes, e->K, &real);
    if (s == LT_OK)
        s = fd_pair(e, classes, e->K, real, &fd, &fl);
    bool ok = fd <= LT_DM_ACCEPT_FD * fl;
    *all_pass = *all_pass && ok;
    if (s == LT_OK)
        s = lt_bench_dm_check_row(t, "FD to real test (floor as reference)", fd, fl,
                      ok ? "yes" : "NO");
    if (s == LT_OK)
        s = lt_precision_recall(real, e->n, e->feats, e->n,
                                lt_model_feature_dim(e->ic.model), 3, &prec,
                                &rec);
    if (s == LT_OK)
        s = lt_bench_dm_check_row(t, "precision (k=3)", prec, NAN, "-");
    if (s == LT_OK)
        s = lt_bench_dm_check_row(t, "recall (k=3)", rec, NAN, "-");
    free(real);
    if (s == LT_OK)
        s = copying_check(e, t, all_pass);
    return s;
}

void lt_bench_dm_settings(lt_report *r, const char *model, const char *arch,
                          const lt_dm_sample_config *cfg, int T,
                          const char *command)
{
    char desc[160];
    lt_dm_sample_describe(cfg, T, desc, sizeof desc);
    snprintf(r->title, sizeof r->title, "Acceptance report of %s (%s)", model,
             arch);
    lt_report_set(r, "model", model);
    lt_report_set(r, "arch", arch);
    lt_report_set(r, "sampler", desc);
    lt_report_set(r, "commit", lt_bench_commit());
    lt_report_set_num(r, "threads", lt_num_threads());
    lt_report_set(r, "precision", lt_precision_name(lt_default_precision()));
    lt_report_set(r, "backend", lt_backend_name());
    if (command)
        lt_report_set(r, "command", command);
}

static void dm_eval_settings(dm_eval *e, lt_report *r)
{
    const lt_bench_dm_cfg *c = e->c;
    lt_bench_dm_settings(r, c->model, e->u->arch, &c->sample, e->s.T,
                         c->command);
    lt_report_set(r, "classifier", c->classifier);
    lt_report_set(r, "data", c->data);
    lt_report_set_num(r, "per_class", c->per_class);
    lt_report_set_num(r, "samples", (double)e->n);
}

static lt_status lt_bench_dm_eval_body(const lt_bench_dm_cfg *c,
    lt_report *out, float **samples)
{
    if (lt_bench_dm_check(c) != LT_OK)
        return lt_last_status();
    double t0 = lt_clock_seconds();
    dm_eval e = {.c = c};
    bool pass = true;
    lt_status s = dm_eval_open(&e);
    if (s == LT_OK)
        s = dm_eval_sample(&e);
    if (s == LT_OK)
        dm_eval_settings(&e, out);
    if (s == LT_OK)
        s = per_class_table(&e, out, &pass);
    if (s == LT_OK)
        s = overall_table(&e, out, &pass);
    if (s == LT_OK) {
        lt_report_set(out, "accepted", pass ? "yes" : "no");
        out->seconds = lt_clock_seconds() - t0;
        if (samples) {
            *samples = e.x;
            e.x = NULL;
        }
    }
    dm_eval_free(&e);
    return s;
}

/* The run in the precision its config asks for (core.h). */
lt_status lt_bench_dm_eval(const lt_bench_dm_cfg *c, lt_report *out,
                           float **samples)
{
    lt_precision old =
        lt_precision_enter(c ? c->precision : LT_PRECISION_DEFAULT);
    lt_status r = lt_bench_dm_eval_body(c, out, samples);
    lt_set_default_precision(old);
    return r;
}
