/*
 * bench.c - `lethe bench classify`: the classification unlearning
 * benchmark. Trains (or reuses from a cache keyed by the configuration) the
 * original model and, per seed, the Retrain model; runs every requested
 * method from the original weights for each seed (and each learning rate
 * of an optional grid); prints the SalUn-style table (UA, RA, TA, MIA,
 * Avg. Gap to Retrain, RTE; mean +- std over seeds) and writes it as
 * Markdown and JSON.
 */
#include "cli/args.h"
#include "cli/bench_table.h"
#include "cli/cli.h"
#include "cli/common.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    const char *data, *model, *forget, *methods, *lr, *lr_grid, *optim, *mask;
    const char *json, *markdown, *cache;
    int seeds, train_epochs, threads;
    float train_lr;
} lt_bench_opts;

static const char *lt_bench_usage =
    "usage: lethe bench classify [options]\n"
    "Classification unlearning benchmark: train (or reuse) the original and "
    "Retrain\nmodels, run each method for each seed, print UA, RA, TA, MIA, "
    "Avg. Gap and RTE\n(mean +- std over seeds). --lr sets one method's rate "
    "(ga=3e-5,rl=0.01); --lr-grid\ntries several (ga=1e-5:3e-5:1e-4) and "
    "reports one row per value.";

static int lt_bench_parse(int argc, char **argv, lt_bench_opts *o)
{
    *o = (lt_bench_opts){.data = "fashion-mnist",
                         .model = "mlp:784-512-512-10",
                         .forget = "random:10%", .methods = "all",
                         .cache = "out/cache", .seeds = 3, .train_epochs = 5,
                         .train_lr = 0.05f};
    lt_opt opts[] = {
        {"--data", LT_OPT_STR, &o->data, "dataset (fashion-mnist)", 0, 0},
        {"--model", LT_OPT_STR, &o->model, "architecture (mlp:784-512-512-10)", 0, 0},
        {"--forget", LT_OPT_STR, &o->forget, "random:10%|class:K|indices:FILE (random:10%)", 0, 0},
        {"--methods", LT_OPT_STR, &o->methods, "comma list or all (all but retrain)", 0, 0},
        {"--seeds", LT_OPT_INT, &o->seeds, "seeds 1..N: forget set, Retrain, methods (3)", 1, LT_BENCH_MAX_SEEDS},
        {"--lr", LT_OPT_STR, &o->lr, "per-method learning rates, m=v,...", 0, 0},
        {"--lr-grid", LT_OPT_STR, &o->lr_grid, "per-method grids, m=v1:v2:...,...", 0, 0},
        {"--optim", LT_OPT_STR, &o->optim, "optimizer of every method (sgd)", 0, 0},
        {"--mask", LT_OPT_STR, &o->mask, "mask of every method (method default)", 0, 0},
        {"--train-epochs", LT_OPT_INT, &o->train_epochs, "epochs of original and Retrain (5)", 1, 1000},
        {"--train-lr", LT_OPT_FLOAT, &o->train_lr, "their base lr, cosine (0.05)", 1e-9, 100},
        {"--cache", LT_OPT_STR, &o->cache, "folder for trained models (out/cache)", 0, 0},
        {"--json", LT_OPT_STR, &o->json, "write the table as JSON", 0, 0},
        {"--markdown", LT_OPT_STR, &o->markdown, "write the table as Markdown", 0, 0},
        {"--threads", LT_OPT_INT, &o->threads, "threads (default: all cores)", 1, 1024},
    };
    return lt_args_parse("bench classify", lt_bench_usage, opts,
                         (int)(sizeof opts / sizeof *opts), argc, argv);
}

/* ---- per-method settings from --lr / --lr-grid --------------------------- */

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

/* Check every name in an --lr / --lr-grid spec is a method. */
static int lt_lr_check(const char *flag, const char *spec)
{
    if (!spec)
        return 0;
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", spec);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        char *eq = strchr(tok, '=');
        lt_method_kind k;
        if (eq)
            *eq = 0;
        float v[1];
        if (!eq || lt_method_parse(tok, &k) != LT_OK ||
            lt_lr_values(spec, tok, v, 1) < 0) {
            fprintf(stderr, "lethe bench: %s '%s': expected method=value"
                    "[:value...] with methods among %s\n", flag, spec,
                    lt_method_names());
            return 2;
        }
    }
    return 0;
}

