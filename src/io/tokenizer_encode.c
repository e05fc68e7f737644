/*
 * tokenizer_encode.c - encoding text to ids: added tokens are cut out
 * first (leftmost, longest match), the text between them is split by the
 * GPT-2 pre-tokenizer, and each word goes from bytes to tokens by applying
 * merges lowest rank first (leftmost first among equal ranks) with a
 * per-word min-heap of candidate pairs over a linked list of symbols.
 */
#include "tokenizer_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- encoding ----------------------------------------------------------- */

/* Scratch space of one encode call. */
typedef struct {
    int32_t *ids;          /* the output */
    size_t n, cap;
    int32_t *sym, *prev, *next; /* the word's symbols as a linked list */
    uint64_t *heap;        /* rank << 32 | position, a min-heap */
    size_t heap_n, word_cap;
    uint8_t *tmp;          /* a segment with a prefix space */
    size_t tmp_cap;
} lt_tok_enc;

static lt_status lt_tok_emit(lt_tok_enc *e, int32_t id)
{
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 256;
        int32_t *p = realloc(e->ids, cap * sizeof *p);
        if (!p)
            return lt_set_error(LT_ERR_NOMEM, "tokenizer: out of memory");
        e->ids = p;
        e->cap = cap;
    }
    e->ids[e->n++] = id;
    return LT_OK;
}

static lt_status lt_tok_enc_reserve(lt_tok_enc *e, size_t n)
{
    if (n <= e->word_cap)
        return LT_OK;
    size_t cap = e->word_cap ? e->word_cap : 64;
    while (cap < n)
        cap *= 2;
    free(e->sym);
    free(e->prev);
    free(e->next);
    free(e->heap);
    e->sym = malloc(cap * sizeof *e->sym);
    e->prev = malloc(cap * sizeof *e->prev);
    e->next = malloc(cap * sizeof *e->next);
    e->heap = malloc(3 * cap * sizeof *e->heap);
    e->word_cap = cap;
    if (!e->sym || !e->prev || !e->next || !e->heap) {
        e->word_cap = 0;
        return lt_set_error(LT_ERR_NOMEM, "tokenizer: out of memory");
    }
    return LT_OK;
}

static void lt_tok_heap_push(lt_tok_enc *e, uint64_t v)
{
    size_t i = e->heap_n++;
    while (i > 0 && e->heap[(i - 1) / 2] > v) {
        e->heap[i] = e->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    e->heap[i] = v;
}

static uint64_t lt_tok_heap_pop(lt_tok_enc *e)
{
    uint64_t top = e->heap[0], v = e->heap[--e->heap_n];
    size_t i = 0, n = e->heap_n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && e->heap[c + 1] < e->heap[c])
            c++;
        if (e->heap[c] >= v)
            break;
        e->heap[i] = e->heap[c];
        i = c;
    }
    if (n)
        e->heap[i] = v;
    return top;
}

/* Queue the pair that starts at symbol i, if it is a merge. */
static void lt_tok_queue(const lt_tokenizer *t, lt_tok_enc *e, int32_t i)
{
    if (i < 0 || e->next[i] < 0)
        return;
    int32_t j = e->next[i];
    uint64_t key = (uint64_t)(uint32_t)e->sym[i] << 32 | (uint32_t)e->sym[j];
    int32_t r = lt_tok_imap_get(&t->merge_map, key);
    if (r >= 0)
        lt_tok_heap_push(e, (uint64_t)(uint32_t)r << 32 | (uint32_t)i);
}

/* Apply merges by rank (lowest first, leftmost first among equals). */
static void lt_tok_merge_word(const lt_tokenizer *t, lt_tok_enc *e, size_t n)
{
    e->heap_n = 0;
    for (size_t i = 0; i + 1 < n; i++)
        lt_tok_queue(t, e, (int32_t)i);
    while (e->heap_n) {
        uint64_t top = lt_tok_heap_pop(e);
        int32_t i = (int32_t)(uint32_t)top, r = (int32_t)(top >> 32);
        int32_t j = e->next[i];
        const int32_t *m = t->merge + 3 * (size_t)r;
        if (e->sym[i] < 0 || j < 0 || e->sym[i] != m[0] || e->sym[j] != m[1])
            continue; /* stale: the pair changed since it was queued */
        e->sym[i] = m[2];
        e->sym[j] = -1;
        e->next[i] = e->next[j];
        if (e->next[j] >= 0)
            e->prev[e->next[j]] = i;
        lt_tok_queue(t, e, e->prev[i]);
        lt_tok_queue(t, e, i);
    }
}

