/*
 * args.c - option parsing from a table (so every command gets the same
 * --help and the same errors: unknown or repeated flags, numbers that are
 * not finite, out of range, or not whole for integer flags, seeds outside
 * [0, 2^64)) and the progress reporter with rate and ETA.
 */
#include "cli/args.h"
#include "lethe/core.h"

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
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
    else if (o->type == CLI_OPT_I64)
        snprintf(buf, n, "%lld", (long long)*(const int64_t *)o->ptr);
    else if (o->type == CLI_OPT_FLOAT && !isnan(*(const float *)o->ptr))
        snprintf(buf, n, "%g", (double)*(const float *)o->ptr); /* NaN: the
                                                    default depends on input */
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

/* A CLI_OPT_U64 value (a seed): decimal digits only, in [0, 2^64), so
 * "-1", "1e30" and "0x10" are refused rather than wrapped or rounded. */
static int cli_args_u64(const char *cmd, const cli_opt *o, const char *v)
{
    const char *p = v;
    while (*p >= '0' && *p <= '9')
        p++;
    errno = 0;
    unsigned long long x = p > v && !*p ? strtoull(v, NULL, 10) : 0;
    if (p == v || *p || errno == ERANGE) {
        fprintf(stderr, "lethe %s: %s expects a whole number in [0, 2^64), "
                "got '%s'\n", cmd, o->name, v);
        return 2;
    }
    if (o->lo != o->hi && ((double)x < o->lo || (double)x > o->hi)) {
        fprintf(stderr, "lethe %s: %s %s is out of range [%g, %g]\n", cmd,
                o->name, v, o->lo, o->hi);
        return 2;
    }
    *(uint64_t *)o->ptr = (uint64_t)x;
    return 0;
}

/* A number: finite, inside the option's range (or the type's when it has
 * none), and whole for CLI_OPT_INT. */
static int cli_args_value(const char *cmd, cli_opt *o, const char *v)
{
    if (o->type == CLI_OPT_STR) {
        *(const char **)o->ptr = v;
        return 0;
    }
    if (o->type == CLI_OPT_U64)
        return cli_args_u64(cmd, o, v);
    char *end = NULL;
    double x = strtod(v, &end);
    if (end == v || *end) {
        fprintf(stderr, "lethe %s: %s expects a number, got '%s'\n", cmd,
                o->name, v);
        return 2;
    }
    if (!isfinite(x)) {
        fprintf(stderr, "lethe %s: %s expects a finite number, got '%s'\n",
                cmd, o->name, v);
        return 2;
    }
    bool is_int = o->type == CLI_OPT_INT || o->type == CLI_OPT_I64;
    double lo = o->lo, hi = o->hi;
    if (lo == hi) { /* no range of its own: the type's (I64: exact doubles) */
        lo = o->type == CLI_OPT_I64 ? -9007199254740992.0
             : is_int ? INT_MIN : -FLT_MAX;
        hi = o->type == CLI_OPT_I64 ? 9007199254740992.0
             : is_int ? INT_MAX : FLT_MAX;
    }
    if (x < lo || x > hi) {
        fprintf(stderr, "lethe %s: %s %s is out of range [%g, %g]\n", cmd,
                o->name, v, lo, hi);
        return 2;
    }
    if (is_int && (double)(long long)x != x) {
        fprintf(stderr, "lethe %s: %s expects a whole number, got '%s'\n",
                cmd, o->name, v);
        return 2;
    }
    if (o->type == CLI_OPT_I64)
        *(int64_t *)o->ptr = (int64_t)x;
    else if (is_int)
        *(int *)o->ptr = (int)x;
    else
        *(float *)o->ptr = (float)x;
    return 0;
}

#define CLI_MAX_OPTS 64

