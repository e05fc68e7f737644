/*
 * test_select.c - worst-case forget-set selection: the capped-simplex
 * projection lands exactly on the constraint set for hand-made inputs;
 * on a small noisy problem the worst-case set is measurably harder to
 * forget than a random set of the same size (Retrain keeps a higher
 * accuracy on it) and the easiest set is easier; class-wise selection
 * returns whole classes; runs are deterministic; bad settings are errors.
 */
#include "lt_test.h"
#include "lethe/io.h"
#include "lethe/methods.h"
#include "lethe/select.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { N_ITEMS = 600, PIX = 16, K = 3 };

static lt_dataset g_data;
static lt_model *g_model;

/* Class c: +1 on pixels p with p % 3 == c, -1 elsewhere, plus N(0, 2^2):
 * overlapping classes, so some items are atypical. */
static void setup(void)
{
    if (g_model)
        return;
    lt_dataset *d = &g_data;
    memset(d, 0, sizeof *d);
    strcpy(d->name, "synthetic");
    d->n = N_ITEMS;
    d->c = 1;
    d->h = d->w = 4;
    d->classes = K;
    d->std[0] = 1;
    d->x = malloc(sizeof(float) * N_ITEMS * PIX);
    d->y = malloc(sizeof(int32_t) * N_ITEMS);
    lt_rng r;
    lt_rng_init(&r, 7);
    for (int i = 0; i < N_ITEMS; i++) {
        d->y[i] = i % K;
        for (int p = 0; p < PIX; p++)
            d->x[i * PIX + p] = (p % K == d->y[i] ? 0.5f : -0.5f) +
                                2.0f * lt_rng_normal(&r);
    }
    LT_CHECK(lt_model_create("mlp:16-32-3", (lt_input_spec){1, 4, 4, K},
                             &g_model) == LT_OK, "%s", lt_last_error());
    lt_model_init(g_model, 1);
    lt_train_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.optim = lt_optim_defaults(LT_OPT_SGD);
    cfg.optim.momentum = 0.9f;
    cfg.sched = (lt_schedule){.kind = LT_SCHED_CONSTANT, .base_lr = 0.05f};
    cfg.optim.lr = 0.05f;
    cfg.epochs = 20;
    cfg.batch = 32;
    cfg.seed = 3;
    lt_train_report rep;
    LT_CHECK(lt_train_classifier(g_model, &g_data, NULL, &cfg, &rep) == 0,
             "%s", lt_last_error());
}

LT_TEST(projection_hand_cases)
{
    double w[5] = {0.5, 0.2, 0.9, -0.3, 1.4};
    LT_CHECK(lt_project_capped_simplex(w, 5, 2.0) == LT_OK, "%s",
             lt_last_error());
    const double want[5] = {0.3, 0, 0.7, 0, 1}; /* mu = 0.2 */
    double sum = 0;
    for (int i = 0; i < 5; i++) {
        LT_CHECK(fabs(w[i] - want[i]) < 1e-12, "w[%d] = %.15g, want %g", i,
                 w[i], want[i]);
        sum += w[i];
    }
    LT_CHECK(fabs(sum - 2.0) < 1e-12, "sum %.15g", sum);
    double e[10];
    for (int i = 0; i < 10; i++)
        e[i] = 0.3;
    LT_CHECK(lt_project_capped_simplex(e, 10, 4.0) == LT_OK, "equal");
    for (int i = 0; i < 10; i++)
        LT_CHECK(fabs(e[i] - 0.4) < 1e-12, "e[%d] = %.15g", i, e[i]);
    double big[4] = {5, 7, -9, 6}; /* all mass on the three largest */
    LT_CHECK(lt_project_capped_simplex(big, 4, 3.0) == LT_OK, "big");
    LT_CHECK(big[0] == 1 && big[1] == 1 && big[2] == 0 && big[3] == 1,
             "big: %g %g %g %g", big[0], big[1], big[2], big[3]);
    LT_CHECK(lt_project_capped_simplex(e, 10, 10.0) == LT_ERR_ARG, "m = n");
    LT_CHECK(lt_project_capped_simplex(e, 10, 0.0) == LT_ERR_ARG, "m = 0");
    e[3] = NAN;
    LT_CHECK(lt_project_capped_simplex(e, 10, 2.0) == LT_ERR_NAN, "NaN");
}

