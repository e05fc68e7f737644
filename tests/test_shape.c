/*
 * test_shape.c - tests of src/ops/shape.c: reshape, permute, transpose,
 * slice and concat against PyTorch goldens and finite differences, their
 * error cases, and the fast permute paths against a naive reference at
 * sizes that use several threads.
 */
#include "lt_test.h"

#include <string.h>

/* ---- goldens ---------------------------------------------------------- */

typedef lt_tensor *(*shape_fn)(lt_ctx *c, int n, lt_tensor **xs);

/* Loads <p>.x0..x<n-1>, runs fn, compares y and the gradients of sum(y*r). */
static void golden_case(const lt_golden *g, const char *p, int n, shape_fn fn)
{
    lt_ctx *c = lt_ctx_new(1 << 20);
    lt_tensor *xs[8];
    char nm[128];
    for (int i = 0; i < n; i++) {
        snprintf(nm, sizeof nm, "%s.x%d", p, i);
        xs[i] = lt_golden_tensor(c, g, nm, true);
    }
    lt_tensor *y = fn(c, n, xs);
    LT_CHECK(y != NULL, "%s: %s", p, lt_last_error());
    if (y) {
        snprintf(nm, sizeof nm, "%s.y", p);
        const lt_golden_entry *e = lt_golden_get(g, nm);
        LT_CHECK(e && e->ndim == y->ndim &&
                     !memcmp(e->shape, y->shape, sizeof(int64_t) * y->ndim),
                 "%s: shape", p);
        LT_GOLDEN_CHECK(g, nm, y->data, y->numel);
        snprintf(nm, sizeof nm, "%s.r", p);
        lt_tensor *r = lt_golden_tensor(c, g, nm, false);
        LT_CHECK(r && lt_backward_with(c, y, r->data) == LT_OK, "%s: %s", p,
                 lt_last_error());
        for (int i = 0; i < n; i++) {
            snprintf(nm, sizeof nm, "%s.g%d", p, i);
            LT_CHECK(xs[i]->grad != NULL, "%s: no grad %d", p, i);
            if (xs[i]->grad)
                LT_GOLDEN_CHECK(g, nm, xs[i]->grad, xs[i]->numel);
        }
    }
    lt_ctx_free(c);
}

static lt_tensor *f_reshape(lt_ctx *c, int n, lt_tensor **x)
{
    (void)n;
    return lt_reshape(c, x[0], 2, (int64_t[]){4, -1});
}
static lt_tensor *f_perm0213(lt_ctx *c, int n, lt_tensor **x)
{
    (void)n;
    return lt_permute(c, x[0], (int[]){0, 2, 1, 3});
}
static lt_tensor *f_perm3102(lt_ctx *c, int n, lt_tensor **x)
{
    (void)n;
    return lt_permute(c, x[0], (int[]){3, 1, 0, 2});
}
static lt_tensor *f_perm0132(lt_ctx *c, int n, lt_tensor **x)
{
    (void)n;
    return lt_transpose(c, x[0], -1, 2);
}
static lt_tensor *f_perm5d(lt_ctx *c, int n, lt_tensor **x)
{
    (void)n;
    return lt_permute(c, x[0], (int[]){4, 2, 1, 0, 3});
}
static lt_tensor *f_transpose(lt_ctx *c, int n, lt_tensor **x)
{
    (void)n;
    return lt_transpose(c, x[0], 0, 1);
}
static lt_tensor *f_slice(lt_ctx *c, int n, lt_tensor **x)
{
    (void)n;
    return lt_slice(c, x[0], -2, -3, 100);
}
static lt_tensor *f_slice0(lt_ctx *c, int n, lt_tensor **x)
{
    (void)n;
    return lt_slice(c, x[0], 0, 1, 4);
}
static lt_tensor *f_cat1(lt_ctx *c, int n, lt_tensor **x)
{
    return lt_concat(c, n, x, 1);
}
static lt_tensor *f_cat0(lt_ctx *c, int n, lt_tensor **x)
{
    return lt_concat(c, n, x, 0);
}

