/*
 * bench_muse.c - `lethe bench muse`: LLM unlearning on real text, MUSE-style
 * (lethe/muse.h). Builds or reuses, under one cache folder keyed by the
 * options that shape them, the corpora of two fortune collections (forget
 * = literature, retain = science by default; lt_muse_split + lt_muse_write),
 * one tokenizer trained on forget + retain texts, and two models trained
 * from scratch on plain text with the same seed and schedule:
 *   full     on train.txt (forget + retain): the model to unlearn,
 *   retrain  on retain.txt only: the gold standard, whose Min-K% AUC is
 *            PrivLeak's reference.
 * Then it evaluates both and, from a clone of full, every --methods row
 * (unlearning the forget texts with the retain texts as retain set), the
 * scalability rows (forgetting the first P% of the forget texts) and the
 * sustainability rows (K forget requests one after another on one model),
 * each evaluated on the whole evaluation set: VerbMem, KnowMem forget /
 * retain, PrivLeak, the four MIA AUCs and the run time. Output: printed
 * tables, --markdown and --json. --quick is a small setting for CI.
 */
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "lethe/io.h"
#include "lethe/llm_unlearn.h"
#include "lethe/muse.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LT_BM_MAX_ROWS 256

typedef enum { LT_BM_REF = 0, LT_BM_MAIN, LT_BM_SCAL, LT_BM_SEQ } lt_bm_part;

typedef struct {
    const char *cache, *config, *forget, *retain, *fortune_dir;
    const char *methods, *scal, *scal_methods, *lr, *markdown, *json;
    int train_epochs, train_batch, vocab, window, max_texts, qa_max;
    int epochs, batch, seq, threads, prefix, max_new;
    float train_lr, holdout;
    uint64_t seed;
    bool quick;
} lt_bm_opts;

typedef struct {
    lt_bm_part part;
    char method[24], setting[32];
    double lr, verbmem, kf, kr, leak, auc[LT_MIA_N], seconds;
    int64_t n_texts;            /* forget texts unlearned (this request) */
    bool failed;
    char why[320];
} lt_bm_row;

typedef struct {
    const lt_bm_opts *o;
    char dir[1024], full_path[1100], retrain_path[1100];
    double train_seconds;
    lt_llama *full, *retrain;
    lt_tokenizer *tok;
    lt_muse_data data;          /* evaluation set */
    lt_muse_opts mo;
    lt_lm_data retain_d;        /* retain texts for unlearning */
    int32_t pad_id;
    double auc_retrain;         /* Min-K% AUC of the retrain model */
    lt_bm_row rows[LT_BM_MAX_ROWS];
    int n_rows;
} lt_bm;

static const char *lt_bm_usage =
    "usage: lethe bench muse [options]\n"
    "LLM unlearning on real text (MUSE-style, Debian fortunes): train (or "
    "reuse) the\nmodel trained on forget + retain texts and the retrain "
    "model, unlearn with each\nmethod and report VerbMem, KnowMem, "
    "PrivLeak, MIA AUCs and run time, plus\nscalability (--scal) and "
    "sustainability (--seq) tables.";

/* ---- options ---------------------------------------------------------------- */

/* --quick: a setting CI can afford (micro model, few texts, short runs);
 * options given on the command line override it. */
static void lt_bm_quick(lt_bm_opts *o)
{
    o->config = "micro";
    o->max_texts = 80;
    o->qa_max = 40;
    o->train_epochs = 30;
    o->methods = "ga,npo";
    o->scal = "50,100";
    o->scal_methods = "npo";
    o->seq = 2;
    o->epochs = 3;
    o->max_new = 48;
}