/* The methods to run (retrain excluded: it is the reference). */
static int lt_bench_methods(const char *list, lt_method_kind *out, int *n)
{
    *n = 0;
    if (!strcmp(list, "all")) {
        for (int k = 0; k < LT_METHOD_COUNT; k++)
            if (k != LT_METHOD_RETRAIN)
                out[(*n)++] = (lt_method_kind)k;
        return 0;
    }
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        lt_method_kind k;
        if (lt_method_parse(tok, &k) != LT_OK) {
            fprintf(stderr, "lethe bench: --methods: %s\n", lt_last_error());
            return 2;
        }
        if (k != LT_METHOD_RETRAIN && *n < LT_METHOD_COUNT)
            out[(*n)++] = k;
    }
    return 0;
}

/* ---- the cache of trained models and their metrics ----------------------- */

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
    const char *keys[5] = {"UA", "RA", "TA", "MIA", "rte_s"};
    double v[5];
    bool ok = j != NULL;
    for (int i = 0; ok && i < 5; i++) {
        cJSON *x = cJSON_GetObjectItemCaseSensitive(j, keys[i]);
        ok = cJSON_IsNumber(x);
        v[i] = ok ? x->valuedouble : 0;
    }
    cJSON_Delete(j);
    if (ok)
        *m = (lt_unlearn_metrics){v[0], v[1], v[2], v[3]};
    if (ok)
        *rte = v[4];
    return ok;
}

static int lt_metrics_save(const char *stem, const lt_unlearn_metrics *m,
                           double rte)
{
    char path[1200], text[512];
    snprintf(path, sizeof path, "%s.metrics.json", stem);
    snprintf(text, sizeof text, "{\"UA\": %.17g, \"RA\": %.17g, \"TA\": "
             "%.17g, \"MIA\": %.17g, \"rte_s\": %.17g}\n", m->ua, m->ra,
             m->ta, m->mia, rte);
    return lt_cli_write_text(path, text);
}

/* ---- the run ------------------------------------------------------------- */

/* One model's outputs waiting for their metrics (computed for all the
 * runs of a seed at once, in parallel: the MIA's SVM is single-threaded). */
typedef struct {
    char label[48], method[24];
    float lr;
    double rte;
    bool cached;          /* retrain from the cache: m is already known */
    char error[160];      /* a failed (diverged) run: its message */
    float *ltr, *lte;     /* train and test logits */
    lt_unlearn_metrics m;
    int rc;
} lt_bench_job;

#define LT_BENCH_MAX_JOBS 64

typedef struct {
    const lt_bench_opts *o;
    lt_dataset tr, te;
    lt_model *orig, *work;
    uint64_t orig_key;
    char orig_path[1024], retrain_stem[1100];
    bool retrain_fresh;   /* save Retrain's metrics after the flush */
    lt_bench_table table;
    lt_bench_job jobs[LT_BENCH_MAX_JOBS];
    int n_jobs;
    const char *forget;   /* the forget spec of the table being run */
} lt_bench;

static void lt_bench_train_progress(void *ud, const lt_train_event *ev)
{
    if (ev->epoch_end)
        fprintf(stderr, "  %s: epoch %d/%d loss %.4f\n", (const char *)ud,
                ev->epoch, ev->epochs, ev->loss);
}

