/*
 * graph_attn.c - fused graph-attention aggregation (the message passing of
 * UM2N's DeformGAT and of GAT-style layers) with its backward beside it.
 *
 * For every edge e = (src[e] -> dst[e]) and head h the score is
 *     z[e,h] = scale * (a_src[src[e],h] + a_dst[dst[e],h]),
 *     s[e,h] = act(z[e,h])            (identity, SELU or leaky ReLU),
 * the weights are the softmax of s over the edges entering the same
 * destination, and the output is the weighted sum of source rows:
 *     y[i,h,:] = sum_{e: dst[e]=i} p[e,h] * x[src[e], h or 0, :].
 * x may carry one row per head ([N, H, C]) or one shared by all heads
 * ([N, 1, C], e.g. coordinates). A node with no incoming edge gets zeros.
 *
 * Edges are grouped by destination once (a counting sort, stable, so every
 * sum runs in ascending edge order and results do not depend on the thread
 * count); the forward keeps only the weights p [E, H] for backward.
 */
#include "lethe/ops.h"

#include <math.h>
#include <string.h>

#define SELU_ALPHA 1.6732632423543772f
#define SELU_SCALE 1.0507009873554805f

typedef struct {
    int32_t *src, *dst;  /* copies of the edge arrays */
    int32_t *order;      /* edges grouped by destination */
    int64_t *start;      /* [N + 1] group bounds in order */
    float *p;            /* [E, H] attention weights */
    int64_t e, n, h, hx, ch;
    int act;
    float scale, slope;
} gat_saved;

static float act_value(int act, float z, float slope)
{
    if (act == LT_GAT_SELU)
        return z > 0 ? SELU_SCALE * z : SELU_SCALE * SELU_ALPHA * expm1f(z);
    if (act == LT_GAT_LEAKY_RELU)
        return z > 0 ? z : slope * z;
    return z;
}

static float act_deriv(int act, float z, float slope)
{
    if (act == LT_GAT_SELU)
        return z > 0 ? SELU_SCALE : SELU_SCALE * SELU_ALPHA * expf(z);
    if (act == LT_GAT_LEAKY_RELU)
        return z > 0 ? 1.0f : slope;
    return 1.0f;
}

/* Counting sort of the edges by destination into s->order / s->start. */
static void group_edges(gat_saved *s)
{
    memset(s->start, 0, (size_t)(s->n + 1) * sizeof(int64_t));
    for (int64_t e = 0; e < s->e; e++)
        s->start[s->dst[e] + 1]++;
    for (int64_t i = 0; i < s->n; i++)
        s->start[i + 1] += s->start[i];
    int64_t *fill = s->start + s->n + 1; /* scratch after start[] */
    memcpy(fill, s->start, (size_t)s->n * sizeof(int64_t));
    for (int64_t e = 0; e < s->e; e++)
        s->order[fill[s->dst[e]]++] = (int32_t)e;
}

static float score(const gat_saved *s, const float *as, const float *ad,
                   int64_t e, int64_t h)
{
    float z = s->scale * (as[(int64_t)s->src[e] * s->h + h] +
                          ad[(int64_t)s->dst[e] * s->h + h]);
    return act_value(s->act, z, s->slope);
}

/* Weights and output of destination i, head h. */
static void forward_node(gat_saved *s, const float *x, const float *as,
                         const float *ad, float *y, int64_t i, int64_t h)
{
    int64_t lo = s->start[i], hi = s->start[i + 1];
    float *yo = y + (i * s->h + h) * s->ch;
    memset(yo, 0, (size_t)s->ch * sizeof(float));
    if (lo == hi)
        return;
    float m = -INFINITY;
    for (int64_t k = lo; k < hi; k++)
        m = fmaxf(m, score(s, as, ad, s->order[k], h));
    double z = 0;
    for (int64_t k = lo; k < hi; k++) {
        int64_t e = s->order[k];
        float w = expf(score(s, as, ad, e, h) - m);
        s->p[e * s->h + h] = w;
        z += w;
    }
    for (int64_t k = lo; k < hi; k++) {
        int64_t e = s->order[k];
        float w = (float)(s->p[e * s->h + h] / z);
        s->p[e * s->h + h] = w;
        const float *xr = x + ((int64_t)s->src[e] * s->hx +
                               (s->hx > 1 ? h : 0)) * s->ch;
        for (int64_t j = 0; j < s->ch; j++)
            yo[j] += w * xr[j];
    }
}

/* Gradients of destination i, head h. The score gradient is
 * p_e * g . (x_e - y_i) (the softmax's p_e (g . x_e - sum_f p_f g . x_f)
 * written with the output y_i = sum_f p_f x_f), summed in double: the
 * difference is taken per channel, where neighbouring rows are close, so
 * the usual cancellation of two nearly equal dot products is avoided. */
static void backward_node(const gat_saved *s, lt_node *n, float *gx,
                          float *gas, float *gad, int64_t i, int64_t h)
{
    const float *x = n->in[0]->data, *as = n->in[1]->data;
    const float *ad = n->in[2]->data;
    const float *g = n->out->grad + (i * s->h + h) * s->ch;
    const float *y = n->out->data + (i * s->h + h) * s->ch;
    for (int64_t k = s->start[i]; k < s->start[i + 1]; k++) {
        int64_t e = s->order[k], sr = s->src[e];
        const float *xr = x + (sr * s->hx + (s->hx > 1 ? h : 0)) * s->ch;
        float pe = s->p[e * s->h + h];
        double gd = 0;
        for (int64_t j = 0; j < s->ch; j++) {
            gd += (double)g[j] * ((double)xr[j] - y[j]);
            if (gx)
                gx[(xr - x) + j] += pe * g[j];
        }
        float z = s->scale * (as[sr * s->h + h] + ad[i * s->h + h]);
        float dz = (float)(pe * gd) * act_deriv(s->act, z, s->slope) *
                   s->scale;
        if (gas)
            gas[sr * s->h + h] += dz;
        if (gad)
            gad[i * s->h + h] += dz;
    }
}

