/*
 * bench.c - `lethe bench classify|worst-case|tofu|muse|dm|canvas|um2n|attack`:
 * parse options into the protocol's config (lethe/bench.h, starting from
 * its defaults), run it with progress on the terminal, print the report
 * as Markdown and write it with --markdown / --json (and its trade-off
 * plot with --plot).
 * The protocols live in src/bench.
 */
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "lethe/bench.h"
#include "lethe/bench_attack.h"
#include "lethe/bench_canvas.h"
#include "lethe/bench_dm.h"
#include "lethe/bench_um2n.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>


/* The options every bench command has. */
#define CLI_BENCH_OUT_OPTS(out)                                              \
    {"--json", CLI_OPT_STR, &(out).json, "write the report as JSON", 0, 0},  \
    {"--markdown", CLI_OPT_STR, &(out).markdown,                             \
     "write the report as Markdown", 0, 0}
/* ... and the trade-off plot of classify, worst-case and tofu. */
#define CLI_BENCH_PLOT_OPT(out)                                              \
    {"--plot", CLI_OPT_STR, &(out).plot, "write the trade-off plot as PNG "  \
     "(UA against TA; TOFU: forget quality against model utility)", 0, 0}

/* The output discipline (lethe/fileset.h) with the report files as outputs and
 * in (the files the protocol reads) as inputs; 0 or 2. */
static int cli_bench_paths(const char *cmd, lt_fileset *in,
                           const cli_bench_out *out)
{
    const char *flag[3] = {"--json", "--markdown", "--plot"};
    const char *path[3] = {out->json, out->markdown, out->plot};
    for (int i = 0; i < 3; i++) {
        lt_fileset_add(in, true, flag[i], path[i]);
        /* a run can take hours: a missing folder is an error now, not
         * after it */
        const char *slash = path[i] ? strrchr(path[i], '/') : NULL;
        struct stat st;
        char dir[4096];
        if (slash && slash > path[i] &&
            (size_t)(slash - path[i]) < sizeof dir) {
            snprintf(dir, sizeof dir, "%.*s", (int)(slash - path[i]),
                     path[i]);
            if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
                fprintf(stderr, "lethe %s: %s %s: the folder %s does not "
                        "exist\n", cmd, flag[i], path[i], dir);
                return 2;
            }
        }
    }
    return cli_files_check(cmd, in);
}

/* ---- classify and worst-case ------------------------------------------- */

static int cli_bench_classify(int argc, char **argv, bool worst)
{
    const char *cmd = worst ? "bench worst-case" : "bench classify";
    lt_bench_classify_cfg c = lt_bench_classify_defaults();
    cli_bench_out out = {0};
    bool quick = false;
    for (int i = 1; i < argc; i++) /* --quick first: explicit flags win */
        if (!strcmp(argv[i], "--quick"))
            lt_bench_classify_quick(&c);
    cli_opt opts[] = {
        {"--data", CLI_OPT_STR, &c.data, "dataset", 0, 0},
        {"--model", CLI_OPT_STR, &c.model, "architecture", 0, 0},
        {"--forget", CLI_OPT_STR, &c.forget, worst ? "random:P% or random:N"
         : "random:P%|random:N|class:K|indices:FILE", 0, 0},
        {"--methods", CLI_OPT_STR, &c.methods, "comma list or all (all but retrain)", 0, 0},
        {"--seeds", CLI_OPT_INT, &c.seeds, "seeds 1..N: forget set, Retrain, methods", 1, LT_TABLE_MAX_SEEDS},
        {"--lr", CLI_OPT_STR, &c.lr, "per-method learning rates, m=v,...", 0, 0},
        {"--lr-grid", CLI_OPT_STR, &c.lr_grid, "per-method grids, m=v1:v2:...,...", 0, 0},
        {"--optim", CLI_OPT_STR, &c.optim, "optimizer of every method (each method's default)", 0, 0},
        {"--mask", CLI_OPT_STR, &c.mask, "mask of every method (each method's default)", 0, 0},
        {"--be-drop-shadow", CLI_OPT_FLAG, &c.be_drop_shadow, "be: evaluate the K-way weights (row be-drop), not the OPTML code's K+1-way model", 0, 0},
        {"--train-epochs", CLI_OPT_INT, &c.train_epochs, "epochs of original and Retrain", 1, 1000},
        {"--train-lr", CLI_OPT_FLOAT, &c.train_lr, "their base lr, cosine", 1e-9, 100},
        {"--cache", CLI_OPT_STR, &c.cache, "folder for trained models", 0, 0},
        {"--quick", CLI_OPT_FLAG, &quick, "small setting (mlp:784-32-10, 1 epoch, 1 seed, ft,ga,salun)", 0, 0},
        {"--resume", CLI_OPT_FLAG, &c.resume, "reuse the runs kept in CACHE/runs by an earlier (stopped) sweep", 0, 0},
        CLI_BENCH_OUT_OPTS(out), CLI_BENCH_PLOT_OPT(out),
    };
    const char *usage = worst ?
        "usage: lethe bench worst-case [options]\n"
        "The classification table for a random forget set and for the "
        "worst-case set of\nthe same size (bi-level selection on the "
        "original model), side by side." :
        "usage: lethe bench classify [options]\n"
        "Classification unlearning benchmark: train (or reuse) the original "
        "and Retrain\nmodels, run each method for each seed, print UA, RA, "
        "TA, MIA, Avg. Gap and RTE\n(mean +- std over seeds). --lr sets one "
        "method's rate (ga=3e-5,rl=0.01); --lr-grid\ntries several "
        "(ga=1e-5:3e-5:1e-4) and reports one row per value.";
    int rc = cli_args_parse(cmd, usage, opts, CLI_NOPTS(opts), argc, argv);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (lt_bench_classify_check(&c) != LT_OK)
        return cli_bad(cmd, NULL);
    lt_fileset p = {0};
    lt_fileset_add(&p, false, "--forget", lt_forget_spec_file(c.forget));
    lt_dataset_fileset_add(&p, "--data", c.data);
    if ((rc = cli_bench_paths(cmd, &p, &out)))
        return rc;
    cli_join_args(argc, argv, out.command, sizeof out.command);
    c.command = out.command;
    c.progress = cli_bench_progress;
    lt_report r;
    lt_status st = worst ? lt_bench_worst_case(&c, &r)
                         : lt_bench_classify(&c, &r);
    return cli_bench_finish(cmd, st, &r, &out);
}

