/*
 * test_dm_unlearn.c - class-wise diffusion unlearning (lethe/dm_unlearn.h):
 * the rl, ga and esd losses and their gradients against a PyTorch
 * transcription of the official code (tests/golden/gen_dm_unlearn.py) on
 * the UNet twin of gen_unet.py; the saliency mask against a direct
 * recomputation (one tape per batch, torch's clip rule, a sort for the
 * top half); chunked steps equal one pass; masked weights bit-identical
 * after unlearning; determinism; the bad-argument errors.
 */
#include "dm_test.h"
#include "lethe/dm_unlearn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GOLDEN_SPEC                                                         \
    "cond:xs,res=8,ch=8,groups=4,mult=1-2-2,blocks=2,attn=4,classes=3,"     \
    "dropout=0"

static lt_unet *golden_unet(void)
{
    lt_unet *u = NULL;
    LT_CHECK(lt_unet_create(GOLDEN_SPEC, &u) == LT_OK, "%s", lt_last_error());
    if (u)
        dm_fill(&u->params);
    return u;
}

/* The golden's batch: forget class 1 of the twin's 3 classes. */
static lt_dmu_batch golden_batch(lt_ctx *c, const lt_golden *g)
{
    return (lt_dmu_batch){
        .B = 4, .xf = lt_golden_get(g, "xf")->data,
        .ef = lt_golden_get(g, "ef")->data, .tf = lt_golden_ints(c, g, "tf"),
        .cls_f = lt_golden_ints(c, g, "cf"), .cls_p = lt_golden_ints(c, g, "cp"),
        .Br = 3, .xr = lt_golden_get(g, "xr")->data,
        .er = lt_golden_get(g, "er")->data, .tr = lt_golden_ints(c, g, "tr"),
        .cls_r = lt_golden_ints(c, g, "cr")};
}

/* Loss (and terms) of kind on the golden batch; gradients in u. */
static lt_tensor *golden_loss(lt_ctx *c, lt_unet *u, lt_unet *frozen,
                              const lt_dm_schedule *s, const lt_golden *g,
                              lt_dmu_loss kind, const lt_dmu_batch *b,
                              float *forget, float *retain)
{
    lt_dmu_config cfg = lt_dmu_defaults();
    cfg.loss = kind;
    cfg.forget_class = 1;
    cfg.alpha = lt_golden_get(g, "alpha")->data[0];
    cfg.esd_eta = lt_golden_get(g, "eta")->data[0];
    lt_dmu_batch bb = *b;
    if (kind == LT_DMU_ESD) { /* class 1 everywhere, no retain term */
        static const int32_t ones[4] = {1, 1, 1, 1};
        bb.cls_f = ones;
        bb.Br = 0;
    }
    lt_params_zero_grad(&u->params);
    lt_tensor *l = lt_dmu_step_loss(c, u, frozen, s, &cfg, &bb, true, forget,
                                    retain);
    LT_CHECK_OK(l);
    if (l)
        LT_CHECK(lt_backward(c, l) == LT_OK, "%s", lt_last_error());
    return l;
}

static int check_grads(const lt_golden *g, lt_unet *u, const char *prefix)
{
    int checked = 0;
    size_t np = strlen(prefix);
    for (int i = 0; i < g->count; i++) {
        if (strncmp(g->e[i].name, prefix, np))
            continue;
        lt_tensor *p = lt_params_get(&u->params, g->e[i].name + np);
        LT_CHECK(p && p->numel == g->e[i].numel, "%s missing", g->e[i].name);
        if (!p || p->numel != g->e[i].numel)
            continue;
        if (dm_ends_with(g->e[i].name, ".k.bias")) /* true gradient 0 */
            for (int64_t k = 0; k < p->numel; k++)
                LT_CHECK(fabsf(p->grad[k]) < 1e-4f, "%s[%lld] = %g, not ~0",
                         g->e[i].name, (long long)k, (double)p->grad[k]);
        else
            LT_CHECK_REL_L2(g->e[i].name, p->grad, g->e[i].data, p->numel,
                            1e-4);
        checked++;
    }
    return checked;
}

