/*
 * test_loss.c - tests of the losses: finite differences for every loss,
 * reduction and differentiable input; PyTorch goldens (F.cross_entropy
 * with labels, probability targets, negative smoothing and
 * label_smoothing; seq_nll via ignore_index; F.mse_loss; F.kl_div); hand
 * checks of smooth_targets; NaN propagation; the label copy; and errors.
 */
#include "lt_test.h"

#include <math.h>
#include <string.h>

static const lt_reduction REDS[3] = {LT_REDUCE_MEAN, LT_REDUCE_SUM,
                                     LT_REDUCE_NONE};
static const char *const RED_NAMES[4] = {"mean", "sum", "none", "batchmean"};

/* ---- finite differences ------------------------------------------------- */

typedef struct {
    lt_reduction r;
    const int32_t *labels;
    int32_t ignore;
} gc_args;

static lt_tensor *gc_ce(lt_ctx *c, lt_tensor **in, void *ud)
{
    const gc_args *a = ud;
    return lt_cross_entropy(c, in[0], a->labels, a->r);
}

static lt_tensor *gc_ces(lt_ctx *c, lt_tensor **in, void *ud)
{
    return lt_cross_entropy_soft(c, in[0], in[1], ((const gc_args *)ud)->r);
}

static lt_tensor *gc_seq(lt_ctx *c, lt_tensor **in, void *ud)
{
    const gc_args *a = ud;
    return lt_seq_nll(c, in[0], a->labels, a->ignore);
}

static lt_tensor *gc_mse(lt_ctx *c, lt_tensor **in, void *ud)
{
    return lt_mse(c, in[0], in[1], ((const gc_args *)ud)->r);
}

static lt_tensor *gc_kl(lt_ctx *c, lt_tensor **in, void *ud)
{
    return lt_kl_div(c, in[0], in[1], ((const gc_args *)ud)->r);
}

LT_TEST(cross_entropy_gradcheck)
{
    int32_t lab[5] = {0, 36, 3, 3, 17};
    lt_tensor *x = lt_gc_input(2, (int64_t[]){5, 37}, true, 1, -3, 3);
    /* soft targets with negative entries (up to -0.3), both need a grad */
    lt_tensor *t = lt_gc_input(2, (int64_t[]){5, 37}, true, 2, -0.3f, 1);
    for (int i = 0; i < 3; i++) {
        gc_args a = {REDS[i], lab, 0};
        char what[64];
        snprintf(what, sizeof what, "cross_entropy %s", RED_NAMES[i]);
        LT_GRADCHECK(what, gc_ce, &a, 1, &x, 1e-2, 1e-2);
        lt_tensor *in[2] = {x, t};
        snprintf(what, sizeof what, "cross_entropy_soft %s", RED_NAMES[i]);
        LT_GRADCHECK(what, gc_ces, &a, 2, in, 1e-2, 1e-2);
    }
    lt_gc_input_free(x);
    lt_gc_input_free(t);
}

LT_TEST(seq_nll_gradcheck)
{
    int32_t tg[8] = {1, -100, 20, 0, 2, 17, -100, -100};
    lt_tensor *x = lt_gc_input(3, (int64_t[]){2, 4, 21}, true, 3, -3, 3);
    gc_args a = {LT_REDUCE_NONE, tg, -100};
    LT_GRADCHECK("seq_nll", gc_seq, &a, 1, &x, 1e-2, 1e-2);
    /* ignore_index may also be a valid class id */
    int32_t tg2[8] = {1, 3, 4, 0, 2, 3, 3, 0};
    gc_args b = {LT_REDUCE_NONE, tg2, 3};
    LT_GRADCHECK("seq_nll ignore 3", gc_seq, &b, 1, &x, 1e-2, 1e-2);
    lt_gc_input_free(x);
}

