/*
 * test_dm_esd_sd.c - the "sd" variant of ESD (esd_sd.py of
 * rohitgandikota/erasing; lethe/dm_text_unlearn.h, src/unlearn/
 * dm_esd_sd.c) against a PyTorch transcription on the text UNet twin
 * (tests/golden/gen_dm_esd_sd.py): the PNDM (skip_prk_steps) timesteps,
 * three iterations (x_t from the frozen model's PLMS run over every
 * branch of step_plms, the loss at the scheduler's timestep with the
 * e*(c) - eta (e*(c) - e*(null)) target, the gradients, Adam on esd-x),
 * the Linear/Conv2d parameter sets' counts, the variant's defaults and
 * its refusals.
 */
#include "dm_test.h"
#include "lethe/dm_text_unlearn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GOLDEN_SPEC                                                         \
    "text:xs,res=8,ch=8,groups=4,blocks=2,attn=4-2,heads=2,ctx_dim=12,"     \
    "ctx_len=5"
#define IMG 192

static lt_unet *golden_unet(const lt_golden *g)
{
    return dm_golden_unet(GOLDEN_SPEC, g);
}

static const char *const SOME[] = {
    "down.1.attn.0.transformer_blocks.0.attn2.to_k.weight",
    "mid.attn_1.transformer_blocks.0.attn2.to_out.0.bias",
    "up.2.attn.1.transformer_blocks.0.attn2.to_q.weight"};
static const char *const OTHER[] = {
    "mid.attn_1.transformer_blocks.0.attn1.to_q.weight", "conv_in.weight",
    "mid.attn_1.transformer_blocks.0.norm2.weight"};

static float gv(const lt_golden *g, const char *fmt, int k)
{
    char nm[96];
    snprintf(nm, sizeof nm, fmt, k);
    return lt_golden_get(g, nm)->data[0];
}

/* Iteration k: x_t, loss, gradients and the Adam update. */
static void check_iteration(const lt_golden *g, lt_unet *u, lt_unet *base,
                            const lt_dm_schedule *s, lt_esd *r, int k,
                            const lt_esd_config *cfg, const float *ctx,
                            const float *nul)
{
    char nm[160];
    lt_esd_draw d = {.t_enc = (int)gv(g, "s%d.run_till", k),
                     .t_ddpm = (int)gv(g, "s%d.t", k)};
    snprintf(nm, sizeof nm, "s%d.start", k);
    d.start = lt_golden_get(g, nm)->data;
    float z[IMG];
    memcpy(z, d.start, sizeof z);
    /* x_t comes from the frozen starting weights, not from u */
    LT_CHECK(lt_esd_sd_start(base, s, cfg->ddim_steps, d.t_enc,
                             cfg->start_guidance, ctx, nul, z) == LT_OK,
             "%s", lt_last_error());
    snprintf(nm, sizeof nm, "s%d.z", k);
    LT_CHECK_REL_L2(nm, z, lt_golden_get(g, nm)->data, IMG, 1e-4);
    float before[3][256];
    for (int i = 0; i < 3; i++) {
        lt_tensor *p = lt_params_get(&u->params, SOME[i]);
        memcpy(before[i], p->data, (size_t)p->numel * sizeof(float));
    }
    lt_esd_event ev;
    LT_CHECK(lt_esd_step(r, &d, &ev) == LT_OK, "%s", lt_last_error());
    snprintf(nm, sizeof nm, "s%d.loss", k);
    LT_CHECK_CLOSE(nm, &ev.loss, lt_golden_get(g, nm)->data, 1, 1e-3);
    dm_check_step(g, &u->params, k, SOME, 3, before, OTHER, 3);
}

