/*
 * test_precision.c - bf16 mixed precision (core.h, src/ops/gemm.c): the
 * rounding itself, the precision names and context settings, and that in
 * LT_PRECISION_BF16 the matrix products (matmul, linear and its gradients,
 * bmm with transposes, conv2d and its weight gradient, attention) compute
 * the product of the bf16-rounded operands with fp32 accumulation. The
 * references are double-precision sums over rounded operands; each case
 * also checks that the fp32 path does NOT match them, so a bf16 mode that
 * silently ran fp32 fails. CMake runs this file twice: on the backend built
 * in and with LETHE_BF16_BACKEND=emulate (the OpenBLAS fallback path).
 */
#include "lt_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static float bits_to_float(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static void fill(float *x, int64_t n, uint32_t seed)
{
    uint32_t s = seed * 2654435761u + 12345u;
    for (int64_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = (float)((double)(s >> 8) / (double)(1u << 24) * 2.0 - 1.0);
    }
}

static float *rounded(const float *x, int64_t n)
{
    float *r = malloc((size_t)n * sizeof *r);
    for (int64_t i = 0; i < n; i++)
        r[i] = lt_bf16_round(x[i]);
    return r;
}

/* Largest |got - want| / scale over n values. */
static double max_err(const float *got, const double *want,
                      const double *scale, int64_t n)
{
    double m = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - want[i]) / scale[i];
        if (!(e <= m))
            m = isnan(e) ? INFINITY : e;
    }
    return m;
}

/* bf16 result within fp32 accumulation error of the rounded reference
 * (relative to sum |a||b|), fp32 result clearly away from it. */
static void check_pair(const char *what, const float *bf, const float *fp,
                       const double *want, const double *scale, int64_t n)
{
    double eb = max_err(bf, want, scale, n), ef = max_err(fp, want, scale, n);
    LT_CHECK(eb < 2e-6, "%s: bf16 result off the rounded-operand product by "
             "%.3g (relative)", what, eb);
    LT_CHECK(ef > 1e-4, "%s: the fp32 result matches the rounded-operand "
             "product (%.3g): the test cannot tell the modes apart", what,
             ef);
}

LT_TEST(bf16_rounding_is_round_to_nearest_even)
{
    LT_CHECK(lt_bf16_round(1.0f) == 1.0f, "1");
    /* 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to even -> 1. */
    LT_CHECK(lt_bf16_round(1.0f + 0x1p-8f) == 1.0f, "tie down");
    /* 1 + 3 * 2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6 -> 1 + 2^-6. */
    LT_CHECK(lt_bf16_round(1.0f + 0x3p-8f) == 1.0f + 0x1p-6f, "tie up");
    LT_CHECK(lt_bf16_round(1.0f + 0x1p-8f + 0x1p-20f) == 1.0f + 0x1p-7f,
             "above half rounds up");
    LT_CHECK(lt_bf16_round(-3.14159265f) == -3.140625f, "-pi");
    LT_CHECK(isinf(lt_bf16_round(INFINITY)), "inf");
    LT_CHECK(isnan(lt_bf16_round(NAN)), "NaN");
    /* A NaN whose payload sits in the low 16 bits only stays a NaN. */
    LT_CHECK(isnan(lt_bf16_round(bits_to_float(0x7f800001u))), "low NaN");
    LT_CHECK(isinf(lt_bf16_round(3.4028235e38f)), "FLT_MAX rounds to inf");
    /* Denormal inputs become signed zeros, as vcvtneps2bf16 makes them. */
    LT_CHECK(lt_bf16_round(1e-40f) == 0.0f, "denormal");
    LT_CHECK(signbit(lt_bf16_round(-1e-40f)), "negative denormal");
    LT_CHECK(lt_bf16_round(1.2e-38f) > 0.0f, "smallest normals stay");
}

/* A [64, 64] of awkward values (ties, denormals, large) times the identity:
 * the bf16 product must be lt_bf16_round(A) exactly, on whichever path
 * converts the operands (the AVX512-BF16 instruction or the portable
 * rounding). */
