/*
 * llama_io.c - Llama checkpoints in Hugging Face's layout: a directory
 * with config.json and model.safetensors, or shards
 * model-0000i-of-0000N.safetensors listed by model.safetensors.index.json
 * ({"metadata": {"total_size": bytes}, "weight_map": {name: shard}}), and
 * Lethe's single-file form (the config in the safetensors metadata).
 * Every tensor is checked against the shape the config implies and errors
 * name the tensor and the file; every file is written atomically. Weight
 * files are memory-mapped (lt_st_open) and each tensor converted (F32,
 * F16, BF16 -> float32) straight into its parameter, so loading holds no
 * second copy of the weights beside the model.
 */
#include "lethe/io.h"
#include "lethe/llama.h"
#include "lethe/safetensors.h"
#include "llama_internal.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFIG_NAME "config.json"
#define SINGLE_NAME "model.safetensors"
#define INDEX_NAME "model.safetensors.index.json"
#define META_CONFIG "lethe.llama_config"
#define META_TOKENIZER "lethe.tokenizer_sha256"
#define MAX_EXTRA_META 8

/* ---- small file helpers ----------------------------------------------------- */

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

/* dir + "/" + name into buf; false (error set) if too long. */
static bool join(char *buf, size_t n, const char *dir, const char *name)
{
    if (snprintf(buf, n, "%s/%s", dir, name) >= (int)n) {
        lt_set_error(LT_ERR_ARG, "%s/%s: path too long", dir, name);
        return false;
    }
    return true;
}

/* ---- reading weights ------------------------------------------------------- */

static int find_param(const lt_llama *m, const char *name)
{
    for (int i = 0; i < m->params.count; i++)
        if (!strcmp(m->params.p[i].name, name))
            return i;
    return -1;
}

/* Tensors a Llama checkpoint may carry that are not parameters. */
static bool ignorable(const lt_llama *m, const char *name)
{
    return ends_with(name, ".rotary_emb.inv_freq") ||
           (m->cfg.tie_word_embeddings && !strcmp(name, "lm_head.weight"));
}

static lt_status apply_tensor(lt_llama *m, const lt_st_file *f,
                              const lt_st_tensor *t, const char *path,
                              uint8_t *seen)
{
    int i = find_param(m, t->name);
    if (i < 0) {
        if (ignorable(m, t->name))
            return LT_OK;
        return lt_set_error(LT_ERR_FORMAT, "%s: tensor '%s' is not part of "
                            "a Llama model with this config", path, t->name);
    }
    lt_tensor *p = &m->params.p[i].t;
    if (seen[i])
        return lt_set_error(LT_ERR_FORMAT, "%s: tensor '%s' appears twice in "
                            "the checkpoint", path, t->name);
    bool same = t->ndim == p->ndim;
    for (int d = 0; same && d < p->ndim; d++)
        same = t->shape[d] == p->shape[d];
    if (!same) {
        char got[96], want[96];
        lt_shape_fmt(t->ndim, t->shape, got, sizeof got);
        lt_shape_fmt(p->ndim, p->shape, want, sizeof want);
        return lt_set_error(LT_ERR_SHAPE, "%s: tensor '%s' has shape %s but "
                            "the config (hidden_size %d, intermediate_size "
                            "%d, heads %d/%d kv, head_dim %d, vocab %d) needs "
                            "%s", path, t->name, got, m->cfg.hidden_size,
                            m->cfg.intermediate_size, m->cfg.n_heads,
                            m->cfg.n_kv_heads, m->cfg.head_dim,
                            m->cfg.vocab_size, want);
    }
    if (lt_st_copy_f32(f, t, p->data) != LT_OK)
        return lt_last_status();
    seen[i] = 1;
    return LT_OK;
}

static lt_status apply_file(lt_llama *m, const lt_st_file *f,
                            const char *path, uint8_t *seen)
{
    const char *tok = lt_st_meta(f, META_TOKENIZER);
    if (tok && strlen(tok) == 64)
        memcpy(m->tokenizer_sha256, tok, 65);
    for (int i = 0; i < lt_st_count(f); i++)
        if (apply_tensor(m, f, lt_st_at(f, i), path, seen) != LT_OK)
            return lt_last_status();
    return LT_OK;
}

