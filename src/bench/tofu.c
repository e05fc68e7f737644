/*
 * tofu.c - the LLM unlearning protocol on synthetic TOFU data
 * (lt_bench_tofu, lethe/bench.h). Builds or reuses (tofu_models.c) the
 * data, the model fine-tuned on `full` and the retain model, evaluates
 * both, then runs every method x mask x optimizer row (and the baseline
 * masks) from a clone of the fine-tuned model and records forget quality
 * (KS p-value of the forget-set truth ratios against the retain model's),
 * model utility (harmonic mean of 9 numbers), the forget set's ROUGE-L,
 * probability and truth ratio, the retain set's ROUGE-L and the run time.
 * Under mpirun the rows are spread over the ranks and every finished row
 * is kept in CACHE/runs (--resume skips it): bench_dist.h, docs/mpi.md.
 */
#include "bench/bench_dist.h"
#include "bench/bench_util.h"
#include "bench/tofu_models.h"
#include "lethe/dist.h"
#include "lethe/tofu_eval.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

lt_bench_tofu_cfg lt_bench_tofu_defaults(void)
{
    return (lt_bench_tofu_cfg){
        .cache = "out/tofu-cache", .config = "micro", .authors = 40,
        .forget_pct = 10, .world_facts = 100, .real_authors = 100,
        .train_epochs = 50, .train_batch = 8, .vocab = 2048,
        .train_lr = 3e-3f, .seed = 1, .methods = "all",
        .masks = "none,wagle", .optims = "adamw,sophia,sophia-soul",
        .baseline = "npo-gd,simnpo", .epochs = 5, .batch = 8,
        .max_items = 300, .sophia_scale = 1.0f};
}

void lt_bench_tofu_quick(lt_bench_tofu_cfg *c)
{
    c->config = "micro";
    c->authors = 10;
    c->world_facts = c->real_authors = 20;
    c->train_epochs = 40;
    c->methods = "ga,npo,simnpo";
    c->masks = "none,wagle";
    c->optims = "adamw";
    c->baseline = "none";
    c->epochs = 5;
}

static const char *lt_tofu_all =
    "ga,graddiff,npo,npo-gd,simnpo,refusal,idk,idkpo,rmu";

enum { C_METHOD, C_MASK, C_OPTIM, C_LR, C_FQ, C_MU, C_FR, C_FP, C_FT, C_RR,
       C_T, C_N };
static const lt_table_col lt_tofu_cols[C_N] = {
    {"method", "Method", NULL, 0, false},
    {"mask", "Mask", NULL, 0, false},
    {"optim", "Optimizer", NULL, 0, false},
    {"lr", "lr", "%g", 0, false},
    {"forget_quality", "Forget quality", "%.4f", 1e-3, false},
    {"model_utility", "Model utility", "%.4f", 0, false},
    {"forget_rouge_l", "Forget ROUGE-L", "%.4f", 0, false},
    {"forget_prob", "Forget prob.", "%.4f", 0, false},
    {"forget_truth_ratio", "Forget truth ratio", "%.4f", 0, false},
    {"retain_rouge_l", "Retain ROUGE-L", "%.4f", 0, false},
    {"seconds", "Time (s)", "%.1f", 0, false},
};

/* ---- options --------------------------------------------------------------- */

static lt_status lt_tofu_method(const char *name, lt_llm_method *k)
{
    return lt_llm_method_parse(name, k);
}

/* A "m=v..." list whose names are methods; values checked by check_lr. */
static lt_status lt_tofu_check_rates(const char *what, const char *list,
                                     bool grid)
{
    char item[256];
    lt_llm_method k;
    float lr;
    for (int i = 0; list && lt_list_item(list, i, item, sizeof item); i++) {
        char *eq = strchr(item, '=');
        if (!eq || (*eq = 0, lt_tofu_method(item, &k) != LT_OK) ||
            (!grid && lt_lr_spec(list, item, &lr) < 0))
            return lt_set_error(LT_ERR_ARG, "%s: malformed '%s' (want "
                                "method=value%s,...)", what, list,
                                grid ? ":value" : "");
        for (char *p = eq + 1; grid && *p;) {
            char *end;
            float v = strtof(p, &end);
            if (end == p || !(v > 0) || (*end && *end != ':'))
                return lt_set_error(LT_ERR_ARG, "%s: bad rate in '%s'",
                                    what, eq + 1);
            p = *end ? end + 1 : end;
        }
    }
    return LT_OK;
}

