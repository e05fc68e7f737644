/*
 * atomic.c - the one way Lethe writes a file: a temporary with an
 * unpredictable name in the target's folder, created with
 * O_CREAT|O_EXCL|O_NOFOLLOW (a planted file or symlink is never followed
 * or reused), written, fsynced, renamed over the target, the folder
 * fsynced; on any error the temporary is removed and the target keeps its
 * old content. Temporaries in flight are listed in a fixed process-wide
 * table, which the handlers installed by lt_install_cleanup_handlers()
 * empty (unlink) on SIGINT/SIGTERM/SIGHUP before the signal's default
 * action runs.
 *
 * A commit set (lt_commit_begin / lt_commit_end) makes the outputs of one
 * command all-or-nothing: while it is open, lt_atomic_commit stages the
 * finished temporary instead of renaming it, and lt_commit_end renames all
 * of them (success) or removes all of them (failure).
 */
#include "lethe/io.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- the registry of temporaries in flight --------------------------------
 * A slot is free (0), being filled (1) or live (2); the signal handler reads
 * only live slots and calls only unlink, so it is async-signal-safe. */
#define LT_TMP_SLOTS 64
#define LT_TMP_PATH 4096

enum { LT_SLOT_FREE, LT_SLOT_FILLING, LT_SLOT_LIVE };

static struct {
    atomic_int state;
    char path[LT_TMP_PATH];
} lt_tmp_reg[LT_TMP_SLOTS];

/* The slot now naming tmp, or -1 when the table is full or the name too
 * long (the write still goes ahead, only without cleanup on a signal). */
static int lt_tmp_register(const char *tmp)
{
    size_t n = strlen(tmp);
    if (n >= LT_TMP_PATH)
        return -1;
    for (int i = 0; i < LT_TMP_SLOTS; i++) {
        int want = LT_SLOT_FREE;
        if (atomic_compare_exchange_strong(&lt_tmp_reg[i].state, &want,
                                           LT_SLOT_FILLING)) {
            memcpy(lt_tmp_reg[i].path, tmp, n + 1);
            atomic_store(&lt_tmp_reg[i].state, LT_SLOT_LIVE);
            return i;
        }
    }
    return -1;
}

static void lt_tmp_unregister(int slot)
{
    if (slot >= 0)
        atomic_store(&lt_tmp_reg[slot].state, LT_SLOT_FREE);
}

static void lt_cleanup_signal(int sig)
{
    int e = errno;
    for (int i = 0; i < LT_TMP_SLOTS; i++)
        if (atomic_load(&lt_tmp_reg[i].state) == LT_SLOT_LIVE)
            unlink(lt_tmp_reg[i].path);
    errno = e;
    /* SA_RESETHAND put back the default action: raise it again (delivered
     * when this handler returns, as the signal is blocked here). */
    raise(sig);
}

lt_status lt_install_cleanup_handlers(void)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction old, sa;
        if (sigaction(sigs[i], NULL, &old) != 0)
            return lt_set_error(LT_ERR_IO, "cleanup handlers: cannot read "
                                "signal %d's action: %s", sigs[i],
                                strerror(errno));
        /* a signal ignored (nohup) or handled by the application stays so */
        if (old.sa_handler != SIG_DFL || (old.sa_flags & SA_SIGINFO))
            continue;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = lt_cleanup_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESETHAND;
        if (sigaction(sigs[i], &sa, NULL) != 0)
            return lt_set_error(LT_ERR_IO, "cleanup handlers: cannot set "
                                "signal %d's action: %s", sigs[i],
                                strerror(errno));
    }
    return LT_OK;
}

/* ---- the temporary -------------------------------------------------------- */

struct lt_atomic_file {
    FILE *f;
    char *path, *tmp;
    int slot;
    int err; /* first errno of a failed lt_atomic_write, 0 if none */
};

/* 64 unpredictable bits: /dev/urandom, else a mix of the clock, the pid, a
 * counter and an address (the name only has to be hard to guess: O_EXCL
 * already makes a planted file harmless). */
