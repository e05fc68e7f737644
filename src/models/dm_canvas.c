/*
 * dm_canvas.c - FashionCanvas batches for the text encoder's contrastive
 * pretraining and for text-UNet training (lethe/dm_canvas.h): which
 * picture and caption each batch item gets, as a function of (seed, step,
 * item), and the scaling of pictures to [-1, 1].
 */
#include "lethe/dm_canvas.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

lt_status lt_canvas_clip_vocab(lt_clip_vocab **out)
{
    int n = 0;
    const char *const *words = lt_canvas_vocab(&n);
    return lt_clip_vocab_new(words, n, out);
}

typedef struct {
    const lt_canvas *cv;
    const lt_clip_vocab *v;
    int L;
    char (*caps)[LT_CANVAS_CAPTION_MAX];
    int64_t cap_n;
} canvas_src;

/* Picture of item i of step k, its pixels into x (3x32x32 in [-1, 1]) and
 * its caption into buf. */
static lt_status pick(const canvas_src *s, uint64_t seed, int64_t k,
                      int64_t i, float *x, char *buf)
{
    const lt_canvas *cv = s->cv;
    uint64_t h = lt_hash3(seed, 31, (uint64_t)k * 1000003u + (uint64_t)i);
    int64_t j = (int64_t)(h % (uint64_t)cv->n);
    const int64_t per = 3 * 32 * 32;
    for (int64_t p = 0; p < per; p++)
        x[p] = 2 * cv->x[j * per + p] - 1;
    return lt_canvas_caption(cv, j, lt_hash3(seed, 32, h), buf,
                             LT_CANVAS_CAPTION_MAX);
}

static lt_status grow(canvas_src *s, int64_t B)
{
    if (B <= s->cap_n)
        return LT_OK;
    void *p = realloc(s->caps, (size_t)B * sizeof *s->caps);
    if (!p)
        return lt_set_error(LT_ERR_NOMEM, "canvas batch: out of memory");
    s->caps = p;
    s->cap_n = B;
    return LT_OK;
}

static lt_status clip_batch(void *ud, int64_t index, uint64_t seed,
                            int64_t B, lt_clip_batch *out)
{
    canvas_src *s = ud;
    if (grow(s, B) != LT_OK)
        return lt_last_status();
    for (int64_t i = 0; i < B; i++) {
        if (pick(s, seed, index, i, out->images + i * 3 * 32 * 32,
                 s->caps[i]) != LT_OK)
            return lt_last_status();
        out->captions[i] = s->caps[i];
    }
    out->have_ids = false;
    return LT_OK;
}

lt_status lt_canvas_clip_pretrain(lt_clip *m, const lt_clip_vocab *v,
                                  const lt_canvas *cv, lt_clip_train_cfg *cfg,
                                  lt_clip_report *rep)
{
    if (!m || !v || !cv || !cfg || cv->n < 1)
        return lt_set_error(LT_ERR_ARG, "canvas clip: NULL or empty input");
    canvas_src s = {.cv = cv, .v = v};
    cfg->batch_fn = clip_batch;
    cfg->batch_ud = &s;
    cfg->image_h = cfg->image_w = 32;
    lt_status st = lt_clip_pretrain(m, v, cfg, rep);
    free(s.caps);
    return st;
}

static lt_status dm_batch(void *ud, int64_t step, uint64_t seed, int B,
                          lt_dm_text_batch *out)
{
    canvas_src *s = ud;
    char buf[LT_CANVAS_CAPTION_MAX];
    for (int i = 0; i < B; i++) {
        if (pick(s, seed, step, i, out->x0 + (int64_t)i * 3 * 32 * 32, buf) !=
                LT_OK ||
            lt_clip_tokenize(s->v, buf, s->L, out->ids + (int64_t)i * s->L,
                             NULL, NULL) != LT_OK)
            return lt_last_status();
    }
    out->have_ids = true;
    return LT_OK;
}

lt_status lt_canvas_dm_train(lt_unet *u, const lt_dm_schedule *s,
                             lt_clip *clip, const lt_clip_vocab *v,
                             const lt_canvas *cv,
                             const lt_dm_train_config *cfg, const char *out,
                             bool resume, lt_dm_train_fn cb, void *ud)
{
    if (!u || !clip || !v || !cv || cv->n < 1)
        return lt_set_error(LT_ERR_ARG, "canvas dm: NULL or empty input");
    canvas_src src = {.cv = cv, .v = v, .L = u->cfg.ctx_len};
    lt_dm_text_source ts = {.batch = dm_batch, .ud = &src, .clip = clip};
    return lt_dm_train_text(u, s, &ts, cfg, out, resume, cb, ud);
}

/* ---- zero-shot accuracy ----------------------------------------------------- */

