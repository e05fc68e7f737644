/*
 * dm_accept.h - what the acceptance reports of diffusion base models
 * share (src/bench/dm_eval.c for class models, dm_text_eval.c for text
 * models): the pass thresholds, written once, and the rows of the
 * "Overall" table that both compute the same way.
 */
#ifndef LETHE_DM_ACCEPT_H
#define LETHE_DM_ACCEPT_H

#include "lethe/bench.h"
#include "lethe/clip.h"

#define LT_DM_ACCEPT_ACC 0.9   /* sample accuracy >= 0.9 x real accuracy */
#define LT_DM_ACCEPT_FD 5.0    /* FD <= 5 x the real-vs-real floor */
#define LT_DM_ACCEPT_NN 0.5    /* mean NN distance >= 0.5 x the test set's */

/* The settings both reports start with: title, model, arch, sampler (of
 * cfg with T steps), commit, threads and command (when not NULL). */
void lt_bench_dm_settings(lt_report *r, const char *model, const char *arch,
                          const lt_dm_sample_config *cfg, int T,
                          const char *command);

/* A new "Overall" table (check | value | reference | ratio | pass). */
lt_table *lt_bench_dm_overall_table(lt_report *r, const char *title);

/* A row "name | value | reference | value / reference | pass". */
lt_status lt_bench_dm_check_row(lt_table *t, const char *name, double v,
                                double ref, const char *pass);

/* The copying check: nearest-training-image distance of the samples
 * [ns, per] (in [-1, 1], clipped to pixels) against that of real test
 * images [nr, per] (pixels in [0, 1]), both to train [nt, per] (pixels);
 * the mean passes at >= LT_DM_ACCEPT_NN x the test images' (else
 * *all_pass becomes false); plus the closest sample, for information. */
lt_status lt_bench_dm_copying_rows(lt_table *t, const float *samples,
                                   int64_t ns, const float *real, int64_t nr,
                                   const float *train, int64_t nt,
                                   int64_t per, bool *all_pass);

/* The canonical prompt's context of every (style, object) pair of
 * FashionCanvas, pair-major (p = style * objects + object): pairs
 * [pairs, L, D]; the empty caption's context: null_ctx [L, D]. */
lt_status lt_bench_canvas_pair_contexts(lt_clip *clip, const lt_clip_vocab *v,
                                        float *pairs, float *null_ctx);

#endif
