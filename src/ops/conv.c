/*
 * conv.c - 2-D convolution and transposed convolution (NCHW, PyTorch weight
 * layouts) with stride, padding, dilation and groups.
 *
 * Both ops are built from three kernels on one "convolution geometry"
 * (input A [N, C, H, W], output B [N, O, OH, OW], weight [O, C/g, kh, kw]):
 *   conv_forward : B  = W (*) A            (im2col + GEMM)
 *   conv_adjoint : A += W^T (*) B          (GEMM + col2im)
 *   conv_wgrad   : W += B . im2col(A)^T    (im2col + GEMM)
 * conv2d uses them as forward / dX / dW; conv_transpose2d, its adjoint, as
 * dX / forward / dW (with the roles of A and B swapped).
 *
 * Work is cut into units whose column buffer [C/g*kh*kw, cols] stays near
 * COLS_BYTES (to stay in L2) with at least COLS_MIN columns (for GEMM
 * efficiency): a unit is either several whole images (small feature maps
 * are batched into one wide GEMM) or a band of output rows of one image
 * (large ones). Images run in parallel with OpenMP (the row bands of an
 * image stay on one thread, as their col2im overlap), each thread with its
 * own buffers from the arena; inside the parallel region OpenBLAS runs
 * single-threaded. With a single image chunk the loop runs serially and
 * OpenBLAS uses its own threads. 1x1, stride-1, unpadded convolutions of
 * single images read the input directly (no im2col). Stride-1 convolutions
 * with several taps and channels take the strip path of conv_shift.c.
 * Built with oneDNN, the three kernels first try oneDNN's convolution
 * primitives (conv_dnnl.c) where they measured faster (lt_conv_dnnl_wanted:
 * most bf16 and multi-tap fp32 shapes); LETHE_CONV_BACKEND=im2col keeps the
 * path above for every shape.
 */
#include "conv_internal.h"

#include <string.h>


#ifndef COLS_BYTES
#define COLS_BYTES (1 << 20)
#endif
#ifndef COLS_MIN
#define COLS_MIN 256
#endif


/* One unit of work: images [n0, n0 + nb), output rows [r0, r1). */
typedef struct {
    int64_t n0, nb, r0, r1, pc, ld; /* pc: columns per image; ld = nb*pc */
} cunit;


static void geom_finish(cgeom *q)
{
    q->Cg = q->C / q->g;
    q->Og = q->O / q->g;
    q->K = q->Cg * q->kh * q->kw;
    q->P = q->OH * q->OW;
    q->HW = q->H * q->W;
    q->direct = q->kh == 1 && q->kw == 1 && q->sh == 1 && q->sw == 1 &&
                q->ph == 0 && q->pw == 0 && q->OH == q->H && q->OW == q->W;
    int64_t target = COLS_BYTES / (int64_t)sizeof(float) / q->K;
    if (target < COLS_MIN)
        target = COLS_MIN;
    q->nb = 1, q->rb = q->OH, q->nrb = 1;
    if (q->P <= target) {
        int64_t nb = target / q->P;
        q->nb = nb < q->N ? nb : q->N;
    } else {
        int64_t rb = target / q->OW > 0 ? target / q->OW : 1;
        q->nrb = (q->OH + rb - 1) / rb;
        q->rb = (q->OH + q->nrb - 1) / q->nrb;
    }
}

static int64_t n_chunks(const cgeom *q)
{
    return (q->N + q->nb - 1) / q->nb;
}

static cunit unit_get(const cgeom *q, int64_t chunk, int64_t band)
{
    cunit u;
    u.n0 = chunk * q->nb;
    u.nb = q->N - u.n0 < q->nb ? q->N - u.n0 : q->nb;
    u.r0 = band * q->rb;
    u.r1 = u.r0 + q->rb < q->OH ? u.r0 + q->rb : q->OH;
    u.pc = (u.r1 - u.r0) * q->OW;
    u.ld = u.nb * u.pc;
    return u;
}

