/*
 * lethe/ops.h - the op set: every function builds its output in the
 * context's arena, computes the forward pass now and, when an input needs a
 * gradient, records a tape node whose backward accumulates into the inputs'
 * gradients. See core.h for the error and NULL-propagation conventions.
 *
 * Layouts follow PyTorch so weights move between the two unchanged:
 * linear W is [out, in]; conv2d W is [out, in/groups, kh, kw];
 * conv_transpose2d W is [in, out/groups, kh, kw]; images are NCHW.
 * Integer inputs (labels, token ids, indices) are plain int32 arrays; ops
 * copy them into the arena, so the caller's array may be reused at once.
 */
#ifndef LETHE_OPS_H
#define LETHE_OPS_H

#include "lethe/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- matmul family (src/ops/matmul.c) ----------------------------------- */

/* x rounded to the nearest bfloat16 (ties to even; NaN stays NaN), as an
 * fp32 value: the operand rounding of LT_PRECISION_BF16 (core.h). */
LT_API float lt_bf16_round(float x);

/* a [M, K] @ b [K, N] -> [M, N]. */
LT_API lt_tensor *lt_matmul(lt_ctx *c, lt_tensor *a, lt_tensor *b);
/* x [..., in] @ w[out, in]^T + b[out] -> [..., out]; b may be NULL. */
LT_API lt_tensor *lt_linear(lt_ctx *c, lt_tensor *x, lt_tensor *w,
                            lt_tensor *b);
/* Batched: a [..., M, K] @ b [..., K, N] (same leading dims, >= 3 dims;
 * trans_a / trans_b treat the last two dims of a / b as transposed). */
LT_API lt_tensor *lt_bmm(lt_ctx *c, lt_tensor *a, lt_tensor *b, bool trans_a,
                         bool trans_b);

/* ---- convolution and pooling (src/ops/conv.c, src/ops/pool.c) ------------ */

typedef struct {
    int stride_h, stride_w;   /* 0 means 1 */
    int pad_h, pad_w;
    int dilation_h, dilation_w; /* 0 means 1 */
    int groups;               /* 0 means 1 */
    int out_pad_h, out_pad_w; /* conv_transpose2d only */
} lt_conv_args;

LT_API lt_tensor *lt_conv2d(lt_ctx *c, lt_tensor *x, lt_tensor *w, lt_tensor *b,
                            lt_conv_args a);
LT_API lt_tensor *lt_conv_transpose2d(lt_ctx *c, lt_tensor *x, lt_tensor *w,
                                      lt_tensor *b, lt_conv_args a);
/* x [N, C, H, W]; kernel k, stride s (0 means k), zero padding p.
 * avg pool divides by k*k (PyTorch count_include_pad=True). */
LT_API lt_tensor *lt_max_pool2d(lt_ctx *c, lt_tensor *x, int k, int s, int p);
LT_API lt_tensor *lt_avg_pool2d(lt_ctx *c, lt_tensor *x, int k, int s, int p);
/* [N, C, H, W] -> [N, C] mean over H, W. */
LT_API lt_tensor *lt_global_avg_pool(lt_ctx *c, lt_tensor *x);
/* Nearest-neighbour upsampling by an integer factor: [N,C,H,W]->[N,C,sH,sW]. */
LT_API lt_tensor *lt_upsample_nearest2d(lt_ctx *c, lt_tensor *x, int scale);

/* ---- normalisation (src/ops/norm.c) ----------------------------------- */

/* x [N, C, ...]: per-channel statistics over N and the trailing dims.
 * training: batch statistics (biased variance for normalising) and, when
 * running_mean/var are given, running = (1-momentum)*running + momentum*
 * batch (unbiased variance), as PyTorch. Eval: uses the running stats.
 * gamma/beta [C] may be NULL (then 1 and 0). running tensors are updated in
 * place and never get gradients. */
LT_API lt_tensor *lt_batch_norm(lt_ctx *c, lt_tensor *x, lt_tensor *gamma,
                                lt_tensor *beta, lt_tensor *running_mean,
                                lt_tensor *running_var, bool training,
                                float momentum, float eps);