LT_TEST(rl_ga_esd_losses_and_gradients_match_the_official_code)
{
    lt_golden *g = lt_golden_load("dm_unlearn.bin");
    lt_unet *u = golden_unet(), *frozen = golden_unet();
    lt_dm_schedule s;
    lt_dm_schedule_make("linear", 1000, &s);
    lt_ctx *c = lt_ctx_new(lt_unet_arena_bytes(u, 16, true));
    if (!g || !u || !frozen || !c)
        goto out;
    lt_dmu_batch b = golden_batch(c, g);
    float f = 0, r = 0;
    lt_tensor *l = golden_loss(c, u, NULL, &s, g, LT_DMU_RL, &b, &f, &r);
    if (l) {
        LT_CHECK_CLOSE("rl.loss", l->data, lt_golden_get(g, "rl.loss")->data,
                       1, 1e-4);
        LT_CHECK_CLOSE("rl.forget", &f, lt_golden_get(g, "rl.forget")->data,
                       1, 1e-4);
        LT_CHECK_CLOSE("rl.retain", &r, lt_golden_get(g, "rl.retain")->data,
                       1, 1e-4);
        LT_CHECK(check_grads(g, u, "rl.grad.") == u->params.count,
                 "not every rl gradient checked");
    }
    lt_ctx_reset(c);
    b = golden_batch(c, g);
    b.Br = 0; /* rl's forget term alone */
    l = golden_loss(c, u, NULL, &s, g, LT_DMU_RL, &b, NULL, NULL);
    if (l)
        LT_CHECK(check_grads(g, u, "rlf.grad.") == 3, "rl forget gradients");
    lt_ctx_reset(c);
    b = golden_batch(c, g);
    l = golden_loss(c, u, NULL, &s, g, LT_DMU_GA, &b, NULL, NULL);
    if (l) {
        LT_CHECK_CLOSE("ga.loss", l->data, lt_golden_get(g, "ga.loss")->data,
                       1, 1e-4);
        LT_CHECK(check_grads(g, u, "ga.grad.") == 3, "ga gradients");
    }
    lt_ctx_reset(c);
    b = golden_batch(c, g);
    l = golden_loss(c, u, frozen, &s, g, LT_DMU_ESD, &b, NULL, NULL);
    if (l) {
        LT_CHECK_CLOSE("esd.loss", l->data,
                       lt_golden_get(g, "esd.loss")->data, 1, 1e-4);
        LT_CHECK(check_grads(g, u, "esd.grad.") == 3, "esd gradients");
    }
    /* the frozen copy never receives a gradient */
    for (int64_t i = 0; frozen->params.grad && i < frozen->params.n_train;
         i++)
        if (frozen->params.grad[i] != 0) {
            LT_CHECK(false, "frozen copy got a gradient at %lld",
                     (long long)i);
            break;
        }
out:
    lt_ctx_free(c);
    lt_unet_free(u);
    lt_unet_free(frozen);
    lt_dm_schedule_free(&s);
    lt_golden_free(g);
}

/* nf images in [-1, 1] from a fixed formula. */
static float *images(int64_t n, int64_t per, uint64_t seed)
{
    float *x = malloc((size_t)(n * per) * sizeof *x);
    lt_rng r;
    lt_rng_init(&r, seed);
    for (int64_t i = 0; x && i < n * per; i++)
        x[i] = 2 * lt_rng_uniform(&r) - 1;
    return x;
}

/* The saliency recomputed directly: each batch on one tape, the torch
 * clip rule in double, the signed sum, |.|. Returns the largest batch
 * gradient norm before clipping. */
