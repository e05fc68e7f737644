/*
 * test_rouge.c - ROUGE-L (lethe/rouge.h) with rouge_score's semantics and
 * its Porter stemmer (NLTK's default NLTK_EXTENSIONS mode).
 *
 * Expected ROUGE values are worked by hand (token lists and LCS written in
 * the comments). Expected stems: a table of Porter's 1980 examples and
 * NLTK's departures, with the outputs of NLTK 3.8 PorterStemmer(); and
 * tests/golden/porter_stems.txt, 920 real words from Debian's WordNet
 * glosses stemmed by NLTK 3.8 (Debian python3-nltk) PorterStemmer(),
 * written by tests/golden/gen_porter_stems.py. The LCS is also checked
 * against a plain full-table dynamic program on random token sequences,
 * and whole scores against a transcription of rouge_score on real
 * multi-sentence strings (tests/golden/gen_rouge_strings.py).
 */
#include "lt_test.h"

#include "lethe/rouge.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void check_rouge(const char *file, int line, const char *cand,
                        const char *ref, bool stem, double p, double r)
{
    lt_rouge got = lt_rouge_l(cand, ref, stem);
    double f = (p + r > 0) ? 2 * p * r / (p + r) : 0;
    if (fabs(got.precision - p) > 1e-12 || fabs(got.recall - r) > 1e-12 ||
        fabs(got.f1 - f) > 1e-12)
        lt_test_fail(file, line,
                     "rouge_l(\"%s\", \"%s\", stem=%d) = P %.6f R %.6f F %.6f,"
                     " want P %.6f R %.6f F %.6f",
                     cand ? cand : "(null)", ref ? ref : "(null)", (int)stem,
                     got.precision, got.recall, got.f1, p, r, f);
}
#define CHECK_ROUGE(c, r, stem, p, rc) \
    check_rouge(__FILE__, __LINE__, c, r, stem, p, rc)

static void check_stem(const char *file, int line, const char *word,
                       const char *want)
{
    char buf[256];
    size_t n = strlen(word);
    memcpy(buf, word, n + 1);
    size_t m = lt_porter_stem(buf, n);
    if (m != strlen(want) || strcmp(buf, want) != 0)
        lt_test_fail(file, line, "porter(\"%s\") = \"%s\" (len %zu), want \"%s\"",
                     word, buf, m, want);
}

/* ---- ROUGE-L, hand-worked ---------------------------------------------------- */

LT_TEST(rouge_basic_lcs)
{
    /* [the cat sat on the mat] vs [the cat was on the mat]: LCS "the cat
     * on the mat" = 5 of 6 each way. */
    CHECK_ROUGE("the cat sat on the mat", "the cat was on the mat", true,
                5.0 / 6, 5.0 / 6);
    /* [the cat] inside 6 reference tokens: P 2/2, R 2/6, F 0.5. */
    CHECK_ROUGE("the cat", "the cat sat on the mat", false, 1.0, 1.0 / 3);
    lt_rouge r = lt_rouge_l("the cat", "the cat sat on the mat", false);
    LT_CHECK(fabs(r.f1 - 0.5) < 1e-15, "f1 %.17g want 0.5", r.f1);
    /* Reversed order: any single token is an LCS. */
    CHECK_ROUGE("a b c d", "d c b a", false, 0.25, 0.25);
    /* Subsequence, not substring: [testing two] in [testing one two]. */
    CHECK_ROUGE("testing two", "testing one two", false, 1.0, 2.0 / 3);
    /* Repeated candidate tokens match once: LCS 1 of 3 / of 1. */
    CHECK_ROUGE("the the the", "the", false, 1.0 / 3, 1.0);
    /* Nothing in common. */
    CHECK_ROUGE("alpha beta", "gamma delta", true, 0, 0);
    r = lt_rouge_l("alpha beta", "gamma delta", true);
    LT_CHECK(r.f1 == 0, "f1 %g", r.f1);
    /* Longer candidate than reference (LCS on the other orientation):
     * [x a y b z c] vs [a b c]: LCS 3. */
    CHECK_ROUGE("x a y b z c", "a b c", false, 0.5, 1.0);
}

