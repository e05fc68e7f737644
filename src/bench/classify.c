/*
 * classify.c - the classification unlearning protocols (lethe/bench.h).
 * lt_bench_classify trains (or reuses from a cache keyed by the
 * configuration) the original model and, per seed, the Retrain model;
 * runs every requested method from the original weights for each seed
 * (and each rate of an optional grid); and fills the SalUn-style table
 * (UA, RA, TA, MIA, Avg. Gap to Retrain, RTE; a run per seed). The metrics
 * of all the models of a seed are computed together, in parallel: the
 * MIA's SVM is single-threaded. lt_bench_worst_case (classify_worst.c)
 * runs the same for a random forget set and for the worst-case set of the
 * same size, through classify.h. Under mpirun the runs of each seed are
 * spread over the ranks and every run is kept in <cache>/runs, so --resume
 * skips it (bench_dist.h, docs/mpi.md).
 */
#include "bench/bench_dist.h"
#include "bench/bench_util.h"
#include "bench/classify.h"
#include "lethe/dist.h"
#include "lethe/io.h"
#include "lethe/methods.h"
#include "lethe/metrics.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

lt_bench_classify_cfg lt_bench_classify_defaults(void)
{
    return (lt_bench_classify_cfg){
        .data = "fashion-mnist", .model = "mlp:784-512-512-10",
        .forget = "random:10%", .methods = "all", .cache = "out/cache",
        .seeds = 3, .train_epochs = 5, .train_lr = 0.05f};
}

void lt_bench_classify_quick(lt_bench_classify_cfg *c)
{
    c->model = "mlp:784-32-10";
    c->methods = "ft,ga,salun";
    c->seeds = 1;
    c->train_epochs = 1;
}

/* The columns of the table (their indices: classify.h). */
const lt_table_col lt_cls_cols[C_N] = {
    {"label", "Method", NULL, 0, false},
    {"method", "method", NULL, 0, true},
    {"lr", "lr", "%g", 0, true},
    {"UA", "UA", "%.2f", 0, false},
    {"RA", "RA", "%.2f", 0, false},
    {"TA", "TA", "%.2f", 0, false},
    {"MIA", "MIA", "%.2f", 0, false},
    {"avg_gap", "Avg. Gap", "%.2f", 0, false},
    {"rte_s", "RTE (s)", "%.2f", 0, false},
};

/* ---- per-method settings from lr / lr_grid ------------------------------- */

/* The values listed for method name in spec ("m=v1:v2,m2=v"), up to max;
 * returns their count (0: not listed), -1 on a malformed spec. */
static int lt_lr_values(const char *spec, const char *name, float *v, int max)
{
    if (!spec)
        return 0;
    size_t len = strlen(name);
    for (const char *p = spec; *p;) {
        const char *eq = strchr(p, '=');
        if (!eq)
            return -1;
        bool match = (size_t)(eq - p) == len && !strncmp(p, name, len);
        int n = 0;
        const char *q = eq + 1;
        for (;;) {
            char *end;
            double x = strtod(q, &end);
            if (end == q || !(x > 0) || !isfinite(x))
                return -1;
            if (match && n < max)
                v[n++] = (float)x;
            q = end;
            if (*q != ':')
                break;
            q++;
        }
        if (match)
            return n;
        if (*q && *q != ',')
            return -1;
        p = *q ? q + 1 : q;
    }
    return 0;
}

/* Every name in an lr / lr grid spec is a method, every value a rate. */
static lt_status lt_lr_check(const char *what, const char *spec)
{
    char item[256];
    for (int i = 0; spec && lt_list_item(spec, i, item, sizeof item); i++) {
        char *eq = strchr(item, '=');
        lt_method_kind k;
        float v[1];
        if (eq)
            *eq = 0;
        if (!eq || lt_method_parse(item, &k) != LT_OK ||
            lt_lr_values(spec, item, v, 1) < 0)
            return lt_set_error(LT_ERR_ARG, "%s '%s': expected method=value"
                                "[:value...] with methods among %s", what,
                                spec, lt_method_names());
    }
    return LT_OK;
}

