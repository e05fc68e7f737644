/*
 * dataset.c - loading the image datasets Lethe trains on (IDX for
 * Fashion-MNIST and MNIST, the binary format for CIFAR-10/100), subsets,
 * permutations, augmentation names and augmented minibatches. See
 * lethe/data.h. FashionCanvas folders load as classification sets too
 * ("canvas-style:DIR", "canvas-object:DIR", "canvas-mark:DIR"), for its
 * evaluators and the mark detector; "canvas-object-fm" renders every
 * Fashion-MNIST image of a split in one FashionCanvas style drawn per
 * image, in memory (all 60,000 training shapes instead of a canvas's few
 * hundred per class).
 */
#include "lethe/canvas.h"
#include "lethe/data.h"
#include "lethe/io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Where a set's pictures come from: IDX or CIFAR files (told apart by
 * the channel count), a FashionCanvas folder, or Fashion-MNIST's IDX files
 * rendered in FashionCanvas styles in memory. */
typedef enum { LT_SRC_FILES, LT_SRC_CANVAS, LT_SRC_CANVAS_FM } lt_set_source;

typedef struct {
    const char *name;
    int c, h, w, classes;
    float mean[3], std[3];
    const char *debian_dir;
    lt_set_source src;
} lt_dataset_info;

/* FashionCanvas's per-channel mean and std, measured on the default
 * canvas's training split (seed 1). */
#define CANVAS_NORM {0.4870f, 0.4411f, 0.4239f}, {0.3573f, 0.3307f, 0.3469f}

static const lt_dataset_info lt_sets[] = {
    {"fashion-mnist", 1, 28, 28, 10, {0.2860f}, {0.3530f},
     "/usr/share/datasets/fashion-mnist", LT_SRC_FILES},
    {"mnist", 1, 28, 28, 10, {0.1307f}, {0.3081f}, NULL, LT_SRC_FILES},
    {"cifar10", 3, 32, 32, 10, {0.4914f, 0.4822f, 0.4465f},
     {0.2470f, 0.2435f, 0.2616f}, NULL, LT_SRC_FILES},
    {"cifar100", 3, 32, 32, 100, {0.5071f, 0.4865f, 0.4409f},
     {0.2673f, 0.2564f, 0.2762f}, NULL, LT_SRC_FILES},
    /* FashionCanvas pictures labelled by style, by object or by the hidden
     * mark (0 unmarked, 1 marked), all with CANVAS_NORM. */
    {"canvas-style", 3, 32, 32, LT_CANVAS_STYLES, CANVAS_NORM, NULL,
     LT_SRC_CANVAS},
    {"canvas-object", 3, 32, 32, 10, CANVAS_NORM, NULL, LT_SRC_CANVAS},
    {"canvas-mark", 3, 32, 32, 2, CANVAS_NORM, NULL, LT_SRC_CANVAS},
    /* Every Fashion-MNIST image in one seeded FashionCanvas style, made in
     * memory from the Fashion-MNIST folder. */
    {"canvas-object-fm", 3, 32, 32, 10, CANVAS_NORM,
     "/usr/share/datasets/fashion-mnist", LT_SRC_CANVAS_FM},
};
#define LT_KNOWN_SETS "fashion-mnist, mnist, cifar10, cifar100, " \
                      "canvas-style, canvas-object, canvas-mark, " \
                      "canvas-object-fm"

static const lt_dataset_info *lt_info(const char *name)
{
    for (size_t i = 0; i < sizeof lt_sets / sizeof *lt_sets; i++)
        if (!strcmp(lt_sets[i].name, name))
            return &lt_sets[i];
    return NULL;
}

lt_status lt_dataset_norm(const char *name, int *channels, float mean[3],
                          float std[3])
{
    const lt_dataset_info *inf = name ? lt_info(name) : NULL;
    if (!inf)
        return lt_set_error(LT_ERR_ARG, "dataset '%s': unknown (known: "
                            LT_KNOWN_SETS ")",
                            name ? name : "(null)");
    *channels = inf->c;
    memcpy(mean, inf->mean, sizeof inf->mean);
    memcpy(std, inf->std, sizeof inf->std);
    return LT_OK;
}

