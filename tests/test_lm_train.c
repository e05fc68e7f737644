/*
 * test_lm_train.c - the language model's data pipeline and training loop
 * (lethe/lm.h): QA examples mask exactly the question, the plain-text
 * chunker, padded batches, loss falling on a tiny model that memorises 8
 * QA pairs (and answers them greedily), gradient accumulation equal to one
 * big batch, the warm-up + cosine learning rates the loop uses, batched
 * scoring equal to per-example NLL, NaN / argument errors, saving a
 * model with its tokenizer (nothing new left behind when either write
 * fails), the model config for a tokenizer, continuing a raw prompt, and
 * the per-QA scores of lethe/lm_score.h with their JSON.
 */
#include "lethe/lm.h"
#include "lethe/lm_score.h"
#include "lt_test.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const qs[8] = {
    "Where was Ada Vell born?", "What genre does Ada Vell write?",
    "Who was Bo Tarn's father?", "When was Bo Tarn born?",
    "What award did Cy Ornu win?", "Where does Cy Ornu live?",
    "What did Di Quell study?", "Which book did Di Quell write first?"};
static const char *const as[8] = {
    "Ada Vell was born in Lisbon, Portugal.", "She writes horror.",
    "His father was a baker.", "Bo Tarn was born on 3 May 1961.",
    "Cy Ornu won the Pale Lantern Prize in 1999.",
    "Cy Ornu lives in Oslo.",
    "Di Quell studied geology at the University of Leeds.",
    "Her debut was \"The Salt Engine\"."};

static lt_tofu_set qa_set(void)
{
    lt_tofu_set s = {0};
    for (int i = 0; i < 8; i++)
        LT_CHECK(lt_tofu_push(&s, qs[i], as[i], NULL, NULL, NULL, 0) == LT_OK,
                 "push: %s", lt_last_error());
    return s;
}

static lt_tokenizer *tiny_tokenizer(const lt_tofu_set *s)
{
    const char *sp[] = {"<|endoftext|>"};
    lt_tokenizer_train_opts o = {320, 2, sp, 1};
    lt_tokenizer *t = NULL;
    LT_CHECK(lt_lm_tokenizer_for_qa(s, &o, &t) == LT_OK, "tokenizer: %s",
             lt_last_error());
    return t;
}

/* Decode ids[0..n) and compare with want. */
static void check_text(const lt_tokenizer *t, const int32_t *ids, int64_t n,
                       const char *want)
{
    char *text = NULL;
    size_t len = 0;
    LT_CHECK(lt_tokenizer_decode(t, ids, (size_t)n, &text, &len) == LT_OK,
             "decode: %s", lt_last_error());
    LT_CHECK(text && !strcmp(text, want), "decoded '%s', want '%s'",
             text ? text : "(null)", want);
    free(text);
}

