/*
 * tokenizer_norm.c - the normalizers of tokenizer.json, read from JSON and
 * applied to text: NFC, NFD, NFKC, NFKD (utf8proc), Lowercase, Prepend,
 * Replace (a string or a PCRE2 regex), Strip, and Sequence (flattened
 * into its steps). The text between added tokens is normalized before
 * pre-tokenization. Invalid UTF-8 is kept as it is: the Unicode forms
 * apply to the valid runs around it.
 */
#include "tokenizer_internal.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* ---- reading ------------------------------------------------------------ */

static lt_status lt_tn_unsupported(const char *name, const char *type)
{
    return lt_set_error(LT_ERR_FORMAT,
                        "%s: normalizer '%s' is not supported (supported: "
                        "NFC, NFD, NFKC, NFKD, Lowercase, Prepend, Replace, "
                        "Strip, Sequence)", name, type);
}

static lt_status lt_tn_one(lt_tokenizer *t, const cJSON *o, const char *name,
                           int depth);

static lt_status lt_tn_sequence(lt_tokenizer *t, const cJSON *o,
                                const char *name, int depth)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, "normalizers");
    if (!cJSON_IsArray(arr))
        return lt_set_error(LT_ERR_FORMAT,
                            "%s: normalizer Sequence needs a \"normalizers\" "
                            "array", name);
    for (const cJSON *c = arr->child; c; c = c->next) {
        lt_status st = lt_tn_one(t, c, name, depth + 1);
        if (st != LT_OK)
            return st;
    }
    return LT_OK;
}

static lt_status lt_tn_one(lt_tokenizer *t, const cJSON *o, const char *name,
                           int depth)
{
    static const char *const forms[] = {"NFC", "NFD", "NFKC", "NFKD"};
    const cJSON *ty = cJSON_GetObjectItemCaseSensitive(o, "type");
    if (!cJSON_IsObject(o) || !cJSON_IsString(ty))
        return lt_set_error(LT_ERR_FORMAT, "%s: a normalizer without a type",
                            name);
    const char *type = ty->valuestring;
    if (depth > 16)
        return lt_set_error(LT_ERR_FORMAT, "%s: normalizers nested too deep",
                            name);
    if (!strcmp(type, "Sequence"))
        return lt_tn_sequence(t, o, name, depth);
    lt_tok_step st;
    memset(&st, 0, sizeof st);
    lt_status s = LT_OK;
    int form = -1;
    for (int i = 0; i < 4; i++)
        if (!strcmp(type, forms[i]))
            form = i;
    if (form >= 0) {
        st.kind = (lt_tok_step_kind)(LT_TS_NFC + form);
    } else if (!strcmp(type, "Lowercase")) {
        st.kind = LT_TS_LOWERCASE;
    } else if (!strcmp(type, "Prepend")) {
        st.kind = LT_TS_PREPEND;
        s = lt_tok_json_str(o, "prepend", NULL, "normalizer Prepend",
                            &st.str, &st.len);
    } else if (!strcmp(type, "Replace")) {
        st.kind = LT_TS_REPLACE;
        s = lt_tok_parse_pattern(cJSON_GetObjectItemCaseSensitive(o, "pattern"),
                                 "normalizer Replace", &st);
        if (s == LT_OK)
            s = lt_tok_json_str(o, "content", NULL, "normalizer Replace",
                                &st.content, &st.content_len);
    } else if (!strcmp(type, "Strip")) {
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(o, "strip_left");
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(o, "strip_right");
        st.kind = LT_TS_STRIP;
        st.a = cJSON_IsTrue(l);
        st.b = cJSON_IsTrue(r);
    } else {
        return lt_tn_unsupported(name, type);
    }
    if (s != LT_OK)
        return lt_tok_step_failed(&st, name);
    return lt_tok_steps_add(&t->norm, &st);
}

lt_status lt_tok_parse_normalizer(lt_tokenizer *t, const cJSON *o,
                                  const char *name)
{
    if (!o || cJSON_IsNull(o))
        return LT_OK;
    return lt_tn_one(t, o, name, 0);
}

/* ---- applying ----------------------------------------------------------- */

/* A Unicode normalization form over the valid UTF-8 runs of s. */
static lt_status lt_tn_form(lt_tok_step_kind k, const uint8_t *s, size_t n,
                            lt_tok_pieces *out)
{
    int opt = UTF8PROC_STABLE;
    opt |= (k == LT_TS_NFC || k == LT_TS_NFKC) ? UTF8PROC_COMPOSE
                                               : UTF8PROC_DECOMPOSE;
    opt |= (k == LT_TS_NFKC || k == LT_TS_NFKD) ? UTF8PROC_COMPAT : 0;
    lt_status st = lt_tok_pieces_push(out, NULL, 0);
    for (size_t i = 0; i < n && st == LT_OK;) {
        size_t j = i;
        uint32_t cp;
        while (j < n) {
            int l = lt_tok_utf8_next(s + j, n - j, &cp);
            if (cp == LT_TOK_BADCP)
                break;
            j += (size_t)l;
        }
        if (j > i) {
            utf8proc_uint8_t *d = NULL;
            utf8proc_ssize_t m = utf8proc_map(s + i, (utf8proc_ssize_t)(j - i),
                                              &d, (utf8proc_option_t)opt);
            st = m < 0 ? lt_tok_pieces_append(out, s + i, j - i)
                       : lt_tok_pieces_append(out, d, (size_t)m);
            free(d);
        }
        if (j < n && st == LT_OK)
            st = lt_tok_pieces_append(out, s + j, 1);
        i = j + (j < n);
    }
    return st;
}

