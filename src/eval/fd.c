/*
 * fd.c - the Frechet distance between two sets of feature vectors
 * (lethe/image_metrics.h): mean and covariance in double precision (two
 * passes: the mean, then the centred Gram matrix by dsyrk with the n - 1
 * denominator of np.cov), and
 *   FD = |mu_a - mu_b|^2 + tr(S_a) + tr(S_b)
 *        - 2 tr((S_a^1/2 S_b S_a^1/2)^1/2),
 * the symmetric form of pytorch-fid's tr(sqrtm(S_a S_b)) (the two matrices
 * are similar, so their square roots have the same trace). Both square
 * roots come from LAPACK's symmetric eigensolver dsyevd (OpenBLAS ships
 * it; the prototype is declared here), with negative eigenvalues - round-
 * off of PSD matrices - clamped to 0 and counted.
 */
#include "lethe/image_metrics.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* LAPACK (Fortran ABI): eigenvalues w ascending and, with jobz 'V', the
 * eigenvectors in the columns of a (column-major). The trailing lengths
 * are gfortran's hidden lengths of the two character arguments. */
extern void dsyevd_(const char *jobz, const char *uplo, const int *n,
                    double *a, const int *lda, double *w, double *work,
                    const int *lwork, int *iwork, const int *liwork,
                    int *info, size_t jobz_len, size_t uplo_len);

void lt_fd_stats_free(lt_fd_stats *s)
{
    if (!s)
        return;
    free(s->mu);
    free(s->cov);
    memset(s, 0, sizeof *s);
}

/* Mean of feats [n, d] into mu (double sums); -1 or the first non-finite
 * element's index. */
static int64_t lt_fd_mean(const float *feats, int64_t n, int d, double *mu)
{
    memset(mu, 0, (size_t)d * sizeof *mu);
    for (int64_t i = 0; i < n; i++)
        for (int j = 0; j < d; j++) {
            float v = feats[i * d + j];
            if (!isfinite(v))
                return i * d + j;
            mu[j] += v;
        }
    for (int j = 0; j < d; j++)
        mu[j] /= (double)n;
    return -1;
}

/* cov = (X - mu)^T (X - mu) / (n - 1), full symmetric [d, d]. */
static lt_status lt_fd_cov(const float *feats, int64_t n, int d,
                           const double *mu, double *cov)
{
    double *x = malloc((size_t)(n * d) * sizeof *x);
    if (!x)
        return lt_set_error(LT_ERR_NOMEM, "fd: out of memory for %lld x %d "
                            "centred features", (long long)n, d);
    for (int64_t i = 0; i < n; i++)
        for (int j = 0; j < d; j++)
            x[i * d + j] = (double)feats[i * d + j] - mu[j];
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, d, (int)n,
                1.0 / (double)(n - 1), x, d, 0.0, cov, d);
    for (int i = 0; i < d; i++)
        for (int j = 0; j < i; j++)
            cov[i * d + j] = cov[j * d + i];
    free(x);
    return LT_OK;
}

lt_status lt_fd_stats_compute(const float *feats, int64_t n, int d,
                              lt_fd_stats *out)
{
    if (!out)
        return lt_set_error(LT_ERR_ARG, "fd stats: out is NULL");
    memset(out, 0, sizeof *out);
    if (!feats)
        return lt_set_error(LT_ERR_ARG, "fd stats: feats is NULL");
    if (n < 2 || n > INT32_MAX)
        return lt_set_error(LT_ERR_ARG, "fd stats: n = %lld feature vectors;"
                            " a covariance needs 2 to 2^31-1", (long long)n);
    if (d < 1 || d > 65536)
        return lt_set_error(LT_ERR_ARG, "fd stats: width d = %d, expected 1 "
                            "to 65536", d);
    out->mu = malloc((size_t)d * sizeof *out->mu);
    out->cov = malloc((size_t)d * (size_t)d * sizeof *out->cov);
    if (!out->mu || !out->cov) {
        lt_fd_stats_free(out);
        return lt_set_error(LT_ERR_NOMEM, "fd stats: out of memory (d = %d)",
                            d);
    }
    int64_t bad = lt_fd_mean(feats, n, d, out->mu);
    lt_status s = bad >= 0
        ? lt_set_error(LT_ERR_NAN, "fd stats: feats[%lld] (row %lld, column "
                       "%lld) is not finite", (long long)bad,
                       (long long)(bad / d), (long long)(bad % d))
        : lt_fd_cov(feats, n, d, out->mu, out->cov);
    if (s != LT_OK) {
        lt_fd_stats_free(out);
        return s;
    }
    out->d = d;
    out->n = n;
    return LT_OK;
}

/* Eigen-decomposition of the symmetric a [d, d] in place (vectors when
 * vectors is set), eigenvalues into w; negative ones clamped to 0 and
 * counted into t. */