/* Range of output indices o in [0, n_out) whose input index o*s - p + off
 * lies in [0, n_in). */
static void valid_range(int64_t n_out, int64_t n_in, int64_t s, int64_t p,
                        int64_t off, int64_t *lo, int64_t *hi)
{
    int64_t base = off - p; /* input index of o = 0 */
    int64_t a = base >= 0 ? 0 : (-base + s - 1) / s;
    int64_t b = n_in - base <= 0 ? 0 : (n_in - base + s - 1) / s;
    if (b > n_out)
        b = n_out;
    if (a > b)
        a = b;
    *lo = a;
    *hi = b;
}

/* Valid output rows of kernel row i, clipped to the band [r0, r1). */
static void band_rows(const cgeom *q, int64_t i, int64_t r0, int64_t r1,
                      int64_t *lo, int64_t *hi)
{
    valid_range(q->OH, q->H, q->sh, q->ph, i * q->dh, lo, hi);
    *lo = *lo < r0 ? r0 : *lo > r1 ? r1 : *lo;
    *hi = *hi > r1 ? r1 : *hi < *lo ? *lo : *hi;
}

/* cols[(c*kh+i)*kw+j][(oh-r0)*OW+ow] (row stride ld) = x[c][ih][iw] for
 * output rows oh in [r0, r1); 0 outside the input. */
static void im2col(const cgeom *q, const float *x, float *cols, int64_t ld,
                   int64_t r0, int64_t r1)
{
    int64_t OW = q->OW;
    for (int64_t c = 0; c < q->Cg; c++) {
        const float *xc = x + c * q->HW;
        for (int64_t i = 0; i < q->kh; i++) {
            int64_t oh0, oh1;
            band_rows(q, i, r0, r1, &oh0, &oh1);
            for (int64_t j = 0; j < q->kw; j++) {
                float *row = cols + ((c * q->kh + i) * q->kw + j) * ld;
                int64_t ow0, ow1, iw0 = j * q->dw - q->pw;
                valid_range(OW, q->W, q->sw, q->pw, j * q->dw, &ow0, &ow1);
                memset(row, 0, (size_t)((oh0 - r0) * OW) * sizeof(float));
                for (int64_t oh = oh0; oh < oh1; oh++) {
                    float *restrict r = row + (oh - r0) * OW;
                    const float *restrict xr =
                        xc + (oh * q->sh - q->ph + i * q->dh) * q->W;
                    for (int64_t ow = 0; ow < ow0; ow++)
                        r[ow] = 0;
                    if (q->sw == 1)
                        for (int64_t ow = ow0; ow < ow1; ow++)
                            r[ow] = xr[iw0 + ow];
                    else
                        for (int64_t ow = ow0; ow < ow1; ow++)
                            r[ow] = xr[iw0 + ow * q->sw];
                    for (int64_t ow = ow1; ow < OW; ow++)
                        r[ow] = 0;
                }
                memset(row + (oh1 - r0) * OW, 0,
                       (size_t)((r1 - oh1) * OW) * sizeof(float));
            }
        }
    }
}

/* The adjoint of im2col: x[c][ih][iw] += cols[...]. */
static void col2im(const cgeom *q, const float *cols, int64_t ld, float *x,
                   int64_t r0, int64_t r1)
{
    int64_t OW = q->OW;
    for (int64_t c = 0; c < q->Cg; c++) {
        float *xc = x + c * q->HW;
        for (int64_t i = 0; i < q->kh; i++) {
            int64_t oh0, oh1;
            band_rows(q, i, r0, r1, &oh0, &oh1);
            for (int64_t j = 0; j < q->kw; j++) {
                const float *row = cols + ((c * q->kh + i) * q->kw + j) * ld;
                int64_t ow0, ow1, iw0 = j * q->dw - q->pw;
                valid_range(OW, q->W, q->sw, q->pw, j * q->dw, &ow0, &ow1);
                for (int64_t oh = oh0; oh < oh1; oh++) {
                    const float *restrict r = row + (oh - r0) * OW;
                    float *restrict xr =
                        xc + (oh * q->sh - q->ph + i * q->dh) * q->W;
                    if (q->sw == 1)
                        for (int64_t ow = ow0; ow < ow1; ow++)
                            xr[iw0 + ow] += r[ow];
                    else
                        for (int64_t ow = ow0; ow < ow1; ow++)
                            xr[iw0 + ow * q->sw] += r[ow];
                }
            }
        }
    }
}

