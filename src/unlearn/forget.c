/*
 * forget.c - forget sets: parse a spec ("random:10%", "random:6000",
 * "class:K", "indices:FILE"), split a training set's indices into sorted
 * forget and retain lists, and save the forget list one index per line
 * (temp file + rename) so a result can record the exact set it used.
 * Every split goes through one marker array of n bytes, so both lists come
 * out ascending in O(n) whatever the selection order.
 */
#include "lethe/unlearn.h"
#include "lethe/io.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lt_forget_set_free(lt_forget_set *f)
{
    if (!f)
        return;
    free(f->forget);
    free(f->retain);
    memset(f, 0, sizeof *f);
    f->cls = -1;
}

/* Turn a marker array (1 = forget) into the two sorted lists of out.
 * Refuses an empty forget set and an empty retain set. */
static lt_status lt_forget_from_marks(const uint8_t *mark, int64_t n,
                                      const char *spec, lt_forget_set *out)
{
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++)
        k += mark[i];
    if (k == 0)
        return lt_set_error(LT_ERR_ARG, "forget set %s: it is empty", spec);
    if (k == n)
        return lt_set_error(LT_ERR_ARG, "forget set %s: it holds all %lld "
                            "training items, nothing is retained", spec,
                            (long long)n);
    out->forget = malloc((size_t)k * sizeof(int64_t));
    out->retain = malloc((size_t)(n - k) * sizeof(int64_t));
    if (!out->forget || !out->retain) {
        lt_forget_set_free(out);
        return lt_set_error(LT_ERR_NOMEM, "forget set %s: out of memory",
                            spec);
    }
    int64_t a = 0, b = 0;
    for (int64_t i = 0; i < n; i++) {
        if (mark[i])
            out->forget[a++] = i;
        else
            out->retain[b++] = i;
    }
    out->n = n;
    out->n_forget = k;
    out->n_retain = n - k;
    return LT_OK;
}

static void lt_forget_begin(lt_forget_set *out, lt_forget_kind kind,
                            const char *spec)
{
    memset(out, 0, sizeof *out);
    out->kind = kind;
    out->cls = -1;
    snprintf(out->spec, sizeof out->spec, "%s", spec ? spec : "");
    for (char *q = out->spec; *q; q++) /* it goes into a comment line */
        if (iscntrl((unsigned char)*q))
            *q = '?';
}

/* Parse a whole decimal number; false on junk, sign or overflow. */
static bool lt_parse_count(const char *s, int64_t *v)
{
    if (!isdigit((unsigned char)*s))
        return false;
    errno = 0;
    char *end;
    long long x = strtoll(s, &end, 10);
    if (errno || *end)
        return false;
    *v = x;
    return true;
}

/* "random:..." -> the number of items to draw, or -1 (error set). */
static int64_t lt_random_count(const char *spec, const char *arg, int64_t n)
{
    size_t len = strlen(arg);
    if (len > 1 && arg[len - 1] == '%') {
        char *end;
        errno = 0;
        double p = strtod(arg, &end);
        if (errno || end != arg + len - 1 || !isdigit((unsigned char)*arg))
            return lt_set_error(LT_ERR_ARG, "forget set %s: '%s' is not a "
                                "percentage", spec, arg), -1;
        if (!(p > 0 && p <= 100))
            return lt_set_error(LT_ERR_ARG, "forget set %s: %g%% is out of "
                                "range (0%%, 100%%]", spec, p), -1;
        return (int64_t)llround(p / 100.0 * (double)n);
    }
    int64_t k;
    if (!lt_parse_count(arg, &k))
        return lt_set_error(LT_ERR_ARG, "forget set %s: '%s' is neither a "
                            "whole count nor a percentage like 10%%", spec,
                            arg), -1;
    if (k < 1 || k > n)
        return lt_set_error(LT_ERR_ARG, "forget set %s: count %lld is out "
                            "of range [1, %lld]", spec, (long long)k,
                            (long long)n), -1;
    return k;
}

static lt_status lt_forget_random(const char *spec, const char *arg,
                                  int64_t n, uint64_t seed, uint8_t *mark)
{
    int64_t k = lt_random_count(spec, arg, n);
    if (k < 0)
        return lt_last_status();
    int64_t *perm = malloc((size_t)n * sizeof(int64_t));
    if (!perm)
        return lt_set_error(LT_ERR_NOMEM, "forget set %s: out of memory",
                            spec);
    lt_permutation(perm, n, seed);
    for (int64_t i = 0; i < k; i++)
        mark[perm[i]] = 1;
    free(perm);
    return LT_OK;
}

static lt_status lt_forget_class(const char *spec, const char *arg,
                                 const lt_dataset *d, uint8_t *mark,
                                 int *cls)
{
    int64_t k;
    if (!lt_parse_count(arg, &k) || k >= d->classes)
        return lt_set_error(LT_ERR_ARG, "forget set %s: class must be a "
                            "whole number in [0, %d)", spec, d->classes);
    for (int64_t i = 0; i < d->n; i++)
        mark[i] = d->y[i] == (int32_t)k;
    *cls = (int)k;
    return LT_OK;
}

/* One line of an index file: 1 if it held an index (in *v), 0 if blank or
 * a comment, -1 if junk. */
