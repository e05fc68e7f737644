/*
 * lm_unlearn.c - `lethe lm unlearn`: unlearn a TOFU forget split from a
 * trained language model (GA, GradDiff, NPO, NPO+GD, SimNPO, refusal,
 * RMU; optional WAGLE / baseline weight masks; AdamW, Sophia or SOUL's
 * Sophia) and save the result with its tokenizer beside it. On divergence
 * no model is written (only the --json report, marked "diverged": true)
 * and the exit status is 2. Under mpirun the steps are data parallel
 * (--dp, --shards; docs/mpi.md) and rank 0 alone reports and saves.
 */
#include "cli/args.h"
#include "cli/common.h"
#include "lethe/llm_unlearn.h"

#include <stdio.h>
#include <string.h>

/* `lethe lm unlearn ...` (argv[0] is "unlearn"); declared in cli.h. */
int cli_lm_unlearn(int argc, char **argv);

typedef struct {
    lt_llm_unlearn_cfg c; /* beta 0, forget_weight -1, lr 0: the method's */
    const char *model, *tok, *forget, *retain, *method, *mask, *optim, *json;
    const char *loss_plot;
    const char *out, *npo_nll, *dp;
    float mu, max_loss, wd;
    int warmup, mask_samples;
} cli_lmu_opts;

