/*
 * tokenizer_regex.c - the regular expressions of tokenizer.json (Split
 * and Replace patterns, the Whitespace and Digits pre-tokenizers) through
 * PCRE2: UTF-8 with Unicode properties (\p{L}, \p{N}, and \s, \w, \d by
 * Unicode), JIT-compiled when the platform allows. Hugging Face's
 * `tokenizers` uses Oniguruma; the patterns these files use (classes,
 * alternation, lookahead, (?i:...), counted repeats) mean the same in
 * both. Text that is not valid UTF-8 is matched as far as it is valid:
 * an invalid byte never matches.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer_internal.h"

#include <pcre2.h>
#include <stdlib.h>

lt_status lt_tok_re_compile(const char *pat, size_t len, bool literal,
                            const char *what, void **re)
{
    int code = 0;
    PCRE2_SIZE off = 0;
    uint32_t opt = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF |
                   (literal ? PCRE2_LITERAL : PCRE2_UCP);
    pcre2_code *c = pcre2_compile((PCRE2_SPTR)pat, len, opt, &code, &off,
                                  NULL);
    *re = c;
    if (!c) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(code, msg, sizeof msg);
        return lt_set_error(LT_ERR_FORMAT,
                            "%s: pattern '%.*s' does not compile at offset "
                            "%zu: %s", what, (int)(len > 200 ? 200 : len), pat,
                            (size_t)off, (const char *)msg);
    }
    (void)pcre2_jit_compile(c, PCRE2_JIT_COMPLETE); /* else interpreted */
    return LT_OK;
}

void lt_tok_re_free(void *re)
{
    pcre2_code_free((pcre2_code *)re);
}

static lt_status lt_tok_re_push(size_t **spans, size_t *n, size_t *cap,
                                size_t a, size_t b)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 32;
        size_t *p = realloc(*spans, 2 * c * sizeof *p);
        if (!p)
            return lt_set_error(LT_ERR_NOMEM, "tokenizer: out of memory");
        *spans = p;
        *cap = c;
    }
    (*spans)[2 * *n] = a;
    (*spans)[2 * *n + 1] = b;
    ++*n;
    return LT_OK;
}

/* The length of the character at s[0..n) (1 for an invalid byte). */
static size_t lt_tok_re_step(const uint8_t *s, size_t n)
{
    uint32_t cp;
    return n ? (size_t)lt_tok_utf8_next(s, n, &cp) : 1;
}

lt_status lt_tok_re_matches(const void *re, const uint8_t *s, size_t n,
                            size_t **spans, size_t *n_spans)
{
    const pcre2_code *c = re;
    *spans = NULL;
    *n_spans = 0;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(c, NULL);
    if (!md)
        return lt_set_error(LT_ERR_NOMEM, "tokenizer: out of memory");
    size_t cap = 0, pos = 0;
    lt_status st = LT_OK;
    while (pos <= n && st == LT_OK) {
        int rc = pcre2_match(c, (PCRE2_SPTR)(n ? (const char *)s : ""), n,
                             pos, 0, md, NULL);
        if (rc == PCRE2_ERROR_NOMATCH)
            break;
        if (rc < 0) {
            PCRE2_UCHAR msg[120];
            pcre2_get_error_message(rc, msg, sizeof msg);
            st = lt_set_error(LT_ERR_ARG, "tokenizer: regex match failed: %s",
                              (const char *)msg);
            break;
        }
        const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        size_t a = ov[0], b = ov[1];
        if (b > a)
            st = lt_tok_re_push(spans, n_spans, &cap, a, b);
        pos = b > a ? b : a + lt_tok_re_step(s + a, n - a);
    }
    pcre2_match_data_free(md);
    if (st != LT_OK) {
        free(*spans);
        *spans = NULL;
        *n_spans = 0;
    }
    return st;
}
