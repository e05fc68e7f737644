/*
 * test_tofu_eval.c - TOFU evaluation: the truth-ratio / probability
 * arithmetic on hand-built NLLs, model utility, a split evaluated on a tiny
 * model checked against lt_lm_score and lt_lm_answer item by item, the JSON
 * round trip of the forget truth ratios, the evaluation's JSON (the
 * precision and backend of the run, the truth ratios read back), and the
 * WordNet real-authors set.
 */
#include "lt_test.h"
#include "lethe/lm.h"
#include "lethe/rouge.h"
#include "lethe/stats.h"
#include "lethe/tofu_eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool close_rel(double got, double want, double rtol)
{
    return fabs(got - want) <= rtol * fabs(want) + 1e-15;
}

LT_TEST(truth_ratio_and_probability_arithmetic)
{
    double p1[2] = {2.0, 3.0};
    /* R = exp(mean(2, 3) - 1) = e^1.5 */
    LT_CHECK(close_rel(lt_tofu_truth_ratio(1.0, p1, 2), exp(1.5), 1e-15),
             "R %.17g", lt_tofu_truth_ratio(1.0, p1, 2));
    /* normalised: e^-1 / (e^-1 + e^-2 + e^-3) */
    double want = exp(-1.0) / (exp(-1.0) + exp(-2.0) + exp(-3.0));
    LT_CHECK(close_rel(lt_tofu_normalized_prob(1.0, p1, 2), want, 1e-15),
             "normalised prob %.17g want %.17g",
             lt_tofu_normalized_prob(1.0, p1, 2), want);
    double tr[3] = {exp(1.5), exp(-0.5), 1.0};
    double f = (exp(-1.5) + exp(-0.5) + 1.0) / 3.0;
    double r = (1.0 - exp(-1.5)) / 3.0;
    LT_CHECK(close_rel(lt_tofu_truth_ratio_stat(tr, 3, true), f, 1e-15),
             "forget stat %.17g want %.17g",
             lt_tofu_truth_ratio_stat(tr, 3, true), f);
    LT_CHECK(close_rel(lt_tofu_truth_ratio_stat(tr, 3, false), r, 1e-15),
             "retain stat %.17g want %.17g",
             lt_tofu_truth_ratio_stat(tr, 3, false), r);
    LT_CHECK(isnan(lt_tofu_truth_ratio(1.0, p1, 0)), "k 0 -> NaN");
}

/* Two items, 2 and 3 perturbed answers, filled by hand. */
static void hand_split(lt_tofu_split_eval *e, int kind)
{
    LT_CHECK(lt_tofu_split_alloc(e, kind, 2, 5) == LT_OK, "%s",
             lt_last_error());
    double pert[5] = {2.0, 3.0, 0.5, 1.0, 1.5};
    e->gt_nll[0] = 1.0;
    e->gt_nll[1] = 0.25;
    e->base_nll[0] = kind == LT_TOFU_UTILITY ? 1.0 : 1.5;
    e->base_nll[1] = kind == LT_TOFU_UTILITY ? 0.25 : 2.0;
    e->pert_off[0] = 0;
    e->pert_off[1] = 2;
    e->pert_off[2] = 5;
    memcpy(e->pert_nll, pert, sizeof pert);
    e->rouge[0] = 0.5;
    e->rouge[1] = 1.0;
    LT_CHECK(lt_tofu_split_finish(e) == LT_OK, "%s", lt_last_error());
}

