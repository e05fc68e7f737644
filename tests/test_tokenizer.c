/*
 * test_tokenizer.c - tests of the byte-level BPE tokenizer: hand-worked
 * merges on a tiny corpus, merges identical to a plain-Python trainer on
 * tests/golden/tokenizer/corpus.txt, ids identical to a plain-Python GPT-2
 * BPE encoder on Hugging Face-format fixtures (tests/golden/
 * gen_tokenizer.py), exact round trips of any byte string, save -> load ->
 * same ids and same file, special tokens, and every error path (unknown
 * model type, malformed JSON with its line, missing file, merges naming
 * unknown tokens, bad ids, bad arguments).
 */
#include "lt_test.h"
#include "lethe/tokenizer.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TOK_DIR LT_GOLDEN_DIR "/tokenizer/"

/* ---- helpers --------------------------------------------------------------- */

static char *tk_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        lt_test_fail(__FILE__, __LINE__, "cannot open %s", path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    size_t got = fread(b, 1, (size_t)n, f);
    fclose(f);
    b[got] = 0;
    if (len)
        *len = got;
    return b;
}

static char tk_tmp_path[64];

/* Write s to a fresh temp file; returns its path. */
static const char *tk_write_tmp(const char *s)
{
    strcpy(tk_tmp_path, "/tmp/lethe_tok_XXXXXX");
    int fd = mkstemp(tk_tmp_path);
    if (fd < 0)
        return NULL;
    if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
        lt_test_fail(__FILE__, __LINE__, "short write");
    close(fd);
    return tk_tmp_path;
}

/* Encode then decode; checks the bytes come back exactly. */
static void tk_roundtrip(const lt_tokenizer *t, const char *s, size_t n,
                         const char *what)
{
    int32_t *ids;
    size_t k;
    lt_status st = lt_tokenizer_encode(t, s, n, &ids, &k);
    LT_CHECK(st == LT_OK, "%s: encode: %s", what, lt_last_error());
    if (st != LT_OK)
        return;
    LT_CHECK(n == 0 || (k >= 1 && k <= n), "%s: %zu ids for %zu bytes", what,
             k, n);
    char *back;
    size_t m;
    st = lt_tokenizer_decode(t, ids, k, &back, &m);
    LT_CHECK(st == LT_OK, "%s: decode: %s", what, lt_last_error());
    if (st == LT_OK) {
        LT_CHECK(m == n && memcmp(back, s, n) == 0 && back[m] == 0,
                 "%s: round trip differs (%zu -> %zu bytes)", what, n, m);
        free(back);
    }
    free(ids);
}

static bool tk_ids_equal(const lt_tokenizer *t, const char *s,
                         const int32_t *want, size_t nw, const char *what)
{
    int32_t *ids;
    size_t k;
    if (lt_tokenizer_encode(t, s, strlen(s), &ids, &k) != LT_OK) {
        lt_test_fail(__FILE__, __LINE__, "%s: %s", what, lt_last_error());
        return false;
    }
    bool ok = k == nw;
    for (size_t i = 0; ok && i < k; i++)
        ok = ids[i] == want[i];
    if (!ok) {
        size_t i = 0;
        while (i < k && i < nw && ids[i] == want[i])
            i++;
        lt_test_fail(__FILE__, __LINE__,
                     "%s: '%s': %zu ids, want %zu; first difference at %zu "
                     "(got %d, want %d)", what, s, k, nw, i,
                     i < k ? (int)ids[i] : -1, i < nw ? (int)want[i] : -1);
    }
    free(ids);
    return ok;
}

static lt_tokenizer *tk_train(const char *text, int32_t vocab, int64_t minf,
                              const char *const *sp, int nsp)
{
    lt_tokenizer_train_opts o = {vocab, minf, sp, nsp};
    lt_tokenizer *t = NULL;
    const char *texts[1] = {text};
    lt_status st = lt_tokenizer_train(texts, NULL, 1, &o, &t);
    LT_CHECK(st == LT_OK && t, "train: %s", lt_last_error());
    return t;
}

static int32_t tk_id(const lt_tokenizer *t, const char *s)
{
    return lt_tokenizer_token_id(t, s, strlen(s));
}

