/*
 * canvas_unlearn.c - the unlearning of one target by one method for
 * `lethe bench canvas` (src/bench/canvas.c): ESD with the UnlearnCanvas
 * scripts' prompts (either variant), FMN from the target's canvas
 * pictures (after its textual inversion with --fmn-ti), SalUn on the
 * canvas pairs, and the saliency mask any of them can run under; and the
 * models unlearned elsewhere (--unlearned), loaded with their encoders;
 * cvb_model, the model of one row.
 */
#include "canvas_bench.h"
#include "lethe/dm_canvas.h"
#include "lethe/dm_canvas_unlearn.h"

#include "bench_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- unlearning ------------------------------------------------------------------ */

static void cvb_salun_note(const lt_salun_text_event *e, void *ud)
{
    const cvb *d = ud;
    if (e->step == e->steps)
        lt_bench_note(d->c->progress, d->c->ud, "  salun %lld/%lld loss %.4f",
                      (long long)e->step, (long long)e->steps,
                      (double)e->loss);
}

/* ESD's progress: every 50 iterations and the last, with the elapsed
 * time and an estimate of the rest. */
static void cvb_esd_note(const lt_esd_event *e, void *ud)
{
    const cvb *d = ud;
    if (e->step != e->steps && e->step % 50 != 0)
        return;
    double eta = e->step > 0 ? e->seconds / (double)e->step *
                                   (double)(e->steps - e->step)
                             : 0.0;
    lt_bench_note(d->c->progress, d->c->ud, "  esd %lld/%lld loss %.4g "
                  "(%.0f s, about %.0f s left)", (long long)e->step,
                  (long long)e->steps, (double)e->loss, e->seconds, eta);
}

/* ESD on u: the UnlearnCanvas ESD scripts' prompts, "{Style} Style" and
 * "An image of {object}". */
static lt_status cvb_esd(cvb *d, lt_unet *u, const cv_method *m, cv_target t,
                         const float *mask)
{
    int64_t LD = (int64_t)u->cfg.ctx_len * u->cfg.ctx_dim;
    char prompt[96];
    if (t.is_style)
        snprintf(prompt, sizeof prompt, "%s Style",
                 lt_canvas_style_at(t.index)->name);
    else
        snprintf(prompt, sizeof prompt, "An image of %s",
                 lt_canvas_object_at(t.index)->word);
    const char *texts[1] = {prompt};
    float *ctx = malloc((size_t)LD * sizeof *ctx);
    float *nul = malloc((size_t)LD * sizeof *nul);
    lt_status st = ctx && nul ? lt_canvas_contexts(d->clip, d->v, texts, 1,
                                                   ctx)
                              : lt_set_error(LT_ERR_NOMEM, "bench canvas: "
                                             "out of memory");
    if (st == LT_OK)
        st = lt_dm_empty_context(d->clip, nul);
    lt_esd_config e = d->c->esd;
    e.seed = cvb_seed(d, e.seed);
    e.params = m->params;
    e.mask = mask;
    if (st == LT_OK)
        st = lt_esd_run(u, &d->s, ctx, nul, &e, cvb_esd_note, d);
    free(ctx);
    free(nul);
    return st;
}

static lt_status cvb_fmn(cvb *d, lt_unet *u, cv_target t, const float *mask)
{
    lt_fmn_canvas_set set;
    lt_status st = lt_fmn_canvas_data(&d->tr, d->clip, d->v, t.is_style,
                                      t.index, &set);
    lt_fmn_config f = d->c->fmn;
    lt_fmn_ti_config ti = d->c->ti;
    f.mask = mask;
    f.seed = cvb_seed(d, f.seed);
    ti.seed = cvb_seed(d, ti.seed);
    if (st == LT_OK && d->c->fmn_ti) /* the concept's tokens learned first */
        st = lt_fmn_ti_canvas(u, &d->s, d->clip, &set, &ti, NULL, NULL);
    if (st == LT_OK)
        st = lt_fmn_run(u, &d->s, set.x, set.ctx, set.mask, set.n, &f, NULL,
                        NULL);
    lt_fmn_canvas_free(&set);
    return st;
}

/* Method m on u for target t (the SalUn mask pass first when asked). */
lt_status cvb_unlearn(cvb *d, lt_unet *u, const cv_method *m,
                             cv_target t)
{
    const lt_bench_canvas_cfg *c = d->c;
    lt_salun_text_config sc = c->salun;
    sc.seed = cvb_seed(d, sc.seed);
    lt_salun_canvas_set set = {0};
    float *mask = NULL, *g = NULL;
    int64_t n = u->params.n_train;
    lt_status st = LT_OK;
    if (m->mask == CV_MASK_SALIENCY || m->kind == CV_SALUN)
        st = lt_salun_canvas_data(&d->tr, d->clip, d->v, t.is_style, t.index,
                                  c->salun_per_pair, false, &set);
    lt_salun_text_data sd = lt_salun_canvas_view(&set);
    if (st == LT_OK && m->mask == CV_MASK_SALIENCY) {
        mask = malloc((size_t)n * sizeof *mask);
        g = malloc((size_t)n * sizeof *g);
        st = mask && g ? lt_salun_text_saliency(u, &d->s, &sd, &sc,
                                                NULL, g)
                       : lt_set_error(LT_ERR_NOMEM, "bench canvas: out of "
                                      "memory");
        if (st == LT_OK)
            st = lt_salun_text_mask(g, n, sc.mask_ratio, sc.mask_bottom, mask);
    }
    if (st == LT_OK && m->kind == CV_ESD)
        st = cvb_esd(d, u, m, t, mask);
    else if (st == LT_OK && m->kind == CV_FMN)
        st = cvb_fmn(d, u, t, mask);
    else if (st == LT_OK && m->kind == CV_SALUN)
        st = lt_salun_text_run(u, &d->s, &sd, mask, &sc, NULL,
                               cvb_salun_note, d);
    free(mask);
    free(g);
    lt_salun_canvas_free(&set);
    return st;
}