LT_TEST(split_aggregates_from_nll_arrays)
{
    lt_tofu_split_eval f, u;
    hand_split(&f, LT_TOFU_FORGET);
    /* R0 = exp(2.5 - 1.5) = e, R1 = exp(1 - 2) = 1/e: both give 1/e. */
    LT_CHECK(close_rel(f.truth_ratio[0], exp(1.0), 1e-15) &&
             close_rel(f.truth_ratio[1], exp(-1.0), 1e-15), "R %g %g",
             f.truth_ratio[0], f.truth_ratio[1]);
    LT_CHECK(close_rel(f.truth_ratio_stat, exp(-1.0), 1e-15), "stat %.17g",
             f.truth_ratio_stat);
    LT_CHECK(close_rel(f.prob_mean, (exp(-1.0) + exp(-0.25)) / 2, 1e-15),
             "prob %.17g", f.prob_mean);
    LT_CHECK(f.rouge_mean == 0.75, "rouge %g", f.rouge_mean);
    hand_split(&u, LT_TOFU_UTILITY);
    double p0 = exp(-1.0) / (exp(-1.0) + exp(-2.0) + exp(-3.0));
    double p1 = exp(-0.25) / (exp(-0.25) + exp(-0.5) + exp(-1.0) +
                              exp(-1.5));
    LT_CHECK(close_rel(u.prob_mean, (p0 + p1) / 2, 1e-14), "norm prob %.17g "
             "want %.17g", u.prob_mean, (p0 + p1) / 2);
    /* R0 = exp(2.5 - 1) = e^1.5, R1 = exp(1 - 0.25) = e^0.75 */
    double st = (1 - exp(-1.5) + 1 - exp(-0.75)) / 2;
    LT_CHECK(close_rel(u.truth_ratio_stat, st, 1e-14), "utility stat %.17g",
             u.truth_ratio_stat);
    /* model utility = hmean of the 9 numbers (u three times) */
    double v[9] = {u.prob_mean, 0.75, st, u.prob_mean, 0.75, st,
                   u.prob_mean, 0.75, st};
    double mu = lt_tofu_model_utility(&u, &u, &u);
    LT_CHECK(close_rel(mu, lt_harmonic_mean(v, 9), 1e-15) &&
             close_rel(mu, 3.0 / (1 / u.prob_mean + 1 / 0.75 + 1 / st),
                       1e-14), "model utility %.17g", mu);
    u.rouge_mean = 0.0;
    LT_CHECK(lt_tofu_model_utility(&f, &u, &u) == 0.0, "a zero -> 0");
    lt_tofu_split_eval_free(&f);
    lt_tofu_split_eval_free(&u);
}

/* ---- with a tiny model --------------------------------------------------- */

static lt_tokenizer *tiny_tokenizer(const lt_tofu_set *s)
{
    const char *sp[] = {"<|endoftext|>"};
    lt_tokenizer_train_opts o = {400, 2, sp, 1};
    lt_tokenizer *t = NULL;
    LT_CHECK(lt_lm_tokenizer_for_qa(s, &o, &t) == LT_OK, "tokenizer: %s",
             lt_last_error());
    return t;
}

static lt_llama *tiny_model(const lt_tokenizer *t)
{
    lt_llama_config c = {.vocab_size = lt_tokenizer_vocab_size(t),
                         .hidden_size = 32, .n_layers = 2, .n_heads = 2,
                         .n_kv_heads = 2, .head_dim = 16,
                         .intermediate_size = 64, .rms_norm_eps = 1e-6,
                         .rope_theta = 10000, .max_position_embeddings = 192,
                         .bos_token_id = 0, .eos_token_id = 0};
    lt_llama *m = NULL;
    LT_CHECK(lt_llama_create(&c, &m) == LT_OK, "create: %s", lt_last_error());
    if (m)
        lt_llama_init(m, 7);
    return m;
}

/* The mean token NLL of one QA pair scored alone. */
static double alone_nll(lt_llama *m, const lt_tokenizer *t, const char *q,
                        const char *a)
{
    lt_lm_data d = {0};
    double nll = NAN;
    int32_t cnt = 0;
    LT_CHECK(lt_lm_data_add_qa(&d, t, q, a, 0) == LT_OK &&
             lt_lm_score(m, &d, 1, 0, &nll, &cnt) == LT_OK, "%s",
             lt_last_error());
    lt_lm_data_free(&d);
    return nll / cnt;
}

