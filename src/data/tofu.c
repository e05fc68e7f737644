/*
 * tofu.c - TOFU-format QA files: the loader (JSON Lines or one JSON array,
 * parsed with cJSON, every error reported as "path:LINE: ..."), the record
 * container and the atomic JSON Lines writer. See lethe/tofu.h.
 */
#include "lethe/tofu.h"
#include "lethe/io.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- UTF-8 --------------------------------------------------------------- */

/* Length of the UTF-8 sequence at s (1..4), or 0 if it is invalid (bad
 * lead byte, missing continuation, overlong form, surrogate, > U+10FFFF). */
static int tofu_utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    int n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    if (!n || c > 0xF4)
        return 0;
    unsigned cp = c & (0x7Fu >> n);
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    static const unsigned min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

static bool tofu_utf8_ok(const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    while (*s) {
        int n = tofu_utf8_len(s);
        if (!n)
            return false;
        s += n;
    }
    return true;
}

/* ---- the record container ------------------------------------------------ */

static void tofu_qa_clear(lt_tofu_qa *q)
{
    free(q->question);
    free(q->answer);
    free(q->paraphrased_question);
    free(q->paraphrased_answer);
    for (int i = 0; i < q->n_perturbed; i++)
        free(q->perturbed_answer[i]);
    free(q->perturbed_answer);
    memset(q, 0, sizeof *q);
}

void lt_tofu_free(lt_tofu_set *s)
{
    if (!s)
        return;
    for (int64_t i = 0; i < s->n; i++)
        tofu_qa_clear(&s->qa[i]);
    free(s->qa);
    free(s->path);
    memset(s, 0, sizeof *s);
}

static char *tofu_dup(const char *s, bool *oom)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *oom = true;
    return d;
}

/* Append without validating the strings (the callers have). */
static lt_status tofu_push_raw(lt_tofu_set *s, const char *question,
                               const char *answer, const char *pq,
                               const char *pa, const char *const *pert,
                               int n_pert)
{
    if (s->n == s->cap) {
        int64_t cap = s->cap ? 2 * s->cap : 64;
        lt_tofu_qa *qa = realloc(s->qa, (size_t)cap * sizeof *qa);
        if (!qa)
            return lt_set_error(LT_ERR_NOMEM, "TOFU set: out of memory");
        s->qa = qa;
        s->cap = cap;
    }
    lt_tofu_qa q = {0};
    bool oom = false;
    q.question = tofu_dup(question, &oom);
    q.answer = tofu_dup(answer, &oom);
    q.paraphrased_question = tofu_dup(pq, &oom);
    q.paraphrased_answer = tofu_dup(pa, &oom);
    if (n_pert > 0) {
        q.perturbed_answer = calloc((size_t)n_pert, sizeof(char *));
        oom |= !q.perturbed_answer;
        for (int i = 0; q.perturbed_answer && i < n_pert; i++, q.n_perturbed++)
            q.perturbed_answer[i] = tofu_dup(pert[i], &oom);
    }
    if (oom) {
        tofu_qa_clear(&q);
        return lt_set_error(LT_ERR_NOMEM, "TOFU set: out of memory");
    }
    s->qa[s->n++] = q;
    return LT_OK;
}

lt_status lt_tofu_push(lt_tofu_set *s, const char *question,
                       const char *answer, const char *paraphrased_question,
                       const char *paraphrased_answer,
                       const char *const *perturbed, int n_perturbed)
{
    if (!s || !question || !answer || n_perturbed < 0 ||
        (n_perturbed > 0 && !perturbed))
        return lt_set_error(LT_ERR_ARG, "lt_tofu_push: NULL set, question "
                            "or answer, or bad perturbed list");
    const char *name[4] = {"question", "answer", "paraphrased_question",
                           "paraphrased_answer"};
    const char *val[4] = {question, answer, paraphrased_question,
                          paraphrased_answer};
    for (int i = 0; i < 4; i++)
        if (val[i] && !tofu_utf8_ok(val[i]))
            return lt_set_error(LT_ERR_ARG, "lt_tofu_push: %s is not valid "
                                "UTF-8", name[i]);
    for (int i = 0; i < n_perturbed; i++)
        if (!perturbed[i] || !tofu_utf8_ok(perturbed[i]))
            return lt_set_error(LT_ERR_ARG, "lt_tofu_push: perturbed answer "
                                "%d is NULL or not valid UTF-8", i);
    return tofu_push_raw(s, question, answer, paraphrased_question,
                         paraphrased_answer, perturbed, n_perturbed);
}

