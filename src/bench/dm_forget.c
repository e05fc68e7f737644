/*
 * dm_forget.c - the class-wise diffusion-unlearning protocol
 * (lt_bench_dm_forget, lethe/bench_dm.h): for every forgotten class,
 * method and seed, unlearn a fresh copy of the base UNet, sample the
 * forgotten class and the retained classes, and judge the samples with
 * the independent evaluator (UA, P(c_f), entropy, the predicted-class
 * histogram; FD of the retained classes with its real-vs-real floor).
 * Retrain models and the quick setting's base model are trained here with
 * lethe/diffusion.h's recipe and cached by everything that shapes them.
 * Under mpirun the runs (method x seed of a class) are dealt to the ranks,
 * rank 0 trains the base model while the others wait, and every finished
 * run is kept in CACHE/runs (--resume skips it): bench_dist.h,
 * docs/mpi.md.
 */
#include "lethe/bench_dm.h"
#include "lethe/dist.h"
#include "lethe/image_metrics.h"
#include "lethe/io.h"
#include "lethe/safetensors.h"

#include "bench_dist.h"
#include "dm_forget.h"
#include "bench_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* ---- the run's shared state --------------------------------------------------- */

typedef struct {
    const lt_bench_dm_forget_cfg *c;
    char base[1024];          /* the base model's file */
    lt_dm_schedule s;
    lt_unet_config ucfg;
    char arch[160];
    lt_image_classifier ic;
    lt_dataset tr, te;
    float *x;                 /* training images in [-1, 1] */
    int32_t *y;
    int64_t n, per;
    int K;
    lt_table *metrics, *hist, *spot; /* spot: only with spot_samples */
    lt_dmu_sa_data sa[2];     /* SA's replay set and Fisher (once; [1]:
                                 sa-short's) */
    lt_report *r;
    int64_t unit;             /* runs claimed so far (bench_dist.h) */
    char row[200];            /* the run under way (a failure's message) */
} dmf;

static void dmf_free(dmf *d)
{
    lt_dm_schedule_free(&d->s);
    lt_image_classifier_free(&d->ic);
    lt_dataset_free(&d->tr);
    lt_dataset_free(&d->te);
    free(d->x);
    free(d->y);
    lt_dmu_sa_data_free(&d->sa[0]);
    lt_dmu_sa_data_free(&d->sa[1]);
}

static void dmf_train_note(const lt_dm_train_event *e, void *ud)
{
    const dmf *d = ud;
    if (e->step == e->steps || e->step % 100 == 0)
        lt_bench_note(d->c->progress, d->c->ud, "  dm train %lld/%lld loss "
                      "%.2f", (long long)e->step, (long long)e->steps,
                      (double)e->loss);
}

/* Train (or resume into) a model of arch on the training images without
 * class exclude (-1: all) into path. */
static lt_status dmf_train(dmf *d, const char *arch, int exclude,
                           int64_t steps, uint64_t seed, const char *path)
{
    lt_unet *u = NULL;
    float *x = NULL;
    int32_t *y = NULL;
    int64_t n = 0;
    lt_dm_schedule s = {0};
    lt_status st = lt_unet_create(arch, &u);
    if (st == LT_OK)
        st = lt_dm_schedule_make("linear", 1000, &s);
    if (st == LT_OK)
        st = lt_dataset_images_pm1(&d->tr, exclude, &x, &y, &n);
    if (st == LT_OK) {
        lt_unet_init(u, seed);
        lt_dm_train_config tc = lt_dm_train_defaults();
        tc.steps = steps;
        tc.seed = seed;
        lt_bench_note(d->c->progress, d->c->ud, "bench dm: training %s "
                      "(%lld steps%s) -> %s", arch, (long long)steps,
                      exclude >= 0 ? ", Retrain" : "", path);
        st = lt_dm_train(u, &s, x, y, n, &tc, path, true, dmf_train_note, d);
    }
    lt_unet_free(u);
    lt_dm_schedule_free(&s);
    free(x);
    free(y);
    return st;
}

/* The base model: the given file, or one trained into the cache. */
static lt_status dmf_base(dmf *d)
{
    const lt_bench_dm_forget_cfg *c = d->c;
    if (c->model) {
        snprintf(d->base, sizeof d->base, "%s", c->model);
        return LT_OK;
    }
    uint64_t h = lt_bench_fnv(c->base_arch);
    h = lt_bench_fnv_bytes(h, &c->base_steps, sizeof c->base_steps);
    h = lt_bench_fnv_bytes(h, c->data, strlen(c->data));
    h = lt_bench_fnv_precision(h); /* a bf16 run's is its own */
    snprintf(d->base, sizeof d->base, "%s/dm-base-%016llx.safetensors",
             c->cache, (unsigned long long)h);
    if (lt_bench_exists(d->base))
        return LT_OK;
    return dmf_train(d, c->base_arch, -1, c->base_steps, 1, d->base);
}