static void tk_check_merge(const lt_tokenizer *t, int32_t r, const char *a,
                           const char *b, int32_t result)
{
    int32_t l = -2, rr = -2, res = -2;
    LT_CHECK(lt_tokenizer_merge(t, r, &l, &rr, &res) == LT_OK, "merge %d", r);
    LT_CHECK(l == tk_id(t, a) && rr == tk_id(t, b) && res == result,
             "merge %d: got (%d, %d) -> %d, want ('%s' %d, '%s' %d) -> %d",
             (int)r, (int)l, (int)rr, (int)res, a, (int)tk_id(t, a), b,
             (int)tk_id(t, b), (int)result);
}

/* ---- training ---------------------------------------------------------- */

/* "aaab aab ab" -> words "aaab", " aab", " ab" (once each). Pair counts:
 * (a,a) 3, (a,b) 3, (' ',a) 2: a tie, broken by the smaller pair of ids,
 * so merge 0 is a+a. Words become [aa a b], [' ' aa b], [' ' a b]: (a,b)
 * has 2, so merge 1 is a+b. Words [aa ab], [' ' aa b], [' ' ab]: four
 * pairs of count 1; the smallest ids start with ' ' (id 220; "a" is 64,
 * new tokens 256+), and (' ', aa=256) < (' ', ab=257): merge 2 is ' '+aa. */
LT_TEST(train_hand_worked_merges)
{
    lt_tokenizer *t = tk_train("aaab aab ab", 259, 1, NULL, 0);
    if (!t)
        return;
    LT_CHECK(tk_id(t, "a") == 64 && tk_id(t, "b") == 65 && tk_id(t, " ") == 220
                 && tk_id(t, "!") == 0,
             "byte ids: a=%d b=%d space=%d", (int)tk_id(t, "a"),
             (int)tk_id(t, "b"), (int)tk_id(t, " "));
    LT_CHECK(lt_tokenizer_vocab_size(t) == 259 && lt_tokenizer_n_merges(t) == 3,
             "vocab %d merges %d", (int)lt_tokenizer_vocab_size(t),
             (int)lt_tokenizer_n_merges(t));
    tk_check_merge(t, 0, "a", "a", 256);
    tk_check_merge(t, 1, "a", "b", 257);
    tk_check_merge(t, 2, " ", "aa", 258);
    LT_CHECK(tk_id(t, "aa") == 256 && tk_id(t, " aa") == 258, "token ids");
    const int32_t want[] = {256, 257, 258, 65, 220, 257};
    tk_ids_equal(t, "aaab aab ab", want, 6, "hand-worked");
    lt_tokenizer_free(t);

    /* min_frequency 2 stops after the two merges seen twice or more */
    t = tk_train("aaab aab ab", 5000, 2, NULL, 0);
    if (t) {
        LT_CHECK(lt_tokenizer_n_merges(t) == 2 &&
                     lt_tokenizer_vocab_size(t) == 258,
                 "min_frequency 2: %d merges", (int)lt_tokenizer_n_merges(t));
        lt_tokenizer_free(t);
    }
    /* with a special token every other id moves up by one, and the special
     * token is cut out of the training text */
    const char *sp[] = {"<|endoftext|>"};
    t = tk_train("aaab<|endoftext|> aab ab<|endoftext|>", 260, 1, sp, 1);
    if (t) {
        LT_CHECK(tk_id(t, "<|endoftext|>") == 0 && tk_id(t, "a") == 65,
                 "special ids");
        tk_check_merge(t, 0, "a", "a", 257);
        tk_check_merge(t, 1, "a", "b", 258);
        tk_check_merge(t, 2, " ", "aa", 259);
        LT_CHECK(lt_tokenizer_special_id(t, LT_TOK_BOS) == 0 &&
                     lt_tokenizer_special_id(t, LT_TOK_EOS) == 0 &&
                     lt_tokenizer_special_id(t, LT_TOK_PAD) == -1 &&
                     lt_tokenizer_is_special(t, 0) &&
                     !lt_tokenizer_is_special(t, 1),
                 "roles");
        const int32_t w2[] = {256 + 1, 258, 0, 259, 66, 0};
        tk_ids_equal(t, "aaab<|endoftext|> aab<|endoftext|>", w2, 6,
                     "special in text");
        lt_tokenizer_free(t);
    }
    /* the longest added token wins where one is a prefix of another */
    const char *sp2[] = {"<a>", "<a><b>"};
    t = tk_train("xyz", 300, 1, sp2, 2);
    if (t) {
        const int32_t w3[] = {1, 0, 2 + 'x' - 33, 0};
        tk_ids_equal(t, "<a><b><a>x<a>", w3, 4, "nested specials");
        lt_tokenizer_free(t);
    }
}

