/*
 * lm.c - `lethe lm`: the decoder language model from the command line.
 *   train     train a Llama-style model from scratch on TOFU QA data (loss
 *             on answers only) or plain text, save the checkpoint and the
 *             tokenizer beside it;
 *   generate  continue a prompt (greedy at temperature 0, else sampled);
 *   score     per QA pair: the answer's summed / mean token NLL and token
 *             count, the greedy answer and its ROUGE-L recall to the gold
 *             answer (rouge_score's definition, stemmer on).
 * The tokenizer of model M is found at M's stem + ".tokenizer.json" for a
 * .safetensors file, or M/tokenizer.json for a Hugging Face folder, unless
 * --tokenizer names one.
 */
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "lethe/lm.h"
#include "lethe/rouge.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    const char *config, *tok, *data, *text, *out, *init;
    int epochs, batch, accum, warmup, threads, vocab, max_len, group;
    float lr, min_lr, clip, wd, beta2;
    uint64_t seed;
} cli_lm_train_opts;

static int cli_lm_train_parse(int argc, char **argv, cli_lm_train_opts *o)
{
    *o = (cli_lm_train_opts){.config = "tiny", .epochs = 10, .batch = 16,
                            .accum = 1, .vocab = 2048, .lr = 1e-3f,
                            .clip = 1.0f, .wd = 0.01f, .beta2 = 0.95f,
                            .seed = 1};
    cli_opt opts[] = {
        {"--config", CLI_OPT_STR, &o->config, "micro|tiny|small|config.json (tiny)", 0, 0},
        {"--tokenizer", CLI_OPT_STR, &o->tok, "tokenizer.json (default: train one)", 0, 0},
        {"--init", CLI_OPT_STR, &o->init, "continue training this checkpoint (its config and tokenizer)", 0, 0},
        {"--data", CLI_OPT_STR, &o->data, "TOFU QA file(s), comma-separated (loss on answers)", 0, 0},
        {"--text", CLI_OPT_STR, &o->text, "plain text, documents split by '%' lines", 0, 0},
        {"--out", CLI_OPT_STR, &o->out, "X.safetensors or a folder (HF layout)", 0, 0},
        {"--epochs", CLI_OPT_INT, &o->epochs, "passes over the data (10)", 1, 1e6},
        {"--batch", CLI_OPT_INT, &o->batch, "examples per micro-batch (16)", 1, 65536},
        {"--accum", CLI_OPT_INT, &o->accum, "micro-batches per step (1)", 1, 65536},
        {"--lr", CLI_OPT_FLOAT, &o->lr, "peak learning rate (1e-3)", 1e-9, 10},
        {"--min-lr", CLI_OPT_FLOAT, &o->min_lr, "cosine floor (0)", 0, 10},
        {"--warmup", CLI_OPT_INT, &o->warmup, "linear warm-up steps (0)", 0, 1e9},
        {"--clip", CLI_OPT_FLOAT, &o->clip, "max gradient norm, 0: off (1)", 0, 1e9},
        {"--wd", CLI_OPT_FLOAT, &o->wd, "AdamW weight decay (0.01)", 0, 10},
        {"--beta2", CLI_OPT_FLOAT, &o->beta2, "AdamW beta2 (0.95; beta1 0.9)", 0, 0.99999},
        {"--group", CLI_OPT_INT, &o->group, "length-group runs of N batches (0: off; slows memorising)", 0, 1e6},
        {"--max-len", CLI_OPT_INT, &o->max_len, "text window / QA cut (model context)", 2, 1e7},
        {"--vocab", CLI_OPT_INT, &o->vocab, "vocab of a tokenizer trained here (2048)", 257, 1 << 22},
        {"--seed", CLI_OPT_U64, &o->seed, "init and order seed (1)", 0, 0},
        {"--threads", CLI_OPT_INT, &o->threads, "threads (default: all cores)", 1, 1024},
    };
    int rc = cli_args_parse("lm train", "usage: lethe lm train --config "
                           "micro|tiny|small|config.json --data QA.json|--text FILE "
                           "--out lm.safetensors [options]\nTrain a Llama-style "
                           "model from scratch (AdamW, warm-up + cosine).",
                           opts, (int)(sizeof opts / sizeof *opts), argc, argv);
    if (rc == 0 && (!o->out || !o->data == !o->text)) {
        fprintf(stderr, "lethe lm train: --out and one of --data or --text "
                "are required\n");
        rc = 2;
    }
    return rc;
}

