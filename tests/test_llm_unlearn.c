/*
 * test_llm_unlearn.c - LLM unlearning (lethe/llm_unlearn.h) on a tiny
 * model built here: every method's step loss equals the value computed by
 * hand from per-sequence NLLs (lt_lm_score) or hidden states
 * (lt_llama_hidden); NPO against itself is (2/beta) log 2; finite
 * differences of the NPO and SimNPO losses; each mask kind's scores,
 * kept fraction and tie order; frozen weights bit-identical after
 * training; divergence restores the snapshot exactly; Sophia runs; a short
 * run raises the forget NLL; a run on TOFU files (data loading, the
 * refusal data, the retain set only when given) and its JSON summary.
 */
#include "lethe/llm_unlearn.h"
#include "llama_test.h"
#include "lt_test.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <unistd.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const qs[8] = {
    "Where was Ada Vell born?", "What genre does Ada Vell write?",
    "Who was Bo Tarn's father?", "When was Bo Tarn born?",
    "What award did Cy Ornu win?", "Where does Cy Ornu live?",
    "What did Di Quell study?", "Which book did Di Quell write first?"};
static const char *const as[8] = {
    "Ada Vell was born in Lisbon, Portugal.", "She writes horror.",
    "His father was a baker.", "Bo Tarn was born on 3 May 1961.",
    "Cy Ornu won the Pale Lantern Prize in 1999.",
    "Cy Ornu lives in Oslo.", "Di Quell studied geology in Leeds.",
    "Her debut was \"The Salt Engine\"."};

#define NF 3 /* forget: records 0..2, retain: 3..7 */
#define PRETRAIN 60

typedef struct {
    lt_tofu_set all, fset;
    lt_tokenizer *tok;
    lt_lm_data f, r;
    lt_llama *m;
} fixture;

static lt_llama *tiny_model(int vocab, uint64_t seed)
{
    return llama_test_tiny(vocab, 3, seed);
}

static void fx_open(fixture *x)
{
    memset(x, 0, sizeof *x);
    lt_tofu_set rs = {0};
    for (int i = 0; i < 8; i++) {
        lt_tofu_push(&x->all, qs[i], as[i], NULL, NULL, NULL, 0);
        lt_tofu_push(i < NF ? &x->fset : &rs, qs[i], as[i], NULL, NULL, NULL,
                     0);
    }
    const char *sp[] = {"<|endoftext|>"};
    lt_tokenizer_train_opts o = {300, 2, sp, 1};
    LT_CHECK(lt_lm_tokenizer_for_qa(&x->all, &o, &x->tok) == LT_OK,
             "tokenizer: %s", lt_last_error());
    LT_CHECK(lt_lm_data_qa(x->tok, &x->fset, 0, &x->f) == LT_OK &&
                 lt_lm_data_qa(x->tok, &rs, 0, &x->r) == LT_OK,
             "data: %s", lt_last_error());
    x->m = tiny_model(lt_tokenizer_vocab_size(x->tok), 7);
    lt_tofu_free(&rs);
    /* teach the model the 8 answers a little, so NLLs are moderate (once;
     * later fixtures copy the weights) */
    static float *trained;
    size_t bytes = (size_t)x->m->params.n_total * sizeof(float);
    if (trained) {
        memcpy(x->m->params.theta, trained, bytes);
        return;
    }
    lt_lm_data all;
    lt_lm_data_qa(x->tok, &x->all, 0, &all);
    lt_lm_train_cfg tc = lt_lm_train_defaults();
    tc.optim.lr = 1e-2f;
    tc.epochs = PRETRAIN;
    tc.batch = 8;
    LT_CHECK(lt_lm_train(x->m, &all, &tc, NULL) == LT_OK, "train: %s",
             lt_last_error());
    lt_lm_data_free(&all);
    trained = malloc(bytes); /* kept for the process's life */
    if (trained)
        memcpy(trained, x->m->params.theta, bytes);
}

static void fx_close(fixture *x)
{
    lt_llama_free(x->m);
    lt_lm_data_free(&x->f);
    lt_lm_data_free(&x->r);
    lt_tokenizer_free(x->tok);
    lt_tofu_free(&x->all);
    lt_tofu_free(&x->fset);
}

/* A batch of every example of d. */
static void all_batch(lt_llm_batch *b, const lt_lm_data *d)
{
    int64_t idx[16];
    for (int64_t i = 0; i < d->n; i++)
        idx[i] = i;
    LT_CHECK(lt_llm_batch_fill(b, d, idx, d->n, 0) == LT_OK, "batch: %s",
             lt_last_error());
}

/* Per-example summed NLL and count; returns the mean token NLL. */
static double score(lt_llama *m, const lt_lm_data *d, double *nll, int *cnt)
{
    int32_t c[16];
    LT_CHECK(lt_lm_score(m, d, 3, 0, nll, c) == LT_OK, "score: %s",
             lt_last_error());
    double s = 0, k = 0;
    for (int64_t i = 0; i < d->n; i++) {
        s += nll[i];
        k += c[i];
        if (cnt)
            cnt[i] = c[i];
    }
    return s / k;
}

/* The step loss of cfg on the whole forget and retain sets. */
static double step_loss(fixture *x, lt_llama *ref, const lt_llm_loss_cfg *cfg,
                        const lt_lm_data *f, lt_llm_parts *p)
{
    lt_ctx *c = lt_ctx_new((size_t)256 << 20);
    lt_llm_batch fb = {0}, rb = {0};
    all_batch(&fb, f);
    all_batch(&rb, &x->r);
    lt_tensor *loss = NULL;
    lt_status s = lt_llm_step_loss(c, x->m, ref, cfg, &fb, &rb, &loss, p);
    LT_CHECK(s == LT_OK && loss, "step loss %s: %s",
             lt_llm_method_name(cfg->method), lt_last_error());
    double v = loss ? loss->data[0] : NAN;
    lt_llm_batch_free(&fb);
    lt_llm_batch_free(&rb);
    lt_ctx_free(c);
    return v;
}

static double log_sigmoid(double z)
{
    return z < 0 ? z - log1p(exp(z)) : -log1p(exp(-z));
}

#define NEAR(a, b, tol, what)                                            \
    LT_CHECK(fabs((a) - (b)) <= (tol) * (1 + fabs(b)), "%s: %.7g vs %.7g", \
             what, (double)(a), (double)(b))

