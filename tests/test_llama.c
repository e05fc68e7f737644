/*
 * test_llama.c - the Llama LM against the PyTorch reference of
 * tests/golden/gen_llama.py (logits, loss, per-sequence NLL, token
 * log-probs, hidden states, every gradient, one AdamW step; untied and
 * tied), plus the KV cache against the full forward, generation,
 * Hugging Face checkpoint layouts (single, sharded, BF16; Lethe's own
 * writer round trip) and the error paths of configs and checkpoints.
 */
#include "lethe/llama.h"
#include "lethe/optim.h"
#include "llama_test.h"
#include "lt_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GB 2 /* golden batch and length */
#define GT 8
#define DIR_TINY LT_GOLDEN_DIR "/llama_tiny"

static void golden_ids(const lt_golden *g, int32_t *ids, int32_t *labels)
{
    const lt_golden_entry *a = lt_golden_get(g, "ids");
    const lt_golden_entry *b = lt_golden_get(g, "labels");
    for (int i = 0; a && b && i < GB * GT; i++) {
        ids[i] = (int32_t)lrintf(a->data[i]);
        labels[i] = (int32_t)lrintf(b->data[i]);
    }
}

/* A temporary directory under /tmp; removed by rm_tree. */
static void tmp_dir(char *buf, size_t n)
{
    snprintf(buf, n, "/tmp/lt_llama_XXXXXX");
    LT_CHECK(mkdtemp(buf) != NULL, "mkdtemp failed");
}

static void rm_tree(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    LT_CHECK(system(cmd) == 0, "cannot remove %s", dir);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    LT_CHECK(f != NULL, "cannot write %s", path);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void copy_file(const char *from, const char *to)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", from, to);
    LT_CHECK(system(cmd) == 0, "cannot copy %s", from);
}

/* ---- golden: forward, losses, gradients, AdamW -------------------------------- */

/* Checks the forward values and gradients of m against entries prefix*. */
static void check_golden(lt_llama *m, const lt_golden *g, const char *prefix,
                         bool adamw)
{
    int32_t ids[GB * GT], labels[GB * GT];
    golden_ids(g, ids, labels);
    char name[160];
    lt_ctx *c = lt_ctx_new(lt_llama_arena_bytes(&m->cfg, GB, GT, true));
    if (!llama_check_forward_grads(c, m, g, prefix, ids, labels, GB, GT))
        goto done;
    if (adamw) {
        lt_optim_config oc = lt_optim_defaults(LT_OPT_ADAMW);
        oc.weight_decay = 0.1f;
        lt_optim o;
        LT_CHECK(lt_optim_init(&o, &oc, m->params.n_train) == LT_OK, "optim");
        LT_CHECK(lt_optim_step(&o, m->params.theta, m->params.grad, NULL,
                               1e-2f) == LT_OK, "step: %s", lt_last_error());
        for (int i = 0; i < m->params.count; i++) {
            snprintf(name, sizeof name, "adamw.%s", m->params.p[i].name);
            LT_GOLDEN_CHECK(g, name, m->params.p[i].t.data,
                            m->params.p[i].t.numel);
        }
        lt_optim_free(&o);
    }
    LT_CHECK(lt_ctx_peak(c) <= lt_ctx_capacity(c), "arena");
done:
    lt_ctx_free(c);
}

LT_TEST(golden_untied_logits_loss_grads_adamw)
{
    lt_golden *g = lt_golden_load("llama.bin");
    lt_llama *m = llama_test_load(DIR_TINY);
    if (g && m) {
        LT_CHECK(m->cfg.n_kv_heads == 2 && m->cfg.n_heads == 4 &&
                     m->cfg.rope_theta == 500.0 &&
                     m->cfg.rms_norm_eps == 1e-6 && m->cfg.eos_token_id == 2,
                 "config.json fields");
        check_golden(m, g, "", true);
    }
    lt_llama_free(m);
    lt_golden_free(g);
}

