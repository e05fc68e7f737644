/*
 * ste.c - straight-through estimators: ops whose backward is not the
 * derivative of their forward but a surrogate that lets a gradient pass a
 * discrete choice. lt_onehot_st is UnlearnDiff's STERandSelect (the
 * official attack's sampled one-hot token with a hardtanh-clipped gradient
 * passed straight to the simplex variable).
 */
#include "lethe/ops.h"

#include <string.h>

static lt_status onehot_st_backward(lt_ctx *c, lt_node *n)
{
    const float *gy = n->out->grad;
    float *gp = lt_in_grad(c, n, 0);
    if (gp) {
        int64_t numel = n->out->numel;
        for (int64_t i = 0; i < numel; i++) {
            float g = gy[i];
            gp[i] += g > 1.0f ? 1.0f : (g < -1.0f ? -1.0f : g);
        }
    }
    return LT_OK;
}

lt_tensor *lt_onehot_st(lt_ctx *c, lt_tensor *p, const int32_t *idx)
{
    if (!p)
        return NULL;
    char b[64];
    if (p->ndim != 2 || !idx) {
        lt_set_error(LT_ERR_SHAPE, "onehot_st: p %s must be [k, V] with k "
                     "ids", lt_shape_str(p, b, sizeof b));
        return NULL;
    }
    int64_t k = p->shape[0], V = p->shape[1];
    for (int64_t i = 0; i < k; i++)
        if (idx[i] < 0 || idx[i] >= V) {
            lt_set_error(LT_ERR_ARG, "onehot_st: id %d of row %lld outside "
                         "[0, %lld)", (int)idx[i], (long long)i, (long long)V);
            return NULL;
        }
    lt_tensor *y = lt_zeros(c, 2, p->shape);
    if (!y)
        return NULL;
    for (int64_t i = 0; i < k; i++)
        y->data[i * V + idx[i]] = 1.0f;
    if (lt_needs_grad(c, 1, &p) &&
        !lt_record(c, y, onehot_st_backward, "onehot_st", 1, &p))
        return NULL;
    return y;
}