/* The tokenizer: --tokenizer, else trained on the data. */
static int cli_lm_train_tok(const cli_lm_train_opts *o, const lt_tofu_set *qa,
                           lt_tokenizer **t)
{
    const char *sp[] = {"<|endoftext|>"};
    lt_tokenizer_train_opts to = {o->vocab, 2, sp, 1};
    lt_status s = o->tok ? lt_tokenizer_load(o->tok, t) :
                  qa ? lt_lm_tokenizer_for_qa(qa, &to, t) :
                  lt_tokenizer_train_file(o->text, &to, t);
    if (s != LT_OK) {
        fprintf(stderr, "lethe lm train: %s\n", lt_last_error());
        return 1;
    }
    if (!o->tok)
        fprintf(stderr, "lethe lm train: trained a tokenizer of %d tokens on "
                "%s\n", lt_tokenizer_vocab_size(*t), o->data ? o->data : o->text);
    if (lt_tokenizer_special_id(*t, LT_TOK_EOS) < 0) {
        fprintf(stderr, "lethe lm train: the tokenizer has no end-of-text "
                "token (train one with --special \"<|endoftext|>\")\n");
        return 1;
    }
    return 0;
}

/* Model config from a preset or config.json, checked against the
 * tokenizer. 0, or 2 with the message printed. */
static int cli_lm_train_config(const cli_lm_train_opts *o, const lt_tokenizer *t,
                              lt_llama_config *cfg)
{
    int V = lt_tokenizer_vocab_size(t);
    bool file = cli_ends_with(o->config, ".json");
    lt_status s = file ? lt_llama_config_load(o->config, cfg) :
                  lt_llama_preset(o->config, V, cfg);
    if (s != LT_OK) {
        fprintf(stderr, "lethe lm train: --config: %s\n", lt_last_error());
        return 2;
    }
    if (cfg->vocab_size != V) {
        fprintf(stderr, "lethe lm train: %s has vocab_size %d but the "
                "tokenizer has %d tokens\n", o->config, cfg->vocab_size, V);
        return 2;
    }
    cfg->bos_token_id = lt_tokenizer_special_id(t, LT_TOK_BOS);
    cfg->eos_token_id = lt_tokenizer_special_id(t, LT_TOK_EOS);
    return 0;
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
    if (s != LT_OK) {
        fprintf(stderr, "lethe lm train: %s\n", lt_last_error());
        return 1;
    }
    if (d->n_truncated)
        fprintf(stderr, "lethe lm train: warning: %lld QA examples cut to %lld "
                "tokens\n", (long long)d->n_truncated, (long long)len);
    return 0;
}

typedef struct {
    cli_progress bar;
    bool started;
} cli_train_ui;

static void cli_train_progress(void *ud, const lt_lm_event *ev)
{
    cli_train_ui *ui = ud;
    if (!ui->started) {
        cli_progress_start(&ui->bar, "train", ev->steps);
        ui->started = true;
    }
    char extra[96];
    snprintf(extra, sizeof extra, "epoch %d/%d loss %.4f lr %.2e %.0f tok/s",
             ev->epoch, ev->epochs, ev->loss, ev->lr, ev->tokens_per_s);
    cli_progress_update(&ui->bar, ev->step, extra);
}

static lt_lm_train_cfg cli_lm_train_cfg_of(const cli_lm_train_opts *o,
                                          const lt_tokenizer *t)
{
    lt_lm_train_cfg c = lt_lm_train_defaults();
    c.optim.lr = o->lr;
    c.optim.weight_decay = o->wd;
    c.optim.beta2 = o->beta2;
    c.epochs = o->epochs;
    c.batch = o->batch;
    c.accum = o->accum;
    c.warmup = o->warmup;
    c.min_lr = o->min_lr;
    c.clip = o->clip;
    c.seed = o->seed;
    c.group = o->group;
    c.pad_id = lt_tokenizer_special_id(t, LT_TOK_PAD);
    if (c.pad_id < 0)
        c.pad_id = lt_tokenizer_special_id(t, LT_TOK_EOS);
    return c;
}

/* Save the checkpoint and the tokenizer beside it; on failure neither is
 * left behind. */
static int cli_lm_train_save(const cli_lm_train_opts *o, const lt_llama *m,
                            const lt_tokenizer *t, char *tok_path, size_t n)
{
    lt_lm_tokenizer_path(o->out, tok_path, n);
    bool had = access(o->out, F_OK) == 0;
    if (lt_llama_save(m, o->out, 0) != LT_OK) {
        fprintf(stderr, "lethe lm train: %s\n", lt_last_error());
        return 1;
    }
    if (lt_tokenizer_save(t, tok_path) != LT_OK) {
        fprintf(stderr, "lethe lm train: %s\n", lt_last_error());
        if (!had && cli_ends_with(o->out, ".safetensors"))
            unlink(o->out);
        return 1;
    }
    return 0;
}