/* ---- tofu ------------------------------------------------------------------ */

static int cli_bench_tofu(int argc, char **argv)
{
    lt_bench_tofu_cfg c = lt_bench_tofu_defaults();
    cli_bench_out out = {0};
    bool quick = false;
    for (int i = 1; i < argc; i++) /* --quick first: explicit flags win */
        if (!strcmp(argv[i], "--quick"))
            lt_bench_tofu_quick(&c);
    cli_opt opts[] = {
        {"--authors", CLI_OPT_INT, &c.authors, "fictitious authors", 10, LT_TOFU_MAX_AUTHORS},
        {"--forget", CLI_OPT_INT, &c.forget_pct, "forget split: 1, 5 or 10 (%)", 1, 10},
        {"--seed", CLI_OPT_U64, &c.seed, "data, training and unlearning seed", 0, 0},
        {"--config", CLI_OPT_STR, &c.config, "model preset", 0, 0},
        {"--train-epochs", CLI_OPT_INT, &c.train_epochs, "epochs of the full and retain models", 1, 1000},
        {"--train-lr", CLI_OPT_FLOAT, &c.train_lr, "their peak lr", 1e-9, 1},
        {"--world-facts", CLI_OPT_INT, &c.world_facts, "WordNet noun QA items", 5, 5000},
        {"--real-authors", CLI_OPT_INT, &c.real_authors, "WordNet writer QA items", 5, 5000},
        {"--cache", CLI_OPT_STR, &c.cache, "folder for data and models", 0, 0},
        {"--methods", CLI_OPT_STR, &c.methods, "comma list or all", 0, 0},
        {"--masks", CLI_OPT_STR, &c.masks, "comma list", 0, 0},
        {"--optims", CLI_OPT_STR, &c.optims, "comma list", 0, 0},
        {"--baseline-masks", CLI_OPT_STR, &c.baseline, "methods also run with gradient/magnitude/snip/random masks (none: off)", 0, 0},
        {"--epochs", CLI_OPT_INT, &c.epochs, "unlearning epochs", 1, 1000},
        {"--batch", CLI_OPT_INT, &c.batch, "unlearning batch", 1, 4096},
        {"--lr", CLI_OPT_STR, &c.lr, "per-method learning rates, m=v,...", 0, 0},
        {"--lr-grid", CLI_OPT_STR, &c.lr_grid, "search mode: only rows m=v1:v2:... (no mask, first optimizer)", 0, 0},
        {"--sophia-scale", CLI_OPT_FLOAT, &c.sophia_scale, "rate factor of sophia rows", 1e-6, 1e6},
        {"--npo-mean", CLI_OPT_FLAG, &c.npo_mean, "npo(-gd): mean-token NLL log ratio (WAGLE/SOUL) instead of per-sequence sums (NPO)", 0, 0},
        {"--max-items", CLI_OPT_INT, &c.max_items, "evaluate at most N items per split (TOFU's 300; 0: all)", 0, 1000000},
        {"--quick", CLI_OPT_FLAG, &quick, "small setting for CI", 0, 0},
        {"--resume", CLI_OPT_FLAG, &c.resume, "reuse the rows kept in CACHE/runs by an earlier (stopped) sweep", 0, 0},
        CLI_BENCH_OUT_OPTS(out), CLI_BENCH_PLOT_OPT(out),
    };
    int rc = cli_args_parse("bench tofu", "usage: lethe bench tofu [options]\n"
        "LLM unlearning on synthetic TOFU data: train (or reuse) the model "
        "fine-tuned on\nfull and the retain model, run every method x mask x "
        "optimizer and print forget\nquality, model utility, forget-set "
        "ROUGE-L and run time.", opts, CLI_NOPTS(opts), argc, argv);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (lt_bench_tofu_check(&c) != LT_OK)
        return cli_bad("bench tofu", NULL);
    lt_fileset p = {0};
    if ((rc = cli_bench_paths("bench tofu", &p, &out)))
        return rc;
    cli_join_args(argc, argv, out.command, sizeof out.command);
    c.command = out.command;
    c.progress = cli_bench_progress;
    lt_report r;
    lt_status st = lt_bench_tofu(&c, &r);
    return cli_bench_finish("bench tofu", st, &r, &out);
}

