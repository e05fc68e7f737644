/*
 * matmul.c - the matrix-product ops: lt_matmul (2-D), lt_linear (x W^T + b
 * over any number of leading dims) and lt_bmm (batched, with optional
 * transposes). Forward and both backward products go through lt_gemm (gemm.h);
 * the bias gradient is a column sum of the output gradient.
 */
#include "lethe/ops.h"
#include "ops/gemm.h"

#include <stdio.h>

#ifdef _OPENMP
#include <omp.h>
#endif

/* Per-matrix work (M*N*K) below which a batch is spread over OpenMP
 * threads rather than handed to BLAS one matrix at a time. */
#define MM_SMALL_WORK ((int64_t)1 << 21)

/* C [m, n] = alpha * op(A) op(B) + beta * C, row-major, op(A) [m, k], in
 * the context's precision (gemm.h). */
static void mm_gemm(lt_precision pr, bool ta, bool tb, int64_t m, int64_t n,
                    int64_t k, float alpha, const float *a, const float *b,
                    float beta, float *cm)
{
    lt_gemm(pr, ta, tb, m, n, k, alpha, a, ta ? m : k, b, tb ? k : n, beta,
            cm, n);
}

/* ---- lt_matmul ------------------------------------------------------------
 */

static lt_status matmul_backward(lt_ctx *c, lt_node *n)
{
    const lt_tensor *a = n->in[0], *b = n->in[1];
    int64_t m = a->shape[0], k = a->shape[1], nn = b->shape[1];
    const float *gy = n->out->grad;
    float *ga = lt_in_grad(c, n, 0), *gb = lt_in_grad(c, n, 1);
    if (ga) /* dA [M,K] += dY [M,N] B^T */
        mm_gemm(lt_ctx_precision(c), false, true, m, k, nn, 1.0f, gy, b->data,
                1.0f, ga);
    if (gb) /* dB [K,N] += A^T dY */
        mm_gemm(lt_ctx_precision(c), true, false, k, nn, m, 1.0f, a->data, gy,
                1.0f, gb);
    return LT_OK;
}

lt_tensor *lt_matmul(lt_ctx *c, lt_tensor *a, lt_tensor *b)
{
    if (!a || !b)
        return NULL;
    char sa[96], sb[96];
    if (a->ndim != 2 || b->ndim != 2 || a->shape[1] != b->shape[0]) {
        lt_set_error(LT_ERR_SHAPE, "matmul: cannot multiply %s by %s (need "
                     "[M, K] @ [K, N])", lt_shape_str(a, sa, sizeof sa),
                     lt_shape_str(b, sb, sizeof sb));
        return NULL;
    }
    int64_t m = a->shape[0], k = a->shape[1], nn = b->shape[1];
    lt_tensor *y = lt_new2(c, m, nn);
    if (!y)
        return NULL;
    mm_gemm(lt_ctx_precision(c), false, false, m, nn, k, 1.0f, a->data, b->data,
            0.0f, y->data);
    lt_tensor *in[2] = {a, b};
    if (lt_needs_grad(c, 2, in) &&
        !lt_record(c, y, matmul_backward, "matmul", 2, in))
        return NULL;
    return y;
}

/* ---- lt_linear ------------------------------------------------------------
 */

/* gb[j] += sum over rows i of gy[i, j]; columns split among threads so the
 * summation order is fixed. */
static void mm_colsum(const float *gy, int64_t rows, int64_t cols, float *gb)
{
    const int64_t blk = 64;
    int64_t nblk = (cols + blk - 1) / blk;
#pragma omp parallel for schedule(static) if (rows * cols > 65536)
    for (int64_t jb = 0; jb < nblk; jb++) {
        int64_t j0 = jb * blk, j1 = j0 + blk < cols ? j0 + blk : cols;
        float acc[64] = {0};
        for (int64_t i = 0; i < rows; i++) {
            const float *row = gy + i * cols;
            for (int64_t j = j0; j < j1; j++)
                acc[j - j0] += row[j];
        }
        for (int64_t j = j0; j < j1; j++)
            gb[j] += acc[j - j0];
    }
}

/* bf16 copies of a linear's operands made in the forward pass, for the
 * gradients (the weight in dX, the input in dW): each rounded once. */
typedef struct {
    uint16_t *x16, *w16;
} linear_saved;

