/*
 * dm_unlearn_text.c - `lethe dm unlearn --concept "..." --method
 * esd-x|esd-u|fmn`: erase a prompt from a text-conditioned diffusion
 * model with ESD or, on FashionCanvas pictures of a style or object, FMN
 * (lethe/dm_text_unlearn.h; FMN's data: dm_unlearn_fmn.c). The concept is encoded by the
 * model's text encoder (MODEL.clip.safetensors unless --encoder names
 * one); the unlearned weights go to --out and the encoder beside it as
 * OUT.clip.safetensors (both or neither), with the method, concept,
 * iterations and command in the metadata, so `lethe dm sample --prompt`
 * and `lethe dm attack` read the result as they read a trained model.
 */
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "cli/dm.h"
#include "lethe/dm_canvas_unlearn.h"
#include "lethe/dm_text_unlearn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const usage =
    "usage: lethe dm unlearn --model TEXT.safetensors --concept PROMPT "
    "--method esd-x|esd-u --out U.safetensors\n"
    "       [--encoder C.safetensors] [--steps 1000] [--lr 1e-5] [--eta 1]\n"
    "       [--start-guidance 3] [--ddim-steps 50] [--seed 1]\n"
    "       [--esd-variant paper|sd]  (sd: esd_sd.py; its defaults --steps "
    "200 --lr 5e-5 --eta 2;\n"
    "        --method esd-x|esd-u|esd-all|esd-x-strict)\n"
    "       lethe dm unlearn --model TEXT.safetensors --concept style:NAME|"
    "object:NAME\n"
    "       --method fmn --data canvas:DIR --out U.safetensors [--steps 35] "
    "[--lr 2e-6] [--only-ca]\n"
    "       [--fmn-ti [--ti-steps 500] [--ti-lr 1e-3] [--ti-norm 0]]  "
    "(textual inversion first)\n"
    "       [--mask FILE]  (esd and fmn: a 0/1 weight mask, e.g. salun's "
    "--mask-out)\n"
    "       lethe dm unlearn ... --method salun: see lethe dm unlearn "
    "--method salun --help";

typedef struct {
    lt_esd_config c;
    lt_fmn_config f;
    lt_fmn_ti_config ti;
    bool fmn_ti; /* --fmn-ti */
    const char *model, *out, *concept, *method, *encoder, *data, *mask;
    const char *variant; /* --esd-variant */
    bool fmn;
    int steps; /* CLI_OPT_INT writes an int; 0: the method's */
    float lr;  /* 0: the method's */
    float eta; /* -1: the variant's */
} opts;

