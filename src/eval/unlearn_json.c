/*
 * unlearn_json.c - the JSON records of classification unlearning
 * (lethe/metrics.h): one unlearning run (`lethe unlearn --json`) and one
 * checkpoint's evaluation (`lethe eval --json`).
 */
#include "lethe/io.h"
#include "lethe/metrics.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static void lt_metrics_add(cJSON *o, const lt_unlearn_metrics *m)
{
    cJSON_AddNumberToObject(o, "UA", m->ua);
    cJSON_AddNumberToObject(o, "RA", m->ra);
    cJSON_AddNumberToObject(o, "TA", m->ta);
    cJSON_AddNumberToObject(o, "MIA", m->mia);
}

lt_status lt_unlearn_save_json(const char *path, const lt_unlearn_record *r)
{
    if (!path || !r || !r->cfg || !r->forget || !r->report)
        return lt_set_error(LT_ERR_ARG, "unlearn record: NULL argument");
    char mask[64];
    lt_mask_format(&r->cfg->mask, mask, sizeof mask);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "method", lt_method_name(r->cfg->method));
    cJSON_AddStringToObject(j, "model", r->model ? r->model : "");
    cJSON_AddStringToObject(j, "out", r->out ? r->out : "");
    cJSON_AddStringToObject(j, "forget", r->forget->spec);
    cJSON_AddNumberToObject(j, "n_forget", (double)r->forget->n_forget);
    cJSON_AddNumberToObject(j, "seed", (double)r->cfg->seed);
    cJSON_AddStringToObject(j, "mask", mask);
    cJSON_AddStringToObject(j, "optim", r->optim ? r->optim : "");
    cJSON_AddNumberToObject(j, "lr", r->cfg->optim.lr);
    cJSON_AddNumberToObject(j, "epochs", r->cfg->epochs);
    cJSON_AddNumberToObject(j, "steps", (double)r->report->steps);
    if (r->cfg->method == LT_METHOD_BE)
        cJSON_AddStringToObject(j, "variant", r->cfg->be_drop_shadow ?
                                "K-way weights (shadow class dropped)" :
                                "K+1-way model (OPTML code)");
    if (r->cfg->method == LT_METHOD_SALUN_SOFT) {
        cJSON_AddStringToObject(j, "variant", "RL_proximal");
        cJSON_AddNumberToObject(j, "prox_ratio", r->cfg->prox_ratio);
    }
    lt_metrics_add(j, &r->metrics);
    cJSON_AddNumberToObject(j, "rte_s", r->report->seconds);
    lt_json_add_precision(j, r->cfg->precision);
    return lt_json_save(path, j, true);
}

static void lt_split_add(cJSON *o, const char *name, const lt_split_score *s)
{
    cJSON *j = cJSON_AddObjectToObject(o, name);
    cJSON_AddNumberToObject(j, "n", (double)s->n);
    cJSON_AddNumberToObject(j, "loss", s->loss);
    cJSON_AddNumberToObject(j, "accuracy", s->accuracy);
}

lt_status lt_checkpoint_eval_save_json(const char *path,
                                       const lt_checkpoint_eval *e)
{
    if (!path || !e)
        return lt_set_error(LT_ERR_ARG, "checkpoint eval: NULL argument");
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "model", e->model ? e->model : "");
    cJSON_AddStringToObject(j, "data", e->data ? e->data : "");
    lt_json_add_precision(j, e->precision);
    if (!e->forget) {
        lt_split_add(j, "train", &e->train);
        cJSON_AddStringToObject(j, "arch", e->arch ? e->arch : "");
        lt_split_add(j, "test", &e->test);
        return lt_json_save(path, j, true);
    }
    cJSON_AddStringToObject(j, "forget", e->forget->spec);
    cJSON_AddNumberToObject(j, "forget_seed", (double)e->forget_seed);
    cJSON_AddNumberToObject(j, "n_forget", (double)e->forget->n_forget);
    lt_metrics_add(cJSON_AddObjectToObject(j, "metrics"), &e->metrics);
    if (e->has_retrain) {
        lt_metrics_add(cJSON_AddObjectToObject(j, "retrain"), &e->retrain);
        cJSON_AddNumberToObject(j, "avg_gap", lt_avg_gap(&e->metrics,
                                                         &e->retrain));
    }
    return lt_json_save(path, j, true);
}