LT_TEST(mse_and_kl_gradcheck)
{
    lt_tensor *a = lt_gc_input(3, (int64_t[]){3, 2, 4}, true, 4, -2, 2);
    lt_tensor *b = lt_gc_input(3, (int64_t[]){3, 2, 4}, true, 5, -2, 2);
    lt_tensor *lq = lt_gc_input(2, (int64_t[]){3, 5}, true, 6, -3, -0.2f);
    lt_tensor *p = lt_gc_input(2, (int64_t[]){3, 5}, true, 7, 0.05f, 1);
    for (int i = 0; i < 4; i++) {
        lt_reduction r = i < 3 ? REDS[i] : LT_REDUCE_BATCHMEAN;
        gc_args ar = {r, NULL, 0};
        char what[64];
        lt_tensor *in[2] = {a, b};
        if (i < 3) {
            snprintf(what, sizeof what, "mse %s", RED_NAMES[i]);
            LT_GRADCHECK(what, gc_mse, &ar, 2, in, 1e-2, 1e-2);
        }
        lt_tensor *kin[2] = {lq, p};
        snprintf(what, sizeof what, "kl_div %s", RED_NAMES[r]);
        LT_GRADCHECK(what, gc_kl, &ar, 2, kin, 1e-3, 1e-2);
    }
    lt_gc_input_free(a);
    lt_gc_input_free(b);
    lt_gc_input_free(lq);
    lt_gc_input_free(p);
}

/* ---- goldens ------------------------------------------------------------ */

/* Checks <key>.y, runs backward with <key>.r and checks <key>.g<name> for
 * each input given (NULL entries skipped). */
static void check_case(lt_ctx *c, const lt_golden *g, const char *key,
                       lt_tensor *y, int n_in, lt_tensor *const *in,
                       const char *const *names)
{
    char nm[128];
    LT_CHECK(y != NULL, "%s: %s", key, lt_last_error());
    if (!y)
        return;
    snprintf(nm, sizeof nm, "%s.y", key);
    LT_GOLDEN_CHECK(g, nm, y->data, y->numel);
    snprintf(nm, sizeof nm, "%s.r", key);
    lt_tensor *r = lt_golden_tensor(c, g, nm, false);
    for (int i = 0; i < n_in; i++)
        if (in[i] && in[i]->grad)
            memset(in[i]->grad, 0, (size_t)in[i]->numel * sizeof(float));
    LT_CHECK(r && r->numel == y->numel &&
                 lt_backward_with(c, y, r->data) == LT_OK,
             "%s backward: %s", key, lt_last_error());
    for (int i = 0; i < n_in; i++) {
        snprintf(nm, sizeof nm, "%s.g%s", key, names[i]);
        LT_CHECK(in[i]->grad != NULL, "%s: no gradient", nm);
        if (in[i]->grad)
            LT_GOLDEN_CHECK(g, nm, in[i]->grad, in[i]->numel);
    }
}

LT_TEST(cross_entropy_golden)
{
    lt_golden *g = lt_golden_load("loss.bin");
    if (!g)
        return;
    lt_ctx *c = lt_ctx_new(1 << 22);
    lt_tensor *x = lt_golden_tensor(c, g, "ce.x", true);
    int32_t *lab = lt_golden_ints(c, g, "ce.labels");
    const char *nx[1] = {"x"};
    char key[64];
    for (int i = 0; i < 3; i++) {
        snprintf(key, sizeof key, "ce.%s", RED_NAMES[i]);
        check_case(c, g, key, lt_cross_entropy(c, x, lab, REDS[i]), 1, &x,
                   nx);
    }
    /* probability targets and negative smoothing, both requiring grad */
    lt_tensor *xs = lt_golden_tensor(c, g, "ces.x", true);
    lt_tensor *t = lt_golden_tensor(c, g, "ces.t", true);
    int32_t *nlab = lt_golden_ints(c, g, "cesneg.labels");
    if (!x || !xs || !t || !nlab)
        goto done;
    lt_tensor *tn = lt_requires_grad(
        lt_smooth_targets(c, nlab, xs->shape[0], xs->shape[1], -0.5f));
    LT_CHECK_OK(tn);
    if (tn)
        LT_GOLDEN_CHECK(g, "cesneg.t", tn->data, tn->numel);
    const char *nxt[2] = {"x", "t"};
    for (int i = 0; i < 3; i++) {
        lt_tensor *in[2] = {xs, t};
        snprintf(key, sizeof key, "ces.%s", RED_NAMES[i]);
        check_case(c, g, key, lt_cross_entropy_soft(c, xs, t, REDS[i]), 2,
                   in, nxt);
        in[1] = tn;
        snprintf(key, sizeof key, "cesneg.%s", RED_NAMES[i]);
        check_case(c, g, key, lt_cross_entropy_soft(c, xs, tn, REDS[i]), 2,
                   in, nxt);
    }
done:
    lt_ctx_free(c);
    lt_golden_free(g);
}

