/*
 * monge_ampere.c - the Monge-Ampere mesh mover by pseudo-time relaxation, as
 * mesh-adaptation/movement's MongeAmpereMover_Relaxation computes it (the
 * mover UM2N imitates). On the fixed computational mesh xi, each iteration:
 *   1. grad phi_old is L2-projected onto P1 vectors (its normal component
 *      set to zero on axis-aligned sides, so corners stay; or zero on the
 *      whole boundary), and the physical mesh is x = xi + that;
 *   2. the monitor m is evaluated on x (its vertex values are then used on
 *      xi), theta = int m det(I + sigma_old) / |Omega|;
 *   3. the residual ratio |R| / |T|, R_i = int psi_i (m det(I + sigma_old)
 *      - theta), T_i = int psi_i theta, stops the loop below rtol and fails
 *      above dtol times its first value;
 *   4. K phi = K phi_old + dt R (the constant null space removed: the right
 *      side made mean-free, phi mean-free), then sigma = the L2 recovered
 *      Hessian of phi with the tangential boundary term.
 * The stiffness matrix and the three mass matrices (plain, x-fixed,
 * y-fixed) of xi are factorised once. A warm state (lt_ma_warm) carries
 * phi and sigma from one move to the next, as a movement mover object
 * keeps them between its move() calls. Integrals of products of P1 fields
 * use the degree-4 rule, exact for them.
 */
#include "fem_internal.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* movement's np.allclose(n_j, 0) test of an axis-aligned side. */
#define MA_AXIS_ATOL 1e-8

void lt_ma_opts_default(lt_ma_opts *o)
{
    o->pseudo_dt = 0.1;
    o->rtol = 1e-3;
    o->dtol = 2.0;
    o->maxiter = 500;
    o->fix_boundary = false;
    o->pin_tags = NULL;
    o->npin_tags = 0;
    o->warm = NULL;
}

static bool ma_pinned_tag(const lt_ma_opts *o, int tag)
{
    for (int i = 0; i < o->npin_tags; i++)
        if (o->pin_tags[i] == tag)
            return true;
    return o->fix_boundary;
}

void lt_ma_result_free(lt_ma_result *r)
{
    if (!r)
        return;
    free(r->residual);
    memset(r, 0, sizeof *r);
}

typedef struct {
    const lt_mesh *xi;
    lt_mesh *x;
    int n;
    lt_sparse K, Mfull;
    lt_spchol *Kp, *M, *Mc[2], *B;
    uint8_t *fix[2]; /* component pinned to zero */
    uint8_t *slide;  /* on a side that is not axis-aligned (not a corner) */
    uint8_t *known[2]; /* fix[c] or slide: rows not of the domain mass */
    int *tri_of;     /* the triangle of each boundary edge */
    int nslide;
    double area;
    double *phi, *phi_old, *grad[2], *mon, *r, *tmp, *sigma, *sigma_old;
} ma_state;

void lt_ma_warm_free(lt_ma_warm *w)
{
    if (!w)
        return;
    free(w->phi);
    free(w->sigma);
    memset(w, 0, sizeof *w);
}

/* Start from a filled warm state (its n must be the mesh's). */
static lt_status ma_warm_load(const lt_ma_warm *w, ma_state *st)
{
    if (!w || !w->n)
        return LT_OK;
    if (w->n != st->n || !w->phi || !w->sigma)
        return lt_set_error(LT_ERR_ARG, "monge-ampere: the warm start holds "
                            "%d vertices, the mesh %d", w->n, st->n);
    memcpy(st->phi_old, w->phi, sizeof(double) * (size_t)st->n);
    memcpy(st->sigma_old, w->sigma, sizeof(double) * 4 * (size_t)st->n);
    return LT_OK;
}

/* Keep phi_old and sigma_old for the next move. */
static lt_status ma_warm_save(lt_ma_warm *w, const ma_state *st)
{
    if (!w)
        return LT_OK;
    if (!w->n) {
        w->phi = malloc(sizeof(double) * (size_t)st->n);
        w->sigma = malloc(sizeof(double) * 4 * (size_t)st->n);
        if (!w->phi || !w->sigma) {
            lt_ma_warm_free(w);
            return lt_set_error(LT_ERR_NOMEM, "monge-ampere: out of memory");
        }
        w->n = st->n;
    }
    memcpy(w->phi, st->phi_old, sizeof(double) * (size_t)st->n);
    memcpy(w->sigma, st->sigma_old, sizeof(double) * 4 * (size_t)st->n);
    return LT_OK;
}

