/*
 * neighbors.c - metrics built on nearest neighbours between two point
 * sets (lethe/image_metrics.h): the distance of each generated sample to
 * its nearest training image (a copying check) and improved precision /
 * recall (Kynkaanniemi et al. 2019). Both walk the squared-distance matrix
 * in row blocks: one cblas_sgemm per block forms -2 A B^T, the squared
 * norms are added (|a|^2 + |b|^2 - 2ab, clamped at 0), and an OpenMP loop
 * over the block's rows reduces each row (a minimum, a k-th smallest, a
 * "within some radius" test) without keeping the whole matrix.
 */
#include "lethe/image_metrics.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Floats of one distance block (64 MiB). */
#define LT_NB_BLOCK_FLOATS ((int64_t)16 << 20)

/* Squared row norms of x [n, d] into out [n]. */
static void lt_row_norms(const float *x, int64_t n, int64_t d, float *out)
{
    #pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) {
        double s = 0;
        for (int64_t j = 0; j < d; j++)
            s += (double)x[i * d + j] * x[i * d + j];
        out[i] = (float)s;
    }
}

/* The pairwise squared distances between a and b, walked in row blocks
 * of a. */
typedef struct {
    const float *a, *b;
    int64_t na, nb, d;
    float *an, *bn; /* squared norms */
    float *block;   /* [rows, nb] */
    int64_t rows;   /* rows of a per block */
} lt_dist_walk;

static lt_status lt_walk_init(lt_dist_walk *w, const float *a, int64_t na,
                              const float *b, int64_t nb, int64_t d)
{
    *w = (lt_dist_walk){a, b, na, nb, d, NULL, NULL, NULL, 0};
    w->rows = LT_NB_BLOCK_FLOATS / nb;
    w->rows = w->rows < 1 ? 1 : w->rows > na ? na : w->rows;
    w->an = malloc((size_t)na * sizeof(float));
    w->bn = malloc((size_t)nb * sizeof(float));
    w->block = malloc((size_t)(w->rows * nb) * sizeof(float));
    if (!w->an || !w->bn || !w->block) {
        free(w->an);
        free(w->bn);
        free(w->block);
        return lt_set_error(LT_ERR_NOMEM, "out of memory for a %lld x %lld "
                            "distance block", (long long)w->rows,
                            (long long)nb);
    }
    lt_row_norms(a, na, d, w->an);
    lt_row_norms(b, nb, d, w->bn);
    return LT_OK;
}

static void lt_walk_free(lt_dist_walk *w)
{
    free(w->an);
    free(w->bn);
    free(w->block);
}

/* Fill w->block with the squared distances of rows [i0, i0 + r) of a to
 * every row of b; returns r. */
static int64_t lt_walk_block(lt_dist_walk *w, int64_t i0)
{
    int64_t r = w->na - i0 < w->rows ? w->na - i0 : w->rows, nb = w->nb;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)r, (int)nb,
                (int)w->d, -2.0f, w->a + i0 * w->d, (int)w->d, w->b,
                (int)w->d, 0.0f, w->block, (int)nb);
    #pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < r; i++) {
        float *row = w->block + i * nb, ai = w->an[i0 + i];
        for (int64_t j = 0; j < nb; j++) {
            float v = row[j] + ai + w->bn[j];
            row[j] = v > 0 ? v : 0;
        }
    }
    return r;
}

/* -1 when every element of x [n, d] is finite, else the first bad index. */
static int64_t lt_first_nonfinite(const float *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return i;
    return -1;
}

