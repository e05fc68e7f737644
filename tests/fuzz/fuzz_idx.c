/*
 * fuzz_idx.c - libFuzzer harness of the IDX reader (lt_idx_load: MNIST /
 * Fashion-MNIST arrays, raw or gzip; it reads a path, so the input is
 * written to a scratch file).
 *
 * Oracles, when the input loads: 1 <= ndim <= 4, every dimension >= 1,
 * numel is their product, and the file is exactly the header plus numel
 * bytes, which are the data. For an input that is not itself gzip (first
 * byte not 0x1f), the same bytes gzip-compressed must give the same
 * status and, on success, the same array.
 */
#include "fuzz.h"

#include <zlib.h>

static lt_status fz_load(const char *name, const void *data, size_t n,
                         lt_idx *out)
{
    const char *p = fz_write(name, data, n);
    lt_status s = lt_idx_load(p, out);
    FZ_CHECK(s == LT_OK || (out->data == NULL && out->numel == 0),
             "failed load left data behind");
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lt_idx a;
    lt_status s = fz_load("raw.idx", data, size, &a);
    bool gz = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
    if (s == LT_OK) {
        FZ_CHECK(a.ndim >= 1 && a.ndim <= 4, "ndim %d", a.ndim);
        int64_t n = 1;
        for (int i = 0; i < a.ndim; i++) {
            FZ_CHECK(a.shape[i] >= 1, "dim %d is %lld", i,
                     (long long)a.shape[i]);
            n *= a.shape[i];
        }
        FZ_CHECK(n == a.numel, "numel %lld != %lld", (long long)a.numel,
                 (long long)n);
        if (!gz) {
            size_t hdr = 4 + 4 * (size_t)a.ndim;
            FZ_CHECK(size == hdr + (size_t)a.numel, "size %zu, header %zu, "
                     "numel %lld", size, hdr, (long long)a.numel);
            FZ_CHECK(!memcmp(a.data, data + hdr, (size_t)a.numel),
                     "data differs from the file");
        }
    } else {
        FZ_CHECK(s == LT_ERR_FORMAT, "unexpected status %s",
                 lt_status_name(s));
    }
    if (!gz && size > 0) {
        /* the same bytes gzip-compressed (a gzip header: windowBits 31) */
        z_stream z;
        memset(&z, 0, sizeof z);
        FZ_CHECK(deflateInit2(&z, 6, Z_DEFLATED, 31, 8,
                              Z_DEFAULT_STRATEGY) == Z_OK, "deflateInit2");
        uLong cap = deflateBound(&z, (uLong)size);
        uint8_t *buf = malloc(cap);
        FZ_CHECK(buf != NULL, "out of memory");
        z.next_in = (Bytef *)data;
        z.avail_in = (uInt)size;
        z.next_out = buf;
        z.avail_out = (uInt)cap;
        FZ_CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END, "deflate");
        size_t zn = cap - z.avail_out;
        deflateEnd(&z);
        lt_idx b;
        lt_status t = fz_load("raw.idx.gz", buf, zn, &b);
        free(buf);
        FZ_CHECK(t == s, "raw %s but gzip %s", lt_status_name(s),
                 lt_status_name(t));
        if (s == LT_OK) {
            FZ_CHECK(a.ndim == b.ndim && a.numel == b.numel,
                     "gzip changes the shape");
            for (int i = 0; i < a.ndim; i++)
                FZ_CHECK(a.shape[i] == b.shape[i], "gzip changes dim %d", i);
            FZ_CHECK(!memcmp(a.data, b.data, (size_t)a.numel),
                     "gzip changes the data");
        }
        lt_idx_free(&b);
    }
    lt_idx_free(&a);
    return 0;
}
