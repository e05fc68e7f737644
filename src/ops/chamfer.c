/*
 * chamfer.c - the Chamfer distance between point sets, as pytorch3d's
 * chamfer_distance computes it with its defaults (squared Euclidean
 * distances, mean over the points of each cloud, mean over the batch):
 *     d(X, Y) = mean_i min_j |x_i - y_j|^2 + mean_j min_i |y_j - x_i|^2,
 * averaged over the segments [xoff[b], xoff[b+1]) x [yoff[b], yoff[b+1]).
 * UM2N's loss calls it on the whole batch merged into one cloud (one
 * segment). The nearest neighbours are found by brute force and kept for
 * backward; the gradient flows through them to both clouds, as in
 * pytorch3d (a tie keeps the lowest index).
 */
#include "lethe/ops.h"

#include <math.h>
#include <string.h>

typedef struct {
    int32_t *nn_x, *nn_y;   /* nearest y of each x, nearest x of each y */
    int64_t *xoff, *yoff;
    int64_t nb, d;
} chamfer_saved;

static double sqdist(const float *a, const float *b, int64_t d)
{
    double s = 0;
    for (int64_t k = 0; k < d; k++) {
        double t = (double)a[k] - b[k];
        s += t * t;
    }
    return s;
}

/* For each row of p[plo, phi) the nearest row of q[qlo, qhi); returns
 * the mean of the squared distances. */
static double nearest(const float *p, int64_t plo, int64_t phi,
                      const float *q, int64_t qlo, int64_t qhi, int64_t d,
                      int32_t *nn)
{
    double total = 0;
#pragma omp parallel for schedule(static) reduction(+:total) \
    if ((phi - plo) * (qhi - qlo) > 65536)
    for (int64_t i = plo; i < phi; i++) {
        double best = INFINITY;
        int64_t arg = qlo;
        for (int64_t j = qlo; j < qhi; j++) {
            double s = sqdist(p + i * d, q + j * d, d);
            if (s < best) {
                best = s;
                arg = j;
            }
        }
        nn[i] = (int32_t)arg;
        total += best;
    }
    return total / (double)(phi - plo);
}

/* g += w * 2 (p_i - q_nn) for the rows of p, and the opposite into gq. */
static void pull(const float *p, const float *q, const int32_t *nn,
                 int64_t lo, int64_t hi, int64_t d, float w, float *gp,
                 float *gq)
{
    for (int64_t i = lo; i < hi; i++)
        for (int64_t k = 0; k < d; k++) {
            float t = 2.0f * w * (p[i * d + k] - q[(int64_t)nn[i] * d + k]);
            if (gp)
                gp[i * d + k] += t;
            if (gq)
                gq[(int64_t)nn[i] * d + k] -= t;
        }
}

static lt_status chamfer_backward(lt_ctx *c, lt_node *n)
{
    const chamfer_saved *s = n->saved;
    const float *x = n->in[0]->data, *y = n->in[1]->data;
    float *gx = lt_in_grad(c, n, 0), *gy = lt_in_grad(c, n, 1);
    float g = n->out->grad[0] / (float)s->nb;
    for (int64_t b = 0; b < s->nb; b++) {
        int64_t xl = s->xoff[b], xh = s->xoff[b + 1];
        int64_t yl = s->yoff[b], yh = s->yoff[b + 1];
        pull(x, y, s->nn_x, xl, xh, s->d, g / (float)(xh - xl), gx, gy);
        pull(y, x, s->nn_y, yl, yh, s->d, g / (float)(yh - yl), gy, gx);
    }
    return LT_OK;
}

/* Offsets must start at 0, rise strictly and end at the row count. */
static bool check_offsets(const int64_t *off, int64_t nb, int64_t rows,
                          const char *what)
{
    if (off[0] != 0 || off[nb] != rows) {
        lt_set_error(LT_ERR_ARG, "chamfer: %s offsets run from %lld to %lld, "
                     "not 0 to %lld", what, (long long)off[0],
                     (long long)off[nb], (long long)rows);
        return false;
    }
    for (int64_t b = 0; b < nb; b++)
        if (off[b + 1] <= off[b]) {
            lt_set_error(LT_ERR_ARG, "chamfer: %s segment %lld is empty",
                         what, (long long)b);
            return false;
        }
    return true;
}

static int64_t *copy_offsets(lt_ctx *c, const int64_t *off, int64_t nb,
                             int64_t rows)
{
    int64_t *o = lt_alloc(c, (size_t)(nb + 1) * sizeof(int64_t));
    if (!o)
        return NULL;
    if (off) {
        memcpy(o, off, (size_t)(nb + 1) * sizeof(int64_t));
    } else {
        o[0] = 0;
        o[1] = rows;
    }
    return o;
}

static bool chamfer_check(const lt_tensor *x, const lt_tensor *y,
                          const int64_t *xoff, const int64_t *yoff,
                          int64_t nb)
{
    char b1[64], b2[64];
    if (x->ndim != 2 || y->ndim != 2 || x->shape[1] != y->shape[1]) {
        lt_set_error(LT_ERR_SHAPE, "chamfer: x %s and y %s must be [N, D] "
                     "and [M, D]", lt_shape_str(x, b1, sizeof b1),
                     lt_shape_str(y, b2, sizeof b2));
        return false;
    }
    if (nb < 1 || (nb > 1 && (!xoff || !yoff)) || (!xoff != !yoff)) {
        lt_set_error(LT_ERR_ARG, "chamfer: %lld segments need both offset "
                     "arrays (or neither, for one segment)", (long long)nb);
        return false;
    }
    return !xoff || (check_offsets(xoff, nb, x->shape[0], "x") &&
                     check_offsets(yoff, nb, y->shape[0], "y"));
}

lt_tensor *lt_chamfer(lt_ctx *c, lt_tensor *x, lt_tensor *y,
                      const int64_t *xoff, const int64_t *yoff, int64_t nb)
{
    if (!x || !y)
        return NULL;
    if (!chamfer_check(x, y, xoff, yoff, nb))
        return NULL;
    chamfer_saved *s = lt_alloc(c, sizeof *s);
    if (!s)
        return NULL;
    s->nb = nb;
    s->d = x->shape[1];
    s->xoff = copy_offsets(c, xoff, nb, x->shape[0]);
    s->yoff = copy_offsets(c, yoff, nb, y->shape[0]);
    s->nn_x = lt_alloc(c, (size_t)x->shape[0] * sizeof(int32_t));
    s->nn_y = lt_alloc(c, (size_t)y->shape[0] * sizeof(int32_t));
    lt_tensor *out = lt_new1(c, 1);
    if (!s->xoff || !s->yoff || !s->nn_x || !s->nn_y || !out)
        return NULL;
    double total = 0;
    for (int64_t b = 0; b < nb; b++) {
        int64_t xl = s->xoff[b], xh = s->xoff[b + 1];
        int64_t yl = s->yoff[b], yh = s->yoff[b + 1];
        total += nearest(x->data, xl, xh, y->data, yl, yh, s->d, s->nn_x);
        total += nearest(y->data, yl, yh, x->data, xl, xh, s->d, s->nn_y);
    }
    out->data[0] = (float)(total / (double)nb);
    lt_tensor *in[2] = {x, y};
    if (lt_needs_grad(c, 2, in)) {
        lt_node *n = lt_record(c, out, chamfer_backward, "chamfer", 2, in);
        if (!n)
            return NULL;
        n->saved = s;
    }
    return out;
}