static lt_status gat_backward(lt_ctx *c, lt_node *n)
{
    const gat_saved *s = n->saved;
    float *gx = lt_in_grad(c, n, 0), *gas = lt_in_grad(c, n, 1);
    float *gad = lt_in_grad(c, n, 2);
    for (int64_t i = 0; i < s->n; i++)
        for (int64_t h = 0; h < s->h; h++)
            backward_node(s, n, gx, gas, gad, i, h);
    return LT_OK;
}

static bool gat_check(const lt_tensor *x, const lt_tensor *as,
                      const lt_tensor *ad, const int32_t *src,
                      const int32_t *dst, int64_t e)
{
    char b1[64], b2[64], b3[64];
    int64_t n = as->ndim == 2 ? as->shape[0] : -1;
    if (x->ndim != 3 || as->ndim != 2 || !lt_same_shape(as, ad) ||
        x->shape[0] != n || (x->shape[1] != 1 && x->shape[1] != as->shape[1])) {
        lt_set_error(LT_ERR_SHAPE, "graph_attn: x %s must be [N, H or 1, C] "
                     "and a_src %s, a_dst %s both [N, H]",
                     lt_shape_str(x, b1, sizeof b1),
                     lt_shape_str(as, b2, sizeof b2),
                     lt_shape_str(ad, b3, sizeof b3));
        return false;
    }
    if (e < 0 || (e > 0 && (!src || !dst))) {
        lt_set_error(LT_ERR_ARG, "graph_attn: %lld edges with %s index "
                     "arrays", (long long)e, src && dst ? "" : "NULL");
        return false;
    }
    for (int64_t k = 0; k < e; k++)
        if (src[k] < 0 || src[k] >= n || dst[k] < 0 || dst[k] >= n) {
            lt_set_error(LT_ERR_ARG, "graph_attn: edge %lld (%d -> %d) is "
                         "out of range [0, %lld)", (long long)k, (int)src[k],
                         (int)dst[k], (long long)n);
            return false;
        }
    return true;
}

static gat_saved *gat_prepare(lt_ctx *c, const lt_tensor *x,
                              const lt_tensor *as, const int32_t *src,
                              const int32_t *dst, int64_t e)
{
    gat_saved *s = lt_alloc_zero(c, sizeof *s);
    if (!s)
        return NULL;
    s->e = e;
    s->n = as->shape[0];
    s->h = as->shape[1];
    s->hx = x->shape[1];
    s->ch = x->shape[2];
    size_t ne = (size_t)(e > 0 ? e : 1);
    s->src = lt_alloc(c, ne * sizeof(int32_t));
    s->dst = lt_alloc(c, ne * sizeof(int32_t));
    s->order = lt_alloc(c, ne * sizeof(int32_t));
    s->start = lt_alloc(c, (size_t)(2 * s->n + 1) * sizeof(int64_t));
    s->p = lt_alloc_zero(c, ne * (size_t)s->h * sizeof(float));
    if (!s->src || !s->dst || !s->order || !s->start || !s->p)
        return NULL;
    if (e > 0) {
        memcpy(s->src, src, (size_t)e * sizeof(int32_t));
        memcpy(s->dst, dst, (size_t)e * sizeof(int32_t));
    }
    group_edges(s);
    return s;
}

lt_tensor *lt_graph_attn(lt_ctx *c, lt_tensor *x, lt_tensor *a_src,
                         lt_tensor *a_dst, const int32_t *src,
                         const int32_t *dst, int64_t n_edges,
                         const lt_graph_attn_opts *o)
{
    if (!x || !a_src || !a_dst)
        return NULL;
    if (!gat_check(x, a_src, a_dst, src, dst, n_edges))
        return NULL;
    if (o && (o->act < LT_GAT_IDENTITY || o->act > LT_GAT_LEAKY_RELU)) {
        lt_set_error(LT_ERR_ARG, "graph_attn: unknown activation %d", o->act);
        return NULL;
    }
    gat_saved *s = gat_prepare(c, x, a_src, src, dst, n_edges);
    if (!s)
        return NULL;
    s->scale = o ? o->scale : 1.0f;
    s->act = o ? o->act : LT_GAT_IDENTITY;
    s->slope = o ? o->slope : 0.0f;
    lt_tensor *y = lt_new3(c, s->n, s->h, s->ch);
    if (!y)
        return NULL;
#pragma omp parallel for schedule(static) if (s->n * s->h * s->ch > 32768)
    for (int64_t i = 0; i < s->n; i++)
        for (int64_t h = 0; h < s->h; h++)
            forward_node(s, x->data, a_src->data, a_dst->data, y->data, i, h);
    lt_tensor *in[3] = {x, a_src, a_dst};
    if (lt_needs_grad(c, 3, in)) {
        lt_node *nd = lt_record(c, y, gat_backward, "graph_attn", 3, in);
        if (!nd)
            return NULL;
        nd->saved = s;
    }
    return y;
}
