/*
 * unlearn.c - `lethe unlearn`: load a trained checkpoint, select a forget
 * set, run an unlearning method (any of lt_method_names(); any mask, any
 * optimizer), time it (RTE), save the result with its settings in the
 * metadata and the forget indices beside it, and print UA, RA, TA and MIA
 * (also as JSON with --json).
 */
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "lethe/methods.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *model, *data, *forget, *method, *out, *mask, *optim, *augment;
    const char *json;
    int epochs, batch, threads, iu_samples;
    float lr, wd, alpha, smooth, retain_weight, fgsm_eps;
    uint64_t seed;
} cli_unlearn_opts;

static const char *cli_unlearn_usage =
    "usage: lethe unlearn --model FILE --forget SPEC --method M --out FILE "
    "[options]\nRemove a forget set (random:10%|class:K|indices:FILE) from a "
    "trained classifier.\nMethods: ft, ga, rl, l1-sparse, iu, bs, be, salun "
    "(RL under saliency:0.5),\nsalun-soft (RL under soft:0.5), ugradsl, "
    "ugradsl+, retrain. Epochs and lr default\nto the method's "
    "(docs/hyperparameters.md); batch 256, SGD momentum 0.9,\nweight decay "
    "5e-4. For iu, --lr is the step alpha of theta += alpha F^-1 v.";

static int cli_unlearn_parse(int argc, char **argv, cli_unlearn_opts *o)
{
    *o = (cli_unlearn_opts){.data = "fashion-mnist", .method = "salun",
                           .augment = "auto", .wd = -1, .seed = 1,
                           .alpha = NAN, .smooth = NAN,
                           .retain_weight = NAN, .fgsm_eps = NAN};
    cli_opt opts[] = {
        {"--model", CLI_OPT_STR, &o->model, "checkpoint to unlearn from", 0, 0},
        {"--data", CLI_OPT_STR, &o->data, "dataset it was trained on (fashion-mnist)", 0, 0},
        {"--forget", CLI_OPT_STR, &o->forget, "random:10%|random:N|class:K|indices:FILE", 0, 0},
        {"--method", CLI_OPT_STR, &o->method, "a method named above (salun)", 0, 0},
        {"--out", CLI_OPT_STR, &o->out, "checkpoint to write (.safetensors)", 0, 0},
        {"--epochs", CLI_OPT_INT, &o->epochs, "passes (method default)", 1, 10000},
        {"--lr", CLI_OPT_FLOAT, &o->lr, "constant learning rate (method default)", 1e-12, 1e6},
        {"--batch", CLI_OPT_INT, &o->batch, "minibatch size (256)", 1, 65536},
        {"--mask", CLI_OPT_STR, &o->mask, "none|saliency:R|random:R|soft:R (method default)", 0, 0},
        {"--optim", CLI_OPT_STR, &o->optim, "sgd|adam|adamw|sophia|sophia-soul (sgd)", 0, 0},
        {"--wd", CLI_OPT_FLOAT, &o->wd, "weight decay (SGD 5e-4, else the optimizer's)", 0, 1},
        {"--alpha", CLI_OPT_FLOAT, &o->alpha, "l1-sparse: l1 weight at epoch 1 (5e-4)", 0, 1e3},
        {"--smooth", CLI_OPT_FLOAT, &o->smooth, "ugradsl(+): label smoothing rate (-0.5)", -100, 1},
        {"--retain-weight", CLI_OPT_FLOAT, &o->retain_weight, "ugradsl+: p in p*CE_r - (1-p)*CE_f (0.5)", 0, 1},
        {"--fgsm-eps", CLI_OPT_FLOAT, &o->fgsm_eps, "bs: FGSM step in pixels (0.1)", 0, 1},
        {"--iu-samples", CLI_OPT_INT, &o->iu_samples, "iu: retain gradients for F^-1 (1000)", 1, 10000000},
        {"--json", CLI_OPT_STR, &o->json, "also write the settings and metrics here", 0, 0},
        {"--augment", CLI_OPT_STR, &o->augment, "retrain only: auto|none|crop|crop+flip, as lethe train", 0, 0},
        {"--seed", CLI_OPT_U64, &o->seed, "forget set, shuffles, labels, random mask (1)", 0, 0},
        {"--threads", CLI_OPT_INT, &o->threads, "threads (default: all cores)", 1, 1024},
    };
    int rc = cli_args_parse("unlearn", cli_unlearn_usage, opts,
                           (int)(sizeof opts / sizeof *opts), argc, argv);
    const char *need = !o->model ? "--model FILE" : !o->forget ?
                       "--forget SPEC" : !o->out ? "--out FILE" : NULL;
    if (rc == 0 && need) {
        fprintf(stderr, "lethe unlearn: %s is required\n", need);
        rc = 2;
    }
    return rc;
}

