/*
 * canvas.c - FashionCanvas on disk (lethe/canvas.h): choosing the seed
 * images from Fashion-MNIST, writing every (seed image, style) picture as a
 * PNG with a preview grid and index.json, and loading a split back.
 *
 * Generation is a pure function of the config: seed images are the first
 * per_class items of each class in a seeded permutation of the split, the
 * mark goes on a seeded share of them, and each picture's parameters come
 * from lt_canvas_draw(seed, split, style, source). Files are written
 * atomically; index.json comes last and is what marks a finished canvas.
 */
#include "canvas_internal.h"
#include "lethe/data.h"
#include "lethe/io.h"
#include "lethe/png.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S LT_CANVAS_SIDE
#define LT_CV_MARKER ".fashion-canvas"
#define LT_CV_FORMAT "lethe-fashion-canvas"
#define LT_CV_PATH 4200

static const char *const lt_cv_splits[2] = {"train", "test"};
/* Fashion-MNIST's smallest class counts: 6000 per class in train, 1000 in
 * test. */
static const int lt_cv_split_max[2] = {6000, 1000};

lt_canvas_config lt_canvas_defaults(void)
{
    lt_canvas_config c = {"fashion-mnist", 60, 10, 2, 0.1f, 1};
    return c;
}

uint64_t lt_canvas_draw(uint64_t seed, int split, int style, int64_t source)
{
    return lt_hash3(seed, 1000 + (uint64_t)split * 64 + (uint64_t)style,
                    (uint64_t)source);
}

/* Whether seed image source of split carries the mark. */
static bool lt_cv_marked(const lt_canvas_config *c, int split, int64_t source)
{
    return lt_u64_to_uniform(lt_hash3(c->seed, 100 + (uint64_t)split,
                                      (uint64_t)source)) < c->mark_frac;
}

static lt_status lt_cv_check_config(const lt_canvas_config *c)
{
    if (!c || !c->data)
        return lt_set_error(LT_ERR_ARG, "canvas: NULL config or data");
    if (c->per_class < 1 || c->per_class > lt_cv_split_max[0])
        return lt_set_error(LT_ERR_ARG, "canvas: per_class %d is not in "
                            "1..%d", c->per_class, lt_cv_split_max[0]);
    if (c->test_per_class < 0 || c->test_per_class > lt_cv_split_max[1])
        return lt_set_error(LT_ERR_ARG, "canvas: test_per_class %d is not in "
                            "0..%d", c->test_per_class, lt_cv_split_max[1]);
    if (c->shift < 0 || c->shift > 2)
        return lt_set_error(LT_ERR_ARG, "canvas: shift %d is not in 0..2 "
                            "(28 pixels must fit in 32)", c->shift);
    if (!(c->mark_frac >= 0.0f && c->mark_frac <= 1.0f))
        return lt_set_error(LT_ERR_ARG, "canvas: mark_frac %g is not in "
                            "[0, 1]", c->mark_frac);
    return LT_OK;
}

/* ---- the output folder --------------------------------------------------- */

/* LT_OK when dir is missing, an empty folder, or a folder holding the
 * marker of a previous canvas. Changes nothing. */
static lt_status lt_cv_check_dir(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0)
        return LT_OK;
    if (!S_ISDIR(st.st_mode))
        return lt_set_error(LT_ERR_IO, "%s: exists and is not a folder", dir);
    DIR *d = opendir(dir);
    if (!d)
        return lt_set_error(LT_ERR_IO, "%s: cannot open folder: %s", dir,
                            strerror(errno));
    bool empty = true, ours = false;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        empty = false;
        ours |= !strcmp(e->d_name, LT_CV_MARKER);
    }
    closedir(d);
    if (!empty && !ours)
        return lt_set_error(LT_ERR_ARG, "%s: folder is not empty and is not "
                            "a FashionCanvas (no %s in it); refusing to "
                            "write into it", dir, LT_CV_MARKER);
    return LT_OK;
}

/* Make dir, write its marker and remove a previous index (so the folder
 * reads as unfinished until the new index is written). */
