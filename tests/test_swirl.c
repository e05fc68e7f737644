/*
 * test_swirl.c - the swirl case and its parts: DG1 advection keeps a
 * constant exactly under the swirl (no flow through the boundary) and away
 * from the inflow under a uniform flow, and converges at second order on a
 * smooth field carried out and back; the conservative remap conserves int
 * u to 1e-12 (moved mesh and a different topology), reproduces a linear
 * field and is the identity between equal meshes; the swirl's flow
 * returns a particle to its start at the RK4 rate, and a short DG run
 * returns the ring; the monitor of a linear field and of the ring, the
 * cell size; a short MA run (warm start fewer iterations than the cold
 * first step, boundary on its sides); a mesh mover in MA's place (what it
 * sees, the identity and a tangling mover reproduce the uniform run, a
 * smooth mover's meshes are used); bad settings.
 */
#include "lt_test.h"

#include "lethe/swirl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MESH_DIR LT_GOLDEN_DIR "/../data/mesh/"
#define PI 3.14159265358979323846

static double one_fn(void *ud, double x, double y, double *g)
{
    (void)ud, (void)x, (void)y;
    if (g)
        g[0] = g[1] = 0;
    return 1;
}

static double lin_fn(void *ud, double x, double y, double *g)
{
    (void)ud;
    if (g)
        g[0] = 2, g[1] = -3;
    return 1 + 2 * x - 3 * y;
}

/* A wide bump, smooth at every mesh size used here. */
static double bump_fn(void *ud, double x, double y, double *g)
{
    (void)ud, (void)g;
    double dx = x - 0.4, dy = y - 0.45;
    return exp(-(dx * dx + dy * dy) / 0.02);
}

static bool load(const char *name, lt_mesh *m)
{
    lt_status s = lt_mesh_read_msh(name, m);
    LT_CHECK(s == LT_OK, "%s: %s", name, lt_last_error());
    return s == LT_OK;
}

static double max_abs_diff(const double *u, double v, int n)
{
    double e = 0;
    for (int i = 0; i < n; i++)
        e = fmax(e, fabs(u[i] - v));
    return e;
}

LT_TEST(dg_constant_stays_constant)
{
    lt_mesh m;
    if (!load(MESH_DIR "square_lc0.1.msh", &m))
        return;
    lt_swirl_cfg c;
    lt_swirl_cfg_default(&c);
    int n = 3 * m.nt;
    double *u = malloc(sizeof(double) * n), *vel = malloc(sizeof(double) * 2 * m.nv);
    lt_dg1_adv *a;
    LT_CHECK(lt_dg1_adv_new(&m, &a) == LT_OK, "%s", lt_last_error());
    /* The swirl: c.n = 0 on the square's sides, so u = 1 is exact. */
    lt_dg1_interpolate(&m, one_fn, NULL, u);
    lt_swirl_velocity(&c, 0, &m, vel);
    for (int s = 0; s < 10; s++)
        LT_CHECK(lt_dg1_ssprk3(a, &m, vel, 0.01, u) == LT_OK, "step");
    LT_CHECK(max_abs_diff(u, 1, n) < 1e-12, "swirl: |u - 1| = %.3g",
             max_abs_diff(u, 1, n));
    /* A uniform flow (1, 0.5) brings zeros in from the left and bottom: 2
     * steps reach at most 6 cell layers; cells beyond x, y >= 0.7 stay 1. */
    lt_dg1_interpolate(&m, one_fn, NULL, u);
    for (int i = 0; i < m.nv; i++)
        vel[2 * i] = 1, vel[2 * i + 1] = 0.5;
    for (int s = 0; s < 2; s++)
        LT_CHECK(lt_dg1_ssprk3(a, &m, vel, 0.01, u) == LT_OK, "step");
    double far = 0, near = 0;
    for (int k = 0; k < m.nt; k++) {
        bool beyond = true, edge = false;
        for (int j = 0; j < 3; j++) {
            const double *p = m.xy + 2 * m.tri[3 * k + j];
            beyond &= p[0] >= 0.7 && p[1] >= 0.7;
            edge |= p[0] == 0;
        }
        for (int j = 0; j < 3; j++) {
            if (beyond)
                far = fmax(far, fabs(u[3 * k + j] - 1));
            if (edge)
                near = fmax(near, fabs(u[3 * k + j] - 1));
        }
    }
    LT_CHECK(far < 1e-12, "uniform flow, far from the inflow: %.3g", far);
    LT_CHECK(near > 1e-3, "uniform flow: the inflow changed nothing (%.3g)", near);
    lt_dg1_adv_free(a);
    free(u);
    free(vel);
    lt_mesh_free(&m);
}

