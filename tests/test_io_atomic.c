/*
 * test_io_atomic.c - tests of the one safe way Lethe writes files
 * (lt_atomic_open and the writers built on it: lt_write_file_atomic,
 * lt_npy_save, lt_st_save, lt_tofu_save, lt_forget_save): nothing is left
 * behind after success, a symlink planted at a temporary's name or at the
 * target is never followed, a write into an unwritable or missing folder
 * fails naming the path and leaves nothing, a write that fails midway
 * (file size limit) keeps the old target, the file mode honours the umask,
 * and a SIGTERM during a write removes the temporary; a commit set
 * (lt_commit_begin/end) renames all its files or none.
 */
#include "lt_test.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* A fresh folder per call, inside the binary's temporary folder. */
static const char *lt_dir(void)
{
    static int k;
    static char buf[8][96];
    char *d = buf[k % 8];
    snprintf(d, 96, "%s/d%d", lt_test_tmpdir(), k++);
    mkdir(d, 0777);
    return d;
}

/* The number of entries of dir; the first one's name goes to first. */
static int lt_count(const char *dir, char *first, size_t n)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int c = 0;
    struct dirent *e;
    if (first)
        first[0] = 0;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (c++ == 0 && first)
            snprintf(first, n, "%s", e->d_name);
    }
    closedir(d);
    return c;
}

/* The whole content of path ("" when missing). */
static char *lt_slurp(const char *path)
{
    char *s = NULL;
    size_t n;
    if (lt_read_file(path, &s, &n) != LT_OK) {
        lt_clear_error();
        s = calloc(1, 1);
    }
    return s;
}

