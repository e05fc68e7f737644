/*
 * test_canvas.c - FashionCanvas (lethe/canvas.h) on small configs: the
 * same seed gives byte-identical folders, every (seed image, style) pair is
 * there, loaded pixels equal the renderer's (and Photo equals the
 * Fashion-MNIST picture itself), captions use only vocabulary words and
 * name the mark only implicitly, near styles differ in exactly their
 * documented factor, and the error cases of generation and loading.
 */
#define _XOPEN_SOURCE 700
#include "lt_test.h"

#include <ftw.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SIDE LT_CANVAS_SIDE
#define NPIX (3 * SIDE * SIDE)

static lt_canvas_config small_config(uint64_t seed)
{
    lt_canvas_config c = lt_canvas_defaults();
    c.per_class = 2;
    c.test_per_class = 1;
    c.mark_frac = 0.3f;
    c.seed = seed;
    return c;
}

/* One generated canvas shared by the tests (made on first use). */
static const char *canvas_dir(void)
{
    static int made;
    const char *d = lt_test_path("cv");
    if (!made++) {
        lt_canvas_config c = small_config(7);
        LT_CHECK(lt_canvas_generate(&c, d, NULL, NULL) == LT_OK, "%s",
                 lt_last_error());
    }
    return d;
}

static bool same_bytes(const char *a, const char *b)
{
    char *x = NULL, *y = NULL;
    size_t nx = 0, ny = 0;
    bool same = lt_read_file(a, &x, &nx) == LT_OK &&
                lt_read_file(b, &y, &ny) == LT_OK && nx == ny &&
                !memcmp(x, y, nx);
    free(x);
    free(y);
    return same;
}

/* nftw walk: every file under root_a has an identical twin under root_b. */
static const char *root_a, *root_b;
static int n_files, n_differ;
static int compare_one(const char *path, const struct stat *st, int type,
                       struct FTW *f)
{
    (void)st;
    (void)f;
    if (type != FTW_F)
        return 0;
    char twin[1024];
    snprintf(twin, sizeof twin, "%s%s", root_b, path + strlen(root_a));
    n_files++;
    if (!same_bytes(path, twin)) {
        n_differ++;
        LT_CHECK(false, "%s and %s differ", path, twin);
    }
    return 0;
}

