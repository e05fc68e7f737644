/*
 * common.h - helpers shared by the command files (see common.c).
 */
#ifndef LETHE_CLI_COMMON_H
#define LETHE_CLI_COMMON_H

#include "lethe/lethe.h"

#include "cli/args.h"

#include <cjson/cJSON.h>
#include <stdio.h>

/* Load checkpoint model and the n splits of data ("train", "test") into
 * sets[0..n); check the data fits the model. 0, or an exit status with
 * the message printed (nothing left allocated). */
int lt_cli_open(const char *cmd, const char *model, const char *data,
                const char *const *splits, int n, lt_model **m,
                lt_dataset *sets);
/* "lethe ARGS..." for result files. */
void lt_cli_join_args(int argc, char **argv, char *buf, size_t n);
/* Logits [d->n, K] of m on d (eval mode), or NULL (error set). */
float *lt_cli_logits(lt_model *m, const lt_dataset *d);
/* The metrics from precomputed train logits ltr and test logits lte (K
 * classes). Thread-safe (callable from parallel loops). 0, or 1 with the
 * message printed. */
int lt_cli_metrics_from(const char *cmd, const float *ltr, const float *lte,
                        int k, const lt_dataset *tr, const lt_dataset *te,
                        const lt_forget_set *f, lt_unlearn_metrics *out);
/* UA, RA, TA and MIA-efficacy (%) of m for forget set f of tr; te is the
 * test split. 0, or 1 with the message printed. */
int lt_cli_unlearn_metrics(const char *cmd, lt_model *m, const lt_dataset *tr,
                           const lt_dataset *te, const lt_forget_set *f,
                           lt_unlearn_metrics *out);

/* The augmentation named by --augment auto|none|crop|crop+flip for d
 * ("auto": crop with 4 px padding and flips on colour images, 2 px crop on
 * grey ones). 0, or 2 with the message printed. */
int lt_cli_augment(const char *cmd, const char *spec, const lt_dataset *d,
                   lt_augment *out);

/* Write text to path atomically (temp file, then rename). 0, or 1 with
 * the message printed. */
int lt_cli_write_text(const char *path, const char *text);
/* "none", "saliency:0.5", ... */
void lt_cli_mask_text(const lt_mask_spec *s, char *buf, size_t n);

/* s ends with suffix. */
bool lt_cli_ends_with(const char *s, const char *suffix);
/* The tokenizer stored beside a checkpoint: M's stem + ".tokenizer.json"
 * for a .safetensors file, M/tokenizer.json for a Hugging Face folder. */
void lt_cli_lm_tok_path(const char *model, char *buf, size_t n);
/* Load a language model and its tokenizer (tok NULL: beside the model)
 * and check their vocabularies agree; cmd ("lm score") prefixes errors.
 * 0, or 1 with the message printed (nothing left allocated). */
int lt_cli_lm_open(const char *cmd, const char *model, const char *tok,
                   lt_llama **m, lt_tokenizer **t);
/* FNV-1a over n bytes, continuing from h (start: LT_CLI_FNV_INIT), and
 * over a string: cache keys. */
#define LT_CLI_FNV_INIT 1469598103934665603ull
uint64_t lt_cli_fnv_bytes(uint64_t h, const void *p, size_t n);
uint64_t lt_cli_fnv(const char *s);
/* mkdir -p; 0, or 1 with the message printed. */
int lt_cli_mkdirs(const char *dir);
/* The records of the comma-separated TOFU files of list, in order. 0, or
 * 1 with the message printed (out left empty). */
int lt_cli_tofu_load_list(const char *cmd, const char *list, lt_tofu_set *out);
/* key: v, or null when v is NaN (a value not measured). */
void lt_cli_json_num(cJSON *o, const char *key, double v);
/* Print root to path atomically and delete it. 0, or 1 with the message
 * printed. */
int lt_cli_write_json(const char *path, cJSON *root);
/* A table printer: ctx is the benchmark, md selects Markdown. */
typedef void (*lt_cli_printer)(FILE *f, const void *ctx, const char *title,
                               bool md);
/* What print writes in Markdown, to path atomically. 0, or 1. */
int lt_cli_write_markdown(const char *path, lt_cli_printer print,
                          const void *ctx, const char *title);
/* Item i (0-based) of a comma list into buf; false past the end. */
bool lt_cli_list_item(const char *list, int i, char *buf, size_t n);
/* The rate given for method in spec "m=v,m2=v2": 1 (set), 0 (not listed),
 * -1 (malformed). */
int lt_cli_lr_spec(const char *spec, const char *method, float *lr);
/* A progress bar for lt_lm_train (cfg.progress / cfg.ud = &ui). */
typedef struct {
    lt_progress bar;
    bool started;
    char label[128];
} lt_cli_lm_ui;
void lt_cli_lm_progress(void *ud, const lt_lm_event *ev);
/* The same bar for lt_llm_unlearn (cfg.progress / cfg.ud = &ui). */
void lt_cli_llm_progress(void *ud, const lt_llm_event *ev);
/* "lethe CMD: WHAT: <last error>" on stderr (what may be NULL); returns 1. */
int lt_cli_fail(const char *cmd, const char *what);
#endif
