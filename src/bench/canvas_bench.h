/*
 * canvas_bench.h - what src/bench/canvas.c (the protocol: targets, answer
 * sets, tables, rows over the ranks) shares with src/bench/canvas_unlearn.c
 * (each method's unlearning of one target): the method and target of a
 * row and the run's state.
 */
#ifndef LETHE_SRC_BENCH_CANVAS_BENCH_H
#define LETHE_SRC_BENCH_CANVAS_BENCH_H

#include "lethe/bench_canvas.h"
#include "lethe/canvas.h"
#include "lethe/clip.h"
#include "lethe/image_metrics.h"

#define NS LT_CANVAS_STYLES
#define NO LT_CANVAS_OBJECTS
#define NP (NS * NO)
#define PIX (3 * LT_CANVAS_SIDE * LT_CANVAS_SIDE)
#define CV_MAX_TARGETS (NS + NO)

typedef enum { CV_ORIGINAL, CV_ESD, CV_FMN, CV_SALUN, CV_FILE } cv_kind;
typedef enum { CV_MASK_NONE, CV_MASK_SALIENCY } cv_mask;

typedef struct {
    char name[LT_TABLE_TEXT];
    cv_kind kind;
    lt_esd_params params;
    cv_mask mask;
    const lt_bench_asr_model *file; /* CV_FILE: the model unlearned
                                       elsewhere */
} cv_method;

typedef struct {
    bool is_style;
    int index;
} cv_target;

typedef struct {
    int64_t n[NP], s[NP], o[NP];
} cv_counts;

typedef struct {
    const lt_bench_canvas_cfg *c;
    char base[1100], enc[1200], canvas[1100];
    lt_unet *u0;
    lt_dm_schedule s;
    lt_clip *clip;
    lt_clip_vocab *v;
    lt_image_classifier ic[2]; /* 0 style, 1 object */
    lt_canvas tr, te;
    int64_t n;                 /* answer-set size: NP * seeds */
    float *ctx, *null_ctx, *x, *probs[2], *feats[2];
    int32_t *sty, *obj, *pred[2];
    lt_fd_stats real[2];
    double floor[2];
    int run;                   /* the run being made (0..runs-1) */
    cv_counts orig[LT_TABLE_MAX_SEEDS]; /* the original's, per run */
    double orig_fd[LT_TABLE_MAX_SEEDS][2];
    bool have_orig[LT_TABLE_MAX_SEEDS];
    lt_table *t;
} cvb;

/* A configured seed as run d->run uses it. */
uint64_t cvb_seed(const cvb *d, uint64_t seed);

/* Method m on u for target t (the SalUn mask pass first when asked). */
lt_status cvb_unlearn(cvb *d, lt_unet *u, const cv_method *m, cv_target t);

/* The answer set's contexts by encoder clip with vocabulary v: ctx
 * [d->n, L, D] (pair-major, seeds per pair) and the empty caption's,
 * null_ctx [L, D]. */
lt_status cvb_contexts(const cvb *d, lt_clip *clip, const lt_clip_vocab *v,
                       float *ctx, float *null_ctx);

/* The encoder file of a model unlearned elsewhere (its own, or
 * FILE.clip.safetensors) into path. */
void cvb_file_encoder(const lt_bench_asr_model *f, char *path, size_t n);

/* An unlearned model's spec: a name, and files that exist. */
lt_status cvb_file_check(const lt_bench_asr_model *f);

/* The model of run d->run of method m on target t in *u: a trained copy
 * of the base (*secs: the unlearning's time), or for CV_FILE the given
 * one with its encoder's contexts in *ctx / *nul (malloc'd) and its
 * encoder's weights against the base's in enc (changed, in tensors that
 * changed, all). */
lt_status cvb_model(cvb *d, const cv_method *m, cv_target t, lt_unet **u,
                    float **ctx, float **nul, int64_t enc[3], double *secs);

/* Weights of p1 that differ from p0 (same layout) and the weights of the
 * tensors that hold them. */
void cvb_delta(const lt_params *p0, const lt_params *p1, int64_t *changed,
               int64_t *touched);

#endif
