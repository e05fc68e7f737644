/*
 * llama_test.h - what the Llama-family tests share: the golden check of a
 * model's forward values (logits, loss, per-sequence NLL) and of the
 * gradient of every parameter, against entries "<prefix>logits",
 * "<prefix>loss", "<prefix>seq_nll" and "<prefix>grad.<name>" of a file
 * written by tests/golden/gen_llama.py or gen_hf_models.py, and loading a
 * checkpoint as a checked step.
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
