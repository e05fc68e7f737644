/*
 * lm_data.c - the language model's data pipeline: QA records and plain
 * text to token examples with a scored part (question tokens and padding
 * never scored), and padded batches with labels and masks. See lethe/lm.h.
 */
#include "lethe/io.h"
#include "lethe/lm.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- data ------------------------------------------------------------------ */

void lt_lm_data_free(lt_lm_data *d)
{
    if (!d)
        return;
    free(d->tokens);
    free(d->offset);
    free(d->n_prompt);
    memset(d, 0, sizeof *d);
}

int64_t lt_lm_example_len(const lt_lm_data *d, int64_t i)
{
    return d->offset[i + 1] - d->offset[i];
}

int64_t lt_lm_example_scored(const lt_lm_data *d, int64_t i)
{
    int64_t len = lt_lm_example_len(d, i), p = d->n_prompt[i];
    p = p < 1 ? 1 : p;
    return len > p ? len - p : 0;
}

static lt_status lm_add(lt_lm_data *d, const int32_t *a, int64_t na,
                        const int32_t *b, int64_t nb, int32_t n_prompt)
{
    if (!d->offset || d->n + 1 >= d->cap) {
        int64_t cap = d->cap ? 2 * d->cap : 256;
        int64_t *o = realloc(d->offset, (size_t)(cap + 1) * sizeof *o);
        if (o)
            d->offset = o;
        int32_t *p = o ? realloc(d->n_prompt, (size_t)cap * sizeof *p) : NULL;
        if (!p)
            return lt_set_error(LT_ERR_NOMEM, "lm data: out of memory");
        d->n_prompt = p;
        if (d->cap == 0)
            d->offset[0] = 0;
        d->cap = cap;
    }
    int64_t need = d->n_tokens + na + nb;
    if (need > d->cap_tokens) {
        int64_t cap = d->cap_tokens ? 2 * d->cap_tokens : 4096;
        while (cap < need)
            cap *= 2;
        int32_t *t = realloc(d->tokens, (size_t)cap * sizeof *t);
        if (!t)
            return lt_set_error(LT_ERR_NOMEM, "lm data: out of memory");
        d->tokens = t;
        d->cap_tokens = cap;
    }
    if (na)
        memcpy(d->tokens + d->n_tokens, a, (size_t)na * sizeof *a);
    if (nb)
        memcpy(d->tokens + d->n_tokens + na, b, (size_t)nb * sizeof *b);
    d->n_tokens = need;
    d->n_prompt[d->n] = n_prompt;
    d->offset[++d->n] = need;
    if (na + nb > d->max_len)
        d->max_len = na + nb;
    return LT_OK;
}

char *lt_lm_prompt_text(const char *question)
{
    size_t n = strlen(question) + 32;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "Question: %s\nAnswer:", question);
    else
        lt_set_error(LT_ERR_NOMEM, "lm prompt: out of memory");
    return s;
}

static lt_status lm_encode(const lt_tokenizer *tok, const char *text,
                           int32_t bos, int32_t **ids, size_t *n)
{
    int32_t *raw = NULL;
    size_t nr = 0;
    lt_status s = lt_tokenizer_encode(tok, text, strlen(text), &raw, &nr);
    if (s != LT_OK)
        return s;
    size_t k = bos >= 0 ? 1 : 0;
    int32_t *out = malloc((nr + k + 1) * sizeof *out);
    if (!out) {
        free(raw);
        return lt_set_error(LT_ERR_NOMEM, "lm encode: out of memory");
    }
    if (k)
        out[0] = bos;
    if (nr)
        memcpy(out + k, raw, nr * sizeof *raw);
    free(raw);
    *ids = out;
    *n = nr + k;
    return LT_OK;
}

lt_status lt_lm_prompt_ids(const lt_tokenizer *tok, const char *question,
                           int32_t **ids, size_t *n)
{
    if (!tok || !question || !ids || !n)
        return lt_set_error(LT_ERR_ARG, "lm prompt: NULL argument");
    char *p = lt_lm_prompt_text(question);
    if (!p)
        return LT_ERR_NOMEM;
    lt_status s = lm_encode(tok, p, lt_tokenizer_special_id(tok, LT_TOK_BOS),
                            ids, n);
    free(p);
    return s;
}