/* The original model: loaded from the cache or trained and saved there. */
static int lt_bench_original(lt_bench *b)
{
    const lt_bench_opts *o = b->o;
    char key[512];
    snprintf(key, sizeof key, "orig|v1|%s|%s|%d|%g", b->tr.name, o->model,
             o->train_epochs, (double)o->train_lr);
    b->orig_key = lt_cli_fnv(key);
    snprintf(b->orig_path, sizeof b->orig_path, "%s/orig-%016llx.safetensors",
             o->cache, (unsigned long long)b->orig_key);
    if (lt_model_load(b->orig_path, &b->orig) == LT_OK) {
        fprintf(stderr, "lethe bench: original model from %s\n", b->orig_path);
        return 0;
    }
    lt_input_spec in = {b->tr.c, b->tr.h, b->tr.w, b->tr.classes};
    if (lt_model_create(o->model, in, &b->orig) != LT_OK) {
        fprintf(stderr, "lethe bench: --model: %s\n", lt_last_error());
        return 2;
    }
    lt_unlearn_cfg r = lt_unlearn_defaults(LT_METHOD_RETRAIN);
    lt_train_cfg t = {0};
    t.optim = r.optim;
    t.optim.lr = o->train_lr;
    t.sched = (lt_schedule){.kind = LT_SCHED_COSINE, .base_lr = o->train_lr};
    t.epochs = o->train_epochs;
    t.batch = r.batch;
    t.seed = 1;
    t.progress = lt_bench_train_progress;
    t.ud = (void *)"original";
    lt_model_init(b->orig, 1);
    lt_train_report rep;
    fprintf(stderr, "lethe bench: training the original %s on %s (%d "
            "epochs)\n", o->model, b->tr.name, o->train_epochs);
    char rte[32];
    if (lt_train_classifier(b->orig, &b->tr, NULL, &t, &rep) == 0) {
        snprintf(rte, sizeof rte, "%.3f", rep.seconds);
        const char *meta[] = {"lethe.role", "bench original", "lethe.key",
                              key, "lethe.train_s", rte};
        if (lt_model_save(b->orig, b->orig_path, meta, 3) == LT_OK)
            return 0;
    }
    fprintf(stderr, "lethe bench: original model: %s\n", lt_last_error());
    return 1;
}

/* Queue m's outputs for the metrics of this seed (row label). */
static int lt_bench_queue(lt_bench *b, const char *label, const char *method,
                          float lr, lt_model *m, double rte)
{
    if (b->n_jobs == LT_BENCH_MAX_JOBS) {
        fprintf(stderr, "lethe bench: more than %d runs per seed\n",
                LT_BENCH_MAX_JOBS);
        return 2;
    }
    lt_bench_job *j = &b->jobs[b->n_jobs];
    memset(j, 0, sizeof *j);
    snprintf(j->label, sizeof j->label, "%s", label);
    snprintf(j->method, sizeof j->method, "%s", method);
    j->lr = lr;
    j->rte = rte;
    if (m) {
        j->ltr = lt_cli_logits(m, &b->tr);
        j->lte = j->ltr ? lt_cli_logits(m, &b->te) : NULL;
        if (!j->lte) {
            fprintf(stderr, "lethe bench: %s\n", lt_last_error());
            free(j->ltr);
            return 1;
        }
    }
    b->n_jobs++;
    return 0;
}

/* Metrics of every queued run of forget set f (in parallel), then the
 * rows in queue order; job 0 is Retrain, the reference of the gaps. */
static int lt_bench_flush(lt_bench *b, const lt_forget_set *f)
{
    int k = b->orig->in.classes, n = b->n_jobs, done = 0;
    double t0 = lt_now();
    #pragma omp parallel for schedule(dynamic, 1) num_threads(lt_num_threads())
    for (int i = 0; i < n; i++) {
        lt_bench_job *j = &b->jobs[i];
        if (!j->cached && !j->error[0])
            j->rc = lt_cli_metrics_from("bench", j->ltr, j->lte, k, &b->tr,
                                        &b->te, f, &j->m);
        int d;
        #pragma omp atomic capture
        d = ++done;
        fprintf(stderr, "  metrics %d/%d (%s) %.0f s\n", d, n, j->label,
                lt_now() - t0);
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        lt_bench_job *j = &b->jobs[i];
        rc |= j->rc;
        double gap = j->rc ? NAN : lt_avg_gap(&j->m, &b->jobs[0].m);
        lt_bench_row *row = lt_bench_row_get(&b->table, j->label, j->method,
                                             j->lr);
        if (row && j->error[0])
            snprintf(row->error, sizeof row->error, "%s", j->error);
        if (j->error[0])
            printf("  %-16s failed: %s\n", j->label, j->error);
        else if (row && !j->rc)
            lt_bench_row_add(row, &j->m, gap, j->rte);
        if (!j->rc && !j->error[0])
            printf("  %-16s UA %6.2f  RA %6.2f  TA %6.2f  MIA %6.2f  gap "
                   "%5.2f  RTE %7.2f s\n", j->label, j->m.ua, j->m.ra,
                   j->m.ta, j->m.mia, gap, j->rte);
        free(j->ltr);
        free(j->lte);
    }
    fflush(stdout);
    b->n_jobs = 0;
    return rc;
}

