/*
 * test_elementwise.c - tests of add, sub, mul and div with NumPy
 * broadcasting: PyTorch golden values for every op and shape case,
 * finite-difference checks, large shapes (parallel paths) against a naive
 * reference, an operand used twice, and shape errors.
 */
#include "lt_test.h"

#include <math.h>
#include <string.h>

typedef lt_tensor *(*binary_fn)(lt_ctx *c, lt_tensor *a, lt_tensor *b);

static const struct {
    const char *name;
    binary_fn fn;
} ops[] = {{"add", lt_add}, {"sub", lt_sub}, {"mul", lt_mul}, {"div", lt_div}};

static const char *const cases[] = {"same",   "bcast3", "bias",
                                    "scalar", "column", "outer"};

static bool shape_is(const lt_tensor *t, const lt_golden_entry *e)
{
    if (!t || !e || t->ndim != e->ndim)
        return false;
    return !memcmp(t->shape, e->shape, (size_t)t->ndim * sizeof(int64_t));
}

static void golden_case(lt_ctx *c, const lt_golden *g, int op, const char *cs)
{
    char p[64], n[96];
#define NAME(s) (snprintf(n, sizeof n, "%s.%s", p, s), n)
    snprintf(p, sizeof p, "%s.%s", ops[op].name, cs);
    lt_tensor *a = lt_golden_tensor(c, g, NAME("a"), true);
    lt_tensor *b = lt_golden_tensor(c, g, NAME("b"), true);
    lt_tensor *r = lt_golden_tensor(c, g, NAME("r"), false);
    lt_tensor *y = ops[op].fn(c, a, b);
    LT_CHECK(y != NULL, "%s: %s", p, lt_last_error());
    if (!y || !r)
        return;
    LT_CHECK(shape_is(y, lt_golden_get(g, NAME("y"))), "%s: output shape", p);
    LT_GOLDEN_CHECK(g, NAME("y"), y->data, y->numel);
    LT_CHECK(lt_backward_with(c, y, r->data) == LT_OK, "%s: %s", p,
             lt_last_error());
    LT_GOLDEN_CHECK(g, NAME("ga"), a->grad, a->numel);
    LT_GOLDEN_CHECK(g, NAME("gb"), b->grad, b->numel);
#undef NAME
}

LT_TEST(binary_golden)
{
    lt_golden *g = lt_golden_load("elementwise.bin");
    lt_ctx *c = lt_ctx_new(1 << 20);
    for (int op = 0; g && op < 4; op++)
        for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
            golden_case(c, g, op, cases[k]);
            lt_ctx_reset(c);
        }
    lt_ctx_free(c);
    lt_golden_free(g);
}

/* ---- finite differences ------------------------------------------------- */

static lt_tensor *gc_binary(lt_ctx *c, lt_tensor **in, void *ud)
{
    return (*(const binary_fn *)ud)(c, in[0], in[1]);
}

static const struct {
    int na, nb;
    int64_t a[4], b[4];
} shapes[] = {
    {3, 3, {3, 4, 5}, {3, 4, 5}}, {3, 2, {4, 1, 6}, {3, 1}},
    {4, 1, {2, 3, 4, 5}, {5}},    {1, 2, {1}, {3, 4}},
    {2, 2, {4, 1}, {4, 6}},       {3, 3, {3, 1, 2}, {1, 5, 1}},
};

LT_TEST(binary_gradcheck)
{
    for (int op = 0; op < 4; op++)
        for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
            lt_tensor *in[2] = {
                lt_gc_input(shapes[k].na, shapes[k].a, true, 10 + k, -2, 2),
                /* denominators in [0.5, 2]: away from 0 */
                lt_gc_input(shapes[k].nb, shapes[k].b, true, 20 + k, 0.5f,
                            2.0f)};
            binary_fn fn = ops[op].fn;
            char what[64];
            snprintf(what, sizeof what, "%s case %zu", ops[op].name, k);
            LT_GRADCHECK(what, gc_binary, &fn, 2, in, 1e-2, 1e-2);
            lt_gc_input_free(in[0]);
            lt_gc_input_free(in[1]);
        }
}