static double recompute(lt_unet *u, const lt_dm_schedule *s, const float *x,
                        int64_t nf, int cls, const lt_dmu_mask_config *mc,
                        double *acc)
{
    int64_t per = 64, ntr = u->params.n_train;
    double maxnorm = 0;
    memset(acc, 0, (size_t)ntr * sizeof *acc);
    lt_ctx *c = lt_ctx_new(lt_unet_arena_bytes(u, 2 * mc->batch, true));
    float *e = malloc((size_t)(mc->batch * per) * sizeof *e);
    int32_t *t = malloc((size_t)mc->batch * sizeof *t);
    for (int64_t i = 0, k = 0; c && e && t && i < nf; i += mc->batch, k++) {
        int64_t b = nf - i < mc->batch ? nf - i : mc->batch;
        lt_rng r;
        lt_rng_init(&r, lt_hash3(mc->seed, 31, (uint64_t)k));
        lt_dm_timesteps(&r, s->T, (int)b, t);
        lt_rng_fill_normal(&r, e, b * per, 0, 1);
        lt_ctx_reset(c);
        int64_t sh[4] = {b, 1, 8, 8};
        lt_tensor *x0 = lt_from_data(c, 4, sh, (float *)x + i * per);
        lt_tensor *ee = lt_from_data(c, 4, sh, e);
        float *tf = lt_alloc(c, (size_t)b * sizeof *tf);
        int32_t *cc = lt_alloc(c, (size_t)b * sizeof *cc);
        for (int64_t j = 0; j < b; j++) {
            tf[j] = (float)t[j];
            cc[j] = cls;
        }
        lt_tensor *eps = lt_dm_guided_eps(c, u, lt_dm_q_sample(c, s, x0, ee,
                                                               t),
                                          tf, cc, LT_GUIDE_SALUN, mc->w);
        lt_tensor *l = lt_affine(c, lt_mse(c, eps, ee, LT_REDUCE_SUM),
                                 1.0f / (float)b, 0);
        lt_params_zero_grad(&u->params);
        LT_CHECK(l && lt_backward(c, l) == LT_OK, "%s", lt_last_error());
        double n2 = 0;
        for (int64_t j = 0; j < ntr; j++)
            n2 += (double)u->params.grad[j] * u->params.grad[j];
        double norm = sqrt(n2), coef = mc->clip / (norm + 1e-6);
        maxnorm = norm > maxnorm ? norm : maxnorm;
        for (int64_t j = 0; j < ntr; j++)
            acc[j] += u->params.grad[j] * (coef < 1 ? coef : 1);
    }
    for (int64_t j = 0; j < ntr; j++)
        acc[j] = fabs(acc[j]);
    lt_ctx_free(c);
    free(e);
    free(t);
    return maxnorm;
}

static const float *g_sal;
static int by_saliency(const void *a, const void *b)
{
    int64_t i = *(const int64_t *)a, j = *(const int64_t *)b;
    float x = fabsf(g_sal[i]), y = fabsf(g_sal[j]);
    if (x != y)
        return x > y ? -1 : 1;
    return i < j ? -1 : 1;
}

