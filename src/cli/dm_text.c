/*
 * dm_text.c - the text side of `lethe dm` on FashionCanvas:
 *   clip    pretrain the CLIP-like text encoder contrastively on a canvas
 *           folder's pictures and captions (lt_canvas_clip_pretrain);
 *   train   (text models) train the UNet with the frozen encoder; the
 *           encoder is copied beside the model as MODEL.clip.safetensors,
 *           which sampling reads by default;
 *   sample  (text models) contexts from --prompt.
 * Data specs: canvas:DIR or a plain DIR (a `lethe data canvas` folder).
 */
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "cli/dm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "canvas:DIR" or "DIR" -> DIR. */
static const char *cli_canvas_dir(const char *spec)
{
    return !strncmp(spec, "canvas:", 7) ? spec + 7 : spec;
}

static void cli_clip_side_path(const char *model, char *buf, size_t n)
{
    snprintf(buf, n, "%s.clip.safetensors", model);
}

/* ---- clip ---------------------------------------------------------------------- */

typedef struct {
    lt_clip_train_cfg c;
    const char *data, *out, *preset, *dp;
} cli_dm_clip_opts;

static void cli_dm_clip_progress(void *ud, const lt_clip_event *e)
{
    if (lt_dist_rank() != 0) /* data parallel: rank 0 reports */
        return;
    (void)ud;
    char extra[96];
    snprintf(extra, sizeof extra, "loss %.3f t2i %.2f i2t %.2f", e->loss,
             e->t2i, e->i2t);
    cli_bar("dm clip", e->step, e->steps, extra);
}

static int cli_dm_clip_parse(int argc, char **argv, cli_dm_clip_opts *o)
{
    *o = (cli_dm_clip_opts){.c = lt_clip_train_defaults(), .preset = "tiny"};
    lt_clip_train_cfg *c = &o->c;
    cli_opt opts[] = {
        {"--data", CLI_OPT_STR, &o->data, "FashionCanvas folder (lethe data canvas)", 0, 0},
        {"--out", CLI_OPT_STR, &o->out, "encoder checkpoint (weights, vocabulary, optimizer state)", 0, 0},
        {"--preset", CLI_OPT_STR, &o->preset, "xs|tiny|small (tiny: width 64, the text UNets' ctx_dim)", 0, 0},
        {"--steps", CLI_OPT_I64, &c->steps, "optimizer steps", 1, 1e9},
        {"--batch", CLI_OPT_INT, &c->batch, "pairs per step", 2, 4096},
        {"--lr", CLI_OPT_FLOAT, &c->optim.lr, "AdamW peak learning rate", 1e-9, 1},
        {"--seed", CLI_OPT_U64, &c->seed, "seed of init and batches", 0, 0},
        {"--resume", CLI_OPT_FLAG, &c->resume, "continue from --out if it exists", 0, 0},
        {"--dp", CLI_OPT_STR, &o->dp, "data-parallel reduction off|sum|ordered (sum under mpirun; docs/mpi.md)", 0, 0},
        {"--shards", CLI_OPT_INT, &c->shards, "parts of every batch (a multiple of the ranks; default one per rank)", 0, 4096},
    };
    int rc = cli_args_parse("dm clip", "usage: lethe dm clip --data DIR --out "
                            "C.safetensors [options]", opts, CLI_NOPTS(opts),
                            argc, argv);
    if (rc == 0 && (!o->data || !o->out))
        rc = cli_usage("dm clip", "--data and --out are required");
    return rc ? rc : cli_dp_mode("dm clip", o->dp, c->shards, &c->dist);
}

/* Zero-shot object / style accuracy on the train split cv and the test
 * split of the same folder. */
static int cli_dm_clip_zeroshot(lt_clip *m, const lt_clip_vocab *v,
                                const lt_canvas *cv, const char *data)
{
    lt_canvas te = {0};
    double o[2], s[2], b[2];
    if (lt_canvas_clip_zeroshot(m, v, cv, &o[0], &s[0], &b[0]) != LT_OK ||
        lt_canvas_load(cli_canvas_dir(data), "test", &te) != LT_OK ||
        lt_canvas_clip_zeroshot(m, v, &te, &o[1], &s[1], &b[1]) != LT_OK) {
        lt_canvas_free(&te);
        return cli_fail("dm clip", "zero-shot accuracy");
    }
    printf("zero-shot (nearest canonical prompt of 220): object / style / "
           "both %.1f / %.1f / %.1f%% on %lld train pictures, %.1f / %.1f / "
           "%.1f%% on %lld test pictures (chance 10 / 4.5 / 0.45%%)\n", o[0],
           s[0], b[0], (long long)cv->n, o[1], s[1], b[1], (long long)te.n);
    lt_canvas_free(&te);
    return 0;
}

