/*
 * remap.c - the conservative remap of a DG1 field between two triangle
 * meshes of the same domain: the Galerkin L2 projection onto the target's
 * DG1 space, whose right-hand side int u_src v_dst is integrated exactly
 * over the supermesh (every source triangle clipped against every target
 * triangle it overlaps, Sutherland-Hodgman, each convex piece split into a
 * fan and integrated with a rule exact for the degree-2 products). The
 * candidates come from a uniform grid of buckets over the source's
 * bounding boxes. The target mass matrix is block diagonal, inverted cell
 * by cell, so the target's integral equals the source's integral over the
 * covered area up to rounding.
 */
#include "fem_internal.h"
#include "lethe/swirl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define RM_MAXP 9 /* a triangle clipped by a triangle has at most 6 corners */

typedef struct {
    int nx, ny;
    double lo[2], h[2];
    int *start, *item; /* CSR: the source triangles of each bucket */
} rm_grid;

static void rm_bbox(const lt_mesh *m, int k, double lo[2], double hi[2])
{
    const int *t = m->tri + 3 * k;
    for (int d = 0; d < 2; d++) {
        lo[d] = hi[d] = m->xy[2 * t[0] + d];
        for (int j = 1; j < 3; j++) {
            lo[d] = fmin(lo[d], m->xy[2 * t[j] + d]);
            hi[d] = fmax(hi[d], m->xy[2 * t[j] + d]);
        }
    }
}

/* The bucket range [i0, i1] x [j0, j1] a box covers (clamped). */
static void rm_range(const rm_grid *g, const double lo[2], const double hi[2],
                     int r[4])
{
    int n[2] = {g->nx, g->ny};
    for (int d = 0; d < 2; d++) {
        double a = floor((lo[d] - g->lo[d]) / g->h[d]);
        double b = floor((hi[d] - g->lo[d]) / g->h[d]);
        r[d] = a < 0 ? 0 : a >= n[d] ? n[d] - 1 : (int)a;
        r[2 + d] = b < 0 ? 0 : b >= n[d] ? n[d] - 1 : (int)b;
    }
}

static lt_status rm_grid_build(const lt_mesh *m, rm_grid *g)
{
    double lo[2] = {m->xy[0], m->xy[1]}, hi[2] = {m->xy[0], m->xy[1]};
    for (int i = 0; i < m->nv; i++)
        for (int d = 0; d < 2; d++) {
            lo[d] = fmin(lo[d], m->xy[2 * i + d]);
            hi[d] = fmax(hi[d], m->xy[2 * i + d]);
        }
    int n = (int)ceil(sqrt((double)m->nt / 2));
    g->nx = g->ny = n < 1 ? 1 : n;
    for (int d = 0; d < 2; d++) {
        g->lo[d] = lo[d];
        g->h[d] = (hi[d] - lo[d]) / g->nx;
        if (!(g->h[d] > 0))
            g->h[d] = 1;
    }
    size_t nb = (size_t)g->nx * g->ny;
    g->start = calloc(nb + 1, sizeof(int));
    if (!g->start)
        return lt_set_error(LT_ERR_NOMEM, "remap: out of memory");
    for (int pass = 0; pass < 2; pass++) {
        for (int k = 0; k < m->nt; k++) {
            double a[2], b[2];
            int r[4];
            rm_bbox(m, k, a, b);
            rm_range(g, a, b, r);
            for (int j = r[1]; j <= r[3]; j++)
                for (int i = r[0]; i <= r[2]; i++) {
                    size_t c = (size_t)j * g->nx + i;
                    if (pass == 0)
                        g->start[c + 1]++;
                    else
                        g->item[g->start[c]++] = k;
                }
        }
        if (pass == 0) {
            for (size_t c = 0; c < nb; c++)
                g->start[c + 1] += g->start[c];
            g->item = malloc(sizeof(int) * (size_t)(g->start[nb] ? g->start[nb] : 1));
            if (!g->item)
                return lt_set_error(LT_ERR_NOMEM, "remap: out of memory");
        } else {
            for (size_t c = nb; c > 0; c--)
                g->start[c] = g->start[c - 1];
            g->start[0] = 0;
        }
    }
    return LT_OK;
}

/* Clip the polygon p (np corners, counter-clockwise) by the half-plane on
 * the left of a -> b; the result goes back to p. */
static int rm_clip(double p[RM_MAXP][2], int np, const double *a,
                   const double *b)
{
    double q[RM_MAXP][2], s[RM_MAXP];
    int nq = 0;
    for (int i = 0; i < np; i++)
        s[i] = (b[0] - a[0]) * (p[i][1] - a[1]) - (b[1] - a[1]) * (p[i][0] - a[0]);
    for (int i = 0; i < np && nq < RM_MAXP - 1; i++) {
        int j = (i + 1) % np;
        if (s[i] >= 0) {
            q[nq][0] = p[i][0];
            q[nq++][1] = p[i][1];
        }
        if ((s[i] >= 0) != (s[j] >= 0)) {
            double t = s[i] / (s[i] - s[j]);
            q[nq][0] = p[i][0] + t * (p[j][0] - p[i][0]);
            q[nq++][1] = p[i][1] + t * (p[j][1] - p[i][1]);
        }
    }
    memcpy(p, q, sizeof(double) * 2 * (size_t)nq);
    return nq;
}

