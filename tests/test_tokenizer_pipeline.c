/*
 * test_tokenizer_pipeline.c - the tokenizer.json pipeline on small
 * hand-made files, with ids and texts worked out by hand from the Rust
 * `tokenizers` library's rules: every Split behaviour (and invert),
 * Metaspace split and its decoder, byte_fallback, unk and fuse_unk, the
 * ByteFallback, Fuse, Strip and Replace decoders (and a null decoder),
 * normalized and raw added tokens and their lstrip/rstrip/single_word, Regex Replace, TemplateProcessing and
 * BertProcessing, and a save/load round trip that keeps the pipeline.
 * (The real files are checked against Hugging Face in test_tokenizer_hf.)
 */
#include "lt_test.h"

#include <stdlib.h>
#include <string.h>

/* A SentencePiece-style vocab ("\u2581" is the metaspace). */
#define TP_VOCAB                                                           \
    "\"vocab\": {\"<unk>\": 0, \"a\": 1, \"b\": 2, \"ab\": 3, "            \
    "\"\\u2581\": 4, \"\\u2581a\": 5, \"<0x63>\": 6, \"<s>\": 7, "        \
    "\"</s>\": 8, \"1\": 9, \"2\": 10, \",\": 11, \"a,\": 12, "           \
    "\",b\": 13, \",,\": 14, \"<0xC3>\": 15, \"hello\": 16, \" \": 17}, " \
    "\"merges\": [\"a b\", \"\\u2581 a\", \"a ,\", \", b\", \", ,\"]"

/* A file of the vocab with the given components (JSON text after the
 * model, starting with a comma, or ""). */
static lt_tokenizer *tp_load(const char *model_extra, const char *comps)
{
    char js[4096];
    snprintf(js, sizeof js,
             "{\"added_tokens\": [{\"id\": 7, \"content\": \"<s>\", "
             "\"special\": true}, {\"id\": 8, \"content\": \"</s>\", "
             "\"special\": true}], \"model\": {\"type\": \"BPE\", "
             "\"unk_token\": \"<unk>\"%s, " TP_VOCAB "}%s}",
             model_extra, comps);
    lt_tokenizer *t = NULL;
    LT_CHECK(lt_tokenizer_load_json(js, strlen(js), "inline", &t) == LT_OK,
             "%s\n%s", lt_last_error(), js);
    return t;
}

static void tp_ids(const lt_tokenizer *t, const char *s, const int32_t *want,
                   size_t nw, bool special, const char *what)
{
    int32_t *ids = NULL;
    size_t k = 0;
    lt_status st = special ? lt_tokenizer_encode_special(t, s, strlen(s), &ids, &k)
                           : lt_tokenizer_encode(t, s, strlen(s), &ids, &k);
    bool ok = st == LT_OK && k == nw;
    for (size_t i = 0; ok && i < k; i++)
        ok = ids[i] == want[i];
    char got[256] = "";
    for (size_t i = 0, p = 0; i < k && p < sizeof got - 12; i++)
        p += (size_t)snprintf(got + p, sizeof got - p, " %d", (int)ids[i]);
    LT_CHECK(ok, "%s: '%s' gives [%s ] (%s)", what, s, got,
             st == LT_OK ? "ok" : lt_last_error());
    free(ids);
}

static void tp_text(const lt_tokenizer *t, const int32_t *ids, size_t n,
                    const char *want, const char *what)
{
    char *s = NULL;
    size_t len = 0;
    lt_status st = lt_tokenizer_decode(t, ids, n, &s, &len);
    LT_CHECK(st == LT_OK && len == strlen(want) && !memcmp(s, want, len),
             "%s: '%s', want '%s' (%s)", what, s ? s : "", want,
             st == LT_OK ? "ok" : lt_last_error());
    free(s);
}

#define TP_IDS(t, s, special, what, ...)                                  \
    do {                                                                  \
        const int32_t w_[] = {__VA_ARGS__};                               \
        tp_ids(t, s, w_, sizeof w_ / sizeof *w_, special, what);          \
    } while (0)

static void tp_split(const char *how, bool invert, const int32_t *want,
                     size_t nw)
{
    char c[256];
    snprintf(c, sizeof c, ", \"pre_tokenizer\": {\"type\": \"Split\", "
             "\"pattern\": {\"String\": \",\"}, \"behavior\": \"%s\", "
             "\"invert\": %s}", how, invert ? "true" : "false");
    lt_tokenizer *t = tp_load("", c);
    if (t)
        tp_ids(t, "a,,b,a", want, nw, false, how);
    lt_tokenizer_free(t);
}