lt_status lt_bench_tofu_check(const lt_bench_tofu_cfg *o)
{
    if (o->forget_pct != 1 && o->forget_pct != 5 && o->forget_pct != 10)
        return lt_set_error(LT_ERR_ARG, "forget must be 1, 5 or 10 (%%), "
                            "not %d", o->forget_pct);
    const char *methods = strcmp(o->methods, "all") ? o->methods : "ga";
    char item[256];
    lt_llm_method k;
    lt_llm_mask_spec ms;
    lt_optim_config oc;
    for (int i = 0; lt_list_item(methods, i, item, sizeof item); i++)
        if (lt_tofu_method(item, &k) != LT_OK)
            return LT_ERR_ARG;
    for (int i = 0; lt_list_item(o->masks, i, item, sizeof item); i++)
        if (lt_llm_mask_parse(item, &ms) != LT_OK)
            return LT_ERR_ARG;
    for (int i = 0; lt_list_item(o->optims, i, item, sizeof item); i++)
        if (lt_optim_parse(item, &oc) != LT_OK)
            return LT_ERR_ARG;
    for (int i = 0; strcmp(o->baseline, "none") &&
                    lt_list_item(o->baseline, i, item, sizeof item); i++)
        if (lt_tofu_method(item, &k) != LT_OK)
            return LT_ERR_ARG;
    lt_status st = lt_tofu_check_rates("lr grid", o->lr_grid, true);
    return st == LT_OK ? lt_tofu_check_rates("lr", o->lr, false) : st;
}

/* ---- state ----------------------------------------------------------------- */

typedef struct {
    const lt_bench_tofu_cfg *o;
    lt_tofu_setup setup;
    lt_llama *full, *retain;
    lt_tokenizer *tok;
    lt_tofu_set forget_qa, retain_qa;           /* unlearning data */
    lt_tofu_set ev_forget, ev_retain, ev_ra, ev_wf; /* evaluation files */
    lt_lm_data forget_d, retain_d, refusal_d;   /* tokenized for unlearning */
    lt_lm_data *idk_d;                          /* idk(po): one per epoch */
    int n_idk;
    int32_t pad_id;
    lt_tofu_split_eval ref_forget;              /* retain model, forget split */
    lt_table *table;
    int64_t unit;      /* rows claimed so far (their owners: bench_dist.h) */
    char row[200];     /* the row under way (for a failure's message) */
} lt_tb;

#define NOTE(b, ...) lt_bench_note((b)->o->progress, (b)->o->ud, __VA_ARGS__)

static lt_status lt_tb_load(const lt_tb *b, const char *name, lt_tofu_set *out)
{
    char path[1200];
    lt_tofu_path(&b->setup, name, path, sizeof path);
    return lt_tofu_load(path, out);
}

static lt_status lt_tb_open(lt_tb *b)
{
    const lt_bench_tofu_cfg *s = b->o;
    char forget[64], forget_p[64], retain[64];
    snprintf(forget, sizeof forget, "forget%02d.json", s->forget_pct);
    snprintf(forget_p, sizeof forget_p, "forget%02d_perturbed.json",
             s->forget_pct);
    snprintf(retain, sizeof retain, "retain%02d.json", 100 - s->forget_pct);
    lt_status st = lt_lm_open(b->setup.full_model, NULL, &b->full, &b->tok);
    if (st == LT_OK)
        st = lt_llama_load(b->setup.retain_model, &b->retain);
    const char *names[6] = {forget, retain, forget_p, "retain_perturbed.json",
                            "real_authors.json", "world_facts.json"};
    lt_tofu_set *sets[6] = {&b->forget_qa, &b->retain_qa, &b->ev_forget,
                            &b->ev_retain, &b->ev_ra, &b->ev_wf};
    for (int i = 0; st == LT_OK && i < 6; i++)
        st = lt_tb_load(b, names[i], sets[i]);
    return st;
}

static void lt_tb_close(lt_tb *b)
{
    lt_llama_free(b->full);
    lt_llama_free(b->retain);
    lt_tokenizer_free(b->tok);
    lt_tofu_set *sets[6] = {&b->forget_qa, &b->retain_qa, &b->ev_forget,
                            &b->ev_retain, &b->ev_ra, &b->ev_wf};
    for (int i = 0; i < 6; i++)
        lt_tofu_free(sets[i]);
    lt_tofu_split_eval_free(&b->ref_forget);
    lt_lm_data_free(&b->forget_d);
    lt_lm_data_free(&b->retain_d);
    lt_lm_data_free(&b->refusal_d);
    for (int e = 0; b->idk_d && e < b->n_idk; e++)
        lt_lm_data_free(&b->idk_d[e]);
    free(b->idk_d);
    b->idk_d = NULL;
}

