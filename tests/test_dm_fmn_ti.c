/*
 * test_dm_fmn_ti.c - Forget-Me-Not's textual-inversion stage
 * (src/unlearn/dm_fmn_ti.c) against tests/golden/gen_dm_fmn_ti.py, a
 * PyTorch transcription of train_ti.py's train_inversion on the twins of
 * Lethe's CLIP text encoder and text UNet: two steps (the loss, the
 * gradient of the new rows, the rows after AdamW and clip_ti_decay), the
 * contexts and marks handed to the attention stage; the placeholder
 * layout, the initial rows, the automatic norm target; a seeded run
 * leaves the encoder and the UNet bit-identical and repeats bit for bit;
 * the refusals.
 */
#include "dm_test.h"
#include "lethe/dm_text_unlearn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const WORDS[] = {
    "an", "bag", "image", "in", "neon", "style", ".", "red", "blue",
    "green", "dark", "soft", "bright", "old", "new", "big", "small"};
#define N_WORDS 17
#define L_CTX 6
#define D_CTX 12
#define K_TI 3
#define IMG 192
#define UNET_SPEC "text:xs,res=8,ch=8,groups=4,blocks=2,attn=4-2,heads=2," \
                  "ctx_dim=12,ctx_len=6"

typedef struct {
    lt_clip_vocab *v;
    lt_clip *clip;
    lt_unet *u;
    lt_dm_schedule s;
} tiny;

static bool tiny_make(tiny *t, const lt_golden *g)
{
    memset(t, 0, sizeof *t);
    bool ok = lt_clip_vocab_new(WORDS, N_WORDS, &t->v) == LT_OK &&
              (t->clip = dm_tiny_clip(N_WORDS + 3, L_CTX, D_CTX)) &&
              (t->u = dm_golden_unet(UNET_SPEC, g)) &&
              lt_dm_schedule_make("scaled_linear", 1000, &t->s) == LT_OK;
    LT_CHECK(ok, "tiny models: %s", lt_last_error());
    return ok;
}

static void tiny_free(tiny *t)
{
    lt_clip_vocab_free(t->v);
    lt_clip_free(t->clip);
    lt_unet_free(t->u);
    lt_dm_schedule_free(&t->s);
}

static float gv(const lt_golden *g, const char *fmt, int k)
{
    char nm[64];
    snprintf(nm, sizeof nm, fmt, k);
    return lt_golden_get(g, nm)->data[0];
}

