/*
 * test_dist_models.c - data-parallel training of the other model families
 * (docs/mpi.md): diffusion UNets (lt_dm_train and lt_dm_train_text with
 * cfg.dist), class-wise diffusion unlearning (lt_dmu_run: rl with a
 * mask, ga, esd), LLM unlearning (lt_llm_unlearn with cfg.dist) and UM2N
 * training (lt_um2n_train_epoch with the coordinate loss) on tiny models
 * built here.
 * In the plain build it runs as one rank, the shards computed in turn;
 * under `mpirun -n 2` (tests/mpi_check.sh) the shards are on two ranks.
 * Each case checks every step's loss and gradient norm (which would be
 * off by the shard count if the shards' means were summed instead of
 * weighted) and the final weights against single-process training within
 * the documented tolerance, and identical weights on every rank; LLM
 * unlearning also checks a batch smaller than the shard count (empty
 * shards) and the refusal of NPO on the batch's mean NLL; UM2N both
 * losses (the area + Chamfer loss's Chamfer term on the gathered cloud).
 */
#include "lethe/clip.h"
#include "lethe/diffusion.h"
#include "lethe/dm_sa.h"
#include "lethe/dm_unlearn.h"
#include "lethe/llm_unlearn.h"
#include "lethe/train.h"
#include "lethe/um2n.h"
#include "llama_test.h"
#include "lt_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Shards of a DP run: two per rank (one rank: two, in turn). */
static int shards(void) { return 2 * lt_dist_size(); }

#define MAX_STEPS 16

/* What a run reports per step (loss, gradient norm). */
typedef struct {
    int n;
    double loss[MAX_STEPS], norm[MAX_STEPS];
} trace;

/* One step's loss and gradient norm, appended to trace t (ud). */
static void trace_add(void *ud, double loss, double norm)
{
    trace *t = ud;
    if (t->n < MAX_STEPS) {
        t->loss[t->n] = loss;
        t->norm[t->n] = norm;
        t->n++;
    }
}

/* Every step of a and b agree within rel x max(1, |value|) (a loss that
 * is a difference of terms, graddiff's, can be near 0). */
static void check_traces(const char *what, const trace *a, const trace *b,
                         double rel)
{
    LT_CHECK(a->n == b->n && a->n > 0, "%s: %d and %d steps", what, a->n,
             b->n);
    for (int i = 0; i < a->n && i < b->n; i++) {
        double dl = fabs(a->loss[i] - b->loss[i]);
        double dn = fabs(a->norm[i] - b->norm[i]);
        LT_CHECK(dl <= rel * fmax(1, fabs(b->loss[i])) &&
                     dn <= rel * fmax(1, fabs(b->norm[i])),
                 "%s step %d: loss %.9g vs %.9g, gradient norm %.9g vs %.9g",
                 what, i + 1, a->loss[i], b->loss[i], a->norm[i],
                 b->norm[i]);
    }
}

/* The n floats at x are the same bits on every rank (rank 0's). */
static void check_same_on_ranks(const char *what, const float *x, int64_t n)
{
    size_t bytes = (size_t)n * sizeof(float);
    float *r0 = malloc(bytes);
    LT_CHECK(r0 != NULL, "memory");
    if (!r0)
        return;
    memcpy(r0, x, bytes);
    LT_CHECK(lt_dist_bcast(r0, bytes, 0) == LT_OK, "bcast");
    LT_CHECK(!memcmp(r0, x, bytes), "%s: rank %d's weights differ from rank "
             "0's", what, lt_dist_rank());
    free(r0);
}

/* Runs 1 (sum) and 2 (ordered) against run 0 (one process): every step's
 * loss and gradient norm and the weights w[k] (n floats) within 1e-5,
 * identical weights on every rank; run 0 moved the weights from init by
 * more than 1e-5. */
static void check_runs(const char *what, const trace t[3], float *const w[3],
                       const float *init, int64_t n)
{
    char a[96], b[96];
    snprintf(a, sizeof a, "%s sum", what);
    snprintf(b, sizeof b, "%s ordered", what);
    check_traces(a, &t[1], &t[0], 1e-5);
    check_traces(b, &t[2], &t[0], 1e-5);
    double moved = 0;
    for (int64_t i = 0; i < n; i++)
        moved = fmax(moved, fabs(w[0][i] - init[i]));
    LT_CHECK(moved > 1e-5, "%s moved the weights by %g", what, moved);
    LT_CHECK_REL_L2(a, w[1], w[0], n, 1e-5);
    LT_CHECK_REL_L2(b, w[2], w[0], n, 1e-5);
    check_same_on_ranks(a, w[1], n);
    check_same_on_ranks(b, w[2], n);
}

