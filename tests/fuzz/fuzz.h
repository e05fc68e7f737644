/*
 * fuzz.h - shared helpers of the libFuzzer harnesses in tests/fuzz/: a
 * private scratch folder for loaders that only take a path, and the
 * oracle check that aborts (so libFuzzer reports a crash) when a property
 * a loader promises does not hold.
 *
 * Every harness defines LLVMFuzzerTestOneInput and includes this header
 * once. The same file builds into a libFuzzer binary (clang,
 * -DLETHE_FUZZ=ON) and into a replay program (replay.c, any compiler)
 * that ctest runs over the committed corpus.
 */
#ifndef LETHE_FUZZ_H
#define LETHE_FUZZ_H

#include "lethe/lethe.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort with a message when an oracle fails: libFuzzer saves the input. */
#define FZ_CHECK(cond, ...)                                                 \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "%s:%d: oracle failed: %s: ", __FILE__,         \
                    __LINE__, #cond);                                       \
            fprintf(stderr, __VA_ARGS__);                                   \
            fprintf(stderr, " (last error: %s)\n", lt_last_error());        \
            abort();                                                        \
        }                                                                   \
    } while (0)

static char fz_dir_buf[256];

/* Remove path: a file, or a folder and what it holds. */
static inline void fz_remove(const char *path)
{
    if (unlink(path) == 0)
        return;
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char sub[1024];
            if (snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) <
                (int)sizeof sub)
                fz_remove(sub);
        }
        closedir(d);
    }
    rmdir(path);
}

static inline void fz_rmdir(void)
{
    if (fz_dir_buf[0])
        fz_remove(fz_dir_buf);
}

/* The process's scratch folder ($TMPDIR or /tmp, removed at exit). */
static inline const char *fz_dir(void)
{
    if (!fz_dir_buf[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(fz_dir_buf, sizeof fz_dir_buf, "%s/lethe-fuzz-XXXXXX",
                 t && *t ? t : "/tmp");
        if (!mkdtemp(fz_dir_buf)) {
            perror("fuzz: mkdtemp");
            abort();
        }
        atexit(fz_rmdir);
    }
    return fz_dir_buf;
}

/* dir/name into a static buffer (one of 4, so a few can be alive). */
static inline const char *fz_path(const char *name)
{
    static char buf[4][512];
    static int k;
    char *p = buf[k++ & 3];
    snprintf(p, sizeof buf[0], "%s/%s", fz_dir(), name);
    return p;
}

/* Write n bytes to dir/name (replacing it); returns the path. */
static inline const char *fz_write(const char *name, const void *data, size_t n)
{
    const char *path = fz_path(name);
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0) {
        perror(path);
        abort();
    }
    return path;
}

/* A NUL-terminated copy of data (malloc'd). */
static inline char *fz_str(const uint8_t *data, size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        abort();
    if (n)
        memcpy(s, data, n);
    s[n] = '\0';
    return s;
}

/* Bitwise equality of float arrays (NaN payloads included). */
static inline int fz_same_floats(const float *a, const float *b, int64_t n)
{
    return n == 0 || !memcmp(a, b, (size_t)n * sizeof(float));
}

#endif
