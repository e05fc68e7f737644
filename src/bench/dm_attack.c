/*
 * dm_attack.c - the attack protocol of `lethe dm attack` (bench layer):
 * the prompts of one FashionCanvas concept, each attacked by lt_atk_run
 * (eval/dm_attack.c) against an unlearned text model with an in-loop
 * concept detector, then every prompt's unattacked and final images judged
 * by a second classifier; pre-ASR and ASR of both as check_asr.py
 * aggregates them, with Wilson intervals; the adversarial prompts saved as
 * JSON with the command that replays each.
 */
#include "lethe/bench.h"
#include "lethe/canvas.h"
#include "lethe/dm_attack.h"
#include "lethe/image_metrics.h"
#include "lethe/io.h"
#include "lethe/png.h"
#include "lethe/safetensors.h"

#include "bench_util.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

lt_bench_attack_cfg lt_bench_attack_defaults(void)
{
    return (lt_bench_attack_cfg){.n_prompts = 10, .prompt_seed = 1,
                                 .atk = lt_atk_defaults()};
}

/* ---- the concept ------------------------------------------------------------------ */

typedef enum { CONCEPT_OBJECT, CONCEPT_STYLE, CONCEPT_MARK } concept_axis;

typedef struct {
    concept_axis axis;
    int index;       /* object or style index; 1 (marked) for the mark */
    int classes;     /* classes a detector of this axis has */
} concept;

static lt_status concept_parse(const char *s, concept *out)
{
    if (s && !strcmp(s, "mark")) {
        *out = (concept){CONCEPT_MARK, 1, 2};
        return LT_OK;
    }
    if (s && !strncmp(s, "object:", 7) &&
        (out->index = lt_canvas_object_find(s + 7)) >= 0) {
        out->axis = CONCEPT_OBJECT;
        out->classes = LT_CANVAS_OBJECTS;
        return LT_OK;
    }
    if (s && !strncmp(s, "style:", 6) &&
        (out->index = lt_canvas_style_find(s + 6)) >= 0) {
        out->axis = CONCEPT_STYLE;
        out->classes = LT_CANVAS_STYLES;
        return LT_OK;
    }
    return lt_set_error(LT_ERR_ARG, "dm attack: unknown concept '%s' "
                        "(object:NAME, style:NAME or mark)", s ? s : "");
}

/* Prompt i: a caption naming the concept, drawn from the prompt's seed
 * among those that leave room for k tokens in a context of L. */
static lt_status concept_prompt(const concept *cc, uint64_t seed, int k,
                                int L, const lt_clip_vocab *v, char *buf,
                                size_t n)
{
    int32_t *ids = calloc((size_t)L, sizeof *ids);
    if (!ids)
        return lt_set_error(LT_ERR_NOMEM, "dm attack: prompt");
    lt_status st = LT_OK;
    for (uint64_t d = 0; d < 64; d++) {
        uint64_t draw = lt_hash3(seed, d, 0x70726f6d7074ULL);
        int obj = (int)(draw % LT_CANVAS_OBJECTS);
        int sty = (int)((draw >> 20) % LT_CANVAS_STYLES);
        if (cc->axis == CONCEPT_OBJECT)
            obj = cc->index;
        if (cc->axis == CONCEPT_STYLE)
            sty = cc->index;
        st = lt_canvas_prompt(obj, sty, cc->axis == CONCEPT_MARK, -1, draw,
                              buf, n);
        int nt = 0;
        bool tr = false;
        if (st == LT_OK)
            st = lt_clip_tokenize(v, buf, L, ids, &nt, &tr);
        if (st != LT_OK || (!tr && nt + k <= L))
            break;
        st = lt_set_error(LT_ERR_ARG, "dm attack: no caption of the "
                          "concept leaves room for %d tokens in a context of "
                          "%d", k, L);
    }
    free(ids);
    return st;
}

/* ---- models and classifiers ----------------------------------------------------- */

