/*
 * test_bench_canvas.c - UnlearnCanvas on FashionCanvas (lethe/
 * bench_canvas.h) at a micro setting through the library: a tiny text
 * UNet trained 8 steps on a canvas of one picture per class, both made in
 * the cache; original and esd-x rows on style:neon complete, UA / IRA /
 * CRA in range with the original's UA at most ESD's, FD finite with both
 * floors recorded, storage equal to the full weights and within the
 * bound of esd-x's parameter set (4 bytes per weight + 1 bit per entry),
 * the base cached in the cache folder, both answer-set grids written, a
 * resumed sweep that reruns no row and gives the same bits; ESD's sd
 * variant and FMN with its textual inversion, named in the settings and
 * kept under their own keys; two unlearning runs per row, the first the
 * single run's numbers, the second another seed's; models unlearned
 * elsewhere as rows (the base itself: the original's numbers; a changed
 * encoder: its storage); and the inputs it refuses
 * (unknown style / object, an empty target, a class model).
 */
#include "bench_resume.h"
#include "lt_test.h"

#include "lethe/bench_canvas.h"
#include "lethe/clip.h"
#include "lethe/image_metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPO LT_GOLDEN_DIR "/../../"

static double col(const lt_table *t, int row, const char *key)
{
    int c = lt_table_col_index(t, key);
    return c >= 0 && row < t->n_rows ? t->rows[row].v[0][c] : NAN;
}

static lt_bench_canvas_cfg micro(char *cache, size_t n)
{
    snprintf(cache, n, "%s/cvcache", lt_test_tmpdir());
    lt_bench_canvas_cfg c = lt_bench_canvas_defaults();
    lt_bench_canvas_quick(&c);
    c.base_steps = 8;
    c.cache = cache;
    c.grid_dir = lt_test_tmpdir();
    c.targets = "style:neon";
    c.methods = "original,esd-x";
    c.sample.steps = 1;
    c.quick_encoder = REPO "models/fashion-canvas-clip-tiny-v1.safetensors";
    c.style_classifier = REPO LT_CANVAS_EVAL_STYLE;
    c.object_classifier = REPO LT_CANVAS_EVAL_OBJECT;
    return c;
}

