/*
 * test_image_metrics.c - the image metrics besides FD (lethe/image_metrics.h)
 * on hand-checkable inputs: k-NN precision/recall of 1-D point sets worked
 * out on paper, Selective Amnesia's class metrics and per-class accuracy
 * of hand-made probabilities (exact expectations, the first-maximum tie
 * rule), and the nearest-training-image distance (tiny hand sets, then a
 * random set with planted copies against a double-precision brute force);
 * the committed evaluator classifier B on Fashion-MNIST pixels in [0, 1]
 * and [-1, 1], class-balanced subsets and the real-vs-real FD floor.
 * Every error path names its argument.
 */
#include "lt_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- precision / recall ------------------------------------------------- */

/* 1-D points embedded as (x, 3) in 2-D, so the norms are not all x^2. */
static void embed(const float *x, int n, float *out)
{
    for (int i = 0; i < n; i++) {
        out[2 * i] = x[i];
        out[2 * i + 1] = 3;
    }
}

LT_TEST(precision_recall_of_hand_sets_k1)
{
    /* k = 1: every real point's radius is 1, the real manifold [-1, 5];
     * fake radii 0.5, 0.5, 1, 1, 4: manifold [-0.5, 1] u [4, 14].
     * precision: 0, 0.5, 5 (boundary) in, 6, 10 out -> 3/5;
     * recall: 0, 1 (boundary), 4 in, 2, 3 out -> 3/5. */
    const float r1[5] = {0, 1, 2, 3, 4}, f1[5] = {0, 0.5f, 5, 6, 10};
    float real[10], fake[10];
    embed(r1, 5, real);
    embed(f1, 5, fake);
    double p = 0, r = 0;
    LT_CHECK(lt_precision_recall(real, 5, fake, 5, 2, 1, &p, &r) == LT_OK,
             "%s", lt_last_error());
    LT_CHECK(p == 0.6 && r == 0.6, "precision %g recall %g, want 0.6 0.6", p,
             r);
    /* Swapping the sets swaps the two. */
    LT_CHECK(lt_precision_recall(fake, 5, real, 5, 2, 1, &p, &r) == LT_OK &&
                 p == 0.6 && r == 0.6, "swapped: %g %g", p, r);
}

LT_TEST(precision_recall_of_hand_sets_k3)
{
    /* k = 3. Real {0,1,2,3,4,10}: third-nearest distances 3,2,2,2,3,8;
     * manifold [-3, 18]. Fake {-4,-3,5,17,19,30}: -3 (boundary), 5, 17
     * in -> precision 3/6. Fake radii 21,20,12,13,14,25 cover every real
     * point -> recall 1. */
    const float real[6] = {0, 1, 2, 3, 4, 10}, fake[6] = {-4, -3, 5, 17, 19,
                                                         30};
    double p = 0, r = 0;
    LT_CHECK(lt_precision_recall(real, 6, fake, 6, 1, 3, &p, &r) == LT_OK,
             "%s", lt_last_error());
    LT_CHECK(p == 0.5 && r == 1.0, "precision %g recall %g, want 0.5 1", p,
             r);
    /* With k = 1 the radii are 1, 1, 1, 1, 1 and 6 (the outlier 10):
     * manifold [-1, 5] u [4, 16]; only 5 is in: precision 1/6. */
    LT_CHECK(lt_precision_recall(real, 6, fake, 6, 1, 1, &p, &r) == LT_OK &&
                 fabs(p - 1.0 / 6) < 1e-15, "k = 1: precision %g", p);
}

LT_TEST(precision_recall_errors)
{
    const float x[4] = {0, 1, 2, NAN};
    double p, r;
    LT_CHECK(lt_precision_recall(x, 3, x, 3, 1, 3, &p, &r) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "real has 3 points, expected 4"),
             "%s", lt_last_error());
    LT_CHECK(lt_precision_recall(x, 3, x, 4, 1, 2, &p, &r) == LT_ERR_NAN &&
                 strstr(lt_last_error(), "fake[3]") && isnan(p),
             "%s", lt_last_error());
    LT_CHECK(lt_precision_recall(x, 3, x, 3, 1, 0, &p, &r) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "k = 0"), "%s", lt_last_error());
    LT_CHECK(lt_precision_recall(x, 3, NULL, 3, 1, 1, &p, &r) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "fake is NULL"), "%s",
             lt_last_error());
    LT_CHECK(lt_precision_recall(x, 3, x, 3, 1, 1, &p, NULL) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "recall"), "%s", lt_last_error());
}