LT_TEST(saliency_mask_equals_a_direct_recomputation)
{
    lt_unet *u = golden_unet();
    lt_dm_schedule s;
    lt_dm_schedule_make("linear", 1000, &s);
    int64_t nf = 45, ntr = u ? u->params.n_train : 0;
    float *x = images(nf, 64, 5);
    float *mask = malloc((size_t)ntr * sizeof *mask);
    float *sal = malloc((size_t)ntr * sizeof *sal);
    double *acc = malloc((size_t)ntr * sizeof *acc);
    int64_t *idx = malloc((size_t)ntr * sizeof *idx);
    if (!u || !x || !mask || !sal || !acc || !idx)
        goto out;
    /* batches of 40 (two chunks of the library's pass) and 5 */
    lt_dmu_mask_config mc = lt_dmu_mask_defaults();
    mc.batch = 40;
    mc.seed = 9;
    LT_CHECK(lt_dmu_mask(u, &s, x, nf, 2, &mc, mask, sal) == LT_OK, "%s",
             lt_last_error());
    double maxnorm = recompute(u, &s, x, nf, 2, &mc, acc);
    LT_CHECK(maxnorm > 1, "batch gradient norm %g: clipping not exercised",
             maxnorm);
    float *want = malloc((size_t)ntr * sizeof *want);
    for (int64_t j = 0; want && j < ntr; j++)
        want[j] = (float)acc[j];
    if (want)
        LT_CHECK_REL_L2("saliency", sal, want, ntr, 1e-4);
    free(want);
    /* the mask: exactly the floor(n / 2) largest saliencies */
    for (int64_t j = 0; j < ntr; j++)
        idx[j] = j;
    g_sal = sal;
    qsort(idx, (size_t)ntr, sizeof *idx, by_saliency);
    int64_t k = ntr / 2, bad = 0, ones = 0;
    for (int64_t r = 0; r < ntr; r++)
        bad += mask[idx[r]] != (r < k ? 1.0f : 0.0f);
    for (int64_t j = 0; j < ntr; j++)
        ones += mask[j] == 1.0f;
    LT_CHECK(bad == 0 && ones == k, "%lld entries differ from the sorted "
             "top %lld (mask has %lld ones)", (long long)bad, (long long)k,
             (long long)ones);
    /* another forget class ranks other weights */
    float *m2 = malloc((size_t)ntr * sizeof *m2);
    if (m2 && lt_dmu_mask(u, &s, x, nf, 0, &mc, m2, NULL) == LT_OK) {
        int64_t diff = 0;
        for (int64_t j = 0; j < ntr; j++)
            diff += m2[j] != mask[j];
        LT_CHECK(diff > 0, "the masks of classes 0 and 2 are equal");
    }
    free(m2);
out:
    free(x);
    free(mask);
    free(sal);
    free(acc);
    free(idx);
    lt_unet_free(u);
    lt_dm_schedule_free(&s);
}

/* A tiny labelled set: n images of 8x8, labels i mod 3. */
static void tiny_set(int64_t n, float **x, int32_t **y)
{
    *x = images(n, 64, 11);
    *y = malloc((size_t)n * sizeof **y);
    for (int64_t i = 0; *y && i < n; i++)
        (*y)[i] = (int32_t)(i % 3);
}

static lt_dmu_config tiny_cfg(lt_dmu_loss kind)
{
    lt_dmu_config c = lt_dmu_defaults();
    c.loss = kind;
    c.forget_class = 1;
    c.steps = 3;
    c.batch = 5;
    c.lr = 1e-3f;
    return c;
}

