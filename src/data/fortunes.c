/*
 * fortunes.c - the MUSE-shaped corpora of lethe/fortunes.h built from Debian's
 * fortune collections: "%"-separated text files read and written, the
 * forget / holdout / retain split, and the cloze QA items of KnowMem.
 */
#include "lethe/io.h"
#include "lethe/fortunes.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- text sets ------------------------------------------------------------ */

void lt_text_set_free(lt_text_set *s)
{
    if (!s)
        return;
    for (int64_t i = 0; i < s->n; i++)
        free(s->text[i]);
    free(s->text);
    memset(s, 0, sizeof *s);
}

static bool ft_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' ||
           ch == '\v' || ch == '\f';
}

lt_status lt_text_set_push(lt_text_set *s, const char *text, size_t len)
{
    if (!s || (!text && len))
        return lt_set_error(LT_ERR_ARG, "text set: NULL argument");
    if (len && memchr(text, '\0', len))
        return lt_set_error(LT_ERR_ARG, "text set: a text holds a NUL byte");
    while (len > 0 && ft_blank(text[len - 1]))
        len--;
    if (len == 0)
        return LT_OK;
    if (s->n == s->cap) {
        int64_t cap = s->cap ? 2 * s->cap : 64;
        char **t = realloc(s->text, (size_t)cap * sizeof *t);
        if (!t)
            return lt_set_error(LT_ERR_NOMEM, "text set: out of memory");
        s->text = t;
        s->cap = cap;
    }
    char *c = malloc(len + 1);
    if (!c)
        return lt_set_error(LT_ERR_NOMEM, "text set: out of memory");
    memcpy(c, text, len);
    c[len] = '\0';
    s->text[s->n++] = c;
    return LT_OK;
}

/* Is line [p, p + n) a separator ("%", optionally with a CR)? */
static bool ft_sep(const char *p, size_t n)
{
    return (n == 1 && p[0] == '%') || (n == 2 && p[0] == '%' && p[1] == '\r');
}

lt_status lt_text_set_parse(const char *buf, size_t len, const char *what,
                            lt_text_set *out)
{
    if (!out || (!buf && len))
        return lt_set_error(LT_ERR_ARG, "text set: NULL argument");
    memset(out, 0, sizeof *out);
    const char *nul = len ? memchr(buf, '\0', len) : NULL;
    if (nul) {
        long line = 1;
        for (const char *p = buf; p < nul; p++)
            line += *p == '\n';
        return lt_set_error(LT_ERR_FORMAT, "%s:%ld: NUL byte (texts are plain "
                            "text)", what ? what : "text", line);
    }
    size_t doc = 0, i = 0;
    lt_status s = LT_OK;
    while (i < len && s == LT_OK) {
        size_t e = i;
        while (e < len && buf[e] != '\n')
            e++;
        if (ft_sep(buf + i, e - i)) {
            s = lt_text_set_push(out, buf + doc, i - doc);
            doc = e < len ? e + 1 : e;
        }
        i = e < len ? e + 1 : e;
    }
    if (s == LT_OK && doc < len)
        s = lt_text_set_push(out, buf + doc, len - doc);
    if (s == LT_OK && out->n == 0)
        s = lt_set_error(LT_ERR_FORMAT, "%s: no texts (texts are separated "
                         "by lines holding only '%%')", what ? what : "text");
    if (s != LT_OK)
        lt_text_set_free(out);
    return s;
}

lt_status lt_text_set_load(const char *path, lt_text_set *out)
{
    if (!path || !out)
        return lt_set_error(LT_ERR_ARG, "text set: NULL path");
    memset(out, 0, sizeof *out);
    char *buf = NULL;
    size_t len = 0;
    if (lt_read_file(path, &buf, &len) != LT_OK)
        return lt_last_status();
    lt_status s = lt_text_set_parse(buf, len, path, out);
    free(buf);
    return s;
}

/* Does text hold a line that is only "%"? */
static bool ft_has_sep(const char *t)
{
    for (const char *p = t; *p;) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (ft_sep(p, n))
            return true;
        p += n + (e != NULL);
    }
    return false;
}

lt_status lt_text_set_save(const char *path, const lt_text_set *s)
{
    if (!path || !s)
        return lt_set_error(LT_ERR_ARG, "text set: NULL argument");
    size_t total = 1;
    for (int64_t i = 0; i < s->n; i++) {
        if (ft_has_sep(s->text[i]))
            return lt_set_error(LT_ERR_ARG, "%s: text %lld holds a line that "
                                "is only '%%'", path, (long long)i);
        total += strlen(s->text[i]) + 3;
    }
    char *buf = malloc(total), *p = buf;
    if (!buf)
        return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", path);
    for (int64_t i = 0; i < s->n; i++) {
        size_t n = strlen(s->text[i]);
        memcpy(p, s->text[i], n);
        memcpy(p + n, "\n%\n", 3);
        p += n + 3;
    }
    lt_status st = lt_write_file_atomic(path, buf, (size_t)(p - buf));
    free(buf);
    return st;
}

