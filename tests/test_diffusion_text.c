/*
 * test_diffusion_text.c - the text-conditioned UNet against its PyTorch
 * twin (tests/golden/gen_unet_text.py): the noise prediction, the
 * official loss, every parameter gradient and the context's gradient,
 * both guidance conventions with the empty caption as the null condition
 * and a DDIM trajectory; plus what the ESD name filters select, presets
 * and parameter counts, gradients reaching a CLIP's input embeddings,
 * sampling determinism, resumable training from a batch callback, and the
 * errors for mismatched conditions.
 */
#include "dm_test.h"

#define GOLDEN_SPEC                                                         \
    "text:xs,res=8,ch=8,groups=4,blocks=2,attn=4-2,heads=2,ctx_dim=12,"     \
    "ctx_len=5"
/* The parameters of the presets with the CLIP "tiny" context, as the
 * PyTorch twin counts them (gen_unet_text.TextUNet at ch 16 and 32). */
#define TEXT_XS_PARAMS 440339
#define TEXT_S_PARAMS 1687075
/* The golden's shape, with CLIP "xs"'s context (16 x 32) for training. */
#define CLIP_SPEC "text:xs,res=8,ch=8,groups=4,attn=4,heads=2,ctx_dim=32"

static lt_unet *make_unet(const char *spec)
{
    lt_unet *u = NULL;
    LT_CHECK(lt_unet_create(spec, &u) == LT_OK, "%s: %s", spec,
             lt_last_error());
    if (u)
        dm_fill(&u->params);
    return u;
}

static void float_ts(const int32_t *t, float *tf, int n)
{
    for (int i = 0; i < n; i++)
        tf[i] = (float)t[i];
}

/* Compare every parameter gradient of u with the golden's "grad.*". */
static void check_param_grads(lt_unet *u, const lt_golden *g)
{
    int checked = 0;
    for (int i = 0; i < g->count; i++) {
        const lt_golden_entry *e = &g->e[i];
        if (strncmp(e->name, "grad.", 5))
            continue;
        lt_tensor *p = lt_params_get(&u->params, e->name + 5);
        LT_CHECK(p && p->numel == e->numel, "%s missing or resized", e->name);
        if (p && p->numel == e->numel)
            LT_CHECK_REL_L2(e->name, p->grad, e->data, p->numel, 1e-4);
        checked++;
    }
    LT_CHECK(checked == u->params.count, "%d of %d gradients in the golden",
             checked, u->params.count);
}

LT_TEST(text_unet_loss_and_every_gradient_match_pytorch)
{
    lt_golden *g = lt_golden_load("unet_text.bin");
    lt_unet *u = make_unet(GOLDEN_SPEC);
    lt_dm_schedule s;
    lt_dm_schedule_make("linear", 1000, &s);
    lt_ctx *c = lt_ctx_new(lt_unet_arena_bytes(u, 4, true));
    if (!g || !u || !c)
        goto out;
    lt_tensor *x0 = lt_golden_tensor(c, g, "x0", false);
    lt_tensor *e = lt_golden_tensor(c, g, "e", false);
    lt_tensor *ctx = lt_golden_tensor(c, g, "ctx", true);
    int32_t *t = lt_golden_ints(c, g, "t");
    float tf[4];
    float_ts(t, tf, 4);
    lt_set_grad_enabled(c, false);
    lt_tensor *xt = lt_dm_q_sample(c, &s, x0, e, t);
    lt_tensor *eps = lt_unet_forward_text(c, u, xt, tf, ctx, false);
    LT_CHECK_OK(eps);
    if (eps)
        LT_CHECK_REL_L2("eps", eps->data, lt_golden_get(g, "eps")->data,
                        eps->numel, 1e-5);
    lt_set_grad_enabled(c, true);
    lt_params_zero_grad(&u->params);
    lt_tensor *loss = lt_dm_loss_text(c, u, &s, x0, e, t, ctx, true);
    LT_CHECK_OK(loss);
    if (!loss)
        goto out;
    LT_CHECK_CLOSE("loss", loss->data, lt_golden_get(g, "loss")->data, 1,
                   1e-5);
    LT_CHECK(lt_backward(c, loss) == LT_OK, "%s", lt_last_error());
    check_param_grads(u, g);
    LT_CHECK(ctx->grad, "no gradient reached the context");
    if (ctx->grad)
        LT_CHECK_REL_L2("grad_ctx", ctx->grad,
                        lt_golden_get(g, "grad_ctx")->data, ctx->numel, 1e-4);
    size_t peak = lt_ctx_peak(c);
    LT_CHECK(peak <= lt_unet_arena_bytes(u, 4, true), "arena estimate %zu "
             "below the measured peak %zu", lt_unet_arena_bytes(u, 4, true),
             peak);
out:
    lt_ctx_free(c);
    lt_unet_free(u);
    lt_dm_schedule_free(&s);
    lt_golden_free(g);
}

