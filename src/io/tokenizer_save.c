/*
 * tokenizer_save.c - writing a tokenizer as a Hugging Face tokenizer.json
 * (built and printed with cJSON): added_tokens, the pipeline (a loaded
 * tokenizer writes back the normalizer, pre-tokenizer, post-processor and
 * decoder it was read with; a trained one ByteLevel ones), and a BPE
 * model whose vocab lists tokens in id order and whose merges are "a b"
 * strings (["a", "b"] pairs when a token holds a space), or the WordPiece
 * or Unigram model it was read with. Byte-level token
 * strings use GPT-2's byte-level characters; added and literal tokens are
 * written verbatim. lt_tokenizer_save writes it atomically
 * (lt_write_file_atomic).
 */
#include "tokenizer_internal.h"
#include "lethe/io.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The JSON string of token id (malloc'd). */
static char *lt_tj_string(const lt_tokenizer *t, int32_t id)
{
    const uint8_t *b = (const uint8_t *)t->pool + t->off[id];
    size_t n = t->len[id];
    bool verbatim = t->flags[id] & (LT_TOKF_LITERAL | LT_TOKF_ADDED);
    char *s = malloc(verbatim ? n + 1 : 2 * n + 1);
    if (!s)
        return NULL;
    if (verbatim) {
        memcpy(s, b, n);
        s[n] = 0;
        return s;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += (size_t)lt_tok_utf8_put(lt_tok_byte_cp(b[i]), (uint8_t *)s + k);
    s[k] = 0;
    return s;
}

/* ---- saving --------------------------------------------------------------- */

static cJSON *lt_tj_bytelevel(bool prefix, bool trim, bool regex)
{
    cJSON *o = cJSON_CreateObject();
    if (o && (!cJSON_AddStringToObject(o, "type", "ByteLevel") ||
              !cJSON_AddBoolToObject(o, "add_prefix_space", prefix) ||
              !cJSON_AddBoolToObject(o, "trim_offsets", trim) ||
              !cJSON_AddBoolToObject(o, "use_regex", regex))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *lt_tj_added_json(const lt_tokenizer *t)
{
    cJSON *arr = cJSON_CreateArray();
    for (int32_t id = 0; arr && id < t->n; id++) {
        uint8_t f = t->flags[id];
        if (!(f & LT_TOKF_ADDED))
            continue;
        char *s = lt_tj_string(t, id);
        cJSON *a = cJSON_CreateObject();
        bool ok = s && a && cJSON_AddItemToArray(arr, a);
        if (!ok)
            cJSON_Delete(a);
        ok = ok && cJSON_AddNumberToObject(a, "id", id) &&
             cJSON_AddStringToObject(a, "content", s) &&
             cJSON_AddBoolToObject(a, "single_word", f & LT_TOKF_SINGLE_WORD) &&
             cJSON_AddBoolToObject(a, "lstrip", f & LT_TOKF_LSTRIP) &&
             cJSON_AddBoolToObject(a, "rstrip", f & LT_TOKF_RSTRIP) &&
             cJSON_AddBoolToObject(a, "normalized", f & LT_TOKF_NORMALIZED) &&
             cJSON_AddBoolToObject(a, "special", f & LT_TOKF_SPECIAL);
        free(s);
        if (!ok) {
            cJSON_Delete(arr);
            return NULL;
        }
    }
    return arr;
}

static bool lt_tj_add_vocab(const lt_tokenizer *t, cJSON *model)
{
    cJSON *v = cJSON_AddObjectToObject(model, "vocab");
    for (int32_t id = 0; v && id < t->n; id++) {
        if (!(t->flags[id] & LT_TOKF_USED))
            continue;
        char *s = lt_tj_string(t, id);
        bool ok = s && cJSON_AddNumberToObject(v, s, id);
        free(s);
        if (!ok)
            return false;
    }
    return v != NULL;
}

/* Merges as "a b" strings, or as ["a", "b"] pairs when a token string
 * holds a space (only possible for literal tokens). */
static bool lt_tj_add_merges(const lt_tokenizer *t, cJSON *model)
{
    bool pairs = false;
    for (int32_t r = 0; r < t->n_merges && !pairs; r++)
        for (int k = 0; k < 2; k++) {
            int32_t id = t->merge[3 * (size_t)r + k];
            pairs |= (t->flags[id] & (LT_TOKF_LITERAL | LT_TOKF_ADDED)) &&
                     memchr(t->pool + t->off[id], ' ', t->len[id]);
        }
    cJSON *arr = cJSON_AddArrayToObject(model, "merges");
    for (int32_t r = 0; arr && r < t->n_merges; r++) {
        char *a = lt_tj_string(t, t->merge[3 * (size_t)r]);
        char *b = lt_tj_string(t, t->merge[3 * (size_t)r + 1]);
        cJSON *item = NULL;
        if (a && b && pairs) {
            const char *ab[2] = {a, b};
            item = cJSON_CreateStringArray(ab, 2);
        } else if (a && b) {
            size_t la = strlen(a), lb = strlen(b);
            char *s = malloc(la + lb + 2);
            if (s) {
                memcpy(s, a, la);
                s[la] = ' ';
                memcpy(s + la + 1, b, lb + 1);
                item = cJSON_CreateString(s);
                free(s);
            }
        }
        free(a);
        free(b);
        if (!item || !cJSON_AddItemToArray(arr, item)) {
            cJSON_Delete(item);
            return false;
        }
    }
    return arr != NULL;
}

/* Unigram's vocab: [piece, score] pairs in id order. */
static bool lt_tj_add_pieces(const lt_tokenizer *t, cJSON *model)
{
    cJSON *v = cJSON_AddArrayToObject(model, "vocab");
    for (int32_t id = 0; v && id < t->n_score; id++) {
        char *s = lt_tj_string(t, id);
        cJSON *p = cJSON_CreateArray();
        bool ok = s && p && cJSON_AddItemToArray(p, cJSON_CreateString(s)) &&
                  cJSON_AddItemToArray(p, cJSON_CreateNumber(t->score[id])) &&
                  cJSON_AddItemToArray(v, p);
        free(s);
        if (!ok) {
            cJSON_Delete(p);
            return false;
        }
    }
    return v != NULL;
}

/* The WordPiece and Unigram models (their fields as tokenizer_model.c
 * reads them). */
static cJSON *lt_tj_model_other(const lt_tokenizer *t, const char *unk_s)
{
    cJSON *m = cJSON_CreateObject();
    int32_t unk = t->role[LT_TOK_UNK];
    bool ok = m;
    if (ok && t->model == LT_TOK_MODEL_WORDPIECE)
        ok = cJSON_AddStringToObject(m, "type", "WordPiece") &&
             (unk_s ? cJSON_AddStringToObject(m, "unk_token", unk_s) != NULL
                    : cJSON_AddNullToObject(m, "unk_token") != NULL) &&
             cJSON_AddStringToObject(m, "continuing_subword_prefix",
                                     t->wp_prefix) &&
             cJSON_AddNumberToObject(m, "max_input_chars_per_word",
                                     t->wp_max_chars) &&
             lt_tj_add_vocab(t, m);
    else if (ok)
        ok = cJSON_AddStringToObject(m, "type", "Unigram") &&
             (unk >= 0 ? cJSON_AddNumberToObject(m, "unk_id", unk) != NULL
                       : cJSON_AddNullToObject(m, "unk_id") != NULL) &&
             lt_tj_add_pieces(t, m) &&
             cJSON_AddBoolToObject(m, "byte_fallback", t->byte_fallback);
    if (!ok) {
        cJSON_Delete(m);
        return NULL;
    }
    return m;
}

static cJSON *lt_tj_model_json(const lt_tokenizer *t)
{
    cJSON *m = cJSON_CreateObject();
    int32_t unk = t->role[LT_TOK_UNK];
    char *unk_s = unk >= 0 ? lt_tj_string(t, unk) : NULL;
    if (t->model != LT_TOK_MODEL_BPE) {
        cJSON_Delete(m);
        m = unk < 0 || unk_s ? lt_tj_model_other(t, unk_s) : NULL;
        free(unk_s);
        return m;
    }
    bool ok = m && (unk < 0 || unk_s) &&
              cJSON_AddStringToObject(m, "type", "BPE") &&
              cJSON_AddNullToObject(m, "dropout") &&
              (unk_s ? cJSON_AddStringToObject(m, "unk_token", unk_s) != NULL
                     : cJSON_AddNullToObject(m, "unk_token") != NULL) &&
              cJSON_AddNullToObject(m, "continuing_subword_prefix") &&
              cJSON_AddNullToObject(m, "end_of_word_suffix") &&
              cJSON_AddBoolToObject(m, "fuse_unk", t->fuse_unk) &&
              cJSON_AddBoolToObject(m, "byte_fallback", t->byte_fallback) &&
              (!t->ignore_merges || cJSON_AddTrueToObject(m, "ignore_merges")) &&
              lt_tj_add_vocab(t, m) && lt_tj_add_merges(t, m);
    free(unk_s);
    if (!ok) {
        cJSON_Delete(m);
        return NULL;
    }
    return m;
}

/* A pipeline component: as read (json), else the ByteLevel default of a
 * trained tokenizer (dflt), else null; added to root under key. */
static bool lt_tj_component(cJSON *root, const char *key, const char *json,
                            cJSON *dflt, bool loaded)
{
    cJSON *x = json ? cJSON_Parse(json) : loaded ? cJSON_CreateNull() : dflt;
    if (x != dflt)
        cJSON_Delete(dflt);
    if (x && cJSON_AddItemToObject(root, key, x))
        return true;
    cJSON_Delete(x);
    return false;
}

char *lt_tokenizer_to_json(const lt_tokenizer *t)
{
    if (!t) {
        lt_set_error(LT_ERR_ARG, "lt_tokenizer_to_json: NULL tokenizer");
        return NULL;
    }
    cJSON *root = cJSON_CreateObject(), *x;
    bool ok = root && cJSON_AddStringToObject(root, "version", "1.0") &&
              cJSON_AddNullToObject(root, "truncation") &&
              cJSON_AddNullToObject(root, "padding");
    ok = ok && (x = lt_tj_added_json(t)) &&
         cJSON_AddItemToObject(root, "added_tokens", x);
    bool loaded = t->json_pre || !t->byte_level;
    ok = ok && lt_tj_component(root, "normalizer", t->json_norm,
                               cJSON_CreateNull(), loaded);
    ok = ok && lt_tj_component(root, "pre_tokenizer", t->json_pre,
                               lt_tj_bytelevel(t->add_prefix_space, true,
                                               t->use_regex), loaded);
    ok = ok && lt_tj_component(root, "post_processor", t->json_post,
                               lt_tj_bytelevel(true, false, true), loaded);
    ok = ok && lt_tj_component(root, "decoder", t->json_dec,
                               lt_tj_bytelevel(true, true, true), loaded);
    ok = ok && (x = lt_tj_model_json(t)) &&
         cJSON_AddItemToObject(root, "model", x);
    char *s = ok ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!s)
        lt_set_error(LT_ERR_NOMEM, "lt_tokenizer_to_json: out of memory");
    return s;
}

lt_status lt_tokenizer_save(const lt_tokenizer *t, const char *path)
{
    if (!t || !path || !*path)
        return lt_set_error(LT_ERR_ARG, "lt_tokenizer_save: NULL argument");
    char *s = lt_tokenizer_to_json(t);
    if (!s)
        return LT_ERR_NOMEM;
    lt_status st = lt_write_file_atomic(path, s, strlen(s));
    free(s);
    return st;
}