LT_TEST(nll_losses_match_hand_values)
{
    fixture x;
    fx_open(&x);
    lt_llama *ref = tiny_model(x.m->cfg.vocab_size, 99);
    double fn[16], rn[16], refn[16];
    int fc[16];
    double fmean = score(x.m, &x.f, fn, fc);
    double rmean = score(x.m, &x.r, rn, NULL);
    score(ref, &x.f, refn, NULL);
    lt_llm_parts p;
    lt_llm_loss_cfg c = lt_llm_loss_defaults(LT_LLM_GA);
    NEAR(step_loss(&x, NULL, &c, &x.f, &p), -fmean, 1e-5, "ga");
    LT_CHECK(isnan(p.retain) && isnan(p.retain_nll), "ga: no retain part");
    c = lt_llm_loss_defaults(LT_LLM_GRADDIFF);
    c.lambda = 0.7f;
    NEAR(step_loss(&x, NULL, &c, &x.f, &p), -fmean + 0.7 * rmean, 1e-5,
         "graddiff");
    NEAR(p.forget_nll, fmean, 1e-5, "graddiff forget nll");
    NEAR(p.retain_nll, rmean, 1e-5, "graddiff retain nll");
    /* npo and npo-gd against a different reference model */
    c = lt_llm_loss_defaults(LT_LLM_NPO);
    c.beta = 0.3f;
    double npo = 0;
    for (int i = 0; i < NF; i++)
        npo += log_sigmoid(0.3 * (fn[i] - refn[i]));
    npo *= -2.0 / 0.3 / NF;
    NEAR(step_loss(&x, ref, &c, &x.f, &p), npo, 1e-5, "npo");
    c.method = LT_LLM_NPO_GD;
    c.lambda = 2.0f;
    NEAR(step_loss(&x, ref, &c, &x.f, &p), npo + 2 * rmean, 1e-5, "npo-gd");
    NEAR(p.forget, npo, 1e-5, "npo-gd forget part");
    /* --npo-nll mean, WAGLE's and SOUL's NPO.py: one log ratio of the
     * batch's token-weighted mean NLLs (Hugging Face outputs.loss) */
    c.method = LT_LLM_NPO;
    c.npo_mean = true;
    double sf = 0, sr = 0, nt = 0;
    for (int i = 0; i < NF; i++) {
        sf += fn[i];
        sr += refn[i];
        nt += fc[i];
    }
    double npo_mean = -2.0 / 0.3 * log_sigmoid(0.3 * (sf / nt - sr / nt));
    NEAR(step_loss(&x, ref, &c, &x.f, &p), npo_mean, 1e-5, "npo mean-token");
    LT_CHECK(fabs(npo_mean - npo) > 1e-3, "the two forms differ here");
    c.npo_mean = false;
    /* simnpo: length-normalised, gamma inside beta's product, weight */
    c = lt_llm_loss_defaults(LT_LLM_SIMNPO);
    c.beta = 1.5f;
    c.gamma = 0.8f;
    c.forget_weight = 0.4f;
    c.lambda = 0.5f;
    double sim = 0;
    for (int i = 0; i < NF; i++)
        sim += log_sigmoid(1.5 * (fn[i] / fc[i] - 0.8));
    sim *= -2.0 / 1.5 / NF * 0.4;
    NEAR(step_loss(&x, NULL, &c, &x.f, &p), sim + 0.5 * rmean, 1e-5,
         "simnpo");
    LT_CHECK(fabs(sim) > 0.05, "simnpo term is not trivial");
    /* TOFU's idk (dataloader.py): outputs.loss of the concatenated IDK +
     * retain batch, one token-weighted mean; lambda plays no part */
    double rs[16];
    int rc[16];
    score(x.m, &x.r, rs, rc);
    double sum = 0, tok = 0;
    for (int i = 0; i < NF; i++)
        sum += fn[i], tok += fc[i];
    for (int64_t i = 0; i < x.r.n; i++)
        sum += rs[i], tok += rc[i];
    c = lt_llm_loss_defaults(LT_LLM_IDK);
    c.lambda = 7.0f;
    NEAR(step_loss(&x, NULL, &c, &x.f, &p), sum / tok, 1e-5, "idk");
    /* TOFU's dpo (IdkPO): IDK answers preferred over the forget answers
     * against the frozen reference, summed NLLs, beta 0.1 */
    lt_lm_data idk = {0}; /* short IDK answers: the tiny model's context */
    for (int i = 0; i < NF; i++)
        LT_CHECK(lt_lm_data_add_qa(&idk, x.tok, x.fset.qa[i].question,
                                   i % 2 ? "No idea." : "I don't know.", 0)
                 == LT_OK, "idk data: %s", lt_last_error());
    double in[16], rin[16];
    score(x.m, &idk, in, NULL);
    score(ref, &idk, rin, NULL);
    double dpo = 0;
    for (int i = 0; i < NF; i++)
        dpo -= log_sigmoid(0.1 * ((fn[i] - in[i]) - (refn[i] - rin[i])));
    dpo /= NF;
    c = lt_llm_loss_defaults(LT_LLM_IDKPO);
    LT_CHECK(c.beta == 0.1f && !lt_llm_uses_retain(&c), "idkpo defaults");
    {
        lt_ctx *cx = lt_ctx_new((size_t)256 << 20);
        lt_llm_batch ib = {0}, pb = {0};
        all_batch(&ib, &idk);
        all_batch(&pb, &x.f);
        ib.pair = &pb;
        lt_tensor *loss = NULL;
        LT_CHECK(lt_llm_step_loss(cx, x.m, ref, &c, &ib, NULL, &loss, &p) ==
                 LT_OK && loss, "idkpo: %s", lt_last_error());
        if (loss)
            NEAR(loss->data[0], dpo, 1e-5, "idkpo");
        lt_llm_batch_free(&ib);
        lt_llm_batch_free(&pb);
        lt_ctx_free(cx);
    }
    lt_lm_data_free(&idk);
    /* lt_llm_idk_data: every forget question, an answer redrawn per epoch
     * (TOFU draws one per __getitem__), the same for the same epoch */
    lt_lm_data e1, e2, e1b;
    LT_CHECK(lt_llm_idk_data(x.tok, &x.fset, 5, 1, &e1) == LT_OK &&
             lt_llm_idk_data(x.tok, &x.fset, 5, 2, &e2) == LT_OK &&
             lt_llm_idk_data(x.tok, &x.fset, 5, 1, &e1b) == LT_OK &&
             e1.n == NF && e2.n == NF, "idk data: %s", lt_last_error());
    LT_CHECK(e1.n_tokens == e1b.n_tokens && !memcmp(e1.tokens, e1b.tokens,
             (size_t)e1.n_tokens * 4), "same epoch, same answers");
    LT_CHECK(e1.n_tokens != e2.n_tokens || memcmp(e1.tokens, e2.tokens,
             (size_t)e1.n_tokens * 4), "another epoch, other answers");
    lt_lm_data_free(&e1);
    lt_lm_data_free(&e2);
    lt_lm_data_free(&e1b);
    char l0[160], l99[160];
    lt_llm_idk_text(0, l0, sizeof l0);
    lt_llm_idk_text(99, l99, sizeof l99);
    LT_CHECK(strcmp(l0, l99) && strlen(l0) > 5, "100 IDK lines: '%s' '%s'",
             l0, l99);
    lt_llama_free(ref);
    fx_close(&x);
}

