/*
 * test_stats.c - the two-sample Kolmogorov-Smirnov test against
 * scipy.stats.ks_2samp (tests/golden/gen_ks_2samp.py -> ks_2samp.txt),
 * hand-counted lattice-path probabilities, table values of the Kolmogorov
 * distribution, and the harmonic mean.
 */
#include "lt_test.h"
#include "lethe/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static bool near(double got, double want, double rtol)
{
    return fabs(got - want) <= rtol * fabs(want) + 1e-300;
}

/* Read one line starting with tag into vals (at most cap numbers after
 * skip leading tokens). Returns how many numbers were read, -1 on EOF. */
static int read_vals(FILE *f, const char *tag, double *vals, int cap)
{
    static char line[1 << 16];
    if (!fgets(line, sizeof line, f))
        return -1;
    size_t t = strlen(tag);
    if (strncmp(line, tag, t) || line[t] != ' ')
        return -2;
    int n = 0;
    char *p = line + t, *end;
    for (double v = strtod(p, &end); end != p && n < cap;
         v = strtod(p, &end)) {
        vals[n++] = v;
        p = end;
    }
    return n;
}

LT_TEST(ks_matches_scipy_golden)
{
    char path[512], name[64], line[256];
    snprintf(path, sizeof path, "%s/ks_2samp.txt", LT_GOLDEN_DIR);
    FILE *f = fopen(path, "r");
    LT_CHECK(f != NULL, "cannot open %s", path);
    if (!f)
        return;
    static double a[1000], b[1000];
    int cases = 0;
    long pos = ftell(f);
    while (fgets(line, sizeof line, f)) {
        int n, m;
        double stat, p;
        if (sscanf(line, "ks %63s %d %d %lf %lf", name, &n, &m, &stat, &p)
            != 5) {
            pos = ftell(f);
            continue;
        }
        (void)pos;
        LT_CHECK(n <= 1000 && m <= 1000, "%s too large", name);
        int na = read_vals(f, "a", a, 1000), nb = read_vals(f, "b", b, 1000);
        LT_CHECK(na == n && nb == m, "%s: read %d/%d values", name, na, nb);
        double gs = -1, gp = -1;
        LT_CHECK(lt_ks_2samp(a, n, b, m, &gs, &gp) == LT_OK, "%s: %s", name,
                 lt_last_error());
        LT_CHECK(near(gs, stat, 1e-12), "%s: D %.17g want %.17g", name, gs,
                 stat);
        LT_CHECK(near(gp, p, 1e-9), "%s: p %.17g want %.17g", name, gp, p);
        /* symmetric in the two samples */
        double sp = -1;
        LT_CHECK(lt_ks_2samp(b, m, a, n, NULL, &sp) == LT_OK && near(sp, p,
                 1e-9), "%s swapped: p %.17g want %.17g", name, sp, p);
        cases++;
    }
    fclose(f);
    LT_CHECK(cases == 14, "read %d KS cases, want 14", cases);
}

LT_TEST(ks_kolmogorov_and_hmean_golden)
{
    char path[512], line[1024];
    snprintf(path, sizeof path, "%s/ks_2samp.txt", LT_GOLDEN_DIR);
    FILE *f = fopen(path, "r");
    LT_CHECK(f != NULL, "cannot open %s", path);
    if (!f)
        return;
    int nk = 0, nh = 0;
    while (fgets(line, sizeof line, f)) {
        double x, sf, v[16];
        int k;
        if (sscanf(line, "kolm %lf %lf", &x, &sf) == 2) {
            double got = lt_kolmogorov_sf(x);
            LT_CHECK(fabs(got - sf) <= 1e-12 + 1e-9 * sf,
                     "kolmogorov_sf(%g) = %.17g, want %.17g", x, got, sf);
            nk++;
        } else if (sscanf(line, "hmean %d", &k) == 1 && k <= 15) {
            char *p = line + 6, *end;
            strtol(p, &end, 10);
            p = end;
            for (int i = 0; i <= k; i++) {
                v[i] = strtod(p, &end);
                p = end;
            }
            double got = lt_harmonic_mean(v, k);
            LT_CHECK(near(got, v[k], 1e-14), "hmean of %d values = %.17g, "
                     "want %.17g", k, got, v[k]);
            nh++;
        }
    }
    fclose(f);
    LT_CHECK(nk == 9 && nh == 3, "read %d kolm and %d hmean lines", nk, nh);
}

/* Hand-counted: with n = m = 3 and disjoint samples D = 1, and only the 2
 * of binom(6, 3) = 20 orderings that keep the samples apart reach it. */
