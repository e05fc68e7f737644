/*
 * test_shared.c - the helpers that several layers share through the public
 * API: the global top-k mask (lt_mask_top_k, against a sort on random data
 * with many ties, signed and by magnitude, and its NaN error), the shape
 * formatter, the monotonic clock, "mkdir -p" (lt_mkdirs, including its
 * errors), text writes with a final newline, and the SwiGLU op (values and
 * gradient check).
 */
#include "lt_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHECK_STATUS(e) \
    LT_CHECK((e) == LT_OK, "%s: %s", #e, lt_last_error())

/* The top-k mask the slow way: the k-th largest by a sort, ties to the
 * lower index. */
static void ref_top_k(const float *x, int64_t n, int64_t k, bool by_abs,
                      float *mask)
{
    float *v = malloc((size_t)n * sizeof *v);
    for (int64_t i = 0; i < n; i++)
        v[i] = by_abs ? fabsf(x[i]) : x[i];
    for (int64_t i = 0; i < n; i++) /* selection of the k largest flags */
        mask[i] = 0;
    for (int64_t j = 0; j < k; j++) {
        int64_t best = -1;
        for (int64_t i = 0; i < n; i++)
            if (mask[i] == 0 && (best < 0 || v[i] > v[best]))
                best = i;
        mask[best] = 1;
    }
    free(v);
}

LT_TEST(top_k_matches_a_sort)
{
    enum { N = 300 };
    float x[N], got[N], want[N];
    lt_rng r;
    lt_rng_init(&r, 7);
    for (int i = 0; i < N; i++) /* few distinct values: many ties, +-0 */
        x[i] = (float)((int)lt_rng_below(&r, 11) - 5) * 0.25f;
    x[3] = -0.0f;
    x[10] = INFINITY;
    x[11] = -INFINITY;
    int64_t ks[] = {0, 1, 2, 37, 150, 299, 300};
    for (int a = 0; a < 2; a++)
        for (size_t j = 0; j < sizeof ks / sizeof ks[0]; j++) {
            CHECK_STATUS(lt_mask_top_k(x, N, ks[j], a, got));
            ref_top_k(x, N, ks[j], a, want);
            LT_CHECK(!memcmp(got, want, sizeof got), "by_abs %d, k %lld", a,
                     (long long)ks[j]);
        }
}

LT_TEST(top_k_errors)
{
    float x[4] = {1, NAN, 2, 3}, m[4] = {9, 9, 9, 9};
    LT_CHECK(lt_mask_top_k(x, 4, 2, false, m) == LT_ERR_NAN, "NaN");
    LT_CHECK(strstr(lt_last_error(), "entry 1"), "%s", lt_last_error());
    LT_CHECK(m[0] == 9, "mask untouched on error");
    LT_CHECK(lt_mask_top_k(x, 4, 5, false, m) == LT_ERR_ARG, "k > n");
    LT_CHECK(lt_mask_top_k(NULL, 4, 1, false, m) == LT_ERR_ARG, "NULL");
    float s[3] = {NAN, 1, 2};
    LT_CHECK(lt_llm_mask_select(s, 3, 0.5, m, NULL) == LT_ERR_NAN,
             "llm select on a NaN score");
}

LT_TEST(shape_format)
{
    char b[32];
    int64_t sh[3] = {2, 3, 4};
    LT_CHECK(!strcmp(lt_shape_fmt(3, sh, b, sizeof b), "[2, 3, 4]"), "%s", b);
    LT_CHECK(!strcmp(lt_shape_fmt(0, sh, b, sizeof b), "[]"), "%s", b);
    LT_CHECK(!strcmp(lt_shape_fmt(3, sh, b, 5), "[2, "), "cut: %s", b);
    lt_tensor t;
    float d[24];
    CHECK_STATUS(lt_tensor_wrap(&t, d, NULL, 3, sh));
    LT_CHECK(!strcmp(lt_shape_str(&t, b, sizeof b), "[2, 3, 4]"), "%s", b);
}

LT_TEST(clock_is_monotonic)
{
    double a = lt_clock_seconds(), b = lt_clock_seconds();
    LT_CHECK(a > 0 && b >= a, "%f then %f", a, b);
}

LT_TEST(mkdirs_and_text_writes)
{
    char base[64], deep[128], file[160];
    snprintf(base, sizeof base, "/tmp/lethe_mkdirs_%ld", (long)getpid());
    snprintf(deep, sizeof deep, "%s/a/b//c/", base);
    CHECK_STATUS(lt_mkdirs(deep));
    CHECK_STATUS(lt_mkdirs(deep)); /* exists: fine */
    struct stat st;
    LT_CHECK(stat(deep, &st) == 0 && S_ISDIR(st.st_mode), "made %s", deep);
    snprintf(file, sizeof file, "%s/a/b/c/x.txt", base);
    CHECK_STATUS(lt_write_text_atomic(file, "hello"));
    char *text = NULL;
    size_t len = 0;
    CHECK_STATUS(lt_read_file(file, &text, &len));
    LT_CHECK(len == 6 && !strcmp(text, "hello\n"), "read back '%s'", text);
    free(text);
    char below[200];
    snprintf(below, sizeof below, "%s/d", file); /* a file in the way */
    LT_CHECK(lt_mkdirs(below) == LT_ERR_IO, "file in the path");
    LT_CHECK(strstr(lt_last_error(), "x.txt"), "%s", lt_last_error());
    LT_CHECK(lt_mkdirs("") == LT_ERR_ARG && lt_mkdirs(NULL) == LT_ERR_ARG,
             "empty path");
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    LT_CHECK(system(cmd) == 0, "cleanup");
}

static lt_tensor *gc_swiglu(lt_ctx *c, lt_tensor **in, void *ud)
{
    (void)ud;
    return lt_swiglu(c, in[0]);
}

LT_TEST(swiglu_values_and_gradient)
{
    lt_ctx *c = lt_ctx_new(1 << 20);
    float xs[4] = {1, -2, 3, 0.5f}; /* gate | up of one row, F = 2 */
    int64_t sh[2] = {1, 4};
    lt_tensor *y = lt_swiglu(c, lt_from_data(c, 2, sh, xs));
    LT_CHECK(y && y->ndim == 2 && y->shape[0] == 1 && y->shape[1] == 2,
             "shape");
    for (int j = 0; y && j < 2; j++) {
        float g = xs[j], want = g / (1 + expf(-g)) * xs[2 + j];
        LT_CHECK(fabsf(y->data[j] - want) < 1e-6f, "y[%d] %g vs %g", j,
                 y->data[j], want);
    }
    int64_t odd[2] = {2, 3};
    LT_CHECK(!lt_swiglu(c, lt_zeros(c, 2, odd)) &&
                 lt_last_status() == LT_ERR_SHAPE, "odd width");
    lt_ctx_free(c);
    int64_t shape[2] = {3, 8};
    lt_tensor *x = lt_gc_input(2, shape, true, 5, -3.0f, 3.0f);
    LT_GRADCHECK("swiglu", gc_swiglu, NULL, 1, &x, 1e-2, 1e-2);
    lt_gc_input_free(x);
}

LT_TEST_MAIN()
