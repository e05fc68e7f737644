/*
 * dm.c - `lethe dm`: diffusion models from the command line.
 *   train   train a class-conditional UNet on Fashion-MNIST (resumable:
 *           the EMA weights go to --out, the training state beside it);
 *   sample  draw images of given classes with the DDIM / DDPM sampler and
 *           classifier-free guidance, as a .npy array and/or a PNG grid;
 *   eval    the acceptance report of a model (lt_bench_dm_eval): the
 *           evaluator's accuracy on its samples per class, FD with the
 *           real-vs-real floor at the same N, precision/recall, copying.
 * Images are in [-1, 1] inside the model (the official data transform
 * 2p - 1 of pixels p in [0, 1]).
 */
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "cli/dm.h"
#include "lethe/diffusion.h"
#include "lethe/png.h"
#include "lethe/safetensors.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const cli_dm_usage_text =
    "usage: lethe dm <train|sample|eval|clip|unlearn|attack> [options]\n"
    "  train   --model cond:xs|cond:s[,ch=..,blocks=..] --out M.safetensors\n"
    "          [--data fashion-mnist] [--steps N] [--resume] [--init M]\n"
    "          --model text:xs|text:s --data canvas:DIR --encoder C.safetensors\n"
    "  sample  --model M.safetensors --out grid.png|x.npy [--class K|all]\n"
    "          | --prompt TEXT (text models) [--encoder C.safetensors]\n"
    "          [--n N] [--steps 50] [--eta 0] [--guidance salun|sd] [--w W]\n"
    "  eval    --model M.safetensors [--per-class 450] [--json R.json]\n"
    "          [--markdown R.md] [--grid G.png] [--classifier C]\n"
    "          text models: --data canvas:DIR [--per-pair 2] [--prompt-check 2]\n"
    "          [--prompt-check-only]\n"
    "          [--style-classifier C] [--object-classifier C]\n"
    "  clip    --data DIR --out C.safetensors [--preset tiny] [--steps N]\n"
    "          (pretrain the text encoder on a FashionCanvas folder)\n"
    "  unlearn --model M --forget-class K --method salun|rl|ga|esd --out U\n"
    "  unlearn --model TEXT --concept PROMPT --method esd-x|esd-u --out U\n"
    "  unlearn --model TEXT --concept style:NAME --method fmn|salun --data canvas:DIR --out U\n"
    "          (esd-x, esd-u, fmn: [--mask FILE]; salun: [--mask-out FILE])\n"
    "  unlearn --model TEXT --concept PROMPT --method advunlearn --retain style:NAME|\n"
    "          object:NAME|mark|FILE|none --out U  (robust encoder: U.clip.safetensors)\n"
    "  attack  --unlearned U --original M --concept object:bag|style:neon\n"
    "          [--method unlearndiff|p4d|random|none] [--prompts 10] [--lite]";

/* ---- data ------------------------------------------------------------------------ */

/* The training split of spec as images in [-1, 1], skipping class
 * exclude (>= 0). 0 or an exit status with the message printed. */
static int cli_dm_data(const char *spec, int exclude, lt_dataset *d,
                       float **x, int32_t **y, int64_t *n)
{
    if (lt_dataset_load(spec, "train", d) != LT_OK)
        return cli_fail("dm train", "--data");
    if (lt_dataset_images_pm1(d, exclude, x, y, n) != LT_OK)
        return cli_fail("dm train", "--data");
    return 0;
}

/* ---- train ----------------------------------------------------------------------- */