static lt_status linear_backward(lt_ctx *c, lt_node *n)
{
    const lt_tensor *x = n->in[0], *w = n->in[1];
    const linear_saved *sv = n->saved;
    int64_t out = w->shape[0], in = w->shape[1], rows = x->numel / in;
    const float *gy = n->out->grad;
    float *gx = lt_in_grad(c, n, 0), *gw = lt_in_grad(c, n, 1);
    float *gb = n->in[2] ? lt_in_grad(c, n, 2) : NULL;
    if (sv && (gx || gw)) { /* bf16: dY rounded once for both products */
        uint16_t *gy16 = lt_alloc(c, (size_t)(rows * out) * sizeof *gy16);
        if (!gy16)
            return lt_last_status();
        lt_gemm_pack_bf16(gy, rows, out, out, gy16);
        if (gx)
            lt_gemm_bf16(false, false, rows, in, out, 1.0f, gy, out, gy16,
                         w->data, in, sv->w16, 1.0f, gx, in);
        if (gw)
            lt_gemm_bf16(true, false, out, in, rows, 1.0f, gy, out, gy16,
                         x->data, in, sv->x16, 1.0f, gw, in);
    } else {
        if (gx) /* dX [rows,in] += dY [rows,out] W [out,in] */
            mm_gemm(lt_ctx_precision(c), false, false, rows, in, out, 1.0f,
                    gy, w->data, 1.0f, gx);
        if (gw) /* dW [out,in] += dY^T X */
            mm_gemm(lt_ctx_precision(c), true, false, out, in, rows, 1.0f,
                    gy, x->data, 1.0f, gw);
    }
    if (gb)
        mm_colsum(gy, rows, out, gb);
    return LT_OK;
}

/* With frozen weights (core.h) a parameter's bf16 copy, rounded once and
 * kept by the context; NULL otherwise. */
static uint16_t *linear_kept_weight(lt_ctx *c, const lt_tensor *w)
{
    if (!(w->flags & LT_EXTERNAL) || !lt_frozen_weights(c))
        return NULL;
    bool fresh;
    uint16_t *w16 = lt_ctx_keep(c, w->data, (size_t)w->numel * 2, &fresh);
    if (w16 && fresh)
        lt_gemm_pack_bf16(w->data, w->shape[0], w->shape[1], w->shape[1],
                          w16);
    return w16;
}

static bool linear_check(const lt_tensor *x, const lt_tensor *w,
                         const lt_tensor *b)
{
    char sx[96], sw[96], sb[96];
    if (w->ndim != 2 || x->shape[x->ndim - 1] != w->shape[1]) {
        lt_set_error(LT_ERR_SHAPE, "linear: input %s does not match weight "
                     "%s (need x [..., in], w [out, in])",
                     lt_shape_str(x, sx, sizeof sx),
                     lt_shape_str(w, sw, sizeof sw));
        return false;
    }
    if (b && (b->ndim != 1 || b->shape[0] != w->shape[0])) {
        lt_set_error(LT_ERR_SHAPE, "linear: bias %s does not match weight %s "
                     "(need b [out])", lt_shape_str(b, sb, sizeof sb),
                     lt_shape_str(w, sw, sizeof sw));
        return false;
    }
    return true;
}

lt_tensor *lt_linear(lt_ctx *c, lt_tensor *x, lt_tensor *w, lt_tensor *b)
{
    if (!x || !w)
        return NULL;
    if (!linear_check(x, w, b))
        return NULL;
    int64_t out = w->shape[0], in = w->shape[1], rows = x->numel / in;
    int64_t shape[LT_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++)
        shape[d] = x->shape[d];
    shape[x->ndim - 1] = out;
    lt_tensor *y = lt_new(c, x->ndim, shape);
    if (!y)
        return NULL;
    if (b) {
#pragma omp parallel for schedule(static) if (rows * out > 65536)
        for (int64_t i = 0; i < rows; i++)
            for (int64_t j = 0; j < out; j++)
                y->data[i * out + j] = b->data[j];
    }
    lt_tensor *inp[3] = {x, w, b};
    bool grad = lt_needs_grad(c, 3, inp);
    bool bf16 = lt_ctx_precision(c) == LT_PRECISION_BF16;
    uint16_t *w16 = bf16 ? linear_kept_weight(c, w) : NULL;
    linear_saved *sv = NULL;
    if (bf16 && (grad || w16)) {
        sv = lt_alloc(c, sizeof *sv);
        if (!sv || !(sv->x16 = lt_alloc(c, (size_t)x->numel * 2)) ||
            !(sv->w16 = w16 ? w16 : lt_alloc(c, (size_t)w->numel * 2)))
            return NULL;
        lt_gemm_pack_bf16(x->data, rows, in, in, sv->x16);
        if (!w16)
            lt_gemm_pack_bf16(w->data, out, in, in, sv->w16);
        lt_gemm_bf16(false, true, rows, out, in, 1.0f, x->data, in, sv->x16,
                     w->data, in, sv->w16, b ? 1.0f : 0.0f, y->data, out);
    } else {
        mm_gemm(lt_ctx_precision(c), false, true, rows, out, in, 1.0f,
                x->data, w->data, b ? 1.0f : 0.0f, y->data);
    }
    if (grad) {
        lt_node *n = lt_record(c, y, linear_backward, "linear", 3, inp);
        if (!n)
            return NULL;
        n->saved = sv;
    }
    return y;
}

/* ---- lt_bmm ---------------------------------------------------------------
 */

typedef struct {
    int64_t nb, m, n, k; /* batch count; op(A) [m,k], op(B) [k,n] */
    bool ta, tb;
} mm_batch;

