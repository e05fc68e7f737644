/*
 * bench_tofu.c - `lethe bench tofu`: the LLM unlearning table. Builds or
 * reuses (tofu_models.c) the synthetic TOFU data, the model fine-tuned on
 * `full` and the retain model, evaluates both, then runs every method x
 * mask x optimizer row from the fine-tuned model and reports forget
 * quality (KS p-value of the forget-set truth ratios against the retain
 * model), model utility (harmonic mean of 9 numbers), the forget set's
 * ROUGE-L and probability, and the run time, as a printed table, Markdown
 * and JSON. --quick is a small setting for CI.
 */
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "cli/tofu_models.h"
#include "lethe/llm_unlearn.h"
#include "lethe/tofu_eval.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LT_TB_MAX_ROWS 256

typedef struct {
    lt_tofu_setup_opts setup;
    const char *methods, *masks, *optims, *baseline;
    const char *lr, *lr_grid, *markdown, *json;
    int epochs, batch, threads, max_items;
    float sophia_scale;
    bool quick;
} lt_tb_opts;

typedef struct {
    char method[24], mask[32], optim[16];
    double lr, fq, mu, f_rouge, f_prob, f_tr, r_rouge, seconds;
    bool failed, diverged;
    char why[400];
} lt_tb_row;

typedef struct {
    const lt_tb_opts *o;
    lt_tofu_setup setup;
    lt_llama *full, *retain;
    lt_tokenizer *tok;
    lt_tofu_set forget_qa, retain_qa;           /* unlearning data */
    lt_tofu_set ev_forget, ev_retain, ev_ra, ev_wf; /* evaluation files */
    lt_lm_data forget_d, retain_d, refusal_d;   /* tokenized for unlearning */
    int32_t pad_id;
    lt_tofu_split_eval ref_forget;              /* retain model, forget split */
    lt_tb_row rows[LT_TB_MAX_ROWS];
    int n_rows;
} lt_tb;

static const char *lt_tb_usage =
    "usage: lethe bench tofu [options]\n"
    "LLM unlearning on synthetic TOFU data: train (or reuse) the model "
    "fine-tuned on\nfull and the retain model, run every method x mask x "
    "optimizer and print forget\nquality, model utility, forget-set ROUGE-L "
    "and run time.";

/* --quick: a setting CI can afford (micro model, 10 authors, few rows). */
static void lt_tb_quick(lt_tb_opts *o)
{
    lt_tofu_setup_opts *s = &o->setup;
    s->config = "micro";
    s->authors = 10;
    s->world_facts = s->real_authors = 20;
    s->epochs = 40;
    o->methods = "ga,npo,simnpo";
    o->masks = "none,wagle:0.5";
    o->optims = "adamw";
    o->baseline = "none";
    o->epochs = 5;
}

