/*
 * test_softmax.c - tests of lt_softmax and lt_log_softmax: finite
 * differences on the row path (last axis) and the tiled column path (inner
 * axis, two tiles), PyTorch goldens over every axis, numerical stability,
 * NaN propagation and argument errors.
 */
#include "lt_test.h"

#include <math.h>
#include <string.h>

typedef struct {
    bool lg;
    int axis;
} sm_case;

static lt_tensor *gc_sm(lt_ctx *c, lt_tensor **in, void *ud)
{
    const sm_case *s = ud;
    return s->lg ? lt_log_softmax(c, in[0], s->axis)
                 : lt_softmax(c, in[0], s->axis);
}

LT_TEST(softmax_gradcheck)
{
    struct {
        int ndim;
        int64_t shape[3];
        int axis;
    } cases[] = {{2, {4, 7}, -1},     {2, {4, 7}, 0},    {2, {3, 37}, -1},
                 {3, {2, 3, 70}, 1},  {3, {3, 2, 5}, 0}, {3, {3, 2, 5}, 2}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lt_tensor *x = lt_gc_input(cases[i].ndim, cases[i].shape, true,
                                   100 + i, -3, 3);
        for (int lg = 0; lg < 2; lg++) {
            sm_case s = {lg != 0, cases[i].axis};
            char what[64];
            snprintf(what, sizeof what, "%s case %zu",
                     lg ? "log_softmax" : "softmax", i);
            LT_GRADCHECK(what, gc_sm, &s, 1, &x, 1e-2, 1e-2);
        }
        lt_gc_input_free(x);
    }
}

static void golden_case(lt_ctx *c, const lt_golden *g, const char *fn,
                        const char *tag, int axis)
{
    char key[96], name[128];
    snprintf(key, sizeof key, "%s.%s.a%d", fn, tag, axis);
    snprintf(name, sizeof name, "%s.x", tag);
    lt_tensor *x = lt_golden_tensor(c, g, name, true);
    lt_tensor *y = fn[0] == 'l' ? lt_log_softmax(c, x, axis)
                                : lt_softmax(c, x, axis);
    LT_CHECK_OK(y);
    if (!y)
        return;
    snprintf(name, sizeof name, "%s.y", key);
    LT_GOLDEN_CHECK(g, name, y->data, y->numel);
    snprintf(name, sizeof name, "%s.r", key);
    lt_tensor *r = lt_golden_tensor(c, g, name, false);
    LT_CHECK(r && lt_backward_with(c, y, r->data) == LT_OK, "%s: %s", key,
             lt_last_error());
    snprintf(name, sizeof name, "%s.gx", key);
    if (x->grad)
        LT_GOLDEN_CHECK(g, name, x->grad, x->numel);
}

LT_TEST(softmax_golden)
{
    lt_golden *g = lt_golden_load("softmax.bin");
    if (!g)
        return;
    lt_ctx *c = lt_ctx_new(1 << 22);
    const char *fns[2] = {"softmax", "log_softmax"};
    for (int f = 0; f < 2; f++) {
        int axes3[] = {0, 1, 2, -1};
        for (int i = 0; i < 4; i++)
            golden_case(c, g, fns[f], "3d", axes3[i]);
        golden_case(c, g, fns[f], "wide", 1);
        golden_case(c, g, fns[f], "2d", 1);
        golden_case(c, g, fns[f], "2d", 0);
        lt_ctx_reset(c);
    }
    lt_ctx_free(c);
    lt_golden_free(g);
}

LT_TEST(softmax_is_stable_and_propagates_nan)
{
    lt_ctx *c = lt_ctx_new(1 << 16);
    /* Huge logits: max subtraction keeps the result finite. */
    lt_tensor *x = lt_from_data(c, 2, (int64_t[]){2, 3},
                                (float[]){1000, 1001, 1002, -1e4f, 0, NAN});
    lt_tensor *y = lt_softmax(c, x, 1), *ly = lt_log_softmax(c, x, 1);
    LT_CHECK_OK(y);
    LT_CHECK_OK(ly);
    if (!y || !ly)
        goto done;
    float e0 = 1.0f / (1.0f + expf(1) + expf(2));
    LT_CHECK(fabsf(y->data[0] - e0) < 1e-6f && isfinite(y->data[2]),
             "softmax of large values: %g %g", y->data[0], y->data[2]);
    LT_CHECK(fabsf(ly->data[0] - logf(e0)) < 2e-4f, "log_softmax %g",
             ly->data[0]);
    for (int i = 3; i < 6; i++)
        LT_CHECK(isnan(y->data[i]) && isnan(ly->data[i]),
                 "NaN row element %d: %g %g", i, y->data[i], ly->data[i]);
    /* Axis 0 keeps the NaN within its column. */
    lt_tensor *y0 = lt_softmax(c, x, 0);
    LT_CHECK(y0 && !isnan(y0->data[0]) && isnan(y0->data[2]) &&
                 isnan(y0->data[5]),
             "axis-0 NaN handling");
done:
    lt_ctx_free(c);
}

/* Above the parallel threshold, 1 and 2 threads give identical results. */
LT_TEST(softmax_thread_count_independent)
{
    lt_ctx *c = lt_ctx_new(1 << 24);
    int64_t sh[3] = {4, 130, 70};
    lt_tensor *x = lt_new(c, 3, sh);
    lt_rng_fill_normal(lt_ctx_rng(c), x->data, x->numel, 0, 3);
    int old = lt_num_threads();
    for (int axis = 1; axis < 3; axis++) {
        lt_set_num_threads(1);
        lt_tensor *a = lt_log_softmax(c, x, axis);
        lt_tensor *s1 = lt_softmax(c, x, axis);
        lt_set_num_threads(2);
        lt_tensor *b = lt_log_softmax(c, x, axis);
        lt_tensor *s2 = lt_softmax(c, x, axis);
        LT_CHECK(a && b && s1 && s2 &&
                     !memcmp(a->data, b->data, x->numel * sizeof(float)) &&
                     !memcmp(s1->data, s2->data, x->numel * sizeof(float)),
                 "axis %d: results depend on the thread count", axis);
    }
    lt_set_num_threads(old);
    lt_ctx_free(c);
}

LT_TEST(softmax_errors)
{
    lt_ctx *c = lt_ctx_new(1 << 16);
    lt_tensor *x = lt_zeros(c, 2, (int64_t[]){2, 3});
    LT_CHECK(lt_softmax(c, x, 2) == NULL && lt_last_status() == LT_ERR_ARG,
             "axis 2 of a 2-D tensor accepted");
    LT_CHECK(strstr(lt_last_error(), "softmax"), "%s", lt_last_error());
    LT_CHECK(lt_log_softmax(c, x, -3) == NULL &&
                 lt_last_status() == LT_ERR_ARG,
             "axis -3 of a 2-D tensor accepted");
    LT_CHECK(strstr(lt_last_error(), "log_softmax"), "%s", lt_last_error());
    lt_set_error(LT_ERR_SHAPE, "earlier");
    LT_CHECK(lt_softmax(c, NULL, 0) == NULL &&
                 lt_last_status() == LT_ERR_SHAPE,
             "NULL input changed the error");
    lt_ctx_free(c);
}

LT_TEST_MAIN()
