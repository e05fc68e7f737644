/*
 * test_diffusion.c - the diffusion models layer against its PyTorch twin
 * (tests/golden/gen_unet.py): schedules, the UNet's noise prediction, the
 * official loss and every parameter gradient, both guidance conventions
 * and a DDIM trajectory; plus presets, errors, determinism of sampling,
 * checkpoints and the arena estimate.
 */
#include "dm_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GOLDEN_SPEC                                                         \
    "cond:xs,res=8,ch=8,groups=4,mult=1-2-2,blocks=2,attn=4,classes=3,"     \
    "dropout=0"

/* The key bias cannot change a softmax over keys (it adds q.b to every
 * score of a query), so its true gradient is 0 and both sides hold only
 * rounding: check that, not a relative error of two noises. */
static void check_zero_grad(const char *name, const lt_tensor *p,
                            const lt_golden_entry *want)
{
    for (int64_t k = 0; k < p->numel; k++)
        LT_CHECK(fabsf(p->grad[k]) < 1e-4f && fabsf(want->data[k]) < 1e-4f,
                 "%s[%lld]: %g (PyTorch %g) should be ~0", name,
                 (long long)k, (double)p->grad[k], (double)want->data[k]);
}

static lt_unet *golden_unet(void)
{
    lt_unet *u = NULL;
    LT_CHECK(lt_unet_create(GOLDEN_SPEC, &u) == LT_OK, "%s", lt_last_error());
    if (u)
        dm_fill(&u->params);
    return u;
}

LT_TEST(schedules_match_the_official_arrays)
{
    lt_golden *g = lt_golden_load("unet.bin");
    lt_dm_schedule s, q;
    LT_CHECK(lt_dm_schedule_make("linear", 1000, &s) == LT_OK, "linear");
    LT_CHECK(lt_dm_schedule_make("scaled_linear", 1000, &q) == LT_OK, "sl");
    if (g && s.beta && q.abar) {
        LT_CHECK_CLOSE("beta", s.beta, lt_golden_get(g, "beta")->data, 1000,
                       1e-6);
        LT_CHECK_CLOSE("abar", s.abar, lt_golden_get(g, "abar")->data, 1000,
                       1e-5);
        LT_CHECK_CLOSE("abar_scaled", q.abar,
                       lt_golden_get(g, "abar_scaled")->data, 1000, 1e-5);
    }
    lt_dm_schedule_free(&s);
    lt_dm_schedule_free(&q);
    lt_golden_free(g);
    LT_CHECK(lt_dm_schedule_make("cosine", 1000, &s) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "cosine"),
             "unknown schedule: %s", lt_last_error());
}

LT_TEST(unet_forward_loss_and_every_gradient_match_pytorch)
{
    lt_golden *g = lt_golden_load("unet.bin");
    lt_unet *u = golden_unet();
    lt_dm_schedule s;
    lt_dm_schedule_make("linear", 1000, &s);
    lt_ctx *c = lt_ctx_new(lt_unet_arena_bytes(u, 4, true));
    if (!g || !u || !c)
        goto out;
    lt_tensor *x0 = lt_golden_tensor(c, g, "x0", false);
    lt_tensor *e = lt_golden_tensor(c, g, "e", false);
    int32_t *t = lt_golden_ints(c, g, "t"), *cls = lt_golden_ints(c, g, "c");
    lt_tensor *xt = lt_dm_q_sample(c, &s, x0, e, t);
    LT_CHECK_OK(xt);
    if (xt)
        LT_CHECK_CLOSE("xt", xt->data, lt_golden_get(g, "xt")->data,
                       xt->numel, 1e-5);
    lt_params_zero_grad(&u->params);
    lt_tensor *loss = lt_dm_loss(c, u, &s, x0, e, t, cls, true);
    LT_CHECK_OK(loss);
    if (!loss)
        goto out;
    LT_CHECK_CLOSE("loss", loss->data, lt_golden_get(g, "loss")->data, 1,
                   1e-5);
    LT_CHECK(lt_backward(c, loss) == LT_OK, "%s", lt_last_error());
    int checked = 0;
    for (int i = 0; i < g->count; i++) {
        if (strncmp(g->e[i].name, "grad.", 5))
            continue;
        lt_tensor *p = lt_params_get(&u->params, g->e[i].name + 5);
        LT_CHECK(p && p->numel == g->e[i].numel, "%s missing", g->e[i].name);
        bool same = p && p->numel == g->e[i].numel;
        if (same && dm_ends_with(g->e[i].name, ".k.bias"))
            check_zero_grad(g->e[i].name, p, &g->e[i]);
        else if (same)
            LT_CHECK_REL_L2(g->e[i].name, p->grad, g->e[i].data, p->numel,
                            1e-4);
        checked++;
    }
    LT_CHECK(checked == u->params.count, "%d of %d gradients in the golden",
             checked, u->params.count);
    size_t peak = lt_ctx_peak(c);
    LT_CHECK(peak <= lt_unet_arena_bytes(u, 4, true), "arena estimate "
             "%zu below the measured peak %zu", lt_unet_arena_bytes(u, 4,
             true), peak);
out:
    lt_ctx_free(c);
    lt_unet_free(u);
    lt_dm_schedule_free(&s);
    lt_golden_free(g);
}

