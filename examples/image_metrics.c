/*
 * image_metrics.c - the acceptance report of an evaluator classifier and
 * the real-vs-real FD floors in its feature space, from the library
 * functions of lethe/image_metrics.h (the numbers in models/README.md and
 * docs/image-metrics.md come from here):
 *
 *   example_image_metrics report MODEL   test accuracy overall and per
 *       class and the 10x10 confusion matrix, through lt_image_classify
 *       on pixels in [0, 1] (the path diffusion samples take);
 *   example_image_metrics floor MODEL [SEEDS]   the FD between class-
 *       balanced test and train subsets: all classes but one at 500 each
 *       (N = 4,500), and each class alone at 500, for seeds 1..SEEDS.
 *
 * Data: Fashion-MNIST from lt_dataset_load (Debian's package or
 * $LETHE_DATA). Exits non-zero with the library's message on any error.
 */
#include <lethe/lethe.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PER_CLASS 500

static int fail(void)
{
    fprintf(stderr, "example_image_metrics: %s\n", lt_last_error());
    return 1;
}

/* Pixels in [0, 1] of every item of d (undoing its normalisation). */
static float *pixels(const lt_dataset *d)
{
    int64_t plane = (int64_t)d->h * d->w, item = d->c * plane;
    float *px = malloc(sizeof(float) * (size_t)(d->n * item));
    for (int64_t i = 0; px && i < d->n * item; i++)
        px[i] = d->x[i] * d->std[(i % item) / plane] +
                d->mean[(i % item) / plane];
    return px;
}

static void print_confusion(const lt_dataset *te, const int32_t *pred, int k)
{
    int64_t *cm = calloc((size_t)(k * k), sizeof *cm);
    for (int64_t i = 0; i < te->n; i++)
        cm[te->y[i] * k + pred[i]]++;
    printf("confusion (rows: true class, columns: predicted)\n     ");
    for (int j = 0; j < k; j++)
        printf("%5d", j);
    printf("\n");
    for (int i = 0; i < k; i++) {
        printf("%5d", i);
        for (int j = 0; j < k; j++)
            printf("%5lld", (long long)cm[i * k + j]);
        printf("\n");
    }
    free(cm);
}

static int report(const lt_image_classifier *ic, const lt_dataset *te)
{
    int k = ic->model->in.classes;
    float *px = pixels(te), *probs = malloc(sizeof(float) * (size_t)(te->n * k));
    int32_t *pred = malloc(sizeof(int32_t) * (size_t)te->n);
    double *acc = malloc(sizeof(double) * (size_t)k), all = 0;
    if (!px || !probs || !pred || !acc ||
        lt_image_classify(ic, px, te->n, LT_PIXELS_01, probs, NULL) != LT_OK ||
        lt_argmax_rows(probs, te->n, k, pred) != LT_OK ||
        lt_accuracy_pred(pred, te->y, te->n, &all) != LT_OK ||
        lt_per_class_accuracy(probs, te->n, k, te->y, acc, NULL) != LT_OK)
        return fail();
    printf("%s (%s, features %d): test accuracy %.2f%% on %lld images\n",
           ic->model->arch, ic->data, lt_model_feature_dim(ic->model), all,
           (long long)te->n);
    for (int c = 0; c < k; c++)
        printf("  class %d: %.1f%%\n", c, acc[c]);
    print_confusion(te, pred, k);
    free(px);
    free(probs);
    free(pred);
    free(acc);
    return 0;
}

/* The floor for classes[0..n) at PER_CLASS each; prints one cell and
 * keeps the largest tr(S) of the test subsets seen in *trace (for scale). */
static int floor_cell(const lt_image_classifier *ic, const lt_dataset *tr,
                      const lt_dataset *te, const int32_t *classes, int n,
                      uint64_t seed, double *trace)
{
    lt_fd_terms t;
    if (lt_fd_floor(ic, tr, te, classes, n, PER_CLASS, seed, &t) != LT_OK)
        return fail();
    printf(" %8.3f", t.fd);
    fflush(stdout);
    *trace = t.trace_a > *trace ? t.trace_a : *trace;
    return 0;
}

static int floors(const lt_image_classifier *ic, const lt_dataset *tr,
                  const lt_dataset *te, int seeds)
{
    int k = ic->model->in.classes;
    int32_t cls[64];
    double trace = 0;
    printf("real-vs-real FD floor (test vs train subsets, %d per class)\n",
           PER_CLASS);
    printf("N = %d, all classes but c; one row per seed, columns c = 0..%d\n",
           PER_CLASS * (k - 1), k - 1);
    for (int s = 1; s <= seeds; s++) {
        printf("seed %d:", s);
        for (int c = 0; c < k; c++) {
            int n = 0;
            for (int j = 0; j < k; j++)
                if (j != c)
                    cls[n++] = j;
            if (floor_cell(ic, tr, te, cls, n, (uint64_t)s, &trace))
                return 1;
        }
        printf("\n");
    }
    printf("N = %d, class c alone; columns c = 0..%d\n", PER_CLASS, k - 1);
    for (int s = 1; s <= seeds; s++) {
        printf("seed %d:", s);
        for (int32_t c = 0; c < k; c++)
            if (floor_cell(ic, tr, te, &c, 1, (uint64_t)s, &trace))
                return 1;
        printf("\n");
    }
    printf("(for scale: the largest tr(S) of a test subset above is %.3f)\n",
           trace);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3 || (strcmp(argv[1], "report") && strcmp(argv[1], "floor"))) {
        fprintf(stderr, "usage: example_image_metrics report|floor MODEL "
                "[SEEDS]\n");
        return 2;
    }
    lt_image_classifier ic;
    lt_dataset tr = {0}, te = {0};
    if (lt_image_classifier_load(argv[2], &ic) != LT_OK ||
        lt_dataset_load(ic.data, "test", &te) != LT_OK ||
        (!strcmp(argv[1], "floor") &&
         lt_dataset_load(ic.data, "train", &tr) != LT_OK))
        return fail();
    int rc = !strcmp(argv[1], "report")
                 ? report(&ic, &te)
                 : floors(&ic, &tr, &te, argc > 3 ? atoi(argv[3]) : 1);
    lt_image_classifier_free(&ic);
    lt_dataset_free(&tr);
    lt_dataset_free(&te);
    return rc;
}