static int cli_lm_train_run(const cli_lm_train_opts *o, lt_llama *m,
                           const lt_lm_data *d, const lt_tokenizer *t)
{
    lt_lm_train_cfg cfg = cli_lm_train_cfg_of(o, t);
    cli_train_ui ui = {0};
    cfg.progress = cli_train_progress;
    cfg.ud = &ui;
    if (!o->init)
        lt_llama_init(m, o->seed);
    fprintf(stderr, "lethe lm train: %s model, %.2fM parameters, %lld examples "
            "(%lld tokens, longest %lld), %lld steps, %d threads\n", o->config,
            (double)m->params.n_train / 1e6, (long long)d->n,
            (long long)d->n_tokens, (long long)d->max_len,
            (long long)(cfg.epochs * lt_lm_steps_per_epoch(&cfg, d->n)),
            lt_num_threads());
    lt_lm_report rep;
    lt_status s = lt_lm_train(m, d, &cfg, &rep);
    if (ui.started)
        cli_progress_end(&ui.bar);
    if (s != LT_OK) {
        fprintf(stderr, "lethe lm train: %s\n", lt_last_error());
        return 1;
    }
    char tok_path[4200];
    if (cli_lm_train_save(o, m, t, tok_path, sizeof tok_path))
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
    if (o.threads)
        lt_set_num_threads(o.threads);
    lt_tofu_set qa = {0};
    if (o.data && lt_tofu_load_list(o.data, &qa) != LT_OK)
        return cli_fail("lm train", NULL);
    lt_tokenizer *t = NULL;
    lt_llama_config cfg;
    lt_llama *m = NULL;
    lt_lm_data d = {0};
    if (!cli_ends_with(o.config, ".json") &&
        lt_llama_preset(o.config, 512, &cfg) != LT_OK) {
        fprintf(stderr, "lethe lm train: --config: %s\n", lt_last_error());
        lt_tofu_free(&qa);
        return 2;
    }
    if (o.init) { /* continue from a checkpoint: its config and tokenizer */
        rc = cli_lm_open("lm train", o.init, o.tok, &m, &t);
        if (!rc)
            cfg = m->cfg;
    } else {
        rc = cli_lm_train_tok(&o, o.data ? &qa : NULL, &t);
        if (!rc)
            rc = cli_lm_train_config(&o, t, &cfg);
    }
    if (!rc)
        rc = cli_lm_train_data(&o, t, o.data ? &qa : NULL, &cfg, &d);
    if (!rc && !m && lt_llama_create(&cfg, &m) != LT_OK) {
        fprintf(stderr, "lethe lm train: %s\n", lt_last_error());
        rc = 1;
    }
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
    int max_new = 64, threads = 0;
    float temp = 0, top_p = 1;
    uint64_t seed = 0;
    cli_opt opts[] = {
        {"--model", CLI_OPT_STR, &model, "checkpoint (.safetensors or folder)", 0, 0},
        {"--tokenizer", CLI_OPT_STR, &tok, "tokenizer.json (default: beside the model)", 0, 0},
        {"--prompt", CLI_OPT_STR, &prompt, "text to continue (BOS added)", 0, 0},
        {"--question", CLI_OPT_STR, &question, "ask in the QA template instead", 0, 0},
        {"--max-new", CLI_OPT_INT, &max_new, "new tokens at most (64)", 1, 1e6},
        {"--temperature", CLI_OPT_FLOAT, &temp, "0: greedy (0)", 0, 100},
        {"--top-p", CLI_OPT_FLOAT, &top_p, "nucleus mass (1)", 1e-6, 1},
        {"--seed", CLI_OPT_U64, &seed, "sampling seed (0)", 0, 0},
        {"--threads", CLI_OPT_INT, &threads, "threads (default: all cores)", 1, 1024},
    };
    int rc = cli_args_parse("lm generate", "usage: lethe lm generate --model M "
                           "--prompt TEXT [options]\nContinue a prompt with "
                           "the KV cache.", opts,
                           (int)(sizeof opts / sizeof *opts), argc, argv);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (!model || !prompt == !question) {
        fprintf(stderr, "lethe lm generate: --model and one of --prompt or "
                "--question are required\n");
        return 2;
    }
    if (threads)
        lt_set_num_threads(threads);
    lt_llama *m;
    lt_tokenizer *t;
    if (cli_lm_open("lm generate", model, tok, &m, &t))
        return 1;
    lt_llama_gen_opts g = lt_llama_gen_defaults(m);
    g.max_new_tokens = max_new;
    g.temperature = temp;
    g.top_p = top_p;
    g.seed = seed;
    char *text = NULL;
    double t0 = lt_clock_seconds();
    lt_status s;
    if (question) {
        s = lt_lm_answer(m, t, question, &g, &text);
    } else {
        /* a prompt is "a question" without the template: encode it raw */
        int32_t *ids = NULL, *out = malloc((size_t)max_new * sizeof *out);
        size_t n = 0, nt = 0;
        int64_t n_out = 0;
        int32_t bos = lt_tokenizer_special_id(t, LT_TOK_BOS);
        s = out ? lt_tokenizer_encode(t, prompt, strlen(prompt), &ids, &n)
                : lt_set_error(LT_ERR_NOMEM, "out of memory");
        int32_t *p = s == LT_OK ? malloc((n + 1) * sizeof *p) : NULL;
        size_t k = bos >= 0;
        if (p) {
            p[0] = bos;
            memcpy(p + k, ids, n * sizeof *ids);
            s = lt_llama_generate(m, p, (int64_t)(n + k), &g, out, &n_out);
        } else if (s == LT_OK)
            s = lt_set_error(LT_ERR_NOMEM, "out of memory");
        if (s == LT_OK && n_out > 0 && out[n_out - 1] == g.eos_id)
            n_out--;
        if (s == LT_OK)
            s = lt_tokenizer_decode(t, out, (size_t)n_out, &text, &nt);
        free(ids);
        free(p);
        free(out);
    }
    if (s != LT_OK) {
        fprintf(stderr, "lethe lm generate: %s\n", lt_last_error());
        rc = 1;
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

typedef struct {
    double *nll;
    int32_t *count;
    char **gen;
    double *rouge;
} cli_lm_scores;

static int cli_lm_score_all(lt_llama *m, const lt_tokenizer *t,
                           const lt_tofu_set *qa, int batch, int max_new,
                           cli_lm_scores *sc)
{
    lt_lm_data d;
    int32_t pad = lt_tokenizer_special_id(t, LT_TOK_EOS);
    lt_status s = lt_lm_data_qa(t, qa, m->cfg.max_position_embeddings, &d);
    if (s == LT_OK)
        s = lt_lm_score(m, &d, batch, pad < 0 ? 0 : pad, sc->nll, sc->count);
    lt_lm_data_free(&d);
    lt_llama_gen_opts g = lt_llama_gen_defaults(m);
    g.max_new_tokens = max_new;
    cli_progress bar;
    cli_progress_start(&bar, "generate", qa->n);
    for (int64_t i = 0; i < qa->n && s == LT_OK && max_new > 0; i++) {
        s = lt_lm_answer(m, t, qa->qa[i].question, &g, &sc->gen[i]);
        if (s == LT_OK)
            sc->rouge[i] = lt_rouge_l(sc->gen[i], qa->qa[i].answer, true).recall;
        cli_progress_update(&bar, i + 1, NULL);
    }
    cli_progress_end(&bar);
    if (s != LT_OK) {
        fprintf(stderr, "lethe lm score: %s\n", lt_last_error());
        return 1;
    }
    return 0;
}

static cJSON *cli_lm_score_item(const lt_tofu_qa *r, const cli_lm_scores *sc,
                               int64_t i)
{
    cJSON *o = cJSON_CreateObject();
    double k = sc->count[i] > 0 ? sc->count[i] : 1;
    cJSON_AddStringToObject(o, "question", r->question);
    cJSON_AddStringToObject(o, "answer", r->answer);
    cJSON_AddNumberToObject(o, "nll_sum", sc->nll[i]);
    cJSON_AddNumberToObject(o, "nll_mean", sc->nll[i] / k);
    cJSON_AddNumberToObject(o, "n_tokens", sc->count[i]);
    if (sc->gen[i]) {
        cJSON_AddStringToObject(o, "generated", sc->gen[i]);
        cJSON_AddNumberToObject(o, "rouge_l_recall", sc->rouge[i]);
    }
    return o;
}

static int cli_lm_score_report(const char *json, const char *cmdline,
                              const lt_tofu_set *qa, const cli_lm_scores *sc,
                              bool gen)
{
    double mean = 0, prob = 0, rouge = 0, exact = 0;
    for (int64_t i = 0; i < qa->n; i++) {
        double a = sc->nll[i] / (sc->count[i] > 0 ? sc->count[i] : 1);
        mean += a / (double)qa->n;
        prob += exp(-a) / (double)qa->n;
        rouge += gen ? sc->rouge[i] / (double)qa->n : 0;
        exact += gen && !strcmp(sc->gen[i], qa->qa[i].answer) ? 1 : 0;
    }
    printf("%lld QA pairs: mean token NLL %.4f, probability %.4f",
           (long long)qa->n, mean, prob);
    if (gen)
        printf(", ROUGE-L recall %.4f, exact match %.4f", rouge,
               exact / (double)qa->n);
    printf("\n");
    if (!json)
        return 0;
    cJSON *o = cJSON_CreateObject(), *items = cJSON_CreateArray();
    cJSON_AddStringToObject(o, "command", cmdline);
    cJSON_AddNumberToObject(o, "n", (double)qa->n);
    cJSON_AddNumberToObject(o, "mean_token_nll", mean);
    cJSON_AddNumberToObject(o, "probability", prob);
    if (gen) {
        cJSON_AddNumberToObject(o, "rouge_l_recall", rouge);
        cJSON_AddNumberToObject(o, "exact_match", exact / (double)qa->n);
    }
    for (int64_t i = 0; i < qa->n; i++)
        cJSON_AddItemToArray(items, cli_lm_score_item(&qa->qa[i], sc, i));
    cJSON_AddItemToObject(o, "items", items);
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    int rc = text ? cli_write_text(json, text) : 1;
    free(text);
    return rc;
}

static int cli_lm_score_cmd(int argc, char **argv)
{
    const char *model = NULL, *tok = NULL, *data = NULL, *json = NULL;
    int batch = 16, max_new = 64, threads = 0;
    cli_opt opts[] = {
        {"--model", CLI_OPT_STR, &model, "checkpoint (.safetensors or folder)", 0, 0},
        {"--tokenizer", CLI_OPT_STR, &tok, "tokenizer.json (default: beside the model)", 0, 0},
        {"--data", CLI_OPT_STR, &data, "TOFU QA file", 0, 0},
        {"--json", CLI_OPT_STR, &json, "write per-item results here", 0, 0},
        {"--batch", CLI_OPT_INT, &batch, "scoring batch (16)", 1, 65536},
        {"--max-new", CLI_OPT_INT, &max_new, "greedy answer tokens, 0: none (64)", 0, 1e6},
        {"--threads", CLI_OPT_INT, &threads, "threads (default: all cores)", 1, 1024},
    };
    int rc = cli_args_parse("lm score", "usage: lethe lm score --model M --data "
                           "QA.json [--json OUT]\nAnswer NLL, greedy answers "
                           "and ROUGE-L recall.", opts,
                           (int)(sizeof opts / sizeof *opts), argc, argv);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (!model || !data) {
        fprintf(stderr, "lethe lm score: --model and --data are required\n");
        return 2;
    }
    if (threads)
        lt_set_num_threads(threads);
    lt_tofu_set qa;
    if (lt_tofu_load(data, &qa) != LT_OK) {
        fprintf(stderr, "lethe lm score: %s\n", lt_last_error());
        return 1;
    }
    lt_llama *m;
    lt_tokenizer *t;
    if (cli_lm_open("lm score", model, tok, &m, &t)) {
        lt_tofu_free(&qa);
        return 1;
    }
    size_t n = (size_t)qa.n;
    cli_lm_scores sc = {calloc(n, sizeof(double)), calloc(n, sizeof(int32_t)),
                       calloc(n, sizeof(char *)), calloc(n, sizeof(double))};
    rc = sc.nll && sc.count && sc.gen && sc.rouge ? 0 : 1;
    if (!rc)
        rc = cli_lm_score_all(m, t, &qa, batch, max_new, &sc);
    char cmd[4096];
    size_t k = (size_t)snprintf(cmd, sizeof cmd, "lethe lm");
    for (int i = 0; i < argc && k < sizeof cmd; i++)
        k += (size_t)snprintf(cmd + k, sizeof cmd - k, " %s", argv[i]);
    if (!rc)
        rc = cli_lm_score_report(json, cmd, &qa, &sc, max_new > 0);
    for (size_t i = 0; sc.gen && i < n; i++)
        free(sc.gen[i]);
    free(sc.nll);
    free(sc.count);
    free(sc.gen);
    free(sc.rouge);
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
