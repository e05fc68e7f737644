/*
 * error.c - thread-local error values. Library functions report failure by
 * returning NULL or a non-LT_OK status after calling lt_set_error(), which
 * keeps a code and a message for the caller to print.
 */
#include "lethe/core.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local lt_status lt_err_code = LT_OK;
static _Thread_local char lt_err_msg[512];

lt_status lt_set_error(lt_status code, const char *fmt, ...)
{
    /* formatted apart first: an argument may be lt_last_error() itself
     * ("outer: %s" wrapping the message of a failed call) */
    char msg[sizeof lt_err_msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    lt_err_code = code;
    memcpy(lt_err_msg, msg, sizeof msg);
    return code;
}

lt_status lt_last_status(void) { return lt_err_code; }

const char *lt_last_error(void)
{
    return lt_err_code == LT_OK ? "no error" : lt_err_msg;
}

void lt_clear_error(void)
{
    lt_err_code = LT_OK;
    lt_err_msg[0] = '\0';
}

const char *lt_status_name(lt_status code)
{
    switch (code) {
    case LT_OK: return "ok";
    case LT_ERR_ARG: return "bad argument";
    case LT_ERR_SHAPE: return "shape mismatch";
    case LT_ERR_ARENA: return "arena exhausted";
    case LT_ERR_NOMEM: return "out of memory";
    case LT_ERR_GRAD: return "gradient error";
    case LT_ERR_NAN: return "not a finite number";
    case LT_ERR_IO: return "i/o error";
    case LT_ERR_FORMAT: return "bad file format";
    case LT_ERR_STATE: return "bad state";
    }
    return "unknown error";
}
