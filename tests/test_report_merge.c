/*
 * test_report_merge.c - reading a report back from its JSON
 * (lt_report_read_json) and merging per-seed reports (lt_report_merge):
 * two one-seed TOFU-shaped reports written by lt_report_write_json, read
 * back and merged, must give each row both runs (exact mean and sample
 * std), keep equal settings, join differing ones, turn "seed N" into
 * "seeds 1, 2"; a file of the older layout (no "columns") is read from its
 * rows; bad files and mismatched reports are refused with a message.
 */
#include "lt_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const lt_table_col cols[] = {
    {"method", "Method", NULL, 0, false},
    {"mask", "Mask", NULL, 0, false},
    {"forget_quality", "Forget quality", "%.4f", 1e-3, false},
    {"seconds", "Time (s)", "%.1f", 0, false},
};

/* A one-seed report: rows "ga none" (fq, t), "npo none" (failed when
 * fail), and "extra" when extra. */
static void make(lt_report *r, int seed, double fq, double t, bool fail,
                 bool extra)
{
    *r = (lt_report){0};
    snprintf(r->title, sizeof r->title, "TOFU (synthetic), forget10, seed %d, "
             "1 threads", seed);
    lt_report_set(r, "command", "lethe bench tofu");
    lt_report_set(r, "config", "micro");
    lt_report_set_num(r, "seed", seed);
    r->seconds = 100 * seed;
    lt_table *tb = lt_report_table(r, "TOFU", cols, 4);
    lt_table_row *a = lt_table_add_row(tb);
    snprintf(a->text[0], LT_TABLE_TEXT, "ga");
    snprintf(a->text[1], LT_TABLE_TEXT, "none");
    double v[LT_TABLE_MAX_COLS] = {0, 0, fq, t};
    lt_table_row_add_run(a, v);
    lt_table_row *b = lt_table_add_row(tb);
    snprintf(b->text[0], LT_TABLE_TEXT, "npo");
    snprintf(b->text[1], LT_TABLE_TEXT, "none");
    double w[LT_TABLE_MAX_COLS] = {0, 0, NAN, 2 * t};
    lt_table_row_add_run(b, w);
    if (fail) {
        b->failed = b->diverged = true;
        snprintf(b->message, sizeof b->message, "loss NaN at epoch 3");
    }
    if (extra) {
        lt_table_row *c = lt_table_add_row(tb);
        snprintf(c->text[0], LT_TABLE_TEXT, "rmu");
        snprintf(c->text[1], LT_TABLE_TEXT, "none");
        double u[LT_TABLE_MAX_COLS] = {0, 0, 0.5, 1};
        lt_table_row_add_run(c, u);
    }
}

static void tmp_path(char *buf, size_t n, const char *name)
{
    const char *d = getenv("TMPDIR");
    snprintf(buf, n, "%s/lethe-rm-%d-%s", d ? d : "/tmp", (int)getpid(), name);
}

static char *slurp(const char *path)
{
    char *text = NULL;
    size_t n;
    if (lt_read_file(path, &text, &n) != LT_OK)
        return NULL;
    return text;
}

LT_TEST(report_read_round_trip)
{
    lt_report r, back;
    make(&r, 1, 0.25, 3.5, false, false);
    char p[512];
    tmp_path(p, sizeof p, "a.json");
    LT_CHECK(lt_report_write_json(&r, p) == LT_OK, "write: %s", lt_last_error());
    LT_CHECK(lt_report_read_json(p, &back) == LT_OK, "read: %s", lt_last_error());
    LT_CHECK(!strcmp(back.title, r.title), "title '%s'", back.title);
    LT_CHECK(back.seconds == 100, "seconds %g", back.seconds);
    LT_CHECK(!strcmp(lt_report_get(&back, "config"), "micro"), "setting");
    LT_CHECK(back.n_tables == 1 && back.tables[0].n_cols == 4, "shape");
    const lt_table *t = &back.tables[0];
    LT_CHECK(!strcmp(t->cols[2].head, "Forget quality") &&
             !strcmp(t->cols[2].fmt, "%.4f") && t->cols[2].sci_below == 1e-3 &&
             !t->cols[0].fmt, "columns kept with their formats");
    LT_CHECK(t->n_rows == 2 && t->rows[0].n == 1 &&
             t->rows[0].v[0][2] == 0.25 && t->rows[0].v[0][3] == 3.5 &&
             isnan(t->rows[1].v[0][2]) && t->rows[1].v[0][3] == 7,
             "the runs' values (NaN kept)");
    lt_report_free(&back);
    lt_report_free(&r);
    remove(p);
}

