/*
 * lethe/safetensors.h - checkpoints in the safetensors format (io layer).
 *
 * A safetensors file is: an 8-byte little-endian header length N, N bytes
 * of JSON
 *     {"__metadata__": {"key": "value", ...},
 *      "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
 *      ...}
 * then the data buffer; offsets are relative to the start of the buffer and
 * the tensors must cover it exactly (no gaps, no overlap).
 *
 * Loading converts every tensor to float32. Supported dtypes: F32, F16,
 * BF16 (exact), F64 (rounded to nearest float), I64, I32, I16, I8, U64, U32,
 * U16, U8 and BOOL (converted to the nearest float: integers beyond 2^24
 * lose precision). Any other dtype (F8_*, C64, ...) is LT_ERR_FORMAT.
 *
 * Scalars (shape []) keep ndim 0 and have numel 1; tensors with a zero
 * dimension have numel 0. Both round-trip through lt_st_save unchanged.
 *
 * Errors follow the library's conventions: a status is returned, and
 * lt_last_error() holds a message that names the file. LT_ERR_IO: the file
 * cannot be opened, read or written; LT_ERR_FORMAT: it is truncated or
 * corrupt (every field of the header is checked before it is trusted);
 * LT_ERR_ARG: bad arguments; LT_ERR_NOMEM: out of memory.
 */
#ifndef LETHE_SAFETENSORS_H
#define LETHE_SAFETENSORS_H

#include "lethe/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One named float32 tensor. For a loaded file every field is owned by the
 * lt_st_file (valid until lt_st_free; data may be modified in place; data
 * is NULL for a file opened with lt_st_open). For
 * lt_st_save the caller fills name, ndim, shape and data (numel is
 * ignored there: it is computed from the shape). */
typedef struct {
    const char *name;
    int ndim;                   /* 0 (scalar) .. LT_MAX_DIMS */
    int64_t shape[LT_MAX_DIMS];
    int64_t numel;
    float *data;                /* numel floats, row-major */
} lt_st_tensor;

/* A loaded file (opaque). */
typedef struct lt_st_file lt_st_file;

/* Read and validate a whole safetensors file, converting every tensor to
 * float32. On success *out is a new file (free with lt_st_free); on error
 * *out is NULL. */
LT_API lt_status lt_st_load(const char *path, lt_st_file **out);
/* Open a file without reading its data: the header is checked as by
 * lt_st_load, the file is memory-mapped read-only and every tensor's data
 * is NULL; lt_st_copy_f32 (or lt_st_read_into) converts one tensor from
 * the mapping into the caller's memory and releases the pages it read, so
 * loading N bytes of weights into their destination needs no second copy
 * of them (float32 or raw). The file must not change while it is open. */
LT_API lt_status lt_st_open(const char *path, lt_st_file **out);
/* The values of tensor t of f (a pointer from lt_st_at / lt_st_get) as
 * float32 into dst (t->numel floats), from memory or from the mapping. */
LT_API lt_status lt_st_copy_f32(const lt_st_file *f, const lt_st_tensor *t,
                                float *dst);
LT_API void lt_st_free(lt_st_file *f);

/* Tensors, sorted by name (byte order, as strcmp). lt_st_at returns NULL
 * and sets LT_ERR_ARG if i is out of range. */
LT_API int lt_st_count(const lt_st_file *f);
LT_API const lt_st_tensor *lt_st_at(const lt_st_file *f, int i);
/* The tensor called name, or NULL with LT_ERR_ARG ("no tensor ...") set. */
LT_API const lt_st_tensor *lt_st_get(const lt_st_file *f, const char *name);
/* Copy the tensor called name into dst, whose shape must be the same
 * (LT_ERR_ARG if absent, LT_ERR_SHAPE if the shapes differ). */
LT_API lt_status lt_st_read_into(const lt_st_file *f, const char *name,
                                 lt_tensor *dst);

/* The __metadata__ entries, sorted by key. lt_st_meta returns the value
 * of key, or NULL (no error set) if the file has no such key. */
LT_API int lt_st_meta_count(const lt_st_file *f);
LT_API const char *lt_st_meta_key(const lt_st_file *f, int i);
LT_API const char *lt_st_meta_value(const lt_st_file *f, int i);
LT_API const char *lt_st_meta(const lt_st_file *f, const char *key);
/* The identity of a checkpoint's weights, whatever its metadata (command
 * line, paths, commit): the SHA-256 (64 hex digits) of every tensor in
 * name order - its name and a NUL, its number of dims and its shape as
 * little-endian int64, its values as little-endian float32 - written to
 * hex. A file converted to another dtype hashes the same when its values
 * are exact in float32. Errors as lt_st_load. `lethe hash` prints it. */
LT_API lt_status lt_st_weights_sha256(const char *path, char hex[65]);

/* A tensor entry for lt_st_save that describes t under name (no copy). */
LT_API lt_st_tensor lt_st_entry(const char *name, const lt_tensor *t);

/* Write n tensors (F32, sorted by name, header padded with spaces to a
 * multiple of 8 bytes) and n_meta metadata pairs (meta[2*i] is a key,
 * meta[2*i+1] its value; meta may be NULL when n_meta is 0).
 *
 * Every argument is checked first (LT_ERR_ARG: NULL name, data or meta
 * string, a name that is reserved ("__metadata__"), duplicated or
 * not valid UTF-8, a bad ndim or a negative dimension). The file is then
 * written to a safe temporary (lt_atomic_open of io.h), flushed with fsync
 * and renamed over path, so an existing file at path is either replaced
 * whole or left untouched.
 * LT_ERR_IO if any step fails (the temporary file is removed). */
LT_API lt_status lt_st_save(const char *path, const lt_st_tensor *t, int n,
                            const char *const *meta, int n_meta);

#ifdef __cplusplus
}
#endif
#endif