/* ---- muse ------------------------------------------------------------------ */

static int cli_bench_muse(int argc, char **argv)
{
    lt_bench_muse_cfg c = lt_bench_muse_defaults();
    cli_bench_out out = {0};
    bool quick = false;
    for (int i = 1; i < argc; i++) /* --quick sets defaults; flags win */
        if (!strcmp(argv[i], "--quick"))
            lt_bench_muse_quick(&c);
    cli_opt opts[] = {
        {"--forget", CLI_OPT_STR, &c.forget, "fortune collection (or file) to forget", 0, 0},
        {"--retain", CLI_OPT_STR, &c.retain, "collection (or file) to retain", 0, 0},
        {"--fortune-dir", CLI_OPT_STR, &c.fortune_dir, "where collections are found", 0, 0},
        {"--max-texts", CLI_OPT_INT, &c.max_texts, "use the first N texts of each collection (0: all)", 0, 1e9},
        {"--holdout-frac", CLI_OPT_FLOAT, &c.holdout, "share of the forget collection held out", 0.001, 0.95},
        {"--qa-max", CLI_OPT_INT, &c.qa_max, "cloze QA items per KnowMem file (0: all)", 0, 1e9},
        {"--seed", CLI_OPT_U64, &c.seed, "data, training and unlearning seed", 0, 0},
        {"--config", CLI_OPT_STR, &c.config, "model preset", 0, 0},
        {"--train-epochs", CLI_OPT_INT, &c.train_epochs, "epochs of the full and retrain models", 1, 10000},
        {"--train-lr", CLI_OPT_FLOAT, &c.train_lr, "their peak lr", 1e-9, 1},
        {"--train-batch", CLI_OPT_INT, &c.train_batch, "their batch", 1, 4096},
        {"--vocab", CLI_OPT_INT, &c.vocab, "tokenizer vocabulary", 300, 1 << 20},
        {"--window", CLI_OPT_INT, &c.window, "max tokens of one text (BOS + text + EOS) in training and unlearning; longer ones are cut", 2, 1 << 20},
        {"--cache", CLI_OPT_STR, &c.cache, "folder for data and models", 0, 0},
        {"--methods", CLI_OPT_STR, &c.methods, "comma list", 0, 0},
        {"--lr", CLI_OPT_STR, &c.lr, "per-method learning rates, m=v,...", 0, 0},
        {"--epochs", CLI_OPT_INT, &c.epochs, "unlearning epochs", 1, 1000},
        {"--batch", CLI_OPT_INT, &c.batch, "unlearning batch", 1, 4096},
        {"--scal", CLI_OPT_STR, &c.scal, "scalability: forget percentages (none: off)", 0, 0},
        {"--seq", CLI_OPT_INT, &c.seq, "sustainability: forget requests (0: off)", 0, 1000},
        {"--scal-methods", CLI_OPT_STR, &c.scal_methods, "methods of both", 0, 0},
        {"--prefix", CLI_OPT_INT, &c.prefix, "VerbMem prompt tokens", 1, 1e6},
        {"--max-new", CLI_OPT_INT, &c.max_new, "VerbMem continuation tokens", 1, 1e6},
        {"--quick", CLI_OPT_FLAG, &quick, "small setting for CI (~2 min on 2 cores)", 0, 0},
        CLI_BENCH_OUT_OPTS(out),
    };
    int rc = cli_args_parse("bench muse", "usage: lethe bench muse [options]\n"
        "LLM unlearning on real text (MUSE-style, Debian fortunes): train (or "
        "reuse) the\nmodel trained on forget + retain texts and the retrain "
        "model, unlearn with each\nmethod and report VerbMem, KnowMem, "
        "PrivLeak, MIA AUCs and run time, plus\nscalability (--scal) and "
        "sustainability (--seq) tables.", opts, CLI_NOPTS(opts), argc, argv);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (lt_bench_muse_check(&c) != LT_OK)
        return cli_bad("bench muse", NULL);
    lt_fileset p = {0};
    cli_files_fortune(&p, "--forget", c.fortune_dir, c.forget);
    cli_files_fortune(&p, "--retain", c.fortune_dir, c.retain);
    if ((rc = cli_bench_paths("bench muse", &p, &out)))
        return rc;
    cli_join_args(argc, argv, out.command, sizeof out.command);
    c.command = out.command;
    c.progress = cli_bench_progress;
    lt_report r;
    lt_status st = lt_bench_muse(&c, &r);
    if (st == LT_OK)
        printf("PrivLeak (MUSE's orientation) < 0: forget texts still look "
               "like members (retrain Min-K%% AUC, forget as member, %s)\n",
               lt_report_get(&r, "auc_retrain"));
    return cli_bench_finish("bench muse", st, &r, &out);
}