/* Retrain for forget set f and seed s: cached model and metrics, or
 * trained (RTE = its training time) and cached. */
static int lt_bench_retrain(lt_bench *b, const lt_forget_set *f, uint64_t s)
{
    const lt_bench_opts *o = b->o;
    char key[1024], path[1200];
    /* keyed by the forget indices themselves: an indices file may change */
    uint64_t h = lt_cli_fnv_bytes(LT_CLI_FNV_INIT, f->forget,
                              (size_t)f->n_forget * sizeof *f->forget);
    snprintf(key, sizeof key, "retrain|v2|%016llx|%s|%llu|%016llx",
             (unsigned long long)b->orig_key, f->spec, (unsigned long long)s,
             (unsigned long long)h);
    snprintf(b->retrain_stem, sizeof b->retrain_stem, "%s/retrain-%016llx",
             o->cache, (unsigned long long)lt_cli_fnv(key));
    snprintf(path, sizeof path, "%s.safetensors", b->retrain_stem);
    lt_unlearn_metrics ref;
    double rte;
    lt_model *m = NULL;
    if (lt_metrics_load(b->retrain_stem, &ref, &rte) &&
        lt_model_load(path, &m) == LT_OK) {
        lt_model_free(m);
        printf("  retrain: cached %s\n", path);
        int rc = lt_bench_queue(b, "retrain", "retrain", NAN, NULL, rte);
        b->jobs[0].cached = true;
        b->jobs[0].m = ref;
        return rc;
    }
    lt_unlearn_cfg cfg = lt_unlearn_defaults(LT_METHOD_RETRAIN);
    cfg.optim.lr = o->train_lr;
    cfg.epochs = o->train_epochs;
    cfg.seed = s;
    lt_unlearn_report rep;
    int rc = lt_model_create(b->orig->arch, b->orig->in, &m) != LT_OK ||
             lt_unlearn_run(m, &b->tr, f, &cfg, &rep) != LT_OK;
    const char *meta[] = {"lethe.role", "bench retrain", "lethe.key", key};
    if (!rc)
        rc = lt_model_save(m, path, meta, 2) != LT_OK;
    if (rc)
        fprintf(stderr, "lethe bench: retrain: %s\n", lt_last_error());
    else
        printf("  retrain: trained in %.2f s\n", rep.seconds);
    if (!rc)
        rc = lt_bench_queue(b, "retrain", "retrain", NAN, m, rep.seconds);
    b->retrain_fresh = !rc;
    lt_model_free(m);
    return rc;
}

/* The config of method k for this benchmark (flags over defaults). */
static int lt_bench_cfg(const lt_bench *b, lt_method_kind k, float lr,
                        uint64_t s, lt_unlearn_cfg *cfg)
{
    *cfg = lt_unlearn_defaults(k);
    float base = cfg->optim.lr;
    if (b->o->optim) {
        if (lt_optim_parse(b->o->optim, &cfg->optim) != LT_OK) {
            fprintf(stderr, "lethe bench: --optim: %s\n", lt_last_error());
            return 2;
        }
        if (cfg->optim.kind == LT_OPT_SGD) {
            cfg->optim.momentum = 0.9f;
            cfg->optim.weight_decay = 5e-4f;
        }
    }
    cfg->optim.lr = lr > 0 ? lr : base;
    if (b->o->mask && lt_mask_parse(b->o->mask, &cfg->mask) != LT_OK) {
        fprintf(stderr, "lethe bench: --mask: %s\n", lt_last_error());
        return 2;
    }
    cfg->seed = s;
    return 0;
}