static void check_items(lt_llama *m, const lt_tokenizer *t,
                        const lt_tofu_set *s, const lt_tofu_split_eval *e,
                        int64_t max_new)
{
    lt_llama_gen_opts g = lt_llama_gen_defaults(m);
    g.max_new_tokens = max_new;
    g.eos_id = lt_tokenizer_special_id(t, LT_TOK_EOS);
    for (int64_t i = 0; i < e->n; i++) {
        const lt_tofu_qa *q = &s->qa[i];
        double gt = alone_nll(m, t, q->question, q->answer);
        LT_CHECK(close_rel(e->gt_nll[i], gt, 1e-5), "item %lld gt %.9g vs "
                 "alone %.9g", (long long)i, e->gt_nll[i], gt);
        const char *base = e->kind == LT_TOFU_UTILITY ? q->answer
                                                      : q->paraphrased_answer;
        double b = alone_nll(m, t, q->question, base);
        LT_CHECK(close_rel(e->base_nll[i], b, 1e-5), "item %lld base",
                 (long long)i);
        double sum = 0, all = exp(-e->gt_nll[i]);
        for (int k = 0; k < q->n_perturbed; k++) {
            double p = alone_nll(m, t, q->question, q->perturbed_answer[k]);
            LT_CHECK(close_rel(e->pert_nll[e->pert_off[i] + k], p, 1e-5),
                     "item %lld perturbed %d", (long long)i, k);
            sum += e->pert_nll[e->pert_off[i] + k];
            all += exp(-e->pert_nll[e->pert_off[i] + k]);
        }
        double want = e->kind == LT_TOFU_UTILITY ? exp(-e->gt_nll[i]) / all
                                                 : exp(-e->gt_nll[i]);
        LT_CHECK(close_rel(e->prob[i], want, 1e-14), "item %lld prob",
                 (long long)i);
        LT_CHECK(close_rel(e->truth_ratio[i],
                           exp(sum / q->n_perturbed - e->base_nll[i]), 1e-14),
                 "item %lld truth ratio", (long long)i);
        char *ans = NULL;
        LT_CHECK(lt_lm_answer(m, t, q->question, &g, &ans) == LT_OK, "%s",
                 lt_last_error());
        LT_CHECK(ans && e->generated[i] && !strcmp(ans, e->generated[i]),
                 "item %lld greedy '%s' vs lt_lm_answer '%s'", (long long)i,
                 e->generated[i] ? e->generated[i] : "(null)",
                 ans ? ans : "(null)");
        LT_CHECK(e->rouge[i] == lt_rouge_l(e->generated[i], q->answer,
                                           true).recall, "item %lld rouge",
                 (long long)i);
        free(ans);
    }
}

