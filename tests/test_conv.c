/*
 * test_conv.c - tests of conv2d and conv_transpose2d: PyTorch goldens
 * (tests/golden/gen_conv.py) for forward and all gradients, finite
 * differences, agreement between 1 and 2 threads, no-grad mode, and the
 * shape / argument errors.
 */
#include "lt_test.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    bool transpose, bias;
    lt_conv_args a;
} conv_case;

/* Must match tests/golden/gen_conv.py. */
static const conv_case cases[] = {
    {"grp", false, true, {.stride_h = 2, .stride_w = 2, .pad_h = 1,
                          .pad_w = 1, .groups = 2}},
    {"dil", false, false, {.stride_h = 1, .stride_w = 2, .pad_h = 2,
                           .pad_w = 1, .dilation_h = 2, .dilation_w = 3}},
    {"pw", false, true, {0}},
    {"pws2", false, false, {.stride_h = 2, .stride_w = 2}},
    {"big", false, true, {.pad_h = 1, .pad_w = 1}},
    {"pwbig", false, true, {0}},
    {"odd", false, true, {.pad_h = 1, .pad_w = 1}},
    {"dw", false, false, {.stride_h = 2, .stride_w = 2, .pad_h = 1,
                          .pad_w = 1, .groups = 4}},
    {"tgrp", true, true, {.stride_h = 2, .stride_w = 2, .pad_h = 1,
                          .pad_w = 1, .out_pad_h = 1, .out_pad_w = 1,
                          .groups = 2}},
    {"tdil", true, false, {.stride_h = 2, .stride_w = 3, .pad_h = 0,
                           .pad_w = 1, .out_pad_h = 1, .out_pad_w = 2,
                           .dilation_h = 2, .dilation_w = 1}},
    {"tbig", true, true, {.pad_h = 1, .pad_w = 1}},
};
#define N_CASES (int)(sizeof cases / sizeof cases[0])

static lt_tensor *run(lt_ctx *c, const conv_case *k, lt_tensor *x,
                      lt_tensor *w, lt_tensor *b)
{
    return k->transpose ? lt_conv_transpose2d(c, x, w, b, k->a)
                        : lt_conv2d(c, x, w, b, k->a);
}

static void golden_case(lt_ctx *c, const lt_golden *g, const conv_case *k)
{
    char n[64];
#define NM(s) (snprintf(n, sizeof n, "%s.%s", k->name, s), n)
    lt_tensor *x = lt_golden_tensor(c, g, NM("x"), true);
    lt_tensor *w = lt_golden_tensor(c, g, NM("w"), true);
    lt_tensor *b = k->bias ? lt_golden_tensor(c, g, NM("b"), true) : NULL;
    lt_tensor *y = run(c, k, x, w, b);
    LT_CHECK(y != NULL, "%s: %s", k->name, lt_last_error());
    if (!y)
        return;
    const lt_golden_entry *ye = lt_golden_get(g, NM("y"));
    LT_CHECK(ye && ye->numel == y->numel && y->ndim == 4 &&
                 memcmp(ye->shape, y->shape, 4 * sizeof(int64_t)) == 0,
             "%s: output shape", k->name);
    if (!ye || ye->numel != y->numel)
        return;
    LT_GOLDEN_CHECK(g, NM("y"), y->data, y->numel);
    const lt_golden_entry *r = lt_golden_get(g, NM("r"));
    LT_CHECK(lt_backward_with(c, y, r->data) == LT_OK, "%s: %s", k->name,
             lt_last_error());
    LT_GOLDEN_CHECK(g, NM("gx"), x->grad, x->numel);
    LT_GOLDEN_CHECK(g, NM("gw"), w->grad, w->numel);
    if (b)
        LT_GOLDEN_CHECK(g, NM("gb"), b->grad, b->numel);
#undef NM
}

LT_TEST(conv_matches_pytorch)
{
    lt_golden *g = lt_golden_load("conv.bin");
    if (!g)
        return;
    lt_ctx *c = lt_ctx_new((size_t)32 << 20);
    for (int i = 0; i < N_CASES; i++) {
        golden_case(c, g, &cases[i]);
        lt_ctx_reset(c);
    }
    lt_ctx_free(c);
    lt_golden_free(g);
}

static lt_tensor *gc_conv(lt_ctx *c, lt_tensor **in, void *ud)
{
    const conv_case *k = ud;
    return run(c, k, in[0], in[1], k->bias ? in[2] : NULL);
}