static lt_status lt_fd_eig(double *a, int d, bool vectors, double *w,
                           lt_fd_terms *t)
{
    const char *jobz = vectors ? "V" : "N";
    int lwork = -1, liwork = -1, iwq = 0, info = 0;
    double wq = 0;
    dsyevd_(jobz, "U", &d, a, &d, w, &wq, &lwork, &iwq, &liwork, &info, 1, 1);
    lwork = (int)wq;
    liwork = iwq;
    double *work = malloc((size_t)(lwork > 1 ? lwork : 1) * sizeof *work);
    int *iwork = malloc((size_t)(liwork > 1 ? liwork : 1) * sizeof *iwork);
    if (!work || !iwork)
        info = -100;
    else
        dsyevd_(jobz, "U", &d, a, &d, w, work, &lwork, iwork, &liwork,
                &info, 1, 1);
    free(work);
    free(iwork);
    if (info == -100)
        return lt_set_error(LT_ERR_NOMEM, "fd: out of memory for the "
                            "eigensolver (d = %d)", d);
    if (info != 0)
        return lt_set_error(LT_ERR_STATE, "fd: LAPACK dsyevd failed (info "
                            "%d, d = %d)", info, d);
    for (int i = 0; i < d; i++)
        if (w[i] < 0) {
            t->clamped++;
            if (w[i] < t->most_negative)
                t->most_negative = w[i];
            w[i] = 0;
        }
    return LT_OK;
}

/* r = S^1/2 = V diag(sqrt w) V^T of the symmetric s [d, d]. */
static lt_status lt_fd_sqrtm(const double *s, int d, double *r,
                             lt_fd_terms *t)
{
    size_t dd = (size_t)d * (size_t)d;
    double *v = malloc(dd * sizeof *v), *vs = malloc(dd * sizeof *vs);
    double *w = malloc((size_t)d * sizeof *w);
    lt_status st = v && vs && w ? LT_OK
        : lt_set_error(LT_ERR_NOMEM, "fd: out of memory (d = %d)", d);
    if (st == LT_OK) {
        memcpy(v, s, dd * sizeof *v);
        st = lt_fd_eig(v, d, true, w, t);
    }
    if (st == LT_OK) {
        /* v is column-major: column j (v[j*d .. j*d+d)) is eigenvector j,
         * read row-major it is V^T. vs = diag(sqrt w) V^T, r = V vs. */
        for (int j = 0; j < d; j++)
            for (int i = 0; i < d; i++)
                vs[(size_t)j * d + i] = sqrt(w[j]) * v[(size_t)j * d + i];
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d, d, d, 1.0, v,
                    d, vs, d, 0.0, r, d);
    }
    free(v);
    free(vs);
    free(w);
    return st;
}

/* tr((S_a^1/2 S_b S_a^1/2)^1/2): the sum of the square roots of the
 * eigenvalues of the symmetrised product. */
static lt_status lt_fd_trace_sqrt(const double *sa, const double *sb, int d,
                                  lt_fd_terms *t)
{
    size_t dd = (size_t)d * (size_t)d;
    double *r = malloc(dd * sizeof *r), *rb = malloc(dd * sizeof *rb);
    double *m = malloc(dd * sizeof *m), *w = malloc((size_t)d * sizeof *w);
    lt_status st = r && rb && m && w ? LT_OK
        : lt_set_error(LT_ERR_NOMEM, "fd: out of memory (d = %d)", d);
    if (st == LT_OK)
        st = lt_fd_sqrtm(sa, d, r, t);
    if (st == LT_OK) {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d, d, d, 1.0,
                    r, d, sb, d, 0.0, rb, d);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d, d, d, 1.0,
                    rb, d, r, d, 0.0, m, d);
        for (int i = 0; i < d; i++)
            for (int j = 0; j < i; j++)
                m[i * d + j] = m[j * d + i] =
                    0.5 * (m[i * d + j] + m[j * d + i]);
        st = lt_fd_eig(m, d, false, w, t);
    }
    t->trace_sqrt = 0;
    for (int i = 0; st == LT_OK && i < d; i++)
        t->trace_sqrt += sqrt(w[i]);
    free(r);
    free(rb);
    free(m);
    free(w);
    return st;
}

static lt_status lt_fd_check(const lt_fd_stats *s, const char *name)
{
    if (!s || !s->mu || !s->cov || s->d < 1 || s->n < 2)
        return lt_set_error(LT_ERR_ARG, "fd: statistics %s are empty (not "
                            "made by lt_fd_stats_compute)", name);
    return LT_OK;
}

lt_status lt_fd_terms_compute(const lt_fd_stats *a, const lt_fd_stats *b,
                              lt_fd_terms *out)
{
    if (!out)
        return lt_set_error(LT_ERR_ARG, "fd: out is NULL");
    memset(out, 0, sizeof *out);
    if (lt_fd_check(a, "a") != LT_OK || lt_fd_check(b, "b") != LT_OK)
        return lt_last_status();
    if (a->d != b->d)
        return lt_set_error(LT_ERR_SHAPE, "fd: feature widths differ (a: %d,"
                            " b: %d)", a->d, b->d);
    int d = a->d;
    for (int i = 0; i < d; i++) {
        double diff = a->mu[i] - b->mu[i];
        out->mean_term += diff * diff;
        out->trace_a += a->cov[(size_t)i * d + i];
        out->trace_b += b->cov[(size_t)i * d + i];
    }
    lt_status st = lt_fd_trace_sqrt(a->cov, b->cov, d, out);
    if (st != LT_OK)
        return st;
    out->fd = out->mean_term + out->trace_a + out->trace_b -
              2.0 * out->trace_sqrt;
    return LT_OK;
}

lt_status lt_fd(const lt_fd_stats *a, const lt_fd_stats *b, double *out)
{
    if (!out)
        return lt_set_error(LT_ERR_ARG, "fd: out is NULL");
    lt_fd_terms t;
    lt_status st = lt_fd_terms_compute(a, b, &t);
    *out = st == LT_OK ? t.fd : NAN;
    return st;
}
