/*
 * canvas_metrics.c - UnlearnCanvas' UA / IRA / CRA from per-(style,
 * object) classifier verdicts (lethe/canvas_metrics.h): the per-class
 * accuracies of the official accuracy.py, then the paper's aggregation
 * for one target.
 */
#include "lethe/canvas_metrics.h"

#include <string.h>

lt_status lt_canvas_count(int styles, int objects, int64_t m,
                          const int32_t *style, const int32_t *object,
                          const int32_t *style_pred,
                          const int32_t *object_pred, int64_t *n,
                          int64_t *style_hits, int64_t *object_hits)
{
    if (styles < 1 || objects < 1 || m < 0 || !n || !style_hits ||
        !object_hits || (m > 0 && (!style || !object || !style_pred ||
                                   !object_pred)))
        return lt_set_error(LT_ERR_ARG, "canvas count: bad argument");
    size_t cells = (size_t)styles * (size_t)objects;
    memset(n, 0, cells * sizeof *n);
    memset(style_hits, 0, cells * sizeof *style_hits);
    memset(object_hits, 0, cells * sizeof *object_hits);
    for (int64_t i = 0; i < m; i++) {
        if (style[i] < 0 || style[i] >= styles || object[i] < 0 ||
            object[i] >= objects)
            return lt_set_error(LT_ERR_ARG, "canvas count: image %lld is "
                                "prompted with style %d, object %d: outside "
                                "%d styles x %d objects", (long long)i,
                                style[i], object[i], styles, objects);
        size_t k = (size_t)style[i] * (size_t)objects + (size_t)object[i];
        n[k]++;
        style_hits[k] += style_pred[i] == style[i];
        object_hits[k] += object_pred[i] == object[i];
    }
    return LT_OK;
}

static lt_status check_table(const lt_canvas_table *t)
{
    if (!t || t->styles < 1 || t->objects < 1 || !t->n || !t->style_hits ||
        !t->object_hits)
        return lt_set_error(LT_ERR_ARG, "canvas scores: empty table");
    for (int s = 0; s < t->styles; s++)
        for (int o = 0; o < t->objects; o++) {
            int64_t k = (int64_t)s * t->objects + o, n = t->n[k];
            if (n < 1 || t->style_hits[k] < 0 || t->style_hits[k] > n ||
                t->object_hits[k] < 0 || t->object_hits[k] > n)
                return lt_set_error(LT_ERR_ARG, "canvas scores: cell (style "
                                    "%d, object %d) has n %lld, hits %lld "
                                    "and %lld (need n >= 1, hits in [0, n])",
                                    s, o, (long long)n,
                                    (long long)t->style_hits[k],
                                    (long long)t->object_hits[k]);
        }
    return LT_OK;
}

/* Accuracy of class c of axis ax: its images' hits over their count,
 * skipping the images of class skip of the other axis (-1: none). */
static double class_acc(const lt_canvas_table *t, lt_canvas_axis ax, int c,
                        int skip)
{
    bool st = ax == LT_CANVAS_STYLE;
    int other = st ? t->objects : t->styles;
    int64_t hits = 0, n = 0;
    for (int j = 0; j < other; j++) {
        if (j == skip)
            continue;
        int64_t k = st ? (int64_t)c * t->objects + j
                       : (int64_t)j * t->objects + c;
        n += t->n[k];
        hits += st ? t->style_hits[k] : t->object_hits[k];
    }
    return n > 0 ? (double)hits / (double)n : 0.0;
}

lt_status lt_canvas_scores_of(const lt_canvas_table *t, lt_canvas_axis axis,
                              int target, bool cra_without_target,
                              lt_canvas_scores *out)
{
    if (!out || check_table(t) != LT_OK)
        return out ? lt_last_status()
                   : lt_set_error(LT_ERR_ARG, "canvas scores: NULL output");
    bool st = axis == LT_CANVAS_STYLE;
    int na = st ? t->styles : t->objects, nb = st ? t->objects : t->styles;
    lt_canvas_axis other = st ? LT_CANVAS_OBJECT : LT_CANVAS_STYLE;
    if ((axis != LT_CANVAS_STYLE && axis != LT_CANVAS_OBJECT) || na < 2 ||
        target < 0 || target >= na)
        return lt_set_error(LT_ERR_ARG, "canvas scores: target %d of the %s "
                            "axis: need 2 or more classes and a target in "
                            "[0, %d)", target, st ? "style" : "object", na);
    double ira = 0, cra = 0;
    for (int a = 0; a < na; a++)
        if (a != target)
            ira += class_acc(t, axis, a, -1);
    for (int b = 0; b < nb; b++)
        cra += class_acc(t, other, b, cra_without_target ? target : -1);
    out->ua = 1.0 - class_acc(t, axis, target, -1);
    out->ira = ira / (na - 1);
    out->cra = cra / nb;
    return LT_OK;
}
