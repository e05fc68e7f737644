/*
 * metrics.c - the classification-unlearning metrics (UA, RA, TA,
 * MIA-efficacy, Avg. Gap) on plain arrays of logits, labels and
 * confidences. MIA-efficacy fits the official membership classifier, an
 * RBF support-vector machine, with Debian's libsvm (what scikit-learn's
 * SVC wraps); see lethe/metrics.h for the exact semantics.
 */
#include "lethe/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <svm.h>

/* ---- argument checks ----------------------------------------------------- */

static lt_status check_logits(const char *fn, const float *logits, int64_t n,
                              int64_t k, const int32_t *labels)
{
    if (!logits || !labels)
        return lt_set_error(LT_ERR_ARG, "%s: %s is NULL", fn,
                            logits ? "labels" : "logits");
    if (n <= 0)
        return lt_set_error(LT_ERR_ARG, "%s: n = %lld (need at least one item)",
                            fn, (long long)n);
    if (k <= 0 || k > INT32_MAX)
        return lt_set_error(LT_ERR_ARG, "%s: k = %lld classes (need 1..2^31-1)",
                            fn, (long long)k);
    for (int64_t i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= k)
            return lt_set_error(LT_ERR_ARG,
                                "%s: labels[%lld] = %d is outside [0, %lld)", fn,
                                (long long)i, labels[i], (long long)k);
    return LT_OK;
}

/* ---- accuracy -------------------------------------------------------------- */

static lt_status argmax_row(const float *row, int64_t k, int64_t i,
                            int32_t *out)
{
    int64_t best = 0;
    for (int64_t j = 0; j < k; j++) {
        if (isnan(row[j]))
            return lt_set_error(LT_ERR_NAN, "logits[%lld, %lld] is NaN",
                                (long long)i, (long long)j);
        if (row[j] > row[best])
            best = j;
    }
    *out = (int32_t)best;
    return LT_OK;
}

lt_status lt_argmax_rows(const float *logits, int64_t n, int64_t k,
                         int32_t *pred)
{
    if (!logits || !pred)
        return lt_set_error(LT_ERR_ARG, "lt_argmax_rows: %s is NULL",
                            logits ? "pred" : "logits");
    if (n < 0 || k <= 0 || k > INT32_MAX)
        return lt_set_error(LT_ERR_ARG, "lt_argmax_rows: bad size n = %lld, "
                            "k = %lld", (long long)n, (long long)k);
    for (int64_t i = 0; i < n; i++)
        if (argmax_row(logits + i * k, k, i, &pred[i]) != LT_OK)
            return LT_ERR_NAN;
    return LT_OK;
}

lt_status lt_accuracy_pred(const int32_t *pred, const int32_t *labels,
                           int64_t n, double *acc)
{
    if (!pred || !labels || !acc)
        return lt_set_error(LT_ERR_ARG, "lt_accuracy_pred: %s is NULL",
                            !pred ? "pred" : !labels ? "labels" : "acc");
    if (n <= 0)
        return lt_set_error(LT_ERR_ARG, "lt_accuracy_pred: n = %lld (need at "
                            "least one item)", (long long)n);
    int64_t hit = 0;
    for (int64_t i = 0; i < n; i++)
        hit += pred[i] == labels[i];
    *acc = 100.0 * (double)hit / (double)n;
    return LT_OK;
}

lt_status lt_accuracy_logits_excluding(const float *logits, int64_t n,
                                       int64_t k, const int32_t *labels,
                                       int32_t exclude, double *acc)
{
    const char *fn = "lt_accuracy_logits";
    if (!acc)
        return lt_set_error(LT_ERR_ARG, "%s: acc is NULL", fn);
    lt_status st = check_logits(fn, logits, n, k, labels);
    if (st != LT_OK)
        return st;
    int64_t hit = 0, kept = 0;
    for (int64_t i = 0; i < n; i++) {
        int32_t p = 0;
        if (argmax_row(logits + i * k, k, i, &p) != LT_OK)
            return LT_ERR_NAN;
        if (exclude >= 0 && labels[i] == exclude)
            continue;
        kept++;
        hit += p == labels[i];
    }
    if (kept == 0)
        return lt_set_error(LT_ERR_ARG, "%s: every one of the %lld items has "
                            "the excluded label %d", fn, (long long)n, exclude);
    *acc = 100.0 * (double)hit / (double)kept;
    return LT_OK;
}