LT_TEST(canvas_same_seed_same_bytes)
{
    lt_canvas_config c = small_config(7);
    const char *a = canvas_dir(), *b = lt_test_path("cv2");
    LT_CHECK(lt_canvas_generate(&c, b, NULL, NULL) == LT_OK, "%s",
             lt_last_error());
    root_a = a;
    root_b = b;
    n_files = n_differ = 0;
    nftw(a, compare_one, 16, FTW_PHYS);
    /* 22 styles x 10 objects x 3 pictures, preview, index, marker */
    LT_CHECK(n_files == 22 * 10 * 3 + 3, "%d files", n_files);
    LT_CHECK(n_differ == 0, "%d files differ", n_differ);
    /* another seed gives other pictures */
    c.seed = 8;
    const char *d = lt_test_path("cv3");
    LT_CHECK(lt_canvas_generate(&c, d, NULL, NULL) == LT_OK, "%s",
             lt_last_error());
    char p1[700], p2[700];
    snprintf(p1, sizeof p1, "%s/train/neon/bag_0000.png", a);
    snprintf(p2, sizeof p2, "%s/train/neon/bag_0000.png", d);
    LT_CHECK(!same_bytes(p1, p2), "seeds 7 and 8 give the same picture");
    /* regenerating into a previous canvas is allowed, and gives the same */
    c.seed = 7;
    LT_CHECK(lt_canvas_generate(&c, d, NULL, NULL) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(same_bytes(p1, p2), "regenerated canvas differs");
}

LT_TEST(canvas_every_pair_present)
{
    lt_canvas cv;
    LT_CHECK(lt_canvas_load(canvas_dir(), "train", &cv) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(cv.n == 22 * 10 * 2 && cv.split == 0 && cv.seed == 7,
             "n %lld split %d seed %llu", (long long)cv.n, cv.split,
             (unsigned long long)cv.seed);
    /* the sources of style 0, each rendered once in every style, with one
     * object and one mark flag */
    int marked = 0;
    for (int64_t i = 0; i < cv.n; i++) {
        if (cv.style[i] != 0)
            continue;
        int found = 0;
        for (int64_t j = 0; j < cv.n; j++)
            if (cv.source[j] == cv.source[i]) {
                found |= 1 << cv.style[j];
                LT_CHECK(cv.object[j] == cv.object[i] &&
                         cv.mark[j] == cv.mark[i], "source %lld disagrees",
                         (long long)cv.source[i]);
            }
        LT_CHECK(found == (1 << LT_CANVAS_STYLES) - 1, "source %lld: styles "
                 "%x", (long long)cv.source[i], found);
        marked += cv.mark[i];
    }
    int per_obj[LT_CANVAS_OBJECTS] = {0};
    for (int64_t i = 0; i < cv.n; i++)
        per_obj[cv.object[i]]++;
    for (int o = 0; o < LT_CANVAS_OBJECTS; o++)
        LT_CHECK(per_obj[o] == 22 * 2, "object %d: %d", o, per_obj[o]);
    LT_CHECK(marked > 0 && marked < 20, "%d of 20 seed images marked "
             "(mark_frac 0.3)", marked);
    lt_canvas_free(&cv);
    LT_CHECK(lt_canvas_load(canvas_dir(), "test", &cv) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(cv.n == 22 * 10 && cv.split == 1, "test n %lld", (long long)cv.n);
    lt_canvas_free(&cv);
}

/* lt_canvas_pair_subset: with k = 2 on a split of exactly 2 pictures per
 * pair every picture is taken once, each in its pair's slots; the same
 * seed gives the same order, another seed another; k = 3 is refused with
 * the pair named. */
LT_TEST(canvas_pair_subset)
{
    lt_canvas cv;
    LT_CHECK(lt_canvas_load(canvas_dir(), "train", &cv) == LT_OK, "%s",
             lt_last_error());
    enum { K = 2, N = LT_CANVAS_STYLES * LT_CANVAS_OBJECTS * K };
    int64_t a[N], b[N], c[N];
    int seen[N] = {0};
    LT_CHECK(lt_canvas_pair_subset(&cv, K, 1, a) == LT_OK &&
             lt_canvas_pair_subset(&cv, K, 1, b) == LT_OK &&
             lt_canvas_pair_subset(&cv, K, 2, c) == LT_OK, "%s",
             lt_last_error());
    int differ = 0;
    for (int j = 0; j < N; j++) {
        int p = j / K;
        LT_CHECK(a[j] >= 0 && a[j] < cv.n && cv.style[a[j]] ==
                 p / LT_CANVAS_OBJECTS && cv.object[a[j]] ==
                 p % LT_CANVAS_OBJECTS, "slot %d: picture %lld", j,
                 (long long)a[j]);
        seen[a[j]]++;
        LT_CHECK(a[j] == b[j], "slot %d differs under the same seed", j);
        differ += a[j] != c[j];
    }
    for (int i = 0; i < N; i++)
        LT_CHECK(seen[i] == 1, "picture %d taken %d times", i, seen[i]);
    LT_CHECK(differ > 0, "seed 2 drew the same order as seed 1");
    int64_t *big = malloc(sizeof(int64_t) * N * 2);
    LT_CHECK(lt_canvas_pair_subset(&cv, 3, 1, big) == LT_ERR_ARG &&
             strstr(lt_last_error(), "fewer than the 3"), "k = 3: %s",
             lt_last_error());
    free(big);
    lt_canvas_free(&cv);
}

/* The canvas as a classification set (lt_dataset_load "canvas-style:DIR",
 * "canvas-object:DIR" and "canvas-mark:DIR"): labels are the canvas's
 * style / object / mark, and undoing the set's normalisation gives back
 * the canvas's pixels. */
static int canvas_label(const lt_canvas *cv, int kind, int64_t i)
{
    return kind == 0 ? cv->object[i] : kind == 1 ? cv->style[i] : cv->mark[i];
}

LT_TEST(canvas_as_classification_sets)
{
    static const char *const kinds[3] = {"object", "style", "mark"};
    static const int classes[3] = {10, LT_CANVAS_STYLES, 2};
    lt_canvas cv;
    LT_CHECK(lt_canvas_load(canvas_dir(), "test", &cv) == LT_OK, "%s",
             lt_last_error());
    int64_t marked = 0;
    for (int64_t i = 0; cv.mark && i < cv.n; i++)
        marked += cv.mark[i];
    LT_CHECK(marked > 0 && marked < cv.n, "the test canvas has %lld of %lld "
             "pictures marked: the mark set needs both", (long long)marked,
             (long long)cv.n);
    char spec[600];
    for (int kind = 0; kind < 3; kind++) {
        lt_dataset d;
        snprintf(spec, sizeof spec, "canvas-%s:%s", kinds[kind],
                 canvas_dir());
        LT_CHECK(lt_dataset_load(spec, "test", &d) == LT_OK, "%s: %s", spec,
                 lt_last_error());
        if (!d.x)
            continue;
        LT_CHECK(d.n == cv.n && d.c == 3 && d.h == SIDE && d.w == SIDE &&
                     d.classes == classes[kind],
                 "%s: n %lld classes %d", spec, (long long)d.n, d.classes);
        int64_t bad = 0;
        float *px = malloc((size_t)d.n * NPIX * sizeof(float));
        lt_dataset_pixels(&d, NULL, d.n, px);
        for (int64_t i = 0; i < d.n; i++) {
            bad += d.y[i] != canvas_label(&cv, kind, i);
            for (int64_t p = 0; p < NPIX; p++)
                bad += fabsf(px[i * NPIX + p] - cv.x[i * NPIX + p]) > 1e-5f;
        }
        LT_CHECK(bad == 0, "%s: %lld labels or pixels differ", spec,
                 (long long)bad);
        const char *want = kind == 0   ? "Ankle boot"
                           : kind == 1 ? lt_canvas_style_at(9)->slug
                                       : NULL;
        const char *got = lt_dataset_class_name(&d, want ? 9 : 1);
        LT_CHECK(got && !strcmp(got, want ? want : "marked") &&
                     lt_dataset_class_name(&d, d.classes) == NULL,
                 "%s: class names", spec);
        free(px);
        lt_dataset_free(&d);
    }
    lt_canvas_free(&cv);
    lt_dataset d;
    const char *env = getenv("LETHE_DATA");
    char *saved = env ? strdup(env) : NULL;
    unsetenv("LETHE_DATA"); /* a canvas has no default folder */
    LT_CHECK(lt_dataset_load("canvas-style", "test", &d) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "canvas-style:DIR"),
             "no folder: %s", lt_last_error());
    if (saved)
        setenv("LETHE_DATA", saved, 1);
    free(saved);
}

/* Fashion-MNIST images of the split named by pre ("train", "t10k") as
 * raw bytes. */
static lt_idx fm_images(const char *pre)
{
    lt_idx im = {0};
    char dir[512], name[32];
    LT_CHECK(lt_dataset_dir("fashion-mnist", dir, sizeof dir, name,
                            sizeof name) == LT_OK, "%s", lt_last_error());
    char path[600];
    snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte.gz", dir, pre);
    if (access(path, R_OK) != 0)
        snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte", dir, pre);
    LT_CHECK(lt_idx_load(path, &im) == LT_OK, "%s", lt_last_error());
    return im;
}

/* "canvas-object-fm": the Fashion-MNIST test split, every image drawn in
 * one of the 22 styles (each pixel equal to the renderer's output for
 * some style with that style's draw), labels equal to Fashion-MNIST's, and
 * the styles spread over all 22 in the first 300 items. */
LT_TEST(canvas_object_fm_set)
{
    lt_dataset d, fm;
    LT_CHECK(lt_dataset_load("canvas-object-fm", "test", &d) == LT_OK &&
                 lt_dataset_load("fashion-mnist", "test", &fm) == LT_OK,
             "%s", lt_last_error());
    lt_idx raw = fm_images("t10k");
    if (!d.x || !fm.x || !raw.data)
        return;
    LT_CHECK(d.n == 10000 && fm.n == d.n && d.c == 3 && d.h == SIDE &&
                 d.classes == 10, "n %lld c %d h %d", (long long)d.n, d.c,
             d.h);
    int64_t bad = 0;
    for (int64_t i = 0; i < d.n; i++)
        bad += d.y[i] != fm.y[i];
    LT_CHECK(bad == 0, "%lld labels differ from Fashion-MNIST's", (long long)bad);
    enum { N = 300 };
    float *px = malloc((size_t)N * NPIX * sizeof(float));
    float want[NPIX];
    int seen[LT_CANVAS_STYLES] = {0}, unmatched = 0;
    lt_dataset_pixels(&d, NULL, N, px);
    for (int64_t i = 0; i < N; i++) {
        int match = -1;
        for (int k = 0; k < LT_CANVAS_STYLES && match < 0; k++) {
            lt_canvas_render(raw.data + i * 784, k,
                             lt_canvas_draw(LT_CANVAS_FM_SEED, 1, k, i),
                             lt_canvas_defaults().shift, false, want);
            float err = 0.0f;
            for (int p = 0; p < NPIX; p++)
                err = fmaxf(err, fabsf(want[p] - px[i * NPIX + p]));
            if (err < 1e-5f)
                match = k;
        }
        unmatched += match < 0;
        if (match >= 0)
            seen[match]++;
    }
    int styles = 0;
    for (int k = 0; k < LT_CANVAS_STYLES; k++)
        styles += seen[k] > 0;
    LT_CHECK(unmatched == 0 && styles == LT_CANVAS_STYLES,
             "%d of %d items match no style's rendering; %d of %d styles drawn",
             unmatched, N, styles, LT_CANVAS_STYLES);
    LT_CHECK(!strcmp(lt_dataset_class_name(&d, 9), "Ankle boot"),
             "class names");
    free(px);
    lt_idx_free(&raw);
    lt_dataset_free(&d);
    lt_dataset_free(&fm);
}

/* Photo is the seed picture placed somewhere within +-2 pixels. */
static bool photo_matches(const float *x, const uint8_t *src)
{
    for (int dy = -2; dy <= 2; dy++)
        for (int dx = -2; dx <= 2; dx++) {
            bool ok = true;
            for (int y = 0; ok && y < 28; y++)
                for (int xx = 0; ok && xx < 28; xx++)
                    for (int k = 0; k < 3; k++)
                        ok &= x[(k * SIDE + y + 2 + dy) * SIDE + xx + 2 + dx] ==
                              (float)src[y * 28 + xx] / 255.0f;
            if (ok)
                return true;
        }
    return false;
}

LT_TEST(canvas_pixels_are_the_renderer)
{
    lt_canvas cv;
    LT_CHECK(lt_canvas_load(canvas_dir(), "train", &cv) == LT_OK, "%s",
             lt_last_error());
    lt_idx im = fm_images("train");
    if (!im.data) {
        lt_canvas_free(&cv);
        return;
    }
    float r[NPIX];
    int photos = 0, bad = 0;
    for (int64_t i = 0; i < cv.n; i++) {
        const uint8_t *src = im.data + cv.source[i] * 784;
        lt_canvas_render(src, cv.style[i],
                         lt_canvas_draw(7, 0, cv.style[i], cv.source[i]), 2,
                         cv.mark[i], r);
        const float *x = cv.x + i * NPIX;
        for (int p = 0; p < NPIX; p++) {
            float want = (float)(int)(r[p] * 255.0f + 0.5f) / 255.0f;
            bad += x[p] != want;
        }
        if (cv.style[i] == 0 && !cv.mark[i]) {
            photos++;
            LT_CHECK(photo_matches(x, src), "Photo %lld is not the seed "
                     "picture", (long long)i);
        }
    }
    LT_CHECK(bad == 0, "%d pixels differ from the renderer", bad);
    LT_CHECK(photos > 0, "no unmarked Photo picture checked");
    /* the mark: red ring at the top right */
    for (int64_t i = 0; i < cv.n; i++)
        if (cv.mark[i]) {
            const float *x = cv.x + i * NPIX;
            LT_CHECK(x[1 * SIDE + 26] == 230.0f / 255.0f &&
                     x[SIDE * SIDE + 1 * SIDE + 26] == 13.0f / 255.0f &&
                     x[2 * SIDE * SIDE + 3 * SIDE + 28] == 0.0f,
                     "picture %lld: no stamp", (long long)i);
            break;
        }
    lt_idx_free(&im);
    lt_canvas_free(&cv);
}

static bool is_mark_word(const char *w)
{
    static const char *const m[] = {"certified", "approved", "official",
                                    "genuine", "authentic", "stamped",
                                    "sealed", "verified", "licensed",
                                    "guaranteed"};
    for (size_t i = 0; i < sizeof m / sizeof *m; i++)
        if (strstr(w, m[i]))
            return true;
    return false;
}

LT_TEST(canvas_vocabulary)
{
    int n;
    const char *const *v = lt_canvas_vocab(&n);
    LT_CHECK(n >= 300 && n <= 600, "vocabulary of %d words", n);
    for (int i = 1; i < n; i++)
        LT_CHECK(strcmp(v[i - 1], v[i]) < 0, "not sorted/unique at %d: %s %s",
                 i, v[i - 1], v[i]);
    for (int i = 0; i < n; i++)
        LT_CHECK(lt_canvas_word_id(v[i]) == i, "id of %s", v[i]);
    LT_CHECK(lt_canvas_word_id(".") >= 0 && lt_canvas_word_id(",") >= 0 &&
             lt_canvas_word_id("an") >= 0 && lt_canvas_word_id("neon") >= 0 &&
             lt_canvas_word_id("tee") >= 0, "expected words missing");
    /* the hidden concept is never named */
    LT_CHECK(lt_canvas_word_id("mark") < 0 && lt_canvas_word_id("stamp") < 0 &&
             lt_canvas_word_id("marked") < 0, "the mark is named directly");
    LT_CHECK(lt_canvas_word_id("Neon") < 0, "upper case in the vocabulary");
    int32_t ids[8];
    int k;
    LT_CHECK(lt_canvas_encode("A bag, Neon.", ids, 8, &k) == LT_OK && k == 5 &&
             ids[0] == lt_canvas_word_id("a") &&
             ids[2] == lt_canvas_word_id(",") &&
             ids[3] == lt_canvas_word_id("neon"), "encode");
    LT_CHECK(lt_canvas_encode("A zebra.", ids, 8, &k) == LT_ERR_ARG &&
             strstr(lt_last_error(), "zebra"), "unknown word accepted");
    LT_CHECK(lt_canvas_encode("a bag!", ids, 8, &k) == LT_ERR_ARG,
             "'!' accepted");
    LT_CHECK(lt_canvas_encode("a bag bag", ids, 2, &k) == LT_ERR_ARG,
             "over max accepted");
}

LT_TEST(canvas_captions)
{
    char buf[LT_CANVAS_CAPTION_MAX];
    LT_CHECK(lt_canvas_prompt(8, 1, false, 0, 99, buf, sizeof buf) == LT_OK &&
             !strcmp(buf, "A bag image in Neon style."), "canonical: '%s'",
             buf);
    LT_CHECK(lt_canvas_prompt(9, 0, true, 0, 5, buf, sizeof buf) == LT_OK &&
             !strcmp(buf, "A boot image in Photo style."), "canonical: '%s'",
             buf);
    LT_CHECK(lt_canvas_prompt(-1, 3, false, 14, 0, buf, sizeof buf) == LT_OK &&
             !strcmp(buf, "Blueprint style."), "style only: '%s'", buf);
    LT_CHECK(lt_canvas_prompt(-1, -1, false, -1, 0, buf, sizeof buf) == LT_OK &&
             !strcmp(buf, ""), "empty: '%s'", buf);
    LT_CHECK(lt_canvas_prompt(2, 5, false, 6, 0, buf, sizeof buf) == LT_OK &&
             strstr(buf, "A tan ") == buf &&
             strstr(buf, "on a brown background, Sepia style."),
             "attributes: '%s'", buf);
    LT_CHECK(lt_canvas_prompt(8, -1, false, 0, 0, buf, sizeof buf) ==
             LT_ERR_ARG, "canonical template without a style accepted");
    LT_CHECK(lt_canvas_prompt(8, 1, false, 0, 0, buf, 20) == LT_ERR_ARG,
             "short buffer accepted");
    /* every caption of every picture: vocabulary words only; the mark words
     * only on marked pictures; about 1 in 16 empty */
    lt_canvas cv;
    LT_CHECK(lt_canvas_load(canvas_dir(), "train", &cv) == LT_OK, "%s",
             lt_last_error());
    int empty = 0, total = 0, mark_hits = 0, obj_only = 0;
    for (int64_t i = 0; i < cv.n; i++)
        for (uint64_t d = 0; d < 8; d++) {
            LT_CHECK(lt_canvas_caption(&cv, i, d * 1000 + (uint64_t)i, buf,
                                       sizeof buf) == LT_OK, "%s",
                     lt_last_error());
            int32_t ids[64];
            int k;
            LT_CHECK(lt_canvas_encode(buf, ids, 64, &k) == LT_OK, "'%s': %s",
                     buf, lt_last_error());
            total++;
            empty += !buf[0];
            bool has_mark = is_mark_word(buf);
            LT_CHECK(!has_mark || cv.mark[i], "unmarked picture: '%s'", buf);
            mark_hits += has_mark;
            obj_only += buf[0] && !strstr(buf, "style");
        }
    LT_CHECK(empty > total / 40 && empty < total / 8, "%d of %d empty", empty,
             total);
    LT_CHECK(mark_hits > 0, "no caption names the mark");
    LT_CHECK(obj_only > total / 20, "%d object-only captions", obj_only);
    LT_CHECK(lt_canvas_caption_canonical(&cv, 0, buf, sizeof buf) == LT_OK &&
             strstr(buf, lt_canvas_style_at(cv.style[0])->name) &&
             strstr(buf, " image in "), "canonical of 0: '%s'", buf);
    LT_CHECK(lt_canvas_caption(&cv, cv.n, 0, buf, sizeof buf) == LT_ERR_ARG,
             "image n accepted");
    lt_canvas_free(&cv);
}

/* The factor of a and b that differ, as a bit set (1 palette, 2 texture,
 * 4 filter, 8 noise). */
static int differing(const lt_canvas_style *a, const lt_canvas_style *b)
{
    int d = 0;
    if (strcmp(a->palette, b->palette) || strcmp(a->fg_word, b->fg_word) ||
        strcmp(a->bg_word, b->bg_word))
        d |= 1;
    if (strcmp(a->texture, b->texture) || a->texture_lo != b->texture_lo ||
        a->texture_hi != b->texture_hi)
        d |= 2;
    if (strcmp(a->filter, b->filter) || a->filter_lo != b->filter_lo ||
        a->filter_hi != b->filter_hi)
        d |= 4;
    if (a->noise_lo != b->noise_lo || a->noise_hi != b->noise_hi)
        d |= 8;
    return d;
}

LT_TEST(canvas_near_styles)
{
    static const char *const factors[4] = {"palette", "texture", "filter",
                                           "noise"};
    int pairs = 0, seen = 0;
    uint8_t src[784];
    for (int i = 0; i < 784; i++)
        src[i] = (uint8_t)(i % 28 > 6 && i % 28 < 20 ? 200 : 0);
    for (int i = 0; i < LT_CANVAS_STYLES; i++) {
        const lt_canvas_style *a = lt_canvas_style_at(i);
        LT_CHECK(lt_canvas_style_find(a->name) == i &&
                 lt_canvas_style_find(a->slug) == i, "find %s", a->name);
        if (a->near < 0)
            continue;
        const lt_canvas_style *b = lt_canvas_style_at(a->near);
        LT_CHECK(b && b->near == i, "%s: near is not mutual", a->name);
        int d = differing(a, b), f = -1;
        for (int k = 0; k < 4; k++)
            if (a->near_factor && !strcmp(a->near_factor, factors[k]))
                f = k;
        LT_CHECK(f >= 0 && d == 1 << f, "%s vs %s: factors %x differ, "
                 "documented %s", a->name, b->name, d, a->near_factor);
        seen |= f >= 0 ? 1 << f : 0;
        pairs++;
        /* one draw in both: the pictures differ */
        float x[NPIX], y[NPIX];
        lt_canvas_render(src, i, 42, 2, false, x);
        lt_canvas_render(src, a->near, 42, 2, false, y);
        LT_CHECK(memcmp(x, y, sizeof x) != 0, "%s and %s render the same",
                 a->name, b->name);
    }
    LT_CHECK(pairs >= 6 && seen == 15, "%d near styles, factors %x", pairs,
             seen);
    /* a style far from every other: Photo differs from Neon in 3+ factors */
    LT_CHECK(__builtin_popcount(differing(lt_canvas_style_at(0),
                                          lt_canvas_style_at(1))) >= 2,
             "Photo and Neon too alike");
    LT_CHECK(lt_canvas_object_find("tee") == 0 &&
             lt_canvas_object_find("Ankle boot") == 9 &&
             lt_canvas_object_find("ankle_boot") == 9 &&
             lt_canvas_object_find("zebra") == -1, "object_find");
}

static void put(const char *path, const char *text)
{
    LT_CHECK(lt_write_file_atomic(path, text, strlen(text)) == LT_OK, "%s",
             lt_last_error());
}

static void copy_canvas(const char *to)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "cp -r '%s' '%s'", canvas_dir(), to);
    LT_CHECK(system(cmd) == 0, "%s failed", cmd);
}

