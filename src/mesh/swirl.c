/*
 * swirl.c - the swirl case of UM2N's evaluation (UM2N/generator/
 * swirl_solver.py with the setting of script/evaluate.py): a ring carried
 * around by a swirl that reverses half-way, so the exact state at T is the
 * initial one; DG1 upwind advection with SSPRK3 (dg.c); the monitor the
 * solver hands to the Monge-Ampere mover (gradient and Hessian recovery of
 * the DG field, the max of the weighted normalised norms, the elliptic
 * smoother, plus one); and the run on a fixed mesh or on one moved by MA
 * every step, warm-started from the previous step, the field carried from
 * mesh to mesh by the conservative remap (remap.c).
 */
#include "fem_internal.h"
#include "lethe/swirl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SW_PI 3.14159265358979323846

void lt_swirl_cfg_default(lt_swirl_cfg *c)
{
    c->sigma = 0.05 / 3;
    c->r0 = 0.2;
    c->x0 = 0.3;
    c->y0 = 0.3;
    c->alpha = 0.9;
    c->dt = 1e-3;
    c->steps = 1000;
    c->n_smooth = 10;
    c->hess_w = 5;
    c->grad_w = 10;
    c->move = true;
    lt_ma_opts_default(&c->ma);
}

double lt_swirl_u0(void *cfg, double x, double y, double *grad)
{
    const lt_swirl_cfg *c = cfg;
    double dx = x - c->x0, dy = y - c->y0, r = sqrt(dx * dx + dy * dy);
    double d = r - c->r0, u = exp(-d * d / (2 * c->sigma * c->sigma));
    if (grad) {
        double f = r > 0 ? -u * d / (c->sigma * c->sigma * r) : 0;
        grad[0] = f * dx;
        grad[1] = f * dy;
    }
    return u;
}

void lt_swirl_velocity(const lt_swirl_cfg *c, int step, const lt_mesh *m,
                       double *vel)
{
    double a = step < c->steps / 2 ? c->alpha : -c->alpha;
    for (int i = 0; i < m->nv; i++) {
        double x = m->xy[2 * i], y = m->xy[2 * i + 1];
        double sx = sin(SW_PI * x), sy = sin(SW_PI * y);
        vel[2 * i] = a * sx * sx * sin(2 * SW_PI * y);
        vel[2 * i + 1] = -a * sy * sy * sin(2 * SW_PI * x);
    }
}

/* The P1 mass matrix of m, factorised. */
static lt_status sw_mass(const lt_mesh *m, lt_spchol **f)
{
    lt_sparse M = {0};
    lt_status s = lt_sparse_p1(m, &M);
    if (s == LT_OK)
        s = lt_fem_assemble(m, 1, 0, &M);
    if (s == LT_OK)
        s = lt_spchol_factor(&M, f);
    lt_sparse_free(&M);
    return s;
}

lt_status lt_mesh_cell_size_mean(const lt_mesh *m, double *h)
{
    double *b = calloc((size_t)m->nv, sizeof(double));
    lt_spchol *M = NULL;
    lt_status s = b ? sw_mass(m, &M)
                    : lt_set_error(LT_ERR_NOMEM, "cell size: out of memory");
    for (int k = 0; k < m->nt && s == LT_OK; k++) {
        const int *t = m->tri + 3 * k;
        double len[3], area = fabs(lt_mesh_tri_area(m, k));
        for (int j = 0; j < 3; j++) {
            const double *p = m->xy + 2 * t[j], *q = m->xy + 2 * t[(j + 1) % 3];
            len[j] = hypot(q[0] - p[0], q[1] - p[1]);
        }
        double diam = 2 * len[0] * len[1] * len[2] / (4 * area);
        for (int j = 0; j < 3; j++)
            b[t[j]] += area / 3 * diam;
    }
    if (s == LT_OK)
        s = lt_spchol_solve(M, b, b);
    double sum = 0;
    for (int i = 0; i < m->nv && s == LT_OK; i++)
        sum += b[i];
    *h = sum / m->nv;
    lt_spchol_free(M);
    free(b);
    return s;
}

/* g (2 nv, g[2i + c]): the P1 L2 projection of the gradient of the DG1
 * field u, int g_c psi = -sum_K int_K u d_c psi + int_boundary u psi n_c. */
static lt_status sw_gradient(const lt_mesh *m, lt_spchol *M, const double *u,
                             const int *tri_of, double *g, double *col)
{
    int n = m->nv;
    memset(g, 0, sizeof(double) * 2 * (size_t)n);
    for (int k = 0; k < m->nt; k++) {
        double gr[3][2], area = fem_geom(m, k, gr);
        double mean = (u[3 * k] + u[3 * k + 1] + u[3 * k + 2]) / 3;
        for (int j = 0; j < 3; j++)
            for (int c = 0; c < 2; c++)
                g[2 * m->tri[3 * k + j] + c] -= gr[j][c] * area * mean;
    }
    for (int e = 0; e < m->nb; e++) {
        double nrm[2], len = fem_edge_normal(m, e, nrm);
        int k = tri_of[e], v[2] = {m->bedge[2 * e], m->bedge[2 * e + 1]};
        double ue[2] = {0, 0};
        for (int end = 0; end < 2; end++)
            for (int j = 0; j < 3; j++)
                if (m->tri[3 * k + j] == v[end])
                    ue[end] = u[3 * k + j];
        for (int end = 0; end < 2; end++)
            for (int c = 0; c < 2; c++)
                g[2 * v[end] + c] += len / 6 * (2 * ue[end] + ue[1 - end]) * nrm[c];
    }
    for (int c = 0; c < 2; c++) {
        for (int i = 0; i < n; i++)
            col[i] = g[2 * i + c];
        lt_status s = lt_spchol_solve(M, col, col);
        if (s != LT_OK)
            return s;
        for (int i = 0; i < n; i++)
            g[2 * i + c] = col[i];
    }
    return LT_OK;
}