static uint64_t lt_tmp_random(void)
{
    uint64_t r = 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t got = read(fd, &r, sizeof r);
        close(fd);
        if (got == (ssize_t)sizeof r)
            return r;
    }
    static atomic_uint_fast64_t counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t z = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^
                 ((uint64_t)getpid() << 16) ^ (uint64_t)(uintptr_t)&r ^
                 (atomic_fetch_add(&counter, 1) * 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void lt_atomic_free(lt_atomic_file *a)
{
    free(a->path);
    free(a->tmp);
    free(a);
}

lt_status lt_atomic_open(const char *path, lt_atomic_file **out)
{
    if (out)
        *out = NULL;
    if (!path || !*path || !out)
        return lt_set_error(LT_ERR_ARG, "atomic write: empty or NULL path");
    size_t pl = strlen(path);
    if (path[pl - 1] == '/')
        return lt_set_error(LT_ERR_ARG, "%s: names a folder, not a file",
                            path);
    lt_atomic_file *a = calloc(1, sizeof *a);
    if (a) {
        a->path = malloc(pl + 1);
        a->tmp = malloc(pl + 32);
    }
    if (!a || !a->path || !a->tmp) {
        if (a)
            lt_atomic_free(a);
        return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", path);
    }
    memcpy(a->path, path, pl + 1);
    int fd = -1, err = EEXIST;
    for (int tries = 0; fd < 0 && err == EEXIST && tries < 100; tries++) {
        snprintf(a->tmp, pl + 32, "%s.tmp.%016llx", path,
                 (unsigned long long)lt_tmp_random());
        fd = open(a->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  0666);
        err = fd < 0 ? errno : 0;
    }
    if (fd < 0) {
        lt_set_error(LT_ERR_IO, "%s: cannot create a temporary file beside "
                     "it: %s", path, strerror(err));
        lt_atomic_free(a);
        return LT_ERR_IO;
    }
    a->slot = lt_tmp_register(a->tmp);
    a->f = fdopen(fd, "wb");
    if (!a->f) {
        int e = errno;
        close(fd);
        unlink(a->tmp);
        lt_tmp_unregister(a->slot);
        lt_atomic_free(a);
        return lt_set_error(LT_ERR_IO, "%s: cannot write: %s", path,
                            strerror(e));
    }
    *out = a;
    return LT_OK;
}

FILE *lt_atomic_stream(lt_atomic_file *a) { return a ? a->f : NULL; }

lt_status lt_atomic_write(lt_atomic_file *a, const void *data, size_t n)
{
    if (!a)
        return lt_set_error(LT_ERR_ARG, "atomic write: NULL file");
    errno = 0;
    if (!a->err && n && fwrite(data, 1, n, a->f) != n)
        a->err = errno ? errno : EIO;
    if (a->err)
        return lt_set_error(LT_ERR_IO, "%s: cannot write: %s", a->path,
                            strerror(a->err));
    return LT_OK;
}

void lt_atomic_abort(lt_atomic_file *a)
{
    if (!a)
        return;
    fclose(a->f);
    unlink(a->tmp);
    lt_tmp_unregister(a->slot);
    lt_atomic_free(a);
}

/* Make the rename durable: fsync the target's folder. Best effort (some
 * filesystems refuse to fsync a folder; the data itself is already on
 * disk). */
static void lt_sync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = NULL;
    if (!slash) {
        dir = malloc(2);
        if (dir)
            memcpy(dir, ".", 2);
    } else {
        size_t n = slash == path ? 1 : (size_t)(slash - path);
        dir = malloc(n + 1);
        if (dir) {
            memcpy(dir, path, n);
            dir[n] = '\0';
        }
    }
    int fd = dir ? open(dir, O_RDONLY | O_CLOEXEC) : -1;
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

/* ---- the commit set -------------------------------------------------------
 * One per process, used from one thread (a command writes its outputs in
 * sequence). Staged temporaries stay in the signal table until renamed or
 * removed, so Ctrl-C while a set is open still leaves no temporary. */

typedef struct {
    char *path, *tmp; /* tmp NULL: a deferred removal of path */
    int slot;
} lt_staged;

static struct {
    bool open;
    int n, cap;
    lt_staged *e;
    int n_dirs, cap_dirs;
    char **dirs; /* folders lt_mkdirs created while open, in order */
} lt_set;

bool lt_commit_active(void) { return lt_set.open; }

lt_status lt_commit_begin(void)
{
    if (lt_set.open)
        return lt_set_error(LT_ERR_STATE, "commit set: one is open already");
    lt_set.open = true;
    lt_set.n = lt_set.n_dirs = 0;
    return LT_OK;
}

static bool lt_set_grow(void **p, int *cap, int n, size_t size)
{
    if (n < *cap)
        return true;
    int nc = *cap ? 2 * *cap : 16;
    void *q = realloc(*p, (size_t)nc * size);
    if (!q)
        return false;
    *p = q;
    *cap = nc;
    return true;
}

static char *lt_set_dup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    return d ? memcpy(d, s, n) : NULL;
}

/* Add an entry (tmp NULL: a removal); an earlier entry for the same path
 * is dropped (its temporary removed): the later content wins. Takes over
 * path and tmp. */