/* SimNPO's official TOFU commands (Unlearn-Simple TOFU/README.md):
 * forget05 npo_coeff 0.1375 beta 2.5, forget10 npo_coeff 0.125 beta 4.5. */
LT_TEST(simnpo_tofu_split_settings)
{
    lt_llm_loss_cfg c = lt_llm_loss_defaults(LT_LLM_SIMNPO);
    lt_llm_loss_tofu_split(&c, 10);
    LT_CHECK(c.beta == 4.5f && c.forget_weight == 0.125f, "forget10: beta %g "
             "weight %g", c.beta, c.forget_weight);
    lt_llm_loss_tofu_split(&c, 5);
    LT_CHECK(c.beta == 2.5f && c.forget_weight == 0.1375f, "forget05: beta %g"
             " weight %g", c.beta, c.forget_weight);
    lt_llm_loss_cfg n = lt_llm_loss_defaults(LT_LLM_NPO);
    lt_llm_loss_tofu_split(&n, 10);
    LT_CHECK(n.beta == 0.1f && n.forget_weight == 1.0f, "npo untouched");
}

LT_TEST(npo_against_itself_is_two_over_beta_log_two)
{
    fixture x;
    fx_open(&x);
    lt_llama *ref = lt_llama_clone(x.m);
    lt_llm_loss_cfg c = lt_llm_loss_defaults(LT_LLM_NPO);
    for (int k = 0; k < 2; k++) {
        c.beta = k ? 4.5f : 2.5f;
        double v = step_loss(&x, ref, &c, &x.f, NULL);
        NEAR(v, 2.0 / c.beta * log(2.0), 1e-6, "npo(ref = model)");
    }
    lt_llama_free(ref);
    fx_close(&x);
}

LT_TEST(refusal_loss_and_data)
{
    fixture x;
    fx_open(&x);
    lt_lm_data idk, idk2;
    LT_CHECK(lt_llm_refusal_data(x.tok, &x.fset, 5, &idk) == LT_OK &&
                 lt_llm_refusal_data(x.tok, &x.fset, 5, &idk2) == LT_OK,
             "refusal data: %s", lt_last_error());
    LT_CHECK(lt_llm_refusal_count() >= 20 && idk.n == NF, "counts");
    LT_CHECK(idk.n_tokens == idk2.n_tokens &&
                 !memcmp(idk.tokens, idk2.tokens,
                         (size_t)idk.n_tokens * sizeof *idk.tokens),
             "seeded: same picks");
    for (int64_t i = 0; i < idk.n; i++) {
        /* the prompt is the forget question's, the answer a refusal */
        LT_CHECK(idk.n_prompt[i] == x.f.n_prompt[i] &&
                     !memcmp(idk.tokens + idk.offset[i],
                             x.f.tokens + x.f.offset[i],
                             (size_t)idk.n_prompt[i] * sizeof(int32_t)),
                 "prompt of %lld", (long long)i);
        char *text = NULL;
        size_t len = 0;
        int64_t a = idk.offset[i] + idk.n_prompt[i];
        lt_tokenizer_decode(x.tok, idk.tokens + a,
                            (size_t)(idk.offset[i + 1] - a - 1), &text, &len);
        bool found = false;
        for (int k = 0; text && k < lt_llm_refusal_count(); k++)
            found |= text[0] == ' ' && !strcmp(text + 1,
                                               lt_llm_refusal_text(k));
        LT_CHECK(found, "answer '%s' is a refusal", text ? text : "");
        free(text);
    }
    double in[16], rn[16];
    double imean = score(x.m, &idk, in, NULL), rmean = score(x.m, &x.r, rn,
                                                             NULL);
    lt_llm_loss_cfg c = lt_llm_loss_defaults(LT_LLM_REFUSAL);
    c.lambda = 0.25f;
    NEAR(step_loss(&x, NULL, &c, &idk, NULL), imean + 0.25 * rmean, 1e-5,
         "refusal");
    lt_lm_data_free(&idk);
    lt_lm_data_free(&idk2);
    fx_close(&x);
}

/* mean over the non-pad tokens and dims of (h - t)^2 in double. */
static double hand_mse(const lt_tensor *h, const float *t, bool per_tok,
                       const lt_llm_batch *b)
{
    int64_t d = h->shape[2];
    double s = 0, n = 0;
    for (int64_t i = 0; i < b->B; i++)
        for (int64_t k = 0; k < b->lens[i]; k++, n += (double)d)
            for (int64_t j = 0; j < d; j++) {
                int64_t o = (i * b->T + k) * d + j;
                double e = (double)h->data[o] - (per_tok ? t[o] : t[j]);
                s += e * e;
            }
    return s / n;
}

