/*
 * test_methods.c - the unlearning methods on a tiny synthetic problem (3
 * classes of 1x4x4 images around fixed prototypes, an MLP trained a few
 * epochs): GA raises the forget loss, FT keeps retain accuracy, RL lowers
 * forget accuracy, masked weights stay bit-identical under every optimizer,
 * runs are deterministic, and a diverging GA is an LT_ERR_NAN error; then
 * the later methods: l1-sparse shrinks ||theta||_1, IU's step equals the
 * WoodFisher recursion recomputed here, FGSM moves pixels by exactly eps,
 * BS and BE lower forget accuracy (BE keeps the architecture), UGradSL at
 * smoothing 0 is GA and UGradSL+ at p = 0 is UGradSL, bit for bit, and the
 * soft mask has its hand-computed values.
 */
#include "lt_test.h"
#include "lethe/methods.h"
#include "lethe/metrics.h"

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
    d->mean[0] = 0.5f; /* pixels x * 0.25 + 0.5: FGSM works in pixel units */
    d->std[0] = 0.25f;
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
    LT_CHECK(c.optim.lr == 1e-3f && c.epochs == 10 && c.batch == 256,
             "salun lr/epochs/batch");
    LT_CHECK(c.optim.kind == LT_OPT_SGD && c.optim.momentum == 0.9f &&
                 c.optim.weight_decay == 5e-4f, "sgd defaults");
    c = lt_unlearn_defaults(LT_METHOD_GA);
    LT_CHECK(c.optim.lr == 3e-4f && c.epochs == 5 &&
                 c.mask.kind == LT_MASK_NONE, "ga defaults");
    c = lt_unlearn_defaults(LT_METHOD_FT);
    LT_CHECK(c.optim.lr == 0.1f && c.epochs == 10, "ft defaults");
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

/* What the progress callback saw: every event, in order. */
typedef struct {
    lt_unlearn_event ev[64];
    char phase[64][16];
    int n;
} news_log;

static void log_news(void *ud, const lt_unlearn_event *ev)
{
    news_log *l = ud;
    if (l->n < 64) {
        l->ev[l->n] = *ev;
        snprintf(l->phase[l->n++], 16, "%s", ev->phase);
    }
}

/* RL, 3 epochs of a 5-step forget pass and a 10-step retain pass: an event
 * per minibatch (step 1..steps) then one at the pass's end whose loss is
 * the mean of the pass's minibatch losses. */