/* Accuracy (%) on forget set f of a Retrain on its retain part. */
static double retrain_forget_acc(const int64_t *idx, int64_t k)
{
    lt_forget_set f = {0};
    LT_CHECK(lt_forget_from_list(idx, k, g_data.n, LT_FORGET_INDICES, "t",
                                 &f) == LT_OK, "%s", lt_last_error());
    lt_model *m = NULL;
    LT_CHECK(lt_model_create("mlp:16-32-3", (lt_input_spec){1, 4, 4, K}, &m) ==
             LT_OK, "%s", lt_last_error());
    lt_unlearn_cfg c = lt_unlearn_defaults(LT_METHOD_RETRAIN);
    c.optim.lr = 0.05f;
    c.epochs = 10;
    c.batch = 32;
    lt_unlearn_report rep;
    LT_CHECK(lt_unlearn_run(m, &g_data, &f, &c, &rep) == LT_OK, "%s",
             lt_last_error());
    lt_dataset sub;
    double loss, acc;
    LT_CHECK(lt_dataset_subset(&g_data, f.forget, f.n_forget, &sub) == LT_OK,
             "%s", lt_last_error());
    LT_CHECK(lt_evaluate(m, &sub, 64, &loss, &acc, NULL) == LT_OK, "%s",
             lt_last_error());
    lt_dataset_free(&sub);
    lt_model_free(m);
    lt_forget_set_free(&f);
    return acc;
}