static lt_status dmf_open(dmf *d)
{
    const lt_bench_dm_forget_cfg *c = d->c;
    lt_unet *u = NULL;
    lt_status st = c->cache ? lt_mkdirs(c->cache) : LT_OK;
    if (st == LT_OK)
        st = lt_dataset_load(c->data, "train", &d->tr);
    if (st == LT_OK)
        st = lt_dataset_load(c->data, "test", &d->te);
    if (st == LT_OK)
        st = lt_image_classifier_load(c->classifier, &d->ic);
    if (st == LT_OK)
        st = dmf_base(d);
    if (st == LT_OK)
        st = lt_unet_load(d->base, &u, &d->s);
    if (st == LT_OK && u->cfg.kind != LT_UNET_CLASS)
        st = lt_set_error(LT_ERR_ARG, "bench dm: %s is a text-conditioned "
                          "model (%s); class-wise forgetting needs a "
                          "class-conditional one", d->base, u->arch);
    if (st == LT_OK && (d->tr.classes != u->cfg.classes ||
                        d->tr.c != u->cfg.in_ch || d->tr.h != u->cfg.res))
        st = lt_set_error(LT_ERR_ARG, "bench dm: %s (%d classes of %dx%d) "
                          "does not match the model %s", c->data,
                          d->tr.classes, d->tr.h, d->tr.w, u->arch);
    if (st == LT_OK) {
        d->ucfg = u->cfg;
        snprintf(d->arch, sizeof d->arch, "%s", u->arch);
        d->K = u->cfg.classes;
        d->per = (int64_t)d->tr.c * d->tr.h * d->tr.w;
        st = lt_dataset_images_pm1(&d->tr, -1, &d->x, &d->y, &d->n);
    }
    lt_unet_free(u);
    return st;
}

/* ---- tables --------------------------------------------------------------------- */

static const lt_table_col dmf_cols[] = {
    {"method", "Method", NULL, 0, false},
    {"loss", "Loss", NULL, 0, false},
    {"mask", "Mask", NULL, 0, false},
    {"class", "Class", NULL, 0, false},
    {"UA", "UA (%)", "%.1f", 0, false},
    {"p_forget", "P(c_f)", "%.3f", 0, false},
    {"entropy", "Entropy", "%.3f", 0, false},
    {"FD", "FD retained", "%.2f", 0, false},
    {"FD_floor", "FD floor", "%.2f", 0, false},
    {"seconds", "Time (s)", "%.1f", 0, false},
    {"rss_mb", "Peak RSS (MB)", "%.0f", 0, false},
};
#define DMF_NUM0 4 /* the first number column */

/* The spot check's table: the forgotten class under SalUn's own sampler
 * beside the main sampler's UA of the same run. */
static lt_status dmf_spot_table(dmf *d, lt_report *r)
{
    static const lt_table_col sc[] = {
        {"method", "Method", NULL, 0, false},
        {"class", "Class", NULL, 0, false},
        {"UA_spot", "UA (%), spot sampler", "%.1f", 0, false},
        {"p_forget_spot", "P(c_f), spot sampler", "%.3f", 0, false},
        {"entropy_spot", "Entropy, spot sampler", "%.3f", 0, false},
        {"UA_main", "UA (%), main sampler", "%.1f", 0, false},
    };
    char title[512], smp[160], msmp[160];
    lt_dm_sample_describe(&d->c->spot_sample, d->s.T, smp, sizeof smp);
    lt_dm_sample_describe(&d->c->sample, d->s.T, msmp, sizeof msmp);
    snprintf(title, sizeof title, "Spot check: the forgotten class under "
             "SalUn's own sampler (%.150s) on %d samples, beside UA of the "
             "main sampler (%.150s, %d samples) of the same model; do the "
             "rankings hold?", smp, d->c->spot_samples, msmp,
             d->c->ua_samples);
    d->spot = lt_report_table(r, title, sc, (int)(sizeof sc / sizeof *sc));
    return d->spot ? LT_OK : lt_last_status();
}

static lt_status dmf_tables(dmf *d, lt_report *r)
{
    char title[256];
    snprintf(title, sizeof title, "Class-wise forgetting: UA by the "
             "evaluator on %d samples of the forgotten class; FD on %d "
             "samples of each retained class", d->c->ua_samples,
             d->c->fd_per_class);
    d->metrics = lt_report_table(r, title, dmf_cols,
                                 (int)(sizeof dmf_cols / sizeof *dmf_cols));
    if (!d->metrics || d->K > LT_TABLE_MAX_COLS - 2)
        return d->metrics ? LT_OK : lt_last_status();
    static lt_table_col hc[LT_TABLE_MAX_COLS];
    static char keys[LT_TABLE_MAX_COLS][16];
    hc[0] = (lt_table_col){"method", "Method", NULL, 0, false};
    hc[1] = (lt_table_col){"class", "Class", NULL, 0, false};
    for (int k = 0; k < d->K; k++) {
        snprintf(keys[k], sizeof keys[k], "p%d", k);
        hc[2 + k] = (lt_table_col){keys[k], keys[k], "%.1f", 0, false};
    }
    d->hist = lt_report_table(r, "Predicted classes of the forgotten "
                              "class's samples (% of samples, pK = "
                              "evaluator says class K)", hc, 2 + d->K);
    if (!d->hist)
        return lt_last_status();
    return d->c->spot_samples > 0 ? dmf_spot_table(d, r) : LT_OK;
}