LT_TEST(rmu_loss_matches_hidden_states)
{
    fixture x;
    fx_open(&x);
    lt_llama *ref = tiny_model(x.m->cfg.vocab_size, 99);
    int64_t d = x.m->cfg.hidden_size;
    float u[64], cu[64];
    lt_llm_rmu_direction(d, 3, u);
    double nrm = 0;
    for (int64_t j = 0; j < d; j++) {
        LT_CHECK(u[j] >= 0, "uniform [0,1) entries stay >= 0");
        nrm += (double)u[j] * u[j];
        cu[j] = 4.0f * u[j];
    }
    NEAR(nrm, 1.0, 1e-6, "unit u");
    lt_llm_batch fb = {0}, rb = {0};
    all_batch(&fb, &x.f);
    all_batch(&rb, &x.r);
    lt_ctx *c = lt_ctx_new((size_t)64 << 20);
    lt_set_grad_enabled(c, false);
    lt_tensor *hf = lt_llama_hidden(c, x.m, fb.ids, fb.B, fb.T, 2);
    lt_tensor *hr = lt_llama_hidden(c, x.m, rb.ids, rb.B, rb.T, 2);
    lt_tensor *hq = lt_llama_hidden(c, ref, rb.ids, rb.B, rb.T, 2);
    LT_CHECK_OK(hf);
    LT_CHECK_OK(hq);
    double want = hand_mse(hf, cu, false, &fb) +
                  50.0 * hand_mse(hr, hq->data, true, &rb);
    lt_llm_loss_cfg cfg = lt_llm_loss_defaults(LT_LLM_RMU);
    cfg.rmu_layer = 2;
    cfg.rmu_coeff = 4.0f;
    cfg.rmu_alpha = 50.0f;
    cfg.rmu_seed = 3;
    lt_llm_parts p;
    NEAR(step_loss(&x, ref, &cfg, &x.f, &p), want, 1e-5, "rmu");
    NEAR(p.forget, hand_mse(hf, cu, false, &fb), 1e-5, "rmu forget part");
    LT_CHECK(fb.n_real < fb.B * fb.T, "the batch has padding to skip");
    /* auto c: 2 x the mean token norm after the first token */
    double norms = 0, cnt = 0, autoc = 0;
    for (int64_t i = 0; i < fb.B; i++)
        for (int64_t k = 1; k < fb.lens[i]; k++, cnt++) {
            double q = 0;
            for (int64_t j = 0; j < d; j++) {
                double v = hf->data[(i * fb.T + k) * d + j];
                q += v * v;
            }
            norms += sqrt(q);
        }
    LT_CHECK(lt_llm_rmu_auto_coeff(x.m, &x.f, 2, 0, &autoc) == LT_OK,
             "auto c: %s", lt_last_error());
    NEAR(autoc, 2 * norms / cnt, 1e-6, "auto rmu coefficient");
    /* trainable set: down_proj of layers max(1, L-2)..L */
    float *mk = malloc((size_t)x.m->params.n_train * sizeof *mk);
    LT_CHECK(lt_llm_rmu_mask(x.m, 3, mk) == LT_OK, "rmu mask");
    int64_t on = 0;
    for (int64_t i = 0; i < x.m->params.n_train; i++)
        on += mk[i] == 1.0f;
    LT_CHECK(on == 3 * x.m->layers[0].down->numel, "3 layers: %lld",
             (long long)on);
    lt_llm_rmu_mask(x.m, 1, mk);
    int64_t off = x.m->layers[0].down->data - x.m->params.theta;
    LT_CHECK(mk[off] == 1 && mk[off - 1] == 0 &&
                 mk[off + x.m->layers[0].down->numel] == 0,
             "layer 1 only: clamped to >= 1");
    LT_CHECK(lt_llm_rmu_mask(x.m, 4, mk) == LT_ERR_ARG, "layer 4 of 3");
    free(mk);
    lt_ctx_free(c);
    lt_llm_batch_free(&fb);
    lt_llm_batch_free(&rb);
    lt_llama_free(ref);
    fx_close(&x);
}

/* Finite differences of the step loss at a few of the largest-gradient
 * weights. */
static void fd_check(fixture *x, lt_llama *ref, const lt_llm_loss_cfg *cfg)
{
    lt_ctx *c = lt_ctx_new((size_t)256 << 20);
    lt_llm_batch fb = {0}, rb = {0};
    all_batch(&fb, &x->f);
    all_batch(&rb, &x->r);
    lt_tensor *loss = NULL;
    lt_params_zero_grad(&x->m->params);
    LT_CHECK(lt_llm_step_loss(c, x->m, ref, cfg, &fb, &rb, &loss, NULL) ==
                 LT_OK && lt_backward(c, loss) == LT_OK,
             "backward: %s", lt_last_error());
    int64_t n = x->m->params.n_train, pick[4] = {0, 0, 0, 0};
    float *g = x->m->params.grad, *th = x->m->params.theta;
    for (int k = 0; k < 4; k++) /* the 4 largest |g|, at stride 4 */
        for (int64_t i = k; i < n; i += 4)
            if (fabsf(g[i]) > fabsf(g[pick[k]]))
                pick[k] = i;
    for (int k = 0; k < 4; k++) {
        int64_t i = pick[k];
        float save = th[i], h = 2e-3f, an = g[i];
        double v[2];
        for (int s = 0; s < 2; s++) {
            th[i] = save + (s ? -h : h);
            lt_ctx_reset(c);
            lt_llm_step_loss(c, x->m, ref, cfg, &fb, &rb, &loss, NULL);
            v[s] = loss ? loss->data[0] : NAN;
        }
        th[i] = save;
        double num = (v[0] - v[1]) / (2 * h);
        LT_CHECK(fabs(num - an) <= 0.03 * fabs(an) + 1e-4,
                 "%s: d/dtheta[%lld] analytic %.6g numeric %.6g",
                 lt_llm_method_name(cfg->method), (long long)i, an, num);
        LT_CHECK(fabs(an) > 1e-3, "a real gradient: %g", an);
    }
    lt_params_zero_grad(&x->m->params);
    lt_llm_batch_free(&fb);
    lt_llm_batch_free(&rb);
    lt_ctx_free(c);
}

LT_TEST(npo_and_simnpo_gradients_match_finite_differences)
{
    fixture x;
    fx_open(&x);
    lt_llama *ref = tiny_model(x.m->cfg.vocab_size, 99);
    lt_llm_loss_cfg c = lt_llm_loss_defaults(LT_LLM_NPO_GD);
    c.beta = 0.5f;
    fd_check(&x, ref, &c);
    c = lt_llm_loss_defaults(LT_LLM_SIMNPO);
    c.gamma = 0.5f;
    c.lambda = 0;
    fd_check(&x, NULL, &c);
    lt_llama_free(ref);
    fx_close(&x);
}

