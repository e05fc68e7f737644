/*
 * lethe/canvas_metrics.h - UnlearnCanvas' accuracy metrics (eval layer):
 * from the style and object classifiers' verdicts on an answer set (images
 * prompted with every style x object pair) to unlearning accuracy (UA),
 * in-domain retain accuracy (IRA) and cross-domain retain accuracy (CRA)
 * for one unlearning target.
 *
 * Per-class accuracies follow the official evaluation script
 * (OPTML-Group/UnlearnCanvas, machine_unlearning/evaluation/quantitative/
 * accuracy.py): the style accuracy of style s is the fraction of the
 * images prompted with s (over every object and seed) that the style
 * classifier labels s; the object accuracy of object o is the fraction of
 * the images prompted with o (over every style and seed) that the object
 * classifier labels o. The official scripts stop there; the aggregation
 * (the paper's definitions, written out here) for a target t on axis A
 * (style or object), B the other axis:
 *   UA  = 1 - acc_A(t);
 *   IRA = mean over the other classes a != t of A of acc_A(a);
 *   CRA = mean over the classes b of B of acc_B(b), each over every image
 *         of b (the target's images included, as accuracy.py counts them),
 *         or, with cra_without_target, over the images not prompted with t.
 */
#ifndef LETHE_CANVAS_METRICS_H
#define LETHE_CANVAS_METRICS_H

#include "lethe/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { LT_CANVAS_STYLE = 0, LT_CANVAS_OBJECT } lt_canvas_axis;

/* The answer set's verdicts, per (style s, object o) prompt, row-major
 * [s * objects + o]: n images, of which style_hits the style classifier
 * labels s and object_hits the object classifier labels o. */
typedef struct {
    int styles, objects;
    const int64_t *n, *style_hits, *object_hits;
} lt_canvas_table;

typedef struct {
    double ua, ira, cra;
} lt_canvas_scores;

/* Count the verdicts of m images (image i prompted with style[i] and
 * object[i]; the classifiers said style_pred[i] and object_pred[i]) into
 * n, style_hits and object_hits [styles * objects] (zeroed first).
 * LT_ERR_ARG naming the image for a prompt index out of range. */
LT_API lt_status lt_canvas_count(int styles, int objects, int64_t m,
                                 const int32_t *style, const int32_t *object,
                                 const int32_t *style_pred,
                                 const int32_t *object_pred, int64_t *n,
                                 int64_t *style_hits, int64_t *object_hits);

/* UA, IRA and CRA of target (a class of axis) from t, as at the top.
 * LT_ERR_ARG for fewer than 2 classes on the target's axis, a target out
 * of range, or a cell with n < 1 or hits outside [0, n] (naming it). */
LT_API lt_status lt_canvas_scores_of(const lt_canvas_table *t,
                                     lt_canvas_axis axis, int target,
                                     bool cra_without_target,
                                     lt_canvas_scores *out);

#ifdef __cplusplus
}
#endif
#endif
