/*
 * lethe/muse.h - MUSE-style evaluation of language-model unlearning on real
 * text (Debian's fortune collections): VerbMem, KnowMem and PrivLeak (eval
 * layer). The corpora and their cloze QA items are in lethe/fortunes.h
 * (data layer), the membership-inference attacks in lethe/lm_mia.h.
 *
 * MUSE metrics (src/eval/muse.c):
 *   VerbMem  mean ROUGE-L F1 (no stemmer, as MUSE's RougeEvalLogger; opts
 *            .stem turns the Porter stemmer on) of the greedy continuation of the
 *            first `prefix` tokens of each forget text against the text's
 *            true continuation of min(max_new, rest) tokens; the model
 *            generates that many tokens (stopping at EOS). Texts with fewer
 *            than prefix + min_cont tokens are skipped (counted).
 *   KnowMem  mean ROUGE-L F1 of the greedy continuation of each cloze
 *            question (up to qa_max_new tokens, cut at the first newline,
 *            leading blanks removed) against the answer; forget and retain
 *            QA. A question too long for the context keeps its last
 *            tokens (context - answer tokens).
 *   PrivLeak MUSE's number (metrics/privleak.py + eval.py): the Min-K%
 *            (K = 40) AUC oriented as MUSE's code orients it, forget texts
 *            labelled 0 and HOLDOUT texts labelled 1 ("member"), score
 *            -Min-K%; then (AUC_unlearned - AUC_retrain) / AUC_retrain * 100.
 *            Lethe's result structs keep every AUC with forget texts as
 *            members (a model that remembers its forget set scores high),
 *            so MUSE's AUC is 1 - auc there and lt_muse_privleak computes
 *            ((1 - a) - (1 - a_r)) / (1 - a_r) * 100. A model that still
 *            remembers its forget set comes out strongly NEGATIVE (down to
 *            -100), one that over-unlearns positive; 0 is ideal.
 * Generation is greedy (argmax, lowest id on ties, as lt_llama_generate)
 * and runs texts in parallel (one OpenMP thread per text, each with its
 * own KV cache); KnowMem stops at the first token holding a line break,
 * which gives the same answer as generating all qa_max_new tokens and
 * cutting. MIA scoring runs padded batches through the model.
 *
 * Corpus files: `lethe data muse` caps each KnowMem file at 200 items by
 * default (a seeded draw), which keeps a tiny model's whole evaluation
 * near half a minute of CPU.
 */
#ifndef LETHE_MUSE_H
#define LETHE_MUSE_H

#include "lethe/fortunes.h"
#include "lethe/llama.h"
#include "lethe/lm_mia.h"
#include "lethe/tofu.h"
#include "lethe/tokenizer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- MUSE metrics (src/eval/muse.c) ------------------------------------- */

typedef struct {
    int prefix;     /* VerbMem prompt tokens (32) */
    int max_new;    /* VerbMem continuation tokens at most (128) */
    int min_cont;   /* skip texts with fewer than prefix + min_cont (4) */
    int qa_max_new; /* KnowMem answer tokens at most (32) */
    double k;       /* Min-K% ratio for PrivLeak (0.4) */
    int batch;      /* MIA scoring batch (8) */
    bool stem;      /* Porter-stem ROUGE tokens (false: MUSE's scorer) */
} lt_muse_opts;

LT_API lt_muse_opts lt_muse_defaults(void);

/* The files lt_muse_write makes (train.txt and retain.txt are not read). */
typedef struct {
    lt_text_set forget, holdout;
    lt_tofu_set qa_forget, qa_retain;
} lt_muse_data;

LT_API lt_status lt_muse_data_load(const char *dir, lt_muse_data *out);
LT_API void lt_muse_data_free(lt_muse_data *d);

/* Greedy continuation of prompt[0..n) by up to max_new tokens (stops at
 * the model's EOS, which is not decoded); *text malloc'd. */
LT_API lt_status lt_muse_continue(lt_llama *m, const lt_tokenizer *tok,
                                  const int32_t *prompt, int64_t n,
                                  int64_t max_new, char **text);

/* VerbMem over texts: *mean over the used texts (0 if none), *n_used,
 * *n_skipped; per_text (may be NULL, s->n entries) gets each F1 or NAN
 * for a skipped text. */
LT_API lt_status lt_muse_verbmem(lt_llama *m, const lt_tokenizer *tok,
                                 const lt_text_set *s, const lt_muse_opts *o,
                                 double *mean, int64_t *n_used,
                                 int64_t *n_skipped, double *per_text);
/* The KnowMem answer text of a raw continuation: leading blanks removed,
 * cut at the first newline (in place; returns gen). */
LT_API char *lt_muse_answer_cut(char *gen);
/* KnowMem over QA: *mean F1 (0 for an empty set); per_item (may be NULL)
 * each F1; gen (may be NULL) each answer (malloc'd, caller frees). */
LT_API lt_status lt_muse_knowmem(lt_llama *m, const lt_tokenizer *tok,
                                 const lt_tofu_set *qa, const lt_muse_opts *o,
                                 double *mean, double *per_item, char **gen);

/* MUSE's PrivLeak from Lethe-oriented Min-K% AUCs (forget texts as
 * members): with MUSE's AUC u = 1 - auc and r = 1 - auc_retrain, returns
 * (u - r) / r * 100; NAN when r <= 0 or either input is NaN. */
LT_API double lt_muse_privleak(double auc, double auc_retrain);

typedef struct {
    double verbmem;
    int64_t verbmem_n, verbmem_skipped;
    double knowmem_forget, knowmem_retain;
    int64_t knowmem_forget_n, knowmem_retain_n;
    double auc[LT_MIA_N];   /* forget (members) vs holdout, at opts.k */
    double seconds;
} lt_muse_result;

/* Every metric above for one model (PrivLeak needs a second model's
 * auc[LT_MIA_MINK]: lt_muse_privleak). */
LT_API lt_status lt_muse_eval(lt_llama *m, const lt_tokenizer *tok,
                              const lt_muse_data *d, const lt_muse_opts *o,
                              lt_muse_result *r);

/* The JSON of one evaluation (muse_json.c): metrics, MIA AUCs, options,
 * PrivLeak against auc_retrain (NaN: unknown), the process default
 * precision and the backend; atomically to path. */
LT_API lt_status lt_muse_write_json(const char *path, const char *command,
                             const char *model, const char *dir,
                             const lt_muse_result *r, const lt_muse_opts *mo,
                             double auc_retrain);
/* The retrain model's Min-K% AUC from such a JSON; it must have been
 * computed at Min-K ratio k. */
LT_API lt_status lt_muse_retrain_auc_json(const char *path, double k, double *auc);
/* PrivLeak's reference: the Min-K% AUC (at o->k, batch o->batch) of the
 * retrain model saved at model (tokenizer tok, NULL: the one beside it),
 * or, when json is given instead, read from it (lt_muse_retrain_auc_json);
 * NAN when neither is given. Errors name the model. */
LT_API lt_status lt_muse_retrain_auc(const char *model, const char *tok,
                                     const char *json, const lt_muse_data *d,
                                     const lt_muse_opts *o, double *auc);

#ifdef __cplusplus
}
#endif
#endif