static bool lt_is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

lt_status lt_dataset_dir(const char *spec, char *dir, size_t n, char *name,
                         size_t name_n)
{
    const char *colon = strchr(spec, ':');
    size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
    if (len >= name_n)
        return lt_set_error(LT_ERR_ARG, "data '%s': name too long", spec);
    memcpy(name, spec, len);
    name[len] = '\0';
    const lt_dataset_info *inf = lt_info(name);
    if (!inf)
        return lt_set_error(LT_ERR_ARG, "data '%s': unknown dataset (known: "
                            LT_KNOWN_SETS "; append :DIR for a folder)",
                            spec);
    const char *env = getenv("LETHE_DATA");
    if (colon)
        snprintf(dir, n, "%s", colon + 1);
    else if (env && *env) {
        snprintf(dir, n, "%s/%s", env, name);
        if (!lt_is_dir(dir))
            snprintf(dir, n, "%s", env);
    } else if (inf->debian_dir)
        snprintf(dir, n, "%s", inf->debian_dir);
    else
        return lt_set_error(LT_ERR_ARG, "data '%s': no folder given; use "
                            "%s:DIR or set $LETHE_DATA", spec, name);
    if (!lt_is_dir(dir))
        return lt_set_error(LT_ERR_IO, "data '%s': folder %s does not exist%s",
                            spec, dir, !strcmp(name, "fashion-mnist")
                            ? " (apt-get install dataset-fashion-mnist, or "
                              "set $LETHE_DATA)" : "");
    return LT_OK;
}

static lt_status lt_alloc_set(lt_dataset *d, const lt_dataset_info *inf,
                              int64_t n)
{
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "%s", inf->name);
    d->n = n;
    d->c = inf->c, d->h = inf->h, d->w = inf->w, d->classes = inf->classes;
    memcpy(d->mean, inf->mean, sizeof d->mean);
    memcpy(d->std, inf->std, sizeof d->std);
    d->x = malloc((size_t)(n * d->c * d->h * d->w) * sizeof(float) + 4);
    d->y = malloc((size_t)n * sizeof(int32_t) + 4);
    if (!d->x || !d->y) {
        lt_dataset_free(d);
        return lt_set_error(LT_ERR_NOMEM, "data %s: cannot allocate %lld "
                            "items", inf->name, (long long)n);
    }
    return LT_OK;
}

/* Pixel (0..255) of channel ch -> normalised float. */
static float lt_norm(const lt_dataset_info *inf, int ch, uint8_t v)
{
    return ((float)v / 255.0f - inf->mean[ch]) / inf->std[ch];
}

static lt_status lt_idx_open(const char *dir, const char *stem, lt_idx *out)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s.gz", dir, stem);
    if (access(path, R_OK) != 0)
        snprintf(path, sizeof path, "%s/%s", dir, stem);
    return lt_idx_load(path, out);
}

/* The IDX images [N, h, w] and labels [N] (each below classes) of split,
 * checked; on error both are freed. */
static lt_status lt_idx_pair_open(const char *dir, const char *split, int h,
                                  int w, int classes, lt_idx *im, lt_idx *lb)
{
    const char *pre = !strcmp(split, "train") ? "train" : "t10k";
    char stem[64];
    *im = (lt_idx){0};
    *lb = (lt_idx){0};
    snprintf(stem, sizeof stem, "%s-images-idx3-ubyte", pre);
    lt_status s = lt_idx_open(dir, stem, im);
    snprintf(stem, sizeof stem, "%s-labels-idx1-ubyte", pre);
    if (s == LT_OK)
        s = lt_idx_open(dir, stem, lb);
    if (s == LT_OK && (im->ndim != 3 || im->shape[1] != h ||
                       im->shape[2] != w || lb->ndim != 1 ||
                       lb->shape[0] != im->shape[0]))
        s = lt_set_error(LT_ERR_FORMAT, "%s/%s-*: expected N %dx%d images and "
                         "N labels", dir, pre, h, w);
    for (int64_t i = 0; s == LT_OK && i < lb->numel; i++)
        if (lb->data[i] >= classes)
            s = lt_set_error(LT_ERR_FORMAT, "%s/%s-labels-idx1-ubyte: label "
                             "%d of item %lld is not below %d", dir, pre,
                             lb->data[i], (long long)i, classes);
    if (s != LT_OK) {
        lt_idx_free(im);
        lt_idx_free(lb);
    }
    return s;
}

