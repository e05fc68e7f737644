/*
 * plot.c - line and scatter plots drawn with cairo into an RGB image and
 * written as PNG by lt_png_write (lethe/plot.h). The layout (margins, the
 * axis ranges widened to nice ticks, log axes) is computed once by
 * lt_plot_frame, which both the renderer and lt_plot_locate use, so a test
 * can ask where a data point must appear and look at that pixel.
 */
#include "lethe/plot.h"
#include "lethe/png.h"

#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Margins around the plot area, in pixels, and the font sizes. */
enum { LT_PL_LEFT = 78, LT_PL_RIGHT = 24, LT_PL_TOP = 44, LT_PL_BOTTOM = 58 };
static const double lt_pl_font = 12, lt_pl_title_font = 15;
#define LT_PL_PI 3.14159265358979323846

/* Tableau's ten colours, cycled over the series. */
static const double lt_pl_colors[10][3] = {
    {0.122, 0.467, 0.706}, {1.000, 0.498, 0.055}, {0.173, 0.627, 0.173},
    {0.839, 0.153, 0.157}, {0.580, 0.404, 0.741}, {0.549, 0.337, 0.294},
    {0.890, 0.467, 0.761}, {0.498, 0.498, 0.498}, {0.737, 0.741, 0.133},
    {0.090, 0.745, 0.812}};

lt_plot lt_plot_defaults(void)
{
    return (lt_plot){.width = 640, .height = 480, .xmin = NAN, .xmax = NAN,
                     .ymin = NAN, .ymax = NAN};
}

/* ---- ticks and ranges --------------------------------------------------- */

int lt_plot_ticks(double lo, double hi, int max_ticks, double *ticks)
{
    if (!isfinite(lo) || !isfinite(hi) || lo > hi || max_ticks < 2)
        return 0;
    if (max_ticks > LT_PLOT_MAX_TICKS)
        max_ticks = LT_PLOT_MAX_TICKS;
    if (hi == lo) {
        double half = lo == 0 ? 0.5 : fabs(lo) * 0.5;
        lo -= half;
        hi += half;
    }
    double raw = (hi - lo) / (max_ticks - 1);
    double mag = pow(10, floor(log10(raw)));
    static const double mult[] = {1, 2, 5, 10, 20};
    for (int i = 0; i < 5; i++) {
        double step = mult[i] * mag;
        double a = floor(lo / step + 1e-9), b = ceil(hi / step - 1e-9);
        int n = (int)(b - a) + 1;
        if (n > max_ticks)
            continue;
        for (int k = 0; k < n; k++)
            ticks[k] = (a + k) * step + 0.0; /* no -0 */
        return n;
    }
    return 0;
}

/* One axis: its range in plotted units (log10 of the value on a log axis)
 * and its ticks in the same units. */
typedef struct {
    double lo, hi;
    double ticks[LT_PLOT_MAX_TICKS];
    int n_ticks;
    bool log;
} lt_pl_axis;

typedef struct {
    double x0, y0, x1, y1;     /* plot area, pixels */
    lt_pl_axis ax, ay;
} lt_pl_frame;

/* v in plotted units (NaN when it cannot be shown on this axis). */
static double lt_pl_unit(const lt_pl_axis *a, double v)
{
    if (!isfinite(v))
        return NAN;
    return a->log ? (v > 0 ? log10(v) : NAN) : v;
}

/* Fold v +- err (err may be NULL or NaN) into [*lo, *hi]. */
static void lt_pl_extend(const lt_pl_axis *a, double v, const double *err,
                         double *lo, double *hi)
{
    double e = err && isfinite(*err) ? fabs(*err) : 0;
    double vs[3] = {v, v - e, v + e};
    for (int i = 0; i < 3; i++) {
        double u = lt_pl_unit(a, vs[i]);
        if (isfinite(u)) {
            *lo = fmin(*lo, u);
            *hi = fmax(*hi, u);
        }
    }
}

