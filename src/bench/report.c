/*
 * report.c - the result tables of the benchmark protocols (lethe/bench.h):
 * rows of text and per-seed numbers, their mean and sample std, and the
 * two writers every protocol shares: Markdown (mean ± std cells, failure
 * notes under the table) and JSON through cJSON (settings, per-row means,
 * stds and per-seed runs; NaN as null). Files are written atomically.
 */
#include "bench/bench_util.h"
#include "lethe/bench.h"
#include "lethe/io.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- building ------------------------------------------------------------ */

lt_table *lt_report_table(lt_report *r, const char *title,
                          const lt_table_col *cols, int n_cols)
{
    if (r->n_tables == LT_REPORT_MAX_TABLES || n_cols > LT_TABLE_MAX_COLS) {
        lt_set_error(LT_ERR_ARG, "report: too many tables or columns");
        return NULL;
    }
    lt_table *t = &r->tables[r->n_tables++];
    *t = (lt_table){0};
    snprintf(t->title, sizeof t->title, "%s", title);
    t->n_cols = n_cols;
    memcpy(t->cols, cols, (size_t)n_cols * sizeof *cols);
    return t;
}

const lt_report_setting *lt_report_setting_of(const lt_report *r,
                                              const char *key)
{
    for (int i = 0; i < r->n_settings; i++)
        if (!strcmp(r->settings[i].key, key))
            return &r->settings[i];
    return NULL;
}

static lt_report_setting *lt_report_slot(lt_report *r, const char *key)
{
    const lt_report_setting *had = lt_report_setting_of(r, key);
    if (had)
        return &r->settings[had - r->settings];
    lt_report_setting *s = realloc(r->settings, (size_t)(r->n_settings + 1) *
                                   sizeof *s);
    if (!s) {
        lt_set_error(LT_ERR_NOMEM, "report settings");
        return NULL;
    }
    r->settings = s;
    s = &r->settings[r->n_settings++];
    *s = (lt_report_setting){0};
    snprintf(s->key, sizeof s->key, "%s", key);
    return s;
}

lt_status lt_report_set(lt_report *r, const char *key, const char *text)
{
    lt_report_setting *s = lt_report_slot(r, key);
    if (!s)
        return LT_ERR_NOMEM;
    snprintf(s->text, sizeof s->text, "%s", text ? text : "");
    s->is_num = false;
    return LT_OK;
}

lt_status lt_report_set_num(lt_report *r, const char *key, double v)
{
    lt_report_setting *s = lt_report_slot(r, key);
    if (!s)
        return LT_ERR_NOMEM;
    snprintf(s->text, sizeof s->text, "%.17g", v);
    s->num = v;
    s->is_num = true;
    return LT_OK;
}

const char *lt_report_get(const lt_report *r, const char *key)
{
    const lt_report_setting *s = lt_report_setting_of(r, key);
    return s ? s->text : "";
}

void lt_report_free(lt_report *r)
{
    for (int i = 0; i < r->n_tables; i++)
        free(r->tables[i].rows);
    free(r->settings);
    lt_report_owned_free(r->owned);
    *r = (lt_report){0};
}

lt_table_row *lt_table_add_row(lt_table *t)
{
    if (t->n_rows == t->cap_rows) {
        int cap = t->cap_rows ? 2 * t->cap_rows : 16;
        lt_table_row *rows = realloc(t->rows, (size_t)cap * sizeof *rows);
        if (!rows) {
            lt_set_error(LT_ERR_NOMEM, "table rows");
            return NULL;
        }
        t->rows = rows;
        t->cap_rows = cap;
    }
    lt_table_row *row = &t->rows[t->n_rows++];
    memset(row, 0, sizeof *row);
    return row;
}

lt_table_row *lt_table_find(const lt_table *t, int col, const char *text)
{
    for (int i = 0; i < t->n_rows; i++)
        if (!strcmp(t->rows[i].text[col], text))
            return &t->rows[i];
    return NULL;
}

lt_status lt_table_row_add_run(lt_table_row *row, const double *v)
{
    if (row->n == LT_TABLE_MAX_SEEDS)
        return lt_set_error(LT_ERR_ARG, "more than %d runs in one row",
                            LT_TABLE_MAX_SEEDS);
    memcpy(row->v[row->n++], v, LT_TABLE_MAX_COLS * sizeof *v);
    return LT_OK;
}