/* One method at one learning rate for forget set f, seed s. */
static int lt_bench_method(lt_bench *b, lt_method_kind k, float lr, bool grid,
                           const lt_forget_set *f, uint64_t s)
{
    lt_unlearn_cfg cfg;
    int rc = lt_bench_cfg(b, k, lr, s, &cfg);
    if (rc)
        return rc;
    char label[48];
    if (grid)
        snprintf(label, sizeof label, "%s@%g", lt_method_name(k),
                 (double)cfg.optim.lr);
    else
        snprintf(label, sizeof label, "%s", lt_method_name(k));
    memcpy(b->work->params.theta, b->orig->params.theta,
           (size_t)b->orig->params.n_total * sizeof(float));
    lt_unlearn_report rep;
    if (lt_unlearn_run(b->work, &b->tr, f, &cfg, &rep) != LT_OK) {
        char err[160];
        snprintf(err, sizeof err, "seed %llu: %s", (unsigned long long)s,
                 lt_last_error());
        printf("  %-16s failed: %s\n", label, err);
        rc = lt_bench_queue(b, label, lt_method_name(k), cfg.optim.lr, NULL,
                            rep.seconds);
        if (!rc) /* a diverged method is a result, not a crash */
            snprintf(b->jobs[b->n_jobs - 1].error, 160, "%s", err);
        return rc;
    }
    printf("  %-16s ran in %.2f s\n", label, rep.seconds);
    fflush(stdout);
    return lt_bench_queue(b, label, lt_method_name(k), cfg.optim.lr, b->work,
                          rep.seconds);
}

/* Every method (and grid value) for seed s. */
static int lt_bench_seed(lt_bench *b, uint64_t s, const lt_method_kind *ks,
                         int nk)
{
    lt_forget_set f = {0};
    if (lt_forget_select(b->forget, &b->tr, s, &f) != LT_OK) {
        fprintf(stderr, "lethe bench: --forget: %s\n", lt_last_error());
        return 2;
    }
    printf("seed %llu: forget %s (%lld of %lld)\n", (unsigned long long)s,
           f.spec, (long long)f.n_forget, (long long)f.n);
    b->retrain_fresh = false;
    int rc = lt_bench_retrain(b, &f, s);
    if (!rc)
        rc = lt_bench_queue(b, "original", "original", NAN, b->orig, 0);
    for (int i = 0; !rc && i < nk; i++) {
        float v[16];
        int n = lt_lr_values(b->o->lr_grid, lt_method_name(ks[i]), v, 16);
        bool grid = n > 0;
        if (!grid)
            n = lt_lr_values(b->o->lr, lt_method_name(ks[i]), v, 1);
        if (n <= 0) {
            v[0] = 0;
            n = 1;
        }
        for (int j = 0; !rc && j < n; j++)
            rc = lt_bench_method(b, ks[i], v[j], grid, &f, s);
    }
    if (!rc) {
        printf("  metrics of %d models (MIA: libsvm, %d in parallel)\n",
               b->n_jobs, lt_num_threads());
        rc = lt_bench_flush(b, &f);
    }
    if (!rc && b->retrain_fresh)
        rc = lt_metrics_save(b->retrain_stem, &b->jobs[0].m,
                             b->jobs[0].rte);
    for (int i = 0; i < b->n_jobs; i++) { /* left by an error */
        free(b->jobs[i].ltr);
        free(b->jobs[i].lte);
    }
    b->n_jobs = 0;
    lt_forget_set_free(&f);
    return rc;
}

static void *lt_bench_config_json(const lt_bench *b, int argc, char **argv)
{
    const lt_bench_opts *o = b->o;
    char cmd[2048];
    lt_cli_join_args(argc, argv, cmd, sizeof cmd);
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "command", cmd);
    cJSON_AddStringToObject(c, "data", b->tr.name);
    cJSON_AddStringToObject(c, "model", o->model);
    cJSON_AddStringToObject(c, "forget", b->forget);
    cJSON_AddNumberToObject(c, "seeds", o->seeds);
    cJSON_AddNumberToObject(c, "train_epochs", o->train_epochs);
    cJSON_AddNumberToObject(c, "train_lr", o->train_lr);
    cJSON_AddStringToObject(c, "optim", o->optim ? o->optim : "sgd");
    cJSON_AddStringToObject(c, "mask", o->mask ? o->mask : "method default");
    cJSON_AddNumberToObject(c, "threads", lt_num_threads());
    cJSON_AddStringToObject(c, "commit", LETHE_COMMIT);
    return c;
}

