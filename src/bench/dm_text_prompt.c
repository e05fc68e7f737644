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
#include "lethe/dm_canvas_unlearn.h"

#include "dm_accept.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PC_STEPS LT_BENCH_PROMPT_STEPS
#define PC_PIXELS (3 * LT_CANVAS_SIDE * LT_CANVAS_SIDE)
#define NS LT_CANVAS_STYLES
#define NO LT_CANVAS_OBJECTS
#define NP (NS * NO)

typedef struct {
    lt_unet *u;
    const lt_dm_schedule *s;
    int L, D;
    float *pairs; /* [NP, L, D]: every pair's canonical prompt, pair-major */
    float *null_ctx; /* [L, D]: the empty caption */
    float *ctx;   /* [NS + 1, L, D]: a picture's candidates, then empty */
    float *xt;    /* [NS + 1, 3, 32, 32]: the noised picture, repeated */
    lt_ctx *c;
} prompt_check;

/* The contexts [NP, L, D] of every (style, object) pair's canonical prompt,
 * pair p = style * NO + object, and the empty caption's [L, D], each
 * encoded once (dm_accept.h). */
lt_status lt_bench_canvas_pair_contexts(lt_clip *clip, const lt_clip_vocab *v,
                                        float *pairs, float *null_ctx)
{
    char (*text)[LT_CANVAS_CAPTION_MAX] = malloc(NP * sizeof *text);
    const char *texts[NP];
    lt_status st = text ? LT_OK : lt_set_error(LT_ERR_NOMEM, "canvas "
                                               "prompts: out of memory");
    for (int q = 0; st == LT_OK && q < NP; q++) {
        texts[q] = text[q];
        st = lt_canvas_prompt(q % NO, q / NO, false, 0, 0, text[q],
                              sizeof text[q]);
    }
    if (st == LT_OK)
        st = lt_canvas_contexts(clip, v, texts, NP, pairs);
    free(text);
    return st == LT_OK ? lt_dm_empty_context(clip, null_ctx) : st;
}

/* A picture's candidate contexts into p->ctx: the pairs (every style,
 * object) on the style axis, (style, every object) on the object axis,
 * then the empty caption. */
static void candidate_contexts(prompt_check *p, int axis, int object,
                               int style, int n_cand)
{
    const int64_t LD = (int64_t)p->L * p->D;
    for (int j = 0; j < n_cand; j++) {
        int pair = axis ? style * NO + j : j * NO + object;
        memcpy(p->ctx + j * LD, p->pairs + pair * LD,
               (size_t)LD * sizeof(float));
    }
    memcpy(p->ctx + n_cand * LD, p->null_ctx, (size_t)LD * sizeof(float));
}

/* err[k][j] = the denoising error of candidate j (n_cand + 1 rows, the
 * last the empty caption) at timestep k on picture x0 [3, 32, 32] in
 * [-1, 1]. */
static lt_status picture_errors(prompt_check *p, const float *x0, int n_cand,
                                uint64_t seed,
                                double err[][LT_CANVAS_STYLES + 1])
{
    const int n = n_cand + 1;
    float *xt = p->xt, e[PC_PIXELS], t[LT_CANVAS_STYLES + 1];
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
            candidate_contexts(p, axis, object, style, n_cls);
            st = picture_errors(p, x0, n_cls, lt_hash3(seed, 72, (uint64_t)i),
                                err);
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
    if (u->cfg.kind != LT_UNET_TEXT)
        return lt_set_error(LT_ERR_ARG, "prompt check: needs a text model");
    prompt_check p = {.u = u, .s = s, .L = clip->cfg.context_length,
                      .D = clip->cfg.width};
    const int n = NS + 1;
    const int64_t LD = (int64_t)p.L * p.D;
    int64_t *idx = malloc(NP * sizeof *idx);
    p.pairs = malloc((size_t)(NP * LD) * sizeof *p.pairs);
    p.null_ctx = malloc((size_t)LD * sizeof *p.null_ctx);
    p.ctx = malloc((size_t)(n * LD) * sizeof *p.ctx);
    p.xt = malloc((size_t)n * PC_PIXELS * sizeof *p.xt);
    p.c = lt_ctx_new(lt_unet_arena_bytes(u, n, false));
    lt_status st = idx && p.pairs && p.null_ctx && p.ctx && p.xt && p.c
                       ? lt_canvas_pair_subset(te, 1, seed, idx)
                       : lt_set_error(LT_ERR_NOMEM, "prompt check: out of "
                                      "memory");
    if (st == LT_OK)
        st = lt_bench_canvas_pair_contexts(clip, v, p.pairs, p.null_ctx);
    for (int axis = 0; st == LT_OK && axis < 2; axis++)
        st = check_axis(&p, te, idx, axis, k, seed,
                        axis ? &out->object : &out->style);
    lt_ctx_free(p.c);
    free(p.pairs);
    free(p.null_ctx);
    free(p.ctx);
    free(p.xt);
    free(idx);
    return st;
}
