/*
 * dm_test.h - what the diffusion tests share: the name-hash weight fill of
 * tests/golden/gen_unet.py (so a UNet holds the weights of its PyTorch
 * twin without a weight file) and a byte comparison of two files.
 */
#ifndef LT_DM_TEST_H
#define LT_DM_TEST_H

#include "lt_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static inline uint32_t dm_fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static inline bool dm_ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

/* The formula of gen_unet.py's fill(). */
static inline void dm_fill(lt_params *ps)
{
    for (int j = 0; j < ps->count; j++) {
        lt_param *p = &ps->p[j];
        lt_tensor *t = &p->t;
        uint64_t seed = dm_fnv1a(p->name);
        for (int64_t k = 0; k < t->numel; k++) {
            uint64_t h = ((uint64_t)k * 2654435761u + 97531u * seed) &
                         0xffffffffu;
            double v = (double)h / 2147483648.0 - 1.0;
            if (t->ndim >= 2)
                v /= sqrt((double)(t->numel / t->shape[0]));
            else if (dm_ends_with(p->name, ".weight"))
                v = 1 + 0.1 * v;
            else
                v = 0.1 * v;
            t->data[k] = (float)v;
        }
    }
}

/* True when the files a and b hold the same bytes. */
static inline bool dm_same_bytes(const char *a, const char *b)
{
    char *da = NULL, *db = NULL;
    size_t na = 0, nb = 0;
    bool ok = lt_read_file(a, &da, &na) == LT_OK &&
              lt_read_file(b, &db, &nb) == LT_OK && na == nb &&
              !memcmp(da, db, na);
    free(da);
    free(db);
    return ok;
}

#endif