/* The methods to run (retrain excluded: it is the reference). */
static lt_status lt_cls_methods(const char *list, lt_method_kind *out, int *n)
{
    *n = 0;
    if (!strcmp(list, "all")) {
        for (int k = 0; k < LT_METHOD_COUNT; k++)
            if (k != LT_METHOD_RETRAIN)
                out[(*n)++] = (lt_method_kind)k;
        return LT_OK;
    }
    char item[64];
    for (int i = 0; lt_list_item(list, i, item, sizeof item); i++) {
        lt_method_kind k;
        if (lt_method_parse(item, &k) != LT_OK)
            return lt_set_error(LT_ERR_ARG, "methods: %s", lt_last_error());
        if (k != LT_METHOD_RETRAIN && *n < LT_METHOD_COUNT)
            out[(*n)++] = k;
    }
    return LT_OK;
}

lt_status lt_bench_classify_check(const lt_bench_classify_cfg *c)
{
    lt_method_kind ks[LT_METHOD_COUNT];
    int nk;
    lt_optim_config oc;
    lt_mask_spec ms;
    if (c->seeds < 1 || c->seeds > LT_TABLE_MAX_SEEDS)
        return lt_set_error(LT_ERR_ARG, "seeds %d is out of range [1, %d]",
                            c->seeds, LT_TABLE_MAX_SEEDS);
    if (c->train_epochs < 1 || !(c->train_lr > 0))
        return lt_set_error(LT_ERR_ARG, "train epochs and rate must be > 0");
    lt_status st = lt_lr_check("lr", c->lr);
    if (st == LT_OK)
        st = lt_lr_check("lr grid", c->lr_grid);
    if (st == LT_OK)
        st = lt_cls_methods(c->methods, ks, &nk);
    if (st == LT_OK && c->optim && lt_optim_parse(c->optim, &oc) != LT_OK)
        st = lt_set_error(LT_ERR_ARG, "optim: %s", lt_last_error());
    if (st == LT_OK && c->mask && lt_mask_parse(c->mask, &ms) != LT_OK)
        st = lt_set_error(LT_ERR_ARG, "mask: %s", lt_last_error());
    return st;
}

/* ---- the cache of Retrain's metrics ----------------------------------------- */

static const char *const lt_metric_keys[5] = {"UA", "RA", "TA", "MIA",
                                              "rte_s"};

/* Cached metrics of a model for a forget set ("<stem>.metrics.json"). */
static bool lt_metrics_load(const char *stem, lt_unlearn_metrics *m,
                            double *rte)
{
    char path[1200], *buf = NULL;
    snprintf(path, sizeof path, "%s.metrics.json", stem);
    if (lt_read_file(path, &buf, NULL) != LT_OK)
        return false; /* not cached yet */
    cJSON *j = cJSON_Parse(buf);
    free(buf);
    double v[5];
    bool ok = j != NULL;
    for (int i = 0; ok && i < 5; i++) {
        cJSON *x = cJSON_GetObjectItemCaseSensitive(j, lt_metric_keys[i]);
        ok = cJSON_IsNumber(x);
        v[i] = ok ? x->valuedouble : 0;
    }
    cJSON_Delete(j);
    if (ok) {
        *m = (lt_unlearn_metrics){v[0], v[1], v[2], v[3]};
        *rte = v[4];
    }
    return ok;
}

static lt_status lt_metrics_save(const char *stem, const lt_unlearn_metrics *m,
                                 double rte)
{
    char path[1200];
    snprintf(path, sizeof path, "%s.metrics.json", stem);
    double v[5] = {m->ua, m->ra, m->ta, m->mia, rte};
    cJSON *j = cJSON_CreateObject();
    for (int i = 0; j && i < 5; i++)
        cJSON_AddNumberToObject(j, lt_metric_keys[i], v[i]);
    return lt_json_save(path, j, true);
}

/* ---- the run ------------------------------------------------------------- */

/* The identity of the data the run loaded: the shape and every image and
 * label of both splits, so a cache never hands a model trained on one
 * data folder to a run on another (the same files anywhere share it). */
