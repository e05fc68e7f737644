/*
 * args.c - option parsing from a table (so every command gets the same
 * --help and the same errors) and the progress reporter with rate and ETA.
 */
#include "cli/args.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void lt_args_help(const char *usage, const lt_opt *o, int n)
{
    printf("%s\n\noptions:\n", usage);
    for (int i = 0; i < n; i++) {
        const char *arg = o[i].type == LT_OPT_FLAG ? "" :
                          o[i].type == LT_OPT_STR ? " S" : " N";
        printf("  %s%-*s %s\n", o[i].name, (int)(16 - strlen(o[i].name)), arg,
               o[i].help);
    }
    printf("  --help           show this help\n");
}

static int lt_args_value(const char *cmd, lt_opt *o, const char *v)
{
    if (o->type == LT_OPT_STR) {
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
    if (o->type == LT_OPT_INT)
        *(int *)o->ptr = (int)x;
    else if (o->type == LT_OPT_FLOAT)
        *(float *)o->ptr = (float)x;
    else
        *(uint64_t *)o->ptr = (uint64_t)x;
    return 0;
}

int lt_args_parse(const char *cmd, const char *usage, lt_opt *opts, int n,
                  int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            lt_args_help(usage, opts, n);
            return 1;
        }
        lt_opt *o = NULL;
        for (int k = 0; k < n && !o; k++)
            if (!strcmp(argv[i], opts[k].name))
                o = &opts[k];
        if (!o) {
            fprintf(stderr, "lethe %s: unknown option '%s' (see lethe %s "
                    "--help)\n", cmd, argv[i], cmd);
            return 2;
        }
        if (o->type == LT_OPT_FLAG) {
            *(bool *)o->ptr = true;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "lethe %s: %s needs a value\n", cmd, o->name);
            return 2;
        }
        int rc = lt_args_value(cmd, o, argv[++i]);
        if (rc)
            return rc;
    }
    return 0;
}

double lt_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void lt_progress_start(lt_progress *p, const char *label, int64_t total)
{
    p->label = label;
    p->total = total;
    p->t0 = p->last = lt_now();
    p->tty = isatty(2);
}

void lt_progress_update(lt_progress *p, int64_t done, const char *extra)
{
    double now = lt_now();
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

void lt_progress_end(lt_progress *p)
{
    if (p->tty)
        fputc('\n', stderr);
}
