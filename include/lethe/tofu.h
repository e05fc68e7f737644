/*
 * lethe/tofu.h - question-answer data in the shape of the TOFU benchmark
 * (data layer): a loader and an atomic writer for TOFU's JSON files, a
 * generator of a synthetic TOFU-shaped set of fictitious authors, and
 * general-knowledge QA sets built from WordNet glosses (real text) that
 * stand in for TOFU's world_facts utility set.
 *
 * A TOFU record is a JSON object with
 *   "question"             string (required)
 *   "answer"               string (required)
 *   "paraphrased_question" string (optional; TOFU's perturbed files carry it)
 *   "paraphrased_answer"   string (optional)
 *   "perturbed_answer"     list of strings (optional)
 * Other keys are ignored; JSON null counts as absent. A file is either JSON
 * Lines (one object per line, as the TOFU Hugging Face dataset ships them)
 * or one JSON array of objects. Errors name the file and the line
 * ("path:LINE: ...").
 */
#ifndef LETHE_TOFU_H
#define LETHE_TOFU_H

#include "lethe/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One QA record. All strings are UTF-8, NUL-terminated and owned by the
 * set that holds the record. */
typedef struct {
    char *question;
    char *answer;
    char *paraphrased_question; /* NULL when absent */
    char *paraphrased_answer;   /* NULL when absent */
    char **perturbed_answer;    /* n_perturbed strings; NULL when none */
    int n_perturbed;
} lt_tofu_qa;

/* The records of one file (or of a set built in memory). */
typedef struct {
    char *path;      /* file it was loaded from; NULL if built in memory */
    lt_tofu_qa *qa;
    int64_t n;
    int64_t cap;
} lt_tofu_set;

/* ---- loading and writing ----------------------------------------------- */

/* Read a TOFU file (JSON Lines or a JSON array) into out (zeroed first).
 * Blank lines in JSON Lines are skipped; a UTF-8 byte-order mark is
 * accepted. Errors: LT_ERR_IO (cannot open/read), LT_ERR_FORMAT with
 * "path:LINE: ..." for malformed JSON, a record that is not an object, a
 * missing required field, a field of the wrong type, a string that is not
 * valid UTF-8, or a file without records. On error out is left empty. */
LT_API lt_status lt_tofu_load(const char *path, lt_tofu_set *out);
/* Release every string and the record array; s is left empty. NULL ok. */
LT_API void lt_tofu_free(lt_tofu_set *s);
/* The records of a comma-separated list of TOFU files, in order (at least
 * one record in all); on error *out is left empty. */
LT_API lt_status lt_tofu_load_list(const char *list, lt_tofu_set *out);

/* Append a copy of one record (paraphrased_* may be NULL, perturbed may be
 * NULL when n_perturbed is 0). Strings must be valid UTF-8 (LT_ERR_ARG
 * otherwise); LT_ERR_NOMEM if out of memory. */
LT_API lt_status lt_tofu_push(lt_tofu_set *s, const char *question,
                              const char *answer,
                              const char *paraphrased_question,
                              const char *paraphrased_answer,
                              const char *const *perturbed, int n_perturbed);

/* Which fields lt_tofu_save_range writes. */
enum {
    LT_TOFU_QA_ONLY = 0,  /* question and answer (TOFU's full/forget/retain) */
    LT_TOFU_ALL = 1       /* plus the paraphrased and perturbed fields */
};

/* Write records [first, first + count) of s as JSON Lines to path, keys in
 * the order question, answer, paraphrased_question, paraphrased_answer,
 * perturbed_answer (absent ones left out). UTF-8 is written as is (only
 * '"', '\\' and control characters are escaped); invalid UTF-8 is refused
 * (LT_ERR_ARG naming the record). The file is written to a temporary file
 * beside path and renamed over it, so path is never left half written.
 * count must be >= 1. */
LT_API lt_status lt_tofu_save_range(const char *path, const lt_tofu_set *s,
                                    int64_t first, int64_t count, int fields);
/* All records, all fields. */
LT_API lt_status lt_tofu_save(const char *path, const lt_tofu_set *s);

/* ---- synthetic fictitious authors ---------------------------------------- */

#define LT_TOFU_QA_PER_AUTHOR 20
#define LT_TOFU_N_PERTURBED 5
#define LT_TOFU_MAX_AUTHORS 1000

/* The facts of one fictitious author. The const char * fields point into
 * static tables of the generator; the records of author k in a generated
 * set are items [20k, 20k + 20). */
