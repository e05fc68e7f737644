/*
 * threads.c - one thread count for OpenMP loops and OpenBLAS (the OpenMP
 * build of OpenBLAS shares OpenMP's pool, so both follow omp_set_num_threads).
 */
#include "lethe/core.h"

#ifdef _OPENMP
#include <omp.h>
#endif

void openblas_set_num_threads(int n);

void lt_set_num_threads(int n)
{
    if (n < 1)
        n = 1;
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
    openblas_set_num_threads(n);
}

int lt_num_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}