/* L2-normalise the n rows of x [n, d] in place. */
static void normalise_rows(float *x, int64_t n, int64_t d)
{
    for (int64_t i = 0; i < n; i++) {
        double ss = 0;
        for (int64_t j = 0; j < d; j++)
            ss += (double)x[i * d + j] * x[i * d + j];
        float k = ss > 0 ? (float)(1 / sqrt(ss)) : 0;
        for (int64_t j = 0; j < d; j++)
            x[i * d + j] *= k;
    }
}

/* Normalised text embeddings [K, P] of the canonical prompts of every
 * (object, style) pair, pair k = object * styles + style. */
static lt_status prompt_embeds(lt_clip *m, const lt_clip_vocab *v,
                               lt_ctx *c, int K, float *out)
{
    int L = m->cfg.context_length, styles = K / LT_CANVAS_OBJECTS;
    int32_t *ids = lt_alloc(c, (size_t)K * L * sizeof *ids);
    int32_t *eos = lt_alloc(c, (size_t)K * sizeof *eos);
    char buf[LT_CANVAS_CAPTION_MAX];
    if (!ids || !eos)
        return lt_last_status();
    for (int k = 0; k < K; k++)
        if (lt_canvas_prompt(k / styles, k % styles, false, 0, 0, buf,
                             sizeof buf) != LT_OK ||
            lt_clip_tokenize(v, buf, L, ids + (int64_t)k * L, NULL, NULL) !=
                LT_OK)
            return lt_last_status();
    if (lt_clip_eos_positions(ids, K, L, eos) != LT_OK)
        return lt_last_status();
    lt_tensor *t = lt_clip_text_project(c, m, lt_clip_text_encode(c, m, ids,
                                                                   K), eos);
    if (!t)
        return lt_last_status();
    memcpy(out, t->data, (size_t)t->numel * sizeof *out);
    normalise_rows(out, K, t->shape[1]);
    return LT_OK;
}

/* Count right objects / styles / both of pictures [i0, i0 + nb). */
static lt_status zeroshot_batch(lt_clip *m, const lt_canvas *cv, lt_ctx *c,
                                const float *txt, int K, int64_t i0,
                                int64_t nb, int64_t *hits)
{
    const int64_t per = 3 * 32 * 32;
    int styles = K / LT_CANVAS_OBJECTS;
    lt_tensor *x = lt_new4(c, nb, 3, 32, 32);
    if (!x)
        return lt_last_status();
    for (int64_t p = 0; p < nb * per; p++)
        x->data[p] = 2 * cv->x[i0 * per + p] - 1;
    lt_tensor *e = lt_clip_image_embeds(c, m, x);
    if (!e)
        return lt_last_status();
    int64_t P = e->shape[1];
    normalise_rows(e->data, nb, P);
    for (int64_t i = 0; i < nb; i++) {
        int best = 0;
        double bs = -2;
        for (int k = 0; k < K; k++) {
            double sdot = 0;
            for (int64_t j = 0; j < P; j++)
                sdot += (double)e->data[i * P + j] * txt[(int64_t)k * P + j];
            if (sdot > bs) {
                bs = sdot;
                best = k;
            }
        }
        bool ob = best / styles == cv->object[i0 + i];
        bool st = best % styles == cv->style[i0 + i];
        hits[0] += ob;
        hits[1] += st;
        hits[2] += ob && st;
    }
    return LT_OK;
}

lt_status lt_canvas_clip_zeroshot(lt_clip *m, const lt_clip_vocab *v,
                                  const lt_canvas *cv, double *object_acc,
                                  double *style_acc, double *both_acc)
{
    if (!m || !v || !cv || cv->n < 1)
        return lt_set_error(LT_ERR_ARG, "canvas zero-shot: NULL or empty "
                            "input");
    int K = LT_CANVAS_OBJECTS * LT_CANVAS_STYLES, B = 128;
    /* the text pass of K prompts and the image passes share one arena */
    lt_ctx *c = lt_ctx_new(2 * lt_clip_arena_bytes(&m->cfg, K, 32, 32,
                                                   false));
    float *txt = malloc((size_t)K * m->cfg.embed_dim * sizeof *txt);
    int64_t hits[3] = {0, 0, 0};
    lt_status s = c && txt ? LT_OK : lt_set_error(LT_ERR_NOMEM, "canvas "
                                                  "zero-shot: out of memory");
    if (s == LT_OK) {
        lt_set_grad_enabled(c, false);
        s = prompt_embeds(m, v, c, K, txt);
    }
    for (int64_t i0 = 0; s == LT_OK && i0 < cv->n; i0 += B) {
        lt_ctx_reset(c);
        s = zeroshot_batch(m, cv, c, txt, K, i0,
                           cv->n - i0 < B ? cv->n - i0 : B, hits);
    }
    if (s == LT_OK) {
        *object_acc = 100.0 * (double)hits[0] / (double)cv->n;
        *style_acc = 100.0 * (double)hits[1] / (double)cv->n;
        *both_acc = 100.0 * (double)hits[2] / (double)cv->n;
    }
    free(txt);
    lt_ctx_free(c);
    return s;
}