/* Every merge result is the concatenation of its two parts. */
static void tk_check_concat(const lt_tokenizer *t)
{
    for (int32_t r = 0; r < lt_tokenizer_n_merges(t); r++) {
        int32_t a, b, c;
        lt_tokenizer_merge(t, r, &a, &b, &c);
        size_t la, lb, lc;
        const char *sa = lt_tokenizer_token(t, a, &la);
        const char *sb = lt_tokenizer_token(t, b, &lb);
        const char *sc = lt_tokenizer_token(t, c, &lc);
        LT_CHECK(sa && sb && sc && lc == la + lb && !memcmp(sc, sa, la) &&
                     !memcmp(sc + la, sb, lb),
                 "merge %d is not a concatenation", (int)r);
    }
}

LT_TEST(train_matches_python_reference)
{
    size_t n;
    char *corpus = tk_read(TOK_DIR "corpus.txt", &n);
    lt_tokenizer *ref = NULL;
    LT_CHECK(lt_tokenizer_load(TOK_DIR "hf_str.json", &ref) == LT_OK, "%s",
             lt_last_error());
    if (!corpus || !ref) {
        free(corpus);
        lt_tokenizer_free(ref);
        return;
    }
    const char *sp[] = {"<|endoftext|>"};
    lt_tokenizer *t = tk_train(corpus, 600, 2, sp, 1);
    if (t) {
        LT_CHECK(lt_tokenizer_n_merges(t) == 343 &&
                     lt_tokenizer_n_merges(ref) == 343,
                 "merges: %d, Python %d", (int)lt_tokenizer_n_merges(t),
                 (int)lt_tokenizer_n_merges(ref));
        LT_CHECK(lt_tokenizer_vocab_size(t) == lt_tokenizer_vocab_size(ref),
                 "vocab %d vs %d", (int)lt_tokenizer_vocab_size(t),
                 (int)lt_tokenizer_vocab_size(ref));
        int bad = 0;
        for (int32_t r = 0; r < lt_tokenizer_n_merges(t) && !bad; r++) {
            int32_t a, b, c, x, y, z;
            lt_tokenizer_merge(t, r, &a, &b, &c);
            lt_tokenizer_merge(ref, r, &x, &y, &z);
            if (a != x || b != y || c != z) {
                bad = 1;
                lt_test_fail(__FILE__, __LINE__,
                             "merge %d: (%d %d -> %d), Python (%d %d -> %d)",
                             (int)r, (int)a, (int)b, (int)c, (int)x, (int)y,
                             (int)z);
            }
        }
        for (int32_t id = 0; id < lt_tokenizer_vocab_size(t) && !bad; id++) {
            size_t l1, l2;
            const char *s1 = lt_tokenizer_token(t, id, &l1);
            const char *s2 = lt_tokenizer_token(ref, id, &l2);
            bad = !s1 || !s2 || l1 != l2 || memcmp(s1, s2, l1);
            LT_CHECK(!bad, "token %d differs", (int)id);
        }
        /* the trained tokenizer writes the same merges and vocab text */
        char *mine = lt_tokenizer_to_json(t);
        lt_tokenizer *back = NULL;
        LT_CHECK(mine && lt_tokenizer_load_json(mine, strlen(mine), "mine",
                                                &back) == LT_OK,
                 "reload: %s", lt_last_error());
        lt_tokenizer_free(back);
        free(mine);
        tk_roundtrip(t, corpus, n, "corpus");
        tk_check_concat(t);
        lt_tokenizer_free(t);
    }
    lt_tokenizer_free(ref);
    free(corpus);
}

/* ---- Hugging Face fixtures against the Python encoder ---------------------- */

static void tk_check_cases(const lt_tokenizer *t, const char *field)
{
    char *js = tk_read(TOK_DIR "expected.json", NULL);
    cJSON *root = js ? cJSON_Parse(js) : NULL;
    const cJSON *cases = cJSON_GetObjectItem(root, "cases");
    LT_CHECK(cJSON_GetArraySize(cases) >= 17, "expected.json has no cases");
    int k = 0;
    for (const cJSON *c = cases ? cases->child : NULL; c; c = c->next, k++) {
        const char *text = cJSON_GetObjectItem(c, "text")->valuestring;
        const cJSON *ids = cJSON_GetObjectItem(c, field);
        int n = cJSON_GetArraySize(ids);
        int32_t *want = malloc(((size_t)n + 1) * sizeof *want);
        int i = 0;
        for (const cJSON *v = ids->child; v; v = v->next)
            want[i++] = (int32_t)v->valueint;
        char what[64];
        snprintf(what, sizeof what, "%s case %d", field, k);
        tk_ids_equal(t, text, want, (size_t)n, what);
        tk_roundtrip(t, text, strlen(text), what);
        free(want);
    }
    cJSON_Delete(root);
    free(js);
}

