/*
 * gemm.h - the one matrix product every op of src/ops calls (matmul,
 * linear, bmm, the convolutions, attention). Internal to the ops layer:
 * it picks the arithmetic from the context's precision (core.h) and the
 * backend compiled in (oneDNN or OpenBLAS; gemm.c).
 */
#ifndef LETHE_OPS_GEMM_H
#define LETHE_OPS_GEMM_H

#include "lethe/core.h"

#include <stdbool.h>
#include <stdint.h>

/* C [m, n] = alpha * op(A) op(B) + beta * C, row-major; op(A) is [m, k]
 * (A stored [k, m] when ta), op(B) is [k, n] (B stored [n, k] when tb).
 * LT_PRECISION_BF16 rounds A and B to bfloat16 and accumulates in fp32.
 * Safe to call from inside an OpenMP parallel region (it then runs on the
 * calling thread only). */
void lt_gemm(lt_precision p, bool ta, bool tb, int64_t m, int64_t n,
             int64_t k, float alpha, const float *a, int64_t lda,
             const float *b, int64_t ldb, float beta, float *c, int64_t ldc);

/* Mixed precision with operands packed ahead of time, so that an op that
 * uses one operand in several products (lt_linear: the weight forward and
 * in the data gradient) rounds it once. a16 is A as stored ([m, k], or
 * [k, m] when ta) rounded to bf16 by lt_gemm_pack_bf16 with no row gaps;
 * likewise b16; either may be NULL (then packed here). a and b are always
 * given (the last-resort path without scratch memory rounds them). */
void lt_gemm_bf16(bool ta, bool tb, int64_t m, int64_t n, int64_t k,
                  float alpha, const float *a, int64_t lda, const uint16_t *a16,
                  const float *b, int64_t ldb, const uint16_t *b16, float beta,
                  float *c, int64_t ldc);
/* rows x cols of src (leading dimension ld) as packed bf16 bits. */
void lt_gemm_pack_bf16(const float *src, int64_t rows, int64_t cols,
                       int64_t ld, uint16_t *dst);

#endif
