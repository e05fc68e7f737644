/*
 * test_tokenizer_models.c - the WordPiece and Unigram models of
 * tokenizer.json and BERT's pipeline pieces on small hand-made files,
 * with ids and texts worked out by hand from the Rust `tokenizers`
 * library's rules: WordPiece's greedy longest match with "##", a whole
 * word as [UNK] when a part has no entry or it is longer than
 * max_input_chars_per_word; BertNormalizer's cleaning, CJK spacing,
 * accent stripping and lowercasing; BertPreTokenizer; the WordPiece
 * decoder with and without cleanup; Unigram's best path, its tie rule,
 * fused unknowns and byte_fallback, a file without a model type; a
 * save/load round trip of each
 * model; and the errors for what is not supported. (Real-size files are
 * checked against Hugging Face in test_tokenizer_hf.)
 */
#include "lt_test.h"

#include <stdlib.h>
#include <string.h>

static lt_tokenizer *tm_load(const char *js)
{
    lt_tokenizer *t = NULL;
    LT_CHECK(lt_tokenizer_load_json(js, strlen(js), "inline", &t) == LT_OK,
             "%s\n%s", lt_last_error(), js);
    return t;
}

static void tm_ids(const lt_tokenizer *t, const char *s, const int32_t *want,
                   size_t nw)
{
    int32_t *ids = NULL;
    size_t k = 0;
    lt_status st = lt_tokenizer_encode(t, s, strlen(s), &ids, &k);
    bool ok = st == LT_OK && k == nw;
    for (size_t i = 0; ok && i < k; i++)
        ok = ids[i] == want[i];
    char got[256] = "";
    for (size_t i = 0, p = 0; i < k && p < sizeof got - 12; i++)
        p += (size_t)snprintf(got + p, sizeof got - p, " %d", (int)ids[i]);
    LT_CHECK(ok, "'%s' gives [%s ] (%s)", s, got,
             st == LT_OK ? "ok" : lt_last_error());
    free(ids);
}

#define TM_IDS(t, s, ...)                                                 \
    do {                                                                  \
        const int32_t w_[] = {__VA_ARGS__};                               \
        tm_ids(t, s, w_, sizeof w_ / sizeof *w_);                         \
    } while (0)

static void tm_text(const lt_tokenizer *t, const int32_t *ids, size_t n,
                    const char *want)
{
    char *s = NULL;
    size_t len = 0;
    lt_status st = lt_tokenizer_decode(t, ids, n, &s, &len);
    LT_CHECK(st == LT_OK && len == strlen(want) && !memcmp(s, want, len),
             "decoded '%s', want '%s' (%s)", s ? s : "", want,
             st == LT_OK ? "ok" : lt_last_error());
    free(s);
}

#define TM_WP_VOCAB                                                        \
    "\"vocab\": {\"[UNK]\": 0, \"un\": 1, \"##aff\": 2, \"##able\": 3, "   \
    "\"a\": 4, \"##b\": 5, \"##ab\": 6, \",\": 7, \"hello\": 8, "          \
    "\"\\u00e9\": 9, \"##\\u00e9\": 10, \"cafe\": 11, \"\\u65e5\": 12, "   \
    "\"x\": 13}"

/* A WordPiece file with the given normalizer and decoder cleanup. */
static lt_tokenizer *tm_wordpiece(const char *norm, const char *cleanup)
{
    char js[2048];
    snprintf(js, sizeof js,
             "{\"added_tokens\": [{\"id\": 0, \"content\": \"[UNK]\", "
             "\"special\": true}], \"normalizer\": %s, "
             "\"pre_tokenizer\": {\"type\": \"BertPreTokenizer\"}, "
             "\"decoder\": {\"type\": \"WordPiece\", \"prefix\": \"##\", "
             "\"cleanup\": %s}, \"model\": {\"type\": \"WordPiece\", "
             "\"unk_token\": \"[UNK]\", \"max_input_chars_per_word\": 9, "
             TM_WP_VOCAB "}}", norm, cleanup);
    return tm_load(js);
}

LT_TEST(wordpiece_model_and_decoder)
{
    lt_tokenizer *t = tm_wordpiece("null", "true");
    if (!t)
        return;
    TM_IDS(t, "unaffable", 1, 2, 3);
    TM_IDS(t, "unaffables", 0);   /* 10 characters > 9 */
    TM_IDS(t, "abab", 4, 5, 6);   /* a ##b ##ab: longest first */
    TM_IDS(t, "unx", 0);          /* "##x" missing: the whole word */
    TM_IDS(t, "a\xc3\xa9", 4, 10); /* backs off by a whole character */
    TM_IDS(t, "hello,un  a", 8, 7, 1, 4);
    const int32_t ids[] = {8, 7, 1, 2, 3, 4, 5};
    tm_text(t, ids, 7, "hello, unaffable ab");
    lt_tokenizer_free(t);
    t = tm_wordpiece("null", "false");
    if (t)
        tm_text(t, ids, 7, "hello , unaffable ab");
    lt_tokenizer_free(t);
}

