/*
 * test_methods.c - the unlearning methods on a tiny synthetic problem (3
 * classes of 1x4x4 images around fixed prototypes, an MLP trained a few
 * epochs): GA raises the forget loss, FT keeps retain accuracy, RL lowers
 * forget accuracy, masked weights stay bit-identical under every optimizer,
 * runs are deterministic, and a diverging GA is an LT_ERR_NAN error.
 */
#include "lt_test.h"
#include "lethe/methods.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { N_ITEMS = 240, PIX = 16, K = 3 };

static lt_dataset g_data;
static lt_model *g_model;
static float *g_theta0; /* the trained weights, all n_total entries */

/* Class c: +1 on pixels p with p % 3 == c, -1 elsewhere, plus N(0, 1). */
static void make_data(void)
{
    lt_dataset *d = &g_data;
    memset(d, 0, sizeof *d);
    strcpy(d->name, "synthetic");
    d->n = N_ITEMS;
    d->c = 1;
    d->h = d->w = 4;
    d->classes = K;
    d->x = malloc(sizeof(float) * N_ITEMS * PIX);
    d->y = malloc(sizeof(int32_t) * N_ITEMS);
    lt_rng r;
    lt_rng_init(&r, 42);
    for (int i = 0; i < N_ITEMS; i++) {
        d->y[i] = i % K;
        for (int p = 0; p < PIX; p++)
            d->x[i * PIX + p] = (p % K == d->y[i] ? 1.0f : -1.0f) +
                                1.0f * lt_rng_normal(&r);
    }
}

static void setup(void)
{
    if (g_model)
        return;
    make_data();
    LT_CHECK(lt_model_create("mlp:16-32-3", (lt_input_spec){1, 4, 4, K},
                             &g_model) == LT_OK, "%s", lt_last_error());
    lt_model_init(g_model, 1);
    lt_train_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.optim = lt_optim_defaults(LT_OPT_SGD);
    cfg.optim.lr = 0.02f;
    cfg.optim.momentum = 0.9f;
    cfg.sched = (lt_schedule){.kind = LT_SCHED_CONSTANT, .base_lr = 0.02f};
    cfg.epochs = 5;
    cfg.batch = 20;
    cfg.seed = 3;
    lt_train_report rep;
    LT_CHECK(lt_train_classifier(g_model, &g_data, NULL, &cfg, &rep) == 0,
             "%s", lt_last_error());
    int64_t n = g_model->params.n_total;
    g_theta0 = malloc(sizeof(float) * (size_t)n);
    memcpy(g_theta0, g_model->params.theta, sizeof(float) * (size_t)n);
}

static void reset_model(void)
{
    setup();
    memcpy(g_model->params.theta, g_theta0,
           sizeof(float) * (size_t)g_model->params.n_total);
}

