/*
 * dm_unlearn_sa.c - `lethe dm unlearn --method sa`: Selective Amnesia on a
 * class-conditional diffusion model (lethe/dm_sa.h). The replay set and
 * the Fisher are made from the model (or read from --fim FILE, made for
 * the same weights and settings, and written there when absent), then the
 * forgetting loop runs and its EMA weights go to --out atomically, with
 * the method, class, settings and command in the metadata. Under mpirun
 * the ranks share the replay sampling and the Fisher and the loop is
 * data-parallel (--dp, --shards; docs/mpi.md): rank 0 reports and writes.
 */
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "cli/dm.h"
#include "lethe/dm_sa.h"
#include "lethe/dm_unlearn.h"
#include "lethe/safetensors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const usage =
    "usage: lethe dm unlearn --method sa --model M.safetensors "
    "--forget-class K --out U.safetensors\n"
    "       [--fim FILE] [--sa-lambda 10] [--sa-gamma 1] [--steps 20000] "
    "[--batch 128]\n"
    "       [--lr 1e-4] [--sa-ema -1] [--replay-per-class 500] "
    "[--replay-steps 1000]\n"
    "       [--fim-timesteps 0] [--fim-pm1] [--no-png] "
    "[--mask none|random:R|saliency:R]\n"
    "       [--sa-recipe official|short]  (short: Lethe's preset, not the "
    "official method; the options above still override it)\n"
    "       [--dp off|sum|ordered] [--shards S]";

typedef struct {
    lt_dmu_sa_config c;
    lt_dmu_sa_prep_config p;
    lt_dmu_mask_config mc;
    const char *model, *out, *fim, *method, *mask, *data, *recipe, *dp;
    int forget;
    bool no_png;
} sa_opts;

static int sa_parse(int argc, char **argv, sa_opts *o)
{
    *o = (sa_opts){.mc = lt_dmu_mask_defaults(), .mask = "none",
                   .data = "fashion-mnist", .forget = -1,
                   .recipe = "official"};
    /* the recipe first: the other options override its values */
    const char *rv = cli_arg_value(argc, argv, "--sa-recipe");
    if (lt_dmu_sa_recipe(rv ? rv : o->recipe, &o->p, &o->c) != LT_OK)
        return cli_bad("dm unlearn", "--sa-recipe");
    lt_dmu_sa_config *c = &o->c;
    lt_dmu_sa_prep_config *p = &o->p;
    cli_opt t[] = {
        {"--model", CLI_OPT_STR, &o->model, "the class-conditional model (a dm train file)", 0, 0},
        {"--out", CLI_OPT_STR, &o->out, "the unlearned model (EMA weights)", 0, 0},
        {"--forget-class", CLI_OPT_INT, &o->forget, "the class to forget", -1, 100000},
        {"--method", CLI_OPT_STR, &o->method, "sa", 0, 0},
        {"--sa-recipe", CLI_OPT_STR, &o->recipe, "official (clear-nus/selective-amnesia's) | short (Lethe's preset: 20 replay samples per class by DDIM-50, Fisher over 20 timesteps, 200 steps of 16)", 0, 0},
        {"--fim", CLI_OPT_STR, &o->fim, "replay set + Fisher file: read if made for this model and settings, else written", 0, 0},
        {"--sa-lambda", CLI_OPT_FLOAT, &c->lambda, "EWC weight lambda (the config's lmbda)", 0, 1e12},
        {"--sa-gamma", CLI_OPT_FLOAT, &c->gamma, "replay-loss weight gamma", 0, 1e6},
        {"--steps", CLI_OPT_I64, &c->steps, "iterations (n_iters)", 1, 1e9},
        {"--batch", CLI_OPT_INT, &c->batch, "replay (and noise) images per step", 1, 4096},
        {"--lr", CLI_OPT_FLOAT, &c->lr, "Adam learning rate", 1e-12, 1},
        {"--clip", CLI_OPT_FLOAT, &c->clip, "gradient-norm clip (0: off)", 0, 1e9},
        {"--sa-ema", CLI_OPT_FLOAT, &c->ema, "EMA decay of the output (-1: 0.9999^(20000/steps); 0: raw weights)", -1, 0.999999},
        {"--seed", CLI_OPT_U64, &c->seed, "seed of batches, noise and dropout", 0, 0},
        {"--replay-per-class", CLI_OPT_INT, &p->per_class, "replay / Fisher samples of each class", 1, 100000},
        {"--replay-steps", CLI_OPT_INT, &p->sample.steps, "replay sampler steps (T must be divisible)", 1, 100000},
        {"--replay-eta", CLI_OPT_FLOAT, &p->sample.eta, "replay sampler eta", 0, 10},
        {"--replay-w", CLI_OPT_FLOAT, &p->sample.w, "replay sampler guidance w", -1e3, 1e3},
        {"--fim-timesteps", CLI_OPT_INT, &p->fim_timesteps, "timesteps summed per Fisher sample (0: all T; K: every T/K-th, scaled)", 0, 100000},
        {"--fim-pm1", CLI_OPT_FLAG, &p->fim_pm1, "Fisher on [-1, 1] images (the code feeds [0, 1])", 0, 0},
        {"--no-png", CLI_OPT_FLAG, &o->no_png, "keep the replay samples as floats (the code stores 8-bit PNGs)", 0, 0},
        {"--mask", CLI_OPT_STR, &o->mask, "none | random:R | saliency:R (saliency reads --data)", 0, 0},
        {"--data", CLI_OPT_STR, &o->data, "the training set, for a saliency mask only", 0, 0},
        {"--dp", CLI_OPT_STR, &o->dp, "data-parallel reduction off|sum|ordered (sum under mpirun; docs/mpi.md)", 0, 0},
        {"--shards", CLI_OPT_INT, &c->shards, "parts of every step's images (a multiple of the ranks; default one per rank)", 0, 4096},
    };
    int rc = cli_args_parse("dm unlearn", usage, t, CLI_NOPTS(t), argc, argv);
    if (rc)
        return rc;
    if (!o->model || !o->out || o->forget < 0)
        return cli_usage("dm unlearn", "--model FILE, --forget-class K and "
                         "--out FILE are required");
    c->forget_class = o->forget;
    p->png = !o->no_png;
    o->mc.seed = c->seed;
    p->spread = lt_dist_size() > 1;
    return cli_dp_mode("dm unlearn", o->dp, c->shards, &c->dist);
}