LT_TEST(golden_tied_logits_loss_grads)
{
    lt_golden *g = lt_golden_load("llama.bin");
    lt_llama *m = llama_test_load(LT_GOLDEN_DIR "/llama_tied");
    if (g && m) {
        LT_CHECK(m->lm_head == m->embed && m->cfg.tie_word_embeddings,
                 "tied head");
        LT_CHECK(lt_params_get(&m->params, "lm_head.weight") == NULL,
                 "a tied model has no lm_head.weight");
        lt_clear_error();
        check_golden(m, g, "tied.", false);
    }
    lt_llama_free(m);
    lt_golden_free(g);
}

LT_TEST(golden_token_logprobs_hidden_and_padding)
{
    lt_golden *g = lt_golden_load("llama.bin");
    lt_llama *m = llama_test_load(DIR_TINY);
    int32_t ids[GB * GT], labels[GB * GT];
    float lp[GB * (GT - 1)];
    if (!g || !m)
        goto done;
    golden_ids(g, ids, labels);
    lt_ctx *c = lt_ctx_new(lt_llama_arena_bytes(&m->cfg, GB, GT, false));
    LT_CHECK(lt_llama_token_logprobs(c, m, ids, GB, GT, NULL, lp) == LT_OK,
             "%s", lt_last_error());
    LT_GOLDEN_CHECK(g, "token_logprobs", lp, GB * (GT - 1));
    lt_tensor *h = lt_llama_hidden(c, m, ids, GB, GT, 1);
    LT_CHECK_OK(h);
    if (h)
        LT_GOLDEN_CHECK(g, "hidden1", h->data, h->numel);
    /* right padding: row 1 has length 5; its first 4 log-probs are those
     * of the unpadded row and the rest are 0 */
    int32_t len[GB] = {GT, 5};
    float lp2[GB * (GT - 1)];
    ids[GT + 6] = 0;
    ids[GT + 7] = 0;
    lt_ctx_reset(c);
    LT_CHECK(lt_llama_token_logprobs(c, m, ids, GB, GT, len, lp2) == LT_OK,
             "%s", lt_last_error());
    LT_CHECK_CLOSE("padded row 0", lp2, lp, GT - 1, 1e-6);
    LT_CHECK_CLOSE("padded row 1", lp2 + GT - 1, lp + GT - 1, 4, 1e-6);
    for (int t = 4; t < GT - 1; t++)
        LT_CHECK(lp2[GT - 1 + t] == 0.0f, "padding log-prob %d not 0", t);
    lt_ctx_free(c);
done:
    lt_llama_free(m);
    lt_golden_free(g);
}

LT_TEST(mask_equals_ignore_labels)
{
    lt_golden *g = lt_golden_load("llama.bin");
    lt_llama *m = llama_test_load(DIR_TINY);
    int32_t ids[GB * GT], labels[GB * GT], tg[GB * GT];
    uint8_t mask[GB * GT];
    if (!g || !m)
        goto done;
    golden_ids(g, ids, labels);
    for (int i = 0; i < GB * GT; i++)
        mask[i] = labels[i] != LT_LLAMA_IGNORE;
    int64_t n = 0;
    LT_CHECK(lt_llama_targets(m, ids, NULL, mask, GB, GT, tg, &n) == LT_OK,
             "%s", lt_last_error());
    /* golden labels mask 3 and 5 leading tokens: 5 + 3 scored */
    LT_CHECK(n == 8, "scored %lld, want 5 + 3", (long long)n);
    LT_CHECK(tg[2] == ids[3] && tg[1] == LT_LLAMA_IGNORE &&
                 tg[GT - 1] == LT_LLAMA_IGNORE && tg[GT + 4] == ids[GT + 5],
             "shifted targets");
    lt_ctx *c = lt_ctx_new(lt_llama_arena_bytes(&m->cfg, GB, GT, false));
    lt_set_grad_enabled(c, false);
    lt_tensor *loss = lt_llama_loss(c, m, ids, NULL, mask, GB, GT);
    LT_CHECK_OK(loss);
    if (loss)
        LT_GOLDEN_CHECK(g, "loss", loss->data, 1);
    labels[3] = 999; /* out of the vocabulary: an error, not a crash */
    LT_CHECK(lt_llama_targets(m, ids, labels, NULL, GB, GT, tg, NULL) ==
                     LT_ERR_ARG && strstr(lt_last_error(), "999"),
             "bad label: %s", lt_last_error());
    lt_ctx_free(c);
done:
    lt_llama_free(m);
    lt_golden_free(g);
}