/* ---- class metrics on samples ------------------------------------------ */

/* Four rows over 3 classes, target 1: a hit, a tie (0.5, 0.5: the first
 * maximum, class 0, wins: a miss), a certain hit, a uniform row (class 0:
 * a miss). */
static const float probs4[12] = {0.2f, 0.7f, 0.1f, 0.5f, 0.5f, 0,
                                 0,    1,    0,    1.0f / 3, 1.0f / 3,
                                 1.0f / 3};

static double h_row(const float *p)
{
    double h = 0;
    for (int j = 0; j < 3; j++)
        h -= p[j] > 0 ? (double)p[j] * log((double)p[j]) : 0;
    return h;
}

LT_TEST(class_sample_metrics_exact)
{
    lt_class_sample_metrics m;
    LT_CHECK(lt_class_sample_metrics_compute(probs4, 4, 3, 1, &m) == LT_OK,
             "%s", lt_last_error());
    double h = (h_row(probs4) + log(2.0) + 0 + h_row(probs4 + 9)) / 4;
    double pt = ((double)0.7f + 0.5 + 1 + (double)(1.0f / 3)) / 4;
    LT_CHECK(m.n == 4 && m.accuracy == 50.0, "n %lld accuracy %g, want 4 50",
             (long long)m.n, m.accuracy);
    LT_CHECK(fabs(m.entropy - h) < 1e-12 && fabs(h_row(probs4 + 9) -
                                                 log(3.0)) < 1e-6,
             "entropy %.15g, want %.15g", m.entropy, h);
    LT_CHECK(fabs(m.target_prob - pt) < 1e-15, "target prob %.15g, want "
             "%.15g", m.target_prob, pt);
    LT_CHECK(lt_class_sample_metrics_compute(probs4, 4, 3, 0, &m) == LT_OK &&
                 m.accuracy == 50.0, "target 0: accuracy %g", m.accuracy);
}

LT_TEST(class_sample_metrics_errors)
{
    lt_class_sample_metrics m;
    float bad[6] = {0.5f, 0.5f, 0, 0.6f, 0.6f, 0};
    LT_CHECK(lt_class_sample_metrics_compute(bad, 2, 3, 1, &m) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "row 1 sums to 1.2") &&
                 isnan(m.accuracy), "%s", lt_last_error());
    bad[4] = -0.2f;
    bad[5] = 0.6f;
    LT_CHECK(lt_class_sample_metrics_compute(bad, 2, 3, 1, &m) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "probs[1][1]"), "%s",
             lt_last_error());
    LT_CHECK(lt_class_sample_metrics_compute(probs4, 4, 3, 3, &m) ==
                 LT_ERR_ARG && strstr(lt_last_error(), "target class 3"),
             "%s", lt_last_error());
    LT_CHECK(lt_class_sample_metrics_compute(probs4, 0, 3, 1, &m) ==
                 LT_ERR_ARG && strstr(lt_last_error(), "n = 0"), "%s",
             lt_last_error());
}

LT_TEST(per_class_accuracy_exact)
{
    /* Predictions 1, 0, 1, 0 (see probs4); labels 1, 1, 1, 0 ->
     * class 0: 1/1, class 1: 2/3, class 2: no rows. */
    const int32_t labels[4] = {1, 1, 1, 0};
    double acc[3];
    int64_t count[3];
    LT_CHECK(lt_per_class_accuracy(probs4, 4, 3, labels, acc, count) == LT_OK,
             "%s", lt_last_error());
    LT_CHECK(acc[0] == 100.0 && fabs(acc[1] - 200.0 / 3) < 1e-12 &&
                 isnan(acc[2]), "acc %g %g %g", acc[0], acc[1], acc[2]);
    LT_CHECK(count[0] == 1 && count[1] == 3 && count[2] == 0, "counts %lld "
             "%lld %lld", (long long)count[0], (long long)count[1],
             (long long)count[2]);
    const int32_t wrong[4] = {1, 3, 1, 0};
    LT_CHECK(lt_per_class_accuracy(probs4, 4, 3, wrong, acc, NULL) ==
                 LT_ERR_ARG && strstr(lt_last_error(), "labels[1] = 3"),
             "%s", lt_last_error());
    LT_CHECK(lt_per_class_accuracy(probs4, 4, 3, labels, NULL, NULL) ==
                 LT_ERR_ARG && strstr(lt_last_error(), "acc is NULL"), "%s",
             lt_last_error());
}

