/*
 * tokenizer_json.c - reading Hugging Face tokenizer.json files into the
 * BPE tokenizer (parsed with cJSON; the writer is in tokenizer_save.c):
 * the model, added tokens, and the pipeline around them (normalizer,
 * pre_tokenizer, post_processor, decoder: read by tokenizer_norm.c,
 * tokenizer_split.c and tokenizer_decode.c, kept as JSON for saving).
 * With a ByteLevel pre-tokenizer token strings are GPT-2 byte-level
 * characters (a string with a character outside that alphabet, and every
 * added token, is kept verbatim as UTF-8); otherwise every token is its
 * UTF-8 string. Every field is checked before it is trusted; messages
 * name the file, and a JSON syntax error gives its line and column.
 */
#include "lethe/io.h"
#include "tokenizer_internal.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- token strings ------------------------------------------------------ */

/* Bytes of a JSON token string: its byte-level reading when the
 * tokenizer is byte-level and every character is one of GPT-2's 256, else
 * (literal) its UTF-8. buf holds at least strlen(s) bytes. Returns the
 * length. */
static size_t lt_tj_bytes(const lt_tokenizer *t, const char *s, uint8_t *buf,
                          bool *literal)
{
    size_t n = strlen(s), k = 0;
    if (!t->byte_level) {
        memcpy(buf, s, n);
        *literal = true;
        return n;
    }
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        i += (size_t)lt_tok_utf8_next((const uint8_t *)s + i, n - i, &cp);
        int b = cp == LT_TOK_BADCP ? -1 : lt_tok_cp_byte(cp);
        if (b < 0) {
            memcpy(buf, s, n);
            *literal = true;
            return n;
        }
        buf[k++] = (uint8_t)b;
    }
    *literal = false;
    return k;
}

/* The id of a token named by its JSON string, or -1. */
static int32_t lt_tj_find(const lt_tokenizer *t, const char *s, uint8_t *buf)
{
    bool literal;
    size_t n = lt_tj_bytes(t, s, buf, &literal);
    int32_t id = lt_tok_lookup(t, buf, n, literal);
    if (id < 0 && !literal)
        id = lt_tok_lookup(t, s, strlen(s), true);
    return id;
}

/* ---- loading ------------------------------------------------------------ */

typedef struct {
    const char *name; /* for messages */
    lt_tokenizer *t;
    int64_t id_limit; /* ids must be below this (guards the allocation) */
    uint8_t *buf;     /* scratch for token bytes */
    size_t buf_cap;
} lt_tj_load;

static lt_status lt_tj_bad(const lt_tj_load *L, const char *what)
{
    return lt_set_error(LT_ERR_FORMAT, "%s: %s", L->name, what);
}

/* Prefix the last error (from a table function) with the file and item. */
static lt_status lt_tj_wrap(const lt_tj_load *L, const char *item)
{
    char msg[256];
    lt_status code = lt_last_status();
    snprintf(msg, sizeof msg, "%s", lt_last_error());
    const char *m = strncmp(msg, "tokenizer: ", 11) ? msg : msg + 11;
    return lt_set_error(code, "%s: %s: %s", L->name, item, m);
}

static uint8_t *lt_tj_scratch(lt_tj_load *L, size_t n)
{
    if (n + 1 > L->buf_cap) {
        uint8_t *p = realloc(L->buf, n + 1);
        if (!p)
            return NULL;
        L->buf = p;
        L->buf_cap = n + 1;
    }
    return L->buf;
}

/* A non-negative integer id below 2^31, or -1. */
static int64_t lt_tj_id(const cJSON *v)
{
    if (!cJSON_IsNumber(v))
        return -1;
    double d = v->valuedouble;
    if (!(d >= 0 && d < 2147483647.0) || d != (double)(int64_t)d)
        return -1;
    return (int64_t)d;
}

static bool lt_tj_flag(const cJSON *o, const char *key, bool dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsBool(v) ? cJSON_IsTrue(v) : dflt;
}