/* The forget, retain and refusal examples the methods train on. */
static lt_status lt_tb_tokenize(lt_tb *b)
{
    int64_t ctx = b->full->cfg.max_position_embeddings;
    b->pad_id = lt_lm_pad_id(b->tok);
    lt_status st = lt_lm_data_qa(b->tok, &b->forget_qa, ctx, &b->forget_d);
    if (st == LT_OK)
        st = lt_lm_data_qa(b->tok, &b->retain_qa, ctx, &b->retain_d);
    if (st == LT_OK)
        st = lt_llm_refusal_data(b->tok, &b->forget_qa, b->o->seed,
                                 &b->refusal_d);
    if (st == LT_OK && !(b->idk_d = calloc((size_t)b->o->epochs,
                                           sizeof *b->idk_d)))
        st = lt_set_error(LT_ERR_NOMEM, "out of memory");
    for (int e = 0; st == LT_OK && e < b->o->epochs; e++, b->n_idk++)
        st = lt_llm_idk_data(b->tok, &b->forget_qa, b->o->seed, e + 1,
                             &b->idk_d[e]);
    return st == LT_OK ? LT_OK : lt_set_error(st, "tokenizing the forget/"
                                              "retain sets: %s",
                                              lt_last_error());
}

/* ---- evaluation ------------------------------------------------------------ */

/* The four splits of m into v (forget quality against the retain model's
 * forget truth ratios in b->ref_forget); keep_forget (may be NULL)
 * receives the forget split instead of freeing it. */
static lt_status lt_tb_eval(lt_tb *b, lt_llama *m, double *v,
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
                                    ref->truth_ratio, ref->n, &v[C_FQ], NULL);
    if (st == LT_OK) {
        v[C_MU] = lt_tofu_model_utility(&e[1], &e[2], &e[3]);
        v[C_FR] = e[0].rouge_mean;
        v[C_FP] = e[0].prob_mean;
        v[C_FT] = e[0].truth_ratio_stat;
        v[C_RR] = e[1].rouge_mean;
    }
    for (int i = 0; i < 4; i++) {
        if (i == 0 && keep_forget && st == LT_OK)
            *keep_forget = e[0];
        else
            lt_tofu_split_eval_free(&e[i]);
    }
    return st;
}

static lt_table_row *lt_tb_row(lt_tb *b, const char *method, const char *mask,
                               const char *optim)
{
    lt_table_row *r = lt_table_add_row(b->table);
    if (r) {
        snprintf(r->text[C_METHOD], LT_TABLE_TEXT, "%s", method);
        snprintf(r->text[C_MASK], LT_TABLE_TEXT, "%s", mask);
        snprintf(r->text[C_OPTIM], LT_TABLE_TEXT, "%s", optim);
    }
    return r;
}

static void lt_tb_nan(double *v)
{
    for (int c = 0; c < LT_TABLE_MAX_COLS; c++)
        v[c] = NAN;
}

/* The key of a row's run file: every setting that changes its result,
 * and the commit. */
static uint64_t lt_tb_key(const lt_tb *b, const char *method,
                          const char *mask, const char *optim, double lr)
{
    const lt_bench_tofu_cfg *o = b->o;
    char key[4096]; /* the model paths name the data's folder */
    snprintf(key, sizeof key, "tofu-row|v1|%s|%s|%s|%d|%d|%d|%llu|%d|%a|"
             "%s|%s|%s|%a", lt_bench_commit(), b->setup.full_model,
             b->setup.retain_model, o->forget_pct,
             o->epochs, o->batch, (unsigned long long)o->seed, o->max_items,
             (double)o->sophia_scale, method, mask, optim, lr);
    return lt_bench_fnv(key);
}

/* Claim the next row (its placeholder is in the table): true when it is
 * this rank's and not already kept by an earlier run (--resume: then
 * loaded into row). */
