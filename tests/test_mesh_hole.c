/*
 * test_mesh_hole.c - UM2N's non-convex case, the unit square with a hole
 * (tests/data/mesh/hole_lc0.1.msh, made by `lethe mesh gen --geometry
 * hole --lc 0.1`): the mesh loads with the square's tags 1-4 and the
 * hole's tag 5 on the circle, its boundary encloses its area; the
 * Monge-Ampere mover with the hole's tag pinned keeps the hole's vertices
 * bit-identical and the square's on their sides (corners fixed), under an
 * analytic monitor (which tangles cells beside the hole) and under UM2N's
 * Helmholtz monitor (which does not); without the pin the hole's vertices slide off the circle.
 */
#include "lt_test.h"

#include "lethe/mesh.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define HOLE_MESH LT_GOLDEN_DIR "/../data/mesh/hole_lc0.1.msh"

/* Distance of vertex v from the curve of tag: a side or the circle. */
static double off_curve(const lt_mesh *m, int v, int tag)
{
    double x = m->xy[2 * v], y = m->xy[2 * v + 1];
    switch (tag) {
    case 1: return fabs(y);
    case 2: return fabs(x - 1);
    case 3: return fabs(y - 1);
    case 4: return fabs(x);
    default: return fabs(hypot(x - 0.5, y - 0.5) - LT_MESH_HOLE_RADIUS);
    }
}

LT_TEST(hole_mesh_tags)
{
    lt_mesh m;
    LT_CHECK(lt_mesh_read_msh(HOLE_MESH, &m) == LT_OK, "%s", lt_last_error());
    if (!m.nv)
        return;
    int count[6] = {0};
    double worst = 0, area = 0, enclosed = 0;
    for (int e = 0; e < m.nb; e++) {
        int tag = m.btag[e];
        LT_CHECK(tag >= 1 && tag <= 5, "edge %d has tag %d", e, tag);
        if (tag < 1 || tag > 5)
            continue;
        count[tag]++;
        for (int end = 0; end < 2; end++)
            worst = fmax(worst, off_curve(&m, m.bedge[2 * e + end], tag));
        const double *a = m.xy + 2 * m.bedge[2 * e], *b = m.xy + 2 * m.bedge[2 * e + 1];
        enclosed += 0.5 * (a[0] * b[1] - b[0] * a[1]);
    }
    for (int k = 0; k < m.nt; k++)
        area += lt_mesh_tri_area(&m, k);
    printf("  %d vertices, %d cells; edges per tag %d %d %d %d, hole %d; "
           "area %.6f (1 - pi r^2 = %.6f)\n", m.nv, m.nt, count[1], count[2],
           count[3], count[4], count[5], area,
           1 - 3.14159265358979 * LT_MESH_HOLE_RADIUS * LT_MESH_HOLE_RADIUS);
    for (int t = 1; t <= 5; t++)
        LT_CHECK(count[t] >= 4, "tag %d has %d edges", t, count[t]);
    LT_CHECK(count[5] > count[1], "the hole (%d edges) should have more than "
             "a side (%d)", count[5], count[1]);
    /* gmsh places the arcs' points to about 1e-9 */
    LT_CHECK(worst < 1e-8, "a boundary vertex is %.3g off its curve", worst);
    /* The boundary, oriented with the domain on its left, encloses the
     * mesh's area (the hole's edges run clockwise). */
    LT_CHECK(fabs(enclosed - area) < 1e-13, "boundary encloses %.17g, cells "
             "sum to %.17g", enclosed, area);
    double disc = 3.14159265358979 * LT_MESH_HOLE_RADIUS * LT_MESH_HOLE_RADIUS;
    LT_CHECK(area > 1 - disc && area < 1 - disc + 0.01, "area %.6f", area);
    lt_mesh_free(&m);
}

/* A bump beside the hole. */
static lt_status bump_monitor(void *ud, const lt_mesh *x, double *m)
{
    (void)ud;
    for (int i = 0; i < x->nv; i++) {
        double dx = x->xy[2 * i] - 0.78, dy = x->xy[2 * i + 1] - 0.5;
        m[i] = 1 + 6 * exp(-(dx * dx + dy * dy) / 0.01);
    }
    return LT_OK;
}

/* Move under fn with the hole pinned; check the boundary; the tangled
 * cells of the result. */
