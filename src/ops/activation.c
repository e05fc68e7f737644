/*
 * activation.c - activations and unary math (relu, gelu, silu, selu, ...,
 * exp, log, sqrt, affine), inverted dropout and SwiGLU.
 *
 * The pointwise ops share one forward and one backward driver: each op is a
 * code of enum unary_op, and the two switch functions below hold the whole
 * math of every op (forward value, and d out / d in times the upstream
 * gradient). The drivers split the tensor into fixed blocks for OpenMP; the
 * switch sits outside each block's loop so the loops stay vectorisable.
 * Semantics follow PyTorch exactly, including the value of the gradient at
 * kinks (relu'(0) = 0, abs'(0) = 0, leaky_relu'(0) = slope, selu'(0) =
 * scale * alpha) and softplus with beta = 1, threshold = 20.
 */
#include "lethe/ops.h"
#include "vmath.h" /* vexpf: an exp GCC vectorises */

#include <math.h>

#define BLOCK 4096
#define PAR_MIN 32768

#define SQRT1_2 0.70710678118654752440f  /* 1 / sqrt(2) */
#define INV_SQRT_2PI 0.39894228040143267794f
#define SQRT_2_PI 0.79788456080286535588f /* sqrt(2 / pi) */
#define GELU_C 0.044715f
#define SELU_ALPHA 1.6732632423543772848170429916717f
#define SELU_SCALE 1.0507009873554804934193349852946f
#define SOFTPLUS_THRESHOLD 20.0f

typedef enum {
    U_RELU, U_GELU, U_GELU_TANH, U_SILU, U_SELU, U_LEAKY_RELU, U_SIGMOID,
    U_TANH, U_SOFTPLUS, U_EXP, U_LOG, U_ABS, U_NEG, U_SQRT, U_AFFINE
} unary_op;

static const char *const unary_name[] = {
    "relu", "gelu", "gelu_tanh", "silu", "selu", "leaky_relu", "sigmoid",
    "tanh", "softplus", "exp", "log", "abs", "neg", "sqrt", "affine"};

/* vexpf, not expf: the SiLU of the diffusion UNet spent a sixth of a
 * training step in scalar expf calls. */
static inline float sigmoidf(float v) { return 1.0f / (1.0f + vexpf(-v)); }

static inline float gelu_tanh_inner(float v)
{
    return tanhf(SQRT_2_PI * (v + GELU_C * v * v * v));
}

/* y = f(x) on n elements; p, q are the op's scalars (slope; s and t). */
static void unary_forward_block(unary_op op, float p, float q, const float *x,
                                float *y, int64_t n)
{
#define MAP(expr)                                                          \
    for (int64_t i = 0; i < n; i++) {                                      \
        float v = x[i];                                                    \
        y[i] = (expr);                                                     \
    }                                                                      \
    break
    switch (op) {
    case U_RELU:       MAP(v > 0 ? v : 0.0f);
    case U_GELU:       MAP(0.5f * v * (1.0f + erff(v * SQRT1_2)));
    case U_GELU_TANH:  MAP(0.5f * v * (1.0f + gelu_tanh_inner(v)));
    case U_SILU:       MAP(v * sigmoidf(v));
    case U_SELU:       MAP(SELU_SCALE * (v > 0 ? v : SELU_ALPHA * expm1f(v)));
    case U_LEAKY_RELU: MAP(v > 0 ? v : v * p);
    case U_SIGMOID:    MAP(sigmoidf(v));
    case U_TANH:       MAP(tanhf(v));
    case U_SOFTPLUS:   MAP(v > SOFTPLUS_THRESHOLD ? v : log1pf(expf(v)));
    case U_EXP:        MAP(expf(v));
    case U_LOG:        MAP(logf(v));
    case U_ABS:        MAP(fabsf(v));
    case U_NEG:        MAP(-v);
    case U_SQRT:       MAP(sqrtf(v));
    case U_AFFINE:     MAP(p * v + q);
    }
#undef MAP
}

