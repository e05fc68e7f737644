/*
 * clip_io.c - checkpoints of the CLIP-like model (lethe/clip.h): the
 * config as JSON (Hugging Face CLIPTextConfig key names for the text
 * side, Lethe's for the CNN), safetensors files whose metadata carries
 * the config and the vocabulary, and loading with every tensor checked
 * against the config. Writes are atomic (lt_st_save).
 */
#include "clip_internal.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define META_CONFIG "lethe.clip_config"
#define META_VOCAB "lethe.clip_vocab"
#define MODEL_TYPE "lethe-clip"

/* ---- config JSON ------------------------------------------------------------------ */

typedef struct {
    const char *key;
    size_t off;
} int_key;

static const int_key INT_KEYS[] = {
    {"vocab_size", offsetof(lt_clip_config, vocab_size)},
    {"max_position_embeddings", offsetof(lt_clip_config, context_length)},
    {"hidden_size", offsetof(lt_clip_config, width)},
    {"num_hidden_layers", offsetof(lt_clip_config, layers)},
    {"num_attention_heads", offsetof(lt_clip_config, heads)},
    {"intermediate_size", offsetof(lt_clip_config, mlp)},
    {"projection_dim", offsetof(lt_clip_config, embed_dim)},
    {"vision_groups", offsetof(lt_clip_config, vision_groups)},
};
#define N_INT_KEYS (int)(sizeof INT_KEYS / sizeof INT_KEYS[0])

static int *int_field(lt_clip_config *c, int i)
{
    return (int *)((char *)c + INT_KEYS[i].off);
}

char *lt_clip_config_json(const lt_clip_config *cfg)
{
    if (!cfg) {
        lt_set_error(LT_ERR_ARG, "clip config json: config is NULL");
        return NULL;
    }
    lt_clip_config c = *cfg;
    cJSON *o = cJSON_CreateObject();
    bool ok = o && cJSON_AddStringToObject(o, "model_type", MODEL_TYPE) &&
              cJSON_AddStringToObject(o, "hidden_act", "quick_gelu");
    for (int i = 0; ok && i < N_INT_KEYS; i++)
        ok = cJSON_AddNumberToObject(o, INT_KEYS[i].key, *int_field(&c, i));
    ok = ok && cJSON_AddNumberToObject(o, "layer_norm_eps", c.ln_eps) &&
         cJSON_AddNumberToObject(o, "group_norm_eps", c.gn_eps);
    cJSON *w = ok ? cJSON_CreateIntArray(c.vision_widths, c.vision_stages)
                  : NULL;
    ok = w && cJSON_AddItemToObject(o, "vision_widths", w);
    if (!ok && w)
        cJSON_Delete(w);
    char *s = ok ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (!s)
        lt_set_error(LT_ERR_NOMEM, "clip config json: out of memory");
    return s;
}

/* A number at key (finite); LT_ERR_FORMAT naming the key. */
static bool get_number(const cJSON *o, const char *key, const char *what,
                       double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
        lt_set_error(LT_ERR_FORMAT, "%s: key '%s' must be a number", what,
                     key);
        return false;
    }
    *out = v->valuedouble;
    return true;
}

static bool get_int(const cJSON *o, const char *key, const char *what,
                    int *out)
{
    double d;
    if (!get_number(o, key, what, &d))
        return false;
    if (d != floor(d) || fabs(d) > 2147483647.0) {
        lt_set_error(LT_ERR_FORMAT, "%s: key '%s' must be an integer", what,
                     key);
        return false;
    }
    *out = (int)d;
    return true;
}