/* The row of t whose first nt text cells are text[], added if new. */
static lt_table_row *dmf_row(lt_table *t, const char *const *text, int nt)
{
    for (int i = 0; i < t->n_rows; i++) {
        bool same = true;
        for (int j = 0; j < nt; j++)
            same = same && !strcmp(t->rows[i].text[j], text[j]);
        if (same)
            return &t->rows[i];
    }
    lt_table_row *row = lt_table_add_row(t);
    for (int j = 0; row && j < nt; j++)
        snprintf(row->text[j], LT_TABLE_TEXT, "%s", text[j]);
    return row;
}

/* ---- one run -------------------------------------------------------------------- */

typedef struct {
    int cf;                   /* the forgotten class */
    int32_t retained[DMF_MAX_CLASSES * 64];
    int n_ret;
    lt_fd_stats real;         /* real test images of the retained classes */
    double floor;
} dmf_class;

static lt_status dmf_class_open(dmf *d, int cf, dmf_class *k)
{
    const lt_bench_dm_forget_cfg *c = d->c;
    memset(k, 0, sizeof *k);
    k->cf = cf;
    if (d->K > (int)(sizeof k->retained / sizeof *k->retained))
        return lt_set_error(LT_ERR_ARG, "bench dm: %d classes is too many",
                            d->K);
    for (int j = 0; j < d->K; j++)
        if (j != cf)
            k->retained[k->n_ret++] = j;
    lt_fd_terms fl = {.fd = NAN};
    lt_status st = lt_fd_stats_of_dataset(&d->ic, &d->te, k->retained,
                                          k->n_ret, c->fd_per_class,
                                          c->eval_seed, &k->real);
    if (st == LT_OK)
        st = lt_fd_floor(&d->ic, &d->tr, &d->te, k->retained, k->n_ret,
                         c->fd_per_class, c->eval_seed + 1, &fl);
    k->floor = fl.fd;
    return st;
}

static void dmf_unlearn_note(const lt_dmu_event *e, void *ud)
{
    const dmf *d = ud;
    int64_t every = e->steps / 10 > 0 ? e->steps / 10 : 1;
    if (e->step == e->steps || e->step % every == 0)
        lt_bench_note(d->c->progress, d->c->ud, "  unlearn %lld/%lld loss "
                      "%.4f (forget %.4f, retain %.2f)", (long long)e->step,
                      (long long)e->steps, (double)e->loss,
                      (double)e->forget, (double)e->retain);
}

/* The Retrain model of class cf and seed (trained and cached if new). */
static lt_status dmf_retrain(dmf *d, int cf, uint64_t seed, lt_unet **u,
                             lt_dm_schedule *s)
{
    const lt_bench_dm_forget_cfg *c = d->c;
    uint64_t h = lt_bench_fnv(d->arch);
    h = lt_bench_fnv_bytes(h, c->data, strlen(c->data));
    h = lt_bench_fnv_bytes(h, &cf, sizeof cf);
    h = lt_bench_fnv_bytes(h, &seed, sizeof seed);
    h = lt_bench_fnv_bytes(h, &c->retrain_steps, sizeof c->retrain_steps);
    h = lt_bench_fnv_precision(h);
    char path[1200];
    snprintf(path, sizeof path, "%s/dm-retrain-c%d-s%llu-%016llx.safetensors",
             c->cache, cf, (unsigned long long)seed, (unsigned long long)h);
    lt_status st = LT_OK;
    if (!lt_bench_exists(path))
        st = dmf_train(d, d->arch, cf, c->retrain_steps, seed, path);
    return st == LT_OK ? lt_unet_load(path, u, s) : st;
}

static void dmf_sa_note(const lt_dmu_sa_event *e, void *ud)
{
    const dmf *d = ud;
    int64_t every = e->steps / 10 > 0 ? e->steps / 10 : 1;
    if (e->step == e->steps || e->step % every == 0)
        lt_bench_note(d->c->progress, d->c->ud, "  sa %lld/%lld loss %.2f "
                      "(forget %.2f, replay %.2f, ewc %.4f)",
                      (long long)e->step, (long long)e->steps,
                      (double)e->loss, (double)e->forget, (double)e->replay,
                      (double)e->ewc);
}

/* SA's replay set and Fisher of the base model into d->sa[k] (k 1: the
 * short preset's): made once per run (they do not depend on the class)
 * and cached by the base weights and the settings. Their time is
 * recorded apart (sa_prep_seconds, sa_short_prep_seconds). */
