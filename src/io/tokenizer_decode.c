/*
 * tokenizer_decode.c - the decoders and post-processors of tokenizer.json,
 * read from JSON and applied. Decoders turn token strings back into text:
 * ByteLevel (byte-level tokens are kept as their bytes, so decoding joins
 * them), Metaspace, ByteFallback, Fuse, Strip, Replace, WordPiece (the
 * continuing-subword prefix joins a token to the one before, any other
 * token gets a space; then tokenizers' cleanup of spaces before
 * punctuation and contractions) and Sequence (flattened). Post-processors say which special tokens encoding with
 * them (lt_tokenizer_encode_special) puts around the text:
 * TemplateProcessing (its "single" template), BertProcessing,
 * RobertaProcessing, ByteLevel (no ids of its own) and Sequence.
 */
#include "tokenizer_internal.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

/* ---- reading decoders ---------------------------------------------------- */

static lt_status lt_td_one(lt_tokenizer *t, const cJSON *o, const char *name,
                           int depth);

static lt_status lt_td_sequence(lt_tokenizer *t, const cJSON *o,
                                const char *name, int depth)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, "decoders");
    if (!cJSON_IsArray(arr))
        return lt_set_error(LT_ERR_FORMAT, "%s: decoder Sequence needs a "
                            "\"decoders\" array", name);
    for (const cJSON *c = arr->child; c; c = c->next) {
        lt_status st = lt_td_one(t, c, name, depth + 1);
        if (st != LT_OK)
            return st;
    }
    return LT_OK;
}

static int lt_td_int(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v))
        return 0;
    double d = v->valuedouble;
    return d >= 0 && d < 1e6 ? (int)d : -1;
}

static lt_status lt_td_read(const cJSON *o, const char *type, lt_tok_step *st)
{
    if (!strcmp(type, "ByteLevel")) {
        st->kind = LT_TS_DEC_BYTELEVEL;
    } else if (!strcmp(type, "ByteFallback")) {
        st->kind = LT_TS_DEC_BYTEFALLBACK;
    } else if (!strcmp(type, "Fuse")) {
        st->kind = LT_TS_DEC_FUSE;
    } else if (!strcmp(type, "Metaspace")) {
        const cJSON *ps = cJSON_GetObjectItemCaseSensitive(o, "prepend_scheme");
        const cJSON *ap = cJSON_GetObjectItemCaseSensitive(o, "add_prefix_space");
        st->kind = LT_TS_DEC_METASPACE;
        st->prepend = cJSON_IsString(ps) ? strcmp(ps->valuestring, "never") != 0
                                         : !cJSON_IsFalse(ap);
        lt_status s = lt_tok_json_str(o, "replacement", "\xe2\x96\x81",
                                      "decoder Metaspace", &st->str, &st->len);
        return s == LT_OK && !st->len
                   ? lt_set_error(LT_ERR_FORMAT, "decoder Metaspace: empty "
                                  "replacement") : s;
    } else if (!strcmp(type, "Strip")) {
        st->kind = LT_TS_DEC_STRIP;
        st->start = lt_td_int(o, "start");
        st->stop = lt_td_int(o, "stop");
        lt_status s = lt_tok_json_str(o, "content", NULL, "decoder Strip",
                                      &st->str, &st->len);
        uint32_t cp = 0;
        if (s == LT_OK && (!st->len || st->start < 0 || st->stop < 0 ||
                           lt_tok_utf8_next((const uint8_t *)st->str, st->len,
                                            &cp) != (int)st->len))
            s = lt_set_error(LT_ERR_FORMAT, "decoder Strip: needs one "
                             "character of content and start, stop >= 0");
        return s;
    } else if (!strcmp(type, "WordPiece")) {
        st->kind = LT_TS_DEC_WORDPIECE;
        st->a = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(o, "cleanup"));
        return lt_tok_json_str(o, "prefix", "##", "decoder WordPiece",
                               &st->str, &st->len);
    } else if (!strcmp(type, "Replace")) {
        st->kind = LT_TS_DEC_REPLACE;
        lt_status s = lt_tok_parse_pattern(
            cJSON_GetObjectItemCaseSensitive(o, "pattern"), "decoder Replace", st);
        return s == LT_OK ? lt_tok_json_str(o, "content", NULL,
                                            "decoder Replace", &st->content,
                                            &st->content_len)
                          : s;
    } else {
        return lt_set_error(LT_ERR_FORMAT, "decoder '%s' is not supported "
                            "(supported: ByteLevel, Metaspace, ByteFallback, "
                            "Fuse, Strip, Replace, WordPiece, Sequence)", type);
    }
    return LT_OK;
}