LT_TEST(fmn_ti_steps_match_train_ti)
{
    lt_golden *g = lt_golden_load("dm_fmn_ti.bin");
    tiny t;
    if (!g || !tiny_make(&t, g)) {
        lt_golden_free(g);
        return;
    }
    int32_t ids[2 * L_CTX];
    const float *gi = lt_golden_get(g, "ids")->data;
    for (int i = 0; i < 2 * L_CTX; i++)
        ids[i] = (int32_t)lrintf(gi[i % L_CTX]);
    float emb[K_TI * D_CTX], before[K_TI * D_CTX], noise[IMG];
    memcpy(emb, lt_golden_get(g, "emb0")->data, sizeof emb);
    lt_fmn_ti_config cfg = lt_fmn_ti_defaults();
    cfg.lr = lt_golden_get(g, "lr")->data[0];
    cfg.weight_decay = lt_golden_get(g, "wd")->data[0];
    cfg.norm_target = lt_golden_get(g, "target")->data[0];
    size_t nu = (size_t)t.u->params.n_total, nc = (size_t)t.clip->params.n_total;
    float *u0 = malloc(nu * sizeof *u0), *c0 = malloc(nc * sizeof *c0);
    memcpy(u0, t.u->params.theta, nu * sizeof *u0);
    memcpy(c0, t.clip->params.theta, nc * sizeof *c0);
    lt_fmn_ti *r = NULL;
    LT_CHECK(lt_fmn_ti_new(t.u, &t.s, t.clip, lt_golden_get(g, "x")->data,
                           ids, 2, K_TI, emb, &cfg, &r) == LT_OK,
             "%s", lt_last_error());
    for (int k = 0; r && k < 2; k++) {
        char nm[64];
        snprintf(nm, sizeof nm, "s%d.noise", k);
        memcpy(noise, lt_golden_get(g, nm)->data, sizeof noise);
        lt_fmn_ti_draw d = {.index = (int64_t)gv(g, "s%d.index", k),
                            .flip = gv(g, "s%d.flip", k) != 0,
                            .t = (int32_t)gv(g, "s%d.t", k), .noise = noise};
        memcpy(before, emb, sizeof emb);
        lt_fmn_ti_event ev;
        LT_CHECK(lt_fmn_ti_step(r, &d, &ev) == LT_OK, "%s", lt_last_error());
        snprintf(nm, sizeof nm, "s%d.loss", k);
        LT_CHECK_CLOSE(nm, &ev.loss, lt_golden_get(g, nm)->data, 1, 1e-3);
        snprintf(nm, sizeof nm, "s%d.grad", k);
        LT_CHECK_REL_L2(nm, lt_fmn_ti_grad(r), lt_golden_get(g, nm)->data,
                        K_TI * D_CTX, 1e-3);
        snprintf(nm, sizeof nm, "s%d.emb", k);
        const float *want = lt_golden_get(g, nm)->data;
        float dg[K_TI * D_CTX], dw[K_TI * D_CTX];
        for (int j = 0; j < K_TI * D_CTX; j++) {
            dg[j] = emb[j] - before[j];
            dw[j] = want[j] - before[j];
        }
        LT_CHECK_REL_L2(nm, dg, dw, K_TI * D_CTX, 1e-3);
    }
    lt_fmn_ti_free(r);
    LT_CHECK(!memcmp(u0, t.u->params.theta, nu * sizeof *u0) &&
                 !memcmp(c0, t.clip->params.theta, nc * sizeof *c0),
             "the UNet or the encoder moved");
    /* the attention stage's contexts and marks with the learned rows */
    float ctx[2 * L_CTX * D_CTX], mask[2 * L_CTX];
    LT_CHECK(lt_fmn_ti_contexts(t.clip, ids, 2, K_TI, emb, ctx, mask) ==
                 LT_OK, "%s", lt_last_error());
    LT_CHECK_REL_L2("ctx_after", ctx + L_CTX * D_CTX,
                    lt_golden_get(g, "ctx_after")->data, L_CTX * D_CTX,
                    1e-4);
    static const float want_mask[L_CTX] = {0, 1, 1, 1, 0, 1};
    LT_CHECK(!memcmp(mask, want_mask, sizeof want_mask) &&
                 !memcmp(mask + L_CTX, want_mask, sizeof want_mask),
             "marks: placeholders and <eos>");
    free(u0);
    free(c0);
    tiny_free(&t);
    lt_golden_free(g);
}

