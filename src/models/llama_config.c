/*
 * llama_config.c - configuration of the Llama LM: the presets for this
 * machine, the consistency check, and Hugging Face's config.json (parse
 * with cJSON, naming the file and the key or the line of malformed JSON;
 * write atomically) for the model types "llama", "mistral" (sliding
 * window) and "qwen2" (q/k/v biases). Features Lethe does not implement
 * (rope_scaling, Llama's biases, Qwen2's sliding window, other
 * activations or model types) are refused, not ignored, so a checkpoint
 * never silently computes something else.
 */
#include "lethe/io.h"
#include "lethe/llama.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- presets ------------------------------------------------------------------ */

const char *lt_llama_preset_names(void) { return "micro, tiny, small"; }

static const char *const family_names[] = {"llama", "mistral", "qwen2"};
static const char *const family_archs[] = {
    "LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM"};
#define N_FAMILIES 3

const char *lt_llama_family_name(lt_llama_family f)
{
    return (int)f >= 0 && (int)f < N_FAMILIES ? family_names[f] : NULL;
}

lt_status lt_llama_preset(const char *name, int vocab_size,
                          lt_llama_config *out)
{
    if (!name || !out)
        return lt_set_error(LT_ERR_ARG, "llama_preset: NULL argument");
    lt_llama_config c = {.vocab_size = vocab_size,
                         .rms_norm_eps = 1e-6,
                         .rope_theta = 10000.0,
                         .bos_token_id = -1,
                         .eos_token_id = -1};
    if (!strcmp(name, "micro")) {
        c.n_layers = 2;
        c.hidden_size = 128;
        c.n_heads = c.n_kv_heads = 4;
        c.intermediate_size = 344;
        c.max_position_embeddings = 256;
    } else if (!strcmp(name, "tiny")) {
        c.n_layers = 4;
        c.hidden_size = 256;
        c.n_heads = c.n_kv_heads = 4;
        c.intermediate_size = 688;
        c.max_position_embeddings = 256;
    } else if (!strcmp(name, "small")) {
        c.n_layers = 6;
        c.hidden_size = 384;
        c.n_heads = c.n_kv_heads = 6;
        c.intermediate_size = 1024;
        c.max_position_embeddings = 512;
    } else {
        return lt_set_error(LT_ERR_ARG, "unknown model config '%s' (known: "
                            "%s)", name, lt_llama_preset_names());
    }
    c.head_dim = c.hidden_size / c.n_heads;
    *out = c;
    return lt_llama_config_check(out, name);
}

lt_status lt_llama_config_check(const lt_llama_config *c, const char *what)
{
    const char *why = NULL;
    if (!c)
        why = "no config";
    else if (c->vocab_size < 1 || c->hidden_size < 1 || c->n_layers < 1 ||
             c->n_heads < 1 || c->n_kv_heads < 1 || c->head_dim < 1 ||
             c->intermediate_size < 1 || c->max_position_embeddings < 1)
        why = "vocab_size, hidden_size, num_hidden_layers, heads, head_dim, "
              "intermediate_size and max_position_embeddings must be >= 1";
    else if (c->n_heads % c->n_kv_heads)
        why = "num_attention_heads must be a multiple of num_key_value_heads";
    else if (c->head_dim % 2)
        why = "head_dim must be even (rotary embedding)";
    else if (!(c->rms_norm_eps > 0) || !(c->rope_theta > 0))
        why = "rms_norm_eps and rope_theta must be > 0";
    else if (c->bos_token_id < -1 || c->bos_token_id >= c->vocab_size ||
             c->eos_token_id < -1 || c->eos_token_id >= c->vocab_size)
        why = "bos_token_id and eos_token_id must be token ids (or unset)";
    else if (!lt_llama_family_name(c->family))
        why = "unknown model family";
    else if (c->sliding_window < 0 ||
             (c->sliding_window > 0 && c->family != LT_LLAMA_FAMILY_MISTRAL))
        why = "sliding_window must be >= 0, and 0 unless the model type is "
              "mistral";
    if (why)
        return lt_set_error(LT_ERR_ARG, "%s: %s", what ? what : "llama config",
                            why);
    return LT_OK;
}

