/*
 * norm.c - normalisation ops with their backward passes: batch norm (train
 * mode with running-statistic updates, eval mode), group norm, layer norm
 * and the Hugging Face Llama RMSNorm, all matching PyTorch.
 *
 * Every op normalises "segments" of its input: a segment is nb runs of bl
 * contiguous floats, stride apart (a batch-norm channel is N runs of H*W;
 * a group-norm row is Cg runs of H*W, a layer-norm row one run of D).
 * Row-norm statistics are accumulated in double, two-pass (mean, then
 * centred squares); batch norm takes one pass (shifted sums, see the batch
 * norm kernels). Per-segment mean and 1/std are saved in the arena; backward
 * recomputes the normalised values from x (nothing else is saved). Loops run in parallel over
 * segments (channels or rows). Gamma/beta gradients of the row norms are
 * summed per fixed chunk of rows, then over chunks in order, so results do
 * not depend on the thread count.
 */
#include "lethe/ops.h"

#include <math.h>

#define NORM_PAR 32768 /* elements below which loops stay serial */
#define NORM_CHUNKS 64 /* row chunks for gamma/beta gradient partials */

/* A segment layout. gamma/beta index of element (k, i) is k * gk + i * gi,
 * gi being 0 (one gamma per run) or 1 (one gamma per element). */
typedef struct {
    int64_t nb, bl, stride;
    int64_t gk, gi;
} seg_t;

/* A run's affine parameter: per element v[i] when v, else the scalar s. */
typedef struct {
    const float *v;
    float s;
} aff_t;

static aff_t aff_at(const float *g, seg_t L, int64_t k, float dflt)
{
    aff_t a = {NULL, dflt};
    if (g && L.gi)
        a.v = g + k * L.gk;
    else if (g)
        a.s = g[k * L.gk];
    return a;
}

static double run_sum(const float *x, int64_t n)
{
    double s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < n; i++)
        s += x[i];
    return s;
}

static double run_sqdev(const float *x, int64_t n, double mu)
{
    double q = 0;
#pragma omp simd reduction(+ : q)
    for (int64_t i = 0; i < n; i++) {
        double d = (double)x[i] - mu;
        q += d * d;
    }
    return q;
}

/* Mean and biased variance of a segment (rms: mean 0, var = mean(x^2)). */
static void seg_stats(const float *x, seg_t L, bool rms, double *mean,
                      double *var)
{
    double m = (double)(L.nb * L.bl), mu = 0, q = 0;
    if (!rms) {
        for (int64_t k = 0; k < L.nb; k++)
            mu += run_sum(x + k * L.stride, L.bl);
        mu /= m;
    }
    for (int64_t k = 0; k < L.nb; k++)
        q += run_sqdev(x + k * L.stride, L.bl, mu);
    *mean = mu;
    *var = q / m;
}

/* y = (x - mean) * invstd * gamma + beta over one segment. */
static void seg_apply(const float *x, float *y, seg_t L, double mean,
                      double invstd, const float *g, const float *b)
{
    const float fm = (float)mean, fi = (float)invstd;
    for (int64_t k = 0; k < L.nb; k++) {
        const float *p = x + k * L.stride;
        float *q = y + k * L.stride;
        aff_t ga = aff_at(g, L, k, 1.0f), ba = aff_at(b, L, k, 0.0f);
        if (ga.v || ba.v) {
            for (int64_t i = 0; i < L.bl; i++)
                q[i] = (p[i] - fm) * fi * (ga.v ? ga.v[i] : ga.s) +
                       (ba.v ? ba.v[i] : ba.s);
        } else {
#pragma omp simd
            for (int64_t i = 0; i < L.bl; i++)
                q[i] = (p[i] - fm) * fi * ga.s + ba.s;
        }
    }
}

/* One run with per-element gamma gv (NULL: 1): s[0] += sum(gy * g),
 * s[1] += sum(gy * g * xhat); pg[i] += gy * xhat, pb[i] += gy if pg. */
