/*
 * dm_unlearn.c - `lethe dm unlearn`: forget one class of a class-
 * conditional diffusion model (lethe/dm_unlearn.h). --method salun is the
 * rl loss under SalUn's saliency mask (top 50% of the guided loss's
 * gradient on the forget class); rl, ga and esd run without a mask unless
 * --mask names one (saliency:R, random:R or none), so any loss x mask
 * combination runs. The unlearned weights go to --out (atomically), with
 * the method, mask, class and command in the metadata. Retrain, the
 * reference, is `lethe dm train --exclude K`. Text models (--concept,
 * --method esd-x|esd-u) go to dm_unlearn_text.c, --method sa (Selective
 * Amnesia) to dm_unlearn_sa.c. Under mpirun salun, rl, ga and esd are
 * data-parallel (--dp, --shards; docs/mpi.md): rank 0 reports and writes.
 */
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "cli/dm.h"
#include "lethe/dm_unlearn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const usage =
    "usage: lethe dm unlearn --model M.safetensors --forget-class K "
    "--out U.safetensors\n"
    "       [--method salun|rl|ga|esd|sa] [--mask saliency:0.5|random:0.5|none]\n"
    "       [--steps N] [--batch N] [--lr 1e-4] [--alpha A] "
    "[--data fashion-mnist] [--esd-from-data]\n"
    "       [--dp off|sum|ordered] [--shards S]";

typedef struct {
    lt_dmu_config c;
    lt_dmu_mask_config mc;
    const char *model, *out, *data, *method, *mask, *dp;
    int forget;
} opts;

static int parse(int argc, char **argv, opts *o)
{
    *o = (opts){.c = lt_dmu_defaults(), .mc = lt_dmu_mask_defaults(),
                .data = "fashion-mnist", .method = "salun", .forget = -1};
    lt_dmu_config *c = &o->c;
    c->steps = 0; /* 0: the method's official loop (lt_dmu_recipe) */
    c->batch = 0;
    cli_opt t[] = {
        {"--model", CLI_OPT_STR, &o->model, "the class-conditional model (a dm train file)", 0, 0},
        {"--out", CLI_OPT_STR, &o->out, "the unlearned model", 0, 0},
        {"--forget-class", CLI_OPT_INT, &o->forget, "the class to forget", -1, 100000},
        {"--method", CLI_OPT_STR, &o->method, "salun (rl + saliency mask) | rl | ga | esd", 0, 0},
        {"--mask", CLI_OPT_STR, &o->mask, "saliency:R | random:R | none (default: saliency:0.5 for salun, else none)", 0, 0},
        {"--data", CLI_OPT_STR, &o->data, "the training set (its train split)", 0, 0},
        {"--steps", CLI_OPT_I64, &c->steps, "iterations (0: the method's: 1000, esd 10000)", 0, 1e9},
        {"--batch", CLI_OPT_INT, &c->batch, "forget and retain images per step (0: 128, esd 1)", 0, 4096},
        {"--lr", CLI_OPT_FLOAT, &c->lr, "Adam learning rate", 1e-12, 1},
        {"--clip", CLI_OPT_FLOAT, &c->clip, "gradient-norm clip before the mask (0: off)", 0, 1e9},
        {"--alpha", CLI_OPT_FLOAT, &c->alpha, "retain-loss weight (-1: 1e-3 * 3072 / pixels, 3.918e-3 on 28x28)", -1, 1e6},
        {"--target-class", CLI_OPT_INT, &c->target_class, "rl: the class c' (-1: forget class + 1)", -1, 100000},
        {"--random-target", CLI_OPT_FLAG, &c->random_target, "rl: c' uniform over the other classes per sample", 0, 0},
        {"--pair-drop", CLI_OPT_FLAG, &c->pair_drop, "rl: the official code's 10% null-class dropout inside the pair", 0, 0},
        {"--eta", CLI_OPT_FLOAT, &c->esd_eta, "esd: negative guidance", 0, 1e3},
        {"--esd-from-data", CLI_OPT_FLAG, &c->esd_from_data, "esd: x_t from noised training images (Lethe's cheap variant) instead of train_esd's partial sampling", 0, 0},
        {"--esd-w", CLI_OPT_FLOAT, &c->esd_w, "esd sampling: guidance w", -1e3, 1e3},
        {"--esd-sample-eta", CLI_OPT_FLOAT, &c->esd_sample_eta, "esd sampling: generalized-steps eta", 0, 10},
        {"--seed", CLI_OPT_U64, &c->seed, "seed of batches, noise, dropout and the mask", 0, 0},
        {"--mask-batch", CLI_OPT_INT, &o->mc.batch, "saliency: images per clipped gradient", 1, 4096},
        {"--mask-w", CLI_OPT_FLOAT, &o->mc.w, "saliency: guidance w of the loss", 0, 1e3},
        {"--dp", CLI_OPT_STR, &o->dp, "data-parallel reduction off|sum|ordered (sum under mpirun; docs/mpi.md)", 0, 0},
        {"--shards", CLI_OPT_INT, &c->shards, "parts of every batch (a multiple of the ranks; default one per rank)", 0, 4096},
    };
    int rc = cli_args_parse("dm unlearn", usage, t, CLI_NOPTS(t), argc, argv);
    if (rc)
        return rc;
    if (!o->model || !o->out || o->forget < 0)
        return cli_usage("dm unlearn", "--model FILE, --forget-class K and "
                         "--out FILE are required");
    bool salun = !strcmp(o->method, "salun");
    if (lt_dmu_loss_parse(salun ? "rl" : o->method, &c->loss) != LT_OK) {
        fprintf(stderr, "lethe dm unlearn: --method %s: unknown (known: "
                "salun, rl, ga, esd, sa)\n", o->method);
        return 2;
    }
    if (c->loss != LT_DMU_RL &&
        (c->random_target || c->pair_drop || c->target_class >= 0)) {
        fprintf(stderr, "lethe dm unlearn: --target-class, --random-target "
                "and --pair-drop shape the rl loss (salun, rl), not "
                "--method %s\n", o->method);
        return 2;
    }
    if (c->loss != LT_DMU_ESD &&
        (c->esd_from_data || c->esd_w != lt_dmu_defaults().esd_w ||
         c->esd_sample_eta != lt_dmu_defaults().esd_sample_eta)) {
        fprintf(stderr, "lethe dm unlearn: --esd-from-data, --esd-w and "
                "--esd-sample-eta shape esd, not --method %s\n", o->method);
        return 2;
    }
    int64_t steps;
    int batch;
    lt_dmu_recipe(c->loss, c->esd_from_data, &steps, &batch);
    c->steps = c->steps ? c->steps : steps;
    c->batch = c->batch ? c->batch : batch;
    if (!o->mask)
        o->mask = salun ? "saliency:0.5" : "none";
    c->forget_class = o->forget;
    o->mc.seed = c->seed;
    return cli_dp_mode("dm unlearn", o->dp, c->shards, &c->dist);
}