LT_TEST(text_guidance_conventions_and_ddim_match_pytorch)
{
    lt_golden *g = lt_golden_load("unet_text.bin");
    lt_unet *u = make_unet(GOLDEN_SPEC);
    lt_dm_schedule s;
    lt_dm_schedule_make("linear", 1000, &s);
    lt_ctx *c = lt_ctx_new(lt_unet_arena_bytes(u, 8, false));
    if (!g || !u || !c)
        goto out;
    lt_set_grad_enabled(c, false);
    lt_tensor *xt = lt_golden_tensor(c, g, "xt", false);
    lt_tensor *ctx = lt_golden_tensor(c, g, "ctx", false);
    lt_tensor *nul = lt_golden_tensor(c, g, "null", false);
    float tf[4];
    float_ts(lt_golden_ints(c, g, "t"), tf, 4);
    lt_tensor *a = lt_dm_guided_eps_text(c, u, xt, tf, ctx, nul,
                                         LT_GUIDE_SALUN, 2.0f);
    lt_tensor *b = lt_dm_guided_eps_text(c, u, xt, tf, ctx, nul, LT_GUIDE_SD,
                                         7.5f);
    LT_CHECK_OK(a);
    LT_CHECK_OK(b);
    if (a && b) { /* guidance amplifies rounding: compare as a whole */
        LT_CHECK_REL_L2("salun", a->data,
                        lt_golden_get(g, "guided.salun")->data, a->numel,
                        1e-4);
        LT_CHECK_REL_L2("sd", b->data, lt_golden_get(g, "guided.sd")->data,
                        b->numel, 1e-4);
    }
    const lt_golden_entry *xT = lt_golden_get(g, "ddim.xT");
    float *x = malloc((size_t)xT->numel * sizeof *x);
    memcpy(x, xT->data, (size_t)xT->numel * sizeof *x);
    lt_dm_sample_config cfg = lt_dm_sample_defaults_text();
    cfg.steps = 10;
    LT_CHECK(cfg.eta == 0 && cfg.guidance == LT_GUIDE_SD && cfg.w == 7.5f,
             "text defaults: eta %g %s %g", (double)cfg.eta,
             lt_guidance_name(cfg.guidance), (double)cfg.w);
    LT_CHECK(lt_dm_denoise_text(u, &s, &cfg, 3,
                                lt_golden_get(g, "ddim.ctx")->data,
                                nul->data, x) == LT_OK,
             "%s", lt_last_error());
    LT_CHECK_REL_L2("ddim", x, lt_golden_get(g, "ddim.x0")->data, xT->numel,
                    1e-4);
    free(x);
out:
    lt_ctx_free(c);
    lt_unet_free(u);
    lt_dm_schedule_free(&s);
    lt_golden_free(g);
}

/* ---- names and presets --------------------------------------------------------- */

/* ESD's filters on the UNet's parameter names (rohitgandikota/erasing,
 * train-esd.py): xattn trains names containing "attn2"; noxattn trains
 * the rest but time_embed and the output "out.". */
static bool esd_xattn(const char *name) { return strstr(name, "attn2"); }

static bool esd_noxattn(const char *name)
{
    return !strstr(name, "attn2") && !strstr(name, "time_embed") &&
           strncmp(name, "out.", 4);
}

/* A cross-attention tensor: transformer_blocks.0.attn2.{to_q, to_k,
 * to_v}.weight or .to_out.0.{weight, bias}. */
