/*
 * tokenizer_split.c - the pre-tokenizers of tokenizer.json, read from JSON
 * and applied: ByteLevel (with or without GPT-2's regex), Split (a string
 * or a PCRE2 regex, with every SplitDelimiterBehavior and invert),
 * Metaspace, Whitespace, WhitespaceSplit, Digits, BertPreTokenizer (split
 * at white space, which goes, and around each punctuation character) and
 * Sequence (flattened).
 * A pre-tokenizer turns a list of pieces of text into a finer list; the
 * model then encodes each piece on its own. Also the small helpers the
 * pipeline files share: piece lists, step lists, patterns and strings
 * read from JSON.
 */
#include "tokenizer_internal.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* ---- piece lists --------------------------------------------------------- */

static lt_status lt_ts_room(lt_tok_pieces *p, size_t n)
{
    if (p->n + n > p->cap) {
        size_t cap = p->cap ? p->cap : 256;
        while (cap < p->n + n)
            cap *= 2;
        uint8_t *b = realloc(p->buf, cap);
        if (!b)
            return lt_set_error(LT_ERR_NOMEM, "tokenizer: out of memory");
        p->buf = b;
        p->cap = cap;
    }
    return LT_OK;
}

lt_status lt_tok_pieces_push(lt_tok_pieces *p, const void *b, size_t n)
{
    if (p->np == p->pcap) {
        size_t cap = p->pcap ? p->pcap * 2 : 32;
        size_t *o = realloc(p->off, cap * sizeof *o);
        if (o)
            p->off = o;
        size_t *l = realloc(p->len, cap * sizeof *l);
        if (l)
            p->len = l;
        if (!o || !l)
            return lt_set_error(LT_ERR_NOMEM, "tokenizer: out of memory");
        p->pcap = cap;
    }
    p->off[p->np] = p->n;
    p->len[p->np++] = 0;
    return lt_tok_pieces_append(p, b, n);
}

lt_status lt_tok_pieces_append(lt_tok_pieces *p, const void *b, size_t n)
{
    if (!n)
        return LT_OK;
    if (lt_ts_room(p, n) != LT_OK)
        return LT_ERR_NOMEM;
    memmove(p->buf + p->n, b, n);
    p->n += n;
    p->len[p->np - 1] += n;
    return LT_OK;
}

void lt_tok_pieces_clear(lt_tok_pieces *p)
{
    p->n = 0;
    p->np = 0;
}

void lt_tok_pieces_free(lt_tok_pieces *p)
{
    free(p->buf);
    free(p->off);
    free(p->len);
    memset(p, 0, sizeof *p);
}

/* ---- step lists and JSON helpers ---------------------------------------- */

void lt_tok_steps_free(lt_tok_steps *s)
{
    for (int i = 0; i < s->n; i++) {
        free(s->step[i].str);
        free(s->step[i].content);
        lt_tok_re_free(s->step[i].re);
    }
    free(s->step);
    s->step = NULL;
    s->n = 0;
}

lt_status lt_tok_step_failed(lt_tok_step *st, const char *name)
{
    free(st->str);
    free(st->content);
    lt_tok_re_free(st->re);
    char msg[400];
    snprintf(msg, sizeof msg, "%s", lt_last_error());
    return lt_set_error(lt_last_status(), "%s: %s", name, msg);
}

lt_status lt_tok_steps_add(lt_tok_steps *s, lt_tok_step *st)
{
    lt_tok_step *p = s->n < 64 ? realloc(s->step, (size_t)(s->n + 1) * sizeof *p)
                               : NULL;
    if (!p) {
        free(st->str);
        free(st->content);
        lt_tok_re_free(st->re);
        return lt_set_error(LT_ERR_NOMEM, "tokenizer: too many steps or out "
                                          "of memory");
    }
    s->step = p;
    s->step[s->n++] = *st;
    return LT_OK;
}

lt_status lt_tok_json_str(const cJSON *o, const char *key, const char *dflt,
                          const char *what, char **out, size_t *len)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    const char *s = cJSON_IsString(v) ? v->valuestring
                  : (!v || cJSON_IsNull(v)) ? dflt : NULL;
    *out = NULL;
    if (!s)
        return lt_set_error(LT_ERR_FORMAT, "%s: \"%s\" is missing or not a "
                            "string", what, key);
    *len = strlen(s);
    *out = strdup(s);
    if (!*out)
        return lt_set_error(LT_ERR_NOMEM, "tokenizer: out of memory");
    return LT_OK;
}

