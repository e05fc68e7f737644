/*
 * report_merge.c - a report read back from its JSON (lt_report_read_json)
 * and the reports of one benchmark made once per seed merged into one
 * (lt_report_merge, lethe/bench.h): seeds run apart (one after another, on
 * other machines, as a cluster's job array) give the same mean ± std
 * table as one run over all seeds. `lethe report merge` is its command.
 */
#include "bench/bench_util.h"
#include "lethe/bench.h"
#include "lethe/io.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- strings a read report owns --------------------------------------------- */

typedef struct lt_owned {
    struct lt_owned *next;
    char s[];
} lt_owned;

const char *lt_report_keep(lt_report *r, const char *s)
{
    size_t n = strlen(s) + 1;
    lt_owned *o = malloc(sizeof *o + n);
    if (!o)
        return NULL;
    memcpy(o->s, s, n);
    o->next = r->owned;
    r->owned = o;
    return o->s;
}

void lt_report_owned_free(void *owned)
{
    for (lt_owned *o = owned, *next; o; o = next) {
        next = o->next;
        free(o);
    }
}

/* ---- reading ------------------------------------------------------------------ */

static const lt_table_col lt_rm_no_cols[1]; /* tables start without columns */

#define JGET cJSON_GetObjectItemCaseSensitive

static bool lt_rm_skip_key(const cJSON *row, const char *key)
{
    static const char *meta[] = {"seeds", "runs", "failed", "diverged",
                                 "message"};
    for (size_t i = 0; i < sizeof meta / sizeof *meta; i++)
        if (!strcmp(key, meta[i]))
            return true;
    size_t n = strlen(key);
    if (n > 4 && !strcmp(key + n - 4, "_std")) { /* key_std of a number */
        char base[256];
        snprintf(base, sizeof base, "%.*s", (int)(n - 4), key);
        return JGET(row, base) != NULL;
    }
    return false;
}

/* Add column key to t unless there; LT_ERR_FORMAT when t is full. */
static lt_status lt_rm_add_col(lt_report *r, lt_table *t, const char *key,
                               const char *head, const char *fmt,
                               double sci_below, bool json_only,
                               const char *path)
{
    if (lt_table_col_index(t, key) >= 0)
        return LT_OK;
    if (t->n_cols == LT_TABLE_MAX_COLS)
        return lt_set_error(LT_ERR_FORMAT, "%s: table '%s' has more than %d "
                            "columns", path, t->title, LT_TABLE_MAX_COLS);
    lt_table_col *c = &t->cols[t->n_cols];
    c->key = lt_report_keep(r, key);
    c->head = lt_report_keep(r, head);
    c->fmt = fmt ? lt_report_keep(r, fmt) : NULL;
    c->sci_below = sci_below;
    c->json_only = json_only;
    if (!c->key || !c->head || (fmt && !c->fmt))
        return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", path);
    t->n_cols++;
    return LT_OK;
}

/* The columns a table lists ("columns", written since report merging
 * came) or, for older files, those its rows show. */
static lt_status lt_rm_read_cols(lt_report *r, lt_table *t, const cJSON *jt,
                                 const char *path)
{
    const cJSON *cols = JGET(jt, "columns"), *x;
    lt_status st = LT_OK;
    if (cJSON_IsArray(cols)) {
        cJSON_ArrayForEach(x, cols) {
            const char *key = cJSON_GetStringValue(JGET(x, "key"));
            const char *head = cJSON_GetStringValue(JGET(x, "head"));
            const char *fmt = cJSON_GetStringValue(JGET(x, "fmt"));
            const cJSON *sci = JGET(x, "sci_below");
            if (!key)
                return lt_set_error(LT_ERR_FORMAT, "%s: table '%s': a column "
                                    "without a key", path, t->title);
            if (!fmt && cJSON_IsTrue(JGET(x, "number")))
                fmt = "%.4g";
            st = lt_rm_add_col(r, t, key, head ? head : key, fmt,
                               cJSON_IsNumber(sci) ? sci->valuedouble : 0,
                               cJSON_IsTrue(JGET(x, "json_only")), path);
            if (st != LT_OK)
                return st;
        }
        return LT_OK;
    }
    const cJSON *row;
    cJSON_ArrayForEach(row, JGET(jt, "rows")) {
        cJSON_ArrayForEach(x, row) {
            if (lt_rm_skip_key(row, x->string) ||
                !(cJSON_IsString(x) || cJSON_IsNumber(x) || cJSON_IsNull(x)))
                continue;
            st = lt_rm_add_col(r, t, x->string, x->string,
                               cJSON_IsString(x) ? NULL : "%.4g", 0, false,
                               path);
            if (st != LT_OK)
                return st;
        }
    }
    return LT_OK;
}

