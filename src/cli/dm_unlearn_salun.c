/*
 * dm_unlearn_salun.c - `lethe dm unlearn --concept style:NAME|object:NAME
 * --method salun --data canvas:DIR`: SalUn on a text-conditioned model as
 * UnlearnCanvas' scripts run it (lethe/dm_text_salun.h; the canvas sets of
 * lethe/dm_canvas_unlearn.h): the saliency mask of the target's prompt
 * (or --mask FILE, or --no-mask), then the target replaced by Photo. The
 * weights go to --out with the encoder beside them (OUT.clip.safetensors)
 * and, with --mask-out, the mask as a safetensors file that --mask of any
 * text method reads.
 */
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "cli/dm.h"
#include "lethe/dm_canvas_unlearn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const usage =
    "usage: lethe dm unlearn --model TEXT.safetensors --concept style:NAME|"
    "object:NAME\n"
    "       --method salun --data canvas:DIR --out U.safetensors\n"
    "       [--mask-ratio 0.4] [--mask FILE | --no-mask] [--mask-out FILE] "
    "[--mask-bottom]\n"
    "       [--mask-null-empty] [--mask-guidance 7.5] [--mask-lr 1e-5] "
    "[--per-pair 3]\n"
    "       [--alpha 1] [--epochs 2] [--batch 4] [--lr 1e-5] [--params "
    "esd-x] [--cycle]\n"
    "       [--seed 1] [--encoder C.safetensors]";

typedef struct {
    lt_salun_text_config c;
    const char *model, *out, *concept, *method, *encoder, *data, *mask,
        *mask_out, *params;
    bool no_mask, empty_null;
    int per_pair;
    bool is_style;
    int target;
} opts;

static int parse(int argc, char **argv, opts *o)
{
    *o = (opts){.c = lt_salun_text_defaults(), .method = "salun",
                .params = "esd-x", .per_pair = 3};
    lt_salun_text_config *c = &o->c;
    cli_opt t[] = {
        {"--model", CLI_OPT_STR, &o->model, "the text-conditioned model (text:...)", 0, 0},
        {"--out", CLI_OPT_STR, &o->out, "the unlearned model (its encoder goes to OUT.clip.safetensors)", 0, 0},
        {"--concept", CLI_OPT_STR, &o->concept, "style:NAME or object:NAME of FashionCanvas", 0, 0},
        {"--method", CLI_OPT_STR, &o->method, "salun", 0, 0},
        {"--data", CLI_OPT_STR, &o->data, "canvas:DIR, the FashionCanvas folder", 0, 0},
        {"--encoder", CLI_OPT_STR, &o->encoder, "the text encoder (default MODEL.clip.safetensors)", 0, 0},
        {"--mask", CLI_OPT_STR, &o->mask, "a 0/1 mask file (skips the mask pass)", 0, 0},
        {"--no-mask", CLI_OPT_FLAG, &o->no_mask, "train the parameter set unmasked (what the script's `n in parameters` test makes it do)", 0, 0},
        {"--mask-out", CLI_OPT_STR, &o->mask_out, "write the computed mask here", 0, 0},
        {"--mask-ratio", CLI_OPT_FLOAT, &c->mask_ratio, "share of weights the mask keeps", 1e-6, 1},
        {"--mask-bottom", CLI_OPT_FLAG, &c->mask_bottom, "keep the smallest |gradient| (the script's ascending rank)", 0, 0},
        {"--mask-null-empty", CLI_OPT_FLAG, &o->empty_null, "the mask pass's null context is the empty caption (the script's is the prompt itself)", 0, 0},
        {"--mask-guidance", CLI_OPT_FLOAT, &c->mask_guidance, "c_guidance of the mask pass", -1e3, 1e3},
        {"--mask-lr", CLI_OPT_FLOAT, &c->mask_lr, "Adam lr of the mask pass's copy (0: none)", 0, 1},
        {"--per-pair", CLI_OPT_INT, &o->per_pair, "pictures per (style, object) pair", 1, 1000},
        {"--alpha", CLI_OPT_FLOAT, &c->alpha, "weight of the remain loss", 0, 1e6},
        {"--epochs", CLI_OPT_INT, &c->epochs, "epochs", 1, 1000000},
        {"--batch", CLI_OPT_INT, &c->batch, "batch", 1, 4096},
        {"--lr", CLI_OPT_FLOAT, &c->lr, "Adam learning rate", 1e-12, 1},
        {"--params", CLI_OPT_STR, &o->params, "trained set: esd-x (xattn, the script's default) | esd-u | selfattn | full | notime", 0, 0},
        {"--cycle", CLI_OPT_FLAG, &c->cycle, "walk the batches (the scripts take the first batch each time)", 0, 0},
        {"--seed", CLI_OPT_U64, &c->seed, "seed of t and the noise", 0, 0},
    };
    int rc = cli_args_parse("dm unlearn", usage, t, CLI_NOPTS(t), argc, argv);
    if (rc)
        return rc;
    if (!o->model || !o->out || !o->concept)
        return cli_usage("dm unlearn", "--model FILE, --concept style:NAME|"
                         "object:NAME and --out FILE are required");
    if (!o->data)
        return cli_usage("dm unlearn", "--method salun needs --data "
                         "canvas:DIR (the FashionCanvas folder)");
    if (o->mask && o->no_mask)
        return cli_usage("dm unlearn", "--mask and --no-mask exclude each "
                         "other");
    if (o->mask_out && (o->mask || o->no_mask))
        return cli_usage("dm unlearn", "--mask-out writes the computed "
                         "mask: not with --mask or --no-mask");
    if (lt_esd_params_parse(o->params, &c->params) != LT_OK)
        return cli_bad("dm unlearn", "--params");
    if (lt_canvas_target_parse(o->concept, &o->is_style, &o->target) !=
        LT_OK)
        return cli_bad("dm unlearn", "--concept");
    return 0;
}

