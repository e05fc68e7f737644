/*
 * test_safetensors.c - tests of the safetensors reader and writer: round
 * trips (bit-exact, metadata, scalars, empty tensors), the F16/BF16/mixed
 * fixtures of tests/golden/gen_safetensors.py, byte equality with the
 * reference library's layout, every kind of header damage (clean
 * LT_ERR_FORMAT naming the file, no crash), and saves that fail without
 * touching an existing file.
 */
#include "lt_test.h"
#include "lethe/safetensors.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------ */

static char st_dir[64];

static void st_rmdir(void)
{
    rmdir(st_dir); /* empty unless a test failed half-way */
}

/* A path inside a fresh temp directory shared by the tests, written to
 * buf (ST_PATH bytes). */
#define ST_PATH 160
static const char *st_path(char *buf, const char *name)
{
    if (!st_dir[0]) {
        strcpy(st_dir, "/tmp/lethe_st_XXXXXX");
        if (!mkdtemp(st_dir))
            lt_test_fail(__FILE__, __LINE__, "mkdtemp failed");
        else
            atexit(st_rmdir);
    }
    snprintf(buf, ST_PATH, "%s/%s", st_dir, name);
    return buf;
}

static uint8_t *st_read(const char *path, size_t *n)
{
    *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)len + 1);
    *n = fread(b, 1, (size_t)len, f);
    fclose(f);
    return b;
}

static void st_write(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b, 1, n, f) != n)
        lt_test_fail(__FILE__, __LINE__, "cannot write %s", path);
    if (f)
        fclose(f);
}

/* A file made of a header length, the JSON text and data_len bytes. */
static void st_write_json(const char *path, const char *json, size_t data_len)
{
    size_t n = strlen(json);
    uint8_t *b = calloc(8 + n + data_len + 1, 1);
    for (int k = 0; k < 8; k++)
        b[k] = (uint8_t)((uint64_t)n >> (8 * k));
    memcpy(b + 8, json, n);
    st_write(path, b, 8 + n + data_len);
    free(b);
}

static bool st_same_bits(const float *a, const float *b, int64_t n)
{
    return n == 0 || memcmp(a, b, (size_t)n * sizeof(float)) == 0;
}

/* Loading path must fail with LT_ERR_FORMAT, a message holding needle and
 * the path, and *out left NULL. */
static void st_expect_format(int line, const char *path, const char *needle)
{
    lt_st_file *f = (lt_st_file *)1;
    lt_status s = lt_st_load(path, &f);
    if (s != LT_ERR_FORMAT || f != NULL)
        lt_test_fail(__FILE__, line, "'%s': expected LT_ERR_FORMAT, got %s "
                     "(%s)", needle, lt_status_name(s),
                     s ? lt_last_error() : "loaded");
    else if (!strstr(lt_last_error(), needle) ||
             !strstr(lt_last_error(), path))
        lt_test_fail(__FILE__, line, "message '%s' lacks '%s' or the path",
                     lt_last_error(), needle);
    if (s == LT_OK)
        lt_st_free(f);
}

static void st_bad_json(int line, const char *json, size_t data_len,
                        const char *needle)
{
    char p_buf[ST_PATH];
    const char *p = st_path(p_buf, "bad.safetensors");
    st_write_json(p, json, data_len);
    st_expect_format(line, p, needle);
}
#define BAD(json, len, needle) st_bad_json(__LINE__, json, len, needle)

/* ---- round trip ----------------------------------------------------------- */

