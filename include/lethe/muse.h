/*
 * lethe/muse.h - MUSE-style evaluation of language-model unlearning on real
 * text (Debian's fortune collections), and the sequence-level membership-
 * inference attacks (MIAs) on language models it uses.
 *
 * Corpora (src/data/fortunes.c). A fortune file holds texts separated by
 * lines holding only "%" (lethe's plain-text format, see lethe/lm.h). A
 * text is kept as written minus its trailing whitespace (so the tokens of
 * a text are a prefix of the tokens training saw: text + "\n" + EOS);
 * whitespace-only texts are dropped. The MUSE-shaped set built from two
 * collections:
 *   forget  = the texts of one collection (default "literature") minus the
 *             holdout, in file order;
 *   holdout = round(holdout_frac * n) texts of the SAME collection drawn by
 *             a seeded permutation (default 0.2): same distribution as the
 *             forget set but never trained on, as MUSE's holdout;
 *   retain  = the texts of another collection (default "science").
 * Exact duplicate texts are dropped (first kept) and retain texts equal to
 * a forget-collection text are removed, so no holdout text is ever seen in
 * training.
 *
 * KnowMem QA (cloze). A tiny model trained on raw text cannot follow a QA
 * template, so each question is a text cut before a final phrase that the
 * model completes as a plain continuation, and the answer is that phrase:
 *   - a text whose last line is an attribution ("<ws>-- Name, Work"): the
 *     question is the text up to and including "--", the answer the rest
 *     of that line (who said it, and where);
 *   - otherwise: the answer is the last 3 whitespace-separated words of
 *     the text, the question everything before the space preceding them
 *     (texts of fewer than 6 words give no item).
 * The question never ends in whitespace, so its tokens are a prefix of the
 * text's tokens (byte-level BPE attaches the space to the next word).
 * Records are TOFU-shaped (question, answer; lethe/tofu.h).
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
 *
 * MUSE metrics (src/eval/muse.c):
 *   VerbMem  mean ROUGE-L F1 (stemmer on) of the greedy continuation of the
 *            first `prefix` tokens of each forget text against the text's
 *            true continuation of min(max_new, rest) tokens; the model
 *            generates that many tokens (stopping at EOS). Texts with fewer
 *            than prefix + min_cont tokens are skipped (counted).
 *   KnowMem  mean ROUGE-L F1 of the greedy continuation of each cloze
 *            question (up to qa_max_new tokens, cut at the first newline,
 *            leading blanks removed) against the answer; forget and retain
 *            QA. A question too long for the context keeps its last
 *            tokens (context - answer tokens).
 *   PrivLeak (AUC_unlearned - AUC_retrain) / AUC_retrain * 100, AUC of the
 *            Min-K% (K = 40) MIA with forget texts as members and holdout
 *            texts as non-members. NOTE the orientation: members score
 *            higher here, so an under-unlearned model (forget texts still
 *            look like members) has a POSITIVE PrivLeak; MUSE's paper
 *            orients its AUC the other way and reports it negative.
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

#include "lethe/llama.h"
#include "lethe/tofu.h"
#include "lethe/tokenizer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- texts and corpora (src/data/fortunes.c) ---------------------------- */

#define LT_FORTUNE_DIR "/usr/share/games/fortunes"

/* Documents, each NUL-terminated and owned by the set. */
typedef struct {
    char **text;
    int64_t n, cap;
} lt_text_set;

void lt_text_set_free(lt_text_set *s);
/* Append a copy of text[0..len) with its trailing whitespace removed
 * (nothing is appended when only whitespace is left). */
lt_status lt_text_set_push(lt_text_set *s, const char *text, size_t len);
/* Split len bytes into texts at lines holding only "%" (what names the
 * source in errors). out is zeroed first. LT_ERR_FORMAT if no text. */
lt_status lt_text_set_parse(const char *buf, size_t len, const char *what,
                            lt_text_set *out);