lt_status lt_lm_data_add_qa(lt_lm_data *d, const lt_tokenizer *tok,
                            const char *question, const char *answer,
                            int64_t max_len)
{
    int32_t eos = tok ? lt_tokenizer_special_id(tok, LT_TOK_EOS) : -1;
    if (!d || !answer || eos < 0)
        return lt_set_error(LT_ERR_ARG, "lm data: %s", eos < 0 && tok ?
                            "the tokenizer has no EOS token (add one with "
                            "--special \"<|endoftext|>\")" : "NULL argument");
    int32_t *q = NULL, *a = NULL;
    size_t nq = 0, na = 0;
    char *at = malloc(strlen(answer) + 2);
    if (!at)
        return lt_set_error(LT_ERR_NOMEM, "lm data: out of memory");
    at[0] = ' ';
    strcpy(at + 1, answer);
    lt_status s = lt_lm_prompt_ids(tok, question, &q, &nq);
    if (s == LT_OK)
        s = lm_encode(tok, at, -1, &a, &na);
    free(at);
    if (s == LT_OK) {
        a[na++] = eos; /* lm_encode left room for one more id */
        if (max_len > 0 && (int64_t)nq >= max_len)
            s = lt_set_error(LT_ERR_ARG, "lm data: the question \"%.40s...\" "
                             "takes %zu tokens, the model holds %lld",
                             question, nq, (long long)max_len);
        else if (max_len > 0 && (int64_t)(nq + na) > max_len) {
            na = (size_t)max_len - nq;
            d->n_truncated++;
        }
    }
    if (s == LT_OK)
        s = lm_add(d, q, (int64_t)nq, a, (int64_t)na, (int32_t)nq);
    free(q);
    free(a);
    return s;
}

lt_status lt_lm_data_qa(const lt_tokenizer *tok, const lt_tofu_set *set,
                        int64_t max_len, lt_lm_data *out)
{
    if (!out || !set || !tok)
        return lt_set_error(LT_ERR_ARG, "lm data: NULL argument");
    memset(out, 0, sizeof *out);
    for (int64_t i = 0; i < set->n; i++) {
        lt_status s = lt_lm_data_add_qa(out, tok, set->qa[i].question,
                                        set->qa[i].answer, max_len);
        if (s != LT_OK) {
            lt_lm_data_free(out);
            return s;
        }
    }
    if (set->n == 0)
        return lt_set_error(LT_ERR_ARG, "lm data: the QA set is empty");
    return LT_OK;
}

/* Length of the document starting at text (up to a line holding only
 * "%"); *next gets the start of the following document. */
static size_t lm_doc(const char *text, size_t len, size_t *next)
{
    size_t i = 0;
    while (i < len) {
        size_t e = i;
        while (e < len && text[e] != '\n')
            e++;
        size_t ll = e - i;
        if ((ll == 1 && text[i] == '%') ||
            (ll == 2 && text[i] == '%' && text[i + 1] == '\r')) {
            *next = e < len ? e + 1 : e;
            return i;
        }
        i = e < len ? e + 1 : e;
    }
    *next = len;
    return len;
}

/* Append the tokens of text[0..len) (+ EOS) to stream (grown). */
static lt_status lm_stream_doc(const lt_tokenizer *tok, const char *text,
                               size_t len, int32_t eos, lt_lm_data *stream)
{
    int32_t *ids = NULL;
    size_t n = 0;
    lt_status s = lt_tokenizer_encode(tok, text, len, &ids, &n);
    if (s == LT_OK && n)
        s = lm_add(stream, ids, (int64_t)n, &eos, eos >= 0 ? 1 : 0, 0);
    free(ids);
    return s;
}