static lt_status check_all_seen(const lt_llama *m, const uint8_t *seen,
                                const char *path)
{
    for (int i = 0; i < m->params.count; i++)
        if (!seen[i])
            return lt_set_error(LT_ERR_FORMAT, "%s: no tensor '%s'%s", path,
                                m->params.p[i].name,
                                !strcmp(m->params.p[i].name, "lm_head.weight")
                                    ? " (config.json says tie_word_embeddings"
                                      " is false)"
                                    : "");
    return LT_OK;
}

static lt_status load_single(lt_llama *m, const char *path, uint8_t *seen)
{
    lt_st_file *f = NULL;
    if (lt_st_open(path, &f) != LT_OK)
        return lt_last_status();
    lt_status s = apply_file(m, f, path, seen);
    lt_st_free(f);
    return s == LT_OK ? check_all_seen(m, seen, path) : s;
}

/* A shard name from an index must be a plain file name in the directory. */
static bool shard_name_ok(const char *s)
{
    return *s && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..");
}

/* Load the shard `file` and check the index's entries that name it. */
static lt_status load_shard(lt_llama *m, const char *dir, const char *file,
                            const cJSON *map, const char *index_path,
                            uint8_t *seen)
{
    char path[4200];
    if (!join(path, sizeof path, dir, file))
        return lt_last_status();
    lt_st_file *f = NULL;
    if (lt_st_open(path, &f) != LT_OK)
        return lt_last_status();
    lt_status s = apply_file(m, f, path, seen);
    for (const cJSON *e = map->child; s == LT_OK && e; e = e->next)
        if (!strcmp(e->valuestring, file) && !lt_st_get(f, e->string))
            s = lt_set_error(LT_ERR_FORMAT, "%s: tensor '%s' is mapped to %s, "
                             "which does not hold it", index_path, e->string,
                             path);
    lt_st_free(f);
    return s;
}

/* The weight_map object of an index, its values checked; NULL on error. */
static const cJSON *index_map(const cJSON *root, const char *path)
{
    const cJSON *map = cJSON_IsObject(root)
        ? cJSON_GetObjectItemCaseSensitive(root, "weight_map") : NULL;
    if (!cJSON_IsObject(map)) {
        lt_set_error(LT_ERR_FORMAT, "%s: missing key 'weight_map' (an object "
                     "of tensor name -> shard file)", path);
        return NULL;
    }
    for (const cJSON *e = map->child; e; e = e->next)
        if (!cJSON_IsString(e) || !shard_name_ok(e->valuestring)) {
            lt_set_error(LT_ERR_FORMAT, "%s: key 'weight_map': entry '%s' must"
                         " name a file in the same directory", path,
                         e->string);
            return NULL;
        }
    return map;
}

static lt_status load_sharded(lt_llama *m, const char *dir, uint8_t *seen)
{
    char path[4200];
    char *text = NULL;
    if (!join(path, sizeof path, dir, INDEX_NAME) ||
        lt_read_file(path, &text, NULL) != LT_OK)
        return lt_last_status();
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 0);
    lt_status s = LT_OK;
    if (!root) {
        int line = 1;
        for (const char *p = text; end && p < end; p++)
            line += *p == '\n';
        s = lt_set_error(LT_ERR_FORMAT, "%s: malformed JSON at line %d", path,
                         line);
    }
    const cJSON *map = root ? index_map(root, path) : NULL;
    if (root && !map)
        s = lt_last_status();
    /* each shard once, in the order of first mention */
    for (const cJSON *e = map ? map->child : NULL; s == LT_OK && e;
         e = e->next) {
        bool first = true;
        for (const cJSON *p = map->child; p != e && first; p = p->next)
            first = strcmp(p->valuestring, e->valuestring) != 0;
        if (first)
            s = load_shard(m, dir, e->valuestring, map, path, seen);
    }
    cJSON_Delete(root);
    free(text);
    return s == LT_OK ? check_all_seen(m, seen, path) : s;
}

