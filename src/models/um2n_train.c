/*
 * um2n_train.c - the training loop of the released UM2N model, as
 * run_train_baselines.py drives train_util.train for M2N_T: Adam with
 * coupled weight decay, batches of 5 samples in data-set order, the loss
 * of lt_um2n_loss (area loss divided by the loader's batch size, 5, also
 * for a short last batch), dropout on. Checkpoints hold the weights, the
 * Adam moments and the counters, so a run resumes exactly. With
 * t->dist a batch's meshes are cut into shards whose gradients lt_dp
 * (lethe/train.h, docs/mpi.md) sums over the ranks; the area + Chamfer
 * loss's Chamfer term, which takes the whole batch as one cloud, is taken
 * on the gathered outputs of every shard (dp_chamfer).
 */
#include "lethe/um2n.h"

#include "lethe/safetensors.h"
#include "lethe/train.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

lt_status lt_um2n_trainer_init(lt_um2n_trainer *t, lt_um2n *m, uint64_t seed)
{
    if (!t || !m || !m->params.theta)
        return lt_set_error(LT_ERR_ARG, "um2n_trainer_init: no model");
    memset(t, 0, sizeof *t);
    t->model = m;
    t->batch = LT_UM2N_BATCH;
    t->seed = seed;
    lt_optim_config cfg = lt_optim_defaults(LT_OPT_ADAM);
    cfg.lr = m->arch == LT_UM2N_ARCH_M2N ? LT_M2N_LR : LT_UM2N_LR;
    cfg.weight_decay = LT_UM2N_WEIGHT_DECAY;
    return lt_optim_init(&t->opt, &cfg, m->params.n_train);
}

void lt_um2n_trainer_free(lt_um2n_trainer *t)
{
    if (t)
        lt_optim_free(&t->opt);
}

/* The arrays of one merged batch (node and face indices offset). */
typedef struct {
    float *x, *feat, *target;
    int32_t *faces, *src, *dst;
} merged;

static bool merge(lt_ctx *c, const lt_um2n_sample *s, int64_t k,
                  lt_um2n_batch *b, merged *m)
{
    int64_t nn = 0, nf = 0, ne = 0;
    for (int64_t i = 0; i < k; i++) {
        nn += s[i].n_nodes;
        nf += s[i].n_faces;
        ne += s[i].n_edges;
    }
    m->x = lt_alloc(c, (size_t)nn * 3 * sizeof(float));
    m->feat = lt_alloc(c, (size_t)nn * 3 * sizeof(float));
    m->target = lt_alloc(c, (size_t)nn * 2 * sizeof(float));
    m->faces = lt_alloc(c, (size_t)(nf > 0 ? nf : 1) * 3 * sizeof(int32_t));
    m->src = lt_alloc(c, (size_t)(ne > 0 ? ne : 1) * sizeof(int32_t));
    m->dst = lt_alloc(c, (size_t)(ne > 0 ? ne : 1) * sizeof(int32_t));
    if (!m->x || !m->feat || !m->target || !m->faces || !m->src || !m->dst)
        return false;
    int64_t on = 0, of = 0, oe = 0;
    for (int64_t i = 0; i < k; i++) {
        memcpy(m->x + 3 * on, s[i].x, (size_t)s[i].n_nodes * 3 * sizeof(float));
        memcpy(m->feat + 3 * on, s[i].mesh_feat,
               (size_t)s[i].n_nodes * 3 * sizeof(float));
        memcpy(m->target + 2 * on, s[i].target,
               (size_t)s[i].n_nodes * 2 * sizeof(float));
        for (int64_t j = 0; j < 3 * s[i].n_faces; j++)
            m->faces[3 * of + j] = (int32_t)(s[i].faces[j] + on);
        for (int64_t j = 0; j < s[i].n_edges; j++) {
            m->src[oe + j] = (int32_t)(s[i].src[j] + on);
            m->dst[oe + j] = (int32_t)(s[i].dst[j] + on);
        }
        on += s[i].n_nodes;
        of += s[i].n_faces;
        oe += s[i].n_edges;
    }
    *b = (lt_um2n_batch){nn, k, m->x, m->feat, m->src, m->dst, ne,
                         m->faces, nf, m->target, LT_UM2N_BATCH, NULL, 0};
    return true;
}

