/*
 * bench_util.h - private helpers of the protocol layer (src/bench): cache
 * keys, news through the progress callback, file checks and the
 * adapters that forward training events to a protocol's callback.
 */
#ifndef LETHE_BENCH_UTIL_H
#define LETHE_BENCH_UTIL_H

#include "lethe/bench.h"

#include <stdint.h>

/* FNV-1a over n bytes continuing from h (start: LT_FNV_INIT), and over a
 * string: the keys of cached models. */
#define LT_FNV_INIT 1469598103934665603ull
uint64_t lt_bench_fnv_bytes(uint64_t h, const void *p, size_t n);
uint64_t lt_bench_fnv(const char *s);
/* The part of a cached model's key that names the precision of the run
 * under way (lt_default_precision(): a lt_bench_* run sets it from its
 * config): "" for fp32, so fp32 keys did not change when bf16 came, and
 * "|bf16" for bf16, so neither precision is handed the other's models. lt_bench_fnv_precision(h) continues h with it. */
const char *lt_bench_precision_key(void);
uint64_t lt_bench_fnv_precision(uint64_t h);

/* One line of news to progress (printf-style; nothing if progress NULL). */
void lt_bench_note(lt_bench_progress progress, void *ud, const char *fmt,
                   ...) __attribute__((format(printf, 3, 4)));

/* r's setting key, or NULL. */
const lt_report_setting *lt_report_setting_of(const lt_report *r,
                                              const char *key);
/* A copy of s kept with r (r->owned, freed by lt_report_free), or NULL
 * when out of memory: the column names of a report read from a file. */
const char *lt_report_keep(lt_report *r, const char *s);
void lt_report_owned_free(void *owned);

/* path exists. */
bool lt_bench_exists(const char *path);
/* Continue *h with every byte of the file at path (the key of a row that
 * depends on a file's content, not just its name). */
lt_status lt_bench_fnv_file(uint64_t *h, const char *path);

/* The classifiers of an attack on concept ("object:NAME", "style:NAME" or
 * "mark"; src/bench/dm_attack.c): the given detector or the axis's
 * committed evaluator; the given judge, else the axis's committed
 * independent judge when the detector is the committed one, else the
 * detector. */
void lt_bench_attack_classifiers(const char *concept, const char *detector,
                                 const char *judge, const char **det_out,
                                 const char **judge_out);

/* Forwards lt_lm_train / lt_llm_unlearn / lt_train / lt_unlearn_run events
 * to a protocol callback as LT_BENCH_LM / LLM / TRAIN / UNLEARN events
 * labelled label. */
typedef struct {
    lt_bench_progress progress;
    void *ud;
    const char *label;
} lt_bench_fwd;
void lt_bench_fwd_lm(void *ud, const lt_lm_event *ev);
void lt_bench_fwd_llm(void *ud, const lt_llm_event *ev);
void lt_bench_fwd_train(void *ud, const lt_train_event *ev);
void lt_bench_fwd_unlearn(void *ud, const lt_unlearn_event *ev);

/* The recipe of the LLM protocols' reference models (lm_ref.c). */
typedef struct {
    const char *config;      /* model preset */
    int epochs, batch;
    float lr;                /* peak rate */
    uint64_t seed;
} lt_bench_lm_recipe;
lt_lm_train_cfg lt_bench_lm_train_cfg(const lt_bench_lm_recipe *r,
                                      const lt_tokenizer *t, int64_t n);
/* A fresh, seeded model of the preset for tokenizer t; window > 0 must fit
 * its context. */
lt_status lt_bench_lm_new(const lt_bench_lm_recipe *r, const lt_tokenizer *t,
                          int window, lt_llama **m);
/* Train m on d (progress through fwd), then save it to out with t beside
 * it. */
lt_status lt_bench_lm_fit(const lt_bench_lm_recipe *r, lt_llama *m,
                          const lt_tokenizer *t, const lt_lm_data *d,
                          lt_bench_fwd *fwd, const char *out,
                          lt_lm_report *rep);

/* The settings every report carries: command, commit, threads, and the
 * precision (of the run under way: lt_default_precision()) and backend of
 * the matrix products. */
lt_status lt_bench_common_settings(lt_report *r, const char *command);

#endif
