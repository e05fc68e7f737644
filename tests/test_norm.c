/*
 * test_norm.c - tests of the normalisation ops (batch, group, layer and RMS
 * norm): finite-difference gradient checks (batch norm in train and eval
 * modes), PyTorch golden values (outputs, gradients, running-stat updates),
 * error cases, no-grad behaviour and thread-count independence.
 */
#include "lt_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef enum { K_BN, K_GN, K_LN, K_RMS } norm_kind;

typedef struct {
    norm_kind kind;
    bool training; /* batch norm */
    int groups;    /* group norm */
    float eps;
} norm_cfg;

/* in: x, gamma, beta, running_mean, running_var (any may be NULL). */
static lt_tensor *run_norm(lt_ctx *c, const norm_cfg *k, lt_tensor **in)
{
    switch (k->kind) {
    case K_BN:
        return lt_batch_norm(c, in[0], in[1], in[2], in[3], in[4],
                             k->training, 0.1f, k->eps);
    case K_GN:
        return lt_group_norm(c, in[0], k->groups, in[1], in[2], k->eps);
    case K_LN:
        return lt_layer_norm(c, in[0], in[1], in[2], k->eps);
    case K_RMS:
        return lt_rms_norm(c, in[0], in[1], k->eps);
    }
    return NULL;
}

/* The checker needs a dense input list: slot[i] is the run_norm position
 * of the checker's input i. */
typedef struct {
    norm_cfg k;
    int n, slot[5];
} gc_cfg;

static lt_tensor *gc_norm(lt_ctx *c, lt_tensor **in, void *ud)
{
    const gc_cfg *g = ud;
    lt_tensor *all[5] = {NULL, NULL, NULL, NULL, NULL};
    for (int i = 0; i < g->n; i++)
        all[g->slot[i]] = in[i];
    return run_norm(c, &g->k, all);
}

/* Gradient check of x (and gamma, beta when affine) for one config; batch
 * norm also gets running stats (no gradient). */
static void gradcheck_norm(const char *what, norm_cfg k, int ndim,
                           const int64_t *shape, int64_t C, bool affine,
                           double eps, double tol)
{
    gc_cfg g = {k, 0, {0}};
    lt_tensor *in[5];
    bool use[5] = {true, affine, affine && k.kind != K_RMS, k.kind == K_BN,
                   k.kind == K_BN};
    const float lo[5] = {-2.0f, 0.5f, -1.0f, -0.3f, 0.5f};
    const float hi[5] = {2.0f, 1.5f, 1.0f, 0.3f, 1.5f};
    for (int s = 0; s < 5; s++)
        if (use[s]) {
            in[g.n] = s ? lt_gc_input(1, &C, s < 3, 12 + s, lo[s], hi[s])
                        : lt_gc_input(ndim, shape, true, 11, lo[0], hi[0]);
            g.slot[g.n++] = s;
        }
    LT_CHECK(LT_GRADCHECK(what, gc_norm, &g, g.n, in, eps, tol),
             "%s: gradient check failed", what);
    for (int i = 0; i < g.n; i++)
        lt_gc_input_free(in[i]);
}

LT_TEST(batch_norm_gradcheck)
{
    norm_cfg tr = {K_BN, true, 0, 1e-5f}, ev = {K_BN, false, 0, 1e-5f};
    int64_t s4[4] = {4, 3, 2, 3}, s2[2] = {6, 4}, s3[3] = {3, 2, 5};
    gradcheck_norm("bn train 4d", tr, 4, s4, 3, true, 1e-2, 1e-2);
    gradcheck_norm("bn train 2d", tr, 2, s2, 4, true, 1e-2, 1e-2);
    gradcheck_norm("bn train 3d no affine", tr, 3, s3, 2, false, 1e-2, 1e-2);
    gradcheck_norm("bn eval 4d", ev, 4, s4, 3, true, 1e-2, 1e-2);
    gradcheck_norm("bn eval 2d", ev, 2, s2, 4, true, 1e-2, 1e-2);
    gradcheck_norm("bn eval no affine", ev, 3, s3, 2, false, 1e-2, 1e-2);
}