/* ---- nearest training image ---------------------------------------------- */

LT_TEST(nn_distance_of_hand_sets)
{
    const float train[12] = {0, 0, 0, 0, 1, 1, 1, 1, 3, 0, 0, 4};
    const float samples[12] = {1, 1, 1, 1,  3, 0, 0, 3.5f,  0.1f, 0, 0, 0};
    double dist[3];
    int64_t near[3];
    lt_nn_summary s;
    LT_CHECK(lt_nn_distance(samples, 3, train, 3, 4, dist, near, &s) == LT_OK,
             "%s", lt_last_error());
    LT_CHECK(near[0] == 1 && near[1] == 2 && near[2] == 0, "nearest %lld "
             "%lld %lld, want 1 2 0", (long long)near[0], (long long)near[1],
             (long long)near[2]);
    LT_CHECK(dist[0] == 0 && dist[1] == 0.5 && dist[2] == (double)0.1f,
             "distances %.17g %.17g %.17g", dist[0], dist[1], dist[2]);
    LT_CHECK(s.min == 0 && s.min_sample == 0 &&
                 fabs(s.mean - (0.5 + (double)0.1f) / 3) < 1e-16,
             "summary mean %.17g min %g at %lld", s.mean, s.min,
             (long long)s.min_sample);
    /* Outputs are optional. */
    LT_CHECK(lt_nn_distance(samples, 3, train, 3, 4, NULL, NULL, &s) ==
                 LT_OK && s.min_sample == 0, "%s", lt_last_error());
}

LT_TEST(nn_distance_finds_planted_copies)
{
    enum { nt = 700, ns = 120, d = 784 };
    float *train = malloc(sizeof(float) * nt * d);
    float *samples = malloc(sizeof(float) * ns * d);
    lt_rng r;
    lt_rng_init(&r, 11);
    lt_rng_fill_uniform(&r, train, (int64_t)nt * d, 0, 1);
    lt_rng_fill_uniform(&r, samples, (int64_t)ns * d, 0, 1);
    for (int i = 0; i < ns; i += 10) /* every tenth sample copies train */
        memcpy(samples + (size_t)i * d, train + (size_t)(i * 5) * d,
               sizeof(float) * d);
    double dist[ns];
    int64_t near[ns];
    lt_nn_summary s;
    LT_CHECK(lt_nn_distance(samples, ns, train, nt, d, dist, near, &s) ==
                 LT_OK, "%s", lt_last_error());
    int bad = 0;
    double sum = 0;
    for (int i = 0; i < ns; i++) {
        double best = INFINITY;
        int64_t arg = -1;
        for (int j = 0; j < nt; j++) {
            double q = 0;
            for (int e = 0; e < d; e++) {
                double t = (double)samples[i * d + e] - train[j * d + e];
                q += t * t;
            }
            if (q < best)
                best = q, arg = j;
        }
        bad += near[i] != arg || fabs(dist[i] - sqrt(best)) > 1e-12;
        sum += sqrt(best);
        if (i % 10 == 0)
            bad += dist[i] != 0 || near[i] != i * 5;
    }
    LT_CHECK(bad == 0, "%d samples disagree with the brute force", bad);
    LT_CHECK(s.min == 0 && s.min_sample == 0 &&
                 fabs(s.mean - sum / ns) < 1e-12, "summary %g %g %lld",
             s.mean, s.min, (long long)s.min_sample);
    free(train);
    free(samples);
}

LT_TEST(nn_distance_errors)
{
    const float x[4] = {0, 1, INFINITY, 3};
    lt_nn_summary s;
    LT_CHECK(lt_nn_distance(x, 2, x, 2, 2, NULL, NULL, &s) == LT_ERR_NAN &&
                 strstr(lt_last_error(), "samples[2] (point 1)"), "%s",
             lt_last_error());
    LT_CHECK(lt_nn_distance(x, 1, x, 0, 2, NULL, NULL, &s) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "train has 0 points"), "%s",
             lt_last_error());
    LT_CHECK(lt_nn_distance(x, 1, x, 1, 0, NULL, NULL, &s) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "d = 0"), "%s", lt_last_error());
    LT_CHECK(lt_nn_distance(x, 1, x, 1, 2, NULL, NULL, NULL) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "out is NULL"), "%s",
             lt_last_error());
}

