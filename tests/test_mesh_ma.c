/*
 * test_mesh_ma.c - the Monge-Ampere relaxation mover: positions and residual
 * history against the SciPy reference (tests/golden/gen_mesh_ma.py; the
 * square and the square turned so that every side is slanted), a
 * constant monitor leaving the mesh as it is after one iteration,
 * equidistribution of UM2N's Helmholtz monitor improving, boundary vertices
 * sliding only along their sides with the corners fixed (or all fixed),
 * sliding along slanted sides (a turned square), pinned tags, and the
 * errors: a NaN monitor, an inverted mesh, divergence.
 */
#include "lt_test.h"

#include "lethe/mesh.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MESH_DIR LT_GOLDEN_DIR "/../data/mesh/"

/* The analytic monitor of gen_mesh_ma.py, at the moved vertices. */
static lt_status bump_monitor(void *ud, const lt_mesh *x, double *m)
{
    (void)ud;
    for (int i = 0; i < x->nv; i++) {
        double dx = x->xy[2 * i] - 0.35, dy = x->xy[2 * i + 1] - 0.6;
        m[i] = 1 + 5 * exp(-(dx * dx / 0.02 + dy * dy / 0.05));
    }
    return LT_OK;
}

static lt_status const_monitor(void *ud, const lt_mesh *x, double *m)
{
    for (int i = 0; i < x->nv; i++)
        m[i] = *(const double *)ud;
    return LT_OK;
}

static lt_status nan_monitor(void *ud, const lt_mesh *x, double *m)
{
    (void)ud;
    for (int i = 0; i < x->nv; i++)
        m[i] = i == 5 ? NAN : 1;
    return LT_OK;
}

static bool load(const char *name, lt_mesh *m)
{
    char path[512];
    snprintf(path, sizeof path, "%s%s", MESH_DIR, name);
    lt_status s = lt_mesh_read_msh(path, m);
    LT_CHECK(s == LT_OK, "%s", lt_last_error());
    return s == LT_OK;
}

/* Run the mover on mesh m under monitor fn and compare with the SciPy
 * output in golden file name (iterations, every residual, positions). */
static void check_scipy(const char *name, const lt_mesh *m, lt_monitor_fn fn)
{
    char path[512], *text = NULL;
    snprintf(path, sizeof path, "%s/%s", LT_GOLDEN_DIR, name);
    LT_CHECK(lt_read_file(path, &text, NULL) == LT_OK, "%s", lt_last_error());
    if (!text)
        return;
    char *p = strchr(text, '\n') + 1; /* the comment line */
    int iters = (int)strtol(p, &p, 10), nv = (int)strtol(p, &p, 10);
    lt_ma_opts o;
    lt_ma_opts_default(&o);
    lt_ma_result r;
    lt_mesh x;
    LT_CHECK(lt_ma_move(m, fn, NULL, &o, &x, &r) == LT_OK, "%s: %s", name,
             lt_last_error());
    LT_CHECK(r.converged && r.iters == iters, "%s: iterations %d, SciPy %d",
             name, r.iters, iters);
    LT_CHECK(nv == m->nv, "%s: vertices %d, SciPy %d", name, m->nv, nv);
    for (int i = 0; i < iters && i < r.iters; i++) {
        double want = strtod(p, &p);
        LT_CHECK(fabs(r.residual[i] - want) <= 1e-10 * want, "%s: residual "
                 "%d: %.17g, SciPy %.17g", name, i, r.residual[i], want);
    }
    double worst = 0, moved = 0;
    for (int i = 0; i < 2 * nv && i < 2 * m->nv && x.xy; i++) {
        double want = strtod(p, &p);
        worst = fmax(worst, fabs(x.xy[i] - want));
        moved = fmax(moved, fabs(x.xy[i] - m->xy[i]));
    }
    LT_CHECK(worst < 1e-10, "%s: positions differ from SciPy's by up to %g",
             name, worst);
    LT_CHECK(moved > 0.02, "%s: the mesh barely moved (%g): a weak reference",
             name, moved);
    LT_CHECK(r.tangled == 0, "%s: tangled cells %d", name, r.tangled);
    free(text);
    lt_ma_result_free(&r);
    lt_mesh_free(&x);
}