LT_TEST(st_round_trip_is_bit_exact)
{
    float w[24], a[60], s = -0.0f, special[6];
    uint32_t bits[6] = {0x7fc01234u, 0x80000000u, 0x7f800000u, 0xff800000u,
                        0x00000001u, 0x3f800001u};
    memcpy(special, bits, sizeof bits); /* NaN payload, -0, inf, subnormal */
    lt_rng r;
    lt_rng_init(&r, 7);
    lt_rng_fill_normal(&r, w, 24, 0, 1);
    lt_rng_fill_normal(&r, a, 60, 0, 3);
    lt_st_tensor t[5] = {
        {.name = "w.weight", .ndim = 2, .shape = {4, 6}, .data = w},
        {.name = "a", .ndim = 6, .shape = {1, 2, 3, 1, 5, 2}, .data = a},
        {.name = "s", .ndim = 0, .data = &s},
        {.name = "empty", .ndim = 2, .shape = {0, 5}, .data = NULL},
        {.name = "sp\u00e9cial \"q\"", .ndim = 1, .shape = {6}, .data = special},
    };
    const char *meta[] = {"format", "pt", "z note", "line\nbreak \"x\" \\ \u2713",
                          "epoch", "12"};
    char p_buf[ST_PATH];
    const char *p = st_path(p_buf, "rt.safetensors");
    LT_CHECK(lt_st_save(p, t, 5, meta, 3) == LT_OK, "%s", lt_last_error());

    lt_st_file *f = NULL;
    LT_CHECK(lt_st_load(p, &f) == LT_OK, "%s", lt_last_error());
    if (!f)
        return;
    LT_CHECK(lt_st_count(f) == 5, "count %d", lt_st_count(f));
    const char *order[5] = {"a", "empty", "s", "sp\u00e9cial \"q\"",
                            "w.weight"};
    for (int i = 0; i < 5; i++) {
        const lt_st_tensor *e = lt_st_at(f, i);
        LT_CHECK(e && strcmp(e->name, order[i]) == 0, "order %d: %s", i,
                 e ? e->name : "NULL");
    }
    for (int i = 0; i < 5; i++) {
        const lt_st_tensor *e = lt_st_get(f, t[i].name);
        LT_CHECK(e != NULL, "%s missing: %s", t[i].name, lt_last_error());
        if (!e)
            continue;
        int64_t n = lt_shape_numel(t[i].ndim, t[i].shape);
        LT_CHECK(e->ndim == t[i].ndim && e->numel == n &&
                     memcmp(e->shape, t[i].shape,
                            (size_t)e->ndim * sizeof(int64_t)) == 0,
                 "%s: shape", t[i].name);
        LT_CHECK(st_same_bits(e->data, t[i].data, n), "%s: data differs",
                 t[i].name);
    }
    LT_CHECK(lt_st_at(f, 5) == NULL && lt_last_status() == LT_ERR_ARG,
             "lt_st_at out of range");
    LT_CHECK(lt_st_get(f, "nope") == NULL &&
                 lt_last_status() == LT_ERR_ARG &&
                 strstr(lt_last_error(), "nope") && strstr(lt_last_error(), p),
             "lt_st_get missing: %s", lt_last_error());
    LT_CHECK(lt_st_meta_count(f) == 3, "meta count %d", lt_st_meta_count(f));
    LT_CHECK(strcmp(lt_st_meta(f, "format"), "pt") == 0 &&
                 strcmp(lt_st_meta(f, "epoch"), "12") == 0 &&
                 strcmp(lt_st_meta(f, "z note"), meta[3]) == 0,
             "meta values");
    LT_CHECK(lt_st_meta(f, "missing") == NULL, "missing meta key");
    LT_CHECK(strcmp(lt_st_meta_key(f, 0), "epoch") == 0 &&
                 strcmp(lt_st_meta_value(f, 2), meta[3]) == 0 &&
                 lt_st_meta_key(f, 3) == NULL,
             "meta iteration");
    lt_st_free(f);

    /* Layout: header length a multiple of 8, data F32 in name order. */
    size_t n;
    uint8_t *b = st_read(p, &n);
    if (!b || n < 8) {
        lt_test_fail(__FILE__, __LINE__, "cannot read back %s", p);
        free(b);
        return;
    }
    uint64_t hl = 0;
    for (int k = 0; k < 8; k++)
        hl |= (uint64_t)b[k] << (8 * k);
    LT_CHECK(hl % 8 == 0 && 8 + hl + 4 * (60 + 1 + 6 + 24) == n,
             "header length %llu, file %zu", (unsigned long long)hl, n);
    LT_CHECK(memcmp(b + 8 + hl, a, 60 * 4) == 0, "first tensor is 'a'");
    free(b);
    unlink(p);
}