static double lt_rm_num(const cJSON *o, const char *key)
{
    const cJSON *x = JGET(o, key);
    return cJSON_IsNumber(x) ? x->valuedouble : NAN;
}

/* One run's numbers from o (a "runs" entry, or the row for one run). */
static lt_status lt_rm_add_run(const lt_table *t, lt_table_row *row,
                               const cJSON *o)
{
    double v[LT_TABLE_MAX_COLS];
    for (int c = 0; c < LT_TABLE_MAX_COLS; c++)
        v[c] = c < t->n_cols && t->cols[c].fmt ? lt_rm_num(o, t->cols[c].key)
                                               : NAN;
    return lt_table_row_add_run(row, v);
}

static lt_status lt_rm_read_row(lt_table *t, const cJSON *jr, const char *path)
{
    lt_table_row *row = lt_table_add_row(t);
    if (!row)
        return LT_ERR_NOMEM;
    for (int c = 0; c < t->n_cols; c++) {
        const char *s = cJSON_GetStringValue(JGET(jr, t->cols[c].key));
        if (!t->cols[c].fmt && s)
            snprintf(row->text[c], LT_TABLE_TEXT, "%s", s);
    }
    row->failed = cJSON_IsTrue(JGET(jr, "failed"));
    row->diverged = cJSON_IsTrue(JGET(jr, "diverged"));
    const char *msg = cJSON_GetStringValue(JGET(jr, "message"));
    snprintf(row->message, sizeof row->message, "%s", msg ? msg : "");
    const cJSON *runs = JGET(jr, "runs"), *x;
    double seeds = lt_rm_num(jr, "seeds");
    lt_status st = LT_OK;
    if (cJSON_GetArraySize(runs) > 0) {
        cJSON_ArrayForEach(x, runs)
            if (st == LT_OK)
                st = lt_rm_add_run(t, row, x);
    } else if (isnan(seeds) || seeds >= 1) {
        st = lt_rm_add_run(t, row, jr);
    }
    return st == LT_OK ? LT_OK : lt_set_error(st, "%s: table '%s': %s", path,
                                              t->title, lt_last_error());
}

static lt_status lt_rm_read_table(lt_report *r, const cJSON *jt,
                                  const char *path)
{
    const char *title = cJSON_GetStringValue(JGET(jt, "title"));
    const cJSON *rows = JGET(jt, "rows"), *x;
    if (!cJSON_IsArray(rows))
        return lt_set_error(LT_ERR_FORMAT, "%s: a table without \"rows\"",
                            path);
    lt_table *t = lt_report_table(r, title ? title : "", lt_rm_no_cols, 0);
    if (!t)
        return lt_set_error(LT_ERR_FORMAT, "%s: more than %d tables", path,
                            LT_REPORT_MAX_TABLES);
    lt_status st = lt_rm_read_cols(r, t, jt, path);
    cJSON_ArrayForEach(x, rows)
        if (st == LT_OK)
            st = lt_rm_read_row(t, x, path);
    return st;
}

