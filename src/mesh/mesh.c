/*
 * mesh.c - the triangle mesh itself: allocation, the checks every mesh passes
 * before use (indices, orientation, boundary edges matched to the edges with
 * one triangle), signed areas and the tangling count, the structured unit
 * square, and the equidistribution measure of a monitor over the cells.
 */
#include "lethe/mesh.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

lt_status lt_mesh_alloc(lt_mesh *m, int nv, int nt, int nb)
{
    memset(m, 0, sizeof *m);
    if (nv < 3 || nt < 1 || nb < 0)
        return lt_set_error(LT_ERR_ARG, "mesh: bad sizes (%d vertices, %d "
                            "triangles, %d boundary edges)", nv, nt, nb);
    m->xy = malloc(sizeof(double) * 2 * (size_t)nv);
    m->tri = malloc(sizeof(int) * 3 * (size_t)nt);
    m->bedge = malloc(sizeof(int) * 2 * (size_t)(nb ? nb : 1));
    m->btag = malloc(sizeof(int) * (size_t)(nb ? nb : 1));
    if (!m->xy || !m->tri || !m->bedge || !m->btag) {
        lt_mesh_free(m);
        return lt_set_error(LT_ERR_NOMEM, "mesh: out of memory");
    }
    m->nv = nv;
    m->nt = nt;
    m->nb = nb;
    return LT_OK;
}

void lt_mesh_free(lt_mesh *m)
{
    if (!m)
        return;
    free(m->xy);
    free(m->tri);
    free(m->bedge);
    free(m->btag);
    memset(m, 0, sizeof *m);
}

lt_status lt_mesh_copy(lt_mesh *dst, const lt_mesh *src)
{
    lt_status s = lt_mesh_alloc(dst, src->nv, src->nt, src->nb);
    if (s != LT_OK)
        return s;
    memcpy(dst->xy, src->xy, sizeof(double) * 2 * (size_t)src->nv);
    memcpy(dst->tri, src->tri, sizeof(int) * 3 * (size_t)src->nt);
    memcpy(dst->bedge, src->bedge, sizeof(int) * 2 * (size_t)src->nb);
    memcpy(dst->btag, src->btag, sizeof(int) * (size_t)src->nb);
    return LT_OK;
}

