/*
 * lethe/tofu_eval.h - the TOFU benchmark's evaluation (eval layer), as
 * locuslab/tofu's evaluate_util.py and aggregate_eval_stat.py compute it.
 *
 * Per split (a TOFU file whose records carry paraphrased_answer and
 * perturbed_answer), per record:
 *   gt NLL        mean token NLL of the answer given the question (the
 *                 lt_lm_data_add_qa example: question masked, answer + EOS
 *                 scored) - TOFU's avg_gt_loss;
 *   base NLL      the same for the paraphrased answer (forget and retain
 *                 splits) or for the answer itself (utility splits: TOFU's
 *                 base_answer_key is "answer" for real_authors and
 *                 world_facts) - TOFU's avg_paraphrased_loss;
 *   perturbed NLL the same for each perturbed answer (average_perturb_loss);
 *   probability   exp(-gt NLL) (forget, retain) or, on utility splits,
 *                 p_true / (p_true + sum_k p_k), every p = exp(-mean NLL);
 *   ROUGE-L       recall of the greedy answer against "answer" (rouge_score,
 *                 stemmer on; TOFU's rougeL_recall);
 *   truth ratio   R = exp(mean_k perturbed NLL_k - base NLL).
 * Split aggregates: mean probability, mean ROUGE-L recall, and the truth-
 * ratio statistic mean(min(R, 1/R)) on the forget split, mean(max(0,
 * 1 - 1/R)) on the others.
 * Forget quality = the p-value of the two-sample KS test (lt_ks_2samp)
 * between the forget-split R of the evaluated model and of the retain
 * model. Model utility = the harmonic mean of the nine numbers {probability,
 * ROUGE-L, truth ratio} x {retain, real authors, world facts} (0 if any is 0).
 */
#ifndef LETHE_TOFU_EVAL_H
#define LETHE_TOFU_EVAL_H

#include "lethe/llama.h"
#include "lethe/tofu.h"
#include "lethe/tokenizer.h"

#include <cjson/cJSON.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Which aggregate a split uses. */
typedef enum {
    LT_TOFU_FORGET = 0,  /* min(R, 1/R); probability exp(-NLL) */
    LT_TOFU_RETAIN = 1,  /* max(0, 1 - 1/R); probability exp(-NLL) */
    LT_TOFU_UTILITY = 2  /* max(0, 1 - 1/R); normalised probability; the
                            truth ratio's base is the answer itself */
} lt_tofu_split_kind;

typedef struct {
    int64_t max_items;      /* first N records (TOFU's ds_size: 300); 0 all */
    int64_t max_new_tokens; /* greedy answer tokens at most; 0: TOFU's cap
                               (max_length below); LT_TOFU_GEN_SHORT: the
                               split's longest answer (+ EOS) plus 8, a
                               faster cap that can only lower ROUGE-L;
                               always within the context */
    int64_t max_length;     /* TOFU's generation.max_length (200): prompt +
                               answer tokens in all, used when
                               max_new_tokens is 0 */
    int batch;              /* sequences per scoring forward pass (16) */
    int threads;            /* greedy decoding threads, one item each;
                               0: omp_get_max_threads() */
    bool generate;          /* false: skip generation (ROUGE-L left 0) */
} lt_tofu_eval_opts;

/* max_new_tokens value for Lethe's older, shorter cap (longest answer + 8). */
#define LT_TOFU_GEN_SHORT (-1)

/* max_items 300, max_new_tokens 0, max_length 200, batch 16, threads 0,
 * generate true. */
LT_API lt_tofu_eval_opts lt_tofu_eval_defaults(void);

/* The evaluation of one split; per-item arrays hold n entries. */
typedef struct {
    int kind;              /* lt_tofu_split_kind */
    int64_t n;
    double *gt_nll;        /* mean token NLL of the answer */
    double *base_nll;      /* of the paraphrased answer (or the answer) */
    int64_t *pert_off;     /* n + 1 offsets into pert_nll */
    double *pert_nll;      /* mean token NLL of each perturbed answer */
    double *prob;          /* per-item probability (normalised: utility) */
    double *rouge;         /* ROUGE-L recall of the greedy answer */
    double *truth_ratio;   /* R */
    char **generated;      /* greedy answers (NULL entries if not run) */
    double prob_mean, rouge_mean, truth_ratio_stat; /* the aggregates */
} lt_tofu_split_eval;

/* ---- the arithmetic (no model) ------------------------------------------ */

/* R = exp(mean_k pert[k] - base) for k pert values (mean token NLLs). */
LT_API double lt_tofu_truth_ratio(double base_nll, const double *pert, int k);
/* mean(min(R, 1/R)) when forget, else mean(max(0, 1 - 1/R)). */
LT_API double lt_tofu_truth_ratio_stat(const double *tr, int64_t n,
                                       bool forget);
/* exp(-gt) / (exp(-gt) + sum_k exp(-pert[k])). */
LT_API double lt_tofu_normalized_prob(double gt_nll, const double *pert, int k);
/* Fill prob, truth_ratio and the three aggregates of e from its gt_nll,
 * base_nll, pert_off/pert_nll and rouge arrays (all allocated, n >= 1). */