lt_status lt_tok_parse_pattern(const cJSON *p, const char *what,
                               lt_tok_step *st)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(p, "String");
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(p, "Regex");
    const cJSON *v = cJSON_IsString(s) ? s : r;
    if (!cJSON_IsObject(p) || !cJSON_IsString(v) || !v->valuestring[0])
        return lt_set_error(LT_ERR_FORMAT, "%s: \"pattern\" must be "
                            "{\"String\": s} or {\"Regex\": r}, non-empty",
                            what);
    st->len = strlen(v->valuestring);
    st->str = strdup(v->valuestring);
    if (!st->str)
        return lt_set_error(LT_ERR_NOMEM, "tokenizer: out of memory");
    return lt_tok_re_compile(st->str, st->len, v == s, what, &st->re);
}

/* ---- reading ------------------------------------------------------------ */

static lt_status lt_ts_behavior(const cJSON *o, lt_tok_step *st)
{
    static const char *const names[] = {"Removed", "Isolated",
        "MergedWithPrevious", "MergedWithNext", "Contiguous"};
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, "behavior");
    for (int i = 0; i < 5 && cJSON_IsString(b); i++)
        if (!strcmp(b->valuestring, names[i])) {
            st->how = (lt_tok_split_how)i;
            return LT_OK;
        }
    return lt_set_error(LT_ERR_FORMAT, "pre_tokenizer Split: \"behavior\" '%s' "
                        "is not one of Removed, Isolated, MergedWithPrevious, "
                        "MergedWithNext, Contiguous",
                        cJSON_IsString(b) ? b->valuestring : "(none)");
}

static lt_status lt_ts_metaspace(const cJSON *o, lt_tok_step *st)
{
    const cJSON *ps = cJSON_GetObjectItemCaseSensitive(o, "prepend_scheme");
    const cJSON *ap = cJSON_GetObjectItemCaseSensitive(o, "add_prefix_space");
    const cJSON *sp = cJSON_GetObjectItemCaseSensitive(o, "split");
    st->kind = LT_TS_METASPACE;
    st->prepend = cJSON_IsFalse(ap) ? 0 : 2;
    if (cJSON_IsString(ps))
        st->prepend = !strcmp(ps->valuestring, "never") ? 0
                    : !strcmp(ps->valuestring, "first") ? 1
                    : !strcmp(ps->valuestring, "always") ? 2 : -1;
    st->a = !cJSON_IsFalse(sp);
    if (st->prepend < 0)
        return lt_set_error(LT_ERR_FORMAT, "Metaspace: prepend_scheme '%s' is "
                            "not always, first or never", ps->valuestring);
    lt_status s = lt_tok_json_str(o, "replacement", "\xe2\x96\x81",
                                  "Metaspace", &st->str, &st->len);
    if (s == LT_OK && !st->len)
        s = lt_set_error(LT_ERR_FORMAT, "Metaspace: empty replacement");
    return s;
}

/* Steps that split by a fixed regex: Whitespace, WhitespaceSplit, Digits. */
static lt_status lt_ts_fixed(const char *type, const cJSON *o, lt_tok_step *st)
{
    const char *re;
    if (!strcmp(type, "Whitespace")) {
        st->kind = LT_TS_WHITESPACE;
        st->how = LT_SPLIT_REMOVED;
        st->invert = true;
        re = "\\w+|[^\\w\\s]+";
    } else if (!strcmp(type, "WhitespaceSplit")) {
        st->kind = LT_TS_WHITESPACE_SPLIT;
        st->how = LT_SPLIT_REMOVED;
        re = "\\s+";
    } else {
        st->kind = LT_TS_DIGITS;
        st->how = LT_SPLIT_ISOLATED;
        re = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "individual_digits"))
                 ? "\\p{N}" : "\\p{N}+";
    }
    return lt_tok_re_compile(re, strlen(re), false, type, &st->re);
}