static void gradcheck_case(const conv_case *k, const int64_t *xs,
                           const int64_t *ws, int64_t nb)
{
    lt_tensor *in[3] = {lt_gc_input(4, xs, true, 1, -1, 1),
                        lt_gc_input(4, ws, true, 2, -1, 1),
                        lt_gc_input(1, &nb, true, 3, -1, 1)};
    LT_CHECK(LT_GRADCHECK(k->name, gc_conv, (void *)k, 3, in, 1e-2, 1e-2),
             "%s: gradient check", k->name);
    for (int i = 0; i < 3; i++)
        lt_gc_input_free(in[i]);
}

LT_TEST(conv2d_finite_differences)
{
    gradcheck_case(&cases[0], (int64_t[]){2, 6, 7, 6},
                   (int64_t[]){4, 3, 3, 3}, 4);
    conv_case d = cases[1];
    d.name = "dil";
    gradcheck_case(&d, (int64_t[]){2, 3, 8, 9}, (int64_t[]){2, 3, 3, 2}, 2);
    gradcheck_case(&cases[2], (int64_t[]){2, 4, 3, 5},
                   (int64_t[]){3, 4, 1, 1}, 3);
    /* one image per chunk (output >= 384 positions), 2 chunks */
    gradcheck_case(&cases[4], (int64_t[]){2, 1, 20, 20},
                   (int64_t[]){2, 1, 3, 3}, 2);
}

LT_TEST(conv_transpose2d_finite_differences)
{
    gradcheck_case(&cases[8], (int64_t[]){2, 4, 4, 3},
                   (int64_t[]){4, 2, 3, 3}, 4);
    gradcheck_case(&cases[9], (int64_t[]){1, 3, 3, 4},
                   (int64_t[]){3, 2, 2, 3}, 2);
}

/* The same forward and backward with 1 and 2 threads agree to rounding. */
LT_TEST(conv_thread_count_independent)
{
    int64_t xs[4] = {9, 8, 6, 6}, ws[4] = {8, 4, 3, 3};
    lt_tensor *x = lt_gc_input(4, xs, true, 5, -1, 1);
    lt_tensor *w = lt_gc_input(4, ws, true, 6, -1, 1);
    lt_conv_args a = {.pad_h = 1, .pad_w = 1, .groups = 2};
    float *out[2], *gx[2], *gw[2];
    int64_t ny = 9 * 8 * 36;
    int keep = lt_num_threads();
    lt_ctx *c = lt_ctx_new((size_t)16 << 20);
    for (int t = 0; t < 2; t++) {
        lt_set_num_threads(t + 1);
        memset(x->grad, 0, (size_t)x->numel * sizeof(float));
        memset(w->grad, 0, (size_t)w->numel * sizeof(float));
        lt_tensor *y = lt_conv2d(c, x, w, NULL, a);
        LT_CHECK_OK(y);
        if (!y)
            break;
        LT_CHECK(lt_backward_with(c, y, y->data) == LT_OK, "%s",
                 lt_last_error());
        out[t] = malloc((size_t)ny * sizeof(float));
        gx[t] = malloc((size_t)x->numel * sizeof(float));
        gw[t] = malloc((size_t)w->numel * sizeof(float));
        memcpy(out[t], y->data, (size_t)ny * sizeof(float));
        memcpy(gx[t], x->grad, (size_t)x->numel * sizeof(float));
        memcpy(gw[t], w->grad, (size_t)w->numel * sizeof(float));
        lt_ctx_reset(c);
    }
    lt_set_num_threads(keep);
    LT_CHECK_CLOSE("y", out[1], out[0], ny, 1e-5);
    LT_CHECK_CLOSE("gx", gx[1], gx[0], x->numel, 1e-5);
    LT_CHECK_CLOSE("gw", gw[1], gw[0], w->numel, 1e-5);
    for (int t = 0; t < 2; t++) {
        free(out[t]);
        free(gx[t]);
        free(gw[t]);
    }
    lt_ctx_free(c);
    lt_gc_input_free(x);
    lt_gc_input_free(w);
}

/* ---- direct-loop reference for shapes that use the row-band path -------
 * Conv geometry: A [N, C, H, W], B [N, O, OH, OW], w [O, C/g, kh, kw].
 * mode 0: B += w (*) A; mode 1: A += w^T (*) B; mode 2: w += B . A. */
typedef struct {
    int64_t N, C, H, W, O, OH, OW, kh, kw, s, p, g;
} ref_geom;

