/*
 * tofu_eval.c - the TOFU benchmark's evaluation: per-split answer
 * probabilities, ROUGE-L recall of greedy answers and truth ratios, forget
 * quality (KS test against the retain model) and model utility, as
 * locuslab/tofu computes them, plus their JSON form. See
 * lethe/tofu_eval.h.
 */
#include "lethe/tofu_eval.h"
#include "lethe/io.h"
#include "lethe/lm.h"
#include "lethe/rouge.h"
#include "lethe/stats.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define TE_GEN_MARGIN 8

lt_tofu_eval_opts lt_tofu_eval_defaults(void)
{
    return (lt_tofu_eval_opts){.max_items = 300, .max_new_tokens = 0,
                               .max_length = 200, .batch = 16, .threads = 0,
                               .generate = true};
}

/* ---- arithmetic ------------------------------------------------------------ */

double lt_tofu_truth_ratio(double base_nll, const double *pert, int k)
{
    if (!pert || k < 1)
        return NAN;
    double s = 0.0;
    for (int i = 0; i < k; i++)
        s += pert[i];
    return exp(s / k - base_nll);
}

double lt_tofu_truth_ratio_stat(const double *tr, int64_t n, bool forget)
{
    if (!tr || n < 1)
        return NAN;
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double r = tr[i];
        if (forget)
            s += r < 1.0 / r ? r : 1.0 / r;
        else
            s += 1.0 - 1.0 / r > 0.0 ? 1.0 - 1.0 / r : 0.0;
    }
    return s / (double)n;
}

double lt_tofu_normalized_prob(double gt_nll, const double *pert, int k)
{
    if (!pert || k < 1)
        return NAN;
    double pt = exp(-gt_nll), all = pt;
    for (int i = 0; i < k; i++)
        all += exp(-pert[i]);
    return pt / all;
}

static double te_mean(const double *x, int64_t n)
{
    double s = 0.0;
    for (int64_t i = 0; i < n; i++)
        s += x[i];
    return s / (double)n;
}

lt_status lt_tofu_split_finish(lt_tofu_split_eval *e)
{
    if (!e || e->n < 1 || !e->gt_nll || !e->base_nll || !e->pert_off ||
        !e->pert_nll || !e->prob || !e->rouge || !e->truth_ratio)
        return lt_set_error(LT_ERR_ARG, "tofu eval: split without items");
    for (int64_t i = 0; i < e->n; i++) {
        const double *p = e->pert_nll + e->pert_off[i];
        int k = (int)(e->pert_off[i + 1] - e->pert_off[i]);
        if (k < 1)
            return lt_set_error(LT_ERR_ARG, "tofu eval: item %lld has no "
                                "perturbed answers", (long long)i);
        e->prob[i] = e->kind == LT_TOFU_UTILITY
                         ? lt_tofu_normalized_prob(e->gt_nll[i], p, k)
                         : exp(-e->gt_nll[i]);
        e->truth_ratio[i] = lt_tofu_truth_ratio(e->base_nll[i], p, k);
    }
    e->prob_mean = te_mean(e->prob, e->n);
    e->rouge_mean = te_mean(e->rouge, e->n);
    e->truth_ratio_stat = lt_tofu_truth_ratio_stat(
        e->truth_ratio, e->n, e->kind == LT_TOFU_FORGET);
    return LT_OK;
}

lt_status lt_tofu_split_alloc(lt_tofu_split_eval *e, int kind, int64_t n,
                              int64_t n_pert)
{
    if (!e || n < 1 || n_pert < n || kind < LT_TOFU_FORGET ||
        kind > LT_TOFU_UTILITY)
        return lt_set_error(LT_ERR_ARG, "tofu eval: bad split size or kind");
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->n = n;
    size_t sn = (size_t)n;
    e->gt_nll = calloc(sn, sizeof(double));
    e->base_nll = calloc(sn, sizeof(double));
    e->pert_off = calloc(sn + 1, sizeof(int64_t));
    e->pert_nll = calloc((size_t)n_pert, sizeof(double));
    e->prob = calloc(sn, sizeof(double));
    e->rouge = calloc(sn, sizeof(double));
    e->truth_ratio = calloc(sn, sizeof(double));
    e->generated = calloc(sn, sizeof(char *));
    if (!e->gt_nll || !e->base_nll || !e->pert_off || !e->pert_nll ||
        !e->prob || !e->rouge || !e->truth_ratio || !e->generated) {
        lt_tofu_split_eval_free(e);
        return lt_set_error(LT_ERR_NOMEM, "tofu eval: out of memory");
    }
    return LT_OK;
}

