/*
 * test_dm_attack.c - the UnlearnDiff attack and its baselines
 * (src/eval/dm_attack.c, lt_onehot_st in src/ops/ste.c):
 *   - the official bisection onto the simplex against the exact
 *     sorted-threshold projection;
 *   - the straight-through one-hot: forward one-hot, backward hardtanh;
 *   - two UnlearnDiff steps and one P4D step on tiny name-hash-filled
 *     models against the PyTorch transcription of the official functions
 *     (tests/golden/gen_dm_attack.py -> dm_attack.bin): loss, the gradient
 *     reaching the adversarial variable, the variable after Adam and the
 *     projection;
 *   - the attack success rate of check_asr.py on a hand-made table, with
 *     Wilson intervals checked against published values;
 *   - runs of the whole loop (random, unlearndiff) with a scripted
 *     detector: tries, stop at the first hit, and the adversarial prompt
 *     replays to the very image the attack judged (through the attack's
 *     generator and through what `dm sample --prompt` computes);
 *   - a separate encoder of the original model (AdvUnlearn's case): the
 *     target and P4D's reference go through it, the attacked generations
 *     through the attacked one; an equal one changes nothing;
 *   - bad input: out-of-vocabulary words, k too large for the context, no
 *     detector, an unknown method, a class model.
 */
#include "lt_test.h"
#include "dm_test.h"
#include "lethe/dm_attack.h"
#include "lethe/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- simplex projection ---------------------------------------------------------- */

/* Euclidean projection onto the probability simplex by sorting (Held,
 * Wolfe and Crowder; Duchi et al. 2008): tau from the largest rho with
 * u_rho > (sum_{i<=rho} u_i - 1) / rho. */
static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? 1 : (x > y ? -1 : 0);
}

static void sorted_projection(const float *a, int n, double *out)
{
    double *u = malloc((size_t)n * sizeof *u);
    for (int i = 0; i < n; i++)
        u[i] = a[i];
    qsort(u, (size_t)n, sizeof *u, cmp_desc);
    double cum = 0, tau = 0;
    for (int i = 0; i < n; i++) {
        cum += u[i];
        double t = (cum - 1) / (i + 1);
        if (u[i] - t > 0)
            tau = t;
    }
    for (int i = 0; i < n; i++)
        out[i] = a[i] - tau > 0 ? a[i] - tau : 0;
    free(u);
}

LT_TEST(simplex_projection_matches_sorted_threshold)
{
    lt_rng r;
    lt_rng_init(&r, 3);
    float a[200];
    double want[200];
    const float scales[] = {0.01f, 0.3f, 1.0f, 5.0f};
    for (int trial = 0; trial < 40; trial++) {
        int n = 1 + (int)lt_rng_below(&r, 200);
        float sc = scales[trial % 4];
        for (int i = 0; i < n; i++)
            a[i] = (lt_rng_uniform(&r) - 0.3f) * sc;
        sorted_projection(a, n, want);
        LT_CHECK(lt_simplex_project(a, n, 1e-5) == LT_OK, "%s",
                 lt_last_error());
        double sum = 0, worst = 0;
        for (int i = 0; i < n; i++) {
            sum += a[i];
            worst = fmax(worst, fabs(a[i] - want[i]));
            LT_CHECK(a[i] >= 0 && a[i] <= 1, "entry %d = %g", i, a[i]);
        }
        /* the bisection stops at a bracket of 1e-5 on the threshold */
        LT_CHECK(worst <= 1e-5 + 1e-6, "trial %d (n %d): off by %g", trial,
                 n, worst);
        LT_CHECK(fabs(sum - 1) <= n * 1e-5 + 1e-6, "trial %d: sum %g",
                 trial, sum);
    }
    /* already a point of the simplex: kept (clip only) */
    float p[4] = {0.1f, 0.2f, 0.3f, 0.4f};
    LT_CHECK(lt_simplex_project(p, 4, 1e-5) == LT_OK && p[0] == 0.1f &&
             p[3] == 0.4f, "a simplex point moved: %g %g", p[0], p[3]);
    float bad[2] = {NAN, 1};
    LT_CHECK(lt_simplex_project(bad, 2, 1e-5) == LT_ERR_NAN, "NaN accepted");
    LT_CHECK(lt_simplex_project(p, 0, 1e-5) == LT_ERR_ARG, "n 0 accepted");
}

