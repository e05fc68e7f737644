/*
 * gemm.c - the matrix-product backend of the ops layer (gemm.h).
 *
 * fp32 products go to OpenBLAS's cblas_sgemm. bf16 products (mixed
 * precision, core.h) round both operands to bfloat16 into per-thread
 * buffers and then
 *   - with oneDNN (LETHE_HAVE_DNNL, the default build): run a oneDNN matmul
 *     primitive with bf16 inputs and an fp32 result (AMX or AVX512-BF16
 *     where the CPU has them, oneDNN's own dispatch elsewhere); primitives
 *     are cached by shape, transposes, alpha and beta;
 *   - without oneDNN, or for products too small to pay for a primitive:
 *     multiply the rounded values with cblas_sgemm, which is the same
 *     arithmetic (bf16 operands are exact in fp32; fp32 accumulation).
 * LETHE_BF16_BACKEND=emulate in the environment forces the second path
 * (tests run both; docs/performance.md).
 */
#include "ops/gemm.h"

#include "lethe/ops.h"

#include <cblas.h>
#include <stdlib.h>
#ifdef __AVX512BF16__
#include <immintrin.h>
#endif
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#ifdef LETHE_HAVE_DNNL
#include "ops/dnnl_rt.h"

#include <pthread.h>
#endif

/* Products with fewer multiply-adds than this take the emulated path. */
#define GEMM_DNNL_MIN_WORK ((int64_t)1 << 15)

/* ---- bfloat16 rounding ---------------------------------------------------- */

/* Round to nearest even, as the AVX512-BF16 instruction (vcvtneps2bf16)
 * does, including its treatment of denormal inputs as zero, so that the
 * emulated and the native paths round alike. */
static inline uint16_t bf16_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) /* NaN stays a (quiet) NaN */
        return (uint16_t)((u >> 16) | 0x40u);
    if ((u & 0x7f800000u) == 0) /* zero or denormal: signed zero */
        return (uint16_t)((u >> 16) & 0x8000u);
    u += 0x7fffu + ((u >> 16) & 1u); /* round to nearest, ties to even */
    return (uint16_t)(u >> 16);
}

float lt_bf16_round(float x)
{
    uint32_t u = (uint32_t)bf16_bits(x) << 16;
    float r;
    memcpy(&r, &u, sizeof r);
    return r;
}

/* n floats to bf16 bits: the AVX512-BF16 instruction where the build
 * targets it (-march=native on such a CPU), else the portable rounding. */
static void row_to_bf16(const float *s, int64_t n, uint16_t *d)
{
    int64_t j = 0;
#ifdef __AVX512BF16__
    for (; j + 16 <= n; j += 16) {
        __m256bh h = _mm512_cvtneps_pbh(_mm512_loadu_ps(s + j));
        _mm256_storeu_si256((__m256i *)(void *)(d + j), (__m256i)h);
    }
#endif
    for (; j < n; j++)
        d[j] = bf16_bits(s[j]);
}

static bool in_parallel(void)
{
#ifdef _OPENMP
    return omp_in_parallel();
#else
    return false;
#endif
}

/* Per-thread scratch for the two packed operands (oneDNN's scratchpad is
 * dnnl_rt.c's). */
static _Thread_local void *tl_buf[2];
static _Thread_local size_t tl_cap[2];

static void *scratch(int which, size_t bytes)
{
    if (bytes > tl_cap[which]) {
        free(tl_buf[which]);
        tl_buf[which] = malloc(bytes);
        tl_cap[which] = tl_buf[which] ? bytes : 0;
    }
    return tl_buf[which];
}

/* Copy a rows x cols matrix (leading dimension ld) to a packed one of
 * bfloat16 bits (bits != NULL) or of bf16-rounded floats. */