static uint64_t lt_cls_data_hash(const lt_cls *b)
{
    uint64_t h = LT_FNV_INIT;
    const lt_dataset *d[2] = {&b->tr, &b->te};
    for (int i = 0; i < 2; i++) {
        int64_t dims[5] = {d[i]->n, d[i]->c, d[i]->h, d[i]->w,
                           d[i]->classes};
        size_t px = (size_t)(d[i]->n * d[i]->c * d[i]->h * d[i]->w);
        h = lt_bench_fnv_bytes(h, dims, sizeof dims);
        h = lt_bench_fnv_bytes(h, d[i]->x, px * sizeof *d[i]->x);
        h = lt_bench_fnv_bytes(h, d[i]->y, (size_t)d[i]->n * sizeof *d[i]->y);
    }
    return h;
}

/* The original model: loaded from the cache or trained and saved there. */
static lt_status lt_cls_original_make(lt_cls *b)
{
    const lt_bench_classify_cfg *o = b->c;
    char key[512];
    /* v2: the data's content is in the key (v1 had only the set's name);
     * bf16 runs get models of their own ("" for fp32); Retrain's, the
     * runs' and the worst-case set's keys build on this */
    snprintf(key, sizeof key, "orig|v2|%s|%016llx|%s|%d|%g%s", b->tr.name,
             (unsigned long long)lt_cls_data_hash(b), o->model,
             o->train_epochs, (double)o->train_lr, lt_bench_precision_key());
    b->orig_key = lt_bench_fnv(key);
    snprintf(b->orig_path, sizeof b->orig_path, "%s/orig-%016llx.safetensors",
             o->cache, (unsigned long long)b->orig_key);
    if (lt_model_load(b->orig_path, &b->orig) == LT_OK) {
        NOTE(b, "original model from %s", b->orig_path);
        return LT_OK;
    }
    lt_input_spec in = {b->tr.c, b->tr.h, b->tr.w, b->tr.classes};
    if (lt_model_create(o->model, in, &b->orig) != LT_OK)
        return lt_set_error(LT_ERR_ARG, "model: %s", lt_last_error());
    lt_unlearn_cfg r = lt_unlearn_defaults(LT_METHOD_RETRAIN);
    lt_bench_fwd fwd = {o->progress, o->ud, "original"};
    lt_train_cfg t = {0};
    t.optim = r.optim;
    t.optim.lr = o->train_lr;
    t.sched = (lt_schedule){.kind = LT_SCHED_COSINE, .base_lr = o->train_lr};
    t.epochs = o->train_epochs;
    t.batch = r.batch;
    t.seed = 1;
    t.progress = lt_bench_fwd_train;
    t.ud = &fwd;
    lt_model_init(b->orig, 1);
    lt_train_report rep;
    NOTE(b, "training the original %s on %s (%d epochs)", o->model,
         b->tr.name, o->train_epochs);
    lt_status st = lt_train_classifier(b->orig, &b->tr, NULL, &t, &rep) == 0
                   ? LT_OK : LT_ERR_NAN;
    if (st == LT_OK) {
        char rte[32];
        snprintf(rte, sizeof rte, "%.3f", rep.seconds);
        const char *meta[] = {"lethe.role", "bench original", "lethe.key",
                              key, "lethe.train_s", rte};
        st = lt_model_save(b->orig, b->orig_path, meta, 3);
    }
    return st == LT_OK ? LT_OK : lt_set_error(st, "original model: %s",
                                              lt_last_error());
}

/* The original model; under mpirun rank 0 trains it into the cache while
 * the others wait, then they load it. */
static lt_status lt_cls_original(lt_cls *b)
{
    bool lead = lt_dist_rank() == 0;
    lt_status st = lt_bench_agree(lead ? lt_cls_original_make(b) : LT_OK,
                                  "original (training)");
    return st == LT_OK && !lead ? lt_cls_original_make(b) : st;
}

/* Queue m's outputs for the metrics of this seed (row label). */
static lt_status lt_cls_queue(lt_cls *b, const char *label, const char *method,
                              float lr, lt_model *m, double rte)
{
    if (b->n_jobs == LT_CLS_MAX_JOBS)
        return lt_set_error(LT_ERR_ARG, "more than %d runs per seed",
                            LT_CLS_MAX_JOBS);
    lt_cls_job *j = &b->jobs[b->n_jobs];
    memset(j, 0, sizeof *j);
    snprintf(j->label, sizeof j->label, "%s", label);
    snprintf(j->method, sizeof j->method, "%s", method);
    j->lr = lr;
    j->rte = rte;
    j->owner = lt_dist_rank();
    j->classes = m ? m->in.classes : b->orig->in.classes;
    if (m) {
        j->ltr = lt_model_logits(m, &b->tr);
        j->lte = j->ltr ? lt_model_logits(m, &b->te) : NULL;
        if (!j->lte) {
            free(j->ltr);
            j->ltr = NULL;
            return LT_ERR_NOMEM;
        }
    }
    b->n_jobs++;
    return LT_OK;
}

