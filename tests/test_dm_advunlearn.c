/*
 * test_dm_advunlearn.c - AdvUnlearn (src/unlearn/dm_advunlearn.c) on tiny
 * name-hash-filled models against tests/golden/gen_dm_advunlearn.py, a
 * PyTorch transcription of the official soft_prompt_attack,
 * get_train_loss_retain and param_choices:
 *   - two inner attack steps (PGD and fast-AT): loss, the accumulated
 *     gradient Adam steps on, the prefix after each update, and the round's
 *     result (the prefix before the last update);
 *   - one adversarial outer step with that prefix and one warm-up step:
 *     the ESD and retain terms, the gradients of chosen encoder weights and
 *     the weights after Adam; every other encoder tensor and the whole
 *     UNet bit-identical;
 *   - the text_encoder_full filter selects exactly the transformer layers
 *     and the final LayerNorm; --train unet leaves the encoder untouched;
 *   - whole runs: warm-up then adversarial iterations, the same seed
 *     gives the same encoder bit for bit, another seed another; a run
 *     resumed from its state ends bit-identical to an uninterrupted one;
 *   - bad input: k too large for the context, gamma without retain
 *     prompts, a class model, bad config values.
 */
#include "lt_test.h"
#include "dm_test.h"
#include "lethe/dm_advunlearn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const WORDS[] = {
    "an", "bag", "image", "in", "neon", "style", ".", "red", "blue",
    "green", "dark", "soft", "bright", "old", "new", "big", "small"};
#define N_WORDS 17
#define L_CTX 6
#define D_CTX 12
#define K_ADV 2
#define UNET_SPEC "text:xs,res=8,ch=8,groups=4,blocks=2,attn=4-2,heads=2," \
                  "ctx_dim=12,ctx_len=6"
#define PERTURB "text_model.encoder.layers.1.mlp.fc1.weight"
static const char *const RETAIN[] = {"red bag .", "neon style .",
                                     "old small bag"};
static const char *const SOME[] = {
    "text_model.encoder.layers.0.self_attn.q_proj.weight",
    "text_model.encoder.layers.1.mlp.fc2.bias",
    "text_model.final_layer_norm.weight"};

typedef struct {
    lt_clip_vocab *v;
    lt_clip *clip;
    lt_unet *u;
    lt_dm_schedule s;
    int32_t concept[L_CTX], retain[3 * L_CTX];
    lt_adv_data d;
} tiny;

/* The golden's models: name-hash fill, the UNet's random attn2 weights. */
static bool tiny_make(tiny *t, const lt_golden *g)
{
    memset(t, 0, sizeof *t);
    bool ok = lt_clip_vocab_new(WORDS, N_WORDS, &t->v) == LT_OK &&
              (t->clip = dm_tiny_clip(N_WORDS + 3, L_CTX, D_CTX)) &&
              (t->u = dm_golden_unet(UNET_SPEC, g)) &&
              lt_dm_schedule_make("scaled_linear", 1000, &t->s) == LT_OK &&
              lt_clip_tokenize(t->v, "bag .", L_CTX, t->concept, NULL,
                               NULL) == LT_OK;
    for (int i = 0; ok && i < 3; i++)
        ok = lt_clip_tokenize(t->v, RETAIN[i], L_CTX, t->retain + i * L_CTX,
                              NULL, NULL) == LT_OK;
    LT_CHECK(ok, "tiny models: %s", lt_last_error());
    if (!ok)
        return false;
    t->d = (lt_adv_data){.clip = t->clip, .u = t->u, .s = &t->s,
                         .concept_ids = t->concept, .retain_ids = t->retain,
                         .n_retain = 3};
    return true;
}

static void tiny_free(tiny *t)
{
    lt_clip_vocab_free(t->v);
    lt_clip_free(t->clip);
    lt_unet_free(t->u);
    lt_dm_schedule_free(&t->s);
}

static lt_adv_config tiny_cfg(int64_t warmup)
{
    lt_adv_config c = lt_adv_defaults();
    c.k = K_ADV;
    c.ddim_steps = 10;
    c.attack_lr = 1e-2f;
    c.lr = 1e-3f;
    c.retain_batch = 2;
    c.warmup = warmup;
    c.steps = 2;
    return c;
}