/* The training split as images in [-1, 1] with labels. */
static int load_data(const char *spec, const lt_unet *u, float **x,
                     int32_t **y, int64_t *n)
{
    lt_dataset d = {0};
    if (lt_dataset_load(spec, "train", &d) != LT_OK)
        return cli_fail("dm unlearn", "--data");
    int rc = 0;
    if (d.c != u->cfg.in_ch || d.h != u->cfg.res ||
        d.classes != u->cfg.classes) {
        fprintf(stderr, "lethe dm unlearn: --data %s has %dx%dx%d images of "
                "%d classes; model %s takes %dx%dx%d of %d\n", spec, d.c, d.h,
                d.w, d.classes, u->arch, u->cfg.in_ch, u->cfg.res, u->cfg.res,
                u->cfg.classes);
        rc = 2;
    } else if (lt_dataset_images_pm1(&d, -1, x, y, n) != LT_OK) {
        rc = cli_fail("dm unlearn", "--data");
    }
    lt_dataset_free(&d);
    return rc;
}

/* The mask of o->mask (NULL for none) into *mask. */
static int make_mask(const opts *o, lt_unet *u, const lt_dm_schedule *s,
                     const float *x, const int32_t *y, int64_t n,
                     float **mask)
{
    lt_mask_spec ms;
    if (lt_mask_parse(o->mask, &ms) != LT_OK)
        return cli_bad("dm unlearn", "--mask");
    if (ms.kind == LT_MASK_SALIENCY)
        fprintf(stderr, "lethe dm unlearn: saliency of the images of class "
                "%d (guided w=%g, batches of %d)...\n", o->forget,
                (double)o->mc.w, o->mc.batch);
    double t0 = lt_clock_seconds();
    if (lt_dmu_mask_spec(u, s, x, y, n, o->forget, o->mask, &o->mc, mask) !=
        LT_OK)
        return cli_fail("dm unlearn", "--mask");
    if (ms.kind == LT_MASK_SALIENCY)
        fprintf(stderr, "lethe dm unlearn: mask in %.1f s\n",
                lt_clock_seconds() - t0);
    return 0;
}

static void progress(const lt_dmu_event *e, void *ud)
{
    cli_progress *bar = ud;
    if (lt_dist_rank() != 0) /* data parallel: rank 0 reports */
        return;
    char extra[96];
    snprintf(extra, sizeof extra, "loss %.4f (forget %.4f, retain %.2f) "
             "|g| %.2f", e->loss, e->forget, e->retain, e->grad_norm);
    cli_progress_update(bar, e->step, extra);
}