static void ref_conv(const ref_geom *q, float *A, float *B, float *w,
                     int mode)
{
    int64_t Cg = q->C / q->g, Og = q->O / q->g;
    for (int64_t n = 0; n < q->N; n++)
        for (int64_t o = 0; o < q->O; o++)
            for (int64_t cc = 0; cc < Cg; cc++)
                for (int64_t i = 0; i < q->kh; i++)
                    for (int64_t j = 0; j < q->kw; j++)
                        for (int64_t oh = 0; oh < q->OH; oh++)
                            for (int64_t ow = 0; ow < q->OW; ow++) {
                                int64_t ih = oh * q->s - q->p + i;
                                int64_t iw = ow * q->s - q->p + j;
                                if (ih < 0 || ih >= q->H || iw < 0 ||
                                    iw >= q->W)
                                    continue;
                                int64_t c = (o / Og) * Cg + cc;
                                float *a = &A[((n * q->C + c) * q->H + ih) *
                                                  q->W + iw];
                                float *b = &B[((n * q->O + o) * q->OH + oh) *
                                                  q->OW + ow];
                                float *k = &w[((o * Cg + cc) * q->kh + i) *
                                                  q->kw + j];
                                if (mode == 0)
                                    *b += *a * *k;
                                else if (mode == 1)
                                    *a += *b * *k;
                                else
                                    *k += *b * *a;
                            }
}

static float *ramp(int64_t n, uint64_t seed)
{
    float *v = malloc((size_t)n * sizeof(float));
    lt_rng r;
    lt_rng_init(&r, seed);
    lt_rng_fill_uniform(&r, v, n, -1, 1);
    return v;
}

/* Compare lt_conv2d / lt_conv_transpose2d with ref_conv on geometry q. */
static void check_against_ref(const ref_geom *q, bool transpose)
{
    lt_ctx *c = lt_ctx_new((size_t)64 << 20);
    int64_t na = q->N * q->C * q->H * q->W, nbb = q->N * q->O * q->OH * q->OW;
    int64_t nw = q->O * (q->C / q->g) * q->kh * q->kw;
    int64_t xs_c[4] = {q->N, q->C, q->H, q->W};
    int64_t xs_t[4] = {q->N, q->O, q->OH, q->OW};
    int64_t ws[4] = {q->O, q->C / q->g, q->kh, q->kw};
    int64_t nx = transpose ? nbb : na, ny = transpose ? na : nbb;
    float *xv = ramp(nx, 1), *wv = ramp(nw, 2), *gy = ramp(ny, 3);
    float *yr = calloc((size_t)ny, 4), *gxr = calloc((size_t)nx, 4);
    float *gwr = calloc((size_t)nw, 4);
    lt_tensor *x = lt_requires_grad(lt_from_data(c, 4, transpose ? xs_t
                                                                 : xs_c, xv));
    lt_tensor *w = lt_requires_grad(lt_from_data(c, 4, ws, wv));
    lt_conv_args a = {.stride_h = (int)q->s, .stride_w = (int)q->s,
                      .pad_h = (int)q->p, .pad_w = (int)q->p,
                      .groups = (int)q->g};
    if (transpose) {
        a.out_pad_h = (int)(q->H - ((q->OH - 1) * q->s - 2 * q->p + q->kh));
        a.out_pad_w = (int)(q->W - ((q->OW - 1) * q->s - 2 * q->p + q->kw));
        ref_conv(q, yr, xv, wv, 1);
        ref_conv(q, gy, gxr, wv, 0);
        ref_conv(q, gy, xv, gwr, 2);
    } else {
        ref_conv(q, xv, yr, wv, 0);
        ref_conv(q, gxr, gy, wv, 1);
        ref_conv(q, xv, gy, gwr, 2);
    }
    lt_tensor *y = transpose ? lt_conv_transpose2d(c, x, w, NULL, a)
                             : lt_conv2d(c, x, w, NULL, a);
    LT_CHECK_OK(y);
    if (y && y->numel == ny) {
        LT_CHECK_CLOSE("y", y->data, yr, ny, 1e-4);
        LT_CHECK(lt_backward_with(c, y, gy) == LT_OK, "%s", lt_last_error());
        LT_CHECK_CLOSE("gx", x->grad, gxr, nx, 1e-4);
        LT_CHECK_CLOSE("gw", w->grad, gwr, nw, 1e-4);
    }
    free(xv), free(wv), free(gy), free(yr), free(gxr), free(gwr);
    lt_ctx_free(c);
}

