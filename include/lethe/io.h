/*
 * lethe/io.h - file formats (io layer). So far: IDX, the format of MNIST
 * and Fashion-MNIST, raw or gzip-compressed.
 */
#ifndef LETHE_IO_H
#define LETHE_IO_H

#include "lethe/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An IDX array of unsigned bytes (the only type MNIST-style files use). */
typedef struct {
    int ndim;
    int64_t shape[4];
    int64_t numel;
    uint8_t *data; /* malloc'd; free with lt_idx_free */
} lt_idx;

/* Read an IDX file of ubyte type (magic 0x00000803 / 0x00000801, ...),
 * gzip-compressed or raw. Validates the magic, the type, the dims and that
 * the payload is exactly as long as the header says. LT_ERR_IO if it cannot
 * be opened, LT_ERR_FORMAT (message names the file) if corrupt. */
lt_status lt_idx_load(const char *path, lt_idx *out);
void lt_idx_free(lt_idx *x);

#ifdef __cplusplus
}
#endif
#endif