static lt_status lt_tj_added(lt_tj_load *L, const cJSON *arr)
{
    if (!arr || cJSON_IsNull(arr))
        return LT_OK;
    if (!cJSON_IsArray(arr))
        return lt_tj_bad(L, "added_tokens is not an array");
    int k = 0;
    for (const cJSON *a = arr->child; a; a = a->next, k++) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(a, "content");
        int64_t id = lt_tj_id(cJSON_GetObjectItemCaseSensitive(a, "id"));
        if (!cJSON_IsObject(a) || !cJSON_IsString(c) || !c->valuestring[0] ||
            id < 0 || id >= L->id_limit)
            return lt_set_error(LT_ERR_FORMAT,
                                "%s: added_tokens[%d] needs an integer id in "
                                "[0, %ld) and a non-empty content",
                                L->name, k, (long)L->id_limit);
        uint8_t f = LT_TOKF_ADDED | LT_TOKF_LITERAL;
        f |= lt_tj_flag(a, "special", false) ? LT_TOKF_SPECIAL : 0;
        f |= lt_tj_flag(a, "lstrip", false) ? LT_TOKF_LSTRIP : 0;
        f |= lt_tj_flag(a, "rstrip", false) ? LT_TOKF_RSTRIP : 0;
        f |= lt_tj_flag(a, "single_word", false) ? LT_TOKF_SINGLE_WORD : 0;
        f |= lt_tj_flag(a, "normalized", !(f & LT_TOKF_SPECIAL))
                 ? LT_TOKF_NORMALIZED : 0;
        const char *s = c->valuestring;
        if (lt_tok_lookup(L->t, s, strlen(s), true) >= 0 ||
            (id < L->t->n && (L->t->flags[id] & LT_TOKF_USED)))
            return lt_set_error(LT_ERR_FORMAT,
                                "%s: added_tokens[%d] ('%s'): its content or "
                                "id %ld appears twice", L->name, k, s, (long)id);
        if (lt_tok_set(L->t, (int32_t)id, s, strlen(s), f) != LT_OK)
            return lt_tj_wrap(L, "added_tokens");
    }
    return LT_OK;
}

static lt_status lt_tj_vocab(lt_tj_load *L, const cJSON *vocab)
{
    if (!cJSON_IsObject(vocab))
        return lt_tj_bad(L, "model.vocab is missing or not an object");
    int64_t limit = L->id_limit;
    for (const cJSON *v = vocab->child; v; v = v->next) {
        int64_t id = lt_tj_id(v);
        if (id < 0 || id >= limit)
            return lt_set_error(LT_ERR_FORMAT,
                                "%s: model.vocab['%s'] is not a valid id "
                                "(a non-negative integer below %ld)",
                                L->name, v->string, (long)limit);
        if (id < L->t->n && (L->t->flags[id] & LT_TOKF_ADDED))
            continue; /* the added token with this id wins */
        if (id < L->t->n && (L->t->flags[id] & LT_TOKF_USED))
            return lt_set_error(LT_ERR_FORMAT,
                                "%s: model.vocab['%s']: id %ld is used twice",
                                L->name, v->string, (long)id);
        uint8_t *buf = lt_tj_scratch(L, strlen(v->string));
        if (!buf)
            return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", L->name);
        bool literal;
        size_t n = lt_tj_bytes(L->t, v->string, buf, &literal);
        if (lt_tok_lookup(L->t, buf, n, literal) >= 0)
            return lt_set_error(LT_ERR_FORMAT,
                                "%s: model.vocab has '%s' twice", L->name,
                                v->string);
        if (lt_tok_set(L->t, (int32_t)id, buf, n,
                       literal ? LT_TOKF_LITERAL : 0) != LT_OK)
            return lt_tj_wrap(L, "model.vocab");
    }
    return LT_OK;
}

/* Split merge k into its two token strings (pointers into the JSON, or
 * into tmp for the "a b" form). */
