/*
 * test_pool.c - tests of max / average pooling, global average pooling and
 * nearest upsampling: PyTorch goldens (tests/golden/gen_pool.py), finite
 * differences, max-pool tie and NaN handling, and the error cases.
 */
#include "lt_test.h"

#include <math.h>
#include <string.h>

typedef enum { P_MAX, P_AVG, P_GAP, P_UP } pool_kind;

typedef struct {
    const char *name;
    pool_kind kind;
    int k, s, p; /* for P_UP, k is the scale */
} pool_case;

/* Must match tests/golden/gen_pool.py. */
static const pool_case cases[] = {
    {"max1", P_MAX, 3, 2, 1}, {"max2", P_MAX, 2, 0, 0},
    {"max3", P_MAX, 3, 1, 1}, {"avg1", P_AVG, 3, 2, 1},
    {"avg2", P_AVG, 2, 0, 0}, {"avg3", P_AVG, 3, 1, 1},
    {"gap", P_GAP, 0, 0, 0},  {"up2", P_UP, 2, 0, 0},
    {"up3", P_UP, 3, 0, 0},
};
#define N_CASES (int)(sizeof cases / sizeof cases[0])

static lt_tensor *run(lt_ctx *c, const pool_case *k, lt_tensor *x)
{
    switch (k->kind) {
    case P_MAX:
        return lt_max_pool2d(c, x, k->k, k->s, k->p);
    case P_AVG:
        return lt_avg_pool2d(c, x, k->k, k->s, k->p);
    case P_GAP:
        return lt_global_avg_pool(c, x);
    default:
        return lt_upsample_nearest2d(c, x, k->k);
    }
}

LT_TEST(pool_matches_pytorch)
{
    lt_golden *g = lt_golden_load("pool.bin");
    if (!g)
        return;
    lt_ctx *c = lt_ctx_new(1 << 20);
    char n[64];
    for (int i = 0; i < N_CASES; i++) {
        const pool_case *k = &cases[i];
#define NM(s) (snprintf(n, sizeof n, "%s.%s", k->name, s), n)
        lt_tensor *x = lt_golden_tensor(c, g, NM("x"), true);
        lt_tensor *y = run(c, k, x);
        LT_CHECK(y != NULL, "%s: %s", k->name, lt_last_error());
        const lt_golden_entry *ye = lt_golden_get(g, NM("y"));
        if (!y || !ye)
            continue;
        LT_CHECK(ye->ndim == y->ndim &&
                     memcmp(ye->shape, y->shape,
                            (size_t)y->ndim * sizeof(int64_t)) == 0,
                 "%s: output shape", k->name);
        if (ye->numel != y->numel)
            continue;
        LT_GOLDEN_CHECK(g, NM("y"), y->data, y->numel);
        LT_CHECK(lt_backward_with(c, y, lt_golden_get(g, NM("r"))->data) ==
                     LT_OK,
                 "%s: %s", k->name, lt_last_error());
        LT_GOLDEN_CHECK(g, NM("gx"), x->grad, x->numel);
        lt_ctx_reset(c);
#undef NM
    }
    lt_ctx_free(c);
    lt_golden_free(g);
}

static lt_tensor *gc_pool(lt_ctx *c, lt_tensor **in, void *ud)
{
    return run(c, ud, in[0]);
}

LT_TEST(pool_finite_differences)
{
    /* Distinct values spaced far beyond eps, so max pool has no near-ties:
     * a shuffled ramp. */
    int64_t xs[4] = {2, 2, 7, 6};
    lt_tensor *x = lt_gc_input(4, xs, true, 9, -1, 1);
    int64_t n = x->numel;
    for (int64_t i = 0; i < n; i++)
        x->data[i] = (float)((i * 37) % n) * 0.1f - 4.0f;
    for (int i = 0; i < N_CASES; i++)
        LT_CHECK(LT_GRADCHECK(cases[i].name, gc_pool, (void *)&cases[i], 1,
                              &x, 1e-2, 1e-2),
                 "%s: gradient check", cases[i].name);
    lt_gc_input_free(x);
}