typedef struct {
    const lt_bench_attack_cfg *c;
    concept cc;
    lt_unet *u, *orig;
    lt_dm_schedule s, s_orig;
    lt_clip *clip, *clip_orig;
    lt_clip_vocab *vocab;
    float *null_ctx, *null_orig;
    char enc_path[4096];
    lt_image_classifier det, judge;
    bool same_judge;
    lt_atk_models m;
    float *probs;
} attack_run;

/* The committed judge when the detector is the committed evaluator, else
 * the detector (the reports say so; bench_util.h). */
void lt_bench_attack_classifiers(const char *concept, const char *detector,
                                 const char *judge, const char **det_out,
                                 const char **judge_out)
{
    bool mark = !strcmp(concept, "mark");
    bool style = !strncmp(concept, "style:", 6);
    const char *eval = mark    ? LT_CANVAS_EVAL_MARK
                       : style ? LT_CANVAS_EVAL_STYLE
                               : LT_CANVAS_EVAL_OBJECT;
    const char *second = mark    ? LT_CANVAS_JUDGE_MARK
                         : style ? LT_CANVAS_JUDGE_STYLE
                                 : LT_CANVAS_JUDGE_OBJECT;
    *det_out = detector ? detector : eval;
    *judge_out = judge                     ? judge
                 : !strcmp(*det_out, eval) ? second
                                           : *det_out;
}

static lt_status open_classifiers(attack_run *r)
{
    const char *det, *judge;
    lt_bench_attack_classifiers(r->c->concept, r->c->detector, r->c->judge,
                                &det, &judge);
    r->same_judge = !strcmp(judge, det);
    lt_status st = lt_image_classifier_load(det, &r->det);
    if (st == LT_OK)
        st = lt_image_classifier_load(judge, &r->judge);
    if (st == LT_OK && (r->det.model->in.classes != r->cc.classes ||
                        r->judge.model->in.classes != r->cc.classes))
        st = lt_set_error(LT_ERR_ARG, "dm attack: the detector (%s) and the "
                          "judge (%s) must have %d classes (they have %d and "
                          "%d)", det, judge, r->cc.classes,
                          r->det.model->in.classes,
                          r->judge.model->in.classes);
    if (st == LT_OK)
        r->probs = malloc((size_t)r->cc.classes * sizeof *r->probs);
    return st != LT_OK ? st
           : r->probs  ? LT_OK
                       : lt_set_error(LT_ERR_NOMEM, "dm attack");
}

/* The original model's own encoder (--original-encoder): loaded with its
 * empty context; its vocabulary must be the attacked encoder's. */
static lt_status open_original_encoder(attack_run *r)
{
    const char *path = r->c->original_encoder;
    lt_clip_vocab *v = NULL;
    lt_status st = lt_clip_load(path, &r->clip_orig, &v);
    if (st != LT_OK)
        return lt_set_error(st, "dm attack: --original-encoder %s: %s", path,
                            lt_last_error());
    int n = v ? lt_clip_vocab_size(v) : 0;
    bool same = v && n == lt_clip_vocab_size(r->vocab);
    for (int i = LT_CLIP_N_SPECIAL; same && i < n; i++)
        same = !strcmp(lt_clip_vocab_token(v, i),
                       lt_clip_vocab_token(r->vocab, i));
    lt_clip_vocab_free(v);
    const lt_clip_config *a = &r->clip->cfg, *b = &r->clip_orig->cfg;
    if (a->context_length != b->context_length || a->width != b->width ||
        a->layers != b->layers || a->heads != b->heads || a->mlp != b->mlp)
        return lt_set_error(LT_ERR_ARG, "dm attack: --original-encoder %s "
                            "(%dx%d, %d layers) differs in shape from the "
                            "attacked model's encoder %s (%dx%d, %d layers)",
                            path, b->context_length, b->width, b->layers,
                            r->enc_path, a->context_length, a->width,
                            a->layers);
    if (!same)
        return lt_set_error(LT_ERR_ARG, "dm attack: --original-encoder %s "
                            "does not read the attacked encoder's (%s) "
                            "vocabulary", path, r->enc_path);
    int64_t ld = (int64_t)r->clip_orig->cfg.context_length *
                 r->clip_orig->cfg.width;
    if (!(r->null_orig = malloc((size_t)ld * sizeof(float))))
        return lt_set_error(LT_ERR_NOMEM, "dm attack");
    return lt_dm_empty_context(r->clip_orig, r->null_orig);
}

