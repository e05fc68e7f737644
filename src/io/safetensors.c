/*
 * safetensors.c - reader of the safetensors checkpoint format:
 * an 8-byte little-endian header length, a JSON header (parsed with cJSON)
 * describing each tensor's dtype, shape and byte range, then the data.
 *
 * The reader checks every header field before trusting it (sizes, types,
 * ranges, full and non-overlapping coverage of the data buffer) and then
 * streams the data section, tensor by tensor in file order, converting each
 * element to float32 through a bounded staging buffer. Byte order is
 * handled explicitly, so files are portable across hosts. lt_st_open
 * checks the header the same way but maps the file instead of reading it:
 * each tensor is converted from the mapping straight into the caller's
 * memory (lt_st_copy_f32), and its pages are released right after, so a
 * large checkpoint is never held twice. The writer is in
 * safetensors_write.c.
 */
#define _DEFAULT_SOURCE /* madvise */
#include "lethe/io.h"
#include "lethe/safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define ST_MAX_HEADER 100000000LL        /* as the reference implementation */
/* The most tensors one file may list, and the most JSON values its header
 * may hold (ST_MAX_VALUES_PER per tensor: object, dtype, shape, offsets,
 * dims). Checked by a scan of the raw header before cJSON parses it, so a
 * hostile header of millions of tiny entries (about 15 bytes of cJSON tree
 * per byte of header) is refused in milliseconds instead of gigabytes. The
 * largest real checkpoints list a few thousand tensors per file. */
#define ST_MAX_TENSORS (1 << 17)
#define ST_MAX_VALUES_PER 16
#define ST_STAGE_BYTES ((size_t)1 << 20) /* staging buffer for conversion */
#define ST_META_KEY "__metadata__"

typedef struct {
    char *key, *value;
} st_kv;

/* Where a mapped file's tensor lies: dtype and first byte of its data. */
typedef struct {
    int dtype;
    int64_t begin;
} st_src;

struct lt_st_file {
    char *path;
    int count;
    lt_st_tensor *t; /* sorted by name */
    float *data;     /* every tensor's floats, in name order; NULL if mapped */
    int n_meta;
    st_kv *meta;     /* sorted by key */
    /* lt_st_open: the mapping of the whole file, the data buffer in it and
     * each tensor's source (t[i] <-> src[i]) */
    uint8_t *map;
    size_t map_len;
    const uint8_t *buf;
    st_src *src;
};

/* ---- dtypes ------------------------------------------------------------ */

typedef enum {
    ST_F64, ST_F32, ST_F16, ST_BF16, ST_I64, ST_I32, ST_I16, ST_I8,
    ST_U64, ST_U32, ST_U16, ST_U8, ST_BOOL, ST_NTYPES
} st_dtype;

static const struct {
    const char *name;
    int size;
} st_types[ST_NTYPES] = {
    {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8},
    {"I32", 4}, {"I16", 2}, {"I8", 1},  {"U64", 8},  {"U32", 4},
    {"U16", 2}, {"U8", 1},  {"BOOL", 1},
};

static int st_dtype_find(const char *s)
{
    for (int i = 0; i < ST_NTYPES; i++)
        if (strcmp(s, st_types[i].name) == 0)
            return i;
    return -1;
}

static uint16_t st_le16(const uint8_t *b)
{
    return (uint16_t)(b[0] | b[1] << 8);
}

static uint32_t st_le32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
           (uint32_t)b[3] << 24;
}

static uint64_t st_le64(const uint8_t *b)
{
    return (uint64_t)st_le32(b) | (uint64_t)st_le32(b + 4) << 32;
}

static float st_bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* IEEE binary16 to binary32, exact (subnormals, infinities, NaN payload). */
static float st_half(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31;
    uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    if (exp == 0) {
        float v = ldexpf((float)mant, -24); /* zero or subnormal: exact */
        return sign ? -v : v;
    }
    if (exp == 31)
        return st_bits_f32(sign | 0x7f800000u | mant << 13);
    return st_bits_f32(sign | (exp + 112) << 23 | mant << 13);
}

