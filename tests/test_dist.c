/*
 * test_dist.c - the process group (lethe/dist.h) and data-parallel
 * classifier training (lt_train_cfg.dist, docs/mpi.md). In the plain build
 * it runs as one rank, where a batch cut into shards is computed shard by
 * shard; under `mpirun -n 2` (tests/mpi_check.sh, an MPI build) the same
 * checks run with the shards on different ranks: the collectives' values,
 * the global-batch mean of the gradient, closeness to single-process
 * training and to single-process unlearning passes, batch-norm running
 * statistics, and identical weights on every rank.
 */
#include "lt_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* n items of 1x8x8 pixels in 4 classes: class k has a bright quadrant k,
 * plus seeded noise. */
static lt_dataset synth(int64_t n)
{
    lt_dataset d = {.n = n, .c = 1, .h = 8, .w = 8, .classes = 4};
    snprintf(d.name, sizeof d.name, "synth");
    d.x = malloc((size_t)n * 64 * sizeof(float));
    d.y = malloc((size_t)n * sizeof(int32_t));
    lt_rng r;
    lt_rng_init(&r, 7);
    for (int64_t i = 0; i < n; i++) {
        int k = (int)(i % 4);
        d.y[i] = k;
        for (int p = 0; p < 64; p++) {
            int qy = (p / 8) / 4, qx = (p % 8) / 4;
            d.x[i * 64 + p] = (qy * 2 + qx == k ? 1.0f : 0.0f) +
                              0.5f * lt_rng_normal(&r);
        }
    }
    return d;
}

static lt_train_cfg cfg_sgd(int epochs, int batch, float lr, float momentum)
{
    lt_train_cfg c = {0};
    lt_optim_parse("sgd", &c.optim);
    c.optim.lr = lr;
    c.optim.momentum = momentum;
    c.sched = (lt_schedule){.kind = LT_SCHED_CONSTANT, .base_lr = lr};
    c.epochs = epochs;
    c.batch = batch;
    c.seed = 3;
    return c;
}

/* A fresh model of arch trained on d with c; NULL on failure. */
static lt_model *trained(const char *arch, const lt_dataset *d,
                         const lt_train_cfg *c)
{
    lt_model *m = NULL;
    if (lt_model_create(arch, (lt_input_spec){1, 8, 8, 4}, &m) != LT_OK)
        return NULL;
    lt_model_init(m, 11);
    lt_train_report rep;
    if (lt_train_classifier(m, d, NULL, c, &rep)) {
        lt_model_free(m);
        return NULL;
    }
    return m;
}

/* Shards of a DP run: two per rank (one rank: two, in turn). */
static int shards(void) { return 2 * lt_dist_size(); }

LT_TEST(dist_group_collectives)
{
    int size = lt_dist_size(), rank = lt_dist_rank();
    LT_CHECK(size >= 1 && rank >= 0 && rank < size, "rank %d of %d", rank,
             size);
    float v[3] = {(float)rank + 1, 1, -2};
    LT_CHECK(lt_dist_allreduce_sum(v, 3) == LT_OK, "%s", lt_last_error());
    LT_CHECK(v[0] == size * (size + 1) / 2.0f && v[1] == size &&
             v[2] == -2.0f * size, "allreduce %g %g %g over %d ranks", v[0],
             v[1], v[2], size);
    int all[16] = {0}, flag = rank == size - 1 ? 5 : 1;
    LT_CHECK(size <= 16, "at most 16 ranks here");
    LT_CHECK(lt_dist_allgather(&rank, all, sizeof rank) == LT_OK, "gather");
    for (int r = 0; r < size && r < 16; r++)
        LT_CHECK(all[r] == r, "allgather slot %d holds %d", r, all[r]);
    LT_CHECK(lt_dist_allreduce_max(&flag) == LT_OK && flag == 5, "max %d",
             flag);
    lt_dist_mode mode;
    LT_CHECK(lt_dist_mode_parse("ordered", &mode) == LT_OK &&
             mode == LT_DIST_ORDERED, "ordered");
    LT_CHECK(lt_dist_mode_parse("fast", &mode) == LT_ERR_ARG, "bad name");
}

/* One SGD step on one full batch: the DP gradient is the mean over the
 * whole batch (shards weighted by their share), so the step matches the
 * single-process step to float rounding; a sum of the shards' means
 * would move twice as far and fail. */