static lt_status lt_rm_read_settings(lt_report *r, const cJSON *s)
{
    const cJSON *x;
    lt_status st = LT_OK;
    cJSON_ArrayForEach(x, s) {
        if (st != LT_OK)
            break;
        if (cJSON_IsString(x))
            st = lt_report_set(r, x->string, x->valuestring);
        else if (cJSON_IsNumber(x) || cJSON_IsNull(x))
            st = lt_report_set_num(r, x->string, lt_rm_num(s, x->string));
        else if (cJSON_IsBool(x))
            st = lt_report_set(r, x->string, cJSON_IsTrue(x) ? "true"
                                                             : "false");
    }
    return st;
}

static lt_status lt_rm_read_root(const cJSON *root, const char *path,
                                 lt_report *out)
{
    const cJSON *tables = JGET(root, "tables"), *x;
    if (!cJSON_IsArray(tables))
        return lt_set_error(LT_ERR_FORMAT, "%s: not a Lethe report (no "
                            "\"tables\" array)", path);
    const char *title = cJSON_GetStringValue(JGET(root, "title"));
    snprintf(out->title, sizeof out->title, "%s", title ? title : "");
    out->seconds = lt_rm_num(root, "seconds");
    lt_status st = lt_rm_read_settings(out, JGET(root, "settings"));
    cJSON_ArrayForEach(x, tables)
        if (st == LT_OK)
            st = lt_rm_read_table(out, x, path);
    return st;
}

lt_status lt_report_read_json(const char *path, lt_report *out)
{
    *out = (lt_report){0};
    cJSON *root;
    lt_status st = lt_json_load(path, &root);
    if (st != LT_OK)
        return st;
    st = lt_rm_read_root(root, path, out);
    cJSON_Delete(root);
    if (st != LT_OK)
        lt_report_free(out);
    return st;
}

/* ---- merging ------------------------------------------------------------------- */

/* Where title has "seed N" (N digits, a word of its own): the offset of
 * "seed", N in *num and the length of "seed N" in *len; -1 if absent. */
static int lt_rm_seed_at(const char *title, long *num, int *len)
{
    for (const char *p = title; (p = strstr(p, "seed ")); p++) {
        const char *d = p + 5, *e = d;
        while (isdigit((unsigned char)*e))
            e++;
        if (e > d && (p == title || !isalnum((unsigned char)p[-1])) &&
            !isalnum((unsigned char)*e)) {
            *num = strtol(d, NULL, 10);
            *len = (int)(e - p);
            return (int)(p - title);
        }
    }
    return -1;
}

/* The merged title of the n titles into out: the first, its "seed N"
 * made "seeds N1, N2, ..." when the titles differ only there; unchanged
 * when all are equal; else with a note that reports were merged. */
static void lt_rm_title(const char *const *titles, int n, char *out,
                        size_t cap)
{
    const char *t0 = titles[0];
    long num;
    int len, at = lt_rm_seed_at(t0, &num, &len);
    bool same = at >= 0;
    char seeds[256] = "";
    size_t used = 0;
    for (int i = 0; i < n && same; i++) {
        const char *t = titles[i];
        long ni;
        int li, ai = lt_rm_seed_at(t, &ni, &li);
        same = ai == at && !strncmp(t, t0, (size_t)at) &&
               !strcmp(t + ai + li, t0 + at + len);
        if (same && used < sizeof seeds)
            used += (size_t)snprintf(seeds + used, sizeof seeds - used,
                                     "%s%ld", i ? ", " : "", ni);
    }
    bool equal = true;
    for (int i = 1; i < n && equal; i++)
        equal = !strcmp(titles[i], t0);
    if (same)
        snprintf(out, cap, "%.*sseeds %s (mean ± std)%s", at, t0, seeds,
                 t0 + at + len);
    else if (n > 1 && !equal)
        snprintf(out, cap, "%s (%d reports merged, mean ± std)", t0, n);
    else
        snprintf(out, cap, "%s", t0);
}

