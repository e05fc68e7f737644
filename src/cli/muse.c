/*
 * muse.c - the MUSE-style evaluation from the command line:
 *   lethe data muse --forget literature --retain science --out DIR
 *       writes the forget / retain / holdout texts, train.txt (forget +
 *       retain, what the original model is trained on) and the cloze QA
 *       of KnowMem from Debian's fortune collections (lethe/muse.h);
 *   lethe lm eval --benchmark muse --model M --dir DIR
 *       [--retain-model R | --retain-json R.json] [--json OUT]
 *       VerbMem, KnowMem (forget / retain), the four MIA AUCs of forget
 *       against holdout texts, and PrivLeak against the retrain model's
 *       Min-K% AUC (computed from R, or read from an earlier --json of R).
 */
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "lethe/muse.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- lethe data muse ---------------------------------------------------------- */

int cli_data_muse(int argc, char **argv)
{
    lt_muse_build_cfg c = lt_muse_build_defaults();
    const char *out = NULL;
    float frac = (float)c.holdout_frac;
    int qa_max = (int)c.qa_max;
    cli_opt opts[] = {
        {"--forget", CLI_OPT_STR, &c.forget, "fortune collection (or file) to forget", 0, 0},
        {"--retain", CLI_OPT_STR, &c.retain, "collection (or file) to retain", 0, 0},
        {"--out", CLI_OPT_STR, &out, "folder to write (created if missing)", 0, 0},
        {"--holdout-frac", CLI_OPT_FLOAT, &frac, "share of the forget collection held out, never trained on", 0.001, 0.95},
        {"--seed", CLI_OPT_U64, &c.seed, "which texts are held out", 0, 0},
        {"--qa-max", CLI_OPT_INT, &qa_max, "cloze QA items per file at most, drawn by --seed; 0: all", 0, 1e9},
        {"--fortune-dir", CLI_OPT_STR, &c.fortune_dir, "where collections are found", 0, 0},
    };
    int rc = cli_args_parse("data muse", "usage: lethe data muse --forget "
                           "literature --retain science --out DIR "
                           "[--holdout-frac 0.2 --seed S]\nMUSE-shaped "
                           "corpora and cloze QA from fortune collections.",
                           opts, CLI_NOPTS(opts), argc, argv);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (!out)
        return cli_usage("data muse", "--out DIR is required");
    lt_fileset p = {0};
    cli_files_fortune(&p, "--forget", c.fortune_dir, c.forget);
    cli_files_fortune(&p, "--retain", c.fortune_dir, c.retain);
    lt_fileset_add_dir(&p, true, "--out", out, lt_muse_file_names());
    if ((rc = cli_files_check("data muse", &p)))
        return rc;
    c.holdout_frac = frac;
    c.qa_max = qa_max;
    lt_muse_build_info n;
    if (cli_outputs_begin("data muse") || /* every file, or none */
        cli_outputs_end("data muse", lt_muse_build(&c, out, &n) != LT_OK
                                         ? cli_fail("data muse", NULL) : 0))
        return 1;
    printf("wrote %s: forget %lld texts (%s), holdout %lld (%s, unseen), "
           "retain %lld (%s); cloze QA: %lld forget, %lld retain\n", out,
           (long long)n.forget, c.forget, (long long)n.holdout, c.forget,
           (long long)n.retain, c.retain, (long long)n.qa_forget,
           (long long)n.qa_retain);
    return 0;
}

/* ---- lethe lm eval --benchmark muse ------------------------------------------------ */

typedef struct {
    const char *bench, *model, *tok, *dir, *retain_model, *retain_tok;
    const char *retain_json, *json;
    lt_muse_opts mo;
    int k_pct;
} cli_muse_cli;

static int cli_muse_eval_parse(int argc, char **argv, cli_muse_cli *o)
{
    *o = (cli_muse_cli){.bench = "muse", .mo = lt_muse_defaults()};
    o->k_pct = (int)lround(o->mo.k * 100);
    cli_opt opts[] = {
        {"--benchmark", CLI_OPT_STR, &o->bench, "muse", 0, 0},
        {"--model", CLI_OPT_STR, &o->model, "model to evaluate", 0, 0},
        {"--tokenizer", CLI_OPT_STR, &o->tok, "its tokenizer (default: beside it)", 0, 0},
        {"--dir", CLI_OPT_STR, &o->dir, "folder written by lethe data muse", 0, 0},
        {"--retain-model", CLI_OPT_STR, &o->retain_model, "retrain model (trained on retain.txt only) for PrivLeak", 0, 0},
        {"--retain-tokenizer", CLI_OPT_STR, &o->retain_tok, "its tokenizer (default: beside it)", 0, 0},
        {"--retain-json", CLI_OPT_STR, &o->retain_json, "or an earlier --json of the retrain model", 0, 0},
        {"--json", CLI_OPT_STR, &o->json, "write the results here", 0, 0},
        {"--prefix", CLI_OPT_INT, &o->mo.prefix, "VerbMem prompt tokens", 1, 1e6},
        {"--max-new", CLI_OPT_INT, &o->mo.max_new, "VerbMem continuation tokens", 1, 1e6},
        {"--qa-max-new", CLI_OPT_INT, &o->mo.qa_max_new, "KnowMem answer tokens", 1, 1e6},
        {"--k", CLI_OPT_INT, &o->k_pct, "Min-K% percent for PrivLeak", 1, 100},
        {"--batch", CLI_OPT_INT, &o->mo.batch, "MIA scoring batch", 1, 4096},
        {"--stem", CLI_OPT_FLAG, &o->mo.stem, "Porter-stem ROUGE tokens (MUSE's scorer does not)", 0, 0},
    };
    int rc = cli_args_parse("lm eval", "usage: lethe lm eval --benchmark muse "
                           "--model M --dir DIR [--retain-model R | "
                           "--retain-json R.json] [--json OUT]\nMUSE-style "
                           "VerbMem, KnowMem, MIA AUCs and PrivLeak.", opts,
                           CLI_NOPTS(opts), argc, argv);
    o->mo.k = o->k_pct / 100.0;
    if (rc == 0 && strcmp(o->bench, "muse")) {
        fprintf(stderr, "lethe lm eval: --benchmark %s: this command runs "
                "muse\n", o->bench);
        return 2;
    }
    const char *err = rc ? NULL : !o->model || !o->dir ?
        "--model and --dir are required" : o->retain_model && o->retain_json ?
        "give --retain-model or --retain-json, not both" : NULL;
    if (err) {
        fprintf(stderr, "lethe lm eval: %s\n", err);
        rc = 2;
    }
    return rc;
}