/* ---- diffusion training ---------------------------------------------------- */

#define DM_SPEC                                                             \
    "cond:xs,res=8,ch=8,groups=4,mult=1-2,blocks=1,attn=4,classes=3,"      \
    "dropout=0"
#define DM_N 24

static void dm_trace_fn(const lt_dm_train_event *e, void *ud)
{
    trace_add(ud, e->loss, e->grad_norm);
}

/* DM_N seeded 8 x 8 images of 3 classes (a stripe per class). */
static void dm_images(float *x, int32_t *y)
{
    lt_rng r;
    lt_rng_init(&r, 9);
    for (int i = 0; i < DM_N; i++) {
        y[i] = i % 3;
        for (int p = 0; p < 64; p++)
            x[i * 64 + p] = (p % 3 == y[i] ? 0.8f : -0.8f) +
                            0.1f * lt_rng_normal(&r);
    }
}

/* A UNet of DM_SPEC trained 5 steps of 8 on seeded images; its EMA
 * weights, or NULL. */
static lt_unet *dm_trained(lt_dist_mode dist, int sh, trace *tr)
{
    lt_unet *u = NULL;
    lt_dm_schedule s = {0};
    LT_CHECK(lt_unet_create(DM_SPEC, &u) == LT_OK, "%s", lt_last_error());
    LT_CHECK(lt_dm_schedule_make("linear", 100, &s) == LT_OK, "schedule");
    if (!u)
        return NULL;
    lt_unet_init(u, 5);
    float x[DM_N * 64];
    int32_t y[DM_N];
    dm_images(x, y);
    lt_dm_train_config c = lt_dm_train_defaults();
    c.steps = 5;
    c.batch = 8;
    c.lr = 1e-3f;
    c.ckpt_every = 100;
    c.dist = dist;
    c.shards = sh;
    char out[256], state[300];
    snprintf(out, sizeof out, "/tmp/lethe_test_dist_models_%d_%d.safetensors",
             (int)getpid(), lt_dist_rank());
    lt_dm_state_path(out, state, sizeof state);
    memset(tr, 0, sizeof *tr);
    lt_status st = lt_dm_train(u, &s, x, y, DM_N, &c, out, false, dm_trace_fn,
                               tr);
    LT_CHECK(st == LT_OK, "dm train: %s", lt_last_error());
    remove(out);
    remove(state);
    lt_dm_schedule_free(&s);
    if (st != LT_OK) {
        lt_unet_free(u);
        return NULL;
    }
    return u;
}

LT_TEST(dm_train_dp_within_tolerance)
{
    trace t0, t1, t2;
    lt_unet *u0 = dm_trained(LT_DIST_OFF, 0, &t0);
    lt_unet *u1 = dm_trained(LT_DIST_SUM, shards(), &t1);
    lt_unet *u2 = dm_trained(LT_DIST_ORDERED, shards(), &t2);
    if (u0 && u1 && u2) {
        int64_t n = u0->params.n_total;
        check_traces("dm sum", &t1, &t0, 1e-5);
        check_traces("dm ordered", &t2, &t0, 1e-5);
        LT_CHECK(t0.norm[0] > 1e-3, "a gradient (%g)", t0.norm[0]);
        LT_CHECK_REL_L2("dm sum", u1->params.theta, u0->params.theta, n,
                        1e-5);
        LT_CHECK_REL_L2("dm ordered", u2->params.theta, u0->params.theta, n,
                        1e-5);
        check_same_on_ranks("dm sum", u1->params.theta, n);
        check_same_on_ranks("dm ordered", u2->params.theta, n);
    }
    lt_unet_free(u0);
    lt_unet_free(u1);
    lt_unet_free(u2);
}

/* ---- class-wise diffusion unlearning ----------------------------------------- */

static void dmu_trace_fn(const lt_dmu_event *e, void *ud)
{
    trace_add(ud, e->loss, e->grad_norm);
}

/* A fresh DM_SPEC UNet (seed 5) unlearning class 1 of DM_N seeded
 * images: 3 steps of 8 in chunks of 3 (shards cut chunks); its weights
 * into w (n floats). */
