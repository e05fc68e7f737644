/*
 * dm_canvas_unlearn.c - FashionCanvas data for unlearning a text-
 * conditioned UNet (lethe/dm_canvas_unlearn.h): the target's name, the
 * prompts' contexts by the frozen text encoder, SalUn's forget / remain
 * (Photo) / mask-prompt sets as UnlearnCanvas' generate_dataset.py and
 * generate_mask.py list them, FMN's set of every picture of the target,
 * and 0/1 weight masks as safetensors files.
 */
#include "lethe/dm_canvas_unlearn.h"
#include "lethe/safetensors.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PIX (3 * LT_CANVAS_SIDE * LT_CANVAS_SIDE)

lt_status lt_canvas_target_parse(const char *spec, bool *is_style, int *index)
{
    const char *name = NULL;
    if (spec && !strncmp(spec, "style:", 6)) {
        *is_style = true;
        name = spec + 6;
        *index = *name ? lt_canvas_style_find(name) : -1;
    } else if (spec && !strncmp(spec, "object:", 7)) {
        *is_style = false;
        name = spec + 7;
        *index = *name ? lt_canvas_object_find(name) : -1;
    }
    if (!name)
        return lt_set_error(LT_ERR_ARG, "target '%s': write style:NAME or "
                            "object:NAME (e.g. style:neon, object:bag)",
                            spec ? spec : "(null)");
    if (!*name)
        return lt_set_error(LT_ERR_ARG, "target '%s': the name is empty",
                            spec);
    if (*index < 0)
        return lt_set_error(LT_ERR_ARG, "target '%s': no FashionCanvas %s "
                            "is called '%s'", spec,
                            *is_style ? "style" : "object", name);
    return LT_OK;
}

const char *lt_canvas_target_word(bool is_style, int index)
{
    static char buf[2][LT_CANVAS_STYLES + LT_CANVAS_OBJECTS][32];
    const char *w = is_style ? lt_canvas_style_at(index)->name
                             : lt_canvas_object_at(index)->word;
    char *b = buf[is_style][index];
    size_t i = 0;
    for (; w[i] && i + 1 < sizeof buf[0][0]; i++)
        b[i] = (char)tolower((unsigned char)w[i]);
    b[i] = 0;
    return b;
}

lt_status lt_canvas_contexts(lt_clip *clip, const lt_clip_vocab *v,
                             const char *const *texts, int64_t n, float *ctx)
{
    int L = clip->cfg.context_length, D = clip->cfg.width;
    int32_t *ids = malloc((size_t)L * sizeof *ids);
    lt_ctx *c = lt_ctx_new(lt_clip_arena_bytes(&clip->cfg, 1, 32, 32, false));
    lt_status st = ids && c ? LT_OK
                            : lt_set_error(LT_ERR_NOMEM, "contexts: out of "
                                           "memory");
    if (c)
        lt_set_grad_enabled(c, false);
    for (int64_t i = 0; st == LT_OK && i < n; i++) {
        lt_ctx_reset(c);
        if (lt_clip_tokenize(v, texts[i], L, ids, NULL, NULL) != LT_OK) {
            st = lt_set_error(LT_ERR_ARG, "prompt \"%s\": %s", texts[i],
                              lt_last_error());
            break;
        }
        lt_tensor *h = lt_clip_text_encode(c, clip, ids, 1);
        if (!h)
            st = lt_last_status();
        else
            memcpy(ctx + i * L * D, h->data, (size_t)L * D * sizeof *ctx);
    }
    lt_ctx_free(c);
    free(ids);
    return st;
}

/* The first k pictures of (style, object) in cv's order into idx[k]. */
static lt_status pair_pictures(const lt_canvas *cv, int style, int object,
                               int k, int64_t *idx)
{
    int got = 0;
    for (int64_t i = 0; i < cv->n && got < k; i++)
        if (cv->style[i] == style && cv->object[i] == object)
            idx[got++] = i;
    if (got < k)
        return lt_set_error(LT_ERR_ARG, "canvas: %d picture(s) of %s %s, "
                            "%d wanted", got, lt_canvas_style_at(style)->name,
                            lt_canvas_object_at(object)->word, k);
    return LT_OK;
}

