/*
 * lethe/um2n.h - M2N_T, the released UM2N mesh-movement network, on
 * Lethe's ops (models layer): the transformer encoder over all nodes, the
 * local edge-feature network, four DeformGAT layers, and UM2N's training
 * loss (element-area loss + 100 x Chamfer). Parameter names are those of
 * PyTorch's state_dict() of the official M2N_T module, so a converted
 * official checkpoint loads (lt_um2n_load; the aliases "...gat_k.lin_.*"
 * that the official state_dict repeats are accepted and checked).
 */
#ifndef LETHE_UM2N_H
#define LETHE_UM2N_H

#include "lethe/core.h"
#include "lethe/nn.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LT_UM2N_GAT_LAYERS 4
#define LT_UM2N_AREA_SCALE 300.0f   /* run_train_baselines' scaler */
#define LT_UM2N_CHAMFER_WEIGHT 100.0f /* train_util: 100 * chamfer */

typedef struct {
    lt_params params;
    float dropout; /* transformer dropout, 0.1 (official) */
} lt_um2n;

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
} lt_um2n_batch;

/* Declare the parameters and draw PyTorch's default initialisation
 * (Linear: U(+-1/sqrt(fan_in)); attention in_proj Xavier, biases 0;
 * DeformGAT glorot; LayerNorm 1/0; c_attn and residual_weight 1). */
LT_API lt_status lt_um2n_init(lt_um2n *m, uint64_t seed);
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
/* UM2N's graph of a mesh: its edges, sorted by (i, j) with i < j, then
 * the same reversed (processor.find_edges). *src and *dst are malloc'd
 * (2 * edges each); free them. */
LT_API lt_status lt_um2n_edges(const int32_t *faces, int64_t n_faces,
                               int64_t n_nodes, int32_t **src, int32_t **dst,
                               int64_t *n_edges);
/* safetensors with the state_dict names. */
LT_API lt_status lt_um2n_save(const lt_um2n *m, const char *path);
LT_API lt_status lt_um2n_load(lt_um2n *m, const char *path);

#ifdef __cplusplus
}
#endif
#endif
