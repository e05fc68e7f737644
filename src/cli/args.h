/*
 * args.h - the option tables every `lethe` command parses its flags with,
 * and the progress reporter for long loops.
 */
#ifndef CLI_ARGS_H
#define CLI_ARGS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef enum { CLI_OPT_STR, CLI_OPT_INT, CLI_OPT_FLOAT, CLI_OPT_U64, CLI_OPT_FLAG,
               CLI_OPT_I64 } cli_opt_type;

/* The entries of an option table. */
#define CLI_NOPTS(opts) ((int)(sizeof(opts) / sizeof *(opts)))

typedef struct {
    const char *name;  /* "--lr" */
    cli_opt_type type;
    void *ptr;         /* const char **, int *, float *, uint64_t *, bool *,
                          int64_t * (CLI_OPT_I64: a whole number, as INT) */
    const char *help;
    double lo, hi;     /* accepted range for numbers (lo == hi: any value
                        * the type holds; U64 always within [0, 2^64)) */
} cli_opt;

/* Parse argv[1..argc) against opts. Returns 0 on success, 1 when --help was
 * printed (to stdout), 2 on a usage error (message on stderr naming the
 * flag): an unknown flag, a flag given twice, a missing value, a number
 * that is not one, not finite (nan, inf), out of range, or not whole for
 * CLI_OPT_INT; a CLI_OPT_U64 takes decimal digits only (no sign, no
 * exponent). usage is the first line of --help. Every command also takes
 * --threads N (0: all cores), applied here after a good parse. */
int cli_args_parse(const char *cmd, const char *usage, cli_opt *opts, int n,
                  int argc, char **argv);

/* Progress on stderr: a self-rewriting line on a terminal; otherwise a
 * plain line at most every 10 s over all bars (a log gets periodic news,
 * not a line per short pass), and a closing line for a bar that printed. */
typedef struct {
    const char *label;
    int64_t total;
    double t0, last;
    bool tty;
    bool printed;      /* not a terminal: this bar wrote a line */
} cli_progress;

void cli_progress_start(cli_progress *p, const char *label, int64_t total);
/* done items so far; extra is appended (e.g. "loss 0.31"). */
void cli_progress_update(cli_progress *p, int64_t done, const char *extra);
void cli_progress_end(cli_progress *p);

#endif
