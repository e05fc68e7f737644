/*
 * attention.c - fused scaled dot-product attention (grouped KV heads,
 * causal mask aligned to the end of the key sequence for KV caches, an
 * optional sliding window of the last W keys) and Hugging Face
 * rotate-half rotary position embeddings.
 *
 * Attention works per (batch, head) on blocks of query rows: scores
 * S = scale Q K^T with sgemm, a masked softmax in place, O = P V with
 * sgemm. Only the row logsumexp is saved; backward recomputes P block by
 * block, so memory stays O(T) per head instead of O(Tq * Tk). With a
 * sliding window a block's products start at the first key any of its
 * rows sees, so the work is O(Tq * (W + block)) rather than O(Tq * Tk).
 */
#include "lethe/ops.h"
#include "ops/gemm.h"

#include <math.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#define ATT_BQ 64 /* query rows per block */

typedef struct {
    int64_t B, H, Hkv, Tq, Tk, D;
    float scale;
    bool causal;
    int64_t window; /* causal only: keys older than the last window; 0 none */
    lt_precision prec; /* of the products (core.h) */
} att_dims;

static int att_thread(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* Keys visible to query row i: [0, att_len(i)). */
static int64_t att_len(const att_dims *d, int64_t i)
{
    if (!d->causal)
        return d->Tk;
    int64_t l = i + 1 + (d->Tk - d->Tq);
    return l < 0 ? 0 : (l > d->Tk ? d->Tk : l);
}

/* First key visible to query row i (the window's start; 0 without one). */
static int64_t att_lo(const att_dims *d, int64_t i)
{
    int64_t lo = d->window > 0 ? att_len(d, i) - d->window : 0;
    return lo > 0 ? lo : 0;
}

static void att_gemm(const att_dims *d, bool ta, bool tb, int64_t m,
                     int64_t n, int64_t k, float alpha, const float *a,
                     int64_t lda, const float *b, int64_t ldb, float beta,
                     float *cm, int64_t ldc)
{
    lt_gemm(d->prec, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, cm, ldc);
}

/* Row softmax over scores [lo, len) of a row of width kmax (the rest set
 * to 0); returns the logsumexp (-inf for an empty row, which becomes all
 * 0). */
static float att_softmax_row(float *s, int64_t lo, int64_t len, int64_t kmax)
{
    float mx = -INFINITY, sum = 0;
    for (int64_t j = lo; j < len; j++)
        mx = s[j] > mx ? s[j] : mx;
    for (int64_t j = lo; j < len; j++) {
        s[j] = expf(s[j] - mx);
        sum += s[j];
    }
    float inv = len > lo ? 1.0f / sum : 0;
    for (int64_t j = 0; j < kmax; j++)
        s[j] = j >= lo && j < len ? s[j] * inv : 0.0f;
    return len > lo ? mx + logf(sum) : -INFINITY;
}

/* One (b, h): q, o [Tq, D]; k, v [Tk, D]; lse [Tq] or NULL; s scratch. */
static void att_fwd_head(const att_dims *d, const float *q, const float *k,
                         const float *v, float *o, float *lse, float *s)
{
    int64_t D = d->D;
    for (int64_t i0 = 0; i0 < d->Tq; i0 += ATT_BQ) {
        int64_t nb = d->Tq - i0 < ATT_BQ ? d->Tq - i0 : ATT_BQ;
        /* keys [k0, k0 + w) cover every row of the block */
        int64_t k0 = att_lo(d, i0), w = att_len(d, i0 + nb - 1) - k0;
        if (w <= 0) { /* every row of the block is fully masked */
            memset(o + i0 * D, 0, (size_t)(nb * D) * sizeof(float));
            for (int64_t r = 0; lse && r < nb; r++)
                lse[i0 + r] = -INFINITY;
            continue;
        }
        att_gemm(d, false, true, nb, w, D, d->scale, q + i0 * D, D, k + k0 * D,
                 D, 0.0f, s, w);
        for (int64_t r = 0; r < nb; r++) {
            float l = att_softmax_row(s + r * w, att_lo(d, i0 + r) - k0,
                                      att_len(d, i0 + r) - k0, w);
            if (lse)
                lse[i0 + r] = l;
        }
        att_gemm(d, false, false, nb, D, w, 1.0f, s, w, v + k0 * D, D, 0.0f,
                 o + i0 * D, D);
    }
}

/* Parallel over items when there are enough of them or they are small;
 * otherwise one item at a time so that BLAS threads each product. */
static bool att_par(int64_t items, int64_t work)
{
    int nt = lt_num_threads();
    return nt > 1 && items > 1 && (items >= nt || work < ((int64_t)1 << 20));
}

typedef struct {
    att_dims d;
    float *lse; /* [B, H, Tq] */
} att_saved;

/* Gradients of one (b, h) given its kv-head tensors; dq/dk/dv may be NULL.
 * s, dp: scratch blocks [ATT_BQ, Tk]. */
typedef struct {
    const float *q, *k, *v, *dout, *lse;
    float *dq, *dk, *dv;
} att_head_io;

/* Rows [i0, i0 + nb) against keys [k0, k0 + kmax). */
static void att_bwd_block(const att_dims *d, const att_head_io *h,
                          int64_t i0, int64_t nb, int64_t k0, int64_t kmax,
                          float *s, float *dp)
{
    int64_t D = d->D;
    const float *qb = h->q + i0 * D, *gob = h->dout + i0 * D;
    const float *kb = h->k + k0 * D, *vb = h->v + k0 * D;
    att_gemm(d, false, true, nb, kmax, D, d->scale, qb, D, kb, D, 0.0f, s,
             kmax);
    for (int64_t r = 0; r < nb; r++) {
        int64_t lo = att_lo(d, i0 + r) - k0, len = att_len(d, i0 + r) - k0;
        float *row = s + r * kmax, l = h->lse[i0 + r];
        for (int64_t j = 0; j < kmax; j++)
            row[j] = j >= lo && j < len ? expf(row[j] - l) : 0.0f;
    }
    if (h->dv) /* dV += P^T dO */
        att_gemm(d, true, false, kmax, D, nb, 1.0f, s, kmax, gob, D, 1.0f,
                 h->dv + k0 * D, D);
    if (!h->dq && !h->dk)
        return;
    /* dP = dO V^T; dS = P * (dP - rowsum(dP * P)) */
    att_gemm(d, false, true, nb, kmax, D, 1.0f, gob, D, vb, D, 0.0f, dp, kmax);
    for (int64_t r = 0; r < nb; r++) {
        float *pr = s + r * kmax, *gr = dp + r * kmax, dot = 0;
        for (int64_t j = 0; j < kmax; j++)
            dot += pr[j] * gr[j];
        for (int64_t j = 0; j < kmax; j++)
            gr[j] = pr[j] * (gr[j] - dot);
    }
    if (h->dq) /* dQ += scale dS K */
        att_gemm(d, false, false, nb, D, kmax, d->scale, dp, kmax, kb, D, 1.0f,
                 h->dq + i0 * D, D);
    if (h->dk) /* dK += scale dS^T Q */
        att_gemm(d, true, false, kmax, D, nb, d->scale, dp, kmax, qb, D, 1.0f,
                 h->dk + k0 * D, D);
}

static void att_bwd_head(const att_dims *d, const att_head_io *h, float *s,
                         float *dp)
{
    for (int64_t i0 = 0; i0 < d->Tq; i0 += ATT_BQ) {
        int64_t nb = d->Tq - i0 < ATT_BQ ? d->Tq - i0 : ATT_BQ;
        int64_t k0 = att_lo(d, i0), w = att_len(d, i0 + nb - 1) - k0;
        if (w > 0)
            att_bwd_block(d, h, i0, nb, k0, w, s, dp);
    }
}

static lt_status attention_backward(lt_ctx *c, lt_node *n)
{
    const att_saved *sv = n->saved;
    const att_dims *d = &sv->d;
    const lt_tensor *q = n->in[0], *k = n->in[1], *v = n->in[2];
    float *gq = lt_in_grad(c, n, 0), *gk = lt_in_grad(c, n, 1),
          *gv = lt_in_grad(c, n, 2);
    int64_t D = d->D, rep = d->H / d->Hkv, items = d->B * d->Hkv;
    int64_t qs = d->Tq * D, ks = d->Tk * D, blk = ATT_BQ * d->Tk;
    int nt = lt_num_threads();
    float *scr = lt_alloc(c, (size_t)(2 * blk * nt) * sizeof(float));
    if (!scr)
        return lt_last_status();
    /* One kv head per iteration: its query heads run in turn, so the dK/dV
     * accumulation of shared heads never races. */
#pragma omp parallel for schedule(static) \
    if (att_par(items, rep * d->Tq * d->Tk * D))
    for (int64_t it = 0; it < items; it++) {
        int64_t b = it / d->Hkv, g = it % d->Hkv;
        float *s = scr + 2 * blk * att_thread(), *dp = s + blk;
        for (int64_t h = g * rep; h < (g + 1) * rep; h++) {
            int64_t qo = (b * d->H + h) * qs, ko = it * ks;
            att_head_io io = {q->data + qo, k->data + ko, v->data + ko,
                              n->out->grad + qo,
                              sv->lse + (b * d->H + h) * d->Tq,
                              gq ? gq + qo : NULL, gk ? gk + ko : NULL,
                              gv ? gv + ko : NULL};
            att_bwd_head(d, &io, s, dp);
        }
    }
    return LT_OK;
}

static bool att_check(const lt_tensor *q, const lt_tensor *k,
                      const lt_tensor *v)
{
    char sq[96], sk[96], svb[96];
    const char *why = NULL;
    if (q->ndim != 4 || k->ndim != 4 || v->ndim != 4)
        why = "need 4-D q [B, H, Tq, D], k and v [B, Hkv, Tk, D]";
    else if (!lt_same_shape(k, v))
        why = "k and v shapes differ";
    else if (q->shape[0] != k->shape[0] || q->shape[3] != k->shape[3])
        why = "batch or head size of q differs from k";
    else if (q->shape[1] % k->shape[1])
        why = "query heads H not a multiple of kv heads Hkv";
    if (why)
        lt_set_error(LT_ERR_SHAPE, "attention: q %s, k %s, v %s: %s",
                     lt_shape_str(q, sq, sizeof sq),
                     lt_shape_str(k, sk, sizeof sk),
                     lt_shape_str(v, svb, sizeof svb), why);
    return !why;
}

lt_tensor *lt_attention(lt_ctx *c, lt_tensor *q, lt_tensor *k, lt_tensor *v,
                        bool causal, float scale)
{
    return lt_attention_window(c, q, k, v, causal, scale, 0);
}

lt_tensor *lt_attention_window(lt_ctx *c, lt_tensor *q, lt_tensor *k,
                               lt_tensor *v, bool causal, float scale,
                               int64_t window)
{
    if (!q || !k || !v)
        return NULL;
    if (!att_check(q, k, v))
        return NULL;
    if (window < 0 || (window > 0 && !causal)) {
        lt_set_error(LT_ERR_ARG, "attention: a window (%lld) must be >= 0 "
                     "and needs the causal mask", (long long)window);
        return NULL;
    }
    att_dims d = {q->shape[0], q->shape[1], k->shape[1], q->shape[2],
                  k->shape[2], q->shape[3], scale, causal, window,
                  lt_ctx_precision(c)};
    if (!(scale > 0))
        d.scale = 1.0f / sqrtf((float)d.D);
    lt_tensor *y = lt_new_like(c, q);
    lt_tensor *in[3] = {q, k, v};
    bool grad = lt_needs_grad(c, 3, in);
    int nt = lt_num_threads();
    int64_t items = d.B * d.H, qs = d.Tq * d.D, ks = d.Tk * d.D,
            blk = ATT_BQ * d.Tk, rep = d.H / d.Hkv;
    float *scr = y ? lt_alloc(c, (size_t)(blk * nt) * sizeof(float)) : NULL;
    float *lse = scr && grad ? lt_alloc(c, (size_t)(items * d.Tq) *
                                               sizeof(float))
                             : NULL;
    if (!scr || (grad && !lse))
        return NULL;
#pragma omp parallel for schedule(static) \
    if (att_par(items, d.Tq * d.Tk * d.D))
    for (int64_t it = 0; it < items; it++) {
        int64_t b = it / d.H, h = it % d.H;
        int64_t ko = (b * d.Hkv + h / rep) * ks;
        att_fwd_head(&d, q->data + it * qs, k->data + ko, v->data + ko,
                     y->data + it * qs, lse ? lse + it * d.Tq : NULL,
                     scr + blk * att_thread());
    }
    if (grad) {
        lt_node *n = lt_record(c, y, attention_backward, "attention", 3, in);
        att_saved *sv = n ? lt_alloc(c, sizeof *sv) : NULL;
        if (!sv)
            return NULL;
        sv->d = d;
        sv->lse = lse;
        n->saved = sv;
    }
    return y;
}

/* ---- RoPE ---------------------------------------------------------------- */

void lt_rope_table(int64_t T, int64_t D, int64_t pos0, float theta, float *cs,
                   float *sn)
{
    int64_t half = D / 2;
    for (int64_t i = 0; i < half; i++) {
        float inv = 1.0f / powf(theta, (float)(2 * i) / (float)D);
        for (int64_t t = 0; t < T; t++) {
            float ang = (float)(pos0 + t) * inv;
            cs[t * half + i] = (float)cos((double)ang);
            sn[t * half + i] = (float)sin((double)ang);
        }
    }
}

/* y = rot(x) per row of D, sign = +1 (forward) or -1 (transpose),
 * accumulate: y += instead of y =. */
static void rope_apply(const float *x, float *y, int64_t rows, int64_t T,
                       int64_t D, const float *cs, const float *sn,
                       float sign, bool accumulate)
{
    int64_t half = D / 2;
#pragma omp parallel for schedule(static) if (rows * D > 32768)
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * D, *c = cs + (r % T) * half,
                    *s = sn + (r % T) * half;
        float *yr = y + r * D;
        for (int64_t i = 0; i < half; i++) {
            float a = xr[i], b = xr[i + half], si = sign * s[i];
            float lo = a * c[i] - b * si, hi = b * c[i] + a * si;
            yr[i] = accumulate ? yr[i] + lo : lo;
            yr[i + half] = accumulate ? yr[i + half] + hi : hi;
        }
    }
}

