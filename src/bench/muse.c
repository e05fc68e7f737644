/*
 * muse.c - LLM unlearning on real text, MUSE-style (lt_bench_muse,
 * lethe/bench.h). Builds or reuses, under one cache folder keyed by the
 * options that shape them, the corpora of two fortune collections (forget
 * = literature, retain = science by default; lt_muse_split + lt_muse_write),
 * one tokenizer trained on forget + retain texts, and two models trained
 * from scratch on plain text with the same seed and schedule:
 *   full     on train.txt (forget + retain): the model to unlearn,
 *   retrain  on retain.txt only: the gold standard, whose Min-K% AUC is
 *            PrivLeak's reference.
 * Then it evaluates both and, from a clone of full, every method row
 * (unlearning the forget texts with the retain texts as retain set), the
 * scalability rows (forgetting the first P% of the forget texts) and the
 * sustainability rows (K forget requests one after another on one model),
 * each evaluated on the whole evaluation set: VerbMem, KnowMem forget /
 * retain, PrivLeak, the four MIA AUCs and the run time.
 */
#include "bench/bench_util.h"
#include "lethe/io.h"
#include "lethe/muse.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

lt_bench_muse_cfg lt_bench_muse_defaults(void)
{
    lt_muse_build_cfg d = lt_muse_build_defaults(); /* the corpus */
    return (lt_bench_muse_cfg){
        .cache = "out/muse-cache", .config = "micro", .forget = d.forget,
        .retain = d.retain, .fortune_dir = d.fortune_dir,
        .methods = "ga,npo,simnpo,graddiff,npo-gd", .scal = "25,50,100",
        .scal_methods = "npo,simnpo", .lr = "", .train_epochs = 40,
        .train_batch = 8, .vocab = 2048, .window = 256,
        .qa_max = (int)d.qa_max, .epochs = 5, .batch = 8, .seq = 4,
        .prefix = 16, .max_new = 128, .train_lr = 3e-3f,
        .holdout = (float)d.holdout_frac, .seed = d.seed};
}

void lt_bench_muse_quick(lt_bench_muse_cfg *c)
{
    c->config = "micro";
    c->max_texts = 80;
    c->qa_max = 40;
    c->train_epochs = 30;
    c->methods = "ga,npo";
    c->scal = "50,100";
    c->scal_methods = "npo";
    c->seq = 2;
    c->epochs = 3;
    c->max_new = 48;
}

float lt_bench_muse_default_lr(lt_llm_method k)
{
    /* On the quick setting, ga at 1e-3 and npo at 2e-3 already wipe
     * KnowMem retain (0.02 and 0.05 from 0.37) while ga at 1e-4 and npo at
     * 5e-4 keep it near the original's; other methods: the library's. */
    switch (k) {
    case LT_LLM_GA: return 1e-4f;
    case LT_LLM_GRADDIFF: return 3e-4f;
    case LT_LLM_NPO: return 5e-4f;
    case LT_LLM_NPO_GD: return 1e-3f;
    case LT_LLM_SIMNPO: return 1e-3f;
    default: return lt_llm_default_lr(k);
    }
}

enum { C_METHOD, C_SETTING, C_TEXTS, C_LR, C_VERB, C_KF, C_KR, C_LEAK,
       C_AUC, C_T = C_AUC + LT_MIA_N, C_N };
static const lt_table_col lt_muse_cols[C_N] = {
    {"method", "Method", NULL, 0, false},
    {"setting", "Setting", NULL, 0, false},
    {"forget_texts", "forget texts", "%g", 0, true},
    {"lr", "lr", "%g", 0, false},
    {"verbmem_forget", "VerbMem forget", "%.4f", 0, false},
    {"knowmem_forget", "KnowMem forget", "%.4f", 0, false},
    {"knowmem_retain", "KnowMem retain", "%.4f", 0, false},
    {"privleak", "PrivLeak (%, MUSE)", "%+.2f", 0, false},
    {"auc_loss", "AUC loss", "%.4f", 0, false},
    {"auc_zlib", "AUC zlib", "%.4f", 0, false},
    {"auc_min_k", "AUC Min-K%", "%.4f", 0, false},
    {"auc_min_k++", "AUC Min-K%++", "%.4f", 0, false},
    {"seconds", "Time (s)", "%.1f", 0, false},
};

/* ---- options ---------------------------------------------------------------- */

