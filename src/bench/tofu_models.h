/*
 * tofu_models.h - the data and the two trained models lt_bench_tofu starts
 * from (see tofu_models.c), private to the protocol layer.
 */
#ifndef LETHE_BENCH_TOFU_MODELS_H
#define LETHE_BENCH_TOFU_MODELS_H

#include "lethe/bench.h"

typedef struct {
    char dir[1024];          /* the data files (see tofu_models.c) */
    char full_model[1100];   /* .safetensors, tokenizer beside it */
    char retain_model[1100];
    double train_seconds;    /* training time this call (0: all cached) */
} lt_tofu_setup;

/* Build or reuse the data and both models of c. */
lt_status lt_tofu_setup_run(const lt_bench_tofu_cfg *c, lt_tofu_setup *out);

/* dir/name into buf. */
void lt_tofu_path(const lt_tofu_setup *s, const char *name, char *buf,
                  size_t n);

#endif
