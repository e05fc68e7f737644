/*
 * attack.c - `lethe bench attack` (lethe/bench_attack.h): the table of
 * pre-ASR / ASR of UnlearnDiff, random prefixes and P4D against the
 * original and the unlearned text models, per FashionCanvas concept, each
 * run one lt_bench_dm_attack (src/bench/dm_attack.c) whose per-prompt
 * record is kept in the cache (and reused by --resume); the quick setting
 * trains its micro models here. Under mpirun the runs are dealt to the
 * ranks, and every rank then builds the table from the records in the
 * cache (which every rank must see): docs/mpi.md.
 */
#include "lethe/bench_attack.h"
#include "lethe/canvas.h"
#include "lethe/dm_advunlearn.h"
#include "lethe/dm_canvas.h"
#include "lethe/dm_canvas_unlearn.h"
#include "lethe/dm_text_unlearn.h"
#include "lethe/image_metrics.h"
#include "lethe/io.h"
#include "lethe/safetensors.h"

#include "bench_dist.h"
#include "bench_util.h"
#include "lethe/dist.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_N 1200

lt_bench_asr_cfg lt_bench_asr_defaults(void)
{
    return (lt_bench_asr_cfg){
        .attack_original = true, .concepts = "object:bag,style:neon",
        .methods = "unlearndiff,random,p4d", .n_prompts = 50,
        .n_mark_prompts = 142,
        .prompt_seed = 1, .atk = lt_atk_defaults(),
        .quick_encoder = "models/fashion-canvas-clip-tiny-v1.safetensors",
        .base_arch = "text:xs,ch=8,groups=4,blocks=1", .base_steps = 8};
}

void lt_bench_asr_quick(lt_bench_asr_cfg *c)
{
    c->quick = true;
    c->concepts = "object:bag";
    c->n_prompts = 2;
    c->n_mark_prompts = 2;
    c->atk.n_t = 2;
    c->atk.iters = 1;
    c->atk.sample.steps = 2;
}

lt_status lt_bench_asr_model_parse(const char *spec, char *buf, size_t n,
                                   lt_bench_asr_model *m)
{
    const char *eq = spec ? strchr(spec, '=') : NULL;
    if (!eq || eq == spec || !eq[1] || strlen(spec) >= n)
        return lt_set_error(LT_ERR_ARG, "model '%s': want NAME=FILE or "
                            "NAME=FILE:ENCODER", spec ? spec : "");
    memcpy(buf, spec, strlen(spec) + 1);
    buf[eq - spec] = '\0';
    char *file = buf + (eq - spec) + 1, *colon = strrchr(file, ':');
    *m = (lt_bench_asr_model){.name = buf, .file = file};
    if (colon) {
        *colon = '\0';
        m->encoder = colon + 1;
    }
    if (!*m->file || (m->encoder && !*m->encoder) ||
        strlen(m->name) >= LT_TABLE_TEXT)
        return lt_set_error(LT_ERR_ARG, "model '%s': an empty file or "
                            "encoder, or a name of %d bytes or more", spec,
                            LT_TABLE_TEXT);
    return LT_OK;
}

/* ---- checks ---------------------------------------------------------------------- */

static lt_status check_concept(const char *s)
{
    bool ok = (!strncmp(s, "object:", 7) && lt_canvas_object_find(s + 7) >= 0)
              || (!strncmp(s, "style:", 6) && lt_canvas_style_find(s + 6) >= 0)
              || !strcmp(s, "mark");
    return ok ? LT_OK
              : lt_set_error(LT_ERR_ARG, "bench attack: unknown concept "
                             "'%s' (object:NAME or style:NAME of "
                             "FashionCanvas, or mark)", s);
}

static lt_status check_lists(const lt_bench_asr_cfg *c)
{
    char buf[LT_TABLE_TEXT];
    int n = 0;
    lt_status st = LT_OK;
    for (; st == LT_OK && lt_list_item(c->concepts, n, buf, sizeof buf); n++)
        st = check_concept(buf);
    if (st == LT_OK && n == 0)
        st = lt_set_error(LT_ERR_ARG, "bench attack: no concept");
    lt_atk_method m;
    for (n = 0; st == LT_OK && lt_list_item(c->methods, n, buf, sizeof buf);
         n++)
        if (lt_atk_method_parse(buf, &m) != LT_OK)
            st = lt_set_error(LT_ERR_ARG, "bench attack: unknown method "
                              "'%s' (unlearndiff, random, p4d, none)", buf);
    if (st == LT_OK && n == 0)
        st = lt_set_error(LT_ERR_ARG, "bench attack: no method");
    return st;
}

