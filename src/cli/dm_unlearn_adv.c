/*
 * dm_unlearn_adv.c - `lethe dm unlearn --concept P --method advunlearn`:
 * AdvUnlearn (lethe/dm_advunlearn.h) on a text-conditioned model. Parses
 * the options, builds the retain prompts (FashionCanvas prompts of the
 * other styles / objects / unmarked pictures, or the lines of a file),
 * runs the iterations (the state saved to OUT.state every
 * --checkpoint-every iterations; --resume continues from it) and saves
 * the robust encoder as OUT.clip.safetensors beside the UNet at --out
 * (both or neither; with --train encoder the UNet is the model's own, so
 * `lethe dm sample --encoder OUT.clip.safetensors` plugs the encoder into
 * any UNet trained with the same frozen encoder).
 */
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "cli/dm.h"
#include "lethe/canvas.h"
#include "lethe/dm_advunlearn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const usage =
    "usage: lethe dm unlearn --model TEXT.safetensors --concept PROMPT "
    "--method advunlearn\n"
    "       --retain style:NAME|object:NAME|mark|FILE|none --out "
    "U.safetensors\n"
    "       [--encoder C.safetensors] [--train encoder|unet] [--unet-params "
    "esd-u]\n"
    "       [--attack pgd|fast-at] [--k 1] [--attack-steps 30] [--attack-lr "
    "1e-3]\n"
    "       [--attack-init latest|random] [--attack-zero-grad] [--warmup "
    "200]\n"
    "       [--update-every 1] [--retain-weight W] [--retain-batch 5] "
    "[--retain-n 100]\n"
    "       [--steps 1000] [--lr 1e-5] [--eta 1] [--start-guidance 3] "
    "[--ddim-steps 50] [--seed 1]\n"
    "       [--checkpoint-every 50] [--resume]";

typedef struct {
    lt_adv_config c;
    const char *model, *out, *concept, *encoder, *retain, *train, *attack;
    const char *init, *unet_params, *method;
    int retain_n, every;  /* every: iterations between state saves */
    bool resume;
    float weight; /* < 0: by --retain (lt_adv_retain_weight) */
    char state[4096];     /* OUT.state */
} opts;

bool cli_dm_unlearn_is_adv(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *m = !strncmp(argv[i], "--method=", 9) ? argv[i] + 9
                        : !strcmp(argv[i], "--method") && i + 1 < argc
                            ? argv[i + 1]
                            : NULL;
        if (m && !strcmp(m, "advunlearn"))
            return true;
    }
    return false;
}

static int parse_names(opts *o)
{
    lt_adv_config *c = &o->c;
    if (lt_adv_target_parse(o->train, &c->train) != LT_OK)
        return cli_bad("dm unlearn", "--train");
    if (lt_adv_attack_parse(o->attack, &c->attack) != LT_OK)
        return cli_bad("dm unlearn", "--attack");
    if (lt_esd_params_parse(o->unet_params, &c->unet_params) != LT_OK)
        return cli_bad("dm unlearn", "--unet-params");
    if (strcmp(o->init, "latest") && strcmp(o->init, "random"))
        return cli_usage("dm unlearn", "--attack-init takes latest (warm "
                         "start from the last round) or random");
    c->attack_random_init = !strcmp(o->init, "random");
    return 0;
}

