/*
 * tokenizer_encode.c - encoding text to ids, as Hugging Face's pipeline
 * does: added tokens are cut out of the raw text first (leftmost, longest
 * match); the text between them is normalized, then the added tokens
 * marked normalized are cut out of that; each remaining section is
 * pre-tokenized into words, and each word goes to tokens by BPE. A word
 * starts as its bytes (byte-level tokenizers) or its characters (others:
 * a character without a token becomes its "<0xXX>" byte tokens under
 * byte_fallback, else the unk token, consecutive unks fused under
 * fuse_unk); merges apply lowest rank first (leftmost first among equal
 * ranks) with a per-word min-heap of candidate pairs over a linked list
 * of symbols (WordPiece and Unigram words: tokenizer_model.c).
 * lt_tokenizer_encode_special adds the post-processor's
 * special tokens.
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
    lt_tok_pieces norm, words, tmp; /* normalized text, pre-tokenized
                                       words, scratch */
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

/* Set symbol i of the word (a doubly linked list over 0..n-1). */
static void lt_tok_sym(lt_tok_enc *e, size_t i, int32_t id)
{
    e->sym[i] = id;
    e->prev[i] = (int32_t)i - 1;
    e->next[i] = (int32_t)i + 1;
}

static lt_status lt_tok_no_token(const lt_tokenizer *t, const uint8_t *w,
                                 size_t n)
{
    uint32_t cp;
    lt_tok_utf8_next(w, n, &cp);
    if (cp == LT_TOK_BADCP || t->byte_level)
        return lt_set_error(LT_ERR_ARG, "tokenizer: byte 0x%02x has no token "
                            "in the vocab and there is no unk token", w[0]);
    return lt_set_error(LT_ERR_ARG, "tokenizer: character U+%04X has no token "
                        "in the vocab (nor byte tokens) and there is no unk "
                        "token", (unsigned)cp);
}

/* The first symbols of a word: its bytes (byte-level) or characters.
 * Returns the number of symbols in *ns. */
static lt_status lt_tok_word_syms(const lt_tokenizer *t, lt_tok_enc *e,
                                  const uint8_t *w, size_t n, size_t *ns)
{
    int32_t unk = t->role[LT_TOK_UNK];
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t l = t->byte_level ? 1 : (size_t)lt_tok_utf8_next(w + i, n - i, &cp);
        int32_t id = t->byte_level ? t->byte_id[w[i]]
                                   : lt_tok_lookup(t, w + i, l, true);
        bool fb = id < 0 && t->byte_fallback;
        for (size_t j = 0; fb && j < l; j++)
            fb = t->byte_fallback_id[w[i + j]] >= 0;
        for (size_t j = 0; fb && j < l; j++)
            lt_tok_sym(e, k++, t->byte_fallback_id[w[i + j]]);
        if (id < 0 && !fb && unk < 0)
            return lt_tok_no_token(t, w + i, n - i);
        if (id < 0 && !fb && (!t->fuse_unk || !k || e->sym[k - 1] != unk))
            lt_tok_sym(e, k++, unk);
        else if (id >= 0)
            lt_tok_sym(e, k++, id);
        i += l;
    }
    if (k)
        e->next[k - 1] = -1;
    *ns = k;
    return LT_OK;
}

static lt_status lt_tok_emit_cb(void *ctx, int32_t id)
{
    return lt_tok_emit(ctx, id);
}

static lt_status lt_tok_encode_word(const lt_tokenizer *t, lt_tok_enc *e,
                                    const uint8_t *w, size_t n)
{
    if (n == 0)
        return LT_OK;
    if (t->model == LT_TOK_MODEL_WORDPIECE)
        return lt_tok_wordpiece_word(t, w, n, lt_tok_emit_cb, e);
    if (t->model == LT_TOK_MODEL_UNIGRAM)
        return lt_tok_unigram_word(t, w, n, lt_tok_emit_cb, e);
    if (t->ignore_merges) {
        int32_t id = lt_tok_lookup(t, w, n, !t->byte_level);
        if (id >= 0)
            return lt_tok_emit(e, id);
    }
    size_t ns = 0;
    if (lt_tok_enc_reserve(e, n) != LT_OK)
        return LT_ERR_NOMEM;
    lt_status st = lt_tok_word_syms(t, e, w, n, &ns);
    if (st != LT_OK || ns == 0)
        return st;
    lt_tok_merge_word(t, e, ns);
    for (int32_t i = 0; i >= 0; i = e->next[i])
        if (lt_tok_emit(e, e->sym[i]) != LT_OK)
            return LT_ERR_NOMEM;
    return LT_OK;
}

