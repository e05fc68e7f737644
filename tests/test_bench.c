/*
 * test_bench.c - the benchmark protocols (lethe/bench.h) run at micro
 * settings through the library API, with the invariants every run must
 * keep: Retrain's gap to itself is 0 and the original's is not, the retain
 * model's forget quality is 1, the retrain model's PrivLeak is 0, every
 * requested row is present with finite numbers (or marked failed with a
 * reason), and the report writers produce the files; the classify cache
 * keys the original model by the data's content (the same files in
 * another folder reuse it, one changed label trains another). Also the
 * table statistics and the Markdown / JSON writers on a hand-made report.
 */
#include "lt_test.h"

#include "lethe/bench.h"
#include "lethe/io.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


/* Every metric of every run of t is finite, or the row failed (rate, time
 * and text count are not measured for reference models). */
static void lt_check_rows(const lt_table *t)
{
    for (int i = 0; i < t->n_rows; i++) {
        const lt_table_row *r = &t->rows[i];
        LT_CHECK(r->n > 0 || (r->failed && r->message[0]),
                 "row %s: no runs and no reason", r->text[0]);
        for (int s = 0; s < r->n && !r->failed; s++)
            for (int c = 0; c < t->n_cols; c++)
                if (t->cols[c].fmt && strcmp(t->cols[c].key, "lr") &&
                    strcmp(t->cols[c].key, "seconds") &&
                    strcmp(t->cols[c].key, "forget_texts"))
                    LT_CHECK(isfinite(r->v[s][c]), "row %s column %s run %d "
                             "is %g", r->text[0], t->cols[c].key, s,
                             r->v[s][c]);
    }
}

static double lt_col(const lt_table *t, const char *row, const char *key)
{
    const lt_table_row *r = lt_table_find(t, 0, row);
    int c = lt_table_col_index(t, key);
    double mean = NAN, std;
    if (r && c >= 0)
        lt_table_row_stats(r, c, &mean, &std);
    return mean;
}

LT_TEST(table_stats_and_writers)
{
    lt_report r = {0};
    lt_table_col cols[3] = {{"name", "Name", NULL, 0, false},
                            {"x", "X", "%.2f", 0, false},
                            {"p", "p", "%.4f", 1e-3, false}};
    snprintf(r.title, sizeof r.title, "hand-made");
    lt_table *t = lt_report_table(&r, "t", cols, 3);
    LT_CHECK(t != NULL, "table");
    lt_table_row *a = lt_table_add_row(t), *b = lt_table_add_row(t);
    snprintf(a->text[0], LT_TABLE_TEXT, "a");
    snprintf(b->text[0], LT_TABLE_TEXT, "b");
    double v1[LT_TABLE_MAX_COLS] = {0, 1.0, 1e-5}, v2[LT_TABLE_MAX_COLS] = {
        0, 3.0, NAN};
    lt_table_row_add_run(a, v1);
    lt_table_row_add_run(a, v2);
    b->failed = true;
    snprintf(b->message, sizeof b->message, "diverged at step 3");
    double m, s;
    lt_table_row_stats(a, 1, &m, &s);
    LT_CHECK(m == 2.0 && fabs(s - sqrt(2.0)) < 1e-12, "mean %g std %g", m, s);
    lt_table_row_stats(a, 2, &m, &s); /* NaN runs are left out */
    LT_CHECK(m == 1e-5 && s == 0, "mean %g std %g", m, s);
    LT_CHECK(lt_table_find(t, 0, "b") == b && !lt_table_find(t, 0, "c"),
             "find");
    lt_report_set(&r, "command", "lethe test");
    lt_report_set_num(&r, "seeds", 2);
    LT_CHECK(!strcmp(lt_report_get(&r, "seeds"), "2"), "setting %s",
             lt_report_get(&r, "seeds"));
    char md[256], js[256], *text = NULL;
    snprintf(md, sizeof md, "%s/t.md", lt_test_tmpdir());
    snprintf(js, sizeof js, "%s/t.json", lt_test_tmpdir());
    LT_CHECK(lt_report_write_markdown(&r, md) == LT_OK, "%s", lt_last_error());
    LT_CHECK(lt_read_file(md, &text, NULL) == LT_OK, "read md");
    LT_CHECK(text && strstr(text, "| a | 2.00 ± 1.41 | 1.00e-05 ± 0.0000 |"),
             "markdown row a: %s", text ? text : "");
    LT_CHECK(text && strstr(text, "| b (failed) | - | - |") &&
             strstr(text, "b: diverged at step 3"), "markdown row b: %s",
             text ? text : "");
    free(text);
    LT_CHECK(lt_report_write_json(&r, js) == LT_OK, "%s", lt_last_error());
    LT_CHECK(lt_read_file(js, &text, NULL) == LT_OK, "read json");
    LT_CHECK(text && strstr(text, "\"x_std\":") && strstr(text, "null") &&
             strstr(text, "\"message\":\t\"diverged at step 3\"") &&
             strstr(text, "\"seeds\":\t2"), "json: %s", text ? text : "");
    free(text);
    lt_report_free(&r);
}