static lt_status dmf_sa_data(dmf *d, int k)
{
    const lt_bench_dm_forget_cfg *c = d->c;
    const lt_dmu_sa_prep_config *prep = k ? &c->sa_short_prep : &c->sa_prep;
    lt_dmu_sa_data *sa = &d->sa[k];
    if (sa->fisher)
        return LT_OK;
    char hex[65], desc[512], key[640], path[1200] = "";
    lt_status st = lt_st_weights_sha256(d->base, hex);
    if (st != LT_OK)
        return st;
    lt_dmu_sa_prep_describe(prep, desc, sizeof desc);
    snprintf(key, sizeof key, "%s; %s%s", hex, desc,
             lt_bench_precision_key());
    lt_unet *u = NULL;
    lt_dm_schedule s = {0};
    st = lt_unet_load(d->base, &u, &s);
    if (st == LT_OK && c->cache)
        snprintf(path, sizeof path, "%s/dm-sa-%016llx.safetensors", c->cache,
                 (unsigned long long)lt_bench_fnv(key));
    if (st == LT_OK && path[0] && lt_bench_exists(path)) {
        st = lt_dmu_sa_load(path, u, "lethe.sa.key", key, sa);
    } else if (st == LT_OK) {
        lt_bench_note(c->progress, c->ud, "bench dm: %s replay set and "
                      "Fisher (%s)", k ? "sa-short" : "SA", desc);
        double t0 = lt_clock_seconds();
        st = lt_dmu_sa_prepare(u, &s, prep, NULL, NULL, sa);
        if (st == LT_OK)
            st = lt_report_set_num(d->r, k ? "sa_short_prep_seconds"
                                           : "sa_prep_seconds",
                                   lt_clock_seconds() - t0);
        const char *meta[] = {"lethe.sa.key", key, "lethe.sa.base", d->base};
        if (st == LT_OK && path[0])
            st = lt_dmu_sa_save(path, sa, meta, 2);
    }
    lt_unet_free(u);
    lt_dm_schedule_free(&s);
    return st;
}

/* SA (k 1: the short preset) on *u (the base) for class cf and seed with
 * mask (NULL: none). */
static lt_status dmf_sa_run(dmf *d, int k, int cf, uint64_t seed,
                            lt_unet *u, const lt_dm_schedule *s,
                            const float *mask)
{
    const lt_bench_dm_forget_cfg *c = d->c;
    lt_dmu_sa_config sc = k ? c->sa_short : c->sa;
    sc.forget_class = cf;
    sc.seed = seed;
    sc.steps = c->unlearn.steps > 0 ? c->unlearn.steps : sc.steps;
    sc.batch = c->unlearn.batch > 0 ? c->unlearn.batch : sc.batch;
    sc.chunk = c->unlearn.chunk;
    return lt_dmu_sa_run(u, s, &d->sa[k], &sc, mask, dmf_sa_note, d);
}

/* The model of method m for class cf and seed into *u (mask + unlearning
 * time in *secs). */
static lt_status dmf_model(dmf *d, const dmf_method *m, int cf, uint64_t seed,
                           lt_unet **u, lt_dm_schedule *s, double *secs)
{
    const lt_bench_dm_forget_cfg *c = d->c;
    double t0 = lt_clock_seconds();
    *secs = 0;
    if (m->retrain) {
        lt_status st = dmf_retrain(d, cf, seed, u, s);
        *secs = NAN; /* cached trainings are not timed here */
        return st;
    }
    lt_status st = m->sa ? dmf_sa_data(d, m->sa_short) : LT_OK;
    t0 = lt_clock_seconds(); /* SA's shared preparation is not timed here */
    if (st == LT_OK)
        st = lt_unet_load(d->base, u, s);
    if (st != LT_OK || m->original)
        return st;
    lt_dmu_config uc = c->unlearn;
    uc.loss = m->loss;
    uc.esd_from_data = uc.esd_from_data || m->esd_data;
    int64_t steps;
    int batch;
    lt_dmu_recipe(uc.loss, uc.esd_from_data, &steps, &batch);
    uc.steps = uc.steps > 0 ? uc.steps : steps;
    uc.batch = uc.batch > 0 ? uc.batch : batch;
    uc.forget_class = cf;
    uc.seed = seed;
    if (m->no_retain)
        uc.alpha = 0;
    lt_dmu_mask_config mc = c->mask;
    mc.seed = seed;
    float *mask = NULL;
    st = lt_dmu_mask_spec(*u, s, d->x, d->y, d->n, cf, m->mask, &mc, &mask);
    if (st == LT_OK && m->sa)
        st = dmf_sa_run(d, m->sa_short, cf, seed, *u, s, mask);
    else if (st == LT_OK)
        st = lt_dmu_run(*u, s, d->x, d->y, d->n, &uc, mask, dmf_unlearn_note,
                        d);
    free(mask);
    *secs = lt_clock_seconds() - t0;
    return st;
}

/* Samples of classes cls[n] from sampler smp with seed offset off; probs
 * and feats of the evaluator (either may be NULL). */
static lt_status dmf_judge(dmf *d, lt_unet *u, const lt_dm_schedule *s,
                           const lt_dm_sample_config *smp,
                           const int32_t *cls, int64_t n, uint64_t off,
                           float *probs, float *feats)
{
    lt_dm_sample_config sc = *smp;
    sc.seed += off;
    float *x = malloc((size_t)(n * d->per) * sizeof *x);
    if (!x)
        return lt_set_error(LT_ERR_NOMEM, "bench dm: out of memory");
    lt_status st = lt_dm_sample(u, s, &sc, n, cls, x, NULL, NULL);
    if (st == LT_OK)
        st = lt_image_classify(&d->ic, x, n, LT_PIXELS_PM1, probs, feats);
    free(x);
    return st;
}