LT_TEST(gemm_rounds_operands_as_lt_bf16_round)
{
    enum { N = 64 };
    static float a[N * N], id[N * N];
    const float special[] = {1.0f + 0x1p-8f, 1.0f + 0x3p-8f, -1e-40f, 1e-39f,
                             3.0e38f, -2.5e-38f, 0.1f, -7.3e5f};
    fill(a, N * N, 11);
    for (int i = 0; i < N * N; i++) {
        if (i % 5 == 0)
            a[i] = special[(i / 5) % 8];
        id[i] = (i / N == i % N) ? 1.0f : 0.0f;
    }
    lt_ctx *c = lt_ctx_new(1 << 20);
    lt_set_precision(c, LT_PRECISION_BF16);
    lt_tensor *y = lt_matmul(c, lt_from_data(c, 2, (int64_t[]){N, N}, a),
                             lt_from_data(c, 2, (int64_t[]){N, N}, id));
    LT_CHECK(y != NULL, "matmul: %s", lt_last_error());
    int bad = 0;
    for (int i = 0; y && i < N * N; i++)
        bad += y->data[i] != lt_bf16_round(a[i]);
    LT_CHECK(bad == 0, "%d of %d products differ from lt_bf16_round", bad,
             N * N);
    lt_ctx_free(c);
}

LT_TEST(precision_names_and_context)
{
    lt_precision p = LT_PRECISION_FP32;
    LT_CHECK(lt_precision_parse("bf16", &p) == LT_OK, "parse");
    LT_CHECK(p == LT_PRECISION_BF16, "parse bf16");
    LT_CHECK(strcmp(lt_precision_name(p), "bf16") == 0, "name bf16");
    LT_CHECK(lt_precision_parse("fp32", &p) == LT_OK, "parse");
    LT_CHECK(p == LT_PRECISION_FP32, "parse fp32");
    LT_CHECK(lt_precision_parse("fp16", &p) == LT_ERR_ARG, "fp16 refused");
    LT_CHECK(strstr(lt_last_error(), "fp16") != NULL, "message names it: %s",
             lt_last_error());
    LT_CHECK(strcmp(lt_backend_name(), "onednn") == 0 ||
                 strcmp(lt_backend_name(), "openblas") == 0,
             "backend %s", lt_backend_name());

    lt_ctx *a = lt_ctx_new(1 << 16);
    LT_CHECK(lt_ctx_precision(a) == LT_PRECISION_FP32, "default fp32");
    lt_set_default_precision(LT_PRECISION_BF16);
    lt_ctx *b = lt_ctx_new(1 << 16);
    lt_set_default_precision(LT_PRECISION_FP32);
    LT_CHECK(lt_ctx_precision(b) == LT_PRECISION_BF16, "new ctx follows "
             "the default");
    LT_CHECK(lt_ctx_precision(a) == LT_PRECISION_FP32, "old ctx keeps its");
    LT_CHECK(lt_set_precision(b, LT_PRECISION_FP32) == LT_PRECISION_BF16,
             "set returns the previous");
    LT_CHECK(lt_ctx_precision(b) == LT_PRECISION_FP32, "set");
    lt_ctx_free(a);
    lt_ctx_free(b);
}

/* y = x W^T (lt_linear, no bias) in both modes, loss sum(y): forward and
 * both gradients against the rounded references. Sizes below and above
 * the work at which the oneDNN primitive takes over. */