LT_TEST(label_smoothing_golden)
{
    lt_golden *g = lt_golden_load("loss.bin");
    if (!g)
        return;
    lt_ctx *c = lt_ctx_new(1 << 22);
    lt_tensor *x = lt_golden_tensor(c, g, "ces.x", true);
    int32_t *lab = lt_golden_ints(c, g, "ls.labels");
    const char *nx[1] = {"x"};
    for (int i = 0; i < 4; i++) {
        char key[64], nm[64];
        snprintf(nm, sizeof nm, "ls.%d.alpha", i);
        const lt_golden_entry *e = lt_golden_get(g, nm);
        if (!e)
            continue;
        snprintf(key, sizeof key, "ls.%d", i);
        if (!x || !lab)
            break;
        lt_tensor *t = lt_smooth_targets(c, lab, x->shape[0], x->shape[1],
                                         e->data[0]);
        check_case(c, g, key, lt_cross_entropy_soft(c, x, t, LT_REDUCE_MEAN),
                   1, &x, nx);
    }
    lt_ctx_free(c);
    lt_golden_free(g);
}

LT_TEST(seq_mse_kl_golden)
{
    lt_golden *g = lt_golden_load("loss.bin");
    if (!g)
        return;
    lt_ctx *c = lt_ctx_new(1 << 22);
    lt_tensor *x = lt_golden_tensor(c, g, "seq.x", true);
    int32_t *tg = lt_golden_ints(c, g, "seq.targets");
    const char *nx[1] = {"x"};
    check_case(c, g, "seq", lt_seq_nll(c, x, tg, -100), 1, &x, nx);

    lt_tensor *a = lt_golden_tensor(c, g, "mse.a", true);
    lt_tensor *b = lt_golden_tensor(c, g, "mse.b", true);
    lt_tensor *ab[2] = {a, b};
    const char *nab[2] = {"a", "b"};
    char key[64];
    for (int i = 0; i < 3; i++) {
        snprintf(key, sizeof key, "mse.%s", RED_NAMES[i]);
        check_case(c, g, key, lt_mse(c, a, b, REDS[i]), 2, ab, nab);
    }

    lt_tensor *lq = lt_golden_tensor(c, g, "kl.logq", true);
    lt_tensor *p = lt_golden_tensor(c, g, "kl.p", true);
    lt_tensor *qp[2] = {lq, p};
    const char *nqp[2] = {"logq", "p"};
    for (int i = 0; i < 4; i++) {
        lt_reduction r = i < 3 ? REDS[i] : LT_REDUCE_BATCHMEAN;
        snprintf(key, sizeof key, "kl.%s", RED_NAMES[r]);
        check_case(c, g, key, lt_kl_div(c, lq, p, r), 2, qp, nqp);
    }
    lt_tensor *p0 = lt_golden_tensor(c, g, "kl0.p", false);
    check_case(c, g, "kl0.none", lt_kl_div(c, lq, p0, LT_REDUCE_NONE), 1,
               &lq, nqp);
    check_case(c, g, "kl0.batchmean",
               lt_kl_div(c, lq, p0, LT_REDUCE_BATCHMEAN), 1, &lq, nqp);
    lt_ctx_free(c);
    lt_golden_free(g);
}

/* ---- hand checks -------------------------------------------------------- */