LT_TEST(esd_sd_iterations_match_esd_sd_py)
{
    lt_golden *g = lt_golden_load("dm_esd_sd.bin");
    lt_unet *u = golden_unet(g), *base = golden_unet(g);
    lt_dm_schedule s;
    LT_CHECK(lt_dm_schedule_make("scaled_linear", 1000, &s) == LT_OK, "sch");
    if (!g || !u || !base)
        goto out;
    lt_esd_config cfg = lt_esd_defaults_for(LT_ESD_SD);
    cfg.eta = lt_golden_get(g, "eta")->data[0];
    cfg.start_guidance = lt_golden_get(g, "guide")->data[0];
    cfg.lr = lt_golden_get(g, "lr")->data[0];
    cfg.ddim_steps = (int)lt_golden_get(g, "S")->data[0];
    cfg.steps = 3;
    /* the scheduler's timesteps */
    int ts[11];
    const lt_golden_entry *want = lt_golden_get(g, "timesteps");
    int n = lt_esd_sd_timesteps(1000, cfg.ddim_steps, ts);
    LT_CHECK(n == 11 && want->numel == 11, "%d timesteps", n);
    for (int i = 0; i < n && i < 11; i++)
        LT_CHECK(ts[i] == (int)want->data[i], "timestep %d: %d, want %g", i,
                 ts[i], (double)want->data[i]);
    const float *ctx = lt_golden_get(g, "ctx")->data;
    const float *nul = lt_golden_get(g, "null")->data;
    lt_esd *r = NULL;
    LT_CHECK(lt_esd_new(u, &s, ctx, nul, &cfg, &r) == LT_OK, "%s",
             lt_last_error());
    for (int k = 0; r && k < 3; k++)
        check_iteration(g, u, base, &s, r, k, &cfg, ctx, nul);
    /* the draws put the loss at the scheduler's timestep of run_till */
    for (int64_t k = 0; k < 50; k++) {
        lt_esd_draw d = {.start = NULL};
        lt_esd_draws(&cfg, u, &s, k, &d);
        LT_CHECK(d.t_enc >= 0 && d.t_enc < 10 && d.t_ddpm == ts[d.t_enc],
                 "draw %lld: %d %d", (long long)k, d.t_enc, d.t_ddpm);
    }
    lt_esd_free(r);
out:
    lt_unet_free(u);
    lt_unet_free(base);
    lt_dm_schedule_free(&s);
    lt_golden_free(g);
}