static int lt_bm_parse(int argc, char **argv, lt_bm_opts *o)
{
    *o = (lt_bm_opts){
        .cache = "out/muse-cache", .config = "micro", .forget = "literature",
        .retain = "science", .fortune_dir = LT_FORTUNE_DIR,
        .methods = "ga,npo,simnpo,graddiff,npo-gd", .scal = "25,50,100",
        .scal_methods = "npo,simnpo", .lr = "", .train_epochs = 40,
        .train_batch = 8, .vocab = 2048, .window = 256, .qa_max = 200,
        .epochs = 5, .batch = 8, .seq = 4, .prefix = 16, .max_new = 128,
        .train_lr = 3e-3f, .holdout = 0.2f, .seed = 1};
    for (int i = 1; i < argc; i++) /* --quick sets defaults; flags win */
        if (!strcmp(argv[i], "--quick"))
            lt_bm_quick(o);
    lt_opt opts[] = {
        {"--forget", LT_OPT_STR, &o->forget, "fortune collection (or file) to forget (literature)", 0, 0},
        {"--retain", LT_OPT_STR, &o->retain, "collection (or file) to retain (science)", 0, 0},
        {"--fortune-dir", LT_OPT_STR, &o->fortune_dir, "where collections are found (" LT_FORTUNE_DIR ")", 0, 0},
        {"--max-texts", LT_OPT_INT, &o->max_texts, "use the first N texts of each collection (0: all)", 0, 1e9},
        {"--holdout-frac", LT_OPT_FLOAT, &o->holdout, "share of the forget collection held out (0.2)", 0.001, 0.95},
        {"--qa-max", LT_OPT_INT, &o->qa_max, "cloze QA items per KnowMem file (200; 0: all)", 0, 1e9},
        {"--seed", LT_OPT_U64, &o->seed, "data, training and unlearning seed (1)", 0, 0},
        {"--config", LT_OPT_STR, &o->config, "model preset (micro)", 0, 0},
        {"--train-epochs", LT_OPT_INT, &o->train_epochs, "epochs of the full and retrain models (40)", 1, 10000},
        {"--train-lr", LT_OPT_FLOAT, &o->train_lr, "their peak lr (3e-3)", 1e-9, 1},
        {"--train-batch", LT_OPT_INT, &o->train_batch, "their batch (8)", 1, 4096},
        {"--vocab", LT_OPT_INT, &o->vocab, "tokenizer vocabulary (2048)", 300, 1 << 20},
        {"--window", LT_OPT_INT, &o->window, "max tokens of one text (BOS + text + EOS) in training and unlearning; longer ones are cut (256)", 2, 1 << 20},
        {"--cache", LT_OPT_STR, &o->cache, "folder for data and models (out/muse-cache)", 0, 0},
        {"--methods", LT_OPT_STR, &o->methods, "comma list (ga,npo,simnpo,graddiff,npo-gd)", 0, 0},
        {"--lr", LT_OPT_STR, &o->lr, "per-method learning rates, m=v,...", 0, 0},
        {"--epochs", LT_OPT_INT, &o->epochs, "unlearning epochs (5)", 1, 1000},
        {"--batch", LT_OPT_INT, &o->batch, "unlearning batch (8)", 1, 4096},
        {"--scal", LT_OPT_STR, &o->scal, "scalability: forget percentages (25,50,100; none: off)", 0, 0},
        {"--seq", LT_OPT_INT, &o->seq, "sustainability: forget requests (4; 0: off)", 0, 1000},
        {"--scal-methods", LT_OPT_STR, &o->scal_methods, "methods of both (npo,simnpo)", 0, 0},
        {"--prefix", LT_OPT_INT, &o->prefix, "VerbMem prompt tokens (16)", 1, 1e6},
        {"--max-new", LT_OPT_INT, &o->max_new, "VerbMem continuation tokens (128)", 1, 1e6},
        {"--quick", LT_OPT_FLAG, &o->quick, "small setting for CI (~2 min on 2 cores)", 0, 0},
        {"--json", LT_OPT_STR, &o->json, "write the tables as JSON", 0, 0},
        {"--markdown", LT_OPT_STR, &o->markdown, "write the tables as Markdown", 0, 0},
        {"--threads", LT_OPT_INT, &o->threads, "threads (default: all cores)", 1, 1024},
    };
    return lt_args_parse("bench muse", lt_bm_usage, opts,
                         (int)(sizeof opts / sizeof *opts), argc, argv);
}

static int lt_bm_fail(const char *what)
{
    return lt_cli_fail("bench muse", what);
}

/* The methods of a comma list exist and have well-formed --lr entries.
 * 0, or 2 with the message printed. */
static int lt_bm_check_methods(const lt_bm_opts *o, const char *flag,
                               const char *list)
{
    char name[64];
    lt_llm_method k;
    float lr;
    for (int i = 0; lt_cli_list_item(list, i, name, sizeof name); i++)
        if (lt_llm_method_parse(name, &k) != LT_OK) {
            fprintf(stderr, "lethe bench muse: %s: %s\n", flag,
                    lt_last_error());
            return 2;
        }
    for (int i = 0; lt_cli_list_item(o->lr, i, name, sizeof name); i++) {
        char *eq = strchr(name, '=');
        if (eq)
            *eq = 0;
        if (!eq || lt_llm_method_parse(name, &k) != LT_OK ||
            lt_cli_lr_spec(o->lr, name, &lr) != 1) {
            fprintf(stderr, "lethe bench muse: --lr: bad entry '%s' (want "
                    "method=value,...)\n", name);
            return 2;
        }
    }
    return 0;
}

/* Every list option, before anything is built. */
static int lt_bm_check(const lt_bm_opts *o)
{
    char item[32];
    for (int i = 0; strcmp(o->scal, "none") &&
                    lt_cli_list_item(o->scal, i, item, sizeof item); i++) {
        char *end;
        long pct = strtol(item, &end, 10);
        if (end == item || *end || pct < 1 || pct > 100) {
            fprintf(stderr, "lethe bench muse: --scal: want percentages in "
                    "1..100 or none, got '%s'\n", item);
            return 2;
        }
    }
    return lt_bm_check_methods(o, "--methods", o->methods) ||
           lt_bm_check_methods(o, "--scal-methods", o->scal_methods) ? 2 : 0;
}