static int cli_dm_train_parse(int argc, char **argv, cli_dm_train_opts *o)
{
    *o = (cli_dm_train_opts){.c = lt_dm_train_defaults(), .model = "cond:s",
                            .data = "fashion-mnist",
                            .T = 1000, .exclude = -1};
    lt_dm_train_config *c = &o->c;
    cli_opt opts[] = {
        {"--model", CLI_OPT_STR, &o->model, "UNet preset[,overrides]: cond:xs|cond:s", 0, 0},
        {"--data", CLI_OPT_STR, &o->data, "image set (its train split)", 0, 0},
        {"--out", CLI_OPT_STR, &o->out, "model file (EMA weights); state in OUT.state", 0, 0},
        {"--resume", CLI_OPT_FLAG, &o->resume, "continue from OUT.state if it exists", 0, 0},
        {"--steps", CLI_OPT_I64, &c->steps, "total optimizer steps", 1, 1e9},
        {"--batch", CLI_OPT_INT, &c->batch, "images per step", 1, 4096},
        {"--lr", CLI_OPT_FLOAT, &c->lr, "Adam learning rate", 1e-9, 1},
        {"--clip", CLI_OPT_FLOAT, &c->clip, "gradient-norm clip (0: off)", 0, 1e9},
        {"--ema", CLI_OPT_FLOAT, &c->ema, "EMA decay of the weights", 0, 0.999999},
        {"--ckpt-every", CLI_OPT_I64, &c->ckpt_every, "save every K steps", 1, 1e9},
        {"--seed", CLI_OPT_U64, &c->seed, "seed of init, order, noise", 0, 0},
        {"--hflip", CLI_OPT_FLAG, &c->hflip, "random horizontal flips", 0, 0},
        {"--schedule", CLI_OPT_STR, &o->schedule, "linear|scaled_linear (default: --init's, else linear for class and scaled_linear for text models)", 0, 0},
        {"--T", CLI_OPT_INT, &o->T, "diffusion steps", 2, 100000},
        {"--exclude", CLI_OPT_INT, &o->exclude, "leave this class out (Retrain); -1: none", -1, 100000},
        {"--encoder", CLI_OPT_STR, &o->clip, "text models: the pretrained text encoder (lethe dm clip)", 0, 0},
        {"--init", CLI_OPT_STR, &o->init, "start from these weights (a dm train file of the same model) with a fresh optimizer; a --resume state wins", 0, 0},
        {"--dp", CLI_OPT_STR, &o->dp, "data-parallel reduction off|sum|ordered (sum under mpirun; docs/mpi.md)", 0, 0},
        {"--shards", CLI_OPT_INT, &c->shards, "parts of every batch (a multiple of the ranks; default one per rank)", 0, 4096},
        {"--dp-overlap", CLI_OPT_FLAG, &c->dp_overlap, "sum the gradient in buckets while backward runs (--dp sum, one shard per rank)", 0, 0},
    };
    int rc = cli_args_parse("dm train", cli_dm_usage_text, opts, CLI_NOPTS(opts),
                            argc, argv);
    if (rc == 0 && !o->out)
        rc = cli_usage("dm train", "--out FILE is required");
    if (rc == 0)
        rc = cli_dp_mode("dm train", o->dp, c->shards, &c->dist);
    if (rc == 0 && c->dp_overlap && c->dist == LT_DIST_OFF)
        rc = cli_usage("dm train", "--dp-overlap needs data parallelism "
                       "(mpirun, or --shards)");
    return rc;
}

void cli_dm_train_progress(const lt_dm_train_event *e, void *ud)
{
    cli_dm_ui *ui = ud;
    if (lt_dist_rank() != 0) /* data parallel: rank 0 reports */
        return;
    if (!ui->started) {
        cli_progress_start(&ui->bar, "dm train", e->steps - e->resumed_from);
        ui->started = true;
    }
    char extra[96];
    snprintf(extra, sizeof extra, "step %lld/%lld loss %.2f |g| %.2f%s",
             (long long)e->step, (long long)e->steps, e->loss, e->grad_norm,
             e->saved ? " (saved)" : "");
    cli_progress_update(&ui->bar, e->step - e->resumed_from, extra);
}

/* The schedule name of the dm train file init into name (n bytes), from
 * its header alone; 0 or an exit code. */
static int cli_dm_init_schedule(const char *init, char *name, size_t n)
{
    lt_st_file *f = NULL;
    if (lt_st_open(init, &f) != LT_OK)
        return cli_fail("dm train", "--init");
    const char *v = lt_st_meta(f, "lethe.dm.schedule");
    int rc = 0;
    if (v)
        snprintf(name, n, "%s", v);
    else {
        fprintf(stderr, "lethe dm train: --init %s has no lethe.dm.schedule "
                "(not a dm train file)\n", init);
        rc = 2;
    }
    lt_st_free(f);
    return rc;
}