static void pack_round(const float *src, int64_t rows, int64_t cols,
                       int64_t ld, uint16_t *bits, float *vals)
{
    int64_t total = rows * cols;
    bool par = total > ((int64_t)1 << 16) && !in_parallel();
    (void)par;
#pragma omp parallel for if (par) schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        const float *s = src + r * ld;
        if (bits) {
            row_to_bf16(s, cols, bits + r * cols);
        } else {
            float *d = vals + r * cols;
            for (int64_t j = 0; j < cols; j++)
                d[j] = lt_bf16_round(s[j]);
        }
    }
}

static void sgemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k,
                  float alpha, const float *a, int64_t lda, const float *b,
                  int64_t ldb, float beta, float *c, int64_t ldc)
{
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
                tb ? CblasTrans : CblasNoTrans, (blasint)m, (blasint)n,
                (blasint)k, alpha, a, (blasint)lda, b, (blasint)ldb, beta, c,
                (blasint)ldc);
}

/* A packed operand as fp32 values: from its bf16 bits when the caller
 * packed it (exact), else rounded from src. */
static void unpack_or_round(const float *src, int64_t rows, int64_t cols,
                            int64_t ld, const uint16_t *bits, float *dst)
{
    if (!bits) {
        pack_round(src, rows, cols, ld, NULL, dst);
        return;
    }
    for (int64_t i = 0; i < rows * cols; i++) {
        uint32_t u = (uint32_t)bits[i] << 16;
        memcpy(&dst[i], &u, sizeof u);
    }
}

/* bf16 operands, fp32 accumulation, through sgemm on rounded copies. */
static bool gemm_bf16_emulated(bool ta, bool tb, int64_t m, int64_t n,
                               int64_t k, float alpha, const float *a,
                               int64_t lda, const uint16_t *a16,
                               const float *b, int64_t ldb,
                               const uint16_t *b16, float beta, float *c,
                               int64_t ldc)
{
    int64_t ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k,
            bc = tb ? k : n;
    float *pa = scratch(0, (size_t)(ar * ac) * sizeof(float));
    float *pb = scratch(1, (size_t)(br * bc) * sizeof(float));
    if (!pa || !pb)
        return false;
    unpack_or_round(a, ar, ac, lda, a16, pa);
    unpack_or_round(b, br, bc, ldb, b16, pb);
    sgemm(ta, tb, m, n, k, alpha, pa, ac, pb, bc, beta, c, ldc);
    return true;
}

#ifdef LETHE_HAVE_DNNL
/* ---- oneDNN matmul primitives, cached by shape ------------------------- */

typedef struct {
    bool ta, tb;
    int64_t m, n, k, ldc;
    float alpha, beta;
} gemm_key;

typedef struct {
    gemm_key key;
    dnnl_primitive_t prim;
    dnnl_memory_desc_t md[4]; /* A, B, C, scratchpad */
} gemm_entry;

#define GEMM_CACHE_MAX 512

static struct {
    pthread_mutex_t lock;
    gemm_entry e[GEMM_CACHE_MAX];
    int n;
} cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

static bool key_eq(const gemm_key *x, const gemm_key *y)
{
    return x->ta == y->ta && x->tb == y->tb && x->m == y->m &&
           x->n == y->n && x->k == y->k && x->ldc == y->ldc &&
           x->alpha == y->alpha && x->beta == y->beta;
}

/* Memory descriptors of packed op(A) [m,k], op(B) [k,n] and C [m,n]. */
static bool make_mds(const gemm_key *q, dnnl_memory_desc_t md[3])
{
    dnnl_dims_t da = {q->m, q->k}, db = {q->k, q->n}, dc = {q->m, q->n};
    dnnl_dims_t sa = {q->ta ? 1 : q->k, q->ta ? q->m : 1};
    dnnl_dims_t sb = {q->tb ? 1 : q->n, q->tb ? q->k : 1};
    dnnl_dims_t sc = {q->ldc, 1};
    return dnnl_memory_desc_init_by_strides(&md[0], 2, da, dnnl_bf16, sa) ==
               dnnl_success &&
           dnnl_memory_desc_init_by_strides(&md[1], 2, db, dnnl_bf16, sb) ==
               dnnl_success &&
           dnnl_memory_desc_init_by_strides(&md[2], 2, dc, dnnl_f32, sc) ==
               dnnl_success;
}