/* x [N, C, ...], C divisible by groups; gamma/beta [C] or NULL. */
LT_API lt_tensor *lt_group_norm(lt_ctx *c, lt_tensor *x, int groups,
                                lt_tensor *gamma, lt_tensor *beta, float eps);
/* Over the last dim D; gamma/beta [D] or NULL. */
LT_API lt_tensor *lt_layer_norm(lt_ctx *c, lt_tensor *x, lt_tensor *gamma,
                                lt_tensor *beta, float eps);
/* Hugging Face Llama RMSNorm over the last dim: x*rsqrt(mean(x^2)+eps)*g. */
LT_API lt_tensor *lt_rms_norm(lt_ctx *c, lt_tensor *x, lt_tensor *gamma,
                              float eps);

/* ---- activations and unary math (src/ops/activation.c) ------------------ */

LT_API lt_tensor *lt_relu(lt_ctx *c, lt_tensor *x);
LT_API lt_tensor *lt_gelu(lt_ctx *c, lt_tensor *x);      /* exact (erf) */
/* tanh approximation */
LT_API lt_tensor *lt_gelu_tanh(lt_ctx *c, lt_tensor *x);
LT_API lt_tensor *lt_silu(lt_ctx *c, lt_tensor *x);
LT_API lt_tensor *lt_selu(lt_ctx *c, lt_tensor *x);
LT_API lt_tensor *lt_leaky_relu(lt_ctx *c, lt_tensor *x, float slope);
LT_API lt_tensor *lt_sigmoid(lt_ctx *c, lt_tensor *x);
LT_API lt_tensor *lt_tanh(lt_ctx *c, lt_tensor *x);
/* PyTorch softplus with beta=1, threshold=20. */
LT_API lt_tensor *lt_softplus(lt_ctx *c, lt_tensor *x);
LT_API lt_tensor *lt_exp(lt_ctx *c, lt_tensor *x);
LT_API lt_tensor *lt_log(lt_ctx *c, lt_tensor *x);
LT_API lt_tensor *lt_abs(lt_ctx *c, lt_tensor *x);
LT_API lt_tensor *lt_neg(lt_ctx *c, lt_tensor *x);
LT_API lt_tensor *lt_sqrt(lt_ctx *c, lt_tensor *x);
/* s * x + t for scalars s, t. */
LT_API lt_tensor *lt_affine(lt_ctx *c, lt_tensor *x, float s, float t);
/* Inverted dropout: zero with probability p, scale the rest by 1/(1-p);
 * identity when !training or p == 0. Uses the context RNG. */
LT_API lt_tensor *lt_dropout(lt_ctx *c, lt_tensor *x, float p, bool training);
/* SwiGLU of a fused gate|up product: x [..., 2F] (gate = the first F
 * columns, up = the last F) -> [rows, F] silu(gate) * up, rows = numel/2F.
 * LT_ERR_SHAPE if the last dim is odd. */
LT_API lt_tensor *lt_swiglu(lt_ctx *c, lt_tensor *x);

/* ---- binary elementwise with NumPy broadcasting (src/ops/elementwise.c) --- */

LT_API lt_tensor *lt_add(lt_ctx *c, lt_tensor *a, lt_tensor *b);
LT_API lt_tensor *lt_sub(lt_ctx *c, lt_tensor *a, lt_tensor *b);
LT_API lt_tensor *lt_mul(lt_ctx *c, lt_tensor *a, lt_tensor *b);
LT_API lt_tensor *lt_div(lt_ctx *c, lt_tensor *a, lt_tensor *b);

/* ---- reductions (src/ops/reduce.c) -------------------------------------- */

/* Over one axis (negative counts from the end); keepdim keeps it as 1. */
LT_API lt_tensor *lt_sum(lt_ctx *c, lt_tensor *x, int axis, bool keepdim);
LT_API lt_tensor *lt_mean(lt_ctx *c, lt_tensor *x, int axis, bool keepdim);
/* Max values; gradient flows to the first maximal element. */
LT_API lt_tensor *lt_max(lt_ctx *c, lt_tensor *x, int axis, bool keepdim);
/* Over everything -> scalar [1]. */
LT_API lt_tensor *lt_sum_all(lt_ctx *c, lt_tensor *x);
LT_API lt_tensor *lt_mean_all(lt_ctx *c, lt_tensor *x);