/* The cache key: the base weights' hash and the data settings. */
static int sa_key(const sa_opts *o, char *key, size_t n)
{
    char hex[65], desc[512];
    if (lt_st_weights_sha256(o->model, hex) != LT_OK)
        return cli_fail("dm unlearn", "--model");
    lt_dmu_sa_prep_describe(&o->p, desc, sizeof desc);
    snprintf(key, n, "%s; %s", hex, desc);
    return 0;
}

static bool sa_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* total is this rank's share when the preparation is spread */
static void sa_prep_progress(int64_t done, int64_t total, void *ud)
{
    if (lt_dist_rank() != 0) /* distributed: rank 0 reports its share */
        return;
    cli_progress *bar = ud;
    bar->total = total;
    cli_progress_update(bar, done, NULL);
}

/* Replay set and Fisher: from --fim when it exists, else computed (and
 * written to --fim when given). */
static int sa_data(const sa_opts *o, lt_unet *u, const lt_dm_schedule *s,
                   lt_dmu_sa_data *d)
{
    char key[1024];
    int rc = sa_key(o, key, sizeof key);
    if (rc)
        return rc;
    if (o->fim && sa_exists(o->fim)) {
        fprintf(stderr, "lethe dm unlearn: replay set and Fisher from %s\n",
                o->fim);
        if (lt_dmu_sa_load(o->fim, u, "lethe.sa.key", key, d) != LT_OK)
            return cli_bad("dm unlearn", "--fim");
        return 0;
    }
    cli_progress bar;
    cli_progress_start(&bar, "sa replay samples",
                       (int64_t)o->p.per_class * u->cfg.classes);
    lt_status st = lt_dmu_sa_replay(u, s, &o->p, sa_prep_progress, &bar, d);
    cli_progress_end(&bar);
    if (st == LT_OK) {
        cli_progress_start(&bar, "sa fisher samples", d->n);
        st = lt_dmu_sa_fisher(u, s, &o->p, sa_prep_progress, &bar, d);
        cli_progress_end(&bar);
    }
    if (st != LT_OK)
        return cli_fail("dm unlearn", "sa");
    const char *meta[] = {"lethe.sa.key", key, "lethe.sa.base", o->model};
    if (o->fim && lt_dist_rank() == 0 && /* every rank holds the same */
        lt_dmu_sa_save(o->fim, d, meta, 2) != LT_OK)
        return cli_fail("dm unlearn", "--fim");
    return 0;
}

/* The mask of --mask (NULL for none); saliency reads the training data. */
static int sa_mask(const sa_opts *o, lt_unet *u, const lt_dm_schedule *s,
                   float **mask)
{
    lt_mask_spec ms;
    if (lt_mask_parse(o->mask, &ms) != LT_OK)
        return cli_bad("dm unlearn", "--mask");
    float *x = NULL;
    int32_t *y = NULL;
    int64_t n = 0;
    lt_dataset ds = {0};
    if (ms.kind == LT_MASK_SALIENCY) {
        if (lt_dataset_load(o->data, "train", &ds) != LT_OK ||
            lt_dataset_images_pm1(&ds, -1, &x, &y, &n) != LT_OK) {
            lt_dataset_free(&ds);
            return cli_fail("dm unlearn", "--data");
        }
    }
    int rc = 0;
    if (lt_dmu_mask_spec(u, s, x, y, n, o->forget, o->mask, &o->mc, mask) !=
        LT_OK)
        rc = cli_bad("dm unlearn", "--mask");
    lt_dataset_free(&ds);
    free(x);
    free(y);
    return rc;
}

