/*
 * report.c - `lethe report DIR`: turn a benchmark's results folder into
 * one static HTML page (lt_report_html in src/bench/report_html.c), and
 * `lethe report merge A.json B.json ...`: one mean ± std report from the
 * per-seed reports of a sweep run apart (lt_report_merge in
 * src/bench/report_merge.c); this file parses the options and prints.
 */
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/common.h"

#include <stdio.h>
#include <string.h>

/* Is argv[i] the value of an option of opts (rather than a file)? */
static bool cli_is_value(char **argv, int i, const cli_opt *opts, int n)
{
    for (int k = 0; i > 1 && k < n; k++)
        if (opts[k].type != CLI_OPT_FLAG && !strcmp(argv[i - 1], opts[k].name))
            return true;
    return false;
}

/* argv split into files (arguments that are neither an option nor an
 * option's value; the first max, *nf of them) and the rest (argv[0] first,
 * then every other argument, for cli_args_parse to parse or refuse, at
 * most 64); returns the rest's count. */
static int cli_split_files(int argc, char **argv, const cli_opt *opts,
                           int nopts, const char **files, int max, int *nf,
                           char **rest)
{
    int n = 0;
    *nf = 0;
    for (int i = 0; i < argc && n < 64; i++) {
        if (i > 0 && argv[i][0] != '-' && !cli_is_value(argv, i, opts, nopts)
            && *nf < max)
            files[(*nf)++] = argv[i];
        else
            rest[n++] = argv[i];
    }
    return n;
}

/* The heads and formats of the report file like, for r. */
static int cli_report_columns(lt_report *r, const char *like)
{
    lt_report l;
    if (lt_report_read_json(like, &l) != LT_OK)
        return cli_fail("report merge", NULL);
    lt_status st = lt_report_use_columns(r, &l);
    lt_report_free(&l);
    return st == LT_OK ? 0 : cli_fail("report merge", like);
}

/* lethe report merge FILE... : the reports read, merged, written. */
static int cli_report_merge(int argc, char **argv)
{
    const char *json = NULL, *md = NULL, *plot = NULL, *title = NULL,
               *like = NULL;
    cli_opt opts[] = {
        {"--json", CLI_OPT_STR, &json, "write the merged report as JSON", 0, 0},
        {"--markdown", CLI_OPT_STR, &md, "write it as Markdown", 0, 0},
        {"--plot", CLI_OPT_STR, &plot, "write its trade-off plot as PNG", 0, 0},
        {"--title", CLI_OPT_STR, &title, "its title (default: the first "
         "report's, \"seed N\" made \"seeds N1, N2, ...\")", 0, 0},
        {"--columns", CLI_OPT_STR, &like, "a report of the same benchmark whose "
         "column heads and formats to use (for files written before result "
         "files named their columns)", 0, 0},
    };
    const char *files[LT_TABLE_MAX_SEEDS + 1];
    char *rest[64];
    int nf, n = cli_split_files(argc, argv, opts, CLI_NOPTS(opts), files,
                                LT_TABLE_MAX_SEEDS + 1, &nf, rest);
    int rc = cli_args_parse("report merge", "usage: lethe report merge "
        "A.json B.json ... [--json F] [--markdown F] [--plot F]\n"
        "One report from the reports (lethe bench --json) of one benchmark "
        "run once per seed:\nrows matched by their text cells, every seed "
        "a run, cells mean ± sample std.\nSettings that differ become "
        "\"a | b | ...\". Prints the Markdown.", opts, CLI_NOPTS(opts), n,
        rest);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (nf < 1 || nf > LT_TABLE_MAX_SEEDS)
        return cli_usage("report merge", "give 1 to 16 report files "
                         "(lethe bench --json)");
    static lt_report in[LT_TABLE_MAX_SEEDS];
    lt_report out;
    memset(in, 0, sizeof in);
    memset(&out, 0, sizeof out);
    int k = 0;
    while (k < nf && lt_report_read_json(files[k], &in[k]) == LT_OK)
        k++;
    rc = k < nf ? cli_fail("report merge", NULL) : 0;
    if (!rc && lt_report_merge(in, nf, &out) != LT_OK)
        rc = cli_fail("report merge", NULL);
    char from[1024] = "";
    for (int i = 0, used = 0; !rc && i < nf && used < (int)sizeof from; i++)
        used += snprintf(from + used, sizeof from - (size_t)used, "%s%s",
                         i ? ", " : "", files[i]);
    if (!rc && (lt_report_set(&out, "merged_from", from) != LT_OK))
        rc = cli_fail("report merge", NULL);
    if (!rc && title)
        snprintf(out.title, sizeof out.title, "%s", title);
    if (!rc && like)
        rc = cli_report_columns(&out, like);
    for (int i = 0; i < k; i++)
        lt_report_free(&in[i]);
    if (rc) {
        lt_report_free(&out);
        return rc;
    }
    cli_bench_out o = {.json = json, .markdown = md, .plot = plot};
    return cli_bench_finish("report merge", LT_OK, &out, &o); /* frees out */
}

int cli_report(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "merge"))
        return cli_report_merge(argc - 1, argv + 1);
    const char *out = NULL;
    cli_opt opts[] = {
        {"--out", CLI_OPT_STR, &out, "the page to write (DIR/report.html)", 0, 0},
    };
    /* DIR is the one argument that is not an option or its value */
    const char *dir = NULL;
    char *rest[64];
    const char *files[1];
    int nf, n = cli_split_files(argc, argv, opts, CLI_NOPTS(opts), files, 1,
                                &nf, rest);
    dir = nf ? files[0] : NULL;
    int rc = cli_args_parse("report", "usage: lethe report DIR [--out FILE]\n"
        "       lethe report merge A.json B.json ... (see lethe report merge --help)\n"
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
