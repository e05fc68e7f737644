/*
 * test_reduce.c - tests of sum, mean and max over an axis and of sum_all /
 * mean_all: PyTorch golden values over every axis with and without
 * keepdim, finite-difference checks, ties and NaN in max, large inputs
 * (parallel paths, thread-count independence) and axis errors.
 */
#include "lt_test.h"

#include <math.h>
#include <string.h>

typedef lt_tensor *(*axis_fn)(lt_ctx *c, lt_tensor *x, int axis, bool keep);

static const struct {
    const char *name;
    axis_fn fn;
} ops[] = {{"sum", lt_sum}, {"mean", lt_mean}, {"max", lt_max}};

static bool shape_is(const lt_tensor *t, const lt_golden_entry *e)
{
    if (!t || !e || t->ndim != e->ndim)
        return false;
    return !memcmp(t->shape, e->shape, (size_t)t->ndim * sizeof(int64_t));
}

typedef struct {
    axis_fn fn; /* NULL: all */
    int axis;
    bool keep;
    bool mean;
} rcase;

static lt_tensor *run_case(lt_ctx *c, lt_tensor *x, const rcase *rc)
{
    if (rc->fn)
        return rc->fn(c, x, rc->axis, rc->keep);
    return rc->mean ? lt_mean_all(c, x) : lt_sum_all(c, x);
}

static void golden_case(lt_ctx *c, const lt_golden *g, const char *p,
                        const rcase *rc)
{
    char n[96];
#define NAME(s) (snprintf(n, sizeof n, "%s.%s", p, s), n)
    lt_tensor *x = lt_golden_tensor(c, g, NAME("x"), true);
    lt_tensor *r = lt_golden_tensor(c, g, NAME("r"), false);
    lt_tensor *y = run_case(c, x, rc);
    LT_CHECK(y != NULL, "%s: %s", p, lt_last_error());
    if (!y || !r)
        return;
    LT_CHECK(shape_is(y, lt_golden_get(g, NAME("y"))), "%s: output shape", p);
    LT_GOLDEN_CHECK(g, NAME("y"), y->data, y->numel);
    LT_CHECK(lt_backward_with(c, y, r->data) == LT_OK, "%s: %s", p,
             lt_last_error());
    LT_GOLDEN_CHECK(g, NAME("gx"), x->grad, x->numel);
#undef NAME
}

LT_TEST(reduce_golden)
{
    lt_golden *g = lt_golden_load("reduce.bin");
    lt_ctx *c = lt_ctx_new(1 << 20);
    const int axes[5] = {0, 1, 2, -1, -3};
    char p[64];
    for (int k = 0; g && k < 3; k++) {
        for (int a = 0; a < 5; a++)
            for (int keep = 0; keep < 2; keep++) {
                rcase rc = {ops[k].fn, axes[a], keep, false};
                snprintf(p, sizeof p, "%s.ax%d.k%d", ops[k].name, axes[a],
                         keep);
                golden_case(c, g, p, &rc);
                lt_ctx_reset(c);
            }
        rcase wide = {ops[k].fn, 1, false, false}, vec = {ops[k].fn, 0, false,
                                                          false};
        snprintf(p, sizeof p, "%s.wide", ops[k].name);
        golden_case(c, g, p, &wide);
        snprintf(p, sizeof p, "%s.vec", ops[k].name);
        golden_case(c, g, p, &vec);
        lt_ctx_reset(c);
    }
    rcase sum_all = {NULL, 0, false, false}, mean_all = {NULL, 0, false, true};
    if (g) {
        golden_case(c, g, "sum_all", &sum_all);
        golden_case(c, g, "mean_all", &mean_all);
    }
    lt_ctx_free(c);
    lt_golden_free(g);
}

/* ---- finite differences ------------------------------------------------- */

static lt_tensor *gc_reduce(lt_ctx *c, lt_tensor **in, void *ud)
{
    return run_case(c, in[0], ud);
}