static lt_status lt_check_points(const char *fn, const char *name,
                                 const float *x, int64_t n, int64_t d,
                                 int64_t min_n)
{
    if (!x)
        return lt_set_error(LT_ERR_ARG, "%s: %s is NULL", fn, name);
    if (n < min_n || n > INT32_MAX)
        return lt_set_error(LT_ERR_ARG, "%s: %s has %lld points, expected "
                            "%lld to 2^31-1", fn, name, (long long)n,
                            (long long)min_n);
    int64_t bad = lt_first_nonfinite(x, n * d);
    if (bad >= 0)
        return lt_set_error(LT_ERR_NAN, "%s: %s[%lld] (point %lld) is not "
                            "finite", fn, name, (long long)bad,
                            (long long)(bad / d));
    return LT_OK;
}

/* ---- nearest training image ----------------------------------------------- */

/* Index of the smallest element of row[n] (the first of equal ones). */
static int64_t lt_argmin(const float *row, int64_t n)
{
    int64_t best = 0;
    for (int64_t j = 1; j < n; j++)
        if (row[j] < row[best])
            best = j;
    return best;
}

static double lt_l2(const float *a, const float *b, int64_t d)
{
    double s = 0;
    for (int64_t j = 0; j < d; j++) {
        double t = (double)a[j] - b[j];
        s += t * t;
    }
    return sqrt(s);
}

/* The nearest train row of each sample into near[ns] and its distance. */
static lt_status lt_nn_all(const float *samples, int64_t ns,
                           const float *train, int64_t nt, int64_t d,
                           double *dist, int64_t *near)
{
    lt_dist_walk w;
    if (lt_walk_init(&w, samples, ns, train, nt, d) != LT_OK)
        return lt_last_status();
    for (int64_t i0 = 0; i0 < ns;) {
        int64_t r = lt_walk_block(&w, i0);
        #pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < r; i++) {
            int64_t j = lt_argmin(w.block + i * nt, nt);
            near[i0 + i] = j;
            dist[i0 + i] = lt_l2(samples + (i0 + i) * d, train + j * d, d);
        }
        i0 += r;
    }
    lt_walk_free(&w);
    return LT_OK;
}

static void lt_nn_summarise(const double *dist, int64_t ns, lt_nn_summary *o)
{
    double sum = 0;
    *o = (lt_nn_summary){0, INFINITY, 0};
    for (int64_t i = 0; i < ns; i++) {
        sum += dist[i];
        if (dist[i] < o->min) {
            o->min = dist[i];
            o->min_sample = i;
        }
    }
    o->mean = sum / (double)ns;
}

lt_status lt_nn_distance(const float *samples, int64_t ns, const float *train,
                         int64_t nt, int64_t d, double *dist,
                         int64_t *nearest, lt_nn_summary *out)
{
    const char *fn = "nearest-neighbour distance";
    if (!out)
        return lt_set_error(LT_ERR_ARG, "%s: out is NULL", fn);
    if (d < 1 || d > INT32_MAX)
        return lt_set_error(LT_ERR_ARG, "%s: width d = %lld, expected >= 1",
                            fn, (long long)d);
    if (lt_check_points(fn, "samples", samples, ns, d, 1) != LT_OK ||
        lt_check_points(fn, "train", train, nt, d, 1) != LT_OK)
        return lt_last_status();
    double *dd = dist ? dist : malloc((size_t)ns * sizeof *dd);
    int64_t *nn = nearest ? nearest : malloc((size_t)ns * sizeof *nn);
    lt_status st = dd && nn ? lt_nn_all(samples, ns, train, nt, d, dd, nn)
        : lt_set_error(LT_ERR_NOMEM, "%s: out of memory", fn);
    if (st == LT_OK)
        lt_nn_summarise(dd, ns, out);
    if (!dist)
        free(dd);
    if (!nearest)
        free(nn);
    return st;
}

/* ---- precision / recall ---------------------------------------------------- */

/* The k-th smallest of row[n] leaving out element self (k < n): a sorted
 * buffer of the k smallest, k being small. */