lt_status lt_bench_asr_check(const lt_bench_asr_cfg *c)
{
    if (!c || !c->concepts || !c->methods)
        return lt_set_error(LT_ERR_ARG, "bench attack: no config, concepts "
                            "or methods");
    if (!c->quick && !c->original)
        return lt_set_error(LT_ERR_ARG, "bench attack: the original model "
                            "(--original) is required (or --quick)");
    if (c->n_models < 0 || c->n_models > LT_BENCH_ASR_MAX_MODELS ||
        (c->n_models == 0 && !c->quick && !c->attack_original))
        return lt_set_error(LT_ERR_ARG, "bench attack: %d models (at most "
                            "%d, at least one row)", c->n_models,
                            LT_BENCH_ASR_MAX_MODELS);
    if (c->n_prompts < 1 || c->n_mark_prompts < 1 || c->atk.n_t < 1 ||
        c->atk.iters < 1)
        return lt_set_error(LT_ERR_ARG, "bench attack: %d prompts (%d of "
                            "the mark), %d timesteps of %d steps (each at "
                            "least 1)", c->n_prompts, c->n_mark_prompts,
                            c->atk.n_t, c->atk.iters);
    for (int i = 0; i < c->n_models; i++) {
        const lt_bench_asr_model *m = &c->models[i];
        if (!m->name || !m->file || !*m->name ||
            strlen(m->name) >= LT_TABLE_TEXT || !strcmp(m->name, "original"))
            return lt_set_error(LT_ERR_ARG, "bench attack: model %d needs a "
                                "name (not 'original', under %d bytes) and "
                                "a file", i + 1, LT_TABLE_TEXT);
        for (int j = 0; j < i; j++)
            if (!strcmp(m->name, c->models[j].name))
                return lt_set_error(LT_ERR_ARG, "bench attack: two models "
                                    "named '%s'", m->name);
    }
    return check_lists(c);
}

/* ---- the run's state -------------------------------------------------------------- */

typedef struct {
    char name[LT_TABLE_TEXT];
    char file[PATH_N], enc[PATH_N];
} asr_model;

typedef struct {
    const lt_bench_asr_cfg *c;
    char cache[1024];
    asr_model orig;
    asr_model m[LT_BENCH_ASR_MAX_MODELS + 3];
    int n;                 /* rows' models (the original first, if so) */
    lt_table *t;
    cJSON *attacks;
} asr_run;

static void model_set(asr_model *m, const char *name, const char *file,
                      const char *enc)
{
    snprintf(m->name, sizeof m->name, "%s", name);
    snprintf(m->file, sizeof m->file, "%s", file);
    if (enc)
        snprintf(m->enc, sizeof m->enc, "%s", enc);
    else
        snprintf(m->enc, sizeof m->enc, "%.1150s.clip.safetensors", file);
}

/* ---- quick micro models ------------------------------------------------------------- */

typedef struct {
    lt_clip *clip;
    lt_clip_vocab *v;
    char canvas[PATH_N];
    bool is_style;
    int index;
    char concept[96];      /* the unlearned concept's text */
} quick;

static lt_status quick_canvas(asr_run *r, quick *q)
{
    snprintf(q->canvas, sizeof q->canvas, "%s/canvas-q1", r->cache);
    char idx[PATH_N + 16];
    snprintf(idx, sizeof idx, "%s/index.json", q->canvas);
    if (lt_bench_exists(idx))
        return LT_OK;
    lt_canvas_config g = lt_canvas_defaults();
    g.per_class = g.test_per_class = 1;
    lt_bench_note(r->c->progress, r->c->ud, "bench attack: generating a "
                  "canvas of 1 picture per class -> %s", q->canvas);
    return lt_canvas_generate(&g, q->canvas, NULL, NULL);
}