LT_TEST(st_empty_file_and_overwrite)
{
    char p_buf[ST_PATH];
    const char *p = st_path(p_buf, "empty.safetensors");
    LT_CHECK(lt_st_save(p, NULL, 0, NULL, 0) == LT_OK, "%s", lt_last_error());
    lt_st_file *f = NULL;
    LT_CHECK(lt_st_load(p, &f) == LT_OK && lt_st_count(f) == 0 &&
                 lt_st_meta_count(f) == 0,
             "%s", lt_last_error());
    lt_st_free(f);
    float x = 3;
    lt_st_tensor t = {.name = "x", .ndim = 1, .shape = {1}, .data = &x};
    LT_CHECK(lt_st_save(p, &t, 1, NULL, 0) == LT_OK, "overwrite: %s",
             lt_last_error());
    LT_CHECK(lt_st_load(p, &f) == LT_OK && lt_st_count(f) == 1 &&
                 lt_st_get(f, "x")->data[0] == 3,
             "overwrite: %s", lt_last_error());
    lt_st_free(f);
    unlink(p);
}

LT_TEST(st_entry_and_read_into)
{
    lt_ctx *c = lt_ctx_new(1 << 20);
    lt_tensor *w = lt_new2(c, 3, 4), *b = lt_new1(c, 4);
    for (int i = 0; i < 12; i++)
        w->data[i] = (float)i / 7;
    for (int i = 0; i < 4; i++)
        b->data[i] = -(float)i;
    lt_st_tensor e[2] = {lt_st_entry("fc.w", w), lt_st_entry("fc.b", b)};
    char p_buf[ST_PATH];
    const char *p = st_path(p_buf, "entry.safetensors");
    LT_CHECK(lt_st_save(p, e, 2, NULL, 0) == LT_OK, "%s", lt_last_error());
    lt_st_file *f = NULL;
    LT_CHECK(lt_st_load(p, &f) == LT_OK, "%s", lt_last_error());
    lt_tensor *w2 = lt_zeros(c, 2, w->shape), *bad = lt_new2(c, 4, 3);
    LT_CHECK(lt_st_read_into(f, "fc.w", w2) == LT_OK &&
                 st_same_bits(w2->data, w->data, 12),
             "read_into: %s", lt_last_error());
    LT_CHECK(lt_st_read_into(f, "fc.w", bad) == LT_ERR_SHAPE &&
                 strstr(lt_last_error(), "[3, 4]") &&
                 strstr(lt_last_error(), "[4, 3]"),
             "shape mismatch: %s", lt_last_error());
    LT_CHECK(lt_st_read_into(f, "fc.x", w2) == LT_ERR_ARG, "missing name");
    LT_CHECK(lt_st_read_into(f, "fc.w", NULL) == LT_ERR_ARG, "NULL dst");
    lt_st_tensor nul = lt_st_entry("n", NULL);
    LT_CHECK(lt_st_save(p, &nul, 1, NULL, 0) == LT_ERR_ARG, "NULL tensor");
    lt_st_free(f);
    lt_ctx_free(c);
    unlink(p);
}

/* ---- fixtures written by gen_safetensors.py ------------------------------ */

static void st_check_pair(const char *file, const char *name,
                          const char *ref, int64_t numel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", LT_GOLDEN_DIR, file);
    lt_st_file *f = NULL;
    LT_CHECK(lt_st_load(path, &f) == LT_OK, "%s", lt_last_error());
    if (!f)
        return;
    const lt_st_tensor *a = lt_st_get(f, name), *b = lt_st_get(f, ref);
    LT_CHECK(a && b && a->numel == numel && b->numel == numel &&
                 a->ndim == b->ndim,
             "%s: tensors", file);
    if (a && b && a->numel == numel && b->numel == numel)
        for (int64_t i = 0; i < numel; i++) {
            uint32_t x, y;
            memcpy(&x, &a->data[i], 4);
            memcpy(&y, &b->data[i], 4);
            LT_CHECK(x == y, "%s[%lld]: got %08x, torch %08x", name,
                     (long long)i, x, y);
        }
    lt_st_free(f);
}

LT_TEST(st_f16_bf16_convert_exactly)
{
    st_check_pair("st_f16.safetensors", "h", "h.f32", 32);
    st_check_pair("st_bf16.safetensors", "b", "b.f32", 24);
}