LT_TEST(rouge_tokenizer_case_punct)
{
    CHECK_ROUGE("Hello, WORLD!!", "hello world", false, 1, 1);
    /* "don't" -> [don t], "e-mail" -> [e mail]. */
    CHECK_ROUGE("Don't e-mail", "don t e mail", false, 1, 1);
    CHECK_ROUGE("Don't", "dont", false, 0, 0);
    /* Tabs, newlines, runs of punctuation are one separator. */
    CHECK_ROUGE("  a\t\tb\n\n--c...  ", "a b c", false, 1, 1);
    /* Digits are token characters. */
    CHECK_ROUGE("born in 1990, in Paris", "in 1990 in paris", false, 4.0 / 5, 1);
    /* Non-ASCII letters separate tokens: "Café" -> [caf]. */
    CHECK_ROUGE("Caf\xc3\xa9 au lait", "caf au lait", false, 1, 1);
    CHECK_ROUGE("na\xc3\xafve", "na ve", false, 1, 1);
    /* Python lower(): KELVIN SIGN -> "k"; capital I with dot -> "i" plus a
     * combining dot (a separator). */
    CHECK_ROUGE("\xe2\x84\xaailo", "kilo", false, 1, 1);
    CHECK_ROUGE("\xc4\xb0stanbul", "i stanbul", false, 1, 1);
    CHECK_ROUGE("\xc4\xb0stanbul", "istanbul", false, 0, 0);
}

LT_TEST(rouge_empty)
{
    CHECK_ROUGE("", "the cat", true, 0, 0);
    CHECK_ROUGE("the cat", "", true, 0, 0);
    CHECK_ROUGE("", "", false, 0, 0);
    CHECK_ROUGE(NULL, "x", false, 0, 0);
    CHECK_ROUGE("x", NULL, false, 0, 0);
    /* Only separators: no tokens. */
    CHECK_ROUGE("?! ...", "abc", true, 0, 0);
    CHECK_ROUGE("\xc3\xa9\xc3\xa9", "abc", true, 0, 0);
}

LT_TEST(rouge_stemming)
{
    /* stem: [run dog] vs [the dog run]: LCS 1, P 1/2, R 1/3.
     * no stem: [running dogs] vs [the dog runs]: nothing. */
    CHECK_ROUGE("running dogs", "the dog runs", true, 0.5, 1.0 / 3);
    CHECK_ROUGE("running dogs", "the dog runs", false, 0, 0);
    /* Tokens of 3 characters or fewer are not stemmed: "was" stays (the
     * stemmer alone would give "wa"), "cats" (4) becomes "cat". */
    CHECK_ROUGE("was", "wa", true, 0, 0);
    CHECK_ROUGE("cats", "cat", true, 1, 1);
    CHECK_ROUGE("its", "it", true, 0, 0);
    /* Tokens with digits are stemmed too: "1990s" -> "1990". */
    CHECK_ROUGE("the 1990s", "the 1990", true, 1, 1);
    /* Case is folded before stemming. */
    CHECK_ROUGE("HAPPINESS Relational", "happy relate", true, 1, 1);
    /* A TOFU-like answer: [the author s father was a doctor] vs
     * [her father work as a doctor]: stems father, doctor, work (worked),
     * LCS [father a doctor] = 3; P 3/7 ... (7 tokens), R 3/6. */
    CHECK_ROUGE("The author's father was a doctor.",
                "Her father worked as a doctor.", true, 3.0 / 7, 3.0 / 6);
}

/* ---- LCS against a full-table dynamic program -------------------------------- */

static size_t lcs_full(const int *a, size_t na, const int *b, size_t nb)
{
    size_t *t = calloc((na + 1) * (nb + 1), sizeof *t);
    for (size_t i = 1; i <= na; i++)
        for (size_t j = 1; j <= nb; j++) {
            size_t up = t[(i - 1) * (nb + 1) + j], left = t[i * (nb + 1) + j - 1];
            t[i * (nb + 1) + j] = a[i - 1] == b[j - 1]
                                      ? t[(i - 1) * (nb + 1) + j - 1] + 1
                                      : (up > left ? up : left);
        }
    size_t r = t[na * (nb + 1) + nb];
    free(t);
    return r;
}

