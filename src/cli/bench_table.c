/*
 * bench_table.c - aggregation and output of `lethe bench` result tables
 * (see bench_table.h).
 */
#include "cli/bench_table.h"
#include "cli/common.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

lt_bench_row *lt_bench_row_get(lt_bench_table *t, const char *label,
                               const char *method, float lr)
{
    for (int i = 0; i < t->n_rows; i++)
        if (!strcmp(t->rows[i].label, label))
            return &t->rows[i];
    if (t->n_rows == LT_BENCH_MAX_ROWS)
        return NULL;
    lt_bench_row *r = &t->rows[t->n_rows++];
    memset(r, 0, sizeof *r);
    snprintf(r->label, sizeof r->label, "%s", label);
    snprintf(r->method, sizeof r->method, "%s", method);
    r->lr = lr;
    return r;
}

void lt_bench_row_add(lt_bench_row *r, const lt_unlearn_metrics *m,
                      double gap, double rte)
{
    if (r->n == LT_BENCH_MAX_SEEDS)
        return;
    double *v = r->v[r->n++];
    v[LT_COL_UA] = m->ua;
    v[LT_COL_RA] = m->ra;
    v[LT_COL_TA] = m->ta;
    v[LT_COL_MIA] = m->mia;
    v[LT_COL_GAP] = gap;
    v[LT_COL_RTE] = rte;
}

void lt_bench_row_stats(const lt_bench_row *r, int col, double *mean,
                        double *std)
{
    double s = 0, q = 0;
    for (int i = 0; i < r->n; i++)
        s += r->v[i][col];
    *mean = r->n ? s / r->n : NAN;
    for (int i = 0; i < r->n; i++)
        q += (r->v[i][col] - *mean) * (r->v[i][col] - *mean);
    *std = r->n > 1 ? sqrt(q / (r->n - 1)) : 0;
}

static const char *const lt_col_names[LT_COLS] = {"UA", "RA", "TA", "MIA",
                                                  "avg_gap", "rte_s"};

static void lt_bench_header(FILE *f, const char *title)
{
    fprintf(f, "%s\n\n| Method | UA | RA | TA | MIA | Avg. Gap | RTE (s) |"
            "\n|---|---|---|---|---|---|---|\n", title);
}

void lt_bench_print(FILE *f, const lt_bench_table *t, const char *title)
{
    lt_bench_header(f, title);
    for (int i = 0; i < t->n_rows; i++) {
        const lt_bench_row *r = &t->rows[i];
        fprintf(f, "| %s |", r->label);
        if (r->error[0] && !r->n) {
            fprintf(f, " failed: %s | | | | | |\n", r->error);
            continue;
        }
        for (int c = 0; c < LT_COLS; c++) {
            double m, s;
            lt_bench_row_stats(r, c, &m, &s);
            if (r->n > 1)
                fprintf(f, " %.2f ± %.2f |", m, s);
            else
                fprintf(f, " %.2f |", m);
        }
        fprintf(f, "\n");
    }
    for (int i = 0; i < t->n_rows; i++) /* runs that failed beside others */
        if (t->rows[i].error[0] && t->rows[i].n)
            fprintf(f, "\n%s: %d run%s kept; a run failed (%s)\n",
                    t->rows[i].label, t->rows[i].n,
                    t->rows[i].n > 1 ? "s" : "", t->rows[i].error);
}

/* Print (one table, or two side by side when b != NULL) into memory,
 * then write it to path atomically. */
static int lt_bench_write_text(const lt_bench_table *a, const lt_bench_table *b,
                               const char *title, const char *path)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f) {
        fprintf(stderr, "lethe bench: out of memory\n");
        return 1;
    }
    if (b)
        lt_bench_print_pair(f, a, b, title);
    else
        lt_bench_print(f, a, title);
    fclose(f);
    int rc = lt_cli_write_text(path, buf);
    free(buf);
    return rc;
}