int cli_dm_init_weights(const char *init, lt_unet *u, uint64_t seed)
{
    lt_unet_init(u, seed);
    if (!init)
        return 0;
    lt_unet *v = NULL;
    lt_dm_schedule s = {0};
    int rc = 0;
    if (lt_unet_load(init, &v, &s) != LT_OK)
        rc = cli_fail("dm train", "--init");
    else if (strcmp(v->arch, u->arch) ||
             v->params.n_total != u->params.n_total) {
        fprintf(stderr, "lethe dm train: --init %s is a %s; --model is %s\n",
                init, v->arch, u->arch);
        rc = 2;
    } else
        memcpy(u->params.theta, v->params.theta,
               (size_t)u->params.n_total * sizeof *u->params.theta);
    lt_unet_free(v);
    lt_dm_schedule_free(&s);
    return rc;
}

static int cli_dm_train_run(const cli_dm_train_opts *o, lt_unet *u,
                            const lt_dm_schedule *s, const float *x,
                            const int32_t *y, int64_t n)
{
    char state[4096];
    lt_dm_state_path(o->out, state, sizeof state);
    bool lead = lt_dist_rank() == 0; /* under mpirun: reports */
    if (lead)
        fprintf(stderr, "lethe dm train: %s (%lld parameters) on %lld "
                "images, %lld steps of %d, schedule %s T=%d, %d threads, "
                "%d rank%s%s\n", u->arch, (long long)u->params.n_train,
                (long long)n, (long long)o->c.steps, o->c.batch, s->name,
                s->T, lt_num_threads(), lt_dist_size(),
                lt_dist_size() > 1 ? "s" : "",
                o->resume ? ", resuming if a state exists" : "");
    cli_dm_ui ui = {0};
    double t0 = lt_clock_seconds();
    lt_status st = lt_dm_train(u, s, x, y, n, &o->c, o->out, o->resume,
                               cli_dm_train_progress, &ui);
    if (ui.started)
        cli_progress_end(&ui.bar);
    if (st != LT_OK)
        return cli_fail("dm train", NULL);
    if (lead)
        printf("saved %s (EMA weights) and %s after %lld steps; this run "
               "%.1f s\n", o->out, state, (long long)o->c.steps,
               lt_clock_seconds() - t0);
    return 0;
}

static int cli_dm_train(int argc, char **argv)
{
    cli_dm_train_opts o;
    int rc = cli_dm_train_parse(argc, argv, &o);
    if (rc)
        return rc == 1 ? 0 : rc;
    cli_join_args(argc, argv, o.command, sizeof o.command);
    snprintf(o.seed, sizeof o.seed, "%llu", (unsigned long long)o.c.seed);
    const char *meta[8] = {"lethe.command", o.command,
                           "lethe.commit", lt_bench_commit(),
                           "lethe.version", LETHE_VERSION,
                           "lethe.seed", o.seed};
    memcpy(o.meta, meta, sizeof meta);
    o.c.meta = o.meta;
    o.c.n_meta = 4;
    lt_unet *u = NULL;
    lt_dm_schedule s = {0};
    if (lt_unet_create(o.model, &u) != LT_OK)
        return cli_bad("dm train", "--model");
    /* no --schedule: an --init model's own, else the kind's default */
    char init_sched[sizeof s.name] = "";
    if (!o.schedule && o.init &&
        (rc = cli_dm_init_schedule(o.init, init_sched, sizeof init_sched))) {
        lt_unet_free(u);
        return rc;
    }
    if (!o.schedule)
        o.schedule = init_sched[0] ? init_sched
                                   : lt_dm_schedule_default(u->cfg.kind);
    if (lt_dm_schedule_make(o.schedule, o.T, &s) != LT_OK) {
        lt_unet_free(u);
        return cli_bad("dm train", "--schedule");
    }
    if (u->cfg.kind == LT_UNET_TEXT) {
        rc = cli_dm_train_text(&o, u, &s);
        lt_dm_schedule_free(&s);
        lt_unet_free(u);
        return rc;
    }
    lt_fileset fs;
    memset(&fs, 0, sizeof fs);
    char state[4096];
    lt_dm_state_path(o.out, state, sizeof state);
    if (o.init)
        lt_fileset_add(&fs, false, "--init", o.init);
    lt_dataset_fileset_add(&fs, "--data", o.data);
    lt_fileset_add(&fs, true, "--out", o.out);
    lt_fileset_add(&fs, true, "the training state", state);
    rc = cli_files_check("dm train", &fs);
    lt_dataset d = {0};
    float *x = NULL;
    int32_t *y = NULL;
    int64_t n = 0;
    if (!rc)
        rc = cli_dm_data(o.data, o.exclude, &d, &x, &y, &n);
    if (!rc && (d.c != u->cfg.in_ch || d.h != u->cfg.res ||
                d.classes != u->cfg.classes)) {
        fprintf(stderr, "lethe dm train: --data %s has %dx%dx%d images of %d "
                "classes; --model %s takes %dx%dx%d and %d classes\n", o.data,
                d.c, d.h, d.w, d.classes, o.model, u->cfg.in_ch, u->cfg.res,
                u->cfg.res, u->cfg.classes);
        rc = 2;
    }
    if (!rc && !(rc = cli_dm_init_weights(o.init, u, o.c.seed)))
        rc = cli_dm_train_run(&o, u, &s, x, y, n);
    free(x);
    free(y);
    lt_dataset_free(&d);
    lt_dm_schedule_free(&s);
    lt_unet_free(u);
    return rc;
}

