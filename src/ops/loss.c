/*
 * loss.c - loss functions: cross entropy with integer labels or soft
 * targets, smoothed targets, per-sequence NLL (language models), MSE and
 * KL divergence, each matching its PyTorch counterpart.
 *
 * Every loss first writes per-element losses (an [N] or input-shaped
 * buffer); reduction NONE returns that buffer as the output, SUM / MEAN /
 * BATCHMEAN sum it in double over fixed blocks (so the result does not
 * depend on the thread count) and scale it. Backward reads the upstream
 * gradient of element i through up_grad(): g[i] for NONE, g[0] * scale
 * otherwise (scale in farg[0], the reduction in iarg[0]).
 */
#include "lethe/ops.h"
#include "vmath.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define PAR_MIN 32768
#define SUM_BLOCK 4096

static const char *reduction_name(lt_reduction r)
{
    switch (r) {
    case LT_REDUCE_MEAN: return "mean";
    case LT_REDUCE_SUM: return "sum";
    case LT_REDUCE_NONE: return "none";
    case LT_REDUCE_BATCHMEAN: return "batchmean";
    }
    return "?";
}

static bool check_reduction(lt_reduction r, const char *op,
                            bool allow_batchmean)
{
    if (r == LT_REDUCE_MEAN || r == LT_REDUCE_SUM || r == LT_REDUCE_NONE ||
        (allow_batchmean && r == LT_REDUCE_BATCHMEAN))
        return true;
    if (r == LT_REDUCE_BATCHMEAN)
        lt_set_error(LT_ERR_ARG, "%s: reduction %s is only meaningful for "
                     "kl_div", op, reduction_name(r));
    else
        lt_set_error(LT_ERR_ARG, "%s: unknown reduction %d", op, (int)r);
    return false;
}

static bool check_same_shape(const lt_tensor *a, const lt_tensor *b,
                             const char *op, const char *an, const char *bn)
{
    if (lt_same_shape(a, b))
        return true;
    char sa[64], sb[64];
    lt_set_error(LT_ERR_SHAPE, "%s: %s %s and %s %s differ in shape", op, an,
                 lt_shape_str(a, sa, sizeof sa), bn,
                 lt_shape_str(b, sb, sizeof sb));
    return false;
}

static bool check_ndim(const lt_tensor *x, int ndim, const char *op,
                       const char *what, const char *layout)
{
    if (x->ndim == ndim)
        return true;
    char s[64];
    lt_set_error(LT_ERR_SHAPE, "%s: %s must be %d-D %s, got %s", op, what,
                 ndim, layout, lt_shape_str(x, s, sizeof s));
    return false;
}

/* Integer labels in [0, k) (entries equal to skip are allowed too). */
static bool check_labels(const int32_t *lab, int64_t n, int64_t k,
                         bool use_skip, int32_t skip, const char *op)
{
    if (!lab) {
        lt_set_error(LT_ERR_ARG, "%s: NULL label array", op);
        return false;
    }
    for (int64_t i = 0; i < n; i++) {
        if (use_skip && lab[i] == skip)
            continue;
        if (lab[i] < 0 || lab[i] >= k) {
            lt_set_error(LT_ERR_ARG, "%s: label %d at index %lld is out of "
                         "range [0, %lld)", op, (int)lab[i], (long long)i,
                         (long long)k);
            return false;
        }
    }
    return true;
}

static int32_t *copy_labels(lt_ctx *c, const int32_t *lab, int64_t n)
{
    int32_t *v = lt_alloc(c, (size_t)n * sizeof(int32_t));
    if (v)
        memcpy(v, lab, (size_t)n * sizeof(int32_t));
    return v;
}

/* ---- vectorisable row math (the same helpers as in softmax.c) ----------- */

/* log(sum(exp(x))) of a contiguous row, stable; NaN / +inf give NaN. */
static float row_lse(const float *x, int64_t k)
{
    float mx[LANES], acc[LANES] = {0};
    for (int j = 0; j < LANES; j++)
        mx[j] = -INFINITY;
    int64_t i = 0;
    for (; i + LANES <= k; i += LANES)
        for (int j = 0; j < LANES; j++)
            mx[j] = x[i + j] > mx[j] ? x[i + j] : mx[j];
    for (; i < k; i++)
        mx[0] = x[i] > mx[0] ? x[i] : mx[0];
    float m = mx[0];
    for (int j = 1; j < LANES; j++)
        m = mx[j] > m ? mx[j] : m;
    for (i = 0; i + LANES <= k; i += LANES)
        for (int j = 0; j < LANES; j++)
            acc[j] += vexpf(x[i + j] - m);
    for (; i < k; i++)
        acc[0] += vexpf(x[i] - m);
    return m + logf(lanes_total(acc));
}

