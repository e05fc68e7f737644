/*
 * helmholtz.c - the data UM2N trains on: random sums of anisotropic
 * Gaussians drawn with the distributions and the 3-decimal rounding of its
 * RandSourceGenerator (build_helmholtz_square.py's settings), the Helmholtz
 * problem -lap u + u = f whose exact solution is that field (f from the
 * field's derivatives, Dirichlet data from its boundary values), its P1
 * solve, the Hessian-based monitor 1 + 5 |H|_F^2 / max |H|_F^2, and the
 * loader's per-sample max-abs feature normalisation.
 */
#include "fem_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FIELD_PI 3.14159265358979323846

/* The settings of build_helmholtz_square.py (aniso, "full" scheme). */
#define FIELD_C_MIN 0.0
#define FIELD_C_MAX 1.0
#define FIELD_Z_MIN 0.0
#define FIELD_Z_MAX 1.0
#define FIELD_W_MIN 0.05
#define FIELD_W_MAX 0.2
#define FIELD_SIGMA_MEAN 0.25       /* sigma_mean_scaler x domain width */
#define FIELD_SIGMA_STD (1.0 / 6)   /* sigma_sigma_scaler */
#define FIELD_SIGMA_MIN 0.125       /* sigma_eps */
/* The monitor's weight: m = 1 + MONITOR_BETA |H|^2 / max |H|^2. */
#define MONITOR_BETA 5.0

static double rng_unit(lt_rng *r) /* [0, 1) with 53 bits */
{
    return (double)(lt_rng_u64(r) >> 11) * 0x1.0p-53;
}

static double rng_gauss(lt_rng *r, double mu, double sigma)
{
    double u1 = rng_unit(r), u2 = rng_unit(r);
    return mu + sigma * sqrt(-2 * log(1 - u1)) * cos(2 * FIELD_PI * u2);
}

/* Python's round(x, 3) up to ties of the binary value. */
static double round3(double x)
{
    return round(x * 1000) / 1000;
}

static double uniform3(lt_rng *r, double lo, double hi)
{
    return round3(lo + (hi - lo) * rng_unit(r));
}

lt_status lt_gauss_field_random(lt_gauss_field *f, lt_rng *r, int max_bumps,
                                int n_fixed, bool iso)
{
    memset(f, 0, sizeof *f);
    if (max_bumps < 1 || max_bumps > LT_FIELD_MAX_BUMPS || n_fixed < 0 ||
        n_fixed > LT_FIELD_MAX_BUMPS)
        return lt_set_error(LT_ERR_ARG, "gauss field: %d bumps at most, %d "
                            "fixed: expected 1..%d", max_bumps, n_fixed,
                            LT_FIELD_MAX_BUMPS);
    f->n = n_fixed ? n_fixed : 1 + (int)lt_rng_below(r, (uint64_t)max_bumps);
    f->iso = iso;
    for (int i = 0; i < f->n; i++) {
        f->mx[i] = uniform3(r, FIELD_C_MIN, FIELD_C_MAX);
        f->my[i] = uniform3(r, FIELD_C_MIN, FIELD_C_MAX);
        f->sx[i] = fmax(round3(rng_gauss(r, FIELD_SIGMA_MEAN, FIELD_SIGMA_STD)),
                        FIELD_SIGMA_MIN);
        f->sy[i] = fmax(round3(rng_gauss(r, FIELD_SIGMA_MEAN, FIELD_SIGMA_STD)),
                        FIELD_SIGMA_MIN);
        f->z[i] = uniform3(r, FIELD_Z_MIN, FIELD_Z_MAX);
        f->w[i] = uniform3(r, FIELD_W_MIN, FIELD_W_MAX);
    }
    return LT_OK;
}

/* Bump i: value, gradient and Laplacian. */
static double bump(const lt_gauss_field *f, int i, double x, double y,
                   double g[2], double *lap)
{
    double dx = x - f->mx[i], dy = y - f->my[i];
    if (f->iso) {
        double w = f->w[i], v = exp(-(dx * dx + dy * dy) / w);
        g[0] = -2 * dx / w * v;
        g[1] = -2 * dy / w * v;
        *lap = v * (4 * (dx * dx + dy * dy) / (w * w) - 4 / w);
        return v;
    }
    double ax = f->sx[i] * f->sx[i], ay = f->sy[i] * f->sy[i];
    double v = f->z[i] * exp(-(dx * dx / ax + dy * dy / ay));
    g[0] = -2 * dx / ax * v;
    g[1] = -2 * dy / ay * v;
    *lap = v * (4 * dx * dx / (ax * ax) - 2 / ax + 4 * dy * dy / (ay * ay) -
                2 / ay);
    return v;
}

double lt_gauss_field_u(void *field, double x, double y, double *grad)
{
    const lt_gauss_field *f = field;
    double u = 0, gs[2] = {0, 0}, g[2], lap;
    for (int i = 0; i < f->n; i++) {
        u += bump(f, i, x, y, g, &lap);
        gs[0] += g[0];
        gs[1] += g[1];
    }
    if (grad) {
        grad[0] = gs[0];
        grad[1] = gs[1];
    }
    return u;
}

double lt_gauss_field_f(void *field, double x, double y, double *grad)
{
    (void)grad;
    const lt_gauss_field *f = field;
    double s = 0, g[2], lap;
    for (int i = 0; i < f->n; i++) {
        double v = bump(f, i, x, y, g, &lap);
        s += v - lap;
    }
    return s;
}