void lt_tofu_split_eval_free(lt_tofu_split_eval *e)
{
    if (!e)
        return;
    for (int64_t i = 0; e->generated && i < e->n; i++)
        free(e->generated[i]);
    free(e->generated);
    free(e->gt_nll);
    free(e->base_nll);
    free(e->pert_off);
    free(e->pert_nll);
    free(e->prob);
    free(e->rouge);
    free(e->truth_ratio);
    memset(e, 0, sizeof *e);
}

lt_status lt_tofu_forget_quality(const double *tr, int64_t n,
                                 const double *tr_retain, int64_t m,
                                 double *fq, double *ks)
{
    return lt_ks_2samp(tr, n, tr_retain, m, ks, fq);
}

double lt_tofu_model_utility(const lt_tofu_split_eval *retain,
                             const lt_tofu_split_eval *real_authors,
                             const lt_tofu_split_eval *world_facts)
{
    const lt_tofu_split_eval *s[3] = {retain, real_authors, world_facts};
    double v[9];
    for (int i = 0; i < 3; i++) {
        if (!s[i])
            return NAN;
        v[3 * i] = s[i]->prob_mean;
        v[3 * i + 1] = s[i]->rouge_mean;
        v[3 * i + 2] = s[i]->truth_ratio_stat;
    }
    return lt_harmonic_mean(v, 9);
}

/* ---- scoring ----------------------------------------------------------------- */

static const char *te_path(const lt_tofu_set *s)
{
    return s->path ? s->path : "(TOFU set)";
}

/* Every record needs perturbed answers, and a paraphrased answer unless the
 * split is a utility split. *n_pert gets the perturbed answers in all. */
static lt_status te_check(const lt_tofu_set *s, int64_t n, int kind,
                          int64_t *n_pert)
{
    *n_pert = 0;
    for (int64_t i = 0; i < n; i++) {
        const lt_tofu_qa *q = &s->qa[i];
        if (q->n_perturbed < 1)
            return lt_set_error(LT_ERR_ARG, "%s: record %lld has no "
                                "perturbed_answer (TOFU evaluation needs the "
                                "_perturbed files)", te_path(s),
                                (long long)i + 1);
        if (kind != LT_TOFU_UTILITY && !q->paraphrased_answer)
            return lt_set_error(LT_ERR_ARG, "%s: record %lld has no "
                                "paraphrased_answer", te_path(s),
                                (long long)i + 1);
        *n_pert += q->n_perturbed;
    }
    return LT_OK;
}

/* The scored examples, item by item: answer, paraphrased answer (not on
 * utility splits), perturbed answers. */
static lt_status te_build(const lt_tokenizer *tok, const lt_tofu_set *s,
                          int64_t n, int kind, int64_t max_len,
                          lt_lm_data *d)
{
    memset(d, 0, sizeof *d);
    lt_status st = LT_OK;
    for (int64_t i = 0; st == LT_OK && i < n; i++) {
        const lt_tofu_qa *q = &s->qa[i];
        st = lt_lm_data_add_qa(d, tok, q->question, q->answer, max_len);
        if (st == LT_OK && kind != LT_TOFU_UTILITY)
            st = lt_lm_data_add_qa(d, tok, q->question, q->paraphrased_answer,
                                   max_len);
        for (int k = 0; st == LT_OK && k < q->n_perturbed; k++)
            st = lt_lm_data_add_qa(d, tok, q->question, q->perturbed_answer[k],
                                   max_len);
    }
    return st;
}

typedef struct {
    int64_t len, idx;
} te_key;

