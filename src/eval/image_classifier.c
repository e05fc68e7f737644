/*
 * image_classifier.c - the fixed evaluator classifiers of generated images
 * (lethe/image_metrics.h): a checkpoint loaded with the normalisation of
 * the data it was trained on, run on images given as pixels in [0, 1] or
 * diffusion samples in [-1, 1] (probabilities and penultimate features,
 * batched, no gradient); FD statistics of images and of seeded class-
 * balanced real subsets; and the real-vs-real FD floor, the FD two
 * disjoint real sets of the same size and classes have in that feature
 * space.
 */
#include "lethe/image_metrics.h"
#include "lethe/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Images per forward pass. */
#define LT_CLASSIFY_BATCH 256

void lt_image_classifier_free(lt_image_classifier *ic)
{
    if (!ic)
        return;
    lt_model_free(ic->model);
    memset(ic, 0, sizeof *ic);
}

/* The dataset named by the checkpoint's "lethe.data" metadata. */
static lt_status lt_checkpoint_data(const char *path, char *data, size_t n)
{
    lt_st_file *f = NULL;
    if (lt_st_load(path, &f) != LT_OK)
        return lt_last_status();
    const char *v = lt_st_meta(f, "lethe.data");
    lt_status st = v ? LT_OK
        : lt_set_error(LT_ERR_FORMAT, "%s: metadata lethe.data is missing "
                       "(the input normalisation is unknown; train it with "
                       "lethe train)", path);
    if (v)
        snprintf(data, n, "%s", v);
    lt_st_free(f);
    return st;
}

lt_status lt_image_classifier_load(const char *path,
                                   lt_image_classifier *out)
{
    if (!out)
        return lt_set_error(LT_ERR_ARG, "image classifier: out is NULL");
    memset(out, 0, sizeof *out);
    if (!path)
        return lt_set_error(LT_ERR_ARG, "image classifier: path is NULL");
    int ch = 0;
    if (lt_checkpoint_data(path, out->data, sizeof out->data) != LT_OK)
        return lt_last_status();
    if (lt_dataset_norm(out->data, &ch, out->mean, out->std) != LT_OK)
        return lt_set_error(LT_ERR_FORMAT, "%s: %s", path, lt_last_error());
    if (lt_model_load(path, &out->model) != LT_OK)
        return lt_last_status();
    if (out->model->in.channels != ch) {
        lt_image_classifier_free(out);
        return lt_set_error(LT_ERR_FORMAT, "%s: the model takes %d channels "
                            "but its data has %d", path,
                            out->model->in.channels, ch);
    }
    return LT_OK;
}

/* x [b, C, H, W] = normalised images[0 .. b); -1 or the first non-finite
 * pixel's index. */
static int64_t lt_normalise(const lt_image_classifier *ic, const float *img,
                            int64_t b, lt_pixel_range range, float *x)
{
    const lt_input_spec *in = &ic->model->in;
    int64_t plane = (int64_t)in->height * in->width;
    for (int64_t i = 0; i < b * in->channels; i++) {
        int ch = (int)(i % in->channels);
        for (int64_t p = 0; p < plane; p++) {
            float v = img[i * plane + p];
            if (!isfinite(v))
                return i * plane + p;
            if (range == LT_PIXELS_PM1)
                v = (v + 1.0f) * 0.5f;
            x[i * plane + p] = (v - ic->mean[ch]) / ic->std[ch];
        }
    }
    return -1;
}

/* probs [b, k] = softmax of logits [b, k] in double. */
static void lt_softmax_rows(const float *logits, int64_t b, int k,
                            float *probs)
{
    for (int64_t i = 0; i < b; i++) {
        const float *l = logits + i * k;
        double mx = l[0], sum = 0;
        for (int j = 1; j < k; j++)
            mx = l[j] > mx ? l[j] : mx;
        for (int j = 0; j < k; j++)
            sum += exp((double)l[j] - mx);
        for (int j = 0; j < k; j++)
            probs[i * k + j] = (float)(exp((double)l[j] - mx) / sum);
    }
}