LT_TEST(dp_one_step_is_the_batch_mean)
{
    lt_dataset d = synth(64);
    lt_train_cfg c = cfg_sgd(1, 64, 0.5f, 0);
    lt_model *m0 = NULL, *m1 = NULL, *init = NULL;
    lt_model_create("mlp:64-16-4", (lt_input_spec){1, 8, 8, 4}, &init);
    LT_CHECK(init != NULL, "model");
    lt_model_init(init, 11);
    m0 = trained("mlp:64-16-4", &d, &c);
    c.dist = LT_DIST_SUM;
    c.shards = shards();
    m1 = trained("mlp:64-16-4", &d, &c);
    LT_CHECK(m0 && m1, "training: %s", lt_last_error());
    if (m0 && m1 && init) {
        int64_t n = m0->params.n_train;
        double moved = 0;
        for (int64_t i = 0; i < n; i++)
            moved = fmax(moved, fabs(m0->params.theta[i] -
                                     init->params.theta[i]));
        LT_CHECK(moved > 1e-3, "the step moved the weights by %g", moved);
        LT_CHECK_REL_L2("dp step", m1->params.theta, m0->params.theta, n,
                        1e-6);
    }
    lt_model_free(init);
    lt_model_free(m0);
    lt_model_free(m1);
    lt_dataset_free(&d);
}

/* Several epochs with momentum: DP (sum) stays within the documented
 * tolerance of single-process training (docs/mpi.md: relative L2 of the
 * weights <= 1e-5 after 4 epochs; about 7e-8 seen), and both reductions
 * agree. */
LT_TEST(dp_training_within_tolerance)
{
    lt_dataset d = synth(256);
    lt_train_cfg c = cfg_sgd(4, 32, 0.05f, 0.9f);
    lt_model *m0 = trained("mlp:64-32-4", &d, &c);
    c.dist = LT_DIST_SUM;
    c.shards = shards();
    lt_model *m1 = trained("mlp:64-32-4", &d, &c);
    c.dist = LT_DIST_ORDERED;
    lt_model *m2 = trained("mlp:64-32-4", &d, &c);
    LT_CHECK(m0 && m1 && m2, "training: %s", lt_last_error());
    if (m0 && m1 && m2) {
        int64_t n = m0->params.n_train;
        LT_CHECK_REL_L2("dp sum", m1->params.theta, m0->params.theta, n,
                        1e-5);
        LT_CHECK_REL_L2("dp ordered", m2->params.theta, m0->params.theta, n,
                        1e-5);
        /* every rank holds the same weights: compare with rank 0's */
        size_t bytes = (size_t)n * sizeof(float);
        float *r0 = malloc(bytes);
        memcpy(r0, m2->params.theta, bytes);
        LT_CHECK(lt_dist_bcast(r0, bytes, 0) == LT_OK, "bcast");
        LT_CHECK(!memcmp(r0, m2->params.theta, bytes), "rank %d's ordered "
                 "weights differ from rank 0's", lt_dist_rank());
        memcpy(r0, m1->params.theta, bytes);
        LT_CHECK(lt_dist_bcast(r0, bytes, 0) == LT_OK, "bcast");
        LT_CHECK(!memcmp(r0, m1->params.theta, bytes), "rank %d's summed "
                 "weights differ from rank 0's", lt_dist_rank());
        free(r0);
    }
    lt_model_free(m0);
    lt_model_free(m1);
    lt_model_free(m2);
    lt_dataset_free(&d);
}

/* BatchNorm: each shard normalises with its own statistics, and the
 * running statistics become the shards' mean. With equal shards the mean
 * of their batch means is the batch mean, so after one step at lr 0 the
 * running means equal single-process training's; keeping one shard's
 * statistics would not. */