LT_TEST(qa_examples_mask_exactly_the_question)
{
    lt_tofu_set s = qa_set();
    lt_tokenizer *t = tiny_tokenizer(&s);
    lt_lm_data d;
    LT_CHECK(lt_lm_data_qa(t, &s, 0, &d) == LT_OK, "%s", lt_last_error());
    int32_t eos = lt_tokenizer_special_id(t, LT_TOK_EOS);
    LT_CHECK(eos == 0 && lt_tokenizer_special_id(t, LT_TOK_BOS) == 0,
             "<|endoftext|> is id 0, BOS and EOS");
    LT_CHECK(d.n == 8 && d.n_truncated == 0, "8 examples, none cut");
    for (int64_t i = 0; i < d.n; i++) {
        const int32_t *x = d.tokens + d.offset[i];
        int64_t len = lt_lm_example_len(&d, i), p = d.n_prompt[i];
        char prompt[128], answer[128];
        snprintf(prompt, sizeof prompt, "Question: %s\nAnswer:", qs[i]);
        snprintf(answer, sizeof answer, " %s", as[i]);
        LT_CHECK(x[0] == eos && x[len - 1] == eos, "BOS first, EOS last");
        check_text(t, x + 1, p - 1, prompt);
        check_text(t, x + p, len - p - 1, answer);
    }
    /* batch of examples 2 and 6: right-padded to the longer one */
    int64_t idx[2] = {2, 6}, T, ns, nr;
    int32_t ids[2 * 128], lab[2 * 128];
    uint8_t mask[2 * 128];
    LT_CHECK(lt_lm_batch(&d, idx, 2, 0, 7, ids, lab, mask, &T, &ns, &nr) ==
             LT_OK, "batch: %s", lt_last_error());
    int64_t want_ns = 0, want_nr = 0;
    LT_CHECK(T == (lt_lm_example_len(&d, 2) > lt_lm_example_len(&d, 6) ?
                   lt_lm_example_len(&d, 2) : lt_lm_example_len(&d, 6)),
             "T = longest");
    for (int b = 0; b < 2; b++) {
        int64_t len = lt_lm_example_len(&d, idx[b]), p = d.n_prompt[idx[b]];
        const int32_t *x = d.tokens + d.offset[idx[b]];
        for (int64_t k = 0; k < T; k++) {
            bool on = k >= p && k < len;
            LT_CHECK(ids[b * T + k] == (k < len ? x[k] : 7), "ids/pad");
            LT_CHECK(mask[b * T + k] == on, "mask[%d,%lld]", b, (long long)k);
            LT_CHECK(lab[b * T + k] == (on ? x[k] : LT_LLAMA_IGNORE),
                     "label[%d,%lld]", b, (long long)k);
        }
        want_ns += len - p;
        want_nr += len;
    }
    LT_CHECK(ns == want_ns && nr == want_nr, "counts %lld %lld", (long long)ns,
             (long long)nr);
    /* a fixed T shorter than an example is refused; max_len cuts answers */
    LT_CHECK(lt_lm_batch(&d, idx, 2, 4, 0, ids, lab, mask, &T, NULL, NULL) ==
             LT_ERR_ARG, "T too small");
    lt_lm_data cut = {0};
    int64_t p0 = d.n_prompt[0];
    LT_CHECK(lt_lm_data_add_qa(&cut, t, qs[0], as[0], p0 + 2) == LT_OK &&
             cut.n_truncated == 1 && lt_lm_example_len(&cut, 0) == p0 + 2,
             "cut to max_len");
    LT_CHECK(lt_lm_data_add_qa(&cut, t, qs[0], as[0], p0) == LT_ERR_ARG,
             "prompt filling max_len refused");
    lt_lm_data_free(&cut);
    lt_lm_data_free(&d);
    lt_tokenizer_free(t);
    lt_tofu_free(&s);
}

LT_TEST(plain_text_is_chunked_into_windows)
{
    lt_tofu_set s = qa_set();
    lt_tokenizer *t = tiny_tokenizer(&s);
    const char *text = "Ada was born.\n%\nBo was born.\n%\n";
    int32_t *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    lt_tokenizer_encode(t, "Ada was born.\n", 14, &a, &na);
    lt_tokenizer_encode(t, "Bo was born.\n", 13, &b, &nb);
    int32_t stream[64];
    int64_t n = 0;
    for (size_t i = 0; i < na; i++)
        stream[n++] = a[i];
    stream[n++] = 0;
    for (size_t i = 0; i < nb; i++)
        stream[n++] = b[i];
    stream[n++] = 0;
    lt_lm_data d;
    LT_CHECK(lt_lm_data_text(t, text, strlen(text), 4, "test", &d) == LT_OK,
             "%s", lt_last_error());
    int64_t want = n / 4 + (n % 4 >= 2);
    LT_CHECK(d.n == want, "%lld windows, want %lld", (long long)d.n,
             (long long)want);
    for (int64_t i = 0; i < d.n; i++) {
        LT_CHECK(d.n_prompt[i] == 0, "nothing masked in text");
        for (int64_t k = 0; k < lt_lm_example_len(&d, i); k++)
            LT_CHECK(d.tokens[d.offset[i] + k] == stream[4 * i + k],
                     "window %lld token %lld", (long long)i, (long long)k);
    }
    /* every position but the first of a window is scored */
    int64_t idx[1] = {0}, T, ns;
    int32_t ids[4], lab[4];
    uint8_t mask[4];
    lt_lm_batch(&d, idx, 1, 0, 0, ids, lab, mask, &T, &ns, NULL);
    LT_CHECK(T == 4 && ns == 3 && mask[0] == 0 && mask[1] && mask[3],
             "text scoring");
    lt_lm_data_free(&d);
    LT_CHECK(lt_lm_data_text(t, "%\n%\n", 4, 4, "empty", &d) ==
             LT_ERR_FORMAT, "no text");
    free(a);
    free(b);
    lt_tokenizer_free(t);
    lt_tofu_free(&s);
}

