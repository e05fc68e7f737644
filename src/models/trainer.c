/*
 * trainer.c - the supervised training loop of the classifiers (shuffled
 * minibatches, augmentation, cross-entropy, backward, optional clipping, an
 * optimizer step under a learning-rate schedule) and evaluation, and the
 * JSON record of a training run (lt_train_save_json). With cfg->dist set
 * the loop is data-parallel (docs/mpi.md): every rank builds the same
 * batch, computes the gradients of its shards of it, and the ranks combine
 * gradients, batch-norm running statistics and loss in one collective
 * before the (identical) optimizer step on every rank.
 */
#include "lethe/io.h"
#include "lethe/train.h"

#include <cjson/cJSON.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t lt_arena_bytes_for(const lt_model *m, int batch)
{
    size_t px = (size_t)m->in.height * m->in.width;
    size_t widest = 64;
    for (int i = 0; i < 8; i++)
        if ((size_t)m->widths[i] > widest)
            widest = (size_t)m->widths[i];
    if (!strncmp(m->arch, "mlp:", 4))
        px = 1;
    return (size_t)batch * px * widest * sizeof(float) * 48 + ((size_t)64 << 20);
}

lt_status lt_evaluate(lt_model *m, const lt_dataset *d, int batch,
                      double *loss, double *acc, float *logits)
{
    int64_t item = (int64_t)d->c * d->h * d->w, correct = 0;
    double sum = 0;
    lt_ctx *c = lt_ctx_new(lt_arena_bytes_for(m, batch));
    if (!c)
        return lt_last_status();
    lt_set_grad_enabled(c, false);
    lt_status s = LT_OK;
    for (int64_t i = 0; i < d->n && s == LT_OK; i += batch) {
        int64_t b = d->n - i < batch ? d->n - i : batch;
        lt_ctx_reset(c);
        lt_tensor *x = lt_from_data(c, 4, (int64_t[]){b, d->c, d->h, d->w},
                                    d->x + i * item);
        lt_tensor *y = lt_model_forward(c, m, x, false);
        lt_tensor *l = lt_cross_entropy(c, y, d->y + i, LT_REDUCE_SUM);
        if (!l) {
            s = lt_last_status();
            break;
        }
        sum += l->data[0];
        int k = m->in.classes;
        for (int64_t r = 0; r < b; r++) {
            const float *row = y->data + r * k;
            int best = 0;
            for (int j = 1; j < k; j++)
                if (row[j] > row[best])
                    best = j;
            correct += best == d->y[i + r];
        }
        if (logits)
            memcpy(logits + i * k, y->data, (size_t)(b * k) * sizeof(float));
    }
    lt_ctx_free(c);
    if (loss)
        *loss = sum / (double)(d->n ? d->n : 1);
    if (acc)
        *acc = 100.0 * (double)correct / (double)(d->n ? d->n : 1);
    return s;
}

typedef struct {
    lt_ctx *c;
    lt_optim opt;
    float *x;
    int32_t *y;
    int64_t *perm;
    lt_dp *dp;           /* data parallel (cfg->dist), else NULL */
} lt_train_state;

/* Forward and backward of items [lo, hi) of the batch in st->x / st->y,
 * the mean loss over them into *loss (gradients accumulate). */
static int lt_train_grad(lt_train_state *st, lt_model *m, const lt_dataset *tr,
                         int64_t lo, int64_t hi, double *loss)
{
    int64_t item = (int64_t)tr->c * tr->h * tr->w;
    lt_ctx_reset(st->c);
    int64_t shape[4] = {hi - lo, tr->c, tr->h, tr->w};
    lt_tensor *x = lt_from_data(st->c, 4, shape, st->x + lo * item);
    lt_tensor *l = lt_cross_entropy(st->c, lt_model_forward(st->c, m, x, true),
                                    st->y + lo, LT_REDUCE_MEAN);
    if (!l || lt_backward(st->c, l) != LT_OK)
        return 1;
    *loss = l->data[0];
    return 0;
}

/* The gradient of the whole batch on every rank (data parallel): this
 * rank's shards, each's mean loss weighted by its share of the batch,
 * then the collective. */
