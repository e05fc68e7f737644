/*
 * dg.c - discontinuous P1 fields: nodal interpolation, integrals and L2
 * errors, and the upwind DG1 discretisation of u_t + c . grad u = 0 with
 * SSPRK3 time steps, written after the weak form of UM2N's SwirlSolver:
 * the volume term int u div(phi c) exactly (u and c linear on a cell), the
 * facet terms with a 3-point Gauss rule on each edge, the upwind value
 * taken point by point, zero inflow on the boundary, and the block-diagonal
 * DG1 mass matrix inverted cell by cell.
 */
#include "fem_internal.h"
#include "lethe/swirl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* 3-point Gauss-Legendre on [0, 1]: exact to degree 5. */
static const double dg_gs[3] = {0.112701665379258311, 0.5, 0.887298334620741689};
static const double dg_gw[3] = {5.0 / 18, 8.0 / 18, 5.0 / 18};

struct lt_dg1_adv {
    int nt, nv;
    int *nbr;    /* [3 nt]: the triangle across edge (t[j], t[j+1]), or -1 */
    double *buf; /* u1, u2, du: 3 x 3 nt */
};

void lt_dg1_interpolate(const lt_mesh *m, lt_field_fn f, void *ud, double *u)
{
    for (int k = 0; k < m->nt; k++)
        for (int j = 0; j < 3; j++) {
            const double *p = m->xy + 2 * m->tri[3 * k + j];
            u[3 * k + j] = f(ud, p[0], p[1], NULL);
        }
}

double lt_dg1_integral(const lt_mesh *m, const double *u)
{
    double s = 0;
    for (int k = 0; k < m->nt; k++)
        s += lt_mesh_tri_area(m, k) * (u[3 * k] + u[3 * k + 1] + u[3 * k + 2]) / 3;
    return s;
}

/* Sub-triangle s of the halved-edge split: barycentric corners. */
static void dg_sub(int s, double c[3][3])
{
    static const double mid[4][3][3] = {
        {{1, 0, 0}, {.5, .5, 0}, {.5, 0, .5}},
        {{0, 1, 0}, {0, .5, .5}, {.5, .5, 0}},
        {{0, 0, 1}, {.5, 0, .5}, {0, .5, .5}},
        {{.5, .5, 0}, {0, .5, .5}, {.5, 0, .5}}};
    memcpy(c, mid[s], sizeof mid[s]);
}

double lt_dg1_l2_error(const lt_mesh *m, const double *u, lt_field_fn f,
                       void *ud)
{
    const fem_rule *r = &fem_rule5;
    double e = 0;
    for (int k = 0; k < m->nt; k++) {
        const int *t = m->tri + 3 * k;
        double area = lt_mesh_tri_area(m, k) / 4;
        for (int s = 0; s < 4; s++) {
            double c[3][3];
            dg_sub(s, c);
            for (int q = 0; q < r->n; q++) {
                double b[3] = {0, 0, 0}, x = 0, y = 0, v = 0;
                for (int i = 0; i < 3; i++)
                    for (int j = 0; j < 3; j++)
                        b[j] += r->bary[q][i] * c[i][j];
                for (int j = 0; j < 3; j++) {
                    x += b[j] * m->xy[2 * t[j]];
                    y += b[j] * m->xy[2 * t[j] + 1];
                    v += b[j] * u[3 * k + j];
                }
                double d = v - f(ud, x, y, NULL);
                e += r->w[q] * area * d * d;
            }
        }
    }
    return sqrt(e);
}

/* ---- neighbours ------------------------------------------------------------ */

typedef struct {
    int lo, hi, slot; /* slot = 3k + j */
} dg_edge;

static int dg_edge_cmp(const void *pa, const void *pb)
{
    const dg_edge *a = pa, *b = pb;
    if (a->lo != b->lo)
        return a->lo < b->lo ? -1 : 1;
    return (a->hi > b->hi) - (a->hi < b->hi);
}

static lt_status dg_neighbours(const lt_mesh *m, int *nbr)
{
    size_t ne = 3 * (size_t)m->nt;
    dg_edge *e = malloc(sizeof *e * ne);
    if (!e)
        return lt_set_error(LT_ERR_NOMEM, "dg1: out of memory");
    for (int k = 0; k < m->nt; k++)
        for (int j = 0; j < 3; j++) {
            int a = m->tri[3 * k + j], b = m->tri[3 * k + (j + 1) % 3];
            e[3 * k + j] = (dg_edge){a < b ? a : b, a < b ? b : a, 3 * k + j};
        }
    qsort(e, ne, sizeof *e, dg_edge_cmp);
    for (size_t i = 0; i < ne; i++)
        nbr[e[i].slot] = -1;
    for (size_t i = 0; i + 1 < ne; i++)
        if (!dg_edge_cmp(e + i, e + i + 1)) {
            nbr[e[i].slot] = e[i + 1].slot / 3;
            nbr[e[i + 1].slot] = e[i].slot / 3;
        }
    free(e);
    return LT_OK;
}

lt_status lt_dg1_adv_new(const lt_mesh *m, lt_dg1_adv **out)
{
    *out = NULL;
    lt_dg1_adv *a = calloc(1, sizeof *a);
    if (a) {
        a->nbr = malloc(sizeof(int) * 3 * (size_t)m->nt);
        a->buf = malloc(sizeof(double) * 9 * (size_t)m->nt);
    }
    if (!a || !a->nbr || !a->buf) {
        lt_dg1_adv_free(a);
        return lt_set_error(LT_ERR_NOMEM, "dg1: out of memory");
    }
    a->nt = m->nt;
    a->nv = m->nv;
    lt_status s = dg_neighbours(m, a->nbr);
    if (s != LT_OK) {
        lt_dg1_adv_free(a);
        return s;
    }
    *out = a;
    return LT_OK;
}

