/*
 * stats.c - the two-sample Kolmogorov-Smirnov test as scipy.stats.ks_2samp
 * computes it by default, the limiting Kolmogorov distribution and the
 * harmonic mean (TOFU's forget quality and model utility), and the
 * Wilson score interval of a proportion (attack success rates). See
 * lethe/stats.h.
 */
#include "lethe/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ST_PI 3.14159265358979323846

static int64_t st_gcd(int64_t a, int64_t b)
{
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* floor(a / b) for b > 0 and any sign of a. */
static int64_t st_floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

static int st_cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* P(D_{n,n} >= h/n): 2 (A0 (1 - A1 (1 - A2 (...)))), the alternating
 * reflection series divided through by binom(2n, n), in Horner form. */
static double st_prob_outside_square(int64_t n, int64_t h)
{
    double P = 0.0;
    for (int64_t k = n / h; k >= 0; k--) {
        double p1 = 1.0;
        for (int64_t j = 0; j < h; j++)
            p1 = (double)(n - k * h - j) * p1 / (double)(n + k * h + j + 1);
        P = p1 * (1.0 - P);
    }
    return 2.0 * P;
}

/* Fraction of monotone lattice paths from (0,0) to (m,n) (m >= n) that
 * touch |ng i - mg j| >= h, column by column: col[j] holds that fraction
 * for the paths ending at (i, j); a point outside the band counts as 1. */
static double st_prob_outer(int64_t m, int64_t n, int64_t g, int64_t h)
{
    int64_t mg = m / g, ng = n / g;
    double *col = malloc((size_t)(n + 1) * sizeof *col);
    if (!col)
        return NAN;
    for (int64_t j = 0; j <= n; j++)
        col[j] = mg * j < h ? 0.0 : 1.0;
    double p = NAN;
    for (int64_t i = 1; i <= m; i++) {
        int64_t lo = st_floordiv(ng * i - h, mg) + 1;
        lo = lo < 0 ? 0 : lo > n ? n : lo;
        int64_t hi = (ng * i + h + mg - 1) / mg; /* exclusive */
        hi = hi > n + 1 ? n + 1 : hi;
        if (hi <= lo) {
            p = 1.0;
            break;
        }
        for (int64_t j = 0; j < lo; j++)
            col[j] = 1.0;
        double val = lo == 0 ? 0.0 : 1.0;
        for (int64_t j = lo; j < hi; j++) {
            val = (col[j] * (double)i + val * (double)j) / (double)(i + j);
            col[j] = val;
        }
        for (int64_t j = hi; j <= n; j++)
            col[j] = 1.0;
        if (i == m)
            p = col[n];
    }
    free(col);
    return p;
}

double lt_ks_2samp_exact_p(int64_t n, int64_t m, int64_t h)
{
    if (n < 1 || m < 1 || h < 0)
        return NAN;
    int64_t g = st_gcd(n, m);
    if (h > (n / g) * m)
        return NAN;
    if (h == 0)
        return 1.0;
    if (n == m)
        return st_prob_outside_square(n, h);
    return n > m ? st_prob_outer(n, m, g, h) : st_prob_outer(m, n, g, h);
}

double lt_kolmogorov_sf(double x)
{
    if (!(x > 0.0))
        return 1.0;
    if (x < 1.0) { /* 1 - CDF, CDF by the Jacobi theta form */
        double s = 0.0, f = ST_PI * ST_PI / (8.0 * x * x);
        for (int k = 1; k < 100; k++) {
            double t = exp(-(double)(2 * k - 1) * (2 * k - 1) * f);
            s += t;
            if (t < 1e-17 * s)
                break;
        }
        return 1.0 - sqrt(2.0 * ST_PI) / x * s;
    }
    double s = 0.0;
    for (int k = 1; k < 100; k++) {
        double t = exp(-2.0 * k * k * x * x);
        s += (k % 2 ? t : -t);
        if (t < 1e-17)
            break;
    }
    return 2.0 * s;
}

/* D of sorted samples as scipy: max(max diff, clip(-min diff, 0, 1)) of
 * the right-continuous ECDFs evaluated at every data point. */
static double st_ks_stat(const double *a, int64_t n, const double *b,
                         int64_t m)
{
    int64_t i = 0, j = 0;
    double mx = -INFINITY, mn = INFINITY;
    while (i < n || j < m) {
        double v = j == m || (i < n && a[i] <= b[j]) ? a[i] : b[j];
        while (i < n && a[i] == v)
            i++;
        while (j < m && b[j] == v)
            j++;
        double d = (double)i / (double)n - (double)j / (double)m;
        mx = d > mx ? d : mx;
        mn = d < mn ? d : mn;
    }
    double lo = -mn < 0.0 ? 0.0 : -mn > 1.0 ? 1.0 : -mn;
    return lo > mx ? lo : mx;
}

lt_status lt_ks_2samp(const double *a, int64_t n, const double *b, int64_t m,
                      double *stat, double *pvalue)
{
    if (!a || !b || n < 1 || m < 1)
        return lt_set_error(LT_ERR_ARG, "ks_2samp: need two non-empty "
                            "samples (got %lld and %lld values)",
                            (long long)n, (long long)m);
    for (int64_t i = 0; i < n + m; i++)
        if (isnan(i < n ? a[i] : b[i - n]))
            return lt_set_error(LT_ERR_ARG, "ks_2samp: NaN in sample %d "
                                "(value %lld)", i < n ? 1 : 2,
                                (long long)(i < n ? i : i - n));
    double *x = malloc((size_t)(n + m) * sizeof *x);
    if (!x)
        return lt_set_error(LT_ERR_NOMEM, "ks_2samp: out of memory");
    memcpy(x, a, (size_t)n * sizeof *x);
    memcpy(x + n, b, (size_t)m * sizeof *x);
    qsort(x, (size_t)n, sizeof *x, st_cmp_double);
    qsort(x + n, (size_t)m, sizeof *x, st_cmp_double);
    double d = st_ks_stat(x, n, x + n, m), p = NAN;
    free(x);
    if ((n > m ? n : m) <= LT_KS_MAX_EXACT_N) {
        int64_t lcm = (n / st_gcd(n, m)) * m;
        int64_t h = (int64_t)rint(d * (double)lcm);
        double de = (double)h / (double)lcm;
        p = lt_ks_2samp_exact_p(n, m, h);
        if (p >= 0.0 && p <= 1.0)
            d = de;
    }
    if (!(p >= 0.0 && p <= 1.0)) {
        double en = (double)n * (double)m / (double)(n + m);
        p = lt_kolmogorov_sf(sqrt(en) * d);
    }
    if (stat)
        *stat = d;
    if (pvalue)
        *pvalue = p < 0.0 ? 0.0 : p > 1.0 ? 1.0 : p;
    return LT_OK;
}

double lt_harmonic_mean(const double *x, int64_t n)
{
    if (!x || n < 1)
        return NAN;
    double s = 0.0;
    bool zero = false;
    for (int64_t i = 0; i < n; i++) {
        if (isnan(x[i]) || x[i] < 0.0)
            return NAN;
        if (x[i] == 0.0)
            zero = true;
        else
            s += 1.0 / x[i];
    }
    return zero ? 0.0 : (double)n / s;
}

lt_status lt_wilson_interval(int64_t k, int64_t n, double z, double *lo,
                             double *hi)
{
    if (n < 1 || k < 0 || k > n || !(z > 0))
        return lt_set_error(LT_ERR_ARG, "wilson interval: %lld of %lld "
                            "trials at z %g", (long long)k, (long long)n, z);
    double nn = (double)n, kk = (double)k, z2 = z * z;
    double centre = (kk + z2 / 2) / (nn + z2);
    double half = z * sqrt(kk * (nn - kk) / nn + z2 / 4) / (nn + z2);
    if (lo)
        *lo = centre - half < 0 ? 0 : centre - half;
    if (hi)
        *hi = centre + half > 1 ? 1 : centre + half;
    return LT_OK;
}
