/*
 * dm_text_prompt.c - does a text-conditioned diffusion model listen to its
 * prompt? (lt_bench_dm_text_prompt_check, lethe/bench.h). The model is used
 * as a diffusion classifier on real FashionCanvas test pictures, without
 * sampling anything: each picture is noised at the timesteps
 * (2k + 1) T / 10, k = 0..4, with one noise per (picture, timestep) shared
 * by every candidate prompt, and the candidate whose summed denoising error
 * sum_k ||e_k - eps(x_t_k | prompt)||^2 is lowest is the model's answer
 * (and, per timestep, the one with the lowest error at that timestep).
 *   - style axis: k pictures of every style (objects rotating), candidates
 *     the canonical prompts of the picture's object in each of the styles;
 *   - object axis: k pictures of every object (styles rotating), candidates
 *     the picture's style with each of the objects.
 * Alongside, the error reduction of the true prompt over the empty caption,
 * (L(empty) - L(true)) / L(empty). A model that ignores its context scores
 * chance on both axes and a reduction of 0.
 */
#include "lethe/bench.h"
#include "lethe/canvas.h"
#include "lethe/clip.h"
#include "lethe/diffusion.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PC_STEPS LT_BENCH_PROMPT_STEPS
#define PC_PIXELS (3 * LT_CANVAS_SIDE * LT_CANVAS_SIDE)

typedef struct {
    lt_unet *u;
    const lt_dm_schedule *s;
    lt_clip *clip;
    const lt_clip_vocab *v;
    int L, D;
    float *ctx;   /* [NS + 1, L, D]: the candidates' contexts, then empty */
    lt_ctx *c;
} prompt_check;

/* Contexts of the canonical prompts of (object, style) for every
 * candidate of the axis (style axis: every style; object axis: every
 * object), then the empty caption's. */
static lt_status candidate_contexts(prompt_check *p, int axis, int object,
                                    int style, int n_cand)
{
    int32_t ids[(LT_CANVAS_STYLES + 1) * 64];
    char buf[LT_CANVAS_CAPTION_MAX];
    lt_status st = LT_OK;
    for (int j = 0; st == LT_OK && j < n_cand; j++) {
        st = lt_canvas_prompt(axis ? j : object, axis ? style : j, false, 0, 0,
                              buf, sizeof buf);
        if (st == LT_OK)
            st = lt_clip_tokenize(p->v, buf, p->L, ids + j * p->L, NULL, NULL);
    }
    if (st != LT_OK)
        return st;
    lt_ctx_reset(p->c);
    lt_set_grad_enabled(p->c, false);
    lt_tensor *h = lt_clip_text_encode(p->c, p->clip, ids, n_cand);
    if (!h)
        return lt_last_status();
    memcpy(p->ctx, h->data, (size_t)n_cand * p->L * p->D * sizeof(float));
    return lt_dm_empty_context(p->clip, p->ctx + (int64_t)n_cand * p->L * p->D);
}

/* err[k][j] = the denoising error of candidate j (n_cand + 1 rows, the
 * last the empty caption) at timestep k on picture x0 [3, 32, 32] in
 * [-1, 1]. */
static lt_status picture_errors(prompt_check *p, const float *x0, int n_cand,
                                uint64_t seed,
                                double err[][LT_CANVAS_STYLES + 1])
{
    const int n = n_cand + 1;
    float *xt = malloc((size_t)n * PC_PIXELS * sizeof *xt);
    float e[PC_PIXELS], t[LT_CANVAS_STYLES + 1];
    if (!xt)
        return lt_set_error(LT_ERR_NOMEM, "prompt check: out of memory");
    lt_status st = LT_OK;
    for (int k = 0; st == LT_OK && k < PC_STEPS; k++) {
        int ti = lt_bench_prompt_timestep(p->s->T, k);
        double a = p->s->abar[ti];
        lt_rng r;
        lt_rng_init(&r, lt_hash3(seed, 71, (uint64_t)k));
        lt_rng_fill_normal(&r, e, PC_PIXELS, 0, 1);
        for (int q = 0; q < PC_PIXELS; q++)
            xt[q] = (float)(sqrt(a) * x0[q] + sqrt(1 - a) * e[q]);
        for (int j = 1; j < n; j++)
            memcpy(xt + (int64_t)j * PC_PIXELS, xt, PC_PIXELS * sizeof *xt);
        for (int j = 0; j < n; j++)
            t[j] = (float)ti;
        lt_ctx_reset(p->c);
        lt_set_grad_enabled(p->c, false);
        lt_tensor *X = lt_from_data(p->c, 4, (int64_t[]){n, 3, LT_CANVAS_SIDE,
                                                         LT_CANVAS_SIDE}, xt);
        lt_tensor *C = X ? lt_from_data(p->c, 3, (int64_t[]){n, p->L, p->D},
                                        p->ctx)
                         : NULL;
        lt_tensor *eps = C ? lt_unet_forward_text(p->c, p->u, X, t, C, false)
                           : NULL;
        if (!eps) {
            st = lt_last_status();
            break;
        }
        for (int j = 0; j < n; j++) {
            double s2 = 0;
            for (int q = 0; q < PC_PIXELS; q++) {
                double d = e[q] - eps->data[(int64_t)j * PC_PIXELS + q];
                s2 += d * d;
            }
            err[k][j] = s2;
        }
    }
    free(xt);
    return st;
}

