/*
 * reduce.c - reductions: sum, mean and max over one axis (with or without
 * keepdim) and sum / mean over everything (to a [1] tensor).
 *
 * A reduction over an axis views x as [outer, n, inner] and produces
 * [outer, inner]. Work is split into (outer row, block of inner columns)
 * tasks so that reducing a leading axis still reads memory row by row;
 * sums are accumulated in double. The whole-tensor sums use fixed chunks
 * whose partial sums are added in order, so the result does not depend on
 * the thread count. max keeps the index of the first maximal element (NaN
 * wins, as in PyTorch) for backward.
 */
#include "lethe/ops.h"

#include <math.h>

#define COLS 256
#define CHUNK 8192
#define PAR_MIN 32768

typedef struct {
    int64_t outer, n, inner;
} rview;

/* Checks the axis and builds the view and the output shape. */
static lt_tensor *reduce_out(lt_ctx *c, lt_tensor *x, int axis, bool keepdim,
                             const char *op, rview *v)
{
    int a = lt_axis(x, axis, op);
    if (a < 0)
        return NULL;
    int64_t shape[LT_MAX_DIMS];
    int nd = 0;
    v->outer = v->inner = 1;
    v->n = x->shape[a];
    for (int d = 0; d < x->ndim; d++) {
        if (d < a)
            v->outer *= x->shape[d];
        else if (d > a)
            v->inner *= x->shape[d];
        if (d != a)
            shape[nd++] = x->shape[d];
        else if (keepdim)
            shape[nd++] = 1;
    }
    if (nd == 0)
        shape[nd++] = 1; /* a 1-D input reduces to [1] */
    return lt_new(c, nd, shape);
}

static int64_t n_col_blocks(const rview *v)
{
    return (v->inner + COLS - 1) / COLS;
}

/* y[o, i] = scale * sum_k x[o, k, i]. */
static void sum_axis(const rview *v, const float *x, float *y, double scale)
{
    int64_t nblk = n_col_blocks(v);
#pragma omp parallel for schedule(static) \
    if (v->outer * v->n * v->inner > PAR_MIN)
    for (int64_t t = 0; t < v->outer * nblk; t++) {
        int64_t o = t / nblk, i0 = (t % nblk) * COLS;
        int64_t m = v->inner - i0 < COLS ? v->inner - i0 : COLS;
        const float *xo = x + o * v->n * v->inner + i0;
        double acc[COLS] = {0};
        for (int64_t k = 0; k < v->n; k++)
            for (int64_t j = 0; j < m; j++)
                acc[j] += xo[k * v->inner + j];
        for (int64_t j = 0; j < m; j++)
            y[o * v->inner + i0 + j] = (float)(acc[j] * scale);
    }
}

static lt_status sum_axis_backward(lt_ctx *c, lt_node *n)
{
    float *gx = lt_in_grad(c, n, 0);
    if (!gx)
        return LT_OK;
    rview v = {n->iarg[0], n->iarg[1], n->iarg[2]};
    const float *gy = n->out->grad;
    float scale = n->farg[0];
#pragma omp parallel for schedule(static) if (n->in[0]->numel > PAR_MIN)
    for (int64_t r = 0; r < v.outer * v.n; r++) {
        const float *g = gy + r / v.n * v.inner;
        for (int64_t i = 0; i < v.inner; i++)
            gx[r * v.inner + i] += g[i] * scale;
    }
    return LT_OK;
}

static lt_tensor *sum_or_mean(lt_ctx *c, lt_tensor *x, int axis, bool keepdim,
                              bool mean)
{
    if (!x)
        return NULL;
    const char *op = mean ? "mean" : "sum";
    rview v;
    lt_tensor *y = reduce_out(c, x, axis, keepdim, op, &v);
    if (!y)
        return NULL;
    double scale = mean ? 1.0 / (double)v.n : 1.0;
    sum_axis(&v, x->data, y->data, scale);
    if (lt_needs_grad(c, 1, &x)) {
        lt_node *n = lt_record(c, y, sum_axis_backward, op, 1, &x);
        if (!n)
            return NULL;
        n->iarg[0] = v.outer;
        n->iarg[1] = v.n;
        n->iarg[2] = v.inner;
        n->farg[0] = (float)scale;
    }
    return y;
}

lt_tensor *lt_sum(lt_ctx *c, lt_tensor *x, int axis, bool keepdim)
{
    return sum_or_mean(c, x, axis, keepdim, false);
}

lt_tensor *lt_mean(lt_ctx *c, lt_tensor *x, int axis, bool keepdim)
{
    return sum_or_mean(c, x, axis, keepdim, true);
}

/* ---- max ----------------------------------------------------------------*/