/* Read a file of "%"-separated texts (LT_ERR_IO naming it if unreadable). */
lt_status lt_text_set_load(const char *path, lt_text_set *out);
/* Write every text followed by "\n%\n", atomically. LT_ERR_ARG if a text
 * holds a line that is only "%" (it would split on reading). */
lt_status lt_text_set_save(const char *path, const lt_text_set *s);
/* A fortune collection: name without '/' is looked up in LT_FORTUNE_DIR
 * (dir NULL) or dir; anything else is a path. */
lt_status lt_fortune_load(const char *dir, const char *name,
                          lt_text_set *out);

typedef struct {
    lt_text_set forget, retain, holdout;
} lt_muse_corpus;

void lt_muse_corpus_free(lt_muse_corpus *c);
/* The split described above; holdout_frac in [0, 1). LT_ERR_ARG when the
 * forget or holdout side would be empty (holdout_frac > 0) or no retain
 * text is left. out is zeroed first. Deterministic in (inputs, seed). */
lt_status lt_muse_split(const lt_text_set *forget_src,
                        const lt_text_set *retain_src, double holdout_frac,
                        uint64_t seed, lt_muse_corpus *out);

/* The cloze item of one text (rule above): *question and *answer are
 * malloc'd. LT_ERR_ARG (no message worth showing) when the text gives no
 * item; then both are NULL. */
lt_status lt_muse_cloze(const char *text, char **question, char **answer);
/* The cloze items of every text that gives one; *n_skipped (may be NULL)
 * gets the others. out is zeroed first. */
lt_status lt_muse_cloze_set(const lt_text_set *s, lt_tofu_set *out,
                            int64_t *n_skipped);

/* Write dir/forget.txt, retain.txt, holdout.txt, train.txt (forget then
 * retain: the text the original model is trained on),
 * knowmem_forget.json and knowmem_retain.json (dir must exist). qa_max > 0
 * caps each QA file at that many items, drawn by seed (kept in text
 * order); 0 writes every item. */
lt_status lt_muse_write(const lt_muse_corpus *c, const char *dir,
                        int64_t qa_max, uint64_t seed);

/* ---- membership inference (src/eval/lm_mia.c) --------------------------- */

typedef enum {
    LT_MIA_LOSS = 0,
    LT_MIA_ZLIB,
    LT_MIA_MINK,
    LT_MIA_MINKPP,
    LT_MIA_N
} lt_mia_kind;

/* "loss", "zlib", "min_k", "min_k++". */
const char *lt_mia_name(lt_mia_kind k);

/* Mean NLL -mean(logp[0..n)); n >= 1. */
double lt_mia_loss(const float *logp, int64_t n);
/* Byte length of compress2(text, Z_DEFAULT_COMPRESSION). */
lt_status lt_zlib_len(const void *text, size_t len, size_t *out);
/* Mean NLL / zlib_len (lt_mia_loss / zlib_len). */
double lt_mia_zlib(const float *logp, int64_t n, size_t zlib_len);
/* Mean of the lowest max(1, floor(k * n)) of x[0..n); k in (0, 1]. */
double lt_mia_min_k(const float *x, int64_t n, double k);
/* (log p(target) - mu) / sigma over one row of V logits (see above). */
double lt_mia_minkpp_token(const float *logits, int64_t V, int32_t target);

/* One text's raw statistics (the four attacks at one K). */
typedef struct {
    double loss, zlib, min_k, min_k_pp;
    int64_t n_tokens; /* scored tokens */
} lt_mia_seq;

/* Higher = more likely a member: -loss, -zlib, min_k, min_k_pp. */
double lt_mia_member_score(const lt_mia_seq *s, lt_mia_kind k);
/* Mann-Whitney AUC of members against non-members (ties count 1/2); NAN
 * when either side is empty. Scores must not be NaN. */
double lt_auc(const double *members, int64_t n_members,
              const double *nonmembers, int64_t n_nonmembers);

