/*
 * test_bench_um2n.c - `lethe bench um2n` (src/bench/um2n.c) in its quick
 * setting: a tiny Helmholtz set and tiny networks made here; the table's
 * rows and values (uniform ER 0, MA's ER from the stored errors, every
 * network row over every mesh), the settings every bench records, a given
 * checkpoint used in place of training, and the errors: a checkpoint of
 * the wrong architecture, no data without --quick, a bad split; the hole
 * and swirl cases (--case all): their tables, rows and values, and their
 * errors (an unknown case, no hole mesh or swirl mesh, odd steps).
 */
#include "lt_test.h"

#include "lethe/bench_um2n.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define HOLE_MESH LT_GOLDEN_DIR "/../data/mesh/hole_lc0.1.msh"

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

static double cell(const lt_table *t, const char *method, const char *key);

static const char *net_rows[5] = {"uniform", "MA", "M2N", "UM2N",
                                  "UM2N-coord"};

/* The swirl table of a quick run: every row, the values. */
static void check_swirl(const lt_table *t)
{
    LT_CHECK(t->n_rows == 5 && strstr(t->title, "swirl (81 vertices, 4 steps"),
             "%d rows: %s", t->n_rows, t->title);
    double e0 = cell(t, "uniform", "L2_error_T");
    LT_CHECK(e0 > 0.01 && e0 < 1 && cell(t, "uniform", "ER") == 0 &&
             cell(t, "uniform", "moves") == 0, "uniform: error %g", e0);
    for (int i = 1; i < 5; i++) {
        const char *n = net_rows[i];
        double e = cell(t, n, "L2_error_T"), er = cell(t, n, "ER");
        LT_CHECK(cell(t, n, "moves") == 4 && e > 0 &&
                 fabs(er - 100 * (e0 - e) / e0) < 1e-9 &&
                 cell(t, n, "ms_per_move") > 0, "%s: moves %g error %g ER %g",
                 n, cell(t, n, "moves"), e, er);
        LT_CHECK(cell(t, n, "tangled_moves") <= 4 &&
                 (cell(t, n, "tangled_moves") > 0) ==
                     (cell(t, n, "tangled_cells") > 0), "%s: tangles", n);
    }
    LT_CHECK(cell(t, "MA", "failed_moves") == 0 && cell(t, "MA", "ER") > 0,
             "MA: %g failed, ER %g", cell(t, "MA", "failed_moves"),
             cell(t, "MA", "ER"));
}

LT_TEST(bench_um2n_all_cases)
{
    char cache[512];
    lt_bench_um2n_cfg c = quick_cfg(cache, sizeof cache);
    LT_CHECK(lt_bench_um2n_cases("all", &c.cases) == LT_OK, "%s",
             lt_last_error());
    c.hole_mesh = HOLE_MESH;
    lt_report r;
    LT_CHECK(lt_bench_um2n(&c, &r) == LT_OK, "%s", lt_last_error());
    LT_CHECK(r.n_tables == 3, "%d tables", r.n_tables);
    if (r.n_tables != 3)
        goto done;
    const lt_table *h = &r.tables[1];
    LT_CHECK(strstr(h->title, "hole") && h->n_rows == 5, "hole table: %s",
             h->title);
    for (int i = 0; i < 5; i++)
        LT_CHECK(cell(h, net_rows[i], "meshes") == 4 &&
                 isfinite(cell(h, net_rows[i], "ER_mean")), "hole %s",
                 net_rows[i]);
    LT_CHECK(cell(h, "MA", "ER_std") > 0 && cell(h, "uniform", "ER_mean") == 0,
             "hole: MA's ER varies, uniform's is 0");
    check_swirl(&r.tables[2]);
    LT_CHECK(!strcmp(lt_report_get(&r, "cases"), "helmholtz hole swirl") &&
             !strcmp(lt_report_get(&r, "swirl_steps"), "4") &&
             strstr(lt_report_get(&r, "hole_data"), "um2n-quick-hole-n152"),
             "settings: %s / %s / %s", lt_report_get(&r, "cases"),
             lt_report_get(&r, "swirl_steps"), lt_report_get(&r, "hole_data"));
done:
    lt_report_free(&r);
}

LT_TEST(bench_um2n_case_errors)
{
    int k = 0;
    LT_CHECK(lt_bench_um2n_cases("swirl,hole", &k) == LT_OK &&
             k == (LT_BENCH_UM2N_SWIRL | LT_BENCH_UM2N_HOLE), "list: %d", k);
    LT_CHECK(lt_bench_um2n_cases("swirly", &k) == LT_ERR_ARG &&
             strstr(lt_last_error(), "--case"), "unknown case");
    LT_CHECK(lt_bench_um2n_cases("", &k) == LT_ERR_ARG, "empty case");
    lt_bench_um2n_cfg d = lt_bench_um2n_defaults();
    d.cases = LT_BENCH_UM2N_HOLE;
    d.data = "x";
    LT_CHECK(lt_bench_um2n_check(&d) == LT_ERR_ARG &&
             strstr(lt_last_error(), "--hole-data"), "hole without data");
    d.quick = true;
    d.cache = "c";
    LT_CHECK(lt_bench_um2n_check(&d) == LT_ERR_ARG &&
             strstr(lt_last_error(), "--hole-mesh"), "quick hole, no mesh");
    d.quick = false;
    d.cases = LT_BENCH_UM2N_SWIRL;
    LT_CHECK(lt_bench_um2n_check(&d) == LT_ERR_ARG &&
             strstr(lt_last_error(), "--swirl-mesh"), "swirl without mesh");
    d.swirl_mesh = "/nonexistent/swirl.msh";
    LT_CHECK(lt_bench_um2n_check(&d) == LT_ERR_IO &&
             strstr(lt_last_error(), "/nonexistent/swirl.msh"), "missing mesh");
    d.swirl_mesh = HOLE_MESH;
    d.swirl_steps = 3;
    LT_CHECK(lt_bench_um2n_check(&d) == LT_ERR_ARG &&
             strstr(lt_last_error(), "even"), "odd steps");
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
    d.um2n = "/nonexistent/um2n.safetensors";
    LT_CHECK(lt_bench_um2n_check(&d) == LT_ERR_IO &&
             strstr(lt_last_error(), "/nonexistent/um2n.safetensors"),
             "missing checkpoint");
}

LT_TEST_MAIN()
