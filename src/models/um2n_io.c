/*
 * um2n_io.c - checkpoints of the mesh movers (lethe/um2n.h): Lethe's own
 * safetensors files (format and arch in the metadata) and the official
 * state_dict layout (its lin_ aliases of each DeformGAT's lin_l checked
 * equal), with the arch read from a file.
 */
#include "lethe/um2n.h"

#include "lethe/safetensors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- checkpoints ------------------------------------------------------- */

lt_status lt_um2n_save(const lt_um2n *m, const char *path)
{
    if (!m || !path)
        return lt_set_error(LT_ERR_ARG, "um2n_save: NULL model or path");
    int n = m->params.count;
    lt_st_tensor *t = malloc((size_t)n * sizeof *t);
    if (!t)
        return lt_set_error(LT_ERR_NOMEM, "um2n_save: out of memory");
    for (int i = 0; i < n; i++)
        t[i] = lt_st_entry(m->params.p[i].name, &m->params.p[i].t);
    const char *meta[4] = {"format", m->arch == LT_UM2N_ARCH_M2N
                                         ? "lethe-um2n-m2n" : "lethe-um2n-m2n_t",
                           "arch", lt_um2n_arch_name(m->arch)};
    lt_status s = lt_st_save(path, t, n, meta, 2);
    free(t);
    return s;
}

/* The official state_dict repeats every DeformGAT's lin_l as lin_ (the
 * same module): such an entry must equal its lin_l twin. */
static lt_status check_alias(const lt_st_file *f, const lt_st_tensor *t,
                             lt_um2n *m, const char *path)
{
    char twin[LT_PARAM_NAME_MAX];
    const char *at = strstr(t->name, ".lin_.");
    if (!at || (size_t)(at - t->name) + 8 > sizeof twin)
        return lt_set_error(LT_ERR_FORMAT, "%s: unknown tensor %s", path,
                            t->name);
    snprintf(twin, sizeof twin, "%.*s.lin_l.%s", (int)(at - t->name), t->name,
             at + 6);
    lt_tensor *p = lt_params_get(&m->params, twin);
    if (!p || p->numel != t->numel)
        return lt_set_error(LT_ERR_FORMAT, "%s: %s has no twin %s of its "
                            "size", path, t->name, twin);
    float *v = malloc((size_t)t->numel * sizeof(float));
    if (!v)
        return lt_set_error(LT_ERR_NOMEM, "um2n_load: out of memory");
    lt_status s = lt_st_copy_f32(f, t, v);
    if (s == LT_OK && memcmp(v, p->data, (size_t)t->numel * sizeof(float)))
        s = lt_set_error(LT_ERR_FORMAT, "%s: %s differs from %s", path,
                         t->name, twin);
    free(v);
    return s;
}

static bool has_param(const lt_um2n *m, const char *name)
{
    for (int i = 0; i < m->params.count; i++)
        if (!strcmp(m->params.p[i].name, name))
            return true;
    return false;
}

/* Every parameter from f; every other tensor of f must be an alias or
 * training state ("optimizer.*", skipped). */
static lt_status load_all(lt_um2n *m, const lt_st_file *f, const char *path)
{
    for (int i = 0; i < m->params.count; i++)
        if (lt_st_read_into(f, m->params.p[i].name, &m->params.p[i].t))
            return lt_set_error(lt_last_status(), "%s: %s", path,
                                lt_last_error());
    for (int i = 0; i < lt_st_count(f); i++) {
        const lt_st_tensor *t = lt_st_at(f, i);
        if (!has_param(m, t->name) && strncmp(t->name, "optimizer.", 10) &&
            check_alias(f, t, m, path) != LT_OK)
            return lt_last_status();
    }
    return LT_OK;
}

/* The architecture recorded in (or implied by the tensors of) f. */
static lt_status st_arch(const lt_st_file *f, const char *path,
                         lt_um2n_arch *a)
{
    const char *s = lt_st_meta(f, "arch");
    if (s)
        return lt_um2n_arch_parse(s, a) == LT_OK
                   ? LT_OK
                   : lt_set_error(LT_ERR_FORMAT, "%s: unknown arch '%s'",
                                  path, s);
    *a = lt_st_get(f, "gfe.conv1.weight") ? LT_UM2N_ARCH_M2N
                                          : LT_UM2N_ARCH_M2N_T;
    return LT_OK;
}

static const char *arch_title(lt_um2n_arch a)
{
    return a == LT_UM2N_ARCH_M2N ? "an M2N (m2n)" : "a UM2N (M2N_T)";
}

lt_status lt_um2n_file_arch(const char *path, lt_um2n_arch *a)
{
    if (!path || !a)
        return lt_set_error(LT_ERR_ARG, "um2n_file_arch: NULL argument");
    lt_st_file *f;
    lt_status s = lt_st_load(path, &f);
    if (s == LT_OK) {
        s = st_arch(f, path, a);
        lt_st_free(f);
    }
    return s;
}

lt_status lt_um2n_load(lt_um2n *m, const char *path)
{
    if (!m || !path || !m->params.theta)
        return lt_set_error(LT_ERR_ARG, "um2n_load: NULL model or path");
    lt_um2n_arch fa;
    if (lt_um2n_file_arch(path, &fa) != LT_OK)
        return lt_last_status();
    if (fa != m->arch)
        return lt_set_error(LT_ERR_ARG, "%s is %s checkpoint, the model is "
                            "%s one", path, arch_title(fa),
                            arch_title(m->arch));
    size_t bytes = (size_t)m->params.n_total * sizeof(float);
    float *keep = malloc(bytes);
    if (!keep)
        return lt_set_error(LT_ERR_NOMEM, "um2n_load: out of memory");
    memcpy(keep, m->params.theta, bytes);
    lt_st_file *f;
    lt_status s = lt_st_load(path, &f);
    if (s == LT_OK) {
        s = load_all(m, f, path);
        lt_st_free(f);
    }
    if (s != LT_OK) /* the model stays as it was */
        memcpy(m->params.theta, keep, bytes);
    free(keep);
    return s;
}
