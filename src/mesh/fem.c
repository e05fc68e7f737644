/*
 * fem.c - P1 finite elements on a triangle mesh: quadrature rules, element
 * geometry, assembly of mass and stiffness matrices and of load vectors,
 * L2 / H1 errors against a known field, and the L2 recovery of a Hessian
 * with its boundary term (the form UM2N's get_hessian solves).
 */
#include "fem_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define R4A 0.445948490915965
#define R4B 0.091576213509771
#define R5A 0.470142064105115
#define R5B 0.101286507323456
const fem_rule fem_rule4 = {
    6,
    {{1 - 2 * R4A, R4A, R4A}, {R4A, 1 - 2 * R4A, R4A}, {R4A, R4A, 1 - 2 * R4A},
     {1 - 2 * R4B, R4B, R4B}, {R4B, 1 - 2 * R4B, R4B}, {R4B, R4B, 1 - 2 * R4B}},
    {0.223381589678011, 0.223381589678011, 0.223381589678011,
     0.109951743655322, 0.109951743655322, 0.109951743655322}};
const fem_rule fem_rule5 = {
    7,
    {{1.0 / 3, 1.0 / 3, 1.0 / 3},
     {1 - 2 * R5A, R5A, R5A}, {R5A, 1 - 2 * R5A, R5A}, {R5A, R5A, 1 - 2 * R5A},
     {1 - 2 * R5B, R5B, R5B}, {R5B, 1 - 2 * R5B, R5B}, {R5B, R5B, 1 - 2 * R5B}},
    {0.225, 0.132394152788506, 0.132394152788506, 0.132394152788506,
     0.125939180544827, 0.125939180544827, 0.125939180544827}};

double fem_geom(const lt_mesh *m, int k, double grad[3][2])
{
    const int *t = m->tri + 3 * k;
    double x[3], y[3];
    for (int j = 0; j < 3; j++) {
        x[j] = m->xy[2 * t[j]];
        y[j] = m->xy[2 * t[j] + 1];
    }
    double det = (x[1] - x[0]) * (y[2] - y[0]) - (x[2] - x[0]) * (y[1] - y[0]);
    for (int j = 0; j < 3; j++) {
        int a = (j + 1) % 3, b = (j + 2) % 3;
        grad[j][0] = (y[a] - y[b]) / det;
        grad[j][1] = (x[b] - x[a]) / det;
    }
    return 0.5 * det;
}

double fem_edge_normal(const lt_mesh *m, int e, double n[2])
{
    const double *a = m->xy + 2 * m->bedge[2 * e],
                 *b = m->xy + 2 * m->bedge[2 * e + 1];
    double dx = b[0] - a[0], dy = b[1] - a[1], len = sqrt(dx * dx + dy * dy);
    n[0] = dy / len; /* the domain is on the left of a -> b */
    n[1] = -dx / len;
    return len;
}

lt_status fem_boundary_tris(const lt_mesh *m, int *tri_of)
{
    int *start = calloc((size_t)m->nv + 1, sizeof(int));
    int *list = malloc(sizeof(int) * 3 * (size_t)m->nt);
    if (!start || !list) {
        free(start), free(list);
        return lt_set_error(LT_ERR_NOMEM, "mesh: out of memory");
    }
    for (int i = 0; i < 3 * m->nt; i++)
        start[m->tri[i] + 1]++;
    for (int v = 0; v < m->nv; v++)
        start[v + 1] += start[v];
    for (int i = 0; i < 3 * m->nt; i++)
        list[start[m->tri[i]]++] = i / 3;
    for (int v = m->nv; v > 0; v--) /* undo the shift of the fill */
        start[v] = start[v - 1];
    start[0] = 0;
    lt_status s = LT_OK;
    for (int e = 0; e < m->nb; e++) {
        int a = m->bedge[2 * e], b = m->bedge[2 * e + 1];
        tri_of[e] = -1;
        for (int p = start[a]; p < start[a + 1]; p++) {
            const int *t = m->tri + 3 * list[p];
            if (t[0] == b || t[1] == b || t[2] == b)
                tri_of[e] = list[p];
        }
        if (tri_of[e] < 0)
            s = lt_set_error(LT_ERR_FORMAT, "mesh: boundary edge (%d, %d) "
                             "belongs to no triangle", a, b);
    }
    free(start);
    free(list);
    return s;
}

int fem_sp_find(const lt_sparse *a, int i, int j)
{
    int lo = a->colptr[j], hi = a->colptr[j + 1] - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (a->row[mid] == i)
            return mid;
        if (a->row[mid] < i)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

lt_status lt_fem_assemble(const lt_mesh *m, double alpha, double beta,
                          lt_sparse *a)
{
    if (a->n != m->nv)
        return lt_set_error(LT_ERR_SHAPE, "fem: matrix of size %d for a mesh "
                            "of %d vertices", a->n, m->nv);
    memset(a->val, 0, sizeof(double) * (size_t)a->colptr[a->n]);
    for (int k = 0; k < m->nt; k++) {
        double g[3][2], area = fem_geom(m, k, g);
        const int *t = m->tri + 3 * k;
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) {
                double v = alpha * area / 12 * (i == j ? 2 : 1) +
                           beta * area * (g[i][0] * g[j][0] + g[i][1] * g[j][1]);
                int p = fem_sp_find(a, t[i], t[j]);
                if (p < 0)
                    return lt_set_error(LT_ERR_SHAPE, "fem: the matrix lacks "
                                        "the coupling (%d, %d)", t[i], t[j]);
                a->val[p] += v;
            }
    }
    return LT_OK;
}