static bool make_primitive(const gemm_key *q, gemm_entry *e)
{
    if (!make_mds(q, e->md))
        return false;
    dnnl_matmul_desc_t mm;
    if (dnnl_matmul_desc_init(&mm, &e->md[0], &e->md[1], NULL, &e->md[2]) !=
        dnnl_success)
        return false;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    bool ok = dnnl_primitive_attr_create(&attr) == dnnl_success &&
              dnnl_primitive_attr_set_scratchpad_mode(
                  attr, dnnl_scratchpad_mode_user) == dnnl_success;
    if (ok && q->alpha != 1.0f)
        ok = dnnl_primitive_attr_set_output_scales(attr, 1, 0, &q->alpha) ==
             dnnl_success;
    if (ok && q->beta != 0.0f) {
        ok = dnnl_post_ops_create(&po) == dnnl_success &&
             dnnl_post_ops_append_sum(po, q->beta) == dnnl_success &&
             dnnl_primitive_attr_set_post_ops(attr, po) == dnnl_success;
    }
    dnnl_primitive_desc_t pd = NULL;
    ok = ok && dnnl_primitive_desc_create(&pd, &mm, attr, lt_dnnl_engine(),
                                          NULL) == dnnl_success;
    const dnnl_memory_desc_t *smd =
        ok ? dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0)
           : NULL;
    ok = ok && smd;
    if (ok)
        e->md[3] = *smd;
    ok = ok && dnnl_primitive_create(&e->prim, pd) == dnnl_success;
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    if (po)
        dnnl_post_ops_destroy(po);
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    e->key = *q;
    return ok;
}

/* The cached entry for q (created on first use); *temp is set when the
 * cache is full and the entry must be destroyed by the caller. */
static gemm_entry *lookup(const gemm_key *q, gemm_entry *tmp, bool *temp)
{
    gemm_entry *hit = NULL;
    *temp = false;
    pthread_mutex_lock(&cache.lock);
    bool engine = lt_dnnl_engine() != NULL;
    for (int i = 0; engine && !hit && i < cache.n; i++)
        if (key_eq(&cache.e[i].key, q))
            hit = &cache.e[i];
    if (engine && !hit) {
        bool room = cache.n < GEMM_CACHE_MAX;
        gemm_entry *e = room ? &cache.e[cache.n] : tmp;
        memset(e, 0, sizeof *e);
        if (make_primitive(q, e)) {
            hit = e;
            cache.n += room;
            *temp = !room;
        } else if (e->prim) {
            dnnl_primitive_destroy(e->prim);
        }
    }
    pthread_mutex_unlock(&cache.lock);
    return hit;
}

static bool run_primitive(gemm_entry *e, void *pa, void *pb, float *c)
{
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, lt_dnnl_memory(&e->md[0], pa)},
                               {DNNL_ARG_WEIGHTS,
                                lt_dnnl_memory(&e->md[1], pb)},
                               {DNNL_ARG_DST, lt_dnnl_memory(&e->md[2], c)}};
    bool ok = args[0].memory && args[1].memory && args[2].memory &&
              lt_dnnl_execute(e->prim, &e->md[3], 3, args);
    for (int i = 0; i < 3; i++)
        if (args[i].memory)
            dnnl_memory_destroy(args[i].memory);
    return ok;
}

/* Whether LETHE_BF16_BACKEND=emulate asks for the fallback path (read
 * once; a race between threads reads the same value twice). */
