/*
 * dm_internal.h - helpers shared by the diffusion files of the models
 * layer (not part of the API): declaring and reading the UNet's named
 * parameters (unet.c), the SpatialTransformer of the text UNet
 * (unet_xattn.c), and checkpoints from a copy of the weights.
 */
#ifndef LETHE_DM_INTERNAL_H
#define LETHE_DM_INTERNAL_H

#include "lethe/diffusion.h"

/* GroupNorm eps of both families (the official code's). */
#define LT_UNET_GN_EPS 1e-6f

/* ---- declaration (false with the error set) -------------------------------- */

/* q = "<p>.<leaf>" (q holds LT_PARAM_NAME_MAX bytes; a longer name is cut
 * there and then refused by the declaration); returns q. */
char *lt_unet_join(char *q, const char *p, const char *leaf);

/* Declare "<prefix>.<leaf>" (just prefix when leaf is ""). */
bool lt_unet_add(lt_unet *u, const char *prefix, const char *leaf, int ndim,
                 const int64_t *shape);
/* prefix.weight [out, in] and, when bias, prefix.bias [out]. */
bool lt_unet_add_linear(lt_unet *u, const char *prefix, int in, int out,
                        bool bias);
/* prefix.weight [out, in, k, k] and prefix.bias [out]. */
bool lt_unet_add_conv(lt_unet *u, const char *prefix, int in, int out, int k);
/* prefix.weight and prefix.bias [ch] (GroupNorm or LayerNorm). */
bool lt_unet_add_norm(lt_unet *u, const char *prefix, int ch);

/* ---- forward pieces ------------------------------------------------------------ */

/* The parameter named by the format, or NULL (error set). */
lt_tensor *lt_unet_param(lt_unet *u, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Conv prefix.weight/.bias with square padding and stride. */
lt_tensor *lt_unet_conv(lt_ctx *c, lt_unet *u, lt_tensor *x, const char *p,
                        int pad, int stride);
/* GroupNorm of the config's groups, eps LT_UNET_GN_EPS. */
lt_tensor *lt_unet_group_norm(lt_ctx *c, lt_unet *u, lt_tensor *x,
                              const char *p);
/* x @ p.weight^T (+ p.bias when bias). */
lt_tensor *lt_unet_linear(lt_ctx *c, lt_unet *u, lt_tensor *x, const char *p,
                          bool bias);

/* ---- the SpatialTransformer (unet_xattn.c) ---------------------------------- */

/* Declare the SpatialTransformer p of width ch (norm, proj_in,
 * transformer_blocks.0.*, proj_out). */
bool lt_unet_add_xformer(lt_unet *u, const char *p, int ch);
/* x [N, C, H, W] + the transformer p over its H*W positions, cross-
 * attending to ctx [N, L, ctx_dim]. */
lt_tensor *lt_unet_xformer(lt_ctx *c, lt_unet *u, lt_tensor *x,
                           const char *p, lt_tensor *ctx);

/* ---- checkpoints (diffusion.c) ---------------------------------------------- */

/* Save u's parameters with values taken from theta (laid out as
 * u->params.theta, e.g. an EMA copy); see lt_unet_save. */
lt_status lt_unet_save_theta(const lt_unet *u, const float *theta,
                             const char *path, const lt_dm_schedule *s,
                             const char *const *meta, int n_meta);

#endif