static void run_bsums_vec(const float *p, const float *q, int64_t n,
                          float fm, float fi, const float *gv, double *pg,
                          double *pb, double *s)
{
    double a = 0, b = 0;
#pragma omp simd reduction(+ : a, b)
    for (int64_t i = 0; i < n; i++) {
        float xh = (p[i] - fm) * fi, dz = gv ? q[i] * gv[i] : q[i];
        a += dz;
        b += (double)dz * xh;
        if (pg) {
            pg[i] += (double)q[i] * xh;
            pb[i] += q[i];
        }
    }
    s[0] += a;
    s[1] += b;
}

/* One run with a scalar gamma: returns sum(gy) in s[0], sum(gy*xhat) s[1]. */
static void run_bsums(const float *p, const float *q, int64_t n, float fm,
                      float fi, double *s)
{
    double a = 0, b = 0;
#pragma omp simd reduction(+ : a, b)
    for (int64_t i = 0; i < n; i++) {
        a += q[i];
        b += (double)q[i] * ((p[i] - fm) * fi);
    }
    s[0] = a;
    s[1] = b;
}

/* Over one segment: s[0] = sum(gy * gamma), s[1] = sum(gy * gamma * xhat),
 * and, when pg, gamma/beta gradient partials pg/pb (indexed as gamma). */
static void seg_bsums(const float *x, const float *gy, seg_t L, double mean,
                      double invstd, const float *g, double *pg, double *pb,
                      double *s)
{
    const float fm = (float)mean, fi = (float)invstd;
    s[0] = s[1] = 0;
    for (int64_t k = 0; k < L.nb; k++) {
        const float *p = x + k * L.stride, *q = gy + k * L.stride;
        int64_t j = k * L.gk;
        if (L.gi) {
            run_bsums_vec(p, q, L.bl, fm, fi, g ? g + j : NULL,
                          pg ? pg + j : NULL, pb ? pb + j : NULL, s);
            continue;
        }
        double r[2], gm = g ? g[j] : 1.0;
        run_bsums(p, q, L.bl, fm, fi, r);
        s[0] += gm * r[0];
        s[1] += gm * r[1];
        if (pg) {
            pg[j] += r[1];
            pb[j] += r[0];
        }
    }
}

/* gx += invstd * (dz - s1/m - xhat * s2/m) with dz = gy * gamma (full: the
 * statistics depend on x), or gx += invstd * dz (fixed statistics). */
static void seg_gx(const float *x, const float *gy, float *gx, seg_t L,
                   double mean, double invstd, const float *g, bool full,
                   double s1, double s2)
{
    const double m = (double)(L.nb * L.bl);
    const float fm = (float)mean, fi = (float)invstd;
    const float fa = full ? (float)(s1 / m) : 0.0f;
    const float fb = full ? (float)(s2 / m) : 0.0f;
    for (int64_t k = 0; k < L.nb; k++) {
        const float *p = x + k * L.stride, *q = gy + k * L.stride;
        float *o = gx + k * L.stride;
        aff_t ga = aff_at(g, L, k, 1.0f);
        if (ga.v) {
            for (int64_t i = 0; i < L.bl; i++)
                o[i] += fi * (q[i] * ga.v[i] - fa - (p[i] - fm) * fi * fb);
        } else {
#pragma omp simd
            for (int64_t i = 0; i < L.bl; i++)
                o[i] += fi * (q[i] * ga.s - fa - (p[i] - fm) * fi * fb);
        }
    }
}

/* Checks that an optional per-channel vector v has shape [n]. */
static bool vec_ok(const lt_tensor *v, int64_t n, const char *op,
                   const char *what, const lt_tensor *x)
{
    if (!v || (v->ndim == 1 && v->shape[0] == n))
        return true;
    char b1[64], b2[64];
    lt_set_error(LT_ERR_SHAPE, "%s: %s has shape %s, expected [%lld] for "
                 "input %s", op, what, lt_shape_str(v, b1, sizeof b1),
                 (long long)n, lt_shape_str(x, b2, sizeof b2));
    return false;
}

static bool min_dims_ok(const lt_tensor *x, int nd, const char *op)
{
    char b[64];
    if (x->ndim < nd) {
        lt_set_error(LT_ERR_SHAPE, "%s: input %s needs at least %d dims", op,
                     lt_shape_str(x, b, sizeof b), nd);
        return false;
    }
    if (x->numel == 0) {
        lt_set_error(LT_ERR_SHAPE, "%s: input %s is empty", op,
                     lt_shape_str(x, b, sizeof b));
        return false;
    }
    return true;
}

