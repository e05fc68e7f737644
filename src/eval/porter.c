/*
 * porter.c - the Porter (1980) suffix-stripping stemmer in the variant that
 * rouge_score uses: NLTK's PorterStemmer() in its default NLTK_EXTENSIONS
 * mode. Written from the published algorithm (M.F. Porter, "An algorithm
 * for suffix stripping", Program 14(3), 1980) plus NLTK's documented
 * departures from it:
 *   - a short table of irregular forms (dying -> die, skies -> sky, ...);
 *   - words of one or two letters are not stemmed;
 *   - step 1a: a four-letter word in -ies keeps "ie" (ties -> tie);
 *   - step 1b: -ied becomes -ie in four-letter words, -i otherwise;
 *   - condition *o also holds for a two-letter vowel-consonant stem;
 *   - step 1c: y -> i only after a consonant that is not the whole stem;
 *   - step 2: -alli -> -al is tried first (then step 2 again), -bli -> -ble
 *     replaces -abli -> -able, and -fulli -> -ful, -logi -> -log are added.
 * Within a step the suffixes are tried in order; the first one that
 * matches decides, and if its condition fails the step leaves the word.
 * Words are lowercase byte strings; anything not a vowel is a consonant.
 */
#include "lethe/rouge.h"

#include <string.h>

/* ---- letters, measure, conditions ------------------------------------------ */

static bool is_vowel_letter(char ch)
{
    return ch == 'a' || ch == 'e' || ch == 'i' || ch == 'o' || ch == 'u';
}

/* Porter's consonant: not a, e, i, o, u, and not a y after a consonant.
 * A run of y's alternates; computed without recursion. */
static bool is_cons(const char *w, size_t i)
{
    if (is_vowel_letter(w[i]))
        return false;
    if (w[i] != 'y')
        return true;
    size_t k = i;
    while (k > 0 && w[k] == 'y')
        k--;
    bool cons_k = (w[k] == 'y') ? true : !is_vowel_letter(w[k]);
    /* w[k+1..i] are y's, each the opposite of the one before. */
    return ((i - k) % 2 == 0) ? cons_k : !cons_k;
}

/* m of w[0..n): the number of vowel-to-consonant transitions. */
static int measure(const char *w, size_t n)
{
    int m = 0;
    bool prev_cons = true, have_prev = false;
    for (size_t i = 0; i < n; i++) {
        bool c;
        if (is_vowel_letter(w[i]))
            c = false;
        else if (w[i] == 'y')
            c = (i == 0) ? true : !prev_cons;
        else
            c = true;
        if (c && have_prev && !prev_cons)
            m++;
        prev_cons = c;
        have_prev = true;
    }
    return m;
}

static bool has_vowel(const char *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_cons(w, i))
            return true;
    return false;
}

/* *d: ends with a double consonant. */
static bool ends_double(const char *w, size_t n)
{
    return n >= 2 && w[n - 1] == w[n - 2] && is_cons(w, n - 1);
}

/* *o: ends consonant-vowel-consonant, the last not w, x or y; NLTK also
 * accepts a two-letter vowel-consonant stem. */
static bool ends_cvc(const char *w, size_t n)
{
    if (n >= 3 && is_cons(w, n - 3) && !is_cons(w, n - 2) &&
        is_cons(w, n - 1) && w[n - 1] != 'w' && w[n - 1] != 'x' &&
        w[n - 1] != 'y')
        return true;
    return n == 2 && !is_cons(w, 0) && is_cons(w, 1);
}

static bool ends_with(const char *w, size_t n, const char *suf)
{
    size_t k = strlen(suf);
    return k <= n && memcmp(w + n - k, suf, k) == 0;
}

/* Writes rep at w[at..], returns the new length. */
static size_t put(char *w, size_t at, const char *rep)
{
    size_t k = strlen(rep);
    memcpy(w + at, rep, k);
    return at + k;
}

/* ---- rule lists ------------------------------------------------------------- */

typedef enum { COND_M0, COND_M1, COND_ION, COND_LOGI } lt_porter_cond;

typedef struct {
    const char *suf, *rep;
    lt_porter_cond cond;
} lt_porter_rule;

static bool cond_holds(const char *w, size_t n, size_t stem, lt_porter_cond c)
{
    switch (c) {
    case COND_M0:
        return measure(w, stem) > 0;
    case COND_M1:
        return measure(w, stem) > 1;
    case COND_ION:
        return measure(w, stem) > 1 && (w[stem - 1] == 's' || w[stem - 1] == 't');
    case COND_LOGI: /* the 'l' of -logi stays with the stem */
        return measure(w, n - 3) > 0;
    }
    return false;
}

/* The first rule whose suffix matches decides; returns the new length. */
static size_t apply_rules(char *w, size_t n, const lt_porter_rule *r, size_t nr)
{
    for (size_t i = 0; i < nr; i++) {
        if (!ends_with(w, n, r[i].suf))
            continue;
        size_t stem = n - strlen(r[i].suf);
        return cond_holds(w, n, stem, r[i].cond) ? put(w, stem, r[i].rep) : n;
    }
    return n;
}

#define NRULES(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the steps -------------------------------------------------------------- */

static size_t step1a(char *w, size_t n)
{
    if (n == 4 && ends_with(w, n, "ies"))
        return n - 1; /* ties -> tie */
    if (ends_with(w, n, "sses") || ends_with(w, n, "ies"))
        return n - 2;
    if (ends_with(w, n, "ss"))
        return n;
    if (ends_with(w, n, "s"))
        return n - 1;
    return n;
}