static void lt_put(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    LT_CHECK(f != NULL, "cannot write %s", path);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

LT_TEST(atomic_success_leaves_only_the_target)
{
    const char *d = lt_dir();
    char p[128], first[256];
    snprintf(p, sizeof p, "%s/out.txt", d);
    LT_CHECK(lt_write_text_atomic(p, "hello") == LT_OK, "%s", lt_last_error());
    LT_CHECK(lt_write_text_atomic(p, "again") == LT_OK, "%s", lt_last_error());
    char *s = lt_slurp(p);
    LT_CHECK(!strcmp(s, "again\n"), "content '%s'", s);
    free(s);
    LT_CHECK(lt_count(d, first, sizeof first) == 1 && !strcmp(first, "out.txt"),
             "folder holds %d entries (first %s)", lt_count(d, NULL, 0), first);
    /* the stream interface and an abort */
    lt_atomic_file *a;
    LT_CHECK(lt_atomic_open(p, &a) == LT_OK, "%s", lt_last_error());
    fputs("never", lt_atomic_stream(a));
    lt_atomic_abort(a);
    s = lt_slurp(p);
    LT_CHECK(!strcmp(s, "again\n"), "abort changed the target: '%s'", s);
    free(s);
    LT_CHECK(lt_count(d, NULL, 0) == 1, "abort left a temporary");
}

LT_TEST(atomic_planted_symlinks_are_not_followed)
{
    const char *d = lt_dir();
    char victim[128], p[128], link[192];
    snprintf(victim, sizeof victim, "%s/victim", d);
    snprintf(p, sizeof p, "%s/model.safetensors", d);
    lt_put(victim, "precious");
    /* the old predictable name, and others a "<path>.tmp*" guess could use */
    const char *suffix[] = {".tmp", ".tmp.", ".tmp.0", ".tmp.0000000000000000",
                            NULL};
    char pid[32];
    snprintf(pid, sizeof pid, ".tmp.%ld", (long)getpid());
    suffix[4] = pid;
    for (int i = 0; i < 5; i++) {
        snprintf(link, sizeof link, "%s%s", p, suffix[i]);
        LT_CHECK(symlink(victim, link) == 0, "symlink %s", link);
    }
    float x[3] = {1, 2, 3};
    int64_t shape[1] = {3};
    lt_st_tensor t = {.name = "w", .ndim = 1, .shape = {3}, .data = x};
    LT_CHECK(lt_st_save(p, &t, 1, NULL, 0) == LT_OK, "%s", lt_last_error());
    LT_CHECK(lt_npy_save(p, x, 1, shape) == LT_OK, "%s", lt_last_error());
    LT_CHECK(lt_write_text_atomic(p, "{}") == LT_OK, "%s", lt_last_error());
    char *s = lt_slurp(victim);
    LT_CHECK(!strcmp(s, "precious"), "the symlink's target was written: '%s'",
             s);
    free(s);
    struct stat st;
    LT_CHECK(lstat(p, &st) == 0 && S_ISREG(st.st_mode),
             "the output is not a regular file");
    for (int i = 0; i < 5; i++) {
        snprintf(link, sizeof link, "%s%s", p, suffix[i]);
        LT_CHECK(lstat(link, &st) == 0 && S_ISLNK(st.st_mode),
                 "%s was replaced", link);
    }
    /* the target itself a symlink: replaced by the file, not followed */
    char p2[128];
    snprintf(p2, sizeof p2, "%s/out.json", d);
    LT_CHECK(symlink(victim, p2) == 0, "symlink %s", p2);
    LT_CHECK(lt_write_text_atomic(p2, "{}") == LT_OK, "%s", lt_last_error());
    s = lt_slurp(victim);
    LT_CHECK(!strcmp(s, "precious"), "the target symlink was followed");
    free(s);
    LT_CHECK(lstat(p2, &st) == 0 && S_ISREG(st.st_mode),
             "the target symlink was not replaced");
    /* victim, the output, out.json and the five links */
    LT_CHECK(lt_count(d, NULL, 0) == 8, "%d entries: a temporary was left",
             lt_count(d, NULL, 0));
}

/* path must fail with LT_ERR_IO naming it, through every writer. */
static void lt_expect_unwritable(const char *path)
{
    float x[2] = {1, 2};
    int64_t shape[1] = {2};
    lt_st_tensor t = {.name = "w", .ndim = 1, .shape = {2}, .data = x};
    lt_tofu_qa qa = {.question = "q?", .answer = "a."};
    lt_tofu_set set = {.qa = &qa, .n = 1, .cap = 1};
    int64_t idx[1] = {0};
    lt_forget_set fs = {.n = 2, .n_forget = 1, .n_retain = 1, .forget = idx};
    lt_status s[5] = {lt_write_text_atomic(path, "x"),
                      lt_npy_save(path, x, 1, shape),
                      lt_st_save(path, &t, 1, NULL, 0),
                      lt_tofu_save(path, &set),
                      lt_forget_save(&fs, path)};
    for (int i = 0; i < 5; i++)
        LT_CHECK(s[i] == LT_ERR_IO, "writer %d: status %d for %s", i,
                 (int)s[i], path);
    LT_CHECK(strstr(lt_last_error(), path) != NULL,
             "error '%s' does not name %s", lt_last_error(), path);
}

LT_TEST(atomic_unwritable_folder_fails_and_leaves_nothing)
{
    const char *d = lt_dir();
    char p[160];
    snprintf(p, sizeof p, "%s/missing/out.npy", d);
    lt_expect_unwritable(p);
    char f[128];
    snprintf(f, sizeof f, "%s/file", d);
    lt_put(f, "x");
    snprintf(p, sizeof p, "%s/file/out.npy", d); /* a file as a folder */
    lt_expect_unwritable(p);
    LT_CHECK(lt_count(d, NULL, 0) == 1, "something was left in %s", d);
    if (geteuid() != 0) { /* root writes anywhere */
        const char *ro = lt_dir();
        chmod(ro, 0555);
        snprintf(p, sizeof p, "%s/out.npy", ro);
        lt_expect_unwritable(p);
        LT_CHECK(lt_count(ro, NULL, 0) == 0, "something was left in %s", ro);
        chmod(ro, 0777);
    }
}

LT_TEST(atomic_failure_midway_keeps_the_old_target)
{
    const char *d = lt_dir();
    char p[128], q[128];
    snprintf(p, sizeof p, "%s/out.bin", d);
    snprintf(q, sizeof q, "%s/out.safetensors", d);
    lt_put(p, "old content");
    lt_put(q, "old model");
    enum { N = 1 << 18 };
    float *x = calloc(N, sizeof *x);
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 4096; /* writes past 4 KiB fail with EFBIG */
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    LT_CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0, "setrlimit");
    int64_t shape[1] = {N};
    lt_st_tensor t = {.name = "w", .ndim = 1, .shape = {N}, .data = x};
    lt_status s1 = lt_write_file_atomic(p, x, N * sizeof *x);
    lt_status s2 = lt_npy_save(p, x, 1, shape);
    lt_status s3 = lt_st_save(q, &t, 1, NULL, 0);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, prev);
    free(x);
    LT_CHECK(s1 == LT_ERR_IO && s2 == LT_ERR_IO && s3 == LT_ERR_IO,
             "statuses %d %d %d", (int)s1, (int)s2, (int)s3);
    LT_CHECK(strstr(lt_last_error(), q) != NULL, "error '%s' does not name %s",
             lt_last_error(), q);
    char *s = lt_slurp(p);
    LT_CHECK(!strcmp(s, "old content"), "target changed: '%.20s'", s);
    free(s);
    s = lt_slurp(q);
    LT_CHECK(!strcmp(s, "old model"), "model changed: '%.20s'", s);
    free(s);
    LT_CHECK(lt_count(d, NULL, 0) == 2, "%d entries: a temporary was left",
             lt_count(d, NULL, 0));
}

