/*
 * curve.c - loss curves of the command line: the points a command's
 * progress callback sees (one per step, in named series such as "forget"
 * and "retain") kept in memory and drawn at the end as a line plot
 * (lethe/plot.h) for --loss-plot; a series of few points (a forget pass
 * of one minibatch per epoch) also gets markers, so it shows. A path that
 * ends in .csv gets the points instead ("series,x,y" lines), which
 * `lethe plot` overlays with other runs' (plot.c).
 */
#include "cli/common.h"
#include "lethe/io.h"
#include "lethe/plot.h"

#include <stdlib.h>
#include <string.h>

void cli_curve_add(cli_curve *c, const char *series, double x, double y)
{
    if (c->failed)
        return;
    int s = 0;
    while (s < c->n_names && strcmp(c->names[s], series))
        s++;
    if (s == c->n_names) {
        if (s == CLI_CURVE_MAX) /* more series than a legend holds */
            return;
        snprintf(c->names[s], sizeof c->names[s], "%s", series);
        c->n_names++;
    }
    if (c->n == c->cap) {
        int cap = c->cap ? 2 * c->cap : 1024;
        double *x2 = realloc(c->x, (size_t)cap * sizeof *x2);
        if (x2)
            c->x = x2;
        double *y2 = realloc(c->y, (size_t)cap * sizeof *y2);
        if (y2)
            c->y = y2;
        int *s2 = realloc(c->series, (size_t)cap * sizeof *s2);
        if (s2)
            c->series = s2;
        if (!x2 || !y2 || !s2) {
            c->failed = true; /* reported by cli_curve_write */
            return;
        }
        c->cap = cap;
    }
    c->x[c->n] = x;
    c->y[c->n] = y;
    c->series[c->n++] = s;
}

/* The points of series s, in order, into x, y; their count. */
static int cli_curve_pick(const cli_curve *c, int s, double *x, double *y)
{
    int n = 0;
    for (int i = 0; i < c->n; i++)
        if (c->series[i] == s) {
            x[n] = c->x[i];
            y[n++] = c->y[i];
        }
    return n;
}

/* The points as CSV, atomically: a header, then "series,x,y" per point. */
static int cli_curve_csv(const char *cmd, const cli_curve *c,
                         const char *path)
{
    lt_atomic_file *a;
    if (lt_atomic_open(path, &a) != LT_OK)
        return cli_fail(cmd, NULL);
    FILE *f = lt_atomic_stream(a);
    fprintf(f, "series,x,y\n");
    for (int i = 0; i < c->n; i++)
        fprintf(f, "%s,%.17g,%.9g\n", c->names[c->series[i]], c->x[i],
                c->y[i]);
    return lt_atomic_commit(a) == LT_OK ? 0 : cli_fail(cmd, NULL);
}

int cli_curve_write(const char *cmd, const cli_curve *c, const char *path,
                    const char *title, const char *xlabel, const char *ylabel)
{
    if (c->failed) {
        fprintf(stderr, "lethe %s: %s: out of memory for the loss curve\n",
                cmd, path);
        return 1;
    }
    if (cli_ends_with(path, ".csv"))
        return cli_curve_csv(cmd, c, path);
    lt_plot_series s[CLI_CURVE_MAX];
    double *xs = malloc((size_t)(c->n + 1) * sizeof *xs * 2);
    if (!xs) {
        fprintf(stderr, "lethe %s: %s: out of memory\n", cmd, path);
        return 1;
    }
    double *ys = xs + c->n + 1;
    int used = 0;
    for (int k = 0; k < c->n_names; k++) {
        int n = cli_curve_pick(c, k, xs + used, ys + used);
        s[k] = (lt_plot_series){.label = c->n_names > 1 ? c->names[k] : NULL,
                                .x = xs + used, .y = ys + used, .n = n,
                                .line = true, .markers = n <= 40};
        used += n;
    }
    lt_plot p = lt_plot_defaults();
    p.title = title;
    p.xlabel = xlabel;
    p.ylabel = ylabel;
    p.series = s;
    p.n_series = c->n_names;
    int rc = lt_plot_write_png(&p, path) == LT_OK ? 0 : cli_fail(cmd, path);
    free(xs);
    return rc;
}

void cli_curve_free(cli_curve *c)
{
    free(c->x);
    free(c->y);
    free(c->series);
    *c = (cli_curve){0};
}