/* ---- KV cache and generation ------------------------------------------------- */

LT_TEST(kv_cache_equals_full_forward)
{
    lt_golden *g = lt_golden_load("llama.bin");
    lt_llama *m = llama_test_load(DIR_TINY);
    int32_t ids[GB * GT], labels[GB * GT], step[GB];
    lt_llama_cache *kv = NULL;
    if (!g || !m)
        goto done;
    golden_ids(g, ids, labels);
    lt_ctx *c = lt_ctx_new(lt_llama_arena_bytes(&m->cfg, GB, GT, false) * 2);
    lt_set_grad_enabled(c, false);
    lt_tensor *full = lt_llama_forward(c, m, ids, GB, GT);
    LT_CHECK(lt_llama_cache_new(m, GB, GT, &kv) == LT_OK, "%s",
             lt_last_error());
    int64_t V = m->cfg.vocab_size;
    /* prefill 5 positions of both rows, then one position at a time */
    int32_t pre[GB * 5];
    for (int b = 0; b < GB; b++)
        memcpy(pre + b * 5, ids + b * GT, 5 * sizeof *pre);
    lt_tensor *y = lt_llama_forward_cached(c, m, kv, pre, GB, 5);
    LT_CHECK_OK(y);
    for (int b = 0; y && full && b < GB; b++)
        LT_CHECK_CLOSE("prefill", y->data + b * 5 * V,
                       full->data + b * GT * V, 5 * V, 1e-4);
    for (int t = 5; t < GT && full; t++) {
        for (int b = 0; b < GB; b++)
            step[b] = ids[b * GT + t];
        y = lt_llama_forward_cached(c, m, kv, step, GB, 1);
        LT_CHECK_OK(y);
        for (int b = 0; y && b < GB; b++)
            LT_CHECK_CLOSE("incremental", y->data + b * V,
                           full->data + (b * GT + t) * V, V, 1e-4);
    }
    LT_CHECK(lt_llama_cache_len(kv) == GT, "cache length");
    LT_CHECK(!lt_llama_forward_cached(c, m, kv, step, GB, 1) &&
                 strstr(lt_last_error(), "do not fit"),
             "overflow not refused: %s", lt_last_error());
    lt_llama_cache_free(kv);
    lt_ctx_free(c);
done:
    lt_llama_free(m);
    lt_golden_free(g);
}

/* Reference greedy decoding: the full forward on the growing sequence. */
static int64_t greedy_reference(lt_llama *m, const int32_t *prompt, int np,
                                int n_new, int32_t *out)
{
    int32_t seq[64];
    memcpy(seq, prompt, (size_t)np * sizeof *seq);
    lt_ctx *c = lt_ctx_new(lt_llama_arena_bytes(&m->cfg, 1, 64, false));
    lt_set_grad_enabled(c, false);
    int64_t V = m->cfg.vocab_size;
    for (int i = 0; i < n_new; i++) {
        lt_ctx_reset(c);
        lt_tensor *y = lt_llama_forward(c, m, seq, 1, np + i);
        const float *r = y->data + (np + i - 1) * V;
        int32_t best = 0;
        for (int v = 1; v < V; v++)
            best = r[v] > r[best] ? v : best;
        seq[np + i] = out[i] = best;
    }
    lt_ctx_free(c);
    return n_new;
}

