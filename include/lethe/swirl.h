/*
 * lethe/swirl.h - discontinuous P1 (DG1) fields on a triangle mesh and the
 * swirl advection case of UM2N's zero-shot evaluation (issue #18, 5b):
 * DG1 upwind advection with SSPRK3 time steps, the conservative remap of a
 * DG1 field from one mesh onto another (the L2 projection on the
 * supermesh of their intersections), the ring carried out and back by a
 * reversing swirl, UM2N's monitor of that field with its smoother, and the
 * run itself on a fixed or a Monge-Ampere-moved mesh. docs/um2n.md says
 * what each piece computes and where it departs from the official code.
 *
 * Layout: a DG1 field u has 3 values per triangle, u[3k + j] at vertex j of
 * triangle k (its nodal basis is the triangle's barycentric coordinates).
 */
#ifndef LETHE_SWIRL_H
#define LETHE_SWIRL_H

#include "lethe/mesh.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- DG1 fields ------------------------------------------------------------ */

/* u[3k + j] = f(vertex j of triangle k): the nodal interpolant. */
LT_API void lt_dg1_interpolate(const lt_mesh *m, lt_field_fn f, void *ud,
                               double *u);
/* The integral of u over the mesh. */
LT_API double lt_dg1_integral(const lt_mesh *m, const double *u);
/* The L2 norm of u - f, with the degree-5 7-point rule on each of the four
 * halved-edge sub-triangles of every cell. */
LT_API double lt_dg1_l2_error(const lt_mesh *m, const double *u,
                              lt_field_fn f, void *ud);

/* Advection with the upwind flux, zero inflow, the velocity c a P1 field
 * given at the vertices (as the official code interpolates it). The
 * volume term int u div(phi c) makes it the advective form
 * u_t + c . grad u = 0 (the two agree for a divergence-free c). A context keeps the neighbours of one mesh topology;
 * every call may pass that mesh with its vertices anywhere. */
typedef struct lt_dg1_adv lt_dg1_adv;
LT_API lt_status lt_dg1_adv_new(const lt_mesh *m, lt_dg1_adv **out);
LT_API void lt_dg1_adv_free(lt_dg1_adv *a);
/* du = dt M^-1 L(u): the weak form the official code assembles,
 * int u div(phi c) - int_boundary phi max(c.n, 0) u
 * - int_interior (phi+ - phi-)(cn+ u+ - cn- u-) with cn = max(c.n, 0). */
LT_API lt_status lt_dg1_adv_increment(lt_dg1_adv *a, const lt_mesh *m,
                                      const double *c, double dt,
                                      const double *u, double *du);
/* One SSPRK3 step of length dt, u updated in place:
 * u1 = u + du(u), u2 = 3/4 u + 1/4 (u1 + du(u1)),
 * u = 1/3 u + 2/3 (u2 + du(u2)). */
LT_API lt_status lt_dg1_ssprk3(lt_dg1_adv *a, const lt_mesh *m,
                               const double *c, double dt, double *u);

/* The conservative remap (Galerkin L2 projection) of the DG1 field us on
 * src onto the DG1 space of dst: int ud v = int us v for every DG1 v of
 * dst, the right side integrated exactly on the intersections of the two
 * meshes' triangles (the supermesh, as Firedrake's projection between
 * meshes assembles it). When both meshes cover the same domain, int ud =
 * int us up to rounding, and a us that is linear on every cell of dst is
 * reproduced. The meshes need not share a topology. */
LT_API lt_status lt_dg1_remap(const lt_mesh *src, const double *us,
                              const lt_mesh *dst, double *ud);

/* ---- the swirl case ----------------------------------------------------------- */

typedef struct lt_swirl_cfg {
    double sigma, r0, x0, y0; /* the ring exp(-(|x - x0| - r0)^2 / 2 sigma^2) */
    double alpha;             /* the speed of the swirl */
    double dt;
    int steps;    /* even: the flow runs forward steps/2, then back */
    int n_smooth; /* the smoother's N: K = N dx^2 / 4 */
    double hess_w, grad_w; /* monitor: max(hess_w |H|^2, grad_w |grad u|^2) */
    bool move;             /* MA every step (else the mesh stays) */
    lt_ma_opts ma;         /* the mover's options (its warm field unused) */
} lt_swirl_cfg;
/* The setting of UM2N's evaluate.py swirl data set: sigma 0.05/3, r0 0.2,
 * centre (0.3, 0.3), alpha 0.9, dt 1e-3, 1000 steps, N 10, weights 5 and
 * 10, MA with UM2N's options (rtol 1e-3, maxiter 500). */