static lt_status lt_cv_start_dir(const char *dir)
{
    lt_status s = lt_mkdirs(dir);
    char p[LT_CV_PATH];
    snprintf(p, sizeof p, "%s/%s", dir, LT_CV_MARKER);
    if (s == LT_OK)
        s = lt_write_text_atomic(p, "lethe FashionCanvas folder (see "
                                 "index.json)");
    snprintf(p, sizeof p, "%s/index.json", dir);
    if (s == LT_OK && unlink(p) != 0 && errno != ENOENT)
        s = lt_set_error(LT_ERR_IO, "%s: cannot remove the old index: %s", p,
                         strerror(errno));
    return s;
}

/* ---- seed images --------------------------------------------------------- */

typedef struct {
    lt_idx im, lb;
    int64_t *src;   /* [10 * per] Fashion-MNIST index of seed (class, k) */
    int per;
} lt_cv_seeds;

static void lt_cv_seeds_free(lt_cv_seeds *s)
{
    lt_idx_free(&s->im);
    lt_idx_free(&s->lb);
    free(s->src);
    memset(s, 0, sizeof *s);
}

static lt_status lt_cv_idx(const char *dir, const char *stem, lt_idx *out)
{
    char path[LT_CV_PATH];
    snprintf(path, sizeof path, "%s/%s.gz", dir, stem);
    if (access(path, R_OK) != 0)
        snprintf(path, sizeof path, "%s/%s", dir, stem);
    return lt_idx_load(path, out);
}

/* The first per items of each class in a seeded permutation of split. */
static lt_status lt_cv_pick_seeds(const lt_canvas_config *c, int split,
                                  int64_t *perm, lt_cv_seeds *s)
{
    int64_t n = s->lb.shape[0];
    int have[LT_CANVAS_OBJECTS] = {0};
    lt_permutation(perm, n, lt_hash3(c->seed, 200 + (uint64_t)split, 0));
    for (int64_t i = 0; i < n; i++) {
        int y = s->lb.data[perm[i]];
        if (y < LT_CANVAS_OBJECTS && have[y] < s->per)
            s->src[y * s->per + have[y]++] = perm[i];
    }
    for (int y = 0; y < LT_CANVAS_OBJECTS; y++)
        if (have[y] < s->per)
            return lt_set_error(LT_ERR_FORMAT, "canvas: the Fashion-MNIST %s "
                                "split has %d items of class %d, fewer than "
                                "the %d asked for", lt_cv_splits[split],
                                have[y], y, s->per);
    return LT_OK;
}

static lt_status lt_cv_load_seeds(const lt_canvas_config *c, const char *fm,
                                  int split, lt_cv_seeds *s)
{
    const char *pre = split ? "t10k" : "train";
    char stem[64];
    memset(s, 0, sizeof *s);
    s->per = split ? c->test_per_class : c->per_class;
    snprintf(stem, sizeof stem, "%s-images-idx3-ubyte", pre);
    lt_status st = lt_cv_idx(fm, stem, &s->im);
    snprintf(stem, sizeof stem, "%s-labels-idx1-ubyte", pre);
    if (st == LT_OK)
        st = lt_cv_idx(fm, stem, &s->lb);
    if (st == LT_OK && (s->im.ndim != 3 || s->im.shape[1] != 28 ||
                        s->im.shape[2] != 28 || s->lb.ndim != 1 ||
                        s->lb.shape[0] != s->im.shape[0]))
        st = lt_set_error(LT_ERR_FORMAT, "%s/%s-*: expected N 28x28 images "
                          "and N labels", fm, pre);
    int64_t *perm = NULL;
    if (st == LT_OK) {
        s->src = malloc(sizeof *s->src * LT_CANVAS_OBJECTS * (s->per + 1));
        perm = malloc(sizeof *perm * (size_t)s->lb.shape[0]);
        st = s->src && perm ? lt_cv_pick_seeds(c, split, perm, s)
                            : lt_set_error(LT_ERR_NOMEM, "canvas: out of "
                                           "memory");
    }
    free(perm);
    if (st != LT_OK)
        lt_cv_seeds_free(s);
    return st;
}

/* ---- writing ------------------------------------------------------------- */

