/*
 * unet_config.c - the UNet specs of lethe/diffusion.h: the presets of the
 * two families (class-conditional "cond:" and text-conditional "text:"),
 * "key=value" overrides after a preset, and the checks that every width
 * divides into the GroupNorm groups and attention heads and every level
 * halves the resolution exactly.
 */
#include "lethe/diffusion.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *lt_unet_names(void) { return "cond:xs, cond:s, text:xs, text:s"; }

/* ---- presets ---------------------------------------------------------------- */

/* What both families share: ch_mult 1,2,2, one block per level, 8 groups,
 * 10% condition dropout in training. */
static void preset_common(lt_unet_config *c, int ch)
{
    memset(c, 0, sizeof *c);
    c->ch = ch;
    c->n_levels = 3;
    c->ch_mult[0] = 1;
    c->ch_mult[1] = 2;
    c->ch_mult[2] = 2;
    c->blocks = 1;
    c->groups = 8;
    c->cond_drop = 0.1f;
}

static void preset_cond(lt_unet_config *c, int ch)
{
    preset_common(c, ch);
    c->kind = LT_UNET_CLASS;
    c->in_ch = 1;
    c->res = 28;
    c->n_attn = 1;
    c->attn_res[0] = 7;
    c->dropout = 0.1f;
    c->classes = 10;
}

/* ctx 16 x 64: CLIP preset "tiny" (include/lethe/clip.h). */
static void preset_text(lt_unet_config *c, int ch)
{
    preset_common(c, ch);
    c->kind = LT_UNET_TEXT;
    c->in_ch = 3;
    c->res = 32;
    c->n_attn = 2;
    c->attn_res[0] = 16;
    c->attn_res[1] = 8;
    c->dropout = 0;
    c->heads = 4;
    c->ctx_dim = 64;
    c->ctx_len = 16;
}

static const struct {
    const char *name;
    void (*make)(lt_unet_config *c, int ch);
    int ch;
} PRESETS[] = {{"cond:xs", preset_cond, 16},
               {"cond:s", preset_cond, 32},
               {"text:xs", preset_text, 16},
               {"text:s", preset_text, 32}};

/* ---- overrides -------------------------------------------------------------------- */

static bool parse_int(const char *v, int lo, int hi, int *out)
{
    char *end;
    long x = strtol(v, &end, 10);
    if (end == v || *end || x < lo || x > hi)
        return false;
    *out = (int)x;
    return true;
}

static bool parse_float(const char *v, float lo, float hi, float *out)
{
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end || !(x >= lo && x <= hi))
        return false;
    *out = (float)x;
    return true;
}

/* "1-2-2" -> list; false when malformed. */
static bool parse_list(const char *v, int lo, int hi, int *xs, int *n)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s", v);
    *n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, "-", &save); tok;
         tok = strtok_r(NULL, "-", &save)) {
        if (*n == LT_UNET_MAX_LEVELS || !parse_int(tok, lo, hi, &xs[*n]))
            return false;
        (*n)++;
    }
    return *n > 0;
}

/* The keys of one family only. */
static bool apply_family_override(lt_unet_config *c, const char *key,
                                  const char *val)
{
    if (c->kind == LT_UNET_CLASS)
        return !strcmp(key, "classes") &&
               parse_int(val, 1, 100000, &c->classes);
    if (!strcmp(key, "heads"))
        return parse_int(val, 1, 64, &c->heads);
    if (!strcmp(key, "ctx_dim"))
        return parse_int(val, 1, 4096, &c->ctx_dim);
    if (!strcmp(key, "ctx_len"))
        return parse_int(val, 1, 1024, &c->ctx_len);
    return false;
}