/* bench classify at a micro setting on data spec: one epoch, caching in
 * cache. */
static lt_bench_classify_cfg lt_classify_micro(const char *data,
                                               const char *cache)
{
    lt_bench_classify_cfg c = lt_bench_classify_defaults();
    c.data = data;
    c.model = "mlp:784-16-10";
    c.train_epochs = 1;
    c.cache = cache;
    return c;
}

LT_TEST(classify_protocol_micro)
{
    char data[256], cache[256], md[256];
    if (!lt_test_small_fmnist(data, sizeof data)) {
        LT_CHECK(0, "could not write the small Fashion-MNIST copy");
        return;
    }
    snprintf(cache, sizeof cache, "%s/cache", lt_test_tmpdir());
    lt_bench_classify_cfg c = lt_classify_micro(data, cache);
    c.methods = "ft,ga";
    c.seeds = 2;
    lt_report r;
    LT_CHECK(lt_bench_classify(&c, &r) == LT_OK, "%s", lt_last_error());
    LT_CHECK(r.n_tables == 1, "tables %d", r.n_tables);
    const lt_table *t = &r.tables[0];
    const char *want[4] = {"retrain", "original", "ft", "ga"};
    LT_CHECK(t->n_rows == 4, "rows %d", t->n_rows);
    for (int i = 0; i < 4 && i < t->n_rows; i++)
        LT_CHECK(!strcmp(t->rows[i].text[0], want[i]) && t->rows[i].n == 2,
                 "row %d %s (%d runs)", i, t->rows[i].text[0],
                 t->rows[i].n);
    lt_check_rows(t);
    LT_CHECK(lt_col(t, "retrain", "avg_gap") == 0, "retrain gap %g",
             lt_col(t, "retrain", "avg_gap"));
    LT_CHECK(lt_col(t, "original", "avg_gap") > 0, "original gap %g",
             lt_col(t, "original", "avg_gap"));
    LT_CHECK(strlen(lt_report_get(&r, "commit")) > 0 &&
             !strcmp(lt_report_get(&r, "seeds"), "2"), "settings");
    snprintf(md, sizeof md, "%s/c.md", lt_test_tmpdir());
    LT_CHECK(lt_report_write_markdown(&r, md) == LT_OK, "markdown");
    lt_report_free(&r);
    /* the same run again: everything from the cache, same numbers */
    lt_report r2;
    LT_CHECK(lt_bench_classify(&c, &r2) == LT_OK, "%s", lt_last_error());
    LT_CHECK(r2.n_tables == 1 && r2.tables[0].n_rows == 4, "second run");
    lt_report_free(&r2);
    c.methods = "ga,nope";
    LT_CHECK(lt_bench_classify_check(&c) == LT_ERR_ARG &&
             strstr(lt_last_error(), "nope"), "unknown method: %s",
             lt_last_error());
}

/* The four IDX files of folder src copied to folder dst; with flip, the
 * first training label changed to the next class. */
