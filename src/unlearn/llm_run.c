/*
 * llm_run.c - an LLM unlearning run on TOFU files (lethe/llm_unlearn.h):
 * loading and tokenizing the forget and retain splits (and the refusal
 * data), running lt_llm_unlearn on them, and the run's JSON summary that
 * `lethe lm unlearn --json` writes.
 */
#include "lethe/io.h"
#include "lethe/llm_unlearn.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lt_llm_unlearn_data_free(lt_llm_unlearn_data *d)
{
    if (!d)
        return;
    lt_tofu_free(&d->forget_qa);
    lt_tofu_free(&d->retain_qa);
    lt_lm_data_free(&d->forget);
    lt_lm_data_free(&d->retain);
    lt_lm_data_free(&d->refusal);
    for (int e = 0; d->idk && e < d->n_idk; e++)
        lt_lm_data_free(&d->idk[e]);
    free(d->idk);
    d->idk = NULL;
    d->n_idk = 0;
}

lt_status lt_llm_unlearn_data_load(const lt_tokenizer *t, const char *forget,
                                   const char *retain, int64_t max_len,
                                   const lt_llm_unlearn_cfg *c,
                                   lt_llm_unlearn_data *d)
{
    if (d)
        memset(d, 0, sizeof *d);
    if (!t || !forget || !c || !d)
        return lt_set_error(LT_ERR_ARG, "llm unlearn data: NULL argument");
    lt_status s = lt_tofu_load(forget, &d->forget_qa);
    if (s == LT_OK && retain)
        s = lt_tofu_load(retain, &d->retain_qa);
    if (s == LT_OK)
        s = lt_lm_data_qa(t, &d->forget_qa, max_len, &d->forget);
    if (s == LT_OK && retain)
        s = lt_lm_data_qa(t, &d->retain_qa, max_len, &d->retain);
    if (s == LT_OK && c->loss.method == LT_LLM_REFUSAL)
        s = lt_llm_refusal_data(t, &d->forget_qa, c->seed, &d->refusal);
    bool idk = c->loss.method == LT_LLM_IDK || c->loss.method == LT_LLM_IDKPO;
    if (s == LT_OK && idk && c->epochs > 0) { /* one IDK draw per epoch */
        d->idk = calloc((size_t)c->epochs, sizeof *d->idk);
        s = d->idk ? LT_OK : lt_set_error(LT_ERR_NOMEM, "idk data: out of "
                                          "memory");
        for (int e = 0; s == LT_OK && e < c->epochs; e++, d->n_idk++)
            s = lt_llm_idk_data(t, &d->forget_qa, c->seed, e + 1, &d->idk[e]);
    }
    d->have_retain = s == LT_OK && retain;
    return s;
}

lt_status lt_llm_unlearn_run(lt_llama *m, const lt_llm_unlearn_data *d,
                             const lt_llm_unlearn_cfg *c, lt_llm_report *rep)
{
    if (!m || !d || !c)
        return lt_set_error(LT_ERR_ARG, "llm unlearn run: NULL argument");
    lt_llm_unlearn_cfg cfg = *c;
    bool refusal = c->loss.method == LT_LLM_REFUSAL;
    bool idk = c->loss.method == LT_LLM_IDK || c->loss.method == LT_LLM_IDKPO;
    if (idk && d->n_idk < c->epochs)
        return lt_set_error(LT_ERR_ARG, "llm unlearn run: %s needs %d epochs "
                            "of IDK data, loaded %d", lt_llm_method_name(
                            c->loss.method), c->epochs, d->n_idk);
    cfg.mask_forget = refusal || idk ? &d->forget : NULL;
    if (idk) {
        cfg.forget_epochs = d->idk;
        cfg.pair = c->loss.method == LT_LLM_IDKPO ? &d->forget : NULL;
    }
    return lt_llm_unlearn(m, refusal ? &d->refusal : idk ? &d->idk[0]
                          : &d->forget, d->have_retain ? &d->retain : NULL,
                          &cfg, rep);
}

/* A float setting as the decimal it was typed as (1e-4, not 9.99e-05). */
static double lt_typed(float v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%.7g", (double)v);
    return strtod(buf, NULL);
}