static lt_status lt_load_idx_set(const lt_dataset_info *inf, const char *dir,
                                 const char *split, lt_dataset *d)
{
    lt_idx im, lb;
    lt_status s = lt_idx_pair_open(dir, split, inf->h, inf->w, inf->classes,
                                   &im, &lb);
    if (s == LT_OK)
        s = lt_alloc_set(d, inf, im.shape[0]);
    for (int64_t i = 0; s == LT_OK && i < im.numel; i++)
        d->x[i] = lt_norm(inf, 0, im.data[i]);
    for (int64_t i = 0; s == LT_OK && i < d->n; i++)
        d->y[i] = lb.data[i];
    lt_idx_free(&im);
    lt_idx_free(&lb);
    return s;
}

/* CIFAR binary: records of label byte(s) then 3072 pixel bytes (R, G, B
 * planes of 32x32). CIFAR-100 has a coarse and a fine label byte. */
static lt_status lt_read_cifar_file(const lt_dataset_info *inf,
                                    const char *path, lt_dataset *d,
                                    int64_t at, int64_t count)
{
    int lb = inf->classes == 100 ? 2 : 1;
    size_t rec = (size_t)lb + 3072;
    FILE *f = fopen(path, "rb");
    if (!f)
        return lt_set_error(LT_ERR_IO, "%s: cannot open", path);
    uint8_t *buf = malloc(rec);
    lt_status s = LT_OK;
    for (int64_t i = 0; s == LT_OK && i < count; i++) {
        if (fread(buf, 1, rec, f) != rec) {
            s = lt_set_error(LT_ERR_FORMAT, "%s: truncated at record %lld "
                             "(expected %lld records of %zu bytes)", path,
                             (long long)i, (long long)count, rec);
            break;
        }
        int label = buf[lb - 1];
        if (label >= inf->classes)
            s = lt_set_error(LT_ERR_FORMAT, "%s: record %lld has label %d",
                             path, (long long)i, label);
        d->y[at + i] = label;
        float *x = d->x + (at + i) * 3072;
        for (int k = 0; k < 3072; k++)
            x[k] = lt_norm(inf, k / 1024, buf[lb + k]);
    }
    if (s == LT_OK && fgetc(f) != EOF)
        s = lt_set_error(LT_ERR_FORMAT, "%s: longer than %lld records", path,
                         (long long)count);
    free(buf);
    fclose(f);
    return s;
}

static lt_status lt_load_cifar(const lt_dataset_info *inf, const char *dir,
                               const char *split, lt_dataset *d)
{
    bool train = !strcmp(split, "train");
    bool c100 = inf->classes == 100;
    int files = train && !c100 ? 5 : 1;
    int64_t per = c100 ? (train ? 50000 : 10000) : 10000;
    lt_status s = lt_alloc_set(d, inf, per * files);
    char path[4200];
    for (int i = 0; s == LT_OK && i < files; i++) {
        if (c100)
            snprintf(path, sizeof path, "%s/%s.bin", dir,
                     train ? "train" : "test");
        else if (train)
            snprintf(path, sizeof path, "%s/data_batch_%d.bin", dir, i + 1);
        else
            snprintf(path, sizeof path, "%s/test_batch.bin", dir);
        s = lt_read_cifar_file(inf, path, d, i * per, per);
    }
    if (s != LT_OK)
        lt_dataset_free(d);
    return s;
}