static int lt_index_line(char *line, int64_t *v)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = 0;
    char *s = line;
    while (isspace((unsigned char)*s))
        s++;
    if (!*s)
        return 0;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = 0;
    return lt_parse_count(s, v) ? 1 : -1;
}

/* Read "indices:FILE" into mark; errors name FILE:line. */
static lt_status lt_forget_file(const char *path, int64_t n, uint8_t *mark)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return lt_set_error(LT_ERR_IO, "forget set %s: cannot open: %s",
                            path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    long ln = 0;
    lt_status s = LT_OK;
    while (s == LT_OK && getline(&line, &cap, f) >= 0) {
        ln++;
        int64_t v;
        int r = lt_index_line(line, &v);
        if (r < 0)
            s = lt_set_error(LT_ERR_FORMAT, "%s:%ld: '%s' is not a training "
                             "index", path, ln, line);
        else if (r > 0 && v >= n)
            s = lt_set_error(LT_ERR_FORMAT, "%s:%ld: index %lld is out of "
                             "range [0, %lld)", path, ln, (long long)v,
                             (long long)n);
        else if (r > 0 && mark[v])
            s = lt_set_error(LT_ERR_FORMAT, "%s:%ld: index %lld is listed "
                             "twice", path, ln, (long long)v);
        else if (r > 0)
            mark[v] = 1;
    }
    if (s == LT_OK && ferror(f))
        s = lt_set_error(LT_ERR_IO, "%s: read error", path);
    free(line);
    fclose(f);
    return s;
}

lt_status lt_forget_select(const char *spec, const lt_dataset *train,
                           uint64_t seed, lt_forget_set *out)
{
    if (!out)
        return lt_set_error(LT_ERR_ARG, "forget set: out is NULL");
    lt_forget_begin(out, LT_FORGET_RANDOM, spec);
    if (!spec || !train || !train->y || train->n < 1)
        return lt_set_error(LT_ERR_ARG, "forget set %s: no spec or empty "
                            "training set", spec ? spec : "(null)");
    uint8_t *mark = calloc((size_t)train->n, 1);
    if (!mark)
        return lt_set_error(LT_ERR_NOMEM, "forget set %s: out of memory",
                            spec);
    lt_status s;
    if (!strncmp(spec, "random:", 7)) {
        s = lt_forget_random(spec, spec + 7, train->n, seed, mark);
    } else if (!strncmp(spec, "class:", 6)) {
        out->kind = LT_FORGET_CLASS;
        s = lt_forget_class(spec, spec + 6, train, mark, &out->cls);
    } else if (!strncmp(spec, "indices:", 8) && spec[8]) {
        out->kind = LT_FORGET_INDICES;
        s = lt_forget_file(spec + 8, train->n, mark);
    } else {
        s = lt_set_error(LT_ERR_ARG, "forget set %s: unknown; use random:P%%"
                         ", random:K, class:K or indices:FILE", spec);
    }
    if (s == LT_OK)
        s = lt_forget_from_marks(mark, train->n, spec, out);
    free(mark);
    return s;
}

lt_status lt_forget_from_list(const int64_t *idx, int64_t k, int64_t n,
                              lt_forget_kind kind, const char *spec,
                              lt_forget_set *out)
{
    if (!out)
        return lt_set_error(LT_ERR_ARG, "forget set: out is NULL");
    lt_forget_begin(out, kind, spec ? spec : "list");
    const char *name = out->spec;
    if ((!idx && k > 0) || k < 0 || n < 1)
        return lt_set_error(LT_ERR_ARG, "forget set %s: bad list", name);
    uint8_t *mark = calloc((size_t)n, 1);
    if (!mark)
        return lt_set_error(LT_ERR_NOMEM, "forget set %s: out of memory",
                            name);
    lt_status s = LT_OK;
    for (int64_t i = 0; i < k && s == LT_OK; i++) {
        if (idx[i] < 0 || idx[i] >= n)
            s = lt_set_error(LT_ERR_ARG, "forget set %s: index %lld is out "
                             "of range [0, %lld)", name, (long long)idx[i],
                             (long long)n);
        else if (mark[idx[i]])
            s = lt_set_error(LT_ERR_ARG, "forget set %s: index %lld is "
                             "listed twice", name, (long long)idx[i]);
        else
            mark[idx[i]] = 1;
    }
    if (s == LT_OK)
        s = lt_forget_from_marks(mark, n, name, out);
    free(mark);
    return s;
}

lt_status lt_forget_save(const lt_forget_set *f, const char *path)
{
    if (!f || !path || (!f->forget && f->n_forget))
        return lt_set_error(LT_ERR_ARG, "forget set save: bad arguments");
    lt_atomic_file *a;
    lt_status s = lt_atomic_open(path, &a);
    if (s != LT_OK)
        return s;
    FILE *o = lt_atomic_stream(a);
    bool ok = fprintf(o, "# lethe forget set %s: %lld of %lld training "
                      "items\n", f->spec, (long long)f->n_forget,
                      (long long)f->n) > 0;
    for (int64_t i = 0; ok && i < f->n_forget; i++)
        ok = fprintf(o, "%lld\n", (long long)f->forget[i]) > 0;
    return lt_atomic_commit(a);
}

const char *lt_forget_spec_file(const char *spec)
{
    return spec && !strncmp(spec, "indices:", 8) ? spec + 8 : NULL;
}