static int lt_tb_parse(int argc, char **argv, lt_tb_opts *o)
{
    *o = (lt_tb_opts){
        .setup = {.cache = "out/tofu-cache", .config = "micro", .authors = 40,
                  .forget_pct = 10, .world_facts = 100, .real_authors = 100,
                  .epochs = 50, .batch = 8, .vocab = 2048, .lr = 3e-3f,
                  .seed = 1},
        .methods = "all", .masks = "none,wagle:0.5",
        .optims = "adamw,sophia,sophia-soul", .baseline = "npo-gd,simnpo",
        .epochs = 5, .batch = 8, .max_items = 300, .sophia_scale = 1.0f};
    lt_tofu_setup_opts *s = &o->setup;
    lt_opt opts[] = {
        {"--authors", LT_OPT_INT, &s->authors, "fictitious authors (40)", 10, LT_TOFU_MAX_AUTHORS},
        {"--forget", LT_OPT_INT, &s->forget_pct, "forget split: 1, 5 or 10 (10)", 1, 10},
        {"--seed", LT_OPT_U64, &s->seed, "data, training and unlearning seed (1)", 0, 0},
        {"--config", LT_OPT_STR, &s->config, "model preset (micro)", 0, 0},
        {"--train-epochs", LT_OPT_INT, &s->epochs, "epochs of the full and retain models (50)", 1, 1000},
        {"--train-lr", LT_OPT_FLOAT, &s->lr, "their peak lr (3e-3)", 1e-9, 1},
        {"--world-facts", LT_OPT_INT, &s->world_facts, "WordNet noun QA items (100)", 5, 5000},
        {"--real-authors", LT_OPT_INT, &s->real_authors, "WordNet writer QA items (100)", 5, 5000},
        {"--cache", LT_OPT_STR, &s->cache, "folder for data and models (out/tofu-cache)", 0, 0},
        {"--methods", LT_OPT_STR, &o->methods, "comma list or all", 0, 0},
        {"--masks", LT_OPT_STR, &o->masks, "comma list (none,wagle:0.5)", 0, 0},
        {"--optims", LT_OPT_STR, &o->optims, "comma list (adamw,sophia,sophia-soul)", 0, 0},
        {"--baseline-masks", LT_OPT_STR, &o->baseline, "methods also run with gradient/magnitude/snip/random masks (npo-gd,simnpo; none: off)", 0, 0},
        {"--epochs", LT_OPT_INT, &o->epochs, "unlearning epochs (5)", 1, 1000},
        {"--batch", LT_OPT_INT, &o->batch, "unlearning batch (8)", 1, 4096},
        {"--lr", LT_OPT_STR, &o->lr, "per-method learning rates, m=v,...", 0, 0},
        {"--lr-grid", LT_OPT_STR, &o->lr_grid, "search mode: only rows m=v1:v2:... (no mask, first optimizer)", 0, 0},
        {"--sophia-scale", LT_OPT_FLOAT, &o->sophia_scale, "rate factor of sophia rows (1)", 1e-6, 1e6},
        {"--max-items", LT_OPT_INT, &o->max_items, "evaluate at most N items per split (300, TOFU's; 0: all)", 0, 1000000},
        {"--quick", LT_OPT_FLAG, &o->quick, "small setting for CI", 0, 0},
        {"--json", LT_OPT_STR, &o->json, "write the table as JSON", 0, 0},
        {"--markdown", LT_OPT_STR, &o->markdown, "write the table as Markdown", 0, 0},
        {"--threads", LT_OPT_INT, &o->threads, "threads (default: all cores)", 1, 1024},
    };
    for (int i = 1; i < argc; i++) /* --quick first: explicit flags win */
        if (!strcmp(argv[i], "--quick"))
            lt_tb_quick(o);
    return lt_args_parse("bench tofu", lt_tb_usage, opts,
                         (int)(sizeof opts / sizeof *opts), argc, argv);
}


/* ---- data and reference models -------------------------------------------- */

static int lt_tb_fail(const char *what)
{
    return lt_cli_fail("bench tofu", what);
}

static int lt_tb_load(const lt_tb *b, const char *name, lt_tofu_set *out)
{
    char path[1200];
    lt_tofu_path(&b->setup, name, path, sizeof path);
    return lt_tofu_load(path, out) == LT_OK ? 0 : lt_tb_fail(NULL);
}

static int lt_tb_open(lt_tb *b)
{
    const lt_tofu_setup_opts *s = &b->o->setup;
    char forget[64], forget_p[64], retain[64];
    snprintf(forget, sizeof forget, "forget%02d.json", s->forget_pct);
    snprintf(forget_p, sizeof forget_p, "forget%02d_perturbed.json",
             s->forget_pct);
    snprintf(retain, sizeof retain, "retain%02d.json", 100 - s->forget_pct);
    if (lt_cli_lm_open("bench tofu", b->setup.full_model, NULL, &b->full,
                       &b->tok))
        return 1;
    if (lt_llama_load(b->setup.retain_model, &b->retain) != LT_OK)
        return lt_tb_fail(b->setup.retain_model);
    return lt_tb_load(b, forget, &b->forget_qa) ||
           lt_tb_load(b, retain, &b->retain_qa) ||
           lt_tb_load(b, forget_p, &b->ev_forget) ||
           lt_tb_load(b, "retain_perturbed.json", &b->ev_retain) ||
           lt_tb_load(b, "real_authors.json", &b->ev_ra) ||
           lt_tb_load(b, "world_facts.json", &b->ev_wf);
}