/* ---- corpora ------------------------------------------------------------------ */

/* The first max (0: all) texts of collection name. */
static lt_status lt_bm_collection(const lt_bm_opts *o, const char *name,
                                  lt_text_set *out)
{
    lt_text_set all = {0};
    lt_status st = lt_fortune_load(o->fortune_dir, name, &all);
    if (st != LT_OK || o->max_texts <= 0 || all.n <= o->max_texts) {
        *out = all;
        return st;
    }
    *out = (lt_text_set){0};
    for (int64_t i = 0; i < o->max_texts && st == LT_OK; i++)
        st = lt_text_set_push(out, all.text[i], strlen(all.text[i]));
    lt_text_set_free(&all);
    return st;
}

static int lt_bm_corpus(const lt_bm_opts *o, const char *dir)
{
    lt_text_set f = {0}, r = {0};
    lt_muse_corpus c = {0};
    lt_status st = lt_bm_collection(o, o->forget, &f);
    if (st == LT_OK)
        st = lt_bm_collection(o, o->retain, &r);
    if (st == LT_OK)
        st = lt_muse_split(&f, &r, o->holdout, o->seed, &c);
    if (st == LT_OK)
        st = lt_muse_write(&c, dir, o->qa_max, o->seed);
    if (st == LT_OK)
        printf("muse data: forget %lld texts (%s), holdout %lld, retain %lld "
               "(%s) in %s\n", (long long)c.forget.n, o->forget,
               (long long)c.holdout.n, (long long)c.retain.n, o->retain, dir);
    lt_muse_corpus_free(&c);
    lt_text_set_free(&f);
    lt_text_set_free(&r);
    return st == LT_OK ? 0 : lt_bm_fail("building the corpora");
}

static int lt_bm_data(const lt_bm_opts *o, lt_bm *b)
{
    char key[1024], done[1200];
    snprintf(key, sizeof key, "forget=%s retain=%s dir=%s texts=%d "
             "holdout=%g qa=%d seed=%llu v1", o->forget, o->retain,
             o->fortune_dir, o->max_texts, (double)o->holdout, o->qa_max,
             (unsigned long long)o->seed);
    snprintf(b->dir, sizeof b->dir, "%s/muse-%016llx", o->cache,
             (unsigned long long)lt_cli_fnv(key));
    snprintf(done, sizeof done, "%s/knowmem_retain.json", b->dir);
    if (access(done, F_OK) == 0)
        return 0;
    if (lt_cli_mkdirs(b->dir))
        return 1;
    return lt_bm_corpus(o, b->dir);
}

/* ---- tokenizer and models ---------------------------------------------------- */

static lt_status lt_bm_tok_train(const lt_bm_opts *o, const char *dir,
                                 lt_tokenizer **t)
{
    char path[1200];
    lt_text_set f = {0}, r = {0};
    snprintf(path, sizeof path, "%s/forget.txt", dir);
    lt_status st = lt_text_set_load(path, &f);
    snprintf(path, sizeof path, "%s/retain.txt", dir);
    if (st == LT_OK)
        st = lt_text_set_load(path, &r);
    const char **texts = NULL;
    if (st == LT_OK && !(texts = malloc((size_t)(f.n + r.n) * sizeof *texts)))
        st = lt_set_error(LT_ERR_NOMEM, "tokenizer texts");
    for (int64_t i = 0; st == LT_OK && i < f.n + r.n; i++)
        texts[i] = i < f.n ? f.text[i] : r.text[i - f.n];
    const char *sp[] = {"<|endoftext|>"};
    lt_tokenizer_train_opts to = {o->vocab, 2, sp, 1};
    if (st == LT_OK)
        st = lt_tokenizer_train(texts, NULL, (size_t)(f.n + r.n), &to, t);
    free(texts);
    lt_text_set_free(&f);
    lt_text_set_free(&r);
    return st;
}

/* The shared tokenizer: trained on forget + retain texts, or loaded. */
static int lt_bm_tokenizer(const lt_bm_opts *o, const char *dir,
                           const char *path, lt_tokenizer **t)
{
    if (access(path, F_OK) == 0)
        return lt_tokenizer_load(path, t) == LT_OK ? 0 : lt_bm_fail(path);
    lt_status st = lt_bm_tok_train(o, dir, t);
    if (st == LT_OK)
        st = lt_tokenizer_save(*t, path);
    return st == LT_OK ? 0 : lt_bm_fail(path);
}

static int32_t lt_bm_pad(const lt_tokenizer *t)
{
    int32_t pad = lt_tokenizer_special_id(t, LT_TOK_PAD);
    return pad >= 0 ? pad : lt_tokenizer_special_id(t, LT_TOK_EOS);
}

