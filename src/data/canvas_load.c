/*
 * canvas_load.c - reading a FashionCanvas split back (lt_canvas_load):
 * index.json is checked (format, version, the style and object tables must
 * be this library's, every image entry well formed), then each listed PNG
 * of the split is read and must be a 32x32 RGB picture. Also the seeded
 * per-pair subsets the evaluations draw (lt_canvas_pair_subset).
 */
#include "canvas_internal.h"
#include "lethe/data.h"
#include "lethe/io.h"
#include "lethe/png.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define S LT_CANVAS_SIDE
#define LT_CV_PATH 4200

void lt_canvas_free(lt_canvas *cv)
{
    if (!cv)
        return;
    free(cv->x);
    free(cv->object);
    free(cv->style);
    free(cv->mark);
    free(cv->source);
    memset(cv, 0, sizeof *cv);
}

lt_status lt_canvas_pair_subset(const lt_canvas *cv, int k, uint64_t seed,
                                int64_t *idx)
{
    enum { NO = LT_CANVAS_OBJECTS, NP = LT_CANVAS_STYLES * LT_CANVAS_OBJECTS };
    int64_t *perm = malloc((size_t)cv->n * sizeof *perm + 8);
    int got[NP] = {0};
    if (!perm)
        return lt_set_error(LT_ERR_NOMEM, "canvas: out of memory for a "
                            "subset of %lld pictures", (long long)cv->n);
    lt_permutation(perm, cv->n, seed);
    for (int64_t j = 0; j < cv->n; j++) {
        int64_t i = perm[j];
        int p = cv->style[i] * NO + cv->object[i];
        if (got[p] < k)
            idx[(int64_t)p * k + got[p]++] = i;
    }
    free(perm);
    for (int p = 0; p < NP; p++)
        if (got[p] < k)
            return lt_set_error(LT_ERR_ARG, "canvas: the %s split has %d "
                                "picture(s) of %s %s, fewer than the %d "
                                "asked for", cv->split ? "test" : "train",
                                got[p], lt_canvas_style_at(p / NO)->name,
                                lt_canvas_object_at(p % NO)->word, k);
    return LT_OK;
}

/* The index's style and object names must be this library's tables. */
static lt_status lt_cv_check_tables(const cJSON *root, const char *path)
{
    const cJSON *sty = cJSON_GetObjectItemCaseSensitive(root, "styles");
    const cJSON *obj = cJSON_GetObjectItemCaseSensitive(root, "objects");
    if (cJSON_GetArraySize(sty) != LT_CANVAS_STYLES ||
        cJSON_GetArraySize(obj) != LT_CANVAS_OBJECTS)
        return lt_set_error(LT_ERR_FORMAT, "%s: expected %d styles and %d "
                            "objects", path, LT_CANVAS_STYLES,
                            LT_CANVAS_OBJECTS);
    for (int i = 0; i < LT_CANVAS_STYLES; i++) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetArrayItem(sty, i), "name");
        if (!cJSON_IsString(n) ||
            strcmp(n->valuestring, lt_canvas_style_at(i)->name))
            return lt_set_error(LT_ERR_FORMAT, "%s: style %d is not %s (made "
                                "by another FashionCanvas version)", path, i,
                                lt_canvas_style_at(i)->name);
    }
    return LT_OK;
}

static lt_status lt_cv_check_header(const cJSON *root, const char *path)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(root, "format");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "version");
    if (!cJSON_IsString(f) || strcmp(f->valuestring, "lethe-fashion-canvas"))
        return lt_set_error(LT_ERR_FORMAT, "%s: not a FashionCanvas index "
                            "(no \"format\": \"lethe-fashion-canvas\")", path);
    if (!cJSON_IsNumber(v) || v->valuedouble != LT_CANVAS_VERSION)
        return lt_set_error(LT_ERR_FORMAT, "%s: version is not %d", path,
                            LT_CANVAS_VERSION);
    if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root, "images")))
        return lt_set_error(LT_ERR_FORMAT, "%s: no \"images\" array", path);
    return lt_cv_check_tables(root, path);
}

/* An integer field of e in [lo, hi]; false if missing or out of range. */
static bool lt_cv_int(const cJSON *e, const char *key, double lo, double hi,
                      int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, key);
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi) ||
        v->valuedouble != (double)(int64_t)v->valuedouble)
        return false;
    *out = (int64_t)v->valuedouble;
    return true;
}

/* A file name inside the canvas: relative, no "..", ends in .png. */
static bool lt_cv_safe_file(const char *f)
{
    size_t n = strlen(f);
    return n > 4 && f[0] != '/' && !strstr(f, "..") &&
           !strcmp(f + n - 4, ".png");
}