static void progress(const lt_salun_text_event *e, void *ud)
{
    char extra[64];
    snprintf(extra, sizeof extra, "loss %.5f", e->loss);
    cli_progress_update(ud, e->step, extra);
}

static int save(const opts *o, const lt_unet *u, const lt_dm_schedule *s,
                const lt_clip *clip, const lt_clip_vocab *v,
                const char *side, const float *mask, int argc, char **argv)
{
    char lr[32], alpha[32], ratio[32], seed[32], cmd[2048];
    snprintf(lr, sizeof lr, "%.6g", (double)o->c.lr);
    snprintf(alpha, sizeof alpha, "%.6g", (double)o->c.alpha);
    snprintf(ratio, sizeof ratio, "%.6g", (double)o->c.mask_ratio);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)o->c.seed);
    cli_join_args(argc + 1, argv - 1, cmd, sizeof cmd);
    const char *mk = o->mask ? o->mask : o->no_mask ? "none"
                   : o->c.mask_bottom ? "saliency-bottom" : "saliency";
    const char *meta[] = {"lethe.dmu.method", "salun",
                          "lethe.dmu.concept", o->concept,
                          "lethe.dmu.params", lt_esd_params_name(o->c.params),
                          "lethe.dmu.mask", mk, "lethe.dmu.mask_ratio", ratio,
                          "lethe.dmu.lr", lr, "lethe.dmu.alpha", alpha,
                          "lethe.dmu.data", o->data, "lethe.dmu.seed", seed,
                          "lethe.dmu.base", o->model, "lethe.command", cmd};
    int rc = cli_outputs_begin("dm unlearn");
    if (rc)
        return rc;
    if (lt_clip_save(clip, v, side, NULL, 0) != LT_OK)
        rc = cli_fail("dm unlearn", "the encoder copy");
    else if (lt_unet_save(u, o->out, s, meta, 11) != LT_OK)
        rc = cli_fail("dm unlearn", "--out");
    else if (o->mask_out && lt_unet_mask_save(u, mask, o->mask_out, meta,
                                              11) != LT_OK)
        rc = cli_fail("dm unlearn", "--mask-out");
    return cli_outputs_end("dm unlearn", rc);
}

/* The mask into mask (or NULL through *use for --no-mask). */
static int make_mask(const opts *o, lt_unet *u, const lt_dm_schedule *s,
                     const lt_salun_text_data *d, float *mask,
                     const float **use)
{
    *use = mask;
    if (o->no_mask) {
        *use = NULL;
        return 0;
    }
    if (o->mask)
        return lt_unet_mask_load(u, o->mask, mask) == LT_OK
                   ? 0
                   : cli_fail("dm unlearn", "--mask");
    int64_t n = u->params.n_train;
    float *g = malloc((size_t)n * sizeof *g);
    int rc = g ? 0 : cli_fail("dm unlearn", NULL);
    fprintf(stderr, "lethe dm unlearn: salun mask pass, %lld iterations "
            "(guidance %g, Adam lr %g)\n",
            (long long)lt_salun_text_mask_iters(&o->c, d->n_forget),
            (double)o->c.mask_guidance, (double)o->c.mask_lr);
    if (!rc && (lt_salun_text_saliency(u, s, d, &o->c, NULL, g) != LT_OK ||
                lt_salun_text_mask(g, n, o->c.mask_ratio, o->c.mask_bottom,
                                   mask) != LT_OK))
        rc = cli_fail("dm unlearn", "the mask");
    free(g);
    return rc;
}

