/*
 * test_hf_models.c - the Mistral and Qwen2 families of the Llama LM against
 * the PyTorch twins of tests/golden/gen_hf_models.py: logits, loss,
 * per-sequence NLL, token log-probs and the gradient of every parameter
 * (Mistral with a sliding window that truncates, Qwen2 with q/k/v biases,
 * tied, from shards); the windowed attention op (goldens and finite
 * differences); the KV cache and greedy generation past the window;
 * config.json read and written with Hugging Face's keys; init of biases;
 * memory-mapped safetensors loading (lt_st_open) against lt_st_load.
 */
#include "lethe/io.h"
#include "lethe/llama.h"
#include "lethe/safetensors.h"
#include "llama_test.h"
#include "lt_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GB 2 /* golden batch and length (length > the window of 3) */
#define GT 10
#define DIR_MISTRAL LT_GOLDEN_DIR "/mistral_tiny"
#define DIR_QWEN2 LT_GOLDEN_DIR "/qwen2_tiny"

static void golden_ids(const lt_golden *g, const char *prefix, int32_t *ids,
                       int32_t *labels)
{
    char a[64], b[64];
    snprintf(a, sizeof a, "%sids", prefix);
    snprintf(b, sizeof b, "%slabels", prefix);
    const lt_golden_entry *ea = lt_golden_get(g, a), *eb = lt_golden_get(g, b);
    LT_CHECK(ea && eb, "golden ids of %s", prefix);
    for (int i = 0; ea && eb && i < GB * GT; i++) {
        ids[i] = (int32_t)lrintf(ea->data[i]);
        labels[i] = (int32_t)lrintf(eb->data[i]);
    }
}

/* Forward values, token log-probs and every gradient against prefix*. */
static void check_golden(lt_llama *m, const lt_golden *g, const char *prefix)
{
    int32_t ids[GB * GT], labels[GB * GT];
    golden_ids(g, prefix, ids, labels);
    char name[160];
    lt_ctx *c = lt_ctx_new(lt_llama_arena_bytes(&m->cfg, GB, GT, true) * 2);
    if (!llama_check_forward_grads(c, m, g, prefix, ids, labels, GB, GT))
        goto done;
    float lp[GB * (GT - 1)];
    lt_ctx_reset(c);
    LT_CHECK(lt_llama_token_logprobs(c, m, ids, GB, GT, NULL, lp) == LT_OK,
             "%s", lt_last_error());
    snprintf(name, sizeof name, "%stoken_logprobs", prefix);
    LT_GOLDEN_CHECK(g, name, lp, GB * (GT - 1));
done:
    lt_ctx_free(c);
}

LT_TEST(mistral_golden_sliding_window)
{
    lt_golden *g = lt_golden_load("hf_models.bin");
    lt_llama *m = llama_test_load(DIR_MISTRAL);
    if (g && m) {
        LT_CHECK(m->cfg.family == LT_LLAMA_FAMILY_MISTRAL &&
                     m->cfg.sliding_window == 3 &&
                     m->cfg.rms_norm_eps == 1e-5 &&
                     !m->cfg.tie_word_embeddings,
                 "config.json fields");
        check_golden(m, g, "mistral.");
        /* the window matters here: without it the logits differ */
        int32_t ids[GB * GT], labels[GB * GT];
        golden_ids(g, "mistral.", ids, labels);
        m->cfg.sliding_window = 0;
        lt_ctx *c = lt_ctx_new(lt_llama_arena_bytes(&m->cfg, GB, GT, false));
        lt_set_grad_enabled(c, false);
        lt_tensor *y = lt_llama_forward(c, m, ids, GB, GT);
        const lt_golden_entry *e = lt_golden_get(g, "mistral.logits");
        double diff = 0;
        for (int64_t i = 0; y && e && i < y->numel; i++)
            diff = fmax(diff, fabs((double)y->data[i] - e->data[i]));
        LT_CHECK(diff > 0.1, "the window changes nothing (%g)", diff);
        lt_ctx_free(c);
    }
    lt_llama_free(m);
    lt_golden_free(g);
}

