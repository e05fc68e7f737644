/*
 * test_graph_attn.c - tests of the fused graph-attention aggregation
 * (src/ops/graph_attn.c) and the Chamfer distance (src/ops/chamfer.c):
 * PyTorch goldens (tests/golden/gen_graph_attn.py), finite differences,
 * the fused op against the same computation composed of gather, segment
 * softmax, mul and scatter ops (forward and every gradient), Chamfer
 * values worked out by hand, segments, and errors.
 */
#include "lt_test.h"

#include <math.h>
#include <string.h>

/* A 6-node graph; node 5 has no incoming edge. */
static const int32_t g_src[11] = {1, 2, 0, 3, 4, 0, 2, 5, 1, 3, 5};
static const int32_t g_dst[11] = {0, 0, 1, 1, 1, 2, 3, 3, 4, 4, 0};
#define G_N 6
#define G_E 11
#define G_H 3

typedef struct {
    lt_graph_attn_opts o;
} gat_ud;

static lt_tensor *gc_gat(lt_ctx *c, lt_tensor **in, void *ud)
{
    gat_ud *u = ud;
    return lt_graph_attn(c, in[0], in[1], in[2], g_src, g_dst, G_E, &u->o);
}

LT_TEST(graph_attn_golden)
{
    lt_golden *g = lt_golden_load("graph_attn.bin");
    lt_ctx *c = lt_ctx_new(1 << 22);
    const lt_golden_entry *e = lt_golden_get(g, "src");
    int32_t *src = lt_golden_ints(c, g, "src");
    int32_t *dst = lt_golden_ints(c, g, "dst");
    const char *tags[2] = {"c", "f"};
    const float scales[2] = {0.2f, 1.0f};
    for (int t = 0; t < 2 && e; t++) {
        char nm[32];
        lt_tensor *in[3];
        const char *names[3] = {"x", "al", "ar"};
        for (int i = 0; i < 3; i++) {
            snprintf(nm, sizeof nm, "%s.%s", tags[t], names[i]);
            in[i] = lt_golden_tensor(c, g, nm, true);
        }
        lt_graph_attn_opts o = {scales[t], LT_GAT_SELU, 0};
        lt_tensor *y = lt_graph_attn(c, in[0], in[1], in[2], src, dst,
                                     e->numel, &o);
        LT_CHECK_OK(y);
        if (!y)
            continue;
        snprintf(nm, sizeof nm, "%s.y", tags[t]);
        LT_GOLDEN_CHECK(g, nm, y->data, y->numel);
        snprintf(nm, sizeof nm, "%s.r", tags[t]);
        lt_tensor *r = lt_golden_tensor(c, g, nm, false);
        LT_CHECK(r && lt_backward_with(c, y, r->data) == LT_OK, "%s",
                 lt_last_error());
        const char *gn[3] = {"gx", "gal", "gar"};
        for (int i = 0; i < 3; i++) {
            snprintf(nm, sizeof nm, "%s.%s", tags[t], gn[i]);
            LT_GOLDEN_CHECK(g, nm, in[i]->grad, in[i]->numel);
        }
    }
    lt_tensor *x = lt_golden_tensor(c, g, "ch.x", true);
    lt_tensor *y = lt_golden_tensor(c, g, "ch.y", true);
    const int64_t xo[3] = {0, 6, 11}, yo[3] = {0, 3, 8};
    lt_tensor *d = lt_chamfer(c, x, y, xo, yo, 2);
    LT_CHECK_OK(d);
    if (d) {
        LT_GOLDEN_CHECK(g, "ch.d", d->data, 1);
        LT_CHECK(lt_backward(c, d) == LT_OK, "%s", lt_last_error());
        LT_GOLDEN_CHECK(g, "ch.gx", x->grad, x->numel);
        LT_GOLDEN_CHECK(g, "ch.gy", y->grad, y->numel);
    }
    lt_ctx_free(c);
    lt_golden_free(g);
}

LT_TEST(graph_attn_gradcheck)
{
    const lt_graph_attn_opts opts[3] = {
        {0.2f, LT_GAT_SELU, 0}, {1.0f, LT_GAT_SELU, 0},
        {0.7f, LT_GAT_LEAKY_RELU, 0.2f}};
    for (int hx = 1; hx <= G_H; hx += G_H - 1)
        for (int k = 0; k < 3; k++) {
            gat_ud u = {opts[k]};
            lt_tensor *in[3] = {
                lt_gc_input(3, (int64_t[]){G_N, hx, 4}, true, 3 + k, -1, 1),
                lt_gc_input(2, (int64_t[]){G_N, G_H}, true, 7 + k, -2, 2),
                lt_gc_input(2, (int64_t[]){G_N, G_H}, true, 9 + k, -2, 2)};
            LT_GRADCHECK("graph_attn", gc_gat, &u, 3, in, 1e-3, 1e-2);
            for (int i = 0; i < 3; i++)
                lt_gc_input_free(in[i]);
        }
}

