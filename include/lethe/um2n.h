/*
 * lethe/um2n.h - M2N_T, the released UM2N mesh-movement network, on
 * Lethe's ops (models layer): the transformer encoder over all nodes, the
 * local edge-feature network, four DeformGAT layers, and UM2N's training
 * loss (element-area loss + 100 x Chamfer). Parameter names are those of
 * PyTorch's state_dict() of the official M2N_T module, so a converted
 * official checkpoint loads (lt_um2n_load; the aliases "...gat_k.lin_.*"
 * that the official state_dict repeats are accepted and checked).
 * The same type also holds the M2N baseline (UM2N/model/M2N.py): a CNN
 * global feature extractor on the monitor resampled onto a 20 x 20 grid
 * in place of the transformer, the same local features and deformer.
 */
#ifndef LETHE_UM2N_H
#define LETHE_UM2N_H

#include "lethe/core.h"
#include "lethe/dist.h"
#include "lethe/mesh.h"
#include "lethe/nn.h"
#include "lethe/optim.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LT_UM2N_GAT_LAYERS 4
#define LT_UM2N_AREA_SCALE 300.0f   /* run_train_baselines' scaler */
#define LT_UM2N_CHAMFER_WEIGHT 100.0f /* train_util: 100 * chamfer */

/* The architecture: M2N_T (UM2N's released network) or the M2N
 * baseline. Checkpoints record it ("arch" metadata); loading one into a
 * model of the other kind is LT_ERR_ARG naming both. */
typedef enum { LT_UM2N_ARCH_M2N_T = 0, LT_UM2N_ARCH_M2N = 1 } lt_um2n_arch;

typedef struct {
    lt_params params;
    float dropout; /* transformer dropout, 0.1 (official) */
    lt_um2n_arch arch;
} lt_um2n;

/* M2N's conv_feat grid: the monitor sampled at GRID x GRID points of the
 * mesh's bounding box (processor.get_conv_feat, fix_reso 20). */
#define LT_M2N_GRID 20
/* ... and on a polygon domain (the processor's poly_mesh path,
 * get_conv_feat_poly): POLY_GRID x POLY_GRID points of the corners'
 * bounding box, those outside the corner polygon shrunk by POLY_SCALE
 * towards its mean left 0. */
#define LT_M2N_POLY_GRID 32
#define LT_M2N_POLY_SCALE 0.95

/* A batch of n_graphs meshes with the same number of nodes each (the
 * transformer views the nodes as [n_graphs, n_nodes / n_graphs, 3], as
 * the official data.view does), nodes numbered graph by graph. */
typedef struct {
    int64_t n_nodes, n_graphs;
    const float *x;          /* [N, 3]: x, y, boundary flag (1 or 0) */
    const float *mesh_feat;  /* [N, 3]: x, y, monitor / max monitor */
    const int32_t *src, *dst; /* edges src -> dst (both directions) */
    int64_t n_edges;
    const int32_t *faces;    /* [F, 3] (the loss) */
    int64_t n_faces;
    const float *target;     /* [N, 2] MA positions (the loss) */
    int64_t loss_batch;      /* the area loss's divisor; 0: n_graphs (the
                                official loop divides by loader.batch_size,
                                5 even for a short last batch) */
    const float *m2n_corners; /* M2N only: NULL, the square's 20 x 20 grid;
                                else [m2n_ncorners, 2] domain corners (every
                                graph's, lt_m2n_corners) and the polygon
                                path's 32 x 32 grid (lt_m2n_poly_grid) */
    int m2n_ncorners;
} lt_um2n_batch;

/* Declare the parameters and draw PyTorch's default initialisation
 * (Linear: U(+-1/sqrt(fan_in)); attention in_proj Xavier, biases 0;
 * DeformGAT glorot; LayerNorm 1/0; c_attn and residual_weight 1). */
LT_API lt_status lt_um2n_init(lt_um2n *m, uint64_t seed);
/* The same for either architecture (lt_um2n_init is M2N_T). M2N's conv
 * layers draw PyTorch's Conv2d default, U(+-1/sqrt(in * k * k)). */
LT_API lt_status lt_um2n_init_arch(lt_um2n *m, lt_um2n_arch arch,
                                   uint64_t seed);
/* "m2n_t" or "m2n"; lt_um2n_arch_parse accepts those and "um2n". */
LT_API const char *lt_um2n_arch_name(lt_um2n_arch a);
LT_API lt_status lt_um2n_arch_parse(const char *s, lt_um2n_arch *a);
/* The architecture of a checkpoint: its "arch" metadata, else its
 * tensors (gfe.conv1.weight: M2N). */