static bool is_cross_attention(const char *name)
{
    const char *a = strstr(name, ".transformer_blocks.0.attn2.");
    if (!a)
        return false;
    a += strlen(".transformer_blocks.0.attn2.");
    return !strcmp(a, "to_q.weight") || !strcmp(a, "to_k.weight") ||
           !strcmp(a, "to_v.weight") || !strcmp(a, "to_out.0.weight") ||
           !strcmp(a, "to_out.0.bias");
}

LT_TEST(esd_filters_select_cross_attention_and_the_rest)
{
    lt_unet *u = NULL;
    LT_CHECK(lt_unet_create("text:xs", &u) == LT_OK, "%s", lt_last_error());
    if (!u)
        return;
    int nx = 0, nno = 0, ntime = 0, nout = 0, nctx = 0;
    for (int i = 0; i < u->params.count; i++) {
        const char *n = u->params.p[i].name;
        const lt_tensor *t = &u->params.p[i].t;
        LT_CHECK(esd_xattn(n) == is_cross_attention(n), "xattn %s", n);
        LT_CHECK(!(esd_xattn(n) && esd_noxattn(n)), "both filters: %s", n);
        nx += esd_xattn(n);
        nno += esd_noxattn(n);
        ntime += !strncmp(n, "time_embed.", 11);
        nout += !strncmp(n, "out.", 4);
        /* what reads the context: attn2's keys and values, [C, 64] */
        bool reads_ctx = dm_ends_with(n, "attn2.to_k.weight") ||
                         dm_ends_with(n, "attn2.to_v.weight");
        nctx += reads_ctx;
        if (reads_ctx)
            LT_CHECK(t->ndim == 2 && t->shape[1] == 64, "%s [%lld, %lld]", n,
                     (long long)t->shape[0], (long long)t->shape[1]);
    }
    /* 7 transformers (down 16, 8; middle; up 8 x2, 16 x2) x 5 tensors */
    LT_CHECK(nx == 35 && nctx == 14, "xattn selects %d (%d read the "
             "context)", nx, nctx);
    LT_CHECK(ntime == 4 && nout == 4, "time_embed %d, out %d tensors", ntime,
             nout);
    LT_CHECK(nno == u->params.count - nx - ntime - nout,
             "noxattn selects %d of %d", nno, u->params.count);
    LT_CHECK(lt_params_get(&u->params, "down.1.attn.0.transformer_blocks.0."
                                       "attn2.to_k.weight") &&
                 lt_params_get(&u->params, "mid.attn_1.transformer_blocks.0."
                                           "ff.net.0.proj.weight") &&
                 lt_params_get(&u->params, "up.1.block.0.temb_proj.weight") &&
                 lt_params_get(&u->params, "out.2.weight"),
             "SD names: %s", lt_last_error());
    lt_clear_error();
    LT_CHECK(!lt_params_get(&u->params, "mid.attn_1.transformer_blocks.0."
                                        "attn1.to_k.bias"),
             "to_k has a bias");
    lt_unet_free(u);
}

static int64_t n_params(const char *spec)
{
    lt_unet *u = NULL;
    if (lt_unet_create(spec, &u) != LT_OK)
        return -1;
    int64_t n = u->params.n_train;
    lt_unet_free(u);
    return n;
}