static int cli_lmu_parse(int argc, char **argv, cli_lmu_opts *o)
{
    *o = (cli_lmu_opts){.c = lt_llm_unlearn_defaults(LT_LLM_GA),
                       .mask = "none", .optim = "adamw", .npo_nll = "sum",
                       .wd = -1};
    lt_llm_unlearn_cfg *c = &o->c;
    c->loss.beta = c->optim.lr = 0;
    c->loss.forget_weight = -1;
    c->optim.hessian_interval = 10;
    o->mu = (float)c->mu;
    o->max_loss = (float)c->max_loss;
    o->warmup = (int)c->warmup;
    cli_opt opts[] = {
        {"--model", CLI_OPT_STR, &o->model, "trained checkpoint (.safetensors or folder)", 0, 0},
        {"--tokenizer", CLI_OPT_STR, &o->tok, "tokenizer.json (default: beside the model)", 0, 0},
        {"--forget", CLI_OPT_STR, &o->forget, "TOFU forget split (forget10.json)", 0, 0},
        {"--retain", CLI_OPT_STR, &o->retain, "TOFU retain split (retain90.json)", 0, 0},
        {"--method", CLI_OPT_STR, &o->method, "ga|graddiff|npo|npo-gd|simnpo|refusal|rmu|idk|idkpo", 0, 0},
        {"--out", CLI_OPT_STR, &o->out, "unlearned checkpoint (.safetensors or folder)", 0, 0},
        {"--beta", CLI_OPT_FLOAT, &c->loss.beta, "npo/simnpo beta (0: the method's, npo 0.1, simnpo 2.5)", 1e-6, 1e6},
        {"--gamma", CLI_OPT_FLOAT, &c->loss.gamma, "simnpo margin", -1e6, 1e6},
        {"--lambda", CLI_OPT_FLOAT, &c->loss.lambda, "retain loss weight, 0: none", 0, 1e6},
        {"--forget-weight", CLI_OPT_FLOAT, &c->loss.forget_weight, "simnpo forget weight (-1: the method's, simnpo 0.1375)", 0, 1e6},
        {"--epochs", CLI_OPT_INT, &c->epochs, "passes over the forget set", 1, 1e6},
        {"--lr", CLI_OPT_FLOAT, &c->optim.lr, "learning rate (0: the method's default)", 0, 10},
        {"--batch", CLI_OPT_INT, &c->batch, "forget (and retain) examples per step", 1, 65536},
        {"--warmup", CLI_OPT_INT, &o->warmup, "linear warm-up steps, -1: one epoch", -1, 1e9},
        {"--clip", CLI_OPT_FLOAT, &c->clip, "max gradient norm, 0: off", 0, 1e9},
        {"--wd", CLI_OPT_FLOAT, &o->wd, "decoupled weight decay (-1: 0.01; sophia-soul 0.1, SOUL's)", -1, 10},
        {"--npo-nll", CLI_OPT_STR, &o->npo_nll, "npo(-gd) log ratio of: sum (per-sequence summed NLL, NPO's repo) or mean (the batch's mean-token NLL, WAGLE's and SOUL's)", 0, 0},
        {"--mask", CLI_OPT_STR, &o->mask, "none|wagle[:R]|gradient[:R]|magnitude[:R]|snip[:R]|random[:R] (no R: WAGLE's 0.95, 0.8 for refusal)", 0, 0},
        {"--mu", CLI_OPT_FLOAT, &o->mu, "wagle Hessian constant", 1e-30, 1e30},
        {"--mask-samples", CLI_OPT_INT, &o->mask_samples, "retain examples for the wagle g_r (0: as many as forget examples, WAGLE's; -1: all)", -1, 1e9},
        {"--mask-freeze", CLI_OPT_FLAG, &c->mask_freeze, "mask before clipping and freeze masked weights exactly (default: WAGLE's clip-then-mask, masked weights still decay)", 0, 0},
        {"--optim", CLI_OPT_STR, &o->optim, "adamw|sophia|sophia-soul", 0, 0},
        {"--hessian-interval", CLI_OPT_INT, &c->optim.hessian_interval, "sophia: steps between Hessian refreshes", 1, 1e6},
        {"--rmu-layer", CLI_OPT_INT, &c->loss.rmu_layer, "rmu layer, 1-based, 0: n_layers/2", 0, 4096},
        {"--rmu-coeff", CLI_OPT_FLOAT, &c->loss.rmu_coeff, "rmu steering coefficient c, 0: 2 x the mean hidden norm", 0, 1e6},
        {"--rmu-alpha", CLI_OPT_FLOAT, &c->loss.rmu_alpha, "rmu retain weight", 0, 1e9},
        {"--max-loss", CLI_OPT_FLOAT, &o->max_loss, "|loss| above it is divergence", 1e-9, 1e30},
        {"--seed", CLI_OPT_U64, &c->seed, "batch order, refusal picks, masks", 0, 0},
        {"--json", CLI_OPT_STR, &o->json, "write a run summary here", 0, 0},
        {"--loss-plot", CLI_OPT_STR, &o->loss_plot, "draw the loss and the forget / retain NLL of every step (PNG)", 0, 0},
        {"--dp", CLI_OPT_STR, &o->dp, "data-parallel reduction off|sum|ordered (sum under mpirun; docs/mpi.md)", 0, 0},
        {"--shards", CLI_OPT_INT, &c->shards, "parts of every step's batches (a multiple of the ranks; default one per rank)", 0, 65536},
    };
    int rc = cli_args_parse("lm unlearn", "usage: lethe lm unlearn --model M "
                           "--forget forget10.json --retain retain90.json "
                           "--method ga|graddiff|npo|npo-gd|simnpo|refusal|rmu|idk|idkpo "
                           "--out unlearned.safetensors [options]\nUnlearn a "
                           "forget split from a language model.", opts,
                           CLI_NOPTS(opts), argc, argv);
    if (rc == 0 && (!o->model || !o->forget || !o->out || !o->method)) {
        fprintf(stderr, "lethe lm unlearn: --model, --forget, --method and "
                "--out are required\n");
        rc = 2;
    }
    return rc ? rc : cli_dp_mode("lm unlearn", o->dp, c->shards, &c->dist);
}

/* The config of the run: the method's defaults where the options leave
 * them, the mask and the optimizer. 0, or 2 with the message printed. */