/* Per-thread scratch: cols [K, unit columns], out block [Og, unit columns]. */
typedef struct {
    int nt;
    int64_t ncols, nout;
    float *cols, *tmp;
} scratch;

static lt_status scratch_make(lt_ctx *c, const cgeom *q, scratch *s)
{
    int64_t nch = n_chunks(q), ucols = q->nb * q->rb * q->OW;
    int nt = lt_num_threads();
    s->nt = nch < nt ? (int)nch : nt;
    if (s->nt < 1)
        s->nt = 1;
    s->ncols = q->K * ucols;
    s->nout = q->Og * ucols;
    s->cols = lt_alloc(c, (size_t)(s->ncols * s->nt) * sizeof(float));
    s->tmp = lt_alloc(c, (size_t)(s->nout * s->nt) * sizeof(float));
    return s->cols && s->tmp ? LT_OK : lt_last_status();
}

/* Offset of element off of plane (n, ch) in an [N, chans, plane] array. */
static int64_t at(int64_t n, int64_t chans, int64_t ch, int64_t plane,
                  int64_t off)
{
    return (n * chans + ch) * plane + off;
}

/* Output block [Og, nb*P] of group g of a multi-image unit -> tmp. */
static void gather_out(const cgeom *q, const float *B, const cunit *u,
                       int64_t g, float *tmp)
{
    for (int64_t o = 0; o < q->Og; o++)
        for (int64_t b = 0; b < u->nb; b++)
            memcpy(tmp + o * u->ld + b * q->P,
                   B + at(u->n0 + b, q->O, g * q->Og + o, q->P, 0),
                   (size_t)q->P * sizeof(float));
}

/* tmp [Og, nb*P] -> (or +=) the images of a multi-image unit. */
static void scatter_out(const cgeom *q, const float *tmp, const cunit *u,
                        int64_t g, float *B, bool accumulate)
{
    for (int64_t o = 0; o < q->Og; o++)
        for (int64_t b = 0; b < u->nb; b++) {
            float *restrict d = B + at(u->n0 + b, q->O, g * q->Og + o,
                                       q->P, 0);
            const float *restrict t = tmp + o * u->ld + b * q->P;
            if (accumulate)
                for (int64_t p = 0; p < q->P; p++)
                    d[p] += t[p];
            else
                memcpy(d, t, (size_t)q->P * sizeof(float));
        }
}

/* Columns of group g of unit u: im2col into cols, or A itself (direct). */
static const float *unit_cols(const cgeom *q, const float *A, const cunit *u,
                              int64_t g, float *cols, int64_t *ld)
{
    if (q->direct && u->nb == 1) {
        *ld = q->HW;
        return A + at(u->n0, q->C, g * q->Cg, q->HW, u->r0 * q->OW);
    }
    for (int64_t b = 0; b < u->nb; b++)
        im2col(q, A + at(u->n0 + b, q->C, g * q->Cg, q->HW, 0),
               cols + b * u->pc, u->ld, u->r0, u->r1);
    *ld = u->ld;
    return cols;
}