/* sum(t * (l - x)): the soft-target loss of a row with lse l. */
static float row_soft_nll(const float *t, const float *x, float l, int64_t k)
{
    float acc[LANES] = {0};
    int64_t i = 0;
    for (; i + LANES <= k; i += LANES)
        for (int j = 0; j < LANES; j++)
            acc[j] += t[i + j] * (l - x[i + j]);
    for (; i < k; i++)
        acc[0] += t[i] * (l - x[i]);
    return lanes_total(acc);
}

static float row_total(const float *t, int64_t k)
{
    float acc[LANES] = {0};
    int64_t i = 0;
    for (; i + LANES <= k; i += LANES)
        for (int j = 0; j < LANES; j++)
            acc[j] += t[i + j];
    for (; i < k; i++)
        acc[0] += t[i];
    return lanes_total(acc);
}

/* ---- reduction ---------------------------------------------------------- */

/* Per-element buffer: the output itself for NONE (shape ndim/shape),
 * arena scratch otherwise. *out receives the output tensor. */
static float *per_buffer(lt_ctx *c, lt_reduction r, int ndim,
                         const int64_t *shape, lt_tensor **out)
{
    if (r == LT_REDUCE_NONE) {
        *out = lt_new(c, ndim, shape);
        return *out ? (*out)->data : NULL;
    }
    *out = lt_scalar(c, 0.0f);
    if (!*out)
        return NULL;
    float *v = lt_alloc(c, (size_t)lt_shape_numel(ndim, shape) *
                               sizeof(float));
    return v;
}

/* Sum of v[0..n) in double, blockwise: independent of the thread count. */
static double block_sum(lt_ctx *c, const float *v, int64_t n, bool *ok)
{
    int64_t nb = (n + SUM_BLOCK - 1) / SUM_BLOCK;
    double *part = lt_alloc(c, (size_t)(nb > 0 ? nb : 1) * sizeof(double));
    *ok = part != NULL;
    if (!part)
        return 0.0;
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
    for (int64_t b = 0; b < nb; b++) {
        int64_t i1 = (b + 1) * SUM_BLOCK < n ? (b + 1) * SUM_BLOCK : n;
        double s = 0.0;
        for (int64_t i = b * SUM_BLOCK; i < i1; i++)
            s += v[i];
        part[b] = s;
    }
    double s = 0.0;
    for (int64_t b = 0; b < nb; b++)
        s += part[b];
    return s;
}

/* Scale applied to the sum for reduction r: n elements, first dim n0. */
static float reduce_scale(lt_reduction r, int64_t n, int64_t n0)
{
    if (r == LT_REDUCE_MEAN)
        return 1.0f / (float)n;
    if (r == LT_REDUCE_BATCHMEAN)
        return 1.0f / (float)n0;
    return 1.0f;
}

/* Writes the reduced value into out (nothing for NONE). false: no arena. */
static bool finish_reduce(lt_ctx *c, lt_tensor *out, const float *per,
                          int64_t n, lt_reduction r, int64_t n0)
{
    if (r == LT_REDUCE_NONE)
        return true;
    bool ok;
    double s = block_sum(c, per, n, &ok);
    if (r == LT_REDUCE_MEAN)
        s /= (double)n;
    else if (r == LT_REDUCE_BATCHMEAN)
        s /= (double)n0;
    out->data[0] = (float)s;
    return ok;
}

static inline float up_grad(const lt_node *n, int64_t i)
{
    const float *g = n->out->grad;
    return n->iarg[0] == LT_REDUCE_NONE ? g[i] : g[0] * n->farg[0];
}

static void set_reduce_args(lt_node *n, lt_reduction r, int64_t cnt,
                            int64_t n0)
{
    n->iarg[0] = r;
    n->farg[0] = reduce_scale(r, cnt, n0);
}

/* ---- cross entropy with integer labels ---------------------------------- */