/* Whether boundary tag `tag` is an axis-aligned side; which component of
 * the normal is non-zero goes to *axis. */
static bool ma_axis_side(const lt_mesh *m, int tag, int *axis)
{
    double s[2] = {0, 0}, n[2];
    for (int f = 0; f < m->nb; f++)
        if (m->btag[f] == tag) {
            double len = fem_edge_normal(m, f, n);
            s[0] += fabs(n[0]) * len;
            s[1] += fabs(n[1]) * len;
        }
    bool z0 = s[0] <= MA_AXIS_ATOL, z1 = s[1] <= MA_AXIS_ATOL;
    *axis = z0 ? 1 : 0;
    return z0 != z1;
}

/* The boundary conditions of movement's L2 projector, per vertex: on an
 * axis-aligned side the normal component is pinned (DirichletBC on that
 * component); on any other side the vertex slides (its rows become the
 * boundary projection of the tangential gradient, EquationBC), except at
 * corners (vertices of two tags), which are pinned; the vertices of pinned
 * tags (all with fix_boundary) are pinned. */
static void ma_fixed(ma_state *st, const lt_ma_opts *o)
{
    const lt_mesh *m = st->xi;
    int *first = (int *)st->tmp; /* a tag of each vertex, n ints of scratch */
    for (int i = 0; i < m->nv; i++)
        first[i] = INT32_MIN;
    for (int e = 0; e < m->nb; e++) {
        int axis, tag = m->btag[e];
        bool aligned = ma_axis_side(m, tag, &axis);
        for (int end = 0; end < 2; end++) {
            int v = m->bedge[2 * e + end];
            bool corner = first[v] != INT32_MIN && first[v] != tag;
            first[v] = tag;
            if (ma_pinned_tag(o, tag))
                st->fix[0][v] = st->fix[1][v] = 1;
            else if (aligned)
                st->fix[axis][v] = 1;
            else
                st->slide[v] = 1;
            if (corner)
                st->slide[v] |= 2; /* mark: a corner */
        }
    }
    st->nslide = 0;
    for (int v = 0; v < m->nv; v++) {
        if (st->slide[v] == 3) /* a corner of a sliding side: pinned */
            st->fix[0][v] = st->fix[1][v] = 1;
        st->slide[v] = st->slide[v] == 1;
        st->nslide += st->slide[v];
        for (int c = 0; c < 2; c++)
            st->known[c][v] = st->fix[c][v] || st->slide[v];
    }
}

/* The boundary mass matrix on the sliding vertices (identity elsewhere). */
static lt_status ma_boundary_mass(ma_state *st, lt_sparse *A)
{
    const lt_mesh *m = st->xi;
    memset(A->val, 0, sizeof(double) * (size_t)A->colptr[A->n]);
    for (int v = 0; v < m->nv; v++)
        if (!st->slide[v])
            A->val[fem_sp_find(A, v, v)] = 1;
    for (int e = 0; e < m->nb; e++) {
        double n[2], len = fem_edge_normal(m, e, n);
        const int *ab = m->bedge + 2 * e;
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++)
                if (st->slide[ab[i]] && st->slide[ab[j]])
                    A->val[fem_sp_find(A, ab[i], ab[j])] +=
                        len / 6 * (i == j ? 2 : 1);
    }
    return lt_spchol_factor(A, &st->B);
}

/* Factorise K (one vertex pinned), M and the two constrained masses. */
static lt_status ma_factor(ma_state *st)
{
    const lt_mesh *m = st->xi;
    lt_sparse A = {0};
    lt_status s = lt_sparse_p1(m, &st->K);
    if (s == LT_OK)
        s = lt_fem_assemble(m, 0, 1, &st->K);
    if (s == LT_OK)
        s = lt_sparse_p1(m, &A);
    if (s == LT_OK) {
        memcpy(A.val, st->K.val, sizeof(double) * (size_t)A.colptr[A.n]);
        uint8_t *pin = (uint8_t *)st->tmp; /* n bytes of scratch */
        memset(pin, 0, (size_t)st->n);
        pin[0] = 1;
        lt_sparse_dirichlet(&A, pin, NULL, NULL);
        s = lt_spchol_factor(&A, &st->Kp);
    }
    for (int c = -1; c < 2 && s == LT_OK; c++) {
        s = lt_fem_assemble(m, 1, 0, &A);
        if (s == LT_OK && c >= 0)
            lt_sparse_dirichlet(&A, st->known[c], NULL, NULL);
        if (s == LT_OK)
            s = lt_spchol_factor(&A, c < 0 ? &st->M : &st->Mc[c]);
    }
    if (s == LT_OK && st->nslide) {
        s = lt_sparse_p1(m, &st->Mfull);
        if (s == LT_OK)
            s = lt_fem_assemble(m, 1, 0, &st->Mfull);
        if (s == LT_OK)
            s = ma_boundary_mass(st, &A);
    }
    lt_sparse_free(&A);
    return s;
}

