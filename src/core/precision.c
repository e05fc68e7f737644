/*
 * precision.c - the precision setting of the matrix products (core.h):
 * the process default new contexts start from, each context's own setting,
 * the resolution of LT_PRECISION_DEFAULT (a run config's "the process
 * default") and the names "fp32" / "bf16" the command line and result
 * files use.
 */
#include "core/internal.h"

#include <string.h>

static lt_precision default_precision = LT_PRECISION_FP32;

void lt_set_default_precision(lt_precision p)
{
    default_precision = p == LT_PRECISION_BF16 ? p : LT_PRECISION_FP32;
}

lt_precision lt_default_precision(void) { return default_precision; }

lt_precision lt_precision_resolve(lt_precision p)
{
    return p == LT_PRECISION_DEFAULT ? default_precision :
           p == LT_PRECISION_BF16 ? p : LT_PRECISION_FP32;
}

lt_precision lt_precision_enter(lt_precision p)
{
    lt_precision old = default_precision;
    default_precision = lt_precision_resolve(p);
    return old;
}

lt_precision lt_set_precision(lt_ctx *c, lt_precision p)
{
    lt_precision old = c->precision;
    c->precision = lt_precision_resolve(p);
    return old;
}

lt_precision lt_ctx_precision(const lt_ctx *c) { return c->precision; }

const char *lt_precision_name(lt_precision p)
{
    return p == LT_PRECISION_DEFAULT ? "default" :
           p == LT_PRECISION_BF16 ? "bf16" : "fp32";
}

lt_status lt_precision_parse(const char *name, lt_precision *out)
{
    if (name && strcmp(name, "fp32") == 0) {
        *out = LT_PRECISION_FP32;
        return LT_OK;
    }
    if (name && strcmp(name, "bf16") == 0) {
        *out = LT_PRECISION_BF16;
        return LT_OK;
    }
    return lt_set_error(LT_ERR_ARG, "unknown precision '%s' (use fp32 or "
                        "bf16)", name ? name : "(null)");
}