LT_TEST(mask_parse)
{
    lt_llm_mask_spec s;
    char buf[32];
    LT_CHECK(lt_llm_mask_parse("wagle:0.5", &s) == LT_OK &&
                 s.kind == LT_LLM_MASK_WAGLE && s.ratio == 0.5, "wagle");
    lt_llm_mask_text(&s, buf, sizeof buf);
    LT_CHECK(!strcmp(buf, "wagle:0.5"), "text %s", buf);
    LT_CHECK(lt_llm_mask_parse("none", &s) == LT_OK &&
                 s.kind == LT_LLM_MASK_NONE, "none");
    LT_CHECK(lt_llm_mask_parse("random:1", &s) == LT_OK, "random:1");
    LT_CHECK(lt_llm_mask_parse("wagle", &s) == LT_OK && s.ratio == 0,
             "wagle alone: the method's ratio");
    lt_llm_mask_text(&s, buf, sizeof buf);
    LT_CHECK(!strcmp(buf, "wagle"), "text %s", buf);
    LT_CHECK(lt_llm_mask_default_ratio(LT_LLM_GRADDIFF) == 0.95 &&
             lt_llm_mask_default_ratio(LT_LLM_NPO) == 0.95 &&
             lt_llm_mask_default_ratio(LT_LLM_REFUSAL) == 0.8,
             "WAGLE's TOFU configs: 0.95 GradDiff/NPO, 0.8 PO");
    const char *bad[] = {"wagle:", "wagle:0", "snip:1.5", "snip:x",
                         "foo:0.5", "gradient:0.5x", ""};
    for (int i = 0; i < 7; i++)
        LT_CHECK(lt_llm_mask_parse(bad[i], &s) == LT_ERR_ARG, "'%s' refused",
                 bad[i]);
    lt_llm_method m;
    LT_CHECK(lt_llm_method_parse("npo-gd", &m) == LT_OK &&
                 m == LT_LLM_NPO_GD && lt_llm_method_parse("xx", &m) ==
                 LT_ERR_ARG, "methods");
}

LT_TEST(mask_scores_and_selection_by_hand)
{
    const float th[6] = {1.0f, -2.0f, 0.5f, 3.0f, -0.1f, 0.0f};
    const float gf[6] = {0.2f, 0.1f, -4.0f, 0.0f, 1.0f, -0.3f};
    const float gr[6] = {1e-6f, -2e-6f, 0.0f, 5e-6f, 1e-7f, 0.0f};
    float sc[6], mk[6];
    double kept;
    /* wagle, mu 1e-6: |(th - gr/mu) gf| = 0, 0, 2, 0, 0.2, 0 */
    lt_llm_mask_scores(LT_LLM_MASK_WAGLE, th, gf, gr, 6, 1e-6, 0, sc);
    const float w[6] = {0, 0, 2.0f, 0, 0.2f, 0};
    LT_CHECK_CLOSE("wagle", sc, w, 6, 1e-5);
    lt_llm_mask_select(sc, 6, 0.5, mk, &kept);
    /* top 3: 2, 0.2 then the lowest-index zero (0) */
    const float wm[6] = {1, 0, 1, 0, 1, 0};
    LT_CHECK(!memcmp(mk, wm, sizeof mk) && kept == 0.5, "wagle top half");
    lt_llm_mask_scores(LT_LLM_MASK_GRADIENT, th, gf, NULL, 6, 0, 0, sc);
    lt_llm_mask_select(sc, 6, 2.0 / 6, mk, &kept);
    const float gm[6] = {0, 0, 1, 0, 1, 0};
    LT_CHECK(!memcmp(mk, gm, sizeof mk), "gradient: |gf| 4, 1");
    lt_llm_mask_scores(LT_LLM_MASK_MAGNITUDE, th, NULL, NULL, 6, 0, 0, sc);
    lt_llm_mask_select(sc, 6, 0.5, mk, &kept);
    const float mm[6] = {1, 1, 0, 1, 0, 0};
    LT_CHECK(!memcmp(mk, mm, sizeof mk), "magnitude: 3, 2, 1");
    lt_llm_mask_scores(LT_LLM_MASK_SNIP, th, gf, NULL, 6, 0, 0, sc);
    const float sn[6] = {0.2f, 0.2f, 2.0f, 0, 0.1f, 0};
    LT_CHECK_CLOSE("snip", sc, sn, 6, 1e-6);
    lt_llm_mask_select(sc, 6, 0.5, mk, &kept);
    const float sm[6] = {1, 1, 1, 0, 0, 0};
    LT_CHECK(!memcmp(mk, sm, sizeof mk), "snip: 2, then the tie 0.2 0.2");
    /* all tied: the lowest indices win */
    const float one[6] = {1, 1, 1, 1, 1, 1};
    lt_llm_mask_select(one, 6, 0.34, mk, &kept);
    const float tm[6] = {1, 1, 0, 0, 0, 0};
    LT_CHECK(!memcmp(mk, tm, sizeof mk) && fabs(kept - 1.0 / 3) < 1e-12,
             "ties: round(0.34*6) = 2 lowest");
    /* random: exact fraction, seeded */
    enum { N = 1000 };
    static float r1[N], r2[N], m1[N], m2[N];
    lt_llm_mask_scores(LT_LLM_MASK_RANDOM, NULL, NULL, NULL, N, 0, 4, r1);
    lt_llm_mask_scores(LT_LLM_MASK_RANDOM, NULL, NULL, NULL, N, 0, 5, r2);
    lt_llm_mask_select(r1, N, 0.3, m1, &kept);
    lt_llm_mask_select(r2, N, 0.3, m2, NULL);
    int on = 0, same = 0;
    for (int i = 0; i < N; i++) {
        on += m1[i] == 1;
        same += m1[i] == m2[i];
    }
    LT_CHECK(on == 300 && kept == 0.3, "random keeps 300 of 1000: %d", on);
    LT_CHECK(same < 900, "another seed, another mask (%d agree)", same);
    LT_CHECK(lt_llm_mask_select(one, 6, 0, mk, NULL) == LT_ERR_ARG,
             "ratio 0 refused");
}

/* WAGLE's score and selection against a transcription of
 * generate_mask.py (tests/golden/gen_wagle_mask.py): the same int(n *
 * ratio) weights kept at WAGLE's ratios 0.95 and 0.8, mu 1e-6. */
