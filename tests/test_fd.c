/*
 * test_fd.c - the Frechet distance (lethe/image_metrics.h): against
 * pytorch-fid's computation (scipy.linalg.sqrtm; tests/golden/gen_fd.py
 * writes fd.txt) on small random feature sets, rank-deficient ones
 * included; and against closed forms: a set against itself (0), against a
 * shifted copy (|shift|^2) and two sets with diagonal covariances built
 * from Hadamard columns (sum (sqrt a_i - sqrt b_i)^2 + |mu_a - mu_b|^2).
 * Also: symmetry, the clamped-eigenvalue count, and every error path.
 */
#include "lt_test.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* |got - want| <= rel * max(|want|, 1). */
static bool close_rel(double got, double want, double rel)
{
    return fabs(got - want) <= rel * fmax(fabs(want), 1.0);
}

static double fd_of(const float *a, int64_t na, const float *b, int64_t nb,
                    int d, lt_fd_terms *t)
{
    lt_fd_stats sa, sb;
    lt_fd_terms tt;
    lt_status s1 = lt_fd_stats_compute(a, na, d, &sa);
    lt_status s2 = lt_fd_stats_compute(b, nb, d, &sb);
    LT_CHECK(s1 == LT_OK && s2 == LT_OK, "stats: %s", lt_last_error());
    LT_CHECK(lt_fd_terms_compute(&sa, &sb, t ? t : &tt) == LT_OK, "fd: %s",
             lt_last_error());
    lt_fd_stats_free(&sa);
    lt_fd_stats_free(&sb);
    return (t ? t : &tt)->fd;
}

/* ---- golden: pytorch-fid -------------------------------------------------- */

typedef struct {
    char name[64];
    int d;
    int64_t na, nb;
    double fd, mean_term, trace_a, trace_b;
    float *a, *b;
} fd_case;

/* The numbers after the tag of a line "a v1 v2 ..." into out[n]. */
static bool read_floats(const char *line, char tag, float *out, int64_t n)
{
    if (line[0] != tag || line[1] != ' ')
        return false;
    const char *p = line + 2;
    for (int64_t i = 0; i < n; i++) {
        char *end;
        out[i] = strtof(p, &end);
        if (end == p)
            return false;
        p = end;
    }
    return true;
}

/* The next case of f, or false at the end (or on a malformed file). */
static bool read_case(FILE *f, fd_case *c)
{
    char *line = NULL;
    size_t cap = 0;
    bool ok = getline(&line, &cap, f) > 0 &&
              sscanf(line, "case %63s %d %" SCNd64 " %" SCNd64 " %lf %lf %lf %lf", c->name,
                     &c->d, &c->na, &c->nb, &c->fd, &c->mean_term,
                     &c->trace_a, &c->trace_b) == 8;
    c->a = ok ? malloc((size_t)(c->na * c->d) * sizeof(float)) : NULL;
    c->b = ok ? malloc((size_t)(c->nb * c->d) * sizeof(float)) : NULL;
    ok = ok && getline(&line, &cap, f) > 0 &&
         read_floats(line, 'a', c->a, c->na * c->d) &&
         getline(&line, &cap, f) > 0 &&
         read_floats(line, 'b', c->b, c->nb * c->d);
    free(line);
    return ok;
}

LT_TEST(fd_matches_pytorch_fid)
{
    FILE *f = fopen(LT_GOLDEN_DIR "/fd.txt", "r");
    LT_CHECK(f != NULL, "tests/golden/fd.txt is missing (run gen_fd.py)");
    if (!f)
        return;
    fd_case c;
    int cases = 0, rankdef = 0;
    while (read_case(f, &c)) {
        lt_fd_terms t;
        double fd = fd_of(c.a, c.na, c.b, c.nb, c.d, &t);
        LT_CHECK(close_rel(fd, c.fd, 1e-6), "%s: FD %.12g, pytorch-fid %.12g",
                 c.name, fd, c.fd);
        LT_CHECK(close_rel(t.mean_term, c.mean_term, 1e-10) &&
                     close_rel(t.trace_a, c.trace_a, 1e-10) &&
                     close_rel(t.trace_b, c.trace_b, 1e-10),
                 "%s: terms %.12g %.12g %.12g, NumPy %.12g %.12g %.12g",
                 c.name, t.mean_term, t.trace_a, t.trace_b, c.mean_term,
                 c.trace_a, c.trace_b);
        if (c.d > c.na) { /* S_a has d - na + 1 zero eigenvalues */
            rankdef++;
            LT_CHECK(t.most_negative > -1e-10 * t.trace_a,
                     "%s: clamped eigenvalue %g is not round-off", c.name,
                     t.most_negative);
        }
        cases++;
        free(c.a);
        free(c.b);
    }
    fclose(f);
    LT_CHECK(cases == 7 && rankdef == 2, "read %d cases (%d rank-deficient)"
             " of fd.txt, expected 7 (2)", cases, rankdef);
}