LT_TEST(masked_weights_stay_bit_identical_and_runs_repeat)
{
    lt_unet *u = golden_unet(), *v = golden_unet();
    lt_dm_schedule s;
    lt_dm_schedule_make("linear", 1000, &s);
    float *x = NULL;
    int32_t *y = NULL;
    tiny_set(30, &x, &y);
    int64_t ntr = u ? u->params.n_train : 0;
    float *mask = malloc((size_t)ntr * sizeof *mask);
    float *orig = malloc((size_t)ntr * sizeof *orig);
    if (!u || !v || !x || !y || !mask || !orig)
        goto out;
    memcpy(orig, u->params.theta, (size_t)ntr * sizeof *orig);
    LT_CHECK(lt_mask_random(ntr, 0.5, 3, mask) == LT_OK, "mask");
    for (int k = 0; k <= LT_DMU_ESD; k++) {
        memcpy(u->params.theta, orig, (size_t)ntr * sizeof *orig);
        lt_dmu_config cfg = tiny_cfg((lt_dmu_loss)k);
        LT_CHECK(lt_dmu_run(u, &s, x, y, 30, &cfg, mask, NULL, NULL) ==
                     LT_OK, "%s: %s", lt_dmu_loss_name(cfg.loss),
                 lt_last_error());
        int64_t moved = 0, broke = 0;
        for (int64_t i = 0; i < ntr; i++) {
            bool same = !memcmp(&u->params.theta[i], &orig[i], sizeof(float));
            if (mask[i] == 0)
                broke += !same;
            else
                moved += !same;
        }
        LT_CHECK(broke == 0, "%s: %lld masked weights changed",
                 lt_dmu_loss_name(cfg.loss), (long long)broke);
        LT_CHECK(moved > ntr / 4, "%s: only %lld free weights moved",
                 lt_dmu_loss_name(cfg.loss), (long long)moved);
    }
    /* the same seed gives the same weights; another seed other ones */
    lt_dmu_config cfg = tiny_cfg(LT_DMU_RL);
    cfg.random_target = true;
    cfg.pair_drop = true;
    memcpy(u->params.theta, orig, (size_t)ntr * sizeof *orig);
    memcpy(v->params.theta, orig, (size_t)ntr * sizeof *orig);
    LT_CHECK(lt_dmu_run(u, &s, x, y, 30, &cfg, NULL, NULL, NULL) == LT_OK &&
                 lt_dmu_run(v, &s, x, y, 30, &cfg, NULL, NULL, NULL) == LT_OK,
             "%s", lt_last_error());
    LT_CHECK(!memcmp(u->params.theta, v->params.theta,
                     (size_t)ntr * sizeof(float)), "two runs differ");
    cfg.seed = 2;
    memcpy(v->params.theta, orig, (size_t)ntr * sizeof *orig);
    LT_CHECK(lt_dmu_run(v, &s, x, y, 30, &cfg, NULL, NULL, NULL) == LT_OK,
             "%s", lt_last_error());
    LT_CHECK(memcmp(u->params.theta, v->params.theta,
                    (size_t)ntr * sizeof(float)), "seed 2 equals seed 1");
out:
    free(x);
    free(y);
    free(mask);
    free(orig);
    lt_unet_free(u);
    lt_unet_free(v);
    lt_dm_schedule_free(&s);
}

/* A step in chunks computes the one-tape gradient (dropout 0 here, so
 * the chunking draws nothing differently). */
/* train_esd's starting points: t_enc 0 leaves the noise; one step from
 * t = 0 is the x0 estimate (x - sqrt(1 - abar_0) e~) / sqrt(abar_0); two
 * steps with eta 1 draw their extra noise from the given stream; the
 * loop's esd runs from sampled x_t and from data, masked weights frozen. */