static int parse(int argc, char **argv, opts *o)
{
    *o = (opts){.c = lt_esd_defaults(), .f = lt_fmn_defaults(),
                .ti = lt_fmn_ti_defaults(),
                .method = "esd-x", .variant = "paper", .eta = -1};
    lt_esd_config *c = &o->c;
    cli_opt t[] = {
        {"--model", CLI_OPT_STR, &o->model, "the text-conditioned model (text:...)", 0, 0},
        {"--out", CLI_OPT_STR, &o->out, "the unlearned model (its encoder goes to OUT.clip.safetensors)", 0, 0},
        {"--concept", CLI_OPT_STR, &o->concept, "the prompt to erase, in the encoder's vocabulary", 0, 0},
        {"--method", CLI_OPT_STR, &o->method, "esd-x (cross-attention) | esd-u (all but cross-attention, time embedding, output) | selfattn | full | notime | fmn", 0, 0},
        {"--data", CLI_OPT_STR, &o->data, "fmn: canvas:DIR, the FashionCanvas folder (its pictures of the concept)", 0, 0},
        {"--only-ca", CLI_OPT_FLAG, &o->f.only_ca, "fmn: train the cross-attention only (only_optimize_ca)", 0, 0},
        {"--fmn-ti", CLI_OPT_FLAG, &o->fmn_ti, "fmn: learn the concept's tokens by textual inversion first (train_ti.py), then resteer them", 0, 0},
        {"--ti-steps", CLI_OPT_I64, &o->ti.steps, "fmn-ti: inversion steps (500)", 1, 1e9},
        {"--ti-lr", CLI_OPT_FLOAT, &o->ti.lr, "fmn-ti: AdamW lr of the tokens (1e-3)", 1e-12, 10},
        {"--ti-norm", CLI_OPT_FLOAT, &o->ti.norm_target, "fmn-ti: clip_ti_decay's norm target (0: the encoder's mean token norm; the script's SD value 0.4)", 0, 100},
        {"--encoder", CLI_OPT_STR, &o->encoder, "the text encoder (default MODEL.clip.safetensors)", 0, 0},
        {"--mask", CLI_OPT_STR, &o->mask, "a 0/1 weight mask file (lt_unet_mask_save; salun --mask-out) on the trained weights", 0, 0},
        {"--steps", CLI_OPT_INT, &o->steps, "iterations (0: esd 1000, fmn 35)", 0, 1e9},
        {"--lr", CLI_OPT_FLOAT, &o->lr, "learning rate (0: esd Adam 1e-5, fmn AdamW 2e-6)", 0, 1},
        {"--esd-variant", CLI_OPT_STR, &o->variant, "paper (train-esd.py, the default) | sd (today's esd_sd.py: frozen-model PLMS x_t, loss at its timestep, Linear/Conv sets)", 0, 0},
        {"--eta", CLI_OPT_FLOAT, &o->eta, "negative guidance (paper 1, sd 2)", 0, 1e3},
        {"--start-guidance", CLI_OPT_FLOAT, &c->start_guidance, "guidance of the partial sampling (3)", -1e3, 1e3},
        {"--ddim-steps", CLI_OPT_INT, &c->ddim_steps, "steps of the partial sampling (50; paper DDIM, sd the PLMS num_inference_steps)", 1, 100000},
        {"--seed", CLI_OPT_U64, &c->seed, "seed of t_enc, t and the start noise (fmn: the image order, t, noise)", 0, 0},
    };
    int rc = cli_args_parse("dm unlearn", usage, t, CLI_NOPTS(t), argc, argv);
    if (rc)
        return rc;
    lt_esd_variant v;
    if (lt_esd_variant_parse(o->variant, &v) != LT_OK)
        return cli_bad("dm unlearn", "--esd-variant");
    lt_esd_config d = lt_esd_defaults_for(v); /* the variant's defaults */
    c->variant = v;
    c->eta = o->eta >= 0 ? o->eta : d.eta;
    c->steps = d.steps;
    c->lr = d.lr;
    if (o->steps)
        c->steps = o->f.steps = o->steps;
    if (o->lr > 0)
        c->lr = o->f.lr = o->lr;
    o->f.seed = o->ti.seed = c->seed;
    if (!o->model || !o->out || !o->concept)
        return cli_usage("dm unlearn", "--model FILE, --concept PROMPT and "
                         "--out FILE are required");
    const char *p = o->concept;
    while (*p == ' ' || *p == '\t')
        p++;
    if (!*p)
        return cli_usage("dm unlearn", "--concept is empty: name the prompt "
                         "to erase (e.g. \"neon\")");
    o->fmn = !strcmp(o->method, "fmn");
    if (!o->fmn && lt_esd_params_parse(o->method, &c->params) != LT_OK) {
        fprintf(stderr, "lethe dm unlearn: --method %s: a text model's "
                "concept is erased with esd-x, esd-u (also selfattn, full, "
                "notime), fmn or salun (style:NAME / object:NAME with --data);"
                " rl, ga and esd forget a class of a class-conditional model "
                "(--forget-class)\n", o->method);
        return 2;
    }
    if (!o->fmn && (o->data || o->f.only_ca))
        return cli_usage("dm unlearn", "--data and --only-ca are fmn's");
    if (!o->fmn && o->fmn_ti)
        return cli_usage("dm unlearn", "--fmn-ti is fmn's");
    if (o->fmn && v != LT_ESD_PAPER)
        return cli_usage("dm unlearn", "--esd-variant is esd's");
    if (!o->fmn && !lt_esd_variant_has(v, c->params)) {
        fprintf(stderr, "lethe dm unlearn: --method %s: the %s variant's "
                "script has no such set (paper: esd-x, esd-u, selfattn, "
                "full, notime; sd: esd-x, esd-u, esd-all, esd-x-strict)\n",
                o->method, o->variant);
        return 2;
    }
    return 0;
}