LT_TEST(st_mixed_dtypes_match_torch)
{
    char path[512];
    snprintf(path, sizeof path, "%s/st_mixed.safetensors", LT_GOLDEN_DIR);
    lt_st_file *f = NULL;
    LT_CHECK(lt_st_load(path, &f) == LT_OK, "%s", lt_last_error());
    lt_golden *g = lt_golden_load("st_mixed.bin");
    if (!f || !g) {
        lt_st_free(f);
        lt_golden_free(g);
        return;
    }
    LT_CHECK(lt_st_count(f) == 11, "count %d", lt_st_count(f));
    for (int i = 0; i < g->count; i++) {
        const lt_golden_entry *e = &g->e[i];
        const lt_st_tensor *t = lt_st_get(f, e->name);
        LT_CHECK(t && t->numel == e->numel, "%s: missing or wrong size",
                 e->name);
        if (t && t->numel == e->numel)
            LT_CHECK(st_same_bits(t->data, e->data, e->numel),
                     "%s: values differ from torch", e->name);
    }
    const lt_st_tensor *s = lt_st_get(f, "scalar");
    LT_CHECK(s && s->ndim == 0 && s->numel == 1 && s->data[0] == 2.5f,
             "scalar kept as ndim 0");
    const lt_st_tensor *z = lt_st_get(f, "empty");
    LT_CHECK(z && z->ndim == 2 && z->shape[0] == 0 && z->shape[1] == 3 &&
                 z->numel == 0,
             "empty tensor");
    const lt_st_tensor *w = lt_st_get(f, "z_f32");
    LT_CHECK(w && w->ndim == 3 && w->shape[0] == 3 && w->shape[2] == 5,
             "z_f32 shape");
    LT_CHECK(lt_st_meta(f, "note") &&
                 strcmp(lt_st_meta(f, "note"),
                        "caf\u00e9 \u2713 \"quoted\"\nline!") == 0 &&
                 strcmp(lt_st_meta(f, "epoch"), "3") == 0,
             "unicode metadata");
    lt_golden_free(g);
    lt_st_free(f);
}

/* Re-saving the reference-layout file reproduces it byte for byte. */
LT_TEST(st_save_matches_reference_layout)
{
    char path[512];
    snprintf(path, sizeof path, "%s/st_ref.safetensors", LT_GOLDEN_DIR);
    lt_st_file *f = NULL;
    LT_CHECK(lt_st_load(path, &f) == LT_OK, "%s", lt_last_error());
    if (!f)
        return;
    int n = lt_st_count(f);
    lt_st_tensor t[8];
    for (int i = 0; i < n && i < 8; i++) /* reversed: save sorts */
        t[i] = *lt_st_at(f, n - 1 - i);
    const char *meta[] = {"format", lt_st_meta(f, "format")};
    char p_buf[ST_PATH];
    const char *p = st_path(p_buf, "ref.safetensors");
    LT_CHECK(lt_st_save(p, t, n, meta, 1) == LT_OK, "%s", lt_last_error());
    size_t na, nb;
    uint8_t *a = st_read(path, &na), *b = st_read(p, &nb);
    LT_CHECK(a && b && na == nb && memcmp(a, b, na) == 0,
             "re-saved file differs from the reference (%zu vs %zu bytes)",
             na, nb);
    free(a);
    free(b);
    lt_st_free(f);
    unlink(p);
}

/* ---- damaged files -------------------------------------------------------- */

#define T1 "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}"