/* After -ed or -ing came off: restore an e, undouble, or add e. */
static size_t step1b_tidy(char *w, size_t s)
{
    if (ends_with(w, s, "at") || ends_with(w, s, "bl") || ends_with(w, s, "iz"))
        return put(w, s, "e");
    if (ends_double(w, s)) {
        char last = w[s - 1];
        return (last == 'l' || last == 's' || last == 'z') ? s : s - 1;
    }
    if (measure(w, s) == 1 && ends_cvc(w, s))
        return put(w, s, "e");
    return s;
}

static size_t step1b(char *w, size_t n)
{
    if (ends_with(w, n, "ied"))
        return put(w, n - 3, n == 4 ? "ie" : "i");
    if (ends_with(w, n, "eed"))
        return measure(w, n - 3) > 0 ? n - 1 : n;
    if (ends_with(w, n, "ed") && has_vowel(w, n - 2))
        return step1b_tidy(w, n - 2);
    if (ends_with(w, n, "ing") && has_vowel(w, n - 3))
        return step1b_tidy(w, n - 3);
    return n;
}

static size_t step1c(char *w, size_t n)
{
    if (ends_with(w, n, "y") && n - 1 > 1 && is_cons(w, n - 2))
        w[n - 1] = 'i';
    return n;
}

static size_t step2(char *w, size_t n)
{
    static const lt_porter_rule rules[] = {
        {"ational", "ate", COND_M0}, {"tional", "tion", COND_M0},
        {"enci", "ence", COND_M0},   {"anci", "ance", COND_M0},
        {"izer", "ize", COND_M0},    {"bli", "ble", COND_M0},
        {"alli", "al", COND_M0},     {"entli", "ent", COND_M0},
        {"eli", "e", COND_M0},       {"ousli", "ous", COND_M0},
        {"ization", "ize", COND_M0}, {"ation", "ate", COND_M0},
        {"ator", "ate", COND_M0},    {"alism", "al", COND_M0},
        {"iveness", "ive", COND_M0}, {"fulness", "ful", COND_M0},
        {"ousness", "ous", COND_M0}, {"aliti", "al", COND_M0},
        {"iviti", "ive", COND_M0},   {"biliti", "ble", COND_M0},
        {"fulli", "ful", COND_M0},   {"logi", "log", COND_LOGI},
    };
    if (ends_with(w, n, "alli") && measure(w, n - 4) > 0)
        return step2(w, n - 2); /* -alli -> -al, then step 2 again */
    return apply_rules(w, n, rules, NRULES(rules));
}

static size_t step3(char *w, size_t n)
{
    static const lt_porter_rule rules[] = {
        {"icate", "ic", COND_M0}, {"ative", "", COND_M0},
        {"alize", "al", COND_M0}, {"iciti", "ic", COND_M0},
        {"ical", "ic", COND_M0},  {"ful", "", COND_M0},
        {"ness", "", COND_M0},
    };
    return apply_rules(w, n, rules, NRULES(rules));
}

static size_t step4(char *w, size_t n)
{
    static const lt_porter_rule rules[] = {
        {"al", "", COND_M1},   {"ance", "", COND_M1}, {"ence", "", COND_M1},
        {"er", "", COND_M1},   {"ic", "", COND_M1},   {"able", "", COND_M1},
        {"ible", "", COND_M1}, {"ant", "", COND_M1},  {"ement", "", COND_M1},
        {"ment", "", COND_M1}, {"ent", "", COND_M1},  {"ion", "", COND_ION},
        {"ou", "", COND_M1},   {"ism", "", COND_M1},  {"ate", "", COND_M1},
        {"iti", "", COND_M1},  {"ous", "", COND_M1},  {"ive", "", COND_M1},
        {"ize", "", COND_M1},
    };
    return apply_rules(w, n, rules, NRULES(rules));
}

static size_t step5a(char *w, size_t n)
{
    if (!ends_with(w, n, "e"))
        return n;
    int m = measure(w, n - 1);
    if (m > 1 || (m == 1 && !ends_cvc(w, n - 1)))
        return n - 1;
    return n;
}

static size_t step5b(char *w, size_t n)
{
    if (ends_with(w, n, "ll") && measure(w, n - 1) > 1)
        return n - 1;
    return n;
}

/* ---- irregular forms and the entry point ------------------------------------ */

/* NLTK_EXTENSIONS' table: word -> stem, checked before any step. */
static const char *const lt_porter_irregular[][2] = {
    {"sky", "sky"},         {"skies", "sky"},       {"dying", "die"},
    {"lying", "lie"},       {"tying", "tie"},       {"news", "news"},
    {"innings", "inning"},  {"inning", "inning"},   {"outings", "outing"},
    {"outing", "outing"},   {"cannings", "canning"}, {"canning", "canning"},
    {"howe", "howe"},       {"proceed", "proceed"}, {"exceed", "exceed"},
    {"succeed", "succeed"},
};

size_t lt_porter_stem(char *w, size_t len)
{
    if (!w)
        return 0;
    for (size_t i = 0; i < NRULES(lt_porter_irregular); i++) {
        const char *from = lt_porter_irregular[i][0];
        if (strlen(from) == len && memcmp(w, from, len) == 0) {
            size_t n = put(w, 0, lt_porter_irregular[i][1]);
            w[n] = '\0';
            return n;
        }
    }
    size_t n = len;
    if (n > 2) {
        n = step1a(w, n);
        n = step1b(w, n);
        n = step1c(w, n);
        n = step2(w, n);
        n = step3(w, n);
        n = step4(w, n);
        n = step5a(w, n);
        n = step5b(w, n);
    }
    w[n] = '\0';
    return n;
}
