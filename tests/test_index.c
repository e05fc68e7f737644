/*
 * test_index.c - tests of src/ops/index.c: embedding, scatter_add and
 * segment_softmax against PyTorch goldens and finite differences, their
 * error cases, and the parallel scatter paths against a sequential
 * reference at sizes that use several threads.
 */
#include "lt_test.h"

#include <math.h>
#include <string.h>

/* ---- goldens ---------------------------------------------------------- */

/* Checks y against <p>.y, runs backward with <p>.r, checks x->grad. */
static void golden_finish(const lt_golden *g, lt_ctx *c, const char *p,
                          lt_tensor *y, lt_tensor *x, const char *gname)
{
    char nm[128];
    LT_CHECK_OK(y);
    if (!y)
        return;
    snprintf(nm, sizeof nm, "%s.y", p);
    LT_GOLDEN_CHECK(g, nm, y->data, y->numel);
    snprintf(nm, sizeof nm, "%s.r", p);
    lt_tensor *r = lt_golden_tensor(c, g, nm, false);
    LT_CHECK(r && lt_backward_with(c, y, r->data) == LT_OK, "backward: %s",
             lt_last_error());
    snprintf(nm, sizeof nm, "%s.%s", p, gname);
    LT_CHECK(x->grad != NULL, "%s: no gradient", p);
    if (x->grad)
        LT_GOLDEN_CHECK(g, nm, x->grad, x->numel);
}

LT_TEST(embedding_golden)
{
    lt_golden *g = lt_golden_load("index.bin");
    lt_ctx *c = lt_ctx_new(1 << 20);
    lt_tensor *w = lt_golden_tensor(c, g, "emb.w", true);
    const lt_golden_entry *e = lt_golden_get(g, "emb.ids");
    int32_t *ids = lt_golden_ints(c, g, "emb.ids");
    lt_tensor *y = lt_embedding(c, w, ids, e ? e->numel : 0);
    golden_finish(g, c, "emb", y, w, "gw");
    lt_ctx_free(c);
    lt_golden_free(g);
}

LT_TEST(scatter_add_golden)
{
    lt_golden *g = lt_golden_load("index.bin");
    lt_ctx *c = lt_ctx_new(1 << 20);
    lt_tensor *src = lt_golden_tensor(c, g, "sa.src", true);
    lt_tensor *y = lt_scatter_add(c, src, lt_golden_ints(c, g, "sa.idx"), 6);
    LT_CHECK(y && y->ndim == 3 && y->shape[0] == 6 && y->shape[2] == 2,
             "scatter_add shape");
    golden_finish(g, c, "sa", y, src, "gs");
    lt_tensor *s1 = lt_golden_tensor(c, g, "sa1.src", true);
    y = lt_scatter_add(c, s1, lt_golden_ints(c, g, "sa1.idx"), 4);
    golden_finish(g, c, "sa1", y, s1, "gs");
    lt_ctx_free(c);
    lt_golden_free(g);
}

LT_TEST(segment_softmax_golden)
{
    lt_golden *g = lt_golden_load("index.bin");
    lt_ctx *c = lt_ctx_new(1 << 20);
    int32_t *seg = lt_golden_ints(c, g, "ss.seg");
    lt_tensor *x = lt_golden_tensor(c, g, "ss.x", true);
    golden_finish(g, c, "ss", lt_segment_softmax(c, x, seg, 6), x, "gx");
    lt_tensor *x1 = lt_golden_tensor(c, g, "ss1.x", true);
    golden_finish(g, c, "ss1", lt_segment_softmax(c, x1, seg, 6), x1, "gx");
    lt_ctx_free(c);
    lt_golden_free(g);
}

/* ---- finite differences ------------------------------------------------ */

typedef struct {
    const int32_t *idx;
    int64_t n, m;
} idx_ud;

static lt_tensor *gc_embedding(lt_ctx *c, lt_tensor **in, void *ud)
{
    idx_ud *u = ud;
    return lt_embedding(c, in[0], u->idx, u->n);
}

static lt_tensor *gc_scatter_add(lt_ctx *c, lt_tensor **in, void *ud)
{
    idx_ud *u = ud;
    return lt_scatter_add(c, in[0], u->idx, u->m);
}

static lt_tensor *gc_segsm(lt_ctx *c, lt_tensor **in, void *ud)
{
    idx_ud *u = ud;
    return lt_segment_softmax(c, in[0], u->idx, u->m);
}