LT_TEST(text_presets_overrides_and_sizes)
{
    lt_unet_config c;
    LT_CHECK(lt_unet_config_parse("text:s", &c) == LT_OK &&
                 c.kind == LT_UNET_TEXT && c.ch == 32 && c.res == 32 &&
                 c.in_ch == 3 && c.n_levels == 3 && c.n_attn == 2 &&
                 c.attn_res[0] == 16 && c.attn_res[1] == 8 && c.heads == 4 &&
                 c.ctx_dim == 64 && c.ctx_len == 16 && c.classes == 0 &&
                 c.cond_drop == 0.1f,
             "text:s: %s", lt_last_error());
    LT_CHECK(lt_unet_config_parse("text:xs,ctx_dim=32,heads=2", &c) ==
                     LT_OK && c.ch == 16 && c.ctx_dim == 32 && c.heads == 2,
             "overrides: %s", lt_last_error());
    LT_CHECK(lt_unet_config_parse("text:xs,classes=10", &c) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "classes=10") &&
                 strstr(lt_last_error(), "ctx_dim"),
             "classes on a text model: %s", lt_last_error());
    LT_CHECK(lt_unet_config_parse("cond:xs,ctx_dim=64", &c) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "ctx_dim=64"),
             "ctx_dim on a class model: %s", lt_last_error());
    LT_CHECK(lt_unet_config_parse("text:xs,heads=3", &c) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "heads=3"),
             "16 channels in 3 heads: %s", lt_last_error());
    LT_CHECK(strstr(lt_unet_names(), "text:xs") &&
                 strstr(lt_unet_names(), "cond:s"),
             "names: %s", lt_unet_names());
    /* Sizes with the CLIP "tiny" context (the report quotes them). */
    LT_CHECK(n_params("text:xs") == TEXT_XS_PARAMS, "text:xs has %lld",
             (long long)n_params("text:xs"));
    LT_CHECK(n_params("text:s") == TEXT_S_PARAMS, "text:s has %lld",
             (long long)n_params("text:s"));
}

LT_TEST(init_zeroes_what_stable_diffusion_zeroes)
{
    lt_unet *u = NULL;
    LT_CHECK(lt_unet_create(GOLDEN_SPEC, &u) == LT_OK, "%s", lt_last_error());
    if (!u)
        return;
    lt_unet_init(u, 3);
    const char *zero[] = {"out.2.weight", "out.2.bias",
                          "down.1.block.0.conv2.weight",
                          "mid.attn_1.proj_out.weight"};
    const char *nonzero[] = {"out.0.weight", "down.1.block.0.conv1.weight",
                             "mid.attn_1.proj_in.weight",
                             "mid.attn_1.transformer_blocks.0.attn2.to_k.weight"};
    for (int i = 0; i < 4; i++) {
        lt_tensor *z = lt_params_get(&u->params, zero[i]);
        lt_tensor *n = lt_params_get(&u->params, nonzero[i]);
        double sz = 0, sn = 0;
        for (int64_t k = 0; z && k < z->numel; k++)
            sz += fabs(z->data[k]);
        for (int64_t k = 0; n && k < n->numel; k++)
            sn += fabs(n->data[k]);
        LT_CHECK(z && sz == 0, "%s not zero (%g)", zero[i], sz);
        LT_CHECK(n && sn > 0, "%s is zero", nonzero[i]);
    }
    lt_unet_free(u);
}