/* The ticks of a log axis: integer exponents, every k-th. */
static int lt_pl_log_ticks(double lo, double hi, double *t)
{
    double a = floor(lo), b = ceil(hi);
    if (a == b)
        b = a + 1;
    int step = (int)ceil((b - a + 1) / 8.0);
    int n = 0;
    for (double e = a; e <= b + 1e-9 && n < LT_PLOT_MAX_TICKS; e += step)
        t[n++] = e;
    if (t[n - 1] < b) /* the last tick covers hi */
        t[n - 1] = t[n - 2] + step;
    return n;
}

/* Find the axis range of one direction (fixed ends kept; free ends padded
 * by 4%, not across 0, and widened to the outer ticks). */
static bool lt_pl_axis_fit(lt_pl_axis *a, double lo, double hi, double fmin_,
                           double fmax_)
{
    double flo = lt_pl_unit(a, fmin_), fhi = lt_pl_unit(a, fmax_);
    if (isfinite(flo))
        lo = flo;
    if (isfinite(fhi))
        hi = fhi;
    if (!isfinite(lo) || !isfinite(hi) || lo > hi)
        return false;
    double pad = 0.04 * (hi - lo); /* points off the frame's edges, but */
    if (!isfinite(flo))            /* no crossing of 0 on a linear axis */
        lo = !a->log && lo >= 0 && lo - pad < 0 ? 0 : lo - pad;
    if (!isfinite(fhi))
        hi = !a->log && hi <= 0 && hi + pad > 0 ? 0 : hi + pad;
    double t[LT_PLOT_MAX_TICKS];
    int n = a->log ? lt_pl_log_ticks(lo, hi, t) : lt_plot_ticks(lo, hi, 8, t);
    if (n < 2)
        return false;
    a->lo = isfinite(flo) ? flo : fmin(t[0], lo);
    a->hi = isfinite(fhi) ? fhi : fmax(t[n - 1], hi);
    if (a->hi <= a->lo)
        a->hi = a->lo + 1;
    a->n_ticks = 0;
    for (int i = 0; i < n; i++)
        if (t[i] >= a->lo - 1e-9 * fabs(a->hi - a->lo) &&
            t[i] <= a->hi + 1e-9 * fabs(a->hi - a->lo))
            a->ticks[a->n_ticks++] = t[i];
    return true;
}

static lt_status lt_plot_frame(const lt_plot *p, lt_pl_frame *f)
{
    if (p->width < 64 || p->height < 64 || p->width > 8192 ||
        p->height > 8192)
        return lt_set_error(LT_ERR_ARG, "plot: size %d x %d (each side "
                            "64..8192)", p->width, p->height);
    if (p->n_series < 1 || p->n_series > LT_PLOT_MAX_SERIES || !p->series)
        return lt_set_error(LT_ERR_ARG, "plot: %d series (1..%d)",
                            p->n_series, LT_PLOT_MAX_SERIES);
    *f = (lt_pl_frame){.x0 = LT_PL_LEFT, .y0 = LT_PL_TOP,
                       .x1 = p->width - LT_PL_RIGHT,
                       .y1 = p->height - LT_PL_BOTTOM};
    f->ax.log = p->log_x;
    f->ay.log = p->log_y;
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    for (int s = 0; s < p->n_series; s++) {
        const lt_plot_series *S = &p->series[s];
        for (int i = 0; i < S->n; i++) {
            if (!isfinite(lt_pl_unit(&f->ax, S->x[i])) ||
                !isfinite(lt_pl_unit(&f->ay, S->y[i])))
                continue;
            lt_pl_extend(&f->ax, S->x[i], S->xerr ? &S->xerr[i] : NULL,
                         &xlo, &xhi);
            lt_pl_extend(&f->ay, S->y[i], S->yerr ? &S->yerr[i] : NULL,
                         &ylo, &yhi);
        }
    }
    if (!lt_pl_axis_fit(&f->ax, xlo, xhi, p->xmin, p->xmax) ||
        !lt_pl_axis_fit(&f->ay, ylo, yhi, p->ymin, p->ymax))
        return lt_set_error(LT_ERR_ARG, "plot: no point to draw (every value "
                            "is missing%s)", p->log_x || p->log_y ?
                            ", or not positive on a log axis" : "");
    return LT_OK;
}

