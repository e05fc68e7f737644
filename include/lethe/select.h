/*
 * lethe/select.h - worst-case forget sets (unlearn layer): the bi-level
 * selection of the worst-case forget-set paper (OPTML-Group/Unlearn-WorstCase,
 * data-wise/main_selmu.py with w_FT as the lower level; defaults are that
 * code's: 10 upper iterations, 10 epochs of sign-SGD at 0.01, w_lr 0.01,
 * gamma 0, w from a random binary set, losses in train mode). Weights w in [0,1]^N (one per
 * training item, or one per class) with sum m; each upper iteration resets
 * the model to the original weights, runs the lower level (sign-SGD on
 * sum_i (1 - w_i) CE_i: unlearning what w marks), takes the per-item losses
 * l at the lower solution, steps w <- w - eta (l + 2 gamma w) (the implicit
 * gradient is dropped, as in the reference) and projects w back onto
 * {w in [0,1]^N, 1'w = m}. The output is the top m of w: the items (or
 * classes) whose loss stays lowest after unlearning, i.e. the hardest to
 * forget. --easiest flips the sign of l.
 */
#ifndef LETHE_SELECT_H
#define LETHE_SELECT_H

#include "lethe/unlearn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Project w[0..n) in place onto {0 <= w_i <= 1, sum w_i = m} (Euclidean):
 * w_i = clamp(w_i - mu, 0, 1) with mu found by bisection. 0 < m < n, else
 * LT_ERR_ARG; NaN entries are LT_ERR_NAN. */
LT_API lt_status lt_project_capped_simplex(double *w, int64_t n, double m);

typedef struct {
    bool by_class;        /* one weight per class (select whole classes) */
    int64_t m;            /* items (or classes) to select, 0 < m < N (K) */
    int upper_epochs;     /* upper iterations (select_epochs, 10) */
    int lower_epochs;     /* sign-SGD passes over the data per iteration
                             (the official unlearn_steps: 10 epochs) */
    int lower_steps;      /* > 0: that many minibatch steps instead of
                             lower_epochs (Lethe's earlier short lower
                             level: 30); 0 (default): lower_epochs */
    float lower_lr;       /* sign-SGD step size (theta_lr, 0.01) */
    float upper_lr;       /* eta (w_lr, 0.01) */
    float gamma;          /* l2 weight on w (0) */
    bool init_uniform;    /* false (default, the official code): w starts
                             as a random binary set of m items (seeded);
                             true: w = m/N everywhere (class-wise always) */
    bool eval_losses;     /* false (default, the official optimize_select):
                             per-item losses in train mode (BatchNorm on
                             batch statistics), batches of `batch`; true:
                             eval mode */
    int binarize_every;   /* every B iterations set w to its top-m 0/1
                             indicator (0: only at the end) */
    bool easiest;         /* select the easiest set instead */
    int batch;            /* lower-level minibatch (256) */
    uint64_t seed;        /* lower-level minibatch order */
    void (*progress)(void *ud, int iter, int iters, double objective);
    void *ud;
} lt_select_cfg;

LT_API lt_select_cfg lt_select_defaults(void);

typedef struct {
    int64_t *idx;         /* selected training indices, ascending */
    int64_t n;
    double *objective;    /* [upper_epochs]: sum_i w_i l_i / m, the mean
                             loss of the weighted set at the lower solution
                             (gamma's term left out) */
    int n_objective;
    double seconds;
} lt_select_result;

/* Select from training set d for model m (its weights are restored to the
 * original on return). */
LT_API lt_status lt_select_worst(lt_model *m, const lt_dataset *d,
                                 const lt_select_cfg *cfg,
                                 lt_select_result *out);
LT_API void lt_select_result_free(lt_select_result *r);
/* The summary of a selection as JSON, atomically to path: the model's
 * path, d's name, the objective (worst-case or easiest), item or class,
 * m, the settings, the time, the threads, "precision" (the process
 * default: the one the selection ran in) and "backend", the class
 * histogram of the
 * selected items and the objective per upper iteration. */
LT_API lt_status lt_select_save_json(const char *path, const char *model,
                                     const lt_dataset *d,
                                     const lt_select_cfg *c,
                                     const lt_select_result *r);

#ifdef __cplusplus
}
#endif
#endif
