/*
 * test_matmul.c - tests of lt_matmul, lt_linear and lt_bmm: finite
 * differences, PyTorch golden values (tests/golden/gen_matmul.py), both
 * batching strategies of lt_bmm against a naive product, and shape errors.
 */
#include "lt_test.h"

#include <string.h>

/* ---- finite differences ---------------------------------------------------- */

static lt_tensor *fn_matmul(lt_ctx *c, lt_tensor **in, void *ud)
{
    (void)ud;
    return lt_matmul(c, in[0], in[1]);
}

static lt_tensor *fn_linear(lt_ctx *c, lt_tensor **in, void *ud)
{
    (void)ud;
    return lt_linear(c, in[0], in[1], in[2]);
}

static lt_tensor *fn_linear_nobias(lt_ctx *c, lt_tensor **in, void *ud)
{
    (void)ud;
    return lt_linear(c, in[0], in[1], NULL);
}

static lt_tensor *fn_bmm(lt_ctx *c, lt_tensor **in, void *ud)
{
    const int *t = ud;
    return lt_bmm(c, in[0], in[1], t[0], t[1]);
}

LT_TEST(matmul_gradcheck)
{
    lt_tensor *in[2] = {lt_gc_input(2, (int64_t[]){5, 4}, true, 1, -1, 1),
                        lt_gc_input(2, (int64_t[]){4, 3}, true, 2, -1, 1)};
    LT_GRADCHECK("matmul", fn_matmul, NULL, 2, in, 1e-2, 1e-2);
    lt_gc_input_free(in[0]);
    lt_gc_input_free(in[1]);
}

LT_TEST(linear_gradcheck)
{
    lt_tensor *in[3] = {lt_gc_input(3, (int64_t[]){2, 3, 6}, true, 3, -1, 1),
                        lt_gc_input(2, (int64_t[]){5, 6}, true, 4, -1, 1),
                        lt_gc_input(1, (int64_t[]){5}, true, 5, -1, 1)};
    LT_GRADCHECK("linear", fn_linear, NULL, 3, in, 1e-2, 1e-2);
    LT_GRADCHECK("linear no bias", fn_linear_nobias, NULL, 2, in, 1e-2, 1e-2);
    for (int i = 0; i < 3; i++)
        lt_gc_input_free(in[i]);
    /* 1-D input, weight without gradient */
    lt_tensor *v[3] = {lt_gc_input(1, (int64_t[]){6}, true, 6, -1, 1),
                       lt_gc_input(2, (int64_t[]){4, 6}, false, 7, -1, 1),
                       lt_gc_input(1, (int64_t[]){4}, true, 8, -1, 1)};
    LT_GRADCHECK("linear 1-D", fn_linear, NULL, 3, v, 1e-2, 1e-2);
    for (int i = 0; i < 3; i++)
        lt_gc_input_free(v[i]);
}

LT_TEST(bmm_gradcheck)
{
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            int t[2] = {ta, tb};
            int64_t sa[4] = {2, 2, ta ? 3 : 4, ta ? 4 : 3};
            int64_t sb[4] = {2, 2, tb ? 5 : 3, tb ? 3 : 5};
            lt_tensor *in[2] = {lt_gc_input(4, sa, true, 10 + ta, -1, 1),
                                lt_gc_input(4, sb, true, 20 + tb, -1, 1)};
            char what[64];
            snprintf(what, sizeof what, "bmm ta=%d tb=%d", ta, tb);
            LT_GRADCHECK(what, fn_bmm, t, 2, in, 1e-2, 1e-2);
            lt_gc_input_free(in[0]);
            lt_gc_input_free(in[1]);
        }
}

/* ---- golden ------------------------------------------------------------------ */

static void golden_case(lt_ctx *c, const lt_golden *g, const char *prefix,
                        int n_in, const char *const *names, int ta, int tb)
{
    char key[64];
    lt_tensor *in[3] = {NULL, NULL, NULL};
    for (int i = 0; i < n_in; i++) {
        snprintf(key, sizeof key, "%s.%s", prefix, names[i]);
        in[i] = lt_golden_tensor(c, g, key, true);
        LT_CHECK_OK(in[i]);
    }
    lt_tensor *y;
    if (!strcmp(prefix, "matmul"))
        y = lt_matmul(c, in[0], in[1]);
    else if (!strncmp(prefix, "linear", 6))
        y = lt_linear(c, in[0], in[1], in[2]);
    else
        y = lt_bmm(c, in[0], in[1], ta, tb);
    LT_CHECK_OK(y);
    if (!y)
        return;
    snprintf(key, sizeof key, "%s.y", prefix);
    LT_GOLDEN_CHECK(g, key, y->data, y->numel);
    snprintf(key, sizeof key, "%s.r", prefix);
    lt_tensor *r = lt_golden_tensor(c, g, key, false);
    LT_CHECK(r && lt_backward_with(c, y, r->data) == LT_OK, "%s backward: %s",
             prefix, lt_last_error());
    for (int i = 0; i < n_in; i++) {
        snprintf(key, sizeof key, "%s.d%s", prefix, names[i]);
        LT_GOLDEN_CHECK(g, key, in[i]->grad, in[i]->numel);
    }
}

LT_TEST(matmul_golden)
{
    lt_golden *g = lt_golden_load("matmul.bin");
    lt_ctx *c = lt_ctx_new(1 << 22);
    static const char *const ab[] = {"a", "b"}, *const xwb[] = {"x", "w", "b"};
    golden_case(c, g, "matmul", 2, ab, 0, 0);
    golden_case(c, g, "linear", 3, xwb, 0, 0);
    golden_case(c, g, "linear_nobias", 2, xwb, 0, 0);
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            char p[32];
            snprintf(p, sizeof p, "bmm%d%d", ta, tb);
            golden_case(c, g, p, 2, ab, ta, tb);
        }
    lt_ctx_free(c);
    lt_golden_free(g);
}

