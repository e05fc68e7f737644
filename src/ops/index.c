/*
 * index.c - integer-indexed ops: embedding lookup (gather of rows),
 * scatter_add (sum of rows into an output at given row indices, as torch
 * index_add_ along dim 0) and segment softmax (softmax over the entries that
 * share a segment id, as used by graph attention).
 *
 * Row scatters are deterministic: every output element receives its
 * contributions in ascending source order, whatever the thread count. Work
 * is split among threads either by column ranges or by destination row
 * ranges (each thread scans all indices and keeps the rows it owns), so no
 * two threads ever add to the same element.
 */
#include "lethe/ops.h"

#include <math.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#define PAR_MIN 32768 /* elements below which loops stay sequential */

/* [lo, hi) of part t out of nparts for n items. */
static void part_range(int64_t n, int t, int nparts, int64_t *lo, int64_t *hi)
{
    *lo = n * t / nparts;
    *hi = n * (t + 1) / nparts;
}

static int thread_id(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

static int thread_count(void)
{
#ifdef _OPENMP
    return omp_get_num_threads();
#else
    return 1;
#endif
}

/* Checks that idx[0..n) lie in [0, limit); sets an LT_ERR_ARG error. */
static bool check_indices(const char *op, const char *what,
                          const int32_t *idx, int64_t n, int64_t limit)
{
    if (n > 0 && !idx) {
        lt_set_error(LT_ERR_ARG, "%s: %s array is NULL", op, what);
        return false;
    }
    for (int64_t i = 0; i < n; i++)
        if (idx[i] < 0 || idx[i] >= limit) {
            lt_set_error(LT_ERR_ARG, "%s: %s[%lld] = %d is out of range "
                         "[0, %lld)", op, what, (long long)i, (int)idx[i],
                         (long long)limit);
            return false;
        }
    return true;
}

/* Copy of an int array into the arena (at least one element allocated). */
static int32_t *arena_ints(lt_ctx *c, const int32_t *v, int64_t n)
{
    int32_t *p = lt_alloc(c, (size_t)(n > 0 ? n : 1) * sizeof(int32_t));
    if (p && n > 0)
        memcpy(p, v, (size_t)n * sizeof(int32_t));
    return p;
}

/* dst[i, :] (+)= src[idx[i], :] for i < n, rows of d floats. */
static void gather_rows(float *dst, const float *src, const int32_t *idx,
                        int64_t n, int64_t d, bool accumulate)
{
#pragma omp parallel for schedule(static) if (n * d > PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        float *o = dst + i * d;
        const float *s = src + (int64_t)idx[i] * d;
        if (accumulate)
            for (int64_t j = 0; j < d; j++)
                o[j] += s[j];
        else
            memcpy(o, s, (size_t)d * sizeof(float));
    }
}

/* Part of a scatter: rows of dst in [rlo, rhi), columns [c0, c1). */
static void scatter_part(float *dst, const float *src, const int32_t *idx,
                         int64_t n, int64_t d, int64_t rlo, int64_t rhi,
                         int64_t c0, int64_t c1)
{
    for (int64_t i = 0; i < n; i++) {
        int64_t r = idx[i];
        if (r < rlo || r >= rhi)
            continue;
        float *o = dst + r * d;
        const float *s = src + i * d;
        for (int64_t j = c0; j < c1; j++)
            o[j] += s[j];
    }
}

/* dst[idx[i], :] += src[i, :] for i < n; dst has n_dst rows of d floats. */
static void scatter_rows(float *dst, int64_t n_dst, const float *src,
                         const int32_t *idx, int64_t n, int64_t d)
{
    if (n * d <= PAR_MIN || lt_num_threads() < 2) {
        scatter_part(dst, src, idx, n, d, 0, n_dst, 0, d);
        return;
    }
#pragma omp parallel
    {
        int t = thread_id(), nt = thread_count();
        int64_t lo, hi;
        if (d >= 64 * (int64_t)nt || n_dst < nt) {
            part_range(d, t, nt, &lo, &hi);
            scatter_part(dst, src, idx, n, d, 0, n_dst, lo, hi);
        } else {
            part_range(n_dst, t, nt, &lo, &hi);
            scatter_part(dst, src, idx, n, d, lo, hi, 0, d);
        }
    }
}

/* ---- embedding ------------------------------------------------------------ */

static lt_status embedding_backward(lt_ctx *c, lt_node *n)
{
    float *gw = lt_in_grad(c, n, 0);
    if (gw) {
        const lt_tensor *w = n->in[0];
        scatter_rows(gw, w->shape[0], n->out->grad, n->saved, n->iarg[0],
                     w->shape[1]);
    }
    return LT_OK;
}