static bool lt_tb_claim(lt_tb *b, lt_table_row *row, const char *label,
                        uint64_t key)
{
    snprintf(b->row, sizeof b->row, "%s", label);
    if (!lt_bench_mine(b->unit++))
        return false;
    if (b->o->resume && lt_bench_row_load(b->o->cache, key, row, C_N)) {
        NOTE(b, "%-28s done before (--resume)", label);
        return false;
    }
    if (lt_dist_size() > 1) /* names the row if this rank is killed */
        NOTE(b, "%-28s running", label);
    return true;
}

/* Keep a finished row (not one that failed without numbers). */
static lt_status lt_tb_keep(const lt_tb *b, const lt_table_row *row,
                            uint64_t key)
{
    if (row->failed && !row->diverged)
        return LT_OK;
    lt_status st = lt_bench_row_save(b->o->cache, key, row, C_N);
    return st == LT_OK ? LT_OK : lt_set_error(st, "keeping the row: %s",
                                              lt_last_error());
}

/* The retain model (forget quality 1 by definition): rank 0 evaluates it
 * and sends its forget truth ratios, every row's reference, to the
 * others. */
static lt_status lt_tb_reference(lt_tb *b)
{
    double t0 = lt_clock_seconds(), v[LT_TABLE_MAX_COLS];
    lt_tb_nan(v);
    lt_table_row *r = lt_tb_row(b, "retain model", "-", "-");
    bool lead = lt_dist_rank() == 0;
    lt_status st = !r ? LT_ERR_NOMEM : lead ? lt_tb_eval(b, b->retain, v,
                                                         &b->ref_forget)
                                             : LT_OK;
    if (st == LT_OK && lead)
        st = lt_table_row_add_run(r, v);
    if (st != LT_OK)
        st = lt_set_error(st, "evaluation of the retain model: %s",
                          lt_last_error());
    else if (lead)
        NOTE(b, "retain model: FQ %.3g MU %.4f forget ROUGE-L %.4f (%.1f s)",
             v[C_FQ], v[C_MU], v[C_FR], lt_clock_seconds() - t0);
    st = lt_bench_agree(st, "retain model");
    int64_t n = b->ref_forget.n;
    if (st == LT_OK)
        st = lt_dist_bcast(&n, sizeof n, 0);
    if (st == LT_OK && !lead &&
        !(b->ref_forget.truth_ratio = malloc((size_t)n * sizeof(double))))
        st = lt_set_error(LT_ERR_NOMEM, "the reference truth ratios");
    b->ref_forget.n = st == LT_OK ? n : b->ref_forget.n;
    if (st == LT_OK && n > 0)
        st = lt_dist_bcast(b->ref_forget.truth_ratio,
                           (size_t)n * sizeof(double), 0);
    return st;
}

/* The model before unlearning (a row like a method's). */
static lt_status lt_tb_original(lt_tb *b)
{
    double t0 = lt_clock_seconds(), v[LT_TABLE_MAX_COLS];
    lt_tb_nan(v);
    lt_table_row *r = lt_tb_row(b, "original", "-", "-");
    if (!r)
        return lt_set_error(LT_ERR_NOMEM, "out of memory for a row");
    uint64_t key = lt_tb_key(b, "original", "-", "-", 0);
    if (!lt_tb_claim(b, r, "original", key))
        return LT_OK;
    lt_status st = lt_tb_eval(b, b->full, v, NULL);
    if (st == LT_OK)
        st = lt_table_row_add_run(r, v);
    if (st != LT_OK)
        return lt_set_error(st, "evaluation of the original: %s",
                            lt_last_error());
    NOTE(b, "original: FQ %.3g MU %.4f forget ROUGE-L %.4f (%.1f s)",
         v[C_FQ], v[C_MU], v[C_FR], lt_clock_seconds() - t0);
    return lt_tb_keep(b, r, key);
}

/* ---- unlearning rows -------------------------------------------------------- */

