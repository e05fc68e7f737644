/*
 * test_dm_sa.c - Selective Amnesia on a class-conditional UNet
 * (lethe/dm_sa.h): train_forget's loss with the EWC term and its
 * gradients, and save_fim's per-sample gradient and Fisher, against a
 * PyTorch transcription of the official code (tests/golden/gen_dm_sa.py)
 * on the UNet twin of gen_unet.py; the whole Fisher against a direct
 * recomputation (one tape per timestep); the replay set stored as the
 * code's PNGs; the cache file round trip and its refusals; a micro run
 * that changes the forgotten class's samples, keeps masked weights
 * bit-identical and is deterministic; the bad-argument errors.
 */
#include "dm_test.h"
#include "lethe/dm_sa.h"
#include "lethe/unlearn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GOLDEN_SPEC                                                         \
    "cond:xs,res=8,ch=8,groups=4,mult=1-2-2,blocks=2,attn=4,classes=3,"     \
    "dropout=0"

static const char *const some[] = {"conv_in.weight", "classes_emb.weight",
                                   "null_classes_emb",
                                   "up.0.block.2.conv2.weight"};
#define N_SOME 4

static lt_unet *golden_unet(void)
{
    lt_unet *u = NULL;
    LT_CHECK(lt_unet_create(GOLDEN_SPEC, &u) == LT_OK, "%s", lt_last_error());
    if (u)
        dm_fill(&u->params);
    return u;
}

/* The golden's formulas over each tensor's element index k. */
static float fisher_of(int64_t k) { return 0.1f * (float)(k % 7 + 1); }
static float shift_of(int64_t k) { return 0.01f * (float)(k % 5 - 2); }

/* Flat F and theta* for u (its current weights), and theta += shift. */
static void ewc_setup(lt_unet *u, float *F, float *star)
{
    lt_params *ps = &u->params;
    memcpy(star, ps->theta, (size_t)ps->n_train * sizeof *star);
    for (int j = 0; j < ps->count; j++) {
        lt_tensor *t = &ps->p[j].t;
        int64_t off = t->data - ps->theta;
        for (int64_t k = 0; k < t->numel; k++) {
            F[off + k] = fisher_of(k);
            t->data[k] += shift_of(k);
        }
    }
}

static void check_some(const lt_golden *g, lt_unet *u, const char *prefix,
                       const float *flat, double tol)
{
    char name[128];
    for (int i = 0; i < N_SOME; i++) {
        snprintf(name, sizeof name, "%s%s", prefix, some[i]);
        const lt_golden_entry *want = lt_golden_get(g, name);
        lt_tensor *p = lt_params_get(&u->params, some[i]);
        LT_CHECK(want && p && want->numel == p->numel, "%s", name);
        if (!want || !p || want->numel != p->numel)
            continue;
        const float *got = flat ? flat + (p->data - u->params.theta)
                                : p->grad;
        LT_CHECK_REL_L2(name, got, want->data, p->numel, tol);
    }
}