LT_TEST(progress_per_minibatch_and_pass)
{
    reset_model();
    lt_forget_set f = {0};
    LT_CHECK(lt_forget_select("class:2", &g_data, 1, &f) == LT_OK, "%s",
             lt_last_error());
    lt_unlearn_cfg c = small_cfg(LT_METHOD_RL, 0.05f, 3, 16);
    news_log log = {0};
    c.progress = log_news;
    c.ud = &log;
    lt_unlearn_report rep;
    LT_CHECK(lt_unlearn_run(g_model, &g_data, &f, &c, &rep) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(log.n == 3 * (5 + 1 + 10 + 1), "%d events", log.n);
    int k = 0;
    for (int e = 1; e <= 3 && k < log.n; e++)
        for (int pass = 0; pass < 2; pass++) {
            const char *ph = pass ? "retain" : "forget";
            int steps = pass ? 10 : 5;
            double sum = 0;
            for (int s = 1; s <= steps && k < log.n; s++, k++) {
                const lt_unlearn_event *v = &log.ev[k];
                LT_CHECK(v->epoch == e && v->epochs == 3 && !v->pass_end &&
                         v->step == s && v->steps == steps &&
                         !strcmp(log.phase[k], ph) && isfinite(v->loss),
                         "event %d: epoch %d %s step %lld/%lld end %d", k,
                         v->epoch, log.phase[k], (long long)v->step,
                         (long long)v->steps, v->pass_end);
                sum += v->loss;
            }
            const lt_unlearn_event *end = &log.ev[k < log.n ? k++ : 0];
            LT_CHECK(end->pass_end && end->epoch == e && end->step == steps &&
                     end->steps == steps && end->loss == sum / steps,
                     "pass end of epoch %d %s: loss %.17g, mean %.17g", e, ph,
                     end->loss, sum / steps);
        }
    LT_CHECK(rep.forget_loss == log.ev[3 * 17 - 12].loss &&
             rep.retain_loss == log.ev[3 * 17 - 1].loss,
             "the report's losses are the last passes'");
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

LT_TEST(method_names)
{
    LT_CHECK(!strcmp(lt_method_names(), "ft,ga,rl,l1-sparse,iu,bs,be,salun,"
                     "salun-soft,ugradsl,ugradsl+,retrain"), "names: %s",
             lt_method_names());
    for (int k = 0; k < LT_METHOD_COUNT; k++) {
        lt_method_kind got;
        LT_CHECK(lt_method_parse(lt_method_name((lt_method_kind)k), &got) ==
                     LT_OK && got == (lt_method_kind)k, "round trip %d", k);
    }
    lt_unlearn_cfg c = lt_unlearn_defaults(LT_METHOD_SALUN_SOFT);
    LT_CHECK(c.mask.kind == LT_MASK_NONE && c.prox_ratio == 0.5,
             "salun-soft is RL_proximal: no mask, mask_ratio 0.5");
    c = lt_unlearn_defaults(LT_METHOD_UGRADSL_PLUS);
    LT_CHECK(c.smooth < 0 && c.retain_weight == 0.5f, "ugradsl+ defaults");
}

static double l1_norm(void)
{
    double s = 0;
    for (int64_t i = 0; i < g_model->params.n_train; i++)
        s += fabs(g_model->params.theta[i]);
    return s;
}

LT_TEST(l1_sparse_shrinks_weights)
{
    lt_forget_set f = {0};
    setup();
    LT_CHECK(lt_forget_select("random:10%", &g_data, 1, &f) == LT_OK, "%s",
             lt_last_error());
    double norm[2];
    lt_unlearn_report rep;
    for (int i = 0; i < 2; i++) {
        reset_model();
        lt_unlearn_cfg c = small_cfg(i ? LT_METHOD_L1 : LT_METHOD_FT, 0.01f,
                                     3, 16);
        c.alpha = 0.05f;
        LT_CHECK(lt_unlearn_run(g_model, &g_data, &f, &c, &rep) == LT_OK,
                 "%s", lt_last_error());
        norm[i] = l1_norm();
    }
    LT_CHECK(norm[1] < 0.97 * norm[0], "||theta||_1: FT %.3f, l1-sparse %.3f",
             norm[0], norm[1]);
    double l, a;
    eval_on(f.retain, f.n_retain, &l, &a);
    LT_CHECK(a >= 95.0, "retain accuracy %.2f%% after l1-sparse", a);
    lt_forget_set_free(&f);
}

/* IU's step recomputed from lt_forget_gradient: v = share * (g_f - g_r),
 * the recursion over the first N + 2 retain gradients, theta += alpha k. */
LT_TEST(iu_step_equals_woodfisher)
{
    reset_model();
    lt_forget_set f = {0};
    LT_CHECK(lt_forget_select("random:10%", &g_data, 1, &f) == LT_OK, "%s",
             lt_last_error());
    int64_t n = g_model->params.n_train;
    float *gr = malloc(sizeof(float) * (size_t)n);
    double *k = malloc(sizeof(double) * (size_t)n);
    double *o = malloc(sizeof(double) * (size_t)n);
    const float *g = g_model->params.grad;
    LT_CHECK(lt_forget_gradient(g_model, &g_data, f.retain, f.n_retain, 7,
                                NULL) == LT_OK, "%s", lt_last_error());
    memcpy(gr, g, sizeof(float) * (size_t)n);
    LT_CHECK(lt_forget_gradient(g_model, &g_data, f.forget, f.n_forget, 7,
                                NULL) == LT_OK, "%s", lt_last_error());
    for (int64_t i = 0; i < n; i++)
        k[i] = 0.1 * ((double)g[i] - gr[i]); /* 24 of 240 forgotten */
    const double N = 3;
    for (int s = 0; s < 5; s++) {
        LT_CHECK(lt_forget_gradient(g_model, &g_data, f.retain + s, 1, 1,
                                    NULL) == LT_OK, "%s", lt_last_error());
        double t = 0, kg = 0;
        for (int64_t i = 0; i < n; i++) {
            t += s ? o[i] * g[i] : 0;
            kg += k[i] * g[i];
        }
        for (int64_t i = 0; i < n; i++) {
            if (s == 0) {
                o[i] = g[i];
                continue;
            }
            k[i] -= kg / (N + t) * o[i];
            o[i] -= t / (N + t) * o[i];
        }
    }
    lt_unlearn_cfg c = small_cfg(LT_METHOD_IU, 0.5f, 1, 7);
    c.iu_samples = 3;
    lt_unlearn_report rep;
    LT_CHECK(lt_unlearn_run(g_model, &g_data, &f, &c, &rep) == LT_OK, "%s",
             lt_last_error());
    double err = 0, ref = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = (g_model->params.theta[i] - g_theta0[i]) - 0.5 * k[i];
        err += d * d;
        ref += 0.25 * k[i] * k[i];
    }
    LT_CHECK(ref > 0 && sqrt(err / ref) < 1e-3, "IU step differs from the "
             "recursion: relative L2 %.3g", sqrt(err / ref));
    LT_CHECK(rep.steps == 1, "IU steps %lld", (long long)rep.steps);
    free(gr);
    free(k);
    free(o);
    lt_forget_set_free(&f);
}

LT_TEST(fgsm_moves_pixels_by_eps)
{
    reset_model();
    enum { B = 6 };
    float x[B * PIX], x0[B * PIX];
    int32_t y[B];
    int64_t idx[B] = {0, 1, 2, 3, 4, 5};
    lt_dataset_batch(&g_data, idx, B, x0, y, NULL, NULL);
    for (int i = 0; i < B * PIX; i++) /* start on the 1/255 pixel grid */
        x0[i] = (roundf((x0[i] * 0.25f + 0.5f) * 255.0f) / 255.0f - 0.5f) /
                0.25f;
    memcpy(x, x0, sizeof x);
    lt_ctx *c = lt_ctx_new(1 << 20);
    LT_CHECK(lt_fgsm(c, g_model, &g_data, x, y, B, 0.1f) == LT_OK, "%s",
             lt_last_error());
    int moved = 0, clipped = 0;
    for (int i = 0; i < B * PIX; i++) {
        float p0 = x0[i] * 0.25f + 0.5f, p1 = x[i] * 0.25f + 0.5f;
        float step = fabsf(p1 - p0);
        bool at_edge = p1 < 1e-6f || p1 > 1 - 1e-6f;
        LT_CHECK(fabsf(p1 * 255.0f - roundf(p1 * 255.0f)) < 1e-3f,
                 "pixel %d not on the 1/255 grid: %g", i, (double)p1);
        LT_CHECK(p1 >= -1e-6f && p1 <= 1 + 1e-6f, "pixel %d out of [0, 1]", i);
        LT_CHECK(fabsf(step - 0.1f) < 3e-3f || at_edge || step == 0,
                 "pixel %d moved %g", i, (double)step);
        moved += step > 0;
        clipped += at_edge;
    }
    LT_CHECK(moved > B * PIX / 2, "only %d pixels moved", moved);
    lt_ctx_reset(c);
    bool was = lt_set_grad_enabled(c, false);
    double l[2];
    for (int t = 0; t < 2; t++) {
        lt_tensor *in = lt_from_data(c, 4, (int64_t[]){B, 1, 4, 4},
                                     t ? x : x0);
        l[t] = lt_cross_entropy(c, lt_model_forward(c, g_model, in, false), y,
                                LT_REDUCE_MEAN)->data[0];
    }
    lt_set_grad_enabled(c, was);
    LT_CHECK(l[1] > l[0], "FGSM did not raise the loss: %.4f -> %.4f", l[0],
             l[1]);
    (void)clipped;
    lt_ctx_free(c);
}

/* BS or BE lower forget accuracy; retain accuracy stays usable. */
static void check_boundary(lt_method_kind k, float lr)
{
    reset_model();
    lt_forget_set f = {0};
    LT_CHECK(lt_forget_select("class:0", &g_data, 1, &f) == LT_OK, "%s",
             lt_last_error());
    double l0, a0, l1, a1, lr_, ar;
    eval_on(f.forget, f.n_forget, &l0, &a0);
    lt_unlearn_cfg c = small_cfg(k, lr, 5, 16);
    c.fgsm_eps = 0.5f; /* a large step: the neighbours cross the boundary */
    lt_unlearn_report rep;
    LT_CHECK(lt_unlearn_run(g_model, &g_data, &f, &c, &rep) == LT_OK, "%s: %s",
             lt_method_name(k), lt_last_error());
    LT_CHECK(rep.steps == 5 * 5, "%s steps %lld", lt_method_name(k),
             (long long)rep.steps);
    eval_on(f.forget, f.n_forget, &l1, &a1);
    eval_on(f.retain, f.n_retain, &lr_, &ar);
    LT_CHECK(a1 < a0 - 50 && l1 > l0, "%s: forget accuracy %.2f -> %.2f, "
             "loss %.3f -> %.3f", lt_method_name(k), a0, a1, l0, l1);
    LT_CHECK(ar >= 60.0, "%s: retain accuracy %.2f%%", lt_method_name(k), ar);
    LT_CHECK(!strcmp(g_model->arch, "mlp:16-32-3") &&
                 g_model->in.classes == K, "%s changed the architecture",
             lt_method_name(k));
    LT_CHECK((k == LT_METHOD_BE) == (rep.be_model != NULL), "%s: be_model",
             lt_method_name(k));
    lt_model_free(rep.be_model);
    lt_forget_set_free(&f);
}

/* BE's evaluation as the OPTML code does it (main_forget.py evaluates the
 * widened model boundary_ex.py trained): the K+1-way model comes back in
 * rep.be_model, its first K rows equal m's, forget items sent to the
 * shadow class count as forgotten (UA over K+1 outputs >= UA of the
 * dropped-shadow weights), and be_drop_shadow returns none. */
LT_TEST(be_evaluates_k_plus_1_way_by_default)
{
    reset_model();
    lt_forget_set f = {0};
    LT_CHECK(lt_forget_select("class:0", &g_data, 1, &f) == LT_OK, "%s",
             lt_last_error());
    lt_unlearn_cfg c = small_cfg(LT_METHOD_BE, 0.05f, 2, 16);
    LT_CHECK(!c.be_drop_shadow, "default: K+1-way");
    lt_unlearn_report rep;
    LT_CHECK(lt_unlearn_run(g_model, &g_data, &f, &c, &rep) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(rep.be_model && rep.be_model->in.classes == K + 1, "be_model");
    if (rep.be_model) {
        lt_unlearn_metrics mk, mk1;
        LT_CHECK(lt_unlearn_metrics_of(g_model, &g_data, &g_data, &f, &mk) ==
                 LT_OK && lt_unlearn_metrics_of(rep.be_model, &g_data,
                 &g_data, &f, &mk1) == LT_OK, "%s", lt_last_error());
        float *lk1 = lt_model_logits(rep.be_model, &g_data);
        int64_t shadow = 0;
        for (int64_t i = 0; lk1 && i < f.n_forget; i++) {
            const float *row = lk1 + f.forget[i] * (K + 1);
            int best = 0;
            for (int j = 1; j <= K; j++)
                best = row[j] > row[best] ? j : best;
            shadow += best == K;
        }
        free(lk1);
        LT_CHECK(shadow > 0 && mk1.ua >= mk.ua, "UA K+1 %.2f (%lld forget "
                 "items to the shadow class) vs K-way %.2f", mk1.ua,
                 (long long)shadow, mk.ua);
    }
    lt_model_free(rep.be_model);
    reset_model();
    c.be_drop_shadow = true;
    LT_CHECK(lt_unlearn_run(g_model, &g_data, &f, &c, &rep) == LT_OK &&
             rep.be_model == NULL, "drop-shadow returns no K+1 model");
    lt_forget_set_free(&f);
}

LT_TEST(bs_lowers_forget_accuracy) { check_boundary(LT_METHOD_BS, 0.05f); }
LT_TEST(be_lowers_forget_accuracy) { check_boundary(LT_METHOD_BE, 0.05f); }

LT_TEST(expand_keeps_old_logits)
{
    reset_model();
    lt_model *big = NULL;
    LT_CHECK(lt_model_expand(g_model, 1, &big) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(!strcmp(big->arch, "mlp:16-32-4") && big->in.classes == K + 1,
             "expanded arch %s", big->arch);
    lt_ctx *c = lt_ctx_new(1 << 20);
    lt_set_grad_enabled(c, false);
    lt_tensor *in = lt_from_data(c, 4, (int64_t[]){4, 1, 4, 4}, g_data.x);
    lt_tensor *z0 = lt_model_forward(c, g_model, in, false);
    lt_tensor *z1 = lt_model_forward(c, big, in, false);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < K; j++)
            LT_CHECK(fabsf(z0->data[i * K + j] - z1->data[i * (K + 1) + j]) <
                         1e-5f * (1 + fabsf(z0->data[i * K + j])),
                     "logit %d,%d changed: %g vs %g (BLAS rounding differs "
                     "by output width, nothing more)", i, j,
                     (double)z0->data[i * K + j],
                     (double)z1->data[i * (K + 1) + j]);
    float *mask = malloc(sizeof(float) * (size_t)g_model->params.n_train);
    float *bmask = malloc(sizeof(float) * (size_t)big->params.n_train);
    for (int64_t i = 0; i < g_model->params.n_train; i++)
        mask[i] = (float)(i % 2);
    lt_mask_expand(g_model, mask, big, bmask);
    int64_t ones = 0;
    for (int64_t i = 0; i < big->params.n_train; i++)
        ones += bmask[i] != 0;
    int64_t old_ones = g_model->params.n_train / 2;
    LT_CHECK(ones == old_ones + 32 + 1, "expanded mask has %lld ones, want "
             "%lld + the new row (33)", (long long)ones, (long long)old_ones);
    big->params.theta[0] += 1.0f;
    lt_model_shrink_into(big, g_model);
    LT_CHECK(g_model->params.theta[0] == g_theta0[0] + 1.0f, "shrink copy");
    free(mask);
    free(bmask);
    lt_ctx_free(c);
    lt_model_free(big);
}

/* Runs configs ca and cb from the trained weights and checks they end
 * bit-identical (and moved). */
static void check_same(lt_unlearn_cfg ca, lt_unlearn_cfg cb, const char *what)
{
    lt_forget_set f = {0};
    setup();
    LT_CHECK(lt_forget_select("random:10%", &g_data, 3, &f) == LT_OK, "%s",
             lt_last_error());
    int64_t n = g_model->params.n_total;
    float *a = malloc(sizeof(float) * (size_t)n);
    lt_unlearn_report rep;
    reset_model();
    LT_CHECK(lt_unlearn_run(g_model, &g_data, &f, &ca, &rep) == LT_OK, "%s",
             lt_last_error());
    memcpy(a, g_model->params.theta, sizeof(float) * (size_t)n);
    reset_model();
    LT_CHECK(lt_unlearn_run(g_model, &g_data, &f, &cb, &rep) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(!memcmp(a, g_model->params.theta, sizeof(float) * (size_t)n),
             "%s", what);
    LT_CHECK(memcmp(a, g_theta0, sizeof(float) * (size_t)n), "%s: nothing "
             "moved", what);
    free(a);
    lt_forget_set_free(&f);
}

LT_TEST(ugradsl_limits)
{
    lt_unlearn_cfg ga = small_cfg(LT_METHOD_GA, 0.05f, 2, 8);
    lt_unlearn_cfg u = small_cfg(LT_METHOD_UGRADSL, 0.05f, 2, 8);
    u.smooth = 0;
    check_same(ga, u, "UGradSL with smoothing 0 is not GA");
    u.smooth = -0.5f;
    lt_unlearn_cfg up = small_cfg(LT_METHOD_UGRADSL_PLUS, 0.05f, 2, 8);
    up.smooth = -0.5f;
    up.retain_weight = 0;
    check_same(u, up, "UGradSL+ with p = 0 is not UGradSL");
}

LT_TEST(ugradsl_raises_forget_loss)
{
    reset_model();
    lt_forget_set f = {0};
    LT_CHECK(lt_forget_select("random:10%", &g_data, 1, &f) == LT_OK, "%s",
             lt_last_error());
    double l0, a0, l1, a1, lr, ar;
    eval_on(f.forget, f.n_forget, &l0, &a0);
    lt_unlearn_cfg c = small_cfg(LT_METHOD_UGRADSL_PLUS, 0.05f, 3, 8);
    lt_unlearn_report rep;
    LT_CHECK(lt_unlearn_run(g_model, &g_data, &f, &c, &rep) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(rep.steps == 9, "UGradSL+ steps %lld: one per forget batch",
             (long long)rep.steps);
    eval_on(f.forget, f.n_forget, &l1, &a1);
    eval_on(f.retain, f.n_retain, &lr, &ar);
    LT_CHECK(l1 > l0 + 0.2, "forget loss %.4f -> %.4f", l0, l1);
    LT_CHECK(ar >= 90.0, "retain accuracy %.2f%% after UGradSL+", ar);
    lt_forget_set_free(&f);
}

LT_TEST(soft_mask_values)
{
    const float g[6] = {0.5f, -2.0f, 1.0f, 0.0f, -0.25f, 4.0f};
    float m[6];
    LT_CHECK(lt_mask_soft(g, 6, 0.5, m) == LT_OK, "%s", lt_last_error());
    /* the top 3 of |g| are 4, 2 and 1: tau = 1 */
    const float want[6] = {0.5f, 1, 1, 0, 0.25f, 1};
    for (int i = 0; i < 6; i++)
        LT_CHECK(m[i] == want[i], "m[%d] = %g, want %g", i, (double)m[i],
                 (double)want[i]);
    lt_mask_spec s;
    LT_CHECK(lt_mask_parse("soft:0.5", &s) == LT_OK &&
                 s.kind == LT_MASK_SOFT && s.ratio == 0.5, "parse soft");
    LT_CHECK(lt_mask_parse("soft:2", &s) == LT_ERR_ARG, "soft:2 accepted");
}

/* RL_proximal against a transcription of the official function's code
 * path (tests/golden/gen_rl_proximal.py): a tiny MLP, SGD momentum 0.9 /
 * weight decay 5e-4, the recorded joint forget + retain batches, and after
 * every step the shrink toward the epoch's starting weights with the
 * official k schedule. */
LT_TEST(rl_proximal_matches_official_golden)
{
    lt_golden *g = lt_golden_load("rl_proximal.bin");
    if (!g)
        return;
    const float *meta = lt_golden_get(g, "meta")->data;
    int epochs = (int)meta[0], nb = (int)meta[3];
    int64_t len = (int64_t)meta[1];
    lt_params ps;
    lt_params_init(&ps);
    lt_params_add(&ps, "fc1.weight", 2, (int64_t[]){5, 4}, true);
    lt_params_add(&ps, "fc1.bias", 1, (int64_t[]){5}, true);
    lt_params_add(&ps, "fc2.weight", 2, (int64_t[]){3, 5}, true);
    lt_params_add(&ps, "fc2.bias", 1, (int64_t[]){3}, true);
    LT_CHECK(lt_params_finalize(&ps) == LT_OK && ps.n_train == 43, "params");
    memcpy(ps.theta, lt_golden_get(g, "theta0")->data, 43 * sizeof(float));
    lt_optim_config oc = lt_optim_defaults(LT_OPT_SGD);
    oc.lr = meta[5];
    oc.momentum = 0.9f;
    oc.weight_decay = 5e-4f;
    lt_optim opt;
    LT_CHECK(lt_optim_init(&opt, &oc, 43) == LT_OK, "optim");
    lt_ctx *c = lt_ctx_new(1 << 20);
    float theta0[43];
    char name[64];
    for (int e = 0; e < epochs; e++) {
        memcpy(theta0, ps.theta, sizeof theta0);
        int64_t k = lt_proximal_count(meta[4], epochs, len, e, 43);
        snprintf(name, sizeof name, "k.%d", e);
        LT_CHECK(k == (int64_t)lt_golden_get(g, name)->data[0], "epoch %d: "
                 "k %lld want %g", e, (long long)k,
                 lt_golden_get(g, name)->data[0]);
        for (int b = 0; b < nb; b++) {
            lt_ctx_reset(c);
            snprintf(name, sizeof name, "x.%d.%d", e, b);
            lt_tensor *x = lt_golden_tensor(c, g, name, false);
            snprintf(name, sizeof name, "y.%d.%d", e, b);
            int32_t *y = lt_golden_ints(c, g, name);
            lt_tensor *h = lt_relu(c, lt_linear(c, x, lt_params_get(&ps,
                "fc1.weight"), lt_params_get(&ps, "fc1.bias")));
            lt_tensor *z = lt_linear(c, h, lt_params_get(&ps, "fc2.weight"),
                                     lt_params_get(&ps, "fc2.bias"));
            lt_tensor *l = lt_cross_entropy(c, z, y, LT_REDUCE_MEAN);
            LT_CHECK(l && lt_backward(c, l) == LT_OK &&
                     lt_optim_step(&opt, ps.theta, ps.grad, NULL, oc.lr) ==
                     LT_OK && lt_proximal_shrink(ps.theta, theta0, 43, k,
                                                 NULL, NULL) == LT_OK,
                     "step %d.%d: %s", e, b, lt_last_error());
            lt_params_zero_grad(&ps);
            snprintf(name, sizeof name, "theta.%d.%d", e, b);
            lt_golden_check(__FILE__, __LINE__, g, name, ps.theta, 43, 1e-4);
        }
    }
    lt_ctx_free(c);
    lt_optim_free(&opt);
    lt_params_free(&ps);
    lt_golden_free(g);
}

/* The shrink by hand: d = (0.5, -0.1, 0.2, -0.4, 0), k = 3: tau = 0.2 (the
 * third smallest |d|); 0.5 -> 0.3, -0.4 -> -0.2, the rest to theta0. */
LT_TEST(proximal_shrink_by_hand)
{
    float t0[5] = {1, 1, 1, 1, 1}, t[5] = {1.5f, 0.9f, 1.2f, 0.6f, 1};
    float tau = -1;
    LT_CHECK(lt_proximal_shrink(t, t0, 5, 3, NULL, &tau) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(fabsf(tau - 0.2f) < 1e-6f, "tau %g", tau);
    LT_CHECK(fabsf(t[0] - (1.5f - tau)) < 1e-7f && t[1] == 1 && t[2] == 1 &&
             fabsf(t[3] - (0.6f + tau)) < 1e-7f && t[4] == 1, "shrunk %g %g "
             "%g %g %g", t[0], t[1], t[2], t[3], t[4]);
    LT_CHECK(lt_proximal_count(0.5, 10, 100, 0, 1000) ==
             (int64_t)(0.5 * ((1000.0 - 1) / 1000 * 1000)), "k schedule");
    LT_CHECK(lt_proximal_count(0.5, 2, 4, 1, 43) == 8, "k epoch 1: int(0.5 *"
             " 3/8 * 43) = 8, got %lld", (long long)lt_proximal_count(0.5, 2,
             4, 1, 43));
}

/* salun-soft through lt_unlearn_run: one joint pass per epoch, and after
 * the last step at least k weights sit exactly at the last epoch's
 * starting values. */
LT_TEST(salun_soft_runs_rl_proximal)
{
    reset_model();
    lt_forget_set f = {0};
    LT_CHECK(lt_forget_select("class:2", &g_data, 1, &f) == LT_OK, "%s",
             lt_last_error());
    lt_unlearn_cfg c = small_cfg(LT_METHOD_SALUN_SOFT, 0.05f, 1, 16);
    lt_unlearn_report rep;
    int64_t n = g_model->params.n_train, moved = 0;
    LT_CHECK(lt_unlearn_run(g_model, &g_data, &f, &c, &rep) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(rep.steps == 15, "steps %lld: 240 items in batches of 16",
             (long long)rep.steps);
    for (int64_t i = 0; i < n; i++)
        moved += g_model->params.theta[i] != g_theta0[i];
    int64_t k = lt_proximal_count(0.5, 1, 5 + 10, 0, n);
    LT_CHECK(n - moved >= k && moved > 0, "%lld of %lld weights moved, k "
             "%lld", (long long)moved, (long long)n, (long long)k);
    lt_forget_set_free(&f);
}

/* ---- BE against the official code path (gen_be_expand.py) ------------- */

/* A dataset of n items [n, 4] (1 x 2 x 2 "images", K classes) from the
 * golden's entries xname / yname. */
static void be_dataset(const lt_golden *g, const char *xname,
                       const char *yname, lt_dataset *d)
{
    const lt_golden_entry *x = lt_golden_get(g, xname),
                          *y = lt_golden_get(g, yname);
    memset(d, 0, sizeof *d);
    strcpy(d->name, "golden");
    d->n = y->numel;
    d->c = 1;
    d->h = d->w = 2;
    d->classes = K;
    d->std[0] = 1.0f;
    d->x = malloc(sizeof(float) * (size_t)(4 * d->n));
    d->y = malloc(sizeof(int32_t) * (size_t)d->n);
    memcpy(d->x, x->data, sizeof(float) * (size_t)(4 * d->n));
    for (int64_t i = 0; i < d->n; i++)
        d->y[i] = (int32_t)lrintf(y->data[i]);
}

/* boundary_ex.py's loop on the widened model big, replayed step by step:
 * SGD(lr, momentum 0.9, weight decay 5e-4) built on big's parameters, each
 * epoch one step on the 4 forget items (rows 0..3 of tr) with every target
 * K. After epoch e, theta is compared with the golden's theta.E when g is
 * given. */
static void be_replay(lt_model *big, const lt_dataset *tr, int epochs,
                      float lr, const lt_golden *g)
{
    lt_optim_config oc = lt_optim_defaults(LT_OPT_SGD);
    oc.lr = lr;
    oc.momentum = 0.9f;
    oc.weight_decay = 5e-4f;
    lt_params *ps = &big->params;
    lt_optim opt;
    LT_CHECK(lt_optim_init(&opt, &oc, ps->n_train) == LT_OK, "optim");
    lt_ctx *c = lt_ctx_new(1 << 20);
    int32_t shadow[4] = {K, K, K, K};
    char name[32];
    for (int e = 0; e < epochs; e++) {
        lt_ctx_reset(c);
        lt_tensor *x = lt_from_data(c, 4, (int64_t[]){4, 1, 2, 2}, tr->x);
        lt_tensor *l = lt_cross_entropy(c, lt_model_forward(c, big, x, true),
                                        shadow, LT_REDUCE_MEAN);
        LT_CHECK(l && lt_backward(c, l) == LT_OK &&
                 lt_optim_step(&opt, ps->theta, ps->grad, NULL, lr) == LT_OK,
                 "epoch %d: %s", e, lt_last_error());
        lt_params_zero_grad(ps);
        snprintf(name, sizeof name, "theta.%d", e);
        if (g)
            lt_golden_check(__FILE__, __LINE__, g, name, ps->theta, 49, 1e-5);
    }
    lt_ctx_free(c);
    lt_optim_free(&opt);
}

/* The golden's original model, its data and the forget set rows 0..3. */
typedef struct {
    lt_golden *g;
    lt_dataset tr, te;
    lt_model *m;
    lt_forget_set f;
} be_case;

static bool be_case_open(be_case *b)
{
    memset(b, 0, sizeof *b);
    if (!(b->g = lt_golden_load("be_expand.bin")))
        return false;
    be_dataset(b->g, "x", "y", &b->tr);
    be_dataset(b->g, "xt", "yt", &b->te);
    LT_CHECK(lt_model_create("mlp:4-5-3", (lt_input_spec){1, 2, 2, K},
                             &b->m) == LT_OK && b->m->params.n_total == 43,
             "%s", lt_last_error());
    memcpy(b->m->params.theta, lt_golden_get(b->g, "theta0")->data,
           43 * sizeof(float));
    LT_CHECK(lt_forget_from_list((int64_t[]){0, 1, 2, 3}, 4, b->tr.n,
                                 LT_FORGET_INDICES, "rows 0..3", &b->f) ==
             LT_OK, "%s", lt_last_error());
    return true;
}

static void be_case_close(be_case *b)
{
    lt_forget_set_free(&b->f);
    lt_model_free(b->m);
    lt_dataset_free(&b->tr);
    lt_dataset_free(&b->te);
    lt_golden_free(b->g);
}

/* Boundary expanding as the OPTML code runs and evaluates it: the widened
 * head keeps the old rows, the new row (nn.Linear's own init in the golden)
 * is put in, three SGD steps toward the shadow class follow the official
 * weights, and the K+1-way model's UA / RA / TA / MIA-efficacy equal
 * main_forget.py's (top-1 over K+1 outputs; SVC on the K+1 softmax). */
LT_TEST(be_matches_official_golden)
{
    be_case b;
    if (!be_case_open(&b))
        return;
    const float *meta = lt_golden_get(b.g, "meta")->data;
    lt_model *big = NULL;
    LT_CHECK(lt_model_expand(b.m, 7, &big) == LT_OK &&
             big->params.n_total == 49, "%s", lt_last_error());
    lt_tensor *w = lt_params_get(&big->params, "layers.2.weight");
    lt_tensor *bias = lt_params_get(&big->params, "layers.2.bias");
    LT_CHECK(w && bias && w->shape[0] == K + 1, "widened head");
    memcpy(w->data + K * 5, lt_golden_get(b.g, "new_w")->data,
           5 * sizeof(float));
    bias->data[K] = lt_golden_get(b.g, "new_b")->data[0];
    be_replay(big, &b.tr, (int)meta[0], meta[1], b.g);
    lt_unlearn_metrics got;
    LT_CHECK(lt_unlearn_metrics_of(big, &b.tr, &b.te, &b.f, &got) == LT_OK,
             "%s", lt_last_error());
    const float *want = lt_golden_get(b.g, "metrics")->data;
    LT_CHECK(fabs(got.ua - want[0]) < 1e-4 && fabs(got.ra - want[1]) < 1e-4 &&
             fabs(got.ta - want[2]) < 1e-4 && fabs(got.mia - want[3]) < 1e-4,
             "UA/RA/TA/MIA %.2f %.2f %.2f %.2f, official %.2f %.2f %.2f %.2f",
             got.ua, got.ra, got.ta, got.mia, want[0], want[1], want[2],
             want[3]);
    lt_model_free(big);
    be_case_close(&b);
}

/* lt_unlearn_run's BE is the procedure checked above: its K+1-way model
 * equals the replay started from the same widened copy (Lethe's own new
 * row, seed cfg.seed), weight for weight, and its metrics agree. */
LT_TEST(be_run_is_the_official_procedure)
{
    be_case b;
    if (!be_case_open(&b))
        return;
    const float *meta = lt_golden_get(b.g, "meta")->data;
    lt_unlearn_cfg c = small_cfg(LT_METHOD_BE, meta[1], (int)meta[0], 16);
    lt_model *big = NULL;
    LT_CHECK(lt_model_expand(b.m, c.seed, &big) == LT_OK, "%s",
             lt_last_error());
    be_replay(big, &b.tr, c.epochs, c.optim.lr, NULL);
    lt_unlearn_report rep;
    LT_CHECK(lt_unlearn_run(b.m, &b.tr, &b.f, &c, &rep) == LT_OK &&
             rep.be_model && rep.steps == c.epochs, "%s", lt_last_error());
    double worst = 0;
    for (int64_t i = 0; rep.be_model && i < 49; i++)
        worst = fmax(worst, fabs(rep.be_model->params.theta[i] -
                                 big->params.theta[i]));
    LT_CHECK(worst < 1e-6, "lt_unlearn_run's BE is %g from the replay", worst);
    lt_unlearn_metrics a, r;
    LT_CHECK(rep.be_model && lt_unlearn_metrics_of(rep.be_model, &b.tr, &b.te,
             &b.f, &a) == LT_OK && lt_unlearn_metrics_of(big, &b.tr, &b.te,
             &b.f, &r) == LT_OK && a.ua == r.ua && a.mia == r.mia,
             "metrics of the run vs the replay");
    lt_model_free(rep.be_model);
    lt_model_free(big);
    be_case_close(&b);
}

LT_TEST(zz_cleanup)
{
    lt_model_free(g_model);
    g_model = NULL;
    free(g_theta0);
    lt_dataset_free(&g_data);
}

/* Switching the optimizer keeps the method's lr; SGD keeps its recipe. */
LT_TEST(unlearn_set_optim)
{
    lt_unlearn_cfg c = lt_unlearn_defaults(LT_METHOD_GA), d = c;
    (void)d;
    float lr = c.optim.lr;
    LT_CHECK(lt_unlearn_set_optim(&c, "adamw") == LT_OK &&
                 c.optim.kind == LT_OPT_ADAMW && c.optim.lr == lr &&
                 c.optim.weight_decay == 1e-2f, "adamw");
    LT_CHECK(lt_unlearn_set_optim(&c, "sgd") == LT_OK &&
                 c.optim.kind == d.optim.kind && c.optim.lr == lr &&
                 c.optim.momentum == d.optim.momentum &&
                 c.optim.weight_decay == d.optim.weight_decay,
             "sgd is the default again");
    LT_CHECK(lt_unlearn_set_optim(&c, "lion") == LT_ERR_ARG &&
                 c.optim.kind == LT_OPT_SGD && c.optim.lr == lr,
             "unknown: unchanged");
}

LT_TEST_MAIN()