/* The concept's and the empty caption's contexts [L, D]. */
static int contexts(const opts *o, lt_clip *clip, const lt_clip_vocab *v,
                    const lt_unet *u, float *ctx, float *null_ctx)
{
    int L = clip->cfg.context_length, D = clip->cfg.width;
    if (L != u->cfg.ctx_len || D != u->cfg.ctx_dim) {
        fprintf(stderr, "lethe dm unlearn: the encoder gives %dx%d contexts, "
                "%s takes %dx%d\n", L, D, u->arch, u->cfg.ctx_len,
                u->cfg.ctx_dim);
        return 2;
    }
    int32_t *ids = malloc((size_t)L * sizeof *ids);
    lt_ctx *c = lt_ctx_new(lt_clip_arena_bytes(&clip->cfg, 1, 32, 32, false));
    int rc = ids && c ? 0 : cli_fail("dm unlearn", NULL);
    bool cut = false;
    if (!rc && lt_clip_tokenize(v, o->concept, L, ids, NULL, &cut) != LT_OK)
        rc = cli_bad("dm unlearn", "--concept");
    if (!rc && cut)
        fprintf(stderr, "lethe dm unlearn: --concept truncated to its first "
                "%d words\n", L - 2);
    lt_tensor *h = NULL;
    if (!rc) {
        lt_set_grad_enabled(c, false);
        h = lt_clip_text_encode(c, clip, ids, 1);
        if (!h || lt_dm_empty_context(clip, null_ctx) != LT_OK)
            rc = cli_fail("dm unlearn", "--concept");
    }
    if (!rc)
        memcpy(ctx, h->data, (size_t)L * D * sizeof *ctx);
    lt_ctx_free(c);
    free(ids);
    return rc;
}

static void progress(const lt_esd_event *e, void *ud)
{
    char extra[96];
    snprintf(extra, sizeof extra, "loss %.5f (t_enc %d, t %d)", e->loss,
             e->t_enc, e->t_ddpm);
    cli_progress_update(ud, e->step, extra);
}

static const char *method_name(const opts *o)
{
    static char esd[48];
    snprintf(esd, sizeof esd, "%s%s", lt_esd_params_name(o->c.params),
             o->c.variant == LT_ESD_SD ? " (esd_sd.py)" : "");
    static const char *const fmn[2][2] = {{"fmn", "fmn (only-ca)"},
                                          {"fmn+ti", "fmn+ti (only-ca)"}};
    return o->fmn ? fmn[o->fmn_ti][o->f.only_ca] : esd;
}

static void ti_progress(const lt_fmn_ti_event *e, void *ud)
{
    char extra[64];
    snprintf(extra, sizeof extra, "ti loss %.5f, token norm %.4f", e->loss,
             e->norm);
    cli_progress_update(ud, e->step, extra);
}

/* --fmn-ti: the inversion, then set's contexts and marks rebuilt. */
static lt_status run_ti(const opts *o, lt_unet *u, const lt_dm_schedule *s,
                        lt_clip *clip, cli_dm_fmn_set *set)
{
    lt_fmn_canvas_set view = {set->n, set->x, set->ctx, set->mask, set->ids,
                              set->word};
    fprintf(stderr, "lethe dm unlearn: textual inversion of %d tokens, %lld "
            "steps, AdamW lr %g, weight decay %g, norm target %g\n",
            1 + o->ti.n_rand, (long long)o->ti.steps, (double)o->ti.lr,
            (double)o->ti.weight_decay,
            (double)lt_fmn_ti_norm_target(clip, &o->ti));
    cli_progress bar;
    cli_progress_start(&bar, "dm unlearn", o->ti.steps);
    lt_status st = lt_fmn_ti_canvas(u, s, clip, &view, &o->ti, ti_progress,
                                    &bar);
    cli_progress_end(&bar);
    return st;
}

static void fmn_progress(const lt_fmn_event *e, void *ud)
{
    char extra[64];
    snprintf(extra, sizeof extra, "attention norm %.5f", e->loss);
    cli_progress_update(ud, e->step, extra);
}

/* FMN on u from the canvas pictures of the concept. */
static lt_status run_fmn(const opts *o, lt_unet *u, const lt_dm_schedule *s,
                         lt_clip *clip, const lt_clip_vocab *v, int *rc)
{
    cli_dm_fmn_set set;
    if (u->cfg.in_ch != 3 || u->cfg.res != 32) {
        fprintf(stderr, "lethe dm unlearn: fmn needs a 32x32x3 model (the "
                "canvas pictures); %s takes %dx%dx%d\n", u->arch,
                u->cfg.res, u->cfg.res, u->cfg.in_ch);
        *rc = 2;
        return LT_ERR_ARG;
    }
    if ((*rc = cli_dm_fmn_data(o->concept, o->data, clip, v, &set)))
        return LT_ERR_ARG;
    if (o->fmn_ti && run_ti(o, u, s, clip, &set) != LT_OK) {
        cli_dm_fmn_free(&set);
        return lt_last_status();
    }
    fprintf(stderr, "lethe dm unlearn: fmn on %s from %s (%s), %lld "
            "pictures, %lld steps, AdamW lr %g, weight decay %g%s, %d "
            "threads\n", o->concept, o->model, u->arch, (long long)set.n,
            (long long)o->f.steps, (double)o->f.lr,
            (double)o->f.weight_decay, o->f.only_ca ? ", attn2 only" : "",
            lt_num_threads());
    cli_progress bar;
    cli_progress_start(&bar, "dm unlearn", o->f.steps);
    lt_status st = lt_fmn_run(u, s, set.x, set.ctx, set.mask, set.n, &o->f,
                              fmn_progress, &bar);
    cli_progress_end(&bar);
    cli_dm_fmn_free(&set);
    return st;
}