LT_TEST(group_layer_rms_gradcheck)
{
    norm_cfg gn = {K_GN, false, 3, 1e-5f}, ln = {K_LN, false, 0, 1e-5f};
    norm_cfg rms = {K_RMS, false, 0, 1e-6f};
    int64_t sg[4] = {2, 6, 2, 3}, sg2[2] = {3, 8}, sl[3] = {3, 2, 7};
    int64_t sr[2] = {4, 9};
    gradcheck_norm("group_norm", gn, 4, sg, 6, true, 1e-2, 1e-2);
    gn.groups = 2;
    gradcheck_norm("group_norm 2d", gn, 2, sg2, 8, false, 1e-2, 1e-2);
    gradcheck_norm("group_norm 2d affine", gn, 2, (int64_t[]){3, 6}, 6, true,
                   1e-2, 1e-2);
    gradcheck_norm("layer_norm", ln, 3, sl, 7, true, 1e-2, 1e-2);
    gradcheck_norm("layer_norm no affine", ln, 3, sl, 7, false, 1e-2, 1e-2);
    gradcheck_norm("rms_norm", rms, 2, sr, 9, true, 1e-2, 1e-2);
    gradcheck_norm("rms_norm no gamma", rms, 3, sl, 7, false, 1e-2, 1e-2);
}

/* ---- golden -------------------------------------------------------------- */

static const char *nm(const char *p, const char *s)
{
    static char buf[128];
    snprintf(buf, sizeof buf, "%s.%s", p, s);
    return buf;
}

static void check_grad(const lt_golden *g, const char *p, const char *s,
                       const lt_tensor *t)
{
    LT_CHECK(t->grad != NULL, "%s.%s: no gradient", p, s);
    if (t->grad)
        LT_GOLDEN_CHECK(g, nm(p, s), t->grad, t->numel);
}

static void golden_case(const lt_golden *g, const char *p, norm_cfg k,
                        bool affine)
{
    lt_ctx *c = lt_ctx_new((size_t)16 << 20);
    lt_tensor *in[5] = {NULL, NULL, NULL, NULL, NULL};
    in[0] = lt_golden_tensor(c, g, nm(p, "x"), true);
    if (affine) {
        in[1] = lt_golden_tensor(c, g, nm(p, "gamma"), true);
        if (k.kind != K_RMS)
            in[2] = lt_golden_tensor(c, g, nm(p, "beta"), true);
    }
    if (k.kind == K_BN) {
        in[3] = lt_golden_tensor(c, g, nm(p, "rm"), false);
        in[4] = lt_golden_tensor(c, g, nm(p, "rv"), false);
    }
    lt_tensor *y = run_norm(c, &k, in);
    LT_CHECK_OK(y);
    if (!y || !in[0]) {
        lt_ctx_free(c);
        return;
    }
    LT_GOLDEN_CHECK(g, nm(p, "y"), y->data, y->numel);
    if (k.kind == K_BN) {
        LT_GOLDEN_CHECK(g, nm(p, "rm_new"), in[3]->data, in[3]->numel);
        LT_GOLDEN_CHECK(g, nm(p, "rv_new"), in[4]->data, in[4]->numel);
    }
    lt_tensor *r = lt_golden_tensor(c, g, nm(p, "r"), false);
    LT_CHECK(r && lt_backward_with(c, y, r->data) == LT_OK, "%s: backward: "
             "%s", p, lt_last_error());
    check_grad(g, p, "gx", in[0]);
    if (in[1])
        check_grad(g, p, "ggamma", in[1]);
    if (in[2])
        check_grad(g, p, "gbeta", in[2]);
    lt_ctx_free(c);
}

LT_TEST(golden_pytorch)
{
    lt_golden *g = lt_golden_load("norm.bin");
    if (!g)
        return;
    norm_cfg tr = {K_BN, true, 0, 1e-5f}, ev = {K_BN, false, 0, 1e-5f};
    golden_case(g, "bn4", tr, true);
    golden_case(g, "bn2", tr, true);
    golden_case(g, "bn4e", ev, true);
    golden_case(g, "bn2e", ev, true);
    golden_case(g, "bn3n", tr, false);
    norm_cfg gn = {K_GN, false, 3, 1e-5f};
    golden_case(g, "gn", gn, true);
    gn.groups = 4;
    golden_case(g, "gnn", gn, false);
    norm_cfg ln = {K_LN, false, 0, 1e-5f};
    golden_case(g, "ln", ln, true);
    golden_case(g, "lnn", ln, false);
    norm_cfg rms = {K_RMS, false, 0, 1e-6f};
    golden_case(g, "rms", rms, true);
    golden_case(g, "rmsn", rms, false);
    lt_golden_free(g);
}

/* ---- errors -------------------------------------------------------------- */