/* Carry bump_fn out for steps/2 steps and back on an n x n grid with
 * dt = h / 4; the L2 error against the start. */
static double dg_round_trip(int n, double T)
{
    lt_mesh m;
    LT_CHECK(lt_mesh_square_grid(&m, n) == LT_OK, "%s", lt_last_error());
    lt_swirl_cfg c;
    lt_swirl_cfg_default(&c);
    c.dt = 0.25 / n;
    c.steps = 2 * (int)lround(T / 2 / c.dt);
    double *u = malloc(sizeof(double) * 3 * m.nt), *vel = malloc(sizeof(double) * 2 * m.nv);
    lt_dg1_adv *a;
    LT_CHECK(lt_dg1_adv_new(&m, &a) == LT_OK, "%s", lt_last_error());
    lt_dg1_interpolate(&m, bump_fn, NULL, u);
    for (int s = 0; s < c.steps; s++) {
        lt_swirl_velocity(&c, s, &m, vel);
        LT_CHECK(lt_dg1_ssprk3(a, &m, vel, c.dt, u) == LT_OK, "step");
    }
    double e = lt_dg1_l2_error(&m, u, bump_fn, NULL);
    lt_dg1_adv_free(a);
    free(u);
    free(vel);
    lt_mesh_free(&m);
    return e;
}

LT_TEST(dg_converges_second_order)
{
    double e[3];
    int n[3] = {8, 16, 32};
    for (int i = 0; i < 3; i++)
        e[i] = dg_round_trip(n[i], 0.25);
    double r1 = log2(e[0] / e[1]), r2 = log2(e[1] / e[2]);
    printf("  DG1 round trip L2 errors %.3e %.3e %.3e, rates %.2f %.2f\n", e[0],
           e[1], e[2], r1, r2);
    LT_CHECK(r1 > 1.7 && r2 > 1.8, "rates %.2f %.2f, expected about 2", r1, r2);
}

/* Interior vertices moved by a smooth displacement that vanishes on the
 * boundary. */
static void perturb(lt_mesh *m, double amp)
{
    for (int i = 0; i < m->nv; i++) {
        double x = m->xy[2 * i], y = m->xy[2 * i + 1];
        double b = sin(3.14159265358979 * x) * sin(3.14159265358979 * y);
        m->xy[2 * i] += amp * b * sin(3 * y);
        m->xy[2 * i + 1] += amp * b * cos(2 * x);
    }
}