/* The method's defaults overridden by the flags that were given. */
static int cli_unlearn_config(const cli_unlearn_opts *o, lt_unlearn_cfg *cfg)
{
    lt_method_kind k;
    if (lt_method_parse(o->method, &k) != LT_OK) {
        fprintf(stderr, "lethe unlearn: --method: %s\n", lt_last_error());
        return 2;
    }
    *cfg = lt_unlearn_defaults(k);
    float lr = o->lr > 0 ? o->lr : cfg->optim.lr;
    if (o->optim && lt_optim_parse(o->optim, &cfg->optim) != LT_OK) {
        fprintf(stderr, "lethe unlearn: --optim: %s\n", lt_last_error());
        return 2;
    }
    if (cfg->optim.kind == LT_OPT_SGD) {
        cfg->optim.momentum = 0.9f;
        cfg->optim.weight_decay = 5e-4f;
    }
    cfg->optim.lr = lr;
    if (o->wd >= 0)
        cfg->optim.weight_decay = o->wd;
    if (o->mask && lt_mask_parse(o->mask, &cfg->mask) != LT_OK) {
        fprintf(stderr, "lethe unlearn: --mask: %s\n", lt_last_error());
        return 2;
    }
    if (o->epochs)
        cfg->epochs = o->epochs;
    if (o->batch)
        cfg->batch = o->batch;
    if (!isnan(o->alpha))
        cfg->alpha = o->alpha;
    if (!isnan(o->smooth))
        cfg->smooth = o->smooth;
    if (!isnan(o->retain_weight))
        cfg->retain_weight = o->retain_weight;
    if (!isnan(o->fgsm_eps))
        cfg->fgsm_eps = o->fgsm_eps;
    if (o->iu_samples)
        cfg->iu_samples = o->iu_samples;
    cfg->seed = o->seed;
    return 0;
}

static void cli_unlearn_progress(void *ud, const lt_unlearn_event *ev)
{
    printf("epoch %d/%d  %s loss %.4f  (%.1f s)\n", ev->epoch, ev->epochs,
           ev->phase, ev->loss, lt_clock_seconds() - *(double *)ud);
    fflush(stdout);
}


/* Save the checkpoint (settings in its metadata) and OUT.forget.txt. */
static int cli_unlearn_save(const cli_unlearn_opts *o, int argc, char **argv,
                           const lt_model *m, const lt_dataset *tr,
                           const lt_forget_set *f, const lt_unlearn_cfg *cfg,
                           const lt_unlearn_report *rep)
{
    char cmd[2048], seed[32], rte[32], mask[64], path[4200];
    cli_join_args(argc, argv, cmd, sizeof cmd);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)o->seed);
    snprintf(rte, sizeof rte, "%.3f", rep->seconds);
    cli_mask_text(&cfg->mask, mask, sizeof mask);
    const char *meta[] = {"lethe.command", cmd, "lethe.data", tr->name,
                          "lethe.method", lt_method_name(cfg->method),
                          "lethe.forget", f->spec, "lethe.seed", seed,
                          "lethe.mask", mask,
                          "lethe.optim", o->optim ? o->optim : "sgd",
                          "lethe.rte_s", rte, "lethe.source", o->model,
                          "lethe.commit", lt_bench_commit(),
                          "lethe.version", LETHE_VERSION};
    snprintf(path, sizeof path, "%s.forget.txt", o->out);
    if (lt_model_save(m, o->out, meta, 11) != LT_OK ||
        lt_forget_save(f, path) != LT_OK) {
        fprintf(stderr, "lethe unlearn: %s\n", lt_last_error());
        return 1;
    }
    printf("saved %s and %s (%lld forget indices)\n", o->out, path,
           (long long)f->n_forget);
    return 0;
}

