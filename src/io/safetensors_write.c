/*
 * safetensors_write.c - the writer of the safetensors format: F32 tensors
 * sorted by name, a JSON header padded with spaces to a multiple of 8
 * bytes, written through lt_atomic_open (a safe temporary, fsynced and
 * renamed over path), so a failed save never damages an existing file.
 * Every argument is checked before anything is written. The reader is in safetensors.c.
 */
#include "lethe/safetensors.h"
#include "lethe/io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ST_META_KEY "__metadata__"

/* ---- saving ------------------------------------------------------------ */

lt_st_tensor lt_st_entry(const char *name, const lt_tensor *t)
{
    lt_st_tensor e;
    memset(&e, 0, sizeof e);
    e.name = name;
    if (t) {
        e.ndim = t->ndim;
        memcpy(e.shape, t->shape, sizeof e.shape);
        e.numel = t->numel;
        e.data = t->data;
    }
    return e; /* NULL t: a scalar with NULL data, rejected by lt_st_save */
}

/* Well-formed UTF-8 (no overlongs, surrogates or code points > U+10FFFF). */
static bool st_utf8_ok(const char *str)
{
    const uint8_t *s = (const uint8_t *)str;
    while (*s) {
        uint32_t c = *s;
        int n = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1
              : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : -1;
        if (n < 0)
            return false;
        c &= n == 0 ? 0x7f : (0x3f >> n);
        for (int i = 1; i <= n; i++) {
            if ((s[i] & 0xc0) != 0x80)
                return false;
            c = c << 6 | (s[i] & 0x3f);
        }
        static const uint32_t min[4] = {0, 0x80, 0x800, 0x10000};
        if (c < min[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
            return false;
        s += n + 1;
    }
    return true;
}

/* A growable byte buffer for the JSON header. */
typedef struct {
    char *p;
    size_t n, cap;
    bool oom;
} st_buf;

static void st_put(st_buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

static void st_puts(st_buf *b, const char *s)
{
    st_put(b, s, strlen(s));
}

static void st_put_int(st_buf *b, int64_t v)
{
    char t[32];
    st_put(b, t, (size_t)snprintf(t, sizeof t, "%lld", (long long)v));
}

/* A JSON string literal. */
static void st_put_str(st_buf *b, const char *s)
{
    st_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char t[8];
        if (c == '"' || c == '\\') {
            t[0] = '\\';
            t[1] = (char)c;
            st_put(b, t, 2);
        } else if (c < 0x20) {
            st_put(b, t, (size_t)snprintf(t, sizeof t, "\\u%04x", c));
        } else {
            st_put(b, (const char *)&c, 1);
        }
    }
    st_put(b, "\"", 1);
}

static int st_cmp_tensor(const void *a, const void *b)
{
    return strcmp((*(const lt_st_tensor *const *)a)->name,
                  (*(const lt_st_tensor *const *)b)->name);
}

/* Check one tensor of a save (its size stays below 2^60 elements). */
static lt_status st_check_save_tensor(const char *path, const lt_st_tensor *t,
                                      int i)
{
    if (!t->name)
        return lt_set_error(LT_ERR_ARG, "%s: tensor %d has a NULL name",
                            path, i);
    if (!st_utf8_ok(t->name) || strcmp(t->name, ST_META_KEY) == 0)
        return lt_set_error(LT_ERR_ARG, "%s: tensor name '%.100s' is %s",
                            path, t->name, strcmp(t->name, ST_META_KEY) == 0
                                ? "reserved" : "not valid UTF-8");
    if (t->ndim < 0 || t->ndim > LT_MAX_DIMS)
        return lt_set_error(LT_ERR_ARG, "%s: tensor '%.100s' has ndim %d "
                            "(0..%d allowed)", path, t->name, t->ndim,
                            LT_MAX_DIMS);
    int64_t n = 1;
    for (int d = 0; d < t->ndim; d++) {
        int64_t v = t->shape[d];
        if (v < 0 || (v > 0 && n > ((int64_t)1 << 60) / v))
            return lt_set_error(LT_ERR_ARG, "%s: tensor '%.100s' has bad "
                                "dimension %d of size %lld", path, t->name,
                                d, (long long)v);
        n *= v;
    }
    if (n > 0 && !t->data)
        return lt_set_error(LT_ERR_ARG, "%s: tensor '%.100s': data is NULL",
                            path, t->name);
    return LT_OK;
}

static lt_status st_check_save_meta(const char *path,
                                    const char *const *meta, int n_meta)
{
    if (n_meta < 0 || (n_meta > 0 && !meta))
        return lt_set_error(LT_ERR_ARG, "%s: bad metadata (%d pairs, "
                            "array %p)", path, n_meta, (const void *)meta);
    for (int i = 0; i < 2 * n_meta; i++)
        if (!meta[i] || !st_utf8_ok(meta[i]))
            return lt_set_error(LT_ERR_ARG, "%s: metadata %s %d is %s", path,
                                i % 2 ? "value" : "key", i / 2,
                                meta[i] ? "not valid UTF-8" : "NULL");
    for (int i = 0; i < n_meta; i++)
        for (int j = 0; j < i; j++)
            if (strcmp(meta[2 * i], meta[2 * j]) == 0)
                return lt_set_error(LT_ERR_ARG, "%s: duplicate metadata key "
                                    "'%.100s'", path, meta[2 * i]);
    return LT_OK;
}

/* The JSON header for tensors sorted by name, padded to a multiple of 8. */
static void st_build_header(st_buf *b, const lt_st_tensor *const *sorted,
                            const int64_t *numel, int n,
                            const char *const *meta, int n_meta)
{
    st_puts(b, "{");
    if (n_meta > 0) {
        st_puts(b, "\"" ST_META_KEY "\":{");
        for (int i = 0; i < n_meta; i++) {
            st_puts(b, i ? "," : "");
            st_put_str(b, meta[2 * i]);
            st_puts(b, ":");
            st_put_str(b, meta[2 * i + 1]);
        }
        st_puts(b, "}");
    }
    int64_t off = 0;
    for (int i = 0; i < n; i++) {
        const lt_st_tensor *t = sorted[i];
        st_puts(b, i || n_meta > 0 ? "," : "");
        st_put_str(b, t->name);
        st_puts(b, ":{\"dtype\":\"F32\",\"shape\":[");
        for (int d = 0; d < t->ndim; d++) {
            st_puts(b, d ? "," : "");
            st_put_int(b, t->shape[d]);
        }
        st_puts(b, "],\"data_offsets\":[");
        st_put_int(b, off);
        st_puts(b, ",");
        off += numel[i] * 4;
        st_put_int(b, off);
        st_puts(b, "]}");
    }
    st_puts(b, "}");
    while (!b->oom && b->n % 8)
        st_puts(b, " ");
}

static bool st_host_le(void)
{
    const uint16_t one = 1;
    uint8_t b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* Write n floats little-endian. */
static lt_status st_write_floats(lt_atomic_file *a, const float *x, int64_t n)
{
    if (st_host_le())
        return lt_atomic_write(a, x, (size_t)n * sizeof(float));
    uint8_t buf[4096];
    for (int64_t i = 0; i < n;) {
        size_t m = 0;
        for (; m < sizeof buf && i < n; m += 4, i++) {
            uint32_t u;
            memcpy(&u, &x[i], 4);
            for (int k = 0; k < 4; k++)
                buf[m + (size_t)k] = (uint8_t)(u >> (8 * k));
        }
        lt_status s = lt_atomic_write(a, buf, m);
        if (s != LT_OK)
            return s;
    }
    return LT_OK;
}

static lt_status st_save_sorted(const char *path,
                                const lt_st_tensor *const *sorted,
                                const int64_t *numel, int n,
                                const char *const *meta, int n_meta)
{
    st_buf hdr = {0};
    st_build_header(&hdr, sorted, numel, n, meta, n_meta);
    if (hdr.oom) {
        free(hdr.p);
        return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", path);
    }
    lt_atomic_file *a;
    lt_status s = lt_atomic_open(path, &a);
    if (s != LT_OK) {
        free(hdr.p);
        return s;
    }
    uint8_t lb[8];
    for (int k = 0; k < 8; k++)
        lb[k] = (uint8_t)((uint64_t)hdr.n >> (8 * k));
    s = lt_atomic_write(a, lb, 8);
    if (s == LT_OK)
        s = lt_atomic_write(a, hdr.p, hdr.n);
    for (int i = 0; s == LT_OK && i < n; i++)
        s = st_write_floats(a, sorted[i]->data, numel[i]);
    free(hdr.p);
    if (s != LT_OK) {
        lt_atomic_abort(a);
        return s;
    }
    return lt_atomic_commit(a);
}

lt_status lt_st_save(const char *path, const lt_st_tensor *t, int n,
                     const char *const *meta, int n_meta)
{
    if (!path || !*path)
        return lt_set_error(LT_ERR_ARG, "lt_st_save: empty or NULL path");
    if (n < 0 || (n > 0 && !t))
        return lt_set_error(LT_ERR_ARG, "%s: bad tensor list (%d tensors, "
                            "array %p)", path, n, (const void *)t);
    lt_status s = st_check_save_meta(path, meta, n_meta);
    if (s != LT_OK)
        return s;
    const lt_st_tensor **sorted = calloc((size_t)n + 1, sizeof *sorted);
    int64_t *numel = calloc((size_t)n + 1, sizeof *numel);
    if (!sorted || !numel)
        s = lt_set_error(LT_ERR_NOMEM, "%s: out of memory", path);
    for (int i = 0; s == LT_OK && i < n; i++) {
        s = st_check_save_tensor(path, &t[i], i);
        sorted[i] = &t[i];
    }
    if (s == LT_OK) {
        qsort(sorted, (size_t)n, sizeof *sorted, st_cmp_tensor);
        for (int i = 1; s == LT_OK && i < n; i++)
            if (strcmp(sorted[i - 1]->name, sorted[i]->name) == 0)
                s = lt_set_error(LT_ERR_ARG, "%s: duplicate tensor name "
                                 "'%.100s'", path, sorted[i]->name);
    }
    if (s == LT_OK) {
        for (int i = 0; i < n; i++) /* numel in sorted order */
            numel[i] = lt_shape_numel(sorted[i]->ndim, sorted[i]->shape);
        s = st_save_sorted(path, sorted, numel, n, meta, n_meta);
    }
    free(sorted);
    free(numel);
    return s;
}
