/*
 * minimal.c - the README's library example, built and run by ctest so it
 * stays true: a two-layer MLP learns a synthetic two-class problem
 * (is x0 + x1 > 0?) with the flat parameter store, autograd and SGD.
 * Exits 0 when the loss fell below a tenth of its start.
 */
#include <lethe/lethe.h>

#include <stdio.h>

int main(void)
{
    lt_ctx *c = lt_ctx_new(16 << 20);                /* arena for one step */
    lt_params ps;                                    /* one flat buffer */
    lt_params_init(&ps);
    lt_params_add(&ps, "fc1.weight", 2, (int64_t[]){32, 2}, true);
    lt_params_add(&ps, "fc1.bias", 1, (int64_t[]){32}, true);
    lt_params_add(&ps, "fc2.weight", 2, (int64_t[]){2, 32}, true);
    lt_params_add(&ps, "fc2.bias", 1, (int64_t[]){2}, true);
    if (!c || lt_params_finalize(&ps) != LT_OK)
        return fprintf(stderr, "%s\n", lt_last_error()), 1;
    lt_rng rng;
    lt_rng_init(&rng, 1);
    lt_rng_fill_uniform(&rng, ps.theta, ps.n_train, -0.5f, 0.5f);
    lt_optim opt;
    lt_optim_config cfg = lt_optim_defaults(LT_OPT_SGD);  /* momentum 0.9 */
    cfg.lr = 0.1f;
    lt_optim_init(&opt, &cfg, ps.n_train);

    float x[64 * 2];
    int32_t y[64];
    double first = 0, last = 0;
    for (int step = 0; step < 200; step++) {
        lt_rng_fill_normal(&rng, x, 64 * 2, 0, 1);
        for (int i = 0; i < 64; i++)
            y[i] = x[2 * i] + x[2 * i + 1] > 0;
        lt_ctx_reset(c);                              /* frees the last step */
        lt_tensor *in = lt_from_data(c, 2, (int64_t[]){64, 2}, x);
        lt_tensor *h = lt_relu(c, lt_linear(c, in, lt_params_get(&ps, "fc1.weight"),
                                            lt_params_get(&ps, "fc1.bias")));
        lt_tensor *logits = lt_linear(c, h, lt_params_get(&ps, "fc2.weight"),
                                      lt_params_get(&ps, "fc2.bias"));
        lt_tensor *loss = lt_cross_entropy(c, logits, y, LT_REDUCE_MEAN);
        if (!loss || lt_backward(c, loss) != LT_OK ||     /* errors are values */
            lt_optim_step(&opt, ps.theta, ps.grad, NULL, cfg.lr) != LT_OK)
            return fprintf(stderr, "step %d: %s\n", step, lt_last_error()), 1;
        lt_params_zero_grad(&ps);
        if (step == 0)
            first = loss->data[0];
        last = loss->data[0];
    }
    printf("loss %.4f -> %.4f\n", first, last);
    lt_optim_free(&opt);
    lt_params_free(&ps);
    lt_ctx_free(c);
    return last < first / 10 ? 0 : 1;
}
