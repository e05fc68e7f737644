/*
 * test_bench_dm.c - the class-wise diffusion-unlearning protocol
 * (lethe/bench_dm.h) at its quick setting through the library: a cond:xs
 * base trained into the cache, original / salun / rl rows with the
 * metrics and histogram tables complete and finite, UA the complement of
 * the histogram's forgotten-class share, the floor printed (on the first
 * 1000 + 300 images of Fashion-MNIST); a second run
 * reuses the cached base; SA and its short preset (sa-short) as named
 * rows; the spot check's table under SalUn's own sampler, also resumed;
 * and the options it refuses.
 */
#include "lt_test.h"

#include "lethe/bench_dm.h"
#include "lethe/image_metrics.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define EVAL_B LT_GOLDEN_DIR "/../../" LT_FMNIST_EVAL_B

static double col(const lt_table *t, int row, const char *key)
{
    int c = lt_table_col_index(t, key);
    return c >= 0 && row < t->n_rows ? t->rows[row].v[0][c] : NAN;
}

/* Counts the runs a resumed sweep kept, by method (sa, sa-short). */
static void count_kept(void *ud, const lt_bench_event *ev)
{
    int *kept = ud;
    if (ev->kind != LT_BENCH_NOTE || !strstr(ev->text, "done before"))
        return;
    kept[strstr(ev->text, "dm: sa-short (") ? 1 : 0] +=
        strstr(ev->text, "dm: sa (") || strstr(ev->text, "dm: sa-short (");
}

