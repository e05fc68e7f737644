/*
 * test_dm_text_unlearn.c - ESD on a text-conditioned UNet
 * (lethe/dm_text_unlearn.h): two iterations (the partial DDIM starting
 * point, the loss, the gradients, Adam on the cross-attention only)
 * against a PyTorch transcription of train-esd.py
 * (tests/golden/gen_dm_text_unlearn.py) on the UNet twin of
 * gen_unet_text.py; the parameter filters against the script's rules run
 * on the twin's names, plus named cases; the till_T quirk (t_enc 0 and 1
 * sample the same); frozen weights bit-identical; the same seed, the same
 * weights; the bad-argument errors. FMN: the attention probe, the loss,
 * its gradients and the AdamW step against train_attn.py's controller on
 * the same twin; the token marks; the loop's frozen weights and seed.
 */
#include "dm_test.h"
#include "lethe/dm_text_unlearn.h"
#include "lethe/optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GOLDEN_SPEC                                                         \
    "text:xs,res=8,ch=8,groups=4,blocks=2,attn=4-2,heads=2,ctx_dim=12,"     \
    "ctx_len=5"

/* The golden's model: name-hash fill, then its random attn2 weights. */
static lt_unet *golden_unet(const lt_golden *g)
{
    lt_unet *u = dm_golden_unet(GOLDEN_SPEC, NULL);
    LT_CHECK(!g || !u || dm_golden_weights(&u->params, g) > 0,
             "no attn2 weights in the golden");
    return u;
}

static lt_esd_config golden_cfg(const lt_golden *g)
{
    lt_esd_config cfg = lt_esd_defaults();
    cfg.eta = lt_golden_get(g, "eta")->data[0];
    cfg.start_guidance = lt_golden_get(g, "guide")->data[0];
    cfg.lr = lt_golden_get(g, "lr")->data[0];
    cfg.ddim_steps = (int)lt_golden_get(g, "S")->data[0];
    cfg.steps = 2;
    return cfg;
}

static const char *const SOME[] = {
    "down.1.attn.0.transformer_blocks.0.attn2.to_k.weight",
    "mid.attn_1.transformer_blocks.0.attn2.to_out.0.bias",
    "up.2.attn.1.transformer_blocks.0.attn2.to_q.weight"};
static const char *const OTHER[] = {
    "mid.attn_1.transformer_blocks.0.attn1.to_q.weight", "conv_in.weight"};

/* Iteration k of the golden: z, loss, gradients, the weights after. */
static void check_iteration(const lt_golden *g, lt_unet *u,
                            const lt_dm_schedule *s, lt_esd *r, int k,
                            const float *ctx, const float *null_ctx,
                            const lt_esd_config *cfg)
{
    char nm[160];
    lt_esd_draw d;
    snprintf(nm, sizeof nm, "s%d.t_enc", k);
    d.t_enc = (int)lt_golden_get(g, nm)->data[0];
    snprintf(nm, sizeof nm, "s%d.t_ddpm", k);
    d.t_ddpm = (int)lt_golden_get(g, nm)->data[0];
    snprintf(nm, sizeof nm, "s%d.start", k);
    float z[192];
    memcpy(z, lt_golden_get(g, nm)->data, sizeof z);
    d.start = lt_golden_get(g, nm)->data;
    LT_CHECK(lt_esd_start(u, s, cfg->ddim_steps, d.t_enc,
                          cfg->start_guidance, ctx, null_ctx, z) == LT_OK,
             "%s", lt_last_error());
    snprintf(nm, sizeof nm, "s%d.z", k);
    LT_CHECK_REL_L2(nm, z, lt_golden_get(g, nm)->data, 192, 1e-4);
    float before[3][256];
    for (int i = 0; i < 3; i++) {
        lt_tensor *p = lt_params_get(&u->params, SOME[i]);
        memcpy(before[i], p->data, (size_t)p->numel * sizeof(float));
    }
    lt_esd_event ev;
    LT_CHECK(lt_esd_step(r, &d, &ev) == LT_OK, "%s", lt_last_error());
    snprintf(nm, sizeof nm, "s%d.loss", k);
    LT_CHECK_CLOSE(nm, &ev.loss, lt_golden_get(g, nm)->data, 1, 1e-3);
    LT_CHECK(ev.t_enc == d.t_enc && ev.t_ddpm == d.t_ddpm &&
             ev.step == k + 1, "event %d %d %lld", ev.t_enc, ev.t_ddpm,
             (long long)ev.step);
    dm_check_step(g, &u->params, k, SOME, 3, before, OTHER, 2);
}

