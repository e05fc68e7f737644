/*
 * fuzz_tokenizer.c - libFuzzer harness of the Hugging Face tokenizer.json
 * loader (lt_tokenizer_load_json, from memory).
 *
 * Oracles, when the input loads:
 *   - lt_tokenizer_to_json, loaded again, writes the same text (a fixed
 *     point after one round trip), with the same vocabulary, tokens,
 *     merges and special roles;
 *   - both tokenizers encode a sample (fixed text plus the input's first
 *     bytes) to the same status and ids, and every id decodes; with the
 *     post-processor's special tokens too, which only add ids around
 *     those of the plain encoding;
 *   - lt_tokenizer_token_id finds every token's bytes (that id or another
 *     with the same bytes).
 */
#include "fuzz.h"

static const char fz_sample[] =
    "Hello, world! It's 2024 <|endoftext|> caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac"
    "  tabs\tand\nnewlines\r\n\xff\xfe <s></s>[UNK]";

static void fz_encode(const lt_tokenizer *t, const char *text, size_t len,
                      lt_status *s, int32_t **ids, size_t *n)
{
    *ids = NULL;
    *n = 0;
    *s = lt_tokenizer_encode(t, text, len, ids, n);
    if (*s != LT_OK) {
        FZ_CHECK(*s == LT_ERR_ARG || *s == LT_ERR_NOMEM, "encode: %s",
                 lt_status_name(*s));
        return;
    }
    int32_t v = lt_tokenizer_vocab_size(t);
    for (size_t i = 0; i < *n; i++)
        FZ_CHECK((*ids)[i] >= 0 && (*ids)[i] < v, "id %d out of range",
                 (*ids)[i]);
    char *back = NULL;
    size_t blen = 0;
    FZ_CHECK(lt_tokenizer_decode(t, *ids, *n, &back, &blen) == LT_OK,
             "decode of encoded ids");
    free(back);
}

static void fz_same(const lt_tokenizer *a, const lt_tokenizer *b)
{
    int32_t v = lt_tokenizer_vocab_size(a);
    FZ_CHECK(v == lt_tokenizer_vocab_size(b), "vocab %d != %d", v,
             lt_tokenizer_vocab_size(b));
    for (int32_t id = 0; id < v; id++) {
        size_t la = 0, lb = 0;
        const char *x = lt_tokenizer_token(a, id, &la);
        const char *y = lt_tokenizer_token(b, id, &lb);
        FZ_CHECK(!x == !y, "id %d used in one only", id);
        FZ_CHECK(!x || (la == lb && !memcmp(x, y, la)), "token %d differs", id);
        FZ_CHECK(lt_tokenizer_is_special(a, id) == lt_tokenizer_is_special(b, id),
                 "special flag of %d differs", id);
        if (x) {
            int32_t k = lt_tokenizer_token_id(a, x, la);
            size_t lk = 0;
            const char *z = k >= 0 ? lt_tokenizer_token(a, k, &lk) : NULL;
            FZ_CHECK(z && lk == la && !memcmp(z, x, la),
                     "token_id of token %d gives %d", id, k);
        }
    }
    FZ_CHECK(lt_tokenizer_n_merges(a) == lt_tokenizer_n_merges(b),
             "merge count differs");
    for (int32_t r = 0; r < lt_tokenizer_n_merges(a); r++) {
        int32_t l1, r1, o1, l2, r2, o2;
        FZ_CHECK(lt_tokenizer_merge(a, r, &l1, &r1, &o1) == LT_OK &&
                 lt_tokenizer_merge(b, r, &l2, &r2, &o2) == LT_OK, "merge %d", r);
        FZ_CHECK(l1 == l2 && r1 == r2 && o1 == o2, "merge %d differs", r);
    }
    for (int role = 0; role < LT_TOK_N_ROLES; role++)
        FZ_CHECK(lt_tokenizer_special_id(a, (lt_tok_role)role) ==
                 lt_tokenizer_special_id(b, (lt_tok_role)role),
                 "role %d differs", role);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lt_tokenizer *t = NULL;
    lt_status s = lt_tokenizer_load_json((const char *)data, size,
                                         "fuzz.json", &t);
    FZ_CHECK((s == LT_OK) == (t != NULL), "status and result disagree");
    if (s != LT_OK) {
        FZ_CHECK(s == LT_ERR_FORMAT || s == LT_ERR_NOMEM, "status %s",
                 lt_status_name(s));
        return 0;
    }
    char *j1 = lt_tokenizer_to_json(t);
    FZ_CHECK(j1 != NULL, "to_json");
    lt_tokenizer *u = NULL;
    s = lt_tokenizer_load_json(j1, strlen(j1), "fuzz-rt.json", &u);
    FZ_CHECK(s == LT_OK, "reload of to_json output failed");
    char *j2 = lt_tokenizer_to_json(u);
    FZ_CHECK(j2 && !strcmp(j1, j2), "to_json is not a fixed point");
    fz_same(t, u);
    /* a sample: fixed text, then up to 256 bytes of the input */
    size_t k = size < 256 ? size : 256, len = sizeof fz_sample - 1 + k;
    char *text = malloc(len + 1);
    FZ_CHECK(text != NULL, "out of memory");
    memcpy(text, fz_sample, sizeof fz_sample - 1);
    if (k)
        memcpy(text + sizeof fz_sample - 1, data, k);
    int32_t *i1, *i2;
    size_t n1, n2;
    lt_status s1, s2;
    fz_encode(t, text, len, &s1, &i1, &n1);
    fz_encode(u, text, len, &s2, &i2, &n2);
    FZ_CHECK(s1 == s2 && n1 == n2 && (n1 == 0 || !memcmp(i1, i2, n1 * 4)),
             "the reloaded tokenizer encodes differently");
    int32_t *i3 = NULL;
    size_t n3 = 0;
    lt_status s3 = lt_tokenizer_encode_special(u, text, len, &i3, &n3);
    FZ_CHECK(s3 == s1, "encode_special status differs");
    bool inside = false;
    for (size_t off = 0; s3 == LT_OK && off + n1 <= n3 && !inside; off++)
        inside = n1 == 0 || !memcmp(i3 + off, i1, n1 * 4);
    FZ_CHECK(s3 != LT_OK || inside, "encode_special does not hold encode");
    free(i3);
    free(i1);
    free(i2);
    free(text);
    free(j1);
    free(j2);
    lt_tokenizer_free(u);
    lt_tokenizer_free(t);
    return 0;
}