LT_API lt_status lt_um2n_file_arch(const char *path, lt_um2n_arch *a);
/* M2N's inputs for one graph of n nodes (mesh_feat rows [x, y, m]) and
 * its faces (indices local to the graph): grid [GRID * GRID] holds the P1
 * interpolant of m at (x_i, y_j), i the row (the official [1, x, y]
 * layout), 0 outside every triangle, divided by its largest absolute
 * value (the loader's normalise; an all-zero grid stays zero; NULL: not
 * sampled); side [n, 4] the masks x == min x, x == max x, y == min y, y == max y
 * (bd_left/right/down/up_mask). */
LT_API lt_status lt_m2n_inputs(const float *mesh_feat, int64_t n,
                               const int32_t *faces, int64_t n_faces,
                               float *grid, float *side);
/* The polygon path's grid (processor.get_conv_feat_poly with
 * judge_in_hull): the points (x_j, y_i) with x_j = linspace(min x, max x,
 * 32)[j] and y_i = linspace(min y, max y, 32)[31 - i] of the corners
 * [nc, 2] (the image layout: row i from the top), grid[32 i + j] the P1
 * interpolant of m (mesh_feat's third column) at the points that lie on
 * the inner side of every edge of the corner polygon shrunk by 0.95
 * towards the corners' mean (edge k from corner k to k + 1; counter-
 * clockwise corners), else 0; then divided by its largest absolute value.
 * A point inside that polygon but in no triangle (a hole) is 0: the
 * official Function.at would raise there. */
LT_API lt_status lt_m2n_poly_grid(const float *mesh_feat, int64_t n,
                                  const int32_t *faces, int64_t n_faces,
                                  const float *corners, int nc, float *grid);
/* The corners of a polygon domain as the processor finds them: for
 * k = 1..num_boundary the vertices on both side k and side k + 1 (side
 * num_boundary + 1 being side 1), the sides being the boundary edges
 * tagged k. Each pair must share exactly one vertex (LT_ERR_ARG
 * otherwise). corners: [num_boundary, 2]. On the unit square and the
 * square with a hole (sides 1-4: bottom, right, top, left): (1, 0),
 * (1, 1), (0, 1), (0, 0). */
LT_API lt_status lt_m2n_corners(const lt_mesh *m, int num_boundary,
                                float *corners);
LT_API void lt_um2n_free(lt_um2n *m);
/* Predicted coordinates [N, 2]. training turns dropout on. layer_coords,
 * when non-NULL, receives the coordinates after each DeformGAT layer. */
LT_API lt_tensor *lt_um2n_forward(lt_ctx *c, lt_um2n *m,
                                  const lt_um2n_batch *b, bool training,
                                  lt_tensor **layer_coords);
/* train_util.get_area_loss: sum over faces of |s a_t - s sign(a_t) a_o|
 * / batch, s = scale, a = signed face areas of target and output. */
LT_API lt_tensor *lt_um2n_area_loss(lt_ctx *c, lt_tensor *out,
                                    const lt_um2n_batch *b, float scale);
/* The training loss of the released model: area loss (scale 300) + 100 x
 * Chamfer of the whole batch merged into one cloud. */
LT_API lt_tensor *lt_um2n_loss(lt_ctx *c, lt_tensor *out,
                               const lt_um2n_batch *b);
/* The coordinate loss of train_util (weight_deform_loss): 1000 x the mean
 * absolute difference of the output and target coordinates
 * (torch.nn.L1Loss); alone it is the UM2N-coord ablation's loss. */
#define LT_UM2N_COORD_SCALE 1000.0f
LT_API lt_tensor *lt_um2n_coord_loss(lt_ctx *c, lt_tensor *out,
                                     const lt_um2n_batch *b);
/* UM2N's graph of a mesh: its edges, sorted by (i, j) with i < j, then
 * the same reversed (processor.find_edges). *src and *dst are malloc'd
 * (2 * edges each); free them. */
LT_API lt_status lt_um2n_edges(const int32_t *faces, int64_t n_faces,
                               int64_t n_nodes, int32_t **src, int32_t **dst,
                               int64_t *n_edges);
/* safetensors with the state_dict names. */
LT_API lt_status lt_um2n_save(const lt_um2n *m, const char *path);
LT_API lt_status lt_um2n_load(lt_um2n *m, const char *path);