/* The base: base_arch trained base_steps on the quick canvas. */
static lt_status quick_base(asr_run *r, quick *q, const char *path)
{
    if (lt_bench_exists(path))
        return LT_OK;
    lt_canvas tr;
    memset(&tr, 0, sizeof tr);
    lt_unet *u = NULL;
    lt_dm_schedule s = {0};
    lt_status st = lt_canvas_load(q->canvas, "train", &tr);
    if (st == LT_OK)
        st = lt_unet_create(r->c->base_arch, &u);
    if (st == LT_OK)
        st = lt_dm_schedule_make("linear", 1000, &s);
    if (st == LT_OK) {
        lt_unet_init(u, 1);
        lt_dm_train_config tc = lt_dm_train_defaults();
        tc.steps = r->c->base_steps;
        tc.batch = 16;
        lt_bench_note(r->c->progress, r->c->ud, "bench attack: training %s "
                      "(%lld steps) -> %s", r->c->base_arch,
                      (long long)r->c->base_steps, path);
        st = lt_canvas_dm_train(u, &s, q->clip, q->v, &tr, &tc, path, false,
                                NULL, NULL);
    }
    lt_unet_free(u);
    if (s.abar)
        lt_dm_schedule_free(&s);
    lt_canvas_free(&tr);
    return st;
}

/* ESD-x of the concept, 2 iterations of DDIM-2. */
static lt_status quick_esd(quick *q, const char *base, const char *path)
{
    if (lt_bench_exists(path))
        return LT_OK;
    lt_unet *u = NULL;
    lt_dm_schedule s = {0};
    lt_status st = lt_unet_load(base, &u, &s);
    int64_t LD = st == LT_OK ? (int64_t)u->cfg.ctx_len * u->cfg.ctx_dim : 1;
    float *ctx = malloc((size_t)LD * sizeof *ctx);
    float *nul = malloc((size_t)LD * sizeof *nul);
    const char *texts[1] = {q->concept};
    if (st == LT_OK && (!ctx || !nul))
        st = lt_set_error(LT_ERR_NOMEM, "bench attack");
    if (st == LT_OK)
        st = lt_canvas_contexts(q->clip, q->v, texts, 1, ctx);
    if (st == LT_OK)
        st = lt_dm_empty_context(q->clip, nul);
    lt_esd_config e = lt_esd_defaults();
    e.steps = 2;
    e.ddim_steps = 2;
    if (st == LT_OK)
        st = lt_esd_run(u, &s, ctx, nul, &e, NULL, NULL);
    if (st == LT_OK)
        st = lt_unet_save(u, path, &s, NULL, 0);
    free(ctx);
    free(nul);
    lt_unet_free(u);
    if (u)
        lt_dm_schedule_free(&s);
    return st;
}

/* AdvUnlearn of the concept (the encoder trained, 2 iterations): the
 * UNet stays the base, the robust encoder goes to path. */
static lt_status quick_adv(asr_run *r, quick *q, const char *base,
                           const char *path)
{
    if (lt_bench_exists(path))
        return LT_OK;
    lt_unet *u = NULL;
    lt_dm_schedule s = {0};
    lt_clip *enc = NULL;
    lt_status st = lt_unet_load(base, &u, &s);
    if (st == LT_OK)
        st = lt_clip_load(r->c->quick_encoder, &enc, NULL);
    int L = enc ? enc->cfg.context_length : 1;
    int32_t *ids = calloc((size_t)L, sizeof *ids);
    if (st == LT_OK && !ids)
        st = lt_set_error(LT_ERR_NOMEM, "bench attack");
    if (st == LT_OK)
        st = lt_clip_tokenize(q->v, q->concept, L, ids, NULL, NULL);
    lt_adv_config a = lt_adv_defaults();
    a.steps = 2;
    a.warmup = 1;
    a.attack_steps = 1;
    a.ddim_steps = 2;
    a.retain_weight = 0;
    lt_adv_data d = {.clip = enc, .u = u, .s = &s, .concept_ids = ids};
    if (st == LT_OK)
        st = lt_adv_run(&d, &a, NULL, NULL);
    if (st == LT_OK)
        st = lt_clip_save(enc, q->v, path, NULL, 0);
    free(ids);
    lt_clip_free(enc);
    lt_unet_free(u);
    if (u)
        lt_dm_schedule_free(&s);
    return st;
}

/* The unlearned concept: the first object or style of the list (the mark
 * has no words to erase; a list of the mark alone erases object:bag). */