/* gx_row += gi * (softmax(x_row) - onehot(label)). */
static void ce_row_grad(const float *x, float *gx, int64_t k, float lse,
                        int32_t label, float gi)
{
    for (int64_t j = 0; j < k; j++)
        gx[j] += gi * vexpf(x[j] - lse);
    gx[label] -= gi;
}

/* iarg[0] reduction, saved: lse [N], saved2: labels [N]. */
static lt_status ce_backward(lt_ctx *c, lt_node *n)
{
    float *gx = lt_in_grad(c, n, 0);
    if (!gx)
        return LT_OK;
    const lt_tensor *x = n->in[0];
    const float *lse = n->saved;
    const int32_t *lab = n->saved2;
    int64_t rows = x->shape[0], k = x->shape[1];
#pragma omp parallel for schedule(static) if (x->numel > PAR_MIN)
    for (int64_t i = 0; i < rows; i++)
        ce_row_grad(x->data + i * k, gx + i * k, k, lse[i], lab[i],
                    up_grad(n, i));
    return LT_OK;
}

lt_tensor *lt_cross_entropy(lt_ctx *c, lt_tensor *logits,
                            const int32_t *labels, lt_reduction r)
{
    const char *op = "cross_entropy";
    if (!logits)
        return NULL;
    if (!check_reduction(r, op, false) ||
        !check_ndim(logits, 2, op, "logits", "[N, K]"))
        return NULL;
    int64_t rows = logits->shape[0], k = logits->shape[1];
    if (!check_labels(labels, rows, k, false, 0, op))
        return NULL;
    lt_tensor *out;
    float *per = per_buffer(c, r, 1, &rows, &out);
    float *lse = lt_alloc(c, (size_t)rows * sizeof(float));
    if (!per || !lse)
        return NULL;
    const float *x = logits->data;
#pragma omp parallel for schedule(static) if (logits->numel > PAR_MIN)
    for (int64_t i = 0; i < rows; i++) {
        lse[i] = row_lse(x + i * k, k);
        per[i] = lse[i] - x[i * k + labels[i]];
    }
    if (!finish_reduce(c, out, per, rows, r, rows))
        return NULL;
    if (lt_needs_grad(c, 1, &logits)) {
        int32_t *lab = copy_labels(c, labels, rows);
        lt_node *n = lab ? lt_record(c, out, ce_backward, op, 1, &logits)
                         : NULL;
        if (!n)
            return NULL;
        set_reduce_args(n, r, rows, rows);
        n->saved = lse;
        n->saved2 = lab;
    }
    return out;
}

/* ---- cross entropy with soft targets ------------------------------------ */

/* in[0] logits, in[1] targets; saved: lse [N]. */
static lt_status ces_backward(lt_ctx *c, lt_node *n)
{
    float *gx = lt_in_grad(c, n, 0), *gt = lt_in_grad(c, n, 1);
    const lt_tensor *x = n->in[0], *t = n->in[1];
    const float *lse = n->saved;
    int64_t rows = x->shape[0], k = x->shape[1];
#pragma omp parallel for schedule(static) if (x->numel > PAR_MIN)
    for (int64_t i = 0; i < rows; i++) {
        const float *xr = x->data + i * k, *tr = t->data + i * k;
        float gi = up_grad(n, i), l = lse[i];
        if (gx) {
            float ts = row_total(tr, k);
            float *gr = gx + i * k;
            for (int64_t j = 0; j < k; j++)
                gr[j] += gi * (ts * vexpf(xr[j] - l) - tr[j]);
        }
        if (gt) {
            float *gr = gt + i * k;
            for (int64_t j = 0; j < k; j++)
                gr[j] += gi * (l - xr[j]);
        }
    }
    return LT_OK;
}