static void words_text(const int *ids, size_t n, char *out)
{
    static const char *const vocab[] = {"apple", "Bread", "cheese", "dates",
                                        "eggs", "FLOUR"};
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        strcat(out, vocab[ids[i]]);
        strcat(out, i % 3 ? " " : ", ");
    }
}

LT_TEST(rouge_lcs_random)
{
    uint64_t s = 12345;
    int a[80], b[80];
    char ta[1024], tb[1024];
    for (int trial = 0; trial < 300; trial++) {
        size_t na = 1 + (size_t)(trial * 7 % 61), nb = 1 + (size_t)(trial * 13 % 73);
        for (size_t i = 0; i < na; i++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            a[i] = (int)((s >> 33) % 6);
        }
        for (size_t i = 0; i < nb; i++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            b[i] = (int)((s >> 33) % 6);
        }
        words_text(a, na, ta);
        words_text(b, nb, tb);
        size_t l = lcs_full(a, na, b, nb);
        lt_rouge r = lt_rouge_l(ta, tb, false);
        double p = (double)l / (double)na, rc = (double)l / (double)nb;
        LT_CHECK(fabs(r.precision - p) < 1e-12 && fabs(r.recall - rc) < 1e-12,
                 "trial %d: P %g R %g want %g %g", trial, r.precision, r.recall,
                 p, rc);
        /* Stemming maps the vocabulary one-to-one (apple->appl, ...): same. */
        lt_rouge rs = lt_rouge_l(ta, tb, true);
        LT_CHECK(rs.precision == r.precision && rs.recall == r.recall,
                 "trial %d: stemmed %g %g", trial, rs.precision, rs.recall);
    }
}

/* rouge_score's scorer on real multi-sentence strings (Debian fortunes and
 * edits of them): tests/golden/gen_rouge_strings.py transcribes
 * rouge_score's tokenize.py and _score_lcs; `r 0` records are MUSE's
 * use_stemmer=False, `r 1` TOFU's stemmed form. */
static void unescape(char *s)
{
    char *o = s;
    for (char *p = s; *p && *p != '\n'; p++) {
        if (*p == '\\' && p[1] == 'n')
            *o++ = '\n', p++;
        else if (*p == '\\' && p[1] == '\\')
            *o++ = '\\', p++;
        else
            *o++ = *p;
    }
    *o = 0;
}

LT_TEST(rouge_strings_golden)
{
    char path[512];
    snprintf(path, sizeof path, "%s/rouge_strings.txt", LT_GOLDEN_DIR);
    FILE *f = fopen(path, "r");
    LT_CHECK(f != NULL, "cannot open %s", path);
    if (!f)
        return;
    static char head[256], t[16384], p[16384];
    int n = 0, unstemmed = 0;
    while (fgets(head, sizeof head, f) && fgets(t, sizeof t, f) &&
           fgets(p, sizeof p, f)) {
        int stem;
        double gp, gr, gf;
        LT_CHECK(sscanf(head, "r %d %lf %lf %lf", &stem, &gp, &gr, &gf) == 4 &&
                 t[0] == 't' && p[0] == 'p', "record %d malformed", n);
        unescape(t + 2);
        unescape(p + 2);
        /* rouge_score's score(target, prediction): lethe's candidate is the
         * prediction, its reference the target */
        lt_rouge r = lt_rouge_l(p + 2, t + 2, stem != 0);
        LT_CHECK(fabs(r.precision - gp) < 1e-12 && fabs(r.recall - gr) < 1e-12
                 && fabs(r.f1 - gf) < 1e-12, "record %d (stem %d): P %.17g R "
                 "%.17g F %.17g want %.17g %.17g %.17g", n, stem, r.precision,
                 r.recall, r.f1, gp, gr, gf);
        n++;
        unstemmed += stem == 0;
    }
    fclose(f);
    LT_CHECK(n >= 24 && unstemmed == 24, "read %d records (%d unstemmed)", n,
             unstemmed);
}

/* ---- the stemmer -------------------------------------------------------------- */