/* Distinct values 0.1 apart (a permutation), so max has no near-ties. */
static lt_tensor *distinct_input(int nd, const int64_t *shape)
{
    lt_tensor *x = lt_gc_input(nd, shape, true, 1, 0, 1);
    for (int64_t i = 0; i < x->numel; i++)
        x->data[i] = 0.1f * (float)((i * 37) % x->numel) - 2.0f;
    return x;
}

LT_TEST(reduce_gradcheck)
{
    lt_tensor *x = distinct_input(3, (int64_t[]){3, 4, 5});
    char what[64];
    for (int k = 0; k < 3; k++)
        for (int axis = -3; axis < 3; axis++)
            for (int keep = 0; keep < 2; keep++) {
                rcase rc = {ops[k].fn, axis, keep, false};
                snprintf(what, sizeof what, "%s axis %d keep %d", ops[k].name,
                         axis, keep);
                LT_GRADCHECK(what, gc_reduce, &rc, 1, &x, 1e-2, 1e-2);
            }
    for (int mean = 0; mean < 2; mean++) {
        rcase rc = {NULL, 0, false, mean};
        LT_GRADCHECK(mean ? "mean_all" : "sum_all", gc_reduce, &rc, 1, &x,
                     1e-2, 1e-2);
    }
    lt_gc_input_free(x);
}

LT_TEST(max_ties_and_nan)
{
    lt_ctx *c = lt_ctx_new(1 << 16);
    lt_tensor *x = lt_requires_grad(lt_from_data(
        c, 2, (int64_t[]){2, 4}, (float[]){1, 3, 3, 2, 5, 5, 5, 5}));
    lt_tensor *y = lt_max(c, x, 1, false);
    LT_CHECK(y && y->ndim == 1 && y->shape[0] == 2 && y->data[0] == 3 &&
                 y->data[1] == 5,
             "max values");
    LT_CHECK(y && lt_backward_with(c, y, (float[]){1, 2}) == LT_OK, "%s",
             lt_last_error());
    const float want[8] = {0, 1, 0, 0, 2, 0, 0, 0};
    LT_CHECK(x->grad && !memcmp(x->grad, want, sizeof want),
             "gradient not on the first maximum");
    lt_tensor *z = lt_from_data(c, 1, (int64_t[]){3}, (float[]){1, NAN, 2});
    lt_tensor *m = lt_max(c, z, 0, true);
    LT_CHECK(m && m->ndim == 1 && m->shape[0] == 1 && isnan(m->data[0]),
             "max does not propagate NaN");
    lt_ctx_free(c);
}

/* ---- large inputs ------------------------------------------------------- */

static void check_large_axis(int k, int nd, const int64_t *shape, int axis)
{
    lt_ctx *c = lt_ctx_new(64 << 20);
    lt_tensor *x = lt_requires_grad(lt_new(c, nd, shape));
    lt_rng rng;
    lt_rng_init(&rng, 5);
    lt_rng_fill_uniform(&rng, x->data, x->numel, -1, 1);
    lt_tensor *y = ops[k].fn(c, x, axis, false);
    LT_CHECK_OK(y);
    if (!y) {
        lt_ctx_free(c);
        return;
    }
    int64_t outer = 1, n = shape[axis], inner = 1;
    for (int d = 0; d < nd; d++) {
        outer *= d < axis ? shape[d] : 1;
        inner *= d > axis ? shape[d] : 1;
    }
    float *want = lt_alloc(c, (size_t)y->numel * sizeof(float));
    float *gwant = lt_alloc_zero(c, (size_t)x->numel * sizeof(float));
    float *r = lt_alloc(c, (size_t)y->numel * sizeof(float));
    lt_rng_fill_uniform(&rng, r, y->numel, -1, 1);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            double s = 0, best = -INFINITY;
            int64_t arg = 0;
            for (int64_t j = 0; j < n; j++) {
                double v = x->data[(o * n + j) * inner + i];
                s += v;
                if (v > best) {
                    best = v;
                    arg = j;
                }
            }
            int64_t t = o * inner + i;
            want[t] = (float)(k == 0 ? s : k == 1 ? s / n : best);
            for (int64_t j = 0; j < n; j++)
                gwant[(o * n + j) * inner + i] =
                    k == 0 ? r[t] : k == 1 ? r[t] / (float)n
                                           : (j == arg ? r[t] : 0);
        }
    char what[64];
    snprintf(what, sizeof what, "%s axis %d", ops[k].name, axis);
    LT_CHECK_CLOSE(what, y->data, want, y->numel, 1e-5);
    LT_CHECK(lt_backward_with(c, y, r) == LT_OK, "%s", lt_last_error());
    LT_CHECK_CLOSE(what, x->grad, gwant, x->numel, 1e-6);
    lt_ctx_free(c);
}

