/*
 * pool.c - pooling and resampling of NCHW images: max and average pooling
 * (PyTorch semantics: floor mode, -inf / zero padding, count_include_pad),
 * global average pooling and nearest-neighbour upsampling by an integer
 * factor. Every op works plane by plane (one n, c), in parallel over planes.
 */
#include "lethe/ops.h"

#include <math.h>

#define PAR_MIN 32768

typedef struct {
    int64_t planes, H, W, OH, OW, k, s, p;
} pgeom;

static bool check_4d(const char *op, const lt_tensor *x)
{
    char b[64];
    if (x->ndim != 4) {
        lt_set_error(LT_ERR_SHAPE, "%s: input %s must be 4-D (NCHW)", op,
                     lt_shape_str(x, b, sizeof b));
        return false;
    }
    return true;
}

static bool pool_geom(const char *op, const lt_tensor *x, int k, int s, int p,
                      pgeom *q)
{
    char b[64];
    if (!check_4d(op, x))
        return false;
    if (s == 0)
        s = k;
    if (k < 1 || s < 1 || p < 0 || 2 * p > k) {
        lt_set_error(LT_ERR_ARG, "%s: kernel %d, stride %d, padding %d: need "
                     "kernel >= 1, stride >= 1, 0 <= padding <= kernel/2",
                     op, k, s, p);
        return false;
    }
    q->planes = x->shape[0] * x->shape[1];
    q->H = x->shape[2];
    q->W = x->shape[3];
    q->k = k, q->s = s, q->p = p;
    if (q->H + 2 * p < k || q->W + 2 * p < k) {
        lt_set_error(LT_ERR_SHAPE, "%s: kernel %d is larger than the padded "
                     "input %s (padding %d)", op, k,
                     lt_shape_str(x, b, sizeof b), p);
        return false;
    }
    q->OH = (q->H + 2 * p - k) / s + 1;
    q->OW = (q->W + 2 * p - k) / s + 1;
    return true;
}

static lt_tensor *pool_out(lt_ctx *c, const lt_tensor *x, const pgeom *q)
{
    return lt_new4(c, x->shape[0], x->shape[1], q->OH, q->OW);
}

static void clip(int64_t start, int64_t k, int64_t n, int64_t *lo,
                 int64_t *hi)
{
    *lo = start < 0 ? 0 : start;
    *hi = start + k < n ? start + k : n;
}

/* ---- max pool ------------------------------------------------------------ */

static void max_plane(const pgeom *q, const float *x, float *y, int32_t *idx)
{
    for (int64_t oh = 0; oh < q->OH; oh++) {
        int64_t h0, h1;
        clip(oh * q->s - q->p, q->k, q->H, &h0, &h1);
        for (int64_t ow = 0; ow < q->OW; ow++) {
            int64_t w0, w1;
            clip(ow * q->s - q->p, q->k, q->W, &w0, &w1);
            float m = -INFINITY;
            int64_t mi = h0 * q->W + w0;
            for (int64_t h = h0; h < h1; h++)
                for (int64_t w = w0; w < w1; w++) {
                    float v = x[h * q->W + w];
                    if (v > m || isnan(v)) {
                        m = v;
                        mi = h * q->W + w;
                        if (isnan(v))
                            goto done;
                    }
                }
        done:
            y[oh * q->OW + ow] = m;
            if (idx)
                idx[oh * q->OW + ow] = (int32_t)mi;
        }
    }
}

static lt_status max_pool_backward(lt_ctx *c, lt_node *n)
{
    float *gx = lt_in_grad(c, n, 0);
    if (!gx)
        return LT_OK;
    const int32_t *idx = n->saved;
    const float *gy = n->out->grad;
    int64_t planes = n->iarg[0], hw = n->iarg[1], ohw = n->iarg[2];
#pragma omp parallel for schedule(static) if (planes * ohw > PAR_MIN)
    for (int64_t i = 0; i < planes; i++)
        for (int64_t j = 0; j < ohw; j++)
            gx[i * hw + idx[i * ohw + j]] += gy[i * ohw + j];
    return LT_OK;
}