/* Free the queued logits (the metrics are computed). */
static void lt_cls_free_logits(lt_cls *b)
{
    for (int i = 0; i < b->n_jobs; i++) {
        free(b->jobs[i].ltr);
        free(b->jobs[i].lte);
        b->jobs[i].ltr = b->jobs[i].lte = NULL;
    }
}

static void lt_cls_free_jobs(lt_cls *b)
{
    lt_cls_free_logits(b);
    b->n_jobs = 0;
}

/* Claim the next run (row label): true when it is this rank's; else queue
 * the placeholder its owner fills in (*st: the queue's status). */
static bool lt_cls_claim(lt_cls *b, const char *label, const char *method,
                         float lr, lt_status *st)
{
    int64_t unit = b->unit++;
    snprintf(b->row, sizeof b->row, "%s (seed %llu)", label,
             (unsigned long long)b->seed);
    if (lt_bench_mine(unit)) {
        if (lt_dist_size() > 1) /* names the row if this rank is killed */
            NOTE(b, "  %-16s running (seed %llu)", label,
                 (unsigned long long)b->seed);
        return true;
    }
    if ((*st = lt_cls_queue(b, label, method, lr, NULL, 0)) == LT_OK) {
        b->jobs[b->n_jobs - 1].remote = true;
        b->jobs[b->n_jobs - 1].owner = (int)(unit % lt_dist_size());
    }
    return false;
}

/* The key of run label (at rate lr) for this seed's forget set: every
 * setting that changes its result, and the commit. */
static uint64_t lt_cls_run_key(const lt_cls *b, const lt_forget_set *f,
                               const char *label, float lr)
{
    const lt_bench_classify_cfg *o = b->c;
    char key[1024];
    snprintf(key, sizeof key, "run|v1|%s|%016llx|%s|%016llx|%llu|%s|%a|%s|"
             "%s|%d", lt_bench_commit(), (unsigned long long)b->orig_key,
             f->spec, (unsigned long long)b->fhash,
             (unsigned long long)b->seed, label, (double)lr,
             o->optim ? o->optim : "", o->mask ? o->mask : "",
             (int)o->be_drop_shadow);
    return lt_bench_fnv(key);
}

/* With --resume, run key already saved: queue its result; true if so. */
static bool lt_cls_resumed(lt_cls *b, uint64_t key, lt_status *st)
{
    lt_bench_unit u;
    if (!b->c->resume || !lt_bench_unit_load(b->c->cache, key, &u))
        return false;
    NOTE(b, "  %-16s done before (--resume)", u.label);
    if ((*st = lt_cls_queue(b, u.label, u.method, (float)u.lr, NULL,
                            u.rte)) == LT_OK) {
        lt_cls_job *j = &b->jobs[b->n_jobs - 1];
        j->cached = true;
        j->key = key;
        j->m = u.m;
        snprintf(j->error, sizeof j->error, "%s", u.error);
    }
    return true;
}

/* Save this rank's finished runs of the seed (Retrain: its metrics cache),
 * so a stopped sweep keeps them. */
static lt_status lt_cls_keep(lt_cls *b)
{
    lt_status st = LT_OK;
    for (int i = 0; st == LT_OK && i < b->n_jobs; i++) {
        const lt_cls_job *j = &b->jobs[i];
        if (j->remote || j->cached || j->st != LT_OK)
            continue;
        snprintf(b->row, sizeof b->row, "%s (seed %llu)", j->label,
                 (unsigned long long)b->seed);
        if (!j->key) {
            if (b->retrain_fresh)
                st = lt_metrics_save(b->retrain_stem, &j->m, j->rte);
            continue;
        }
        lt_bench_unit u = {.lr = j->lr, .rte = j->rte, .m = j->m};
        snprintf(u.label, sizeof u.label, "%s", j->label);
        snprintf(u.method, sizeof u.method, "%s", j->method);
        snprintf(u.error, sizeof u.error, "%s", j->error);
        st = lt_bench_unit_save(b->c->cache, j->key, &u);
    }
    return st;
}