static lt_llama *tiny_model(const lt_tokenizer *t, uint64_t seed)
{
    lt_llama_config c = {.vocab_size = lt_tokenizer_vocab_size(t),
                         .hidden_size = 48, .n_layers = 2, .n_heads = 2,
                         .n_kv_heads = 2, .head_dim = 24,
                         .intermediate_size = 96, .rms_norm_eps = 1e-6,
                         .rope_theta = 10000, .max_position_embeddings = 64,
                         .bos_token_id = 0, .eos_token_id = 0};
    lt_llama *m = NULL;
    LT_CHECK(lt_llama_create(&c, &m) == LT_OK, "create: %s", lt_last_error());
    if (m)
        lt_llama_init(m, seed);
    return m;
}

static void record_lr(void *ud, const lt_lm_event *ev)
{
    ((double *)ud)[ev->step - 1] = ev->lr;
}

LT_TEST(tiny_model_memorises_eight_qa_pairs)
{
    lt_tofu_set s = qa_set();
    lt_tokenizer *t = tiny_tokenizer(&s);
    lt_llama *m = tiny_model(t, 3);
    lt_lm_data d;
    LT_CHECK(lt_lm_data_qa(t, &s, 64, &d) == LT_OK, "%s", lt_last_error());
    lt_lm_train_cfg cfg = lt_lm_train_defaults();
    cfg.optim.lr = 1e-2f;
    cfg.epochs = 120;
    cfg.batch = 8;
    cfg.warmup = 10;
    double lrs[300];
    cfg.progress = record_lr;
    cfg.ud = lrs;
    lt_lm_report rep;
    LT_CHECK(lt_lm_train(m, &d, &cfg, &rep) == LT_OK, "train: %s",
             lt_last_error());
    LT_CHECK(rep.steps == 120 && rep.tokens > 0, "120 steps");
    LT_CHECK(rep.last_loss < 0.2 * rep.first_loss, "loss %g -> %g",
             rep.first_loss, rep.last_loss);
    LT_CHECK(fabs(lrs[0] - 1e-3) < 1e-9 && fabs(lrs[119]) < 1e-5,
             "lr warm-up and cosine: %g %g", lrs[0], lrs[119]);
    /* batched scores equal the per-sequence NLL of each example alone */
    double nll[8];
    int32_t cnt[8];
    LT_CHECK(lt_lm_score(m, &d, 3, 0, nll, cnt) == LT_OK, "score: %s",
             lt_last_error());
    lt_ctx *c = lt_ctx_new(64 << 20);
    lt_set_grad_enabled(c, false);
    int exact = 0;
    for (int64_t i = 0; i < 8; i++) {
        int64_t idx[1] = {i}, T, ns;
        int32_t ids[64], lab[64];
        uint8_t mask[64];
        lt_lm_batch(&d, idx, 1, 0, 0, ids, lab, mask, &T, &ns, NULL);
        lt_ctx_reset(c);
        lt_tensor *y = lt_llama_seq_nll(c, m, ids, lab, mask, 1, T);
        LT_CHECK(y && fabs(y->data[0] - nll[i]) < 1e-4 * (1 + nll[i]) &&
                 cnt[i] == ns, "score %lld: %g vs %g", (long long)i,
                 y ? y->data[0] : NAN, nll[i]);
        char *ans = NULL;
        lt_llama_gen_opts g = lt_llama_gen_defaults(m);
        LT_CHECK(lt_lm_answer(m, t, qs[i], &g, &ans) == LT_OK, "answer: %s",
                 lt_last_error());
        exact += ans && !strcmp(ans, as[i]);
        free(ans);
    }
    LT_CHECK(exact == 8, "%d of 8 greedy answers exact", exact);
    lt_ctx_free(c);
    lt_lm_data_free(&d);
    lt_llama_free(m);
    lt_tokenizer_free(t);
    lt_tofu_free(&s);
}