static uint8_t lt_cv_byte(float v)
{
    return v <= 0.0f ? 0 : v >= 1.0f ? 255 : (uint8_t)(v * 255.0f + 0.5f);
}

static void lt_cv_file(char *buf, size_t n, int split, int style, int object,
                       int k)
{
    snprintf(buf, n, "%s/%s/%s_%04d.png", lt_cv_splits[split],
             lt_canvas_style_at(style)->slug, lt_canvas_object_at(object)->slug,
             k);
}

/* The state of one generation run. */
typedef struct {
    const lt_canvas_config *c;
    const char *dir;
    cJSON *images;
    float *preview;          /* [styles * objects, 3, 32, 32] */
    lt_canvas_progress progress;
    void *ud;
    int64_t done, total;
} lt_cv_job;

static cJSON *lt_cv_entry(const char *file, int split, int object, int style,
                          int64_t source, bool mark)
{
    cJSON *e = cJSON_CreateObject();
    if (e && cJSON_AddStringToObject(e, "file", file) &&
        cJSON_AddStringToObject(e, "split", lt_cv_splits[split]) &&
        cJSON_AddNumberToObject(e, "object", object) &&
        cJSON_AddNumberToObject(e, "style", style) &&
        cJSON_AddNumberToObject(e, "source", (double)source) &&
        cJSON_AddBoolToObject(e, "mark", mark))
        return e;
    cJSON_Delete(e);
    return NULL;
}

/* Render and write picture k of object in style (no index entry: the
 * caller adds those in order). */
static lt_status lt_cv_write_one(lt_cv_job *j, const lt_cv_seeds *s, int split,
                                 int style, int object, int k)
{
    int64_t src = s->src[object * s->per + k];
    float x[3 * S * S];
    uint8_t px[S * S * 3];
    lt_canvas_render(s->im.data + src * 784, style,
                     lt_canvas_draw(j->c->seed, split, style, src),
                     j->c->shift, lt_cv_marked(j->c, split, src), x);
    for (int i = 0; i < S * S; i++)
        for (int ch = 0; ch < 3; ch++)
            px[i * 3 + ch] = lt_cv_byte(x[ch * S * S + i]);
    if (split == 0 && k == 0)
        memcpy(j->preview + (size_t)(style * LT_CANVAS_OBJECTS + object) *
                                3 * S * S, x, sizeof x);
    char rel[256], path[LT_CV_PATH];
    lt_cv_file(rel, sizeof rel, split, style, object, k);
    snprintf(path, sizeof path, "%s/%s", j->dir, rel);
    return lt_png_write(path, S, S, 3, px);
}

/* Index entries of the pictures of style, in file order. */
static lt_status lt_cv_index_style(lt_cv_job *j, const lt_cv_seeds *s,
                                   int split, int style)
{
    for (int o = 0; o < LT_CANVAS_OBJECTS; o++)
        for (int k = 0; k < s->per; k++) {
            int64_t src = s->src[o * s->per + k];
            char rel[256];
            lt_cv_file(rel, sizeof rel, split, style, o, k);
            cJSON *e = lt_cv_entry(rel, split, o, style, src,
                                   lt_cv_marked(j->c, split, src));
            if (!e || !cJSON_AddItemToArray(j->images, e))
                return lt_set_error(LT_ERR_NOMEM, "canvas: out of memory");
        }
    return LT_OK;
}

/* The pictures of one style, LT_CV_WRITERS files at a time (each write
 * waits on fsync, so more writers than cores pays). A failure keeps the
 * message of the first failing picture in file order (errors are
 * thread-local, so it is copied out of the worker). */
#define LT_CV_WRITERS 8
static lt_status lt_cv_write_style(lt_cv_job *j, const lt_cv_seeds *s,
                                   int split, int style)
{
    int n = LT_CANVAS_OBJECTS * s->per, first = n;
    lt_status code = LT_OK;
    char msg[512] = "";
#pragma omp parallel for schedule(dynamic, 4) num_threads(LT_CV_WRITERS)
    for (int i = 0; i < n; i++) {
        lt_status st = lt_cv_write_one(j, s, split, style, i / s->per,
                                       i % s->per);
        if (st != LT_OK) {
#pragma omp critical
            if (i < first) {
                first = i;
                code = st;
                snprintf(msg, sizeof msg, "%s", lt_last_error());
            }
        }
    }
    if (code != LT_OK)
        return lt_set_error(code, "%s", msg);
    j->done += n;
    if (j->progress)
        j->progress(j->ud, j->done, j->total);
    return lt_cv_index_style(j, s, split, style);
}

