/*
 * lm.c - `lethe lm`: the decoder language model from the command line.
 *   train     train a Llama-style model from scratch on TOFU QA data (loss
 *             on answers only) or plain text, save the checkpoint and the
 *             tokenizer beside it;
 *   generate  continue a prompt (greedy at temperature 0, else sampled);
 *   score     per QA pair (lethe/lm_score.h): the answer's summed / mean
 *             token NLL and token count, the greedy answer and its ROUGE-L
 *             recall to the gold answer (rouge_score's definition, stemmer
 *             on).
 * The tokenizer of model M is found at M's stem + ".tokenizer.json" for a
 * .safetensors file, or M/tokenizer.json for a Hugging Face folder, unless
 * --tokenizer names one.
 */
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "lethe/lm.h"
#include "lethe/lm_score.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *cli_lm_usage =
    "usage: lethe lm <train|generate|score|unlearn|eval> [options]\n"
    "  train    --config micro|tiny|small|config.json --data full.json | --text FILE\n"
    "           --out lm.safetensors|DIR [--tokenizer tokenizer.json]\n"
    "  generate --model M --prompt TEXT | --question Q [--max-new 64]\n"
    "  score    --model M --data QA.json [--json OUT]\n"
    "  unlearn  --model M --forget F.json --retain R.json --method NAME --out U\n"
    "  eval     --benchmark tofu|muse --model M ... (see lethe lm eval --help)";

/* ---- train ------------------------------------------------------------------ */

typedef struct {
    lt_lm_train_cfg c;
    const char *config, *tok, *data, *text, *out, *init, *dp;
    int warmup, vocab, max_len;
    const char *loss_plot;
} cli_lm_train_opts;

static int cli_lm_train_parse(int argc, char **argv, cli_lm_train_opts *o)
{
    *o = (cli_lm_train_opts){.c = lt_lm_train_defaults(), .config = "tiny",
                            .vocab = 2048};
    lt_lm_train_cfg *c = &o->c;
    c->epochs = 10;
    c->batch = 16;
    c->optim.lr = 1e-3f;
    cli_opt opts[] = {
        {"--config", CLI_OPT_STR, &o->config, "micro|tiny|small|config.json", 0, 0},
        {"--tokenizer", CLI_OPT_STR, &o->tok, "tokenizer.json (default: train one)", 0, 0},
        {"--init", CLI_OPT_STR, &o->init, "continue training this checkpoint (its config and tokenizer)", 0, 0},
        {"--data", CLI_OPT_STR, &o->data, "TOFU QA file(s), comma-separated (loss on answers)", 0, 0},
        {"--text", CLI_OPT_STR, &o->text, "plain text, documents split by '%' lines", 0, 0},
        {"--out", CLI_OPT_STR, &o->out, "X.safetensors or a folder (HF layout)", 0, 0},
        {"--epochs", CLI_OPT_INT, &c->epochs, "passes over the data", 1, 1e6},
        {"--batch", CLI_OPT_INT, &c->batch, "examples per micro-batch", 1, 65536},
        {"--accum", CLI_OPT_INT, &c->accum, "micro-batches per step", 1, 65536},
        {"--lr", CLI_OPT_FLOAT, &c->optim.lr, "peak learning rate", 1e-9, 10},
        {"--min-lr", CLI_OPT_FLOAT, &c->min_lr, "cosine floor", 0, 10},
        {"--warmup", CLI_OPT_INT, &o->warmup, "linear warm-up steps", 0, 1e9},
        {"--clip", CLI_OPT_FLOAT, &c->clip, "max gradient norm, 0: off", 0, 1e9},
        {"--wd", CLI_OPT_FLOAT, &c->optim.weight_decay, "AdamW weight decay", 0, 10},
        {"--beta2", CLI_OPT_FLOAT, &c->optim.beta2, "AdamW beta2 (beta1 0.9)", 0, 0.99999},
        {"--group", CLI_OPT_INT, &c->group, "length-group runs of N batches (0: off; slows memorising)", 0, 1e6},
        {"--max-len", CLI_OPT_INT, &o->max_len, "text window / QA cut (model context)", 2, 1e7},
        {"--vocab", CLI_OPT_INT, &o->vocab, "vocab of a tokenizer trained here", 257, 1 << 22},
        {"--seed", CLI_OPT_U64, &c->seed, "init and order seed", 0, 0},
        {"--dp", CLI_OPT_STR, &o->dp, "data-parallel reduction off|sum|ordered (sum under mpirun; docs/mpi.md)", 0, 0},
        {"--shards", CLI_OPT_INT, &c->shards, "parts of every step's examples (a multiple of the ranks; default one per rank)", 0, 65536},
        {"--loss-plot", CLI_OPT_STR, &o->loss_plot, "also draw the loss of every step (PNG)", 0, 0},
    };
    int rc = cli_args_parse("lm train", "usage: lethe lm train --config "
                           "micro|tiny|small|config.json --data QA.json|--text FILE "
                           "--out lm.safetensors [options]\nTrain a Llama-style "
                           "model from scratch (AdamW, warm-up + cosine).",
                           opts, CLI_NOPTS(opts), argc, argv);
    if (rc == 0 && (!o->out || !o->data == !o->text)) {
        fprintf(stderr, "lethe lm train: --out and one of --data or --text "
                "are required\n");
        rc = 2;
    }
    c->warmup = o->warmup;
    return rc ? rc : cli_dp_mode("lm train", o->dp, c->shards, &c->dist);
}

