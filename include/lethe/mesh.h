/*
 * lethe/mesh.h - the mesh layer (double precision): 2-D triangle meshes with
 * tagged boundary edges, gmsh .msh v4.1 files and the gmsh mesher, P1 finite
 * elements (quadrature, mass, stiffness and load assembly, L2 projections,
 * Hessian recovery), sparse Cholesky solves through SuiteSparse CHOLMOD, the
 * random Helmholtz problems and Hessian monitor UM2N trains on, and the
 * Monge-Ampere relaxation mover of mesh-adaptation/movement
 * (docs/um2n.md says what each piece computes and what is still missing).
 *
 * Conventions: vertex i sits at xy[2i], xy[2i+1]; triangle k is
 * tri[3k..3k+2], counter-clockwise once a mesh is finalised; the P1 degree of
 * freedom of vertex i is i (the dof map is the identity). Boundary edge e
 * joins bedge[2e], bedge[2e+1] (oriented as its triangle sees it, so the
 * domain is on its left) and carries the tag btag[e] (gmsh's physical tag).
 * Functions return LT_OK or an error code with lt_last_error() set, as in
 * lethe/core.h; they never print.
 */
#ifndef LETHE_MESH_H
#define LETHE_MESH_H

#include "lethe/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- meshes -------------------------------------------------------------- */

typedef struct lt_mesh {
    int nv, nt, nb; /* vertices, triangles, boundary edges */
    double *xy;     /* [nv][2] */
    int *tri;       /* [nt][3] */
    int *bedge;     /* [nb][2] */
    int *btag;      /* [nb] */
} lt_mesh;

/* Allocate the arrays of a mesh of the given sizes (contents undefined). */
LT_API lt_status lt_mesh_alloc(lt_mesh *m, int nv, int nt, int nb);
LT_API void lt_mesh_free(lt_mesh *m);
LT_API lt_status lt_mesh_copy(lt_mesh *dst, const lt_mesh *src);
/* Check and normalise a mesh built by hand or read from a file: indices in
 * range, every triangle of non-zero area and all of one orientation (a mesh
 * whose triangles are all clockwise is flipped to counter-clockwise; a mix is
 * an inverted mesh, LT_ERR_FORMAT), the tagged edges exactly the edges with
 * one triangle, each oriented with the domain on its left. what names the
 * mesh in messages. */
LT_API lt_status lt_mesh_finalize(lt_mesh *m, const char *what);
/* The unit square cut into n x n squares, each split along the diagonal
 * from (x, y) to (x + h, y + h); boundary tags as lt_mesh_gmsh_square:
 * 1 bottom, 2 right, 3 top, 4 left. */
LT_API lt_status lt_mesh_square_grid(lt_mesh *m, int n);
/* Signed area of triangle k (positive when counter-clockwise). */
LT_API double lt_mesh_tri_area(const lt_mesh *m, int k);
/* Tangled cells: triangles whose signed area is <= 0 (det J changed sign
 * against the counter-clockwise reference). */
LT_API int lt_mesh_count_tangled(const lt_mesh *m);
/* on[i] = 1 for vertices on a boundary edge, else 0. */
LT_API void lt_mesh_boundary_mask(const lt_mesh *m, uint8_t *on);

/* ---- gmsh ---------------------------------------------------------------- */

/* Read a gmsh .msh file, format 4.1 ASCII: nodes, 2-node lines (type 1),
 * 3-node triangles (type 2) and points (type 15, ignored); a line's tag is
 * the first physical tag of its curve entity (else the entity's tag). Any
 * other version, the binary form, another element type, a truncated or
 * malformed section, a dangling node reference or an inverted mesh is
 * LT_ERR_FORMAT naming the file and what is wrong; the result is finalised. */
LT_API lt_status lt_mesh_read_msh(const char *path, lt_mesh *m);
/* Write m as .msh 4.1 ASCII, atomically: the boundary edges in their order,
 * one curve entity per run of equal tags carrying that physical tag, and
 * one surface; reading it back gives the same mesh. */
LT_API lt_status lt_mesh_write_msh(const char *path, const lt_mesh *m);