LT_TEST(generate_greedy_sampling_eos)
{
    lt_llama *m = llama_test_load(DIR_TINY);
    if (!m)
        return;
    const int32_t prompt[3] = {5, 17, 33};
    int32_t want[12], got[12], got2[12];
    greedy_reference(m, prompt, 3, 12, want);
    lt_llama_gen_opts o = lt_llama_gen_defaults(m);
    LT_CHECK(o.eos_id == 2 && o.temperature <= 0, "defaults");
    o.max_new_tokens = 12;
    o.eos_id = -1;
    int64_t n = 0;
    LT_CHECK(lt_llama_generate(m, prompt, 3, &o, got, &n) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(n == 12 && !memcmp(got, want, sizeof want),
             "greedy differs from the full-forward reference");
    /* stop at the first EOS: pretend the 4th greedy token is EOS */
    o.eos_id = want[3];
    int first = 0;
    while (want[first] != o.eos_id)
        first++;
    LT_CHECK(lt_llama_generate(m, prompt, 3, &o, got, &n) == LT_OK &&
                 n == first + 1 && got[first] == o.eos_id,
             "EOS stop: n %lld", (long long)n);
    /* a nucleus of one token is greedy; sampling is seeded */
    o.eos_id = -1;
    o.temperature = 1.0f;
    o.top_p = 1e-6f;
    LT_CHECK(lt_llama_generate(m, prompt, 3, &o, got, &n) == LT_OK &&
                 !memcmp(got, want, sizeof want), "top_p -> 0 is greedy");
    o.top_p = 1.0f;
    o.temperature = 5.0f;
    o.seed = 7;
    lt_llama_generate(m, prompt, 3, &o, got, &n);
    lt_llama_generate(m, prompt, 3, &o, got2, &n);
    LT_CHECK(!memcmp(got, got2, sizeof got), "same seed, same sample");
    o.seed = 8;
    lt_llama_generate(m, prompt, 3, &o, got2, &n);
    LT_CHECK(memcmp(got, got2, sizeof got) != 0 &&
                 memcmp(got, want, sizeof want) != 0,
             "hot sampling looks greedy or ignores the seed");
    o.max_new_tokens = 62;
    LT_CHECK(lt_llama_generate(m, prompt, 3, &o, got, &n) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "context of 64"),
             "too long: %s", lt_last_error());
    lt_llama_free(m);
}

/* ---- checkpoints ---------------------------------------------------------------- */

static bool same_config(const lt_llama_config *a, const lt_llama_config *b)
{
    return a->vocab_size == b->vocab_size &&
           a->hidden_size == b->hidden_size && a->n_layers == b->n_layers &&
           a->n_heads == b->n_heads && a->n_kv_heads == b->n_kv_heads &&
           a->head_dim == b->head_dim &&
           a->intermediate_size == b->intermediate_size &&
           a->rms_norm_eps == b->rms_norm_eps &&
           a->rope_theta == b->rope_theta &&
           a->max_position_embeddings == b->max_position_embeddings &&
           a->tie_word_embeddings == b->tie_word_embeddings &&
           a->bos_token_id == b->bos_token_id &&
           a->eos_token_id == b->eos_token_id &&
           a->sliding_window == b->sliding_window &&
           a->family == b->family;
}

static bool same_weights(const lt_llama *a, const lt_llama *b)
{
    return a && b && a->params.n_total == b->params.n_total &&
           !memcmp(a->params.theta, b->params.theta,
                   (size_t)a->params.n_total * sizeof(float));
}

LT_TEST(hf_sharded_and_bf16_load)
{
    lt_llama *a = llama_test_load(DIR_TINY);
    lt_llama *b = llama_test_load(LT_GOLDEN_DIR "/llama_tiny_sharded");
    lt_llama *h = llama_test_load(LT_GOLDEN_DIR "/llama_tiny_bf16");
    LT_CHECK(same_weights(a, b), "sharded load differs from single load");
    for (int64_t i = 0; a && h && i < a->params.n_total; i++) {
        /* round to nearest even on the upper 16 bits */
        uint32_t u;
        float x = a->params.theta[i], r;
        memcpy(&u, &x, 4);
        u = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
        memcpy(&r, &u, 4);
        if (h->params.theta[i] != r) {
            LT_CHECK(false, "bf16 weight %lld: %g, want %g", (long long)i,
                     (double)h->params.theta[i], (double)r);
            break;
        }
    }
    lt_llama_free(a);
    lt_llama_free(b);
    lt_llama_free(h);
}