LT_TEST(remap_conserves_and_is_exact_for_linear)
{
    lt_mesh a, b, g;
    if (!load(MESH_DIR "square_lc0.1.msh", &a))
        return;
    LT_CHECK(lt_mesh_copy(&b, &a) == LT_OK, "copy");
    perturb(&b, 0.04);
    LT_CHECK(lt_mesh_count_tangled(&b) == 0, "the perturbed mesh tangled");
    LT_CHECK(lt_mesh_square_grid(&g, 9) == LT_OK, "grid");
    lt_swirl_cfg c;
    lt_swirl_cfg_default(&c);
    c.sigma = 0.05; /* a ring the coarse meshes see */
    int nmax = 3 * (a.nt > g.nt ? a.nt : g.nt);
    double *ua = malloc(sizeof(double) * nmax), *ub = malloc(sizeof(double) * nmax),
           *uc = malloc(sizeof(double) * nmax);
    lt_dg1_interpolate(&a, lt_swirl_u0, &c, ua);
    double ia = lt_dg1_integral(&a, ua);
    LT_CHECK(lt_dg1_remap(&a, ua, &b, ub) == LT_OK, "%s", lt_last_error());
    double ib = lt_dg1_integral(&b, ub);
    LT_CHECK(fabs(ib - ia) < 1e-12 * fabs(ia), "moved mesh: int %.17g vs %.17g", ib, ia);
    LT_CHECK(lt_dg1_remap(&b, ub, &g, uc) == LT_OK, "%s", lt_last_error());
    double ig = lt_dg1_integral(&g, uc);
    LT_CHECK(fabs(ig - ia) < 1e-12 * fabs(ia), "other topology: int %.17g vs %.17g", ig, ia);
    /* A projection changes a field it cannot represent. */
    double moved = 0;
    for (int i = 0; i < 3 * b.nt; i++)
        moved = fmax(moved, fabs(ub[i] - ua[i]));
    LT_CHECK(moved > 1e-3, "the remap onto a moved mesh changed nothing");
    /* Linear fields are in every DG1 space: reproduced. */
    lt_dg1_interpolate(&a, lin_fn, NULL, ua);
    LT_CHECK(lt_dg1_remap(&a, ua, &g, uc) == LT_OK, "%s", lt_last_error());
    lt_dg1_interpolate(&g, lin_fn, NULL, ub);
    double e = 0;
    for (int i = 0; i < 3 * g.nt; i++)
        e = fmax(e, fabs(uc[i] - ub[i]));
    LT_CHECK(e < 1e-12, "linear field: max error %.3g", e);
    /* Between equal meshes the remap is the identity. */
    lt_dg1_interpolate(&a, lt_swirl_u0, &c, ua);
    LT_CHECK(lt_dg1_remap(&a, ua, &a, ub) == LT_OK, "%s", lt_last_error());
    e = 0;
    for (int i = 0; i < 3 * a.nt; i++)
        e = fmax(e, fabs(ub[i] - ua[i]));
    LT_CHECK(e < 1e-12, "identity: max change %.3g", e);
    /* A tangled target is refused. */
    int *t = b.tri;
    int keep = t[1];
    t[1] = t[2], t[2] = keep;
    LT_CHECK(lt_dg1_remap(&a, ua, &b, ub) == LT_ERR_ARG, "tangled target accepted");
    free(ua), free(ub), free(uc);
    lt_mesh_free(&a), lt_mesh_free(&b), lt_mesh_free(&g);
}

/* RK4 on dx/dt = v(x) over the first n steps of c's schedule. */
static void particle(const lt_swirl_cfg *c, int n, double p[2])
{
    lt_mesh pt = {0};
    double xy[2], k[4][2];
    pt.nv = 1;
    pt.xy = xy;
    for (int s = 0; s < n; s++) {
        for (int st = 0; st < 4; st++) {
            double f = st == 3 ? 1 : 0.5;
            xy[0] = p[0] + (st ? f * c->dt * k[st - 1][0] : 0);
            xy[1] = p[1] + (st ? f * c->dt * k[st - 1][1] : 0);
            lt_swirl_velocity(c, s, &pt, k[st]);
        }
        for (int d = 0; d < 2; d++)
            p[d] += c->dt / 6 * (k[0][d] + 2 * k[1][d] + 2 * k[2][d] + k[3][d]);
    }
}

LT_TEST(swirl_flow_reverses)
{
    lt_swirl_cfg c;
    lt_swirl_cfg_default(&c);
    /* A point of the ring goes out to t = 1/2 and comes back at T = 1; the
     * flow returns it exactly, so what is left is RK4's error, which falls
     * about 16 times when dt halves. */
    double err[2], half[2] = {0.5, 0.1};
    for (int r = 0; r < 2; r++) {
        c.dt = r ? 0.025 : 0.05;
        c.steps = (int)lround(1.0 / c.dt);
        double p[2] = {0.5, 0.1};
        particle(&c, c.steps, p);
        err[r] = hypot(p[0] - 0.5, p[1] - 0.1);
    }
    particle(&c, c.steps / 2, half);
    double out = hypot(half[0] - 0.5, half[1] - 0.1);
    printf("  particle: %.3f away at T/2; back within %.3e (dt 0.05), "
           "%.3e (dt 0.025)\n", out, err[0], err[1]);
    LT_CHECK(out > 0.1, "the flow did not carry the particle (%.3g)", out);
    LT_CHECK(err[0] < 1e-3 && err[1] < err[0] / 8, "return errors %.3g %.3g",
             err[0], err[1]);
}

