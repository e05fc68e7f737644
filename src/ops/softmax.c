/*
 * softmax.c - softmax and log_softmax over any axis.
 *
 * The tensor is viewed as [outer, K, inner] with K the size of the reduced
 * axis. When inner == 1 each row of K values is contiguous and is handled
 * by a row kernel; otherwise tiles of up to TILE neighbouring columns
 * (stride inner) are handled together, so the inner loops run over
 * contiguous memory and vectorise. Both are numerically stable (the row
 * maximum is subtracted before exp). A NaN or +inf anywhere in a row makes
 * the whole row NaN, as in PyTorch.
 *
 * Backward, with y the saved output and g the upstream gradient:
 *   softmax:     gx = y * (g - sum(g * y))
 *   log_softmax: gx = g - exp(y) * sum(g)
 */
#include "lethe/ops.h"
#include "vmath.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define TILE 64
#define PAR_MIN 32768

typedef struct {
    int64_t outer, k, inner;
} sm_dims;

/* ---- vectorisable math -------------------------------------------------- */

/* NaN is skipped by row_max (the sums then carry it). */
static float row_max(const float *x, int64_t k)
{
    float acc[LANES];
    for (int j = 0; j < LANES; j++)
        acc[j] = -INFINITY;
    int64_t i = 0;
    for (; i + LANES <= k; i += LANES)
        for (int j = 0; j < LANES; j++)
            acc[j] = x[i + j] > acc[j] ? x[i + j] : acc[j];
    for (; i < k; i++)
        acc[0] = x[i] > acc[0] ? x[i] : acc[0];
    float m = acc[0];
    for (int j = 1; j < LANES; j++)
        m = acc[j] > m ? acc[j] : m;
    return m;
}

/* sum(exp(x - m)); when y != NULL also y = exp(x - m). */
static float row_sum_exp(const float *x, float m, float *y, int64_t k)
{
    float acc[LANES] = {0};
    int64_t i = 0;
    if (y) {
        for (; i + LANES <= k; i += LANES)
            for (int j = 0; j < LANES; j++) {
                y[i + j] = vexpf(x[i + j] - m);
                acc[j] += y[i + j];
            }
        for (; i < k; i++) {
            y[i] = vexpf(x[i] - m);
            acc[0] += y[i];
        }
    } else {
        for (; i + LANES <= k; i += LANES)
            for (int j = 0; j < LANES; j++)
                acc[j] += vexpf(x[i + j] - m);
        for (; i < k; i++)
            acc[0] += vexpf(x[i] - m);
    }
    return lanes_total(acc);
}

/* sum(a * b), or sum(a) when b == NULL. */
static float row_dot(const float *a, const float *b, int64_t k)
{
    float acc[LANES] = {0};
    int64_t i = 0;
    if (b) {
        for (; i + LANES <= k; i += LANES)
            for (int j = 0; j < LANES; j++)
                acc[j] += a[i + j] * b[i + j];
        for (; i < k; i++)
            acc[0] += a[i] * b[i];
    } else {
        for (; i + LANES <= k; i += LANES)
            for (int j = 0; j < LANES; j++)
                acc[j] += a[i + j];
        for (; i < k; i++)
            acc[0] += a[i];
    }
    return lanes_total(acc);
}

/* ---- contiguous rows (inner == 1) --------------------------------------- */

static void row_forward(const float *x, float *y, int64_t k, bool lg)
{
    float m = row_max(x, k);
    if (lg) {
        float lse = m + logf(row_sum_exp(x, m, NULL, k));
        for (int64_t i = 0; i < k; i++)
            y[i] = x[i] - lse;
    } else {
        float inv = 1.0f / row_sum_exp(x, m, y, k);
        for (int64_t i = 0; i < k; i++)
            y[i] *= inv;
    }
}

static void row_backward(const float *y, const float *g, float *gx,
                         int64_t k, bool lg)
{
    if (lg) {
        float s = row_dot(g, NULL, k);
        for (int64_t i = 0; i < k; i++)
            gx[i] += g[i] - vexpf(y[i]) * s;
    } else {
        float s = row_dot(g, y, k);
        for (int64_t i = 0; i < k; i++)
            gx[i] += y[i] * (g[i] - s);
    }
}

/* ---- strided tiles (inner > 1): w columns of stride st ------------------ */

