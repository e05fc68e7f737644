/*
 * npy.c - writer of NumPy's .npy format version 1.0: magic, a little-endian
 * header length, a Python-dict header padded with spaces and a newline to
 * a multiple of 64 bytes, then the raw float32 data, written atomically
 * (lt_atomic_open).
 */
#include "lethe/npy.h"
#include "lethe/io.h"

#include <stdio.h>
#include <string.h>

static size_t lt_npy_header(char *h, size_t cap, int ndim, const int64_t *shape)
{
    char dims[256] = "";
    size_t k = 0;
    for (int i = 0; i < ndim; i++)
        k += (size_t)snprintf(dims + k, sizeof dims - k, "%lld,%s",
                              (long long)shape[i], i + 1 < ndim ? " " : "");
    if (ndim > 1 && k > 0)
        dims[k - 1] = '\0'; /* "(2, 3)" but "(5,)" */
    int n = snprintf(h, cap, "{'descr': '<f4', 'fortran_order': False, "
                     "'shape': (%s), }", dims);
    size_t total = 10 + (size_t)n + 1, pad = (64 - total % 64) % 64;
    memset(h + n, ' ', pad);
    h[(size_t)n + pad] = '\n';
    return (size_t)n + pad + 1;
}

lt_status lt_npy_save(const char *path, const float *data, int ndim,
                      const int64_t *shape)
{
    if (!path || !data || ndim < 1 || ndim > LT_MAX_DIMS)
        return lt_set_error(LT_ERR_ARG, "npy: bad arguments");
    char h[512];
    size_t hl = lt_npy_header(h, sizeof h - 80, ndim, shape);
    int64_t n = lt_shape_numel(ndim, shape);
    lt_atomic_file *a;
    lt_status st = lt_atomic_open(path, &a);
    if (st != LT_OK)
        return st;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                             (unsigned char)(hl & 255), (unsigned char)(hl >> 8)};
    st = lt_atomic_write(a, pre, 10);
    if (st == LT_OK)
        st = lt_atomic_write(a, h, hl);
    if (st == LT_OK)
        st = lt_atomic_write(a, data, sizeof(float) * (size_t)n);
    if (st != LT_OK) {
        lt_atomic_abort(a);
        return st;
    }
    return lt_atomic_commit(a);
}