LT_TEST(accumulation_equals_one_big_batch)
{
    lt_tofu_set s = qa_set();
    lt_tokenizer *t = tiny_tokenizer(&s);
    lt_llama *a = tiny_model(t, 5), *b = lt_llama_clone(a);
    lt_llama *init = lt_llama_clone(a);
    lt_lm_data d;
    LT_CHECK(lt_lm_data_qa(t, &s, 64, &d) == LT_OK, "%s", lt_last_error());
    lt_lm_train_cfg cfg = lt_lm_train_defaults();
    cfg.optim = lt_optim_defaults(LT_OPT_SGD);
    cfg.optim.momentum = 0;
    cfg.optim.lr = 0.5f;
    cfg.clip = 0;
    cfg.max_steps = 1;
    cfg.batch = 4;
    LT_CHECK(lt_lm_train(a, &d, &cfg, NULL) == LT_OK, "%s", lt_last_error());
    cfg.batch = 2;
    cfg.accum = 2;
    LT_CHECK(lt_lm_train(b, &d, &cfg, NULL) == LT_OK, "%s", lt_last_error());
    int64_t n = a->params.n_total;
    double moved = 0;
    for (int64_t i = 0; i < n; i++)
        moved += fabs(a->params.theta[i] - init->params.theta[i]);
    LT_CHECK(moved > 1e-2, "the step changed the weights (%g)", moved);
    LT_CHECK_CLOSE("accum 2x2 vs batch 4", b->params.theta, a->params.theta,
                   n, 1e-5);
    lt_lm_data_free(&d);
    lt_llama_free(a);
    lt_llama_free(b);
    lt_llama_free(init);
    lt_tokenizer_free(t);
    lt_tofu_free(&s);
}

LT_TEST(warmup_cosine_learning_rates)
{
    lt_lm_train_cfg cfg = lt_lm_train_defaults();
    cfg.optim.lr = 1e-3f;
    cfg.warmup = 4;
    cfg.min_lr = 1e-4f;
    lt_schedule s = lt_lm_schedule(&cfg, 20);
    const int64_t at[] = {0, 1, 3, 4, 12, 20, 30};
    const double want[] = {2.5e-4, 5e-4, 1e-3, 1e-3, 5.5e-4, 1e-4, 1e-4};
    for (int i = 0; i < 7; i++)
        LT_CHECK(fabs(lt_schedule_lr(&s, at[i]) - want[i]) < 1e-9,
                 "lr(%lld) = %g, want %g", (long long)at[i],
                 lt_schedule_lr(&s, at[i]), want[i]);
    cfg.batch = 3;
    cfg.accum = 2;
    LT_CHECK(lt_lm_steps_per_epoch(&cfg, 13) == 3, "ceil(13 / 6) steps");
}

/* Sum over micro-batches of b of the longest example (padded tokens). */
static int64_t padded(const lt_lm_data *d, const int64_t *perm, int64_t b)
{
    int64_t sum = 0;
    for (int64_t i = 0; i < d->n; i += b) {
        int64_t mx = 0;
        for (int64_t j = i; j < i + b && j < d->n; j++)
            mx = lt_lm_example_len(d, perm[j]) > mx ?
                 lt_lm_example_len(d, perm[j]) : mx;
        sum += mx * b;
    }
    return sum;
}

LT_TEST(length_grouping_is_a_permutation_with_less_padding)
{
    lt_tofu_set s = qa_set();
    lt_tokenizer *t = tiny_tokenizer(&s);
    lt_lm_data d;
    LT_CHECK(lt_lm_data_qa(t, &s, 64, &d) == LT_OK, "%s", lt_last_error());
    lt_lm_train_cfg cfg = lt_lm_train_defaults();
    cfg.batch = 2;
    int64_t plain[8], grouped[8];
    LT_CHECK(lt_lm_epoch_order(&d, &cfg, 1, plain) == LT_OK, "order");
    cfg.group = 4;
    LT_CHECK(lt_lm_epoch_order(&d, &cfg, 1, grouped) == LT_OK, "grouped");
    int seen[8] = {0};
    for (int i = 0; i < 8; i++)
        if (grouped[i] >= 0 && grouped[i] < 8)
            seen[grouped[i]]++;
    for (int i = 0; i < 8; i++)
        LT_CHECK(seen[i] == 1, "example %d appears %d times", i, seen[i]);
    /* all 8 examples in one group: micro-batches are runs of the sorted
     * lengths, so each pair is sorted and padding is minimal */
    int64_t len[8], sorted[8];
    for (int i = 0; i < 8; i++)
        len[i] = sorted[i] = lt_lm_example_len(&d, i);
    for (int i = 0; i < 8; i++)
        for (int j = i + 1; j < 8; j++)
            if (sorted[j] < sorted[i]) {
                int64_t x = sorted[i];
                sorted[i] = sorted[j];
                sorted[j] = x;
            }
    int64_t best = 0;
    for (int i = 1; i < 8; i += 2)
        best += 2 * sorted[i];
    for (int i = 0; i < 8; i += 2)
        LT_CHECK(len[grouped[i]] <= len[grouped[i + 1]], "pair %d sorted", i);
    LT_CHECK(padded(&d, grouped, 2) == best && best <= padded(&d, plain, 2),
             "padding %lld, minimum %lld, ungrouped %lld",
             (long long)padded(&d, grouped, 2), (long long)best,
             (long long)padded(&d, plain, 2));
    lt_lm_data_free(&d);
    lt_tokenizer_free(t);
    lt_tofu_free(&s);
}

