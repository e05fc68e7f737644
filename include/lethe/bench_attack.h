/*
 * lethe/bench_attack.h - the attack table (`lethe bench attack`,
 * src/bench/attack.c): for every model (the original and the unlearned
 * ones, each with its own text encoder), every FashionCanvas concept and
 * every attack (UnlearnDiff, random prefixes, P4D; lethe/dm_attack.h),
 * attack the concept's prompts with lt_bench_dm_attack and report pre-ASR
 * and ASR with 95% Wilson intervals by the judge (the second, independent
 * classifier when one is given), the in-loop detector's ASR, the mean
 * tries and the time per attacked prompt.
 *
 * Every attack has the same tries (the schedule's n_t timesteps) and sees
 * the same prompts at the same seeds. The original model (the one before
 * unlearning) gives every attack its target images and P4D its reference,
 * through its own encoder (original_encoder), while the attacked model is
 * conditioned by its own (an AdvUnlearn model's robust encoder).
 *
 * Each run's per-prompt records (lt_bench_dm_attack's prompts JSON,
 * adversarial prompts and replay commands included) are kept in
 * CACHE/attack-runs/KEY.json, KEY a hash of everything the run depends
 * on; with resume a run whose record exists is not run again. The
 * records of all runs come back as one JSON array (lt_bench_asr's
 * attacks) for the results file.
 *
 * quick: micro models trained into the cache in seconds (a canvas of one
 * picture per class, a tiny text UNet trained base_steps on it with the
 * committed tiny encoder, ESD-x of the first concept, and AdvUnlearn of
 * the first concept, which trains a copy of the encoder: models "esd" and
 * "advunlearn"), 2 prompts per concept, 2 timesteps of 1 step: the whole
 * path for CI, not a measurement.
 */
#ifndef LETHE_BENCH_ATTACK_H
#define LETHE_BENCH_ATTACK_H

#include "lethe/bench.h"

#ifdef __cplusplus
extern "C" {
#endif

struct cJSON;

#define LT_BENCH_ASR_MAX_MODELS 8

/* One unlearned model: a short name (the table's), its UNet file and its
 * encoder (NULL: FILE.clip.safetensors). */
typedef struct {
    const char *name;
    const char *file;
    const char *encoder;
} lt_bench_asr_model;

typedef struct {
    const char *original;         /* the model before unlearning (NULL
                                     only with quick) */
    const char *original_encoder; /* NULL: ORIGINAL.clip.safetensors */
    lt_bench_asr_model models[LT_BENCH_ASR_MAX_MODELS];
    int n_models;
    bool attack_original;         /* rows of the original model (true) */
    const char *concepts;         /* comma list of object:NAME / style:NAME
                                     / mark ("object:bag,style:neon") */
    const char *methods;          /* comma list ("unlearndiff,random,p4d") */
    int n_prompts;                /* per object or style concept (50) */
    int n_mark_prompts;           /* of the mark (142, as the official
                                     nudity set) */
    uint64_t prompt_seed;         /* 1 */
    int k;                        /* 0: 3 */
    const char *object_detector, *style_detector; /* NULL: the committed
                                     evaluators */
    const char *object_judge, *style_judge; /* NULL: the committed
                                     judge with the committed detector,
                                     else the detector (the report says
                                     the judge is not independent) */
    const char *mark_detector, *mark_judge; /* NULL: the committed mark
                                     detector and its independent judge */
    lt_atk_config atk;            /* lt_atk_defaults (method set per run) */
    const char *cache;            /* run records (and quick models); NULL:
                                     "lethe-bench-attack-cache" */
    bool resume;                  /* reuse the run records found */
    bool quick;                   /* the micro models described above */
    const char *quick_encoder;    /* models/fashion-canvas-clip-tiny-v1 */
    const char *base_arch;        /* quick base ("text:xs,ch=8,groups=4,
                                     blocks=1") */
    int64_t base_steps;           /* quick base training steps (8) */
    const char *command;          /* recorded in the report */
    lt_bench_progress progress;
    void *ud;
} lt_bench_asr_cfg;

/* The defaults above (no models, original NULL). */
LT_API lt_bench_asr_cfg lt_bench_asr_defaults(void);
/* The quick setting: quick on, concepts "object:bag", 2 prompts (the
 * mark's too), 2
 * timesteps x 1 step, DDIM-2 generations. */
LT_API void lt_bench_asr_quick(lt_bench_asr_cfg *c);
/* Parse "NAME=FILE" or "NAME=FILE:ENCODER" into m (pointers into spec's
 * copy buf of n bytes). LT_ERR_ARG naming spec otherwise. */
LT_API lt_status lt_bench_asr_model_parse(const char *spec, char *buf,
                                          size_t n, lt_bench_asr_model *m);
/* Every check possible before any work: concepts, methods, counts, an
 * original model unless quick, names unique. */
LT_API lt_status lt_bench_asr_check(const lt_bench_asr_cfg *c);
/* Run the table into out (one row per model x concept x method);
 * *attacks (may be NULL) gets the runs' records: [{model, concept,
 * method, unlearned, encoder, original, original_encoder, record, prompts:
 * [...]}], free with cJSON_Delete. */
LT_API lt_status lt_bench_asr(const lt_bench_asr_cfg *c, lt_report *out,
                              struct cJSON **attacks);

#ifdef __cplusplus
}
#endif
#endif