lt_status lt_accuracy_logits(const float *logits, int64_t n, int64_t k,
                             const int32_t *labels, double *acc)
{
    return lt_accuracy_logits_excluding(logits, n, k, labels, -1, acc);
}

lt_status lt_unlearn_accuracy(const float *logits, int64_t n, int64_t k,
                              const int32_t *labels, double *ua)
{
    double acc;
    if (!ua)
        return lt_set_error(LT_ERR_ARG, "lt_unlearn_accuracy: ua is NULL");
    lt_status st = lt_accuracy_logits(logits, n, k, labels, &acc);
    if (st == LT_OK)
        *ua = 100.0 - acc;
    return st;
}

/* ---- true-label confidence ---------------------------------------------- */

static lt_status row_confidence(const float *row, int64_t k, int32_t y,
                                int64_t i, float *out)
{
    double m = -INFINITY;
    for (int64_t j = 0; j < k; j++) {
        if (!isfinite(row[j]))
            return lt_set_error(LT_ERR_NAN, "lt_true_label_confidence: "
                                "logits[%lld, %lld] = %g is not finite",
                                (long long)i, (long long)j, (double)row[j]);
        if (row[j] > m)
            m = row[j];
    }
    double s = 0;
    for (int64_t j = 0; j < k; j++)
        s += exp((double)row[j] - m);
    *out = (float)(exp((double)row[y] - m) / s);
    return LT_OK;
}

lt_status lt_true_label_confidence(const float *logits, int64_t n, int64_t k,
                                   const int32_t *labels, float *conf)
{
    if (!conf)
        return lt_set_error(LT_ERR_ARG, "lt_true_label_confidence: conf is "
                            "NULL");
    lt_status st = check_logits("lt_true_label_confidence", logits, n, k,
                                labels);
    for (int64_t i = 0; st == LT_OK && i < n; i++)
        st = row_confidence(logits + i * k, k, labels[i], i, &conf[i]);
    return st;
}

/* ---- MIA-efficacy: libsvm C-SVC on the 1-D confidence ------------------- */

static void svm_quiet(const char *s) { (void)s; }

static lt_status check_conf(const char *name, const float *v, int64_t n)
{
    if (!v)
        return lt_set_error(LT_ERR_ARG, "lt_mia_efficacy: %s is NULL", name);
    if (n <= 0)
        return lt_set_error(LT_ERR_ARG, "lt_mia_efficacy: %s has n = %lld "
                            "(need at least one item)", name, (long long)n);
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return lt_set_error(LT_ERR_NAN, "lt_mia_efficacy: %s[%lld] = %g "
                                "is not finite", name, (long long)i,
                                (double)v[i]);
    return LT_OK;
}

static pthread_once_t lt_svm_once = PTHREAD_ONCE_INIT;

static void lt_svm_quiet_once(void)
{
    svm_set_print_string_function(svm_quiet);
}

static struct svm_parameter mia_svm_param(void)
{
    struct svm_parameter p = {0};
    p.svm_type = C_SVC;
    p.kernel_type = RBF;
    p.degree = 3;
    p.gamma = 1.0;  /* sklearn gamma="auto" = 1 / n_features */
    p.coef0 = 0;
    p.cache_size = 200;
    p.eps = 1e-3;
    p.C = 3;
    p.nu = 0.5;
    p.p = 0.1;
    p.shrinking = 1;
    p.probability = 0;
    return p;
}