/* ---- the evaluator classifiers ------------------------------------------ */

#define EVAL_B LT_GOLDEN_DIR "/../../" LT_FMNIST_EVAL_B
#define N_CHECK 1000

/* Pixels in [0, 1] (range 01) or [-1, 1] of d's first n items. */
static float *pixels_of(const lt_dataset *d, int64_t n, lt_pixel_range r)
{
    int64_t item = (int64_t)d->c * d->h * d->w;
    float *px = malloc(sizeof(float) * (size_t)(n * item));
    for (int64_t i = 0; i < n * item; i++) {
        float p = d->x[i] * d->std[0] + d->mean[0];
        px[i] = r == LT_PIXELS_PM1 ? 2 * p - 1 : p;
    }
    return px;
}

LT_TEST(evaluator_b_classifies_pixels)
{
    lt_image_classifier ic;
    lt_dataset te;
    LT_CHECK(lt_image_classifier_load(EVAL_B, &ic) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(lt_dataset_load("fashion-mnist", "test", &te) == LT_OK, "%s",
             lt_last_error());
    if (!ic.model || !te.x)
        return;
    LT_CHECK(!strcmp(ic.data, "fashion-mnist") && ic.mean[0] == te.mean[0] &&
                 ic.std[0] == te.std[0], "normalisation %s %g %g", ic.data,
             ic.mean[0], ic.std[0]);
    int k = 10, dim = lt_model_feature_dim(ic.model);
    float *p01 = pixels_of(&te, N_CHECK, LT_PIXELS_01);
    float *pm1 = pixels_of(&te, N_CHECK, LT_PIXELS_PM1);
    float *probs = malloc(sizeof(float) * N_CHECK * k);
    float *probs2 = malloc(sizeof(float) * N_CHECK * k);
    float *feats = malloc(sizeof(float) * (size_t)(N_CHECK * dim));
    LT_CHECK(lt_image_classify(&ic, p01, N_CHECK, LT_PIXELS_01, probs,
                               feats) == LT_OK, "%s", lt_last_error());
    LT_CHECK(lt_image_classify(&ic, pm1, N_CHECK, LT_PIXELS_PM1, probs2,
                               NULL) == LT_OK, "%s", lt_last_error());
    LT_CHECK_CLOSE("probabilities of [-1, 1] vs [0, 1] pixels", probs2, probs,
                   N_CHECK * k, 1e-4);
    /* The features are the model's on the dataset's own normalised x. */
    lt_ctx *c = lt_ctx_new((size_t)256 << 20);
    lt_set_grad_enabled(c, false);
    lt_tensor *f = lt_model_features(c, ic.model, lt_from_data(c, 4,
        (int64_t[]){200, 1, 28, 28}, te.x));
    LT_CHECK_OK(f);
    if (f)
        LT_CHECK_CLOSE("features of pixels vs of the dataset", feats, f->data,
                       200 * dim, 1e-4);
    lt_ctx_free(c);
    double acc[10], sum = 0;
    int64_t count[10];
    LT_CHECK(lt_per_class_accuracy(probs, N_CHECK, k, te.y, acc, count) ==
                 LT_OK, "%s", lt_last_error());
    for (int j = 0; j < k; j++)
        sum += acc[j] * (double)count[j] / N_CHECK;
    LT_CHECK(sum > 88, "evaluator B: %.1f%% on the first %d test images",
             sum, N_CHECK);
    float bad = p01[1234];
    p01[1234] = NAN;
    LT_CHECK(lt_image_classify(&ic, p01, N_CHECK, LT_PIXELS_01, probs, NULL)
                 == LT_ERR_NAN && strstr(lt_last_error(), "images[1234] "
                                         "(image 1)"), "%s", lt_last_error());
    p01[1234] = bad;
    LT_CHECK(lt_image_classify(&ic, p01, N_CHECK, (lt_pixel_range)7, probs,
                               NULL) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "range 7"), "%s", lt_last_error());
    free(p01);
    free(pm1);
    free(probs);
    free(probs2);
    free(feats);
    lt_image_classifier_free(&ic);
    lt_dataset_free(&te);
}