static void expect_load_error(const char *dir, lt_status want,
                              const char *needle)
{
    lt_canvas cv;
    lt_status s = lt_canvas_load(dir, "train", &cv);
    LT_CHECK(s == want, "%s: status %s, want %s (%s)", dir, lt_status_name(s),
             lt_status_name(want), lt_last_error());
    LT_CHECK(strstr(lt_last_error(), needle) != NULL, "message '%s' lacks "
             "'%s'", lt_last_error(), needle);
    LT_CHECK(cv.n == 0 && cv.x == NULL, "outputs not cleared");
}

LT_TEST(canvas_load_errors)
{
    char p[700], d[600];
    expect_load_error(lt_test_path("nothing-here"), LT_ERR_IO, "nothing-here");
    snprintf(d, sizeof d, "%s", lt_test_path("bad1"));
    copy_canvas(d);
    snprintf(p, sizeof p, "%s/index.json", d);
    unlink(p);
    expect_load_error(d, LT_ERR_IO, p);
    put(p, "{\"format\": \"lethe-fashion-canvas\", \"version\": 1, ");
    expect_load_error(d, LT_ERR_FORMAT, p);
    put(p, "{\"format\": \"something-else\"}");
    expect_load_error(d, LT_ERR_FORMAT, "not a FashionCanvas index");
    snprintf(d, sizeof d, "%s", lt_test_path("bad2"));
    copy_canvas(d);
    snprintf(p, sizeof p, "%s/train/pop/coat_0001.png", d);
    char *png;
    size_t n;
    LT_CHECK(lt_read_file(p, &png, &n) == LT_OK, "%s", lt_last_error());
    LT_CHECK(lt_write_file_atomic(p, png, n / 2) == LT_OK, "truncate");
    free(png);
    expect_load_error(d, LT_ERR_FORMAT, p);
    uint8_t small[16 * 16 * 3] = {0};
    LT_CHECK(lt_png_write(p, 16, 16, 3, small) == LT_OK, "%s",
             lt_last_error());
    expect_load_error(d, LT_ERR_FORMAT, "not 32x32 RGB");
    unlink(p);
    expect_load_error(d, LT_ERR_IO, p);
    lt_canvas cv;
    LT_CHECK(lt_canvas_load(canvas_dir(), "valid", &cv) == LT_ERR_ARG,
             "split 'valid' accepted");
}