static lt_lm_train_cfg lt_bm_train_cfg(const lt_bm_opts *o,
                                       const lt_tokenizer *t, int64_t n)
{
    lt_lm_train_cfg c = lt_lm_train_defaults();
    c.optim.lr = o->train_lr;
    c.epochs = o->train_epochs;
    c.batch = o->train_batch;
    c.seed = o->seed;
    int64_t steps = c.epochs * lt_lm_steps_per_epoch(&c, n);
    c.warmup = steps / 20 < 100 ? steps / 20 : 100;
    c.pad_id = lt_bm_pad(t);
    return c;
}

/* A fresh model of o->config for tokenizer t (bos/eos from it). */
static lt_status lt_bm_model_new(const lt_bm_opts *o, const lt_tokenizer *t,
                                 lt_llama **m)
{
    lt_llama_config cfg;
    lt_status st = lt_llama_preset(o->config, lt_tokenizer_vocab_size(t),
                                   &cfg);
    if (st == LT_OK && o->window > cfg.max_position_embeddings)
        st = lt_set_error(LT_ERR_ARG, "--window %d exceeds the context of "
                          "%s (%d)", o->window, o->config,
                          (int)cfg.max_position_embeddings);
    cfg.bos_token_id = lt_tokenizer_special_id(t, LT_TOK_BOS);
    cfg.eos_token_id = lt_tokenizer_special_id(t, LT_TOK_EOS);
    if (st == LT_OK)
        st = lt_llama_create(&cfg, m);
    if (st == LT_OK)
        lt_llama_init(*m, o->seed);
    return st;
}

/* A model from scratch on the text file dir/text, saved to out with the
 * tokenizer beside it. */
static int lt_bm_train(const lt_bm_opts *o, const char *dir,
                       const lt_tokenizer *t, const char *text,
                       const char *out)
{
    char path[1200], tok_path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, text);
    lt_llama *m = NULL;
    lt_lm_data d = {0};
    lt_status st = lt_bm_model_new(o, t, &m);
    if (st == LT_OK)
        st = lt_lm_data_docs_file(t, path, o->window, &d);
    lt_cli_lm_ui ui = {0};
    snprintf(ui.label, sizeof ui.label, "train on %s", text);
    lt_lm_train_cfg tc = lt_bm_train_cfg(o, t, d.n);
    tc.progress = lt_cli_lm_progress;
    tc.ud = &ui;
    lt_lm_report rep = {0};
    if (st == LT_OK)
        st = lt_lm_train(m, &d, &tc, &rep);
    if (ui.started)
        lt_progress_end(&ui.bar);
    lt_cli_lm_tok_path(out, tok_path, sizeof tok_path);
    if (st == LT_OK)
        st = lt_tokenizer_save(t, tok_path);
    if (st == LT_OK)
        st = lt_llama_save(m, out, 0);
    if (st == LT_OK)
        printf("trained %s on %s: %lld texts (%lld tokens), loss %.4f -> "
               "%.4f, %.0f s\n", out, text, (long long)d.n,
               (long long)d.n_tokens, rep.first_loss, rep.last_loss,
               rep.seconds);
    lt_llama_free(m);
    lt_lm_data_free(&d);
    return st == LT_OK ? 0 : lt_bm_fail(out);
}

/* Data, tokenizer and both models, built or reused. */
static int lt_bm_setup(const lt_bm_opts *o, lt_bm *b)
{
    if (lt_bm_data(o, b))
        return 1;
    char key[512], tok[1200];
    snprintf(key, sizeof key, "config=%s epochs=%d batch=%d lr=%g vocab=%d "
             "window=%d seed=%llu docs v2", o->config, o->train_epochs,
             o->train_batch, (double)o->train_lr, o->vocab, o->window,
             (unsigned long long)o->seed);
    unsigned long long h = (unsigned long long)lt_cli_fnv(key);
    snprintf(tok, sizeof tok, "%s/tokenizer-%d.json", b->dir, o->vocab);
    snprintf(b->full_path, sizeof b->full_path, "%s/full-%016llx.safetensors",
             b->dir, h);
    snprintf(b->retrain_path, sizeof b->retrain_path,
             "%s/retrain-%016llx.safetensors", b->dir, h);
    lt_tokenizer *t = NULL;
    if (lt_bm_tokenizer(o, b->dir, tok, &t))
        return 1;
    double t0 = lt_now();
    int rc = 0;
    if (access(b->full_path, F_OK) != 0)
        rc = lt_bm_train(o, b->dir, t, "train.txt", b->full_path);
    if (!rc && access(b->retrain_path, F_OK) != 0)
        rc = lt_bm_train(o, b->dir, t, "retain.txt", b->retrain_path);
    b->train_seconds = lt_now() - t0;
    lt_tokenizer_free(t);
    return rc;
}