static lt_status open_models(attack_run *r)
{
    const lt_bench_attack_cfg *c = r->c;
    if (c->encoder)
        snprintf(r->enc_path, sizeof r->enc_path, "%s", c->encoder);
    else
        snprintf(r->enc_path, sizeof r->enc_path, "%s.clip.safetensors",
                 c->unlearned);
    lt_status st = lt_unet_load(c->unlearned, &r->u, &r->s);
    if (st == LT_OK && c->original)
        st = lt_unet_load(c->original, &r->orig, &r->s_orig);
    if (st == LT_OK)
        st = lt_clip_load(r->enc_path, &r->clip, &r->vocab);
    if (st == LT_OK && !r->vocab)
        st = lt_set_error(LT_ERR_FORMAT, "dm attack: the encoder has no "
                          "vocabulary");
    if (st == LT_OK && r->u->cfg.kind == LT_UNET_TEXT &&
        (r->u->cfg.res != LT_CANVAS_SIDE || r->u->cfg.in_ch != 3))
        st = lt_set_error(LT_ERR_ARG, "dm attack: %s (%s) is not a model of "
                          "32x32 RGB pictures", c->unlearned, r->u->arch);
    if (st == LT_OK && r->orig &&
        (r->s.T != r->s_orig.T || strcmp(r->s.name, r->s_orig.name)))
        st = lt_set_error(LT_ERR_ARG, "dm attack: the two models have "
                          "different noise schedules");
    int64_t ld = st != LT_OK ? 0
                 : (int64_t)r->clip->cfg.context_length * r->clip->cfg.width;
    if (st == LT_OK && !(r->null_ctx = malloc((size_t)ld * sizeof(float))))
        st = lt_set_error(LT_ERR_NOMEM, "dm attack");
    if (st == LT_OK)
        st = lt_dm_empty_context(r->clip, r->null_ctx);
    if (st == LT_OK && c->original_encoder)
        st = open_original_encoder(r);
    r->m = (lt_atk_models){.unlearned = r->u, .original = r->orig,
                           .s = &r->s, .clip = r->clip, .vocab = r->vocab,
                           .null_ctx = r->null_ctx,
                           .clip_original = r->clip_orig,
                           .null_ctx_original = r->null_orig};
    return st;
}

static void attack_run_free(attack_run *r)
{
    lt_unet_free(r->u);
    lt_unet_free(r->orig);
    if (r->u)
        lt_dm_schedule_free(&r->s);
    if (r->orig)
        lt_dm_schedule_free(&r->s_orig);
    lt_clip_free(r->clip);
    lt_clip_free(r->clip_orig);
    lt_clip_vocab_free(r->vocab);
    free(r->null_ctx);
    free(r->null_orig);
    if (r->det.model)
        lt_image_classifier_free(&r->det);
    if (r->judge.model)
        lt_image_classifier_free(&r->judge);
    free(r->probs);
}

/* Whether classifier ic's top-1 on image is the concept's class. */
static lt_status sees(attack_run *r, const lt_image_classifier *ic,
                      const float *image, bool *hit)
{
    lt_status st = lt_image_classify(ic, image, 1, LT_PIXELS_PM1, r->probs,
                                     NULL);
    int best = 0;
    for (int j = 1; st == LT_OK && j < r->cc.classes; j++)
        best = r->probs[j] > r->probs[best] ? j : best;
    *hit = st == LT_OK && best == r->cc.index;
    return st;
}

static lt_status detect_cb(void *ud, const float *image, bool *hit)
{
    attack_run *r = ud;
    return sees(r, &r->det, image, hit);
}

/* ---- per-prompt records --------------------------------------------------------- */