static void tile_forward(const float *x, float *y, int64_t k, int64_t st,
                         int w, bool lg)
{
    float m[TILE], z[TILE];
    for (int j = 0; j < w; j++) {
        m[j] = -INFINITY;
        z[j] = 0.0f;
    }
    for (int64_t i = 0; i < k; i++) {
        const float *xr = x + i * st;
        for (int j = 0; j < w; j++)
            m[j] = xr[j] > m[j] ? xr[j] : m[j];
    }
    for (int64_t i = 0; i < k; i++) {
        const float *xr = x + i * st;
        float *yr = y + i * st;
        for (int j = 0; j < w; j++) {
            float e = vexpf(xr[j] - m[j]);
            yr[j] = e;
            z[j] += e;
        }
    }
    for (int j = 0; j < w; j++)
        z[j] = lg ? m[j] + logf(z[j]) : 1.0f / z[j];
    for (int64_t i = 0; i < k; i++) {
        const float *xr = x + i * st;
        float *yr = y + i * st;
        if (lg)
            for (int j = 0; j < w; j++)
                yr[j] = xr[j] - z[j];
        else
            for (int j = 0; j < w; j++)
                yr[j] *= z[j];
    }
}

static void tile_backward(const float *y, const float *g, float *gx,
                          int64_t k, int64_t st, int w, bool lg)
{
    float s[TILE];
    for (int j = 0; j < w; j++)
        s[j] = 0.0f;
    for (int64_t i = 0; i < k; i++) {
        const float *yr = y + i * st, *gr = g + i * st;
        if (lg)
            for (int j = 0; j < w; j++)
                s[j] += gr[j];
        else
            for (int j = 0; j < w; j++)
                s[j] += gr[j] * yr[j];
    }
    for (int64_t i = 0; i < k; i++) {
        const float *yr = y + i * st, *gr = g + i * st;
        float *gxr = gx + i * st;
        if (lg)
            for (int j = 0; j < w; j++)
                gxr[j] += gr[j] - vexpf(yr[j]) * s[j];
        else
            for (int j = 0; j < w; j++)
                gxr[j] += yr[j] * (gr[j] - s[j]);
    }
}

/* ---- drivers ------------------------------------------------------------ */

/* Forward (gx == NULL: y = f(x)) or backward (y, g, gx) over all rows. */
static void sm_run(const sm_dims *d, const float *x, float *y, const float *g,
                   float *gx, bool lg)
{
    int64_t numel = d->outer * d->k * d->inner;
    if (d->inner == 1) {
#pragma omp parallel for schedule(static) if (numel > PAR_MIN)
        for (int64_t o = 0; o < d->outer; o++) {
            int64_t off = o * d->k;
            if (gx)
                row_backward(y + off, g + off, gx + off, d->k, lg);
            else
                row_forward(x + off, y + off, d->k, lg);
        }
        return;
    }
    int64_t nt = (d->inner + TILE - 1) / TILE, tasks = d->outer * nt;
#pragma omp parallel for schedule(static) if (numel > PAR_MIN)
    for (int64_t t = 0; t < tasks; t++) {
        int64_t o = t / nt, j0 = (t % nt) * TILE;
        int w = (int)(d->inner - j0 < TILE ? d->inner - j0 : TILE);
        int64_t off = o * d->k * d->inner + j0;
        if (gx)
            tile_backward(y + off, g + off, gx + off, d->k, d->inner, w, lg);
        else
            tile_forward(x + off, y + off, d->k, d->inner, w, lg);
    }
}

static lt_status sm_backward(lt_ctx *c, lt_node *n)
{
    float *gx = lt_in_grad(c, n, 0);
    if (!gx)
        return LT_OK;
    sm_dims d = {n->iarg[0], n->iarg[1], n->iarg[2]};
    sm_run(&d, NULL, n->out->data, n->out->grad, gx, n->iarg[3] != 0);
    return LT_OK;
}

static lt_tensor *sm_op(lt_ctx *c, lt_tensor *x, int axis, bool lg)
{
    if (!x)
        return NULL;
    const char *name = lg ? "log_softmax" : "softmax";
    int a = lt_axis(x, axis, name);
    if (a < 0)
        return NULL;
    sm_dims d = {1, x->shape[a], 1};
    for (int i = 0; i < a; i++)
        d.outer *= x->shape[i];
    for (int i = a + 1; i < x->ndim; i++)
        d.inner *= x->shape[i];
    lt_tensor *y = lt_new_like(c, x);
    if (!y)
        return NULL;
    if (x->numel > 0)
        sm_run(&d, x->data, y->data, NULL, NULL, lg);
    if (lt_needs_grad(c, 1, &x)) {
        lt_node *n = lt_record(c, y, sm_backward, name, 1, &x);
        if (!n)
            return NULL;
        n->iarg[0] = d.outer;
        n->iarg[1] = d.k;
        n->iarg[2] = d.inner;
        n->iarg[3] = lg;
    }
    return y;
}

lt_tensor *lt_softmax(lt_ctx *c, lt_tensor *x, int axis)
{
    return sm_op(c, x, axis, false);
}

lt_tensor *lt_log_softmax(lt_ctx *c, lt_tensor *x, int axis)
{
    return sm_op(c, x, axis, true);
}