LT_TEST(split_behaviours)
{
    /* segments a , , b , a (the commas match) */
    tp_split("Isolated", false, (const int32_t[]){1, 11, 11, 2, 11, 1}, 6);
    tp_split("Removed", false, (const int32_t[]){1, 2, 1}, 3);
    tp_split("Removed", true, (const int32_t[]){11, 11, 11}, 3);
    /* "a," "," "b," "a" */
    tp_split("MergedWithPrevious", false,
             (const int32_t[]){12, 11, 2, 11, 1}, 5);
    /* "a" "," ",b" ",a" */
    tp_split("MergedWithNext", false, (const int32_t[]){1, 11, 13, 11, 1}, 5);
    /* "a" ",," "b" "," "a" */
    tp_split("Contiguous", false, (const int32_t[]){1, 14, 2, 11, 1}, 5);
}

LT_TEST(metaspace_split_and_decoder)
{
    lt_tokenizer *t = tp_load("", ", \"pre_tokenizer\": {\"type\": \"Metaspace\", "
        "\"replacement\": \"\\u2581\", \"prepend_scheme\": \"always\", "
        "\"split\": true}, \"decoder\": {\"type\": \"Metaspace\", "
        "\"replacement\": \"\\u2581\", \"prepend_scheme\": \"always\"}");
    if (!t)
        return;
    /* "\u2581a\u2581ab" splits into "\u2581a" "\u2581ab" */
    TP_IDS(t, "a ab", false, "metaspace", 5, 4, 3);
    tp_text(t, (const int32_t[]){5, 4, 3}, 3, "a ab", "metaspace decode");
    /* a piece after an added token gets the prefix too (always) */
    TP_IDS(t, "<s>a", false, "metaspace after <s>", 7, 5);
    lt_tokenizer_free(t);
    t = tp_load("", ", \"pre_tokenizer\": {\"type\": \"Metaspace\", "
        "\"prepend_scheme\": \"first\", \"split\": false}");
    if (t) { /* first: only where the input starts */
        TP_IDS(t, "a", false, "first", 5);
        TP_IDS(t, "<s>a", false, "first after <s>", 7, 1);
        /* no decoder: tokens join with spaces */
        tp_text(t, (const int32_t[]){5, 1}, 2, "\xe2\x96\x81" "a a",
                "null decoder");
    }
    lt_tokenizer_free(t);
}

LT_TEST(byte_fallback_unk_and_decoders)
{
    const char *dec = ", \"decoder\": {\"type\": \"Sequence\", \"decoders\": ["
        "{\"type\": \"Replace\", \"pattern\": {\"String\": \"\\u2581\"}, "
        "\"content\": \" \"}, {\"type\": \"ByteFallback\"}, {\"type\": "
        "\"Fuse\"}, {\"type\": \"Strip\", \"content\": \" \", \"start\": 1, "
        "\"stop\": 0}]}";
    lt_tokenizer *t = tp_load(", \"byte_fallback\": true, \"fuse_unk\": true",
                              dec);
    if (!t)
        return;
    TP_IDS(t, "c", false, "byte fallback", 6);
    TP_IDS(t, "dd", false, "fused unk", 0);
    TP_IDS(t, "adcda", false, "unk between", 1, 0, 6, 0, 1);
    tp_text(t, (const int32_t[]){4, 1, 6, 4, 3}, 5, "ac ab", "decoders");
    /* a byte that is not UTF-8 on its own becomes U+FFFD */
    tp_text(t, (const int32_t[]){1, 15}, 2, "a\xef\xbf\xbd", "bad byte");
    int32_t many[100];
    char want[101];
    for (int i = 0; i < 100; i++) {
        many[i] = 6;
        want[i] = 'c';
    }
    want[100] = 0;
    tp_text(t, many, 100, want, "a long run of byte tokens");
    lt_tokenizer_free(t);
    t = tp_load("", "");
    if (t) /* no fuse_unk, no byte_fallback */
        TP_IDS(t, "dcd", false, "plain unk", 0, 0, 0);
    lt_tokenizer_free(t);
}

LT_TEST(added_tokens_normalized_and_raw)
{
    /* "hello" is matched after lowercasing; <s> in the raw text; the
     * regex Replace turns runs of white space into one "\u2581" */
    const char *js = "{\"added_tokens\": [{\"id\": 7, \"content\": \"<s>\", "
        "\"special\": true}, {\"id\": 16, \"content\": \"hello\", \"special\": "
        "false, \"normalized\": true}], \"normalizer\": {\"type\": "
        "\"Sequence\", \"normalizers\": [{\"type\": \"Lowercase\"}, {\"type\": "
        "\"Replace\", \"pattern\": {\"Regex\": \"\\\\s+\"}, \"content\": "
        "\"\\u2581\"}]}, \"model\": {\"type\": \"BPE\", \"unk_token\": "
        "\"<unk>\", " TP_VOCAB "}}";
    lt_tokenizer *t = NULL;
    LT_CHECK(lt_tokenizer_load_json(js, strlen(js), "inline", &t) == LT_OK,
             "%s", lt_last_error());
    if (!t)
        return;
    TP_IDS(t, "HeLLo  \tA<S><s>", false, "added", 16, 5, 0, 0, 0, 7);
    lt_tokenizer_free(t);
}

/* lstrip / rstrip: an added token takes the white space beside it;
 * single_word: it is not matched inside a word. */