/* ---- large shapes against a naive reference ----------------------------- */

/* Offset in t of output element i of nd dims (NumPy broadcasting). */
static int64_t ref_offset(const lt_tensor *t, int nd, const int64_t *oshape,
                          int64_t i)
{
    int64_t off = 0, stride = 1;
    for (int k = nd - 1; k >= 0; k--) {
        int64_t idx = i % oshape[k];
        i /= oshape[k];
        int j = k - (nd - t->ndim);
        if (j < 0)
            continue;
        if (t->shape[j] != 1)
            off += idx * stride;
        stride *= t->shape[j];
    }
    return off;
}

static void check_large(int op, int na, const int64_t *sa, int nb,
                        const int64_t *sb)
{
    lt_ctx *c = lt_ctx_new(64 << 20);
    lt_rng rng;
    lt_rng_init(&rng, 77);
    lt_tensor *a = lt_requires_grad(lt_new(c, na, sa));
    lt_tensor *b = lt_requires_grad(lt_new(c, nb, sb));
    lt_rng_fill_uniform(&rng, a->data, a->numel, -2, 2);
    lt_rng_fill_uniform(&rng, b->data, b->numel, 0.5f, 2);
    lt_tensor *y = ops[op].fn(c, a, b);
    LT_CHECK_OK(y);
    if (!y) {
        lt_ctx_free(c);
        return;
    }
    float *r = lt_alloc(c, (size_t)y->numel * sizeof(float));
    float *want = lt_alloc(c, (size_t)y->numel * sizeof(float));
    double *ga = lt_alloc_zero(c, (size_t)a->numel * sizeof(double));
    double *gb = lt_alloc_zero(c, (size_t)b->numel * sizeof(double));
    lt_rng_fill_uniform(&rng, r, y->numel, -1, 1);
    for (int64_t i = 0; i < y->numel; i++) {
        int64_t ia = ref_offset(a, y->ndim, y->shape, i);
        int64_t ib = ref_offset(b, y->ndim, y->shape, i);
        double u = a->data[ia], w = b->data[ib];
        double v[4] = {u + w, u - w, u * w, u / w};
        double du[4] = {1, 1, w, 1 / w}, dw[4] = {1, -1, u, -u / (w * w)};
        want[i] = (float)v[op];
        ga[ia] += r[i] * du[op];
        gb[ib] += r[i] * dw[op];
    }
    char what[64];
    snprintf(what, sizeof what, "%s large y", ops[op].name);
    LT_CHECK_CLOSE(what, y->data, want, y->numel, 1e-5);
    LT_CHECK(lt_backward_with(c, y, r) == LT_OK, "%s", lt_last_error());
    float *fa = lt_alloc(c, (size_t)a->numel * sizeof(float));
    float *fb = lt_alloc(c, (size_t)b->numel * sizeof(float));
    for (int64_t i = 0; i < a->numel; i++)
        fa[i] = (float)ga[i];
    for (int64_t i = 0; i < b->numel; i++)
        fb[i] = (float)gb[i];
    snprintf(what, sizeof what, "%s large ga", ops[op].name);
    LT_CHECK_CLOSE(what, a->grad, fa, a->numel, 1e-4);
    snprintf(what, sizeof what, "%s large gb", ops[op].name);
    LT_CHECK_CLOSE(what, b->grad, fb, b->numel, 1e-4);
    lt_ctx_free(c);
}

LT_TEST(binary_large_shapes)
{
    for (int op = 0; op < 4; op++) {
        check_large(op, 2, (int64_t[]){300, 200}, 2, (int64_t[]){300, 200});
        check_large(op, 2, (int64_t[]){300, 200}, 1, (int64_t[]){200});
        check_large(op, 1, (int64_t[]){200}, 2, (int64_t[]){300, 200});
        check_large(op, 3, (int64_t[]){50, 1, 40}, 2, (int64_t[]){30, 1});
        check_large(op, 2, (int64_t[]){300, 200}, 1, (int64_t[]){1});
        check_large(op, 2, (int64_t[]){5000, 2}, 2, (int64_t[]){5000, 1});
        check_large(op, 1, (int64_t[]){70000}, 1, (int64_t[]){70000});
    }
}

