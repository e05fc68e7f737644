/*
 * autograd.c - the tape and reverse-mode differentiation. Ops append a node
 * (backward function, inputs, saved values) when any input requires a
 * gradient; lt_backward() walks the tape from the newest node back,
 * allocating input gradients on demand and calling each node's backward,
 * which accumulates (+=) into its inputs' gradients. Recording order is a
 * topological order, so one reverse pass is enough.
 */
#include "internal.h"

#include <math.h>
#include <string.h>

bool lt_needs_grad(const lt_ctx *c, int n_in, lt_tensor *const *in)
{
    if (!c->grad_enabled)
        return false;
    for (int i = 0; i < n_in; i++)
        if (in[i] && (in[i]->flags & LT_REQUIRES_GRAD))
            return true;
    return false;
}

lt_node *lt_record(lt_ctx *c, lt_tensor *out, lt_backward_fn bw,
                   const char *op, int n_in, lt_tensor *const *in)
{
    if (n_in > LT_NODE_MAX_IN) {
        lt_set_error(LT_ERR_ARG, "%s: %d inputs recorded (max %d)", op, n_in,
                     LT_NODE_MAX_IN);
        return NULL;
    }
    lt_node *n = lt_alloc_zero(c, sizeof *n);
    if (!n)
        return NULL;
    n->backward = bw;
    n->op = op;
    n->out = out;
    n->n_in = n_in;
    for (int i = 0; i < n_in; i++)
        n->in[i] = in[i];
    n->prev = c->tape;
    c->tape = n;
    out->node = n;
    out->flags |= LT_REQUIRES_GRAD;
    return n;
}

float *lt_in_grad(lt_ctx *c, lt_node *n, int i)
{
    (void)c;
    lt_tensor *t = n->in[i];
    if (!t || !(t->flags & LT_REQUIRES_GRAD))
        return NULL;
    return t->grad;
}

static lt_status lt_ensure_grad(lt_ctx *c, lt_tensor *t)
{
    if (t->grad)
        return LT_OK;
    t->grad = lt_alloc_grad(c, (size_t)t->numel * sizeof(float));
    return t->grad ? LT_OK : lt_last_status();
}

/* Memory: arena memory a backward function takes (scratch) is dead when it
 * returns, so the arena goes back to where it was before the call. The
 * gradient of an op output is dead once its own node has run (every
 * consumer was recorded later, so it ran earlier; an output made by several
 * consecutive nodes lives until the last of them): the buffer is released
 * for reuse and out->grad set to NULL. Leaves, parameters (LT_EXTERNAL) and
 * the tensor backward started from keep their gradients. */
static lt_status lt_run_node(lt_ctx *c, lt_node *n, const lt_tensor *start)
{
    for (int i = 0; i < n->n_in; i++) {
        lt_tensor *t = n->in[i];
        if (t && (t->flags & LT_REQUIRES_GRAD) && lt_ensure_grad(c, t) != LT_OK)
            return lt_last_status();
    }
    const size_t mark = c->used;
    lt_status s = n->backward(c, n);
    if (s != LT_OK)
        return s;
    c->used = mark;
    lt_tensor *o = n->out;
    /* an op with more inputs than a node holds (lt_concat) records
     * consecutive nodes for one output: keep it for the next one */
    bool shared = n->prev && n->prev->out == o;
    if (o != start && !(o->flags & LT_EXTERNAL) && !shared) {
        lt_arena_release(c, o->grad, (size_t)o->numel * sizeof(float));
        o->grad = NULL;
    }
    return LT_OK;
}

/* Input i of n is a caller-owned tensor whose gradient the hook reports. */
static bool lt_hooked_input(const lt_node *n, int i)
{
    const lt_tensor *t = n->in[i];
    return t && (t->flags & LT_EXTERNAL) && (t->flags & LT_REQUIRES_GRAD);
}

/* For the gradient hook: one byte per tape node (newest first) with a bit
 * per input that is the oldest use of a hooked tensor, after which its
 * gradient is final; reports every such tensor as expected. NULL when the
 * arena is full. */