/* f[i] = |H|_F^2 at vertex i, H the P1 projection of grad g. */
static lt_status sw_hessian_norm(const lt_mesh *m, lt_spchol *M,
                                 const double *g, double *f, double *col)
{
    int n = m->nv;
    memset(f, 0, sizeof(double) * (size_t)n);
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++) {
            memset(col, 0, sizeof(double) * (size_t)n);
            for (int k = 0; k < m->nt; k++) {
                double gr[3][2], area = fem_geom(m, k, gr), d = 0;
                const int *t = m->tri + 3 * k;
                for (int j = 0; j < 3; j++)
                    d += g[2 * t[j] + a] * gr[j][b];
                for (int j = 0; j < 3; j++)
                    col[t[j]] += area / 3 * d;
            }
            lt_status s = lt_spchol_solve(M, col, col);
            if (s != LT_OK)
                return s;
            for (int i = 0; i < n; i++)
                f[i] += col[i] * col[i];
        }
    return LT_OK;
}

/* q[i] = |grad u|^2 on the last cell (in cell order) holding vertex i. */
static void sw_grad_norm(const lt_mesh *m, const double *u, double *q)
{
    for (int k = 0; k < m->nt; k++) {
        double gr[3][2], gu[2] = {0, 0};
        fem_geom(m, k, gr);
        for (int j = 0; j < 3; j++)
            for (int c = 0; c < 2; c++)
                gu[c] += u[3 * k + j] * gr[j][c];
        for (int j = 0; j < 3; j++)
            q[m->tri[3 * k + j]] = gu[0] * gu[0] + gu[1] * gu[1];
    }
}

static void sw_normalise(double *x, int n)
{
    double mx = 0;
    for (int i = 0; i < n; i++)
        mx = fmax(mx, x[i]);
    for (int i = 0; i < n && mx > 0; i++)
        x[i] /= mx;
}

/* mon = 1 + the solution of (K grad s, grad v) + (s, v) = (w, v), s = w on
 * the boundary. */
static lt_status sw_smooth(const lt_mesh *m, double kappa, const double *w,
                           double *mon)
{
    lt_sparse A = {0}, M = {0};
    lt_spchol *f = NULL;
    uint8_t *on = malloc((size_t)m->nv);
    lt_status s = on ? lt_sparse_p1(m, &A)
                     : lt_set_error(LT_ERR_NOMEM, "swirl: out of memory");
    if (s == LT_OK)
        s = lt_sparse_p1(m, &M);
    if (s == LT_OK)
        s = lt_fem_assemble(m, 1, 0, &M);
    if (s == LT_OK)
        s = lt_fem_assemble(m, 1, kappa, &A);
    if (s == LT_OK) {
        lt_sparse_mv(&M, w, mon);
        lt_mesh_boundary_mask(m, on);
        lt_sparse_dirichlet(&A, on, w, mon);
        s = lt_spchol_factor(&A, &f);
    }
    if (s == LT_OK)
        s = lt_spchol_solve(f, mon, mon);
    for (int i = 0; i < m->nv && s == LT_OK; i++)
        mon[i] += 1;
    lt_spchol_free(f);
    lt_sparse_free(&A);
    lt_sparse_free(&M);
    free(on);
    return s;
}

lt_status lt_swirl_monitor(const lt_swirl_cfg *c, const lt_mesh *m,
                           const double *u, double h, double *mon)
{
    int n = m->nv;
    double *buf = malloc(sizeof(double) * 6 * (size_t)n);
    int *tri_of = malloc(sizeof(int) * (size_t)(m->nb ? m->nb : 1));
    lt_spchol *M = NULL;
    lt_status s = buf && tri_of ? fem_boundary_tris(m, tri_of)
                                : lt_set_error(LT_ERR_NOMEM, "swirl: out of memory");
    if (s == LT_OK)
        s = sw_mass(m, &M);
    double *g = buf, *f = buf + 2 * (size_t)n, *q = buf + 3 * (size_t)n,
           *col = buf + 4 * (size_t)n, *w = buf + 5 * (size_t)n;
    if (s == LT_OK)
        s = sw_gradient(m, M, u, tri_of, g, col);
    if (s == LT_OK)
        s = sw_hessian_norm(m, M, g, f, col);
    if (s == LT_OK) {
        sw_grad_norm(m, u, q);
        sw_normalise(f, n);
        sw_normalise(q, n);
        for (int i = 0; i < n; i++)
            w[i] = fmax(c->hess_w * f[i], c->grad_w * q[i]);
        s = sw_smooth(m, c->n_smooth * h * h / 4, w, mon);
    }
    lt_spchol_free(M);
    free(buf);
    free(tri_of);
    return s;
}