/* gmsh's 2-D algorithms (Mesh.Algorithm): UM2N's data sets use 6. */
#define LT_GMSH_MESHADAPT 1
#define LT_GMSH_AUTOMATIC 2
#define LT_GMSH_DELAUNAY 5
#define LT_GMSH_FRONTAL_DELAUNAY 6
/* Mesh the square [0, scale]^2 with gmsh's command line (the program named
 * by LETHE_GMSH, else `gmsh` on PATH) at characteristic length lc with
 * algorithm algo, as UM2N's UnstructuredSquareMeshGenerator sets it up
 * (corner points of size lc, the four sides as physical curves 1..4:
 * bottom, right, top, left), and write the result to path (atomically; the
 * file is read back and checked first). LT_ERR_IO when gmsh is missing or
 * fails, saying how to install it. */
LT_API lt_status lt_mesh_gmsh_square(const char *path, double scale,
                                     double lc, int algo);
/* UM2N's non-convex case as Lethe sets it up: the unit square (sides tagged
 * 1..4 as above) with a circular hole of radius r at (0.5, 0.5), its four
 * arcs tagged LT_MESH_HOLE_TAG, points of size lc, gmsh algorithm algo;
 * written as lt_mesh_gmsh_square writes. */
#define LT_MESH_HOLE_TAG 5
#define LT_MESH_HOLE_RADIUS 0.2 /* lethe mesh gen --geometry hole's default */
LT_API lt_status lt_mesh_gmsh_hole(const char *path, double lc, double r,
                                   int algo);

/* ---- sparse matrices and CHOLMOD ------------------------------------------ */

/* Compressed sparse columns with the full (both triangles) pattern of the
 * P1 couplings: column j holds rows colptr[j]..colptr[j+1]-1, sorted. */
typedef struct lt_sparse {
    int n;
    int *colptr; /* [n + 1] */
    int *row;    /* [nnz] */
    double *val; /* [nnz] */
} lt_sparse;

/* The P1 pattern of m (vertex i couples with j when they share a triangle),
 * values zero. */
LT_API lt_status lt_sparse_p1(const lt_mesh *m, lt_sparse *a);
LT_API void lt_sparse_free(lt_sparse *a);
/* y = A x. */
LT_API void lt_sparse_mv(const lt_sparse *a, const double *x, double *y);
/* Impose u_i = g_i (g NULL: 0) on the rows with fixed[i]: b loses the
 * column couplings (b may be NULL), the rows and columns are cleared and
 * their diagonal set to 1, and b_i = g_i, keeping A symmetric. */
LT_API void lt_sparse_dirichlet(lt_sparse *a, const uint8_t *fixed,
                                const double *g, double *b);

/* A sparse Cholesky factor (CHOLMOD, supernodal or simplicial as CHOLMOD
 * chooses) of a symmetric positive definite lt_sparse: factorise once,
 * solve many times. */
typedef struct lt_spchol lt_spchol;
LT_API lt_status lt_spchol_factor(const lt_sparse *a, lt_spchol **out);
/* x = A^-1 b (x may be b). */
LT_API lt_status lt_spchol_solve(lt_spchol *f, const double *b, double *x);
LT_API void lt_spchol_free(lt_spchol *f);

/* ---- P1 finite elements ---------------------------------------------------- */

/* Assemble into a (which has lt_sparse_p1's pattern) alpha times the mass
 * matrix plus beta times the stiffness matrix (exact for P1). */
LT_API lt_status lt_fem_assemble(const lt_mesh *m, double alpha, double beta,
                                 lt_sparse *a);
/* A field given pointwise: value, and gradient when grad is non-NULL. */
typedef double (*lt_field_fn)(void *ud, double x, double y, double *grad);
/* b_i = integral of f * phi_i, with the degree-5 7-point rule. */
LT_API void lt_fem_load(const lt_mesh *m, lt_field_fn f, void *ud, double *b);
/* L2 and H1-seminorm errors of the P1 function uh against u (7-point rule). */
LT_API void lt_fem_errors(const lt_mesh *m, const double *uh, lt_field_fn u,
                          void *ud, double *l2, double *h1);