/* ---- parsing -------------------------------------------------------------------- */

/* 1-based line of position pos in text. */
static int text_line(const char *text, const char *pos)
{
    int line = 1;
    for (const char *p = text; pos && p < pos && *p; p++)
        line += *p == '\n';
    return line;
}

/* Integer key: absent or null gives def (or an error when required). */
static bool get_int(const cJSON *o, const char *key, const char *what,
                    bool required, int def, int lo, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) {
        if (required) {
            lt_set_error(LT_ERR_FORMAT, "%s: missing key '%s'", what, key);
            return false;
        }
        *out = def;
        return true;
    }
    /* token ids may be lists (several EOS ids): the first one counts */
    if (cJSON_IsArray(v) && cJSON_GetArraySize(v) > 0 && lo < 0)
        v = cJSON_GetArrayItem(v, 0);
    double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    if (!(d >= lo && d <= 2147483647.0 && d == floor(d))) {
        lt_set_error(LT_ERR_FORMAT, "%s: key '%s' must be an integer >= %d",
                     what, key, lo);
        return false;
    }
    *out = (int)d;
    return true;
}

static bool get_num(const cJSON *o, const char *key, const char *what,
                    double def, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) {
        *out = def;
        return true;
    }
    if (!cJSON_IsNumber(v) || !(v->valuedouble > 0) ||
        !isfinite(v->valuedouble)) {
        lt_set_error(LT_ERR_FORMAT, "%s: key '%s' must be a positive number",
                     what, key);
        return false;
    }
    *out = v->valuedouble;
    return true;
}

static bool get_bool(const cJSON *o, const char *key, const char *what,
                     bool *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) {
        *out = false;
        return true;
    }
    if (!cJSON_IsBool(v)) {
        lt_set_error(LT_ERR_FORMAT, "%s: key '%s' must be true or false", what,
                     key);
        return false;
    }
    *out = cJSON_IsTrue(v);
    return true;
}

/* The family of model_type; absent: Llama, or Mistral when the config
 * sets a sliding window (Lethe's configs before model families). */
static bool get_family(const cJSON *o, const char *what, lt_llama_family *f)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "model_type");
    if (!v) {
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(o, "sliding_window");
        *f = cJSON_IsNumber(w) && w->valuedouble > 0 ? LT_LLAMA_FAMILY_MISTRAL
                                                     : LT_LLAMA_FAMILY_LLAMA;
        return true;
    }
    for (int i = 0; cJSON_IsString(v) && i < N_FAMILIES; i++)
        if (!strcmp(v->valuestring, family_names[i])) {
            *f = (lt_llama_family)i;
            return true;
        }
    lt_set_error(LT_ERR_FORMAT, "%s: key 'model_type' must be \"llama\", "
                 "\"mistral\" or \"qwen2\"", what);
    return false;
}

/* Keys whose presence means an architecture Lethe does not compute. */
static bool check_unsupported(const cJSON *o, const char *what,
                              lt_llama_family fam)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "hidden_act");
    if (v && !(cJSON_IsString(v) && !strcmp(v->valuestring, "silu"))) {
        lt_set_error(LT_ERR_FORMAT, "%s: key 'hidden_act': only \"silu\" is "
                     "supported", what);
        return false;
    }
    v = cJSON_GetObjectItemCaseSensitive(o, "rope_scaling");
    if (v && !cJSON_IsNull(v)) {
        lt_set_error(LT_ERR_FORMAT, "%s: key 'rope_scaling' is not supported "
                     "(only plain RoPE with rope_theta)", what);
        return false;
    }
    /* Qwen2's biases are fixed by the architecture (q/k/v on, the rest
     * off) and only Qwen2 reads use_sliding_window; Llama's bias keys
     * would add biases elsewhere too */
    static const char *const bias[3] = {"attention_bias", "mlp_bias",
                                        "use_sliding_window"};
    bool qwen = fam == LT_LLAMA_FAMILY_QWEN2;
    for (int i = qwen ? 1 : 0; i < (qwen ? 3 : 2); i++) {
        bool b;
        if (!get_bool(o, bias[i], what, &b))
            return false;
        if (b) {
            lt_set_error(LT_ERR_FORMAT, "%s: key '%s' is not supported%s",
                         what, bias[i], i < 2 ? " (biases)" :
                         " (Qwen2's per-layer sliding window)");
            return false;
        }
    }
    return true;
}