/* The trained encoder some steps in: PERTURB x 1.5 (E0 keeps the start). */
static void perturb(lt_clip *m)
{
    lt_tensor *p = lt_params_get(&m->params, PERTURB);
    for (int64_t i = 0; p && i < p->numel; i++)
        p->data[i] *= 1.5f;
}

static float gval(const lt_golden *g, const char *name)
{
    return lt_golden_get(g, name)->data[0];
}

static void check_scalar(const char *what, float got, float want, double rtol)
{
    LT_CHECK(fabs(got - want) <= rtol * fabs(want) + 1e-9, "%s: %.9g, want "
             "%.9g", what, got, want);
}

/* Two attack steps of the golden's prefix tag ("pgd" or "fast"). */
static void attack_steps(const lt_golden *g, lt_adv *r, const char *tag)
{
    char nm[64];
    LT_CHECK(lt_adv_attack_begin(r) == LT_OK, "%s", lt_last_error());
    float *var = lt_adv_attack_var(r), grad[K_ADV * D_CTX];
    memcpy(var, lt_golden_get(g, "pgd.var0")->data, sizeof grad);
    for (int j = 1; j <= 2; j++) {
        snprintf(nm, sizeof nm, "pgd.start%d", j);
        lt_adv_draw d = {.start = lt_golden_get(g, nm)->data};
        snprintf(nm, sizeof nm, "pgd.t_enc%d", j);
        d.t_enc = (int)gval(g, nm);
        snprintf(nm, sizeof nm, "pgd.t%d", j);
        d.t_ddpm = (int)gval(g, nm);
        float loss = NAN;
        LT_CHECK(lt_adv_attack_step(r, &d, &loss, grad) == LT_OK, "%s",
                 lt_last_error());
        snprintf(nm, sizeof nm, "%s.loss%d", tag, j);
        check_scalar(nm, loss, gval(g, nm), 2e-3);
        snprintf(nm, sizeof nm, "%s.grad%d", tag, j);
        LT_CHECK_REL_L2(nm, grad, lt_golden_get(g, nm)->data, K_ADV * D_CTX,
                        5e-3);
        snprintf(nm, sizeof nm, "%s.var%d", tag, j);
        LT_CHECK_CLOSE(nm, var, lt_golden_get(g, nm)->data, K_ADV * D_CTX,
                       1e-4);
    }
    lt_adv_attack_end(r);
}

/* The outer step of tag ("out" or "warm") with the golden's draws. */
static void outer_step(const lt_golden *g, tiny *t, lt_adv *r,
                       const char *tag)
{
    char nm[128];
    int64_t ridx[2];
    const lt_golden_entry *ri = lt_golden_get(g, (snprintf(nm, sizeof nm,
                                                  "%s.retain", tag), nm));
    for (int b = 0; b < 2; b++)
        ridx[b] = (int64_t)ri->data[b];
    lt_adv_draw d = {.retain = ridx};
    snprintf(nm, sizeof nm, "%s.start", tag);
    d.start = lt_golden_get(g, nm)->data;
    snprintf(nm, sizeof nm, "%s.rstart", tag);
    d.retain_start = lt_golden_get(g, nm)->data;
    snprintf(nm, sizeof nm, "%s.t_enc", tag);
    d.t_enc = (int)gval(g, nm);
    snprintf(nm, sizeof nm, "%s.t", tag);
    d.t_ddpm = (int)gval(g, nm);
    size_t nc = (size_t)t->clip->params.n_total, nu =
        (size_t)t->u->params.n_total;
    float *before = malloc(nc * sizeof *before);
    float *ubefore = malloc(nu * sizeof *ubefore);
    memcpy(before, t->clip->params.theta, nc * sizeof *before);
    memcpy(ubefore, t->u->params.theta, nu * sizeof *ubefore);
    lt_adv_event ev;
    LT_CHECK(lt_adv_train_step(r, &d, &ev) == LT_OK, "%s: %s", tag,
             lt_last_error());
    LT_CHECK(ev.adversarial == !strcmp(tag, "out"), "%s: adversarial %d",
             tag, ev.adversarial);
    snprintf(nm, sizeof nm, "%s.loss", tag);
    check_scalar(nm, ev.loss, gval(g, nm), 2e-3);
    snprintf(nm, sizeof nm, "%s.esd", tag);
    check_scalar(nm, ev.esd_loss, gval(g, nm), 2e-3);
    snprintf(nm, sizeof nm, "%s.ret", tag);
    check_scalar(nm, ev.retain_loss, gval(g, nm), 5e-3);
    for (int i = 0; i < 3; i++) {
        lt_tensor *p = lt_params_get(&t->clip->params, SOME[i]);
        snprintf(nm, sizeof nm, "%s.grad.%s", tag, SOME[i]);
        LT_CHECK_REL_L2(nm, p->grad, lt_golden_get(g, nm)->data, p->numel,
                        5e-3);
        snprintf(nm, sizeof nm, "%s.after.%s", tag, SOME[i]);
        LT_CHECK_CLOSE(nm, p->data, lt_golden_get(g, nm)->data, p->numel,
                       1e-4);
    }
    /* everything outside the chosen set is untouched, bit for bit */
    int moved = 0, frozen_moved = 0;
    for (int j = 0; j < t->clip->params.count; j++) {
        lt_param *p = &t->clip->params.p[j];
        bool same = !memcmp(before + p->offset, p->t.data,
                            (size_t)p->t.numel * sizeof(float));
        if (lt_adv_encoder_selects(p->name))
            moved += !same;
        else
            frozen_moved += !same;
    }
    LT_CHECK(frozen_moved == 0, "%s: %d frozen encoder tensors changed", tag,
             frozen_moved);
    LT_CHECK(moved > 10, "%s: only %d chosen tensors changed", tag, moved);
    LT_CHECK(!memcmp(ubefore, t->u->params.theta, nu * sizeof *ubefore),
             "%s: the UNet changed", tag);
    free(before);
    free(ubefore);
}