static void lt_tb_close(lt_tb *b)
{
    lt_llama_free(b->full);
    lt_llama_free(b->retain);
    lt_tokenizer_free(b->tok);
    lt_tofu_free(&b->forget_qa);
    lt_tofu_free(&b->retain_qa);
    lt_tofu_free(&b->ev_forget);
    lt_tofu_free(&b->ev_retain);
    lt_tofu_free(&b->ev_ra);
    lt_tofu_free(&b->ev_wf);
    lt_tofu_split_eval_free(&b->ref_forget);
    lt_lm_data_free(&b->forget_d);
    lt_lm_data_free(&b->retain_d);
    lt_lm_data_free(&b->refusal_d);
}

/* The forget, retain and refusal examples the methods train on. */
static int lt_tb_tokenize(lt_tb *b)
{
    int64_t ctx = b->full->cfg.max_position_embeddings;
    b->pad_id = lt_tokenizer_special_id(b->tok, LT_TOK_PAD);
    if (b->pad_id < 0)
        b->pad_id = lt_tokenizer_special_id(b->tok, LT_TOK_EOS);
    lt_status st = lt_lm_data_qa(b->tok, &b->forget_qa, ctx, &b->forget_d);
    if (st == LT_OK)
        st = lt_lm_data_qa(b->tok, &b->retain_qa, ctx, &b->retain_d);
    if (st == LT_OK)
        st = lt_llm_refusal_data(b->tok, &b->forget_qa, b->o->setup.seed,
                                 &b->refusal_d);
    return st == LT_OK ? 0 : lt_tb_fail("tokenizing the forget/retain sets");
}

/* ---- evaluation ------------------------------------------------------------ */

/* The four splits of m into row (forget quality against the retain
 * model's forget truth ratios in b->ref_forget); keep_forget (may be
 * NULL) receives the forget split instead of freeing it. */
static int lt_tb_eval(lt_tb *b, lt_llama *m, lt_tb_row *row,
                      lt_tofu_split_eval *keep_forget)
{
    lt_tofu_eval_opts eo = lt_tofu_eval_defaults();
    eo.max_items = b->o->max_items;
    const lt_tofu_set *sets[4] = {&b->ev_forget, &b->ev_retain, &b->ev_ra,
                                  &b->ev_wf};
    int kinds[4] = {LT_TOFU_FORGET, LT_TOFU_RETAIN, LT_TOFU_UTILITY,
                    LT_TOFU_UTILITY};
    lt_tofu_split_eval e[4] = {{0}};
    lt_status st = LT_OK;
    for (int i = 0; i < 4 && st == LT_OK; i++)
        st = lt_tofu_eval_split(m, b->tok, sets[i], kinds[i], &eo, &e[i]);
    const lt_tofu_split_eval *ref = keep_forget ? &e[0] : &b->ref_forget;
    if (st == LT_OK)
        st = lt_tofu_forget_quality(e[0].truth_ratio, e[0].n,
                                    ref->truth_ratio, ref->n, &row->fq, NULL);
    if (st == LT_OK) {
        row->mu = lt_tofu_model_utility(&e[1], &e[2], &e[3]);
        row->f_rouge = e[0].rouge_mean;
        row->f_prob = e[0].prob_mean;
        row->f_tr = e[0].truth_ratio_stat;
        row->r_rouge = e[1].rouge_mean;
    }
    for (int i = 0; i < 4; i++) {
        if (i == 0 && keep_forget && st == LT_OK)
            *keep_forget = e[0];
        else
            lt_tofu_split_eval_free(&e[i]);
    }
    return st == LT_OK ? 0 : lt_tb_fail("evaluation");
}

static lt_tb_row *lt_tb_row_new(lt_tb *b, const char *method,
                                const char *mask, const char *optim)
{
    if (b->n_rows == LT_TB_MAX_ROWS)
        return NULL;
    lt_tb_row *r = &b->rows[b->n_rows++];
    *r = (lt_tb_row){0};
    r->fq = r->mu = r->f_rouge = r->f_prob = r->f_tr = r->r_rouge = NAN;
    r->seconds = NAN;
    snprintf(r->method, sizeof r->method, "%s", method);
    snprintf(r->mask, sizeof r->mask, "%s", mask);
    snprintf(r->optim, sizeof r->optim, "%s", optim);
    return r;
}

/* The retain model (forget quality 1 by definition) and the model before
 * unlearning. */