LT_TEST(hf_fixture_string_merges)
{
    lt_tokenizer *t = NULL;
    LT_CHECK(lt_tokenizer_load(TOK_DIR "hf_str.json", &t) == LT_OK, "%s",
             lt_last_error());
    if (!t)
        return;
    LT_CHECK(lt_tokenizer_vocab_size(t) == 600, "vocab %d",
             (int)lt_tokenizer_vocab_size(t));
    tk_check_cases(t, "ids_str");
    lt_tokenizer_free(t);
}

LT_TEST(hf_fixture_pair_merges_shuffled_ids)
{
    lt_tokenizer *t = NULL;
    LT_CHECK(lt_tokenizer_load(TOK_DIR "hf_pair.json", &t) == LT_OK, "%s",
             lt_last_error());
    if (!t)
        return;
    LT_CHECK(lt_tokenizer_vocab_size(t) == 601, "vocab %d",
             (int)lt_tokenizer_vocab_size(t));
    int32_t pad = tk_id(t, "<pad>");
    LT_CHECK(pad == 600 && lt_tokenizer_special_id(t, LT_TOK_PAD) == 600 &&
                 !lt_tokenizer_is_special(t, 600),
             "<pad> id %d", (int)pad);
    tk_check_cases(t, "ids_pair");
    lt_tokenizer_free(t);
}

/* The pre-tokenizer against Python's regex.findall with GPT-2's pattern: a
 * tokenizer trained on a text with min_frequency 1 and room to spare merges
 * each word into one token, so encoding that text gives one id per word. */
LT_TEST(pretokenizer_matches_regex)
{
    char *js = tk_read(TOK_DIR "expected.json", NULL);
    cJSON *root = js ? cJSON_Parse(js) : NULL;
    const cJSON *cases = cJSON_GetObjectItem(root, "pretok");
    LT_CHECK(cJSON_GetArraySize(cases) == 40, "no pretok cases");
    int k = 0;
    for (const cJSON *c = cases ? cases->child : NULL; c; c = c->next, k++) {
        const char *text = cJSON_GetObjectItem(c, "text")->valuestring;
        const cJSON *words = cJSON_GetObjectItem(c, "words");
        lt_tokenizer *t = tk_train(text, 100000, 1, NULL, 0);
        int32_t *ids = NULL;
        size_t n = 0;
        if (!t || lt_tokenizer_encode(t, text, strlen(text), &ids, &n)) {
            lt_tokenizer_free(t);
            continue;
        }
        LT_CHECK(n == (size_t)cJSON_GetArraySize(words),
                 "pretok case %d: %zu words, Python %d", k, n,
                 cJSON_GetArraySize(words));
        size_t i = 0;
        for (const cJSON *w = words->child; w && i < n; w = w->next, i++) {
            size_t len;
            const char *tok = lt_tokenizer_token(t, ids[i], &len);
            if (len != strlen(w->valuestring) ||
                memcmp(tok, w->valuestring, len)) {
                lt_test_fail(__FILE__, __LINE__,
                             "pretok case %d: word %zu is '%.*s', Python '%s'",
                             k, i, (int)len, tok, w->valuestring);
                break;
            }
        }
        free(ids);
        lt_tokenizer_free(t);
    }
    cJSON_Delete(root);
    free(js);
}

/* ---- round trips and save/load --------------------------------------------- */

static const char *const tk_texts[] = {
    "Hello, world!",
    "naïve café 東京 🙂",
    "line one\nline two\r\n\n\nthree\t\ttabs   and    spaces   ",
    "   leading and trailing   ",
    "it's they're we'll I'm you've he'd 'S",
    "\xff\xfe invalid \xc3 utf-8 \xe6\x9d bytes \x80\x80 \xed\xa0\x80 surrogate",
    "overlong \xc0\xaf and \xf8\x88\x80\x80\x80 five-byte",
    "<|endoftext|>x<|endoftext|><|endoftext|>",
    "\xc2\xa0nbsp\xe3\x80\x80ideographic\xe2\x80\xa8sep",
};