static bool parse_fields(const cJSON *o, const char *what, lt_llama_config *c)
{
    memset(c, 0, sizeof *c);
    if (!get_family(o, what, &c->family) ||
        !check_unsupported(o, what, c->family) ||
        !get_int(o, "vocab_size", what, true, 0, 1, &c->vocab_size) ||
        !get_int(o, "hidden_size", what, true, 0, 1, &c->hidden_size) ||
        !get_int(o, "num_hidden_layers", what, true, 0, 1, &c->n_layers) ||
        !get_int(o, "num_attention_heads", what, true, 0, 1, &c->n_heads) ||
        !get_int(o, "num_key_value_heads", what, false, c->n_heads, 1,
                 &c->n_kv_heads) ||
        !get_int(o, "head_dim", what, false, c->hidden_size / c->n_heads, 1,
                 &c->head_dim) ||
        !get_int(o, "intermediate_size", what, true, 0, 1,
                 &c->intermediate_size) ||
        !get_int(o, "max_position_embeddings", what, false, 2048, 1,
                 &c->max_position_embeddings) ||
        !get_int(o, "bos_token_id", what, false, -1, -1, &c->bos_token_id) ||
        !get_int(o, "eos_token_id", what, false, -1, -1, &c->eos_token_id) ||
        !get_int(o, "sliding_window", what, false, 0, 0, &c->sliding_window) ||
        !get_num(o, "rms_norm_eps", what, 1e-6, &c->rms_norm_eps) ||
        !get_num(o, "rope_theta", what, 10000.0, &c->rope_theta) ||
        !get_bool(o, "tie_word_embeddings", what, &c->tie_word_embeddings))
        return false;
    if (!cJSON_GetObjectItemCaseSensitive(o, "head_dim") &&
        c->hidden_size % c->n_heads) {
        lt_set_error(LT_ERR_FORMAT, "%s: key 'hidden_size' (%d) is not a "
                     "multiple of 'num_attention_heads' (%d)", what,
                     c->hidden_size, c->n_heads);
        return false;
    }
    /* transformers reads sliding_window for Mistral only (Qwen2's needs
     * use_sliding_window, refused above) */
    if (c->family != LT_LLAMA_FAMILY_MISTRAL)
        c->sliding_window = 0;
    return true;
}

lt_status lt_llama_config_parse(const char *text, const char *what,
                                lt_llama_config *out)
{
    what = what ? what : "config.json";
    if (!text || !out)
        return lt_set_error(LT_ERR_ARG, "%s: NULL argument", what);
    const char *end = NULL;
    cJSON *o = cJSON_ParseWithOpts(text, &end, 0);
    if (!o)
        return lt_set_error(LT_ERR_FORMAT, "%s: malformed JSON at line %d",
                            what, text_line(text, end));
    lt_llama_config c;
    bool ok = cJSON_IsObject(o);
    if (!ok)
        lt_set_error(LT_ERR_FORMAT, "%s: not a JSON object", what);
    ok = ok && parse_fields(o, what, &c);
    cJSON_Delete(o);
    if (!ok)
        return lt_last_status();
    if (lt_llama_config_check(&c, what) != LT_OK)
        return lt_set_error(LT_ERR_FORMAT, "%s", lt_last_error());
    *out = c;
    return LT_OK;
}

lt_status lt_llama_config_load(const char *path, lt_llama_config *out)
{
    char *text = NULL;
    if (lt_read_file(path, &text, NULL) != LT_OK)
        return lt_last_status();
    lt_status s = lt_llama_config_parse(text, path, out);
    free(text);
    return s;
}

