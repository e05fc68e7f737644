/*
 * conv_shift.c - stride-1 convolutions as shifted GEMMs on padded strips,
 * without im2col (used by conv.c for the forward pass, the adjoint and the
 * weight gradient when lt_conv_shift_ok() says the geometry suits it).
 *
 * Output (oh, ow) reads input (oh + di, ow + dj) for tap (i, j), with
 * di = i*dh - ph and dj = j*dw - pw. The images of a unit are copied, per
 * channel, into one strip: zh zero rows, then per image H rows and zh zero
 * rows (Hs = H + zh rows per image); each row is zw zeros then the W values
 * (Ws = W + zw: the zeros of a row also serve as the right margin of the
 * row before). Output (b, oh, ow) is column (b*Hs + oh)*Ws + ow of a grid
 * with the same strides, and tap (i, j) reads its strip at that column plus
 * (zh + di)*Ws + zw + dj: each tap is one GEMM [O, C] x [C, cols] on a
 * shifted view of the strips. Grid columns that are no output (ow >= OW,
 * the rows between images) are computed and dropped (forward), or held at
 * zero (weight gradient). The adjoint is the convolution of B with the
 * flipped, transposed kernel, padded (kh-1)*dh - ph and (kw-1)*dw - pw
 * (never negative when the forward geometry fits the grid). Strided
 * convolutions take conv.c's im2col path.
 */
#include "conv_internal.h"

#include <string.h>

typedef struct {
    int64_t N, C, H, W, O, OH, OW, kh, kw, ph, pw, dh, dw, T;
    int64_t zh, zw, Hs, Ws, nb, L0; /* L0: strip length, nb */
    lt_precision prec;
} sgeom;

#ifndef SHIFT_BYTES
#define SHIFT_BYTES (512 << 10)
#endif
#ifndef SHIFT_MIN_C
#define SHIFT_MIN_C 4
#endif
#ifndef SHIFT_WASTE_M
#define SHIFT_WASTE_M 32.0
#endif

/* Zero margin for shifts [lo, hi] of n outputs over m values. */
static int64_t margin(int64_t lo, int64_t hi, int64_t n, int64_t m)
{
    int64_t z = -lo > 0 ? -lo : 0;
    return n + hi - m > z ? n + hi - m : z;
}

static int64_t s_cols(const sgeom *s, int64_t nb)
{
    return ((nb - 1) * s->Hs + s->OH) * s->Ws;
}

static int64_t s_len(const sgeom *s, int64_t nb)
{
    int64_t di = (s->kh - 1) * s->dh - s->ph;
    int64_t dj = (s->kw - 1) * s->dw - s->pw;
    int64_t end = s_cols(s, nb) + (s->zh + di) * s->Ws + s->zw + dj;
    int64_t rows = (s->zh + nb * s->Hs) * s->Ws;
    return end > rows ? end : rows;
}

/* Fills the derived fields; false when the outputs do not fit the grid. */
static bool sgeom_finish(sgeom *s)
{
    s->T = s->kh * s->kw;
    s->zh = margin(-s->ph, (s->kh - 1) * s->dh - s->ph, s->OH, s->H);
    s->zw = margin(-s->pw, (s->kw - 1) * s->dw - s->pw, s->OW, s->W);
    s->Hs = s->H + s->zh;
    s->Ws = s->W + s->zw;
    if (s->OH > s->Hs || s->OW > s->Ws)
        return false;
    int64_t per = (s->C + s->O) * s->Hs * s->Ws * (int64_t)sizeof(float);
    int64_t nb = SHIFT_BYTES / per;
    nb = nb < 1 ? 1 : nb > s->N ? s->N : nb;
    int64_t nch = (s->N + nb - 1) / nb;
    s->nb = (s->N + nch - 1) / nch; /* even units */
    s->L0 = s_len(s, s->nb);
    return true;
}

/* The stride-1 conv geometry itself (forward, weight gradient) ... */
static bool sgeom_fwd(const cgeom *q, sgeom *s)
{
    *s = (sgeom){q->N, q->C, q->H, q->W, q->O, q->OH, q->OW, q->kh, q->kw,
                 q->ph, q->pw, q->dh, q->dw, 0, 0, 0, 0, 0, 0, 0, q->prec};
    return sgeom_finish(s);
}

/* ... and its adjoint as a convolution of B. */
static bool sgeom_adj(const cgeom *q, sgeom *s)
{
    *s = (sgeom){q->N, q->O, q->OH, q->OW, q->C, q->H, q->W, q->kh, q->kw,
                 (q->kh - 1) * q->dh - q->ph, (q->kw - 1) * q->dw - q->pw,
                 q->dh, q->dw, 0, 0, 0, 0, 0, 0, 0, q->prec};
    return s->ph >= 0 && s->pw >= 0 && sgeom_finish(s);
}

