/*
 * fuzz_llama_config.c - libFuzzer harness of the Hugging Face config.json
 * reader of the Llama model (lt_llama_config_parse; lt_llama_config_load
 * reads a file and calls it).
 *
 * Oracles, when the input parses: lt_llama_config_check accepts the
 * result; lt_llama_config_json (compact and pretty) parses back to the
 * same config, field by field, and writes the same text again.
 */
#include "fuzz.h"

static void fz_same(const lt_llama_config *a, const lt_llama_config *b)
{
    FZ_CHECK(a->vocab_size == b->vocab_size && a->hidden_size == b->hidden_size &&
             a->n_layers == b->n_layers && a->n_heads == b->n_heads &&
             a->n_kv_heads == b->n_kv_heads && a->head_dim == b->head_dim &&
             a->intermediate_size == b->intermediate_size &&
             a->max_position_embeddings == b->max_position_embeddings &&
             a->tie_word_embeddings == b->tie_word_embeddings &&
             a->bos_token_id == b->bos_token_id &&
             a->eos_token_id == b->eos_token_id &&
             a->sliding_window == b->sliding_window &&
             a->family == b->family,
             "an integer field changes in the round trip");
    FZ_CHECK(!memcmp(&a->rms_norm_eps, &b->rms_norm_eps, sizeof(double)) &&
             !memcmp(&a->rope_theta, &b->rope_theta, sizeof(double)),
             "rms_norm_eps %.17g/%.17g or rope_theta %.17g/%.17g changes",
             a->rms_norm_eps, b->rms_norm_eps, a->rope_theta, b->rope_theta);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fz_str(data, size);
    lt_llama_config c;
    lt_status s = lt_llama_config_parse(text, "config.json", &c);
    free(text);
    if (s != LT_OK) {
        FZ_CHECK(s == LT_ERR_FORMAT || s == LT_ERR_NOMEM, "status %s",
                 lt_status_name(s));
        return 0;
    }
    FZ_CHECK(lt_llama_config_check(&c, "parsed") == LT_OK,
             "a parsed config fails the check");
    for (int pretty = 0; pretty < 2; pretty++) {
        char *j = lt_llama_config_json(&c, pretty);
        FZ_CHECK(j != NULL, "config_json");
        lt_llama_config d;
        FZ_CHECK(lt_llama_config_parse(j, "written", &d) == LT_OK,
                 "written config does not parse: %s", j);
        fz_same(&c, &d);
        char *k = lt_llama_config_json(&d, pretty);
        FZ_CHECK(k && !strcmp(j, k), "config_json is not a fixed point");
        free(j);
        free(k);
    }
    return 0;
}