lt_tensor *lt_max_pool2d(lt_ctx *c, lt_tensor *x, int k, int s, int p)
{
    if (!x)
        return NULL;
    pgeom q;
    if (!pool_geom("max_pool2d", x, k, s, p, &q))
        return NULL;
    lt_tensor *y = pool_out(c, x, &q);
    if (!y)
        return NULL;
    bool grad = lt_needs_grad(c, 1, &x);
    int64_t ohw = q.OH * q.OW, hw = q.H * q.W;
    int32_t *idx = NULL;
    if (grad && !(idx = lt_alloc(c, (size_t)(q.planes * ohw) *
                                        sizeof(int32_t))))
        return NULL;
#pragma omp parallel for schedule(static) if (x->numel > PAR_MIN)
    for (int64_t i = 0; i < q.planes; i++)
        max_plane(&q, x->data + i * hw, y->data + i * ohw,
                  idx ? idx + i * ohw : NULL);
    if (grad) {
        lt_node *n = lt_record(c, y, max_pool_backward, "max_pool2d", 1, &x);
        if (!n)
            return NULL;
        n->saved = idx;
        n->iarg[0] = q.planes, n->iarg[1] = hw, n->iarg[2] = ohw;
    }
    return y;
}

/* ---- average pool -------------------------------------------------------- */

static void avg_plane(const pgeom *q, const float *x, float *y)
{
    float inv = 1.0f / (float)(q->k * q->k);
    for (int64_t oh = 0; oh < q->OH; oh++) {
        int64_t h0, h1;
        clip(oh * q->s - q->p, q->k, q->H, &h0, &h1);
        for (int64_t ow = 0; ow < q->OW; ow++) {
            int64_t w0, w1;
            clip(ow * q->s - q->p, q->k, q->W, &w0, &w1);
            float sum = 0;
            for (int64_t h = h0; h < h1; h++)
                for (int64_t w = w0; w < w1; w++)
                    sum += x[h * q->W + w];
            y[oh * q->OW + ow] = sum * inv;
        }
    }
}

static void avg_plane_back(const pgeom *q, const float *gy, float *gx)
{
    float inv = 1.0f / (float)(q->k * q->k);
    for (int64_t oh = 0; oh < q->OH; oh++) {
        int64_t h0, h1;
        clip(oh * q->s - q->p, q->k, q->H, &h0, &h1);
        for (int64_t ow = 0; ow < q->OW; ow++) {
            int64_t w0, w1;
            clip(ow * q->s - q->p, q->k, q->W, &w0, &w1);
            float g = gy[oh * q->OW + ow] * inv;
            for (int64_t h = h0; h < h1; h++)
                for (int64_t w = w0; w < w1; w++)
                    gx[h * q->W + w] += g;
        }
    }
}

static lt_status avg_pool_backward(lt_ctx *c, lt_node *n)
{
    float *gx = lt_in_grad(c, n, 0);
    if (!gx)
        return LT_OK;
    const pgeom *q = n->saved;
    int64_t hw = q->H * q->W, ohw = q->OH * q->OW;
#pragma omp parallel for schedule(static) if (q->planes * hw > PAR_MIN)
    for (int64_t i = 0; i < q->planes; i++)
        avg_plane_back(q, n->out->grad + i * ohw, gx + i * hw);
    return LT_OK;
}

lt_tensor *lt_avg_pool2d(lt_ctx *c, lt_tensor *x, int k, int s, int p)
{
    if (!x)
        return NULL;
    pgeom q;
    if (!pool_geom("avg_pool2d", x, k, s, p, &q))
        return NULL;
    lt_tensor *y = pool_out(c, x, &q);
    if (!y)
        return NULL;
    int64_t ohw = q.OH * q.OW, hw = q.H * q.W;
#pragma omp parallel for schedule(static) if (x->numel > PAR_MIN)
    for (int64_t i = 0; i < q.planes; i++)
        avg_plane(&q, x->data + i * hw, y->data + i * ohw);
    if (lt_needs_grad(c, 1, &x)) {
        lt_node *n = lt_record(c, y, avg_pool_backward, "avg_pool2d", 1, &x);
        pgeom *sq = n ? lt_alloc(c, sizeof *sq) : NULL;
        if (!sq)
            return NULL;
        *sq = q;
        n->saved = sq;
    }
    return y;
}