LT_TEST(quick_protocol_rows_and_invariants)
{
    char cache[600], data[256];
    snprintf(cache, sizeof cache, "%s/dmcache", lt_test_tmpdir());
    if (!lt_test_small_fmnist(data, sizeof data)) {
        LT_CHECK(0, "could not write the small Fashion-MNIST copy");
        return;
    }
    lt_bench_dm_forget_cfg c = lt_bench_dm_forget_defaults();
    lt_bench_dm_forget_quick(&c);
    c.base_steps = 8;
    c.data = data;
    c.classifier = EVAL_B;
    c.classes = "1";
    c.cache = cache;
    lt_report r;
    LT_CHECK(lt_bench_dm_forget(&c, &r) == LT_OK, "%s", lt_last_error());
    LT_CHECK(r.n_tables == 2, "tables %d", r.n_tables);
    if (r.n_tables == 2) {
        const lt_table *t = &r.tables[0], *h = &r.tables[1];
        const char *want[3] = {"original", "salun", "rl"};
        LT_CHECK(t->n_rows == 3 && h->n_rows == 3, "rows %d / %d",
                 t->n_rows, h->n_rows);
        for (int i = 0; i < 3 && i < t->n_rows && i < h->n_rows; i++) {
            LT_CHECK(!strcmp(t->rows[i].text[0], want[i]) &&
                         !strcmp(t->rows[i].text[3], "1") &&
                         t->rows[i].n == 1 && !t->rows[i].failed,
                     "row %d: %s class %s, %d runs", i, t->rows[i].text[0],
                     t->rows[i].text[3], t->rows[i].n);
            double ua = col(t, i, "UA"), sum = 0;
            for (int k = 0; k < 10; k++)
                sum += h->rows[i].v[0][2 + k];
            LT_CHECK(fabs(sum - 100) < 1e-9, "histogram sums to %g", sum);
            LT_CHECK(fabs(ua - (100 - h->rows[i].v[0][2 + 1])) < 1e-9,
                     "UA %g = 100 - share of class 1 %g", ua,
                     h->rows[i].v[0][3]);
            double p = col(t, i, "p_forget"), fd = col(t, i, "FD");
            double fl = col(t, i, "FD_floor");
            LT_CHECK(p >= 0 && p <= 1 && fd > 0 && fl > 0 && isfinite(fd),
                     "p %g fd %g floor %g", p, fd, fl);
        }
        LT_CHECK(t->n_rows == 3 && !strcmp(t->rows[1].text[2],
                                           "saliency:0.5") &&
                     !strcmp(t->rows[2].text[2], "none") &&
                     col(t, 0, "seconds") == 0 && col(t, 1, "seconds") > 0,
                 "masks and times");
        LT_CHECK(strstr(lt_report_get(&r, "sampler"), "DDIM-4") &&
                     strlen(lt_report_get(&r, "commit")) > 0,
                 "settings: sampler '%s'", lt_report_get(&r, "sampler"));
    }
    char base[700];
    snprintf(base, sizeof base, "%s", lt_report_get(&r, "model"));
    /* resume: every run from CACHE/runs, both tables as before */
    c.resume = true;
    lt_report r2;
    LT_CHECK(lt_bench_dm_forget(&c, &r2) == LT_OK, "%s", lt_last_error());
    for (int k = 0; k < 2 && r2.n_tables == 2 && r.n_tables == 2; k++) {
        const lt_table *a = &r.tables[k], *b = &r2.tables[k];
        LT_CHECK(a->n_rows == b->n_rows, "table %d: %d rows, resumed %d", k,
                 a->n_rows, b->n_rows);
        for (int i = 0; i < a->n_rows && i < b->n_rows; i++)
            for (int j = 0; j < a->n_cols; j++) {
                double x = a->rows[i].v[0][j], y = b->rows[i].v[0][j];
                LT_CHECK((isnan(x) && isnan(y)) || x == y, "table %d row "
                         "%d column %d: %.17g, before %.17g", k, i, j, y, x);
            }
    }
    lt_report_free(&r2);
    c.resume = false;
    lt_report_free(&r);
    /* the cached base is reused: the same model file; Selective Amnesia
     * makes its replay set and Fisher once (timed apart) and caches them */
    c.methods = "sa,sa-short";
    LT_CHECK(lt_bench_dm_forget(&c, &r) == LT_OK &&
                 !strcmp(lt_report_get(&r, "model"), base),
             "second run: %s", lt_last_error());
    const lt_table *t = r.n_tables ? &r.tables[0] : NULL;
    LT_CHECK(t && t->n_rows == 2 && !strcmp(t->rows[0].text[0], "sa") &&
                 !strcmp(t->rows[0].text[1], "sa") && !t->rows[0].failed &&
                 col(t, 0, "seconds") > 0 && isfinite(col(t, 0, "FD")) &&
                 lt_report_get(&r, "sa_prep_seconds")[0] &&
                 strstr(lt_report_get(&r, "sa"), "lambda 10"),
             "sa row");
    /* the short preset: its own row, named as a variant everywhere */
    LT_CHECK(t && t->n_rows == 2 && !strcmp(t->rows[1].text[0], "sa-short") &&
                 !strcmp(t->rows[1].text[1], "sa (short preset)") &&
                 !t->rows[1].failed && isfinite(col(t, 1, "FD")) &&
                 lt_report_get(&r, "sa_short_prep_seconds")[0] &&
                 strstr(lt_report_get(&r, "sa-short"), "NOT the official") &&
                 strstr(lt_report_get(&r, "sa-short"), "eta 0"),
             "sa-short row: %s", lt_report_get(&r, "sa-short"));
    lt_report_free(&r);
    /* a resumed sweep keeps an SA run only under the same SA settings: a
     * new lambda for the short preset reruns sa-short, not sa */
    int kept[2] = {0, 0};
    float lambda = c.sa_short.lambda;
    c.sa_short.lambda = lambda / 2;
    c.resume = true;
    c.progress = count_kept;
    c.ud = kept;
    LT_CHECK(lt_bench_dm_forget(&c, &r) == LT_OK, "%s", lt_last_error());
    LT_CHECK(kept[0] == 1 && kept[1] == 0, "kept: sa %d, sa-short %d",
             kept[0], kept[1]);
    lt_report_free(&r);
    c.sa_short.lambda = lambda;
    c.resume = false;
    c.progress = NULL;
    c.ud = NULL;
    int sa_files = 0;
    DIR *dir = opendir(cache);
    for (struct dirent *e; dir && (e = readdir(dir));)
        sa_files += !strncmp(e->d_name, "dm-sa-", 6);
    if (dir)
        closedir(dir);
    LT_CHECK(sa_files == 2, "%d SA cache files in %s", sa_files, cache);
    /* the spot check: a third table, the forgotten class under SalUn's
     * own (stochastic) sampler beside the main sampler's UA; resumed
     * runs keep it */
    c.methods = "original,rl";
    c.spot_samples = 4;
    for (int pass = 0; pass < 2; pass++) {
        c.resume = pass == 1;
        LT_CHECK(lt_bench_dm_forget(&c, &r) == LT_OK, "spot: %s",
                 lt_last_error());
        const lt_table *m = r.n_tables == 3 ? &r.tables[0] : NULL;
        const lt_table *z = r.n_tables == 3 ? &r.tables[2] : NULL;
        LT_CHECK(m && z && z->n_rows == 2 && m->n_rows == 2 &&
                     strstr(z->title, "SalUn's own sampler") &&
                     strstr(z->title, "generalized-10 of 1000 (eta 1)") &&
                     strstr(lt_report_get(&r, "spot_check"), "4 samples"),
                 "spot table (pass %d): %d tables", pass, r.n_tables);
        for (int i = 0; m && z && i < 2 && z->n_rows == 2; i++) {
            double ua = col(z, i, "UA_spot"), q = col(z, i, "p_forget_spot");
            LT_CHECK(!strcmp(z->rows[i].text[0], m->rows[i].text[0]) &&
                         fabs(ua / 25 - round(ua / 25)) < 1e-9 && ua >= 0 &&
                         ua <= 100 && q >= 0 && q <= 1 &&
                         col(z, i, "UA_main") == col(m, i, "UA"),
                     "spot row %d: UA %g, P %g, main %g vs %g", i, ua, q,
                     col(z, i, "UA_main"), col(m, i, "UA"));
        }
        lt_report_free(&r);
    }
    c.spot_samples = 1;
    LT_CHECK(lt_bench_dm_forget_check(&c) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "spot_samples"), "spot 1");
}