LT_TEST(st_rejects_bad_headers)
{
    char p_buf[ST_PATH];
    const char *p = st_path(p_buf, "short.safetensors");
    st_write(p, "\x05\0\0\0\0", 5);
    st_expect_format(__LINE__, p, "too short");
    uint8_t big[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, '{', '}'};
    st_write(p, big, 10);
    st_expect_format(__LINE__, p, "absurd");
    big[0] = 9, big[1] = big[2] = big[3] = big[4] = 0;
    st_write(p, big, 10);
    st_expect_format(__LINE__, p, "exceeds the file size");
    big[0] = 0xff, big[1] = 0xff, big[2] = 0xff, big[3] = 0xff, big[7] = 0x80;
    st_write(p, big, 10); /* length with the top bit set */
    st_expect_format(__LINE__, p, "absurd");

    BAD("", 0, "not valid JSON");
    BAD("{\"a\":", 0, "not valid JSON");
    BAD("{\"a\":{\"dtype\":\"F32\",}}", 0, "not valid JSON");
    BAD("[1, 2]", 0, "not a JSON object");
    BAD("\"str\"", 0, "not a JSON object");
    BAD("{} x", 0, "unexpected bytes");
    BAD("{}{}", 0, "unexpected bytes");
    BAD("{\"a\":5}", 0, "entry is not a JSON object");
    BAD("{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "missing \"dtype\"");
    BAD("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8,
        "missing \"shape\"");
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8,
        "missing \"data_offsets\"");
    BAD("{\"a\":{\"dtype\":4,\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
        "\"dtype\" is not a string");
    BAD("{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}",
        2, "tensor 'a' has unsupported dtype 'F8_E4M3'");
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}", 8,
        "\"shape\" is not an array");
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8,
        "shape[0] is not a non-negative integer");
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1.5],\"data_offsets\":[0,8]}}",
        8, "shape[1] is not a non-negative integer");
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}",
        8, "shape[0] is not a non-negative integer");
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[1e300],\"data_offsets\":[0,8]}}",
        8, "shape[0] is not a non-negative integer");
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,2],"
        "\"data_offsets\":[0,8]}}", 8, "more than LT_MAX_DIMS");
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8,
        "not an array of two");
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,8]}}", 8,
        "not an array of two");
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":\"0,8\"}}", 8,
        "not an array of two");
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", 8,
        "not an array of two");
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 8,
        "are not begin <= end");
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,16]}}", 8,
        "inside the 8-byte data buffer");
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8,
        "holds 8 bytes, but shape [3] of dtype F32 needs 12");
    BAD("{\"a\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
        "needs 16");
    BAD("{\"a\":{\"dtype\":\"F16\",\"shape\":[4294967296,4294967296,"
        "4294967296],\"data_offsets\":[0,8]}}", 8, "needs more than");
    /* numel fits int64 but numel * 8 bytes does not: "more than", no
     * overflowing product in the message (UBSan) */
    BAD("{\"a\":{\"dtype\":\"F64\",\"shape\":[2147483648,2147483648],"
        "\"data_offsets\":[0,8]}}", 8, "F64 needs more than");
    BAD("{\"a\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296],"
        "\"data_offsets\":[0,0]}}", 8, "holds 0 bytes");
    BAD("{" T1 ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],"
        "\"data_offsets\":[4,12]}}", 12, "'a' and 'b' overlap");
    BAD("{" T1 ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],"
        "\"data_offsets\":[0,8]}}", 8, "overlap");
    BAD("{" T1 ",\"b\":{\"dtype\":\"F32\",\"shape\":[1],"
        "\"data_offsets\":[12,16]}}", 16, "gap in the data buffer");
    BAD("{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8,
        "gap in the data buffer: bytes [0, 4)");
    BAD("{" T1 "}", 12, "4 bytes after the last tensor");
    BAD("{}", 3, "3 bytes after the last tensor");
    BAD("{" T1 "," T1 "}", 8, "duplicate tensor name 'a'");
    BAD("{\"__metadata__\":{\"k\":1}," T1 "}", 8,
        "metadata value of 'k' is not a string");
    BAD("{\"__metadata__\":[\"k\"]," T1 "}", 8,
        "\"__metadata__\" is not a JSON object");
    BAD("{\"__metadata__\":{},\"__metadata__\":{}}", 0,
        "duplicate \"__metadata__\"");
    BAD("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0,
        "duplicate metadata key 'k'");

    /* Still valid: trailing spaces, null metadata, zero-size tensors. */
    lt_st_file *f = NULL;
    st_write_json(p, "{\"__metadata__\":null,\"e\":{\"dtype\":\"I8\","
                     "\"shape\":[0,4],\"data_offsets\":[0,0]}," T1 ", "
                     "\"x\":{\"dtype\":\"BF16\",\"shape\":[],"
                     "\"data_offsets\":[8,10]}}   \n",
                  10);
    LT_CHECK(lt_st_load(p, &f) == LT_OK && lt_st_count(f) == 3,
             "valid odd file: %s", lt_last_error());
    lt_st_free(f);
    unlink(p);
    char bad_buf[ST_PATH];
    unlink(st_path(bad_buf, "bad.safetensors"));
}

/* A header of n_tensors zero-size U8 entries (each one valid), then
 * extra_dims zeros appended to the last entry's shape. */