/* The text of setting s ("" when absent). */
static void lt_rm_setting_text(const lt_report_setting *s, char *buf,
                               size_t n)
{
    if (!s)
        snprintf(buf, n, "%s", "");
    else if (s->is_num)
        snprintf(buf, n, "%.15g", s->num);
    else
        snprintf(buf, n, "%s", s->text);
}

/* Setting key of the n reports into out: kept when every report has the
 * same, else the reports' values joined by " | ". */
static lt_status lt_rm_merge_setting(const lt_report *in, int n,
                                     const char *key, lt_report *out)
{
    const lt_report_setting *s0 = lt_report_setting_of(&in[0], key);
    char a[1024], b[1024], joined[1024] = "";
    lt_rm_setting_text(s0, a, sizeof a);
    bool same = true;
    size_t used = 0;
    for (int i = 0; i < n; i++) {
        const lt_report_setting *s = lt_report_setting_of(&in[i], key);
        lt_rm_setting_text(s, b, sizeof b);
        same = same && s && s0 && s->is_num == s0->is_num && !strcmp(a, b);
        if (used < sizeof joined)
            used += (size_t)snprintf(joined + used, sizeof joined - used,
                                     "%s%s", i ? " | " : "", b);
    }
    if (same)
        return s0->is_num ? lt_report_set_num(out, key, s0->num)
                          : lt_report_set(out, key, s0->text);
    return lt_report_set(out, key, joined);
}

static lt_status lt_rm_merge_settings(const lt_report *in, int n,
                                      lt_report *out)
{
    lt_status st = LT_OK;
    double seeds = 0;
    for (int i = 0; i < n; i++) {
        for (int j = 0; st == LT_OK && j < in[i].n_settings; j++)
            if (!lt_report_setting_of(out, in[i].settings[j].key))
                st = lt_rm_merge_setting(in, n, in[i].settings[j].key, out);
        const lt_report_setting *s = lt_report_setting_of(&in[i], "seeds");
        seeds += s && s->is_num && s->num >= 1 ? s->num : 1;
    }
    return st == LT_OK ? lt_report_set_num(out, "seeds", seeds) : st;
}

/* a and b have the same column keys, text and number alike. */
static bool lt_rm_same_cols(const lt_table *a, const lt_table *b)
{
    bool same = a->n_cols == b->n_cols;
    for (int c = 0; same && c < a->n_cols; c++)
        same = !strcmp(a->cols[c].key, b->cols[c].key) &&
               !a->cols[c].fmt == !b->cols[c].fmt;
    return same;
}

/* The row of t whose text cells all equal r's, or NULL. */
static lt_table_row *lt_rm_find(const lt_table *t, const lt_table_row *r)
{
    for (int i = 0; i < t->n_rows; i++) {
        bool same = true;
        for (int c = 0; same && c < t->n_cols; c++)
            same = t->cols[c].fmt || !strcmp(t->rows[i].text[c], r->text[c]);
        if (same)
            return &t->rows[i];
    }
    return NULL;
}

/* Row r of report k into table t (a new row when t has none like it). */
static lt_status lt_rm_merge_row(lt_table *t, const lt_table_row *r, int k)
{
    lt_table_row *o = lt_rm_find(t, r);
    if (!o) {
        if (!(o = lt_table_add_row(t)))
            return LT_ERR_NOMEM;
        memcpy(o->text, r->text, sizeof o->text);
    }
    if (o->n + r->n > LT_TABLE_MAX_SEEDS)
        return lt_set_error(LT_ERR_ARG, "report %d: row '%s' of table '%s' "
                            "would have more than %d runs", k + 1, r->text[0],
                            t->title, LT_TABLE_MAX_SEEDS);
    for (int s = 0; s < r->n; s++)
        lt_table_row_add_run(o, r->v[s]);
    if (r->failed && !o->message[0])
        snprintf(o->message, sizeof o->message, "%s", r->message);
    o->failed |= r->failed;
    o->diverged |= r->diverged;
    return LT_OK;
}