static int lt_tb_references(lt_tb *b)
{
    double t0 = lt_now();
    lt_tb_row *r = lt_tb_row_new(b, "retain model", "-", "-");
    if (lt_tb_eval(b, b->retain, r, &b->ref_forget))
        return 1;
    r->seconds = NAN;
    printf("retain model: FQ %.3g MU %.4f forget ROUGE-L %.4f (%.1f s)\n",
           r->fq, r->mu, r->f_rouge, lt_now() - t0);
    t0 = lt_now();
    r = lt_tb_row_new(b, "original", "-", "-");
    if (lt_tb_eval(b, b->full, r, NULL))
        return 1;
    r->seconds = NAN;
    printf("original: FQ %.3g MU %.4f forget ROUGE-L %.4f (%.1f s)\n", r->fq,
           r->mu, r->f_rouge, lt_now() - t0);
    return 0;
}

/* ---- unlearning rows -------------------------------------------------------- */


/* The unlearning settings of one row. 0, or 2 with the message printed. */
static int lt_tb_cfg(const lt_tb *b, lt_llm_method k, const char *mask,
                     const char *optim, float lr_set, lt_llm_unlearn_cfg *cfg)
{
    *cfg = lt_llm_unlearn_defaults(k);
    float lr = lr_set > 0 ? lr_set : cfg->optim.lr;
    const char *name = lt_llm_method_name(k);
    if (lr_set <= 0 && lt_cli_lr_spec(b->o->lr, name, &lr) < 0) {
        fprintf(stderr, "lethe bench tofu: --lr: malformed '%s' (want "
                "method=value,...)\n", b->o->lr);
        return 2;
    }
    if (lt_optim_parse(optim, &cfg->optim) != LT_OK ||
        lt_llm_mask_parse(mask, &cfg->mask) != LT_OK) {
        fprintf(stderr, "lethe bench tofu: %s\n", lt_last_error());
        return 2;
    }
    cfg->optim.lr = cfg->optim.kind == LT_OPT_SOPHIA && lr_set <= 0
                    ? lr * b->o->sophia_scale : lr;
    cfg->optim.weight_decay = 0.01f;
    if (k == LT_LLM_SIMNPO) /* SimNPO's TOFU configs */
        cfg->loss.beta = b->o->setup.forget_pct >= 10 ? 4.5f : 2.5f;
    cfg->epochs = b->o->epochs;
    cfg->batch = b->o->batch;
    cfg->seed = b->o->setup.seed;
    cfg->pad_id = b->pad_id;
    if (k == LT_LLM_REFUSAL)
        cfg->mask_forget = &b->forget_d;
    return 0;
}

/* One method x mask x optimizer: unlearn a copy of the original, evaluate. */
static int lt_tb_run(lt_tb *b, lt_llm_method k, const char *mask,
                     const char *optim, float lr)
{
    lt_llm_unlearn_cfg cfg;
    int rc = lt_tb_cfg(b, k, mask, optim, lr, &cfg);
    if (rc)
        return rc;
    lt_tb_row *row = lt_tb_row_new(b, lt_llm_method_name(k), mask, optim);
    lt_llama *m = row ? lt_llama_clone(b->full) : NULL;
    if (!m)
        return lt_tb_fail("too many rows or out of memory");
    lt_cli_lm_ui ui = {0};
    row->lr = cfg.optim.lr;
    snprintf(ui.label, sizeof ui.label, "%s %s %s lr %g", row->method, mask,
             optim, (double)row->lr);
    cfg.progress = lt_cli_llm_progress;
    cfg.ud = &ui;
    lt_llm_report rep = {0};
    const lt_lm_data *f = k == LT_LLM_REFUSAL ? &b->refusal_d : &b->forget_d;
    lt_status st = lt_llm_unlearn(m, f, &b->retain_d, &cfg, &rep);
    if (ui.started)
        lt_progress_end(&ui.bar);
    row->seconds = rep.seconds;
    if (st != LT_OK) {
        row->failed = true;
        row->diverged = rep.diverged;
        snprintf(row->why, sizeof row->why, "%s", rep.diverged ? rep.message :
                 lt_last_error());
        fprintf(stderr, "lethe bench tofu: %s: %s\n", ui.label, row->why);
    }
    double t0 = lt_now();
    rc = st == LT_OK || rep.diverged ? lt_tb_eval(b, m, row, NULL) : 0;
    lt_llama_free(m);
    if (rc) {
        row->failed = true;
        snprintf(row->why, sizeof row->why, "evaluation: %s", lt_last_error());
        return 0;
    }
    if (!row->failed || row->diverged)
        printf("%-28s FQ %.3g MU %.4f forget ROUGE-L %.4f  %.1f s (eval "
               "%.1f s)%s\n", ui.label, row->fq, row->mu, row->f_rouge,
               row->seconds, lt_now() - t0,
               row->failed ? " (diverged: last good weights)" : "");
    return rc;
}