LT_TEST(roundtrip_any_bytes)
{
    size_t n;
    char *corpus = tk_read(TOK_DIR "corpus.txt", &n);
    const char *sp[] = {"<|endoftext|>", "<pad>"};
    lt_tokenizer *t = corpus ? tk_train(corpus, 500, 2, sp, 2) : NULL;
    free(corpus);
    if (!t)
        return;
    for (size_t i = 0; i < sizeof tk_texts / sizeof *tk_texts; i++)
        tk_roundtrip(t, tk_texts[i], strlen(tk_texts[i]), tk_texts[i]);
    /* NUL and every byte value, alone and in a row */
    char all[512];
    for (int i = 0; i < 512; i++)
        all[i] = (char)(i & 255);
    tk_roundtrip(t, all, 512, "all bytes");
    for (int i = 0; i < 256; i++)
        tk_roundtrip(t, all + i, 1, "one byte");
    /* pseudo-random byte strings, biased to spaces and letters */
    uint64_t x = 12345;
    char buf[300];
    for (int k = 0; k < 200; k++) {
        size_t len = (size_t)(k % 300);
        for (size_t i = 0; i < len; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            unsigned v = (unsigned)(x >> 56);
            buf[i] = (char)(v < 64 ? ' ' : v < 160 ? 'a' + v % 26 : v);
        }
        tk_roundtrip(t, buf, len, "random");
    }
    /* long words: a run of 100000 spaces and one of 100000 letters */
    size_t big = 100000;
    char *s = malloc(big);
    memset(s, ' ', big);
    tk_roundtrip(t, s, big, "spaces");
    memset(s, 'e', big);
    tk_roundtrip(t, s, big, "letters");
    free(s);
    tk_roundtrip(t, "", 0, "empty");
    lt_tokenizer_free(t);
}

LT_TEST(save_load_same_ids)
{
    size_t n;
    char *corpus = tk_read(TOK_DIR "corpus.txt", &n);
    const char *sp[] = {"<|endoftext|>", "<pad>", "<s>", "</s>"};
    lt_tokenizer *t = corpus ? tk_train(corpus, 450, 1, sp, 4) : NULL;
    if (!t) {
        free(corpus);
        return;
    }
    LT_CHECK(lt_tokenizer_special_id(t, LT_TOK_BOS) == 0 &&
                 lt_tokenizer_special_id(t, LT_TOK_PAD) == 1,
             "roles");
    char path[64];
    snprintf(path, sizeof path, "/tmp/lethe_tok_save_%ld.json", (long)getpid());
    LT_CHECK(lt_tokenizer_save(t, path) == LT_OK, "%s", lt_last_error());
    lt_tokenizer *u = NULL;
    LT_CHECK(lt_tokenizer_load(path, &u) == LT_OK, "%s", lt_last_error());
    if (u) {
        LT_CHECK(lt_tokenizer_vocab_size(u) == 450 &&
                     lt_tokenizer_n_merges(u) == lt_tokenizer_n_merges(t),
                 "sizes after reload");
        for (size_t i = 0; i < sizeof tk_texts / sizeof *tk_texts + 1; i++) {
            const char *s = i < sizeof tk_texts / sizeof *tk_texts ? tk_texts[i]
                                                                   : corpus;
            int32_t *a, *b;
            size_t na, nb;
            lt_tokenizer_encode(t, s, strlen(s), &a, &na);
            lt_tokenizer_encode(u, s, strlen(s), &b, &nb);
            LT_CHECK(na == nb && (na == 0 || !memcmp(a, b, na * sizeof *a)),
                     "ids differ after reload for text %zu", i);
            free(a);
            free(b);
        }
        char *j1 = lt_tokenizer_to_json(t), *j2 = lt_tokenizer_to_json(u);
        LT_CHECK(j1 && j2 && strcmp(j1, j2) == 0, "JSON differs after reload");
        LT_CHECK(j1 && strstr(j1, "\"type\":\t\"BPE\"") &&
                     strstr(j1, "\"Ġa\":") && strstr(j1, "\"Ġ a\""),
                 "byte-level strings and \"a b\" merges in the file");
        LT_CHECK(lt_tokenizer_special_id(u, LT_TOK_BOS) == 0 &&
                     lt_tokenizer_special_id(u, LT_TOK_EOS) == 0 &&
                     lt_tokenizer_special_id(u, LT_TOK_PAD) == 1,
                 "roles after reload");
        free(j1);
        free(j2);
        lt_tokenizer_free(u);
    }
    /* a failed save (no such directory) leaves nothing behind */
    LT_CHECK(lt_tokenizer_save(t, "/nonexistent_dir_lethe/tok.json") ==
                 LT_ERR_IO && strstr(lt_last_error(), "/nonexistent_dir_lethe"),
             "save into a missing directory: %s", lt_last_error());
    unlink(path);
    lt_tokenizer_free(t);
    free(corpus);
}

