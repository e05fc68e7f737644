/*
 * tokenizer_model.c - the two tokenizer.json models besides BPE, as the
 * Hugging Face `tokenizers` library defines them. WordPiece (BERT): a word
 * longer than max_input_chars_per_word characters is the unk token; else
 * it is cut greedily into the longest vocab entries from its start, every
 * piece after the first looked up with the continuing_subword_prefix
 * ("##") in front; a word with a part that has no entry is the unk token
 * as a whole. Unigram (SentencePiece): the pieces of a word are the path
 * of highest total score through the lattice of its vocab substrings
 * (Viterbi over a byte trie of the pieces; among equal scores the
 * predecessor that starts first wins), where a character that starts no
 * one-character piece is an unknown node scored ten below the lowest
 * score; consecutive unknowns fuse into one unk token, or under
 * byte_fallback become the "<0xXX>" tokens of their bytes (the unk token
 * if one is missing).
 */
#include "tokenizer_internal.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* SentencePiece's penalty of an unknown character below the lowest score. */
#define LT_UNIGRAM_UNK_PENALTY 10.0
/* max_input_chars_per_word when the file does not say. */
#define LT_WORDPIECE_MAX_CHARS 100

/* ---- reading ------------------------------------------------------------ */

lt_status lt_tok_parse_wordpiece(lt_tokenizer *t, const cJSON *model,
                                 const char *name)
{
    const cJSON *mx = cJSON_GetObjectItemCaseSensitive(
        model, "max_input_chars_per_word");
    t->model = LT_TOK_MODEL_WORDPIECE;
    t->wp_max_chars = LT_WORDPIECE_MAX_CHARS;
    if (mx && !cJSON_IsNull(mx)) {
        if (!cJSON_IsNumber(mx) || !(mx->valuedouble >= 0 &&
                                     mx->valuedouble < 1e9))
            return lt_set_error(LT_ERR_FORMAT, "%s: model.max_input_chars_"
                                "per_word is not a non-negative integer", name);
        t->wp_max_chars = (int)mx->valuedouble;
    }
    const cJSON *px = cJSON_GetObjectItemCaseSensitive(
        model, "continuing_subword_prefix");
    if (px && !cJSON_IsNull(px) && !cJSON_IsString(px))
        return lt_set_error(LT_ERR_FORMAT, "%s: model.continuing_subword_"
                            "prefix is not a string", name);
    return lt_tok_json_str(model, "continuing_subword_prefix", "##",
                           "model WordPiece", &t->wp_prefix,
                           &t->wp_prefix_len);
}

/* A new trie node (ending no piece); its index, or -1. */
static int32_t lt_tm_node(lt_tokenizer *t)
{
    if (t->trie_n == t->trie_cap) {
        int32_t cap = t->trie_cap ? 2 * t->trie_cap : 1024;
        int32_t *p = cap > 0 ? realloc(t->trie_id, (size_t)cap * sizeof *p)
                             : NULL;
        if (!p)
            return -1;
        t->trie_id = p;
        t->trie_cap = cap;
    }
    t->trie_id[t->trie_n] = -1;
    return t->trie_n++;
}

/* Put piece s[0..n) with id into the trie (the first of equal pieces
 * keeps it). */
static lt_status lt_tm_trie_add(lt_tokenizer *t, const uint8_t *s, size_t n,
                                int32_t id)
{
    int32_t node = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t key = (uint64_t)(uint32_t)node << 8 | s[i];
        int32_t c = lt_tok_imap_get(&t->trie, key);
        if (c < 0 && ((c = lt_tm_node(t)) < 0 ||
                      lt_tok_imap_put(&t->trie, key, c) != LT_OK))
            return lt_set_error(LT_ERR_NOMEM, "tokenizer: out of memory");
        node = c;
    }
    if (n && t->trie_id[node] < 0)
        t->trie_id[node] = id;
    return LT_OK;
}

static lt_status lt_tm_piece(lt_tokenizer *t, const cJSON *p, int32_t id,
                             const char *name)
{
    const cJSON *s = cJSON_IsArray(p) ? p->child : NULL;
    const cJSON *sc = s ? s->next : NULL;
    if (!cJSON_IsString(s) || !cJSON_IsNumber(sc) || sc->next ||
        !isfinite(sc->valuedouble))
        return lt_set_error(LT_ERR_FORMAT, "%s: model.vocab[%d] is not "
                            "[piece, finite score]", name, (int)id);
    t->score[id] = sc->valuedouble;
    const char *str = s->valuestring;
    size_t len = strlen(str);
    if (lt_tm_trie_add(t, (const uint8_t *)str, len, id) != LT_OK)
        return LT_ERR_NOMEM;
    if (id < t->n && (t->flags[id] & LT_TOKF_ADDED))
        return LT_OK; /* the added token with this id wins */
    if (lt_tok_lookup(t, str, len, true) >= 0)
        return lt_set_error(LT_ERR_FORMAT, "%s: model.vocab has '%s' twice",
                            name, str);
    if (lt_tok_set(t, id, str, len, LT_TOKF_LITERAL) != LT_OK) {
        char msg[300];
        snprintf(msg, sizeof msg, "%s", lt_last_error());
        return lt_set_error(lt_last_status(), "%s: model.vocab: %s", name, msg);
    }
    return LT_OK;
}

