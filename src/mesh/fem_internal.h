/*
 * fem_internal.h - what the files of the mesh layer share about P1 elements:
 * the quadrature rules on the reference triangle, the geometry of a
 * triangle (area and the gradients of its barycentric coordinates) and the
 * outward normal of a boundary edge.
 */
#ifndef LT_MESH_FEM_INTERNAL_H
#define LT_MESH_FEM_INTERNAL_H

#include "lethe/mesh.h"

/* A rule: n points in barycentric coordinates and weights summing to 1 (an
 * integral over triangle K is |K| sum w_q f(x_q)). */
typedef struct {
    int n;
    double bary[7][3];
    double w[7];
} fem_rule;

/* Strang-Fix / Dunavant degree 4 (6 points) and degree 5 (7 points). */
extern const fem_rule fem_rule4, fem_rule5;

/* Area (positive for counter-clockwise) and grad[j] = gradient of the
 * barycentric coordinate of vertex j of triangle k. */
double fem_geom(const lt_mesh *m, int k, double grad[3][2]);
/* Length and outward unit normal of boundary edge e (domain on its left). */
double fem_edge_normal(const lt_mesh *m, int e, double n[2]);
/* The triangle holding boundary edge e, found once per mesh: tri_of[e]. */
lt_status fem_boundary_tris(const lt_mesh *m, int *tri_of);
/* Position of (i, j) in column j of a, or -1 when the pattern lacks it. */
int fem_sp_find(const lt_sparse *a, int i, int j);
/* The four right-hand sides of the L2 Hessian recovery of the P1 function
 * u, rhs[4i + 2a + b] = -int d_b(psi_i) d_a(u) + int_boundary g_a psi_i n_b
 * with g = grad u, or (tangential) its part along the boundary. */
lt_status fem_hessian_rhs(const lt_mesh *m, const double *u, bool tangential,
                          double *rhs);

#endif