void lt_dg1_adv_free(lt_dg1_adv *a)
{
    if (!a)
        return;
    free(a->nbr);
    free(a->buf);
    free(a);
}

/* ---- the advection operator ------------------------------------------------- */

/* r_i += int_K u div(phi_i c) for cell k (exact: u, c linear). */
static void dg_volume(const lt_mesh *m, int k, const double *c,
                      const double *uk, double r[3])
{
    double g[3][2], area = fem_geom(m, k, g);
    const int *t = m->tri + 3 * k;
    double divc = 0, uc[2] = {0, 0};
    for (int j = 0; j < 3; j++)
        divc += g[j][0] * c[2 * t[j]] + g[j][1] * c[2 * t[j] + 1];
    for (int a = 0; a < 3; a++) /* int u c = |K|/12 sum u_a c_b (1 + d_ab) */
        for (int b = 0; b < 3; b++)
            for (int d = 0; d < 2; d++)
                uc[d] += area / 12 * (a == b ? 2 : 1) * uk[a] * c[2 * t[b] + d];
    for (int i = 0; i < 3; i++) {
        double up = 0; /* int u phi_i */
        for (int a = 0; a < 3; a++)
            up += area / 12 * (a == i ? 2 : 1) * uk[a];
        r[i] += g[i][0] * uc[0] + g[i][1] * uc[1] + divc * up;
    }
}

/* r += -int_e phi (cn_k u_k - cn_n u_n) on edge j of cell k (u_n = 0
 * outside the domain). */
static void dg_facet(const lt_dg1_adv *a, const lt_mesh *m, int k, int j,
                     const double *c, const double *u, double r[3])
{
    const int *t = m->tri + 3 * k;
    int j1 = (j + 1) % 3, va = t[j], vb = t[j1], nb = a->nbr[3 * k + j];
    int ia = -1, ib = -1;
    for (int i = 0; nb >= 0 && i < 3; i++) {
        ia = m->tri[3 * nb + i] == va ? i : ia;
        ib = m->tri[3 * nb + i] == vb ? i : ib;
    }
    const double *pa = m->xy + 2 * va, *pb = m->xy + 2 * vb;
    double dx = pb[0] - pa[0], dy = pb[1] - pa[1];
    double len = sqrt(dx * dx + dy * dy), n[2] = {dy / len, -dx / len};
    for (int q = 0; q < 3; q++) {
        double s = dg_gs[q], w = dg_gw[q] * len;
        double cn = (1 - s) * (c[2 * va] * n[0] + c[2 * va + 1] * n[1]) +
                    s * (c[2 * vb] * n[0] + c[2 * vb + 1] * n[1]);
        double uk = (1 - s) * u[3 * k + j] + s * u[3 * k + j1];
        double un = nb < 0 ? 0 : (1 - s) * u[3 * nb + ia] + s * u[3 * nb + ib];
        double flux = cn > 0 ? cn * uk : cn * un; /* cn_k uk - cn_n un */
        r[j] -= w * (1 - s) * flux;
        r[j1] -= w * s * flux;
    }
}

lt_status lt_dg1_adv_increment(lt_dg1_adv *a, const lt_mesh *m,
                               const double *c, double dt, const double *u,
                               double *du)
{
    if (m->nt != a->nt || m->nv != a->nv)
        return lt_set_error(LT_ERR_SHAPE, "dg1: the mesh has %d cells, the "
                            "advection context %d", m->nt, a->nt);
    for (int k = 0; k < m->nt; k++) {
        double r[3] = {0, 0, 0};
        dg_volume(m, k, c, u + 3 * k, r);
        for (int j = 0; j < 3; j++)
            dg_facet(a, m, k, j, c, u, r);
        /* M_K^-1 = (3 / |K|)(4 I - ones) */
        double area = lt_mesh_tri_area(m, k), sum = r[0] + r[1] + r[2];
        for (int j = 0; j < 3; j++)
            du[3 * k + j] = dt * 3 / area * (4 * r[j] - sum);
    }
    return LT_OK;
}

lt_status lt_dg1_ssprk3(lt_dg1_adv *a, const lt_mesh *m, const double *c,
                        double dt, double *u)
{
    size_t n = 3 * (size_t)a->nt;
    double *u1 = a->buf, *u2 = a->buf + n, *du = a->buf + 2 * n;
    lt_status s = lt_dg1_adv_increment(a, m, c, dt, u, du);
    for (size_t i = 0; i < n && s == LT_OK; i++)
        u1[i] = u[i] + du[i];
    if (s == LT_OK)
        s = lt_dg1_adv_increment(a, m, c, dt, u1, du);
    for (size_t i = 0; i < n && s == LT_OK; i++)
        u2[i] = 0.75 * u[i] + 0.25 * (u1[i] + du[i]);
    if (s == LT_OK)
        s = lt_dg1_adv_increment(a, m, c, dt, u2, du);
    for (size_t i = 0; i < n && s == LT_OK; i++)
        u[i] = u[i] / 3 + 2.0 / 3 * (u2[i] + du[i]);
    return s;
}