/* ---- training (src/models/um2n_train.c) ------------------------------- */

/* One training sample: a mesh graph with its features and MA target. */
typedef struct {
    int64_t n_nodes;
    const float *x, *mesh_feat, *target; /* [n, 3], [n, 3], [n, 2] */
    const int32_t *faces;                /* [n_faces, 3] */
    int64_t n_faces;
    const int32_t *src, *dst;            /* [n_edges] */
    int64_t n_edges;
} lt_um2n_sample;

#define LT_UM2N_LR 5e-5f
#define LT_M2N_LR 1e-3f /* the M2N configs' learning_rate */
#define LT_UM2N_WEIGHT_DECAY 5e-4f /* coupled (torch Adam's L2) */
#define LT_UM2N_BATCH 5

/* The training loss: the released model's (area + Chamfer) or the
 * coordinate loss of the UM2N-coord ablation. */
typedef enum { LT_UM2N_LOSS_AREA_CHAMFER = 0, LT_UM2N_LOSS_COORD = 1 }
    lt_um2n_loss_kind;

/* run_train_baselines' loop: Adam (betas 0.9/0.999, eps 1e-8), lr 5e-5
 * (M2N: 1e-3, its configs' rate; its batch of 10 is kept at 5, since a
 * batch must hold meshes of one size and the sets have 225 samples),
 * weight decay 5e-4 added to the gradient, batches of 5 in order (no
 * shuffling), dropout on. Dropout is drawn from seed and the step, so a
 * resumed run repeats an uninterrupted one bit for bit.
 * Data parallel (dist, docs/mpi.md): every batch is cut into `shards`
 * parts of whole meshes (0: one per rank; a multiple of the ranks, at
 * most the batch), shard j's dropout drawn from (seed, step, j) (shard 0:
 * the single-process draws), each shard's mean loss weighted by its share
 * of the batch's meshes and the gradients summed over the shards by
 * lt_dp (lethe/train.h) before the Adam step every rank takes. Only the
 * coordinate loss is a sum over meshes; the area + Chamfer loss takes the
 * Chamfer distance of the whole batch's nodes as one cloud, so it is
 * refused (LT_ERR_ARG). */
typedef struct {
    lt_um2n *model;
    lt_optim opt;
    int64_t epoch;  /* epochs completed */
    int batch;
    uint64_t seed;
    lt_um2n_loss_kind loss; /* LT_UM2N_LOSS_AREA_CHAMFER after init */
    lt_dist_mode dist;      /* LT_DIST_OFF after init */
    int shards;             /* 0 after init: one per rank */
} lt_um2n_trainer;

LT_API lt_status lt_um2n_trainer_init(lt_um2n_trainer *t, lt_um2n *m,
                                      uint64_t seed);
LT_API void lt_um2n_trainer_free(lt_um2n_trainer *t);
/* One epoch over samples[0..n) (the samples of one batch must have one
 * node count, as the transformer's per-graph view needs; batches are cut
 * every 5 samples in order, so a concatenation of data sets of 225
 * samples each never mixes two sizes); *mean_loss: the mean batch loss.
 * c is reset before every batch. */
LT_API lt_status lt_um2n_train_epoch(lt_ctx *c, lt_um2n_trainer *t,
                                     const lt_um2n_sample *samples,
                                     int64_t n, double *mean_loss);
/* The weights (state_dict names), the Adam moments ("optimizer.m",
 * "optimizer.v"), the counters, the loss kind and the seed, written
 * atomically; load restores them into a trainer made by
 * lt_um2n_trainer_init with the same loss kind and seed (LT_ERR_ARG
 * otherwise; nothing changes on error). */
LT_API lt_status lt_um2n_trainer_save(const lt_um2n_trainer *t,
                                      const char *path);
LT_API lt_status lt_um2n_trainer_load(lt_um2n_trainer *t, const char *path);

/* The mean loss (the trainer's loss kind, dropout off, no update) over
 * samples[0..n) in batches of 5, as train_util.evaluate. */
LT_API lt_status lt_um2n_eval_loss(lt_ctx *c, lt_um2n_trainer *t,
                                   const lt_um2n_sample *samples, int64_t n,
                                   double *mean_loss);

/* ---- UM2N's data sets (src/models/um2n_data.c) ------------------------- */

/* The split of n samples as build_helmholtz_square.py: the first
 * int(0.75 n) train, the next int(0.15 n) test, the next int(0.1 n) val
 * (300: 225/45/30; 101: 75/15/10, the last sample in none). */
