/*
 * test_fault.c - malloc-fault injection (SQLite's habit, issue #20): this
 * binary is linked with -Wl,--wrap=malloc,calloc,realloc,free,strdup, so
 * every allocation liblethe makes (and cJSON's, through its hooks) passes
 * through a counter that can be told to fail the N-th one. Each loader is
 * swept over N = 1, 2, ... until a run makes no more allocations than N:
 * every injected failure must give a clean error (a status other than
 * LT_OK and a message), never a crash, and leave no block allocated
 * (counted here; under `make asan` LeakSanitizer checks it as well).
 */
#include "lt_test.h"

#include "lethe/io.h"
#include "lethe/llama.h"
#include "lethe/safetensors.h"
#include "lethe/tofu.h"
#include "lethe/tokenizer.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the counting allocator ------------------------------------------------ */

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);

static long fault_at;   /* fail the allocation of this number; 0: never */
static long fault_seen; /* allocations since arming */
static long fault_live; /* blocks allocated minus blocks freed since arming */
static bool fault_armed, fault_hit;

static bool fault_fail_now(void)
{
    if (!fault_armed)
        return false;
    if (++fault_seen == fault_at) {
        fault_hit = true;
        return true;
    }
    return false;
}

void *__wrap_malloc(size_t n)
{
    if (fault_fail_now())
        return NULL;
    void *p = __real_malloc(n);
    fault_live += fault_armed && p;
    return p;
}

void *__wrap_calloc(size_t k, size_t n)
{
    if (fault_fail_now())
        return NULL;
    void *p = __real_calloc(k, n);
    fault_live += fault_armed && p;
    return p;
}

void *__wrap_realloc(void *q, size_t n)
{
    if (fault_fail_now())
        return NULL;
    void *p = __real_realloc(q, n);
    fault_live += fault_armed && p && !q;
    return p;
}

void __wrap_free(void *p)
{
    fault_live -= fault_armed && p;
    __real_free(p);
}

char *__wrap_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = __wrap_malloc(n);
    return d ? memcpy(d, s, n) : NULL;
}

/* ---- the sweep ---------------------------------------------------------------- */

/* One run of a loader: load, then free what it loaded. */
typedef lt_status (*fault_run)(const char *path);

/* Run fn(path) failing allocation N for N = 1, 2, ...; returns the number
 * of allocations a clean run makes (0 if the sweep itself failed). */
static long fault_sweep(const char *what, fault_run fn, const char *path)
{
    for (long n = 1; n < 1000000; n++) {
        fault_at = n;
        fault_seen = fault_live = 0;
        fault_hit = false;
        lt_clear_error();
        fault_armed = true;
        lt_status st = fn(path);
        fault_armed = false;
        if (fault_live != 0) {
            lt_test_fail(__FILE__, __LINE__, "%s: failing allocation %ld "
                         "leaves %ld block(s) allocated (%s)", what, n,
                         fault_live, lt_last_error());
            return 0;
        }
        if (!fault_hit) {
            LT_CHECK(st == LT_OK, "%s: a clean run fails: %s", what,
                     lt_last_error());
            printf("  %s: each of its %ld allocations failed in turn: a "
                   "clean error and nothing leaked each time\n", what, n - 1);
            return n - 1;
        }
        if (st == LT_OK || !*lt_last_error()) {
            lt_test_fail(__FILE__, __LINE__, "%s: failing allocation %ld "
                         "gives %s with message '%s'", what, n,
                         lt_status_name(st), lt_last_error());
            return 0;
        }
    }
    return 0;
}

static lt_status run_st(const char *path)
{
    lt_st_file *f = NULL;
    lt_status st = lt_st_load(path, &f);
    lt_st_free(f);
    return st;
}

static lt_status run_idx(const char *path)
{
    lt_idx x = {0};
    lt_status st = lt_idx_load(path, &x);
    if (st == LT_OK)
        lt_idx_free(&x);
    return st;
}

static lt_status run_llama(const char *path)
{
    lt_llama *m = NULL;
    lt_status st = lt_llama_load(path, &m);
    lt_llama_free(m);
    return st;
}

static lt_status run_tofu(const char *path)
{
    lt_tofu_set s = {0};
    lt_status st = lt_tofu_load(path, &s);
    if (st == LT_OK)
        lt_tofu_free(&s);
    return st;
}

static lt_status run_tokenizer(const char *path)
{
    lt_tokenizer *t = NULL;
    lt_status st = lt_tokenizer_load(path, &t);
    lt_tokenizer_free(t);
    return st;
}

static void fault_hooks(void)
{
    cJSON_Hooks h = {__wrap_malloc, __wrap_free};
    cJSON_InitHooks(&h);
}

/* An IDX file of 3 images of 2x2 pixels (raw). */
static void write_idx(const char *path)
{
    static const uint8_t b[] = {0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2,
                                1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    FILE *f = fopen(path, "wb");
    LT_CHECK(f && fwrite(b, 1, sizeof b, f) == sizeof b, "write %s", path);
    if (f)
        fclose(f);
}

LT_TEST(fault_sweep_safetensors_and_idx)
{
    fault_hooks();
    long n = fault_sweep("safetensors (mixed dtypes)", run_st,
                         LT_GOLDEN_DIR "/st_mixed.safetensors");
    LT_CHECK(n > 3, "safetensors: only %ld allocations swept", n);
    char p[256];
    snprintf(p, sizeof p, "%s/f.idx", lt_test_tmpdir());
    write_idx(p);
    n = fault_sweep("IDX", run_idx, p);
    LT_CHECK(n >= 1, "IDX: only %ld allocations swept", n);
    unlink(p);
}

LT_TEST(fault_sweep_llama_tofu_tokenizer)
{
    fault_hooks();
    long n = fault_sweep("llama folder", run_llama, LT_GOLDEN_DIR "/llama_tiny");
    LT_CHECK(n > 10, "llama: only %ld allocations swept", n);
    n = fault_sweep("llama shards", run_llama,
                    LT_GOLDEN_DIR "/llama_tiny_sharded");
    LT_CHECK(n > 10, "llama shards: only %ld allocations swept", n);
    n = fault_sweep("TOFU JSON Lines", run_tofu,
                    LT_SOURCE_DIR "/tests/data/tofu/sample.jsonl");
    LT_CHECK(n > 3, "tofu: only %ld allocations swept", n);
    n = fault_sweep("tokenizer.json", run_tokenizer,
                    LT_GOLDEN_DIR "/tokenizer/hf_str.json");
    LT_CHECK(n > 10, "tokenizer: only %ld allocations swept", n);
}

/* The counter itself works: a failed allocation is seen by the caller. */
LT_TEST(fault_injection_fails_the_nth_allocation)
{
    void *(*volatile alloc)(size_t) = malloc; /* not optimised away */
    void (*volatile release)(void *) = free;
    fault_at = 2;
    fault_seen = fault_live = 0;
    fault_armed = true;
    void *a = alloc(8), *b = alloc(8), *c = alloc(8);
    release(a);
    release(c);
    fault_armed = false;
    LT_CHECK(a && !b && c && fault_seen == 3 && fault_live == 0,
             "counter: seen %ld, live %ld", fault_seen, fault_live);
}

LT_TEST_MAIN()
