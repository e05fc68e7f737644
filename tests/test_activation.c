/*
 * test_activation.c - tests of the activations and unary math ops and of
 * dropout: PyTorch golden values (forward and gradient), finite-difference
 * checks away from kinks, PyTorch's special values (log of 0 and of a
 * negative), and dropout's mask (determinism, thread-count independence,
 * keep rate, scaling, identity in eval mode, argument errors).
 */
#include "lt_test.h"

#include <math.h>
#include <string.h>

typedef lt_tensor *(*unary_fn)(lt_ctx *c, lt_tensor *x);

static lt_tensor *leaky01(lt_ctx *c, lt_tensor *x)
{
    return lt_leaky_relu(c, x, 0.1f);
}

static lt_tensor *affine(lt_ctx *c, lt_tensor *x)
{
    return lt_affine(c, x, 1.5f, -0.25f);
}

/* Input classes for the finite-difference check. */
enum { ANY, KINK, POSITIVE };

static const struct {
    const char *name;
    unary_fn fn;
    int input;
} ops[] = {
    {"relu", lt_relu, KINK},         {"gelu", lt_gelu, ANY},
    {"gelu_tanh", lt_gelu_tanh, ANY}, {"silu", lt_silu, ANY},
    {"selu", lt_selu, KINK},         {"leaky_relu", leaky01, KINK},
    {"sigmoid", lt_sigmoid, ANY},    {"tanh", lt_tanh, ANY},
    {"softplus", lt_softplus, ANY},  {"exp", lt_exp, ANY},
    {"log", lt_log, POSITIVE},       {"abs", lt_abs, KINK},
    {"neg", lt_neg, ANY},            {"sqrt", lt_sqrt, POSITIVE},
    {"affine", affine, ANY},
};
#define N_OPS ((int)(sizeof ops / sizeof ops[0]))

LT_TEST(unary_golden)
{
    lt_golden *g = lt_golden_load("activation.bin");
    lt_ctx *c = lt_ctx_new(1 << 20);
    for (int k = 0; g && k < N_OPS; k++) {
        char nx[64], nr[64], ny[64], ng[64];
        snprintf(nx, sizeof nx, "%s.x", ops[k].name);
        snprintf(nr, sizeof nr, "%s.r", ops[k].name);
        snprintf(ny, sizeof ny, "%s.y", ops[k].name);
        snprintf(ng, sizeof ng, "%s.gx", ops[k].name);
        lt_tensor *x = lt_golden_tensor(c, g, nx, true);
        lt_tensor *r = lt_golden_tensor(c, g, nr, false);
        lt_tensor *y = ops[k].fn(c, x);
        LT_CHECK_OK(y);
        if (!y || !r)
            continue;
        LT_CHECK(lt_same_shape(x, y), "%s: shape changed", ops[k].name);
        LT_GOLDEN_CHECK(g, ny, y->data, y->numel);
        LT_CHECK(lt_backward_with(c, y, r->data) == LT_OK, "%s: %s",
                 ops[k].name, lt_last_error());
        LT_GOLDEN_CHECK(g, ng, x->grad, x->numel);
        lt_ctx_reset(c);
    }
    lt_ctx_free(c);
    lt_golden_free(g);
}

static lt_tensor *gc_unary(lt_ctx *c, lt_tensor **in, void *ud)
{
    return (*(const unary_fn *)ud)(c, in[0]);
}

LT_TEST(unary_gradcheck)
{
    for (int k = 0; k < N_OPS; k++) {
        int64_t shape[2] = {4, 9};
        bool pos = ops[k].input == POSITIVE;
        lt_tensor *x = lt_gc_input(2, shape, true, 100 + (uint64_t)k,
                                   pos ? 0.5f : -3.0f, 3.0f);
        if (ops[k].input == KINK) /* at least 0.1 away from the kink at 0 */
            for (int64_t i = 0; i < x->numel; i++)
                x->data[i] += x->data[i] >= 0 ? 0.1f : -0.1f;
        unary_fn fn = ops[k].fn;
        LT_GRADCHECK(ops[k].name, gc_unary, &fn, 1, &x, 1e-2, 1e-2);
        lt_gc_input_free(x);
    }
}