static bool lt_copy_fmnist(const char *src, const char *dst, bool flip)
{
    const char *names[4] = {
        "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
    if (mkdir(dst, 0777) && errno != EEXIST)
        return false;
    bool ok = true;
    for (int i = 0; ok && i < 4; i++) {
        char a[512], b[512], *buf = NULL;
        size_t n = 0;
        snprintf(a, sizeof a, "%s/%s", src, names[i]);
        snprintf(b, sizeof b, "%s/%s", dst, names[i]);
        ok = lt_read_file(a, &buf, &n) == LT_OK;
        if (ok && flip && i == 1)
            buf[8] = (char)((buf[8] + 1) % 10); /* after the 8-byte header */
        ok = ok && lt_write_file_atomic(b, buf, n) == LT_OK;
        free(buf);
    }
    return ok;
}

/* The original model bench classify uses (its cache file) for data spec. */
static bool lt_original_of(const char *spec, const char *cache, char *out,
                           size_t n)
{
    lt_bench_classify_cfg c = lt_classify_micro(spec, cache);
    c.methods = "ft";
    c.seeds = 1;
    lt_report r;
    bool ok = lt_bench_classify(&c, &r) == LT_OK;
    LT_CHECK(ok, "%s: %s", spec, lt_last_error());
    const char *o = ok ? lt_report_get(&r, "original") : NULL;
    snprintf(out, n, "%s", o ? o : "");
    lt_report_free(&r); /* o pointed into r: use the copy in out */
    return ok && *out;
}

LT_TEST(classify_cache_keyed_by_the_data)
{
    char data[256], cache[256], same[256], other[256];
    char o1[1100], o2[1100], o3[1100];
    if (!lt_test_small_fmnist(data, sizeof data)) {
        LT_CHECK(0, "could not write the small Fashion-MNIST copy");
        return;
    }
    const char *dir = strchr(data, ':') + 1;
    snprintf(cache, sizeof cache, "%s/keycache", lt_test_tmpdir());
    snprintf(same, sizeof same, "%s/fm-same", lt_test_tmpdir());
    snprintf(other, sizeof other, "%s/fm-other", lt_test_tmpdir());
    LT_CHECK(lt_copy_fmnist(dir, same, false) &&
             lt_copy_fmnist(dir, other, true), "copies: %s", lt_last_error());
    char s_same[300], s_other[300];
    snprintf(s_same, sizeof s_same, "fashion-mnist:%s", same);
    snprintf(s_other, sizeof s_other, "fashion-mnist:%s", other);
    if (!lt_original_of(data, cache, o1, sizeof o1) ||
        !lt_original_of(s_other, cache, o2, sizeof o2) ||
        !lt_original_of(s_same, cache, o3, sizeof o3))
        return;
    LT_CHECK(strcmp(o1, o2) != 0, "a folder with one other label got the "
             "cached original %s", o2);
    LT_CHECK(!strcmp(o1, o3), "the same files in another folder: %s, not "
             "%s", o3, o1);
}

LT_TEST(tofu_protocol_micro)
{
    char cache[256];
    snprintf(cache, sizeof cache, "%s/tofu", lt_test_tmpdir());
    lt_bench_tofu_cfg c = lt_bench_tofu_defaults();
    lt_bench_tofu_quick(&c);
    c.cache = cache;
    c.authors = 10;
    c.world_facts = c.real_authors = 10;
    c.train_epochs = 2;
    c.methods = "ga";
    c.masks = "none";
    c.epochs = 1;
    c.max_items = 8;
    lt_report r;
    LT_CHECK(lt_bench_tofu(&c, &r) == LT_OK, "%s", lt_last_error());
    const lt_table *t = &r.tables[0];
    LT_CHECK(t->n_rows == 3, "rows %d", t->n_rows);
    lt_check_rows(t);
    LT_CHECK(lt_col(t, "retain model", "forget_quality") == 1.0,
             "retain model's forget quality %g",
             lt_col(t, "retain model", "forget_quality"));
    LT_CHECK(t->n_rows == 3 && !strcmp(t->rows[2].text[0], "ga") &&
             !strcmp(t->rows[2].text[1], "none"), "the ga row");
    /* --resume: the original's and ga's rows come from CACHE/runs, every
     * number as before (also the time) */
    c.resume = true;
    lt_report r2;
    LT_CHECK(lt_bench_tofu(&c, &r2) == LT_OK, "%s", lt_last_error());
    const lt_table *t2 = &r2.tables[0];
    LT_CHECK(t2->n_rows == 3, "resumed rows %d", t2->n_rows);
    for (int i = 0; i < 3 && i < t->n_rows && i < t2->n_rows; i++)
        for (int k = 0; k < t->n_cols; k++) {
            double a = t->rows[i].v[0][k], b = t2->rows[i].v[0][k];
            LT_CHECK((isnan(a) && isnan(b)) || a == b, "resumed row %d "
                     "column %d: %.17g, before %.17g", i, k, b, a);
        }
    lt_report_free(&r2);
    lt_report_free(&r);
    c.masks = "wagle:2";
    LT_CHECK(lt_bench_tofu_check(&c) != LT_OK, "bad mask accepted");
}

LT_TEST(muse_protocol_micro)
{
    char cache[256];
    snprintf(cache, sizeof cache, "%s/muse", lt_test_tmpdir());
    lt_bench_muse_cfg c = lt_bench_muse_defaults();
    lt_bench_muse_quick(&c);
    c.cache = cache;
    c.max_texts = 24;
    c.qa_max = 6;
    c.train_epochs = 2;
    c.methods = "npo";
    c.scal = "50";
    c.scal_methods = "ga";
    c.seq = 2;
    c.epochs = 1;
    c.max_new = 8;
    lt_report r;
    LT_CHECK(lt_bench_muse(&c, &r) == LT_OK, "%s", lt_last_error());
    LT_CHECK(r.n_tables == 3, "tables %d", r.n_tables);
    const lt_table *m = &r.tables[0];
    LT_CHECK(m->n_rows == 3 && r.tables[1].n_rows == 1 &&
             r.tables[2].n_rows == 2, "rows %d %d %d", m->n_rows,
             r.tables[1].n_rows, r.tables[2].n_rows);
    for (int i = 0; i < r.n_tables; i++)
        lt_check_rows(&r.tables[i]);
    LT_CHECK(lt_col(m, "retrain", "privleak") == 0, "retrain PrivLeak %g",
             lt_col(m, "retrain", "privleak"));
    lt_report_free(&r);
}

LT_TEST_MAIN()