/* The same aggregation composed of unfused ops. */
static lt_tensor *composed(lt_ctx *c, lt_tensor *x, lt_tensor *as,
                           lt_tensor *ad, float scale)
{
    lt_tensor *z = lt_add(c, lt_embedding(c, as, g_src, G_E),
                          lt_embedding(c, ad, g_dst, G_E));
    lt_tensor *p = lt_segment_softmax(c, lt_selu(c, lt_affine(c, z, scale, 0)),
                                      g_dst, G_N);
    int64_t xs[2] = {G_N, x->shape[1] * x->shape[2]};
    lt_tensor *xe = lt_embedding(c, lt_reshape(c, x, 2, xs), g_src, G_E);
    int64_t es[3] = {G_E, x->shape[1], x->shape[2]};
    int64_t ps[3] = {G_E, G_H, 1};
    lt_tensor *m = lt_mul(c, lt_reshape(c, xe, 3, es), lt_reshape(c, p, 3, ps));
    return lt_scatter_add(c, m, g_dst, G_N);
}

LT_TEST(graph_attn_matches_composed_ops)
{
    lt_ctx *c = lt_ctx_new(1 << 22);
    for (int hx = 1; hx <= G_H; hx += G_H - 1) {
        lt_tensor *t[2][3];
        lt_rng r;
        for (int v = 0; v < 2; v++) {
            lt_rng_init(&r, 42 + hx);
            t[v][0] = lt_requires_grad(lt_new3(c, G_N, hx, 5));
            t[v][1] = lt_requires_grad(lt_new2(c, G_N, G_H));
            t[v][2] = lt_requires_grad(lt_new2(c, G_N, G_H));
            for (int i = 0; i < 3; i++)
                lt_rng_fill_normal(&r, t[v][i]->data, t[v][i]->numel, 0, 1.5f);
        }
        lt_graph_attn_opts o = {0.2f, LT_GAT_SELU, 0};
        lt_tensor *y0 = lt_graph_attn(c, t[0][0], t[0][1], t[0][2], g_src,
                                      g_dst, G_E, &o);
        lt_tensor *y1 = composed(c, t[1][0], t[1][1], t[1][2], 0.2f);
        LT_CHECK_OK(y0);
        LT_CHECK_OK(y1);
        if (!y0 || !y1)
            break;
        LT_CHECK(y0->ndim == 3 && y0->shape[1] == G_H && y1->shape[1] == G_H,
                 "shape");
        LT_CHECK_CLOSE("y", y0->data, y1->data, y1->numel, 1e-5);
        for (int64_t j = 5 * G_H * 5; j < 6 * G_H * 5; j++)
            LT_CHECK(y0->data[j] == 0, "node without edges is not zero");
        float *w = lt_alloc(c, (size_t)y0->numel * sizeof(float));
        lt_rng_init(&r, 5);
        lt_rng_fill_normal(&r, w, y0->numel, 0, 1);
        LT_CHECK(lt_backward_with(c, y0, w) == LT_OK, "%s", lt_last_error());
        LT_CHECK(lt_backward_with(c, y1, w) == LT_OK, "%s", lt_last_error());
        for (int i = 0; i < 3; i++)
            LT_CHECK_CLOSE("grad", t[0][i]->grad, t[1][i]->grad,
                           t[0][i]->numel, 1e-4);
        lt_ctx_reset(c);
    }
    lt_ctx_free(c);
}

LT_TEST(graph_attn_errors)
{
    lt_ctx *c = lt_ctx_new(1 << 20);
    lt_tensor *x = lt_zeros(c, 3, (int64_t[]){G_N, 2, 4});
    lt_tensor *a = lt_zeros(c, 2, (int64_t[]){G_N, G_H});
    LT_CHECK(!lt_graph_attn(c, x, a, a, g_src, g_dst, G_E, NULL) &&
             lt_last_status() == LT_ERR_SHAPE &&
             strstr(lt_last_error(), "graph_attn"), "head mismatch");
    x = lt_zeros(c, 3, (int64_t[]){G_N, 1, 4});
    const int32_t bad[2] = {0, G_N};
    LT_CHECK(!lt_graph_attn(c, x, a, a, bad, bad, 2, NULL) &&
             lt_last_status() == LT_ERR_ARG &&
             strstr(lt_last_error(), "out of range"), "edge out of range");
    lt_graph_attn_opts o = {1, 9, 0};
    LT_CHECK(!lt_graph_attn(c, x, a, a, g_src, g_dst, G_E, &o) &&
             lt_last_status() == LT_ERR_ARG, "bad activation");
    LT_CHECK(!lt_graph_attn(c, NULL, a, a, g_src, g_dst, G_E, NULL), "NULL");
    lt_ctx_free(c);
}

/* ---- Chamfer ------------------------------------------------------------ */

typedef struct {
    const int64_t *xo, *yo;
    int64_t nb;
} cham_ud;