LT_TEST(softplus_above_threshold_is_linear)
{
    lt_ctx *c = lt_ctx_new(1 << 16);
    lt_tensor *x = lt_requires_grad(
        lt_from_data(c, 1, (int64_t[]){3}, (float[]){20.5f, 25, 2.0f}));
    lt_tensor *y = lt_softplus(c, x);
    LT_CHECK_OK(y);
    LT_CHECK(y->data[0] == 20.5f && y->data[1] == 25.0f, "y %g %g",
             y->data[0], y->data[1]);
    LT_CHECK(fabsf(y->data[2] - 2.1269280f) < 1e-6f, "y %g", y->data[2]);
    LT_CHECK(lt_backward_with(c, y, (float[]){1, 1, 1}) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(x->grad[0] == 1.0f && x->grad[1] == 1.0f &&
                 fabsf(x->grad[2] - 0.8807971f) < 1e-6f,
             "grad %g %g %g", x->grad[0], x->grad[1], x->grad[2]);
    lt_ctx_free(c);
}

LT_TEST(kink_gradients_follow_pytorch)
{
    lt_ctx *c = lt_ctx_new(1 << 16);
    const unary_fn fn[3] = {lt_relu, lt_abs, leaky01};
    const float want[3] = {0.0f, 0.0f, 0.1f};
    for (int k = 0; k < 3; k++) {
        lt_tensor *x = lt_requires_grad(lt_scalar(c, 0.0f));
        lt_tensor *y = fn[k](c, x);
        LT_CHECK(y && lt_backward(c, y) == LT_OK, "%s", lt_last_error());
        LT_CHECK(x->grad && x->grad[0] == want[k], "op %d: grad at 0 = %g", k,
                 x->grad ? x->grad[0] : -1);
        lt_ctx_reset(c);
    }
    lt_ctx_free(c);
}

LT_TEST(log_of_non_positive_is_not_an_error)
{
    lt_ctx *c = lt_ctx_new(1 << 16);
    lt_tensor *x = lt_from_data(c, 1, (int64_t[]){3}, (float[]){0, -1, 1});
    lt_tensor *y = lt_log(c, x);
    LT_CHECK_OK(y);
    LT_CHECK(isinf(y->data[0]) && y->data[0] < 0, "log 0 = %g", y->data[0]);
    LT_CHECK(isnan(y->data[1]), "log -1 = %g", y->data[1]);
    LT_CHECK(y->data[2] == 0.0f, "log 1 = %g", y->data[2]);
    lt_tensor *s = lt_sqrt(c, x);
    LT_CHECK(s && s->data[0] == 0.0f && isnan(s->data[1]), "sqrt");
    lt_ctx_free(c);
}

LT_TEST(unary_null_and_no_grad)
{
    lt_ctx *c = lt_ctx_new(1 << 16);
    lt_set_error(LT_ERR_ARENA, "earlier failure");
    for (int k = 0; k < N_OPS; k++)
        LT_CHECK(ops[k].fn(c, NULL) == NULL, "%s: NULL in", ops[k].name);
    LT_CHECK(lt_dropout(c, NULL, 0.5f, true) == NULL, "dropout: NULL in");
    LT_CHECK(lt_last_status() == LT_ERR_ARENA &&
                 !strcmp(lt_last_error(), "earlier failure"),
             "NULL input changed the error: %s", lt_last_error());
    lt_tensor *x = lt_requires_grad(lt_scalar(c, 1.0f));
    lt_set_grad_enabled(c, false);
    lt_tensor *y = lt_gelu(c, x);
    LT_CHECK(y && !y->node && !(y->flags & LT_REQUIRES_GRAD), "recorded");
    lt_ctx_free(c);
}

/* ---- dropout ------------------------------------------------------------*/

static lt_tensor *ones(lt_ctx *c, int64_t n)
{
    lt_tensor *x = lt_new1(c, n);
    for (int64_t i = 0; x && i < n; i++)
        x->data[i] = 1.0f;
    return x;
}

LT_TEST(dropout_mask_is_deterministic)
{
    const int64_t n = 100000; /* above the parallel threshold */
    lt_ctx *c = lt_ctx_new(8 << 20);
    lt_tensor *x = ones(c, n);
    lt_rng_init(lt_ctx_rng(c), 7);
    lt_tensor *y1 = lt_dropout(c, x, 0.3f, true);
    LT_CHECK(lt_ctx_rng(c)->counter == (uint64_t)n, "counter %llu",
             (unsigned long long)lt_ctx_rng(c)->counter);
    lt_tensor *y2 = lt_dropout(c, x, 0.3f, true);
    int old = lt_num_threads();
    lt_set_num_threads(1);
    lt_rng_init(lt_ctx_rng(c), 7);
    lt_tensor *y3 = lt_dropout(c, x, 0.3f, true);
    lt_set_num_threads(old);
    LT_CHECK(y1 && y2 && y3, "%s", lt_last_error());
    if (y1 && y2 && y3) {
        LT_CHECK(!memcmp(y1->data, y3->data, (size_t)n * sizeof(float)),
                 "same seed, different mask (or thread-count dependent)");
        LT_CHECK(memcmp(y1->data, y2->data, (size_t)n * sizeof(float)),
                 "two draws gave the same mask");
    }
    lt_ctx_free(c);
}

LT_TEST(dropout_keep_rate_and_scale)
{
    const int64_t n = 100000;
    const float ps[3] = {0.1f, 0.5f, 0.9f};
    lt_ctx *c = lt_ctx_new(8 << 20);
    lt_tensor *x = ones(c, n);
    for (int k = 0; k < 3; k++) {
        lt_tensor *y = lt_dropout(c, x, ps[k], true);
        LT_CHECK_OK(y);
        int64_t kept = 0, bad = 0;
        float scale = 1.0f / (1.0f - ps[k]);
        for (int64_t i = 0; y && i < n; i++) {
            kept += y->data[i] != 0;
            bad += y->data[i] != 0 && y->data[i] != scale;
        }
        double frac = (double)kept / (double)n;
        LT_CHECK(fabs(frac - (1.0 - ps[k])) < 0.01, "p %g: kept %g", ps[k],
                 frac);
        LT_CHECK(bad == 0, "p %g: %lld kept values not scaled by 1/(1-p)",
                 ps[k], (long long)bad);
    }
    lt_ctx_free(c);
}

LT_TEST(dropout_identity_in_eval)
{
    lt_ctx *c = lt_ctx_new(1 << 16);
    lt_tensor *x = lt_requires_grad(lt_from_data(c, 1, (int64_t[]){3},
                                                 (float[]){1, -2, 3}));
    uint64_t before = lt_ctx_rng(c)->counter;
    lt_tensor *y = lt_dropout(c, x, 0.5f, false);
    lt_tensor *z = lt_dropout(c, x, 0.0f, true);
    LT_CHECK(y && z, "%s", lt_last_error());
    LT_CHECK(y && y->data[0] == 1 && y->data[1] == -2 && y->data[2] == 3,
             "eval dropout changed values");
    LT_CHECK(z && z->data[1] == -2, "p = 0 changed values");
    LT_CHECK(lt_ctx_rng(c)->counter == before, "eval dropout used the RNG");
    /* The gradient passes unchanged. */
    LT_CHECK(lt_backward_with(c, y, (float[]){1, 2, 3}) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(x->grad && x->grad[1] == 2, "grad");
    lt_ctx_free(c);
}

static lt_tensor *gc_dropout(lt_ctx *c, lt_tensor **in, void *ud)
{
    (void)ud;
    lt_rng_init(lt_ctx_rng(c), 99); /* the same mask at every evaluation */
    return lt_dropout(c, in[0], 0.4f, true);
}

LT_TEST(dropout_gradcheck)
{
    lt_tensor *x = lt_gc_input(2, (int64_t[]){6, 7}, true, 5, -2, 2);
    LT_GRADCHECK("dropout", gc_dropout, NULL, 1, &x, 1e-2, 1e-2);
    /* and the gradient is exactly mask * scale * r */
    lt_ctx *c = lt_ctx_new(1 << 20);
    lt_tensor *y = gc_dropout(c, &x, NULL);
    float r[42];
    for (int i = 0; i < 42; i++)
        r[i] = (float)(i % 5) - 2.0f;
    memset(x->grad, 0, 42 * sizeof(float));
    LT_CHECK(y && lt_backward_with(c, y, r) == LT_OK, "%s", lt_last_error());
    int bad = 0;
    for (int i = 0; y && i < 42; i++) {
        float want = y->data[i] != 0 ? r[i] / 0.6f : 0.0f;
        bad += fabsf(x->grad[i] - want) > 1e-6f;
    }
    LT_CHECK(bad == 0, "%d gradient elements differ from mask * r / (1-p)",
             bad);
    lt_ctx_free(c);
    lt_gc_input_free(x);
}

LT_TEST(dropout_bad_p)
{
    lt_ctx *c = lt_ctx_new(1 << 16);
    lt_tensor *x = lt_scalar(c, 1.0f);
    const float bad[4] = {1.0f, -0.1f, 1.5f, NAN};
    for (int k = 0; k < 4; k++) {
        lt_clear_error();
        LT_CHECK(lt_dropout(c, x, bad[k], true) == NULL, "p %g accepted",
                 bad[k]);
        LT_CHECK(lt_last_status() == LT_ERR_ARG, "p %g: status %d", bad[k],
                 (int)lt_last_status());
        LT_CHECK(strstr(lt_last_error(), "dropout"), "message: %s",
                 lt_last_error());
        LT_CHECK(lt_dropout(c, x, bad[k], false) == NULL,
                 "p %g accepted in eval mode", bad[k]);
    }
    lt_ctx_free(c);
}

LT_TEST_MAIN()
