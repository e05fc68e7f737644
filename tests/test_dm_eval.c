/*
 * test_dm_eval.c - the acceptance reports of diffusion models; for text
 * (lt_bench_dm_text_eval) on a small FashionCanvas with untrained models:
 * its tables have a row per style, per object and per check; the real
 * accuracies it reports equal those of the classification-set path
 * (lt_dataset_load "canvas-object:DIR" + lt_evaluate); the sample it
 * returns for a pair is the sampler's output for that pair's canonical
 * prompt at that index (so prompts and order are as documented); an
 * untrained model is not accepted; bad settings are refused. The prompt
 * check (the model as a diffusion classifier): a model that cannot see its
 * context (SD's zeroed proj_out) gets no error cut from the prompt, and
 * one that can gets the accuracy and cut of a direct recount. And the
 * class models' report (lt_bench_dm_eval) on an untrained cond:xs: its
 * tables are complete and its real accuracies are the committed
 * evaluator B's, as models/README.md lists them.
 */
#include "lt_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PER (3 * LT_CANVAS_SIDE * LT_CANVAS_SIDE)

static char dir[512], model[600], enc[640], cls_style[600], cls_object[600];

/* An untrained cnn for the canvas labelled by what ("canvas-style" with
 * 22 classes or "canvas-object" with 10), saved as a `lethe train` file. */
static void save_classifier(const char *what, int classes, const char *path)
{
    lt_model *m = NULL;
    LT_CHECK(lt_model_create("cnn", (lt_input_spec){3, 32, 32, classes}, &m)
                 == LT_OK, "%s", lt_last_error());
    if (!m)
        return;
    lt_model_init(m, 3);
    const char *meta[] = {"lethe.data", what};
    LT_CHECK(lt_model_save(m, path, meta, 1) == LT_OK, "%s", lt_last_error());
    lt_model_free(m);
}

static void make_fixture(void)
{
    static bool made;
    if (made)
        return;
    made = true;
    snprintf(dir, sizeof dir, "%s/cv", lt_test_tmpdir());
    lt_canvas_config c = lt_canvas_defaults();
    c.per_class = 1;
    c.test_per_class = 1;
    LT_CHECK(lt_canvas_generate(&c, dir, NULL, NULL) == LT_OK, "%s",
             lt_last_error());
    snprintf(model, sizeof model, "%s/t.safetensors", lt_test_tmpdir());
    snprintf(enc, sizeof enc, "%s.clip.safetensors", model);
    snprintf(cls_style, sizeof cls_style, "%s/s.safetensors",
             lt_test_tmpdir());
    snprintf(cls_object, sizeof cls_object, "%s/o.safetensors",
             lt_test_tmpdir());
    lt_unet *u = NULL;
    lt_dm_schedule s = {0};
    lt_clip_vocab *v = NULL;
    lt_clip_config cc;
    lt_clip *clip = NULL;
    LT_CHECK(lt_unet_create("text:xs", &u) == LT_OK &&
                 lt_dm_schedule_make("linear", 1000, &s) == LT_OK &&
                 lt_canvas_clip_vocab(&v) == LT_OK &&
                 lt_clip_preset("tiny", lt_clip_vocab_size(v), &cc) == LT_OK &&
                 lt_clip_create(&cc, &clip) == LT_OK,
             "%s", lt_last_error());
    if (u && clip) {
        lt_unet_init(u, 5);
        lt_clip_init(clip, 6);
        LT_CHECK(lt_unet_save(u, model, &s, NULL, 0) == LT_OK &&
                     lt_clip_save(clip, v, enc, NULL, 0) == LT_OK,
                 "%s", lt_last_error());
    }
    lt_unet_free(u);
    lt_dm_schedule_free(&s);
    lt_clip_free(clip);
    lt_clip_vocab_free(v);
    save_classifier("canvas-style", LT_CANVAS_STYLES, cls_style);
    save_classifier("canvas-object", 10, cls_object);
}