static lt_status lt_ts_one(lt_tokenizer *t, const cJSON *o, const char *name,
                           int depth);

static lt_status lt_ts_sequence(lt_tokenizer *t, const cJSON *o,
                                const char *name, int depth)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, "pretokenizers");
    if (!cJSON_IsArray(arr))
        return lt_set_error(LT_ERR_FORMAT, "%s: pre_tokenizer Sequence needs "
                            "a \"pretokenizers\" array", name);
    for (const cJSON *c = arr->child; c; c = c->next) {
        lt_status st = lt_ts_one(t, c, name, depth + 1);
        if (st != LT_OK)
            return st;
    }
    return LT_OK;
}

static lt_status lt_ts_read(lt_tokenizer *t, const cJSON *o, const char *type,
                            lt_tok_step *st)
{
    if (!strcmp(type, "ByteLevel")) {
        st->kind = LT_TS_BYTELEVEL;
        st->a = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(o, "add_prefix_space"));
        st->b = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(o, "use_regex"));
        t->byte_level = true;
        t->add_prefix_space = st->a;
        t->use_regex = st->b;
        return LT_OK;
    }
    if (!strcmp(type, "Split")) {
        st->kind = LT_TS_SPLIT;
        st->invert = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "invert"));
        lt_status s = lt_tok_parse_pattern(
            cJSON_GetObjectItemCaseSensitive(o, "pattern"),
            "pre_tokenizer Split", st);
        return s == LT_OK ? lt_ts_behavior(o, st) : s;
    }
    if (!strcmp(type, "Metaspace"))
        return lt_ts_metaspace(o, st);
    if (!strcmp(type, "BertPreTokenizer")) {
        st->kind = LT_TS_BERT_PRE;
        return LT_OK;
    }
    return lt_ts_fixed(type, o, st);
}

static lt_status lt_ts_one(lt_tokenizer *t, const cJSON *o, const char *name,
                           int depth)
{
    static const char *const known[] = {"ByteLevel", "Split", "Metaspace",
        "Whitespace", "WhitespaceSplit", "Digits", "BertPreTokenizer", NULL};
    const cJSON *ty = cJSON_GetObjectItemCaseSensitive(o, "type");
    if (!cJSON_IsObject(o) || !cJSON_IsString(ty))
        return lt_set_error(LT_ERR_FORMAT, "%s: a pre_tokenizer without a "
                            "type", name);
    const char *type = ty->valuestring;
    if (depth > 16)
        return lt_set_error(LT_ERR_FORMAT, "%s: pre_tokenizers nested too "
                            "deep", name);
    if (!strcmp(type, "Sequence"))
        return lt_ts_sequence(t, o, name, depth);
    int k = 0;
    while (known[k] && strcmp(known[k], type))
        k++;
    if (!known[k])
        return lt_set_error(LT_ERR_FORMAT, "%s: pre_tokenizer '%s' is not "
                            "supported (supported: ByteLevel, Split, "
                            "Metaspace, Whitespace, WhitespaceSplit, Digits, "
                            "BertPreTokenizer, Sequence)", name, type);
    if (t->pre.n && t->pre.step[t->pre.n - 1].kind == LT_TS_BYTELEVEL)
        return lt_set_error(LT_ERR_FORMAT, "%s: pre_tokenizer '%s' after "
                            "ByteLevel is not supported (ByteLevel must come "
                            "last)", name, type);
    lt_tok_step st;
    memset(&st, 0, sizeof st);
    lt_status s = lt_ts_read(t, o, type, &st);
    if (s != LT_OK)
        return lt_tok_step_failed(&st, name);
    return lt_tok_steps_add(&t->pre, &st);
}

lt_status lt_tok_parse_pretokenizer(lt_tokenizer *t, const cJSON *o,
                                    const char *name)
{
    t->byte_level = false;
    if (!o || cJSON_IsNull(o))
        return LT_OK;
    return lt_ts_one(t, o, name, 0);
}

/* ---- applying ----------------------------------------------------------- */

/* Segments of a piece: the matches and the gaps between them, in order. */
typedef struct {
    size_t a, b;
    bool match;
} lt_ts_seg;

