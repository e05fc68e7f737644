/*
 * dnnl_rt.h - what the oneDNN users of the ops layer share (gemm.c,
 * conv_dnnl.c; internal, built only with LETHE_HAVE_DNNL): the one CPU
 * engine, a stream per thread, and execution with a per-thread
 * user-managed scratchpad, so that threads inside an OpenMP region never
 * share oneDNN state.
 */
#ifndef LETHE_OPS_DNNL_RT_H
#define LETHE_OPS_DNNL_RT_H

#include <oneapi/dnnl/dnnl.h>

#include <stdbool.h>

/* The process's CPU engine, made on first use; NULL if oneDNN cannot make
 * one (callers then take their fallback path). */
dnnl_engine_t lt_dnnl_engine(void);
/* A memory object over ptr (NULL on failure); the caller destroys it. */
dnnl_memory_t lt_dnnl_memory(const dnnl_memory_desc_t *md, const void *ptr);
/* Run p with args[0..n) and a scratchpad of descriptor scr (args must have
 * room for n + 1 entries), on this thread's stream, and wait for it. The
 * memory objects of args stay the caller's. */
bool lt_dnnl_execute(dnnl_primitive_t p, const dnnl_memory_desc_t *scr,
                     int n, dnnl_exec_arg_t *args);

#endif
