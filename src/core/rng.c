/*
 * rng.c - a counter-based random number generator. Value i of a stream is a
 * strong 64-bit mix of (seed, stream, i), so any thread can produce any
 * element and results never depend on how work is split across threads.
 */
#include "lethe/core.h"

#include <math.h>

static uint64_t lt_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t lt_hash3(uint64_t seed, uint64_t stream, uint64_t i)
{
    uint64_t h = lt_mix64(seed + 0x9e3779b97f4a7c15ULL);
    h = lt_mix64(h ^ (stream * 0xd1b54a32d192ed03ULL));
    return lt_mix64(h + i * 0x9e3779b97f4a7c15ULL);
}

float lt_u64_to_uniform(uint64_t x)
{
    return (float)(x >> 40) * (1.0f / 16777216.0f); /* 24 bits -> [0,1) */
}

void lt_rng_init(lt_rng *r, uint64_t seed)
{
    r->seed = seed;
    r->counter = 0;
}

uint64_t lt_rng_u64(lt_rng *r) { return lt_hash3(r->seed, 0, r->counter++); }

float lt_rng_uniform(lt_rng *r) { return lt_u64_to_uniform(lt_rng_u64(r)); }

static float lt_normal_from(uint64_t x)
{
    /* Box-Muller on the two 32-bit halves of one draw. */
    double u1 = ((double)(x >> 32) + 1.0) / 4294967297.0;
    double u2 = (double)(x & 0xffffffffu) / 4294967296.0;
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

float lt_rng_normal(lt_rng *r) { return lt_normal_from(lt_rng_u64(r)); }

uint64_t lt_rng_below(lt_rng *r, uint64_t n)
{
    if (n <= 1)
        return 0;
    uint64_t lim = UINT64_MAX - UINT64_MAX % n; /* reject the biased tail */
    uint64_t x;
    do
        x = lt_rng_u64(r);
    while (x >= lim);
    return x % n;
}

void lt_rng_fill_uniform(lt_rng *r, float *x, int64_t n, float lo, float hi)
{
    uint64_t base = r->counter;
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * lt_u64_to_uniform(lt_hash3(r->seed, 0,
                                                            base + (uint64_t)i));
    r->counter += (uint64_t)n;
}

void lt_rng_fill_normal(lt_rng *r, float *x, int64_t n, float mean, float std)
{
    uint64_t base = r->counter;
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; i++)
        x[i] = mean + std * lt_normal_from(lt_hash3(r->seed, 0,
                                                    base + (uint64_t)i));
    r->counter += (uint64_t)n;
}
