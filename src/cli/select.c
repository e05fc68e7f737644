/*
 * select.c - `lethe select`: pick a worst-case (or easiest) forget set for
 * a trained classifier by bi-level selection (lethe/select.h), data-wise or
 * class-wise; write the indices one per line (readable by --forget
 * indices:FILE) and a JSON summary (class histogram, objective per upper
 * iteration, settings, time).
 */
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/common.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *model, *data, *size, *by, *out, *json;
    bool worst, easiest;
    int count, upper, lower, binarize, batch, threads;
    float lower_lr, upper_lr, gamma;
    uint64_t seed;
} cli_select_opts;

static const char *cli_select_usage =
    "usage: lethe select --model FILE --size 10% --worst-case --out "
    "forget.idx [options]\n       lethe select --model FILE --by class "
    "--count C --worst-case --out forget.idx\nBi-level worst-case forget-set "
    "selection (docs/methods.md): the set whose\nloss stays lowest "
    "after unlearning it; --easiest selects the opposite.";

static int cli_select_parse(int argc, char **argv, cli_select_opts *o)
{
    lt_select_cfg d = lt_select_defaults();
    *o = (cli_select_opts){.data = "fashion-mnist", .size = "10%",
                          .by = "item", .upper = d.upper_epochs,
                          .lower = d.lower_steps, .batch = d.batch,
                          .lower_lr = d.lower_lr, .upper_lr = d.upper_lr,
                          .gamma = d.gamma, .seed = 1};
    cli_opt opts[] = {
        {"--model", CLI_OPT_STR, &o->model, "trained checkpoint", 0, 0},
        {"--data", CLI_OPT_STR, &o->data, "its training data (fashion-mnist)", 0, 0},
        {"--size", CLI_OPT_STR, &o->size, "items to select: P% or a count (10%)", 0, 0},
        {"--by", CLI_OPT_STR, &o->by, "item or class (item)", 0, 0},
        {"--count", CLI_OPT_INT, &o->count, "classes to select (--by class)", 1, 100000},
        {"--worst-case", CLI_OPT_FLAG, &o->worst, "select the hardest set", 0, 0},
        {"--easiest", CLI_OPT_FLAG, &o->easiest, "select the easiest set", 0, 0},
        {"--upper-epochs", CLI_OPT_INT, &o->upper, "upper iterations (10)", 1, 100000},
        {"--lower-steps", CLI_OPT_INT, &o->lower, "sign-SGD steps each (30)", 0, 1000000},
        {"--lower-lr", CLI_OPT_FLOAT, &o->lower_lr, "sign-SGD step (1e-4)", 0, 10},
        {"--upper-lr", CLI_OPT_FLOAT, &o->upper_lr, "step on the weights (1)", 1e-9, 1e6},
        {"--gamma", CLI_OPT_FLOAT, &o->gamma, "l2 on the weights (1e-3)", 0, 1e6},
        {"--binarize-every", CLI_OPT_INT, &o->binarize, "round w to 0/1 every B iterations (0: end only)", 0, 100000},
        {"--batch", CLI_OPT_INT, &o->batch, "lower-level minibatch (256)", 1, 65536},
        {"--out", CLI_OPT_STR, &o->out, "indices file to write", 0, 0},
        {"--json", CLI_OPT_STR, &o->json, "summary (default OUT.json)", 0, 0},
        {"--seed", CLI_OPT_U64, &o->seed, "minibatch order (1)", 0, 0},
        {"--threads", CLI_OPT_INT, &o->threads, "threads (default: all cores)", 1, 1024},
    };
    int rc = cli_args_parse("select", cli_select_usage, opts,
                           (int)(sizeof opts / sizeof *opts), argc, argv);
    const char *need = !o->model ? "--model FILE" : !o->out ? "--out FILE" :
                       o->worst == o->easiest ?
                       "exactly one of --worst-case and --easiest" : NULL;
    if (rc == 0 && need) {
        fprintf(stderr, "lethe select: %s is required\n", need);
        rc = 2;
    }
    if (rc == 0 && strcmp(o->by, "item") && strcmp(o->by, "class")) {
        fprintf(stderr, "lethe select: --by '%s' is not item or class\n", o->by);
        rc = 2;
    }
    return rc;
}

/* --size P% or N over n items. */
static int cli_select_size(const char *s, int64_t n, int64_t *m)
{
    char *end;
    double v = strtod(s, &end);
    bool pct = *end == '%';
    if (end == s || (*end && !(pct && !end[1])) || !(v > 0))
        *m = -1;
    else
        *m = pct ? llround(v / 100.0 * (double)n) : (int64_t)v;
    if (*m < 1 || *m >= n || (!pct && v != floor(v))) {
        fprintf(stderr, "lethe select: --size '%s': need a share or count "
                "between 1 and %lld items\n", s, (long long)n - 1);
        return 2;
    }
    return 0;
}