/* Score every text of s: ids = [BOS or EOS] + tokens of the text (cut to
 * the model's context), forward passes of `batch` texts, the statistics
 * over the text's tokens at Min-K ratio k. out gets s->n entries. */
lt_status lt_mia_score_texts(lt_llama *m, const lt_tokenizer *tok,
                             const lt_text_set *s, double k, int batch,
                             lt_mia_seq *out);
/* AUC of every attack, texts of `members` against `nonmembers`. */
lt_status lt_mia_aucs(lt_llama *m, const lt_tokenizer *tok,
                      const lt_text_set *members,
                      const lt_text_set *nonmembers, double k, int batch,
                      double auc[LT_MIA_N]);

/* ---- MUSE metrics (src/eval/muse.c) ------------------------------------- */

typedef struct {
    int prefix;     /* VerbMem prompt tokens (32) */
    int max_new;    /* VerbMem continuation tokens at most (128) */
    int min_cont;   /* skip texts with fewer than prefix + min_cont (4) */
    int qa_max_new; /* KnowMem answer tokens at most (32) */
    double k;       /* Min-K% ratio for PrivLeak (0.4) */
    int batch;      /* MIA scoring batch (8) */
} lt_muse_opts;

lt_muse_opts lt_muse_defaults(void);

/* The files lt_muse_write makes (train.txt and retain.txt are not read). */
typedef struct {
    lt_text_set forget, holdout;
    lt_tofu_set qa_forget, qa_retain;
} lt_muse_data;

lt_status lt_muse_data_load(const char *dir, lt_muse_data *out);
void lt_muse_data_free(lt_muse_data *d);

/* The id put before a text as its context: BOS, else EOS, else -1. */
int32_t lt_muse_bos(const lt_tokenizer *tok);

/* Greedy continuation of prompt[0..n) by up to max_new tokens (stops at
 * the model's EOS, which is not decoded); *text malloc'd. */
lt_status lt_muse_continue(lt_llama *m, const lt_tokenizer *tok,
                           const int32_t *prompt, int64_t n,
                           int64_t max_new, char **text);

/* VerbMem over texts: *mean over the used texts (0 if none), *n_used,
 * *n_skipped; per_text (may be NULL, s->n entries) gets each F1 or NAN
 * for a skipped text. */
lt_status lt_muse_verbmem(lt_llama *m, const lt_tokenizer *tok,
                          const lt_text_set *s, const lt_muse_opts *o,
                          double *mean, int64_t *n_used, int64_t *n_skipped,
                          double *per_text);
/* The KnowMem answer text of a raw continuation: leading blanks removed,
 * cut at the first newline (in place; returns gen). */
char *lt_muse_answer_cut(char *gen);
/* KnowMem over QA: *mean F1 (0 for an empty set); per_item (may be NULL)
 * each F1; gen (may be NULL) each answer (malloc'd, caller frees). */
lt_status lt_muse_knowmem(lt_llama *m, const lt_tokenizer *tok,
                          const lt_tofu_set *qa, const lt_muse_opts *o,
                          double *mean, double *per_item, char **gen);

/* (auc - auc_retrain) / auc_retrain * 100; NAN when auc_retrain <= 0 or
 * either is NaN. */
double lt_muse_privleak(double auc, double auc_retrain);

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
lt_status lt_muse_eval(lt_llama *m, const lt_tokenizer *tok,
                       const lt_muse_data *d, const lt_muse_opts *o,
                       lt_muse_result *r);

/* The JSON of one evaluation (muse_json.c): metrics, MIA AUCs, options,
 * PrivLeak against auc_retrain (NaN: unknown); atomically to path. */
lt_status lt_muse_write_json(const char *path, const char *command,
                             const char *model, const char *dir,
                             const lt_muse_result *r, const lt_muse_opts *mo,
                             double auc_retrain);
/* The retrain model's Min-K% AUC from such a JSON; it must have been
 * computed at Min-K ratio k. */
lt_status lt_muse_retrain_auc_json(const char *path, double k, double *auc);

#ifdef __cplusplus
}
#endif
#endif
