/*
 * lethe/io.h - file formats (io layer): whole-file reads and atomic
 * writes, folder creation, and IDX, the format of MNIST and Fashion-MNIST, raw or
 * gzip-compressed. (safetensors.h, npy.h and tokenizer.h hold the others.)
 */
#ifndef LETHE_IO_H
#define LETHE_IO_H

#include "lethe/core.h"

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Read the whole file at path into *out (malloc'd, NUL-terminated; *len
 * bytes not counting the NUL, len may be NULL). LT_ERR_IO naming the file
 * if it cannot be opened or read. */
LT_API lt_status lt_read_file(const char *path, char **out, size_t *len);
/* ---- safe atomic writes: the one way Lethe writes a file ----------------
 * lt_atomic_open creates a temporary "<path>.tmp.<16 random hex digits>" in
 * the target's folder with O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC and mode
 * 0666 less the umask (so a file or symlink planted at any name is never
 * followed or reused). The caller writes it (lt_atomic_write or stdio on
 * lt_atomic_stream), then lt_atomic_commit flushes it, fsyncs it, renames it
 * over path and fsyncs the folder (best effort); on any error, or with
 * lt_atomic_abort, the temporary is removed and path keeps its old content.
 * Errors are LT_ERR_IO naming path. While open, the temporary is listed in
 * a process-wide table (64 entries) that the handlers of
 * lt_install_cleanup_handlers() empty on a signal. */
typedef struct lt_atomic_file lt_atomic_file;
LT_API lt_status lt_atomic_open(const char *path, lt_atomic_file **out);
/* The temporary as a stdio stream (write errors are caught at commit). */
LT_API FILE *lt_atomic_stream(lt_atomic_file *a);
/* Append n bytes; after a failure every later call and the commit fail. */
LT_API lt_status lt_atomic_write(lt_atomic_file *a, const void *data,
                                 size_t n);
/* Flush, fsync, rename over the target; frees a whether or not it works. */
LT_API lt_status lt_atomic_commit(lt_atomic_file *a);
/* Remove the temporary and free a (NULL is a no-op). */
LT_API void lt_atomic_abort(lt_atomic_file *a);
/* ---- SHA-256 (sha256.c): identities recorded in artefacts --------------
 * lt_sha256 writes the 64 lowercase hex digits of data's hash and a NUL to
 * hex; the streaming form is init, update (any number), hex (once). */
typedef struct {
    uint32_t h[8];
    uint64_t n;
    size_t fill;
    uint8_t buf[64];
} lt_sha256_ctx;
LT_API void lt_sha256(const void *data, size_t n, char hex[65]);
LT_API void lt_sha256_init(lt_sha256_ctx *s);
LT_API void lt_sha256_update(lt_sha256_ctx *s, const void *data, size_t n);
LT_API void lt_sha256_hex(lt_sha256_ctx *s, char hex[65]);

/* ---- commit sets: all the outputs of a command, or none ----------------
 * Between lt_commit_begin and lt_commit_end, lt_atomic_commit (so every
 * writer of Lethe) stages each finished file: written, flushed and fsynced
 * under its temporary name, but not renamed; lt_remove_output defers a
 * removal, and lt_mkdirs notes the folders it creates. lt_commit_end(true)
 * then renames every staged file over its target in the order staged (and
 * does the removals); lt_commit_end(false) removes every staged temporary
 * and the (empty) folders made, so every target keeps its old content.
 * A path staged twice keeps the later content. A file staged is not
 * visible under its name until the end: open a set only around the final
 * writes of a command, never around writes it reads back (caches, resume
 * checkpoints). One set per process, used from one thread; staged
 * temporaries are still removed by the signal handlers. lt_commit_begin:
 * LT_ERR_STATE if a set is open; lt_commit_end(true): LT_ERR_IO naming the
 * first file that could not be renamed (those staged after it are removed;
 * a rename fails only if the folder changed under the command). */
LT_API lt_status lt_commit_begin(void);
LT_API lt_status lt_commit_end(bool commit);
LT_API bool lt_commit_active(void);
/* Remove path (missing is fine) now, or at lt_commit_end(true) while a
 * commit set is open. LT_ERR_IO naming path. */
LT_API lt_status lt_remove_output(const char *path);
/* For lt_mkdirs: note a folder it created, removed (if empty) when the open
 * commit set is abandoned. A no-op with no set open. */
LT_API void lt_commit_note_dir(const char *dir);
/* For programs (the lethe command calls it first): on SIGINT, SIGTERM and
 * SIGHUP, unlink every temporary in flight, then let the signal's default
 * action run (the handler is async-signal-safe: unlink from a fixed table,
 * then re-raise). A signal that is already ignored or handled is left
 * alone. LT_ERR_IO if sigaction fails. */
LT_API lt_status lt_install_cleanup_handlers(void);

/* Write n bytes to path atomically (one lt_atomic_open/write/commit); on
 * failure the temporary is removed and path is untouched. */
LT_API lt_status lt_write_file_atomic(const char *path, const void *data,
                                      size_t n);
/* Print the cJSON document root (formatted) to path atomically; root is
 * taken over and deleted. A NULL root, or built false (the document could
 * not be built), is LT_ERR_NOMEM naming path and writes nothing. */
struct cJSON;
LT_API lt_status lt_json_save(const char *path, struct cJSON *root,
                              bool built);
/* Parse the JSON file path into *root (the caller's, cJSON_Delete).
 * LT_ERR_IO naming path when it cannot be read, LT_ERR_FORMAT "PATH: not
 * JSON" when it does not parse; *root is NULL then. */
LT_API lt_status lt_json_load(const char *path, struct cJSON **root);
/* Add "precision" (of p resolved: LT_PRECISION_DEFAULT is the process
 * default, "fp32" or "bf16") and "backend" (lt_backend_name()) to the
 * object o: the two fields every result file records of the run that made
 * it. False when o is NULL or out of memory. */
LT_API bool lt_json_add_precision(struct cJSON *o, lt_precision p);
/* The NUL-terminated text plus a final newline to path, atomically (as
 * lt_write_file_atomic). */
LT_API lt_status lt_write_text_atomic(const char *path, const char *text);
/* Create the folder dir and every missing parent ("mkdir -p", mode 0777
 * less the umask). LT_OK if it exists already; LT_ERR_IO naming the
 * folder that cannot be made (or a part of the path that is a file);
 * LT_ERR_ARG for a NULL, empty or over-long path. */
LT_API lt_status lt_mkdirs(const char *dir);
/* Whether paths a and b name the same file (path.c): when both exist,
 * the same device and inode (a symlink or a hard link to a file is that
 * file); when neither does, the same absolute path once every existing
 * folder of each is resolved (so "d/./x" and "d/x" are one file not yet
 * written). A path that exists is never the same as one that does not;
 * NULL or empty is the same as nothing. The commands compare each output
 * with their inputs and other outputs with it before doing any work. */
LT_API bool lt_same_file(const char *a, const char *b);

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
LT_API lt_status lt_idx_load(const char *path, lt_idx *out);
LT_API void lt_idx_free(lt_idx *x);

#ifdef __cplusplus
}
#endif
#endif