static int te_cmp_key(const void *x, const void *y)
{
    const te_key *a = x, *b = y;
    if (a->len != b->len)
        return a->len < b->len ? -1 : 1;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

/* d's examples in the order perm (copies; out zeroed first). */
static lt_status te_permuted(const lt_lm_data *d, const int64_t *perm,
                             lt_lm_data *out)
{
    memset(out, 0, sizeof *out);
    out->tokens = malloc((size_t)d->n_tokens * sizeof *out->tokens);
    out->offset = malloc((size_t)(d->n + 1) * sizeof *out->offset);
    out->n_prompt = malloc((size_t)d->n * sizeof *out->n_prompt);
    if (!out->tokens || !out->offset || !out->n_prompt) {
        lt_lm_data_free(out);
        return lt_set_error(LT_ERR_NOMEM, "tofu eval: out of memory");
    }
    out->offset[0] = 0;
    for (int64_t i = 0; i < d->n; i++) {
        int64_t j = perm[i], len = lt_lm_example_len(d, j);
        memcpy(out->tokens + out->offset[i], d->tokens + d->offset[j],
               (size_t)len * sizeof *out->tokens);
        out->offset[i + 1] = out->offset[i] + len;
        out->n_prompt[i] = d->n_prompt[j];
    }
    out->n = out->cap = d->n;
    out->n_tokens = out->cap_tokens = d->n_tokens;
    out->max_len = d->max_len;
    return LT_OK;
}

/* Mean token NLL of every example of d (avg[d->n]); examples are scored in
 * length order so batches carry little padding. */
static lt_status te_score(lt_llama *m, const lt_lm_data *d, int batch,
                          double *avg)
{
    int64_t *perm = malloc((size_t)d->n * sizeof *perm);
    te_key *key = malloc((size_t)d->n * sizeof *key);
    double *nll = malloc((size_t)d->n * sizeof *nll);
    int32_t *cnt = malloc((size_t)d->n * sizeof *cnt);
    lt_lm_data sd = {0};
    lt_status st = perm && key && nll && cnt ? LT_OK
                   : lt_set_error(LT_ERR_NOMEM, "tofu eval: out of memory");
    if (st == LT_OK) {
        for (int64_t i = 0; i < d->n; i++)
            key[i] = (te_key){lt_lm_example_len(d, i), i};
        qsort(key, (size_t)d->n, sizeof *key, te_cmp_key);
        for (int64_t i = 0; i < d->n; i++)
            perm[i] = key[i].idx;
        st = te_permuted(d, perm, &sd);
    }
    if (st == LT_OK)
        st = lt_lm_score(m, &sd, batch, 0, nll, cnt);
    for (int64_t i = 0; st == LT_OK && i < d->n; i++)
        avg[perm[i]] = cnt[i] > 0 ? nll[i] / cnt[i] : NAN;
    lt_lm_data_free(&sd);
    free(key);
    free(perm);
    free(nll);
    free(cnt);
    return st;
}

/* Spread the scores of te_build's order into e. */
static void te_unpack(const lt_tofu_set *s, const double *avg,
                      lt_tofu_split_eval *e)
{
    int64_t at = 0, p = 0;
    for (int64_t i = 0; i < e->n; i++) {
        const lt_tofu_qa *q = &s->qa[i];
        e->gt_nll[i] = avg[at++];
        e->base_nll[i] = e->kind == LT_TOFU_UTILITY ? e->gt_nll[i]
                                                    : avg[at++];
        e->pert_off[i] = p;
        for (int k = 0; k < q->n_perturbed; k++)
            e->pert_nll[p++] = avg[at++];
    }
    e->pert_off[e->n] = p;
}

/* ---- greedy answers ------------------------------------------------------------ */

/* One thread's decoder: an arena and a KV cache for one row of up to
 * max_position_embeddings positions, reused for every item. */
typedef struct {
    lt_ctx *c;
    lt_llama_cache *kv;
    int32_t *out;
} te_decoder;

static lt_status te_decoder_new(lt_llama *m, te_decoder *g)
{
    const lt_llama_config *cf = &m->cfg;
    int64_t total = cf->max_position_embeddings;
    size_t cache_copy = (size_t)(2 * cf->n_layers * cf->n_kv_heads *
                                 cf->head_dim * total) * sizeof(float);
    memset(g, 0, sizeof *g);
    g->c = lt_ctx_new(lt_llama_arena_bytes(cf, 1, total, false) + cache_copy);
    g->out = malloc((size_t)total * sizeof *g->out);
    if (!g->c || !g->out)
        return lt_set_error(LT_ERR_NOMEM, "tofu eval: out of memory for a "
                            "decoder");
    return lt_llama_cache_new(m, 1, total, &g->kv);
}

static void te_decoder_free(te_decoder *g)
{
    lt_ctx_free(g->c);
    lt_llama_cache_free(g->kv);
    free(g->out);
}

static int32_t te_argmax(const float *x, int64_t n)
{
    int64_t best = 0;
    for (int64_t i = 1; i < n; i++)
        if (x[i] > x[best])
            best = i;
    return (int32_t)best;
}

/* The greedy answer to question (what lt_lm_answer returns): up to
 * max_new tokens (max_new 0: up to max_length tokens of prompt + answer
 * in all, TOFU's generate(max_length=200)), stopped by eos, decoded,
 * leading whitespace removed. */
static lt_status te_answer(lt_llama *m, const lt_tokenizer *tok,
                           te_decoder *g, const char *question,
                           int64_t max_new, int64_t max_length, int32_t eos,
                           char **answer)
{
    int32_t *p = NULL;
    size_t np = 0, nt = 0;
    lt_status st = lt_lm_prompt_ids(tok, question, &p, &np);
    int64_t room = m->cfg.max_position_embeddings - (int64_t)np, n_out = 0;
    if (max_new <= 0)
        max_new = max_length - (int64_t)np;
    max_new = max_new < room ? max_new : room;
    if (st == LT_OK && max_new < 1)
        st = lt_set_error(LT_ERR_ARG, "tofu eval: the question prompt fills "
                          "the model's %d positions (or max_length)",
                          m->cfg.max_position_embeddings);
    lt_llama_cache_reset(g->kv);
    const int32_t *feed = p;
    int64_t n_feed = (int64_t)np, V = m->cfg.vocab_size;
    for (int64_t i = 0; st == LT_OK && i < max_new; i++) {
        lt_ctx_reset(g->c);
        lt_tensor *y = lt_llama_forward_cached(g->c, m, g->kv, feed, 1,
                                               n_feed);
        if (!y) {
            st = lt_last_status();
            break;
        }
        g->out[n_out] = te_argmax(y->data + (n_feed - 1) * V, V);
        if (g->out[n_out] == eos)
            break;
        feed = &g->out[n_out++];
        n_feed = 1;
    }
    char *text = NULL;
    if (st == LT_OK)
        st = lt_tokenizer_decode(tok, g->out, (size_t)n_out, &text, &nt);
    if (st == LT_OK) {
        size_t k = 0;
        while (k < nt && isspace((unsigned char)text[k]))
            k++;
        memmove(text, text + k, nt - k + 1);
        *answer = text;
    }
    free(p);
    return st;
}

/* Greedy answers of items [0, e->n), one item per thread at a time. */
static lt_status te_generate(lt_llama *m, const lt_tokenizer *tok,
                             const lt_tofu_set *s, int64_t max_new,
                             int64_t max_length, int threads,
                             lt_tofu_split_eval *e)
{
    int32_t eos = lt_tokenizer_special_id(tok, LT_TOK_EOS);
    lt_status st = LT_OK;
    char msg[512] = "";
    int nt = threads;
#ifdef _OPENMP
    if (nt < 1)
        nt = omp_get_max_threads();
#endif
    nt = nt < 1 ? 1 : nt > e->n ? (int)e->n : nt;
#pragma omp parallel num_threads(nt)
    {
        te_decoder g;
        lt_status ts = te_decoder_new(m, &g);
#pragma omp for schedule(dynamic, 1)
        for (int64_t i = 0; i < e->n; i++) {
            if (ts == LT_OK)
                ts = te_answer(m, tok, &g, s->qa[i].question, max_new,
                               max_length, eos,
                               &e->generated[i]);
        }
        if (ts != LT_OK) {
#pragma omp critical /* unnamed: a named one is an exported symbol */
            if (st == LT_OK) {
                st = ts;
                snprintf(msg, sizeof msg, "%s", lt_last_error());
            }
        }
        te_decoder_free(&g);
    }
    if (st != LT_OK)
        return lt_set_error(st, "%s", msg);
    for (int64_t i = 0; i < e->n; i++)
        e->rouge[i] = lt_rouge_l(e->generated[i], s->qa[i].answer, true).recall;
    return LT_OK;
}

/* The split's longest answer in tokens (answer + EOS) plus a margin. */
static int64_t te_auto_new_tokens(const lt_lm_data *d, const lt_tofu_set *s,
                                  int64_t n, int kind)
{
    int64_t at = 0, best = 1;
    for (int64_t i = 0; i < n; i++) {
        int64_t len = lt_lm_example_len(d, at) - d->n_prompt[at];
        best = len > best ? len : best;
        at += 1 + (kind != LT_TOFU_UTILITY) + s->qa[i].n_perturbed;
    }
    return best + TE_GEN_MARGIN;
}

lt_status lt_tofu_eval_split(lt_llama *m, const lt_tokenizer *tok,
                             const lt_tofu_set *set, int kind,
                             const lt_tofu_eval_opts *o,
                             lt_tofu_split_eval *out)
{
    if (!out)
        return lt_set_error(LT_ERR_ARG, "tofu eval: NULL output");
    memset(out, 0, sizeof *out);
    if (!m || !tok || !set || !o || set->n < 1 || o->batch < 1)
        return lt_set_error(LT_ERR_ARG, "tofu eval: need a model, a "
                            "tokenizer, a non-empty set and batch >= 1");
    if (kind < LT_TOFU_FORGET || kind > LT_TOFU_UTILITY)
        return lt_set_error(LT_ERR_ARG, "tofu eval: unknown split kind %d",
                            kind);
    int64_t n = o->max_items > 0 && o->max_items < set->n ? o->max_items
                                                           : set->n;
    int64_t n_pert = 0;
    lt_status st = te_check(set, n, kind, &n_pert);
    lt_lm_data d = {0};
    double *avg = NULL;
    if (st == LT_OK)
        st = te_build(tok, set, n, kind, m->cfg.max_position_embeddings, &d);
    if (st == LT_OK && !(avg = malloc((size_t)d.n * sizeof *avg)))
        st = lt_set_error(LT_ERR_NOMEM, "tofu eval: out of memory");
    if (st == LT_OK)
        st = te_score(m, &d, o->batch, avg);
    if (st == LT_OK)
        st = lt_tofu_split_alloc(out, kind, n, n_pert);
    if (st == LT_OK)
        te_unpack(set, avg, out);
    int64_t max_new = o->max_new_tokens != LT_TOFU_GEN_SHORT
                          ? (o->max_new_tokens > 0 ? o->max_new_tokens : 0)
                          : (st == LT_OK ? te_auto_new_tokens(&d, set, n,
                                                              kind) : 0);
    if (st == LT_OK && o->generate && max_new == 0 && o->max_length < 2)
        st = lt_set_error(LT_ERR_ARG, "tofu eval: max_length %lld < 2",
                          (long long)o->max_length);
    if (st == LT_OK && o->generate)
        st = te_generate(m, tok, set, max_new, o->max_length, o->threads,
                         out);
    if (st == LT_OK)
        st = lt_tofu_split_finish(out);
    lt_lm_data_free(&d);
    free(avg);
    if (st != LT_OK)
        lt_tofu_split_eval_free(out);
    return st;
}

/* ---- JSON ---------------------------------------------------------------------- */

static const char *const te_kind_name[] = {"forget", "retain", "utility"};

/* A JSON number written with 17 significant digits, so it reads back as
 * the same double (cJSON's own printer keeps 15 digits when they are
 * within an epsilon, which reorders near-ties of the KS test); null for a
 * non-finite value (JSON has no NaN). */
static cJSON *te_num(double v)
{
    char buf[40];
    if (isinf(v)) /* valid JSON that cJSON and Python read back as +-inf */
        return cJSON_CreateRaw(v > 0 ? "1e999" : "-1e999");
    if (isnan(v))
        return cJSON_CreateNull();
    snprintf(buf, sizeof buf, "%.17g", v);
    return cJSON_CreateRaw(buf);
}

static cJSON *te_array(const double *x, int64_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (int64_t i = 0; a && i < n; i++) {
        cJSON *v = te_num(x[i]);
        if (!v || !cJSON_AddItemToArray(a, v)) {
            cJSON_Delete(v);
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

static bool te_add(cJSON *o, const char *key, cJSON *v)
{
    if (!v)
        return false;
    if (!cJSON_AddItemToObject(o, key, v)) {
        cJSON_Delete(v);
        return false;
    }
    return true;
}

static bool te_push(cJSON *a, cJSON *v)
{
    if (!v)
        return false;
    if (!cJSON_AddItemToArray(a, v)) {
        cJSON_Delete(v);
        return false;
    }
    return true;
}

/* One list of perturbed-answer NLLs per item. */
static cJSON *te_pert_json(const lt_tofu_split_eval *e)
{
    cJSON *a = cJSON_CreateArray();
    for (int64_t i = 0; a && i < e->n; i++)
        if (!te_push(a, te_array(e->pert_nll + e->pert_off[i],
                                 e->pert_off[i + 1] - e->pert_off[i]))) {
            cJSON_Delete(a);
            return NULL;
        }
    return a;
}

static cJSON *te_gen_json(const lt_tofu_split_eval *e)
{
    cJSON *a = cJSON_CreateArray();
    for (int64_t i = 0; a && i < e->n; i++) {
        const char *g = e->generated ? e->generated[i] : NULL;
        if (!te_push(a, g ? cJSON_CreateString(g) : cJSON_CreateNull())) {
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

static cJSON *te_items_json(const lt_tofu_split_eval *e)
{
    cJSON *it = cJSON_CreateObject();
    bool ok = it &&
              te_add(it, "avg_gt_loss", te_array(e->gt_nll, e->n)) &&
              te_add(it, "avg_paraphrased_loss", te_array(e->base_nll, e->n)) &&
              te_add(it, "average_perturb_loss", te_pert_json(e)) &&
              te_add(it, "prob", te_array(e->prob, e->n)) &&
              te_add(it, "rougeL_recall", te_array(e->rouge, e->n)) &&
              te_add(it, "truth_ratio", te_array(e->truth_ratio, e->n)) &&
              te_add(it, "generated_text", te_gen_json(e));
    if (!ok) {
        cJSON_Delete(it);
        return NULL;
    }
    return it;
}

cJSON *lt_tofu_split_json(const lt_tofu_split_eval *e)
{
    if (!e || e->n < 1 || e->kind < LT_TOFU_FORGET || e->kind > LT_TOFU_UTILITY)
        return NULL;
    cJSON *o = cJSON_CreateObject();
    bool ok = o &&
              te_add(o, "kind", cJSON_CreateString(te_kind_name[e->kind])) &&
              te_add(o, "n", cJSON_CreateNumber((double)e->n)) &&
              te_add(o, "prob", te_num(e->prob_mean)) &&
              te_add(o, "rouge_l_recall", te_num(e->rouge_mean)) &&
              te_add(o, "truth_ratio", te_num(e->truth_ratio_stat)) &&
              te_add(o, "items", te_items_json(e));
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static lt_status te_json_bad(const char *path, const char *what)
{
    return lt_set_error(LT_ERR_FORMAT, "%s: %s (want the JSON written by "
                        "`lethe lm eval --benchmark tofu --json`)", path,
                        what);
}

lt_status lt_tofu_eval_json_forget_tr(const char *path, double **tr,
                                      int64_t *n)
{
    if (!path || !tr || !n)
        return lt_set_error(LT_ERR_ARG, "tofu eval json: NULL argument");
    *tr = NULL;
    *n = 0;
    char *text = NULL;
    size_t len = 0;
    lt_status st = lt_read_file(path, &text, &len);
    if (st != LT_OK)
        return st;
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    if (!root)
        return te_json_bad(path, "not valid JSON");
    cJSON *sp = cJSON_GetObjectItemCaseSensitive(root, "splits");
    cJSON *f = cJSON_GetObjectItemCaseSensitive(sp, "forget");
    cJSON *it = cJSON_GetObjectItemCaseSensitive(f, "items");
    cJSON *a = cJSON_GetObjectItemCaseSensitive(it, "truth_ratio");
    int count = cJSON_IsArray(a) ? cJSON_GetArraySize(a) : 0;
    if (count < 1) {
        cJSON_Delete(root);
        return te_json_bad(path, "no splits.forget.items.truth_ratio list");
    }
    double *v = malloc((size_t)count * sizeof *v);
    int k = 0;
    for (cJSON *x = a ? a->child : NULL; v && x; x = x->next) {
        if (!cJSON_IsNumber(x))
            break;
        v[k++] = x->valuedouble;
    }
    cJSON_Delete(root);
    if (!v)
        return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", path);
    if (k != count) {
        free(v);
        return te_json_bad(path, "a forget truth ratio is not a number");
    }
    *tr = v;
    *n = count;
    return LT_OK;
}