/* The trainer's loss of the output coordinates out of batch b. */
static lt_tensor *loss_of(lt_ctx *c, const lt_um2n_trainer *t,
                          lt_tensor *out, const lt_um2n_batch *b)
{
    return t->loss == LT_UM2N_LOSS_COORD ? lt_um2n_coord_loss(c, out, b)
                                         : lt_um2n_loss(c, out, b);
}

/* The trainer's loss of the batch b (forward included). */
static lt_tensor *batch_loss(lt_ctx *c, lt_um2n_trainer *t,
                             const lt_um2n_batch *b, bool training)
{
    return loss_of(c, t, lt_um2n_forward(c, t->model, b, training, NULL), b);
}

/* The training forward pass of samples [0, k) in a fresh arena whose
 * generator (dropout) is the step's, or with part > 0 shard part's: the
 * output coordinates (NULL on error) and the merged batch in *b. */
static lt_tensor *rows_forward(lt_ctx *c, lt_um2n_trainer *t,
                               const lt_um2n_sample *s, int64_t k, int part,
                               lt_um2n_batch *b)
{
    lt_ctx_reset(c);
    uint64_t seed = t->seed ^ (0x9e3779b97f4a7c15ULL *
                               (uint64_t)(t->opt.step + 1));
    lt_rng_init(lt_ctx_rng(c), part ? lt_hash3(seed, 15, (uint64_t)part)
                                    : seed);
    merged m;
    if (!merge(c, s, k, b, &m))
        return NULL;
    b->loss_batch = t->batch;
    return lt_um2n_forward(c, t->model, b, true, NULL);
}

/* Forward, loss and backward of samples [0, k) (rows_forward's arena and
 * generator); the gradient adds to the parameters'. */
static lt_status rows_backward(lt_ctx *c, lt_um2n_trainer *t,
                               const lt_um2n_sample *s, int64_t k, int part,
                               double *loss)
{
    lt_um2n_batch b;
    lt_tensor *out = rows_forward(c, t, s, k, part, &b);
    lt_tensor *l = out ? loss_of(c, t, out, &b) : NULL;
    if (!l)
        return lt_last_status();
    lt_status st = lt_backward(c, l);
    if (st != LT_OK)
        return st;
    *loss = l->data[0];
    return LT_OK;
}

/* ---- data parallelism ---------------------------------------------------------- */

/* The nodes of samples [lo, hi). */
static int64_t nodes_of(const lt_um2n_sample *s, int64_t lo, int64_t hi)
{
    int64_t n = 0;
    for (int64_t i = lo; i < hi; i++)
        n += s[i].n_nodes;
    return n;
}

/* 100 x the Chamfer distance of the clouds x and y [n, 2] into *cd and
 * its gradient with respect to x into g [n, 2]. */
static lt_status chamfer_grad(const float *x, const float *y, int64_t n,
                              float *g, double *cd)
{
    lt_ctx *c = lt_ctx_new((size_t)n * 64 + ((size_t)1 << 20));
    if (!c)
        return lt_set_error(LT_ERR_NOMEM, "um2n: the Chamfer term of %lld "
                            "nodes", (long long)n);
    const int64_t sh[2] = {n, 2};
    lt_tensor *xt = lt_requires_grad(lt_from_data(c, 2, sh, x));
    lt_tensor *ch = lt_chamfer(c, xt, lt_from_data(c, 2, sh, y), NULL, NULL,
                               1);
    lt_tensor *l = lt_affine(c, ch, LT_UM2N_CHAMFER_WEIGHT, 0);
    lt_status st = l ? lt_backward(c, l) : lt_last_status();
    if (st == LT_OK) {
        memcpy(g, xt->grad, (size_t)n * 2 * sizeof(float));
        *cd = l->data[0];
    }
    lt_ctx_free(c);
    return st;
}

