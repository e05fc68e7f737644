/*
 * test_paths.c - tests of lt_same_file (io layer), the identity check the
 * commands use to refuse an output that would overwrite an input: the
 * same file under another spelling, through a hard link or a symlink, and
 * a file not written yet named two ways; different files stay different.
 */
#define _XOPEN_SOURCE 700 /* mkdtemp, symlink */
#include "lt_test.h"

#include "lethe/io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char pt_dir[64];

/* pt_dir + "/" + name into buf (a static pool of 8 buffers). */
static const char *pt(const char *name)
{
    static char pool[8][256];
    static int k;
    char *b = pool[k++ % 8];
    snprintf(b, sizeof pool[0], "%s/%s", pt_dir, name);
    return b;
}

static void pt_touch(const char *path)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs("x\n", f);
        fclose(f);
    }
}

LT_TEST(same_file_identity)
{
    strcpy(pt_dir, "/tmp/lethe_paths_XXXXXX");
    LT_CHECK(mkdtemp(pt_dir) != NULL, "mkdtemp failed");
    pt_touch(pt("a"));
    pt_touch(pt("b"));
    LT_CHECK(lt_same_file(pt("a"), pt("a")), "a file is itself");
    LT_CHECK(lt_same_file(pt("a"), pt("./a")), "d/a vs d/./a");
    LT_CHECK(!lt_same_file(pt("a"), pt("b")), "two files differ");
    LT_CHECK(link(pt("a"), pt("hard")) == 0, "link failed");
    LT_CHECK(lt_same_file(pt("a"), pt("hard")), "a hard link is the file");
    LT_CHECK(symlink(pt("a"), pt("soft")) == 0, "symlink failed");
    LT_CHECK(lt_same_file(pt("soft"), pt("a")), "a symlink is its target");
    LT_CHECK(lt_same_file(pt("soft"), pt("hard")), "symlink vs hard link");
    LT_CHECK(!lt_same_file(pt("soft"), pt("b")), "a symlink to another");
    /* Not written yet: the resolved folder + name. */
    LT_CHECK(lt_same_file(pt("new"), pt("./new")), "new vs ./new");
    mkdir(pt("sub"), 0777);
    LT_CHECK(lt_same_file(pt("new"), pt("sub/../new")), "d/sub/../new");
    LT_CHECK(lt_same_file(pt("new"), pt("sub/../new/")), "trailing slash");
    LT_CHECK(symlink(pt_dir, pt("dirlink")) == 0, "symlink failed");
    LT_CHECK(lt_same_file(pt("new"), pt("dirlink/new")),
             "through a symlinked folder");
    LT_CHECK(!lt_same_file(pt("new"), pt("new2")), "two new names differ");
    LT_CHECK(!lt_same_file(pt("new"), pt("a")), "new vs existing");
    LT_CHECK(!lt_same_file(pt("sub/new"), pt("new")), "other folder");
    LT_CHECK(lt_same_file(pt("nodir/x"), pt("nodir/./x")),
             "a missing folder, spelled two ways");
    /* Relative vs absolute spelling of the same new file. */
    char cwd[512];
    LT_CHECK(getcwd(cwd, sizeof cwd) != NULL, "getcwd");
    LT_CHECK(chdir(pt_dir) == 0, "chdir");
    LT_CHECK(lt_same_file("new", pt("new")), "relative vs absolute");
    LT_CHECK(lt_same_file("a", pt("soft")), "relative vs symlink");
    LT_CHECK(chdir(cwd) == 0, "chdir back");
    LT_CHECK(!lt_same_file(NULL, pt("a")) && !lt_same_file("", ""),
             "NULL and empty are nothing");
    const char *rm[] = {"a", "b", "hard", "soft", "dirlink"};
    for (int i = 0; i < 5; i++)
        unlink(pt(rm[i]));
    rmdir(pt("sub"));
    rmdir(pt_dir);
}

LT_TEST_MAIN()