static float lt_kth_smallest(const float *row, int64_t n, int64_t self, int k,
                             float *best)
{
    int have = 0;
    for (int64_t j = 0; j < n; j++) {
        if (j == self || (have == k && row[j] >= best[k - 1]))
            continue;
        int p = have < k ? have++ : k - 1;
        while (p > 0 && best[p - 1] > row[j]) {
            best[p] = best[p - 1];
            p--;
        }
        best[p] = row[j];
    }
    return best[k - 1];
}

/* Squared radius of each point of x [n, d]: the squared distance to its
 * k-th nearest other point. */
static lt_status lt_knn_radii(const float *x, int64_t n, int64_t d, int k,
                              float *r2)
{
    lt_dist_walk w;
    if (lt_walk_init(&w, x, n, x, n, d) != LT_OK)
        return lt_last_status();
    for (int64_t i0 = 0; i0 < n;) {
        int64_t r = lt_walk_block(&w, i0);
        #pragma omp parallel
        {
            float best[64];
            #pragma omp for schedule(static)
            for (int64_t i = 0; i < r; i++)
                r2[i0 + i] = lt_kth_smallest(w.block + i * n, n, i0 + i, k,
                                             best);
        }
        i0 += r;
    }
    lt_walk_free(&w);
    return LT_OK;
}

/* The number of points of q [nq, d] within radius (squared, r2[j]) of
 * some point j of x [nx, d]. */
static lt_status lt_in_manifold(const float *q, int64_t nq, const float *x,
                                int64_t nx, int64_t d, const float *r2,
                                int64_t *count)
{
    lt_dist_walk w;
    if (lt_walk_init(&w, q, nq, x, nx, d) != LT_OK)
        return lt_last_status();
    int64_t in = 0;
    for (int64_t i0 = 0; i0 < nq;) {
        int64_t r = lt_walk_block(&w, i0);
        #pragma omp parallel for schedule(static) reduction(+ : in)
        for (int64_t i = 0; i < r; i++) {
            const float *row = w.block + i * nx;
            int64_t j = 0;
            while (j < nx && row[j] > r2[j])
                j++;
            in += j < nx;
        }
        i0 += r;
    }
    lt_walk_free(&w);
    *count = in;
    return LT_OK;
}

/* precision or recall: the share of q inside the manifold of x. */
static lt_status lt_coverage(const float *x, int64_t nx, const float *q,
                             int64_t nq, int64_t d, int k, double *share)
{
    float *r2 = malloc((size_t)nx * sizeof *r2);
    int64_t in = 0;
    lt_status st = r2 ? lt_knn_radii(x, nx, d, k, r2)
        : lt_set_error(LT_ERR_NOMEM, "precision/recall: out of memory");
    if (st == LT_OK)
        st = lt_in_manifold(q, nq, x, nx, d, r2, &in);
    free(r2);
    *share = st == LT_OK ? (double)in / (double)nq : NAN;
    return st;
}

lt_status lt_precision_recall(const float *real, int64_t nr, const float *fake,
                              int64_t nf, int d, int k, double *precision,
                              double *recall)
{
    const char *fn = "precision/recall";
    if (!precision || !recall)
        return lt_set_error(LT_ERR_ARG, "%s: %s is NULL", fn,
                            !precision ? "precision" : "recall");
    *precision = *recall = NAN;
    if (k < 1 || k > 64)
        return lt_set_error(LT_ERR_ARG, "%s: k = %d, expected 1 to 64 (the "
                            "paper uses 3)", fn, k);
    if (d < 1)
        return lt_set_error(LT_ERR_ARG, "%s: width d = %d, expected >= 1",
                            fn, d);
    if (lt_check_points(fn, "real", real, nr, d, k + 1) != LT_OK ||
        lt_check_points(fn, "fake", fake, nf, d, k + 1) != LT_OK)
        return lt_last_status();
    if (lt_coverage(real, nr, fake, nf, d, k, precision) != LT_OK ||
        lt_coverage(fake, nf, real, nr, d, k, recall) != LT_OK)
        return lt_last_status();
    return LT_OK;
}