/* lt_cls_keep when a run failed: the failure's row and message stay. */
static void lt_cls_keep_after_failure(lt_cls *b)
{
    char row[sizeof b->row], msg[512];
    lt_status st = lt_last_status();
    snprintf(row, sizeof row, "%s", b->row);
    snprintf(msg, sizeof msg, "%s", lt_last_error());
    lt_cls_keep(b);
    snprintf(b->row, sizeof b->row, "%s", row);
    lt_set_error(st, "%s", msg);
}

/* Every rank's runs of the seed to every rank. */
static lt_status lt_cls_share(lt_cls *b)
{
    int owner[LT_CLS_MAX_JOBS];
    lt_cls_free_logits(b); /* no pointers travel */
    for (int i = 0; i < b->n_jobs; i++)
        owner[i] = b->jobs[i].owner;
    return lt_bench_share(b->jobs, sizeof *b->jobs, b->n_jobs, owner);
}

/* The metrics of every queued job of forget set f, in parallel. */
static void lt_cls_metrics(lt_cls *b, const lt_forget_set *f)
{
    int n = b->n_jobs, done = 0;
    double t0 = lt_clock_seconds();
    #pragma omp parallel for schedule(dynamic, 1) num_threads(lt_num_threads())
    for (int i = 0; i < n; i++) {
        lt_cls_job *j = &b->jobs[i];
        if (j->remote)
            continue;
        if (!j->cached && !j->error[0]) {
            j->st = lt_unlearn_metrics_from_logits(j->ltr, j->lte,
                                                   j->classes, &b->tr,
                                                   &b->te, f, &j->m);
            if (j->st != LT_OK)
                snprintf(j->why, sizeof j->why, "%s", lt_last_error());
        }
        #pragma omp critical
        {
            done++;
            NOTE(b, "  metrics %d/%d (%s) %.0f s", done, n, j->label,
                 lt_clock_seconds() - t0);
        }
    }
}

/* The rows of every run in queue order (their metrics computed); job 0
 * is Retrain, the reference of the gaps. */
static lt_status lt_cls_flush(lt_cls *b)
{
    for (int i = 0; i < b->n_jobs; i++) {
        lt_cls_job *j = &b->jobs[i];
        if (j->st != LT_OK)
            return lt_set_error(j->st, "metrics of %s: %s", j->label, j->why);
        lt_table_row *row = lt_table_find(b->table, C_LABEL, j->label);
        if (!row && !(row = lt_table_add_row(b->table)))
            return LT_ERR_NOMEM;
        snprintf(row->text[C_LABEL], LT_TABLE_TEXT, "%s", j->label);
        snprintf(row->text[C_METHOD], LT_TABLE_TEXT, "%s", j->method);
        if (j->error[0]) {
            row->failed = true;
            snprintf(row->message, sizeof row->message, "%s", j->error);
            NOTE(b, "  %-16s failed: %s", j->label, j->error);
            continue;
        }
        double gap = lt_avg_gap(&j->m, &b->jobs[0].m);
        double v[LT_TABLE_MAX_COLS] = {0};
        v[C_LR] = isnan(j->lr) ? NAN : j->lr;
        v[C_UA] = j->m.ua;
        v[C_RA] = j->m.ra;
        v[C_TA] = j->m.ta;
        v[C_MIA] = j->m.mia;
        v[C_GAP] = gap;
        v[C_RTE] = j->rte;
        lt_status st = lt_table_row_add_run(row, v);
        if (st != LT_OK)
            return st;
        NOTE(b, "  %-16s UA %6.2f  RA %6.2f  TA %6.2f  MIA %6.2f  gap %5.2f  "
             "RTE %7.2f s", j->label, j->m.ua, j->m.ra, j->m.ta, j->m.mia,
             gap, j->rte);
    }
    return LT_OK;
}

/* Retrain for forget set f and seed s: cached model and metrics, or
 * trained (RTE = its training time) and cached. */
