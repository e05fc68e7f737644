/*
 * model_open.c - a classifier checkpoint with the dataset splits it is run
 * on (lethe/train.h), checked to fit each other (input shape and classes)
 * before any work.
 */
#include "lethe/train.h"

#include <string.h>

static lt_status lt_fits(const char *model, const lt_model *m,
                         const char *data, const lt_dataset *d)
{
    if (d->c == m->in.channels && d->h == m->in.height &&
        d->w == m->in.width && d->classes == m->in.classes)
        return LT_OK;
    return lt_set_error(LT_ERR_SHAPE, "%s expects %dx%dx%d inputs and %d "
                        "classes; %s has %dx%dx%d and %d", model,
                        m->in.channels, m->in.height, m->in.width,
                        m->in.classes, data, d->c, d->h, d->w, d->classes);
}

lt_status lt_model_open(const char *model, const char *data,
                        const char *const *splits, int n, lt_model **m,
                        lt_dataset *sets)
{
    *m = NULL;
    memset(sets, 0, (size_t)n * sizeof *sets);
    lt_status st = lt_model_load(model, m);
    for (int i = 0; st == LT_OK && i < n; i++)
        st = lt_dataset_load(data, splits[i], &sets[i]);
    for (int i = 0; st == LT_OK && i < n; i++)
        st = lt_fits(model, *m, data, &sets[i]);
    if (st == LT_OK)
        return LT_OK;
    for (int i = 0; i < n; i++)
        lt_dataset_free(&sets[i]);
    lt_model_free(*m);
    *m = NULL;
    return st;
}