static void fwd_unit(const cgeom *q, const float *A, const float *w,
                     const float *bias, float *B, const cunit *u,
                     bool accumulate, float *cols, float *tmp)
{
    for (int64_t g = 0; g < q->g; g++) {
        int64_t lds;
        const float *src = unit_cols(q, A, u, g, cols, &lds);
        const float *wg = w + g * q->Og * q->K;
        if (u->nb == 1) {
            float *dst = B + at(u->n0, q->O, g * q->Og, q->P,
                                u->r0 * q->OW);
            lt_gemm(q->prec, false, false, q->Og, u->pc, q->K, 1.0f, wg, q->K,
                    src, lds, accumulate ? 1.0f : 0.0f, dst, q->P);
        } else {
            lt_gemm(q->prec, false, false, q->Og, u->ld, q->K, 1.0f, wg, q->K,
                    src, lds, 0.0f, tmp, u->ld);
            scatter_out(q, tmp, u, g, B, accumulate);
        }
    }
    for (int64_t b = 0; bias && b < u->nb; b++)
        for (int64_t o = 0; o < q->O; o++) {
            float *d = B + at(u->n0 + b, q->O, o, q->P, u->r0 * q->OW);
            for (int64_t p = 0; p < u->pc; p++)
                d[p] += bias[o];
        }
}

/* B[n, o, :] += bias[o]. */
static void add_bias(float *B, const float *bias, int64_t N, int64_t O,
                     int64_t P)
{
#pragma omp parallel for schedule(static) if (N * O * P > 65536)
    for (int64_t i = 0; i < N * O; i++) {
        float *d = B + i * P, v = bias[i % O];
        for (int64_t p = 0; p < P; p++)
            d[p] += v;
    }
}

/* B (=, or += when accumulate) = W (*) A [+ bias]. */
static lt_status conv_forward(lt_ctx *c, const cgeom *q, const float *A,
                              const float *w, const float *bias, float *B,
                              bool accumulate)
{
    if (lt_conv_dnnl_wanted(q, LT_CONV_FWD) &&
        lt_conv_dnnl(LT_CONV_FWD, q, A, w, bias, B, accumulate))
        return LT_OK;
    if (lt_conv_shift_ok(q, false)) {
        if (lt_conv_shift_forward(c, q, A, w, B, accumulate) != LT_OK)
            return lt_last_status();
        if (bias)
            add_bias(B, bias, q->N, q->O, q->P);
        return LT_OK;
    }
    scratch s;
    if (scratch_make(c, q, &s) != LT_OK)
        return lt_last_status();
    int64_t nch = n_chunks(q);
#pragma omp parallel for schedule(static) num_threads(s.nt) if (s.nt > 1)
    for (int64_t k = 0; k < nch; k++) {
        int t = tid();
        for (int64_t band = 0; band < q->nrb; band++) {
            cunit u = unit_get(q, k, band);
            fwd_unit(q, A, w, bias, B, &u, accumulate, s.cols + t * s.ncols,
                     s.tmp + t * s.nout);
        }
    }
    return LT_OK;
}

static void adj_unit(const cgeom *q, float *A, const float *w,
                     const float *B, const cunit *u, float *cols, float *tmp)
{
    for (int64_t g = 0; g < q->g; g++) {
        const float *wg = w + g * q->Og * q->K;
        const float *src = tmp;
        int64_t lds = u->ld;
        if (u->nb == 1) {
            src = B + at(u->n0, q->O, g * q->Og, q->P, u->r0 * q->OW);
            lds = q->P;
        } else {
            gather_out(q, B, u, g, tmp);
        }
        if (q->direct && u->nb == 1) {
            float *dst = A + at(u->n0, q->C, g * q->Cg, q->HW,
                                u->r0 * q->OW);
            lt_gemm(q->prec, true, false, q->K, u->pc, q->Og, 1.0f, wg, q->K,
                    src, lds, 1.0f, dst, q->HW);
            continue;
        }
        lt_gemm(q->prec, true, false, q->K, u->ld, q->Og, 1.0f, wg, q->K, src,
                lds, 0.0f, cols, u->ld);
        for (int64_t b = 0; b < u->nb; b++)
            col2im(q, cols + b * u->pc, u->ld,
                   A + at(u->n0 + b, q->C, g * q->Cg, q->HW, 0), u->r0,
                   u->r1);
    }
}

/* A += W^T (*) B; zeroed: A is all zeros (the oneDNN path then writes it
 * instead of adding). */