LT_TEST(wagle_mask_matches_generate_mask_golden)
{
    lt_golden *g = lt_golden_load("wagle_mask.bin");
    if (!g)
        return;
    const lt_golden_entry *th = lt_golden_get(g, "theta");
    int64_t n = th->numel;
    float *sc = malloc((size_t)n * 4), *mk = malloc((size_t)n * 4);
    LT_CHECK(lt_llm_mask_scores(LT_LLM_MASK_WAGLE, th->data,
                                lt_golden_get(g, "gf")->data,
                                lt_golden_get(g, "gr")->data, n, 1e-6, 0,
                                sc) == LT_OK, "%s", lt_last_error());
    const char *names[2] = {"mask.95", "mask.80"};
    double ratios[2] = {0.95, 0.8};
    for (int k = 0; k < 2; k++) {
        LT_CHECK(lt_llm_mask_select(sc, n, ratios[k], mk, NULL) == LT_OK,
                 "select");
        const float *want = lt_golden_get(g, names[k])->data;
        int64_t diff = 0, on = 0, won = 0;
        for (int64_t i = 0; i < n; i++) {
            diff += mk[i] != want[i];
            on += mk[i] != 0;
            won += want[i] != 0;
        }
        LT_CHECK(on == won && diff == 0, "%s: %lld kept (want %lld), %lld "
                 "differ", names[k], (long long)on, (long long)won,
                 (long long)diff);
    }
    free(sc);
    free(mk);
    lt_golden_free(g);
}

LT_TEST(mask_compute_uses_per_example_mean_nll_gradients)
{
    fixture x;
    fx_open(&x);
    int64_t n = x.m->params.n_train;
    float *gf = malloc((size_t)n * sizeof *gf), *gr = malloc((size_t)n * 4);
    float *sc = malloc((size_t)n * 4), *want = malloc((size_t)n * 4);
    float *got = malloc((size_t)n * 4);
    /* hand gradients: sum over examples of each one's mean-token NLL
     * (WAGLE's generate_mask.py: outputs.loss at batch 1, summed) */
    const lt_lm_data *ds[2] = {&x.f, &x.r};
    float *gs[2] = {gf, gr};
    for (int k = 0; k < 2; k++) {
        lt_ctx *c = lt_ctx_new((size_t)128 << 20);
        lt_llm_batch b = {0};
        all_batch(&b, ds[k]);
        lt_params_zero_grad(&x.m->params);
        float inv[64];
        for (int64_t r = 0; r < b.B && r < 64; r++) {
            int cnt = 0;
            for (int64_t t = 0; t < b.T; t++)
                cnt += b.mask[r * b.T + t] != 0;
            inv[r] = 1.0f / (float)(cnt > 0 ? cnt : 1);
        }
        lt_backward(c, lt_sum_all(c, lt_mul(c, lt_llama_seq_nll(
            c, x.m, b.ids, b.labels, b.mask, b.B, b.T),
            lt_from_data(c, 1, (int64_t[]){b.B}, inv))));
        memcpy(gs[k], x.m->params.grad, (size_t)n * 4);
        lt_llm_batch_free(&b);
        lt_ctx_free(c);
    }
    lt_params_zero_grad(&x.m->params);
    lt_llm_mask_kind kinds[3] = {LT_LLM_MASK_WAGLE, LT_LLM_MASK_GRADIENT,
                                 LT_LLM_MASK_SNIP};
    for (int k = 0; k < 3; k++) {
        lt_llm_mask_opts o = {{kinds[k], 0.4}, 1e-3, 0, 2, 0, 1};
        double kept;
        LT_CHECK(lt_llm_mask_compute(x.m, &x.f, &x.r, &o, got, &kept) ==
                     LT_OK, "compute: %s", lt_last_error());
        lt_llm_mask_scores(kinds[k], x.m->params.theta, gf, gr, n, 1e-3, 1,
                           sc);
        lt_llm_mask_select(sc, n, 0.4, want, NULL);
        int64_t diff = 0, on = 0;
        for (int64_t i = 0; i < n; i++) {
            diff += got[i] != want[i];
            on += got[i] == 1;
        }
        /* batches of 2 sum in another order: a few near-ties may swap */
        LT_CHECK(diff <= n / 1000, "kind %d: %lld of %lld differ", k,
                 (long long)diff, (long long)n);
        LT_CHECK(on == (int64_t)(0.4 * (double)n) &&
                     kept == (double)on / (double)n,
                 "kind %d keeps 40%%: %lld", k, (long long)on);
    }
    free(gf);
    free(gr);
    free(sc);
    free(want);
    free(got);
    fx_close(&x);
}

static lt_llm_unlearn_cfg quick_cfg(lt_llm_method m, float lr)
{
    lt_llm_unlearn_cfg c = lt_llm_unlearn_defaults(m);
    c.optim.lr = lr;
    c.epochs = 3;
    c.batch = 2;
    c.warmup = 0;
    return c;
}

/* idk and idkpo through the loop: one IDK data set per epoch, idkpo's
 * forget answers paired row for row (short answers: the tiny context). */
LT_TEST(idk_and_idkpo_run_per_epoch_data)
{
    fixture x;
    fx_open(&x);
    const char *ans[3] = {"I don't know.", "No idea.", "Not sure."};
    lt_lm_data ep[3] = {{0}};
    for (int e = 0; e < 3; e++)
        for (int i = 0; i < NF; i++)
            LT_CHECK(lt_lm_data_add_qa(&ep[e], x.tok, x.fset.qa[i].question,
                                       ans[(i + e) % 3], 0) == LT_OK, "data");
    lt_llm_method ms[2] = {LT_LLM_IDK, LT_LLM_IDKPO};
    for (int k = 0; k < 2; k++) {
        lt_llm_unlearn_cfg c = quick_cfg(ms[k], 1e-3f);
        c.forget_epochs = ep;
        c.pair = ms[k] == LT_LLM_IDKPO ? &x.f : NULL;
        lt_llm_report rep;
        LT_CHECK(lt_llm_unlearn(x.m, &ep[0], &x.r, &c, &rep) == LT_OK &&
                 rep.steps == 6, "%s: %s (%lld steps)", lt_llm_method_name(
                 ms[k]), lt_last_error(), (long long)rep.steps);
        c.pair = NULL;
        if (ms[k] == LT_LLM_IDKPO)
            LT_CHECK(lt_llm_unlearn(x.m, &ep[0], &x.r, &c, &rep) ==
                     LT_ERR_ARG, "idkpo without its pair is refused");
    }
    for (int e = 0; e < 3; e++)
        lt_lm_data_free(&ep[e]);
    fx_close(&x);
}