LT_TEST(shape_goldens)
{
    lt_golden *g = lt_golden_load("shape.bin");
    golden_case(g, "reshape", 1, f_reshape);
    golden_case(g, "perm0213", 1, f_perm0213);
    golden_case(g, "perm3102", 1, f_perm3102);
    golden_case(g, "perm0132", 1, f_perm0132);
    golden_case(g, "perm5d", 1, f_perm5d);
    golden_case(g, "transpose", 1, f_transpose);
    golden_case(g, "slice", 1, f_slice);
    golden_case(g, "slice0", 1, f_slice0);
    golden_case(g, "cat3", 3, f_cat1);
    golden_case(g, "cat6", 6, f_cat0);
    lt_golden_free(g);
}

/* ---- finite differences ------------------------------------------------ */

static lt_tensor *gc_shape(lt_ctx *c, lt_tensor **in, void *ud)
{
    shape_fn fn = *(shape_fn *)ud;
    return fn(c, 1, in);
}

static lt_tensor *gc_cat5(lt_ctx *c, lt_tensor **in, void *ud)
{
    (void)ud;
    return lt_concat(c, 5, in, -1);
}

/* The 5-input concat inside a graph: its two tape nodes share the output,
 * whose gradient must survive until both have run. */
static lt_tensor *gc_cat5_inner(lt_ctx *c, lt_tensor **in, void *ud)
{
    (void)ud;
    return lt_affine(c, lt_concat(c, 5, in, -1), 2.0f, 0.0f);
}

LT_TEST(concat5_intermediate_gradcheck)
{
    lt_tensor *in[5];
    for (int i = 0; i < 5; i++)
        in[i] = lt_gc_input(2, (int64_t[]){3, i + 1}, true, 40 + i, -1, 1);
    LT_GRADCHECK("concat5 inner", gc_cat5_inner, NULL, 5, in, 1e-2, 1e-2);
    for (int i = 0; i < 5; i++)
        lt_gc_input_free(in[i]);
}