LT_TEST(binary_same_operand_twice)
{
    lt_ctx *c = lt_ctx_new(1 << 16);
    lt_tensor *x = lt_requires_grad(lt_from_data(c, 1, (int64_t[]){3},
                                                 (float[]){1, -2, 3}));
    lt_tensor *y = lt_mul(c, x, x);
    LT_CHECK(y && lt_backward_with(c, y, (float[]){1, 1, 1}) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(x->grad && x->grad[0] == 2 && x->grad[1] == -4 &&
                 x->grad[2] == 6,
             "d(x*x)/dx wrong");
    lt_ctx_reset(c);
    x = lt_requires_grad(lt_from_data(c, 1, (int64_t[]){3},
                                      (float[]){1, -2, 3}));
    y = lt_sub(c, x, x);
    LT_CHECK(y && lt_backward_with(c, y, (float[]){1, 1, 1}) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(x->grad && x->grad[0] == 0 && x->grad[2] == 0, "d(x-x)/dx");
    lt_ctx_free(c);
}

LT_TEST(binary_only_one_side_needs_grad)
{
    lt_ctx *c = lt_ctx_new(1 << 16);
    lt_tensor *a = lt_from_data(c, 2, (int64_t[]){2, 2}, (float[]){1, 2, 3, 4});
    lt_tensor *b = lt_requires_grad(lt_from_data(c, 1, (int64_t[]){2},
                                                 (float[]){2, 4}));
    lt_tensor *y = lt_div(c, a, b);
    LT_CHECK(y && lt_backward_with(c, y, (float[]){1, 1, 1, 1}) == LT_OK,
             "%s", lt_last_error());
    LT_CHECK(a->grad == NULL, "a got a gradient");
    /* d/db of (1/b0 + 3/b0, 2/b1 + 4/b1) = (-4/4, -6/16) */
    LT_CHECK(b->grad && b->grad[0] == -1.0f && b->grad[1] == -0.375f,
             "gb %g %g", b->grad ? b->grad[0] : 0, b->grad ? b->grad[1] : 0);
    lt_tensor *z = lt_add(c, a, a);
    LT_CHECK(z && !z->node, "no input needs grad, yet recorded");
    lt_ctx_free(c);
}

LT_TEST(binary_shape_errors)
{
    lt_ctx *c = lt_ctx_new(1 << 16);
    lt_tensor *a = lt_new2(c, 3, 4), *b = lt_new1(c, 5), *d = lt_new2(c, 4, 3);
    for (int op = 0; op < 4; op++) {
        lt_clear_error();
        LT_CHECK(ops[op].fn(c, a, b) == NULL, "%s: [3,4] with [5]",
                 ops[op].name);
        LT_CHECK(lt_last_status() == LT_ERR_SHAPE, "%s: status %d",
                 ops[op].name, (int)lt_last_status());
        LT_CHECK(strstr(lt_last_error(), ops[op].name) &&
                     strstr(lt_last_error(), "[3, 4]") &&
                     strstr(lt_last_error(), "[5]"),
                 "message: %s", lt_last_error());
        LT_CHECK(ops[op].fn(c, a, d) == NULL &&
                     lt_last_status() == LT_ERR_SHAPE,
                 "%s: [3,4] with [4,3]", ops[op].name);
        lt_set_error(LT_ERR_ARENA, "earlier");
        LT_CHECK(ops[op].fn(c, NULL, a) == NULL &&
                     ops[op].fn(c, a, NULL) == NULL &&
                     lt_last_status() == LT_ERR_ARENA,
                 "%s: NULL input", ops[op].name);
    }
    lt_ctx_free(c);
}

LT_TEST_MAIN()