LT_TEST(index_gradcheck)
{
    const int32_t ids[9] = {4, 1, 1, 0, 4, 3, 1, 2, 4};
    idx_ud u = {ids, 9, 0};
    lt_tensor *w = lt_gc_input(2, (int64_t[]){6, 5}, true, 1, -1, 1);
    LT_CHECK(LT_GRADCHECK("embedding", gc_embedding, &u, 1, &w, 1e-2, 1e-2),
             "embedding");
    lt_gc_input_free(w);

    idx_ud s = {ids, 9, 7};
    lt_tensor *src = lt_gc_input(3, (int64_t[]){9, 2, 3}, true, 2, -1, 1);
    LT_CHECK(LT_GRADCHECK("scatter_add", gc_scatter_add, &s, 1, &src, 1e-2,
                          1e-2), "scatter_add");
    lt_gc_input_free(src);

    /* segments 0..6: 5 and 6 empty, 0 and 2 with one entry */
    const int32_t seg[9] = {4, 1, 1, 0, 4, 3, 1, 2, 4};
    idx_ud q = {seg, 9, 7};
    lt_tensor *x = lt_gc_input(2, (int64_t[]){9, 3}, true, 3, -2, 2);
    LT_CHECK(LT_GRADCHECK("segment_softmax", gc_segsm, &q, 1, &x, 1e-2,
                          1e-2), "segment_softmax");
    lt_gc_input_free(x);
    lt_tensor *x1 = lt_gc_input(1, (int64_t[]){9}, true, 4, -2, 2);
    LT_CHECK(LT_GRADCHECK("segment_softmax 1-D", gc_segsm, &q, 1, &x1, 1e-2,
                          1e-2), "segment_softmax 1-D");
    lt_gc_input_free(x1);
}

/* ---- errors --------------------------------------------------------------- */

static void expect_error(void *got, lt_status code, const char *needle,
                         const char *what)
{
    LT_CHECK(got == NULL, "%s: accepted", what);
    LT_CHECK(lt_last_status() == code, "%s: status %s (%s)", what,
             lt_status_name(lt_last_status()), lt_last_error());
    LT_CHECK(strstr(lt_last_error(), needle) != NULL, "%s: message '%s'",
             what, lt_last_error());
}

LT_TEST(index_errors)
{
    lt_ctx *c = lt_ctx_new(1 << 20);
    lt_tensor *w = lt_zeros(c, 2, (int64_t[]){5, 3});
    const int32_t bad[4] = {0, 4, 5, 1}, neg[2] = {1, -1};
    expect_error(lt_embedding(c, w, bad, 4), LT_ERR_ARG, "ids[2] = 5",
                 "embedding id == V");
    LT_CHECK(strstr(lt_last_error(), "embedding"), "%s", lt_last_error());
    expect_error(lt_embedding(c, w, neg, 2), LT_ERR_ARG, "ids[1] = -1",
                 "embedding negative id");
    expect_error(lt_embedding(c, lt_zeros(c, 3, (int64_t[]){5, 3, 1}), bad,
                              1), LT_ERR_SHAPE, "embedding", "embedding 3-D");
    expect_error(lt_scatter_add(c, lt_zeros(c, 2, (int64_t[]){4, 2}), bad, 5),
                 LT_ERR_ARG, "scatter_add: index[2] = 5", "scatter_add idx");
    expect_error(lt_scatter_add(c, w, NULL, 5), LT_ERR_ARG, "scatter_add",
                 "scatter_add NULL index");
    expect_error(lt_segment_softmax(c, lt_zeros(c, 1, (int64_t[]){2}), neg,
                                    3), LT_ERR_ARG, "segment_softmax",
                 "segment_softmax negative seg");
    expect_error(lt_segment_softmax(c, lt_zeros(c, 3, (int64_t[]){2, 1, 1}),
                                    neg, 3), LT_ERR_SHAPE, "segment_softmax",
                 "segment_softmax 3-D");
    /* NULL propagation keeps the earlier message */
    lt_set_error(LT_ERR_ARENA, "earlier");
    LT_CHECK(!lt_embedding(c, NULL, bad, 1) && !lt_scatter_add(c, NULL, bad, 1)
                 && !lt_segment_softmax(c, NULL, bad, 1) &&
                 !strcmp(lt_last_error(), "earlier"), "NULL propagation");
    lt_ctx_free(c);
}

/* ---- parallel paths against sequential references -------------------------- */

static void fill(float *x, int64_t n, uint64_t seed)
{
    lt_rng r;
    lt_rng_init(&r, seed);
    lt_rng_fill_uniform(&r, x, n, -1, 1);
}

/* embedding backward == scatter of the upstream gradient; checks both the
 * column split (large D) and the row split (small D), bitwise against a
 * sequential loop (same addition order). */