/* ---- global average pool --------------------------------------------------- */

static lt_status gap_backward(lt_ctx *c, lt_node *n)
{
    float *gx = lt_in_grad(c, n, 0);
    if (!gx)
        return LT_OK;
    int64_t planes = n->iarg[0], hw = n->iarg[1];
    const float *gy = n->out->grad;
#pragma omp parallel for schedule(static) if (planes * hw > PAR_MIN)
    for (int64_t i = 0; i < planes; i++) {
        float g = gy[i] / (float)hw;
        for (int64_t j = 0; j < hw; j++)
            gx[i * hw + j] += g;
    }
    return LT_OK;
}

lt_tensor *lt_global_avg_pool(lt_ctx *c, lt_tensor *x)
{
    if (!x)
        return NULL;
    if (!check_4d("global_avg_pool", x))
        return NULL;
    lt_tensor *y = lt_new2(c, x->shape[0], x->shape[1]);
    if (!y)
        return NULL;
    int64_t planes = y->numel, hw = x->shape[2] * x->shape[3];
#pragma omp parallel for schedule(static) if (x->numel > PAR_MIN)
    for (int64_t i = 0; i < planes; i++) {
        const float *p = x->data + i * hw;
        float s = 0;
        for (int64_t j = 0; j < hw; j++)
            s += p[j];
        y->data[i] = s / (float)hw;
    }
    if (lt_needs_grad(c, 1, &x)) {
        lt_node *n = lt_record(c, y, gap_backward, "global_avg_pool", 1, &x);
        if (!n)
            return NULL;
        n->iarg[0] = planes, n->iarg[1] = hw;
    }
    return y;
}

/* ---- nearest upsampling ----------------------------------------------------- */

static lt_status upsample_backward(lt_ctx *c, lt_node *n)
{
    float *gx = lt_in_grad(c, n, 0);
    if (!gx)
        return LT_OK;
    const lt_tensor *x = n->in[0];
    int64_t planes = x->shape[0] * x->shape[1], H = x->shape[2];
    int64_t W = x->shape[3], s = n->iarg[0], OW = W * s;
    const float *gy = n->out->grad;
#pragma omp parallel for schedule(static) if (x->numel * s * s > PAR_MIN)
    for (int64_t i = 0; i < planes; i++)
        for (int64_t h = 0; h < H; h++) {
            float *gr = gx + (i * H + h) * W;
            for (int64_t a = 0; a < s; a++) {
                const float *yr = gy + (i * H * s + h * s + a) * OW;
                for (int64_t w = 0; w < W; w++)
                    for (int64_t b = 0; b < s; b++)
                        gr[w] += yr[w * s + b];
            }
        }
    return LT_OK;
}

lt_tensor *lt_upsample_nearest2d(lt_ctx *c, lt_tensor *x, int scale)
{
    if (!x)
        return NULL;
    if (!check_4d("upsample_nearest2d", x))
        return NULL;
    if (scale < 1) {
        lt_set_error(LT_ERR_ARG, "upsample_nearest2d: scale %d must be >= 1",
                     scale);
        return NULL;
    }
    int64_t s = scale, H = x->shape[2], W = x->shape[3];
    lt_tensor *y = lt_new4(c, x->shape[0], x->shape[1], H * s, W * s);
    if (!y)
        return NULL;
    int64_t rows = x->shape[0] * x->shape[1] * H, OW = W * s;
#pragma omp parallel for schedule(static) if (y->numel > PAR_MIN)
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x->data + r * W;
        for (int64_t a = 0; a < s; a++) {
            float *yr = y->data + (r * s + a) * OW;
            for (int64_t w = 0; w < W; w++)
                for (int64_t b = 0; b < s; b++)
                    yr[w * s + b] = xr[w];
        }
    }
    if (lt_needs_grad(c, 1, &x)) {
        lt_node *n = lt_record(c, y, upsample_backward, "upsample_nearest2d",
                               1, &x);
        if (!n)
            return NULL;
        n->iarg[0] = s;
    }
    return y;
}