lt_tensor *lt_cross_entropy_soft(lt_ctx *c, lt_tensor *logits,
                                 lt_tensor *targets, lt_reduction r)
{
    const char *op = "cross_entropy_soft";
    if (!logits || !targets)
        return NULL;
    if (!check_reduction(r, op, false) ||
        !check_ndim(logits, 2, op, "logits", "[N, K]") ||
        !check_same_shape(logits, targets, op, "logits", "targets"))
        return NULL;
    int64_t rows = logits->shape[0], k = logits->shape[1];
    lt_tensor *out;
    float *per = per_buffer(c, r, 1, &rows, &out);
    float *lse = lt_alloc(c, (size_t)rows * sizeof(float));
    if (!per || !lse)
        return NULL;
#pragma omp parallel for schedule(static) if (logits->numel > PAR_MIN)
    for (int64_t i = 0; i < rows; i++) {
        const float *xr = logits->data + i * k, *tr = targets->data + i * k;
        lse[i] = row_lse(xr, k);
        per[i] = row_soft_nll(tr, xr, lse[i], k);
    }
    if (!finish_reduce(c, out, per, rows, r, rows))
        return NULL;
    lt_tensor *in[2] = {logits, targets};
    if (lt_needs_grad(c, 2, in)) {
        lt_node *n = lt_record(c, out, ces_backward, op, 2, in);
        if (!n)
            return NULL;
        set_reduce_args(n, r, rows, rows);
        n->saved = lse;
    }
    return out;
}

lt_tensor *lt_smooth_targets(lt_ctx *c, const int32_t *labels, int64_t n,
                             int64_t k, float alpha)
{
    const char *op = "smooth_targets";
    if (n < 1 || k < 1) {
        lt_set_error(LT_ERR_ARG, "%s: n = %lld and k = %lld must be >= 1", op,
                     (long long)n, (long long)k);
        return NULL;
    }
    if (!isfinite(alpha)) {
        lt_set_error(LT_ERR_ARG, "%s: alpha is not finite", op);
        return NULL;
    }
    if (!check_labels(labels, n, k, false, 0, op))
        return NULL;
    lt_tensor *t = lt_new2(c, n, k);
    if (!t)
        return NULL;
    float off = alpha / (float)k, on = 1.0f - alpha + off;
#pragma omp parallel for schedule(static) if (n * k > PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        for (int64_t j = 0; j < k; j++)
            t->data[i * k + j] = off;
        t->data[i * k + labels[i]] = on;
    }
    return t;
}

/* ---- per-sequence negative log-likelihood ------------------------------- */

/* iarg[1] ignore_index; saved: lse [B*T], saved2: targets [B*T]. */
static lt_status seq_nll_backward(lt_ctx *c, lt_node *n)
{
    float *gx = lt_in_grad(c, n, 0);
    if (!gx)
        return LT_OK;
    const lt_tensor *x = n->in[0];
    const float *lse = n->saved, *g = n->out->grad;
    const int32_t *tg = n->saved2;
    int32_t ign = (int32_t)n->iarg[1];
    int64_t t_len = x->shape[1], v = x->shape[2];
    int64_t pos = x->shape[0] * t_len;
#pragma omp parallel for schedule(static) if (x->numel > PAR_MIN)
    for (int64_t p = 0; p < pos; p++)
        if (tg[p] != ign)
            ce_row_grad(x->data + p * v, gx + p * v, v, lse[p], tg[p],
                        g[p / t_len]);
    return LT_OK;
}

lt_tensor *lt_seq_nll(lt_ctx *c, lt_tensor *logits, const int32_t *targets,
                      int32_t ignore_index)
{
    const char *op = "seq_nll";
    if (!logits)
        return NULL;
    if (!check_ndim(logits, 3, op, "logits", "[B, T, V]"))
        return NULL;
    int64_t b = logits->shape[0], t_len = logits->shape[1];
    int64_t v = logits->shape[2], pos = b * t_len;
    if (!check_labels(targets, pos, v, true, ignore_index, op))
        return NULL;
    lt_tensor *out = lt_new1(c, b);
    float *lse = lt_alloc(c, (size_t)pos * sizeof(float));
    float *nll = lt_alloc(c, (size_t)pos * sizeof(float));
    if (!out || !lse || !nll)
        return NULL;
    const float *x = logits->data;
#pragma omp parallel for schedule(static) if (logits->numel > PAR_MIN)
    for (int64_t p = 0; p < pos; p++) {
        bool skip = targets[p] == ignore_index;
        lse[p] = skip ? 0.0f : row_lse(x + p * v, v);
        nll[p] = skip ? 0.0f : lse[p] - x[p * v + targets[p]];
    }
    for (int64_t i = 0; i < b; i++) {
        double s = 0.0;
        for (int64_t p = i * t_len; p < (i + 1) * t_len; p++)
            s += nll[p];
        out->data[i] = (float)s;
    }
    if (lt_needs_grad(c, 1, &logits)) {
        int32_t *tg = copy_labels(c, targets, pos);
        lt_node *n = tg ? lt_record(c, out, seq_nll_backward, op, 1, &logits)
                        : NULL;
        if (!n)
            return NULL;
        n->iarg[1] = ignore_index;
        n->saved = lse;
        n->saved2 = tg;
    }
    return out;
}

