/*
 * clock.c - the library's one clock: seconds on CLOCK_MONOTONIC, for the
 * run times that reports record and the rates progress callbacks show.
 */
#include "lethe/core.h"

#include <time.h>

double lt_clock_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