static void expect_err(lt_tensor *y, lt_status want, const char *op,
                       const char *what)
{
    LT_CHECK(y == NULL, "%s: accepted", what);
    LT_CHECK(lt_last_status() == want, "%s: status %s, want %s", what,
             lt_status_name(lt_last_status()), lt_status_name(want));
    LT_CHECK(strstr(lt_last_error(), op) != NULL, "%s: message '%s' does not "
             "name %s", what, lt_last_error(), op);
}

LT_TEST(error_cases)
{
    lt_ctx *c = lt_ctx_new(1 << 20);
    lt_tensor *x = lt_zeros(c, 4, (int64_t[]){2, 6, 3, 3});
    lt_tensor *g6 = lt_zeros(c, 1, (int64_t[]){6});
    lt_tensor *g5 = lt_zeros(c, 1, (int64_t[]){5});
    lt_tensor *g3 = lt_zeros(c, 1, (int64_t[]){3});
    expect_err(lt_batch_norm(c, x, g5, g6, NULL, NULL, true, 0.1f, 1e-5f),
               LT_ERR_SHAPE, "batch_norm", "bn gamma [5] for C=6");
    expect_err(lt_batch_norm(c, x, g6, g6, g5, g6, true, 0.1f, 1e-5f),
               LT_ERR_SHAPE, "batch_norm", "bn running_mean [5]");
    expect_err(lt_batch_norm(c, x, g6, g6, NULL, NULL, false, 0.1f, 1e-5f),
               LT_ERR_ARG, "batch_norm", "bn eval without running stats");
    expect_err(lt_batch_norm(c, x, NULL, NULL, g6, NULL, false, 0.1f, 1e-5f),
               LT_ERR_ARG, "batch_norm", "bn eval without running_var");
    lt_tensor *one = lt_zeros(c, 2, (int64_t[]){1, 6});
    expect_err(lt_batch_norm(c, one, NULL, NULL, NULL, NULL, true, 0.1f,
                             1e-5f),
               LT_ERR_SHAPE, "batch_norm", "bn train with one value/channel");
    LT_CHECK(lt_batch_norm(c, one, NULL, NULL, g6, g6, false, 0.1f, 1e-5f),
             "bn eval with batch 1 rejected: %s", lt_last_error());
    lt_tensor *v = lt_zeros(c, 1, (int64_t[]){6});
    expect_err(lt_batch_norm(c, v, NULL, NULL, NULL, NULL, true, 0.1f, 1e-5f),
               LT_ERR_SHAPE, "batch_norm", "bn 1-d input");
    expect_err(lt_group_norm(c, x, 4, NULL, NULL, 1e-5f), LT_ERR_SHAPE,
               "group_norm", "gn 6 channels in 4 groups");
    expect_err(lt_group_norm(c, x, 0, NULL, NULL, 1e-5f), LT_ERR_ARG,
               "group_norm", "gn 0 groups");
    expect_err(lt_group_norm(c, x, 3, g3, NULL, 1e-5f), LT_ERR_SHAPE,
               "group_norm", "gn gamma [3] for C=6");
    expect_err(lt_layer_norm(c, x, g6, NULL, 1e-5f), LT_ERR_SHAPE,
               "layer_norm", "ln gamma [6] for D=3");
    expect_err(lt_layer_norm(c, x, NULL, g6, 1e-5f), LT_ERR_SHAPE,
               "layer_norm", "ln beta [6] for D=3");
    expect_err(lt_rms_norm(c, x, g5, 1e-6f), LT_ERR_SHAPE, "rms_norm",
               "rms gamma [5] for D=3");
    /* NULL in, NULL out, message untouched. */
    lt_set_error(LT_ERR_ARENA, "earlier failure");
    LT_CHECK(!lt_batch_norm(c, NULL, g6, g6, g6, g6, true, 0.1f, 1e-5f) &&
                 !lt_group_norm(c, NULL, 2, NULL, NULL, 1e-5f) &&
                 !lt_layer_norm(c, NULL, NULL, NULL, 1e-5f) &&
                 !lt_rms_norm(c, NULL, NULL, 1e-6f),
             "NULL input gave a tensor");
    LT_CHECK(lt_last_status() == LT_ERR_ARENA &&
                 !strcmp(lt_last_error(), "earlier failure"),
             "NULL input changed the error: %s", lt_last_error());
    lt_ctx_free(c);
}

/* ---- behaviour ----------------------------------------------------------- */