/* Training set: n_te non-members (y = 0) first, then n_m members (y = 1). */
typedef struct {
    struct svm_problem prob;
    struct svm_node *nodes; /* two per row: {1, value}, {-1, 0} */
} mia_problem;

static void mia_problem_free(mia_problem *mp)
{
    free(mp->prob.x);
    free(mp->prob.y);
    free(mp->nodes);
}

static void set_row(mia_problem *mp, int64_t r, double value, double y)
{
    struct svm_node *nd = mp->nodes + 2 * r;
    nd[0].index = 1;
    nd[0].value = value;
    nd[1].index = -1;
    nd[1].value = 0;
    mp->prob.x[r] = nd;
    mp->prob.y[r] = y;
}

static lt_status mia_problem_init(mia_problem *mp, const float *te,
                                  int64_t n_te, const float *mem, int64_t n_m)
{
    int64_t l = n_te + n_m;
    if (l > INT32_MAX / 2)
        return lt_set_error(LT_ERR_ARG, "lt_mia_efficacy: %lld training rows "
                            "is more than libsvm takes", (long long)l);
    mp->prob.l = (int)l;
    mp->prob.y = malloc((size_t)l * sizeof *mp->prob.y);
    mp->prob.x = malloc((size_t)l * sizeof *mp->prob.x);
    mp->nodes = malloc((size_t)l * 2 * sizeof *mp->nodes);
    if (!mp->prob.y || !mp->prob.x || !mp->nodes) {
        mia_problem_free(mp);
        return lt_set_error(LT_ERR_NOMEM, "lt_mia_efficacy: out of memory for "
                            "%lld training rows", (long long)l);
    }
    for (int64_t i = 0; i < n_te; i++)
        set_row(mp, i, (double)te[i], 0.0);
    for (int64_t i = 0; i < n_m; i++)
        set_row(mp, n_te + i, (double)mem[i], 1.0);
    return LT_OK;
}

static int64_t count_nonmembers(const struct svm_model *model,
                                const float *forget, int64_t n)
{
    int64_t non = 0;
    for (int64_t i = 0; i < n; i++) {
        struct svm_node x[2] = {{1, (double)forget[i]}, {-1, 0}};
        non += svm_predict(model, x) == 0.0;
    }
    return non;
}

lt_status lt_mia_efficacy(const float *retain_conf, int64_t n_retain,
                          const float *test_conf, int64_t n_test,
                          const float *forget_conf, int64_t n_forget,
                          double *mia)
{
    if (!mia)
        return lt_set_error(LT_ERR_ARG, "lt_mia_efficacy: mia is NULL");
    int64_t n_m = n_retain < n_test ? n_retain : n_test;
    lt_status st = check_conf("retain_conf", retain_conf, n_retain);
    if (st == LT_OK)
        st = check_conf("test_conf", test_conf, n_test);
    if (st == LT_OK)
        st = check_conf("forget_conf", forget_conf, n_forget);
    mia_problem mp = {0};
    if (st == LT_OK)
        st = mia_problem_init(&mp, test_conf, n_test, retain_conf, n_m);
    if (st != LT_OK)
        return st;
    struct svm_parameter param = mia_svm_param();
    const char *bad = svm_check_parameter(&mp.prob, &param);
    if (bad) {
        mia_problem_free(&mp);
        return lt_set_error(LT_ERR_ARG, "lt_mia_efficacy: libsvm rejects the "
                            "problem: %s", bad);
    }
    pthread_once(&lt_svm_once, lt_svm_quiet_once); /* libsvm's one global */
    struct svm_model *model = svm_train(&mp.prob, &param);
    if (!model) {
        mia_problem_free(&mp);
        return lt_set_error(LT_ERR_NOMEM, "lt_mia_efficacy: svm_train failed");
    }
    int64_t non = count_nonmembers(model, forget_conf, n_forget);
    svm_free_and_destroy_model(&model); /* its SVs point into mp's nodes */
    mia_problem_free(&mp);
    *mia = 100.0 * (double)non / (double)n_forget;
    return LT_OK;
}