LT_TEST(esd_sd_sets_select_linear_and_conv_modules)
{
    lt_golden *g = lt_golden_load("dm_esd_sd.bin");
    lt_unet *u = golden_unet(NULL);
    if (!g || !u)
        goto out;
    static const char *const sets[] = {"esd-x", "esd-u", "esd-all",
                                       "esd-x-strict"};
    float *mask = malloc((size_t)u->params.n_train * sizeof *mask);
    for (int k = 0; k < 4; k++) {
        lt_esd_params p;
        int64_t n = -1;
        char nm[64];
        snprintf(nm, sizeof nm, "count.%s", sets[k]);
        LT_CHECK(lt_esd_params_parse(sets[k], &p) == LT_OK, "%s", sets[k]);
        LT_CHECK(lt_esd_mask_of(u, LT_ESD_SD, p, mask, &n) == LT_OK, "%s",
                 lt_last_error());
        LT_CHECK(n == (int64_t)lt_golden_get(g, nm)->data[0],
                 "%s selects %lld, the script %g", sets[k], (long long)n,
                 (double)lt_golden_get(g, nm)->data[0]);
    }
    free(mask);
    static const struct {
        const char *name;
        bool x, u;
    } cases[] = {
        {"mid.attn_1.transformer_blocks.0.attn2.to_k.weight", true, false},
        {"mid.attn_1.transformer_blocks.0.norm2.weight", false, false},
        {"mid.attn_1.norm.bias", false, false},
        {"down.0.block.0.norm1.weight", false, false},
        {"out.0.weight", false, false},
        {"out.2.bias", false, true},
        {"time_embed.0.weight", false, true},
        {"conv_in.weight", false, true},
        {"mid.attn_1.proj_in.weight", false, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        LT_CHECK(lt_params_get(&u->params, cases[i].name) != NULL,
                 "%s not a parameter", cases[i].name);
        LT_CHECK(lt_esd_sd_selects(LT_ESD_X, cases[i].name) == cases[i].x &&
                 lt_esd_sd_selects(LT_ESD_U, cases[i].name) == cases[i].u,
                 "%s: esd-x %d esd-u %d", cases[i].name, cases[i].x,
                 cases[i].u);
    }
    LT_CHECK(lt_esd_sd_selects(LT_ESD_X_STRICT, "a.attn2.to_v.weight") &&
             !lt_esd_sd_selects(LT_ESD_X_STRICT, "a.attn2.to_q.weight") &&
             !lt_esd_sd_selects(LT_ESD_SELFATTN, "a.attn1.to_q.weight"),
             "esd-x-strict / paper-only sets");
out:
    lt_unet_free(u);
    lt_golden_free(g);
}

LT_TEST(esd_sd_defaults_and_refusals)
{
    lt_esd_config c = lt_esd_defaults_for(LT_ESD_SD);
    LT_CHECK(c.variant == LT_ESD_SD && c.steps == 200 && c.lr == 5e-5f &&
             c.eta == 2.0f && c.start_guidance == 3.0f &&
             c.ddim_steps == 50 && c.params == LT_ESD_X,
             "esd_sd.py's argparse defaults");
    LT_CHECK(lt_esd_defaults().variant == LT_ESD_PAPER, "paper default");
    lt_esd_variant v;
    LT_CHECK(lt_esd_variant_parse("sd", &v) == LT_OK && v == LT_ESD_SD &&
             lt_esd_variant_parse("paper", &v) == LT_OK &&
             v == LT_ESD_PAPER, "variants parse");
    LT_CHECK(lt_esd_variant_parse("diffusers", &v) == LT_ERR_ARG &&
             strstr(lt_last_error(), "diffusers"), "unknown variant");
    int ts[51];
    LT_CHECK(lt_esd_sd_timesteps(1000, 50, ts) == 51 && ts[0] == 981 &&
             ts[1] == 961 && ts[2] == 961 && ts[3] == 941 && ts[50] == 1,
             "SD v1.4's 50 PLMS timesteps");
    LT_CHECK(lt_esd_sd_timesteps(1000, 1, ts) == 1 && ts[0] == 1 &&
             lt_esd_sd_timesteps(10, 11, ts) == 0, "edge cases");
    lt_unet *u = golden_unet(NULL);
    lt_dm_schedule s;
    lt_dm_schedule_make("scaled_linear", 1000, &s);
    float ctx[60] = {0}, nul[60] = {0}, x[IMG] = {0};
    lt_esd *r = NULL;
    if (!u)
        goto out;
    c.params = LT_ESD_SELFATTN; /* a paper-only set */
    LT_CHECK(lt_esd_new(u, &s, ctx, nul, &c, &r) == LT_ERR_ARG && !r &&
             strstr(lt_last_error(), "selfattn"), "selfattn under sd: %s",
             lt_last_error());
    lt_esd_config p = lt_esd_defaults();
    p.params = LT_ESD_ALL; /* an sd-only set */
    LT_CHECK(lt_esd_new(u, &s, ctx, nul, &p, &r) == LT_ERR_ARG && !r &&
             strstr(lt_last_error(), "esd-all"), "esd-all under paper");
    LT_CHECK(lt_esd_sd_start(u, &s, 10, 10, 3, ctx, nul, x) == LT_ERR_ARG,
             "run_till = S accepted");
    /* run_till 0: the start latent itself */
    x[3] = 0.5f;
    LT_CHECK(lt_esd_sd_start(u, &s, 10, 0, 3, ctx, nul, x) == LT_OK &&
             x[3] == 0.5f, "run_till 0 changed x");
out:
    lt_unet_free(u);
    lt_dm_schedule_free(&s);
}

LT_TEST_MAIN()
