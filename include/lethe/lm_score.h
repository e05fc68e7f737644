/*
 * lethe/lm_score.h - per-QA scores of a language model (eval layer): for
 * each record of a TOFU QA set, the summed and mean token NLL of its
 * answer given the question (the lt_lm_data_add_qa example), and
 * optionally the greedy answer with its ROUGE-L recall to the gold answer
 * (rouge_score's definition, stemmer on); the set's means; and the JSON
 * document `lethe lm score --json` writes.
 */
#ifndef LETHE_LM_SCORE_H
#define LETHE_LM_SCORE_H

#include "lethe/llama.h"
#include "lethe/tofu.h"
#include "lethe/tokenizer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int batch;        /* sequences per scoring pass (16) */
    int max_new;      /* greedy answer tokens; 0: no answers (64) */
    /* after each greedy answer: done of total records (may be NULL) */
    void (*progress)(void *ud, int64_t done, int64_t total);
    void *ud;
} lt_lm_qa_score_opts;

typedef struct {
    int64_t n;
    double *nll;        /* summed answer NLL of each record */
    int32_t *count;     /* its scored tokens (answer + EOS) */
    char **gen;         /* its greedy answer; all NULL without answers */
    double *rouge;      /* ROUGE-L recall of gen against the answer */
    bool generated;     /* greedy answers were made (max_new > 0) */
    double mean_nll;    /* mean over records of nll / count */
    double prob;        /* mean over records of exp(-nll / count) */
    double rouge_mean;  /* mean ROUGE-L recall (0 without answers) */
    double exact;       /* share of answers equal to the gold one */
} lt_lm_qa_scores;

/* batch 16, max_new 64, no progress callback. */
LT_API lt_lm_qa_score_opts lt_lm_qa_score_defaults(void);
/* Score every record of qa with m (EOS pads the batches; answers stop at
 * EOS). out is zeroed first; free it with lt_lm_qa_scores_free, also
 * after an error. */
LT_API lt_status lt_lm_qa_score(lt_llama *m, const lt_tokenizer *t,
                                const lt_tofu_set *qa,
                                const lt_lm_qa_score_opts *o,
                                lt_lm_qa_scores *out);
LT_API void lt_lm_qa_scores_free(lt_lm_qa_scores *s);
/* {"command", "precision", "backend" (the process default precision: the
 * one the scores ran in under the CLI), "n", "mean_token_nll", "probability", ["rouge_l_recall",
 * "exact_match",] "items": [{"question", "answer", "nll_sum", "nll_mean",
 * "n_tokens"[, "generated", "rouge_l_recall"]}]} atomically to path. */
LT_API lt_status lt_lm_qa_scores_write_json(const lt_lm_qa_scores *s,
                                            const lt_tofu_set *qa,
                                            const char *command,
                                            const char *path);

#ifdef __cplusplus
}
#endif
#endif
