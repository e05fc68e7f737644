/*
 * test_llm_loss.c - Lethe's LLM unlearning losses (lt_llm_step_loss)
 * against goldens transcribed from the official code paths
 * (tests/golden/gen_llm_loss.py: TOFU's grad_ascent, grad_diff, idk and dpo
 * branches, NPO's npo and npo_grad_diff, SOUL's NPO.py with mean-token
 * NLLs, Unlearn-Simple's simnpo_grad_diff): the loss value and the
 * gradients of two weight tensors of the golden Llama, with a different
 * frozen model as the reference.
 */
#include "lethe/llm_unlearn.h"
#include "lt_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DIR_TINY LT_GOLDEN_DIR "/llama_tiny"
#define DIR_REF LT_GOLDEN_DIR "/llama_tied"

/* The rows of golden batch `name` (ids with labels -100 on the prompt and
 * the padding, right-padded with 0) as an lt_lm_data: each row's length is
 * up to its last non-pad token, its prompt the tokens before the first
 * label. */
static void golden_data(const lt_golden *g, const char *name, lt_lm_data *d)
{
    char key[64];
    memset(d, 0, sizeof *d);
    snprintf(key, sizeof key, "%s.ids", name);
    const lt_golden_entry *ids = lt_golden_get(g, key);
    snprintf(key, sizeof key, "%s.labels", name);
    const lt_golden_entry *lab = lt_golden_get(g, key);
    if (!ids || !lab || ids->ndim != 2)
        return;
    int64_t B = ids->shape[0], T = ids->shape[1];
    d->tokens = malloc((size_t)(B * T) * sizeof *d->tokens);
    d->offset = malloc((size_t)(B + 1) * sizeof *d->offset);
    d->n_prompt = malloc((size_t)B * sizeof *d->n_prompt);
    LT_CHECK(d->tokens && d->offset && d->n_prompt, "alloc");
    if (!d->tokens || !d->offset || !d->n_prompt)
        return;
    d->offset[0] = 0;
    for (int64_t b = 0; b < B; b++) {
        int64_t len = T, np = -1;
        while (len > 0 && lrintf(ids->data[b * T + len - 1]) == 0)
            len--;
        for (int64_t t = 0; t < len; t++) {
            d->tokens[d->n_tokens++] = (int32_t)lrintf(ids->data[b * T + t]);
            if (np < 0 && lrintf(lab->data[b * T + t]) != LT_LLAMA_IGNORE)
                np = t;
        }
        d->n_prompt[b] = (int32_t)np;
        d->offset[b + 1] = d->n_tokens;
        d->max_len = len > d->max_len ? len : d->max_len;
    }
    d->n = d->cap = B;
    d->cap_tokens = d->n_tokens;
}

static void fill_all(lt_llm_batch *b, const lt_lm_data *d)
{
    int64_t idx[8];
    for (int64_t i = 0; i < d->n && i < 8; i++)
        idx[i] = i;
    LT_CHECK(lt_llm_batch_fill(b, d, idx, d->n, 0) == LT_OK, "batch: %s",
             lt_last_error());
}

typedef struct {
    lt_golden *g;
    lt_llama *m, *ref;
    lt_lm_data f, r, idk;
    lt_llm_batch fb, rb, ib;
} fixture;

static bool fx_open(fixture *x)
{
    memset(x, 0, sizeof *x);
    x->g = lt_golden_load("llm_loss.bin");
    LT_CHECK(lt_llama_load(DIR_TINY, &x->m) == LT_OK &&
                 lt_llama_load(DIR_REF, &x->ref) == LT_OK,
             "load: %s", lt_last_error());
    if (!x->g || !x->m || !x->ref)
        return false;
    golden_data(x->g, "forget", &x->f);
    golden_data(x->g, "retain", &x->r);
    golden_data(x->g, "idk", &x->idk);
    fill_all(&x->fb, &x->f);
    fill_all(&x->rb, &x->r);
    fill_all(&x->ib, &x->idk);
    x->ib.pair = &x->fb; /* idkpo: the true answers of the same questions */
    return true;
}

static void fx_close(fixture *x)
{
    lt_llm_batch_free(&x->fb);
    lt_llm_batch_free(&x->rb);
    lt_llm_batch_free(&x->ib);
    lt_lm_data_free(&x->f);
    lt_lm_data_free(&x->r);
    lt_lm_data_free(&x->idk);
    lt_llama_free(x->m);
    lt_llama_free(x->ref);
    lt_golden_free(x->g);
}