/* ---- batch norm --------------------------------------------------------- */

/* Batch-norm channel kernels. A channel is N runs of S floats, stride
 * apart. Sums run "vertically": a float accumulator per position of a tile
 * of up to BN_TILE positions gathers the N runs (no reduction per run,
 * which is costly for short runs), and is flushed into double every
 * BN_FLUSH runs. Forward statistics take one pass over x, on values shifted
 * by the channel's first value (no cancellation in sum(d^2) - sum(d)^2/m
 * for data far from 0). */
#define BN_TILE 256
#define BN_FLUSH 32

static double tile_sum(float *a, int64_t len)
{
    double s = 0;
    for (int64_t i = 0; i < len; i++) {
        s += a[i];
        a[i] = 0;
    }
    return s;
}

/* Shifted sums over a channel: sd = sum(x - K), sq = sum((x - K)^2). */
static void bn_sums_fwd(const float *x, int64_t N, int64_t S, int64_t stride,
                        float K, double *sd, double *sq)
{
    float as[BN_TILE], aq[BN_TILE];
    double a = 0, b = 0;
    for (int64_t i0 = 0; i0 < S; i0 += BN_TILE) {
        const int64_t len = S - i0 < BN_TILE ? S - i0 : BN_TILE;
        for (int64_t i = 0; i < len; i++)
            as[i] = aq[i] = 0;
        for (int64_t k = 0; k < N; k++) {
            const float *p = x + k * stride + i0;
#pragma omp simd
            for (int64_t i = 0; i < len; i++) {
                float d = p[i] - K;
                as[i] += d;
                aq[i] += d * d;
            }
            if ((k + 1) % BN_FLUSH == 0 || k == N - 1) {
                a += tile_sum(as, len);
                b += tile_sum(aq, len);
            }
        }
    }
    *sd = a;
    *sq = b;
}

/* Backward sums over a channel: sg = sum(gy), sx = sum(gy * (x - fm)). */
static void bn_sums_bwd(const float *x, const float *gy, int64_t N, int64_t S,
                        int64_t stride, float fm, double *sg, double *sx)
{
    float ag[BN_TILE], ax[BN_TILE];
    double a = 0, b = 0;
    for (int64_t i0 = 0; i0 < S; i0 += BN_TILE) {
        const int64_t len = S - i0 < BN_TILE ? S - i0 : BN_TILE;
        for (int64_t i = 0; i < len; i++)
            ag[i] = ax[i] = 0;
        for (int64_t k = 0; k < N; k++) {
            const float *p = x + k * stride + i0, *q = gy + k * stride + i0;
#pragma omp simd
            for (int64_t i = 0; i < len; i++) {
                ag[i] += q[i];
                ax[i] += q[i] * (p[i] - fm);
            }
            if ((k + 1) % BN_FLUSH == 0 || k == N - 1) {
                a += tile_sum(ag, len);
                b += tile_sum(ax, len);
            }
        }
    }
    *sg = a;
    *sx = b;
}

/* y = (x - fm) * sc + sh over a channel. */
static void bn_apply(const float *x, float *y, int64_t N, int64_t S,
                     int64_t stride, float fm, float sc, float sh)
{
    for (int64_t k = 0; k < N; k++) {
        const float *p = x + k * stride;
        float *q = y + k * stride;
#pragma omp simd
        for (int64_t i = 0; i < S; i++)
            q[i] = (p[i] - fm) * sc + sh;
    }
}

/* gx += gy * k1 + (x - fm) * k2 + k0 over a channel. */
static void bn_gx(const float *x, const float *gy, float *gx, int64_t N,
                  int64_t S, int64_t stride, float fm, float k0, float k1,
                  float k2)
{
    for (int64_t k = 0; k < N; k++) {
        const float *p = x + k * stride, *q = gy + k * stride;
        float *o = gx + k * stride;
#pragma omp simd
        for (int64_t i = 0; i < S; i++)
            o[i] += q[i] * k1 + (p[i] - fm) * k2 + k0;
    }
}