static int lt_bench_report(lt_bench *b, int argc, char **argv)
{
    const lt_bench_opts *o = b->o;
    char title[512];
    snprintf(title, sizeof title, "%s, %s, forget %s, %d seed%s (mean ± std),"
             " %s, %d threads", b->tr.name, o->model, b->forget, o->seeds,
             o->seeds > 1 ? "s" : "", o->optim ? o->optim : "sgd",
             lt_num_threads());
    printf("\n");
    lt_bench_print(stdout, &b->table, title);
    int rc = 0;
    if (o->markdown)
        rc |= lt_bench_write_markdown(&b->table, title, o->markdown);
    if (o->json)
        rc |= lt_bench_write_json(&b->table, lt_bench_config_json(b, argc,
                                                                   argv),
                                  o->json);
    return rc;
}

/* Parse, load the data and the original model: 0 and *out, or an exit
 * status (nothing left allocated). */
static int lt_bench_open(int argc, char **argv, lt_bench_opts *o,
                         lt_method_kind *ks, int *nk, lt_bench **out)
{
    *out = NULL;
    int rc = lt_bench_parse(argc, argv, o);
    if (rc)
        return rc == 1 ? -1 : rc;
    if (lt_lr_check("--lr", o->lr) || lt_lr_check("--lr-grid", o->lr_grid) ||
        lt_bench_methods(o->methods, ks, nk))
        return 2;
    if (o->threads)
        lt_set_num_threads(o->threads);
    lt_bench *b = calloc(1, sizeof *b);
    if (!b)
        return 1;
    b->o = o;
    b->forget = o->forget;
    if (lt_dataset_load(o->data, "train", &b->tr) != LT_OK ||
        lt_dataset_load(o->data, "test", &b->te) != LT_OK) {
        fprintf(stderr, "lethe bench: %s\n", lt_last_error());
        rc = 1;
    }
    if (!rc)
        rc = lt_cli_mkdirs(o->cache);
    if (!rc)
        rc = lt_bench_original(b);
    if (!rc && lt_model_create(b->orig->arch, b->orig->in, &b->work) != LT_OK)
        rc = 1;
    *out = b;
    return rc;
}

static void lt_bench_close(lt_bench *b)
{
    if (!b)
        return;
    lt_model_free(b->orig);
    lt_model_free(b->work);
    lt_dataset_free(&b->tr);
    lt_dataset_free(&b->te);
    free(b);
}

static int lt_bench_run_table(lt_bench *b, const lt_method_kind *ks, int nk)
{
    int rc = 0;
    memset(&b->table, 0, sizeof b->table);
    for (int s = 1; !rc && s <= b->o->seeds; s++)
        rc = lt_bench_seed(b, (uint64_t)s, ks, nk);
    return rc;
}

static int lt_bench_classify(int argc, char **argv)
{
    lt_bench_opts o;
    lt_method_kind ks[LT_METHOD_COUNT];
    int nk = 0;
    lt_bench *b;
    int rc = lt_bench_open(argc, argv, &o, ks, &nk, &b);
    if (!rc)
        rc = lt_bench_run_table(b, ks, nk);
    if (!rc)
        rc = lt_bench_report(b, argc, argv);
    lt_bench_close(b);
    return rc < 0 ? 0 : rc;
}

/* ---- bench worst-case: random vs worst-case forget sets -------------------- */

static void lt_wc_progress(void *ud, int it, int n, double obj)
{
    (void)ud;
    fprintf(stderr, "  selection: upper iteration %d/%d, mean loss of the "
            "set %.5f\n", it, n, obj);
}

/* The worst-case set of the random spec's size, cached as an indices
 * file; its path into path. */