lt_status lt_tok_parse_unigram(lt_tokenizer *t, const cJSON *model,
                               const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    int n = cJSON_GetArraySize(v);
    t->model = LT_TOK_MODEL_UNIGRAM;
    if (!cJSON_IsArray(v) || n == 0)
        return lt_set_error(LT_ERR_FORMAT, "%s: model.vocab of a Unigram "
                            "model is missing or not a non-empty array", name);
    t->score = malloc((size_t)n * sizeof *t->score);
    if (!t->score)
        return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", name);
    t->n_score = n;
    if (lt_tm_node(t) != 0)
        return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", name);
    int32_t id = 0;
    double lo = 0;
    for (const cJSON *p = v->child; p; p = p->next, id++) {
        lt_status st = lt_tm_piece(t, p, id, name);
        if (st != LT_OK)
            return st;
        lo = id == 0 || t->score[id] < lo ? t->score[id] : lo;
    }
    t->unk_score = lo - LT_UNIGRAM_UNK_PENALTY;
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(model, "unk_id");
    t->role[LT_TOK_UNK] = -1;
    if (u && !cJSON_IsNull(u)) {
        if (!cJSON_IsNumber(u) || !(u->valuedouble >= 0 && u->valuedouble < n)
            || u->valuedouble != (double)(int32_t)u->valuedouble)
            return lt_set_error(LT_ERR_FORMAT, "%s: model.unk_id is not an id "
                                "of the vocab", name);
        t->role[LT_TOK_UNK] = (int32_t)u->valuedouble;
    }
    return LT_OK;
}

/* ---- WordPiece ---------------------------------------------------------- */

static size_t lt_tm_chars(const uint8_t *w, size_t n)
{
    size_t k = 0;
    uint32_t cp;
    for (size_t i = 0; i < n; k++)
        i += (size_t)lt_tok_utf8_next(w + i, n - i, &cp);
    return k;
}

static lt_status lt_tm_unk(const lt_tokenizer *t, lt_tok_emit_fn emit,
                           void *ctx)
{
    if (t->role[LT_TOK_UNK] < 0)
        return lt_set_error(LT_ERR_ARG, "tokenizer: a word has no tokens in "
                            "the vocab and there is no unk token");
    return emit(ctx, t->role[LT_TOK_UNK]);
}

/* The end of the UTF-8 character that ends before e (e > 0). */
static size_t lt_tm_back(const uint8_t *w, size_t lo, size_t e)
{
    size_t b = e - 1;
    while (b > lo && (w[b] & 0xc0) == 0x80 && e - b < 4)
        b--;
    uint32_t cp;
    return b + (size_t)lt_tok_utf8_next(w + b, e - b, &cp) == e ? b : e - 1;
}

lt_status lt_tok_wordpiece_word(const lt_tokenizer *t, const uint8_t *w,
                                size_t n, lt_tok_emit_fn emit, void *ctx)
{
    if (n == 0)
        return LT_OK;
    if (lt_tm_chars(w, n) > (size_t)t->wp_max_chars)
        return lt_tm_unk(t, emit, ctx);
    size_t pl = t->wp_prefix_len;
    uint8_t *buf = malloc(n + pl + 1);
    int32_t *ids = malloc((n + 1) * sizeof *ids);
    if (!buf || !ids) {
        free(buf);
        free(ids);
        return lt_set_error(LT_ERR_NOMEM, "tokenizer: out of memory");
    }
    memcpy(buf, t->wp_prefix, pl);
    size_t k = 0;
    bool unknown = false;
    for (size_t start = 0; start < n && !unknown;) {
        int32_t id = -1;
        size_t end = n;
        while (end > start) {
            const uint8_t *p = w + start;
            size_t len = end - start;
            if (start) {
                memcpy(buf + pl, w + start, len);
                p = buf;
                len += pl;
            }
            id = lt_tok_lookup(t, p, len, true);
            if (id >= 0)
                break;
            end = lt_tm_back(w, start, end);
        }
        unknown = id < 0;
        ids[k++] = id;
        start = end;
    }
    lt_status st = LT_OK;
    if (unknown)
        st = lt_tm_unk(t, emit, ctx);
    for (size_t i = 0; !unknown && i < k && st == LT_OK; i++)
        st = emit(ctx, ids[i]);
    free(buf);
    free(ids);
    return st;
}