lt_status lt_llama_load_weights(lt_llama *m, const char *path)
{
    if (!m || !path)
        return lt_set_error(LT_ERR_ARG, "llama_load_weights: NULL argument");
    uint8_t *seen = calloc((size_t)m->params.count + 1, 1);
    if (!seen)
        return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", path);
    char file[4200];
    lt_status s;
    if (!is_dir(path))
        s = load_single(m, path, seen);
    else if (!join(file, sizeof file, path, SINGLE_NAME))
        s = lt_last_status();
    else if (exists(file))
        s = load_single(m, file, seen);
    else if (join(file, sizeof file, path, INDEX_NAME) && exists(file))
        s = load_sharded(m, path, seen);
    else
        s = lt_set_error(LT_ERR_IO, "%s: neither %s nor %s is there", path,
                         SINGLE_NAME, INDEX_NAME);
    free(seen);
    return s;
}

/* ---- loading a model -------------------------------------------------------- */

/* The config of the loaded single .safetensors file f: its metadata, else
 * config.json in the same directory; cfg_what gets the config's source. */
static lt_status file_config(const lt_st_file *f, const char *path,
                             lt_llama_config *cfg, char *what, size_t n)
{
    const char *meta = lt_st_meta(f, META_CONFIG);
    if (meta) {
        snprintf(what, n, "%s (metadata %s)", path, META_CONFIG);
        return lt_llama_config_parse(meta, what, cfg);
    }
    const char *slash = strrchr(path, '/');
    int dlen = slash ? (int)(slash - path) : 1;
    snprintf(what, n, "%.*s/%s", dlen, slash ? path : ".", CONFIG_NAME);
    return exists(what) ? lt_llama_config_load(what, cfg)
                        : lt_set_error(LT_ERR_FORMAT, "%s: no metadata %s "
                                       "and no %s beside it", path,
                                       META_CONFIG, what);
}

/* Refuse a config that needs more parameters than the weights can hold
 * (have: values in the file, or bytes of a sharded checkpoint, each value
 * at least one byte), before anything of the config's size is allocated. */
static lt_status check_fits(const lt_llama_config *cfg, const char *cfg_what,
                            double have, const char *unit,
                            const char *weights)
{
    if (lt_llama_config_check(cfg, cfg_what) != LT_OK)
        return lt_last_status();
    double need = lt_llama_config_numel(cfg);
    double head = (double)cfg->vocab_size * cfg->hidden_size;
    bool tied_file = !cfg->tie_word_embeddings && need - head <= have;
    if (need > have)
        return lt_set_error(LT_ERR_FORMAT, "%s: the config (%d layers, "
                            "hidden_size %d, intermediate_size %d, vocab %d) "
                            "needs %.0f parameters, but the weights %s hold "
                            "%.0f %s%s", cfg_what, cfg->n_layers,
                            cfg->hidden_size, cfg->intermediate_size,
                            cfg->vocab_size, need, weights, have, unit,
                            tied_file ? " (the config says "
                            "tie_word_embeddings is false: is lm_head.weight "
                            "missing?)" : "");
    return LT_OK;
}

/* A single .safetensors file (Lethe's form or a folder's
 * model.safetensors), read once: config, size check, model, weights. */
static lt_status load_one_file(const char *path, const lt_llama_config *dcfg,
                               const char *dcfg_what, lt_llama **out)
{
    lt_st_file *f = NULL;
    if (lt_st_open(path, &f) != LT_OK)
        return lt_last_status();
    lt_llama_config cfg;
    char what[4200];
    lt_status s = LT_OK;
    if (dcfg) {
        cfg = *dcfg;
        snprintf(what, sizeof what, "%s", dcfg_what);
    } else {
        s = file_config(f, path, &cfg, what, sizeof what);
    }
    double have = 0;
    for (int i = 0; i < lt_st_count(f); i++)
        have += (double)lt_st_at(f, i)->numel;
    if (s == LT_OK)
        s = check_fits(&cfg, what, have, "values", path);
    lt_llama *m = NULL;
    uint8_t *seen = NULL;
    if (s == LT_OK)
        s = lt_llama_create(&cfg, &m);
    if (s == LT_OK && !(seen = calloc((size_t)m->params.count + 1, 1)))
        s = lt_set_error(LT_ERR_NOMEM, "%s: out of memory", path);
    if (s == LT_OK)
        s = apply_file(m, f, path, seen);
    if (s == LT_OK)
        s = check_all_seen(m, seen, path);
    free(seen);
    lt_st_free(f);
    if (s != LT_OK) {
        lt_llama_free(m);
        return s;
    }
    *out = m;
    return LT_OK;
}