static lt_status lt_tj_merge_parts(lt_tj_load *L, const cJSON *m, int k,
                                   char **tmp, const char **a, const char **b)
{
    if (cJSON_IsString(m)) {
        const char *s = m->valuestring, *sp = strchr(s, ' ');
        if (!sp || strchr(sp + 1, ' '))
            return lt_set_error(LT_ERR_FORMAT,
                                "%s: merges[%d] '%s' is not two tokens "
                                "separated by one space", L->name, k, s);
        free(*tmp);
        *tmp = strdup(s);
        if (!*tmp)
            return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", L->name);
        (*tmp)[sp - s] = 0;
        *a = *tmp;
        *b = *tmp + (sp - s) + 1;
        return LT_OK;
    }
    if (cJSON_IsArray(m) && cJSON_GetArraySize(m) == 2 &&
        cJSON_IsString(m->child) && cJSON_IsString(m->child->next)) {
        *a = m->child->valuestring;
        *b = m->child->next->valuestring;
        return LT_OK;
    }
    return lt_set_error(LT_ERR_FORMAT,
                        "%s: merges[%d] is neither \"a b\" nor [\"a\", \"b\"]",
                        L->name, k);
}

static lt_status lt_tj_merge(lt_tj_load *L, const cJSON *m, int k, char **tmp)
{
    const char *a = NULL, *b = NULL;
    lt_status st = lt_tj_merge_parts(L, m, k, tmp, &a, &b);
    if (st != LT_OK)
        return st;
    size_t la = strlen(a), lb = strlen(b);
    uint8_t *buf = lt_tj_scratch(L, 2 * (la + lb) + 1);
    if (!buf)
        return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", L->name);
    char *ab = (char *)buf + la + lb + 1;
    memcpy(ab, a, la);
    memcpy(ab + la, b, lb + 1);
    int32_t ia = lt_tj_find(L->t, a, buf), ib = lt_tj_find(L->t, b, buf);
    int32_t ir = lt_tj_find(L->t, ab, buf);
    const char *miss = ia < 0 ? a : ib < 0 ? b : ir < 0 ? ab : NULL;
    if (miss)
        return lt_set_error(LT_ERR_FORMAT,
                            "%s: merges[%d] ('%s' '%s'): token '%s' is not "
                            "in model.vocab", L->name, k, a, b, miss);
    uint64_t key = (uint64_t)(uint32_t)ia << 32 | (uint32_t)ib;
    if (lt_tok_imap_get(&L->t->merge_map, key) >= 0)
        return LT_OK; /* a repeated merge keeps its first rank */
    if (lt_tok_add_merge(L->t, ia, ib, ir) != LT_OK)
        return lt_tj_wrap(L, "model.merges");
    return LT_OK;
}

static lt_status lt_tj_merges(lt_tj_load *L, const cJSON *merges)
{
    if (!cJSON_IsArray(merges))
        return lt_tj_bad(L, "model.merges is missing or not an array");
    char *tmp = NULL;
    int k = 0;
    lt_status st = LT_OK;
    for (const cJSON *m = merges->child; m && st == LT_OK; m = m->next, k++)
        st = lt_tj_merge(L, m, k, &tmp);
    free(tmp);
    return st;
}

/* Keep component key of root as compact JSON in *out (NULL when null). */
static lt_status lt_tj_keep(const lt_tj_load *L, const cJSON *o, char **out)
{
    *out = NULL;
    if (!o || cJSON_IsNull(o))
        return LT_OK;
    *out = cJSON_PrintUnformatted(o);
    return *out ? LT_OK : lt_set_error(LT_ERR_NOMEM, "%s: out of memory",
                                       L->name);
}

/* normalizer, pre_tokenizer and decoder (before the vocab: the
 * pre-tokenizer says how token strings read). */