/* ---- both batching strategies of lt_bmm ------------------------------------ */

static void naive_bmm(const float *a, const float *b, float *y, int64_t nb,
                      int64_t m, int64_t k, int64_t n)
{
    for (int64_t t = 0; t < nb; t++)
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                double s = 0;
                for (int64_t l = 0; l < k; l++)
                    s += (double)a[(t * m + i) * k + l] *
                         b[(t * k + l) * n + j];
                y[(t * m + i) * n + j] = (float)s;
            }
}

static void bmm_vs_naive(int64_t nb, int64_t m, int64_t k, int64_t n)
{
    lt_ctx *c = lt_ctx_new((size_t)64 << 20);
    lt_tensor *a = lt_new3(c, nb, m, k), *b = lt_new3(c, nb, k, n);
    lt_tensor *want = lt_new3(c, nb, m, n);
    lt_rng r;
    lt_rng_init(&r, 99);
    lt_rng_fill_uniform(&r, a->data, a->numel, -1, 1);
    lt_rng_fill_uniform(&r, b->data, b->numel, -1, 1);
    naive_bmm(a->data, b->data, want->data, nb, m, k, n);
    lt_tensor *y = lt_bmm(c, a, b, false, false);
    LT_CHECK_OK(y);
    if (y)
        LT_CHECK_CLOSE("bmm", y->data, want->data, y->numel, 1e-4);
    lt_ctx_free(c);
}

LT_TEST(bmm_many_small_and_few_large)
{
    bmm_vs_naive(64, 5, 7, 3);      /* OpenMP over the batch */
    bmm_vs_naive(2, 140, 150, 130); /* BLAS threads each product */
}

/* ---- errors and modes ------------------------------------------------------- */

LT_TEST(matmul_errors)
{
    lt_ctx *c = lt_ctx_new(1 << 20);
    lt_tensor *a = lt_new2(c, 3, 4), *b = lt_new2(c, 5, 2);
    LT_CHECK(lt_matmul(c, a, b) == NULL && lt_last_status() == LT_ERR_SHAPE,
             "matmul inner mismatch accepted");
    LT_CHECK(strstr(lt_last_error(), "matmul") &&
                 strstr(lt_last_error(), "[3, 4]") &&
                 strstr(lt_last_error(), "[5, 2]"),
             "message: %s", lt_last_error());
    LT_CHECK(lt_matmul(c, lt_new3(c, 1, 3, 4), lt_new2(c, 4, 2)) == NULL &&
                 lt_last_status() == LT_ERR_SHAPE, "3-D matmul accepted");

    lt_tensor *x = lt_new3(c, 2, 3, 4), *w = lt_new2(c, 6, 5);
    LT_CHECK(lt_linear(c, x, w, NULL) == NULL &&
                 lt_last_status() == LT_ERR_SHAPE &&
                 strstr(lt_last_error(), "linear"),
             "linear inner mismatch: %s", lt_last_error());
    LT_CHECK(lt_linear(c, x, lt_new2(c, 6, 4), lt_new1(c, 5)) == NULL &&
                 lt_last_status() == LT_ERR_SHAPE,
             "linear bad bias accepted");

    lt_tensor *ba = lt_new3(c, 2, 3, 4), *bb = lt_new3(c, 2, 5, 6);
    LT_CHECK(lt_bmm(c, ba, bb, false, false) == NULL &&
                 lt_last_status() == LT_ERR_SHAPE &&
                 strstr(lt_last_error(), "bmm"),
             "bmm inner mismatch: %s", lt_last_error());
    LT_CHECK(lt_bmm(c, ba, lt_new3(c, 3, 4, 2), false, false) == NULL &&
                 lt_last_status() == LT_ERR_SHAPE,
             "bmm leading mismatch accepted");
    LT_CHECK(lt_bmm(c, lt_new2(c, 3, 4), lt_new2(c, 4, 2), false, false) ==
                     NULL && lt_last_status() == LT_ERR_SHAPE,
             "2-D bmm accepted");
    LT_CHECK(lt_bmm(c, ba, lt_new3(c, 2, 5, 4), false, true) != NULL,
             "bmm trans_b rejected: %s", lt_last_error());

    lt_clear_error();
    LT_CHECK(lt_matmul(c, NULL, b) == NULL && lt_last_status() == LT_OK,
             "NULL input set an error");
    LT_CHECK(lt_linear(c, NULL, w, NULL) == NULL && lt_bmm(c, ba, NULL, 0, 0)
             == NULL && lt_last_status() == LT_OK, "NULL input");
    lt_ctx_free(c);
}

LT_TEST(matmul_no_grad_records_nothing)
{
    lt_ctx *c = lt_ctx_new(1 << 20);
    lt_tensor *a = lt_requires_grad(lt_zeros(c, 2, (int64_t[]){3, 4}));
    lt_tensor *w = lt_zeros(c, 2, (int64_t[]){5, 4});
    lt_set_grad_enabled(c, false);
    lt_tensor *y = lt_linear(c, a, w, NULL);
    LT_CHECK(y && !y->node && !(y->flags & LT_REQUIRES_GRAD), "recorded");
    lt_set_grad_enabled(c, true);
    y = lt_linear(c, a, w, NULL);
    LT_CHECK(y && y->node, "not recorded");
    lt_ctx_free(c);
}

LT_TEST_MAIN()
