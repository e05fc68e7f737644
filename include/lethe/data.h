/*
 * lethe/data.h - image datasets (data layer): Fashion-MNIST / MNIST from
 * IDX files (raw or gzip) and CIFAR-10 / CIFAR-100 from their binary
 * format, normalised to float NCHW; subsets by index, seeded splits and
 * shuffles, and minibatch assembly with augmentation (random crop with black
 * padding, as torchvision pads before normalising; horizontal flip).
 */
#ifndef LETHE_DATA_H
#define LETHE_DATA_H

#include "lethe/core.h"
#include "lethe/fileset.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    char name[32];     /* "fashion-mnist", "mnist", "cifar10", "cifar100",
                        * "canvas-style", "canvas-object", "canvas-mark",
                        * "canvas-object-fm" */
    int64_t n;
    int c, h, w;
    int classes;
    float *x;          /* [n, c, h, w], normalised with the set's mean/std */
    int32_t *y;        /* [n] */
    float mean[3], std[3]; /* per-channel normalisation applied to x */
} lt_dataset;

/* The folder a dataset is read from: an explicit "name:DIR" spec, else
 * $LETHE_DATA/<name> if it exists, else $LETHE_DATA, else Debian's path
 * (/usr/share/datasets/fashion-mnist for fashion-mnist). */
LT_API lt_status lt_dataset_dir(const char *spec, char *dir, size_t n,
                                char *name, size_t name_n);
/* Load split "train" or "test" of spec ("fashion-mnist", "mnist",
 * "cifar10", "cifar100", optionally ":DIR"; or a FashionCanvas folder as
 * "canvas-style:DIR" (22 classes, lethe/canvas.h's style order) or
 * "canvas-object:DIR" (the 10 objects) or "canvas-mark:DIR" (0 unmarked,
 * 1 marked)), or "canvas-object-fm[:FASHION_MNIST_DIR]": every
 * Fashion-MNIST image of the split rendered in memory in one FashionCanvas
 * style, drawn per image (uniform over the 22 styles, generator seed
 * LT_CANVAS_FM_SEED, the default canvas's shift, no mark), labelled by
 * object. Errors name the file. */
#define LT_CANVAS_FM_SEED 5
LT_API lt_status lt_dataset_load(const char *spec, const char *split,
                                 lt_dataset *out);
LT_API void lt_dataset_free(lt_dataset *d);
/* A readable name of class k of d ("Ankle boot" for Fashion-MNIST and
 * canvas-object, the style's folder name for canvas-style), or NULL when
 * the set has no names or k is out of range. */
LT_API const char *lt_dataset_class_name(const lt_dataset *d, int k);
/* The files lt_dataset_load reads for spec (both splits; IDX files raw and
 * gzipped; a canvas set's index.json), as inputs of s named "WHAT's FILE", so that no output of a
 * command can be one of them. A spec that is not an image dataset, or
 * whose folder does not exist, adds nothing (loading reports it). */
LT_API void lt_dataset_fileset_add(lt_fileset *s, const char *what,
                                   const char *spec);
/* The per-channel normalisation x = (p - mean) / std, p in [0, 1], that
 * lt_dataset_load applies to dataset name ("fashion-mnist", ...), and its
 * channel count; the unused entries of mean/std are 0. */
LT_API lt_status lt_dataset_norm(const char *name, int *channels,
                                 float mean[3], float std[3]);
/* Copy the items idx[0..k) of src into a new dataset. */
LT_API lt_status lt_dataset_subset(const lt_dataset *src, const int64_t *idx,
                                   int64_t k, lt_dataset *out);

/* Items idx[0..n) of d (idx NULL: items 0..n-1) as pixels in [0, 1]
 * (d's normalisation undone) into out [n, c, h, w]. */
LT_API void lt_dataset_pixels(const lt_dataset *d, const int64_t *idx,
                              int64_t n, float *out);
/* The items of d whose label is not `exclude` (-1: every item) as pixels
 * mapped to [-1, 1] (2p - 1: what the diffusion models take), in order,
 * into *x [*n, c, h, w] and their labels into *y [*n] (both malloc'ed;
 * NULL on error). */
LT_API lt_status lt_dataset_images_pm1(const lt_dataset *d, int exclude,
                                       float **x, int32_t **y, int64_t *n);

/* A seeded permutation of 0..n-1 (Fisher-Yates on the counter RNG). */
LT_API void lt_permutation(int64_t *perm, int64_t n, uint64_t seed);

typedef struct {
    int crop_pad;      /* random crop after zero padding by this many px */
    bool hflip;        /* random horizontal flip */
} lt_augment;

/* The augmentation named by spec for images of d: "none", "crop" (random
 * crop after zero padding by 4 px on colour images, 2 px on grey ones),
 * "crop+flip" (plus random horizontal flips) or "auto" (crop+flip on
 * colour images, crop on grey ones: torchvision's CIFAR and MNIST
 * recipes). LT_ERR_ARG for anything else. */
LT_API lt_status lt_augment_parse(const char *spec, const lt_dataset *d,
                                  lt_augment *out);

/* Fill x [b, c, h, w] and y [b] with items idx[0..b) of d, augmented when
 * aug is non-NULL (randomness from rng, one draw stream per item). */
LT_API void lt_dataset_batch(const lt_dataset *d, const int64_t *idx, int64_t b,
                             float *x, int32_t *y, const lt_augment *aug,
                             lt_rng *rng);

#ifdef __cplusplus
}
#endif
#endif