/* The values of component c of the projection at the sliding vertices
 * (zero elsewhere): B g = int_boundary psi (tangential part of grad
 * phi_old)_c, as movement's two EquationBCs add up to on a side. */
static lt_status ma_slide_values(ma_state *st, int c, double *g)
{
    const lt_mesh *m = st->xi;
    memset(g, 0, sizeof(double) * (size_t)st->n);
    if (!st->nslide)
        return LT_OK;
    for (int e = 0; e < m->nb; e++) {
        const int *ab = m->bedge + 2 * e;
        if (!st->slide[ab[0]] && !st->slide[ab[1]])
            continue;
        double gr[3][2], n[2], gp[2] = {0, 0};
        fem_geom(m, st->tri_of[e], gr);
        const int *t = m->tri + 3 * st->tri_of[e];
        for (int j = 0; j < 3; j++)
            for (int d = 0; d < 2; d++)
                gp[d] += st->phi_old[t[j]] * gr[j][d];
        double len = fem_edge_normal(m, e, n), gn = gp[0] * n[0] + gp[1] * n[1];
        for (int end = 0; end < 2; end++)
            if (st->slide[ab[end]])
                g[ab[end]] += 0.5 * len * (gp[c] - gn * n[c]);
    }
    return lt_spchol_solve(st->B, g, g);
}

/* Impose the known values g of component c (zero where pinned) on the
 * projection's right-hand side b: the domain rows lose their couplings to
 * the known vertices (the matrix's columns were cleared). */
static void ma_lift(const ma_state *st, int c, const double *g, double *b)
{
    const uint8_t *known = st->known[c];
    for (int j = 0; j < st->n && st->nslide; j++) {
        if (!st->slide[j] || g[j] == 0)
            continue;
        for (int p = st->Mfull.colptr[j]; p < st->Mfull.colptr[j + 1]; p++)
            if (!known[st->Mfull.row[p]])
                b[st->Mfull.row[p]] -= st->Mfull.val[p] * g[j];
    }
    for (int i = 0; i < st->n; i++)
        if (known[i])
            b[i] = g[i];
}

/* Step 1: grad phi_old projected, x = xi + grad. */
static lt_status ma_project(ma_state *st)
{
    const lt_mesh *m = st->xi;
    for (int c = 0; c < 2; c++)
        memset(st->grad[c], 0, sizeof(double) * (size_t)st->n);
    for (int k = 0; k < m->nt; k++) {
        double g[3][2], area = fem_geom(m, k, g), gp[2] = {0, 0};
        const int *t = m->tri + 3 * k;
        for (int j = 0; j < 3; j++)
            for (int c = 0; c < 2; c++)
                gp[c] += st->phi_old[t[j]] * g[j][c];
        for (int j = 0; j < 3; j++)
            for (int c = 0; c < 2; c++)
                st->grad[c][t[j]] += area / 3 * gp[c];
    }
    for (int c = 0; c < 2; c++) {
        lt_status s = ma_slide_values(st, c, st->r);
        if (s != LT_OK)
            return s;
        ma_lift(st, c, st->r, st->grad[c]);
        s = lt_spchol_solve(st->Mc[c], st->grad[c], st->grad[c]);
        if (s != LT_OK)
            return s;
    }
    for (int i = 0; i < st->n; i++)
        for (int c = 0; c < 2; c++)
            st->x->xy[2 * i + c] = m->xy[2 * i + c] + st->grad[c][i];
    return LT_OK;
}