LT_TEST(reduce_large)
{
    for (int k = 0; k < 3; k++) {
        check_large_axis(k, 2, (int64_t[]){300, 300}, 0);
        check_large_axis(k, 2, (int64_t[]){300, 300}, 1);
        check_large_axis(k, 3, (int64_t[]){20, 50, 70}, 1);
        check_large_axis(k, 1, (int64_t[]){100000}, 0);
    }
}

LT_TEST(sum_all_large_is_thread_independent)
{
    const int64_t n = 200001;
    lt_ctx *c = lt_ctx_new(16 << 20);
    lt_tensor *x = lt_requires_grad(lt_new1(c, n));
    lt_rng rng;
    lt_rng_init(&rng, 9);
    lt_rng_fill_uniform(&rng, x->data, n, -1, 3);
    double want = 0;
    for (int64_t i = 0; i < n; i++)
        want += x->data[i];
    lt_tensor *s = lt_sum_all(c, x), *m = lt_mean_all(c, x);
    int old = lt_num_threads();
    lt_set_num_threads(1);
    lt_tensor *s1 = lt_sum_all(c, x);
    lt_set_num_threads(old);
    LT_CHECK(s && m && s1, "%s", lt_last_error());
    if (!s || !m || !s1) {
        lt_ctx_free(c);
        return;
    }
    LT_CHECK(s->ndim == 1 && s->shape[0] == 1, "sum_all is not [1]");
    LT_CHECK(fabs(s->data[0] - want) <= 1e-6 * fabs(want), "sum %g want %g",
             s->data[0], want);
    LT_CHECK(fabs(m->data[0] - want / n) <= 1e-6 * fabs(want / n),
             "mean %g want %g", m->data[0], want / n);
    LT_CHECK(s1->data[0] == s->data[0], "sum_all depends on the thread count");
    LT_CHECK(lt_backward(c, m) == LT_OK, "%s", lt_last_error());
    LT_CHECK(x->grad && x->grad[0] == 1.0f / n && x->grad[n - 1] == 1.0f / n,
             "mean_all gradient");
    lt_ctx_free(c);
}

LT_TEST(reduce_bad_axis)
{
    lt_ctx *c = lt_ctx_new(1 << 16);
    lt_tensor *x = lt_new3(c, 2, 3, 4);
    const int bad[3] = {3, -4, 100};
    for (int k = 0; k < 3; k++)
        for (int b = 0; b < 3; b++) {
            lt_clear_error();
            LT_CHECK(ops[k].fn(c, x, bad[b], true) == NULL, "%s: axis %d",
                     ops[k].name, bad[b]);
            LT_CHECK(lt_last_status() == LT_ERR_ARG, "%s: status %d",
                     ops[k].name, (int)lt_last_status());
            LT_CHECK(strstr(lt_last_error(), ops[k].name), "message: %s",
                     lt_last_error());
        }
    lt_set_error(LT_ERR_ARENA, "earlier");
    LT_CHECK(lt_sum(c, NULL, 0, false) == NULL && lt_max(c, NULL, 0, true) ==
                 NULL && lt_sum_all(c, NULL) == NULL &&
                 lt_mean_all(c, NULL) == NULL &&
                 lt_last_status() == LT_ERR_ARENA,
             "NULL input");
    lt_ctx_free(c);
}

LT_TEST_MAIN()
