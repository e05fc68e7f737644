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
    for (int r = 0; r < LT_TOK_N_ROLES; r++)
        t->role[r] = -1;
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

lt_status lt_tok_finish(lt_tokenizer *t)
{
    for (int b = 0; b < 256; b++) {
        uint8_t c = (uint8_t)b;
        t->byte_id[b] = lt_tok_lookup(t, &c, 1, false);
    }
    free(t->added);
    t->added = NULL;
    t->n_added = 0;
    memset(t->added_first, 0, sizeof t->added_first);
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
        uint8_t c = (uint8_t)t->pool[t->off[id]];
        t->added_first[c >> 3] |= (uint8_t)(1u << (c & 7));
    }
    lt_tok_sort_added(t);
    lt_tok_infer_roles(t);
    return LT_OK;
}

int32_t lt_tok_find_added(const lt_tokenizer *t, const uint8_t *s, size_t n,
                          size_t pos, size_t *at)
{
    if (t->n_added) {
        for (size_t i = pos; i < n; i++) {
            if (!(t->added_first[s[i] >> 3] & (1u << (s[i] & 7))))
                continue;
            for (int k = 0; k < t->n_added; k++) {
                int32_t id = t->added[k];
                size_t l = t->len[id];
                if (l <= n - i && memcmp(s + i, t->pool + t->off[id], l) == 0) {
                    *at = i;
                    return id;
                }
            }
        }
    }
    *at = n;
    return -1;
}

/* ---- decoding and accessors ------------------------------------------- */

static bool lt_tok_valid(const lt_tokenizer *t, int32_t id)
{
    return t && id >= 0 && id < t->n && (t->flags[id] & LT_TOKF_USED);
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