static int save(const opts *o, const lt_unet *u, const lt_dm_schedule *s,
                const lt_clip *clip, const lt_clip_vocab *v,
                const char *side, int argc, char **argv)
{
    char steps[32], lr[32], eta[32], sg[32], ds[1024], seed[32], cmd[2048];
    snprintf(steps, sizeof steps, "%lld",
             (long long)(o->fmn ? o->f.steps : o->c.steps));
    snprintf(lr, sizeof lr, "%.6g", (double)(o->fmn ? o->f.lr : o->c.lr));
    snprintf(eta, sizeof eta, "%.9g", (double)o->c.eta);
    snprintf(sg, sizeof sg, "%.9g", (double)o->c.start_guidance);
    snprintf(ds, sizeof ds, "%d", o->c.ddim_steps);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)o->c.seed);
    cli_join_args(argc + 1, argv - 1, cmd, sizeof cmd); /* "dm unlearn ..." */
    char ti[160] = "none";
    if (o->fmn && o->fmn_ti)
        snprintf(ti, sizeof ti, "%d tokens, %lld steps, lr %g, weight decay "
                 "%g, norm target %g", 1 + o->ti.n_rand,
                 (long long)o->ti.steps, (double)o->ti.lr,
                 (double)o->ti.weight_decay,
                 (double)lt_fmn_ti_norm_target(clip, &o->ti));
    if (o->fmn) { /* FMN's own settings in ESD's three slots */
        snprintf(eta, sizeof eta, "%.6g", (double)o->f.weight_decay);
        snprintf(sg, sizeof sg, "%s", o->f.only_ca ? "attn2" : "all");
        snprintf(ds, sizeof ds, "%s", o->data);
    }
    const char *meta[] = {
        "lethe.dmu.method", method_name(o),
        "lethe.dmu.concept", o->concept, "lethe.dmu.steps", steps,
        "lethe.dmu.lr", lr,
        o->fmn ? "lethe.dmu.weight_decay" : "lethe.dmu.eta", eta,
        o->fmn ? "lethe.dmu.trained" : "lethe.dmu.start_guidance", sg,
        o->fmn ? "lethe.dmu.data" : "lethe.dmu.ddim_steps", ds,
        "lethe.dmu.seed", seed, "lethe.dmu.base", o->model,
        "lethe.dmu.mask", o->mask ? o->mask : "none",
        "lethe.dmu.ti", ti,
        "lethe.command", cmd};
    int rc = cli_outputs_begin("dm unlearn");
    if (rc)
        return rc;
    if (lt_clip_save(clip, v, side, NULL, 0) != LT_OK)
        rc = cli_fail("dm unlearn", "the encoder copy");
    else if (lt_unet_save(u, o->out, s, meta, 12) != LT_OK)
        rc = cli_fail("dm unlearn", "--out");
    return cli_outputs_end("dm unlearn", rc);
}