LT_TEST(qwen2_golden_biases_tied_sharded)
{
    lt_golden *g = lt_golden_load("hf_models.bin");
    lt_llama *m = llama_test_load(DIR_QWEN2);
    if (g && m) {
        LT_CHECK(m->cfg.family == LT_LLAMA_FAMILY_QWEN2 &&
                     m->cfg.sliding_window == 0 &&
                     m->cfg.tie_word_embeddings &&
                     m->cfg.rope_theta == 1000000.0,
                 "config.json fields");
        LT_CHECK(lt_params_get(&m->params,
                               "model.layers.1.self_attn.k_proj.bias") &&
                     m->layers[0].q_bias &&
                     m->layers[0].q_bias->data[0] != 0.0f,
                 "q/k/v biases loaded");
        LT_CHECK(!lt_params_get(&m->params,
                                "model.layers.0.self_attn.o_proj.bias"),
                 "o_proj has no bias");
        lt_clear_error();
        check_golden(m, g, "qwen2.");
    }
    lt_llama_free(m);
    lt_golden_free(g);
}

/* ---- the windowed attention op ---------------------------------------------- */

static void win_golden(lt_ctx *c, const lt_golden *g, const char *name)
{
    char key[64];
    static const char *const nm[3] = {"q", "k", "v"};
    lt_tensor *in[3];
    for (int i = 0; i < 3; i++) {
        snprintf(key, sizeof key, "win_%s.%s", name, nm[i]);
        in[i] = lt_golden_tensor(c, g, key, true);
    }
    snprintf(key, sizeof key, "win_%s.window", name);
    const lt_golden_entry *w = lt_golden_get(g, key);
    if (!w)
        return;
    lt_tensor *y = lt_attention_window(c, in[0], in[1], in[2], true, 0.0f,
                                       (int64_t)w->data[0]);
    LT_CHECK(y != NULL, "%s: %s", name, lt_last_error());
    if (!y)
        return;
    snprintf(key, sizeof key, "win_%s.y", name);
    LT_GOLDEN_CHECK(g, key, y->data, y->numel);
    snprintf(key, sizeof key, "win_%s.r", name);
    lt_tensor *r = lt_golden_tensor(c, g, key, false);
    LT_CHECK(r && lt_backward_with(c, y, r->data) == LT_OK, "%s: %s", name,
             lt_last_error());
    for (int i = 0; i < 3; i++) {
        snprintf(key, sizeof key, "win_%s.d%s", name, nm[i]);
        LT_GOLDEN_CHECK(g, key, in[i]->grad, in[i]->numel);
    }
}

LT_TEST(attention_window_golden)
{
    lt_golden *g = lt_golden_load("hf_models.bin");
    lt_ctx *c = lt_ctx_new(1 << 23);
    static const char *const cases[] = {"small", "blocks", "kvcache", "one"};
    for (int i = 0; g && i < 4; i++) {
        win_golden(c, g, cases[i]);
        lt_ctx_reset(c);
    }
    /* a window needs the causal mask */
    lt_tensor *q = lt_new4(c, 1, 1, 2, 2);
    lt_clear_error();
    LT_CHECK(!lt_attention_window(c, q, q, q, false, 0.0f, 2) &&
                 strstr(lt_last_error(), "causal"),
             "non-causal window: %s", lt_last_error());
    lt_ctx_free(c);
    lt_golden_free(g);
}

static lt_tensor *fn_win(lt_ctx *c, lt_tensor **in, void *ud)
{
    return lt_attention_window(c, in[0], in[1], in[2], true, 0.0f,
                               *(const int64_t *)ud);
}

static void win_gradcheck(const char *what, int64_t H, int64_t Hkv,
                          int64_t Tq, int64_t Tk, int64_t window)
{
    lt_tensor *in[3] = {
        lt_gc_input(4, (int64_t[]){1, H, Tq, 4}, true, 61, -1.5f, 1.5f),
        lt_gc_input(4, (int64_t[]){1, Hkv, Tk, 4}, true, 62, -1.5f, 1.5f),
        lt_gc_input(4, (int64_t[]){1, Hkv, Tk, 4}, true, 63, -1.5f, 1.5f)};
    LT_GRADCHECK(what, fn_win, &window, 3, in, 1e-2, 1e-2);
    for (int i = 0; i < 3; i++)
        lt_gc_input_free(in[i]);
}

LT_TEST(attention_window_gradcheck)
{
    win_gradcheck("window 2", 2, 1, 6, 6, 2);
    win_gradcheck("window 3, kv cache", 2, 2, 3, 7, 3);
    win_gradcheck("window wider than the keys", 1, 1, 4, 4, 9);
}

/* ---- KV cache and generation past the window ---------------------------------- */

/* Prefill 4 positions, then one at a time: each row equals the full
 * forward (the cache keeps every key; the window applies to positions). */