LT_TEST(esd_starting_points_follow_train_esd)
{
    lt_unet *u = golden_unet();
    lt_dm_schedule s;
    lt_dm_schedule_make("linear", 1000, &s);
    int64_t per = u ? (int64_t)u->cfg.in_ch * u->cfg.res * u->cfg.res : 0;
    float *x = images(3, per, 5), *ref = images(3, per, 5);
    lt_ctx *c = lt_ctx_new((size_t)64 << 20);
    if (!u || !x || !ref || !c)
        goto out;
    int32_t te[3] = {0, 1, 2};
    lt_rng g, h;
    lt_rng_init(&g, 9);
    h = g;
    LT_CHECK(lt_dmu_esd_start(u, &s, 3, 1, te, 2.0f, 1.0f, &g, x) == LT_OK,
             "%s", lt_last_error());
    LT_CHECK(!memcmp(x, ref, (size_t)per * sizeof *x), "t_enc 0 moved x");
    /* by hand: sample 1 (one step, t = 0: c1 = c2 = 0, no noise drawn),
     * then sample 2 (t = 1 then t = 0; noise only at t = 1) */
    lt_set_grad_enabled(c, false);
    int one = 1;
    double worst = 0;
    for (int i = 1; i < 3; i++) {
        float *xi = ref + i * per;
        for (int k = te[i] - 1; k >= 0; k--) {
            lt_ctx_reset(c);
            float tk = (float)k;
            lt_tensor *e = lt_dm_guided_eps(
                c, u, lt_from_data(c, 4, (int64_t[]){1, u->cfg.in_ch,
                                                     u->cfg.res, u->cfg.res},
                                   xi), &tk, &one, LT_GUIDE_SALUN, 2.0f);
            double at = s.abar[k], an = k ? s.abar[k - 1] : 1.0;
            double c1 = sqrt((1 - at / an) * (1 - an) / (1 - at));
            double c2 = sqrt(fmax(0, (1 - an) - c1 * c1));
            for (int64_t j = 0; e && j < per; j++) {
                double z = c1 != 0 ? lt_rng_normal(&h) : 0;
                double x0 = (xi[j] - e->data[j] * sqrt(1 - at)) / sqrt(at);
                xi[j] = (float)(sqrt(an) * x0 + c1 * z + c2 * e->data[j]);
            }
        }
    }
    for (int64_t j = per; j < 3 * per; j++)
        worst = fmax(worst, fabs(x[j] - ref[j]) / (1 + fabs(ref[j])));
    LT_CHECK(worst < 1e-5, "esd start vs by hand: worst %g", worst);
    te[0] = 1001;
    LT_CHECK(lt_dmu_esd_start(u, &s, 1, 1, te, 2.0f, 1.0f, &g, x) ==
                 LT_ERR_ARG, "t_enc 1001 accepted");
    float *xs = NULL;
    int32_t *ys = NULL;
    tiny_set(30, &xs, &ys);
    int64_t ntr = u->params.n_train;
    float *mask = malloc((size_t)ntr * sizeof *mask);
    float *orig = malloc((size_t)ntr * sizeof *orig);
    for (int from_data = 0; xs && ys && mask && orig && from_data < 2;
         from_data++) {
        lt_dmu_config cfg = tiny_cfg(LT_DMU_ESD);
        cfg.esd_from_data = from_data;
        memcpy(orig, u->params.theta, (size_t)ntr * sizeof *orig);
        lt_mask_random(ntr, 0.5, 3, mask);
        LT_CHECK(lt_dmu_run(u, &s, xs, ys, 30, &cfg, mask, NULL, NULL) ==
                     LT_OK, "esd (from data %d): %s", from_data,
                 lt_last_error());
        int64_t broke = 0, moved = 0;
        for (int64_t i = 0; i < ntr; i++) {
            bool same = !memcmp(&u->params.theta[i], &orig[i], sizeof(float));
            broke += mask[i] == 0 && !same;
            moved += mask[i] != 0 && !same;
        }
        LT_CHECK(broke == 0 && moved > ntr / 4, "esd (from data %d): %lld "
                 "masked changed, %lld free moved", from_data,
                 (long long)broke, (long long)moved);
    }
    int64_t st;
    int bt;
    lt_dmu_recipe(LT_DMU_ESD, false, &st, &bt);
    LT_CHECK(st == 10000 && bt == 1, "esd recipe %lld x %d", (long long)st,
             bt);
    lt_dmu_recipe(LT_DMU_ESD, true, &st, &bt);
    LT_CHECK(st == 1000 && bt == 128, "esd-data recipe %lld x %d",
             (long long)st, bt);
    LT_CHECK(lt_dmu_defaults().esd_eta == 7.5f, "eta default");
    free(xs);
    free(ys);
    free(mask);
    free(orig);
out:
    lt_ctx_free(c);
    free(x);
    free(ref);
    lt_unet_free(u);
    lt_dm_schedule_free(&s);
}

