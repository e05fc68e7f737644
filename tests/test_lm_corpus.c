/*
 * test_lm_corpus.c - lt_lm_tokenizer_for_files (lethe/lm.h): a QA file
 * gives the tokenizer lt_lm_tokenizer_for_qa gives its records, a text
 * file the one trained on its bytes, and an unreadable file an error
 * naming it.
 */
#include "lethe/io.h"
#include "lethe/lm.h"
#include "lt_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OK(x) LT_CHECK((x) == LT_OK, "%s: %s", #x, lt_last_error())

static const char *const sp[] = {"<|endoftext|>"};

/* Same vocabulary, token by token. */
static void check_same(const lt_tokenizer *a, const lt_tokenizer *b)
{
    int n = lt_tokenizer_vocab_size(a);
    LT_CHECK(n == lt_tokenizer_vocab_size(b) &&
                 lt_tokenizer_n_merges(a) == lt_tokenizer_n_merges(b),
             "vocab %d vs %d", n, lt_tokenizer_vocab_size(b));
    for (int32_t i = 0; i < n; i++) {
        size_t la = 0, lb = 0;
        const char *ta = lt_tokenizer_token(a, i, &la);
        const char *tb = lt_tokenizer_token(b, i, &lb);
        LT_CHECK(ta && tb && la == lb && !memcmp(ta, tb, la), "token %d", i);
    }
}

LT_TEST(files_match_the_texts_they_hold)
{
    char dir[] = "/tmp/lethe_corpus_XXXXXX", qa[64], txt[64], none[64];
    LT_CHECK(mkdtemp(dir), "mkdtemp");
    snprintf(qa, sizeof qa, "%s/qa.jsonl", dir);
    snprintf(txt, sizeof txt, "%s/t.txt", dir);
    snprintf(none, sizeof none, "%s/none.txt", dir);
    lt_tofu_set s = {0};
    for (int i = 0; i < 6; i++)
        lt_tofu_push(&s, i % 2 ? "Who wrote it?" : "Where was she born?",
                     i % 3 ? "She was born in Lisbon." : "Ada Vell wrote it.",
                     NULL, NULL, NULL, 0);
    const char *text = "the cat sat on the mat\n\nthe cat sat  \n";
    OK(lt_tofu_save(qa, &s));
    OK(lt_write_text_atomic(txt, text));
    lt_tokenizer_train_opts o = {280, 2, sp, 1};
    lt_tokenizer *a = NULL, *b = NULL, *c = NULL, *d = NULL;
    const char *p1[] = {qa}, *p2[] = {txt};
    OK(lt_lm_tokenizer_for_files(p1, 1, &o, &a));
    OK(lt_lm_tokenizer_for_qa(&s, &o, &b));
    check_same(a, b);
    OK(lt_lm_tokenizer_for_files(p2, 1, &o, &c));
    OK(lt_tokenizer_train(&text, NULL, 1, &o, &d));
    check_same(c, d);
    const char *p3[] = {txt, none};
    lt_tokenizer *e = NULL;
    lt_status st = lt_lm_tokenizer_for_files(p3, 2, &o, &e);
    LT_CHECK(st == LT_ERR_IO && !e && strstr(lt_last_error(), none) &&
                 strstr(lt_last_error(), "corpus: "),
             "missing file: %s", lt_last_error());
    lt_tokenizer_free(a);
    lt_tokenizer_free(b);
    lt_tokenizer_free(c);
    lt_tokenizer_free(d);
    lt_tofu_free(&s);
    unlink(qa);
    unlink(txt);
    rmdir(dir);
}

LT_TEST_MAIN()