LT_TEST(dg_ring_returns)
{
    /* 100 steps of 1e-3 on the lc 0.05 square: at the turn the ring has
     * moved, at T it is back; the run's error at T is that of the start
     * (the interpolant's) plus a little diffusion. */
    lt_mesh m;
    if (!load(MESH_DIR "square_lc0.05.msh", &m))
        return;
    lt_swirl_cfg c;
    lt_swirl_cfg_default(&c);
    c.sigma = 0.05; /* a ring this mesh resolves */
    c.steps = 100;
    int n = 3 * m.nt;
    double *u = malloc(sizeof(double) * n), *vel = malloc(sizeof(double) * 2 * m.nv);
    lt_dg1_adv *a;
    LT_CHECK(lt_dg1_adv_new(&m, &a) == LT_OK, "%s", lt_last_error());
    lt_dg1_interpolate(&m, lt_swirl_u0, &c, u);
    double e0 = lt_dg1_l2_error(&m, u, lt_swirl_u0, &c), eh = 0;
    for (int s = 0; s < c.steps; s++) {
        lt_swirl_velocity(&c, s, &m, vel);
        LT_CHECK(lt_dg1_ssprk3(a, &m, vel, c.dt, u) == LT_OK, "step");
        if (s == c.steps / 2 - 1)
            eh = lt_dg1_l2_error(&m, u, lt_swirl_u0, &c);
    }
    double eT = lt_dg1_l2_error(&m, u, lt_swirl_u0, &c);
    printf("  ring: L2 error %.3e at the start, %.3e at the turn, %.3e at T\n",
           e0, eh, eT);
    LT_CHECK(eh > 3 * eT, "at the turn %.3g, at T %.3g", eh, eT);
    LT_CHECK(eT < 1.5 * e0, "at T %.3g, at the start %.3g", eT, e0);
    lt_dg1_adv_free(a);
    free(u);
    free(vel);
    lt_mesh_free(&m);
}

LT_TEST(monitor_constant_linear_and_cell_size)
{
    lt_mesh m;
    if (!load(MESH_DIR "square_lc0.1.msh", &m))
        return;
    lt_swirl_cfg c;
    lt_swirl_cfg_default(&c);
    double h, *u = malloc(sizeof(double) * 3 * m.nt), *mon = malloc(sizeof(double) * m.nv);
    LT_CHECK(lt_mesh_cell_size_mean(&m, &h) == LT_OK, "%s", lt_last_error());
    LT_CHECK(h > 0.08 && h < 0.16, "lc 0.1: mean cell size %g", h);
    /* A linear field: the recovered gradient is exact, the Hessian zero,
     * the normalised |grad u|^2 is 1 everywhere, so w = grad_w and the
     * smoother keeps that constant: m = 1 + 10. */
    lt_dg1_interpolate(&m, lin_fn, NULL, u);
    LT_CHECK(lt_swirl_monitor(&c, &m, u, h, mon) == LT_OK, "%s", lt_last_error());
    LT_CHECK(max_abs_diff(mon, 1 + c.grad_w, m.nv) < 1e-9, "linear: %.3g",
             max_abs_diff(mon, 1 + c.grad_w, m.nv));
    /* The ring: the largest value is near the ring, at most 1 + 10. */
    lt_dg1_interpolate(&m, lt_swirl_u0, &c, u);
    LT_CHECK(lt_swirl_monitor(&c, &m, u, h, mon) == LT_OK, "%s", lt_last_error());
    int top = 0;
    for (int i = 0; i < m.nv; i++)
        top = mon[i] > mon[top] ? i : top;
    double r = hypot(m.xy[2 * top] - c.x0, m.xy[2 * top + 1] - c.y0);
    LT_CHECK(fabs(r - c.r0) < 0.1 && mon[top] <= 11 + 1e-9 && mon[top] > 2,
             "ring: top %g at distance %g from the centre", mon[top], r);
    lt_mesh_free(&m);
    /* Right triangles of legs 1/8: 2 x the circumradius = sqrt(2)/8. */
    LT_CHECK(lt_mesh_square_grid(&m, 8) == LT_OK, "grid");
    LT_CHECK(lt_mesh_cell_size_mean(&m, &h) == LT_OK, "%s", lt_last_error());
    LT_CHECK(fabs(h - sqrt(2) / 8) < 1e-12, "grid 8: cell size %.17g", h);
    free(u);
    free(mon);
    lt_mesh_free(&m);
}

typedef struct {
    const lt_mesh *xi;
    double worst; /* the largest distance of a boundary vertex off its side */
} side_check;