LT_TEST(smooth_targets_by_hand)
{
    lt_ctx *c = lt_ctx_new(1 << 16);
    int32_t lab[2] = {2, 0};
    float alphas[3] = {-0.5f, -1.0f, 0.2f};
    for (int a = 0; a < 3; a++) {
        float al = alphas[a];
        lt_tensor *t = lt_smooth_targets(c, lab, 2, 4, al);
        LT_CHECK_OK(t);
        if (!t)
            continue;
        LT_CHECK(t->ndim == 2 && t->shape[0] == 2 && t->shape[1] == 4 &&
                     !(t->flags & LT_REQUIRES_GRAD),
                 "shape/flags");
        for (int i = 0; i < 2; i++)
            for (int k = 0; k < 4; k++) {
                float want = (k == lab[i] ? 1.0f - al : 0.0f) + al / 4;
                LT_CHECK(fabsf(t->data[i * 4 + k] - want) < 1e-6f,
                         "alpha %g [%d,%d]: %g != %g", al, i, k,
                         t->data[i * 4 + k], want);
            }
    }
    /* alpha = -0.5, K = 4: on = 1.375, off = -0.125 (rows sum to 1) */
    lt_tensor *t = lt_smooth_targets(c, lab, 2, 4, -0.5f);
    LT_CHECK(t && t->data[2] == 1.375f && t->data[0] == -0.125f,
             "negative smoothing values");
    LT_CHECK(lt_smooth_targets(c, (int32_t[]){4}, 1, 4, 0.1f) == NULL &&
                 lt_last_status() == LT_ERR_ARG,
             "label 4 of 4 accepted");
    LT_CHECK(lt_smooth_targets(c, lab, 2, 0, 0.1f) == NULL &&
                 lt_last_status() == LT_ERR_ARG,
             "k = 0 accepted");
    lt_ctx_free(c);
}

LT_TEST(seq_nll_by_hand)
{
    lt_ctx *c = lt_ctx_new(1 << 16);
    /* B=2, T=2, V=2: logits 0 everywhere except one; log 2 per position */
    lt_tensor *x = lt_zeros(c, 3, (int64_t[]){2, 2, 2});
    x->data[6] = 1.0f; /* b=1, t=1, class 0 */
    int32_t tg[4] = {0, 1, -1, 0};
    lt_tensor *y = lt_seq_nll(c, x, tg, -1);
    LT_CHECK_OK(y);
    if (y) {
        float l2 = logf(2.0f), l1 = logf(1.0f + expf(-1.0f));
        LT_CHECK(y->ndim == 1 && y->shape[0] == 2, "shape");
        LT_CHECK(fabsf(y->data[0] - 2 * l2) < 1e-6f &&
                     fabsf(y->data[1] - l1) < 1e-6f,
                 "seq_nll %g %g (want %g %g)", y->data[0], y->data[1],
                 2 * l2, l1);
    }
    lt_ctx_free(c);
}

LT_TEST(nonfinite_logits_give_nan_loss)
{
    lt_ctx *c = lt_ctx_new(1 << 16);
    lt_tensor *x = lt_requires_grad(lt_from_data(
        c, 2, (int64_t[]){3, 3},
        (float[]){1, NAN, 0, 1, 2, 3, INFINITY, 0, 0}));
    int32_t lab[3] = {0, 1, 1};
    lt_tensor *none = lt_cross_entropy(c, x, lab, LT_REDUCE_NONE);
    LT_CHECK(none && isnan(none->data[0]) && isfinite(none->data[1]) &&
                 isnan(none->data[2]),
             "per-sample losses with NaN / inf logits");
    lt_tensor *mean = lt_cross_entropy(c, x, lab, LT_REDUCE_MEAN);
    LT_CHECK(mean && isnan(mean->data[0]), "mean loss is not NaN");
    LT_CHECK(lt_backward(c, mean) == LT_ERR_NAN, "backward accepted NaN");
    lt_ctx_free(c);
}

