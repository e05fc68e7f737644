/*
 * test_bench_attack.c - the attack table (lethe/bench_attack.h) at its
 * quick setting through the library: micro models trained in the cache
 * (a base, ESD-x, AdvUnlearn with its own encoder), object:bag, 2 prompts,
 * unlearndiff / random / p4d with 2 tries each:
 *   - 9 rows (original, esd, advunlearn x 3 attacks) with consistent
 *     numbers: n, ASR >= pre-ASR, every value inside its Wilson interval,
 *     tries at most the schedule's, time per prompt positive;
 *   - the runs' records: the adversarial prompts (the prompt with k words
 *     in front, every word in the vocabulary) and replay commands naming
 *     the attacked model's encoder; AdvUnlearn's encoder differs from the
 *     original's and is recorded as such; each names the run's precision
 *     (fp32, the report's) and the backend;
 *   - resume: the records are reused (a verdict edited in a record shows
 *     in its row), nothing is run again;
 *   - the mark: its own prompt count, 5 adversarial words, the committed
 *     independent judge named in the settings;
 *   - bad input: unknown concept / method, no original, duplicate model
 *     names, a bad --model spec, a missing encoder named in the error
 *     (and no cache folder made).
 */
#include "lt_test.h"

#include "lethe/bench_attack.h"
#include "lethe/clip.h"
#include "lethe/image_metrics.h"
#include "lethe/io.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REPO LT_GOLDEN_DIR "/../../"
#define QUICK_ENC REPO "models/fashion-canvas-clip-tiny-v1.safetensors"

static double col(const lt_table *t, int row, const char *key)
{
    int c = lt_table_col_index(t, key);
    return c >= 0 && row < t->n_rows ? t->rows[row].v[0][c] : NAN;
}

static lt_bench_asr_cfg micro(char *cache, size_t n)
{
    snprintf(cache, n, "%s/atkcache", lt_test_tmpdir());
    lt_bench_asr_cfg c = lt_bench_asr_defaults();
    lt_bench_asr_quick(&c);
    c.cache = cache;
    c.quick_encoder = QUICK_ENC;
    c.object_detector = REPO LT_CANVAS_EVAL_OBJECT;
    c.style_detector = REPO LT_CANVAS_EVAL_STYLE;
    return c;
}

static void check_rows(const lt_table *t, const lt_bench_asr_cfg *c)
{
    const char *models[3] = {"original", "esd", "advunlearn"};
    const char *methods[3] = {"unlearndiff", "random", "p4d"};
    LT_CHECK(t->n_rows == 9, "rows %d", t->n_rows);
    for (int i = 0; i < t->n_rows && i < 9; i++) {
        const lt_table_row *r = &t->rows[i];
        LT_CHECK(!strcmp(r->text[0], models[i / 3]) &&
                 !strcmp(r->text[1], "object:bag") &&
                 !strcmp(r->text[2], methods[i % 3]), "row %d: %s %s %s", i,
                 r->text[0], r->text[1], r->text[2]);
        double pre = col(t, i, "pre_asr"), asr = col(t, i, "asr");
        LT_CHECK(col(t, i, "n") == c->n_prompts && asr >= pre &&
                 col(t, i, "pre_lo") <= pre && pre <= col(t, i, "pre_hi") &&
                 col(t, i, "asr_lo") <= asr && asr <= col(t, i, "asr_hi") &&
                 col(t, i, "asr_hi") > 0 && col(t, i, "asr_hi") <= 100,
                 "row %d: pre %g asr %g [%g, %g]", i, pre, asr,
                 col(t, i, "asr_lo"), col(t, i, "asr_hi"));
        double tries = col(t, i, "tries");
        LT_CHECK(tries >= 0 && tries <= c->atk.n_t &&
                 col(t, i, "seconds") > 0, "row %d: tries %g, %g s", i,
                 tries, col(t, i, "seconds"));
    }
}