int cli_dm_clip(int argc, char **argv)
{
    cli_dm_clip_opts o;
    int rc = cli_dm_clip_parse(argc, argv, &o);
    if (rc)
        return rc == 1 ? 0 : rc;
    lt_canvas cv = {0};
    lt_clip_vocab *v = NULL;
    lt_clip *m = NULL;
    lt_clip_config cfg;
    if (lt_canvas_load(cli_canvas_dir(o.data), "train", &cv) != LT_OK)
        return cli_fail("dm clip", "--data");
    if (lt_canvas_clip_vocab(&v) != LT_OK ||
        lt_clip_preset(o.preset, lt_clip_vocab_size(v), &cfg) != LT_OK)
        rc = cli_bad("dm clip", "--preset");
    if (!rc && lt_clip_create(&cfg, &m) != LT_OK)
        rc = cli_fail("dm clip", NULL);
    if (!rc) {
        lt_clip_init(m, o.c.seed);
        o.c.checkpoint = o.out;
        o.c.checkpoint_every = 250;
        o.c.progress = cli_dm_clip_progress;
        if (lt_dist_rank() == 0)
            fprintf(stderr, "lethe dm clip: %s encoder on %lld canvas "
                    "pictures, %lld steps of %d, %d rank%s\n", o.preset,
                    (long long)cv.n, (long long)o.c.steps, o.c.batch,
                    lt_dist_size(), lt_dist_size() > 1 ? "s" : "");
        lt_clip_report rep = {0};
        if (lt_canvas_clip_pretrain(m, v, &cv, &o.c, &rep) != LT_OK)
            rc = cli_fail("dm clip", NULL);
        cli_bar_end();
        bool lead = lt_dist_rank() == 0; /* data parallel: rank 0 reports */
        if (!rc && lead && rep.steps_run == 0)
            printf("%s: already trained for %lld steps\n", o.out,
                   (long long)rep.start_step);
        else if (!rc && lead)
            printf("saved %s: loss %.3f -> %.3f, batch retrieval t2i %.2f "
                   "i2t %.2f (last 10%% of steps), %.1f s\n", o.out,
                   rep.first_loss, rep.mean_loss_tail, rep.t2i_tail,
                   rep.i2t_tail, rep.seconds);
    }
    if (!rc && lt_dist_rank() == 0)
        rc = cli_dm_clip_zeroshot(m, v, &cv, o.data);
    lt_clip_free(m);
    lt_clip_vocab_free(v);
    lt_canvas_free(&cv);
    return rc;
}

/* ---- train -------------------------------------------------------------------------- */

int cli_dm_train_text(const cli_dm_train_opts *o, lt_unet *u,
                      const lt_dm_schedule *s)
{
    if (!o->clip)
        return cli_usage("dm train", "text models need --encoder C.safetensors "
                         "(a text encoder from lethe dm clip)");
    char side[4096], state[4096];
    cli_clip_side_path(o->out, side, sizeof side);
    lt_dm_state_path(o->out, state, sizeof state);
    lt_fileset fs;
    memset(&fs, 0, sizeof fs);
    lt_fileset_add(&fs, false, "--encoder", o->clip);
    if (o->init)
        lt_fileset_add(&fs, false, "--init", o->init);
    lt_fileset_add(&fs, true, "--out", o->out);
    lt_fileset_add(&fs, true, "the training state", state);
    if (strcmp(o->clip, side))
        lt_fileset_add(&fs, true, "the encoder copy", side);
    int rc = cli_files_check("dm train", &fs);
    if (rc)
        return rc;
    lt_canvas cv = {0};
    lt_clip *clip = NULL;
    lt_clip_vocab *v = NULL;
    if (lt_clip_load(o->clip, &clip, &v) != LT_OK)
        return cli_fail("dm train", "--encoder");
    if (lt_canvas_load(cli_canvas_dir(o->data), "train", &cv) != LT_OK)
        rc = cli_fail("dm train", "--data");
    if (!rc)
        rc = cli_dm_init_weights(o->init, u, o->c.seed);
    if (!rc) {
        if (lt_dist_rank() == 0)
            fprintf(stderr, "lethe dm train: %s (%lld parameters) on %lld "
                    "canvas pictures, %lld steps of %d, encoder %s\n",
                    u->arch, (long long)u->params.n_train, (long long)cv.n,
                    (long long)o->c.steps, o->c.batch, o->clip);
        cli_dm_ui ui = {0};
        if (lt_canvas_dm_train(u, s, clip, v, &cv, &o->c, o->out, o->resume,
                               cli_dm_train_progress, &ui) != LT_OK)
            rc = cli_fail("dm train", NULL);
        if (ui.started)
            cli_progress_end(&ui.bar);
    }
    bool lead = lt_dist_rank() == 0; /* under mpirun: saves and reports */
    if (!rc && lead && strcmp(o->clip, side) &&
        lt_clip_save(clip, v, side, NULL, 0))
        rc = cli_fail("dm train", NULL);
    if (!rc && lead)
        printf("saved %s (EMA weights), its encoder %s and %s\n", o->out,
               side, state);
    lt_canvas_free(&cv);
    lt_clip_free(clip);
    lt_clip_vocab_free(v);
    return rc;
}