static lt_status lt_rm_merge_table(const lt_report *in, int n, int i,
                                   lt_report *out)
{
    const lt_table *t0 = &in[0].tables[i];
    const char *titles[LT_TABLE_MAX_SEEDS];
    for (int k = 0; k < n; k++)
        titles[k] = in[k].tables[i].title;
    char title[512];
    lt_rm_title(titles, n, title, sizeof title);
    lt_table *t = lt_report_table(out, title, lt_rm_no_cols, 0);
    if (!t)
        return LT_ERR_ARG;
    lt_status st = LT_OK;
    for (int c = 0; st == LT_OK && c < t0->n_cols; c++) {
        const lt_table_col *col = &t0->cols[c];
        st = lt_rm_add_col(out, t, col->key, col->head, col->fmt,
                           col->sci_below, col->json_only, "merge");
    }
    for (int k = 0; st == LT_OK && k < n; k++) {
        const lt_table *tk = &in[k].tables[i];
        if (!lt_rm_same_cols(t0, tk))
            st = lt_set_error(LT_ERR_ARG, "report %d: table '%s' has other "
                              "columns than report 1's", k + 1, tk->title);
        for (int j = 0; st == LT_OK && j < tk->n_rows; j++)
            st = lt_rm_merge_row(t, &tk->rows[j], k);
    }
    return st;
}

lt_status lt_report_merge(const lt_report *in, int n, lt_report *out)
{
    *out = (lt_report){0};
    if (!in || n < 1 || n > LT_TABLE_MAX_SEEDS)
        return lt_set_error(LT_ERR_ARG, "report merge: %d reports (1 to %d)",
                            n, LT_TABLE_MAX_SEEDS);
    for (int k = 1; k < n; k++)
        if (in[k].n_tables != in[0].n_tables)
            return lt_set_error(LT_ERR_ARG, "report %d has %d tables, report "
                                "1 has %d", k + 1, in[k].n_tables,
                                in[0].n_tables);
    const char *titles[LT_TABLE_MAX_SEEDS];
    for (int k = 0; k < n; k++)
        titles[k] = in[k].title;
    lt_rm_title(titles, n, out->title, sizeof out->title);
    lt_status st = lt_rm_merge_settings(in, n, out);
    for (int i = 0; st == LT_OK && i < in[0].n_tables; i++)
        st = lt_rm_merge_table(in, n, i, out);
    for (int k = 0; k < n; k++)
        out->seconds += isnan(in[k].seconds) ? 0 : in[k].seconds;
    if (st != LT_OK)
        lt_report_free(out);
    return st;
}

/* ---- columns from another report ------------------------------------------------ */

lt_status lt_report_use_columns(lt_report *r, const lt_report *like)
{
    if (like->n_tables < r->n_tables)
        return lt_set_error(LT_ERR_ARG, "columns: %d tables to name, the "
                            "report given has %d", r->n_tables,
                            like->n_tables);
    for (int i = 0; i < r->n_tables; i++)
        if (!lt_rm_same_cols(&r->tables[i], &like->tables[i]))
            return lt_set_error(LT_ERR_ARG, "columns: table %d ('%s') has "
                                "other column keys than '%s'", i + 1,
                                r->tables[i].title, like->tables[i].title);
    for (int i = 0; i < r->n_tables; i++)
        for (int c = 0; c < r->tables[i].n_cols; c++) {
            lt_table_col *to = &r->tables[i].cols[c];
            const lt_table_col *from = &like->tables[i].cols[c];
            const char *head = lt_report_keep(r, from->head);
            const char *fmt = from->fmt ? lt_report_keep(r, from->fmt) : NULL;
            if (!head || (from->fmt && !fmt))
                return lt_set_error(LT_ERR_NOMEM, "columns: out of memory");
            to->head = head;
            to->fmt = fmt;
            to->sci_below = from->sci_below;
            to->json_only = from->json_only;
        }
    return LT_OK;
}