void lt_fem_load(const lt_mesh *m, lt_field_fn f, void *ud, double *b)
{
    memset(b, 0, sizeof(double) * (size_t)m->nv);
    const fem_rule *r = &fem_rule5;
    for (int k = 0; k < m->nt; k++) {
        double g[3][2], area = fem_geom(m, k, g);
        const int *t = m->tri + 3 * k;
        for (int q = 0; q < r->n; q++) {
            double x = 0, y = 0;
            for (int j = 0; j < 3; j++) {
                x += r->bary[q][j] * m->xy[2 * t[j]];
                y += r->bary[q][j] * m->xy[2 * t[j] + 1];
            }
            double v = f(ud, x, y, NULL) * r->w[q] * area;
            for (int j = 0; j < 3; j++)
                b[t[j]] += v * r->bary[q][j];
        }
    }
}

void lt_fem_errors(const lt_mesh *m, const double *uh, lt_field_fn u,
                   void *ud, double *l2, double *h1)
{
    const fem_rule *r = &fem_rule5;
    double e0 = 0, e1 = 0;
    for (int k = 0; k < m->nt; k++) {
        double g[3][2], area = fem_geom(m, k, g);
        const int *t = m->tri + 3 * k;
        double gh[2] = {0, 0};
        for (int j = 0; j < 3; j++) {
            gh[0] += uh[t[j]] * g[j][0];
            gh[1] += uh[t[j]] * g[j][1];
        }
        for (int q = 0; q < r->n; q++) {
            double x = 0, y = 0, v = 0, gu[2];
            for (int j = 0; j < 3; j++) {
                x += r->bary[q][j] * m->xy[2 * t[j]];
                y += r->bary[q][j] * m->xy[2 * t[j] + 1];
                v += r->bary[q][j] * uh[t[j]];
            }
            double d = v - u(ud, x, y, gu);
            e0 += r->w[q] * area * d * d;
            e1 += r->w[q] * area * ((gh[0] - gu[0]) * (gh[0] - gu[0]) +
                                    (gh[1] - gu[1]) * (gh[1] - gu[1]));
        }
    }
    if (l2)
        *l2 = sqrt(e0);
    if (h1)
        *h1 = sqrt(e1);
}

lt_status fem_hessian_rhs(const lt_mesh *m, const double *u, bool tangential,
                          double *rhs)
{
    memset(rhs, 0, sizeof(double) * 4 * (size_t)m->nv);
    for (int k = 0; k < m->nt; k++) {
        double g[3][2], area = fem_geom(m, k, g), gu[2] = {0, 0};
        const int *t = m->tri + 3 * k;
        for (int j = 0; j < 3; j++) {
            gu[0] += u[t[j]] * g[j][0];
            gu[1] += u[t[j]] * g[j][1];
        }
        /* -int d_b(psi_v) d_a(u) */
        for (int j = 0; j < 3; j++)
            for (int a = 0; a < 2; a++)
                for (int b = 0; b < 2; b++)
                    rhs[4 * t[j] + 2 * a + b] -= area * g[j][b] * gu[a];
    }
    int *tri_of = malloc(sizeof(int) * (size_t)(m->nb ? m->nb : 1));
    if (!tri_of)
        return lt_set_error(LT_ERR_NOMEM, "hessian: out of memory");
    lt_status s = fem_boundary_tris(m, tri_of);
    for (int e = 0; e < m->nb && s == LT_OK; e++) {
        double g[3][2], n[2], gu[2] = {0, 0};
        fem_geom(m, tri_of[e], g);
        const int *t = m->tri + 3 * tri_of[e];
        for (int j = 0; j < 3; j++) {
            gu[0] += u[t[j]] * g[j][0];
            gu[1] += u[t[j]] * g[j][1];
        }
        double len = fem_edge_normal(m, e, n);
        if (tangential) { /* movement's equidistributor keeps only this */
            double gn = gu[0] * n[0] + gu[1] * n[1];
            gu[0] -= gn * n[0];
            gu[1] -= gn * n[1];
        }
        /* + int_e d_a(u) psi n_b: each end's hat integrates to len / 2 */
        for (int end = 0; end < 2; end++)
            for (int a = 0; a < 2; a++)
                for (int b = 0; b < 2; b++)
                    rhs[4 * m->bedge[2 * e + end] + 2 * a + b] +=
                        0.5 * len * gu[a] * n[b];
    }
    free(tri_of);
    return s;
}

lt_status lt_fem_hessian(const lt_mesh *m, lt_spchol *mass, const double *u,
                         double *H)
{
    int n = m->nv;
    lt_spchol *own = NULL;
    lt_status s = LT_OK;
    if (!mass) {
        lt_sparse M;
        s = lt_sparse_p1(m, &M);
        if (s == LT_OK)
            s = lt_fem_assemble(m, 1, 0, &M);
        if (s == LT_OK)
            s = lt_spchol_factor(&M, &own);
        lt_sparse_free(&M);
        if (s != LT_OK)
            return s;
        mass = own;
    }
    double *rhs = malloc(sizeof(double) * 5 * (size_t)n);
    if (!rhs) {
        lt_spchol_free(own);
        return lt_set_error(LT_ERR_NOMEM, "hessian: out of memory");
    }
    double *col = rhs + 4 * (size_t)n;
    s = fem_hessian_rhs(m, u, false, rhs);
    for (int c = 0; c < 4 && s == LT_OK; c++) {
        for (int i = 0; i < n; i++)
            col[i] = rhs[4 * i + c];
        s = lt_spchol_solve(mass, col, col);
        for (int i = 0; i < n && s == LT_OK; i++)
            H[4 * i + c] = col[i];
    }
    free(rhs);
    lt_spchol_free(own);
    return s;
}