LT_TEST(dp_batchnorm_running_means)
{
    lt_dataset d = synth(32);
    lt_train_cfg c = cfg_sgd(1, 32, 1e-9f, 0);
    lt_model *m0 = trained("resnet8", &d, &c);
    c.dist = LT_DIST_SUM;
    c.shards = shards();
    lt_model *m1 = trained("resnet8", &d, &c);
    LT_CHECK(m0 && m1, "training: %s", lt_last_error());
    if (m0 && m1) {
        lt_tensor *a = lt_params_get(&m0->params, "bn1.running_mean");
        lt_tensor *b = lt_params_get(&m1->params, "bn1.running_mean");
        LT_CHECK(a && b, "bn1.running_mean");
        if (a && b) {
            double dev = 0;
            for (int64_t i = 0; i < a->numel; i++)
                dev = fmax(dev, fabs(a->data[i]));
            LT_CHECK(dev > 1e-4, "running means moved (%g)", dev);
            LT_CHECK_CLOSE("bn1.running_mean", b->data, a->data, a->numel,
                           1e-4);
        }
    }
    lt_model_free(m0);
    lt_model_free(m1);
    lt_dataset_free(&d);
}

/* m0's weights, unlearned from by method k (seed 5) on a 25% forget set
 * of d, with dist/shards; NULL on failure. */
static lt_model *unlearned(const lt_model *m0, const lt_dataset *d,
                           lt_method_kind k, lt_dist_mode dist, int shards)
{
    lt_forget_set f = {0};
    lt_model *m = NULL;
    if (lt_forget_select("random:25%", d, 5, &f) != LT_OK ||
        lt_model_create(m0->arch, m0->in, &m) != LT_OK)
        goto fail;
    memcpy(m->params.theta, m0->params.theta,
           (size_t)m0->params.n_total * sizeof(float));
    lt_unlearn_cfg c = lt_unlearn_defaults(k);
    c.epochs = 2;
    c.optim.lr = 0.02f; /* the same visible step for every method */
    c.batch = 24; /* 64 forget items: the last batch of a pass is short */
    c.seed = 5;
    c.dist = dist;
    c.shards = shards;
    lt_unlearn_report rep;
    if (lt_unlearn_run(m, d, &f, &c, &rep) != LT_OK)
        goto fail;
    lt_model_free(rep.be_model);
    lt_forget_set_free(&f);
    return m;
fail:
    lt_model_free(m);
    lt_forget_set_free(&f);
    return NULL;
}

/* Unlearning passes, data parallel: RL (random labels drawn for the whole
 * batch), UGradSL+ (a joint retain term: forget and retain shards each
 * weighted by their own share) and l1-sparse (the l1 term added once,
 * after the reduction) stay within 1e-5 of the single-process run. */
LT_TEST(dp_unlearning_within_tolerance)
{
    lt_dataset d = synth(256);
    lt_train_cfg c = cfg_sgd(2, 32, 0.05f, 0.9f);
    lt_model *m0 = trained("mlp:64-32-4", &d, &c);
    LT_CHECK(m0 != NULL, "training: %s", lt_last_error());
    lt_method_kind ks[3] = {LT_METHOD_RL, LT_METHOD_UGRADSL_PLUS,
                            LT_METHOD_L1};
    for (int i = 0; m0 && i < 3; i++) {
        lt_model *a = unlearned(m0, &d, ks[i], LT_DIST_OFF, 0);
        lt_model *b = unlearned(m0, &d, ks[i], LT_DIST_SUM, shards());
        LT_CHECK(a && b, "%s: %s", lt_method_name(ks[i]), lt_last_error());
        if (a && b) {
            int64_t n = a->params.n_train;
            double moved = 0;
            for (int64_t j = 0; j < n; j++)
                moved = fmax(moved, fabs(a->params.theta[j] -
                                         m0->params.theta[j]));
            LT_CHECK(moved > 1e-3, "%s moved the weights by %g",
                     lt_method_name(ks[i]), moved);
            LT_CHECK_REL_L2(lt_method_name(ks[i]), b->params.theta,
                            a->params.theta, n, 1e-5);
        }
        lt_model_free(a);
        lt_model_free(b);
    }
    lt_model_free(m0);
    lt_dataset_free(&d);
}

/* Shards that do not split over the ranks, or more shards than items. */
/* The reducer's gradient of one shard of 16 items (one per rank, weight
 * 0.5) into g: with overlap in buckets of `bucket` floats, or (0) one
 * collective after backward. */
