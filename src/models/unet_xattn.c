/*
 * unet_xattn.c - the SpatialTransformer of the text-conditioned UNet
 * (lethe/diffusion.h), as Stable Diffusion's ldm/modules/attention.py
 * builds it: GroupNorm `norm`, 1x1 conv `proj_in`, the H*W positions as
 * tokens through one BasicTransformerBlock, 1x1 conv `proj_out`, plus the
 * input. The block is pre-LayerNorm (eps 1e-5):
 *     x = attn1(norm1(x)) + x           self-attention
 *     x = attn2(norm2(x), context) + x  cross-attention: keys and values
 *                                       from the text context
 *     x = ff(norm3(x)) + x              GEGLU: ff.net.0.proj to 2 * 4C,
 *                                       a * gelu(gate), ff.net.2 back to C
 * Attention projections to_q, to_k, to_v have no bias, to_out.0 has one;
 * heads split the width (head width C / heads, scale its -1/2 power).
 * With a probe set (lt_unet_probe), attn2 runs with explicit
 * probabilities and reports those at the marked tokens.
 */
#include "dm_internal.h"

#include <math.h>
#include <string.h>

#define XF_LN_EPS 1e-5f /* nn.LayerNorm's default, as SD */
#define XF_FF_MULT 4    /* FeedForward(mult=4) */

/* ---- declaration ---------------------------------------------------------------- */

/* CrossAttention p: queries of width ch, keys/values from kv_dim. */
static bool add_cross_attention(lt_unet *u, const char *p, int ch, int kv_dim)
{
    char q[LT_PARAM_NAME_MAX];
#define SUB(leaf) lt_unet_join(q, p, leaf)
    return lt_unet_add_linear(u, SUB("to_q"), ch, ch, false) &&
           lt_unet_add_linear(u, SUB("to_k"), kv_dim, ch, false) &&
           lt_unet_add_linear(u, SUB("to_v"), kv_dim, ch, false) &&
           lt_unet_add_linear(u, SUB("to_out.0"), ch, ch, true);
#undef SUB
}

static bool add_block(lt_unet *u, const char *p, int ch)
{
    char q[LT_PARAM_NAME_MAX];
    int inner = XF_FF_MULT * ch;
#define SUB(leaf) lt_unet_join(q, p, leaf)
    return lt_unet_add_norm(u, SUB("norm1"), ch) &&
           add_cross_attention(u, SUB("attn1"), ch, ch) &&
           lt_unet_add_norm(u, SUB("norm2"), ch) &&
           add_cross_attention(u, SUB("attn2"), ch, u->cfg.ctx_dim) &&
           lt_unet_add_norm(u, SUB("norm3"), ch) &&
           lt_unet_add_linear(u, SUB("ff.net.0.proj"), ch, 2 * inner, true) &&
           lt_unet_add_linear(u, SUB("ff.net.2"), inner, ch, true);
#undef SUB
}

bool lt_unet_add_xformer(lt_unet *u, const char *p, int ch)
{
    char q[LT_PARAM_NAME_MAX];
#define SUB(leaf) lt_unet_join(q, p, leaf)
    return lt_unet_add_norm(u, SUB("norm"), ch) &&
           lt_unet_add_conv(u, SUB("proj_in"), ch, ch, 1) &&
           add_block(u, SUB("transformer_blocks.0"), ch) &&
           lt_unet_add_conv(u, SUB("proj_out"), ch, ch, 1);
#undef SUB
}

/* ---- forward ---------------------------------------------------------------------- */

/* [B, T, heads * dh] -> [B, heads, T, dh], and back. */
static lt_tensor *split_heads(lt_ctx *c, lt_tensor *x, int heads)
{
    if (!x)
        return NULL;
    int64_t B = x->shape[0], T = x->shape[1], dh = x->shape[2] / heads;
    x = lt_reshape(c, x, 4, (int64_t[]){B, T, heads, dh});
    return lt_transpose(c, x, 1, 2);
}

static lt_tensor *merge_heads(lt_ctx *c, lt_tensor *x)
{
    if (!x)
        return NULL;
    int64_t B = x->shape[0], H = x->shape[1], T = x->shape[2];
    int64_t dh = x->shape[3];
    return lt_reshape(c, lt_transpose(c, x, 1, 2), 3,
                      (int64_t[]){B, T, H * dh});
}

/* Attention of Q [B, H, T, d] over K, V [B, H, S, d] with the
 * probabilities explicit, their squares at the probe's marked keys added
 * to probe->sumsq. */