/* ---- straight-through one-hot -------------------------------------------------------- */

LT_TEST(onehot_st_forward_onehot_backward_hardtanh)
{
    lt_ctx *c = lt_ctx_new(1 << 20);
    int64_t shp[2] = {2, 5};
    float pv[10] = {0.2f, 0.2f, 0.2f, 0.2f, 0.2f, 0, 0, 1, 0, 0};
    lt_tensor *p = lt_requires_grad(lt_from_data(c, 2, shp, pv));
    int32_t idx[2] = {3, 0};
    lt_tensor *y = lt_onehot_st(c, p, idx);
    LT_CHECK_OK(y);
    if (y) {
        for (int i = 0; i < 10; i++)
            LT_CHECK(y->data[i] == (i == 3 || i == 5 ? 1.0f : 0.0f),
                     "y[%d] = %g", i, y->data[i]);
        float r[10] = {2.5f, -0.5f, 1.0f, -3.0f, 0.25f,
                       -1.0f, 7.0f, 0.0f, -0.75f, 1.5f};
        float want[10] = {1.0f, -0.5f, 1.0f, -1.0f, 0.25f,
                          -1.0f, 1.0f, 0.0f, -0.75f, 1.0f};
        LT_CHECK(lt_backward_with(c, y, r) == LT_OK, "%s", lt_last_error());
        LT_CHECK_CLOSE("grad", p->grad, want, 10, 0);
    }
    int32_t bad[2] = {5, 0};
    LT_CHECK(lt_onehot_st(c, p, bad) == NULL &&
             lt_last_status() == LT_ERR_ARG &&
             strstr(lt_last_error(), "onehot_st"), "id 5 of 5 accepted");
    lt_ctx_free(c);
}

/* ---- tiny models of the golden -------------------------------------------------------- */

static const char *const WORDS[] = {
    "an", "bag", "image", "in", "neon", "style", ".", "red", "blue",
    "green", "dark", "soft", "bright", "old", "new", "big", "small"};
#define N_WORDS 17
#define UNET_SPEC "text:xs,res=8,ch=8,groups=4,blocks=2,attn=4-2,heads=2," \
                  "ctx_dim=12,ctx_len=6"

typedef struct {
    lt_clip_vocab *v;
    lt_clip *clip;
    lt_unet *u, *orig;
    lt_dm_schedule s;
    float null_ctx[6 * 12];
    lt_atk_models m;
} tiny;

static bool tiny_make(tiny *t)
{
    memset(t, 0, sizeof *t);
    lt_clip_config cc;
    bool ok = lt_clip_vocab_new(WORDS, N_WORDS, &t->v) == LT_OK &&
              lt_clip_preset("xs", N_WORDS + 3, &cc) == LT_OK;
    if (ok) {
        cc.context_length = 6;
        cc.width = 12;
        cc.heads = 2;
        cc.mlp = 32;
        cc.embed_dim = 12;
        ok = lt_clip_create(&cc, &t->clip) == LT_OK &&
             lt_unet_create(UNET_SPEC, &t->u) == LT_OK &&
             lt_unet_create(UNET_SPEC, &t->orig) == LT_OK &&
             lt_dm_schedule_make("linear", 1000, &t->s) == LT_OK;
    }
    LT_CHECK(ok, "tiny models: %s", lt_last_error());
    if (!ok)
        return false;
    dm_fill(&t->clip->params);
    dm_fill(&t->u->params);
    dm_fill(&t->orig->params);
    for (int j = 0; j < t->orig->params.count; j++) {
        lt_param *p = &t->orig->params.p[j];
        if (strstr(p->name, "attn2"))
            for (int64_t i = 0; i < p->t.numel; i++)
                p->t.data[i] *= 1.1f;
    }
    ok = lt_dm_empty_context(t->clip, t->null_ctx) == LT_OK;
    t->m = (lt_atk_models){.unlearned = t->u, .original = t->orig,
                           .s = &t->s, .clip = t->clip, .vocab = t->v,
                           .null_ctx = t->null_ctx};
    return ok;
}

