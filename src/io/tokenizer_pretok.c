/*
 * tokenizer_pretok.c - GPT-2's pre-tokenizer written out by hand: it finds
 * the word the regex
 *     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 * would match at a position, trying the alternatives in that order as a
 * backtracking regex engine does. Characters fall in four classes: letter,
 * number, White_Space, other; bytes that are not valid UTF-8 are "other".
 */
#include "tokenizer_internal.h"

#include <string.h>

typedef enum { LT_TC_LETTER, LT_TC_NUMBER, LT_TC_SPACE, LT_TC_OTHER } lt_tok_cls;

/* The class of the character at s[pos]; *len gets its length in bytes. */
static lt_tok_cls lt_tok_class_at(const uint8_t *s, size_t n, size_t pos,
                                  int *len)
{
    uint32_t cp;
    *len = lt_tok_utf8_next(s + pos, n - pos, &cp);
    if (cp == LT_TOK_BADCP)
        return LT_TC_OTHER;
    if (lt_tok_is_letter(cp))
        return LT_TC_LETTER;
    if (lt_tok_is_number(cp))
        return LT_TC_NUMBER;
    if (lt_tok_is_space(cp))
        return LT_TC_SPACE;
    return LT_TC_OTHER;
}

/* The end of the run of class c that starts at pos. */
static size_t lt_tok_run(const uint8_t *s, size_t n, size_t pos, lt_tok_cls c)
{
    int len;
    while (pos < n && lt_tok_class_at(s, n, pos, &len) == c)
        pos += (size_t)len;
    return pos;
}

/* 's 't 're 've 'm 'll 'd (case-sensitive): the length, or 0. */
static size_t lt_tok_contraction(const uint8_t *s, size_t n, size_t pos)
{
    if (s[pos] != '\'' || pos + 1 >= n)
        return 0;
    uint8_t a = s[pos + 1];
    if (a == 's' || a == 't' || a == 'm' || a == 'd')
        return 2;
    if (pos + 2 < n) {
        uint8_t b = s[pos + 2];
        if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') ||
            (a == 'l' && b == 'l'))
            return 3;
    }
    return 0;
}

size_t lt_tok_pretok_next(const uint8_t *s, size_t n, size_t pos)
{
    size_t k = lt_tok_contraction(s, n, pos);
    if (k)
        return pos + k;
    int len;
    lt_tok_cls c = lt_tok_class_at(s, n, pos, &len);
    /* " ?\p{L}+", " ?\p{N}+", " ?[^\s\p{L}\p{N}]+" */
    if (s[pos] == ' ' && pos + 1 < n) {
        int len1;
        lt_tok_cls c1 = lt_tok_class_at(s, n, pos + 1, &len1);
        if (c1 != LT_TC_SPACE)
            return lt_tok_run(s, n, pos + 1, c1);
    }
    if (c != LT_TC_SPACE)
        return lt_tok_run(s, n, pos, c);
    /* "\s+(?!\S)": the run of white space, less its last character when
     * something follows it; "\s+" when that would leave nothing. */
    size_t end = pos, last = pos;
    while (end < n && lt_tok_class_at(s, n, end, &len) == LT_TC_SPACE) {
        last = end;
        end += (size_t)len;
    }
    if (end < n && last > pos)
        return last;
    return end;
}
