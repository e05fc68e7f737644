/*
 * clip_vocab.c - the word-level vocabulary and tokenizer of the CLIP-like
 * text encoder (lethe/clip.h): a closed list of words after the three
 * special tokens, a splitter (whitespace separates, each ASCII punctuation
 * mark is a token, letters are lowercased), fixed-length encoding with
 * <bos>/<eos>/<pad> and truncation, and the vocabulary's JSON form (a
 * file of its own, and the metadata of checkpoints).
 */
#include "lethe/clip.h"
#include "lethe/io.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FORMAT_NAME "lethe-clip-vocab"
#define WORD_MAX 128 /* bytes of one token */

static const char *const SPECIAL[LT_CLIP_N_SPECIAL] = {"<pad>", "<bos>",
                                                      "<eos>"};

typedef struct {
    const char *tok;
    int32_t id;
} vocab_entry;

struct lt_clip_vocab {
    int n;              /* tokens, specials included */
    char **tok;         /* tok[id] */
    vocab_entry *order; /* sorted by token (strcmp), for lookups */
};

/* ---- splitting ------------------------------------------------------------------ */

static bool is_space(unsigned char b)
{
    return b == ' ' || (b >= '\t' && b <= '\r');
}

static bool is_word(unsigned char b)
{
    return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') ||
           (b >= '0' && b <= '9') || b == '_' || b >= 0x80;
}

/* '-' and '\'' join two word characters ("t-shirt", "men's"). */
static bool is_joiner(const char *s, size_t i)
{
    return (s[i] == '-' || s[i] == '\'') && i > 0 &&
           is_word((unsigned char)s[i - 1]) && is_word((unsigned char)s[i + 1]);
}