/* ---- dm ------------------------------------------------------------------- */

static int cli_bench_dm(int argc, char **argv)
{
    lt_bench_dm_forget_cfg c = lt_bench_dm_forget_defaults();
    cli_bench_out out = {0};
    bool quick = false;
    for (int i = 1; i < argc; i++) /* --quick sets defaults; flags win */
        if (!strcmp(argv[i], "--quick"))
            lt_bench_dm_forget_quick(&c);
    cli_opt opts[] = {
        {"--model", CLI_OPT_STR, &c.model, "base class-conditional UNet (a dm train file)", 0, 0},
        {"--data", CLI_OPT_STR, &c.data, "its data set", 0, 0},
        {"--classifier", CLI_OPT_STR, &c.classifier, "the independent evaluator (evaluator B)", 0, 0},
        {"--classes", CLI_OPT_STR, &c.classes, "classes to forget, a comma list", 0, 0},
        {"--methods", CLI_OPT_STR, &c.methods, "comma list or all (original, retrain, salun, rl, rl-random, ga, ga-saliency, esd, esd-data, salun-noretain, sa, sa-short (SA with the short preset, a variant), LOSS+MASK)", 0, 0},
        {"--seeds", CLI_OPT_INT, &c.seeds, "seeds 1..N of unlearning and sampling", 1, LT_TABLE_MAX_SEEDS},
        {"--steps", CLI_OPT_I64, &c.unlearn.steps, "unlearning steps (0: each loss's official loop)", 0, 1e9},
        {"--batch", CLI_OPT_INT, &c.unlearn.batch, "images per step (0: each loss's official batch)", 0, 4096},
        {"--lr", CLI_OPT_FLOAT, &c.unlearn.lr, "Adam learning rate", 1e-12, 1},
        {"--alpha", CLI_OPT_FLOAT, &c.unlearn.alpha, "retain weight (-1: 1e-3 * 3072 / pixels)", -1, 1e6},
        {"--sa-lambda", CLI_OPT_FLOAT, &c.sa.lambda, "sa: EWC weight", 0, 1e12},
        {"--sa-replay-per-class", CLI_OPT_INT, &c.sa_prep.per_class, "sa: replay / Fisher samples per class", 1, 100000},
        {"--sa-replay-steps", CLI_OPT_INT, &c.sa_prep.sample.steps, "sa: replay sampler steps", 1, 100000},
        {"--sa-fim-timesteps", CLI_OPT_INT, &c.sa_prep.fim_timesteps, "sa: Fisher timesteps per sample (0: all)", 0, 100000},
        {"--retrain-steps", CLI_OPT_I64, &c.retrain_steps, "Retrain's training steps", 1, 1e9},
        {"--ua-samples", CLI_OPT_INT, &c.ua_samples, "samples of the forgotten class", 2, 1000},
        {"--spot", CLI_OPT_INT, &c.spot_samples, "spot check: this many samples of the forgotten class with SalUn's own sampler (1000 stochastic steps) in a third table (0: off)", 0, 1000},
        {"--spot-steps", CLI_OPT_INT, &c.spot_sample.steps, "spot check sampler steps (1000; --quick 10)", 1, 100000},
        {"--fd-per-class", CLI_OPT_INT, &c.fd_per_class, "samples of each retained class", 2, 1000},
        {"--sample-steps", CLI_OPT_INT, &c.sample.steps, "DDIM steps of the samples", 1, 1000},
        {"--cache", CLI_OPT_STR, &c.cache, "folder for Retrain and quick base models", 0, 0},
        {"--base-steps", CLI_OPT_I64, &c.base_steps, "without --model: steps of the base trained here", 1, 1e9},
        {"--quick", CLI_OPT_FLAG, &quick, "small setting for CI (a cond:xs base trained here; minutes)", 0, 0},
        {"--resume", CLI_OPT_FLAG, &c.resume, "reuse the runs kept in CACHE/runs by an earlier (stopped) sweep", 0, 0},
        CLI_BENCH_OUT_OPTS(out),
    };
    int rc = cli_args_parse("bench dm", "usage: lethe bench dm [options]\n"
        "Class-wise forgetting on the class-conditional DDPM: unlearn each "
        "class with each\nmethod and seed, then judge samples with the "
        "independent evaluator (UA, P(c_f),\nentropy, the predicted-class "
        "histogram) and the retained classes' FD with its\nfloor "
        "(docs/diffusion-unlearning.md).", opts, CLI_NOPTS(opts), argc,
        argv);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (quick && !c.cache)
        c.cache = "lethe-bench-dm-cache";
    if (lt_bench_dm_forget_check(&c) != LT_OK)
        return cli_bad("bench dm", NULL);
    lt_fileset p = {0};
    lt_fileset_add(&p, false, "--model", c.model);
    lt_fileset_add(&p, false, "--classifier", c.classifier);
    if ((rc = cli_bench_paths("bench dm", &p, &out)))
        return rc;
    cli_join_args(argc, argv, out.command, sizeof out.command);
    c.command = out.command;
    c.progress = cli_bench_progress;
    lt_report r;
    lt_status st = lt_bench_dm_forget(&c, &r);
    return cli_bench_finish("bench dm", st, &r, &out);
}