static lt_status lt_td_one(lt_tokenizer *t, const cJSON *o, const char *name,
                           int depth)
{
    const cJSON *ty = cJSON_GetObjectItemCaseSensitive(o, "type");
    if (!cJSON_IsObject(o) || !cJSON_IsString(ty))
        return lt_set_error(LT_ERR_FORMAT, "%s: a decoder without a type",
                            name);
    if (depth > 16)
        return lt_set_error(LT_ERR_FORMAT, "%s: decoders nested too deep",
                            name);
    if (!strcmp(ty->valuestring, "Sequence"))
        return lt_td_sequence(t, o, name, depth);
    lt_tok_step st;
    memset(&st, 0, sizeof st);
    lt_status s = lt_td_read(o, ty->valuestring, &st);
    if (s != LT_OK)
        return lt_tok_step_failed(&st, name);
    return lt_tok_steps_add(&t->dec, &st);
}

lt_status lt_tok_parse_decoder(lt_tokenizer *t, const cJSON *o,
                               const char *name)
{
    t->has_decoder = o && !cJSON_IsNull(o);
    lt_status st = t->has_decoder ? lt_td_one(t, o, name, 0) : LT_OK;
    static const char *const names[] = {"ByteLevel", "Metaspace",
        "ByteFallback", "Fuse", "Strip", "Replace", "WordPiece"};
    for (int i = 0; i < t->dec.n && st == LT_OK; i++) {
        int k = (int)t->dec.step[i].kind - (int)LT_TS_DEC_BYTELEVEL;
        if ((k == 0) != t->byte_level)
            st = lt_set_error(LT_ERR_FORMAT, "%s: decoder '%s' %s", name,
                              names[k], k == 0
                                  ? "needs a ByteLevel pre_tokenizer"
                                  : "is not supported with a ByteLevel "
                                    "pre_tokenizer (only a ByteLevel "
                                    "decoder is)");
    }
    return st;
}

/* ---- applying decoders --------------------------------------------------- */

static lt_status lt_td_replace(const lt_tok_step *p, lt_tok_pieces *in,
                               lt_tok_pieces *out)
{
    lt_status st = LT_OK;
    for (size_t k = 0; k < in->np && st == LT_OK; k++)
        st = lt_tok_replace(p, in->buf + in->off[k], in->len[k], out);
    return st;
}

