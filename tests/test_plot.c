/*
 * test_plot.c - plots (lethe/plot.h): nice tick values computed by hand,
 * where data points land for fixed ranges, that a line, a marker and an
 * error bar colour exactly the pixels lt_plot_locate names while empty
 * places stay white, log axes, the PNG written (size, read back, equal
 * bytes for equal plots) and the errors (bad size, no drawable point)
 * with no file left.
 */
#include "lt_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void check_ticks(double lo, double hi, int max, const double *want,
                        int n_want)
{
    double t[LT_PLOT_MAX_TICKS];
    int n = lt_plot_ticks(lo, hi, max, t);
    LT_CHECK(n == n_want, "ticks(%g, %g, %d): %d ticks, want %d", lo, hi, max,
             n, n_want);
    for (int i = 0; i < n && i < n_want; i++)
        LT_CHECK(fabs(t[i] - want[i]) < 1e-12, "ticks(%g, %g): [%d] %g, "
                 "want %g", lo, hi, i, t[i], want[i]);
}

LT_TEST(plot_ticks_nice)
{
    check_ticks(0.3, 9.2, 8, (double[]){0, 2, 4, 6, 8, 10}, 6);
    check_ticks(-0.013, 0.047, 8, (double[]){-0.02, -0.01, 0, 0.01, 0.02,
                                             0.03, 0.04, 0.05}, 8);
    check_ticks(5, 5, 5, (double[]){2, 4, 6, 8}, 4); /* widened by 50% */
    check_ticks(0, 100, 8, (double[]){0, 20, 40, 60, 80, 100}, 6);
    double t[LT_PLOT_MAX_TICKS];
    LT_CHECK(lt_plot_ticks(NAN, 1, 8, t) == 0, "NaN low end");
    LT_CHECK(lt_plot_ticks(2, 1, 8, t) == 0, "lo > hi");
}

/* A 640 x 480 plot with x in [0, 10] and y in [0, 1] fixed. */
static lt_plot fixed_plot(const lt_plot_series *s, int n)
{
    lt_plot p = lt_plot_defaults();
    p.xmin = 0, p.xmax = 10, p.ymin = 0, p.ymax = 1;
    p.title = "t";
    p.xlabel = "x";
    p.ylabel = "y";
    p.series = s;
    p.n_series = n;
    return p;
}

LT_TEST(plot_locate_fixed_ranges)
{
    double x[] = {0, 10}, y[] = {0, 1};
    lt_plot_series s = {.x = x, .y = y, .n = 2, .line = true};
    lt_plot p = fixed_plot(&s, 1);
    double px, py;
    /* the plot area: 78 px left, 24 right, 44 top, 58 bottom margins */
    LT_CHECK(lt_plot_locate(&p, 0, 0, &px, &py) && px == 78 && py == 480 - 58,
             "(0, 0) at (%g, %g)", px, py);
    LT_CHECK(lt_plot_locate(&p, 10, 1, &px, &py) && px == 640 - 24 &&
             py == 44, "(10, 1) at (%g, %g)", px, py);
    LT_CHECK(lt_plot_locate(&p, 5, 0.5, &px, &py) && px == 347 && py == 233,
             "(5, 0.5) at (%g, %g)", px, py);
}

/* The pixel (x, y) of a rendered 640-wide RGB picture. */
static const uint8_t *pixel(const uint8_t *pix, int x, int y)
{
    return pix + ((size_t)y * 640 + x) * 3;
}

/* Tableau blue (31, 119, 180) at full cover: red well below green and blue. */
static bool blueish(const uint8_t *c)
{
    return c[0] < 90 && c[2] > 150 && c[2] > c[0] + 80;
}

static bool white(const uint8_t *c)
{
    return c[0] == 255 && c[1] == 255 && c[2] == 255;
}