/* Pictures (scaled to [-1, 1]) and canonical prompts of n (style, object)
 * pairs given by sty[n] / obj[n], k each, into x and ctx. */
static lt_status pairs_set(const lt_canvas *cv, lt_clip *clip,
                           const lt_clip_vocab *v, const int *sty,
                           const int *obj, int n, int k, float **x,
                           float **ctx)
{
    int64_t m = (int64_t)n * k, LD = (int64_t)clip->cfg.context_length *
                                    clip->cfg.width;
    *x = malloc((size_t)(m * PIX) * sizeof **x);
    *ctx = malloc((size_t)(m * LD) * sizeof **ctx);
    char (*cap)[LT_CANVAS_CAPTION_MAX] = malloc((size_t)m * sizeof *cap);
    const char **texts = malloc((size_t)m * sizeof *texts);
    int64_t *idx = malloc((size_t)k * sizeof *idx);
    lt_status st = *x && *ctx && cap && texts && idx
                       ? LT_OK
                       : lt_set_error(LT_ERR_NOMEM, "canvas set: out of "
                                      "memory");
    for (int p = 0; st == LT_OK && p < n; p++) {
        st = pair_pictures(cv, sty[p], obj[p], k, idx);
        for (int j = 0; st == LT_OK && j < k; j++) {
            int64_t r = (int64_t)p * k + j;
            for (int64_t q = 0; q < PIX; q++)
                (*x)[r * PIX + q] = 2 * cv->x[idx[j] * PIX + q] - 1;
            st = lt_canvas_prompt(obj[p], sty[p], false, 0, 0, cap[r],
                                  sizeof cap[r]);
            texts[r] = cap[r];
        }
    }
    if (st == LT_OK)
        st = lt_canvas_contexts(clip, v, texts, m, *ctx);
    free(cap);
    free(texts);
    free(idx);
    return st;
}

void lt_salun_canvas_free(lt_salun_canvas_set *s)
{
    free(s->x_forget);
    free(s->ctx_forget);
    free(s->x_remain);
    free(s->ctx_remain);
    free(s->ctx_mask);
    free(s->null_mask);
    memset(s, 0, sizeof *s);
}

static lt_status check_target(bool is_style, int index)
{
    int n = is_style ? LT_CANVAS_STYLES : LT_CANVAS_OBJECTS;
    if (index < 0 || index >= n)
        return lt_set_error(LT_ERR_ARG, "canvas target: %s %d outside [0, "
                            "%d)", is_style ? "style" : "object", index, n);
    return LT_OK;
}

lt_status lt_salun_canvas_data(const lt_canvas *cv, lt_clip *clip,
                               const lt_clip_vocab *v, bool is_style,
                               int index, int per_pair, bool empty_null,
                               lt_salun_canvas_set *out)
{
    memset(out, 0, sizeof *out);
    if (!cv || !clip || !v || per_pair < 1)
        return lt_set_error(LT_ERR_ARG, "salun set: bad argument "
                            "(per_pair %d)", per_pair);
    if (check_target(is_style, index) != LT_OK)
        return lt_last_status();
    int sty[LT_CANVAS_STYLES], obj[LT_CANVAS_STYLES];
    int nf = is_style ? LT_CANVAS_OBJECTS : LT_CANVAS_STYLES;
    for (int i = 0; i < nf; i++) {
        sty[i] = is_style ? index : i;
        obj[i] = is_style ? i : index;
    }
    int photo[LT_CANVAS_OBJECTS], objs[LT_CANVAS_OBJECTS];
    for (int i = 0; i < LT_CANVAS_OBJECTS; i++) {
        photo[i] = 0; /* "Photo" is style 0 */
        objs[i] = i;
    }
    int64_t LD = (int64_t)clip->cfg.context_length * clip->cfg.width;
    lt_status st = pairs_set(cv, clip, v, sty, obj, nf, per_pair,
                             &out->x_forget, &out->ctx_forget);
    if (st == LT_OK)
        st = pairs_set(cv, clip, v, photo, objs, LT_CANVAS_OBJECTS, per_pair,
                       &out->x_remain, &out->ctx_remain);
    out->ctx_mask = malloc((size_t)LD * sizeof *out->ctx_mask);
    out->null_mask = malloc((size_t)LD * sizeof *out->null_mask);
    if (st == LT_OK && (!out->ctx_mask || !out->null_mask))
        st = lt_set_error(LT_ERR_NOMEM, "salun set: out of memory");
    char prompt[96];
    snprintf(prompt, sizeof prompt, "An image in %s style.",
             lt_canvas_target_word(is_style, index));
    const char *texts[1] = {prompt};
    if (st == LT_OK)
        st = lt_canvas_contexts(clip, v, texts, 1, out->ctx_mask);
    if (st == LT_OK && empty_null)
        st = lt_dm_empty_context(clip, out->null_mask);
    else if (st == LT_OK)
        memcpy(out->null_mask, out->ctx_mask, (size_t)LD * sizeof(float));
    out->n_forget = (int64_t)nf * per_pair;
    out->n_remain = (int64_t)LT_CANVAS_OBJECTS * per_pair;
    if (st != LT_OK)
        lt_salun_canvas_free(out);
    return st;
}