LT_TEST(caller_labels_may_be_reused)
{
    lt_ctx *c = lt_ctx_new(1 << 16);
    lt_tensor *x = lt_requires_grad(lt_from_data(
        c, 2, (int64_t[]){2, 2}, (float[]){0, 0, 0, 0}));
    int32_t lab[2] = {0, 1};
    lt_tensor *y = lt_cross_entropy(c, x, lab, LT_REDUCE_SUM);
    lab[0] = lab[1] = 1; /* must not affect backward */
    LT_CHECK(lt_backward(c, y) == LT_OK, "%s", lt_last_error());
    LT_CHECK(x->grad && x->grad[0] == -0.5f && x->grad[1] == 0.5f &&
                 x->grad[2] == 0.5f && x->grad[3] == -0.5f,
             "gradient used the caller's modified labels");
    lt_ctx_free(c);
}

LT_TEST(kl_div_zero_target_is_zero)
{
    lt_ctx *c = lt_ctx_new(1 << 16);
    lt_tensor *lq = lt_requires_grad(lt_from_data(
        c, 2, (int64_t[]){1, 3}, (float[]){-INFINITY, -1.0f, -0.5f}));
    lt_tensor *p = lt_from_data(c, 2, (int64_t[]){1, 3},
                                (float[]){0.0f, 0.5f, 0.5f});
    lt_tensor *y = lt_kl_div(c, lq, p, LT_REDUCE_SUM);
    float want = 0.5f * (logf(0.5f) + 1.0f) + 0.5f * (logf(0.5f) + 0.5f);
    LT_CHECK(y && fabsf(y->data[0] - want) < 1e-6f, "kl %g != %g",
             y ? y->data[0] : 0, want);
    LT_CHECK(lt_backward(c, y) == LT_OK && lq->grad[0] == 0.0f &&
                 lq->grad[1] == -0.5f,
             "kl gradient");
    lt_ctx_free(c);
}

/* Above the parallel thresholds, 1 and 2 threads give identical results. */
LT_TEST(losses_thread_count_independent)
{
    lt_ctx *c = lt_ctx_new(1 << 24);
    lt_tensor *x = lt_new2(c, 300, 200), *t = lt_new2(c, 300, 200);
    lt_rng_fill_normal(lt_ctx_rng(c), x->data, x->numel, 0, 2);
    lt_rng_fill_uniform(lt_ctx_rng(c), t->data, t->numel, 0, 1);
    int32_t lab[300];
    for (int i = 0; i < 300; i++)
        lab[i] = (i * 37) % 200;
    int old = lt_num_threads();
    float v[2][4];
    for (int k = 0; k < 2; k++) {
        lt_set_num_threads(k + 1);
        lt_tensor *y[4] = {lt_cross_entropy(c, x, lab, LT_REDUCE_MEAN),
                           lt_cross_entropy_soft(c, x, t, LT_REDUCE_SUM),
                           lt_mse(c, x, t, LT_REDUCE_MEAN),
                           lt_kl_div(c, x, t, LT_REDUCE_BATCHMEAN)};
        for (int i = 0; i < 4; i++)
            v[k][i] = y[i] ? y[i]->data[0] : NAN;
    }
    for (int i = 0; i < 4; i++)
        LT_CHECK(v[0][i] == v[1][i], "loss %d: %g (1 thread) != %g", i,
                 v[0][i], v[1][i]);
    lt_set_num_threads(old);
    lt_ctx_free(c);
}

/* ---- errors ------------------------------------------------------------- */

static void expect_error(lt_tensor *y, lt_status want, const char *op,
                         const char *what, const char *fragment)
{
    LT_CHECK(y == NULL && lt_last_status() == want, "%s: %s accepted", op,
             what);
    LT_CHECK(strstr(lt_last_error(), op) != NULL, "%s: message %s", what,
             lt_last_error());
    if (fragment)
        LT_CHECK(strstr(lt_last_error(), fragment) != NULL,
                 "%s: message lacks '%s': %s", what, fragment,
                 lt_last_error());
}