static lt_status dmu_run(lt_dmu_loss k, const float *mask, lt_dist_mode dist,
                         int sh, trace *tr, float *w, int64_t n)
{
    lt_unet *u = NULL;
    lt_dm_schedule s = {0};
    lt_status st = lt_unet_create(DM_SPEC, &u);
    if (st == LT_OK)
        st = lt_dm_schedule_make("linear", 100, &s);
    float x[DM_N * 64];
    int32_t y[DM_N];
    dm_images(x, y);
    lt_dmu_config c = lt_dmu_defaults();
    c.loss = k;
    c.forget_class = 1;
    c.steps = 3;
    c.batch = 8;
    c.chunk = 3;
    c.lr = 1e-3f;
    c.dist = dist;
    c.shards = sh;
    memset(tr, 0, sizeof *tr);
    if (st == LT_OK) {
        lt_unet_init(u, 5);
        st = lt_dmu_run(u, &s, x, y, DM_N, &c, mask, dmu_trace_fn, tr);
    }
    if (st == LT_OK && u->params.n_total == n)
        memcpy(w, u->params.theta, (size_t)n * sizeof *w);
    lt_unet_free(u);
    lt_dm_schedule_free(&s);
    return st;
}

LT_TEST(dm_unlearn_dp_within_tolerance)
{
    lt_unet *probe = NULL;
    LT_CHECK(lt_unet_create(DM_SPEC, &probe) == LT_OK, "%s",
             lt_last_error());
    if (!probe)
        return;
    int64_t n = probe->params.n_total, nt = probe->params.n_train;
    lt_unet_init(probe, 5);
    float *w[3] = {malloc((size_t)n * sizeof(float)),
                   malloc((size_t)n * sizeof(float)),
                   malloc((size_t)n * sizeof(float))};
    float *mask = malloc((size_t)nt * sizeof *mask);
    for (int64_t i = 0; mask && i < nt; i++) /* a weight mask (salun's path) */
        mask[i] = (float)(i % 3 != 0);
    lt_dmu_loss ks[3] = {LT_DMU_RL, LT_DMU_GA, LT_DMU_ESD};
    const char *names[3] = {"dm unlearn rl+mask", "dm unlearn ga",
                            "dm unlearn esd"};
    lt_dist_mode modes[3] = {LT_DIST_OFF, LT_DIST_SUM, LT_DIST_ORDERED};
    for (int k = 0; k < 3 && w[0] && w[1] && w[2] && mask; k++) {
        const float *m = k == 0 ? mask : NULL;
        trace t[3];
        for (int r = 0; r < 3; r++)
            LT_CHECK(dmu_run(ks[k], m, modes[r], r ? shards() : 0, &t[r],
                             w[r], n) == LT_OK,
                     "%s run %d: %s", names[k], r, lt_last_error());
        LT_CHECK(t[0].n == 3 && t[0].norm[0] > 1e-4, "%s: %d steps, a "
                 "gradient (%g)", names[k], t[0].n, t[0].norm[0]);
        check_runs(names[k], t, w, probe->params.theta, n);
    }
    for (int r = 0; r < 3; r++)
        free(w[r]);
    free(mask);
    lt_unet_free(probe);
}

/* ---- Selective Amnesia ------------------------------------------------------------ */

static void sa_trace_fn(const lt_dmu_sa_event *e, void *ud)
{
    trace_add(ud, e->loss, e->grad_norm);
}

/* SA's replay set and Fisher for a fresh DM_SPEC UNet (seed 5): 3 samples
 * per class by DDIM-4 in batches of 2, the Fisher over 5 timesteps;
 * spread: each rank makes its share. */
static lt_status sa_prep(bool spread, lt_dmu_sa_data *d)
{
    lt_unet *u = NULL;
    lt_dm_schedule s = {0};
    lt_status st = lt_unet_create(DM_SPEC, &u);
    if (st == LT_OK)
        st = lt_dm_schedule_make("linear", 100, &s);
    lt_dmu_sa_prep_config p = lt_dmu_sa_prep_defaults();
    p.per_class = 3;
    p.sample.steps = 4;
    p.sample.batch = 2;
    p.fim_timesteps = 5;
    p.spread = spread;
    if (st == LT_OK) {
        lt_unet_init(u, 5);
        st = lt_dmu_sa_prepare(u, &s, &p, NULL, NULL, d);
    }
    lt_unet_free(u);
    lt_dm_schedule_free(&s);
    return st;
}

/* 4 SA steps of 6 (chunks of 4: shards cut them) forgetting class 1 with
 * d, from a fresh DM_SPEC UNet (seed 5); its weights into w (n floats). */