/* ---- sample ------------------------------------------------------------------------- */

typedef struct {
    lt_dm_sample_config c;
    const char *model, *out, *cls, *guidance, *npy, *prompt, *clip;
    int n;
} cli_dm_sample_opts;

static int cli_dm_sample_parse(int argc, char **argv, cli_dm_sample_opts *o)
{
    *o = (cli_dm_sample_opts){.c = lt_dm_sample_defaults(), .cls = "all",
                             .n = 10};
    o->c.steps = 50;
    o->c.eta = 0;
    o->c.w = NAN; /* the model's kind picks the default (cli_dm_guidance) */
    lt_dm_sample_config *c = &o->c;
    cli_opt opts[] = {
        {"--model", CLI_OPT_STR, &o->model, "UNet checkpoint (lethe dm train)", 0, 0},
        {"--out", CLI_OPT_STR, &o->out, "PNG grid (.png) or array (.npy)", 0, 0},
        {"--npy", CLI_OPT_STR, &o->npy, "also write the samples here (.npy, [n,C,H,W] in [-1,1])", 0, 0},
        {"--class", CLI_OPT_STR, &o->cls, "class id, 'all' (n per class) or 'none' (unconditional)", 0, 0},
        {"--prompt", CLI_OPT_STR, &o->prompt, "text models: the caption ('' = unconditional)", 0, 0},
        {"--encoder", CLI_OPT_STR, &o->clip, "text models: encoder (default MODEL.clip.safetensors)", 0, 0},
        {"--n", CLI_OPT_INT, &o->n, "samples (per class with --class all)", 1, 1e6},
        {"--steps", CLI_OPT_INT, &c->steps, "sampling steps (divide T)", 1, 100000},
        {"--eta", CLI_OPT_FLOAT, &c->eta, "0: DDIM; 1: the official DDPM-like default", 0, 10},
        {"--guidance", CLI_OPT_STR, &o->guidance, "salun: (1+w)e(c)-w e(0); sd: e(0)+w(e(c)-e(0)) [class models salun, text models sd]", 0, 0},
        {"--w", CLI_OPT_FLOAT, &c->w, "guidance weight [salun 2, sd 7.5]", -1000, 1000},
        {"--seed", CLI_OPT_U64, &c->seed, "sample i uses noise (seed, i)", 0, 0},
        {"--batch", CLI_OPT_INT, &c->batch, "samples per forward pass", 1, 4096},
    };
    int rc = cli_args_parse("dm sample", cli_dm_usage_text, opts, CLI_NOPTS(opts),
                            argc, argv);
    if (rc == 0 && (!o->model || !o->out))
        rc = cli_usage("dm sample", "--model and --out are required");
    if (rc == 0 && o->guidance &&
        lt_guidance_parse(o->guidance, &c->guidance) != LT_OK)
        rc = cli_bad("dm sample", "--guidance");
    if (rc == 0 && !cli_ends_with(o->out, ".png") &&
        !cli_ends_with(o->out, ".npy"))
        rc = cli_usage("dm sample", "--out must end in .png or .npy");
    return rc;
}

