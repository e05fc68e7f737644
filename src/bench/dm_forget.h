/*
 * dm_forget.h - internal to lethe bench dm (dm_forget.c, dm_forget_cfg.c):
 * a method of the table as parsed from its name, and the configuration
 * helpers the protocol shares with its checks.
 */
#ifndef LT_BENCH_DM_FORGET_H
#define LT_BENCH_DM_FORGET_H

#include "lethe/bench_dm.h"

#define DMF_MAX_CLASSES 16

typedef struct {
    char name[LT_TABLE_TEXT];
    bool original, retrain;
    lt_dmu_loss loss;
    char mask[32];
    bool no_retain;       /* alpha 0 */
    bool esd_data;        /* esd from noised data (esd_from_data) */
    bool sa;              /* Selective Amnesia (lethe/dm_sa.h) */
    bool sa_short;        /* ... with the short preset (sa-short) */
} dmf_method;

/* Method name m ("salun", "rl+random:0.5", "sa", ...) into *m. */
lt_status dmf_method_parse(const char *name, dmf_method *m);
/* The run's method list ("all" expanded). */
const char *dmf_methods(const lt_bench_dm_forget_cfg *c);
/* Whether a method of the run is Selective Amnesia (short_recipe: with
 * the short preset, sa-short; else the official sa). */
bool dmf_has_sa(const lt_bench_dm_forget_cfg *c, bool short_recipe);
/* The forgotten classes of list into cls (n of them). */
lt_status dmf_classes(const char *list, int *cls, int *n);

#endif
