/*
 * test_conv_bf16.c - conv2d and conv_transpose2d in bf16 mixed precision
 * (src/ops/conv_dnnl.c on oneDNN, conv.c's GEMMs otherwise): forward, data
 * gradient and weight gradient equal the double-precision sums over
 * bf16-rounded operands within fp32 accumulation error (relative to the sum
 * of |a||b|), with groups, strides, dilations and paddings; the fp32
 * results must NOT match those sums (a bf16 mode that silently ran fp32
 * fails). Also: repeated runs give identical results and 1 and 2 threads
 * agree. CMake runs it on the default choice of path, and with
 * LETHE_CONV_BACKEND=onednn and =im2col (every kernel on one path).
 */
#include "lt_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    bool transpose;
    int64_t N, C, H, W, O, kh, kw; /* conv geometry: A [N,C,H,W], w [O,C/g] */
    lt_conv_args a;
} bf_case;

static const bf_case cases[] = {
    {"pad", false, 2, 8, 10, 9, 16, 3, 3, {.pad_h = 1, .pad_w = 1}},
    {"grp_s2", false, 3, 8, 11, 10, 12, 3, 3,
     {.stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1, .groups = 4}},
    {"dil", false, 2, 6, 12, 11, 8, 3, 2,
     {.pad_h = 2, .pad_w = 1, .dilation_h = 2, .dilation_w = 3}},
    {"t_s2", true, 2, 8, 9, 9, 16, 3, 3,
     {.stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1}},
    {"t_grp_dil", true, 2, 12, 12, 10, 8, 3, 3,
     {.pad_h = 1, .pad_w = 2, .dilation_h = 2, .dilation_w = 2,
      .groups = 2}},
};
#define N_CASES (int)(sizeof cases / sizeof cases[0])

typedef struct {
    int64_t OH, OW, na, nb, nw; /* conv output size; element counts */
} bf_dims;

static int64_t args_or(int v, int d) { return v ? v : d; }

static bf_dims dims_of(const bf_case *k)
{
    const lt_conv_args *a = &k->a;
    int64_t sh = args_or(a->stride_h, 1), sw = args_or(a->stride_w, 1);
    int64_t dh = args_or(a->dilation_h, 1), dw = args_or(a->dilation_w, 1);
    bf_dims d;
    d.OH = (k->H + 2 * a->pad_h - dh * (k->kh - 1) - 1) / sh + 1;
    d.OW = (k->W + 2 * a->pad_w - dw * (k->kw - 1) - 1) / sw + 1;
    d.na = k->N * k->C * k->H * k->W;
    d.nb = k->N * k->O * d.OH * d.OW;
    d.nw = k->O * (k->C / args_or(a->groups, 1)) * k->kh * k->kw;
    return d;
}

static void fill(float *x, int64_t n, uint32_t seed)
{
    uint32_t s = seed * 2654435761u + 977u;
    for (int64_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = (float)((double)(s >> 8) / (double)(1u << 24) * 2.0 - 1.0);
    }
}

/* The three products over bf16-rounded operands of the conv geometry:
 * mode 0 B = w (*) A, mode 1 A = w^T (*) B, mode 2 w = B . A; want gets
 * the sums, scale the sums of |products|. */
static void reference(const bf_case *k, const bf_dims *d, const float *A,
                      const float *B, const float *w, int mode, double *want,
                      double *scale)
{
    const lt_conv_args *a = &k->a;
    int64_t g = args_or(a->groups, 1), Cg = k->C / g, Og = k->O / g;
    int64_t sh = args_or(a->stride_h, 1), sw = args_or(a->stride_w, 1);
    int64_t dh = args_or(a->dilation_h, 1), dw = args_or(a->dilation_w, 1);
    for (int64_t n = 0; n < k->N; n++)
        for (int64_t o = 0; o < k->O; o++)
            for (int64_t cc = 0; cc < Cg; cc++)
                for (int64_t i = 0; i < k->kh; i++)
                    for (int64_t j = 0; j < k->kw; j++)
                        for (int64_t oh = 0; oh < d->OH; oh++)
                            for (int64_t ow = 0; ow < d->OW; ow++) {
                                int64_t ih = oh * sh - a->pad_h + i * dh;
                                int64_t iw = ow * sw - a->pad_w + j * dw;
                                if (ih < 0 || ih >= k->H || iw < 0 ||
                                    iw >= k->W)
                                    continue;
                                int64_t c = (o / Og) * Cg + cc;
                                int64_t ia = ((n * k->C + c) * k->H + ih) *
                                                 k->W + iw;
                                int64_t ib = ((n * k->O + o) * d->OH + oh) *
                                                 d->OW + ow;
                                int64_t iw8 = ((o * Cg + cc) * k->kh + i) *
                                                  k->kw + j;
                                double ra = lt_bf16_round(A[ia]);
                                double rb = lt_bf16_round(B[ib]);
                                double rw = lt_bf16_round(w[iw8]);
                                int64_t t = mode == 0 ? ib
                                            : mode == 1 ? ia : iw8;
                                double p = mode == 0   ? ra * rw
                                           : mode == 1 ? rb * rw
                                                       : rb * ra;
                                want[t] += p;
                                scale[t] += fabs(p);
                            }
}

