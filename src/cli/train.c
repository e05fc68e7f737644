/*
 * train.c - `lethe train`: train an image classifier on a dataset and save
 * it as a self-describing safetensors checkpoint (architecture, input
 * shape, data, seed, command line, commit and test accuracy in the
 * metadata; nothing that changes from run to run, so the same command
 * gives the same bytes). Timings go to --json, the loss curve to
 * --loss-plot. Under mpirun the training is data-parallel (--dp,
 * docs/mpi.md) and rank 0 alone reports and saves.
 */
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *model, *data, *out, *optim, *sched, *augment, *json, *dp;
    const char *loss_plot;
    int epochs, batch, warmup, shards;
    float lr, wd, momentum, clip;
    uint64_t seed;
    bool dp_overlap;
} cli_train_opts;

static const char *cli_train_usage =
    "usage: lethe train --model ARCH --data SET --out FILE [options]\n"
    "Train an image classifier; ARCH is mlp:784-512-512-10, cnn, cnn:C1-C2-F,\n"
    "resnet8 or resnet18; SET is fashion-mnist (default), mnist, cifar10 or\n"
    "cifar100 (NAME:DIR reads another folder), or canvas-style:DIR / canvas-object:DIR\n"
    "/ canvas-mark:DIR (a FashionCanvas folder labelled by style, by object or\n"
    "by the hidden mark), or canvas-object-fm (every Fashion-MNIST image in\n"
    "one FashionCanvas style drawn per image, made in memory).";

/* What the progress callback keeps: the start time, the loss curve. */
typedef struct {
    double t0;
    cli_curve curve;
} cli_train_news;

/* A progress bar per epoch on stderr, one summary line per epoch on stdout. */
static void cli_train_progress(void *ud, const lt_train_event *ev)
{
    cli_train_news *n = ud;
    char label[32], extra[64];
    if (ev->epoch_end) {
        cli_bar_end();
        printf("epoch %d/%d  train loss %.4f  test accuracy %.2f%%  (%.1f s)\n",
               ev->epoch, ev->epochs, ev->loss, ev->test_acc,
               lt_clock_seconds() - n->t0);
        return;
    }
    cli_curve_add(&n->curve, "train", (double)(ev->epoch - 1) +
                  (double)ev->step / (double)ev->steps, ev->loss);
    snprintf(label, sizeof label, "epoch %d/%d", ev->epoch, ev->epochs);
    snprintf(extra, sizeof extra, "loss %.4f", ev->loss);
    cli_bar(label, ev->step, ev->steps, extra);
}

static int cli_train_parse(int argc, char **argv, cli_train_opts *o)
{
    *o = (cli_train_opts){.model = "resnet8", .data = "fashion-mnist",
                         .optim = "sgd", .sched = "cosine", .augment = "auto",
                         .epochs = 10, .batch = 128, .lr = 0.1f, .wd = 5e-4f,
                         .momentum = 0.9f, .seed = 1};
    cli_opt opts[] = {
        {"--model", CLI_OPT_STR, &o->model, "architecture", 0, 0},
        {"--data", CLI_OPT_STR, &o->data, "dataset", 0, 0},
        {"--out", CLI_OPT_STR, &o->out, "checkpoint to write (.safetensors)", 0, 0},
        {"--json", CLI_OPT_STR, &o->json, "also write the run's record (timings included) as JSON", 0, 0},
        {"--loss-plot", CLI_OPT_STR, &o->loss_plot, "also draw the training loss curve (PNG)", 0, 0},
        {"--epochs", CLI_OPT_INT, &o->epochs, "passes over the data", 1, 10000},
        {"--batch", CLI_OPT_INT, &o->batch, "minibatch size", 1, 65536},
        {"--lr", CLI_OPT_FLOAT, &o->lr, "base learning rate", 1e-9, 100},
        {"--optim", CLI_OPT_STR, &o->optim, "sgd|adam|adamw|sophia|sophia-soul", 0, 0},
        {"--momentum", CLI_OPT_FLOAT, &o->momentum, "SGD momentum", 0, 0.9999},
        {"--wd", CLI_OPT_FLOAT, &o->wd, "weight decay", 0, 1},
        {"--schedule", CLI_OPT_STR, &o->sched, "constant|cosine|multistep", 0, 0},
        {"--warmup", CLI_OPT_INT, &o->warmup, "linear warm-up steps", 0, 1e9},
        {"--clip", CLI_OPT_FLOAT, &o->clip, "clip the gradient norm (0: off)", 0, 1e9},
        {"--augment", CLI_OPT_STR, &o->augment, "auto|none|crop|crop+flip", 0, 0},
        {"--seed", CLI_OPT_U64, &o->seed, "seed of init, order, augmentation", 0, 0},
        {"--dp", CLI_OPT_STR, &o->dp, "data-parallel reduction off|sum|ordered (sum under mpirun)", 0, 0},
        {"--shards", CLI_OPT_INT, &o->shards, "parts of every batch (a multiple of the ranks; default one per rank)", 0, 65536},
        {"--dp-overlap", CLI_OPT_FLAG, &o->dp_overlap, "sum the gradient in buckets while backward runs (--dp sum, one shard per rank)", 0, 0},
    };
    int rc = cli_args_parse("train", cli_train_usage, opts,
                           CLI_NOPTS(opts), argc, argv);
    if (rc == 0 && !o->out)
        rc = cli_usage("train", "--out FILE is required");
    return rc;
}