/* One golden case: the loss of cfg on (f, r) and its gradients. */
static void check_case(fixture *x, const char *name, const lt_llm_loss_cfg *cfg,
                       const lt_llm_batch *f)
{
    lt_ctx *c = lt_ctx_new((size_t)64 << 20);
    lt_tensor *loss = NULL;
    lt_params_zero_grad(&x->m->params);
    lt_status s = lt_llm_step_loss(c, x->m, x->ref, cfg, f, &x->rb, &loss,
                                   NULL);
    LT_CHECK(s == LT_OK && loss, "%s: %s", name, lt_last_error());
    if (s == LT_OK && loss) {
        char key[128];
        snprintf(key, sizeof key, "%s.loss", name);
        LT_GOLDEN_CHECK(x->g, key, loss->data, 1);
        LT_CHECK(lt_backward(c, loss) == LT_OK, "backward: %s",
                 lt_last_error());
        const char *w[2] = {"lm_head.weight",
                            "model.layers.0.mlp.down_proj.weight"};
        for (int i = 0; i < 2; i++) {
            lt_tensor *p = lt_params_get(&x->m->params, w[i]);
            LT_CHECK(p != NULL, "parameter %s", w[i]);
            if (!p)
                continue;
            snprintf(key, sizeof key, "%s.grad.%s", name, w[i]);
            lt_golden_check(__FILE__, __LINE__, x->g, key, p->grad, p->numel,
                            2e-4);
        }
    }
    lt_ctx_free(c);
}

LT_TEST(tofu_ga_graddiff_idk_idkpo_match_the_official_code)
{
    fixture x;
    if (fx_open(&x)) {
        lt_llm_loss_cfg c = lt_llm_loss_defaults(LT_LLM_GA);
        check_case(&x, "ga", &c, &x.fb);
        c = lt_llm_loss_defaults(LT_LLM_GRADDIFF);
        check_case(&x, "graddiff", &c, &x.fb);
        c = lt_llm_loss_defaults(LT_LLM_IDK);
        check_case(&x, "idk", &c, &x.ib);
        c = lt_llm_loss_defaults(LT_LLM_IDKPO);
        LT_CHECK(fabsf(c.beta - 0.1f) < 1e-7f, "idkpo beta 0.1 as TOFU's dpo");
        check_case(&x, "idkpo", &c, &x.ib);
    }
    fx_close(&x);
}

LT_TEST(npo_sum_and_mean_match_the_official_code)
{
    fixture x;
    if (fx_open(&x)) {
        lt_llm_loss_cfg c = lt_llm_loss_defaults(LT_LLM_NPO);
        LT_CHECK(fabsf(c.beta - 0.1f) < 1e-7f && !c.npo_mean,
                 "npo defaults: beta 0.1, per-sequence sums");
        check_case(&x, "npo", &c, &x.fb);
        c = lt_llm_loss_defaults(LT_LLM_NPO_GD);
        check_case(&x, "npo-gd", &c, &x.fb);
        c.npo_mean = true; /* SOUL's / WAGLE's NPO.py */
        check_case(&x, "npo-mean-gd", &c, &x.fb);
    }
    fx_close(&x);
}

LT_TEST(simnpo_matches_the_official_code)
{
    fixture x;
    if (fx_open(&x)) {
        lt_llm_loss_cfg c = lt_llm_loss_defaults(LT_LLM_SIMNPO);
        LT_CHECK(fabsf(c.beta - 2.5f) < 1e-7f && c.gamma == 0.0f &&
                     fabsf(c.forget_weight - 0.1375f) < 1e-7f &&
                     c.lambda == 1.0f,
                 "simnpo defaults: beta 2.5, gamma 0, npo_coeff 0.1375");
        check_case(&x, "simnpo", &c, &x.fb);
        c.beta = 0.25f; /* gamma near the NLL per token: a live sigmoid */
        c.gamma = 4.0f;
        c.forget_weight = 1.0f;
        c.lambda = 0.5f;
        check_case(&x, "simnpo-g", &c, &x.fb);
    }
    fx_close(&x);
}

LT_TEST_MAIN()