/* UA, P(c_f) and entropy (v[0..2]) and the histogram (hist[K], %; may
 * be NULL) of n samples of the forgotten class from sampler smp with seed
 * offset off. */
static lt_status dmf_forget_metrics(dmf *d, lt_unet *u,
                                    const lt_dm_schedule *s,
                                    const lt_dm_sample_config *smp,
                                    int64_t n, int cf, uint64_t off,
                                    double *v, double *hist)
{
    float *p = malloc((size_t)(n * d->K) * sizeof *p);
    int32_t *cls = malloc((size_t)n * sizeof *cls);
    lt_status st = p && cls ? LT_OK : lt_set_error(LT_ERR_NOMEM, "bench dm: "
                                                   "out of memory");
    for (int64_t i = 0; st == LT_OK && i < n; i++)
        cls[i] = cf;
    if (st == LT_OK)
        st = dmf_judge(d, u, s, smp, cls, n, off, p, NULL);
    lt_class_sample_metrics m;
    if (st == LT_OK)
        st = lt_class_sample_metrics_compute(p, n, d->K, cf, &m);
    if (st == LT_OK) {
        v[0] = 100.0 - m.accuracy;
        v[1] = m.target_prob;
        v[2] = m.entropy;
        for (int k = 0; hist && k < d->K; k++)
            hist[k] = 0;
        for (int64_t i = 0; hist && i < n; i++) {
            int best = 0;
            for (int k = 1; k < d->K; k++)
                if (p[i * d->K + k] > p[i * d->K + best])
                    best = k;
            hist[best] += 100.0 / (double)n;
        }
    }
    free(p);
    free(cls);
    return st;
}

/* FD of fd_per_class samples of every retained class to the real ones. */
static lt_status dmf_retain_fd(dmf *d, lt_unet *u, const lt_dm_schedule *s,
                               const dmf_class *k, uint64_t seed, double *fd)
{
    int64_t pc = d->c->fd_per_class, n = pc * k->n_ret;
    int64_t D = lt_model_feature_dim(d->ic.model);
    float *f = malloc((size_t)(n * D) * sizeof *f);
    int32_t *cls = malloc((size_t)n * sizeof *cls);
    lt_status st = f && cls ? LT_OK : lt_set_error(LT_ERR_NOMEM, "bench dm: "
                                                   "out of memory");
    for (int64_t i = 0; st == LT_OK && i < n; i++)
        cls[i] = k->retained[i / pc];
    if (st == LT_OK)
        st = dmf_judge(d, u, s, &d->c->sample, cls, n, 1000 * seed + 500,
                       NULL, f);
    lt_fd_stats a = {0};
    if (st == LT_OK)
        st = lt_fd_stats_compute(f, n, (int)D, &a);
    if (st == LT_OK)
        st = lt_fd(&a, &k->real, fd);
    lt_fd_stats_free(&a);
    free(f);
    free(cls);
    return st;
}

static double dmf_peak_rss_mb(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss / 1024.0 : NAN;
}

/* The outcome of one method x class x seed, computed by the rank that
 * owns it and sent to the others. */
typedef struct {
    int state;                     /* 0: not run, 1: done, 2: diverged */
    double v[LT_TABLE_MAX_COLS];   /* the metrics row's run */
    double w[LT_TABLE_MAX_COLS];   /* the histogram row's run */
    double z[LT_TABLE_MAX_COLS];   /* the spot-check row's run */
    char message[320];             /* diverged: why */
} dmf_unit;

/* Compute run (m, class k, seed) into *r; a method that diverges is a
 * run like any other (state 2), other errors stop the protocol. */
static lt_status dmf_compute(dmf *d, const dmf_method *m, const dmf_class *k,
                             uint64_t seed, dmf_unit *r)
{
    lt_bench_note(d->c->progress, d->c->ud, "bench dm: %s, class %d, seed "
                  "%llu", m->name, k->cf, (unsigned long long)seed);
    lt_unet *u = NULL;
    lt_dm_schedule s = {0};
    double hist[LT_TABLE_MAX_COLS] = {0}, secs = NAN;
    for (int i = 0; i < LT_TABLE_MAX_COLS; i++)
        r->v[i] = r->w[i] = r->z[i] = NAN;
    lt_status st = dmf_model(d, m, k->cf, seed, &u, &s, &secs);
    if (st == LT_ERR_NAN) { /* the method diverged: a failed row */
        r->state = 2;
        snprintf(r->message, sizeof r->message, "%s class %d seed %llu: %s",
                 m->name, k->cf, (unsigned long long)seed, lt_last_error());
        lt_unet_free(u);
        lt_dm_schedule_free(&s);
        return LT_OK;
    }
    const lt_bench_dm_forget_cfg *c = d->c;
    if (st == LT_OK)
        st = dmf_forget_metrics(d, u, &s, &c->sample, c->ua_samples, k->cf,
                                1000 * seed, &r->v[DMF_NUM0], hist);
    if (st == LT_OK && c->spot_samples > 0) { /* SalUn's own sampler */
        st = dmf_forget_metrics(d, u, &s, &c->spot_sample, c->spot_samples,
                                k->cf, 1000 * seed + 700, &r->z[2], NULL);
        r->z[5] = r->v[DMF_NUM0];
    }
    if (st == LT_OK)
        st = dmf_retain_fd(d, u, &s, k, seed, &r->v[DMF_NUM0 + 3]);
    lt_unet_free(u);
    lt_dm_schedule_free(&s);
    if (st != LT_OK)
        return st;
    r->v[DMF_NUM0 + 4] = k->floor;
    r->v[DMF_NUM0 + 5] = secs;
    r->v[DMF_NUM0 + 6] = dmf_peak_rss_mb();
    for (int i = 2; i < 2 + d->K && i < LT_TABLE_MAX_COLS; i++)
        r->w[i] = hist[i - 2];
    r->state = 1;
    return LT_OK;
}