/* Take every "FLAG NAME=FILE[:ENCODER]" out of argv (the others stay, in
 * order, in rest) into models[*n] (at most LT_BENCH_ASR_MAX_MODELS, their
 * text in buf); the exit status of a bad one. */
static int cli_take_models(const char *cmd, const char *flag, int argc,
                           char **argv, char **rest, int *nrest,
                           lt_bench_asr_model *models, int *n,
                           char (*buf)[4096])
{
    *nrest = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], flag)) {
            rest[(*nrest)++] = argv[i];
            continue;
        }
        if (i + 1 >= argc)
            return cli_usage(cmd, "a model needs NAME=FILE or "
                             "NAME=FILE:ENCODER");
        if (*n >= LT_BENCH_ASR_MAX_MODELS)
            return cli_usage(cmd, "at most 8 models");
        if (lt_bench_asr_model_parse(argv[++i], buf[*n], 4096,
                                     &models[*n]) != LT_OK)
            return cli_bad(cmd, flag);
        (*n)++;
    }
    return 0;
}

/* ---- canvas --------------------------------------------------------------- */

static int cli_bench_canvas_run(int argc, char **argv, char **rest,
                                char (*mbuf)[4096])
{
    lt_bench_canvas_cfg c = lt_bench_canvas_defaults();
    cli_bench_out out = {0};
    bool quick = false;
    const char *variant = "paper";
    /* the ESD variant's defaults, then --quick's, then the flags */
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--esd-variant"))
            variant = argv[i + 1];
    lt_esd_variant v;
    if (lt_esd_variant_parse(variant, &v) != LT_OK)
        return cli_bad("bench canvas", "--esd-variant");
    c.esd = lt_esd_defaults_for(v);
    for (int i = 1; i < argc; i++) /* --quick sets defaults; flags win */
        if (!strcmp(argv[i], "--quick"))
            lt_bench_canvas_quick(&c);
    int nrest = 0;
    int rc = cli_take_models("bench canvas", "--unlearned", argc, argv, rest,
                             &nrest, c.unlearned, &c.n_unlearned, mbuf);
    if (rc)
        return rc;
    cli_opt opts[] = {
        {"--model", CLI_OPT_STR, &c.model, "base text-conditioned UNet (a dm train file; its encoder MODEL.clip.safetensors)", 0, 0},
        {"--encoder", CLI_OPT_STR, &c.encoder, "the text encoder (default MODEL.clip.safetensors)", 0, 0},
        {"--data", CLI_OPT_STR, &c.canvas, "canvas:DIR, the FashionCanvas folder", 0, 0},
        {"--style-classifier", CLI_OPT_STR, &c.style_classifier, "the style evaluator", 0, 0},
        {"--object-classifier", CLI_OPT_STR, &c.object_classifier, "the object evaluator", 0, 0},
        {"--targets", CLI_OPT_STR, &c.targets, "comma list of style:NAME / object:NAME, all, or subset (a seeded draw)", 0, 0},
        {"--subset-styles", CLI_OPT_INT, &c.subset_styles, "styles of the subset", 0, LT_CANVAS_STYLES},
        {"--subset-objects", CLI_OPT_INT, &c.subset_objects, "objects of the subset", 0, LT_CANVAS_OBJECTS},
        {"--subset-seed", CLI_OPT_U64, &c.subset_seed, "seed of the subset draw", 0, 0},
        {"--methods", CLI_OPT_STR, &c.methods, "comma list: original, esd-x, esd-u, fmn, salun, each with +saliency or +none", 0, 0},
        {"--seeds", CLI_OPT_INT, &c.seeds, "answer-set samples per prompt", 1, LT_TABLE_MAX_SEEDS},
        {"--runs", CLI_OPT_INT, &c.runs, "unlearning runs per row (run r: every method's seed and the sampling seed + r; mean +- std)", 1, LT_TABLE_MAX_SEEDS},
        {"--sample-steps", CLI_OPT_INT, &c.sample.steps, "DDIM steps of the answer set", 1, 1000},
        {"--guidance", CLI_OPT_FLOAT, &c.sample.w, "SD-convention guidance of the answer set", 0, 100},
        {"--esd-steps", CLI_OPT_I64, &c.esd.steps, "ESD iterations", 1, 1e9},
        {"--esd-lr", CLI_OPT_FLOAT, &c.esd.lr, "ESD Adam lr", 1e-12, 1},
        {"--esd-variant", CLI_OPT_STR, &variant, "paper (train-esd.py, the default) | sd (today's esd_sd.py, with its defaults)", 0, 0},
        {"--fmn-steps", CLI_OPT_I64, &c.fmn.steps, "FMN steps", 1, 1e9},
        {"--fmn-ti", CLI_OPT_FLAG, &c.fmn_ti, "fmn: learn the concept's tokens by textual inversion first (train_ti.py)", 0, 0},
        {"--ti-steps", CLI_OPT_I64, &c.ti.steps, "with --fmn-ti: textual-inversion steps", 1, 1e9},
        {"--fmn-lr", CLI_OPT_FLOAT, &c.fmn.lr, "FMN AdamW lr", 1e-12, 1},
        {"--salun-epochs", CLI_OPT_INT, &c.salun.epochs, "SalUn epochs", 1, 1000000},
        {"--salun-lr", CLI_OPT_FLOAT, &c.salun.lr, "SalUn Adam lr", 1e-12, 1},
        {"--salun-per-pair", CLI_OPT_INT, &c.salun_per_pair, "pictures per pair of SalUn's sets", 1, 1000},
        {"--mask-ratio", CLI_OPT_FLOAT, &c.salun.mask_ratio, "share the saliency mask keeps", 1e-6, 1},
        {"--grid", CLI_OPT_STR, &c.grid_dir, "folder for the answer sets' PNG grids (TARGET-METHOD.png, original.png)", 0, 0},
        {"--cra-without-target", CLI_OPT_FLAG, &c.cra_without_target, "CRA leaves out the target's images", 0, 0},
        {"--cache", CLI_OPT_STR, &c.cache, "folder of the quick base and canvas, and of every finished row (CACHE/runs)", 0, 0},
        {"--resume", CLI_OPT_FLAG, &c.resume, "reuse the rows kept in CACHE/runs by an earlier (stopped) sweep", 0, 0},
        {"--base-arch", CLI_OPT_STR, &c.base_arch, "without --model: the base's arch", 0, 0},
        {"--base-steps", CLI_OPT_I64, &c.base_steps, "without --model: steps of the base trained here", 1, 1e9},
        {"--quick", CLI_OPT_FLAG, &quick, "small setting for CI (a tiny text UNet and canvas made here; minutes)", 0, 0},
        CLI_BENCH_OUT_OPTS(out),
    };
    rc = cli_args_parse("bench canvas", "usage: lethe bench canvas "
        "[options] [--unlearned NAME=FILE[:ENCODER]] ...\nUnlearnCanvas on "
        "FashionCanvas: unlearn each target style or object with each\n"
        "method, draw the answer set (every style x object prompt x seeds), "
        "judge it\nwith the style and object classifiers: UA, IRA, CRA, FD,"
        " time, memory, storage\n(docs/canvas-unlearning.md). --unlearned "
        "(up to 8): a row for a model unlearned\nelsewhere (lethe dm "
        "unlearn), with its encoder (default FILE.clip.safetensors).",
        opts, CLI_NOPTS(opts), nrest, rest);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (quick && !c.cache)
        c.cache = "lethe-bench-canvas-cache";
    if (lt_bench_canvas_check(&c) != LT_OK)
        return cli_bad("bench canvas", NULL);
    lt_fileset p = {0};
    lt_fileset_add(&p, false, "--model", c.model);
    lt_fileset_add(&p, false, "--encoder", c.encoder);
    lt_fileset_add(&p, false, "--style-classifier", c.style_classifier);
    lt_fileset_add(&p, false, "--object-classifier", c.object_classifier);
    for (int i = 0; i < c.n_unlearned; i++) {
        lt_fileset_add(&p, false, "--unlearned", c.unlearned[i].file);
        lt_fileset_add(&p, false, "--unlearned", c.unlearned[i].encoder);
    }
    if ((rc = cli_bench_paths("bench canvas", &p, &out)))
        return rc;
    cli_join_args(argc, argv, out.command, sizeof out.command);
    c.command = out.command;
    c.progress = cli_bench_progress;
    lt_report r;
    lt_status st = lt_bench_canvas(&c, &r);
    return cli_bench_finish("bench canvas", st, &r, &out);
}