LT_TEST(sa_loss_and_gradients_match_the_official_code)
{
    lt_golden *g = lt_golden_load("dm_sa.bin");
    lt_unet *u = golden_unet();
    lt_dm_schedule s;
    lt_dm_schedule_make("linear", 1000, &s);
    lt_ctx *c = lt_ctx_new(lt_unet_arena_bytes(u, 8, true));
    int64_t ntr = u ? u->params.n_train : 0;
    float *F = malloc((size_t)ntr * sizeof *F);
    float *star = malloc((size_t)ntr * sizeof *star);
    if (!g || !u || !c || !F || !star)
        goto out;
    ewc_setup(u, F, star);
    lt_dmu_sa_config cfg = lt_dmu_sa_defaults();
    cfg.forget_class = 1;
    cfg.lambda = lt_golden_get(g, "lambda")->data[0];
    cfg.gamma = lt_golden_get(g, "gamma")->data[0];
    lt_dmu_sa_batch b = {.B = 3, .xf = lt_golden_get(g, "xf")->data,
                         .ef = lt_golden_get(g, "ef")->data,
                         .xr = lt_golden_get(g, "xr")->data,
                         .er = lt_golden_get(g, "er")->data,
                         .t = lt_golden_ints(c, g, "t"),
                         .yr = lt_golden_ints(c, g, "yr")};
    lt_params_zero_grad(&u->params);
    float f = 0, r = 0;
    lt_tensor *l = lt_dmu_sa_step_loss(c, u, &s, &cfg, &b, true, &f, &r);
    LT_CHECK_OK(l);
    if (!l || lt_backward(c, l) != LT_OK)
        goto out;
    double ewc = lt_dmu_sa_ewc(u, F, star, cfg.lambda);
    float e = (float)ewc, total = l->data[0] + e;
    LT_CHECK_CLOSE("sa.forget", &f, lt_golden_get(g, "sa.forget")->data, 1,
                   1e-4);
    LT_CHECK_CLOSE("sa.replay", &r, lt_golden_get(g, "sa.replay")->data, 1,
                   1e-4);
    LT_CHECK_CLOSE("sa.ewc", &e, lt_golden_get(g, "sa.ewc")->data, 1, 1e-4);
    LT_CHECK_CLOSE("sa.loss", &total, lt_golden_get(g, "sa.loss")->data, 1,
                   1e-4);
    LT_CHECK(e > 0.01f * total, "the EWC term (%g) should matter in %g",
             (double)e, (double)total);
    check_some(g, u, "sa.grad.", NULL, 1e-4);
out:
    free(F);
    free(star);
    lt_ctx_free(c);
    lt_unet_free(u);
    lt_dm_schedule_free(&s);
    lt_golden_free(g);
}

LT_TEST(fisher_sample_gradient_and_square_match_save_fim)
{
    lt_golden *g = lt_golden_load("dm_sa.bin");
    lt_unet *u = golden_unet();
    lt_dm_schedule s;
    lt_dm_schedule_make("linear", 1000, &s);
    lt_ctx *c = lt_ctx_new(1 << 16);
    int64_t ntr = u ? u->params.n_train : 0;
    float *gr = malloc((size_t)ntr * sizeof *gr);
    float *F = calloc((size_t)ntr, sizeof *F);
    if (!g || !u || !c || !gr || !F)
        goto out;
    const float *x = lt_golden_get(g, "fim.x")->data;
    const float *e = lt_golden_get(g, "fim.e")->data;
    const int32_t *t = lt_golden_ints(c, g, "fim.t");
    const int32_t *cls = lt_golden_ints(c, g, "fim.c");
    for (int i = 0; i < 2; i++) {
        /* chunks of 2 of the 3 timesteps: the sum crosses a chunk */
        lt_status st = lt_dmu_sa_sample_grad(u, &s, x + i * 64, 3, t,
                                             e + i * 3 * 64, cls + i * 3,
                                             1.0f, 2, gr);
        LT_CHECK(st == LT_OK, "%s", lt_last_error());
        if (i == 0)
            check_some(g, u, "fim.grad0.", gr, 1e-4);
        for (int64_t j = 0; j < ntr; j++)
            F[j] += gr[j] * gr[j] / 2;
    }
    check_some(g, u, "fim.F.", F, 1e-4);
out:
    free(gr);
    free(F);
    lt_ctx_free(c);
    lt_unet_free(u);
    lt_dm_schedule_free(&s);
    lt_golden_free(g);
}

/* n images of class labels cycling 0..K-1 from a fixed formula. */
static void fake_replay(lt_dmu_sa_data *d, int64_t n, int K, int64_t per)
{
    d->n = n;
    d->per = per;
    d->x = malloc((size_t)(n * per) * sizeof *d->x);
    d->y = malloc((size_t)n * sizeof *d->y);
    lt_rng r;
    lt_rng_init(&r, 77);
    for (int64_t i = 0; d->x && i < n * per; i++)
        d->x[i] = 2 * lt_rng_uniform(&r) - 1;
    for (int64_t i = 0; d->y && i < n; i++)
        d->y[i] = (int32_t)(i % K);
}