static lt_bench_dm_text_cfg small_cfg(void)
{
    lt_bench_dm_text_cfg c = lt_bench_dm_text_defaults();
    c.model = model;
    c.canvas = dir;
    c.style_classifier = cls_style;
    c.object_classifier = cls_object;
    c.per_pair = 1;
    c.prompt_check = 1;
    c.sample.steps = 1;
    return c;
}

/* Per-object accuracy (%) of the object classifier on the real test
 * pictures, through the classification-set path. */
static void real_object_accuracy(double acc[10])
{
    char spec[600];
    snprintf(spec, sizeof spec, "canvas-object:%s", dir);
    lt_dataset d;
    lt_model *m = NULL;
    LT_CHECK(lt_dataset_load(spec, "test", &d) == LT_OK &&
                 lt_model_load(cls_object, &m) == LT_OK,
             "%s", lt_last_error());
    float *logits = malloc((size_t)d.n * 10 * sizeof *logits);
    double loss, all;
    LT_CHECK(logits && lt_evaluate(m, &d, 100, &loss, &all, logits) == LT_OK,
             "%s", lt_last_error());
    int hit[10] = {0}, tot[10] = {0};
    for (int64_t i = 0; logits && i < d.n; i++) {
        int best = 0;
        for (int j = 1; j < 10; j++)
            best = logits[i * 10 + j] > logits[i * 10 + best] ? j : best;
        tot[d.y[i]]++;
        hit[d.y[i]] += best == d.y[i];
    }
    for (int k = 0; k < 10; k++)
        acc[k] = tot[k] ? 100.0 * hit[k] / tot[k] : NAN;
    free(logits);
    lt_model_free(m);
    lt_dataset_free(&d);
}

/* Sample i = pair (style 1, object 3) drawn directly: contexts of the
 * first i + 1 samples with that pair's canonical prompt last. */
static void direct_sample(int pair, const lt_bench_dm_text_cfg *c, float *out)
{
    lt_unet *u = NULL;
    lt_dm_schedule s = {0};
    lt_clip *clip = NULL;
    lt_clip_vocab *v = NULL;
    LT_CHECK(lt_unet_load(model, &u, &s) == LT_OK &&
                 lt_clip_load(enc, &clip, &v) == LT_OK, "%s", lt_last_error());
    if (!u || !clip)
        return;
    int L = clip->cfg.context_length, D = clip->cfg.width;
    char text[LT_CANVAS_CAPTION_MAX];
    int32_t *ids = malloc((size_t)L * sizeof *ids);
    float *ctx = calloc((size_t)(pair + 1) * L * D, sizeof *ctx);
    float *null_ctx = malloc((size_t)L * D * sizeof *null_ctx);
    float *x = malloc((size_t)(pair + 1) * PER * sizeof *x);
    lt_ctx *cx = lt_ctx_new(lt_clip_arena_bytes(&clip->cfg, 1, 32, 32, false));
    lt_set_grad_enabled(cx, false);
    LT_CHECK(lt_canvas_prompt(pair % 10, pair / 10, false, 0, 0, text,
                              sizeof text) == LT_OK &&
                 !strcmp(text, "A dress image in Neon style.") &&
                 lt_clip_tokenize(v, text, L, ids, NULL, NULL) == LT_OK,
             "prompt '%s': %s", text, lt_last_error());
    lt_tensor *h = lt_clip_text_encode(cx, clip, ids, 1);
    LT_CHECK(h && lt_dm_empty_context(clip, null_ctx) == LT_OK, "%s",
             lt_last_error());
    if (h) {
        memcpy(ctx + (int64_t)pair * L * D, h->data,
               (size_t)L * D * sizeof *ctx);
        LT_CHECK(lt_dm_sample_text(u, &s, &c->sample, pair + 1, ctx,
                                   null_ctx, x, NULL, NULL) == LT_OK,
                 "%s", lt_last_error());
        memcpy(out, x + (int64_t)pair * PER, PER * sizeof *out);
    }
    lt_ctx_free(cx);
    free(ids);
    free(ctx);
    free(null_ctx);
    free(x);
    lt_unet_free(u);
    lt_dm_schedule_free(&s);
    lt_clip_free(clip);
    lt_clip_vocab_free(v);
}