static void st_write_many(const char *path, int n_tensors, int extra_dims)
{
    size_t cap = (size_t)n_tensors * 64 + (size_t)extra_dims * 2 + 64, n = 0;
    char *j = malloc(cap);
    n += (size_t)snprintf(j + n, cap - n, "{");
    for (int i = 0; i < n_tensors; i++)
        n += (size_t)snprintf(j + n, cap - n, "%s\"t%d\":{\"dtype\":\"U8\","
                              "\"data_offsets\":[0,0],\"shape\":[0%s",
                              i ? "," : "", i, i < n_tensors - 1 ? "]}" : "");
    for (int i = 0; i < extra_dims; i++)
        n += (size_t)snprintf(j + n, cap - n, ",0");
    n += (size_t)snprintf(j + n, cap - n, "]}}");
    st_write_json(path, j, 0);
    free(j);
}

/* Issue #20: a huge header of tiny entries cost 1.5 GB and 12 s in cJSON
 * before anything refused it; the raw-text scan caps the tensor count and
 * the JSON value count first. */
LT_TEST(st_caps_tensor_count_before_parsing)
{
    char p_buf[ST_PATH];
    const char *p = st_path(p_buf, "many.safetensors");
    lt_st_file *f = NULL;
    st_write_many(p, 1000, 0); /* many, but fine */
    LT_CHECK(lt_st_load(p, &f) == LT_OK && lt_st_count(f) == 1000,
             "1000 tensors: %s", lt_last_error());
    lt_st_free(f);
    st_write_many(p, (1 << 17) + 2, 0);
    st_expect_format(__LINE__, p, "more than 131072 tensors");
    st_write_many(p, 1, 3 << 20); /* one tensor with millions of dims */
    st_expect_format(__LINE__, p, "JSON values");
    /* braces and commas inside strings are not counted */
    st_write_json(p, "{\"__metadata__\":{\"k\":\"{[,:\\\"\"}}", 0);
    LT_CHECK(lt_st_load(p, &f) == LT_OK, "strings: %s", lt_last_error());
    lt_st_free(f);
    unlink(p);
}

LT_TEST(st_missing_file_is_io_error)
{
    lt_st_file *f = (lt_st_file *)1;
    LT_CHECK(lt_st_load("/nonexistent/lethe.safetensors", &f) == LT_ERR_IO &&
                 f == NULL &&
                 strstr(lt_last_error(), "/nonexistent/lethe.safetensors"),
             "missing file: %s", lt_last_error());
    LT_CHECK(lt_st_load("/tmp", &f) == LT_ERR_IO &&
                 strstr(lt_last_error(), "/tmp"),
             "directory: %s", lt_last_error());
    LT_CHECK(lt_st_load(NULL, &f) == LT_ERR_ARG, "NULL path");
    LT_CHECK(lt_st_load("x", NULL) == LT_ERR_ARG, "NULL out");
}

/* A small valid file, then every truncation and many byte edits of it:
 * loading fails cleanly (or, for harmless edits, succeeds) and never
 * crashes. */
