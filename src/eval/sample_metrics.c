/*
 * sample_metrics.c - class metrics of generated samples from a classifier's
 * probabilities (lethe/image_metrics.h), as Selective Amnesia reports them
 * for a forgotten class: the accuracy of the classifier on the class the
 * samples were asked to show, the mean entropy of its predictive
 * distribution and the mean probability it gives that class; and the
 * per-class accuracy of a labelled sample set.
 */
#include "lethe/image_metrics.h"
#include "lethe/metrics.h"

#include <math.h>
#include <stdlib.h>

/* Tolerance on a probability row's sum (float rounding of a softmax). */
#define LT_PROB_SUM_TOL 1e-3

static lt_status lt_check_probs_shape(const char *fn, const float *probs,
                                      int64_t n, int k)
{
    if (!probs)
        return lt_set_error(LT_ERR_ARG, "%s: probs is NULL", fn);
    if (n < 1)
        return lt_set_error(LT_ERR_ARG, "%s: n = %lld rows, expected >= 1",
                            fn, (long long)n);
    if (k < 2)
        return lt_set_error(LT_ERR_ARG, "%s: k = %d classes, expected >= 2",
                            fn, k);
    return LT_OK;
}

/* Row i of probs [n, k] is a distribution: finite, >= 0, sum 1. */
static lt_status lt_check_prob_row(const char *fn, const float *row,
                                   int64_t i, int k)
{
    double sum = 0;
    for (int j = 0; j < k; j++) {
        if (!isfinite(row[j]) || row[j] < 0)
            return lt_set_error(LT_ERR_ARG, "%s: probs[%lld][%d] = %g is not "
                                "a probability", fn, (long long)i, j,
                                (double)row[j]);
        sum += row[j];
    }
    if (fabs(sum - 1.0) > LT_PROB_SUM_TOL)
        return lt_set_error(LT_ERR_ARG, "%s: probs row %lld sums to %.6f, "
                            "not 1", fn, (long long)i, sum);
    return LT_OK;
}

/* -sum p ln p of one row, with 0 ln 0 = 0. */
static double lt_entropy(const float *row, int k)
{
    double h = 0;
    for (int j = 0; j < k; j++)
        if (row[j] > 0)
            h -= (double)row[j] * log((double)row[j]);
    return h;
}

lt_status lt_class_sample_metrics_compute(const float *probs, int64_t n,
                                          int k, int target,
                                          lt_class_sample_metrics *out)
{
    const char *fn = "class sample metrics";
    if (!out)
        return lt_set_error(LT_ERR_ARG, "%s: out is NULL", fn);
    *out = (lt_class_sample_metrics){0, NAN, NAN, NAN};
    if (lt_check_probs_shape(fn, probs, n, k) != LT_OK)
        return lt_last_status();
    if (target < 0 || target >= k)
        return lt_set_error(LT_ERR_ARG, "%s: target class %d is not in [0, "
                            "%d)", fn, target, k);
    int64_t hits = 0;
    double h = 0, pt = 0;
    for (int64_t i = 0; i < n; i++) {
        const float *row = probs + i * k;
        if (lt_check_prob_row(fn, row, i, k) != LT_OK)
            return lt_last_status();
        int32_t pred;
        lt_argmax_rows(row, 1, k, &pred);
        hits += pred == target;
        h += lt_entropy(row, k);
        pt += row[target];
    }
    *out = (lt_class_sample_metrics){n, 100.0 * (double)hits / (double)n,
                                     h / (double)n, pt / (double)n};
    return LT_OK;
}

lt_status lt_per_class_accuracy(const float *probs, int64_t n, int k,
                                const int32_t *labels, double *acc,
                                int64_t *count)
{
    const char *fn = "per-class accuracy";
    if (lt_check_probs_shape(fn, probs, n, k) != LT_OK)
        return lt_last_status();
    if (!labels || !acc)
        return lt_set_error(LT_ERR_ARG, "%s: %s is NULL", fn,
                            !labels ? "labels" : "acc");
    int64_t *hits = calloc(2 * (size_t)k, sizeof *hits);
    int32_t *pred = malloc((size_t)n * sizeof *pred);
    lt_status st = hits && pred ? lt_argmax_rows(probs, n, k, pred)
        : lt_set_error(LT_ERR_NOMEM, "%s: out of memory", fn);
    int64_t *tot = hits + k;
    for (int64_t i = 0; i < n && st == LT_OK; i++) {
        if (labels[i] < 0 || labels[i] >= k)
            st = lt_set_error(LT_ERR_ARG, "%s: labels[%lld] = %d is not in "
                              "[0, %d)", fn, (long long)i, labels[i], k);
        else {
            tot[labels[i]]++;
            hits[labels[i]] += pred[i] == labels[i];
        }
    }
    for (int c = 0; st == LT_OK && c < k; c++) {
        acc[c] = tot[c] ? 100.0 * (double)hits[c] / (double)tot[c] : NAN;
        if (count)
            count[c] = tot[c];
    }
    free(hits);
    free(pred);
    return st;
}
