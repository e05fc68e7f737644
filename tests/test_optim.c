/*
 * test_optim.c - optimizers against PyTorch (SGD, Adam, AdamW) and against
 * the official SophiaG update written out in Python (both Hessian modes);
 * exact freezing of masked weights; NaN gradients rejected without change;
 * gradient clipping and learning-rate schedules against hand values.
 */
#include "lt_test.h"

#include <math.h>
#include <string.h>

enum { N = 37, STEPS = 6 };

static void run_opt(const lt_golden *g, lt_optim_config cfg, const char *want,
                    const float *mask)
{
    const lt_golden_entry *t0 = lt_golden_get(g, "theta0");
    const lt_golden_entry *gr = lt_golden_get(g, "grads");
    const lt_golden_entry *gh = lt_golden_get(g, "ghat");
    if (!t0 || !gr || !gh)
        return;
    float th[N];
    memcpy(th, t0->data, sizeof th);
    lt_optim o;
    LT_CHECK(lt_optim_init(&o, &cfg, N) == LT_OK, "%s", lt_last_error());
    for (int s = 0; s < STEPS; s++) {
        LT_CHECK(lt_optim_step(&o, th, gr->data + s * N, mask, cfg.lr) ==
                     LT_OK, "%s", lt_last_error());
        if (lt_sophia_wants_hessian(&o))
            lt_sophia_hessian(&o, gh->data + s * N, mask);
    }
    if (!mask)
        LT_GOLDEN_CHECK(g, want, th, N);
    else
        for (int i = 0; i < N; i++)
            if (mask[i] == 0)
                LT_CHECK(memcmp(&th[i], &t0->data[i], sizeof(float)) == 0,
                         "%s: masked weight %d moved", want, i);
    lt_optim_free(&o);
}

static lt_optim_config cfg_of(lt_optim_kind k, float lr, float wd)
{
    lt_optim_config c = lt_optim_defaults(k);
    c.lr = lr;
    c.weight_decay = wd;
    return c;
}

static void run_all(const lt_golden *g, const float *mask)
{
    lt_optim_config c = cfg_of(LT_OPT_SGD, 0.1f, 5e-4f);
    run_opt(g, c, "sgd", mask);
    c = cfg_of(LT_OPT_SGD, 0.1f, 1e-2f);
    c.nesterov = true;
    run_opt(g, c, "sgd_nesterov", mask);
    c = cfg_of(LT_OPT_SGD, 0.1f, 0);
    c.momentum = 0;
    run_opt(g, c, "sgd_plain", mask);
    run_opt(g, cfg_of(LT_OPT_ADAM, 0.01f, 1e-2f), "adam", mask);
    run_opt(g, cfg_of(LT_OPT_ADAMW, 0.01f, 0.1f), "adamw", mask);
    c = cfg_of(LT_OPT_SOPHIA, 0.01f, 0.1f);
    c.hessian_interval = 2;
    run_opt(g, c, "sophia_gnb", mask);
}

LT_TEST(optimizers_match_reference)
{
    lt_golden *g = lt_golden_load("optim.bin");
    run_all(g, NULL);
    lt_golden_free(g);
}

/* SOUL's SophiaG step sequence over 8 steps against a transcription of
 * SOUL's sophia.py (tests/golden/gen_sophia_soul.py): the momentum twice
 * per step, bs 5120, betas (0.9, 0.95), weight decay only where wd_mask. */
LT_TEST(sophia_soul_matches_soul_code)
{
    lt_golden *g = lt_golden_load("sophia_soul.bin");
    if (!g)
        return;
    const lt_golden_entry *t0 = lt_golden_get(g, "theta0");
    const lt_golden_entry *gr = lt_golden_get(g, "grads");
    const lt_golden_entry *dm = lt_golden_get(g, "decay");
    const float *meta = lt_golden_get(g, "meta")->data;
    int64_t n = t0->numel;
    float th[64];
    memcpy(th, t0->data, (size_t)n * sizeof(float));
    lt_optim_config c;
    LT_CHECK(lt_optim_parse("sophia-soul", &c) == LT_OK, "parse");
    c.lr = meta[0];
    LT_CHECK(c.beta1 == meta[1] && c.beta2 == meta[2] && c.rho == meta[3] &&
             c.weight_decay == meta[4] && c.sophia_bs == meta[5],
             "defaults are SOUL's");
    lt_optim o;
    LT_CHECK(lt_optim_init(&o, &c, n) == LT_OK, "%s", lt_last_error());
    o.wd_mask = dm->data;
    char name[32];
    for (int s = 0; s < gr->shape[0]; s++) {
        LT_CHECK(lt_optim_step(&o, th, gr->data + s * n, NULL, c.lr) ==
                 LT_OK, "%s", lt_last_error());
        LT_CHECK(!lt_sophia_wants_hessian(&o), "no GNB refresh in soul mode");
        snprintf(name, sizeof name, "theta.%d", s);
        lt_golden_check(__FILE__, __LINE__, g, name, th, n, 1e-5);
    }
    lt_optim_free(&o);
    lt_golden_free(g);
}

LT_TEST(masked_weights_do_not_move)
{
    lt_golden *g = lt_golden_load("optim.bin");
    float mask[N];
    for (int i = 0; i < N; i++)
        mask[i] = (i % 3 == 0) ? 0.0f : 1.0f;
    run_all(g, mask);
    lt_golden_free(g);
}