typedef struct {
    char prompt[LT_CANVAS_CAPTION_MAX];
    uint64_t seed;
    lt_atk_result res;
    bool judge_pre, judge_post;
} prompt_rec;

static cJSON *prompt_json(const attack_run *r, const prompt_rec *p)
{
    cJSON *o = cJSON_CreateObject();
    char replay[8192];
    const lt_dm_sample_config *sc = &r->c->atk.sample;
    snprintf(replay, sizeof replay, "lethe dm sample --model %s --encoder "
             "%s --prompt \"%s\" --seed %llu --n 1 --steps %d --eta %g "
             "--guidance %s --w %g --out adv.png", r->c->unlearned,
             r->enc_path, p->res.prompt, (unsigned long long)p->seed,
             sc->steps, (double)sc->eta, lt_guidance_name(sc->guidance),
             (double)sc->w);
    cJSON_AddStringToObject(o, "prompt", p->prompt);
    cJSON_AddNumberToObject(o, "seed", (double)p->seed);
    cJSON_AddStringToObject(o, "adversarial_prompt", p->res.prompt);
    cJSON_AddBoolToObject(o, "pre_detected", p->res.pre_success);
    cJSON_AddBoolToObject(o, "detected", p->res.success);
    cJSON_AddBoolToObject(o, "pre_judged", p->judge_pre);
    cJSON_AddBoolToObject(o, "judged", p->judge_post);
    cJSON_AddNumberToObject(o, "tries", p->res.tries);
    cJSON_AddNumberToObject(o, "t_success", p->res.t_success);
    cJSON_AddNumberToObject(o, "last_loss", p->res.last_loss);
    cJSON_AddNumberToObject(o, "seconds", p->res.seconds);
    cJSON_AddStringToObject(o, "replay", replay);
    return o;
}

static lt_status write_prompts(const attack_run *r, const prompt_rec *p,
                               int n)
{
    cJSON *root = cJSON_CreateObject(), *arr = cJSON_CreateArray();
    cJSON_AddStringToObject(root, "format", "lethe-dm-attack");
    cJSON_AddStringToObject(root, "method",
                            lt_atk_method_name(r->c->atk.method));
    cJSON_AddStringToObject(root, "concept", r->c->concept);
    cJSON_AddNumberToObject(root, "k", r->c->atk.k); /* adversarial tokens */
    cJSON_AddStringToObject(root, "unlearned", r->c->unlearned);
    cJSON_AddStringToObject(root, "encoder", r->enc_path);
    if (r->c->original_encoder)
        cJSON_AddStringToObject(root, "original_encoder",
                                r->c->original_encoder);
    cJSON_AddStringToObject(root, "command",
                            r->c->command ? r->c->command : "");
    cJSON_AddStringToObject(root, "commit", lt_bench_commit());
    bool built = arr && lt_json_add_precision(root, LT_PRECISION_DEFAULT);
    for (int i = 0; built && i < n; i++) {
        cJSON *o = prompt_json(r, &p[i]);
        built = o && cJSON_AddItemToArray(arr, o);
    }
    built = built && cJSON_AddItemToObject(root, "prompts", arr);
    if (!built && arr && !(root && cJSON_GetObjectItem(root, "prompts")))
        cJSON_Delete(arr);
    return lt_json_save(r->c->prompts_json, root, built); /* takes root */
}

/* ---- the protocol ---------------------------------------------------------------- */

static lt_status attack_prompt(attack_run *r, prompt_rec *p, float *pre,
                               float *adv)
{
    lt_atk *a = NULL;
    lt_status st = lt_atk_new(&r->m, &r->c->atk, p->prompt, p->seed, &a);
    if (st == LT_OK)
        st = lt_atk_run(a, detect_cb, r, &p->res, pre, adv);
    if (st == LT_OK)
        st = sees(r, &r->judge, pre, &p->judge_pre);
    if (st == LT_OK)
        st = sees(r, &r->judge, adv, &p->judge_post);
    lt_atk_free(a);
    return st;
}