/* Every adversarial prompt: words of the vocabulary, the prompt at the
 * end; the replay names the attacked encoder. */
static void check_records(const cJSON *attacks, const lt_clip_vocab *v)
{
    LT_CHECK(cJSON_GetArraySize(attacks) == 9, "%d records",
             cJSON_GetArraySize(attacks));
    const cJSON *a;
    int adv = 0;
    cJSON_ArrayForEach(a, attacks)
    {
        const char *enc = cJSON_GetStringValue(cJSON_GetObjectItem(a,
                                                                   "encoder"));
        const char *oenc = cJSON_GetStringValue(
            cJSON_GetObjectItem(a, "original_encoder"));
        const char *model = cJSON_GetStringValue(cJSON_GetObjectItem(a,
                                                                     "model"));
        bool is_adv = model && !strcmp(model, "advunlearn");
        adv += is_adv;
        LT_CHECK(enc && oenc && (is_adv ? strcmp(enc, oenc) != 0
                                        : !strcmp(enc, oenc)),
                 "%s: encoder %s, original's %s", model, enc, oenc);
        const cJSON *p;
        int np = 0;
        cJSON_ArrayForEach(p, cJSON_GetObjectItem(a, "prompts"))
        {
            const char *pr = cJSON_GetStringValue(cJSON_GetObjectItem(p,
                                                                      "prompt"));
            const char *ap = cJSON_GetStringValue(
                cJSON_GetObjectItem(p, "adversarial_prompt"));
            const char *rp = cJSON_GetStringValue(cJSON_GetObjectItem(p,
                                                                      "replay"));
            size_t lp = pr ? strlen(pr) : 0, la = ap ? strlen(ap) : 0;
            int32_t ids[16];
            int nt = 0;
            LT_CHECK(pr && ap && la > lp && !strcmp(ap + la - lp, pr) &&
                     lt_clip_tokenize(v, ap, 16, ids, &nt, NULL) == LT_OK &&
                     nt >= 3 + 2, "%s: '%s' from '%s': %s", model, ap, pr,
                     lt_last_error());
            LT_CHECK(rp && strstr(rp, "lethe dm sample") &&
                     strstr(rp, enc) && strstr(rp, ap), "replay '%s'", rp);
            np++;
        }
        LT_CHECK(np == 2, "%s: %d prompts", model, np);
    }
    LT_CHECK(adv == 3, "advunlearn records %d", adv);
}

/* Every run's record (lt_bench_dm_attack's prompts JSON) names the
 * precision the run had, the report's setting (want), and the backend. */
static void check_record_precision(const cJSON *attacks, const char *want)
{
    const cJSON *a;
    int n = 0;
    cJSON_ArrayForEach(a, attacks)
    {
        const char *path = cJSON_GetStringValue(cJSON_GetObjectItem(
            a, "record"));
        const char *why = path ? lt_test_json_precision(path, want)
                               : "a run without a record";
        LT_CHECK(!why, "%s", why);
        n++;
    }
    LT_CHECK(n == 9, "%d records", n);
}

/* Mark prompt 0 of the record of row 4 (esd, random) judged. */
static bool edit_record(const cJSON *attacks)
{
    const cJSON *a = cJSON_GetArrayItem(attacks, 4);
    const char *path = cJSON_GetStringValue(cJSON_GetObjectItem(a,
                                                                "record"));
    char *buf = NULL;
    if (!path || lt_read_file(path, &buf, NULL) != LT_OK)
        return false;
    cJSON *root = cJSON_Parse(buf);
    free(buf);
    cJSON *p = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "prompts"), 0);
    bool ok = p && cJSON_ReplaceItemInObject(p, "judged",
                                             cJSON_CreateBool(true));
    return lt_json_save(path, root, ok) == LT_OK && ok;
}

