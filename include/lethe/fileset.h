/*
 * lethe/fileset.h - the files one job reads and writes, checked before it
 * starts (io layer): a job lists every input and every output (side files
 * included: the forget list beside an unlearned checkpoint, the tokenizer
 * beside a language model, the files of a Hugging Face folder), and
 * lt_fileset_check refuses when an output is one of the inputs or two
 * outputs are one file (lt_same_file: symlinks and hard links count).
 * Every `lethe` command does this right after parsing its options.
 */
#ifndef LETHE_FILESET_H
#define LETHE_FILESET_H

#include "lethe/core.h"

#include <stdbool.h>

#define LT_FILESET_MAX 64

/* One file; what names it in messages ("--model", "--out's tokenizer"). */
typedef struct {
    char *what, *path;
} lt_file_role;

/* Start from {0}; the add functions copy what they are given. */
typedef struct {
    lt_file_role in[LT_FILESET_MAX], out[LT_FILESET_MAX];
    int n_in, n_out;
    bool full;              /* out of room or memory: the check fails */
} lt_fileset;

/* A file read (out false) or written (out true); path NULL or "": none. */
LT_API void lt_fileset_add(lt_fileset *s, bool out, const char *what,
                           const char *path);
/* Each file of a comma-separated list, read. */
LT_API void lt_fileset_add_list(lt_fileset *s, const char *what,
                                const char *list);
/* Every file of folder dir named in names (NULL-terminated), as "WHAT's
 * NAME". */
LT_API void lt_fileset_add_dir(lt_fileset *s, bool out, const char *what,
                               const char *dir, const char *const *names);
/* LT_ERR_ARG "OUT PATH is the same file as IN [PATH]" when an output is an
 * input or an earlier output, or when the set overflowed; LT_OK else. */
LT_API lt_status lt_fileset_check(const lt_fileset *s);
LT_API void lt_fileset_free(lt_fileset *s);

#endif