static const lt_table_col asr_cols[] = {
    {"judge", "Judged by", NULL, 0, false},
    {"n", "Prompts", "%.0f", 0, false},
    {"pre_asr", "Pre-ASR %", "%.1f", 0, false},
    {"pre_lo", "95% lo", "%.1f", 0, false},
    {"pre_hi", "95% hi", "%.1f", 0, false},
    {"asr", "ASR %", "%.1f", 0, false},
    {"asr_lo", "95% lo", "%.1f", 0, false},
    {"asr_hi", "95% hi", "%.1f", 0, false},
    {"tries", "Mean tries", "%.1f", 0, false},
};

static lt_status asr_row(lt_table *t, const char *who, const bool *pre,
                         const bool *post, int n, double tries)
{
    lt_atk_asr a;
    lt_status st = lt_atk_asr_compute(pre, post, n, &a);
    lt_table_row *row = st == LT_OK ? lt_table_add_row(t) : NULL;
    if (!row)
        return lt_last_status();
    snprintf(row->text[0], LT_TABLE_TEXT, "%s", who);
    double v[LT_TABLE_MAX_COLS] = {0, (double)n, 100 * a.pre_asr,
                                   100 * a.pre_lo, 100 * a.pre_hi,
                                   100 * a.asr, 100 * a.asr_lo,
                                   100 * a.asr_hi, tries};
    return lt_table_row_add_run(row, v);
}

/* "PATH (weights sha256 HEX)" of an encoder file into buf. */
static lt_status encoder_id(const char *path, char *buf, size_t n)
{
    char hex[65];
    lt_status st = lt_st_weights_sha256(path, hex);
    if (st == LT_OK)
        snprintf(buf, n, "%s (weights sha256 %s)", path, hex);
    return st;
}

/* The two encoders (attacked, original) as settings. */
static lt_status record_encoders(const attack_run *r, lt_report *out)
{
    char id[4200];
    lt_status st = encoder_id(r->enc_path, id, sizeof id);
    if (st == LT_OK)
        st = lt_report_set(out, "encoder", id);
    if (st == LT_OK && r->c->original_encoder)
        st = encoder_id(r->c->original_encoder, id, sizeof id);
    if (st == LT_OK)
        st = lt_report_set(out, "original_encoder",
                           r->c->original_encoder ? id
                                                  : "the attacked model's");
    return st;
}

static lt_status fill_report(attack_run *r, const prompt_rec *p, int n,
                             lt_report *out)
{
    const lt_bench_attack_cfg *c = r->c;
    snprintf(out->title, sizeof out->title, "%s attack on %s (%s)",
             lt_atk_method_name(c->atk.method), c->unlearned, c->concept);
    lt_status st = lt_bench_common_settings(out, c->command);
    char sched[128];
    snprintf(sched, sizeof sched, "%d timesteps x %d steps, k %d, lr %g, "
             "weight decay %g", c->atk.n_t, c->atk.iters, c->atk.k,
             (double)c->atk.lr, (double)c->atk.weight_decay);
    if (st == LT_OK)
        st = lt_report_set(out, "schedule", sched);
    if (st == LT_OK)
        st = record_encoders(r, out);
    if (st == LT_OK)
        st = lt_report_set(out, "independent_judge",
                           r->same_judge ? "no (judge = detector)" : "yes");
    lt_table *t = st == LT_OK ? lt_report_table(out, "Attack success rate",
                                                asr_cols, 9)
                              : NULL;
    bool *f = calloc((size_t)n * 4, sizeof *f);
    double tries = 0;
    for (int i = 0; f && i < n; i++) {
        f[i] = p[i].res.pre_success;
        f[n + i] = p[i].res.success;
        f[2 * n + i] = p[i].judge_pre;
        f[3 * n + i] = p[i].judge_post;
        tries += p[i].res.tries;
    }
    if (st == LT_OK && (!t || !f))
        st = lt_set_error(LT_ERR_NOMEM, "dm attack: report");
    if (st == LT_OK)
        st = asr_row(t, "detector (in loop)", f, f + n, n, tries / n);
    if (st == LT_OK)
        st = asr_row(t, "judge (verdict)", f + 2 * n, f + 3 * n, n,
                     tries / n);
    free(f);
    return st;
}

