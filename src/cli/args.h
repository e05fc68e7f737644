/*
 * args.h - the option tables every `lethe` command parses its flags with,
 * and the progress reporter for long loops.
 */
#ifndef LETHE_CLI_ARGS_H
#define LETHE_CLI_ARGS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef enum { LT_OPT_STR, LT_OPT_INT, LT_OPT_FLOAT, LT_OPT_U64, LT_OPT_FLAG }
    lt_opt_type;

typedef struct {
    const char *name;  /* "--lr" */
    lt_opt_type type;
    void *ptr;         /* const char **, int *, float *, uint64_t *, bool * */
    const char *help;
    double lo, hi;     /* accepted range for numbers (lo == hi: any) */
} lt_opt;

/* Parse argv[1..argc) against opts. Returns 0 on success, 1 when --help was
 * printed (to stdout), 2 on a usage error (message on stderr naming the
 * flag). usage is the first line of --help. */
int lt_args_parse(const char *cmd, const char *usage, lt_opt *opts, int n,
                  int argc, char **argv);

/* Progress on stderr: a self-rewriting line on a terminal, a plain line
 * every few seconds otherwise. */
typedef struct {
    const char *label;
    int64_t total;
    double t0, last;
    bool tty;
} lt_progress;

void lt_progress_start(lt_progress *p, const char *label, int64_t total);
/* done items so far; extra is appended (e.g. "loss 0.31"). */
void lt_progress_update(lt_progress *p, int64_t done, const char *extra);
void lt_progress_end(lt_progress *p);
double lt_now(void);

#endif