LT_TEST(report_merge_two_seeds)
{
    lt_report a, b, in[2], m;
    make(&a, 1, 0.25, 3.5, false, false);
    make(&b, 2, 0.75, 4.5, true, true);
    char pa[512], pb[512], pm[512];
    tmp_path(pa, sizeof pa, "s1.json");
    tmp_path(pb, sizeof pb, "s2.json");
    tmp_path(pm, sizeof pm, "m.md");
    lt_report_write_json(&a, pa);
    lt_report_write_json(&b, pb);
    LT_CHECK(lt_report_read_json(pa, &in[0]) == LT_OK &&
             lt_report_read_json(pb, &in[1]) == LT_OK, "%s", lt_last_error());
    LT_CHECK(lt_report_merge(in, 2, &m) == LT_OK, "merge: %s", lt_last_error());
    LT_CHECK(!strcmp(m.title, "TOFU (synthetic), forget10, seeds 1, 2 "
                     "(mean ± std), 1 threads"), "title '%s'", m.title);
    LT_CHECK(!strcmp(lt_report_get(&m, "config"), "micro"), "equal kept");
    LT_CHECK(!strcmp(m.tables[0].title, "TOFU"), "equal table titles kept: "
             "'%s'", m.tables[0].title);
    LT_CHECK(!strcmp(lt_report_get(&m, "seed"), "1 | 2"), "seed '%s'",
             lt_report_get(&m, "seed"));
    const lt_table *t = &m.tables[0];
    LT_CHECK(t->n_rows == 3, "rows %d (ga, npo, then rmu of report 2)",
             t->n_rows);
    double mean, std;
    lt_table_row_stats(&t->rows[0], 2, &mean, &std);
    LT_CHECK(t->rows[0].n == 2 && mean == 0.5 &&
             fabs(std - 0.35355339059327373) < 1e-15, "ga fq %g ± %g", mean,
             std);
    lt_table_row_stats(&t->rows[0], 3, &mean, &std);
    LT_CHECK(mean == 4 && fabs(std - 0.70710678118654752) < 1e-15,
             "ga time %g ± %g", mean, std);
    LT_CHECK(t->rows[1].failed && t->rows[1].diverged &&
             !strcmp(t->rows[1].message, "loss NaN at epoch 3"),
             "npo failed in seed 2");
    LT_CHECK(!strcmp(t->rows[2].text[0], "rmu") && t->rows[2].n == 1,
             "rmu: one run");
    LT_CHECK(m.seconds == 300, "seconds %g", m.seconds);
    for (int i = 0; i < m.n_settings; i++)
        if (!strcmp(m.settings[i].key, "seeds"))
            LT_CHECK(m.settings[i].is_num && m.settings[i].num == 2,
                     "seeds %g", m.settings[i].num);
    LT_CHECK(lt_report_write_markdown(&m, pm) == LT_OK, "markdown");
    char *md = slurp(pm);
    LT_CHECK(md && strstr(md, "| ga | none | 0.5000 ± 0.3536 | 4.0 ± 0.7 |"),
             "markdown cells:\n%s", md ? md : "(none)");
    free(md);
    lt_report_free(&m);
    for (int i = 0; i < 2; i++)
        lt_report_free(&in[i]);
    lt_report_free(&a);
    lt_report_free(&b);
    remove(pa);
    remove(pb);
    remove(pm);
}