LT_TEST(batch_norm_running_stats_without_grad)
{
    lt_ctx *c = lt_ctx_new(1 << 20);
    float xd[8] = {1, 10, 3, 20, 5, 30, 7, 40}; /* [4, 2] */
    lt_tensor *x = lt_from_data(c, 2, (int64_t[]){4, 2}, xd);
    lt_tensor *rm = lt_zeros(c, 1, (int64_t[]){2});
    lt_tensor *rv = lt_from_data(c, 1, (int64_t[]){2}, (float[]){1, 1});
    lt_set_grad_enabled(c, false);
    lt_tensor *y = lt_batch_norm(c, x, NULL, NULL, rm, rv, true, 0.5f, 0);
    lt_set_grad_enabled(c, true);
    LT_CHECK_OK(y);
    LT_CHECK(y && y->node == NULL, "no-grad output recorded");
    /* channel 0: mean 4, unbiased var 20/3; channel 1: mean 25, var 500/3 */
    LT_CHECK(fabsf(rm->data[0] - 2.0f) < 1e-5f &&
                 fabsf(rm->data[1] - 12.5f) < 1e-5f,
             "running mean %g %g", rm->data[0], rm->data[1]);
    LT_CHECK(fabsf(rv->data[0] - (0.5f + 10.0f / 3)) < 1e-5f &&
                 fabsf(rv->data[1] - (0.5f + 250.0f / 3)) < 1e-4f,
             "running var %g %g", rv->data[0], rv->data[1]);
    /* normalised with the biased variance: (1-4)/sqrt(5) */
    LT_CHECK(y && fabsf(y->data[0] + 3.0f / sqrtf(5.0f)) < 1e-5f, "y[0] %g",
             y ? y->data[0] : 0);
    lt_ctx_free(c);
}

/* Output and all gradients of one op at a thread count. */
static void run_threads(norm_cfg k, lt_tensor **in, int threads, float *out,
                        float *grads, int64_t ny)
{
    lt_set_num_threads(threads);
    lt_ctx *c = lt_ctx_new((size_t)64 << 20);
    for (int i = 0; i < 3; i++)
        if (in[i])
            memset(in[i]->grad, 0, (size_t)in[i]->numel * sizeof(float));
    lt_tensor *y = run_norm(c, &k, in);
    LT_CHECK_OK(y);
    if (y) {
        memcpy(out, y->data, (size_t)ny * sizeof(float));
        lt_backward_with(c, y, in[0]->data); /* any fixed upstream gradient */
    }
    int64_t off = 0;
    for (int i = 0; i < 3; i++)
        if (in[i]) {
            memcpy(grads + off, in[i]->grad,
                   (size_t)in[i]->numel * sizeof(float));
            off += in[i]->numel;
        }
    lt_ctx_free(c);
}

static void thread_case(const char *what, norm_cfg k, int ndim,
                        const int64_t *shape, int64_t C)
{
    lt_tensor *in[5] = {NULL, NULL, NULL, NULL, NULL};
    in[0] = lt_gc_input(ndim, shape, true, 21, -3.0f, 3.0f);
    in[1] = lt_gc_input(1, &C, true, 22, 0.5f, 1.5f);
    if (k.kind != K_RMS)
        in[2] = lt_gc_input(1, &C, true, 23, -1.0f, 1.0f);
    int64_t ny = in[0]->numel, ng = ny + 2 * C;
    float *y1 = malloc((size_t)ny * 4), *y2 = malloc((size_t)ny * 4);
    float *g1 = calloc((size_t)ng, 4), *g2 = calloc((size_t)ng, 4);
    int old = lt_num_threads();
    run_threads(k, in, 1, y1, g1, ny);
    run_threads(k, in, 2, y2, g2, ny);
    lt_set_num_threads(old);
    LT_CHECK(!memcmp(y1, y2, (size_t)ny * 4) && !memcmp(g1, g2, (size_t)ng * 4),
             "%s: results depend on the thread count", what);
    free(y1);
    free(y2);
    free(g1);
    free(g2);
    for (int i = 0; i < 3; i++)
        lt_gc_input_free(in[i]);
}

LT_TEST(results_do_not_depend_on_threads)
{
    int64_t s4[4] = {4, 8, 32, 40}, s2[2] = {256, 160};
    thread_case("batch_norm", (norm_cfg){K_BN, true, 0, 1e-5f}, 4, s4, 8);
    thread_case("group_norm", (norm_cfg){K_GN, false, 4, 1e-5f}, 4, s4, 8);
    thread_case("layer_norm", (norm_cfg){K_LN, false, 0, 1e-5f}, 2, s2, 160);
    thread_case("rms_norm", (norm_cfg){K_RMS, false, 0, 1e-6f}, 2, s2, 160);
}

LT_TEST_MAIN()
