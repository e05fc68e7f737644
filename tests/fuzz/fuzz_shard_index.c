/*
 * fuzz_shard_index.c - libFuzzer harness of the sharded-checkpoint index
 * (model.safetensors.index.json, read by lt_llama_load_weights on a
 * Hugging Face folder without model.safetensors).
 *
 * Setup (once): a tiny Llama (vocab 8, d 4, one layer) saved with one
 * tensor per shard (lt_llama_save, max_shard_bytes 1), plus three more
 * files an index may name: alt.safetensors (model.norm.weight with the
 * same values), bad.safetensors (model.norm.weight of the wrong shape)
 * and extra.safetensors (an unknown tensor and an ignorable rotary
 * inv_freq buffer). Each input replaces the index; the shards stay.
 * Oracle: when the load succeeds, every weight equals the saved model's
 * bit for bit (a successful load can only have read the real values).
 */
#include "fuzz.h"

static lt_llama *fz_ref, *fz_m;
static char fz_ckpt[600];

static void fz_setup(void)
{
    if (fz_ref)
        return;
    lt_llama_config c = {.vocab_size = 8, .hidden_size = 4, .n_layers = 1,
                         .n_heads = 1, .n_kv_heads = 1, .head_dim = 4,
                         .intermediate_size = 4, .rms_norm_eps = 1e-6,
                         .rope_theta = 10000.0, .max_position_embeddings = 16,
                         .tie_word_embeddings = false, .bos_token_id = -1,
                         .eos_token_id = -1};
    FZ_CHECK(lt_llama_create(&c, &fz_ref) == LT_OK &&
             lt_llama_create(&c, &fz_m) == LT_OK, "create");
    lt_llama_init(fz_ref, 7);
    snprintf(fz_ckpt, sizeof fz_ckpt, "%s", fz_path("ckpt"));
    FZ_CHECK(lt_llama_save(fz_ref, fz_ckpt, 1) == LT_OK, "sharded save");
    char p[700];
    lt_tensor *norm = lt_params_get(&fz_ref->params, "model.norm.weight");
    FZ_CHECK(norm != NULL, "no model.norm.weight");
    lt_st_tensor t = lt_st_entry("model.norm.weight", norm);
    snprintf(p, sizeof p, "%s/alt.safetensors", fz_ckpt);
    FZ_CHECK(lt_st_save(p, &t, 1, NULL, 0) == LT_OK, "alt");
    t.shape[0] = 3;
    snprintf(p, sizeof p, "%s/bad.safetensors", fz_ckpt);
    FZ_CHECK(lt_st_save(p, &t, 1, NULL, 0) == LT_OK, "bad");
    lt_st_tensor e[2] = {lt_st_entry("model.unknown.weight", norm),
                         lt_st_entry("model.layers.0.self_attn.rotary_emb."
                                     "inv_freq", norm)};
    snprintf(p, sizeof p, "%s/extra.safetensors", fz_ckpt);
    FZ_CHECK(lt_st_save(p, e, 2, NULL, 0) == LT_OK, "extra");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_setup();
    char p[700];
    snprintf(p, sizeof p, "%s/model.safetensors.index.json", fz_ckpt);
    FILE *f = fopen(p, "wb");
    FZ_CHECK(f && fwrite(data, 1, size, f) == size && fclose(f) == 0,
             "write index");
    memset(fz_m->params.theta, 0xff,
           (size_t)fz_m->params.n_total * sizeof(float));
    lt_status s = lt_llama_load_weights(fz_m, fz_ckpt);
    if (s != LT_OK) {
        FZ_CHECK(s == LT_ERR_FORMAT || s == LT_ERR_SHAPE || s == LT_ERR_IO ||
                 s == LT_ERR_NOMEM || s == LT_ERR_ARG, "status %s",
                 lt_status_name(s));
        return 0;
    }
    FZ_CHECK(fz_m->params.n_total == fz_ref->params.n_total &&
             fz_same_floats(fz_m->params.theta, fz_ref->params.theta,
                            fz_m->params.n_total),
             "a successful load gives other weights");
    return 0;
}