static void linear_case(int64_t rows, int64_t in, int64_t out)
{
    float *x = malloc((size_t)(rows * in) * sizeof(float));
    float *w = malloc((size_t)(out * in) * sizeof(float));
    fill(x, rows * in, 1);
    fill(w, out * in, 2);
    float *xr = rounded(x, rows * in), *wr = rounded(w, out * in);
    float *res[2][3]; /* [mode][y, gx, gw] */
    for (int mode = 0; mode < 2; mode++) {
        lt_ctx *c = lt_ctx_new(64 << 20);
        lt_set_precision(c, mode ? LT_PRECISION_BF16 : LT_PRECISION_FP32);
        lt_tensor *tx = lt_requires_grad(
            lt_from_data(c, 2, (int64_t[]){rows, in}, x));
        lt_tensor *tw = lt_requires_grad(
            lt_from_data(c, 2, (int64_t[]){out, in}, w));
        lt_tensor *y = lt_linear(c, tx, tw, NULL);
        LT_CHECK(lt_backward(c, lt_sum_all(c, y)) == LT_OK, "backward: %s",
                 lt_last_error());
        const float *src[3] = {y->data, tx->grad, tw->grad};
        int64_t len[3] = {rows * out, rows * in, out * in};
        for (int t = 0; t < 3; t++) {
            res[mode][t] = malloc((size_t)len[t] * sizeof(float));
            memcpy(res[mode][t], src[t], (size_t)len[t] * sizeof(float));
        }
        lt_ctx_free(c);
    }
    /* y[r,o] = sum_i xr[r,i] wr[o,i]; gx[r,i] = sum_o wr[o,i] (dy = 1);
     * gw[o,i] = sum_r xr[r,i]. */
    double *want = calloc((size_t)(rows * out), sizeof(double));
    double *scale = calloc((size_t)(rows * out), sizeof(double));
    for (int64_t r = 0; r < rows; r++)
        for (int64_t o = 0; o < out; o++) {
            for (int64_t i = 0; i < in; i++) {
                double p = (double)xr[r * in + i] * wr[o * in + i];
                want[r * out + o] += p;
                scale[r * out + o] += fabs(p);
            }
        }
    char what[64];
    snprintf(what, sizeof what, "linear %lldx%lldx%lld forward",
             (long long)rows, (long long)in, (long long)out);
    check_pair(what, res[1][0], res[0][0], want, scale, rows * out);
    free(want);
    free(scale);
    want = calloc((size_t)(out * in), sizeof(double));
    scale = calloc((size_t)(out * in), sizeof(double));
    for (int64_t o = 0; o < out; o++)
        for (int64_t i = 0; i < in; i++)
            for (int64_t r = 0; r < rows; r++) {
                want[o * in + i] += xr[r * in + i];
                scale[o * in + i] += fabs(xr[r * in + i]);
            }
    snprintf(what, sizeof what, "linear %lldx%lldx%lld weight grad",
             (long long)rows, (long long)in, (long long)out);
    check_pair(what, res[1][2], res[0][2], want, scale, out * in);
    free(want);
    free(scale);
    want = calloc((size_t)(rows * in), sizeof(double));
    scale = calloc((size_t)(rows * in), sizeof(double));
    for (int64_t r = 0; r < rows; r++)
        for (int64_t i = 0; i < in; i++)
            for (int64_t o = 0; o < out; o++) {
                want[r * in + i] += wr[o * in + i];
                scale[r * in + i] += fabs(wr[o * in + i]);
            }
    snprintf(what, sizeof what, "linear %lldx%lldx%lld input grad",
             (long long)rows, (long long)in, (long long)out);
    check_pair(what, res[1][1], res[0][1], want, scale, rows * in);
    free(want);
    free(scale);
    for (int mode = 0; mode < 2; mode++)
        for (int t = 0; t < 3; t++)
            free(res[mode][t]);
    free(x);
    free(w);
    free(xr);
    free(wr);
}

LT_TEST(linear_bf16_is_the_product_of_rounded_operands)
{
    linear_case(3, 7, 5);      /* below the primitive threshold */
    linear_case(96, 130, 70);  /* oneDNN matmul where built in */
}

/* lt_bmm with every transpose combination: [2, m, k] x [2, k, n]. */
LT_TEST(bmm_bf16_transposes)
{
    const int64_t nb = 2, m = 40, k = 72, n = 36;
    float *a = malloc((size_t)(nb * m * k) * sizeof(float));
    float *b = malloc((size_t)(nb * k * n) * sizeof(float));
    fill(a, nb * m * k, 3);
    fill(b, nb * k * n, 4);
    float *ar = rounded(a, nb * m * k), *br = rounded(b, nb * k * n);
    double *want = malloc((size_t)(nb * m * n) * sizeof(double));
    double *scale = malloc((size_t)(nb * m * n) * sizeof(double));
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            /* the same logical product, stored transposed as asked */
            int64_t sa[3] = {nb, ta ? k : m, ta ? m : k};
            int64_t sb[3] = {nb, tb ? n : k, tb ? k : n};
            for (int64_t i = 0; i < nb * m * n; i++)
                want[i] = scale[i] = 0.0;
            for (int64_t z = 0; z < nb; z++)
                for (int64_t i = 0; i < m; i++)
                    for (int64_t j = 0; j < n; j++)
                        for (int64_t t = 0; t < k; t++) {
                            double p =
                                (double)ar[z * m * k +
                                           (ta ? t * m + i : i * k + t)] *
                                br[z * k * n + (tb ? j * k + t : t * n + j)];
                            want[(z * m + i) * n + j] += p;
                            scale[(z * m + i) * n + j] += fabs(p);
                        }
            float *out[2];
            for (int mode = 0; mode < 2; mode++) {
                lt_ctx *c = lt_ctx_new(16 << 20);
                lt_set_precision(c, mode ? LT_PRECISION_BF16
                                         : LT_PRECISION_FP32);
                lt_tensor *y = lt_bmm(c, lt_from_data(c, 3, sa, a),
                                      lt_from_data(c, 3, sb, b), ta, tb);
                LT_CHECK(y != NULL, "bmm: %s", lt_last_error());
                out[mode] = malloc((size_t)(nb * m * n) * sizeof(float));
                memcpy(out[mode], y->data,
                       (size_t)(nb * m * n) * sizeof(float));
                lt_ctx_free(c);
            }
            char what[48];
            snprintf(what, sizeof what, "bmm ta=%d tb=%d", ta, tb);
            check_pair(what, out[1], out[0], want, scale, nb * m * n);
            free(out[0]);
            free(out[1]);
        }
    free(a);
    free(b);
    free(ar);
    free(br);
    free(want);
    free(scale);
}

