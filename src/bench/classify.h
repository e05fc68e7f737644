/*
 * classify.h - internal to the classification protocols (classify.c,
 * classify_worst.c): the state of a run, its table's columns, and the
 * steps lt_bench_worst_case shares with lt_bench_classify (open the data
 * and the original model, the settings, one table over the seeds, close).
 */
#ifndef LT_BENCH_CLASSIFY_H
#define LT_BENCH_CLASSIFY_H

#include "bench/bench_util.h"
#include "lethe/bench.h"
#include "lethe/methods.h"
#include "lethe/metrics.h"

#include <stdbool.h>
#include <stdint.h>

/* The columns of the table (lt_cls_cols, classify.c). */
enum { C_LABEL, C_METHOD, C_LR, C_UA, C_RA, C_TA, C_MIA, C_GAP, C_RTE,
       C_N };
extern const lt_table_col lt_cls_cols[C_N];

/* One model's outputs waiting for their metrics. */
typedef struct {
    char label[48], method[24];
    float lr;
    double rte;
    bool cached;          /* retrain from the cache: m is already known */
    char error[160];      /* a failed (diverged) run: its message */
    float *ltr, *lte;     /* train and test logits */
    int classes;          /* their columns (BE's K+1-way model: K + 1) */
    lt_unlearn_metrics m;
    lt_status st;
    char why[200];        /* the metrics' error */
    bool remote;          /* another rank's run: filled in by lt_cls_share */
    int owner;            /* the rank that runs it */
    uint64_t key;         /* its file in <cache>/runs (0: Retrain's cache) */
} lt_cls_job;

#define LT_CLS_MAX_JOBS 64

typedef struct {
    const lt_bench_classify_cfg *c;
    lt_method_kind ks[LT_METHOD_COUNT];
    int nk;
    lt_dataset tr, te;
    lt_model *orig, *work;
    uint64_t orig_key;
    char orig_path[1024], retrain_stem[1100];
    bool retrain_fresh;   /* save Retrain's metrics after the flush */
    lt_table *table;
    lt_cls_job jobs[LT_CLS_MAX_JOBS];
    int n_jobs;
    const char *forget;   /* the forget spec of the table being run */
    int64_t unit;         /* runs claimed so far (their owners: bench_dist.h) */
    uint64_t seed, fhash; /* the seed being run, hash of its forget set */
    char row[96];         /* the run under way (for a failure's message) */
} lt_cls;

#define NOTE(b, ...) lt_bench_note((b)->c->progress, (b)->c->ud, __VA_ARGS__)

/* Check c, load the data and the original model into a new *out (closed
 * with lt_cls_close even on failure). */
lt_status lt_cls_open(const lt_bench_classify_cfg *c, lt_cls **out);
void lt_cls_close(lt_cls *b);
/* The run's settings into r. */
lt_status lt_cls_settings(const lt_cls *b, lt_report *r);
/* A table titled title of b->forget's runs over the seeds, into r. */
lt_status lt_cls_table(lt_cls *b, lt_report *r, const char *title);

#endif