/* The unlearning settings of one row (options checked before). */
static lt_llm_unlearn_cfg lt_tb_cfg(const lt_tb *b, lt_llm_method k,
                                    const char *mask, const char *optim,
                                    float lr_set)
{
    lt_llm_unlearn_cfg cfg = lt_llm_unlearn_defaults(k);
    float lr = lr_set > 0 ? lr_set : cfg.optim.lr;
    if (lr_set <= 0)
        lt_lr_spec(b->o->lr, lt_llm_method_name(k), &lr);
    lt_optim_parse(optim, &cfg.optim);
    lt_llm_mask_parse(mask, &cfg.mask);
    cfg.optim.lr = cfg.optim.kind == LT_OPT_SOPHIA && lr_set <= 0
                   ? lr * b->o->sophia_scale : lr;
    /* TOFU's forget.py: 0.01; SOUL's TOFU configs (sophia-soul): 0.1 */
    cfg.optim.weight_decay = cfg.optim.kind == LT_OPT_SOPHIA &&
        cfg.optim.hessian_mode == LT_SOPHIA_SOUL ? 0.1f : 0.01f;
    lt_llm_loss_tofu_split(&cfg.loss, b->o->forget_pct); /* SimNPO's */
    cfg.loss.npo_mean = b->o->npo_mean;
    cfg.epochs = b->o->epochs;
    cfg.batch = b->o->batch;
    cfg.seed = b->o->seed;
    cfg.pad_id = b->pad_id;
    if (k == LT_LLM_REFUSAL || k == LT_LLM_IDK || k == LT_LLM_IDKPO)
        cfg.mask_forget = &b->forget_d;
    if (k == LT_LLM_IDK || k == LT_LLM_IDKPO) /* IDK redrawn per epoch */
        cfg.forget_epochs = b->idk_d;
    if (k == LT_LLM_IDKPO)
        cfg.pair = &b->forget_d;
    return cfg;
}

/* One method x mask x optimizer: unlearn a clone of the original, then
 * evaluate (also after a divergence: the last good weights). */
static lt_status lt_tb_run(lt_tb *b, lt_llm_method k, const char *mask,
                           const char *optim, float lr)
{
    lt_llm_unlearn_cfg cfg = lt_tb_cfg(b, k, mask, optim, lr);
    char name[32];
    snprintf(name, sizeof name, "%s%s", lt_llm_method_name(k),
             cfg.loss.npo_mean && (k == LT_LLM_NPO || k == LT_LLM_NPO_GD) ?
             "[mean]" : "");
    lt_table_row *row = lt_tb_row(b, name, mask, optim);
    if (!row)
        return lt_set_error(LT_ERR_NOMEM, "out of memory for a row");
    char label[160];
    snprintf(label, sizeof label, "%s %s %s lr %g", row->text[C_METHOD], mask,
             optim, (double)cfg.optim.lr);
    uint64_t key = lt_tb_key(b, name, mask, optim, cfg.optim.lr);
    if (!lt_tb_claim(b, row, label, key))
        return LT_OK;
    lt_llama *m = lt_llama_clone(b->full);
    if (!m)
        return lt_set_error(LT_ERR_NOMEM, "out of memory for a row");
    lt_bench_fwd fwd = {b->o->progress, b->o->ud, label};
    cfg.progress = lt_bench_fwd_llm;
    cfg.ud = &fwd;
    lt_llm_report rep = {0};
    const lt_lm_data *f = k == LT_LLM_REFUSAL ? &b->refusal_d :
        k == LT_LLM_IDK || k == LT_LLM_IDKPO ? &b->idk_d[0] : &b->forget_d;
    lt_status st = lt_llm_unlearn(m, f, &b->retain_d, &cfg, &rep);
    double v[LT_TABLE_MAX_COLS];
    lt_tb_nan(v);
    v[C_LR] = cfg.optim.lr;
    v[C_T] = rep.seconds;
    if (st != LT_OK) {
        row->failed = true;
        row->diverged = rep.diverged;
        snprintf(row->message, sizeof row->message, "%s", rep.diverged ?
                 rep.message : lt_last_error());
        NOTE(b, "%s: %s", label, row->message);
    }
    double t0 = lt_clock_seconds();
    lt_status est = st == LT_OK || rep.diverged ? lt_tb_eval(b, m, v, NULL)
                                                : LT_OK;
    lt_llama_free(m);
    if (est != LT_OK) {
        row->failed = true;
        snprintf(row->message, sizeof row->message, "evaluation: %s",
                 lt_last_error());
    } else if (st == LT_OK || rep.diverged) {
        NOTE(b, "%-28s FQ %.3g MU %.4f forget ROUGE-L %.4f  %.1f s (eval "
             "%.1f s)%s", label, v[C_FQ], v[C_MU], v[C_FR], v[C_T],
             lt_clock_seconds() - t0, row->failed ? " (diverged: last good "
             "weights)" : "");
    }
    lt_status st2 = lt_table_row_add_run(row, v);
    return st2 == LT_OK ? lt_tb_keep(b, row, key) : st2;
}

