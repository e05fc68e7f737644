/*
 * lm_ref.c - the reference language models of the LLM protocols (the
 * model to unlearn and the retain/retrain model of lt_bench_tofu and
 * lt_bench_muse): one recipe for a fresh model of a preset, its training
 * schedule (warm-up over 5% of the steps, at most 100) and training then
 * saving it with its tokenizer beside it.
 */
#include "bench/bench_util.h"

lt_lm_train_cfg lt_bench_lm_train_cfg(const lt_bench_lm_recipe *r,
                                      const lt_tokenizer *t, int64_t n)
{
    lt_lm_train_cfg c = lt_lm_train_defaults();
    c.optim.lr = r->lr;
    c.epochs = r->epochs;
    c.batch = r->batch;
    c.seed = r->seed;
    int64_t steps = c.epochs * lt_lm_steps_per_epoch(&c, n);
    c.warmup = steps / 20 < 100 ? steps / 20 : 100;
    c.pad_id = lt_lm_pad_id(t);
    return c;
}

lt_status lt_bench_lm_new(const lt_bench_lm_recipe *r, const lt_tokenizer *t,
                          int window, lt_llama **m)
{
    lt_llama_config cfg;
    lt_status st = lt_lm_config(r->config, t, &cfg);
    if (st == LT_OK && window > cfg.max_position_embeddings)
        st = lt_set_error(LT_ERR_ARG, "window %d exceeds the context of "
                          "%s (%d)", window, r->config,
                          (int)cfg.max_position_embeddings);
    if (st == LT_OK)
        st = lt_llama_create(&cfg, m);
    if (st == LT_OK)
        lt_llama_init(*m, r->seed);
    return st;
}

lt_status lt_bench_lm_fit(const lt_bench_lm_recipe *r, lt_llama *m,
                          const lt_tokenizer *t, const lt_lm_data *d,
                          lt_bench_fwd *fwd, const char *out,
                          lt_lm_report *rep)
{
    lt_lm_train_cfg tc = lt_bench_lm_train_cfg(r, t, d->n);
    tc.progress = lt_bench_fwd_lm;
    tc.ud = fwd;
    lt_status st = lt_lm_train(m, d, &tc, rep);
    return st == LT_OK ? lt_lm_save(m, t, out, NULL, 0) : st;
}
