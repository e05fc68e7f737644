/*
 * dm_forget_cfg.c - the configuration of lethe bench dm
 * (lt_bench_dm_forget_defaults, _quick, _check) and the parsing of its
 * method names and class lists (dm_forget.h); the protocol itself is
 * dm_forget.c.
 */
#include "dm_forget.h"
#include "lethe/image_metrics.h"

#include "bench_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

lt_bench_dm_forget_cfg lt_bench_dm_forget_defaults(void)
{
    lt_bench_dm_forget_cfg c = {
        .model = "models/fmnist-cond-s-v1.safetensors",
        .base_arch = "cond:xs", .base_steps = 60, .data = "fashion-mnist",
        .classifier = LT_FMNIST_EVAL_B, .classes = "1",
        .methods = "salun,rl,rl-random,ga,esd", .seeds = 3,
        .unlearn = lt_dmu_defaults(), .mask = lt_dmu_mask_defaults(),
        .sa = lt_dmu_sa_defaults(), .sa_prep = lt_dmu_sa_prep_defaults(),
        .retrain_steps = 3000, .ua_samples = 500, .fd_per_class = 500,
        .sample = lt_dm_sample_defaults(), .eval_seed = 1,
        .spot_sample = lt_dm_sample_defaults()};
    lt_dmu_sa_recipe("short", &c.sa_short_prep, &c.sa_short);
    c.unlearn.steps = 0; /* each loss's official loop (lt_dmu_recipe) */
    c.unlearn.batch = 0;
    c.sample.steps = 50;
    c.sample.eta = 0;
    return c;
}

void lt_bench_dm_forget_quick(lt_bench_dm_forget_cfg *c)
{
    c->model = NULL;
    c->base_arch = "cond:xs";
    c->base_steps = 60;
    c->methods = "original,salun,rl";
    c->seeds = 1;
    c->unlearn.steps = 3;
    c->unlearn.batch = 8;
    c->unlearn.chunk = 8;
    c->mask.batch = 64;
    c->retrain_steps = 20;
    c->ua_samples = 8;
    c->fd_per_class = 8;
    c->sample.steps = 4;
    c->sa_prep.per_class = 2;
    c->sa_prep.sample.steps = 4;
    c->sa_prep.fim_timesteps = 4;
    c->sa_short_prep.per_class = 2;
    c->sa_short_prep.sample.steps = 4;
    c->sa_short_prep.fim_timesteps = 4;
    c->spot_sample.steps = 10; /* the spot check (off unless asked) */
}

/* ---- methods ----------------------------------------------------------------- */


static const struct {
    const char *name, *loss, *mask;
    bool no_retain, esd_data;
} dmf_aliases[] = {
    {"salun", "rl", "saliency:0.5", false, false},
    {"rl", "rl", "none", false, false},
    {"rl-random", "rl", "random:0.5", false, false},
    {"ga", "ga", "none", false, false},
    {"ga-saliency", "ga", "saliency:0.5", false, false},
    {"esd", "esd", "none", false, false},
    {"esd-data", "esd", "none", false, true},
    {"salun-noretain", "rl", "saliency:0.5", true, false},
};

#define DMF_ALL "original,retrain,salun,rl,rl-random,ga,ga-saliency,esd," \
                "esd-data,salun-noretain,sa,sa-short"

/* 1 for "sa" / "sa+MASK", 2 for "sa-short" / "sa-short+MASK", else 0. */
static int sa_kind(const char *name)
{
    if (!strcmp(name, "sa-short") || !strncmp(name, "sa-short+", 9))
        return 2;
    return !strcmp(name, "sa") || !strncmp(name, "sa+", 3);
}

lt_status dmf_method_parse(const char *name, dmf_method *m)
{
    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "%s", name);
    m->original = !strcmp(name, "original");
    m->retrain = !strcmp(name, "retrain");
    if (m->original || m->retrain)
        return LT_OK;
    const char *loss = NULL, *mask = "none";
    char buf[64];
    m->sa = sa_kind(name) > 0;
    m->sa_short = sa_kind(name) == 2;
    if (m->sa)
        loss = "rl"; /* not used: SA has its own loss */
    for (size_t i = 0; i < sizeof dmf_aliases / sizeof *dmf_aliases; i++)
        if (!strcmp(name, dmf_aliases[i].name)) {
            loss = dmf_aliases[i].loss;
            mask = dmf_aliases[i].mask;
            m->no_retain = dmf_aliases[i].no_retain;
            m->esd_data = dmf_aliases[i].esd_data;
        }
    const char *plus = strchr(name, '+');
    if (plus && (!loss || m->sa) && (size_t)(plus - name) < sizeof buf) {
        snprintf(buf, sizeof buf, "%.*s", (int)(plus - name), name);
        loss = m->sa ? "rl" : buf;
        mask = plus + 1;
    }
    lt_mask_spec ms;
    if (!loss || lt_dmu_loss_parse(loss, &m->loss) != LT_OK ||
        lt_mask_parse(mask, &ms) != LT_OK || ms.kind == LT_MASK_SOFT)
        return lt_set_error(LT_ERR_ARG, "bench dm: method '%s' unknown "
                            "(known: %s, or LOSS+MASK with LOSS rl|ga|esd|"
                            "sa|sa-short "
                            "and MASK none|saliency:R|random:R)", name,
                            DMF_ALL);
    snprintf(m->mask, sizeof m->mask, "%s", mask);
    return LT_OK;
}

