/*
 * dm_attack.c - `lethe dm attack`: attack an unlearned text-conditioned
 * diffusion model with UnlearnDiff or a baseline (none, random, p4d) on
 * the prompts of one FashionCanvas concept, and report pre-ASR and ASR by
 * the in-loop detector and by the judge (lt_bench_dm_attack; the attack
 * itself is lethe/dm_attack.h). Parses and prints only.
 */
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "cli/dm.h"
#include "lethe/bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const usage =
    "usage: lethe dm attack --unlearned U.safetensors --concept "
    "object:NAME|style:NAME|mark\n"
    "       [--original M.safetensors] [--encoder E] [--original-encoder E0]\n"
    "       [--method unlearndiff|p4d|random|none]\n"
    "       [--prompts 10] [--prompt TEXT] [--k K] [--lite] [--timesteps 50]\n"
    "       [--iters 40] [--detector C] [--judge C] [--out-prompts P.json]\n"
    "       [--grid G.png] [--json R.json] [--markdown R.md]";

typedef struct {
    lt_bench_attack_cfg c;
    const char *method, *json, *markdown;
    int n_t, iters, steps;
    bool lite;
} opts;

static int parse(int argc, char **argv, opts *o)
{
    *o = (opts){.c = lt_bench_attack_defaults(), .method = "unlearndiff",
                .n_t = -1, .iters = -1, .steps = -1};
    lt_bench_attack_cfg *c = &o->c;
    cli_opt t[] = {
        {"--unlearned", CLI_OPT_STR, &c->unlearned, "the attacked text model", 0, 0},
        {"--original", CLI_OPT_STR, &c->original, "the model before unlearning (target images; unlearndiff and p4d)", 0, 0},
        {"--encoder", CLI_OPT_STR, &c->encoder, "the attacked model's text encoder (default UNLEARNED.clip.safetensors)", 0, 0},
        {"--original-encoder", CLI_OPT_STR, &c->original_encoder, "the original model's encoder (default: the attacked model's; give it for AdvUnlearn models)", 0, 0},
        {"--concept", CLI_OPT_STR, &c->concept, "object:NAME, style:NAME or mark", 0, 0},
        {"--method", CLI_OPT_STR, &o->method, "unlearndiff | p4d | random | none", 0, 0},
        {"--prompts", CLI_OPT_INT, &c->n_prompts, "prompts attacked", 1, 100000},
        {"--prompt", CLI_OPT_STR, &c->prompt, "attack this text (at seeds S, S+1, ...) instead of drawn captions", 0, 0},
        {"--prompt-seed", CLI_OPT_U64, &c->prompt_seed, "seed of the first prompt", 0, 0},
        {"--k", CLI_OPT_INT, &c->k, "adversarial tokens (0: 3, 5 for the mark)", 0, 64},
        {"--lite", CLI_OPT_FLAG, &o->lite, "5 timesteps of 10 steps (quick runs)", 0, 0},
        {"--timesteps", CLI_OPT_INT, &o->n_t, "timesteps = tries (50)", 1, 1000},
        {"--iters", CLI_OPT_INT, &o->iters, "steps per timestep (40)", 1, 100000},
        {"--lr", CLI_OPT_FLOAT, &c->atk.lr, "Adam learning rate", 1e-9, 100},
        {"--weight-decay", CLI_OPT_FLOAT, &c->atk.weight_decay, "Adam L2 weight decay", 0, 100},
        {"--seed", CLI_OPT_U64, &c->atk.seed, "the attack's draws", 0, 0},
        {"--steps", CLI_OPT_INT, &o->steps, "sampling steps of every generation (50)", 1, 100000},
        {"--detector", CLI_OPT_STR, &c->detector, "in-loop classifier (default: the committed evaluator of the axis)", 0, 0},
        {"--judge", CLI_OPT_STR, &c->judge, "the verdict's classifier (default: the committed judge of the concept's axis when the detector is the committed one, else the detector, flagged)", 0, 0},
        {"--out-prompts", CLI_OPT_STR, &c->prompts_json, "the adversarial prompts as JSON", 0, 0},
        {"--grid", CLI_OPT_STR, &c->grid, "PNG: per prompt its unattacked and last image", 0, 0},
        {"--json", CLI_OPT_STR, &o->json, "write the report as JSON", 0, 0},
        {"--markdown", CLI_OPT_STR, &o->markdown, "write the report as Markdown", 0, 0},
    };
    int rc = cli_args_parse("dm attack", usage, t, CLI_NOPTS(t), argc, argv);
    if (rc)
        return rc;
    if (!c->unlearned || !c->concept)
        return cli_usage("dm attack", "--unlearned FILE and --concept C are "
                         "required");
    lt_atk_config base = o->lite ? lt_atk_lite() : lt_atk_defaults();
    base.lr = c->atk.lr;
    base.weight_decay = c->atk.weight_decay;
    base.seed = c->atk.seed;
    c->atk = base;
    if (o->n_t > 0)
        c->atk.n_t = o->n_t;
    if (o->iters > 0)
        c->atk.iters = o->iters;
    if (o->steps > 0)
        c->atk.sample.steps = o->steps;
    if (lt_atk_method_parse(o->method, &c->atk.method) != LT_OK)
        return cli_bad("dm attack", "--method");
    bool needs = c->atk.method == LT_ATK_UNLEARNDIFF ||
                 c->atk.method == LT_ATK_P4D;
    if (needs && !c->original)
        return cli_usage("dm attack", "--method unlearndiff and p4d need "
                         "--original (the model before unlearning)");
    return 0;
}

