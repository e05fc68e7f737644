/*
 * lethe/lm_mia.h - sequence-level membership-inference attacks (MIAs) on
 * language models (eval layer), used by MUSE's PrivLeak (lethe/muse.h).
 *
 * MIAs (src/eval/lm_mia.c), from the token log-probs log p(x_t | x_<t) of
 * a text (t over the text's tokens, with BOS/EOS as the first context):
 *   LOSS      mean token NLL
 *   zlib      mean token NLL / zlib-compressed byte length of the text
 *             (zlib's default level, as Python's zlib.compress): the
 *             log-perplexity / zlib-entropy ratio of Carlini et al.'s,
 *             Min-K%++'s and MUSE's code (all use the mean, not the sum)
 *   Min-K%    mean of the lowest K% token log-probs (K = 40 for PrivLeak;
 *             max(1, floor(K * n)) tokens, as the official code's int())
 *   Min-K%++  the Min-K% of z_t = (log p(x_t) - mu_t) / sigma_t, mu_t and
 *             sigma_t the mean and standard deviation of log p(z) for
 *             z ~ p(. | x_<t) over the vocabulary (z_t = 0 when
 *             sigma_t < 1e-6: a flat distribution, where the official
 *             code divides by 0).
 * lt_mia_member_score orients every score so that members score higher
 * (LOSS and zlib negated). ROC AUC is the Mann-Whitney statistic
 * P(member score > non-member score) + P(equal) / 2.
 */
#ifndef LETHE_LM_MIA_H
#define LETHE_LM_MIA_H

#include "lethe/fortunes.h"
#include "lethe/llama.h"
#include "lethe/tokenizer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- membership inference (src/eval/lm_mia.c) --------------------------- */

typedef enum {
    LT_MIA_LOSS = 0,
    LT_MIA_ZLIB,
    LT_MIA_MINK,
    LT_MIA_MINKPP,
    LT_MIA_N
} lt_mia_kind;

/* "loss", "zlib", "min_k", "min_k++". */
LT_API const char *lt_mia_name(lt_mia_kind k);

/* Mean NLL -mean(logp[0..n)); n >= 1. */
LT_API double lt_mia_loss(const float *logp, int64_t n);
/* Byte length of compress2(text, Z_DEFAULT_COMPRESSION). */
LT_API lt_status lt_zlib_len(const void *text, size_t len, size_t *out);
/* Mean NLL / zlib_len (lt_mia_loss / zlib_len). */
LT_API double lt_mia_zlib(const float *logp, int64_t n, size_t zlib_len);
/* Mean of the lowest max(1, floor(k * n)) of x[0..n); k in (0, 1]. */
LT_API double lt_mia_min_k(const float *x, int64_t n, double k);
/* (log p(target) - mu) / sigma over one row of V logits (see above). */
LT_API double lt_mia_minkpp_token(const float *logits, int64_t V,
                                  int32_t target);

/* One text's raw statistics (the four attacks at one K). */
typedef struct {
    double loss, zlib, min_k, min_k_pp;
    int64_t n_tokens; /* scored tokens */
} lt_mia_seq;

/* Higher = more likely a member: -loss, -zlib, min_k, min_k_pp. */
LT_API double lt_mia_member_score(const lt_mia_seq *s, lt_mia_kind k);
/* Mann-Whitney AUC of members against non-members (ties count 1/2); NAN
 * when either side is empty. Scores must not be NaN. */
LT_API double lt_auc(const double *members, int64_t n_members,
                     const double *nonmembers, int64_t n_nonmembers);

/* Score every text of s: ids = [BOS or EOS] + tokens of the text (cut to
 * the model's context), forward passes of `batch` texts, the statistics
 * over the text's tokens at Min-K ratio k. out gets s->n entries. */
LT_API lt_status lt_mia_score_texts(lt_llama *m, const lt_tokenizer *tok,
                                    const lt_text_set *s, double k, int batch,
                                    lt_mia_seq *out);
/* AUC of every attack, texts of `members` against `nonmembers`. */
LT_API lt_status lt_mia_aucs(lt_llama *m, const lt_tokenizer *tok,
                             const lt_text_set *members,
                             const lt_text_set *nonmembers, double k, int batch,
                             double auc[LT_MIA_N]);

#ifdef __cplusplus
}
#endif
#endif