LT_TEST(text_checkpoints_round_trip)
{
    lt_unet *u = make_unet(GOLDEN_SPEC), *v = NULL;
    char path[512];
    lt_dm_schedule s, r = {0};
    lt_dm_schedule_make("scaled_linear", 1000, &s);
    snprintf(path, sizeof path, "%s/text.safetensors", lt_test_tmpdir());
    LT_CHECK(lt_unet_save(u, path, &s, NULL, 0) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(lt_unet_load(path, &v, &r) == LT_OK, "%s", lt_last_error());
    if (u && v)
        LT_CHECK(v->cfg.kind == LT_UNET_TEXT && v->cfg.ctx_dim == 12 &&
                     v->cfg.ctx_len == 5 &&
                     !memcmp(u->params.theta, v->params.theta,
                             (size_t)u->params.n_total * sizeof(float)),
                 "%s: kind %d ctx %d x %d", v->arch, (int)v->cfg.kind,
                 v->cfg.ctx_len, v->cfg.ctx_dim);
    lt_unet_free(u);
    lt_unet_free(v);
    lt_dm_schedule_free(&s);
    lt_dm_schedule_free(&r);
}

/* ---- errors ------------------------------------------------------------------------ */

static void check_error(bool failed, lt_status want, const char *needle,
                        const char *what)
{
    LT_CHECK(failed && lt_last_status() == want &&
                 strstr(lt_last_error(), needle),
             "%s: want %s naming '%s', got %s: %s", what,
             lt_status_name(want), needle, lt_status_name(lt_last_status()),
             lt_last_error());
}

LT_TEST(mismatched_contexts_and_conditions_are_refused)
{
    lt_unet *u = make_unet(GOLDEN_SPEC);
    lt_unet *k = make_unet("cond:xs,res=8,ch=8,groups=4,attn=4,classes=3");
    lt_ctx *c = lt_ctx_new(1 << 24);
    if (!u || !k || !c)
        goto out;
    lt_tensor *x = lt_zeros(c, 4, (int64_t[]){2, 3, 8, 8});
    lt_tensor *xk = lt_zeros(c, 4, (int64_t[]){2, 1, 8, 8});
    lt_tensor *ok = lt_zeros(c, 3, (int64_t[]){2, 5, 12});
    float t[2] = {5, 9};
    int32_t cls[2] = {0, 1};
    check_error(!lt_unet_forward_text(c, u, x, t,
                                      lt_zeros(c, 3, (int64_t[]){2, 5, 11}),
                                      false),
                LT_ERR_SHAPE, "context [2, 5, 11]", "width 11");
    check_error(!lt_unet_forward_text(c, u, x, t,
                                      lt_zeros(c, 3, (int64_t[]){2, 4, 12}),
                                      false),
                LT_ERR_SHAPE, "L=5", "length 4");
    check_error(!lt_unet_forward_text(c, u, x, t,
                                      lt_zeros(c, 3, (int64_t[]){1, 5, 12}),
                                      false),
                LT_ERR_SHAPE, "N=2", "one context for two images");
    check_error(!lt_unet_forward(c, u, x, t, cls, false), LT_ERR_ARG,
                "text-conditioned", "text model given classes");
    check_error(!lt_unet_forward_text(c, k, xk, t, ok, false), LT_ERR_ARG,
                "class-conditional", "class model given a context");
    check_error(!lt_dm_guided_eps_text(c, u, x, t, ok,
                                       lt_zeros(c, 2, (int64_t[]){4, 12}),
                                       LT_GUIDE_SD, 7.5f),
                LT_ERR_SHAPE, "null_ctx [4, 12]", "null context of length 4");
    lt_dm_schedule s;
    lt_dm_schedule_make("linear", 1000, &s);
    lt_dm_sample_config sc = lt_dm_sample_defaults_text();
    float img[2 * 3 * 64], ctx[2 * 5 * 12] = {0};
    check_error(lt_dm_sample(u, &s, &sc, 2, cls, img, NULL, NULL) != LT_OK,
                LT_ERR_ARG, "lt_dm_sample_text", "class sampling, text model");
    check_error(lt_dm_sample_text(k, &s, &sc, 2, ctx, ctx, img, NULL, NULL) !=
                    LT_OK,
                LT_ERR_ARG, "class-conditional", "text sampling, class model");
    check_error(lt_dm_sample_text(u, &s, &sc, 2, ctx, NULL, img, NULL, NULL) !=
                    LT_OK,
                LT_ERR_ARG, "null_ctx", "no null context");
    lt_dm_train_config tc = lt_dm_train_defaults();
    int32_t y[2] = {0, 1};
    check_error(lt_dm_train(u, &s, img, y, 2, &tc, "/nonexistent/x", false,
                            NULL, NULL) != LT_OK,
                LT_ERR_ARG, "lt_dm_train_text", "class training, text model");
    lt_dm_text_source src = {0};
    check_error(lt_dm_train_text(k, &s, &src, &tc, "/nonexistent/x", false,
                                 NULL, NULL) != LT_OK,
                LT_ERR_ARG, "class-conditional", "text training, class model");
    check_error(lt_dm_train_text(u, &s, &src, &tc, "/nonexistent/x", false,
                                 NULL, NULL) != LT_OK,
                LT_ERR_ARG, "batch callback", "no batch callback");
    lt_dm_schedule_free(&s);
out:
    lt_ctx_free(c);
    lt_unet_free(u);
    lt_unet_free(k);
}

/* ---- CLIP + UNet --------------------------------------------------------------------- */

static const char *const WORDS[] = {"a", "red", "green", "blue", "shoe",
                                    "bag"};

static lt_clip *toy_clip(lt_clip_vocab **v)
{
    lt_clip_config cfg;
    lt_clip *m = NULL;
    LT_CHECK(lt_clip_vocab_new(WORDS, 6, v) == LT_OK &&
                 lt_clip_preset("xs", lt_clip_vocab_size(*v), &cfg) ==
                     LT_OK &&
                 lt_clip_create(&cfg, &m) == LT_OK,
             "%s", lt_last_error());
    if (m)
        lt_clip_init(m, 5);
    return m;
}

/* The loss of the text model on fixed images, for contexts from the input
 * embeddings emb [2, 16, 32] (a leaf) through the CLIP. */
static lt_tensor *clip_unet_loss(lt_ctx *c, lt_clip *m, lt_unet *u,
                                 lt_dm_schedule *s, lt_tensor *emb)
{
    int64_t shape[4] = {2, 3, 8, 8};
    lt_tensor *x0 = lt_new(c, 4, shape), *e = lt_new(c, 4, shape);
    if (!x0 || !e)
        return NULL;
    lt_rng r;
    lt_rng_init(&r, 9);
    lt_rng_fill_uniform(&r, x0->data, x0->numel, -1, 1);
    lt_rng_fill_normal(&r, e->data, e->numel, 0, 1);
    int32_t t[2] = {100, 700};
    return lt_dm_loss_text(c, u, s, x0, e, t, lt_clip_text_hidden(c, m, emb),
                           false);
}

LT_TEST(gradients_reach_clip_embeddings_through_cross_attention)
{
    lt_clip_vocab *v = NULL;
    lt_clip *m = toy_clip(&v);
    lt_unet *u = make_unet(CLIP_SPEC);
    lt_dm_schedule s;
    lt_dm_schedule_make("scaled_linear", 1000, &s);
    lt_ctx *c = lt_ctx_new(lt_unet_arena_bytes(u, 2, true) +
                           lt_clip_arena_bytes(&m->cfg, 2, 1, 1, true));
    int32_t ids[32];
    LT_CHECK(lt_clip_tokenize(v, "a red shoe", 16, ids, NULL, NULL) == LT_OK &&
                 lt_clip_tokenize(v, "a blue bag", 16, ids + 16, NULL,
                                  NULL) == LT_OK,
             "%s", lt_last_error());
    lt_tensor *te = lt_clip_token_embeds(c, m, ids, 2);
    LT_CHECK_OK(te);
    if (!te)
        goto out;
    /* A soft prompt: the embeddings as a leaf that requires a gradient. */
    lt_tensor *emb = lt_requires_grad(lt_from_data(c, 3, te->shape, te->data));
    lt_params_zero_grad(&m->params);
    lt_tensor *loss = clip_unet_loss(c, m, u, &s, emb);
    LT_CHECK_OK(loss);
    LT_CHECK(loss && lt_backward(c, loss) == LT_OK && emb->grad, "%s",
             lt_last_error());
    if (!loss || !emb->grad)
        goto out;
    /* The directional derivative along the gradient, by central
     * differences (their error shrinks as h^2: 4e-4 relative at 1e-3). */
    int64_t n = emb->numel;
    double gg = 0, h = 1e-3;
    for (int64_t k = 0; k < n; k++)
        gg += (double)emb->grad[k] * emb->grad[k];
    float *base = malloc((size_t)n * sizeof *base), *dir = malloc(
        (size_t)n * sizeof *dir);
    memcpy(base, emb->data, (size_t)n * sizeof *base);
    for (int64_t k = 0; k < n; k++)
        dir[k] = (float)(emb->grad[k] / sqrt(gg));
    double lp = 0, lm = 0;
    lt_set_grad_enabled(c, false);
    for (int sgn = -1; sgn <= 1; sgn += 2) {
        lt_tensor *p = lt_from_data(c, 3, te->shape, base);
        for (int64_t k = 0; p && k < n; k++)
            p->data[k] += (float)(sgn * h) * dir[k];
        lt_tensor *l = clip_unet_loss(c, m, u, &s, p);
        *(sgn < 0 ? &lm : &lp) = l ? l->data[0] : NAN;
    }
    double fd = (lp - lm) / (2 * h);
    LT_CHECK(gg > 0 && fabs(fd - sqrt(gg)) < 0.005 * sqrt(gg),
             "|grad| %g, finite difference along it %g", sqrt(gg), fd);
    free(base);
    free(dir);
out:
    lt_ctx_free(c);
    lt_unet_free(u);
    lt_clip_free(m);
    lt_clip_vocab_free(v);
    lt_dm_schedule_free(&s);
}

LT_TEST(empty_context_is_the_clip_encoding_of_the_empty_caption)
{
    lt_clip_vocab *v = NULL;
    lt_clip *m = toy_clip(&v);
    float got[16 * 32];
    int32_t ids[16];
    lt_ctx *c = lt_ctx_new(1 << 22);
    LT_CHECK(lt_dm_empty_context(m, got) == LT_OK, "%s", lt_last_error());
    LT_CHECK(lt_clip_tokenize(v, "", 16, ids, NULL, NULL) == LT_OK, "%s",
             lt_last_error());
    lt_tensor *want = lt_clip_text_encode(c, m, ids, 1);
    LT_CHECK_OK(want);
    if (want)
        LT_CHECK(!memcmp(got, want->data, sizeof got), "empty context");
    lt_ctx_free(c);
    lt_clip_free(m);
    lt_clip_vocab_free(v);
}

/* ---- sampling ------------------------------------------------------------------------ */

static void counting(int64_t done, int64_t total, void *ud)
{
    (void)done;
    (void)total;
    (*(int *)ud)++;
}

LT_TEST(text_samples_depend_on_seed_index_and_context_only)
{
    lt_unet *u = make_unet(GOLDEN_SPEC);
    lt_dm_schedule s;
    lt_dm_schedule_make("linear", 1000, &s);
    lt_dm_sample_config cfg = lt_dm_sample_defaults_text();
    cfg.steps = 5;
    cfg.eta = 1; /* step noise too */
    cfg.batch = 4;
    enum { N = 6, PER = 3 * 64, CTX = 5 * 12 };
    float ctx[N * CTX], nul[CTX], a[N * PER], b[N * PER];
    lt_rng r;
    lt_rng_init(&r, 2);
    lt_rng_fill_normal(&r, ctx, N * CTX, 0, 1);
    lt_rng_fill_normal(&r, nul, CTX, 0, 1);
    int calls = 0;
    LT_CHECK(lt_dm_sample_text(u, &s, &cfg, N, ctx, nul, a, counting,
                               &calls) == LT_OK && calls == 2,
             "%s (%d progress calls)", lt_last_error(), calls);
    LT_CHECK(lt_dm_sample_text(u, &s, &cfg, N, ctx, nul, b, NULL, NULL) ==
                 LT_OK && !memcmp(a, b, sizeof a),
             "same seed, other samples: %s", lt_last_error());
    cfg.batch = 1;
    LT_CHECK(lt_dm_sample_text(u, &s, &cfg, N, ctx, nul, b, NULL, NULL) ==
                 LT_OK,
             "%s", lt_last_error());
    LT_CHECK_REL_L2("batching", b, a, N * PER, 1e-4);
    ctx[5 * CTX] += 1; /* only sample 5's context changes */
    LT_CHECK(lt_dm_sample_text(u, &s, &cfg, N, ctx, nul, b, NULL, NULL) ==
                 LT_OK,
             "%s", lt_last_error());
    LT_CHECK_REL_L2("samples 0-4", b, a, 5 * PER, 1e-4);
    LT_CHECK(memcmp(a + 5 * PER, b + 5 * PER, PER * sizeof *a),
             "sample 5 ignores its context");
    lt_unet_free(u);
    lt_dm_schedule_free(&s);
}

/* ---- training ------------------------------------------------------------------------ */

typedef struct {
    const lt_clip_vocab *vocab; /* NULL: the callback fills contexts */
    int64_t fail_at;            /* step whose batch fails (-1: none) */
} toy_source;

static const char *const CAPTIONS[] = {"a red shoe", "a green bag",
                                       "a blue shoe"};

/* Item (seed + step * B + i) % 3: a striped 3x8x8 image and its caption
 * (ids) or a context made from the item (no CLIP). */
static lt_status toy_batch(void *ud, int64_t step, uint64_t seed, int B,
                           lt_dm_text_batch *out)
{
    const toy_source *ts = ud;
    if (step == ts->fail_at)
        return lt_set_error(LT_ERR_IO, "toy data: no batch %lld",
                            (long long)step);
    for (int i = 0; i < B; i++) {
        int item = (int)((seed + (uint64_t)(step * B + i)) % 3);
        for (int p = 0; p < 3 * 64; p++)
            out->x0[i * 192 + p] = (p % 8 < 2 * (item + 1)) ? 0.8f : -0.8f;
        if (ts->vocab &&
            lt_clip_tokenize(ts->vocab, CAPTIONS[item], 16, out->ids + i * 16,
                             NULL, NULL) != LT_OK)
            return lt_last_status();
        for (int k = 0; !ts->vocab && k < 16 * 32; k++)
            out->ctx[i * 512 + k] = 0.1f * (float)((k + item) % 7) - 0.3f;
    }
    out->have_ids = ts->vocab != NULL;
    return LT_OK;
}

static lt_status toy_train(const char *out, int64_t steps, bool resume,
                           uint64_t seed, const toy_source *ts, lt_clip *m)
{
    lt_unet *u = make_unet(CLIP_SPEC);
    lt_dm_schedule s;
    lt_dm_schedule_make("scaled_linear", 1000, &s);
    lt_dm_train_config cfg = lt_dm_train_defaults();
    cfg.steps = steps;
    cfg.batch = 4;
    cfg.ckpt_every = 2;
    cfg.seed = seed;
    cfg.hflip = true;
    float nul[16 * 32];
    for (int k = 0; k < 16 * 32; k++)
        nul[k] = 0.05f * (float)(k % 5);
    lt_dm_text_source src = {.batch = toy_batch, .ud = (void *)ts,
                             .clip = m, .null_ctx = m ? NULL : nul};
    lt_status st = lt_dm_train_text(u, &s, &src, &cfg, out, resume, NULL,
                                    NULL);
    lt_unet_free(u);
    lt_dm_schedule_free(&s);
    return st;
}

/* Train 6 steps at once and 4 + 2 resumed; the files must be equal. */
static void check_resume(const char *tag, const toy_source *ts, lt_clip *m)
{
    char a[512], b[512], sa[560], sb[560];
    snprintf(a, sizeof a, "%s/%s_whole.safetensors", lt_test_tmpdir(), tag);
    snprintf(b, sizeof b, "%s/%s_resumed.safetensors", lt_test_tmpdir(), tag);
    LT_CHECK(toy_train(a, 6, false, 3, ts, m) == LT_OK, "%s", lt_last_error());
    LT_CHECK(toy_train(b, 4, false, 3, ts, m) == LT_OK, "%s", lt_last_error());
    LT_CHECK(toy_train(b, 6, true, 3, ts, m) == LT_OK, "%s", lt_last_error());
    lt_dm_state_path(a, sa, sizeof sa);
    lt_dm_state_path(b, sb, sizeof sb);
    LT_CHECK(dm_same_bytes(sa, sb), "%s: states differ after resuming", tag);
    LT_CHECK(dm_same_bytes(a, b), "%s: models differ after resuming", tag);
    LT_CHECK(toy_train(b, 8, true, 4, ts, m) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "seed"),
             "resume with another seed: %s", lt_last_error());
}

LT_TEST(a_resumed_text_training_equals_an_uninterrupted_one)
{
    lt_clip_vocab *v = NULL;
    lt_clip *m = toy_clip(&v);
    toy_source with_ids = {.vocab = v, .fail_at = -1};
    toy_source with_ctx = {.vocab = NULL, .fail_at = -1};
    check_resume("ids", &with_ids, m);
    check_resume("ctx", &with_ctx, NULL);
    char p[512];
    snprintf(p, sizeof p, "%s/fail.safetensors", lt_test_tmpdir());
    toy_source failing = {.vocab = NULL, .fail_at = 2};
    LT_CHECK(toy_train(p, 4, false, 3, &failing, NULL) == LT_ERR_IO &&
                 strstr(lt_last_error(), "step 3: batch: toy data"),
             "failing callback: %s", lt_last_error());
    LT_CHECK(toy_train(p, 4, false, 3, &with_ids, NULL) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "no CLIP"),
             "ids without a CLIP: %s", lt_last_error());
    lt_clip_free(m);
    lt_clip_vocab_free(v);
}

LT_TEST_MAIN()