static int cli_bench_canvas(int argc, char **argv)
{
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    char (*mbuf)[4096] = calloc(LT_BENCH_ASR_MAX_MODELS, sizeof *mbuf);
    int rc = rest && mbuf ? cli_bench_canvas_run(argc, argv, rest, mbuf)
                          : cli_fail("bench canvas", NULL);
    free(rest);
    free(mbuf);
    return rc;
}

/* ---- um2n ------------------------------------------------------------------ */

static int cli_bench_um2n(int argc, char **argv)
{
    lt_bench_um2n_cfg c = lt_bench_um2n_defaults();
    cli_bench_out out = {0};
    const char *cases = "helmholtz";
    cli_opt opts[] = {
        {"--case", CLI_OPT_STR, &cases, "helmholtz (default), swirl, hole, all, or a comma-separated list", 0, 0},
        {"--data", CLI_OPT_STR, &c.data, "Helmholtz data set folder (lethe mesh data)", 0, 0},
        {"--hole-data", CLI_OPT_STR, &c.hole_data, "hole data set folder (lethe mesh data --mesh hole.msh --pin-tags 5)", 0, 0},
        {"--hole-mesh", CLI_OPT_STR, &c.hole_mesh, "with --quick: the hole mesh the quick hole samples are made on", 0, 0},
        {"--swirl-mesh", CLI_OPT_STR, &c.swirl_mesh, "the swirl's mesh (.msh; UM2N's: gmsh square lc 0.028)", 0, 0},
        {"--swirl-steps", CLI_OPT_INT, &c.swirl_steps, "swirl steps, even (1000; --quick 4)", 2, 1000000},
        {"--split", CLI_OPT_STR, &c.split, "train, test (default), val or all", 0, 0},
        {"--um2n", CLI_OPT_STR, &c.um2n, "UM2N checkpoint (M2N_T, area + Chamfer loss)", 0, 0},
        {"--m2n", CLI_OPT_STR, &c.m2n, "M2N checkpoint (um2n train --arch m2n)", 0, 0},
        {"--um2n-coord", CLI_OPT_STR, &c.um2n_coord, "UM2N-coord checkpoint (M2N_T, coordinate loss)", 0, 0},
        {"--quick", CLI_OPT_FLAG, &c.quick, "CI smoke test: a tiny set and tiny networks trained here (seconds)", 0, 0},
        {"--quick-epochs", CLI_OPT_INT, &c.quick_epochs, "with --quick: epochs of each network", 1, 100000},
        {"--seed", CLI_OPT_U64, &c.seed, "with --quick: data and network seed", 0, 0},
        {"--cache", CLI_OPT_STR, &c.cache, "folder of the quick samples and of the finished rows (runs/)", 0, 0},
        {"--resume", CLI_OPT_FLAG, &c.resume, "reuse the rows kept in CACHE/runs by an earlier (stopped) run", 0, 0},
        CLI_BENCH_OUT_OPTS(out),
    };
    int rc = cli_args_parse("bench um2n", "usage: lethe bench um2n "
        "[--case helmholtz|swirl|hole|all] --data DIR [--hole-data DIR]\n"
        "       [--swirl-mesh F.msh] [--um2n F] [--m2n F] [--um2n-coord F] "
        "[--split test]\n"
        "       lethe bench um2n --quick [--case all --hole-mesh F.msh]\n"
        "uniform, MA and the trained mesh movers: on Helmholtz splits of the "
        "square and\nthe hole, ER mean and std, tangled meshes and cells, "
        "time per mesh; on the\nswirl, the mesh moved every step: L2 error "
        "and ER at T, tangled moves, time\nper move (docs/um2n.md).", opts,
        CLI_NOPTS(opts), argc, argv);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (lt_bench_um2n_cases(cases, &c.cases) != LT_OK)
        return cli_bad("bench um2n", NULL);
    if (c.quick && !c.cache)
        c.cache = "lethe-bench-um2n-cache";
    if (c.resume && !c.cache)
        return cli_usage("bench um2n", "--resume needs --cache (the folder "
                         "whose runs/ holds the kept rows)");
    if (lt_bench_um2n_check(&c) != LT_OK)
        return cli_bad("bench um2n", NULL);
    lt_fileset p = {0};
    lt_fileset_add(&p, false, "--um2n", c.um2n);
    lt_fileset_add(&p, false, "--m2n", c.m2n);
    lt_fileset_add(&p, false, "--um2n-coord", c.um2n_coord);
    lt_fileset_add(&p, false, "--swirl-mesh", c.swirl_mesh);
    lt_fileset_add(&p, false, "--hole-mesh", c.hole_mesh);
    if ((rc = cli_bench_paths("bench um2n", &p, &out)))
        return rc;
    cli_join_args(argc, argv, out.command, sizeof out.command);
    c.command = out.command;
    c.progress = cli_bench_progress;
    lt_report r;
    lt_status st = lt_bench_um2n(&c, &r);
    return cli_bench_finish("bench um2n", st, &r, &out);
}