lt_status lt_lm_data_text(const lt_tokenizer *tok, const char *text,
                          size_t len, int64_t T, const char *what,
                          lt_lm_data *out)
{
    if (!out || !tok || !text || T < 2)
        return lt_set_error(LT_ERR_ARG, "lm text %s: need a tokenizer, text "
                            "and a window T >= 2", what ? what : "");
    memset(out, 0, sizeof *out);
    lt_lm_data st = {0};
    int32_t eos = lt_tokenizer_special_id(tok, LT_TOK_EOS);
    lt_status s = LT_OK;
    for (size_t pos = 0, next; pos < len && s == LT_OK; pos = next) {
        size_t dl = lm_doc(text + pos, len - pos, &next);
        next += pos;
        if (dl > 0)
            s = lm_stream_doc(tok, text + pos, dl, eos, &st);
    }
    for (int64_t i = 0; s == LT_OK && i + 1 < st.n_tokens; i += T) {
        int64_t n = st.n_tokens - i < T ? st.n_tokens - i : T;
        if (n >= 2)
            s = lm_add(out, st.tokens + i, n, NULL, 0, 0);
    }
    lt_lm_data_free(&st);
    if (s == LT_OK && out->n == 0)
        s = lt_set_error(LT_ERR_FORMAT, "lm text %s: no text to train on",
                         what ? what : "");
    if (s != LT_OK)
        lt_lm_data_free(out);
    return s;
}

/* Read path and hand its bytes to reader (lt_lm_data_text or _docs). */
typedef lt_status (*lm_reader)(const lt_tokenizer *, const char *, size_t,
                               int64_t, const char *, lt_lm_data *);
static lt_status lm_from_file(lm_reader reader, const lt_tokenizer *tok,
                              const char *path, int64_t T, lt_lm_data *out)
{
    char *buf = NULL;
    size_t n = 0;
    if (lt_read_file(path, &buf, &n) != LT_OK)
        return lt_last_status();
    lt_status s = reader(tok, buf, n, T, path, out);
    free(buf);
    return s;
}

lt_status lt_lm_data_text_file(const lt_tokenizer *tok, const char *path,
                               int64_t T, lt_lm_data *out)
{
    return lm_from_file(lt_lm_data_text, tok, path, T, out);
}

/* Append BOS (if any) + the tokens of text[0..len) + EOS as one example,
 * cut to max_len (> 0). */
static lt_status lm_doc_example(const lt_tokenizer *tok, const char *text,
                                size_t len, int64_t max_len, lt_lm_data *d)
{
    int32_t bos = lt_tokenizer_special_id(tok, LT_TOK_BOS);
    int32_t eos = lt_tokenizer_special_id(tok, LT_TOK_EOS);
    int32_t *ids = NULL;
    size_t n = 0;
    lt_status s = lt_tokenizer_encode(tok, text, len, &ids, &n);
    if (s != LT_OK || n == 0) {
        free(ids);
        return s;
    }
    int32_t *ex = malloc((n + 2) * sizeof *ex);
    if (!ex) {
        free(ids);
        return lt_set_error(LT_ERR_NOMEM, "lm data: out of memory");
    }
    int64_t k = 0;
    if (bos >= 0)
        ex[k++] = bos;
    memcpy(ex + k, ids, n * sizeof *ids);
    k += (int64_t)n;
    if (eos >= 0)
        ex[k++] = eos;
    free(ids);
    if (k > max_len) {
        k = max_len;
        d->n_truncated++;
    }
    s = k >= 2 ? lm_add(d, ex, k, NULL, 0, 0) : LT_OK;
    free(ex);
    return s;
}

lt_status lt_lm_data_docs(const lt_tokenizer *tok, const char *text,
                          size_t len, int64_t max_len, const char *what,
                          lt_lm_data *out)
{
    if (!out || !tok || !text || max_len < 2)
        return lt_set_error(LT_ERR_ARG, "lm docs %s: need a tokenizer, text "
                            "and max_len >= 2", what ? what : "");
    memset(out, 0, sizeof *out);
    lt_status s = LT_OK;
    for (size_t pos = 0, next; pos < len && s == LT_OK; pos = next) {
        size_t dl = lm_doc(text + pos, len - pos, &next);
        next += pos;
        if (dl > 0)
            s = lm_doc_example(tok, text + pos, dl, max_len, out);
    }
    if (s == LT_OK && out->n == 0)
        s = lt_set_error(LT_ERR_FORMAT, "lm docs %s: no text to train on",
                         what ? what : "");
    if (s != LT_OK)
        lt_lm_data_free(out);
    return s;
}

