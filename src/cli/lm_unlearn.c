/*
 * lm_unlearn.c - `lethe lm unlearn`: unlearn a TOFU forget split from a
 * trained language model (GA, GradDiff, NPO, NPO+GD, SimNPO, refusal,
 * RMU; optional WAGLE / baseline weight masks; AdamW, Sophia or SOUL's
 * Sophia) and save the result with its tokenizer beside it. On divergence
 * the last good weights (end of the last completed epoch, or the start)
 * are saved and the exit status is 2.
 */
#include "cli/args.h"
#include "cli/common.h"
#include "lethe/llm_unlearn.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* `lethe lm unlearn ...` (argv[0] is "unlearn"); declared in cli.h. */
int cli_lm_unlearn(int argc, char **argv);

typedef struct {
    const char *model, *tok, *forget, *retain, *method, *mask, *optim, *json;
    const char *out;
    float beta, gamma, lambda, fweight, lr, mu, rmu_coeff, rmu_alpha, clip;
    float wd, max_loss;
    int epochs, batch, warmup, mask_samples, rmu_layer, threads, hess;
    uint64_t seed;
} cli_lmu_opts;

static int cli_lmu_parse(int argc, char **argv, cli_lmu_opts *o)
{
    *o = (cli_lmu_opts){.mask = "none", .optim = "adamw",
                       .beta = 0.0f, .lambda = 1.0f, .fweight = -1.0f,
                       .mu = 1e-6f, .rmu_alpha = 1.0f,
                       .clip = 1.0f, .wd = 0.01f, .max_loss = 1e3f,
                       .epochs = 5, .batch = 8, .warmup = -1, .hess = 10,
                       .seed = 1};
    cli_opt opts[] = {
        {"--model", CLI_OPT_STR, &o->model, "trained checkpoint (.safetensors or folder)", 0, 0},
        {"--tokenizer", CLI_OPT_STR, &o->tok, "tokenizer.json (default: beside the model)", 0, 0},
        {"--forget", CLI_OPT_STR, &o->forget, "TOFU forget split (forget10.json)", 0, 0},
        {"--retain", CLI_OPT_STR, &o->retain, "TOFU retain split (retain90.json)", 0, 0},
        {"--method", CLI_OPT_STR, &o->method, "ga|graddiff|npo|npo-gd|simnpo|refusal|rmu", 0, 0},
        {"--out", CLI_OPT_STR, &o->out, "unlearned checkpoint (.safetensors or folder)", 0, 0},
        {"--beta", CLI_OPT_FLOAT, &o->beta, "npo/simnpo beta (npo 0.1, simnpo 2.5)", 1e-6, 1e6},
        {"--gamma", CLI_OPT_FLOAT, &o->gamma, "simnpo margin (0)", -1e6, 1e6},
        {"--lambda", CLI_OPT_FLOAT, &o->lambda, "retain loss weight, 0: none (1)", 0, 1e6},
        {"--forget-weight", CLI_OPT_FLOAT, &o->fweight, "simnpo forget weight (0.1375)", 0, 1e6},
        {"--epochs", CLI_OPT_INT, &o->epochs, "passes over the forget set (5)", 1, 1e6},
        {"--lr", CLI_OPT_FLOAT, &o->lr, "learning rate (0: the method's default)", 0, 10},
        {"--batch", CLI_OPT_INT, &o->batch, "forget (and retain) examples per step (8)", 1, 65536},
        {"--warmup", CLI_OPT_INT, &o->warmup, "linear warm-up steps, -1: one epoch (-1)", -1, 1e9},
        {"--clip", CLI_OPT_FLOAT, &o->clip, "max gradient norm, 0: off (1)", 0, 1e9},
        {"--wd", CLI_OPT_FLOAT, &o->wd, "decoupled weight decay (0.01)", 0, 10},
        {"--mask", CLI_OPT_STR, &o->mask, "none|wagle:R|gradient:R|magnitude:R|snip:R|random:R (none)", 0, 0},
        {"--mu", CLI_OPT_FLOAT, &o->mu, "wagle Hessian constant (1e-6)", 1e-30, 1e30},
        {"--mask-samples", CLI_OPT_INT, &o->mask_samples, "retain examples for the wagle g_r, 0: all (0)", 0, 1e9},
        {"--optim", CLI_OPT_STR, &o->optim, "adamw|sophia|sophia-soul (adamw)", 0, 0},
        {"--hessian-interval", CLI_OPT_INT, &o->hess, "sophia: steps between Hessian refreshes (10)", 1, 1e6},
        {"--rmu-layer", CLI_OPT_INT, &o->rmu_layer, "rmu layer, 1-based, 0: n_layers/2 (0)", 0, 4096},
        {"--rmu-coeff", CLI_OPT_FLOAT, &o->rmu_coeff, "rmu steering coefficient c, 0: 2 x the mean hidden norm (0)", 0, 1e6},
        {"--rmu-alpha", CLI_OPT_FLOAT, &o->rmu_alpha, "rmu retain weight (1)", 0, 1e9},
        {"--max-loss", CLI_OPT_FLOAT, &o->max_loss, "|loss| above it is divergence (1000)", 1e-9, 1e30},
        {"--seed", CLI_OPT_U64, &o->seed, "batch order, refusal picks, masks (1)", 0, 0},
        {"--threads", CLI_OPT_INT, &o->threads, "threads (default: all cores)", 1, 1024},
        {"--json", CLI_OPT_STR, &o->json, "write a run summary here", 0, 0},
    };
    int rc = cli_args_parse("lm unlearn", "usage: lethe lm unlearn --model M "
                           "--forget forget10.json --retain retain90.json "
                           "--method ga|graddiff|npo|npo-gd|simnpo|refusal|rmu "
                           "--out unlearned.safetensors [options]\nUnlearn a "
                           "forget split from a language model.", opts,
                           (int)(sizeof opts / sizeof *opts), argc, argv);
    if (rc == 0 && (!o->model || !o->forget || !o->out || !o->method)) {
        fprintf(stderr, "lethe lm unlearn: --model, --forget, --method and "
                "--out are required\n");
        rc = 2;
    }
    return rc;
}

