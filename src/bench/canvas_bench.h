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

typedef enum { CV_ORIGINAL, CV_ESD, CV_FMN, CV_SALUN } cv_kind;
typedef enum { CV_MASK_NONE, CV_MASK_SALIENCY } cv_mask;

typedef struct {
    char name[LT_TABLE_TEXT];
    cv_kind kind;
    lt_esd_params params;
    cv_mask mask;
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

#endif