/* Run r of (m, class k) into the tables: a run of its rows, or the row
 * marked failed when the method diverged. */
static lt_status dmf_apply(dmf *d, const dmf_method *m, const dmf_class *k,
                           const dmf_unit *r)
{
    char cls[16];
    snprintf(cls, sizeof cls, "%d", k->cf);
    const char *loss = m->original || m->retrain ? "-"
                       : m->sa_short             ? "sa (short preset)"
                       : m->sa                   ? "sa"
                                                 : lt_dmu_loss_name(m->loss);
    const char *mask = m->original || m->retrain ? "-" : m->mask;
    const char *mt[4] = {m->name, loss, mask, cls}, *ht[2] = {m->name, cls};
    lt_table_row *row = dmf_row(d->metrics, mt, 4);
    if (!row)
        return lt_last_status();
    if (r->state == 2) {
        row->failed = row->diverged = true;
        snprintf(row->message, sizeof row->message, "%s", r->message);
        return LT_OK;
    }
    lt_status st = lt_table_row_add_run(row, r->v);
    if (st == LT_OK && d->hist) {
        lt_table_row *h = dmf_row(d->hist, ht, 2);
        st = h ? lt_table_row_add_run(h, r->w) : lt_last_status();
    }
    if (st == LT_OK && d->spot) {
        lt_table_row *z = dmf_row(d->spot, ht, 2);
        st = z ? lt_table_row_add_run(z, r->z) : lt_last_status();
    }
    return st;
}

/* The part of a run's key that only Selective Amnesia has: its loop's
 * settings and those of its replay set and Fisher (empty for the other
 * methods, so their keys stay as they were). */
static void dmf_sa_key(const dmf *d, const dmf_method *m, char *buf,
                       size_t n)
{
    buf[0] = '\0';
    if (!m->sa && !m->sa_short)
        return;
    const lt_dmu_sa_config *a = m->sa_short ? &d->c->sa_short : &d->c->sa;
    char prep[512];
    lt_dmu_sa_prep_describe(m->sa_short ? &d->c->sa_short_prep
                                        : &d->c->sa_prep, prep, sizeof prep);
    snprintf(buf, n, "|sa %a %a %lld %d %a %a %a %llu %d|%s",
             (double)a->lambda, (double)a->gamma, (long long)a->steps,
             a->batch, (double)a->lr, (double)a->clip, (double)a->ema,
             (unsigned long long)a->seed, a->chunk, prep);
}

/* The key of run (method m named name, class cf, seed)'s file: everything
 * that shapes its result, and the commit. */
static uint64_t dmf_unit_key(const dmf *d, const dmf_method *m,
                             const char *name, int cf, uint64_t seed)
{
    const lt_bench_dm_forget_cfg *c = d->c;
    const lt_dmu_config *u = &c->unlearn;
    const lt_dmu_mask_config *k = &c->mask;
    const lt_dm_sample_config *sm = &c->sample;
    char key[4096], sa[768];
    dmf_sa_key(d, m, sa, sizeof sa);
    snprintf(key, sizeof key, "dm-run|v1|%s|%s|%s|%s|%s|%s|%d|%llu|"
             "%d %d %d %d %a %a %a %a %lld %d %a %a %d|%a %d %a %a %llu|"
             "%d %a %d %a %llu %d|%lld %d %d %llu|%d %d %a %d %a %llu%s",
             lt_bench_commit(),
             d->base, d->arch, c->data, c->classifier, name, cf,
             (unsigned long long)seed, (int)u->target_class,
             (int)u->random_target, (int)u->pair_drop, (int)u->esd_from_data,
             (double)u->alpha, (double)u->esd_eta, (double)u->esd_w,
             (double)u->esd_sample_eta, (long long)u->steps, u->batch,
             (double)u->lr, (double)u->clip, u->chunk, (double)k->w,
             k->batch, k->ratio, (double)k->clip, (unsigned long long)k->seed,
             sm->steps, (double)sm->eta, (int)sm->guidance, (double)sm->w,
             (unsigned long long)sm->seed, sm->batch,
             (long long)c->retrain_steps, c->ua_samples, c->fd_per_class,
             (unsigned long long)c->eval_seed, c->spot_samples,
             c->spot_sample.steps, (double)c->spot_sample.eta,
             (int)c->spot_sample.guidance, (double)c->spot_sample.w,
             (unsigned long long)c->spot_sample.seed, sa);
    return lt_bench_fnv(key);
}

