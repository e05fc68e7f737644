/*
 * dp.c - the reducer of data-parallel training steps (lethe/train.h,
 * docs/mpi.md). A batch is cut into shards; every rank computes the
 * gradients of its shards, one at a time, each from zeroed gradients and
 * from the batch-norm running statistics of the step's start, and keeps
 * them in a slot (gradient, buffers, a few values such as the loss). Then
 * one collective combines every shard's slot: an MPI_Allreduce sum
 * (LT_DIST_SUM) or an all-gather summed in shard order (LT_DIST_ORDERED,
 * the same bits for any number of ranks). Without MPI the shards run in
 * turn in this one process. With overlap (one shard per rank, sum), the
 * gradient's buckets are summed by nonblocking all-reduces that start
 * during the shard's backward pass, as the autograd hook reports the
 * parameters finished (lt_ctx_set_grad_hook).
 */
#include "lethe/train.h"

#include <stdlib.h>
#include <string.h>

struct lt_dp {
    lt_dist_mode mode;
    int shards, first, count;
    int64_t nt, nb, n;   /* trainable, buffer and slot floats */
    float *slots;        /* [count][n] */
    float *all;          /* [shards][n] (ordered) or [n] (sum) */
    float *buf0;         /* the buffers at the start of the step */
    /* overlap (lt_dp_enable_overlap): bucket b holds gradient floats
     * [b * bucket, (b + 1) * bucket) */
    int64_t bucket;      /* 0: no overlap */
    int nbk, next;       /* buckets; the next to start (counting down) */
    int *pending;        /* per bucket: watched tensors not yet final */
    float *grad, gw;     /* the watched step's gradient and its weight */
    lt_ctx *c;           /* the watched context (NULL: not watching) */
    bool summed;         /* this step's gradient is already summed */
    lt_status err;       /* the first error of a nonblocking sum */
};

lt_dp *lt_dp_new(const lt_params *ps, lt_dist_mode mode, int shards,
                 int batch)
{
    int size = lt_dist_size(), s = shards ? shards : size;
    if (mode == LT_DIST_OFF || s < 1 || s % size || s > batch) {
        lt_set_error(LT_ERR_ARG, "data parallel: %d shards do not split a "
                     "batch of %d over %d ranks (a multiple of the ranks, "
                     "at most the batch)", s, batch, size);
        return NULL;
    }
    lt_dp *dp = calloc(1, sizeof *dp);
    if (!dp) {
        lt_set_error(LT_ERR_NOMEM, "data parallel: state");
        return NULL;
    }
    dp->mode = mode;
    dp->shards = s;
    dp->count = s / size;
    dp->first = lt_dist_rank() * dp->count;
    dp->nt = ps->n_train;
    dp->nb = ps->n_total - dp->nt;
    dp->n = dp->nt + dp->nb + LT_DP_VALS;
    size_t slot = (size_t)dp->n * sizeof(float);
    dp->slots = malloc(slot * (size_t)dp->count);
    dp->all = malloc(slot * (mode == LT_DIST_ORDERED ? (size_t)s : 1));
    dp->buf0 = malloc(dp->nb ? (size_t)dp->nb * sizeof(float) : 1);
    if (!dp->slots || !dp->all || !dp->buf0) {
        lt_dp_free(dp);
        lt_set_error(LT_ERR_NOMEM, "data parallel: %d slots of %lld floats",
                     s, (long long)dp->n);
        return NULL;
    }
    return dp;
}

void lt_dp_free(lt_dp *dp)
{
    if (!dp)
        return;
    free(dp->slots);
    free(dp->all);
    free(dp->buf0);
    free(dp->pending);
    free(dp);
}

int lt_dp_local(const lt_dp *dp, int *first)
{
    *first = dp->first;
    return dp->count;
}

void lt_dp_range(const lt_dp *dp, int s, int64_t b, int64_t *lo, int64_t *hi)
{
    *lo = b * s / dp->shards;
    *hi = b * (s + 1) / dp->shards;
}