static void dp_grad(lt_model *m, const lt_dataset *d, int64_t bucket,
                    float *g)
{
    lt_dp *dp = lt_dp_new(&m->params, LT_DIST_SUM, 0, 16);
    lt_ctx *c = lt_ctx_new(lt_arena_bytes_for(m, 16));
    LT_CHECK(dp && c, "reducer: %s", lt_last_error());
    if (!dp || !c)
        goto done;
    if (bucket)
        LT_CHECK(lt_dp_enable_overlap(dp, bucket) == LT_OK, "%s",
                 lt_last_error());
    lt_dp_shard_begin(dp, &m->params, 0);
    lt_dp_watch(dp, &m->params, c, 0.5f);
    lt_tensor *x = lt_from_data(c, 4, (int64_t[]){16, 1, 8, 8}, d->x);
    lt_tensor *l = lt_cross_entropy(c, lt_model_forward(c, m, x, true), d->y,
                                    LT_REDUCE_MEAN);
    LT_CHECK(l && lt_backward(c, l) == LT_OK, "%s", lt_last_error());
    float vals[LT_DP_VALS] = {l ? l->data[0] * 0.5f : 0, 0};
    lt_dp_shard_end(dp, &m->params, 0, 0.5f, 0.5f, vals);
    LT_CHECK(lt_dp_reduce(dp, &m->params, vals) == LT_OK, "%s",
             lt_last_error());
    memcpy(g, m->params.grad, (size_t)m->params.n_train * sizeof *g);
done:
    lt_ctx_free(c);
    lt_dp_free(dp);
}

/* Overlapping the all-reduce with backward gives the same bits as one
 * collective after it (each bucket is weighted and summed once, only
 * after backward finished it: a bucket started early would miss later
 * gradient terms or their weight), for 5 buckets and for 1; it refuses
 * several shards per rank and the ordered reduction. */
LT_TEST(dp_overlap_equals_one_collective)
{
    lt_dataset d = synth(16);
    lt_model *m = NULL;
    LT_CHECK(lt_model_create("mlp:64-32-4", (lt_input_spec){1, 8, 8, 4},
                             &m) == LT_OK, "model");
    if (!m)
        return;
    lt_model_init(m, 11);
    int64_t n = m->params.n_train;
    float *g0 = calloc((size_t)n, sizeof *g0),
          *g1 = calloc((size_t)n, sizeof *g1),
          *g2 = calloc((size_t)n, sizeof *g2);
    dp_grad(m, &d, 0, g0);
    dp_grad(m, &d, 500, g1);
    dp_grad(m, &d, 1 << 20, g2);
    double norm = 0;
    for (int64_t i = 0; i < n; i++)
        norm += (double)g0[i] * g0[i];
    LT_CHECK(norm > 1e-6, "a gradient (%g)", norm);
    LT_CHECK(!memcmp(g0, g1, (size_t)n * sizeof *g0), "5 buckets differ");
    LT_CHECK(!memcmp(g0, g2, (size_t)n * sizeof *g0), "1 bucket differs");
    lt_dp *dp = lt_dp_new(&m->params, LT_DIST_SUM, 2 * lt_dist_size(), 16);
    LT_CHECK(dp && lt_dp_enable_overlap(dp, 0) == LT_ERR_ARG,
             "2 shards per rank overlapped");
    lt_dp_free(dp);
    dp = lt_dp_new(&m->params, LT_DIST_ORDERED, 0, 16);
    LT_CHECK(dp && lt_dp_enable_overlap(dp, 0) == LT_ERR_ARG,
             "ordered overlapped");
    lt_dp_free(dp);
    free(g0);
    free(g1);
    free(g2);
    lt_model_free(m);
    lt_dataset_free(&d);
}

LT_TEST(dp_bad_shards)
{
    lt_dataset d = synth(16);
    lt_train_cfg c = cfg_sgd(1, 8, 0.1f, 0);
    c.dist = LT_DIST_SUM;
    c.shards = 9;
    lt_model *m = trained("mlp:64-8-4", &d, &c);
    LT_CHECK(!m && lt_last_status() == LT_ERR_ARG &&
             strstr(lt_last_error(), "shards"), "9 shards of 8: %s",
             lt_last_error());
    lt_model_free(m);
    lt_dataset_free(&d);
}

int main(int argc, char **argv)
{
    if (lt_dist_init(&argc, &argv) != LT_OK) {
        fprintf(stderr, "test_dist: %s\n", lt_last_error());
        return 1;
    }
    int rc = lt_test_run_all(argc, argv);
    if (rc && lt_dist_size() > 1)
        lt_dist_abort(rc);
    lt_dist_finalize();
    return rc;
}