static double lt_pl_px(const lt_pl_frame *f, double u)
{
    return f->x0 + (u - f->ax.lo) / (f->ax.hi - f->ax.lo) * (f->x1 - f->x0);
}

static double lt_pl_py(const lt_pl_frame *f, double u)
{
    return f->y1 - (u - f->ay.lo) / (f->ay.hi - f->ay.lo) * (f->y1 - f->y0);
}

bool lt_plot_locate(const lt_plot *p, double x, double y, double *px,
                    double *py)
{
    lt_pl_frame f;
    if (lt_plot_frame(p, &f) != LT_OK)
        return false;
    *px = lt_pl_px(&f, lt_pl_unit(&f.ax, x));
    *py = lt_pl_py(&f, lt_pl_unit(&f.ay, y));
    return isfinite(*px) && isfinite(*py);
}

/* ---- drawing -------------------------------------------------------------- */

/* The text of tick t: "1e-05" style on a log axis, else with as many
 * decimals as the tick step needs. */
static void lt_pl_tick_text(const lt_pl_axis *a, double t, char *buf,
                            size_t n)
{
    if (a->log) {
        snprintf(buf, n, "%g", pow(10, t));
        return;
    }
    double step = a->n_ticks > 1 ? a->ticks[1] - a->ticks[0] : 1;
    int dec = step > 0 ? (int)fmax(0, -floor(log10(step) + 1e-9)) : 0;
    snprintf(buf, n, "%.*f", dec > 6 ? 6 : dec, t);
}

/* Text anchored at (x, y): ax, ay in [0, 1] pick the point of its box. */
static void lt_pl_text(cairo_t *cr, double x, double y, double ax, double ay,
                       const char *s)
{
    cairo_text_extents_t e;
    cairo_text_extents(cr, s, &e);
    cairo_move_to(cr, x - e.x_bearing - ax * e.width,
                  y - e.y_bearing - ay * e.height);
    cairo_show_text(cr, s);
}

static void lt_pl_axes(cairo_t *cr, const lt_plot *p, const lt_pl_frame *f)
{
    char buf[64];
    cairo_set_line_width(cr, 1);
    for (int i = 0; i < f->ax.n_ticks; i++) { /* grid, ticks, labels: x */
        double x = floor(lt_pl_px(f, f->ax.ticks[i])) + 0.5;
        cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
        cairo_move_to(cr, x, f->y0);
        cairo_line_to(cr, x, f->y1);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_move_to(cr, x, f->y1);
        cairo_line_to(cr, x, f->y1 + 5);
        cairo_stroke(cr);
        lt_pl_tick_text(&f->ax, f->ax.ticks[i], buf, sizeof buf);
        lt_pl_text(cr, x, f->y1 + 8, 0.5, 0, buf);
    }
    for (int i = 0; i < f->ay.n_ticks; i++) { /* and y */
        double y = floor(lt_pl_py(f, f->ay.ticks[i])) + 0.5;
        cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
        cairo_move_to(cr, f->x0, y);
        cairo_line_to(cr, f->x1, y);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_move_to(cr, f->x0 - 5, y);
        cairo_line_to(cr, f->x0, y);
        cairo_stroke(cr);
        lt_pl_tick_text(&f->ay, f->ay.ticks[i], buf, sizeof buf);
        lt_pl_text(cr, f->x0 - 8, y, 1, 0.5, buf);
    }
    cairo_rectangle(cr, f->x0 + 0.5, f->y0 + 0.5, f->x1 - f->x0 - 1,
                    f->y1 - f->y0 - 1);
    cairo_stroke(cr);
    if (p->xlabel)
        lt_pl_text(cr, (f->x0 + f->x1) / 2, p->height - 8, 0.5, 1, p->xlabel);
    if (p->ylabel) {
        cairo_save(cr);
        cairo_translate(cr, 8, (f->y0 + f->y1) / 2);
        cairo_rotate(cr, -LT_PL_PI / 2);
        lt_pl_text(cr, 0, 0, 0.5, 0, p->ylabel);
        cairo_restore(cr);
    }
    if (p->title) {
        cairo_save(cr);
        cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                               CAIRO_FONT_WEIGHT_BOLD);
        cairo_set_font_size(cr, lt_pl_title_font);
        lt_pl_text(cr, p->width / 2.0, 12, 0.5, 0, p->title);
        cairo_restore(cr);
    }
}