/* Convert n elements of type dt at b to float. */
static void st_convert(st_dtype dt, const uint8_t *b, float *y, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = b + i * (size_t)st_types[dt].size;
        double d;
        switch (dt) {
        case ST_F32: y[i] = st_bits_f32(st_le32(p)); continue;
        case ST_F16: y[i] = st_half(st_le16(p)); continue;
        case ST_BF16: y[i] = st_bits_f32((uint32_t)st_le16(p) << 16); continue;
        case ST_F64: {
            uint64_t u = st_le64(p);
            memcpy(&d, &u, sizeof d);
            y[i] = (float)d;
            continue;
        }
        case ST_I64: y[i] = (float)(int64_t)st_le64(p); continue;
        case ST_I32: y[i] = (float)(int32_t)st_le32(p); continue;
        case ST_I16: y[i] = (float)(int16_t)st_le16(p); continue;
        case ST_I8: y[i] = (float)(int8_t)p[0]; continue;
        case ST_U64: y[i] = (float)st_le64(p); continue;
        case ST_U32: y[i] = (float)st_le32(p); continue;
        case ST_U16: y[i] = (float)st_le16(p); continue;
        case ST_U8: y[i] = (float)p[0]; continue;
        case ST_BOOL: y[i] = p[0] ? 1.0f : 0.0f; continue;
        default: y[i] = 0; continue;
        }
    }
}

/* ---- small helpers ----------------------------------------------------- */

static char *st_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

static bool st_read_full(int fd, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        got += (size_t)r;
    }
    return true;
}

/* A JSON number that is a non-negative integer exactly representable. */
static bool st_json_index(const cJSON *v, int64_t *out)
{
    if (!cJSON_IsNumber(v))
        return false;
    double d = v->valuedouble;
    if (!isfinite(d) || d < 0 || d != floor(d) || d > 9007199254740992.0)
        return false;
    *out = (int64_t)d;
    return true;
}

/* ---- header parsing ---------------------------------------------------- */

typedef struct {
    const char *name;
    st_dtype dtype;
    int ndim;
    int64_t shape[LT_MAX_DIMS];
    int64_t numel;
    int64_t begin, end; /* byte range in the data buffer */
    int64_t foff;       /* float offset in the output */
} st_info;

typedef struct {
    const char *path;
    int64_t buf_len; /* bytes of the data buffer */
    st_info *info;
    int count;
    const cJSON *meta; /* __metadata__ object, or NULL */
} st_header;

static lt_status st_parse_shape(const st_header *h, st_info *e,
                                const cJSON *shape)
{
    if (!cJSON_IsArray(shape))
        return lt_set_error(LT_ERR_FORMAT, "%s: tensor '%.100s': \"shape\" "
                            "is not an array", h->path, e->name);
    int nd = cJSON_GetArraySize(shape);
    if (nd > LT_MAX_DIMS)
        return lt_set_error(LT_ERR_FORMAT, "%s: tensor '%.100s' has %d "
                            "dims, more than LT_MAX_DIMS (%d)", h->path,
                            e->name, nd, LT_MAX_DIMS);
    e->ndim = 0;
    e->numel = 1;
    bool overflow = false;
    for (const cJSON *d = shape->child; d; d = d->next) {
        int64_t v;
        if (!st_json_index(d, &v))
            return lt_set_error(LT_ERR_FORMAT, "%s: tensor '%.100s': "
                                "shape[%d] is not a non-negative integer",
                                h->path, e->name, e->ndim);
        e->shape[e->ndim++] = v;
        if (v != 0 && e->numel > INT64_MAX / v)
            overflow = true;
        else
            e->numel *= v;
    }
    for (int i = 0; i < e->ndim; i++)
        if (e->shape[i] == 0)
            e->numel = 0, overflow = false;
    if (overflow)
        e->numel = -1; /* caught by the size check */
    return LT_OK;
}

