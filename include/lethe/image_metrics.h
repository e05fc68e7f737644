/*
 * lethe/image_metrics.h - metrics of generated images (eval layer), for
 * judging diffusion models before and after unlearning:
 *   - Frechet distance (FD) between two sets of classifier features, with
 *     the statistics in double precision (pytorch-fid's conventions),
 *   - precision and recall of the k-nearest-neighbour manifolds
 *     (Kynkaanniemi et al. 2019),
 *   - Selective Amnesia's class metrics on classifier probabilities
 *     (accuracy on a target class, mean entropy, mean target probability)
 *     and per-class accuracy of a labelled sample set,
 *   - the nearest-neighbour distance of samples to the training images
 *     (a copying check),
 *   - the fixed evaluator classifiers: probabilities and features of images
 *     given as pixels in [0, 1] or [-1, 1], and the real-vs-real FD floor.
 * docs/image-metrics.md explains each metric and how far to trust it.
 * Arrays are row-major; features are float32 [n, d]. Every function
 * returns LT_OK or an error status with lt_last_error() naming the
 * argument (and the index of a bad element).
 */
#ifndef LETHE_IMAGE_METRICS_H
#define LETHE_IMAGE_METRICS_H

#include "lethe/data.h"
#include "lethe/models.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Frechet distance (src/eval/fd.c) ----------------------------------- */

/* Mean and covariance of n feature vectors of width d. */
typedef struct {
    int d;
    int64_t n;
    double *mu;  /* [d] */
    double *cov; /* [d, d], symmetric, denominator n - 1 (np.cov) */
} lt_fd_stats;

/* Statistics of feats [n, d] (n >= 2, finite), malloc'ed into out (free
 * with lt_fd_stats_free); out is zeroed on error. */
LT_API lt_status lt_fd_stats_compute(const float *feats, int64_t n, int d,
                                     lt_fd_stats *out);
LT_API void lt_fd_stats_free(lt_fd_stats *s);

/* The terms of one FD:
 *   fd = mean_term + trace_a + trace_b - 2 trace_sqrt. */
typedef struct {
    double fd;
    double mean_term;    /* |mu_a - mu_b|^2 */
    double trace_a;      /* tr(S_a) */
    double trace_b;      /* tr(S_b) */
    double trace_sqrt;   /* tr((S_a^1/2 S_b S_a^1/2)^1/2) */
    int clamped;         /* negative eigenvalues set to 0 (of S_a and of
                            S_a^1/2 S_b S_a^1/2; rounding, or not PSD) */
    double most_negative; /* the most negative of them (0 when none) */
} lt_fd_terms;

/* FD between two sets' statistics (same d). The symmetric square roots
 * come from LAPACK's dsyevd; this equals pytorch-fid's
 * tr(sqrtm(S_a S_b)) for PSD matrices, without its complex round-off. The
 * result is not clamped: identical sets give 0 up to rounding (~1e-12
 * relative), possibly slightly negative. */
LT_API lt_status lt_fd_terms_compute(const lt_fd_stats *a,
                                     const lt_fd_stats *b, lt_fd_terms *out);
/* Just terms.fd. */
LT_API lt_status lt_fd(const lt_fd_stats *a, const lt_fd_stats *b,
                       double *out);

/* ---- precision / recall (src/eval/neighbors.c) -------------------------- */

/* Improved precision and recall (Kynkaanniemi et al. 2019) of fake
 * [nf, d] against real [nr, d] (L2 in feature space): each set's manifold
 * is the union of balls around its points with radius the distance to the
 * point's k-th nearest other point of the same set (k = 3 in the paper;
 * n > k needed). precision = share of fake points inside the real
 * manifold, recall = share of real points inside the fake manifold
 * (boundary included), both in [0, 1]. */
LT_API lt_status lt_precision_recall(const float *real, int64_t nr,
                                     const float *fake, int64_t nf, int d,
                                     int k, double *precision,
                                     double *recall);

/* ---- nearest training image (src/eval/neighbors.c) ---------------------- */

typedef struct {
    double mean;        /* mean over samples of the nearest distance */
    double min;         /* the smallest nearest distance */
    int64_t min_sample; /* the sample that has it */
} lt_nn_summary;

/* For each sample of samples [ns, d], the L2 distance to its nearest row
 * of train [nt, d] (pixel space, any scaling as long as both agree):
 * dist[ns] and nearest[ns] (either may be NULL) and the summary. The
 * nearest is chosen with the BLAS expansion |a|^2 + |b|^2 - 2ab in float
 * (ties within its rounding, ~1e-6 |a|^2, may pick either); the reported
 * distance to it is recomputed directly in double, so an exact copy
 * gives 0. */
LT_API lt_status lt_nn_distance(const float *samples, int64_t ns,
                                const float *train, int64_t nt, int64_t d,
                                double *dist, int64_t *nearest,
                                lt_nn_summary *out);

/* ---- class metrics on samples (src/eval/sample_metrics.c) ----------------- */

/* Selective Amnesia's metrics of n samples meant to show class target,
 * from a classifier's probabilities probs [n, k] (rows non-negative,
 * summing to 1 within 1e-3). */
typedef struct {
    int64_t n;
    double accuracy;    /* % of rows whose argmax (first maximum) is target */
    double entropy;     /* mean of -sum_j p_j ln p_j (nats; 0 ln 0 = 0) */
    double target_prob; /* mean of p_target */
} lt_class_sample_metrics;