/* ---- errors ------------------------------------------------------------------ */

static void tk_expect_load_error(const char *json, lt_status want,
                                 const char *n1, const char *n2)
{
    const char *p = tk_write_tmp(json);
    lt_tokenizer *t = (lt_tokenizer *)1;
    lt_status st = lt_tokenizer_load(p, &t);
    const char *msg = lt_last_error();
    LT_CHECK(st == want && t == NULL, "'%.60s...': status %d, want %d (%s)",
             json, (int)st, (int)want, msg);
    LT_CHECK(strstr(msg, p) != NULL, "message does not name the file: %s",
             msg);
    LT_CHECK(!n1 || strstr(msg, n1), "message lacks '%s': %s", n1, msg);
    LT_CHECK(!n2 || strstr(msg, n2), "message lacks '%s': %s", n2, msg);
    unlink(p);
}

#define TK_PRE "\"pre_tokenizer\": {\"type\": \"ByteLevel\", " \
               "\"add_prefix_space\": false}, "

LT_TEST(errors_model_type_and_components)
{
    tk_expect_load_error("{\"model\": {\"type\": \"WordLevel\", \"vocab\": "
                         "{\"a\": 0}}}", LT_ERR_FORMAT, "WordLevel", "BPE");
    tk_expect_load_error("{" TK_PRE "\"normalizer\": {\"type\": \"Sequence\", "
                         "\"normalizers\": [{\"type\": \"NFC\"}, {\"type\": "
                         "\"Precompiled\"}]}, \"model\": {\"type\": \"BPE\", "
                         "\"vocab\": {}, \"merges\": []}}", LT_ERR_FORMAT,
                         "normalizer 'Precompiled' is not supported", NULL);
    tk_expect_load_error("{\"pre_tokenizer\": {\"type\": \"Punctuation\"}, "
                         "\"model\": {\"type\": \"BPE\", \"vocab\": {}, "
                         "\"merges\": []}}", LT_ERR_FORMAT, "Punctuation", NULL);
    tk_expect_load_error("{\"decoder\": {\"type\": \"CTC\"}, "
                         "\"model\": {\"type\": \"BPE\", \"vocab\": {}, "
                         "\"merges\": []}}", LT_ERR_FORMAT,
                         "decoder 'CTC' is not supported", NULL);
    tk_expect_load_error("{\"post_processor\": {\"type\": \"Foo\"}, "
                         "\"model\": {\"type\": \"BPE\", \"vocab\": {}, "
                         "\"merges\": []}}", LT_ERR_FORMAT,
                         "post_processor 'Foo' is not supported", NULL);
    tk_expect_load_error("{\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": "
                         "{\"Regex\": \"(a\"}, \"behavior\": \"Isolated\"}, "
                         "\"model\": {\"type\": \"BPE\", \"vocab\": {}, "
                         "\"merges\": []}}", LT_ERR_FORMAT, "does not compile",
                         "Split");
    tk_expect_load_error("{" TK_PRE "\"decoder\": {\"type\": \"Fuse\"}, "
                         "\"model\": {\"type\": \"BPE\", \"vocab\": {}, "
                         "\"merges\": []}}", LT_ERR_FORMAT, "ByteLevel", NULL);
    tk_expect_load_error("[1, 2]", LT_ERR_FORMAT, "not a JSON object", NULL);
    tk_expect_load_error("{" TK_PRE "\"model\": {\"type\": \"BPE\"}}",
                         LT_ERR_FORMAT, "vocab", NULL);
}