lt_status lt_helmholtz_solve(const lt_mesh *m, const lt_gauss_field *f,
                             double *u)
{
    lt_sparse A;
    lt_status s = lt_sparse_p1(m, &A);
    if (s != LT_OK)
        return s;
    double *b = malloc(sizeof(double) * 2 * (size_t)m->nv);
    uint8_t *fixed = malloc((size_t)m->nv);
    lt_spchol *L = NULL;
    if (!b || !fixed) {
        s = lt_set_error(LT_ERR_NOMEM, "helmholtz: out of memory");
        goto done;
    }
    double *g = b + m->nv;
    s = lt_fem_assemble(m, 1, 1, &A);
    if (s != LT_OK)
        goto done;
    lt_fem_load(m, lt_gauss_field_f, (void *)f, b);
    lt_mesh_boundary_mask(m, fixed);
    for (int i = 0; i < m->nv; i++)
        g[i] = lt_gauss_field_u((void *)f, m->xy[2 * i], m->xy[2 * i + 1], NULL);
    lt_sparse_dirichlet(&A, fixed, g, b);
    s = lt_spchol_factor(&A, &L);
    if (s == LT_OK)
        s = lt_spchol_solve(L, b, u);
done:
    lt_spchol_free(L);
    lt_sparse_free(&A);
    free(b);
    free(fixed);
    return s;
}

/* rhs_i = int psi_i |H|_F^2 with H the P1 tensor field (exact, degree 4). */
static void frobenius_rhs(const lt_mesh *m, const double *H, double *rhs)
{
    memset(rhs, 0, sizeof(double) * (size_t)m->nv);
    const fem_rule *r = &fem_rule4;
    for (int k = 0; k < m->nt; k++) {
        double g[3][2], area = fem_geom(m, k, g);
        const int *t = m->tri + 3 * k;
        for (int q = 0; q < r->n; q++) {
            double h2 = 0;
            for (int c = 0; c < 4; c++) {
                double h = 0;
                for (int j = 0; j < 3; j++)
                    h += r->bary[q][j] * H[4 * t[j] + c];
                h2 += h * h;
            }
            for (int j = 0; j < 3; j++)
                rhs[t[j]] += r->w[q] * area * h2 * r->bary[q][j];
        }
    }
}

lt_status lt_um2n_monitor(const lt_mesh *m, const lt_gauss_field *f,
                          double *mon, double *u_out, double *H_out)
{
    int n = m->nv;
    double *u = malloc(sizeof(double) * 5 * (size_t)n);
    lt_sparse M = {0};
    lt_spchol *L = NULL;
    if (!u)
        return lt_set_error(LT_ERR_NOMEM, "monitor: out of memory");
    double *H = u + n;
    lt_status s = lt_helmholtz_solve(m, f, u);
    if (s == LT_OK)
        s = lt_sparse_p1(m, &M);
    if (s == LT_OK)
        s = lt_fem_assemble(m, 1, 0, &M);
    if (s == LT_OK)
        s = lt_spchol_factor(&M, &L);
    if (s == LT_OK)
        s = lt_fem_hessian(m, L, u, H);
    if (s == LT_OK) {
        frobenius_rhs(m, H, mon);
        s = lt_spchol_solve(L, mon, mon);
    }
    if (s == LT_OK) {
        double mx = mon[0];
        for (int i = 1; i < n; i++)
            mx = fmax(mx, mon[i]);
        if (!(mx > 0) || !isfinite(mx))
            s = lt_set_error(LT_ERR_NAN, "monitor: the Hessian norm has no "
                             "positive maximum (%g): the field is flat", mx);
        for (int i = 0; i < n && s == LT_OK; i++)
            mon[i] = 1 + MONITOR_BETA * mon[i] / mx;
    }
    if (s == LT_OK && u_out)
        memcpy(u_out, u, sizeof(double) * (size_t)n);
    if (s == LT_OK && H_out)
        memcpy(H_out, H, sizeof(double) * 4 * (size_t)n);
    lt_spchol_free(L);
    lt_sparse_free(&M);
    free(u);
    return s;
}

lt_status lt_um2n_monitor_fn(void *field, const lt_mesh *moved, double *mon)
{
    return lt_um2n_monitor(moved, field, mon, NULL, NULL);
}

lt_status lt_helmholtz_error(const lt_mesh *m, const lt_gauss_field *f,
                             double *l2, double *h1)
{
    double *u = malloc(sizeof(double) * (size_t)m->nv);
    if (!u)
        return lt_set_error(LT_ERR_NOMEM, "helmholtz: out of memory");
    lt_status s = lt_helmholtz_solve(m, f, u);
    if (s == LT_OK)
        lt_fem_errors(m, u, lt_gauss_field_u, (void *)f, l2, h1);
    free(u);
    return s;
}

void lt_features_normalise(double *x, int n, int ncols)
{
    for (int c = 0; c < ncols; c++) {
        double mx = 0;
        for (int i = 0; i < n; i++)
            mx = fmax(mx, fabs(x[(size_t)i * ncols + c]));
        if (mx > 0)
            for (int i = 0; i < n; i++)
                x[(size_t)i * ncols + c] /= mx;
    }
}