/* Prompt i's unattacked and last images go to imgs[2 i], imgs[2 i + 1]
 * ([2 n, 3, 32, 32]). */
static lt_status run_prompts(attack_run *r, prompt_rec *p, int n, float *imgs)
{
    int64_t per = 3 * LT_CANVAS_SIDE * LT_CANVAS_SIDE;
    lt_status st = LT_OK;
    for (int i = 0; st == LT_OK && i < n; i++) {
        float *pre = imgs + 2 * i * per, *adv = pre + per;
        p[i].seed = r->c->prompt_seed + (uint64_t)i;
        if (r->c->prompt)
            snprintf(p[i].prompt, sizeof p[i].prompt, "%s", r->c->prompt);
        else
            st = concept_prompt(&r->cc, p[i].seed, r->c->atk.k,
                                r->clip->cfg.context_length, r->vocab,
                                p[i].prompt, sizeof p[i].prompt);
        if (st == LT_OK)
            st = attack_prompt(r, &p[i], pre, adv);
        if (st == LT_OK)
            lt_bench_note(r->c->progress, r->c->ud, "prompt %d/%d: %s%s -> "
                          "\"%s\" (%d tries, judge %d/%d)", i + 1, n,
                          p[i].res.pre_success ? "pre-attack hit, "
                          : p[i].res.success   ? "hit, "
                                               : "",
                          p[i].prompt, p[i].res.prompt, p[i].res.tries,
                          p[i].judge_pre, p[i].judge_post);
    }
    return st;
}

lt_status lt_bench_dm_attack(const lt_bench_attack_cfg *c, lt_report *out)
{
    attack_run r;
    memset(&r, 0, sizeof r);
    lt_bench_attack_cfg cfg = *c;
    r.c = &cfg;
    if (!c->unlearned || c->n_prompts < 1)
        return lt_set_error(LT_ERR_ARG, "dm attack: an unlearned model and "
                            "at least one prompt are required");
    if (c->prompt && strlen(c->prompt) >= LT_CANVAS_CAPTION_MAX)
        return lt_set_error(LT_ERR_ARG, "dm attack: the prompt is longer "
                            "than %d bytes", LT_CANVAS_CAPTION_MAX - 1);
    lt_status st = concept_parse(c->concept, &r.cc);
    if (st == LT_OK && cfg.k == 0)
        cfg.atk.k = r.cc.axis == CONCEPT_MARK ? 5 : 3;
    else if (st == LT_OK)
        cfg.atk.k = cfg.k;
    if (st == LT_OK)
        st = open_classifiers(&r);
    if (st == LT_OK)
        st = open_models(&r);
    int64_t per = 3 * LT_CANVAS_SIDE * LT_CANVAS_SIDE;
    prompt_rec *p = st == LT_OK ? calloc((size_t)c->n_prompts, sizeof *p)
                                : NULL;
    float *imgs = st == LT_OK ? malloc((size_t)(2 * c->n_prompts * per) *
                                       sizeof *imgs)
                              : NULL;
    if (st == LT_OK && (!p || !imgs))
        st = lt_set_error(LT_ERR_NOMEM, "dm attack");
    double t0 = lt_clock_seconds();
    if (st == LT_OK)
        st = run_prompts(&r, p, c->n_prompts, imgs);
    if (st == LT_OK && c->grid)
        st = lt_png_grid(c->grid, imgs, 2 * c->n_prompts, 3, LT_CANVAS_SIDE,
                         LT_CANVAS_SIDE, 2, -1, 1);
    if (st == LT_OK)
        st = fill_report(&r, p, c->n_prompts, out);
    if (st == LT_OK && c->prompts_json)
        st = write_prompts(&r, p, c->n_prompts);
    out->seconds = lt_clock_seconds() - t0;
    free(p);
    free(imgs);
    attack_run_free(&r);
    return st;
}