static void quick_concept(const lt_bench_asr_cfg *c, quick *q)
{
    char buf[LT_TABLE_TEXT] = "object:bag", item[LT_TABLE_TEXT];
    for (int j = 0; lt_list_item(c->concepts, j, item, sizeof item); j++)
        if (strcmp(item, "mark")) {
            memcpy(buf, item, sizeof buf);
            break;
        }
    q->is_style = !strncmp(buf, "style:", 6);
    if (q->is_style) {
        q->index = lt_canvas_style_find(buf + 6);
        snprintf(q->concept, sizeof q->concept, "%s Style",
                 lt_canvas_style_at(q->index)->name);
    } else {
        q->index = lt_canvas_object_find(buf + 7);
        snprintf(q->concept, sizeof q->concept, "An image of %s",
                 lt_canvas_object_at(q->index)->word);
    }
}

static lt_status quick_models(asr_run *r)
{
    const lt_bench_asr_cfg *c = r->c;
    quick q;
    memset(&q, 0, sizeof q);
    quick_concept(c, &q);
    uint64_t h = lt_bench_fnv(c->base_arch);
    h = lt_bench_fnv_bytes(h, &c->base_steps, sizeof c->base_steps);
    h = lt_bench_fnv_bytes(h, c->quick_encoder, strlen(c->quick_encoder));
    h = lt_bench_fnv_bytes(h, q.concept, strlen(q.concept));
    h = lt_bench_fnv_precision(h);
    char base[PATH_N], esd[PATH_N], adv[PATH_N];
    snprintf(base, sizeof base, "%s/attack-base-%016llx.safetensors",
             r->cache, (unsigned long long)h);
    snprintf(esd, sizeof esd, "%s/attack-esd-%016llx.safetensors", r->cache,
             (unsigned long long)h);
    snprintf(adv, sizeof adv, "%s/attack-adv-%016llx.clip.safetensors",
             r->cache, (unsigned long long)h);
    lt_status st = quick_canvas(r, &q);
    if (st == LT_OK)
        st = lt_clip_load(c->quick_encoder, &q.clip, &q.v);
    if (st == LT_OK && !q.v)
        st = lt_set_error(LT_ERR_FORMAT, "bench attack: %s has no "
                          "vocabulary", c->quick_encoder);
    if (st == LT_OK)
        st = quick_base(r, &q, base);
    if (st == LT_OK)
        st = quick_esd(&q, base, esd);
    if (st == LT_OK)
        st = quick_adv(r, &q, base, adv);
    lt_clip_free(q.clip);
    lt_clip_vocab_free(q.v);
    model_set(&r->orig, "original", base, c->quick_encoder);
    model_set(&r->m[r->n++], "esd", esd, c->quick_encoder);
    model_set(&r->m[r->n++], "advunlearn", base, adv);
    return st;
}

/* ---- one run ------------------------------------------------------------------------- */

static const lt_table_col asr_cols[] = {
    {"model", "Model", NULL, 0, false},
    {"concept", "Concept", NULL, 0, false},
    {"method", "Attack", NULL, 0, false},
    {"n", "Prompts", "%.0f", 0, false},
    {"pre_asr", "Pre-ASR %", "%.1f", 0, false},
    {"pre_lo", "95% lo", "%.1f", 0, false},
    {"pre_hi", "95% hi", "%.1f", 0, false},
    {"asr", "ASR %", "%.1f", 0, false},
    {"asr_lo", "95% lo", "%.1f", 0, false},
    {"asr_hi", "95% hi", "%.1f", 0, false},
    {"det_asr", "ASR % (detector)", "%.1f", 0, false},
    {"tries", "Mean tries", "%.1f", 0, false},
    {"seconds", "s / prompt", "%.2f", 0, false},
};
#define N_COLS ((int)(sizeof asr_cols / sizeof *asr_cols))