/* Whether the strips beat im2col: groups 1, a kernel with several taps,
 * at least SHIFT_MIN_C channels summed over, stride 1 (strided phase
 * planes measured no faster than im2col) and outputs that fit the grid;
 * and few wasted grid columns, as im2col's copies cost less, relative to
 * the GEMM, the more output rows M the GEMM has (waste * M <
 * SHIFT_WASTE_M). adjoint: A += W^T (*) B. */
bool lt_conv_shift_ok(const cgeom *q, bool adjoint)
{
    sgeom s;
    int64_t cin = adjoint ? q->O : q->C, m = adjoint ? q->C : q->O;
    if (q->g != 1 || q->kh * q->kw < 2 || cin < SHIFT_MIN_C ||
        q->sh != 1 || q->sw != 1 || !sgeom_fwd(q, &s))
        return false;
    if (adjoint && !sgeom_adj(q, &s))
        return false;
    double grid = (double)(s.Hs * s.Ws), out = (double)(s.OH * s.OW);
    return (grid / out - 1.0) * (double)m < SHIFT_WASTE_M;
}

/* Offset of tap t in a strip: its shift. */
static int64_t s_off(const sgeom *s, int64_t t)
{
    int64_t di = t / s->kw * s->dh - s->ph, dj = t % s->kw * s->dw - s->pw;
    return (s->zh + di) * s->Ws + s->zw + dj;
}

/* x: nb images [C, H, W] -> strips xs [C][L]. */
static void strip_in(const sgeom *s, const float *x, int64_t nb, float *xs,
                     int64_t L)
{
    int64_t W = s->W, zw = s->zw;
    for (int64_t c = 0; c < s->C; c++) {
        float *d = xs + c * L;
        float *end = d + L;
        memset(d, 0, (size_t)(s->zh * s->Ws) * sizeof(float));
        d += s->zh * s->Ws;
        for (int64_t b = 0; b < nb; b++) {
            const float *src = x + (b * s->C + c) * s->H * W;
            for (int64_t h = 0; h < s->H; h++, d += s->Ws) {
                for (int64_t k = 0; k < zw; k++)
                    d[k] = 0;
                memcpy(d + zw, src + h * W, (size_t)W * sizeof(float));
            }
            memset(d, 0, (size_t)(s->zh * s->Ws) * sizeof(float));
            d += s->zh * s->Ws;
        }
        memset(d, 0, (size_t)(end - d) * sizeof(float));
    }
}

/* Grid ys [O, cols] -> (or +=) nb images [O, OH, OW] at y. */
static void strip_out(const sgeom *s, const float *ys, int64_t ld, float *y,
                      int64_t nb, bool accumulate)
{
    int64_t OW = s->OW;
    for (int64_t b = 0; b < nb; b++)
        for (int64_t o = 0; o < s->O; o++) {
            float *restrict d = y + (b * s->O + o) * s->OH * OW;
            const float *src = ys + o * ld + b * s->Hs * s->Ws;
            for (int64_t oh = 0; oh < s->OH; oh++, d += OW) {
                const float *restrict r = src + oh * s->Ws;
                if (accumulate)
                    for (int64_t ow = 0; ow < OW; ow++)
                        d[ow] += r[ow];
                else
                    memcpy(d, r, (size_t)OW * sizeof(float));
            }
        }
}

/* nb images [O, OH, OW] at y -> grid ys [O, cols], zero off the outputs. */
static void strip_grid(const sgeom *s, const float *y, int64_t nb, float *ys,
                       int64_t ld)
{
    int64_t OW = s->OW, Ws = s->Ws;
    for (int64_t o = 0; o < s->O; o++) {
        float *d = ys + o * ld;
        for (int64_t b = 0; b < nb; b++) {
            const float *src = y + (b * s->O + o) * s->OH * OW;
            int64_t rows = b + 1 < nb ? s->Hs : s->OH;
            for (int64_t oh = 0; oh < rows; oh++, d += Ws) {
                if (oh < s->OH) {
                    memcpy(d, src + oh * OW, (size_t)OW * sizeof(float));
                    for (int64_t k = OW; k < Ws; k++)
                        d[k] = 0;
                } else {
                    memset(d, 0, (size_t)Ws * sizeof(float));
                }
            }
        }
    }
}

/* Per-thread strips: xs [C][L], ys [O, cols] of a full unit. */
typedef struct {
    int nt;
    int64_t nx, ny, nch;
    float *xs, *ys;
} sscratch;

static lt_status sscratch_make(lt_ctx *c, const sgeom *s, sscratch *k)
{
    int nt = lt_num_threads();
    k->nch = (s->N + s->nb - 1) / s->nb;
    k->nt = k->nch < nt ? (int)k->nch : nt;
    if (k->nt < 1)
        k->nt = 1;
    k->nx = s->C * s->L0;
    k->ny = s->O * s_cols(s, s->nb);
    k->xs = lt_alloc(c, (size_t)(k->nx * k->nt) * sizeof(float));
    k->ys = lt_alloc(c, (size_t)(k->ny * k->nt) * sizeof(float));
    return k->xs && k->ys ? LT_OK : lt_last_status();
}