/* ---- Avg. Gap and all metrics at once ---------------------------------- */

double lt_avg_gap(const lt_unlearn_metrics *m,
                  const lt_unlearn_metrics *retrain)
{
    if (!m || !retrain)
        return NAN;
    return (fabs(m->ua - retrain->ua) + fabs(m->ra - retrain->ra) +
            fabs(m->ta - retrain->ta) + fabs(m->mia - retrain->mia)) / 4.0;
}

static lt_status check_split(const char *name, const lt_split_logits *s)
{
    if (!s)
        return lt_set_error(LT_ERR_ARG, "lt_unlearn_metrics_compute: %s is "
                            "NULL", name);
    if (s->n != s->n_labels)
        return lt_set_error(LT_ERR_SHAPE, "lt_unlearn_metrics_compute: %s has "
                            "%lld logit rows but %lld labels", name,
                            (long long)s->n, (long long)s->n_labels);
    return check_logits(name, s->logits, s->n, s->k, s->labels);
}

/* Confidences of s's items whose label != exclude; *n_out items kept. */
static float *split_confidence(const lt_split_logits *s, int32_t exclude,
                               int64_t *n_out)
{
    float *conf = malloc((size_t)s->n * sizeof *conf);
    if (!conf) {
        lt_set_error(LT_ERR_NOMEM, "lt_unlearn_metrics_compute: out of memory");
        return NULL;
    }
    if (lt_true_label_confidence(s->logits, s->n, s->k, s->labels, conf)) {
        free(conf);
        return NULL;
    }
    int64_t m = 0;
    for (int64_t i = 0; i < s->n; i++)
        if (exclude < 0 || s->labels[i] != exclude)
            conf[m++] = conf[i];
    *n_out = m;
    return conf;
}

static lt_status metrics_mia(const lt_split_logits *forget,
                             const lt_split_logits *retain,
                             const lt_split_logits *test, int32_t cls,
                             double *mia)
{
    int64_t nf = 0, nr = 0, nt = 0;
    float *cf = split_confidence(forget, -1, &nf);
    float *cr = cf ? split_confidence(retain, -1, &nr) : NULL;
    float *ct = cr ? split_confidence(test, cls, &nt) : NULL;
    lt_status st = ct ? lt_mia_efficacy(cr, nr, ct, nt, cf, nf, mia)
                      : lt_last_status();
    free(cf);
    free(cr);
    free(ct);
    return st;
}

lt_status lt_unlearn_metrics_compute(const lt_split_logits *forget,
                                     const lt_split_logits *retain,
                                     const lt_split_logits *test,
                                     int32_t forgotten_class,
                                     lt_unlearn_metrics *out)
{
    if (!out)
        return lt_set_error(LT_ERR_ARG, "lt_unlearn_metrics_compute: out is "
                            "NULL");
    lt_status st = check_split("forget", forget);
    if (st == LT_OK)
        st = check_split("retain", retain);
    if (st == LT_OK)
        st = check_split("test", test);
    if (st != LT_OK)
        return st;
    lt_unlearn_metrics m;
    st = lt_unlearn_accuracy(forget->logits, forget->n, forget->k,
                             forget->labels, &m.ua);
    if (st == LT_OK)
        st = lt_accuracy_logits(retain->logits, retain->n, retain->k,
                                retain->labels, &m.ra);
    if (st == LT_OK)
        st = lt_accuracy_logits_excluding(test->logits, test->n, test->k,
                                          test->labels, forgotten_class, &m.ta);
    if (st == LT_OK)
        st = metrics_mia(forget, retain, test, forgotten_class, &m.mia);
    if (st == LT_OK)
        *out = m;
    return st;
}