static lt_status lt_cls_retrain(lt_cls *b, const lt_forget_set *f, uint64_t s)
{
    const lt_bench_classify_cfg *o = b->c;
    char key[1024], path[1200];
    /* keyed by the forget indices themselves: an indices file may change */
    uint64_t h = lt_bench_fnv_bytes(LT_FNV_INIT, f->forget,
                                    (size_t)f->n_forget * sizeof *f->forget);
    snprintf(key, sizeof key, "retrain|v2|%016llx|%s|%llu|%016llx",
             (unsigned long long)b->orig_key, f->spec, (unsigned long long)s,
             (unsigned long long)h);
    snprintf(b->retrain_stem, sizeof b->retrain_stem, "%s/retrain-%016llx",
             o->cache, (unsigned long long)lt_bench_fnv(key));
    snprintf(path, sizeof path, "%s.safetensors", b->retrain_stem);
    lt_status st = LT_OK;
    if (!lt_cls_claim(b, "retrain", "retrain", NAN, &st))
        return st;
    lt_unlearn_metrics ref;
    double rte;
    lt_model *m = NULL;
    if (lt_metrics_load(b->retrain_stem, &ref, &rte) &&
        lt_model_load(path, &m) == LT_OK) {
        lt_model_free(m);
        NOTE(b, "  retrain: cached %s", path);
        lt_status st = lt_cls_queue(b, "retrain", "retrain", NAN, NULL, rte);
        b->jobs[0].cached = true;
        b->jobs[0].m = ref;
        return st;
    }
    lt_unlearn_cfg cfg = lt_unlearn_defaults(LT_METHOD_RETRAIN);
    cfg.optim.lr = o->train_lr;
    cfg.epochs = o->train_epochs;
    cfg.seed = s;
    lt_bench_fwd fwd = {o->progress, o->ud, "retrain"};
    cfg.progress = lt_bench_fwd_unlearn;
    cfg.ud = &fwd;
    lt_unlearn_report rep;
    st = lt_model_create(b->orig->arch, b->orig->in, &m);
    if (st == LT_OK)
        st = lt_unlearn_run(m, &b->tr, f, &cfg, &rep);
    const char *meta[] = {"lethe.role", "bench retrain", "lethe.key", key};
    if (st == LT_OK)
        st = lt_model_save(m, path, meta, 2);
    if (st != LT_OK)
        st = lt_set_error(st, "retrain: %s", lt_last_error());
    else
        NOTE(b, "  retrain: trained in %.2f s", rep.seconds);
    if (st == LT_OK)
        st = lt_cls_queue(b, "retrain", "retrain", NAN, m, rep.seconds);
    b->retrain_fresh = st == LT_OK;
    lt_model_free(m);
    return st;
}

/* The config of method k for this benchmark (options over defaults). */
static lt_unlearn_cfg lt_cls_cfg(const lt_cls *b, lt_method_kind k, float lr,
                                 uint64_t s)
{
    lt_unlearn_cfg cfg = lt_unlearn_defaults(k);
    if (b->c->optim) /* checked by lt_bench_classify_check */
        lt_unlearn_set_optim(&cfg, b->c->optim);
    if (lr > 0)
        cfg.optim.lr = lr;
    if (b->c->mask)
        lt_mask_parse(b->c->mask, &cfg.mask);
    cfg.be_drop_shadow = b->c->be_drop_shadow;
    cfg.seed = s;
    return cfg;
}