static char lower(char ch)
{
    return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

/* The next token of s from *pos into buf (lowercased, NUL-terminated);
 * *start gets its offset. Returns its length, 0 at the end of s, -1 when
 * longer than WORD_MAX - 1 (error set). */
static int next_token(const char *s, size_t *pos, char *buf, size_t *start)
{
    size_t i = *pos;
    while (s[i] && is_space((unsigned char)s[i]))
        i++;
    *start = i;
    if (!s[i])
        return 0;
    size_t j = i + 1;
    if (is_word((unsigned char)s[i]))
        while (s[j] && (is_word((unsigned char)s[j]) || is_joiner(s, j)))
            j++;
    if (j - i >= WORD_MAX) {
        lt_set_error(LT_ERR_ARG, "clip tokenizer: word '%.40s...' is longer "
                     "than %d bytes", s + i, WORD_MAX - 1);
        return -1;
    }
    for (size_t k = i; k < j; k++)
        buf[k - i] = lower(s[k]);
    buf[j - i] = '\0';
    *pos = j;
    return (int)(j - i);
}

/* ---- the vocabulary ---------------------------------------------------------------- */

static int cmp_entries(const void *a, const void *b)
{
    return strcmp(((const vocab_entry *)a)->tok, ((const vocab_entry *)b)->tok);
}

int32_t lt_clip_vocab_id(const lt_clip_vocab *v, const char *token)
{
    int lo = 0, hi = v && token ? v->n - 1 : -1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int cmp = strcmp(v->order[mid].tok, token);
        if (!cmp)
            return v->order[mid].id;
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

/* Lowercase word into buf and check that it is exactly one token. */
static lt_status check_word(const char *word, int i, char *buf)
{
    size_t pos = 0, start;
    char extra[WORD_MAX];
    if (!word || !*word)
        return lt_set_error(LT_ERR_ARG, "clip vocab: word %d is empty", i);
    int n = next_token(word, &pos, buf, &start);
    if (n < 0)
        return lt_last_status();
    if (start != 0 || n == 0 || next_token(word, &pos, extra, &start) != 0)
        return lt_set_error(LT_ERR_ARG, "clip vocab: word %d '%s' is not one "
                            "token (the tokenizer would split it at "
                            "whitespace or punctuation)", i, word);
    return LT_OK;
}

void lt_clip_vocab_free(lt_clip_vocab *v)
{
    if (!v)
        return;
    for (int i = 0; v->tok && i < v->n; i++)
        free(v->tok[i]);
    free(v->tok);
    free(v->order);
    free(v);
}

/* Sort the lookup index; LT_ERR_ARG naming a duplicate. */
static lt_status index_vocab(lt_clip_vocab *v)
{
    for (int i = 0; i < v->n; i++)
        v->order[i] = (vocab_entry){v->tok[i], i};
    qsort(v->order, (size_t)v->n, sizeof *v->order, cmp_entries);
    for (int i = 1; i < v->n; i++)
        if (!strcmp(v->order[i].tok, v->order[i - 1].tok))
            return lt_set_error(LT_ERR_ARG, "clip vocab: word '%s' appears "
                                "twice", v->order[i].tok);
    return LT_OK;
}

static lt_status vocab_fill(lt_clip_vocab *v, const char *const *words)
{
    char buf[WORD_MAX];
    for (int i = 0; i < v->n; i++) {
        const char *w = i < LT_CLIP_N_SPECIAL ? SPECIAL[i]
                                              : words[i - LT_CLIP_N_SPECIAL];
        if (i >= LT_CLIP_N_SPECIAL &&
            check_word(w, i - LT_CLIP_N_SPECIAL, buf) != LT_OK)
            return lt_last_status();
        v->tok[i] = strdup(i < LT_CLIP_N_SPECIAL ? w : buf);
        if (!v->tok[i])
            return lt_set_error(LT_ERR_NOMEM, "clip vocab: out of memory");
    }
    return index_vocab(v);
}

lt_status lt_clip_vocab_new(const char *const *words, int n,
                            lt_clip_vocab **out)
{
    if (!out)
        return lt_set_error(LT_ERR_ARG, "clip vocab: out is NULL");
    *out = NULL;
    if (n < 1 || !words || n > (1 << 24))
        return lt_set_error(LT_ERR_ARG, "clip vocab: need 1 .. 2^24 words "
                            "(got %d%s)", n, words ? "" : ", words NULL");
    lt_clip_vocab *v = calloc(1, sizeof *v);
    if (v) {
        v->n = n + LT_CLIP_N_SPECIAL;
        v->tok = calloc((size_t)v->n, sizeof *v->tok);
        v->order = calloc((size_t)v->n, sizeof *v->order);
    }
    if (!v || !v->tok || !v->order) {
        lt_clip_vocab_free(v);
        return lt_set_error(LT_ERR_NOMEM, "clip vocab: out of memory");
    }
    if (vocab_fill(v, words) != LT_OK) {
        lt_clip_vocab_free(v);
        return lt_last_status();
    }
    *out = v;
    return LT_OK;
}

int lt_clip_vocab_size(const lt_clip_vocab *v) { return v ? v->n : 0; }

const char *lt_clip_vocab_token(const lt_clip_vocab *v, int32_t id)
{
    return v && id >= 0 && id < v->n ? v->tok[id] : NULL;
}

/* ---- tokenizing ----------------------------------------------------------------- */

/* The id of token (at byte offset start, word number k); LT_ERR_ARG
 * naming it when unknown. */
static int32_t word_id(const lt_clip_vocab *v, const char *tok, const char *text,
                       size_t start, int k)
{
    int32_t id = lt_clip_vocab_id(v, tok);
    if (id < LT_CLIP_N_SPECIAL) {
        lt_set_error(LT_ERR_ARG, "clip tokenizer: unknown word '%s' (word %d, "
                     "at byte %zu of \"%.60s%s\"): not in the vocabulary of "
                     "%d words", tok, k + 1, start, text,
                     strlen(text) > 60 ? "..." : "", v->n - LT_CLIP_N_SPECIAL);
        return -1;
    }
    return id;
}

lt_status lt_clip_tokenize(const lt_clip_vocab *v, const char *text, int L,
                           int32_t *ids, int *n_tokens, bool *truncated)
{
    if (!v || !text || !ids)
        return lt_set_error(LT_ERR_ARG, "clip tokenizer: vocabulary, text or "
                            "ids is NULL");
    if (L < 3)
        return lt_set_error(LT_ERR_ARG, "clip tokenizer: context length %d "
                            "has no room for <bos> word <eos> (need >= 3)", L);
    char tok[WORD_MAX];
    size_t pos = 0, start;
    int n = 1, len, k = 0;
    bool cut = false;
    ids[0] = LT_CLIP_BOS;
    while ((len = next_token(text, &pos, tok, &start)) > 0) {
        int32_t id = word_id(v, tok, text, start, k++);
        if (id < 0)
            return lt_last_status();
        if (n < L - 1)
            ids[n++] = id;
        else
            cut = true; /* the remaining words are still checked */
    }
    if (len < 0)
        return lt_last_status();
    ids[n++] = LT_CLIP_EOS;
    for (int i = n; i < L; i++)
        ids[i] = LT_CLIP_PAD;
    if (n_tokens)
        *n_tokens = n;
    if (truncated)
        *truncated = cut;
    return LT_OK;
}

lt_status lt_clip_tokenize_batch(const lt_clip_vocab *v,
                                 const char *const *texts, int64_t n, int L,
                                 int32_t *ids, int64_t *n_truncated)
{
    int64_t cut = 0;
    if (!texts && n > 0)
        return lt_set_error(LT_ERR_ARG, "clip tokenizer: texts is NULL");
    for (int64_t i = 0; i < n; i++) {
        bool t = false;
        if (!texts[i])
            return lt_set_error(LT_ERR_ARG, "clip tokenizer: text %lld is "
                                "NULL", (long long)i);
        if (lt_clip_tokenize(v, texts[i], L, ids + i * L, NULL, &t) != LT_OK)
            return lt_set_error(lt_last_status(), "text %lld: %s",
                                (long long)i, lt_last_error());
        cut += t;
    }
    if (n_truncated)
        *n_truncated = cut;
    return LT_OK;
}

lt_status lt_clip_eos_positions(const int32_t *ids, int64_t B, int L,
                                int32_t *pos)
{
    if (!ids || !pos || B < 1 || L < 1)
        return lt_set_error(LT_ERR_ARG, "clip eos positions: need ids, pos "
                            "and B, L >= 1");
    for (int64_t b = 0; b < B; b++) {
        int t = 0;
        while (t < L && ids[b * L + t] != LT_CLIP_EOS)
            t++;
        if (t == L)
            return lt_set_error(LT_ERR_ARG, "clip eos positions: row %lld has "
                                "no <eos> (id %d) in its %d tokens",
                                (long long)b, LT_CLIP_EOS, L);
        pos[b] = t;
    }
    return LT_OK;
}

/* ---- JSON form ------------------------------------------------------------------ */

char *lt_clip_vocab_json(const lt_clip_vocab *v)
{
    if (!v) {
        lt_set_error(LT_ERR_ARG, "clip vocab json: vocabulary is NULL");
        return NULL;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_CreateStringArray((const char *const *)v->tok, v->n);
    char *s = NULL;
    if (root && arr && cJSON_AddStringToObject(root, "format", FORMAT_NAME) &&
        cJSON_AddItemToObject(root, "tokens", arr)) {
        arr = NULL;
        s = cJSON_Print(root);
    }
    cJSON_Delete(arr);
    cJSON_Delete(root);
    if (!s)
        lt_set_error(LT_ERR_NOMEM, "clip vocab json: out of memory");
    return s;
}

/* The words of a parsed document (after the specials, which are checked). */
static lt_status parse_tokens(const cJSON *toks, const char *what,
                              lt_clip_vocab **out)
{
    int n = cJSON_GetArraySize(toks);
    if (n <= LT_CLIP_N_SPECIAL)
        return lt_set_error(LT_ERR_FORMAT, "%s: key 'tokens' needs the 3 "
                            "specials and at least one word", what);
    const char **w = calloc((size_t)n, sizeof *w);
    if (!w)
        return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", what);
    lt_status s = LT_OK;
    for (int i = 0; s == LT_OK && i < n; i++) {
        const cJSON *e = cJSON_GetArrayItem(toks, i);
        w[i] = cJSON_IsString(e) ? e->valuestring : NULL;
        if (!w[i] || (i < LT_CLIP_N_SPECIAL && strcmp(w[i], SPECIAL[i])))
            s = lt_set_error(LT_ERR_FORMAT, "%s: tokens[%d] must be %s%s%s",
                             what, i, i < LT_CLIP_N_SPECIAL ? "\"" : "",
                             i < LT_CLIP_N_SPECIAL ? SPECIAL[i] : "a string",
                             i < LT_CLIP_N_SPECIAL ? "\"" : "");
    }
    if (s == LT_OK &&
        lt_clip_vocab_new(w + LT_CLIP_N_SPECIAL, n - LT_CLIP_N_SPECIAL,
                          out) != LT_OK)
        s = lt_set_error(LT_ERR_FORMAT, "%s: %s", what, lt_last_error());
    free(w);
    return s;
}

lt_status lt_clip_vocab_parse(const char *json, const char *what,
                              lt_clip_vocab **out)
{
    if (!out || !json || !what)
        return lt_set_error(LT_ERR_ARG, "clip vocab parse: NULL argument");
    *out = NULL;
    cJSON *root = cJSON_Parse(json);
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
    const cJSON *toks = cJSON_GetObjectItemCaseSensitive(root, "tokens");
    lt_status s;
    if (!root)
        s = lt_set_error(LT_ERR_FORMAT, "%s: not valid JSON", what);
    else if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, FORMAT_NAME))
        s = lt_set_error(LT_ERR_FORMAT, "%s: key 'format' must be \"%s\"",
                         what, FORMAT_NAME);
    else if (!cJSON_IsArray(toks))
        s = lt_set_error(LT_ERR_FORMAT, "%s: key 'tokens' (an array of "
                         "strings) is missing", what);
    else
        s = parse_tokens(toks, what, out);
    cJSON_Delete(root);
    return s;
}

lt_status lt_clip_vocab_save(const lt_clip_vocab *v, const char *path)
{
    if (!path)
        return lt_set_error(LT_ERR_ARG, "clip vocab save: path is NULL");
    char *s = lt_clip_vocab_json(v);
    if (!s)
        return lt_last_status();
    lt_status st = lt_write_text_atomic(path, s);
    free(s);
    return st;
}

lt_status lt_clip_vocab_load(const char *path, lt_clip_vocab **out)
{
    char *text = NULL;
    if (!out || !path)
        return lt_set_error(LT_ERR_ARG, "clip vocab load: NULL argument");
    *out = NULL;
    if (lt_read_file(path, &text, NULL) != LT_OK)
        return lt_last_status();
    lt_status s = lt_clip_vocab_parse(text, path, out);
    free(text);
    return s;
}