LT_TEST(errors_malformed_json_line)
{
    tk_expect_load_error("{\n  \"model\": {\n    \"type\": \"BPE\",\n"
                         "    \"vocab\": {\"a\": 0,, \"b\": 1}\n  }\n}\n",
                         LT_ERR_FORMAT, "line 4", "malformed JSON");
    tk_expect_load_error("{\"model\": {}}\n\n  trailing", LT_ERR_FORMAT,
                         "line 3", NULL);
    tk_expect_load_error("", LT_ERR_FORMAT, "line 1", NULL);
    tk_expect_load_error("{\n\"a\": \"unterminated", LT_ERR_FORMAT, "line 2",
                         NULL);
}

LT_TEST(errors_missing_file)
{
    lt_tokenizer *t = (lt_tokenizer *)1;
    LT_CHECK(lt_tokenizer_load("/nonexistent/lethe_tokenizer.json", &t) ==
                     LT_ERR_IO && t == NULL &&
                 strstr(lt_last_error(), "/nonexistent/lethe_tokenizer.json"),
             "missing file: %s", lt_last_error());
    lt_tokenizer_train_opts o = {300, 1, NULL, 0};
    LT_CHECK(lt_tokenizer_train_file("/nonexistent/corpus.txt", &o, &t) ==
                     LT_ERR_IO && strstr(lt_last_error(), "corpus.txt"),
             "missing corpus: %s", lt_last_error());
}

#define TK_VOCAB "\"vocab\": {\"a\": 0, \"b\": 1, \"ab\": 2, \"\\u0120\": 3}"

LT_TEST(errors_bad_vocab_and_merges)
{
    tk_expect_load_error("{" TK_PRE "\"model\": {\"type\": \"BPE\", " TK_VOCAB
                         ", \"merges\": [\"a c\"]}}", LT_ERR_FORMAT,
                         "merges[0]", "'c' is not in model.vocab");
    tk_expect_load_error("{" TK_PRE "\"model\": {\"type\": \"BPE\", " TK_VOCAB
                         ", \"merges\": [\"a b\", [\"b\", \"a\"]]}}",
                         LT_ERR_FORMAT, "merges[1]", "'ba' is not in");
    tk_expect_load_error("{" TK_PRE "\"model\": {\"type\": \"BPE\", " TK_VOCAB
                         ", \"merges\": [\"a b c\"]}}", LT_ERR_FORMAT,
                         "merges[0]", "one space");
    tk_expect_load_error("{" TK_PRE "\"model\": {\"type\": \"BPE\", " TK_VOCAB
                         ", \"merges\": [7]}}", LT_ERR_FORMAT, "merges[0]",
                         NULL);
    tk_expect_load_error("{" TK_PRE "\"model\": {\"type\": \"BPE\", \"vocab\": "
                         "{\"a\": -1}, \"merges\": []}}", LT_ERR_FORMAT,
                         "'a'", "not a valid id");
    tk_expect_load_error("{" TK_PRE "\"model\": {\"type\": \"BPE\", \"vocab\": "
                         "{\"a\": 0, \"b\": 0}, \"merges\": []}}",
                         LT_ERR_FORMAT, "'b'", "twice");
    tk_expect_load_error("{" TK_PRE "\"model\": {\"type\": \"BPE\", \"vocab\": "
                         "{\"a\": 1.5}, \"merges\": []}}", LT_ERR_FORMAT,
                         "not a valid id", NULL);
    tk_expect_load_error("{" TK_PRE "\"added_tokens\": [{\"id\": 0}], "
                         "\"model\": {\"type\": \"BPE\", " TK_VOCAB
                         ", \"merges\": []}}", LT_ERR_FORMAT, "added_tokens[0]",
                         NULL);
    /* an id far beyond the number of tokens is refused, not allocated */
    tk_expect_load_error("{" TK_PRE "\"added_tokens\": [{\"id\": 2000000000, "
                         "\"content\": \"<x>\"}], \"model\": {\"type\": "
                         "\"BPE\", " TK_VOCAB ", \"merges\": []}}",
                         LT_ERR_FORMAT, "added_tokens[0]", NULL);
    tk_expect_load_error("{" TK_PRE "\"model\": {\"type\": \"BPE\", \"vocab\": "
                         "{\"a\": 99999999}, \"merges\": []}}", LT_ERR_FORMAT,
                         "not a valid id", NULL);
    tk_expect_load_error("{" TK_PRE "\"model\": {\"type\": \"BPE\", "
                         "\"unk_token\": \"<unk>\", " TK_VOCAB
                         ", \"merges\": []}}", LT_ERR_FORMAT, "unk_token",
                         NULL);
}