/* Both models, the evaluation set and the retain windows. */
static int lt_bm_open(lt_bm *b)
{
    if (lt_cli_lm_open("bench muse", b->full_path, NULL, &b->full, &b->tok))
        return 1;
    if (lt_llama_load(b->retrain_path, &b->retrain) != LT_OK)
        return lt_bm_fail(b->retrain_path);
    if (lt_muse_data_load(b->dir, &b->data) != LT_OK)
        return lt_bm_fail(b->dir);
    char path[1200];
    snprintf(path, sizeof path, "%s/retain.txt", b->dir);
    b->pad_id = lt_bm_pad(b->tok);
    if (lt_lm_data_docs_file(b->tok, path, b->o->window, &b->retain_d) !=
        LT_OK)
        return lt_bm_fail(path);
    b->mo = lt_muse_defaults();
    b->mo.prefix = b->o->prefix;
    b->mo.max_new = b->o->max_new;
    return 0;
}

static void lt_bm_close(lt_bm *b)
{
    lt_llama_free(b->full);
    lt_llama_free(b->retrain);
    lt_tokenizer_free(b->tok);
    lt_muse_data_free(&b->data);
    lt_lm_data_free(&b->retain_d);
}

/* ---- evaluation -------------------------------------------------------------- */

static lt_bm_row *lt_bm_row_new(lt_bm *b, lt_bm_part part, const char *method,
                                const char *setting)
{
    if (b->n_rows == LT_BM_MAX_ROWS)
        return NULL;
    lt_bm_row *r = &b->rows[b->n_rows++];
    *r = (lt_bm_row){.part = part, .lr = NAN, .seconds = NAN};
    snprintf(r->method, sizeof r->method, "%s", method);
    snprintf(r->setting, sizeof r->setting, "%s", setting);
    return r;
}

static void lt_bm_num(char *buf, size_t n, double v, const char *fmt)
{
    if (isnan(v))
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, fmt, v);
}

/* Every MUSE metric of m into row (PrivLeak against b->auc_retrain). */
static int lt_bm_eval(lt_bm *b, lt_llama *m, lt_bm_row *row)
{
    lt_muse_result r;
    fprintf(stderr, "evaluating %s %s ...\n", row->method, row->setting);
    if (lt_muse_eval(m, b->tok, &b->data, &b->mo, &r) != LT_OK)
        return lt_bm_fail("evaluation");
    row->verbmem = r.verbmem;
    row->kf = r.knowmem_forget;
    row->kr = r.knowmem_retain;
    memcpy(row->auc, r.auc, sizeof row->auc);
    row->leak = lt_muse_privleak(r.auc[LT_MIA_MINK], b->auc_retrain);
    char leak[32];
    lt_bm_num(leak, sizeof leak, row->leak, "%+.2f");
    printf("%-9s %-12s VerbMem %.4f KnowMem F %.4f R %.4f PrivLeak %s "
           "(eval %.1f s)\n", row->method, row->setting, row->verbmem,
           row->kf, row->kr, leak, r.seconds);
    return 0;
}

/* The retrain model first (its Min-K% AUC is PrivLeak's reference), then
 * the model before unlearning. */
static int lt_bm_references(lt_bm *b)
{
    lt_bm_row *r = lt_bm_row_new(b, LT_BM_REF, "retrain", "-");
    b->auc_retrain = NAN;
    if (lt_bm_eval(b, b->retrain, r))
        return 1;
    b->auc_retrain = r->auc[LT_MIA_MINK];
    r->leak = 0;
    r = lt_bm_row_new(b, LT_BM_REF, "target", "-");
    return lt_bm_eval(b, b->full, r);
}

/* ---- unlearning ------------------------------------------------------------- */


/* The default rates here (AdamW, 5 epochs, batch 8), below the library's
 * TOFU-tuned ones: on --quick, ga at 1e-3 and npo at 2e-3 already wipe
 * KnowMem retain (0.02 and 0.05 from 0.37) while ga at 1e-4 and npo at
 * 5e-4 keep it near the original's; other methods: the library's. */
static float lt_bm_default_lr(lt_llm_method k)
{
    switch (k) {
    case LT_LLM_GA: return 1e-4f;
    case LT_LLM_GRADDIFF: return 3e-4f;
    case LT_LLM_NPO: return 5e-4f;
    case LT_LLM_NPO_GD: return 1e-3f;
    case LT_LLM_SIMNPO: return 1e-3f;
    default: return lt_llm_default_lr(k);
    }
}

/* The unlearning settings of a method. 0, or 2 with the message printed. */
static int lt_bm_cfg(const lt_bm *b, lt_llm_method k, lt_llm_unlearn_cfg *cfg)
{
    *cfg = lt_llm_unlearn_defaults(k);
    float lr = lt_bm_default_lr(k);
    if (lt_cli_lr_spec(b->o->lr, lt_llm_method_name(k), &lr) < 0) {
        fprintf(stderr, "lethe bench muse: --lr: malformed '%s' (want "
                "method=value,...)\n", b->o->lr);
        return 2;
    }
    cfg->optim.lr = lr;
    cfg->epochs = b->o->epochs;
    cfg->batch = b->o->batch;
    cfg->seed = b->o->seed;
    cfg->pad_id = b->pad_id;
    return 0;
}

