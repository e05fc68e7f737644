/*
 * test_lm_mia.c - the language-model membership-inference attacks of
 * lethe/muse.h: LOSS, zlib, Min-K% and Min-K%++ on hand-built log-prob
 * arrays and a tiny vocabulary distribution (hand and PyTorch values), the
 * Mann-Whitney AUC with ties, zlib lengths equal to compress2's, and
 * batched scoring of texts on a tiny model equal to per-text scoring from
 * lt_llama_token_logprobs and the full logits.
 */
#include "lethe/muse.h"
#include "lt_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define NEAR(a, b, tol) (fabs((double)(a) - (double)(b)) <= (tol))

LT_TEST(loss_is_mean_nll)
{
    const float lp[4] = {-1.0f, -2.0f, -3.0f, -0.5f};
    LT_CHECK(NEAR(lt_mia_loss(lp, 4), 1.625, 1e-12), "loss %g",
             lt_mia_loss(lp, 4));
    LT_CHECK(isnan(lt_mia_loss(lp, 0)), "empty loss is NaN");
    /* zlib ratio = mean NLL / compressed length */
    LT_CHECK(NEAR(lt_mia_zlib(lp, 4, 20), 1.625 / 20, 1e-12), "zlib %g",
             lt_mia_zlib(lp, 4, 20));
}

LT_TEST(min_k_takes_the_lowest_floor_kn)
{
    const float x[5] = {-1.0f, -2.0f, -3.0f, -0.5f, -4.0f};
    /* 40% of 5 = 2 lowest: -4, -3 */
    LT_CHECK(NEAR(lt_mia_min_k(x, 5, 0.4), -3.5, 1e-12), "min-40%% %g",
             lt_mia_min_k(x, 5, 0.4));
    /* 10% of 5 = 0.5 -> floor 0 -> at least 1 */
    LT_CHECK(NEAR(lt_mia_min_k(x, 5, 0.1), -4.0, 1e-12), "min-10%%");
    LT_CHECK(NEAR(lt_mia_min_k(x, 5, 1.0), -2.1, 1e-12), "min-100%%");
    /* 60% of 5 = 3: -4, -3, -2 */
    LT_CHECK(NEAR(lt_mia_min_k(x, 5, 0.6), -3.0, 1e-12), "min-60%%");
    LT_CHECK(x[0] == -1.0f && x[4] == -4.0f, "input left unsorted");
    LT_CHECK(isnan(lt_mia_min_k(x, 5, 0.0)) && isnan(lt_mia_min_k(x, 0, 0.4)),
             "k = 0 or n = 0 is NaN");
}

LT_TEST(min_k_pp_token_by_hand)
{
    /* p = (1/2, 1/4, 1/4): log p = (-l, -2l, -2l), l = ln 2;
     * mu = -1.5 l, var = 0.25 l^2, sigma = 0.5 l:
     * z(0) = (-l + 1.5 l) / 0.5 l = 1, z(1) = z(2) = -1. A constant
     * shift of the logits changes nothing. */
    const float lg[3] = {(float)log(0.5) + 3, (float)log(0.25) + 3,
                         (float)log(0.25) + 3};
    LT_CHECK(NEAR(lt_mia_minkpp_token(lg, 3, 0), 1.0, 1e-5), "z0 %g",
             lt_mia_minkpp_token(lg, 3, 0));
    LT_CHECK(NEAR(lt_mia_minkpp_token(lg, 3, 2), -1.0, 1e-5), "z2 %g",
             lt_mia_minkpp_token(lg, 3, 2));
    /* PyTorch (float64), the official formula: logits (1, 2, 0.5, -1),
     * target 2 -> -1.3425488325412087 */
    const float l4[4] = {1.0f, 2.0f, 0.5f, -1.0f};
    LT_CHECK(NEAR(lt_mia_minkpp_token(l4, 4, 2), -1.3425488325412087, 1e-6),
             "z %.10f", lt_mia_minkpp_token(l4, 4, 2));
    /* uniform: sigma = 0 -> 0 */
    const float u[4] = {0.7f, 0.7f, 0.7f, 0.7f};
    LT_CHECK(lt_mia_minkpp_token(u, 4, 1) == 0.0, "uniform z");
    LT_CHECK(isnan(lt_mia_minkpp_token(u, 4, 4)), "target out of range");
}

LT_TEST(member_scores_are_oriented)
{
    lt_mia_seq s = {.loss = 2.0, .zlib = 0.1, .min_k = -3.0,
                    .min_k_pp = -0.5, .n_tokens = 7};
    LT_CHECK(lt_mia_member_score(&s, LT_MIA_LOSS) == -2.0 &&
             lt_mia_member_score(&s, LT_MIA_ZLIB) == -0.1 &&
             lt_mia_member_score(&s, LT_MIA_MINK) == -3.0 &&
             lt_mia_member_score(&s, LT_MIA_MINKPP) == -0.5, "orientation");
    LT_CHECK(!strcmp(lt_mia_name(LT_MIA_MINKPP), "min_k++") &&
             !strcmp(lt_mia_name(LT_MIA_LOSS), "loss"), "names");
}