static lt_status conv_adjoint(lt_ctx *c, const cgeom *q, float *A,
                              const float *w, const float *B, bool zeroed)
{
    if (lt_conv_dnnl_wanted(q, LT_CONV_BWD_DATA) &&
        lt_conv_dnnl(LT_CONV_BWD_DATA, q, B, w, NULL, A, !zeroed))
        return LT_OK;
    if (lt_conv_shift_ok(q, true))
        return lt_conv_shift_adjoint(c, q, A, w, B);
    scratch s;
    if (scratch_make(c, q, &s) != LT_OK)
        return lt_last_status();
    int64_t nch = n_chunks(q);
#pragma omp parallel for schedule(static) num_threads(s.nt) if (s.nt > 1)
    for (int64_t k = 0; k < nch; k++) {
        int t = tid();
        for (int64_t band = 0; band < q->nrb; band++) {
            cunit u = unit_get(q, k, band);
            adj_unit(q, A, w, B, &u, s.cols + t * s.ncols,
                     s.tmp + t * s.nout);
        }
    }
    return LT_OK;
}

/* One unit of conv_wgrad, accumulated into gw [O, K]. */
static void wgrad_unit(const cgeom *q, const float *A, const float *B,
                       float *gw, const cunit *u, float *cols, float *tmp)
{
    for (int64_t g = 0; g < q->g; g++) {
        int64_t lds, ldy = u->ld;
        const float *src = unit_cols(q, A, u, g, cols, &lds), *dy = tmp;
        if (u->nb == 1) {
            dy = B + at(u->n0, q->O, g * q->Og, q->P, u->r0 * q->OW);
            ldy = q->P;
        } else {
            gather_out(q, B, u, g, tmp);
        }
        lt_gemm(q->prec, false, true, q->Og, q->K, u->ld, 1.0f, dy, ldy, src,
                lds, 1.0f, gw + g * q->Og * q->K, q->K);
    }
}

/* gw [O, K] += B . im2col(A)^T. Each thread sums its units into its own
 * partial; the partials are added to gw in thread order. */
static lt_status conv_wgrad(lt_ctx *c, const cgeom *q, const float *A,
                            const float *B, float *gw)
{
    if (lt_conv_dnnl_wanted(q, LT_CONV_BWD_WEIGHTS) &&
        lt_conv_dnnl(LT_CONV_BWD_WEIGHTS, q, A, B, NULL, gw, true))
        return LT_OK;
    if (lt_conv_shift_ok(q, false))
        return lt_conv_shift_wgrad(c, q, A, B, gw);
    scratch s;
    if (scratch_make(c, q, &s) != LT_OK)
        return lt_last_status();
    int64_t nch = n_chunks(q), nw = q->O * q->K;
    float *part = NULL;
    if (s.nt > 1) {
        part = lt_alloc_zero(c, (size_t)(nw * s.nt) * sizeof(float));
        if (!part)
            return lt_last_status();
    }
#pragma omp parallel for schedule(static) num_threads(s.nt) if (s.nt > 1)
    for (int64_t k = 0; k < nch; k++) {
        int t = tid();
        for (int64_t band = 0; band < q->nrb; band++) {
            cunit u = unit_get(q, k, band);
            wgrad_unit(q, A, B, part ? part + t * nw : gw, &u,
                       s.cols + t * s.ncols, s.tmp + t * s.nout);
        }
    }
    if (part) {
#pragma omp parallel for schedule(static) if (nw > 32768)
        for (int64_t i = 0; i < nw; i++) {
            float v = 0;
            for (int t = 0; t < s.nt; t++)
                v += part[t * nw + i];
            gw[i] += v;
        }
    }
    return LT_OK;
}

/* gb[o] += sum over images and positions of gy[n, o, :]. */
static void bias_grad(const float *gy, int64_t N, int64_t O, int64_t P,
                      float *gb)
{
#pragma omp parallel for schedule(static) if (N * O * P > 65536)
    for (int64_t o = 0; o < O; o++) {
        double s = 0;
        for (int64_t n = 0; n < N; n++) {
            const float *r = gy + (n * O + o) * P;
            float t = 0;
            for (int64_t p = 0; p < P; p++)
                t += r[p];
            s += t;
        }
        gb[o] += (float)s;
    }
}