/* A shard's outputs for lt_dp_gather: an unrecorded forward pass with
 * the shard's generator. */
typedef struct {
    lt_ctx *c;
    lt_um2n_trainer *t;
    lt_dp *dp;
    const lt_um2n_sample *s;
    int64_t k;
} chamfer_fill;

static lt_status fill_outputs(void *ud, int shard, float *out)
{
    chamfer_fill *f = ud;
    int64_t lo, hi;
    lt_dp_range(f->dp, shard, f->k, &lo, &hi);
    if (hi == lo)
        return LT_OK;
    lt_um2n_batch b;
    bool was = lt_set_grad_enabled(f->c, false);
    lt_tensor *o = rows_forward(f->c, f->t, f->s + lo, hi - lo, shard, &b);
    lt_set_grad_enabled(f->c, was);
    if (!o)
        return lt_last_status();
    memcpy(out, o->data, (size_t)o->numel * sizeof(float));
    return LT_OK;
}

/* The area + Chamfer loss's Chamfer term for a data-parallel step: the
 * outputs of every shard gathered to every rank (lt_dp_gather), then on
 * every rank the term of the whole batch's cloud (as one process takes
 * it) into *cd and its gradient for every node of the batch into
 * g [nodes, 2]. */
static lt_status dp_chamfer(lt_ctx *c, lt_um2n_trainer *t, lt_dp *dp,
                            const lt_um2n_sample *s, int64_t k, float *g,
                            double *cd)
{
    int first, S = lt_dp_local(dp, &first) * lt_dist_size();
    int64_t slot = 0, lo, hi, n = nodes_of(s, 0, k);
    for (int q = 0; q < S; q++) {
        lt_dp_range(dp, q, k, &lo, &hi);
        int64_t f = 2 * nodes_of(s, lo, hi);
        slot = f > slot ? f : slot;
    }
    float *all = malloc((size_t)(S * slot + 1) * sizeof(float));
    float *x = malloc((size_t)(2 * n + 1) * sizeof(float));
    float *y = malloc((size_t)(2 * n + 1) * sizeof(float));
    chamfer_fill fill = {c, t, dp, s, k};
    lt_status st = all && x && y ? lt_dp_gather(dp, slot, fill_outputs,
                                                &fill, all)
                   : lt_set_error(LT_ERR_NOMEM, "um2n: gathered outputs");
    for (int64_t q = 0, at = 0; st == LT_OK && q < S; q++) {
        lt_dp_range(dp, (int)q, k, &lo, &hi);
        int64_t f = 2 * nodes_of(s, lo, hi);
        memcpy(x + at, all + q * slot, (size_t)f * sizeof(float));
        at += f;
    }
    for (int64_t i = 0, at = 0; st == LT_OK && i < k; i++) {
        memcpy(y + at, s[i].target, (size_t)(2 * s[i].n_nodes) *
               sizeof(float));
        at += 2 * s[i].n_nodes;
    }
    if (st == LT_OK)
        st = chamfer_grad(x, y, n, g, cd);
    free(all);
    free(x);
    free(y);
    return st;
}

/* Shard samples [0, k) (shard part) with the area loss plus the Chamfer
 * term's part, <out, g> with g its slice of the batch's Chamfer gradient
 * (the gradient of the whole term with respect to this shard's nodes):
 * backward adds the shard's share of the batch's gradient. The area loss
 * into *area. */
static lt_status rows_backward_chamfer(lt_ctx *c, lt_um2n_trainer *t,
                                       const lt_um2n_sample *s, int64_t k,
                                       int part, const float *g,
                                       double *area)
{
    lt_um2n_batch b;
    lt_tensor *out = rows_forward(c, t, s, k, part, &b);
    lt_tensor *a = out ? lt_um2n_area_loss(c, out, &b, LT_UM2N_AREA_SCALE)
                       : NULL;
    lt_tensor *gt = out ? lt_from_data(c, 2, out->shape, g) : NULL;
    lt_tensor *l = a && gt ? lt_add(c, a, lt_sum_all(c, lt_mul(c, out, gt)))
                           : NULL;
    if (!l || lt_backward(c, l) != LT_OK)
        return lt_last_status();
    *area = a->data[0];
    return LT_OK;
}

