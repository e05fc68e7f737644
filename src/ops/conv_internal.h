/*
 * conv_internal.h - what conv.c and conv_shift.c share (internal to the
 * ops layer): the convolution geometry and the strip-based path that
 * computes stride-1 convolutions as shifted GEMMs without im2col.
 */
#ifndef LETHE_OPS_CONV_INTERNAL_H
#define LETHE_OPS_CONV_INTERNAL_H

#include "lethe/ops.h"
#include "ops/gemm.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* The convolution geometry: input A [N, C, H, W], output B [N, O, OH, OW],
 * weight [O, C/g, kh, kw]. */
typedef struct {
    int64_t N, C, H, W;     /* conv input A */
    int64_t O, OH, OW;      /* conv output B */
    int64_t kh, kw, sh, sw, ph, pw, dh, dw, g;
    int64_t Cg, Og, K, P, HW; /* per-group in/out channels, C/g*kh*kw, OH*OW */
    int64_t nb;             /* images per unit (> 1 only when nrb == 1) */
    int64_t rb, nrb;        /* output rows per unit, row bands per image */
    bool direct;            /* 1x1, stride 1, no padding: cols == A */
    lt_precision prec;      /* of the GEMMs: the context's at the forward */
} cgeom;

static inline int tid(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* True when the strip path serves this geometry (forward and weight
 * gradient; adjoint when adjoint is true). */
bool lt_conv_shift_ok(const cgeom *q, bool adjoint);
/* B (=, or += when accumulate) = W (*) A, no bias. */
lt_status lt_conv_shift_forward(lt_ctx *c, const cgeom *q, const float *A,
                                const float *w, float *B, bool accumulate);
/* A += W^T (*) B. */
lt_status lt_conv_shift_adjoint(lt_ctx *c, const cgeom *q, float *A,
                                const float *w, const float *B);
/* gw [O, C, kh*kw] += B . im2col(A)^T. */
lt_status lt_conv_shift_wgrad(lt_ctx *c, const cgeom *q, const float *A,
                              const float *B, float *gw);

#endif
