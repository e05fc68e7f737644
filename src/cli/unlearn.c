/*
 * unlearn.c - `lethe unlearn`: load a trained checkpoint, select a forget
 * set, run an unlearning method (any of lt_method_names(); any mask, any
 * optimizer), time it (RTE), save the result with its settings in the
 * metadata and the forget indices beside it, and print UA, RA, TA and MIA
 * (also as JSON with --json; the loss curve as PNG with --loss-plot).
 * Under mpirun the method's passes (and Retrain) are data-parallel (--dp,
 * docs/mpi.md); rank 0 alone reports and saves.
 */
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "lethe/methods.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    lt_unlearn_cfg cfg;
    const char *model, *data, *forget, *method, *out, *mask, *optim, *augment;
    const char *json, *dp, *loss_plot;
    char mask_buf[64];
    float prox_ratio;
} cli_unlearn_opts;

static const char *cli_unlearn_usage =
    "usage: lethe unlearn --model FILE --forget SPEC --method M --out FILE "
    "[options]\nRemove a forget set (random:10%|class:K|indices:FILE) from a "
    "trained classifier.\nMethods: ft, ga, rl, l1-sparse, iu, bs, be, salun "
    "(RL under saliency:0.5),\nsalun-soft (SalUn's soft thresholding: the "
    "official RL_proximal), ugradsl,\nugradsl+, retrain. (Lethe's gradient-"
    "scaling variant is --method rl --mask soft:R.)\nEpochs and lr default"
    "\nto the method's "
    "(docs/hyperparameters.md); batch 256, SGD momentum 0.9,\nweight decay "
    "5e-4. For iu, --lr is the step alpha of theta += alpha F^-1 v.";

/* The value of the last NAME VALUE in argv, else dflt. */
static const char *cli_unlearn_peek(int argc, char **argv, const char *name,
                                    const char *dflt)
{
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], name))
            dflt = argv[i + 1];
    return dflt;
}

/* The options start from the defaults of the method and optimizer given
 * (read first), so --help shows them; a bad name is reported after the
 * other checks. */
static int cli_unlearn_parse(int argc, char **argv, cli_unlearn_opts *o)
{
    *o = (cli_unlearn_opts){.data = "fashion-mnist", .augment = "auto"};
    o->method = cli_unlearn_peek(argc, argv, "--method", "salun");
    o->optim = cli_unlearn_peek(argc, argv, "--optim", "sgd");
    lt_method_kind k;
    bool bad_method = lt_method_parse(o->method, &k) != LT_OK;
    o->cfg = lt_unlearn_defaults(bad_method ? LT_METHOD_SALUN : k);
    bool bad_optim = lt_unlearn_set_optim(&o->cfg, o->optim) != LT_OK;
    lt_unlearn_cfg *c = &o->cfg;
    lt_mask_format(&c->mask, o->mask_buf, sizeof o->mask_buf);
    o->mask = o->mask_buf;
    o->prox_ratio = (float)c->prox_ratio;
    cli_opt opts[] = {
        {"--model", CLI_OPT_STR, &o->model, "checkpoint to unlearn from", 0, 0},
        {"--data", CLI_OPT_STR, &o->data, "dataset it was trained on", 0, 0},
        {"--forget", CLI_OPT_STR, &o->forget, "random:10%|random:N|class:K|indices:FILE", 0, 0},
        {"--method", CLI_OPT_STR, &o->method, "a method named above", 0, 0},
        {"--out", CLI_OPT_STR, &o->out, "checkpoint to write (.safetensors)", 0, 0},
        {"--epochs", CLI_OPT_INT, &c->epochs, "passes", 1, 10000},
        {"--lr", CLI_OPT_FLOAT, &c->optim.lr, "constant learning rate", 1e-12, 1e6},
        {"--batch", CLI_OPT_INT, &c->batch, "minibatch size", 1, 65536},
        {"--mask", CLI_OPT_STR, &o->mask, "none|saliency:R|random:R|soft:R", 0, 0},
        {"--optim", CLI_OPT_STR, &o->optim, "sgd|adam|adamw|sophia|sophia-soul", 0, 0},
        {"--wd", CLI_OPT_FLOAT, &c->optim.weight_decay, "weight decay", 0, 1},
        {"--alpha", CLI_OPT_FLOAT, &c->alpha, "l1-sparse: l1 weight at epoch 1", 0, 1e3},
        {"--smooth", CLI_OPT_FLOAT, &c->smooth, "ugradsl(+): label smoothing rate", -100, 1},
        {"--retain-weight", CLI_OPT_FLOAT, &c->retain_weight, "ugradsl+: p in p*CE_r - (1-p)*CE_f", 0, 1},
        {"--fgsm-eps", CLI_OPT_FLOAT, &c->fgsm_eps, "bs: FGSM step in pixels", 0, 1},
        {"--be-drop-shadow", CLI_OPT_FLAG, &c->be_drop_shadow, "be: report the K-way weights' metrics (shadow class dropped), not the K+1-way model's (OPTML)", 0, 0},
        {"--prox-ratio", CLI_OPT_FLOAT, &o->prox_ratio, "salun-soft: RL_proximal's mask_ratio (k = ratio x remaining share x weights)", 0, 1},
        {"--iu-samples", CLI_OPT_INT, &c->iu_samples, "iu: retain gradients for F^-1", 1, 10000000},
        {"--json", CLI_OPT_STR, &o->json, "also write the settings and metrics here", 0, 0},
        {"--loss-plot", CLI_OPT_STR, &o->loss_plot, "also draw the loss of every minibatch (PNG)", 0, 0},
        {"--augment", CLI_OPT_STR, &o->augment, "retrain only: auto|none|crop|crop+flip, as lethe train", 0, 0},
        {"--seed", CLI_OPT_U64, &c->seed, "forget set, shuffles, labels, random mask", 0, 0},
        {"--dp", CLI_OPT_STR, &o->dp, "data-parallel reduction off|sum|ordered (sum under mpirun)", 0, 0},
        {"--shards", CLI_OPT_INT, &c->shards, "parts of every batch (a multiple of the ranks; default one per rank)", 0, 65536},
    };
    int rc = cli_args_parse("unlearn", cli_unlearn_usage, opts,
                           CLI_NOPTS(opts), argc, argv);
    c->prox_ratio = o->prox_ratio;
    const char *need = !o->model ? "--model FILE" : !o->forget ?
                       "--forget SPEC" : !o->out ? "--out FILE" : NULL;
    if (rc == 0 && need) {
        fprintf(stderr, "lethe unlearn: %s is required\n", need);
        rc = 2;
    }
    if (rc == 0 && ((bad_method && lt_method_parse(o->method, &k) != LT_OK) ||
                    (bad_optim && lt_unlearn_set_optim(c, o->optim) !=
                     LT_OK) || lt_mask_parse(o->mask, &c->mask) != LT_OK))
        rc = cli_bad("unlearn", bad_method ? "--method" : bad_optim ?
                     "--optim" : "--mask");
    return rc ? rc : cli_dp_mode("unlearn", o->dp, c->shards, &c->dist);
}

