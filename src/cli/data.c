/*
 * data.c - `lethe data`: writes the question-answer data sets of the
 * language-model experiments:
 *   tofu-synth  a TOFU-shaped file set of fictitious authors (full.json,
 *               forget01/05/10, retain90/95/99 and the _perturbed files);
 *   wordnet-qa  general-knowledge QA from WordNet glosses (real text), the
 *               stand-in for TOFU's world_facts utility set.
 */
#include "cli/args.h"
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

static const char *lt_data_usage =
    "usage: lethe data <tofu-synth|wordnet-qa> [options]\n"
    "  tofu-synth --authors N --seed S --out DIR   fictitious-author QA set\n"
    "  wordnet-qa --n N --seed S --out FILE        WordNet general-knowledge QA";

static int lt_data_tofu(int argc, char **argv)
{
    int authors = 200;
    uint64_t seed = 1;
    const char *out = NULL;
    lt_opt opts[] = {
        {"--authors", LT_OPT_INT, &authors, "fictitious authors (200)", 2,
         LT_TOFU_MAX_AUTHORS},
        {"--seed", LT_OPT_U64, &seed, "generator seed (1)", 0, 0},
        {"--out", LT_OPT_STR, &out, "folder to write (created if missing)", 0, 0},
    };
    int rc = lt_args_parse("data tofu-synth",
                           "usage: lethe data tofu-synth --authors N --seed S "
                           "--out DIR\nWrite a TOFU-shaped set of fictitious "
                           "authors (20 QA pairs each).", opts, 3, argc, argv);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (!out) {
        fprintf(stderr, "lethe data tofu-synth: --out DIR is required\n");
        return 2;
    }
    if (lt_tofu_synth(authors, seed, out) != LT_OK) {
        fprintf(stderr, "lethe data tofu-synth: %s\n", lt_last_error());
        return 1;
    }
    printf("wrote %s: %d authors, %d QA pairs (full.json), forget10 = last "
           "%d authors\n", out, authors, authors * LT_TOFU_QA_PER_AUTHOR,
           lt_tofu_forget_authors(authors, 10));
    return 0;
}

static int lt_data_wordnet(int argc, char **argv)
{
    int n = 400;
    uint64_t seed = 1;
    const char *out = NULL, *dir = LT_WORDNET_DIR;
    lt_opt opts[] = {
        {"--n", LT_OPT_INT, &n, "QA pairs (400)", 1, 1e8},
        {"--seed", LT_OPT_U64, &seed, "which nouns are drawn (1)", 0, 0},
        {"--out", LT_OPT_STR, &out, "JSON Lines file to write", 0, 0},
        {"--wordnet", LT_OPT_STR, &dir, "WordNet folder (" LT_WORDNET_DIR ")",
         0, 0},
    };
    int rc = lt_args_parse("data wordnet-qa",
                           "usage: lethe data wordnet-qa --n N --seed S --out "
                           "FILE\nGeneral-knowledge QA from WordNet noun "
                           "glosses, with perturbed answers.", opts, 4, argc,
                           argv);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (!out) {
        fprintf(stderr, "lethe data wordnet-qa: --out FILE is required\n");
        return 2;
    }
    if (lt_tofu_wordnet_qa(dir, n, seed, out) != LT_OK) {
        fprintf(stderr, "lethe data wordnet-qa: %s\n", lt_last_error());
        return 1;
    }
    printf("wrote %s: %d QA pairs from %s\n", out, n, dir);
    return 0;
}

int lt_cli_data(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fprintf(argc < 2 ? stderr : stdout, "%s\n", lt_data_usage);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "tofu-synth"))
        return lt_data_tofu(argc - 1, argv + 1);
    if (!strcmp(argv[1], "wordnet-qa"))
        return lt_data_wordnet(argc - 1, argv + 1);
    fprintf(stderr, "lethe data: unknown subcommand '%s'\n%s\n", argv[1],
            lt_data_usage);
    return 2;
}