static int parse(int argc, char **argv, opts *o)
{
    *o = (opts){.c = lt_adv_defaults(), .train = "encoder", .attack = "pgd",
                .init = "latest", .unet_params = "esd-u", .retain_n = 100,
                .every = 50, .weight = -1};
    lt_adv_config *c = &o->c;
    int steps = (int)c->steps, warmup = (int)c->warmup;
    int every = (int)c->update_every;
    cli_opt t[] = {
        {"--model", CLI_OPT_STR, &o->model, "the text-conditioned model (text:...)", 0, 0},
        {"--out", CLI_OPT_STR, &o->out, "the UNet out; the robust encoder goes to OUT.clip.safetensors", 0, 0},
        {"--concept", CLI_OPT_STR, &o->concept, "the prompt to erase, in the encoder's vocabulary", 0, 0},
        {"--method", CLI_OPT_STR, &o->method, "advunlearn", 0, 0},
        {"--retain", CLI_OPT_STR, &o->retain, "retain prompts: style:NAME (other styles), object:NAME (other objects), mark (unmarked), a file of lines, or none", 0, 0},
        {"--retain-n", CLI_OPT_INT, &o->retain_n, "canvas retain prompts to draw (100)", 1, 100000},
        {"--retain-weight", CLI_OPT_FLOAT, &o->weight, "gamma (default 0.3 for mark, 0.5 otherwise; 0: no retain term)", -1, 1e3},
        {"--retain-batch", CLI_OPT_INT, &c->retain_batch, "retain prompts per step (5)", 1, 1000},
        {"--encoder", CLI_OPT_STR, &o->encoder, "the text encoder (default MODEL.clip.safetensors)", 0, 0},
        {"--train", CLI_OPT_STR, &o->train, "encoder (text_encoder_full) | unet (the --unet-params set)", 0, 0},
        {"--unet-params", CLI_OPT_STR, &o->unet_params, "with --train unet: esd-u | esd-x | selfattn | full | notime", 0, 0},
        {"--attack", CLI_OPT_STR, &o->attack, "pgd | fast-at (sign of the accumulated gradient)", 0, 0},
        {"--k", CLI_OPT_INT, &c->k, "adversarial prefix tokens (1)", 1, 64},
        {"--attack-steps", CLI_OPT_INT, &c->attack_steps, "attack steps per round (30)", 1, 100000},
        {"--attack-lr", CLI_OPT_FLOAT, &c->attack_lr, "attack Adam learning rate (1e-3)", 1e-12, 1e3},
        {"--attack-init", CLI_OPT_STR, &o->init, "latest (warm start) | random", 0, 0},
        {"--attack-zero-grad", CLI_OPT_FLAG, &c->attack_zero_grad, "zero the attack gradient every step (the code accumulates it)", 0, 0},
        {"--warmup", CLI_OPT_INT, &warmup, "iterations before the attack (200)", 0, 1e9},
        {"--update-every", CLI_OPT_INT, &every, "attack every N iterations (1)", 1, 1e9},
        {"--steps", CLI_OPT_INT, &steps, "iterations (1000)", 1, 1e9},
        {"--lr", CLI_OPT_FLOAT, &c->lr, "Adam learning rate (1e-5)", 1e-12, 1},
        {"--eta", CLI_OPT_FLOAT, &c->eta, "negative guidance (1)", 0, 1e3},
        {"--start-guidance", CLI_OPT_FLOAT, &c->start_guidance, "guidance of the partial sampling (3)", -1e3, 1e3},
        {"--ddim-steps", CLI_OPT_INT, &c->ddim_steps, "DDIM steps of the partial sampling (50)", 1, 100000},
        {"--seed", CLI_OPT_U64, &c->seed, "seed of every draw (1)", 0, 0},
        {"--checkpoint-every", CLI_OPT_INT, &o->every, "save the run's state (OUT.state) every N iterations (50)", 1, 1e9},
        {"--resume", CLI_OPT_FLAG, &o->resume, "continue from OUT.state when it exists", 0, 0},
    };
    int rc = cli_args_parse("dm unlearn", usage, t, CLI_NOPTS(t), argc, argv);
    if (rc)
        return rc;
    c->steps = steps;
    c->warmup = warmup;
    c->update_every = every;
    if (!o->model || !o->out || !o->concept || !o->retain)
        return cli_usage("dm unlearn", "advunlearn needs --model FILE, "
                         "--concept PROMPT, --retain SPEC and --out FILE");
    if ((rc = parse_names(o)))
        return rc;
    bool none = !strcmp(o->retain, "none");
    c->retain_weight = o->weight >= 0 ? o->weight
                       : none ? 0
                              : lt_adv_retain_weight(!strcmp(o->retain,
                                                             "mark"));
    if (none && c->retain_weight > 0)
        return cli_usage("dm unlearn", "--retain none drops the retain term; "
                         "--retain-weight must then be 0");
    return 0;
}

/* ---- retain prompts ------------------------------------------------------------ */

