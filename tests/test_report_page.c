/*
 * test_report_page.c - the trade-off plot of a report (lt_report_plot*)
 * and the report page (lt_report_html): a results folder is made here (a
 * classification report written by lt_report_write_json, its plot, a
 * sample grid, an unrelated JSON) and the page is checked for its tables,
 * cells (mean ± std of known runs, per-seed runs, a failure's message),
 * settings, and embedded pictures (PNG bytes in base64); then the errors:
 * no folder, an empty folder, a broken .json, each leaving no page.
 */
#include "lt_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* A classify-shaped report: rows "FT" (two runs: UA 5 and 6, TA 90 and
 * 92), "GA" (one run) and "RL" (failed, no run). */
static void make_report(lt_report *r)
{
    static const lt_table_col cols[] = {
        {"label", "Method", NULL, 0, false},
        {"UA", "UA", "%.2f", 0, false},
        {"TA", "TA", "%.2f", 0, false},
        {"rte_s", "RTE (s)", "%.2f", 0, false},
    };
    *r = (lt_report){0};
    snprintf(r->title, sizeof r->title, "tiny classify");
    lt_report_set(r, "command", "lethe bench classify --seeds 2 <&>");
    lt_report_set(r, "commit", "abc123");
    lt_report_set_num(r, "seeds", 2);
    r->seconds = 12.5;
    lt_table *t = lt_report_table(r, "random", cols, 4);
    lt_table_row *a = lt_table_add_row(t);
    snprintf(a->text[0], LT_TABLE_TEXT, "FT");
    double v1[LT_TABLE_MAX_COLS] = {0, 5, 90, 1.5};
    double v2[LT_TABLE_MAX_COLS] = {0, 6, 92, 2.5};
    lt_table_row_add_run(a, v1);
    lt_table_row_add_run(a, v2);
    lt_table_row *b = lt_table_add_row(t);
    snprintf(b->text[0], LT_TABLE_TEXT, "GA");
    double v3[LT_TABLE_MAX_COLS] = {0, 30, 80, 0.25};
    lt_table_row_add_run(b, v3);
    lt_table_row *c = lt_table_add_row(t);
    snprintf(c->text[0], LT_TABLE_TEXT, "RL");
    c->failed = c->diverged = true;
    snprintf(c->message, sizeof c->message, "loss NaN at epoch 2");
}

LT_TEST(report_tradeoff_plot)
{
    lt_report r;
    make_report(&r);
    const char *p = lt_test_path("plot.png");
    LT_CHECK(lt_report_plot_tradeoff(&r, p) == LT_OK, "%s", lt_last_error());
    int w, h, c;
    uint8_t *pix = NULL;
    LT_CHECK(lt_png_read(p, &w, &h, &c, &pix) == LT_OK && w == 800 &&
             h == 560, "plot %dx%d", w, h);
    free(pix);
    /* no such columns: an error, no file */
    const char *q = lt_test_path("none.png");
    LT_CHECK(lt_report_plot(&r, "UA", "forget_quality", false, q) ==
             LT_ERR_ARG && !lt_test_exists(q), "plot of a missing column");
    /* a log x axis leaves out rows at x <= 0; none left: an error */
    r.tables[0].rows[0].v[0][1] = r.tables[0].rows[0].v[1][1] = 0;
    r.tables[0].rows[1].v[0][1] = -1;
    LT_CHECK(lt_report_plot(&r, "UA", "TA", true, q) == LT_ERR_ARG &&
             strstr(lt_last_error(), "no row"), "%s", lt_last_error());
    lt_report_free(&r);
}

/* The results folder: the report's JSON and Markdown, its plot, a 2 x 2
 * grey sample grid, and a JSON that is not a report. */
static const char *make_folder(void)
{
    static char dir[512];
    snprintf(dir, sizeof dir, "%s", lt_test_path("results"));
    mkdir(dir, 0755);
    lt_report r;
    make_report(&r);
    char p[600];
    snprintf(p, sizeof p, "%s/classify.json", dir);
    LT_CHECK(lt_report_write_json(&r, p) == LT_OK, "%s", lt_last_error());
    snprintf(p, sizeof p, "%s/classify.md", dir);
    LT_CHECK(lt_report_write_markdown(&r, p) == LT_OK, "%s", lt_last_error());
    snprintf(p, sizeof p, "%s/classify.png", dir);
    LT_CHECK(lt_report_plot_tradeoff(&r, p) == LT_OK, "%s", lt_last_error());
    lt_report_free(&r);
    float x[4 * 4 * 4];
    for (int i = 0; i < 64; i++)
        x[i] = (float)i / 63;
    snprintf(p, sizeof p, "%s/samples.png", dir);
    LT_CHECK(lt_png_grid(p, x, 4, 1, 4, 4, 2, 0, 1) == LT_OK, "%s",
             lt_last_error());
    snprintf(p, sizeof p, "%s/run.json", dir);
    LT_CHECK(lt_write_text_atomic(p, "{\"method\": \"ga\"}") == LT_OK, "%s",
             lt_last_error());
    return dir;
}