/* ---- argument checks -------------------------------------------------- */

static bool check_args(const char *op, lt_conv_args *a, bool transpose)
{
    a->stride_h = a->stride_h ? a->stride_h : 1;
    a->stride_w = a->stride_w ? a->stride_w : 1;
    a->dilation_h = a->dilation_h ? a->dilation_h : 1;
    a->dilation_w = a->dilation_w ? a->dilation_w : 1;
    a->groups = a->groups ? a->groups : 1;
    if (a->stride_h < 0 || a->stride_w < 0 || a->dilation_h < 0 ||
        a->dilation_w < 0 || a->groups < 0 || a->pad_h < 0 || a->pad_w < 0 ||
        a->out_pad_h < 0 || a->out_pad_w < 0) {
        lt_set_error(LT_ERR_ARG, "%s: negative stride, padding, dilation, "
                     "groups or output padding", op);
        return false;
    }
    if (!transpose && (a->out_pad_h || a->out_pad_w)) {
        lt_set_error(LT_ERR_ARG, "%s: output padding is only for "
                     "conv_transpose2d", op);
        return false;
    }
    if (transpose && ((a->out_pad_h >= a->stride_h &&
                       a->out_pad_h >= a->dilation_h) ||
                      (a->out_pad_w >= a->stride_w &&
                       a->out_pad_w >= a->dilation_w))) {
        lt_set_error(LT_ERR_ARG, "%s: output padding (%d, %d) must be smaller "
                     "than the stride (%d, %d) or the dilation (%d, %d)", op,
                     a->out_pad_h, a->out_pad_w, a->stride_h, a->stride_w,
                     a->dilation_h, a->dilation_w);
        return false;
    }
    return true;
}

static bool check_4d(const char *op, const lt_tensor *x, const lt_tensor *w)
{
    char bx[64], bw[64];
    if (x->ndim != 4 || w->ndim != 4) {
        lt_set_error(LT_ERR_SHAPE, "%s: input %s and weight %s must be 4-D "
                     "(NCHW)", op, lt_shape_str(x, bx, sizeof bx),
                     lt_shape_str(w, bw, sizeof bw));
        return false;
    }
    return true;
}

static bool check_groups(const char *op, const lt_tensor *x,
                         const lt_tensor *w, int64_t cin, int64_t cout,
                         int groups)
{
    char bx[64], bw[64];
    if (cin % groups || cout % groups) {
        lt_set_error(LT_ERR_SHAPE, "%s: groups %d does not divide the %lld "
                     "input and %lld output channels (input %s, weight %s)",
                     op, groups, (long long)cin, (long long)cout,
                     lt_shape_str(x, bx, sizeof bx),
                     lt_shape_str(w, bw, sizeof bw));
        return false;
    }
    return true;
}

static bool check_bias(const char *op, const lt_tensor *b, int64_t cout)
{
    char bb[64];
    if (b && (b->ndim != 1 || b->shape[0] != cout)) {
        lt_set_error(LT_ERR_SHAPE, "%s: bias %s must be [%lld]", op,
                     lt_shape_str(b, bb, sizeof bb), (long long)cout);
        return false;
    }
    return true;
}

static void geom_args(cgeom *q, const lt_conv_args *a)
{
    q->sh = a->stride_h;
    q->sw = a->stride_w;
    q->ph = a->pad_h;
    q->pw = a->pad_w;
    q->dh = a->dilation_h;
    q->dw = a->dilation_w;
    q->g = a->groups;
}

/* ---- conv2d ------------------------------------------------------------ */