LT_TEST(guidance_conventions_and_ddim_match_pytorch)
{
    lt_golden *g = lt_golden_load("unet.bin");
    lt_unet *u = golden_unet();
    lt_dm_schedule s;
    lt_dm_schedule_make("linear", 1000, &s);
    lt_ctx *c = lt_ctx_new(lt_unet_arena_bytes(u, 8, false));
    if (!g || !u || !c)
        goto out;
    lt_set_grad_enabled(c, false);
    lt_tensor *xt = lt_golden_tensor(c, g, "xt", false);
    int32_t *t = lt_golden_ints(c, g, "t"), *cls = lt_golden_ints(c, g, "c");
    float tf[4];
    for (int i = 0; i < 4; i++)
        tf[i] = (float)t[i];
    lt_tensor *a = lt_dm_guided_eps(c, u, xt, tf, cls, LT_GUIDE_SALUN, 2.0f);
    lt_tensor *b = lt_dm_guided_eps(c, u, xt, tf, cls, LT_GUIDE_SD, 7.5f);
    LT_CHECK_OK(a);
    LT_CHECK_OK(b);
    if (a && b) {
        /* Guidance amplifies rounding (by 1 + w); compare as a whole. */
        LT_CHECK_REL_L2("salun", a->data,
                        lt_golden_get(g, "guided.salun")->data, a->numel,
                        1e-4);
        LT_CHECK_REL_L2("sd", b->data, lt_golden_get(g, "guided.sd")->data,
                        b->numel, 1e-4);
    }
    const lt_golden_entry *xT = lt_golden_get(g, "ddim.xT");
    int32_t *cc = lt_golden_ints(c, g, "ddim.c");
    float *x = malloc((size_t)xT->numel * sizeof *x);
    memcpy(x, xT->data, (size_t)xT->numel * sizeof *x);
    lt_dm_sample_config cfg = lt_dm_sample_defaults();
    cfg.steps = 10;
    cfg.eta = 0;
    LT_CHECK(lt_dm_denoise(u, &s, &cfg, 3, cc, x) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK_CLOSE("ddim", x, lt_golden_get(g, "ddim.x0")->data, xT->numel,
                   1e-4);
    free(x);
out:
    lt_ctx_free(c);
    lt_unet_free(u);
    lt_dm_schedule_free(&s);
    lt_golden_free(g);
}

LT_TEST(ema_decay_warms_up_to_its_setting)
{
    LT_CHECK(fabsf(lt_dm_ema_decay(0.999f, 0) - 0.1f) < 1e-7f, "step 0: %g",
             (double)lt_dm_ema_decay(0.999f, 0));
    LT_CHECK(fabsf(lt_dm_ema_decay(0.999f, 90) - 0.91f) < 1e-6f, "step 90");
    LT_CHECK(lt_dm_ema_decay(0.999f, 100000) == 0.999f, "late steps");
    LT_CHECK(lt_dm_ema_decay(0.0f, 5) == 0.0f, "ema 0: no averaging");
}

LT_TEST(antithetic_timesteps_mirror_the_first_half)
{
    lt_rng r;
    lt_rng_init(&r, 7);
    int32_t t[9];
    lt_dm_timesteps(&r, 1000, 9, t); /* h = 5 draws, 4 mirrors */
    for (int i = 0; i < 4; i++)
        LT_CHECK(t[5 + i] == 999 - t[i], "t[%d] = %d, t[%d] = %d", 5 + i,
                 t[5 + i], i, t[i]);
    for (int i = 0; i < 9; i++)
        LT_CHECK(t[i] >= 0 && t[i] < 1000, "t[%d] = %d", i, t[i]);
}

LT_TEST(samples_depend_on_seed_and_index_only)
{
    lt_unet *u = golden_unet();
    lt_dm_schedule s;
    lt_dm_schedule_make("linear", 1000, &s);
    lt_dm_sample_config cfg = lt_dm_sample_defaults();
    cfg.steps = 5;
    cfg.batch = 4;
    int32_t cls[6] = {0, 1, 2, -1, 0, 1};
    int64_t per = 64;
    float *a = malloc(6 * per * sizeof *a), *b = malloc(6 * per * sizeof *b);
    LT_CHECK(lt_dm_sample(u, &s, &cfg, 6, cls, a, NULL, NULL) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(lt_dm_sample(u, &s, &cfg, 6, cls, b, NULL, NULL) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(!memcmp(a, b, 6 * per * sizeof *a), "same seed, other samples");
    cfg.batch = 1; /* another batching: the same samples up to rounding */
    LT_CHECK(lt_dm_sample(u, &s, &cfg, 6, cls, b, NULL, NULL) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK_REL_L2("batching", b, a, 6 * per, 1e-4);
    cfg.seed++;
    LT_CHECK(lt_dm_sample(u, &s, &cfg, 6, cls, b, NULL, NULL) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(memcmp(a, b, 6 * per * sizeof *a), "seed had no effect");
    cfg.steps = 7;
    LT_CHECK(lt_dm_sample(u, &s, &cfg, 6, cls, b, NULL, NULL) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "divide"),
             "7 steps of 1000: %s", lt_last_error());
    cfg.steps = 5;
    cfg.w = NAN;
    LT_CHECK(lt_dm_sample(u, &s, &cfg, 6, cls, b, NULL, NULL) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "guidance"),
             "NaN guidance: %s", lt_last_error());
    free(a);
    free(b);
    lt_unet_free(u);
    lt_dm_schedule_free(&s);
}

LT_TEST(presets_overrides_and_errors)
{
    lt_unet_config c;
    LT_CHECK(lt_unet_config_parse("cond:s", &c) == LT_OK && c.ch == 32 &&
                 c.res == 28 && c.n_levels == 3 && c.attn_res[0] == 7,
             "cond:s");
    LT_CHECK(lt_unet_config_parse("cond:xs,ch=24,blocks=2", &c) == LT_OK &&
                 c.ch == 24 && c.blocks == 2,
             "overrides: %s", lt_last_error());
    LT_CHECK(lt_unet_config_parse("cond:m", &c) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "cond:xs"),
             "unknown preset: %s", lt_last_error());
    LT_CHECK(lt_unet_config_parse("cond:s,ch=30", &c) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "groups"),
             "ch 30 with 8 groups: %s", lt_last_error());
    LT_CHECK(lt_unet_config_parse("cond:s,depth=3", &c) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "depth=3"),
             "unknown key: %s", lt_last_error());
    LT_CHECK(lt_unet_config_parse("cond:s,res=30", &c) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "odd"),
             "res 30 over 3 levels: %s", lt_last_error());
    lt_unet *u = NULL;
    LT_CHECK(lt_unet_create("cond:xs", &u) == LT_OK, "%s", lt_last_error());
    lt_ctx *ctx = lt_ctx_new(1 << 24);
    lt_tensor *x = lt_zeros(ctx, 4, (int64_t[]){1, 1, 27, 27});
    float t = 5;
    int32_t k = 0, bad = 10;
    LT_CHECK(!lt_unet_forward(ctx, u, x, &t, &k, false) &&
                 lt_last_status() == LT_ERR_SHAPE,
             "27x27 input: %s", lt_last_error());
    x = lt_zeros(ctx, 4, (int64_t[]){1, 1, 28, 28});
    LT_CHECK(!lt_unet_forward(ctx, u, x, &t, &bad, false) &&
                 strstr(lt_last_error(), "class 10"),
             "class 10 of 10: %s", lt_last_error());
    lt_ctx_free(ctx);
    lt_unet_free(u);
}

