/*
 * um2n.c - M2N_T, the network of the released UM2N (mesh-adaptation/UM2N,
 * UM2N/model/M2N_T.py), built from Lethe's ops:
 *   gfe: TransformerEncoder on mesh_feat [x, y, m] viewed per graph:
 *        mlp_in (3 -> 64 -> 64, GELU after both), one pre-norm block
 *        (4-head attention with dropout, the per-head scale c_attn whose
 *        einsum "b n h d, h -> b n d h" interleaves channels as d * 4 + h,
 *        post-attention LayerNorm, dense 64 -> 256 -> 64 with LayerNorm,
 *        residual_weight on the second residual), mlp_out (64 -> 64 -> 16,
 *        GELU after both), SELU;
 *   lfe: per edge [x_j - x_i, |x_j - x_i|, m_i, m_j] -> 64 -> 64 -> 15
 *        (SELU after each), with |x_j - x_i| appended, summed into i;
 *   deformer: Linear 35 -> 254 + SELU, then four DeformGAT layers (6
 *        heads; 508, 250, 120, 20 channels) fed with the concatenation of
 *        all earlier coordinates, each ending with the boundary clamp.
 * The training loss is train_util's element-area loss (scale 300) plus
 * 100 x the Chamfer distance of the merged batch (pytorch3d's defaults).
 * The M2N baseline (UM2N/model/M2N.py, extractor.GlobalFeatExtractor with
 * use_drop False) swaps gfe for a CNN on the monitor resampled onto a
 * 20 x 20 grid (conv 1->32 k3 p1, 32->64 k5 p2, 64->32 k3 p2, 32->16 k3
 * p2, SELU after each, global mean), repeats that per node, and feeds the
 * deformer [x, y, boundary, left, right, down, up, local, global] (39).
 * M2N's per-mesh inputs and the mesh graph are um2n_inputs.c's, the
 * checkpoints um2n_io.c's.
 */
#include "lethe/um2n.h"

#include "lethe/ops.h"
#include "lethe/safetensors.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EMBED 64
#define T_HEADS 4
#define DENSE 256
#define GFE_OUT 16
#define LFE_OUT 16
#define LFE_HIDDEN 64
#define GAT_HEADS 6
#define LN_EPS 1e-5f
#define GAT_COORD_SCALE 0.2f
#define TF "gfe.transformer_encoder."
#define BLK TF "attn_layers.0."
#define M2N_X 7 /* coord, bd_mask, bd_left/right/down/up_mask */
#define M2N_CONVS 4

static const int64_t gat_in[LT_UM2N_GAT_LAYERS] = {256, 512, 256, 128};
static const int64_t gat_out[LT_UM2N_GAT_LAYERS] = {508, 250, 120, 20};
/* GlobalFeatExtractor: channels, kernel and padding of conv1..conv4. */
static const int64_t conv_ch[M2N_CONVS + 1] = {1, 32, 64, 32, GFE_OUT};
static const int conv_k[M2N_CONVS] = {3, 5, 3, 3};
static const int conv_pad[M2N_CONVS] = {1, 2, 2, 2};

/* ---- parameters -------------------------------------------------------- */

typedef enum { INIT_LINEAR_W, INIT_LINEAR_B, INIT_ONE, INIT_ZERO,
               INIT_XAVIER, INIT_GLOROT } init_kind;

typedef struct {
    lt_um2n *m;
    lt_rng rng;
    bool ok;
    bool fill; /* false: declare, true: initialise */
} builder;