/* The index's metadata total_size (bytes) into *bytes, -1 when it has
 * none; errors name the index. */
static lt_status index_total_size(const char *index, double *bytes)
{
    char *text = NULL;
    *bytes = -1;
    if (lt_read_file(index, &text, NULL) != LT_OK)
        return lt_last_status();
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 0);
    if (!root) {
        int line = 1;
        for (const char *p = text; end && p < end; p++)
            line += *p == '\n';
        free(text);
        return lt_set_error(LT_ERR_FORMAT, "%s: malformed JSON at line %d",
                            index, line);
    }
    free(text);
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(root, "metadata");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(meta, "total_size");
    if (cJSON_IsNumber(t) && t->valuedouble >= 0)
        *bytes = t->valuedouble;
    cJSON_Delete(root);
    return LT_OK;
}

lt_status lt_llama_load(const char *path, lt_llama **out)
{
    if (!out || !path)
        return lt_set_error(LT_ERR_ARG, "llama_load: NULL argument");
    *out = NULL;
    if (!is_dir(path))
        return load_one_file(path, NULL, NULL, out);
    lt_llama_config cfg;
    char conf[4200], file[4200];
    if (!join(conf, sizeof conf, path, CONFIG_NAME) ||
        lt_llama_config_load(conf, &cfg) != LT_OK ||
        !join(file, sizeof file, path, SINGLE_NAME))
        return lt_last_status();
    if (exists(file))
        return load_one_file(file, &cfg, conf, out);
    lt_status s = LT_OK;
    if (join(file, sizeof file, path, INDEX_NAME) && exists(file)) {
        double bytes;
        s = index_total_size(file, &bytes);
        if (s == LT_OK && bytes >= 0)
            s = check_fits(&cfg, conf, bytes, "bytes", file);
    }
    lt_llama *m = NULL;
    if (s == LT_OK)
        s = lt_llama_create(&cfg, &m);
    if (s == LT_OK)
        s = lt_llama_load_weights(m, path);
    if (s != LT_OK) {
        lt_llama_free(m);
        return s;
    }
    *out = m;
    return LT_OK;
}

/* ---- saving ------------------------------------------------------------------ */

/* Extra metadata pairs for every file written (lt_llama_save_meta). */
typedef struct {
    const char *const *kv;
    int n;
} save_meta;

static lt_status save_file(const lt_llama *m, const char *path, int first,
                           int count, const char *config_json,
                           const save_meta *x)
{
    lt_st_tensor *t = calloc((size_t)count + 1, sizeof *t);
    if (!t)
        return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", path);
    for (int i = 0; i < count; i++)
        t[i] = lt_st_entry(m->params.p[first + i].name,
                           &m->params.p[first + i].t);
    const char *meta[2 * (2 + MAX_EXTRA_META)] = {"format", "pt"};
    int n = 1;
    if (config_json) {
        meta[2 * n] = META_CONFIG;
        meta[2 * n++ + 1] = config_json;
    }
    for (int i = 0; i < x->n; i++, n++) {
        meta[2 * n] = x->kv[2 * i];
        meta[2 * n + 1] = x->kv[2 * i + 1];
    }
    lt_status s = lt_st_save(path, t, count, meta, n);
    free(t);
    return s;
}

/* Number of shards when each holds consecutive tensors up to max bytes
 * (a tensor larger than max gets a shard of its own); first[] gets the
 * first tensor of each shard (first[n] = count) when non-NULL. */
static int plan_shards(const lt_llama *m, int64_t max, int *first)
{
    int n = 0;
    int64_t used = 0;
    for (int i = 0; i < m->params.count; i++) {
        int64_t b = 4 * m->params.p[i].t.numel;
        if (i == 0 || used + b > max) {
            if (first)
                first[n] = i;
            n++;
            used = 0;
        }
        used += b;
    }
    if (first)
        first[n] = m->params.count;
    return n;
}