/* The tokenizer (--tokenizer, else trained on the data) and the model
 * config for it. */
static int cli_lm_train_tok(const cli_lm_train_opts *o, const lt_tofu_set *qa,
                           lt_tokenizer **t, lt_llama_config *cfg)
{
    const char *sp[] = {"<|endoftext|>"};
    lt_tokenizer_train_opts to = {o->vocab, 2, sp, 1};
    lt_status s = o->tok ? lt_tokenizer_load(o->tok, t) :
                  qa ? lt_lm_tokenizer_for_qa(qa, &to, t) :
                  lt_tokenizer_train_file(o->text, &to, t);
    if (s != LT_OK)
        return cli_fail("lm train", NULL);
    if (!o->tok)
        fprintf(stderr, "lethe lm train: trained a tokenizer of %d tokens on "
                "%s\n", lt_tokenizer_vocab_size(*t), o->data ? o->data : o->text);
    if (lt_tokenizer_special_id(*t, LT_TOK_EOS) < 0) {
        fprintf(stderr, "lethe lm train: the tokenizer has no end-of-text "
                "token (train one with --special \"<|endoftext|>\")\n");
        return 1;
    }
    return lt_lm_config(o->config, *t, cfg) == LT_OK ? 0 :
           cli_fail("lm train", "--config") + 1;
}

static int cli_lm_train_data(const cli_lm_train_opts *o, const lt_tokenizer *t,
                            const lt_tofu_set *qa, const lt_llama_config *cfg,
                            lt_lm_data *d)
{
    int64_t ctx = cfg->max_position_embeddings;
    int64_t len = o->max_len > 0 && o->max_len < ctx ? o->max_len : ctx;
    lt_status s = qa ? lt_lm_data_qa(t, qa, len, d) :
                  lt_lm_data_text_file(t, o->text, o->max_len > 0 ? len :
                                       (ctx < 128 ? ctx : 128), d);
    if (s != LT_OK)
        return cli_fail("lm train", NULL);
    if (d->n_truncated)
        fprintf(stderr, "lethe lm train: warning: %lld QA examples cut to %lld "
                "tokens\n", (long long)d->n_truncated, (long long)len);
    return 0;
}

static void cli_lm_train_progress(void *ud, const lt_lm_event *ev)
{
    cli_curve_add(ud, "loss", (double)ev->step, ev->loss);
    char extra[96];
    snprintf(extra, sizeof extra, "epoch %d/%d loss %.4f lr %.2e %.0f tok/s",
             ev->epoch, ev->epochs, ev->loss, ev->lr, ev->tokens_per_s);
    cli_bar("train", ev->step, ev->steps, extra);
}

static int cli_lm_train_run(const cli_lm_train_opts *o, lt_llama *m,
                           const lt_lm_data *d, const lt_tokenizer *t)
{
    lt_lm_train_cfg cfg = o->c;
    bool lead = lt_dist_rank() == 0; /* under mpirun: reports and saves */
    cfg.pad_id = lt_lm_pad_id(t);
    cli_curve curve = {0};
    cfg.progress = lead ? cli_lm_train_progress : NULL;
    cfg.ud = &curve;
    if (!o->init)
        lt_llama_init(m, cfg.seed);
    if (lead)
        fprintf(stderr, "lethe lm train: %s model, %.2fM parameters, %lld "
                "examples (%lld tokens, longest %lld), %lld steps, %d "
                "threads, %d rank%s\n", o->config,
                (double)m->params.n_train / 1e6, (long long)d->n,
                (long long)d->n_tokens, (long long)d->max_len,
                (long long)(cfg.epochs * lt_lm_steps_per_epoch(&cfg, d->n)),
                lt_num_threads(), lt_dist_size(),
                lt_dist_size() > 1 ? "s" : "");
    lt_lm_report rep;
    lt_status s = lt_lm_train(m, d, &cfg, &rep);
    cli_bar_end();
    char tok_path[4200];
    if (s != LT_OK) {
        cli_curve_free(&curve);
        return cli_fail("lm train", NULL);
    }
    if (!lead) {
        cli_curve_free(&curve);
        return 0;
    }
    /* model, tokenizer (and loss plot): all renamed, or none */
    if (cli_outputs_begin("lm train")) {
        cli_curve_free(&curve);
        return 1;
    }
    int rc = lt_lm_save(m, t, o->out, tok_path, sizeof tok_path) ?
        cli_fail("lm train", NULL) : 0;
    if (!rc && o->loss_plot)
        rc = cli_curve_write("lm train", &curve, o->loss_plot, o->config,
                             "step", "training loss");
    cli_curve_free(&curve);
    if (cli_outputs_end("lm train", rc))
        return 1;
    printf("saved %s (tokenizer %s): loss %.4f -> %.4f (last epoch mean "
           "%.4f), %lld steps in %.1f s, %.0f tokens/s\n", o->out, tok_path,
           rep.first_loss, rep.last_loss, rep.epoch_loss, (long long)rep.steps,
           rep.seconds, rep.tokens_per_s);
    return 0;
}