/* ---- mean squared error ------------------------------------------------- */

static lt_status mse_backward(lt_ctx *c, lt_node *n)
{
    float *ga = lt_in_grad(c, n, 0), *gb = lt_in_grad(c, n, 1);
    const float *a = n->in[0]->data, *b = n->in[1]->data;
    int64_t cnt = n->in[0]->numel;
#pragma omp parallel for schedule(static) if (cnt > PAR_MIN)
    for (int64_t i = 0; i < cnt; i++) {
        float d = 2.0f * (a[i] - b[i]) * up_grad(n, i);
        if (ga)
            ga[i] += d;
        if (gb)
            gb[i] -= d;
    }
    return LT_OK;
}

lt_tensor *lt_mse(lt_ctx *c, lt_tensor *a, lt_tensor *b, lt_reduction r)
{
    const char *op = "mse";
    if (!a || !b)
        return NULL;
    if (!check_reduction(r, op, false) ||
        !check_same_shape(a, b, op, "a", "b"))
        return NULL;
    lt_tensor *out;
    float *per = per_buffer(c, r, a->ndim, a->shape, &out);
    if (!per)
        return NULL;
#pragma omp parallel for schedule(static) if (a->numel > PAR_MIN)
    for (int64_t i = 0; i < a->numel; i++) {
        float d = a->data[i] - b->data[i];
        per[i] = d * d;
    }
    if (!finish_reduce(c, out, per, a->numel, r, a->shape[0]))
        return NULL;
    lt_tensor *in[2] = {a, b};
    if (lt_needs_grad(c, 2, in)) {
        lt_node *n = lt_record(c, out, mse_backward, op, 2, in);
        if (!n)
            return NULL;
        set_reduce_args(n, r, a->numel, a->shape[0]);
    }
    return out;
}

/* ---- KL divergence ------------------------------------------------------ */

/* d/dlogq = -p; d/dp = log p - logq + 1 (-inf at p == 0). */
static lt_status kl_backward(lt_ctx *c, lt_node *n)
{
    float *gq = lt_in_grad(c, n, 0), *gp = lt_in_grad(c, n, 1);
    const float *lq = n->in[0]->data, *p = n->in[1]->data;
    int64_t cnt = n->in[0]->numel;
#pragma omp parallel for schedule(static) if (cnt > PAR_MIN)
    for (int64_t i = 0; i < cnt; i++) {
        float g = up_grad(n, i);
        if (gq)
            gq[i] -= g * p[i];
        if (gp)
            gp[i] += g * (logf(p[i]) - lq[i] + 1.0f);
    }
    return LT_OK;
}

lt_tensor *lt_kl_div(lt_ctx *c, lt_tensor *logq, lt_tensor *p,
                     lt_reduction r)
{
    const char *op = "kl_div";
    if (!logq || !p)
        return NULL;
    if (!check_reduction(r, op, true) ||
        !check_same_shape(logq, p, op, "logq", "p"))
        return NULL;
    lt_tensor *out;
    float *per = per_buffer(c, r, logq->ndim, logq->shape, &out);
    if (!per)
        return NULL;
    const float *lq = logq->data, *pd = p->data;
#pragma omp parallel for schedule(static) if (logq->numel > PAR_MIN)
    for (int64_t i = 0; i < logq->numel; i++)
        per[i] = pd[i] == 0.0f ? 0.0f : pd[i] * (logf(pd[i]) - lq[i]);
    if (!finish_reduce(c, out, per, logq->numel, r, logq->shape[0]))
        return NULL;
    lt_tensor *in[2] = {logq, p};
    if (lt_needs_grad(c, 2, in)) {
        lt_node *n = lt_record(c, out, kl_backward, op, 2, in);
        if (!n)
            return NULL;
        set_reduce_args(n, r, logq->numel, logq->shape[0]);
    }
    return out;
}