static lt_status bn_backward(lt_ctx *c, lt_node *n)
{
    const lt_tensor *x = n->in[0], *gamma = n->in[1];
    const float *gy = n->out->grad;
    float *gx = lt_in_grad(c, n, 0), *gg = lt_in_grad(c, n, 1);
    float *gb = lt_in_grad(c, n, 2);
    const double *st = n->saved;
    const bool full = n->iarg[0] != 0;
    const int64_t N = x->shape[0], C = x->shape[1], S = x->numel / (N * C);
    const double m = (double)(N * S);
#pragma omp parallel for schedule(static) if (x->numel > NORM_PAR)
    for (int64_t ch = 0; ch < C; ch++) {
        const float *xp = x->data + ch * S, *gp = gy + ch * S;
        const double g = gamma ? gamma->data[ch] : 1.0, is = st[C + ch];
        const float fm = (float)st[ch];
        double sg = 0, sx = 0;
        if (gg || gb || (gx && full))
            bn_sums_bwd(xp, gp, N, S, C * S, fm, &sg, &sx);
        /* sum(gy * xhat) = sx * invstd */
        if (gg)
            gg[ch] += (float)(sx * is);
        if (gb)
            gb[ch] += (float)sg;
        if (!gx)
            continue;
        /* gx = is * (g * gy - g * sg / m - xhat * g * sx * is / m) */
        const double k1 = is * g;
        const double k0 = full ? -is * g * sg / m : 0.0;
        const double k2 = full ? -is * is * is * g * sx / m : 0.0;
        bn_gx(xp, gp, gx + ch * S, N, S, C * S, fm, (float)k0, (float)k1,
              (float)k2);
    }
    return LT_OK;
}

static bool bn_args_ok(const lt_tensor *x, const lt_tensor *gamma,
                       const lt_tensor *beta, const lt_tensor *rm,
                       const lt_tensor *rv, bool training)
{
    if (!min_dims_ok(x, 2, "batch_norm"))
        return false;
    int64_t C = x->shape[1];
    if (!vec_ok(gamma, C, "batch_norm", "gamma", x) ||
        !vec_ok(beta, C, "batch_norm", "beta", x) ||
        !vec_ok(rm, C, "batch_norm", "running_mean", x) ||
        !vec_ok(rv, C, "batch_norm", "running_var", x))
        return false;
    char b[64];
    if (!training && (!rm || !rv)) {
        lt_set_error(LT_ERR_ARG, "batch_norm: eval mode needs running_mean "
                     "and running_var (input %s)",
                     lt_shape_str(x, b, sizeof b));
        return false;
    }
    if (training && x->numel / C < 2) {
        lt_set_error(LT_ERR_SHAPE, "batch_norm: input %s has one value per "
                     "channel; training needs more",
                     lt_shape_str(x, b, sizeof b));
        return false;
    }
    return true;
}

/* Statistics of channel ch: batch statistics (and running-stat update) in
 * training, running statistics in eval; xc is the channel's first value.
 * Writes mean and 1/std. */
static void bn_channel_stats(const float *xc, int64_t ch, int64_t N,
                             int64_t S, int64_t stride, lt_tensor *rm,
                             lt_tensor *rv, bool training, float momentum,
                             float eps, double *mean, double *invstd)
{
    double mu, var;
    if (training) {
        double m = (double)(N * S), mom = momentum, sd, sq;
        bn_sums_fwd(xc, N, S, stride, xc[0], &sd, &sq);
        mu = (double)xc[0] + sd / m;
        var = (sq - sd * sd / m) / m;
        if (var < 0)
            var = 0;
        if (rm)
            rm->data[ch] = (float)((1 - mom) * rm->data[ch] + mom * mu);
        if (rv)
            rv->data[ch] = (float)((1 - mom) * rv->data[ch] +
                                   mom * var * m / (m - 1));
    } else {
        mu = rm->data[ch];
        var = rv->data[ch];
    }
    *mean = mu;
    *invstd = 1.0 / sqrt(var + (double)eps);
}