LT_TEST(plot_line_and_error_bar_pixels)
{
    double x[] = {0, 10}, y[] = {0.5, 0.5};
    double sx[] = {5}, sy[] = {0.3}, se[] = {0.2};
    lt_plot_series s[2] = {
        {.label = "line", .x = x, .y = y, .n = 2, .line = true},
        {.label = "point", .x = sx, .y = sy, .yerr = se, .n = 1},
    };
    lt_plot p = fixed_plot(s, 2);
    uint8_t *pix = malloc(640 * 480 * 3);
    LT_CHECK(lt_plot_render(&p, pix) == LT_OK, "%s", lt_last_error());
    double px, py;
    lt_plot_locate(&p, 3, 0.5, &px, &py); /* the 2 px line, y = 233 */
    LT_CHECK(blueish(pixel(pix, (int)px, (int)py)) &&
             blueish(pixel(pix, (int)px, (int)py - 1)),
             "line pixel at (%g, %g): %d %d %d", px, py,
             pixel(pix, (int)px, (int)py)[0], pixel(pix, (int)px, (int)py)[1],
             pixel(pix, (int)px, (int)py)[2]);
    lt_plot_locate(&p, 3, 0.35, &px, &py); /* nothing there */
    LT_CHECK(white(pixel(pix, (int)px, (int)py)), "empty place not white");
    /* the marker of the second series, orange (255, 127, 14) */
    lt_plot_locate(&p, 5, 0.3, &px, &py);
    const uint8_t *c = pixel(pix, (int)px, (int)py);
    LT_CHECK(c[0] > 200 && c[2] < 80, "marker: %d %d %d", c[0], c[1], c[2]);
    /* its error bar reaches 0.3 + 0.2 = 0.5 - 0.06 and 0.1 + 0.03 */
    lt_plot_locate(&p, 5, 0.44, &px, &py);
    c = pixel(pix, (int)px, (int)py);
    const uint8_t *c2 = pixel(pix, (int)px - 1, (int)py);
    LT_CHECK((c[0] > 150 && c[2] < 180) || (c2[0] > 150 && c2[2] < 180),
             "error bar: %d %d %d / %d %d %d", c[0], c[1], c[2], c2[0], c2[1],
             c2[2]);
    lt_plot_locate(&p, 5, 0.65, &px, &py); /* above the bar's cap: empty */
    LT_CHECK(white(pixel(pix, (int)px, (int)py)) &&
             white(pixel(pix, (int)px - 1, (int)py)), "above the error bar");
    LT_CHECK(white(pixel(pix, 639, 479)) && white(pixel(pix, 0, 0)),
             "corners not white");
    uint8_t *again = malloc(640 * 480 * 3);
    LT_CHECK(lt_plot_render(&p, again) == LT_OK &&
             !memcmp(pix, again, 640 * 480 * 3), "two renders differ");
    free(again);
    free(pix);
}

LT_TEST(plot_log_axis)
{
    double x[] = {1e-5, 1e-3, 1}, y[] = {1, 2, 3};
    lt_plot_series s = {.x = x, .y = y, .n = 3};
    lt_plot p = lt_plot_defaults();
    p.log_x = true;
    p.series = &s;
    p.n_series = 1;
    double a = 0, b = 0, c = 0, py;
    /* decades are equally spaced: 1e-5 .. 1e-3 is twice 1e-3 .. 1e-2 */
    LT_CHECK(lt_plot_locate(&p, 1e-5, 1, &a, &py) &&
             lt_plot_locate(&p, 1e-3, 1, &b, &py) &&
             lt_plot_locate(&p, 1e-2, 1, &c, &py), "%s", lt_last_error());
    LT_CHECK(fabs((b - a) - 2 * (c - b)) < 1e-9, "log spacing %g %g %g", a, b,
             c);
    double neg[] = {-1, 0, -3};
    s.x = neg;
    LT_CHECK(!lt_plot_locate(&p, 1, 1, &a, &py), "no positive x accepted");
    uint8_t px[3];
    LT_CHECK(lt_plot_render(&p, px) == LT_ERR_ARG &&
             strstr(lt_last_error(), "log axis"), "error: %s", lt_last_error());
}

LT_TEST(plot_png_written_and_errors)
{
    double x[] = {1, 2, 3}, y[] = {2.3, 1.1, 0.7};
    const char *names[] = {"a", "b", NULL};
    lt_plot_series s = {.label = "loss", .x = x, .y = y, .n = 3,
                        .line = true, .markers = true,
                        .point_labels = names};
    lt_plot p = lt_plot_defaults();
    p.title = "loss";
    p.series = &s;
    p.n_series = 1;
    char path[512];
    snprintf(path, sizeof path, "%s", lt_test_path("loss.png"));
    LT_CHECK(lt_plot_write_png(&p, path) == LT_OK, "%s", lt_last_error());
    int w, h, ch;
    uint8_t *pix = NULL;
    LT_CHECK(lt_png_read(path, &w, &h, &ch, &pix) == LT_OK && w == 640 &&
             h == 480 && ch == 3, "read back %dx%dx%d", w, h, ch);
    free(pix);
    p.width = 10;
    snprintf(path, sizeof path, "%s", lt_test_path("small.png"));
    LT_CHECK(lt_plot_write_png(&p, path) == LT_ERR_ARG &&
             strstr(lt_last_error(), "size"), "%s", lt_last_error());
    struct stat st;
    LT_CHECK(stat(path, &st) != 0 && !lt_test_tmp_left(path),
             "a file was left for a bad plot");
    p.width = 640;
    p.n_series = 0;
    LT_CHECK(lt_plot_write_png(&p, path) == LT_ERR_ARG, "no series");
    double nan[] = {NAN, NAN, NAN};
    s.y = nan;
    p.n_series = 1;
    LT_CHECK(lt_plot_write_png(&p, path) == LT_ERR_ARG &&
             strstr(lt_last_error(), "no point"), "%s", lt_last_error());
}

LT_TEST_MAIN()