/* A valid minimal file: merges from a buffer, a byte without a token. */
LT_TEST(minimal_file_and_missing_byte)
{
    const char *js = "{" TK_PRE "\"model\": {\"type\": \"BPE\", " TK_VOCAB
                     ", \"merges\": [[\"a\", \"b\"]]}}";
    lt_tokenizer *t = NULL;
    LT_CHECK(lt_tokenizer_load_json(js, strlen(js), "inline", &t) == LT_OK,
             "%s", lt_last_error());
    if (!t)
        return;
    const int32_t want[] = {2, 0, 3, 2};
    tk_ids_equal(t, "aba ab", want, 4, "minimal");
    int32_t *ids = (int32_t *)1;
    size_t n = 9;
    LT_CHECK(lt_tokenizer_encode(t, "abc", 3, &ids, &n) == LT_ERR_ARG &&
                 ids == NULL && n == 0 && strstr(lt_last_error(), "0x63"),
             "byte without token: %s", lt_last_error());
    char *s = (char *)1;
    size_t len;
    const int32_t bad[] = {0, 4};
    LT_CHECK(lt_tokenizer_decode(t, bad, 2, &s, &len) == LT_ERR_ARG &&
                 s == NULL && strstr(lt_last_error(), "id 4"),
             "decode bad id: %s", lt_last_error());
    const int32_t neg[] = {-1};
    LT_CHECK(lt_tokenizer_decode(t, neg, 1, &s, &len) == LT_ERR_ARG, "id -1");
    LT_CHECK(lt_tokenizer_token(t, 99, NULL) == NULL, "token 99");
    LT_CHECK(lt_tokenizer_merge(t, 1, NULL, NULL, NULL) == LT_ERR_ARG,
             "merge 1");
    lt_tokenizer_free(t);

    /* with an unk token, unknown bytes become it */
    const char *js2 = "{" TK_PRE "\"added_tokens\": [{\"id\": 4, \"content\": "
                      "\"<unk>\", \"special\": true}], \"model\": {\"type\": "
                      "\"BPE\", \"unk_token\": \"<unk>\", " TK_VOCAB
                      ", \"merges\": [\"a b\"]}}";
    LT_CHECK(lt_tokenizer_load_json(js2, strlen(js2), "inline2", &t) == LT_OK,
             "%s", lt_last_error());
    if (t) {
        const int32_t w2[] = {2, 4, 4};
        tk_ids_equal(t, "abcc", w2, 3, "unk");
        LT_CHECK(lt_tokenizer_special_id(t, LT_TOK_UNK) == 4, "unk role");
        lt_tokenizer_free(t);
    }
}

LT_TEST(errors_train_arguments)
{
    lt_tokenizer *t = (lt_tokenizer *)1;
    const char *texts[1] = {"abc"};
    lt_tokenizer_train_opts o = {255, 1, NULL, 0};
    LT_CHECK(lt_tokenizer_train(texts, NULL, 1, &o, &t) == LT_ERR_ARG &&
                 t == NULL && strstr(lt_last_error(), "vocab_size"),
             "vocab too small: %s", lt_last_error());
    o.vocab_size = 300;
    o.min_frequency = 0;
    LT_CHECK(lt_tokenizer_train(texts, NULL, 1, &o, &t) == LT_ERR_ARG,
             "min_frequency 0");
    const char *dup[] = {"<s>", "<s>"};
    lt_tokenizer_train_opts o2 = {300, 1, dup, 2};
    LT_CHECK(lt_tokenizer_train(texts, NULL, 1, &o2, &t) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "twice"),
             "duplicate special: %s", lt_last_error());
    const char *bad[] = {"\xff"};
    lt_tokenizer_train_opts o3 = {300, 1, bad, 1};
    LT_CHECK(lt_tokenizer_train(texts, NULL, 1, &o3, &t) == LT_ERR_ARG,
             "special not UTF-8");
    /* an empty corpus gives just the byte tokens */
    lt_tokenizer_train_opts o4 = {300, 1, NULL, 0};
    LT_CHECK(lt_tokenizer_train(NULL, NULL, 0, &o4, &t) == LT_OK && t &&
                 lt_tokenizer_vocab_size(t) == 256,
             "empty corpus: %s", lt_last_error());
    lt_tokenizer_free(t);
}

LT_TEST_MAIN()