const char *dmf_methods(const lt_bench_dm_forget_cfg *c)
{
    return strcmp(c->methods, "all") ? c->methods : DMF_ALL;
}

bool dmf_has_sa(const lt_bench_dm_forget_cfg *c, bool short_recipe)
{
    char buf[LT_TABLE_TEXT];
    for (int i = 0; lt_list_item(dmf_methods(c), i, buf, sizeof buf); i++)
        if (sa_kind(buf) == 1 + short_recipe)
            return true;
    return false;
}

/* The forgotten classes into cls (n of them). */
lt_status dmf_classes(const char *list, int *cls, int *n)
{
    char buf[32];
    *n = 0;
    for (int i = 0; lt_list_item(list, i, buf, sizeof buf); i++) {
        char *end;
        long k = strtol(buf, &end, 10);
        if (end == buf || *end || k < 0 || k > 100000 ||
            *n >= DMF_MAX_CLASSES)
            return lt_set_error(LT_ERR_ARG, "bench dm: classes '%s': "
                                "expected up to %d class numbers, e.g. 1,8",
                                list, DMF_MAX_CLASSES);
        cls[(*n)++] = (int)k;
    }
    return *n ? LT_OK : lt_set_error(LT_ERR_ARG, "bench dm: no class to "
                                     "forget");
}

lt_status lt_bench_dm_forget_check(const lt_bench_dm_forget_cfg *c)
{
    if (!c || !c->data || !c->classifier || !c->classes || !c->methods)
        return lt_set_error(LT_ERR_ARG, "bench dm: data, classifier, "
                            "classes and methods are required");
    if (c->seeds < 1 || c->seeds > LT_TABLE_MAX_SEEDS)
        return lt_set_error(LT_ERR_ARG, "bench dm: seeds %d outside [1, %d]",
                            c->seeds, LT_TABLE_MAX_SEEDS);
    if (c->ua_samples < 2 || c->fd_per_class < 2 || c->ua_samples > 1000 ||
        c->fd_per_class > 1000)
        return lt_set_error(LT_ERR_ARG, "bench dm: ua_samples %d and "
                            "fd_per_class %d must lie in [2, 1000] (the test "
                            "split has 1000 images per class)",
                            c->ua_samples, c->fd_per_class);
    if (c->spot_samples < 0 || c->spot_samples == 1 ||
        c->spot_samples > 1000 || c->spot_sample.steps < 1)
        return lt_set_error(LT_ERR_ARG, "bench dm: spot_samples %d must be 0 "
                            "(off) or lie in [2, 1000], with sampler steps "
                            ">= 1", c->spot_samples);
    if (c->unlearn.steps < 0 || c->unlearn.batch < 0)
        return lt_set_error(LT_ERR_ARG, "bench dm: unlearning steps and "
                            "batch must be >= 0 (0: each loss's official "
                            "loop)");
    int cls[DMF_MAX_CLASSES], n;
    if (dmf_classes(c->classes, cls, &n) != LT_OK)
        return lt_last_status();
    char buf[LT_TABLE_TEXT];
    dmf_method m;
    bool retrain = false;
    for (int i = 0; lt_list_item(dmf_methods(c), i, buf, sizeof buf); i++) {
        if (dmf_method_parse(buf, &m) != LT_OK)
            return lt_last_status();
        retrain |= m.retrain;
    }
    if ((retrain || !c->model) && !c->cache)
        return lt_set_error(LT_ERR_ARG, "bench dm: %s needs a cache folder",
                            retrain ? "retrain" : "a base model trained here "
                            "(no model given)");
    if (retrain && c->retrain_steps < 1)
        return lt_set_error(LT_ERR_ARG, "bench dm: retrain needs "
                            "retrain_steps >= 1");
    return LT_OK;
}