/* Runs one gemm per batch entry: C_i = alpha op(A_i) op(B_i) + beta C_i,
 * with element strides sa, sb, sc between batch entries. Many small
 * matrices: OpenMP over the batch (sgemm is then single-threaded); few
 * large ones: a plain loop so BLAS threads each product. */
static void mm_batched(lt_precision pr, int64_t nb, bool ta, bool tb, int64_t m,
                       int64_t n, int64_t k, const float *a, int64_t sa,
                       const float *b, int64_t sb, float beta, float *cm,
                       int64_t sc)
{
    int nt = lt_num_threads();
    bool small = m * n * k < MM_SMALL_WORK;
    bool par = nt > 1 && nb > 1 && (small || nb >= 4 * (int64_t)nt);
#pragma omp parallel for schedule(static) if (par)
    for (int64_t i = 0; i < nb; i++)
        mm_gemm(pr, ta, tb, m, n, k, 1.0f, a + i * sa, b + i * sb, beta,
                cm + i * sc);
}

static lt_status bmm_backward(lt_ctx *c, lt_node *n)
{
    const lt_tensor *a = n->in[0], *b = n->in[1];
    const mm_batch *p = n->saved;
    int64_t m = p->m, nn = p->n, k = p->k, sa = m * k, sb = k * nn,
            sy = m * nn;
    const float *gy = n->out->grad;
    float *ga = lt_in_grad(c, n, 0), *gb = lt_in_grad(c, n, 1);
    if (ga && !p->ta) /* dA [m,k] += dY op(B)^T */
        mm_batched(lt_ctx_precision(c), p->nb, false, !p->tb, m, k, nn, gy, sy,
                   b->data, sb, 1.0f, ga, sa);
    if (ga && p->ta)  /* dA [k,m] += op(B) dY^T */
        mm_batched(lt_ctx_precision(c), p->nb, p->tb, true, k, m, nn, b->data,
                   sb, gy, sy, 1.0f, ga, sa);
    if (gb && !p->tb) /* dB [k,n] += op(A)^T dY */
        mm_batched(lt_ctx_precision(c), p->nb, !p->ta, false, k, nn, m, a->data,
                   sa, gy, sy, 1.0f, gb, sb);
    if (gb && p->tb)  /* dB [n,k] += dY^T op(A) */
        mm_batched(lt_ctx_precision(c), p->nb, true, p->ta, nn, k, m, gy, sy,
                   a->data, sa, 1.0f, gb, sb);
    return LT_OK;
}

static bool bmm_check(const lt_tensor *a, const lt_tensor *b, bool ta,
                      bool tb)
{
    char sa[96], sb[96];
    bool ok = a->ndim >= 3 && a->ndim == b->ndim;
    for (int d = 0; ok && d < a->ndim - 2; d++)
        ok = a->shape[d] == b->shape[d];
    if (ok) {
        int64_t ka = a->shape[a->ndim - (ta ? 2 : 1)];
        int64_t kb = b->shape[b->ndim - (tb ? 1 : 2)];
        ok = ka == kb;
    }
    if (!ok)
        lt_set_error(LT_ERR_SHAPE, "bmm: cannot multiply %s%s by %s%s (need "
                     ">= 3 dims, equal leading dims and matching inner dims)",
                     lt_shape_str(a, sa, sizeof sa), ta ? "^T" : "",
                     lt_shape_str(b, sb, sizeof sb), tb ? "^T" : "");
    return ok;
}

lt_tensor *lt_bmm(lt_ctx *c, lt_tensor *a, lt_tensor *b, bool trans_a,
                  bool trans_b)
{
    if (!a || !b)
        return NULL;
    if (!bmm_check(a, b, trans_a, trans_b))
        return NULL;
    int nd = a->ndim;
    mm_batch p = {.ta = trans_a, .tb = trans_b};
    p.m = a->shape[nd - (trans_a ? 1 : 2)];
    p.k = a->shape[nd - (trans_a ? 2 : 1)];
    p.n = b->shape[nd - (trans_b ? 2 : 1)];
    p.nb = a->numel / (p.m * p.k);
    int64_t shape[LT_MAX_DIMS];
    for (int d = 0; d < nd - 2; d++)
        shape[d] = a->shape[d];
    shape[nd - 2] = p.m;
    shape[nd - 1] = p.n;
    lt_tensor *y = lt_new(c, nd, shape);
    if (!y)
        return NULL;
    mm_batched(lt_ctx_precision(c), p.nb, trans_a, trans_b, p.m, p.n, p.k,
               a->data, p.m * p.k, b->data, p.k * p.n, 0.0f, y->data,
               p.m * p.n);
    lt_tensor *in[2] = {a, b};
    if (lt_needs_grad(c, 2, in)) {
        lt_node *node = lt_record(c, y, bmm_backward, "bmm", 2, in);
        mm_batch *s = node ? lt_alloc(c, sizeof *s) : NULL;
        if (!s)
            return NULL;
        *s = p;
        node->saved = s;
    }
    return y;
}