static void sa_progress(const lt_dmu_sa_event *e, void *ud)
{
    if (lt_dist_rank() != 0) /* data parallel: rank 0 reports */
        return;
    char extra[112];
    snprintf(extra, sizeof extra, "loss %.2f (forget %.2f, replay %.2f, "
             "ewc %.4f) |g| %.2f", e->loss, e->forget, e->replay, e->ewc,
             e->grad_norm);
    cli_progress_update(ud, e->step, extra);
}

static int sa_save(const sa_opts *o, const lt_unet *u,
                   const lt_dm_schedule *s, int argc, char **argv)
{
    if (lt_dist_rank() != 0) /* data parallel: rank 0 writes */
        return 0;
    char cls[16], steps[32], lam[32], ema[32], cmd[2048];
    snprintf(cls, sizeof cls, "%d", o->forget);
    snprintf(steps, sizeof steps, "%lld", (long long)o->c.steps);
    snprintf(lam, sizeof lam, "%.9g", (double)o->c.lambda);
    snprintf(ema, sizeof ema, "%.9g", (double)lt_dmu_sa_ema(&o->c));
    cli_join_args(argc, argv, cmd, sizeof cmd);
    bool official = !strcmp(o->recipe, "official");
    const char *meta[] = {"lethe.dmu.method", official ? "sa" : "sa-short",
                          "lethe.dmu.mask",
                          o->mask, "lethe.dmu.forget_class", cls,
                          "lethe.dmu.steps", steps, "lethe.dmu.sa_lambda",
                          lam, "lethe.dmu.sa_ema", ema, "lethe.dmu.base",
                          o->model, "lethe.command", cmd};
    if (lt_unet_save(u, o->out, s, meta, 8) != LT_OK)
        return cli_fail("dm unlearn", "--out");
    return 0;
}

static int sa_check_model(const sa_opts *o, const lt_unet *u)
{
    if (u->cfg.kind != LT_UNET_CLASS) {
        fprintf(stderr, "lethe dm unlearn: --model %s is a text-conditioned "
                "model (%s); --method sa needs a class-conditional one "
                "(cond:...)\n", o->model, u->arch);
        return 2;
    }
    if (o->forget >= u->cfg.classes) {
        fprintf(stderr, "lethe dm unlearn: --forget-class %d: expected "
                "0..%d\n", o->forget, u->cfg.classes - 1);
        return 2;
    }
    return 0;
}

static int sa_unlearn(const sa_opts *o, lt_unet *u, const lt_dm_schedule *s,
                      int argc, char **argv)
{
    lt_dmu_sa_data d = {0};
    float *mask = NULL;
    int rc = sa_mask(o, u, s, &mask);
    if (!rc)
        rc = sa_data(o, u, s, &d);
    bool lead = lt_dist_rank() == 0;
    if (!rc && lead)
        fprintf(stderr, "lethe dm unlearn: sa (%s recipe) from %s (%s), "
                "class %d, %lld "
                "steps of %d, lambda %g, gamma %g, ema %g, mask %s, %lld "
                "replay samples, %d threads, %d rank%s\n", o->recipe,
                o->model, u->arch, o->forget,
                (long long)o->c.steps, o->c.batch, (double)o->c.lambda,
                (double)o->c.gamma, (double)lt_dmu_sa_ema(&o->c), o->mask,
                (long long)d.n, lt_num_threads(), lt_dist_size(),
                lt_dist_size() > 1 ? "s" : "");
    if (!rc) {
        cli_progress bar;
        cli_progress_start(&bar, "dm unlearn sa", o->c.steps);
        double t0 = lt_clock_seconds();
        lt_status st = lt_dmu_sa_run(u, s, &d, &o->c, mask, sa_progress,
                                     &bar);
        cli_progress_end(&bar);
        rc = st == LT_OK ? sa_save(o, u, s, argc, argv)
                         : cli_fail("dm unlearn", NULL);
        if (!rc && lead)
            printf("saved %s (%s, class %d forgotten) in %.1f s\n", o->out,
                   strcmp(o->recipe, "official") ? "sa-short" : "sa",
                   o->forget, lt_clock_seconds() - t0);
    }
    free(mask);
    lt_dmu_sa_data_free(&d);
    return rc;
}

bool cli_dm_unlearn_is_sa(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--method=sa") ||
            (!strcmp(argv[i], "--method") && i + 1 < argc &&
             !strcmp(argv[i + 1], "sa")))
            return true;
    return false;
}

int cli_dm_unlearn_sa(int argc, char **argv)
{
    sa_opts o;
    int rc = sa_parse(argc, argv, &o);
    if (rc)
        return rc == 1 ? 0 : rc;
    lt_unet *u = NULL;
    lt_dm_schedule s = {0};
    if ((rc = cli_dm_unlearn_open(o.model, o.out, o.fim, &u, &s)))
        return rc;
    rc = sa_check_model(&o, u);
    if (!rc)
        rc = sa_unlearn(&o, u, &s, argc, argv);
    lt_unet_free(u);
    lt_dm_schedule_free(&s);
    return rc;
}