/* The fuzzer's find: cJSON's printer keeps 15 digits that are only within
 * an epsilon, so rope_theta 5.0888888888888891e+131 came back as ...899e+131. */
LT_TEST(config_json_keeps_doubles_exact)
{
    lt_llama_config cfg, back;
    LT_CHECK(lt_llama_preset("tiny", 100, &cfg) == LT_OK, "preset");
    cfg.rope_theta = 5.0888888888888891e+131;
    cfg.rms_norm_eps = 1e-5;
    char *j = lt_llama_config_json(&cfg, false);
    LT_CHECK(j != NULL, "config_json");
    if (!j)
        return;
    LT_CHECK(lt_llama_config_parse(j, "written", &back) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(back.rope_theta == cfg.rope_theta &&
                 back.rms_norm_eps == cfg.rms_norm_eps,
             "rope_theta %.17g -> %.17g", cfg.rope_theta, back.rope_theta);
    LT_CHECK(strstr(j, "\"rms_norm_eps\":1e-05") != NULL,
             "shortest exact form expected: %s", j);
    free(j);
}

LT_TEST(save_load_round_trip_bit_exact)
{
    lt_llama_config cfg;
    LT_CHECK(lt_llama_preset("tiny", 100, &cfg) == LT_OK, "preset");
    cfg.n_layers = 2; /* keep the files small */
    cfg.hidden_size = 64;
    cfg.head_dim = 16;
    cfg.n_kv_heads = 2;
    cfg.intermediate_size = 96;
    cfg.eos_token_id = 3;
    cfg.rms_norm_eps = 1e-5;
    lt_llama *m = NULL, *r = NULL;
    LT_CHECK(lt_llama_create(&cfg, &m) == LT_OK, "%s", lt_last_error());
    if (!m)
        return;
    lt_llama_init(m, 11);
    char dir[64], path[256];
    tmp_dir(dir, sizeof dir);
    /* single file with the config in its metadata */
    snprintf(path, sizeof path, "%s/lm.safetensors", dir);
    LT_CHECK(lt_llama_save(m, path, 0) == LT_OK, "%s", lt_last_error());
    LT_CHECK(lt_llama_load(path, &r) == LT_OK, "%s", lt_last_error());
    LT_CHECK(same_weights(m, r) && r &&
                 same_config(&r->cfg, &m->cfg),
             "single-file round trip");
    lt_llama_free(r);
    /* Hugging Face directory, then sharded into the same directory */
    snprintf(path, sizeof path, "%s/hf", dir);
    for (int sharded = 0; sharded < 2; sharded++) {
        LT_CHECK(lt_llama_save(m, path, sharded ? 40000 : 0) == LT_OK, "%s",
                 lt_last_error());
        r = NULL;
        LT_CHECK(lt_llama_load(path, &r) == LT_OK, "%s", lt_last_error());
        LT_CHECK(same_weights(m, r) && r &&
                     same_config(&r->cfg, &m->cfg),
                 "directory round trip (sharded %d)", sharded);
        lt_llama_free(r);
    }
    char f[300];
    snprintf(f, sizeof f, "%s/model.safetensors.index.json", path);
    LT_CHECK(access(f, F_OK) == 0, "no index written");
    snprintf(f, sizeof f, "%s/model.safetensors", path);
    LT_CHECK(access(f, F_OK) != 0, "stale single file left beside shards");
    /* 74560 floats in shards of <= 40000 bytes, tensors kept whole */
    snprintf(f, sizeof f, "%s/model-00012-of-00012.safetensors", path);
    LT_CHECK(access(f, F_OK) == 0, "expected 12 shards");
    lt_llama_free(m);
    rm_tree(dir);
}

LT_TEST(init_is_hf_like_and_seeded)
{
    lt_llama_config cfg;
    LT_CHECK(lt_llama_preset("small", 500, &cfg) == LT_OK, "preset");
    LT_CHECK(cfg.n_layers == 6 && cfg.hidden_size == 384 &&
                 cfg.head_dim == 64, "small preset");
    cfg.n_layers = 1;
    lt_llama *a = NULL, *b = NULL;
    lt_llama_create(&cfg, &a);
    lt_llama_create(&cfg, &b);
    if (!a || !b)
        goto done;
    lt_llama_init(a, 1);
    lt_llama_init(b, 1);
    LT_CHECK(same_weights(a, b), "same seed, same weights");
    lt_tensor *q = a->layers[0].q, *n = a->layers[0].input_norm;
    double s = 0, s2 = 0;
    for (int64_t i = 0; i < q->numel; i++) {
        s += q->data[i];
        s2 += (double)q->data[i] * q->data[i];
    }
    double sd = sqrt(s2 / (double)q->numel - pow(s / (double)q->numel, 2));
    LT_CHECK(fabs(sd - 0.02) < 0.001, "q_proj std %g, want 0.02", sd);
    LT_CHECK(n->data[0] == 1.0f && n->data[383] == 1.0f, "norms start at 1");
    lt_llama_init(b, 2);
    LT_CHECK(!same_weights(a, b), "another seed, same weights");
    lt_llama *c = lt_llama_clone(a);
    LT_CHECK(same_weights(a, c), "clone");
    lt_llama_free(c);
done:
    lt_llama_free(a);
    lt_llama_free(b);
}

/* ---- errors ---------------------------------------------------------------------- */

/* A Hugging Face directory with the golden weights and config text. */
static void hf_dir(char *dir, size_t n, const char *config)
{
    tmp_dir(dir, n);
    char p[256];
    snprintf(p, sizeof p, "%s/config.json", dir);
    write_file(p, config);
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    copy_file(DIR_TINY "/model.safetensors", p);
}

/* Loading a directory with this config must fail with code and with every
 * fragment of want in the message. */
static void expect_load_error(const char *config, lt_status code,
                              const char *want1, const char *want2)
{
    char dir[64];
    hf_dir(dir, sizeof dir, config);
    lt_llama *m = NULL;
    lt_clear_error();
    lt_status s = lt_llama_load(dir, &m);
    const char *e = lt_last_error();
    LT_CHECK(s == code && !m && strstr(e, want1) && strstr(e, want2),
             "config %.60s...: got %s '%s'", config, lt_status_name(s), e);
    lt_llama_free(m);
    rm_tree(dir);
}

#define CFG_HEAD "{\"vocab_size\": 64, \"num_hidden_layers\": 2, " \
                 "\"intermediate_size\": 48, \"max_position_embeddings\": 64"
#define CFG_GOOD CFG_HEAD ", \"num_attention_heads\": 4, " \
                 "\"num_key_value_heads\": 2, \"hidden_size\": 32"

LT_TEST(config_and_shape_errors)
{
    /* a config larger than its weights is refused before the model is
     * allocated (issue #20), naming the config and the weight file */
    expect_load_error(CFG_HEAD ", \"num_attention_heads\": 4, \"hidden_size\""
                      ": 48}", LT_ERR_FORMAT,
                      "config.json: the config (2 layers, hidden_size 48",
                      "needs 38640 parameters, but the weights ");
    expect_load_error(CFG_HEAD ", \"hidden_size\": 32, \"num_attention_heads\""
                      ": 4}", LT_ERR_FORMAT, "needs 21664 parameters",
                      "model.safetensors hold 19616 values");
    /* one that fits in size but not in shape: the tensor is named */
    expect_load_error("{\"vocab_size\": 64, \"num_hidden_layers\": 2, "
                      "\"intermediate_size\": 40, \"max_position_embeddings\""
                      ": 64, \"num_attention_heads\": 4, \"num_key_value_heads"
                      "\": 2, \"hidden_size\": 32}", LT_ERR_SHAPE,
                      "mlp.down_proj.weight' has shape [32, 48]", "[32, 40]");
    expect_load_error(CFG_HEAD ", \"num_attention_heads\": 4}", LT_ERR_FORMAT,
                      "missing key 'hidden_size'", "config.json");
    expect_load_error(CFG_HEAD ", \"num_attention_heads\": 4, \"hidden_size\""
                      ": \"32\"}", LT_ERR_FORMAT, "'hidden_size'", "integer");
    expect_load_error(CFG_GOOD ",\n\"rope_theta\": 500,\n}", LT_ERR_FORMAT,
                      "malformed JSON at line 3", "config.json");
    expect_load_error(CFG_GOOD ", \"rope_scaling\": {\"type\": \"linear\"}}",
                      LT_ERR_FORMAT, "'rope_scaling'", "config.json");
    expect_load_error(CFG_GOOD ", \"model_type\": \"gpt2\"}", LT_ERR_FORMAT,
                      "'model_type'", "llama");
    expect_load_error(CFG_HEAD ", \"hidden_size\": 32, \"num_attention_heads\""
                      ": 3}", LT_ERR_FORMAT, "multiple", "config.json");
    /* the good config loads (the checks above are not vacuous) */
    char dir[64];
    hf_dir(dir, sizeof dir, CFG_GOOD ", \"rope_theta\": 500}");
    lt_llama *ok = NULL;
    LT_CHECK(lt_llama_load(dir, &ok) == LT_OK, "%s", lt_last_error());
    lt_llama_free(ok);
    rm_tree(dir);
    /* the tied checkpoint lacks lm_head.weight for an untied config */
    char p[256];
    tmp_dir(dir, sizeof dir);
    snprintf(p, sizeof p, "%s/config.json", dir);
    copy_file(DIR_TINY "/config.json", p);
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    copy_file(LT_GOLDEN_DIR "/llama_tied/model.safetensors", p);
    lt_llama *m = NULL;
    LT_CHECK(lt_llama_load(dir, &m) == LT_ERR_FORMAT &&
                 strstr(lt_last_error(), "needs 19616 parameters") &&
                 strstr(lt_last_error(), "tie_word_embeddings is false"),
             "missing lm_head: %s", lt_last_error());
    rm_tree(dir);
}

/* Issue #20: a single-file checkpoint whose metadata config claims a model
 * far larger than its weights (here ~3.4e12 parameters) is refused from
 * the sizes alone, before anything is allocated, naming the file. */
LT_TEST(config_checked_against_weights_before_allocation)
{
    lt_llama_config cfg;
    LT_CHECK(lt_llama_preset("micro", 100, &cfg) == LT_OK, "preset");
    cfg.n_layers = 4096;
    cfg.hidden_size = 8192;
    cfg.n_heads = 64;
    cfg.n_kv_heads = 64;
    cfg.head_dim = 128;
    cfg.intermediate_size = 28672;
    LT_CHECK(lt_llama_config_numel(&cfg) > 3e12, "numel %g",
             lt_llama_config_numel(&cfg));
    char *json = lt_llama_config_json(&cfg, false);
    float x[4] = {1, 2, 3, 4};
    lt_tensor t;
    LT_CHECK(json && lt_tensor_wrap(&t, x, NULL, 1, (int64_t[]){4}) == LT_OK,
             "setup: %s", lt_last_error());
    lt_st_tensor e = lt_st_entry("model.norm.weight", &t);
    const char *meta[2] = {"lethe.llama_config", json};
    char dir[64], path[256];
    tmp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/bomb.safetensors", dir);
    LT_CHECK(lt_st_save(path, &e, 1, meta, 1) == LT_OK, "%s", lt_last_error());
    lt_llama *m = (lt_llama *)1;
    lt_status s = lt_llama_load(path, &m);
    LT_CHECK(s == LT_ERR_FORMAT && !m && strstr(lt_last_error(), path) &&
                 strstr(lt_last_error(), "hold 4 values"),
             "got %s: %s", lt_status_name(s), lt_last_error());
    free(json);
    rm_tree(dir);
}

LT_TEST(index_and_argument_errors)
{
    char dir[64], p[256];
    tmp_dir(dir, sizeof dir);
    snprintf(p, sizeof p, "%s/config.json", dir);
    copy_file(DIR_TINY "/config.json", p);
    snprintf(p, sizeof p, "%s/model.safetensors.index.json", dir);
    write_file(p, "{\"weight_map\": {\"model.norm.weight\": \"../x\"}}");
    lt_llama *m = NULL;
    LT_CHECK(lt_llama_load(dir, &m) == LT_ERR_FORMAT &&
                 strstr(lt_last_error(), "weight_map"),
             "bad shard name: %s", lt_last_error());
    write_file(p, "{\"weight_map\": {\"model.embed_tokens.weight\": "
                  "\"model-00001-of-00002.safetensors\"}}");
    snprintf(p, sizeof p, "%s/model-00001-of-00002.safetensors", dir);
    copy_file(LT_GOLDEN_DIR "/llama_tiny_sharded/"
              "model-00001-of-00002.safetensors", p);
    LT_CHECK(lt_llama_load(dir, &m) == LT_ERR_FORMAT &&
                 strstr(lt_last_error(), "no tensor"),
             "incomplete shards: %s", lt_last_error());
    rm_tree(dir);
    LT_CHECK(lt_llama_load("/nonexistent/lm", &m) != LT_OK && !m,
             "missing path");
    m = llama_test_load(DIR_TINY);
    if (m) {
        lt_ctx *c = lt_ctx_new(1 << 20);
        int32_t ids[70] = {0};
        ids[1] = 64;
        LT_CHECK(!lt_llama_forward(c, m, ids, 1, 2) &&
                     strstr(lt_last_error(), "token id 64"),
                 "bad id: %s", lt_last_error());
        LT_CHECK(!lt_llama_forward(c, m, ids + 2, 1, 65) &&
                     strstr(lt_last_error(), "context of 64"),
                 "too long: %s", lt_last_error());
        lt_ctx_free(c);
    }
    lt_llama_free(m);
    lt_llama_config cfg;
    LT_CHECK(lt_llama_preset("huge", 10, &cfg) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "micro, tiny, small"), "unknown preset");
}