/* ---- attack -------------------------------------------------------------- */

static int cli_bench_attack_run(int argc, char **argv, char **rest,
                                lt_bench_asr_cfg *c, char (*mbuf)[4096])
{
    cli_bench_out out = {.extra_key = "attacks"};
    bool quick = false, no_original = false;
    int steps = -1, nrest = 0;
    for (int i = 1; i < argc; i++) /* --quick sets defaults; flags win */
        if (!strcmp(argv[i], "--quick"))
            lt_bench_asr_quick(c);
    int rc = cli_take_models("bench attack", "--model", argc, argv, rest,
                             &nrest, c->models, &c->n_models, mbuf);
    if (rc)
        return rc;
    cli_opt opts[] = {
        {"--original", CLI_OPT_STR, &c->original, "the model before unlearning (target images; P4D's reference)", 0, 0},
        {"--original-encoder", CLI_OPT_STR, &c->original_encoder, "its encoder (default ORIGINAL.clip.safetensors)", 0, 0},
        {"--concepts", CLI_OPT_STR, &c->concepts, "comma list of object:NAME / style:NAME / mark", 0, 0},
        {"--methods", CLI_OPT_STR, &c->methods, "comma list: unlearndiff, random, p4d, none", 0, 0},
        {"--prompts", CLI_OPT_INT, &c->n_prompts, "prompts per object or style concept", 1, 100000},
        {"--mark-prompts", CLI_OPT_INT, &c->n_mark_prompts, "prompts of the mark", 1, 100000},
        {"--prompt-seed", CLI_OPT_U64, &c->prompt_seed, "seed of the first prompt", 0, 0},
        {"--k", CLI_OPT_INT, &c->k, "adversarial tokens (0: 3)", 0, 64},
        {"--timesteps", CLI_OPT_INT, &c->atk.n_t, "timesteps = tries of every attack", 1, 1000},
        {"--iters", CLI_OPT_INT, &c->atk.iters, "steps per timestep", 1, 100000},
        {"--steps", CLI_OPT_INT, &steps, "sampling steps of every generation (50)", 1, 100000},
        {"--seed", CLI_OPT_U64, &c->atk.seed, "the attacks' draws", 0, 0},
        {"--object-detector", CLI_OPT_STR, &c->object_detector, "in-loop object classifier", 0, 0},
        {"--style-detector", CLI_OPT_STR, &c->style_detector, "in-loop style classifier", 0, 0},
        {"--object-judge", CLI_OPT_STR, &c->object_judge, "the objects' verdict classifier (default: the committed object judge, or the detector when --object-detector is given)", 0, 0},
        {"--style-judge", CLI_OPT_STR, &c->style_judge, "the styles' verdict classifier (default: the committed style judge, or the detector when --style-detector is given)", 0, 0},
        {"--mark-detector", CLI_OPT_STR, &c->mark_detector, "in-loop mark detector (default: the committed one)", 0, 0},
        {"--mark-judge", CLI_OPT_STR, &c->mark_judge, "the mark's verdict classifier (default: the committed judge)", 0, 0},
        {"--no-original", CLI_OPT_FLAG, &no_original, "no rows of the original model", 0, 0},
        {"--cache", CLI_OPT_STR, &c->cache, "run records (and quick models)", 0, 0},
        {"--resume", CLI_OPT_FLAG, &c->resume, "reuse the run records found in the cache", 0, 0},
        {"--quick-encoder", CLI_OPT_STR, &c->quick_encoder, "--quick: the encoder of the micro models", 0, 0},
        {"--quick", CLI_OPT_FLAG, &quick, "micro models trained here in seconds (CI; not a measurement)", 0, 0},
        CLI_BENCH_OUT_OPTS(out),
    };
    rc = cli_args_parse("bench attack", "usage: lethe bench attack "
        "--original M --model NAME=FILE[:ENCODER] ... [options]\n"
        "Pre-ASR and ASR (95% Wilson) of UnlearnDiff, random prefixes and "
        "P4D with equal\ntries against the original and each unlearned text "
        "model, per FashionCanvas\nconcept, judged by the second classifier "
        "(docs/unlearndiff.md).", opts, CLI_NOPTS(opts), nrest, rest);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (steps > 0)
        c->atk.sample.steps = steps;
    c->attack_original = !no_original;
    if (lt_bench_asr_check(c) != LT_OK)
        return cli_bad("bench attack", NULL);
    lt_fileset p = {0};
    lt_fileset_add(&p, false, "--original", c->original);
    lt_fileset_add(&p, false, "--original-encoder", c->original_encoder);
    for (int i = 0; i < c->n_models; i++) {
        lt_fileset_add(&p, false, "--model", c->models[i].file);
        lt_fileset_add(&p, false, "--model", c->models[i].encoder);
    }
    if ((rc = cli_bench_paths("bench attack", &p, &out)))
        return rc;
    cli_join_args(argc, argv, out.command, sizeof out.command);
    c->command = out.command;
    c->progress = cli_bench_progress;
    lt_report r;
    lt_status st = lt_bench_asr(c, &r, &out.extra);
    return cli_bench_finish("bench attack", st, &r, &out);
}