/* ---- closed forms ------------------------------------------------------- */

/* n x d features from a seeded uniform draw, rounded to multiples of 1/64
 * in [-4, 4), so shifts by multiples of 1/64 are exact in float. */
static float *dyadic_features(int64_t n, int d, uint64_t seed)
{
    float *x = malloc((size_t)(n * d) * sizeof *x);
    lt_rng r;
    lt_rng_init(&r, seed);
    lt_rng_fill_uniform(&r, x, n * d, -4, 4);
    for (int64_t i = 0; i < n * d; i++)
        x[i] = floorf(x[i] * 64) / 64;
    return x;
}

LT_TEST(fd_of_a_set_with_itself_is_zero)
{
    float *a = dyadic_features(300, 24, 1);
    lt_fd_terms t;
    double fd = fd_of(a, 300, a, 300, 24, &t);
    LT_CHECK(fabs(fd) <= 1e-9, "FD(a, a) = %g", fd);
    LT_CHECK(t.trace_a > 24 && t.mean_term == 0, "trace %g, mean term %g",
             t.trace_a, t.mean_term);
    free(a);
}

LT_TEST(fd_of_a_shifted_copy_is_the_squared_shift)
{
    const int d = 16;
    const int64_t n = 200;
    float *a = dyadic_features(n, d, 2), *b = malloc(sizeof(float) * n * d);
    double want = 0;
    for (int j = 0; j < d; j++)
        want += (0.25 * j - 1.5) * (0.25 * j - 1.5);
    for (int64_t i = 0; i < n; i++)
        for (int j = 0; j < d; j++)
            b[i * d + j] = a[i * d + j] + (0.25f * (float)j - 1.5f);
    double fd = fd_of(a, n, b, n, d, NULL);
    LT_CHECK(close_rel(fd, want, 1e-9), "FD %.15g, |shift|^2 = %.15g", fd,
             want);
    free(a);
    free(b);
}

/* Sylvester's Hadamard matrix entry (i, j) of any power-of-two order. */
static float hadamard(int i, int j)
{
    return __builtin_popcount((unsigned)(i & j)) % 2 ? -1.0f : 1.0f;
}

/* n rows (n a power of two > d): column j = mu[j] + c[j] * H[:, j + 1].
 * Hadamard columns 1.. sum to 0 and are orthogonal, so the sample mean is
 * mu and the covariance diag(c^2 n / (n - 1)), exactly. */
static float *hadamard_set(int n, int d, const float *mu, const float *c)
{
    float *x = malloc(sizeof(float) * (size_t)n * (size_t)d);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < d; j++)
            x[i * d + j] = mu[j] + c[j] * hadamard(i, j + 1);
    return x;
}

LT_TEST(fd_of_diagonal_gaussians_has_the_closed_form)
{
    enum { d = 7 };
    const float mua[d] = {0, 1, -2, 0.5f, 3, 0, -1};
    const float mub[d] = {0.25f, 1, -1, 0.5f, 2, 0.75f, -1};
    const float ca[d] = {1, 0.5f, 2, 1.5f, 0.25f, 3, 1};
    const float cb[d] = {2, 0.5f, 0.75f, 1, 1.25f, 0.5f, 4};
    float *a = hadamard_set(16, d, mua, ca), *b = hadamard_set(8, d, mub, cb);
    double want = 0;
    for (int j = 0; j < d; j++) {
        double va = ca[j] * ca[j] * 16.0 / 15, vb = cb[j] * cb[j] * 8.0 / 7;
        double s = sqrt(va) - sqrt(vb), m = (double)mua[j] - mub[j];
        want += s * s + m * m;
    }
    lt_fd_terms t;
    double fd = fd_of(a, 16, b, 8, d, &t);
    LT_CHECK(close_rel(fd, want, 1e-12), "FD %.15g, closed form %.15g", fd,
             want);
    double back = fd_of(b, 8, a, 16, d, NULL);
    LT_CHECK(close_rel(back, want, 1e-12), "FD(b, a) %.15g, closed form "
             "%.15g", back, want);
    free(a);
    free(b);
}

