/*
 * tokenizer.c - the byte-level BPE tokenizer's tables: tokens (bytes in
 * one pool, flags, a (bytes -> id) map), merges (a (left, right) -> rank
 * map), the added-token list used for matching, the special-token roles;
 * decoding and the accessors. Building blocks are in tokenizer_map.c,
 * encoding in tokenizer_encode.c, the pre-tokenizer in tokenizer_pretok.c,
 * training in tokenizer_train.c, tokenizer.json in tokenizer_json.c
 * (reading) and tokenizer_save.c (writing).
 */
#include "tokenizer_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- building a tokenizer --------------------------------------------- */

lt_tokenizer *lt_tok_new(void)
{
    lt_tokenizer *t = calloc(1, sizeof *t);
    if (!t) {
        lt_set_error(LT_ERR_NOMEM, "tokenizer: out of memory");
        return NULL;
    }
    t->use_regex = true;
    t->byte_level = true;
    for (int r = 0; r < LT_TOK_N_ROLES; r++)
        t->role[r] = -1;
    for (int b = 0; b < 256; b++)
        t->byte_fallback_id[b] = -1;
    return t;
}

void lt_tokenizer_free(lt_tokenizer *t)
{
    if (!t)
        return;
    free(t->off);
    free(t->len);
    free(t->flags);
    free(t->pool);
    lt_tok_smap_free(&t->map);
    free(t->merge);
    lt_tok_imap_free(&t->merge_map);
    free(t->added);
    lt_tok_smap_free(&t->match_map);
    free(t->match_len[0]);
    free(t->match_len[1]);
    lt_tok_steps_free(&t->norm);
    lt_tok_steps_free(&t->pre);
    lt_tok_steps_free(&t->dec);
    free(t->tmpl);
    free(t->json_norm);
    free(t->json_pre);
    free(t->json_post);
    free(t->json_dec);
    free(t->wp_prefix);
    free(t->score);
    lt_tok_imap_free(&t->trie);
    free(t->trie_id);
    free(t);
}

static lt_status lt_tok_grow_ids(lt_tokenizer *t, int32_t id)
{
    if (id < t->cap) {
        if (id >= t->n)
            t->n = id + 1;
        return LT_OK;
    }
    int32_t cap = t->cap ? t->cap : 512;
    while (cap <= id)
        cap *= 2;
    uint64_t *off = realloc(t->off, (size_t)cap * sizeof *off);
    if (off)
        t->off = off;
    uint32_t *len = realloc(t->len, (size_t)cap * sizeof *len);
    if (len)
        t->len = len;
    uint8_t *fl = realloc(t->flags, (size_t)cap);
    if (fl)
        t->flags = fl;
    if (!off || !len || !fl)
        return lt_set_error(LT_ERR_NOMEM, "tokenizer: out of memory");
    memset(t->flags + t->cap, 0, (size_t)(cap - t->cap));
    t->cap = cap;
    t->n = id + 1;
    return LT_OK;
}

static lt_status lt_tok_pool_add(lt_tokenizer *t, const void *b, size_t n,
                                 uint64_t *off)
{
    if (t->pool_n + n + 1 > t->pool_cap) {
        size_t cap = t->pool_cap ? t->pool_cap : 4096;
        while (cap < t->pool_n + n + 1)
            cap *= 2;
        char *p = realloc(t->pool, cap);
        if (!p)
            return lt_set_error(LT_ERR_NOMEM, "tokenizer: out of memory");
        t->pool = p;
        t->pool_cap = cap;
    }
    if (n)
        memcpy(t->pool + t->pool_n, b, n);
    t->pool[t->pool_n + n] = 0;
    *off = t->pool_n;
    t->pool_n += n + 1;
    return LT_OK;
}