LT_TEST(fisher_equals_a_direct_recomputation)
{
    lt_unet *u = golden_unet();
    lt_dm_schedule s;
    lt_dm_schedule_make("linear", 1000, &s);
    lt_dmu_sa_data d = {0};
    if (!u)
        goto out;
    fake_replay(&d, 3, 3, 64);
    lt_dmu_sa_prep_config pc = lt_dmu_sa_prep_defaults();
    pc.fim_timesteps = 4; /* t = 0, 250, 500, 750, the sum scaled by 250 */
    pc.chunk = 3;
    pc.fim_cond_drop = 0.5f; /* so both kinds of pass occur */
    pc.seed = 9;
    LT_CHECK(lt_dmu_sa_fisher(u, &s, &pc, NULL, NULL, &d) == LT_OK, "%s",
             lt_last_error());
    int64_t ntr = u->params.n_train;
    double *want = calloc((size_t)ntr, sizeof *want);
    double *gi = calloc((size_t)ntr, sizeof *gi);
    lt_ctx *c = lt_ctx_new(lt_unet_arena_bytes(u, 1, true));
    float e[4 * 64], x01[64];
    int nulls = 0;
    for (int64_t i = 0; c && want && gi && i < d.n; i++) {
        lt_rng r;
        lt_rng_init(&r, lt_hash3(9, 51, (uint64_t)i));
        lt_rng_fill_normal(&r, e, 4 * 64, 0, 1);
        for (int j = 0; j < 64; j++)
            x01[j] = (d.x[i * 64 + j] + 1) / 2;
        memset(gi, 0, (size_t)ntr * sizeof *gi);
        for (int k = 0; k < 4; k++) {
            int32_t cls = lt_rng_uniform(&r) < 0.5f ? -1 : d.y[i];
            int32_t t = 250 * k;
            nulls += cls < 0;
            lt_ctx_reset(c);
            int64_t sh[4] = {1, 1, 8, 8};
            lt_tensor *l = lt_dm_loss(c, u, &s, lt_from_data(c, 4, sh, x01),
                                      lt_from_data(c, 4, sh, e + k * 64), &t,
                                      &cls, false);
            lt_params_zero_grad(&u->params);
            LT_CHECK(l && lt_backward(c, l) == LT_OK, "%s", lt_last_error());
            for (int64_t j = 0; j < ntr; j++)
                gi[j] += 250.0 * u->params.grad[j];
        }
        for (int64_t j = 0; j < ntr; j++)
            want[j] += gi[j] * gi[j] / (double)d.n;
    }
    LT_CHECK(nulls > 0 && nulls < 12, "null passes %d of 12", nulls);
    double num = 0, den = 0;
    for (int64_t j = 0; d.fisher && want && j < ntr; j++) {
        num += (d.fisher[j] - want[j]) * (d.fisher[j] - want[j]);
        den += want[j] * want[j];
    }
    LT_CHECK(d.fisher && den > 0 && sqrt(num / den) < 1e-4,
             "fisher vs recomputation: rel L2 %g", sqrt(num / den));
    lt_ctx_free(c);
    free(want);
    free(gi);
out:
    lt_dmu_sa_data_free(&d);
    lt_unet_free(u);
    lt_dm_schedule_free(&s);
}

/* A prepared micro setting: 2 samples per class with 4 DDIM steps, the
 * Fisher over 4 timesteps. */
static lt_status micro_prepare(lt_unet *u, const lt_dm_schedule *s,
                               lt_dmu_sa_data *d)
{
    lt_dmu_sa_prep_config pc = lt_dmu_sa_prep_defaults();
    pc.per_class = 2;
    pc.sample.steps = 4;
    pc.fim_timesteps = 4;
    return lt_dmu_sa_prepare(u, s, &pc, NULL, NULL, d);
}

LT_TEST(replay_set_is_stored_as_the_code_s_pngs)
{
    lt_unet *u = golden_unet();
    lt_dm_schedule s;
    lt_dm_schedule_make("linear", 1000, &s);
    lt_dmu_sa_data d = {0};
    if (!u || micro_prepare(u, &s, &d) != LT_OK) {
        LT_CHECK(false, "%s", lt_last_error());
        goto out;
    }
    LT_CHECK(d.n == 6 && d.per == 64 && d.n_train == u->params.n_train,
             "sizes %lld %lld", (long long)d.n, (long long)d.per);
    for (int64_t i = 0; i < d.n; i++) {
        LT_CHECK(d.y[i] == i / 2, "label %lld = %d", (long long)i, d.y[i]);
        float lo = 9, hi = -9;
        for (int j = 0; j < 64; j++) {
            float v = d.x[i * 64 + j], q = (v + 1) / 2 * 255;
            lo = fminf(lo, v);
            hi = fmaxf(hi, v);
            LT_CHECK(fabsf(q - roundf(q)) < 1e-3f, "not 8-bit: %g", (double)v);
        }
        /* save_image(normalize=True) stretches each image to 0..255 */
        LT_CHECK(lo == -1.0f && hi == 1.0f, "image %lld spans %g..%g",
                 (long long)i, (double)lo, (double)hi);
    }
    for (int64_t j = 0; j < d.n_train; j++)
        if (!(d.fisher[j] >= 0) || !isfinite(d.fisher[j])) {
            LT_CHECK(false, "fisher[%lld] = %g", (long long)j,
                     (double)d.fisher[j]);
            break;
        }
out:
    lt_dmu_sa_data_free(&d);
    lt_unet_free(u);
    lt_dm_schedule_free(&s);
}