LT_TEST(checkpoints_round_trip_and_refuse_other_files)
{
    lt_unet *u = golden_unet(), *v = NULL;
    char path[512];
    lt_dm_schedule s, r = {0};
    lt_dm_schedule_make("scaled_linear", 500, &s);
    snprintf(path, sizeof path, "%s/u.safetensors", lt_test_tmpdir());
    LT_CHECK(lt_unet_save(u, path, &s, NULL, 0) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(lt_unet_load(path, &v, &r) == LT_OK, "%s", lt_last_error());
    if (u && v) {
        LT_CHECK(!strcmp(v->arch, GOLDEN_SPEC) &&
                     !strcmp(r.name, "scaled_linear") && r.T == 500 &&
                     r.abar[499] == s.abar[499],
                 "arch %s schedule %s T %d", v->arch, r.name, r.T);
        LT_CHECK(!memcmp(u->params.theta, v->params.theta,
                         (size_t)u->params.n_total * sizeof(float)),
                 "weights differ after a round trip");
    }
    lt_unet_free(v);
    lt_dm_schedule_free(&s);
    lt_dm_schedule_free(&r);
    /* A classifier checkpoint is not a UNet. */
    lt_model *m = NULL;
    lt_model_create("cnn", (lt_input_spec){1, 28, 28, 10}, &m);
    snprintf(path, sizeof path, "%s/cnn.safetensors", lt_test_tmpdir());
    lt_model_save(m, path, NULL, 0);
    LT_CHECK(lt_unet_load(path, &v, NULL) == LT_ERR_FORMAT &&
                 strstr(lt_last_error(), "not a Lethe diffusion UNet"),
             "classifier as UNet: %s", lt_last_error());
    lt_model_free(m);
    lt_unet_free(u);
}

/* Tiny training data for the golden architecture: n 8x8 images. */
static void toy_data(float *x, int32_t *y, int n)
{
    for (int i = 0; i < n; i++) {
        y[i] = i % 3;
        for (int p = 0; p < 64; p++)
            x[i * 64 + p] = (p % 8 < 2 * (y[i] + 1)) ? 0.8f : -0.8f;
    }
}

static lt_status toy_train(const char *out, int64_t steps, bool resume,
                           uint64_t seed, const float *x, const int32_t *y)
{
    lt_unet *u = golden_unet();
    lt_dm_schedule s;
    lt_dm_schedule_make("linear", 1000, &s);
    lt_dm_train_config cfg = lt_dm_train_defaults();
    cfg.steps = steps;
    cfg.batch = 4;
    cfg.ckpt_every = 2;
    cfg.seed = seed;
    lt_status st = lt_dm_train(u, &s, x, y, 12, &cfg, out, resume, NULL, NULL);
    lt_unet_free(u);
    lt_dm_schedule_free(&s);
    return st;
}

LT_TEST(a_resumed_training_equals_an_uninterrupted_one)
{
    float x[12 * 64];
    int32_t y[12];
    toy_data(x, y, 12);
    char a[512], b[512], sa[560], sb[560];
    snprintf(a, sizeof a, "%s/whole.safetensors", lt_test_tmpdir());
    snprintf(b, sizeof b, "%s/resumed.safetensors", lt_test_tmpdir());
    LT_CHECK(toy_train(a, 6, false, 3, x, y) == LT_OK, "%s", lt_last_error());
    LT_CHECK(toy_train(b, 4, false, 3, x, y) == LT_OK, "%s", lt_last_error());
    LT_CHECK(toy_train(b, 6, true, 3, x, y) == LT_OK, "%s", lt_last_error());
    lt_dm_state_path(a, sa, sizeof sa);
    lt_dm_state_path(b, sb, sizeof sb);
    LT_CHECK(dm_same_bytes(sa, sb), "states differ after resuming at step 4");
    LT_CHECK(dm_same_bytes(a, b), "models differ after resuming at step 4");
    LT_CHECK(toy_train(b, 8, true, 4, x, y) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "seed"),
             "resume with another seed: %s", lt_last_error());
    x[5] = NAN;
    LT_CHECK(toy_train(a, 8, true, 3, x, y) == LT_ERR_NAN &&
                 strstr(lt_last_error(), "step"),
             "NaN image: %s", lt_last_error());
    LT_CHECK(!lt_test_tmp_left(a) && !lt_test_tmp_left(sa),
             "temporary files left behind");
}

LT_TEST_MAIN()