LT_TEST(esd_iterations_match_train_esd)
{
    lt_golden *g = lt_golden_load("dm_text_unlearn.bin");
    lt_unet *u = golden_unet(g);
    lt_dm_schedule s;
    LT_CHECK(lt_dm_schedule_make("scaled_linear", 1000, &s) == LT_OK, "sch");
    if (!g || !u)
        goto out;
    lt_esd_config cfg = golden_cfg(g);
    const float *ctx = lt_golden_get(g, "ctx")->data;
    const float *nul = lt_golden_get(g, "null")->data;
    int64_t n = u->params.n_total;
    float *theta0 = malloc((size_t)n * sizeof *theta0);
    memcpy(theta0, u->params.theta, (size_t)n * sizeof *theta0);
    lt_esd *r = NULL;
    LT_CHECK(lt_esd_new(u, &s, ctx, nul, &cfg, &r) == LT_OK, "%s",
             lt_last_error());
    for (int k = 0; r && k < 2; k++)
        check_iteration(g, u, &s, r, k, ctx, nul, &cfg);
    /* everything outside attn2 bit-identical, attn2 moved */
    int64_t moved = 0, broke = 0;
    for (int j = 0; j < u->params.count; j++) {
        const lt_param *p = &u->params.p[j];
        bool sel = strstr(p->name, "attn2") != NULL;
        for (int64_t i = 0; i < p->t.numel; i++) {
            bool same = !memcmp(&p->t.data[i], &theta0[p->offset + i], 4);
            moved += sel && !same;
            broke += !sel && !same;
        }
    }
    LT_CHECK(broke == 0, "%lld frozen weights changed", (long long)broke);
    LT_CHECK(moved > 9000, "only %lld attn2 weights moved", (long long)moved);
    lt_esd_free(r);
    free(theta0);
out:
    lt_unet_free(u);
    lt_dm_schedule_free(&s);
    lt_golden_free(g);
}

LT_TEST(esd_filters_select_what_train_esd_selects)
{
    lt_golden *g = lt_golden_load("dm_text_unlearn.bin");
    lt_unet *u = golden_unet(NULL);
    if (!g || !u)
        goto out;
    static const char *const sets[] = {"xattn", "noxattn", "selfattn",
                                       "full", "notime"};
    float *mask = malloc((size_t)u->params.n_train * sizeof *mask);
    for (int k = 0; k < 5; k++) {
        lt_esd_params p;
        int64_t n = -1;
        char nm[64];
        snprintf(nm, sizeof nm, "count.%s", sets[k]);
        LT_CHECK(lt_esd_params_parse(sets[k], &p) == LT_OK && (int)p == k,
                 "%s parses", sets[k]);
        LT_CHECK(lt_esd_mask(u, p, mask, &n) == LT_OK, "%s", lt_last_error());
        LT_CHECK(n == (int64_t)lt_golden_get(g, nm)->data[0],
                 "%s selects %lld, the script %g", sets[k], (long long)n,
                 (double)lt_golden_get(g, nm)->data[0]);
        double sum = 0;
        for (int64_t i = 0; i < u->params.n_train; i++)
            sum += mask[i];
        LT_CHECK(sum == (double)n, "%s mask sum %g", sets[k], sum);
    }
    free(mask);
    lt_esd_params x, uu;
    LT_CHECK(lt_esd_params_parse("esd-x", &x) == LT_OK && x == LT_ESD_X &&
             lt_esd_params_parse("esd-u", &uu) == LT_OK && uu == LT_ESD_U,
             "esd-x / esd-u parse");
    LT_CHECK(lt_esd_params_parse("esd-z", &x) == LT_ERR_ARG &&
             strstr(lt_last_error(), "esd-z"), "unknown set named");
    static const struct {
        const char *name;
        bool x, u;
    } cases[] = {
        {"down.1.attn.0.transformer_blocks.0.attn2.to_k.weight", true, false},
        {"mid.attn_1.transformer_blocks.0.attn2.to_out.0.bias", true, false},
        {"mid.attn_1.transformer_blocks.0.attn1.to_out.0.weight", false, true},
        {"mid.attn_1.transformer_blocks.0.ff.net.0.proj.weight", false, true},
        {"mid.attn_1.proj_in.weight", false, true},
        {"down.0.block.0.temb_proj.weight", false, true},
        {"time_embed.0.weight", false, false},
        {"time_embed.2.bias", false, false},
        {"out.0.weight", false, false},
        {"out.2.bias", false, false},
        {"conv_in.weight", false, true},
    };
    /* the presets: esd-x is the 35 cross-attention tensors, 43,232
     * parameters of text:xs (docs/diffusion.md): 7 transformers of width
     * 32 (16x16, 8x8, middle) on a 64-wide context, each 32*32 (to_q) +
     * 2 * 64*32 (to_k, to_v) + 32*32 + 32 (to_out.0) = 6176 */
    lt_unet *xs = NULL;
    LT_CHECK(lt_unet_create("text:xs", &xs) == LT_OK, "%s", lt_last_error());
    float *mx = xs ? malloc((size_t)xs->params.n_train * sizeof *mx) : NULL;
    int64_t nx = 0;
    if (mx)
        LT_CHECK(lt_esd_mask(xs, LT_ESD_X, mx, &nx) == LT_OK && nx == 43232,
                 "text:xs esd-x selects %lld", (long long)nx);
    free(mx);
    lt_unet_free(xs);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        LT_CHECK(lt_params_get(&u->params, cases[i].name) != NULL,
                 "%s not a parameter", cases[i].name);
        LT_CHECK(lt_esd_selects(LT_ESD_X, cases[i].name) == cases[i].x &&
                 lt_esd_selects(LT_ESD_U, cases[i].name) == cases[i].u,
                 "%s: esd-x %d esd-u %d", cases[i].name, cases[i].x,
                 cases[i].u);
    }