/* Results of one run: y, the input gradient, the weight gradient. */
typedef struct {
    float *y, *gx, *gw;
} bf_run;

/* Forward and backward (upstream gradient gy) of case k in precision p.
 * For conv2d x = A, y = B; for conv_transpose2d x = B, y = A. */
static bool run_case(const bf_case *k, const bf_dims *d, lt_precision p,
                     const float *x, const float *w, const float *gy,
                     bf_run *r)
{
    int64_t nx = k->transpose ? d->nb : d->na;
    int64_t ny = k->transpose ? d->na : d->nb;
    int64_t xs[4] = {k->N, k->transpose ? k->O : k->C,
                     k->transpose ? d->OH : k->H,
                     k->transpose ? d->OW : k->W};
    /* conv_transpose2d's weight [Cin, Cout/g] is the conv's [O, C/g]. */
    int64_t ws[4] = {k->O, k->C / args_or(k->a.groups, 1), k->kh, k->kw};
    lt_conv_args a = k->a;
    if (k->transpose) { /* output size k->H x k->W */
        int64_t sh = args_or(a.stride_h, 1), sw = args_or(a.stride_w, 1);
        int64_t dh = args_or(a.dilation_h, 1), dw = args_or(a.dilation_w, 1);
        a.out_pad_h = (int)(k->H - ((d->OH - 1) * sh - 2 * a.pad_h +
                                    dh * (k->kh - 1) + 1));
        a.out_pad_w = (int)(k->W - ((d->OW - 1) * sw - 2 * a.pad_w +
                                    dw * (k->kw - 1) + 1));
    }
    lt_ctx *c = lt_ctx_new((size_t)32 << 20);
    lt_set_precision(c, p);
    lt_tensor *tx = lt_requires_grad(lt_from_data(c, 4, xs, x));
    lt_tensor *tw = lt_requires_grad(lt_from_data(c, 4, ws, w));
    lt_tensor *ty = k->transpose ? lt_conv_transpose2d(c, tx, tw, NULL, a)
                                 : lt_conv2d(c, tx, tw, NULL, a);
    bool ok = ty && ty->numel == ny && lt_backward_with(c, ty, gy) == LT_OK;
    LT_CHECK(ok, "%s: %s", k->name, lt_last_error());
    if (ok) {
        r->y = malloc((size_t)ny * sizeof(float));
        r->gx = malloc((size_t)nx * sizeof(float));
        r->gw = malloc((size_t)d->nw * sizeof(float));
        memcpy(r->y, ty->data, (size_t)ny * sizeof(float));
        memcpy(r->gx, tx->grad, (size_t)nx * sizeof(float));
        memcpy(r->gw, tw->grad, (size_t)d->nw * sizeof(float));
    }
    lt_ctx_free(c);
    return ok;
}

static void run_free(bf_run *r)
{
    free(r->y);
    free(r->gx);
    free(r->gw);
}

/* Largest |got - want| / scale (0 where scale is 0: no products). */
static double max_err(const float *got, const double *want,
                      const double *scale, int64_t n)
{
    double m = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double e = scale[i] > 0 ? fabs((double)got[i] - want[i]) / scale[i]
                                : fabs((double)got[i]);
        if (!(e <= m))
            m = isnan(e) ? INFINITY : e;
    }
    return m;
}

static void check_pair(const bf_case *k, const char *what, const float *bf,
                       const float *fp, int mode, const float *A,
                       const float *B, const float *w, const bf_dims *d)
{
    int64_t n = mode == 0 ? d->nb : mode == 1 ? d->na : d->nw;
    double *want = calloc((size_t)n, sizeof(double));
    double *scale = calloc((size_t)n, sizeof(double));
    reference(k, d, A, B, w, mode, want, scale);
    double eb = max_err(bf, want, scale, n), ef = max_err(fp, want, scale, n);
    LT_CHECK(eb < 2e-6, "%s %s: bf16 result off the rounded-operand sums by "
             "%.3g (relative)", k->name, what, eb);
    LT_CHECK(ef > 1e-4, "%s %s: the fp32 result matches the rounded-operand "
             "sums (%.3g): the test cannot tell the modes apart", k->name,
             what, ef);
    free(want);
    free(scale);
}