LT_TEST(bad_options_are_refused)
{
    lt_bench_dm_forget_cfg c = lt_bench_dm_forget_defaults();
    lt_report r;
    c.methods = "salun,nope";
    LT_CHECK(lt_bench_dm_forget(&c, &r) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "'nope' unknown"), "%s",
             lt_last_error());
    c.methods = "rl+soft:0.5";
    LT_CHECK(lt_bench_dm_forget_check(&c) == LT_ERR_ARG, "soft mask");
    c.methods = "ga+random:0.3,esd";
    LT_CHECK(lt_bench_dm_forget_check(&c) == LT_OK, "%s", lt_last_error());
    c.methods = "sa,sa+random:0.5,sa-short,sa-short+saliency:0.5";
    LT_CHECK(lt_bench_dm_forget_check(&c) == LT_OK, "%s", lt_last_error());
    c.methods = "sa-long";
    LT_CHECK(lt_bench_dm_forget_check(&c) == LT_ERR_ARG, "sa-long");
    c.methods = "sa+soft:0.5";
    LT_CHECK(lt_bench_dm_forget_check(&c) == LT_ERR_ARG, "sa soft mask");
    c.methods = "retrain";
    LT_CHECK(lt_bench_dm_forget_check(&c) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "cache"), "%s", lt_last_error());
    c.methods = "salun";
    c.classes = "1,x";
    LT_CHECK(lt_bench_dm_forget_check(&c) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "classes '1,x'"), "%s",
             lt_last_error());
    c.classes = "1";
    c.ua_samples = 1;
    LT_CHECK(lt_bench_dm_forget_check(&c) == LT_ERR_ARG, "ua_samples 1");
    c.ua_samples = 8;
    char data[256];
    c.data = lt_test_small_fmnist(data, sizeof data);
    c.classifier = EVAL_B;
    c.classes = "12";
    c.model = LT_GOLDEN_DIR "/../../models/fmnist-cond-s-v1.safetensors";
    c.methods = "original";
    LT_CHECK(lt_bench_dm_forget(&c, &r) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "class 12"), "%s", lt_last_error());
    lt_report_free(&r);
}

LT_TEST_MAIN()