lt_status lt_tok_set(lt_tokenizer *t, int32_t id, const void *bytes,
                     size_t len, uint8_t flags)
{
    if (id < 0 || len > UINT32_MAX)
        return lt_set_error(LT_ERR_FORMAT, "tokenizer: bad token id %d",
                            (int)id);
    if (id < t->n && (t->flags[id] & LT_TOKF_USED))
        return lt_set_error(LT_ERR_FORMAT, "tokenizer: id %d is used twice",
                            (int)id);
    uint64_t off = 0;
    if (lt_tok_grow_ids(t, id) != LT_OK ||
        lt_tok_pool_add(t, bytes, len, &off) != LT_OK ||
        lt_tok_smap_reserve(&t->map) != LT_OK)
        return LT_ERR_NOMEM;
    t->off[id] = off;
    t->len[id] = (uint32_t)len;
    t->flags[id] = flags | LT_TOKF_USED;
    uint8_t tag = (flags & LT_TOKF_LITERAL) ? 1 : 0;
    uint32_t h = lt_tok_hash_bytes(bytes, len, tag);
    lt_tok_sslot *s = lt_tok_smap_slot(&t->map, t->pool, bytes, len, tag, h);
    if (!s->hash) { /* a duplicate keeps the first id */
        *s = (lt_tok_sslot){off, (uint32_t)len, h, id, tag};
        t->map.n++;
    }
    return LT_OK;
}

lt_status lt_tok_add_merge(lt_tokenizer *t, int32_t left, int32_t right,
                           int32_t result)
{
    uint64_t key = (uint64_t)(uint32_t)left << 32 | (uint32_t)right;
    if (lt_tok_imap_get(&t->merge_map, key) >= 0)
        return lt_set_error(LT_ERR_FORMAT,
                            "tokenizer: merge (%d, %d) appears twice",
                            (int)left, (int)right);
    if (t->n_merges == t->merges_cap) {
        int32_t cap = t->merges_cap ? t->merges_cap * 2 : 1024;
        int32_t *m = realloc(t->merge, (size_t)cap * 3 * sizeof *m);
        if (!m)
            return lt_set_error(LT_ERR_NOMEM, "tokenizer: out of memory");
        t->merge = m;
        t->merges_cap = cap;
    }
    if (lt_tok_imap_put(&t->merge_map, key, t->n_merges) != LT_OK)
        return LT_ERR_NOMEM;
    int32_t *m = t->merge + 3 * (size_t)t->n_merges++;
    m[0] = left;
    m[1] = right;
    m[2] = result;
    return LT_OK;
}

int32_t lt_tok_lookup(const lt_tokenizer *t, const void *bytes, size_t len,
                      bool literal)
{
    return lt_tok_smap_get(&t->map, t->pool, bytes, len, literal ? 1 : 0);
}

static bool lt_tok_is_name(const lt_tokenizer *t, int32_t id,
                           const char *const *names)
{
    for (; *names; names++)
        if (strlen(*names) == t->len[id] &&
            memcmp(t->pool + t->off[id], *names, t->len[id]) == 0)
            return true;
    return false;
}

/* Roles from the names of added tokens (the first match wins). */
static void lt_tok_infer_roles(lt_tokenizer *t)
{
    static const char *const bos[] = {"<|endoftext|>", "<s>", "<bos>",
        "<|begin_of_text|>", "<|startoftext|>", "[BOS]", NULL};
    static const char *const eos[] = {"<|endoftext|>", "</s>", "<eos>",
        "<|end_of_text|>", "[EOS]", NULL};
    static const char *const pad[] = {"<pad>", "[PAD]", "<|pad|>",
        "<|padding|>", NULL};
    static const char *const unk[] = {"<unk>", "[UNK]", NULL};
    static const char *const *const names[LT_TOK_N_ROLES] = {bos, eos, pad,
                                                              unk};
    for (int r = 0; r < LT_TOK_N_ROLES; r++)
        for (int i = 0; i < t->n_added && t->role[r] < 0; i++)
            if (lt_tok_is_name(t, t->added[i], names[r]))
                t->role[r] = t->added[i];
}

/* Added tokens, longest first (then by id): insertion sort, as there are
 * few. */
static void lt_tok_sort_added(lt_tokenizer *t)
{
    for (int i = 1; i < t->n_added; i++) {
        int32_t x = t->added[i];
        int j = i;
        for (; j > 0; j--) {
            int32_t y = t->added[j - 1];
            if (t->len[y] > t->len[x] || (t->len[y] == t->len[x] && y < x))
                break;
            t->added[j] = y;
        }
        t->added[j] = x;
    }
}

/* "<0xXX>" tokens (byte_fallback). */
static void lt_tok_find_fallback(lt_tokenizer *t)
{
    for (int b = 0; b < 256; b++) {
        char name[8];
        snprintf(name, sizeof name, "<0x%02X>", b);
        t->byte_fallback_id[b] = lt_tok_lookup(t, name, 6, true);
    }
}

/* Put match string s[0..n) (at pool offset off) of added token id in
 * group g; the first of equal strings wins. */
