/*
 * lethe/stats.h - statistics the evaluations need (eval layer): the
 * two-sample Kolmogorov-Smirnov test exactly as scipy.stats.ks_2samp
 * computes it (TOFU's forget quality is its p-value) and the harmonic mean
 * as scipy.stats.hmean (TOFU's model utility).
 */
#ifndef LETHE_STATS_H
#define LETHE_STATS_H

#include "lethe/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Sample sizes up to which ks_2samp's default method ('auto') is exact. */
#define LT_KS_MAX_EXACT_N 10000

/* Two-sided two-sample KS test of a[0..n) against b[0..m), as
 * scipy.stats.ks_2samp(a, b) with its defaults (alternative 'two-sided',
 * method 'auto'):
 *   D = max over all data points x of |F_a(x) - F_b(x)| with
 *       right-continuous empirical CDFs (ties handled as scipy does);
 *   if max(n, m) <= LT_KS_MAX_EXACT_N: h = round(D * lcm(n, m)) (half to
 *       even), D = h / lcm, and the p-value is the exact P(D_{n,m} >= D)
 *       under the null: for n == m scipy's _compute_prob_outside_square
 *       (alternating series in Horner form), otherwise the lattice-path
 *       recursion of _compute_outer_prob_inside_method (fraction of
 *       monotone paths from (0,0) to (n,m) that leave the band
 *       |i/n - j/m| < D); h == 0 gives 1;
 *   beyond that size (or if the exact value falls outside [0, 1]): the
 *       limiting Kolmogorov distribution at sqrt(n m / (n + m)) D (scipy
 *       uses the finite-sample kstwo.sf(D, round(nm/(n+m))) there; the two
 *       differ by O(1/sqrt(nm/(n+m)))).
 * The p-value is clipped to [0, 1]. stat or pvalue may be NULL.
 * LT_ERR_ARG for NULL data, n or m < 1, or a NaN value; LT_ERR_NOMEM. */
LT_API lt_status lt_ks_2samp(const double *a, int64_t n, const double *b,
                             int64_t m, double *stat, double *pvalue);

/* The exact two-sided p-value P(D_{n,m} >= h / lcm(n, m)) for integer h
 * (0 <= h <= lcm), as above (no size switch). NAN on bad arguments or
 * when memory runs out. */
LT_API double lt_ks_2samp_exact_p(int64_t n, int64_t m, int64_t h);

/* Survival function of the limiting Kolmogorov distribution,
 * P(K > x) = 2 sum_{k>=1} (-1)^(k-1) exp(-2 k^2 x^2) (scipy kstwobign.sf). */
LT_API double lt_kolmogorov_sf(double x);

/* n / sum(1 / x_i) as scipy.stats.hmean: 0 when any x_i is 0 (and none is
 * negative). NAN when n < 1, x is NULL, or a value is negative or NaN. */
LT_API double lt_harmonic_mean(const double *x, int64_t n);

/* The Wilson score interval of a proportion: k successes of n trials at
 * normal quantile z (1.959964 for 95%) -> [*lo, *hi] (centre (k + z^2/2)
 * / (n + z^2), half-width z sqrt(k (n - k) / n + z^2 / 4) / (n + z^2)).
 * LT_ERR_ARG for n < 1, k outside [0, n] or z <= 0. */
LT_API lt_status lt_wilson_interval(int64_t k, int64_t n, double z,
                                    double *lo, double *hi);

#ifdef __cplusplus
}
#endif
#endif