static lt_status lt_cv_write_split(lt_cv_job *j, const lt_cv_seeds *s,
                                   int split)
{
    for (int st = 0; st < LT_CANVAS_STYLES; st++) {
        char path[LT_CV_PATH];
        snprintf(path, sizeof path, "%s/%s/%s", j->dir, lt_cv_splits[split],
                 lt_canvas_style_at(st)->slug);
        lt_status r = lt_mkdirs(path);
        if (r == LT_OK)
            r = lt_cv_write_style(j, s, split, st);
        if (r != LT_OK)
            return r;
    }
    return LT_OK;
}

/* ---- index.json ---------------------------------------------------------- */

static cJSON *lt_cv_strings(const char *const *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < n && v[i]; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
    return a;
}

static cJSON *lt_cv_style_json(int i)
{
    const lt_canvas_style *s = lt_canvas_style_at(i);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", s->name);
    cJSON_AddStringToObject(o, "slug", s->slug);
    cJSON_AddStringToObject(o, "description", s->description);
    cJSON_AddStringToObject(o, "palette", s->palette);
    cJSON_AddStringToObject(o, "object_colour", s->fg_word);
    cJSON_AddStringToObject(o, "background_colour", s->bg_word);
    cJSON_AddStringToObject(o, "texture", s->texture);
    const float tr[2] = {s->texture_lo, s->texture_hi};
    const float fr[2] = {s->filter_lo, s->filter_hi};
    const float nr[2] = {s->noise_lo, s->noise_hi};
    cJSON_AddItemToObject(o, "texture_period", cJSON_CreateFloatArray(tr, 2));
    cJSON_AddStringToObject(o, "filter", s->filter);
    cJSON_AddItemToObject(o, "filter_param", cJSON_CreateFloatArray(fr, 2));
    cJSON_AddItemToObject(o, "noise", cJSON_CreateFloatArray(nr, 2));
    if (s->near >= 0) {
        cJSON_AddStringToObject(o, "near", lt_canvas_style_at(s->near)->name);
        cJSON_AddStringToObject(o, "near_factor", s->near_factor);
    }
    return o;
}

static cJSON *lt_cv_tables_json(cJSON *root)
{
    cJSON *objs = cJSON_AddArrayToObject(root, "objects");
    for (int i = 0; objs && i < LT_CANVAS_OBJECTS; i++) {
        const lt_canvas_object *ob = lt_canvas_object_at(i);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", ob->label);
        cJSON_AddStringToObject(o, "word", ob->word);
        cJSON_AddStringToObject(o, "slug", ob->slug);
        cJSON_AddItemToObject(o, "synonyms", lt_cv_strings(ob->synonyms, 3));
        cJSON_AddItemToArray(objs, o);
    }
    cJSON *sty = cJSON_AddArrayToObject(root, "styles");
    cJSON *near = cJSON_AddArrayToObject(root, "near_pairs");
    for (int i = 0; sty && near && i < LT_CANVAS_STYLES; i++) {
        cJSON_AddItemToArray(sty, lt_cv_style_json(i));
        const lt_canvas_style *s = lt_canvas_style_at(i);
        if (s->near > i) {
            const char *pair[3] = {s->name, lt_canvas_style_at(s->near)->name,
                                   s->near_factor};
            cJSON_AddItemToArray(near, lt_cv_strings(pair, 3));
        }
    }
    return root;
}

static cJSON *lt_cv_config_json(const lt_canvas_config *c, cJSON *root)
{
    cJSON *o = cJSON_AddObjectToObject(root, "config");
    cJSON_AddStringToObject(o, "data", c->data);
    cJSON_AddNumberToObject(o, "per_class", c->per_class);
    cJSON_AddNumberToObject(o, "test_per_class", c->test_per_class);
    cJSON_AddNumberToObject(o, "shift", c->shift);
    cJSON_AddNumberToObject(o, "mark_frac", c->mark_frac);
    char seed[24];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)c->seed);
    cJSON_AddStringToObject(root, "seed", seed);
    return root;
}

