/*
 * lm_eval.c - `lethe lm eval`: benchmark evaluation of a language model.
 *   --benchmark tofu  TOFU's metrics (lethe/tofu_eval.h): per split
 *                     (forget, retain, real authors, world facts) the
 *                     answer probability, ROUGE-L recall of greedy answers
 *                     and the truth-ratio statistic; forget quality (KS
 *                     p-value of the forget truth ratios against those of
 *                     the retain model, evaluated here with --retain-model
 *                     or read from an earlier --json with --retain-json)
 *                     and model utility (harmonic mean of the 9 utility
 *                     numbers). --json writes everything, per-item values
 *                     included.
 *   --benchmark muse  handed to cli_lm_eval_muse (muse.c).
 */
#include "cli/args.h"
#include "cli/common.h"
#include "lethe/stats.h"
#include "lethe/tofu_eval.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Entry point (for cli.h and the `lethe lm` dispatcher): argv[0] is
 * "eval". The MUSE evaluation lives in muse.c. */
int cli_lm_eval(int argc, char **argv);
int cli_lm_eval_muse(int argc, char **argv);

enum { LE_FORGET, LE_RETAIN, LE_REAL, LE_WORLD, LE_SPLITS };

static const char *const le_name[LE_SPLITS] = {"forget", "retain",
                                               "real_authors", "world_facts"};
static const int le_kind[LE_SPLITS] = {LT_TOFU_FORGET, LT_TOFU_RETAIN,
                                       LT_TOFU_UTILITY, LT_TOFU_UTILITY};

typedef struct {
    const char *bench, *model, *tok, *file[LE_SPLITS];
    const char *retain_model, *retain_tok, *retain_json, *json;
    int max_items, max_new, batch, threads;
} le_opts;

/* Outcome of the run. */
typedef struct {
    lt_tofu_split_eval split[LE_SPLITS];
    bool have[LE_SPLITS];
    double *tr_ret;            /* the retain model's forget truth ratios */
    int64_t n_ret;
    double fq, ks, mu;
} le_result;

static int le_parse(int argc, char **argv, le_opts *o)
{
    *o = (le_opts){.bench = "tofu", .max_items = 300, .batch = 16};
    cli_opt opts[] = {
        {"--benchmark", CLI_OPT_STR, &o->bench, "tofu or muse (tofu)", 0, 0},
        {"--model", CLI_OPT_STR, &o->model, "model to evaluate", 0, 0},
        {"--tokenizer", CLI_OPT_STR, &o->tok, "its tokenizer (default: beside the model)", 0, 0},
        {"--forget", CLI_OPT_STR, &o->file[LE_FORGET], "forget split (forget10_perturbed.json)", 0, 0},
        {"--retain", CLI_OPT_STR, &o->file[LE_RETAIN], "retain split (retain_perturbed.json)", 0, 0},
        {"--real-authors", CLI_OPT_STR, &o->file[LE_REAL], "real-authors utility set", 0, 0},
        {"--world-facts", CLI_OPT_STR, &o->file[LE_WORLD], "world-facts utility set", 0, 0},
        {"--retain-model", CLI_OPT_STR, &o->retain_model, "retain model (forget quality)", 0, 0},
        {"--retain-tokenizer", CLI_OPT_STR, &o->retain_tok, "its tokenizer (default: beside it)", 0, 0},
        {"--retain-json", CLI_OPT_STR, &o->retain_json, "an earlier --json of the retain model", 0, 0},
        {"--max-items", CLI_OPT_INT, &o->max_items, "first N records per split (300, TOFU's ds_size; 0 all)", 0, 1e9},
        {"--max-new", CLI_OPT_INT, &o->max_new, "greedy answer tokens (0: longest answer + 8)", 0, 1e6},
        {"--batch", CLI_OPT_INT, &o->batch, "sequences per scoring pass (16)", 1, 4096},
        {"--threads", CLI_OPT_INT, &o->threads, "threads (0: OpenMP default)", 0, 1024},
        {"--json", CLI_OPT_STR, &o->json, "write all results (per item too) here", 0, 0},
    };
    int rc = cli_args_parse("lm eval", "usage: lethe lm eval --benchmark tofu "
                           "--model M --forget F --retain R --real-authors RA "
                           "--world-facts WF [--retain-model RM | "
                           "--retain-json RJ] [--json OUT]\nTOFU evaluation: "
                           "probability, ROUGE-L recall and truth ratio per "
                           "split, forget quality and model utility.",
                           opts, (int)(sizeof opts / sizeof *opts), argc,
                           argv);
    if (rc)
        return rc;
    const char *err = NULL;
    if (!o->model)
        err = "--model M is required";
    else if (!o->file[0] && !o->file[1] && !o->file[2] && !o->file[3])
        err = "give at least one of --forget, --retain, --real-authors, "
              "--world-facts";
    else if (o->retain_model && o->retain_json)
        err = "give --retain-model or --retain-json, not both";
    else if ((o->retain_model || o->retain_json) && !o->file[LE_FORGET])
        err = "forget quality (--retain-model / --retain-json) needs --forget";
    if (err) {
        fprintf(stderr, "lethe lm eval: %s\n", err);
        return 2;
    }
    return 0;
}