/* The gradient of the batch's loss from this rank's shards, summed over
 * the ranks. The coordinate loss is a mean over the batch's nodes, and
 * every mesh of a batch has as many: a shard's mean is weighted by its
 * share of the meshes. The area loss is a sum over the meshes (divided by
 * the fixed loader batch): no weight; the Chamfer term comes from
 * dp_chamfer, its value counted once (by shard 0). */
static lt_status dp_backward(lt_ctx *c, lt_um2n_trainer *t, lt_dp *dp,
                             const lt_um2n_sample *s, int64_t k, double *loss)
{
    lt_params *p = &t->model->params;
    int first, count = lt_dp_local(dp, &first);
    bool coord = t->loss == LT_UM2N_LOSS_COORD;
    float *g = coord ? NULL : malloc((size_t)(2 * nodes_of(s, 0, k)) *
                                     sizeof(float));
    double cd = 0;
    if (!coord && (!g || dp_chamfer(c, t, dp, s, k, g, &cd) != LT_OK)) {
        free(g);
        return g ? lt_last_status()
                 : lt_set_error(LT_ERR_NOMEM, "um2n: Chamfer gradient");
    }
    for (int j = 0; j < count; j++) {
        int64_t lo, hi;
        double l = 0;
        lt_dp_range(dp, first + j, k, &lo, &hi);
        lt_dp_shard_begin(dp, p, j);
        lt_status st = hi <= lo ? LT_OK
            : coord ? rows_backward(c, t, s + lo, hi - lo, first + j, &l)
                    : rows_backward_chamfer(c, t, s + lo, hi - lo, first + j,
                                            g + 2 * nodes_of(s, 0, lo), &l);
        if (st != LT_OK) {
            free(g);
            return st;
        }
        /* coordinate loss: a mean, weighted by the shard's meshes; area:
         * a sum over meshes, and the Chamfer term counted once */
        float w = coord ? (float)(hi - lo) / (float)k : 1.0f;
        float vals[LT_DP_VALS] = {(float)l * w +
                                  (first + j == 0 ? (float)cd : 0.0f), 0};
        lt_dp_shard_end(dp, p, j, w, w, vals);
    }
    free(g);
    float vals[LT_DP_VALS] = {0};
    lt_status st = lt_dp_reduce(dp, p, vals);
    *loss = vals[0];
    return st;
}

/* One Adam step on samples [0, k) (dp: data parallel, else NULL). */
static lt_status train_step(lt_ctx *c, lt_um2n_trainer *t, lt_dp *dp,
                            const lt_um2n_sample *s, int64_t k, double *loss)
{
    lt_params *p = &t->model->params;
    lt_params_zero_grad(p);
    lt_status st = dp ? dp_backward(c, t, dp, s, k, loss)
                      : rows_backward(c, t, s, k, 0, loss);
    return st != LT_OK ? st : lt_optim_step(&t->opt, p->theta, p->grad, NULL,
                                            t->opt.cfg.lr);
}

/* The reducer of a data-parallel trainer (NULL and LT_OK without). */
static lt_status dp_make(const lt_um2n_trainer *t, lt_dp **dp)
{
    *dp = NULL;
    if (t->dist == LT_DIST_OFF)
        return LT_OK;
    *dp = lt_dp_new(&t->model->params, t->dist, t->shards, t->batch);
    return *dp ? LT_OK : lt_last_status();
}