/* ---- softmax and losses (src/ops/softmax.c, src/ops/loss.c) -------------- */

LT_API lt_tensor *lt_softmax(lt_ctx *c, lt_tensor *x, int axis);
LT_API lt_tensor *lt_log_softmax(lt_ctx *c, lt_tensor *x, int axis);

typedef enum { LT_REDUCE_MEAN = 0, LT_REDUCE_SUM, LT_REDUCE_NONE,
               LT_REDUCE_BATCHMEAN } lt_reduction;

/* logits [N, K], labels int32 in [0, K) -> per-sample [N] (NONE) or [1]. */
LT_API lt_tensor *lt_cross_entropy(lt_ctx *c, lt_tensor *logits,
                                   const int32_t *labels, lt_reduction r);
/* Soft targets [N, K] (rows need not be probabilities: negative label
 * smoothing gives entries < 0): loss_i = -sum_k t_ik log_softmax(x)_ik. */
LT_API lt_tensor *lt_cross_entropy_soft(lt_ctx *c, lt_tensor *logits,
                                        lt_tensor *targets, lt_reduction r);
/* Build smoothed targets [N, K]: (1-alpha)*onehot + alpha/K (alpha may be
 * negative). A plain tensor, no gradient. */
LT_API lt_tensor *lt_smooth_targets(lt_ctx *c, const int32_t *labels, int64_t n,
                                    int64_t k, float alpha);
/* logits [B, T, V], targets int32 [B*T] (already shifted by the caller);
 * target == ignore_index contributes nothing. Returns [B]: the summed NLL of
 * each sequence. */
LT_API lt_tensor *lt_seq_nll(lt_ctx *c, lt_tensor *logits,
                             const int32_t *targets, int32_t ignore_index);
LT_API lt_tensor *lt_mse(lt_ctx *c, lt_tensor *a, lt_tensor *b, lt_reduction r);
/* PyTorch F.kl_div(input=logq, target=p): sum p*(log p - logq) with
 * 0*log 0 = 0; BATCHMEAN divides the sum by the first dim. Gradient flows
 * to logq (and to p if it requires one). */
LT_API lt_tensor *lt_kl_div(lt_ctx *c, lt_tensor *logq, lt_tensor *p,
                            lt_reduction r);

/* ---- indexing and graphs (src/ops/index.c) ------------------------------ */

/* Rows of w [V, D] picked by ids[n] -> [n, D] (embedding lookup). */
LT_API lt_tensor *lt_embedding(lt_ctx *c, lt_tensor *w, const int32_t *ids,
                               int64_t n);
/* src [E, ...] summed into out [n_out, ...] at rows index[E]. */
LT_API lt_tensor *lt_scatter_add(lt_ctx *c, lt_tensor *src,
                                 const int32_t *index, int64_t n_out);
/* x [E] or [E, H]: softmax over the entries sharing a segment id
 * seg[E] in [0, n_seg), separately per column h. */
LT_API lt_tensor *lt_segment_softmax(lt_ctx *c, lt_tensor *x,
                                     const int32_t *seg, int64_t n_seg);

/* Fused graph-attention aggregation (src/ops/graph_attn.c). Edge e runs
 * src[e] -> dst[e]; per head h its score is act(scale * (a_src[src[e], h]
 * + a_dst[dst[e], h])), softmax over the edges entering each node, and
 * y[i, h, :] = sum of p[e, h] * x[src[e], h, :] (x [N, H, C]) or
 * x[src[e], 0, :] (x [N, 1, C], shared by all heads). a_src, a_dst [N, H];
 * y [N, H, C]; a node with no incoming edge gets zeros. Gradients flow to
 * x, a_src and a_dst; the edge arrays are copied. opts NULL: scale 1, no
 * activation. */
enum { LT_GAT_IDENTITY = 0, LT_GAT_SELU = 1, LT_GAT_LEAKY_RELU = 2 };
typedef struct {
    float scale; /* multiplies a_src + a_dst before the activation */
    int act;     /* LT_GAT_* */
    float slope; /* negative slope of LT_GAT_LEAKY_RELU */
} lt_graph_attn_opts;
LT_API lt_tensor *lt_graph_attn(lt_ctx *c, lt_tensor *x, lt_tensor *a_src,
                                lt_tensor *a_dst, const int32_t *src,
                                const int32_t *dst, int64_t n_edges,
                                const lt_graph_attn_opts *opts);