static lt_status sa_run(const lt_dmu_sa_data *d, lt_dist_mode dist, int sh,
                        trace *tr, float *w, int64_t n)
{
    lt_unet *u = NULL;
    lt_dm_schedule s = {0};
    lt_status st = lt_unet_create(DM_SPEC, &u);
    if (st == LT_OK)
        st = lt_dm_schedule_make("linear", 100, &s);
    lt_dmu_sa_config c = lt_dmu_sa_defaults();
    c.forget_class = 1;
    c.steps = 4;
    c.batch = 6;
    c.chunk = 4;
    c.lr = 1e-3f;
    c.ema = 0;
    c.dist = dist;
    c.shards = sh;
    memset(tr, 0, sizeof *tr);
    if (st == LT_OK) {
        lt_unet_init(u, 5);
        st = lt_dmu_sa_run(u, &s, d, &c, NULL, sa_trace_fn, tr);
    }
    if (st == LT_OK && u->params.n_total == n)
        memcpy(w, u->params.theta, (size_t)n * sizeof *w);
    lt_unet_free(u);
    lt_dm_schedule_free(&s);
    return st;
}

/* The spread preparation gives one process's replay set (the same bits)
 * and Fisher (up to the order of the sum); the SA loop on shards stays
 * within the tolerance of one process (EWC term, clipping and Adam after
 * the reduction). */
LT_TEST(dm_sa_dp_within_tolerance)
{
    lt_dmu_sa_data d0 = {0}, d1 = {0};
    LT_CHECK(sa_prep(false, &d0) == LT_OK && sa_prep(true, &d1) == LT_OK,
             "sa data: %s", lt_last_error());
    if (!d0.fisher || !d1.fisher)
        goto done;
    LT_CHECK(d0.n == 9 && d1.n == 9 && !memcmp(d0.y, d1.y, 9 * sizeof *d0.y)
                 && !memcmp(d0.x, d1.x, (size_t)(9 * d0.per) * sizeof *d0.x),
             "spread replay set differs");
    LT_CHECK_REL_L2("sa fisher spread", d1.fisher, d0.fisher, d0.n_train,
                    1e-6);
    int64_t n = 0;
    lt_unet *probe = NULL;
    if (lt_unet_create(DM_SPEC, &probe) == LT_OK)
        n = probe->params.n_total;
    lt_unet_init(probe, 5);
    float *w[3];
    trace t[3];
    lt_dist_mode modes[3] = {LT_DIST_OFF, LT_DIST_SUM, LT_DIST_ORDERED};
    for (int k = 0; k < 3; k++) {
        w[k] = malloc((size_t)n * sizeof(float));
        LT_CHECK(w[k] && sa_run(&d0, modes[k], k ? shards() : 0, &t[k],
                                w[k], n) == LT_OK,
                 "sa run %d: %s", k, lt_last_error());
    }
    if (w[0] && w[1] && w[2]) {
        LT_CHECK(t[0].n == 4, "%d steps", t[0].n);
        check_runs("sa", t, w, probe->params.theta, n);
    }
    for (int k = 0; k < 3; k++)
        free(w[k]);
    lt_unet_free(probe);
done:
    lt_dmu_sa_data_free(&d0);
    lt_dmu_sa_data_free(&d1);
}

/* A text UNet on contexts from a callback (the path of FashionCanvas
 * training): images and contexts of step k drawn from (seed, k). */
#define DMT_SPEC                                                            \
    "text:xs,res=8,ch=8,groups=4,mult=1-2,blocks=1,attn=4,ctx_dim=8,"      \
    "ctx_len=3"

static lt_status dmt_batch(void *ud, int64_t step, uint64_t seed, int B,
                           lt_dm_text_batch *out)
{
    (void)ud;
    lt_rng r;
    lt_rng_init(&r, lt_hash3(seed, 77, (uint64_t)step));
    lt_rng_fill_normal(&r, out->x0, (int64_t)B * 3 * 64, 0, 0.5f);
    lt_rng_fill_normal(&r, out->ctx, (int64_t)B * 3 * 8, 0, 1);
    out->have_ids = false;
    return LT_OK;
}

static lt_unet *dmt_trained(lt_dist_mode dist, int sh, trace *tr)
{
    lt_unet *u = NULL;
    lt_dm_schedule s = {0};
    LT_CHECK(lt_unet_create(DMT_SPEC, &u) == LT_OK, "%s", lt_last_error());
    LT_CHECK(lt_dm_schedule_make("linear", 100, &s) == LT_OK, "schedule");
    if (!u)
        return NULL;
    lt_unet_init(u, 6);
    float null_ctx[3 * 8] = {0};
    lt_dm_text_source src = {.batch = dmt_batch, .null_ctx = null_ctx};
    lt_dm_train_config c = lt_dm_train_defaults();
    c.steps = 4;
    c.batch = 8;
    c.lr = 1e-3f;
    c.ckpt_every = 100;
    c.dist = dist;
    c.shards = sh;
    char out[256], state[300];
    snprintf(out, sizeof out, "/tmp/lethe_test_dist_models_t%d_%d"
             ".safetensors", (int)getpid(), lt_dist_rank());
    lt_dm_state_path(out, state, sizeof state);
    memset(tr, 0, sizeof *tr);
    lt_status st = lt_dm_train_text(u, &s, &src, &c, out, false, dm_trace_fn,
                                    tr);
    LT_CHECK(st == LT_OK, "dm train text: %s", lt_last_error());
    remove(out);
    remove(state);
    lt_dm_schedule_free(&s);
    if (st != LT_OK) {
        lt_unet_free(u);
        return NULL;
    }
    return u;
}

