/*
 * path.c - file identity (lethe/io.h): whether two paths name the same
 * file, so that a command can refuse an output that would overwrite one
 * of its inputs or another of its outputs before it does any work.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include "lethe/io.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

/* The absolute path of path with every existing part resolved (symlinks,
 * "." and ".."); the parts that do not exist yet are appended as given,
 * "." dropped and ".." taking off the part before it. false when it
 * cannot be resolved (too long, unreadable folder). */
static bool path_resolve(const char *path, char *out, size_t n, int depth)
{
    char *r = realpath(path, NULL);
    if (r) {
        bool ok = strlen(r) < n;
        if (ok)
            strcpy(out, r);
        free(r);
        return ok;
    }
    if ((errno != ENOENT && errno != ENOTDIR) || depth > 256)
        return false;
    char buf[PATH_MAX];
    size_t k = strlen(path);
    if (k == 0 || k >= sizeof buf)
        return false;
    memcpy(buf, path, k + 1);
    while (k > 1 && buf[k - 1] == '/') /* "dir/x/" names dir/x */
        buf[--k] = '\0';
    char *slash = strrchr(buf, '/');
    const char *parent = ".", *name = buf;
    if (slash) {
        *slash = '\0';
        name = slash + 1;
        parent = slash == buf ? "/" : buf;
    }
    if (!path_resolve(parent, out, n, depth + 1))
        return false;
    if (!strcmp(name, ".") || !*name)
        return true;
    size_t m = strlen(out);
    if (!strcmp(name, "..")) {
        char *s = strrchr(out, '/');
        if (s)
            s[s == out ? 1 : 0] = '\0';
        return true;
    }
    if (m + 1 + strlen(name) >= n)
        return false;
    if (m > 1)
        out[m++] = '/';
    strcpy(out + (m == 1 && out[0] == '/' ? 1 : m), name);
    return true;
}

bool lt_same_file(const char *a, const char *b)
{
    if (!a || !b || !*a || !*b)
        return false;
    struct stat sa, sb;
    bool ea = stat(a, &sa) == 0, eb = stat(b, &sb) == 0;
    if (ea && eb)
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    if (ea != eb)
        return false;
    char ra[PATH_MAX], rb[PATH_MAX];
    if (!path_resolve(a, ra, sizeof ra, 0) || !path_resolve(b, rb, sizeof rb, 0))
        return !strcmp(a, b);
    return !strcmp(ra, rb);
}
