/*
 * conv_shift.c - stride-1 convolutions as shifted GEMMs on padded strips,
 * without im2col (used by conv.c for the forward pass, the adjoint and the
 * weight gradient when lt_conv_shift_ok() says the geometry suits it).
 *
 * Output (oh, ow) reads input (oh*sh - ph + i*dh, ow*sw - pw + j*dw) for tap
 * (i, j). Split the input into sh*sw phase planes P_ab[r][q] = x[r*sh + a]
 * [q*sw + b] (Hq x Wq, zero past the input): tap (i, j) reads plane (a, b)
 * at (oh + di, ow + dj), with i*dh - ph = di*sh + a, 0 <= a < sh (columns
 * alike). The images of a unit are copied, per channel and phase, into one
 * strip: zh zero rows, then per image Hq rows and zh zero rows (Hs = Hq + zh
 * rows per image); each row is zw zeros then the Wq values (Ws = Wq + zw:
 * the zeros of a row also serve as the right margin of the row before).
 * Output (b, oh, ow) is column (b*Hs + oh)*Ws + ow of a grid with the same
 * strides, and tap (i, j) reads its phase strip at that column plus
 * (zh + di)*Ws + zw + dj: each tap is one GEMM [O, C] x [C, cols] on a
 * shifted view of the strips. Grid columns that are no output (ow >= OW,
 * the rows between images) are computed and dropped (forward), or held at
 * zero (weight gradient, adjoint). The adjoint scatters W^T B into zeroed
 * strips at the same shifts and gathers them back; for stride 1 it is the
 * convolution of B with the flipped, transposed kernel instead.
 */
#include "conv_internal.h"

#include <cblas.h>
#include <string.h>

typedef struct {
    int64_t N, C, H, W, O, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw, T;
    int64_t Hq, Wq, zh, zw, Hs, Ws, nph, nb, L0; /* L0: strip length, nb */
} sgeom;

#ifndef SHIFT_BYTES
#define SHIFT_BYTES (512 << 10)
#endif
#ifndef SHIFT_MIN_C
#define SHIFT_MIN_C 4
#endif
#ifndef SHIFT_MAX_STRIDE
#define SHIFT_MAX_STRIDE 1 /* strided phases measured no faster */
#endif
#ifndef SHIFT_WASTE_M
#define SHIFT_WASTE_M 32.0
#endif

static int64_t fdiv(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* Phase and shift of tap index i: i*d - p = di*s + a. */
static void tap_split(int64_t i, int64_t d, int64_t p, int64_t s,
                      int64_t *di, int64_t *a)
{
    *di = fdiv(i * d - p, s);
    *a = i * d - p - *di * s;
}

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
    int64_t dmax, dmin, a;
    tap_split(s->kh - 1, s->dh, s->ph, s->sh, &dmax, &a);
    tap_split(s->kw - 1, s->dw, s->pw, s->sw, &dmin, &a);
    int64_t end = s_cols(s, nb) + (s->zh + dmax) * s->Ws + s->zw + dmin;
    int64_t rows = (s->zh + nb * s->Hs) * s->Ws;
    return end > rows ? end : rows;
}

/* Fills the derived fields; false when the outputs do not fit the grid. */
static bool sgeom_finish(sgeom *s)
{
    int64_t lo, hi, a;
    s->T = s->kh * s->kw;
    s->nph = s->sh * s->sw;
    s->Hq = (s->H + s->sh - 1) / s->sh;
    s->Wq = (s->W + s->sw - 1) / s->sw;
    tap_split(0, s->dh, s->ph, s->sh, &lo, &a);
    tap_split(s->kh - 1, s->dh, s->ph, s->sh, &hi, &a);
    s->zh = margin(lo, hi, s->OH, s->Hq);
    tap_split(0, s->dw, s->pw, s->sw, &lo, &a);
    tap_split(s->kw - 1, s->dw, s->pw, s->sw, &hi, &a);
    s->zw = margin(lo, hi, s->OW, s->Wq);
    s->Hs = s->Hq + s->zh;
    s->Ws = s->Wq + s->zw;
    if (s->OH > s->Hs || s->OW > s->Ws)
        return false;
    int64_t per = (s->C * s->nph + s->O) * s->Hs * s->Ws *
                  (int64_t)sizeof(float);
    int64_t nb = SHIFT_BYTES / per;
    nb = nb < 1 ? 1 : nb > s->N ? s->N : nb;
    int64_t nch = (s->N + nb - 1) / nb;
    s->nb = (s->N + nch - 1) / nch; /* even units */
    s->L0 = s_len(s, s->nb);
    return true;
}

