/*
 * esd_internal.h - helpers shared by the two ESD files of the unlearn
 * layer (not part of the API): dm_text_unlearn.c (the paper-era script)
 * and dm_esd_sd.c (esd_sd.py's scheduler and parameter rules).
 */
#ifndef LETHE_ESD_INTERNAL_H
#define LETHE_ESD_INTERNAL_H

#include "lethe/dm_text_unlearn.h"

/* C * R * R of u's images. */
int64_t lt_esd_img_size(const lt_unet *u);

/* The SD-guided eps e_u + g (e_c - e_u) of the single image x [C, R, R]
 * at timestep t on c (NULL with the error set). */
lt_tensor *lt_esd_guided1(lt_ctx *c, lt_unet *u, const float *x, float t,
                          const float *ctx, const float *null_ctx, float g);

#endif