static int lt_wc_select(lt_bench *b, char *path, size_t n)
{
    lt_forget_set r = {0};
    if (lt_forget_select(b->o->forget, &b->tr, 1, &r) != LT_OK ||
        r.kind != LT_FORGET_RANDOM) {
        fprintf(stderr, "lethe bench worst-case: --forget must be random:P%% "
                "or random:N%s%s\n", r.kind == LT_FORGET_RANDOM ? ": " : "",
                r.kind == LT_FORGET_RANDOM ? lt_last_error() : "");
        lt_forget_set_free(&r);
        return 2;
    }
    lt_select_cfg c = lt_select_defaults();
    c.m = r.n_forget;
    lt_forget_set_free(&r);
    char key[256];
    snprintf(key, sizeof key, "worst|v1|%016llx|%lld|%d|%d|%g|%g|%g",
             (unsigned long long)b->orig_key, (long long)c.m, c.upper_epochs,
             c.lower_steps, (double)c.lower_lr, (double)c.upper_lr,
             (double)c.gamma);
    snprintf(path, n, "%s/worst-%016llx.idx", b->o->cache,
             (unsigned long long)lt_cli_fnv(key));
    FILE *f = fopen(path, "r");
    if (f) {
        fclose(f);
        printf("worst-case set: cached %s\n", path);
        return 0;
    }
    c.progress = lt_wc_progress;
    lt_select_result s = {0};
    lt_forget_set fs = {0};
    int rc = lt_select_worst(b->orig, &b->tr, &c, &s) != LT_OK ||
             lt_forget_from_list(s.idx, s.n, b->tr.n, LT_FORGET_INDICES,
                                 "worst-case", &fs) != LT_OK ||
             lt_forget_save(&fs, path) != LT_OK;
    if (rc)
        fprintf(stderr, "lethe bench worst-case: %s\n", lt_last_error());
    else
        printf("worst-case set: %lld items selected in %.1f s (%s)\n",
               (long long)s.n, s.seconds, path);
    lt_forget_set_free(&fs);
    lt_select_result_free(&s);
    return rc;
}

static int lt_bench_worst_case(int argc, char **argv)
{
    lt_bench_opts o;
    lt_method_kind ks[LT_METHOD_COUNT];
    int nk = 0;
    lt_bench *b;
    char path[1200], spec[1300];
    lt_bench_table *rnd = calloc(1, sizeof *rnd);
    int rc = rnd ? lt_bench_open(argc, argv, &o, ks, &nk, &b) : 1;
    if (!rc)
        rc = lt_wc_select(b, path, sizeof path);
    if (!rc)
        rc = lt_bench_run_table(b, ks, nk);
    if (!rc) {
        *rnd = b->table;
        snprintf(spec, sizeof spec, "indices:%s", path);
        b->forget = spec;
        rc = lt_bench_run_table(b, ks, nk);
    }
    if (!rc) {
        char title[512];
        snprintf(title, sizeof title, "%s, %s: random (%s) -> worst-case set "
                 "of the same size, %d seed%s, means", b->tr.name, o.model,
                 o.forget, o.seeds, o.seeds > 1 ? "s" : "");
        printf("\n");
        lt_bench_print_pair(stdout, rnd, &b->table, title);
        if (o.markdown)
            rc |= lt_bench_write_pair(rnd, &b->table, title, o.markdown);
        if (o.json)
            rc |= lt_bench_write_pair_json(rnd, &b->table,
                                           lt_bench_config_json(b, argc, argv),
                                           o.json);
    }
    lt_bench_close(b);
    free(rnd);
    return rc < 0 ? 0 : rc;
}

int lt_cli_bench(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "classify"))
        return lt_bench_classify(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "tofu"))
        return lt_cli_bench_tofu(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "muse"))
        return lt_cli_bench_muse(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "worst-case"))
        return lt_bench_worst_case(argc - 1, argv + 1);
    FILE *f = argc >= 2 && strcmp(argv[1], "--help") && strcmp(argv[1], "-h")
              ? stderr : stdout;
    fprintf(f, "usage: lethe bench classify [options]\n       lethe bench "
            "worst-case [the same options]\n       lethe bench tofu|muse [options]"
            "\n(run any with --help for the options)\n");
    return f == stdout ? 0 : 2;
}
