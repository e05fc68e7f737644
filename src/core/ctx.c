/*
 * ctx.c - the per-step arena and tensor construction. One block is
 * allocated when the context is made; every op output, saved value,
 * gradient and tape node of a step is carved from it with a bump pointer,
 * and lt_ctx_reset() frees them all at once, so the training loop never
 * calls malloc.
 */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LT_ALIGN 64

lt_ctx *lt_ctx_new(size_t arena_bytes)
{
    lt_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        lt_set_error(LT_ERR_NOMEM, "lt_ctx_new: cannot allocate context");
        return NULL;
    }
    arena_bytes = (arena_bytes + LT_ALIGN - 1) / LT_ALIGN * LT_ALIGN;
    if (arena_bytes == 0 ||
        posix_memalign((void **)&c->base, LT_ALIGN, arena_bytes) != 0) {
        free(c);
        lt_set_error(LT_ERR_NOMEM, "lt_ctx_new: cannot allocate an arena of "
                     "%zu bytes", arena_bytes);
        return NULL;
    }
    c->cap = arena_bytes;
    c->grad_enabled = true;
    c->precision = lt_default_precision();
    lt_rng_init(&c->rng, 0);
    return c;
}

static void kept_drop(lt_ctx *c)
{
    for (int i = 0; i < c->n_kept; i++)
        free(c->kept[i].p);
    free(c->kept);
    c->kept = NULL;
    c->n_kept = c->cap_kept = 0;
}

bool lt_set_frozen_weights(lt_ctx *c, bool frozen)
{
    bool old = c->frozen;
    c->frozen = frozen;
    if (!frozen)
        kept_drop(c);
    return old;
}

bool lt_frozen_weights(const lt_ctx *c) { return c->frozen; }

void *lt_ctx_keep(lt_ctx *c, const void *key, size_t bytes, bool *fresh)
{
    *fresh = false;
    if (!c->frozen)
        return NULL;
    for (int i = 0; i < c->n_kept; i++)
        if (c->kept[i].key == key && c->kept[i].bytes == bytes)
            return c->kept[i].p;
    if (c->n_kept == c->cap_kept) {
        int cap = c->cap_kept ? 2 * c->cap_kept : 64;
        lt_kept *k = realloc(c->kept, (size_t)cap * sizeof *k);
        if (!k)
            return NULL;
        c->kept = k;
        c->cap_kept = cap;
    }
    void *p = malloc(bytes);
    if (!p)
        return NULL;
    c->kept[c->n_kept++] = (lt_kept){key, bytes, p};
    *fresh = true;
    return p;
}

void lt_ctx_free(lt_ctx *c)
{
    if (!c)
        return;
    kept_drop(c);
    free(c->base);
    free(c);
}

void lt_ctx_reset(lt_ctx *c)
{
    c->used = 0;
    c->tape = NULL;
    c->n_free = 0;
}

size_t lt_ctx_used(const lt_ctx *c) { return c->used; }
size_t lt_ctx_peak(const lt_ctx *c) { return c->peak; }
size_t lt_ctx_capacity(const lt_ctx *c) { return c->cap; }
lt_rng *lt_ctx_rng(lt_ctx *c) { return &c->rng; }

bool lt_set_grad_enabled(lt_ctx *c, bool enabled)
{
    bool old = c->grad_enabled;
    c->grad_enabled = enabled;
    return old;
}

bool lt_grad_enabled(const lt_ctx *c) { return c->grad_enabled; }

void *lt_alloc(lt_ctx *c, size_t bytes)
{
    size_t need = (bytes + LT_ALIGN - 1) / LT_ALIGN * LT_ALIGN;
    if (need < bytes || need > c->cap - c->used) {
        lt_set_error(LT_ERR_ARENA, "arena exhausted: a request for %zu bytes "
                     "with %zu of %zu in use; make the context with a larger "
                     "arena or a smaller batch", bytes, c->used, c->cap);
        return NULL;
    }
    void *p = c->base + c->used;
    c->used += need;
    if (c->used > c->peak)
        c->peak = c->used;
    return p;
}

void *lt_alloc_zero(lt_ctx *c, size_t bytes)
{
    void *p = lt_alloc(c, bytes);
    if (p)
        memset(p, 0, bytes);
    return p;
}

/* memset, split over threads for buffers of several MB (one core cannot
 * reach the memory bandwidth alone). */
static void zero_fill(void *p, size_t bytes)
{
    const size_t blk = (size_t)1 << 20;
    if (bytes < 4 * blk) {
        memset(p, 0, bytes);
        return;
    }
    unsigned char *b = p;
    const int64_t nb = (int64_t)((bytes + blk - 1) / blk);
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < nb; i++) {
        size_t o = (size_t)i * blk;
        memset(b + o, 0, bytes - o < blk ? bytes - o : blk);
    }
}

void lt_arena_release(lt_ctx *c, void *p, size_t bytes)
{
    unsigned char *q = p;
    size_t need = (bytes + LT_ALIGN - 1) / LT_ALIGN * LT_ALIGN;
    if (q + need == c->base + c->used) { /* the top block: give it back */
        c->used -= need;
        return;
    }
    if (c->n_free < LT_FREE_MAX)
        c->free_blk[c->n_free++] = (lt_free_blk){q, need};
    /* else: lost until lt_ctx_reset */
}