/* Method, mask and optimizer from the options. 0, or 2 with the message
 * printed. */
static int cli_lmu_config(const cli_lmu_opts *o, lt_llm_unlearn_cfg *c)
{
    lt_llm_method m;
    lt_llm_mask_spec mask;
    lt_optim_config opt;
    if (lt_llm_method_parse(o->method, &m) != LT_OK ||
        lt_llm_mask_parse(o->mask, &mask) != LT_OK ||
        lt_optim_parse(o->optim, &opt) != LT_OK ||
        (opt.kind != LT_OPT_ADAMW && opt.kind != LT_OPT_SOPHIA &&
         lt_set_error(LT_ERR_ARG, "--optim %s: use adamw, sophia or "
                      "sophia-soul", o->optim))) {
        fprintf(stderr, "lethe lm unlearn: %s\n", lt_last_error());
        return 2;
    }
    *c = lt_llm_unlearn_defaults(m);
    if (o->beta > 0)
        c->loss.beta = o->beta;
    c->loss.gamma = o->gamma;
    c->loss.lambda = o->lambda;
    if (o->fweight >= 0)
        c->loss.forget_weight = o->fweight;
    c->loss.rmu_layer = o->rmu_layer;
    c->loss.rmu_coeff = o->rmu_coeff;
    c->loss.rmu_alpha = o->rmu_alpha;
    c->loss.rmu_seed = o->seed;
    c->optim = opt;
    c->optim.lr = o->lr > 0 ? o->lr : lt_llm_default_lr(m);
    c->optim.weight_decay = o->wd;
    c->optim.hessian_interval = o->hess;
    c->epochs = o->epochs;
    c->batch = o->batch;
    c->warmup = o->warmup;
    c->clip = o->clip;
    c->max_loss = o->max_loss;
    c->seed = o->seed;
    c->mask = mask;
    c->mu = o->mu;
    c->mask_samples = o->mask_samples;
    return 0;
}

typedef struct {
    lt_tofu_set fset, rset;
    lt_lm_data f, r, idk;
} cli_lmu_data;

static void cli_lmu_data_free(cli_lmu_data *d)
{
    lt_tofu_free(&d->fset);
    lt_tofu_free(&d->rset);
    lt_lm_data_free(&d->f);
    lt_lm_data_free(&d->r);
    lt_lm_data_free(&d->idk);
}

static int cli_lmu_load(const cli_lmu_opts *o, const lt_llama *m,
                       const lt_tokenizer *t, const lt_llm_unlearn_cfg *c,
                       cli_lmu_data *d)
{
    int64_t len = m->cfg.max_position_embeddings;
    lt_status s = lt_tofu_load(o->forget, &d->fset);
    if (s == LT_OK && o->retain)
        s = lt_tofu_load(o->retain, &d->rset);
    if (s == LT_OK)
        s = lt_lm_data_qa(t, &d->fset, len, &d->f);
    if (s == LT_OK && o->retain)
        s = lt_lm_data_qa(t, &d->rset, len, &d->r);
    if (s == LT_OK && c->loss.method == LT_LLM_REFUSAL)
        s = lt_llm_refusal_data(t, &d->fset, c->seed, &d->idk);
    if (s != LT_OK) {
        fprintf(stderr, "lethe lm unlearn: %s\n", lt_last_error());
        return 1;
    }
    if (!o->retain && (lt_llm_uses_retain(&c->loss) ||
                       c->mask.kind == LT_LLM_MASK_WAGLE)) {
        fprintf(stderr, "lethe lm unlearn: --method %s%s needs --retain\n",
                o->method, c->mask.kind == LT_LLM_MASK_WAGLE ?
                " with a wagle mask" : "");
        return 2;
    }
    return 0;
}