static void lt_pl_marker(cairo_t *cr, double x, double y)
{
    cairo_new_sub_path(cr);
    cairo_arc(cr, x, y, 3.5, 0, 2 * LT_PL_PI);
    cairo_fill(cr);
}

/* The error bars of point i of S at pixel (x, y). */
static void lt_pl_errbars(cairo_t *cr, const lt_pl_frame *f,
                          const lt_plot_series *S, int i, double x, double y)
{
    cairo_set_line_width(cr, 1.2);
    if (S->yerr && isfinite(S->yerr[i]) && S->yerr[i] != 0) {
        double e = fabs(S->yerr[i]);
        double a = lt_pl_unit(&f->ay, S->y[i] - e);
        double b = lt_pl_unit(&f->ay, S->y[i] + e);
        double ya = isfinite(a) ? lt_pl_py(f, a) : f->y1, yb = lt_pl_py(f, b);
        cairo_move_to(cr, x, ya);
        cairo_line_to(cr, x, yb);
        cairo_move_to(cr, x - 4, ya);
        cairo_line_to(cr, x + 4, ya);
        cairo_move_to(cr, x - 4, yb);
        cairo_line_to(cr, x + 4, yb);
        cairo_stroke(cr);
    }
    if (S->xerr && isfinite(S->xerr[i]) && S->xerr[i] != 0) {
        double e = fabs(S->xerr[i]);
        double a = lt_pl_unit(&f->ax, S->x[i] - e);
        double b = lt_pl_unit(&f->ax, S->x[i] + e);
        double xa = isfinite(a) ? lt_pl_px(f, a) : f->x0, xb = lt_pl_px(f, b);
        cairo_move_to(cr, xa, y);
        cairo_line_to(cr, xb, y);
        cairo_move_to(cr, xa, y - 4);
        cairo_line_to(cr, xa, y + 4);
        cairo_move_to(cr, xb, y - 4);
        cairo_line_to(cr, xb, y + 4);
        cairo_stroke(cr);
    }
}

/* The boxes of the point labels drawn so far (x0, y0, x1, y1), so a new
 * label can move to where it overlaps the fewest. */
typedef struct {
    double (*box)[4];
    int n;
} lt_pl_taken;

static int lt_pl_overlaps(const lt_pl_taken *t, const double *b)
{
    int n = 0;
    for (int i = 0; i < t->n; i++)
        n += b[0] < t->box[i][2] && t->box[i][0] < b[2] &&
             b[1] < t->box[i][3] && t->box[i][1] < b[3];
    return n;
}

/* Label s beside the point at (x, y): right above, right below, left
 * above, left below, then further up or down; the first free place, else
 * the least crowded. */