static lt_status lt_cv_write_index(lt_cv_job *j)
{
    cJSON *root = cJSON_CreateObject();
    bool ok = root && cJSON_AddStringToObject(root, "format", LT_CV_FORMAT) &&
              cJSON_AddNumberToObject(root, "version", LT_CANVAS_VERSION);
    if (ok) {
        lt_cv_config_json(j->c, root);
        cJSON_AddNumberToObject(root, "side", S);
        cJSON_AddStringToObject(root, "mark", "a 5x5 red and yellow stamp "
                                "in the top-right corner; captions name it "
                                "only through implicit words");
        lt_cv_tables_json(root);
        ok = cJSON_AddItemToObject(root, "images", j->images);
        if (ok)
            j->images = NULL;
    }
    char path[LT_CV_PATH];
    snprintf(path, sizeof path, "%s/index.json", j->dir);
    return lt_json_save(path, root, ok);
}

/* ---- generation ---------------------------------------------------------- */

static lt_status lt_cv_run(lt_cv_job *j, const char *fm)
{
    lt_cv_seeds seeds[2];
    memset(seeds, 0, sizeof seeds);
    lt_status st = lt_cv_load_seeds(j->c, fm, 0, &seeds[0]);
    if (st == LT_OK && j->c->test_per_class > 0)
        st = lt_cv_load_seeds(j->c, fm, 1, &seeds[1]);
    if (st == LT_OK)
        st = lt_cv_start_dir(j->dir);
    for (int sp = 0; st == LT_OK && sp < 2; sp++)
        if (seeds[sp].per > 0)
            st = lt_cv_write_split(j, &seeds[sp], sp);
    if (st == LT_OK) {
        char path[LT_CV_PATH];
        snprintf(path, sizeof path, "%s/preview.png", j->dir);
        st = lt_png_grid(path, j->preview, LT_CANVAS_STYLES * LT_CANVAS_OBJECTS,
                         3, S, S, LT_CANVAS_OBJECTS, 0.0f, 1.0f);
    }
    if (st == LT_OK)
        st = lt_cv_write_index(j);
    lt_cv_seeds_free(&seeds[0]);
    lt_cv_seeds_free(&seeds[1]);
    return st;
}

lt_status lt_canvas_generate(const lt_canvas_config *cfg, const char *dir,
                             lt_canvas_progress progress, void *ud)
{
    lt_status st = lt_cv_check_config(cfg);
    if (st != LT_OK)
        return st;
    if (!dir || !*dir)
        return lt_set_error(LT_ERR_ARG, "canvas: no output folder");
    char fm[LT_CV_PATH], name[32];
    st = lt_dataset_dir(cfg->data, fm, sizeof fm, name, sizeof name);
    if (st != LT_OK)
        return st;
    if (strcmp(name, "fashion-mnist"))
        return lt_set_error(LT_ERR_ARG, "canvas: data '%s' is not "
                            "fashion-mnist[:DIR]", cfg->data);
    if (lt_same_file(dir, fm))
        return lt_set_error(LT_ERR_ARG, "%s: is the Fashion-MNIST folder; "
                            "choose another output folder", dir);
    if ((st = lt_cv_check_dir(dir)) != LT_OK)
        return st;
    lt_cv_job j = {cfg, dir, cJSON_CreateArray(),
                   calloc((size_t)LT_CANVAS_STYLES * LT_CANVAS_OBJECTS * 3 * S * S,
                          sizeof(float)),
                   progress, ud, 0,
                   (int64_t)LT_CANVAS_STYLES * LT_CANVAS_OBJECTS *
                       (cfg->per_class + cfg->test_per_class)};
    st = j.images && j.preview ? lt_cv_run(&j, fm)
                               : lt_set_error(LT_ERR_NOMEM, "canvas: out of "
                                              "memory");
    cJSON_Delete(j.images);
    free(j.preview);
    return st;
}