/* The run's record file: a hash of everything the run depends on. */
static void run_key(const asr_run *r, const lt_bench_attack_cfg *a,
                    char *path, size_t n)
{
    const char *s[] = {a->unlearned, a->encoder, a->original,
                       a->original_encoder, a->concept,
                       a->detector ? a->detector : "",
                       a->judge ? a->judge : ""};
    uint64_t h = lt_bench_fnv("bench-attack-1");
    for (size_t i = 0; i < sizeof s / sizeof *s; i++)
        h = lt_bench_fnv_bytes(h, s[i], strlen(s[i]) + 1);
    const lt_atk_config *k = &a->atk;
    int ints[] = {(int)k->method, a->k, k->n_t, k->iters, a->n_prompts,
                  k->sample.steps, (int)k->sample.guidance};
    double dbl[] = {k->lr, k->weight_decay, k->xi, k->sample.eta,
                    k->sample.w};
    uint64_t seeds[] = {k->seed, a->prompt_seed};
    h = lt_bench_fnv_bytes(h, ints, sizeof ints);
    h = lt_bench_fnv_bytes(h, dbl, sizeof dbl);
    h = lt_bench_fnv_bytes(h, seeds, sizeof seeds);
    h = lt_bench_fnv_precision(h);
    snprintf(path, n, "%s/attack-runs/%016llx.json", r->cache,
             (unsigned long long)h);
}

static bool has_mark(const lt_bench_asr_cfg *c)
{
    char cc[LT_TABLE_TEXT];
    for (int j = 0; lt_list_item(c->concepts, j, cc, sizeof cc); j++)
        if (!strcmp(cc, "mark"))
            return true;
    return false;
}

static const char *detector_of(const lt_bench_asr_cfg *c, const char *cc,
                               bool judge)
{
    bool mark = !strcmp(cc, "mark"), style = !strncmp(cc, "style:", 6);
    const char *det, *jdg;
    lt_bench_attack_classifiers(cc,
                                mark    ? c->mark_detector
                                : style ? c->style_detector
                                        : c->object_detector,
                                mark    ? c->mark_judge
                                : style ? c->style_judge
                                        : c->object_judge,
                                &det, &jdg);
    return judge ? jdg : det;
}

/* The judges of the report's settings, flagged where a judge is the
 * detector. */
static lt_status judges_setting(const lt_bench_asr_cfg *c, lt_report *out)
{
    static const char *const names[3] = {"object", "style", "mark"};
    static const char *const concepts[3] = {"object:", "style:", "mark"};
    const int axes = has_mark(c) ? 3 : 2;
    char buf[1500] = "";
    size_t n = 0;
    for (int a = 0; a < axes && n < sizeof buf; a++) {
        const char *j = detector_of(c, concepts[a], true);
        bool same = !strcmp(j, detector_of(c, concepts[a], false));
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s %s%s",
                              a ? ", " : "", names[a], j,
                              same ? " (the detector: not independent)" : "");
    }
    return lt_report_set(out, "judges", buf);
}

/* A boolean field of every prompt of a record into out[n]. */
static int record_flags(const cJSON *prompts, const char *key, bool *out,
                        int n)
{
    int i = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, prompts)
    {
        if (i < n)
            out[i] = cJSON_IsTrue(cJSON_GetObjectItem(p, key));
        i++;
    }
    return i;
}

static double record_mean(const cJSON *prompts, const char *key)
{
    double s = 0;
    int n = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, prompts)
    {
        s += cJSON_GetNumberValue(cJSON_GetObjectItem(p, key));
        n++;
    }
    return n ? s / n : NAN;
}

/* The row of a record: the judge's pre-ASR / ASR, the detector's ASR. */
static lt_status row_of(asr_run *r, const char *model, const char *cc,
                        const char *method, const cJSON *prompts)
{
    int n = cJSON_GetArraySize(prompts);
    bool *f = n > 0 ? calloc((size_t)n * 4, sizeof *f) : NULL;
    if (!f)
        return lt_set_error(LT_ERR_FORMAT, "bench attack: a run record "
                            "without prompts");
    record_flags(prompts, "pre_judged", f, n);
    record_flags(prompts, "judged", f + n, n);
    record_flags(prompts, "pre_detected", f + 2 * n, n);
    record_flags(prompts, "detected", f + 3 * n, n);
    lt_atk_asr j, d;
    lt_status st = lt_atk_asr_compute(f, f + n, n, &j);
    if (st == LT_OK)
        st = lt_atk_asr_compute(f + 2 * n, f + 3 * n, n, &d);
    free(f);
    lt_table_row *row = st == LT_OK ? lt_table_add_row(r->t) : NULL;
    if (!row)
        return lt_last_status();
    snprintf(row->text[0], LT_TABLE_TEXT, "%s", model);
    snprintf(row->text[1], LT_TABLE_TEXT, "%s", cc);
    snprintf(row->text[2], LT_TABLE_TEXT, "%s", method);
    double v[LT_TABLE_MAX_COLS] = {
        0, 0, 0, n, 100 * j.pre_asr, 100 * j.pre_lo, 100 * j.pre_hi,
        100 * j.asr, 100 * j.asr_lo, 100 * j.asr_hi, 100 * d.asr,
        record_mean(prompts, "tries"), record_mean(prompts, "seconds")};
    return lt_table_row_add_run(row, v);
}