LT_TEST(chunked_steps_equal_one_pass)
{
    lt_unet *u = golden_unet(), *v = golden_unet();
    lt_dm_schedule s;
    lt_dm_schedule_make("linear", 1000, &s);
    float *x = NULL;
    int32_t *y = NULL;
    tiny_set(30, &x, &y);
    if (!u || !v || !x || !y)
        goto out;
    for (int k = 0; k <= LT_DMU_ESD; k++) {
        lt_dmu_config cfg = tiny_cfg((lt_dmu_loss)k);
        cfg.batch = 7;
        cfg.steps = 2;
        cfg.lr = 1e-5f; /* small steps: Adam's first step is lr * sign */
        dm_fill(&u->params);
        dm_fill(&v->params);
        LT_CHECK(lt_dmu_run(u, &s, x, y, 30, &cfg, NULL, NULL, NULL) ==
                     LT_OK, "%s", lt_last_error());
        cfg.chunk = 3;
        LT_CHECK(lt_dmu_run(v, &s, x, y, 30, &cfg, NULL, NULL, NULL) ==
                     LT_OK, "%s", lt_last_error());
        int64_t ntr = u->params.n_train, far = 0;
        for (int64_t i = 0; i < ntr; i++)
            far += fabsf(u->params.theta[i] - v->params.theta[i]) >
                   5e-2f * cfg.lr;
        /* a gradient entry near 0 may flip Adam's sign under rounding */
        LT_CHECK(far <= ntr / 1000, "%s: %lld of %lld weights differ",
                 lt_dmu_loss_name(cfg.loss), (long long)far,
                 (long long)ntr);
    }
out:
    free(x);
    free(y);
    lt_unet_free(u);
    lt_unet_free(v);
    lt_dm_schedule_free(&s);
}

LT_TEST(bad_arguments_are_clear_errors)
{
    lt_unet *u = golden_unet(), *txt = NULL;
    lt_dm_schedule s;
    lt_dm_schedule_make("linear", 1000, &s);
    float *x = NULL;
    int32_t *y = NULL;
    tiny_set(30, &x, &y);
    LT_CHECK(lt_unet_create("text:xs,ctx_dim=32", &txt) == LT_OK, "%s",
             lt_last_error());
    if (!u || !txt || !x || !y)
        goto out;
    lt_dmu_config cfg = tiny_cfg(LT_DMU_RL);
    LT_CHECK(lt_dmu_run(txt, &s, x, y, 30, &cfg, NULL, NULL, NULL) ==
                     LT_ERR_ARG && strstr(lt_last_error(), "text-"),
             "text model: %s", lt_last_error());
    cfg.forget_class = 3;
    LT_CHECK(lt_dmu_run(u, &s, x, y, 30, &cfg, NULL, NULL, NULL) ==
                     LT_ERR_ARG && strstr(lt_last_error(), "forget class 3"),
             "class out of range: %s", lt_last_error());
    cfg.forget_class = 1;
    cfg.target_class = 1;
    LT_CHECK(lt_dmu_run(u, &s, x, y, 30, &cfg, NULL, NULL, NULL) ==
                 LT_ERR_ARG, "target equals forget class");
    cfg.target_class = -1;
    for (int i = 0; i < 30; i++)
        y[i] = i % 3 == 1 ? 0 : y[i];
    LT_CHECK(lt_dmu_run(u, &s, x, y, 30, &cfg, NULL, NULL, NULL) ==
                     LT_ERR_ARG && strstr(lt_last_error(), "0 images of "
                                                           "class 1"),
             "no forget images: %s", lt_last_error());
    lt_dmu_loss k;
    LT_CHECK(lt_dmu_loss_parse("salun", &k) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "'salun'"), "salun is not a loss");
    LT_CHECK(lt_dmu_loss_parse("esd", &k) == LT_OK && k == LT_DMU_ESD,
             "esd parses");
    lt_dmu_mask_config mc = lt_dmu_mask_defaults();
    float m[4];
    LT_CHECK(lt_dmu_mask(txt, &s, x, 3, 0, &mc, m, NULL) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "text-"), "mask of a text model");
    LT_CHECK(lt_dmu_mask(u, &s, x, 3, -1, &mc, m, NULL) == LT_ERR_ARG,
             "mask of class -1");
    /* alpha: 1e-3 on 3072 pixels carried to 784 */
    lt_unet *fm = NULL;
    if (lt_unet_create("cond:xs", &fm) == LT_OK) {
        float a = lt_dmu_alpha(&cfg, fm);
        LT_CHECK(fabsf(a - 3.918367e-3f) < 1e-8f, "alpha %g", (double)a);
    }
    lt_unet_free(fm);
out:
    free(x);
    free(y);
    lt_unet_free(u);
    lt_unet_free(txt);
    lt_dm_schedule_free(&s);
}

LT_TEST_MAIN()
