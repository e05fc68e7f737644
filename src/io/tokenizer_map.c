/*
 * tokenizer_map.c - small building blocks of the byte-level BPE tokenizer:
 * open-addressing hash maps (64-bit keys for merges and pairs; byte
 * strings held in a caller's pool for tokens and training words), GPT-2's
 * byte <-> printable-character map and UTF-8 decoding/encoding.
 */
#include "tokenizer_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- hash maps ---------------------------------------------------------- */

static uint64_t lt_tok_mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

static lt_status lt_tok_imap_grow(lt_tok_imap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    uint64_t *k = malloc(cap * sizeof *k);
    int32_t *v = malloc(cap * sizeof *v);
    if (!k || !v) {
        free(k);
        free(v);
        return lt_set_error(LT_ERR_NOMEM, "tokenizer: out of memory");
    }
    memset(k, 0xff, cap * sizeof *k);
    for (size_t i = 0; i < m->cap; i++) {
        if (m->keys[i] == UINT64_MAX)
            continue;
        size_t j = lt_tok_mix(m->keys[i]) & (cap - 1);
        while (k[j] != UINT64_MAX)
            j = (j + 1) & (cap - 1);
        k[j] = m->keys[i];
        v[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = k;
    m->vals = v;
    m->cap = cap;
    return LT_OK;
}

lt_status lt_tok_imap_put(lt_tok_imap *m, uint64_t key, int32_t val)
{
    if ((m->n + 1) * 4 > m->cap * 3 && lt_tok_imap_grow(m) != LT_OK)
        return LT_ERR_NOMEM;
    size_t j = lt_tok_mix(key) & (m->cap - 1);
    while (m->keys[j] != UINT64_MAX && m->keys[j] != key)
        j = (j + 1) & (m->cap - 1);
    if (m->keys[j] == UINT64_MAX)
        m->n++;
    m->keys[j] = key;
    m->vals[j] = val;
    return LT_OK;
}

int32_t lt_tok_imap_get(const lt_tok_imap *m, uint64_t key)
{
    if (!m->cap)
        return -1;
    size_t j = lt_tok_mix(key) & (m->cap - 1);
    while (m->keys[j] != UINT64_MAX) {
        if (m->keys[j] == key)
            return m->vals[j];
        j = (j + 1) & (m->cap - 1);
    }
    return -1;
}

void lt_tok_imap_free(lt_tok_imap *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* FNV-1a, never 0 (0 marks an empty slot). */
uint32_t lt_tok_hash_bytes(const void *p, size_t n, uint8_t tag)
{
    const uint8_t *s = p;
    uint32_t h = 2166136261u ^ tag;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 16777619u;
    h ^= h >> 15;
    return h ? h : 1;
}

lt_tok_sslot *lt_tok_smap_slot(const lt_tok_smap *m, const char *pool,
                               const void *bytes, size_t len, uint8_t tag,
                               uint32_t hash)
{
    size_t j = hash & (m->cap - 1);
    for (;;) {
        lt_tok_sslot *s = &m->slot[j];
        if (s->hash == 0 || (s->hash == hash && s->len == len &&
                             s->tag == tag &&
                             memcmp(pool + s->off, bytes, len) == 0))
            return s;
        j = (j + 1) & (m->cap - 1);
    }
}

lt_status lt_tok_smap_reserve(lt_tok_smap *m)
{
    if ((m->n + 1) * 4 <= m->cap * 3)
        return LT_OK;
    size_t cap = m->cap ? m->cap * 2 : 1024;
    lt_tok_sslot *s = calloc(cap, sizeof *s);
    if (!s)
        return lt_set_error(LT_ERR_NOMEM, "tokenizer: out of memory");
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slot[i].hash)
            continue;
        size_t j = m->slot[i].hash & (cap - 1);
        while (s[j].hash)
            j = (j + 1) & (cap - 1);
        s[j] = m->slot[i];
    }
    free(m->slot);
    m->slot = s;
    m->cap = cap;
    return LT_OK;
}

int32_t lt_tok_smap_get(const lt_tok_smap *m, const char *pool,
                        const void *bytes, size_t len, uint8_t tag)
{
    if (!m->cap)
        return -1;
    uint32_t h = lt_tok_hash_bytes(bytes, len, tag);
    const lt_tok_sslot *s = lt_tok_smap_slot(m, pool, bytes, len, tag, h);
    return s->hash ? s->val : -1;
}

void lt_tok_smap_free(lt_tok_smap *m)
{
    free(m->slot);
    memset(m, 0, sizeof *m);
}

/* ---- byte-level characters and UTF-8 ---------------------------------- */

static bool lt_tok_byte_kept(unsigned b)
{
    return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
}

/* Bytes that are not printable (0-32, 127-160, 173) stand for U+0100,
 * U+0101, ... in byte order. */
uint32_t lt_tok_byte_cp(uint8_t b)
{
    if (lt_tok_byte_kept(b))
        return b;
    if (b <= 32)
        return 256u + b;
    if (b <= 160)
        return 256u + 33 + (b - 127u);
    return 256u + 67; /* 173 */
}

int lt_tok_cp_byte(uint32_t cp)
{
    if (cp < 256)
        return lt_tok_byte_kept(cp) ? (int)cp : -1;
    uint32_t n = cp - 256;
    if (n < 33)
        return (int)n;
    if (n < 67)
        return (int)(127 + n - 33);
    return n == 67 ? 173 : -1;
}

int lt_tok_utf8_next(const uint8_t *s, size_t n, uint32_t *cp)
{
    uint32_t c = s[0];
    int k = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1
          : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : -1;
    *cp = LT_TOK_BADCP;
    if (k < 0 || (size_t)k + 1 > n)
        return 1;
    c &= k == 0 ? 0x7f : (0x3fu >> k);
    for (int i = 1; i <= k; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 1;
        c = c << 6 | (s[i] & 0x3f);
    }
    static const uint32_t min[4] = {0, 0x80, 0x800, 0x10000};
    if (c < min[k] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 1;
    *cp = c;
    return k + 1;
}

int lt_tok_utf8_put(uint32_t cp, uint8_t *out)
{
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xc0 | cp >> 6);
        out[1] = (uint8_t)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xe0 | cp >> 12);
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (uint8_t)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (uint8_t)(0xf0 | cp >> 18);
    out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (uint8_t)(0x80 | (cp & 0x3f));
    return 4;
}