static int cli_lmu_config(cli_lmu_opts *o)
{
    lt_llm_method m;
    lt_optim_config opt;
    lt_llm_unlearn_cfg *c = &o->c;
    if (strcmp(o->npo_nll, "sum") && strcmp(o->npo_nll, "mean")) {
        fprintf(stderr, "lethe lm unlearn: --npo-nll %s: use sum or mean\n",
                o->npo_nll);
        return 2;
    }
    c->loss.npo_mean = !strcmp(o->npo_nll, "mean");
    if (lt_llm_method_parse(o->method, &m) != LT_OK ||
        lt_llm_mask_parse(o->mask, &c->mask) != LT_OK ||
        lt_optim_parse(o->optim, &opt) != LT_OK ||
        (opt.kind != LT_OPT_ADAMW && opt.kind != LT_OPT_SOPHIA &&
         lt_set_error(LT_ERR_ARG, "--optim %s: use adamw, sophia or "
                      "sophia-soul", o->optim)))
        return cli_fail("lm unlearn", NULL) + 1;
    lt_llm_unlearn_cfg d = lt_llm_unlearn_defaults(m);
    c->loss.method = m;
    if (c->loss.beta <= 0)
        c->loss.beta = d.loss.beta;
    if (c->loss.forget_weight < 0)
        c->loss.forget_weight = d.loss.forget_weight;
    c->loss.rmu_seed = c->seed;
    opt.lr = c->optim.lr > 0 ? c->optim.lr : d.optim.lr;
    opt.weight_decay = o->wd >= 0 ? o->wd
        : opt.kind == LT_OPT_SOPHIA && opt.hessian_mode == LT_SOPHIA_SOUL
        ? opt.weight_decay : c->optim.weight_decay;
    opt.hessian_interval = c->optim.hessian_interval;
    c->optim = opt;
    c->warmup = o->warmup;
    c->max_loss = o->max_loss;
    c->mu = o->mu;
    c->mask_samples = o->mask_samples;
    return 0;
}

/* The forget (and retain) data, with a check that the method has the
 * retain set it needs. */
static int cli_lmu_load(const cli_lmu_opts *o, const lt_llama *m,
                       const lt_tokenizer *t, const lt_llm_unlearn_cfg *c,
                       lt_llm_unlearn_data *d)
{
    if (lt_llm_unlearn_data_load(t, o->forget, o->retain,
                                 m->cfg.max_position_embeddings, c,
                                 d) != LT_OK)
        return cli_fail("lm unlearn", NULL);
    if (!o->retain && (lt_llm_uses_retain(&c->loss) ||
                       c->mask.kind == LT_LLM_MASK_WAGLE)) {
        fprintf(stderr, "lethe lm unlearn: --method %s%s needs --retain\n",
                o->method, c->mask.kind == LT_LLM_MASK_WAGLE ?
                " with a wagle mask" : "");
        return 2;
    }
    return 0;
}

static void cli_lmu_progress(void *ud, const lt_llm_event *ev)
{
    cli_curve *curve = ud;
    cli_curve_add(curve, "loss", (double)ev->step, ev->loss);
    cli_curve_add(curve, "forget NLL", (double)ev->step, ev->forget_nll);
    cli_curve_add(curve, "retain NLL", (double)ev->step, ev->retain_nll);
    char extra[128];
    snprintf(extra, sizeof extra, "epoch %d/%d loss %.4f forget NLL %.3f "
             "retain NLL %.3f lr %.2e", ev->epoch, ev->epochs, ev->loss,
             ev->forget_nll, ev->retain_nll, ev->lr);
    cli_bar("unlearn", ev->step, ev->steps, extra);
}