static int lt_train_dp_step(lt_train_state *st, lt_model *m,
                            const lt_dataset *tr, const lt_train_cfg *cfg,
                            double *loss)
{
    int first, count = lt_dp_local(st->dp, &first);
    for (int j = 0; j < count; j++) {
        int64_t lo, hi;
        double l;
        lt_dp_range(st->dp, first + j, cfg->batch, &lo, &hi);
        /* the shard's share of the batch mean (exact for 2^k shards) */
        float w = (float)((double)(hi - lo) / (double)cfg->batch);
        lt_dp_shard_begin(st->dp, &m->params, j);
        lt_dp_watch(st->dp, &m->params, st->c, w);
        if (lt_train_grad(st, m, tr, lo, hi, &l))
            return 1;
        float vals[LT_DP_VALS] = {(float)l * w, 0};
        lt_dp_shard_end(st->dp, &m->params, j, w, w, vals);
    }
    float vals[LT_DP_VALS] = {0};
    if (lt_dp_reduce(st->dp, &m->params, vals) != LT_OK)
        return 1;
    *loss = vals[0];
    return 0;
}

static int lt_train_step(lt_train_state *st, lt_model *m, const lt_dataset *tr,
                         const lt_train_cfg *cfg, float lr, double *loss)
{
    if (cfg->dist == LT_DIST_OFF ? lt_train_grad(st, m, tr, 0, cfg->batch, loss)
                                 : lt_train_dp_step(st, m, tr, cfg, loss))
        return 1;
    if (cfg->clip > 0 &&
        isnan(lt_clip_grad_norm(m->params.grad, m->params.n_train, cfg->clip))) {
        lt_set_error(LT_ERR_NAN, "gradient norm is not finite");
        return 1;
    }
    if (lt_optim_step(&st->opt, m->params.theta, m->params.grad, NULL, lr))
        return 1;
    lt_params_zero_grad(&m->params);
    return 0;
}

static int lt_train_epoch(lt_train_state *st, lt_model *m,
                          const lt_dataset *tr, const lt_train_cfg *cfg,
                          const lt_schedule *sched, int epoch, double *mean)
{
    int64_t steps = tr->n / cfg->batch;
    lt_rng aug;
    lt_rng_init(&aug, cfg->seed * 7919u + (uint64_t)epoch);
    lt_permutation(st->perm, tr->n, cfg->seed * 1000003u + (uint64_t)epoch);
    double sum = 0;
    for (int64_t s = 0; s < steps; s++) {
        lt_dataset_batch(tr, st->perm + s * cfg->batch, cfg->batch, st->x,
                         st->y, &cfg->aug, &aug);
        float lr = lt_schedule_lr(sched, (int64_t)(epoch - 1) * steps + s);
        double l;
        if (lt_train_step(st, m, tr, cfg, lr, &l))
            return 1;
        sum += l;
        if (cfg->progress) {
            lt_train_event ev = {epoch, cfg->epochs, s + 1, steps,
                                 sum / (double)(s + 1), NAN, false};
            cfg->progress(cfg->ud, &ev);
        }
    }
    *mean = sum / (double)(steps ? steps : 1);
    return 0;
}