static int cli_bench_attack(int argc, char **argv)
{
    lt_bench_asr_cfg c = lt_bench_asr_defaults();
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    char (*mbuf)[4096] = calloc(LT_BENCH_ASR_MAX_MODELS, sizeof *mbuf);
    int rc = rest && mbuf ? cli_bench_attack_run(argc, argv, rest, &c, mbuf)
                          : cli_fail("bench attack", NULL);
    free(rest);
    free(mbuf);
    return rc;
}

int cli_bench(int argc, char **argv)
{
    const char *sub = argc >= 2 ? argv[1] : "";
    if (!strcmp(sub, "classify") || !strcmp(sub, "worst-case"))
        return cli_bench_classify(argc - 1, argv + 1, sub[0] == 'w');
    if (!strcmp(sub, "tofu"))
        return cli_bench_tofu(argc - 1, argv + 1);
    if (!strcmp(sub, "muse"))
        return cli_bench_muse(argc - 1, argv + 1);
    if (!strcmp(sub, "dm"))
        return cli_bench_dm(argc - 1, argv + 1);
    if (!strcmp(sub, "canvas"))
        return cli_bench_canvas(argc - 1, argv + 1);
    if (!strcmp(sub, "um2n"))
        return cli_bench_um2n(argc - 1, argv + 1);
    if (!strcmp(sub, "attack"))
        return cli_bench_attack(argc - 1, argv + 1);
    bool help = !strcmp(sub, "--help") || !strcmp(sub, "-h");
    FILE *f = help ? stdout : stderr;
    fprintf(f, "usage: lethe bench classify [options]\n       lethe bench "
            "worst-case [the same options]\n       lethe bench "
            "tofu|muse|dm|canvas|um2n|attack "
            "[options]\n(run any with --help for the options)\n");
    return help ? 0 : 2;
}