static lt_status check_sides(void *ud, int step, const lt_mesh *m,
                             const double *u)
{
    (void)step, (void)u;
    side_check *sc = ud;
    for (int e = 0; e < m->nb; e++)
        for (int end = 0; end < 2; end++) {
            int v = m->bedge[2 * e + end], tag = m->btag[e];
            double x = m->xy[2 * v], y = m->xy[2 * v + 1];
            double off = tag == 1 ? fabs(y) : tag == 2 ? fabs(x - 1)
                       : tag == 3 ? fabs(y - 1) : fabs(x);
            sc->worst = fmax(sc->worst, off);
        }
    return LT_OK;
}

LT_TEST(swirl_run_ma_warm_start)
{
    lt_mesh m;
    if (!load(MESH_DIR "square_lc0.1.msh", &m))
        return;
    lt_swirl_cfg c;
    lt_swirl_cfg_default(&c);
    c.sigma = 0.05;
    c.steps = 4;
    lt_swirl_result r1 = {0}, r4 = {0}, ru = {0};
    side_check sc = {&m, 0};
    c.steps = 2;
    LT_CHECK(lt_swirl_run(&c, &m, NULL, NULL, &r1) == LT_OK, "%s", lt_last_error());
    c.steps = 4;
    LT_CHECK(lt_swirl_run(&c, &m, check_sides, &sc, &r4) == LT_OK, "%s",
             lt_last_error());
    c.move = false;
    LT_CHECK(lt_swirl_run(&c, &m, NULL, NULL, &ru) == LT_OK, "%s", lt_last_error());
    printf("  MA: 2 steps %d iterations (at most %d), 4 steps %d; errors MA "
           "%.4e uniform %.4e\n", r1.ma_iters, r1.ma_iters_max, r4.ma_iters,
           r4.l2_error, ru.l2_error);
    /* The cold first step takes the most; a warm-started step starts near
     * rtol (the relaxation then creeps under it, so its count varies). */
    LT_CHECK(r1.ma_iters - r1.ma_iters_max < r1.ma_iters_max / 4,
             "2 steps: %d iterations, the first %d", r1.ma_iters,
             r1.ma_iters_max);
    LT_CHECK(r4.ma_failures == 0 && r4.tangled_max == 0, "failures %d tangles %d",
             r4.ma_failures, r4.tangled_max);
    LT_CHECK(sc.worst == 0, "a boundary vertex left its side by %.3g", sc.worst);
    double moved = 0;
    for (int i = 0; i < 2 * m.nv; i++)
        moved = fmax(moved, fabs(r4.mesh.xy[i] - m.xy[i]));
    LT_CHECK(moved > 1e-3, "MA moved no vertex (%.3g)", moved);
    LT_CHECK(ru.ma_iters == 0 && ru.mesh.nv == m.nv, "uniform ran MA");
    LT_CHECK(memcmp(ru.mesh.xy, m.xy, sizeof(double) * 2 * m.nv) == 0,
             "uniform moved the mesh");
    LT_CHECK(r4.l2_error > 0 && ru.l2_error > 0, "errors");
    lt_swirl_result_free(&r1);
    lt_swirl_result_free(&r4);
    lt_swirl_result_free(&ru);
    lt_mesh_free(&m);
}

static lt_status ring_monitor(void *ud, const lt_mesh *x, double *m)
{
    for (int i = 0; i < x->nv; i++)
        m[i] = 1 + 4 * lt_swirl_u0(ud, x->xy[2 * i], x->xy[2 * i + 1], NULL);
    return LT_OK;
}

