/*
 * test_dm_text_salun.c - SalUn on a text-conditioned UNet as UnlearnCanvas'
 * scripts compute it (lethe/dm_text_salun.h) against the PyTorch
 * transcription of tests/golden/gen_dm_text_salun.py on the UNet twin of
 * gen_unet_text.py: the mask pass (losses, the summed gradient of a copy
 * that Adam ascends between iterations, the model itself untouched), the
 * mask by SalUn's rule and by the script's ascending ranks, two training
 * iterations (loss, masked Adam on attn2, everything else bit-identical);
 * the mask recomputed by sorting; the seeded loop's determinism; errors.
 */
#include "dm_test.h"
#include "lethe/dm_text_salun.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SPEC                                                                \
    "text:xs,res=8,ch=8,groups=4,blocks=2,attn=4-2,heads=2,ctx_dim=12,"     \
    "ctx_len=5"
#define PER 192 /* 3 x 8 x 8 */

static const char *const SOME[] = {
    "down.1.attn.0.transformer_blocks.0.attn2.to_k.weight",
    "mid.attn_1.transformer_blocks.0.attn2.to_out.0.bias",
    "up.2.attn.1.transformer_blocks.0.attn2.to_q.weight"};
static const char *const OTHER[] = {
    "mid.attn_1.transformer_blocks.0.attn1.to_q.weight", "conv_in.weight"};

/* Golden entry prefix + name (prefix may be ""). */
static const float *GP(const lt_golden *g, const char *prefix,
                       const char *name)
{
    char nm[192];
    snprintf(nm, sizeof nm, "%s%s", prefix, name);
    const lt_golden_entry *e = lt_golden_get(g, nm);
    LT_CHECK(e != NULL, "golden lacks %s", nm);
    return e ? e->data : NULL;
}

static const float *G(const lt_golden *g, const char *name)
{
    return GP(g, "", name);
}

/* Entry "{pre}{k}.{rest}" (draws of iteration k). */
static const float *GK(const lt_golden *g, char pre, int k, const char *rest)
{
    char p[16];
    snprintf(p, sizeof p, "%c%d.", pre, k);
    return GP(g, p, rest);
}

static float V(const lt_golden *g, const char *name)
{
    return lt_golden_get(g, name)->data[0];
}

/* The twin: name-hash fill, then the golden's random attn2 weights. */
static lt_unet *twin(const lt_golden *g)
{
    return dm_golden_unet(SPEC, g);
}

static lt_salun_text_config golden_cfg(const lt_golden *g)
{
    lt_salun_text_config c = lt_salun_text_defaults();
    c.batch = (int)V(g, "B");
    c.epochs = 1;
    c.mask_guidance = V(g, "guide");
    c.mask_ratio = V(g, "ratio");
    c.alpha = V(g, "alpha");
    c.lr = V(g, "lr");
    c.mask_lr = V(g, "mask_lr");
    return c;
}

static lt_salun_text_data golden_data(const lt_golden *g)
{
    return (lt_salun_text_data){
        .n_forget = 3, .n_remain = 3, .x_forget = G(g, "xf"),
        .ctx_forget = G(g, "ctxf"), .x_remain = G(g, "xr"),
        .ctx_remain = G(g, "ctxr"),
        .ctx_mask = G(g, "ctx_mask"),
        .null_mask = G(g, "null_mask")};
}

/* Draws of the golden (mask pass: prefix "m", training: "s"), copied so
 * the integer timesteps are int32. */
typedef struct {
    int32_t t[2][2], tr[2][2];
    float e[2][2 * PER], er[2][2 * PER];
    lt_salun_text_draw d[2];
} golden_draws;

static void load_draws(const lt_golden *g, char pre, golden_draws *w)
{
    for (int k = 0; k < 2; k++) {
        const float *t = GK(g, pre, k, "t");
        memcpy(w->e[k], GK(g, pre, k, "e"), sizeof w->e[k]);
        for (int i = 0; i < 2; i++)
            w->t[k][i] = (int32_t)t[i];
        if (pre == 's') {
            const float *tr = GK(g, pre, k, "t_r");
            memcpy(w->er[k], GK(g, pre, k, "e_r"), sizeof w->er[k]);
            for (int i = 0; i < 2; i++)
                w->tr[k][i] = (int32_t)tr[i];
        }
        w->d[k] = (lt_salun_text_draw){w->t[k], w->tr[k], w->e[k], w->er[k]};
    }
}

