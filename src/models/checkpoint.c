/*
 * checkpoint.c - classifiers to and from safetensors files. Tensor names
 * are PyTorch's state_dict() names, so weights move between Lethe and
 * PyTorch unchanged; the metadata carries the architecture so a checkpoint
 * is self-describing (`lethe eval --model FILE` needs no other flag).
 */
#include "lethe/models.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

lt_status lt_model_save(const lt_model *m, const char *path,
                        const char *const *meta, int n_meta)
{
    int n = m->params.count;
    lt_st_tensor *t = calloc((size_t)n + 1, sizeof *t);
    const char **kv = calloc((size_t)(2 * n_meta + 4), sizeof *kv);
    if (!t || !kv) {
        free(t);
        free(kv);
        return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", path);
    }
    for (int i = 0; i < n; i++)
        t[i] = lt_st_entry(m->params.p[i].name, &m->params.p[i].t);
    char input[64];
    snprintf(input, sizeof input, "%d,%d,%d,%d", m->in.channels, m->in.height,
             m->in.width, m->in.classes);
    kv[0] = "lethe.arch";
    kv[1] = m->arch;
    kv[2] = "lethe.input";
    kv[3] = input;
    for (int i = 0; i < 2 * n_meta; i++)
        kv[4 + i] = meta[i];
    lt_status s = lt_st_save(path, t, n, kv, n_meta + 2);
    free(t);
    free(kv);
    return s;
}

lt_status lt_model_load_weights(lt_model *m, const char *path)
{
    lt_st_file *f = NULL;
    if (lt_st_load(path, &f) != LT_OK)
        return lt_last_status();
    lt_status s = LT_OK;
    for (int i = 0; s == LT_OK && i < m->params.count; i++) {
        lt_param *p = &m->params.p[i];
        if (!lt_st_get(f, p->name))
            s = lt_set_error(LT_ERR_FORMAT, "%s: no tensor '%s': the checkpoint"
                             " is not a %s", path, p->name, m->arch);
        else if (lt_st_read_into(f, p->name, &p->t) != LT_OK)
            s = lt_set_error(LT_ERR_FORMAT, "%s: %s (the checkpoint is not a "
                             "%s for this input)", path, lt_last_error(),
                             m->arch);
    }
    for (int i = 0; s == LT_OK && i < lt_st_count(f); i++) {
        const char *name = lt_st_at(f, i)->name;
        size_t len = strlen(name), k = strlen("num_batches_tracked");
        bool counter = len >= k && !strcmp(name + len - k,
                                           "num_batches_tracked");
        if (!counter && !lt_params_get(&m->params, name))
            s = lt_set_error(LT_ERR_FORMAT, "%s: tensor '%s' is not part of "
                             "%s: the checkpoint is another architecture",
                             path, name, m->arch);
    }
    lt_st_free(f);
    return s;
}

static lt_status lt_parse_input(const char *path, const char *v,
                                lt_input_spec *in)
{
    if (!v || sscanf(v, "%d,%d,%d,%d", &in->channels, &in->height, &in->width,
                     &in->classes) != 4)
        return lt_set_error(LT_ERR_FORMAT, "%s: metadata lethe.input is "
                            "missing or not C,H,W,K", path);
    return LT_OK;
}

lt_status lt_model_load(const char *path, lt_model **out)
{
    *out = NULL;
    lt_st_file *f = NULL;
    if (lt_st_load(path, &f) != LT_OK)
        return lt_last_status();
    char arch[128];
    lt_input_spec in;
    const char *a = lt_st_meta(f, "lethe.arch");
    lt_status s = lt_parse_input(path, lt_st_meta(f, "lethe.input"), &in);
    if (s == LT_OK && !a)
        s = lt_set_error(LT_ERR_FORMAT, "%s: metadata lethe.arch is missing "
                         "(not written by lethe; load it with "
                         "lt_model_load_weights)", path);
    if (s == LT_OK)
        snprintf(arch, sizeof arch, "%s", a);
    lt_st_free(f);
    if (s != LT_OK)
        return s;
    lt_model *m = NULL;
    if (lt_model_create(arch, in, &m) != LT_OK)
        return lt_set_error(LT_ERR_FORMAT, "%s: %s", path, lt_last_error());
    if (lt_model_load_weights(m, path) != LT_OK) {
        lt_model_free(m);
        return lt_last_status();
    }
    *out = m;
    return LT_OK;
}