/* Run (m, class k, seed), unit number q of the sweep: computed here when
 * this rank owns it (or loaded with --resume) and kept in CACHE/runs. */
static lt_status dmf_unit_run(dmf *d, const dmf_method *m, const char *name,
                              const dmf_class *k, uint64_t seed, dmf_unit *r)
{
    snprintf(d->row, sizeof d->row, "%s (class %d, seed %llu)", name, k->cf,
             (unsigned long long)seed);
    if (!lt_bench_mine(d->unit++))
        return LT_OK;
    uint64_t key = d->c->cache ? dmf_unit_key(d, m, name, k->cf, seed) : 0;
    /* run 0: the metrics, 1: the histogram, 2: the spot check (if on) */
    lt_table_row kept = {0};
    int runs = d->c->spot_samples > 0 ? 3 : 2;
    if (key && d->c->resume &&
        lt_bench_row_load(d->c->cache, key, &kept, LT_TABLE_MAX_COLS) &&
        kept.n == runs) {
        lt_bench_note(d->c->progress, d->c->ud, "bench dm: %s done before "
                      "(--resume)", d->row);
        r->state = kept.diverged ? 2 : 1;
        memcpy(r->v, kept.v[0], sizeof r->v);
        memcpy(r->w, kept.v[1], sizeof r->w);
        if (runs == 3)
            memcpy(r->z, kept.v[2], sizeof r->z);
        snprintf(r->message, sizeof r->message, "%s", kept.message);
        return LT_OK;
    }
    if (lt_dist_size() > 1) /* names the run if this rank is killed */
        lt_bench_note(d->c->progress, d->c->ud, "bench dm: %s running",
                      d->row);
    lt_status st = dmf_compute(d, m, k, seed, r);
    if (st != LT_OK || !key)
        return st;
    kept.n = runs;
    memcpy(kept.v[0], r->v, sizeof r->v);
    memcpy(kept.v[1], r->w, sizeof r->w);
    memcpy(kept.v[2], r->z, sizeof r->z);
    kept.failed = kept.diverged = r->state == 2;
    snprintf(kept.message, sizeof kept.message, "%s", r->message);
    st = lt_bench_row_save(d->c->cache, key, &kept, LT_TABLE_MAX_COLS);
    return st == LT_OK ? LT_OK : lt_set_error(st, "keeping the run: %s",
                                              lt_last_error());
}

/* The settings line key of an SA method: what it computes. */
static lt_status dmf_sa_setting(lt_report *r, const char *key,
                                const char *note, const lt_dmu_sa_config *sa,
                                const lt_dmu_sa_prep_config *p)
{
    char line[896], prep[512];
    lt_dmu_sa_prep_describe(p, prep, sizeof prep);
    snprintf(line, sizeof line, "%s%lld steps of %d (unless the run's "
             "steps and batch are set), lambda %g, gamma %g, Adam lr %g, "
             "ema %s; %s", note, (long long)sa->steps, sa->batch,
             (double)sa->lambda, (double)sa->gamma, (double)sa->lr,
             sa->ema == LT_DMU_SA_EMA_AUTO ? "0.9999^(20000/steps)"
                                           : "as given", prep);
    return lt_report_set(r, key, line);
}

/* ---- the protocol ---------------------------------------------------------------- */

static lt_status dmf_settings(dmf *d, lt_report *r)
{
    const lt_bench_dm_forget_cfg *c = d->c;
    char desc[160], buf[192];
    lt_dm_sample_describe(&c->sample, d->s.T, desc, sizeof desc);
    snprintf(r->title, sizeof r->title, "Class-wise forgetting on the "
             "class-conditional DDPM %.300s (%.100s)", d->base, d->arch);
    lt_status st = lt_bench_common_settings(r, c->command);
    const char *kv[][2] = {{"model", d->base}, {"arch", d->arch},
                           {"data", c->data}, {"classifier", c->classifier},
                           {"classes", c->classes},
                           {"methods", dmf_methods(c)}, {"sampler", desc}};
    for (size_t i = 0; st == LT_OK && i < sizeof kv / sizeof *kv; i++)
        st = lt_report_set(r, kv[i][0], kv[i][1]);
    if (c->unlearn.steps > 0 && c->unlearn.batch > 0)
        snprintf(buf, sizeof buf, "%lld steps of %d (+ %d retain), Adam lr "
                 "%g, clip %g", (long long)c->unlearn.steps, c->unlearn.batch,
                 c->unlearn.batch, (double)c->unlearn.lr,
                 (double)c->unlearn.clip);
    else
        snprintf(buf, sizeof buf, "official loops: rl/ga 1000 steps of 128 "
                 "(+ 128 retain), esd 10000 of 1, sa 20000 of 128 (+ 128 "
                 "noise images); Adam lr %g, clip %g",
                 (double)c->unlearn.lr, (double)c->unlearn.clip);
    if (st == LT_OK)
        st = lt_report_set(r, "unlearning", buf);
    lt_unet probe = {.cfg = d->ucfg};
    if (st == LT_OK)
        st = lt_report_set_num(r, "alpha", lt_dmu_alpha(&c->unlearn, &probe));
    if (st == LT_OK && dmf_has_sa(c, false))
        st = dmf_sa_setting(r, "sa", "", &c->sa, &c->sa_prep);
    if (st == LT_OK && dmf_has_sa(c, true))
        st = dmf_sa_setting(r, "sa-short", "Lethe's short preset, NOT the "
                            "official SA: ", &c->sa_short,
                            &c->sa_short_prep);
    if (st == LT_OK && c->spot_samples > 0) {
        char smp[160], line[224];
        lt_dm_sample_describe(&c->spot_sample, d->s.T, smp, sizeof smp);
        snprintf(line, sizeof line, "%d samples of the forgotten class, %s, "
                 "seed %llu + offset", c->spot_samples, smp,
                 (unsigned long long)c->spot_sample.seed);
        st = lt_report_set(r, "spot_check", line);
    }
    if (st == LT_OK)
        st = lt_report_set_num(r, "seeds", c->seeds);
    if (st == LT_OK)
        st = lt_report_set_num(r, "retrain_steps", (double)c->retrain_steps);
    return st;
}