/* Images [n0, n0 + nb) of unit u. */
static int64_t s_unit(const sgeom *s, int64_t u, int64_t *nb)
{
    int64_t n0 = u * s->nb;
    *nb = s->N - n0 < s->nb ? s->N - n0 : s->nb;
    return n0;
}

/* y [N, O, OH, OW] (=, or +=) conv of x [N, C, H, W] with wt [T][O][C]. */
static lt_status shift_conv(lt_ctx *c, const sgeom *s, const float *x,
                            const float *wt, float *y, bool accumulate)
{
    sscratch k;
    if (sscratch_make(c, s, &k) != LT_OK)
        return lt_last_status();
#pragma omp parallel for schedule(static) num_threads(k.nt) if (k.nt > 1)
    for (int64_t u = 0; u < k.nch; u++) {
        int t = tid();
        int64_t nb, n0 = s_unit(s, u, &nb), nc = s_cols(s, nb);
        float *xs = k.xs + t * k.nx, *ys = k.ys + t * k.ny;
        strip_in(s, x + n0 * s->C * s->H * s->W, nb, xs, s->L0);
        for (int64_t tap = 0; tap < s->T; tap++)
            lt_gemm(s->prec, false, false, s->O, nc, s->C, 1.0f,
                    wt + tap * s->O * s->C, s->C, xs + s_off(s, tap), s->L0,
                    tap ? 1.0f : 0.0f, ys, nc);
        strip_out(s, ys, nc, y + n0 * s->O * s->OH * s->OW, nb, accumulate);
    }
    return LT_OK;
}

/* wt[t][o][c] = w[o][c][t] (forward) or w[c][o][T-1-t] (flipped). */
static float *shift_weights(lt_ctx *c, const cgeom *q, const float *w,
                            bool flip)
{
    int64_t T = q->kh * q->kw;
    float *wt = lt_alloc(c, (size_t)(q->O * q->C * T) * sizeof(float));
    if (!wt)
        return NULL;
    for (int64_t o = 0; o < q->O; o++)
        for (int64_t ch = 0; ch < q->C; ch++)
            for (int64_t t = 0; t < T; t++) {
                float v = w[(o * q->C + ch) * T + t];
                if (flip)
                    wt[((T - 1 - t) * q->C + ch) * q->O + o] = v;
                else
                    wt[(t * q->O + o) * q->C + ch] = v;
            }
    return wt;
}

/* A += W^T (*) B by strips (shift_ok(q, true) holds). */
lt_status lt_conv_shift_adjoint(lt_ctx *c, const cgeom *q, float *A,
                                    const float *w, const float *B)
{
    sgeom s;
    sgeom_adj(q, &s);
    float *wt = shift_weights(c, q, w, true);
    if (!wt)
        return lt_last_status();
    return shift_conv(c, &s, B, wt, A, true);
}

/* gw [O, C, T] += B . shifted strips of A^T; per-thread partials [T][O][C]
 * are added in thread order. */
lt_status lt_conv_shift_wgrad(lt_ctx *c, const cgeom *q, const float *A,
                             const float *B, float *gw)
{
    sgeom s;
    sgeom_fwd(q, &s);
    sscratch k;
    if (sscratch_make(c, &s, &k) != LT_OK)
        return lt_last_status();
    int64_t nw = s.O * s.C * s.T;
    float *part = lt_alloc_zero(c, (size_t)(nw * k.nt) * sizeof(float));
    if (!part)
        return lt_last_status();
#pragma omp parallel for schedule(static) num_threads(k.nt) if (k.nt > 1)
    for (int64_t u = 0; u < k.nch; u++) {
        int t = tid();
        int64_t nb, n0 = s_unit(&s, u, &nb), nc = s_cols(&s, nb);
        float *xs = k.xs + t * k.nx, *ys = k.ys + t * k.ny;
        strip_in(&s, A + n0 * s.C * s.H * s.W, nb, xs, s.L0);
        strip_grid(&s, B + n0 * s.O * s.OH * s.OW, nb, ys, nc);
        for (int64_t tap = 0; tap < s.T; tap++)
            lt_gemm(s.prec, false, true, s.O, s.C, nc, 1.0f, ys, nc,
                    xs + s_off(&s, tap), s.L0, 1.0f,
                    part + t * nw + tap * s.O * s.C, s.C);
    }
    for (int64_t o = 0; o < s.O; o++)
        for (int64_t ch = 0; ch < s.C; ch++)
            for (int64_t tap = 0; tap < s.T; tap++) {
                float v = 0;
                for (int t = 0; t < k.nt; t++)
                    v += part[t * nw + (tap * s.O + o) * s.C + ch];
                gw[(o * s.C + ch) * s.T + tap] += v;
            }
    return LT_OK;
}

lt_status lt_conv_shift_forward(lt_ctx *c, const cgeom *q, const float *A,
                                const float *w, float *B, bool accumulate)
{
    sgeom sg;
    sgeom_fwd(q, &sg);
    float *wt = shift_weights(c, q, w, false);
    if (!wt)
        return lt_last_status();
    return shift_conv(c, &sg, A, wt, B, accumulate);
}