/* Case k in both precisions against the references. */
static void check_case(const bf_case *k)
{
    bf_dims d = dims_of(k);
    int64_t nx = k->transpose ? d.nb : d.na, ny = k->transpose ? d.na : d.nb;
    float *x = malloc((size_t)nx * sizeof(float));
    float *w = malloc((size_t)d.nw * sizeof(float));
    float *gy = malloc((size_t)ny * sizeof(float));
    fill(x, nx, 11), fill(w, d.nw, 12), fill(gy, ny, 13);
    bf_run r[2] = {{0}};
    if (run_case(k, &d, LT_PRECISION_FP32, x, w, gy, &r[0]) &&
        run_case(k, &d, LT_PRECISION_BF16, x, w, gy, &r[1])) {
        /* conv2d: A = x, B = y / gy; transposed: A = y / gy, B = x. */
        const float *A = k->transpose ? gy : x, *B = k->transpose ? x : gy;
        if (k->transpose) {
            check_pair(k, "forward", r[1].y, r[0].y, 1, A, B, w, &d);
            check_pair(k, "data grad", r[1].gx, r[0].gx, 0, A, B, w, &d);
        } else {
            check_pair(k, "forward", r[1].y, r[0].y, 0, A, B, w, &d);
            check_pair(k, "data grad", r[1].gx, r[0].gx, 1, A, B, w, &d);
        }
        check_pair(k, "weight grad", r[1].gw, r[0].gw, 2, A, B, w, &d);
    }
    run_free(&r[0]);
    run_free(&r[1]);
    free(x), free(w), free(gy);
}

LT_TEST(conv_bf16_matches_rounded_operand_sums)
{
    for (int i = 0; i < N_CASES; i++)
        check_case(&cases[i]);
}

/* Larger shapes (several blocks of 16 channels, a batch that oneDNN cuts
 * between threads): two runs are bitwise equal, 1 and 2 threads agree. */
LT_TEST(conv_bf16_repeatable_and_thread_count_independent)
{
    const bf_case ks[2] = {
        {"big", false, 16, 32, 14, 14, 48, 3, 3, {.pad_h = 1, .pad_w = 1}},
        {"t_big", true, 16, 32, 14, 14, 32, 3, 3,
         {.stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1}},
    };
    int keep = lt_num_threads();
    for (int i = 0; i < 2; i++) {
        const bf_case *k = &ks[i];
        bf_dims d = dims_of(k);
        int64_t nx = k->transpose ? d.nb : d.na;
        int64_t ny = k->transpose ? d.na : d.nb;
        float *x = malloc((size_t)nx * sizeof(float));
        float *w = malloc((size_t)d.nw * sizeof(float));
        float *gy = malloc((size_t)ny * sizeof(float));
        fill(x, nx, 21), fill(w, d.nw, 22), fill(gy, ny, 23);
        bf_run r[3] = {{0}};
        bool ok = true;
        for (int t = 0; t < 3 && ok; t++) {
            lt_set_num_threads(t < 2 ? 2 : 1);
            ok = run_case(k, &d, LT_PRECISION_BF16, x, w, gy, &r[t]);
        }
        lt_set_num_threads(keep);
        if (ok) {
            LT_CHECK(memcmp(r[0].y, r[1].y, (size_t)ny * 4) == 0 &&
                         memcmp(r[0].gx, r[1].gx, (size_t)nx * 4) == 0 &&
                         memcmp(r[0].gw, r[1].gw, (size_t)d.nw * 4) == 0,
                     "%s: two bf16 runs differ", k->name);
            LT_CHECK_CLOSE("y 1 vs 2 threads", r[2].y, r[0].y, ny, 1e-4);
            LT_CHECK_CLOSE("gx 1 vs 2 threads", r[2].gx, r[0].gx, nx, 1e-4);
            LT_CHECK_CLOSE("gw 1 vs 2 threads", r[2].gw, r[0].gw, d.nw,
                           1e-4);
        }
        for (int t = 0; t < 3; t++)
            run_free(&r[t]);
        free(x), free(w), free(gy);
    }
}

LT_TEST_MAIN()