/* Chamfer distance (src/ops/chamfer.c), pytorch3d's defaults: squared
 * distances, mean_i min_j |x_i - y_j|^2 + mean_j min_i |y_j - x_i|^2,
 * averaged over nb segments given by offsets xoff, yoff [nb + 1] (NULL
 * and nb = 1: the whole clouds). x [N, D], y [M, D] -> [1]. */
LT_API lt_tensor *lt_chamfer(lt_ctx *c, lt_tensor *x, lt_tensor *y,
                             const int64_t *xoff, const int64_t *yoff,
                             int64_t nb);

/* ---- straight-through estimators (src/ops/ste.c) ------------------------ */

/* p [k, V] (rows on the probability simplex) and sampled ids idx[k] in
 * [0, V) -> the one-hot rows [k, V] of idx (forward). Backward is straight
 * through with hardtanh, as UnlearnDiff's STERandSelect: dp += clamp(dy,
 * -1, 1). idx is copied; LT_ERR_ARG names an id out of range. */
LT_API lt_tensor *lt_onehot_st(lt_ctx *c, lt_tensor *p, const int32_t *idx);

/* ---- shape ops (src/ops/shape.c) ---------------------------------------- */

/* One entry of shape may be -1 (inferred). The result shares no storage
 * rules with the input beyond the values: treat it as a new tensor. */
LT_API lt_tensor *lt_reshape(lt_ctx *c, lt_tensor *x, int ndim,
                             const int64_t *shape);
LT_API lt_tensor *lt_permute(lt_ctx *c, lt_tensor *x, const int *perm);
LT_API lt_tensor *lt_transpose(lt_ctx *c, lt_tensor *x, int d0, int d1);
/* Elements [start, end) along axis (end exclusive; both clamped). */
LT_API lt_tensor *lt_slice(lt_ctx *c, lt_tensor *x, int axis, int64_t start,
                           int64_t end);
LT_API lt_tensor *lt_concat(lt_ctx *c, int n, lt_tensor *const *xs, int axis);

/* ---- attention (src/ops/attention.c) ------------------------------------ */

/* q [B, H, Tq, D], k and v [B, Hkv, Tk, D] with H a multiple of Hkv
 * (grouped KV heads). scale <= 0 means 1/sqrt(D). causal masks key j > i +
 * (Tk - Tq) (so a query block appended to a KV cache sees its past).
 * Returns [B, H, Tq, D]. Cross-attention: Tk != Tq, causal = false. */
LT_API lt_tensor *lt_attention(lt_ctx *c, lt_tensor *q, lt_tensor *k,
                               lt_tensor *v, bool causal, float scale);
/* lt_attention with a causal sliding window of `window` keys (0: none):
 * query row i, at absolute position p = i + (Tk - Tq), sees the keys j
 * with p - window < j <= p (itself and the window - 1 before it), as
 * transformers' sliding_window_overlay (kv_idx > q_idx - sliding_window)
 * does for Mistral. A window needs causal. */
LT_API lt_tensor *lt_attention_window(lt_ctx *c, lt_tensor *q, lt_tensor *k,
                                      lt_tensor *v, bool causal, float scale,
                                      int64_t window);
/* Hugging Face rotate-half RoPE on x [B, H, T, D] (D even): position of
 * row t is pos0 + t; inv_freq_i = theta^(-2i/D). */
LT_API lt_tensor *lt_rope(lt_ctx *c, lt_tensor *x, int64_t pos0, float theta);
/* The tables lt_rope uses, for fused kernels that rotate on their own:
 * cs[t, i] = cos((pos0 + t) * inv_freq_i) and sn[t, i] the sine, [T, D/2]
 * each, computed in float32 as Hugging Face does (D even). */
LT_API void lt_rope_table(int64_t T, int64_t D, int64_t pos0, float theta,
                          float *cs, float *sn);

#ifdef __cplusplus
}
#endif
#endif