/* The methods of a comma list exist. */
static lt_status lt_bm_check_methods(const char *what, const char *list)
{
    char name[64];
    lt_llm_method k;
    for (int i = 0; lt_list_item(list, i, name, sizeof name); i++)
        if (lt_llm_method_parse(name, &k) != LT_OK)
            return lt_set_error(LT_ERR_ARG, "%s: %s", what, lt_last_error());
    return LT_OK;
}

static lt_status lt_bm_check_lr(const char *spec)
{
    char name[64];
    lt_llm_method k;
    float lr;
    for (int i = 0; lt_list_item(spec, i, name, sizeof name); i++) {
        char *eq = strchr(name, '=');
        if (eq)
            *eq = 0;
        if (!eq || lt_llm_method_parse(name, &k) != LT_OK ||
            lt_lr_spec(spec, name, &lr) != 1)
            return lt_set_error(LT_ERR_ARG, "lr: bad entry '%s' (want "
                                "method=value,...)", name);
    }
    return LT_OK;
}

lt_status lt_bench_muse_check(const lt_bench_muse_cfg *o)
{
    char item[32];
    for (int i = 0; strcmp(o->scal, "none") &&
                    lt_list_item(o->scal, i, item, sizeof item); i++) {
        char *end;
        long pct = strtol(item, &end, 10);
        if (end == item || *end || pct < 1 || pct > 100)
            return lt_set_error(LT_ERR_ARG, "scal: want percentages in "
                                "1..100 or none, got '%s'", item);
    }
    lt_status st = lt_bm_check_methods("methods", o->methods);
    if (st == LT_OK)
        st = lt_bm_check_methods("scal methods", o->scal_methods);
    return st == LT_OK ? lt_bm_check_lr(o->lr) : st;
}

/* ---- state ------------------------------------------------------------------ */

typedef struct {
    const lt_bench_muse_cfg *o;
    char dir[1024], full_path[1100], retrain_path[1100];
    double train_seconds;
    lt_llama *full, *retrain;
    lt_tokenizer *tok;
    lt_muse_data data;          /* evaluation set */
    lt_muse_opts mo;
    lt_lm_data retain_d;        /* retain texts for unlearning */
    int32_t pad_id;
    double auc_retrain;         /* Min-K% AUC of the retrain model */
    lt_table *main, *scal, *seq;
} lt_bm;

#define NOTE(b, ...) lt_bench_note((b)->o->progress, (b)->o->ud, __VA_ARGS__)

/* ---- corpora ------------------------------------------------------------------ */

static lt_status lt_bm_corpus(lt_bm *b)
{
    const lt_bench_muse_cfg *o = b->o;
    lt_muse_build_cfg c = {o->fortune_dir, o->forget, o->retain, o->max_texts,
                           o->holdout, o->seed, o->qa_max};
    lt_muse_build_info n;
    if (lt_muse_build(&c, b->dir, &n) != LT_OK)
        return lt_set_error(lt_last_status(), "building the corpora: %s",
                            lt_last_error());
    NOTE(b, "muse data: forget %lld texts (%s), holdout %lld, retain %lld "
         "(%s) in %s", (long long)n.forget, o->forget, (long long)n.holdout,
         (long long)n.retain, o->retain, b->dir);
    return LT_OK;
}

static lt_status lt_bm_data(lt_bm *b)
{
    const lt_bench_muse_cfg *o = b->o;
    char key[1024], done[1200];
    snprintf(key, sizeof key, "forget=%s retain=%s dir=%s texts=%d "
             "holdout=%g qa=%d seed=%llu v1", o->forget, o->retain,
             o->fortune_dir, o->max_texts, (double)o->holdout, o->qa_max,
             (unsigned long long)o->seed);
    snprintf(b->dir, sizeof b->dir, "%s/muse-%016llx", o->cache,
             (unsigned long long)lt_bench_fnv(key));
    snprintf(done, sizeof done, "%s/knowmem_retain.json", b->dir);
    if (lt_bench_exists(done))
        return LT_OK;
    lt_status st = lt_mkdirs(b->dir);
    return st == LT_OK ? lt_bm_corpus(b) : st;
}

/* ---- tokenizer and models ---------------------------------------------------- */

