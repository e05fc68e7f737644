/*
 * params.c - the flat parameter store: declare named tensors, then one
 * allocation holds them all (trainable first, buffers after), and each
 * name gets an lt_tensor view into it. See lethe/nn.h.
 */
#include "lethe/nn.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lt_params_init(lt_params *ps) { memset(ps, 0, sizeof *ps); }

void lt_params_free(lt_params *ps)
{
    free(ps->p);
    free(ps->theta);
    free(ps->grad);
    memset(ps, 0, sizeof *ps);
}

static int lt_params_find(const lt_params *ps, const char *name)
{
    for (int i = 0; i < ps->count; i++)
        if (!strcmp(ps->p[i].name, name))
            return i;
    return -1;
}

int lt_params_add(lt_params *ps, const char *name, int ndim,
                  const int64_t *shape, bool trainable)
{
    if (ps->final) {
        lt_set_error(LT_ERR_STATE, "params: '%s' added after finalize", name);
        return -1;
    }
    if (!name || strlen(name) >= LT_PARAM_NAME_MAX) {
        lt_set_error(LT_ERR_ARG, "params: name missing or longer than %d",
                     LT_PARAM_NAME_MAX - 1);
        return -1;
    }
    if (lt_params_find(ps, name) >= 0) {
        lt_set_error(LT_ERR_ARG, "params: duplicate name '%s'", name);
        return -1;
    }
    if (ps->count == ps->cap) {
        int cap = ps->cap ? 2 * ps->cap : 32;
        lt_param *np = realloc(ps->p, (size_t)cap * sizeof *np);
        if (!np) {
            lt_set_error(LT_ERR_NOMEM, "params: out of memory");
            return -1;
        }
        ps->p = np;
        ps->cap = cap;
    }
    lt_param *p = &ps->p[ps->count];
    memset(p, 0, sizeof *p);
    strcpy(p->name, name);
    p->trainable = trainable;
    /* A temporary view on a dummy pointer validates the shape now. */
    static float dummy;
    if (lt_tensor_wrap(&p->t, &dummy, NULL, ndim, shape) != LT_OK)
        return -1;
    return ps->count++;
}

lt_status lt_params_finalize(lt_params *ps)
{
    int64_t off = 0;
    for (int pass = 0; pass < 2; pass++) /* trainable first, then buffers */
        for (int i = 0; i < ps->count; i++)
            if (ps->p[i].trainable == (pass == 0)) {
                ps->p[i].offset = off;
                off += ps->p[i].t.numel;
                if (pass == 0)
                    ps->n_train = off;
            }
    ps->n_total = off;
    ps->theta = calloc((size_t)off + 1, sizeof(float));
    ps->grad = calloc((size_t)ps->n_train + 1, sizeof(float));
    if (!ps->theta || !ps->grad)
        return lt_set_error(LT_ERR_NOMEM, "params: cannot allocate %lld "
                            "floats", (long long)off);
    for (int i = 0; i < ps->count; i++) {
        lt_param *p = &ps->p[i];
        int64_t shape[LT_MAX_DIMS]; /* wrap clears p->t: copy first */
        memcpy(shape, p->t.shape, sizeof shape);
        lt_tensor_wrap(&p->t, ps->theta + p->offset,
                       p->trainable ? ps->grad + p->offset : NULL, p->t.ndim,
                       shape);
    }
    ps->final = true;
    return LT_OK;
}

lt_tensor *lt_params_get(lt_params *ps, const char *name)
{
    int i = lt_params_find(ps, name);
    if (i < 0) {
        lt_set_error(LT_ERR_ARG, "params: no parameter named '%s'", name);
        return NULL;
    }
    return &ps->p[i].t;
}

lt_tensor *lt_params_getf(lt_params *ps, const char *fmt, ...)
{
    char name[LT_PARAM_NAME_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    return lt_params_get(ps, name);
}

lt_tensor *lt_params_at(lt_params *ps, int index)
{
    if (index < 0 || index >= ps->count) {
        lt_set_error(LT_ERR_ARG, "params: index %d out of range", index);
        return NULL;
    }
    return &ps->p[index].t;
}

void lt_params_zero_grad(lt_params *ps)
{
    if (ps->grad)
        memset(ps->grad, 0, (size_t)ps->n_train * sizeof(float));
}