LT_TEST(split_on_a_tiny_model_matches_score_and_answer)
{
    lt_tofu_set s;
    LT_CHECK(lt_tofu_synth_set(2, 3, &s) == LT_OK, "%s", lt_last_error());
    lt_tokenizer *t = tiny_tokenizer(&s);
    lt_llama *m = t ? tiny_model(t) : NULL;
    if (!m) {
        lt_tokenizer_free(t);
        lt_tofu_free(&s);
        return;
    }
    lt_tofu_eval_opts o = lt_tofu_eval_defaults();
    o.max_items = 5;
    o.max_new_tokens = 10;
    o.batch = 3;
    o.threads = 2;
    lt_tofu_split_eval f, u, f1;
    LT_CHECK(lt_tofu_eval_split(m, t, &s, LT_TOFU_FORGET, &o, &f) == LT_OK,
             "%s", lt_last_error());
    LT_CHECK(f.n == 5 && f.pert_off[5] == 5 * LT_TOFU_N_PERTURBED, "n %lld",
             (long long)f.n);
    check_items(m, t, &s, &f, 10);
    double stat = 0;
    for (int i = 0; i < 5; i++)
        stat += fmin(f.truth_ratio[i], 1 / f.truth_ratio[i]) / 5;
    LT_CHECK(close_rel(f.truth_ratio_stat, stat, 1e-14), "forget stat");
    LT_CHECK(lt_tofu_eval_split(m, t, &s, LT_TOFU_UTILITY, &o, &u) == LT_OK,
             "%s", lt_last_error());
    check_items(m, t, &s, &u, 10);
    /* one thread and another batch size: the same answers and numbers */
    o.threads = 1;
    o.batch = 16;
    LT_CHECK(lt_tofu_eval_split(m, t, &s, LT_TOFU_FORGET, &o, &f1) == LT_OK,
             "%s", lt_last_error());
    for (int i = 0; i < 5; i++)
        LT_CHECK(!strcmp(f.generated[i], f1.generated[i]) &&
                 close_rel(f.truth_ratio[i], f1.truth_ratio[i], 1e-5),
                 "thread/batch invariance, item %d", i);
    /* forget quality of two separated samples of 5: D 1 and scipy's exact
     * two-sided p, 2 / C(10, 5) = 2/252 (ks_2samp, method 'auto') */
    double fq, ks;
    const double lo[5] = {0.1, 0.2, 0.3, 0.4, 0.5};
    const double hi[5] = {0.6, 0.7, 0.8, 0.9, 1.0};
    LT_CHECK(lt_tofu_forget_quality(lo, 5, hi, 5, &fq, &ks) == LT_OK &&
                 fabs(fq - 2.0 / 252.0) < 1e-12 && ks == 1.0,
             "fq %.17g ks %g", fq, ks);
    lt_tofu_split_eval_free(&f);
    lt_tofu_split_eval_free(&u);
    lt_tofu_split_eval_free(&f1);
    /* a record without perturbed answers is refused, naming the record */
    lt_tofu_set bad = {0};
    LT_CHECK(lt_tofu_push(&bad, "Q?", "A.", NULL, "Para.", NULL, 0) == LT_OK,
             "push");
    LT_CHECK(lt_tofu_eval_split(m, t, &bad, LT_TOFU_RETAIN, &o, &f) ==
             LT_ERR_ARG && strstr(lt_last_error(), "record 1"), "%s",
             lt_last_error());
    lt_tofu_free(&bad);
    lt_llama_free(m);
    lt_tokenizer_free(t);
    lt_tofu_free(&s);
}

/* TOFU's generation cap (evaluate_util.py: generate(max_length=200) with
 * max_new_tokens None): prompt + answer tokens in all. With max_new_tokens
 * 0 each answer is lt_lm_answer's with max_length - prompt tokens; the
 * older short cap (LT_TOFU_GEN_SHORT, longest answer + 8) stays an option
 * and gives answers no longer than TOFU's. */
LT_TEST(generation_cap_is_tofu_max_length)
{
    lt_tofu_set s;
    LT_CHECK(lt_tofu_synth_set(2, 3, &s) == LT_OK, "%s", lt_last_error());
    lt_tokenizer *t = tiny_tokenizer(&s);
    lt_llama *m = t ? tiny_model(t) : NULL;
    if (!m) {
        lt_tokenizer_free(t);
        lt_tofu_free(&s);
        return;
    }
    lt_tofu_eval_opts o = lt_tofu_eval_defaults();
    LT_CHECK(o.max_new_tokens == 0 && o.max_length == 200, "defaults");
    o.max_items = 4;
    o.max_length = 150;
    lt_tofu_split_eval f = {0}, sh = {0};
    LT_CHECK(lt_tofu_eval_split(m, t, &s, LT_TOFU_FORGET, &o, &f) == LT_OK,
             "%s", lt_last_error());
    o.max_new_tokens = LT_TOFU_GEN_SHORT;
    LT_CHECK(lt_tofu_eval_split(m, t, &s, LT_TOFU_FORGET, &o, &sh) == LT_OK,
             "%s", lt_last_error());
    for (int64_t i = 0; i < f.n && f.generated && sh.generated; i++) {
        int32_t *p = NULL;
        size_t np = 0;
        LT_CHECK(lt_lm_prompt_ids(t, s.qa[i].question, &p, &np) == LT_OK,
                 "prompt");
        free(p);
        lt_llama_gen_opts g = lt_llama_gen_defaults(m);
        g.max_new_tokens = 150 - (int64_t)np;
        g.eos_id = lt_tokenizer_special_id(t, LT_TOK_EOS);
        char *ans = NULL;
        LT_CHECK(lt_lm_answer(m, t, s.qa[i].question, &g, &ans) == LT_OK,
                 "%s", lt_last_error());
        LT_CHECK(ans && !strcmp(ans, f.generated[i]), "item %lld: '%s' vs "
                 "lt_lm_answer '%s'", (long long)i, f.generated[i],
                 ans ? ans : "(null)");
        LT_CHECK(strlen(sh.generated[i]) <= strlen(f.generated[i]),
                 "item %lld: the short cap is a prefix's length at most",
                 (long long)i);
        free(ans);
    }
    lt_tofu_split_eval_free(&f);
    lt_tofu_split_eval_free(&sh);
    lt_llama_free(m);
    lt_tokenizer_free(t);
    lt_tofu_free(&s);
}

