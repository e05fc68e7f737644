/*
 * dnnl_rt.c - the oneDNN runtime shared by the ops layer (dnnl_rt.h): one
 * engine for the process (made once, under pthread_once), one stream and
 * one scratchpad buffer per thread (they live as long as the thread).
 * Empty in the OpenBLAS-only build.
 */
#ifdef LETHE_HAVE_DNNL
#include "ops/dnnl_rt.h"

#include <pthread.h>
#include <stdlib.h>

static pthread_once_t engine_once = PTHREAD_ONCE_INIT;
static dnnl_engine_t engine;

static void engine_make(void)
{
    if (dnnl_engine_create(&engine, dnnl_cpu, 0) != dnnl_success)
        engine = NULL;
}

dnnl_engine_t lt_dnnl_engine(void)
{
    pthread_once(&engine_once, engine_make);
    return engine;
}

dnnl_memory_t lt_dnnl_memory(const dnnl_memory_desc_t *md, const void *ptr)
{
    dnnl_memory_t m = NULL;
    dnnl_engine_t e = lt_dnnl_engine();
    if (!e || dnnl_memory_create(&m, md, e, (void *)ptr) != dnnl_success)
        return NULL;
    return m;
}

static _Thread_local dnnl_stream_t tl_stream;
static _Thread_local void *tl_scratch;
static _Thread_local size_t tl_scratch_cap;

static dnnl_stream_t stream(void)
{
    dnnl_engine_t e = lt_dnnl_engine();
    if (!tl_stream && e &&
        dnnl_stream_create(&tl_stream, e, dnnl_stream_default_flags) !=
            dnnl_success)
        tl_stream = NULL;
    return tl_stream;
}

static void *scratchpad(size_t bytes)
{
    if (bytes > tl_scratch_cap) {
        free(tl_scratch);
        tl_scratch = malloc(bytes);
        tl_scratch_cap = tl_scratch ? bytes : 0;
    }
    return tl_scratch;
}

bool lt_dnnl_execute(dnnl_primitive_t p, const dnnl_memory_desc_t *scr,
                     int n, dnnl_exec_arg_t *args)
{
    dnnl_stream_t s = stream();
    size_t bytes = dnnl_memory_desc_get_size(scr);
    void *sp = bytes ? scratchpad(bytes) : NULL;
    if (!s || (bytes && !sp))
        return false;
    dnnl_memory_t sm = lt_dnnl_memory(scr, sp);
    bool ok = sm != NULL;
    if (ok) {
        args[n] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, sm};
        ok = dnnl_primitive_execute(p, s, n + 1, args) == dnnl_success &&
             dnnl_stream_wait(s) == dnnl_success;
        dnnl_memory_destroy(sm);
    }
    return ok;
}
#else
typedef int lt_dnnl_rt_unused; /* the OpenBLAS-only build has no oneDNN */
#endif