lt_tensor *lt_batch_norm(lt_ctx *c, lt_tensor *x, lt_tensor *gamma,
                         lt_tensor *beta, lt_tensor *running_mean,
                         lt_tensor *running_var, bool training,
                         float momentum, float eps)
{
    if (!x)
        return NULL;
    if (!bn_args_ok(x, gamma, beta, running_mean, running_var, training))
        return NULL;
    const int64_t N = x->shape[0], C = x->shape[1], S = x->numel / (N * C);
    lt_tensor *y = lt_new_like(c, x);
    double *st = lt_alloc(c, (size_t)(2 * C) * sizeof(double));
    if (!y || !st)
        return NULL;
#pragma omp parallel for schedule(static) if (x->numel > NORM_PAR)
    for (int64_t ch = 0; ch < C; ch++) {
        bn_channel_stats(x->data + ch * S, ch, N, S, C * S, running_mean,
                         running_var, training, momentum, eps, &st[ch],
                         &st[C + ch]);
        const double sc = st[C + ch] * (gamma ? gamma->data[ch] : 1.0);
        bn_apply(x->data + ch * S, y->data + ch * S, N, S, C * S,
                 (float)st[ch], (float)sc, beta ? beta->data[ch] : 0.0f);
    }
    lt_tensor *in[3] = {x, gamma, beta};
    if (lt_needs_grad(c, 3, in)) {
        lt_node *n = lt_record(c, y, bn_backward, "batch_norm", 3, in);
        if (!n)
            return NULL;
        n->iarg[0] = training;
        n->saved = st;
    }
    return y;
}

/* ---- row norms: group norm, layer norm, RMS norm ------------------------
 * x viewed as [N, C, S]; row r = (n, group) covers Cg = C/G channels of S
 * values, contiguous; gamma/beta are per channel. Layer norm and RMS norm
 * are N = rows, C = D, S = 1, G = 1. iarg: N, C, S, G, rms. */

static seg_t row_layout(int64_t Cg, int64_t S)
{
    if (S == 1)
        return (seg_t){1, Cg, Cg, 0, 1}; /* one run, gamma per element */
    return (seg_t){Cg, S, S, 1, 0};      /* Cg runs, gamma per run */
}

/* Rows [r0, r1): gx (full normalisation gradient, no mean term for rms)
 * and, when part, gamma/beta partials part[0..C) / part[C..2C). */
static void rownorm_rows(const lt_node *n, float *gx, double *part,
                         int64_t r0, int64_t r1)
{
    const lt_tensor *x = n->in[0], *gamma = n->in[1];
    const float *gy = n->out->grad;
    const double *st = n->saved;
    const int64_t C = n->iarg[1], S = n->iarg[2], G = n->iarg[3];
    const int64_t Cg = C / G, rows = n->iarg[0] * G, len = Cg * S;
    const bool rms = n->iarg[4] != 0;
    const seg_t L = row_layout(Cg, S);
    for (int64_t r = r0; r < r1; r++) {
        const int64_t g0 = (r % G) * Cg, o = r * len;
        const float *g = gamma ? gamma->data + g0 : NULL;
        double s[2];
        seg_bsums(x->data + o, gy + o, L, st[r], st[rows + r], g,
                  part ? part + g0 : NULL, part ? part + C + g0 : NULL, s);
        if (gx)
            seg_gx(x->data + o, gy + o, gx + o, L, st[r], st[rows + r], g,
                   true, rms ? 0.0 : s[0], s[1]);
    }
}

static lt_status rownorm_backward(lt_ctx *c, lt_node *n)
{
    float *gx = lt_in_grad(c, n, 0), *gg = lt_in_grad(c, n, 1);
    float *gb = lt_in_grad(c, n, 2);
    const int64_t C = n->iarg[1], rows = n->iarg[0] * n->iarg[3];
    const int64_t nch = rows < NORM_CHUNKS ? rows : NORM_CHUNKS;
    double *part = NULL;
    if (gg || gb) {
        part = lt_alloc_zero(c, (size_t)(nch * 2 * C) * sizeof(double));
        if (!part)
            return lt_last_status();
    }
#pragma omp parallel for schedule(static) if (n->in[0]->numel > NORM_PAR)
    for (int64_t k = 0; k < nch; k++)
        rownorm_rows(n, gx, part ? part + k * 2 * C : NULL, k * rows / nch,
                     (k + 1) * rows / nch);
    if (!part)
        return LT_OK;
#pragma omp parallel for schedule(static) if (nch * C > NORM_PAR)
    for (int64_t j = 0; j < C; j++) {
        double a = 0, b = 0;
        for (int64_t k = 0; k < nch; k++) {
            a += part[k * 2 * C + j];
            b += part[k * 2 * C + C + j];
        }
        if (gg)
            gg[j] += (float)a;
        if (gb)
            gb[j] += (float)b;
    }
    return LT_OK;
}