/* One canvas picture [3, h, w] in [0, 1] -> the set's normalisation. */
static void lt_canvas_normalise(const lt_dataset_info *inf, const float *src,
                                float *dst)
{
    const int64_t plane = (int64_t)inf->h * inf->w;
    for (int ch = 0; ch < 3; ch++)
        for (int64_t p = 0; p < plane; p++)
            dst[ch * plane + p] =
                (src[ch * plane + p] - inf->mean[ch]) / inf->std[ch];
}

/* A FashionCanvas split labelled by style ("canvas-style"), object
 * ("canvas-object") or the hidden mark ("canvas-mark": 1 = marked). */
static lt_status lt_load_canvas_set(const lt_dataset_info *inf,
                                    const char *dir, const char *split,
                                    lt_dataset *out)
{
    lt_canvas cv;
    if (lt_canvas_load(dir, split, &cv) != LT_OK)
        return lt_last_status();
    lt_status s = lt_alloc_set(out, inf, cv.n);
    const bool by_style = !strcmp(inf->name, "canvas-style");
    const bool by_mark = !strcmp(inf->name, "canvas-mark");
    const int64_t item = 3LL * inf->h * inf->w;
    for (int64_t i = 0; s == LT_OK && i < cv.n; i++) {
        out->y[i] = by_style  ? cv.style[i]
                    : by_mark ? cv.mark[i]
                              : cv.object[i];
        lt_canvas_normalise(inf, cv.x + i * item, out->x + i * item);
    }
    lt_canvas_free(&cv);
    return s;
}

/* Style of Fashion-MNIST item i of split in canvas-object-fm. */
static int lt_canvas_fm_style(int split, int64_t i)
{
    uint64_t h = lt_hash3(LT_CANVAS_FM_SEED, 300 + (uint64_t)split,
                          (uint64_t)i);
    int k = (int)(lt_u64_to_uniform(h) * LT_CANVAS_STYLES);
    return k < LT_CANVAS_STYLES ? k : LT_CANVAS_STYLES - 1;
}

/* Render item i of the 28x28 images im into out (normalised). */
static void lt_canvas_fm_item(const lt_dataset_info *inf, const uint8_t *im,
                              int split, int64_t i, int shift, float *out)
{
    float x[3 * LT_CANVAS_SIDE * LT_CANVAS_SIDE];
    int style = lt_canvas_fm_style(split, i);
    lt_canvas_render(im + i * 784, style,
                     lt_canvas_draw(LT_CANVAS_FM_SEED, split, style, i),
                     shift, false, x);
    lt_canvas_normalise(inf, x, out);
}

/* "canvas-object-fm": every Fashion-MNIST image of split rendered in its
 * seeded style (the default canvas's object shift), labelled by object. */
static lt_status lt_load_canvas_fm(const lt_dataset_info *inf,
                                   const char *dir, const char *split,
                                   lt_dataset *d)
{
    lt_idx im, lb;
    lt_status s = lt_idx_pair_open(dir, split, 28, 28, inf->classes, &im,
                                   &lb);
    if (s == LT_OK)
        s = lt_alloc_set(d, inf, im.shape[0]);
    if (s == LT_OK) {
        const int sp = strcmp(split, "train") ? 1 : 0;
        const int shift = lt_canvas_defaults().shift;
        const int64_t item = 3LL * inf->h * inf->w;
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < d->n; i++) {
            lt_canvas_fm_item(inf, im.data, sp, i, shift, d->x + i * item);
            d->y[i] = lb.data[i];
        }
    }
    lt_idx_free(&im);
    lt_idx_free(&lb);
    return s;
}