static int lt_train_classifier_body(lt_model *m, const lt_dataset *tr,
    const lt_dataset *te, const lt_train_cfg *cfg, lt_train_report *rep)
{
    memset(rep, 0, sizeof *rep);
    if (cfg->batch < 1 || cfg->batch > tr->n || cfg->epochs < 1) {
        lt_set_error(LT_ERR_ARG, "train: batch %d / epochs %d do not fit a "
                     "dataset of %lld items", cfg->batch, cfg->epochs,
                     (long long)tr->n);
        return 1;
    }
    lt_schedule sched = cfg->sched;
    int64_t total = (int64_t)cfg->epochs * (tr->n / cfg->batch);
    if (sched.total == 0)
        sched.total = total;
    if (sched.kind == LT_SCHED_MULTISTEP && sched.milestones[0] == 0)
        for (int i = 0; i < sched.n_milestones && i < 8; i++)
            sched.milestones[i] = total * (i + 2) / (sched.n_milestones + 2);
    lt_train_state st = {0};
    int64_t item = (int64_t)tr->c * tr->h * tr->w;
    st.c = lt_ctx_new(cfg->arena_bytes ? cfg->arena_bytes :
                      lt_arena_bytes_for(m, cfg->batch));
    st.x = malloc((size_t)(cfg->batch * item) * sizeof(float));
    st.y = malloc((size_t)cfg->batch * sizeof(int32_t));
    st.perm = malloc((size_t)tr->n * sizeof(int64_t));
    int rc = !st.c || !st.x || !st.y || !st.perm ||
             lt_optim_init(&st.opt, &cfg->optim, m->params.n_train) != LT_OK ||
             (cfg->dist != LT_DIST_OFF &&
              (!(st.dp = lt_dp_new(&m->params, cfg->dist, cfg->shards,
                                   cfg->batch)) ||
               (cfg->dp_overlap && lt_dp_enable_overlap(st.dp, 0) != LT_OK)));
    double t0 = lt_clock_seconds();
    lt_params_zero_grad(&m->params);
    for (int e = 1; e <= cfg->epochs && !rc; e++) {
        rc = lt_train_epoch(&st, m, tr, cfg, &sched, e, &rep->train_loss);
        if (!rc && te && lt_evaluate(m, te, 500, &rep->test_loss,
                                     &rep->test_acc, NULL) != LT_OK)
            rc = 1;
        if (!rc && cfg->progress) {
            lt_train_event ev = {e, cfg->epochs, 0, 0, rep->train_loss,
                                 te ? rep->test_acc : NAN, true};
            cfg->progress(cfg->ud, &ev);
        }
    }
    rep->seconds = lt_clock_seconds() - t0;
    rep->arena_peak = st.c ? lt_ctx_peak(st.c) : 0;
    lt_optim_free(&st.opt);
    lt_dp_free(st.dp);
    lt_ctx_free(st.c);
    free(st.x);
    free(st.y);
    free(st.perm);
    return rc;
}

/* The run in the precision its config asks for (core.h). */
int lt_train_classifier(lt_model *m, const lt_dataset *tr, const lt_dataset *te,
                        const lt_train_cfg *cfg, lt_train_report *rep)
{
    lt_precision old =
        lt_precision_enter(cfg ? cfg->precision : LT_PRECISION_DEFAULT);
    int r = lt_train_classifier_body(m, tr, te, cfg, rep);
    lt_set_default_precision(old);
    return r;
}

lt_status lt_train_save_json(const char *path, const lt_train_record *r)
{
    if (!path || !r || !r->report)
        return lt_set_error(LT_ERR_ARG, "train json: NULL argument");
    cJSON *j = cJSON_CreateObject();
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)r->seed);
    bool ok = j && cJSON_AddStringToObject(j, "command", r->command ? r->command : "") &&
              cJSON_AddStringToObject(j, "model", r->model ? r->model : "") &&
              cJSON_AddStringToObject(j, "data", r->data ? r->data : "") &&
              cJSON_AddStringToObject(j, "out", r->out ? r->out : "") &&
              cJSON_AddStringToObject(j, "seed", seed) &&
              cJSON_AddNumberToObject(j, "epochs", r->epochs) &&
              cJSON_AddNumberToObject(j, "threads", r->threads) &&
              lt_json_add_precision(j, r->precision) &&
              cJSON_AddNumberToObject(j, "train_loss", r->report->train_loss) &&
              cJSON_AddNumberToObject(j, "test_loss", r->report->test_loss) &&
              cJSON_AddNumberToObject(j, "test_accuracy", r->report->test_acc) &&
              cJSON_AddNumberToObject(j, "train_seconds", r->report->seconds) &&
              cJSON_AddNumberToObject(j, "arena_peak_bytes",
                                      (double)r->report->arena_peak) &&
              cJSON_AddStringToObject(j, "commit", r->commit ? r->commit : "") &&
              cJSON_AddStringToObject(j, "version", r->version ? r->version : "");
    return lt_json_save(path, j, ok);
}