LT_TEST(atomic_mode_honours_umask)
{
    const char *d = lt_dir();
    char p[128];
    snprintf(p, sizeof p, "%s/m", d);
    mode_t um[2] = {022, 077}, want[2] = {0644, 0600};
    for (int i = 0; i < 2; i++) {
        mode_t old = umask(um[i]);
        lt_status s = lt_write_text_atomic(p, "x");
        umask(old);
        struct stat st;
        LT_CHECK(s == LT_OK && stat(p, &st) == 0 &&
                     (st.st_mode & 0777) == want[i],
                 "umask %03o: mode %03o", (unsigned)um[i],
                 (unsigned)(st.st_mode & 0777));
    }
}

LT_TEST(atomic_sigterm_removes_the_temporary)
{
    const char *d = lt_dir();
    char p[128];
    snprintf(p, sizeof p, "%s/out.bin", d);
    pid_t pid = fork();
    if (pid == 0) {
        if (lt_install_cleanup_handlers() != LT_OK)
            _exit(3);
        lt_atomic_file *a;
        if (lt_atomic_open(p, &a) != LT_OK ||
            lt_atomic_write(a, "partial", 7) != LT_OK)
            _exit(4);
        fflush(lt_atomic_stream(a));
        raise(SIGTERM);
        _exit(5); /* not reached: the default action ends the process */
    }
    int status = 0;
    LT_CHECK(pid > 0 && waitpid(pid, &status, 0) == pid, "fork/wait");
    LT_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM,
             "child did not die of SIGTERM (status %d)", status);
    char first[256];
    LT_CHECK(lt_count(d, first, sizeof first) == 0, "left behind: %s", first);
}