void *lt_alloc_grad(lt_ctx *c, size_t bytes)
{
    size_t need = (bytes + LT_ALIGN - 1) / LT_ALIGN * LT_ALIGN;
    int best = -1;
    for (int i = 0; i < c->n_free; i++)
        if (c->free_blk[i].bytes >= need &&
            (best < 0 || c->free_blk[i].bytes < c->free_blk[best].bytes))
            best = i;
    void *p;
    if (best >= 0) {
        lt_free_blk *f = &c->free_blk[best];
        p = f->p;
        if (f->bytes - need >= 4096) { /* keep the rest */
            f->p += need;
            f->bytes -= need;
        } else {
            *f = c->free_blk[--c->n_free];
        }
    } else {
        p = lt_alloc(c, bytes);
    }
    if (p)
        zero_fill(p, bytes);
    return p;
}

int64_t lt_shape_numel(int ndim, const int64_t *shape)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= shape[i];
    return n;
}

static lt_status lt_check_shape(int ndim, const int64_t *shape, const char *fn)
{
    if (ndim < 1 || ndim > LT_MAX_DIMS)
        return lt_set_error(LT_ERR_SHAPE, "%s: %d dims (1..%d allowed)", fn,
                            ndim, LT_MAX_DIMS);
    if (!shape)
        return lt_set_error(LT_ERR_ARG, "%s: shape is NULL", fn);
    for (int i = 0; i < ndim; i++)
        if (shape[i] < 0 || shape[i] > ((int64_t)1 << 40))
            return lt_set_error(LT_ERR_SHAPE, "%s: dim %d has size %lld", fn,
                                i, (long long)shape[i]);
    return LT_OK;
}

lt_tensor *lt_new(lt_ctx *c, int ndim, const int64_t *shape)
{
    if (lt_check_shape(ndim, shape, "lt_new") != LT_OK)
        return NULL;
    int64_t n = lt_shape_numel(ndim, shape);
    lt_tensor *t = lt_alloc(c, sizeof *t);
    float *d = t ? lt_alloc(c, (size_t)(n > 0 ? n : 1) * sizeof(float)) : NULL;
    if (!d)
        return NULL;
    memset(t, 0, sizeof *t);
    t->ndim = ndim;
    memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
    t->numel = n;
    t->data = d;
    return t;
}

lt_tensor *lt_zeros(lt_ctx *c, int ndim, const int64_t *shape)
{
    lt_tensor *t = lt_new(c, ndim, shape);
    if (t)
        memset(t->data, 0, (size_t)t->numel * sizeof(float));
    return t;
}

lt_tensor *lt_new_like(lt_ctx *c, const lt_tensor *t)
{
    if (!t)
        return NULL;
    return lt_new(c, t->ndim, t->shape);
}

lt_tensor *lt_new1(lt_ctx *c, int64_t d0)
{
    return lt_new(c, 1, (int64_t[]){d0});
}

lt_tensor *lt_new2(lt_ctx *c, int64_t d0, int64_t d1)
{
    return lt_new(c, 2, (int64_t[]){d0, d1});
}

lt_tensor *lt_new3(lt_ctx *c, int64_t d0, int64_t d1, int64_t d2)
{
    return lt_new(c, 3, (int64_t[]){d0, d1, d2});
}

lt_tensor *lt_new4(lt_ctx *c, int64_t d0, int64_t d1, int64_t d2, int64_t d3)
{
    return lt_new(c, 4, (int64_t[]){d0, d1, d2, d3});
}

lt_tensor *lt_from_data(lt_ctx *c, int ndim, const int64_t *shape,
                        const float *src)
{
    lt_tensor *t = lt_new(c, ndim, shape);
    if (t && src)
        memcpy(t->data, src, (size_t)t->numel * sizeof(float));
    return t;
}

lt_tensor *lt_scalar(lt_ctx *c, float v)
{
    lt_tensor *t = lt_new1(c, 1);
    if (t)
        t->data[0] = v;
    return t;
}

lt_status lt_tensor_wrap(lt_tensor *t, float *data, float *grad, int ndim,
                         const int64_t *shape)
{
    if (!t || !data)
        return lt_set_error(LT_ERR_ARG, "lt_tensor_wrap: NULL tensor or data");
    lt_status s = lt_check_shape(ndim, shape, "lt_tensor_wrap");
    if (s != LT_OK)
        return s;
    memset(t, 0, sizeof *t);
    t->ndim = ndim;
    memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
    t->numel = lt_shape_numel(ndim, shape);
    t->data = data;
    t->grad = grad;
    t->flags = LT_EXTERNAL | (grad ? LT_REQUIRES_GRAD : 0u);
    return LT_OK;
}

lt_tensor *lt_requires_grad(lt_tensor *t)
{
    if (t)
        t->flags |= LT_REQUIRES_GRAD;
    return t;
}

bool lt_same_shape(const lt_tensor *a, const lt_tensor *b)
{
    if (a->ndim != b->ndim)
        return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i])
            return false;
    return true;
}

const char *lt_shape_fmt(int ndim, const int64_t *shape, char *buf,
                         size_t n)
{
    if (!buf || n == 0)
        return buf;
    size_t k = (size_t)snprintf(buf, n, "[");
    for (int i = 0; shape && i < ndim && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, i ? ", %lld" : "%lld",
                              (long long)shape[i]);
    if (k < n)
        snprintf(buf + k, n - k, "]");
    return buf;
}

const char *lt_shape_str(const lt_tensor *t, char *buf, size_t n)
{
    return lt_shape_fmt(t ? t->ndim : 0, t ? t->shape : NULL, buf, n);
}

int lt_axis(const lt_tensor *t, int axis, const char *op)
{
    int a = axis < 0 ? axis + t->ndim : axis;
    if (a < 0 || a >= t->ndim) {
        lt_set_error(LT_ERR_ARG, "%s: axis %d out of range for %d dims", op,
                     axis, t->ndim);
        return -1;
    }
    return a;
}