/* What the progress callback keeps: the start time, the loss curve. */
typedef struct {
    double t0;
    int64_t steps;       /* minibatches so far, all passes */
    cli_curve curve;
} cli_unlearn_news;

/* A bar per pass on stderr, a line per pass on stdout. */
static void cli_unlearn_progress(void *ud, const lt_unlearn_event *ev)
{
    cli_unlearn_news *n = ud;
    if (ev->pass_end) {
        cli_bar_end();
        printf("epoch %d/%d  %s loss %.4f  (%.1f s)\n", ev->epoch,
               ev->epochs, ev->phase, ev->loss, lt_clock_seconds() - n->t0);
        return;
    }
    cli_curve_add(&n->curve, ev->phase, (double)++n->steps, ev->loss);
    char label[64], extra[48];
    snprintf(label, sizeof label, "epoch %d/%d %s", ev->epoch, ev->epochs,
             ev->phase);
    snprintf(extra, sizeof extra, "loss %.4f", ev->loss);
    cli_bar(label, ev->step, ev->steps, extra);
}

/* OUT.forget.txt, the forget indices saved beside checkpoint out. */
static void cli_unlearn_forget_path(const char *out, char *buf, size_t n)
{
    snprintf(buf, n, "%s.forget.txt", out);
}

/* Save the checkpoint (settings in its metadata) and OUT.forget.txt. */
static int cli_unlearn_save(const cli_unlearn_opts *o, int argc, char **argv,
                           const lt_model *m, const lt_dataset *tr,
                           const lt_forget_set *f,
                           const lt_unlearn_report *rep)
{
    (void)rep; /* its run time goes to --json: the checkpoint holds only
                  what the same command reproduces */
    char cmd[2048], seed[32], mask[64], path[4200];
    cli_join_args(argc, argv, cmd, sizeof cmd);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)o->cfg.seed);
    lt_mask_format(&o->cfg.mask, mask, sizeof mask);
    const char *meta[] = {"lethe.command", cmd, "lethe.data", tr->name,
                          "lethe.method", lt_method_name(o->cfg.method),
                          "lethe.forget", f->spec, "lethe.seed", seed,
                          "lethe.mask", mask, "lethe.optim", o->optim,
                          "lethe.source", o->model,
                          "lethe.commit", lt_bench_commit(),
                          "lethe.version", LETHE_VERSION};
    cli_unlearn_forget_path(o->out, path, sizeof path);
    if (lt_model_save(m, o->out, meta, 10) != LT_OK ||
        lt_forget_save(f, path) != LT_OK)
        return cli_fail("unlearn", NULL);
    printf("saved %s and %s (%lld forget indices)\n", o->out, path,
           (long long)f->n_forget);
    return 0;
}