static lt_status lt_tok_match_add(lt_tokenizer *t, int g, int32_t id,
                                  uint64_t off, size_t n)
{
    if (lt_tok_smap_reserve(&t->match_map) != LT_OK)
        return LT_ERR_NOMEM;
    const char *s = t->pool + off;
    uint32_t h = lt_tok_hash_bytes(s, n, (uint8_t)g);
    lt_tok_sslot *sl = lt_tok_smap_slot(&t->match_map, t->pool, s, n,
                                        (uint8_t)g, h);
    if (!sl->hash) {
        *sl = (lt_tok_sslot){off, (uint32_t)n, h, id, (uint8_t)g};
        t->match_map.n++;
    }
    uint8_t c = (uint8_t)s[0];
    t->added_first[g][c >> 3] |= (uint8_t)(1u << (c & 7));
    int k = 0;
    while (k < t->n_match_len[g] && t->match_len[g][k] > n)
        k++;
    if (k < t->n_match_len[g] && t->match_len[g][k] == n)
        return LT_OK;
    uint32_t *p = realloc(t->match_len[g],
                          (size_t)(t->n_match_len[g] + 1) * sizeof *p);
    if (!p)
        return lt_set_error(LT_ERR_NOMEM, "tokenizer: out of memory");
    memmove(p + k + 1, p + k, (size_t)(t->n_match_len[g] - k) * sizeof *p);
    p[k] = (uint32_t)n;
    t->match_len[g] = p;
    t->n_match_len[g]++;
    return LT_OK;
}

/* The match string of an added token: its content, or (normalized: true
 * under a normalizer) its normalized content, added to the pool. */
static lt_status lt_tok_match_token(lt_tokenizer *t, int32_t id)
{
    if (!(t->flags[id] & LT_TOKF_NORMALIZED) || !t->norm.n)
        return lt_tok_match_add(t, 0, id, t->off[id], t->len[id]);
    lt_tok_pieces p;
    memset(&p, 0, sizeof p);
    uint64_t off = 0;
    lt_status st = lt_tok_normalize(t, (const uint8_t *)t->pool + t->off[id],
                                    t->len[id], &p);
    if (st == LT_OK && p.n == 0)
        st = lt_set_error(LT_ERR_FORMAT, "tokenizer: added token %d is empty "
                          "once normalized", (int)id);
    if (st == LT_OK)
        st = lt_tok_pool_add(t, p.buf, p.n, &off);
    if (st == LT_OK)
        st = lt_tok_match_add(t, 1, id, off, p.n);
    lt_tok_pieces_free(&p);
    return st;
}

static void lt_tok_match_reset(lt_tokenizer *t)
{
    lt_tok_smap_free(&t->match_map);
    for (int g = 0; g < 2; g++) {
        free(t->match_len[g]);
        t->match_len[g] = NULL;
        t->n_match_len[g] = 0;
    }
    memset(t->added_first, 0, sizeof t->added_first);
}

lt_status lt_tok_finish(lt_tokenizer *t)
{
    for (int b = 0; b < 256; b++) {
        uint8_t c = (uint8_t)b;
        t->byte_id[b] = lt_tok_lookup(t, &c, 1, false);
    }
    lt_tok_find_fallback(t);
    free(t->added);
    t->added = NULL;
    t->n_added = 0;
    lt_tok_match_reset(t);
    for (int32_t id = 0; id < t->n; id++)
        t->n_added += (t->flags[id] & LT_TOKF_ADDED) != 0;
    if (t->n_added) {
        t->added = malloc((size_t)t->n_added * sizeof *t->added);
        if (!t->added)
            return lt_set_error(LT_ERR_NOMEM, "tokenizer: out of memory");
    }
    int k = 0;
    for (int32_t id = 0; id < t->n; id++) {
        if (!(t->flags[id] & LT_TOKF_ADDED))
            continue;
        if (t->len[id] == 0)
            return lt_set_error(LT_ERR_FORMAT,
                                "tokenizer: added token %d is empty", (int)id);
        t->added[k++] = id;
    }
    lt_tok_sort_added(t);
    for (int i = 0; i < t->n_added; i++)
        if (lt_tok_match_token(t, t->added[i]) != LT_OK)
            return lt_last_status();
    lt_tok_infer_roles(t);
    return LT_OK;
}