static lt_status rope_backward(lt_ctx *c, lt_node *n)
{
    const lt_tensor *x = n->in[0];
    float *gx = lt_in_grad(c, n, 0);
    int64_t T = x->shape[2], D = x->shape[3], half = D / 2;
    const float *cs = n->saved;
    if (gx)
        rope_apply(n->out->grad, gx, x->numel / D, T, D, cs, cs + T * half,
                   -1.0f, true);
    return LT_OK;
}

lt_tensor *lt_rope(lt_ctx *c, lt_tensor *x, int64_t pos0, float theta)
{
    if (!x)
        return NULL;
    char sx[96];
    if (x->ndim != 4 || x->shape[3] % 2) {
        lt_set_error(LT_ERR_SHAPE, "rope: input %s must be [B, H, T, D] with "
                     "D even", lt_shape_str(x, sx, sizeof sx));
        return NULL;
    }
    if (!(theta > 0)) {
        lt_set_error(LT_ERR_ARG, "rope: theta must be > 0, got %g",
                     (double)theta);
        return NULL;
    }
    int64_t T = x->shape[2], D = x->shape[3], half = D / 2;
    lt_tensor *y = lt_new_like(c, x);
    float *cs = y ? lt_alloc(c, (size_t)(2 * T * half) * sizeof(float)) : NULL;
    if (!cs)
        return NULL;
    lt_rope_table(T, D, pos0, theta, cs, cs + T * half);
    rope_apply(x->data, y->data, x->numel / D, T, D, cs, cs + T * half, 1.0f,
               false);
    if (lt_needs_grad(c, 1, &x)) {
        lt_node *n = lt_record(c, y, rope_backward, "rope", 1, &x);
        if (!n)
            return NULL;
        n->saved = cs;
    }
    return y;
}
