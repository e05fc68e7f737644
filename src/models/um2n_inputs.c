/*
 * um2n_inputs.c - what the mesh movers of um2n.c take from a mesh (lethe/
 * um2n.h): M2N's inputs (the monitor's P1 interpolant sampled on a 20 x 20
 * grid of the unit square, or of the domain's corner polygon as
 * get_conv_feat_poly does, and the boundary masks) and the mesh graph's
 * edges (each triangle's, both directions, once).
 */
#include "lethe/um2n.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- M2N's inputs ------------------------------------------------------ */

/* The P1 interpolant at (px, py) of values v over the triangles, or 0
 * outside all of them (barycentric tolerance for points on edges). */
static float p1_at(const float *mf, const int32_t *faces, int64_t nf,
                   double px, double py)
{
    for (int64_t t = 0; t < nf; t++) {
        const float *a = mf + 3 * (int64_t)faces[3 * t];
        const float *b = mf + 3 * (int64_t)faces[3 * t + 1];
        const float *q = mf + 3 * (int64_t)faces[3 * t + 2];
        double det = ((double)b[0] - a[0]) * ((double)q[1] - a[1]) -
                     ((double)q[0] - a[0]) * ((double)b[1] - a[1]);
        if (det == 0)
            continue;
        double l1 = ((px - a[0]) * ((double)q[1] - a[1]) -
                     ((double)q[0] - a[0]) * (py - a[1])) / det;
        double l2 = (((double)b[0] - a[0]) * (py - a[1]) -
                     (px - a[0]) * ((double)b[1] - a[1])) / det;
        double l0 = 1 - l1 - l2, eps = 1e-9;
        if (l0 >= -eps && l1 >= -eps && l2 >= -eps)
            return (float)(l0 * a[2] + l1 * b[2] + l2 * q[2]);
    }
    return 0.0f;
}

lt_status lt_m2n_inputs(const float *mf, int64_t n, const int32_t *faces,
                        int64_t nf, float *grid, float *side)
{
    if (!mf || n < 1 || (nf > 0 && !faces) || !side)
        return lt_set_error(LT_ERR_ARG, "m2n_inputs: NULL or empty input");
    for (int64_t i = 0; i < 3 * nf; i++)
        if (faces[i] < 0 || faces[i] >= n)
            return lt_set_error(LT_ERR_ARG, "m2n_inputs: face vertex %d out "
                                "of range (%lld nodes)", (int)faces[i],
                                (long long)n);
    float lo[2] = {mf[0], mf[1]}, hi[2] = {mf[0], mf[1]};
    for (int64_t i = 0; i < n; i++)
        for (int d = 0; d < 2; d++) {
            lo[d] = fminf(lo[d], mf[3 * i + d]);
            hi[d] = fmaxf(hi[d], mf[3 * i + d]);
        }
    for (int64_t i = 0; i < n; i++) {
        side[4 * i] = mf[3 * i] == lo[0];
        side[4 * i + 1] = mf[3 * i] == hi[0];
        side[4 * i + 2] = mf[3 * i + 1] == lo[1];
        side[4 * i + 3] = mf[3 * i + 1] == hi[1];
    }
    const int g = LT_M2N_GRID;
    float big = 0;
    for (int i = 0; grid && i < g; i++)
        for (int j = 0; j < g; j++) { /* np.linspace(start, end, 20) */
            double px = lo[0] + ((double)hi[0] - lo[0]) * i / (g - 1);
            double py = lo[1] + ((double)hi[1] - lo[1]) * j / (g - 1);
            float v = p1_at(mf, faces, nf, px, py);
            grid[i * g + j] = v;
            big = fmaxf(big, fabsf(v));
        }
    for (int k = 0; grid && big > 0 && k < g * g; k++)
        grid[k] /= big;
    return LT_OK;
}

/* judge_in_hull: p on the inner side (or on) every edge of the polygon h
 * (nc corners), i.e. no cross product (h_k - h_k+1) x (p - h_k) > 0. */
static bool in_hull(const double *h, int nc, double px, double py)
{
    for (int k = 0; k < nc; k++) {
        int k1 = (k + 1) % nc;
        double ex = h[2 * k] - h[2 * k1], ey = h[2 * k + 1] - h[2 * k1 + 1];
        if (ex * (py - h[2 * k + 1]) - ey * (px - h[2 * k]) > 0)
            return false;
    }
    return true;
}