out:
    lt_unet_free(u);
    lt_golden_free(g);
}

/* A fixed pseudo-random context [5, 12]. */
static void some_ctx(float *x, uint64_t seed)
{
    lt_rng r;
    lt_rng_init(&r, seed);
    lt_rng_fill_normal(&r, x, 60, 0, 1);
}

LT_TEST(esd_start_follows_till_T_and_the_loop_is_seeded)
{
    lt_unet *u = golden_unet(NULL), *v = golden_unet(NULL);
    lt_dm_schedule s;
    lt_dm_schedule_make("scaled_linear", 1000, &s);
    float ctx[60], nul[60], a[192], b[192];
    some_ctx(ctx, 1);
    some_ctx(nul, 2);
    if (!u || !v)
        goto out;
    /* the code's `index + 1 == till` never holds for till 0: t_enc 0 and
     * 1 both run the whole chain */
    lt_rng r;
    lt_rng_init(&r, 5);
    lt_rng_fill_normal(&r, a, 192, 0, 1);
    memcpy(b, a, sizeof a);
    LT_CHECK(lt_esd_start(u, &s, 10, 0, 3, ctx, nul, a) == LT_OK &&
             lt_esd_start(u, &s, 10, 1, 3, ctx, nul, b) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(!memcmp(a, b, sizeof a), "t_enc 0 and 1 differ");
    LT_CHECK(lt_esd_start(u, &s, 10, 10, 3, ctx, nul, a) == LT_ERR_ARG,
             "t_enc = S accepted");
    LT_CHECK(lt_esd_start(u, &s, 1001, 0, 3, ctx, nul, a) == LT_ERR_ARG,
             "S > T accepted");
    /* draws: t_ddpm inside t_enc's bin */
    lt_esd_config cfg = lt_esd_defaults();
    for (int64_t k = 0; k < 200; k++) {
        lt_esd_draw d = {.start = NULL};
        lt_esd_draws(&cfg, u, &s, k, &d);
        LT_CHECK(d.t_enc >= 0 && d.t_enc < 50 && d.t_ddpm >= 20 * d.t_enc &&
                 d.t_ddpm < 20 * d.t_enc + 20, "draw %lld: %d %d",
                 (long long)k, d.t_enc, d.t_ddpm);
    }
    /* esd-u: the same seed gives the same weights; the excluded names
     * stay bit-identical; another seed gives other weights */
    cfg.params = LT_ESD_U;
    cfg.ddim_steps = 5;
    cfg.steps = 2;
    cfg.lr = 1e-3f;
    int64_t n = u->params.n_total;
    float *theta0 = malloc((size_t)n * sizeof *theta0);
    memcpy(theta0, u->params.theta, (size_t)n * sizeof *theta0);
    LT_CHECK(lt_esd_run(u, &s, ctx, nul, &cfg, NULL, NULL) == LT_OK &&
             lt_esd_run(v, &s, ctx, nul, &cfg, NULL, NULL) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(!memcmp(u->params.theta, v->params.theta,
                     (size_t)n * sizeof(float)), "same seed, other weights");
    int64_t broke = 0, moved = 0;
    for (int j = 0; j < u->params.count; j++) {
        const lt_param *p = &u->params.p[j];
        bool sel = lt_esd_selects(LT_ESD_U, p->name);
        for (int64_t i = 0; i < p->t.numel; i++) {
            bool same = !memcmp(&p->t.data[i], &theta0[p->offset + i], 4);
            broke += !sel && !same;
            moved += sel && !same;
        }
    }
    LT_CHECK(broke == 0 && moved > 0, "esd-u: %lld excluded weights moved, "
             "%lld selected", (long long)broke, (long long)moved);
    memcpy(v->params.theta, theta0, (size_t)n * sizeof(float));
    cfg.seed = 2;
    LT_CHECK(lt_esd_run(v, &s, ctx, nul, &cfg, NULL, NULL) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(memcmp(u->params.theta, v->params.theta,
                    (size_t)n * sizeof(float)), "seed ignored");
    free(theta0);
out:
    lt_unet_free(u);
    lt_unet_free(v);
    lt_dm_schedule_free(&s);
}

LT_TEST(esd_bad_arguments)
{
    lt_unet *u = golden_unet(NULL), *k = NULL;
    LT_CHECK(lt_unet_create("cond:xs,res=8,ch=8,groups=4,classes=3", &k) ==
             LT_OK, "%s", lt_last_error());
    lt_dm_schedule s;
    lt_dm_schedule_make("scaled_linear", 1000, &s);
    float ctx[60], nul[60];
    some_ctx(ctx, 1);
    some_ctx(nul, 2);
    lt_esd_config cfg = lt_esd_defaults();
    lt_esd *r = NULL;
    if (!u || !k)
        goto out;
    LT_CHECK(lt_esd_new(k, &s, ctx, nul, &cfg, &r) == LT_ERR_ARG && !r &&
             strstr(lt_last_error(), "class-conditional"),
             "class model accepted: %s", lt_last_error());
    float *mask = malloc((size_t)k->params.n_train * sizeof *mask);
    LT_CHECK(lt_esd_mask(k, LT_ESD_X, mask, NULL) == LT_ERR_ARG,
             "class model mask");
    free(mask);
    cfg.lr = 0;
    LT_CHECK(lt_esd_new(u, &s, ctx, nul, &cfg, &r) == LT_ERR_ARG, "lr 0");
    cfg = lt_esd_defaults();
    cfg.ddim_steps = 0;
    LT_CHECK(lt_esd_new(u, &s, ctx, nul, &cfg, &r) == LT_ERR_ARG, "S 0");
    cfg = lt_esd_defaults();
    ctx[7] = NAN;
    LT_CHECK(lt_esd_new(u, &s, ctx, nul, &cfg, &r) == LT_ERR_ARG &&
             strstr(lt_last_error(), "non-finite"), "NaN context");
    LT_CHECK(lt_esd_defaults().eta == 1.0f &&
             lt_esd_defaults().start_guidance == 3.0f &&
             lt_esd_defaults().ddim_steps == 50 &&
             lt_esd_defaults().steps == 1000 &&
             lt_esd_defaults().lr == 1e-5f &&
             lt_esd_defaults().params == LT_ESD_X, "train-esd.py defaults");
out:
    lt_unet_free(u);
    lt_unet_free(k);
    lt_dm_schedule_free(&s);
}

/* FMN: the probe, the loss and its gradients, and the AdamW step of
 * train_attn.py against the golden; the probed forward equals the fused
 * one. */
LT_TEST(fmn_loss_and_step_match_train_attn)
{
    lt_golden *g = lt_golden_load("dm_text_unlearn.bin");
    lt_unet *u = golden_unet(g);
    lt_dm_schedule s;
    lt_dm_schedule_make("scaled_linear", 1000, &s);
    lt_ctx *c = lt_ctx_new(lt_unet_arena_bytes(u, 4, true));
    if (!g || !u || !c)
        goto out;
    const float *x0 = lt_golden_get(g, "fmn.x0")->data;
    const float *e = lt_golden_get(g, "fmn.e")->data;
    const float *ctx = lt_golden_get(g, "fmn.ctx")->data;
    const float *mask = lt_golden_get(g, "fmn.mask")->data;
    int32_t t = (int32_t)lt_golden_get(g, "fmn.t")->data[0];
    /* the probe directly: its layer count, and the forward unchanged */
    float tf = (float)t, plain[192];
    lt_set_grad_enabled(c, false);
    lt_tensor *x = lt_from_data(c, 4, (int64_t[]){1, 3, 8, 8}, (float *)x0);
    lt_tensor *k = lt_from_data(c, 3, (int64_t[]){1, 5, 12}, (float *)ctx);
    lt_tensor *o = lt_unet_forward_text(c, u, x, &tf, k, false);
    LT_CHECK_OK(o);
    if (o)
        memcpy(plain, o->data, sizeof plain);
    lt_unet_probe pr = {.mask = mask};
    u->probe = &pr;
    o = lt_unet_forward_text(c, u, x, &tf, k, false);
    u->probe = NULL;
    LT_CHECK(o && pr.sumsq, "probed forward: %s", lt_last_error());
    if (o)
        LT_CHECK_REL_L2("probed forward", o->data, plain, 192, 1e-5);
    LT_CHECK(pr.layers == (int)lt_golden_get(g, "fmn.layers")->data[0],
             "probe saw %d attn2 layers", pr.layers);
    lt_set_grad_enabled(c, true);
    lt_ctx_reset(c);
    lt_params_zero_grad(&u->params);
    lt_tensor *l = lt_fmn_loss(c, u, &s, x0, e, &t, ctx, mask, 1, true);
    LT_CHECK(l && lt_backward(c, l) == LT_OK, "%s", lt_last_error());
    if (!l)
        goto out;
    LT_CHECK_CLOSE("fmn.loss", l->data, lt_golden_get(g, "fmn.loss")->data,
                   1, 1e-4);
    const char *names[5] = {SOME[0], SOME[1], SOME[2], OTHER[0], OTHER[1]};
    float *before = malloc((size_t)u->params.n_train * sizeof *before);
    memcpy(before, u->params.theta, (size_t)u->params.n_train * 4);
    char nm[160];
    for (int i = 0; i < 5; i++) {
        lt_tensor *p = lt_params_get(&u->params, names[i]);
        snprintf(nm, sizeof nm, "fmn.grad.%s", names[i]);
        LT_CHECK_REL_L2(nm, p->grad, lt_golden_get(g, nm)->data, p->numel,
                        1e-3);
    }
    /* the script's step: AdamW (weight decay 0.01) over the whole UNet,
     * nothing clipped */
    lt_fmn_config fc = lt_fmn_defaults();
    lt_optim_config oc = lt_optim_defaults(LT_OPT_ADAMW);
    oc.lr = lt_golden_get(g, "lr")->data[0];
    oc.weight_decay = fc.weight_decay;
    lt_optim opt;
    LT_CHECK(lt_optim_init(&opt, &oc, u->params.n_train) == LT_OK &&
             lt_optim_step(&opt, u->params.theta, u->params.grad, NULL,
                           oc.lr) == LT_OK, "%s", lt_last_error());
    lt_optim_free(&opt);
    for (int i = 0; i < 5; i++) {
        lt_tensor *p = lt_params_get(&u->params, names[i]);
        int64_t off = p->data - u->params.theta;
        snprintf(nm, sizeof nm, "fmn.after.%s", names[i]);
        const float *want = lt_golden_get(g, nm)->data;
        float dg[256], dw[256];
        for (int64_t j = 0; j < p->numel; j++) {
            dg[j] = p->data[j] - before[off + j];
            dw[j] = want[j] - before[off + j];
        }
        LT_CHECK_REL_L2(nm, dg, dw, p->numel, 2e-2);
    }
    free(before);
out:
    lt_ctx_free(c);
    lt_unet_free(u);
    lt_dm_schedule_free(&s);
    lt_golden_free(g);
}

LT_TEST(fmn_positions_loop_and_errors)
{
    /* <bos> w5 w6 <eos> <pad>, the concept w5 w6 */
    const int32_t ids[5] = {LT_CLIP_BOS, 5, 6, LT_CLIP_EOS, LT_CLIP_PAD};
    const int32_t cid[2] = {5, 6}, other[1] = {7};
    float m[5];
    int marked = 0;
    LT_CHECK(lt_fmn_positions(ids, 5, cid, 2, true, m, &marked) == LT_OK &&
             marked == 3 && m[0] == 0 && m[1] == 1 && m[2] == 1 &&
             m[3] == 1 && m[4] == 0, "positions with the pooler (%d)",
             marked);
    LT_CHECK(lt_fmn_positions(ids, 5, cid, 2, false, m, &marked) == LT_OK &&
             marked == 2 && m[3] == 0, "positions without the pooler");
    LT_CHECK(lt_fmn_positions(ids, 5, other, 1, true, m, NULL) ==
                 LT_ERR_ARG && strstr(lt_last_error(), "do not occur"),
             "absent concept");
    LT_CHECK(lt_fmn_defaults().steps == 35 && lt_fmn_defaults().lr == 2e-6f &&
             lt_fmn_defaults().weight_decay == 0.01f &&
             !lt_fmn_defaults().only_ca, "attn.yaml defaults");
    lt_unet *u = golden_unet(NULL), *v = golden_unet(NULL), *k = NULL;
    lt_unet_create("cond:xs,res=8,ch=8,groups=4,classes=3", &k);
    lt_dm_schedule s;
    lt_dm_schedule_make("scaled_linear", 1000, &s);
    float x[2 * 192], ctx[2 * 60], mask[10] = {0, 1, 1, 1, 0, 0, 1, 0, 1, 0};
    lt_rng r;
    lt_rng_init(&r, 9);
    lt_rng_fill_normal(&r, x, 2 * 192, 0, 0.5f);
    lt_rng_fill_normal(&r, ctx, 2 * 60, 0, 1);
    if (!u || !v || !k)
        goto out;
    lt_fmn_config fc = lt_fmn_defaults();
    fc.steps = 3;
    fc.lr = 1e-3f;
    fc.only_ca = true;
    int64_t n = u->params.n_total;
    float *theta0 = malloc((size_t)n * sizeof *theta0);
    memcpy(theta0, u->params.theta, (size_t)n * sizeof *theta0);
    LT_CHECK(lt_fmn_run(u, &s, x, ctx, mask, 2, &fc, NULL, NULL) == LT_OK &&
             lt_fmn_run(v, &s, x, ctx, mask, 2, &fc, NULL, NULL) == LT_OK,
             "%s", lt_last_error());
    LT_CHECK(!memcmp(u->params.theta, v->params.theta,
                     (size_t)n * sizeof(float)), "same seed, other weights");
    int64_t broke = 0, moved = 0;
    for (int j = 0; j < u->params.count; j++) {
        const lt_param *p = &u->params.p[j];
        bool sel = strstr(p->name, "attn2") != NULL;
        for (int64_t i = 0; i < p->t.numel; i++) {
            bool same = !memcmp(&p->t.data[i], &theta0[p->offset + i], 4);
            broke += !sel && !same;
            moved += sel && !same;
        }
    }
    LT_CHECK(broke == 0 && moved > 9000, "fmn only_ca: %lld frozen weights "
             "moved, %lld attn2", (long long)broke, (long long)moved);
    free(theta0);
    LT_CHECK(lt_fmn_run(k, &s, x, ctx, mask, 2, &fc, NULL, NULL) ==
                 LT_ERR_ARG && strstr(lt_last_error(), "class-conditional"),
             "class model: %s", lt_last_error());
    float none[10] = {0, 1, 1, 1, 0, 0, 0, 0, 0, 0};
    LT_CHECK(lt_fmn_run(u, &s, x, ctx, none, 2, &fc, NULL, NULL) ==
                 LT_ERR_ARG && strstr(lt_last_error(), "image 1"),
             "empty mask: %s", lt_last_error());
out:
    lt_unet_free(u);
    lt_unet_free(v);
    lt_unet_free(k);
    lt_dm_schedule_free(&s);
}

LT_TEST_MAIN()