LT_TEST(micro_protocol_rows_and_invariants)
{
    char cache[600];
    lt_bench_canvas_cfg c = micro(cache, sizeof cache);
    lt_report r;
    LT_CHECK(lt_bench_canvas(&c, &r) == LT_OK, "%s", lt_last_error());
    LT_CHECK(r.n_tables == 1, "tables %d", r.n_tables);
    if (r.n_tables != 1)
        goto out;
    const lt_table *t = &r.tables[0];
    LT_CHECK(t->n_rows == 2, "rows %d", t->n_rows);
    if (t->n_rows != 2)
        goto out;
    const char *want[2] = {"original", "esd-x"};
    for (int i = 0; i < 2; i++) {
        LT_CHECK(!strcmp(t->rows[i].text[0], "neon") &&
                     !strcmp(t->rows[i].text[1], "style") &&
                     !strcmp(t->rows[i].text[2], want[i]) &&
                     t->rows[i].n == 1 && !t->rows[i].failed,
                 "row %d: %s %s %s", i, t->rows[i].text[0],
                 t->rows[i].text[1], t->rows[i].text[2]);
        static const char *const pct[] = {"UA", "IRA", "CRA"};
        for (int k = 0; k < 3; k++) {
            double v = col(t, i, pct[k]);
            LT_CHECK(v >= 0 && v <= 100, "row %d %s %g", i, pct[k], v);
        }
        double fs = col(t, i, "FD_style"), fo = col(t, i, "FD_object");
        LT_CHECK(isfinite(fs) && fs >= 0 && isfinite(fo) && fo >= 0,
                 "row %d FD %g %g", i, fs, fo);
        double full = col(t, i, "full_mb");
        LT_CHECK(full > 0 && col(t, i, "rss_mb") > 0, "row %d full %g", i,
                 full);
    }
    LT_CHECK(col(t, 0, "UA") <= col(t, 1, "UA"), "UA original %g > esd-x %g",
             col(t, 0, "UA"), col(t, 1, "UA"));
    LT_CHECK(col(t, 0, "seconds") == 0 && col(t, 1, "seconds") > 0 &&
                 col(t, 0, "delta_mb") == 0,
             "times and the original's delta");
    /* esd-x changes attn2 weights only: at most 4 bytes + 1 bit each */
    lt_unet *u = NULL;
    LT_CHECK(lt_unet_create(c.base_arch, &u) == LT_OK, "%s", lt_last_error());
    if (u) {
        float *m = malloc((size_t)u->params.n_train * sizeof *m);
        int64_t sel = 0;
        LT_CHECK(lt_esd_mask(u, LT_ESD_X, m, &sel) == LT_OK, "mask");
        double d = col(t, 1, "delta_mb"), bound = (4.0 * sel + sel / 8) / 1e6;
        LT_CHECK(d > 0 && d <= bound + 1e-6, "esd-x delta %g, bound %g", d,
                 bound);
        LT_CHECK(fabs(col(t, 1, "full_mb") - 4.0 * u->params.n_total / 1e6) <
                     1e-9,
                 "full %g", col(t, 1, "full_mb"));
        free(m);
        lt_unet_free(u);
    }
    double fl = atof(lt_report_get(&r, "fd_floor_style"));
    double fo = atof(lt_report_get(&r, "fd_floor_object"));
    LT_CHECK(fl > 0 && fo > 0 && isfinite(fl) && isfinite(fo),
             "floors %g %g", fl, fo);
    LT_CHECK(atof(lt_report_get(&r, "answer_set")) == 220 &&
                 strstr(lt_report_get(&r, "sampler"), "DDIM-1") &&
                 strlen(lt_report_get(&r, "commit")) > 0,
             "settings: answer set %s, sampler '%s'",
             lt_report_get(&r, "answer_set"), lt_report_get(&r, "sampler"));
    /* the grids of both answer sets */
    for (int i = 0; i < 2; i++) {
        char png[700];
        snprintf(png, sizeof png, "%s/%s.png", lt_test_tmpdir(),
                 i ? "neon-esd-x" : "original");
        FILE *g = fopen(png, "rb");
        unsigned char sig[4] = {0};
        LT_CHECK(g && fread(sig, 1, 4, g) == 4 && sig[1] == 'P' &&
                     sig[2] == 'N' && sig[3] == 'G',
                 "grid %s", png);
        if (g)
            fclose(g);
    }
    /* the base is cached under the cache folder for the next run */
    const char *base = lt_report_get(&r, "model");
    FILE *f = fopen(base, "rb");
    LT_CHECK(f && !strncmp(base, cache, strlen(cache)), "base %s", base);
    if (f)
        fclose(f);
    /* --resume: both rows from CACHE/runs, every number as before (also
     * the time and memory) */
    int resumed = 0;
    lt_report r2;
    c.resume = true;
    c.progress = lt_test_count_resumed;
    c.ud = &resumed;
    LT_CHECK(lt_bench_canvas(&c, &r2) == LT_OK, "%s", lt_last_error());
    LT_CHECK(resumed == 2, "%d rows resumed, not 2", resumed);
    if (r2.n_tables == 1)
        lt_test_same_table(t, &r2.tables[0]);
    lt_report_free(&r2);
out:
    lt_report_free(&r);
}

/* --esd-variant sd and --fmn-ti: both rows complete, the settings name
 * the variants, and their rows are kept under keys of their own (a
 * resumed run reuses them; the paper rows of the test above are not). */
LT_TEST(variants_run_and_are_named)
{
    char cache[600];
    lt_bench_canvas_cfg c = micro(cache, sizeof cache);
    c.esd = lt_esd_defaults_for(LT_ESD_SD);
    c.esd.steps = 2;
    c.esd.ddim_steps = 2;
    c.fmn_ti = true;
    c.ti.steps = 2;
    c.methods = "esd-x,fmn";
    c.grid_dir = NULL;
    c.resume = true;
    int resumed = 0;
    c.progress = lt_test_count_resumed;
    c.ud = &resumed;
    lt_report r;
    LT_CHECK(lt_bench_canvas(&c, &r) == LT_OK, "%s", lt_last_error());
    LT_CHECK(resumed == 0, "%d rows taken from other settings' runs",
             resumed);
    const lt_table *t = r.n_tables == 1 ? &r.tables[0] : NULL;
    LT_CHECK(t && t->n_rows == 2 && !t->rows[0].failed &&
                 !t->rows[1].failed && col(t, 1, "seconds") > 0,
             "rows");
    const char *u = lt_report_get(&r, "unlearning");
    LT_CHECK(strstr(u, "esd (sd variant, esd_sd.py)") && strstr(u, "PLMS 2") &&
                 strstr(u, "after textual inversion of 3 tokens (2 steps"),
             "settings '%s'", u);
    lt_report r2;
    LT_CHECK(lt_bench_canvas(&c, &r2) == LT_OK, "%s", lt_last_error());
    LT_CHECK(resumed == 2, "%d rows resumed, not 2", resumed);
    lt_report_free(&r2);
    lt_report_free(&r);
}