/* A file as the writers made it before "columns": read from its rows. */
LT_TEST(report_read_old_layout)
{
    char p[512];
    tmp_path(p, sizeof p, "old.json");
    const char *text =
        "{\"title\": \"t, seed 3\", \"settings\": {\"seed\": 3, \"x\": null},"
        " \"seconds\": 5, \"tables\": [{\"title\": \"u\", \"rows\": ["
        "{\"label\": \"ft\", \"seeds\": 2, \"UA\": 5.5, \"UA_std\": 0.7,"
        " \"runs\": [{\"UA\": 5}, {\"UA\": 6}], \"failed\": false,"
        " \"diverged\": false},"
        "{\"label\": \"ga\", \"seeds\": 1, \"UA\": 30, \"UA_std\": 0,"
        " \"runs\": [], \"failed\": false, \"diverged\": false}]}]}";
    LT_CHECK(lt_write_text_atomic(p, text) == LT_OK, "write");
    lt_report r;
    LT_CHECK(lt_report_read_json(p, &r) == LT_OK, "%s", lt_last_error());
    const lt_table *t = &r.tables[0];
    LT_CHECK(t->n_cols == 2 && !strcmp(t->cols[0].key, "label") &&
             !t->cols[0].fmt && !strcmp(t->cols[1].key, "UA") &&
             !strcmp(t->cols[1].fmt, "%.4g"), "columns from the rows");
    LT_CHECK(t->rows[0].n == 2 && t->rows[0].v[1][1] == 6 &&
             t->rows[1].n == 1 && t->rows[1].v[0][1] == 30, "runs");
    lt_report_free(&r);
    remove(p);
}

LT_TEST(report_merge_errors)
{
    char p[512];
    lt_report r;
    tmp_path(p, sizeof p, "missing.json");
    LT_CHECK(lt_report_read_json(p, &r) == LT_ERR_IO &&
             strstr(lt_last_error(), p), "missing: %s", lt_last_error());
    LT_CHECK(lt_write_text_atomic(p, "{\"tables\": ") == LT_OK, "write");
    LT_CHECK(lt_report_read_json(p, &r) == LT_ERR_FORMAT &&
             strstr(lt_last_error(), "not JSON"), "%s", lt_last_error());
    lt_write_text_atomic(p, "{\"title\": \"x\"}");
    LT_CHECK(lt_report_read_json(p, &r) == LT_ERR_FORMAT &&
             strstr(lt_last_error(), "no \"tables\""), "%s", lt_last_error());
    lt_write_text_atomic(p, "{\"tables\": [{\"title\": \"x\"}]}");
    LT_CHECK(lt_report_read_json(p, &r) == LT_ERR_FORMAT &&
             strstr(lt_last_error(), "without \"rows\""), "%s",
             lt_last_error());
    LT_CHECK(r.n_tables == 0 && !r.owned, "left empty");
    remove(p);

    lt_report in[2], m;
    make(&in[0], 1, 0.1, 1, false, false);
    make(&in[1], 2, 0.2, 2, false, false);
    in[1].tables[0].cols[2].key = "model_utility";
    LT_CHECK(lt_report_merge(in, 2, &m) == LT_ERR_ARG &&
             strstr(lt_last_error(), "report 2: table 'TOFU'") &&
             m.n_tables == 0, "other columns: %s", lt_last_error());
    in[1].tables[0].cols[2].key = "forget_quality";
    in[1].n_tables = 0;
    LT_CHECK(lt_report_merge(in, 2, &m) == LT_ERR_ARG &&
             strstr(lt_last_error(), "report 2 has 0 tables"), "%s",
             lt_last_error());
    in[1].n_tables = 1;
    LT_CHECK(lt_report_merge(in, 0, &m) == LT_ERR_ARG, "no reports");
    lt_report many[LT_TABLE_MAX_SEEDS];
    for (int i = 0; i < LT_TABLE_MAX_SEEDS; i++)
        many[i] = in[i % 2];
    many[0].tables[0].rows[0].n = 2; /* 17 runs of "ga" in all */
    many[0].tables[0].rows[0].v[1][2] = 0.3;
    LT_CHECK(lt_report_merge(many, LT_TABLE_MAX_SEEDS, &m) == LT_ERR_ARG &&
             strstr(lt_last_error(), "more than 16 runs"), "%s",
             lt_last_error());
    /* different titles: the first plus a note */
    snprintf(in[1].title, sizeof in[1].title, "something else");
    in[0].tables[0].rows[0].n = 1;
    LT_CHECK(lt_report_merge(in, 2, &m) == LT_OK &&
             strstr(m.title, "(2 reports merged, mean ± std)"), "'%s'",
             m.title);
    lt_report_free(&m);
    lt_report_free(&in[0]);
    lt_report_free(&in[1]);
}