LT_TEST(masked_weights_do_not_move)
{
    fixture x;
    fx_open(&x);
    int64_t n = x.m->params.n_train;
    float *start = malloc((size_t)n * 4), *mk = malloc((size_t)n * 4);
    memcpy(start, x.m->params.theta, (size_t)n * 4);
    lt_llm_unlearn_cfg c = quick_cfg(LT_LLM_GRADDIFF, 1e-3f);
    lt_llm_mask_parse("snip:0.3", &c.mask);
    /* the run's g_r: as many retain examples as forget ones (WAGLE) */
    lt_llm_mask_opts o = {c.mask, c.mu, x.f.n, c.batch, 0, c.seed};
    lt_llm_mask_compute(x.m, &x.f, &x.r, &o, mk, NULL);
    lt_llm_report rep;
    /* default, WAGLE's trainer: masked weights get zero gradients but the
     * optimizer (AdamW, decoupled decay) still decays them: each ends at
     * start x the same product of (1 - lr_t wd) */
    LT_CHECK(lt_llm_unlearn(x.m, &x.f, &x.r, &c, &rep) == LT_OK, "run: %s",
             lt_last_error());
    double factor = NAN;
    int64_t off = 0;
    for (int64_t i = 0; i < n; i++) {
        if (mk[i] != 0 || fabsf(start[i]) < 1e-3f)
            continue;
        double f = (double)x.m->params.theta[i] / start[i];
        if (isnan(factor))
            factor = f;
        off += fabs(f - factor) > 1e-5;
    }
    LT_CHECK(factor < 1 && factor > 0.99 && off == 0, "masked weights only "
             "decay: factor %.9f, %lld off it", factor, (long long)off);
    memcpy(x.m->params.theta, start, (size_t)n * 4);
    c.mask_freeze = true; /* Lethe's exact freeze */
    LT_CHECK(lt_llm_unlearn(x.m, &x.f, &x.r, &c, &rep) == LT_OK, "run: %s",
             lt_last_error());
    int64_t frozen_moved = 0, moved = 0, on = 0;
    for (int64_t i = 0; i < n; i++) {
        bool same = !memcmp(&start[i], &x.m->params.theta[i], 4);
        on += mk[i] == 1;
        frozen_moved += mk[i] == 0 && !same;
        moved += mk[i] == 1 && !same;
    }
    LT_CHECK(frozen_moved == 0, "%lld frozen weights moved",
             (long long)frozen_moved);
    LT_CHECK(moved > on / 2, "trained weights moved: %lld of %lld",
             (long long)moved, (long long)on);
    LT_CHECK(rep.mask_kept == (double)on / (double)n && rep.steps == 6,
             "report: kept %g, %lld steps", rep.mask_kept,
             (long long)rep.steps);
    /* rmu trains only down_proj of its layers */
    memcpy(start, x.m->params.theta, (size_t)n * 4);
    c = quick_cfg(LT_LLM_RMU, 1e-3f);
    c.loss.rmu_layer = 2;
    LT_CHECK(lt_llm_unlearn(x.m, &x.f, &x.r, &c, &rep) == LT_OK, "rmu: %s",
             lt_last_error());
    lt_llm_rmu_mask(x.m, 2, mk);
    frozen_moved = moved = 0;
    for (int64_t i = 0; i < n; i++) {
        bool same = !memcmp(&start[i], &x.m->params.theta[i], 4);
        frozen_moved += mk[i] == 0 && !same;
        moved += mk[i] == 1 && !same;
    }
    LT_CHECK(frozen_moved == 0 && moved > 0, "rmu: %lld frozen moved, %lld "
             "moved", (long long)frozen_moved, (long long)moved);
    free(start);
    free(mk);
    fx_close(&x);
}

/* Captures the weights when the progress event of step `step` arrives. */
typedef struct {
    lt_llama *m;
    int64_t step;
    float *theta;
    bool taken;
} snap_at;

static void snap_progress(void *ud, const lt_llm_event *ev)
{
    snap_at *s = ud;
    if (ev->step == s->step) {
        memcpy(s->theta, s->m->params.theta,
               (size_t)s->m->params.n_total * 4);
        s->taken = true;
    }
}

LT_TEST(divergence_restores_the_snapshot)
{
    fixture x;
    fx_open(&x);
    int64_t n = x.m->params.n_total;
    float *start = malloc((size_t)n * 4);
    memcpy(start, x.m->params.theta, (size_t)n * 4);
    /* at once: |loss| above a tiny max_loss -> the start */
    lt_llm_unlearn_cfg c = quick_cfg(LT_LLM_GA, 1e-3f);
    c.max_loss = 1e-3;
    lt_llm_report rep;
    LT_CHECK(lt_llm_unlearn(x.m, &x.f, NULL, &c, &rep) == LT_ERR_NAN,
             "diverges");
    LT_CHECK(strstr(lt_last_error(), "epoch 1, step 1") &&
                 strstr(lt_last_error(), "the start"),
             "message: %s", lt_last_error());
    LT_CHECK(rep.diverged && rep.restored_epoch == 0 && rep.epochs_done == 0,
             "report");
    LT_CHECK(!memcmp(start, x.m->params.theta, (size_t)n * 4),
             "weights are the start's");
    /* later: ga at a huge lr passes max_loss after epoch 1 */
    c = quick_cfg(LT_LLM_GA, 0.5f);
    c.batch = NF; /* one step per epoch */
    c.epochs = 8;
    c.max_loss = 30;
    LT_CHECK(lt_llm_unlearn(x.m, &x.f, NULL, &c, &rep) == LT_ERR_NAN,
             "diverges later");
    LT_CHECK(rep.diverged && rep.restored_epoch >= 1 &&
                 rep.restored_epoch == rep.epochs_done,
             "restored to epoch %d", rep.restored_epoch);
    float *after = malloc((size_t)n * 4);
    memcpy(after, x.m->params.theta, (size_t)n * 4);
    memcpy(x.m->params.theta, start, (size_t)n * 4);
    /* the same run without the limit, weights captured after the last good
     * epoch's step (one step per epoch; the schedule is the same) */
    snap_at sa = {x.m, rep.restored_epoch, malloc((size_t)n * 4), false};
    c.max_loss = 1e30;
    c.progress = snap_progress;
    c.ud = &sa;
    lt_llm_report r2;
    lt_llm_unlearn(x.m, &x.f, NULL, &c, &r2);
    LT_CHECK(sa.taken && !memcmp(after, sa.theta, (size_t)n * 4),
             "restored weights are those after epoch %d", rep.restored_epoch);
    free(sa.theta);
    free(after);
    free(start);
    fx_close(&x);
}