LT_TEST(dm_train_text_dp_within_tolerance)
{
    trace t0, t1;
    lt_unet *u0 = dmt_trained(LT_DIST_OFF, 0, &t0);
    lt_unet *u1 = dmt_trained(LT_DIST_ORDERED, shards(), &t1);
    if (u0 && u1) {
        int64_t n = u0->params.n_total;
        check_traces("dm text", &t1, &t0, 1e-5);
        LT_CHECK(t0.norm[0] > 1e-3, "a gradient (%g)", t0.norm[0]);
        LT_CHECK_REL_L2("dm text", u1->params.theta, u0->params.theta, n,
                        1e-5);
        check_same_on_ranks("dm text", u1->params.theta, n);
    }
    lt_unet_free(u0);
    lt_unet_free(u1);
}

/* ---- LLM unlearning -------------------------------------------------------- */

static const char *const qs[8] = {
    "Where was Ada Vell born?", "What genre does Ada Vell write?",
    "Who was Bo Tarn's father?", "When was Bo Tarn born?",
    "What award did Cy Ornu win?", "Where does Cy Ornu live?",
    "What did Di Quell study?", "Which book did Di Quell write first?"};
static const char *const as[8] = {
    "Ada Vell was born in Lisbon, Portugal.", "She writes horror.",
    "His father was a baker.", "Bo Tarn was born on 3 May 1961.",
    "Cy Ornu won the Pale Lantern Prize in 1999.",
    "Cy Ornu lives in Oslo.", "Di Quell studied geology in Leeds.",
    "Her debut was \"The Salt Engine\"."};
#define NF 5 /* forget: records 0..4, retain: 5..7 */

typedef struct {
    lt_tokenizer *tok;
    lt_lm_data f, r;
    lt_llama *m;
    float *theta0;
} llm_fx;

static void llm_open(llm_fx *x)
{
    memset(x, 0, sizeof *x);
    lt_tofu_set all = {0}, fs = {0}, rs = {0};
    for (int i = 0; i < 8; i++) {
        lt_tofu_push(&all, qs[i], as[i], NULL, NULL, NULL, 0);
        lt_tofu_push(i < NF ? &fs : &rs, qs[i], as[i], NULL, NULL, NULL, 0);
    }
    const char *sp[] = {"<|endoftext|>"};
    lt_tokenizer_train_opts o = {300, 2, sp, 1};
    LT_CHECK(lt_lm_tokenizer_for_qa(&all, &o, &x->tok) == LT_OK &&
                 lt_lm_data_qa(x->tok, &fs, 0, &x->f) == LT_OK &&
                 lt_lm_data_qa(x->tok, &rs, 0, &x->r) == LT_OK,
             "data: %s", lt_last_error());
    x->m = llama_test_tiny(lt_tokenizer_vocab_size(x->tok), 2, 7);
    if (x->m) {
        size_t bytes = (size_t)x->m->params.n_total * sizeof(float);
        x->theta0 = malloc(bytes);
        if (x->theta0)
            memcpy(x->theta0, x->m->params.theta, bytes);
    }
    lt_tofu_free(&all);
    lt_tofu_free(&fs);
    lt_tofu_free(&rs);
}

static void llm_close(llm_fx *x)
{
    lt_llama_free(x->m);
    lt_lm_data_free(&x->f);
    lt_lm_data_free(&x->r);
    lt_tokenizer_free(x->tok);
    free(x->theta0);
}

static void llm_trace_fn(void *ud, const lt_llm_event *e)
{
    trace_add(ud, e->loss, e->grad_norm);
}

/* Unlearn x's forget set with method m from the initial weights (2
 * epochs of batches of 4 and 1); the weights into out[n_total]. */
static lt_status llm_run(llm_fx *x, lt_llm_method m, lt_dist_mode dist,
                         trace *tr, float *out)
{
    size_t bytes = (size_t)x->m->params.n_total * sizeof(float);
    memcpy(x->m->params.theta, x->theta0, bytes);
    lt_llm_unlearn_cfg c = lt_llm_unlearn_defaults(m);
    c.optim.lr = 1e-3f;
    c.epochs = 2;
    c.batch = 4;
    c.warmup = 0;
    c.pad_id = lt_lm_pad_id(x->tok);
    c.dist = dist;
    c.shards = dist == LT_DIST_OFF ? 0 : shards();
    c.progress = llm_trace_fn;
    c.ud = tr;
    memset(tr, 0, sizeof *tr);
    lt_status s = lt_llm_unlearn(x->m, &x->f, &x->r, &c, NULL);
    memcpy(out, x->m->params.theta, bytes);
    return s;
}