int lt_bench_prompt_timestep(int T, int k)
{
    return (2 * k + 1) * T / (2 * LT_BENCH_PROMPT_STEPS);
}

/* Score one picture of class cls from its errors: into out (all
 * timesteps) and out->by_t[k]; the sums are turned into means by
 * finish_axis. */
static void score_picture(double err[][LT_CANVAS_STYLES + 1], int n_cls,
                          int cls, lt_bench_prompt_axis *out)
{
    double sum[LT_CANVAS_STYLES + 1] = {0};
    for (int k = 0; k <= PC_STEPS; k++) {
        const double *e = k < PC_STEPS ? err[k] : sum;
        lt_bench_prompt_score *sc = k < PC_STEPS ? &out->by_t[k] : &out->all;
        int best = 0;
        for (int q = 1; q < n_cls; q++)
            best = e[q] < e[best] ? q : best;
        sc->accuracy += best == cls;
        sc->gain += (e[n_cls] - e[cls]) / e[n_cls];
        for (int q = 0; k < PC_STEPS && q <= n_cls; q++)
            sum[q] += e[q];
    }
}

static void finish_axis(lt_bench_prompt_axis *a)
{
    for (int k = 0; k <= PC_STEPS; k++) {
        lt_bench_prompt_score *sc = k < PC_STEPS ? &a->by_t[k] : &a->all;
        sc->accuracy = a->pictures ? 100.0 * sc->accuracy / a->pictures : NAN;
        sc->gain = a->pictures ? 100.0 * sc->gain / a->pictures : NAN;
    }
    a->chance = 100.0 / a->candidates;
}

/* One axis: k pictures per class from the pair subset idx (one picture per
 * pair, pair = style * NO + object). */
static lt_status check_axis(prompt_check *p, const lt_canvas *te,
                            const int64_t *idx, int axis, int k,
                            uint64_t seed, lt_bench_prompt_axis *out)
{
    const int NS = LT_CANVAS_STYLES, NO = LT_CANVAS_OBJECTS;
    const int n_cls = axis ? NO : NS;
    float x0[PC_PIXELS];
    lt_status st = LT_OK;
    *out = (lt_bench_prompt_axis){.candidates = n_cls};
    for (int cls = 0; st == LT_OK && cls < n_cls; cls++)
        for (int j = 0; st == LT_OK && j < k; j++) {
            int style = axis ? (cls + j * NO) % NS : cls;
            int object = axis ? cls : (cls + j) % NO;
            int64_t i = idx[style * NO + object];
            for (int q = 0; q < PC_PIXELS; q++)
                x0[q] = 2 * te->x[i * PC_PIXELS + q] - 1;
            double err[PC_STEPS][LT_CANVAS_STYLES + 1];
            st = candidate_contexts(p, axis, object, style, n_cls);
            if (st == LT_OK)
                st = picture_errors(p, x0, n_cls,
                                    lt_hash3(seed, 72, (uint64_t)i), err);
            if (st == LT_OK) {
                score_picture(err, n_cls, cls, out);
                out->pictures++;
            }
        }
    finish_axis(out);
    return st;
}

lt_status lt_bench_dm_text_prompt_check(lt_unet *u, const lt_dm_schedule *s,
                                        lt_clip *clip, const lt_clip_vocab *v,
                                        const lt_canvas *te, int k,
                                        uint64_t seed,
                                        lt_bench_prompt_check *out)
{
    if (!u || !s || !clip || !v || !te || !out || k < 1 ||
        k > LT_CANVAS_OBJECTS)
        return lt_set_error(LT_ERR_ARG, "prompt check: NULL input or %d "
                            "pictures per class outside [1, %d]", k,
                            LT_CANVAS_OBJECTS);
    if (u->cfg.kind != LT_UNET_TEXT || clip->cfg.context_length > 64)
        return lt_set_error(LT_ERR_ARG, "prompt check: needs a text model "
                            "and a context of at most 64 tokens");
    prompt_check p = {.u = u, .s = s, .clip = clip, .v = v,
                      .L = clip->cfg.context_length, .D = clip->cfg.width};
    const int n = LT_CANVAS_STYLES + 1;
    size_t bytes = lt_unet_arena_bytes(u, n, false) +
                   lt_clip_arena_bytes(&clip->cfg, n, 32, 32, false);
    int64_t *idx = malloc(LT_CANVAS_STYLES * LT_CANVAS_OBJECTS * sizeof *idx);
    p.ctx = malloc((size_t)n * p.L * p.D * sizeof *p.ctx);
    p.c = lt_ctx_new(bytes);
    lt_status st = idx && p.ctx && p.c
                       ? lt_canvas_pair_subset(te, 1, seed, idx)
                       : lt_set_error(LT_ERR_NOMEM, "prompt check: out of "
                                      "memory");
    for (int axis = 0; st == LT_OK && axis < 2; axis++)
        st = check_axis(&p, te, idx, axis, k, seed,
                        axis ? &out->object : &out->style);
    lt_ctx_free(p.c);
    free(p.ctx);
    free(idx);
    return st;
}