static lt_status st_parse_offsets(const st_header *h, st_info *e,
                                  const cJSON *off)
{
    if (!cJSON_IsArray(off) || cJSON_GetArraySize(off) != 2 ||
        !st_json_index(off->child, &e->begin) ||
        !st_json_index(off->child->next, &e->end))
        return lt_set_error(LT_ERR_FORMAT, "%s: tensor '%.100s': "
                            "\"data_offsets\" is not an array of two "
                            "non-negative integers", h->path, e->name);
    if (e->begin > e->end || e->end > h->buf_len)
        return lt_set_error(LT_ERR_FORMAT, "%s: tensor '%.100s': "
                            "data_offsets [%lld, %lld] are not begin <= end "
                            "inside the %lld-byte data buffer", h->path,
                            e->name, (long long)e->begin, (long long)e->end,
                            (long long)h->buf_len);
    int64_t bytes = e->end - e->begin, size = st_types[e->dtype].size;
    if (e->numel < 0 || e->numel > bytes / size || e->numel * size != bytes) {
        char sb[160];
        bool huge = e->numel < 0 || e->numel > INT64_MAX / size;
        return lt_set_error(LT_ERR_FORMAT, "%s: tensor '%.100s' holds %lld "
                            "bytes, but shape %s of dtype %s needs %s%lld",
                            h->path, e->name, (long long)bytes,
                            lt_shape_fmt(e->ndim, e->shape, sb, sizeof sb),
                            st_types[e->dtype].name,
                            huge ? "more than " : "",
                            huge ? (long long)INT64_MAX
                                 : (long long)(e->numel * size));
    }
    return LT_OK;
}

