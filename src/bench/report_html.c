/*
 * report_html.c - `lethe report`'s page (lethe/bench.h, lt_report_html):
 * a results folder (what a benchmark writes: lt_report_write_json's JSON,
 * its Markdown, its trade-off plot, sample grids) turned into one static
 * HTML page that needs no server and no other file: tables rebuilt from
 * the JSON (settings with the command, commit, seeds and threads; every
 * number as mean ± std with the per-seed runs under it; failures with
 * their message), pictures embedded as base64 data: URIs. The page is
 * built in memory and written atomically; it holds no time stamp, so the
 * same folder gives the same bytes.
 */
#include "lethe/bench.h"
#include "lethe/io.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the folder ------------------------------------------------------------ */

typedef struct {
    char **names;     /* sorted file names directly in the folder */
    int n;
} lt_dir_list;

static int lt_name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void lt_dir_free(lt_dir_list *d)
{
    for (int i = 0; i < d->n; i++)
        free(d->names[i]);
    free(d->names);
    *d = (lt_dir_list){0};
}

static bool lt_has_ext(const char *name, const char *ext)
{
    size_t a = strlen(name), b = strlen(ext);
    return a > b && !strcmp(name + a - b, ext);
}

/* The .json and .png names of dir, sorted. */
static lt_status lt_dir_read(const char *dir, lt_dir_list *d)
{
    *d = (lt_dir_list){0};
    DIR *h = opendir(dir);
    if (!h)
        return lt_set_error(LT_ERR_IO, "%s: cannot open the folder", dir);
    struct dirent *e;
    lt_status st = LT_OK;
    while (st == LT_OK && (e = readdir(h))) {
        if (e->d_name[0] == '.' || (!lt_has_ext(e->d_name, ".json") &&
                                    !lt_has_ext(e->d_name, ".png")))
            continue;
        char **grown = realloc(d->names, (size_t)(d->n + 1) * sizeof *grown);
        char *copy = strdup(e->d_name);
        if (grown)
            d->names = grown;
        if (!grown || !copy) {
            free(copy);
            st = lt_set_error(LT_ERR_NOMEM, "%s: out of memory", dir);
        } else {
            d->names[d->n++] = copy;
        }
    }
    closedir(h);
    if (st != LT_OK)
        lt_dir_free(d);
    else if (d->n)
        qsort(d->names, (size_t)d->n, sizeof *d->names, lt_name_cmp);
    return st;
}

/* ---- HTML pieces ---------------------------------------------------------- */