bool lt_fortune_path(const char *dir, const char *name, char *buf,
                     size_t n)
{
    int k = strchr(name, '/') ? snprintf(buf, n, "%s", name)
                              : snprintf(buf, n, "%s/%s",
                                         dir ? dir : LT_FORTUNE_DIR, name);
    return k >= 0 && (size_t)k < n;
}

lt_status lt_fortune_load(const char *dir, const char *name,
                          lt_text_set *out)
{
    if (!name || !*name || !out)
        return lt_set_error(LT_ERR_ARG, "fortune: no collection named");
    char path[4096];
    if (!lt_fortune_path(dir, name, path, sizeof path))
        return lt_set_error(LT_ERR_ARG, "fortune: path of '%s' too long",
                            name);
    return lt_text_set_load(path, out);
}

const char *const *lt_muse_file_names(void)
{
    static const char *const names[] = {
        "forget.txt", "retain.txt", "holdout.txt", "train.txt",
        "knowmem_forget.json", "knowmem_retain.json", NULL};
    return names;
}

/* ---- the forget / holdout / retain split ------------------------------------ */

void lt_muse_corpus_free(lt_muse_corpus *c)
{
    if (!c)
        return;
    lt_text_set_free(&c->forget);
    lt_text_set_free(&c->retain);
    lt_text_set_free(&c->holdout);
}

static bool ft_in(const lt_text_set *s, int64_t upto, const char *t)
{
    for (int64_t i = 0; i < upto; i++)
        if (!strcmp(s->text[i], t))
            return true;
    return false;
}

/* Indices of the first occurrence of each distinct text of s that is not
 * in `exclude` (may be NULL); *n gets their count. malloc'd. */
static int64_t *ft_unique(const lt_text_set *s, const lt_text_set *exclude,
                          int64_t *n)
{
    int64_t *idx = malloc((size_t)(s->n ? s->n : 1) * sizeof *idx);
    *n = 0;
    for (int64_t i = 0; idx && i < s->n; i++)
        if (!ft_in(s, i, s->text[i]) &&
            !(exclude && ft_in(exclude, exclude->n, s->text[i])))
            idx[(*n)++] = i;
    return idx;
}

static lt_status ft_copy(lt_text_set *dst, const lt_text_set *src,
                         const int64_t *idx, int64_t n, const uint8_t *pick,
                         uint8_t want)
{
    lt_status s = LT_OK;
    for (int64_t j = 0; j < n && s == LT_OK; j++)
        if (!pick || pick[j] == want)
            s = lt_text_set_push(dst, src->text[idx[j]],
                                 strlen(src->text[idx[j]]));
    return s;
}

/* hold[j] = 1 (hold zeroed by the caller) for the h of n unique texts
 * drawn by a seeded permutation. */
static lt_status ft_draw(int64_t n, int64_t h, uint64_t seed, uint8_t *hold)
{
    int64_t *perm = malloc((size_t)n * sizeof *perm);
    if (!perm)
        return lt_set_error(LT_ERR_NOMEM, "muse split: out of memory");
    lt_rng r;
    lt_rng_init(&r, seed);
    for (int64_t i = 0; i < n; i++)
        perm[i] = i;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)lt_rng_below(&r, (uint64_t)i + 1);
        int64_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    for (int64_t i = 0; i < h; i++)
        hold[perm[i]] = 1;
    free(perm);
    return LT_OK;
}

lt_status lt_muse_split(const lt_text_set *forget_src,
                        const lt_text_set *retain_src, double holdout_frac,
                        uint64_t seed, lt_muse_corpus *out)
{
    if (!forget_src || !retain_src || !out)
        return lt_set_error(LT_ERR_ARG, "muse split: NULL argument");
    memset(out, 0, sizeof *out);
    if (!(holdout_frac >= 0 && holdout_frac < 1))
        return lt_set_error(LT_ERR_ARG, "muse split: holdout fraction %g "
                            "outside [0, 1)", holdout_frac);
    int64_t nf = 0, nr = 0;
    int64_t *fi = ft_unique(forget_src, NULL, &nf);
    int64_t *ri = ft_unique(retain_src, forget_src, &nr);
    int64_t h = (int64_t)(holdout_frac * (double)nf + 0.5);
    uint8_t *hold = calloc((size_t)(nf ? nf : 1), 1);
    lt_status s = fi && ri && hold ? LT_OK :
                  lt_set_error(LT_ERR_NOMEM, "muse split: out of memory");
    if (s == LT_OK && (nf - h < 1 || (holdout_frac > 0 && h < 1) || nr < 1))
        s = lt_set_error(LT_ERR_ARG, "muse split: %lld distinct forget-side "
                         "texts give %lld holdout and %lld forget texts and "
                         "%lld retain texts are left; each side needs one",
                         (long long)nf, (long long)h, (long long)(nf - h),
                         (long long)nr);
    if (s == LT_OK)
        s = ft_draw(nf, h, seed, hold);
    if (s == LT_OK)
        s = ft_copy(&out->forget, forget_src, fi, nf, hold, 0);
    if (s == LT_OK)
        s = ft_copy(&out->holdout, forget_src, fi, nf, hold, 1);
    if (s == LT_OK)
        s = ft_copy(&out->retain, retain_src, ri, nr, NULL, 0);
    free(fi);
    free(ri);
    free(hold);
    if (s != LT_OK)
        lt_muse_corpus_free(out);
    return s;
}

