/*
 * plots.c - the trade-off plots of the benchmark reports (lethe/bench.h):
 * a row of a result table becomes a labelled point at the mean of two of
 * its number columns with sample-std error bars, a table becomes a series
 * (random and worst-case sets side by side), drawn by lethe/plot.h. UA
 * against TA for classification (SalUn's efficacy-utility trade-off),
 * forget quality (a KS-test p-value, so a log axis) against model utility
 * for TOFU.
 */
#include "lethe/bench.h"
#include "lethe/plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The points of one table: means, stds and labels of its rows. */
typedef struct {
    double *x, *y, *xe, *ye;
    char (*text)[2 * LT_TABLE_TEXT];
    const char **labels;
    int n;
} lt_pts;

static void lt_pts_free(lt_pts *p)
{
    free(p->x);
    free(p->y);
    free(p->xe);
    free(p->ye);
    free(p->text);
    free(p->labels);
}

/* The row's visible text cells joined by spaces ("npo none adamw"),
 * placeholders left out. */
static void lt_row_label(const lt_table *t, const lt_table_row *r, char *buf,
                         size_t n)
{
    size_t k = 0;
    buf[0] = '\0';
    for (int c = 0; c < t->n_cols && k + 1 < n; c++) {
        if (t->cols[c].fmt || t->cols[c].json_only || !r->text[c][0] ||
            !strcmp(r->text[c], "-")) /* the "-" of reference rows */
            continue;
        int w = snprintf(buf + k, n - k, "%s%s", k ? " " : "", r->text[c]);
        k = w < 0 ? n : k + (size_t)w;
    }
}

/* Gather the points of t for columns cx, cy; 0 or LT_ERR_NOMEM. */
static lt_status lt_pts_fill(const lt_table *t, int cx, int cy, bool log_x,
                             lt_pts *p)
{
    int n = t->n_rows > 0 ? t->n_rows : 1;
    p->x = malloc((size_t)n * sizeof *p->x);
    p->y = malloc((size_t)n * sizeof *p->y);
    p->xe = malloc((size_t)n * sizeof *p->xe);
    p->ye = malloc((size_t)n * sizeof *p->ye);
    p->text = malloc((size_t)n * sizeof *p->text);
    p->labels = malloc((size_t)n * sizeof *p->labels);
    if (!p->x || !p->y || !p->xe || !p->ye || !p->text || !p->labels)
        return lt_set_error(LT_ERR_NOMEM, "plot: out of memory");
    for (int i = 0; i < t->n_rows; i++) {
        const lt_table_row *r = &t->rows[i];
        double mx, sx, my, sy;
        lt_table_row_stats(r, cx, &mx, &sx);
        lt_table_row_stats(r, cy, &my, &sy);
        if (!isfinite(mx) || !isfinite(my) || (log_x && !(mx > 0)))
            continue;
        p->x[p->n] = mx;
        p->y[p->n] = my;
        p->xe[p->n] = sx;
        p->ye[p->n] = sy;
        lt_row_label(t, r, p->text[p->n], sizeof p->text[0]);
        p->labels[p->n] = p->text[p->n];
        p->n++;
    }
    return LT_OK;
}

lt_status lt_report_plot(const lt_report *r, const char *xkey,
                         const char *ykey, bool log_x, const char *path)
{
    lt_pts pts[LT_REPORT_MAX_TABLES] = {{0}};
    lt_plot_series s[LT_REPORT_MAX_TABLES];
    const char *xhead = xkey, *yhead = ykey;
    int ns = 0, points = 0;
    lt_status st = LT_OK;
    for (int i = 0; i < r->n_tables && st == LT_OK; i++) {
        const lt_table *t = &r->tables[i];
        int cx = lt_table_col_index(t, xkey), cy = lt_table_col_index(t, ykey);
        if (cx < 0 || cy < 0 || !t->cols[cx].fmt || !t->cols[cy].fmt)
            continue;
        xhead = t->cols[cx].head;
        yhead = t->cols[cy].head;
        st = lt_pts_fill(t, cx, cy, log_x, &pts[ns]);
        s[ns] = (lt_plot_series){.label = r->n_tables > 1 ? t->title : NULL,
                                 .x = pts[ns].x, .y = pts[ns].y,
                                 .xerr = pts[ns].xe, .yerr = pts[ns].ye,
                                 .point_labels = pts[ns].labels,
                                 .n = pts[ns].n};
        points += pts[ns++].n;
    }
    if (st == LT_OK && !points)
        st = lt_set_error(LT_ERR_ARG, "plot %s: no row has both %s and %s",
                          path, xkey, ykey);
    if (st == LT_OK) {
        char title[600];
        snprintf(title, sizeof title, "%s", r->title);
        if (strlen(title) > 80 || !title[0])
            snprintf(title, sizeof title, "%s against %s", yhead, xhead);
        lt_plot p = lt_plot_defaults();
        p.width = 800;
        p.height = 560;
        p.title = title;
        p.xlabel = xhead;
        p.ylabel = yhead;
        p.log_x = log_x;
        p.series = s;
        p.n_series = ns;
        st = lt_plot_write_png(&p, path);
    }
    for (int i = 0; i < LT_REPORT_MAX_TABLES; i++) /* zeroed when unused */
        lt_pts_free(&pts[i]);
    return st;
}

/* Whether some table of r has number column key. */
static bool lt_report_has(const lt_report *r, const char *key)
{
    for (int i = 0; i < r->n_tables; i++) {
        int c = lt_table_col_index(&r->tables[i], key);
        if (c >= 0 && r->tables[i].cols[c].fmt)
            return true;
    }
    return false;
}

lt_status lt_report_plot_tradeoff(const lt_report *r, const char *path)
{
    if (lt_report_has(r, "forget_quality") && lt_report_has(r, "model_utility"))
        return lt_report_plot(r, "forget_quality", "model_utility", true, path);
    if (lt_report_has(r, "UA") && lt_report_has(r, "TA"))
        return lt_report_plot(r, "UA", "TA", false, path);
    return lt_set_error(LT_ERR_ARG, "plot %s: the report has neither UA and "
                        "TA nor forget quality and model utility", path);
}