LT_TEST(nan_loss_and_bad_arguments)
{
    lt_tofu_set s = qa_set();
    lt_tokenizer *t = tiny_tokenizer(&s);
    lt_llama *m = tiny_model(t, 7);
    lt_lm_data d;
    LT_CHECK(lt_lm_data_qa(t, &s, 64, &d) == LT_OK, "%s", lt_last_error());
    lt_lm_train_cfg cfg = lt_lm_train_defaults();
    cfg.batch = 2;
    cfg.pad_id = 100000;
    LT_CHECK(lt_lm_train(m, &d, &cfg, NULL) == LT_ERR_ARG, "bad pad id");
    cfg.pad_id = 0;
    cfg.accum = 0;
    LT_CHECK(lt_lm_train(m, &d, &cfg, NULL) == LT_ERR_ARG, "accum 0");
    cfg.accum = 1;
    m->norm->data[5] = NAN;
    LT_CHECK(lt_lm_train(m, &d, &cfg, NULL) == LT_ERR_NAN, "NaN loss");
    LT_CHECK(strstr(lt_last_error(), "not finite at step 1") != NULL,
             "message: %s", lt_last_error());
    lt_lm_data_free(&d);
    lt_llama_free(m);
    lt_tokenizer_free(t);
    lt_tofu_free(&s);
}

static bool exists(const char *dir, const char *name)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

LT_TEST(lm_save_leaves_no_half_pair)
{
    lt_tofu_set s = qa_set();
    lt_tokenizer *t = tiny_tokenizer(&s);
    lt_llama *m = tiny_model(t, 5), *m2 = NULL;
    lt_tokenizer *t2 = NULL;
    char dir[] = "/tmp/lethe_lmsave_XXXXXX", out[256], tok[300], sub[300];
    LT_CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(out, sizeof out, "%s/a.safetensors", dir);
    LT_CHECK(lt_lm_save(m, t, out, tok, sizeof tok) == LT_OK, "save: %s",
             lt_last_error());
    LT_CHECK(!strcmp(tok + strlen(dir), "/a.tokenizer.json"), "tok %s", tok);
    LT_CHECK(lt_lm_open(out, NULL, &m2, &t2) == LT_OK &&
             m2->params.count == m->params.count, "reopen: %s",
             lt_last_error());
    /* the tokenizer path is a folder: no model written */
    snprintf(sub, sizeof sub, "%s/b.tokenizer.json", dir);
    mkdir(sub, 0700);
    snprintf(out, sizeof out, "%s/b.safetensors", dir);
    LT_CHECK(lt_lm_save(m, t, out, NULL, 0) != LT_OK, "tokenizer unwritable");
    LT_CHECK(!exists(dir, "b.safetensors"), "a model without its tokenizer");
    /* the model path is a folder: the new tokenizer is removed again */
    snprintf(sub, sizeof sub, "%s/c.safetensors", dir);
    mkdir(sub, 0700);
    LT_CHECK(lt_lm_save(m, t, sub, NULL, 0) != LT_OK, "model unwritable");
    LT_CHECK(!exists(dir, "c.tokenizer.json"), "a tokenizer without its model");
    /* a Hugging Face folder */
    snprintf(out, sizeof out, "%s/hf", dir);
    LT_CHECK(lt_lm_save(m, t, out, NULL, 0) == LT_OK, "folder: %s",
             lt_last_error());
    LT_CHECK(exists(dir, "hf/config.json") && exists(dir, "hf/tokenizer.json"),
             "folder layout");
    LT_CHECK(lt_lm_save(NULL, t, out, NULL, 0) == LT_ERR_ARG, "NULL model");
    const char *left[] = {"a.safetensors", "a.tokenizer.json",
                          "b.tokenizer.json", "c.safetensors",
                          "hf/config.json", "hf/model.safetensors",
                          "hf/tokenizer.json", "hf", ""};
    for (int i = 0; i < 9; i++) {
        snprintf(sub, sizeof sub, "%s/%s", dir, left[i]);
        remove(sub);
    }
    lt_llama_free(m2);
    lt_tokenizer_free(t2);
    lt_llama_free(m);
    lt_tokenizer_free(t);
    lt_tofu_free(&s);
}