/* One batch of b images starting at image i0. */
static lt_status lt_classify_batch(lt_ctx *c, const lt_image_classifier *ic,
                                   const float *images, int64_t i0, int64_t b,
                                   lt_pixel_range range, float *probs,
                                   float *feats)
{
    lt_model *m = ic->model;
    int64_t item = (int64_t)m->in.channels * m->in.height * m->in.width;
    int k = m->in.classes, dim = lt_model_feature_dim(m);
    lt_tensor *x = lt_new4(c, b, m->in.channels, m->in.height, m->in.width);
    if (!x)
        return lt_last_status();
    int64_t bad = lt_normalise(ic, images + i0 * item, b, range, x->data);
    if (bad >= 0)
        return lt_set_error(LT_ERR_NAN, "image classify: images[%lld] (image "
                            "%lld) is not finite", (long long)(i0 * item + bad),
                            (long long)(i0 + bad / item));
    lt_tensor *f = lt_model_features(c, m, x);
    lt_tensor *l = probs ? lt_model_head(c, m, f) : f;
    if (!l)
        return lt_last_status();
    if (feats)
        memcpy(feats + i0 * dim, f->data, (size_t)(b * dim) * sizeof(float));
    if (probs)
        lt_softmax_rows(l->data, b, k, probs + i0 * k);
    return LT_OK;
}

lt_status lt_image_classify(const lt_image_classifier *ic, const float *images,
                            int64_t n, lt_pixel_range range, float *probs,
                            float *feats)
{
    if (!ic || !ic->model)
        return lt_set_error(LT_ERR_ARG, "image classify: the classifier is "
                            "not loaded");
    if (!images)
        return lt_set_error(LT_ERR_ARG, "image classify: images is NULL");
    if (n < 1)
        return lt_set_error(LT_ERR_ARG, "image classify: n = %lld images, "
                            "expected >= 1", (long long)n);
    if (range != LT_PIXELS_01 && range != LT_PIXELS_PM1)
        return lt_set_error(LT_ERR_ARG, "image classify: range %d is neither "
                            "LT_PIXELS_01 nor LT_PIXELS_PM1", (int)range);
    lt_ctx *c = lt_ctx_new(lt_arena_bytes_for(ic->model, LT_CLASSIFY_BATCH));
    if (!c)
        return lt_last_status();
    lt_set_grad_enabled(c, false);
    lt_status st = LT_OK;
    for (int64_t i = 0; i < n && st == LT_OK; i += LT_CLASSIFY_BATCH) {
        lt_ctx_reset(c);
        int64_t b = n - i < LT_CLASSIFY_BATCH ? n - i : LT_CLASSIFY_BATCH;
        st = lt_classify_batch(c, ic, images, i, b, range, probs, feats);
    }
    lt_ctx_free(c);
    return st;
}

lt_status lt_fd_stats_of_images(const lt_image_classifier *ic,
                                const float *images, int64_t n,
                                lt_pixel_range range, lt_fd_stats *out)
{
    if (!out)
        return lt_set_error(LT_ERR_ARG, "fd stats of images: out is NULL");
    memset(out, 0, sizeof *out);
    if (!ic || !ic->model)
        return lt_set_error(LT_ERR_ARG, "fd stats of images: the classifier "
                            "is not loaded");
    int dim = lt_model_feature_dim(ic->model);
    float *f = malloc((size_t)(n > 0 ? n : 1) * (size_t)dim * sizeof *f);
    if (!f)
        return lt_set_error(LT_ERR_NOMEM, "fd stats of images: out of memory "
                            "for %lld x %d features", (long long)n, dim);
    lt_status st = lt_image_classify(ic, images, n, range, NULL, f);
    if (st == LT_OK)
        st = lt_fd_stats_compute(f, n, dim, out);
    free(f);
    return st;
}

/* ---- real subsets and the floor -------------------------------------------- */

/* The indices of d's items of class cls, in order, into idx; their count. */
static int64_t lt_items_of_class(const lt_dataset *d, int32_t cls,
                                 int64_t *idx)
{
    int64_t k = 0;
    for (int64_t i = 0; i < d->n; i++)
        if (d->y[i] == cls)
            idx[k++] = i;
    return k;
}