LT_API lt_status lt_class_sample_metrics_compute(const float *probs,
                                                 int64_t n, int k, int target,
                                                 lt_class_sample_metrics *out);

/* Accuracy (%) per class of a labelled sample set: acc[c] over the rows
 * with labels[i] == c of argmax(probs[i]) == c, NAN for a class without
 * rows; count[c] (may be NULL) the rows of class c. acc and count have k
 * entries. Also right for logits (only the argmax is used, so rows are
 * not checked to sum to 1). */
LT_API lt_status lt_per_class_accuracy(const float *probs, int64_t n, int k,
                                       const int32_t *labels, double *acc,
                                       int64_t *count);

/* ---- the evaluator classifiers (src/eval/image_classifier.c) ------------- */

/* The committed Fashion-MNIST evaluators (models/README.md), relative to
 * the repository root: A is for attacks, B for reported numbers. */
#define LT_FMNIST_EVAL_A "models/fmnist-eval-a-v1.safetensors"
#define LT_FMNIST_EVAL_B "models/fmnist-eval-b-v1.safetensors"
/* The committed FashionCanvas evaluators (models/README.md): a style
 * classifier (22 classes) and an object classifier (10 classes), for the
 * acceptance reports and the unlearning metrics of text models. */
#define LT_CANVAS_EVAL_STYLE "models/fashion-canvas-style-v1.safetensors"
#define LT_CANVAS_EVAL_OBJECT "models/fashion-canvas-object-v1.safetensors"
/* Independent style and object judges (another seed and other pictures;
 * models/README.md), the attacks' default verdicts on styles and objects. */
#define LT_CANVAS_JUDGE_STYLE "models/fashion-canvas-style-judge-v1.safetensors"
#define LT_CANVAS_JUDGE_OBJECT "models/fashion-canvas-object-judge-v1.safetensors"
/* The committed detectors of FashionCanvas's hidden mark (2 classes, 1 =
 * marked; models/README.md): the in-loop detector of the attacks, and an
 * independent judge (another architecture, seed and canvas) for the
 * verdicts. */
#define LT_CANVAS_EVAL_MARK "models/fashion-canvas-mark-v1.safetensors"
#define LT_CANVAS_JUDGE_MARK "models/fashion-canvas-mark-judge-v1.safetensors"

/* A classifier with the input normalisation of the data it was trained
 * on: x = (p - mean[ch]) / std[ch] for pixels p in [0, 1]. */
typedef struct {
    lt_model *model;
    char data[32];          /* its dataset ("fashion-mnist") */
    float mean[3], std[3];  /* that dataset's normalisation */
} lt_image_classifier;

/* Load a checkpoint written by `lethe train` (lt_model_save with
 * "lethe.data" in its metadata; the normalisation is that dataset's). */
LT_API lt_status lt_image_classifier_load(const char *path,
                                          lt_image_classifier *out);
LT_API void lt_image_classifier_free(lt_image_classifier *ic);

typedef enum {
    LT_PIXELS_01 = 0, /* p in [0, 1] (a dataset's pixels / 255) */
    LT_PIXELS_PM1 = 1 /* x in [-1, 1], diffusion samples: p = (x + 1) / 2 */
} lt_pixel_range;

/* Run the classifier (eval mode, no gradient, batched) on images
 * [n, C, H, W] in the given range: probs [n, classes] (softmax in double,
 * rounded) and feats [n, D] (lt_model_features; D from
 * lt_model_feature_dim); either may be NULL. Values are used as given
 * (no clipping); non-finite pixels are an error. Thread-safe for distinct
 * output arrays. */
LT_API lt_status lt_image_classify(const lt_image_classifier *ic,
                                   const float *images, int64_t n,
                                   lt_pixel_range range, float *probs,
                                   float *feats);

/* FD statistics of the classifier's features of images [n, C, H, W]. */
LT_API lt_status lt_fd_stats_of_images(const lt_image_classifier *ic,
                                       const float *images, int64_t n,
                                       lt_pixel_range range,
                                       lt_fd_stats *out);

/* A seeded, class-balanced subset of d: per_class items of each of the
 * n_classes classes (their indices in d, in class order, each class's drawn
 * by lt_permutation(seed ^ class)); idx has n_classes * per_class entries.
 * LT_ERR_ARG when a class is out of range or has fewer items. */
LT_API lt_status lt_class_balanced_subset(const lt_dataset *d,
                                          const int32_t *classes,
                                          int n_classes, int64_t per_class,
                                          uint64_t seed, int64_t *idx);

/* FD statistics of the features of a class-balanced subset of d (as
 * lt_class_balanced_subset draws it); d's images are mapped back to
 * pixels in [0, 1] with d's own mean/std, then normalised as ic wants. */
LT_API lt_status lt_fd_stats_of_dataset(const lt_image_classifier *ic,
                                        const lt_dataset *d,
                                        const int32_t *classes, int n_classes,
                                        int64_t per_class, uint64_t seed,
                                        lt_fd_stats *out);

/* The real-vs-real floor: the FD between a class-balanced subset of the
 * test split and one of the train split (disjoint by construction), each
 * n_classes * per_class images, drawn with seed. Report every FD at N
 * images with the floor at the same N and classes. */
LT_API lt_status lt_fd_floor(const lt_image_classifier *ic,
                             const lt_dataset *train, const lt_dataset *test,
                             const int32_t *classes, int n_classes,
                             int64_t per_class, uint64_t seed,
                             lt_fd_terms *out);

#ifdef __cplusplus
}
#endif
#endif
