/*
 * llama_ops.c - fused ops of the Llama blocks, each one pass forward and
 * one pass backward where the generic ops would take several copies:
 *   - heads: columns [col0, col0 + nh*hd) of a projection [B*T, W] (the
 *     fused q|k|v product) -> [B, nh, T, hd], rotated by Hugging Face's
 *     rotate-half RoPE when asked;
 *   - merge: attention output [B, H, T, hd] -> [B*T, H*hd].
 * (SwiGLU is the generic op lt_swiglu, the RoPE table lt_rope_table.)
 * Backward passes accumulate into the input gradient, so the three head
 * ops reading one q|k|v product each add their own columns.
 */
#include "llama_internal.h"

#include <string.h>

#define PAR_MIN 32768

/* ---- heads (+ RoPE) ------------------------------------------------------------ */

typedef struct {
    int64_t B, T, W, col0, nh, hd;
    const float *cs, *sn; /* NULL: no rotation */
} heads_geom;

/* One head row: dst = rot(src) (sign +1) or src += rot^T(dst) (sign -1,
 * accumulate into src). */
static void heads_row(const heads_geom *g, float *x, float *y, int64_t t,
                      bool back)
{
    int64_t half = g->hd / 2;
    if (!g->cs) {
        for (int64_t i = 0; i < g->hd; i++) {
            if (back)
                x[i] += y[i];
            else
                y[i] = x[i];
        }
        return;
    }
    const float *c = g->cs + t * half, *s = g->sn + t * half;
    for (int64_t i = 0; i < half; i++) {
        if (back) {
            float a = y[i], b = y[i + half];
            x[i] += a * c[i] + b * s[i];
            x[i + half] += b * c[i] - a * s[i];
        } else {
            float a = x[i], b = x[i + half];
            y[i] = a * c[i] - b * s[i];
            y[i + half] = b * c[i] + a * s[i];
        }
    }
}

static void heads_run(const heads_geom *g, float *x, float *y, bool back)
{
    int64_t n = g->B * g->nh * g->T;
#pragma omp parallel for schedule(static) if (n * g->hd > PAR_MIN)
    for (int64_t r = 0; r < n; r++) { /* r = (b, h, t) of the output */
        int64_t t = r % g->T, h = (r / g->T) % g->nh, b = r / (g->T * g->nh);
        float *xs = x + (b * g->T + t) * g->W + g->col0 + h * g->hd;
        heads_row(g, xs, y + r * g->hd, t, back);
    }
}

static lt_status heads_backward(lt_ctx *c, lt_node *n)
{
    float *gx = lt_in_grad(c, n, 0);
    if (!gx)
        return LT_OK;
    heads_geom g = {n->iarg[0], n->iarg[1], n->iarg[2], n->iarg[3],
                    n->iarg[4], n->iarg[5], n->saved, n->saved2};
    heads_run(&g, gx, n->out->grad, true);
    return LT_OK;
}

lt_tensor *lt_llama_heads(lt_ctx *c, lt_tensor *x, int64_t B, int64_t T,
                          int64_t col0, int64_t nh, int64_t hd, int64_t pos0,
                          float theta, bool rope)
{
    if (!x)
        return NULL;
    int64_t W = x->shape[x->ndim - 1];
    if (x->numel != B * T * W || col0 + nh * hd > W || hd % 2) {
        lt_set_error(LT_ERR_SHAPE, "llama heads: projection of %lld values "
                     "is not [%lld, >= %lld]", (long long)x->numel,
                     (long long)(B * T), (long long)(col0 + nh * hd));
        return NULL;
    }
    lt_tensor *y = lt_new4(c, B, nh, T, hd);
    float *cs = rope && y ? lt_alloc(c, (size_t)(T * hd) * sizeof(float))
                          : NULL;
    if (!y || (rope && !cs))
        return NULL;
    if (rope)
        lt_rope_table(T, hd, pos0, theta, cs, cs + T * hd / 2);
    heads_geom g = {B, T, W, col0, nh, hd, cs, cs ? cs + T * hd / 2 : NULL};
    heads_run(&g, x->data, y->data, false);
    if (lt_needs_grad(c, 1, &x)) {
        lt_node *n = lt_record(c, y, heads_backward, "llama_heads", 1, &x);
        if (!n)
            return NULL;
        int64_t a[6] = {B, T, W, col0, nh, hd};
        memcpy(n->iarg, a, sizeof a);
        n->saved = cs;
        n->saved2 = cs ? cs + T * hd / 2 : NULL;
    }
    return y;
}

/* ---- merge heads ------------------------------------------------------------ */

/* [B, H, T, hd] <-> [B*T, H*hd]; back: accumulate a += m. */
static void merge_run(const int64_t *s, float *a, float *m, bool back)
{
    int64_t B = s[0], H = s[1], T = s[2], hd = s[3], n = B * H * T;
#pragma omp parallel for schedule(static) if (n * hd > PAR_MIN)
    for (int64_t r = 0; r < n; r++) {
        int64_t t = r % T, h = (r / T) % H, b = r / (T * H);
        float *ar = a + r * hd, *mr = m + ((b * T + t) * H + h) * hd;
        if (back)
            for (int64_t i = 0; i < hd; i++)
                ar[i] += mr[i];
        else
            memcpy(mr, ar, (size_t)hd * sizeof(float));
    }
}

static lt_status merge_backward(lt_ctx *c, lt_node *n)
{
    float *ga = lt_in_grad(c, n, 0);
    if (ga)
        merge_run(n->in[0]->shape, ga, n->out->grad, true);
    return LT_OK;
}

lt_tensor *lt_llama_merge_heads(lt_ctx *c, lt_tensor *a)
{
    if (!a)
        return NULL;
    if (a->ndim != 4) {
        lt_set_error(LT_ERR_SHAPE, "llama merge: need [B, H, T, hd]");
        return NULL;
    }
    const int64_t *s = a->shape;
    lt_tensor *y = lt_new2(c, s[0] * s[2], s[1] * s[3]);
    if (!y)
        return NULL;
    merge_run(s, a->data, y->data, false);
    if (lt_needs_grad(c, 1, &a) &&
        !lt_record(c, y, merge_backward, "llama_merge", 1, &a))
        return NULL;
    return y;
}
