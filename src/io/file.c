/*
 * file.c - whole-file reads and atomic whole-file writes (through
 * lt_atomic_open of atomic.c: a safe temporary, fsync, rename), shared by
 * every reader and writer of small text files (JSON configs, tokenizers,
 * corpora, result tables), the precision and backend every result file
 * records, and "mkdir -p" for the folders they go to.
 */
#include "lethe/io.h"

#include <cjson/cJSON.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

lt_status lt_read_file(const char *path, char **out, size_t *len)
{
    *out = NULL;
    if (len)
        *len = 0;
    FILE *f = path ? fopen(path, "rb") : NULL;
    if (!f)
        return lt_set_error(LT_ERR_IO, "%s: cannot open: %s",
                            path ? path : "(null)", strerror(errno));
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (cap - n < 4096) {
            cap = cap ? 2 * cap : 65536;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                fclose(f);
                return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", path);
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return lt_set_error(LT_ERR_IO, "%s: read error", path);
    }
    buf[n] = '\0';
    *out = buf;
    if (len)
        *len = n;
    return LT_OK;
}

lt_status lt_write_file_atomic(const char *path, const void *data, size_t n)
{
    lt_atomic_file *a;
    lt_status st = lt_atomic_open(path, &a);
    if (st != LT_OK)
        return st;
    if ((st = lt_atomic_write(a, data, n)) != LT_OK) {
        lt_atomic_abort(a);
        return st;
    }
    return lt_atomic_commit(a);
}

lt_status lt_write_text_atomic(const char *path, const char *text)
{
    if (!text)
        return lt_set_error(LT_ERR_ARG, "%s: no text to write",
                            path ? path : "(null)");
    size_t len = strlen(text);
    char *buf = malloc(len + 1);
    if (!buf)
        return lt_set_error(LT_ERR_NOMEM, "%s: out of memory",
                            path ? path : "(null)");
    memcpy(buf, text, len);
    buf[len] = '\n';
    lt_status st = lt_write_file_atomic(path, buf, len + 1);
    free(buf);
    return st;
}

static bool file_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

lt_status lt_mkdirs(const char *dir)
{
    char p[4096];
    if (!dir || !*dir)
        return lt_set_error(LT_ERR_ARG, "mkdirs: no folder given");
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p)
        return lt_set_error(LT_ERR_ARG, "%s: path too long", dir);
    for (char *s = p + 1;; s++) {
        if (*s && *s != '/')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0777) == 0)
            lt_commit_note_dir(p);
        else if (errno != EEXIST || !file_is_dir(p))
            return lt_set_error(LT_ERR_IO, "%s: cannot create folder %s: %s",
                                dir, p, errno == EEXIST ? "not a folder"
                                                        : strerror(errno));
        *s = c;
        if (!c)
            return LT_OK;
    }
}

bool lt_json_add_precision(cJSON *o, lt_precision p)
{
    return o && cJSON_AddStringToObject(o, "precision", lt_precision_name(
                   lt_precision_resolve(p))) &&
           cJSON_AddStringToObject(o, "backend", lt_backend_name());
}

lt_status lt_json_load(const char *path, struct cJSON **root)
{
    char *text;
    size_t n;
    *root = NULL;
    lt_status st = lt_read_file(path, &text, &n);
    if (st != LT_OK)
        return st;
    *root = cJSON_ParseWithLength(text, n);
    free(text);
    return *root ? LT_OK : lt_set_error(LT_ERR_FORMAT, "%s: not JSON", path);
}

lt_status lt_json_save(const char *path, struct cJSON *root, bool built)
{
    char *text = root && built ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!text)
        return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", path);
    lt_status st = lt_write_file_atomic(path, text, strlen(text));
    cJSON_free(text);
    return st;
}