LT_TEST(auc_mann_whitney_with_ties)
{
    /* pairs: 3 beats all 3; each 2 ties one and beats two (2.5); 1 ties
     * one and beats one (1.5): 9.5 / 12 */
    const double m[4] = {3, 2, 2, 1}, n[3] = {2, 1, 0};
    LT_CHECK(NEAR(lt_auc(m, 4, n, 3), 9.5 / 12, 1e-12), "auc %g",
             lt_auc(m, 4, n, 3));
    /* swapping the roles gives 1 - auc */
    LT_CHECK(NEAR(lt_auc(n, 3, m, 4), 2.5 / 12, 1e-12), "swapped %g",
             lt_auc(n, 3, m, 4));
    const double a[2] = {5, 6}, b[3] = {1, 2, 3}, c[2] = {1, 1};
    LT_CHECK(lt_auc(a, 2, b, 3) == 1.0 && lt_auc(b, 3, a, 2) == 0.0,
             "separable");
    LT_CHECK(lt_auc(c, 2, c, 1) == 0.5, "all tied");
    LT_CHECK(isnan(lt_auc(a, 0, b, 3)) && isnan(lt_auc(a, 2, b, 0)),
             "empty side");
}

LT_TEST(zlib_length_is_compress2s)
{
    const char *texts[3] = {"hello hello hello hello",
                            "A is for Apple.\n\t\t-- Hester Pryne", ""};
    /* Python: len(zlib.compress(text)) = 16 and 41 for the first two */
    const size_t py[2] = {16, 41};
    for (int i = 0; i < 3; i++) {
        size_t got = 0, len = strlen(texts[i]);
        uLongf n = compressBound((uLong)len);
        Bytef *buf = malloc(n);
        LT_CHECK(buf && compress2(buf, &n, (const Bytef *)texts[i], (uLong)len,
                                  Z_DEFAULT_COMPRESSION) == Z_OK, "compress2");
        LT_CHECK(lt_zlib_len(texts[i], len, &got) == LT_OK && got == n,
                 "text %d: %zu vs compress2 %lu", i, got, (unsigned long)n);
        LT_CHECK(i == 2 || got == py[i], "text %d: %zu vs Python %zu", i, got,
                 py[i < 2 ? i : 0]);
        free(buf);
    }
}

/* ---- scoring texts with a tiny model ----------------------------------------- */

static const char *const corpus[6] = {
    "The cat sat on the mat and looked at the moon.",
    "A rolling stone gathers no moss, said the old man.",
    "Time flies like an arrow; fruit flies like a banana.",
    "To be or not to be, that is the question.",
    "All that glitters is not gold.",
    "The quick brown fox jumps over the lazy dog again and again."};

static lt_tokenizer *tiny_tok(void)
{
    const char *sp[] = {"<|endoftext|>"};
    lt_tokenizer_train_opts o = {300, 2, sp, 1};
    lt_tokenizer *t = NULL;
    LT_CHECK(lt_tokenizer_train(corpus, NULL, 6, &o, &t) == LT_OK,
             "tokenizer: %s", lt_last_error());
    return t;
}

static lt_llama *tiny_llama(const lt_tokenizer *t, uint64_t seed)
{
    lt_llama_config c = {.vocab_size = lt_tokenizer_vocab_size(t),
                         .hidden_size = 32, .n_layers = 2, .n_heads = 2,
                         .n_kv_heads = 2, .head_dim = 16,
                         .intermediate_size = 64, .rms_norm_eps = 1e-6,
                         .rope_theta = 10000, .max_position_embeddings = 64,
                         .bos_token_id = 0, .eos_token_id = 0};
    lt_llama *m = NULL;
    LT_CHECK(lt_llama_create(&c, &m) == LT_OK, "create: %s", lt_last_error());
    if (m)
        lt_llama_init(m, seed);
    return m;
}

static lt_text_set corpus_set(int first, int n)
{
    lt_text_set s = {0};
    for (int i = first; i < first + n; i++)
        LT_CHECK(lt_text_set_push(&s, corpus[i], strlen(corpus[i])) == LT_OK,
                 "push");
    return s;
}

/* The statistics of text i computed one text at a time: token log-probs
 * from lt_llama_token_logprobs, z-scores from the full logits. */