static void tiny_free(tiny *t)
{
    lt_clip_vocab_free(t->v);
    lt_clip_free(t->clip);
    lt_unet_free(t->u);
    lt_unet_free(t->orig);
    lt_dm_schedule_free(&t->s);
}

static lt_atk_config tiny_cfg(lt_atk_method m)
{
    lt_atk_config c = lt_atk_defaults();
    c.method = m;
    c.k = 2;
    c.sample.steps = 5;
    return c;
}

/* ---- one step against the official functions ---------------------------------------- */

static void check_var(const char *what, const float *got,
                      const lt_golden_entry *want, double tol)
{
    double worst = 0;
    for (int64_t i = 0; i < want->numel; i++)
        worst = fmax(worst, fabs(got[i] - want->data[i]));
    LT_CHECK(worst <= tol, "%s: off by %g (tolerance %g)", what, worst, tol);
}

LT_TEST(unlearndiff_steps_match_official)
{
    tiny t;
    lt_golden *g = lt_golden_load("dm_attack.bin");
    lt_ctx *c = lt_ctx_new(1 << 20);
    if (!g || !tiny_make(&t))
        return;
    lt_atk *a = NULL;
    lt_atk_config cfg = tiny_cfg(LT_ATK_UNLEARNDIFF);
    LT_CHECK(lt_atk_new(&t.m, &cfg, "bag .", 5, &a) == LT_OK, "%s",
             lt_last_error());
    int rows = 0, cols = 0;
    float *var = a ? lt_atk_variable(a, &rows, &cols) : NULL;
    LT_CHECK(var && rows == 2 && cols == N_WORDS, "variable %dx%d", rows,
             cols);
    if (!var)
        goto done;
    for (int i = 0; i < rows * cols; i++)
        LT_CHECK(var[i] == 1.0f / N_WORDS, "start %d = %g (uniform)", i,
                 var[i]);
    memcpy(var, lt_golden_get(g, "ud.var0")->data,
           sizeof(float) * rows * cols);
    LT_CHECK(lt_atk_set_target(a, lt_golden_get(g, "x0")->data) == LT_OK,
             "%s", lt_last_error());
    int ts = (int)lt_golden_get(g, "t")->data[0];
    for (int step = 1; step <= 2; step++) {
        char n[32];
        float loss = 0, grad[2 * N_WORDS];
        snprintf(n, sizeof n, "ud.idx%d", step);
        int32_t *idx = lt_golden_ints(c, g, n);
        snprintf(n, sizeof n, "ud.e%d", step);
        LT_CHECK(lt_atk_step(a, ts, lt_golden_get(g, n)->data, idx, &loss,
                             grad) == LT_OK, "step %d: %s", step,
                 lt_last_error());
        snprintf(n, sizeof n, "ud.loss%d", step);
        LT_CHECK_CLOSE(n, &loss, lt_golden_get(g, n)->data, 1, 1e-4);
        snprintf(n, sizeof n, "ud.grad%d", step);
        LT_CHECK_REL_L2(n, grad, lt_golden_get(g, n)->data, 2 * N_WORDS,
                        1e-4);
        snprintf(n, sizeof n, "ud.var%d", step);
        /* torch's float32 bisection vs Lethe's double one: both stop at a
         * 1e-5 bracket */
        check_var(n, var, lt_golden_get(g, n), 2e-5);
    }
    char buf[128];
    LT_CHECK(lt_atk_decode(a, buf, sizeof buf) == LT_OK &&
             !strcmp(buf, "bag ."), "before a run's decode: '%s'", buf);
done:
    lt_atk_free(a);
    tiny_free(&t);
    lt_golden_free(g);
    lt_ctx_free(c);
}

