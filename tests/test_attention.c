/*
 * test_attention.c - tests of lt_attention (causal, cross, grouped KV heads,
 * KV-cache offset, fully masked rows) and lt_rope: finite differences,
 * PyTorch golden values (tests/golden/gen_attention.py) and shape errors.
 */
#include "lt_test.h"

#include <math.h>
#include <string.h>

/* ---- finite differences ---------------------------------------------------- */

typedef struct {
    bool causal;
    float scale;
} att_args;

static lt_tensor *fn_att(lt_ctx *c, lt_tensor **in, void *ud)
{
    const att_args *a = ud;
    return lt_attention(c, in[0], in[1], in[2], a->causal, a->scale);
}

static void att_gradcheck(const char *what, int64_t B, int64_t H, int64_t Hkv,
                          int64_t Tq, int64_t Tk, int64_t D, bool causal,
                          float scale)
{
    att_args a = {causal, scale};
    lt_tensor *in[3] = {
        lt_gc_input(4, (int64_t[]){B, H, Tq, D}, true, 31, -1.5f, 1.5f),
        lt_gc_input(4, (int64_t[]){B, Hkv, Tk, D}, true, 32, -1.5f, 1.5f),
        lt_gc_input(4, (int64_t[]){B, Hkv, Tk, D}, true, 33, -1.5f, 1.5f)};
    LT_GRADCHECK(what, fn_att, &a, 3, in, 1e-2, 1e-2);
    for (int i = 0; i < 3; i++)
        lt_gc_input_free(in[i]);
}

LT_TEST(attention_gradcheck)
{
    att_gradcheck("self causal", 1, 2, 2, 5, 5, 4, true, 0);
    att_gradcheck("gqa cross", 2, 4, 2, 3, 6, 4, false, 0.4f);
    att_gradcheck("kv cache", 1, 2, 1, 3, 6, 4, true, 0);
    att_gradcheck("masked rows", 1, 2, 1, 5, 3, 4, true, 0);
}

/* Only some inputs need a gradient. */
LT_TEST(attention_gradcheck_partial)
{
    att_args a = {true, 0};
    lt_tensor *in[3] = {
        lt_gc_input(4, (int64_t[]){1, 2, 4, 4}, false, 41, -1, 1),
        lt_gc_input(4, (int64_t[]){1, 1, 4, 4}, true, 42, -1, 1),
        lt_gc_input(4, (int64_t[]){1, 1, 4, 4}, false, 43, -1, 1)};
    LT_GRADCHECK("k only", fn_att, &a, 3, in, 1e-2, 1e-2);
    for (int i = 0; i < 3; i++)
        lt_gc_input_free(in[i]);
}

static lt_tensor *fn_rope(lt_ctx *c, lt_tensor **in, void *ud)
{
    return lt_rope(c, in[0], *(const int64_t *)ud, 10000.0f);
}

LT_TEST(rope_gradcheck)
{
    lt_tensor *x = lt_gc_input(4, (int64_t[]){2, 2, 5, 8}, true, 51, -1, 1);
    int64_t pos0 = 3;
    LT_GRADCHECK("rope", fn_rope, &pos0, 1, &x, 1e-2, 1e-2);
    lt_gc_input_free(x);
}

/* ---- golden ------------------------------------------------------------------ */