LT_TEST(class_balanced_subsets)
{
    lt_dataset te;
    LT_CHECK(lt_dataset_load("fashion-mnist", "test", &te) == LT_OK, "%s",
             lt_last_error());
    if (!te.x)
        return;
    const int32_t cls[3] = {7, 2, 9};
    int64_t a[300], b[300], c[300];
    LT_CHECK(lt_class_balanced_subset(&te, cls, 3, 100, 5, a) == LT_OK &&
                 lt_class_balanced_subset(&te, cls, 3, 100, 5, b) == LT_OK &&
                 lt_class_balanced_subset(&te, cls, 3, 100, 6, c) == LT_OK,
             "%s", lt_last_error());
    int wrong = 0, dup = 0;
    for (int i = 0; i < 300; i++) {
        wrong += te.y[a[i]] != cls[i / 100];
        for (int j = 0; j < i; j++)
            dup += a[i] == a[j];
    }
    LT_CHECK(wrong == 0 && dup == 0, "%d items of the wrong class, %d "
             "repeated", wrong, dup);
    LT_CHECK(!memcmp(a, b, sizeof a) && memcmp(a, c, sizeof a),
             "not determined by the seed");
    LT_CHECK(lt_class_balanced_subset(&te, cls, 3, 1001, 5, a) == LT_ERR_ARG
                 && strstr(lt_last_error(), "classes[0] = 7 has too few"),
             "%s", lt_last_error());
    const int32_t bad[2] = {1, 10};
    LT_CHECK(lt_class_balanced_subset(&te, bad, 2, 10, 5, a) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "classes[1] = 10 is not a class"),
             "%s", lt_last_error());
    lt_dataset_free(&te);
}

LT_TEST(fd_floor_is_far_below_a_class_change)
{
    lt_image_classifier ic;
    lt_dataset tr, te;
    LT_CHECK(lt_image_classifier_load(EVAL_B, &ic) == LT_OK &&
                 lt_dataset_load("fashion-mnist", "train", &tr) == LT_OK &&
                 lt_dataset_load("fashion-mnist", "test", &te) == LT_OK,
             "%s", lt_last_error());
    if (!ic.model || !tr.x || !te.x)
        return;
    const int32_t shirt = 6, sneaker = 7;
    lt_fd_terms floor_t;
    LT_CHECK(lt_fd_floor(&ic, &tr, &te, &shirt, 1, 200, 1, &floor_t) == LT_OK,
             "%s", lt_last_error());
    lt_fd_stats a, b;
    double across = 0;
    LT_CHECK(lt_fd_stats_of_dataset(&ic, &te, &shirt, 1, 200, 1, &a) ==
                 LT_OK && lt_fd_stats_of_dataset(&ic, &tr, &sneaker, 1, 200,
                                                 1, &b) == LT_OK &&
                 lt_fd(&a, &b, &across) == LT_OK, "%s", lt_last_error());
    LT_CHECK(floor_t.fd > 0 && floor_t.fd * 20 < across && a.n == 200,
             "floor %g vs shirts-to-sneakers %g", floor_t.fd, across);
    lt_fd_stats_free(&a);
    lt_fd_stats_free(&b);
    lt_image_classifier_free(&ic);
    lt_dataset_free(&tr);
    lt_dataset_free(&te);
}

LT_TEST(evaluator_load_errors)
{
    lt_image_classifier ic;
    LT_CHECK(lt_image_classifier_load(LT_GOLDEN_DIR
                                      "/resnet8_torch.safetensors", &ic) ==
                 LT_ERR_FORMAT && strstr(lt_last_error(), "lethe.data is "
                                         "missing") && !ic.model, "%s",
             lt_last_error());
    LT_CHECK(lt_image_classifier_load("/nonexistent.safetensors", &ic) !=
                 LT_OK && strstr(lt_last_error(), "/nonexistent"), "%s",
             lt_last_error());
    LT_CHECK(lt_image_classify(&ic, NULL, 1, LT_PIXELS_01, NULL, NULL) ==
                 LT_ERR_ARG && strstr(lt_last_error(), "not loaded"), "%s",
             lt_last_error());
}

LT_TEST_MAIN()