static int run(const opts *o, int argc, char **argv)
{
    char side[4096], own[4096];
    snprintf(side, sizeof side, "%s.clip.safetensors", o->out);
    snprintf(own, sizeof own, "%s.clip.safetensors", o->model);
    lt_fileset fs;
    memset(&fs, 0, sizeof fs);
    lt_fileset_add(&fs, false, "--model", o->model);
    if (o->mask)
        lt_fileset_add(&fs, false, "--mask", o->mask);
    lt_fileset_add(&fs, true, "--out", o->out);
    lt_fileset_add(&fs, true, "the encoder copy", side);
    if (o->mask_out)
        lt_fileset_add(&fs, true, "--mask-out", o->mask_out);
    int rc = cli_files_check("dm unlearn", &fs);
    if (rc)
        return rc;
    lt_unet *u = NULL;
    lt_dm_schedule s = {0};
    if (lt_unet_load(o->model, &u, &s) != LT_OK)
        return cli_fail("dm unlearn", "--model");
    lt_clip *clip = NULL;
    lt_clip_vocab *v = NULL;
    lt_canvas cv = {0};
    lt_salun_canvas_set set = {0};
    float *mask = NULL;
    if (u->cfg.kind != LT_UNET_TEXT || u->cfg.in_ch != 3 ||
        u->cfg.res != LT_CANVAS_SIDE) {
        fprintf(stderr, "lethe dm unlearn: --model %s (%s): salun with "
                "--concept needs a text-conditioned 32x32x3 model (text:...)"
                "; forget a class of a class model with --forget-class\n",
                o->model, u->arch);
        rc = 2;
    } else if (lt_clip_load(o->encoder ? o->encoder : own, &clip, &v) !=
               LT_OK) {
        rc = cli_fail("dm unlearn", o->encoder ? "--encoder"
                                                : "the model's encoder");
    }
    const char *dir = !strncmp(o->data, "canvas:", 7) ? o->data + 7 : o->data;
    if (!rc && lt_canvas_load(dir, "train", &cv) != LT_OK)
        rc = cli_fail("dm unlearn", "--data");
    if (!rc && lt_salun_canvas_data(&cv, clip, v, o->is_style, o->target,
                                    o->per_pair, o->empty_null, &set) !=
                   LT_OK)
        rc = cli_fail("dm unlearn", "--data");
    lt_salun_text_data d = lt_salun_canvas_view(&set);
    const float *use = NULL;
    if (!rc && !(mask = malloc((size_t)u->params.n_train * sizeof *mask)))
        rc = cli_fail("dm unlearn", NULL);
    double t0 = lt_clock_seconds();
    if (!rc)
        rc = make_mask(o, u, &s, &d, mask, &use);
    if (!rc) {
        int64_t iters = lt_salun_text_iters(&o->c, d.n_forget);
        fprintf(stderr, "lethe dm unlearn: salun on %s from %s (%s), %lld "
                "forget / %lld Photo pictures, %lld iterations, %s%s, lr %g, "
                "alpha %g, %d threads\n", o->concept, o->model, u->arch,
                (long long)d.n_forget, (long long)d.n_remain,
                (long long)iters, lt_esd_params_name(o->c.params),
                use ? " x mask" : "", (double)o->c.lr, (double)o->c.alpha,
                lt_num_threads());
        cli_progress bar;
        cli_progress_start(&bar, "dm unlearn", iters);
        lt_status st = lt_salun_text_run(u, &s, &d, use, &o->c, NULL,
                                         progress, &bar);
        cli_progress_end(&bar);
        rc = st == LT_OK ? save(o, u, &s, clip, v, side, mask, argc, argv)
                         : cli_fail("dm unlearn", NULL);
    }
    if (!rc)
        printf("saved %s (salun, %s replaced by Photo) in %.1f s\n", o->out,
               o->concept, lt_clock_seconds() - t0);
    free(mask);
    lt_salun_canvas_free(&set);
    lt_canvas_free(&cv);
    lt_clip_free(clip);
    lt_clip_vocab_free(v);
    lt_unet_free(u);
    lt_dm_schedule_free(&s);
    return rc;
}

int cli_dm_unlearn_salun(int argc, char **argv)
{
    opts o;
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc == 1 ? 0 : rc;
    return run(&o, argc, argv);
}