static int lt_tb_method(const char *name, lt_llm_method *k)
{
    if (lt_llm_method_parse(name, k) == LT_OK)
        return 0;
    fprintf(stderr, "lethe bench tofu: %s\n", lt_last_error());
    return 2;
}

/* Every method x mask x optimizer. */
static int lt_tb_grid(lt_tb *b)
{
    const char *methods = strcmp(b->o->methods, "all") ? b->o->methods :
        "ga,graddiff,npo,npo-gd,simnpo,refusal,rmu";
    char name[64], mask[64], optim[64];
    lt_llm_method k;
    for (int i = 0; lt_cli_list_item(methods, i, name, sizeof name); i++) {
        if (lt_tb_method(name, &k))
            return 2;
        for (int j = 0; lt_cli_list_item(b->o->masks, j, mask, sizeof mask); j++)
            for (int l = 0; lt_cli_list_item(b->o->optims, l, optim, sizeof optim);
                 l++) {
                int rc = lt_tb_run(b, k, mask, optim, 0);
                if (rc)
                    return rc;
            }
    }
    return 0;
}

/* The baseline masks at WAGLE's ratio (the first wagle:R of --masks, else
 * 0.5) under the first optimizer, for the --baseline-masks methods. */
static int lt_tb_baselines(lt_tb *b)
{
    const char *kinds[4] = {"gradient", "magnitude", "snip", "random"};
    char name[64], mask[64], optim[64] = "adamw";
    const char *w = strstr(b->o->masks, "wagle:");
    double ratio = w ? atof(w + 6) : 0.5;
    lt_cli_list_item(b->o->optims, 0, optim, sizeof optim);
    if (!strcmp(b->o->baseline, "none"))
        return 0;
    lt_llm_method k;
    for (int i = 0; lt_cli_list_item(b->o->baseline, i, name, sizeof name); i++) {
        if (lt_tb_method(name, &k))
            return 2;
        for (int j = 0; j < 4; j++) {
            snprintf(mask, sizeof mask, "%s:%g", kinds[j], ratio);
            int rc = lt_tb_run(b, k, mask, optim, 0);
            if (rc)
                return rc;
        }
    }
    return 0;
}

/* --lr-grid: each listed method at each rate, no mask, first optimizer. */
static int lt_tb_lr_grid(lt_tb *b)
{
    char item[256], optim[64] = "adamw";
    lt_cli_list_item(b->o->optims, 0, optim, sizeof optim);
    for (int i = 0; lt_cli_list_item(b->o->lr_grid, i, item, sizeof item); i++) {
        char *eq = strchr(item, '=');
        lt_llm_method k;
        if (!eq) {
            fprintf(stderr, "lethe bench tofu: --lr-grid: want m=v1:v2, got "
                    "'%s'\n", item);
            return 2;
        }
        *eq = 0;
        if (lt_tb_method(item, &k))
            return 2;
        for (char *p = eq + 1; *p; ) {
            char *end;
            float lr = strtof(p, &end);
            if (end == p || lr <= 0 || (*end && *end != ':')) {
                fprintf(stderr, "lethe bench tofu: --lr-grid: bad rate in "
                        "'%s'\n", eq + 1);
                return 2;
            }
            int rc = lt_tb_run(b, k, "none", optim, lr);
            if (rc)
                return rc;
            p = *end ? end + 1 : end;
        }
    }
    return 0;
}

/* Every list option checked before hours of training. 0, or 2 with the
 * message printed. */
