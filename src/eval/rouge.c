/*
 * rouge.c - ROUGE-L with rouge_score's semantics (the scorer TOFU and MUSE
 * call): tokenize both texts as rouge_score's tokenize.py does, optionally
 * Porter-stem tokens longer than 3 characters (porter.c), give every
 * distinct token an integer id, and take the longest common subsequence by
 * dynamic programming in O(n*m) time and O(min(n, m)) memory.
 */
#include "lethe/rouge.h"

#include "lethe/core.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Tokens of one text: token i is buf[off[i] .. off[i] + len[i]). */
typedef struct {
    char *buf;
    size_t *off, *len;
    size_t n;
} lt_rouge_toks;

static void toks_free(lt_rouge_toks *t)
{
    free(t->buf);
    free(t->off);
    free(t->len);
    memset(t, 0, sizeof *t);
}

/* The next character of s at *i as Python's lower() followed by the
 * [^a-z0-9] -> space rule sees it: an ASCII letter or digit, or 0 for a
 * separator. *split_after is set when a separator follows the character
 * (U+0130 lowercases to "i" plus a combining dot). Advances *i. */
static char next_char(const unsigned char *s, size_t *i, bool *split_after)
{
    unsigned char b = s[*i];
    *split_after = false;
    if (b == 0xC4 && s[*i + 1] == 0xB0) { /* U+0130 -> "i\u0307" */
        *i += 2;
        *split_after = true;
        return 'i';
    }
    if (b == 0xE2 && s[*i + 1] == 0x84 && s[*i + 2] == 0xAA) { /* U+212A */
        *i += 3;
        return 'k';
    }
    *i += 1;
    if (b >= 'A' && b <= 'Z')
        return (char)(b - 'A' + 'a');
    if ((b >= 'a' && b <= 'z') || (b >= '0' && b <= '9'))
        return (char)b;
    return 0;
}

static void end_token(lt_rouge_toks *t, size_t *start, size_t *pos, bool stem)
{
    size_t n = *pos - *start;
    if (n == 0)
        return;
    if (stem && n > 3)
        n = lt_porter_stem(t->buf + *start, n);
    t->off[t->n] = *start;
    t->len[t->n] = n;
    t->n++;
    *pos = *start + n + 1; /* keep a byte for the stemmer's NUL */
    *start = *pos;
}

/* Splits text into tokens; false if memory runs out. */
static bool tokenize(const char *text, bool stem, lt_rouge_toks *t)
{
    memset(t, 0, sizeof *t);
    size_t n = text ? strlen(text) : 0;
    /* at most one token per two bytes (+1), each with a spare byte */
    size_t max_toks = n / 2 + 1;
    t->buf = malloc(n + max_toks + 1);
    t->off = malloc(max_toks * sizeof *t->off);
    t->len = malloc(max_toks * sizeof *t->len);
    if (!t->buf || !t->off || !t->len) {
        toks_free(t);
        return false;
    }
    const unsigned char *s = (const unsigned char *)(text ? text : "");
    size_t i = 0, start = 0, pos = 0;
    while (i < n) {
        bool split_after;
        char ch = next_char(s, &i, &split_after);
        if (ch)
            t->buf[pos++] = ch;
        if (!ch || split_after)
            end_token(t, &start, &pos, stem);
    }
    end_token(t, &start, &pos, stem);
    return true;
}

/* ---- interning: equal tokens get equal ids ---------------------------------- */

static uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ull;
    }
    return h;
}

typedef struct {
    const char *p; /* NULL: empty slot */
    size_t n;
    uint32_t id;
} lt_rouge_slot;

static uint32_t intern(lt_rouge_slot *tab, size_t mask, const char *p, size_t n,
                       uint32_t *next_id)
{
    size_t k = (size_t)hash_bytes(p, n) & mask;
    while (tab[k].p) {
        if (tab[k].n == n && memcmp(tab[k].p, p, n) == 0)
            return tab[k].id;
        k = (k + 1) & mask;
    }
    tab[k].p = p;
    tab[k].n = n;
    tab[k].id = (*next_id)++;
    return tab[k].id;
}

/* Ids of a's tokens into ia and b's into ib; false if memory runs out. */
static bool assign_ids(const lt_rouge_toks *a, const lt_rouge_toks *b,
                       uint32_t *ia, uint32_t *ib)
{
    size_t cap = 16;
    while (cap < 2 * (a->n + b->n))
        cap *= 2;
    lt_rouge_slot *tab = calloc(cap, sizeof *tab);
    if (!tab)
        return false;
    uint32_t next = 0;
    for (size_t i = 0; i < a->n; i++)
        ia[i] = intern(tab, cap - 1, a->buf + a->off[i], a->len[i], &next);
    for (size_t i = 0; i < b->n; i++)
        ib[i] = intern(tab, cap - 1, b->buf + b->off[i], b->len[i], &next);
    free(tab);
    return true;
}

/* ---- longest common subsequence --------------------------------------------- */

/* LCS length of x[nx] and y[ny], ny <= nx, with one row of ny + 1 cells. */
static size_t lcs_length(const uint32_t *x, size_t nx, const uint32_t *y,
                         size_t ny, size_t *row)
{
    memset(row, 0, (ny + 1) * sizeof *row);
    for (size_t i = 0; i < nx; i++) {
        size_t diag = 0; /* row[j - 1] of the previous row */
        for (size_t j = 1; j <= ny; j++) {
            size_t up = row[j];
            if (x[i] == y[j - 1])
                row[j] = diag + 1;
            else if (row[j - 1] > up)
                row[j] = row[j - 1];
            diag = up;
        }
    }
    return row[ny];
}

static lt_rouge score(size_t lcs, size_t n_cand, size_t n_ref)
{
    lt_rouge r = {0, 0, 0};
    r.precision = (double)lcs / (double)n_cand;
    r.recall = (double)lcs / (double)n_ref;
    if (r.precision + r.recall > 0)
        r.f1 = 2 * r.precision * r.recall / (r.precision + r.recall);
    return r;
}

lt_rouge lt_rouge_l(const char *candidate, const char *reference, bool stem)
{
    lt_rouge zero = {0, 0, 0}, r = zero;
    lt_rouge_toks c, f;
    bool ok_c = tokenize(candidate, stem, &c);
    bool ok_f = tokenize(reference, stem, &f);
    uint32_t *ic = NULL, *ifr = NULL;
    size_t *row = NULL;
    if (!ok_c || !ok_f)
        goto nomem;
    if (c.n == 0 || f.n == 0)
        goto done;
    ic = malloc(c.n * sizeof *ic);
    ifr = malloc(f.n * sizeof *ifr);
    row = malloc((c.n < f.n ? c.n : f.n) * sizeof *row + sizeof *row);
    if (!ic || !ifr || !row || !assign_ids(&c, &f, ic, ifr))
        goto nomem;
    size_t lcs = c.n >= f.n ? lcs_length(ic, c.n, ifr, f.n, row)
                            : lcs_length(ifr, f.n, ic, c.n, row);
    r = score(lcs, c.n, f.n);
    goto done;
nomem:
    lt_set_error(LT_ERR_NOMEM, "lt_rouge_l: out of memory (candidate %zu, "
                 "reference %zu bytes)", candidate ? strlen(candidate) : 0,
                 reference ? strlen(reference) : 0);
    r = zero;
done:
    free(ic);
    free(ifr);
    free(row);
    toks_free(&c);
    toks_free(&f);
    return r;
}
