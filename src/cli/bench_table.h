/*
 * bench_table.h - the result table of `lethe bench`: rows of per-seed
 * unlearning metrics (UA, RA, TA, MIA, Avg. Gap, RTE), their mean and
 * sample standard deviation, printed as a Markdown table and written as
 * JSON and Markdown files.
 */
#ifndef LETHE_CLI_BENCH_TABLE_H
#define LETHE_CLI_BENCH_TABLE_H

#include "lethe/lethe.h"

#include <stdio.h>

#define LT_BENCH_MAX_SEEDS 16
#define LT_BENCH_MAX_ROWS 128

/* The six numbers of one run. */
enum { LT_COL_UA, LT_COL_RA, LT_COL_TA, LT_COL_MIA, LT_COL_GAP, LT_COL_RTE,
       LT_COLS };

typedef struct {
    char label[48];       /* "salun" or "ga@3e-05" */
    char method[24];
    float lr;             /* NAN for original / retrain */
    int n;                /* runs so far (seeds) */
    double v[LT_BENCH_MAX_SEEDS][LT_COLS];
    char error[160];      /* a failed run's message ("" if none) */
} lt_bench_row;

typedef struct {
    lt_bench_row rows[LT_BENCH_MAX_ROWS];
    int n_rows;
} lt_bench_table;

/* The row labelled label (created at the end if new; NULL when full). */
lt_bench_row *lt_bench_row_get(lt_bench_table *t, const char *label,
                               const char *method, float lr);
/* Append one run's metrics (gap and rte included). */
void lt_bench_row_add(lt_bench_row *r, const lt_unlearn_metrics *m,
                      double gap, double rte);
/* Mean and sample std (n - 1; 0 for one run) of column col. */
void lt_bench_row_stats(const lt_bench_row *r, int col, double *mean,
                        double *std);
/* The table as Markdown (title line, then the table) on f. */
void lt_bench_print(FILE *f, const lt_bench_table *t, const char *title);
/* Write the Markdown table to path (atomic). 0 or 1 (message printed). */
int lt_bench_write_markdown(const lt_bench_table *t, const char *title,
                            const char *path);
/* Write {"config": config, "rows": [...]} to path (atomic); config is
 * taken over (deleted). 0 or 1 (message printed). */
int lt_bench_write_json(const lt_bench_table *t, void *config_json,
                        const char *path);

/* Two tables side by side (rows matched by label): per column "a -> b
 * (+d)" of the means; a is the random set, b the worst-case set. */
void lt_bench_print_pair(FILE *f, const lt_bench_table *a,
                         const lt_bench_table *b, const char *title);
int lt_bench_write_pair(const lt_bench_table *a, const lt_bench_table *b,
                        const char *title, const char *path);
/* {"config", "random": rows, "worst_case": rows}; config taken over. */
int lt_bench_write_pair_json(const lt_bench_table *a, const lt_bench_table *b,
                             void *config_json, const char *path);

#endif