/* The longest added token of group g at s[i..n), or -1. */
static int32_t lt_tok_added_at(const lt_tokenizer *t, int g, const uint8_t *s,
                               size_t n, size_t i, size_t *len)
{
    if (!(t->added_first[g][s[i] >> 3] & (1u << (s[i] & 7))))
        return -1;
    for (int k = 0; k < t->n_match_len[g]; k++) {
        size_t l = t->match_len[g][k];
        if (l > n - i)
            continue;
        int32_t id = lt_tok_smap_get(&t->match_map, t->pool, s + i, l,
                                     (uint8_t)g);
        if (id >= 0) {
            *len = l;
            return id;
        }
    }
    return -1;
}

/* The length of the white space that ends s[lo..i) (lstrip), or that
 * starts s[i..n) (rstrip). */
static size_t lt_tok_space_before(const uint8_t *s, size_t lo, size_t i)
{
    size_t k = i;
    while (k > lo) {
        size_t j = k - 1;
        while (j > lo && (s[j] & 0xc0) == 0x80 && k - j < 4)
            j--;
        uint32_t cp;
        int l = lt_tok_utf8_next(s + j, k - j, &cp);
        if (cp == LT_TOK_BADCP || j + (size_t)l != k || !lt_tok_is_space(cp))
            break;
        k = j;
    }
    return i - k;
}

static size_t lt_tok_space_after(const uint8_t *s, size_t i, size_t n)
{
    size_t k = i;
    while (k < n) {
        uint32_t cp;
        int l = lt_tok_utf8_next(s + k, n - k, &cp);
        if (cp == LT_TOK_BADCP || !lt_tok_is_space(cp))
            break;
        k += (size_t)l;
    }
    return k - i;
}

/* Whether the character at s[i] is a word character (\\w). */
static bool lt_tok_word_at(const uint8_t *s, size_t n, size_t i)
{
    uint32_t cp;
    lt_tok_utf8_next(s + i, n - i, &cp);
    return cp == '_' || (cp != LT_TOK_BADCP &&
                         (lt_tok_is_letter(cp) || lt_tok_is_number(cp)));
}

/* single_word: a match at s[a..b) touching a word character is not one. */
static bool lt_tok_inside_word(const uint8_t *s, size_t n, size_t a, size_t b)
{
    size_t j = a;
    while (j > 0 && a - j < 4 && (s[j - 1] & 0xc0) == 0x80)
        j--;
    return (a > 0 && lt_tok_word_at(s, n, j > 0 ? j - 1 : 0)) ||
           (b < n && lt_tok_word_at(s, n, b));
}

int32_t lt_tok_find_added(const lt_tokenizer *t, int group, const uint8_t *s,
                          size_t n, size_t pos, size_t *at, size_t *len)
{
    *len = 0;
    for (size_t i = pos; t->n_match_len[group] && i < n; i++) {
        int32_t id = lt_tok_added_at(t, group, s, n, i, len);
        if (id < 0 || ((t->flags[id] & LT_TOKF_SINGLE_WORD) &&
                       lt_tok_inside_word(s, n, i, i + *len)))
            continue;
        /* lstrip / rstrip: the token takes the white space beside it */
        size_t b = t->flags[id] & LT_TOKF_LSTRIP
                       ? lt_tok_space_before(s, pos, i) : 0;
        if (t->flags[id] & LT_TOKF_RSTRIP)
            *len += lt_tok_space_after(s, i + *len, n);
        *at = i - b;
        *len += b;
        return id;
    }
    *at = n;
    return -1;
}

/* ---- decoding and accessors ------------------------------------------- */

static bool lt_tok_valid(const lt_tokenizer *t, int32_t id)
{
    return t && id >= 0 && id < t->n && (t->flags[id] & LT_TOKF_USED);
}

/* Decoding tokens that are UTF-8 strings: the decoder steps over the
 * token strings, then joined (with " " when the file had no decoder, as
 * `tokenizers` does). */
static lt_status lt_tok_decode_pipeline(const lt_tokenizer *t,
                                        const int32_t *ids, size_t n,
                                        char **text, size_t *len)
{
    lt_tok_pieces a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    lt_status st = LT_OK;
    for (size_t i = 0; i < n && st == LT_OK; i++)
        st = lt_tok_pieces_push(&a, t->pool + t->off[ids[i]], t->len[ids[i]]);
    if (st == LT_OK)
        st = lt_tok_run_decoders(t, &a, &b);
    char *out = st == LT_OK ? malloc(a.n + a.np + 1) : NULL;
    size_t k = 0;
    for (size_t i = 0; out && i < a.np; i++) {
        if (i && !t->has_decoder)
            out[k++] = ' ';
        if (a.len[i])
            memcpy(out + k, a.buf + a.off[i], a.len[i]);
        k += a.len[i];
    }
    lt_tok_pieces_free(&a);
    lt_tok_pieces_free(&b);
    if (!out)
        return st == LT_OK ? lt_set_error(LT_ERR_NOMEM, "lt_tokenizer_decode: "
                                          "out of memory") : st;
    out[k] = 0;
    *text = out;
    *len = k;
    return LT_OK;
}

