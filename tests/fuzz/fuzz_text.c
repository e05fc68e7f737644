/*
 * fuzz_text.c - libFuzzer harness of the plain-text corpus readers: the
 * "%"-separated text sets of lethe/fortunes.h (lt_text_set_parse, which
 * lt_text_set_load and lt_fortune_load call), the KnowMem cloze items cut
 * from each text (lt_muse_cloze) and the LM data built from the same text
 * format (lt_lm_data_docs, lt_lm_data_text) with a small tokenizer
 * trained once.
 *
 * Oracles: every text is non-empty and has no trailing whitespace;
 * lt_text_set_save then lt_text_set_load gives the same texts (the save
 * may refuse only a text ending in a "%" line, a known limitation); a cloze
 * item has a non-empty question that is a prefix of its text and does not
 * end in whitespace, and a non-empty answer; LM examples have 2..max_len
 * tokens, all below the vocabulary size, that decode.
 */
#include "fuzz.h"

static lt_tokenizer *fz_tok;

static const lt_tokenizer *fz_tokenizer(void)
{
    if (!fz_tok) {
        static const char *text[] = {
            "Question: What is the capital of France?\nAnswer: Paris.\n%\n"
            "The quick brown fox jumps over the lazy dog. -- Anonymous\n"};
        const char *special[] = {"<|endoftext|>"};
        lt_tokenizer_train_opts o = {.vocab_size = 300, .min_frequency = 2,
                                     .special_tokens = special,
                                     .n_special = 1};
        FZ_CHECK(lt_tokenizer_train(text, NULL, 1, &o, &fz_tok) == LT_OK,
                 "tokenizer training");
    }
    return fz_tok;
}

static int fz_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f';
}

static void fz_check_lm(const lt_lm_data *d, int64_t max_len,
                        const lt_tokenizer *t)
{
    int32_t v = lt_tokenizer_vocab_size(t);
    FZ_CHECK(d->n >= 1 && d->offset[0] == 0, "no examples");
    for (int64_t i = 0; i < d->n; i++) {
        int64_t len = lt_lm_example_len(d, i);
        FZ_CHECK(len >= 2 && len <= max_len, "example %lld has %lld tokens",
                 (long long)i, (long long)len);
        const int32_t *ids = d->tokens + d->offset[i];
        for (int64_t k = 0; k < len; k++)
            FZ_CHECK(ids[k] >= 0 && ids[k] < v, "token %d", ids[k]);
        char *s = NULL;
        size_t n = 0;
        FZ_CHECK(lt_tokenizer_decode(t, ids, (size_t)len, &s, &n) == LT_OK,
                 "decode example %lld", (long long)i);
        free(s);
    }
    FZ_CHECK(d->offset[d->n] == d->n_tokens, "offsets do not cover tokens");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    lt_text_set a;
    lt_status s = lt_text_set_parse(buf, size, "fuzz", &a);
    if (s == LT_OK) {
        for (int64_t i = 0; i < a.n; i++) {
            size_t n = strlen(a.text[i]);
            FZ_CHECK(n > 0 && !fz_blank(a.text[i][n - 1]),
                     "text %lld is empty or ends in whitespace", (long long)i);
            char *q = NULL, *ans = NULL;
            if (lt_muse_cloze(a.text[i], &q, &ans) == LT_OK) {
                size_t nq = strlen(q);
                FZ_CHECK(nq > 0 && !fz_blank(q[nq - 1]) &&
                         !strncmp(q, a.text[i], nq), "cloze question of "
                         "text %lld", (long long)i);
                FZ_CHECK(*ans, "cloze answer of text %lld is empty",
                         (long long)i);
            } else {
                FZ_CHECK(!q && !ans, "failed cloze left strings");
            }
            free(q);
            free(ans);
        }
        const char *p = fz_path("texts.txt");
        lt_status w = lt_text_set_save(p, &a);
        if (w != LT_OK) {
            /* Known (reported, issue 20): a text whose last line is "%"
             * plus whitespace ("%\t") is content to the parser, but the
             * whitespace is trimmed and the writer then refuses the
             * separator-like last line. Nothing else may be refused. */
            bool sep_tail = false;
            for (int64_t i = 0; i < a.n && !sep_tail; i++) {
                size_t n = strlen(a.text[i]);
                sep_tail = a.text[i][n - 1] == '%' &&
                           (n == 1 || a.text[i][n - 2] == '\n');
            }
            FZ_CHECK(w == LT_ERR_ARG && sep_tail, "save of parsed texts");
            lt_text_set_free(&a);
            goto lm;
        }
        lt_text_set b;
        FZ_CHECK(lt_text_set_load(p, &b) == LT_OK, "reload of saved texts");
        FZ_CHECK(a.n == b.n, "%lld texts reload as %lld", (long long)a.n,
                 (long long)b.n);
        for (int64_t i = 0; i < a.n; i++)
            FZ_CHECK(!strcmp(a.text[i], b.text[i]), "text %lld differs "
                     "after save/load", (long long)i);
        lt_text_set_free(&b);
        lt_text_set_free(&a);
    } else {
        FZ_CHECK(s == LT_ERR_FORMAT || s == LT_ERR_NOMEM, "status %s",
                 lt_status_name(s));
    }
lm:;
    const lt_tokenizer *t = fz_tokenizer();
    lt_lm_data d;
    if (lt_lm_data_docs(t, buf, size, 64, "fuzz", &d) == LT_OK) {
        fz_check_lm(&d, 64, t);
        lt_lm_data_free(&d);
    }
    if (lt_lm_data_text(t, buf, size, 16, "fuzz", &d) == LT_OK) {
        fz_check_lm(&d, 16, t);
        lt_lm_data_free(&d);
    }
    return 0;
}