/* Barycentric coordinates of x in triangle k of m. */
static void rm_bary(const lt_mesh *m, int k, const double *x, double l[3])
{
    const int *t = m->tri + 3 * k;
    const double *a = m->xy + 2 * t[0], *b = m->xy + 2 * t[1],
                 *c = m->xy + 2 * t[2];
    double det = (b[0] - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (b[1] - a[1]);
    l[1] = ((x[0] - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (x[1] - a[1])) / det;
    l[2] = ((b[0] - a[0]) * (x[1] - a[1]) - (x[0] - a[0]) * (b[1] - a[1])) / det;
    l[0] = 1 - l[1] - l[2];
}

/* b[j] += int over the polygon of u_src(cell ks) phi_j(cell kd): a fan of
 * triangles, each with the edge-midpoint rule (exact for degree 2). */
static void rm_piece(const lt_mesh *src, int ks, const double *us,
                     const lt_mesh *dst, int kd, double p[RM_MAXP][2], int np,
                     double b[3])
{
    for (int f = 1; f + 1 < np; f++) {
        const double *v[3] = {p[0], p[f], p[f + 1]};
        double area = 0.5 * ((v[1][0] - v[0][0]) * (v[2][1] - v[0][1]) -
                             (v[2][0] - v[0][0]) * (v[1][1] - v[0][1]));
        if (!(area > 0))
            continue;
        for (int e = 0; e < 3; e++) {
            double x[2] = {0.5 * (v[e][0] + v[(e + 1) % 3][0]),
                           0.5 * (v[e][1] + v[(e + 1) % 3][1])};
            double ls[3], ld[3], u = 0;
            rm_bary(src, ks, x, ls);
            rm_bary(dst, kd, x, ld);
            for (int j = 0; j < 3; j++)
                u += ls[j] * us[3 * ks + j];
            for (int j = 0; j < 3; j++)
                b[j] += area / 3 * u * ld[j];
        }
    }
}

/* The projection on target cell kd: its load over every overlapping
 * source cell, then the cell's mass inverse. */
static void rm_cell(const lt_mesh *src, const double *us, const rm_grid *g,
                    int *stamp, const lt_mesh *dst, int kd, double *ud)
{
    double lo[2], hi[2], b[3] = {0, 0, 0};
    int r[4];
    rm_bbox(dst, kd, lo, hi);
    rm_range(g, lo, hi, r);
    const int *td = dst->tri + 3 * kd;
    for (int j = r[1]; j <= r[3]; j++)
        for (int i = r[0]; i <= r[2]; i++) {
            size_t c = (size_t)j * g->nx + i;
            for (int p = g->start[c]; p < g->start[c + 1]; p++) {
                int ks = g->item[p];
                if (stamp[ks] == kd)
                    continue;
                stamp[ks] = kd;
                double slo[2], shi[2];
                rm_bbox(src, ks, slo, shi);
                if (slo[0] > hi[0] || shi[0] < lo[0] || slo[1] > hi[1] ||
                    shi[1] < lo[1])
                    continue;
                double poly[RM_MAXP][2];
                for (int v = 0; v < 3; v++)
                    for (int d = 0; d < 2; d++)
                        poly[v][d] = src->xy[2 * src->tri[3 * ks + v] + d];
                int np = 3;
                for (int e = 0; e < 3 && np >= 3; e++)
                    np = rm_clip(poly, np, dst->xy + 2 * td[e],
                                 dst->xy + 2 * td[(e + 1) % 3]);
                if (np >= 3)
                    rm_piece(src, ks, us, dst, kd, poly, np, b);
            }
        }
    double area = lt_mesh_tri_area(dst, kd), sum = b[0] + b[1] + b[2];
    for (int j = 0; j < 3; j++)
        ud[3 * kd + j] = 3 / area * (4 * b[j] - sum);
}

lt_status lt_dg1_remap(const lt_mesh *src, const double *us,
                       const lt_mesh *dst, double *ud)
{
    int bad = lt_mesh_count_tangled(src) + lt_mesh_count_tangled(dst);
    if (bad)
        return lt_set_error(LT_ERR_ARG, "remap: %d tangled cells in the "
                            "source and target meshes", bad);
    rm_grid g = {0};
    int *stamp = malloc(sizeof(int) * (size_t)src->nt);
    lt_status s = stamp ? rm_grid_build(src, &g)
                        : lt_set_error(LT_ERR_NOMEM, "remap: out of memory");
    if (s == LT_OK) {
        for (int k = 0; k < src->nt; k++)
            stamp[k] = -1;
        for (int kd = 0; kd < dst->nt; kd++)
            rm_cell(src, us, &g, stamp, dst, kd, ud);
    }
    free(g.start);
    free(g.item);
    free(stamp);
    return s;
}