/* The forget texts [from, to), one example each, as in training. */
static lt_status lt_bm_forget_data(const lt_bm *b, int64_t from, int64_t to,
                                   lt_lm_data *out)
{
    size_t n = 1;
    for (int64_t i = from; i < to; i++)
        n += strlen(b->data.forget.text[i]) + 3;
    char *buf = malloc(n), *p = buf;
    if (!buf)
        return lt_set_error(LT_ERR_NOMEM, "forget texts");
    for (int64_t i = from; i < to; i++)
        p += sprintf(p, "%s\n%%\n", b->data.forget.text[i]);
    *p = 0;
    lt_status st = lt_lm_data_docs(b->tok, buf, (size_t)(p - buf),
                                   b->o->window, "forget texts", out);
    free(buf);
    return st;
}

/* Unlearn forget texts [from, to) from m in place; row gets the time, lr
 * and any failure. Returns 0 to go on (the row is evaluated), else an exit
 * status with the message printed. */
static int lt_bm_unlearn(lt_bm *b, lt_llama *m, lt_llm_method k,
                         int64_t from, int64_t to, lt_bm_row *row)
{
    lt_llm_unlearn_cfg cfg;
    int rc = lt_bm_cfg(b, k, &cfg);
    if (rc)
        return rc;
    lt_lm_data f = {0};
    if (lt_bm_forget_data(b, from, to, &f) != LT_OK)
        return lt_bm_fail("forget windows");
    lt_cli_lm_ui ui = {0};
    snprintf(ui.label, sizeof ui.label, "%s %s lr %g", row->method,
             row->setting, (double)cfg.optim.lr);
    cfg.progress = lt_cli_llm_progress;
    cfg.ud = &ui;
    lt_llm_report rep = {0};
    lt_status st = lt_llm_unlearn(m, &f, &b->retain_d, &cfg, &rep);
    if (ui.started)
        lt_progress_end(&ui.bar);
    lt_lm_data_free(&f);
    row->lr = cfg.optim.lr;
    row->seconds = rep.seconds;
    row->n_texts = to - from;
    if (st == LT_OK)
        return 0;
    row->failed = true;
    snprintf(row->why, sizeof row->why, "%s", rep.diverged ? rep.message :
             lt_last_error());
    fprintf(stderr, "lethe bench muse: %s: %s\n", ui.label, row->why);
    return rep.diverged ? 0 : 1;
}

static int lt_bm_method(const char *name, lt_llm_method *k)
{
    if (lt_llm_method_parse(name, k) == LT_OK)
        return 0;
    fprintf(stderr, "lethe bench muse: %s\n", lt_last_error());
    return 2;
}

/* One row: a clone of the target unlearns forget texts [0, to). */
static int lt_bm_run(lt_bm *b, lt_bm_part part, lt_llm_method k, int64_t to,
                     const char *setting)
{
    lt_bm_row *row = lt_bm_row_new(b, part, lt_llm_method_name(k), setting);
    lt_llama *m = row ? lt_llama_clone(b->full) : NULL;
    if (!m)
        return lt_bm_fail("too many rows or out of memory");
    int rc = lt_bm_unlearn(b, m, k, 0, to, row);
    if (!rc)
        rc = lt_bm_eval(b, m, row);
    lt_llama_free(m);
    return rc;
}

static int lt_bm_main_rows(lt_bm *b)
{
    char name[64];
    lt_llm_method k;
    for (int i = 0; lt_cli_list_item(b->o->methods, i, name, sizeof name); i++) {
        int rc = lt_bm_method(name, &k);
        if (!rc)
            rc = lt_bm_run(b, LT_BM_MAIN, k, b->data.forget.n, "all");
        if (rc)
            return rc;
    }
    return 0;
}

/* Scalability: each method on the first P% of the forget texts. */
static int lt_bm_scal_rows(lt_bm *b, lt_llm_method k)
{
    char item[32], setting[32];
    for (int i = 0; strcmp(b->o->scal, "none") &&
                    lt_cli_list_item(b->o->scal, i, item, sizeof item); i++) {
        long pct = strtol(item, NULL, 10); /* checked by lt_bm_check */
        int64_t to = (b->data.forget.n * pct + 50) / 100;
        snprintf(setting, sizeof setting, "forget %ld%%", pct);
        int rc = lt_bm_run(b, LT_BM_SCAL, k, to < 1 ? 1 : to, setting);
        if (rc)
            return rc;
    }
    return 0;
}

/* Sustainability: K requests (chunks of the forget texts) one after
 * another on one model, evaluated after each. */