LT_TEST(fmn_ti_layout_init_and_loop)
{
    tiny t;
    if (!tiny_make(&t, NULL))
        return;
    int32_t ids[L_CTX], out[L_CTX], neon = lt_clip_vocab_id(t.v, "neon");
    LT_CHECK(lt_clip_tokenize(t.v, "neon .", L_CTX, ids, NULL, NULL) ==
                 LT_OK, "%s", lt_last_error());
    LT_CHECK(lt_fmn_ti_ids(ids, L_CTX, neon, K_TI, out) == LT_OK, "%s",
             lt_last_error());
    int32_t want[L_CTX] = {LT_CLIP_BOS, -1, -2, -3,
                           lt_clip_vocab_id(t.v, "."), LT_CLIP_EOS};
    LT_CHECK(!memcmp(out, want, sizeof want), "placeholder layout");
    int32_t longer[L_CTX];
    LT_CHECK(lt_clip_tokenize(t.v, "an neon image", L_CTX, longer, NULL,
                              NULL) == LT_OK, "tokenize");
    LT_CHECK(lt_fmn_ti_ids(longer, L_CTX, neon, K_TI, out) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "does not fit"), "too long");
    LT_CHECK(lt_fmn_ti_ids(ids, L_CTX, lt_clip_vocab_id(t.v, "bag"), K_TI,
                           out) == LT_ERR_ARG, "absent word");
    /* the starting rows: the word's row, then N(0, 1) rows */
    lt_fmn_ti_config cfg = lt_fmn_ti_defaults();
    LT_CHECK(cfg.n_rand == 2 && cfg.rand_sigma == 1.0f && cfg.steps == 500 &&
                 cfg.lr == 1e-3f && cfg.weight_decay == 0.1f && cfg.decay &&
                 cfg.flip && cfg.norm_target == LT_FMN_TI_NORM_AUTO,
             "ti.yaml's settings");
    float emb[K_TI * D_CTX];
    LT_CHECK(lt_fmn_ti_init(t.clip, &neon, 1, &cfg, emb) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(!memcmp(emb, t.clip->tok_emb->data + neon * D_CTX,
                     D_CTX * sizeof(float)), "row 0 is neon's");
    double ss = 0;
    for (int j = D_CTX; j < K_TI * D_CTX; j++)
        ss += (double)emb[j] * emb[j];
    ss /= (K_TI - 1) * D_CTX;
    LT_CHECK(ss > 0.3 && ss < 3, "random rows' variance %g", ss);
    double mean = 0;
    for (int i = 0; i < N_WORDS + 3; i++) {
        double s = 0;
        for (int j = 0; j < D_CTX; j++) {
            float w = t.clip->tok_emb->data[i * D_CTX + j];
            s += (double)w * w;
        }
        mean += sqrt(s) / (N_WORDS + 3);
    }
    LT_CHECK(fabs(lt_fmn_ti_norm_target(t.clip, &cfg) - mean) < 1e-5 * mean,
             "auto target %g, mean norm %g",
             (double)lt_fmn_ti_norm_target(t.clip, &cfg), mean);
    /* a seeded run: the same seed, the same rows; the rows move */
    float x[2 * IMG], e1[K_TI * D_CTX], e2[K_TI * D_CTX];
    lt_rng g;
    lt_rng_init(&g, 3);
    lt_rng_fill_uniform(&g, x, 2 * IMG, -1, 1);
    int32_t two[2 * L_CTX];
    memcpy(two, want, sizeof want);
    memcpy(two + L_CTX, want, sizeof want);
    cfg.steps = 3;
    memcpy(e1, emb, sizeof emb);
    memcpy(e2, emb, sizeof emb);
    LT_CHECK(lt_fmn_ti_run(t.u, &t.s, t.clip, x, two, 2, K_TI, e1, &cfg,
                           NULL, NULL) == LT_OK &&
                 lt_fmn_ti_run(t.u, &t.s, t.clip, x, two, 2, K_TI, e2, &cfg,
                               NULL, NULL) == LT_OK,
             "%s", lt_last_error());
    LT_CHECK(!memcmp(e1, e2, sizeof e1) && memcmp(e1, emb, sizeof e1),
             "seeded run");
    /* refusals */
    int32_t plain[2 * L_CTX];
    memcpy(plain, ids, sizeof ids);
    memcpy(plain + L_CTX, ids, sizeof ids);
    LT_CHECK(lt_fmn_ti_run(t.u, &t.s, t.clip, x, plain, 2, K_TI, e1, &cfg,
                           NULL, NULL) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "no placeholder"), "no placeholder");
    two[2] = -4;
    LT_CHECK(lt_fmn_ti_run(t.u, &t.s, t.clip, x, two, 2, K_TI, e1, &cfg,
                           NULL, NULL) == LT_ERR_ARG, "placeholder > K");
    two[2] = -2;
    lt_unet *k = NULL;
    LT_CHECK(lt_unet_create("cond:xs,res=8,ch=8,groups=4,classes=3", &k) ==
                 LT_OK, "%s", lt_last_error());
    LT_CHECK(k && lt_fmn_ti_run(k, &t.s, t.clip, x, two, 2, K_TI, e1, &cfg,
                                NULL, NULL) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "class-conditional"), "class model");
    lt_unet_free(k);
    tiny_free(&t);
}

LT_TEST_MAIN()