/* Class of each sample: all -> n per class in class-major order. */
static int cli_dm_classes(const cli_dm_sample_opts *o, const lt_unet *u,
                          int32_t **cls, int64_t *n)
{
    int k = -2;
    if (!strcmp(o->cls, "all"))
        *n = (int64_t)o->n * u->cfg.classes;
    else {
        char *end;
        long v = strtol(o->cls, &end, 10);
        if (!strcmp(o->cls, "none"))
            k = -1;
        else if (end != o->cls && !*end && v >= 0 && v < u->cfg.classes)
            k = (int)v;
        else {
            fprintf(stderr, "lethe dm sample: --class '%s': expected 0..%d, "
                    "'all' or 'none'\n", o->cls, u->cfg.classes - 1);
            return 2;
        }
        *n = o->n;
    }
    *cls = malloc((size_t)*n * sizeof **cls);
    if (!*cls)
        return cli_fail("dm sample", NULL);
    for (int64_t i = 0; i < *n; i++)
        (*cls)[i] = k == -2 ? (int32_t)(i / o->n) : k;
    return 0;
}

static void cli_dm_sample_progress(int64_t done, int64_t total, void *ud)
{
    (void)ud;
    cli_bar("dm sample", done, total, NULL);
}

static int cli_dm_sample_write(const cli_dm_sample_opts *o, const lt_unet *u,
                               const float *x, int64_t n)
{
    int64_t shape[4] = {n, u->cfg.in_ch, u->cfg.res, u->cfg.res};
    const char *npy = cli_ends_with(o->out, ".npy") ? o->out : o->npy;
    if (npy && lt_npy_save(npy, x, 4, shape) != LT_OK)
        return cli_fail("dm sample", NULL);
    if (cli_ends_with(o->out, ".png")) {
        int cols = !strcmp(o->cls, "all") && u->cfg.kind == LT_UNET_CLASS
                       ? o->n : (int)ceil(sqrt((double)n));
        if (lt_png_grid(o->out, x, (int)n, u->cfg.in_ch, u->cfg.res,
                        u->cfg.res, cols, -1.0f, 1.0f) != LT_OK)
            return cli_fail("dm sample", NULL);
    }
    return 0;
}

/* The guidance the user left out: the official convention of the model's
 * kind (SalUn's DDPM: salun w 2; Stable Diffusion: sd 7.5), as
 * lt_dm_sample_defaults / lt_dm_sample_defaults_text define them. */
static void cli_dm_guidance(cli_dm_sample_opts *o, const lt_unet *u)
{
    if (!o->guidance)
        o->c.guidance = u->cfg.kind == LT_UNET_TEXT
                            ? lt_dm_sample_defaults_text().guidance
                            : lt_dm_sample_defaults().guidance;
    if (isnan(o->c.w)) /* each convention's own default weight */
        o->c.w = o->c.guidance == LT_GUIDE_SD ? lt_dm_sample_defaults_text().w
                                              : lt_dm_sample_defaults().w;
}

/* Class models: the classes of --class; text models: --prompt. */
static int cli_dm_sample_run(const cli_dm_sample_opts *o, lt_unet *u,
                             const lt_dm_schedule *s, float **x, int64_t *n)
{
    if (u->cfg.kind == LT_UNET_TEXT) {
        *n = o->n;
        return cli_dm_sample_text(u, s, o->model, o->clip, o->prompt, o->n,
                                  &o->c, x);
    }
    if (o->prompt)
        return cli_usage("dm sample", "--prompt needs a text model (this "
                         "one is class-conditional: use --class)");
    int32_t *cls = NULL;
    int rc = cli_dm_classes(o, u, &cls, n);
    int64_t per = (int64_t)u->cfg.in_ch * u->cfg.res * u->cfg.res;
    if (!rc && !(*x = malloc((size_t)(*n * per) * sizeof **x)))
        rc = cli_fail("dm sample", NULL);
    cli_bar("dm sample", 0, *n, NULL);
    if (!rc && lt_dm_sample(u, s, &o->c, *n, cls, *x, cli_dm_sample_progress,
                            NULL) != LT_OK)
        rc = cli_fail("dm sample", NULL);
    cli_bar_end();
    free(cls);
    return rc;
}