/* runs = 2: every row holds two runs; run 0 is the runs = 1 row's (the
 * same seeds), run 1 another seed's answer set and unlearning. */
LT_TEST(unlearning_runs_are_seeded)
{
    char cache[600];
    lt_bench_canvas_cfg c = micro(cache, sizeof cache);
    c.grid_dir = NULL;
    lt_report one, two;
    LT_CHECK(lt_bench_canvas(&c, &one) == LT_OK, "%s", lt_last_error());
    c.runs = 2;
    LT_CHECK(lt_bench_canvas(&c, &two) == LT_OK, "%s", lt_last_error());
    const lt_table *a = one.n_tables == 1 ? &one.tables[0] : NULL;
    const lt_table *b = two.n_tables == 1 ? &two.tables[0] : NULL;
    LT_CHECK(a && b && a->n_rows == 2 && b->n_rows == 2, "tables");
    int fs = a ? lt_table_col_index(a, "FD_style") : -1;
    int ua = a ? lt_table_col_index(a, "UA") : -1;
    for (int i = 0; a && b && fs >= 0 && i < a->n_rows && i < b->n_rows;
         i++) {
        const lt_table_row *x = &a->rows[i], *y = &b->rows[i];
        LT_CHECK(x->n == 1 && y->n == 2 && !y->failed, "row %d: runs %d %d",
                 i, x->n, y->n);
        LT_CHECK(y->v[0][fs] == x->v[0][fs] && y->v[0][ua] == x->v[0][ua],
                 "row %d: run 0 FD %.17g, the single run's %.17g", i,
                 y->v[0][fs], x->v[0][fs]);
        LT_CHECK(y->v[1][fs] != y->v[0][fs], "row %d: run 1 repeats run 0 "
                 "(FD %g)", i, y->v[1][fs]);
    }
    LT_CHECK(strstr(lt_report_get(&two, "unlearning_runs"), "2 (run r"),
             "setting '%s'", lt_report_get(&two, "unlearning_runs"));
    c.runs = 0;
    LT_CHECK(lt_bench_canvas_check(&c) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "runs 0"), "%s", lt_last_error());
    lt_report_free(&one);
    lt_report_free(&two);
}

/* --unlearned: a model unlearned elsewhere is a row of its own. The base
 * itself with the base's encoder gives the original's numbers bit for bit
 * (the same answer set), a delta of 0 and no time; the base with an
 * encoder that differs in one weight gives the original's storage plus
 * the encoder's weights, and a delta of that weight and the bit map of
 * its tensor. Refused: a missing encoder (named), a model of another
 * architecture. */
