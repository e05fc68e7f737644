/*
 * lethe/plot.h - plots as PNG pictures (io layer, drawn with cairo): line
 * plots (learning and unlearning curves) and scatter plots with point
 * labels and error bars (the trade-off plots of the benchmarks), with
 * axes, ticks, tick labels, axis titles, a title and a legend.
 *
 * A plot is a list of series over one pair of axes. Cairo draws into an
 * RGB image in memory; the pixels are written by lt_png_write (lethe/png.h),
 * so the write is atomic and equal plots give equal files.
 *
 *     double x[] = {1, 2, 3}, y[] = {2.3, 1.1, 0.7};
 *     lt_plot_series s = {.label = "train loss", .x = x, .y = y, .n = 3,
 *                         .line = true};
 *     lt_plot p = lt_plot_defaults();
 *     p.title = "loss"; p.xlabel = "step"; p.ylabel = "loss";
 *     p.series = &s; p.n_series = 1;
 *     lt_plot_write_png(&p, "loss.png");
 */
#ifndef LETHE_PLOT_H
#define LETHE_PLOT_H

#include "lethe/core.h"

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The most ticks an axis gets, and the most series a plot takes. */
#define LT_PLOT_MAX_TICKS 16
#define LT_PLOT_MAX_SERIES 64

/* One series: n points (x[i], y[i]); NaN or infinite points are skipped
 * (a line breaks there). Error bars are half-lengths (NULL: none; NaN
 * entries: no bar). point_labels[i] is drawn beside point i (NULL: none). */
typedef struct {
    const char *label;          /* legend entry (NULL or "": not listed) */
    const double *x, *y;
    const double *xerr, *yerr;
    const char *const *point_labels;
    int n;
    bool line;                  /* join the points; else markers only */
    bool markers;               /* also draw a marker at every point */
} lt_plot_series;

typedef struct {
    const char *title, *xlabel, *ylabel;  /* NULL: none */
    int width, height;                    /* pixels */
    /* Fixed axis ranges; NaN: from the data (with error bars), widened
     * to nice tick values. */
    double xmin, xmax, ymin, ymax;
    bool log_x, log_y;                    /* base-10 axes (positive data) */
    const lt_plot_series *series;
    int n_series;
} lt_plot;

/* 640 x 480, automatic ranges, linear axes, no titles, no series. */
LT_API lt_plot lt_plot_defaults(void);

/* Nice tick values covering [lo, hi] (steps of 1, 2 or 5 x 10^k, at most
 * max_ticks <= LT_PLOT_MAX_TICKS of them, the first <= lo and the last >=
 * hi); returns their count into ticks[], or 0 when lo or hi is not finite
 * or lo > hi. lo == hi is widened to a unit-sized range around it. */
LT_API int lt_plot_ticks(double lo, double hi, int max_ticks, double *ticks);

/* Draw p into a w x h RGB image (pix: width * height * 3 bytes, as
 * lt_png_write takes). LT_ERR_ARG for a bad size (each side 64..8192),
 * no series, too many, a log axis with no positive value, or no finite
 * point at all; LT_ERR_NOMEM. */
LT_API lt_status lt_plot_render(const lt_plot *p, uint8_t *pix);

/* Render p and write it to path as PNG (atomically). The errors of
 * lt_plot_render and lt_png_write. */
LT_API lt_status lt_plot_write_png(const lt_plot *p, const char *path);

/* Where data point (x, y) lands in p's picture, in pixels from the top
 * left (for tests and annotations); false when the ranges cannot be
 * found (as lt_plot_render's errors). */
LT_API bool lt_plot_locate(const lt_plot *p, double x, double y, double *px,
                           double *py);

#ifdef __cplusplus
}
#endif

#endif
