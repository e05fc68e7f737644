/*
 * vmath.h - small math kernels shared by the op files (internal): an exp
 * that GCC vectorises and fixed-order multi-lane row sums, so results do
 * not depend on reassociation flags or the thread count.
 */
#ifndef LETHE_OPS_VMATH_H
#define LETHE_OPS_VMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* exp(x) written so that GCC vectorises the loops calling it (glibc's expf
 * is a scalar call without -ffast-math): x = n ln2 + r with |r| <= ln2/2,
 * e^r by Cephes' degree-7 minimax form, 2^n built in the exponent bits.
 * Error below 1.5 ulp; 0 below EXP_LO (the true value is subnormal), inf
 * above EXP_HI (3% below FLT_MAX's log); NaN stays NaN. */
#define EXP_LO (-87.33654f)
#define EXP_HI 88.37626f

static inline float vexpf(float x)
{
    float xc = x < EXP_LO ? EXP_LO : (x > EXP_HI ? EXP_HI : x);
    float kf = xc * 1.44269504088896341f + 12582912.0f; /* + 1.5 * 2^23 */
    uint32_t kb;
    memcpy(&kb, &kf, sizeof kb);
    kf -= 12582912.0f; /* n = round(x / ln2) */
    float r = xc - kf * 0.693359375f + kf * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    uint32_t sb = (kb - 0x4B400000u + 127u) << 23; /* bits of 2^n */
    float sc;
    memcpy(&sc, &sb, sizeof sc);
    float y = x < EXP_LO ? 0.0f : p * sc;
    return x > EXP_HI ? INFINITY : y;
}

/* Row reductions keep LANES partial results (fixed order, vectorisable
 * without reassociation flags). */
#define LANES 16

static inline float lanes_total(const float *acc)
{
    float s = 0.0f;
    for (int j = 0; j < LANES; j++)
        s += acc[j];
    return s;
}

#endif