LT_TEST(dm_text_eval_report)
{
    make_fixture();
    lt_bench_dm_text_cfg c = small_cfg();
    lt_report r = {0};
    float *x = NULL;
    LT_CHECK(lt_bench_dm_text_eval(&c, &r, &x) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(r.n_tables == 5 && r.tables[0].n_rows == LT_CANVAS_STYLES &&
                 r.tables[1].n_rows == 10 && r.tables[2].n_rows == 6 &&
                 r.tables[3].n_rows == 2 && r.tables[4].n_rows == 5,
             "tables %d (rows %d %d %d %d)", r.n_tables, r.tables[0].n_rows,
             r.tables[1].n_rows, r.tables[2].n_rows, r.tables[3].n_rows);
    LT_CHECK(!strcmp(lt_report_get(&r, "accepted"), "no"),
             "an untrained model accepted");
    double real[10];
    real_object_accuracy(real);
    for (int k = 0; r.n_tables == 5 && k < 10; k++)
        LT_CHECK(fabs(r.tables[1].rows[k].v[0][2] - real[k]) < 1e-9,
                 "object %d: real accuracy %g, the classification path %g",
                 k, r.tables[1].rows[k].v[0][2], real[k]);
    float want[PER];
    direct_sample(13, &c, want);
    double diff = 0;
    for (int i = 0; x && i < PER; i++)
        diff = fmax(diff, fabs((double)x[13 * PER + i] - want[i]));
    LT_CHECK(x && diff < 1e-5, "sample 13 differs from a direct draw by %g",
             diff);
    free(x);
    lt_report_free(&r);
}

/* The object axis of the prompt check recounted for k = 1 (picture of
 * object o: the pair (style o, object o); the documented noise; the same
 * 11-row batches), into acc[k] and gain[k] (%) for timestep k alone and
 * acc[5], gain[5] for the errors summed over them. */
static void recount_objects(lt_unet *u, const lt_dm_schedule *s,
                            lt_clip *clip, const lt_clip_vocab *v,
                            const lt_canvas *te, uint64_t seed, double acc[6],
                            double gain[6])
{
    int L = clip->cfg.context_length, D = clip->cfg.width, n = 11;
    int hits[6] = {0};
    int64_t idx[LT_CANVAS_STYLES * 10];
    int32_t ids[11 * 64];
    float *ctx = malloc((size_t)n * L * D * sizeof *ctx);
    float *xt = malloc((size_t)n * PER * sizeof *xt), e[PER], t[11];
    lt_ctx *c = lt_ctx_new(lt_unet_arena_bytes(u, n, false) +
                           lt_clip_arena_bytes(&clip->cfg, n, 32, 32, false));
    LT_CHECK(ctx && xt && c && lt_canvas_pair_subset(te, 1, seed, idx) ==
                 LT_OK, "%s", lt_last_error());
    memset(gain, 0, 6 * sizeof *gain);
    for (int o = 0; ctx && xt && c && o < 10; o++) {
        int64_t i = idx[o * 10 + o];
        char buf[LT_CANVAS_CAPTION_MAX];
        for (int j = 0; j < 10; j++)
            LT_CHECK(lt_canvas_prompt(j, o, false, 0, 0, buf, sizeof buf) ==
                         LT_OK && lt_clip_tokenize(v, buf, L, ids + j * L,
                                                   NULL, NULL) == LT_OK,
                     "%s", lt_last_error());
        lt_ctx_reset(c);
        lt_set_grad_enabled(c, false);
        lt_tensor *h = lt_clip_text_encode(c, clip, ids, 10);
        memcpy(ctx, h->data, (size_t)10 * L * D * sizeof *ctx);
        lt_dm_empty_context(clip, ctx + (int64_t)10 * L * D);
        double err[6][11] = {{0}};
        for (int k = 0; k < 5; k++) {
            int ti = (2 * k + 1) * s->T / 10;
            lt_rng r;
            lt_rng_init(&r, lt_hash3(lt_hash3(seed, 72, (uint64_t)i), 71,
                                     (uint64_t)k));
            lt_rng_fill_normal(&r, e, PER, 0, 1);
            for (int row = 0; row < n; row++) {
                t[row] = (float)ti;
                for (int q = 0; q < PER; q++)
                    xt[row * PER + q] =
                        (float)(sqrt(s->abar[ti]) *
                                    (2 * te->x[i * PER + q] - 1) +
                                sqrt(1 - s->abar[ti]) * e[q]);
            }
            lt_ctx_reset(c);
            lt_set_grad_enabled(c, false);
            lt_tensor *eps = lt_unet_forward_text(
                c, u, lt_from_data(c, 4, (int64_t[]){n, 3, 32, 32}, xt), t,
                lt_from_data(c, 3, (int64_t[]){n, L, D}, ctx), false);
            for (int row = 0; eps && row < n; row++)
                for (int q = 0; q < PER; q++) {
                    double d = e[q] - eps->data[row * PER + q];
                    err[k][row] += d * d;
                }
        }
        for (int k = 0; k < 6; k++) {
            for (int row = 0; k < 5 && row < n; row++)
                err[5][row] += err[k][row];
            int best = 0;
            for (int j = 1; j < 10; j++)
                best = err[k][j] < err[k][best] ? j : best;
            hits[k] += best == o;
            gain[k] += 100.0 * (err[k][10] - err[k][o]) / err[k][10] / 10;
        }
    }
    for (int k = 0; k < 6; k++)
        acc[k] = 100.0 * hits[k] / 10;
    lt_ctx_free(c);
    free(ctx);
    free(xt);
}

/* Fill the weights whose names contain what with a fixed pattern; their
 * count. */
static int set_weights(lt_unet *u, const char *what)
{
    int n = 0;
    for (int i = 0; i < u->params.count; i++) {
        lt_param *p = &u->params.p[i];
        if (!strstr(p->name, what))
            continue;
        for (int64_t q = 0; q < p->t.numel; q++)
            p->t.data[q] = 0.3f * (float)sin(0.7 * (double)q + i);
        n++;
    }
    return n;
}

LT_TEST(dm_text_prompt_check)
{
    make_fixture();
    lt_unet *u = NULL;
    lt_dm_schedule s = {0};
    lt_clip *clip = NULL;
    lt_clip_vocab *v = NULL;
    lt_canvas te = {0};
    LT_CHECK(lt_unet_load(model, &u, &s) == LT_OK &&
                 lt_clip_load(enc, &clip, &v) == LT_OK &&
                 lt_canvas_load(dir, "test", &te) == LT_OK,
             "%s", lt_last_error());
    if (!u || !clip || !te.n)
        return;
    /* SD's init zeroes every ResNet conv2, transformer proj_out and the
     * output conv: give the ResNets and the output weights, so eps
     * depends on the picture, but keep proj_out zero, so the context
     * still cannot change it */
    LT_CHECK(set_weights(u, "conv2.weight") > 0 &&
                 set_weights(u, "out.2.weight") == 1,
             "text:xs has no conv2 or out.2 weights");
    lt_bench_prompt_check pc;
    LT_CHECK(lt_bench_dm_text_prompt_check(u, &s, clip, v, &te, 1, 9, &pc) ==
                 LT_OK, "%s", lt_last_error());
    LT_CHECK(pc.style.pictures == LT_CANVAS_STYLES &&
                 pc.style.candidates == LT_CANVAS_STYLES &&
                 pc.object.pictures == 10 && pc.object.candidates == 10 &&
                 fabs(pc.object.chance - 10) < 1e-12 &&
                 fabs(pc.style.all.gain) < 1e-4 &&
                 fabs(pc.object.all.gain) < 1e-4 &&
                 fabs(pc.object.by_t[4].gain) < 1e-4,
             "blind model: %d/%d pictures, gains %g %g", pc.style.pictures,
             pc.object.pictures, pc.style.all.gain, pc.object.all.gain);
    int touched = set_weights(u, "proj_out.weight");
    LT_CHECK(touched > 0, "no proj_out weights in text:xs");
    LT_CHECK(lt_bench_dm_text_prompt_check(u, &s, clip, v, &te, 1, 9, &pc) ==
                 LT_OK, "%s", lt_last_error());
    double acc[6], gain[6];
    recount_objects(u, &s, clip, v, &te, 9, acc, gain);
    LT_CHECK(fabs(pc.object.all.gain) > 1e-3 &&
                 pc.object.all.accuracy == acc[5] &&
                 fabs(pc.object.all.gain - gain[5]) < 1e-4 &&
                 pc.object.by_t[2].accuracy == acc[2] &&
                 fabs(pc.object.by_t[2].gain - gain[2]) < 1e-4,
             "seeing model: accuracy %g (recount %g), gain %.12g (recount "
             "%.12g)",
             pc.object.all.accuracy, acc[5], pc.object.all.gain, gain[5]);
    LT_CHECK(lt_bench_dm_text_prompt_check(u, &s, clip, v, &te, 11, 9, &pc) ==
                 LT_ERR_ARG, "11 pictures per class accepted");
    lt_canvas_free(&te);
    lt_unet_free(u);
    lt_dm_schedule_free(&s);
    lt_clip_free(clip);
    lt_clip_vocab_free(v);
}

LT_TEST(dm_text_eval_refuses)
{
    make_fixture();
    lt_bench_dm_text_cfg c = small_cfg();
    c.per_pair = 11;
    LT_CHECK(lt_bench_dm_text_check(&c) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "per_pair 11"), "%s",
             lt_last_error());
    c = small_cfg();
    c.per_pair = 2; /* the small canvas has 1 test picture per pair */
    lt_report r = {0};
    LT_CHECK(lt_bench_dm_text_eval(&c, &r, NULL) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "fewer than the 2"), "%s",
             lt_last_error());
    lt_report_free(&r);
    c = small_cfg();
    c.object_classifier = cls_style; /* 22 classes */
    LT_CHECK(lt_bench_dm_text_eval(&c, &r, NULL) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "object classifier"), "%s",
             lt_last_error());
    lt_report_free(&r);
}

