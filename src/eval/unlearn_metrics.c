/*
 * unlearn_metrics.c - the classification unlearning metrics (UA, RA, TA,
 * MIA-efficacy; lethe/metrics.h) of a model for a forget set: the model's
 * logits over a dataset, and the metrics from the train and test logits
 * split into forget and retain rows by the forget set.
 */
#include "lethe/metrics.h"
#include "lethe/train.h"

#include <stdlib.h>
#include <string.h>

float *lt_model_logits(lt_model *m, const lt_dataset *d)
{
    float *l = malloc((size_t)(d->n * m->in.classes) * sizeof(float) + 4);
    if (!l)
        lt_set_error(LT_ERR_NOMEM, "out of memory for %lld logits",
                     (long long)d->n);
    else if (lt_evaluate(m, d, 500, NULL, NULL, l) != LT_OK) {
        free(l);
        l = NULL;
    }
    return l;
}

/* Rows idx[0..n) of the train logits and their labels (caller frees). */
static lt_split_logits lt_rows_of(const float *all, const lt_dataset *tr,
                                  int k, const int64_t *idx, int64_t n,
                                  float **l, int32_t **y)
{
    *l = malloc((size_t)(n * k) * sizeof(float) + 4);
    *y = malloc((size_t)n * sizeof(int32_t) + 4);
    for (int64_t i = 0; *l && *y && i < n; i++) {
        memcpy(*l + i * k, all + idx[i] * k, (size_t)k * sizeof(float));
        (*y)[i] = tr->y[idx[i]];
    }
    return (lt_split_logits){*l, n, k, *y, n};
}

lt_status lt_unlearn_metrics_from_logits(const float *ltr, const float *lte,
                                         int k, const lt_dataset *tr,
                                         const lt_dataset *te,
                                         const lt_forget_set *f,
                                         lt_unlearn_metrics *out)
{
    lt_status st;
    float *l[2] = {NULL, NULL};
    int32_t *y[2] = {NULL, NULL};
    lt_split_logits fs = lt_rows_of(ltr, tr, k, f->forget, f->n_forget,
                                    &l[0], &y[0]);
    lt_split_logits rs = lt_rows_of(ltr, tr, k, f->retain, f->n_retain,
                                    &l[1], &y[1]);
    lt_split_logits ts = {lte, te->n, k, te->y, te->n};
    if (!l[0] || !l[1] || !y[0] || !y[1])
        st = lt_set_error(LT_ERR_NOMEM, "out of memory for the metrics");
    else
        st = lt_unlearn_metrics_compute(&fs, &rs, &ts, f->kind ==
                                        LT_FORGET_CLASS ? f->cls : -1, out);
    for (int i = 0; i < 2; i++) {
        free(l[i]);
        free(y[i]);
    }
    return st;
}

lt_status lt_unlearn_metrics_of(lt_model *m, const lt_dataset *tr,
                                const lt_dataset *te, const lt_forget_set *f,
                                lt_unlearn_metrics *out)
{
    float *ltr = lt_model_logits(m, tr);
    float *lte = ltr ? lt_model_logits(m, te) : NULL;
    lt_status st = lte ? lt_unlearn_metrics_from_logits(ltr, lte,
                                                        m->in.classes, tr,
                                                        te, f, out)
                       : LT_ERR_NOMEM;
    if (!lte && ltr)
        st = LT_ERR_IO; /* lt_evaluate set the message */
    free(ltr);
    free(lte);
    return st;
}