static lt_status lt_tj_components(lt_tj_load *L, const cJSON *root)
{
    lt_tokenizer *t = L->t;
    const cJSON *nz = cJSON_GetObjectItemCaseSensitive(root, "normalizer");
    const cJSON *pt = cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer");
    const cJSON *de = cJSON_GetObjectItemCaseSensitive(root, "decoder");
    lt_status st = lt_tok_parse_normalizer(t, nz, L->name);
    if (st == LT_OK)
        st = lt_tok_parse_pretokenizer(t, pt, L->name);
    if (st == LT_OK)
        st = lt_tok_parse_decoder(t, de, L->name);
    if (st == LT_OK)
        st = lt_tj_keep(L, nz, &t->json_norm);
    if (st == LT_OK)
        st = lt_tj_keep(L, pt, &t->json_pre);
    if (st == LT_OK)
        st = lt_tj_keep(L, de, &t->json_dec);
    return st;
}

static lt_status lt_tj_post(lt_tj_load *L, const cJSON *root)
{
    const cJSON *pp = cJSON_GetObjectItemCaseSensitive(root, "post_processor");
    lt_status st = lt_tok_parse_postprocessor(L->t, pp, L->name);
    return st == LT_OK ? lt_tj_keep(L, pp, &L->t->json_post) : st;
}

static lt_status lt_tj_model_type(lt_tj_load *L, const cJSON *model)
{
    if (!cJSON_IsObject(model))
        return lt_tj_bad(L, "no \"model\" object");
    const cJSON *ty = cJSON_GetObjectItemCaseSensitive(model, "type");
    if (ty && !cJSON_IsString(ty))
        return lt_tj_bad(L, "model.type is not a string");
    /* older files leave "type" out: a vocab array is Unigram's, and a
     * model without merges but with a subword prefix is WordPiece */
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    if (!ty && cJSON_IsArray(vocab))
        L->t->model = LT_TOK_MODEL_UNIGRAM;
    else if (!ty && !cJSON_GetObjectItemCaseSensitive(model, "merges") &&
             cJSON_GetObjectItemCaseSensitive(model,
                                              "continuing_subword_prefix"))
        L->t->model = LT_TOK_MODEL_WORDPIECE;
    else if (ty && !strcmp(ty->valuestring, "WordPiece"))
        L->t->model = LT_TOK_MODEL_WORDPIECE;
    else if (ty && !strcmp(ty->valuestring, "Unigram"))
        L->t->model = LT_TOK_MODEL_UNIGRAM;
    else if (ty && strcmp(ty->valuestring, "BPE"))
        return lt_set_error(LT_ERR_FORMAT,
                            "%s: tokenizer model type '%s' is not supported "
                            "(supported: BPE, WordPiece, Unigram)", L->name,
                            ty->valuestring);
    if (L->t->model != LT_TOK_MODEL_BPE)
        return LT_OK;
    static const char *const affix[] = {"continuing_subword_prefix",
                                        "end_of_word_suffix"};
    for (int i = 0; i < 2; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(model, affix[i]);
        if (v && !cJSON_IsNull(v) && !(cJSON_IsString(v) && !v->valuestring[0]))
            return lt_set_error(LT_ERR_FORMAT, "%s: model.%s is not supported",
                                L->name, affix[i]);
    }
    return LT_OK;
}

static lt_status lt_tj_model(lt_tj_load *L, const cJSON *model)
{
    L->t->byte_fallback = lt_tj_flag(model, "byte_fallback", false);
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    if (L->t->model != LT_TOK_MODEL_BPE && L->t->byte_level)
        return lt_tj_bad(L, "a ByteLevel pre_tokenizer is supported with a "
                            "BPE model only");
    if (L->t->model == LT_TOK_MODEL_UNIGRAM)
        return lt_tok_parse_unigram(L->t, model, L->name);
    if (L->t->model == LT_TOK_MODEL_WORDPIECE) {
        lt_status st = lt_tok_parse_wordpiece(L->t, model, L->name);
        return st == LT_OK ? lt_tj_vocab(L, vocab) : st;
    }
    L->t->ignore_merges = lt_tj_flag(model, "ignore_merges", false);
    L->t->fuse_unk = lt_tj_flag(model, "fuse_unk", false);
    lt_status st = lt_tj_vocab(L, vocab);
    if (st == LT_OK)
        st = lt_tj_merges(L, cJSON_GetObjectItemCaseSensitive(model, "merges"));
    return st;
}