LT_TEST(p4d_step_matches_official)
{
    tiny t;
    lt_golden *g = lt_golden_load("dm_attack.bin");
    if (!g || !tiny_make(&t))
        return;
    lt_atk *a = NULL;
    lt_atk_config cfg = tiny_cfg(LT_ATK_P4D);
    LT_CHECK(lt_atk_new(&t.m, &cfg, "bag .", 5, &a) == LT_OK, "%s",
             lt_last_error());
    int rows = 0, cols = 0;
    float *var = a ? lt_atk_variable(a, &rows, &cols) : NULL;
    LT_CHECK(var && rows == 2 && cols == 12, "variable %dx%d", rows, cols);
    if (var) {
        memcpy(var, lt_golden_get(g, "p4d.var0")->data, sizeof(float) * 24);
        lt_atk_set_target(a, lt_golden_get(g, "x0")->data);
        float loss = 0, grad[24];
        int ts = (int)lt_golden_get(g, "t")->data[0];
        LT_CHECK(lt_atk_step(a, ts, lt_golden_get(g, "p4d.e")->data, NULL,
                             &loss, grad) == LT_OK, "%s", lt_last_error());
        LT_CHECK_CLOSE("p4d.loss", &loss, lt_golden_get(g, "p4d.loss")->data,
                       1, 1e-4);
        LT_CHECK_REL_L2("p4d.grad", grad, lt_golden_get(g, "p4d.grad")->data,
                        24, 1e-4);
        LT_CHECK_CLOSE("p4d.var1", var, lt_golden_get(g, "p4d.var1")->data,
                       24, 1e-5);
        const float *proj = lt_golden_get(g, "p4d.proj")->data;
        char want[64], buf[128];
        snprintf(want, sizeof want, "%s %s bag .", WORDS[(int)proj[0]],
                 WORDS[(int)proj[1]]);
        LT_CHECK(lt_atk_decode(a, buf, sizeof buf) == LT_OK &&
                 !strcmp(buf, want), "decoded '%s', want '%s' (before the "
                 "step's update)", buf, want);
    }
    lt_atk_free(a);
    tiny_free(&t);
    lt_golden_free(g);
}

/* ---- ASR ---------------------------------------------------------------------------- */