/* Every batch of t->batch samples in order must have one node count. */
static lt_status check_batches(const lt_um2n_trainer *t,
                               const lt_um2n_sample *s, int64_t n,
                               const char *what)
{
    for (int64_t i = 1; i < n; i++)
        if (i % t->batch && s[i].n_nodes != s[i - 1].n_nodes)
            return lt_set_error(LT_ERR_ARG, "%s: sample %lld has %lld nodes, "
                                "sample %lld of its batch %lld", what,
                                (long long)i, (long long)s[i].n_nodes,
                                (long long)(i - 1),
                                (long long)s[i - 1].n_nodes);
    return LT_OK;
}

lt_status lt_um2n_train_epoch(lt_ctx *c, lt_um2n_trainer *t,
                              const lt_um2n_sample *samples, int64_t n,
                              double *mean_loss)
{
    if (!c || !t || !samples || n < 1)
        return lt_set_error(LT_ERR_ARG, "um2n_train_epoch: no samples");
    lt_status st = check_batches(t, samples, n, "um2n_train_epoch");
    if (st != LT_OK)
        return st;
    lt_dp *dp;
    if ((st = dp_make(t, &dp)) != LT_OK)
        return st;
    double total = 0;
    int64_t batches = 0;
    for (int64_t i = 0; st == LT_OK && i < n; i += t->batch) {
        int64_t k = n - i < t->batch ? n - i : t->batch;
        double l = 0;
        st = train_step(c, t, dp, samples + i, k, &l);
        total += l;
        batches++;
    }
    lt_dp_free(dp);
    if (st != LT_OK)
        return st;
    t->epoch++;
    if (mean_loss)
        *mean_loss = total / (double)batches;
    return LT_OK;
}

lt_status lt_um2n_eval_loss(lt_ctx *c, lt_um2n_trainer *t,
                            const lt_um2n_sample *samples, int64_t n,
                            double *mean_loss)
{
    if (!c || !t || !samples || n < 1 || !mean_loss)
        return lt_set_error(LT_ERR_ARG, "um2n_eval_loss: no samples");
    lt_status st = check_batches(t, samples, n, "um2n_eval_loss");
    if (st != LT_OK)
        return st;
    double total = 0;
    int64_t batches = 0;
    for (int64_t i = 0; i < n; i += t->batch) {
        int64_t k = n - i < t->batch ? n - i : t->batch;
        lt_ctx_reset(c);
        lt_um2n_batch b;
        merged m;
        if (!merge(c, samples + i, k, &b, &m))
            return lt_last_status();
        b.loss_batch = t->batch;
        lt_tensor *l = batch_loss(c, t, &b, false);
        if (!l)
            return lt_last_status();
        total += l->data[0];
        batches++;
    }
    lt_ctx_reset(c);
    *mean_loss = total / (double)batches;
    return LT_OK;
}

static const char *loss_name(lt_um2n_loss_kind k)
{
    return k == LT_UM2N_LOSS_COORD ? "coord" : "area-chamfer";
}

lt_status lt_um2n_trainer_save(const lt_um2n_trainer *t, const char *path)
{
    if (!t || !path)
        return lt_set_error(LT_ERR_ARG, "um2n_trainer_save: NULL argument");
    const lt_params *p = &t->model->params;
    int n = p->count;
    lt_st_tensor *e = malloc((size_t)(n + 2) * sizeof *e);
    if (!e)
        return lt_set_error(LT_ERR_NOMEM, "um2n_trainer_save: out of memory");
    for (int i = 0; i < n; i++)
        e[i] = lt_st_entry(p->p[i].name, &p->p[i].t);
    lt_tensor m, v;
    lt_tensor_wrap(&m, t->opt.m, NULL, 1, (int64_t[]){t->opt.n});
    lt_tensor_wrap(&v, t->opt.v, NULL, 1, (int64_t[]){t->opt.n});
    e[n] = lt_st_entry("optimizer.m", &m);
    e[n + 1] = lt_st_entry("optimizer.v", &v);
    char ep[32], st[32], sd[32];
    snprintf(ep, sizeof ep, "%" PRId64, t->epoch);
    snprintf(st, sizeof st, "%" PRId64, t->opt.step);
    snprintf(sd, sizeof sd, "%" PRIu64, t->seed);
    const char *meta[12] = {"format", "lethe-um2n-train", "epoch", ep,
                            "step", st, "loss", loss_name(t->loss),
                            "seed", sd, "arch",
                            lt_um2n_arch_name(t->model->arch)};
    lt_status s = lt_st_save(path, e, n + 2, meta, 6);
    free(e);
    return s;
}

