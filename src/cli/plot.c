/*
 * plot.c - `lethe plot`: overlay the loss curves of several runs in one
 * picture. Each run wrote its curve with --loss-plot FILE.csv ("series,x,y"
 * lines, curve.c); this command reads them and draws every series of every
 * file over one pair of axes (PNG), or merges them into one CSV. Used for
 * the fp32 / bf16 loss curves of docs/performance.md.
 */
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLOT_LINE 512

/* One "series,x,y" line into p; false (message printed) when malformed. */
static bool plot_parse_line(char *line, const char *path, int ln,
                            cli_curve *p)
{
    char *c1 = strchr(line, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
    char *end1 = NULL, *end2 = NULL;
    if (c1 && c2) {
        *c1 = *c2 = '\0';
        errno = 0;
        double x = strtod(c1 + 1, &end1), y = strtod(c2 + 1, &end2);
        while (end2 && (*end2 == '\n' || *end2 == '\r'))
            end2++;
        if (*line && end1 != c1 + 1 && *end1 == '\0' && end2 != c2 + 1 &&
            *end2 == '\0' && errno == 0) {
            cli_curve_add(p, line, x, y);
            if (p->failed)
                fprintf(stderr, "lethe plot: %s: out of memory\n", path);
            return !p->failed;
        }
    }
    fprintf(stderr, "lethe plot: %s:%d: not a \"series,x,y\" line (write "
            "curves with --loss-plot FILE.csv)\n", path, ln);
    return false;
}

static bool plot_read(const char *path, cli_curve *p)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "lethe plot: %s: %s\n", path, strerror(errno));
        return false;
    }
    char line[PLOT_LINE];
    int ln = 0;
    bool ok = true;
    while (ok && fgets(line, sizeof line, f)) {
        ln++;
        if (ln == 1 && !strncmp(line, "series,x,y", 10))
            continue;
        if (line[0] == '\n' || line[0] == '\0')
            continue;
        ok = plot_parse_line(line, path, ln, p);
    }
    if (ok && ln == 0) {
        fprintf(stderr, "lethe plot: %s: empty file\n", path);
        ok = false;
    }
    fclose(f);
    return ok;
}

/* Every point of one file's curve f into c, as "LABEL" when the file
 * holds one series, else "LABEL SERIES". */
static void plot_add_file(cli_curve *c, const cli_curve *f,
                          const char *label)
{
    for (int i = 0; i < f->n; i++) {
        char name[32];
        if (f->n_names == 1)
            snprintf(name, sizeof name, "%s", label);
        else
            snprintf(name, sizeof name, "%.15s %.15s", label,
                     f->names[f->series[i]]);
        cli_curve_add(c, name, f->x[i], f->y[i]);
    }
}

/* "a.csv=fp32,b.csv=bf16" into the curve; the label defaults to the file
 * name. */
static int plot_load(const char *list, cli_curve *c)
{
    char *copy = strdup(list);
    if (!copy)
        return cli_fail("plot", NULL);
    int rc = 0, files = 0;
    for (char *save = NULL, *item = strtok_r(copy, ",", &save);
         item && !rc; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        const char *label = item;
        if (eq) {
            *eq = '\0';
            label = eq + 1;
        }
        cli_curve f = {0};
        rc = plot_read(item, &f) ? 0 : 1;
        if (!rc)
            plot_add_file(c, &f, label);
        cli_curve_free(&f);
        files++;
    }
    free(copy);
    if (!rc && c->n_names >= CLI_CURVE_MAX)
        fprintf(stderr, "lethe plot: note: at most %d series are drawn\n",
                CLI_CURVE_MAX);
    return rc ? rc : files ? 0 : cli_usage("plot", "--curves lists no file");
}

int cli_plot(int argc, char **argv)
{
    const char *curves = NULL, *out = NULL, *title = NULL;
    const char *xlabel = "step", *ylabel = "loss";
    cli_opt opts[] = {
        {"--curves", CLI_OPT_STR, &curves,
         "A.csv[=LABEL],B.csv[=LABEL],... (written by --loss-plot X.csv)", 0,
         0},
        {"--out", CLI_OPT_STR, &out, "picture (.png) or merged .csv", 0, 0},
        {"--title", CLI_OPT_STR, &title, "title", 0, 0},
        {"--xlabel", CLI_OPT_STR, &xlabel, "x axis title [step]", 0, 0},
        {"--ylabel", CLI_OPT_STR, &ylabel, "y axis title [loss]", 0, 0},
    };
    int rc = cli_args_parse(
        "plot",
        "usage: lethe plot --curves A.csv[=LABEL],... --out FILE.png\n"
        "Overlay loss curves that runs wrote with --loss-plot FILE.csv.",
        opts, CLI_NOPTS(opts), argc, argv);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (!curves || !out)
        return cli_usage("plot", "--curves A.csv,... and --out FILE are "
                                 "required");
    cli_curve c = {0};
    rc = plot_load(curves, &c);
    if (!rc)
        rc = cli_curve_write("plot", &c, out, title, xlabel, ylabel);
    cli_curve_free(&c);
    return rc;
}