static lt_status st_parse_entry(const st_header *h, st_info *e,
                                const cJSON *j)
{
    e->name = j->string;
    if (!cJSON_IsObject(j))
        return lt_set_error(LT_ERR_FORMAT, "%s: tensor '%.100s': entry is "
                            "not a JSON object", h->path, e->name);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(j, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(j, "shape");
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(j, "data_offsets");
    const char *miss = !dt ? "dtype" : !shape ? "shape"
                     : !off ? "data_offsets" : NULL;
    if (miss)
        return lt_set_error(LT_ERR_FORMAT, "%s: tensor '%.100s': missing "
                            "\"%s\"", h->path, e->name, miss);
    if (!cJSON_IsString(dt))
        return lt_set_error(LT_ERR_FORMAT, "%s: tensor '%.100s': \"dtype\" "
                            "is not a string", h->path, e->name);
    int t = st_dtype_find(dt->valuestring);
    if (t < 0)
        return lt_set_error(LT_ERR_FORMAT, "%s: tensor '%.100s' has "
                            "unsupported dtype '%.32s'", h->path, e->name,
                            dt->valuestring);
    e->dtype = (st_dtype)t;
    lt_status s = st_parse_shape(h, e, shape);
    return s != LT_OK ? s : st_parse_offsets(h, e, off);
}

static lt_status st_check_meta(const st_header *h, const cJSON *m)
{
    if (cJSON_IsNull(m))
        return LT_OK;
    if (!cJSON_IsObject(m))
        return lt_set_error(LT_ERR_FORMAT, "%s: \"__metadata__\" is not a "
                            "JSON object", h->path);
    for (const cJSON *v = m->child; v; v = v->next)
        if (!cJSON_IsString(v))
            return lt_set_error(LT_ERR_FORMAT, "%s: metadata value of "
                                "'%.100s' is not a string", h->path,
                                v->string);
    return LT_OK;
}

static int st_cmp_name(const void *a, const void *b)
{
    return strcmp(((const st_info *)a)->name, ((const st_info *)b)->name);
}

static int st_cmp_offset(const void *a, const void *b)
{
    const st_info *x = *(const st_info *const *)a;
    const st_info *y = *(const st_info *const *)b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* The tensors, sorted by offset, must tile [0, buf_len) exactly. */
static lt_status st_check_coverage(const st_header *h, st_info **by_off)
{
    int64_t pos = 0;
    for (int i = 0; i < h->count; i++) {
        const st_info *e = by_off[i];
        if (e->begin < pos)
            return lt_set_error(LT_ERR_FORMAT, "%s: tensors '%.100s' and "
                                "'%.100s' overlap in the data buffer",
                                h->path, by_off[i - 1]->name, e->name);
        if (e->begin > pos)
            return lt_set_error(LT_ERR_FORMAT, "%s: gap in the data buffer: "
                                "bytes [%lld, %lld) before tensor '%.100s' "
                                "belong to no tensor", h->path,
                                (long long)pos, (long long)e->begin, e->name);
        pos = e->end;
    }
    if (pos != h->buf_len)
        return lt_set_error(LT_ERR_FORMAT, "%s: the data buffer has %lld "
                            "bytes after the last tensor (trailing data)",
                            h->path, (long long)(h->buf_len - pos));
    return LT_OK;
}

/* Parse and check every entry of the root object into h->info. */
static lt_status st_parse_entries(st_header *h, const cJSON *root)
{
    int n = cJSON_GetArraySize(root), k = 0, n_meta = 0;
    h->info = calloc((size_t)n + 1, sizeof *h->info);
    if (!h->info)
        return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", h->path);
    for (const cJSON *j = root->child; j; j = j->next) {
        if (strcmp(j->string, ST_META_KEY) == 0) {
            if (n_meta++)
                return lt_set_error(LT_ERR_FORMAT, "%s: duplicate "
                                    "\"__metadata__\"", h->path);
            h->meta = cJSON_IsNull(j) ? NULL : j;
            lt_status s = st_check_meta(h, j);
            if (s != LT_OK)
                return s;
            continue;
        }
        lt_status s = st_parse_entry(h, &h->info[k++], j);
        if (s != LT_OK)
            return s;
    }
    h->count = k;
    qsort(h->info, (size_t)k, sizeof *h->info, st_cmp_name);
    for (int i = 1; i < k; i++)
        if (strcmp(h->info[i - 1].name, h->info[i].name) == 0)
            return lt_set_error(LT_ERR_FORMAT, "%s: duplicate tensor name "
                                "'%.100s'", h->path, h->info[i].name);
    return LT_OK;
}

/* ---- loading ----------------------------------------------------------- */

/* Stream the data section (tensors in offset order) into f->data. */
static lt_status st_read_data(int fd, const st_header *h, st_info **by_off,
                              float *data)
{
    uint8_t *stage = malloc(ST_STAGE_BYTES);
    if (!stage)
        return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", h->path);
    lt_status s = LT_OK;
    for (int i = 0; i < h->count && s == LT_OK; i++) {
        const st_info *e = by_off[i];
        size_t size = (size_t)st_types[e->dtype].size;
        size_t per = ST_STAGE_BYTES / size, done = 0;
        while (done < (size_t)e->numel) {
            size_t m = (size_t)e->numel - done < per ? (size_t)e->numel - done
                                                     : per;
            if (!st_read_full(fd, stage, m * size)) {
                s = lt_set_error(LT_ERR_IO, "%s: read of tensor '%.100s' "
                                 "failed (file changed while reading?)",
                                 h->path, e->name);
                break;
            }
            st_convert(e->dtype, stage, data + e->foff + done, m);
            done += m;
        }
    }
    free(stage);
    return s;
}

static int st_cmp_kv(const void *a, const void *b)
{
    return strcmp(((const st_kv *)a)->key, ((const st_kv *)b)->key);
}

/* Copy the (checked) metadata into f, sorted by key; keys must be unique. */
static lt_status st_fill_meta(lt_st_file *f, const cJSON *meta)
{
    int n = meta ? cJSON_GetArraySize(meta) : 0;
    f->meta = calloc((size_t)n + 1, sizeof *f->meta);
    if (!f->meta)
        return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", f->path);
    for (const cJSON *v = meta ? meta->child : NULL; v; v = v->next) {
        st_kv *kv = &f->meta[f->n_meta++];
        kv->key = st_strdup(v->string);
        kv->value = st_strdup(v->valuestring);
        if (!kv->key || !kv->value)
            return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", f->path);
    }
    qsort(f->meta, (size_t)n, sizeof *f->meta, st_cmp_kv);
    for (int i = 1; i < n; i++)
        if (strcmp(f->meta[i - 1].key, f->meta[i].key) == 0)
            return lt_set_error(LT_ERR_FORMAT, "%s: duplicate metadata key "
                                "'%.100s'", f->path, f->meta[i].key);
    return LT_OK;
}

/* Build the tensors of f from the checked header and read their data
 * (mapped: record where each lies instead; the caller maps the file). */
static lt_status st_build(lt_st_file *f, int fd, st_header *h, bool mapped)
{
    int64_t total = 0;
    for (int i = 0; i < h->count; i++) {
        h->info[i].foff = total;
        total += h->info[i].numel;
    }
    f->t = calloc((size_t)h->count + 1, sizeof *f->t);
    if (mapped)
        f->src = calloc((size_t)h->count + 1, sizeof *f->src);
    else
        f->data = malloc((size_t)total * sizeof(float) + 1);
    st_info **by_off = calloc((size_t)h->count + 1, sizeof *by_off);
    lt_status s = LT_OK;
    if (!f->t || !(mapped ? (void *)f->src : (void *)f->data) || !by_off)
        s = lt_set_error(LT_ERR_NOMEM, "%s: cannot allocate %lld floats",
                         h->path, mapped ? 0LL : (long long)total);
    for (int i = 0; s == LT_OK && i < h->count; i++) {
        const st_info *e = &h->info[i];
        lt_st_tensor *t = &f->t[i];
        f->count = i + 1;
        t->name = st_strdup(e->name);
        t->ndim = e->ndim;
        memcpy(t->shape, e->shape, sizeof t->shape);
        t->numel = e->numel;
        t->data = mapped ? NULL : f->data + e->foff;
        if (mapped)
            f->src[i] = (st_src){(int)e->dtype, e->begin};
        by_off[i] = &h->info[i];
        if (!t->name)
            s = lt_set_error(LT_ERR_NOMEM, "%s: out of memory", h->path);
    }
    if (s == LT_OK) {
        qsort(by_off, (size_t)h->count, sizeof *by_off, st_cmp_offset);
        s = st_check_coverage(h, by_off);
    }
    if (s == LT_OK)
        s = st_fill_meta(f, h->meta);
    if (s == LT_OK && !mapped)
        s = st_read_data(fd, h, by_off, f->data);
    free(by_off);
    return s;
}

/* Map the whole file read-only; the data buffer starts after the header. */
static lt_status st_map(lt_st_file *f, int fd, int64_t hlen, int64_t buf_len)
{
    f->map_len = (size_t)(8 + hlen + buf_len);
    void *p = mmap(NULL, f->map_len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
        f->map_len = 0;
        return lt_set_error(LT_ERR_IO, "%s: cannot map: %s", f->path,
                            strerror(errno));
    }
    f->map = p;
    f->buf = f->map + 8 + hlen;
    madvise(p, f->map_len, MADV_SEQUENTIAL);
    return LT_OK;
}

/* Open path; read and check the header length; return the header bytes. */
static lt_status st_read_header(const char *path, int *fd, char **hdr,
                                int64_t *hlen, int64_t *buf_len)
{
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0)
        return lt_set_error(LT_ERR_IO, "%s: cannot open: %s", path,
                            strerror(errno));
    struct stat st;
    if (fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode))
        return lt_set_error(LT_ERR_IO, "%s: not a readable regular file",
                            path);
    int64_t size = (int64_t)st.st_size;
    uint8_t lb[8];
    if (size < 8)
        return lt_set_error(LT_ERR_FORMAT, "%s: file of %lld bytes is too "
                            "short for a safetensors header", path,
                            (long long)size);
    if (!st_read_full(*fd, lb, 8))
        return lt_set_error(LT_ERR_IO, "%s: read failed", path);
    uint64_t n = st_le64(lb);
    if (n > (uint64_t)ST_MAX_HEADER)
        return lt_set_error(LT_ERR_FORMAT, "%s: header length %llu is absurd "
                            "(limit %lld bytes)", path, (unsigned long long)n,
                            ST_MAX_HEADER);
    if ((int64_t)n > size - 8)
        return lt_set_error(LT_ERR_FORMAT, "%s: header length %llu exceeds "
                            "the file size (%lld bytes): truncated?", path,
                            (unsigned long long)n, (long long)size);
    *hlen = (int64_t)n;
    *buf_len = size - 8 - (int64_t)n;
    *hdr = malloc((size_t)n + 1);
    if (!*hdr)
        return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", path);
    if (!st_read_full(*fd, *hdr, (size_t)n))
        return lt_set_error(LT_ERR_IO, "%s: read failed", path);
    (*hdr)[n] = 0;
    return LT_OK;
}

