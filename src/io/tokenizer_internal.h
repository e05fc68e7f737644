/*
 * tokenizer_internal.h - what the files of the byte-level BPE tokenizer
 * share (tokenizer.c: tables, decode, accessors; tokenizer_map.c: hash
 * maps, byte-level characters, UTF-8; tokenizer_encode.c: encode;
 * tokenizer_pretok.c: the GPT-2 pre-tokenizer; tokenizer_unicode.c:
 * Unicode class tables; tokenizer_train.c: training; tokenizer_json.c and
 * tokenizer_save.c: reading and writing tokenizer.json). Not a public
 * header.
 */
#ifndef LT_TOKENIZER_INTERNAL_H
#define LT_TOKENIZER_INTERNAL_H

#include "lethe/tokenizer.h"

#include <stddef.h>
#include <stdint.h>

/* Per-token flags. */
enum {
    LT_TOKF_USED = 1u << 0,    /* the id has a token */
    LT_TOKF_LITERAL = 1u << 1, /* its JSON string is its bytes verbatim,
                                  not GPT-2 byte-level characters */
    LT_TOKF_ADDED = 1u << 2,   /* an added token: matched whole in text */
    LT_TOKF_SPECIAL = 1u << 3,
    LT_TOKF_LSTRIP = 1u << 4,  /* added-token options kept for saving */
    LT_TOKF_RSTRIP = 1u << 5,
    LT_TOKF_SINGLE_WORD = 1u << 6,
    LT_TOKF_NORMALIZED = 1u << 7
};

/* Open-addressing map from a 64-bit key (never UINT64_MAX) to int32. */
typedef struct {
    uint64_t *keys;
    int32_t *vals;
    size_t cap, n; /* cap is a power of two or 0 */
} lt_tok_imap;

lt_status lt_tok_imap_put(lt_tok_imap *m, uint64_t key, int32_t val);
/* The value of key, or -1. */
int32_t lt_tok_imap_get(const lt_tok_imap *m, uint64_t key);
void lt_tok_imap_free(lt_tok_imap *m);

/* Open-addressing map from a byte string (held in a caller's pool at
 * off/len, compared together with a small tag) to int32. */
typedef struct {
    uint64_t off;
    uint32_t len;
    uint32_t hash; /* 0: empty slot */
    int32_t val;
    uint8_t tag;
} lt_tok_sslot;

typedef struct {
    lt_tok_sslot *slot;
    size_t cap, n;
} lt_tok_smap;

uint32_t lt_tok_hash_bytes(const void *p, size_t n, uint8_t tag);
/* The slot holding (bytes, tag), or the empty slot where it would go
 * (slot->hash == 0). The map must have room (lt_tok_smap_reserve). */
lt_tok_sslot *lt_tok_smap_slot(const lt_tok_smap *m, const char *pool,
                               const void *bytes, size_t len, uint8_t tag,
                               uint32_t hash);
/* Make room for one more entry. */
lt_status lt_tok_smap_reserve(lt_tok_smap *m);
int32_t lt_tok_smap_get(const lt_tok_smap *m, const char *pool,
                        const void *bytes, size_t len, uint8_t tag);
void lt_tok_smap_free(lt_tok_smap *m);

struct lt_tokenizer {
    int32_t n, cap;       /* ids 0..n-1 */
    uint64_t *off;        /* token bytes at pool + off[id] */
    uint32_t *len;
    uint8_t *flags;
    char *pool;
    size_t pool_n, pool_cap;
    lt_tok_smap map;      /* (bytes, LITERAL flag) -> id */
    int32_t byte_id[256]; /* id of each one-byte token, or -1 */
    int32_t n_merges, merges_cap;
    int32_t *merge;       /* left, right, result per rank */
    lt_tok_imap merge_map; /* left << 32 | right -> rank */
    int32_t *added;       /* added-token ids, longest content first */
    int n_added;
    uint8_t added_first[32]; /* bitmap of first bytes of added tokens */
    bool add_prefix_space, use_regex, ignore_merges;
    int32_t role[LT_TOK_N_ROLES];
};

/* An empty tokenizer (GPT-2 defaults: use_regex, no prefix space). */
lt_tokenizer *lt_tok_new(void);
/* Give id the token bytes[0..len) with flags (LT_TOKF_USED is added).
 * LT_ERR_FORMAT if id already has a token. */
lt_status lt_tok_set(lt_tokenizer *t, int32_t id, const void *bytes,
                     size_t len, uint8_t flags);
/* Append a merge (ranks in call order). LT_ERR_FORMAT if the pair is
 * already a merge. */
lt_status lt_tok_add_merge(lt_tokenizer *t, int32_t left, int32_t right,
                           int32_t result);
/* Build the derived tables (byte ids, added-token list, roles) after the
 * tokens are set. */
lt_status lt_tok_finish(lt_tokenizer *t);
/* The id of (bytes, literal), or -1. */
int32_t lt_tok_lookup(const lt_tokenizer *t, const void *bytes, size_t len,
                      bool literal);
/* The leftmost, longest added token in s[pos..n): its id and start in
 * *at; -1 (and *at = n) if none. */
int32_t lt_tok_find_added(const lt_tokenizer *t, const uint8_t *s, size_t n,
                          size_t pos, size_t *at);

/* GPT-2 byte-level characters: the code point that stands for byte b, and
 * the byte a code point stands for (-1 if none). */
uint32_t lt_tok_byte_cp(uint8_t b);
int lt_tok_cp_byte(uint32_t cp);
/* UTF-8: decode one code point at s[0..n) (n >= 1). Returns its length and
 * sets *cp; an invalid sequence has length 1 and *cp = LT_TOK_BADCP. */
#define LT_TOK_BADCP 0xffffffffu
int lt_tok_utf8_next(const uint8_t *s, size_t n, uint32_t *cp);
/* Encode cp (< 0x110000) into out (4 bytes); returns the length. */
int lt_tok_utf8_put(uint32_t cp, uint8_t *out);

/* Unicode classes used by the pre-tokenizer (tokenizer_unicode.c). */
bool lt_tok_is_letter(uint32_t cp);
bool lt_tok_is_number(uint32_t cp);
bool lt_tok_is_space(uint32_t cp);
/* The end of the GPT-2 pre-tokenizer word that starts at s[pos] (pos < n). */
size_t lt_tok_pretok_next(const uint8_t *s, size_t n, size_t pos);

#endif