lt_salun_text_data lt_salun_canvas_view(const lt_salun_canvas_set *s)
{
    return (lt_salun_text_data){.n_forget = s->n_forget,
                                .n_remain = s->n_remain,
                                .x_forget = s->x_forget,
                                .ctx_forget = s->ctx_forget,
                                .x_remain = s->x_remain,
                                .ctx_remain = s->ctx_remain,
                                .ctx_mask = s->ctx_mask,
                                .null_mask = s->null_mask};
}

void lt_fmn_canvas_free(lt_fmn_canvas_set *s)
{
    free(s->x);
    free(s->ctx);
    free(s->mask);
    free(s->ids);
    memset(s, 0, sizeof *s);
}

lt_status lt_fmn_canvas_data(const lt_canvas *cv, lt_clip *clip,
                             const lt_clip_vocab *v, bool is_style, int index,
                             lt_fmn_canvas_set *out)
{
    memset(out, 0, sizeof *out);
    if (!cv || !clip || !v)
        return lt_set_error(LT_ERR_ARG, "fmn set: bad argument");
    if (check_target(is_style, index) != LT_OK)
        return lt_last_status();
    const char *word = lt_canvas_target_word(is_style, index);
    int32_t cid = lt_clip_vocab_id(v, word);
    if (cid < 0)
        return lt_set_error(LT_ERR_ARG, "fmn set: the encoder's vocabulary "
                            "lacks '%s'", word);
    int L = clip->cfg.context_length, D = clip->cfg.width;
    int64_t n = 0;
    for (int64_t i = 0; i < cv->n; i++)
        n += (is_style ? cv->style[i] : cv->object[i]) == index;
    if (n == 0)
        return lt_set_error(LT_ERR_ARG, "fmn set: the canvas has no picture "
                            "of %s", word);
    out->x = malloc((size_t)(n * PIX) * sizeof *out->x);
    out->ctx = malloc((size_t)(n * L * D) * sizeof *out->ctx);
    out->mask = malloc((size_t)(n * L) * sizeof *out->mask);
    out->ids = malloc((size_t)(n * L) * sizeof *out->ids);
    out->word = cid;
    char cap[LT_CANVAS_CAPTION_MAX];
    const char *texts[1] = {cap};
    lt_status st = out->x && out->ctx && out->mask && out->ids
                       ? LT_OK
                       : lt_set_error(LT_ERR_NOMEM, "fmn set: out of memory");
    for (int64_t i = 0, k = 0; st == LT_OK && i < cv->n; i++) {
        if ((is_style ? cv->style[i] : cv->object[i]) != index)
            continue;
        for (int64_t q = 0; q < PIX; q++)
            out->x[k * PIX + q] = 2 * cv->x[i * PIX + q] - 1;
        int32_t *ids = out->ids + k * L;
        st = lt_canvas_caption_canonical(cv, i, cap, sizeof cap);
        if (st == LT_OK)
            st = lt_clip_tokenize(v, cap, L, ids, NULL, NULL);
        if (st == LT_OK)
            st = lt_fmn_positions(ids, L, &cid, 1, true, out->mask + k * L,
                                  NULL);
        if (st == LT_OK)
            st = lt_canvas_contexts(clip, v, texts, 1, out->ctx + k * L * D);
        k++;
    }
    out->n = n;
    if (st != LT_OK)
        lt_fmn_canvas_free(out);
    return st;
}

