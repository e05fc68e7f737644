/*
 * lethe/train.h - the supervised training loop for classifiers and their
 * evaluation (loss, accuracy, logits). The loop reports progress through a
 * callback (library code never prints).
 */
#ifndef LETHE_TRAIN_H
#define LETHE_TRAIN_H

#include "lethe/data.h"
#include "lethe/dist.h"
#include "lethe/models.h"
#include "lethe/optim.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int epoch, epochs;
    int64_t step, steps;    /* within the epoch */
    double loss;            /* running mean of the epoch's loss */
    double test_acc;        /* at epoch end (NAN before) */
    bool epoch_end;
} lt_train_event;

typedef struct {
    lt_optim_config optim;
    lt_schedule sched;      /* base_lr, warm-up; total / milestones filled
                               from epochs when zero */
    int epochs, batch;
    float clip;             /* max gradient norm; 0: no clipping */
    uint64_t seed;
    lt_augment aug;
    size_t arena_bytes;     /* 0: sized from the model and batch */
    /* Data parallelism (docs/mpi.md): with dist != LT_DIST_OFF every batch
     * is cut into `shards` equal parts (0: one per rank; a multiple of the
     * number of ranks), each rank computes the gradients of its parts and
     * the ranks combine them (the mean over the whole batch) before every
     * step. One rank with shards > 1 computes the parts in turn: the same
     * bits as that many ranks in LT_DIST_ORDERED. */
    lt_dist_mode dist;
    int shards;
    bool dp_overlap;        /* sum the gradient in buckets during backward
                               (lt_dp_enable_overlap; LT_DIST_SUM, one
                               shard per rank) */
    lt_precision precision; /* of the run's matrix products (core.h): 0,
                               LT_PRECISION_DEFAULT, the process default */
    void (*progress)(void *ud, const lt_train_event *ev);
    void *ud;
} lt_train_cfg;

typedef struct {
    double train_loss, test_loss, test_acc, seconds;
    size_t arena_peak;
} lt_train_report;

/* What `lethe train --json` records of a run: the run-time figures that
 * are kept out of the checkpoint (so the same command gives the same
 * bytes), beside the settings that identify it. */
typedef struct {
    const char *command, *model, *data, *out, *commit, *version;
    uint64_t seed;
    int epochs, threads;
    lt_precision precision; /* the run's (0: the process default) */
    const lt_train_report *report;
} lt_train_record;

/* Write r as a JSON object to path atomically (LT_ERR_IO naming path). */
LT_API lt_status lt_train_save_json(const char *path, const lt_train_record *r);

/* Arena bytes for one training step of m at this batch size: activations
 * are a few times the batch times the widest layer; the bound is generous
 * and the arena itself reports exhaustion. */
LT_API size_t lt_arena_bytes_for(const lt_model *m, int batch);

/* ---- data parallelism (docs/mpi.md) --------------------------------------
 * The reducer behind lt_train_cfg.dist, for any loop that trains the
 * flat parameters ps of a model (trainable, then buffers: lethe/nn.h): a
 * step calls, for each of this rank's shards j (lt_dp_local), shard_begin,
 * forward and backward of the shard's items (lt_dp_range), shard_end; then
 * lt_dp_reduce leaves in ps the combined gradient, the shards' buffers
 * (batch-norm running statistics) weighted by bw, and the sums of the
 * shards' values (e.g. their share of the loss). Every rank then takes the
 * same step. */
typedef struct lt_dp lt_dp;
#define LT_DP_VALS 4

/* A reducer for ps with batches of `batch` items cut into `shards` (0: one
 * per rank; a multiple of the ranks, at most batch); NULL with LT_ERR_ARG
 * or LT_ERR_NOMEM set. */
LT_API lt_dp *lt_dp_new(const lt_params *ps, lt_dist_mode mode, int shards,
                        int batch);