/* Read a run's record; *root owned by the caller. */
static lt_status record_load(const char *path, cJSON **root)
{
    char *buf = NULL;
    lt_status st = lt_read_file(path, &buf, NULL);
    *root = st == LT_OK ? cJSON_Parse(buf) : NULL;
    free(buf);
    if (st == LT_OK && !cJSON_IsArray(cJSON_GetObjectItem(*root, "prompts")))
        st = lt_set_error(LT_ERR_FORMAT, "bench attack: %s is not a run "
                          "record (delete it)", path);
    return st;
}

/* The record's entry of the attacks list (takes root). */
static void attack_entry(asr_run *r, const asr_model *m,
                         const lt_bench_attack_cfg *a, const char *path,
                         cJSON *root)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *p = cJSON_DetachItemFromObject(root, "prompts");
    cJSON_Delete(root);
    if (!o || !r->attacks) {
        cJSON_Delete(o);
        cJSON_Delete(p);
        return;
    }
    cJSON_AddStringToObject(o, "model", m->name);
    cJSON_AddStringToObject(o, "concept", a->concept);
    cJSON_AddStringToObject(o, "method", lt_atk_method_name(a->atk.method));
    cJSON_AddStringToObject(o, "unlearned", a->unlearned);
    cJSON_AddStringToObject(o, "encoder", a->encoder);
    cJSON_AddStringToObject(o, "original", a->original);
    cJSON_AddStringToObject(o, "original_encoder", a->original_encoder);
    cJSON_AddStringToObject(o, "record", path);
    if (p)
        cJSON_AddItemToObject(o, "prompts", p);
    cJSON_AddItemToArray(r->attacks, o);
}

/* The run of model m, concept cc and method into a, its record's path
 * (the key of everything it depends on) into path. */
static void run_cfg(const asr_run *r, const asr_model *m, const char *cc,
                    lt_atk_method method, lt_bench_attack_cfg *out,
                    char *path, size_t n)
{
    const lt_bench_asr_cfg *c = r->c;
    lt_bench_attack_cfg a = lt_bench_attack_defaults();
    a.original = r->orig.file;
    a.original_encoder = r->orig.enc;
    a.unlearned = m->file;
    a.encoder = m->enc;
    a.concept = cc;
    a.n_prompts = strcmp(cc, "mark") ? c->n_prompts : c->n_mark_prompts;
    a.prompt_seed = c->prompt_seed;
    a.k = c->k;
    a.detector = detector_of(c, cc, false);
    a.judge = detector_of(c, cc, true);
    a.atk = c->atk;
    a.atk.method = method;
    a.command = c->command;
    run_key(r, &a, path, n);
    *out = a;
}

/* Run the attack (its record written into the cache), unless --resume
 * finds its record. */
static lt_status run_attack(asr_run *r, const asr_model *m, const char *cc,
                            lt_atk_method method)
{
    const lt_bench_asr_cfg *c = r->c;
    lt_bench_attack_cfg a;
    char path[PATH_N + 64];
    run_cfg(r, m, cc, method, &a, path, sizeof path);
    a.prompts_json = path;
    if (c->resume && lt_bench_exists(path)) {
        lt_bench_note(c->progress, c->ud, "  %s / %s / %s: done before "
                      "(--resume)", m->name, cc, lt_atk_method_name(method));
        return LT_OK;
    }
    lt_bench_note(c->progress, c->ud, "  %s / %s / %s ...", m->name, cc,
                  lt_atk_method_name(method));
    lt_report sub;
    memset(&sub, 0, sizeof sub);
    lt_status st = lt_bench_dm_attack(&a, &sub);
    lt_report_free(&sub);
    return st;
}