typedef struct {
    char **text;
    int n;
} prompts;

static void prompts_free(prompts *p)
{
    for (int i = 0; i < p->n; i++)
        free(p->text[i]);
    free(p->text);
}

static int prompts_add(prompts *p, const char *s, size_t len)
{
    char **t = realloc(p->text, (size_t)(p->n + 1) * sizeof *t);
    if (!t)
        return cli_fail("dm unlearn", NULL);
    p->text = t;
    if (!(t[p->n] = malloc(len + 1)))
        return cli_fail("dm unlearn", NULL);
    memcpy(t[p->n], s, len);
    t[p->n++][len] = 0;
    return 0;
}

/* The non-empty lines of a file. */
static int prompts_file(const char *path, prompts *p)
{
    char *buf = NULL;
    size_t len = 0;
    if (lt_read_file(path, &buf, &len) != LT_OK)
        return cli_fail("dm unlearn", "--retain");
    int rc = 0;
    for (char *s = buf; !rc && s < buf + len;) {
        char *e = memchr(s, '\n', (size_t)(buf + len - s));
        size_t n = e ? (size_t)(e - s) : (size_t)(buf + len - s);
        size_t m = n;
        while (m && (s[m - 1] == '\r' || s[m - 1] == ' '))
            m--;
        if (m)
            rc = prompts_add(p, s, m);
        s += n + 1;
    }
    free(buf);
    if (!rc && p->n == 0) {
        fprintf(stderr, "lethe dm unlearn: --retain %s holds no prompt\n",
                path);
        rc = 2;
    }
    return rc;
}

/* n FashionCanvas prompts of concepts other than spec's. */
static int prompts_canvas(const char *spec, int n, uint64_t seed, prompts *p)
{
    int style = -1, object = -1;
    bool mark = !strcmp(spec, "mark");
    if (!strncmp(spec, "style:", 6))
        style = lt_canvas_style_find(spec + 6);
    else if (!strncmp(spec, "object:", 7))
        object = lt_canvas_object_find(spec + 7);
    bool named = !strncmp(spec, "style:", 6) || !strncmp(spec, "object:", 7);
    if (named && style < 0 && object < 0) {
        fprintf(stderr, "lethe dm unlearn: --retain %s: no such FashionCanvas "
                "%s\n", spec, spec[0] == 's' ? "style" : "object");
        return 2;
    }
    if (!mark && !named)
        return -1; /* not a canvas spec: a file */
    lt_rng g;
    lt_rng_init(&g, lt_hash3(seed, 87, 0));
    char buf[LT_CANVAS_CAPTION_MAX];
    int rc = 0;
    for (int i = 0; !rc && i < n; i++) {
        int s = (int)lt_rng_below(&g, LT_CANVAS_STYLES - (style >= 0));
        int o = (int)lt_rng_below(&g, LT_CANVAS_OBJECTS - (object >= 0));
        s += style >= 0 && s >= style;
        o += object >= 0 && o >= object;
        if (lt_canvas_prompt(o, s, false, -1, lt_rng_u64(&g), buf,
                             sizeof buf) != LT_OK)
            return cli_fail("dm unlearn", "--retain");
        rc = prompts_add(p, buf, strlen(buf));
    }
    return rc;
}

/* Tokenize the concept and the retain prompts for v at context L. */
static int token_ids(const opts *o, const lt_clip_vocab *v, int L,
                     int32_t *concept, prompts *r, int32_t **retain)
{
    bool cut = false;
    if (lt_clip_tokenize(v, o->concept, L, concept, NULL, &cut) != LT_OK)
        return cli_bad("dm unlearn", "--concept");
    if (cut) {
        fprintf(stderr, "lethe dm unlearn: --concept has more than %d "
                "words\n", L - 2);
        return 2;
    }
    if (!r->n)
        return 0;
    if (!(*retain = malloc((size_t)r->n * L * sizeof **retain)))
        return cli_fail("dm unlearn", NULL);
    if (lt_clip_tokenize_batch(v, (const char *const *)r->text, r->n, L,
                               *retain, NULL) != LT_OK)
        return cli_bad("dm unlearn", "--retain");
    return 0;
}

