/*
 * tokenizer.c - `lethe tokenizer`: train a byte-level BPE tokenizer on text
 * files and save it as a Hugging Face tokenizer.json (`train`), or show the
 * ids a tokenizer gives a text (`encode`). A corpus file that loads as
 * TOFU QA data (.json / .jsonl) contributes the texts the language model
 * will see ("Question: ...\nAnswer: ..."); any other file is plain text.
 */
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "lethe/lm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *cli_tok_usage =
    "usage: lethe tokenizer <train|encode> [options]\n"
    "  train  --corpus FILE[,FILE...] --vocab N --out tokenizer.json\n"
    "  encode --tokenizer tokenizer.json --text TEXT";

/* Split a comma-separated list in place into at most max items. */
static int cli_tok_split(char *list, char **items, int max)
{
    int n = 0;
    for (char *p = strtok(list, ","); p && n < max; p = strtok(NULL, ","))
        if (*p)
            items[n++] = p;
    return n;
}

static int cli_tok_train(int argc, char **argv)
{
    const char *corpus = NULL, *out = NULL, *special = "<|endoftext|>";
    int vocab = 2048, min_freq = 2;
    cli_opt opts[] = {
        {"--corpus", CLI_OPT_STR, &corpus, "text or TOFU files, comma-separated", 0, 0},
        {"--vocab", CLI_OPT_INT, &vocab, "vocabulary size incl. 256 bytes", 257, 1 << 22},
        {"--out", CLI_OPT_STR, &out, "tokenizer.json to write", 0, 0},
        {"--min-frequency", CLI_OPT_INT, &min_freq, "merge pairs seen this often", 1, 1e9},
        {"--special", CLI_OPT_STR, &special, "special tokens, comma-separated", 0, 0},
    };
    int rc = cli_args_parse("tokenizer train", "usage: lethe tokenizer train "
                           "--corpus FILE[,FILE...] --vocab N --out FILE\n"
                           "Train a byte-level BPE tokenizer.", opts,
                           CLI_NOPTS(opts), argc,
                           argv);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (!corpus || !out) {
        fprintf(stderr, "lethe tokenizer train: --corpus and --out are "
                "required\n");
        return 2;
    }
    lt_fileset p = {0};
    lt_fileset_add_list(&p, "--corpus", corpus);
    lt_fileset_add(&p, true, "--out", out);
    if ((rc = cli_files_check("tokenizer train", &p)))
        return rc;
    char *files = strdup(corpus), *sp = strdup(special), *names[256];
    char *specials[64];
    int nf = files ? cli_tok_split(files, names, 256) : 0;
    int ns = sp ? cli_tok_split(sp, specials, 64) : 0;
    lt_tokenizer_train_opts o = {vocab, min_freq,
                                 (const char *const *)specials, ns};
    lt_tokenizer *t = NULL;
    if (lt_lm_tokenizer_for_files((const char *const *)names, nf, &o, &t) !=
            LT_OK || lt_tokenizer_save(t, out) != LT_OK)
        rc = cli_fail("tokenizer train", NULL);
    else
        printf("wrote %s: %d tokens (%d merges) from %d file(s)\n", out,
               lt_tokenizer_vocab_size(t), lt_tokenizer_n_merges(t), nf);
    lt_tokenizer_free(t);
    free(files);
    free(sp);
    return rc;
}

static int cli_tok_encode(int argc, char **argv)
{
    const char *path = NULL, *text = NULL;
    bool tokens = false, special = false, decode = false;
    cli_opt opts[] = {
        {"--tokenizer", CLI_OPT_STR, &path, "tokenizer.json", 0, 0},
        {"--text", CLI_OPT_STR, &text, "text to encode", 0, 0},
        {"--tokens", CLI_OPT_FLAG, &tokens, "also print each token's text", 0, 0},
        {"--special", CLI_OPT_FLAG, &special, "add the post-processor's special tokens (HF add_special_tokens=True)", 0, 0},
        {"--decode", CLI_OPT_FLAG, &decode, "also print the decoded text of the ids", 0, 0},
    };
    int rc = cli_args_parse("tokenizer encode", "usage: lethe tokenizer encode "
                           "--tokenizer FILE --text TEXT\nPrint the token ids "
                           "of a text.", opts, CLI_NOPTS(opts), argc,
                           argv);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (!path || !text) {
        fprintf(stderr, "lethe tokenizer encode: --tokenizer and --text are "
                "required\n");
        return 2;
    }
    lt_tokenizer *t = NULL;
    int32_t *ids = NULL;
    size_t n = 0;
    if (lt_tokenizer_load(path, &t) != LT_OK ||
        (special ? lt_tokenizer_encode_special(t, text, strlen(text), &ids, &n)
                 : lt_tokenizer_encode(t, text, strlen(text), &ids, &n))
            != LT_OK) {
        lt_tokenizer_free(t);
        return cli_fail("tokenizer encode", NULL);
    }
    for (size_t i = 0; i < n; i++)
        printf("%s%d", i ? " " : "", ids[i]);
    printf("\n");
    for (size_t i = 0; tokens && i < n; i++) {
        size_t len = 0;
        const char *s = lt_tokenizer_token(t, ids[i], &len);
        printf("%d\t'%.*s'\n", ids[i], (int)len, s ? s : "");
    }
    char *back = NULL;
    size_t blen = 0;
    if (decode && lt_tokenizer_decode(t, ids, n, &back, &blen) != LT_OK)
        rc = cli_fail("tokenizer encode", "--decode");
    else if (decode)
        printf("decoded: %.*s\n", (int)blen, back);
    free(back);
    fprintf(stderr, "%zu tokens\n", n);
    free(ids);
    lt_tokenizer_free(t);
    return rc;
}

int cli_tokenizer(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fprintf(argc < 2 ? stderr : stdout, "%s\n", cli_tok_usage);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "train"))
        return cli_tok_train(argc - 1, argv + 1);
    if (!strcmp(argv[1], "encode"))
        return cli_tok_encode(argc - 1, argv + 1);
    fprintf(stderr, "lethe tokenizer: unknown subcommand '%s'\n%s\n", argv[1],
            cli_tok_usage);
    return 2;
}