/* Read entry e (image i of the split) into cv. */
static lt_status lt_cv_load_entry(const char *dir, const char *ipath,
                                  const cJSON *e, int k, lt_canvas *cv,
                                  int64_t i)
{
    const cJSON *file = cJSON_GetObjectItemCaseSensitive(e, "file");
    const cJSON *mark = cJSON_GetObjectItemCaseSensitive(e, "mark");
    int64_t obj, sty, src;
    if (!cJSON_IsString(file) || !lt_cv_safe_file(file->valuestring) ||
        !cJSON_IsBool(mark) ||
        !lt_cv_int(e, "object", 0, LT_CANVAS_OBJECTS - 1, &obj) ||
        !lt_cv_int(e, "style", 0, LT_CANVAS_STYLES - 1, &sty) ||
        !lt_cv_int(e, "source", 0, 1e9, &src))
        return lt_set_error(LT_ERR_FORMAT, "%s: image entry %d is malformed "
                            "(needs file, object, style, source, mark)", ipath,
                            k);
    char path[LT_CV_PATH];
    snprintf(path, sizeof path, "%s/%s", dir, file->valuestring);
    int w, h, c;
    uint8_t *px;
    lt_status st = lt_png_read(path, &w, &h, &c, &px);
    if (st != LT_OK)
        return st;
    if (w != S || h != S || c != 3) {
        free(px);
        return lt_set_error(LT_ERR_FORMAT, "%s: is %dx%d with %d channels, "
                            "not %dx%d RGB", path, w, h, c, S, S);
    }
    float *x = cv->x + i * 3 * S * S;
    for (int p = 0; p < S * S; p++)
        for (int ch = 0; ch < 3; ch++)
            x[ch * S * S + p] = (float)px[p * 3 + ch] / 255.0f;
    free(px);
    cv->object[i] = (int32_t)obj;
    cv->style[i] = (int32_t)sty;
    cv->mark[i] = cJSON_IsTrue(mark);
    cv->source[i] = src;
    return LT_OK;
}

static bool lt_cv_in_split(const cJSON *e, const char *split)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(e, "split");
    return cJSON_IsString(s) && !strcmp(s->valuestring, split);
}

static lt_status lt_cv_alloc(lt_canvas *cv, int64_t n)
{
    cv->n = n;
    cv->x = malloc(sizeof *cv->x * (size_t)(n ? n : 1) * 3 * S * S);
    cv->object = malloc(sizeof *cv->object * (size_t)(n ? n : 1));
    cv->style = malloc(sizeof *cv->style * (size_t)(n ? n : 1));
    cv->mark = malloc((size_t)(n ? n : 1));
    cv->source = malloc(sizeof *cv->source * (size_t)(n ? n : 1));
    if (cv->x && cv->object && cv->style && cv->mark && cv->source)
        return LT_OK;
    return lt_set_error(LT_ERR_NOMEM, "canvas: out of memory for %lld "
                        "pictures", (long long)n);
}

static lt_status lt_cv_load_images(const char *dir, const char *ipath,
                                   const cJSON *root, const char *split,
                                   lt_canvas *cv)
{
    const cJSON *imgs = cJSON_GetObjectItemCaseSensitive(root, "images");
    const cJSON *e;
    int64_t n = 0;
    cJSON_ArrayForEach(e, imgs) n += lt_cv_in_split(e, split);
    lt_status st = lt_cv_alloc(cv, n);
    int64_t i = 0;
    int k = 0;
    cJSON_ArrayForEach(e, imgs)
    {
        if (st == LT_OK && lt_cv_in_split(e, split))
            st = lt_cv_load_entry(dir, ipath, e, k, cv, i++);
        k++;
    }
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(root, "seed");
    if (st == LT_OK && cJSON_IsString(seed))
        cv->seed = strtoull(seed->valuestring, NULL, 10);
    return st;
}

lt_status lt_canvas_load(const char *dir, const char *split, lt_canvas *out)
{
    if (!out)
        return lt_set_error(LT_ERR_ARG, "canvas load: NULL output");
    memset(out, 0, sizeof *out);
    if (!dir || !split || (strcmp(split, "train") && strcmp(split, "test")))
        return lt_set_error(LT_ERR_ARG, "canvas load: split must be train or "
                            "test (got '%s')", split ? split : "(null)");
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return lt_set_error(LT_ERR_IO, "%s: no such folder", dir);
    char ipath[LT_CV_PATH];
    snprintf(ipath, sizeof ipath, "%s/index.json", dir);
    char *text;
    if (lt_read_file(ipath, &text, NULL) != LT_OK)
        return lt_set_error(LT_ERR_IO, "%s: cannot read it (not a "
                            "FashionCanvas folder, or its generation did not "
                            "finish)", ipath);
    cJSON *root = cJSON_Parse(text);
    free(text);
    lt_status st = root ? lt_cv_check_header(root, ipath)
                        : lt_set_error(LT_ERR_FORMAT, "%s: not valid JSON",
                                       ipath);
    out->split = !strcmp(split, "test");
    if (st == LT_OK)
        st = lt_cv_load_images(dir, ipath, root, split, out);
    cJSON_Delete(root);
    if (st != LT_OK)
        lt_canvas_free(out);
    return st;
}