/* --json: the settings, the sizes and the metrics of the run. */
static int cli_unlearn_json(const cli_unlearn_opts *o, const lt_unlearn_cfg *cfg,
                           const lt_forget_set *f,
                           const lt_unlearn_report *rep,
                           const lt_unlearn_metrics *r)
{
    char mask[64];
    cli_mask_text(&cfg->mask, mask, sizeof mask);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "method", lt_method_name(cfg->method));
    cJSON_AddStringToObject(j, "model", o->model);
    cJSON_AddStringToObject(j, "out", o->out);
    cJSON_AddStringToObject(j, "forget", f->spec);
    cJSON_AddNumberToObject(j, "n_forget", (double)f->n_forget);
    cJSON_AddNumberToObject(j, "seed", (double)o->seed);
    cJSON_AddStringToObject(j, "mask", mask);
    cJSON_AddStringToObject(j, "optim", o->optim ? o->optim : "sgd");
    cJSON_AddNumberToObject(j, "lr", cfg->optim.lr);
    cJSON_AddNumberToObject(j, "epochs", cfg->epochs);
    cJSON_AddNumberToObject(j, "steps", (double)rep->steps);
    cJSON_AddNumberToObject(j, "UA", r->ua);
    cJSON_AddNumberToObject(j, "RA", r->ra);
    cJSON_AddNumberToObject(j, "TA", r->ta);
    cJSON_AddNumberToObject(j, "MIA", r->mia);
    cJSON_AddNumberToObject(j, "rte_s", rep->seconds);
    char *text = cJSON_Print(j);
    int rc = cli_write_text(o->json, text);
    cJSON_free(text);
    cJSON_Delete(j);
    return rc ? 1 : 0;
}

/* Run the method on the loaded model and report it. */
static int cli_unlearn_go(const cli_unlearn_opts *o, int argc, char **argv,
                         lt_model *m, const lt_dataset *tr,
                         const lt_dataset *te)
{
    lt_unlearn_cfg cfg;
    lt_forget_set f = {0};
    int rc = cli_unlearn_config(o, &cfg);
    if (!rc && cfg.method == LT_METHOD_RETRAIN) /* as lethe train does */
        rc = cli_augment("unlearn", o->augment, tr, &cfg.retrain_aug);
    if (!rc && lt_forget_select(o->forget, tr, o->seed, &f) != LT_OK) {
        fprintf(stderr, "lethe unlearn: --forget: %s\n", lt_last_error());
        rc = 2;
    }
    lt_unlearn_report rep;
    if (!rc) {
        char mask[64];
        cli_mask_text(&cfg.mask, mask, sizeof mask);
        fprintf(stderr, "lethe unlearn: %s on %s, forget %s (%lld of %lld), "
                "mask %s, %s lr %g, %d epochs, batch %d, %d threads\n",
                lt_method_name(cfg.method), o->model, f.spec,
                (long long)f.n_forget, (long long)f.n, mask,
                o->optim ? o->optim : "sgd", (double)cfg.optim.lr, cfg.epochs,
                cfg.batch, lt_num_threads());
        double t0 = lt_clock_seconds();
        cfg.progress = cli_unlearn_progress;
        cfg.ud = &t0;
        if (lt_unlearn_run(m, tr, &f, &cfg, &rep) != LT_OK) {
            fprintf(stderr, "lethe unlearn: %s\n", lt_last_error());
            rc = 1;
        }
    }
    if (!rc)
        rc = cli_unlearn_save(o, argc, argv, m, tr, &f, &cfg, &rep);
    lt_unlearn_metrics r;
    if (!rc && !(rc = cli_unlearn_metrics("unlearn", m, tr, te, &f, &r)))
        printf("%s: RTE %.2f s  UA %.2f  RA %.2f  TA %.2f  MIA %.2f\n",
               lt_method_name(cfg.method), rep.seconds, r.ua, r.ra, r.ta,
               r.mia);
    if (!rc && o->json)
        rc = cli_unlearn_json(o, &cfg, &f, &rep, &r);
    lt_forget_set_free(&f);
    return rc;
}

int cli_unlearn(int argc, char **argv)
{
    cli_unlearn_opts o;
    int rc = cli_unlearn_parse(argc, argv, &o);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (o.threads)
        lt_set_num_threads(o.threads);
    static const char *const splits[2] = {"train", "test"};
    lt_model *m = NULL;
    lt_dataset d[2];
    rc = cli_open("unlearn", o.model, o.data, splits, 2, &m, d);
    if (!rc)
        rc = cli_unlearn_go(&o, argc, argv, m, &d[0], &d[1]);
    lt_model_free(m);
    lt_dataset_free(&d[0]);
    lt_dataset_free(&d[1]);
    return rc;
}