static void cache_matches(const char *dir, const char *prefix)
{
    lt_golden *g = lt_golden_load("hf_models.bin");
    lt_llama *m = llama_test_load(dir);
    int32_t ids[GB * GT], labels[GB * GT], step[GB], pre[GB * 4];
    lt_llama_cache *kv = NULL;
    if (!g || !m)
        goto done;
    golden_ids(g, prefix, ids, labels);
    lt_ctx *c = lt_ctx_new(lt_llama_arena_bytes(&m->cfg, GB, GT, false) * 2);
    lt_set_grad_enabled(c, false);
    lt_tensor *full = lt_llama_forward(c, m, ids, GB, GT);
    LT_CHECK(lt_llama_cache_new(m, GB, GT, &kv) == LT_OK, "%s",
             lt_last_error());
    int64_t V = m->cfg.vocab_size;
    for (int b = 0; b < GB; b++)
        memcpy(pre + b * 4, ids + b * GT, 4 * sizeof *pre);
    lt_tensor *y = lt_llama_forward_cached(c, m, kv, pre, GB, 4);
    for (int b = 0; y && full && b < GB; b++)
        LT_CHECK_CLOSE(prefix, y->data + b * 4 * V, full->data + b * GT * V,
                       4 * V, 1e-4);
    for (int t = 4; t < GT && full; t++) {
        for (int b = 0; b < GB; b++)
            step[b] = ids[b * GT + t];
        y = lt_llama_forward_cached(c, m, kv, step, GB, 1);
        LT_CHECK_OK(y);
        for (int b = 0; y && b < GB; b++)
            LT_CHECK_CLOSE(prefix, y->data + b * V,
                           full->data + (b * GT + t) * V, V, 1e-4);
    }
    lt_llama_cache_free(kv);
    lt_ctx_free(c);
done:
    lt_llama_free(m);
    lt_golden_free(g);
}

LT_TEST(kv_cache_equals_full_forward)
{
    cache_matches(DIR_MISTRAL, "mistral.");
    cache_matches(DIR_QWEN2, "qwen2.");
}

/* Greedy generation well past the window equals argmax of the full
 * forward on the growing sequence. */
LT_TEST(generate_past_the_window)
{
    lt_llama *m = llama_test_load(DIR_MISTRAL);
    if (!m)
        return;
    int32_t prompt[5] = {5, 9, 3, 17, 40}, out[12], seq[17];
    int64_t n = 0;
    lt_llama_gen_opts o = lt_llama_gen_defaults(m);
    o.max_new_tokens = 12;
    o.eos_id = -1;
    LT_CHECK(lt_llama_generate(m, prompt, 5, &o, out, &n) == LT_OK && n == 12,
             "generate: %s", lt_last_error());
    memcpy(seq, prompt, sizeof prompt);
    lt_ctx *c = lt_ctx_new(lt_llama_arena_bytes(&m->cfg, 1, 17, false));
    lt_set_grad_enabled(c, false);
    int64_t V = m->cfg.vocab_size;
    for (int t = 0; t < n; t++) {
        lt_ctx_reset(c);
        lt_tensor *y = lt_llama_forward(c, m, seq, 1, 5 + t);
        if (!y)
            break;
        const float *row = y->data + (4 + t) * V;
        int32_t best = 0;
        for (int32_t j = 1; j < V; j++)
            best = row[j] > row[best] ? j : best;
        LT_CHECK(out[t] == best, "token %d: %d, full forward says %d", t,
                 out[t], best);
        seq[5 + t] = best;
    }
    lt_ctx_free(c);
    lt_llama_free(m);
}

/* ---- config.json and checkpoints -------------------------------------------------- */

static bool same_weights(const lt_llama *a, const lt_llama *b)
{
    return a && b && a->params.n_total == b->params.n_total &&
           !memcmp(a->params.theta, b->params.theta,
                   (size_t)a->params.n_total * sizeof(float));
}

/* Saved as a Hugging Face folder, the model reloads bit-exact with the
 * same family and window, and config.json has transformers' keys. */
static void round_trip(const char *dir, const char *want1, const char *want2,
                       const char *absent)
{
    lt_llama *m = llama_test_load(dir), *r = NULL;
    char tmp[64] = "/tmp/lt_hfm_XXXXXX", path[256], cfgp[300], cmd[320];
    LT_CHECK(mkdtemp(tmp) != NULL, "mkdtemp");
    snprintf(path, sizeof path, "%s/hf", tmp);
    LT_CHECK(m && lt_llama_save(m, path, 30000) == LT_OK, "save: %s",
             lt_last_error());
    LT_CHECK(lt_llama_load(path, &r) == LT_OK, "reload: %s", lt_last_error());
    LT_CHECK(same_weights(m, r) && r->cfg.family == m->cfg.family &&
                 r->cfg.sliding_window == m->cfg.sliding_window &&
                 r->cfg.tie_word_embeddings == m->cfg.tie_word_embeddings,
             "%s: round trip", dir);
    snprintf(cfgp, sizeof cfgp, "%s/config.json", path);
    char *text = NULL;
    LT_CHECK(lt_read_file(cfgp, &text, NULL) == LT_OK, "%s", lt_last_error());
    LT_CHECK(text && strstr(text, want1) && strstr(text, want2) &&
                 !strstr(text, absent),
             "%s: config.json lacks %s / %s or has %s:\n%s", dir, want1,
             want2, absent, text ? text : "");
    free(text);
    lt_llama_free(m);
    lt_llama_free(r);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    LT_CHECK(system(cmd) == 0, "rm");
}