LT_TEST(advunlearn_attack_and_outer_step_match_official)
{
    lt_golden *g = lt_golden_load("dm_advunlearn.bin");
    tiny t;
    if (!g || !tiny_make(&t, g))
        return;
    lt_adv_config cfg = tiny_cfg(0);
    lt_adv *r = NULL;
    LT_CHECK(lt_adv_new(&t.d, &cfg, &r) == LT_OK, "%s", lt_last_error());
    if (r) {
        perturb(t.clip);
        attack_steps(g, r, "pgd");
        /* the round's result: the prefix before the last update */
        LT_CHECK_CLOSE("prefix", lt_adv_prefix(r),
                       lt_golden_get(g, "pgd.var1")->data, K_ADV * D_CTX,
                       1e-4);
        outer_step(g, &t, r, "out");
    }
    lt_adv_free(r);
    tiny_free(&t);
    lt_golden_free(g);
}

LT_TEST(advunlearn_fast_at_and_warmup_match_official)
{
    lt_golden *g = lt_golden_load("dm_advunlearn.bin");
    tiny t;
    if (!g || !tiny_make(&t, g))
        return;
    lt_adv_config cfg = tiny_cfg(0);
    cfg.attack = LT_ADV_FAST_AT;
    lt_adv *r = NULL;
    LT_CHECK(lt_adv_new(&t.d, &cfg, &r) == LT_OK, "%s", lt_last_error());
    if (r) {
        perturb(t.clip);
        attack_steps(g, r, "fast");
    }
    lt_adv_free(r);
    tiny_free(&t);
    /* a fresh run in its warm-up: the trained branch sees the concept */
    if (!tiny_make(&t, g))
        return;
    cfg = tiny_cfg(1);
    r = NULL;
    LT_CHECK(lt_adv_new(&t.d, &cfg, &r) == LT_OK, "%s", lt_last_error());
    if (r) {
        perturb(t.clip);
        outer_step(g, &t, r, "warm");
    }
    lt_adv_free(r);
    tiny_free(&t);
    lt_golden_free(g);
}