/* gx += g * d y / d x on n elements (v = x, o = y, g = upstream grad). */
static void unary_backward_block(unary_op op, float p, const float *x,
                                 const float *y, const float *gy, float *gx,
                                 int64_t n)
{
#define DMAP(expr)                                                         \
    for (int64_t i = 0; i < n; i++) {                                      \
        float v = x[i], o = y[i], g = gy[i];                               \
        (void)v;                                                           \
        (void)o;                                                           \
        gx[i] += (expr);                                                   \
    }                                                                      \
    break
    switch (op) {
    case U_RELU:       DMAP(v > 0 ? g : 0.0f);
    case U_GELU:       DMAP(g * (0.5f * (1.0f + erff(v * SQRT1_2)) +
                                 v * INV_SQRT_2PI * expf(-0.5f * v * v)));
    case U_GELU_TANH: {
        for (int64_t i = 0; i < n; i++) {
            float v = x[i], t = gelu_tanh_inner(v);
            float dinner = SQRT_2_PI * (1.0f + 3.0f * GELU_C * v * v);
            gx[i] += gy[i] * (0.5f * (1.0f + t) +
                              0.5f * v * (1.0f - t * t) * dinner);
        }
        break;
    }
    case U_SILU:       DMAP(g * sigmoidf(v) *
                            (1.0f + v * (1.0f - sigmoidf(v))));
    case U_SELU:       DMAP(g * (v > 0 ? SELU_SCALE
                                       : SELU_SCALE * SELU_ALPHA * expf(v)));
    case U_LEAKY_RELU: DMAP(v > 0 ? g : g * p);
    case U_SIGMOID:    DMAP(g * o * (1.0f - o));
    case U_TANH:       DMAP(g * (1.0f - o * o));
    case U_SOFTPLUS:   DMAP(v > SOFTPLUS_THRESHOLD ? g : g * sigmoidf(v));
    case U_EXP:        DMAP(g * o);
    case U_LOG:        DMAP(g / v);
    case U_ABS:        DMAP(v > 0 ? g : (v < 0 ? -g : 0.0f));
    case U_NEG:        DMAP(-g);
    case U_SQRT:       DMAP(g / (2.0f * o));
    case U_AFFINE:     DMAP(g * p);
    }
#undef DMAP
}

static lt_status unary_backward(lt_ctx *c, lt_node *n)
{
    float *gx = lt_in_grad(c, n, 0);
    if (!gx)
        return LT_OK;
    const lt_tensor *x = n->in[0], *y = n->out;
    unary_op op = (unary_op)n->iarg[0];
    int64_t nb = (x->numel + BLOCK - 1) / BLOCK;
#pragma omp parallel for schedule(static) if (x->numel > PAR_MIN)
    for (int64_t b = 0; b < nb; b++) {
        int64_t i0 = b * BLOCK, len = x->numel - i0 < BLOCK ? x->numel - i0
                                                            : BLOCK;
        unary_backward_block(op, n->farg[0], x->data + i0, y->data + i0,
                             y->grad + i0, gx + i0, len);
    }
    return LT_OK;
}

static lt_tensor *unary(lt_ctx *c, lt_tensor *x, unary_op op, float p,
                        float q)
{
    if (!x)
        return NULL;
    lt_tensor *y = lt_new_like(c, x);
    if (!y)
        return NULL;
    int64_t nb = (x->numel + BLOCK - 1) / BLOCK;
#pragma omp parallel for schedule(static) if (x->numel > PAR_MIN)
    for (int64_t b = 0; b < nb; b++) {
        int64_t i0 = b * BLOCK, len = x->numel - i0 < BLOCK ? x->numel - i0
                                                            : BLOCK;
        unary_forward_block(op, p, q, x->data + i0, y->data + i0, len);
    }
    if (lt_needs_grad(c, 1, &x)) {
        lt_node *n = lt_record(c, y, unary_backward, unary_name[op], 1, &x);
        if (!n)
            return NULL;
        n->iarg[0] = op;
        n->farg[0] = p;
    }
    return y;
}

lt_tensor *lt_relu(lt_ctx *c, lt_tensor *x)
{
    return unary(c, x, U_RELU, 0, 0);
}
lt_tensor *lt_gelu(lt_ctx *c, lt_tensor *x)
{
    return unary(c, x, U_GELU, 0, 0);
}
lt_tensor *lt_gelu_tanh(lt_ctx *c, lt_tensor *x)
{
    return unary(c, x, U_GELU_TANH, 0, 0);
}
lt_tensor *lt_silu(lt_ctx *c, lt_tensor *x)
{
    return unary(c, x, U_SILU, 0, 0);
}
lt_tensor *lt_selu(lt_ctx *c, lt_tensor *x)
{
    return unary(c, x, U_SELU, 0, 0);
}
lt_tensor *lt_leaky_relu(lt_ctx *c, lt_tensor *x, float slope)
{
    return unary(c, x, U_LEAKY_RELU, slope, 0);
}
lt_tensor *lt_sigmoid(lt_ctx *c, lt_tensor *x)
{
    return unary(c, x, U_SIGMOID, 0, 0);
}
lt_tensor *lt_tanh(lt_ctx *c, lt_tensor *x)
{
    return unary(c, x, U_TANH, 0, 0);
}
lt_tensor *lt_softplus(lt_ctx *c, lt_tensor *x)
{
    return unary(c, x, U_SOFTPLUS, 0, 0);
}
lt_tensor *lt_exp(lt_ctx *c, lt_tensor *x)
{
    return unary(c, x, U_EXP, 0, 0);
}
lt_tensor *lt_log(lt_ctx *c, lt_tensor *x)
{
    return unary(c, x, U_LOG, 0, 0);
}
lt_tensor *lt_abs(lt_ctx *c, lt_tensor *x)
{
    return unary(c, x, U_ABS, 0, 0);
}
lt_tensor *lt_neg(lt_ctx *c, lt_tensor *x)
{
    return unary(c, x, U_NEG, 0, 0);
}
lt_tensor *lt_sqrt(lt_ctx *c, lt_tensor *x)
{
    return unary(c, x, U_SQRT, 0, 0);
}
lt_tensor *lt_affine(lt_ctx *c, lt_tensor *x, float s, float t)
{
    return unary(c, x, U_AFFINE, s, t);
}