/* ---- writing -------------------------------------------------------------------- */

static void add_id(cJSON *o, const char *key, int id)
{
    if (id >= 0)
        cJSON_AddNumberToObject(o, key, id);
    else
        cJSON_AddNullToObject(o, key);
}

/* A finite double written with the fewest digits (15 to 17) that read back
 * as exactly the same value: cJSON's own printer settles for 15 digits
 * that are merely within an epsilon, so a written config.json could load
 * as a different rope_theta. */
static void add_exact(cJSON *o, const char *key, double v)
{
    char buf[40];
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    cJSON_AddRawToObject(o, key, buf);
}

static void add_fields(cJSON *o, const lt_llama_config *c)
{
    lt_llama_family fam = c->family;
    cJSON *arch = cJSON_AddArrayToObject(o, "architectures");
    if (arch)
        cJSON_AddItemToArray(arch, cJSON_CreateString(family_archs[fam]));
    cJSON_AddStringToObject(o, "model_type", family_names[fam]);
    cJSON_AddNumberToObject(o, "vocab_size", c->vocab_size);
    cJSON_AddNumberToObject(o, "hidden_size", c->hidden_size);
    cJSON_AddNumberToObject(o, "intermediate_size", c->intermediate_size);
    cJSON_AddNumberToObject(o, "num_hidden_layers", c->n_layers);
    cJSON_AddNumberToObject(o, "num_attention_heads", c->n_heads);
    cJSON_AddNumberToObject(o, "num_key_value_heads", c->n_kv_heads);
    cJSON_AddNumberToObject(o, "head_dim", c->head_dim);
    cJSON_AddStringToObject(o, "hidden_act", "silu");
    cJSON_AddNumberToObject(o, "max_position_embeddings",
                            c->max_position_embeddings);
    add_exact(o, "rms_norm_eps", c->rms_norm_eps);
    add_exact(o, "rope_theta", c->rope_theta);
    cJSON_AddNullToObject(o, "rope_scaling");
    if (fam == LT_LLAMA_FAMILY_LLAMA) {
        cJSON_AddBoolToObject(o, "attention_bias", false);
        cJSON_AddBoolToObject(o, "mlp_bias", false);
    }
    cJSON_AddBoolToObject(o, "tie_word_embeddings", c->tie_word_embeddings);
    add_id(o, "bos_token_id", c->bos_token_id);
    add_id(o, "eos_token_id", c->eos_token_id);
    if (fam == LT_LLAMA_FAMILY_MISTRAL)
        add_id(o, "sliding_window", c->sliding_window > 0 ? c->sliding_window
                                                          : -1);
    if (fam == LT_LLAMA_FAMILY_QWEN2) {
        cJSON_AddBoolToObject(o, "use_sliding_window", false);
        cJSON_AddNullToObject(o, "sliding_window");
        cJSON_AddNumberToObject(o, "max_window_layers", c->n_layers);
    }
    cJSON_AddNumberToObject(o, "initializer_range", 0.02);
    cJSON_AddStringToObject(o, "torch_dtype", "float32");
    cJSON_AddBoolToObject(o, "use_cache", true);
}

char *lt_llama_config_json(const lt_llama_config *cfg, bool pretty)
{
    if (lt_llama_config_check(cfg, "llama config") != LT_OK)
        return NULL;
    cJSON *o = cJSON_CreateObject();
    if (o)
        add_fields(o, cfg);
    char *s = o ? (pretty ? cJSON_Print(o) : cJSON_PrintUnformatted(o))
                : NULL;
    cJSON_Delete(o);
    if (!s)
        lt_set_error(LT_ERR_NOMEM, "llama config: out of memory for JSON");
    return s;
}

lt_status lt_llama_config_save(const lt_llama_config *cfg, const char *path)
{
    if (!path)
        return lt_set_error(LT_ERR_ARG, "llama_config_save: path is NULL");
    char *s = lt_llama_config_json(cfg, true);
    if (!s)
        return lt_last_status();
    lt_status st = lt_write_text_atomic(path, s);
    cJSON_free(s);
    return st;
}