/* ---- cloze items ---------------------------------------------------------------- */

static lt_status ft_pair(const char *q, size_t nq, const char *a, size_t na,
                         char **question, char **answer)
{
    *question = malloc(nq + 1);
    *answer = malloc(na + 1);
    if (!*question || !*answer) {
        free(*question);
        free(*answer);
        *question = *answer = NULL;
        return lt_set_error(LT_ERR_NOMEM, "cloze: out of memory");
    }
    memcpy(*question, q, nq);
    (*question)[nq] = '\0';
    memcpy(*answer, a, na);
    (*answer)[na] = '\0';
    return LT_OK;
}

/* Attribution cloze on the last line [line, end): "<ws>-- answer". */
static bool ft_attribution(const char *text, const char *line,
                           const char *end, size_t *q_len, const char **ans)
{
    const char *p = line;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (end - p < 4 || p[0] != '-' || p[1] != '-' ||
        (p[2] != ' ' && p[2] != '\t'))
        return false;
    const char *a = p + 2;
    while (a < end && (*a == ' ' || *a == '\t'))
        a++;
    bool before = false;
    for (const char *t = text; t < line; t++)
        before = before || !ft_blank(*t);
    if (a == end || !before)
        return false;
    *q_len = (size_t)(p + 2 - text);
    *ans = a;
    return true;
}

/* Words (runs of non-blank bytes) in [p, end). */
static int64_t ft_words(const char *p, const char *end)
{
    int64_t n = 0;
    for (; p < end; p++)
        n += !ft_blank(*p) && (p + 1 == end || ft_blank(p[1]));
    return n;
}

/* Last-words cloze: the answer starts at the earliest word start of the
 * last line that leaves at most 3 words and has a blank, and before that
 * a non-blank byte of the same line, in front of it. */
static bool ft_last_words(const char *text, const char *line,
                          const char *end, size_t *q_len, const char **ans)
{
    if (ft_words(text, end) < 6)
        return false;
    const char *best = NULL;
    for (const char *p = line + 1; p < end; p++) {
        if (ft_blank(*p) || !ft_blank(p[-1]) || ft_words(p, end) > 3)
            continue;
        const char *q = p - 1;
        while (q > line && ft_blank(*q))
            q--;
        if (q >= line && !ft_blank(*q)) {
            best = p;
            break;
        }
    }
    if (!best)
        return false;
    const char *q = best - 1;
    while (ft_blank(*q))
        q--;
    *q_len = (size_t)(q + 1 - text);
    *ans = best;
    return true;
}

lt_status lt_muse_cloze(const char *text, char **question, char **answer)
{
    if (!question || !answer)
        return lt_set_error(LT_ERR_ARG, "cloze: NULL argument");
    *question = *answer = NULL;
    if (!text)
        return lt_set_error(LT_ERR_ARG, "cloze: NULL text");
    const char *end = text + strlen(text);
    while (end > text && ft_blank(end[-1]))
        end--;
    const char *line = end;
    while (line > text && line[-1] != '\n')
        line--;
    size_t nq = 0;
    const char *a = NULL;
    if (!ft_attribution(text, line, end, &nq, &a) &&
        !ft_last_words(text, line, end, &nq, &a))
        return lt_set_error(LT_ERR_ARG, "cloze: the text gives no item");
    return ft_pair(text, nq, a, (size_t)(end - a), question, answer);
}