lt_status lt_fmn_ti_canvas(lt_unet *u, const lt_dm_schedule *s,
                           lt_clip *clip, lt_fmn_canvas_set *set,
                           const lt_fmn_ti_config *cfg, lt_fmn_ti_fn cb,
                           void *ud)
{
    if (!u || !s || !clip || !set || !set->ids || !cfg || cfg->n_rand < 0)
        return lt_set_error(LT_ERR_ARG, "fmn ti: bad argument");
    int L = clip->cfg.context_length, K = 1 + cfg->n_rand;
    int64_t D = clip->cfg.width;
    int32_t *ids = malloc((size_t)(set->n * L) * sizeof *ids);
    float *emb = malloc((size_t)(K * D) * sizeof *emb);
    lt_status st = ids && emb ? LT_OK
                              : lt_set_error(LT_ERR_NOMEM, "fmn ti: out of "
                                             "memory");
    for (int64_t i = 0; st == LT_OK && i < set->n; i++)
        st = lt_fmn_ti_ids(set->ids + i * L, L, set->word, K, ids + i * L);
    if (st == LT_OK)
        st = lt_fmn_ti_init(clip, &set->word, 1, cfg, emb);
    if (st == LT_OK)
        st = lt_fmn_ti_run(u, s, clip, set->x, ids, set->n, K, emb, cfg, cb,
                           ud);
    if (st == LT_OK)
        st = lt_fmn_ti_contexts(clip, ids, set->n, K, emb, set->ctx,
                                set->mask);
    free(ids);
    free(emb);
    return st;
}

/* ---- mask files --------------------------------------------------------------- */

lt_status lt_unet_mask_save(const lt_unet *u, const float *mask,
                            const char *path, const char *const *meta,
                            int n_meta)
{
    if (!u || !mask || !path)
        return lt_set_error(LT_ERR_ARG, "mask save: bad argument");
    const lt_params *ps = &u->params;
    lt_st_tensor *t = malloc((size_t)ps->count * sizeof *t);
    if (!t)
        return lt_set_error(LT_ERR_NOMEM, "mask save: out of memory");
    int n = 0;
    for (int j = 0; j < ps->count; j++) {
        const lt_param *p = &ps->p[j];
        if (!p->trainable)
            continue;
        lt_tensor view = p->t;
        view.data = (float *)mask + p->offset;
        t[n++] = lt_st_entry(p->name, &view);
    }
    lt_status st = lt_st_save(path, t, n, meta, n_meta);
    free(t);
    return st;
}

lt_status lt_unet_mask_load(const lt_unet *u, const char *path, float *mask)
{
    if (!u || !path || !mask)
        return lt_set_error(LT_ERR_ARG, "mask load: bad argument");
    lt_st_file *f = NULL;
    if (lt_st_load(path, &f) != LT_OK)
        return lt_last_status();
    const lt_params *ps = &u->params;
    lt_status st = LT_OK;
    for (int j = 0; st == LT_OK && j < ps->count; j++) {
        const lt_param *p = &ps->p[j];
        if (!p->trainable)
            continue;
        const lt_st_tensor *t = lt_st_get(f, p->name);
        if (!t || t->numel != p->t.numel || t->ndim != p->t.ndim) {
            st = lt_set_error(LT_ERR_FORMAT, "%s: mask tensor %s is %s "
                              "(%lld values expected)", path, p->name,
                              t ? "of another shape" : "missing",
                              (long long)p->t.numel);
            break;
        }
        for (int64_t i = 0; i < t->numel; i++) {
            float x = t->data[i];
            if (x != 0 && x != 1) {
                st = lt_set_error(LT_ERR_FORMAT, "%s: mask tensor %s holds "
                                  "%g at %lld (0 or 1 expected)", path,
                                  p->name, (double)x, (long long)i);
                break;
            }
            mask[p->offset + i] = x;
        }
    }
    lt_st_free(f);
    return st;
}
