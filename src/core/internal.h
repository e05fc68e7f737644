/*
 * internal.h - definitions shared by the core files but not part of the
 * public API: the layout of lt_ctx.
 */
#ifndef LETHE_CORE_INTERNAL_H
#define LETHE_CORE_INTERNAL_H

#include "lethe/core.h"

struct lt_ctx {
    unsigned char *base; /* arena block */
    size_t cap, used, peak;
    lt_node *tape;       /* last recorded node; ->prev walks back */
    bool grad_enabled;
    lt_rng rng;
};

#endif