LT_TEST(save_reload_with_hf_keys)
{
    round_trip(DIR_MISTRAL, "\"model_type\":\t\"mistral\"",
               "\"sliding_window\":\t3", "attention_bias");
    round_trip(DIR_QWEN2, "\"architectures\":\t[\"Qwen2ForCausalLM\"]",
               "\"use_sliding_window\":\tfalse", "attention_bias");
}

#define CFG_BASE "{\"vocab_size\": 64, \"num_hidden_layers\": 1, " \
                 "\"intermediate_size\": 8, \"hidden_size\": 8, " \
                 "\"num_attention_heads\": 2"

LT_TEST(config_families_and_errors)
{
    lt_llama_config c;
    /* sliding_window counts for Mistral only, as in transformers */
    LT_CHECK(lt_llama_config_parse(CFG_BASE ", \"model_type\": \"llama\", "
                                   "\"sliding_window\": 4}", "a.json",
                                   &c) == LT_OK &&
                 c.family == LT_LLAMA_FAMILY_LLAMA && c.sliding_window == 0,
             "llama with sliding_window: %s", lt_last_error());
    LT_CHECK(lt_llama_config_parse(CFG_BASE ", \"sliding_window\": 4}",
                                   "b.json", &c) == LT_OK &&
                 c.family == LT_LLAMA_FAMILY_MISTRAL && c.sliding_window == 4,
             "no model_type, a window: %s", lt_last_error());
    LT_CHECK(lt_llama_config_parse(CFG_BASE ", \"model_type\": \"mistral\", "
                                   "\"sliding_window\": null}", "c.json",
                                   &c) == LT_OK &&
                 c.family == LT_LLAMA_FAMILY_MISTRAL && c.sliding_window == 0,
             "mistral without a window: %s", lt_last_error());
    LT_CHECK(lt_llama_config_parse(CFG_BASE ", \"model_type\": \"qwen2\", "
                                   "\"sliding_window\": 4096, "
                                   "\"use_sliding_window\": false}", "d.json",
                                   &c) == LT_OK &&
                 c.family == LT_LLAMA_FAMILY_QWEN2 && c.sliding_window == 0,
             "qwen2: %s", lt_last_error());
    lt_clear_error();
    LT_CHECK(lt_llama_config_parse(CFG_BASE ", \"model_type\": \"qwen2\", "
                                   "\"use_sliding_window\": true}", "e.json",
                                   &c) == LT_ERR_FORMAT &&
                 strstr(lt_last_error(), "e.json") &&
                 strstr(lt_last_error(), "'use_sliding_window'"),
             "qwen2 window: %s", lt_last_error());
    LT_CHECK(lt_llama_config_parse(CFG_BASE ", \"model_type\": \"mistral\", "
                                   "\"use_sliding_window\": true}", "h.json",
                                   &c) == LT_OK,
             "use_sliding_window is Qwen2's key: %s", lt_last_error());
    LT_CHECK(lt_llama_config_parse(CFG_BASE ", \"model_type\": \"qwen3\"}",
                                   "f.json", &c) == LT_ERR_FORMAT &&
                 strstr(lt_last_error(), "qwen2"),
             "qwen3: %s", lt_last_error());
    LT_CHECK(lt_llama_config_parse(CFG_BASE ", \"model_type\": \"mistral\", "
                                   "\"attention_bias\": true}", "g.json",
                                   &c) == LT_ERR_FORMAT &&
                 strstr(lt_last_error(), "'attention_bias'"),
             "mistral bias: %s", lt_last_error());
    /* the check: a window belongs to Mistral */
    LT_CHECK(lt_llama_preset("micro", 50, &c) == LT_OK, "preset");
    c.sliding_window = 8;
    LT_CHECK(lt_llama_config_check(&c, "cfg") == LT_ERR_ARG, "llama window");
    c.family = LT_LLAMA_FAMILY_MISTRAL;
    LT_CHECK(lt_llama_config_check(&c, "cfg") == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(!strcmp(lt_llama_family_name(LT_LLAMA_FAMILY_QWEN2), "qwen2") &&
                 !lt_llama_family_name((lt_llama_family)7),
             "family names");
}

/* Hugging Face init: biases 0, norms 1; the parameter count includes the
 * biases. */
LT_TEST(qwen2_init_and_numel)
{
    lt_llama_config c;
    LT_CHECK(lt_llama_preset("micro", 50, &c) == LT_OK, "preset");
    c.family = LT_LLAMA_FAMILY_QWEN2;
    lt_llama *m = NULL;
    LT_CHECK(lt_llama_create(&c, &m) == LT_OK, "%s", lt_last_error());
    if (!m)
        return;
    lt_llama_init(m, 3);
    double extra = 2.0 * (128 + 2 * 128); /* 2 layers of q|k|v biases */
    lt_llama_config plain = c;
    plain.family = LT_LLAMA_FAMILY_LLAMA;
    LT_CHECK(lt_llama_config_numel(&c) == (double)m->params.n_total &&
                 lt_llama_config_numel(&c) ==
                     lt_llama_config_numel(&plain) + extra,
             "numel %g, store %lld", lt_llama_config_numel(&c),
             (long long)m->params.n_total);
    bool zero = true;
    for (int l = 0; l < c.n_layers; l++)
        for (int64_t i = 0; i < m->layers[l].qkv_bias.numel; i++)
            zero = zero && m->layers[l].qkv_bias.data[i] == 0.0f;
    LT_CHECK(zero && m->layers[1].qkv_bias.numel == 384 &&
                 m->layers[0].input_norm->data[0] == 1.0f,
             "bias init");
    lt_llama_free(m);
}

/* ---- mapped loading (lt_st_open) ------------------------------------------------ */

/* Every tensor of the golden safetensors files (F32, F16, BF16, mixed
 * dtypes) comes out of the mapping with the bits lt_st_load gives. */
LT_TEST(mapped_open_equals_load)
{
    static const char *const files[] = {"st_ref", "st_f16", "st_bf16",
                                        "st_mixed"};
    for (int k = 0; k < 4; k++) {
        char path[512];
        snprintf(path, sizeof path, LT_GOLDEN_DIR "/%s.safetensors",
                 files[k]);
        lt_st_file *a = NULL, *b = NULL;
        LT_CHECK(lt_st_load(path, &a) == LT_OK &&
                     lt_st_open(path, &b) == LT_OK,
                 "%s: %s", path, lt_last_error());
        if (!a || !b) {
            lt_st_free(a);
            lt_st_free(b);
            continue;
        }
        LT_CHECK(lt_st_count(a) == lt_st_count(b) && lt_st_count(a) > 0,
                 "%s: tensor count", path);
        for (int i = 0; i < lt_st_count(a); i++) {
            const lt_st_tensor *x = lt_st_at(a, i), *y = lt_st_at(b, i);
            float *v = calloc((size_t)y->numel + 1, sizeof *v);
            LT_CHECK(v && !y->data && !strcmp(x->name, y->name) &&
                         lt_st_copy_f32(b, y, v) == LT_OK,
                     "%s: %s", path, x->name);
            LT_CHECK(v && !memcmp(v, x->data, (size_t)x->numel * 4),
                     "%s: %s differs when mapped", path, x->name);
            free(v);
        }
        /* a tensor of another file is refused */
        float one[1];
        lt_clear_error();
        LT_CHECK(lt_st_copy_f32(b, lt_st_at(a, 0), one) == LT_ERR_ARG,
                 "foreign tensor accepted");
        lt_st_free(a);
        lt_st_free(b);
    }
    /* a damaged file fails the same way */
    char dir[64] = "/tmp/lt_hfm_XXXXXX", bad[128], cmd[300];
    LT_CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(bad, sizeof bad, "%s/cut.safetensors", dir);
    snprintf(cmd, sizeof cmd, "head -c 100 '%s' > '%s'",
             LT_GOLDEN_DIR "/st_ref.safetensors", bad);
    LT_CHECK(system(cmd) == 0, "cut");
    lt_st_file *c = NULL;
    LT_CHECK(lt_st_open(bad, &c) == LT_ERR_FORMAT && !c &&
                 strstr(lt_last_error(), bad),
             "truncated file: %s", lt_last_error());
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    LT_CHECK(system(cmd) == 0, "rm");
}

LT_TEST_MAIN()
