/*
 * dm_esd_sd.c - the "sd" variant of ESD (lethe/dm_text_unlearn.h): what
 * today's esd_sd.py of rohitgandikota/erasing computes where it differs
 * from the paper-era script. Its parameter sets (Linear / Conv2d modules
 * chosen by name, so never a norm), its scheduler (Stable Diffusion
 * v1.4's default, PNDM with skip_prk_steps: the PLMS timesteps and the
 * multistep update) and the starting point x_t that the frozen model's
 * pipeline reaches after run_till of those steps. The loop itself is
 * dm_text_unlearn.c's.
 */
#include "esd_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- parameter sets ------------------------------------------------------------- */

/* Whether the parameter called name belongs to a norm (GroupNorm or
 * LayerNorm): its module's last name part starts with "norm", or the
 * module is the text UNet's output GroupNorm "out.0". */
static bool of_norm(const char *name)
{
    const char *leaf = strrchr(name, '.');
    size_t mlen = leaf ? (size_t)(leaf - name) : strlen(name);
    const char *last = name;
    for (size_t i = 0; i < mlen; i++)
        if (name[i] == '.')
            last = name + i + 1;
    return !strncmp(last, "norm", 4) || (mlen == 5 && !strncmp(name, "out.0",
                                                                5));
}

bool lt_esd_sd_selects(lt_esd_params k, const char *name)
{
    if (!name || of_norm(name))
        return false;
    bool x = strstr(name, "attn2") != NULL;
    switch (k) {
    case LT_ESD_X:
        return x;
    case LT_ESD_U:
        return !x;
    case LT_ESD_ALL:
        return true;
    case LT_ESD_X_STRICT:
        return strstr(name, "attn2.to_k") || strstr(name, "attn2.to_v");
    default:
        return false;
    }
}

/* ---- PNDM (skip_prk_steps) ------------------------------------------------------ */

int lt_esd_sd_timesteps(int T, int S, int *ts)
{
    if (S < 1 || T < 2 || S > T || (S - 1) * (T / S) + 1 >= T)
        return 0;
    int ratio = T / S, n = 0;
    /* _timesteps = arange(S) * ratio + 1; plms = [_ts[:-1], _ts[-2],
     * _ts[-1]] reversed */
    ts[n++] = (S - 1) * ratio + 1;
    if (S >= 2)
        ts[n++] = (S - 2) * ratio + 1;
    for (int i = S - 2; i >= 0; i--)
        ts[n++] = i * ratio + 1;
    return n;
}

/* The scheduler's running state (reset by set_timesteps). */
typedef struct {
    int64_t n;       /* floats per image */
    float *ets[4];   /* the last four model outputs, oldest first */
    int nets, counter;
    float *cur;      /* cur_sample */
    float *e;        /* the combined output */
    const lt_dm_schedule *s;
    int ratio;
} plms;

static void plms_free(plms *p)
{
    for (int i = 0; i < 4; i++)
        free(p->ets[i]);
    free(p->cur);
    free(p->e);
}

/* _get_prev_sample: x <- x_(t_prev) from x_t and the output e. */
static void plms_prev(const plms *p, float *x, int t, int tp, const float *e)
{
    double a = p->s->abar[t], ap = tp >= 0 ? p->s->abar[tp] : p->s->abar[0];
    double coeff = sqrt(ap / a);
    double den = a * sqrt(1 - ap) + sqrt(a * (1 - a) * ap);
    double k = (ap - a) / den;
    for (int64_t j = 0; j < p->n; j++)
        x[j] = (float)(coeff * x[j] - k * e[j]);
}

/* Append e to ets, keeping the last four. */
static void plms_push(plms *p, const float *e)
{
    if (p->nets == 4) {
        float *old = p->ets[0];
        memmove(p->ets, p->ets + 1, 3 * sizeof *p->ets);
        p->ets[3] = old;
        p->nets = 3;
    }
    memcpy(p->ets[p->nets++], e, (size_t)p->n * sizeof *e);
}

/* step_plms on x with the model output e at timestep t. */
static void plms_step(plms *p, const float *e, int t, float *x)
{
    int tp = t - p->ratio;
    if (p->counter != 1) {
        plms_push(p, e);
    } else {
        tp = t;
        t += p->ratio;
    }
    float **E = p->ets, *o = p->e;
    int m = p->nets;
    for (int64_t j = 0; j < p->n; j++) {
        if (m == 1 && p->counter == 0)
            o[j] = e[j];
        else if (m == 1)
            o[j] = (e[j] + E[0][j]) / 2;
        else if (m == 2)
            o[j] = (3 * E[1][j] - E[0][j]) / 2;
        else if (m == 3)
            o[j] = (23 * E[2][j] - 16 * E[1][j] + 5 * E[0][j]) / 12;
        else
            o[j] = (55 * E[3][j] - 59 * E[2][j] + 37 * E[1][j] -
                    9 * E[0][j]) / 24;
    }
    if (m == 1 && p->counter == 0)
        memcpy(p->cur, x, (size_t)p->n * sizeof *x);
    else if (m == 1)
        memcpy(x, p->cur, (size_t)p->n * sizeof *x);
    plms_prev(p, x, t, tp, o);
    p->counter++;
}

lt_status lt_esd_sd_start(lt_unet *frozen, const lt_dm_schedule *s, int S,
                          int run_till, float guidance, const float *ctx,
                          const float *null_ctx, float *x)
{
    if (!frozen || !s || !ctx || !null_ctx || !x || !isfinite(guidance))
        return lt_set_error(LT_ERR_ARG, "esd sd start: bad argument");
    if (frozen->cfg.kind != LT_UNET_TEXT)
        return lt_set_error(LT_ERR_ARG, "esd sd start: unet %s is not a "
                            "text model", frozen->arch);
    int *ts = malloc(((size_t)S + 1) * sizeof *ts);
    int nts = S >= 1 && ts ? lt_esd_sd_timesteps(s->T, S, ts) : 0;
    if (!nts || run_till < 0 || run_till >= S) {
        free(ts);
        return lt_set_error(LT_ERR_ARG, "esd sd start: run_till %d outside "
                            "[0, %d) or %d steps do not fit T = %d",
                            run_till, S, S, s->T);
    }
    plms p = {.n = lt_esd_img_size(frozen), .s = s, .ratio = s->T / S};
    bool ok = true;
    for (int i = 0; i < 4; i++)
        ok &= (p.ets[i] = malloc((size_t)p.n * sizeof(float))) != NULL;
    p.cur = malloc((size_t)p.n * sizeof(float));
    p.e = malloc((size_t)p.n * sizeof(float));
    lt_ctx *c = lt_ctx_new(lt_unet_arena_bytes(frozen, 2, false));
    lt_status st = ok && p.cur && p.e && c
                       ? LT_OK
                       : lt_set_error(LT_ERR_NOMEM, "esd sd start: out of "
                                      "memory");
    if (c)
        lt_set_grad_enabled(c, false);
    for (int i = 0; st == LT_OK && i < run_till; i++) {
        lt_ctx_reset(c);
        lt_tensor *e = lt_esd_guided1(c, frozen, x, (float)ts[i], ctx,
                                      null_ctx, guidance);
        if (!e)
            st = lt_last_status();
        else
            plms_step(&p, e->data, ts[i], x);
    }
    lt_ctx_free(c);
    plms_free(&p);
    free(ts);
    return st;
}