/* ---- loading ------------------------------------------------------------- */

static lt_status tofu_read_file(const char *path, char **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return lt_set_error(LT_ERR_IO, "%s: cannot open: %s", path,
                            strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    while (b) {
        n += fread(b + n, 1, cap - 1 - n, f);
        if (n < cap - 1)
            break;
        char *nb = realloc(b, cap * 2);
        if (!nb) {
            free(b);
            b = NULL;
            break;
        }
        b = nb;
        cap *= 2;
    }
    bool err = ferror(f);
    fclose(f);
    if (!b)
        return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", path);
    if (err) {
        free(b);
        return lt_set_error(LT_ERR_IO, "%s: read error", path);
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    return LT_OK;
}

/* A string field: NULL (and *ok) when absent or null; *ok false with the
 * error set when present with the wrong type or invalid UTF-8. */
static const char *tofu_str_field(const cJSON *o, const char *key,
                                  bool required, const char *path,
                                  long line, bool *ok)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) {
        if (required) {
            lt_set_error(LT_ERR_FORMAT, "%s:%ld: record has no \"%s\" field",
                         path, line, key);
            *ok = false;
        }
        return NULL;
    }
    if (!cJSON_IsString(v) || !v->valuestring) {
        lt_set_error(LT_ERR_FORMAT, "%s:%ld: field \"%s\" must be a string",
                     path, line, key);
        *ok = false;
        return NULL;
    }
    if (!tofu_utf8_ok(v->valuestring)) {
        lt_set_error(LT_ERR_FORMAT, "%s:%ld: field \"%s\" is not valid "
                     "UTF-8", path, line, key);
        *ok = false;
        return NULL;
    }
    return v->valuestring;
}

/* The "perturbed_answer" list into pert[] (malloc'd, *n entries). */
static lt_status tofu_pert_field(const cJSON *o, const char *path, long line,
                                 const char ***pert, int *n)
{
    *pert = NULL;
    *n = 0;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "perturbed_answer");
    if (!v || cJSON_IsNull(v))
        return LT_OK;
    if (!cJSON_IsArray(v))
        return lt_set_error(LT_ERR_FORMAT, "%s:%ld: field \"perturbed_answer\""
                            " must be a list of strings", path, line);
    int k = cJSON_GetArraySize(v);
    const char **p = k ? malloc((size_t)k * sizeof *p) : NULL;
    if (k && !p)
        return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", path);
    int i = 0;
    for (const cJSON *e = v->child; e; e = e->next, i++) {
        if (!cJSON_IsString(e) || !e->valuestring ||
            !tofu_utf8_ok(e->valuestring)) {
            free(p);
            return lt_set_error(LT_ERR_FORMAT, "%s:%ld: perturbed_answer[%d] "
                                "is not a valid UTF-8 string", path, line, i);
        }
        p[i] = e->valuestring;
    }
    *pert = p;
    *n = k;
    return LT_OK;
}

/* Check one parsed record and append it to s. */
static lt_status tofu_add_record(lt_tofu_set *s, const cJSON *o,
                                 const char *path, long line)
{
    if (!cJSON_IsObject(o))
        return lt_set_error(LT_ERR_FORMAT, "%s:%ld: a record must be a JSON "
                            "object", path, line);
    bool ok = true;
    const char *q = tofu_str_field(o, "question", true, path, line, &ok);
    const char *a = ok ? tofu_str_field(o, "answer", true, path, line, &ok)
                       : NULL;
    const char *pq = ok ? tofu_str_field(o, "paraphrased_question", false,
                                         path, line, &ok) : NULL;
    const char *pa = ok ? tofu_str_field(o, "paraphrased_answer", false,
                                         path, line, &ok) : NULL;
    if (!ok)
        return LT_ERR_FORMAT;
    const char **pert;
    int np;
    lt_status st = tofu_pert_field(o, path, line, &pert, &np);
    if (st == LT_OK)
        st = tofu_push_raw(s, q, a, pq, pa, pert, np);
    free(pert);
    return st;
}

