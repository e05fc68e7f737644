/*
 * bench_dist.c - spreading a protocol's runs over MPI ranks and keeping
 * every finished run on disk (bench_dist.h). The MPI calls themselves stay
 * in src/core/dist.c; in one process every collective here is a copy.
 */
#include "bench/bench_dist.h"
#include "lethe/dist.h"
#include "lethe/io.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool lt_bench_mine(int64_t unit)
{
    return unit % lt_dist_size() == lt_dist_rank();
}

void lt_bench_unit_path(const char *dir, uint64_t key, char *path, size_t n)
{
    snprintf(path, n, "%s/runs/%016llx.json", dir, (unsigned long long)key);
}

static const char *const lt_unit_keys[6] = {"lr", "rte_s", "UA", "RA", "TA",
                                            "MIA"};

bool lt_bench_unit_load(const char *dir, uint64_t key, lt_bench_unit *u)
{
    char path[1200], *buf = NULL;
    lt_bench_unit_path(dir, key, path, sizeof path);
    if (lt_read_file(path, &buf, NULL) != LT_OK)
        return false;
    cJSON *j = cJSON_Parse(buf);
    free(buf);
    memset(u, 0, sizeof *u);
    double v[6];
    const char *s[3] = {"label", "method", "error"};
    char *dst[3] = {u->label, u->method, u->error};
    size_t cap[3] = {sizeof u->label, sizeof u->method, sizeof u->error};
    bool ok = j != NULL;
    for (int i = 0; ok && i < 6; i++) {
        cJSON *x = cJSON_GetObjectItemCaseSensitive(j, lt_unit_keys[i]);
        ok = cJSON_IsNumber(x) || cJSON_IsNull(x); /* null: NaN (no lr) */
        v[i] = ok && cJSON_IsNumber(x) ? x->valuedouble : (double)NAN;
    }
    for (int i = 0; ok && i < 3; i++) {
        cJSON *x = cJSON_GetObjectItemCaseSensitive(j, s[i]);
        ok = cJSON_IsString(x) && strlen(x->valuestring) < cap[i];
        if (ok)
            strcpy(dst[i], x->valuestring);
    }
    cJSON_Delete(j);
    u->lr = v[0];
    u->rte = v[1];
    u->m = (lt_unlearn_metrics){v[2], v[3], v[4], v[5]};
    return ok;
}

/* x as a JSON number that reads back to the same bits (17 significant
 * digits; cJSON's own printing may drop the last one), null when it is
 * not finite (NaN: not measured). */
static cJSON *lt_bench_exact(double x)
{
    char buf[40];
    if (!isfinite(x))
        return cJSON_CreateNull();
    snprintf(buf, sizeof buf, "%.17g", x);
    return cJSON_CreateRaw(buf);
}

lt_status lt_bench_unit_save(const char *dir, uint64_t key,
                             const lt_bench_unit *u)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/runs", dir);
    lt_status st = lt_mkdirs(path);
    if (st != LT_OK)
        return st;
    lt_bench_unit_path(dir, key, path, sizeof path);
    double v[6] = {u->lr, u->rte, u->m.ua, u->m.ra, u->m.ta, u->m.mia};
    cJSON *j = cJSON_CreateObject();
    bool ok = j && cJSON_AddStringToObject(j, "label", u->label) &&
              cJSON_AddStringToObject(j, "method", u->method) &&
              cJSON_AddStringToObject(j, "error", u->error);
    for (int i = 0; ok && i < 6; i++)
        ok = cJSON_AddItemToObject(j, lt_unit_keys[i], lt_bench_exact(v[i]));
    return lt_json_save(path, j, ok);
}

lt_status lt_bench_row_save(const char *dir, uint64_t key,
                            const lt_table_row *r, int n_cols)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/runs", dir);
    lt_status st = lt_mkdirs(path);
    if (st != LT_OK)
        return st;
    lt_bench_unit_path(dir, key, path, sizeof path);
    cJSON *j = cJSON_CreateObject(), *runs = cJSON_CreateArray();
    bool ok = j && runs && cJSON_AddItemToObject(j, "runs", runs);
    if (!ok)
        cJSON_Delete(runs);
    for (int s = 0; ok && s < r->n; s++) {
        cJSON *v = cJSON_CreateArray();
        ok = v && cJSON_AddItemToArray(runs, v);
        if (!ok)
            cJSON_Delete(v);
        for (int c = 0; ok && c < n_cols; c++)
            ok = cJSON_AddItemToArray(v, lt_bench_exact(r->v[s][c]));
    }
    ok = ok && cJSON_AddBoolToObject(j, "failed", r->failed) &&
         cJSON_AddBoolToObject(j, "diverged", r->diverged) &&
         cJSON_AddStringToObject(j, "message", r->message);
    return lt_json_save(path, j, ok);
}

