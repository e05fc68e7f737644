/*
 * llama_test.h - what the Llama-family tests share: the golden check of a
 * model's forward values (logits, loss, per-sequence NLL) and of the
 * gradient of every parameter, against entries "<prefix>logits",
 * "<prefix>loss", "<prefix>seq_nll" and "<prefix>grad.<name>" of a file
 * written by tests/golden/gen_llama.py or gen_hf_models.py, loading a
 * checkpoint as a checked step, and the tiny seeded Llama of the
 * unlearning tests.
 */
#ifndef LT_LLAMA_TEST_H
#define LT_LLAMA_TEST_H

#include "lethe/llama.h"
#include "lt_test.h"

#include <stdio.h>

/* The checkpoint at path (a failed load is a test failure; NULL then). */
static inline lt_llama *llama_test_load(const char *path)
{
    lt_llama *m = NULL;
    lt_status s = lt_llama_load(path, &m);
    LT_CHECK(s == LT_OK, "load %s: %s", path, lt_last_error());
    return m;
}

/* A seeded Llama of n_layers tiny layers (hidden 32, 2 heads of 16, MLP
 * 48, context 64, bos = eos = 0) over vocab (a failed create is a test
 * failure; NULL then). */
static inline lt_llama *llama_test_tiny(int vocab, int n_layers,
                                        uint64_t seed)
{
    lt_llama_config cfg;
    lt_llama_preset("tiny", vocab, &cfg);
    cfg.n_layers = n_layers;
    cfg.hidden_size = 32;
    cfg.n_heads = 2;
    cfg.n_kv_heads = 2;
    cfg.head_dim = 16;
    cfg.intermediate_size = 48;
    cfg.max_position_embeddings = 64;
    cfg.bos_token_id = cfg.eos_token_id = 0;
    lt_llama *m = NULL;
    LT_CHECK(lt_llama_create(&cfg, &m) == LT_OK, "create: %s",
             lt_last_error());
    if (m)
        lt_llama_init(m, seed);
    return m;
}

/* The check on ids / labels [B, T] with the arena c (gradients zeroed
 * first, left in m's buffer); false when the forward failed. */
static inline bool llama_check_forward_grads(lt_ctx *c, lt_llama *m,
                                             const lt_golden *g,
                                             const char *prefix,
                                             const int32_t *ids,
                                             const int32_t *labels, int B,
                                             int T)
{
    char name[160];
    lt_params_zero_grad(&m->params);
    lt_tensor *logits = lt_llama_forward(c, m, ids, B, T);
    LT_CHECK_OK(logits);
    lt_tensor *loss = lt_llama_loss_logits(c, m, logits, ids, labels, NULL);
    lt_tensor *nll = lt_llama_seq_nll_logits(c, m, logits, ids, labels, NULL);
    LT_CHECK_OK(loss);
    LT_CHECK_OK(nll);
    if (!logits || !loss || !nll)
        return false;
    snprintf(name, sizeof name, "%slogits", prefix);
    LT_GOLDEN_CHECK(g, name, logits->data, logits->numel);
    snprintf(name, sizeof name, "%sloss", prefix);
    LT_GOLDEN_CHECK(g, name, loss->data, 1);
    snprintf(name, sizeof name, "%sseq_nll", prefix);
    LT_GOLDEN_CHECK(g, name, nll->data, B);
    LT_CHECK(lt_backward(c, loss) == LT_OK, "backward: %s", lt_last_error());
    for (int i = 0; i < m->params.count; i++) {
        snprintf(name, sizeof name, "%sgrad.%s", prefix, m->params.p[i].name);
        LT_GOLDEN_CHECK(g, name, m->params.p[i].t.grad,
                        m->params.p[i].t.numel);
    }
    return true;
}

#endif