LT_TEST(max_pool_ties_and_nan)
{
    lt_ctx *c = lt_ctx_new(1 << 16);
    /* 2x2 window of equal values: gradient to the first (row-major). */
    lt_tensor *x = lt_requires_grad(lt_from_data(
        c, 4, (int64_t[]){1, 1, 2, 2}, (float[]){5, 5, 5, 5}));
    lt_tensor *y = lt_max_pool2d(c, x, 2, 0, 0);
    LT_CHECK_OK(y);
    LT_CHECK(lt_backward_with(c, y, (float[]){1}) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(x->grad[0] == 1 && x->grad[1] == 0 && x->grad[3] == 0,
             "tie gradient %g %g %g %g", x->grad[0], x->grad[1], x->grad[2],
             x->grad[3]);
    /* NaN propagates, as in PyTorch. */
    lt_tensor *xn = lt_from_data(c, 4, (int64_t[]){1, 1, 2, 2},
                                 (float[]){1, NAN, 3, 2});
    lt_tensor *yn = lt_max_pool2d(c, xn, 2, 2, 0);
    LT_CHECK(yn && isnan(yn->data[0]), "NaN not propagated");
    /* Padding never wins: all-negative input with padding 1. */
    lt_tensor *xm = lt_from_data(c, 4, (int64_t[]){1, 1, 2, 2},
                                 (float[]){-3, -4, -5, -6});
    lt_tensor *ym = lt_max_pool2d(c, xm, 2, 1, 1);
    LT_CHECK(ym && ym->shape[2] == 3 && ym->data[0] == -3 &&
                 ym->data[8] == -6,
             "padded max pool");
    lt_ctx_free(c);
}

static void expect_error(lt_tensor *y, lt_status code, const char *op,
                         const char *what)
{
    LT_CHECK(y == NULL, "%s accepted", what);
    LT_CHECK(lt_last_status() == code, "%s: status %s", what,
             lt_status_name(lt_last_status()));
    LT_CHECK(strstr(lt_last_error(), op) != NULL, "%s: message '%s'", what,
             lt_last_error());
}

LT_TEST(pool_errors)
{
    lt_ctx *c = lt_ctx_new(1 << 16);
    lt_tensor *x = lt_zeros(c, 4, (int64_t[]){1, 2, 3, 3});
    lt_tensor *x3 = lt_zeros(c, 3, (int64_t[]){2, 3, 3});
    expect_error(lt_max_pool2d(c, x, 4, 0, 0), LT_ERR_SHAPE, "max_pool2d",
                 "kernel larger than input");
    expect_error(lt_avg_pool2d(c, x, 5, 1, 0), LT_ERR_SHAPE, "avg_pool2d",
                 "kernel larger than input");
    LT_CHECK(lt_max_pool2d(c, x, 4, 1, 1) != NULL, "padded kernel 4: %s",
             lt_last_error());
    expect_error(lt_max_pool2d(c, x, 2, 1, 2), LT_ERR_ARG, "max_pool2d",
                 "padding over half the kernel");
    expect_error(lt_avg_pool2d(c, x, 0, 1, 0), LT_ERR_ARG, "avg_pool2d",
                 "kernel 0");
    expect_error(lt_max_pool2d(c, x3, 2, 0, 0), LT_ERR_SHAPE, "max_pool2d",
                 "3-D input");
    expect_error(lt_global_avg_pool(c, x3), LT_ERR_SHAPE, "global_avg_pool",
                 "3-D input");
    expect_error(lt_upsample_nearest2d(c, x3, 2), LT_ERR_SHAPE,
                 "upsample_nearest2d", "3-D input");
    expect_error(lt_upsample_nearest2d(c, x, 0), LT_ERR_ARG,
                 "upsample_nearest2d", "scale 0");
    LT_CHECK(lt_max_pool2d(c, NULL, 2, 0, 0) == NULL, "NULL accepted");
    lt_ctx_free(c);
}

LT_TEST_MAIN()
