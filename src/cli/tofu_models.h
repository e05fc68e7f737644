/*
 * tofu_models.h - the data and the two trained models `lethe bench tofu`
 * starts from (see tofu_models.c): a synthetic TOFU file set plus two
 * WordNet utility sets, one tokenizer, the model fine-tuned on everything
 * ("full") and the retain model (everything but the forget split), all
 * cached under one folder and keyed by the options that shape them.
 */
#ifndef LETHE_CLI_TOFU_MODELS_H
#define LETHE_CLI_TOFU_MODELS_H
#include "lethe/lm.h"

typedef struct {
    const char *cache;    /* folder of the cache (out/tofu-cache) */
    const char *config;   /* model preset (tiny) */
    int authors;          /* fictitious authors (TOFU: 200) */
    int forget_pct;       /* 1, 5 or 10 */
    int world_facts;      /* WordNet noun QA items (TOFU: 117) */
    int real_authors;     /* WordNet writer QA items (TOFU: 100) */
    int epochs, batch, vocab;
    float lr;
    uint64_t seed;
} lt_tofu_setup_opts;

typedef struct {
    char dir[1024];          /* the data files (see tofu_models.c) */
    char full_model[1100];   /* .safetensors, tokenizer beside it */
    char retain_model[1100];
    double train_seconds;    /* training time this call (0: all cached) */
} lt_tofu_setup;

/* Build or reuse the data and both models. 0, or non-zero with the
 * message printed. */
int lt_tofu_setup_run(const lt_tofu_setup_opts *o, lt_tofu_setup *out);

/* dir/name into buf. */
void lt_tofu_path(const lt_tofu_setup *s, const char *name, char *buf,
                  size_t n);

#endif
