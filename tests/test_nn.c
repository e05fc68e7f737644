/*
 * test_nn.c - the flat parameter store: layout (trainable first, buffers
 * after), views into one buffer, duplicate and late additions rejected.
 */
#include "lt_test.h"

#include <string.h>

LT_TEST(params_layout_and_views)
{
    lt_params ps;
    lt_params_init(&ps);
    LT_CHECK(lt_params_add(&ps, "fc.weight", 2, (int64_t[]){3, 4}, true) == 0,
             "add");
    LT_CHECK(lt_params_add(&ps, "bn.running_mean", 1, (int64_t[]){5}, false) ==
                 1, "add buffer");
    LT_CHECK(lt_params_add(&ps, "fc.bias", 1, (int64_t[]){3}, true) == 2,
             "add bias");
    LT_CHECK(lt_params_add(&ps, "fc.bias", 1, (int64_t[]){3}, true) == -1 &&
                 strstr(lt_last_error(), "duplicate"),
             "duplicate accepted");
    LT_CHECK(lt_params_finalize(&ps) == LT_OK, "%s", lt_last_error());
    LT_CHECK(ps.n_train == 15 && ps.n_total == 20, "sizes %lld %lld",
             (long long)ps.n_train, (long long)ps.n_total);
    lt_tensor *b = lt_params_get(&ps, "fc.bias");
    lt_tensor *rm = lt_params_get(&ps, "bn.running_mean");
    LT_CHECK(b && b->data == ps.theta + 12 && b->grad == ps.grad + 12 &&
                 (b->flags & LT_REQUIRES_GRAD),
             "bias view");
    LT_CHECK(rm && rm->data == ps.theta + 15 && rm->grad == NULL &&
                 !(rm->flags & LT_REQUIRES_GRAD),
             "buffer view");
    lt_tensor *w = lt_params_get(&ps, "fc.weight");
    LT_CHECK(w && w->ndim == 2 && w->shape[0] == 3 && w->shape[1] == 4 &&
                 w->numel == 12,
             "weight view shape");
    LT_CHECK(lt_params_get(&ps, "nope") == NULL &&
                 strstr(lt_last_error(), "nope"),
             "missing name");
    LT_CHECK(lt_params_add(&ps, "late", 1, (int64_t[]){1}, true) == -1,
             "add after finalize");
    lt_params_free(&ps);
}

LT_TEST_MAIN()