/* The mask pass against generate_mask.py; returns the summed gradient. */
static float *check_mask_pass(const lt_golden *g, lt_unet *u,
                              const lt_dm_schedule *s,
                              const lt_salun_text_config *cfg,
                              const lt_salun_text_data *d)
{
    golden_draws w;
    load_draws(g, 'm', &w);
    /* the first iteration's loss on the unchanged model */
    lt_ctx *c = lt_ctx_new(lt_unet_arena_bytes(u, 4, true));
    lt_tensor *l = lt_salun_text_mask_loss(c, u, s, d->x_forget, w.e[0],
                                           w.t[0], 2, d->ctx_mask,
                                           d->null_mask, cfg->mask_guidance,
                                           true);
    LT_CHECK(l != NULL, "%s", lt_last_error());
    if (l)
        LT_CHECK_CLOSE("m0.loss", l->data, G(g, "m0.loss"), 1,
                       1e-4);
    lt_ctx_free(c);
    int64_t n = u->params.n_train;
    float *gs = malloc((size_t)n * sizeof *gs);
    float *theta0 = malloc((size_t)n * sizeof *theta0);
    memcpy(theta0, u->params.theta, (size_t)n * sizeof *theta0);
    LT_CHECK(lt_salun_text_saliency(u, s, d, cfg, w.d, gs) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(!memcmp(theta0, u->params.theta, (size_t)n * sizeof *theta0),
             "the mask pass changed the model");
    for (int i = 0; i < 3; i++) {
        const lt_param *p = NULL;
        for (int j = 0; j < u->params.count; j++)
            if (!strcmp(u->params.p[j].name, SOME[i]))
                p = &u->params.p[j];
        LT_CHECK_REL_L2(SOME[i], gs + p->offset, GP(g, "gsum.", SOME[i]), p->t.numel,
                        1e-3);
    }
    free(theta0);
    return gs;
}

/* The masks of both rules against the golden's on its tensors, allowing
 * a flip only at |g| within 1e-3 of the golden's k-th value. */
static void check_masks(const lt_golden *g, const lt_unet *u, const float *gs,
                        const lt_salun_text_config *cfg, float *top)
{
    int64_t n = u->params.n_train;
    float *bot = malloc((size_t)n * sizeof *bot);
    LT_CHECK(lt_salun_text_mask(gs, n, cfg->mask_ratio, false, top) ==
                     LT_OK &&
                 lt_salun_text_mask(gs, n, cfg->mask_ratio, true, bot) ==
                     LT_OK,
             "%s", lt_last_error());
    double ones = 0, kth = V(g, "mask.kth");
    for (int64_t i = 0; i < n; i++)
        ones += top[i];
    /* round(0.4 n) here, int(0.4 n) in the script: at most one apart */
    LT_CHECK(fabs(ones - V(g, "mask.ones")) <= 1, "ones %g vs %g", ones,
             (double)V(g, "mask.ones"));
    int64_t flips = 0, checked = 0;
    for (int r = 0; r < 2; r++)
        for (int i = 0; i < 5; i++) {
            const char *nm = i < 3 ? SOME[i] : OTHER[i - 3];
            const float *want = GP(g, r ? "mask.bottom." : "mask.top.", nm);
            const lt_param *p = NULL;
            for (int j = 0; j < u->params.count; j++)
                if (!strcmp(u->params.p[j].name, nm))
                    p = &u->params.p[j];
            const float *got = (r ? bot : top) + p->offset;
            for (int64_t j = 0; j < p->t.numel; j++, checked++) {
                if (got[j] == want[j])
                    continue;
                flips++;
                LT_CHECK(fabs(fabsf(gs[p->offset + j]) - kth) < 1e-3 * kth,
                         "%s mask %s[%lld] = %g, the script %g", r ? "bottom"
                         : "top", nm, (long long)j, (double)got[j],
                         (double)want[j]);
            }
        }
    LT_CHECK(checked > 1000 && flips <= 2, "%lld flips of %lld",
             (long long)flips, (long long)checked);
    /* top and bottom are disjoint (ratio 0.4 < 0.5) */
    for (int64_t i = 0; i < n; i++)
        if (top[i] && bot[i]) {
            LT_CHECK(0, "entry %lld in both masks", (long long)i);
            break;
        }
    free(bot);
}

LT_TEST(salun_text_matches_unlearncanvas_scripts)
{
    lt_golden *g = lt_golden_load("dm_text_salun.bin");
    lt_dm_schedule s;
    LT_CHECK(lt_dm_schedule_make("scaled_linear", 1000, &s) == LT_OK, "sch");
    lt_unet *u = g ? twin(g) : NULL;
    if (!u)
        goto out;
    lt_salun_text_config cfg = golden_cfg(g);
    lt_salun_text_data d = golden_data(g);
    LT_CHECK(lt_salun_text_mask_iters(&cfg, 3) == 2 &&
                 lt_salun_text_iters(&cfg, 3) == 2,
             "iterations");
    float *gs = check_mask_pass(g, u, &s, &cfg, &d);
    int64_t n = u->params.n_train;
    float *mask = malloc((size_t)n * sizeof *mask);
    check_masks(g, u, gs, &cfg, mask);
    float *theta0 = malloc((size_t)n * sizeof *theta0);
    memcpy(theta0, u->params.theta, (size_t)n * sizeof *theta0);
    golden_draws w;
    load_draws(g, 's', &w);
    /* the first loss, then the two iterations */
    lt_ctx *c = lt_ctx_new(lt_unet_arena_bytes(u, 6, true));
    lt_tensor *l = lt_salun_text_loss(c, u, &s, d.x_forget, d.ctx_forget,
                                      d.ctx_remain, d.x_remain, d.ctx_remain,
                                      &w.d[0], 2, cfg.alpha, true);
    LT_CHECK(l != NULL, "%s", lt_last_error());
    if (l)
        LT_CHECK_CLOSE("s0.loss", l->data, G(g, "s0.loss"), 1, 1e-4);
    lt_ctx_free(c);
    LT_CHECK(lt_salun_text_run(u, &s, &d, mask, &cfg, w.d, NULL, NULL) ==
                 LT_OK,
             "%s", lt_last_error());
    for (int i = 0; i < 5; i++) {
        const char *nm = i < 3 ? SOME[i] : OTHER[i - 3];
        lt_tensor *p = lt_params_get(&u->params, nm);
        const float *want = GP(g, "s1.after.", nm);
        if (i >= 3) {
            LT_CHECK(!memcmp(p->data, want, (size_t)p->numel * 4),
                     "%s moved", nm);
            continue;
        }
        /* the update itself (weights O(1), steps 1e-3) */
        const float *w0 = theta0 + (p->data - u->params.theta);
        float *dg = malloc((size_t)p->numel * sizeof *dg);
        float *dw = malloc((size_t)p->numel * sizeof *dw);
        for (int64_t j = 0; j < p->numel; j++) {
            dg[j] = p->data[j] - w0[j];
            dw[j] = want[j] - w0[j];
        }
        LT_CHECK_REL_L2(nm, dg, dw, p->numel, 2e-2);
        free(dg);
        free(dw);
    }
    /* outside attn2, and where the mask is 0, bit-identical */
    int64_t broke = 0, moved = 0;
    for (int j = 0; j < u->params.count; j++) {
        const lt_param *p = &u->params.p[j];
        bool sel = strstr(p->name, "attn2") != NULL;
        for (int64_t i = 0; i < p->t.numel; i++) {
            int64_t o = p->offset + i;
            bool same = !memcmp(&p->t.data[i], &theta0[o], 4);
            broke += !(sel && mask[o]) && !same;
            moved += sel && mask[o] && !same;
        }
    }
    LT_CHECK(broke == 0 && moved > 1000, "%lld frozen changed, %lld moved",
             (long long)broke, (long long)moved);
    free(theta0);
    free(mask);
    free(gs);
out:
    lt_unet_free(u);
    lt_dm_schedule_free(&s);
    lt_golden_free(g);
}

/* A mask recomputed by sorting |g|: the k largest (ties to the lower
 * index) and the k smallest. */
LT_TEST(salun_text_mask_equals_a_sort)
{
    enum { N = 1000 };
    static float g[N], top[N], bot[N];
    lt_rng r;
    lt_rng_init(&r, 5);
    lt_rng_fill_normal(&r, g, N, 0, 1);
    g[7] = g[8] = 0; /* equal entries */
    LT_CHECK(lt_salun_text_mask(g, N, 0.4f, false, top) == LT_OK &&
                 lt_salun_text_mask(g, N, 0.4f, true, bot) == LT_OK,
             "%s", lt_last_error());
    for (int i = 0; i < N; i++) {
        int above = 0, below = 0;
        for (int j = 0; j < N; j++) {
            float a = fabsf(g[j]), b = fabsf(g[i]);
            above += a > b || (a == b && j < i);
            below += a < b || (a == b && j < i);
        }
        LT_CHECK(top[i] == (above < 400), "top %d", i);
        LT_CHECK(bot[i] == (below < 400), "bottom %d", i);
    }
    LT_CHECK(lt_salun_text_mask(g, N, 0, false, top) == LT_ERR_ARG &&
                 lt_salun_text_mask(g, N, 1.5f, false, top) == LT_ERR_ARG,
             "bad ratios refused");
}

LT_TEST(salun_text_seeded_and_errors)
{
    lt_golden *g = lt_golden_load("dm_text_salun.bin");
    lt_dm_schedule s;
    LT_CHECK(lt_dm_schedule_make("scaled_linear", 1000, &s) == LT_OK, "sch");
    lt_unet *a = g ? twin(g) : NULL, *b = g ? twin(g) : NULL;
    if (!a || !b)
        goto out;
    lt_salun_text_config cfg = golden_cfg(g);
    lt_salun_text_data d = golden_data(g);
    LT_CHECK(lt_salun_text_run(a, &s, &d, NULL, &cfg, NULL, NULL, NULL) ==
                     LT_OK &&
                 lt_salun_text_run(b, &s, &d, NULL, &cfg, NULL, NULL,
                                   NULL) == LT_OK,
             "%s", lt_last_error());
    size_t bytes = (size_t)a->params.n_total * sizeof(float);
    LT_CHECK(!memcmp(a->params.theta, b->params.theta, bytes),
             "same seed, other weights");
    cfg.seed = 2;
    LT_CHECK(lt_salun_text_run(b, &s, &d, NULL, &cfg, NULL, NULL, NULL) ==
                 LT_OK, "%s", lt_last_error());
    LT_CHECK(memcmp(a->params.theta, b->params.theta, bytes) != 0,
             "another seed, the same weights");
    /* errors */
    lt_unet *cls = NULL;
    LT_CHECK(lt_unet_create("cond:xs", &cls) == LT_OK, "%s", lt_last_error());
    LT_CHECK(lt_salun_text_run(cls, &s, &d, NULL, &cfg, NULL, NULL, NULL) ==
                     LT_ERR_ARG &&
                 strstr(lt_last_error(), "class-conditional"),
             "class model: %s", lt_last_error());
    lt_unet_free(cls);
    lt_salun_text_data empty = d;
    empty.n_remain = 0;
    LT_CHECK(lt_salun_text_run(a, &s, &empty, NULL, &cfg, NULL, NULL,
                               NULL) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "remain"),
             "no remain set: %s", lt_last_error());
    cfg.mask_ratio = 0;
    float *gs = malloc((size_t)a->params.n_train * sizeof *gs);
    LT_CHECK(lt_salun_text_saliency(a, &s, &d, &cfg, NULL, gs) == LT_ERR_ARG,
             "ratio 0 refused");
    free(gs);
out:
    lt_unet_free(a);
    lt_unet_free(b);
    lt_dm_schedule_free(&s);
    lt_golden_free(g);
}

LT_TEST_MAIN()