static int cli_dm_sample(int argc, char **argv)
{
    cli_dm_sample_opts o;
    int rc = cli_dm_sample_parse(argc, argv, &o);
    if (rc)
        return rc == 1 ? 0 : rc;
    lt_fileset fs;
    memset(&fs, 0, sizeof fs);
    lt_fileset_add(&fs, false, "--model", o.model);
    if (o.clip)
        lt_fileset_add(&fs, false, "--encoder", o.clip);
    lt_fileset_add(&fs, true, "--out", o.out);
    if (o.npy)
        lt_fileset_add(&fs, true, "--npy", o.npy);
    if ((rc = cli_files_check("dm sample", &fs)))
        return rc;
    lt_unet *u = NULL;
    lt_dm_schedule s = {0};
    if (lt_unet_load(o.model, &u, &s) != LT_OK)
        return cli_fail("dm sample", "--model");
    cli_dm_guidance(&o, u);
    float *x = NULL;
    int64_t n = 0;
    char desc[128];
    lt_dm_sample_describe(&o.c, s.T, desc, sizeof desc);
    fprintf(stderr, "lethe dm sample: %s, %s\n", u->arch, desc);
    double t0 = lt_clock_seconds();
    rc = cli_dm_sample_run(&o, u, &s, &x, &n);
    if (!rc && !(rc = cli_outputs_begin("dm sample")) && /* both or none */
        !(rc = cli_outputs_end("dm sample", cli_dm_sample_write(&o, u, x, n))))
        printf("wrote %s: %lld samples (%s) in %.1f s\n", o.out,
               (long long)n, desc, lt_clock_seconds() - t0);
    free(x);
    lt_dm_schedule_free(&s);
    lt_unet_free(u);
    return rc;
}

/* ---- eval ----------------------------------------------------------------------------- */

typedef struct {
    lt_bench_dm_cfg c;
    const char *guidance, *json, *markdown;
} cli_dm_eval_opts;

static int cli_dm_eval_parse(int argc, char **argv, cli_dm_eval_opts *o)
{
    *o = (cli_dm_eval_opts){.c = lt_bench_dm_defaults(), .guidance = "salun"};
    lt_bench_dm_cfg *c = &o->c;
    cli_opt opts[] = {
        {"--model", CLI_OPT_STR, &c->model, "UNet checkpoint", 0, 0},
        {"--classifier", CLI_OPT_STR, &c->classifier, "evaluator checkpoint (copy B: reported numbers)", 0, 0},
        {"--data", CLI_OPT_STR, &c->data, "real images to compare with", 0, 0},
        {"--per-class", CLI_OPT_INT, &c->per_class, "samples per class", 4, 1000},
        {"--steps", CLI_OPT_INT, &c->sample.steps, "sampling steps", 1, 100000},
        {"--eta", CLI_OPT_FLOAT, &c->sample.eta, "0: DDIM; 1: DDPM-like", 0, 10},
        {"--guidance", CLI_OPT_STR, &o->guidance, "salun|sd", 0, 0},
        {"--w", CLI_OPT_FLOAT, &c->sample.w, "guidance weight", -1000, 1000},
        {"--seed", CLI_OPT_U64, &c->sample.seed, "sampling seed", 0, 0},
        {"--batch", CLI_OPT_INT, &c->sample.batch, "samples per forward pass", 1, 4096},
        {"--json", CLI_OPT_STR, &o->json, "write the report as JSON", 0, 0},
        {"--markdown", CLI_OPT_STR, &o->markdown, "write the report as Markdown", 0, 0},
        {"--grid", CLI_OPT_STR, &c->grid, "PNG grid of the first 10 samples of each class", 0, 0},
    };
    int rc = cli_args_parse("dm eval", cli_dm_usage_text, opts, CLI_NOPTS(opts),
                            argc, argv);
    if (rc == 0 && !c->model)
        rc = cli_usage("dm eval", "--model is required");
    if (rc == 0 && lt_guidance_parse(o->guidance, &c->sample.guidance))
        rc = cli_bad("dm eval", "--guidance");
    if (rc == 0 && lt_bench_dm_check(c) != LT_OK)
        rc = cli_fail("dm eval", NULL) + 1;
    return rc;
}