static bool apply_override(lt_unet_config *c, const char *key,
                           const char *val)
{
    if (!strcmp(key, "ch"))
        return parse_int(val, 8, 1024, &c->ch);
    if (!strcmp(key, "blocks"))
        return parse_int(val, 1, 8, &c->blocks);
    if (!strcmp(key, "groups"))
        return parse_int(val, 1, 64, &c->groups);
    if (!strcmp(key, "res"))
        return parse_int(val, 4, 1024, &c->res);
    if (!strcmp(key, "in"))
        return parse_int(val, 1, 16, &c->in_ch);
    if (!strcmp(key, "dropout"))
        return parse_float(val, 0, 0.99f, &c->dropout);
    if (!strcmp(key, "cond_drop"))
        return parse_float(val, 0, 1, &c->cond_drop);
    if (!strcmp(key, "mult"))
        return parse_list(val, 1, 16, c->ch_mult, &c->n_levels);
    if (!strcmp(key, "attn")) {
        if (!strcmp(val, "none")) {
            c->n_attn = 0;
            return true;
        }
        return parse_list(val, 1, 1024, c->attn_res, &c->n_attn);
    }
    return apply_family_override(c, key, val);
}

/* ---- checks -------------------------------------------------------------------------- */

/* Every width the network uses must divide into the GroupNorm groups (and,
 * for text models, the heads: the middle transformer sits at the last
 * level's width, the others at their level's), and every level but the
 * last must halve the resolution exactly. */
static lt_status check_config(const char *spec, const lt_unet_config *c)
{
    int r = c->res;
    for (int l = 0; l + 1 < c->n_levels; l++, r /= 2)
        if (r % 2)
            return lt_set_error(LT_ERR_ARG, "unet '%s': resolution %d at "
                                "level %d is odd: %d levels need res "
                                "divisible by %d", spec, r, l, c->n_levels,
                                1 << (c->n_levels - 1));
    for (int l = 0; l < c->n_levels; l++) {
        int w = c->ch * c->ch_mult[l];
        if (w % c->groups || c->ch % c->groups)
            return lt_set_error(LT_ERR_ARG, "unet '%s': width %d is not "
                                "divisible by groups=%d", spec, w, c->groups);
        if (c->kind == LT_UNET_TEXT && w % c->heads)
            return lt_set_error(LT_ERR_ARG, "unet '%s': width %d is not "
                                "divisible by heads=%d", spec, w, c->heads);
    }
    return LT_OK;
}

static lt_status start_preset(const char *spec, const char *name,
                              lt_unet_config *out)
{
    for (size_t i = 0; name && i < sizeof PRESETS / sizeof *PRESETS; i++)
        if (!strcmp(name, PRESETS[i].name)) {
            PRESETS[i].make(out, PRESETS[i].ch);
            return LT_OK;
        }
    return lt_set_error(LT_ERR_ARG, "unet '%s': unknown preset (known: %s)",
                        spec, lt_unet_names());
}

lt_status lt_unet_config_parse(const char *spec, lt_unet_config *out)
{
    if (!spec || !out)
        return lt_set_error(LT_ERR_ARG, "unet: NULL spec");
    char buf[160];
    if (strlen(spec) >= sizeof buf)
        return lt_set_error(LT_ERR_ARG, "unet: spec longer than %zu bytes",
                            sizeof buf - 1);
    snprintf(buf, sizeof buf, "%s", spec);
    char *save = NULL, *name = strtok_r(buf, ",", &save);
    if (start_preset(spec, name, out) != LT_OK)
        return LT_ERR_ARG;
    for (char *kv = strtok_r(NULL, ",", &save); kv;
         kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (eq)
            *eq = 0;
        if (!eq || !apply_override(out, kv, eq + 1))
            return lt_set_error(
                LT_ERR_ARG, "unet '%s': bad override '%s%s%s' (keys: ch, "
                "blocks, mult=1-2-2, attn=16-8|none, groups, dropout, "
                "cond_drop, res, in, %s)", spec, kv, eq ? "=" : "",
                eq ? eq + 1 : "", out->kind == LT_UNET_CLASS
                                      ? "classes"
                                      : "heads, ctx_dim, ctx_len");
    }
    return check_config(spec, out);
}