void lt_table_row_stats(const lt_table_row *row, int c, double *mean,
                        double *std)
{
    double s = 0, ss = 0;
    int n = 0;
    for (int i = 0; i < row->n; i++)
        if (!isnan(row->v[i][c])) {
            s += row->v[i][c];
            n++;
        }
    *mean = n ? s / n : NAN;
    for (int i = 0; i < row->n; i++)
        if (!isnan(row->v[i][c]))
            ss += (row->v[i][c] - *mean) * (row->v[i][c] - *mean);
    *std = n > 1 ? sqrt(ss / (n - 1)) : n ? 0 : NAN;
}

int lt_table_col_index(const lt_table *t, const char *key)
{
    for (int c = 0; c < t->n_cols; c++)
        if (!strcmp(t->cols[c].key, key))
            return c;
    return -1;
}

/* ---- Markdown ------------------------------------------------------------ */

static void lt_num_text(const lt_table_col *col, double v, char *buf,
                        size_t n)
{
    if (isnan(v))
        snprintf(buf, n, "-");
    else if (v != 0 && fabs(v) < col->sci_below)
        snprintf(buf, n, "%.2e", v);
    else
        snprintf(buf, n, col->fmt, v);
}

/* A std in col's format less any '+' flag (a spread has no sign). */
static void lt_std_text(const lt_table_col *col, double v, char *buf,
                        size_t n)
{
    char fmt[32];
    size_t k = 0;
    for (const char *p = col->fmt; *p && k + 1 < sizeof fmt; p++)
        if (*p != '+')
            fmt[k++] = *p;
    fmt[k] = 0;
    lt_table_col plain = *col;
    plain.fmt = fmt;
    lt_num_text(&plain, v, buf, n);
}

static void lt_md_cell(FILE *f, const lt_table *t, const lt_table_row *r,
                       int c, bool first)
{
    const lt_table_col *col = &t->cols[c];
    if (!col->fmt) {
        const char *mark = !first ? "" : r->diverged ? " (diverged)" :
                           r->failed && !r->n ? " (failed)" : "";
        fprintf(f, " %s%s |", r->text[c], mark);
        return;
    }
    double mean, std;
    char a[48], b[48];
    lt_table_row_stats(r, c, &mean, &std);
    lt_num_text(col, mean, a, sizeof a);
    if (r->n > 1 && !isnan(std)) {
        lt_std_text(col, std, b, sizeof b);
        fprintf(f, " %s ± %s |", a, b);
    } else {
        fprintf(f, " %s |", a);
    }
}

static void lt_md_table(FILE *f, const lt_table *t)
{
    fprintf(f, "|");
    for (int c = 0; c < t->n_cols; c++)
        if (!t->cols[c].json_only)
            fprintf(f, " %s |", t->cols[c].head);
    fprintf(f, "\n|");
    for (int c = 0; c < t->n_cols; c++)
        if (!t->cols[c].json_only)
            fprintf(f, "---|");
    fprintf(f, "\n");
    for (int i = 0; i < t->n_rows; i++) {
        const lt_table_row *r = &t->rows[i];
        bool first = true;
        fprintf(f, "|");
        for (int c = 0; c < t->n_cols; c++)
            if (!t->cols[c].json_only) {
                lt_md_cell(f, t, r, c, first);
                first = false;
            }
        fprintf(f, "\n");
    }
    bool noted = false;
    for (int i = 0; i < t->n_rows; i++) {
        const lt_table_row *r = &t->rows[i];
        if (!r->failed)
            continue;
        fprintf(f, "%s%s", noted ? "" : "\n", r->text[0]);
        for (int c = 1; c < t->n_cols; c++)
            if (!t->cols[c].fmt && !t->cols[c].json_only && r->text[c][0])
                fprintf(f, " %s", r->text[c]);
        if (r->n)
            fprintf(f, " (%d run%s kept)", r->n, r->n > 1 ? "s" : "");
        fprintf(f, ": %s\n", r->message);
        noted = true;
    }
}

void lt_report_markdown(const lt_report *r, FILE *f)
{
    if (r->title[0])
        fprintf(f, "%s\n\n", r->title);
    const char *prec = lt_report_get(r, "precision"); /* the benchmarks' */
    if (prec[0])
        fprintf(f, "Matrix products: %s (%s).\n\n", prec,
                lt_report_get(r, "backend"));
    for (int i = 0; i < r->n_tables; i++) {
        const lt_table *t = &r->tables[i];
        if (!t->n_rows)
            continue;
        if (r->n_tables > 1 || !r->title[0])
            fprintf(f, "### %s\n\n", t->title);
        lt_md_table(f, t);
        fprintf(f, "\n");
    }
}

