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

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Entry point (for cli.h and the `lethe lm` dispatcher): argv[0] is
 * "eval". The MUSE evaluation lives in muse.c. */
int cli_lm_eval(int argc, char **argv);
int cli_lm_eval_muse(int argc, char **argv);

typedef struct {
    lt_tofu_eval_cfg c;
    const char *bench, *json;
} le_opts;

static int le_parse(int argc, char **argv, le_opts *o)
{
    *o = (le_opts){.c = lt_tofu_eval_cfg_defaults(), .bench = "tofu"};
    lt_tofu_eval_cfg *c = &o->c;
    cli_opt opts[] = {
        {"--benchmark", CLI_OPT_STR, &o->bench, "tofu or muse", 0, 0},
        {"--model", CLI_OPT_STR, &c->model, "model to evaluate", 0, 0},
        {"--tokenizer", CLI_OPT_STR, &c->tok, "its tokenizer (default: beside the model)", 0, 0},
        {"--forget", CLI_OPT_STR, &c->file[LT_TOFU_SPLIT_FORGET], "forget split (forget10_perturbed.json)", 0, 0},
        {"--retain", CLI_OPT_STR, &c->file[LT_TOFU_SPLIT_RETAIN], "retain split (retain_perturbed.json)", 0, 0},
        {"--real-authors", CLI_OPT_STR, &c->file[LT_TOFU_SPLIT_REAL], "real-authors utility set", 0, 0},
        {"--world-facts", CLI_OPT_STR, &c->file[LT_TOFU_SPLIT_WORLD], "world-facts utility set", 0, 0},
        {"--retain-model", CLI_OPT_STR, &c->retain_model, "retain model (forget quality)", 0, 0},
        {"--retain-tokenizer", CLI_OPT_STR, &c->retain_tok, "its tokenizer (default: beside it)", 0, 0},
        {"--retain-json", CLI_OPT_STR, &c->retain_json, "an earlier --json of the retain model", 0, 0},
        {"--max-items", CLI_OPT_INT, &c->max_items, "first N records per split (TOFU's ds_size; 0 all)", 0, 1e9},
        {"--max-new", CLI_OPT_INT, &c->max_new, "greedy answer tokens (0: up to --max-length in all, as TOFU; -1: longest answer + 8, faster)", -1, 1e6},
        {"--max-length", CLI_OPT_INT, &c->max_length, "prompt + answer tokens in all (TOFU's generation.max_length)", 2, 1e6},
        {"--batch", CLI_OPT_INT, &c->batch, "sequences per scoring pass", 1, 4096},
        {"--json", CLI_OPT_STR, &o->json, "write all results (per item too) here", 0, 0},
    };
    int rc = cli_args_parse("lm eval", "usage: lethe lm eval --benchmark tofu "
                           "--model M --forget F --retain R --real-authors RA "
                           "--world-facts WF [--retain-model RM | "
                           "--retain-json RJ] [--json OUT]\nTOFU evaluation: "
                           "probability, ROUGE-L recall and truth ratio per "
                           "split, forget quality and model utility.",
                           opts, CLI_NOPTS(opts), argc, argv);
    if (rc)
        return rc;
    const char *err = NULL;
    if (!c->model)
        err = "--model M is required";
    else if (!c->file[0] && !c->file[1] && !c->file[2] && !c->file[3])
        err = "give at least one of --forget, --retain, --real-authors, "
              "--world-facts";
    else if (c->retain_model && c->retain_json)
        err = "give --retain-model or --retain-json, not both";
    else if ((c->retain_model || c->retain_json) &&
             !c->file[LT_TOFU_SPLIT_FORGET])
        err = "forget quality (--retain-model / --retain-json) needs --forget";
    if (err)
        return cli_usage("lm eval", err);
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

static void le_print(const lt_tofu_eval_cfg *c, const lt_tofu_eval_result *r)
{
    printf("%-13s %6s %9s %9s %12s\n", "split", "items", "prob", "ROUGE-L",
           "truth ratio");
    for (int s = 0; s < LT_TOFU_SPLITS; s++)
        if (r->have[s])
            printf("%-13s %6lld %9.4f %9.4f %12.4f\n", lt_tofu_split_name(s),
                   (long long)r->split[s].n, r->split[s].prob_mean,
                   r->split[s].rouge_mean, r->split[s].truth_ratio_stat);
    if (r->tr_ret && r->n_ret != r->split[LT_TOFU_SPLIT_FORGET].n)
        fprintf(stderr, "lethe lm eval: warning: the retain reference has "
                "%lld forget items but this evaluation %lld (different "
                "--max-items?); the KS test compares different item sets\n",
                (long long)r->n_ret,
                (long long)r->split[LT_TOFU_SPLIT_FORGET].n);
    if (isfinite(r->fq))
        printf("forget quality %.4g (KS D %.4f, %lld vs %lld items, retain: "
               "%s)\n", r->fq, r->ks,
               (long long)r->split[LT_TOFU_SPLIT_FORGET].n,
               (long long)r->n_ret,
               c->retain_model ? c->retain_model : c->retain_json);
    else
        printf("forget quality - (needs --forget and --retain-model or "
               "--retain-json)\n");
    if (isfinite(r->mu))
        printf("model utility  %.4f\n", r->mu);
    else
        printf("model utility  - (needs --retain, --real-authors and "
               "--world-facts)\n");
}

int cli_lm_eval(int argc, char **argv);
int cli_lm_eval_muse(int argc, char **argv);

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
    const lt_tofu_eval_cfg *c = &o.c;
    lt_fileset p = {0};
    lt_lm_fileset_add(&p, false, "--model", c->model, "--tokenizer", c->tok);
    lt_fileset_add(&p, false, "--forget", c->file[LT_TOFU_SPLIT_FORGET]);
    lt_fileset_add(&p, false, "--retain", c->file[LT_TOFU_SPLIT_RETAIN]);
    lt_fileset_add(&p, false, "--real-authors", c->file[LT_TOFU_SPLIT_REAL]);
    lt_fileset_add(&p, false, "--world-facts", c->file[LT_TOFU_SPLIT_WORLD]);
    lt_lm_fileset_add(&p, false, "--retain-model", c->retain_model,
                    "--retain-tokenizer", c->retain_tok);
    lt_fileset_add(&p, false, "--retain-json", c->retain_json);
    lt_fileset_add(&p, true, "--json", o.json);
    if ((rc = cli_files_check("lm eval", &p)))
        return rc;
    lt_tofu_eval_result r;
    char cmd[4096];
    cli_join_args(argc, argv, cmd, sizeof cmd);
    lt_status st = lt_tofu_eval_model(&o.c, &r);
    if (st == LT_OK) {
        le_print(&o.c, &r);
        if (o.json)
            st = lt_tofu_eval_write_json(&o.c, &r, cmd, o.json);
    }
    rc = st == LT_OK ? 0 : cli_fail("lm eval", NULL);
    lt_tofu_eval_result_free(&r);
    return rc;
}
