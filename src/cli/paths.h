/*
 * paths.h - the output discipline of every `lethe` command (paths.c):
 * right after parsing its options a command lists every file it will
 * read and every file it will write (side files included: the forget
 * list beside an unlearned checkpoint, the tokenizer beside a language
 * model, the files of a Hugging Face folder) and calls cli_paths_check,
 * which refuses with exit status 2 when an output is one of the inputs or
 * two outputs are one file (lt_same_file: symlinks and hard links count),
 * before any work is done.
 */
#ifndef CLI_PATHS_H
#define CLI_PATHS_H

#include <stdbool.h>

/* One file a command reads or writes; what names it in messages
 * ("--model", "--out's tokenizer"). */
typedef struct {
    const char *what, *path;
} cli_path;

/* Refuse when an output is an input or two outputs coincide: 0, or 2
 * with "lethe CMD: OUT PATH is the same file as IN" on stderr. Entries
 * with a NULL or empty path are skipped. */
int cli_check_paths(const char *cmd, const cli_path *in, int n_in,
                    const cli_path *out, int n_out);

#define CLI_PATHS_MAX 64

/* The lists a command builds (the add functions copy what they are given;
 * cli_paths_check frees the copies). Start from {0}. */
typedef struct {
    cli_path in[CLI_PATHS_MAX], out[CLI_PATHS_MAX];
    int n_in, n_out;
    char *owned[4 * CLI_PATHS_MAX];
    int n_owned;
    bool full; /* out of room or memory: the check fails */
} cli_paths;

/* A file read (out false) or written (out true); path NULL: nothing. */
void cli_paths_add(cli_paths *p, bool out, const char *what,
                   const char *path);
/* Each file of a comma-separated list, read. */
void cli_paths_in_list(cli_paths *p, const char *what, const char *list);
/* The file of a forget spec "indices:FILE" (other specs read nothing). */
void cli_paths_in_forget(cli_paths *p, const char *what, const char *spec);
/* The file of fortune collection name (a name without '/' in dir, or
 * LT_FORTUNE_DIR when dir is NULL; else a path), as lt_fortune_load
 * finds it. */
void cli_paths_in_fortune(cli_paths *p, const char *what, const char *dir,
                          const char *name);
/* A language model read: the .safetensors file, or a Hugging Face folder
 * and its files; and its tokenizer, tok (given by option tok_what) or the
 * one beside the model (lt_lm_tokenizer_path) when tok is NULL. */
void cli_paths_in_lm(cli_paths *p, const char *what, const char *model,
                     const char *tok_what, const char *tok);
/* A language model written with lt_lm_save: the file (or the folder and
 * its files) and the tokenizer beside it. */
void cli_paths_out_lm(cli_paths *p, const char *what, const char *out);
/* Every file of folder dir named in names (NULL-terminated), read or
 * written, as "WHAT's NAME". */
void cli_paths_add_dir(cli_paths *p, bool out, const char *what,
                       const char *dir, const char *const *names);
/* cli_check_paths over the lists, then free the copies: 0 or 2. */
int cli_paths_check(const char *cmd, cli_paths *p);

#endif
