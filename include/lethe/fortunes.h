/*
 * lethe/fortunes.h - plain-text corpora for MUSE-style unlearning (data
 * layer): "%"-separated text sets read and written, Debian's fortune
 * collections, the forget / holdout / retain split and the cloze QA items
 * of KnowMem. The metrics that use them are in lethe/muse.h (eval layer).
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
 */
#ifndef LETHE_FORTUNES_H
#define LETHE_FORTUNES_H

#include "lethe/tofu.h"

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

LT_API void lt_text_set_free(lt_text_set *s);
/* Append a copy of text[0..len) with its trailing whitespace removed
 * (nothing is appended when only whitespace is left). LT_ERR_ARG if it
 * holds a NUL byte. */
LT_API lt_status lt_text_set_push(lt_text_set *s, const char *text, size_t len);
/* Split len bytes into texts at lines holding only "%" (what names the
 * source in errors). out is zeroed first. LT_ERR_FORMAT if no text, or
 * "what:LINE" if a NUL byte is there (texts are NUL-terminated strings). */
LT_API lt_status lt_text_set_parse(const char *buf, size_t len,
                                   const char *what, lt_text_set *out);
/* Read a file of "%"-separated texts (LT_ERR_IO naming it if unreadable). */
LT_API lt_status lt_text_set_load(const char *path, lt_text_set *out);
/* Write every text followed by "\n%\n", atomically. LT_ERR_ARG if a text
 * holds a line that is only "%" (it would split on reading). */
LT_API lt_status lt_text_set_save(const char *path, const lt_text_set *s);
/* A fortune collection: name without '/' is looked up in LT_FORTUNE_DIR
 * (dir NULL) or dir; anything else is a path. */
LT_API lt_status lt_fortune_load(const char *dir, const char *name,
                                 lt_text_set *out);
/* The file lt_fortune_load reads for name into buf; false if too long. */
LT_API bool lt_fortune_path(const char *dir, const char *name, char *buf,
                            size_t n);

typedef struct {
    lt_text_set forget, retain, holdout;
} lt_muse_corpus;

LT_API void lt_muse_corpus_free(lt_muse_corpus *c);
/* The split described above; holdout_frac in [0, 1). LT_ERR_ARG when the
 * forget or holdout side would be empty (holdout_frac > 0) or no retain
 * text is left. out is zeroed first. Deterministic in (inputs, seed). */
LT_API lt_status lt_muse_split(const lt_text_set *forget_src,
                               const lt_text_set *retain_src,
                               double holdout_frac, uint64_t seed,
                               lt_muse_corpus *out);

/* The cloze item of one text (rule above): *question and *answer are
 * malloc'd. LT_ERR_ARG (no message worth showing) when the text gives no
 * item; then both are NULL. */
LT_API lt_status lt_muse_cloze(const char *text, char **question,
                               char **answer);
/* The cloze items of every text that gives one; *n_skipped (may be NULL)
 * gets the others. out is zeroed first. */
LT_API lt_status lt_muse_cloze_set(const lt_text_set *s, lt_tofu_set *out,
                                   int64_t *n_skipped);

/* The files lt_muse_write makes in its folder (NULL-terminated). */
LT_API const char *const *lt_muse_file_names(void);
/* Write dir/forget.txt, retain.txt, holdout.txt, train.txt (forget then
 * retain: the text the original model is trained on),
 * knowmem_forget.json and knowmem_retain.json (dir must exist). qa_max > 0
 * caps each QA file at that many items, drawn by seed (kept in text
 * order); 0 writes every item. */
LT_API lt_status lt_muse_write(const lt_muse_corpus *c, const char *dir,
                               int64_t qa_max, uint64_t seed);

/* ---- a corpus folder in one call (src/data/muse_build.c) ----------------- */

typedef struct {
    const char *fortune_dir;  /* where collections are found (NULL:
                                 LT_FORTUNE_DIR) */
    const char *forget, *retain; /* collection names or paths */
    int64_t max_texts;        /* first N texts of each collection; 0: all */
    double holdout_frac;      /* as lt_muse_split */
    uint64_t seed;            /* the holdout draw and the QA subsample */
    int64_t qa_max;           /* as lt_muse_write */
} lt_muse_build_cfg;

/* The defaults: literature forgotten, science retained, 20% of the forget
 * collection held out, 200 QA items per file, seed 1, every text. */
LT_API lt_muse_build_cfg lt_muse_build_defaults(void);

typedef struct {
    int64_t forget, holdout, retain;  /* texts written */
    int64_t qa_forget, qa_retain;     /* cloze QA items written */
} lt_muse_build_info;

/* Load both collections (lt_fortune_load, cut to max_texts), split them
 * (lt_muse_split), create dir if missing and write the corpus there
 * (lt_muse_write). info (may be NULL) gets the sizes. */
LT_API lt_status lt_muse_build(const lt_muse_build_cfg *c, const char *dir,
                               lt_muse_build_info *info);

#ifdef __cplusplus
}
#endif
#endif