static lt_status conv2d_backward(lt_ctx *c, lt_node *n)
{
    const cgeom *q = n->saved;
    const float *gy = n->out->grad;
    float *gx = lt_in_grad(c, n, 0);
    float *gw = lt_in_grad(c, n, 1);
    float *gb = lt_in_grad(c, n, 2);
    if (gb)
        bias_grad(gy, q->N, q->O, q->P, gb);
    lt_conv_dnnl_share(true); /* gy: one reorder for both gradients */
    lt_status s = LT_OK;
    if (gw)
        s = conv_wgrad(c, q, n->in[0]->data, gy, gw);
    if (s == LT_OK && gx)
        s = conv_adjoint(c, q, gx, n->in[1]->data, gy, false);
    lt_conv_dnnl_share(false);
    return s;
}

static bool conv2d_geom(const lt_tensor *x, const lt_tensor *w,
                        const lt_tensor *b, lt_conv_args *a, cgeom *q)
{
    const char *op = "conv2d";
    char bx[64], bw[64];
    if (!check_args(op, a, false) || !check_4d(op, x, w))
        return false;
    if (x->shape[1] != w->shape[1] * a->groups) {
        lt_set_error(LT_ERR_SHAPE, "conv2d: input %s has %lld channels, "
                     "weight %s with groups %d expects %lld",
                     lt_shape_str(x, bx, sizeof bx), (long long)x->shape[1],
                     lt_shape_str(w, bw, sizeof bw), a->groups,
                     (long long)(w->shape[1] * a->groups));
        return false;
    }
    if (!check_groups(op, x, w, x->shape[1], w->shape[0], a->groups) ||
        !check_bias(op, b, w->shape[0]))
        return false;
    geom_args(q, a);
    q->N = x->shape[0], q->C = x->shape[1], q->H = x->shape[2];
    q->W = x->shape[3], q->O = w->shape[0];
    q->kh = w->shape[2], q->kw = w->shape[3];
    int64_t ekh = q->dh * (q->kh - 1) + 1, ekw = q->dw * (q->kw - 1) + 1;
    if (ekh > q->H + 2 * q->ph || ekw > q->W + 2 * q->pw) {
        lt_set_error(LT_ERR_SHAPE, "conv2d: kernel %lldx%lld (dilated) is "
                     "larger than the padded input %lldx%lld (input %s, "
                     "weight %s)", (long long)ekh, (long long)ekw,
                     (long long)(q->H + 2 * q->ph),
                     (long long)(q->W + 2 * q->pw),
                     lt_shape_str(x, bx, sizeof bx),
                     lt_shape_str(w, bw, sizeof bw));
        return false;
    }
    q->OH = (q->H + 2 * q->ph - ekh) / q->sh + 1;
    q->OW = (q->W + 2 * q->pw - ekw) / q->sw + 1;
    geom_finish(q);
    return true;
}

lt_tensor *lt_conv2d(lt_ctx *c, lt_tensor *x, lt_tensor *w, lt_tensor *b,
                     lt_conv_args a)
{
    if (!x || !w)
        return NULL;
    cgeom gq;
    if (!conv2d_geom(x, w, b, &a, &gq))
        return NULL;
    gq.prec = lt_ctx_precision(c);
    lt_tensor *y = lt_new4(c, gq.N, gq.O, gq.OH, gq.OW);
    if (!y || conv_forward(c, &gq, x->data, w->data, b ? b->data : NULL,
                           y->data, false) != LT_OK)
        return NULL;
    lt_tensor *in[3] = {x, w, b};
    if (lt_needs_grad(c, 3, in)) {
        lt_node *n = lt_record(c, y, conv2d_backward, "conv2d", 3, in);
        cgeom *q = n ? lt_alloc(c, sizeof *q) : NULL;
        if (!q)
            return NULL;
        *q = gq;
        n->saved = q;
    }
    return y;
}

/* ---- conv_transpose2d ----------------------------------------------------
 * The conv geometry is that of the conv2d whose adjoint this is: its input
 * A is our output y [N, Cout, OH, OW], its output B is our input x. */

