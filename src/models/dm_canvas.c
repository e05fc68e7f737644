/*
 * dm_canvas.c - FashionCanvas batches for the text encoder's contrastive
 * pretraining and for text-UNet training (lethe/dm_canvas.h): which
 * picture and caption each batch item gets, as a function of (seed, step,
 * item), and the scaling of pictures to [-1, 1].
 */
#include "lethe/dm_canvas.h"

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