static void cli_select_progress(void *ud, int it, int n, double obj)
{
    fprintf(stderr, "  upper iteration %d/%d  objective %.5f  (%.1f s)\n", it,
            n, obj, lt_clock_seconds() - *(double *)ud);
}

static int cli_select_summary(const cli_select_opts *o, const lt_dataset *d,
                             const lt_select_cfg *c,
                             const lt_select_result *r, const char *path)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "model", o->model);
    cJSON_AddStringToObject(j, "data", d->name);
    cJSON_AddStringToObject(j, "objective_kind", o->easiest ? "easiest" :
                            "worst-case");
    cJSON_AddStringToObject(j, "by", o->by);
    cJSON_AddNumberToObject(j, "m", (double)c->m);
    cJSON_AddNumberToObject(j, "n_selected", (double)r->n);
    cJSON_AddNumberToObject(j, "upper_epochs", c->upper_epochs);
    cJSON_AddNumberToObject(j, "lower_steps", c->lower_steps);
    cJSON_AddNumberToObject(j, "lower_lr", c->lower_lr);
    cJSON_AddNumberToObject(j, "upper_lr", c->upper_lr);
    cJSON_AddNumberToObject(j, "gamma", c->gamma);
    cJSON_AddNumberToObject(j, "seed", (double)o->seed);
    cJSON_AddNumberToObject(j, "seconds", r->seconds);
    cJSON_AddNumberToObject(j, "threads", lt_num_threads());
    cJSON *h = cJSON_AddArrayToObject(j, "class_histogram");
    for (int k = 0; k < d->classes; k++) {
        int64_t cnt = 0;
        for (int64_t i = 0; i < r->n; i++)
            cnt += d->y[r->idx[i]] == k;
        cJSON_AddItemToArray(h, cJSON_CreateNumber((double)cnt));
    }
    cJSON *ob = cJSON_AddArrayToObject(j, "objective");
    for (int i = 0; i < r->n_objective; i++)
        cJSON_AddItemToArray(ob, cJSON_CreateNumber(r->objective[i]));
    char *text = cJSON_Print(j);
    int rc = text ? cli_write_text(path, text) : 1;
    cJSON_free(text);
    cJSON_Delete(j);
    return rc;
}

static int cli_select_go(const cli_select_opts *o, lt_model *m,
                        const lt_dataset *tr)
{
    lt_select_cfg c = lt_select_defaults();
    c.by_class = !strcmp(o->by, "class");
    int rc = 0;
    if (c.by_class && o->count < 1) {
        fprintf(stderr, "lethe select: --by class needs --count C\n");
        return 2;
    }
    if (c.by_class)
        c.m = o->count;
    else if ((rc = cli_select_size(o->size, tr->n, &c.m)))
        return rc;
    c.upper_epochs = o->upper;
    c.lower_steps = o->lower;
    c.lower_lr = o->lower_lr;
    c.upper_lr = o->upper_lr;
    c.gamma = o->gamma;
    c.binarize_every = o->binarize;
    c.easiest = o->easiest;
    c.batch = o->batch;
    c.seed = o->seed;
    double t0 = lt_clock_seconds();
    c.progress = cli_select_progress;
    c.ud = &t0;
    lt_select_result r;
    lt_forget_set f = {0};
    char spec[600], json[4200];
    snprintf(spec, sizeof spec, "%s %s %s", o->easiest ? "easiest" :
             "worst-case", c.by_class ? "classes" : "items", o->size);
    snprintf(json, sizeof json, "%s.json", o->out);
    if (lt_select_worst(m, tr, &c, &r) != LT_OK ||
        lt_forget_from_list(r.idx, r.n, tr->n, LT_FORGET_INDICES, spec, &f) !=
            LT_OK || lt_forget_save(&f, o->out) != LT_OK) {
        fprintf(stderr, "lethe select: %s\n", lt_last_error());
        rc = 1;
    }
    if (!rc)
        rc = cli_select_summary(o, tr, &c, &r, o->json ? o->json : json);
    if (!rc)
        printf("selected %lld of %lld training items in %.1f s: %s (summary "
               "%s)\n", (long long)r.n, (long long)tr->n, r.seconds, o->out,
               o->json ? o->json : json);
    lt_forget_set_free(&f);
    lt_select_result_free(&r);
    return rc;
}

int cli_select(int argc, char **argv)
{
    cli_select_opts o;
    int rc = cli_select_parse(argc, argv, &o);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (o.threads)
        lt_set_num_threads(o.threads);
    static const char *const splits[1] = {"train"};
    lt_model *m = NULL;
    lt_dataset d[1];
    rc = cli_open("select", o.model, o.data, splits, 1, &m, d);
    if (!rc)
        rc = cli_select_go(&o, m, &d[0]);
    lt_model_free(m);
    if (m || !rc)
        lt_dataset_free(&d[0]);
    return rc;
}