/* Heads and formats from another report of the same benchmark. */
LT_TEST(report_use_columns)
{
    char p[512];
    tmp_path(p, sizeof p, "cols.json");
    lt_write_text_atomic(p,
        "{\"title\": \"t\", \"tables\": [{\"title\": \"TOFU\", \"rows\": ["
        "{\"method\": \"ga\", \"mask\": \"none\", \"seeds\": 1,"
        " \"forget_quality\": 0.0001234, \"forget_quality_std\": 0,"
        " \"seconds\": 2.25, \"seconds_std\": 0, \"runs\": [],"
        " \"failed\": false, \"diverged\": false}]}]}");
    lt_report old, like;
    LT_CHECK(lt_report_read_json(p, &old) == LT_OK, "%s", lt_last_error());
    make(&like, 1, 0.5, 1, false, false);
    LT_CHECK(lt_report_use_columns(&old, &like) == LT_OK, "%s",
             lt_last_error());
    const lt_table *t = &old.tables[0];
    LT_CHECK(!strcmp(t->cols[2].head, "Forget quality") &&
             !strcmp(t->cols[2].fmt, "%.4f") && t->cols[2].sci_below == 1e-3 &&
             !strcmp(t->cols[3].fmt, "%.1f"), "heads and formats taken");
    char md[512];
    tmp_path(md, sizeof md, "cols.md");
    lt_report_write_markdown(&old, md);
    char *text = slurp(md);
    LT_CHECK(text && strstr(text, "| Method | Mask | Forget quality | Time (s) |")
             && strstr(text, "| ga | none | 1.23e-04 | 2.2 |"), "%s",
             text ? text : "(none)");
    free(text);
    like.tables[0].cols[3].key = "other";
    LT_CHECK(lt_report_use_columns(&old, &like) == LT_ERR_ARG &&
             strstr(lt_last_error(), "other column keys"), "%s",
             lt_last_error());
    like.tables[0].cols[3].key = "seconds";
    like.n_tables = 0;
    LT_CHECK(lt_report_use_columns(&old, &like) == LT_ERR_ARG, "fewer tables");
    like.n_tables = 1;
    lt_report_free(&like);
    lt_report_free(&old);
    remove(p);
    remove(md);
}

/* A signed format ("%+.2f", PrivLeak's) prints the mean signed, the
 * std without a sign. */
LT_TEST(report_std_unsigned)
{
    static const lt_table_col c2[] = {
        {"method", "Method", NULL, 0, false},
        {"privleak", "PrivLeak", "%+.2f", 0, false},
    };
    lt_report r = {0};
    lt_table *t = lt_report_table(&r, "t", c2, 2);
    lt_table_row *row = lt_table_add_row(t);
    snprintf(row->text[0], LT_TABLE_TEXT, "npo");
    double a[LT_TABLE_MAX_COLS] = {0, -1}, b[LT_TABLE_MAX_COLS] = {0, -3};
    lt_table_row_add_run(row, a);
    lt_table_row_add_run(row, b);
    char p[512];
    tmp_path(p, sizeof p, "std.md");
    lt_report_write_markdown(&r, p);
    char *md = slurp(p);
    LT_CHECK(md && strstr(md, "| npo | -2.00 ± 1.41 |"), "%s",
             md ? md : "(none)");
    free(md);
    lt_report_free(&r);
    remove(p);
}

LT_TEST_MAIN()