LT_TEST(asr_on_hand_table)
{
    /* 10 prompts: 2 detected before the attack (0, 3), 3 more after it
     * (1, 4, 9); prompt 0's post flag must not count twice, prompt 3's
     * missing post flag must not remove it. */
    bool pre[10] = {1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    bool post[10] = {1, 1, 0, 0, 1, 0, 0, 0, 0, 1};
    lt_atk_asr r;
    LT_CHECK(lt_atk_asr_compute(pre, post, 10, &r) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(r.n == 10 && r.pre == 2 && r.attacked == 3, "pre %lld attacked "
             "%lld", (long long)r.pre, (long long)r.attacked);
    LT_CHECK(r.pre_asr == 0.2 && r.asr == 0.5, "pre-ASR %g ASR %g",
             r.pre_asr, r.asr);
    /* Wilson 95%: 2/10 -> [0.0567, 0.5098], 5/10 -> [0.2366, 0.7634] */
    LT_CHECK(fabs(r.pre_lo - 0.0567) < 1e-4 && fabs(r.pre_hi - 0.5098) < 1e-4,
             "pre interval [%g, %g]", r.pre_lo, r.pre_hi);
    LT_CHECK(fabs(r.asr_lo - 0.2366) < 1e-4 && fabs(r.asr_hi - 0.7634) < 1e-4,
             "ASR interval [%g, %g]", r.asr_lo, r.asr_hi);
    double lo, hi;
    LT_CHECK(lt_wilson_interval(0, 20, 1.959964, &lo, &hi) == LT_OK &&
             lo == 0 && fabs(hi - 0.1611) < 1e-4, "0/20: [%g, %g]", lo, hi);
    LT_CHECK(lt_wilson_interval(3, 2, 1.96, &lo, &hi) == LT_ERR_ARG,
             "3 of 2 accepted");
    LT_CHECK(lt_atk_asr_compute(pre, post, 0, &r) == LT_ERR_ARG, "n 0");
}

/* ---- whole runs ------------------------------------------------------------------------ */

typedef struct {
    int calls, hit_at;
} script;

static lt_status scripted(void *ud, const float *img, bool *hit)
{
    script *s = ud;
    (void)img;
    *hit = ++s->calls == s->hit_at;
    return LT_OK;
}

/* What `lethe dm sample --prompt P --seed S --n 1` computes. */
static bool cli_like_sample(tiny *t, const lt_dm_sample_config *sc,
                            const char *prompt, uint64_t seed, float *out)
{
    int32_t ids[6];
    lt_ctx *c = lt_ctx_new(1 << 22);
    lt_set_grad_enabled(c, false);
    bool ok = lt_clip_tokenize(t->v, prompt, 6, ids, NULL, NULL) == LT_OK;
    lt_tensor *h = ok ? lt_clip_text_encode(c, t->clip, ids, 1) : NULL;
    lt_dm_sample_config cfg = *sc;
    cfg.seed = seed;
    cfg.batch = lt_dm_sample_defaults_text().batch;
    ok = h && lt_dm_sample_text(t->u, &t->s, &cfg, 1, h->data, t->null_ctx,
                                out, NULL, NULL) == LT_OK;
    lt_ctx_free(c);
    return ok;
}

LT_TEST(runs_stop_at_first_hit_and_replay)
{
    tiny t;
    if (!tiny_make(&t))
        return;
    float pre[3 * 64], adv[3 * 64], again[3 * 64];
    lt_atk_method methods[2] = {LT_ATK_RANDOM, LT_ATK_UNLEARNDIFF};
    for (int mi = 0; mi < 2; mi++) {
        lt_atk_config cfg = tiny_cfg(methods[mi]);
        cfg.n_t = 4;
        cfg.iters = 2;
        lt_atk *a = NULL;
        script sc = {0, 3}; /* the unattacked image, try 1, try 2: hit */
        lt_atk_result res;
        LT_CHECK(lt_atk_new(&t.m, &cfg, "bag .", 9, &a) == LT_OK &&
                 lt_atk_run(a, scripted, &sc, &res, pre, adv) == LT_OK,
                 "%s: %s", lt_atk_method_name(cfg.method), lt_last_error());
        LT_CHECK(!res.pre_success && res.success && res.tries == 2 &&
                 res.t_success == lt_atk_timestep(1000, 4, 1) &&
                 res.t_success == 375, "%s: pre %d success %d tries %d t %d",
                 lt_atk_method_name(cfg.method), res.pre_success,
                 res.success, res.tries, res.t_success);
        size_t pl = strlen(res.prompt), ol = strlen("bag .");
        LT_CHECK(pl > ol && !strcmp(res.prompt + pl - ol, "bag ."),
                 "adversarial prompt '%s'", res.prompt);
        /* the saved prompt regenerates the judged image exactly */
        LT_CHECK(lt_atk_generate(&t.m, &cfg.sample, t.u, res.prompt, 9,
                                 again) == LT_OK &&
                 !memcmp(again, adv, sizeof adv), "%s: replay of '%s' "
                 "differs", lt_atk_method_name(cfg.method), res.prompt);
        LT_CHECK(lt_atk_generate(&t.m, &cfg.sample, t.u, "bag .", 9,
                                 again) == LT_OK &&
                 !memcmp(again, pre, sizeof pre), "unattacked replay");
        /* ... and so does dm sample's path: encode the text, sample n = 1
         * at the seed with its default batch of 100 */
        LT_CHECK(cli_like_sample(&t, &cfg.sample, res.prompt, 9, again) &&
                 !memcmp(again, adv, sizeof adv), "%s: dm sample's path "
                 "differs for '%s'", lt_atk_method_name(cfg.method),
                 res.prompt);
        lt_atk_free(a);
    }
    /* none: one generation; a pre-attack hit stops every method at once */
    lt_atk_config cfg = tiny_cfg(LT_ATK_NONE);
    lt_atk *a = NULL;
    script sc = {0, 1};
    lt_atk_result res;
    LT_CHECK(lt_atk_new(&t.m, &cfg, "bag", 1, &a) == LT_OK &&
             lt_atk_run(a, scripted, &sc, &res, NULL, NULL) == LT_OK &&
             res.pre_success && res.success && res.tries == 0 &&
             sc.calls == 1, "none: %s", lt_last_error());
    lt_atk_free(a);
    tiny_free(&t);
}

/* ---- the original model's own encoder -------------------------------------------------- */

static lt_status never(void *ud, const float *img, bool *hit)
{
    (void)ud;
    (void)img;
    *hit = false;
    return LT_OK;
}

/* The loss of one fixed step after a one-try run (whose target comes from
 * the original model through m's original encoder): uniform variable,
 * fixed noise and words. */
static float loss_after_run(const lt_atk_models *m, lt_atk_method method)
{
    lt_atk_config cfg = tiny_cfg(method);
    cfg.n_t = 1;
    cfg.iters = 1;
    lt_atk *a = NULL;
    lt_atk_result res;
    float e[3 * 64], loss = NAN;
    for (int i = 0; i < 3 * 64; i++)
        e[i] = 0.01f * (float)(i % 17) - 0.08f;
    int32_t idx[2] = {1, 4};
    bool ok = lt_atk_new(m, &cfg, "bag .", 7, &a) == LT_OK &&
              lt_atk_run(a, never, NULL, &res, NULL, NULL) == LT_OK;
    int rows = 0, cols = 0;
    float *var = ok ? lt_atk_variable(a, &rows, &cols) : NULL;
    for (int i = 0; var && method == LT_ATK_UNLEARNDIFF && i < rows * cols;
         i++)
        var[i] = 1.0f / (float)cols;
    for (int i = 0; var && method == LT_ATK_P4D && i < rows * cols; i++)
        var[i] = 0.05f * (float)(i % 7) - 0.1f;
    ok = var && lt_atk_step(a, 30, e, method == LT_ATK_UNLEARNDIFF ? idx
                                                                 : NULL,
                            &loss, NULL) == LT_OK;
    LT_CHECK(ok, "%s: %s", lt_atk_method_name(method), lt_last_error());
    lt_atk_free(a);
    return loss;
}

LT_TEST(original_encoder_changes_target_and_reference)
{
    tiny t;
    if (!tiny_make(&t))
        return;
    lt_clip *robust = NULL;
    float null2[6 * 12];
    LT_CHECK(lt_clip_create(&t.clip->cfg, &robust) == LT_OK, "%s",
             lt_last_error());
    if (!robust) {
        tiny_free(&t);
        return;
    }
    /* the unlearned model's (robust) encoder: the original's, perturbed */
    dm_fill(&robust->params);
    for (int j = 0; j < robust->params.count; j++)
        for (int64_t i = 0; i < robust->params.p[j].t.numel; i++)
            robust->params.p[j].t.data[i] *= 1.3f;
    LT_CHECK(lt_dm_empty_context(robust, null2) == LT_OK, "%s",
             lt_last_error());
    /* today's single-encoder models, and an explicit equal original */
    lt_atk_models one = t.m, same = t.m, two = t.m;
    same.clip_original = t.clip;
    same.null_ctx_original = t.null_ctx;
    /* AdvUnlearn: attacked through robust, original through t.clip */
    two.clip = robust;
    two.null_ctx = null2;
    two.clip_original = t.clip;
    two.null_ctx_original = t.null_ctx;
    lt_atk_models two_wrong = two; /* the old behaviour: robust for both */
    two_wrong.clip_original = NULL;
    two_wrong.null_ctx_original = NULL;
    lt_atk_method ms[2] = {LT_ATK_UNLEARNDIFF, LT_ATK_P4D};
    for (int k = 0; k < 2; k++) {
        float l1 = loss_after_run(&one, ms[k]);
        float ls = loss_after_run(&same, ms[k]);
        float l2 = loss_after_run(&two, ms[k]);
        float lw = loss_after_run(&two_wrong, ms[k]);
        const char *n = lt_atk_method_name(ms[k]);
        LT_CHECK(isfinite(l1) && l1 == ls, "%s: explicit same encoder "
                 "changed the loss: %g vs %g", n, l1, ls);
        /* the target (and P4D's reference) come through the original's
         * encoder: the loss differs from using the robust one for both */
        LT_CHECK(isfinite(l2) && isfinite(lw) && fabsf(l2 - lw) > 1e-6f *
                 fabsf(lw), "%s: the original encoder changed nothing "
                 "(%g vs %g)", n, l2, lw);
    }
    /* the original model's generation goes through its own encoder, the
     * attacked model's through the attacked one */
    float g1[3 * 64], g2[3 * 64];
    lt_dm_sample_config sc = tiny_cfg(LT_ATK_NONE).sample;
    LT_CHECK(lt_atk_generate(&two, &sc, t.orig, "bag .", 3, g1) == LT_OK &&
             lt_atk_generate(&one, &sc, t.orig, "bag .", 3, g2) == LT_OK &&
             !memcmp(g1, g2, sizeof g1), "original generation: not through "
             "the original encoder");
    LT_CHECK(lt_atk_generate(&two, &sc, t.u, "bag .", 3, g1) == LT_OK &&
             lt_atk_generate(&two_wrong, &sc, t.u, "bag .", 3, g2) == LT_OK &&
             !memcmp(g1, g2, sizeof g1) &&
             lt_atk_generate(&one, &sc, t.u, "bag .", 3, g2) == LT_OK &&
             memcmp(g1, g2, sizeof g1), "attacked generation: not through "
             "the attacked encoder");
    /* an original encoder of another shape is refused, naming it */
    lt_clip_config wide = t.clip->cfg;
    wide.width = 16;
    wide.embed_dim = 16;
    lt_clip *other = NULL;
    lt_atk *a = NULL;
    lt_atk_config cfg = tiny_cfg(LT_ATK_P4D);
    LT_CHECK(lt_clip_create(&wide, &other) == LT_OK, "%s", lt_last_error());
    two.clip_original = other;
    LT_CHECK(lt_atk_new(&two, &cfg, "bag .", 1, &a) == LT_ERR_ARG && !a &&
             strstr(lt_last_error(), "original encoder"), "wide original "
             "encoder: %s", lt_last_error());
    lt_clip_free(other);
    lt_clip_free(robust);
    tiny_free(&t);
}

/* ---- bad input ------------------------------------------------------------------------ */

LT_TEST(bad_input_is_a_clear_error)
{
    tiny t;
    if (!tiny_make(&t))
        return;
    lt_atk_config cfg = tiny_cfg(LT_ATK_UNLEARNDIFF);
    lt_atk *a = NULL;
    LT_CHECK(lt_atk_new(&t.m, &cfg, "an shoe image", 1, &a) == LT_ERR_ARG &&
             !a && strstr(lt_last_error(), "shoe"), "OOV: %s",
             lt_last_error());
    cfg.k = 3; /* 3 + 2 words + 2 > 6 */
    LT_CHECK(lt_atk_new(&t.m, &cfg, "bag .", 1, &a) == LT_ERR_ARG &&
             strstr(lt_last_error(), "exceed the context"), "k: %s",
             lt_last_error());
    cfg.k = 2;
    LT_CHECK(lt_atk_new(&t.m, &cfg, "bag .", 1, &a) == LT_OK, "%s",
             lt_last_error());
    lt_atk_result res;
    LT_CHECK(lt_atk_run(a, NULL, NULL, &res, NULL, NULL) == LT_ERR_ARG &&
             strstr(lt_last_error(), "detector"), "no detector: %s",
             lt_last_error());
    LT_CHECK(lt_atk_step(a, 10, NULL, NULL, NULL, NULL) == LT_ERR_ARG &&
             strstr(lt_last_error(), "no target"), "step without target");
    lt_atk_free(a);
    lt_atk_method m;
    LT_CHECK(lt_atk_method_parse("gcg", &m) == LT_ERR_ARG &&
             strstr(lt_last_error(), "gcg"), "unknown method accepted");
    lt_atk_models nm = t.m;
    nm.original = NULL;
    LT_CHECK(lt_atk_new(&nm, &cfg, "bag", 1, &a) == LT_ERR_ARG &&
             strstr(lt_last_error(), "original"), "no original model");
    lt_unet *cls = NULL;
    LT_CHECK(lt_unet_create("cond:xs", &cls) == LT_OK, "%s", lt_last_error());
    nm = t.m;
    nm.unlearned = cls;
    LT_CHECK(lt_atk_new(&nm, &cfg, "bag", 1, &a) == LT_ERR_ARG &&
             strstr(lt_last_error(), "not a text model"), "class model");
    lt_unet_free(cls);
    tiny_free(&t);
}

LT_TEST_MAIN()