/* Run the method on the loaded model and report it. */
static int cli_unlearn_go(cli_unlearn_opts *o, int argc, char **argv,
                         lt_model *m, const lt_dataset *tr,
                         const lt_dataset *te)
{
    lt_unlearn_cfg *cfg = &o->cfg;
    lt_forget_set f = {0};
    int rc = 0;
    if (cfg->method == LT_METHOD_RETRAIN && /* as lethe train does */
        lt_augment_parse(o->augment, tr, &cfg->retrain_aug) != LT_OK)
        rc = cli_bad("unlearn", "--augment");
    if (!rc && lt_forget_select(o->forget, tr, cfg->seed, &f) != LT_OK)
        rc = cli_bad("unlearn", "--forget");
    lt_unlearn_report rep = {0};
    bool lead = lt_dist_rank() == 0; /* reports and saves */
    if (!rc) {
        char mask[64];
        lt_mask_format(&cfg->mask, mask, sizeof mask);
        if (lead)
            fprintf(stderr, "lethe unlearn: %s on %s, forget %s (%lld of "
                    "%lld), mask %s, %s lr %g, %d epochs, batch %d, %d "
                    "threads, %d rank%s\n", lt_method_name(cfg->method),
                    o->model, f.spec, (long long)f.n_forget, (long long)f.n,
                    mask, o->optim, (double)cfg->optim.lr, cfg->epochs,
                    cfg->batch, lt_num_threads(), lt_dist_size(),
                    lt_dist_size() > 1 ? "s" : "");
        cli_unlearn_news news = {.t0 = lt_clock_seconds()};
        cfg->progress = lead ? cli_unlearn_progress : NULL;
        cfg->ud = &news;
        if (lt_unlearn_run(m, tr, &f, cfg, &rep) != LT_OK)
            rc = cli_fail("unlearn", NULL);
        cli_bar_end();
        if (!rc && o->loss_plot && news.curve.n)
            rc = cli_curve_write("unlearn", &news.curve, o->loss_plot,
                                 lt_method_name(cfg->method), "minibatch",
                                 "cross-entropy of the minibatch");
        else if (!rc && o->loss_plot)
            fprintf(stderr, "lethe unlearn: --loss-plot: %s ran no "
                    "minibatch passes; no curve written\n",
                    lt_method_name(cfg->method));
        cli_curve_free(&news.curve);
    }
    if (!rc && !lead) { /* rank 0 evaluates and writes */
        lt_model_free(rep.be_model);
        lt_forget_set_free(&f);
        return 0;
    }
    if (!rc)
        rc = cli_unlearn_save(o, argc, argv, m, tr, &f, &rep);
    lt_unlearn_record r = {.model = o->model, .out = o->out,
                           .optim = o->optim, .cfg = cfg, .forget = &f,
                           .report = &rep};
    /* BE: the metrics of the K+1-way model, as the OPTML code reports them
     * (the checkpoint holds the K-way weights: re-evaluating it gives the
     * --be-drop-shadow numbers) */
    if (!rc && rep.be_model)
        fprintf(stderr, "lethe unlearn: be: metrics of the K+1-way model "
                "(OPTML); %s holds the K-way weights (shadow class dropped)\n",
                o->out);
    if (!rc && !(rc = cli_unlearn_metrics("unlearn", rep.be_model ?
                                          rep.be_model : m, tr, te, &f,
                                          &r.metrics)))
        printf("%s: RTE %.2f s  UA %.2f  RA %.2f  TA %.2f  MIA %.2f\n",
               lt_method_name(cfg->method), rep.seconds, r.metrics.ua,
               r.metrics.ra, r.metrics.ta, r.metrics.mia);
    if (!rc && o->json && lt_unlearn_save_json(o->json, &r) != LT_OK)
        rc = cli_fail("unlearn", NULL);
    lt_model_free(rep.be_model);
    lt_forget_set_free(&f);
    return rc;
}

int cli_unlearn(int argc, char **argv)
{
    cli_unlearn_opts o;
    int rc = cli_unlearn_parse(argc, argv, &o);
    if (rc)
        return rc == 1 ? 0 : rc;
    char forget_txt[4200];
    cli_unlearn_forget_path(o.out, forget_txt, sizeof forget_txt);
    lt_fileset p = {0};
    lt_fileset_add(&p, false, "--model", o.model);
    lt_fileset_add(&p, false, "--forget", lt_forget_spec_file(o.forget));
    lt_dataset_fileset_add(&p, "--data", o.data);
    lt_fileset_add(&p, true, "--out", o.out);
    lt_fileset_add(&p, true, "--out's forget list", forget_txt);
    lt_fileset_add(&p, true, "--json", o.json);
    lt_fileset_add(&p, true, "--loss-plot", o.loss_plot);
    if ((rc = cli_files_check("unlearn", &p)))
        return rc;
    static const char *const splits[2] = {"train", "test"};
    lt_model *m = NULL;
    lt_dataset d[2];
    rc = cli_open("unlearn", o.model, o.data, splits, 2, &m, d);
    if (!rc && !(rc = cli_outputs_begin("unlearn"))) /* all outputs or none */
        rc = cli_outputs_end("unlearn",
                             cli_unlearn_go(&o, argc, argv, m, &d[0], &d[1]));
    cli_close(m, d, 2);
    return rc;
}