LT_TEST(short_runs_raise_the_forget_nll)
{
    fixture x;
    fx_open(&x);
    lt_llama *base = lt_llama_clone(x.m);
    double nll[16], before = score(x.m, &x.f, nll, NULL);
    const char *optims[3] = {"adamw", "sophia", "sophia-soul"};
    lt_llm_method ms[3] = {LT_LLM_NPO_GD, LT_LLM_SIMNPO, LT_LLM_GRADDIFF};
    for (int k = 0; k < 3; k++) {
        memcpy(x.m->params.theta, base->params.theta,
               (size_t)x.m->params.n_total * 4);
        lt_llm_unlearn_cfg c = quick_cfg(ms[k], k ? 3e-3f : 3e-3f);
        lt_optim_parse(optims[k], &c.optim);
        c.optim.lr = 3e-3f;
        c.optim.hessian_interval = 1;
        lt_llm_report rep;
        LT_CHECK(lt_llm_unlearn(x.m, &x.f, &x.r, &c, &rep) == LT_OK,
                 "%s/%s: %s", lt_llm_method_name(ms[k]), optims[k],
                 lt_last_error());
        double after = score(x.m, &x.f, nll, NULL);
        LT_CHECK(after > before + 0.5, "%s/%s: forget NLL %.3f -> %.3f",
                 lt_llm_method_name(ms[k]), optims[k], before, after);
        LT_CHECK(isfinite(rep.first_loss) && isfinite(rep.last_loss) &&
                     !rep.diverged, "report");
    }
    lt_llama_free(base);
    fx_close(&x);
}

LT_TEST(bad_arguments)
{
    fixture x;
    fx_open(&x);
    lt_llm_unlearn_cfg c = quick_cfg(LT_LLM_GRADDIFF, 1e-3f);
    LT_CHECK(lt_llm_unlearn(x.m, &x.f, NULL, &c, NULL) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "retain"), "graddiff needs retain");
    c.batch = 0;
    LT_CHECK(lt_llm_unlearn(x.m, &x.f, &x.r, &c, NULL) == LT_ERR_ARG,
             "batch 0");
    lt_llm_loss_cfg l = lt_llm_loss_defaults(LT_LLM_NPO);
    lt_llm_batch fb = {0};
    all_batch(&fb, &x.f);
    lt_tensor *loss;
    lt_ctx *ctx = lt_ctx_new((size_t)16 << 20);
    LT_CHECK(lt_llm_step_loss(ctx, x.m, NULL, &l, &fb, NULL, &loss, NULL) ==
                 LT_ERR_ARG, "npo without a reference");
    lt_ctx_free(ctx);
    lt_llm_batch_free(&fb);
    fx_close(&x);
}

/* records [from, to) of qs/as as a TOFU JSON-lines file */
static void write_qa(const char *path, int from, int to)
{
    FILE *f = fopen(path, "w");
    LT_CHECK(f != NULL, "open %s", path);
    for (int i = from; f && i < to; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "question", qs[i]);
        cJSON_AddStringToObject(o, "answer", as[i]);
        char *line = cJSON_PrintUnformatted(o);
        fprintf(f, "%s\n", line);
        cJSON_free(line);
        cJSON_Delete(o);
    }
    if (f)
        fclose(f);
}

LT_TEST(run_on_files_and_its_json)
{
    fixture x;
    fx_open(&x);
    char dir[] = "/tmp/lethe_llmrun_XXXXXX", fpath[256], rpath[256],
         jpath[256], none[256];
    LT_CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(fpath, sizeof fpath, "%s/forget.json", dir);
    snprintf(rpath, sizeof rpath, "%s/retain.json", dir);
    snprintf(jpath, sizeof jpath, "%s/run.json", dir);
    snprintf(none, sizeof none, "%s/none.json", dir);
    write_qa(fpath, 0, NF);
    write_qa(rpath, NF, 8);
    lt_llm_unlearn_cfg c = quick_cfg(LT_LLM_REFUSAL, 1e-4f);
    lt_llm_unlearn_data d;
    LT_CHECK(lt_llm_unlearn_data_load(x.tok, fpath, NULL, 64, &c, &d) ==
                 LT_OK && d.forget.n == NF && d.refusal.n == NF &&
                 !d.have_retain && d.retain.n == 0, "forget only: %s",
             lt_last_error());
    lt_llm_unlearn_data_free(&d);
    LT_CHECK(lt_llm_unlearn_data_load(x.tok, fpath, none, 64, &c, &d) !=
                 LT_OK && strstr(lt_last_error(), "none.json"),
             "missing retain file: %s", lt_last_error());
    lt_llm_unlearn_data_free(&d);
    c = quick_cfg(LT_LLM_GRADDIFF, 1e-4f);
    c.epochs = 1;
    c.mask = (lt_llm_mask_spec){LT_LLM_MASK_WAGLE, 0.5};
    LT_CHECK(lt_llm_unlearn_data_load(x.tok, fpath, rpath, 64, &c, &d) ==
                 LT_OK && d.have_retain && d.retain.n == 8 - NF &&
                 d.refusal.n == 0, "with retain: %s", lt_last_error());
    lt_llm_report rep;
    LT_CHECK(lt_llm_unlearn_run(x.m, &d, &c, &rep) == LT_OK &&
                 rep.steps == 2 && fabs(rep.mask_kept - 0.5) < 0.01,
             "run: %s", lt_last_error());
    lt_llm_run_info info = {"lethe lm unlearn", "m.safetensors", fpath, NULL,
                            "u.safetensors", "adamw"};
    LT_CHECK(lt_llm_unlearn_write_json(&c, &rep, &info, jpath) == LT_OK,
             "json: %s", lt_last_error());
    char *text = NULL;
    size_t len = 0;
    LT_CHECK(lt_read_file(jpath, &text, &len) == LT_OK, "read back");
    cJSON *j = text ? cJSON_Parse(text) : NULL,
          *o = cJSON_GetObjectItem(j, "options");
    LT_CHECK(!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(j, "method")),
                     "graddiff") &&
                 !cJSON_GetObjectItem(j, "retain") &&
                 !cJSON_GetObjectItem(j, "rmu_coeff_used") &&
                 cJSON_GetNumberValue(cJSON_GetObjectItem(j, "steps")) == 2 &&
                 cJSON_GetNumberValue(cJSON_GetObjectItem(o, "lr")) == 1e-4 &&
                 !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(o, "mask")),
                         "wagle:0.5"),
             "json document: %s", text ? text : "(none)");
    cJSON_Delete(j);
    free(text);
    lt_llm_unlearn_data_free(&d);
    remove(fpath);
    remove(rpath);
    remove(jpath);
    rmdir(dir);
    fx_close(&x);
}

LT_TEST_MAIN()