/* Count the header's tensors (keys of the root object) and JSON values on
 * the raw text, without allocating, and refuse a header over the caps. The
 * counts are upper bounds for valid JSON (every ',' counts as a value);
 * invalid JSON is left to the parser. */
static lt_status st_prescan(const char *path, const char *hdr, int64_t n)
{
    const int64_t max_values = (int64_t)ST_MAX_TENSORS * ST_MAX_VALUES_PER;
    int64_t depth = 0, keys = 0, values = 1;
    bool in_str = false, esc = false;
    for (int64_t i = 0; i < n; i++) {
        char c = hdr[i];
        if (in_str) {
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"')
                in_str = false;
            continue;
        }
        switch (c) {
        case '"': in_str = true; break;
        case '{': case '[': depth++; values++; break;
        case '}': case ']': depth--; break;
        case ',': values++; break;
        case ':': keys += depth == 1; break;
        default: break;
        }
        if (keys > ST_MAX_TENSORS + 1) /* + 1: __metadata__ */
            return lt_set_error(LT_ERR_FORMAT, "%s: header lists more than "
                                "%d tensors (the limit; damaged or hostile "
                                "file?)", path, ST_MAX_TENSORS);
        if (values > max_values)
            return lt_set_error(LT_ERR_FORMAT, "%s: header holds more than "
                                "%lld JSON values (the limit is %d per "
                                "tensor for %d tensors; damaged or hostile "
                                "file?)", path, (long long)max_values,
                                ST_MAX_VALUES_PER, ST_MAX_TENSORS);
    }
    return LT_OK;
}

