/*
 * mask.c - weight masks over a model's flat trainable-parameter vector, in
 * the 0/1 float form lt_optim_step takes: SalUn's saliency mask (the top
 * fraction of |g| ranked globally, ties to the lower index, by
 * lt_mask_top_k: the one global top-k of the library, O(n) by two 16-bit
 * radix-histogram passes over the float bits, also used by the LLM
 * masks), a seeded random mask of the same size (selection sampling),
 * the "--mask" spec parser, and the saliency input: the gradient of the
 * mean cross-entropy on the forget set at the current weights, in eval
 * mode.
 */
#include "lethe/unlearn.h"
#include "lethe/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { LT_BINS = 1 << 16 };

static bool lt_ratio_ok(double r)
{
    return r > 0 && r <= 1;
}

void lt_mask_format(const lt_mask_spec *s, char *buf, size_t n)
{
    static const char *const kinds[] = {"none", "saliency", "random", "soft"};
    if (s->kind == LT_MASK_NONE || (unsigned)s->kind > LT_MASK_SOFT)
        snprintf(buf, n, "none");
    else
        snprintf(buf, n, "%s:%g", kinds[s->kind], s->ratio);
}

lt_status lt_mask_parse(const char *spec, lt_mask_spec *out)
{
    if (!spec || !out)
        return lt_set_error(LT_ERR_ARG, "mask: no spec");
    out->kind = LT_MASK_NONE;
    out->ratio = 1;
    if (!strcmp(spec, "none"))
        return LT_OK;
    const char *arg;
    if (!strncmp(spec, "saliency:", 9)) {
        out->kind = LT_MASK_SALIENCY;
        arg = spec + 9;
    } else if (!strncmp(spec, "random:", 7)) {
        out->kind = LT_MASK_RANDOM;
        arg = spec + 7;
    } else if (!strncmp(spec, "soft:", 5)) {
        out->kind = LT_MASK_SOFT;
        arg = spec + 5;
    } else {
        return lt_set_error(LT_ERR_ARG, "mask %s: unknown; use none, "
                            "saliency:R, random:R or soft:R", spec);
    }
    char *end;
    double r = strtod(arg, &end);
    if (end == arg || *end || !lt_ratio_ok(r)) {
        out->kind = LT_MASK_NONE;
        return lt_set_error(LT_ERR_ARG, "mask %s: the ratio must be a "
                            "number in (0, 1]", spec);
    }
    out->ratio = r;
    return LT_OK;
}

int64_t lt_mask_count(int64_t n, double ratio)
{
    if (n <= 0 || !(ratio > 0))
        return 0;
    if (ratio >= 1)
        return n;
    int64_t k = (int64_t)llround(ratio * (double)n);
    return k > n ? n : k;
}

/* The sortable key of x: by_abs, the bits of |x| (the bits of a
 * non-negative float order like the float); else the bits mapped so that
 * unsigned order is float order (-0 and +0 equal). x is not NaN. */
static inline uint32_t lt_topk_key(float x, bool by_abs)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if (by_abs)
        return u & 0x7fffffffu;
    if (x == 0)
        return 0x80000000u;
    return (u & 0x80000000u) ? ~u : u | 0x80000000u;
}

/* Walk hist from the top bin down to the bin holding the want-th largest
 * item; *above gets the count in higher bins. */
static uint32_t lt_hist_find(const int64_t *hist, int64_t want,
                             int64_t *above)
{
    int64_t cum = 0;
    uint32_t b = LT_BINS - 1;
    for (;; b--) {
        if (cum + hist[b] >= want || b == 0)
            break;
        cum += hist[b];
    }
    *above = cum;
    return b;
}

/* The key of the k-th largest x (1 <= k <= n) and, in *n_gt, how many
 * keys are strictly larger: two 16-bit radix-histogram passes. */
static uint32_t lt_kth_key(const float *x, int64_t n, int64_t k, bool by_abs,
                           int64_t *hist, int64_t *n_gt)
{
    memset(hist, 0, LT_BINS * sizeof *hist);
    for (int64_t i = 0; i < n; i++)
        hist[lt_topk_key(x[i], by_abs) >> 16]++;
    int64_t above_hi, above_lo;
    uint32_t hi = lt_hist_find(hist, k, &above_hi);
    memset(hist, 0, LT_BINS * sizeof *hist);
    for (int64_t i = 0; i < n; i++) {
        uint32_t key = lt_topk_key(x[i], by_abs);
        if (key >> 16 == hi)
            hist[key & 0xffffu]++;
    }
    uint32_t lo = lt_hist_find(hist, k - above_hi, &above_lo);
    *n_gt = above_hi + above_lo;
    return hi << 16 | lo;
}

