/*
 * tokenizer_internal.h - what the files of the tokenizer share
 * (tokenizer.c: tables, decode, accessors; tokenizer_map.c: hash maps,
 * byte-level characters, UTF-8; tokenizer_encode.c: encode;
 * tokenizer_pretok.c: the GPT-2 pre-tokenizer; tokenizer_unicode.c:
 * Unicode class tables; tokenizer_train.c: training; tokenizer_json.c and
 * tokenizer_save.c: reading and writing tokenizer.json; the rest of the
 * Hugging Face pipeline: tokenizer_regex.c (PCRE2), tokenizer_norm.c
 * (normalizers), tokenizer_split.c (pre-tokenizers), tokenizer_decode.c
 * (decoders and post-processors), tokenizer_model.c (the WordPiece and
 * Unigram models)). Not a public header.
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

/* ---- the tokenizer.json pipeline ---------------------------------------- */

struct cJSON;

/* Kinds of pipeline steps (a Sequence is flattened into its steps). */
typedef enum {
    LT_TS_NFC, LT_TS_NFD, LT_TS_NFKC, LT_TS_NFKD, /* normalizers */
    LT_TS_LOWERCASE, LT_TS_PREPEND, LT_TS_REPLACE, LT_TS_STRIP,
    LT_TS_BYTELEVEL, LT_TS_SPLIT, LT_TS_METASPACE, /* pre-tokenizers */
    LT_TS_WHITESPACE, LT_TS_WHITESPACE_SPLIT, LT_TS_DIGITS,
    LT_TS_DEC_BYTELEVEL, LT_TS_DEC_METASPACE, LT_TS_DEC_BYTEFALLBACK, /* decoders */
    LT_TS_DEC_FUSE, LT_TS_DEC_STRIP, LT_TS_DEC_REPLACE,
    LT_TS_DEC_WORDPIECE,
    LT_TS_BERT_NORM, LT_TS_BERT_PRE /* BertNormalizer, BertPreTokenizer */
} lt_tok_step_kind;

/* The model of a tokenizer.json (tokenizer_model.c for the last two). */
typedef enum {
    LT_TOK_MODEL_BPE, LT_TOK_MODEL_WORDPIECE, LT_TOK_MODEL_UNIGRAM
} lt_tok_model;

/* How Split keeps the pieces the pattern matches (tokenizers'
 * SplitDelimiterBehavior). */
typedef enum {
    LT_SPLIT_REMOVED, LT_SPLIT_ISOLATED, LT_SPLIT_MERGED_PREV,
    LT_SPLIT_MERGED_NEXT, LT_SPLIT_CONTIGUOUS
} lt_tok_split_how;

typedef struct {
    lt_tok_step_kind kind;
    char *str;          /* Prepend text, Replace/Split pattern, Metaspace
                           replacement, Strip-decoder character */
    size_t len;
    char *content;      /* Replace: the replacement */
    size_t content_len;
    void *re;           /* compiled pattern (pcre2_code *), or NULL */
    lt_tok_split_how how;
    bool invert;        /* Split */
    bool a, b;          /* Strip: left, right; ByteLevel: add_prefix_space,
                           use_regex; Metaspace: split; WordPiece decoder:
                           a = cleanup; BertNormalizer: a = clean_text,
                           b = handle_chinese_chars */
    bool c, d;          /* BertNormalizer: strip_accents, lowercase */
    int prepend;        /* Metaspace: 0 never, 1 first, 2 always */
    int start, stop;    /* Strip decoder */
} lt_tok_step;

typedef struct {
    lt_tok_step *step;
    int n;
} lt_tok_steps;

void lt_tok_steps_free(lt_tok_steps *s);
/* Append a step (taking over its strings and pattern, freed on error). */
lt_status lt_tok_steps_add(lt_tok_steps *s, lt_tok_step *st);
/* A step that failed to read: free what it holds and prefix the current
 * error with name ("tokenizer.json: ..."); returns that status. */
lt_status lt_tok_step_failed(lt_tok_step *st, const char *name);
/* A pattern object {"String": s} or {"Regex": r}: its text (malloc'd copy
 * in st->str/len) and compiled form (st->re). */
lt_status lt_tok_parse_pattern(const struct cJSON *p, const char *what,
                               lt_tok_step *st);
/* A string field (malloc'd copy), or dflt when absent; NULL on error
 * (message set) when present and not a string. */
lt_status lt_tok_json_str(const struct cJSON *o, const char *key,
                          const char *dflt, const char *what, char **out,
                          size_t *len);

/* A list of byte strings ("pieces") in one buffer. */
typedef struct {
    uint8_t *buf;
    size_t n, cap;
    size_t *off, *len;
    size_t np, pcap;
} lt_tok_pieces;

/* A Replace step (pattern r->re, replacement r->content) applied to s[0..n):
 * one new piece of out (normalizer and decoder alike). */
lt_status lt_tok_replace(const lt_tok_step *r, const uint8_t *s, size_t n,
                         lt_tok_pieces *out);

/* Add a new piece; append to the last piece (it must be the last bytes of
 * buf); empty the list; free it. */
lt_status lt_tok_pieces_push(lt_tok_pieces *p, const void *b, size_t n);
lt_status lt_tok_pieces_append(lt_tok_pieces *p, const void *b, size_t n);
void lt_tok_pieces_clear(lt_tok_pieces *p);
void lt_tok_pieces_free(lt_tok_pieces *p);

