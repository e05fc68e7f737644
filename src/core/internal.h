/*
 * internal.h - definitions shared by the core files but not part of the
 * public API: the layout of lt_ctx.
 */
#ifndef LETHE_CORE_INTERNAL_H
#define LETHE_CORE_INTERNAL_H

#include "lethe/core.h"

/* A released arena block (a gradient no longer needed by backward). */
typedef struct {
    unsigned char *p;
    size_t bytes;
} lt_free_blk;

#define LT_FREE_MAX 128

/* A buffer kept across steps while frozen weights are on (lt_ctx_keep). */
typedef struct {
    const void *key;
    size_t bytes;
    void *p;
} lt_kept;

struct lt_ctx {
    unsigned char *base; /* arena block */
    size_t cap, used, peak;
    lt_free_blk free_blk[LT_FREE_MAX]; /* reusable blocks, this step only */
    int n_free;
    lt_node *tape;       /* last recorded node; ->prev walks back */
    bool grad_enabled;
    lt_precision precision; /* of the matrix products (core.h) */
    bool frozen;            /* lt_set_frozen_weights */
    lt_kept *kept;          /* lt_ctx_keep's buffers */
    int n_kept, cap_kept;
    lt_rng rng;
    lt_grad_hook grad_hook; /* lt_ctx_set_grad_hook */
    void *grad_hook_ud;
};

/* A tensor flag that only autograd.c uses, for the span of one call. */
#define LT_FLAG_SEEN (1u << 30)

/* Arena blocks made free during backward (autograd.c): a released block
 * is reused by lt_alloc_grad, best fit first. */
void lt_arena_release(lt_ctx *c, void *p, size_t bytes);
/* Zeroed gradient memory: a released block if one fits, else new arena
 * memory. Large buffers are zeroed in parallel. */
void *lt_alloc_grad(lt_ctx *c, size_t bytes);

#endif
