/*
 * dm_test.h - what the diffusion tests share: the name-hash weight fill of
 * tests/golden/gen_unet.py (so a UNet holds the weights of its PyTorch
 * twin without a weight file), a golden's stored "w.NAME" weights, the
 * tiny CLIP of the encoder goldens, the check of an optimizer's update,
 * and a byte comparison of two files.
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

/* Copy the golden's "w.NAME" entries into the parameters NAME of ps (a
 * missing or mis-sized one fails the test); returns how many. */
static inline int dm_golden_weights(lt_params *ps, const lt_golden *g)
{
    int copied = 0;
    for (int i = 0; g && i < g->count; i++) {
        if (strncmp(g->e[i].name, "w.", 2))
            continue;
        lt_tensor *p = lt_params_get(ps, g->e[i].name + 2);
        LT_CHECK(p && p->numel == g->e[i].numel, "%s", g->e[i].name);
        if (p && p->numel == g->e[i].numel) {
            memcpy(p->data, g->e[i].data, (size_t)p->numel * sizeof(float));
            copied++;
        }
    }
    return copied;
}

/* The UNet spec with gen_unet.py's fill and then g's "w.*" weights (g
 * may be NULL); NULL (the test failed) when it cannot be made. */
static inline lt_unet *dm_golden_unet(const char *spec, const lt_golden *g)
{
    lt_unet *u = NULL;
    LT_CHECK(lt_unet_create(spec, &u) == LT_OK, "%s", lt_last_error());
    if (!u)
        return NULL;
    dm_fill(&u->params);
    dm_golden_weights(&u->params, g);
    return u;
}

/* The CLIP text encoder of the encoder goldens (gen_dm_attack.py's
 * sizes): preset xs over vocab words with context L, width D, 2 heads,
 * MLP 32, projection 12, filled as gen_unet.py fills. */
static inline lt_clip *dm_tiny_clip(int vocab, int L, int D)
{
    lt_clip_config cc;
    lt_clip *m = NULL;
    if (lt_clip_preset("xs", vocab, &cc) == LT_OK) {
        cc.context_length = L;
        cc.width = D;
        cc.heads = 2;
        cc.mlp = 32;
        cc.embed_dim = 12;
        if (lt_clip_create(&cc, &m) != LT_OK)
            m = NULL;
    }
    LT_CHECK(m, "tiny clip: %s", lt_last_error());
    if (m)
        dm_fill(&m->params);
    return m;
}

/* An optimizer step's update (now - before) against the reference's
 * (want - before), relative L2 within tol: the update is small beside
 * the weights, so this checks it and not the weights. */
#define DM_CHECK_UPDATE(what, now, before, want, n, tol)                    \
    do {                                                                     \
        int64_t dm_n_ = (n);                                                 \
        float *dm_a_ = malloc((size_t)dm_n_ * 2 * sizeof(float));            \
        for (int64_t dm_j_ = 0; dm_a_ && dm_j_ < dm_n_; dm_j_++) {           \
            dm_a_[dm_j_] = (now)[dm_j_] - (before)[dm_j_];                   \
            dm_a_[dm_n_ + dm_j_] = (want)[dm_j_] - (before)[dm_j_];          \
        }                                                                    \
        if (dm_a_)                                                           \
            LT_CHECK_REL_L2(what, dm_a_, dm_a_ + dm_n_, dm_n_, tol);         \
        free(dm_a_);                                                         \
    } while (0)

/* Golden step k of an ESD-like loop (the ESD tests): for each name in
 * train, its gradient and its update from before[i] against
 * s<k>.grad.NAME / s<k>.after.NAME; each name in frozen must hold
 * s<k>.after.NAME to the bit. */
static inline void dm_check_step(const lt_golden *g, lt_params *ps, int k,
                                 const char *const *train, int n_train,
                                 float before[][256],
                                 const char *const *frozen, int n_frozen)
{
    char nm[160];
    for (int i = 0; i < n_train; i++) {
        lt_tensor *p = lt_params_get(ps, train[i]);
        snprintf(nm, sizeof nm, "s%d.grad.%s", k, train[i]);
        LT_CHECK_REL_L2(nm, p->grad, lt_golden_get(g, nm)->data, p->numel,
                        1e-3);
        /* the Adam update itself (the weights are O(1), it is 1e-3) */
        snprintf(nm, sizeof nm, "s%d.after.%s", k, train[i]);
        DM_CHECK_UPDATE(nm, p->data, before[i], lt_golden_get(g, nm)->data,
                        p->numel, 2e-2);
    }
    for (int i = 0; i < n_frozen; i++) {
        lt_tensor *p = lt_params_get(ps, frozen[i]);
        snprintf(nm, sizeof nm, "s%d.after.%s", k, frozen[i]);
        LT_CHECK(!memcmp(p->data, lt_golden_get(g, nm)->data,
                         (size_t)p->numel * sizeof(float)),
                 "%s moved", nm);
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