/* ---- Unigram ------------------------------------------------------------ */

/* The id of vocab piece s[0..n), or -1 (a walk down the trie). */
static int32_t lt_tm_vocab_id(const lt_tokenizer *t, const uint8_t *s,
                              size_t n)
{
    int32_t node = 0;
    for (size_t i = 0; i < n && node >= 0; i++)
        node = lt_tok_imap_get(&t->trie, (uint64_t)(uint32_t)node << 8 | s[i]);
    return node > 0 ? t->trie_id[node] : -1;
}

/* Emit a run of unknown text, fused: its piece if the run is one (as
 * "<unk>" itself is), else its byte tokens, else the unk token. */
static lt_status lt_tm_unknown(const lt_tokenizer *t, const uint8_t *s,
                               size_t n, lt_tok_emit_fn emit, void *ctx)
{
    int32_t id = lt_tm_vocab_id(t, s, n);
    if (id >= 0)
        return emit(ctx, id);
    bool fb = t->byte_fallback;
    for (size_t i = 0; fb && i < n; i++)
        fb = t->byte_fallback_id[s[i]] >= 0;
    lt_status st = LT_OK;
    for (size_t i = 0; fb && i < n && st == LT_OK; i++)
        st = emit(ctx, t->byte_fallback_id[s[i]]);
    return fb ? st : lt_tm_unk(t, emit, ctx);
}

/* Viterbi over byte positions that start characters: best[e] is the best
 * score of a path to e, from[e] where its last node starts and tok[e]
 * that node's id (-1: an unknown character). */
static lt_status lt_tm_viterbi(const lt_tokenizer *t, const uint8_t *w,
                               size_t n, double *best, size_t *from,
                               int32_t *tok)
{
    bool *reached = calloc(n + 1, sizeof *reached);
    if (!reached)
        return lt_set_error(LT_ERR_NOMEM, "tokenizer: out of memory");
    reached[0] = true;
    best[0] = 0;
    for (size_t s = 0; s < n;) {
        uint32_t cp;
        size_t cl = (size_t)lt_tok_utf8_next(w + s, n - s, &cp);
        bool single = false;
        int32_t node = 0;
        for (size_t e = s; e < n; e++) { /* the pieces that start at s */
            node = lt_tok_imap_get(&t->trie,
                                   (uint64_t)(uint32_t)node << 8 | w[e]);
            if (node < 0)
                break;
            int32_t id = t->trie_id[node];
            if (id < 0)
                continue;
            single = single || e + 1 == s + cl;
            double sc = best[s] + t->score[id];
            if (!reached[e + 1] || sc > best[e + 1]) {
                reached[e + 1] = true;
                best[e + 1] = sc;
                from[e + 1] = s;
                tok[e + 1] = id;
            }
        }
        double sc = best[s] + t->unk_score;
        if (!single && (!reached[s + cl] || sc > best[s + cl])) {
            reached[s + cl] = true;
            best[s + cl] = sc;
            from[s + cl] = s;
            tok[s + cl] = -1;
        }
        s += cl;
    }
    free(reached);
    return LT_OK;
}

lt_status lt_tok_unigram_word(const lt_tokenizer *t, const uint8_t *w,
                              size_t n, lt_tok_emit_fn emit, void *ctx)
{
    if (n == 0)
        return LT_OK;
    double *best = malloc((n + 1) * sizeof *best);
    size_t *from = malloc((n + 1) * sizeof *from);
    int32_t *tok = malloc((n + 1) * sizeof *tok);
    size_t *path = malloc((n + 1) * sizeof *path);
    lt_status st = best && from && tok && path
                       ? lt_tm_viterbi(t, w, n, best, from, tok)
                       : lt_set_error(LT_ERR_NOMEM, "tokenizer: out of memory");
    size_t k = 0;
    for (size_t e = n; st == LT_OK && e > 0; e = from[e])
        path[k++] = e;
    int32_t unk = t->role[LT_TOK_UNK];
    size_t run = SIZE_MAX; /* start of the pending unknown run */
    for (size_t i = k; st == LT_OK && i-- > 0;) {
        size_t e = path[i], s = from[e];
        bool unknown = tok[e] < 0 || tok[e] == unk;
        if (unknown && run == SIZE_MAX)
            run = s;
        if (!unknown && run != SIZE_MAX) {
            st = lt_tm_unknown(t, w + run, s - run, emit, ctx);
            run = SIZE_MAX;
        }
        if (!unknown && st == LT_OK)
            st = emit(ctx, tok[e]);
    }
    if (st == LT_OK && run != SIZE_MAX)
        st = lt_tm_unknown(t, w + run, n - run, emit, ctx);
    free(best);
    free(from);
    free(tok);
    free(path);
    return st;
}