LT_API void lt_swirl_cfg_default(lt_swirl_cfg *c);
/* The ring at (x, y) (grad: its gradient when non-NULL); ud is the cfg. */
LT_API double lt_swirl_u0(void *cfg, double x, double y, double *grad);
/* The swirl velocity at the vertices of m (c: 2 nv) during step `step`:
 * alpha a (sin^2(pi x) sin(2 pi y), -sin^2(pi y) sin(2 pi x)), a = 1 for
 * step < steps / 2, else -1. */
LT_API void lt_swirl_velocity(const lt_swirl_cfg *c, int step,
                              const lt_mesh *m, double *vel);
/* The mean over the vertices of the P1 L2 projection of 2 x the
 * circumradius (Firedrake's mesh.cell_sizes, which the smoother uses). */
LT_API lt_status lt_mesh_cell_size_mean(const lt_mesh *m, double *h);
/* UM2N's swirl monitor of the DG1 field u on m: the gradient g of u
 * L2-projected onto P1 vectors (with the boundary term), H = the P1
 * projection of grad g, f = |H|_F^2 / max, q = |grad u|^2 / max with
 * grad u taken at each vertex from the last triangle that holds it (as
 * Firedrake's interpolation of a discontinuous field into P1 writes it),
 * w = max(hess_w f, grad_w q), smoothed by (K grad, grad) + (., .) with
 * K = n_smooth h^2 / 4 and w itself on the boundary; mon = 1 + that. */
LT_API lt_status lt_swirl_monitor(const lt_swirl_cfg *c, const lt_mesh *m,
                                  const double *u, double h, double *mon);

/* Called after every step (step counts from 1) with the mesh and the
 * field; a non-zero status stops the run. */
typedef lt_status (*lt_swirl_snap_fn)(void *ud, int step, const lt_mesh *m,
                                      const double *u);

typedef struct lt_swirl_result {
    double l2_error;      /* at T, against the exact state (the ring) */
    double mass0, mass;   /* int u at the start and at T */
    int ma_iters;         /* MA iterations of all steps */
    int ma_iters_max;     /* of one step */
    int ma_failures;      /* steps whose MA diverged or ran out */
    int tangled_max;      /* the most tangled cells of a step's mesh */
    int tangled_steps;    /* steps whose mesh had a tangled cell */
    double ma_seconds;    /* wall time in lt_ma_move, all steps */
    lt_mesh mesh;         /* the last mesh */
    double *u;            /* the DG1 field at T on it */
    int moves;            /* steps that called a mesh mover (lt_swirl_run_mover) */
    int64_t tangled_cells; /* tangled cells of the movers' meshes, summed */
    double move_seconds;  /* wall time the mover reported, all steps */
} lt_swirl_result;
LT_API void lt_swirl_result_free(lt_swirl_result *r);

/* Run the swirl on mesh (the unit square): the ring interpolated in DG1,
 * then `steps` SSPRK3 steps. With move, before each step MA moves the mesh
 * from the computational mesh (warm-started from the previous step), its
 * monitor evaluated on each candidate mesh from the field remapped onto it
 * and advanced one step, as UM2N's SwirlSolver does; the field is then
 * remapped from the previous mesh onto the new one and advanced. A step
 * whose MA fails keeps the previous mesh (counted in ma_failures). */
LT_API lt_status lt_swirl_run(const lt_swirl_cfg *c, const lt_mesh *mesh,
                              lt_swirl_snap_fn snap, void *ud,
                              lt_swirl_result *res);

/* A mesh mover in place of MA (a trained network): given the
 * computational mesh xi and the monitor mon [nv] of the current field on
 * it, write the moved vertex coordinates into xy [2 nv] and the wall time
 * of the move into *seconds. */
typedef lt_status (*lt_swirl_mover_fn)(void *ud, const lt_mesh *xi,
                                       const double *mon, double *xy,
                                       double *seconds);

/* The swirl run with a mover in place of MA (c->move and c->ma are not
 * used). Before step n the field of the previous mesh is remapped onto the
 * computational mesh and advanced one step there, and its monitor
 * (lt_swirl_monitor) is what the mover sees: the analogue, on the run's
 * own field, of the monitor UM2N's data set stores for each saved step
 * (monitor_function_on_coarse_mesh). The mover moves the mesh every step;
 * the field is then remapped from the previous mesh onto the moved one and
 * advanced there. A moved mesh with a tangled cell is not used: the step
 * keeps the previous mesh and is counted in tangled_steps, its cells in
 * tangled_cells (the official evaluation solves on it anyway; a remap
 * onto a tangled mesh is undefined). */
LT_API lt_status lt_swirl_run_mover(const lt_swirl_cfg *c, const lt_mesh *mesh,
                                    lt_swirl_mover_fn mover, void *mover_ud,
                                    lt_swirl_snap_fn snap, void *ud,
                                    lt_swirl_result *res);

#ifdef __cplusplus
}
#endif
#endif