static uint8_t *lt_final_uses(lt_ctx *c)
{
    int64_t k = 0;
    for (lt_node *n = c->tape; n; n = n->prev)
        k++;
    lt_node **nodes = lt_alloc(c, (size_t)(k ? k : 1) * sizeof *nodes);
    uint8_t *bits = lt_alloc_zero(c, (size_t)(k ? k : 1));
    if (!nodes || !bits)
        return NULL;
    k = 0;
    for (lt_node *n = c->tape; n; n = n->prev)
        nodes[k++] = n;
    for (int64_t j = k - 1; j >= 0; j--) /* oldest first */
        for (int i = 0; i < nodes[j]->n_in; i++) {
            lt_tensor *t = nodes[j]->in[i];
            if (!lt_hooked_input(nodes[j], i) || (t->flags & LT_FLAG_SEEN))
                continue;
            t->flags |= LT_FLAG_SEEN;
            bits[j] |= (uint8_t)(1u << i);
            c->grad_hook(c->grad_hook_ud, t, LT_GRAD_EXPECTED);
        }
    for (int64_t j = 0; j < k; j++)
        for (int i = 0; i < nodes[j]->n_in; i++)
            if (bits[j] >> i & 1u)
                nodes[j]->in[i]->flags &= ~LT_FLAG_SEEN;
    return bits;
}

static lt_status lt_run_tape(lt_ctx *c, const lt_tensor *start)
{
    uint8_t *final = NULL;
    if (c->grad_hook && !(final = lt_final_uses(c)))
        return lt_last_status();
    int64_t k = 0;
    for (lt_node *n = c->tape; n; n = n->prev, k++) {
        /* a node whose output has no gradient is not on a path to the loss */
        if (n->out->grad) {
            lt_status s = lt_run_node(c, n, start);
            if (s != LT_OK)
                return s;
        }
        for (int i = 0; final && i < n->n_in; i++)
            if (final[k] >> i & 1u)
                c->grad_hook(c->grad_hook_ud, n->in[i], LT_GRAD_FINAL);
    }
    return LT_OK;
}

void lt_ctx_set_grad_hook(lt_ctx *c, lt_grad_hook fn, void *ud)
{
    c->grad_hook = fn;
    c->grad_hook_ud = fn ? ud : NULL;
}

lt_status lt_backward_with(lt_ctx *c, lt_tensor *out, const float *grad_out)
{
    if (!c || !out || !grad_out)
        return lt_set_error(LT_ERR_ARG, "backward: NULL argument (did the "
                            "forward pass fail?)");
    if (!(out->flags & LT_REQUIRES_GRAD))
        return lt_set_error(LT_ERR_GRAD, "backward: the tensor has no "
                            "gradient path (no input requires a gradient, or "
                            "it was computed with gradients disabled)");
    /* Gradients of intermediate tensors belong to one backward pass. */
    for (lt_node *n = c->tape; n; n = n->prev)
        if (!(n->out->flags & LT_EXTERNAL))
            n->out->grad = NULL;
    if (lt_ensure_grad(c, out) != LT_OK)
        return lt_last_status();
    for (int64_t i = 0; i < out->numel; i++)
        out->grad[i] += grad_out[i];
    return lt_run_tape(c, out);
}

lt_status lt_backward(lt_ctx *c, lt_tensor *loss)
{
    if (!c || !loss)
        return lt_set_error(LT_ERR_ARG, "backward: NULL loss (did the forward "
                            "pass fail?)");
    if (loss->numel != 1)
        return lt_set_error(LT_ERR_GRAD, "backward: the loss must be a scalar, "
                            "got %lld elements", (long long)loss->numel);
    if (!isfinite(loss->data[0]))
        return lt_set_error(LT_ERR_NAN, "backward: the loss is %s",
                            isnan(loss->data[0]) ? "NaN" : "infinite");
    const float one = 1.0f;
    return lt_backward_with(c, loss, &one);
}