/* Parse the JSON text; anything but whitespace after it is an error. */
static lt_status st_parse_json(const char *path, const char *hdr,
                               int64_t hlen, cJSON **root)
{
    const char *end = NULL;
    *root = cJSON_ParseWithLengthOpts(hdr, (size_t)hlen, &end, 0);
    if (!*root)
        return lt_set_error(LT_ERR_FORMAT, "%s: header is not valid JSON "
                            "(error near byte %lld of %lld)", path,
                            end ? (long long)(end - hdr) : 0LL,
                            (long long)hlen);
    for (const char *p = end; p && p < hdr + hlen; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            return lt_set_error(LT_ERR_FORMAT, "%s: unexpected bytes after "
                                "the JSON header at byte %lld", path,
                                (long long)(p - hdr));
    if (!cJSON_IsObject(*root))
        return lt_set_error(LT_ERR_FORMAT, "%s: header is not a JSON "
                            "object", path);
    return LT_OK;
}

/* lt_st_load (mapped false) or lt_st_open (true). */
static lt_status st_open(const char *path, bool mapped, lt_st_file **out)
{
    if (!out)
        return lt_set_error(LT_ERR_ARG, "lt_st_load: out is NULL");
    *out = NULL;
    if (!path)
        return lt_set_error(LT_ERR_ARG, "lt_st_load: path is NULL");
    int fd = -1;
    char *hdr = NULL;
    cJSON *root = NULL;
    st_header h = {.path = path};
    int64_t hlen = 0;
    lt_st_file *f = calloc(1, sizeof *f);
    lt_status s = f && (f->path = st_strdup(path))
                      ? st_read_header(path, &fd, &hdr, &hlen, &h.buf_len)
                      : lt_set_error(LT_ERR_NOMEM, "%s: out of memory", path);
    if (s == LT_OK)
        s = st_prescan(path, hdr, hlen);
    if (s == LT_OK)
        s = st_parse_json(path, hdr, hlen, &root);
    if (s == LT_OK)
        s = st_parse_entries(&h, root);
    if (s == LT_OK)
        s = st_build(f, fd, &h, mapped);
    if (s == LT_OK && mapped)
        s = st_map(f, fd, hlen, h.buf_len);
    if (fd >= 0)
        close(fd);
    cJSON_Delete(root);
    free(hdr);
    free(h.info);
    if (s != LT_OK) {
        lt_st_free(f);
        return s;
    }
    *out = f;
    return LT_OK;
}

lt_status lt_st_load(const char *path, lt_st_file **out)
{
    return st_open(path, false, out);
}

lt_status lt_st_open(const char *path, lt_st_file **out)
{
    return st_open(path, true, out);
}

lt_status lt_st_copy_f32(const lt_st_file *f, const lt_st_tensor *t,
                         float *dst)
{
    if (!f || !t || !dst || t < f->t || t >= f->t + f->count)
        return lt_set_error(LT_ERR_ARG, "lt_st_copy_f32: NULL argument or a "
                            "tensor of another file");
    if (!f->map) {
        memcpy(dst, t->data, (size_t)t->numel * sizeof(float));
        return LT_OK;
    }
    const st_src *src = &f->src[t - f->t];
    const uint8_t *b = f->buf + src->begin;
    st_convert((st_dtype)src->dtype, b, dst, (size_t)t->numel);
    /* drop the pages just read from this process (they stay in the page
     * cache); a neighbour sharing an edge page faults it in again */
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    size_t lo = (size_t)(b - f->map) / pg * pg;
    size_t hi = (size_t)(b - f->map) +
                (size_t)t->numel * (size_t)st_types[src->dtype].size;
    hi = (hi + pg - 1) / pg * pg;
    if (hi > f->map_len)
        hi = f->map_len;
    if (hi > lo)
        madvise(f->map + lo, hi - lo, MADV_DONTNEED);
    return LT_OK;
}

void lt_st_free(lt_st_file *f)
{
    if (!f)
        return;
    if (f->map)
        munmap(f->map, f->map_len);
    free(f->src);
    for (int i = 0; i < f->count; i++)
        free((char *)f->t[i].name);
    for (int i = 0; i < f->n_meta; i++) {
        free(f->meta[i].key);
        free(f->meta[i].value);
    }
    free(f->t);
    free(f->data);
    free(f->meta);
    free(f->path);
    free(f);
}

/* ---- queries ----------------------------------------------------------- */

int lt_st_count(const lt_st_file *f)
{
    return f ? f->count : 0;
}

const lt_st_tensor *lt_st_at(const lt_st_file *f, int i)
{
    if (!f || i < 0 || i >= f->count) {
        lt_set_error(LT_ERR_ARG, "lt_st_at: index %d out of range [0, %d)",
                     i, f ? f->count : 0);
        return NULL;
    }
    return &f->t[i];
}

const lt_st_tensor *lt_st_get(const lt_st_file *f, const char *name)
{
    if (!f || !name) {
        lt_set_error(LT_ERR_ARG, "lt_st_get: NULL argument");
        return NULL;
    }
    int lo = 0, hi = f->count - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2, c = strcmp(f->t[mid].name, name);
        if (c == 0)
            return &f->t[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    lt_set_error(LT_ERR_ARG, "%s: no tensor called '%.100s'", f->path, name);
    return NULL;
}

lt_status lt_st_read_into(const lt_st_file *f, const char *name,
                          lt_tensor *dst)
{
    if (!dst || !dst->data)
        return lt_set_error(LT_ERR_ARG, "lt_st_read_into: destination for "
                            "'%.100s' is NULL", name ? name : "(null)");
    const lt_st_tensor *t = lt_st_get(f, name);
    if (!t)
        return lt_last_status();
    bool same = t->ndim == dst->ndim;
    for (int i = 0; same && i < t->ndim; i++)
        same = t->shape[i] == dst->shape[i];
    if (t->ndim == 0 && dst->ndim == 1 && dst->shape[0] == 1)
        same = true; /* a scalar fills a [1] tensor */
    if (!same) {
        char a[160], b[160];
        return lt_set_error(LT_ERR_SHAPE, "%s: tensor '%.100s' has shape %s, "
                            "the destination %s", f->path, name,
                            lt_shape_fmt(t->ndim, t->shape, a, sizeof a),
                            lt_shape_fmt(dst->ndim, dst->shape, b, sizeof b));
    }
    return lt_st_copy_f32(f, t, dst->data);
}

int lt_st_meta_count(const lt_st_file *f)
{
    return f ? f->n_meta : 0;
}

const char *lt_st_meta_key(const lt_st_file *f, int i)
{
    return f && i >= 0 && i < f->n_meta ? f->meta[i].key : NULL;
}

const char *lt_st_meta_value(const lt_st_file *f, int i)
{
    return f && i >= 0 && i < f->n_meta ? f->meta[i].value : NULL;
}

const char *lt_st_meta(const lt_st_file *f, const char *key)
{
    if (!f || !key)
        return NULL;
    st_kv k = {(char *)key, NULL};
    const st_kv *kv = bsearch(&k, f->meta, (size_t)f->n_meta, sizeof k,
                              st_cmp_kv);
    return kv ? kv->value : NULL;
}

/* ---- identity of the weights ---------------------------------------------- */

static void st_hash_le64(lt_sha256_ctx *h, int64_t v)
{
    uint8_t b[8];
    for (int k = 0; k < 8; k++)
        b[k] = (uint8_t)((uint64_t)v >> (8 * k));
    lt_sha256_update(h, b, 8);
}

lt_status lt_st_weights_sha256(const char *path, char hex[65])
{
    if (!hex)
        return lt_set_error(LT_ERR_ARG, "weights hash: hex is NULL");
    lt_st_file *f = NULL;
    lt_status s = lt_st_load(path, &f);
    if (s != LT_OK)
        return s;
    lt_sha256_ctx h;
    lt_sha256_init(&h);
    uint8_t buf[4096];
    for (int i = 0; i < f->count; i++) { /* f->t is sorted by name */
        const lt_st_tensor *t = &f->t[i];
        lt_sha256_update(&h, t->name, strlen(t->name) + 1);
        st_hash_le64(&h, t->ndim);
        for (int d = 0; d < t->ndim; d++)
            st_hash_le64(&h, t->shape[d]);
        size_t k = 0;
        for (int64_t j = 0; j < t->numel; j++) {
            uint32_t u;
            memcpy(&u, &t->data[j], 4);
            for (int b = 0; b < 4; b++)
                buf[k++] = (uint8_t)(u >> (8 * b));
            if (k == sizeof buf || j + 1 == t->numel) {
                lt_sha256_update(&h, buf, k);
                k = 0;
            }
        }
    }
    lt_sha256_hex(&h, hex);
    lt_st_free(f);
    return LT_OK;
}