LT_TEST(quick_table_records_and_resume)
{
    char cache[600];
    lt_bench_asr_cfg c = micro(cache, sizeof cache);
    lt_report r;
    cJSON *attacks = NULL;
    LT_CHECK(lt_bench_asr(&c, &r, &attacks) == LT_OK, "%s", lt_last_error());
    LT_CHECK(r.n_tables == 1 && attacks, "tables %d", r.n_tables);
    lt_clip *clip = NULL;
    lt_clip_vocab *v = NULL;
    LT_CHECK(lt_clip_load(QUICK_ENC, &clip, &v) == LT_OK && v, "%s",
             lt_last_error());
    if (r.n_tables == 1 && attacks && v) {
        check_rows(&r.tables[0], &c);
        check_records(attacks, v);
        LT_CHECK(strstr(lt_report_get(&r, "model.advunlearn"),
                        "weights sha256 ") &&
                 strstr(lt_report_get(&r, "judges"), "not independent") &&
                 *lt_report_get(&r, "precision"), "settings");
        LT_CHECK(!strcmp(lt_report_get(&r, "precision"), "fp32"),
                 "precision %s", lt_report_get(&r, "precision"));
        check_record_precision(attacks, lt_report_get(&r, "precision"));
        /* resume: reuses the records, the edited verdict shows */
        LT_CHECK(edit_record(attacks), "editing a record");
        double before = col(&r.tables[0], 4, "asr");
        lt_report r2;
        c.resume = true;
        LT_CHECK(lt_bench_asr(&c, &r2, NULL) == LT_OK, "%s",
                 lt_last_error());
        LT_CHECK(r2.n_tables == 1 && r2.tables[0].n_rows == 9 &&
                 col(&r2.tables[0], 4, "asr") == 50 && before == 0 &&
                 col(&r2.tables[0], 3, "asr") == col(&r.tables[0], 3, "asr"),
                 "resumed row 4: ASR %g (was %g)",
                 col(&r2.tables[0], 4, "asr"), before);
        lt_report_free(&r2);
    }
    cJSON_Delete(attacks);
    lt_clip_free(clip);
    lt_clip_vocab_free(v);
    lt_report_free(&r);
}

/* The mark as a concept: its own prompt count, k = 5 adversarial tokens
 * (the records' k), and in the settings the committed independent judges
 * of the mark and of objects (the defaults with the committed detectors),
 * and the style's judge flagged as the detector when a detector is given
 * without a judge. */
LT_TEST(quick_table_of_the_mark)
{
    char cache[600];
    lt_bench_asr_cfg c = micro(cache, sizeof cache);
    c.concepts = "mark";
    c.methods = "random";
    c.n_mark_prompts = 3;
    c.mark_detector = REPO LT_CANVAS_EVAL_MARK;
    c.mark_judge = REPO LT_CANVAS_JUDGE_MARK;
    c.object_detector = NULL; /* the settings name the committed judge */
    c.style_detector = REPO LT_CANVAS_EVAL_STYLE; /* flagged: no judge */
    lt_report r;
    cJSON *attacks = NULL;
    LT_CHECK(lt_bench_asr(&c, &r, &attacks) == LT_OK, "%s", lt_last_error());
    const lt_table *t = r.n_tables == 1 ? &r.tables[0] : NULL;
    LT_CHECK(t && t->n_rows == 3, "rows %d", t ? t->n_rows : -1);
    for (int i = 0; t && i < t->n_rows; i++)
        LT_CHECK(!strcmp(t->rows[i].text[1], "mark") && col(t, i, "n") == 3,
                 "row %d: %s, n %g", i, t->rows[i].text[1], col(t, i, "n"));
    const char *j = t ? lt_report_get(&r, "judges") : NULL;
    const char *mj = j ? strstr(j, "mark " REPO LT_CANVAS_JUDGE_MARK) : NULL;
    LT_CHECK(mj && !strstr(mj, "not independent") &&
                 strstr(j, "object " LT_CANVAS_JUDGE_OBJECT ", ") &&
                 strstr(j, "style " REPO LT_CANVAS_EVAL_STYLE
                           " (the detector: not independent)") &&
                 strstr(lt_report_get(&r, "schedule"), "k 3 (5 for the mark)"),
             "judges '%s'", j);
    const cJSON *a;
    int n = 0, records = 0;
    cJSON_ArrayForEach(a, attacks)
    {
        const char *path = cJSON_GetStringValue(cJSON_GetObjectItem(
            a, "record"));
        char *buf = NULL;
        cJSON *rec = path && lt_read_file(path, &buf, NULL) == LT_OK
                         ? cJSON_Parse(buf)
                         : NULL;
        free(buf);
        LT_CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(rec, "k")) == 5,
                 "record %s: k", path ? path : "(none)");
        records += rec != NULL;
        cJSON_Delete(rec);
        n += cJSON_GetArraySize(cJSON_GetObjectItem(a, "prompts"));
    }
    LT_CHECK(records == 3 && n == 9, "%d records, %d prompts", records, n);
    cJSON_Delete(attacks);
    lt_report_free(&r);
}