LT_TEST(ma_warm_start)
{
    lt_mesh m, a = {0}, b = {0};
    if (!load(MESH_DIR "square_lc0.1.msh", &m))
        return;
    lt_swirl_cfg c;
    lt_swirl_cfg_default(&c);
    c.sigma = 0.08;
    lt_ma_opts o;
    lt_ma_opts_default(&o);
    lt_ma_warm w = {0};
    o.warm = &w;
    lt_ma_result r1 = {0}, r2 = {0};
    LT_CHECK(lt_ma_move(&m, ring_monitor, &c, &o, &a, &r1) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(w.n == m.nv, "the warm state was not filled");
    /* The same monitor again from the kept phi: the first iteration
     * rebuilds the same mesh, already converged. */
    LT_CHECK(lt_ma_move(&m, ring_monitor, &c, &o, &b, &r2) == LT_OK, "%s",
             lt_last_error());
    printf("  MA cold %d iterations (residual %.3e -> %.3e), warm %d (%.3e)\n",
           r1.iters, r1.residual[0], r1.residual[r1.iters - 1], r2.iters,
           r2.residual[0]);
    LT_CHECK(r1.iters > 10 && r2.iters == 1, "cold %d, warm %d iterations",
             r1.iters, r2.iters);
    LT_CHECK(r2.residual[0] == r1.residual[r1.iters - 1], "warm residual %.17g "
             "vs %.17g", r2.residual[0], r1.residual[r1.iters - 1]);
    LT_CHECK(memcmp(a.xy, b.xy, sizeof(double) * 2 * m.nv) == 0,
             "the warm start moved the mesh elsewhere");
    /* A warm state of another mesh is refused. */
    lt_mesh g;
    LT_CHECK(lt_mesh_square_grid(&g, 4) == LT_OK, "grid");
    lt_mesh_free(&b);
    LT_CHECK(lt_ma_move(&g, ring_monitor, &c, &o, &b, NULL) == LT_ERR_ARG,
             "a warm state of %d vertices used on %d", w.n, g.nv);
    lt_ma_result_free(&r1);
    lt_ma_result_free(&r2);
    lt_ma_warm_free(&w);
    lt_mesh_free(&a), lt_mesh_free(&b), lt_mesh_free(&g), lt_mesh_free(&m);
}

LT_TEST(swirl_bad_settings)
{
    lt_mesh m;
    if (!load(MESH_DIR "square_lc0.2.msh", &m))
        return;
    lt_swirl_cfg c;
    lt_swirl_result r;
    lt_swirl_cfg_default(&c);
    c.steps = 3;
    LT_CHECK(lt_swirl_run(&c, &m, NULL, NULL, &r) == LT_ERR_ARG, "odd steps");
    LT_CHECK(strstr(lt_last_error(), "even") != NULL, "%s", lt_last_error());
    c.steps = 2;
    c.dt = 0;
    LT_CHECK(lt_swirl_run(&c, &m, NULL, NULL, &r) == LT_ERR_ARG, "dt 0");
    lt_swirl_cfg_default(&c);
    lt_ma_warm w = {0};
    w.n = 3;
    c.ma.warm = &w; /* ignored: the run keeps its own warm state */
    c.steps = 2;
    LT_CHECK(lt_swirl_run(&c, &m, NULL, NULL, &r) == LT_OK, "%s", lt_last_error());
    lt_swirl_result_free(&r);
    lt_mesh_free(&m);
}

/* ---- a mover in place of MA ------------------------------------------- */

typedef struct {
    int calls, tangle_every;  /* tangle: swap two vertices of cell 0 */
    double amp;               /* a smooth interior displacement */
    double mon_diff;          /* first call: |mon - expected| */
    const lt_swirl_cfg *c;
} test_mover;

static lt_status mover_fn(void *ud, const lt_mesh *xi, const double *mon,
                          double *xy, double *seconds)
{
    test_mover *t = ud;
    if (t->calls++ == 0) { /* the monitor of u0 advanced one step on xi */
        int nd = 3 * xi->nt;
        double *u = malloc(sizeof(double) * nd), *vel =
            malloc(sizeof(double) * 2 * xi->nv), *m2 =
            malloc(sizeof(double) * xi->nv), h = 0;
        lt_dg1_adv *a = NULL;
        lt_dg1_interpolate(xi, lt_swirl_u0, (void *)t->c, u);
        lt_swirl_velocity(t->c, 0, xi, vel);
        lt_status s = lt_dg1_adv_new(xi, &a);
        if (s == LT_OK)
            s = lt_dg1_ssprk3(a, xi, vel, t->c->dt, u);
        if (s == LT_OK)
            s = lt_mesh_cell_size_mean(xi, &h);
        if (s == LT_OK)
            s = lt_swirl_monitor(t->c, xi, u, h, m2);
        t->mon_diff = s == LT_OK ? 0 : INFINITY;
        for (int i = 0; s == LT_OK && i < xi->nv; i++)
            t->mon_diff = fmax(t->mon_diff, fabs(m2[i] - mon[i]));
        lt_dg1_adv_free(a);
        free(u), free(vel), free(m2);
    }
    memcpy(xy, xi->xy, sizeof(double) * 2 * xi->nv);
    for (int i = 0; i < xi->nv; i++) { /* zero on the unit square's sides */
        double x = xi->xy[2 * i], y = xi->xy[2 * i + 1];
        xy[2 * i] += t->amp * sin(PI * x) * sin(PI * y);
    }
    if (t->tangle_every && t->calls % t->tangle_every == 0) {
        const int *v = xi->tri;
        for (int d = 0; d < 2; d++) {
            double k = xy[2 * v[0] + d];
            xy[2 * v[0] + d] = xy[2 * v[1] + d];
            xy[2 * v[1] + d] = k;
        }
    }
    *seconds = 0.25;
    return LT_OK;
}

LT_TEST(swirl_run_mover)
{
    lt_mesh m;
    if (!load(MESH_DIR "square_lc0.1.msh", &m))
        return;
    lt_swirl_cfg c;
    lt_swirl_cfg_default(&c);
    c.sigma = 0.05;
    c.steps = 4;
    lt_swirl_result ru = {0}, ri = {0}, rt = {0}, rs = {0};
    c.move = false;
    LT_CHECK(lt_swirl_run(&c, &m, NULL, NULL, &ru) == LT_OK, "%s", lt_last_error());
    c.move = true; /* ignored by the mover's run */
    test_mover id = {.c = &c};
    LT_CHECK(lt_swirl_run_mover(&c, &m, mover_fn, &id, NULL, NULL, &ri) == LT_OK,
             "%s", lt_last_error());
    LT_CHECK(id.calls == 4 && ri.moves == 4 && ri.move_seconds == 1.0 &&
             ri.ma_iters == 0, "calls %d moves %d seconds %g", id.calls,
             ri.moves, ri.move_seconds);
    /* (the run remaps onto the mover's mesh even when it is the same one:
     * the identity to rounding) */
    LT_CHECK(id.mon_diff < 1e-12, "the mover's monitor differs by %.3g from "
             "u0's advanced one step on the mesh", id.mon_diff);
    /* the identity mover: the uniform run */
    double du = 0;
    for (int i = 0; i < 3 * m.nt; i++)
        du = fmax(du, fabs(ri.u[i] - ru.u[i]));
    LT_CHECK(fabs(ri.l2_error - ru.l2_error) < 1e-12 * ru.l2_error &&
             du < 1e-12, "identity mover %.17g vs uniform %.17g (field %.3g)",
             ri.l2_error, ru.l2_error, du);
    /* a mover whose every mesh tangles: not used, the uniform run again */
    test_mover tg = {.c = &c, .tangle_every = 1};
    LT_CHECK(lt_swirl_run_mover(&c, &m, mover_fn, &tg, NULL, NULL, &rt) == LT_OK,
             "%s", lt_last_error());
    LT_CHECK(rt.tangled_steps == 4 && rt.tangled_cells >= 4 &&
             rt.tangled_max >= 1 && rt.l2_error == ru.l2_error &&
             memcmp(rt.mesh.xy, m.xy, sizeof(double) * 2 * m.nv) == 0,
             "tangled moves %d cells %lld, error %.17g", rt.tangled_steps,
             (long long)rt.tangled_cells, rt.l2_error);
    /* a smooth mover: its mesh is used, mass kept by the remaps */
    test_mover sm = {.c = &c, .amp = 0.02};
    LT_CHECK(lt_swirl_run_mover(&c, &m, mover_fn, &sm, NULL, NULL, &rs) == LT_OK,
             "%s", lt_last_error());
    double worst = 0;
    for (int i = 0; i < m.nv; i++) {
        double x = m.xy[2 * i], y = m.xy[2 * i + 1];
        worst = fmax(worst, fabs(rs.mesh.xy[2 * i] - x -
                                 0.02 * sin(PI * x) * sin(PI * y)));
    }
    LT_CHECK(worst < 1e-15 && rs.tangled_steps == 0, "the moved mesh was not "
             "used (%.3g)", worst);
    LT_CHECK(fabs(rs.l2_error - ru.l2_error) > 1e-6 && isfinite(rs.l2_error),
             "errors %.6g %.6g", rs.l2_error, ru.l2_error);
    lt_swirl_result r;
    LT_CHECK(lt_swirl_run_mover(&c, &m, NULL, NULL, NULL, NULL, &r) ==
             LT_ERR_ARG, "no mover");
    lt_swirl_result_free(&ru), lt_swirl_result_free(&ri);
    lt_swirl_result_free(&rt), lt_swirl_result_free(&rs);
    lt_mesh_free(&m);
}

LT_TEST_MAIN()