static lt_status lt_tj_unk(lt_tj_load *L, const cJSON *model)
{
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(model, "unk_token");
    if (!u || cJSON_IsNull(u))
        return LT_OK;
    uint8_t *buf = cJSON_IsString(u) ? lt_tj_scratch(L, strlen(u->valuestring))
                                     : NULL;
    int32_t id = buf ? lt_tj_find(L->t, u->valuestring, buf) : -1;
    if (id < 0)
        return lt_set_error(LT_ERR_FORMAT,
                            "%s: model.unk_token is not a token of the vocab",
                            L->name);
    L->t->role[LT_TOK_UNK] = id;
    return LT_OK;
}

/* Line and column (1-based) of byte offset pos. */
static void lt_tj_line(const char *s, size_t pos, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < pos; i++) {
        if (s[i] == '\n') {
            ++*line;
            *col = 1;
        } else {
            ++*col;
        }
    }
}

static lt_status lt_tj_parse(const char *json, size_t len, const char *name,
                             cJSON **root)
{
    const char *end = NULL;
    *root = cJSON_ParseWithLengthOpts(json, len, &end, false);
    size_t pos = end && end >= json ? (size_t)(end - json) : 0;
    if (*root) {
        while (pos < len && strchr(" \t\r\n", json[pos]) && json[pos])
            pos++;
        if (pos == len)
            return LT_OK;
        cJSON_Delete(*root);
        *root = NULL;
    }
    int line, col;
    lt_tj_line(json, pos < len ? pos : len, &line, &col);
    return lt_set_error(LT_ERR_FORMAT,
                        "%s: malformed JSON at line %d, column %d", name, line,
                        col);
}

lt_status lt_tokenizer_load_json(const char *json, size_t len,
                                 const char *name, lt_tokenizer **out)
{
    if (out)
        *out = NULL;
    if (!json || !out)
        return lt_set_error(LT_ERR_ARG, "lt_tokenizer_load_json: NULL argument");
    if (!name)
        name = "tokenizer.json";
    cJSON *root;
    lt_status st = lt_tj_parse(json, len, name, &root);
    if (st != LT_OK)
        return st;
    lt_tj_load L = {name, lt_tok_new(), 0, NULL, 0};
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(root, "added_tokens");
    if (!L.t)
        st = LT_ERR_NOMEM;
    else if (!cJSON_IsObject(root))
        st = lt_tj_bad(&L, "the top level is not a JSON object");
    if (st == LT_OK)
        st = lt_tj_model_type(&L, model);
    /* ids may leave gaps, but not more ids than twice the tokens + 1024 */
    L.id_limit = 2 * ((int64_t)cJSON_GetArraySize(added) +
                      cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
                          model, "vocab"))) + 1024;
    if (st == LT_OK)
        st = lt_tj_components(&L, root);
    if (st == LT_OK)
        st = lt_tj_added(&L, added);
    if (st == LT_OK)
        st = lt_tj_model(&L, model);
    if (st == LT_OK)
        st = lt_tok_finish(L.t);
    if (st == LT_OK)
        st = lt_tj_unk(&L, model);
    if (st == LT_OK)
        st = lt_tj_post(&L, root);
    cJSON_Delete(root);
    free(L.buf);
    if (st != LT_OK) {
        lt_tokenizer_free(L.t);
        return st;
    }
    *out = L.t;
    return LT_OK;
}

lt_status lt_tokenizer_load(const char *path, lt_tokenizer **out)
{
    if (out)
        *out = NULL;
    if (!path || !out)
        return lt_set_error(LT_ERR_ARG, "lt_tokenizer_load: NULL argument");
    char *buf = NULL;
    size_t n = 0;
    lt_status st = lt_read_file(path, &buf, &n);
    if (st == LT_OK)
        st = lt_tokenizer_load_json(buf, n, path, out);
    free(buf);
    return st;
}