LT_TEST(json_round_trip_of_forget_truth_ratios)
{
    lt_tofu_split_eval f;
    hand_split(&f, LT_TOFU_FORGET);
    cJSON *root = cJSON_CreateObject(), *sp = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "splits", sp);
    /* values that cJSON's printer would round to 15 digits */
    f.truth_ratio[0] = 14.231875456310769;
    f.truth_ratio[1] = 0.1 + 0.2;
    cJSON_AddItemToObject(sp, "forget", lt_tofu_split_json(&f));
    cJSON *fj = cJSON_GetObjectItem(sp, "forget");
    LT_CHECK(fj && !strcmp(cJSON_GetObjectItem(fj, "kind")->valuestring,
                           "forget") &&
             cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(
                 fj, "items"), "average_perturb_loss")) == 2,
             "split JSON shape");
    char *text = cJSON_Print(root);
    char path[] = "/tmp/lt_tofu_eval_XXXXXX";
    int fd = mkstemp(path);
    LT_CHECK(fd >= 0 && text, "temp file");
    if (fd >= 0) {
        close(fd);
        LT_CHECK(lt_write_file_atomic(path, text, strlen(text)) == LT_OK,
                 "%s", lt_last_error());
        double *tr = NULL;
        int64_t n = 0;
        LT_CHECK(lt_tofu_eval_json_forget_tr(path, &tr, &n) == LT_OK && n == 2
                 && tr[0] == f.truth_ratio[0] && tr[1] == f.truth_ratio[1],
                 "read back: %s", lt_last_error());
        free(tr);
        LT_CHECK(lt_write_file_atomic(path, "{\"splits\": {}}", 14) == LT_OK,
                 "write");
        LT_CHECK(lt_tofu_eval_json_forget_tr(path, &tr, &n) ==
                 LT_ERR_FORMAT && strstr(lt_last_error(), path),
                 "missing list: %s", lt_last_error());
        unlink(path);
    }
    free(text);
    cJSON_Delete(root);
    lt_tofu_split_eval_free(&f);
}

/* The document `lethe lm eval --benchmark tofu --json` writes records the
 * run's precision (the process default, as --precision sets it) and the
 * backend, and its forget truth ratios read back. */
LT_TEST(eval_json_records_precision_and_backend)
{
    lt_tofu_eval_cfg c = lt_tofu_eval_cfg_defaults();
    c.model = "m.safetensors";
    c.file[LT_TOFU_SPLIT_FORGET] = "forget.json";
    lt_tofu_eval_result r;
    memset(&r, 0, sizeof r);
    hand_split(&r.split[LT_TOFU_SPLIT_FORGET], LT_TOFU_FORGET);
    r.have[LT_TOFU_SPLIT_FORGET] = true;
    r.fq = r.ks = r.mu = NAN;
    char path[] = "/tmp/lt_tofu_eval_XXXXXX";
    int fd = mkstemp(path);
    LT_CHECK(fd >= 0, "temp file");
    if (fd < 0) {
        lt_tofu_eval_result_free(&r);
        return;
    }
    close(fd);
    lt_precision old = lt_default_precision();
    lt_set_default_precision(LT_PRECISION_BF16);
    LT_CHECK(lt_tofu_eval_write_json(&c, &r, "lethe lm eval", path) == LT_OK,
             "%s", lt_last_error());
    lt_set_default_precision(old);
    const char *why = lt_test_json_precision(path, "bf16");
    LT_CHECK(!why, "%s", why);
    char *text = NULL;
    LT_CHECK(lt_read_file(path, &text, NULL) == LT_OK, "%s", lt_last_error());
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    LT_CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "forget_quality")),
             "forget_quality not null");
    cJSON_Delete(j);
    free(text);
    double *tr = NULL;
    int64_t n = 0;
    const lt_tofu_split_eval *f = &r.split[LT_TOFU_SPLIT_FORGET];
    LT_CHECK(lt_tofu_eval_json_forget_tr(path, &tr, &n) == LT_OK && n == 2 &&
             tr[0] == f->truth_ratio[0] && tr[1] == f->truth_ratio[1],
             "read back: %s", lt_last_error());
    free(tr);
    unlink(path);
    lt_tofu_eval_result_free(&r);
}