/* The L2 recovery of the Hessian of the P1 function u (UM2N's get_hessian):
 * the P1 tensor H with
 *   int H_ij psi = -int d_j(psi) d_i(u) + int_boundary d_i(u) psi n_j,
 * H[4i + 2a + b] = H_ab at vertex i. The mass matrix factor M (of
 * lt_fem_assemble(m, 1, 0)) may be passed, else it is made and freed. */
LT_API lt_status lt_fem_hessian(const lt_mesh *m, lt_spchol *mass,
                                const double *u, double *H);

/* ---- UM2N's Helmholtz data --------------------------------------------------- */

#define LT_FIELD_MAX_BUMPS 6
/* A sum of anisotropic Gaussians u = sum z exp(-((x-mx)^2/sx^2 +
 * (y-my)^2/sy^2)) (iso: exp(-((x-mx)^2 + (y-my)^2)/w), unscaled), as UM2N's
 * RandSourceGenerator draws them. */
typedef struct lt_gauss_field {
    int n;
    bool iso;
    double mx[LT_FIELD_MAX_BUMPS], my[LT_FIELD_MAX_BUMPS];
    double sx[LT_FIELD_MAX_BUMPS], sy[LT_FIELD_MAX_BUMPS];
    double z[LT_FIELD_MAX_BUMPS], w[LT_FIELD_MAX_BUMPS];
} lt_gauss_field;
/* Draw a field with UM2N's distributions (build_helmholtz_square.py's
 * defaults): n = uniform in 1..max_bumps (or n_fixed when > 0); centres
 * uniform in [0, 1], sigmas normal(1/4, 1/6) rounded to 3 decimals and at
 * least 1/8, heights uniform in [0, 1], iso widths uniform in [0.05, 0.2],
 * every value rounded to 3 decimals. */
LT_API lt_status lt_gauss_field_random(lt_gauss_field *f, lt_rng *r,
                                       int max_bumps, int n_fixed, bool iso);
/* u (and its gradient when grad != NULL) at (x, y); ud is the field. */
LT_API double lt_gauss_field_u(void *field, double x, double y, double *grad);
/* The Helmholtz source f = -lap u + u at (x, y); grad unused. */
LT_API double lt_gauss_field_f(void *field, double x, double y, double *grad);
/* The P1 solution of -lap u + u = f with u = the field on the boundary
 * (Dirichlet data interpolated at boundary vertices). */
LT_API lt_status lt_helmholtz_solve(const lt_mesh *m, const lt_gauss_field *f,
                                    double *u);
/* UM2N's monitor on mesh m: solve the Helmholtz problem, recover its
 * Hessian H, L2-project |H|_F^2 onto P1, divide by its largest vertex value
 * and return m = 1 + 5 * that. u and H (nv and 4 nv) may be NULL. */
LT_API lt_status lt_um2n_monitor(const lt_mesh *m, const lt_gauss_field *f,
                                 double *mon, double *u, double *H);
/* lt_um2n_monitor as an lt_monitor_fn (ud: the lt_gauss_field). */
LT_API lt_status lt_um2n_monitor_fn(void *field, const lt_mesh *moved,
                                    double *mon);
/* Solve the Helmholtz problem of f on m and measure the L2 and H1-seminorm
 * errors of the P1 solution against the exact field (either may be NULL). */
LT_API lt_status lt_helmholtz_error(const lt_mesh *m, const lt_gauss_field *f,
                                    double *l2, double *h1);
/* Per-sample feature normalisation of UM2N's loader: each of the ncols
 * columns of the n x ncols row-major x is divided by its largest absolute
 * value (a column of zeros is left as it is). */
LT_API void lt_features_normalise(double *x, int n, int ncols);

/* ---- the Monge-Ampere mover ------------------------------------------------- */

/* A monitor function: m[i] at each vertex of the moved mesh. */
typedef lt_status (*lt_monitor_fn)(void *ud, const lt_mesh *moved, double *m);