/* m det(I + sigma_old) at quadrature point q of triangle t. */
static double ma_density(const ma_state *st, const int *t, const double *b)
{
    double mv = 0, s[4] = {0, 0, 0, 0};
    for (int j = 0; j < 3; j++) {
        mv += b[j] * st->mon[t[j]];
        for (int c = 0; c < 4; c++)
            s[c] += b[j] * st->sigma_old[4 * t[j] + c];
    }
    return mv * ((1 + s[0]) * (1 + s[3]) - s[1] * s[2]);
}

/* Steps 2-3: theta, the residual vector R (in st->r) and |R| / |T|. */
static double ma_residual(ma_state *st)
{
    const lt_mesh *m = st->xi;
    const fem_rule *r = &fem_rule4;
    double theta = 0;
    for (int k = 0; k < m->nt; k++) {
        double g[3][2], area = fem_geom(m, k, g);
        for (int q = 0; q < r->n; q++)
            theta += r->w[q] * area * ma_density(st, m->tri + 3 * k, r->bary[q]);
    }
    theta /= st->area;
    memset(st->r, 0, sizeof(double) * (size_t)st->n);
    memset(st->tmp, 0, sizeof(double) * (size_t)st->n);
    for (int k = 0; k < m->nt; k++) {
        double g[3][2], area = fem_geom(m, k, g);
        const int *t = m->tri + 3 * k;
        for (int q = 0; q < r->n; q++) {
            double v = ma_density(st, t, r->bary[q]) - theta;
            for (int j = 0; j < 3; j++)
                st->r[t[j]] += r->w[q] * area * v * r->bary[q][j];
        }
        for (int j = 0; j < 3; j++)
            st->tmp[t[j]] += area / 3 * theta;
    }
    double nr = 0, nt = 0;
    for (int i = 0; i < st->n; i++) {
        nr += st->r[i] * st->r[i];
        nt += st->tmp[i] * st->tmp[i];
    }
    return sqrt(nr) / sqrt(nt);
}

/* Step 4: the pseudo-timestep for phi and the recovery of sigma. */
static lt_status ma_relax(ma_state *st, double dt)
{
    int n = st->n;
    lt_sparse_mv(&st->K, st->phi_old, st->tmp);
    double mean = 0;
    for (int i = 0; i < n; i++) {
        st->tmp[i] += dt * st->r[i];
        mean += st->tmp[i];
    }
    mean /= n;
    for (int i = 0; i < n; i++)
        st->tmp[i] -= mean;
    st->tmp[0] = 0; /* the pinned vertex */
    lt_status s = lt_spchol_solve(st->Kp, st->tmp, st->phi);
    if (s != LT_OK)
        return s;
    mean = 0;
    for (int i = 0; i < n; i++)
        mean += st->phi[i];
    mean /= n;
    for (int i = 0; i < n; i++)
        st->phi[i] -= mean;
    s = fem_hessian_rhs(st->xi, st->phi, true, st->sigma);
    for (int c = 0; c < 4 && s == LT_OK; c++) {
        for (int i = 0; i < n; i++)
            st->tmp[i] = st->sigma[4 * i + c];
        s = lt_spchol_solve(st->M, st->tmp, st->tmp);
        for (int i = 0; i < n; i++)
            st->sigma[4 * i + c] = st->tmp[i];
    }
    memcpy(st->phi_old, st->phi, sizeof(double) * (size_t)n);
    memcpy(st->sigma_old, st->sigma, sizeof(double) * 4 * (size_t)n);
    return s;
}

static lt_status ma_monitor(ma_state *st, lt_monitor_fn fn, void *ud, int it)
{
    lt_status s = fn(ud, st->x, st->mon);
    if (s != LT_OK)
        return s;
    for (int i = 0; i < st->n; i++)
        if (!isfinite(st->mon[i]))
            return lt_set_error(LT_ERR_NAN, "monge-ampere: monitor value %g at "
                                "vertex %d (iteration %d): a monitor must be "
                                "finite", st->mon[i], i, it);
    return LT_OK;
}