LT_TEST(shape_gradcheck)
{
    struct {
        const char *name;
        shape_fn fn;
        int ndim;
        int64_t shape[5];
    } cases[] = {
        {"reshape", f_reshape, 3, {2, 3, 4}},
        {"permute 0213", f_perm0213, 4, {2, 3, 4, 5}},
        {"permute 3102", f_perm3102, 4, {2, 3, 4, 5}},
        {"transpose -1 2", f_perm0132, 4, {2, 2, 3, 5}},
        {"permute 5-D", f_perm5d, 5, {2, 1, 3, 4, 2}},
        {"slice", f_slice, 3, {3, 7, 4}},
        {"slice0", f_slice0, 2, {6, 5}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lt_tensor *x = lt_gc_input(cases[i].ndim, cases[i].shape, true,
                                   100 + i, -1, 1);
        LT_CHECK(LT_GRADCHECK(cases[i].name, gc_shape, &cases[i].fn, 1, &x,
                              1e-2, 1e-2), "%s", cases[i].name);
        lt_gc_input_free(x);
    }
    /* concat of 5 (two tape nodes), one input without gradient */
    lt_tensor *xs[5];
    for (int i = 0; i < 5; i++)
        xs[i] = lt_gc_input(2, (int64_t[]){3, 1 + i % 3}, i != 2, 200 + i,
                            -1, 1);
    LT_CHECK(LT_GRADCHECK("concat 5", gc_cat5, NULL, 5, xs, 1e-2, 1e-2),
             "concat 5");
    for (int i = 0; i < 5; i++)
        lt_gc_input_free(xs[i]);
}

/* ---- errors ------------------------------------------------------------------ */

static void expect_error(void *got, lt_status code, const char *needle,
                         const char *what)
{
    LT_CHECK(got == NULL, "%s: accepted", what);
    LT_CHECK(lt_last_status() == code, "%s: status %s (%s)", what,
             lt_status_name(lt_last_status()), lt_last_error());
    LT_CHECK(strstr(lt_last_error(), needle) != NULL, "%s: message '%s'",
             what, lt_last_error());
}

LT_TEST(shape_errors)
{
    lt_ctx *c = lt_ctx_new(1 << 20);
    lt_tensor *x = lt_zeros(c, 3, (int64_t[]){2, 3, 4});
    expect_error(lt_reshape(c, x, 2, (int64_t[]){5, 5}), LT_ERR_SHAPE,
                 "reshape", "reshape numel");
    expect_error(lt_reshape(c, x, 2, (int64_t[]){5, -1}), LT_ERR_SHAPE,
                 "reshape", "reshape inferred");
    expect_error(lt_reshape(c, x, 3, (int64_t[]){-1, 2, -1}), LT_ERR_ARG,
                 "more than one -1", "reshape two -1");
    expect_error(lt_reshape(c, x, 2, (int64_t[]){-3, -8}), LT_ERR_ARG,
                 "reshape", "reshape negative");
    expect_error(lt_permute(c, x, (int[]){0, 1, 1}), LT_ERR_ARG, "repeated",
                 "permute repeated");
    expect_error(lt_permute(c, x, (int[]){0, 3, 1}), LT_ERR_ARG,
                 "out of range", "permute out of range");
    expect_error(lt_transpose(c, x, 0, 3), LT_ERR_ARG, "transpose",
                 "transpose axis");
    expect_error(lt_slice(c, x, 1, 2, 2), LT_ERR_ARG, "slice", "slice empty");
    expect_error(lt_slice(c, x, 2, 9, 12), LT_ERR_ARG, "slice",
                 "slice past end");
    expect_error(lt_slice(c, x, 3, 0, 1), LT_ERR_ARG, "slice", "slice axis");
    lt_tensor *a = lt_zeros(c, 2, (int64_t[]){2, 3});
    lt_tensor *b = lt_zeros(c, 2, (int64_t[]){3, 3});
    lt_tensor *d = lt_zeros(c, 3, (int64_t[]){2, 3, 1});
    expect_error(lt_concat(c, 2, (lt_tensor *[]){a, b}, 1), LT_ERR_SHAPE,
                 "concat: input 1 [3, 3]", "concat mismatch");
    expect_error(lt_concat(c, 2, (lt_tensor *[]){a, d}, 0), LT_ERR_SHAPE,
                 "concat", "concat ndim");
    expect_error(lt_concat(c, 0, (lt_tensor *[]){a}, 0), LT_ERR_ARG,
                 "concat", "concat none");
    lt_set_error(LT_ERR_ARENA, "earlier");
    LT_CHECK(!lt_concat(c, 2, (lt_tensor *[]){a, NULL}, 0) &&
                 !lt_reshape(c, NULL, 1, (int64_t[]){1}) &&
                 !lt_permute(c, NULL, (int[]){0}) &&
                 !lt_slice(c, NULL, 0, 0, 1) && !lt_transpose(c, NULL, 0, 1) &&
                 !strcmp(lt_last_error(), "earlier"), "NULL propagation");
    lt_ctx_free(c);
}

LT_TEST(reshape_is_own_tensor)
{
    lt_ctx *c = lt_ctx_new(1 << 20);
    lt_tensor *x = lt_requires_grad(lt_zeros(c, 2, (int64_t[]){3, 4}));
    lt_tensor *y = lt_reshape(c, x, 1, (int64_t[]){-1});
    LT_CHECK(y && y != x && y->node && y->shape[0] == 12 && x->ndim == 2,
             "reshape output");
    lt_tensor *z = lt_reshape(c, y, 3, (int64_t[]){2, -1, 3});
    LT_CHECK(z && z->shape[1] == 2, "inferred middle dim");
    float r[12];
    for (int i = 0; i < 12; i++)
        r[i] = (float)i;
    LT_CHECK(lt_backward_with(c, z, r) == LT_OK, "%s", lt_last_error());
    LT_CHECK(x->grad && !memcmp(x->grad, r, sizeof r), "reshape grad");
    lt_ctx_free(c);
}

/* ---- permute paths against a naive reference ---------------------------------- */

static void naive_permute(const float *src, int nd, const int64_t *sh,
                          const int *perm, float *dst)
{
    int64_t st[6], osh[6], n = 1, idx[6] = {0};
    for (int i = nd - 1; i >= 0; i--) {
        st[i] = n;
        n *= sh[i];
    }
    for (int i = 0; i < nd; i++)
        osh[i] = sh[perm[i]];
    for (int64_t o = 0; o < n; o++) {
        int64_t off = 0;
        for (int i = 0; i < nd; i++)
            off += idx[i] * st[perm[i]];
        dst[o] = src[off];
        for (int i = nd - 1; i >= 0 && ++idx[i] == osh[i]; i--)
            idx[i] = 0;
    }
}

static void check_big_permute(int nd, const int64_t *sh, const int *perm)
{
    lt_ctx *c = lt_ctx_new((size_t)64 << 20);
    lt_tensor *x = lt_requires_grad(lt_new(c, nd, sh));
    lt_rng rg;
    lt_rng_init(&rg, 77);
    lt_rng_fill_uniform(&rg, x->data, x->numel, -1, 1);
    lt_tensor *y = lt_permute(c, x, perm);
    LT_CHECK_OK(y);
    float *ref = lt_alloc(c, (size_t)x->numel * sizeof(float));
    naive_permute(x->data, nd, sh, perm, ref);
    LT_CHECK(y && !memcmp(ref, y->data, (size_t)x->numel * sizeof(float)),
             "permute %d-D forward differs", nd);
    /* backward with r = ref gives back x */
    LT_CHECK(lt_backward_with(c, y, ref) == LT_OK, "%s", lt_last_error());
    LT_CHECK(x->grad &&
                 !memcmp(x->grad, x->data, (size_t)x->numel * sizeof(float)),
             "permute %d-D backward differs", nd);
    lt_ctx_free(c);
}

LT_TEST(permute_large_matches_naive)
{
    check_big_permute(4, (int64_t[]){4, 64, 8, 32}, (int[]){0, 2, 1, 3});
    check_big_permute(4, (int64_t[]){4, 8, 64, 32}, (int[]){0, 2, 1, 3});
    check_big_permute(4, (int64_t[]){4, 8, 70, 33}, (int[]){0, 1, 3, 2});
    check_big_permute(2, (int64_t[]){300, 257}, (int[]){1, 0});
    check_big_permute(6, (int64_t[]){3, 5, 1, 7, 4, 9}, (int[]){5, 2, 0, 4, 1, 3});
    check_big_permute(3, (int64_t[]){1, 1, 5}, (int[]){2, 0, 1});
}

LT_TEST(slice_concat_roundtrip_large)
{
    lt_ctx *c = lt_ctx_new((size_t)64 << 20);
    lt_tensor *x = lt_requires_grad(lt_new3(c, 16, 300, 40));
    lt_rng rg;
    lt_rng_init(&rg, 3);
    lt_rng_fill_uniform(&rg, x->data, x->numel, -1, 1);
    lt_tensor *parts[3] = {lt_slice(c, x, 1, 0, 100), lt_slice(c, x, 1, 100, 250),
                           lt_slice(c, x, 1, -50, 300)};
    lt_tensor *y = lt_concat(c, 3, parts, 1);
    LT_CHECK(y && !memcmp(y->data, x->data, (size_t)x->numel * sizeof(float)),
             "slice+concat is not the identity");
    LT_CHECK(lt_backward_with(c, y, x->data) == LT_OK, "%s", lt_last_error());
    LT_CHECK(x->grad &&
                 !memcmp(x->grad, x->data, (size_t)x->numel * sizeof(float)),
             "slice+concat backward is not the identity");
    lt_ctx_free(c);
}

LT_TEST_MAIN()