static void lt_pl_label(cairo_t *cr, lt_pl_taken *t, double x, double y,
                        const char *s)
{
    static const double off[6][2] = {{6, -4}, {6, 4}, {-6, -4}, {-6, 4},
                                     {6, -18}, {6, 18}};
    cairo_text_extents_t e;
    cairo_text_extents(cr, s, &e);
    double best[4] = {0}, w = e.width + 2, h = e.height + 2;
    int least = -1;
    for (int k = 0; k < 6 && least != 0; k++) {
        double bx = off[k][0] > 0 ? x + off[k][0] : x + off[k][0] - w;
        double by = off[k][1] < 0 ? y + off[k][1] - h : y + off[k][1];
        double b[4] = {bx, by, bx + w, by + h};
        int c = t ? lt_pl_overlaps(t, b) : 0;
        if (least < 0 || c < least) {
            least = c;
            memcpy(best, b, sizeof best);
        }
    }
    lt_pl_text(cr, best[0] + 1, best[1] + 1, 0, 0, s);
    if (t)
        memcpy(t->box[t->n++], best, sizeof best);
}

static void lt_pl_series(cairo_t *cr, const lt_pl_frame *f,
                         const lt_plot_series *S, const double *rgb,
                         lt_pl_taken *taken)
{
    cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
    if (S->line) {
        bool pen = false;
        cairo_set_line_width(cr, 2);
        for (int i = 0; i < S->n; i++) {
            double u = lt_pl_unit(&f->ax, S->x[i]);
            double v = lt_pl_unit(&f->ay, S->y[i]);
            if (!isfinite(u) || !isfinite(v)) {
                pen = false;
                continue;
            }
            if (pen)
                cairo_line_to(cr, lt_pl_px(f, u), lt_pl_py(f, v));
            else
                cairo_move_to(cr, lt_pl_px(f, u), lt_pl_py(f, v));
            pen = true;
        }
        cairo_stroke(cr);
    }
    for (int i = 0; i < S->n; i++) {
        double u = lt_pl_unit(&f->ax, S->x[i]);
        double v = lt_pl_unit(&f->ay, S->y[i]);
        if (!isfinite(u) || !isfinite(v))
            continue;
        double x = lt_pl_px(f, u), y = lt_pl_py(f, v);
        lt_pl_errbars(cr, f, S, i, x, y);
        if (S->markers || !S->line)
            lt_pl_marker(cr, x, y);
        if (S->point_labels && S->point_labels[i]) {
            cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
            lt_pl_label(cr, taken, x, y, S->point_labels[i]);
            cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        }
    }
}

/* The points of p inside the box (x, y, w, h), in pixels. */
static int lt_pl_covered(const lt_plot *p, const lt_pl_frame *f, double x,
                         double y, double w, double h)
{
    int n = 0;
    for (int s = 0; s < p->n_series; s++)
        for (int i = 0; i < p->series[s].n; i++) {
            double px = lt_pl_px(f, lt_pl_unit(&f->ax, p->series[s].x[i]));
            double py = lt_pl_py(f, lt_pl_unit(&f->ay, p->series[s].y[i]));
            n += px >= x - 8 && px <= x + w + 8 && py >= y - 8 &&
                 py <= y + h + 8;
        }
    return n;
}

/* The legend: a box in the corner of the plot area that covers the
 * fewest points (top right first), one line per labelled series. */
static void lt_pl_legend(cairo_t *cr, const lt_plot *p, const lt_pl_frame *f)
{
    double w = 0, line = lt_pl_font + 6;
    int n = 0;
    for (int s = 0; s < p->n_series; s++) {
        const char *l = p->series[s].label;
        if (!l || !*l)
            continue;
        cairo_text_extents_t e;
        cairo_text_extents(cr, l, &e);
        w = fmax(w, e.x_advance);
        n++;
    }
    if (!n)
        return;
    double bw = w + 40, bh = n * line + 8;
    double cx[4] = {f->x1 - bw - 8, f->x0 + 8, f->x1 - bw - 8, f->x0 + 8};
    double cy[4] = {f->y0 + 8, f->y0 + 8, f->y1 - bh - 8, f->y1 - bh - 8};
    int best = 0, least = -1;
    for (int k = 0; k < 4; k++) {
        int c = lt_pl_covered(p, f, cx[k], cy[k], bw, bh);
        if (least < 0 || c < least) {
            least = c;
            best = k;
        }
    }
    double bx = cx[best], by = cy[best];
    cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
    cairo_rectangle(cr, bx, by, bw, bh);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
    cairo_set_line_width(cr, 1);
    cairo_stroke(cr);
    int k = 0;
    for (int s = 0; s < p->n_series; s++) {
        const lt_plot_series *S = &p->series[s];
        if (!S->label || !*S->label)
            continue;
        const double *c = lt_pl_colors[s % 10];
        double y = by + 4 + (k++ + 0.5) * line;
        cairo_set_source_rgb(cr, c[0], c[1], c[2]);
        if (S->line) {
            cairo_set_line_width(cr, 2);
            cairo_move_to(cr, bx + 6, y);
            cairo_line_to(cr, bx + 26, y);
            cairo_stroke(cr);
        }
        if (S->markers || !S->line)
            lt_pl_marker(cr, bx + 16, y);
        cairo_set_source_rgb(cr, 0, 0, 0);
        lt_pl_text(cr, bx + 32, y, 0, 0.5, S->label);
    }
}