LT_TEST(st_damaged_copies_of_a_valid_file)
{
    float x[6] = {1, 2, 3, 4, 5, 6}, y[2] = {-1, -2};
    lt_st_tensor t[2] = {{.name = "x", .ndim = 2, .shape = {2, 3}, .data = x},
                         {.name = "y", .ndim = 1, .shape = {2}, .data = y}};
    const char *meta[] = {"k", "v"};
    char good_buf[ST_PATH];
    const char *good = st_path(good_buf, "good.safetensors");
    LT_CHECK(lt_st_save(good, t, 2, meta, 1) == LT_OK, "%s", lt_last_error());
    size_t n;
    uint8_t *b = st_read(good, &n);
    if (!b)
        return;
    char p_buf[ST_PATH];
    const char *p = st_path(p_buf, "damaged.safetensors");
    for (size_t len = 0; len < n; len++) {
        st_write(p, b, len);
        st_expect_format(__LINE__, p, p);
    }
    /* Every single-byte edit of the header to a few values. */
    uint64_t hl = 0;
    for (int k = 0; k < 8; k++)
        hl |= (uint64_t)b[k] << (8 * k);
    const uint8_t vals[] = {0, ' ', '"', '0', '9', '[', '{', '}', ',', 0xff};
    uint8_t *c = malloc(n);
    int ok = 0, bad = 0;
    for (size_t i = 0; i < 8 + hl; i++)
        for (size_t v = 0; v < sizeof vals; v++) {
            memcpy(c, b, n);
            if (c[i] == vals[v])
                continue;
            c[i] = vals[v];
            st_write(p, c, n);
            lt_st_file *f = NULL;
            lt_status s = lt_st_load(p, &f);
            if (s == LT_OK) {
                ok++;
                lt_st_free(f);
            } else {
                bad++;
                LT_CHECK(s == LT_ERR_FORMAT && strstr(lt_last_error(), p),
                         "edit byte %zu to %u: %s: %s", i, vals[v],
                         lt_status_name(s), lt_last_error());
            }
        }
    LT_CHECK(bad > 0 && ok > 0, "edits: %d loaded, %d rejected", ok, bad);
    /* Specific edits: a bigger end offset, a wrong shape. */
    char *h = (char *)c + 8;
    memcpy(c, b, n);
    char *d = strstr(h, "[24,32]");
    if (d) {
        memcpy(d, "[24,36]", 7);
        st_write(p, c, n);
        st_expect_format(__LINE__, p, "inside the 32-byte data buffer");
    }
    memcpy(c, b, n);
    d = strstr(h, "[2,3]");
    if (d) {
        memcpy(d, "[3,3]", 5);
        st_write(p, c, n);
        st_expect_format(__LINE__, p, "tensor 'x' holds 24 bytes");
    }
    memcpy(c, b, n);
    d = strstr(h, "F32");
    if (d) {
        memcpy(d, "F64", 3);
        st_write(p, c, n);
        st_expect_format(__LINE__, p, "dtype F64 needs 48");
    }
    free(c);
    free(b);
    unlink(p);
    unlink(good);
}

/* ---- failed saves --------------------------------------------------------- */

static bool st_tmp_left(const char *path) { return lt_test_tmp_left(path); }