int lt_bench_write_markdown(const lt_bench_table *t, const char *title,
                            const char *path)
{
    return lt_bench_write_text(t, NULL, title, path);
}

static cJSON *lt_bench_row_json(const lt_bench_row *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "method", r->method);
    cJSON_AddStringToObject(o, "label", r->label);
    if (!isnan(r->lr))
        cJSON_AddNumberToObject(o, "lr", r->lr);
    cJSON_AddNumberToObject(o, "seeds", r->n);
    for (int c = 0; c < LT_COLS; c++) {
        double m, s;
        char key[32];
        lt_bench_row_stats(r, c, &m, &s);
        snprintf(key, sizeof key, "%s_std", lt_col_names[c]);
        cJSON_AddNumberToObject(o, lt_col_names[c], r->n ? m : 0);
        cJSON_AddNumberToObject(o, key, s);
    }
    cJSON *runs = cJSON_AddArrayToObject(o, "runs");
    for (int i = 0; i < r->n; i++) {
        cJSON *one = cJSON_CreateObject();
        for (int c = 0; c < LT_COLS; c++)
            cJSON_AddNumberToObject(one, lt_col_names[c], r->v[i][c]);
        cJSON_AddItemToArray(runs, one);
    }
    if (r->error[0])
        cJSON_AddStringToObject(o, "error", r->error);
    return o;
}

int lt_bench_write_json(const lt_bench_table *t, void *config_json,
                        const char *path)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "config", (cJSON *)config_json);
    cJSON *rows = cJSON_AddArrayToObject(root, "rows");
    for (int i = 0; i < t->n_rows; i++)
        cJSON_AddItemToArray(rows, lt_bench_row_json(&t->rows[i]));
    char *text = cJSON_Print(root);
    int rc = text ? lt_cli_write_text(path, text) : 1;
    cJSON_free(text);
    cJSON_Delete(root);
    return rc;
}

static const lt_bench_row *lt_bench_find(const lt_bench_table *t,
                                         const char *label)
{
    for (int i = 0; i < t->n_rows; i++)
        if (!strcmp(t->rows[i].label, label))
            return &t->rows[i];
    return NULL;
}

void lt_bench_print_pair(FILE *f, const lt_bench_table *a,
                         const lt_bench_table *b, const char *title)
{
    lt_bench_header(f, title);
    for (int i = 0; i < a->n_rows; i++) {
        const lt_bench_row *ra = &a->rows[i];
        const lt_bench_row *rb = lt_bench_find(b, ra->label);
        fprintf(f, "| %s |", ra->label);
        for (int c = 0; c < LT_COLS; c++) {
            double ma, mb, s;
            lt_bench_row_stats(ra, c, &ma, &s);
            if (!rb || !rb->n || !ra->n) {
                fprintf(f, " %s |", ra->n ? "failed on one set" : "failed");
                continue;
            }
            lt_bench_row_stats(rb, c, &mb, &s);
            fprintf(f, " %.2f → %.2f (%+.2f) |", ma, mb, mb - ma);
        }
        fprintf(f, "\n");
    }
}

int lt_bench_write_pair(const lt_bench_table *a, const lt_bench_table *b,
                        const char *title, const char *path)
{
    return lt_bench_write_text(a, b, title, path);
}

int lt_bench_write_pair_json(const lt_bench_table *a, const lt_bench_table *b,
                             void *config_json, const char *path)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "config", (cJSON *)config_json);
    const lt_bench_table *t[2] = {a, b};
    const char *names[2] = {"random", "worst_case"};
    for (int k = 0; k < 2; k++) {
        cJSON *rows = cJSON_AddArrayToObject(root, names[k]);
        for (int i = 0; i < t[k]->n_rows; i++)
            cJSON_AddItemToArray(rows, lt_bench_row_json(&t[k]->rows[i]));
    }
    char *text = cJSON_Print(root);
    int rc = text ? lt_cli_write_text(path, text) : 1;
    cJSON_free(text);
    cJSON_Delete(root);
    return rc;
}