static int lt_tb_validate(const lt_tb_opts *o)
{
    const char *methods = strcmp(o->methods, "all") ? o->methods : "ga";
    char item[256];
    lt_llm_method k;
    lt_llm_mask_spec ms;
    lt_optim_config oc;
    float lr;
    for (int i = 0; lt_cli_list_item(methods, i, item, sizeof item); i++)
        if (lt_tb_method(item, &k))
            return 2;
    for (int i = 0; lt_cli_list_item(o->masks, i, item, sizeof item); i++)
        if (lt_llm_mask_parse(item, &ms) != LT_OK)
            goto bad;
    for (int i = 0; lt_cli_list_item(o->optims, i, item, sizeof item); i++)
        if (lt_optim_parse(item, &oc) != LT_OK)
            goto bad;
    for (int i = 0; strcmp(o->baseline, "none") &&
                    lt_cli_list_item(o->baseline, i, item, sizeof item); i++)
        if (lt_tb_method(item, &k))
            return 2;
    for (int i = 0; o->lr_grid && lt_cli_list_item(o->lr_grid, i, item,
                                             sizeof item); i++) {
        char *eq = strchr(item, '=');
        if (!eq || (*eq = 0, lt_tb_method(item, &k))) {
            fprintf(stderr, "lethe bench tofu: --lr-grid: malformed '%s' "
                    "(want method=v1:v2,...)\n", o->lr_grid);
            return 2;
        }
    }
    for (int i = 0; o->lr && lt_cli_list_item(o->lr, i, item, sizeof item); i++) {
        char *eq = strchr(item, '=');
        if (!eq || (*eq = 0, lt_tb_method(item, &k)) ||
            lt_cli_lr_spec(o->lr, item, &lr) < 0) {
            fprintf(stderr, "lethe bench tofu: --lr: malformed '%s' (want "
                    "method=value,...)\n", o->lr);
            return 2;
        }
    }
    return 0;
bad:
    fprintf(stderr, "lethe bench tofu: %s\n", lt_last_error());
    return 2;
}

/* ---- the table ---------------------------------------------------------------- */

static void lt_tb_num(char *buf, size_t n, double v, const char *fmt)
{
    if (isnan(v))
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, fmt, v);
}

/* One line of the table; md selects Markdown. */
static void lt_tb_line(FILE *f, const lt_tb_row *r, bool md)
{
    char lr[32], fq[32], mu[32], fr[32], fp[32], ft[32], rr[32], t[32];
    lt_tb_num(lr, sizeof lr, r->lr > 0 ? r->lr : NAN, "%g");
    lt_tb_num(fq, sizeof fq, r->fq, r->fq < 1e-3 ? "%.2e" : "%.4f");
    lt_tb_num(mu, sizeof mu, r->mu, "%.4f");
    lt_tb_num(fr, sizeof fr, r->f_rouge, "%.4f");
    lt_tb_num(fp, sizeof fp, r->f_prob, "%.4f");
    lt_tb_num(ft, sizeof ft, r->f_tr, "%.4f");
    lt_tb_num(rr, sizeof rr, r->r_rouge, "%.4f");
    lt_tb_num(t, sizeof t, r->seconds, "%.1f");
    const char *mark = r->diverged ? " (diverged)" : r->failed ? " (failed)"
                                                               : "";
    if (md)
        fprintf(f, "| %s%s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s "
                "|\n", r->method, mark, r->mask, r->optim, lr, fq, mu, fr, fp,
                ft, rr, t);
    else
        fprintf(f, "%-14s %-15s %-11s %7s %9s %7s %7s %7s %7s %7s %7s%s\n",
                r->method, r->mask, r->optim, lr, fq, mu, fr, fp, ft, rr, t,
                mark);
}

static void lt_tb_print(FILE *f, const void *ctx, const char *title, bool md)
{
    const lt_tb *b = ctx;
    if (md)
        fprintf(f, "%s\n\n| Method | Mask | Optimizer | lr | Forget quality "
                "| Model utility | Forget ROUGE-L | Forget prob. | Forget truth "
                "ratio | Retain ROUGE-L | Time (s) |\n|---|---|---|---|---|---|"
                "---|---|---|---|---|\n", title);
    else
        fprintf(f, "%s\n%-14s %-15s %-11s %7s %9s %7s %7s %7s %7s %7s %7s\n",
                title, "method", "mask", "optim", "lr", "FQ", "MU", "F-RougeL",
                "F-prob", "F-TR", "R-RougeL", "time_s");
    for (int i = 0; i < b->n_rows; i++)
        lt_tb_line(f, &b->rows[i], md);
    for (int i = 0; md && i < b->n_rows; i++)
        if (b->rows[i].failed)
            fprintf(f, "\n%s %s %s: %s\n", b->rows[i].method, b->rows[i].mask,
                    b->rows[i].optim, b->rows[i].why);
}

