/*
 * args.c - option parsing from a table (so every command gets the same
 * --help and the same errors) and the progress reporter with rate and ETA.
 */
#include "cli/args.h"
#include "lethe/core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The value an option holds before parsing: its default ("" for none). */
static void cli_args_default(const cli_opt *o, char *buf, size_t n)
{
    buf[0] = 0;
    if (o->type == CLI_OPT_STR && *(const char **)o->ptr)
        snprintf(buf, n, "%s", *(const char **)o->ptr);
    else if (o->type == CLI_OPT_INT)
        snprintf(buf, n, "%d", *(const int *)o->ptr);
    else if (o->type == CLI_OPT_FLOAT)
        snprintf(buf, n, "%g", (double)*(const float *)o->ptr);
    else if (o->type == CLI_OPT_U64)
        snprintf(buf, n, "%llu",
                 (unsigned long long)*(const uint64_t *)o->ptr);
}

static void cli_args_help(const char *usage, const cli_opt *o, int n)
{
    printf("%s\n\noptions:\n", usage);
    for (int i = 0; i < n; i++) {
        const char *arg = o[i].type == CLI_OPT_FLAG ? "" :
                          o[i].type == CLI_OPT_STR ? " S" : " N";
        char def[256];
        cli_args_default(&o[i], def, sizeof def);
        printf("  %s%-*s %s", o[i].name, (int)(16 - strlen(o[i].name)), arg,
               o[i].help);
        printf(def[0] ? " [%s]\n" : "\n", def);
    }
    printf("  --help           show this help\n");
}

static int cli_args_value(const char *cmd, cli_opt *o, const char *v)
{
    if (o->type == CLI_OPT_STR) {
        *(const char **)o->ptr = v;
        return 0;
    }
    char *end = NULL;
    double x = strtod(v, &end);
    if (end == v || *end) {
        fprintf(stderr, "lethe %s: %s expects a number, got '%s'\n", cmd,
                o->name, v);
        return 2;
    }
    if (o->lo != o->hi && (x < o->lo || x > o->hi)) {
        fprintf(stderr, "lethe %s: %s %s is out of range [%g, %g]\n", cmd,
                o->name, v, o->lo, o->hi);
        return 2;
    }
    if (o->type == CLI_OPT_INT)
        *(int *)o->ptr = (int)x;
    else if (o->type == CLI_OPT_FLOAT)
        *(float *)o->ptr = (float)x;
    else
        *(uint64_t *)o->ptr = (uint64_t)x;
    return 0;
}

int cli_args_parse(const char *cmd, const char *usage, cli_opt *opts, int n,
                  int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            cli_args_help(usage, opts, n);
            return 1;
        }
        cli_opt *o = NULL;
        for (int k = 0; k < n && !o; k++)
            if (!strcmp(argv[i], opts[k].name))
                o = &opts[k];
        if (!o) {
            fprintf(stderr, "lethe %s: unknown option '%s' (see lethe %s "
                    "--help)\n", cmd, argv[i], cmd);
            return 2;
        }
        if (o->type == CLI_OPT_FLAG) {
            *(bool *)o->ptr = true;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "lethe %s: %s needs a value\n", cmd, o->name);
            return 2;
        }
        int rc = cli_args_value(cmd, o, argv[++i]);
        if (rc)
            return rc;
    }
    return 0;
}

void cli_progress_start(cli_progress *p, const char *label, int64_t total)
{
    p->label = label;
    p->total = total;
    p->t0 = p->last = lt_clock_seconds();
    p->tty = isatty(2);
}

void cli_progress_update(cli_progress *p, int64_t done, const char *extra)
{
    double now = lt_clock_seconds();
    if (done < p->total && now - p->last < (p->tty ? 0.2 : 10.0))
        return;
    p->last = now;
    double el = now - p->t0, rate = el > 0 ? (double)done / el : 0;
    double eta = rate > 0 ? (double)(p->total - done) / rate : 0;
    int width = 24, fill = p->total ? (int)(width * done / p->total) : width;
    char bar[32];
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    fprintf(stderr, "%s%s [%s] %lld/%lld  %.0f/s  ETA %.0fs  %s%s",
            p->tty ? "\r" : "", p->label, bar, (long long)done,
            (long long)p->total, rate, eta, extra ? extra : "",
            p->tty ? "\033[K" : "\n");
    fflush(stderr);
}

void cli_progress_end(cli_progress *p)
{
    if (p->tty)
        fputc('\n', stderr);
}
