/*
 * lethe/metrics.h - the metrics of classification unlearning (SalUn /
 * Unlearn-Sparse protocol), on plain arrays:
 *   UA  = 100 - accuracy on the forget set,
 *   RA  = accuracy on the retain set,
 *   TA  = accuracy on the test set (class-wise forgetting: the forgotten
 *         class is left out),
 *   MIA = MIA-efficacy: the share of forget items that a membership
 *         classifier, fitted on true-label confidences of retain (member)
 *         and test (non-member) items, calls non-members,
 *   Avg. Gap = mean over {UA, RA, TA, MIA} of |method - Retrain|.
 * All values are percentages in [0, 100]. Logits are row-major float32
 * [n, k]; labels are int32 in [0, k). Every function returns LT_OK or an
 * error status with lt_last_error() naming the argument (and the index of
 * a bad element).
 */
#ifndef LETHE_METRICS_H
#define LETHE_METRICS_H

#include "lethe/core.h"
#include "lethe/methods.h"
#include "lethe/unlearn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Predicted class of each row of logits [n, k]: the first maximum
 * (torch.argmax order). NaN logits are an error. */
LT_API lt_status lt_argmax_rows(const float *logits, int64_t n, int64_t k,
                                int32_t *pred);

/* Accuracy (%) of predicted labels pred[n] against labels[n]. */
LT_API lt_status lt_accuracy_pred(const int32_t *pred, const int32_t *labels,
                                  int64_t n, double *acc);

/* Accuracy (%) of logits [n, k] against labels[n]. */
LT_API lt_status lt_accuracy_logits(const float *logits, int64_t n, int64_t k,
                                    const int32_t *labels, double *acc);

/* Accuracy (%) over the items whose label != exclude (class-wise TA);
 * exclude < 0 keeps every item. No item left is an error. */
LT_API lt_status lt_accuracy_logits_excluding(const float *logits, int64_t n,
                                              int64_t k, const int32_t *labels,
                                              int32_t exclude, double *acc);

/* UA (%) = 100 - accuracy of logits [n, k] on the forget set. */
LT_API lt_status lt_unlearn_accuracy(const float *logits, int64_t n, int64_t k,
                                     const int32_t *labels, double *ua);

/* conf[i] = softmax(logits[i])[labels[i]], computed stably in double
 * (max subtracted) and rounded to float. */
LT_API lt_status lt_true_label_confidence(const float *logits, int64_t n,
                                          int64_t k, const int32_t *labels,
                                          float *conf);

/* MIA-efficacy (%), official SalUn semantics. Fits libsvm C-SVC (RBF,
 * C = 3, gamma = 1, eps 1e-3, cache 200 MB, shrinking, no probability:
 * scikit-learn's SVC(C=3, gamma="auto") on a 1-D feature) on the first
 * min(n_retain, n_test) retain confidences labelled member (1) and all
 * test confidences labelled non-member (0); returns 100 x the share of
 * forget confidences predicted non-member. The training rows are given to
 * libsvm non-members first, which is the order scikit-learn's libsvm
 * (sorted labels) solves in. NaN or infinite confidences are an error
 * naming the set and index. */
LT_API lt_status lt_mia_efficacy(const float *retain_conf, int64_t n_retain,
                                 const float *test_conf, int64_t n_test,
                                 const float *forget_conf, int64_t n_forget,
                                 double *mia);

typedef struct {
    double ua, ra, ta, mia; /* percentages */
} lt_unlearn_metrics;

/* Mean over {UA, RA, TA, MIA} of |m - retrain|. */
LT_API double lt_avg_gap(const lt_unlearn_metrics *m,
                         const lt_unlearn_metrics *retrain);

/* One split's model outputs: logits [n, k] and n_labels labels (the two
 * counts must agree; they come from different files in practice). */
typedef struct {
    const float *logits;
    int64_t n, k;
    const int32_t *labels;
    int64_t n_labels;
} lt_split_logits;

/* All four metrics from the forget, retain and test splits. For class-wise
 * forgetting pass the forgotten class (else -1): the test items of that
 * class are then left out of TA and of the MIA's non-member set. */
LT_API lt_status lt_unlearn_metrics_compute(const lt_split_logits *forget,
                                            const lt_split_logits *retain,
                                            const lt_split_logits *test,
                                            int32_t forgotten_class,
                                            lt_unlearn_metrics *out);

/* ---- of a model (needs the model, data and forget-set layers) ---------- */

/* Logits [d->n, classes] of m over d (eval mode, malloc'ed: the caller
 * frees), or NULL with the error set. */
LT_API float *lt_model_logits(lt_model *m, const lt_dataset *d);
/* The four metrics from train logits ltr [tr->n, k] and test logits lte
 * [te->n, k], split into forget and retain rows by f. Thread-safe. */
LT_API lt_status lt_unlearn_metrics_from_logits(const float *ltr, const float *lte,
                                         int k, const lt_dataset *tr,
                                         const lt_dataset *te,
                                         const lt_forget_set *f,
                                         lt_unlearn_metrics *out);
/* The same from the model itself. */
LT_API lt_status lt_unlearn_metrics_of(lt_model *m, const lt_dataset *tr,
                                const lt_dataset *te, const lt_forget_set *f,
                                lt_unlearn_metrics *out);

/* ---- JSON records (src/eval/unlearn_json.c) ----------------------------- */

/* One unlearning run: the paths of the model it started from and of the
 * result, the optimizer's name as given, the config, forget set and
 * report of lt_unlearn_run and the metrics of the result. */
typedef struct {
    const char *model, *out, *optim;
    const lt_unlearn_cfg *cfg;
    const lt_forget_set *forget;
    const lt_unlearn_report *report;
    lt_unlearn_metrics metrics;
} lt_unlearn_record;

/* The run as JSON, atomically to path (what `lethe unlearn --json`
 * writes): method, model, out, forget, n_forget, seed, mask, optim, lr,
 * epochs, steps, UA, RA, TA, MIA, rte_s (the run time), precision (the
 * cfg's, LT_PRECISION_DEFAULT read as the process default) and backend. */
LT_API lt_status lt_unlearn_save_json(const char *path,
                                      const lt_unlearn_record *r);

/* Loss and accuracy (%) of a model on n items. */
typedef struct {
    int64_t n;
    double loss, accuracy;
} lt_split_score;

/* One checkpoint's evaluation: its train and test scores, or (forget not
 * NULL) its unlearning metrics for that forget set, drawn with
 * forget_seed, and optionally a Retrain checkpoint's with the Avg. Gap. */
typedef struct {
    const char *model, *data, *arch;
    lt_split_score train, test;
    const lt_forget_set *forget;
    uint64_t forget_seed;
    lt_unlearn_metrics metrics, retrain;
    bool has_retrain;
    lt_precision precision; /* of the evaluation (0: the process default) */
} lt_checkpoint_eval;

/* The evaluation as JSON, atomically to path (what `lethe eval --json`
 * writes): model, data, precision, backend, then train {n, loss,
 * accuracy}, arch and test, or
 * forget, forget_seed, n_forget, metrics {UA, RA, TA, MIA} and with a
 * Retrain retrain {...} and avg_gap. */
LT_API lt_status lt_checkpoint_eval_save_json(const char *path,
                                              const lt_checkpoint_eval *e);

#ifdef __cplusplus
}
#endif
#endif
