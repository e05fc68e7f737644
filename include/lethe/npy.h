/*
 * lethe/npy.h - NumPy .npy output (io layer), so anyone can check Lethe's
 * numbers with their own tools: float32 little-endian, C order.
 */
#ifndef LETHE_NPY_H
#define LETHE_NPY_H

#include "lethe/core.h"

/* Write data (shape[0] x ... x shape[ndim-1] floats) to path atomically
 * (lt_atomic_open of io.h: a safe temporary, fsync, rename). */
LT_API lt_status lt_npy_save(const char *path, const float *data, int ndim,
                             const int64_t *shape);

#endif