LT_TEST(bad_input_is_a_clear_error)
{
    char cache[600];
    lt_bench_asr_cfg c = micro(cache, sizeof cache);
    c.concepts = "object:spaceship";
    LT_CHECK(lt_bench_asr_check(&c) == LT_ERR_ARG &&
             strstr(lt_last_error(), "spaceship"), "concept: %s",
             lt_last_error());
    c = micro(cache, sizeof cache);
    c.methods = "unlearndiff,gcg";
    LT_CHECK(lt_bench_asr_check(&c) == LT_ERR_ARG &&
             strstr(lt_last_error(), "gcg"), "method: %s", lt_last_error());
    c = lt_bench_asr_defaults();
    LT_CHECK(lt_bench_asr_check(&c) == LT_ERR_ARG &&
             strstr(lt_last_error(), "--original"), "no original: %s",
             lt_last_error());
    char b1[256], b2[256];
    c.original = "o.safetensors";
    LT_CHECK(lt_bench_asr_model_parse("esd=e.safetensors", b1, sizeof b1,
                                      &c.models[0]) == LT_OK &&
             !strcmp(c.models[0].name, "esd") && !c.models[0].encoder &&
             lt_bench_asr_model_parse("esd=a.safetensors:a.clip", b2,
                                      sizeof b2, &c.models[1]) == LT_OK &&
             !strcmp(c.models[1].file, "a.safetensors") &&
             !strcmp(c.models[1].encoder, "a.clip"), "model specs");
    c.n_models = 2;
    LT_CHECK(lt_bench_asr_check(&c) == LT_ERR_ARG &&
             strstr(lt_last_error(), "two models named 'esd'"),
             "duplicate: %s", lt_last_error());
    LT_CHECK(lt_bench_asr_model_parse("e.safetensors", b1, sizeof b1,
                                      &c.models[0]) == LT_ERR_ARG &&
             strstr(lt_last_error(), "NAME=FILE"), "bad spec");
    /* a missing encoder: named */
    c = micro(cache, sizeof cache);
    c.quick = false;
    c.attack_original = false;
    c.original = REPO "models/fashion-canvas-object-v1.safetensors";
    c.original_encoder = QUICK_ENC;
    c.models[0] = (lt_bench_asr_model){"x", c.original,
                                       "/nonexistent/enc.safetensors"};
    c.n_models = 1;
    char bad_cache[700];
    snprintf(bad_cache, sizeof bad_cache, "%s/atkbad", lt_test_tmpdir());
    c.cache = bad_cache; /* nothing made before the inputs are checked */
    lt_report r;
    LT_CHECK(lt_bench_asr(&c, &r, NULL) != LT_OK &&
             strstr(lt_last_error(), "/nonexistent/enc.safetensors") &&
             access(bad_cache, F_OK) != 0,
             "missing encoder: %s", lt_last_error());
    lt_report_free(&r);
}

LT_TEST_MAIN()