static bool tofu_is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Line number of pointer p, counting from (*at, *line) forward. */
static long tofu_line_at(const char **at, long *line, const char *p)
{
    for (; *at < p; (*at)++)
        if (**at == '\n')
            (*line)++;
    return *line;
}

static lt_status tofu_parse_error(const char *path, const char *buf,
                                  const char *err, long line)
{
    const char *bol = err;
    while (bol > buf && bol[-1] != '\n')
        bol--;
    return lt_set_error(LT_ERR_FORMAT, "%s:%ld: malformed JSON (column %ld)",
                        path, line, (long)(err - bol) + 1);
}

static lt_status tofu_parse_lines(lt_tofu_set *s, const char *path,
                                  const char *buf, const char *end)
{
    long line = 1;
    for (const char *p = buf; p < end; line++) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        if (!e)
            e = end;
        const char *t = p;
        while (t < e && tofu_is_ws(*t))
            t++;
        if (t < e) {
            const char *stop = NULL;
            cJSON *o = cJSON_ParseWithLengthOpts(t, (size_t)(e - t), &stop, 0);
            if (!o)
                return tofu_parse_error(path, buf, stop ? stop : t, line);
            while (stop < e && tofu_is_ws(*stop))
                stop++;
            lt_status st = stop < e
                ? lt_set_error(LT_ERR_FORMAT, "%s:%ld: unexpected text after "
                               "the JSON object (one object per line)", path,
                               line)
                : tofu_add_record(s, o, path, line);
            cJSON_Delete(o);
            if (st != LT_OK)
                return st;
        }
        p = e + 1;
    }
    return LT_OK;
}

static lt_status tofu_parse_array(lt_tofu_set *s, const char *path,
                                  const char *buf, const char *p,
                                  const char *end)
{
    const char *at = buf;
    long line = 1;
    for (p++; p < end && tofu_is_ws(*p); p++) {}
    if (p < end && *p == ']')
        p++;
    else
        for (;;) {
            long rec_line = tofu_line_at(&at, &line, p);
            const char *stop = NULL;
            cJSON *o = cJSON_ParseWithLengthOpts(p, (size_t)(end - p),
                                                 &stop, 0);
            if (!o) {
                const char *err = stop ? stop : p;
                return tofu_parse_error(path, buf, err,
                                        tofu_line_at(&at, &line, err));
            }
            lt_status st = tofu_add_record(s, o, path, rec_line);
            cJSON_Delete(o);
            if (st != LT_OK)
                return st;
            for (p = stop; p < end && tofu_is_ws(*p); p++) {}
            if (p < end && *p == ']') {
                p++;
                break;
            }
            if (p >= end || *p != ',')
                return lt_set_error(LT_ERR_FORMAT, "%s:%ld: expected ',' or "
                                    "']' after a record", path,
                                    tofu_line_at(&at, &line, p));
            for (p++; p < end && tofu_is_ws(*p); p++) {}
        }
    for (; p < end && tofu_is_ws(*p); p++) {}
    if (p < end)
        return lt_set_error(LT_ERR_FORMAT, "%s:%ld: unexpected text after the "
                            "JSON array", path, tofu_line_at(&at, &line, p));
    return LT_OK;
}