static cJSON *lt_llm_options_json(const lt_llm_unlearn_cfg *c,
                                  const char *optim)
{
    cJSON *j = cJSON_CreateObject();
    char mask[64];
    lt_llm_mask_text(&c->mask, mask, sizeof mask);
    bool ok = j &&
        cJSON_AddNumberToObject(j, "beta", lt_typed(c->loss.beta)) &&
        cJSON_AddNumberToObject(j, "gamma", lt_typed(c->loss.gamma)) &&
        cJSON_AddNumberToObject(j, "lambda", lt_typed(c->loss.lambda)) &&
        cJSON_AddNumberToObject(j, "forget_weight",
                                lt_typed(c->loss.forget_weight)) &&
        cJSON_AddStringToObject(j, "npo_nll", c->loss.npo_mean ? "mean" :
                                "sum") &&
        cJSON_AddNumberToObject(j, "epochs", c->epochs) &&
        cJSON_AddNumberToObject(j, "lr", lt_typed(c->optim.lr)) &&
        cJSON_AddNumberToObject(j, "batch", c->batch) &&
        cJSON_AddNumberToObject(j, "warmup", (double)c->warmup) &&
        cJSON_AddNumberToObject(j, "clip", lt_typed(c->clip)) &&
        cJSON_AddNumberToObject(j, "weight_decay",
                                lt_typed(c->optim.weight_decay)) &&
        cJSON_AddStringToObject(j, "mask", mask) &&
        cJSON_AddNumberToObject(j, "mu", lt_typed((float)c->mu)) &&
        cJSON_AddNumberToObject(j, "mask_samples", (double)c->mask_samples) &&
        cJSON_AddStringToObject(j, "optim", optim ? optim : "") &&
        cJSON_AddNumberToObject(j, "rmu_layer", c->loss.rmu_layer) &&
        cJSON_AddNumberToObject(j, "rmu_coeff", lt_typed(c->loss.rmu_coeff)) &&
        cJSON_AddNumberToObject(j, "rmu_alpha", lt_typed(c->loss.rmu_alpha)) &&
        cJSON_AddNumberToObject(j, "max_loss", lt_typed((float)c->max_loss)) &&
        cJSON_AddNumberToObject(j, "seed", (double)c->seed);
    if (!ok) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

lt_status lt_llm_unlearn_write_json(const lt_llm_unlearn_cfg *c,
                                    const lt_llm_report *rep,
                                    const lt_llm_run_info *info,
                                    const char *path)
{
    if (!c || !rep || !info || !path)
        return lt_set_error(LT_ERR_ARG, "llm unlearn json: NULL argument");
    cJSON *j = cJSON_CreateObject();
    bool ok = j &&
        cJSON_AddStringToObject(j, "command", info->command ? info->command
                                                            : "") &&
        cJSON_AddStringToObject(j, "method",
                                lt_llm_method_name(c->loss.method)) &&
        cJSON_AddStringToObject(j, "model", info->model ? info->model : "") &&
        cJSON_AddStringToObject(j, "forget", info->forget ? info->forget
                                                          : "");
    if (ok && info->retain)
        ok = cJSON_AddStringToObject(j, "retain", info->retain) != NULL;
    cJSON *opts = ok && cJSON_AddStringToObject(j, "out", info->out ?
                                                info->out : "") ?
                  lt_llm_options_json(c, info->optim) : NULL;
    ok = opts && cJSON_AddItemToObject(j, "options", opts);
    if (!ok)
        cJSON_Delete(opts);
    ok = ok && cJSON_AddNumberToObject(j, "steps", (double)rep->steps) &&
         cJSON_AddNumberToObject(j, "epochs_done", rep->epochs_done) &&
         cJSON_AddNumberToObject(j, "seconds", rep->seconds) &&
         cJSON_AddNumberToObject(j, "first_loss", rep->first_loss) &&
         cJSON_AddNumberToObject(j, "last_loss", rep->last_loss) &&
         cJSON_AddBoolToObject(j, "diverged", rep->diverged);
    if (ok && rep->diverged)
        ok = cJSON_AddNumberToObject(j, "restored_epoch",
                                     rep->restored_epoch) &&
             cJSON_AddStringToObject(j, "message", rep->message);
    ok = ok && cJSON_AddNumberToObject(j, "mask_fraction", rep->mask_kept) &&
         lt_json_add_precision(j, c->precision);
    if (ok && c->loss.method == LT_LLM_RMU)
        ok = cJSON_AddNumberToObject(j, "rmu_coeff_used",
                                     rep->rmu_coeff) != NULL;
    return lt_json_save(path, j, ok);
}