static lt_tensor *gc_chamfer(lt_ctx *c, lt_tensor **in, void *ud)
{
    cham_ud *u = ud;
    return lt_chamfer(c, in[0], in[1], u->xo, u->yo, u->nb);
}

LT_TEST(chamfer_gradcheck)
{
    const int64_t xo[3] = {0, 4, 9}, yo[3] = {0, 6, 11};
    cham_ud us[2] = {{NULL, NULL, 1}, {xo, yo, 2}};
    for (int k = 0; k < 2; k++) {
        lt_tensor *in[2] = {
            lt_gc_input(2, (int64_t[]){9, 2}, true, 11 + k, 0, 1),
            lt_gc_input(2, (int64_t[]){11, 2}, true, 13 + k, 0, 1)};
        LT_GRADCHECK("chamfer", gc_chamfer, &us[k], 2, in, 1e-3, 1e-2);
        lt_gc_input_free(in[0]);
        lt_gc_input_free(in[1]);
    }
}

LT_TEST(chamfer_values)
{
    lt_ctx *c = lt_ctx_new(1 << 20);
    /* x = {(0,0), (2,0)}, y = {(0,1), (0,3), (2,0.5)}:
     * x -> y: 1, 0.25; y -> x: 1, 9, 0.25.
     * d = (1 + 0.25)/2 + (1 + 9 + 0.25)/3 = 0.625 + 3.41666... */
    const float xv[4] = {0, 0, 2, 0}, yv[6] = {0, 1, 0, 3, 2, 0.5f};
    lt_tensor *x = lt_requires_grad(lt_from_data(c, 2, (int64_t[]){2, 2}, xv));
    lt_tensor *y = lt_requires_grad(lt_from_data(c, 2, (int64_t[]){3, 2}, yv));
    lt_tensor *d = lt_chamfer(c, x, y, NULL, NULL, 1);
    LT_CHECK_OK(d);
    if (d) {
        LT_CHECK(fabsf(d->data[0] - (0.625f + 10.25f / 3)) < 1e-6f, "value %g",
                 d->data[0]);
        LT_CHECK(lt_backward(c, d) == LT_OK, "%s", lt_last_error());
        /* dx0: 2(x0 - y0)/2 + 2(x0 - y0)/3 (y0 and y1 pick x0) + ... */
        float want_x0y = -1.0f - 2.0f / 3 - 6.0f / 3;
        LT_CHECK(fabsf(x->grad[1] - want_x0y) < 1e-5f, "dx0.y %g vs %g",
                 x->grad[1], want_x0y);
        LT_CHECK(fabsf(y->grad[3] - (6.0f / 3)) < 1e-5f, "dy1.y %g",
                 y->grad[3]);
    }
    /* two segments: the mean of the two separate distances */
    const float pv[8] = {0, 0, 1, 0, 5, 5, 6, 6};
    const float qv[6] = {0, 0.5f, 5, 6, 7, 7};
    lt_tensor *p = lt_from_data(c, 2, (int64_t[]){4, 2}, pv);
    lt_tensor *q = lt_from_data(c, 2, (int64_t[]){3, 2}, qv);
    const int64_t po[3] = {0, 2, 4}, qo[3] = {0, 1, 3};
    lt_tensor *s = lt_chamfer(c, p, q, po, qo, 2);
    /* seg 0: x->y (0.25 + 1.25)/2, y->x 0.25; seg 1: x->y (1 + 1)/2,
     * y->x (1 + 2)/2 */
    float want = ((0.75f + 0.25f) + (1.0f + 1.5f)) / 2;
    LT_CHECK(s && fabsf(s->data[0] - want) < 1e-6f, "segments %g vs %g",
             s ? s->data[0] : NAN, want);
    lt_ctx_free(c);
}

LT_TEST(chamfer_errors)
{
    lt_ctx *c = lt_ctx_new(1 << 20);
    lt_tensor *x = lt_zeros(c, 2, (int64_t[]){4, 2});
    lt_tensor *y3 = lt_zeros(c, 2, (int64_t[]){4, 3});
    LT_CHECK(!lt_chamfer(c, x, y3, NULL, NULL, 1) &&
             lt_last_status() == LT_ERR_SHAPE &&
             strstr(lt_last_error(), "chamfer"), "dim mismatch");
    const int64_t bad[3] = {0, 2, 5}, ok[3] = {0, 2, 4}, empty[3] = {0, 0, 4};
    LT_CHECK(!lt_chamfer(c, x, x, bad, ok, 2) &&
             lt_last_status() == LT_ERR_ARG, "offsets past the end");
    LT_CHECK(!lt_chamfer(c, x, x, ok, empty, 2) &&
             strstr(lt_last_error(), "empty"), "empty segment");
    LT_CHECK(!lt_chamfer(c, x, x, NULL, NULL, 2), "segments need offsets");
    lt_ctx_free(c);
}

LT_TEST_MAIN()