/* Token-mean terms with a retain part (graddiff), per-example means
 * against the reference (npo, simnpo) and the hidden-state MSE (rmu). */
LT_TEST(llm_unlearn_dp_within_tolerance)
{
    llm_fx x;
    llm_open(&x);
    if (!x.m || !x.theta0) {
        llm_close(&x);
        return;
    }
    int64_t n = x.m->params.n_total;
    float *w0 = malloc((size_t)n * sizeof *w0);
    float *w1 = malloc((size_t)n * sizeof *w1);
    float *w2 = malloc((size_t)n * sizeof *w2);
    lt_llm_method ms[4] = {LT_LLM_GRADDIFF, LT_LLM_NPO, LT_LLM_SIMNPO,
                           LT_LLM_RMU};
    for (int k = 0; k < 4 && w0 && w1 && w2; k++) {
        const char *name = lt_llm_method_name(ms[k]);
        trace t0, t1, t2;
        LT_CHECK(llm_run(&x, ms[k], LT_DIST_OFF, &t0, w0) == LT_OK &&
                     llm_run(&x, ms[k], LT_DIST_SUM, &t1, w1) == LT_OK &&
                     llm_run(&x, ms[k], LT_DIST_ORDERED, &t2, w2) == LT_OK,
                 "%s: %s", name, lt_last_error());
        LT_CHECK(t0.n == 4, "%s: %d steps (2 epochs of 4 + 1)", name, t0.n);
        check_traces(name, &t1, &t0, 1e-5);
        check_traces(name, &t2, &t0, 1e-5);
        double moved = 0;
        for (int64_t i = 0; i < n; i++)
            moved = fmax(moved, fabs(w0[i] - x.theta0[i]));
        LT_CHECK(moved > 1e-4, "%s moved the weights by %g", name, moved);
        LT_CHECK_REL_L2(name, w1, w0, n, 1e-5);
        LT_CHECK_REL_L2(name, w2, w0, n, 1e-5);
        check_same_on_ranks(name, w1, n);
        check_same_on_ranks(name, w2, n);
    }
    /* NPO on the batch's mean NLL is not a sum over examples */
    lt_llm_unlearn_cfg c = lt_llm_unlearn_defaults(LT_LLM_NPO);
    c.loss.npo_mean = true;
    c.dist = LT_DIST_SUM;
    c.pad_id = lt_lm_pad_id(x.tok);
    LT_CHECK(lt_llm_unlearn(x.m, &x.f, &x.r, &c, NULL) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "npo_nll mean"),
             "npo mean under data parallelism: %s", lt_last_error());
    free(w0);
    free(w1);
    free(w2);
    llm_close(&x);
}

/* ---- CLIP pretraining --------------------------------------------------------------- */

/* Batch index of 6 pairs: 8 x 8 images whose colour and caption come
 * from the pair's number (token ids given directly). */
static lt_status clipdp_batch(void *ud, int64_t index, uint64_t seed,
                              int64_t B, lt_clip_batch *out)
{
    (void)ud;
    for (int64_t i = 0; i < B; i++) {
        uint64_t item = (uint64_t)(index * B + i);
        int k = (int)(lt_hash3(seed, 0, item) % 4);
        lt_rng r;
        lt_rng_init(&r, lt_hash3(seed, 1, item));
        for (int p = 0; p < 3 * 64; p++)
            out->images[i * 192 + p] = (p / 64 == k % 3 ? 0.8f : -0.8f) +
                                       0.3f * lt_rng_normal(&r);
        int32_t ids[6] = {LT_CLIP_BOS, 3 + k, 7 + (k & 1), LT_CLIP_EOS, 0, 0};
        memcpy(out->ids + i * 6, ids, sizeof ids);
    }
    out->have_ids = true;
    return LT_OK;
}

static void clipdp_trace(void *ud, const lt_clip_event *e)
{
    trace_add(ud, e->loss, e->grad_norm);
}

/* A tiny CLIP (seed 7) pretrained 5 steps of 6 pairs; its weights into w
 * (n floats). */