double lt_mesh_tri_area(const lt_mesh *m, int k)
{
    const int *t = m->tri + 3 * k;
    const double *a = m->xy + 2 * t[0], *b = m->xy + 2 * t[1],
                 *c = m->xy + 2 * t[2];
    return 0.5 * ((b[0] - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (b[1] - a[1]));
}

int lt_mesh_count_tangled(const lt_mesh *m)
{
    int n = 0;
    for (int k = 0; k < m->nt; k++)
        n += !(lt_mesh_tri_area(m, k) > 0);
    return n;
}

void lt_mesh_boundary_mask(const lt_mesh *m, uint8_t *on)
{
    memset(on, 0, (size_t)m->nv);
    for (int e = 0; e < m->nb; e++)
        on[m->bedge[2 * e]] = on[m->bedge[2 * e + 1]] = 1;
}

/* One directed triangle edge, keyed by its sorted ends. */
typedef struct {
    int lo, hi, a, b;
} mesh_edge;

static int edge_cmp(const void *pa, const void *pb)
{
    const mesh_edge *x = pa, *y = pb;
    if (x->lo != y->lo)
        return x->lo < y->lo ? -1 : 1;
    return (x->hi > y->hi) - (x->hi < y->hi);
}

/* Orientation: every triangle positive, or every one negative (then
 * flipped); anything else is an inverted or degenerate mesh. */
static lt_status mesh_orient(lt_mesh *m, const char *what)
{
    int pos = 0, neg = 0, first_bad = -1;
    for (int k = 0; k < m->nt; k++) {
        double a = lt_mesh_tri_area(m, k);
        if (a > 0)
            pos++;
        else if (a < 0)
            neg++;
        else if (first_bad < 0)
            first_bad = k;
        if (!isfinite(a))
            return lt_set_error(LT_ERR_FORMAT, "%s: triangle %d has a "
                                "non-finite vertex coordinate", what, k);
    }
    if (first_bad >= 0)
        return lt_set_error(LT_ERR_FORMAT, "%s: triangle %d has zero area",
                            what, first_bad);
    if (pos && neg)
        return lt_set_error(LT_ERR_FORMAT, "%s: inverted mesh: %d of %d "
                            "triangles are oriented against the others",
                            what, pos < neg ? pos : neg, m->nt);
    if (neg)
        for (int k = 0; k < m->nt; k++) {
            int t = m->tri[3 * k + 1];
            m->tri[3 * k + 1] = m->tri[3 * k + 2];
            m->tri[3 * k + 2] = t;
        }
    return LT_OK;
}

/* Match the tagged edges to the triangle edges used once, orienting each
 * with the domain on its left. */
static lt_status mesh_match_boundary(lt_mesh *m, const char *what)
{
    size_t ne = 3 * (size_t)m->nt;
    mesh_edge *e = malloc(sizeof *e * ne);
    uint8_t *used = calloc(ne, 1);
    if (!e || !used) {
        free(e);
        free(used);
        return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", what);
    }
    for (int k = 0; k < m->nt; k++)
        for (int j = 0; j < 3; j++) {
            int a = m->tri[3 * k + j], b = m->tri[3 * k + (j + 1) % 3];
            e[3 * k + j] = (mesh_edge){a < b ? a : b, a < b ? b : a, a, b};
        }
    qsort(e, ne, sizeof *e, edge_cmp);
    lt_status s = LT_OK;
    size_t nbound = 0;
    for (size_t i = 0; i < ne && s == LT_OK;) {
        size_t j = i + 1;
        while (j < ne && !edge_cmp(e + i, e + j))
            j++;
        if (j - i > 2)
            s = lt_set_error(LT_ERR_FORMAT, "%s: edge (%d, %d) is shared by "
                             "%zu triangles", what, e[i].lo, e[i].hi, j - i);
        nbound += j - i == 1;
        i = j;
    }
    for (int b = 0; b < m->nb && s == LT_OK; b++) {
        int p = m->bedge[2 * b], q = m->bedge[2 * b + 1];
        mesh_edge key = {p < q ? p : q, p < q ? q : p, 0, 0};
        mesh_edge *f = bsearch(&key, e, ne, sizeof *e, edge_cmp);
        size_t at = f ? (size_t)(f - e) : 0;
        if (!f || (at > 0 && !edge_cmp(f - 1, f)) ||
            (at + 1 < ne && !edge_cmp(f + 1, f)))
            s = lt_set_error(LT_ERR_FORMAT, "%s: tagged edge (%d, %d) is not "
                             "on the boundary of the triangles", what, p, q);
        else if (used[at])
            s = lt_set_error(LT_ERR_FORMAT, "%s: boundary edge (%d, %d) is "
                             "tagged twice", what, p, q);
        else {
            used[at] = 1;
            m->bedge[2 * b] = f->a;
            m->bedge[2 * b + 1] = f->b;
        }
    }
    if (s == LT_OK && nbound != (size_t)m->nb)
        s = lt_set_error(LT_ERR_FORMAT, "%s: %zu boundary edges have no tag "
                         "(every side must be a tagged line)", what,
                         nbound - (size_t)m->nb);
    free(e);
    free(used);
    return s;
}

lt_status lt_mesh_finalize(lt_mesh *m, const char *what)
{
    for (int i = 0; i < 3 * m->nt; i++)
        if (m->tri[i] < 0 || m->tri[i] >= m->nv)
            return lt_set_error(LT_ERR_FORMAT, "%s: triangle %d refers to "
                                "vertex %d of %d", what, i / 3, m->tri[i], m->nv);
    for (int i = 0; i < 2 * m->nb; i++)
        if (m->bedge[i] < 0 || m->bedge[i] >= m->nv)
            return lt_set_error(LT_ERR_FORMAT, "%s: boundary edge %d refers "
                                "to vertex %d of %d", what, i / 2,
                                m->bedge[i], m->nv);
    lt_status s = mesh_orient(m, what);
    return s != LT_OK ? s : mesh_match_boundary(m, what);
}

lt_status lt_mesh_square_grid(lt_mesh *m, int n)
{
    if (n < 1 || n > 2000)
        return lt_set_error(LT_ERR_ARG, "square grid: n = %d, expected 1..2000", n);
    int np = n + 1;
    lt_status s = lt_mesh_alloc(m, np * np, 2 * n * n, 4 * n);
    if (s != LT_OK)
        return s;
    for (int j = 0; j < np; j++)
        for (int i = 0; i < np; i++) {
            m->xy[2 * (j * np + i)] = (double)i / n;
            m->xy[2 * (j * np + i) + 1] = (double)j / n;
        }
    int *t = m->tri;
    for (int j = 0; j < n; j++)
        for (int i = 0; i < n; i++) {
            int v00 = j * np + i, v10 = v00 + 1, v01 = v00 + np, v11 = v01 + 1;
            *t++ = v00, *t++ = v10, *t++ = v11;
            *t++ = v00, *t++ = v11, *t++ = v01;
        }
    int b = 0;
    for (int i = 0; i < n; i++) { /* bottom, right, top, left */
        int e[4][2] = {{i, i + 1},
                       {i * np + n, (i + 1) * np + n},
                       {n * np + i, n * np + i + 1},
                       {i * np, (i + 1) * np}};
        for (int side = 0; side < 4; side++) {
            m->bedge[2 * (b + side * n)] = e[side][0];
            m->bedge[2 * (b + side * n) + 1] = e[side][1];
            m->btag[b + side * n] = side + 1;
        }
        b++;
    }
    s = lt_mesh_finalize(m, "square grid");
    if (s != LT_OK)
        lt_mesh_free(m);
    return s;
}

double lt_mesh_equidistribution_cv(const lt_mesh *mesh, const double *m)
{
    double sum = 0, sum2 = 0;
    for (int k = 0; k < mesh->nt; k++) {
        const int *t = mesh->tri + 3 * k;
        double v = (m[t[0]] + m[t[1]] + m[t[2]]) / 3 * fabs(lt_mesh_tri_area(mesh, k));
        sum += v;
        sum2 += v * v;
    }
    double mean = sum / mesh->nt, var = sum2 / mesh->nt - mean * mean;
    return sqrt(var > 0 ? var : 0) / mean;
}