static lt_status convt_backward(lt_ctx *c, lt_node *n)
{
    const cgeom *q = n->saved;
    const float *gy = n->out->grad;
    float *gx = lt_in_grad(c, n, 0);
    float *gw = lt_in_grad(c, n, 1);
    float *gb = lt_in_grad(c, n, 2);
    if (gb)
        bias_grad(gy, q->N, q->C, q->HW, gb);
    lt_conv_dnnl_share(true); /* gy: one reorder for both gradients */
    lt_status s = LT_OK;
    if (gw)
        s = conv_wgrad(c, q, gy, n->in[0]->data, gw);
    if (s == LT_OK && gx)
        s = conv_forward(c, q, gy, n->in[1]->data, NULL, gx, true);
    lt_conv_dnnl_share(false);
    return s;
}

static bool convt_geom(const lt_tensor *x, const lt_tensor *w,
                       const lt_tensor *b, lt_conv_args *a, cgeom *q)
{
    const char *op = "conv_transpose2d";
    char bx[64], bw[64];
    if (!check_args(op, a, true) || !check_4d(op, x, w))
        return false;
    if (x->shape[1] != w->shape[0]) {
        lt_set_error(LT_ERR_SHAPE, "conv_transpose2d: input %s has %lld "
                     "channels, weight %s expects %lld",
                     lt_shape_str(x, bx, sizeof bx), (long long)x->shape[1],
                     lt_shape_str(w, bw, sizeof bw), (long long)w->shape[0]);
        return false;
    }
    int64_t cout = w->shape[1] * a->groups;
    if (!check_groups(op, x, w, x->shape[1], cout, a->groups) ||
        !check_bias(op, b, cout))
        return false;
    geom_args(q, a);
    q->N = x->shape[0], q->O = x->shape[1], q->OH = x->shape[2];
    q->OW = x->shape[3], q->C = cout;
    q->kh = w->shape[2], q->kw = w->shape[3];
    q->H = (q->OH - 1) * q->sh - 2 * q->ph + q->dh * (q->kh - 1) +
           a->out_pad_h + 1;
    q->W = (q->OW - 1) * q->sw - 2 * q->pw + q->dw * (q->kw - 1) +
           a->out_pad_w + 1;
    if (q->H < 1 || q->W < 1) {
        lt_set_error(LT_ERR_SHAPE, "conv_transpose2d: input %s with weight %s "
                     "gives an empty output %lldx%lld (padding too large)",
                     lt_shape_str(x, bx, sizeof bx),
                     lt_shape_str(w, bw, sizeof bw), (long long)q->H,
                     (long long)q->W);
        return false;
    }
    geom_finish(q);
    return true;
}

lt_tensor *lt_conv_transpose2d(lt_ctx *c, lt_tensor *x, lt_tensor *w,
                               lt_tensor *b, lt_conv_args a)
{
    if (!x || !w)
        return NULL;
    cgeom gq;
    if (!convt_geom(x, w, b, &a, &gq))
        return NULL;
    gq.prec = lt_ctx_precision(c);
    lt_tensor *y = lt_zeros(c, 4, (int64_t[]){gq.N, gq.C, gq.H, gq.W});
    if (!y || conv_adjoint(c, &gq, y->data, w->data, x->data, true) != LT_OK)
        return NULL;
    if (b) {
        int64_t planes = gq.N * gq.C;
#pragma omp parallel for schedule(static) if (y->numel > 32768)
        for (int64_t i = 0; i < planes; i++) {
            float *d = y->data + i * gq.HW, v = b->data[i % gq.C];
            for (int64_t p = 0; p < gq.HW; p++)
                d[p] += v;
        }
    }
    lt_tensor *in[3] = {x, w, b};
    if (lt_needs_grad(c, 3, in)) {
        lt_node *n = lt_record(c, y, convt_backward, "conv_transpose2d", 3,
                               in);
        cgeom *q = n ? lt_alloc(c, sizeof *q) : NULL;
        if (!q)
            return NULL;
        *q = gq;
        n->saved = q;
    }
    return y;
}