lt_status lt_m2n_poly_grid(const float *mf, int64_t n, const int32_t *faces,
                           int64_t nf, const float *corners, int nc,
                           float *grid)
{
    if (!mf || n < 1 || (nf > 0 && !faces) || !grid || !corners || nc < 3 ||
        nc > 64)
        return lt_set_error(LT_ERR_ARG, "m2n_poly_grid: NULL or empty input "
                            "(%d corners, at least 3)", nc);
    for (int64_t i = 0; i < 3 * nf; i++)
        if (faces[i] < 0 || faces[i] >= n)
            return lt_set_error(LT_ERR_ARG, "m2n_poly_grid: face vertex %d "
                                "out of range (%lld nodes)", (int)faces[i],
                                (long long)n);
    double h[128], mean[2] = {0, 0}, lo[2], hi[2];
    lo[0] = hi[0] = corners[0], lo[1] = hi[1] = corners[1];
    for (int k = 0; k < nc; k++)
        for (int d = 0; d < 2; d++) {
            mean[d] += corners[2 * k + d] / (double)nc;
            lo[d] = fmin(lo[d], corners[2 * k + d]);
            hi[d] = fmax(hi[d], corners[2 * k + d]);
        }
    for (int k = 0; k < nc; k++) /* h - (1 - scale) (h - mean) */
        for (int d = 0; d < 2; d++)
            h[2 * k + d] = corners[2 * k + d] -
                           (1 - LT_M2N_POLY_SCALE) * (corners[2 * k + d] - mean[d]);
    const int g = LT_M2N_POLY_GRID;
    float big = 0;
    for (int i = 0; i < g; i++)
        for (int j = 0; j < g; j++) {
            double px = lo[0] + (hi[0] - lo[0]) * j / (g - 1);
            double py = lo[1] + (hi[1] - lo[1]) * (g - 1 - i) / (g - 1);
            float v = in_hull(h, nc, px, py) ? p1_at(mf, faces, nf, px, py)
                                              : 0.0f;
            grid[i * g + j] = v;
            big = fmaxf(big, fabsf(v));
        }
    for (int k = 0; big > 0 && k < g * g; k++)
        grid[k] /= big;
    return LT_OK;
}

/* The faces of graph gi (nodes [gi * per, (gi + 1) * per)) renumbered
 * from 0 into out; returns their count. */
/* ---- graph -------------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

lt_status lt_um2n_edges(const int32_t *faces, int64_t n_faces,
                        int64_t n_nodes, int32_t **src, int32_t **dst,
                        int64_t *n_edges)
{
    if (!faces || !src || !dst || !n_edges || n_faces < 1 || n_nodes < 1)
        return lt_set_error(LT_ERR_ARG, "um2n_edges: no faces or outputs");
    *src = *dst = NULL;
    int64_t *key = malloc((size_t)(3 * n_faces) * sizeof *key);
    if (!key)
        return lt_set_error(LT_ERR_NOMEM, "um2n_edges: out of memory");
    for (int64_t f = 0; f < n_faces; f++)
        for (int k = 0; k < 3; k++) {
            int64_t a = faces[3 * f + (k + 1) % 3];
            int64_t b = faces[3 * f + (k + 2) % 3];
            if (a < 0 || a >= n_nodes || b < 0 || b >= n_nodes) {
                free(key);
                return lt_set_error(LT_ERR_ARG, "um2n_edges: face %lld has "
                                    "a vertex out of range", (long long)f);
            }
            key[3 * f + k] = a < b ? a * n_nodes + b : b * n_nodes + a;
        }
    qsort(key, (size_t)(3 * n_faces), sizeof *key, cmp_i64);
    int64_t u = 0;
    for (int64_t i = 0; i < 3 * n_faces; i++)
        if (i == 0 || key[i] != key[i - 1])
            key[u++] = key[i];
    *src = malloc((size_t)(2 * u) * sizeof(int32_t));
    *dst = malloc((size_t)(2 * u) * sizeof(int32_t));
    if (!*src || !*dst) {
        free(key);
        free(*src);
        free(*dst);
        *src = *dst = NULL;
        return lt_set_error(LT_ERR_NOMEM, "um2n_edges: out of memory");
    }
    for (int64_t i = 0; i < u; i++) {
        int32_t a = (int32_t)(key[i] / n_nodes), b = (int32_t)(key[i] % n_nodes);
        (*src)[i] = a;
        (*dst)[i] = b;
        (*src)[u + i] = b;
        (*dst)[u + i] = a;
    }
    free(key);
    *n_edges = 2 * u;
    return LT_OK;
}