LT_TEST(worst_case_is_harder_to_forget)
{
    setup();
    lt_select_cfg c = lt_select_defaults();
    c.m = 60;
    c.upper_epochs = 4;
    c.lower_steps = 10;  /* Lethe's earlier short setting: fast here */
    c.lower_lr = 1e-3f;
    c.upper_lr = 1.0f;
    c.gamma = 1e-3f;
    c.init_uniform = true;
    c.eval_losses = true;
    c.batch = 64;
    lt_select_result worst, easy, again;
    float *before = malloc(sizeof(float) * (size_t)g_model->params.n_total);
    memcpy(before, g_model->params.theta,
           sizeof(float) * (size_t)g_model->params.n_total);
    LT_CHECK(lt_select_worst(g_model, &g_data, &c, &worst) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(!memcmp(before, g_model->params.theta,
                     sizeof(float) * (size_t)g_model->params.n_total),
             "selection did not restore the original weights");
    LT_CHECK(worst.n == 60 && worst.n_objective == 4, "%lld items, %d "
             "objectives", (long long)worst.n, worst.n_objective);
    for (int64_t i = 1; i < worst.n; i++)
        LT_CHECK(worst.idx[i] > worst.idx[i - 1], "not ascending at %lld",
                 (long long)i);
    LT_CHECK(lt_select_worst(g_model, &g_data, &c, &again) == LT_OK, "again");
    LT_CHECK(!memcmp(worst.idx, again.idx, sizeof(int64_t) * 60),
             "two runs with the same seed differ");
    c.easiest = true;
    LT_CHECK(lt_select_worst(g_model, &g_data, &c, &easy) == LT_OK, "%s",
             lt_last_error());
    int64_t rnd[60], perm[N_ITEMS];
    lt_permutation(perm, N_ITEMS, 11);
    for (int i = 0; i < 60; i++)
        rnd[i] = perm[i];
    double aw = retrain_forget_acc(worst.idx, 60);
    double ar = retrain_forget_acc(rnd, 60);
    double ae = retrain_forget_acc(easy.idx, 60);
    LT_CHECK(aw > ar + 10 && ar > ae, "Retrain's accuracy on the forget "
             "set: worst-case %.1f%%, random %.1f%%, easiest %.1f%%", aw, ar,
             ae);
    free(before);
    lt_select_result_free(&worst);
    lt_select_result_free(&again);
    lt_select_result_free(&easy);
}

/* The official defaults (Unlearn-WorstCase data-wise arg_parser.py and
 * main_selmu.py): 10 upper iterations, 10 epochs of sign-SGD at 0.01,
 * w_lr 0.01, gamma 0, a random binary start, train-mode losses; they run
 * and select m items, deterministically. */
LT_TEST(official_defaults_run)
{
    setup();
    lt_select_cfg c = lt_select_defaults();
    LT_CHECK(c.upper_epochs == 10 && c.lower_epochs == 10 &&
             c.lower_steps == 0 && c.lower_lr == 0.01f &&
             c.upper_lr == 0.01f && c.gamma == 0.0f && !c.init_uniform &&
             !c.eval_losses && c.batch == 256, "defaults");
    c.m = 60;
    c.upper_epochs = 2;
    c.lower_epochs = 2;
    c.batch = 64;
    lt_select_result a, b;
    LT_CHECK(lt_select_worst(g_model, &g_data, &c, &a) == LT_OK &&
             lt_select_worst(g_model, &g_data, &c, &b) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(a.n == 60 && !memcmp(a.idx, b.idx, sizeof(int64_t) * 60),
             "60 items, the same twice");
    lt_select_result_free(&a);
    lt_select_result_free(&b);
}

/* The upper step against a transcription of optimize_select + bisection
 * (tests/golden/gen_worst_upper.py): Lethe's exact projection agrees with
 * the official bisection (tolerance 1e-5 on mu) to 1e-4 per weight. */
LT_TEST(upper_step_matches_official_bisection)
{
    lt_golden *g = lt_golden_load("worst_upper.bin");
    if (!g)
        return;
    const lt_golden_entry *w0 = lt_golden_get(g, "w0");
    const float *meta = lt_golden_get(g, "meta")->data;
    int64_t n = w0->numel;
    double w[256];
    for (int64_t i = 0; i < n; i++)
        w[i] = w0->data[i];
    char name[32];
    for (int it = 0; it < 3; it++) {
        snprintf(name, sizeof name, "loss.%d", it);
        const float *l = lt_golden_get(g, name)->data;
        for (int64_t i = 0; i < n; i++)
            w[i] -= (double)meta[1] * ((double)l[i] + 2.0 * meta[2] * w[i]);
        LT_CHECK(lt_project_capped_simplex(w, n, meta[0]) == LT_OK, "%s",
                 lt_last_error());
        snprintf(name, sizeof name, "w.%d", it);
        const float *want = lt_golden_get(g, name)->data;
        double worst = 0;
        for (int64_t i = 0; i < n; i++)
            worst = fmax(worst, fabs(w[i] - want[i]));
        LT_CHECK(worst < 1e-4, "iteration %d: max |w - official| %g", it,
                 worst);
    }
    lt_golden_free(g);
}

LT_TEST(class_wise_selects_whole_classes)
{
    setup();
    lt_select_cfg c = lt_select_defaults();
    c.by_class = true;
    c.m = 1;
    c.upper_epochs = 2;
    c.lower_steps = 5;
    c.batch = 64;
    lt_select_result r;
    LT_CHECK(lt_select_worst(g_model, &g_data, &c, &r) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(r.n == N_ITEMS / K, "%lld items for one class", (long long)r.n);
    for (int64_t i = 1; i < r.n; i++)
        LT_CHECK(g_data.y[r.idx[i]] == g_data.y[r.idx[0]], "mixed classes");
    lt_select_result_free(&r);
    c.m = 3;
    LT_CHECK(lt_select_worst(g_model, &g_data, &c, &r) == LT_ERR_ARG,
             "all classes accepted");
    c.by_class = false;
    c.m = 60;
    c.upper_epochs = 0;
    LT_CHECK(lt_select_worst(g_model, &g_data, &c, &r) == LT_ERR_ARG,
             "0 upper epochs accepted");
}

LT_TEST(zz_cleanup)
{
    lt_model_free(g_model);
    g_model = NULL;
    lt_dataset_free(&g_data);
}

/* The summary JSON: settings, class histogram of the selected items, the
 * objective per iteration, and the precision (the process default: fp32,
 * then bf16 as --precision bf16 sets it) and backend of the run. */
LT_TEST(select_summary_json)
{
    int32_t y[6] = {0, 1, 1, 2, 2, 2};
    lt_dataset d = {.name = "toy", .n = 6, .classes = 3, .y = y};
    int64_t idx[3] = {1, 3, 4};
    double obj[2] = {0.75, 0.25};
    lt_select_result r = {idx, 3, obj, 2, 1.0};
    lt_select_cfg c = lt_select_defaults();
    c.m = 3;
    c.easiest = true;
    char path[] = "/tmp/lt_select_XXXXXX";
    int fd = mkstemp(path);
    LT_CHECK(fd >= 0, "mkstemp");
    close(fd);
    char *t = NULL;
    LT_CHECK(lt_select_save_json(path, "m.st", &d, &c, &r) == LT_OK &&
                 lt_read_file(path, &t, NULL) == LT_OK, "%s", lt_last_error());
    LT_CHECK(t && strstr(t, "\"objective_kind\":\t\"easiest\"") &&
                 strstr(t, "\"by\":\t\"item\"") &&
                 strstr(t, "\"class_histogram\":\t[0, 1, 2]") &&
                 strstr(t, "\"objective\":\t[0.75, 0.25]"), "%s",
             t ? t : "");
    free(t);
    const char *why = lt_test_json_precision(path, "fp32");
    LT_CHECK(!why, "%s", why);
    lt_precision old = lt_default_precision();
    lt_set_default_precision(LT_PRECISION_BF16);
    LT_CHECK(lt_select_save_json(path, "m.st", &d, &c, &r) == LT_OK, "%s",
             lt_last_error());
    lt_set_default_precision(old);
    why = lt_test_json_precision(path, "bf16");
    LT_CHECK(!why, "bf16: %s", why);
    unlink(path);
}

LT_TEST_MAIN()