lt_status lt_mask_top_k(const float *x, int64_t n, int64_t k, bool by_abs,
                        float *mask)
{
    if (!x || !mask || n < 1 || k < 0 || k > n)
        return lt_set_error(LT_ERR_ARG, "top-k mask: bad arguments (n %lld, "
                            "k %lld)", (long long)n, (long long)k);
    for (int64_t i = 0; i < n; i++)
        if (isnan(x[i]))
            return lt_set_error(LT_ERR_NAN, "top-k mask: entry %lld is NaN",
                                (long long)i);
    if (k == 0) {
        memset(mask, 0, (size_t)n * sizeof(float));
        return LT_OK;
    }
    int64_t *hist = malloc(LT_BINS * sizeof *hist), n_gt;
    if (!hist)
        return lt_set_error(LT_ERR_NOMEM, "top-k mask: out of memory");
    uint32_t t = lt_kth_key(x, n, k, by_abs, hist, &n_gt);
    free(hist);
    int64_t ties = k - n_gt; /* entries equal to t to take, lowest first */
    for (int64_t i = 0; i < n; i++) {
        uint32_t key = lt_topk_key(x[i], by_abs);
        bool on = key > t || (key == t && ties > 0);
        if (key == t && ties > 0)
            ties--;
        mask[i] = on ? 1.0f : 0.0f;
    }
    return LT_OK;
}

lt_status lt_proximal_shrink(float *theta, const float *theta0, int64_t n,
                             int64_t k, float *work, float *tau_out)
{
    if (!theta || !theta0 || n < 1)
        return lt_set_error(LT_ERR_ARG, "proximal shrink: bad arguments");
    if (tau_out)
        *tau_out = 0;
    if (k < 1 || k > n)
        return LT_OK;
    float *d = work ? work : malloc((size_t)n * sizeof *d);
    int64_t *hist = malloc(LT_BINS * sizeof *hist), n_gt;
    if (!d || !hist) {
        if (!work)
            free(d);
        free(hist);
        return lt_set_error(LT_ERR_NOMEM, "proximal shrink: out of memory");
    }
    for (int64_t i = 0; i < n; i++) {
        d[i] = theta[i] - theta0[i];
        if (isnan(d[i])) {
            if (!work)
                free(d);
            free(hist);
            return lt_set_error(LT_ERR_NAN, "proximal shrink: weight %lld "
                                "is NaN", (long long)i);
        }
    }
    /* the k-th smallest |d| is the (n - k + 1)-th largest; the key of a
     * non-negative float is its bits */
    uint32_t t = lt_kth_key(d, n, n - k + 1, true, hist, &n_gt);
    free(hist);
    float tau;
    memcpy(&tau, &t, sizeof tau);
    for (int64_t i = 0; i < n; i++)
        theta[i] = d[i] > tau ? theta[i] - tau
                   : d[i] < -tau ? theta[i] + tau : theta0[i];
    if (!work)
        free(d);
    if (tau_out)
        *tau_out = tau;
    return LT_OK;
}

int64_t lt_proximal_count(double ratio, int epochs, int64_t len, int e,
                          int64_t n)
{
    double total = (double)epochs * (double)len;
    if (!(total > 0))
        return 0;
    double v = ratio * ((total - ((double)e * (double)len + 1)) / total *
                        (double)n);
    return v > 0 ? (int64_t)v : 0;
}

lt_status lt_mask_saliency(const float *g, int64_t n, double ratio,
                           float *mask)
{
    if (!g || !mask || n < 1 || !lt_ratio_ok(ratio))
        return lt_set_error(LT_ERR_ARG, "saliency mask: bad arguments (n "
                            "%lld, ratio %g)", (long long)n, ratio);
    for (int64_t i = 0; i < n; i++)
        if (isnan(g[i]))
            return lt_set_error(LT_ERR_NAN, "saliency mask: gradient entry "
                                "%lld is NaN", (long long)i);
    return lt_mask_top_k(g, n, lt_mask_count(n, ratio), true, mask);
}

lt_status lt_mask_random(int64_t n, double ratio, uint64_t seed, float *mask)
{
    if (!mask || n < 1 || !lt_ratio_ok(ratio))
        return lt_set_error(LT_ERR_ARG, "random mask: bad arguments (n "
                            "%lld, ratio %g)", (long long)n, ratio);
    int64_t need = lt_mask_count(n, ratio);
    lt_rng r;
    lt_rng_init(&r, seed);
    /* Selection sampling: keep entry i with chance need / (n - i). */
    for (int64_t i = 0; i < n; i++) {
        bool on = need > 0 &&
                  (int64_t)lt_rng_below(&r, (uint64_t)(n - i)) < need;
        mask[i] = on ? 1.0f : 0.0f;
        need -= on;
    }
    return LT_OK;
}

