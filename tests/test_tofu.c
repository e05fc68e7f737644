/*
 * test_tofu.c - TOFU-format QA data: the loader on JSON Lines and JSON array
 * fixtures (exact field values), its errors with file and line, the atomic
 * writer (round trip, escapes, refusals), the synthetic fictitious-author
 * generator (determinism, exact split sizes, consistency of each author's
 * facts, perturbed answers) and the WordNet QA builder on a hand-written
 * data.noun fixture (and on Debian's wordnet-base when installed).
 */
#define _XOPEN_SOURCE 700 /* nftw, to remove the temp folder */
#include "lt_test.h"
#include "lethe/tofu.h"

#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIX LT_GOLDEN_DIR "/../data/tofu"

/* ---- helpers ------------------------------------------------------------- */

static char tmp_root[64];

static int rm_entry(const char *path, const struct stat *sb, int flag,
                    struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void rm_tmp_root(void)
{
    nftw(tmp_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh folder for this run, removed at exit. */
static const char *tmp_dir(void)
{
    if (!tmp_root[0]) {
        snprintf(tmp_root, sizeof tmp_root, "/tmp/lt_tofu_XXXXXX");
        if (mkdtemp(tmp_root))
            atexit(rm_tmp_root);
        else
            snprintf(tmp_root, sizeof tmp_root, "/tmp");
    }
    return tmp_root;
}

static const char *tmp_path(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", tmp_dir(), name);
    return buf;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* Whole file (malloc'd, NUL-terminated) or NULL; *n its length. */
static char *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)len + 1);
    size_t got = b ? fread(b, 1, (size_t)len, f) : 0;
    fclose(f);
    if (b)
        b[got] = '\0';
    if (n)
        *n = got;
    return b;
}

static bool same_file(const char *a, const char *b)
{
    size_t na, nb;
    char *x = read_all(a, &na), *y = read_all(b, &nb);
    bool eq = x && y && na == nb && !memcmp(x, y, na);
    free(x);
    free(y);
    return eq;
}

static bool streq(const char *a, const char *b)
{
    return a && b && !strcmp(a, b);
}

/* Load text written to a temp file (the error is in lt_last_error). */
static lt_status load_text(const char *name, const char *text, lt_tofu_set *s)
{
    char p[256];
    write_text(tmp_path(p, sizeof p, name), text);
    return lt_tofu_load(p, s);
}

static void expect_error(const char *name, const char *text,
                         const char *want1, const char *want2)
{
    lt_tofu_set s;
    lt_status st = load_text(name, text, &s);
    const char *e = lt_last_error();
    LT_CHECK(st == LT_ERR_FORMAT, "%s: status %s", name, lt_status_name(st));
    LT_CHECK(strstr(e, name) && strstr(e, want1) &&
                 (!want2 || strstr(e, want2)),
             "%s: message '%s' lacks '%s'/'%s'", name, e, want1,
             want2 ? want2 : "");
    LT_CHECK(s.n == 0 && s.qa == NULL, "%s: set not left empty", name);
}

/* ---- loader -------------------------------------------------------------- */

LT_TEST(tofu_load_jsonl_fixture)
{
    lt_tofu_set s;
    LT_CHECK(lt_tofu_load(FIX "/sample.jsonl", &s) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(s.n == 3, "records %lld", (long long)s.n);
    if (s.n != 3) {
        lt_tofu_free(&s);
        return;
    }
    LT_CHECK(streq(s.path, FIX "/sample.jsonl"), "path");
    const lt_tofu_qa *q = s.qa;
    LT_CHECK(streq(q[0].question, "Who wrote \"The Salt Road\"?"), "q0 '%s'",
             q[0].question);
    LT_CHECK(streq(q[0].answer, "Zo\xc3\xab Novak wrote it."), "a0");
    LT_CHECK(streq(q[0].paraphrased_answer, "It was written by Zo\xc3\xab "
                   "Novak."), "pa0");
    LT_CHECK(q[0].paraphrased_question == NULL, "pq0");
    LT_CHECK(q[0].n_perturbed == 3 &&
                 streq(q[0].perturbed_answer[0], "Ana Lima wrote it.") &&
                 streq(q[0].perturbed_answer[1], "Piers Quist wrote it.") &&
                 streq(q[0].perturbed_answer[2], "Nobody\nwrote it."),
             "perturbed0");
    LT_CHECK(streq(q[1].question, "Where was Zo\xc3\xab Novak born?") &&
                 streq(q[1].answer, "In Krak\xc3\xb3w, Poland.") &&
                 !q[1].paraphrased_answer && q[1].n_perturbed == 0 &&
                 !q[1].perturbed_answer, "record 1");
    LT_CHECK(streq(q[2].question, "Q3?") &&
                 streq(q[2].answer, "Tab\there \xc3\xa9") &&
                 !q[2].paraphrased_answer &&
                 streq(q[2].paraphrased_question, "Q3 again?") &&
                 q[2].n_perturbed == 0, "record 2");
    lt_tofu_free(&s);
    LT_CHECK(s.n == 0 && !s.qa && !s.path, "free leaves it empty");
    lt_tofu_free(NULL);
}

LT_TEST(tofu_load_array_fixture)
{
    lt_tofu_set s;
    LT_CHECK(lt_tofu_load(FIX "/sample_array.json", &s) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(s.n == 2, "records %lld", (long long)s.n);
    if (s.n == 2) {
        LT_CHECK(streq(s.qa[0].question, "What genre does Kwame Jansen "
                       "write?"), "q0");
        LT_CHECK(streq(s.qa[0].answer, "Kwame Jansen writes crime fiction."),
                 "a0");
        LT_CHECK(streq(s.qa[0].paraphrased_answer, "Crime fiction is Kwame "
                       "Jansen's genre."), "pa0");
        LT_CHECK(s.qa[0].n_perturbed == 2 &&
                     streq(s.qa[0].perturbed_answer[1], "Romance is Kwame "
                           "Jansen's genre."), "perturbed0");
        /* \ud83d\ude00 is one 4-byte UTF-8 character. */
        LT_CHECK(streq(s.qa[1].question, "Q2 \xf0\x9f\x98\x80?") &&
                     streq(s.qa[1].answer, "A2"), "record 1");
    }
    lt_tofu_free(&s);
    /* A byte-order mark and an empty-looking start are accepted. */
    LT_CHECK(load_text("bom.json", "\xEF\xBB\xBF\n[{\"question\": \"q\", "
                       "\"answer\": \"a\"}]\n", &s) == LT_OK && s.n == 1,
             "BOM: %s", lt_last_error());
    lt_tofu_free(&s);
}

LT_TEST(tofu_load_errors_name_file_and_line)
{
    expect_error("bad3.jsonl",
                 "{\"question\": \"a\", \"answer\": \"b\"}\n"
                 "{\"question\": \"c\", \"answer\": \"d\"}\n"
                 "{\"question\": \"e\", \"answer\": }\n"
                 "{\"question\": \"f\", \"answer\": \"g\"}\n",
                 ":3:", "malformed JSON");
    /* A truncated record is reported on its own line, not the next one. */
    expect_error("trunc2.jsonl",
                 "{\"question\": \"a\", \"answer\": \"b\"}\n"
                 "{\"question\": \"c\", \"answer\": \"d\"\n"
                 "{\"question\": \"e\", \"answer\": \"f\"}\n",
                 ":2:", "malformed JSON");
    expect_error("missing.jsonl",
                 "{\"question\": \"a\", \"answer\": \"b\"}\n\n"
                 "{\"question\": \"c\"}\n",
                 ":3:", "\"answer\"");
    expect_error("noq.jsonl", "{\"answer\": \"b\"}\n", ":1:", "\"question\"");
    expect_error("type.jsonl",
                 "{\"question\": \"a\", \"answer\": 7}\n", ":1:",
                 "must be a string");
    expect_error("pert.jsonl",
                 "{\"question\": \"a\", \"answer\": \"b\", "
                 "\"perturbed_answer\": \"x\"}\n", ":1:", "perturbed_answer");
    expect_error("pert2.jsonl",
                 "{\"question\": \"a\", \"answer\": \"b\"}\n"
                 "{\"question\": \"a\", \"answer\": \"b\", "
                 "\"perturbed_answer\": [\"x\", 3]}\n", ":2:",
                 "perturbed_answer[1]");
    expect_error("notobj.jsonl", "[1, 2]\n", ":1:", "object");
    expect_error("notobj2.jsonl", "{\"question\": \"a\", \"answer\": \"b\"}\n"
                 "42\n", ":2:", "object");
    expect_error("trail.jsonl",
                 "{\"question\": \"a\", \"answer\": \"b\"} x\n", ":1:",
                 "after the JSON object");
    expect_error("utf8.jsonl", "{\"question\": \"a\xff\", \"answer\": "
                 "\"b\"}\n", ":1:", "UTF-8");
    expect_error("empty.jsonl", "\n  \n", "no QA records", NULL);
    /* JSON arrays: the record's line, or the line of the syntax error. */
    expect_error("arr5.json",
                 "[\n  {\"question\": \"a\", \"answer\": \"b\"},\n\n"
                 "  {\"question\": \"c\",\n   \"answer\" \"d\"}\n]\n",
                 ":5:", "malformed JSON");
    expect_error("arr4.json",
                 "[\n  {\"question\": \"a\", \"answer\": \"b\"},\n\n"
                 "  {\"question\": \"c\",\n   \"ans\": \"d\"}\n]\n",
                 ":4:", "\"answer\"");
    expect_error("arrsep.json",
                 "[{\"question\": \"a\", \"answer\": \"b\"}\n\n"
                 "{\"question\": \"a\", \"answer\": \"b\"}]\n",
                 ":3:", "expected ','");
    expect_error("arrtail.json",
                 "[{\"question\": \"a\", \"answer\": \"b\"}]\n]\n", ":2:",
                 "after the JSON array");
    expect_error("arropen.json", "[{\"question\": \"a\", \"answer\": \"b\"},",
                 ":1:", "malformed JSON");
    expect_error("arrempty.json", "[ ]", "no QA records", NULL);
    lt_tofu_set s;
    LT_CHECK(lt_tofu_load("/nonexistent/x.json", &s) == LT_ERR_IO &&
                 strstr(lt_last_error(), "/nonexistent/x.json"),
             "missing file");
    LT_CHECK(lt_tofu_load(NULL, &s) == LT_ERR_ARG, "NULL path");
}

/* ---- writer -------------------------------------------------------------- */

static bool same_qa(const lt_tofu_qa *a, const lt_tofu_qa *b, bool all)
{
    bool eq = streq(a->question, b->question) && streq(a->answer, b->answer);
    if (!all)
        return eq && !b->paraphrased_answer && !b->paraphrased_question &&
               b->n_perturbed == 0;
    eq = eq && (a->paraphrased_answer ? streq(a->paraphrased_answer,
                                              b->paraphrased_answer)
                                      : !b->paraphrased_answer);
    eq = eq && (a->paraphrased_question ? streq(a->paraphrased_question,
                                                b->paraphrased_question)
                                        : !b->paraphrased_question);
    eq = eq && a->n_perturbed == b->n_perturbed;
    for (int i = 0; eq && i < a->n_perturbed; i++)
        eq = streq(a->perturbed_answer[i], b->perturbed_answer[i]);
    return eq;
}

LT_TEST(tofu_save_round_trip)
{
    lt_tofu_set s, r;
    char p[256];
    LT_CHECK(lt_tofu_load(FIX "/sample.jsonl", &s) == LT_OK, "%s",
             lt_last_error());
    const char *pert[2] = {"w\x01x", "back\\slash"};
    LT_CHECK(lt_tofu_push(&s, "ctl?", "a\"b", NULL, "p", pert, 2) == LT_OK,
             "push");
    LT_CHECK(lt_tofu_save(tmp_path(p, sizeof p, "rt.jsonl"), &s) == LT_OK,
             "%s", lt_last_error());
    LT_CHECK(lt_tofu_load(p, &r) == LT_OK && r.n == s.n, "reload: %s",
             lt_last_error());
    for (int64_t i = 0; i < r.n && i < s.n; i++)
        LT_CHECK(same_qa(&s.qa[i], &r.qa[i], true), "record %lld differs",
                 (long long)i);
    lt_tofu_free(&r);
    /* The exact bytes of one record, QA only and all fields. */
    LT_CHECK(lt_tofu_save_range(tmp_path(p, sizeof p, "one.jsonl"), &s, 3, 1,
                                LT_TOFU_QA_ONLY) == LT_OK, "%s",
             lt_last_error());
    char *t = read_all(p, NULL);
    LT_CHECK(streq(t, "{\"question\": \"ctl?\", \"answer\": \"a\\\"b\"}\n"),
             "QA-only bytes '%s'", t ? t : "(none)");
    free(t);
    LT_CHECK(lt_tofu_save_range(p, &s, 3, 1, LT_TOFU_ALL) == LT_OK, "all");
    t = read_all(p, NULL);
    LT_CHECK(streq(t, "{\"question\": \"ctl?\", \"answer\": \"a\\\"b\", "
                   "\"paraphrased_answer\": \"p\", \"perturbed_answer\": "
                   "[\"w\\u0001x\", \"back\\\\slash\"]}\n"),
             "all-field bytes '%s'", t ? t : "(none)");
    free(t);
    /* UTF-8 goes out as is. */
    LT_CHECK(lt_tofu_save_range(p, &s, 1, 1, LT_TOFU_QA_ONLY) == LT_OK, "utf8");
    t = read_all(p, NULL);
    LT_CHECK(t && strstr(t, "Krak\xc3\xb3w"), "raw UTF-8 '%s'", t ? t : "");
    free(t);
    lt_tofu_free(&s);
}

LT_TEST(tofu_save_refuses_bad_input_atomically)
{
    char p[256];
    tmp_path(p, sizeof p, "keep.jsonl");
    write_text(p, "old contents\n");
    lt_tofu_set s = {0};
    LT_CHECK(lt_tofu_push(&s, "q\xc3", "a", NULL, NULL, NULL, 0) ==
                 LT_ERR_ARG, "push accepts invalid UTF-8");
    LT_CHECK(lt_tofu_push(&s, "q", "a", NULL, NULL, NULL, 0) == LT_OK, "push");
    LT_CHECK(lt_tofu_push(&s, "q2", "a2", NULL, NULL, NULL, 0) == LT_OK,
             "push");
    /* Corrupt a record behind the API's back: the writer must refuse it
     * before touching the target. */
    char *bad = strdup("a\xed\xa0\x80"); /* an encoded surrogate */
    free(s.qa[1].answer);
    s.qa[1].answer = bad;
    LT_CHECK(lt_tofu_save(p, &s) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "record 1"), "%s", lt_last_error());
    char *t = read_all(p, NULL);
    LT_CHECK(streq(t, "old contents\n"), "target damaged");
    free(t);
    LT_CHECK(!lt_test_tmp_left(p), "temp file left behind");
    LT_CHECK(lt_tofu_save_range(p, &s, 1, 2, LT_TOFU_ALL) == LT_ERR_ARG,
             "range past the end");
    LT_CHECK(lt_tofu_save_range(p, &s, 0, 0, LT_TOFU_ALL) == LT_ERR_ARG,
             "empty range");
    LT_CHECK(lt_tofu_save_range("/nonexistent/dir/x.jsonl", &s, 0, 1,
                                LT_TOFU_ALL) == LT_ERR_IO, "bad folder");
    lt_tofu_free(&s);
}

/* ---- synthetic authors --------------------------------------------------- */

static const char *const split_files[] = {
    "full.json", "forget01.json", "forget05.json", "forget10.json",
    "retain90.json", "retain95.json", "retain99.json",
    "forget01_perturbed.json", "forget05_perturbed.json",
    "forget10_perturbed.json", "retain_perturbed.json"};
#define N_SPLIT_FILES ((int)(sizeof split_files / sizeof *split_files))

LT_TEST(tofu_synth_deterministic)
{
    char a[256], b[256], c[256], fa[300], fb[300];
    tmp_path(a, sizeof a, "synA");
    tmp_path(b, sizeof b, "synB/nested");
    tmp_path(c, sizeof c, "synC");
    LT_CHECK(lt_tofu_synth(200, 7, a) == LT_OK, "%s", lt_last_error());
    LT_CHECK(lt_tofu_synth(200, 7, b) == LT_OK, "%s", lt_last_error());
    LT_CHECK(lt_tofu_synth(200, 8, c) == LT_OK, "%s", lt_last_error());
    for (int i = 0; i < N_SPLIT_FILES; i++) {
        snprintf(fa, sizeof fa, "%s/%s", a, split_files[i]);
        snprintf(fb, sizeof fb, "%s/%s", b, split_files[i]);
        LT_CHECK(same_file(fa, fb), "%s differs for the same seed",
                 split_files[i]);
        snprintf(fb, sizeof fb, "%s/%s", c, split_files[i]);
        LT_CHECK(!same_file(fa, fb), "%s equal for seeds 7 and 8",
                 split_files[i]);
    }
    LT_CHECK(lt_tofu_synth(1, 7, a) == LT_ERR_ARG, "1 author accepted");
    LT_CHECK(lt_tofu_synth(LT_TOFU_MAX_AUTHORS + 1, 7, a) == LT_ERR_ARG,
             "too many authors accepted");
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

LT_TEST(tofu_synth_split_sizes)
{
    LT_CHECK(lt_tofu_forget_authors(200, 1) == 2 &&
                 lt_tofu_forget_authors(200, 5) == 10 &&
                 lt_tofu_forget_authors(200, 10) == 20 &&
                 lt_tofu_forget_authors(10, 5) == 1 &&
                 lt_tofu_forget_authors(2, 10) == 1, "forget author counts");
    char dir[256], p[300];
    tmp_path(dir, sizeof dir, "synA");
    if (access(dir, F_OK) != 0)
        LT_CHECK(lt_tofu_synth(200, 7, dir) == LT_OK, "%s", lt_last_error());
    static const int64_t want[N_SPLIT_FILES] = {4000, 40, 200, 400, 3600,
                                                3800, 3960, 40, 200, 400, 400};
    static const int64_t first[N_SPLIT_FILES] = {0, 3960, 3800, 3600, 0, 0, 0,
                                                 3960, 3800, 3600, 0};
    lt_tofu_set set[N_SPLIT_FILES];
    bool ok = true;
    for (int i = 0; i < N_SPLIT_FILES; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, split_files[i]);
        ok &= lt_tofu_load(p, &set[i]) == LT_OK;
        LT_CHECK(set[i].n == want[i], "%s has %lld records, want %lld",
                 split_files[i], (long long)set[i].n, (long long)want[i]);
    }
    LT_CHECK(ok, "load: %s", lt_last_error());
    lt_tofu_set full;
    LT_CHECK(lt_tofu_synth_set(200, 7, &full) == LT_OK && full.n == 4000,
             "in-memory set");
    /* Each split file is the expected contiguous block of the full set
     * (last authors forgotten, first authors retained). */
    for (int i = 0; ok && full.n == 4000 && i < N_SPLIT_FILES; i++) {
        bool all = strstr(split_files[i], "perturbed") != NULL;
        int bad = 0;
        for (int64_t k = 0; k < set[i].n; k++)
            bad += !same_qa(&full.qa[first[i] + k], &set[i].qa[k], all);
        LT_CHECK(bad == 0, "%s: %d records differ from full[%lld..]",
                 split_files[i], bad, (long long)first[i]);
    }
    /* All questions distinct; forget10 + retain90 is exactly full. */
    if (ok) {
        const char **q = malloc(4000 * sizeof *q);
        const char **u = malloc(4000 * sizeof *u);
        for (int k = 0; k < 4000; k++) {
            q[k] = set[0].qa[k].question;
            u[k] = k < 400 ? set[3].qa[k].question
                           : set[4].qa[k - 400].question;
        }
        qsort(q, 4000, sizeof *q, cmp_str);
        qsort(u, 4000, sizeof *u, cmp_str);
        int dup = 0, diff = 0;
        for (int k = 0; k < 4000; k++) {
            dup += k > 0 && !strcmp(q[k - 1], q[k]);
            diff += strcmp(q[k], u[k]) != 0;
        }
        LT_CHECK(dup == 0, "%d duplicate questions", dup);
        LT_CHECK(diff == 0, "forget10 + retain90 != full (%d)", diff);
        free(q);
        free(u);
    }
    /* forget10 holds exactly the last 20 authors. */
    lt_tofu_author au[200];
    LT_CHECK(lt_tofu_synth_authors(200, 7, au) == LT_OK, "authors");
    int miss = 0;
    for (int64_t k = 0; ok && k < 400; k++)
        miss += !strstr(set[3].qa[k].question, au[180 + k / 20].name);
    LT_CHECK(miss == 0, "%d forget10 questions not about authors 180..199",
             miss);
    for (int i = 0; i < N_SPLIT_FILES; i++)
        lt_tofu_free(&set[i]);
    lt_tofu_free(&full);
}

static bool all_contain(const lt_tofu_qa *q, const char *s)
{
    bool ok = strstr(q->answer, s) && strstr(q->paraphrased_answer, s);
    return ok;
}

LT_TEST(tofu_synth_facts_consistent)
{
    enum { A = 60 };
    lt_tofu_author au[A];
    lt_tofu_set s;
    LT_CHECK(lt_tofu_synth_authors(A, 11, au) == LT_OK, "%s", lt_last_error());
    LT_CHECK(lt_tofu_synth_set(A, 11, &s) == LT_OK &&
                 s.n == A * LT_TOFU_QA_PER_AUTHOR, "%s", lt_last_error());
    if (s.n != A * LT_TOFU_QA_PER_AUTHOR) {
        lt_tofu_free(&s);
        return;
    }
    int bad_name = 0, bad_fact = 0, bad_pert = 0, foreign = 0;
    char y[16], age[16], ay[16], py[16];
    for (int k = 0; k < A; k++) {
        const lt_tofu_author *a = &au[k];
        const lt_tofu_qa *q = &s.qa[k * LT_TOFU_QA_PER_AUTHOR];
        for (int j = 0; j < k; j++)
            LT_CHECK(strcmp(a->name, au[j].name), "name %s twice", a->name);
        LT_CHECK(strcmp(a->city, a->home_city) && a->birth_day >= 1 &&
                     a->birth_day <= 28 && a->first_pub_year > a->birth_year &&
                     (a->award_year >= a->first_pub_year + 2 ||
                      a->award_year == 2023) &&
                     a->award_year <= 2023, "author %d facts", k);
        snprintf(y, sizeof y, "%d", a->birth_year);
        snprintf(age, sizeof age, "%d", a->first_pub_year - a->birth_year);
        snprintf(ay, sizeof ay, "%d", a->award_year);
        snprintf(py, sizeof py, "%d", a->first_pub_year);
        /* Fact by question slot (the fixed template order); every fact
         * must be in both the answer and the paraphrased answer. */
        const char *const want[][3] = {
            {a->city, a->country}, {y}, {a->genre, a->country,
                                          a->female ? "woman" : "man"},
            {a->genre}, {a->father_job}, {a->mother_job},
            {a->father_job, a->mother_job}, {a->award}, {a->award, ay},
            {a->books[0]}, {a->books[0], a->books[1], a->books[2]},
            {a->books[0], py}, {age}, {a->books[1], a->genre},
            {a->themes[0], a->themes[1]}, {a->city}, {a->language},
            {a->subject, a->university}, {a->habit}, {a->home_city}};
        for (int t = 0; t < LT_TOFU_QA_PER_AUTHOR; t++)
            for (int i = 0; i < 3 && want[t][i]; i++)
                if (want[t][i][0]) /* books[2] is "" for two-book authors */
                    bad_fact += !all_contain(&q[t], want[t][i]);
        for (int t = 0; t < LT_TOFU_QA_PER_AUTHOR; t++) {
            const lt_tofu_qa *r = &q[t];
            bad_name += !strstr(r->question, a->name) ||
                        !strstr(r->paraphrased_question, a->name) ||
                        !all_contain(r, a->name) ||
                        !strcmp(r->question, r->paraphrased_question) ||
                        !strcmp(r->answer, r->paraphrased_answer);
            /* No other author's birthplace leaks into this author's text. */
            for (int j = 0; j < A; j++)
                if (strcmp(au[j].city, a->city) &&
                    strcmp(au[j].city, a->home_city))
                    foreign += strstr(r->answer, au[j].city) ||
                               strstr(r->paraphrased_answer, au[j].city);
            if (r->n_perturbed != LT_TOFU_N_PERTURBED) {
                bad_pert++;
                continue;
            }
            for (int i = 0; i < r->n_perturbed; i++) {
                const char *p = r->perturbed_answer[i];
                bad_pert += !strcmp(p, r->answer) ||
                            !strcmp(p, r->paraphrased_answer) ||
                            !strstr(p, a->name);
                for (int j = 0; j < i; j++)
                    bad_pert += !strcmp(p, r->perturbed_answer[j]);
            }
        }
        /* Perturbed birthplaces name another city; perturbed years differ. */
        for (int i = 0; i < q[0].n_perturbed; i++)
            bad_pert += strstr(q[0].perturbed_answer[i], a->city) != NULL;
        for (int i = 0; i < q[12].n_perturbed; i++)
            bad_pert += strstr(q[12].perturbed_answer[i], age) != NULL;
        for (int i = 0; i < q[3].n_perturbed; i++)
            bad_pert += strstr(q[3].perturbed_answer[i], a->genre) != NULL;
    }
    LT_CHECK(bad_name == 0, "%d records without the author's name or with "
             "identical paraphrases", bad_name);
    LT_CHECK(bad_fact == 0, "%d facts missing from their answers", bad_fact);
    LT_CHECK(foreign == 0, "%d foreign birthplaces in answers", foreign);
    LT_CHECK(bad_pert == 0, "%d bad perturbed answers", bad_pert);
    /* The exact first record is a templated sentence about author 0. */
    LT_CHECK(strstr(s.qa[0].answer, "born") != NULL, "answer 0 '%s'",
             s.qa[0].answer);
    lt_tofu_free(&s);
    /* Different seeds give different authors. */
    lt_tofu_author b[A];
    LT_CHECK(lt_tofu_synth_authors(A, 12, b) == LT_OK, "seed 12");
    int same = 0;
    for (int k = 0; k < A; k++)
        same += !strcmp(au[k].name, b[k].name);
    LT_CHECK(same < A / 4, "%d of %d names equal across seeds", same, A);
}

/* ---- WordNet ------------------------------------------------------------- */

static const lt_tofu_qa *find_lemma(const lt_tofu_set *s, const char *lemma)
{
    char quoted[64];
    snprintf(quoted, sizeof quoted, "\"%s\"", lemma);
    for (int64_t i = 0; i < s->n; i++)
        if (strstr(s->qa[i].question, quoted))
            return &s->qa[i];
    return NULL;
}

static bool has_perturbed(const lt_tofu_qa *q, const char *s)
{
    for (int i = 0; i < q->n_perturbed; i++)
        if (streq(q->perturbed_answer[i], s))
            return true;
    return false;
}

LT_TEST(tofu_wordnet_fixture)
{
    lt_tofu_set s, t;
    LT_CHECK(lt_tofu_wordnet_set(FIX "/wordnet", 8, 3, &s) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(s.n == 8, "records %lld", (long long)s.n);
    /* Eligible: common monosemous nouns with a definition of >= 15 chars
     * and at least 3 wrong definitions available. */
    static const char *const yes[] = {"grazer", "prowler", "woolback",
                                      "stripe runner", "tallneck", "tusker",
                                      "duskcat", "marshwolf"};
    static const char *const no[] = {"creature", "hornbeast", "Meadowkin",
                                     "Old Stripe", "gadget"};
    for (int i = 0; i < 8; i++)
        LT_CHECK(find_lemma(&s, yes[i]), "no question on %s", yes[i]);
    for (int i = 0; i < 5; i++)
        LT_CHECK(!find_lemma(&s, no[i]), "question on %s", no[i]);
    const lt_tofu_qa *w = find_lemma(&s, "woolback");
    if (w) {
        LT_CHECK(streq(w->answer, "A grazer kept for its thick curly fleece."),
                 "answer '%s'", w->answer);
        LT_CHECK(streq(w->paraphrased_answer, "The noun \"woolback\" refers "
                       "to a grazer kept for its thick curly fleece."),
                 "paraphrase '%s'", w->paraphrased_answer);
        LT_CHECK(w->paraphrased_question &&
                     strstr(w->paraphrased_question, "\"woolback\"") &&
                     strcmp(w->question, w->paraphrased_question),
                 "paraphrased question");
        /* Its five siblings under "grazer" are the perturbed answers. */
        static const char *const sib[] = {
            "a heavy grazer with two curved horns on its head",
            "a fast grazer with a coat of black and white bands",
            "a small grazer named after the meadows it lives in",
            "a grazer whose very long neck reaches the tops of trees",
            "an old male grazer with long tusks"};
        LT_CHECK(w->n_perturbed == 5, "perturbed %d", w->n_perturbed);
        char want[256];
        for (int i = 0; i < 5; i++) {
            snprintf(want, sizeof want, "The noun \"woolback\" refers to %s.",
                     sib[i]);
            LT_CHECK(has_perturbed(w, want), "missing sibling '%s'", sib[i]);
        }
    }
    const lt_tofu_qa *d = find_lemma(&s, "duskcat");
    if (d) {
        LT_CHECK(streq(d->answer, "A prowler with soft paws and eyes that "
                       "shine in the dark."), "examples not cut: '%s'",
                 d->answer);
        LT_CHECK(d->n_perturbed == 5 &&
                     has_perturbed(d, "The noun \"duskcat\" refers to a "
                                   "prowler that lives in wet lowlands and "
                                   "travels in packs."),
                 "duskcat's sibling missing");
        /* The rest come from the same lexicographer file (animals), never
         * from another file (creature is 03, gadget 06). */
        for (int i = 0; i < d->n_perturbed; i++)
            LT_CHECK(!strstr(d->perturbed_answer[i], "living being") &&
                         !strstr(d->perturbed_answer[i], "small tool") &&
                         !strstr(d->perturbed_answer[i], "soft paws"),
                     "foreign perturbed '%s'", d->perturbed_answer[i]);
    }
    /* Deterministic by seed; another seed reorders. */
    LT_CHECK(lt_tofu_wordnet_set(FIX "/wordnet", 8, 3, &t) == LT_OK, "again");
    int same = 0;
    for (int64_t i = 0; i < s.n && i < t.n; i++)
        same += same_qa(&s.qa[i], &t.qa[i], true);
    LT_CHECK(same == 8, "same seed: %d of 8 equal", same);
    lt_tofu_free(&t);
    LT_CHECK(lt_tofu_wordnet_set(FIX "/wordnet", 8, 4, &t) == LT_OK, "seed 4");
    same = 0;
    for (int64_t i = 0; i < s.n && i < t.n; i++)
        same += streq(s.qa[i].question, t.qa[i].question);
    LT_CHECK(same < 8, "seed 4 gives the same questions");
    lt_tofu_free(&t);
    lt_tofu_free(&s);
    LT_CHECK(lt_tofu_wordnet_set(FIX "/wordnet", 9, 3, &s) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "only 8"), "%s", lt_last_error());
    /* Written to a file, it loads back unchanged. */
    char p[256];
    LT_CHECK(lt_tofu_wordnet_qa(FIX "/wordnet", 5, 3,
                                tmp_path(p, sizeof p, "wn.jsonl")) == LT_OK,
             "%s", lt_last_error());
    LT_CHECK(lt_tofu_load(p, &t) == LT_OK && t.n == 5, "reload");
    LT_CHECK(lt_tofu_wordnet_set(FIX "/wordnet", 5, 3, &s) == LT_OK, "set");
    for (int64_t i = 0; i < 5 && t.n == 5; i++)
        LT_CHECK(same_qa(&s.qa[i], &t.qa[i], true), "record %lld",
                 (long long)i);
    lt_tofu_free(&s);
    lt_tofu_free(&t);
}

LT_TEST(tofu_wordnet_errors)
{
    lt_tofu_set s;
    char dir[256], p[300];
    LT_CHECK(lt_tofu_wordnet_set("/nonexistent", 5, 1, &s) == LT_ERR_IO &&
                 strstr(lt_last_error(), "/nonexistent/data.noun"), "%s",
             lt_last_error());
    tmp_path(dir, sizeof dir, "wnbad");
    mkdir(dir, 0777);
    snprintf(p, sizeof p, "%s/data.noun", dir);
    write_text(p, "  1 header line\n"
                  "00000017 05 n 01 alpha 0 000 | first gloss here ok\n"
                  "00000067 05 n 01 beta 0 000 | second gloss here ok\n"
                  "00000117 05 n 02 gamma 0 000 | too few words\n");
    LT_CHECK(lt_tofu_wordnet_set(dir, 1, 1, &s) == LT_ERR_FORMAT &&
                 strstr(lt_last_error(), "data.noun:4:"), "%s",
             lt_last_error());
    write_text(p, "00000000 05 n 01 alpha 0 001 @ 0000 n 0000 | a gloss\n");
    LT_CHECK(lt_tofu_wordnet_set(dir, 1, 1, &s) == LT_ERR_FORMAT &&
                 strstr(lt_last_error(), "data.noun:1:"), "%s",
             lt_last_error());
    write_text(p, "00000000 05 n 01 alpha 0 000 no gloss\n");
    LT_CHECK(lt_tofu_wordnet_set(dir, 1, 1, &s) == LT_ERR_FORMAT, "no bar");
    LT_CHECK(lt_tofu_wordnet_set(FIX "/wordnet", 0, 1, &s) == LT_ERR_ARG,
             "n = 0");
}

LT_TEST(tofu_wordnet_debian)
{
    if (access(LT_WORDNET_DIR "/data.noun", R_OK) != 0) {
        printf("SKIP tofu_wordnet_debian: %s/data.noun absent (apt-get "
               "install wordnet-base); the fixture test still ran\n",
               LT_WORDNET_DIR);
        return;
    }
    lt_tofu_set s;
    LT_CHECK(lt_tofu_wordnet_set(NULL, 300, 1, &s) == LT_OK && s.n == 300,
             "%s", lt_last_error());
    int bad = 0;
    for (int64_t i = 0; i < s.n; i++) {
        const lt_tofu_qa *q = &s.qa[i];
        bad += q->n_perturbed < 3 || strlen(q->answer) < 16 ||
               !strstr(q->paraphrased_answer, "refers to");
        for (int k = 0; k < q->n_perturbed; k++)
            bad += !strcmp(q->perturbed_answer[k], q->paraphrased_answer);
    }
    LT_CHECK(bad == 0, "%d malformed WordNet QA records", bad);
    lt_tofu_free(&s);
}

LT_TEST_MAIN()