lt_status lt_report_write_markdown(const lt_report *r, const char *path)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f)
        return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", path);
    lt_report_markdown(r, f);
    fclose(f);
    lt_status st = lt_write_file_atomic(path, buf, n);
    free(buf);
    return st;
}

/* ---- JSON ------------------------------------------------------------------ */

static void lt_json_num(cJSON *o, const char *key, double v)
{
    if (isnan(v) || isinf(v))
        cJSON_AddNullToObject(o, key);
    else
        cJSON_AddNumberToObject(o, key, v);
}

static cJSON *lt_json_row(const lt_table *t, const lt_table_row *r)
{
    cJSON *o = cJSON_CreateObject();
    for (int c = 0; c < t->n_cols; c++)
        if (!t->cols[c].fmt)
            cJSON_AddStringToObject(o, t->cols[c].key, r->text[c]);
    cJSON_AddNumberToObject(o, "seeds", r->n);
    for (int c = 0; c < t->n_cols; c++) {
        if (!t->cols[c].fmt)
            continue;
        double mean, std;
        char key[64];
        lt_table_row_stats(r, c, &mean, &std);
        snprintf(key, sizeof key, "%s_std", t->cols[c].key);
        lt_json_num(o, t->cols[c].key, mean);
        lt_json_num(o, key, std);
    }
    cJSON *runs = cJSON_AddArrayToObject(o, "runs");
    for (int i = 0; i < r->n && r->n > 1; i++) {
        cJSON *one = cJSON_CreateObject();
        for (int c = 0; c < t->n_cols; c++)
            if (t->cols[c].fmt)
                lt_json_num(one, t->cols[c].key, r->v[i][c]);
        cJSON_AddItemToArray(runs, one);
    }
    cJSON_AddBoolToObject(o, "failed", r->failed);
    cJSON_AddBoolToObject(o, "diverged", r->diverged);
    if (r->failed)
        cJSON_AddStringToObject(o, "message", r->message);
    return o;
}

/* The columns of t: key, Markdown head, and for numbers their format. */
static cJSON *lt_json_cols(const lt_table *t)
{
    cJSON *a = cJSON_CreateArray();
    for (int c = 0; a && c < t->n_cols; c++) {
        const lt_table_col *col = &t->cols[c];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "key", col->key);
        cJSON_AddStringToObject(o, "head", col->head);
        cJSON_AddBoolToObject(o, "number", col->fmt != NULL);
        if (col->fmt) {
            cJSON_AddStringToObject(o, "fmt", col->fmt);
            cJSON_AddNumberToObject(o, "sci_below", col->sci_below);
        }
        cJSON_AddBoolToObject(o, "json_only", col->json_only);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

static cJSON *lt_json_report(const lt_report *r)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "title", r->title);
    cJSON *s = cJSON_AddObjectToObject(root, "settings");
    for (int i = 0; s && i < r->n_settings; i++) {
        const lt_report_setting *x = &r->settings[i];
        if (x->is_num)
            lt_json_num(s, x->key, x->num);
        else
            cJSON_AddStringToObject(s, x->key, x->text);
    }
    lt_json_num(root, "seconds", r->seconds);
    cJSON *tables = cJSON_AddArrayToObject(root, "tables");
    for (int i = 0; tables && i < r->n_tables; i++) {
        const lt_table *t = &r->tables[i];
        cJSON *o = cJSON_CreateObject(), *rows;
        cJSON_AddStringToObject(o, "title", t->title);
        cJSON_AddItemToObject(o, "columns", lt_json_cols(t));
        rows = cJSON_AddArrayToObject(o, "rows");
        for (int j = 0; rows && j < t->n_rows; j++)
            cJSON_AddItemToArray(rows, lt_json_row(t, &t->rows[j]));
        cJSON_AddItemToArray(tables, o);
    }
    return root;
}

lt_status lt_report_write_json(const lt_report *r, const char *path)
{
    cJSON *root = lt_json_report(r);
    return lt_json_save(path, root, true);
}

lt_status lt_report_write_json_with(const lt_report *r, const char *path,
                                    const char *key, cJSON *extra)
{
    cJSON *root = lt_json_report(r);
    bool ok = root != NULL;
    if (extra && (!ok || !key || !cJSON_AddItemToObject(root, key, extra))) {
        cJSON_Delete(extra);
        ok = false;
    }
    return lt_json_save(path, root, ok); /* takes root */
}
