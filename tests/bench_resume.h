/*
 * bench_resume.h - shared by the bench tests that check --resume: a
 * progress callback that counts the rows a protocol reports as "done
 * before (--resume)", and the check that a resumed table holds the first
 * table's text and bits in every cell.
 */
#ifndef LT_BENCH_RESUME_H
#define LT_BENCH_RESUME_H

#include "lt_test.h"

#include "lethe/bench.h"

#include <math.h>
#include <string.h>

/* progress: ud is an int counting the "done before (--resume)" notes. */
static inline void lt_test_count_resumed(void *ud, const lt_bench_event *ev)
{
    if (ev->kind == LT_BENCH_NOTE && strstr(ev->text, "done before "
                                                      "(--resume)"))
        ++*(int *)ud;
}

/* b has a's rows, their text and every run's values to the bit (NaN where
 * a has NaN). */
static inline void lt_test_same_table(const lt_table *a, const lt_table *b)
{
    LT_CHECK(a->n_rows == b->n_rows && a->n_cols == b->n_cols, "%d x %d "
             "cells, resumed %d x %d", a->n_rows, a->n_cols, b->n_rows,
             b->n_cols);
    for (int i = 0; i < a->n_rows && i < b->n_rows; i++) {
        const lt_table_row *x = &a->rows[i], *y = &b->rows[i];
        LT_CHECK(x->n == y->n && x->failed == y->failed &&
                 !strcmp(x->text[0], y->text[0]), "row %d: %s (%d runs), "
                 "resumed %s (%d runs)", i, x->text[0], x->n, y->text[0],
                 y->n);
        for (int s = 0; s < x->n && s < y->n; s++)
            for (int k = 0; k < a->n_cols && k < b->n_cols; k++) {
                double p = x->v[s][k], q = y->v[s][k];
                LT_CHECK((isnan(p) && isnan(q)) || p == q, "row %d run %d "
                         "column %d: %.17g, resumed %.17g", i, s, k, p, q);
            }
    }
}

#endif