/* y[o, i] = max_k x[o, k, i]; idx[o, i] = the first k reaching it. */
static void max_axis(const rview *v, const float *x, float *y, int64_t *idx)
{
    int64_t nblk = n_col_blocks(v);
#pragma omp parallel for schedule(static) \
    if (v->outer * v->n * v->inner > PAR_MIN)
    for (int64_t t = 0; t < v->outer * nblk; t++) {
        int64_t o = t / nblk, i0 = (t % nblk) * COLS;
        int64_t m = v->inner - i0 < COLS ? v->inner - i0 : COLS;
        const float *xo = x + o * v->n * v->inner + i0;
        float best[COLS];
        int64_t arg[COLS] = {0};
        for (int64_t j = 0; j < m; j++)
            best[j] = xo[j];
        for (int64_t k = 1; k < v->n; k++)
            for (int64_t j = 0; j < m; j++) {
                float e = xo[k * v->inner + j];
                if (e > best[j] || (isnan(e) && !isnan(best[j]))) {
                    best[j] = e;
                    arg[j] = k;
                }
            }
        for (int64_t j = 0; j < m; j++) {
            y[o * v->inner + i0 + j] = best[j];
            idx[o * v->inner + i0 + j] = arg[j];
        }
    }
}

static lt_status max_axis_backward(lt_ctx *c, lt_node *n)
{
    float *gx = lt_in_grad(c, n, 0);
    if (!gx)
        return LT_OK;
    rview v = {n->iarg[0], n->iarg[1], n->iarg[2]};
    const int64_t *idx = n->saved;
    const float *gy = n->out->grad;
#pragma omp parallel for schedule(static) if (n->out->numel > PAR_MIN)
    for (int64_t t = 0; t < v.outer * v.inner; t++) {
        int64_t o = t / v.inner, i = t % v.inner;
        gx[(o * v.n + idx[t]) * v.inner + i] += gy[t];
    }
    return LT_OK;
}

lt_tensor *lt_max(lt_ctx *c, lt_tensor *x, int axis, bool keepdim)
{
    if (!x)
        return NULL;
    rview v;
    lt_tensor *y = reduce_out(c, x, axis, keepdim, "max", &v);
    if (!y)
        return NULL;
    if (v.n == 0) {
        char s[96];
        lt_set_error(LT_ERR_SHAPE, "max: axis %d of %s is empty", axis,
                     lt_shape_str(x, s, sizeof s));
        return NULL;
    }
    int64_t *idx = lt_alloc(c, (size_t)y->numel * sizeof(int64_t));
    if (!idx)
        return NULL;
    max_axis(&v, x->data, y->data, idx);
    if (lt_needs_grad(c, 1, &x)) {
        lt_node *n = lt_record(c, y, max_axis_backward, "max", 1, &x);
        if (!n)
            return NULL;
        n->iarg[0] = v.outer;
        n->iarg[1] = v.n;
        n->iarg[2] = v.inner;
        n->saved = idx;
    }
    return y;
}

/* ---- over everything ---------------------------------------------------- */

static lt_status sum_all_backward(lt_ctx *c, lt_node *n)
{
    float *gx = lt_in_grad(c, n, 0);
    if (!gx)
        return LT_OK;
    float g = n->out->grad[0] * n->farg[0];
    int64_t numel = n->in[0]->numel;
#pragma omp parallel for schedule(static) if (numel > PAR_MIN)
    for (int64_t i = 0; i < numel; i++)
        gx[i] += g;
    return LT_OK;
}

static lt_tensor *sum_all(lt_ctx *c, lt_tensor *x, bool mean)
{
    if (!x)
        return NULL;
    int64_t nch = (x->numel + CHUNK - 1) / CHUNK;
    double *part = lt_alloc(c, (size_t)(nch > 0 ? nch : 1) * sizeof(double));
    lt_tensor *y = part ? lt_new1(c, 1) : NULL;
    if (!y)
        return NULL;
#pragma omp parallel for schedule(static) if (x->numel > PAR_MIN)
    for (int64_t ch = 0; ch < nch; ch++) {
        int64_t i1 = (ch + 1) * CHUNK < x->numel ? (ch + 1) * CHUNK : x->numel;
        double s = 0;
        for (int64_t i = ch * CHUNK; i < i1; i++)
            s += x->data[i];
        part[ch] = s;
    }
    double s = 0;
    for (int64_t ch = 0; ch < nch; ch++)
        s += part[ch];
    double scale = mean ? 1.0 / (double)x->numel : 1.0;
    y->data[0] = (float)(s * scale);
    if (lt_needs_grad(c, 1, &x)) {
        lt_node *n = lt_record(c, y, sum_all_backward,
                               mean ? "mean_all" : "sum_all", 1, &x);
        if (!n)
            return NULL;
        n->farg[0] = (float)scale;
    }
    return y;
}

lt_tensor *lt_sum_all(lt_ctx *c, lt_tensor *x) { return sum_all(c, x, false); }

lt_tensor *lt_mean_all(lt_ctx *c, lt_tensor *x) { return sum_all(c, x, true); }