static int cli_lm_train_cmd(int argc, char **argv)
{
    cli_lm_train_opts o;
    int rc = cli_lm_train_parse(argc, argv, &o);
    if (rc)
        return rc == 1 ? 0 : rc;
    lt_fileset p = {0};
    if (cli_ends_with(o.config, ".json"))
        lt_fileset_add(&p, false, "--config", o.config);
    if (o.init)
        lt_lm_fileset_add(&p, false, "--init", o.init, "--tokenizer", o.tok);
    else
        lt_fileset_add(&p, false, "--tokenizer", o.tok);
    lt_fileset_add_list(&p, "--data", o.data);
    lt_fileset_add(&p, false, "--text", o.text);
    lt_lm_fileset_add(&p, true, "--out", o.out, NULL, NULL);
    lt_fileset_add(&p, true, "--loss-plot", o.loss_plot);
    if ((rc = cli_files_check("lm train", &p)))
        return rc;
    lt_tofu_set qa = {0};
    if (o.data && lt_tofu_load_list(o.data, &qa) != LT_OK)
        return cli_fail("lm train", NULL);
    lt_tokenizer *t = NULL;
    lt_llama_config cfg;
    lt_llama *m = NULL;
    lt_lm_data d = {0};
    if (!cli_ends_with(o.config, ".json") && /* a bad preset, before work */
        lt_llama_preset(o.config, 512, &cfg) != LT_OK) {
        lt_tofu_free(&qa);
        return cli_fail("lm train", "--config") + 1;
    }
    if (o.init) { /* continue from a checkpoint: its config and tokenizer */
        rc = cli_lm_open("lm train", o.init, o.tok, &m, &t);
        if (!rc)
            cfg = m->cfg;
    } else {
        rc = cli_lm_train_tok(&o, o.data ? &qa : NULL, &t, &cfg);
    }
    if (!rc)
        rc = cli_lm_train_data(&o, t, o.data ? &qa : NULL, &cfg, &d);
    if (!rc && !m && lt_llama_create(&cfg, &m) != LT_OK)
        rc = cli_fail("lm train", NULL);
    if (!rc)
        rc = cli_lm_train_run(&o, m, &d, t);
    lt_llama_free(m);
    lt_lm_data_free(&d);
    lt_tokenizer_free(t);
    lt_tofu_free(&qa);
    return rc;
}

/* ---- generate ---------------------------------------------------------------- */

static int cli_lm_generate_cmd(int argc, char **argv)
{
    const char *model = NULL, *tok = NULL, *prompt = NULL, *question = NULL;
    lt_llama_gen_opts g = lt_llama_gen_defaults(NULL);
    int max_new = (int)g.max_new_tokens;
    cli_opt opts[] = {
        {"--model", CLI_OPT_STR, &model, "checkpoint (.safetensors or folder)", 0, 0},
        {"--tokenizer", CLI_OPT_STR, &tok, "tokenizer.json (default: beside the model)", 0, 0},
        {"--prompt", CLI_OPT_STR, &prompt, "text to continue (BOS added)", 0, 0},
        {"--question", CLI_OPT_STR, &question, "ask in the QA template instead", 0, 0},
        {"--max-new", CLI_OPT_INT, &max_new, "new tokens at most", 1, 1e6},
        {"--temperature", CLI_OPT_FLOAT, &g.temperature, "0: greedy", 0, 100},
        {"--top-p", CLI_OPT_FLOAT, &g.top_p, "nucleus mass", 1e-6, 1},
        {"--seed", CLI_OPT_U64, &g.seed, "sampling seed", 0, 0},
    };
    int rc = cli_args_parse("lm generate", "usage: lethe lm generate --model M "
                           "--prompt TEXT [options]\nContinue a prompt with "
                           "the KV cache.", opts,
                           CLI_NOPTS(opts), argc, argv);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (!model || !prompt == !question) {
        fprintf(stderr, "lethe lm generate: --model and one of --prompt or "
                "--question are required\n");
        return 2;
    }
    lt_llama *m;
    lt_tokenizer *t;
    if (cli_lm_open("lm generate", model, tok, &m, &t))
        return 1;
    g.max_new_tokens = max_new;
    g.eos_id = m->cfg.eos_token_id;
    char *text = NULL;
    double t0 = lt_clock_seconds();
    lt_status s = question ? lt_lm_answer(m, t, question, &g, &text) :
                  lt_lm_continue(m, t, prompt, &g, &text);
    if (s != LT_OK) {
        rc = cli_fail("lm generate", NULL);
    } else {
        printf("%s\n", text);
        fprintf(stderr, "(%.2f s)\n", lt_clock_seconds() - t0);
    }
    free(text);
    lt_llama_free(m);
    lt_tokenizer_free(t);
    return rc;
}

