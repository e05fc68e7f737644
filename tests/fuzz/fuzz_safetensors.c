/*
 * fuzz_safetensors.c - libFuzzer harness of the safetensors loader
 * (lt_st_load, which reads a path: the input is written to a scratch file).
 *
 * Oracles, when the input loads:
 *   - the tensors are sorted by name without duplicates, numel is the
 *     product of the shape, lt_st_get finds each one, metadata is sorted;
 *   - lt_st_save of everything loaded, then lt_st_load, gives the same
 *     names, shapes, float bits and metadata (a loaded name the writer
 *     refuses - not UTF-8 - is tolerated only as LT_ERR_ARG);
 *   - saving the reloaded file again gives a byte-identical file;
 *   - lt_st_open (mapped) accepts exactly the inputs lt_st_load accepts,
 *     and lt_st_copy_f32 gives the same float bits for every tensor.
 */
#include "fuzz.h"

static int64_t fz_numel(const lt_st_tensor *t)
{
    int64_t n = 1;
    for (int d = 0; d < t->ndim; d++)
        n *= t->shape[d];
    return n;
}

/* Save f to path; returns the status. */
static lt_status fz_save(const lt_st_file *f, const char *path)
{
    int n = lt_st_count(f), nm = lt_st_meta_count(f);
    lt_st_tensor *t = calloc((size_t)n + 1, sizeof *t);
    const char **meta = calloc(2 * (size_t)nm + 1, sizeof *meta);
    FZ_CHECK(t && meta, "out of memory");
    for (int i = 0; i < n; i++)
        t[i] = *lt_st_at(f, i);
    for (int i = 0; i < nm; i++) {
        meta[2 * i] = lt_st_meta_key(f, i);
        meta[2 * i + 1] = lt_st_meta_value(f, i);
    }
    lt_status s = lt_st_save(path, t, n, meta, nm);
    free(t);
    free(meta);
    return s;
}

static void fz_same_file(const lt_st_file *a, const lt_st_file *b)
{
    FZ_CHECK(lt_st_count(a) == lt_st_count(b), "count %d != %d",
             lt_st_count(a), lt_st_count(b));
    for (int i = 0; i < lt_st_count(a); i++) {
        const lt_st_tensor *x = lt_st_at(a, i), *y = lt_st_at(b, i);
        FZ_CHECK(!strcmp(x->name, y->name), "name %d differs", i);
        FZ_CHECK(x->ndim == y->ndim && x->numel == y->numel,
                 "tensor %s: ndim/numel differ", x->name);
        for (int d = 0; d < x->ndim; d++)
            FZ_CHECK(x->shape[d] == y->shape[d], "tensor %s: shape differs",
                     x->name);
        FZ_CHECK(fz_same_floats(x->data, y->data, x->numel),
                 "tensor %s: data differs after save/load", x->name);
    }
    FZ_CHECK(lt_st_meta_count(a) == lt_st_meta_count(b), "meta count differs");
    for (int i = 0; i < lt_st_meta_count(a); i++) {
        FZ_CHECK(!strcmp(lt_st_meta_key(a, i), lt_st_meta_key(b, i)),
                 "meta key %d differs", i);
        FZ_CHECK(!strcmp(lt_st_meta_value(a, i), lt_st_meta_value(b, i)),
                 "meta value %d differs", i);
    }
}

static void fz_check_loaded(const lt_st_file *f)
{
    int n = lt_st_count(f);
    FZ_CHECK(n >= 0, "negative count");
    for (int i = 0; i < n; i++) {
        const lt_st_tensor *t = lt_st_at(f, i);
        FZ_CHECK(t && t->name, "tensor %d missing", i);
        FZ_CHECK(t->ndim >= 0 && t->ndim <= LT_MAX_DIMS, "ndim %d", t->ndim);
        FZ_CHECK(t->numel == fz_numel(t), "tensor %s: numel %lld",
                 t->name, (long long)t->numel);
        FZ_CHECK(t->numel == 0 || t->data, "tensor %s: no data", t->name);
        if (i > 0)
            FZ_CHECK(strcmp(lt_st_at(f, i - 1)->name, t->name) < 0,
                     "names not sorted/unique at %d", i);
        FZ_CHECK(lt_st_get(f, t->name) == t, "lt_st_get(%s)", t->name);
    }
    for (int i = 1; i < lt_st_meta_count(f); i++)
        FZ_CHECK(strcmp(lt_st_meta_key(f, i - 1), lt_st_meta_key(f, i)) < 0,
                 "metadata keys not sorted/unique at %d", i);
    for (int i = 0; i < lt_st_meta_count(f); i++)
        FZ_CHECK(lt_st_meta(f, lt_st_meta_key(f, i)) == lt_st_meta_value(f, i),
                 "lt_st_meta(%s)", lt_st_meta_key(f, i));
}

/* The mapped open of path agrees with the load f (NULL: it failed). */
static void fz_check_mapped(const char *path, const lt_st_file *f)
{
    lt_st_file *m = NULL;
    lt_status s = lt_st_open(path, &m);
    FZ_CHECK((s == LT_OK) == (f != NULL), "lt_st_open %s where lt_st_load "
             "%s", lt_status_name(s), f ? "succeeded" : "failed");
    for (int i = 0; m && f && i < lt_st_count(f); i++) {
        const lt_st_tensor *t = lt_st_at(m, i);
        float *x = malloc((size_t)t->numel * sizeof(float) + 1);
        FZ_CHECK(x && lt_st_copy_f32(m, t, x) == LT_OK, "copy %s", t->name);
        FZ_CHECK(fz_same_floats(x, lt_st_at(f, i)->data, t->numel),
                 "tensor %s: mapped values differ", t->name);
        free(x);
    }
    lt_st_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = fz_write("in.safetensors", data, size);
    lt_st_file *f = NULL;
    lt_status s = lt_st_load(in, &f);
    fz_check_mapped(in, f);
    FZ_CHECK((s == LT_OK) == (f != NULL), "status %d with file %p", s,
             (void *)f);
    if (s != LT_OK) {
        FZ_CHECK(s == LT_ERR_FORMAT || s == LT_ERR_NOMEM || s == LT_ERR_IO,
                 "unexpected status %s", lt_status_name(s));
        return 0;
    }
    fz_check_loaded(f);
    const char *p1 = fz_path("rt1.safetensors"), *p2 = fz_path("rt2.safetensors");
    s = fz_save(f, p1);
    if (s != LT_OK) {
        FZ_CHECK(s == LT_ERR_ARG, "save of a loaded file: %s",
                 lt_status_name(s));
        lt_st_free(f);
        return 0;
    }
    lt_st_file *g = NULL;
    s = lt_st_load(p1, &g);
    FZ_CHECK(s == LT_OK, "reload of a saved file failed");
    fz_same_file(f, g);
    FZ_CHECK(fz_save(g, p2) == LT_OK, "second save failed");
    char *b1 = NULL, *b2 = NULL;
    size_t n1 = 0, n2 = 0;
    FZ_CHECK(lt_read_file(p1, &b1, &n1) == LT_OK &&
             lt_read_file(p2, &b2, &n2) == LT_OK, "read back");
    FZ_CHECK(n1 == n2 && !memcmp(b1, b2, n1), "save is not deterministic");
    free(b1);
    free(b2);
    lt_st_free(g);
    lt_st_free(f);
    return 0;
}