LT_TEST(dm_class_eval_report)
{
    static const double real_b[10] = {86.4, 97.7, 88.2, 89.8, 86.2,
                                      96.9, 68.7, 97.3, 98.3, 95.5};
    char path[600];
    snprintf(path, sizeof path, "%s/cond.safetensors", lt_test_tmpdir());
    lt_unet *u = NULL;
    lt_dm_schedule s = {0};
    LT_CHECK(lt_unet_create("cond:xs", &u) == LT_OK &&
                 lt_dm_schedule_make("linear", 1000, &s) == LT_OK,
             "%s", lt_last_error());
    if (!u)
        return;
    lt_unet_init(u, 2);
    LT_CHECK(lt_unet_save(u, path, &s, NULL, 0) == LT_OK, "%s",
             lt_last_error());
    lt_unet_free(u);
    lt_dm_schedule_free(&s);
    lt_bench_dm_cfg c = lt_bench_dm_defaults();
    c.model = path;
    c.classifier = LT_GOLDEN_DIR "/../../" LT_FMNIST_EVAL_B;
    c.per_class = 4;
    c.sample.steps = 1;
    lt_report r = {0};
    LT_CHECK(lt_bench_dm_eval(&c, &r, NULL) == LT_OK, "%s", lt_last_error());
    LT_CHECK(r.n_tables == 2 && r.tables[0].n_rows == 10 &&
                 r.tables[1].n_rows == 5 &&
                 !strcmp(lt_report_get(&r, "accepted"), "no"),
             "tables %d, accepted '%s'", r.n_tables,
             lt_report_get(&r, "accepted"));
    for (int k = 0; r.n_tables == 2 && k < 10; k++)
        LT_CHECK(fabs(r.tables[0].rows[k].v[0][2] - real_b[k]) < 0.05 + 1e-9,
                 "class %d: real accuracy %g, models/README.md says %g", k,
                 r.tables[0].rows[k].v[0][2], real_b[k]);
    lt_report_free(&r);
}

LT_TEST_MAIN()