typedef struct {
    cli_progress bar;
    bool started;
} cli_lmu_ui;

static void cli_lmu_progress(void *ud, const lt_llm_event *ev)
{
    cli_lmu_ui *ui = ud;
    if (!ui->started) {
        cli_progress_start(&ui->bar, "unlearn", ev->steps);
        ui->started = true;
    }
    char extra[128];
    snprintf(extra, sizeof extra, "epoch %d/%d loss %.4f forget NLL %.3f "
             "retain NLL %.3f lr %.2e", ev->epoch, ev->epochs, ev->loss,
             ev->forget_nll, ev->retain_nll, ev->lr);
    cli_progress_update(&ui->bar, ev->step, extra);
}

/* Save the weights and the tokenizer beside them. */
static int cli_lmu_save(const char *out, const lt_llama *m,
                       const lt_tokenizer *t, char *tok_path, size_t n)
{
    lt_lm_tokenizer_path(out, tok_path, n);
    if (lt_llama_save(m, out, 0) != LT_OK ||
        lt_tokenizer_save(t, tok_path) != LT_OK) {
        fprintf(stderr, "lethe lm unlearn: %s\n", lt_last_error());
        return 1;
    }
    return 0;
}

/* A float option as the decimal it was typed as (1e-4, not 9.99e-05). */
static double cli_lmu_f(float v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%.7g", (double)v);
    return strtod(buf, NULL);
}

static cJSON *cli_lmu_options_json(const cli_lmu_opts *o,
                                  const lt_llm_unlearn_cfg *c)
{
    cJSON *j = cJSON_CreateObject();
    char mask[64];
    lt_llm_mask_text(&c->mask, mask, sizeof mask);
    cJSON_AddNumberToObject(j, "beta", cli_lmu_f(c->loss.beta));
    cJSON_AddNumberToObject(j, "gamma", cli_lmu_f(c->loss.gamma));
    cJSON_AddNumberToObject(j, "lambda", cli_lmu_f(c->loss.lambda));
    cJSON_AddNumberToObject(j, "forget_weight", cli_lmu_f(c->loss.forget_weight));
    cJSON_AddNumberToObject(j, "epochs", c->epochs);
    cJSON_AddNumberToObject(j, "lr", cli_lmu_f(c->optim.lr));
    cJSON_AddNumberToObject(j, "batch", c->batch);
    cJSON_AddNumberToObject(j, "warmup", (double)c->warmup);
    cJSON_AddNumberToObject(j, "clip", cli_lmu_f(c->clip));
    cJSON_AddNumberToObject(j, "weight_decay", cli_lmu_f(c->optim.weight_decay));
    cJSON_AddStringToObject(j, "mask", mask);
    cJSON_AddNumberToObject(j, "mu", cli_lmu_f((float)c->mu));
    cJSON_AddNumberToObject(j, "mask_samples", (double)c->mask_samples);
    cJSON_AddStringToObject(j, "optim", o->optim);
    cJSON_AddNumberToObject(j, "rmu_layer", c->loss.rmu_layer);
    cJSON_AddNumberToObject(j, "rmu_coeff", cli_lmu_f(c->loss.rmu_coeff));
    cJSON_AddNumberToObject(j, "rmu_alpha", cli_lmu_f(c->loss.rmu_alpha));
    cJSON_AddNumberToObject(j, "max_loss", cli_lmu_f((float)c->max_loss));
    cJSON_AddNumberToObject(j, "seed", (double)c->seed);
    return j;
}

