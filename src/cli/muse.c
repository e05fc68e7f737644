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
#include "cli/common.h"
#include "lethe/muse.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Entry points (wired into cli.h and the dispatchers): argv[0] is "eval"
 * (for `lethe lm eval --benchmark muse`) and "muse" (`lethe data muse`). */
int cli_lm_eval_muse(int argc, char **argv);
int cli_data_muse(int argc, char **argv);

/* ---- lethe data muse ---------------------------------------------------------- */

static int cli_muse_data_build(const char *dir, const char *forget,
                              const char *retain, float frac, uint64_t seed,
                              int qa_max, const char *out)
{
    lt_text_set f = {0}, r = {0};
    lt_muse_corpus c = {0};
    lt_status s = lt_fortune_load(dir, forget, &f);
    if (s == LT_OK)
        s = lt_fortune_load(dir, retain, &r);
    if (s == LT_OK)
        s = lt_muse_split(&f, &r, frac, seed, &c);
    if (s == LT_OK && lt_mkdirs(out) != LT_OK) {
        cli_fail("data muse", NULL);
        lt_muse_corpus_free(&c);
        lt_text_set_free(&f);
        lt_text_set_free(&r);
        return 1;
    }
    if (s == LT_OK)
        s = lt_muse_write(&c, out, qa_max, seed);
    if (s != LT_OK)
        fprintf(stderr, "lethe data muse: %s\n", lt_last_error());
    lt_tofu_set qf = {0}, qr = {0};
    if (s == LT_OK && lt_muse_cloze_set(&c.forget, &qf, NULL) == LT_OK &&
        lt_muse_cloze_set(&c.retain, &qr, NULL) == LT_OK)
        printf("wrote %s: forget %lld texts (%s), holdout %lld (%s, unseen), "
               "retain %lld (%s); cloze QA: %lld forget, %lld retain\n", out,
               (long long)c.forget.n, forget, (long long)c.holdout.n, forget,
               (long long)c.retain.n, retain,
               (long long)(qa_max > 0 && qf.n > qa_max ? qa_max : qf.n),
               (long long)(qa_max > 0 && qr.n > qa_max ? qa_max : qr.n));
    lt_tofu_free(&qf);
    lt_tofu_free(&qr);
    lt_muse_corpus_free(&c);
    lt_text_set_free(&f);
    lt_text_set_free(&r);
    return s == LT_OK ? 0 : 1;
}

int cli_data_muse(int argc, char **argv)
{
    const char *forget = "literature", *retain = "science", *out = NULL;
    const char *dir = LT_FORTUNE_DIR;
    float frac = 0.2f;
    uint64_t seed = 1;
    int qa_max = 200;
    cli_opt opts[] = {
        {"--forget", CLI_OPT_STR, &forget, "fortune collection (or file) to "
         "forget (literature)", 0, 0},
        {"--retain", CLI_OPT_STR, &retain, "collection (or file) to retain "
         "(science)", 0, 0},
        {"--out", CLI_OPT_STR, &out, "folder to write (created if missing)", 0, 0},
        {"--holdout-frac", CLI_OPT_FLOAT, &frac, "share of the forget collection "
         "held out, never trained on (0.2)", 0.001, 0.95},
        {"--seed", CLI_OPT_U64, &seed, "which texts are held out (1)", 0, 0},
        {"--qa-max", CLI_OPT_INT, &qa_max, "cloze QA items per file at most, "
         "drawn by --seed; 0: all (200)", 0, 1e9},
        {"--fortune-dir", CLI_OPT_STR, &dir, "where collections are found ("
         LT_FORTUNE_DIR ")", 0, 0},
    };
    int rc = cli_args_parse("data muse", "usage: lethe data muse --forget "
                           "literature --retain science --out DIR "
                           "[--holdout-frac 0.2 --seed S]\nMUSE-shaped "
                           "corpora and cloze QA from fortune collections.",
                           opts, (int)(sizeof opts / sizeof *opts), argc,
                           argv);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (!out) {
        fprintf(stderr, "lethe data muse: --out DIR is required\n");
        return 2;
    }
    return cli_muse_data_build(dir, forget, retain, frac, seed, qa_max, out);
}

/* ---- lethe lm eval --benchmark muse ------------------------------------------------ */

typedef struct {
    const char *bench, *model, *tok, *dir, *retain_model, *retain_tok;
    const char *retain_json, *json;
    int prefix, max_new, qa_max_new, k_pct, batch, threads;
} cli_muse_cli;