LT_TEST(st_failed_save_leaves_old_file)
{
    float x[4] = {1, 2, 3, 4};
    lt_st_tensor t = {.name = "x", .ndim = 1, .shape = {4}, .data = x};
    char p_buf[ST_PATH];
    const char *p = st_path(p_buf, "keep.safetensors");
    LT_CHECK(lt_st_save(p, &t, 1, NULL, 0) == LT_OK, "%s", lt_last_error());
    size_t n0;
    uint8_t *before = st_read(p, &n0);

    float y[2] = {0};
    const char *m_ok[] = {"a", "1"}, *m_null[] = {"a", NULL};
    const char *m_dup[] = {"a", "1", "a", "2"};
    struct {
        lt_st_tensor t[2];
        int n;
        const char *const *meta;
        int n_meta;
        const char *needle;
    } cases[] = {
        {{{.name = "x", .ndim = 1, .shape = {4}, .data = NULL}}, 1, NULL, 0,
         "data is NULL"},
        {{{.name = NULL, .ndim = 1, .shape = {2}, .data = y}}, 1, NULL, 0,
         "NULL name"},
        {{{.name = "__metadata__", .ndim = 1, .shape = {2}, .data = y}}, 1,
         NULL, 0, "reserved"},
        {{{.name = "bad\xff", .ndim = 1, .shape = {2}, .data = y}}, 1, NULL,
         0, "not valid UTF-8"},
        {{{.name = "ov\xc0\xaf", .ndim = 1, .shape = {2}, .data = y}}, 1, NULL,
         0, "not valid UTF-8"},
        {{{.name = "x", .ndim = 7, .data = y}}, 1, NULL, 0, "ndim 7"},
        {{{.name = "x", .ndim = -1, .data = y}}, 1, NULL, 0, "ndim -1"},
        {{{.name = "x", .ndim = 2, .shape = {2, -1}, .data = y}}, 1, NULL, 0,
         "bad dimension 1"},
        {{{.name = "x", .ndim = 1, .shape = {2}, .data = y},
          {.name = "x", .ndim = 1, .shape = {1}, .data = y}}, 2, NULL, 0,
         "duplicate tensor name 'x'"},
        {{{.name = "x", .ndim = 1, .shape = {2}, .data = y}}, 1, m_null, 1,
         "metadata value 0 is NULL"},
        {{{.name = "x", .ndim = 1, .shape = {2}, .data = y}}, 1, m_dup, 2,
         "duplicate metadata key 'a'"},
        {{{.name = "x", .ndim = 1, .shape = {2}, .data = y}}, 1, NULL, 1,
         "bad metadata"},
        {{{.name = "x", .ndim = 1, .shape = {2}, .data = y}}, -1, m_ok, 1,
         "bad tensor list"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lt_status s = lt_st_save(p, cases[i].t, cases[i].n, cases[i].meta,
                                 cases[i].n_meta);
        LT_CHECK(s == LT_ERR_ARG && strstr(lt_last_error(), cases[i].needle) &&
                     strstr(lt_last_error(), p),
                 "case %zu: %s: %s", i, lt_status_name(s), lt_last_error());
        size_t n1;
        uint8_t *after = st_read(p, &n1);
        LT_CHECK(after && n1 == n0 && memcmp(after, before, n0) == 0,
                 "case %zu: old file changed", i);
        LT_CHECK(!st_tmp_left(p), "case %zu: temporary file left", i);
        free(after);
    }
    LT_CHECK(lt_st_save(NULL, &t, 1, NULL, 0) == LT_ERR_ARG, "NULL path");

    /* I/O failures: a missing directory; a path that is a directory (the
     * rename fails after the temporary file was written). */
    LT_CHECK(lt_st_save("/nonexistent/dir/x.safetensors", &t, 1, NULL, 0) ==
                     LT_ERR_IO &&
                 strstr(lt_last_error(), "/nonexistent/dir/x.safetensors"),
             "missing dir: %s", lt_last_error());
    char dir_buf[ST_PATH];
    const char *dir = st_path(dir_buf, "adir");
    mkdir(dir, 0700);
    LT_CHECK(lt_st_save(dir, &t, 1, NULL, 0) == LT_ERR_IO &&
                 strstr(lt_last_error(), dir),
             "rename onto a directory: %s", lt_last_error());
    LT_CHECK(!st_tmp_left(dir), "temporary file left after a failed rename");
    rmdir(dir);
    free(before);
    unlink(p);
}

/* Issue #20 point 8: lethe hash identifies the weights, not the metadata
 * nor the order tensors were written in. */
LT_TEST(st_weights_hash_ignores_metadata)
{
    float a[6] = {1, 2, 3, 4, 5, 6}, b[2] = {-1, 0.5f};
    lt_st_tensor t[2] = {
        {.name = "w", .ndim = 2, .shape = {2, 3}, .data = a},
        {.name = "b", .ndim = 1, .shape = {2}, .data = b}};
    lt_st_tensor r[2] = {t[1], t[0]};
    const char *m1[2] = {"lethe.command", "lethe train --out x"};
    const char *m2[2] = {"lethe.command", "lethe train --out y"};
    char p1b[ST_PATH], p2b[ST_PATH], h1[65], h2[65], h3[65];
    const char *p1 = st_path(p1b, "h1.safetensors");
    const char *p2 = st_path(p2b, "h2.safetensors");
    LT_CHECK(lt_st_save(p1, t, 2, m1, 1) == LT_OK &&
                 lt_st_save(p2, r, 2, m2, 1) == LT_OK, "%s", lt_last_error());
    LT_CHECK(lt_st_weights_sha256(p1, h1) == LT_OK &&
                 lt_st_weights_sha256(p2, h2) == LT_OK && !strcmp(h1, h2) &&
                 strlen(h1) == 64, "same weights: %s vs %s", h1, h2);
    a[5] = 6.0000005f; /* one ulp away */
    LT_CHECK(lt_st_save(p2, t, 2, m1, 1) == LT_OK &&
                 lt_st_weights_sha256(p2, h3) == LT_OK && strcmp(h1, h3),
             "a changed value hashes the same");
    t[0].shape[0] = 3, t[0].shape[1] = 2; /* same bytes, other shape */
    a[5] = 6;
    LT_CHECK(lt_st_save(p2, t, 2, m1, 1) == LT_OK &&
                 lt_st_weights_sha256(p2, h3) == LT_OK && strcmp(h1, h3),
             "a reshaped tensor hashes the same");
    LT_CHECK(lt_st_weights_sha256("/nonexistent.safetensors", h3) == LT_ERR_IO,
             "missing file");
    unlink(p1);
    unlink(p2);
}

LT_TEST_MAIN()