/* One method at one learning rate for forget set f, seed s. */
static lt_status lt_cls_method(lt_cls *b, lt_method_kind k, float lr,
                               bool grid, const lt_forget_set *f, uint64_t s)
{
    lt_unlearn_cfg cfg = lt_cls_cfg(b, k, lr, s);
    char label[48];
    const char *name = k == LT_METHOD_BE && cfg.be_drop_shadow ? "be-drop"
                       : lt_method_name(k);
    if (grid)
        snprintf(label, sizeof label, "%s@%g", name, (double)cfg.optim.lr);
    else
        snprintf(label, sizeof label, "%s", name);
    lt_status st = LT_OK;
    uint64_t key = lt_cls_run_key(b, f, label, cfg.optim.lr);
    if (!lt_cls_claim(b, label, lt_method_name(k), cfg.optim.lr, &st) ||
        lt_cls_resumed(b, key, &st))
        return st;
    memcpy(b->work->params.theta, b->orig->params.theta,
           (size_t)b->orig->params.n_total * sizeof(float));
    lt_unlearn_report rep;
    lt_bench_fwd fwd = {b->c->progress, b->c->ud, label};
    cfg.progress = lt_bench_fwd_unlearn;
    cfg.ud = &fwd;
    if (lt_unlearn_run(b->work, &b->tr, f, &cfg, &rep) != LT_OK) {
        char err[160];
        snprintf(err, sizeof err, "seed %llu: %s", (unsigned long long)s,
                 lt_last_error());
        NOTE(b, "  %-16s failed: %s", label, err);
        st = lt_cls_queue(b, label, lt_method_name(k), cfg.optim.lr, NULL,
                          rep.seconds);
        if (st == LT_OK) { /* a diverged method is a result, not a crash */
            snprintf(b->jobs[b->n_jobs - 1].error, 160, "%s", err);
            b->jobs[b->n_jobs - 1].key = key;
        }
        return st;
    }
    NOTE(b, "  %-16s ran in %.2f s", label, rep.seconds);
    /* BE: the K+1-way model as the OPTML code evaluates it, unless asked */
    st = lt_cls_queue(b, label, name, cfg.optim.lr,
                      rep.be_model ? rep.be_model : b->work, rep.seconds);
    if (st == LT_OK)
        b->jobs[b->n_jobs - 1].key = key;
    lt_model_free(rep.be_model);
    return st;
}

/* Every method (and grid value) of seed s, after Retrain and the
 * original. */
static lt_status lt_cls_runs(lt_cls *b, const lt_forget_set *f, uint64_t s)
{
    lt_status st = lt_cls_retrain(b, f, s);
    uint64_t key = lt_cls_run_key(b, f, "original", NAN);
    if (st == LT_OK && lt_cls_claim(b, "original", "original", NAN, &st) &&
        !lt_cls_resumed(b, key, &st) &&
        (st = lt_cls_queue(b, "original", "original", NAN, b->orig, 0)) ==
        LT_OK)
        b->jobs[b->n_jobs - 1].key = key;
    for (int i = 0; st == LT_OK && i < b->nk; i++) {
        const char *name = lt_method_name(b->ks[i]);
        float v[16];
        int n = lt_lr_values(b->c->lr_grid, name, v, 16);
        bool grid = n > 0;
        if (!grid)
            n = lt_lr_values(b->c->lr, name, v, 1);
        if (n <= 0) {
            v[0] = 0;
            n = 1;
        }
        for (int j = 0; st == LT_OK && j < n; j++)
            st = lt_cls_method(b, b->ks[i], v[j], grid, f, s);
    }
    return st;
}

static lt_status lt_cls_seed(lt_cls *b, uint64_t s)
{
    lt_forget_set f = {0};
    if (lt_forget_select(b->forget, &b->tr, s, &f) != LT_OK)
        return lt_set_error(LT_ERR_ARG, "forget: %s", lt_last_error());
    NOTE(b, "seed %llu: forget %s (%lld of %lld)", (unsigned long long)s,
         f.spec, (long long)f.n_forget, (long long)f.n);
    b->retrain_fresh = false;
    b->seed = s;
    b->fhash = lt_bench_fnv_bytes(LT_FNV_INIT, f.forget,
                                  (size_t)f.n_forget * sizeof *f.forget);
    lt_status st = lt_cls_runs(b, &f, s);
    NOTE(b, "  metrics of %d models (MIA: libsvm, %d in parallel)",
         b->n_jobs, lt_num_threads());
    lt_cls_metrics(b, &f);
    if (st == LT_OK)
        st = lt_cls_keep(b);
    else /* the runs that finished before the failure are kept */
        lt_cls_keep_after_failure(b);
    /* every rank's runs of the seed, or the first failure, to all */
    st = lt_bench_agree(st, b->row);
    if (st == LT_OK)
        st = lt_cls_share(b);
    if (st == LT_OK)
        st = lt_cls_flush(b);
    lt_cls_free_jobs(b);
    lt_forget_set_free(&f);
    return st;
}

lt_status lt_cls_table(lt_cls *b, lt_report *r, const char *title)
{
    b->table = lt_report_table(r, title, lt_cls_cols, C_N);
    if (!b->table)
        return LT_ERR_ARG;
    lt_status st = LT_OK;
    for (int s = 1; st == LT_OK && s <= b->c->seeds; s++)
        st = lt_cls_seed(b, (uint64_t)s);
    return st;
}