/* ---- models unlearned elsewhere ----------------------------------------------------- */

void cvb_file_encoder(const lt_bench_asr_model *f, char *path, size_t n)
{
    if (f->encoder)
        snprintf(path, n, "%s", f->encoder);
    else
        snprintf(path, n, "%s.clip.safetensors", f->file);
}

lt_status cvb_file_check(const lt_bench_asr_model *f)
{
    if (!f->name || !*f->name || strlen(f->name) >= LT_TABLE_TEXT ||
        !f->file || !*f->file || (f->encoder && !*f->encoder))
        return lt_set_error(LT_ERR_ARG, "bench canvas: an unlearned model "
                            "needs a name (under %d bytes) and a file",
                            LT_TABLE_TEXT);
    char enc[1200];
    cvb_file_encoder(f, enc, sizeof enc);
    const char *miss = !lt_bench_exists(f->file) ? f->file
                       : !lt_bench_exists(enc)   ? enc
                                                 : NULL;
    if (miss)
        return lt_set_error(LT_ERR_ARG, "bench canvas: --unlearned %s: %s "
                            "not found%s", f->name, miss,
                            miss == f->file ? ""
                                            : " (give the encoder as "
                                              "NAME=FILE:ENCODER)");
    return LT_OK;
}

void cvb_delta(const lt_params *p0, const lt_params *p1, int64_t *changed,
               int64_t *touched)
{
    *changed = *touched = 0;
    for (int j = 0; j < p1->count; j++) {
        const lt_param *p = &p1->p[j];
        int64_t c = 0;
        for (int64_t i = 0; i < p->t.numel; i++)
            c += memcmp(&p1->theta[p->offset + i], &p0->theta[p->offset + i],
                        sizeof(float)) != 0;
        *changed += c;
        *touched += c ? p->t.numel : 0;
    }
}


/* clip's weights against the base encoder's (enc as cvb_file_model's); a
 * different architecture is an error naming path. */
static lt_status cvb_encoder_delta(const cvb *d, const lt_clip *clip,
                                   const char *path, int64_t enc[3])
{
    const lt_params *p0 = &d->clip->params, *p1 = &clip->params;
    bool same = p0->count == p1->count && p0->n_total == p1->n_total;
    for (int j = 0; same && j < p1->count; j++)
        same = p0->p[j].offset == p1->p[j].offset &&
               p0->p[j].t.numel == p1->p[j].t.numel;
    if (!same)
        return lt_set_error(LT_ERR_ARG, "bench canvas: the encoder %s is "
                            "not of the base encoder's (%s) architecture",
                            path, d->enc);
    cvb_delta(p0, p1, &enc[0], &enc[1]);
    enc[2] = p1->n_total;
    return LT_OK;
}

/* A CV_FILE row's model: its UNet in *u (the base's arch, else
 * LT_ERR_ARG), the answer set's contexts by its encoder in *ctx and
 * *null_ctx (malloc'd), and its encoder's weights against the base's:
 * enc[0] changed, enc[1] in tensors that changed, enc[2] all of them. */
static lt_status cvb_file_model(cvb *d, const cv_method *m, lt_unet **u,
                         float **ctx, float **null_ctx, int64_t enc[3])
{
    char path[1200];
    cvb_file_encoder(m->file, path, sizeof path);
    lt_clip *clip = NULL;
    lt_clip_vocab *v = NULL;
    lt_status st = lt_unet_load(m->file->file, u, NULL);
    if (st == LT_OK && strcmp((*u)->arch, d->u0->arch))
        st = lt_set_error(LT_ERR_ARG, "bench canvas: --unlearned %s: %s is "
                          "%s, the base is %s", m->name, m->file->file,
                          (*u)->arch, d->u0->arch);
    if (st == LT_OK)
        st = lt_clip_load(path, &clip, &v);
    if (st == LT_OK)
        st = cvb_encoder_delta(d, clip, path, enc);
    int64_t LD = (int64_t)d->u0->cfg.ctx_len * d->u0->cfg.ctx_dim;
    if (st == LT_OK) {
        *ctx = malloc((size_t)(d->n * LD) * sizeof **ctx);
        *null_ctx = malloc((size_t)LD * sizeof **null_ctx);
        if (!*ctx || !*null_ctx)
            st = lt_set_error(LT_ERR_NOMEM, "bench canvas: out of memory");
    }
    if (st == LT_OK) /* its own vocabulary when the file has one */
        st = cvb_contexts(d, clip, v ? v : d->v, *ctx, *null_ctx);
    lt_clip_free(clip);
    lt_clip_vocab_free(v);
    return st;
}

lt_status cvb_model(cvb *d, const cv_method *m, cv_target t,
                           lt_unet **u, float **ctx, float **nul,
                           int64_t enc[3], double *secs)
{
    if (m->kind == CV_FILE) {
        *secs = NAN; /* unlearned elsewhere: not measured here */
        return cvb_file_model(d, m, u, ctx, nul, enc);
    }
    lt_status st = lt_unet_create(d->u0->arch, u);
    if (st != LT_OK)
        return st;
    memcpy((*u)->params.theta, d->u0->params.theta,
           (size_t)(*u)->params.n_total * sizeof(float));
    double t0 = lt_clock_seconds();
    st = m->kind == CV_ORIGINAL ? LT_OK : cvb_unlearn(d, *u, m, t);
    *secs = lt_clock_seconds() - t0;
    return st;
}