/* The counters of a trainer checkpoint. */
static lt_status read_counters(const lt_st_file *f, const char *path,
                               int64_t *epoch, int64_t *step)
{
    const char *ep = lt_st_meta(f, "epoch"), *st = lt_st_meta(f, "step");
    char *end1 = NULL, *end2 = NULL;
    if (ep && st) {
        *epoch = strtoll(ep, &end1, 10);
        *step = strtoll(st, &end2, 10);
    }
    if (!ep || !st || *end1 || *end2 || *epoch < 0 || *step < 0)
        return lt_set_error(LT_ERR_FORMAT, "%s: not a UM2N training "
                            "checkpoint (no epoch/step metadata)", path);
    return LT_OK;
}

lt_status lt_um2n_trainer_load(lt_um2n_trainer *t, const char *path)
{
    if (!t || !path)
        return lt_set_error(LT_ERR_ARG, "um2n_trainer_load: NULL argument");
    lt_st_file *f;
    if (lt_st_load(path, &f) != LT_OK)
        return lt_last_status();
    int64_t epoch = 0, step = 0;
    lt_tensor m, v;
    lt_tensor_wrap(&m, t->opt.m, NULL, 1, (int64_t[]){t->opt.n});
    lt_tensor_wrap(&v, t->opt.v, NULL, 1, (int64_t[]){t->opt.n});
    lt_status s = read_counters(f, path, &epoch, &step);
    lt_um2n_arch fa;
    if (s == LT_OK && lt_um2n_file_arch(path, &fa) == LT_OK &&
        fa != t->model->arch)
        s = lt_set_error(LT_ERR_ARG, "%s: a checkpoint of architecture %s, "
                         "this run trains %s", path, lt_um2n_arch_name(fa),
                         lt_um2n_arch_name(t->model->arch));
    const char *lk = lt_st_meta(f, "loss"), *sd = lt_st_meta(f, "seed");
    char mine[32];
    snprintf(mine, sizeof mine, "%" PRIu64, t->seed);
    if (s == LT_OK && lk && strcmp(lk, loss_name(t->loss)))
        s = lt_set_error(LT_ERR_ARG, "%s: trained with the %s loss, this "
                         "run uses %s", path, lk, loss_name(t->loss));
    /* the seed draws dropout: another one would not continue the run */
    if (s == LT_OK && sd && strcmp(sd, mine))
        s = lt_set_error(LT_ERR_ARG, "%s: trained with seed %s, this run "
                         "uses %s", path, sd, mine);
    /* check the moments before anything changes */
    const lt_st_tensor *fm = s == LT_OK ? lt_st_get(f, "optimizer.m") : NULL;
    const lt_st_tensor *fv = s == LT_OK ? lt_st_get(f, "optimizer.v") : NULL;
    if (s == LT_OK && (!fm || !fv || fm->numel != t->opt.n ||
                       fv->numel != t->opt.n))
        s = lt_set_error(LT_ERR_FORMAT, "%s: optimizer state missing or "
                         "of the wrong size", path);
    lt_st_free(f);
    if (s == LT_OK)
        s = lt_um2n_load(t->model, path); /* weights; unchanged on error */
    if (s == LT_OK && lt_st_load(path, &f) == LT_OK) {
        s = lt_st_read_into(f, "optimizer.m", &m);
        if (s == LT_OK)
            s = lt_st_read_into(f, "optimizer.v", &v);
        lt_st_free(f);
    }
    if (s == LT_OK) {
        t->epoch = epoch;
        t->opt.step = step;
    }
    return s;
}