/* ---- set-up and settings -------------------------------------------------- */

void lt_cls_close(lt_cls *b)
{
    if (!b)
        return;
    lt_cls_free_jobs(b);
    lt_model_free(b->orig);
    lt_model_free(b->work);
    lt_dataset_free(&b->tr);
    lt_dataset_free(&b->te);
    free(b);
}

/* Check, load the data and the original model. */
lt_status lt_cls_open(const lt_bench_classify_cfg *c, lt_cls **out)
{
    *out = NULL;
    lt_status st = lt_bench_classify_check(c);
    if (st != LT_OK)
        return st;
    lt_cls *b = calloc(1, sizeof *b);
    if (!b)
        return lt_set_error(LT_ERR_NOMEM, "bench classify");
    b->c = c;
    b->forget = c->forget;
    lt_cls_methods(c->methods, b->ks, &b->nk);
    st = lt_dataset_load(c->data, "train", &b->tr);
    if (st == LT_OK)
        st = lt_dataset_load(c->data, "test", &b->te);
    if (st == LT_OK)
        st = lt_mkdirs(c->cache);
    if (st == LT_OK)
        st = lt_cls_original(b);
    if (st == LT_OK)
        st = lt_model_create(b->orig->arch, b->orig->in, &b->work);
    *out = b;
    return st;
}

lt_status lt_cls_settings(const lt_cls *b, lt_report *r)
{
    const lt_bench_classify_cfg *o = b->c;
    lt_status st = lt_bench_common_settings(r, o->command);
    const char *text[][2] = {
        {"data", b->tr.name}, {"model", o->model}, {"forget", o->forget},
        {"methods", o->methods}, {"optim", o->optim ? o->optim : "sgd"},
        {"mask", o->mask ? o->mask : "method default"},
        {"lr", o->lr ? o->lr : ""}, {"lr_grid", o->lr_grid ? o->lr_grid : ""},
        {"original", b->orig_path},
        {"variants", o->be_drop_shadow ?
         "be-drop: BE's K-way weights (shadow class dropped); salun-soft: "
         "RL_proximal (shrink toward each epoch's start, ratio 0.5)" :
         "be: BE's K+1-way model (OPTML code: forget items sent to the "
         "shadow class count as forgotten, MIA softmax over K+1); salun-"
         "soft: RL_proximal (shrink toward each epoch's start, ratio 0.5)"}};
    for (size_t i = 0; st == LT_OK && i < sizeof text / sizeof *text; i++)
        st = lt_report_set(r, text[i][0], text[i][1]);
    if (st == LT_OK)
        st = lt_report_set_num(r, "seeds", o->seeds);
    if (st == LT_OK)
        st = lt_report_set_num(r, "train_epochs", o->train_epochs);
    if (st == LT_OK)
        st = lt_report_set_num(r, "train_lr", o->train_lr);
    return st;
}

static lt_status lt_bench_classify_body(const lt_bench_classify_cfg *c,
    lt_report *out)
{
    double t0 = lt_clock_seconds();
    *out = (lt_report){0};
    lt_cls *b;
    lt_status st = lt_cls_open(c, &b);
    if (st == LT_OK) {
        snprintf(out->title, sizeof out->title, "%s, %s, forget %s, %d "
                 "seed%s (mean ± std), %s, %d threads", b->tr.name, c->model,
                 c->forget, c->seeds, c->seeds > 1 ? "s" : "",
                 c->optim ? c->optim : "sgd", lt_num_threads());
        st = lt_cls_settings(b, out);
    }
    if (st == LT_OK)
        st = lt_cls_table(b, out, "unlearning");
    lt_cls_close(b);
    out->seconds = lt_clock_seconds() - t0;
    return st;
}

/* The run in the precision its config asks for (core.h). */
lt_status lt_bench_classify(const lt_bench_classify_cfg *c, lt_report *out)
{
    lt_precision old =
        lt_precision_enter(c ? c->precision : LT_PRECISION_DEFAULT);
    lt_status r = lt_bench_classify_body(c, out);
    lt_set_default_precision(old);
    return r;
}