static lt_status clipdp_run(lt_dist_mode dist, int sh, trace *tr, float *w,
                            int64_t n)
{
    lt_clip_config cfg = {.vocab_size = 12, .context_length = 6, .width = 16,
                          .layers = 1, .heads = 2, .mlp = 32,
                          .embed_dim = 8, .ln_eps = 1e-5f,
                          .vision_stages = 2, .vision_widths = {4, 8},
                          .vision_groups = 2, .gn_eps = 1e-5f};
    lt_clip *m = NULL;
    lt_status st = lt_clip_create(&cfg, &m);
    lt_clip_train_cfg c = lt_clip_train_defaults();
    c.steps = 5;
    c.batch = 6;
    c.image_h = c.image_w = 8;
    c.warmup = 1;
    c.batch_fn = clipdp_batch;
    c.progress = clipdp_trace;
    c.ud = tr;
    c.dist = dist;
    c.shards = sh;
    memset(tr, 0, sizeof *tr);
    if (st == LT_OK) {
        lt_clip_init(m, 7);
        st = lt_clip_pretrain(m, NULL, &c, NULL);
    }
    if (st == LT_OK && m->params.n_total == n)
        memcpy(w, m->params.theta, (size_t)n * sizeof *w);
    lt_clip_free(m);
    return st;
}

/* The InfoNCE loss on the gathered embeddings: sharded pretraining is
 * one process's up to rounding (loss, gradient norm, weights). */
LT_TEST(clip_pretrain_dp_within_tolerance)
{
    int64_t n = 0;
    lt_clip_config cfg = {.vocab_size = 12, .context_length = 6, .width = 16,
                          .layers = 1, .heads = 2, .mlp = 32,
                          .embed_dim = 8, .ln_eps = 1e-5f,
                          .vision_stages = 2, .vision_widths = {4, 8},
                          .vision_groups = 2, .gn_eps = 1e-5f};
    lt_clip *m = NULL;
    if (lt_clip_create(&cfg, &m) == LT_OK)
        n = m->params.n_total;
    lt_clip_init(m, 7);
    float *w[3];
    trace t[3];
    lt_dist_mode modes[3] = {LT_DIST_OFF, LT_DIST_SUM, LT_DIST_ORDERED};
    for (int k = 0; k < 3; k++) {
        w[k] = malloc((size_t)n * sizeof(float));
        LT_CHECK(w[k] && clipdp_run(modes[k], k ? shards() : 0, &t[k], w[k],
                                    n) == LT_OK,
                 "clip run %d: %s", k, lt_last_error());
    }
    if (m && w[0] && w[1] && w[2]) {
        LT_CHECK(t[0].n == 5 && t[0].norm[0] > 1e-4, "%d steps, |g| %g",
                 t[0].n, t[0].norm[0]);
        check_runs("clip", t, w, m->params.theta, n);
    }
    for (int k = 0; k < 3; k++)
        free(w[k]);
    lt_clip_free(m);
}

/* ---- UM2N training ---------------------------------------------------------- */

#define U2_N 7 /* samples: batches of 5 and 2 */

/* U2_N samples on a 4 x 4 square grid: features and MA-like targets
 * drawn from the sample's number. */
typedef struct {
    lt_mesh m;
    int32_t *faces, *src, *dst;
    int64_t ne;
    float *x, *feat, *target;
    lt_um2n_sample s[U2_N];
} u2_fx;

static bool u2_open(u2_fx *f)
{
    memset(f, 0, sizeof *f);
    LT_CHECK(lt_mesh_square_grid(&f->m, 4) == LT_OK, "%s", lt_last_error());
    int64_t nv = f->m.nv, nt = f->m.nt;
    f->faces = malloc((size_t)(3 * nt) * sizeof *f->faces);
    f->x = malloc((size_t)(U2_N * nv * 3) * sizeof *f->x);
    f->feat = malloc((size_t)(U2_N * nv * 3) * sizeof *f->feat);
    f->target = malloc((size_t)(U2_N * nv * 2) * sizeof *f->target);
    if (!f->faces || !f->x || !f->feat || !f->target)
        return false;
    for (int64_t i = 0; i < 3 * nt; i++)
        f->faces[i] = f->m.tri[i];
    LT_CHECK(lt_um2n_edges(f->faces, nt, nv, &f->src, &f->dst, &f->ne) ==
             LT_OK, "%s", lt_last_error());
    for (int k = 0; k < U2_N; k++)
        for (int64_t v = 0; v < nv; v++) {
            double px = f->m.xy[2 * v], py = f->m.xy[2 * v + 1];
            bool edge = px < 1e-9 || py < 1e-9 || px > 1 - 1e-9 ||
                        py > 1 - 1e-9;
            float *x = f->x + (k * nv + v) * 3, *ft = f->feat + (k * nv + v) * 3;
            float *y = f->target + (k * nv + v) * 2;
            x[0] = ft[0] = (float)px;
            x[1] = ft[1] = (float)py;
            x[2] = edge;
            ft[2] = (float)(0.5 + 0.5 * sin(3 * px + k) * cos(2 * py - k));
            y[0] = (float)(px + (edge ? 0 : 0.03 * sin(5 * py + k)));
            y[1] = (float)(py + (edge ? 0 : 0.03 * cos(4 * px - k)));
        }
    for (int k = 0; k < U2_N; k++)
        f->s[k] = (lt_um2n_sample){nv, f->x + k * nv * 3,
                                   f->feat + k * nv * 3,
                                   f->target + k * nv * 2, f->faces, nt,
                                   f->src, f->dst, f->ne};
    return f->src != NULL;
}

