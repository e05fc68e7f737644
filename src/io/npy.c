/*
 * npy.c - writer of NumPy's .npy format version 1.0: magic, a little-endian
 * header length, a Python-dict header padded with spaces and a newline to
 * a multiple of 64 bytes, then the raw float32 data.
 */
#include "lethe/npy.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

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
    char h[512], tmp[4200];
    size_t hl = lt_npy_header(h, sizeof h - 80, ndim, shape);
    int64_t n = lt_shape_numel(ndim, shape);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return lt_set_error(LT_ERR_IO, "%s: cannot create", tmp);
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                             (unsigned char)(hl & 255), (unsigned char)(hl >> 8)};
    bool ok = fwrite(pre, 1, 10, f) == 10 && fwrite(h, 1, hl, f) == hl &&
              fwrite(data, sizeof(float), (size_t)n, f) == (size_t)n;
    ok = (fflush(f) == 0) && ok;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return lt_set_error(LT_ERR_IO, "%s: write failed", path);
    }
    return LT_OK;
}