static int cli_lmu_run(const cli_lmu_opts *o, lt_llm_unlearn_cfg *c,
                      lt_llama *m, const lt_tokenizer *t,
                      const lt_llm_unlearn_data *d, const char *cmdline)
{
    cli_curve curve = {0};
    bool lead = lt_dist_rank() == 0; /* under mpirun: reports and saves */
    c->progress = lead ? cli_lmu_progress : NULL;
    c->ud = &curve;
    c->pad_id = lt_lm_pad_id(t);
    if (lead)
        fprintf(stderr, "lethe lm unlearn: %s on %lld forget / %lld retain "
                "examples, %d epochs, lr %.2e, %s, %d threads, %d rank%s\n",
                o->method, (long long)d->forget.n, (long long)d->retain.n,
                c->epochs, c->optim.lr, o->optim, lt_num_threads(),
                lt_dist_size(), lt_dist_size() > 1 ? "s" : "");
    lt_llm_report rep;
    lt_status s = lt_llm_unlearn_run(m, d, c, &rep);
    cli_bar_end();
    if (s != LT_OK && !rep.diverged) {
        cli_curve_free(&curve);
        return cli_fail("lm unlearn", NULL);
    }
    if (!lead) { /* every rank holds the same weights (and divergence) */
        cli_curve_free(&curve);
        return 0; /* rank 0 exits 2 on divergence, after its report */
    }
    char tok_path[4200];
    lt_llm_run_info info = {cmdline, o->model, o->forget, o->retain, o->out,
                            o->optim};
    /* A diverged run writes no model (issue #20: an --out must never look
     * like a success); its --json report, marked "diverged": true with the
     * reason, is the one output it leaves. Model, tokenizer and report are
     * renamed together, or none of them. */
    if (cli_outputs_begin("lm unlearn")) {
        cli_curve_free(&curve);
        return 1;
    }
    int rc = 0;
    if (o->loss_plot && curve.n)
        rc = cli_curve_write("lm unlearn", &curve, o->loss_plot, o->method,
                             "step", "loss, token NLL");
    cli_curve_free(&curve);
    if (!rep.diverged &&
        lt_lm_save(m, t, o->out, tok_path, sizeof tok_path) != LT_OK)
        rc = cli_fail("lm unlearn", NULL);
    if (!rc && o->json && lt_llm_unlearn_write_json(c, &rep, &info, o->json))
        rc = cli_fail("lm unlearn", NULL);
    if ((rc = cli_outputs_end("lm unlearn", rc)))
        return rc;
    if (rep.diverged) {
        fprintf(stderr, "lethe lm unlearn: diverged: %s; no model written%s%s"
                "\n", rep.message, o->json ? ", report in " : "",
                o->json ? o->json : "");
        return 2;
    }
    printf("saved %s (tokenizer %s): %s, loss %.4f -> %.4f, %lld steps in "
           "%.1f s, %.1f%% of weights trained\n", o->out, tok_path,
           o->method, rep.first_loss, rep.last_loss, (long long)rep.steps,
           rep.seconds, 100.0 * rep.mask_kept);
    return 0;
}

int cli_lm_unlearn(int argc, char **argv)
{
    cli_lmu_opts o;
    int rc = cli_lmu_parse(argc, argv, &o);
    if (rc)
        return rc == 1 ? 0 : rc;
    if ((rc = cli_lmu_config(&o)))
        return rc;
    lt_fileset p = {0};
    lt_lm_fileset_add(&p, false, "--model", o.model, "--tokenizer", o.tok);
    lt_fileset_add(&p, false, "--forget", o.forget);
    lt_fileset_add(&p, false, "--retain", o.retain);
    lt_lm_fileset_add(&p, true, "--out", o.out, NULL, NULL);
    lt_fileset_add(&p, true, "--json", o.json);
    lt_fileset_add(&p, true, "--loss-plot", o.loss_plot);
    if ((rc = cli_files_check("lm unlearn", &p)))
        return rc;
    lt_llama *m;
    lt_tokenizer *t;
    if (cli_lm_open("lm unlearn", o.model, o.tok, &m, &t))
        return 1;
    lt_llm_unlearn_data d;
    rc = cli_lmu_load(&o, m, t, &o.c, &d);
    char cmd[4096]; /* argv[-1] is "lm" (the cli_lm dispatcher's argv) */
    cli_join_args(argc, argv, cmd, sizeof cmd);
    if (!rc)
        rc = cli_lmu_run(&o, &o.c, m, t, &d, cmd);
    lt_llm_unlearn_data_free(&d);
    lt_llama_free(m);
    lt_tokenizer_free(t);
    return rc;
}