LT_TEST(arena_estimate_holds_a_training_step)
{
    lt_llama_config cfg;
    lt_llama_preset("tiny", 96, &cfg);
    cfg.n_layers = 2;
    cfg.hidden_size = 64;
    cfg.head_dim = 16;
    cfg.intermediate_size = 160;
    lt_llama *m = NULL;
    lt_llama_create(&cfg, &m);
    if (!m)
        return;
    lt_llama_init(m, 3);
    enum { B = 4, T = 48 };
    int32_t ids[B * T];
    for (int i = 0; i < B * T; i++)
        ids[i] = (i * 7 + 3) % 96;
    size_t est = lt_llama_arena_bytes(&cfg, B, T, true);
    lt_ctx *c = lt_ctx_new(est);
    lt_tensor *loss = lt_llama_loss(c, m, ids, NULL, NULL, B, T);
    LT_CHECK_OK(loss);
    LT_CHECK(loss && lt_backward(c, loss) == LT_OK, "%s", lt_last_error());
    /* a fresh model predicts uniformly: loss near log(96) */
    LT_CHECK(loss && fabsf(loss->data[0] - logf(96.0f)) < 0.05f,
             "initial loss %g", loss ? (double)loss->data[0] : 0.0);
    LT_CHECK(lt_ctx_peak(c) <= est, "peak %zu > estimate %zu",
             lt_ctx_peak(c), est);
    lt_ctx_free(c);
    lt_llama_free(m);
}

LT_TEST_MAIN()