lt_status lt_mask_soft(const float *g, int64_t n, double ratio, float *mask)
{
    lt_status st = lt_mask_saliency(g, n, ratio, mask);
    if (st != LT_OK)
        return st;
    float tau = INFINITY;
    for (int64_t i = 0; i < n; i++)
        if (mask[i] != 0 && fabsf(g[i]) < tau)
            tau = fabsf(g[i]);
    for (int64_t i = 0; i < n; i++)
        if (mask[i] == 0)
            mask[i] = tau > 0 ? fabsf(g[i]) / tau : 1.0f;
    return LT_OK;
}

lt_status lt_mask_build(const lt_mask_spec *spec, const float *g, int64_t n,
                        uint64_t seed, float *mask)
{
    if (!spec || !mask || n < 1)
        return lt_set_error(LT_ERR_ARG, "mask: bad arguments");
    switch (spec->kind) {
    case LT_MASK_NONE:
        for (int64_t i = 0; i < n; i++)
            mask[i] = 1.0f;
        return LT_OK;
    case LT_MASK_SALIENCY:
        if (!g)
            return lt_set_error(LT_ERR_ARG, "saliency mask: no gradient");
        return lt_mask_saliency(g, n, spec->ratio, mask);
    case LT_MASK_RANDOM:
        return lt_mask_random(n, spec->ratio, seed, mask);
    case LT_MASK_SOFT:
        if (!g)
            return lt_set_error(LT_ERR_ARG, "soft mask: no gradient");
        return lt_mask_soft(g, n, spec->ratio, mask);
    }
    return lt_set_error(LT_ERR_ARG, "mask: unknown kind %d", (int)spec->kind);
}

/* One minibatch: add d(sum CE)/k to the gradient; adds sum CE to *sum. */
static lt_status lt_grad_batch(lt_ctx *c, lt_model *m, const lt_dataset *d,
                               const int64_t *idx, int64_t b, float inv_k,
                               float *x, int32_t *y, double *sum)
{
    lt_ctx_reset(c);
    lt_dataset_batch(d, idx, b, x, y, NULL, NULL);
    lt_tensor *in = lt_from_data(c, 4, (int64_t[]){b, d->c, d->h, d->w}, x);
    lt_tensor *l = lt_cross_entropy(c, lt_model_forward(c, m, in, false), y,
                                    LT_REDUCE_SUM);
    if (!l)
        return lt_last_status();
    *sum += l->data[0];
    return lt_backward_with(c, l, &inv_k);
}

static lt_status lt_grad_args(const lt_model *m, const lt_dataset *d,
                              const int64_t *idx, int64_t k)
{
    if (!m || !d || !idx || k < 1 || !m->params.grad)
        return lt_set_error(LT_ERR_ARG, "forget gradient: bad arguments");
    if (d->c != m->in.channels || d->h != m->in.height ||
        d->w != m->in.width)
        return lt_set_error(LT_ERR_SHAPE, "forget gradient: data %s items "
                            "are %dx%dx%d, model %s wants %dx%dx%d", d->name,
                            d->c, d->h, d->w, m->arch, m->in.channels,
                            m->in.height, m->in.width);
    for (int64_t i = 0; i < k; i++)
        if (idx[i] < 0 || idx[i] >= d->n)
            return lt_set_error(LT_ERR_ARG, "forget gradient: index %lld "
                                "out of range [0, %lld)", (long long)idx[i],
                                (long long)d->n);
    return LT_OK;
}

lt_status lt_forget_gradient(lt_model *m, const lt_dataset *d,
                             const int64_t *idx, int64_t k, int batch,
                             double *loss)
{
    lt_status s = lt_grad_args(m, d, idx, k);
    if (s != LT_OK)
        return s;
    if (batch <= 0)
        batch = 256;
    int64_t bmax = k < batch ? k : batch;
    int64_t item = (int64_t)d->c * d->h * d->w;
    lt_ctx *c = lt_ctx_new(lt_arena_bytes_for(m, (int)bmax));
    float *x = malloc((size_t)(bmax * item) * sizeof(float));
    int32_t *y = malloc((size_t)bmax * sizeof(int32_t));
    if (!c || !x || !y) {
        s = lt_set_error(LT_ERR_NOMEM, "forget gradient: out of memory");
    } else {
        lt_params_zero_grad(&m->params);
        double sum = 0;
        float inv_k = (float)(1.0 / (double)k);
        for (int64_t i = 0; i < k && s == LT_OK; i += bmax) {
            int64_t b = k - i < bmax ? k - i : bmax;
            s = lt_grad_batch(c, m, d, idx + i, b, inv_k, x, y, &sum);
        }
        if (loss)
            *loss = sum / (double)k;
    }
    lt_ctx_free(c);
    free(x);
    free(y);
    return s;
}