LT_TEST(bert_normalizer)
{
    lt_tokenizer *t = tm_wordpiece("{\"type\": \"BertNormalizer\"}", "true");
    if (!t)
        return;
    /* clean_text drops U+0001 and makes the tab a space, the ideograph
     * gets spaces around it, accents go, then lower case */
    TM_IDS(t, "CAF\xc3\x89\t\xe6\x97\xa5\x01x", 11, 12, 13);
    lt_tokenizer_free(t);
    t = tm_wordpiece("{\"type\": \"BertNormalizer\", \"lowercase\": false, "
                     "\"handle_chinese_chars\": false}", "true");
    if (t) /* no lower case: strip_accents (null) is off too */
        TM_IDS(t, "CAF\xc3\x89 \xc3\xa9 \xe6\x97\xa5x", 0, 9, 0);
    lt_tokenizer_free(t);
}

/* A Unigram file; extra goes into the model. */
static lt_tokenizer *tm_unigram(const char *ab, const char *extra)
{
    char js[2048];
    snprintf(js, sizeof js,
             "{\"model\": {\"type\": \"Unigram\", \"unk_id\": 0%s, "
             "\"vocab\": [[\"<unk>\", 0], [\"a\", -1], [\"b\", -1], "
             "[\"ab\", %s], [\"abc\", -3], [\"c\", -1], [\"<0x78>\", -5]]}}",
             extra, ab);
    return tm_load(js);
}

LT_TEST(unigram_model)
{
    lt_tokenizer *t = tm_unigram("-2.5", "");
    if (!t)
        return;
    TM_IDS(t, "ab", 1, 2);     /* -2 beats -2.5 */
    TM_IDS(t, "abc", 4);       /* abc (-3) ties a b c (-3): it starts first */
    TM_IDS(t, "xay", 0, 1, 0); /* unknowns score -5 - 10 */
    TM_IDS(t, "xyzc", 0, 5);   /* consecutive unknowns fuse */
    lt_tokenizer_free(t);
    t = tm_unigram("-2", "");
    if (t)
        TM_IDS(t, "ab", 3); /* a tie again: the node that starts first */
    lt_tokenizer_free(t);
    /* older files leave the type out: a vocab array is Unigram's */
    t = tm_load("{\"model\": {\"unk_id\": 0, \"vocab\": [[\"<unk>\", 0], "
                "[\"a\", -1], [\"aa\", -3]]}}");
    if (t)
        TM_IDS(t, "aaxa", 1, 1, 0, 1);
    lt_tokenizer_free(t);
    t = tm_unigram("-2.5", ", \"byte_fallback\": true");
    if (t) {
        TM_IDS(t, "xa", 6, 1); /* x has a byte token */
        TM_IDS(t, "xya", 0, 1); /* y has none: the fused run is unk */
    }
    lt_tokenizer_free(t);
}

static void tm_round_trip(lt_tokenizer *t, const char *text)
{
    char *js = t ? lt_tokenizer_to_json(t) : NULL;
    lt_tokenizer *u = js ? tm_load(js) : NULL;
    int32_t *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    bool ok = u && lt_tokenizer_encode(t, text, strlen(text), &a, &na) ==
                       LT_OK &&
              lt_tokenizer_encode(u, text, strlen(text), &b, &nb) == LT_OK &&
              na == nb && na > 1 && !memcmp(a, b, na * sizeof *a);
    LT_CHECK(ok, "'%s': the saved tokenizer encodes differently", text);
    free(a);
    free(b);
    free(js);
    lt_tokenizer_free(u);
    lt_tokenizer_free(t);
}

LT_TEST(models_round_trip)
{
    tm_round_trip(tm_wordpiece("{\"type\": \"BertNormalizer\"}", "true"),
                  "Hello, unaffable CAF\xc3\x89 abab unx");
    tm_round_trip(tm_unigram("-2.5", ", \"byte_fallback\": true"),
                  "abcxyab");
}

static void tm_refused(const char *js, const char *needle)
{
    lt_tokenizer *t = NULL;
    lt_status st = lt_tokenizer_load_json(js, strlen(js), "bad.json", &t);
    LT_CHECK(st == LT_ERR_FORMAT && !t && strstr(lt_last_error(), needle) &&
                 strstr(lt_last_error(), "bad.json"),
             "want an error naming '%s', got '%s'", needle, lt_last_error());
}

LT_TEST(models_refused)
{
    tm_refused("{\"normalizer\": {\"type\": \"Precompiled\", "
               "\"precompiled_charsmap\": \"AA==\"}, \"model\": {\"type\": "
               "\"Unigram\", \"vocab\": [[\"a\", 0]]}}", "'Precompiled'");
    tm_refused("{\"pre_tokenizer\": {\"type\": \"ByteLevel\"}, \"model\": "
               "{\"type\": \"WordPiece\", \"vocab\": {\"a\": 0}}}",
               "ByteLevel");
    tm_refused("{\"model\": {\"type\": \"Unigram\", \"vocab\": [[\"a\"]]}}",
               "[piece, finite score]");
    tm_refused("{\"model\": {\"type\": \"Unigram\", \"vocab\": [[\"a\", "
               "-1e999]]}}", "[piece, finite score]");
    tm_refused("{\"model\": {\"type\": \"Unigram\", \"unk_id\": 5, "
               "\"vocab\": [[\"a\", 0]]}}", "unk_id");
    tm_refused("{\"model\": {\"type\": \"WordLevel\", \"vocab\": {}}}",
               "'WordLevel'");
}

LT_TEST_MAIN()