static lt_status lt_bm_tok_train(const lt_bench_muse_cfg *o, const char *dir,
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
static lt_status lt_bm_tokenizer(const lt_bm *b, const char *path,
                                 lt_tokenizer **t)
{
    if (lt_bench_exists(path))
        return lt_tokenizer_load(path, t);
    lt_status st = lt_bm_tok_train(b->o, b->dir, t);
    if (st == LT_OK)
        st = lt_tokenizer_save(*t, path);
    return st;
}

/* A model from scratch on the text file dir/text, saved to out with the
 * tokenizer beside it. */
static lt_status lt_bm_train(const lt_bm *b, const lt_tokenizer *t,
                             const char *text, const char *out)
{
    const lt_bench_muse_cfg *o = b->o;
    lt_bench_lm_recipe r = {o->config, o->train_epochs, o->train_batch,
                            o->train_lr, o->seed};
    char path[1200], label[64];
    snprintf(path, sizeof path, "%s/%s", b->dir, text);
    snprintf(label, sizeof label, "train on %s", text);
    lt_llama *m = NULL;
    lt_lm_data d = {0};
    lt_bench_fwd fwd = {o->progress, o->ud, label};
    lt_lm_report rep = {0};
    lt_status st = lt_bench_lm_new(&r, t, o->window, &m);
    if (st == LT_OK)
        st = lt_lm_data_docs_file(t, path, o->window, &d);
    if (st == LT_OK)
        st = lt_bench_lm_fit(&r, m, t, &d, &fwd, out, &rep);
    if (st == LT_OK)
        NOTE(b, "trained %s on %s: %lld texts (%lld tokens), loss %.4f -> "
             "%.4f, %.0f s", out, text, (long long)d.n, (long long)d.n_tokens,
             rep.first_loss, rep.last_loss, rep.seconds);
    lt_llama_free(m);
    lt_lm_data_free(&d);
    return st == LT_OK ? LT_OK : lt_set_error(st, "%s: %s", out,
                                              lt_last_error());
}

/* Data, tokenizer and both models, built or reused. */
static lt_status lt_bm_setup(lt_bm *b)
{
    const lt_bench_muse_cfg *o = b->o;
    lt_status st = lt_bm_data(b);
    if (st != LT_OK)
        return st;
    char key[512], tok[1200];
    snprintf(key, sizeof key, "config=%s epochs=%d batch=%d lr=%g vocab=%d "
             "window=%d seed=%llu docs v2%s", o->config, o->train_epochs,
             o->train_batch, (double)o->train_lr, o->vocab, o->window,
             (unsigned long long)o->seed, lt_bench_precision_key());
    unsigned long long h = (unsigned long long)lt_bench_fnv(key);
    snprintf(tok, sizeof tok, "%s/tokenizer-%d.json", b->dir, o->vocab);
    snprintf(b->full_path, sizeof b->full_path, "%s/full-%016llx.safetensors",
             b->dir, h);
    snprintf(b->retrain_path, sizeof b->retrain_path,
             "%s/retrain-%016llx.safetensors", b->dir, h);
    lt_tokenizer *t = NULL;
    st = lt_bm_tokenizer(b, tok, &t);
    double t0 = lt_clock_seconds();
    if (st == LT_OK && !lt_bench_exists(b->full_path))
        st = lt_bm_train(b, t, "train.txt", b->full_path);
    if (st == LT_OK && !lt_bench_exists(b->retrain_path))
        st = lt_bm_train(b, t, "retain.txt", b->retrain_path);
    b->train_seconds = lt_clock_seconds() - t0;
    lt_tokenizer_free(t);
    return st;
}

/* Both models, the evaluation set and the retain windows. */
static lt_status lt_bm_open(lt_bm *b)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/retain.txt", b->dir);
    lt_status st = lt_lm_open(b->full_path, NULL, &b->full, &b->tok);
    if (st == LT_OK)
        st = lt_llama_load(b->retrain_path, &b->retrain);
    if (st == LT_OK)
        st = lt_muse_data_load(b->dir, &b->data);
    if (st == LT_OK) {
        b->pad_id = lt_lm_pad_id(b->tok);
        st = lt_lm_data_docs_file(b->tok, path, b->o->window, &b->retain_d);
    }
    b->mo = lt_muse_defaults();
    b->mo.prefix = b->o->prefix;
    b->mo.max_new = b->o->max_new;
    return st;
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

static lt_table_row *lt_bm_row(lt_table *t, const char *method,
                               const char *setting, double *v)
{
    lt_table_row *r = lt_table_add_row(t);
    if (r) {
        snprintf(r->text[C_METHOD], LT_TABLE_TEXT, "%s", method);
        snprintf(r->text[C_SETTING], LT_TABLE_TEXT, "%s", setting);
    }
    for (int c = 0; c < LT_TABLE_MAX_COLS; c++)
        v[c] = NAN;
    return r;
}

/* Every MUSE metric of m into v (PrivLeak against b->auc_retrain). */
static lt_status lt_bm_eval(lt_bm *b, lt_llama *m, const lt_table_row *row,
                            double *v)
{
    lt_muse_result r;
    NOTE(b, "evaluating %s %s ...", row->text[C_METHOD], row->text[C_SETTING]);
    if (lt_muse_eval(m, b->tok, &b->data, &b->mo, &r) != LT_OK)
        return lt_set_error(LT_ERR_IO, "evaluation: %s", lt_last_error());
    v[C_VERB] = r.verbmem;
    v[C_KF] = r.knowmem_forget;
    v[C_KR] = r.knowmem_retain;
    for (int a = 0; a < LT_MIA_N; a++)
        v[C_AUC + a] = r.auc[a];
    v[C_LEAK] = lt_muse_privleak(r.auc[LT_MIA_MINK], b->auc_retrain);
    NOTE(b, "%-9s %-12s VerbMem %.4f KnowMem F %.4f R %.4f PrivLeak %+.2f "
         "(eval %.1f s)", row->text[C_METHOD], row->text[C_SETTING],
         v[C_VERB], v[C_KF], v[C_KR], v[C_LEAK], r.seconds);
    return LT_OK;
}

/* The retrain model first (its Min-K% AUC is PrivLeak's reference), then
 * the model before unlearning. */
static lt_status lt_bm_references(lt_bm *b)
{
    double v[LT_TABLE_MAX_COLS];
    lt_table_row *r = lt_bm_row(b->main, "retrain", "-", v);
    b->auc_retrain = NAN;
    lt_status st = r ? lt_bm_eval(b, b->retrain, r, v) : LT_ERR_NOMEM;
    if (st == LT_OK) {
        b->auc_retrain = v[C_AUC + LT_MIA_MINK];
        v[C_LEAK] = 0;
        st = lt_table_row_add_run(r, v);
    }
    if (st == LT_OK)
        r = lt_bm_row(b->main, "target", "-", v);
    if (st == LT_OK)
        st = r ? lt_bm_eval(b, b->full, r, v) : LT_ERR_NOMEM;
    return st == LT_OK ? lt_table_row_add_run(r, v) : st;
}

/* ---- unlearning ------------------------------------------------------------- */

/* The unlearning settings of a method (rates checked before). */
static lt_llm_unlearn_cfg lt_bm_cfg(const lt_bm *b, lt_llm_method k)
{
    lt_llm_unlearn_cfg cfg = lt_llm_unlearn_defaults(k);
    float lr = lt_bench_muse_default_lr(k);
    lt_lr_spec(b->o->lr, lt_llm_method_name(k), &lr);
    cfg.optim.lr = lr;
    cfg.epochs = b->o->epochs;
    cfg.batch = b->o->batch;
    cfg.seed = b->o->seed;
    cfg.pad_id = b->pad_id;
    return cfg;
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

/* Unlearn forget texts [from, to) from m in place; row and v get the
 * time, lr and any divergence. LT_OK to go on (then evaluate). */
static lt_status lt_bm_unlearn(lt_bm *b, lt_llama *m, lt_llm_method k,
                               int64_t from, int64_t to, lt_table_row *row,
                               double *v)
{
    lt_llm_unlearn_cfg cfg = lt_bm_cfg(b, k);
    lt_lm_data f = {0};
    if (lt_bm_forget_data(b, from, to, &f) != LT_OK)
        return lt_set_error(LT_ERR_NOMEM, "forget windows: %s",
                            lt_last_error());
    char label[160];
    snprintf(label, sizeof label, "%s %s lr %g", row->text[C_METHOD],
             row->text[C_SETTING], (double)cfg.optim.lr);
    lt_bench_fwd fwd = {b->o->progress, b->o->ud, label};
    cfg.progress = lt_bench_fwd_llm;
    cfg.ud = &fwd;
    lt_llm_report rep = {0};
    lt_status st = lt_llm_unlearn(m, &f, &b->retain_d, &cfg, &rep);
    lt_lm_data_free(&f);
    v[C_LR] = cfg.optim.lr;
    v[C_T] = rep.seconds;
    v[C_TEXTS] = (double)(to - from);
    if (st == LT_OK)
        return LT_OK;
    row->failed = row->diverged = rep.diverged;
    snprintf(row->message, sizeof row->message, "%s", rep.diverged ?
             rep.message : lt_last_error());
    NOTE(b, "%s: %s", label, row->message);
    return rep.diverged ? LT_OK : lt_set_error(st, "%s: %s", label,
                                               row->message);
}

/* One row of table t: model m unlearns forget texts [from, to) in place,
 * then is evaluated. */
static lt_status lt_bm_row_run(lt_bm *b, lt_table *t, lt_llama *m,
                               lt_llm_method k, int64_t from, int64_t to,
                               const char *setting)
{
    double v[LT_TABLE_MAX_COLS];
    lt_table_row *row = lt_bm_row(t, lt_llm_method_name(k), setting, v);
    lt_status st = row ? lt_bm_unlearn(b, m, k, from, to, row, v)
                       : LT_ERR_NOMEM;
    if (st == LT_OK)
        st = lt_bm_eval(b, m, row, v);
    if (st == LT_OK)
        st = lt_table_row_add_run(row, v);
    return st;
}

/* One row of table t: a clone of the target unlearns forget texts [0, to). */
static lt_status lt_bm_run(lt_bm *b, lt_table *t, lt_llm_method k, int64_t to,
                           const char *setting)
{
    lt_llama *m = lt_llama_clone(b->full);
    if (!m)
        return lt_set_error(LT_ERR_NOMEM, "out of memory for a row");
    lt_status st = lt_bm_row_run(b, t, m, k, 0, to, setting);
    lt_llama_free(m);
    return st;
}

static lt_status lt_bm_main_rows(lt_bm *b)
{
    char name[64];
    lt_llm_method k;
    lt_status st = LT_OK;
    for (int i = 0; st == LT_OK &&
                    lt_list_item(b->o->methods, i, name, sizeof name); i++) {
        lt_llm_method_parse(name, &k);
        st = lt_bm_run(b, b->main, k, b->data.forget.n, "all");
    }
    return st;
}

/* Scalability: method k on the first P% of the forget texts. */
static lt_status lt_bm_scal_rows(lt_bm *b, lt_llm_method k)
{
    char item[32], setting[32];
    lt_status st = LT_OK;
    for (int i = 0; st == LT_OK && strcmp(b->o->scal, "none") &&
                    lt_list_item(b->o->scal, i, item, sizeof item); i++) {
        long pct = strtol(item, NULL, 10); /* checked */
        int64_t to = (b->data.forget.n * pct + 50) / 100;
        snprintf(setting, sizeof setting, "forget %ld%%", pct);
        st = lt_bm_run(b, b->scal, k, to < 1 ? 1 : to, setting);
    }
    return st;
}

/* Sustainability: K requests (chunks of the forget texts) one after
 * another on one model, evaluated after each. */
static lt_status lt_bm_seq_rows(lt_bm *b, lt_llm_method k)
{
    int K = b->o->seq;
    int64_t n = b->data.forget.n;
    if (K <= 0)
        return LT_OK;
    lt_llama *m = lt_llama_clone(b->full);
    if (!m)
        return lt_set_error(LT_ERR_NOMEM, "out of memory");
    lt_status st = LT_OK;
    for (int j = 0; j < K && st == LT_OK; j++) {
        char setting[32];
        snprintf(setting, sizeof setting, "request %d/%d", j + 1, K);
        st = lt_bm_row_run(b, b->seq, m, k, n * j / K, n * (j + 1) / K,
                           setting);
    }
    lt_llama_free(m);
    return st;
}

static lt_status lt_bm_extra_rows(lt_bm *b)
{
    char name[64];
    lt_llm_method k;
    if (b->o->seq > 0 && b->data.forget.n < b->o->seq)
        return lt_set_error(LT_ERR_ARG, "seq %d: only %lld forget texts",
                            b->o->seq, (long long)b->data.forget.n);
    lt_status st = LT_OK;
    for (int i = 0; st == LT_OK &&
                    lt_list_item(b->o->scal_methods, i, name, sizeof name);
         i++) {
        lt_llm_method_parse(name, &k);
        st = lt_bm_scal_rows(b, k);
        if (st == LT_OK)
            st = lt_bm_seq_rows(b, k);
    }
    return st;
}

/* ---- report ------------------------------------------------------------------ */

static lt_status lt_bm_tables(lt_bm *b, lt_report *r)
{
    char title[128];
    b->main = lt_report_table(r, "references and unlearning (all forget "
                              "texts)", lt_muse_cols, C_N);
    b->scal = lt_report_table(r, "Scalability: forget the first P% of the "
                              "forget texts", lt_muse_cols, C_N);
    snprintf(title, sizeof title, "Sustainability: %d forget requests in a "
             "row on one model", b->o->seq);
    b->seq = lt_report_table(r, title, lt_muse_cols, C_N);
    return b->main && b->scal && b->seq ? LT_OK : LT_ERR_ARG;
}

static lt_status lt_bm_settings(const lt_bm *b, lt_report *r)
{
    const lt_bench_muse_cfg *o = b->o;
    lt_status st = lt_bench_common_settings(r, o->command);
    const char *text[][2] = {
        {"config", o->config}, {"forget", o->forget}, {"retain", o->retain},
        {"methods", o->methods}, {"scal", o->scal},
        {"scal_methods", o->scal_methods}, {"lr", o->lr},
        {"data_dir", b->dir}, {"full_model", b->full_path},
        {"retrain_model", b->retrain_path},
        {"privleak", "MUSE's orientation: Min-40% AUC with holdout as member, "
                     "(AUC_u - AUC_r) / AUC_r * 100 (< 0: still remembers); "
                     "the AUC columns and auc_retrain have forget as member"},
        {"rouge", "ROUGE-L F1 without stemming (MUSE's RougeEvalLogger)"}};
    for (size_t i = 0; st == LT_OK && i < sizeof text / sizeof *text; i++)
        st = lt_report_set(r, text[i][0], text[i][1]);
    const char *keys[] = {"forget_texts", "holdout_texts", "auc_retrain",
                          "min_k_ratio", "prefix", "max_new", "epochs",
                          "batch", "seq", "seed", "train_seconds"};
    double vals[] = {(double)b->data.forget.n, (double)b->data.holdout.n,
                     b->auc_retrain, b->mo.k, b->mo.prefix, b->mo.max_new,
                     o->epochs, o->batch, o->seq, (double)o->seed,
                     b->train_seconds};
    for (size_t i = 0; st == LT_OK && i < sizeof vals / sizeof *vals; i++)
        st = lt_report_set_num(r, keys[i], vals[i]);
    return st;
}

static lt_status lt_bench_muse_body(const lt_bench_muse_cfg *c, lt_report *out)
{
    double t0 = lt_clock_seconds();
    *out = (lt_report){0};
    lt_status st = lt_bench_muse_check(c);
    if (st != LT_OK)
        return st;
    lt_bm *b = calloc(1, sizeof *b);
    if (!b)
        return lt_set_error(LT_ERR_NOMEM, "bench muse");
    b->o = c;
    st = lt_bm_tables(b, out);
    if (st == LT_OK)
        st = lt_bm_setup(b);
    if (st == LT_OK)
        st = lt_bm_open(b);
    if (st == LT_OK)
        st = lt_bm_references(b);
    if (st == LT_OK)
        st = lt_bm_main_rows(b);
    if (st == LT_OK)
        st = lt_bm_extra_rows(b);
    snprintf(out->title, sizeof out->title, "MUSE (fortunes: forget %s, "
             "retain %s; %lld forget / %lld holdout texts), %s model, %d "
             "unlearning epochs, batch %d, seed %llu, %d threads", c->forget,
             c->retain, (long long)b->data.forget.n,
             (long long)b->data.holdout.n, c->config, c->epochs, c->batch,
             (unsigned long long)c->seed, lt_num_threads());
    lt_status sst = lt_bm_settings(b, out);
    lt_bm_close(b);
    free(b);
    out->seconds = lt_clock_seconds() - t0;
    return st == LT_OK ? sst : st;
}

/* The run in the precision its config asks for (core.h). */
lt_status lt_bench_muse(const lt_bench_muse_cfg *c, lt_report *out)
{
    lt_precision old =
        lt_precision_enter(c ? c->precision : LT_PRECISION_DEFAULT);
    lt_status r = lt_bench_muse_body(c, out);
    lt_set_default_precision(old);
    return r;
}
