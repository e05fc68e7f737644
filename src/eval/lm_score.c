/*
 * lm_score.c - per-QA scores of a language model (lethe/lm_score.h): the
 * answer NLL of every record in batched passes, the greedy answers with
 * their ROUGE-L recall, the set's means, and their JSON document.
 */
#include "lethe/io.h"
#include "lethe/lm.h"
#include "lethe/lm_score.h"
#include "lethe/rouge.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

lt_lm_qa_score_opts lt_lm_qa_score_defaults(void)
{
    return (lt_lm_qa_score_opts){.batch = 16, .max_new = 64};
}

void lt_lm_qa_scores_free(lt_lm_qa_scores *s)
{
    if (!s)
        return;
    for (int64_t i = 0; s->gen && i < s->n; i++)
        free(s->gen[i]);
    free(s->nll);
    free(s->count);
    free(s->gen);
    free(s->rouge);
    memset(s, 0, sizeof *s);
}

/* The set's means from the per-record values. */
static void lt_qa_means(lt_lm_qa_scores *s, const lt_tofu_set *qa)
{
    double n = (double)s->n, exact = 0;
    for (int64_t i = 0; i < s->n; i++) {
        double a = s->nll[i] / (s->count[i] > 0 ? s->count[i] : 1);
        s->mean_nll += a / n;
        s->prob += exp(-a) / n;
        s->rouge_mean += s->generated ? s->rouge[i] / n : 0;
        exact += s->generated && !strcmp(s->gen[i], qa->qa[i].answer) ? 1 : 0;
    }
    s->exact = exact / n;
}

lt_status lt_lm_qa_score(lt_llama *m, const lt_tokenizer *t,
                         const lt_tofu_set *qa, const lt_lm_qa_score_opts *o,
                         lt_lm_qa_scores *out)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!m || !t || !qa || !o || !out)
        return lt_set_error(LT_ERR_ARG, "lm score: NULL argument");
    size_t n = qa->n > 0 ? (size_t)qa->n : 1;
    out->n = qa->n;
    out->generated = o->max_new > 0;
    out->nll = calloc(n, sizeof *out->nll);
    out->count = calloc(n, sizeof *out->count);
    out->gen = calloc(n, sizeof *out->gen);
    out->rouge = calloc(n, sizeof *out->rouge);
    if (!out->nll || !out->count || !out->gen || !out->rouge)
        return lt_set_error(LT_ERR_NOMEM, "lm score: out of memory");
    lt_lm_data d;
    int32_t pad = lt_tokenizer_special_id(t, LT_TOK_EOS);
    lt_status s = lt_lm_data_qa(t, qa, m->cfg.max_position_embeddings, &d);
    if (s == LT_OK)
        s = lt_lm_score(m, &d, o->batch, pad < 0 ? 0 : pad, out->nll,
                        out->count);
    lt_lm_data_free(&d);
    lt_llama_gen_opts g = lt_llama_gen_defaults(m);
    g.max_new_tokens = o->max_new;
    for (int64_t i = 0; i < qa->n && s == LT_OK && o->max_new > 0; i++) {
        s = lt_lm_answer(m, t, qa->qa[i].question, &g, &out->gen[i]);
        if (s == LT_OK)
            out->rouge[i] = lt_rouge_l(out->gen[i], qa->qa[i].answer,
                                       true).recall;
        if (o->progress)
            o->progress(o->ud, i + 1, qa->n);
    }
    if (s == LT_OK)
        lt_qa_means(out, qa);
    return s;
}

static cJSON *lt_qa_item(const lt_tofu_qa *r, const lt_lm_qa_scores *s,
                         int64_t i)
{
    cJSON *o = cJSON_CreateObject();
    double k = s->count[i] > 0 ? s->count[i] : 1;
    bool ok = o && cJSON_AddStringToObject(o, "question", r->question) &&
              cJSON_AddStringToObject(o, "answer", r->answer) &&
              cJSON_AddNumberToObject(o, "nll_sum", s->nll[i]) &&
              cJSON_AddNumberToObject(o, "nll_mean", s->nll[i] / k) &&
              cJSON_AddNumberToObject(o, "n_tokens", s->count[i]);
    if (ok && s->gen[i])
        ok = cJSON_AddStringToObject(o, "generated", s->gen[i]) &&
             cJSON_AddNumberToObject(o, "rouge_l_recall", s->rouge[i]);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

lt_status lt_lm_qa_scores_write_json(const lt_lm_qa_scores *s,
                                     const lt_tofu_set *qa,
                                     const char *command, const char *path)
{
    if (!s || !qa || !path || s->n != qa->n)
        return lt_set_error(LT_ERR_ARG, "lm score json: bad argument");
    cJSON *j = cJSON_CreateObject(), *items = cJSON_CreateArray();
    bool ok = j && items &&
              cJSON_AddStringToObject(j, "command", command ? command : "") &&
              lt_json_add_precision(j, LT_PRECISION_DEFAULT) &&
              cJSON_AddNumberToObject(j, "n", (double)s->n) &&
              cJSON_AddNumberToObject(j, "mean_token_nll", s->mean_nll) &&
              cJSON_AddNumberToObject(j, "probability", s->prob);
    if (ok && s->generated)
        ok = cJSON_AddNumberToObject(j, "rouge_l_recall", s->rouge_mean) &&
             cJSON_AddNumberToObject(j, "exact_match", s->exact);
    for (int64_t i = 0; ok && i < s->n; i++) {
        cJSON *x = lt_qa_item(&qa->qa[i], s, i);
        ok = x && cJSON_AddItemToArray(items, x);
        if (!ok)
            cJSON_Delete(x);
    }
    if (ok && cJSON_AddItemToObject(j, "items", items))
        items = NULL;
    cJSON_Delete(items);
    return lt_json_save(path, j, ok);
}
