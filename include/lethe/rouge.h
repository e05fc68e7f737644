/*
 * lethe/rouge.h - ROUGE-L as TOFU and MUSE compute it: Google's rouge_score
 * package, RougeScorer(['rougeL'], use_stemmer=True).
 *
 * Tokenizer (rouge_score's tokenize.py): lowercase, every run of characters
 * outside [a-z0-9] becomes one space, split on spaces; with stemming, tokens
 * longer than 3 characters go through the Porter stemmer in NLTK's default
 * mode (PorterStemmer(), i.e. NLTK_EXTENSIONS - what rouge_score constructs).
 * Input is UTF-8; non-ASCII characters separate tokens, except the two whose
 * Python lower() is ASCII: U+0130 (capital I with dot) gives "i" and U+212A
 * (Kelvin sign) gives "k".
 *
 * ROUGE-L: L = length of the longest common subsequence of the token lists;
 * precision = L / |candidate|, recall = L / |reference|, f1 their harmonic
 * mean (0 when both are 0).
 */
#ifndef LETHE_ROUGE_H
#define LETHE_ROUGE_H

#include "lethe/core.h"

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    double precision, recall, f1;
} lt_rouge;

/* ROUGE-L of candidate against reference, rouge_score's tokenizer
 * (lowercase, non [a-z0-9] -> space, split) and, if stem, the Porter
 * stemmer on tokens longer than 3 characters as rouge_score does. Empty
 * inputs give zeros. NULL counts as empty. If memory runs out the result
 * is zeros and lt_last_error() says so (LT_ERR_NOMEM). */
LT_API lt_rouge lt_rouge_l(const char *candidate, const char *reference,
                           bool stem);

/* Porter stemmer, NLTK_EXTENSIONS mode (nltk.stem.porter.PorterStemmer()),
 * on a lowercase word w[0..len): stems in place and returns the new length,
 * which is never more than len; a NUL is written at w[result], so w needs
 * len + 1 bytes. Words of 1 or 2 characters are left unchanged, as NLTK
 * leaves them. */
LT_API size_t lt_porter_stem(char *w, size_t len);

#ifdef __cplusplus
}
#endif

#endif