static lt_tensor *probed_attention(lt_ctx *c, lt_unet_probe *pr,
                                   lt_tensor *Q, lt_tensor *K, lt_tensor *V)
{
    if (!Q || !K || !V)
        return NULL;
    int64_t B = K->shape[0], S = K->shape[2], d = Q->shape[3];
    lt_tensor *sc = lt_affine(c, lt_bmm(c, Q, K, false, true),
                              (float)(1.0 / sqrt((double)d)), 0);
    lt_tensor *P = lt_softmax(c, sc, -1);
    lt_tensor *m = lt_from_data(c, 4, (int64_t[]){B, 1, 1, S},
                                (float *)pr->mask);
    lt_tensor *pm = P && m ? lt_mul(c, P, m) : NULL;
    lt_tensor *sq = pm ? lt_sum_all(c, lt_mul(c, pm, pm)) : NULL;
    if (!sq)
        return NULL;
    pr->sumsq = pr->sumsq ? lt_add(c, pr->sumsq, sq) : sq;
    pr->layers++;
    return lt_bmm(c, P, V, false, false);
}

static bool is_attn2(const char *p)
{
    size_t n = strlen(p);
    return n >= 5 && !strcmp(p + n - 5, "attn2");
}

/* CrossAttention p: queries from x [B, T, C], keys and values from kv
 * [B, S, kv_dim] (x itself for self-attention). */
static lt_tensor *cross_attention(lt_ctx *c, lt_unet *u, lt_tensor *x,
                                  lt_tensor *kv, const char *p)
{
    char q[LT_PARAM_NAME_MAX];
    int heads = u->cfg.heads;
#define SUB(leaf) lt_unet_join(q, p, leaf)
    lt_tensor *Q = split_heads(c, lt_unet_linear(c, u, x, SUB("to_q"), false),
                               heads);
    lt_tensor *K = split_heads(c, lt_unet_linear(c, u, kv, SUB("to_k"),
                                                 false), heads);
    lt_tensor *V = split_heads(c, lt_unet_linear(c, u, kv, SUB("to_v"),
                                                 false), heads);
    lt_tensor *a = u->probe && is_attn2(p)
                       ? probed_attention(c, u->probe, Q, K, V)
                       : lt_attention(c, Q, K, V, false, 0);
    lt_tensor *o = merge_heads(c, a);
    return lt_unet_linear(c, u, o, SUB("to_out.0"), true);
#undef SUB
}

/* GEGLU feed-forward p on x [B, T, C]. */
static lt_tensor *feed_forward(lt_ctx *c, lt_unet *u, lt_tensor *x,
                               const char *p)
{
    char q[LT_PARAM_NAME_MAX];
    lt_tensor *h = lt_unet_linear(c, u, x, lt_unet_join(q, p, "ff.net.0.proj"),
                                  true);
    if (!h)
        return NULL;
    int64_t inner = h->shape[2] / 2;
    lt_tensor *a = lt_slice(c, h, 2, 0, inner);
    lt_tensor *gate = lt_slice(c, h, 2, inner, 2 * inner);
    return lt_unet_linear(c, u, lt_mul(c, a, lt_gelu(c, gate)),
                          lt_unet_join(q, p, "ff.net.2"), true);
}

static lt_tensor *layer_norm(lt_ctx *c, lt_unet *u, lt_tensor *x,
                             const char *p, const char *leaf)
{
    return lt_layer_norm(c, x, lt_unet_param(u, "%s.%s.weight", p, leaf),
                         lt_unet_param(u, "%s.%s.bias", p, leaf), XF_LN_EPS);
}

/* BasicTransformerBlock p on tokens x [B, T, C]. */
static lt_tensor *basic_block(lt_ctx *c, lt_unet *u, lt_tensor *x,
                              const char *p, lt_tensor *ctx)
{
    char q[LT_PARAM_NAME_MAX];
    lt_tensor *h = layer_norm(c, u, x, p, "norm1");
    x = lt_add(c, cross_attention(c, u, h, h, lt_unet_join(q, p, "attn1")),
               x);
    h = layer_norm(c, u, x, p, "norm2");
    x = lt_add(c, cross_attention(c, u, h, ctx, lt_unet_join(q, p, "attn2")),
               x);
    return lt_add(c, feed_forward(c, u, layer_norm(c, u, x, p, "norm3"), p),
                  x);
}

lt_tensor *lt_unet_xformer(lt_ctx *c, lt_unet *u, lt_tensor *x,
                           const char *p, lt_tensor *ctx)
{
    if (!x)
        return NULL;
    char q[LT_PARAM_NAME_MAX];
    int64_t B = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
#define SUB(leaf) lt_unet_join(q, p, leaf)
    lt_tensor *h = lt_unet_group_norm(c, u, x, SUB("norm"));
    h = lt_unet_conv(c, u, h, SUB("proj_in"), 0, 1);
    h = lt_transpose(c, lt_reshape(c, h, 3, (int64_t[]){B, C, H * W}), 1, 2);
    h = basic_block(c, u, h, SUB("transformer_blocks.0"), ctx);
    h = lt_transpose(c, h, 1, 2);
    h = lt_reshape(c, h, 4, (int64_t[]){B, C, H, W});
    h = lt_unet_conv(c, u, h, SUB("proj_out"), 0, 1);
#undef SUB
    return lt_add(c, h, x);
}