static void check_big_embedding(int64_t v, int64_t d, int64_t n)
{
    lt_ctx *c = lt_ctx_new((size_t)64 << 20);
    lt_tensor *w = lt_requires_grad(lt_new2(c, v, d));
    int32_t *ids = lt_alloc(c, (size_t)n * sizeof(int32_t));
    float *r = lt_alloc(c, (size_t)(n * d) * sizeof(float));
    float *ref = lt_alloc_zero(c, (size_t)(v * d) * sizeof(float));
    fill(w->data, v * d, 5);
    fill(r, n * d, 6);
    lt_rng rg;
    lt_rng_init(&rg, 9);
    for (int64_t i = 0; i < n; i++)
        ids[i] = (int32_t)(i % 7 == 0 ? 3 % v : lt_rng_below(&rg, (uint64_t)v));
    lt_tensor *y = lt_embedding(c, w, ids, n);
    LT_CHECK_OK(y);
    LT_CHECK(lt_backward_with(c, y, r) == LT_OK, "%s", lt_last_error());
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < d; j++)
            ref[ids[i] * d + j] += r[i * d + j];
    LT_CHECK(w->grad && memcmp(ref, w->grad, (size_t)(v * d) * sizeof(float)) == 0,
             "embedding grad V=%lld D=%lld differs from sequential",
             (long long)v, (long long)d);
    bool fwd = true;
    for (int64_t i = 0; i < n; i++)
        fwd &= !memcmp(y->data + i * d, w->data + ids[i] * d,
                       (size_t)d * sizeof(float));
    LT_CHECK(fwd, "embedding forward rows");
    lt_ctx_free(c);
}

LT_TEST(embedding_parallel_matches_sequential)
{
    check_big_embedding(50, 256, 600); /* column split */
    check_big_embedding(300, 8, 9000); /* row split */
    check_big_embedding(1, 40, 2000);  /* fewer rows than threads */
}

LT_TEST(segment_softmax_parallel_matches_sequential)
{
    const int64_t e = 20000, h = 3;
    for (int pass = 0; pass < 2; pass++) {
        int64_t n_seg = pass ? 1 : 997;
        lt_ctx *c = lt_ctx_new((size_t)64 << 20);
        lt_tensor *x = lt_requires_grad(lt_new2(c, e, h));
        int32_t *seg = lt_alloc(c, (size_t)e * sizeof(int32_t));
        float *r = lt_alloc(c, (size_t)(e * h) * sizeof(float));
        double *mx = lt_alloc(c, (size_t)(n_seg * h) * sizeof(double));
        double *sm = lt_alloc_zero(c, (size_t)(n_seg * h) * sizeof(double));
        double *dot = lt_alloc_zero(c, (size_t)(n_seg * h) * sizeof(double));
        fill(x->data, e * h, 11);
        fill(r, e * h, 12);
        for (int64_t i = 0; i < e; i++)
            seg[i] = (int32_t)((i * 7919) % n_seg);
        lt_tensor *y = lt_segment_softmax(c, x, seg, n_seg);
        LT_CHECK_OK(y);
        LT_CHECK(lt_backward_with(c, y, r) == LT_OK, "%s", lt_last_error());
        for (int64_t k = 0; k < n_seg * h; k++)
            mx[k] = -INFINITY;
        for (int64_t i = 0; i < e; i++)
            for (int64_t j = 0; j < h; j++)
                mx[seg[i] * h + j] = fmax(mx[seg[i] * h + j], x->data[i * h + j]);
        for (int64_t i = 0; i < e; i++)
            for (int64_t j = 0; j < h; j++)
                sm[seg[i] * h + j] += exp(x->data[i * h + j] - mx[seg[i] * h + j]);
        float *yr = lt_alloc(c, (size_t)(e * h) * sizeof(float));
        float *gr = lt_alloc(c, (size_t)(e * h) * sizeof(float));
        for (int64_t i = 0; i < e * h; i++) {
            int64_t k = seg[i / h] * h + i % h;
            yr[i] = (float)(exp(x->data[i] - mx[k]) / sm[k]);
            dot[k] += (double)yr[i] * r[i];
        }
        for (int64_t i = 0; i < e * h; i++)
            gr[i] = (float)(yr[i] * (r[i] - dot[seg[i / h] * h + i % h]));
        LT_CHECK_CLOSE("segsm y", y->data, yr, e * h, 1e-4);
        LT_CHECK_CLOSE("segsm gx", x->grad, gr, e * h, 1e-3);
        lt_ctx_free(c);
    }
}

LT_TEST(scatter_add_no_grad_mode)
{
    lt_ctx *c = lt_ctx_new(1 << 20);
    lt_tensor *s = lt_requires_grad(lt_zeros(c, 2, (int64_t[]){3, 2}));
    const int32_t idx[3] = {0, 0, 1};
    lt_set_grad_enabled(c, false);
    lt_tensor *y = lt_scatter_add(c, s, idx, 2);
    LT_CHECK(y && !y->node && !(y->flags & LT_REQUIRES_GRAD), "recorded");
    lt_set_grad_enabled(c, true);
    /* empty input: E = 0 gives zero rows */
    lt_tensor *z = lt_scatter_add(c, lt_zeros(c, 2, (int64_t[]){0, 2}), NULL, 3);
    LT_CHECK(z && z->shape[0] == 3 && z->data[5] == 0, "E = 0");
    lt_ctx_free(c);
}

LT_TEST_MAIN()