/* Every method x mask x optimizer. */
static lt_status lt_tb_grid(lt_tb *b)
{
    const char *methods = strcmp(b->o->methods, "all") ? b->o->methods
                                                       : lt_tofu_all;
    char name[64], mask[64], optim[64];
    lt_llm_method k;
    lt_status st = LT_OK;
    for (int i = 0; st == LT_OK &&
                    lt_list_item(methods, i, name, sizeof name); i++) {
        lt_tofu_method(name, &k);
        for (int j = 0; st == LT_OK &&
                        lt_list_item(b->o->masks, j, mask, sizeof mask); j++)
            for (int l = 0; st == LT_OK &&
                            lt_list_item(b->o->optims, l, optim, sizeof optim);
                 l++)
                st = lt_tb_run(b, k, mask, optim, 0);
    }
    return st;
}

/* The baseline masks at WAGLE's ratio (the first wagle:R of masks, else
 * WAGLE's per-method default, lt_llm_mask_default_ratio) under the first
 * optimizer, for the baseline methods. */
static lt_status lt_tb_baselines(lt_tb *b)
{
    const char *kinds[4] = {"gradient", "magnitude", "snip", "random"};
    char name[64], mask[64], optim[64] = "adamw";
    const char *w = strstr(b->o->masks, "wagle");
    double ratio = w && w[5] == ':' ? atof(w + 6) : 0; /* 0: WAGLE's */
    lt_list_item(b->o->optims, 0, optim, sizeof optim);
    if (!strcmp(b->o->baseline, "none"))
        return LT_OK;
    lt_llm_method k;
    lt_status st = LT_OK;
    for (int i = 0; st == LT_OK &&
                    lt_list_item(b->o->baseline, i, name, sizeof name); i++) {
        lt_tofu_method(name, &k);
        for (int j = 0; st == LT_OK && j < 4; j++) {
            if (ratio > 0)
                snprintf(mask, sizeof mask, "%s:%g", kinds[j], ratio);
            else
                snprintf(mask, sizeof mask, "%s", kinds[j]);
            st = lt_tb_run(b, k, mask, optim, 0);
        }
    }
    return st;
}

/* lr grid: each listed method at each rate, no mask, first optimizer. */
static lt_status lt_tb_lr_grid(lt_tb *b)
{
    char item[256], optim[64] = "adamw";
    lt_list_item(b->o->optims, 0, optim, sizeof optim);
    lt_status st = LT_OK;
    for (int i = 0; st == LT_OK &&
                    lt_list_item(b->o->lr_grid, i, item, sizeof item); i++) {
        char *eq = strchr(item, '=');
        lt_llm_method k;
        *eq = 0; /* checked by lt_bench_tofu_check */
        lt_tofu_method(item, &k);
        for (char *p = eq + 1; st == LT_OK && *p;) {
            char *end;
            float lr = strtof(p, &end);
            st = lt_tb_run(b, k, "none", optim, lr);
            p = *end ? end + 1 : end;
        }
    }
    return st;
}

static lt_status lt_tb_settings(const lt_tb *b, lt_report *r)
{
    const lt_bench_tofu_cfg *o = b->o;
    lt_status st = lt_bench_common_settings(r, o->command);
    const char *text[][2] = {
        {"config", o->config}, {"methods", o->methods}, {"masks", o->masks},
        {"optims", o->optims}, {"baseline_masks", o->baseline},
        {"lr", o->lr ? o->lr : ""}, {"lr_grid", o->lr_grid ? o->lr_grid : ""},
        {"full_model", b->setup.full_model},
        {"retain_model", b->setup.retain_model},
        {"variants", o->npo_mean ?
         "npo[mean]: NPO on the batch's mean-token NLL (WAGLE, SOUL); "
         "simnpo: forget05 beta 2.5 w 0.1375, forget10 beta 4.5 w 0.125; "
         "sophia-soul: SOUL's SophiaG (wd 0.1); generation up to 200 "
         "tokens in all" :
         "npo: NPO on per-sequence summed NLL (NPO's repo); simnpo: "
         "forget05 beta 2.5 w 0.1375, forget10 beta 4.5 w 0.125; "
         "sophia-soul: SOUL's SophiaG (wd 0.1); generation up to 200 "
         "tokens in all"}};
    for (size_t i = 0; st == LT_OK && i < sizeof text / sizeof *text; i++)
        st = lt_report_set(r, text[i][0], text[i][1]);
    const char *keys[] = {"authors", "forget_pct", "train_epochs", "epochs",
                          "batch", "max_items", "sophia_scale", "seed"};
    double vals[] = {o->authors, o->forget_pct, o->train_epochs, o->epochs,
                     o->batch, o->max_items, o->sophia_scale,
                     (double)o->seed};
    for (size_t i = 0; st == LT_OK && i < sizeof vals / sizeof *vals; i++)
        st = lt_report_set_num(r, keys[i], vals[i]);
    return st;
}