/* Copy cairo's xRGB words into packed RGB bytes. */
static void lt_pl_copy(cairo_surface_t *s, int w, int h, uint8_t *pix)
{
    cairo_surface_flush(s);
    const unsigned char *d = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    for (int y = 0; y < h; y++) {
        const uint32_t *row = (const uint32_t *)(const void *)(d + (size_t)y * stride);
        for (int x = 0; x < w; x++) {
            uint8_t *o = pix + ((size_t)y * w + x) * 3;
            o[0] = (uint8_t)(row[x] >> 16);
            o[1] = (uint8_t)(row[x] >> 8);
            o[2] = (uint8_t)row[x];
        }
    }
}

lt_status lt_plot_render(const lt_plot *p, uint8_t *pix)
{
    lt_pl_frame f;
    lt_status st = lt_plot_frame(p, &f);
    if (st != LT_OK)
        return st;
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24,
                                                    p->width, p->height);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(s);
        return lt_set_error(LT_ERR_NOMEM, "plot: cannot allocate %d x %d",
                            p->width, p->height);
    }
    cairo_t *cr = cairo_create(s);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                           CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, lt_pl_font);
    lt_pl_axes(cr, p, &f);
    cairo_save(cr);
    cairo_rectangle(cr, f.x0, f.y0, f.x1 - f.x0, f.y1 - f.y0);
    cairo_clip(cr);
    int points = 0;
    for (int i = 0; i < p->n_series; i++)
        points += p->series[i].point_labels ? p->series[i].n : 0;
    lt_pl_taken taken = {points ? malloc((size_t)points * sizeof *taken.box)
                         : NULL, 0};
    for (int i = 0; i < p->n_series; i++) /* labels crowd: best effort */
        lt_pl_series(cr, &f, &p->series[i], lt_pl_colors[i % 10],
                     taken.box ? &taken : NULL);
    free(taken.box);
    cairo_restore(cr);
    lt_pl_legend(cr, p, &f);
    st = cairo_status(cr) == CAIRO_STATUS_SUCCESS ? LT_OK :
        lt_set_error(LT_ERR_NOMEM, "plot: cairo: %s",
                     cairo_status_to_string(cairo_status(cr)));
    if (st == LT_OK)
        lt_pl_copy(s, p->width, p->height, pix);
    cairo_destroy(cr);
    cairo_surface_destroy(s);
    return st;
}

lt_status lt_plot_write_png(const lt_plot *p, const char *path)
{
    if (p->width < 64 || p->height < 64 || p->width > 8192 ||
        p->height > 8192)
        return lt_plot_render(p, NULL); /* the size error */
    uint8_t *pix = malloc((size_t)p->width * p->height * 3);
    if (!pix)
        return lt_set_error(LT_ERR_NOMEM, "plot: %s: out of memory", path);
    lt_status st = lt_plot_render(p, pix);
    if (st == LT_OK)
        st = lt_png_write(path, p->width, p->height, 3, pix);
    free(pix);
    return st;
}