/* The run's row and its entry of the attacks list, from its record. */
static lt_status run_row(asr_run *r, const asr_model *m, const char *cc,
                         lt_atk_method method)
{
    lt_bench_attack_cfg a;
    char path[PATH_N + 64];
    run_cfg(r, m, cc, method, &a, path, sizeof path);
    cJSON *root = NULL;
    lt_status st = record_load(path, &root);
    if (st == LT_OK)
        st = row_of(r, m->name, cc, lt_atk_method_name(method),
                    cJSON_GetObjectItem(root, "prompts"));
    if (st == LT_OK)
        attack_entry(r, m, &a, path, root);
    else
        cJSON_Delete(root);
    return st;
}

/* ---- settings and the whole table --------------------------------------------------- */

/* "FILE; encoder ENC (weights sha256 HEX)" of a model. */
static lt_status model_setting(lt_report *out, const char *key,
                               const asr_model *m)
{
    char hex[65], buf[2 * PATH_N + 128];
    lt_status st = lt_st_weights_sha256(m->enc, hex);
    if (st != LT_OK)
        return lt_set_error(st, "bench attack: encoder of %s: %s", m->name,
                            lt_last_error());
    snprintf(buf, sizeof buf, "%s; encoder %s (weights sha256 %s)", m->file,
             m->enc, hex);
    return lt_report_set(out, key, buf);
}

static lt_status settings(asr_run *r, lt_report *out)
{
    const lt_bench_asr_cfg *c = r->c;
    snprintf(out->title, sizeof out->title, "Prompt attacks on unlearned "
             "text models (%s)", c->concepts);
    lt_status st = lt_bench_common_settings(out, c->command);
    if (st == LT_OK)
        st = model_setting(out, "model.original", &r->orig);
    char key[96], buf[512];
    for (int i = 0; st == LT_OK && i < r->n; i++) {
        snprintf(key, sizeof key, "model.%s", r->m[i].name);
        if (strcmp(r->m[i].name, "original"))
            st = model_setting(out, key, &r->m[i]);
    }
    char k[32];
    snprintf(k, sizeof k, c->k ? "%d" : "3 (5 for the mark)", c->k);
    snprintf(buf, sizeof buf, "%d timesteps x %d steps (%d tries per "
             "attack), k %s, lr %g, weight decay %g, seed %llu; %d DDIM "
             "steps, guidance %g", c->atk.n_t, c->atk.iters, c->atk.n_t, k,
             (double)c->atk.lr,
             (double)c->atk.weight_decay, (unsigned long long)c->atk.seed,
             c->atk.sample.steps, (double)c->atk.sample.w);
    if (st == LT_OK)
        st = lt_report_set(out, "schedule", buf);
    if (st == LT_OK)
        st = lt_report_set_num(out, "prompts_per_concept", c->n_prompts);
    if (st == LT_OK && has_mark(c))
        st = lt_report_set_num(out, "prompts_of_the_mark", c->n_mark_prompts);
    st = st == LT_OK ? judges_setting(c, out) : st;
    if (st == LT_OK && c->quick)
        st = lt_report_set(out, "quick", "micro models trained in seconds: "
                           "the path, not a measurement");
    return st;
}

/* Every model x concept x method, in the table's order: run (own only:
 * run q is rank q mod K's, the failing one named in label) or read its
 * record into the table. */
static lt_status run_each(asr_run *r, bool run, char *label, size_t n)
{
    const lt_bench_asr_cfg *c = r->c;
    char cc[LT_TABLE_TEXT], mb[LT_TABLE_TEXT];
    lt_status st = LT_OK;
    int64_t q = 0;
    for (int i = 0; st == LT_OK && i < r->n; i++)
        for (int j = 0; st == LT_OK && lt_list_item(c->concepts, j, cc,
                                                    sizeof cc); j++)
            for (int k = 0; st == LT_OK && lt_list_item(c->methods, k, mb,
                                                        sizeof mb); k++) {
                lt_atk_method m;
                st = lt_atk_method_parse(mb, &m);
                snprintf(label, n, "%s / %s / %s", r->m[i].name, cc, mb);
                if (st == LT_OK && !run)
                    st = run_row(r, &r->m[i], cc, m);
                else if (st == LT_OK && lt_bench_mine(q))
                    st = run_attack(r, &r->m[i], cc, m);
                q++;
            }
    return st;
}