static void cli_muse_print(const cli_muse_cli *o, const lt_muse_data *d,
                          const lt_muse_result *r, double k, double auc_ret,
                          double leak)
{
    printf("MUSE evaluation of %s on %s (%lld forget, %lld holdout texts; "
           "%lld / %lld cloze QA)\n", o->model, o->dir,
           (long long)d->forget.n, (long long)d->holdout.n,
           (long long)d->qa_forget.n, (long long)d->qa_retain.n);
    printf("  %-34s %8.4f  (%lld texts, %lld too short skipped)\n",
           "VerbMem forget (ROUGE-L F1)", r->verbmem, (long long)r->verbmem_n,
           (long long)r->verbmem_skipped);
    printf("  %-34s %8.4f\n", "KnowMem forget (ROUGE-L F1)",
           r->knowmem_forget);
    printf("  %-34s %8.4f\n", "KnowMem retain (ROUGE-L F1)",
           r->knowmem_retain);
    char name[64];
    snprintf(name, sizeof name, "PrivLeak (Min-%g%%, %%)", k * 100);
    if (isnan(leak))
        printf("  %-34s %8s  (needs --retain-model or --retain-json)\n",
               name, "-");
    else
        printf("  %-34s %+8.2f  (MUSE's AUC %.4f vs retrain %.4f; < 0: "
               "forget texts still look like members)\n", name, leak,
               1 - r->auc[LT_MIA_MINK], 1 - auc_ret);
    printf("  MIA AUC, forget (members) vs holdout:\n");
    for (int a = 0; a < LT_MIA_N; a++)
        printf("    %-32s %8.4f\n", lt_mia_name((lt_mia_kind)a), r->auc[a]);
    printf("  (%.1f s)\n", r->seconds);
}

static int cli_muse_eval_run(const cli_muse_cli *o, const lt_muse_data *d,
                            int argc, char **argv)
{
    double auc_ret;
    if (lt_muse_retrain_auc(o->retain_model, o->retain_tok, o->retain_json,
                            d, &o->mo, &auc_ret) != LT_OK)
        return cli_fail("lm eval", o->retain_json ? "--retain-json" : NULL);
    lt_llama *m;
    lt_tokenizer *t;
    if (cli_lm_open("lm eval", o->model, o->tok, &m, &t))
        return 1;
    lt_muse_result r;
    lt_status st = lt_muse_eval(m, t, d, &o->mo, &r);
    lt_llama_free(m);
    lt_tokenizer_free(t);
    if (st != LT_OK)
        return cli_fail("lm eval", NULL);
    double leak = lt_muse_privleak(r.auc[LT_MIA_MINK], auc_ret);
    cli_muse_print(o, d, &r, o->mo.k, auc_ret, leak);
    char cmd[4096];
    cli_join_args(argc, argv, cmd, sizeof cmd);
    if (o->json && lt_muse_write_json(o->json, cmd, o->model, o->dir, &r,
                                      &o->mo, auc_ret) != LT_OK)
        return cli_fail("lm eval", NULL);
    return 0;
}

int cli_lm_eval_muse(int argc, char **argv)
{
    cli_muse_cli o;
    int rc = cli_muse_eval_parse(argc, argv, &o);
    if (rc)
        return rc == 1 ? 0 : rc;
    lt_fileset p = {0};
    lt_lm_fileset_add(&p, false, "--model", o.model, "--tokenizer", o.tok);
    lt_fileset_add_dir(&p, false, "--dir", o.dir, lt_muse_file_names());
    lt_lm_fileset_add(&p, false, "--retain-model", o.retain_model,
                    "--retain-tokenizer", o.retain_tok);
    lt_fileset_add(&p, false, "--retain-json", o.retain_json);
    lt_fileset_add(&p, true, "--json", o.json);
    if ((rc = cli_files_check("lm eval", &p)))
        return rc;
    lt_muse_data d;
    if (lt_muse_data_load(o.dir, &d) != LT_OK)
        return cli_fail("lm eval", NULL);
    rc = cli_muse_eval_run(&o, &d, argc, argv);
    lt_muse_data_free(&d);
    return rc;
}