static int check_pinned(const lt_mesh *m, lt_monitor_fn fn, void *ud,
                         const char *what)
{
    int pin = LT_MESH_HOLE_TAG;
    lt_ma_opts o;
    lt_ma_opts_default(&o);
    o.pin_tags = &pin;
    o.npin_tags = 1;
    lt_mesh x = {0};
    lt_ma_result r = {0};
    LT_CHECK(lt_ma_move(m, fn, ud, &o, &x, &r) == LT_OK, "%s: %s", what,
             lt_last_error());
    if (!x.xy)
        return -1;
    double side = 0, moved = 0;
    int hole_same = 1, corner_same = 1;
    for (int e = 0; e < m->nb; e++)
        for (int end = 0; end < 2; end++) {
            int v = m->bedge[2 * e + end];
            bool same = !memcmp(x.xy + 2 * v, m->xy + 2 * v, 2 * sizeof(double));
            if (m->btag[e] == LT_MESH_HOLE_TAG)
                hole_same &= same;
            else
                side = fmax(side, off_curve(&x, v, m->btag[e]));
            bool corner = (m->xy[2 * v] == 0 || m->xy[2 * v] == 1) &&
                          (m->xy[2 * v + 1] == 0 || m->xy[2 * v + 1] == 1);
            if (corner)
                corner_same &= same;
        }
    for (int i = 0; i < 2 * m->nv; i++)
        moved = fmax(moved, fabs(x.xy[i] - m->xy[i]));
    printf("  %s: %d iterations, %d tangled cells, largest move %.3f\n", what,
           r.iters, r.tangled, moved);
    LT_CHECK(hole_same, "%s: a hole vertex moved", what);
    LT_CHECK(corner_same, "%s: a corner moved", what);
    LT_CHECK(side == 0, "%s: a side vertex left its side by %.3g", what, side);
    LT_CHECK(moved > 0.01, "%s: nothing moved (%.3g)", what, moved);
    LT_CHECK(r.tangled == lt_mesh_count_tangled(&x), "%s: tangle count", what);
    int tangled = r.tangled;
    lt_ma_result_free(&r);
    lt_mesh_free(&x);
    return tangled;
}

LT_TEST(hole_ma_pins_the_hole)
{
    lt_mesh m;
    LT_CHECK(lt_mesh_read_msh(HOLE_MESH, &m) == LT_OK, "%s", lt_last_error());
    if (!m.nv)
        return;
    /* A strong bump beside the pinned hole: MA converges to a mesh with
     * tangled cells there (the failure UM2N's paper reports for MA on
     * non-convex domains). */
    int t = check_pinned(&m, bump_monitor, NULL, "bump monitor");
    LT_CHECK(t > 0, "bump monitor: expected tangled cells, found %d", t);
    lt_rng r;
    lt_rng_init(&r, 1);
    lt_gauss_field f;
    LT_CHECK(lt_gauss_field_random(&f, &r, LT_FIELD_MAX_BUMPS, 0, false) == LT_OK,
             "%s", lt_last_error());
    t = check_pinned(&m, lt_um2n_monitor_fn, &f, "Helmholtz monitor, seed 1");
    LT_CHECK(t == 0, "Helmholtz seed 1: %d tangled cells", t);
    /* Without the pin the hole's vertices slide along averaged tangents and
     * leave the circle (as movement's EquationBCs would move them). */
    lt_ma_opts o;
    lt_ma_opts_default(&o);
    lt_mesh x = {0};
    LT_CHECK(lt_ma_move(&m, bump_monitor, NULL, &o, &x, NULL) == LT_OK, "%s",
             lt_last_error());
    double off = 0;
    for (int e = 0; e < m.nb && x.xy; e++)
        if (m.btag[e] == LT_MESH_HOLE_TAG)
            off = fmax(off, off_curve(&x, m.bedge[2 * e], LT_MESH_HOLE_TAG));
    printf("  sliding hole: vertices up to %.2e off the circle, %d tangled "
           "cells\n", off, x.xy ? lt_mesh_count_tangled(&x) : -1);
    LT_CHECK(off > 1e-6, "the sliding hole stayed on the circle (%.3g)", off);
    lt_mesh_free(&x);
    lt_mesh_free(&m);
}

LT_TEST_MAIN()