static lt_status parse_widths(const cJSON *o, const char *what,
                              lt_clip_config *c)
{
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(o, "vision_widths");
    int n = cJSON_IsArray(w) ? cJSON_GetArraySize(w) : 0;
    if (n < 1 || n > LT_CLIP_MAX_STAGES)
        return lt_set_error(LT_ERR_FORMAT, "%s: key 'vision_widths' must be "
                            "an array of 1 to %d integers", what,
                            LT_CLIP_MAX_STAGES);
    c->vision_stages = n;
    for (int i = 0; i < n; i++) {
        const cJSON *e = cJSON_GetArrayItem(w, i);
        if (!cJSON_IsNumber(e) || e->valuedouble != floor(e->valuedouble))
            return lt_set_error(LT_ERR_FORMAT, "%s: vision_widths[%d] is not "
                                "an integer", what, i);
        c->vision_widths[i] = (int)e->valuedouble;
    }
    return LT_OK;
}

static lt_status parse_fields(const cJSON *o, const char *what,
                              lt_clip_config *c)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "model_type");
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(o, "hidden_act");
    if (!cJSON_IsString(t) || strcmp(t->valuestring, MODEL_TYPE))
        return lt_set_error(LT_ERR_FORMAT, "%s: key 'model_type' must be "
                            "\"%s\"", what, MODEL_TYPE);
    if (!cJSON_IsString(act) || strcmp(act->valuestring, "quick_gelu"))
        return lt_set_error(LT_ERR_FORMAT, "%s: key 'hidden_act' must be "
                            "\"quick_gelu\" (the only one supported)", what);
    for (int i = 0; i < N_INT_KEYS; i++)
        if (!get_int(o, INT_KEYS[i].key, what, int_field(c, i)))
            return LT_ERR_FORMAT;
    double ln, gn;
    if (!get_number(o, "layer_norm_eps", what, &ln) ||
        !get_number(o, "group_norm_eps", what, &gn))
        return LT_ERR_FORMAT;
    c->ln_eps = (float)ln;
    c->gn_eps = (float)gn;
    return parse_widths(o, what, c);
}

lt_status lt_clip_config_parse(const char *json, const char *what,
                               lt_clip_config *out)
{
    if (!json || !what || !out)
        return lt_set_error(LT_ERR_ARG, "clip config parse: NULL argument");
    lt_clip_config c;
    memset(&c, 0, sizeof c);
    cJSON *o = cJSON_Parse(json);
    lt_status s = o ? parse_fields(o, what, &c)
                    : lt_set_error(LT_ERR_FORMAT, "%s: not valid JSON", what);
    cJSON_Delete(o);
    if (s == LT_OK && lt_clip_config_check(&c) != LT_OK)
        s = lt_set_error(LT_ERR_FORMAT, "%s: %s", what, lt_last_error());
    if (s == LT_OK)
        *out = c;
    return s;
}

/* ---- save ----------------------------------------------------------------------- */

lt_status lt_clip_save_with(const lt_clip *m, const lt_clip_vocab *v,
                            const char *path, const lt_st_tensor *extra,
                            int n_extra, const char *const *meta, int n_meta)
{
    if (!m || !path || (n_meta > 0 && !meta) || n_meta < 0)
        return lt_set_error(LT_ERR_ARG, "clip save: NULL model, path or "
                            "metadata");
    int n = m->params.count;
    lt_st_tensor *t = calloc((size_t)(n + n_extra), sizeof *t);
    const char **kv = calloc((size_t)(2 * n_meta + 4), sizeof *kv);
    char *cfg = lt_clip_config_json(&m->cfg);
    char *voc = v ? lt_clip_vocab_json(v) : NULL;
    lt_status s = LT_OK;
    if (!t || !kv || !cfg || (v && !voc))
        s = lt_set_error(LT_ERR_NOMEM, "%s: out of memory", path);
    for (int i = 0; s == LT_OK && i < n; i++)
        t[i] = lt_st_entry(m->params.p[i].name, &m->params.p[i].t);
    for (int i = 0; s == LT_OK && i < n_extra; i++)
        t[n + i] = extra[i];
    int k = 0;
    if (s == LT_OK) {
        kv[k++] = META_CONFIG;
        kv[k++] = cfg;
        if (voc) {
            kv[k++] = META_VOCAB;
            kv[k++] = voc;
        }
        for (int i = 0; i < 2 * n_meta; i++)
            kv[k++] = meta[i];
        s = lt_st_save(path, t, n + n_extra, kv, k / 2);
    }
    free(t);
    free(kv);
    free(cfg);
    free(voc);
    return s;
}