/* ---- sample ------------------------------------------------------------------------- */

/* Contexts of n copies of prompt and the empty caption's. */
static int cli_dm_contexts(lt_clip *clip, const lt_clip_vocab *v,
                           const char *prompt, int n, float *ctx,
                           float *null_ctx)
{
    int L = clip->cfg.context_length, D = clip->cfg.width;
    int32_t *ids = malloc((size_t)L * sizeof *ids);
    lt_ctx *c = lt_ctx_new(lt_clip_arena_bytes(&clip->cfg, 1, 32, 32, false));
    int rc = 0;
    if (!ids || !c)
        rc = cli_fail("dm sample", NULL);
    else if (lt_clip_tokenize(v, prompt, L, ids, NULL, NULL) != LT_OK)
        rc = cli_bad("dm sample", "--prompt");
    lt_tensor *h = NULL;
    if (!rc) {
        lt_set_grad_enabled(c, false);
        h = lt_clip_text_encode(c, clip, ids, 1);
        if (!h || lt_dm_empty_context(clip, null_ctx) != LT_OK)
            rc = cli_fail("dm sample", NULL);
    }
    for (int i = 0; !rc && i < n; i++)
        memcpy(ctx + (int64_t)i * L * D, h->data, (size_t)L * D * sizeof *ctx);
    lt_ctx_free(c);
    free(ids);
    return rc;
}

int cli_dm_sample_text(lt_unet *u, const lt_dm_schedule *s,
                       const char *model, const char *clip_path,
                       const char *prompt, int n,
                       const lt_dm_sample_config *cfg, float **x)
{
    if (!prompt)
        return cli_usage("dm sample", "text models need --prompt TEXT");
    char side[4096];
    cli_clip_side_path(model, side, sizeof side);
    lt_clip *clip = NULL;
    lt_clip_vocab *v = NULL;
    if (lt_clip_load(clip_path ? clip_path : side, &clip, &v) != LT_OK)
        return cli_fail("dm sample", "--encoder");
    int64_t L = u->cfg.ctx_len, D = u->cfg.ctx_dim;
    int64_t per = (int64_t)u->cfg.in_ch * u->cfg.res * u->cfg.res;
    float *ctx = malloc((size_t)(n * L * D) * sizeof *ctx);
    float *null_ctx = malloc((size_t)(L * D) * sizeof *null_ctx);
    *x = malloc((size_t)(n * per) * sizeof **x);
    int rc = ctx && null_ctx && *x ? 0 : cli_fail("dm sample", NULL);
    if (!rc && (clip->cfg.context_length != L || clip->cfg.width != D)) {
        fprintf(stderr, "lethe dm sample: the encoder gives %dx%d contexts, "
                "%s takes %lldx%lld\n", clip->cfg.context_length,
                clip->cfg.width, u->arch, (long long)L, (long long)D);
        rc = 2;
    }
    if (!rc)
        rc = cli_dm_contexts(clip, v, prompt, n, ctx, null_ctx);
    if (!rc && lt_dm_sample_text(u, s, cfg, n, ctx, null_ctx, *x, NULL,
                                 NULL) != LT_OK)
        rc = cli_fail("dm sample", NULL);
    free(ctx);
    free(null_ctx);
    lt_clip_free(clip);
    lt_clip_vocab_free(v);
    return rc;
}