/* The byte of a "<0xXX>" token, or -1. */
static int lt_td_byte(const uint8_t *s, size_t n)
{
    if (n != 6 || memcmp(s, "<0x", 3) || s[5] != '>')
        return -1;
    int v = 0;
    for (int i = 3; i < 5; i++) {
        int c = s[i], d = c >= '0' && c <= '9' ? c - '0'
                        : c >= 'a' && c <= 'f' ? c - 'a' + 10
                        : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* A run of byte tokens: its bytes when they are valid UTF-8, else one
 * U+FFFD per byte (as `tokenizers` does). */
static lt_status lt_td_flush(uint8_t *b, size_t n, lt_tok_pieces *out)
{
    bool ok = true;
    for (size_t i = 0; i < n && ok;) {
        uint32_t cp;
        i += (size_t)lt_tok_utf8_next(b + i, n - i, &cp);
        ok = cp != LT_TOK_BADCP;
    }
    if (ok)
        return n ? lt_tok_pieces_push(out, b, n) : LT_OK;
    lt_status st = LT_OK;
    for (size_t i = 0; i < n && st == LT_OK; i++)
        st = lt_tok_pieces_push(out, "\xef\xbf\xbd", 3);
    return st;
}

static lt_status lt_td_bytefallback(lt_tok_pieces *in, lt_tok_pieces *out)
{
    lt_tok_pieces run; /* the bytes of the current run, as one piece */
    memset(&run, 0, sizeof run);
    lt_status st = lt_tok_pieces_push(&run, NULL, 0);
    for (size_t k = 0; k < in->np && st == LT_OK; k++) {
        const uint8_t *s = in->buf + in->off[k];
        int b = lt_td_byte(s, in->len[k]);
        uint8_t c = (uint8_t)b;
        if (b >= 0) {
            st = lt_tok_pieces_append(&run, &c, 1);
            continue;
        }
        st = lt_td_flush(run.buf, run.n, out);
        lt_tok_pieces_clear(&run);
        if (st == LT_OK)
            st = lt_tok_pieces_push(&run, NULL, 0);
        if (st == LT_OK)
            st = lt_tok_pieces_push(out, s, in->len[k]);
    }
    if (st == LT_OK)
        st = lt_td_flush(run.buf, run.n, out);
    lt_tok_pieces_free(&run);
    return st;
}

static lt_status lt_td_strip(const lt_tok_step *p, lt_tok_pieces *in,
                             lt_tok_pieces *out)
{
    lt_status st = LT_OK;
    for (size_t k = 0; k < in->np && st == LT_OK; k++) {
        const uint8_t *s = in->buf + in->off[k];
        size_t a = 0, b = in->len[k];
        for (int i = 0; i < p->start && b - a >= p->len &&
                        !memcmp(s + a, p->str, p->len); i++)
            a += p->len;
        for (int i = 0; i < p->stop && b - a >= p->len &&
                        !memcmp(s + b - p->len, p->str, p->len); i++)
            b -= p->len;
        st = lt_tok_pieces_push(out, s + a, b - a);
    }
    return st;
}

/* Metaspace: the replacement becomes a space; in the first token (when
 * the prepend scheme is not "never") it is dropped, as `tokenizers` does. */
static lt_status lt_td_metaspace(const lt_tok_step *p, lt_tok_pieces *in,
                                 lt_tok_pieces *out)
{
    lt_status st = LT_OK;
    for (size_t k = 0; k < in->np && st == LT_OK; k++) {
        const uint8_t *s = in->buf + in->off[k];
        size_t n = in->len[k];
        st = lt_tok_pieces_push(out, NULL, 0);
        for (size_t i = 0; i < n && st == LT_OK;) {
            if (n - i >= p->len && !memcmp(s + i, p->str, p->len)) {
                if (k > 0 || !p->prepend)
                    st = lt_tok_pieces_append(out, " ", 1);
                i += p->len;
            } else {
                st = lt_tok_pieces_append(out, s + i++, 1);
            }
        }
    }
    return st;
}

/* tokenizers' cleanup of decoded WordPiece tokens: these replacements,
 * each over the whole token in turn. */
static lt_status lt_td_cleanup(const uint8_t *s, size_t n, lt_tok_pieces *out,
                               lt_tok_pieces *tmp)
{
    static const char *const from[] = {" .", " ?", " !", " ,", " ' ", " n't",
        " 'm", " do not", " 's", " 've", " 're"};
    static const char *const to[] = {".", "?", "!", ",", "'", "n't", "'m",
        " don't", "'s", "'ve", "'re"};
    lt_tok_pieces_clear(tmp);
    lt_status st = lt_tok_pieces_push(tmp, s, n);
    for (size_t r = 0; r < sizeof from / sizeof *from && st == LT_OK; r++) {
        size_t fl = strlen(from[r]), m = tmp->n, at = out->n;
        st = lt_tok_pieces_push(out, NULL, 0);
        for (size_t i = 0; i < m && st == LT_OK;) {
            bool hit = i + fl <= m && !memcmp(tmp->buf + i, from[r], fl);
            st = hit ? lt_tok_pieces_append(out, to[r], strlen(to[r]))
                     : lt_tok_pieces_append(out, tmp->buf + i, 1);
            i += hit ? fl : 1;
        }
        lt_tok_pieces_clear(tmp);
        if (st == LT_OK)
            st = lt_tok_pieces_push(tmp, out->buf + at, out->n - at);
        out->n = at; /* drop the pass from out again */
        out->np--;
    }
    return st == LT_OK ? lt_tok_pieces_push(out, tmp->buf, tmp->n) : st;
}

/* WordPiece: a token after the first loses its prefix, or gets a space. */
static lt_status lt_td_wordpiece(const lt_tok_step *p, lt_tok_pieces *in,
                                 lt_tok_pieces *out)
{
    lt_tok_pieces a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    lt_status st = LT_OK;
    for (size_t k = 0; k < in->np && st == LT_OK; k++) {
        const uint8_t *s = in->buf + in->off[k];
        size_t n = in->len[k];
        bool pre = k && n >= p->len && !memcmp(s, p->str, p->len);
        lt_tok_pieces_clear(&a);
        st = lt_tok_pieces_push(&a, k && !pre ? " " : NULL, k && !pre);
        if (st == LT_OK)
            st = lt_tok_pieces_append(&a, s + (pre ? p->len : 0),
                                      n - (pre ? p->len : 0));
        if (st == LT_OK && p->a)
            st = lt_td_cleanup(a.buf, a.n, out, &b);
        else if (st == LT_OK)
            st = lt_tok_pieces_push(out, a.buf, a.n);
    }
    lt_tok_pieces_free(&a);
    lt_tok_pieces_free(&b);
    return st;
}

static lt_status lt_td_apply(const lt_tok_step *p, lt_tok_pieces *in,
                             lt_tok_pieces *out)
{
    lt_status st = LT_OK;
    switch (p->kind) {
    case LT_TS_DEC_REPLACE:
        return lt_td_replace(p, in, out);
    case LT_TS_DEC_BYTEFALLBACK:
        return lt_td_bytefallback(in, out);
    case LT_TS_DEC_STRIP:
        return lt_td_strip(p, in, out);
    case LT_TS_DEC_METASPACE:
        return lt_td_metaspace(p, in, out);
    case LT_TS_DEC_WORDPIECE:
        return lt_td_wordpiece(p, in, out);
    case LT_TS_DEC_FUSE:
        st = lt_tok_pieces_push(out, NULL, 0);
        for (size_t k = 0; k < in->np && st == LT_OK; k++)
            st = lt_tok_pieces_append(out, in->buf + in->off[k], in->len[k]);
        return st;
    default: /* ByteLevel: tokens are bytes already */
        for (size_t k = 0; k < in->np && st == LT_OK; k++)
            st = lt_tok_pieces_push(out, in->buf + in->off[k], in->len[k]);
        return st;
    }
}

lt_status lt_tok_run_decoders(const lt_tokenizer *t, lt_tok_pieces *toks,
                              lt_tok_pieces *tmp)
{
    lt_status st = LT_OK;
    for (int i = 0; i < t->dec.n && st == LT_OK; i++) {
        lt_tok_pieces x = *toks;
        *toks = *tmp;
        *tmp = x;
        lt_tok_pieces_clear(toks);
        st = lt_td_apply(&t->dec.step[i], tmp, toks);
    }
    return st;
}

/* ---- post-processors ----------------------------------------------------- */

/* Wrap the template t->tmpl (-1: the text) in pre + text + post. */
static lt_status lt_tp_wrap(lt_tokenizer *t, const int32_t *pre, int npre,
                            const int32_t *post, int npost)
{
    int n = npre + t->n_tmpl + npost;
    int32_t *x = malloc((size_t)(n > 0 ? n : 1) * sizeof *x);
    if (!x)
        return lt_set_error(LT_ERR_NOMEM, "tokenizer: out of memory");
    if (npre)
        memcpy(x, pre, (size_t)npre * sizeof *x);
    if (t->n_tmpl)
        memcpy(x + npre, t->tmpl, (size_t)t->n_tmpl * sizeof *x);
    if (npost)
        memcpy(x + npre + t->n_tmpl, post, (size_t)npost * sizeof *x);
    free(t->tmpl);
    t->tmpl = x;
    t->n_tmpl = n;
    return LT_OK;
}

static int64_t lt_tp_id(const lt_tokenizer *t, const cJSON *v)
{
    if (!cJSON_IsNumber(v))
        return -1;
    double d = v->valuedouble;
    if (!(d >= 0 && d < t->n) || d != (double)(int32_t)d ||
        !(t->flags[(int32_t)d] & LT_TOKF_USED))
        return -1;
    return (int64_t)d;
}

/* The ids of a SpecialToken item of a template (appended to ids). */
static lt_status lt_tp_special(const lt_tokenizer *t, const cJSON *specials,
                               const cJSON *item, int32_t *ids, int *n, int cap)
{
    const cJSON *nm = cJSON_GetObjectItemCaseSensitive(item, "id");
    const cJSON *sp = cJSON_IsString(nm)
        ? cJSON_GetObjectItemCaseSensitive(specials, nm->valuestring) : NULL;
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(sp, "ids");
    if (!cJSON_IsArray(arr))
        return lt_set_error(LT_ERR_FORMAT, "TemplateProcessing: special token "
                            "'%s' has no \"ids\" in special_tokens",
                            cJSON_IsString(nm) ? nm->valuestring : "?");
    for (const cJSON *v = arr->child; v; v = v->next) {
        int64_t id = lt_tp_id(t, v);
        if (id < 0 || *n >= cap)
            return lt_set_error(LT_ERR_FORMAT, "TemplateProcessing: special "
                                "token '%s': an id is not in the vocab (or too "
                                "many)", nm->valuestring);
        ids[(*n)++] = (int32_t)id;
    }
    return LT_OK;
}

static lt_status lt_tp_template(lt_tokenizer *t, const cJSON *o)
{
    const cJSON *single = cJSON_GetObjectItemCaseSensitive(o, "single");
    const cJSON *specials = cJSON_GetObjectItemCaseSensitive(o, "special_tokens");
    int32_t pre[64], post[64];
    int np = 0, nq = 0, seen = 0;
    if (!cJSON_IsArray(single))
        return lt_set_error(LT_ERR_FORMAT, "TemplateProcessing: no \"single\" "
                            "template");
    for (const cJSON *it = single->child; it; it = it->next) {
        const cJSON *sq = cJSON_GetObjectItemCaseSensitive(it, "Sequence");
        const cJSON *sp = cJSON_GetObjectItemCaseSensitive(it, "SpecialToken");
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(sq, "id");
        lt_status st = LT_OK;
        if (sq && cJSON_IsString(id) && !strcmp(id->valuestring, "A") && !seen)
            seen = 1;
        else if (sp && !seen)
            st = lt_tp_special(t, specials, sp, pre, &np, 64);
        else if (sp)
            st = lt_tp_special(t, specials, sp, post, &nq, 64);
        else
            st = lt_set_error(LT_ERR_FORMAT, "TemplateProcessing: the single "
                              "template holds an item other than "
                              "SpecialToken and one Sequence A");
        if (st != LT_OK)
            return st;
    }
    if (!seen)
        return lt_set_error(LT_ERR_FORMAT, "TemplateProcessing: the single "
                            "template has no Sequence A");
    return lt_tp_wrap(t, pre, np, post, nq);
}

/* BertProcessing and RobertaProcessing: cls + text + sep. */
static lt_status lt_tp_clssep(lt_tokenizer *t, const cJSON *o, const char *ty)
{
    const cJSON *cls = cJSON_GetObjectItemCaseSensitive(o, "cls");
    const cJSON *sep = cJSON_GetObjectItemCaseSensitive(o, "sep");
    int64_t c = cJSON_GetArraySize(cls) == 2 ? lt_tp_id(t, cls->child->next) : -1;
    int64_t s = cJSON_GetArraySize(sep) == 2 ? lt_tp_id(t, sep->child->next) : -1;
    if (c < 0 || s < 0)
        return lt_set_error(LT_ERR_FORMAT, "%s: \"cls\" and \"sep\" must be "
                            "[token, id] with an id of the vocab", ty);
    int32_t a = (int32_t)c, b = (int32_t)s;
    return lt_tp_wrap(t, &a, 1, &b, 1);
}

static lt_status lt_tp_one(lt_tokenizer *t, const cJSON *o, int depth)
{
    const cJSON *ty = cJSON_GetObjectItemCaseSensitive(o, "type");
    if (!cJSON_IsObject(o) || !cJSON_IsString(ty) || depth > 16)
        return lt_set_error(LT_ERR_FORMAT, "a post_processor without a type");
    const char *type = ty->valuestring;
    if (!strcmp(type, "ByteLevel"))
        return LT_OK;
    if (!strcmp(type, "TemplateProcessing"))
        return lt_tp_template(t, o);
    if (!strcmp(type, "BertProcessing") || !strcmp(type, "RobertaProcessing"))
        return lt_tp_clssep(t, o, type);
    if (strcmp(type, "Sequence"))
        return lt_set_error(LT_ERR_FORMAT, "post_processor '%s' is not "
                            "supported (supported: TemplateProcessing, "
                            "ByteLevel, BertProcessing, RobertaProcessing, "
                            "Sequence)", type);
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, "processors");
    if (!cJSON_IsArray(arr))
        return lt_set_error(LT_ERR_FORMAT, "post_processor Sequence needs a "
                            "\"processors\" array");
    for (const cJSON *c = arr->child; c; c = c->next) {
        lt_status st = lt_tp_one(t, c, depth + 1);
        if (st != LT_OK)
            return st;
    }
    return LT_OK;
}

lt_status lt_tok_parse_postprocessor(lt_tokenizer *t, const cJSON *o,
                                     const char *name)
{
    free(t->tmpl);
    t->tmpl = NULL;
    t->n_tmpl = 0;
    if (!o || cJSON_IsNull(o))
        return LT_OK;
    if (lt_tp_wrap(t, NULL, 0, NULL, 0) != LT_OK)
        return LT_ERR_NOMEM;
    t->tmpl[0] = -1;
    t->n_tmpl = 1;
    lt_status st = lt_tp_one(t, o, 0);
    if (st != LT_OK) {
        char msg[400];
        strncpy(msg, lt_last_error(), sizeof msg - 1);
        msg[sizeof msg - 1] = 0;
        return lt_set_error(lt_last_status(), "%s: %s", name, msg);
    }
    return LT_OK;
}