/* The conv geometry itself (forward, weight gradient, adjoint) ... */
static bool sgeom_fwd(const cgeom *q, sgeom *s)
{
    *s = (sgeom){q->N, q->C, q->H, q->W, q->O, q->OH, q->OW, q->kh, q->kw,
                 q->sh, q->sw, q->ph, q->pw, q->dh, q->dw, 0, 0, 0, 0, 0, 0,
                 0, 0, 0, 0};
    return sgeom_finish(s);
}

/* ... and, for stride 1, its adjoint as a convolution of B. */
static bool sgeom_adj(const cgeom *q, sgeom *s)
{
    *s = (sgeom){q->N, q->O, q->OH, q->OW, q->C, q->H, q->W, q->kh, q->kw,
                 1, 1, (q->kh - 1) * q->dh - q->ph,
                 (q->kw - 1) * q->dw - q->pw, q->dh, q->dw, 0, 0, 0, 0, 0, 0,
                 0, 0, 0, 0};
    return s->ph >= 0 && s->pw >= 0 && sgeom_finish(s);
}

/* Whether the strips beat im2col: groups 1, a kernel with several taps,
 * at least SHIFT_MIN_C channels summed over, stride up to SHIFT_MAX_STRIDE
 * and outputs that fit the grid; and few wasted grid columns, as im2col's
 * copies cost less, relative to the GEMM, the more output rows M the GEMM
 * has (waste * M < SHIFT_WASTE_M). adjoint: A += W^T (*) B. */
bool lt_conv_shift_ok(const cgeom *q, bool adjoint)
{
    sgeom s;
    int64_t cin = adjoint ? q->O : q->C, m = adjoint ? q->C : q->O;
    if (q->g != 1 || q->kh * q->kw < 2 || cin < SHIFT_MIN_C ||
        q->sh > SHIFT_MAX_STRIDE || q->sw > SHIFT_MAX_STRIDE ||
        !sgeom_fwd(q, &s))
        return false;
    if (adjoint && q->sh == 1 && q->sw == 1 && !sgeom_adj(q, &s))
        sgeom_fwd(q, &s);
    double grid = (double)(s.Hs * s.Ws), out = (double)(s.OH * s.OW);
    return (grid / out - 1.0) * (double)m < SHIFT_WASTE_M;
}

/* Offset of tap t in the strips: phase * L + shift. */
static int64_t s_off(const sgeom *s, int64_t t, int64_t L)
{
    int64_t di, a, dj, b;
    tap_split(t / s->kw, s->dh, s->ph, s->sh, &di, &a);
    tap_split(t % s->kw, s->dw, s->pw, s->sw, &dj, &b);
    return (a * s->sw + b) * L + (s->zh + di) * s->Ws + s->zw + dj;
}

/* Value slots of image b, phase (a, pb), plane row r in a strip. */
static int64_t s_row(const sgeom *s, int64_t b, int64_t r)
{
    return (s->zh + b * s->Hs + r) * s->Ws + s->zw;
}

/* x: nb images [C, H, W] -> strips xs [C][nph][L]. */
static void strip_in(const sgeom *s, const float *x, int64_t nb, float *xs,
                     int64_t L)
{
    int64_t W = s->W, zw = s->zw, Wq = s->Wq;
    for (int64_t c = 0; c < s->C; c++)
        for (int64_t a = 0; a < s->sh; a++)
            for (int64_t pb = 0; pb < s->sw; pb++) {
                float *d = xs + (c * s->nph + a * s->sw + pb) * L;
                float *end = d + L;
                memset(d, 0, (size_t)(s->zh * s->Ws) * sizeof(float));
                d += s->zh * s->Ws;
                for (int64_t b = 0; b < nb; b++) {
                    const float *src = x + (b * s->C + c) * s->H * W;
                    for (int64_t r = 0; r < s->Hq; r++, d += s->Ws) {
                        int64_t h = r * s->sh + a;
                        for (int64_t k = 0; k < zw; k++)
                            d[k] = 0;
                        if (h >= s->H) {
                            memset(d + zw, 0, (size_t)Wq * sizeof(float));
                        } else if (s->sw == 1) {
                            memcpy(d + zw, src + h * W,
                                   (size_t)W * sizeof(float));
                        } else {
                            const float *restrict sr = src + h * W + pb;
                            float *restrict dr = d + zw;
                            int64_t nq = (W - pb + s->sw - 1) / s->sw;
                            for (int64_t q = 0; q < nq; q++)
                                dr[q] = sr[q * s->sw];
                            for (int64_t q = nq; q < Wq; q++)
                                dr[q] = 0;
                        }
                    }
                    memset(d, 0, (size_t)(s->zh * s->Ws) * sizeof(float));
                    d += s->zh * s->Ws;
                }
                memset(d, 0, (size_t)(end - d) * sizeof(float));
            }
}

