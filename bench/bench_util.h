/*
 * bench_util.h - timing helpers shared by the benchmark programs
 * (bench_ops.c, bench_train.c): the library's monotonic clock
 * (lt_clock_seconds) and the median.
 */
#ifndef LETHE_BENCH_UTIL_H
#define LETHE_BENCH_UTIL_H

#include "lethe/core.h"

#include <stdlib.h>

static inline double now_s(void) { return lt_clock_seconds(); }

static inline int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of v[0..n) (sorts v). */
static inline double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

#endif