lt_status lt_lm_data_docs_file(const lt_tokenizer *tok, const char *path,
                               int64_t max_len, lt_lm_data *out)
{
    return lm_from_file(lt_lm_data_docs, tok, path, max_len, out);
}

lt_status lt_lm_tokenizer_for_qa(const lt_tofu_set *set,
                                 const lt_tokenizer_train_opts *o,
                                 lt_tokenizer **out)
{
    if (!set || set->n < 1 || !o || !out)
        return lt_set_error(LT_ERR_ARG, "lm tokenizer: empty QA set");
    char **texts = calloc((size_t)set->n, sizeof *texts);
    lt_status s = texts ? LT_OK : LT_ERR_NOMEM;
    for (int64_t i = 0; i < set->n && s == LT_OK; i++) {
        const lt_tofu_qa *r = &set->qa[i];
        size_t n = strlen(r->question) + strlen(r->answer) + 32;
        texts[i] = malloc(n);
        if (!texts[i])
            s = LT_ERR_NOMEM;
        else
            snprintf(texts[i], n, "Question: %s\nAnswer: %s", r->question,
                     r->answer);
    }
    if (s == LT_OK)
        s = lt_tokenizer_train((const char *const *)texts, NULL,
                               (size_t)set->n, o, out);
    else
        lt_set_error(s, "lm tokenizer: out of memory");
    for (int64_t i = 0; texts && i < set->n; i++)
        free(texts[i]);
    free(texts);
    return s;
}

lt_status lt_lm_batch(const lt_lm_data *d, const int64_t *idx, int64_t B,
                      int64_t t_fixed, int32_t pad_id, int32_t *ids,
                      int32_t *labels, uint8_t *mask, int64_t *T_out,
                      int64_t *n_scored, int64_t *n_real)
{
    if (!d || !idx || B < 1 || !ids || !labels)
        return lt_set_error(LT_ERR_ARG, "lm batch: NULL argument or B < 1");
    int64_t T = 0, ns = 0, nr = 0;
    for (int64_t b = 0; b < B; b++) {
        if (idx[b] < 0 || idx[b] >= d->n)
            return lt_set_error(LT_ERR_ARG, "lm batch: example %lld outside "
                                "[0, %lld)", (long long)idx[b],
                                (long long)d->n);
        int64_t len = lt_lm_example_len(d, idx[b]);
        if (t_fixed > 0 && len > t_fixed)
            return lt_set_error(LT_ERR_ARG, "lm batch: example %lld has %lld "
                                "tokens, more than T = %lld",
                                (long long)idx[b], (long long)len,
                                (long long)t_fixed);
        T = len > T ? len : T;
    }
    T = t_fixed > 0 ? t_fixed : T;
    for (int64_t b = 0; b < B; b++) {
        const int32_t *src = d->tokens + d->offset[idx[b]];
        int64_t len = lt_lm_example_len(d, idx[b]);
        int64_t p = d->n_prompt[idx[b]] < 1 ? 1 : d->n_prompt[idx[b]];
        for (int64_t t = 0; t < T; t++) {
            bool real = t < len, on = real && t >= p;
            ids[b * T + t] = real ? src[t] : pad_id;
            labels[b * T + t] = on ? src[t] : LT_LLAMA_IGNORE;
            if (mask)
                mask[b * T + t] = on;
            ns += on;
            nr += real;
        }
    }
    if (T_out)
        *T_out = T;
    if (n_scored)
        *n_scored = ns;
    if (n_real)
        *n_real = nr;
    return LT_OK;
}