/* Issue #20 point 4: the outputs of a command, all or none. */
LT_TEST(commit_set_abort_leaves_every_target_as_it_was)
{
    const char *d = lt_dir();
    char a[128], b[128], sub[128], c[160], gone[128];
    snprintf(a, sizeof a, "%s/a.txt", d);
    snprintf(b, sizeof b, "%s/b.txt", d);
    snprintf(sub, sizeof sub, "%s/new/deeper", d);
    snprintf(c, sizeof c, "%s/c.txt", sub);
    snprintf(gone, sizeof gone, "%s/gone.txt", d);
    lt_put(a, "old a");
    lt_put(gone, "stays");
    LT_CHECK(lt_commit_begin() == LT_OK && lt_commit_active(), "begin");
    LT_CHECK(lt_commit_begin() == LT_ERR_STATE, "nested begin accepted");
    LT_CHECK(lt_write_text_atomic(a, "new a") == LT_OK &&
                 lt_write_text_atomic(b, "new b") == LT_OK &&
                 lt_mkdirs(sub) == LT_OK &&
                 lt_write_text_atomic(c, "new c") == LT_OK &&
                 lt_remove_output(gone) == LT_OK,
             "staging: %s", lt_last_error());
    /* staged, not yet visible */
    char *ta = lt_slurp(a), *tb = lt_slurp(b);
    LT_CHECK(!strcmp(ta, "old a") && !*tb && access(gone, F_OK) == 0,
             "visible before the end: a '%s' b '%s'", ta, tb);
    free(ta);
    free(tb);
    LT_CHECK(lt_commit_end(false) == LT_OK && !lt_commit_active(), "abort");
    ta = lt_slurp(a);
    LT_CHECK(!strcmp(ta, "old a"), "a changed: '%s'", ta);
    free(ta);
    char first[256], newdir[140];
    snprintf(newdir, sizeof newdir, "%s/new", d);
    LT_CHECK(access(b, F_OK) != 0 && access(newdir, F_OK) != 0 &&
                 access(gone, F_OK) == 0,
             "an aborted set left b, the new folders or removed gone.txt");
    LT_CHECK(lt_count(d, first, sizeof first) == 2, "left behind: %s", first);
}

LT_TEST(commit_set_commit_renames_all_later_content_wins)
{
    const char *d = lt_dir();
    char a[128], b[128], gone[128];
    snprintf(a, sizeof a, "%s/a.txt", d);
    snprintf(b, sizeof b, "%s/b.txt", d);
    snprintf(gone, sizeof gone, "%s/gone.txt", d);
    lt_put(a, "old a");
    lt_put(gone, "goes");
    LT_CHECK(lt_commit_begin() == LT_OK, "begin");
    LT_CHECK(lt_write_text_atomic(a, "first a") == LT_OK &&
                 lt_write_text_atomic(b, "new b") == LT_OK &&
                 lt_write_text_atomic(a, "second a") == LT_OK &&
                 lt_remove_output(gone) == LT_OK,
             "staging: %s", lt_last_error());
    LT_CHECK(lt_commit_end(true) == LT_OK, "commit: %s", lt_last_error());
    char *ta = lt_slurp(a), *tb = lt_slurp(b);
    LT_CHECK(!strcmp(ta, "second a\n") && !strcmp(tb, "new b\n"),
             "after commit: a '%s' b '%s'", ta, tb);
    free(ta);
    free(tb);
    char first[256];
    LT_CHECK(access(gone, F_OK) != 0, "deferred removal not done");
    LT_CHECK(lt_count(d, first, sizeof first) == 2, "left behind: %s", first);
    LT_CHECK(lt_commit_end(true) == LT_ERR_STATE, "end without a set");
    /* with no set open, writes are renamed at once, as before */
    LT_CHECK(lt_write_text_atomic(b, "direct") == LT_OK, "direct write");
    tb = lt_slurp(b);
    LT_CHECK(!strcmp(tb, "direct\n"), "direct: '%s'", tb);
    free(tb);
}

/* A staged temporary is still removed by SIGTERM. */
LT_TEST(commit_set_sigterm_removes_staged_temporaries)
{
    const char *d = lt_dir();
    char p[128];
    snprintf(p, sizeof p, "%s/out.txt", d);
    pid_t pid = fork();
    if (pid == 0) {
        if (lt_install_cleanup_handlers() != LT_OK ||
            lt_commit_begin() != LT_OK ||
            lt_write_text_atomic(p, "staged") != LT_OK)
            _exit(3);
        raise(SIGTERM);
        _exit(5);
    }
    int status = 0;
    LT_CHECK(pid > 0 && waitpid(pid, &status, 0) == pid, "fork/wait");
    LT_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM,
             "child did not die of SIGTERM (status %d)", status);
    char first[256];
    LT_CHECK(lt_count(d, first, sizeof first) == 0, "left behind: %s", first);
}

LT_TEST_MAIN()
