/*
 * sparse.c - sparse matrices of P1 finite elements: the compressed-column
 * pattern of a mesh's vertex couplings, Dirichlet rows, products, and the
 * sparse Cholesky factor of SuiteSparse CHOLMOD (analyse and factorise
 * once, solve as often as needed). Each factor owns its own cholmod_common,
 * so factors are independent of each other.
 */
#include "lethe/mesh.h"

#include <cholmod.h>
#include <stdlib.h>
#include <string.h>

static int int_cmp(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

void lt_sparse_free(lt_sparse *a)
{
    if (!a)
        return;
    free(a->colptr);
    free(a->row);
    free(a->val);
    memset(a, 0, sizeof *a);
}

lt_status lt_sparse_p1(const lt_mesh *m, lt_sparse *a)
{
    memset(a, 0, sizeof *a);
    int n = m->nv;
    /* each triangle adds 2 couplings to each of its vertices (with
     * repeats), plus the diagonal */
    int *cnt = calloc((size_t)n + 1, sizeof(int));
    if (!cnt)
        return lt_set_error(LT_ERR_NOMEM, "sparse: out of memory");
    for (int i = 0; i < 3 * m->nt; i++)
        cnt[m->tri[i] + 1] += 2;
    for (int i = 0; i < n; i++)
        cnt[i + 1] += cnt[i] + 1;
    int *buf = malloc(sizeof(int) * (size_t)cnt[n]);
    int *fill = malloc(sizeof(int) * (size_t)n);
    a->colptr = malloc(sizeof(int) * ((size_t)n + 1));
    if (!buf || !fill || !a->colptr) {
        free(cnt), free(buf), free(fill), lt_sparse_free(a);
        return lt_set_error(LT_ERR_NOMEM, "sparse: out of memory");
    }
    for (int i = 0; i < n; i++) {
        fill[i] = cnt[i];
        buf[fill[i]++] = i;
    }
    for (int k = 0; k < m->nt; k++)
        for (int j = 0; j < 3; j++) {
            int v = m->tri[3 * k + j];
            buf[fill[v]++] = m->tri[3 * k + (j + 1) % 3];
            buf[fill[v]++] = m->tri[3 * k + (j + 2) % 3];
        }
    /* sort and deduplicate each column in place */
    int nnz = 0;
    a->colptr[0] = 0;
    for (int i = 0; i < n; i++) {
        int *c = buf + cnt[i], len = cnt[i + 1] - cnt[i], k = 0;
        qsort(c, (size_t)len, sizeof(int), int_cmp);
        for (int j = 0; j < len; j++)
            if (j == 0 || c[j] != c[k - 1])
                c[k++] = c[j];
        memmove(buf + nnz, c, sizeof(int) * (size_t)k);
        nnz += k;
        a->colptr[i + 1] = nnz;
    }
    free(cnt);
    free(fill);
    a->row = realloc(buf, sizeof(int) * (size_t)nnz);
    a->val = calloc((size_t)nnz, sizeof(double));
    a->n = n;
    if (!a->row || !a->val) {
        if (!a->row)
            free(buf);
        lt_sparse_free(a);
        return lt_set_error(LT_ERR_NOMEM, "sparse: out of memory");
    }
    return LT_OK;
}

void lt_sparse_mv(const lt_sparse *a, const double *x, double *y)
{
    memset(y, 0, sizeof(double) * (size_t)a->n);
    for (int j = 0; j < a->n; j++)
        for (int p = a->colptr[j]; p < a->colptr[j + 1]; p++)
            y[a->row[p]] += a->val[p] * x[j];
}

void lt_sparse_dirichlet(lt_sparse *a, const uint8_t *fixed, const double *g,
                         double *b)
{
    for (int j = 0; j < a->n; j++)
        for (int p = a->colptr[j]; p < a->colptr[j + 1]; p++) {
            int i = a->row[p];
            if (!fixed[i] && !fixed[j])
                continue;
            if (b && fixed[j] && !fixed[i] && g)
                b[i] -= a->val[p] * g[j];
            a->val[p] = i == j ? 1.0 : 0.0;
        }
    if (b)
        for (int i = 0; i < a->n; i++)
            if (fixed[i])
                b[i] = g ? g[i] : 0.0;
}

struct lt_spchol {
    cholmod_common c;
    cholmod_factor *L;
    cholmod_dense *b;
    int n;
};

void lt_spchol_free(lt_spchol *f)
{
    if (!f)
        return;
    if (f->L)
        cholmod_free_factor(&f->L, &f->c);
    if (f->b)
        cholmod_free_dense(&f->b, &f->c);
    cholmod_finish(&f->c);
    free(f);
}

lt_status lt_spchol_factor(const lt_sparse *a, lt_spchol **out)
{
    *out = NULL;
    lt_spchol *f = calloc(1, sizeof *f);
    if (!f)
        return lt_set_error(LT_ERR_NOMEM, "cholmod: out of memory");
    cholmod_start(&f->c);
    f->c.print = 0; /* the library never prints */
    f->n = a->n;
    int nnz = a->colptr[a->n];
    /* stype 1: CHOLMOD reads the upper triangle of the symmetric matrix */
    cholmod_sparse *A = cholmod_allocate_sparse((size_t)a->n, (size_t)a->n,
                                                (size_t)nnz, 1, 1, 1,
                                                CHOLMOD_REAL, &f->c);
    f->b = cholmod_allocate_dense((size_t)a->n, 1, (size_t)a->n, CHOLMOD_REAL,
                                  &f->c);
    if (!A || !f->b) {
        if (A)
            cholmod_free_sparse(&A, &f->c);
        lt_spchol_free(f);
        return lt_set_error(LT_ERR_NOMEM, "cholmod: out of memory");
    }
    memcpy(A->p, a->colptr, sizeof(int) * ((size_t)a->n + 1));
    memcpy(A->i, a->row, sizeof(int) * (size_t)nnz);
    memcpy(A->x, a->val, sizeof(double) * (size_t)nnz);
    f->L = cholmod_analyze(A, &f->c);
    int ok = f->L && cholmod_factorize(A, f->L, &f->c);
    cholmod_free_sparse(&A, &f->c);
    if (!ok || f->c.status != CHOLMOD_OK || f->L->minor < f->L->n) {
        lt_status s = lt_set_error(LT_ERR_STATE, "cholmod: the %d x %d matrix "
                                   "is not positive definite (or the factor "
                                   "failed: status %d)", a->n, a->n,
                                   f->c.status);
        lt_spchol_free(f);
        return s;
    }
    *out = f;
    return LT_OK;
}

lt_status lt_spchol_solve(lt_spchol *f, const double *b, double *x)
{
    memcpy(f->b->x, b, sizeof(double) * (size_t)f->n);
    cholmod_dense *y = cholmod_solve(CHOLMOD_A, f->L, f->b, &f->c);
    if (!y)
        return lt_set_error(LT_ERR_NOMEM, "cholmod: solve failed (status %d)",
                            f->c.status);
    memcpy(x, y->x, sizeof(double) * (size_t)f->n);
    cholmod_free_dense(&y, &f->c);
    return LT_OK;
}