/* Large feature maps are cut into bands of output rows (see conv.c). */
LT_TEST(conv_row_bands_match_reference)
{
    /* 3x3 stride 2 pad 1: 30x25 output, 576-row columns: 2 bands */
    ref_geom q = {2, 64, 60, 50, 8, 30, 25, 3, 3, 2, 1, 1};
    check_against_ref(&q, false);
    /* 1x1 direct path with bands: 512 channels, 24x24 */
    ref_geom d = {2, 512, 24, 24, 4, 24, 24, 1, 1, 1, 0, 1};
    check_against_ref(&d, false);
    /* grouped */
    ref_geom gq = {3, 128, 40, 40, 8, 40, 40, 3, 3, 1, 1, 2};
    check_against_ref(&gq, false);
    /* conv_transpose2d 4 -> 64 channels, 30x25 -> 60x50 (out_pad 1) */
    ref_geom t = {2, 64, 60, 50, 4, 30, 25, 3, 3, 2, 1, 1};
    check_against_ref(&t, true);
}

/* Stride-1 convolutions run as shifted GEMMs on zero-padded strips of
 * several images (see conv_shift.c), strided ones by im2col (conv.c):
 * kernels, paddings, strides, channel counts on both sides of the strip
 * path's threshold, many images per unit and the transpose. */
LT_TEST(conv_strips_match_reference)
{
    ref_geom a = {13, 8, 9, 7, 6, 9, 7, 3, 3, 1, 1, 1};
    check_against_ref(&a, false);
    ref_geom b = {3, 6, 11, 10, 5, 11, 10, 5, 5, 1, 2, 1};
    check_against_ref(&b, false);
    ref_geom d = {4, 5, 8, 9, 7, 6, 7, 3, 3, 1, 0, 1};
    check_against_ref(&d, false);
    ref_geom e = {5, 4, 6, 6, 9, 5, 5, 2, 2, 1, 0, 1};
    check_against_ref(&e, false);
    ref_geom f = {6, 16, 4, 4, 2, 4, 4, 3, 3, 1, 1, 1};
    check_against_ref(&f, false);
    ref_geom g = {7, 2, 5, 5, 16, 5, 5, 3, 3, 1, 1, 1};
    check_against_ref(&g, false);
    ref_geom t = {5, 6, 9, 8, 8, 7, 6, 3, 3, 1, 0, 1};
    check_against_ref(&t, true);
    ref_geom r = {40, 32, 7, 7, 32, 7, 7, 3, 3, 1, 1, 1};
    check_against_ref(&r, false);
    /* strided: the im2col path */
    ref_geom s2 = {6, 8, 9, 11, 6, 5, 6, 3, 3, 2, 1, 1};
    check_against_ref(&s2, false);
    ref_geom s2b = {5, 8, 28, 28, 16, 14, 14, 3, 3, 2, 1, 1};
    check_against_ref(&s2b, false);
    ref_geom s3 = {3, 5, 10, 10, 4, 4, 4, 5, 5, 3, 2, 1};
    check_against_ref(&s3, false);
    ref_geom s2k2 = {4, 6, 8, 7, 5, 4, 3, 2, 2, 2, 0, 1};
    check_against_ref(&s2k2, false);
    ref_geom ts2 = {4, 6, 9, 9, 8, 5, 5, 3, 3, 2, 1, 1};
    check_against_ref(&ts2, true);
    ref_geom ts2b = {3, 5, 10, 9, 6, 5, 5, 3, 3, 2, 1, 1};
    check_against_ref(&ts2b, true);
}

LT_TEST(conv_no_grad_records_nothing)
{
    lt_ctx *c = lt_ctx_new(1 << 20);
    int64_t xs[4] = {1, 2, 5, 5}, ws[4] = {3, 2, 3, 3};
    lt_tensor *x = lt_requires_grad(lt_zeros(c, 4, xs));
    lt_tensor *w = lt_zeros(c, 4, ws);
    lt_set_grad_enabled(c, false);
    lt_tensor *y = lt_conv2d(c, x, w, NULL, (lt_conv_args){0});
    LT_CHECK(y && !y->node && y->shape[2] == 3 && y->shape[3] == 3,
             "no-grad conv2d");
    lt_set_grad_enabled(c, true);
    LT_CHECK(lt_conv2d(c, NULL, w, NULL, (lt_conv_args){0}) == NULL,
             "NULL input accepted");
    lt_ctx_free(c);
}