/* Declares (first pass) or initialises (second pass) one parameter. */
static void param(builder *b, init_kind k, int64_t fan_in, int ndim,
                  const int64_t *shape, const char *fmt, ...)
{
    char name[LT_PARAM_NAME_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    if (!b->ok)
        return;
    if (!b->fill) {
        b->ok = lt_params_add(&b->m->params, name, ndim, shape, true) >= 0;
        return;
    }
    lt_tensor *t = lt_params_get(&b->m->params, name);
    if (!t) {
        b->ok = false;
        return;
    }
    float bound = 0;
    if (k == INIT_LINEAR_W || k == INIT_LINEAR_B)
        bound = 1.0f / sqrtf((float)fan_in);
    else if (k == INIT_XAVIER) /* fan_in + fan_out of [3E, E] */
        bound = sqrtf(6.0f / (float)(shape[0] + shape[1]));
    else if (k == INIT_GLOROT) /* PyG glorot: last two dims */
        bound = sqrtf(6.0f / (float)(shape[ndim - 2] + shape[ndim - 1]));
    if (k == INIT_ONE || k == INIT_ZERO)
        for (int64_t i = 0; i < t->numel; i++)
            t->data[i] = k == INIT_ONE ? 1.0f : 0.0f;
    else
        lt_rng_fill_uniform(&b->rng, t->data, t->numel, -bound, bound);
}

static void linear_params(builder *b, int64_t in, int64_t out,
                          const char *prefix)
{
    param(b, INIT_LINEAR_W, in, 2, (int64_t[]){out, in}, "%sweight", prefix);
    param(b, INIT_LINEAR_B, in, 1, (int64_t[]){out}, "%sbias", prefix);
}

static void norm_params(builder *b, int64_t d, const char *prefix)
{
    param(b, INIT_ONE, 0, 1, (int64_t[]){d}, "%sweight", prefix);
    param(b, INIT_ZERO, 0, 1, (int64_t[]){d}, "%sbias", prefix);
}

static void gfe_params(builder *b)
{
    linear_params(b, 3, EMBED, TF "mlp_in.layers.0.");
    linear_params(b, EMBED, EMBED, TF "mlp_in.layers.2.");
    linear_params(b, EMBED, EMBED, TF "mlp_out.layers.0.");
    linear_params(b, EMBED, GFE_OUT, TF "mlp_out.layers.2.");
    param(b, INIT_ONE, 0, 1, (int64_t[]){T_HEADS}, BLK "c_attn");
    param(b, INIT_ONE, 0, 1, (int64_t[]){EMBED}, BLK "residual_weight");
    norm_params(b, EMBED, BLK "pre_attn_norm.");
    norm_params(b, EMBED, BLK "post_attn_norm.");
    norm_params(b, EMBED, BLK "pre_dense_norm.");
    norm_params(b, DENSE, BLK "post_dense_norm.");
    param(b, INIT_XAVIER, 0, 2, (int64_t[]){3 * EMBED, EMBED},
          BLK "attn_layer.in_proj_weight");
    param(b, INIT_ZERO, 0, 1, (int64_t[]){3 * EMBED},
          BLK "attn_layer.in_proj_bias");
    param(b, INIT_LINEAR_W, EMBED, 2, (int64_t[]){EMBED, EMBED},
          BLK "attn_layer.out_proj.weight");
    param(b, INIT_ZERO, 0, 1, (int64_t[]){EMBED}, BLK "attn_layer.out_proj.bias");
    linear_params(b, EMBED, DENSE, BLK "dense_1.");
    linear_params(b, DENSE, EMBED, BLK "dense_2.");
}

static void cnn_params(builder *b)
{
    for (int k = 0; k < M2N_CONVS; k++) {
        int64_t fan = conv_ch[k] * conv_k[k] * conv_k[k];
        param(b, INIT_LINEAR_W, fan, 4,
              (int64_t[]){conv_ch[k + 1], conv_ch[k], conv_k[k], conv_k[k]},
              "gfe.conv%d.weight", k + 1);
        param(b, INIT_LINEAR_B, fan, 1, (int64_t[]){conv_ch[k + 1]},
              "gfe.conv%d.bias", k + 1);
    }
}

static void all_params(builder *b)
{
    bool m2n = b->m->arch == LT_UM2N_ARCH_M2N;
    if (m2n)
        cnn_params(b);
    else
        gfe_params(b);
    linear_params(b, 5, LFE_HIDDEN, "lfe.lin_1.");
    linear_params(b, LFE_HIDDEN, LFE_HIDDEN, "lfe.lin_2.");
    linear_params(b, LFE_HIDDEN, LFE_OUT - 1, "lfe.lin_3.");
    linear_params(b, (m2n ? M2N_X : 3) + GFE_OUT + LFE_OUT, 254,
                  "deformer.lin.");
    for (int k = 0; k < LT_UM2N_GAT_LAYERS; k++) {
        char p[64];
        snprintf(p, sizeof p, "deformer.gat_%d.lin_l.", k + 1);
        param(b, INIT_GLOROT, 0, 2,
              (int64_t[]){GAT_HEADS * gat_out[k], gat_in[k]}, "%sweight", p);
        param(b, INIT_LINEAR_B, gat_in[k], 1,
              (int64_t[]){GAT_HEADS * gat_out[k]}, "%sbias", p);
        for (int s = 0; s < 2; s++)
            param(b, INIT_GLOROT, 0, 3, (int64_t[]){1, GAT_HEADS, gat_out[k]},
                  "deformer.gat_%d.att_%c", k + 1, s ? 'r' : 'l');
    }
}

lt_status lt_um2n_init(lt_um2n *m, uint64_t seed)
{
    return lt_um2n_init_arch(m, LT_UM2N_ARCH_M2N_T, seed);
}

const char *lt_um2n_arch_name(lt_um2n_arch a)
{
    return a == LT_UM2N_ARCH_M2N ? "m2n" : "m2n_t";
}

lt_status lt_um2n_arch_parse(const char *s, lt_um2n_arch *a)
{
    if (s && (!strcmp(s, "m2n_t") || !strcmp(s, "um2n")))
        *a = LT_UM2N_ARCH_M2N_T;
    else if (s && !strcmp(s, "m2n"))
        *a = LT_UM2N_ARCH_M2N;
    else
        return lt_set_error(LT_ERR_ARG, "unknown architecture '%s' (um2n, "
                            "m2n_t or m2n)", s ? s : "(null)");
    return LT_OK;
}

lt_status lt_um2n_init_arch(lt_um2n *m, lt_um2n_arch arch, uint64_t seed)
{
    if (!m || (arch != LT_UM2N_ARCH_M2N_T && arch != LT_UM2N_ARCH_M2N))
        return lt_set_error(LT_ERR_ARG, "um2n_init: NULL model or unknown "
                            "architecture");
    memset(m, 0, sizeof *m);
    lt_params_init(&m->params);
    m->dropout = 0.1f;
    m->arch = arch;
    builder b = {m, {0, 0}, true, false};
    lt_rng_init(&b.rng, seed);
    all_params(&b);
    if (!b.ok || lt_params_finalize(&m->params) != LT_OK) {
        lt_params_free(&m->params);
        return lt_last_status();
    }
    b.fill = true;
    all_params(&b);
    if (!b.ok) {
        lt_params_free(&m->params);
        return lt_last_status();
    }
    return LT_OK;
}

void lt_um2n_free(lt_um2n *m)
{
    if (m)
        lt_params_free(&m->params);
}

/* ---- forward ------------------------------------------------------------ */

/* The parameter of m named by a printf format. */
#define P(m, ...) lt_params_getf(&(m)->params, __VA_ARGS__)

static lt_tensor *lin(lt_ctx *c, lt_um2n *m, lt_tensor *x, const char *pre)
{
    return lt_linear(c, x, P(m, "%sweight", pre), P(m, "%sbias", pre));
}

static lt_tensor *norm(lt_ctx *c, lt_um2n *m, lt_tensor *x, const char *pre)
{
    return lt_layer_norm(c, x, P(m, "%sweight", pre), P(m, "%sbias", pre),
                         LN_EPS);
}

/* MLP_model with one hidden layer: GELU after both Linear layers. */
static lt_tensor *mlp(lt_ctx *c, lt_um2n *m, lt_tensor *x, const char *pre)
{
    char a[96], b[96];
    snprintf(a, sizeof a, "%slayers.0.", pre);
    snprintf(b, sizeof b, "%slayers.2.", pre);
    return lt_gelu(c, lin(c, m, lt_gelu(c, lin(c, m, x, a)), b));
}

/* One of q, k, v of the packed projection, as [B, heads, n, d]. */
static lt_tensor *head_split(lt_ctx *c, lt_tensor *qkv, int which, int64_t bsz,
                             int64_t n)
{
    lt_tensor *t = lt_slice(c, qkv, 2, which * EMBED, (which + 1) * EMBED);
    int64_t s[4] = {bsz, n, T_HEADS, EMBED / T_HEADS};
    return lt_permute(c, lt_reshape(c, t, 4, s), (int[]){0, 2, 1, 3});
}

/* nn.MultiheadAttention(x, x, x) with dropout on the attention weights. */
static lt_tensor *mha(lt_ctx *c, lt_um2n *m, lt_tensor *x, bool training)
{
    int64_t bsz = x->shape[0], n = x->shape[1];
    lt_tensor *qkv = lt_linear(c, x, P(m, BLK "attn_layer.in_proj_weight"),
                               P(m, BLK "attn_layer.in_proj_bias"));
    if (!qkv)
        return NULL;
    float scale = 1.0f / sqrtf((float)(EMBED / T_HEADS));
    lt_tensor *q = lt_affine(c, head_split(c, qkv, 0, bsz, n), scale, 0);
    lt_tensor *s = lt_bmm(c, q, head_split(c, qkv, 1, bsz, n), false, true);
    lt_tensor *p = lt_dropout(c, lt_softmax(c, s, -1), m->dropout, training);
    lt_tensor *o = lt_bmm(c, p, head_split(c, qkv, 2, bsz, n), false, false);
    o = lt_permute(c, o, (int[]){0, 2, 1, 3});
    o = lt_reshape(c, o, 3, (int64_t[]){bsz, n, EMBED});
    return lin(c, m, o, BLK "attn_layer.out_proj.");
}

/* x [B, n, H*d] -> einsum("b n h d, h -> b n d h") reshaped [B, n, d*H]. */
static lt_tensor *head_scale(lt_ctx *c, lt_um2n *m, lt_tensor *x)
{
    if (!x)
        return NULL;
    int64_t bsz = x->shape[0], n = x->shape[1];
    int64_t s[4] = {bsz, n, T_HEADS, EMBED / T_HEADS};
    lt_tensor *w = lt_reshape(c, P(m, BLK "c_attn"), 2,
                              (int64_t[]){T_HEADS, 1});
    lt_tensor *y = lt_mul(c, lt_reshape(c, x, 4, s), w);
    y = lt_permute(c, y, (int[]){0, 1, 3, 2});
    return lt_reshape(c, y, 3, (int64_t[]){bsz, n, EMBED});
}

static lt_tensor *tf_block(lt_ctx *c, lt_um2n *m, lt_tensor *x, bool tr)
{
    float p = m->dropout;
    lt_tensor *h = mha(c, m, norm(c, m, x, BLK "pre_attn_norm."), tr);
    h = norm(c, m, head_scale(c, m, h), BLK "post_attn_norm.");
    x = lt_add(c, lt_dropout(c, h, p, tr), x);
    h = lt_gelu(c, lin(c, m, norm(c, m, x, BLK "pre_dense_norm."),
                       BLK "dense_1."));
    h = norm(c, m, lt_dropout(c, h, p, tr), BLK "post_dense_norm.");
    h = lt_dropout(c, lin(c, m, h, BLK "dense_2."), p, tr);
    return lt_add(c, h, lt_mul(c, P(m, BLK "residual_weight"), x));
}

static lt_tensor *global_features(lt_ctx *c, lt_um2n *m, lt_tensor *feat,
                                  int64_t bsz, bool tr)
{
    int64_t n = feat->shape[0] / bsz;
    lt_tensor *x = lt_reshape(c, feat, 3, (int64_t[]){bsz, n, 3});
    x = mlp(c, m, tf_block(c, m, mlp(c, m, x, TF "mlp_in."), tr),
            TF "mlp_out.");
    return lt_reshape(c, lt_selu(c, x), 2, (int64_t[]){bsz * n, GFE_OUT});
}

/* LocalFeatExtractor: edge inputs [x_j - x_i, |x_j - x_i|, m_i, m_j]. */
static lt_tensor *local_features(lt_ctx *c, lt_um2n *m, const lt_um2n_batch *b)
{
    int64_t e = b->n_edges;
    lt_tensor *in = lt_new2(c, e, 5), *dist = lt_new2(c, e, 1);
    if (!in || !dist)
        return NULL;
    for (int64_t k = 0; k < e; k++) {
        const float *xi = b->mesh_feat + 3 * (int64_t)b->dst[k];
        const float *xj = b->mesh_feat + 3 * (int64_t)b->src[k];
        float dx = xj[0] - xi[0], dy = xj[1] - xi[1];
        float r = sqrtf(dx * dx + dy * dy);
        float *o = in->data + 5 * k;
        o[0] = dx;
        o[1] = dy;
        o[2] = r;
        o[3] = xi[2];
        o[4] = xj[2];
        dist->data[k] = r;
    }
    lt_tensor *h = lt_selu(c, lin(c, m, in, "lfe.lin_1."));
    h = lt_selu(c, lin(c, m, h, "lfe.lin_2."));
    h = lt_selu(c, lin(c, m, h, "lfe.lin_3."));
    h = lt_concat(c, 2, (lt_tensor *[]){h, dist}, 1);
    return lt_scatter_add(c, h, b->dst, b->n_nodes);
}

/* fix_boundary: out * keep + in * pass + constant, masks from in's
 * values (sides x = 0, 1 and y = 0, 1 clamped) and the boundary flags. */
static lt_tensor *clamp_boundary(lt_ctx *c, lt_tensor *out, lt_tensor *in,
                                 const lt_um2n_batch *b)
{
    if (!out || !in)
        return NULL;
    int64_t n = b->n_nodes;
    lt_tensor *keep = lt_new2(c, n, 2), *pass = lt_new2(c, n, 2);
    lt_tensor *cst = lt_new2(c, n, 2);
    if (!keep || !pass || !cst)
        return NULL;
    for (int64_t i = 0; i < 2 * n; i++) {
        float v = in->data[i];
        bool bd = b->x[3 * (i / 2) + 2] != 0;
        bool side = v == 0.0f || v == 1.0f;
        keep->data[i] = bd || side ? 0.0f : 1.0f;
        pass->data[i] = bd ? 1.0f : 0.0f;
        cst->data[i] = !bd && side ? v : 0.0f;
    }
    lt_tensor *y = lt_add(c, lt_mul(c, out, keep), lt_mul(c, in, pass));
    return lt_add(c, y, cst);
}

/* One DeformGAT layer; *feat_out NULL skips the (unused) features. */
static lt_tensor *deform_gat(lt_ctx *c, lt_um2n *m, int k, lt_tensor *coords,
                             lt_tensor *feat, const lt_um2n_batch *b,
                             lt_tensor **feat_out)
{
    int64_t n = b->n_nodes, ch = gat_out[k];
    char pre[32];
    snprintf(pre, sizeof pre, "deformer.gat_%d.lin_l.", k + 1);
    lt_tensor *xl = lin(c, m, feat, pre);
    xl = lt_reshape(c, xl, 3, (int64_t[]){n, GAT_HEADS, ch});
    lt_tensor *al = lt_sum(c, lt_mul(c, xl, P(m, "deformer.gat_%d.att_l", k + 1)),
                           -1, false);
    lt_tensor *ar = lt_sum(c, lt_mul(c, xl, P(m, "deformer.gat_%d.att_r", k + 1)),
                           -1, false);
    lt_graph_attn_opts oc = {GAT_COORD_SCALE, LT_GAT_SELU, 0};
    lt_tensor *c3 = lt_reshape(c, coords, 3, (int64_t[]){n, 1, 2});
    lt_tensor *co = lt_graph_attn(c, c3, al, ar, b->src, b->dst, b->n_edges,
                                  &oc);
    co = clamp_boundary(c, lt_mean(c, co, 1, false), coords, b);
    if (feat_out) {
        lt_graph_attn_opts of = {1.0f, LT_GAT_SELU, 0};
        lt_tensor *fo = lt_graph_attn(c, xl, al, ar, b->src, b->dst,
                                      b->n_edges, &of);
        *feat_out = lt_selu(c, lt_mean(c, fo, 1, false));
    }
    return co;
}

static lt_tensor *deformer(lt_ctx *c, lt_um2n *m, lt_tensor *data,
                           const lt_um2n_batch *b, lt_tensor **layer_coords)
{
    lt_tensor *cs[LT_UM2N_GAT_LAYERS + 1];
    cs[0] = lt_slice(c, data, 1, 0, 2);
    lt_tensor *feat = lt_selu(c, lin(c, m, data, "deformer.lin."));
    feat = lt_concat(c, 2, (lt_tensor *[]){cs[0], feat}, 1);
    for (int k = 0; k < LT_UM2N_GAT_LAYERS; k++) {
        bool last = k == LT_UM2N_GAT_LAYERS - 1;
        lt_tensor *f = NULL;
        cs[k + 1] = deform_gat(c, m, k, cs[k], feat, b, last ? NULL : &f);
        if (!cs[k + 1])
            return NULL;
        if (layer_coords)
            layer_coords[k] = cs[k + 1];
        if (last)
            break;
        lt_tensor *parts[LT_UM2N_GAT_LAYERS + 2];
        for (int j = 0; j <= k + 1; j++)
            parts[j] = cs[k + 1 - j];
        parts[k + 2] = f;
        feat = lt_concat(c, k + 3, parts, 1);
    }
    return cs[LT_UM2N_GAT_LAYERS];
}

/* Indices idx[0..n) in [0, limit); what names the array in the error. */
static bool indices_ok(const int32_t *idx, int64_t n, int64_t limit,
                       const char *what)
{
    if (n > 0 && !idx) {
        lt_set_error(LT_ERR_ARG, "um2n: the batch has no %s", what);
        return false;
    }
    for (int64_t i = 0; i < n; i++)
        if (idx[i] < 0 || idx[i] >= limit) {
            lt_set_error(LT_ERR_ARG, "um2n: %s[%lld] = %d is not a node "
                         "(%lld nodes)", what, (long long)i, (int)idx[i],
                         (long long)limit);
            return false;
        }
    return true;
}

static bool batch_ok(const lt_um2n_batch *b)
{
    if (!b || !b->x || !b->mesh_feat || b->n_nodes < 1 || b->n_graphs < 1 ||
        b->n_nodes % b->n_graphs != 0 || b->n_edges < 0) {
        lt_set_error(LT_ERR_ARG, "um2n: a batch needs x, mesh_feat and "
                     "n_nodes (%lld) a multiple of n_graphs (%lld)",
                     b ? (long long)b->n_nodes : 0LL,
                     b ? (long long)b->n_graphs : 0LL);
        return false;
    }
    return indices_ok(b->src, b->n_edges, b->n_nodes, "src") &&
           indices_ok(b->dst, b->n_edges, b->n_nodes, "dst");
}

/* ---- M2N's batch inputs ---------------------------------------------- */

static int64_t graph_faces(const lt_um2n_batch *b, int64_t gi, int64_t per,
                           int32_t *out)
{
    int64_t k = 0;
    for (int64_t t = 0; t < b->n_faces; t++)
        if (b->faces[3 * t] / per == gi) {
            for (int v = 0; v < 3; v++)
                out[3 * k + v] = (int32_t)(b->faces[3 * t + v] - gi * per);
            k++;
        }
    return k;
}

/* M2N's conv_feat [G, 1, 20, 20] (polygon: [G, 1, 32, 32]) and node
 * inputs [N, 7] for batch b. */
static bool m2n_batch_inputs(lt_ctx *c, const lt_um2n_batch *b,
                             lt_tensor **conv, lt_tensor **x)
{
    int64_t n = b->n_nodes, ng = b->n_graphs, per = n / ng;
    const int64_t gs = b->m2n_corners ? LT_M2N_POLY_GRID : LT_M2N_GRID,
                  gg = gs * gs;
    if (!b->faces || b->n_faces < 1) {
        lt_set_error(LT_ERR_ARG, "m2n: the batch needs its faces (the "
                     "monitor grid is sampled on them)");
        return false;
    }
    *conv = lt_new(c, 4, (int64_t[]){ng, 1, gs, gs});
    *x = lt_new2(c, n, M2N_X);
    float *side = malloc((size_t)per * 4 * sizeof *side);
    int32_t *lf = malloc((size_t)b->n_faces * 3 * sizeof *lf);
    bool ok = *conv && *x && side && lf;
    if (!ok)
        lt_set_error(LT_ERR_NOMEM, "m2n: out of memory");
    for (int64_t gi = 0; ok && gi < ng; gi++) {
        int64_t nf = graph_faces(b, gi, per, lf);
        const float *mf = b->mesh_feat + 3 * gi * per;
        ok = lt_m2n_inputs(mf, per, lf, nf, b->m2n_corners ? NULL
                           : (*conv)->data + gi * gg, side) == LT_OK;
        if (ok && b->m2n_corners)
            ok = lt_m2n_poly_grid(mf, per, lf, nf, b->m2n_corners,
                                  b->m2n_ncorners, (*conv)->data + gi * gg) ==
                 LT_OK;
        for (int64_t i = 0; ok && i < per; i++) {
            float *r = (*x)->data + M2N_X * (gi * per + i);
            memcpy(r, b->x + 3 * (gi * per + i), 3 * sizeof(float));
            memcpy(r + 3, side + 4 * i, 4 * sizeof(float));
        }
    }
    free(side);
    free(lf);
    return ok;
}

/* GlobalFeatExtractor (no dropout, as M2N builds it), one row per graph,
 * repeated for every node of the graph (repeat_interleave). */
static lt_tensor *m2n_global(lt_ctx *c, lt_um2n *m, lt_tensor *conv,
                             const lt_um2n_batch *b)
{
    lt_tensor *h = conv;
    for (int k = 0; k < M2N_CONVS; k++) {
        lt_conv_args a = {0};
        a.pad_h = a.pad_w = conv_pad[k];
        h = lt_selu(c, lt_conv2d(c, h, P(m, "gfe.conv%d.weight", k + 1),
                                 P(m, "gfe.conv%d.bias", k + 1), a));
    }
    h = lt_global_avg_pool(c, h);
    int64_t per = b->n_nodes / b->n_graphs;
    int32_t *ids = malloc((size_t)b->n_nodes * sizeof *ids);
    if (!ids) {
        lt_set_error(LT_ERR_NOMEM, "m2n: out of memory");
        return NULL;
    }
    for (int64_t i = 0; i < b->n_nodes; i++)
        ids[i] = (int32_t)(i / per);
    lt_tensor *r = h ? lt_embedding(c, h, ids, b->n_nodes) : NULL;
    free(ids);
    return r;
}

lt_tensor *lt_um2n_forward(lt_ctx *c, lt_um2n *m, const lt_um2n_batch *b,
                           bool training, lt_tensor **layer_coords)
{
    if (!m || !batch_ok(b)) {
        if (!m)
            lt_set_error(LT_ERR_ARG, "um2n_forward: NULL model");
        return NULL;
    }
    int64_t n = b->n_nodes;
    lt_tensor *feat = lt_from_data(c, 2, (int64_t[]){n, 3}, b->mesh_feat);
    lt_tensor *x = lt_from_data(c, 2, (int64_t[]){n, 3}, b->x);
    if (!feat || !x)
        return NULL;
    lt_tensor *g;
    if (m->arch == LT_UM2N_ARCH_M2N) {
        lt_tensor *conv = NULL;
        if (!m2n_batch_inputs(c, b, &conv, &x))
            return NULL;
        g = m2n_global(c, m, conv, b);
    } else {
        g = global_features(c, m, feat, b->n_graphs, training);
    }
    lt_tensor *l = local_features(c, m, b);
    lt_tensor *data = lt_concat(c, 3, (lt_tensor *[]){x, l, g}, 1);
    return deformer(c, m, data, b, layer_coords);
}

/* ---- loss --------------------------------------------------------------- */

/* Column k of the rows of xy picked by vertex v of every face: [F, 1]. */
static lt_tensor *face_col(lt_ctx *c, lt_tensor *xy, const int32_t *vid,
                           int64_t nf, int k)
{
    return lt_slice(c, lt_embedding(c, xy, vid, nf), 1, k, k + 1);
}

static float area_f(const float *p, const int32_t *f)
{
    const float *a = p + 2 * f[0], *b = p + 2 * f[1], *d = p + 2 * f[2];
    return 0.5f * (a[0] * (b[1] - d[1]) + b[0] * (d[1] - a[1]) +
                   d[0] * (a[1] - b[1]));
}

lt_tensor *lt_um2n_area_loss(lt_ctx *c, lt_tensor *out, const lt_um2n_batch *b,
                             float scale)
{
    if (!out)
        return NULL;
    if (!b || !b->target || b->n_faces < 1 ||
        !indices_ok(b->faces, 3 * b->n_faces, b->n_nodes, "faces")) {
        if (!b || !b->target || b->n_faces < 1)
            lt_set_error(LT_ERR_ARG, "um2n_loss: the batch has no target "
                         "or faces");
        return NULL;
    }
    int64_t nf = b->n_faces;
    int32_t *v[3];
    lt_tensor *sgn = lt_new2(c, nf, 1), *tar = lt_new2(c, nf, 1);
    for (int k = 0; k < 3; k++)
        v[k] = lt_alloc(c, (size_t)nf * sizeof(int32_t));
    if (!sgn || !tar || !v[0] || !v[1] || !v[2])
        return NULL;
    for (int64_t f = 0; f < nf; f++) {
        float a = area_f(b->target, b->faces + 3 * f);
        float s = (float)((a > 0) - (a < 0));
        sgn->data[f] = scale * s;
        tar->data[f] = scale * s * a;
        for (int k = 0; k < 3; k++)
            v[k][f] = b->faces[3 * f + k];
    }
    lt_tensor *x[3], *y[3];
    for (int k = 0; k < 3; k++) {
        x[k] = face_col(c, out, v[k], nf, 0);
        y[k] = face_col(c, out, v[k], nf, 1);
    }
    lt_tensor *a = lt_mul(c, x[0], lt_sub(c, y[1], y[2]));
    a = lt_add(c, a, lt_mul(c, x[1], lt_sub(c, y[2], y[0])));
    a = lt_add(c, a, lt_mul(c, x[2], lt_sub(c, y[0], y[1])));
    a = lt_mul(c, lt_affine(c, a, 0.5f, 0), sgn);
    lt_tensor *d = lt_sum_all(c, lt_abs(c, lt_sub(c, tar, a)));
    int64_t div = b->loss_batch > 0 ? b->loss_batch : b->n_graphs;
    return lt_affine(c, d, 1.0f / (float)div, 0);
}

lt_tensor *lt_um2n_loss(lt_ctx *c, lt_tensor *out, const lt_um2n_batch *b)
{
    if (!out)
        return NULL;
    if (!b || !b->target || !b->faces || b->n_faces < 1) {
        lt_set_error(LT_ERR_ARG, "um2n_loss: the batch has no target or "
                     "faces");
        return NULL;
    }
    lt_tensor *y = lt_from_data(c, 2, (int64_t[]){b->n_nodes, 2}, b->target);
    lt_tensor *ch = lt_chamfer(c, out, y, NULL, NULL, 1);
    return lt_add(c, lt_um2n_area_loss(c, out, b, LT_UM2N_AREA_SCALE),
                  lt_affine(c, ch, LT_UM2N_CHAMFER_WEIGHT, 0));
}

lt_tensor *lt_um2n_coord_loss(lt_ctx *c, lt_tensor *out,
                              const lt_um2n_batch *b)
{
    if (!out)
        return NULL;
    if (!b || !b->target) {
        lt_set_error(LT_ERR_ARG, "um2n_coord_loss: the batch has no target");
        return NULL;
    }
    lt_tensor *y = lt_from_data(c, 2, (int64_t[]){b->n_nodes, 2}, b->target);
    return lt_affine(c, lt_mean_all(c, lt_abs(c, lt_sub(c, out, y))),
                     LT_UM2N_COORD_SCALE, 0);
}

