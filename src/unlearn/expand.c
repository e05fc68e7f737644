/*
 * expand.c - boundary expanding (BE) support: a copy of a classifier with
 * one more output class (the reference widens the last Linear layer and
 * trains the forget items toward the new class), copied back afterwards,
 * and the mapping of a weight mask onto the widened model.
 */
#include "lethe/methods.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* arch with the class count replaced by k (MLP specs end in it). */
static lt_status lt_expand_arch(const char *arch, int k, char *out, size_t n)
{
    if (strncmp(arch, "mlp:", 4)) {
        snprintf(out, n, "%s", arch);
        return LT_OK;
    }
    const char *dash = strrchr(arch, '-');
    if (!dash || (size_t)(dash - arch) + 16 > n)
        return lt_set_error(LT_ERR_ARG, "boundary expand: cannot widen "
                            "model '%s'", arch);
    snprintf(out, n, "%.*s-%d", (int)(dash - arch), arch, k);
    return LT_OK;
}

/* Copy src's array (theta or a mask) onto dst's layout by parameter name:
 * equal shapes copy whole; a parameter one row longer in dst copies its
 * rows and leaves the new row to fill (called with fill < 0: untouched).
 * trainable_only restricts to the gradient-carrying prefix [0, n_train). */
static void lt_copy_by_name(const lt_params *src, const float *a,
                            const lt_params *dst, float *b,
                            bool trainable_only, float fill)
{
    for (int i = 0; i < dst->count; i++) {
        const lt_param *pd = &dst->p[i];
        if (trainable_only && !pd->trainable)
            continue;
        for (int j = 0; j < src->count; j++) {
            const lt_param *ps = &src->p[j];
            if (strcmp(ps->name, pd->name))
                continue;
            int64_t ns = lt_shape_numel(ps->t.ndim, ps->t.shape);
            int64_t nd = lt_shape_numel(pd->t.ndim, pd->t.shape);
            int64_t nc = ns < nd ? ns : nd;
            memcpy(b + pd->offset, a + ps->offset, (size_t)nc * sizeof(float));
            for (int64_t e = nc; fill >= 0 && e < nd; e++)
                b[pd->offset + e] = fill;
            break;
        }
    }
}

/* Whether big's parameter pb is longer than m's of the same name. */
static bool lt_widened(const lt_model *m, const lt_param *pb)
{
    for (int j = 0; j < m->params.count; j++)
        if (!strcmp(m->params.p[j].name, pb->name))
            return m->params.p[j].t.shape[0] != pb->t.shape[0];
    return false;
}

/* The new (last) row of each widened parameter: U(+-1/sqrt(fan_in)). */
static void lt_init_new_rows(const lt_model *m, lt_model *big, uint64_t seed)
{
    lt_rng r;
    lt_rng_init(&r, seed ^ 0xbe0000000000beull);
    for (int i = 0; i < big->params.count; i++) {
        lt_param *pb = &big->params.p[i];
        if (!pb->trainable || pb->t.shape[0] != m->in.classes + 1 ||
            !lt_widened(m, pb))
            continue;
        int64_t row = lt_shape_numel(pb->t.ndim, pb->t.shape) / pb->t.shape[0];
        /* fan_in of the layer: the weight's row length (bias shares it). */
        int64_t fan = row;
        if (pb->t.ndim == 1 && i > 0)
            fan = lt_shape_numel(big->params.p[i - 1].t.ndim,
                                 big->params.p[i - 1].t.shape) / pb->t.shape[0];
        float bound = 1.0f / sqrtf((float)fan);
        float *dst = big->params.theta + pb->offset +
                     (pb->t.shape[0] - 1) * row;
        for (int64_t e = 0; e < row; e++)
            dst[e] = bound * (2.0f * lt_rng_uniform(&r) - 1.0f);
    }
}

lt_status lt_model_expand(const lt_model *m, uint64_t seed, lt_model **out)
{
    *out = NULL;
    char arch[sizeof m->arch];
    lt_status st = lt_expand_arch(m->arch, m->in.classes + 1, arch,
                                  sizeof arch);
    if (st != LT_OK)
        return st;
    lt_input_spec in = m->in;
    in.classes++;
    st = lt_model_create(arch, in, out);
    if (st != LT_OK)
        return st;
    lt_copy_by_name(&m->params, m->params.theta, &(*out)->params,
                    (*out)->params.theta, false, 0.0f);
    lt_init_new_rows(m, *out, seed);
    return LT_OK;
}

void lt_model_shrink_into(const lt_model *big, lt_model *m)
{
    lt_copy_by_name(&big->params, big->params.theta, &m->params,
                    m->params.theta, false, -1.0f);
}

void lt_mask_expand(const lt_model *m, const float *mask, const lt_model *big,
                    float *out)
{
    lt_copy_by_name(&m->params, mask, &big->params, out, true, 1.0f);
}