int cli_args_parse(const char *cmd, const char *usage, cli_opt *opts, int n,
                   int argc, char **argv)
{
    int threads = 0, rc = 0;
    const char *precision = NULL;
    /* the command's options, then --threads and --precision */
    cli_opt all[CLI_MAX_OPTS + 2];
    bool seen[CLI_MAX_OPTS + 2] = {0};
    n = n < CLI_MAX_OPTS ? n : CLI_MAX_OPTS;
    memcpy(all, opts, (size_t)n * sizeof *all);
    all[n++] = (cli_opt){"--threads", CLI_OPT_INT, &threads,
                         "threads (0: all cores)", 0, 1024};
    all[n++] = (cli_opt){"--precision", CLI_OPT_STR, &precision,
                         "matrix products: fp32 or bf16 (bf16 operands, "
                         "fp32 accumulation; docs/performance.md)", 0, 0};
    for (int i = 1; i < argc && !rc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            cli_args_help(usage, all, n);
            return 1;
        }
        int k = 0;
        while (k < n && strcmp(argv[i], all[k].name))
            k++;
        if (k == n)
            fprintf(stderr, "lethe %s: unknown option '%s' (see lethe %s "
                    "--help)\n", cmd, argv[i], cmd);
        else if (seen[k])
            fprintf(stderr, "lethe %s: %s given twice\n", cmd, all[k].name);
        else if (all[k].type != CLI_OPT_FLAG && i + 1 >= argc)
            fprintf(stderr, "lethe %s: %s needs a value\n", cmd, all[k].name);
        if (k == n || seen[k] || (all[k].type != CLI_OPT_FLAG && i + 1 >= argc))
            return 2;
        seen[k] = true;
        if (all[k].type == CLI_OPT_FLAG)
            *(bool *)all[k].ptr = true;
        else
            rc = cli_args_value(cmd, &all[k], argv[++i]);
    }
    if (!rc && threads)
        lt_set_num_threads(threads);
    if (!rc && precision) {
        lt_precision p;
        if (lt_precision_parse(precision, &p) != LT_OK) {
            fprintf(stderr, "lethe %s: --precision: %s\n", cmd,
                    lt_last_error());
            return 2;
        }
        lt_set_default_precision(p);
    }
    return rc;
}

void cli_progress_start(cli_progress *p, const char *label, int64_t total)
{
    p->label = label;
    p->total = total;
    p->t0 = p->last = lt_clock_seconds();
    p->tty = isatty(2);
    p->printed = false;
}

/* When the last plain (not terminal) progress line was written, any bar. */
static double cli_progress_last_line = -1e30;

void cli_progress_update(cli_progress *p, int64_t done, const char *extra)
{
    double now = lt_clock_seconds();
    if (p->tty && done < p->total && now - p->last < 0.2)
        return;
    if (!p->tty) {
        bool due = now - cli_progress_last_line >= 10.0;
        if (!due && !(done >= p->total && p->printed))
            return;
        cli_progress_last_line = now;
        p->printed = true;
    }
    p->last = now;
    /* the rate (and ETA) once half a second has passed: earlier it is
     * noise (a first update after microseconds reads as 1e5/s); slow steps
     * as seconds per step */
    double el = now - p->t0, rate = el >= 0.5 && done > 0 ? done / el : 0;
    char speed[48] = "-/s  ETA -";
    if (rate > 0)
        snprintf(speed, sizeof speed, rate >= 1 ? "%.3g/s  ETA %.0fs"
                 : "%.3gs/step  ETA %.0fs", rate >= 1 ? rate : 1 / rate,
                 (double)(p->total - done) / rate);
    int width = 24, fill = p->total ? (int)(width * done / p->total) : width;
    char bar[32];
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    fprintf(stderr, "%s%s [%s] %lld/%lld  %s  %s%s", p->tty ? "\r" : "",
            p->label, bar, (long long)done, (long long)p->total, speed,
            extra ? extra : "", p->tty ? "\033[K" : "\n");
    fflush(stderr);
}

void cli_progress_end(cli_progress *p)
{
    if (p->tty)
        fputc('\n', stderr);
}