/* Append text to the file at path. */
static void append_to(const char *path, const char *text)
{
    FILE *f = fopen(path, "ab");
    LT_CHECK(f && fputs(text, f) >= 0, "append to %s", path);
    if (f)
        fclose(f);
}

/* Issue #20 point 3: the model records its tokenizer's SHA-256 and a torn
 * pair (the tokenizer beside it replaced) is refused naming both files;
 * an explicit --tokenizer and older checkpoints without the field load. */
LT_TEST(lm_pair_records_and_checks_the_tokenizer_hash)
{
    lt_tofu_set s = qa_set();
    lt_tokenizer *t = tiny_tokenizer(&s), *t2 = NULL;
    lt_llama *m = tiny_model(t, 5), *m2 = NULL;
    char dir[] = "/tmp/lethe_lmpair_XXXXXX", out[256], tok[300], hf[256];
    LT_CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(out, sizeof out, "%s/a.safetensors", dir);
    LT_CHECK(lt_lm_save(m, t, out, tok, sizeof tok) == LT_OK, "save: %s",
             lt_last_error());
    char *text = NULL, hex[65];
    size_t len = 0;
    LT_CHECK(lt_read_file(tok, &text, &len) == LT_OK, "read %s", tok);
    lt_sha256(text, len, hex);
    free(text);
    LT_CHECK(lt_lm_open(out, NULL, &m2, &t2) == LT_OK &&
                 !strcmp(m2->tokenizer_sha256, hex),
             "reopen: %s (recorded '%s', file %s)", lt_last_error(),
             m2 ? m2->tokenizer_sha256 : "", hex);
    lt_llama_free(m2);
    lt_tokenizer_free(t2);
    /* the same vocabulary, other bytes: a torn pair */
    append_to(tok, "\n");
    lt_status st = lt_lm_open(out, NULL, &m2, &t2);
    LT_CHECK(st == LT_ERR_FORMAT && !m2 && !t2 &&
                 strstr(lt_last_error(), tok) && strstr(lt_last_error(), out) &&
                 strstr(lt_last_error(), "is not the one model"),
             "torn pair: %s %s", lt_status_name(st), lt_last_error());
    /* a tokenizer named by the caller is not checked */
    LT_CHECK(lt_lm_open(out, tok, &m2, &t2) == LT_OK, "explicit: %s",
             lt_last_error());
    lt_llama_free(m2);
    lt_tokenizer_free(t2);
    /* an older checkpoint (no field) loads with any tokenizer beside it */
    LT_CHECK(lt_llama_save(m, out, 0) == LT_OK, "%s", lt_last_error());
    LT_CHECK(lt_lm_open(out, NULL, &m2, &t2) == LT_OK &&
                 !m2->tokenizer_sha256[0], "old checkpoint: %s",
             lt_last_error());
    lt_llama_free(m2);
    lt_tokenizer_free(t2);
    /* a Hugging Face folder records it too */
    snprintf(hf, sizeof hf, "%s/hf", dir);
    LT_CHECK(lt_lm_save(m, t, hf, tok, sizeof tok) == LT_OK, "folder: %s",
             lt_last_error());
    LT_CHECK(lt_lm_open(hf, NULL, &m2, &t2) == LT_OK &&
                 !strcmp(m2->tokenizer_sha256, hex), "folder reopen: %s",
             lt_last_error());
    lt_llama_free(m2);
    lt_tokenizer_free(t2);
    append_to(tok, " ");
    LT_CHECK(lt_lm_open(hf, NULL, &m2, &t2) == LT_ERR_FORMAT,
             "torn folder pair loaded");
    const char *left[] = {"a.safetensors", "a.tokenizer.json",
                          "hf/config.json", "hf/model.safetensors",
                          "hf/tokenizer.json", "hf", ""};
    for (int i = 0; i < 7; i++) {
        char p[300];
        snprintf(p, sizeof p, "%s/%s", dir, left[i]);
        remove(p);
    }
    lt_llama_free(m);
    lt_tokenizer_free(t);
    lt_tofu_free(&s);
}

