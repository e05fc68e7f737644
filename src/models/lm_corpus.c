/*
 * lm_corpus.c - a tokenizer trained on a corpus of files (lethe/lm.h,
 * lt_lm_tokenizer_for_files): TOFU QA files give the texts the language
 * model sees for their records, any other file is one plain text.
 */
#include "lethe/io.h"
#include "lethe/lm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char **text;
    size_t *len;
    size_t n, cap;
} lm_corpus;

/* Append text (taken over: freed on error). */
static lt_status lm_corpus_push(lm_corpus *c, char *text, size_t len)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        char **t = realloc(c->text, cap * sizeof *t);
        if (t)
            c->text = t;
        size_t *l = t ? realloc(c->len, cap * sizeof *l) : NULL;
        if (!l) {
            free(text);
            return lt_set_error(LT_ERR_NOMEM, "corpus: out of memory");
        }
        c->len = l;
        c->cap = cap;
    }
    c->text[c->n] = text;
    c->len[c->n++] = len;
    return LT_OK;
}

static void lm_corpus_free(lm_corpus *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->text[i]);
    free(c->text);
    free(c->len);
}

/* "Question: {q}\nAnswer: {a}" for every record of the QA file path. */
static lt_status lm_corpus_qa(lm_corpus *c, const char *path)
{
    lt_tofu_set s;
    lt_status st = lt_tofu_load(path, &s);
    for (int64_t i = 0; st == LT_OK && i < s.n; i++) {
        char *p = lt_lm_prompt_text(s.qa[i].question);
        size_t n = p ? strlen(p) + strlen(s.qa[i].answer) + 2 : 0;
        char *t = p ? malloc(n) : NULL;
        if (t)
            snprintf(t, n, "%s %s", p, s.qa[i].answer);
        free(p);
        st = t ? lm_corpus_push(c, t, strlen(t))
               : lt_set_error(LT_ERR_NOMEM, "corpus: out of memory");
    }
    lt_tofu_free(&s);
    return st;
}

static lt_status lm_corpus_file(lm_corpus *c, const char *path)
{
    const char *dot = strrchr(path, '.');
    if (dot && (!strcmp(dot, ".json") || !strcmp(dot, ".jsonl")))
        return lm_corpus_qa(c, path);
    char *buf = NULL;
    size_t len = 0;
    if (lt_read_file(path, &buf, &len) != LT_OK)
        return lt_set_error(LT_ERR_IO, "corpus: %s", lt_last_error());
    return lm_corpus_push(c, buf, len);
}

lt_status lt_lm_tokenizer_for_files(const char *const *paths, int n,
                                    const lt_tokenizer_train_opts *o,
                                    lt_tokenizer **out)
{
    if (out)
        *out = NULL;
    if (!paths || n < 1 || !o || !out)
        return lt_set_error(LT_ERR_ARG, "corpus: no files");
    lm_corpus c = {0};
    lt_status st = LT_OK;
    for (int i = 0; i < n && st == LT_OK; i++)
        st = lm_corpus_file(&c, paths[i]);
    if (st == LT_OK)
        st = lt_tokenizer_train((const char *const *)c.text, c.len, c.n, o,
                                out);
    lm_corpus_free(&c);
    return st;
}