/* Every method x seed of class cf: this rank's runs, then (a collective)
 * the failure check and every rank's runs to every rank, added to the
 * tables in the single-process order. */
static lt_status dmf_class_runs(dmf *d, int cf)
{
    const lt_bench_dm_forget_cfg *c = d->c;
    if (cf >= d->K)
        return lt_set_error(LT_ERR_ARG, "bench dm: class %d: the model has "
                            "classes 0..%d", cf, d->K - 1);
    int nm = 0, n;
    char buf[LT_TABLE_TEXT];
    while (lt_list_item(dmf_methods(c), nm, buf, sizeof buf))
        nm++;
    n = nm * c->seeds;
    dmf_unit *r = calloc((size_t)(n > 0 ? n : 1), sizeof *r);
    int *owner = malloc((size_t)(n > 0 ? n : 1) * sizeof *owner);
    dmf_class k;
    lt_status st = r && owner ? dmf_class_open(d, cf, &k)
                              : lt_set_error(LT_ERR_NOMEM, "bench dm: %d "
                                             "runs", n);
    for (int q = 0; q < n && r && owner; q++)
        owner[q] = (int)((d->unit + q) % lt_dist_size());
    for (int q = 0; st == LT_OK && q < n; q++) {
        dmf_method m;
        lt_list_item(dmf_methods(c), q / c->seeds, buf, sizeof buf);
        st = dmf_method_parse(buf, &m);
        if (st == LT_OK)
            st = dmf_unit_run(d, &m, buf, &k, (uint64_t)(q % c->seeds + 1),
                              &r[q]);
    }
    st = lt_bench_agree(st, d->row);
    /* the runs finished on every rank (also after a failure: same count) */
    lt_status sh = r && owner ? lt_bench_share(r, sizeof *r, n, owner)
                              : LT_OK;
    for (int q = 0; st == LT_OK && sh == LT_OK && q < n; q++) {
        dmf_method m;
        lt_list_item(dmf_methods(c), q / c->seeds, buf, sizeof buf);
        if (r[q].state && dmf_method_parse(buf, &m) == LT_OK)
            sh = dmf_apply(d, &m, &k, &r[q]);
    }
    if (r && owner)
        lt_fd_stats_free(&k.real);
    free(r);
    free(owner);
    return st != LT_OK ? st : sh;
}

static lt_status lt_bench_dm_forget_body(const lt_bench_dm_forget_cfg *c,
    lt_report *out)
{
    memset(out, 0, sizeof *out);
    if (lt_bench_dm_forget_check(c) != LT_OK)
        return lt_last_status();
    double t0 = lt_clock_seconds();
    dmf d = {.c = c, .r = out};
    int cls[DMF_MAX_CLASSES], nc = 0;
    lt_status st = dmf_classes(c->classes, cls, &nc);
    if (st == LT_OK && c->resume && !c->cache)
        st = lt_set_error(LT_ERR_ARG, "bench dm: --resume needs --cache "
                          "(the runs are kept there)");
    /* rank 0 trains (or finds) the base model while the others wait */
    bool lead = lt_dist_rank() == 0;
    if (st == LT_OK)
        st = lt_bench_agree(lead ? dmf_open(&d) : LT_OK, "the base model");
    if (st == LT_OK && !lead)
        st = dmf_open(&d);
    if (st == LT_OK)
        st = dmf_settings(&d, out);
    if (st == LT_OK)
        st = dmf_tables(&d, out);
    for (int i = 0; st == LT_OK && i < nc; i++)
        st = dmf_class_runs(&d, cls[i]);
    out->seconds = lt_clock_seconds() - t0;
    dmf_free(&d);
    return st;
}

/* The run in the precision its config asks for (core.h). */
lt_status lt_bench_dm_forget(const lt_bench_dm_forget_cfg *c, lt_report *out)
{
    lt_precision old =
        lt_precision_enter(c ? c->precision : LT_PRECISION_DEFAULT);
    lt_status r = lt_bench_dm_forget_body(c, out);
    lt_set_default_precision(old);
    return r;
}