LT_TEST(nan_gradient_changes_nothing)
{
    float th[4] = {1, 2, 3, 4}, gr[4] = {0.1f, NAN, 0.3f, 0.4f};
    lt_optim_config c = lt_optim_defaults(LT_OPT_ADAM);
    lt_optim o;
    lt_optim_init(&o, &c, 4);
    LT_CHECK(lt_optim_step(&o, th, gr, NULL, 0.1f) == LT_ERR_NAN,
             "NaN gradient accepted");
    LT_CHECK(strstr(lt_last_error(), "gradient 1 is NaN"), "%s",
             lt_last_error());
    LT_CHECK(th[0] == 1 && th[2] == 3 && o.step == 0 && o.m[0] == 0,
             "state changed");
    float mask[4] = {1, 0, 1, 1}; /* a NaN on a frozen weight is ignored */
    LT_CHECK(lt_optim_step(&o, th, gr, mask, 0.1f) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(th[1] == 2 && th[0] != 1, "mask not honoured");
    lt_optim_free(&o);
}

LT_TEST(parse_names)
{
    lt_optim_config c;
    LT_CHECK(lt_optim_parse("sophia-soul", &c) == LT_OK &&
                 c.kind == LT_OPT_SOPHIA && c.hessian_mode == LT_SOPHIA_SOUL &&
                 c.rho == 0.04f && c.beta1 == 0.9f && c.beta2 == 0.95f &&
                 c.sophia_bs == 5120.0f && c.weight_decay == 0.1f,
             "sophia-soul: SOUL's configs and bs");
    LT_CHECK(lt_optim_parse("sophia", &c) == LT_OK && c.beta1 == 0.965f &&
             c.beta2 == 0.99f && c.sophia_bs == 1.0f, "sophia: official");
    LT_CHECK(lt_optim_parse("adamw", &c) == LT_OK && c.kind == LT_OPT_ADAMW,
             "adamw");
    LT_CHECK(lt_optim_parse("rmsprop", &c) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "rmsprop"),
             "unknown name accepted");
}

LT_TEST(clip_grad_norm)
{
    float g[2] = {3, 4};
    double n = lt_clip_grad_norm(g, 2, 1.0);
    LT_CHECK(fabs(n - 5) < 1e-9, "norm %g", n);
    LT_CHECK(fabsf(g[0] - 0.6f) < 1e-6f && fabsf(g[1] - 0.8f) < 1e-6f,
             "clipped %g %g", g[0], g[1]);
    float h[2] = {0.3f, 0.4f};
    lt_clip_grad_norm(h, 2, 1.0);
    LT_CHECK(h[0] == 0.3f && h[1] == 0.4f, "small gradient scaled");
    float bad[2] = {INFINITY, 1};
    LT_CHECK(isnan(lt_clip_grad_norm(bad, 2, 1.0)) && bad[1] == 1,
             "non-finite norm");
}

LT_TEST(schedules)
{
    lt_schedule s = {.kind = LT_SCHED_MULTISTEP, .base_lr = 0.1f,
                     .milestones = {5, 8}, .n_milestones = 2, .gamma = 0.1f};
    LT_CHECK(lt_schedule_lr(&s, 4) == 0.1f, "before milestone");
    LT_CHECK(fabsf(lt_schedule_lr(&s, 5) - 0.01f) < 1e-9f, "first milestone");
    LT_CHECK(fabsf(lt_schedule_lr(&s, 9) - 0.001f) < 1e-9f, "second");
    lt_schedule w = {.kind = LT_SCHED_COSINE, .base_lr = 1.0f, .warmup = 10,
                     .total = 110, .min_lr = 0.0f};
    LT_CHECK(fabsf(lt_schedule_lr(&w, 0) - 0.1f) < 1e-7f, "warm-up start");
    LT_CHECK(fabsf(lt_schedule_lr(&w, 9) - 1.0f) < 1e-7f, "warm-up end");
    LT_CHECK(fabsf(lt_schedule_lr(&w, 10) - 1.0f) < 1e-7f, "cosine start");
    LT_CHECK(fabsf(lt_schedule_lr(&w, 60) - 0.5f) < 1e-6f, "cosine middle");
    LT_CHECK(fabsf(lt_schedule_lr(&w, 110)) < 1e-7f, "cosine end");
    LT_CHECK(fabsf(lt_schedule_lr(&w, 500)) < 1e-7f, "past the end");
}

/* Schedules by name: the base lr and warm-up kept, multistep x0.1 twice. */
LT_TEST(schedule_names)
{
    lt_schedule s;
    LT_CHECK(lt_schedule_parse("cosine", 0.1f, 5, &s) == LT_OK &&
                 s.kind == LT_SCHED_COSINE && s.base_lr == 0.1f &&
                 s.warmup == 5 && s.total == 0, "cosine");
    LT_CHECK(lt_schedule_parse("multistep", 0.1f, 0, &s) == LT_OK &&
                 s.kind == LT_SCHED_MULTISTEP && s.n_milestones == 2 &&
                 s.gamma == 0.1f && s.milestones[0] == 0, "multistep");
    LT_CHECK(lt_schedule_parse("constant", 0.5f, 0, &s) == LT_OK &&
                 s.kind == LT_SCHED_CONSTANT && lt_schedule_lr(&s, 99) == 0.5f,
             "constant");
    LT_CHECK(lt_schedule_parse("step", 0.1f, 0, &s) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "'step'"), "%s", lt_last_error());
}

LT_TEST_MAIN()