/* ---- eval --------------------------------------------------------------------------- */

typedef struct {
    lt_bench_dm_text_cfg c;
    const char *data, *guidance, *json, *markdown;
} cli_dm_eval_text_opts;

static int cli_dm_eval_text_parse(int argc, char **argv,
                                  cli_dm_eval_text_opts *o)
{
    *o = (cli_dm_eval_text_opts){.c = lt_bench_dm_text_defaults()};
    lt_bench_dm_text_cfg *c = &o->c;
    cli_opt opts[] = {
        {"--model", CLI_OPT_STR, &c->model, "text UNet checkpoint", 0, 0},
        {"--encoder", CLI_OPT_STR, &c->encoder, "its text encoder (default MODEL.clip.safetensors)", 0, 0},
        {"--data", CLI_OPT_STR, &o->data, "canvas:DIR, the FashionCanvas folder it was trained on", 0, 0},
        {"--style-classifier", CLI_OPT_STR, &c->style_classifier, "style evaluator", 0, 0},
        {"--object-classifier", CLI_OPT_STR, &c->object_classifier, "object evaluator", 0, 0},
        {"--per-pair", CLI_OPT_INT, &c->per_pair, "samples per (style, object) pair", 1, 10},
        {"--prompt-check", CLI_OPT_INT, &c->prompt_check, "real pictures per style and object of the prompt check (the model as a diffusion classifier; 0: off)", 0, 10},
        {"--prompt-check-only", CLI_OPT_FLAG, &c->prompt_only, "the prompt check alone (no samples, no verdict; a minute)", 0, 0},
        {"--steps", CLI_OPT_INT, &c->sample.steps, "sampling steps", 1, 100000},
        {"--eta", CLI_OPT_FLOAT, &c->sample.eta, "0: DDIM; 1: DDPM-like", 0, 10},
        {"--guidance", CLI_OPT_STR, &o->guidance, "sd|salun [sd]", 0, 0},
        {"--w", CLI_OPT_FLOAT, &c->sample.w, "guidance weight", -1000, 1000},
        {"--seed", CLI_OPT_U64, &c->sample.seed, "sampling seed", 0, 0},
        {"--batch", CLI_OPT_INT, &c->sample.batch, "samples per forward pass", 1, 4096},
        {"--json", CLI_OPT_STR, &o->json, "write the report as JSON", 0, 0},
        {"--markdown", CLI_OPT_STR, &o->markdown, "write the report as Markdown", 0, 0},
        {"--grid", CLI_OPT_STR, &c->grid, "PNG grid: a row per style, a column per object", 0, 0},
    };
    int rc = cli_args_parse("dm eval", cli_dm_usage_text, opts,
                            CLI_NOPTS(opts), argc, argv);
    if (rc == 0 && !o->data)
        rc = cli_usage("dm eval", "text models need --data canvas:DIR (the "
                       "FashionCanvas folder of the real pictures)");
    if (rc == 0 && o->guidance &&
        lt_guidance_parse(o->guidance, &c->sample.guidance) != LT_OK)
        rc = cli_bad("dm eval", "--guidance");
    if (rc == 0) {
        c->canvas = cli_canvas_dir(o->data);
        if (lt_bench_dm_text_check(c) != LT_OK)
            rc = cli_fail("dm eval", NULL) + 1;
    }
    return rc;
}

int cli_dm_eval_text(int argc, char **argv)
{
    cli_dm_eval_text_opts o;
    int rc = cli_dm_eval_text_parse(argc, argv, &o);
    if (rc)
        return rc == 1 ? 0 : rc;
    char side[4096];
    cli_clip_side_path(o.c.model, side, sizeof side);
    lt_fileset fs;
    memset(&fs, 0, sizeof fs);
    lt_fileset_add(&fs, false, "--model", o.c.model);
    lt_fileset_add(&fs, false, "--encoder", o.c.encoder ? o.c.encoder : side);
    if (!o.c.prompt_only) { /* the prompt check judges nothing */
        lt_fileset_add(&fs, false, "--style-classifier", o.c.style_classifier);
        lt_fileset_add(&fs, false, "--object-classifier",
                       o.c.object_classifier);
    }
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
    lt_status st = lt_bench_dm_text_eval(&o.c, &r, NULL);
    return cli_outputs_end("dm eval",
                           cli_dm_report_out(st, &r, o.json, o.markdown));
}