/* The adjoint of strip_in: gx (nb images [C, H, W]) += strips zs. */
static void strip_in_adj(const sgeom *s, const float *zs, int64_t L,
                         int64_t nb, float *gx)
{
    for (int64_t b = 0; b < nb; b++)
        for (int64_t c = 0; c < s->C; c++) {
            float *g = gx + (b * s->C + c) * s->H * s->W;
            for (int64_t h = 0; h < s->H; h++) {
                int64_t a = h % s->sh, r = h / s->sh;
                float *restrict gr = g + h * s->W;
                for (int64_t pb = 0; pb < s->sw; pb++) {
                    const float *restrict z =
                        zs + (c * s->nph + a * s->sw + pb) * L +
                        s_row(s, b, r);
                    for (int64_t w = pb, q = 0; w < s->W; w += s->sw, q++)
                        gr[w] += z[q];
                }
            }
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

/* Per-thread strips: xs [C][nph][L], ys [O, cols] of a full unit. */
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
    k->nx = s->C * s->nph * s->L0;
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
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
                        (int)s->O, (int)nc, (int)s->C, 1.0f,
                        wt + tap * s->O * s->C, (int)s->C,
                        xs + s_off(s, tap, s->L0), (int)(s->nph * s->L0),
                        tap ? 1.0f : 0.0f, ys, (int)nc);
        strip_out(s, ys, nc, y + n0 * s->O * s->OH * s->OW, nb, accumulate);
    }
    return LT_OK;
}

/* gx [N, C, H, W] += adjoint of the conv of geometry s applied to gy
 * [N, O, OH, OW], with wt [T][O][C] (any stride). */
static lt_status shift_adjoint(lt_ctx *c, const sgeom *s, float *gx,
                               const float *wt, const float *gy)
{
    sscratch k;
    if (sscratch_make(c, s, &k) != LT_OK)
        return lt_last_status();
#pragma omp parallel for schedule(static) num_threads(k.nt) if (k.nt > 1)
    for (int64_t u = 0; u < k.nch; u++) {
        int t = tid();
        int64_t nb, n0 = s_unit(s, u, &nb), nc = s_cols(s, nb);
        float *zs = k.xs + t * k.nx, *ys = k.ys + t * k.ny;
        memset(zs, 0, (size_t)k.nx * sizeof(float));
        strip_grid(s, gy + n0 * s->O * s->OH * s->OW, nb, ys, nc);
        for (int64_t tap = 0; tap < s->T; tap++)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)s->C,
                        (int)nc, (int)s->O, 1.0f, wt + tap * s->O * s->C,
                        (int)s->C, ys, (int)nc, 1.0f,
                        zs + s_off(s, tap, s->L0), (int)(s->nph * s->L0));
        strip_in_adj(s, zs, s->L0, nb, gx + n0 * s->C * s->H * s->W);
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
    bool flip = q->sh == 1 && q->sw == 1 && sgeom_adj(q, &s);
    float *wt = shift_weights(c, q, w, flip);
    if (!wt)
        return lt_last_status();
    if (flip)
        return shift_conv(c, &s, B, wt, A, true);
    sgeom_fwd(q, &s);
    return shift_adjoint(c, &s, A, wt, B);
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
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)s.O,
                        (int)s.C, (int)nc, 1.0f, ys, (int)nc,
                        xs + s_off(&s, tap, s.L0), (int)(s.nph * s.L0), 1.0f,
                        part + t * nw + tap * s.O * s.C, (int)s.C);
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