static lt_status save_index(const lt_llama *m, const char *dir,
                            const int *first, int n)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *meta = cJSON_AddObjectToObject(root, "metadata");
    cJSON *map = cJSON_AddObjectToObject(root, "weight_map");
    if (meta)
        cJSON_AddNumberToObject(meta, "total_size",
                                (double)(4 * m->params.n_total));
    for (int k = 0; map && k < n; k++) {
        char shard[64];
        snprintf(shard, sizeof shard, "model-%05d-of-%05d.safetensors", k + 1,
                 n);
        for (int i = first[k]; i < first[k + 1]; i++)
            cJSON_AddStringToObject(map, m->params.p[i].name, shard);
    }
    char *text = map ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    char path[4200];
    lt_status s = !text ? lt_set_error(LT_ERR_NOMEM, "%s: out of memory", dir)
                  : join(path, sizeof path, dir, INDEX_NAME)
                      ? lt_write_text_atomic(path, text) : lt_last_status();
    cJSON_free(text);
    return s;
}

static lt_status save_sharded(const lt_llama *m, const char *dir, int64_t max,
                              const save_meta *x)
{
    int n = plan_shards(m, max, NULL);
    int *first = calloc((size_t)n + 1, sizeof *first);
    if (!first)
        return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", dir);
    plan_shards(m, max, first);
    lt_status s = LT_OK;
    for (int k = 0; s == LT_OK && k < n; k++) {
        char name[64], path[4200];
        snprintf(name, sizeof name, "model-%05d-of-%05d.safetensors", k + 1,
                 n);
        s = join(path, sizeof path, dir, name)
                ? save_file(m, path, first[k], first[k + 1] - first[k], NULL,
                            x)
                : lt_last_status();
    }
    if (s == LT_OK)
        s = save_index(m, dir, first, n);
    free(first);
    return s;
}

static lt_status save_dir(const lt_llama *m, const char *dir, int64_t max,
                          const save_meta *x)
{
    if (!is_dir(dir)) {
        if (mkdir(dir, 0777) != 0)
            return lt_set_error(LT_ERR_IO, "%s: cannot create directory: %s",
                                dir, strerror(errno));
        lt_commit_note_dir(dir);
    }
    char single[4200], index[4200], config[4200];
    if (!join(single, sizeof single, dir, SINGLE_NAME) ||
        !join(index, sizeof index, dir, INDEX_NAME) ||
        !join(config, sizeof config, dir, CONFIG_NAME))
        return lt_last_status();
    bool shard = max > 0 && 4 * m->params.n_total > max;
    lt_status s = shard ? save_sharded(m, dir, max, x)
                        : save_file(m, single, 0, m->params.count, NULL, x);
    if (s == LT_OK) /* the loader prefers model.safetensors: drop stale */
        s = lt_remove_output(shard ? single : index);
    return s == LT_OK ? lt_llama_config_save(&m->cfg, config) : s;
}

lt_status lt_llama_save_meta(const lt_llama *m, const char *path,
                             int64_t max_shard_bytes, const char *const *meta,
                             int n_meta)
{
    if (!m || !path || !*path || n_meta < 0 || (n_meta && !meta))
        return lt_set_error(LT_ERR_ARG, "llama_save: NULL argument");
    if (n_meta > MAX_EXTRA_META)
        return lt_set_error(LT_ERR_ARG, "%s: more than %d extra metadata "
                            "pairs", path, MAX_EXTRA_META);
    save_meta x = {meta, n_meta};
    if (!ends_with(path, ".safetensors"))
        return save_dir(m, path, max_shard_bytes, &x);
    char *cfg = lt_llama_config_json(&m->cfg, false);
    if (!cfg)
        return lt_last_status();
    lt_status s = save_file(m, path, 0, m->params.count, cfg, &x);
    cJSON_free(cfg);
    return s;
}

lt_status lt_llama_save(const lt_llama *m, const char *path,
                        int64_t max_shard_bytes)
{
    return lt_llama_save_meta(m, path, max_shard_bytes, NULL, 0);
}