static int cli_muse_eval_parse(int argc, char **argv, cli_muse_cli *o)
{
    lt_muse_opts d = lt_muse_defaults();
    *o = (cli_muse_cli){.bench = "muse", .prefix = d.prefix,
                       .max_new = d.max_new, .qa_max_new = d.qa_max_new,
                       .k_pct = 40, .batch = d.batch};
    cli_opt opts[] = {
        {"--benchmark", CLI_OPT_STR, &o->bench, "muse", 0, 0},
        {"--model", CLI_OPT_STR, &o->model, "model to evaluate", 0, 0},
        {"--tokenizer", CLI_OPT_STR, &o->tok, "its tokenizer (default: beside it)", 0, 0},
        {"--dir", CLI_OPT_STR, &o->dir, "folder written by lethe data muse", 0, 0},
        {"--retain-model", CLI_OPT_STR, &o->retain_model, "retrain model (trained on retain.txt only) for PrivLeak", 0, 0},
        {"--retain-tokenizer", CLI_OPT_STR, &o->retain_tok, "its tokenizer (default: beside it)", 0, 0},
        {"--retain-json", CLI_OPT_STR, &o->retain_json, "or an earlier --json of the retrain model", 0, 0},
        {"--json", CLI_OPT_STR, &o->json, "write the results here", 0, 0},
        {"--prefix", CLI_OPT_INT, &o->prefix, "VerbMem prompt tokens (32)", 1, 1e6},
        {"--max-new", CLI_OPT_INT, &o->max_new, "VerbMem continuation tokens (128)", 1, 1e6},
        {"--qa-max-new", CLI_OPT_INT, &o->qa_max_new, "KnowMem answer tokens (32)", 1, 1e6},
        {"--k", CLI_OPT_INT, &o->k_pct, "Min-K% percent for PrivLeak (40)", 1, 100},
        {"--batch", CLI_OPT_INT, &o->batch, "MIA scoring batch (8)", 1, 4096},
        {"--threads", CLI_OPT_INT, &o->threads, "threads (default: all cores)", 1, 1024},
    };
    int rc = cli_args_parse("lm eval", "usage: lethe lm eval --benchmark muse "
                           "--model M --dir DIR [--retain-model R | "
                           "--retain-json R.json] [--json OUT]\nMUSE-style "
                           "VerbMem, KnowMem, MIA AUCs and PrivLeak.", opts,
                           (int)(sizeof opts / sizeof *opts), argc, argv);
    if (rc == 0 && strcmp(o->bench, "muse")) {
        fprintf(stderr, "lethe lm eval: --benchmark %s: this command runs "
                "muse\n", o->bench);
        rc = 2;
    }
    if (rc == 0 && (!o->model || !o->dir)) {
        fprintf(stderr, "lethe lm eval: --model and --dir are required\n");
        rc = 2;
    }
    if (rc == 0 && o->retain_model && o->retain_json) {
        fprintf(stderr, "lethe lm eval: give --retain-model or "
                "--retain-json, not both\n");
        rc = 2;
    }
    return rc;
}

/* The retrain model's Min-K% AUC computed from it. */
static int cli_muse_retain_model(const cli_muse_cli *o, const lt_muse_data *d,
                                const lt_muse_opts *mo, double *auc)
{
    lt_llama *m;
    lt_tokenizer *t;
    if (cli_lm_open("lm eval", o->retain_model, o->retain_tok, &m, &t))
        return 1;
    double a[LT_MIA_N];
    int rc = 0;
    if (lt_mia_aucs(m, t, &d->forget, &d->holdout, mo->k, mo->batch, a) !=
        LT_OK) {
        fprintf(stderr, "lethe lm eval: %s: %s\n", o->retain_model,
                lt_last_error());
        rc = 1;
    } else
        *auc = a[LT_MIA_MINK];
    lt_llama_free(m);
    lt_tokenizer_free(t);
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
        printf("  %-34s %+8.2f  (AUC %.4f vs retrain %.4f; > 0: forget "
               "texts still look like members)\n", name, leak,
               r->auc[LT_MIA_MINK], auc_ret);
    printf("  MIA AUC, forget (members) vs holdout:\n");
    for (int a = 0; a < LT_MIA_N; a++)
        printf("    %-32s %8.4f\n", lt_mia_name((lt_mia_kind)a), r->auc[a]);
    printf("  (%.1f s)\n", r->seconds);
}

static int cli_muse_eval_run(const cli_muse_cli *o, const lt_muse_data *d,
                            int argc, char **argv)
{
    lt_muse_opts mo = lt_muse_defaults();
    mo.prefix = o->prefix;
    mo.max_new = o->max_new;
    mo.qa_max_new = o->qa_max_new;
    mo.k = o->k_pct / 100.0;
    mo.batch = o->batch;
    double auc_ret = NAN;
    if (o->retain_json &&
        lt_muse_retrain_auc_json(o->retain_json, mo.k, &auc_ret) != LT_OK)
        return cli_fail("lm eval", "--retain-json");
    if (o->retain_model && cli_muse_retain_model(o, d, &mo, &auc_ret))
        return 1;
    lt_llama *m;
    lt_tokenizer *t;
    if (cli_lm_open("lm eval", o->model, o->tok, &m, &t))
        return 1;
    lt_muse_result r;
    int rc = 0;
    if (lt_muse_eval(m, t, d, &mo, &r) != LT_OK) {
        fprintf(stderr, "lethe lm eval: %s\n", lt_last_error());
        rc = 1;
    }
    lt_llama_free(m);
    lt_tokenizer_free(t);
    if (rc)
        return rc;
    double leak = lt_muse_privleak(r.auc[LT_MIA_MINK], auc_ret);
    cli_muse_print(o, d, &r, mo.k, auc_ret, leak);
    char cmd[4096];
    cli_join_args(argc, argv, cmd, sizeof cmd);
    if (o->json && lt_muse_write_json(o->json, cmd, o->model, o->dir, &r, &mo,
                                      auc_ret) != LT_OK)
        return cli_fail("lm eval", NULL);
    return 0;
}

int cli_lm_eval_muse(int argc, char **argv)
{
    cli_muse_cli o;
    int rc = cli_muse_eval_parse(argc, argv, &o);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (o.threads)
        lt_set_num_threads(o.threads);
    lt_muse_data d;
    if (lt_muse_data_load(o.dir, &d) != LT_OK) {
        fprintf(stderr, "lethe lm eval: %s\n", lt_last_error());
        return 1;
    }
    rc = cli_muse_eval_run(&o, &d, argc, argv);
    lt_muse_data_free(&d);
    return rc;
}