/* conv2d 3x3, padding 1, and its weight gradient under loss sum(y). */
LT_TEST(conv2d_bf16_forward_and_weight_grad)
{
    const int64_t N = 2, C = 8, H = 10, W = 10, O = 16, KH = 3;
    int64_t nx = N * C * H * W, nw = O * C * KH * KH, ny = N * O * H * W;
    float *x = malloc((size_t)nx * sizeof(float));
    float *w = malloc((size_t)nw * sizeof(float));
    fill(x, nx, 5);
    fill(w, nw, 6);
    float *xr = rounded(x, nx), *wr = rounded(w, nw);
    lt_conv_args args = {.pad_h = 1, .pad_w = 1};
    float *y[2], *gw[2];
    for (int mode = 0; mode < 2; mode++) {
        lt_ctx *c = lt_ctx_new(64 << 20);
        lt_set_precision(c, mode ? LT_PRECISION_BF16 : LT_PRECISION_FP32);
        lt_tensor *tx = lt_from_data(c, 4, (int64_t[]){N, C, H, W}, x);
        lt_tensor *tw = lt_requires_grad(
            lt_from_data(c, 4, (int64_t[]){O, C, KH, KH}, w));
        lt_tensor *ty = lt_conv2d(c, tx, tw, NULL, args);
        LT_CHECK(ty != NULL, "conv2d: %s", lt_last_error());
        LT_CHECK(lt_backward(c, lt_sum_all(c, ty)) == LT_OK, "backward: %s",
                 lt_last_error());
        y[mode] = malloc((size_t)ny * sizeof(float));
        gw[mode] = malloc((size_t)nw * sizeof(float));
        memcpy(y[mode], ty->data, (size_t)ny * sizeof(float));
        memcpy(gw[mode], tw->grad, (size_t)nw * sizeof(float));
        lt_ctx_free(c);
    }
    double *want = calloc((size_t)ny, sizeof(double));
    double *scale = calloc((size_t)ny, sizeof(double));
    double *gwant = calloc((size_t)nw, sizeof(double));
    double *gscale = calloc((size_t)nw, sizeof(double));
    for (int64_t n = 0; n < N; n++)
        for (int64_t o = 0; o < O; o++)
            for (int64_t i = 0; i < H; i++)
                for (int64_t j = 0; j < W; j++)
                    for (int64_t ch = 0; ch < C; ch++)
                        for (int64_t u = 0; u < KH; u++)
                            for (int64_t v = 0; v < KH; v++) {
                                int64_t hi = i + u - 1, wj = j + v - 1;
                                if (hi < 0 || hi >= H || wj < 0 || wj >= W)
                                    continue;
                                double xv = xr[((n * C + ch) * H + hi) * W +
                                               wj];
                                int64_t wi = ((o * C + ch) * KH + u) * KH + v;
                                int64_t yi = ((n * O + o) * H + i) * W + j;
                                want[yi] += xv * wr[wi];
                                scale[yi] += fabs(xv * wr[wi]);
                                gwant[wi] += xv; /* dy = 1 */
                                gscale[wi] += fabs(xv);
                            }
    check_pair("conv2d forward", y[1], y[0], want, scale, ny);
    check_pair("conv2d weight grad", gw[1], gw[0], gwant, gscale, nw);
    for (int mode = 0; mode < 2; mode++) {
        free(y[mode]);
        free(gw[mode]);
    }
    free(want);
    free(scale);
    free(gwant);
    free(gscale);
    free(x);
    free(w);
    free(xr);
    free(wr);
}

/* Attention rounds q, k, v and the probabilities: within bf16 rounding of
 * the fp32 result on rounded inputs, finite, and not equal to fp32. */