/* ---- run and save --------------------------------------------------------------- */

static void progress(const lt_adv_event *e, void *ud)
{
    char extra[128];
    snprintf(extra, sizeof extra, "loss %.4g (esd %.4g, retain %.4g)%s",
             e->loss, e->esd_loss, e->retain_loss,
             e->adversarial ? " adv" : "");
    cli_progress_update(ud, e->step, extra);
}

static int save(const opts *o, const lt_unet *u, const lt_dm_schedule *s,
                const lt_clip *clip, const lt_clip_vocab *v,
                const char *side, int argc, char **argv)
{
    char steps[32], lr[32], w[32], seed[32], att[160], cmd[2048];
    const lt_adv_config *c = &o->c;
    snprintf(steps, sizeof steps, "%lld", (long long)c->steps);
    snprintf(lr, sizeof lr, "%.6g", (double)c->lr);
    snprintf(w, sizeof w, "%.6g", (double)c->retain_weight);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)c->seed);
    snprintf(att, sizeof att, "%s k %d, %d steps, lr %g, init %s%s, warm-up "
             "%lld, every %lld", lt_adv_attack_name(c->attack), c->k,
             c->attack_steps, (double)c->attack_lr, o->init,
             c->attack_zero_grad ? ", zero-grad" : "", (long long)c->warmup,
             (long long)c->update_every);
    cli_join_args(argc + 1, argv - 1, cmd, sizeof cmd);
    const char *meta[] = {
        "lethe.dmu.method", "advunlearn", "lethe.dmu.concept", o->concept,
        "lethe.dmu.trained", c->train == LT_ADV_TRAIN_UNET
                                 ? lt_esd_params_name(c->unet_params)
                                 : "encoder",
        "lethe.dmu.steps", steps, "lethe.dmu.lr", lr,
        "lethe.dmu.retain", o->retain, "lethe.dmu.retain_weight", w,
        "lethe.dmu.attack", att, "lethe.dmu.seed", seed,
        "lethe.dmu.base", o->model, "lethe.command", cmd};
    int rc = cli_outputs_begin("dm unlearn");
    if (rc)
        return rc;
    if (lt_clip_save(clip, v, side, meta, 11) != LT_OK)
        rc = cli_fail("dm unlearn", "the encoder copy");
    else if (lt_unet_save(u, o->out, s, meta, 11) != LT_OK)
        rc = cli_fail("dm unlearn", "--out");
    return cli_outputs_end("dm unlearn", rc);
}

/* The iterations, resumed from o->state with --resume when it exists,
 * the state saved every o->every iterations and at the end. */
static int loop(const opts *o, const lt_adv_data *d)
{
    lt_adv *r = NULL;
    if (lt_adv_new(d, &o->c, &r) != LT_OK)
        return cli_fail("dm unlearn", NULL);
    FILE *f = o->resume ? fopen(o->state, "rb") : NULL;
    int rc = 0;
    if (f) {
        fclose(f);
        if (lt_adv_load_state(r, o->state) != LT_OK)
            rc = cli_fail("dm unlearn", "the state to resume");
        else
            fprintf(stderr, "lethe dm unlearn: resumed from %s at iteration "
                    "%lld\n", o->state, (long long)lt_adv_steps_done(r));
    }
    cli_progress bar;
    cli_progress_start(&bar, "dm unlearn", o->c.steps);
    while (!rc && lt_adv_steps_done(r) < o->c.steps) {
        lt_adv_event ev;
        if (lt_adv_step(r, &ev) != LT_OK) {
            rc = cli_fail("dm unlearn", NULL);
            break;
        }
        progress(&ev, &bar);
        if ((ev.step % o->every == 0 || ev.step == o->c.steps) &&
            lt_adv_save_state(r, o->state) != LT_OK)
            rc = cli_fail("dm unlearn", "the state");
    }
    cli_progress_end(&bar);
    lt_adv_free(r);
    return rc;
}