static void reference_stats(lt_llama *m, const lt_tokenizer *t,
                            const char *text, double k, lt_mia_seq *out)
{
    int32_t *tok = NULL;
    size_t n = 0;
    LT_CHECK(lt_tokenizer_encode(t, text, strlen(text), &tok, &n) == LT_OK,
             "encode");
    int64_t T = (int64_t)n + 1, V = m->cfg.vocab_size;
    int32_t *ids = malloc((size_t)T * sizeof *ids);
    float *lp = malloc((size_t)T * sizeof *lp), *z = malloc((size_t)T * 4);
    ids[0] = lt_tokenizer_start_id(t);
    memcpy(ids + 1, tok, n * sizeof *tok);
    lt_ctx *c = lt_ctx_new(lt_llama_arena_bytes(&m->cfg, 1, T, false) * 2);
    lt_set_grad_enabled(c, false);
    LT_CHECK(lt_llama_token_logprobs(c, m, ids, 1, T, NULL, lp) == LT_OK,
             "logprobs: %s", lt_last_error());
    lt_ctx_reset(c);
    lt_tensor *lg = lt_llama_forward(c, m, ids, 1, T);
    LT_CHECK_OK(lg);
    for (int64_t i = 0; lg && i + 1 < T; i++)
        z[i] = (float)lt_mia_minkpp_token(lg->data + i * V, V, ids[i + 1]);
    size_t zl = 0;
    LT_CHECK(lt_zlib_len(text, strlen(text), &zl) == LT_OK, "zlib");
    out->loss = lt_mia_loss(lp, T - 1);
    out->zlib = lt_mia_zlib(lp, T - 1, zl);
    out->min_k = lt_mia_min_k(lp, T - 1, k);
    out->min_k_pp = lt_mia_min_k(z, T - 1, k);
    out->n_tokens = T - 1;
    lt_ctx_free(c);
    free(ids);
    free(lp);
    free(z);
    free(tok);
}

LT_TEST(batched_scores_equal_per_text_scores)
{
    lt_tokenizer *t = tiny_tok();
    lt_llama *m = t ? tiny_llama(t, 5) : NULL;
    if (!m) {
        lt_tokenizer_free(t);
        return;
    }
    lt_text_set s = corpus_set(0, 6);
    lt_mia_seq b1[6], b4[6];
    LT_CHECK(lt_mia_score_texts(m, t, &s, 0.4, 1, b1) == LT_OK, "score: %s",
             lt_last_error());
    LT_CHECK(lt_mia_score_texts(m, t, &s, 0.4, 4, b4) == LT_OK, "score: %s",
             lt_last_error());
    for (int i = 0; i < 6; i++) {
        lt_mia_seq r;
        reference_stats(m, t, corpus[i], 0.4, &r);
        const lt_mia_seq *g[2] = {&b1[i], &b4[i]};
        for (int j = 0; j < 2; j++) {
            LT_CHECK(g[j]->n_tokens == r.n_tokens, "text %d tokens", i);
            LT_CHECK(NEAR(g[j]->loss, r.loss, 1e-4) &&
                     NEAR(g[j]->zlib, r.zlib, 1e-6) &&
                     NEAR(g[j]->min_k, r.min_k, 1e-4) &&
                     NEAR(g[j]->min_k_pp, r.min_k_pp, 1e-4),
                     "text %d batch %d: loss %g/%g zlib %g/%g min-k %g/%g "
                     "min-k++ %g/%g", i, j ? 4 : 1, g[j]->loss, r.loss,
                     g[j]->zlib, r.zlib, g[j]->min_k, r.min_k, g[j]->min_k_pp,
                     r.min_k_pp);
        }
        /* a random model: the NLL is near log V */
        LT_CHECK(r.loss > 0.5 * log(300.0) && r.loss < 2 * log(300.0),
                 "text %d loss %g", i, r.loss);
    }
    /* AUCs from the scores */
    lt_text_set a = corpus_set(0, 3), b = corpus_set(3, 3);
    double auc[LT_MIA_N];
    LT_CHECK(lt_mia_aucs(m, t, &a, &b, 0.4, 2, auc) == LT_OK, "aucs: %s",
             lt_last_error());
    for (int k = 0; k < LT_MIA_N; k++) {
        double xm[3], xn[3];
        for (int i = 0; i < 3; i++) {
            xm[i] = lt_mia_member_score(&b1[i], (lt_mia_kind)k);
            xn[i] = lt_mia_member_score(&b1[i + 3], (lt_mia_kind)k);
        }
        LT_CHECK(NEAR(auc[k], lt_auc(xm, 3, xn, 3), 1e-12), "auc %s",
                 lt_mia_name((lt_mia_kind)k));
    }
    lt_text_set_free(&s);
    lt_text_set_free(&a);
    lt_text_set_free(&b);
    lt_llama_free(m);
    lt_tokenizer_free(t);
}

LT_TEST(score_errors)
{
    lt_tokenizer *t = tiny_tok();
    lt_llama *m = t ? tiny_llama(t, 5) : NULL;
    lt_text_set s = corpus_set(0, 1);
    lt_mia_seq o[1];
    LT_CHECK(lt_mia_score_texts(m, t, &s, 0.0, 1, o) == LT_ERR_ARG, "k = 0");
    LT_CHECK(lt_mia_score_texts(m, t, &s, 0.4, 0, o) == LT_ERR_ARG,
             "batch 0");
    LT_CHECK(lt_mia_score_texts(NULL, t, &s, 0.4, 1, o) == LT_ERR_ARG,
             "no model");
    lt_text_set_free(&s);
    lt_llama_free(m);
    lt_tokenizer_free(t);
}

LT_TEST_MAIN()