/* The state a movement mover object keeps between its move() calls: the
 * potential phi and its recovered Hessian sigma on the computational mesh.
 * Passed through lt_ma_opts.warm, an empty one (n = 0, zero-initialised)
 * is a cold start and is filled by the move; a filled one starts the
 * relaxation from its phi and sigma (the previous mesh) and receives the
 * final ones, also after a failed move, as movement's attributes do. */
typedef struct lt_ma_warm {
    int n;         /* vertices, 0 while empty */
    double *phi;   /* [n] */
    double *sigma; /* [4 n], row-major 2 x 2 per vertex */
} lt_ma_warm;
LT_API void lt_ma_warm_free(lt_ma_warm *w);

typedef struct lt_ma_opts {
    double pseudo_dt; /* relaxation pseudo-timestep */
    double rtol;      /* stop when the residual ratio falls below */
    double dtol;      /* fail when it exceeds dtol times the first one */
    int maxiter;
    bool fix_boundary; /* pin every boundary vertex (else slide on sides) */
    /* A Lethe variant (movement pins all or none): the vertices of these
     * boundary tags are pinned, the other sides slide; NULL / 0: none. */
    const int *pin_tags;
    int npin_tags;
    lt_ma_warm *warm; /* NULL: a cold start from the computational mesh */
} lt_ma_opts;
/* UM2N's call of movement's relaxation mover: pseudo_dt 0.1, rtol 1e-3,
 * dtol 2, maxiter 500, sliding boundary, no tag pinned, a cold start. */
LT_API void lt_ma_opts_default(lt_ma_opts *o);

typedef struct lt_ma_result {
    int iters;        /* iterations taken (movement's return value + 1) */
    bool converged;
    double *residual; /* [iters] the residual ratio of each iteration */
    int tangled;      /* tangled cells of the moved mesh */
    double seconds;   /* wall time of lt_ma_move (monitor calls included) */
} lt_ma_result;
LT_API void lt_ma_result_free(lt_ma_result *r);

/* Move mesh by movement's MongeAmpereMover_Relaxation: the potential phi
 * (mean zero) of -d/dtau lap phi = m det(I + H(phi)) - theta on the fixed
 * mesh, x = xi + grad phi with grad phi L2-projected (normal component zero
 * on axis-aligned sides; on other sides the vertices slide: their values
 * are the boundary L2 projection of the tangential part of grad phi; corners
 * fixed; or the whole boundary fixed), the monitor evaluated on the moved
 * mesh every iteration, the matrices of the computational mesh factorised
 * once. moved gets the result (also on failure, with res filled):
 * LT_ERR_STATE when the residual diverges or maxiter passes, LT_ERR_NAN for
 * a monitor value that is not finite (values <= 0 are used as they come,
 * as movement does), LT_ERR_ARG for an inverted input mesh. res may be
 * NULL. */
LT_API lt_status lt_ma_move(const lt_mesh *mesh, lt_monitor_fn monitor,
                            void *ud, const lt_ma_opts *o, lt_mesh *moved,
                            lt_ma_result *res);
/* Coefficient of variation (std / mean) over the cells of m * |K|, m the
 * vertex monitor averaged over each cell: 0 for a perfectly
 * equidistributed mesh. */
LT_API double lt_mesh_equidistribution_cv(const lt_mesh *mesh,
                                          const double *m);

/* ---- pictures ------------------------------------------------------------------ */

/* Draw the edges of m (boundary edges in red) on a size x size white RGB
 * PNG, the bounding box scaled to fit with a margin. */
LT_API lt_status lt_mesh_png(const char *path, const lt_mesh *m, int size);
/* Draw a field on m, each triangle filled with the linear interpolant of
 * its corner values through a colour ramp from the smallest value (dark
 * blue) to the largest (yellow): val holds nv vertex values, or with dg 3
 * per triangle (DG1, val[3k + j] at vertex j of triangle k). A value that
 * is not finite is LT_ERR_NAN. */
LT_API lt_status lt_mesh_png_field(const char *path, const lt_mesh *m,
                                   const double *val, bool dg, int size);

#ifdef __cplusplus
}
#endif
#endif