static void u2_close(u2_fx *f)
{
    lt_mesh_free(&f->m);
    free(f->faces);
    free(f->src);
    free(f->dst);
    free(f->x);
    free(f->feat);
    free(f->target);
}

/* A tiny UM2N (dropout off) trained 2 epochs with the loss given;
 * its epochs' mean losses into tr, its weights into w (n floats). */
static lt_status u2_run(const u2_fx *f, lt_dist_mode dist, int sh,
                        lt_um2n_loss_kind loss, trace *tr, float *w,
                        int64_t n)
{
    lt_um2n net = {0};
    lt_um2n_trainer t;
    lt_ctx *c = lt_ctx_new((size_t)256 << 20);
    lt_status st = c ? lt_um2n_init(&net, 3) : LT_ERR_NOMEM;
    if (st == LT_OK)
        st = lt_um2n_trainer_init(&t, &net, 3);
    net.dropout = 0;
    memset(tr, 0, sizeof *tr);
    if (st == LT_OK) {
        t.loss = loss;
        t.dist = dist;
        t.shards = sh;
        for (int e = 0; st == LT_OK && e < 2; e++, tr->n++)
            st = lt_um2n_train_epoch(c, &t, f->s, U2_N, &tr->loss[e]);
        lt_um2n_trainer_free(&t);
    }
    if (st == LT_OK && net.params.n_total == n)
        memcpy(w, net.params.theta, (size_t)n * sizeof *w);
    lt_um2n_free(&net);
    lt_ctx_free(c);
    return st;
}

LT_TEST(um2n_train_dp_within_tolerance)
{
    u2_fx f;
    lt_um2n probe = {0};
    bool ok = u2_open(&f) && lt_um2n_init(&probe, 3) == LT_OK;
    int64_t n = probe.params.n_total;
    float *w[3], *w_init = NULL;
    for (int k = 0; k < 3; k++)
        w[k] = ok ? malloc((size_t)n * sizeof(float)) : NULL;
    if (ok && (w_init = malloc((size_t)n * sizeof(float))))
        memcpy(w_init, probe.params.theta, (size_t)n * sizeof(float));
    lt_um2n_free(&probe);
    if (!w[0] || !w[1] || !w[2] || !w_init) {
        LT_CHECK(false, "fixture: %s", lt_last_error());
        goto done;
    }
    trace t[3];
    lt_dist_mode modes[3] = {LT_DIST_OFF, LT_DIST_SUM, LT_DIST_ORDERED};
    for (int k = 0; k < 3; k++)
        LT_CHECK(u2_run(&f, modes[k], k ? shards() : 0, LT_UM2N_LOSS_COORD,
                        &t[k], w[k], n) == LT_OK,
                 "um2n run %d: %s", k, lt_last_error());
    check_runs("um2n", t, w, w_init, n);
    /* the area + Chamfer loss: its Chamfer term is taken on the gathered
     * cloud of the whole batch, so sharded training is one process's */
    for (int k = 0; k < 3; k++)
        LT_CHECK(u2_run(&f, modes[k], k ? shards() : 0,
                        LT_UM2N_LOSS_AREA_CHAMFER, &t[k], w[k], n) == LT_OK,
                 "um2n area-chamfer run %d: %s", k, lt_last_error());
    check_runs("um2n area-chamfer", t, w, w_init, n);
done:
    for (int k = 0; k < 3; k++)
        free(w[k]);
    free(w_init);
    u2_close(&f);
}

int main(int argc, char **argv)
{
    if (lt_dist_init(&argc, &argv) != LT_OK) {
        fprintf(stderr, "test_dist_models: %s\n", lt_last_error());
        return 1;
    }
    int rc = lt_test_run_all(argc, argv);
    if (rc && lt_dist_size() > 1)
        lt_dist_abort(rc);
    lt_dist_finalize();
    return rc;
}