static lt_status ma_loop(ma_state *st, lt_monitor_fn fn, void *ud,
                         const lt_ma_opts *o, lt_ma_result *res)
{
    double first = 0;
    for (int i = 0; i < o->maxiter; i++) {
        lt_status s = ma_project(st);
        if (s == LT_OK)
            s = ma_monitor(st, fn, ud, i);
        if (s != LT_OK)
            return s;
        double rr = ma_residual(st);
        res->residual[i] = rr;
        res->iters = i + 1;
        if (i == 0)
            first = rr;
        if (rr < o->rtol) {
            res->converged = true;
            return LT_OK;
        }
        if (!(rr <= o->dtol * first))
            return lt_set_error(LT_ERR_STATE, "monge-ampere: diverged at "
                                "iteration %d (residual %.3g > %g x the first "
                                "%.3g)", i + 1, rr, o->dtol, first);
        if (i == o->maxiter - 1)
            return lt_set_error(LT_ERR_STATE, "monge-ampere: no convergence in "
                                "%d iterations (residual %.3g, rtol %g)",
                                o->maxiter, rr, o->rtol);
        s = ma_relax(st, o->pseudo_dt);
        if (s != LT_OK)
            return s;
    }
    return LT_OK;
}

static lt_status ma_check(const lt_mesh *mesh, const lt_ma_opts *o)
{
    if (!(o->pseudo_dt > 0) || !(o->rtol > 0) || !(o->dtol > 0) ||
        o->maxiter < 1 || o->npin_tags < 0 || (o->npin_tags && !o->pin_tags))
        return lt_set_error(LT_ERR_ARG, "monge-ampere: bad options (dt %g, "
                            "rtol %g, dtol %g, maxiter %d)", o->pseudo_dt,
                            o->rtol, o->dtol, o->maxiter);
    int bad = lt_mesh_count_tangled(mesh);
    if (bad)
        return lt_set_error(LT_ERR_ARG, "monge-ampere: the input mesh is "
                            "inverted (%d of %d cells with area <= 0)", bad,
                            mesh->nt);
    return LT_OK;
}

lt_status lt_ma_move(const lt_mesh *mesh, lt_monitor_fn monitor, void *ud,
                     const lt_ma_opts *o, lt_mesh *moved, lt_ma_result *res)
{
    lt_ma_result local = {0};
    if (!res)
        res = &local;
    memset(res, 0, sizeof *res);
    double t0 = lt_clock_seconds();
    memset(moved, 0, sizeof *moved);
    lt_status s = ma_check(mesh, o);
    if (s != LT_OK)
        return s;
    int n = mesh->nv;
    ma_state st = {.xi = mesh, .x = moved, .n = n};
    s = lt_mesh_copy(moved, mesh);
    double *buf = calloc(16 * (size_t)n, sizeof(double));
    uint8_t *fix = calloc(5 * (size_t)n, 1);
    st.tri_of = malloc(sizeof(int) * (size_t)(mesh->nb ? mesh->nb : 1));
    res->residual = calloc((size_t)o->maxiter, sizeof(double));
    if (s == LT_OK && (!buf || !fix || !res->residual || !st.tri_of))
        s = lt_set_error(LT_ERR_NOMEM, "monge-ampere: out of memory");
    if (s == LT_OK) {
        st.phi = buf, st.phi_old = buf + n, st.grad[0] = buf + 2 * n;
        st.grad[1] = buf + 3 * n, st.mon = buf + 4 * n, st.r = buf + 5 * n;
        st.tmp = buf + 6 * n, st.sigma = buf + 8 * n, st.sigma_old = buf + 12 * n;
        st.fix[0] = fix, st.fix[1] = fix + n, st.slide = fix + 2 * n;
        st.known[0] = fix + 3 * n, st.known[1] = fix + 4 * n;
        for (int k = 0; k < mesh->nt; k++)
            st.area += lt_mesh_tri_area(mesh, k);
        ma_fixed(&st, o);
        s = fem_boundary_tris(mesh, st.tri_of);
    }
    if (s == LT_OK)
        s = ma_warm_load(o->warm, &st);
    if (s == LT_OK)
        s = ma_factor(&st);
    if (s == LT_OK) {
        s = ma_loop(&st, monitor, ud, o, res);
        lt_status w = ma_warm_save(o->warm, &st);
        s = s != LT_OK ? s : w;
    }
    if (moved->xy)
        res->tangled = lt_mesh_count_tangled(moved);
    res->seconds = lt_clock_seconds() - t0;
    lt_sparse_free(&st.K);
    lt_sparse_free(&st.Mfull);
    lt_spchol_free(st.B);
    free(st.tri_of);
    lt_spchol_free(st.Kp);
    lt_spchol_free(st.M);
    lt_spchol_free(st.Mc[0]);
    lt_spchol_free(st.Mc[1]);
    free(buf);
    free(fix);
    if (res == &local)
        lt_ma_result_free(&local);
    return s;
}