/* Loss and accuracy of the model on the items idx[0..k). */
static void eval_on(const int64_t *idx, int64_t k, double *loss, double *acc)
{
    lt_dataset sub;
    LT_CHECK(lt_dataset_subset(&g_data, idx, k, &sub) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(lt_evaluate(g_model, &sub, 64, loss, acc, NULL) == LT_OK, "%s",
             lt_last_error());
    lt_dataset_free(&sub);
}

static lt_unlearn_cfg small_cfg(lt_method_kind k, float lr, int epochs,
                                int batch)
{
    lt_unlearn_cfg c = lt_unlearn_defaults(k);
    c.optim.lr = lr;
    c.epochs = epochs;
    c.batch = batch;
    return c;
}

LT_TEST(trained_model_is_accurate)
{
    reset_model();
    double loss, acc;
    LT_CHECK(lt_evaluate(g_model, &g_data, 64, &loss, &acc, NULL) == LT_OK,
             "%s", lt_last_error());
    LT_CHECK(acc == 100.0, "training accuracy %.2f%%, want 100%%", acc);
}

LT_TEST(parse_and_defaults)
{
    lt_method_kind k;
    LT_CHECK(lt_method_parse("retrain", &k) == LT_OK &&
                 k == LT_METHOD_RETRAIN, "retrain");
    LT_CHECK(lt_method_parse("salun", &k) == LT_OK && k == LT_METHOD_SALUN,
             "salun");
    LT_CHECK(lt_method_parse("ga", &k) == LT_OK && k == LT_METHOD_GA, "ga");
    LT_CHECK(lt_method_parse("boundary", &k) == LT_ERR_ARG, "unknown name");
    LT_CHECK(strstr(lt_last_error(), "boundary") != NULL, "message: %s",
             lt_last_error());
    LT_CHECK(!strcmp(lt_method_name(LT_METHOD_RL), "rl"), "name");
    lt_unlearn_cfg c = lt_unlearn_defaults(LT_METHOD_SALUN);
    LT_CHECK(c.mask.kind == LT_MASK_SALIENCY && c.mask.ratio == 0.5, "mask");
    LT_CHECK(c.optim.lr == 0.013f && c.epochs == 10 && c.batch == 256,
             "salun lr/epochs/batch");
    LT_CHECK(c.optim.kind == LT_OPT_SGD && c.optim.momentum == 0.9f &&
                 c.optim.weight_decay == 5e-4f, "sgd defaults");
    c = lt_unlearn_defaults(LT_METHOD_GA);
    LT_CHECK(c.optim.lr == 1e-4f && c.epochs == 5 &&
                 c.mask.kind == LT_MASK_NONE, "ga defaults");
    c = lt_unlearn_defaults(LT_METHOD_FT);
    LT_CHECK(c.optim.lr == 0.01f && c.epochs == 10, "ft defaults");
}

LT_TEST(ga_raises_forget_loss)
{
    reset_model();
    lt_forget_set f = {0};
    LT_CHECK(lt_forget_select("random:10%", &g_data, 1, &f) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(f.n_forget == 24, "forget size %lld", (long long)f.n_forget);
    double l0, a0, l1, a1;
    eval_on(f.forget, f.n_forget, &l0, &a0);
    lt_unlearn_cfg c = small_cfg(LT_METHOD_GA, 0.5f, 3, 8);
    lt_unlearn_report rep;
    LT_CHECK(lt_unlearn_run(g_model, &g_data, &f, &c, &rep) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(rep.steps == 9, "GA steps %lld, want 3 epochs x 3 batches",
             (long long)rep.steps);
    LT_CHECK(isnan(rep.retain_loss) && rep.forget_loss > 0, "report losses");
    eval_on(f.forget, f.n_forget, &l1, &a1);
    LT_CHECK(l1 > l0 + 0.5 && a1 < a0, "forget loss %.4f -> %.4f, "
             "accuracy %.2f -> %.2f", l0, l1, a0, a1);
    lt_forget_set_free(&f);
}

LT_TEST(ft_keeps_retain_accuracy)
{
    reset_model();
    lt_forget_set f = {0};
    LT_CHECK(lt_forget_select("random:10%", &g_data, 1, &f) == LT_OK, "%s",
             lt_last_error());
    lt_unlearn_cfg c = small_cfg(LT_METHOD_FT, 0.01f, 2, 32);
    lt_unlearn_report rep;
    LT_CHECK(lt_unlearn_run(g_model, &g_data, &f, &c, &rep) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(rep.steps == 2 * 7, "FT steps %lld: 216 retain items in "
             "batches of 32 are 7 per epoch", (long long)rep.steps);
    LT_CHECK(isnan(rep.forget_loss) && rep.retain_loss < 0.1,
             "retain loss %.4f", rep.retain_loss);
    double l, a;
    eval_on(f.retain, f.n_retain, &l, &a);
    LT_CHECK(a == 100.0, "retain accuracy %.2f%% after FT", a);
    lt_forget_set_free(&f);
}

LT_TEST(rl_lowers_forget_accuracy)
{
    reset_model();
    lt_forget_set f = {0};
    LT_CHECK(lt_forget_select("class:2", &g_data, 1, &f) == LT_OK, "%s",
             lt_last_error());
    double l0, a0, l1, a1, lr, ar;
    eval_on(f.forget, f.n_forget, &l0, &a0);
    LT_CHECK(a0 == 100.0, "forget accuracy before %.2f%%", a0);
    lt_unlearn_cfg c = small_cfg(LT_METHOD_RL, 0.05f, 3, 16);
    lt_unlearn_report rep;
    LT_CHECK(lt_unlearn_run(g_model, &g_data, &f, &c, &rep) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(rep.steps == 3 * (5 + 10), "RL steps %lld: 80 forget + 160 "
             "retain items in batches of 16", (long long)rep.steps);
    eval_on(f.forget, f.n_forget, &l1, &a1);
    eval_on(f.retain, f.n_retain, &lr, &ar);
    LT_CHECK(a1 <= 10.0, "forget accuracy %.2f%% -> %.2f%%", a0, a1);
    LT_CHECK(ar == 100.0, "retain accuracy %.2f%% after RL", ar);
    lt_forget_set_free(&f);
}

/* SalUn with the saliency:0.5 mask under optimizer name: every weight the
 * mask (recomputed here at the original weights) freezes is bit-identical
 * afterwards, and some free weights moved. */
/* Class-wise Retrain never sees the class: its UA is 100 (the paper's
 * sanity check), while the other classes stay learnt. */
LT_TEST(retrain_classwise_forgets_the_class)
{
    reset_model();
    lt_forget_set f = {0};
    LT_CHECK(lt_forget_select("class:1", &g_data, 1, &f) == LT_OK, "%s",
             lt_last_error());
    lt_unlearn_cfg c = small_cfg(LT_METHOD_RETRAIN, 0.05f, 5, 16);
    lt_unlearn_report rep;
    LT_CHECK(lt_unlearn_run(g_model, &g_data, &f, &c, &rep) == LT_OK, "%s",
             lt_last_error());
    double lf, af, lr, ar;
    eval_on(f.forget, f.n_forget, &lf, &af);
    eval_on(f.retain, f.n_retain, &lr, &ar);
    LT_CHECK(af == 0.0, "retrain forget accuracy %.2f%% (UA must be 100)", af);
    LT_CHECK(ar >= 95.0, "retrain retain accuracy %.2f%%", ar);
    LT_CHECK(rep.steps == 5 * (160 / 16), "steps %lld", (long long)rep.steps);
    c.mask = (lt_mask_spec){LT_MASK_SALIENCY, 0.5};
    LT_CHECK(lt_unlearn_run(g_model, &g_data, &f, &c, &rep) == LT_ERR_ARG,
             "retrain accepted a mask");
    lt_forget_set_free(&f);
}

static void check_frozen(const char *name)
{
    reset_model();
    lt_forget_set f = {0};
    LT_CHECK(lt_forget_select("random:20%", &g_data, 2, &f) == LT_OK, "%s",
             lt_last_error());
    int64_t n = g_model->params.n_train;
    float *mask = malloc(sizeof(float) * (size_t)n);
    LT_CHECK(lt_forget_gradient(g_model, &g_data, f.forget, f.n_forget, 256,
                                NULL) == LT_OK, "%s", lt_last_error());
    LT_CHECK(lt_mask_saliency(g_model->params.grad, n, 0.5, mask) == LT_OK,
             "%s", lt_last_error());
    lt_unlearn_cfg c = small_cfg(LT_METHOD_SALUN, 0.01f, 2, 16);
    LT_CHECK(lt_optim_parse(name, &c.optim) == LT_OK, "%s", lt_last_error());
    c.optim.lr = 0.01f;
    lt_unlearn_report rep;
    LT_CHECK(lt_unlearn_run(g_model, &g_data, &f, &c, &rep) == LT_OK,
             "%s: %s", name, lt_last_error());
    LT_CHECK(rep.mask_ones == lt_mask_count(n, 0.5), "%s: mask ones %lld",
             name, (long long)rep.mask_ones);
    int64_t moved_frozen = 0, moved_free = 0, free_n = 0;
    for (int64_t i = 0; i < n; i++) {
        bool same = !memcmp(&g_model->params.theta[i], &g_theta0[i],
                            sizeof(float));
        if (mask[i] == 0)
            moved_frozen += !same;
        else {
            free_n++;
            moved_free += !same;
        }
    }
    LT_CHECK(free_n == lt_mask_count(n, 0.5), "%s: free %lld", name,
             (long long)free_n);
    LT_CHECK(moved_frozen == 0, "%s: %lld masked weights moved", name,
             (long long)moved_frozen);
    LT_CHECK(moved_free > free_n / 2, "%s: only %lld of %lld free weights "
             "moved", name, (long long)moved_free, (long long)free_n);
    free(mask);
    lt_forget_set_free(&f);
}

LT_TEST(mask_freezes_weights_sgd) { check_frozen("sgd"); }
LT_TEST(mask_freezes_weights_adam) { check_frozen("adam"); }
LT_TEST(mask_freezes_weights_sophia_soul) { check_frozen("sophia-soul"); }
LT_TEST(mask_freezes_weights_sophia) { check_frozen("sophia"); }

LT_TEST(random_mask_and_determinism)
{
    lt_forget_set f = {0};
    setup();
    LT_CHECK(lt_forget_select("random:10%", &g_data, 5, &f) == LT_OK, "%s",
             lt_last_error());
    int64_t n = g_model->params.n_total;
    float *a = malloc(sizeof(float) * (size_t)n);
    lt_unlearn_cfg c = small_cfg(LT_METHOD_RL, 0.02f, 2, 16);
    c.mask = (lt_mask_spec){LT_MASK_RANDOM, 0.25};
    lt_unlearn_report rep;
    for (int run = 0; run < 2; run++) {
        reset_model();
        LT_CHECK(lt_unlearn_run(g_model, &g_data, &f, &c, &rep) == LT_OK,
                 "%s", lt_last_error());
        if (run == 0)
            memcpy(a, g_model->params.theta, sizeof(float) * (size_t)n);
    }
    LT_CHECK(!memcmp(a, g_model->params.theta, sizeof(float) * (size_t)n),
             "two runs with the same seed differ");
    int64_t moved = 0;
    for (int64_t i = 0; i < g_model->params.n_train; i++)
        moved += memcmp(&a[i], &g_theta0[i], sizeof(float)) != 0;
    LT_CHECK(moved <= lt_mask_count(g_model->params.n_train, 0.25) &&
                 moved > 0, "%lld weights moved under a 25%% random mask",
             (long long)moved);
    free(a);
    lt_forget_set_free(&f);
}

LT_TEST(ga_diverges_with_nan_error)
{
    reset_model();
    lt_forget_set f = {0};
    LT_CHECK(lt_forget_select("random:10%", &g_data, 1, &f) == LT_OK, "%s",
             lt_last_error());
    lt_unlearn_cfg c = small_cfg(LT_METHOD_GA, 1e30f, 50, 8);
    lt_unlearn_report rep;
    LT_CHECK(lt_unlearn_run(g_model, &g_data, &f, &c, &rep) == LT_ERR_NAN,
             "GA at lr 1e30 returned: %s", lt_last_error());
    LT_CHECK(strstr(lt_last_error(), "diverged") != NULL, "message: %s",
             lt_last_error());
    lt_forget_set_free(&f);
}

LT_TEST(bad_config_is_an_error)
{
    setup();
    lt_forget_set f = {0};
    LT_CHECK(lt_forget_select("random:10%", &g_data, 1, &f) == LT_OK, "%s",
             lt_last_error());
    lt_unlearn_cfg c = small_cfg(LT_METHOD_FT, 0.01f, 0, 16);
    lt_unlearn_report rep;
    LT_CHECK(lt_unlearn_run(g_model, &g_data, &f, &c, &rep) == LT_ERR_ARG,
             "0 epochs accepted");
    lt_forget_set_free(&f);
}

LT_TEST(zz_cleanup)
{
    lt_model_free(g_model);
    g_model = NULL;
    free(g_theta0);
    lt_dataset_free(&g_data);
}

LT_TEST_MAIN()