static void att_golden(lt_ctx *c, const lt_golden *g, const char *name)
{
    char key[64];
    static const char *const nm[3] = {"q", "k", "v"};
    lt_tensor *in[3];
    for (int i = 0; i < 3; i++) {
        snprintf(key, sizeof key, "att_%s.%s", name, nm[i]);
        in[i] = lt_golden_tensor(c, g, key, true);
    }
    snprintf(key, sizeof key, "att_%s.causal", name);
    const lt_golden_entry *ec = lt_golden_get(g, key);
    snprintf(key, sizeof key, "att_%s.scale", name);
    const lt_golden_entry *es = lt_golden_get(g, key);
    if (!ec || !es)
        return;
    lt_tensor *y = lt_attention(c, in[0], in[1], in[2], ec->data[0] != 0,
                                es->data[0]);
    LT_CHECK(y != NULL, "%s: %s", name, lt_last_error());
    if (!y)
        return;
    snprintf(key, sizeof key, "att_%s.y", name);
    LT_GOLDEN_CHECK(g, key, y->data, y->numel);
    snprintf(key, sizeof key, "att_%s.r", name);
    lt_tensor *r = lt_golden_tensor(c, g, key, false);
    LT_CHECK(r && lt_backward_with(c, y, r->data) == LT_OK, "%s: %s", name,
             lt_last_error());
    for (int i = 0; i < 3; i++) {
        snprintf(key, sizeof key, "att_%s.d%s", name, nm[i]);
        LT_GOLDEN_CHECK(g, key, in[i]->grad, in[i]->numel);
    }
}

LT_TEST(attention_golden)
{
    lt_golden *g = lt_golden_load("attention.bin");
    lt_ctx *c = lt_ctx_new(1 << 23);
    static const char *const cases[] = {"self_causal", "cross", "gqa",
                                        "kvcache", "long"};
    for (int i = 0; i < 5; i++) {
        att_golden(c, g, cases[i]);
        lt_ctx_reset(c);
    }
    lt_ctx_free(c);
    lt_golden_free(g);
}

LT_TEST(rope_golden)
{
    lt_golden *g = lt_golden_load("attention.bin");
    lt_ctx *c = lt_ctx_new(1 << 20);
    for (int pos0 = 0; pos0 <= 5; pos0 += 5) {
        char key[32];
        snprintf(key, sizeof key, "rope%d.x", pos0);
        lt_tensor *x = lt_golden_tensor(c, g, key, true);
        lt_tensor *y = lt_rope(c, x, pos0, 10000.0f);
        LT_CHECK_OK(y);
        if (!y)
            continue;
        snprintf(key, sizeof key, "rope%d.y", pos0);
        LT_GOLDEN_CHECK(g, key, y->data, y->numel);
        snprintf(key, sizeof key, "rope%d.r", pos0);
        lt_tensor *r = lt_golden_tensor(c, g, key, false);
        LT_CHECK(r && lt_backward_with(c, y, r->data) == LT_OK, "%s",
                 lt_last_error());
        snprintf(key, sizeof key, "rope%d.dx", pos0);
        LT_GOLDEN_CHECK(g, key, x->grad, x->numel);
        lt_ctx_reset(c);
    }
    lt_ctx_free(c);
    lt_golden_free(g);
}

/* ---- behaviour ------------------------------------------------------------- */

/* Causal with Tq > Tk: the first Tq - Tk rows see no key and give 0. */
LT_TEST(attention_fully_masked_rows_are_zero)
{
    lt_ctx *c = lt_ctx_new(1 << 20);
    lt_tensor *q = lt_zeros(c, 4, (int64_t[]){1, 1, 4, 2});
    lt_tensor *k = lt_zeros(c, 4, (int64_t[]){1, 1, 2, 2});
    lt_tensor *v = lt_from_data(c, 4, (int64_t[]){1, 1, 2, 2},
                                (float[]){1, 2, 3, 4});
    lt_tensor *y = lt_attention(c, q, k, v, true, 0);
    LT_CHECK_OK(y);
    if (y) {
        float want[8] = {0, 0, 0, 0, 1, 2, 2, 3};
        LT_CHECK_CLOSE("masked", y->data, want, 8, 1e-6);
    }
    lt_ctx_free(c);
}

