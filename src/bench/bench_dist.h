/*
 * bench_dist.h - private helpers that spread a protocol's runs over the
 * ranks of an MPI job (lethe/dist.h; one rank without MPI) and keep each
 * finished run on disk so a stopped sweep resumes where it stopped:
 * ownership of a run, the run's result file, the collective that agrees on
 * a failure and names its rank and row, and the exchange of the ranks'
 * results. See docs/mpi.md.
 */
#ifndef LETHE_BENCH_DIST_H
#define LETHE_BENCH_DIST_H

#include "lethe/bench.h"
#include "lethe/metrics.h"

#include <stdint.h>

/* Whether run number `unit` (counted over the whole sweep, in the order a
 * single process runs them) is this rank's: unit mod ranks == rank. */
bool lt_bench_mine(int64_t unit);

/* The result of one run (one row of one seed), as saved on disk. */
typedef struct {
    char label[48], method[24];
    double lr, rte;
    lt_unlearn_metrics m;
    char error[160];      /* a diverged run: its message ("" otherwise) */
} lt_bench_unit;

/* "<dir>/runs/<key as 16 hex digits>.json". */
void lt_bench_unit_path(const char *dir, uint64_t key, char *path, size_t n);
/* Load the run saved under key (false when there is none or it is not
 * readable: the run is then run again). */
bool lt_bench_unit_load(const char *dir, uint64_t key, lt_bench_unit *u);
/* Save u under key (atomically). */
lt_status lt_bench_unit_save(const char *dir, uint64_t key,
                             const lt_bench_unit *u);

/* A table row's numbers as a run file (the protocols whose rows are whole
 * runs: tofu, dm): r's n runs of n_cols values, its failed / diverged
 * flags and message; the text columns stay the caller's. Load returns
 * false when there is no readable file of n_cols values (the row is then
 * run again). */
lt_status lt_bench_row_save(const char *dir, uint64_t key,
                            const lt_table_row *r, int n_cols);
bool lt_bench_row_load(const char *dir, uint64_t key, lt_table_row *r,
                       int n_cols);

/* Collective: every rank passes its status and, on failure, the row it
 * was running; all get LT_OK, or the first failing rank's error as
 * "rank R failed on row ROW: message". */
lt_status lt_bench_agree(lt_status st, const char *row);

/* Collective: items[0, n) (each `each` bytes) are the same list on every
 * rank, item i filled in by rank owner[i]; afterwards every rank holds
 * every owner's item. */
lt_status lt_bench_share(void *items, size_t each, int n, const int *owner);

#endif