lt_status lt_tofu_load(const char *path, lt_tofu_set *out)
{
    if (!out)
        return lt_set_error(LT_ERR_ARG, "lt_tofu_load: NULL output");
    memset(out, 0, sizeof *out);
    if (!path || !*path)
        return lt_set_error(LT_ERR_ARG, "lt_tofu_load: empty or NULL path");
    char *buf = NULL;
    size_t len = 0;
    lt_status st = tofu_read_file(path, &buf, &len);
    if (st != LT_OK)
        return st;
    const char *p = buf, *end = buf + len;
    if (len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
        memset(buf, ' ', 3); /* keep offsets, so columns stay right */
    while (p < end && tofu_is_ws(*p))
        p++;
    if (memchr(buf, '\0', len))
        st = lt_set_error(LT_ERR_FORMAT, "%s: contains a NUL byte (not a "
                          "JSON text file)", path);
    else if (p < end && *p == '[')
        st = tofu_parse_array(out, path, buf, p, end);
    else
        st = tofu_parse_lines(out, path, buf, end);
    if (st == LT_OK && out->n == 0)
        st = lt_set_error(LT_ERR_FORMAT, "%s: no QA records", path);
    if (st == LT_OK && !(out->path = strdup(path)))
        st = lt_set_error(LT_ERR_NOMEM, "%s: out of memory", path);
    free(buf);
    if (st != LT_OK)
        lt_tofu_free(out);
    return st;
}

/* ---- writing ------------------------------------------------------------- */

static void tofu_put_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        case '\b': fputs("\\b", f); break;
        case '\f': fputs("\\f", f); break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

static void tofu_put_field(FILE *f, const char *key, const char *val)
{
    if (!val)
        return;
    fprintf(f, ", \"%s\": ", key);
    tofu_put_str(f, val);
}

static void tofu_put_record(FILE *f, const lt_tofu_qa *q, int fields)
{
    fputs("{\"question\": ", f);
    tofu_put_str(f, q->question);
    tofu_put_field(f, "answer", q->answer);
    if (fields == LT_TOFU_ALL) {
        tofu_put_field(f, "paraphrased_question", q->paraphrased_question);
        tofu_put_field(f, "paraphrased_answer", q->paraphrased_answer);
        if (q->n_perturbed > 0) {
            fputs(", \"perturbed_answer\": [", f);
            for (int i = 0; i < q->n_perturbed; i++) {
                if (i)
                    fputs(", ", f);
                tofu_put_str(f, q->perturbed_answer[i]);
            }
            fputc(']', f);
        }
    }
    fputs("}\n", f);
}

/* Every string that will be written must be present and valid UTF-8. */
static lt_status tofu_check_record(const char *path, const lt_tofu_qa *q,
                                   int64_t i)
{
    const char *v[4] = {q->question, q->answer, q->paraphrased_question,
                        q->paraphrased_answer};
    bool ok = q->question && q->answer;
    for (int k = 0; ok && k < 4; k++)
        ok = !v[k] || tofu_utf8_ok(v[k]);
    for (int k = 0; ok && k < q->n_perturbed; k++)
        ok = q->perturbed_answer && q->perturbed_answer[k] &&
             tofu_utf8_ok(q->perturbed_answer[k]);
    if (!ok)
        return lt_set_error(LT_ERR_ARG, "%s: record %lld has a missing "
                            "question/answer or a string that is not valid "
                            "UTF-8", path, (long long)i);
    return LT_OK;
}

lt_status lt_tofu_save_range(const char *path, const lt_tofu_set *s,
                             int64_t first, int64_t count, int fields)
{
    if (!path || !*path || !s)
        return lt_set_error(LT_ERR_ARG, "lt_tofu_save: NULL path or set");
    if (first < 0 || count < 1 || first > s->n - count)
        return lt_set_error(LT_ERR_ARG, "%s: records [%lld, %lld) are not "
                            "inside a set of %lld", path, (long long)first,
                            (long long)(first + count), (long long)s->n);
    if (fields != LT_TOFU_QA_ONLY && fields != LT_TOFU_ALL)
        return lt_set_error(LT_ERR_ARG, "%s: unknown field selection %d",
                            path, fields);
    for (int64_t i = first; i < first + count; i++)
        if (tofu_check_record(path, &s->qa[i], i) != LT_OK)
            return LT_ERR_ARG;
    lt_atomic_file *a;
    lt_status st = lt_atomic_open(path, &a);
    if (st != LT_OK)
        return st;
    FILE *f = lt_atomic_stream(a);
    for (int64_t i = first; i < first + count; i++)
        tofu_put_record(f, &s->qa[i], fields);
    return lt_atomic_commit(a);
}

lt_status lt_tofu_save(const char *path, const lt_tofu_set *s)
{
    if (!s)
        return lt_set_error(LT_ERR_ARG, "lt_tofu_save: NULL set");
    return lt_tofu_save_range(path, s, 0, s->n, LT_TOFU_ALL);
}
