/*
 * report.c - `lethe report DIR`: turn a benchmark's results folder into
 * one static HTML page (lt_report_html in src/bench/report_html.c); this
 * file only parses the options and prints what the page holds.
 */
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/common.h"

#include <stdio.h>
#include <string.h>

int cli_report(int argc, char **argv)
{
    const char *out = NULL;
    cli_opt opts[] = {
        {"--out", CLI_OPT_STR, &out, "the page to write (DIR/report.html)", 0, 0},
    };
    /* DIR is the one argument that is not an option or its value */
    const char *dir = NULL;
    char *rest[64];
    int n = 0;
    for (int i = 0; i < argc && n < 64; i++) {
        bool value = i > 1 && !strcmp(argv[i - 1], "--out");
        if (i > 0 && argv[i][0] != '-' && !value && !dir)
            dir = argv[i];
        else
            rest[n++] = argv[i];
    }
    int rc = cli_args_parse("report", "usage: lethe report DIR [--out FILE]\n"
        "One static HTML page (no server needed) of a results folder: the "
        "tables of every\nresult JSON (lethe bench --json) with their "
        "command, commit, seeds and timings,\nand every PNG in it (trade-off "
        "plots, sample grids), embedded.", opts, CLI_NOPTS(opts), n, rest);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (!dir)
        return cli_usage("report", "DIR is required (a results folder)");
    if (out && !cli_ends_with(out, ".html"))
        return cli_usage("report", "--out: the page must be an .html file "
                         "(the folder's .json and .png files are its inputs)");
    char path[4200];
    if (!out) {
        snprintf(path, sizeof path, "%s/report.html", dir);
        out = path;
    }
    lt_report_page pg;
    if (lt_report_html(dir, out, &pg) != LT_OK)
        return cli_fail("report", NULL);
    printf("wrote %s: %d result file%s (%d tables, %d rows), %d picture%s",
           out, pg.reports, pg.reports == 1 ? "" : "s", pg.tables, pg.rows,
           pg.images, pg.images == 1 ? "" : "s");
    if (pg.skipped)
        printf(", %d other JSON file%s not shown", pg.skipped,
               pg.skipped == 1 ? "" : "s");
    printf("\n");
    return 0;
}