static lt_tensor *rownorm(lt_ctx *c, lt_tensor *x, const int64_t *dims,
                          lt_tensor *gamma, lt_tensor *beta, float eps,
                          bool rms, const char *op)
{
    const int64_t C = dims[1], S = dims[2], G = dims[3];
    const int64_t Cg = C / G, rows = dims[0] * G, len = Cg * S;
    lt_tensor *y = lt_new_like(c, x);
    double *st = lt_alloc(c, (size_t)(2 * rows) * sizeof(double));
    if (!y || !st)
        return NULL;
    const seg_t L = row_layout(Cg, S), flat = {1, len, len, 0, 0};
#pragma omp parallel for schedule(static) if (x->numel > NORM_PAR)
    for (int64_t r = 0; r < rows; r++) {
        double var;
        seg_stats(x->data + r * len, flat, rms, &st[r], &var);
        st[rows + r] = 1.0 / sqrt(var + (double)eps);
        int64_t g0 = (r % G) * Cg;
        seg_apply(x->data + r * len, y->data + r * len, L, st[r],
                  st[rows + r], gamma ? gamma->data + g0 : NULL,
                  beta ? beta->data + g0 : NULL);
    }
    lt_tensor *in[3] = {x, gamma, beta};
    if (lt_needs_grad(c, 3, in)) {
        lt_node *n = lt_record(c, y, rownorm_backward, op, 3, in);
        if (!n)
            return NULL;
        for (int i = 0; i < 4; i++)
            n->iarg[i] = dims[i];
        n->iarg[4] = rms;
        n->saved = st;
    }
    return y;
}

lt_tensor *lt_group_norm(lt_ctx *c, lt_tensor *x, int groups,
                         lt_tensor *gamma, lt_tensor *beta, float eps)
{
    if (!x)
        return NULL;
    if (!min_dims_ok(x, 2, "group_norm"))
        return NULL;
    const int64_t N = x->shape[0], C = x->shape[1];
    char b[64];
    if (groups <= 0) {
        lt_set_error(LT_ERR_ARG, "group_norm: %d groups for input %s", groups,
                     lt_shape_str(x, b, sizeof b));
        return NULL;
    }
    if (C % groups) {
        lt_set_error(LT_ERR_SHAPE, "group_norm: input %s has %lld channels, "
                     "not divisible by %d groups",
                     lt_shape_str(x, b, sizeof b), (long long)C, groups);
        return NULL;
    }
    if (!vec_ok(gamma, C, "group_norm", "gamma", x) ||
        !vec_ok(beta, C, "group_norm", "beta", x))
        return NULL;
    const int64_t dims[4] = {N, C, x->numel / (N * C), groups};
    return rownorm(c, x, dims, gamma, beta, eps, false, "group_norm");
}

lt_tensor *lt_layer_norm(lt_ctx *c, lt_tensor *x, lt_tensor *gamma,
                         lt_tensor *beta, float eps)
{
    if (!x)
        return NULL;
    if (!min_dims_ok(x, 1, "layer_norm"))
        return NULL;
    const int64_t D = x->shape[x->ndim - 1];
    if (!vec_ok(gamma, D, "layer_norm", "gamma", x) ||
        !vec_ok(beta, D, "layer_norm", "beta", x))
        return NULL;
    const int64_t dims[4] = {x->numel / D, D, 1, 1};
    return rownorm(c, x, dims, gamma, beta, eps, false, "layer_norm");
}

lt_tensor *lt_rms_norm(lt_ctx *c, lt_tensor *x, lt_tensor *gamma, float eps)
{
    if (!x)
        return NULL;
    if (!min_dims_ok(x, 1, "rms_norm"))
        return NULL;
    const int64_t D = x->shape[x->ndim - 1];
    if (!vec_ok(gamma, D, "rms_norm", "gamma", x))
        return NULL;
    const int64_t dims[4] = {x->numel / D, D, 1, 1};
    return rownorm(c, x, dims, gamma, NULL, eps, true, "rms_norm");
}