lt_tensor *lt_embedding(lt_ctx *c, lt_tensor *w, const int32_t *ids,
                        int64_t n)
{
    if (!w)
        return NULL;
    char b[64];
    if (w->ndim != 2) {
        lt_set_error(LT_ERR_SHAPE, "embedding: weight %s must be [V, D]",
                     lt_shape_str(w, b, sizeof b));
        return NULL;
    }
    if (n < 0) {
        lt_set_error(LT_ERR_ARG, "embedding: negative count %lld",
                     (long long)n);
        return NULL;
    }
    if (!check_indices("embedding", "ids", ids, n, w->shape[0]))
        return NULL;
    int64_t d = w->shape[1];
    lt_tensor *y = lt_new2(c, n, d);
    if (!y)
        return NULL;
    gather_rows(y->data, w->data, ids, n, d, false);
    if (lt_needs_grad(c, 1, &w)) {
        lt_node *nd = lt_record(c, y, embedding_backward, "embedding", 1, &w);
        if (!nd || !(nd->saved = arena_ints(c, ids, n)))
            return NULL;
        nd->iarg[0] = n;
    }
    return y;
}

/* ---- scatter_add ------------------------------------------------------------ */

static lt_status scatter_add_backward(lt_ctx *c, lt_node *n)
{
    float *gs = lt_in_grad(c, n, 0);
    if (gs) {
        const lt_tensor *src = n->in[0];
        gather_rows(gs, n->out->grad, n->saved, src->shape[0], n->iarg[0],
                    true);
    }
    return LT_OK;
}

lt_tensor *lt_scatter_add(lt_ctx *c, lt_tensor *src, const int32_t *index,
                          int64_t n_out)
{
    if (!src)
        return NULL;
    if (n_out < 0) {
        lt_set_error(LT_ERR_ARG, "scatter_add: negative n_out %lld",
                     (long long)n_out);
        return NULL;
    }
    int64_t e = src->shape[0];
    if (!check_indices("scatter_add", "index", index, e, n_out))
        return NULL;
    int64_t shape[LT_MAX_DIMS];
    memcpy(shape, src->shape, sizeof shape);
    shape[0] = n_out;
    lt_tensor *y = lt_zeros(c, src->ndim, shape);
    if (!y)
        return NULL;
    int64_t d = lt_shape_numel(src->ndim - 1, src->shape + 1);
    scatter_rows(y->data, n_out, src->data, index, e, d);
    if (lt_needs_grad(c, 1, &src)) {
        lt_node *nd = lt_record(c, y, scatter_add_backward, "scatter_add", 1,
                                &src);
        if (!nd || !(nd->saved = arena_ints(c, index, e)))
            return NULL;
        nd->iarg[0] = d;
    }
    return y;
}

/* ---- segment_softmax -------------------------------------------------------- */

typedef struct {
    const float *x;      /* forward: input; backward: output gradient */
    const float *y;      /* backward: forward output */
    float *out;          /* forward: y; backward: dx (accumulated) */
    const int32_t *seg;
    int64_t e, h;
    float *acc;          /* [n_seg, h] scratch: max and sum, or dot */
    float *acc2;
} segsm_args;

/* Forward over segments [slo, shi) and columns [c0, c1). */
static void segsm_fwd_part(const segsm_args *a, int64_t slo, int64_t shi,
                           int64_t c0, int64_t c1)
{
    const int64_t h = a->h;
    for (int64_t s = slo; s < shi; s++)
        for (int64_t j = c0; j < c1; j++) {
            a->acc[s * h + j] = -INFINITY;
            a->acc2[s * h + j] = 0;
        }
    for (int64_t i = 0; i < a->e; i++) {
        int64_t s = a->seg[i];
        if (s < slo || s >= shi)
            continue;
        for (int64_t j = c0; j < c1; j++)
            a->acc[s * h + j] = fmaxf(a->acc[s * h + j], a->x[i * h + j]);
    }
    for (int64_t i = 0; i < a->e; i++) {
        int64_t s = a->seg[i];
        if (s < slo || s >= shi)
            continue;
        for (int64_t j = c0; j < c1; j++) {
            float v = expf(a->x[i * h + j] - a->acc[s * h + j]);
            a->out[i * h + j] = v;
            a->acc2[s * h + j] += v;
        }
    }
    for (int64_t i = 0; i < a->e; i++) {
        int64_t s = a->seg[i];
        if (s < slo || s >= shi)
            continue;
        for (int64_t j = c0; j < c1; j++)
            a->out[i * h + j] /= a->acc2[s * h + j];
    }
}

