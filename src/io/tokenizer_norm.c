/*
 * tokenizer_norm.c - the normalizers of tokenizer.json, read from JSON and
 * applied to text: NFC, NFD, NFKC, NFKD (utf8proc), Lowercase, Prepend,
 * Replace (a string or a PCRE2 regex), Strip, BertNormalizer (BERT's
 * clean_text, spaces around CJK ideographs, strip_accents, lowercase, in
 * the Rust library's order) and Sequence (flattened into its steps). The text between added tokens is normalized before
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
                        "Strip, BertNormalizer, Sequence)", name, type);
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
    } else if (!strcmp(type, "BertNormalizer")) {
        const cJSON *sa = cJSON_GetObjectItemCaseSensitive(o, "strip_accents");
        st.kind = LT_TS_BERT_NORM;
        st.a = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(o, "clean_text"));
        st.b = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(
            o, "handle_chinese_chars"));
        st.d = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(o, "lowercase"));
        st.c = cJSON_IsBool(sa) ? cJSON_IsTrue(sa) : st.d;
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

/* BERT's control characters (Rust `tokenizers`: Unicode's Other
 * categories, but tab, newline and carriage return). */
static bool lt_tn_bert_control(uint32_t cp)
{
    if (cp == '\t' || cp == '\n' || cp == '\r')
        return false;
    utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
    return c == UTF8PROC_CATEGORY_CC || c == UTF8PROC_CATEGORY_CF ||
           c == UTF8PROC_CATEGORY_CN || c == UTF8PROC_CATEGORY_CO ||
           c == UTF8PROC_CATEGORY_CS;
}

/* The CJK ideograph blocks BERT puts spaces around. */
static bool lt_tn_bert_cjk(uint32_t cp)
{
    return (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) ||
           (cp >= 0x20000 && cp <= 0x2a6df) || (cp >= 0x2a700 && cp <= 0x2b73f) ||
           (cp >= 0x2b740 && cp <= 0x2b81f) || (cp >= 0x2b920 && cp <= 0x2ceaf) ||
           (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x2f800 && cp <= 0x2fa1f);
}

/* One character-wise pass of BertNormalizer: stage 0 clean_text, 1 CJK
 * spaces, 2 drop nonspacing marks. */
static lt_status lt_tn_bert_pass(int stage, const uint8_t *s, size_t n,
                                 lt_tok_pieces *out)
{
    lt_status st = lt_tok_pieces_push(out, NULL, 0);
    for (size_t i = 0; i < n && st == LT_OK;) {
        uint32_t cp;
        size_t l = (size_t)lt_tok_utf8_next(s + i, n - i, &cp);
        bool ok = cp != LT_TOK_BADCP;
        bool drop = ok && ((stage == 0 && (cp == 0 || cp == 0xfffd ||
                                           lt_tn_bert_control(cp))) ||
                           (stage == 2 && utf8proc_category(
                               (utf8proc_int32_t)cp) == UTF8PROC_CATEGORY_MN));
        bool cjk = ok && stage == 1 && lt_tn_bert_cjk(cp);
        if (ok && !drop && stage == 0 && lt_tok_is_space(cp))
            st = lt_tok_pieces_append(out, " ", 1);
        else if (!drop) {
            st = cjk ? lt_tok_pieces_append(out, " ", 1) : LT_OK;
            if (st == LT_OK)
                st = lt_tok_pieces_append(out, s + i, l);
            if (st == LT_OK && cjk)
                st = lt_tok_pieces_append(out, " ", 1);
        }
        i += l;
    }
    return st;
}

static lt_status lt_tn_bert(const lt_tok_step *p, const uint8_t *s, size_t n,
                            lt_tok_pieces *out)
{
    lt_tok_pieces a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    lt_status st = lt_tok_pieces_push(&a, s, n);
    bool on[4] = {p->a, p->b, p->c, p->d};
    for (int k = 0; k < 4 && st == LT_OK; k++) {
        if (!on[k])
            continue;
        lt_tok_pieces_clear(&b);
        if (k < 2) {
            st = lt_tn_bert_pass(k, a.buf, a.n, &b);
        } else if (k == 3) {
            st = lt_tn_lower(a.buf, a.n, &b);
        } else {
            lt_tok_pieces d;
            memset(&d, 0, sizeof d);
            st = lt_tn_form(LT_TS_NFD, a.buf, a.n, &d);
            if (st == LT_OK)
                st = lt_tn_bert_pass(2, d.buf, d.n, &b);
            lt_tok_pieces_free(&d);
        }
        lt_tok_pieces x = a;
        a = b;
        b = x;
    }
    if (st == LT_OK)
        st = lt_tok_pieces_push(out, a.buf, a.n);
    lt_tok_pieces_free(&a);
    lt_tok_pieces_free(&b);
    return st;
}

static lt_status lt_tn_apply(const lt_tok_step *p, const uint8_t *s, size_t n,
                             lt_tok_pieces *out)
{
    lt_tok_pieces_clear(out);
    switch (p->kind) {
    case LT_TS_BERT_NORM:
        return lt_tn_bert(p, s, n, out);
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