/* Retain prompts, ids, the loop, the files. */
static int train(const opts *o, lt_unet *u, lt_dm_schedule *s, lt_clip *clip,
                 const lt_clip_vocab *v, const char *side, int argc,
                 char **argv)
{
    prompts r = {0};
    int rc = 0, L = u->cfg.ctx_len;
    if (o->c.retain_weight > 0) {
        rc = prompts_canvas(o->retain, o->retain_n, o->c.seed, &r);
        if (rc < 0)
            rc = prompts_file(o->retain, &r);
    }
    int32_t *concept = malloc((size_t)L * sizeof *concept), *retain = NULL;
    if (!rc && !concept)
        rc = cli_fail("dm unlearn", NULL);
    if (!rc)
        rc = token_ids(o, v, L, concept, &r, &retain);
    if (!rc) {
        lt_adv_data d = {.clip = clip, .u = u, .s = s,
                         .concept_ids = concept, .retain_ids = retain,
                         .n_retain = r.n};
        fprintf(stderr, "lethe dm unlearn: advunlearn (%s, %s) on \"%s\" "
                "from %s (%s), %lld iterations, lr %g, %d retain prompts, "
                "gamma %g, %d threads\n", lt_adv_target_name(o->c.train),
                lt_adv_attack_name(o->c.attack), o->concept, o->model,
                u->arch, (long long)o->c.steps, (double)o->c.lr, r.n,
                (double)o->c.retain_weight, lt_num_threads());
        double t0 = lt_clock_seconds();
        rc = loop(o, &d);
        if (!rc)
            rc = save(o, u, s, clip, v, side, argc, argv);
        if (!rc)
            printf("saved %s and its robust encoder %s (advunlearn, \"%s\" "
                   "erased, %lld iterations) in %.1f s\n", o->out, side,
                   o->concept, (long long)o->c.steps,
                   lt_clock_seconds() - t0);
    }
    free(concept);
    free(retain);
    prompts_free(&r);
    return rc;
}

int cli_dm_unlearn_adv(int argc, char **argv)
{
    opts o;
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc == 1 ? 0 : rc;
    char side[4096], own[4096];
    snprintf(side, sizeof side, "%s.clip.safetensors", o.out);
    snprintf(own, sizeof own, "%s.clip.safetensors", o.model);
    lt_dm_state_path(o.out, o.state, sizeof o.state);
    lt_fileset fs;
    memset(&fs, 0, sizeof fs);
    lt_fileset_add(&fs, false, "--model", o.model);
    lt_fileset_add(&fs, true, "--out", o.out);
    lt_fileset_add(&fs, true, "the encoder copy", side);
    lt_fileset_add(&fs, true, "the run's state", o.state);
    if ((rc = cli_files_check("dm unlearn", &fs)))
        return rc;
    lt_unet *u = NULL;
    lt_dm_schedule s = {0};
    if (lt_unet_load(o.model, &u, &s) != LT_OK)
        return cli_fail("dm unlearn", "--model");
    lt_clip *clip = NULL;
    lt_clip_vocab *v = NULL;
    if (u->cfg.kind != LT_UNET_TEXT) {
        fprintf(stderr, "lethe dm unlearn: --model %s is a class-conditional "
                "model (%s); advunlearn erases a prompt from a text-"
                "conditioned one (text:...)\n", o.model, u->arch);
        rc = 2;
    } else if (lt_clip_load(o.encoder ? o.encoder : own, &clip, &v) !=
               LT_OK) {
        rc = cli_fail("dm unlearn", o.encoder ? "--encoder"
                                              : "the model's encoder");
    } else if (!v) {
        fprintf(stderr, "lethe dm unlearn: the encoder has no vocabulary\n");
        rc = 2;
    } else if (clip->cfg.context_length != u->cfg.ctx_len ||
               clip->cfg.width != u->cfg.ctx_dim) {
        fprintf(stderr, "lethe dm unlearn: the encoder gives %dx%d contexts, "
                "%s takes %dx%d\n", clip->cfg.context_length,
                clip->cfg.width, u->arch, u->cfg.ctx_len, u->cfg.ctx_dim);
        rc = 2;
    }
    if (!rc)
        rc = train(&o, u, &s, clip, v, side, argc, argv);
    lt_clip_free(clip);
    lt_clip_vocab_free(v);
    lt_unet_free(u);
    lt_dm_schedule_free(&s);
    return rc;
}