static lt_status lt_set_add(char *path, char *tmp, int slot)
{
    for (int i = 0; i < lt_set.n; i++)
        if (!strcmp(lt_set.e[i].path, path)) {
            lt_staged *e = &lt_set.e[i];
            if (e->tmp) {
                unlink(e->tmp);
                lt_tmp_unregister(e->slot);
            }
            free(e->path);
            free(e->tmp);
            memmove(e, e + 1, (size_t)(lt_set.n - i - 1) * sizeof *e);
            lt_set.n--;
            break;
        }
    if (!lt_set_grow((void **)&lt_set.e, &lt_set.cap, lt_set.n,
                     sizeof *lt_set.e)) {
        lt_status st = lt_set_error(LT_ERR_NOMEM, "%s: out of memory", path);
        if (tmp)
            unlink(tmp);
        lt_tmp_unregister(slot);
        free(path);
        free(tmp);
        return st;
    }
    lt_set.e[lt_set.n++] = (lt_staged){path, tmp, slot};
    return LT_OK;
}

void lt_commit_note_dir(const char *dir)
{
    if (!lt_set.open || !lt_set_grow((void **)&lt_set.dirs, &lt_set.cap_dirs,
                                     lt_set.n_dirs, sizeof *lt_set.dirs))
        return;
    char *d = lt_set_dup(dir);
    if (d)
        lt_set.dirs[lt_set.n_dirs++] = d;
}

lt_status lt_remove_output(const char *path)
{
    if (!path)
        return lt_set_error(LT_ERR_ARG, "remove: NULL path");
    if (!lt_set.open) {
        if (remove(path) != 0 && errno != ENOENT)
            return lt_set_error(LT_ERR_IO, "%s: cannot remove: %s", path,
                                strerror(errno));
        return LT_OK;
    }
    char *p = lt_set_dup(path);
    if (!p)
        return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", path);
    return lt_set_add(p, NULL, -1);
}

lt_status lt_commit_end(bool commit)
{
    if (!lt_set.open)
        return commit ? lt_set_error(LT_ERR_STATE, "commit set: none is "
                                     "open") : LT_OK;
    lt_status st = LT_OK;
    /* the one way a rename can fail in a folder the temporary was made in:
     * a folder in the target's place. Refuse before renaming anything. */
    for (int i = 0; commit && st == LT_OK && i < lt_set.n; i++) {
        struct stat sb;
        if (lt_set.e[i].tmp && lstat(lt_set.e[i].path, &sb) == 0 &&
            S_ISDIR(sb.st_mode))
            st = lt_set_error(LT_ERR_IO, "%s: cannot write: it is a folder",
                              lt_set.e[i].path);
    }
    for (int i = 0; i < lt_set.n; i++) {
        lt_staged *e = &lt_set.e[i];
        if (commit && st == LT_OK) {
            if (e->tmp && rename(e->tmp, e->path) != 0)
                st = lt_set_error(LT_ERR_IO, "%s: cannot write: %s", e->path,
                                  strerror(errno));
            else if (!e->tmp && remove(e->path) != 0 && errno != ENOENT)
                st = lt_set_error(LT_ERR_IO, "%s: cannot remove: %s",
                                  e->path, strerror(errno));
            else
                lt_sync_dir(e->path);
        }
        if (e->tmp && (!commit || st != LT_OK))
            unlink(e->tmp); /* gone already when it was renamed */
        lt_tmp_unregister(e->slot);
        free(e->path);
        free(e->tmp);
    }
    /* folders made for a failed command: empty ones go, newest first */
    for (int i = lt_set.n_dirs - 1; i >= 0; i--) {
        if (!commit || st != LT_OK)
            rmdir(lt_set.dirs[i]);
        free(lt_set.dirs[i]);
    }
    free(lt_set.e);
    free(lt_set.dirs);
    memset(&lt_set, 0, sizeof lt_set);
    return st;
}

lt_status lt_atomic_commit(lt_atomic_file *a)
{
    if (!a)
        return lt_set_error(LT_ERR_ARG, "atomic write: NULL file");
    errno = 0;
    int err = a->err;
    if (!err && (fflush(a->f) != 0 || ferror(a->f)))
        err = errno ? errno : EIO;
    if (!err && fsync(fileno(a->f)) != 0)
        err = errno;
    if (fclose(a->f) != 0 && !err)
        err = errno ? errno : EIO;
    a->f = NULL;
    if (!err && lt_set.open) { /* staged: renamed by lt_commit_end */
        lt_status st = lt_set_add(a->path, a->tmp, a->slot);
        free(a);
        return st;
    }
    if (!err && rename(a->tmp, a->path) != 0)
        err = errno;
    lt_status st = LT_OK;
    if (err) {
        st = lt_set_error(LT_ERR_IO, "%s: cannot write: %s", a->path,
                          strerror(err));
        unlink(a->tmp);
    } else {
        lt_sync_dir(a->path);
    }
    lt_tmp_unregister(a->slot);
    lt_atomic_free(a);
    return st;
}