/* The runs dealt to the ranks; once every rank has written its records
 * (a failure stops every rank, naming its rank and run), every rank
 * builds the table from them in the single-process order. */
static lt_status run_table(asr_run *r)
{
    char label[4 * LT_TABLE_TEXT] = "";
    lt_status st = lt_bench_agree(run_each(r, true, label, sizeof label),
                                  label);
    return st == LT_OK ? run_each(r, false, label, sizeof label) : st;
}

/* The rows' models: the original first (attack_original), the given ones
 * after the quick ones. */
static lt_status models_open(asr_run *r)
{
    const lt_bench_asr_cfg *c = r->c;
    lt_status st = LT_OK;
    if (c->quick)
        st = quick_models(r);
    if (!c->quick) /* quick: the quick base is the original */
        model_set(&r->orig, "original", c->original, c->original_encoder);
    for (int i = 0; i < c->n_models; i++)
        model_set(&r->m[r->n++], c->models[i].name, c->models[i].file,
                  c->models[i].encoder);
    if (c->attack_original) {
        memmove(r->m + 1, r->m, (size_t)r->n * sizeof *r->m);
        r->m[0] = r->orig;
        r->n++;
    }
    return st;
}

/* Every model's file and encoder is there (before any folder is made). */
static lt_status inputs_exist(const asr_run *r)
{
    for (int i = 0; i < r->n; i++) {
        const asr_model *m = &r->m[i];
        const char *what = !lt_bench_exists(m->file) ? "file"
                           : !lt_bench_exists(m->enc) ? "encoder"
                                                      : NULL;
        if (what)
            return lt_set_error(LT_ERR_IO, "bench attack: the %s of model "
                                "'%s' (%s) does not exist", what, m->name,
                                what[0] == 'f' ? m->file : m->enc);
    }
    if (!lt_bench_exists(r->orig.file) || !lt_bench_exists(r->orig.enc))
        return lt_set_error(LT_ERR_IO, "bench attack: the original model %s "
                            "or its encoder %s does not exist", r->orig.file,
                            r->orig.enc);
    return LT_OK;
}

lt_status lt_bench_asr(const lt_bench_asr_cfg *c, lt_report *out,
                       struct cJSON **attacks)
{
    memset(out, 0, sizeof *out);
    if (attacks)
        *attacks = NULL;
    if (lt_bench_asr_check(c) != LT_OK)
        return lt_last_status();
    double t0 = lt_clock_seconds();
    asr_run *r = calloc(1, sizeof *r);
    if (!r)
        return lt_set_error(LT_ERR_NOMEM, "bench attack");
    r->c = c;
    snprintf(r->cache, sizeof r->cache, "%s",
             c->cache ? c->cache : "lethe-bench-attack-cache");
    char runs[PATH_N + 16];
    snprintf(runs, sizeof runs, "%s/attack-runs", r->cache);
    r->attacks = cJSON_CreateArray();
    lt_status st = !r->attacks ? lt_set_error(LT_ERR_NOMEM, "bench attack")
                   : c->quick  ? lt_mkdirs(r->cache) /* the quick models' */
                               : LT_OK;
    /* the quick models: rank 0 trains them into the cache while the
     * others wait, then they find them there */
    bool lead = lt_dist_rank() == 0;
    st = lt_bench_agree(st == LT_OK && lead ? models_open(r) : st,
                        "the models");
    if (st == LT_OK)
        st = lt_bench_agree(lead ? LT_OK : models_open(r), "the models");
    if (st == LT_OK)
        st = inputs_exist(r);
    if (st == LT_OK)
        st = lt_mkdirs(runs);
    if (st == LT_OK)
        st = settings(r, out);
    if (st == LT_OK && !(r->t = lt_report_table(out, "Attack success rate "
                                                "(judge's verdicts; 95% "
                                                "Wilson intervals)",
                                                asr_cols, N_COLS)))
        st = lt_last_status();
    if (st == LT_OK)
        st = run_table(r);
    out->seconds = lt_clock_seconds() - t0;
    if (attacks && st == LT_OK)
        *attacks = r->attacks;
    else
        cJSON_Delete(r->attacks);
    free(r);
    return st;
}