LT_TEST(porter_paper_examples)
{
    static const char *const t[][2] = {
        {"caresses", "caress"}, {"ponies", "poni"}, {"caress", "caress"},
        {"cats", "cat"}, {"feed", "feed"}, {"agreed", "agre"},
        {"plastered", "plaster"}, {"bled", "bled"}, {"motoring", "motor"},
        {"sing", "sing"}, {"conflated", "conflat"}, {"troubled", "troubl"},
        {"sized", "size"}, {"hopping", "hop"}, {"tanned", "tan"},
        {"falling", "fall"}, {"hissing", "hiss"}, {"fizzed", "fizz"},
        {"failing", "fail"}, {"filing", "file"}, {"happy", "happi"},
        {"relational", "relat"}, {"conditional", "condit"},
        {"rational", "ration"}, {"valenci", "valenc"}, {"digitizer", "digit"},
        {"radicalli", "radic"}, {"differentli", "differ"},
        {"vietnamization", "vietnam"}, {"predication", "predic"},
        {"operator", "oper"}, {"feudalism", "feudal"},
        {"decisiveness", "decis"}, {"hopefulness", "hope"},
        {"callousness", "callous"}, {"formaliti", "formal"},
        {"sensitiviti", "sensit"}, {"sensibiliti", "sensibl"},
        {"triplicate", "triplic"}, {"formative", "form"},
        {"formalize", "formal"}, {"electriciti", "electr"},
        {"electrical", "electr"}, {"hopeful", "hope"}, {"goodness", "good"},
        {"revival", "reviv"}, {"allowance", "allow"}, {"inference", "infer"},
        {"airliner", "airlin"}, {"gyroscopic", "gyroscop"},
        {"adjustable", "adjust"}, {"defensible", "defens"},
        {"irritant", "irrit"}, {"replacement", "replac"},
        {"adjustment", "adjust"}, {"dependent", "depend"},
        {"adoption", "adopt"}, {"communism", "commun"}, {"activate", "activ"},
        {"angulariti", "angular"}, {"homologous", "homolog"},
        {"effective", "effect"}, {"bowdlerize", "bowdler"},
        {"probate", "probat"}, {"rate", "rate"}, {"cease", "ceas"},
        {"controll", "control"}, {"roll", "roll"}, {"generously", "gener"},
        {"running", "run"}, {"runs", "run"}, {"1990s", "1990"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        check_stem(__FILE__, __LINE__, t[i][0], t[i][1]);
}

/* Where NLTK_EXTENSIONS (rouge_score's mode) departs from the paper: the
 * original algorithm would give ti, dy, di, di, enjoi, ski. */
LT_TEST(porter_nltk_extensions)
{
    static const char *const t[][2] = {
        {"ties", "tie"},   {"dying", "die"},     {"dies", "die"},
        {"died", "die"},   {"enjoy", "enjoy"},   {"skies", "sky"},
        {"sky", "sky"},    {"lying", "lie"},     {"news", "news"},
        {"flies", "fli"},  {"spied", "spi"},     {"innings", "inning"},
        {"proceed", "proceed"}, {"succeed", "succeed"}, {"was", "wa"},
        {"is", "is"},      {"a", "a"},           {"yyyy", "yyyi"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        check_stem(__FILE__, __LINE__, t[i][0], t[i][1]);
}

LT_TEST(porter_golden_table)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/porter_stems.txt", LT_GOLDEN_DIR);
    FILE *f = fopen(path, "r");
    LT_CHECK(f != NULL, "cannot open %s", path);
    if (!f)
        return;
    char line[256], word[128], want[128];
    int n = 0, bad = 0;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "%127s %127s", word, want) != 2)
            continue;
        n++;
        char buf[130];
        size_t len = strlen(word);
        memcpy(buf, word, len + 1);
        lt_porter_stem(buf, len);
        if (strcmp(buf, want) != 0 && bad++ < 10)
            lt_test_fail(__FILE__, __LINE__, "porter(\"%s\") = \"%s\", NLTK \"%s\"",
                         word, buf, want);
    }
    fclose(f);
    LT_CHECK(n >= 900, "only %d words in %s", n, path);
    LT_CHECK(bad == 0, "%d of %d stems differ from NLTK", bad, n);
}

LT_TEST_MAIN()