static bool lt_tn_cased(uint32_t cp)
{
    return utf8proc_tolower((utf8proc_int32_t)cp) != (utf8proc_int32_t)cp ||
           utf8proc_toupper((utf8proc_int32_t)cp) != (utf8proc_int32_t)cp;
}

/* Lowercase as Unicode's full mapping does for the two context cases
 * utf8proc's simple mapping misses: U+0130 becomes "i" + U+0307, and a
 * capital sigma that ends a word (a cased letter before, none after)
 * becomes final sigma. */
static lt_status lt_tn_lower(const uint8_t *s, size_t n, lt_tok_pieces *out)
{
    lt_status st = lt_tok_pieces_push(out, NULL, 0);
    bool prev_cased = false;
    for (size_t i = 0; i < n && st == LT_OK;) {
        uint32_t cp, nx = 0;
        int l = lt_tok_utf8_next(s + i, n - i, &cp);
        if (cp == LT_TOK_BADCP) {
            st = lt_tok_pieces_append(out, s + i, 1);
            i++;
            prev_cased = false;
            continue;
        }
        uint8_t b[8];
        int k;
        if (cp == 0x130) {
            memcpy(b, "i\xcc\x87", 3);
            k = 3;
        } else {
            uint32_t lo = (uint32_t)utf8proc_tolower((utf8proc_int32_t)cp);
            if (cp == 0x3a3 && prev_cased) {
                if (i + (size_t)l < n)
                    lt_tok_utf8_next(s + i + l, n - i - (size_t)l, &nx);
                if (i + (size_t)l >= n || nx == LT_TOK_BADCP || !lt_tn_cased(nx))
                    lo = 0x3c2;
            }
            k = lt_tok_utf8_put(lo, b);
        }
        prev_cased = lt_tn_cased(cp);
        st = lt_tok_pieces_append(out, b, (size_t)k);
        i += (size_t)l;
    }
    return st;
}

lt_status lt_tok_replace(const lt_tok_step *r, const uint8_t *s, size_t n,
                         lt_tok_pieces *out)
{
    size_t *sp = NULL, m = 0, pos = 0;
    lt_status st = lt_tok_re_matches(r->re, s, n, &sp, &m);
    if (st == LT_OK)
        st = lt_tok_pieces_push(out, NULL, 0);
    for (size_t i = 0; i < m && st == LT_OK; i++) {
        st = lt_tok_pieces_append(out, s + pos, sp[2 * i] - pos);
        if (st == LT_OK)
            st = lt_tok_pieces_append(out, r->content, r->content_len);
        pos = sp[2 * i + 1];
    }
    if (st == LT_OK)
        st = lt_tok_pieces_append(out, s + pos, n - pos);
    free(sp);
    return st;
}

/* The length of the white space at the start (end: at the end) of s. */
static size_t lt_tn_space_run(const uint8_t *s, size_t n, bool end)
{
    size_t run = 0; /* start of the current run of white space */
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        int l = lt_tok_utf8_next(s + i, n - i, &cp);
        bool sp = cp != LT_TOK_BADCP && lt_tok_is_space(cp);
        if (!sp && !end)
            return i;
        i += (size_t)l;
        if (!sp)
            run = i;
    }
    return end ? n - run : n;
}

static lt_status lt_tn_apply(const lt_tok_step *p, const uint8_t *s, size_t n,
                             lt_tok_pieces *out)
{
    lt_tok_pieces_clear(out);
    switch (p->kind) {
    case LT_TS_LOWERCASE:
        return lt_tn_lower(s, n, out);
    case LT_TS_PREPEND: {
        lt_status st = lt_tok_pieces_push(out, n ? p->str : NULL, n ? p->len : 0);
        return st == LT_OK ? lt_tok_pieces_append(out, s, n) : st;
    }
    case LT_TS_REPLACE:
        return lt_tok_replace(p, s, n, out);
    case LT_TS_STRIP: {
        size_t a = p->a ? lt_tn_space_run(s, n, false) : 0;
        size_t b = p->b && a < n ? lt_tn_space_run(s + a, n - a, true) : 0;
        return lt_tok_pieces_push(out, s + a, n - a - b);
    }
    default:
        return lt_tn_form(p->kind, s, n, out);
    }
}

lt_status lt_tok_normalize(const lt_tokenizer *t, const uint8_t *s, size_t n,
                           lt_tok_pieces *out)
{
    lt_tok_pieces tmp;
    memset(&tmp, 0, sizeof tmp);
    lt_tok_pieces_clear(out);
    lt_status st = lt_tok_pieces_push(out, s, n);
    for (int i = 0; i < t->norm.n && st == LT_OK; i++) {
        lt_tok_pieces x = *out;
        *out = tmp;
        tmp = x;
        st = lt_tn_apply(&t->norm.step[i], tmp.buf, tmp.n, out);
    }
    lt_tok_pieces_free(&tmp);
    return st;
}