static int save(const opts *o, const lt_unet *u, const lt_dm_schedule *s,
                int argc, char **argv)
{
    char cls[16], steps[32], alpha[32], cmd[2048];
    if (lt_dist_rank() != 0) /* data parallel: rank 0 writes */
        return 0;
    snprintf(cls, sizeof cls, "%d", o->forget);
    snprintf(steps, sizeof steps, "%lld", (long long)o->c.steps);
    snprintf(alpha, sizeof alpha, "%.9g", (double)lt_dmu_alpha(&o->c, u));
    cli_join_args(argc, argv, cmd, sizeof cmd);
    const char *meta[] = {"lethe.dmu.method", o->method, "lethe.dmu.loss",
                          lt_dmu_loss_name(o->c.loss), "lethe.dmu.mask",
                          o->mask, "lethe.dmu.forget_class", cls,
                          "lethe.dmu.steps", steps, "lethe.dmu.alpha", alpha,
                          "lethe.dmu.base", o->model, "lethe.command", cmd};
    if (lt_unet_save(u, o->out, s, meta, 8) != LT_OK)
        return cli_fail("dm unlearn", "--out");
    return 0;
}

int cli_dm_unlearn_open(const char *model, const char *out, const char *fim,
                        lt_unet **u, lt_dm_schedule *s)
{
    lt_fileset fs;
    memset(&fs, 0, sizeof fs);
    lt_fileset_add(&fs, false, "--model", model);
    lt_fileset_add(&fs, true, "--out", out);
    lt_fileset_add(&fs, true, "--fim", fim);
    int rc = cli_files_check("dm unlearn", &fs);
    if (!rc && lt_unet_load(model, u, s) != LT_OK)
        rc = cli_fail("dm unlearn", "--model");
    return rc;
}

int cli_dm_unlearn(int argc, char **argv)
{
    if (cli_dm_unlearn_is_adv(argc, argv))
        return cli_dm_unlearn_adv(argc, argv);
    if (cli_dm_unlearn_is_text(argc, argv))
        return cli_dm_unlearn_text(argc, argv);
    if (cli_dm_unlearn_is_sa(argc, argv))
        return cli_dm_unlearn_sa(argc, argv);
    opts o;
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc == 1 ? 0 : rc;
    lt_unet *u = NULL;
    lt_dm_schedule s = {0};
    if ((rc = cli_dm_unlearn_open(o.model, o.out, NULL, &u, &s)))
        return rc;
    float *x = NULL, *mask = NULL;
    int32_t *y = NULL;
    int64_t n = 0;
    if (u->cfg.kind != LT_UNET_CLASS) {
        fprintf(stderr, "lethe dm unlearn: --model %s is a text-conditioned "
                "model (%s); class-wise forgetting needs a class-conditional "
                "one (cond:...); erase a prompt from it with --concept "
                "PROMPT --method esd-x|esd-u\n", o.model, u->arch);
        rc = 2;
    } else if (o.forget >= u->cfg.classes) {
        fprintf(stderr, "lethe dm unlearn: --forget-class %d: expected "
                "0..%d\n", o.forget, u->cfg.classes - 1);
        rc = 2;
    } else if (o.c.target_class >= u->cfg.classes ||
               o.c.target_class == o.forget) {
        fprintf(stderr, "lethe dm unlearn: --target-class %d: expected "
                "another class in 0..%d\n", o.c.target_class,
                u->cfg.classes - 1);
        rc = 2;
    }
    if (!rc)
        rc = load_data(o.data, u, &x, &y, &n);
    if (!rc)
        rc = make_mask(&o, u, &s, x, y, n, &mask);
    bool lead = lt_dist_rank() == 0;
    if (!rc) {
        if (lead)
            fprintf(stderr, "lethe dm unlearn: %s from %s (%s), loss %s, "
                    "mask %s, class %d, %lld steps of %d + %d, alpha %g, %d "
                    "threads\n", o.method, o.model, u->arch,
                    lt_dmu_loss_name(o.c.loss), o.mask, o.forget,
                    (long long)o.c.steps, o.c.batch, o.c.batch,
                    (double)lt_dmu_alpha(&o.c, u), lt_num_threads());
        cli_progress bar;
        if (lead)
            cli_progress_start(&bar, "dm unlearn", o.c.steps);
        double t0 = lt_clock_seconds();
        lt_status st = lt_dmu_run(u, &s, x, y, n, &o.c, mask, progress, &bar);
        if (lead)
            cli_progress_end(&bar);
        rc = st == LT_OK ? save(&o, u, &s, argc, argv)
                         : cli_fail("dm unlearn", NULL);
        if (!rc && lead)
            printf("saved %s (%s, mask %s, class %d forgotten) in %.1f s\n",
                   o.out, o.method, o.mask, o.forget,
                   lt_clock_seconds() - t0);
    }
    free(x);
    free(y);
    free(mask);
    lt_unet_free(u);
    lt_dm_schedule_free(&s);
    return rc;
}