LT_API void lt_um2n_split(int64_t n, int64_t *train, int64_t *test,
                          int64_t *val);
/* The network's inputs for mesh m with vertex monitor mon, as UM2N's
 * loader builds them (x_feat coord, bd_mask; mesh_feat coord, monitor_val,
 * then normalise): x = [x, y, boundary flag], mesh_feat = [x, y,
 * mon / max |mon|] (n = m->nv rows of 3 floats each). */
LT_API lt_status lt_um2n_features(const lt_mesh *m, const double *mon,
                                  float *x, float *mesh_feat);

/* Move mesh m with the network once (dropout off): the inputs of
 * lt_um2n_features for the vertex monitor mon [nv], UM2N's edges of m's
 * faces, one forward pass in context c (reset first); the output
 * coordinates into xy [2 nv], the forward pass's wall time into *seconds
 * (when non-NULL; building the inputs is not counted). poly: an M2N
 * samples the polygon path's grid over the corners of sides 1-4
 * (lt_m2n_corners), as for a domain that is not the square (the square
 * with a hole); else the square's. */
LT_API lt_status lt_um2n_move_mesh(lt_ctx *c, lt_um2n *net, const lt_mesh *m,
                                   const double *mon, bool poly, double *xy,
                                   double *seconds);

/* How samples are drawn: seed and index choose the random field; when MA
 * does not converge, or the field is flat (no monitor), a new field is
 * drawn (as the build script's retry), at most max_tries times. */
typedef struct {
    uint64_t seed;
    bool iso;      /* isotropic bumps (UM2N's "iso" data) */
    int max_tries; /* 20 */
    lt_ma_opts ma; /* lt_ma_opts_default */
} lt_um2n_gen_opts;
LT_API void lt_um2n_gen_opts_default(lt_um2n_gen_opts *o);

typedef struct {
    int tries;          /* fields drawn (1 when MA converged at once) */
    int ma_iters, tangled;
    double ma_seconds;
    double err_uniform, err_ma; /* L2 error vs the exact field */
} lt_um2n_gen_info;

/* Make sample index of a data set on mesh m and write it to path
 * atomically (safetensors; docs/um2n.md lists the tensors): the random
 * field, UM2N's monitor, the MA mesh (the target), the P1 Helmholtz
 * solutions on both meshes and their errors. */
LT_API lt_status lt_um2n_sample_generate(const lt_mesh *m,
                                         const lt_um2n_gen_opts *o,
                                         int64_t index, const char *path,
                                         lt_um2n_gen_info *info);

/* A sample read back: the network's sample (arrays owned here), the
 * uniform mesh (float32 coordinates), the field and the stored results. */
typedef struct {
    lt_um2n_sample s;
    float *x, *mesh_feat, *target;
    int32_t *faces, *src, *dst; /* dst points into src's allocation */
    lt_mesh mesh;
    lt_gauss_field field;
    float *monitor, *uh, *uh_ma; /* [n] */
    int64_t index;
    double err_uniform, err_ma;
} lt_um2n_item;
/* Read and check one sample file: a file that is not a sample, a missing
 * or misshapen tensor, an index out of range, a non-finite value or a
 * truncated file is LT_ERR_FORMAT naming the file and the tensor. */
LT_API lt_status lt_um2n_item_read(const char *path, lt_um2n_item *it);
LT_API void lt_um2n_item_free(lt_um2n_item *it);

/* A split of a data set folder made by `lethe mesh data`. */
typedef struct {
    int64_t n;
    lt_um2n_item *items;
    lt_um2n_sample *samples; /* [n] views of items[i].s, for training */
} lt_um2n_data;
/* The path of sample index in folder dir (dir/data/data_NNNN.safetensors). */
LT_API void lt_um2n_sample_path(const char *dir, int64_t index, char *out,
                                size_t n);
/* Open split ("train", "test", "val" or "all") of the data set in dir
 * (dir/dataset.txt says its size and split). A missing folder or
 * dataset.txt is LT_ERR_IO, a missing sample (an unfinished set) or a
 * corrupt one LT_ERR_FORMAT, each naming the file. */
LT_API lt_status lt_um2n_data_open(const char *dir, const char *split,
                                   lt_um2n_data *d);
LT_API void lt_um2n_data_free(lt_um2n_data *d);

#ifdef __cplusplus
}
#endif
#endif