static int cli_lmu_json(const cli_lmu_opts *o, const lt_llm_unlearn_cfg *c,
                       const lt_llm_report *rep, const char *cmdline)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "command", cmdline);
    cJSON_AddStringToObject(j, "method", lt_llm_method_name(c->loss.method));
    cJSON_AddStringToObject(j, "model", o->model);
    cJSON_AddStringToObject(j, "forget", o->forget);
    if (o->retain)
        cJSON_AddStringToObject(j, "retain", o->retain);
    cJSON_AddStringToObject(j, "out", o->out);
    cJSON_AddItemToObject(j, "options", cli_lmu_options_json(o, c));
    cJSON_AddNumberToObject(j, "steps", (double)rep->steps);
    cJSON_AddNumberToObject(j, "epochs_done", rep->epochs_done);
    cJSON_AddNumberToObject(j, "seconds", rep->seconds);
    cJSON_AddNumberToObject(j, "first_loss", rep->first_loss);
    cJSON_AddNumberToObject(j, "last_loss", rep->last_loss);
    cJSON_AddBoolToObject(j, "diverged", rep->diverged);
    if (rep->diverged) {
        cJSON_AddNumberToObject(j, "restored_epoch", rep->restored_epoch);
        cJSON_AddStringToObject(j, "message", rep->message);
    }
    cJSON_AddNumberToObject(j, "mask_fraction", rep->mask_kept);
    if (c->loss.method == LT_LLM_RMU)
        cJSON_AddNumberToObject(j, "rmu_coeff_used", rep->rmu_coeff);
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    if (!text)
        fprintf(stderr, "lethe lm unlearn: out of memory writing %s\n",
                o->json);
    int rc = text ? cli_write_text(o->json, text) : 1;
    free(text);
    return rc;
}

static int cli_lmu_run(const cli_lmu_opts *o, lt_llm_unlearn_cfg *c,
                      lt_llama *m, const lt_tokenizer *t, cli_lmu_data *d,
                      const char *cmdline)
{
    cli_lmu_ui ui = {0};
    c->progress = cli_lmu_progress;
    c->ud = &ui;
    c->pad_id = lt_tokenizer_special_id(t, LT_TOK_PAD);
    if (c->pad_id < 0)
        c->pad_id = lt_tokenizer_special_id(t, LT_TOK_EOS);
    bool idk = c->loss.method == LT_LLM_REFUSAL;
    c->mask_forget = idk ? &d->f : NULL;
    fprintf(stderr, "lethe lm unlearn: %s on %lld forget / %lld retain "
            "examples, %d epochs, lr %.2e, %s, %d threads\n", o->method,
            (long long)d->f.n, (long long)d->r.n, c->epochs, c->optim.lr,
            o->optim, lt_num_threads());
    lt_llm_report rep;
    lt_status s = lt_llm_unlearn(m, idk ? &d->idk : &d->f,
                                 o->retain ? &d->r : NULL, c, &rep);
    if (ui.started)
        cli_progress_end(&ui.bar);
    if (s != LT_OK && !rep.diverged) {
        fprintf(stderr, "lethe lm unlearn: %s\n", lt_last_error());
        return 1;
    }
    if (rep.diverged)
        fprintf(stderr, "lethe lm unlearn: diverged: %s; saving those "
                "weights\n", rep.message);
    char tok_path[4200];
    int rc = cli_lmu_save(o->out, m, t, tok_path, sizeof tok_path);
    if (!rc && o->json)
        rc = cli_lmu_json(o, c, &rep, cmdline);
    if (rc)
        return rc;
    printf("saved %s (tokenizer %s): %s, loss %.4f -> %.4f, %lld steps in "
           "%.1f s, %.1f%% of weights trained%s\n", o->out, tok_path,
           o->method, rep.first_loss, rep.last_loss, (long long)rep.steps,
           rep.seconds, 100.0 * rep.mask_kept,
           rep.diverged ? " (diverged: last good weights)" : "");
    return rep.diverged ? 2 : 0;
}

int cli_lm_unlearn(int argc, char **argv)
{
    cli_lmu_opts o;
    lt_llm_unlearn_cfg c;
    int rc = cli_lmu_parse(argc, argv, &o);
    if (rc)
        return rc == 1 ? 0 : rc;
    if ((rc = cli_lmu_config(&o, &c)))
        return rc;
    if (o.threads)
        lt_set_num_threads(o.threads);
    lt_llama *m;
    lt_tokenizer *t;
    if (cli_lm_open("lm unlearn", o.model, o.tok, &m, &t))
        return 1;
    cli_lmu_data d = {0};
    rc = cli_lmu_load(&o, m, t, &c, &d);
    char cmd[4096] = "lethe lm";
    size_t k = strlen(cmd);
    for (int i = 0; i < argc && k < sizeof cmd; i++)
        k += (size_t)snprintf(cmd + k, sizeof cmd - k, " %s", argv[i]);
    if (!rc)
        rc = cli_lmu_run(&o, &c, m, t, &d, cmd);
    cli_lmu_data_free(&d);
    lt_llama_free(m);
    lt_tokenizer_free(t);
    return rc;
}