/* This rank's rows (every row's placeholder in the table). */
static lt_status lt_tb_own_rows(lt_tb *b)
{
    lt_status st = lt_tb_original(b);
    if (st == LT_OK && b->o->lr_grid)
        return lt_tb_lr_grid(b);
    if (st == LT_OK)
        st = lt_tb_grid(b);
    if (st == LT_OK)
        st = lt_tb_baselines(b);
    return st;
}

/* Every rank's rows to every rank: row i > 0 is run i - 1's (the retain
 * model's, row 0, is rank 0's). */
static lt_status lt_tb_share(lt_tb *b)
{
    int n = b->table->n_rows, size = lt_dist_size();
    int *owner = malloc((size_t)(n > 0 ? n : 1) * sizeof *owner);
    if (!owner)
        return lt_set_error(LT_ERR_NOMEM, "bench tofu: %d rows", n);
    for (int i = 0; i < n; i++)
        owner[i] = i == 0 ? 0 : (i - 1) % size;
    lt_status st = lt_bench_share(b->table->rows, sizeof *b->table->rows, n,
                                  owner);
    free(owner);
    return st;
}

/* Under mpirun the rows after the retain model's are dealt round-robin;
 * a failure stops the sweep after every rank's rows, naming its rank and
 * row; the rows finished are kept in CACHE/runs for --resume. */
static lt_status lt_tb_rows(lt_tb *b)
{
    lt_status st = lt_tb_open(b);
    if (st == LT_OK)
        st = lt_tb_tokenize(b);
    st = lt_bench_agree(st, "loading the data");
    if (st == LT_OK)
        st = lt_tb_reference(b);
    if (st != LT_OK)
        return st;
    st = lt_bench_agree(lt_tb_own_rows(b), b->row);
    if (st != LT_OK) /* the ranks may hold different row counts */
        return st;
    return lt_dist_size() > 1 ? lt_tb_share(b) : LT_OK;
}

static lt_status lt_bench_tofu_body(const lt_bench_tofu_cfg *c, lt_report *out)
{
    double t0 = lt_clock_seconds();
    *out = (lt_report){0};
    lt_status st = lt_bench_tofu_check(c);
    if (st != LT_OK)
        return st;
    lt_tb *b = calloc(1, sizeof *b);
    if (!b)
        return lt_set_error(LT_ERR_NOMEM, "bench tofu");
    b->o = c;
    snprintf(out->title, sizeof out->title, "TOFU (synthetic, %d authors), "
             "forget%02d, %s model, %d unlearning epochs, batch %d, seed %llu, "
             "%d threads", c->authors, c->forget_pct, c->config, c->epochs,
             c->batch, (unsigned long long)c->seed, lt_num_threads());
    b->table = lt_report_table(out, "TOFU", lt_tofu_cols, C_N);
    /* the data and both models: rank 0 builds them into the cache while
     * the others wait, then they find them there */
    bool lead = lt_dist_rank() == 0;
    st = lt_bench_agree(lead ? lt_tofu_setup_run(c, &b->setup) : LT_OK,
                        "the data and models");
    if (st == LT_OK && !lead)
        st = lt_tofu_setup_run(c, &b->setup);
    if (st == LT_OK)
        st = lt_tb_settings(b, out);
    if (st == LT_OK)
        st = lt_tb_rows(b);
    lt_tb_close(b);
    free(b);
    out->seconds = lt_clock_seconds() - t0;
    return st;
}

/* The run in the precision its config asks for (core.h). */
lt_status lt_bench_tofu(const lt_bench_tofu_cfg *c, lt_report *out)
{
    lt_precision old =
        lt_precision_enter(c ? c->precision : LT_PRECISION_DEFAULT);
    lt_status r = lt_bench_tofu_body(c, out);
    lt_set_default_precision(old);
    return r;
}