LT_TEST(advunlearn_encoder_filter_is_text_encoder_full)
{
    lt_golden *g = lt_golden_load("dm_advunlearn.bin");
    tiny t;
    if (!g || !tiny_make(&t, g))
        return;
    float *mask = malloc((size_t)t.clip->params.n_train * sizeof *mask);
    int64_t n = 0;
    LT_CHECK(lt_adv_encoder_mask(t.clip, mask, &n) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(n == (int64_t)gval(g, "count.selected"), "selected %lld, "
             "want %g", (long long)n, gval(g, "count.selected"));
    const char *yes[] = {"text_model.encoder.layers.0.layer_norm1.weight",
                         "text_model.encoder.layers.1.self_attn.out_proj.bias",
                         "text_model.final_layer_norm.bias"};
    const char *no[] = {"text_model.embeddings.token_embedding.weight",
                        "text_model.embeddings.position_embedding.weight",
                        "text_projection.weight", "visual_projection.weight",
                        "vision_model.blocks.0.conv.weight", "logit_scale"};
    for (int i = 0; i < 3; i++)
        LT_CHECK(lt_adv_encoder_selects(yes[i]), "%s not chosen", yes[i]);
    for (int i = 0; i < 6; i++)
        LT_CHECK(!lt_adv_encoder_selects(no[i]), "%s chosen", no[i]);
    free(mask);
    tiny_free(&t);
    lt_golden_free(g);
}

LT_TEST(advunlearn_unet_variant_keeps_encoder)
{
    tiny t;
    if (!tiny_make(&t, NULL))
        return;
    lt_adv_config cfg = tiny_cfg(0);
    cfg.train = LT_ADV_TRAIN_UNET;
    cfg.unet_params = LT_ESD_X;
    cfg.attack_steps = 2;
    cfg.steps = 1;
    size_t nc = (size_t)t.clip->params.n_total;
    float *before = malloc(nc * sizeof *before);
    memcpy(before, t.clip->params.theta, nc * sizeof *before);
    lt_tensor *x = lt_params_get(&t.u->params, "mid.attn_1.transformer_"
                                 "blocks.0.attn2.to_k.weight");
    lt_tensor *o = lt_params_get(&t.u->params, "conv_in.weight");
    float x0 = x->data[0], o0 = o->data[0];
    LT_CHECK(lt_adv_run(&t.d, &cfg, NULL, NULL) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(!memcmp(before, t.clip->params.theta, nc * sizeof *before),
             "the encoder changed under --train unet");
    LT_CHECK(x->data[0] != x0, "attn2 did not move");
    LT_CHECK(o->data[0] == o0, "conv_in moved under esd-x");
    free(before);
    tiny_free(&t);
}

typedef struct {
    int n;
    lt_adv_event e[4];
} events;

static void collect(const lt_adv_event *e, void *ud)
{
    events *ev = ud;
    if (ev->n < 4)
        ev->e[ev->n++] = *e;
}

/* Whole runs: warm-up then adversarial steps; the same seed gives the
 * same encoder bit for bit, another seed another one. */
static bool run_encoder(uint64_t seed, float *theta, events *ev)
{
    tiny t;
    if (!tiny_make(&t, NULL))
        return false;
    lt_adv_config cfg = tiny_cfg(1);
    cfg.steps = 3;
    cfg.attack_steps = 2;
    cfg.seed = seed;
    memset(ev, 0, sizeof *ev);
    bool ok = lt_adv_run(&t.d, &cfg, collect, ev) == LT_OK;
    LT_CHECK(ok, "run: %s", lt_last_error());
    memcpy(theta, t.clip->params.theta,
           (size_t)t.clip->params.n_total * sizeof *theta);
    tiny_free(&t);
    return ok;
}

LT_TEST(advunlearn_run_schedule_and_seed)
{
    events ea, eb, ec;
    tiny t;
    if (!tiny_make(&t, NULL))
        return;
    size_t n = (size_t)t.clip->params.n_total;
    tiny_free(&t);
    float *a = malloc(3 * n * sizeof *a), *b = a + n, *c = b + n;
    if (!run_encoder(1, a, &ea) || !run_encoder(1, b, &eb) ||
        !run_encoder(2, c, &ec)) {
        free(a);
        return;
    }
    LT_CHECK(ea.n == 3 && !ea.e[0].adversarial && isnan(ea.e[0].attack_loss)
             && ea.e[1].adversarial && ea.e[2].adversarial &&
             isfinite(ea.e[1].attack_loss) && ea.e[1].retain_loss > 0,
             "schedule: %d events, adversarial %d %d %d", ea.n,
             ea.e[0].adversarial, ea.e[1].adversarial, ea.e[2].adversarial);
    LT_CHECK(!memcmp(a, b, n * sizeof *a), "same seed, other weights");
    LT_CHECK(memcmp(a, c, n * sizeof *a), "another seed, same weights");
    LT_CHECK(ea.e[2].loss == eb.e[2].loss, "same seed, other loss");
    free(a);
}

/* A run of 3 iterations killed after 2 and resumed from its state ends
 * with the uninterrupted run's encoder, bit for bit; a state of another
 * seed is refused by name. */
LT_TEST(advunlearn_resume_is_exact)
{
    events ea;
    tiny t;
    if (!tiny_make(&t, NULL))
        return;
    size_t n = (size_t)t.clip->params.n_total;
    float *want = malloc(n * sizeof *want);
    bool ok = run_encoder(1, want, &ea);
    lt_adv_config cfg = tiny_cfg(1);
    cfg.steps = 3;
    cfg.attack_steps = 2;
    cfg.retain_batch = 2;
    char path[] = "/tmp/lethe_advstate_XXXXXX";
    int fd = mkstemp(path);
    LT_CHECK(fd >= 0, "mkstemp");
    if (fd >= 0)
        close(fd);
    lt_adv *r = NULL;
    lt_adv_event ev;
    ok = ok && fd >= 0 && lt_adv_new(&t.d, &cfg, &r) == LT_OK &&
         lt_adv_step(r, &ev) == LT_OK && lt_adv_step(r, &ev) == LT_OK &&
         lt_adv_save_state(r, path) == LT_OK;
    LT_CHECK(ok, "first part: %s", lt_last_error());
    lt_adv_free(r);
    r = NULL;
    tiny_free(&t);
    if (ok && tiny_make(&t, NULL)) { /* a fresh process: the start weights */
        ok = lt_adv_new(&t.d, &cfg, &r) == LT_OK &&
             lt_adv_load_state(r, path) == LT_OK &&
             lt_adv_steps_done(r) == 2 && lt_adv_step(r, &ev) == LT_OK;
        LT_CHECK(ok, "resumed part: %s", lt_last_error());
        lt_adv_free(r);
        LT_CHECK(ok && !memcmp(want, t.clip->params.theta, n * sizeof *want),
                 "resumed run differs from the uninterrupted one");
        cfg.seed = 2;
        r = NULL;
        LT_CHECK(lt_adv_new(&t.d, &cfg, &r) == LT_OK &&
                 lt_adv_load_state(r, path) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "its seed is '1'"),
                 "state of another seed: %s", lt_last_error());
        lt_adv_free(r);
        tiny_free(&t);
    }
    remove(path);
    free(want);
}

LT_TEST(advunlearn_rejects_bad_input)
{
    tiny t;
    if (!tiny_make(&t, NULL))
        return;
    lt_adv *r = NULL;
    lt_adv_config cfg = tiny_cfg(0);
    cfg.k = 3; /* 3 + 2 words + 2 > 6 */
    LT_CHECK(lt_adv_new(&t.d, &cfg, &r) == LT_ERR_ARG && !r &&
             strstr(lt_last_error(), "do not fit"), "k 3: %s",
             lt_last_error());
    cfg = tiny_cfg(0);
    lt_adv_data d = t.d;
    d.n_retain = 0;
    LT_CHECK(lt_adv_new(&d, &cfg, &r) == LT_ERR_ARG &&
             strstr(lt_last_error(), "retain"), "no retain: %s",
             lt_last_error());
    cfg.retain_weight = 0; /* the ablation needs none */
    LT_CHECK(lt_adv_new(&d, &cfg, &r) == LT_OK, "gamma 0: %s",
             lt_last_error());
    lt_adv_free(r);
    r = NULL;
    cfg = tiny_cfg(0);
    cfg.attack_steps = 0;
    LT_CHECK(lt_adv_new(&t.d, &cfg, &r) == LT_ERR_ARG, "0 attack steps");
    lt_unet *cls = NULL;
    LT_CHECK(lt_unet_create("cond:xs", &cls) == LT_OK, "%s", lt_last_error());
    d = t.d;
    d.u = cls;
    cfg = tiny_cfg(0);
    LT_CHECK(lt_adv_new(&d, &cfg, &r) == LT_ERR_ARG &&
             strstr(lt_last_error(), "class"), "class model: %s",
             lt_last_error());
    lt_unet_free(cls);
    lt_adv_target tg;
    lt_adv_attack at;
    LT_CHECK(lt_adv_target_parse("vae", &tg) == LT_ERR_ARG &&
             lt_adv_attack_parse("fgsm", &at) == LT_ERR_ARG &&
             lt_adv_attack_parse("fast_at", &at) == LT_OK &&
             at == LT_ADV_FAST_AT, "parsers");
    tiny_free(&t);
}

LT_TEST_MAIN()