/* Load, check, erase, save; the exit code. */
static int run(const opts *o, int argc, char **argv)
{
    char side[4096], own[4096];
    snprintf(side, sizeof side, "%s.clip.safetensors", o->out);
    snprintf(own, sizeof own, "%s.clip.safetensors", o->model);
    const char *enc = o->encoder ? o->encoder : own;
    lt_fileset fs;
    memset(&fs, 0, sizeof fs);
    lt_fileset_add(&fs, false, "--model", o->model);
    if (o->mask)
        lt_fileset_add(&fs, false, "--mask", o->mask);
    lt_fileset_add(&fs, true, "--out", o->out);
    lt_fileset_add(&fs, true, "the encoder copy", side);
    int rc = cli_files_check("dm unlearn", &fs);
    if (rc)
        return rc;
    lt_unet *u = NULL;
    lt_dm_schedule s = {0};
    if (lt_unet_load(o->model, &u, &s) != LT_OK)
        return cli_fail("dm unlearn", "--model");
    lt_clip *clip = NULL;
    lt_clip_vocab *v = NULL;
    float *ctx = NULL, *nul = NULL;
    if (u->cfg.kind != LT_UNET_TEXT) {
        fprintf(stderr, "lethe dm unlearn: --model %s is a class-conditional "
                "model (%s); --method %s erases a prompt from a text-"
                "conditioned one (text:...); forget a class with --method "
                "salun|rl|ga|esd --forget-class K\n", o->model, u->arch,
                o->method);
        rc = 2;
    } else if (lt_clip_load(enc, &clip, &v) != LT_OK) {
        rc = cli_fail("dm unlearn", o->encoder ? "--encoder"
                                                : "the model's encoder");
    }
    float *wmask = NULL;
    if (!rc && o->mask &&
        (!(wmask = malloc((size_t)u->params.n_train * sizeof *wmask)) ||
         lt_unet_mask_load(u, o->mask, wmask) != LT_OK))
        rc = cli_fail("dm unlearn", "--mask");
    opts with = *o; /* the configs with the mask */
    with.c.mask = with.f.mask = wmask;
    o = &with;
    size_t n = (size_t)u->cfg.ctx_len * (size_t)u->cfg.ctx_dim;
    if (!rc && o->fmn) {
        double t0 = lt_clock_seconds();
        lt_status st = run_fmn(o, u, &s, clip, v, &rc);
        if (!rc)
            rc = st == LT_OK ? save(o, u, &s, clip, v, side, argc, argv)
                             : cli_fail("dm unlearn", NULL);
        if (!rc)
            printf("saved %s (%s, %s resteered, %lld steps) in %.1f s\n",
                   o->out, method_name(o), o->concept, (long long)o->f.steps,
                   lt_clock_seconds() - t0);
    }
    if (!rc && !o->fmn && (!(ctx = malloc(n * sizeof *ctx)) ||
                           !(nul = malloc(n * sizeof *nul))))
        rc = cli_fail("dm unlearn", NULL);
    if (!rc && !o->fmn)
        rc = contexts(o, clip, v, u, ctx, nul);
    if (!rc && !o->fmn) {
        fprintf(stderr, "lethe dm unlearn: %s on \"%s\" from %s (%s), %lld "
                "iterations, lr %g, eta %g, start guidance %g, %s %d, %d "
                "threads\n", method_name(o), o->concept,
                o->model, u->arch, (long long)o->c.steps, (double)o->c.lr,
                (double)o->c.eta, (double)o->c.start_guidance,
                o->c.variant == LT_ESD_SD ? "PLMS" : "DDIM", o->c.ddim_steps,
                lt_num_threads());
        cli_progress bar;
        cli_progress_start(&bar, "dm unlearn", o->c.steps);
        double t0 = lt_clock_seconds();
        lt_status st = lt_esd_run(u, &s, ctx, nul, &o->c, progress, &bar);
        cli_progress_end(&bar);
        rc = st == LT_OK ? save(o, u, &s, clip, v, side, argc, argv)
                         : cli_fail("dm unlearn", NULL);
        if (!rc)
            printf("saved %s (%s, \"%s\" erased, %lld iterations) in %.1f s\n",
                   o->out, method_name(o), o->concept,
                   (long long)o->c.steps, lt_clock_seconds() - t0);
    }
    free(ctx);
    free(nul);
    free(wmask);
    lt_clip_free(clip);
    lt_clip_vocab_free(v);
    lt_unet_free(u);
    lt_dm_schedule_free(&s);
    return rc;
}

int cli_dm_unlearn_text(int argc, char **argv)
{
    const char *m = cli_arg_value(argc, argv, "--method");
    if (m && !strcmp(m, "salun"))
        return cli_dm_unlearn_salun(argc, argv);
    opts o;
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc == 1 ? 0 : rc;
    return run(&o, argc, argv);
}

bool cli_dm_unlearn_is_text(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--concept") ||
            !strncmp(argv[i], "--concept=", 10))
            return true;
        const char *m = !strncmp(argv[i], "--method=", 9) ? argv[i] + 9
                        : !strcmp(argv[i], "--method") && i + 1 < argc
                            ? argv[i + 1]
                            : NULL;
        lt_esd_params k;
        if (m && ((!strncmp(m, "esd-", 4) && strcmp(m, "esd-data") &&
                   lt_esd_params_parse(m, &k) == LT_OK) ||
                  !strcmp(m, "fmn")))
            return true;
    }
    return false;
}