/* ---- dropout ------------------------------------------------------------- */

/* Element i is kept when its uniform draw from (seed, stream 0, base + i)
 * is >= p: the mask is a pure function of (seed, base, i), so it does not
 * depend on the thread count. The mask is saved as bytes for backward
 * (regenerating it costs as much as the forward pass); farg[0] = 1/(1-p). */
static lt_status dropout_backward(lt_ctx *c, lt_node *n)
{
    float *gx = lt_in_grad(c, n, 0);
    if (!gx)
        return LT_OK;
    const unsigned char *keep = n->saved;
    const float *gy = n->out->grad;
    float scale = n->farg[0];
    int64_t numel = n->out->numel;
#pragma omp parallel for schedule(static) if (numel > PAR_MIN)
    for (int64_t i = 0; i < numel; i++)
        gx[i] += keep[i] ? gy[i] * scale : 0.0f;
    return LT_OK;
}

lt_tensor *lt_dropout(lt_ctx *c, lt_tensor *x, float p, bool training)
{
    if (!x)
        return NULL;
    if (!(p >= 0.0f && p < 1.0f)) {
        lt_set_error(LT_ERR_ARG, "dropout: p = %g is outside [0, 1)",
                     (double)p);
        return NULL;
    }
    if (!training || p == 0.0f)
        return x; /* identity: the input itself, as PyTorch */
    bool need = lt_needs_grad(c, 1, &x);
    lt_tensor *y = lt_new_like(c, x);
    unsigned char *keep = need && y ? lt_alloc(c, (size_t)x->numel + 1) : NULL;
    if (!y || (need && !keep))
        return NULL;
    lt_rng *r = lt_ctx_rng(c);
    uint64_t seed = r->seed, base = r->counter;
    r->counter += (uint64_t)x->numel;
    float scale = 1.0f / (1.0f - p);
#pragma omp parallel for schedule(static) if (x->numel > PAR_MIN)
    for (int64_t i = 0; i < x->numel; i++) {
        uint64_t h = lt_hash3(seed, 0, base + (uint64_t)i);
        bool k = lt_u64_to_uniform(h) >= p;
        if (keep)
            keep[i] = k;
        y->data[i] = k ? x->data[i] * scale : 0.0f;
    }
    if (need) {
        lt_node *n = lt_record(c, y, dropout_backward, "dropout", 1, &x);
        if (!n)
            return NULL;
        n->saved = keep;
        n->farg[0] = scale;
    }
    return y;
}

/* ---- SwiGLU (the gated MLP activation of Llama) --------------------------- */

static lt_status swiglu_backward(lt_ctx *c, lt_node *n)
{
    float *gx = lt_in_grad(c, n, 0);
    if (!gx)
        return LT_OK;
    const float *x = n->in[0]->data, *gy = n->out->grad;
    int64_t F = n->out->shape[1], rows = n->out->shape[0];
#pragma omp parallel for schedule(static) if (rows * F > PAR_MIN)
    for (int64_t r = 0; r < rows; r++) {
        const float *g = x + r * 2 * F, *u = g + F, *d = gy + r * F;
        float *gg = gx + r * 2 * F, *gu = gg + F;
        for (int64_t j = 0; j < F; j++) {
            float s = 1.0f / (1.0f + vexpf(-g[j]));
            float act = g[j] * s;
            gg[j] += d[j] * u[j] * s * (1.0f + g[j] * (1.0f - s));
            gu[j] += d[j] * act;
        }
    }
    return LT_OK;
}

lt_tensor *lt_swiglu(lt_ctx *c, lt_tensor *x)
{
    if (!x)
        return NULL;
    int64_t W = x->shape[x->ndim - 1], rows = x->numel / W, F = W / 2;
    if (W % 2) {
        lt_set_error(LT_ERR_SHAPE, "swiglu: width %lld is odd",
                     (long long)W);
        return NULL;
    }
    lt_tensor *y = lt_new2(c, rows, F);
    if (!y)
        return NULL;
#pragma omp parallel for schedule(static) if (rows * F > PAR_MIN)
    for (int64_t r = 0; r < rows; r++) {
        const float *g = x->data + r * W, *u = g + F;
        float *o = y->data + r * F;
        for (int64_t j = 0; j < F; j++)
            o[j] = g[j] / (1.0f + vexpf(-g[j])) * u[j];
    }
    if (lt_needs_grad(c, 1, &x) &&
        !lt_record(c, y, swiglu_backward, "swiglu", 1, &x))
        return NULL;
    return y;
}