static lt_status lt_tok_encode_word(const lt_tokenizer *t, lt_tok_enc *e,
                                    const uint8_t *w, size_t n)
{
    if (t->ignore_merges) {
        int32_t id = lt_tok_lookup(t, w, n, false);
        if (id >= 0)
            return lt_tok_emit(e, id);
    }
    if (lt_tok_enc_reserve(e, n) != LT_OK)
        return LT_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        int32_t id = t->byte_id[w[i]];
        if (id < 0)
            id = t->role[LT_TOK_UNK];
        if (id < 0)
            return lt_set_error(LT_ERR_ARG,
                                "tokenizer: byte 0x%02x has no token in the "
                                "vocab and there is no unk token", w[i]);
        e->sym[i] = id;
        e->prev[i] = (int32_t)i - 1;
        e->next[i] = i + 1 < n ? (int32_t)i + 1 : -1;
    }
    lt_tok_merge_word(t, e, n);
    for (int32_t i = 0; i >= 0; i = e->next[i])
        if (lt_tok_emit(e, e->sym[i]) != LT_OK)
            return LT_ERR_NOMEM;
    return LT_OK;
}

/* Text between added tokens: pre-tokenize, then merge each word. */
static lt_status lt_tok_encode_segment(const lt_tokenizer *t, lt_tok_enc *e,
                                       const uint8_t *s, size_t n)
{
    if (n == 0)
        return LT_OK;
    if (t->add_prefix_space && s[0] != ' ') {
        if (n + 1 > e->tmp_cap) {
            uint8_t *p = realloc(e->tmp, n + 1);
            if (!p)
                return lt_set_error(LT_ERR_NOMEM, "tokenizer: out of memory");
            e->tmp = p;
            e->tmp_cap = n + 1;
        }
        e->tmp[0] = ' ';
        memcpy(e->tmp + 1, s, n);
        s = e->tmp;
        n++;
    }
    if (!t->use_regex)
        return lt_tok_encode_word(t, e, s, n);
    for (size_t pos = 0; pos < n;) {
        size_t end = lt_tok_pretok_next(s, n, pos);
        lt_status st = lt_tok_encode_word(t, e, s + pos, end - pos);
        if (st != LT_OK)
            return st;
        pos = end;
    }
    return LT_OK;
}

static lt_status lt_tok_encode_all(const lt_tokenizer *t, lt_tok_enc *e,
                                   const uint8_t *s, size_t n)
{
    for (size_t pos = 0; pos < n;) {
        size_t at;
        int32_t id = lt_tok_find_added(t, s, n, pos, &at);
        lt_status st = lt_tok_encode_segment(t, e, s + pos, at - pos);
        if (st != LT_OK)
            return st;
        if (id < 0)
            break;
        if (lt_tok_emit(e, id) != LT_OK)
            return LT_ERR_NOMEM;
        pos = at + t->len[id];
    }
    return LT_OK;
}

lt_status lt_tokenizer_encode(const lt_tokenizer *t, const char *text,
                              size_t len, int32_t **ids, size_t *n_ids)
{
    if (ids)
        *ids = NULL;
    if (n_ids)
        *n_ids = 0;
    if (!t || (!text && len) || !ids || !n_ids)
        return lt_set_error(LT_ERR_ARG, "lt_tokenizer_encode: NULL argument");
    lt_tok_enc e;
    memset(&e, 0, sizeof e);
    lt_status st = lt_tok_encode_all(t, &e, (const uint8_t *)text, len);
    free(e.sym);
    free(e.prev);
    free(e.next);
    free(e.heap);
    free(e.tmp);
    if (st != LT_OK) {
        free(e.ids);
        return st;
    }
    *ids = e.ids;
    *n_ids = e.n;
    return LT_OK;
}
