/*
 * bench_util.c - helpers of the protocol layer (see bench_util.h) and the
 * list/rate parsers lethe/bench.h shares with the command line.
 */
#include "bench/bench_util.h"
#include "lethe/dist.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lethe_commit.h" /* LETHE_COMMIT, written at build time */

const char *lt_bench_commit(void)
{
    return LETHE_COMMIT;
}

uint64_t lt_bench_fnv_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ c[i]) * 1099511628211ull;
    return h;
}

uint64_t lt_bench_fnv(const char *s)
{
    return lt_bench_fnv_bytes(LT_FNV_INIT, s, strlen(s));
}

const char *lt_bench_precision_key(void)
{
    return lt_default_precision() == LT_PRECISION_BF16 ? "|bf16" : "";
}

uint64_t lt_bench_fnv_precision(uint64_t h)
{
    const char *k = lt_bench_precision_key();
    return lt_bench_fnv_bytes(h, k, strlen(k));
}

void lt_bench_note(lt_bench_progress progress, void *ud, const char *fmt, ...)
{
    if (!progress)
        return;
    char line[1024];
    int at = lt_dist_size() > 1 ? /* whose news, under mpirun */
             snprintf(line, sizeof line, "[rank %d] ", lt_dist_rank()) : 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + at, sizeof line - (size_t)at, fmt, ap);
    va_end(ap);
    lt_bench_event ev = {.kind = LT_BENCH_NOTE, .text = line};
    progress(ud, &ev);
}

bool lt_bench_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

lt_status lt_bench_fnv_file(uint64_t *h, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return lt_set_error(LT_ERR_IO, "cannot open %s", path);
    unsigned char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        *h = lt_bench_fnv_bytes(*h, buf, n);
    bool bad = ferror(f);
    fclose(f);
    return bad ? lt_set_error(LT_ERR_IO, "cannot read %s", path) : LT_OK;
}

void lt_bench_fwd_lm(void *ud, const lt_lm_event *ev)
{
    const lt_bench_fwd *f = ud;
    lt_bench_event e = {.kind = LT_BENCH_LM, .text = f->label, .lm = ev};
    if (f->progress)
        f->progress(f->ud, &e);
}

void lt_bench_fwd_llm(void *ud, const lt_llm_event *ev)
{
    const lt_bench_fwd *f = ud;
    lt_bench_event e = {.kind = LT_BENCH_LLM, .text = f->label, .llm = ev};
    if (f->progress)
        f->progress(f->ud, &e);
}

void lt_bench_fwd_train(void *ud, const lt_train_event *ev)
{
    const lt_bench_fwd *f = ud;
    lt_bench_event e = {.kind = LT_BENCH_TRAIN, .text = f->label,
                        .train = ev};
    if (f->progress)
        f->progress(f->ud, &e);
}

void lt_bench_fwd_unlearn(void *ud, const lt_unlearn_event *ev)
{
    const lt_bench_fwd *f = ud;
    lt_bench_event e = {.kind = LT_BENCH_UNLEARN, .text = f->label,
                        .unlearn = ev};
    if (f->progress)
        f->progress(f->ud, &e);
}

lt_status lt_bench_common_settings(lt_report *r, const char *command)
{
    lt_status st = lt_report_set(r, "command", command ? command : "");
    if (st == LT_OK)
        st = lt_report_set(r, "commit", lt_bench_commit());
    if (st == LT_OK)
        st = lt_report_set_num(r, "threads", lt_num_threads());
    if (st == LT_OK) /* the run's: lt_bench_* runs in its config's */
        st = lt_report_set(r, "precision",
                           lt_precision_name(lt_default_precision()));
    if (st == LT_OK)
        st = lt_report_set(r, "backend", lt_backend_name());
    return st;
}

/* ---- option lists -------------------------------------------------------- */

bool lt_list_item(const char *list, int i, char *buf, size_t n)
{
    const char *p = list;
    for (; i > 0 && p; i--) {
        p = strchr(p, ',');
        p = p ? p + 1 : NULL;
    }
    if (!p || !*p)
        return false;
    snprintf(buf, n, "%.*s", (int)strcspn(p, ","), p);
    return true;
}

int lt_lr_spec(const char *spec, const char *method, float *lr)
{
    size_t k = strlen(method);
    for (const char *p = spec; p && *p;) {
        size_t n = strcspn(p, ",");
        const char *eq = memchr(p, '=', n);
        if (!eq)
            return -1;
        if ((size_t)(eq - p) == k && !strncmp(p, method, k)) {
            char *end;
            *lr = strtof(eq + 1, &end);
            return end == p + n && *lr > 0 ? 1 : -1;
        }
        p += n + (p[n] == ',');
    }
    return 0;
}