typedef struct {
    char name[64];              /* unique within one generated set */
    bool female;                /* decides the pronouns (she/her, he/his) */
    const char *city, *country; /* birthplace */
    const char *language;       /* of the birth country */
    int birth_year, birth_month, birth_day; /* month 1..12, day 1..28 */
    const char *genre;          /* e.g. "historical fiction" */
    const char *father_job, *mother_job; /* with article: "a carpenter" */
    const char *award;
    int award_year;
    int n_books;                /* 2 or 3 */
    char books[3][80];          /* titles, unique within one set */
    int first_pub_year;         /* year books[0] (the debut) came out */
    const char *themes[2];
    const char *habit;          /* writing routine, "late at night ..." */
    const char *subject;        /* studied at the university below */
    const char *university;     /* a town: "the University of <town>" */
    const char *home_city, *home_country; /* residence, != birthplace */
} lt_tofu_author;

/* The facts of authors 0..authors-1 for seed (authors in 2..1000); out
 * must hold authors entries. Deterministic in (authors, seed). */
LT_API lt_status lt_tofu_synth_authors(int authors, uint64_t seed,
                                       lt_tofu_author *out);

/* The full synthetic set in memory: 20 records per author in a fixed
 * question order, each with a paraphrased question, a paraphrased answer
 * and LT_TOFU_N_PERTURBED perturbed answers (the paraphrased answer's
 * sentence with the fact swapped for a plausible wrong one of the same
 * kind). out is zeroed first. */
LT_API lt_status lt_tofu_synth_set(int authors, uint64_t seed,
                                   lt_tofu_set *out);

/* Authors in the forget split of a given percent (1, 5 or 10 in TOFU):
 * round(authors * percent / 100), at least 1. The forget split is the LAST
 * that many authors, the retain split the others, as in TOFU. */
LT_API int lt_tofu_forget_authors(int authors, int percent);

/* Write TOFU's file set into out_dir (created if missing):
 *   full.json, forget01.json, forget05.json, forget10.json, retain90.json,
 *   retain95.json, retain99.json (question + answer only), and
 *   forget01_perturbed.json, forget05_perturbed.json,
 *   forget10_perturbed.json, retain_perturbed.json (all fields; the retain
 *   evaluation set is the FIRST lt_tofu_forget_authors(authors, 10)
 *   authors, who are in every retain split).
 * Byte-identical output for the same (authors, seed). */
LT_API lt_status lt_tofu_synth(int authors, uint64_t seed, const char *out_dir);

/* ---- WordNet general-knowledge QA ---------------------------------------- */

/* Debian's wordnet-base location, used when wordnet_dir is NULL. */
#define LT_WORDNET_DIR "/usr/share/wordnet"

/* n QA records built from the noun glosses in <wordnet_dir>/data.noun:
 * the question asks what a monosemous common noun means, the answer is its
 * WordNet definition as a sentence, the paraphrased answer restates it
 * ("The noun \"X\" refers to ..."), and up to LT_TOFU_N_PERTURBED (at least
 * 3) perturbed answers put in the definitions of sibling synsets (same
 * hypernym) first, then of other nouns of the same lexicographer file.
 * Nouns are drawn by seed. LT_ERR_IO if the file is missing, LT_ERR_FORMAT
 * ("path:LINE: ...") if a line is malformed, LT_ERR_ARG if fewer than n
 * nouns qualify. out is zeroed first. */
LT_API lt_status lt_tofu_wordnet_set(const char *wordnet_dir, int64_t n,
                                     uint64_t seed, lt_tofu_set *out);
/* n "real authors" QA records (the stand-in for TOFU's real_authors
 * utility set) from the writers in data.noun: synsets that are instances
 * ("@i") of "writer, author" or of a synset below it (novelist, poet,
 * dramatist, ...), named by their first multi-word lemma ("Charles
 * Dickens"; names shared by two writers are left out). Question "Who was
 * <Name>?" ("Who is" when the gloss says "(born ...)"), answer "<Name> was
 * <gloss>." ("Charles Dickens was an English writer whose novels ...
 * (1812-1870)."), paraphrased answer "<Name> (<dates>) is remembered as
 * <gloss>.", and 3..LT_TOFU_N_PERTURBED perturbed answers in the
 * paraphrase's form with the glosses of other writers (same writer class
 * first). Writers are drawn by seed. Errors as lt_tofu_wordnet_set
 * (LT_ERR_ARG if fewer than n writers qualify). out is zeroed first. */
LT_API lt_status lt_tofu_wordnet_authors_set(const char *wordnet_dir, int64_t n,
                                             uint64_t seed, lt_tofu_set *out);
/* The same set written to out_file with lt_tofu_save. */
LT_API lt_status lt_tofu_wordnet_qa(const char *wordnet_dir, int64_t n,
                                    uint64_t seed, const char *out_file);

#ifdef __cplusplus
}
#endif
#endif