/* Normalized text between added tokens: pre-tokenize, then BPE each word. */
static lt_status lt_tok_encode_piece(const lt_tokenizer *t, lt_tok_enc *e,
                                     const uint8_t *s, size_t n, bool first)
{
    if (n == 0)
        return LT_OK;
    lt_status st = lt_tok_pretokenize(t, s, n, first, &e->words, &e->tmp);
    for (size_t k = 0; k < e->words.np && st == LT_OK; k++)
        st = lt_tok_encode_word(t, e, e->words.buf + e->words.off[k],
                                e->words.len[k]);
    return st;
}

/* Raw text between added tokens: normalize, cut out the normalized added
 * tokens, encode the rest. first: s starts the input. */
static lt_status lt_tok_encode_segment(const lt_tokenizer *t, lt_tok_enc *e,
                                       const uint8_t *s, size_t n, bool first)
{
    if (n == 0)
        return LT_OK;
    if (!t->norm.n)
        return lt_tok_encode_piece(t, e, s, n, first);
    lt_status st = lt_tok_normalize(t, s, n, &e->norm);
    s = e->norm.buf;
    n = e->norm.n;
    for (size_t pos = 0; pos < n && st == LT_OK;) {
        size_t at, len;
        int32_t id = lt_tok_find_added(t, 1, s, n, pos, &at, &len);
        st = lt_tok_encode_piece(t, e, s + pos, at - pos, first && pos == 0);
        if (id < 0 || st != LT_OK)
            break;
        st = lt_tok_emit(e, id);
        pos = at + len;
    }
    return st;
}

static lt_status lt_tok_encode_all(const lt_tokenizer *t, lt_tok_enc *e,
                                   const uint8_t *s, size_t n)
{
    for (size_t pos = 0; pos < n;) {
        size_t at, len;
        int32_t id = lt_tok_find_added(t, 0, s, n, pos, &at, &len);
        lt_status st = lt_tok_encode_segment(t, e, s + pos, at - pos, pos == 0);
        if (st != LT_OK)
            return st;
        if (id < 0)
            break;
        if (lt_tok_emit(e, id) != LT_OK)
            return LT_ERR_NOMEM;
        pos = at + len;
    }
    return LT_OK;
}

static void lt_tok_enc_free(lt_tok_enc *e)
{
    free(e->sym);
    free(e->prev);
    free(e->next);
    free(e->heap);
    lt_tok_pieces_free(&e->norm);
    lt_tok_pieces_free(&e->words);
    lt_tok_pieces_free(&e->tmp);
}

/* Encode, with the post-processor's template around the ids (special). */
static lt_status lt_tok_encode(const lt_tokenizer *t, const char *text,
                               size_t len, bool special, int32_t **ids,
                               size_t *n_ids)
{
    if (ids)
        *ids = NULL;
    if (n_ids)
        *n_ids = 0;
    if (!t || (!text && len) || !ids || !n_ids)
        return lt_set_error(LT_ERR_ARG, "lt_tokenizer_encode: NULL argument");
    lt_tok_enc e;
    memset(&e, 0, sizeof e);
    lt_status st = LT_OK;
    int k = 0;
    for (; special && k < t->n_tmpl && t->tmpl[k] >= 0 && st == LT_OK; k++)
        st = lt_tok_emit(&e, t->tmpl[k]);
    if (st == LT_OK)
        st = lt_tok_encode_all(t, &e, (const uint8_t *)text, len);
    for (k++; special && k < t->n_tmpl && st == LT_OK; k++)
        st = lt_tok_emit(&e, t->tmpl[k]);
    lt_tok_enc_free(&e);
    if (st != LT_OK) {
        free(e.ids);
        return st;
    }
    *ids = e.ids;
    *n_ids = e.n;
    return LT_OK;
}

lt_status lt_tokenizer_encode_special(const lt_tokenizer *t, const char *text,
                                      size_t len, int32_t **ids, size_t *n_ids)
{
    return lt_tok_encode(t, text, len, true, ids, n_ids);
}

lt_status lt_tokenizer_encode(const lt_tokenizer *t, const char *text,
                              size_t len, int32_t **ids, size_t *n_ids)
{
    return lt_tok_encode(t, text, len, false, ids, n_ids);
}
