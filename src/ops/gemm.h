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

#endif