static int lt_tb_json(const lt_tb *b, const char *title, int argc, char **argv,
                      const char *path)
{
    cJSON *root = cJSON_CreateObject();
    char cmd[2048];
    lt_cli_join_args(argc, argv, cmd, sizeof cmd);
    cJSON_AddStringToObject(root, "title", title);
    cJSON_AddStringToObject(root, "command", cmd);
    cJSON_AddStringToObject(root, "commit", LETHE_COMMIT);
    cJSON_AddStringToObject(root, "full_model", b->setup.full_model);
    cJSON_AddStringToObject(root, "retain_model", b->setup.retain_model);
    cJSON *rows = cJSON_AddArrayToObject(root, "rows");
    for (int i = 0; i < b->n_rows; i++) {
        const lt_tb_row *r = &b->rows[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "method", r->method);
        cJSON_AddStringToObject(o, "mask", r->mask);
        cJSON_AddStringToObject(o, "optim", r->optim);
        lt_cli_json_num(o, "lr", r->lr > 0 ? r->lr : NAN);
        lt_cli_json_num(o, "forget_quality", r->fq);
        lt_cli_json_num(o, "model_utility", r->mu);
        lt_cli_json_num(o, "forget_rouge_l", r->f_rouge);
        lt_cli_json_num(o, "forget_prob", r->f_prob);
        lt_cli_json_num(o, "forget_truth_ratio", r->f_tr);
        lt_cli_json_num(o, "retain_rouge_l", r->r_rouge);
        lt_cli_json_num(o, "seconds", r->seconds);
        cJSON_AddBoolToObject(o, "diverged", r->diverged);
        cJSON_AddBoolToObject(o, "failed", r->failed);
        if (r->failed)
            cJSON_AddStringToObject(o, "message", r->why);
        if (!rows || !cJSON_AddItemToArray(rows, o))
            cJSON_Delete(o);
    }
    return lt_cli_write_json(path, root);
}

static int lt_tb_report(const lt_tb *b, int argc, char **argv)
{
    const lt_tofu_setup_opts *s = &b->o->setup;
    char title[512];
    snprintf(title, sizeof title, "TOFU (synthetic, %d authors), forget%02d, "
             "%s model, %d unlearning epochs, batch %d, seed %llu, %d threads",
             s->authors, s->forget_pct, s->config, b->o->epochs, b->o->batch,
             (unsigned long long)s->seed, lt_num_threads());
    printf("\n");
    lt_tb_print(stdout, b, title, false);
    int rc = 0;
    if (b->o->markdown)
        rc |= lt_cli_write_markdown(b->o->markdown, lt_tb_print, b, title);
    if (b->o->json)
        rc |= lt_tb_json(b, title, argc, argv, b->o->json);
    return rc;
}

int lt_cli_bench_tofu(int argc, char **argv)
{
    lt_tb_opts o;
    int rc = lt_tb_parse(argc, argv, &o);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (o.setup.forget_pct != 1 && o.setup.forget_pct != 5 &&
        o.setup.forget_pct != 10) {
        fprintf(stderr, "lethe bench tofu: --forget must be 1, 5 or 10\n");
        return 2;
    }
    if (lt_tb_validate(&o))
        return 2;
    if (o.threads)
        lt_set_num_threads(o.threads);
    lt_tb *b = calloc(1, sizeof *b);
    if (!b)
        return 1;
    b->o = &o;
    rc = lt_tofu_setup_run(&o.setup, &b->setup);
    if (!rc)
        rc = lt_tb_open(b) || lt_tb_tokenize(b);
    if (!rc)
        rc = lt_tb_references(b);
    if (!rc && o.lr_grid)
        rc = lt_tb_lr_grid(b);
    if (!rc && !o.lr_grid)
        rc = lt_tb_grid(b);
    if (!rc && !o.lr_grid)
        rc = lt_tb_baselines(b);
    int rrc = b->n_rows ? lt_tb_report(b, argc, argv) : 0;
    rc = rc ? rc : rrc;
    lt_tb_close(b);
    free(b);
    return rc;
}