static lt_ts_seg *lt_ts_segments(const size_t *sp, size_t m, size_t n,
                                 bool invert, size_t *ns)
{
    lt_ts_seg *g = malloc((2 * m + 1) * sizeof *g);
    size_t k = 0, pos = 0;
    for (size_t i = 0; g && i <= m; i++) {
        size_t a = i < m ? sp[2 * i] : n;
        if (a > pos)
            g[k++] = (lt_ts_seg){pos, a, invert};
        if (i < m)
            g[k++] = (lt_ts_seg){a, sp[2 * i + 1], !invert};
        pos = i < m ? sp[2 * i + 1] : n;
    }
    *ns = k;
    if (!g)
        lt_set_error(LT_ERR_NOMEM, "tokenizer: out of memory");
    return g;
}

/* Whether segment i joins the piece before it (tokenizers' folds). */
static bool lt_ts_joins(const lt_ts_seg *g, size_t i, lt_tok_split_how how)
{
    if (i == 0)
        return false;
    switch (how) {
    case LT_SPLIT_MERGED_PREV:
        return g[i].match && !g[i - 1].match;
    case LT_SPLIT_MERGED_NEXT:
        return g[i - 1].match && !g[i].match;
    case LT_SPLIT_CONTIGUOUS:
        return g[i].match == g[i - 1].match;
    default:
        return false;
    }
}

static lt_status lt_ts_split(const uint8_t *s, size_t n, const size_t *sp,
                             size_t m, lt_tok_split_how how, bool invert,
                             lt_tok_pieces *out)
{
    size_t ns;
    lt_ts_seg *g = lt_ts_segments(sp, m, n, invert, &ns);
    if (!g)
        return LT_ERR_NOMEM;
    lt_status st = LT_OK;
    for (size_t i = 0; i < ns && st == LT_OK; i++) {
        if (how == LT_SPLIT_REMOVED && g[i].match)
            continue;
        const uint8_t *p = s + g[i].a;
        size_t l = g[i].b - g[i].a;
        st = lt_ts_joins(g, i, how) ? lt_tok_pieces_append(out, p, l)
                                    : lt_tok_pieces_push(out, p, l);
    }
    free(g);
    return st;
}

/* Spans of a literal string (non-overlapping, leftmost first). */
static lt_status lt_ts_find_all(const uint8_t *s, size_t n, const char *w,
                                size_t wl, size_t **sp, size_t *m)
{
    size_t cnt = 0;
    for (size_t i = 0; i + wl <= n;)
        i += memcmp(s + i, w, wl) ? 1 : (cnt++, wl);
    *m = 0;
    *sp = malloc((2 * cnt + 1) * sizeof **sp);
    if (!*sp)
        return lt_set_error(LT_ERR_NOMEM, "tokenizer: out of memory");
    for (size_t i = 0; i + wl <= n;) {
        if (memcmp(s + i, w, wl)) {
            i++;
            continue;
        }
        (*sp)[2 * *m] = i;
        (*sp)[2 * *m + 1] = i + wl;
        ++*m;
        i += wl;
    }
    return LT_OK;
}

/* Spaces become the replacement, which is prepended as the scheme says
 * and (split) starts a new piece wherever it occurs. */
static lt_status lt_ts_metaspace_apply(const lt_tok_step *p, const uint8_t *s,
                                       size_t n, bool first, lt_tok_pieces *out,
                                       lt_tok_pieces *scratch)
{
    bool has = (n && s[0] == ' ') ||
               (n >= p->len && !memcmp(s, p->str, p->len));
    bool pre = !has && (p->prepend == 2 || (p->prepend == 1 && first));
    lt_tok_pieces_clear(scratch);
    lt_status st = lt_tok_pieces_push(scratch, pre ? p->str : NULL,
                                      pre ? p->len : 0);
    for (size_t i = 0; i < n && st == LT_OK; i++)
        st = s[i] == ' ' ? lt_tok_pieces_append(scratch, p->str, p->len)
                         : lt_tok_pieces_append(scratch, s + i, 1);
    if (st != LT_OK || !p->a)
        return st == LT_OK ? lt_tok_pieces_push(out, scratch->buf, scratch->n)
                           : st;
    size_t *sp, m;
    st = lt_ts_find_all(scratch->buf, scratch->n, p->str, p->len, &sp, &m);
    if (st != LT_OK)
        return st;
    st = lt_ts_split(scratch->buf, scratch->n, sp, m, LT_SPLIT_MERGED_NEXT,
                     false, out);
    free(sp);
    return st;
}