lt_status lt_dataset_load(const char *spec, const char *split,
                          lt_dataset *out)
{
    memset(out, 0, sizeof *out);
    char dir[4096], name[64];
    if (!spec || !split || (strcmp(split, "train") && strcmp(split, "test")))
        return lt_set_error(LT_ERR_ARG, "data: split must be train or test");
    if (lt_dataset_dir(spec, dir, sizeof dir, name, sizeof name) != LT_OK)
        return lt_last_status();
    const lt_dataset_info *inf = lt_info(name);
    if (inf->src == LT_SRC_CANVAS_FM)
        return lt_load_canvas_fm(inf, dir, split, out);
    if (inf->src == LT_SRC_CANVAS)
        return lt_load_canvas_set(inf, dir, split, out);
    return inf->c == 1 ? lt_load_idx_set(inf, dir, split, out)
                       : lt_load_cifar(inf, dir, split, out);
}

const char *lt_dataset_class_name(const lt_dataset *d, int k)
{
    if (!strcmp(d->name, "canvas-style"))
        return k >= 0 && k < LT_CANVAS_STYLES ? lt_canvas_style_at(k)->slug
                                              : NULL;
    if (!strcmp(d->name, "canvas-mark"))
        return k == 0 ? "unmarked" : k == 1 ? "marked" : NULL;
    if (strcmp(d->name, "fashion-mnist") && strcmp(d->name, "canvas-object") &&
        strcmp(d->name, "canvas-object-fm"))
        return NULL;
    return k >= 0 && k < 10 ? lt_canvas_object_at(k)->label : NULL;
}

void lt_dataset_fileset_add(lt_fileset *s, const char *what,
                            const char *spec)
{
    static const char *const idx[] = {
        "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
        "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", NULL};
    static const char *const c10[] = {
        "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
        "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin", NULL};
    static const char *const c100[] = {"train.bin", "test.bin", NULL};
    static const char *const canvas[] = {"index.json", NULL};
    char dir[4096], name[64];
    if (!s || !spec ||
        lt_dataset_dir(spec, dir, sizeof dir, name, sizeof name) != LT_OK) {
        lt_clear_error();
        return;
    }
    const lt_dataset_info *inf = lt_info(name);
    lt_fileset_add_dir(s, false, what, dir,
                       inf->src == LT_SRC_CANVAS ? canvas :
                       inf->c == 1 ? idx : inf->classes == 100 ? c100 : c10);
}

void lt_dataset_free(lt_dataset *d)
{
    free(d->x);
    free(d->y);
    d->x = NULL;
    d->y = NULL;
    d->n = 0;
}

lt_status lt_dataset_subset(const lt_dataset *src, const int64_t *idx,
                            int64_t k, lt_dataset *out)
{
    *out = *src;
    out->x = NULL;
    out->y = NULL;
    int64_t item = (int64_t)src->c * src->h * src->w;
    out->n = k;
    out->x = malloc((size_t)(k * item) * sizeof(float) + 4);
    out->y = malloc((size_t)k * sizeof(int32_t) + 4);
    if (!out->x || !out->y) {
        lt_dataset_free(out);
        return lt_set_error(LT_ERR_NOMEM, "data: cannot allocate a subset of "
                            "%lld items", (long long)k);
    }
    for (int64_t i = 0; i < k; i++) {
        if (idx[i] < 0 || idx[i] >= src->n) {
            lt_dataset_free(out);
            return lt_set_error(LT_ERR_ARG, "data %s: index %lld out of range "
                                "0..%lld", src->name, (long long)idx[i],
                                (long long)src->n - 1);
        }
        memcpy(out->x + i * item, src->x + idx[i] * item,
               (size_t)item * sizeof(float));
        out->y[i] = src->y[idx[i]];
    }
    return LT_OK;
}

void lt_permutation(int64_t *perm, int64_t n, uint64_t seed)
{
    lt_rng r;
    lt_rng_init(&r, seed);
    for (int64_t i = 0; i < n; i++)
        perm[i] = i;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)lt_rng_below(&r, (uint64_t)i + 1), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

