/*
 * tofu_list.c - several TOFU-format files read as one set (lethe/tofu.h):
 * a comma-separated list of paths, records kept in order.
 */
#include "lethe/tofu.h"

#include <stdio.h>
#include <string.h>

static lt_status lt_tofu_append(lt_tofu_set *out, const lt_tofu_set *part)
{
    lt_status st = LT_OK;
    for (int64_t i = 0; st == LT_OK && i < part->n; i++) {
        const lt_tofu_qa *q = &part->qa[i];
        st = lt_tofu_push(out, q->question, q->answer,
                          q->paraphrased_question, q->paraphrased_answer,
                          (const char *const *)q->perturbed_answer,
                          q->n_perturbed);
    }
    return st;
}

lt_status lt_tofu_load_list(const char *list, lt_tofu_set *out)
{
    *out = (lt_tofu_set){0};
    char path[4096];
    lt_status st = LT_OK;
    for (const char *p = list; *p && st == LT_OK;) {
        size_t k = strcspn(p, ",");
        snprintf(path, sizeof path, "%.*s", (int)k, p);
        lt_tofu_set part = {0};
        st = lt_tofu_load(path, &part);
        if (st == LT_OK)
            st = lt_tofu_append(out, &part);
        lt_tofu_free(&part);
        p += k + (p[k] == ',');
    }
    if (st == LT_OK && out->n == 0)
        st = lt_set_error(LT_ERR_FORMAT, "no QA records in '%s'", list);
    if (st != LT_OK)
        lt_tofu_free(out);
    return st;
}