lt_status lt_dp_gather(const lt_dp *dp, int64_t slot, lt_dp_fill_fn fill,
                       void *ud, float *all)
{
    if (!dp || !fill || !all || slot < 0)
        return lt_set_error(LT_ERR_ARG, "lt_dp_gather: NULL input or slot "
                            "%lld", (long long)slot);
    float *mine = calloc((size_t)(dp->count * slot + 1), sizeof *mine);
    lt_status st = mine ? LT_OK : lt_set_error(LT_ERR_NOMEM, "lt_dp_gather: "
                                               "%d x %lld floats", dp->count,
                                               (long long)slot);
    for (int j = 0; st == LT_OK && j < dp->count; j++)
        st = fill(ud, dp->first + j, mine + j * slot);
    if (st == LT_OK)
        st = lt_dist_allgather(mine, all, (size_t)(dp->count * slot) *
                               sizeof *mine);
    free(mine);
    return st;
}

void lt_dp_shard_begin(lt_dp *dp, lt_params *ps, int j)
{
    float *buf = ps->theta + dp->nt;
    size_t bytes = (size_t)dp->nb * sizeof(float);
    if (j == 0)
        memcpy(dp->buf0, buf, bytes);
    else
        memcpy(buf, dp->buf0, bytes);
    lt_params_zero_grad(ps);
}

lt_status lt_dp_enable_overlap(lt_dp *dp, int64_t bucket)
{
    if (dp->mode != LT_DIST_SUM || dp->count != 1)
        return lt_set_error(LT_ERR_ARG, "data parallel: overlapping the "
                            "all-reduce with backward needs the sum reduction "
                            "and one shard per rank (here %s, %d per rank)",
                            dp->mode == LT_DIST_SUM ? "sum" : "ordered",
                            dp->count);
    dp->bucket = bucket > 0 ? bucket : LT_DP_BUCKET_FLOATS;
    dp->nbk = (int)((dp->nt + dp->bucket - 1) / dp->bucket);
    if (dp->nbk > LT_DIST_MAX_ISUM)
        return lt_set_error(LT_ERR_ARG, "data parallel: %d buckets of %lld "
                            "floats (at most %d)", dp->nbk,
                            (long long)dp->bucket, LT_DIST_MAX_ISUM);
    free(dp->pending);
    dp->pending = calloc((size_t)(dp->nbk ? dp->nbk : 1), sizeof(int));
    if (!dp->pending) {
        dp->bucket = 0;
        return lt_set_error(LT_ERR_NOMEM, "data parallel: %d buckets",
                            dp->nbk);
    }
    return LT_OK;
}

/* Start the sum of bucket b (times the shard's weight). */
static void dp_start(lt_dp *dp, int b)
{
    int64_t lo = b * dp->bucket, hi = lo + dp->bucket;
    if (hi > dp->nt)
        hi = dp->nt;
    if (dp->gw != 1.0f)
        for (int64_t i = lo; i < hi; i++)
            dp->grad[i] *= dp->gw;
    lt_status st = lt_dist_isum_start(dp->grad + lo, hi - lo);
    if (st != LT_OK && dp->err == LT_OK)
        dp->err = st;
}

/* Start, in order, the buckets whose gradients are final. */
static void dp_start_ready(lt_dp *dp)
{
    while (dp->next >= 0 && dp->pending[dp->next] == 0)
        dp_start(dp, dp->next--);
    lt_status st = lt_dist_isum_progress();
    if (st != LT_OK && dp->err == LT_OK)
        dp->err = st;
}

/* The autograd hook: counts the parameter tensors of every bucket that
 * backward will finish, then starts buckets as they are finished. */