/* Many (b, h) items (parallel path) equal one item at a time. */
LT_TEST(attention_batch_matches_single)
{
    lt_ctx *c = lt_ctx_new(1 << 22);
    int64_t B = 3, H = 4, T = 6, D = 4;
    lt_tensor *q = lt_new4(c, B, H, T, D), *k = lt_new4(c, B, 2, T, D),
              *v = lt_new4(c, B, 2, T, D);
    lt_rng r;
    lt_rng_init(&r, 5);
    lt_rng_fill_normal(&r, q->data, q->numel, 0, 1);
    lt_rng_fill_normal(&r, k->data, k->numel, 0, 1);
    lt_rng_fill_normal(&r, v->data, v->numel, 0, 1);
    lt_tensor *y = lt_attention(c, q, k, v, true, 0);
    LT_CHECK_OK(y);
    for (int64_t b = 0; y && b < B; b++)
        for (int64_t h = 0; h < H; h++) {
            lt_tensor *q1 = lt_from_data(c, 4, (int64_t[]){1, 1, T, D},
                                         q->data + (b * H + h) * T * D);
            lt_tensor *k1 = lt_from_data(c, 4, (int64_t[]){1, 1, T, D},
                                         k->data + (b * 2 + h / 2) * T * D);
            lt_tensor *v1 = lt_from_data(c, 4, (int64_t[]){1, 1, T, D},
                                         v->data + (b * 2 + h / 2) * T * D);
            lt_tensor *y1 = lt_attention(c, q1, k1, v1, true, 0);
            LT_CHECK_OK(y1);
            if (y1)
                LT_CHECK_CLOSE("head", y1->data,
                               y->data + (b * H + h) * T * D, T * D, 1e-5);
        }
    lt_ctx_free(c);
}

/* ---- errors ----------------------------------------------------------------- */

LT_TEST(attention_errors)
{
    lt_ctx *c = lt_ctx_new(1 << 20);
    lt_tensor *q = lt_new4(c, 1, 3, 4, 8), *k = lt_new4(c, 1, 2, 4, 8);
    LT_CHECK(lt_attention(c, q, k, k, false, 0) == NULL &&
                 lt_last_status() == LT_ERR_SHAPE &&
                 strstr(lt_last_error(), "attention") &&
                 strstr(lt_last_error(), "multiple"),
             "H=3, Hkv=2: %s", lt_last_error());
    lt_tensor *q2 = lt_new4(c, 1, 2, 4, 6);
    LT_CHECK(lt_attention(c, q2, k, k, false, 0) == NULL &&
                 lt_last_status() == LT_ERR_SHAPE,
             "head size mismatch accepted");
    LT_CHECK(lt_attention(c, lt_new4(c, 1, 2, 4, 8), k,
                          lt_new4(c, 1, 2, 5, 8), false, 0) == NULL &&
                 lt_last_status() == LT_ERR_SHAPE,
             "k/v mismatch accepted");
    LT_CHECK(lt_attention(c, lt_new3(c, 2, 4, 8), k, k, false, 0) == NULL &&
                 lt_last_status() == LT_ERR_SHAPE,
             "3-D q accepted");
    LT_CHECK(lt_rope(c, lt_new4(c, 1, 2, 3, 7), 0, 10000.0f) == NULL &&
                 lt_last_status() == LT_ERR_SHAPE &&
                 strstr(lt_last_error(), "rope"),
             "odd D: %s", lt_last_error());
    LT_CHECK(lt_rope(c, lt_new3(c, 2, 3, 8), 0, 10000.0f) == NULL &&
                 lt_last_status() == LT_ERR_SHAPE,
             "3-D rope accepted");
    LT_CHECK(lt_rope(c, q, 0, 0.0f) == NULL && lt_last_status() == LT_ERR_ARG,
             "theta 0 accepted");
    lt_clear_error();
    LT_CHECK(lt_attention(c, q, NULL, k, true, 0) == NULL &&
                 lt_rope(c, NULL, 0, 1e4f) == NULL &&
                 lt_last_status() == LT_OK,
             "NULL input set an error");
    lt_ctx_free(c);
}

LT_TEST_MAIN()