LT_TEST(cache_file_round_trip_and_refusals)
{
    lt_unet *u = golden_unet(), *other = NULL;
    lt_dm_schedule s;
    lt_dm_schedule_make("linear", 1000, &s);
    lt_dmu_sa_data d = {0}, e = {0};
    char path[1024];
    snprintf(path, sizeof path, "%s", lt_test_path("sa.safetensors"));
    if (!u || !path[0] || micro_prepare(u, &s, &d) != LT_OK) {
        LT_CHECK(false, "%s", lt_last_error());
        goto out;
    }
    const char *meta[] = {"lethe.sa.base", "abc"};
    LT_CHECK(lt_dmu_sa_save(path, &d, meta, 1) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(lt_dmu_sa_load(path, u, "lethe.sa.base", "abc", &e) == LT_OK,
             "%s", lt_last_error());
    LT_CHECK(e.n == d.n && e.n_train == d.n_train && e.x && e.fisher &&
             !memcmp(e.x, d.x, (size_t)(d.n * d.per) * sizeof *d.x) &&
             !memcmp(e.fisher, d.fisher, (size_t)d.n_train * sizeof *d.fisher)
             && !memcmp(e.y, d.y, (size_t)d.n * sizeof *d.y),
             "round trip differs");
    lt_dmu_sa_data_free(&e);
    LT_CHECK(lt_dmu_sa_load(path, u, "lethe.sa.base", "xyz", &e) ==
                 LT_ERR_ARG && strstr(lt_last_error(), path) && !e.x,
             "another base accepted: %s", lt_last_error());
    LT_CHECK(lt_unet_create("cond:xs,res=8,ch=8,groups=4,classes=3", &other)
                 == LT_OK, "%s", lt_last_error());
    LT_CHECK(other && lt_dmu_sa_load(path, other, NULL, NULL, &e) ==
                          LT_ERR_FORMAT && !e.fisher,
             "another architecture accepted: %s", lt_last_error());
out:
    lt_dmu_sa_data_free(&d);
    lt_dmu_sa_data_free(&e);
    lt_unet_free(u);
    lt_unet_free(other);
    lt_dm_schedule_free(&s);
}

static lt_dmu_sa_config micro_cfg(void)
{
    lt_dmu_sa_config c = lt_dmu_sa_defaults();
    c.forget_class = 1;
    c.steps = 4;
    c.batch = 3;
    c.chunk = 2;
    c.lr = 1e-2f;
    c.ema = 0;
    return c;
}

/* Class 1's samples of u (4 DDIM steps, fixed seed) into x [4 * 64]. */
static void class1_samples(lt_unet *u, const lt_dm_schedule *s, float *x)
{
    lt_dm_sample_config sc = lt_dm_sample_defaults();
    sc.steps = 4;
    int32_t cls[4] = {1, 1, 1, 1};
    LT_CHECK(lt_dm_sample(u, s, &sc, 4, cls, x, NULL, NULL) == LT_OK, "%s",
             lt_last_error());
}

LT_TEST(micro_run_changes_the_forgotten_class_keeps_masked_weights)
{
    lt_unet *u = golden_unet(), *v = golden_unet(), *w = golden_unet();
    lt_dm_schedule s;
    lt_dm_schedule_make("linear", 1000, &s);
    lt_dmu_sa_data d = {0};
    float before[256], after[256];
    float *mask = NULL, *orig = NULL;
    if (!u || !v || !w || micro_prepare(u, &s, &d) != LT_OK) {
        LT_CHECK(false, "%s", lt_last_error());
        goto out;
    }
    int64_t ntr = u->params.n_train;
    orig = malloc((size_t)ntr * sizeof *orig);
    mask = malloc((size_t)ntr * sizeof *mask);
    memcpy(orig, u->params.theta, (size_t)ntr * sizeof *orig);
    class1_samples(u, &s, before);
    lt_dmu_sa_config cfg = micro_cfg();
    LT_CHECK(lt_dmu_sa_run(u, &s, &d, &cfg, NULL, NULL, NULL) == LT_OK, "%s",
             lt_last_error());
    class1_samples(u, &s, after);
    double diff = 0;
    for (int i = 0; i < 256; i++)
        diff = fmax(diff, fabs((double)after[i] - before[i]));
    LT_CHECK(diff > 1e-2, "class 1's samples moved by %g only", diff);
    /* determinism: the same seed, the same weights */
    LT_CHECK(lt_dmu_sa_run(v, &s, &d, &cfg, NULL, NULL, NULL) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(!memcmp(u->params.theta, v->params.theta,
                     (size_t)ntr * sizeof(float)), "same seed, other weights");
    /* a random half mask with the EMA on: frozen weights bit-identical */
    LT_CHECK(lt_mask_random(ntr, 0.5, 3, mask) == LT_OK, "%s",
             lt_last_error());
    cfg.ema = LT_DMU_SA_EMA_AUTO;
    LT_CHECK(lt_dmu_sa_run(w, &s, &d, &cfg, mask, NULL, NULL) == LT_OK, "%s",
             lt_last_error());
    int64_t frozen_moved = 0, free_moved = 0;
    for (int64_t i = 0; i < ntr; i++) {
        bool same = !memcmp(&w->params.theta[i], &orig[i], sizeof(float));
        if (mask[i] == 0)
            frozen_moved += !same;
        else
            free_moved += !same;
    }
    LT_CHECK(frozen_moved == 0 && free_moved > ntr / 4,
             "frozen moved %lld, free moved %lld of %lld",
             (long long)frozen_moved, (long long)free_moved, (long long)ntr);
out:
    free(mask);
    free(orig);
    lt_dmu_sa_data_free(&d);
    lt_unet_free(u);
    lt_unet_free(v);
    lt_unet_free(w);
    lt_dm_schedule_free(&s);
}

LT_TEST(ema_output_follows_emahelper)
{
    lt_unet *raw = golden_unet(), *avg = golden_unet();
    lt_dm_schedule s;
    lt_dm_schedule_make("linear", 1000, &s);
    lt_dmu_sa_data d = {0};
    float *start = NULL;
    if (!raw || !avg || micro_prepare(raw, &s, &d) != LT_OK)
        goto out;
    int64_t ntr = raw->params.n_train;
    start = malloc((size_t)ntr * sizeof *start);
    memcpy(start, raw->params.theta, (size_t)ntr * sizeof *start);
    lt_dmu_sa_config cfg = micro_cfg();
    cfg.steps = 2;
    LT_CHECK(lt_dmu_sa_run(raw, &s, &d, &cfg, NULL, NULL, NULL) == LT_OK,
             "%s", lt_last_error());
    cfg.ema = 0.25f;
    LT_CHECK(lt_dmu_sa_run(avg, &s, &d, &cfg, NULL, NULL, NULL) == LT_OK,
             "%s", lt_last_error());
    /* the raw run's first step, again, for theta_1 */
    lt_unet *one = golden_unet();
    cfg.ema = 0;
    cfg.steps = 1;
    LT_CHECK(one && lt_dmu_sa_run(one, &s, &d, &cfg, NULL, NULL, NULL) ==
                        LT_OK, "%s", lt_last_error());
    double worst = 0;
    for (int64_t i = 0; one && i < ntr; i++) {
        /* shadow = 0.75 theta_k + 0.25 shadow, from the start */
        double e1 = 0.75 * one->params.theta[i] + 0.25 * start[i];
        double e2 = 0.75 * raw->params.theta[i] + 0.25 * e1;
        worst = fmax(worst, fabs(e2 - avg->params.theta[i]));
    }
    LT_CHECK(worst < 1e-6, "EMA output off by %g", worst);
    lt_unet_free(one);
out:
    free(start);
    lt_dmu_sa_data_free(&d);
    lt_unet_free(raw);
    lt_unet_free(avg);
    lt_dm_schedule_free(&s);
}

LT_TEST(ema_auto_keeps_the_official_share_of_the_start)
{
    lt_dmu_sa_config c = lt_dmu_sa_defaults();
    LT_CHECK(fabsf(lt_dmu_sa_ema(&c) - 0.9999f) < 1e-7f, "20000 steps: %g",
             (double)lt_dmu_sa_ema(&c));
    c.steps = 1000;
    double share = pow(lt_dmu_sa_ema(&c), 1000.0);
    LT_CHECK(fabs(share - exp(-2.0)) < 1e-3, "share %g, not e^-2", share);
    c.ema = 0.5f;
    LT_CHECK(lt_dmu_sa_ema(&c) == 0.5f, "a given decay is kept");
}

LT_TEST(recipes_official_and_short)
{
    lt_dmu_sa_prep_config p, p0 = lt_dmu_sa_prep_defaults();
    lt_dmu_sa_config c, c0 = lt_dmu_sa_defaults();
    LT_CHECK(lt_dmu_sa_recipe("official", &p, &c) == LT_OK &&
                 p.per_class == p0.per_class &&
                 p.sample.steps == p0.sample.steps &&
                 p.sample.eta == p0.sample.eta &&
                 p.fim_timesteps == p0.fim_timesteps && c.steps == c0.steps &&
                 c.batch == c0.batch && p0.per_class == 500 &&
                 p0.sample.steps == 1000 && c0.steps == 20000,
             "official = the defaults");
    LT_CHECK(lt_dmu_sa_recipe("short", &p, &c) == LT_OK &&
                 p.per_class == 20 && p.sample.steps == 50 &&
                 p.sample.eta == 0 && p.fim_timesteps == 20 &&
                 c.steps == 200 && c.batch == 16 && c.lambda == c0.lambda &&
                 c.lr == c0.lr && c.ema == LT_DMU_SA_EMA_AUTO && p.png &&
                 !p.fim_pm1, "the short preset");
    double share = pow(lt_dmu_sa_ema(&c), 200.0);
    LT_CHECK(fabs(share - exp(-2.0)) < 1e-3, "short: share %g", share);
    LT_CHECK(lt_dmu_sa_recipe("week", &p, NULL) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "week"), "unknown recipe");
}

LT_TEST(bad_arguments_are_refused)
{
    lt_unet *u = golden_unet();
    lt_dm_schedule s;
    lt_dm_schedule_make("linear", 1000, &s);
    lt_dmu_sa_data d = {0};
    if (!u)
        goto out;
    fake_replay(&d, 3, 3, 64);
    d.n_train = u->params.n_train;
    d.fisher = calloc((size_t)d.n_train, sizeof *d.fisher);
    lt_dmu_sa_config cfg = micro_cfg();
    cfg.forget_class = 3;
    LT_CHECK(lt_dmu_sa_run(u, &s, &d, &cfg, NULL, NULL, NULL) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "forget class 3"),
             "class out of range: %s", lt_last_error());
    cfg = micro_cfg();
    for (int64_t i = 0; i < d.n; i++)
        d.y[i] = 1; /* only the forgotten class */
    LT_CHECK(lt_dmu_sa_run(u, &s, &d, &cfg, NULL, NULL, NULL) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "no sample"),
             "no replay of other classes: %s", lt_last_error());
    cfg.ema = 1.0f;
    LT_CHECK(lt_dmu_sa_run(u, &s, &d, &cfg, NULL, NULL, NULL) == LT_ERR_ARG,
             "ema 1 accepted");
    lt_dmu_sa_prep_config pc = lt_dmu_sa_prep_defaults();
    pc.fim_timesteps = 3; /* does not divide 1000 */
    LT_CHECK(lt_dmu_sa_fisher(u, &s, &pc, NULL, NULL, &d) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "fim_timesteps 3"),
             "fim_timesteps 3: %s", lt_last_error());
out:
    lt_dmu_sa_data_free(&d);
    lt_unet_free(u);
    lt_dm_schedule_free(&s);
}

LT_TEST_MAIN()