LT_TEST(ks_hand_checked)
{
    double a[3] = {1, 2, 3}, b[3] = {4, 5, 6}, d, p;
    LT_CHECK(lt_ks_2samp(a, 3, b, 3, &d, &p) == LT_OK, "%s", lt_last_error());
    LT_CHECK(d == 1.0 && near(p, 0.1, 1e-14), "D %g p %.17g", d, p);
    /* n = 2, m = 3: 2 of binom(5, 2) = 10 paths separate fully. */
    LT_CHECK(near(lt_ks_2samp_exact_p(2, 3, 6), 0.2, 1e-14), "2x3");
    /* n = m: P(D >= 1) = 2 / binom(2n, n); binom(20, 10) = 184756. */
    LT_CHECK(near(lt_ks_2samp_exact_p(10, 10, 10), 2.0 / 184756.0, 1e-12),
             "10x10 %.17g", lt_ks_2samp_exact_p(10, 10, 10));
    /* h = 0 -> 1; identical samples -> D 0, p 1. */
    LT_CHECK(lt_ks_2samp_exact_p(5, 7, 0) == 1.0, "h 0");
    LT_CHECK(lt_ks_2samp(a, 3, a, 3, &d, &p) == LT_OK && d == 0 && p == 1,
             "identical: D %g p %g", d, p);
    /* n = 1, m = 1 with different values: D 1, p 1 (2 of 2 paths). */
    LT_CHECK(lt_ks_2samp(a, 1, b, 1, &d, &p) == LT_OK && d == 1 && p == 1,
             "1x1: D %g p %g", d, p);
    /* Massey's (1951) table: n = m = 10, P(D >= 0.6) = 0.0524 (rounded);
     * P(D >= 0.7) = 0.0123. */
    LT_CHECK(fabs(lt_ks_2samp_exact_p(10, 10, 6) - 0.0524) < 5e-5 &&
             fabs(lt_ks_2samp_exact_p(10, 10, 7) - 0.0123) < 5e-5,
             "n=m=10 table: %.5f %.5f", lt_ks_2samp_exact_p(10, 10, 6),
             lt_ks_2samp_exact_p(10, 10, 7));
    /* The classic critical values of the limit: K(1.3581) = 0.05,
     * K(1.6276) = 0.01. */
    LT_CHECK(fabs(lt_kolmogorov_sf(1.3581) - 0.05) < 1e-5 &&
             fabs(lt_kolmogorov_sf(1.6276) - 0.01) < 1e-5, "K table");
}

LT_TEST(ks_large_switches_to_the_limit)
{
    int64_t n = 12000, m = 11000;
    double *a = malloc((size_t)n * sizeof *a), *b = malloc((size_t)m *
                                                           sizeof *b);
    for (int64_t i = 0; i < n; i++)
        a[i] = (double)i / (double)n;
    for (int64_t i = 0; i < m; i++)
        b[i] = 0.02 + (double)i / (double)m;
    double d, p;
    LT_CHECK(lt_ks_2samp(a, n, b, m, &d, &p) == LT_OK, "%s", lt_last_error());
    double en = (double)n * m / (double)(n + m);
    LT_CHECK(near(p, lt_kolmogorov_sf(sqrt(en) * d), 1e-12) && d > 0.019 &&
             d < 0.021, "D %g p %g", d, p);
    free(a);
    free(b);
}

LT_TEST(ks_and_hmean_errors)
{
    double a[2] = {1, NAN}, d, p;
    LT_CHECK(lt_ks_2samp(a, 0, a, 1, &d, &p) == LT_ERR_ARG, "empty");
    LT_CHECK(lt_ks_2samp(NULL, 1, a, 1, &d, &p) == LT_ERR_ARG, "NULL");
    LT_CHECK(lt_ks_2samp(a, 2, a, 1, &d, &p) == LT_ERR_ARG &&
             strstr(lt_last_error(), "NaN"), "NaN: %s", lt_last_error());
    double x[3] = {0.5, -0.1, 1};
    LT_CHECK(isnan(lt_harmonic_mean(x, 3)), "negative -> NaN");
    LT_CHECK(isnan(lt_harmonic_mean(x, 0)), "empty -> NaN");
    double y[2] = {0.5, 0.5};
    LT_CHECK(lt_harmonic_mean(y, 2) == 0.5, "constant");
    LT_CHECK(isnan(lt_ks_2samp_exact_p(3, 3, 4)), "h > lcm");
}

LT_TEST_MAIN()
