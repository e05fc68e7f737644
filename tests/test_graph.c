/*
 * test_graph.c - finite-difference checks of whole subgraphs, where a
 * tensor feeds several ops (residual connections) and ops chain through
 * batch norm, convolution and pooling: the situations a ResNet creates.
 */
#include "lt_test.h"

static lt_tensor *bn_train(lt_ctx *c, lt_tensor *x, lt_tensor *g,
                           lt_tensor *b)
{
    return lt_batch_norm(c, x, g, b, NULL, NULL, true, 0.1f, 1e-5f);
}

/* relu(bn(conv(x))) + x: a residual unit. */
static lt_tensor *unit(lt_ctx *c, lt_tensor **in, void *ud)
{
    (void)ud;
    lt_conv_args a = {.pad_h = 1, .pad_w = 1};
    lt_tensor *h = lt_relu(c, bn_train(c, lt_conv2d(c, in[0], in[1], NULL, a),
                                       in[2], in[3]));
    return lt_add(c, h, in[0]);
}

/* stride-2 conv path plus a 1x1 stride-2 shortcut, then global pooling */
static lt_tensor *down(lt_ctx *c, lt_tensor **in, void *ud)
{
    (void)ud;
    lt_conv_args a = {.stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1};
    lt_conv_args s = {.stride_h = 2, .stride_w = 2};
    lt_tensor *h = bn_train(c, lt_conv2d(c, in[0], in[1], NULL, a), NULL, NULL);
    lt_tensor *sc = lt_conv2d(c, in[0], in[2], NULL, s);
    return lt_global_avg_pool(c, lt_relu(c, lt_add(c, h, sc)));
}

LT_TEST(residual_unit_gradients)
{
    lt_tensor *in[4] = {
        lt_gc_input(4, (int64_t[]){3, 4, 5, 5}, true, 1, -1, 1),
        lt_gc_input(4, (int64_t[]){4, 4, 3, 3}, true, 2, -0.3f, 0.3f),
        lt_gc_input(1, (int64_t[]){4}, true, 3, 0.5f, 1.5f),
        lt_gc_input(1, (int64_t[]){4}, true, 4, -0.5f, 0.5f)};
    LT_GRADCHECK("residual unit", unit, NULL, 4, in, 1e-3, 2e-2);
    for (int i = 0; i < 4; i++)
        lt_gc_input_free(in[i]);
}

LT_TEST(downsample_gradients)
{
    lt_tensor *in[3] = {
        lt_gc_input(4, (int64_t[]){3, 4, 6, 6}, true, 5, -1, 1),
        lt_gc_input(4, (int64_t[]){6, 4, 3, 3}, true, 6, -0.3f, 0.3f),
        lt_gc_input(4, (int64_t[]){6, 4, 1, 1}, true, 7, -0.5f, 0.5f)};
    LT_GRADCHECK("downsample", down, NULL, 3, in, 1e-3, 2e-2);
    for (int i = 0; i < 3; i++)
        lt_gc_input_free(in[i]);
}

LT_TEST_MAIN()