lt_status lt_clip_save(const lt_clip *m, const lt_clip_vocab *v,
                       const char *path, const char *const *meta, int n_meta)
{
    return lt_clip_save_with(m, v, path, NULL, 0, meta, n_meta);
}

/* ---- load ----------------------------------------------------------------------- */

lt_status lt_clip_read_weights(lt_clip *m, const lt_st_file *f,
                               const char *path)
{
    for (int i = 0; i < m->params.count; i++) {
        lt_param *p = &m->params.p[i];
        if (!lt_st_get(f, p->name))
            return lt_set_error(LT_ERR_FORMAT, "%s: no tensor '%s'", path,
                                p->name);
        if (lt_st_read_into(f, p->name, &p->t) != LT_OK)
            return lt_set_error(LT_ERR_FORMAT, "%s: %s (the config in the "
                                "metadata disagrees with the weights)", path,
                                lt_last_error());
    }
    size_t k = strlen(LT_CLIP_OPTIM_PREFIX);
    for (int i = 0; i < lt_st_count(f); i++) {
        const char *name = lt_st_at(f, i)->name;
        if (strncmp(name, LT_CLIP_OPTIM_PREFIX, k) &&
            !lt_params_get(&m->params, name))
            return lt_set_error(LT_ERR_FORMAT, "%s: tensor '%s' is not part "
                                "of a CLIP model with this config", path,
                                name);
    }
    lt_clear_error();
    return LT_OK;
}

lt_status lt_clip_read_config(const lt_st_file *f, const char *path,
                              lt_clip_config *out)
{
    const char *cfg = lt_st_meta(f, META_CONFIG);
    if (!cfg)
        return lt_set_error(LT_ERR_FORMAT, "%s: metadata '%s' is missing (not"
                            " a checkpoint written by lt_clip_save)", path,
                            META_CONFIG);
    char what[4200];
    snprintf(what, sizeof what, "%s: metadata %s", path, META_CONFIG);
    return lt_clip_config_parse(cfg, what, out);
}

static lt_status read_vocab(const lt_st_file *f, const char *path,
                            lt_clip_vocab **vocab)
{
    const char *voc = lt_st_meta(f, META_VOCAB);
    if (!voc)
        return LT_OK;
    char what[4200];
    snprintf(what, sizeof what, "%s: metadata %s", path, META_VOCAB);
    return lt_clip_vocab_parse(voc, what, vocab);
}

lt_status lt_clip_load(const char *path, lt_clip **out, lt_clip_vocab **vocab)
{
    if (!path || !out)
        return lt_set_error(LT_ERR_ARG, "clip load: path or out is NULL");
    *out = NULL;
    if (vocab)
        *vocab = NULL;
    lt_st_file *f = NULL;
    lt_clip_config cfg;
    lt_clip *m = NULL;
    lt_status s = lt_st_load(path, &f);
    if (s == LT_OK)
        s = lt_clip_read_config(f, path, &cfg);
    if (s == LT_OK)
        s = lt_clip_create(&cfg, &m);
    if (s == LT_OK)
        s = lt_clip_read_weights(m, f, path);
    if (s == LT_OK && vocab)
        s = read_vocab(f, path, vocab);
    if (s == LT_OK && vocab && *vocab &&
        lt_clip_vocab_size(*vocab) != cfg.vocab_size)
        s = lt_set_error(LT_ERR_FORMAT, "%s: the vocabulary has %d tokens but"
                         " the config's vocab_size is %d", path,
                         lt_clip_vocab_size(*vocab), cfg.vocab_size);
    lt_st_free(f);
    if (s != LT_OK) {
        lt_clip_free(m);
        if (vocab) {
            lt_clip_vocab_free(*vocab);
            *vocab = NULL;
        }
        return s;
    }
    *out = m;
    return LT_OK;
}