/* Print the report, write --json / --markdown, free it; the exit code. */
static int report_out(lt_status st, lt_report *r, const char *json,
                      const char *markdown)
{
    int rc = 0;
    if (st == LT_OK) {
        lt_report_markdown(r, stdout);
        if ((json && lt_report_write_json(r, json) != LT_OK) ||
            (markdown && lt_report_write_markdown(r, markdown) != LT_OK))
            st = lt_last_status();
    }
    if (st != LT_OK)
        rc = cli_fail("dm attack", NULL);
    lt_report_free(r);
    return rc;
}

int cli_dm_attack(int argc, char **argv)
{
    opts o;
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc == 1 ? 0 : rc;
    char side[4096];
    snprintf(side, sizeof side, "%s.clip.safetensors", o.c.unlearned);
    lt_fileset fs;
    memset(&fs, 0, sizeof fs);
    lt_fileset_add(&fs, false, "--unlearned", o.c.unlearned);
    lt_fileset_add(&fs, false, "--original", o.c.original);
    lt_fileset_add(&fs, false, "--encoder", o.c.encoder ? o.c.encoder : side);
    lt_fileset_add(&fs, false, "--original-encoder", o.c.original_encoder);
    lt_fileset_add(&fs, false, "--detector", o.c.detector);
    lt_fileset_add(&fs, false, "--judge", o.c.judge);
    lt_fileset_add(&fs, true, "--out-prompts", o.c.prompts_json);
    cli_dm_eval_outputs(&fs, o.json, o.markdown, o.c.grid);
    if ((rc = cli_files_check("dm attack", &fs)))
        return rc;
    char cmd[2048];
    cli_join_args(argc, argv, cmd, sizeof cmd); /* "lethe dm attack" */
    o.c.command = cmd;
    o.c.progress = cli_bench_progress;
    fprintf(stderr, "lethe dm attack: %s on %s (%s), %d prompts, %d "
            "timesteps x %d steps, %d threads\n",
            lt_atk_method_name(o.c.atk.method), o.c.unlearned, o.c.concept,
            o.c.n_prompts, o.c.atk.n_t, o.c.atk.iters, lt_num_threads());
    lt_report r = {0};
    if ((rc = cli_outputs_begin("dm attack"))) /* reports and prompts */
        return rc;
    lt_status st = lt_bench_dm_attack(&o.c, &r);
    return cli_outputs_end("dm attack", report_out(st, &r, o.json,
                                                   o.markdown));
}
