/*
 * data.c - `lethe data`: writes the question-answer data sets of the
 * language-model experiments:
 *   tofu-synth  a TOFU-shaped file set of fictitious authors (full.json,
 *               forget01/05/10, retain90/95/99 and the _perturbed files);
 *   wordnet-qa  general-knowledge QA from WordNet glosses (real text), the
 *               stand-in for TOFU's world_facts utility set (--kind
 *               nouns) or real_authors set (--kind authors);
 *   muse        forget / retain / holdout corpora and cloze QA from Debian's
 *               fortune collections (src/cli/muse.c);
 *   canvas      FashionCanvas, styled 32x32 pictures made from Fashion-MNIST
 *               (lethe/canvas.h, docs/fashion-canvas.md).
 */
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/common.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const char *cli_data_usage =
    "usage: lethe data <tofu-synth|wordnet-qa|muse|canvas> [options]\n"
    "  tofu-synth --authors N --seed S --out DIR   fictitious-author QA set\n"
    "  wordnet-qa --n N --seed S --out FILE [--kind nouns|authors]\n"
    "                                              WordNet general-knowledge QA\n"
    "  muse --forget C --retain C --out DIR        MUSE-shaped corpora from\n"
    "                                              Debian fortune collections\n"
    "  canvas --out DIR [--seed S] [--per-class N] FashionCanvas: Fashion-MNIST\n"
    "                                              in 22 styles (PNG + index)";

static int cli_data_tofu(int argc, char **argv)
{
    int authors = 200;
    uint64_t seed = 1;
    const char *out = NULL;
    cli_opt opts[] = {
        {"--authors", CLI_OPT_INT, &authors, "fictitious authors", 2,
         LT_TOFU_MAX_AUTHORS},
        {"--seed", CLI_OPT_U64, &seed, "generator seed", 0, 0},
        {"--out", CLI_OPT_STR, &out, "folder to write (created if missing)", 0, 0},
    };
    int rc = cli_args_parse("data tofu-synth",
                           "usage: lethe data tofu-synth --authors N --seed S "
                           "--out DIR\nWrite a TOFU-shaped set of fictitious "
                           "authors (20 QA pairs each).", opts,
                           CLI_NOPTS(opts), argc, argv);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (!out)
        return cli_usage("data tofu-synth", "--out DIR is required");
    if (cli_outputs_begin("data tofu-synth") || /* every file, or none */
        cli_outputs_end("data tofu-synth",
                        lt_tofu_synth(authors, seed, out) != LT_OK
                            ? cli_fail("data tofu-synth", NULL) : 0))
        return 1;
    printf("wrote %s: %d authors, %d QA pairs (full.json), forget10 = last "
           "%d authors\n", out, authors, authors * LT_TOFU_QA_PER_AUTHOR,
           lt_tofu_forget_authors(authors, 10));
    return 0;
}

/* Build the set of the given kind ("nouns" or "authors") and write it. */
static int cli_data_wordnet_write(const char *kind, const char *dir, int n,
                                 uint64_t seed, const char *out)
{
    lt_tofu_set s;
    lt_status st = !strcmp(kind, "authors")
                       ? lt_tofu_wordnet_authors_set(dir, n, seed, &s)
                       : lt_tofu_wordnet_set(dir, n, seed, &s);
    if (st == LT_OK)
        st = lt_tofu_save(out, &s);
    lt_tofu_free(&s);
    if (st != LT_OK)
        return cli_fail("data wordnet-qa", NULL);
    printf("wrote %s: %d %s QA pairs from %s\n", out, n,
           !strcmp(kind, "authors") ? "real-author" : "noun", dir);
    return 0;
}

