/*
 * clip_internal.h - what the files of the CLIP-like model share beyond
 * lethe/clip.h: checkpoints with extra tensors and metadata (the
 * pretraining loop's optimizer state) and reading weights from an open
 * safetensors file.
 */
#ifndef LETHE_CLIP_INTERNAL_H
#define LETHE_CLIP_INTERNAL_H

#include "lethe/clip.h"
#include "lethe/safetensors.h"

/* Tensors whose names start with this are training state, not weights. */
#define LT_CLIP_OPTIM_PREFIX "optimizer."

/* lt_clip_save plus n_extra more tensors (names starting with
 * LT_CLIP_OPTIM_PREFIX). */
lt_status lt_clip_save_with(const lt_clip *m, const lt_clip_vocab *v,
                            const char *path, const lt_st_tensor *extra,
                            int n_extra, const char *const *meta, int n_meta);

/* Copy every parameter of m from f (path names it in errors): each must be
 * present with its shape; other tensors, except training state, are
 * LT_ERR_FORMAT. */
lt_status lt_clip_read_weights(lt_clip *m, const lt_st_file *f,
                               const char *path);

/* lt_clip_loss with the log logit scale given as a tensor [1] (the
 * pretraining loop's data-parallel step takes the loss on gathered
 * embeddings with a copy of the scale). */
lt_tensor *lt_clip_loss_scaled(lt_ctx *c, lt_tensor *t, lt_tensor *v,
                               lt_tensor *log_scale, lt_tensor **logits_out);

/* The config in f's metadata, checked; LT_ERR_FORMAT naming path. */
lt_status lt_clip_read_config(const lt_st_file *f, const char *path,
                              lt_clip_config *out);

#endif