static int lt_bm_seq_rows(lt_bm *b, lt_llm_method k)
{
    int K = b->o->seq;
    int64_t n = b->data.forget.n;
    lt_llama *m = K > 0 ? lt_llama_clone(b->full) : NULL;
    if (K > 0 && !m)
        return lt_bm_fail("out of memory");
    int rc = 0;
    for (int j = 0; j < K && !rc; j++) {
        char setting[32];
        snprintf(setting, sizeof setting, "request %d/%d", j + 1, K);
        lt_bm_row *row = lt_bm_row_new(b, LT_BM_SEQ, lt_llm_method_name(k),
                                       setting);
        if (!row) {
            rc = lt_bm_fail("too many rows");
            break;
        }
        rc = lt_bm_unlearn(b, m, k, n * j / K, n * (j + 1) / K, row);
        if (!rc)
            rc = lt_bm_eval(b, m, row);
    }
    lt_llama_free(m);
    return rc;
}

static int lt_bm_extra_rows(lt_bm *b)
{
    char name[64];
    lt_llm_method k;
    if (b->o->seq > 0 && b->data.forget.n < b->o->seq) {
        fprintf(stderr, "lethe bench muse: --seq %d: only %lld forget texts\n",
                b->o->seq, (long long)b->data.forget.n);
        return 2;
    }
    for (int i = 0; lt_cli_list_item(b->o->scal_methods, i, name, sizeof name); i++)
    {
        int rc = lt_bm_method(name, &k);
        if (!rc)
            rc = lt_bm_scal_rows(b, k);
        if (!rc)
            rc = lt_bm_seq_rows(b, k);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- tables ------------------------------------------------------------------ */

static const char *lt_bm_part_name(lt_bm_part p)
{
    static const char *names[] = {"reference", "main", "scalability",
                                  "sustainability"};
    return names[p];
}

/* One line of a table; md selects Markdown. */
static void lt_bm_line(FILE *f, const lt_bm_row *r, bool md)
{
    char c[10][32];
    lt_bm_num(c[0], 32, r->lr, "%g");
    lt_bm_num(c[1], 32, r->verbmem, "%.4f");
    lt_bm_num(c[2], 32, r->kf, "%.4f");
    lt_bm_num(c[3], 32, r->kr, "%.4f");
    lt_bm_num(c[4], 32, r->leak, "%+.2f");
    for (int a = 0; a < LT_MIA_N; a++)
        lt_bm_num(c[5 + a], 32, r->auc[a], "%.4f");
    lt_bm_num(c[9], 32, r->seconds, "%.1f");
    const char *mark = r->failed ? " (diverged)" : "";
    if (md)
        fprintf(f, "| %s%s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s "
                "| %s |\n", r->method, mark, r->setting, c[0], c[1], c[2],
                c[3], c[4], c[5], c[6], c[7], c[8], c[9]);
    else
        fprintf(f, "%-9s %-12s %7s %7s %7s %7s %8s %7s %7s %7s %7s %7s%s\n",
                r->method, r->setting, c[0], c[1], c[2], c[3], c[4], c[5],
                c[6], c[7], c[8], c[9], mark);
}

static void lt_bm_header(FILE *f, const char *title, bool md)
{
    if (md)
        fprintf(f, "%s\n\n| Method | Setting | lr | VerbMem forget | KnowMem "
                "forget | KnowMem retain | PrivLeak (%%) | AUC loss | AUC "
                "zlib | AUC Min-K%% | AUC Min-K%%++ | Time (s) |\n|---|---|"
                "---|---|---|---|---|---|---|---|---|---|\n", title);
    else
        fprintf(f, "%s\n%-9s %-12s %7s %7s %7s %7s %8s %7s %7s %7s %7s %7s\n",
                title, "method", "setting", "lr", "VerbMem", "KM-F", "KM-R",
                "PrivLeak", "loss", "zlib", "min_k", "min_k++", "time_s");
}

/* The rows of parts lo..hi under title (nothing if there are none). */
static void lt_bm_table(FILE *f, const lt_bm *b, lt_bm_part lo,
                        lt_bm_part hi, const char *title, bool md)
{
    int n = 0;
    for (int i = 0; i < b->n_rows; i++)
        n += b->rows[i].part >= lo && b->rows[i].part <= hi;
    if (!n)
        return;
    lt_bm_header(f, title, md);
    for (int i = 0; i < b->n_rows; i++)
        if (b->rows[i].part >= lo && b->rows[i].part <= hi)
            lt_bm_line(f, &b->rows[i], md);
    fprintf(f, "\n");
}

static void lt_bm_print(FILE *f, const void *ctx, const char *title, bool md)
{
    const lt_bm *b = ctx;
    char t[768];
    snprintf(t, sizeof t, "%s%s", md ? "### " : "", title);
    lt_bm_table(f, b, LT_BM_REF, LT_BM_MAIN, t, md);
    snprintf(t, sizeof t, "%sScalability: forget the first P%% of the "
             "forget texts", md ? "### " : "");
    lt_bm_table(f, b, LT_BM_SCAL, LT_BM_SCAL, t, md);
    snprintf(t, sizeof t, "%sSustainability: %d forget requests in a row "
             "on one model", md ? "### " : "", b->o->seq);
    lt_bm_table(f, b, LT_BM_SEQ, LT_BM_SEQ, t, md);
    for (int i = 0; md && i < b->n_rows; i++)
        if (b->rows[i].failed)
            fprintf(f, "%s %s: %s\n\n", b->rows[i].method,
                    b->rows[i].setting, b->rows[i].why);
}

static cJSON *lt_bm_json_row(const lt_bm_row *r)
{
    cJSON *o = cJSON_CreateObject(), *mia = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "part", lt_bm_part_name(r->part));
    cJSON_AddStringToObject(o, "method", r->method);
    cJSON_AddStringToObject(o, "setting", r->setting);
    lt_cli_json_num(o, "forget_texts", r->part == LT_BM_REF ? NAN :
                   (double)r->n_texts);
    lt_cli_json_num(o, "lr", r->lr);
    lt_cli_json_num(o, "verbmem_forget", r->verbmem);
    lt_cli_json_num(o, "knowmem_forget", r->kf);
    lt_cli_json_num(o, "knowmem_retain", r->kr);
    lt_cli_json_num(o, "privleak", r->leak);
    for (int a = 0; a < LT_MIA_N; a++)
        lt_cli_json_num(mia, lt_mia_name((lt_mia_kind)a), r->auc[a]);
    cJSON_AddItemToObject(o, "mia_auc", mia);
    lt_cli_json_num(o, "seconds", r->seconds);
    cJSON_AddBoolToObject(o, "diverged", r->failed);
    if (r->failed)
        cJSON_AddStringToObject(o, "message", r->why);
    return o;
}

static int lt_bm_json(const lt_bm *b, const char *title, int argc,
                      char **argv, const char *path)
{
    cJSON *root = cJSON_CreateObject();
    char cmd[2048];
    lt_cli_join_args(argc, argv, cmd, sizeof cmd);
    cJSON_AddStringToObject(root, "title", title);
    cJSON_AddStringToObject(root, "command", cmd);
    cJSON_AddStringToObject(root, "commit", LETHE_COMMIT);
    cJSON_AddStringToObject(root, "data_dir", b->dir);
    cJSON_AddStringToObject(root, "full_model", b->full_path);
    cJSON_AddStringToObject(root, "retrain_model", b->retrain_path);
    lt_cli_json_num(root, "forget_texts", (double)b->data.forget.n);
    lt_cli_json_num(root, "holdout_texts", (double)b->data.holdout.n);
    lt_cli_json_num(root, "auc_retrain", b->auc_retrain);
    lt_cli_json_num(root, "min_k_ratio", b->mo.k);
    lt_cli_json_num(root, "prefix", b->mo.prefix);
    lt_cli_json_num(root, "max_new", b->mo.max_new);
    cJSON *rows = cJSON_AddArrayToObject(root, "rows");
    for (int i = 0; i < b->n_rows; i++)
        cJSON_AddItemToArray(rows, lt_bm_json_row(&b->rows[i]));
    return lt_cli_write_json(path, root);
}

static int lt_bm_report(const lt_bm *b, int argc, char **argv)
{
    const lt_bm_opts *o = b->o;
    char title[512];
    snprintf(title, sizeof title, "MUSE (fortunes: forget %s, retain %s; "
             "%lld forget / %lld holdout texts), %s model, %d unlearning "
             "epochs, batch %d, seed %llu, %d threads", o->forget, o->retain,
             (long long)b->data.forget.n, (long long)b->data.holdout.n,
             o->config, o->epochs, o->batch, (unsigned long long)o->seed,
             lt_num_threads());
    printf("\n");
    lt_bm_print(stdout, b, title, false);
    printf("PrivLeak > 0: forget texts still look like members (retrain "
           "Min-K%% AUC %.4f)\n", b->auc_retrain);
    int rc = 0;
    if (o->markdown)
        rc |= lt_cli_write_markdown(o->markdown, lt_bm_print, b, title);
    if (o->json)
        rc |= lt_bm_json(b, title, argc, argv, o->json);
    return rc;
}

int lt_cli_bench_muse(int argc, char **argv)
{
    lt_bm_opts o;
    int rc = lt_bm_parse(argc, argv, &o);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (lt_bm_check(&o))
        return 2;
    if (o.threads)
        lt_set_num_threads(o.threads);
    lt_bm *b = calloc(1, sizeof *b);
    if (!b)
        return 1;
    b->o = &o;
    double t0 = lt_now();
    rc = lt_bm_setup(&o, b);
    if (!rc)
        rc = lt_bm_open(b);
    if (!rc)
        rc = lt_bm_references(b);
    if (!rc)
        rc = lt_bm_main_rows(b);
    if (!rc)
        rc = lt_bm_extra_rows(b);
    if (!rc)
        rc = lt_bm_report(b, argc, argv);
    if (!rc)
        printf("total %.0f s (training %.0f s)\n", lt_now() - t0,
               b->train_seconds);
    lt_bm_close(b);
    free(b);
    return rc;
}