static int cli_data_wordnet(int argc, char **argv)
{
    int n = 400;
    uint64_t seed = 1;
    const char *out = NULL, *dir = LT_WORDNET_DIR, *kind = "nouns";
    cli_opt opts[] = {
        {"--n", CLI_OPT_INT, &n, "QA pairs", 1, 1e8},
        {"--seed", CLI_OPT_U64, &seed, "which nouns are drawn", 0, 0},
        {"--out", CLI_OPT_STR, &out, "JSON Lines file to write", 0, 0},
        {"--wordnet", CLI_OPT_STR, &dir, "WordNet folder", 0, 0},
        {"--kind", CLI_OPT_STR, &kind, "nouns (word meanings, the world-facts "
         "stand-in) or authors (real writers, the real-authors stand-in)",
         0, 0},
    };
    int rc = cli_args_parse("data wordnet-qa",
                           "usage: lethe data wordnet-qa --n N --seed S --out "
                           "FILE [--kind nouns|authors]\nGeneral-knowledge QA "
                           "from WordNet noun glosses, with perturbed "
                           "answers.", opts, CLI_NOPTS(opts), argc,
                           argv);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (!out)
        return cli_usage("data wordnet-qa", "--out FILE is required");
    if (strcmp(kind, "nouns") && strcmp(kind, "authors")) {
        fprintf(stderr, "lethe data wordnet-qa: --kind must be nouns or "
                "authors (got '%s')\n", kind);
        return 2;
    }
    if (!*out)
        return cli_usage("data wordnet-qa", "--out FILE is empty");
    return cli_data_wordnet_write(kind, dir, n, seed, out);
}

static void cli_data_canvas_progress(void *ud, int64_t done, int64_t total)
{
    (void)ud;
    cli_bar("canvas", done, total, NULL);
}

/* The options checked before any work: the output must not be a file. */
static int cli_data_canvas_check(const char *out)
{
    struct stat st;
    if (!*out)
        return cli_usage("data canvas", "--out DIR is empty");
    if (stat(out, &st) == 0 && !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "lethe data canvas: --out %s: exists and is not a "
                "folder\n", out);
        return 2;
    }
    return 0;
}

static int cli_data_canvas(int argc, char **argv)
{
    lt_canvas_config c = lt_canvas_defaults();
    const char *out = NULL;
    cli_opt opts[] = {
        {"--out", CLI_OPT_STR, &out, "folder to write (missing, empty or a "
         "previous canvas)", 0, 0},
        {"--seed", CLI_OPT_U64, &c.seed, "generator seed", 0, 0},
        {"--per-class", CLI_OPT_INT, &c.per_class, "train seed images per "
         "class", 1, 6000},
        {"--test-per-class", CLI_OPT_INT, &c.test_per_class, "held-out seed "
         "images per class (Fashion-MNIST test split)", 0, 1000},
        {"--data", CLI_OPT_STR, &c.data, "fashion-mnist[:DIR]", 0, 0},
    };
    int rc = cli_args_parse("data canvas",
                           "usage: lethe data canvas --out DIR [--seed S] "
                           "[--per-class N] [--test-per-class N] [--data "
                           "fashion-mnist[:DIR]]\nRender every seed image "
                           "of Fashion-MNIST in every FashionCanvas style "
                           "(docs/fashion-canvas.md).", opts, CLI_NOPTS(opts),
                           argc, argv);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (!out)
        return cli_usage("data canvas", "--out DIR is required");
    if ((rc = cli_data_canvas_check(out)))
        return rc;
    double t0 = lt_clock_seconds();
    lt_status st = lt_canvas_generate(&c, out, cli_data_canvas_progress, NULL);
    cli_bar_end();
    if (st != LT_OK)
        return cli_fail("data canvas", NULL);
    int64_t per = LT_CANVAS_STYLES * LT_CANVAS_OBJECTS;
    printf("wrote %s: %d styles x %d objects, %lld train + %lld test "
           "pictures, index.json, preview.png (%.1f s)\n", out,
           LT_CANVAS_STYLES, LT_CANVAS_OBJECTS, (long long)(per * c.per_class),
           (long long)(per * c.test_per_class), lt_clock_seconds() - t0);
    return 0;
}

int cli_data(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fprintf(argc < 2 ? stderr : stdout, "%s\n", cli_data_usage);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "tofu-synth"))
        return cli_data_tofu(argc - 1, argv + 1);
    if (!strcmp(argv[1], "wordnet-qa"))
        return cli_data_wordnet(argc - 1, argv + 1);
    if (!strcmp(argv[1], "muse"))
        return cli_data_muse(argc - 1, argv + 1);
    if (!strcmp(argv[1], "canvas"))
        return cli_data_canvas(argc - 1, argv + 1);
    fprintf(stderr, "lethe data: unknown subcommand '%s'\n%s\n", argv[1],
            cli_data_usage);
    return 2;
}