static lt_status lt_ts_bytelevel(bool prefix, bool regex, const uint8_t *s,
                                 size_t n, lt_tok_pieces *out)
{
    uint8_t *tmp = NULL;
    if (prefix && (n == 0 || s[0] != ' ')) {
        tmp = malloc(n + 1);
        if (!tmp)
            return lt_set_error(LT_ERR_NOMEM, "tokenizer: out of memory");
        tmp[0] = ' ';
        memcpy(tmp + 1, s, n);
        s = tmp;
        n++;
    }
    lt_status st = LT_OK;
    if (!regex)
        st = lt_tok_pieces_push(out, s, n);
    for (size_t pos = 0; regex && pos < n && st == LT_OK;) {
        size_t end = lt_tok_pretok_next(s, n, pos);
        st = lt_tok_pieces_push(out, s + pos, end - pos);
        pos = end;
    }
    free(tmp);
    return st;
}

/* BERT's punctuation: ASCII punctuation and Unicode's P categories. */
static bool lt_ts_bert_punct(uint32_t cp)
{
    if (cp < 128)
        return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) ||
               (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126);
    utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
    return c >= UTF8PROC_CATEGORY_PC && c <= UTF8PROC_CATEGORY_PO;
}

static lt_status lt_ts_bert(const uint8_t *s, size_t n, lt_tok_pieces *out)
{
    lt_status st = LT_OK;
    bool open = false; /* the last piece of out is a word still growing */
    for (size_t i = 0; i < n && st == LT_OK;) {
        uint32_t cp;
        size_t l = (size_t)lt_tok_utf8_next(s + i, n - i, &cp);
        bool ok = cp != LT_TOK_BADCP;
        if (ok && lt_tok_is_space(cp)) {
            open = false;
        } else if (ok && lt_ts_bert_punct(cp)) {
            st = lt_tok_pieces_push(out, s + i, l);
            open = false;
        } else {
            st = open ? lt_tok_pieces_append(out, s + i, l)
                      : lt_tok_pieces_push(out, s + i, l);
            open = true;
        }
        i += l;
    }
    return st;
}

static lt_status lt_ts_apply(const lt_tok_step *p, const uint8_t *s, size_t n,
                             bool first, lt_tok_pieces *out,
                             lt_tok_pieces *scratch)
{
    if (p->kind == LT_TS_BERT_PRE)
        return lt_ts_bert(s, n, out);
    if (p->kind == LT_TS_BYTELEVEL)
        return lt_ts_bytelevel(p->a, p->b, s, n, out);
    if (p->kind == LT_TS_METASPACE)
        return lt_ts_metaspace_apply(p, s, n, first, out, scratch);
    size_t *sp, m;
    lt_status st = lt_tok_re_matches(p->re, s, n, &sp, &m);
    if (st != LT_OK)
        return st;
    st = lt_ts_split(s, n, sp, m, p->how, p->invert, out);
    free(sp);
    return st;
}

lt_status lt_tok_pretokenize(const lt_tokenizer *t, const uint8_t *s,
                             size_t n, bool first, lt_tok_pieces *out,
                             lt_tok_pieces *tmp)
{
    lt_tok_pieces_clear(out);
    if (t->pre.n == 0 && t->byte_level)
        return lt_ts_bytelevel(t->add_prefix_space, t->use_regex, s, n, out);
    lt_status st = lt_tok_pieces_push(out, s, n);
    lt_tok_pieces scratch;
    memset(&scratch, 0, sizeof scratch);
    for (int i = 0; i < t->pre.n && st == LT_OK; i++) {
        lt_tok_pieces x = *out;
        *out = *tmp;
        *tmp = x;
        lt_tok_pieces_clear(out);
        for (size_t k = 0; k < tmp->np && st == LT_OK; k++)
            st = lt_ts_apply(&t->pre.step[i], tmp->buf + tmp->off[k],
                             tmp->len[k], first && k == 0, out, &scratch);
    }
    lt_tok_pieces_free(&scratch);
    return st;
}