static int cli_train_config(const cli_train_opts *o, const lt_dataset *tr,
                           lt_train_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    if (lt_optim_parse(o->optim, &cfg->optim) != LT_OK)
        return cli_bad("train", "--optim");
    cfg->optim.lr = o->lr;
    cfg->optim.weight_decay = o->wd;
    if (cfg->optim.kind == LT_OPT_SGD)
        cfg->optim.momentum = o->momentum;
    cfg->epochs = o->epochs;
    cfg->batch = o->batch;
    cfg->clip = o->clip;
    cfg->seed = o->seed;
    cfg->shards = o->shards;
    int rc = cli_dp_mode("train", o->dp, o->shards, &cfg->dist);
    if (rc)
        return rc;
    cfg->dp_overlap = o->dp_overlap;
    if (o->dp_overlap && cfg->dist == LT_DIST_OFF)
        return cli_usage("train", "--dp-overlap needs data parallelism "
                         "(mpirun, or --shards)");
    if (lt_schedule_parse(o->sched, o->lr, o->warmup, &cfg->sched) != LT_OK)
        return cli_bad("train", "--schedule");
    if (lt_augment_parse(o->augment, tr, &cfg->aug) != LT_OK)
        return cli_bad("train", "--augment");
    return 0;
}

int cli_train(int argc, char **argv)
{
    cli_train_opts o;
    int rc = cli_train_parse(argc, argv, &o);
    if (rc)
        return rc == 1 ? 0 : rc;
    lt_fileset p = {0};
    lt_dataset_fileset_add(&p, "--data", o.data);
    lt_fileset_add(&p, true, "--out", o.out);
    lt_fileset_add(&p, true, "--json", o.json);
    lt_fileset_add(&p, true, "--loss-plot", o.loss_plot);
    if ((rc = cli_files_check("train", &p)))
        return rc;
    lt_dataset tr, te;
    if (lt_dataset_load(o.data, "train", &tr) != LT_OK ||
        lt_dataset_load(o.data, "test", &te) != LT_OK) {
        fprintf(stderr, "lethe train: %s\n", lt_last_error());
        return 1;
    }
    lt_train_cfg cfg;
    lt_model *m = NULL;
    rc = cli_train_config(&o, &tr, &cfg);
    if (!rc && lt_model_create(o.model, (lt_input_spec){tr.c, tr.h, tr.w,
                                                        tr.classes}, &m)) {
        fprintf(stderr, "lethe train: --model: %s\n", lt_last_error());
        rc = 2;
    }
    lt_train_report rep = {0};
    bool lead = lt_dist_rank() == 0; /* reports and saves */
    cli_train_news news = {0};
    if (!rc) {
        lt_model_init(m, o.seed);
        if (lead)
            fprintf(stderr, "lethe train: %s on %s (%lld train, %lld test), "
                    "%d epochs, %s, %d threads, %d rank%s\n", o.model,
                    tr.name, (long long)tr.n, (long long)te.n, o.epochs,
                    o.optim, lt_num_threads(), lt_dist_size(),
                    lt_dist_size() > 1 ? "s" : "");
        news.t0 = lt_clock_seconds();
        cfg.progress = lead ? cli_train_progress : NULL;
        cfg.ud = &news;
        rc = lt_train_classifier(m, &tr, &te, &cfg, &rep);
        cli_bar_end();
        if (rc)
            rc = cli_fail("train", NULL);
    }
    if (!rc && lead && !(rc = cli_outputs_begin("train"))) { /* both, or none */
        char cmd[2048], acc[32], seed[32];
        cli_join_args(argc, argv, cmd, sizeof cmd);
        snprintf(acc, sizeof acc, "%.4f", rep.test_acc);
        snprintf(seed, sizeof seed, "%llu", (unsigned long long)o.seed);
        const char *meta[] = {"lethe.command", cmd, "lethe.data", tr.name,
                              "lethe.seed", seed, "lethe.test_accuracy", acc,
                              "lethe.commit", lt_bench_commit(),
                              "lethe.version", LETHE_VERSION};
        lt_train_record r = {cmd, o.model, tr.name, o.out, lt_bench_commit(),
                             LETHE_VERSION, o.seed, o.epochs,
                             lt_num_threads(), lt_default_precision(), &rep};
        if (lt_model_save(m, o.out, meta, 6) != LT_OK ||
            (o.json && lt_train_save_json(o.json, &r) != LT_OK))
            rc = cli_fail("train", NULL);
        if (!rc && o.loss_plot)
            rc = cli_curve_write("train", &news.curve, o.loss_plot, o.model,
                                 "epoch", "training loss (running mean of "
                                 "the epoch)");
        if (!(rc = cli_outputs_end("train", rc)))
            printf("saved %s: test accuracy %.2f%% after %d epochs in %.1f s\n",
                   o.out, rep.test_acc, o.epochs, rep.seconds);
    }
    cli_curve_free(&news.curve);
    lt_model_free(m);
    lt_dataset_free(&tr);
    lt_dataset_free(&te);
    return rc;
}
