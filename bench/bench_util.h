/*
 * bench_util.h - helpers shared by the benchmark programs (bench_ops.c,
 * bench_train.c, bench_lm.c, bench_dm.c, bench_um2n_net.c): the
 * library's monotonic clock (lt_clock_seconds), the median, the peak RSS,
 * the --precision option and the JSON line of a failed case.
 */
#ifndef LETHE_BENCH_UTIL_H
#define LETHE_BENCH_UTIL_H

#include "lethe/core.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

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

/* Peak resident set of this process so far, MiB (Linux: ru_maxrss in KiB). */
static inline double peak_rss_mb(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -1;
    return (double)ru.ru_maxrss / 1024.0;
}

/* --precision VALUE: makes it the process default (the precision of every
 * context created afterwards). Returns 0, or -1 after a message naming the
 * program and the value. */
static inline int bench_set_precision(const char *prog, const char *value)
{
    lt_precision p;
    if (lt_precision_parse(value, &p) != LT_OK) {
        fprintf(stderr, "%s: --precision: %s\n", prog, lt_last_error());
        return -1;
    }
    lt_set_default_precision(p);
    return 0;
}

/* The process default precision's name, for the JSON lines. */
static inline const char *bench_precision(void)
{
    return lt_precision_name(lt_default_precision());
}

/* Runs fn(ud) for 0.5 s of warm-up (the count in *warm_out), then enough
 * times to fill min_time seconds (at least 3, at most max_reps), each
 * timed run's seconds in tot. Returns the number of timed runs, or -1
 * as soon as a run returns non-zero. */
typedef int (*bench_fn)(void *ud);
static inline int bench_time_runs(bench_fn fn, void *ud, double min_time,
                                  int max_reps, double *tot, int *warm_out)
{
    double t0 = now_s();
    int warm = 0;
    do {
        if (fn(ud) != 0)
            return -1;
        warm++;
    } while (now_s() - t0 < 0.5);
    double per = (now_s() - t0) / warm;
    int n = (int)(min_time / per) + 1;
    n = n < 3 ? 3 : n > max_reps ? max_reps : n;
    for (int i = 0; i < n; i++) {
        double t = now_s();
        if (fn(ud) != 0)
            return -1;
        tot[i] = now_s() - t;
    }
    *warm_out = warm;
    return n;
}

/* {"type":TYPE,"name":NAME,"precision":...,"error":MSG} (quotes,
 * backslashes and newlines of msg dropped). */
static inline void bench_print_error(const char *type, const char *name,
                                     const char *msg)
{
    printf("{\"type\":\"%s\",\"name\":\"%s\",\"precision\":\"%s\","
           "\"error\":\"", type, name, bench_precision());
    for (const char *m = msg; m && *m; m++)
        if (*m != '"' && *m != '\\' && *m != '\n')
            putchar(*m);
    printf("\"}\n");
    fflush(stdout);
}

#endif