/* ---- score --------------------------------------------------------------------- */

static void cli_lm_score_progress(void *ud, int64_t done, int64_t total)
{
    (void)ud;
    cli_bar("generate", done, total, NULL);
}

static int cli_lm_score_cmd(int argc, char **argv)
{
    const char *model = NULL, *tok = NULL, *data = NULL, *json = NULL;
    lt_lm_qa_score_opts so = lt_lm_qa_score_defaults();
    cli_opt opts[] = {
        {"--model", CLI_OPT_STR, &model, "checkpoint (.safetensors or folder)", 0, 0},
        {"--tokenizer", CLI_OPT_STR, &tok, "tokenizer.json (default: beside the model)", 0, 0},
        {"--data", CLI_OPT_STR, &data, "TOFU QA file", 0, 0},
        {"--json", CLI_OPT_STR, &json, "write per-item results here", 0, 0},
        {"--batch", CLI_OPT_INT, &so.batch, "scoring batch", 1, 65536},
        {"--max-new", CLI_OPT_INT, &so.max_new, "greedy answer tokens, 0: none", 0, 1e6},
    };
    int rc = cli_args_parse("lm score", "usage: lethe lm score --model M --data "
                           "QA.json [--json OUT]\nAnswer NLL, greedy answers "
                           "and ROUGE-L recall.", opts,
                           CLI_NOPTS(opts), argc, argv);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (!model || !data)
        return cli_usage("lm score", "--model and --data are required");
    lt_fileset p = {0};
    lt_lm_fileset_add(&p, false, "--model", model, "--tokenizer", tok);
    lt_fileset_add(&p, false, "--data", data);
    lt_fileset_add(&p, true, "--json", json);
    if ((rc = cli_files_check("lm score", &p)))
        return rc;
    lt_tofu_set qa;
    if (lt_tofu_load(data, &qa) != LT_OK)
        return cli_fail("lm score", NULL);
    lt_llama *m;
    lt_tokenizer *t;
    if (cli_lm_open("lm score", model, tok, &m, &t)) {
        lt_tofu_free(&qa);
        return 1;
    }
    lt_lm_qa_scores sc;
    so.progress = cli_lm_score_progress;
    lt_status s = lt_lm_qa_score(m, t, &qa, &so, &sc);
    cli_bar_end();
    char cmd[4096]; /* argv[-1] is "lm" (the cli_lm dispatcher's argv) */
    cli_join_args(argc, argv, cmd, sizeof cmd);
    if (s == LT_OK) {
        printf("%lld QA pairs: mean token NLL %.4f, probability %.4f",
               (long long)qa.n, sc.mean_nll, sc.prob);
        if (sc.generated)
            printf(", ROUGE-L recall %.4f, exact match %.4f", sc.rouge_mean,
                   sc.exact);
        printf("\n");
        if (json)
            s = lt_lm_qa_scores_write_json(&sc, &qa, cmd, json);
    }
    rc = s == LT_OK ? 0 : cli_fail("lm score", NULL);
    lt_lm_qa_scores_free(&sc);
    lt_llama_free(m);
    lt_tokenizer_free(t);
    lt_tofu_free(&qa);
    return rc;
}

int cli_lm(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fprintf(argc < 2 ? stderr : stdout, "%s\n", cli_lm_usage);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "train"))
        return cli_lm_train_cmd(argc - 1, argv + 1);
    if (!strcmp(argv[1], "generate"))
        return cli_lm_generate_cmd(argc - 1, argv + 1);
    if (!strcmp(argv[1], "unlearn"))
        return cli_lm_unlearn(argc - 1, argv + 1);
    if (!strcmp(argv[1], "eval"))
        return cli_lm_eval(argc - 1, argv + 1);
    if (!strcmp(argv[1], "score"))
        return cli_lm_score_cmd(argc - 1, argv + 1);
    fprintf(stderr, "lethe lm: unknown subcommand '%s'\n%s\n", argv[1],
            cli_lm_usage);
    return 2;
}