/* The runs array of a row file into r (n_cols values each). */
static bool lt_bench_row_runs(const cJSON *runs, lt_table_row *r, int n_cols)
{
    int n = cJSON_GetArraySize(runs);
    if (!cJSON_IsArray(runs) || n < 0 || n > LT_TABLE_MAX_SEEDS)
        return false;
    for (int s = 0; s < n; s++) {
        const cJSON *v = cJSON_GetArrayItem(runs, s);
        if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != n_cols)
            return false;
        for (int c = 0; c < n_cols; c++) {
            const cJSON *x = cJSON_GetArrayItem(v, c);
            if (!cJSON_IsNumber(x) && !cJSON_IsNull(x))
                return false;
            r->v[s][c] = cJSON_IsNumber(x) ? x->valuedouble : (double)NAN;
        }
    }
    r->n = n;
    return true;
}

bool lt_bench_row_load(const char *dir, uint64_t key, lt_table_row *r,
                       int n_cols)
{
    char path[1200], *buf = NULL;
    lt_bench_unit_path(dir, key, path, sizeof path);
    if (n_cols > LT_TABLE_MAX_COLS || lt_read_file(path, &buf, NULL) != LT_OK)
        return false;
    cJSON *j = cJSON_Parse(buf);
    free(buf);
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(j, "failed");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "diverged");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");
    lt_table_row got = *r;
    bool ok = j && cJSON_IsBool(f) && cJSON_IsBool(d) && cJSON_IsString(m) &&
              strlen(m->valuestring) < sizeof got.message &&
              lt_bench_row_runs(cJSON_GetObjectItemCaseSensitive(j, "runs"),
                                &got, n_cols);
    if (ok) {
        got.failed = cJSON_IsTrue(f);
        got.diverged = cJSON_IsTrue(d);
        strcpy(got.message, m->valuestring);
        *r = got;
    }
    cJSON_Delete(j);
    return ok;
}

/* What a rank tells the others after its share of a step. */
typedef struct {
    int failed;
    char row[64], msg[400];
} lt_bench_verdict;

lt_status lt_bench_agree(lt_status st, const char *row)
{
    int size = lt_dist_size();
    if (size == 1)
        return st;
    lt_bench_verdict mine = {st != LT_OK, "", ""}, *all;
    if (st != LT_OK) {
        snprintf(mine.row, sizeof mine.row, "%s", row ? row : "?");
        snprintf(mine.msg, sizeof mine.msg, "%s", lt_last_error());
    }
    if (!(all = malloc((size_t)size * sizeof *all)))
        return lt_set_error(LT_ERR_NOMEM, "bench: %d ranks", size);
    lt_status cs = lt_dist_allgather(&mine, all, sizeof mine);
    for (int r = 0; cs == LT_OK && r < size; r++)
        if (all[r].failed) {
            cs = lt_set_error(st != LT_OK && r == lt_dist_rank() ? st
                              : LT_ERR_STATE, "rank %d failed on row %s: %s",
                              r, all[r].row, all[r].msg);
            break;
        }
    free(all);
    return cs;
}

lt_status lt_bench_share(void *items, size_t each, int n, const int *owner)
{
    int size = lt_dist_size();
    if (size == 1 || n == 0)
        return LT_OK;
    size_t block = each * (size_t)n;
    char *all = malloc(block * (size_t)size);
    if (!all)
        return lt_set_error(LT_ERR_NOMEM, "bench: sharing %d results", n);
    lt_status st = lt_dist_allgather(items, all, block);
    for (int i = 0; st == LT_OK && i < n; i++)
        memcpy((char *)items + each * (size_t)i,
               all + block * (size_t)owner[i] + each * (size_t)i, each);
    free(all);
    return st;
}