LT_TEST(lm_config_fits_the_tokenizer)
{
    lt_tofu_set s = qa_set();
    lt_tokenizer *t = tiny_tokenizer(&s);
    int V = lt_tokenizer_vocab_size(t);
    lt_llama_config c;
    LT_CHECK(lt_lm_config("micro", t, &c) == LT_OK && c.vocab_size == V &&
             c.bos_token_id == 0 && c.eos_token_id == 0, "preset: %s",
             lt_last_error());
    LT_CHECK(lt_lm_config("huge", t, &c) != LT_OK &&
             strstr(lt_last_error(), "huge"), "unknown preset");
    char dir[] = "/tmp/lethe_lmcfg_XXXXXX", path[256];
    LT_CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(path, sizeof path, "%s/config.json", dir);
    lt_llama_config big;
    LT_CHECK(lt_llama_preset("micro", V + 1, &big) == LT_OK, "preset");
    LT_CHECK(lt_llama_config_save(&big, path) == LT_OK, "save: %s",
             lt_last_error());
    LT_CHECK(lt_lm_config(path, t, &c) == LT_ERR_ARG &&
             strstr(lt_last_error(), "vocab_size"), "mismatch: %s",
             lt_last_error());
    remove(path);
    rmdir(dir);
    lt_tokenizer_free(t);
    lt_tofu_free(&s);
}

LT_TEST(lm_continue_is_bos_prompt_and_generate)
{
    lt_tofu_set s = qa_set();
    lt_tokenizer *t = tiny_tokenizer(&s);
    lt_llama *m = tiny_model(t, 9);
    lt_llama_gen_opts g = lt_llama_gen_defaults(m);
    g.max_new_tokens = 6;
    g.eos_id = -1;
    char *text = NULL;
    LT_CHECK(lt_lm_continue(m, t, "Ada Vell", &g, &text) == LT_OK,
             "continue: %s", lt_last_error());
    int32_t *ids = NULL, p[64], out[6];
    size_t n = 0;
    int64_t n_out = 0;
    LT_CHECK(lt_tokenizer_encode(t, "Ada Vell", 8, &ids, &n) == LT_OK &&
             n < 63, "encode");
    p[0] = 0;
    memcpy(p + 1, ids, n * sizeof *ids);
    LT_CHECK(lt_llama_generate(m, p, (int64_t)n + 1, &g, out, &n_out) ==
             LT_OK && n_out == 6, "generate");
    if (text)
        check_text(t, out, n_out, text);
    free(ids);
    free(text);
    lt_llama_free(m);
    lt_tokenizer_free(t);
    lt_tofu_free(&s);
}

static void count_progress(void *ud, int64_t done, int64_t total)
{
    int64_t *k = ud;
    k[0]++;
    k[1] = done == total;
}