/* Backward: dx += y * (dy - sum_seg(y * dy)). */
static void segsm_bwd_part(const segsm_args *a, int64_t slo, int64_t shi,
                           int64_t c0, int64_t c1)
{
    const int64_t h = a->h;
    for (int64_t s = slo; s < shi; s++)
        for (int64_t j = c0; j < c1; j++)
            a->acc[s * h + j] = 0;
    for (int64_t i = 0; i < a->e; i++) {
        int64_t s = a->seg[i];
        if (s < slo || s >= shi)
            continue;
        for (int64_t j = c0; j < c1; j++)
            a->acc[s * h + j] += a->y[i * h + j] * a->x[i * h + j];
    }
    for (int64_t i = 0; i < a->e; i++) {
        int64_t s = a->seg[i];
        if (s < slo || s >= shi)
            continue;
        for (int64_t j = c0; j < c1; j++)
            a->out[i * h + j] +=
                a->y[i * h + j] * (a->x[i * h + j] - a->acc[s * h + j]);
    }
}

typedef void (*segsm_part_fn)(const segsm_args *, int64_t, int64_t, int64_t,
                              int64_t);

/* Runs fn over all segments and columns, split among threads by segment
 * ranges (or by columns when there are fewer segments than threads). */
static void segsm_run(segsm_part_fn fn, const segsm_args *a, int64_t n_seg)
{
    if (a->e * a->h <= PAR_MIN || lt_num_threads() < 2) {
        fn(a, 0, n_seg, 0, a->h);
        return;
    }
#pragma omp parallel
    {
        int t = thread_id(), nt = thread_count();
        int64_t lo, hi;
        if (n_seg >= nt) {
            part_range(n_seg, t, nt, &lo, &hi);
            fn(a, lo, hi, 0, a->h);
        } else {
            part_range(a->h, t, nt, &lo, &hi);
            fn(a, 0, n_seg, lo, hi);
        }
    }
}

static lt_status segment_softmax_backward(lt_ctx *c, lt_node *n)
{
    float *gx = lt_in_grad(c, n, 0);
    if (!gx)
        return LT_OK;
    const lt_tensor *y = n->out;
    int64_t n_seg = n->iarg[0], h = n->iarg[1];
    float *dot = lt_alloc(c, (size_t)(n_seg * h > 0 ? n_seg * h : 1) *
                                 sizeof(float));
    if (!dot)
        return lt_last_status();
    segsm_args a = {y->grad, y->data, gx, n->saved, y->shape[0], h, dot,
                    NULL};
    segsm_run(segsm_bwd_part, &a, n_seg);
    return LT_OK;
}

lt_tensor *lt_segment_softmax(lt_ctx *c, lt_tensor *x, const int32_t *seg,
                              int64_t n_seg)
{
    if (!x)
        return NULL;
    char b[64];
    if (x->ndim != 1 && x->ndim != 2) {
        lt_set_error(LT_ERR_SHAPE, "segment_softmax: input %s must be [E] or "
                     "[E, H]", lt_shape_str(x, b, sizeof b));
        return NULL;
    }
    if (n_seg < 0) {
        lt_set_error(LT_ERR_ARG, "segment_softmax: negative n_seg %lld",
                     (long long)n_seg);
        return NULL;
    }
    int64_t e = x->shape[0], h = x->ndim == 2 ? x->shape[1] : 1;
    if (!check_indices("segment_softmax", "seg", seg, e, n_seg))
        return NULL;
    lt_tensor *y = lt_new_like(c, x);
    size_t acc_n = (size_t)(n_seg * h > 0 ? n_seg * h : 1);
    float *mx = y ? lt_alloc(c, acc_n * sizeof(float)) : NULL;
    float *sm = mx ? lt_alloc(c, acc_n * sizeof(float)) : NULL;
    if (!sm)
        return NULL;
    segsm_args a = {x->data, NULL, y->data, seg, e, h, mx, sm};
    segsm_run(segsm_fwd_part, &a, n_seg);
    if (lt_needs_grad(c, 1, &x)) {
        lt_node *nd = lt_record(c, y, segment_softmax_backward,
                                "segment_softmax", 1, &x);
        if (!nd || !(nd->saved = arena_ints(c, seg, e)))
            return NULL;
        nd->iarg[0] = n_seg;
        nd->iarg[1] = h;
    }
    return y;
}
