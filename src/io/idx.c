/*
 * idx.c - reader of the IDX format (MNIST, Fashion-MNIST): a big-endian
 * header (two zero bytes, a type byte, a dimension count, then one 32-bit
 * size per dimension) followed by the raw array. zlib's gzread reads both
 * gzip-compressed and plain files. Everything in the header is checked
 * before it is trusted, and the file's size before the data is allocated.
 */
#include "lethe/io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define LT_IDX_MAX_BYTES ((int64_t)1 << 32)

static bool lt_gz_read(gzFile f, void *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        unsigned chunk = n - got > (1u << 30) ? (1u << 30) : (unsigned)(n - got);
        int r = gzread(f, (char *)p + got, chunk);
        if (r <= 0)
            return false;
        got += (size_t)r;
    }
    return true;
}

static uint32_t lt_be32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 |
           b[3];
}

static lt_status lt_idx_header(gzFile f, const char *path, lt_idx *out)
{
    uint8_t h[4], d[4];
    if (!lt_gz_read(f, h, 4))
        return lt_set_error(LT_ERR_FORMAT, "%s: too short for an IDX header",
                            path);
    if (h[0] != 0 || h[1] != 0 || h[3] < 1 || h[3] > 4)
        return lt_set_error(LT_ERR_FORMAT, "%s: not an IDX file (bad magic "
                            "%02x%02x%02x%02x)", path, h[0], h[1], h[2], h[3]);
    if (h[2] != 0x08)
        return lt_set_error(LT_ERR_FORMAT, "%s: IDX type 0x%02x is not "
                            "unsigned byte (0x08)", path, h[2]);
    out->ndim = h[3];
    out->numel = 1;
    for (int i = 0; i < out->ndim; i++) {
        if (!lt_gz_read(f, d, 4))
            return lt_set_error(LT_ERR_FORMAT, "%s: truncated IDX header",
                                path);
        out->shape[i] = lt_be32(d);
        /* checked before the product is formed, so it cannot overflow */
        if (out->shape[i] == 0 ||
            out->shape[i] > LT_IDX_MAX_BYTES / out->numel)
            return lt_set_error(LT_ERR_FORMAT, "%s: IDX dimension %d has "
                                "implausible size %lld", path, i,
                                (long long)out->shape[i]);
        out->numel *= out->shape[i];
    }
    return LT_OK;
}

/* Before anything is allocated: can a file of size bytes hold the header
 * and the numel bytes it promises? A plain file must be exactly that long;
 * deflate expands at most 1032:1, which bounds what a gzip file holds. */
static lt_status lt_idx_check_size(gzFile f, const char *path,
                                   const lt_idx *x, int64_t size)
{
    int64_t want = 4 + 4 * (int64_t)x->ndim + x->numel;
    if (gzdirect(f)) {
        if (size < want)
            return lt_set_error(LT_ERR_FORMAT, "%s: truncated: the header "
                                "promises %lld bytes of data, the file holds "
                                "%lld", path, (long long)x->numel,
                                (long long)(size - (want - x->numel)));
        if (size > want)
            return lt_set_error(LT_ERR_FORMAT, "%s: trailing bytes after "
                                "the %lld the header promises", path,
                                (long long)x->numel);
    } else if (want > size * 1032 + 1024) {
        return lt_set_error(LT_ERR_FORMAT, "%s: truncated: the header "
                            "promises %lld bytes of data, more than a gzip "
                            "file of %lld bytes can hold", path,
                            (long long)x->numel, (long long)size);
    }
    return LT_OK;
}

lt_status lt_idx_load(const char *path, lt_idx *out)
{
    memset(out, 0, sizeof *out);
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return lt_set_error(LT_ERR_IO, "%s: cannot open: %s",
                            path ? path : "(null)", strerror(e));
    }
    gzFile f = gzdopen(fd, "rb");
    if (!f) {
        close(fd);
        return lt_set_error(LT_ERR_IO, "%s: cannot open", path);
    }
    lt_status s = lt_idx_header(f, path, out);
    if (s == LT_OK && S_ISREG(st.st_mode))
        s = lt_idx_check_size(f, path, out, (int64_t)st.st_size);
    if (s == LT_OK) {
        out->data = malloc((size_t)out->numel);
        if (!out->data)
            s = lt_set_error(LT_ERR_NOMEM, "%s: cannot allocate %lld bytes",
                             path, (long long)out->numel);
        else if (!lt_gz_read(f, out->data, (size_t)out->numel))
            s = lt_set_error(LT_ERR_FORMAT, "%s: truncated: the header "
                             "promises %lld bytes of data", path,
                             (long long)out->numel);
        else {
            uint8_t extra;
            if (gzread(f, &extra, 1) > 0)
                s = lt_set_error(LT_ERR_FORMAT, "%s: trailing bytes after "
                                 "the %lld the header promises", path,
                                 (long long)out->numel);
        }
    }
    gzclose(f);
    if (s != LT_OK)
        lt_idx_free(out);
    return s;
}

void lt_idx_free(lt_idx *x)
{
    free(x->data);
    memset(x, 0, sizeof *x);
}