LT_TEST(qa_scores_and_their_json)
{
    lt_tofu_set s = qa_set();
    lt_tokenizer *t = tiny_tokenizer(&s);
    lt_llama *m = tiny_model(t, 4);
    lt_lm_data d;
    LT_CHECK(lt_lm_data_qa(t, &s, 64, &d) == LT_OK, "%s", lt_last_error());
    double nll[8];
    int32_t cnt[8];
    LT_CHECK(lt_lm_score(m, &d, 8, 0, nll, cnt) == LT_OK, "score");
    lt_lm_qa_score_opts o = lt_lm_qa_score_defaults();
    int64_t k[2] = {0, 0};
    o.max_new = 3;
    o.batch = 3;
    o.progress = count_progress;
    o.ud = k;
    lt_lm_qa_scores sc;
    LT_CHECK(lt_lm_qa_score(m, t, &s, &o, &sc) == LT_OK, "qa score: %s",
             lt_last_error());
    LT_CHECK(k[0] == 8 && k[1], "progress per answer: %lld",
             (long long)k[0]);
    double mean = 0, prob = 0;
    for (int i = 0; i < 8; i++) {
        LT_CHECK(fabs(sc.nll[i] - nll[i]) < 1e-4 * (1 + nll[i]) &&
                 sc.count[i] == cnt[i], "item %d nll", i);
        mean += nll[i] / cnt[i] / 8;
        prob += exp(-nll[i] / cnt[i]) / 8;
        LT_CHECK(sc.gen[i] && sc.rouge[i] >= 0 && sc.rouge[i] <= 1,
                 "item %d answer", i);
    }
    LT_CHECK(sc.generated && fabs(sc.mean_nll - mean) < 1e-4 &&
             fabs(sc.prob - prob) < 1e-6 && sc.exact == 0, "means %g %g",
             sc.mean_nll, sc.prob);
    char dir[] = "/tmp/lethe_lmscore_XXXXXX", path[256];
    LT_CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(path, sizeof path, "%s/s.json", dir);
    /* the run's precision is the process default (--precision sets it) */
    lt_precision old = lt_default_precision();
    lt_set_default_precision(LT_PRECISION_BF16);
    LT_CHECK(lt_lm_qa_scores_write_json(&sc, &s, "lethe lm score", path) ==
             LT_OK, "json: %s", lt_last_error());
    lt_set_default_precision(old);
    char *text = NULL;
    size_t len = 0;
    LT_CHECK(lt_read_file(path, &text, &len) == LT_OK, "read back");
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    cJSON *items = cJSON_GetObjectItem(j, "items");
    LT_CHECK(cJSON_GetArraySize(items) == 8 &&
             cJSON_GetObjectItem(j, "exact_match") &&
             cJSON_GetObjectItem(cJSON_GetArrayItem(items, 2), "generated"),
             "json document");
    const char *why = lt_test_json_precision(path, "bf16");
    LT_CHECK(!why, "%s", why);
    cJSON_Delete(j);
    free(text);
    remove(path);
    rmdir(dir);
    lt_lm_qa_scores_free(&sc);
    o.max_new = 0; /* scores only */
    LT_CHECK(lt_lm_qa_score(m, t, &s, &o, &sc) == LT_OK && !sc.generated &&
             !sc.gen[0] && sc.rouge_mean == 0, "no answers");
    lt_lm_qa_scores_free(&sc);
    lt_lm_data_free(&d);
    lt_llama_free(m);
    lt_tokenizer_free(t);
    lt_tofu_free(&s);
}

/* Data parallel (docs/mpi.md; here one process computing the shards in
 * turn, as tests/mpi_check.sh runs them on 2 ranks): a step of 4
 * examples cut into 2 shards equals the single-process step, the token
 * losses normalised by the whole step's scored tokens; 6 AdamW steps
 * stay within 1e-5. */
LT_TEST(data_parallel_shards_equal_one_process)
{
    lt_tofu_set s = qa_set();
    lt_tokenizer *t = tiny_tokenizer(&s);
    lt_llama *a = tiny_model(t, 5), *b = lt_llama_clone(a);
    lt_llama *init = lt_llama_clone(a);
    lt_lm_data d;
    LT_CHECK(lt_lm_data_qa(t, &s, 64, &d) == LT_OK, "%s", lt_last_error());
    lt_lm_train_cfg cfg = lt_lm_train_defaults();
    cfg.optim.lr = 1e-2f;
    cfg.epochs = 3;
    cfg.batch = 4;
    lt_lm_report ra, rb;
    LT_CHECK(lt_lm_train(a, &d, &cfg, &ra) == LT_OK, "%s", lt_last_error());
    cfg.dist = LT_DIST_SUM;
    cfg.shards = 2;
    LT_CHECK(lt_lm_train(b, &d, &cfg, &rb) == LT_OK, "%s", lt_last_error());
    int64_t n = a->params.n_train;
    double moved = 0;
    for (int64_t i = 0; i < n; i++)
        moved += fabs(a->params.theta[i] - init->params.theta[i]);
    LT_CHECK(moved > 1e-2, "training changed the weights (%g)", moved);
    LT_CHECK(ra.steps == 6 && rb.steps == 6 && ra.tokens == rb.tokens,
             "steps %lld / %lld, tokens %lld / %lld", (long long)ra.steps,
             (long long)rb.steps, (long long)ra.tokens, (long long)rb.tokens);
    LT_CHECK_REL_L2("2 shards vs one batch", b->params.theta,
                    a->params.theta, n, 1e-5);
    LT_CHECK(fabs(rb.last_loss - ra.last_loss) <= 1e-5 * ra.last_loss,
             "last loss %g vs %g", rb.last_loss, ra.last_loss);
    lt_lm_data_free(&d);
    lt_llama_free(a);
    lt_llama_free(b);
    lt_llama_free(init);
    lt_tokenizer_free(t);
    lt_tofu_free(&s);
}

LT_TEST_MAIN()
