/*
 * tofu_eval_model.c - a whole TOFU evaluation of one model
 * (lethe/tofu_eval.h): the four splits it is given (forget, retain, real
 * authors, world facts), forget quality against the retain model's forget
 * truth ratios (evaluated here, or read from an earlier JSON), model
 * utility, and the JSON file `lethe lm eval --benchmark tofu` writes
 * (per-item values included; --retain-json reads it back).
 */
#include "lethe/io.h"
#include "lethe/lm.h"
#include "lethe/tofu_eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const lt_split_names[LT_TOFU_SPLITS] = {
    "forget", "retain", "real_authors", "world_facts"};
static const int lt_split_kind[LT_TOFU_SPLITS] = {
    LT_TOFU_FORGET, LT_TOFU_RETAIN, LT_TOFU_UTILITY, LT_TOFU_UTILITY};

const char *lt_tofu_split_name(int split)
{
    return split >= 0 && split < LT_TOFU_SPLITS ? lt_split_names[split] : NULL;
}

lt_tofu_eval_cfg lt_tofu_eval_cfg_defaults(void)
{
    return (lt_tofu_eval_cfg){.max_items = 300, .batch = 16,
                              .max_length = 200};
}

static lt_status lt_eval_file(const lt_tofu_eval_cfg *c, lt_llama *m,
                              lt_tokenizer *t, int s, bool generate,
                              lt_tofu_split_eval *out)
{
    lt_tofu_set set;
    lt_status st = lt_tofu_load(c->file[s], &set);
    if (st != LT_OK)
        return st;
    lt_tofu_eval_opts eo = lt_tofu_eval_defaults();
    eo.max_items = c->max_items;
    eo.max_new_tokens = c->max_new;
    eo.max_length = c->max_length;
    eo.batch = c->batch;
    eo.generate = generate;
    st = lt_tofu_eval_split(m, t, &set, lt_split_kind[s], &eo, out);
    lt_tofu_free(&set);
    return st == LT_OK ? LT_OK : lt_set_error(st, "%s split: %s",
                                              lt_split_names[s],
                                              lt_last_error());
}

/* The retain model's forget truth ratios (scoring only, no generation). */
static lt_status lt_retain_tr(const lt_tofu_eval_cfg *c,
                              lt_tofu_eval_result *r)
{
    if (c->retain_json)
        return lt_tofu_eval_json_forget_tr(c->retain_json, &r->tr_ret,
                                           &r->n_ret);
    lt_llama *m;
    lt_tokenizer *t;
    lt_status st = lt_lm_open(c->retain_model, c->retain_tok, &m, &t);
    lt_tofu_split_eval e = {0};
    if (st == LT_OK)
        st = lt_eval_file(c, m, t, LT_TOFU_SPLIT_FORGET, false, &e);
    lt_llama_free(m);
    lt_tokenizer_free(t);
    if (st == LT_OK) {
        r->tr_ret = e.truth_ratio;
        r->n_ret = e.n;
        e.truth_ratio = NULL;
    }
    lt_tofu_split_eval_free(&e);
    return st;
}

lt_status lt_tofu_eval_model(const lt_tofu_eval_cfg *c,
                             lt_tofu_eval_result *r)
{
    memset(r, 0, sizeof *r);
    r->fq = r->ks = r->mu = NAN;
    if ((c->retain_model || c->retain_json) && !c->file[LT_TOFU_SPLIT_FORGET])
        return lt_set_error(LT_ERR_ARG, "forget quality needs the forget "
                            "split");
    lt_llama *m;
    lt_tokenizer *t;
    lt_status st = lt_lm_open(c->model, c->tok, &m, &t);
    /* the retain reference first: a bad file fails before minutes of
     * generation */
    if (st == LT_OK && (c->retain_model || c->retain_json))
        st = lt_retain_tr(c, r);
    for (int s = 0; s < LT_TOFU_SPLITS && st == LT_OK; s++)
        if (c->file[s]) {
            st = lt_eval_file(c, m, t, s, true, &r->split[s]);
            r->have[s] = st == LT_OK;
        }
    lt_llama_free(m);
    lt_tokenizer_free(t);
    const lt_tofu_split_eval *f = &r->split[LT_TOFU_SPLIT_FORGET];
    if (st == LT_OK && r->tr_ret)
        st = lt_tofu_forget_quality(f->truth_ratio, f->n, r->tr_ret,
                                    r->n_ret, &r->fq, &r->ks);
    if (r->have[LT_TOFU_SPLIT_RETAIN] && r->have[LT_TOFU_SPLIT_REAL] &&
        r->have[LT_TOFU_SPLIT_WORLD])
        r->mu = lt_tofu_model_utility(&r->split[LT_TOFU_SPLIT_RETAIN],
                                      &r->split[LT_TOFU_SPLIT_REAL],
                                      &r->split[LT_TOFU_SPLIT_WORLD]);
    return st;
}

void lt_tofu_eval_result_free(lt_tofu_eval_result *r)
{
    for (int s = 0; s < LT_TOFU_SPLITS; s++)
        lt_tofu_split_eval_free(&r->split[s]);
    free(r->tr_ret);
    r->tr_ret = NULL;
}

static cJSON *lt_num_or_null(double v)
{
    return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

lt_status lt_tofu_eval_write_json(const lt_tofu_eval_cfg *c,
                                  const lt_tofu_eval_result *r,
                                  const char *command, const char *path)
{
    cJSON *j = cJSON_CreateObject(), *sp = cJSON_CreateObject();
    bool ok = j && sp && cJSON_AddItemToObject(j, "splits", sp);
    if (!ok)
        cJSON_Delete(sp);
    ok = ok && cJSON_AddStringToObject(j, "benchmark", "tofu") &&
         cJSON_AddStringToObject(j, "command", command ? command : "") &&
         cJSON_AddStringToObject(j, "model", c->model) &&
         lt_json_add_precision(j, LT_PRECISION_DEFAULT);
    for (int s = 0; ok && s < LT_TOFU_SPLITS; s++) {
        if (!r->have[s])
            continue;
        cJSON *x = lt_tofu_split_json(&r->split[s]);
        ok = x && cJSON_AddStringToObject(x, "file", c->file[s]) &&
             cJSON_AddItemToObject(sp, lt_split_names[s], x);
        if (!ok)
            cJSON_Delete(x);
    }
    ok = ok && cJSON_AddItemToObject(j, "forget_quality",
                                     lt_num_or_null(r->fq)) &&
         cJSON_AddItemToObject(j, "ks_statistic", lt_num_or_null(r->ks)) &&
         cJSON_AddItemToObject(j, "model_utility", lt_num_or_null(r->mu));
    return lt_json_save(path, j, ok);
}