/* "--benchmark X" anywhere in argv, else "tofu". */
static const char *le_benchmark(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--benchmark"))
            return argv[i + 1];
    return "tofu";
}

static int le_eval_split(const le_opts *o, lt_llama *m, lt_tokenizer *t,
                         int s, bool generate, lt_tofu_split_eval *out)
{
    lt_tofu_set set;
    if (lt_tofu_load(o->file[s], &set) != LT_OK) {
        fprintf(stderr, "lethe lm eval: %s\n", lt_last_error());
        return 1;
    }
    lt_tofu_eval_opts eo = lt_tofu_eval_defaults();
    eo.max_items = o->max_items;
    eo.max_new_tokens = o->max_new;
    eo.batch = o->batch;
    eo.generate = generate;
    lt_status st = lt_tofu_eval_split(m, t, &set, le_kind[s], &eo, out);
    lt_tofu_free(&set);
    if (st != LT_OK) {
        fprintf(stderr, "lethe lm eval: %s split: %s\n", le_name[s],
                lt_last_error());
        return 1;
    }
    return 0;
}

/* The retain model's forget truth ratios (scoring only, no generation). */
static int le_retain_tr(const le_opts *o, le_result *r)
{
    if (o->retain_json) {
        if (lt_tofu_eval_json_forget_tr(o->retain_json, &r->tr_ret,
                                        &r->n_ret) == LT_OK)
            return 0;
        fprintf(stderr, "lethe lm eval: %s\n", lt_last_error());
        return 1;
    }
    lt_llama *m;
    lt_tokenizer *t;
    if (cli_lm_open("lm eval", o->retain_model, o->retain_tok, &m, &t))
        return 1;
    lt_tofu_split_eval e;
    int rc = le_eval_split(o, m, t, LE_FORGET, false, &e);
    lt_llama_free(m);
    lt_tokenizer_free(t);
    if (rc)
        return rc;
    r->tr_ret = e.truth_ratio;
    r->n_ret = e.n;
    e.truth_ratio = NULL;
    lt_tofu_split_eval_free(&e);
    return 0;
}

static int le_run(const le_opts *o, le_result *r)
{
    lt_llama *m;
    lt_tokenizer *t;
    if (cli_lm_open("lm eval", o->model, o->tok, &m, &t))
        return 1;
    /* the retain reference first: a bad file fails before minutes of
     * generation */
    int rc = o->retain_model || o->retain_json ? le_retain_tr(o, r) : 0;
    for (int s = 0; s < LE_SPLITS && !rc; s++)
        if (o->file[s]) {
            rc = le_eval_split(o, m, t, s, true, &r->split[s]);
            r->have[s] = !rc;
        }
    lt_llama_free(m);
    lt_tokenizer_free(t);
    if (!rc && r->tr_ret && r->n_ret != r->split[LE_FORGET].n)
        fprintf(stderr, "lethe lm eval: warning: the retain reference has %lld "
                "forget items but this evaluation %lld (different "
                "--max-items?); the KS test compares different item sets\n",
                (long long)r->n_ret, (long long)r->split[LE_FORGET].n);
    r->fq = r->ks = r->mu = NAN;
    if (!rc && r->tr_ret &&
        lt_tofu_forget_quality(r->split[LE_FORGET].truth_ratio,
                               r->split[LE_FORGET].n, r->tr_ret, r->n_ret,
                               &r->fq, &r->ks) != LT_OK) {
        fprintf(stderr, "lethe lm eval: forget quality: %s\n",
                lt_last_error());
        rc = 1;
    }
    if (r->have[LE_RETAIN] && r->have[LE_REAL] && r->have[LE_WORLD])
        r->mu = lt_tofu_model_utility(&r->split[LE_RETAIN],
                                      &r->split[LE_REAL], &r->split[LE_WORLD]);
    return rc;
}