LT_TEST(report_page_tables_and_pictures)
{
    const char *dir = make_folder();
    const char *out = lt_test_path("page.html");
    lt_report_page pg;
    LT_CHECK(lt_report_html(dir, out, &pg) == LT_OK, "%s", lt_last_error());
    LT_CHECK(pg.reports == 1 && pg.tables == 1 && pg.rows == 3 &&
             pg.images == 2 && pg.skipped == 1, "counts %d %d %d %d %d",
             pg.reports, pg.tables, pg.rows, pg.images, pg.skipped);
    char *html = NULL;
    size_t n;
    LT_CHECK(lt_read_file(out, &html, &n) == LT_OK, "%s", lt_last_error());
    if (!html)
        return;
    LT_CHECK(count(html, "<table class=\"results\">") == 1, "results tables");
    LT_CHECK(count(html, "<table class=\"settings\">") == 1, "settings");
    LT_CHECK(count(html, "<tr") == 1 + 3 + 3 + 1, "rows: header + 3 rows, "
             "3 settings + seconds, got %d", count(html, "<tr"));
    /* FT: UA 5.5 +- 0.7071, TA 91 +- 1.4142, RTE 2 +- 0.7071 */
    LT_CHECK(strstr(html, "<td class=\"t\">FT</td><td>2</td><td>5.50 ± "
                    "0.7071</td><td>91.00 ± 1.41</td><td>2.00 ± 0.7071</td>"),
             "FT row cells");
    LT_CHECK(strstr(html, "seed 1: UA 5.00 TA 90.00 rte_s 1.50<br>seed 2: "
                    "UA 6.00 TA 92.00 rte_s 2.50"), "FT per-seed runs");
    /* GA: one run, no std */
    LT_CHECK(strstr(html, "<td class=\"t\">GA</td><td>1</td><td>30.00</td>"
                    "<td>80.00</td><td>0.2500</td><td></td>"), "GA row");
    LT_CHECK(strstr(html, "<tr class=\"failed\"><td class=\"t\">RL</td>"
                    "<td>0</td><td>—</td>") &&
             strstr(html, "diverged: loss NaN at epoch 2"), "RL row");
    LT_CHECK(strstr(html, "lethe bench classify --seeds 2 &lt;&amp;&gt;"),
             "command escaped");
    LT_CHECK(strstr(html, "<td>abc123</td>") && strstr(html, "<td>12.50</td>"),
             "commit and seconds");
    /* the plot right after its table, then the grid; PNG bytes embedded */
    const char *plot = strstr(html, "data-file=\"classify.png\"");
    const char *grid = strstr(html, "data-file=\"samples.png\"");
    LT_CHECK(plot && grid && plot < grid &&
             plot > strstr(html, "<table class=\"results\">"), "image order");
    LT_CHECK(count(html, "src=\"data:image/png;base64,iVBORw0KGgo") == 2,
             "embedded PNGs");
    LT_CHECK(!strstr(html, "src=\"classify") && !strstr(html, "run.json"),
             "no file referenced");
    free(html);
    /* the same folder gives the same bytes */
    char *again = NULL, *first = NULL;
    size_t n2;
    lt_read_file(out, &first, &n);
    LT_CHECK(lt_report_html(dir, out, NULL) == LT_OK &&
             lt_read_file(out, &again, &n2) == LT_OK && n == n2 &&
             !memcmp(first, again, n), "page not deterministic");
    free(first);
    free(again);
}

LT_TEST(report_page_errors)
{
    const char *out = lt_test_path("bad.html");
    LT_CHECK(lt_report_html(lt_test_path("no-such-dir"), out, NULL) == LT_ERR_IO &&
             strstr(lt_last_error(), "no-such-dir"), "%s", lt_last_error());
    const char *empty = lt_test_path("empty");
    mkdir(empty, 0755);
    LT_CHECK(lt_report_html(empty, out, NULL) == LT_ERR_ARG &&
             strstr(lt_last_error(), "no benchmark results"), "%s",
             lt_last_error());
    char p[600];
    snprintf(p, sizeof p, "%s/broken.json", empty);
    lt_write_text_atomic(p, "{\"tables\": [");
    LT_CHECK(lt_report_html(empty, out, NULL) == LT_ERR_FORMAT &&
             strstr(lt_last_error(), "broken.json"), "%s", lt_last_error());
    LT_CHECK(!lt_test_exists(out) && !lt_test_tmp_left(out), "a page was left");
}

LT_TEST_MAIN()