lt_status lt_tokenizer_decode(const lt_tokenizer *t, const int32_t *ids,
                              size_t n, char **text, size_t *len)
{
    if (text)
        *text = NULL;
    if (len)
        *len = 0;
    if (!t || (!ids && n) || !text || !len)
        return lt_set_error(LT_ERR_ARG, "lt_tokenizer_decode: NULL argument");
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (!lt_tok_valid(t, ids[i]))
            return lt_set_error(LT_ERR_ARG,
                                "lt_tokenizer_decode: id %ld (position %zu) "
                                "is not in the vocab of %d ids",
                                (long)ids[i], i, (int)t->n);
        total += t->len[ids[i]];
    }
    if (!t->byte_level)
        return lt_tok_decode_pipeline(t, ids, n, text, len);
    char *out = malloc(total + 1);
    if (!out)
        return lt_set_error(LT_ERR_NOMEM, "lt_tokenizer_decode: out of memory");
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(out + k, t->pool + t->off[ids[i]], t->len[ids[i]]);
        k += t->len[ids[i]];
    }
    out[k] = 0;
    *text = out;
    *len = k;
    return LT_OK;
}

int32_t lt_tokenizer_vocab_size(const lt_tokenizer *t)
{
    return t ? t->n : 0;
}

const char *lt_tokenizer_token(const lt_tokenizer *t, int32_t id,
                               size_t *len)
{
    if (!lt_tok_valid(t, id)) {
        lt_set_error(LT_ERR_ARG, "lt_tokenizer_token: no token with id %ld",
                     (long)id);
        return NULL;
    }
    if (len)
        *len = t->len[id];
    return t->pool + t->off[id];
}

int32_t lt_tokenizer_token_id(const lt_tokenizer *t, const char *bytes,
                              size_t len)
{
    if (!t || (!bytes && len))
        return -1;
    int32_t id = lt_tok_lookup(t, bytes, len, false);
    return id >= 0 ? id : lt_tok_lookup(t, bytes, len, true);
}

bool lt_tokenizer_is_special(const lt_tokenizer *t, int32_t id)
{
    return lt_tok_valid(t, id) && (t->flags[id] & LT_TOKF_SPECIAL);
}

int32_t lt_tokenizer_n_merges(const lt_tokenizer *t)
{
    return t ? t->n_merges : 0;
}

lt_status lt_tokenizer_merge(const lt_tokenizer *t, int32_t rank,
                             int32_t *left, int32_t *right, int32_t *result)
{
    if (!t || rank < 0 || rank >= t->n_merges)
        return lt_set_error(LT_ERR_ARG, "lt_tokenizer_merge: no merge %ld",
                            (long)rank);
    const int32_t *m = t->merge + 3 * (size_t)rank;
    if (left)
        *left = m[0];
    if (right)
        *right = m[1];
    if (result)
        *result = m[2];
    return LT_OK;
}

int32_t lt_tokenizer_special_id(const lt_tokenizer *t, lt_tok_role role)
{
    if (!t || (int)role < 0 || role >= LT_TOK_N_ROLES)
        return -1;
    return t->role[role];
}

int32_t lt_tokenizer_start_id(const lt_tokenizer *t)
{
    int32_t b = lt_tokenizer_special_id(t, LT_TOK_BOS);
    return b >= 0 ? b : lt_tokenizer_special_id(t, LT_TOK_EOS);
}

lt_status lt_tokenizer_set_special_id(lt_tokenizer *t, lt_tok_role role,
                                      int32_t id)
{
    if (!t || (int)role < 0 || role >= LT_TOK_N_ROLES ||
        (id != -1 && !lt_tok_valid(t, id)))
        return lt_set_error(LT_ERR_ARG,
                            "lt_tokenizer_set_special_id: bad role %d or id %ld",
                            (int)role, (long)id);
    t->role[role] = id;
    return LT_OK;
}