static bool force_emulation(void)
{
    static int cached = -1;
    if (cached < 0) {
        const char *e = getenv("LETHE_BF16_BACKEND");
        cached = e && strcmp(e, "emulate") == 0;
    }
    return cached == 1;
}

static bool gemm_bf16_dnnl(bool ta, bool tb, int64_t m, int64_t n,
                           int64_t k, float alpha, const float *a,
                           int64_t lda, const uint16_t *a16, const float *b,
                           int64_t ldb, const uint16_t *b16, float beta,
                           float *c, int64_t ldc)
{
    gemm_key q = {ta, tb, m, n, k, ldc, alpha, beta};
    gemm_entry tmp, *e;
    bool temp;
    if (!(e = lookup(&q, &tmp, &temp)))
        return false;
    int64_t ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k,
            bc = tb ? k : n;
    uint16_t *pa = a16 ? NULL
                       : scratch(0, (size_t)(ar * ac) * sizeof(uint16_t));
    uint16_t *pb = b16 ? NULL
                       : scratch(1, (size_t)(br * bc) * sizeof(uint16_t));
    bool ok = (a16 || pa) && (b16 || pb);
    if (ok) {
        if (pa)
            pack_round(a, ar, ac, lda, pa, NULL);
        if (pb)
            pack_round(b, br, bc, ldb, pb, NULL);
        ok = run_primitive(e, a16 ? (void *)(uintptr_t)a16 : pa,
                           b16 ? (void *)(uintptr_t)b16 : pb, c);
    }
    if (temp)
        dnnl_primitive_destroy(e->prim);
    return ok;
}
#endif /* LETHE_HAVE_DNNL */

const char *lt_backend_name(void)
{
#ifdef LETHE_HAVE_DNNL
    return "onednn";
#else
    return "openblas";
#endif
}

void lt_gemm_pack_bf16(const float *src, int64_t rows, int64_t cols,
                       int64_t ld, uint16_t *dst)
{
    pack_round(src, rows, cols, ld, dst, NULL);
}

void lt_gemm_bf16(bool ta, bool tb, int64_t m, int64_t n, int64_t k,
                  float alpha, const float *a, int64_t lda, const uint16_t *a16,
                  const float *b, int64_t ldb, const uint16_t *b16, float beta,
                  float *c, int64_t ldc)
{
    if (m <= 0 || n <= 0)
        return;
    if (k <= 0) {
        sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
#ifdef LETHE_HAVE_DNNL
    if (m * n * k >= GEMM_DNNL_MIN_WORK && !force_emulation() &&
        gemm_bf16_dnnl(ta, tb, m, n, k, alpha, a, lda, a16, b, ldb, b16, beta,
                       c, ldc))
        return;
#endif
    if (gemm_bf16_emulated(ta, tb, m, n, k, alpha, a, lda, a16, b, ldb, b16,
                           beta, c, ldc))
        return;
    /* No memory for the rounded copies: the product in fp32 would be a
     * silent change of arithmetic; element by element keeps bf16. */
    for (int64_t i = 0; i < m; i++) {
        for (int64_t j = 0; j < n; j++) {
            float s = 0.0f;
            for (int64_t t = 0; t < k; t++) {
                float x = ta ? a[t * lda + i] : a[i * lda + t];
                float y = tb ? b[j * ldb + t] : b[t * ldb + j];
                s += lt_bf16_round(x) * lt_bf16_round(y);
            }
            float *cij = c + i * ldc + j;
            *cij = alpha * s + (beta != 0.0f ? beta * *cij : 0.0f);
        }
    }
}

void lt_gemm(lt_precision p, bool ta, bool tb, int64_t m, int64_t n,
             int64_t k, float alpha, const float *a, int64_t lda,
             const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
    if (p == LT_PRECISION_BF16)
        lt_gemm_bf16(ta, tb, m, n, k, alpha, a, lda, NULL, b, ldb, NULL, beta,
                     c, ldc);
    else if (m > 0 && n > 0)
        sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