lt_status lt_muse_cloze_set(const lt_text_set *s, lt_tofu_set *out,
                            int64_t *n_skipped)
{
    if (!s || !out)
        return lt_set_error(LT_ERR_ARG, "cloze: NULL argument");
    memset(out, 0, sizeof *out);
    int64_t skipped = 0;
    lt_status st = LT_OK;
    for (int64_t i = 0; i < s->n && st == LT_OK; i++) {
        char *q = NULL, *a = NULL;
        if (lt_muse_cloze(s->text[i], &q, &a) != LT_OK) {
            if (lt_last_status() == LT_ERR_NOMEM)
                st = LT_ERR_NOMEM;
            skipped++;
            continue;
        }
        st = lt_tofu_push(out, q, a, NULL, NULL, NULL, 0);
        if (st == LT_ERR_ARG) { /* not valid UTF-8: no item */
            skipped++;
            st = LT_OK;
        }
        free(q);
        free(a);
    }
    if (st == LT_OK)
        lt_clear_error();
    else
        lt_tofu_free(out);
    if (n_skipped)
        *n_skipped = skipped;
    return st;
}

/* ---- writing the set ------------------------------------------------------------- */

static lt_status ft_path(char *buf, size_t n, const char *dir,
                         const char *name)
{
    int k = snprintf(buf, n, "%s/%s", dir, name);
    if (k < 0 || (size_t)k >= n)
        return lt_set_error(LT_ERR_ARG, "muse: directory name '%s' too long",
                            dir);
    return LT_OK;
}

/* The records of qa picked by pick[i] == 1, in order (out zeroed). */
static lt_status ft_pick_qa(const lt_tofu_set *qa, const uint8_t *pick,
                            lt_tofu_set *out)
{
    memset(out, 0, sizeof *out);
    lt_status s = LT_OK;
    for (int64_t i = 0; i < qa->n && s == LT_OK; i++)
        if (pick[i])
            s = lt_tofu_push(out, qa->qa[i].question, qa->qa[i].answer, NULL,
                             NULL, NULL, 0);
    return s;
}

/* The cloze items of s, at most qa_max (> 0) of them drawn by seed, as
 * dir/name. */
static lt_status ft_save_qa(const lt_text_set *s, const char *dir,
                            const char *name, int64_t qa_max, uint64_t seed)
{
    char path[4200];
    lt_tofu_set qa, sub = {0};
    lt_status st = ft_path(path, sizeof path, dir, name);
    if (st == LT_OK)
        st = lt_muse_cloze_set(s, &qa, NULL);
    if (st != LT_OK)
        return st;
    const lt_tofu_set *w = &qa;
    if (qa_max > 0 && qa.n > qa_max) {
        uint8_t *pick = calloc((size_t)qa.n, 1);
        st = pick ? ft_draw(qa.n, qa_max, seed, pick)
                  : lt_set_error(LT_ERR_NOMEM, "%s: out of memory", path);
        if (st == LT_OK)
            st = ft_pick_qa(&qa, pick, &sub);
        free(pick);
        w = &sub;
    }
    if (st == LT_OK)
        st = w->n > 0 ? lt_tofu_save_range(path, w, 0, w->n, LT_TOFU_QA_ONLY)
                      : lt_set_error(LT_ERR_ARG, "%s: no text gives a cloze "
                                     "item", path);
    lt_tofu_free(&qa);
    lt_tofu_free(&sub);
    return st;
}

static lt_status ft_save_texts(const lt_text_set *s, const char *dir,
                               const char *name)
{
    char path[4200];
    lt_status st = ft_path(path, sizeof path, dir, name);
    return st == LT_OK ? lt_text_set_save(path, s) : st;
}

lt_status lt_muse_write(const lt_muse_corpus *c, const char *dir,
                        int64_t qa_max, uint64_t seed)
{
    if (!c || !dir)
        return lt_set_error(LT_ERR_ARG, "muse write: NULL argument");
    int64_t n = c->forget.n + c->retain.n;
    lt_text_set train = {malloc((size_t)(n ? n : 1) * sizeof(char *)), n, n};
    if (!train.text)
        return lt_set_error(LT_ERR_NOMEM, "muse write: out of memory");
    memcpy(train.text, c->forget.text, (size_t)c->forget.n * sizeof(char *));
    memcpy(train.text + c->forget.n, c->retain.text,
           (size_t)c->retain.n * sizeof(char *));
    lt_status s = ft_save_texts(&c->forget, dir, "forget.txt");
    if (s == LT_OK)
        s = ft_save_texts(&c->retain, dir, "retain.txt");
    if (s == LT_OK)
        s = ft_save_texts(&c->holdout, dir, "holdout.txt");
    if (s == LT_OK)
        s = ft_save_texts(&train, dir, "train.txt");
    if (s == LT_OK)
        s = ft_save_qa(&c->forget, dir, "knowmem_forget.json", qa_max,
                       seed ^ 0x9e3779b97f4a7c15ull);
    if (s == LT_OK)
        s = ft_save_qa(&c->retain, dir, "knowmem_retain.json", qa_max,
                       seed ^ 0x7f4a7c159e3779b9ull);
    free(train.text);
    return s;
}