/* ---- the WordNet real-authors set ------------------------------------------ */

LT_TEST(wordnet_real_authors_set)
{
    if (access(LT_WORDNET_DIR "/data.noun", R_OK)) {
        printf("  skipped: %s/data.noun missing (apt-get install "
               "wordnet-base)\n", LT_WORDNET_DIR);
        return;
    }
    lt_tofu_set a, b;
    LT_CHECK(lt_tofu_wordnet_authors_set(NULL, 578, 5, &a) == LT_OK, "%s",
             lt_last_error());
    bool dickens = false;
    for (int64_t i = 0; i < a.n; i++) {
        const lt_tofu_qa *q = &a.qa[i];
        const char *name = q->question + 8; /* "Who was " / "Who is " */
        if (!strncmp(q->question, "Who is ", 7))
            name = q->question + 7;
        size_t nl = strlen(name) - 1; /* drop '?' */
        LT_CHECK((!strncmp(q->question, "Who was ", 8) ||
                  !strncmp(q->question, "Who is ", 7)) &&
                 !strncmp(q->answer, name, nl) &&
                 !strncmp(q->paraphrased_answer, name, nl),
                 "record %lld: '%s' / '%s'", (long long)i, q->question,
                 q->answer);
        LT_CHECK(q->n_perturbed >= 3 && q->n_perturbed <= 5, "record %lld "
                 "has %d perturbed", (long long)i, q->n_perturbed);
        for (int k = 0; k < q->n_perturbed; k++)
            LT_CHECK(strcmp(q->perturbed_answer[k], q->paraphrased_answer) &&
                     !strncmp(q->perturbed_answer[k], name, nl),
                     "record %lld perturbed %d", (long long)i, k);
        if (!strcmp(q->question, "Who was Charles Dickens?")) {
            dickens = true;
            LT_CHECK(!strcmp(q->answer, "Charles Dickens was an English "
                             "writer whose novels depicted and criticized "
                             "social injustice (1812-1870).") &&
                     !strcmp(q->paraphrased_answer, "Charles Dickens "
                             "(1812-1870) is remembered as an English writer "
                             "whose novels depicted and criticized social "
                             "injustice."), "Dickens: '%s' / '%s'", q->answer,
                     q->paraphrased_answer);
        }
    }
    LT_CHECK(dickens, "Charles Dickens is not among the writers");
    /* deterministic in the seed, and the seed picks the writers */
    LT_CHECK(lt_tofu_wordnet_authors_set(NULL, 20, 5, &b) == LT_OK &&
             !strcmp(b.qa[0].question, a.qa[0].question) &&
             !strcmp(b.qa[19].answer, a.qa[19].answer), "same seed differs");
    lt_tofu_free(&b);
    LT_CHECK(lt_tofu_wordnet_authors_set(NULL, 20, 6, &b) == LT_OK &&
             strcmp(b.qa[0].question, a.qa[0].question), "seed ignored");
    lt_tofu_free(&b);
    LT_CHECK(lt_tofu_wordnet_authors_set(NULL, 579, 5, &b) == LT_ERR_ARG &&
             strstr(lt_last_error(), "only 578 writers"), "%s",
             lt_last_error());
    LT_CHECK(lt_tofu_wordnet_authors_set("/nonexistent", 5, 5, &b) ==
             LT_ERR_IO, "missing folder");
    lt_tofu_free(&a);
}

LT_TEST_MAIN()