LT_TEST(unlearned_models_are_rows)
{
    char cache[600], enc[700];
    lt_bench_canvas_cfg c = micro(cache, sizeof cache);
    c.grid_dir = NULL;
    c.methods = "original";
    lt_report r0, r;
    LT_CHECK(lt_bench_canvas(&c, &r0) == LT_OK, "%s", lt_last_error());
    const char *base = lt_report_get(&r0, "model");
    /* the quick encoder with one final-norm weight changed */
    lt_clip *clip = NULL;
    lt_clip_vocab *v = NULL;
    LT_CHECK(lt_clip_load(c.quick_encoder, &clip, &v) == LT_OK, "%s",
             lt_last_error());
    int64_t numel = 0;
    for (int j = 0; clip && j < clip->params.count; j++)
        if (!strcmp(clip->params.p[j].name,
                    "text_model.final_layer_norm.weight")) {
            clip->params.p[j].t.data[0] += 0.5f;
            numel = clip->params.p[j].t.numel;
        }
    snprintf(enc, sizeof enc, "%s/changed.clip.safetensors",
             lt_test_tmpdir());
    LT_CHECK(numel > 0 && lt_clip_save(clip, v, enc, NULL, 0) == LT_OK,
             "the changed encoder: %s", lt_last_error());
    int64_t enc_total = clip ? clip->params.n_total : 0;
    lt_clip_free(clip);
    lt_clip_vocab_free(v);
    c.unlearned[0] = (lt_bench_asr_model){"same", base, c.quick_encoder};
    c.unlearned[1] = (lt_bench_asr_model){"enc", base, enc};
    c.n_unlearned = 2;
    LT_CHECK(lt_bench_canvas(&c, &r) == LT_OK, "%s", lt_last_error());
    const lt_table *t = r.n_tables == 1 ? &r.tables[0] : NULL;
    LT_CHECK(t && t->n_rows == 3 && !strcmp(t->rows[1].text[2], "same") &&
                 !strcmp(t->rows[2].text[2], "enc") && !t->rows[1].failed &&
                 !t->rows[2].failed,
             "rows");
    if (!t || t->n_rows != 3)
        goto out;
    static const char *const same[] = {"UA", "IRA", "CRA", "FD_style",
                                       "FD_object", "full_mb"};
    for (int k = 0; k < 6; k++)
        LT_CHECK(col(t, 1, same[k]) == col(t, 0, same[k]),
                 "%s: the base as a file %.17g, the original %.17g", same[k],
                 col(t, 1, same[k]), col(t, 0, same[k]));
    LT_CHECK(col(t, 1, "delta_mb") == 0 && isnan(col(t, 1, "seconds")),
             "delta %g, time %g", col(t, 1, "delta_mb"),
             col(t, 1, "seconds"));
    double full = col(t, 0, "full_mb") + 4.0 * (double)enc_total / 1e6;
    double delta = (4.0 + (double)((numel + 7) / 8)) / 1e6;
    LT_CHECK(fabs(col(t, 2, "full_mb") - full) < 1e-12 &&
                 fabs(col(t, 2, "delta_mb") - delta) < 1e-12,
             "changed encoder: full %.9g (want %.9g), delta %.9g (want "
             "%.9g)", col(t, 2, "full_mb"), full, col(t, 2, "delta_mb"),
             delta);
    LT_CHECK(strstr(lt_report_get(&r, "unlearned_enc"), enc), "setting %s",
             lt_report_get(&r, "unlearned_enc"));
    /* refused: no FILE.clip.safetensors, and another architecture */
    c.unlearned[1] = (lt_bench_asr_model){"noenc", base, NULL};
    LT_CHECK(lt_bench_canvas_check(&c) == LT_ERR_ARG &&
                 strstr(lt_last_error(), ".clip.safetensors not found"),
             "%s", lt_last_error());
    c.unlearned[1] = (lt_bench_asr_model){
        "cond", REPO "models/fmnist-cond-s-v1.safetensors", c.quick_encoder};
    lt_report bad;
    LT_CHECK(lt_bench_canvas(&c, &bad) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "the base is"), "%s",
             lt_last_error());
    lt_report_free(&bad);
out:
    lt_report_free(&r);
    lt_report_free(&r0);
}

LT_TEST(bad_inputs_are_refused)
{
    char cache[600];
    lt_bench_canvas_cfg c = micro(cache, sizeof cache);
    lt_report r;
    c.grid_dir = "/nonexistent/grids";
    LT_CHECK(lt_bench_canvas_check(&c) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "/nonexistent/grids"), "%s",
             lt_last_error());
    c.grid_dir = NULL;
    c.resume = true;
    c.cache = NULL;
    c.model = "m.safetensors";
    c.canvas = "canvas";
    LT_CHECK(lt_bench_canvas_check(&c) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "--resume needs --cache"), "%s",
             lt_last_error());
    c = micro(cache, sizeof cache);
    c.targets = "style:nosuch";
    LT_CHECK(lt_bench_canvas_check(&c) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "no FashionCanvas style is called "
                                         "'nosuch'"),
             "%s", lt_last_error());
    c.targets = "style:neon,object:car";
    LT_CHECK(lt_bench_canvas_check(&c) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "object is called 'car'"), "%s",
             lt_last_error());
    c.targets = "object:";
    LT_CHECK(lt_bench_canvas_check(&c) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "empty"), "%s", lt_last_error());
    c.targets = "";
    LT_CHECK(lt_bench_canvas_check(&c) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "no target"), "%s",
             lt_last_error());
    c.targets = "neon";
    LT_CHECK(lt_bench_canvas_check(&c) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "style:NAME or object:NAME"), "%s",
             lt_last_error());
    c.targets = "subset";
    c.methods = "esd-x,nope";
    LT_CHECK(lt_bench_canvas_check(&c) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "'nope'"), "%s", lt_last_error());
    c.methods = "original+saliency";
    LT_CHECK(lt_bench_canvas_check(&c) == LT_ERR_ARG, "original + mask");
    c.methods = "esd-u+saliency,salun+none,fmn";
    LT_CHECK(lt_bench_canvas_check(&c) == LT_OK, "%s", lt_last_error());
    c.model = REPO "models/fmnist-cond-s-v1.safetensors";
    c.canvas = "/nonexistent"; /* refused before the canvas is read */
    LT_CHECK(lt_bench_canvas(&c, &r) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "not a text-conditioned model"),
             "%s", lt_last_error());
    lt_report_free(&r);
}

LT_TEST_MAIN()
