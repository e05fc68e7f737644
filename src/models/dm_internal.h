/*
 * dm_internal.h - helpers shared by the diffusion files of the models
 * layer (not part of the API).
 */
#ifndef LETHE_DM_INTERNAL_H
#define LETHE_DM_INTERNAL_H

#include "lethe/diffusion.h"

/* Save u's parameters with values taken from theta (laid out as
 * u->params.theta, e.g. an EMA copy); see lt_unet_save. */
lt_status lt_unet_save_theta(const lt_unet *u, const float *theta,
                             const char *path, const lt_dm_schedule *s,
                             const char *const *meta, int n_meta);

#endif