lt_status lt_class_balanced_subset(const lt_dataset *d, const int32_t *classes,
                                   int n_classes, int64_t per_class,
                                   uint64_t seed, int64_t *idx)
{
    const char *fn = "class-balanced subset";
    if (!d || !classes || !idx)
        return lt_set_error(LT_ERR_ARG, "%s: %s is NULL", fn,
                            !d ? "d" : !classes ? "classes" : "idx");
    if (n_classes < 1 || per_class < 1)
        return lt_set_error(LT_ERR_ARG, "%s: n_classes = %d and per_class = "
                            "%lld must be >= 1", fn, n_classes,
                            (long long)per_class);
    int64_t *all = malloc((size_t)(d->n + 1) * sizeof *all);
    int64_t *perm = malloc((size_t)(d->n + 1) * sizeof *perm);
    lt_status st = all && perm ? LT_OK
        : lt_set_error(LT_ERR_NOMEM, "%s: out of memory", fn);
    for (int c = 0; c < n_classes && st == LT_OK; c++) {
        int32_t cls = classes[c];
        int64_t have = cls >= 0 && cls < d->classes
                       ? lt_items_of_class(d, cls, all) : -1;
        if (have < per_class) {
            st = lt_set_error(LT_ERR_ARG, "%s: classes[%d] = %d %s (%s)", fn,
                              c, cls, have < 0 ? "is not a class" :
                              "has too few items", d->name);
            break;
        }
        lt_permutation(perm, have, seed ^ (uint64_t)cls);
        for (int64_t i = 0; i < per_class; i++)
            idx[c * per_class + i] = all[perm[i]];
    }
    free(all);
    free(perm);
    return st;
}

static lt_status lt_check_data_fits(const lt_image_classifier *ic,
                                    const lt_dataset *d)
{
    if (!ic || !ic->model)
        return lt_set_error(LT_ERR_ARG, "fd stats of dataset: the classifier "
                            "is not loaded");
    if (!d)
        return lt_set_error(LT_ERR_ARG, "fd stats of dataset: d is NULL");
    const lt_input_spec *in = &ic->model->in;
    if (d->c != in->channels || d->h != in->height || d->w != in->width)
        return lt_set_error(LT_ERR_SHAPE, "fd stats of dataset: %s images are "
                            "%dx%dx%d, the classifier takes %dx%dx%d",
                            d->name, d->c, d->h, d->w, in->channels,
                            in->height, in->width);
    return LT_OK;
}

lt_status lt_fd_stats_of_dataset(const lt_image_classifier *ic,
                                 const lt_dataset *d, const int32_t *classes,
                                 int n_classes, int64_t per_class,
                                 uint64_t seed, lt_fd_stats *out)
{
    if (!out)
        return lt_set_error(LT_ERR_ARG, "fd stats of dataset: out is NULL");
    memset(out, 0, sizeof *out);
    if (lt_check_data_fits(ic, d) != LT_OK)
        return lt_last_status();
    int64_t n = (int64_t)(n_classes > 0 ? n_classes : 1) *
                (per_class > 0 ? per_class : 1);
    int64_t item = (int64_t)d->c * d->h * d->w;
    int64_t *idx = malloc((size_t)n * sizeof *idx);
    float *px = malloc((size_t)(n * item) * sizeof *px);
    lt_status st = idx && px
        ? lt_class_balanced_subset(d, classes, n_classes, per_class, seed, idx)
        : lt_set_error(LT_ERR_NOMEM, "fd stats of dataset: out of memory for"
                       " %lld images", (long long)n);
    if (st == LT_OK) {
        lt_dataset_pixels(d, idx, n, px);
        st = lt_fd_stats_of_images(ic, px, n, LT_PIXELS_01, out);
    }
    free(idx);
    free(px);
    return st;
}

lt_status lt_fd_floor(const lt_image_classifier *ic, const lt_dataset *train,
                      const lt_dataset *test, const int32_t *classes,
                      int n_classes, int64_t per_class, uint64_t seed,
                      lt_fd_terms *out)
{
    if (!out)
        return lt_set_error(LT_ERR_ARG, "fd floor: out is NULL");
    memset(out, 0, sizeof *out);
    lt_fd_stats a, b;
    lt_status st = lt_fd_stats_of_dataset(ic, test, classes, n_classes,
                                          per_class, seed, &a);
    if (st == LT_OK) {
        st = lt_fd_stats_of_dataset(ic, train, classes, n_classes, per_class,
                                    seed, &b);
        if (st == LT_OK)
            st = lt_fd_terms_compute(&a, &b, out);
        lt_fd_stats_free(&b);
    }
    lt_fd_stats_free(&a);
    return st;
}