LT_TEST(added_tokens_strip)
{
    const char *js = "{\"added_tokens\": [{\"id\": 7, \"content\": \"<s>\", "
        "\"special\": true, \"lstrip\": true}, {\"id\": 8, \"content\": "
        "\"</s>\", \"special\": true, \"rstrip\": true}], \"model\": "
        "{\"type\": \"BPE\", \"unk_token\": \"<unk>\", " TP_VOCAB "}}";
    lt_tokenizer *t = NULL;
    LT_CHECK(lt_tokenizer_load_json(js, strlen(js), "inline", &t) == LT_OK,
             "%s", lt_last_error());
    if (!t)
        return;
    TP_IDS(t, "a  <s>  b", false, "lstrip", 1, 7, 17, 17, 2);
    TP_IDS(t, "a  </s>  b", false, "rstrip", 1, 17, 17, 8, 2);
    TP_IDS(t, "  <s></s>  ", false, "both", 7, 8);
    lt_tokenizer_free(t);
    js = "{\"added_tokens\": [{\"id\": 16, \"content\": \"hello\", "
         "\"single_word\": true}], \"model\": {\"type\": \"BPE\", "
         "\"unk_token\": \"<unk>\", " TP_VOCAB "}}";
    LT_CHECK(lt_tokenizer_load_json(js, strlen(js), "inline", &t) == LT_OK,
             "%s", lt_last_error());
    if (t) /* single_word: not inside a word */
        TP_IDS(t, "hello,hello ahello", false, "single_word", 16, 11, 16, 17,
               1, 0, 0, 0, 0, 0);
    lt_tokenizer_free(t);
}

LT_TEST(post_processors)
{
    lt_tokenizer *t = tp_load("", ", \"post_processor\": {\"type\": "
        "\"Sequence\", \"processors\": [{\"type\": \"ByteLevel\"}, {\"type\": "
        "\"TemplateProcessing\", \"single\": [{\"SpecialToken\": {\"id\": "
        "\"<s>\"}}, {\"Sequence\": {\"id\": \"A\"}}, {\"SpecialToken\": "
        "{\"id\": \"</s>\"}}], \"special_tokens\": {\"<s>\": {\"ids\": [7]}, "
        "\"</s>\": {\"ids\": [8]}}}]}");
    if (t) {
        TP_IDS(t, "ab", true, "template", 7, 3, 8);
        TP_IDS(t, "ab", false, "no template", 3);
        TP_IDS(t, "", true, "template of nothing", 7, 8);
    }
    lt_tokenizer_free(t);
    t = tp_load("", ", \"post_processor\": {\"type\": \"BertProcessing\", "
                "\"sep\": [\"</s>\", 8], \"cls\": [\"<s>\", 7]}");
    if (t)
        TP_IDS(t, "b", true, "bert", 7, 2, 8);
    lt_tokenizer_free(t);
    lt_test_expect_fail_begin();
    t = tp_load("", ", \"post_processor\": {\"type\": \"BertProcessing\", "
                "\"sep\": [\"</s>\", 99], \"cls\": [\"<s>\", 7]}");
    LT_CHECK(lt_test_expect_fail_end() == 1, "the load did not fail");
    LT_CHECK(t == NULL && strstr(lt_last_error(), "BertProcessing"),
             "bad sep id: %s", lt_last_error());
}

/* Saving keeps the pipeline: the file reads back to the same JSON and
 * the same ids. */
LT_TEST(pipeline_round_trip)
{
    lt_tokenizer *t = tp_load(", \"byte_fallback\": true",
        ", \"normalizer\": {\"type\": \"NFKC\"}, \"pre_tokenizer\": {\"type\": "
        "\"Sequence\", \"pretokenizers\": [{\"type\": \"WhitespaceSplit\"}, "
        "{\"type\": \"Digits\", \"individual_digits\": true}]}, "
        "\"decoder\": {\"type\": \"Fuse\"}");
    if (!t)
        return;
    TP_IDS(t, "ab 12 \xef\xbc\xa1", false, "pipeline", 3, 9, 10, 0);
    char *j1 = lt_tokenizer_to_json(t);
    lt_tokenizer *u = NULL;
    LT_CHECK(j1 && lt_tokenizer_load_json(j1, strlen(j1), "again", &u) ==
                       LT_OK, "%s", lt_last_error());
    char *j2 = u ? lt_tokenizer_to_json(u) : NULL;
    LT_CHECK(j1 && j2 && !strcmp(j1, j2), "JSON differs after a round trip");
    LT_CHECK(j1 && strstr(j1, "WhitespaceSplit") && strstr(j1, "NFKC") &&
                 strstr(j1, "\"byte_fallback\":\ttrue"),
             "pipeline not saved");
    if (u)
        TP_IDS(u, "ab 12 \xef\xbc\xa1", false, "pipeline reloaded", 3, 9, 10,
               0);
    free(j1);
    free(j2);
    lt_tokenizer_free(u);
    lt_tokenizer_free(t);
}

LT_TEST_MAIN()