static void le_print(const le_opts *o, const le_result *r)
{
    printf("%-13s %6s %9s %9s %12s\n", "split", "items", "prob", "ROUGE-L",
           "truth ratio");
    for (int s = 0; s < LE_SPLITS; s++)
        if (r->have[s])
            printf("%-13s %6lld %9.4f %9.4f %12.4f\n", le_name[s],
                   (long long)r->split[s].n, r->split[s].prob_mean,
                   r->split[s].rouge_mean, r->split[s].truth_ratio_stat);
    if (isfinite(r->fq))
        printf("forget quality %.4g (KS D %.4f, %lld vs %lld items, retain: "
               "%s)\n", r->fq, r->ks, (long long)r->split[LE_FORGET].n,
               (long long)r->n_ret,
               o->retain_model ? o->retain_model : o->retain_json);
    else
        printf("forget quality - (needs --forget and --retain-model or "
               "--retain-json)\n");
    if (isfinite(r->mu))
        printf("model utility  %.4f\n", r->mu);
    else
        printf("model utility  - (needs --retain, --real-authors and "
               "--world-facts)\n");
}

static cJSON *le_num(double v)
{
    return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

static int le_write_json(const le_opts *o, const le_result *r, int argc,
                         char **argv)
{
    char cmd[4096];
    cli_join_args(argc, argv, cmd, sizeof cmd);
    cJSON *j = cJSON_CreateObject(), *sp = cJSON_CreateObject();
    bool ok = j && sp && cJSON_AddItemToObject(j, "splits", sp);
    if (!ok)
        cJSON_Delete(sp);
    ok = ok && cJSON_AddStringToObject(j, "benchmark", "tofu") &&
         cJSON_AddStringToObject(j, "command", cmd) &&
         cJSON_AddStringToObject(j, "model", o->model);
    for (int s = 0; ok && s < LE_SPLITS; s++) {
        if (!r->have[s])
            continue;
        cJSON *x = lt_tofu_split_json(&r->split[s]);
        ok = x && cJSON_AddStringToObject(x, "file", o->file[s]) &&
             cJSON_AddItemToObject(sp, le_name[s], x);
        if (!ok)
            cJSON_Delete(x);
    }
    ok = ok && cJSON_AddItemToObject(j, "forget_quality", le_num(r->fq)) &&
         cJSON_AddItemToObject(j, "ks_statistic", le_num(r->ks)) &&
         cJSON_AddItemToObject(j, "model_utility", le_num(r->mu));
    char *text = ok ? cJSON_Print(j) : NULL;
    cJSON_Delete(j);
    if (!text) {
        fprintf(stderr, "lethe lm eval: out of memory writing %s\n", o->json);
        return 1;
    }
    int rc = cli_write_text(o->json, text);
    free(text);
    return rc;
}

int cli_lm_eval(int argc, char **argv)
{
    if (!strcmp(le_benchmark(argc, argv), "muse"))
        return cli_lm_eval_muse(argc, argv);
    le_opts o;
    int rc = le_parse(argc, argv, &o);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (strcmp(o.bench, "tofu")) {
        fprintf(stderr, "lethe lm eval: unknown --benchmark '%s' (tofu or "
                "muse)\n", o.bench);
        return 2;
    }
    if (o.threads)
        lt_set_num_threads(o.threads);
    le_result r;
    memset(&r, 0, sizeof r);
    rc = le_run(&o, &r);
    if (!rc) {
        le_print(&o, &r);
        if (o.json)
            rc = le_write_json(&o, &r, argc, argv);
    }
    for (int s = 0; s < LE_SPLITS; s++)
        lt_tofu_split_eval_free(&r.split[s]);
    free(r.tr_ret);
    return rc;
}