LT_TEST(fd_is_symmetric_on_correlated_sets)
{
    const int d = 32;
    float *a = dyadic_features(100, d, 3), *b = dyadic_features(80, d, 4);
    for (int64_t i = 0; i < 80; i++) /* correlate b's columns */
        for (int j = 1; j < d; j++)
            b[i * d + j] += 0.5f * b[i * d + j - 1];
    double ab = fd_of(a, 100, b, 80, d, NULL), ba = fd_of(b, 80, a, 100, d,
                                                          NULL);
    LT_CHECK(ab > 1 && close_rel(ab, ba, 1e-10), "FD(a,b) %.15g, FD(b,a) "
             "%.15g", ab, ba);
    free(a);
    free(b);
}

LT_TEST(fd_stats_are_np_cov)
{
    /* 3 points in 2-D, by hand: x = (0, 1, 2), y = (3, 0.5, 2.5), mean
     * (1, 2); cov_xx = (1 + 0 + 1) / 2 = 1, cov_xy = (-1 * 1 + 0 * -1.5 +
     * 1 * 0.5) / 2 = -0.25, cov_yy = (1 + 2.25 + 0.25) / 2 = 1.75. */
    const float x[6] = {0, 3, 1, 0.5f, 2, 2.5f};
    lt_fd_stats s;
    LT_CHECK(lt_fd_stats_compute(x, 3, 2, &s) == LT_OK, "%s", lt_last_error());
    const double want[4] = {1, -0.25, -0.25, 1.75};
    for (int i = 0; i < 4; i++)
        LT_CHECK(s.cov && fabs(s.cov[i] - want[i]) < 1e-15, "cov[%d] = %g, "
                 "want %g", i, s.cov ? s.cov[i] : NAN, want[i]);
    LT_CHECK(s.mu && s.mu[0] == 1 && s.mu[1] == 2 && s.n == 3 && s.d == 2,
             "mean or sizes wrong");
    lt_fd_stats_free(&s);
    LT_CHECK(s.mu == NULL && s.cov == NULL, "free left pointers");
}

LT_TEST(fd_errors_name_the_argument)
{
    float x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    lt_fd_stats a, b;
    LT_CHECK(lt_fd_stats_compute(x, 1, 8, &a) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "n = 1"), "%s", lt_last_error());
    LT_CHECK(a.mu == NULL, "stats left set on error");
    LT_CHECK(lt_fd_stats_compute(NULL, 4, 2, &a) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "feats"), "%s", lt_last_error());
    LT_CHECK(lt_fd_stats_compute(x, 4, 0, &a) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "d = 0"), "%s", lt_last_error());
    x[5] = NAN;
    LT_CHECK(lt_fd_stats_compute(x, 4, 2, &a) == LT_ERR_NAN &&
                 strstr(lt_last_error(), "feats[5] (row 2, column 1)"), "%s",
             lt_last_error());
    x[5] = 6;
    LT_CHECK(lt_fd_stats_compute(x, 4, 2, &a) == LT_OK, "%s", lt_last_error());
    LT_CHECK(lt_fd_stats_compute(x, 2, 4, &b) == LT_OK, "%s", lt_last_error());
    double fd = 0;
    LT_CHECK(lt_fd(&a, &b, &fd) == LT_ERR_SHAPE &&
                 strstr(lt_last_error(), "a: 2, b: 4") && isnan(fd), "%s",
             lt_last_error());
    lt_fd_stats empty = {0};
    LT_CHECK(lt_fd(&a, &empty, &fd) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "statistics b"), "%s",
             lt_last_error());
    LT_CHECK(lt_fd(&a, &a, NULL) == LT_ERR_ARG, "NULL out accepted");
    LT_CHECK(lt_fd(&a, &a, &fd) == LT_OK && fabs(fd) < 1e-12, "FD(a,a) = %g",
             fd);
    lt_fd_stats_free(&a);
    lt_fd_stats_free(&b);
}

LT_TEST_MAIN()
