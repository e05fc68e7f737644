/*
 * muse_json.c - the JSON file of one MUSE evaluation (lethe/muse.h), as
 * `lethe lm eval --benchmark muse --json` writes it, and PrivLeak's
 * reference, the retrain model's Min-K% AUC: read from such a file or
 * computed from the model.
 */
#include "lethe/io.h"
#include "lethe/lm.h"
#include "lethe/muse.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

lt_status lt_muse_retrain_auc_json(const char *path, double k, double *auc)
{
    char *text = NULL;
    lt_status st = lt_read_file(path, &text, NULL);
    if (st != LT_OK)
        return st;
    cJSON *o = cJSON_Parse(text);
    free(text);
    cJSON *mia = cJSON_GetObjectItemCaseSensitive(o, "mia_auc");
    cJSON *a = cJSON_GetObjectItemCaseSensitive(mia, "min_k");
    cJSON *kr = cJSON_GetObjectItemCaseSensitive(o, "min_k_ratio");
    if (!cJSON_IsNumber(a) || !cJSON_IsNumber(kr))
        st = lt_set_error(LT_ERR_FORMAT, "%s: no mia_auc.min_k and "
                          "min_k_ratio numbers (write it with lethe lm eval "
                          "--benchmark muse --json)", path);
    else if (fabs(kr->valuedouble - k) > 1e-9)
        st = lt_set_error(LT_ERR_ARG, "%s was computed at Min-K ratio %g, "
                          "this run uses %g", path, kr->valuedouble, k);
    else
        *auc = a->valuedouble;
    cJSON_Delete(o);
    return st;
}

lt_status lt_muse_retrain_auc(const char *model, const char *tok,
                              const char *json, const lt_muse_data *d,
                              const lt_muse_opts *o, double *auc)
{
    *auc = NAN;
    if (json)
        return lt_muse_retrain_auc_json(json, o->k, auc);
    lt_llama *m;
    lt_tokenizer *t;
    lt_status st = model ? lt_lm_open(model, tok, &m, &t) : LT_OK;
    if (!model || st != LT_OK)
        return st;
    double a[LT_MIA_N];
    st = lt_mia_aucs(m, t, &d->forget, &d->holdout, o->k, o->batch, a);
    if (st == LT_OK)
        *auc = a[LT_MIA_MINK];
    else
        st = lt_set_error(st, "%s: %s", model, lt_last_error());
    lt_llama_free(m);
    lt_tokenizer_free(t);
    return st;
}

static void lt_num(cJSON *o, const char *key, double v)
{
    if (isnan(v))
        cJSON_AddNullToObject(o, key);
    else
        cJSON_AddNumberToObject(o, key, v);
}

lt_status lt_muse_write_json(const char *path, const char *command,
                             const char *model, const char *dir,
                             const lt_muse_result *r, const lt_muse_opts *mo,
                             double auc_retrain)
{
    cJSON *j = cJSON_CreateObject(), *mia = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "command", command ? command : "");
    cJSON_AddStringToObject(j, "benchmark", "muse");
    cJSON_AddStringToObject(j, "model", model);
    cJSON_AddStringToObject(j, "dir", dir);
    lt_json_add_precision(j, LT_PRECISION_DEFAULT);
    lt_num(j, "verbmem_forget", r->verbmem);
    lt_num(j, "verbmem_n", (double)r->verbmem_n);
    lt_num(j, "verbmem_skipped", (double)r->verbmem_skipped);
    lt_num(j, "knowmem_forget", r->knowmem_forget);
    lt_num(j, "knowmem_retain", r->knowmem_retain);
    lt_num(j, "knowmem_forget_n", (double)r->knowmem_forget_n);
    lt_num(j, "knowmem_retain_n", (double)r->knowmem_retain_n);
    for (int a = 0; a < LT_MIA_N; a++)
        lt_num(mia, lt_mia_name((lt_mia_kind)a), r->auc[a]);
    cJSON_AddItemToObject(j, "mia_auc", mia);
    lt_num(j, "min_k_ratio", mo->k);
    lt_num(j, "auc_retrain", auc_retrain);
    lt_num(j, "privleak", lt_muse_privleak(r->auc[LT_MIA_MINK], auc_retrain));
    lt_num(j, "prefix", mo->prefix);
    lt_num(j, "max_new", mo->max_new);
    lt_num(j, "qa_max_new", mo->qa_max_new);
    cJSON_AddBoolToObject(j, "rouge_stemmer", mo->stem);
    cJSON_AddStringToObject(j, "privleak_orientation", "muse: holdout as "
                            "member, (AUC_u - AUC_r) / AUC_r * 100; mia_auc "
                            "has forget as member");
    lt_num(j, "seconds", r->seconds);
    return lt_json_save(path, j, true);
}