LT_API void lt_dp_free(lt_dp *dp);
/* This rank's shard count; its first shard into *first. */
LT_API int lt_dp_local(const lt_dp *dp, int *first);
/* Items [*lo, *hi) of a batch of b that shard s holds (may be empty). */
LT_API void lt_dp_range(const lt_dp *dp, int s, int64_t b, int64_t *lo,
                        int64_t *hi);
/* Shard-wise values gathered to every rank, for losses that take the
 * whole batch at once (UM2N's Chamfer term, CLIP's InfoNCE): fill(ud, s,
 * out) writes at most slot floats of this rank's shard s into out (zeroed
 * beforehand); after the call, all[q * slot, (q + 1) * slot) holds shard
 * q's, for every shard q of every rank (all: shards * slot floats). One
 * all-gather; every rank must call it. A fill error stops the call before
 * the collective (on this rank only: the caller agrees on errors). */
typedef lt_status (*lt_dp_fill_fn)(void *ud, int s, float *out);
LT_API lt_status lt_dp_gather(const lt_dp *dp, int64_t slot, lt_dp_fill_fn fill,
                              void *ud, float *all);
/* Before this rank's j-th shard: the buffers of the step's start (recorded
 * at j == 0), zero gradients. */
LT_API void lt_dp_shard_begin(lt_dp *dp, lt_params *ps, int j);
/* After its backward: gradient times gw, buffers times bw and
 * vals[0, LT_DP_VALS) into the shard's slot. */
LT_API void lt_dp_shard_end(lt_dp *dp, const lt_params *ps, int j,
                            float gw, float bw, const float *vals);
/* The collective (every rank, once per step): the sums over all shards
 * into ps's gradient, ps's buffers and vals. */
LT_API lt_status lt_dp_reduce(lt_dp *dp, lt_params *ps, float *vals);

/* Overlap of the collective with backward (docs/mpi.md), for loops whose
 * shard is one backward pass: the gradient is summed over the ranks in
 * buckets of `bucket` floats (0: LT_DP_BUCKET_FLOATS), each started as
 * soon as backward has finished every parameter in it, from the last
 * bucket to the first on every rank. enable (once, after lt_dp_new) needs
 * LT_DIST_SUM and one shard per rank (LT_ERR_ARG otherwise). Then, each
 * step, lt_dp_watch(dp, ps, c, gw) after shard_begin and before the
 * shard's backward on c, with the gw that shard_end will get; shard_end
 * waits for the sums and lt_dp_reduce sums only the rest (buffers,
 * values). Errors of the sums come back from lt_dp_reduce. Without
 * enable, lt_dp_watch does nothing. */
#define LT_DP_BUCKET_FLOATS (1 << 18)
LT_API lt_status lt_dp_enable_overlap(lt_dp *dp, int64_t bucket);
LT_API void lt_dp_watch(lt_dp *dp, const lt_params *ps, lt_ctx *c,
                        float gw);

/* Train m on tr (te may be NULL; else evaluated after every epoch).
 * Returns 0, or non-zero with the error set (NaN loss, arena...). */
LT_API int lt_train_classifier(lt_model *m, const lt_dataset *tr,
                               const lt_dataset *te, const lt_train_cfg *cfg,
                               lt_train_report *rep);

/* Load checkpoint model and the n splits ("train", "test") of dataset
 * data into sets[0..n), and check the data fits the model (input shape
 * and classes: LT_ERR_SHAPE naming both). On error nothing is left
 * allocated. */
LT_API lt_status lt_model_open(const char *model, const char *data,
                               const char *const *splits, int n,
                               lt_model **m, lt_dataset *sets);

/* Mean cross-entropy and accuracy (%) of m (eval mode) on d. logits, when
 * non-NULL, receives [d->n, classes]. */
LT_API lt_status lt_evaluate(lt_model *m, const lt_dataset *d, int batch,
                             double *loss, double *acc, float *logits);

#ifdef __cplusplus
}
#endif
#endif