/* Regular expressions (PCRE2, UTF-8 with Unicode properties; invalid
 * UTF-8 never matches). literal: the pattern is a plain string. On error
 * LT_ERR_FORMAT with a message naming what (e.g. "pre_tokenizer Split"). */
lt_status lt_tok_re_compile(const char *pat, size_t len, bool literal,
                            const char *what, void **re);
void lt_tok_re_free(void *re);
/* The non-empty matches of re in s[0..n), leftmost first, as start/end
 * pairs in *spans (malloc'd, 2 * *n_spans values). */
lt_status lt_tok_re_matches(const void *re, const uint8_t *s, size_t n,
                            size_t **spans, size_t *n_spans);

/* JSON readers of the components (tokenizer_norm.c, tokenizer_split.c,
 * tokenizer_decode.c); o is the component's cJSON object (NULL or null:
 * none); name is the file, for messages. */
lt_status lt_tok_parse_normalizer(lt_tokenizer *t, const struct cJSON *o,
                                  const char *name);
lt_status lt_tok_parse_pretokenizer(lt_tokenizer *t, const struct cJSON *o,
                                    const char *name);
lt_status lt_tok_parse_decoder(lt_tokenizer *t, const struct cJSON *o,
                               const char *name);
/* The post-processor needs the vocab (special tokens by name). */
lt_status lt_tok_parse_postprocessor(lt_tokenizer *t, const struct cJSON *o,
                                     const char *name);

/* Normalize s[0..n) into out (cleared first). */
lt_status lt_tok_normalize(const lt_tokenizer *t, const uint8_t *s, size_t n,
                           lt_tok_pieces *out);
/* Pre-tokenize s[0..n) into out (cleared first); first: s starts the
 * input (Metaspace's prepend_scheme "first"); tmp is scratch. */
lt_status lt_tok_pretokenize(const lt_tokenizer *t, const uint8_t *s,
                             size_t n, bool first, lt_tok_pieces *out,
                             lt_tok_pieces *tmp);
/* Run the decoder steps over the token strings in toks (in place). */
lt_status lt_tok_run_decoders(const lt_tokenizer *t, lt_tok_pieces *toks,
                              lt_tok_pieces *tmp);

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
    /* Matching added tokens in text, in two groups: 0 those matched in
     * the raw text, 1 (normalized: true, when there is a normalizer) those
     * matched in the normalized text by their normalized content. Each
     * group: its content strings (pool offsets) in match_map with the
     * group as tag, its distinct lengths longest first, and a bitmap of
     * first bytes. */
    lt_tok_smap match_map;
    uint32_t *match_len[2];
    int n_match_len[2];
    uint8_t added_first[2][32];
    bool add_prefix_space, use_regex, ignore_merges;
    /* byte_level: tokens are byte strings written as GPT-2 byte-level
     * characters and the model starts from bytes (a ByteLevel
     * pre-tokenizer, or none read from a file); else tokens are UTF-8
     * strings and the model starts from characters (SentencePiece style). */
    bool byte_level, byte_fallback, fuse_unk;
    int32_t byte_fallback_id[256]; /* "<0xXX>" tokens, or -1 */
    lt_tok_steps norm, pre, dec;
    bool has_decoder;     /* a decoder was read (else tokens join with " "
                             when not byte_level) */
    int32_t *tmpl;        /* post-processor: ids, -1 marks the text */
    int n_tmpl;
    /* WordPiece and Unigram (tokenizer_model.c) */
    lt_tok_model model;
    char *wp_prefix;      /* WordPiece continuing_subword_prefix */
    size_t wp_prefix_len;
    int wp_max_chars;     /* WordPiece max_input_chars_per_word */
    double *score;        /* Unigram: the score of ids 0..n_score-1 */
    int32_t n_score;
    double unk_score;     /* Unigram: of an unknown character */
    lt_tok_imap trie;     /* Unigram: its pieces' bytes as a trie, node
                             << 8 | byte -> child node (root 0) */
    int32_t *trie_id;     /* the piece id that ends at each node, or -1 */
    int32_t trie_n, trie_cap;
    /* the components as read (compact JSON), written back on save */
    char *json_norm, *json_pre, *json_post, *json_dec;
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
/* The leftmost, longest added token of group (0 raw, 1 normalized) in
 * s[pos..n): its id, start in *at and matched length in *len (with the
 * white space its lstrip/rstrip options take); -1 (and *at = n) if none. */
int32_t lt_tok_find_added(const lt_tokenizer *t, int group, const uint8_t *s,
                          size_t n, size_t pos, size_t *at, size_t *len);

/* The ids of one pre-tokenized word by the WordPiece or Unigram model
 * (tokenizer_model.c), each passed to emit(ctx, id). */
typedef lt_status (*lt_tok_emit_fn)(void *ctx, int32_t id);
lt_status lt_tok_wordpiece_word(const lt_tokenizer *t, const uint8_t *w,
                                size_t n, lt_tok_emit_fn emit, void *ctx);
lt_status lt_tok_unigram_word(const lt_tokenizer *t, const uint8_t *w,
                              size_t n, lt_tok_emit_fn emit, void *ctx);
/* Read the WordPiece / Unigram specific fields of model (the vocab of
 * Unigram too); name is the file, for messages. */
lt_status lt_tok_parse_wordpiece(lt_tokenizer *t, const struct cJSON *model,
                                 const char *name);
lt_status lt_tok_parse_unigram(lt_tokenizer *t, const struct cJSON *model,
                               const char *name);

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