LT_API lt_status lt_tofu_split_finish(lt_tofu_split_eval *e);
/* Allocate the arrays of e for n items and n_pert perturbed answers in all
 * (zeroed; e->kind set). */
LT_API lt_status lt_tofu_split_alloc(lt_tofu_split_eval *e, int kind, int64_t n,
                                     int64_t n_pert);
LT_API void lt_tofu_split_eval_free(lt_tofu_split_eval *e);

/* ---- with a model --------------------------------------------------------- */

/* Evaluate m on the first min(n, o->max_items) records of set. Every record
 * needs >= 1 perturbed answer, and forget/retain records a paraphrased
 * answer (LT_ERR_ARG naming set->path and the record otherwise). The NLLs
 * come from lt_lm_score (batched, no tape); greedy answers are decoded in
 * parallel, one item per thread, each with its own KV cache and arena, and
 * are identical to lt_lm_answer's. out is zeroed first; freed on error. */
LT_API lt_status lt_tofu_eval_split(lt_llama *m, const lt_tokenizer *tok,
                                    const lt_tofu_set *set, int kind,
                                    const lt_tofu_eval_opts *o,
                                    lt_tofu_split_eval *out);

/* Forget quality: the KS p-value between tr (the evaluated model's forget
 * truth ratios, n) and tr_retain (the retain model's, m); ks (may be NULL)
 * gets the statistic. */
LT_API lt_status lt_tofu_forget_quality(const double *tr, int64_t n,
                                        const double *tr_retain, int64_t m,
                                        double *fq, double *ks);
/* The harmonic mean of the 9 aggregates of the three splits. */
LT_API double lt_tofu_model_utility(const lt_tofu_split_eval *retain,
                                    const lt_tofu_split_eval *real_authors,
                                    const lt_tofu_split_eval *world_facts);

/* ---- JSON ------------------------------------------------------------------ */

/* {"kind", "n", "prob", "rouge_l_recall", "truth_ratio" (the aggregates),
 *  "items": {"avg_gt_loss", "avg_paraphrased_loss", "average_perturb_loss"
 *  (list per item), "prob", "rougeL_recall", "truth_ratio" (R),
 *  "generated_text"}} - NULL if out of memory. */
LT_API cJSON *lt_tofu_split_json(const lt_tofu_split_eval *e);
/* The per-item truth ratios of the forget split in an evaluation JSON
 * written by `lethe lm eval --benchmark tofu` ("splits" -> "forget" ->
 * "items" -> "truth_ratio"); *tr is malloc'd. LT_ERR_IO / LT_ERR_FORMAT
 * naming path. */
LT_API lt_status lt_tofu_eval_json_forget_tr(const char *path, double **tr,
                                             int64_t *n);

/* ---- a whole evaluation of one model (tofu_eval_model.c) ------------------ */

enum { LT_TOFU_SPLIT_FORGET, LT_TOFU_SPLIT_RETAIN, LT_TOFU_SPLIT_REAL,
       LT_TOFU_SPLIT_WORLD, LT_TOFU_SPLITS };
/* "forget", "retain", "real_authors", "world_facts" (NULL out of range). */
LT_API const char *lt_tofu_split_name(int split);

typedef struct {
    const char *model, *tok;             /* tok NULL: beside the model */
    const char *file[LT_TOFU_SPLITS];    /* TOFU files; NULL: skipped */
    const char *retain_model, *retain_tok; /* forget quality against ... */
    const char *retain_json;             /* ... or an earlier JSON */
    int max_items;                       /* per split (300; 0: all) */
    int max_new;                         /* greedy answer tokens (0: up to
                                            max_length in all, TOFU's cap;
                                            LT_TOFU_GEN_SHORT: longest
                                            answer + 8) */
    int max_length;                      /* prompt + answer tokens (200) */
    int batch;                           /* sequences per scoring pass (16) */
} lt_tofu_eval_cfg;

typedef struct {
    lt_tofu_split_eval split[LT_TOFU_SPLITS];
    bool have[LT_TOFU_SPLITS];
    double *tr_ret;                      /* the retain model's forget R */
    int64_t n_ret;
    double fq, ks, mu;                   /* NaN when not computable */
} lt_tofu_eval_result;

LT_API lt_tofu_eval_cfg lt_tofu_eval_cfg_defaults(void);
/* Evaluate every given split of c->model; forget quality when a retain
 * model or JSON is given (needs the forget split), model utility when the
 * retain and both utility splits are given. */
LT_API lt_status lt_tofu_eval_model(const lt_tofu_eval_cfg *c,
                             lt_tofu_eval_result *r);
LT_API void lt_tofu_eval_result_free(lt_tofu_eval_result *r);
/* {"benchmark", "command", "model", "precision", "backend" (the process
 * default precision: the one the evaluation ran in), "splits": {name:
 * per-item JSON},
 * "forget_quality", "ks_statistic", "model_utility"} atomically to path. */
LT_API lt_status lt_tofu_eval_write_json(const lt_tofu_eval_cfg *c,
                                  const lt_tofu_eval_result *r,
                                  const char *command, const char *path);

#ifdef __cplusplus
}
#endif
#endif
