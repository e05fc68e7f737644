/*
 * test_bench_um2n.c - `lethe bench um2n` (src/bench/um2n.c) in its quick
 * setting: a tiny Helmholtz set and tiny networks made here; the table's
 * rows and values (uniform ER 0, MA's ER from the stored errors, every
 * network row over every mesh), the settings every bench records, a
 * resumed sweep that reruns no row and gives the same bits, a given
 * checkpoint used in place of training, and the errors: a checkpoint of
 * the wrong architecture, no data without --quick, a bad split, --resume
 * without a cache.
 */
#include "bench_resume.h"
#include "lt_test.h"

#include "lethe/bench_um2n.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static lt_bench_um2n_cfg quick_cfg(char *cache, size_t n)
{
    lt_bench_um2n_cfg c = lt_bench_um2n_defaults();
    snprintf(cache, n, "%s/bench_um2n_cache", lt_test_tmpdir());
    c.quick = true;
    c.quick_epochs = 1;
    c.cache = cache;
    c.command = "test";
    return c;
}

static double cell(const lt_table *t, const char *method, const char *key)
{
    lt_table_row *r = lt_table_find(t, 0, method);
    int k = lt_table_col_index(t, key);
    return r && k >= 0 && r->n == 1 ? r->v[0][k] : NAN;
}

LT_TEST(bench_um2n_quick)
{
    char cache[512];
    lt_bench_um2n_cfg c = quick_cfg(cache, sizeof cache);
    lt_report r;
    LT_CHECK(lt_bench_um2n(&c, &r) == LT_OK, "%s", lt_last_error());
    LT_CHECK(r.n_tables == 1, "%d tables", r.n_tables);
    if (r.n_tables != 1)
        goto done;
    const lt_table *t = &r.tables[0];
    LT_CHECK(t->n_rows == 5, "%d rows (uniform, MA, M2N, UM2N, UM2N-coord)",
             t->n_rows);
    const char *names[5] = {"uniform", "MA", "M2N", "UM2N", "UM2N-coord"};
    for (int i = 0; i < 5; i++) {
        LT_CHECK(cell(t, names[i], "meshes") == 4, "%s: %g meshes", names[i],
                 cell(t, names[i], "meshes"));
        double er = cell(t, names[i], "ER_mean");
        LT_CHECK(isfinite(er) && fabs(er) < 100, "%s: ER %g", names[i], er);
    }
    LT_CHECK(cell(t, "uniform", "ER_mean") == 0 &&
             cell(t, "uniform", "ER_std") == 0, "uniform ER is 0");
    LT_CHECK(cell(t, "MA", "ER_std") > 0, "MA's ER varies over the meshes");
    LT_CHECK(cell(t, "MA", "ms_per_mesh") > 0 &&
             cell(t, "M2N", "ms_per_mesh") > 0, "times recorded");
    LT_CHECK(!strcmp(lt_report_get(&r, "precision"), "fp32") &&
             *lt_report_get(&r, "backend") &&
             !strcmp(lt_report_get(&r, "m2n"), "trained here (quick)"),
             "settings");
    /* --resume: every row from CACHE/runs, every number as before (also
     * the times) */
    int resumed = 0;
    lt_report r2;
    c.resume = true;
    c.progress = lt_test_count_resumed;
    c.ud = &resumed;
    LT_CHECK(lt_bench_um2n(&c, &r2) == LT_OK, "%s", lt_last_error());
    LT_CHECK(resumed == 5, "%d rows resumed, not 5", resumed);
    if (r2.n_tables == 1)
        lt_test_same_table(t, &r2.tables[0]);
    lt_report_free(&r2);
done:
    lt_report_free(&r);
}

LT_TEST(bench_um2n_checkpoints)
{
    char cache[512], pm[600], pt[600];
    lt_bench_um2n_cfg c = quick_cfg(cache, sizeof cache);
    snprintf(pm, sizeof pm, "%s/bench_m2n.safetensors", lt_test_tmpdir());
    snprintf(pt, sizeof pt, "%s/bench_m2n_t.safetensors", lt_test_tmpdir());
    lt_um2n a, b;
    LT_CHECK(lt_um2n_init_arch(&a, LT_UM2N_ARCH_M2N, 7) == LT_OK &&
             lt_um2n_init(&b, 7) == LT_OK && lt_um2n_save(&a, pm) == LT_OK &&
             lt_um2n_save(&b, pt) == LT_OK, "%s", lt_last_error());
    lt_um2n_free(&a);
    lt_um2n_free(&b);
    lt_report r;
    c.m2n = pm;
    LT_CHECK(lt_bench_um2n(&c, &r) == LT_OK, "%s", lt_last_error());
    LT_CHECK(!strcmp(lt_report_get(&r, "m2n"), pm), "m2n setting");
    lt_report_free(&r);
    c.m2n = pt; /* a UM2N checkpoint given as M2N */
    LT_CHECK(lt_bench_um2n(&c, &r) != LT_OK &&
             strstr(lt_last_error(), "is a UM2N (M2N_T) checkpoint"),
             "wrong arch: %s", lt_last_error());
    lt_report_free(&r);
    lt_bench_um2n_cfg d = lt_bench_um2n_defaults();
    LT_CHECK(lt_bench_um2n_check(&d) == LT_ERR_ARG &&
             strstr(lt_last_error(), "--data"), "no data: %s",
             lt_last_error());
    d.data = "x";
    d.split = "dev";
    LT_CHECK(lt_bench_um2n_check(&d) == LT_ERR_ARG &&
             strstr(lt_last_error(), "--split"), "bad split");
    d.split = "test";
    d.resume = true;
    LT_CHECK(lt_bench_um2n_check(&d) == LT_ERR_ARG &&
             strstr(lt_last_error(), "--resume needs --cache"), "resume: %s",
             lt_last_error());
    d.resume = false;
    d.um2n = "/nonexistent/um2n.safetensors";
    LT_CHECK(lt_bench_um2n_check(&d) == LT_ERR_IO &&
             strstr(lt_last_error(), "/nonexistent/um2n.safetensors"),
             "missing checkpoint");
}

LT_TEST_MAIN()