LT_TEST(attention_bf16_close_to_fp32)
{
    const int64_t B = 1, H = 2, T = 48, D = 32, n = B * H * T * D;
    float *q = malloc((size_t)n * sizeof(float));
    float *k = malloc((size_t)n * sizeof(float));
    float *v = malloc((size_t)n * sizeof(float));
    fill(q, n, 7);
    fill(k, n, 8);
    fill(v, n, 9);
    int64_t shape[4] = {B, H, T, D};
    float *out[2];
    for (int mode = 0; mode < 2; mode++) {
        lt_ctx *c = lt_ctx_new(16 << 20);
        lt_set_precision(c, mode ? LT_PRECISION_BF16 : LT_PRECISION_FP32);
        lt_tensor *y = lt_attention(c, lt_from_data(c, 4, shape, q),
                                    lt_from_data(c, 4, shape, k),
                                    lt_from_data(c, 4, shape, v), true, 0);
        LT_CHECK(y != NULL, "attention: %s", lt_last_error());
        out[mode] = malloc((size_t)n * sizeof(float));
        memcpy(out[mode], y->data, (size_t)n * sizeof(float));
        lt_ctx_free(c);
    }
    double worst = 0.0;
    bool differ = false;
    for (int64_t i = 0; i < n; i++) {
        double e = fabs((double)out[1][i] - out[0][i]);
        worst = e > worst || isnan(e) ? e : worst;
        differ = differ || out[1][i] != out[0][i];
    }
    /* |v| <= 1 and the weights sum to 1: bf16 errors of a few 2^-8. */
    LT_CHECK(worst < 3e-2, "bf16 attention off fp32 by %.3g", worst);
    LT_CHECK(differ, "bf16 attention equals fp32 bit for bit");
    free(out[0]);
    free(out[1]);
    free(q);
    free(k);
    free(v);
}

/* Frozen weights: a parameter's bf16 copy is rounded once and kept; the
 * products equal those of rounding at every call, a change made while
 * frozen is not seen (the promise), and unfreezing drops the copy. */
LT_TEST(frozen_weights_keep_the_rounded_weight)
{
    enum { R = 32, I = 48, O = 40 };
    static float x[R * I], w[O * I], y1[R * O], y2[R * O];
    fill(x, R * I, 21);
    fill(w, O * I, 22);
    lt_tensor wt;
    LT_CHECK(lt_tensor_wrap(&wt, w, NULL, 2, (int64_t[]){O, I}) == LT_OK,
             "wrap");
    lt_ctx *c = lt_ctx_new(8 << 20);
    lt_set_precision(c, LT_PRECISION_BF16);
    lt_set_grad_enabled(c, false);
    bool fresh = true;
    LT_CHECK(lt_ctx_keep(c, w, 16, &fresh) == NULL && !fresh,
             "nothing kept while not frozen");
    lt_tensor *xt = lt_from_data(c, 2, (int64_t[]){R, I}, x);
    lt_tensor *y = lt_linear(c, xt, &wt, NULL);
    memcpy(y1, y->data, sizeof y1);
    LT_CHECK(!lt_set_frozen_weights(c, true), "was off");
    for (int step = 0; step < 2; step++) { /* first rounds, second reuses */
        lt_ctx_reset(c);
        xt = lt_from_data(c, 2, (int64_t[]){R, I}, x);
        y = lt_linear(c, xt, &wt, NULL);
        LT_CHECK(memcmp(y->data, y1, sizeof y1) == 0, "frozen step %d "
                 "differs from rounding at every call", step);
    }
    float w0 = w[0];
    w[0] += 0.5f; /* breaks the promise: the kept copy is used */
    lt_ctx_reset(c);
    y = lt_linear(c, lt_from_data(c, 2, (int64_t[]){R, I}, x), &wt, NULL);
    LT_CHECK(memcmp(y->data, y1, sizeof y1) == 0, "kept copy not used");
    LT_CHECK(lt_set_frozen_weights(c, false), "was on");
    lt_ctx_reset(c);
    y = lt_linear(c, lt_from_data(c, 2, (int64_t[]){R, I}, x), &wt, NULL);
    memcpy(y2, y->data, sizeof y2);
    LT_CHECK(memcmp(y2, y1, sizeof y1) != 0, "unfrozen: the change is seen");
    w[0] = w0;
    lt_ctx_free(c);
}

LT_TEST_MAIN()