LT_TEST(loss_errors)
{
    lt_ctx *c = lt_ctx_new(1 << 16);
    lt_tensor *x = lt_zeros(c, 2, (int64_t[]){3, 4});
    lt_tensor *x3 = lt_zeros(c, 3, (int64_t[]){2, 3, 4});
    lt_tensor *t = lt_zeros(c, 2, (int64_t[]){3, 5});
    int32_t bad[3] = {0, 7, 1}, neg[3] = {0, 1, -1};
    int32_t ok[6] = {0, 1, 2, 3, 0, 1};
    expect_error(lt_cross_entropy(c, x, bad, LT_REDUCE_MEAN), LT_ERR_ARG,
                 "cross_entropy", "label 7", "label 7 at index 1");
    expect_error(lt_cross_entropy(c, x, neg, LT_REDUCE_MEAN), LT_ERR_ARG,
                 "cross_entropy", "label -1", "label -1 at index 2");
    expect_error(lt_cross_entropy(c, x, NULL, LT_REDUCE_MEAN), LT_ERR_ARG,
                 "cross_entropy", "NULL labels", NULL);
    expect_error(lt_cross_entropy(c, x3, ok, LT_REDUCE_MEAN), LT_ERR_SHAPE,
                 "cross_entropy", "3-D logits", "[2, 3, 4]");
    expect_error(lt_cross_entropy(c, x, ok, LT_REDUCE_BATCHMEAN), LT_ERR_ARG,
                 "cross_entropy", "batchmean", "batchmean");
    expect_error(lt_cross_entropy(c, x, ok, (lt_reduction)9), LT_ERR_ARG,
                 "cross_entropy", "reduction 9", NULL);
    expect_error(lt_cross_entropy_soft(c, x, t, LT_REDUCE_MEAN), LT_ERR_SHAPE,
                 "cross_entropy_soft", "targets [3, 5]", "[3, 5]");
    expect_error(lt_cross_entropy_soft(c, x3, x3, LT_REDUCE_SUM),
                 LT_ERR_SHAPE, "cross_entropy_soft", "3-D logits", NULL);
    expect_error(lt_cross_entropy_soft(c, x, x, LT_REDUCE_BATCHMEAN),
                 LT_ERR_ARG, "cross_entropy_soft", "batchmean", NULL);
    expect_error(lt_mse(c, x, t, LT_REDUCE_MEAN), LT_ERR_SHAPE, "mse",
                 "shape mismatch", "[3, 4]");
    expect_error(lt_mse(c, x, x, LT_REDUCE_BATCHMEAN), LT_ERR_ARG, "mse",
                 "batchmean", NULL);
    expect_error(lt_kl_div(c, x, t, LT_REDUCE_BATCHMEAN), LT_ERR_SHAPE,
                 "kl_div", "shape mismatch", "[3, 5]");
    expect_error(lt_seq_nll(c, x, ok, -100), LT_ERR_SHAPE, "seq_nll",
                 "2-D logits", NULL);
    int32_t sbad[6] = {0, 1, -100, 4, 0, 1};
    expect_error(lt_seq_nll(c, x3, sbad, -100), LT_ERR_ARG, "seq_nll",
                 "target 4 of V=4", "label 4 at index 3");
    expect_error(lt_seq_nll(c, x3, NULL, -100), LT_ERR_ARG, "seq_nll",
                 "NULL targets", NULL);
    /* NULL inputs propagate without touching the error */
    lt_set_error(LT_ERR_ARENA, "earlier");
    LT_CHECK(lt_cross_entropy(c, NULL, ok, LT_REDUCE_MEAN) == NULL &&
                 lt_cross_entropy_soft(c, x, NULL, LT_REDUCE_MEAN) == NULL &&
                 lt_seq_nll(c, NULL, ok, 0) == NULL &&
                 lt_mse(c, NULL, x, LT_REDUCE_SUM) == NULL &&
                 lt_kl_div(c, x, NULL, LT_REDUCE_SUM) == NULL &&
                 lt_last_status() == LT_ERR_ARENA,
             "NULL input changed the error");
    lt_ctx_free(c);
}

LT_TEST_MAIN()