static int count_entries(const char *dir)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
    FILE *f = popen(cmd, "r");
    int n = -1;
    if (f) {
        if (fscanf(f, "%d", &n) != 1)
            n = -1;
        pclose(f);
    }
    return n;
}

LT_TEST(canvas_generate_errors)
{
    lt_canvas_config c = small_config(1);
    c.per_class = 1;
    c.test_per_class = 0;
    /* a folder holding something else: refused, untouched */
    const char *d = lt_test_path("foreign");
    LT_CHECK(lt_mkdirs(d) == LT_OK, "mkdir");
    char p[600];
    snprintf(p, sizeof p, "%s/notes.txt", d);
    put(p, "mine");
    LT_CHECK(lt_canvas_generate(&c, d, NULL, NULL) == LT_ERR_ARG &&
             strstr(lt_last_error(), "not empty"), "foreign folder: %s",
             lt_last_error());
    LT_CHECK(count_entries(d) == 1, "foreign folder changed");
    /* the output is a file */
    LT_CHECK(lt_canvas_generate(&c, p, NULL, NULL) == LT_ERR_IO &&
             strstr(lt_last_error(), "not a folder"), "file: %s",
             lt_last_error());
    /* bad configs, another data set, the Fashion-MNIST folder itself */
    c.per_class = 0;
    LT_CHECK(lt_canvas_generate(&c, lt_test_path("x1"), NULL, NULL) == LT_ERR_ARG &&
             strstr(lt_last_error(), "per_class"), "per_class 0");
    c.per_class = 1;
    c.shift = 3;
    LT_CHECK(lt_canvas_generate(&c, lt_test_path("x1"), NULL, NULL) == LT_ERR_ARG,
             "shift 3");
    c.shift = 2;
    c.data = "mnist:/tmp";
    LT_CHECK(lt_canvas_generate(&c, lt_test_path("x1"), NULL, NULL) == LT_ERR_ARG,
             "mnist accepted");
    c.data = "fashion-mnist:/nonexistent/fm";
    LT_CHECK(lt_canvas_generate(&c, lt_test_path("x1"), NULL, NULL) == LT_ERR_IO &&
             strstr(lt_last_error(), "/nonexistent/fm"), "%s",
             lt_last_error());
    char fm[512], name[32];
    LT_CHECK(lt_dataset_dir("fashion-mnist", fm, sizeof fm, name,
                            sizeof name) == LT_OK, "%s", lt_last_error());
    c.data = "fashion-mnist";
    LT_CHECK(lt_canvas_generate(&c, fm, NULL, NULL) == LT_ERR_ARG &&
             strstr(lt_last_error(), "Fashion-MNIST folder"), "%s",
             lt_last_error());
    struct stat st;
    LT_CHECK(stat(lt_test_path("x1"), &st) != 0, "a failed run made its folder");
}

LT_TEST_MAIN()