static void lt_esc(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

static void lt_base64(FILE *f, const unsigned char *p, size_t n)
{
    static const char t[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        fputc(t[v >> 18 & 63], f);
        fputc(t[v >> 12 & 63], f);
        fputc(i + 1 < n ? t[v >> 6 & 63] : '=', f);
        fputc(i + 2 < n ? t[v & 63] : '=', f);
    }
}

/* A number as the tables print it: 2 decimals, 4 below 1, e-notation
 * below 0.01; null (not measured) as an em dash. */
static void lt_num(FILE *f, const cJSON *v)
{
    if (!cJSON_IsNumber(v)) {
        fputs("—", f);
        return;
    }
    double x = v->valuedouble, a = fabs(x);
    if (x == 0)
        fputs("0", f);
    else
        fprintf(f, a >= 1000 ? "%.0f" : a >= 1 ? "%.2f" : a >= 0.01 ? "%.4f"
                : "%.2e", x);
}

/* The page up to its title's text, and from there to the heading's. */
static const char *lt_page_head =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<title>Lethe report: ";
static const char *lt_page_style =
    "</title>\n<style>\n"
    "body{font-family:sans-serif;margin:2em auto;max-width:1200px;"
    "color:#222}\n"
    "table{border-collapse:collapse;margin:1em 0}\n"
    "th,td{border:1px solid #ccc;padding:3px 8px;text-align:right;"
    "vertical-align:top}\n"
    "th{background:#f0f0f0}td.t{text-align:left}\n"
    "tr.failed td{background:#fde8e8}\n"
    "table.settings td{text-align:left;font-family:monospace}\n"
    "details{font-size:90%}img{max-width:100%;min-width:320px;"
    "image-rendering:pixelated;border:1px solid #ddd}\n"
    "figure{margin:1em 0}figcaption{color:#555;font-size:90%}\n"
    "</style>\n</head>\n<body>\n<h1>Lethe report: ";

/* The end of the page: once loaded, every picture records the width it
 * decoded to (data-loaded; 0 when broken), for a browser test to read. */
static const char *lt_page_tail =
    "<script>window.addEventListener(\"load\", function () {\n"
    "  for (const im of document.images)\n"
    "    im.setAttribute(\"data-loaded\", im.naturalWidth);\n"
    "});</script>\n</body>\n</html>\n";

/* ---- one result file -------------------------------------------------------- */

/* The keys of the number columns of a row: everything but the text cells,
 * "seeds", *_std and the bookkeeping entries. */
static bool lt_is_num_key(const cJSON *item)
{
    const char *k = item->string;
    size_t n = strlen(k);
    if (!strcmp(k, "seeds") || !strcmp(k, "runs") || !strcmp(k, "failed") ||
        !strcmp(k, "diverged") || !strcmp(k, "message"))
        return false;
    if (n > 4 && !strcmp(k + n - 4, "_std"))
        return false;
    return cJSON_IsNumber(item) || cJSON_IsNull(item);
}

static void lt_table_head(FILE *f, const cJSON *row)
{
    fputs("<tr>", f);
    for (const cJSON *c = row->child; c; c = c->next)
        if (cJSON_IsString(c) && strcmp(c->string, "message")) {
            fputs("<th>", f);
            lt_esc(f, c->string);
            fputs("</th>", f);
        }
    fputs("<th>seeds</th>", f);
    for (const cJSON *c = row->child; c; c = c->next)
        if (lt_is_num_key(c)) {
            fputs("<th>", f);
            lt_esc(f, c->string);
            fputs("</th>", f);
        }
    fputs("<th>runs</th><th>note</th></tr>\n", f);
}

/* The per-seed values of a row, one line per run. */
static void lt_runs(FILE *f, const cJSON *row)
{
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(row, "runs");
    int n = cJSON_GetArraySize(runs);
    if (n < 1) {
        fputs("<td></td>", f);
        return;
    }
    fprintf(f, "<td class=\"t\"><details><summary>%d runs</summary>", n);
    int i = 0;
    for (const cJSON *r = runs->child; r; r = r->next, i++) {
        fprintf(f, "%sseed %d:", i ? "<br>" : "", i + 1);
        for (const cJSON *c = r->child; c; c = c->next) {
            fputc(' ', f);
            lt_esc(f, c->string);
            fputc(' ', f);
            lt_num(f, c);
        }
    }
    fputs("</details></td>", f);
}

static void lt_table_row_html(FILE *f, const cJSON *row)
{
    bool failed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(row, "failed"));
    fprintf(f, "<tr%s>", failed ? " class=\"failed\"" : "");
    for (const cJSON *c = row->child; c; c = c->next)
        if (cJSON_IsString(c) && strcmp(c->string, "message")) {
            fputs("<td class=\"t\">", f);
            lt_esc(f, c->valuestring);
            fputs("</td>", f);
        }
    const cJSON *sj = cJSON_GetObjectItemCaseSensitive(row, "seeds");
    int seeds = cJSON_IsNumber(sj) ? sj->valueint : 0;
    fprintf(f, "<td>%d</td>", seeds);
    for (const cJSON *c = row->child; c; c = c->next) {
        if (!lt_is_num_key(c))
            continue;
        char key[96];
        snprintf(key, sizeof key, "%s_std", c->string);
        const cJSON *sd = cJSON_GetObjectItemCaseSensitive(row, key);
        fputs("<td>", f);
        lt_num(f, c);
        if (seeds > 1 && cJSON_IsNumber(c) && cJSON_IsNumber(sd)) {
            fputs(" ± ", f);
            lt_num(f, sd);
        }
        fputs("</td>", f);
    }
    lt_runs(f, row);
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(row, "message");
    fputs("<td class=\"t\">", f);
    if (failed)
        fputs(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(row, "diverged")) ?
              "diverged: " : "failed: ", f);
    lt_esc(f, cJSON_IsString(msg) ? msg->valuestring : "");
    fputs("</td></tr>\n", f);
}

static void lt_settings_html(FILE *f, const cJSON *root)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(root, "settings");
    fputs("<table class=\"settings\">\n", f);
    for (const cJSON *c = s ? s->child : NULL; c; c = c->next) {
        fputs("<tr><th>", f);
        lt_esc(f, c->string);
        fputs("</th><td>", f);
        if (cJSON_IsString(c))
            lt_esc(f, c->valuestring);
        else
            fprintf(f, "%.17g", cJSON_IsNumber(c) ? c->valuedouble : NAN);
        fputs("</td></tr>\n", f);
    }
    fputs("<tr><th>seconds</th><td>", f);
    lt_num(f, cJSON_GetObjectItemCaseSensitive(root, "seconds"));
    fputs("</td></tr>\n</table>\n", f);
}

/* The section of one result file; *tables and *rows count what it showed. */
static void lt_result_html(FILE *f, const char *name, const cJSON *root,
                           lt_report_page *pg)
{
    const cJSON *title = cJSON_GetObjectItemCaseSensitive(root, "title");
    fputs("<section class=\"result\">\n<h2>", f);
    lt_esc(f, cJSON_IsString(title) && *title->valuestring ?
           title->valuestring : name);
    fputs("</h2>\n<p>from <code>", f);
    lt_esc(f, name);
    fputs("</code></p>\n", f);
    lt_settings_html(f, root);
    const cJSON *tables = cJSON_GetObjectItemCaseSensitive(root, "tables");
    for (const cJSON *t = tables ? tables->child : NULL; t; t = t->next) {
        const cJSON *rows = cJSON_GetObjectItemCaseSensitive(t, "rows");
        const cJSON *tt = cJSON_GetObjectItemCaseSensitive(t, "title");
        if (!rows || !rows->child)
            continue;
        fputs("<h3>", f);
        lt_esc(f, cJSON_IsString(tt) ? tt->valuestring : "");
        fputs("</h3>\n<table class=\"results\">\n", f);
        lt_table_head(f, rows->child);
        for (const cJSON *r = rows->child; r; r = r->next, pg->rows++)
            lt_table_row_html(f, r);
        fputs("</table>\n", f);
        pg->tables++;
    }
}