static void dp_grad_event(void *ud, lt_tensor *t, lt_grad_event ev)
{
    lt_dp *dp = ud;
    uintptr_t g = (uintptr_t)dp->grad, p = (uintptr_t)t->grad;
    if (p < g || p >= g + (uintptr_t)dp->nt * sizeof(float))
        return; /* not this model's gradient */
    int64_t lo = (int64_t)((p - g) / sizeof(float)), hi = lo + t->numel;
    int b1 = (int)((hi - 1) / dp->bucket);
    for (int b = (int)(lo / dp->bucket); b <= b1 && b < dp->nbk; b++)
        dp->pending[b] += ev == LT_GRAD_EXPECTED ? 1 : -1;
    if (ev == LT_GRAD_FINAL)
        dp_start_ready(dp);
}

void lt_dp_watch(lt_dp *dp, const lt_params *ps, lt_ctx *c, float gw)
{
    if (!dp->bucket)
        return;
    memset(dp->pending, 0, (size_t)dp->nbk * sizeof(int));
    dp->next = dp->nbk - 1;
    dp->grad = ps->grad;
    dp->gw = gw;
    dp->c = c;
    lt_ctx_set_grad_hook(c, dp_grad_event, dp);
}

/* After a watched backward: the buckets not started yet (in order), then
 * the wait; the gradient is then the weighted sum over the ranks. */
static void dp_finish_watch(lt_dp *dp)
{
    lt_ctx_set_grad_hook(dp->c, NULL, NULL);
    dp->c = NULL;
    while (dp->next >= 0)
        dp_start(dp, dp->next--);
    lt_status st = lt_dist_isum_wait();
    if (st != LT_OK && dp->err == LT_OK)
        dp->err = st;
    dp->summed = true;
}

void lt_dp_shard_end(lt_dp *dp, const lt_params *ps, int j, float gw,
                     float bw, const float *vals)
{
    float *slot = dp->slots + (int64_t)j * dp->n;
    const float *g = ps->grad, *buf = ps->theta + dp->nt;
    if (dp->c) { /* watched: already weighted and summed */
        dp_finish_watch(dp);
        gw = 1.0f;
    }
    if (gw == 1.0f)
        memcpy(slot, g, (size_t)dp->nt * sizeof(float));
    else
        for (int64_t i = 0; i < dp->nt; i++)
            slot[i] = g[i] * gw;
    for (int64_t i = 0; i < dp->nb; i++)
        slot[dp->nt + i] = buf[i] * bw;
    memcpy(slot + dp->nt + dp->nb, vals, LT_DP_VALS * sizeof(float));
}

/* dst += src over n floats. */
static void lt_dp_add(float *dst, const float *src, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        dst[i] += src[i];
}

lt_status lt_dp_reduce(lt_dp *dp, lt_params *ps, float *vals)
{
    size_t slot = (size_t)dp->n * sizeof(float);
    lt_status st;
    if (dp->mode == LT_DIST_ORDERED) { /* every shard, summed in order */
        st = lt_dist_allgather(dp->slots, dp->all, slot * (size_t)dp->count);
        for (int j = 1; st == LT_OK && j < dp->shards; j++)
            lt_dp_add(dp->all, dp->all + (int64_t)j * dp->n, dp->n);
    } else { /* this rank's shards in order, then MPI's sum of the ranks */
        memcpy(dp->all, dp->slots, slot);
        for (int j = 1; j < dp->count; j++)
            lt_dp_add(dp->all, dp->slots + (int64_t)j * dp->n, dp->n);
        int64_t from = dp->summed ? dp->nt : 0; /* overlapped: the rest */
        st = lt_dist_allreduce_sum(dp->all + from, dp->n - from);
    }
    dp->summed = false;
    if (st == LT_OK && dp->err != LT_OK) {
        st = dp->err;
        dp->err = LT_OK;
    }
    if (st != LT_OK)
        return st;
    memcpy(ps->grad, dp->all, (size_t)dp->nt * sizeof(float));
    memcpy(ps->theta + dp->nt, dp->all + dp->nt,
           (size_t)dp->nb * sizeof(float));
    memcpy(vals, dp->all + dp->nt + dp->nb, LT_DP_VALS * sizeof(float));
    return LT_OK;
}