LT_TEST(scipy_reference)
{
    lt_mesh m;
    if (!load("square_lc0.2.msh", &m))
        return;
    check_scipy("mesh_ma.txt", &m, bump_monitor);
    lt_mesh_free(&m);
}

LT_TEST(constant_monitor_keeps_mesh)
{
    lt_mesh m, x;
    if (!load("square_lc0.1.msh", &m))
        return;
    double c = 3.7;
    lt_ma_opts o;
    lt_ma_opts_default(&o);
    lt_ma_result r;
    LT_CHECK(lt_ma_move(&m, const_monitor, &c, &o, &x, &r) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(r.converged && r.iters == 1, "iterations %d", r.iters);
    LT_CHECK(r.iters >= 1 && r.residual[0] < 1e-12, "residual %g",
             r.iters ? r.residual[0] : -1.0);
    LT_CHECK(x.xy && !memcmp(x.xy, m.xy, sizeof(double) * 2 * m.nv),
             "a constant monitor moved the mesh");
    lt_ma_result_free(&r);
    lt_mesh_free(&x);
    lt_mesh_free(&m);
}

/* Equidistribution of UM2N's monitor of the field on mesh x. */
static double helmholtz_cv(const lt_mesh *x, lt_gauss_field *f)
{
    double *mon = malloc(sizeof(double) * x->nv);
    LT_CHECK(lt_um2n_monitor(x, f, mon, NULL, NULL) == LT_OK, "%s",
             lt_last_error());
    double cv = lt_mesh_equidistribution_cv(x, mon);
    free(mon);
    return cv;
}

static void check_boundary(const lt_mesh *m, const lt_mesh *x, bool all)
{
    int moved_side = 0, off_side = 0, corner_moved = 0;
    for (int e = 0; e < m->nb; e++)
        for (int end = 0; end < 2; end++) {
            int v = m->bedge[2 * e + end];
            const double *a = m->xy + 2 * v, *b = x->xy + 2 * v;
            bool corner = (a[0] == 0 || a[0] == 1) && (a[1] == 0 || a[1] == 1);
            bool same = a[0] == b[0] && a[1] == b[1];
            /* sides 1, 3 keep y; sides 2, 4 keep x, exactly */
            int keep = m->btag[e] == 1 || m->btag[e] == 3 ? 1 : 0;
            off_side += a[keep] != b[keep];
            corner_moved += corner && !same;
            moved_side += !same;
        }
    LT_CHECK(off_side == 0, "%d boundary vertices left their side", off_side);
    LT_CHECK(corner_moved == 0, "%d corners moved", corner_moved);
    if (all)
        LT_CHECK(moved_side == 0, "fixed boundary: %d vertices moved", moved_side);
    else
        LT_CHECK(moved_side > 0, "no boundary vertex slid along its side");
}

LT_TEST(helmholtz_equidistributes)
{
    lt_mesh m;
    if (!load("square_lc0.1.msh", &m))
        return;
    lt_gauss_field f = {.n = 1};
    f.mx[0] = 0.3, f.my[0] = 0.4, f.sx[0] = 0.15, f.sy[0] = 0.25, f.z[0] = 1;
    for (int all = 0; all < 2; all++) {
        lt_ma_opts o;
        lt_ma_opts_default(&o);
        o.fix_boundary = all;
        lt_mesh x;
        lt_ma_result r;
        LT_CHECK(lt_ma_move(&m, lt_um2n_monitor_fn, &f, &o, &x, &r) == LT_OK,
                 "%s", lt_last_error());
        if (!x.xy)
            continue;
        LT_CHECK(r.converged && r.tangled == 0, "converged %d, tangled %d",
                 r.converged, r.tangled);
        double cv0 = helmholtz_cv(&m, &f), cv1 = helmholtz_cv(&x, &f);
        LT_CHECK(cv1 < 0.8 * cv0, "variation of m|K|: %.4f -> %.4f", cv0, cv1);
        for (int i = 1; i < r.iters; i++) /* relaxation: mostly downhill */
            LT_CHECK(r.residual[i] < 2 * r.residual[0], "residual %d", i);
        check_boundary(&m, &x, all);
        double e0, e1;
        lt_helmholtz_error(&m, &f, &e0, NULL);
        lt_helmholtz_error(&x, &f, &e1, NULL);
        LT_CHECK(e1 < e0, "L2 error %g on the moved mesh, %g uniform", e1, e0);
        lt_ma_result_free(&r);
        lt_mesh_free(&x);
    }
    lt_mesh_free(&m);
}

/* The square turned by TURN radians about the origin. */
#define TURN 0.5236

static void turn(const double *p, double *q, double a)
{
    q[0] = cos(a) * p[0] - sin(a) * p[1];
    q[1] = sin(a) * p[0] + cos(a) * p[1];
}

/* bump_monitor in the turned frame. */
static lt_status turned_monitor(void *ud, const lt_mesh *x, double *m)
{
    (void)ud;
    for (int i = 0; i < x->nv; i++) {
        double p[2];
        turn(x->xy + 2 * i, p, -TURN);
        double dx = p[0] - 0.35, dy = p[1] - 0.6;
        m[i] = 1 + 5 * exp(-(dx * dx / 0.02 + dy * dy / 0.05));
    }
    return LT_OK;
}

LT_TEST(slanted_sides_slide)
{
    lt_mesh m, x;
    if (!load("square_lc0.1.msh", &m))
        return;
    for (int i = 0; i < m.nv; i++) {
        double p[2] = {m.xy[2 * i], m.xy[2 * i + 1]};
        turn(p, m.xy + 2 * i, TURN);
    }
    lt_ma_opts o;
    lt_ma_opts_default(&o);
    lt_ma_result r;
    LT_CHECK(lt_ma_move(&m, turned_monitor, NULL, &o, &x, &r) == LT_OK, "%s",
             lt_last_error());
    if (!x.xy)
        return;
    LT_CHECK(r.converged && r.tangled == 0, "converged %d, tangled %d",
             r.converged, r.tangled);
    /* every boundary vertex on its side's line, corners where they were */
    double off = 0, slid = 0;
    int corners_moved = 0;
    for (int e = 0; e < m.nb; e++)
        for (int end = 0; end < 2; end++) {
            int v = m.bedge[2 * e + end];
            double p[2], q[2];
            turn(m.xy + 2 * v, p, -TURN);
            turn(x.xy + 2 * v, q, -TURN);
            int keep = m.btag[e] == 1 || m.btag[e] == 3 ? 1 : 0;
            off = fmax(off, fabs(q[keep] - p[keep]));
            slid = fmax(slid, fabs(q[1 - keep] - p[1 - keep]));
            bool corner = fabs(p[0] - round(p[0])) < 1e-9 &&
                          fabs(p[1] - round(p[1])) < 1e-9;
            corners_moved += corner && (x.xy[2 * v] != m.xy[2 * v] ||
                                        x.xy[2 * v + 1] != m.xy[2 * v + 1]);
        }
    LT_CHECK(off < 1e-12, "boundary vertices left their side by %g", off);
    LT_CHECK(slid > 0.01, "boundary vertices slid only %g", slid);
    LT_CHECK(corners_moved == 0, "%d corners moved", corners_moved);
    double *mon = malloc(sizeof(double) * m.nv);
    turned_monitor(NULL, &m, mon);
    double cv0 = lt_mesh_equidistribution_cv(&m, mon);
    turned_monitor(NULL, &x, mon);
    double cv1 = lt_mesh_equidistribution_cv(&x, mon);
    LT_CHECK(cv1 < 0.6 * cv0, "variation of m|K|: %.4f -> %.4f", cv0, cv1);
    free(mon);
    lt_ma_result_free(&r);
    lt_mesh_free(&x);
    lt_mesh_free(&m);
}

LT_TEST(scipy_reference_turned)
{
    lt_mesh m;
    if (!load("square_lc0.2.msh", &m))
        return;
    for (int i = 0; i < m.nv; i++) {
        double p[2] = {m.xy[2 * i], m.xy[2 * i + 1]};
        turn(p, m.xy + 2 * i, TURN);
    }
    check_scipy("mesh_ma_turned.txt", &m, turned_monitor);
    lt_mesh_free(&m);
}

LT_TEST(pinned_tags)
{
    lt_mesh m, x;
    if (!load("square_lc0.1.msh", &m))
        return;
    lt_ma_opts o;
    lt_ma_opts_default(&o);
    const int pin[1] = {1}; /* the bottom side */
    o.pin_tags = pin;
    o.npin_tags = 1;
    LT_CHECK(lt_ma_move(&m, bump_monitor, NULL, &o, &x, NULL) == LT_OK, "%s",
             lt_last_error());
    if (!x.xy)
        return;
    int bottom_moved = 0, others_slid = 0;
    for (int e = 0; e < m.nb; e++)
        for (int end = 0; end < 2; end++) {
            int v = m.bedge[2 * e + end];
            bool same = x.xy[2 * v] == m.xy[2 * v] &&
                        x.xy[2 * v + 1] == m.xy[2 * v + 1];
            if (m.btag[e] == 1)
                bottom_moved += !same;
            else
                others_slid += !same;
        }
    LT_CHECK(bottom_moved == 0, "%d vertices of the pinned side moved",
             bottom_moved);
    LT_CHECK(others_slid > 0, "the other sides did not slide");
    lt_mesh_free(&x);
    lt_mesh_free(&m);
}

LT_TEST(bad_inputs)
{
    lt_mesh m, x;
    if (!load("square_lc0.2.msh", &m))
        return;
    lt_ma_opts o;
    lt_ma_opts_default(&o);
    lt_status s = lt_ma_move(&m, nan_monitor, NULL, &o, &x, NULL);
    LT_CHECK(s == LT_ERR_NAN && strstr(lt_last_error(), "monitor value nan at "
             "vertex 5"), "NaN monitor: %d %s", (int)s, lt_last_error());
    lt_mesh_free(&x);
    /* an inverted input mesh */
    lt_mesh bad;
    lt_mesh_copy(&bad, &m);
    int t = bad.tri[1];
    bad.tri[1] = bad.tri[2];
    bad.tri[2] = t;
    s = lt_ma_move(&bad, bump_monitor, NULL, &o, &x, NULL);
    LT_CHECK(s == LT_ERR_ARG && strstr(lt_last_error(), "inverted"),
             "inverted: %d %s", (int)s, lt_last_error());
    lt_mesh_free(&x);
    lt_mesh_free(&bad);
    /* too long a pseudo-timestep diverges, and says so */
    lt_ma_opts_default(&o);
    o.pseudo_dt = 50;
    lt_ma_result r;
    s = lt_ma_move(&m, bump_monitor, NULL, &o, &x, &r);
    LT_CHECK(s == LT_ERR_STATE && strstr(lt_last_error(), "diverged"),
             "dt 50: %d %s", (int)s, lt_last_error());
    LT_CHECK(r.iters >= 2 && r.residual[r.iters - 1] > 2 * r.residual[0],
             "history of the divergence: %d iterations", r.iters);
    lt_ma_result_free(&r);
    lt_mesh_free(&x);
    lt_mesh_free(&m);
}

LT_TEST_MAIN()