/* ---- pictures ---------------------------------------------------------------- */

static lt_status lt_image_html(FILE *f, const char *dir, const char *name)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *data;
    size_t n;
    lt_status st = lt_read_file(path, &data, &n);
    if (st != LT_OK)
        return st;
    fputs("<figure><img alt=\"", f);
    lt_esc(f, name);
    fputs("\" data-file=\"", f);
    lt_esc(f, name);
    fputs("\" src=\"data:image/png;base64,", f);
    lt_base64(f, (const unsigned char *)data, n);
    fputs("\"><figcaption>", f);
    lt_esc(f, name);
    fputs("</figcaption></figure>\n", f);
    free(data);
    return LT_OK;
}

/* The PNG named like result file json (classify.json: classify.png). */
static int lt_image_of(const lt_dir_list *d, const char *json)
{
    size_t stem = strlen(json) - 5;
    for (int i = 0; i < d->n; i++)
        if (lt_has_ext(d->names[i], ".png") &&
            strlen(d->names[i]) == stem + 4 &&
            !strncmp(d->names[i], json, stem))
            return i;
    return -1;
}

/* Parse dir/name: *root is a result (a "tables" array) or NULL for other
 * JSON; a file that is not JSON is an error. */
static lt_status lt_result_load(const char *dir, const char *name,
                                cJSON **root)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    cJSON *j;
    *root = NULL;
    lt_status st = lt_json_load(path, &j);
    if (st != LT_OK)
        return st;
    if (cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "tables")))
        *root = j;
    else
        cJSON_Delete(j);
    return LT_OK;
}

/* Every section of the page into f; used[i] marks pictures already shown. */
static lt_status lt_page_body(FILE *f, const char *dir, const lt_dir_list *d,
                              bool *used, lt_report_page *pg)
{
    lt_status st = LT_OK;
    for (int i = 0; i < d->n && st == LT_OK; i++) {
        if (!lt_has_ext(d->names[i], ".json"))
            continue;
        cJSON *root;
        if ((st = lt_result_load(dir, d->names[i], &root)) != LT_OK)
            break;
        if (!root) {
            pg->skipped++;
            continue;
        }
        lt_result_html(f, d->names[i], root, pg);
        cJSON_Delete(root);
        pg->reports++;
        int k = lt_image_of(d, d->names[i]);
        if (k >= 0 && !used[k]) {
            st = lt_image_html(f, dir, d->names[k]);
            used[k] = true;
            pg->images++;
        }
        fputs("</section>\n", f);
    }
    bool heading = false;
    for (int i = 0; i < d->n && st == LT_OK; i++) {
        if (!lt_has_ext(d->names[i], ".png") || used[i])
            continue;
        if (!heading)
            fputs("<section class=\"pictures\">\n<h2>Pictures</h2>\n", f);
        heading = true;
        st = lt_image_html(f, dir, d->names[i]);
        pg->images++;
    }
    if (heading)
        fputs("</section>\n", f);
    return st;
}

lt_status lt_report_html(const char *dir, const char *out,
                         lt_report_page *page)
{
    lt_report_page pg = {0};
    lt_dir_list d;
    lt_status st = lt_dir_read(dir, &d);
    if (st != LT_OK)
        return st;
    bool *used = calloc((size_t)d.n + 1, sizeof *used);
    char *buf = NULL;
    size_t n = 0;
    FILE *f = used ? open_memstream(&buf, &n) : NULL;
    if (!f) {
        free(used);
        lt_dir_free(&d);
        return lt_set_error(LT_ERR_NOMEM, "report %s: out of memory", out);
    }
    fputs(lt_page_head, f);
    lt_esc(f, dir);
    fputs(lt_page_style, f);
    lt_esc(f, dir);
    fputs("</h1>\n<p>Made by <code>lethe report</code> (commit <code>", f);
    lt_esc(f, lt_bench_commit());
    fputs("</code>) from the files of this folder.</p>\n", f);
    st = lt_page_body(f, dir, &d, used, &pg);
    fputs(lt_page_tail, f);
    fclose(f);
    if (st == LT_OK && !pg.reports && !pg.images)
        st = lt_set_error(LT_ERR_ARG, "%s: no benchmark results in the folder "
                          "(result JSON written by lethe bench --json, or "
                          "PNG pictures)", dir);
    if (st == LT_OK)
        st = lt_write_file_atomic(out, buf, n);
    free(buf);
    free(used);
    lt_dir_free(&d);
    if (st == LT_OK && page)
        *page = pg;
    return st;
}