static int cli_dm_eval(int argc, char **argv)
{
    cli_dm_eval_opts o;
    int rc = cli_dm_eval_parse(argc, argv, &o);
    if (rc)
        return rc == 1 ? 0 : rc;
    lt_fileset fs;
    memset(&fs, 0, sizeof fs);
    lt_fileset_add(&fs, false, "--model", o.c.model);
    lt_fileset_add(&fs, false, "--classifier", o.c.classifier);
    lt_dataset_fileset_add(&fs, "--data", o.c.data);
    cli_dm_eval_outputs(&fs, o.json, o.markdown, o.c.grid);
    if ((rc = cli_files_check("dm eval", &fs)))
        return rc;
    char cmd[2048];
    cli_join_args(argc, argv, cmd, sizeof cmd); /* "lethe dm eval" */
    o.c.command = cmd;
    o.c.progress = cli_bench_progress;
    lt_report r = {0};
    if ((rc = cli_outputs_begin("dm eval"))) /* grid and reports, or none */
        return rc;
    lt_status st = lt_bench_dm_eval(&o.c, &r, NULL);
    return cli_outputs_end("dm eval",
                           cli_dm_report_out(st, &r, o.json, o.markdown));
}

void cli_dm_eval_outputs(lt_fileset *fs, const char *json,
                         const char *markdown, const char *grid)
{
    if (json)
        lt_fileset_add(fs, true, "--json", json);
    if (markdown)
        lt_fileset_add(fs, true, "--markdown", markdown);
    if (grid)
        lt_fileset_add(fs, true, "--grid", grid);
}

int cli_dm_report_out(lt_status st, lt_report *r, const char *json,
                      const char *markdown)
{
    int rc = 0;
    if (st != LT_OK) {
        lt_report_free(r);
        return cli_fail("dm eval", NULL);
    }
    lt_report_markdown(r, stdout);
    if ((json && lt_report_write_json(r, json) != LT_OK) ||
        (markdown && lt_report_write_markdown(r, markdown) != LT_OK))
        rc = cli_fail("dm eval", NULL);
    printf("accepted: %s\n", lt_report_get(r, "accepted"));
    lt_report_free(r);
    return rc;
}

/* Whether the --model of argv is a text model (false when it does not
 * load: the class path then reports the error). */
static bool cli_dm_model_is_text(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--model")) {
            lt_unet *u = NULL;
            lt_dm_schedule s = {0};
            bool text = lt_unet_load(argv[i + 1], &u, &s) == LT_OK &&
                        u->cfg.kind == LT_UNET_TEXT;
            lt_unet_free(u);
            lt_dm_schedule_free(&s);
            return text;
        }
    return false;
}

int cli_dm(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        printf("%s\n", cli_dm_usage_text);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "train"))
        return cli_dm_train(argc - 1, argv + 1);
    if (!strcmp(argv[1], "sample"))
        return cli_dm_sample(argc - 1, argv + 1);
    if (!strcmp(argv[1], "eval"))
        return cli_dm_model_is_text(argc - 1, argv + 1)
                   ? cli_dm_eval_text(argc - 1, argv + 1)
                   : cli_dm_eval(argc - 1, argv + 1);
    if (!strcmp(argv[1], "clip"))
        return cli_dm_clip(argc - 1, argv + 1);
    if (!strcmp(argv[1], "unlearn"))
        return cli_dm_unlearn(argc - 1, argv + 1);
    if (!strcmp(argv[1], "attack"))
        return cli_dm_attack(argc - 1, argv + 1);
    fprintf(stderr, "lethe dm: unknown subcommand '%s'\n%s\n", argv[1],
            cli_dm_usage_text);
    return 2;
}
