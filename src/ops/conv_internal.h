/*
 * conv_internal.h - what conv.c and conv_shift.c share (internal to the
 * ops layer): the convolution geometry, the strip-based path that
 * computes stride-1 convolutions as shifted GEMMs without im2col
 * (conv_shift.c) and the oneDNN path (conv_dnnl.c).
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

/* The oneDNN path (conv_dnnl.c). Kinds, with their inputs and output:
 *   FWD       : in0 A, in1 weights [+ bias] -> out B   (B = or +=)
 *   BWD_DATA  : in0 B, in1 weights          -> out A   (A = or +=)
 *   BWD_WEIGHTS: in0 A, in1 B               -> out gw  (gw = or +=)
 * with += when accumulate. False (nothing written, or out to be
 * overwritten) when oneDNN is not built in or cannot serve the geometry. */
typedef enum {
    LT_CONV_FWD,
    LT_CONV_BWD_DATA,
    LT_CONV_BWD_WEIGHTS
} lt_conv_kind;
/* Whether conv.c should try the oneDNN path for kernel kind of q (the
 * measured choice, conv_dnnl.c); LETHE_CONV_BACKEND=im2col|onednn in the
 * environment forces either. */
bool lt_conv_dnnl_wanted(const cgeom *q, lt_conv_kind kind);
bool lt_conv_dnnl(lt_conv_kind kind, const cgeom *q, const float *in0,
                  const float *in1, const float *bias, float *out,
                  bool accumulate);
/* Between lt_conv_dnnl_share(true) and (false) the calling thread's
 * lt_conv_dnnl calls reorder an input they share (same pointer, same
 * layouts) once; its data must not change in between. */
void lt_conv_dnnl_share(bool on);

#endif