static void expect_error(lt_tensor *y, lt_status code, const char *op,
                         const char *what)
{
    LT_CHECK(y == NULL, "%s accepted", what);
    LT_CHECK(lt_last_status() == code, "%s: status %s", what,
             lt_status_name(lt_last_status()));
    LT_CHECK(strstr(lt_last_error(), op) != NULL, "%s: message '%s'", what,
             lt_last_error());
}

LT_TEST(conv_errors)
{
    lt_ctx *c = lt_ctx_new(1 << 20);
    lt_tensor *x = lt_zeros(c, 4, (int64_t[]){2, 6, 5, 5});
    lt_tensor *w = lt_zeros(c, 4, (int64_t[]){4, 3, 3, 3});
    lt_conv_args g2 = {.groups = 2};
    expect_error(lt_conv2d(c, x, w, NULL, (lt_conv_args){0}), LT_ERR_SHAPE,
                 "conv2d", "channel mismatch");
    lt_tensor *w5 = lt_zeros(c, 4, (int64_t[]){5, 3, 3, 3});
    expect_error(lt_conv2d(c, x, w5, NULL, g2), LT_ERR_SHAPE, "conv2d",
                 "groups not dividing output channels");
    lt_tensor *x7 = lt_zeros(c, 4, (int64_t[]){2, 7, 5, 5});
    lt_tensor *w7 = lt_zeros(c, 4, (int64_t[]){4, 7, 3, 3});
    expect_error(lt_conv2d(c, x7, w7, NULL, (lt_conv_args){.groups = 7}),
                 LT_ERR_SHAPE, "conv2d", "groups not dividing output");
    lt_tensor *wk = lt_zeros(c, 4, (int64_t[]){4, 3, 6, 3});
    expect_error(lt_conv2d(c, x, wk, NULL, g2), LT_ERR_SHAPE, "conv2d",
                 "kernel larger than input");
    LT_CHECK(lt_conv2d(c, x, wk, NULL, (lt_conv_args){.groups = 2,
                                                      .pad_h = 1}) != NULL,
             "kernel 6 on padded 7 rejected: %s", lt_last_error());
    expect_error(lt_conv2d(c, x, w, NULL, (lt_conv_args){.groups = 2,
                                                         .dilation_h = 3}),
                 LT_ERR_SHAPE, "conv2d", "dilated kernel larger than input");
    lt_tensor *b = lt_zeros(c, 1, (int64_t[]){3});
    expect_error(lt_conv2d(c, x, w, b, g2), LT_ERR_SHAPE, "conv2d",
                 "bad bias");
    lt_tensor *x3 = lt_zeros(c, 3, (int64_t[]){6, 5, 5});
    expect_error(lt_conv2d(c, x3, w, NULL, g2), LT_ERR_SHAPE, "conv2d",
                 "3-D input");
    expect_error(lt_conv2d(c, x, w, NULL, (lt_conv_args){.groups = 2,
                                                         .pad_h = -1}),
                 LT_ERR_ARG, "conv2d", "negative padding");
    /* conv_transpose2d: weight [C_in, C_out/g, kh, kw] */
    lt_tensor *wt = lt_zeros(c, 4, (int64_t[]){4, 3, 3, 3});
    expect_error(lt_conv_transpose2d(c, x, wt, NULL, (lt_conv_args){0}),
                 LT_ERR_SHAPE, "conv_transpose2d", "channel mismatch");
    lt_tensor *wt9 = lt_zeros(c, 4, (int64_t[]){6, 3, 3, 3});
    expect_error(lt_conv_transpose2d(c, x, wt9, NULL,
                                     (lt_conv_args){.groups = 4}),
                 LT_ERR_SHAPE, "conv_transpose2d", "groups not dividing");
    expect_error(lt_conv_transpose2d(c, x, wt9, NULL,
                                     (lt_conv_args){.out_pad_h = 1}),
                 LT_ERR_ARG, "conv_transpose2d", "output padding >= stride");
    lt_tensor *y = lt_conv_transpose2d(c, x, wt9, NULL,
                                       (lt_conv_args){.stride_h = 2,
                                                      .stride_w = 2,
                                                      .pad_h = 1,
                                                      .out_pad_h = 1});
    LT_CHECK(y && y->shape[1] == 3 && y->shape[2] == 10 && y->shape[3] == 11,
             "conv_transpose2d output shape");
    lt_ctx_free(c);
}

LT_TEST_MAIN()