static void lt_augment_item(const lt_dataset *d, const float *src, float *dst,
                            const lt_augment *aug, uint64_t draw)
{
    int p = aug->crop_pad, span = 2 * p + 1;
    int dy = p ? (int)(draw % (uint64_t)span) - p : 0;
    int dx = p ? (int)((draw >> 16) % (uint64_t)span) - p : 0;
    bool flip = aug->hflip && ((draw >> 40) & 1);
    for (int ch = 0; ch < d->c; ch++) {
        float black = d->std[ch] > 0 ? -d->mean[ch] / d->std[ch] : 0;
        for (int i = 0; i < d->h; i++)
            for (int j = 0; j < d->w; j++) {
                int si = i + dy, sj = (flip ? d->w - 1 - j : j) + dx;
                float v = black; /* padding is a black pixel */
                if (si >= 0 && si < d->h && sj >= 0 && sj < d->w)
                    v = src[((int64_t)ch * d->h + si) * d->w + sj];
                dst[((int64_t)ch * d->h + i) * d->w + j] = v;
            }
    }
}

void lt_dataset_batch(const lt_dataset *d, const int64_t *idx, int64_t b,
                      float *x, int32_t *y, const lt_augment *aug,
                      lt_rng *rng)
{
    int64_t item = (int64_t)d->c * d->h * d->w;
    uint64_t base = rng ? rng->counter : 0, seed = rng ? rng->seed : 0;
#pragma omp parallel for schedule(static) if (b * item > 65536)
    for (int64_t i = 0; i < b; i++) {
        const float *src = d->x + idx[i] * item;
        if (aug && (aug->crop_pad > 0 || aug->hflip))
            lt_augment_item(d, src, x + i * item, aug,
                            lt_hash3(seed, 1, base + (uint64_t)i));
        else
            memcpy(x + i * item, src, (size_t)item * sizeof(float));
        y[i] = d->y[idx[i]];
    }
    if (rng)
        rng->counter += (uint64_t)b;
}

lt_status lt_augment_parse(const char *spec, const lt_dataset *d,
                           lt_augment *out)
{
    bool colour = d && d->c == 3;
    const char *a = spec ? spec : "";
    if (!strcmp(a, "auto"))
        a = colour ? "crop+flip" : "crop";
    bool crop = !strcmp(a, "crop") || !strcmp(a, "crop+flip");
    if (!crop && strcmp(a, "none"))
        return lt_set_error(LT_ERR_ARG, "unknown augmentation '%s' (expected "
                            "auto, none, crop or crop+flip)", a);
    *out = (lt_augment){crop ? (colour ? 4 : 2) : 0, !strcmp(a, "crop+flip")};
    return LT_OK;
}

void lt_dataset_pixels(const lt_dataset *d, const int64_t *idx, int64_t n,
                       float *out)
{
    int64_t hw = (int64_t)d->h * d->w, per = d->c * hw;
    for (int64_t i = 0; i < n; i++) {
        const float *src = d->x + (idx ? idx[i] : i) * per;
        for (int64_t j = 0; j < per; j++)
            out[i * per + j] = src[j] * d->std[j / hw] + d->mean[j / hw];
    }
}

lt_status lt_dataset_images_pm1(const lt_dataset *d, int exclude, float **x,
                                int32_t **y, int64_t *n)
{
    int64_t per = (int64_t)d->c * d->h * d->w, k = 0;
    *x = malloc((size_t)(d->n * per) * sizeof **x);
    *y = malloc((size_t)(d->n > 0 ? d->n : 1) * sizeof **y);
    *n = 0;
    if (!*x || !*y) {
        free(*x);
        free(*y);
        *x = NULL;
        *y = NULL;
        return lt_set_error(LT_ERR_NOMEM, "%s: out of memory for %lld "
                            "images", d->name, (long long)d->n);
    }
    for (int64_t i = 0; i < d->n; i++) {
        if (d->y[i] == exclude)
            continue;
        lt_dataset_pixels(d, &i, 1, *x + k * per);
        for (int64_t j = 0; j < per; j++)
            (*x)[k * per + j] = 2 * (*x)[k * per + j] - 1;
        (*y)[k++] = d->y[i];
    }
    *n = k;
    return LT_OK;
}
