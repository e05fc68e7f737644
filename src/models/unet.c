/*
 * unet.c - the class-conditional UNet noise predictor of lethe/diffusion.h:
 * preset parsing, parameter declaration with the PyTorch module's names,
 * initialisation and the forward pass as a composition of ops (ResNet
 * blocks with the concatenated time+class embedding projected in, single
 * head self-attention, asymmetric-padding downsampling, nearest
 * upsampling). The structure follows SalUn's DDPM Conditional_Model; see
 * the header for what was scaled down.
 */
#include "lethe/diffusion.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNET_GN_EPS 1e-6f

const char *lt_unet_names(void) { return "cond:xs, cond:s"; }

/* ---- presets and overrides ------------------------------------------------ */

static void preset_cond(lt_unet_config *c, int ch)
{
    memset(c, 0, sizeof *c);
    c->in_ch = 1;
    c->res = 28;
    c->ch = ch;
    c->n_levels = 3;
    c->ch_mult[0] = 1;
    c->ch_mult[1] = 2;
    c->ch_mult[2] = 2;
    c->blocks = 1;
    c->n_attn = 1;
    c->attn_res[0] = 7;
    c->groups = 8;
    c->dropout = 0.1f;
    c->classes = 10;
    c->cond_drop = 0.1f;
}

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

static bool apply_override(lt_unet_config *c, const char *key,
                           const char *val)
{
    if (!strcmp(key, "ch"))
        return parse_int(val, 8, 1024, &c->ch);
    if (!strcmp(key, "blocks"))
        return parse_int(val, 1, 8, &c->blocks);
    if (!strcmp(key, "groups"))
        return parse_int(val, 1, 64, &c->groups);
    if (!strcmp(key, "classes"))
        return parse_int(val, 1, 100000, &c->classes);
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
    return false;
}

/* Every width the network uses must divide into the GroupNorm groups, and
 * every level but the last must halve the resolution exactly. */
static lt_status check_config(const char *spec, const lt_unet_config *c)
{
    int r = c->res;
    for (int l = 0; l + 1 < c->n_levels; l++, r /= 2)
        if (r % 2)
            return lt_set_error(LT_ERR_ARG, "unet '%s': resolution %d at "
                                "level %d is odd: %d levels need res "
                                "divisible by %d", spec, r, l, c->n_levels,
                                1 << (c->n_levels - 1));
    for (int l = 0; l < c->n_levels; l++)
        if ((c->ch * c->ch_mult[l]) % c->groups || c->ch % c->groups)
            return lt_set_error(LT_ERR_ARG, "unet '%s': width %d is not "
                                "divisible by groups=%d", spec,
                                c->ch * c->ch_mult[l], c->groups);
    return LT_OK;
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
    if (name && !strcmp(name, "cond:xs"))
        preset_cond(out, 16);
    else if (name && !strcmp(name, "cond:s"))
        preset_cond(out, 32);
    else
        return lt_set_error(LT_ERR_ARG, "unet '%s': unknown preset (known: "
                            "%s)", spec, lt_unet_names());
    for (char *kv = strtok_r(NULL, ",", &save); kv;
         kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (eq)
            *eq = 0;
        if (!eq || !apply_override(out, kv, eq + 1))
            return lt_set_error(LT_ERR_ARG, "unet '%s': bad override '%s%s%s'"
                                " (keys: ch, blocks, mult=1-2-2, attn=7|none, "
                                "groups, dropout, cond_drop, classes, res, in)",
                                spec, kv, eq ? "=" : "", eq ? eq + 1 : "");
    }
    return check_config(spec, out);
}

/* ---- declaration ------------------------------------------------------------- */

static bool add(lt_unet *u, const char *prefix, const char *leaf, int ndim,
                const int64_t *shape)
{
    char name[LT_PARAM_NAME_MAX];
    int k = snprintf(name, sizeof name, "%s%s%s", prefix, *leaf ? "." : "",
                     leaf);
    if (k < 0 || k >= (int)sizeof name) {
        lt_set_error(LT_ERR_ARG, "unet: parameter name '%s.%s' too long",
                     prefix, leaf);
        return false;
    }
    return lt_params_add(&u->params, name, ndim, shape, true) >= 0;
}

static bool add_linear(lt_unet *u, const char *p, int in, int out)
{
    return add(u, p, "weight", 2, (int64_t[]){out, in}) &&
           add(u, p, "bias", 1, (int64_t[]){out});
}

static bool add_conv(lt_unet *u, const char *p, int in, int out, int k)
{
    return add(u, p, "weight", 4, (int64_t[]){out, in, k, k}) &&
           add(u, p, "bias", 1, (int64_t[]){out});
}

static bool add_norm(lt_unet *u, const char *p, int ch)
{
    return add(u, p, "weight", 1, (int64_t[]){ch}) &&
           add(u, p, "bias", 1, (int64_t[]){ch});
}

static bool add_resblock(lt_unet *u, const char *p, int in, int out)
{
    char q[LT_PARAM_NAME_MAX];
#define SUB(leaf) (snprintf(q, sizeof q, "%s.%s", p, leaf), q)
    bool ok = add_norm(u, SUB("norm1"), in) &&
              add_conv(u, SUB("conv1"), in, out, 3) &&
              add_linear(u, SUB("temb_cemb_proj"), 2 * u->temb_ch, out) &&
              add_norm(u, SUB("norm2"), out) &&
              add_conv(u, SUB("conv2"), out, out, 3);
    if (ok && in != out)
        ok = add_conv(u, SUB("nin_shortcut"), in, out, 1);
#undef SUB
    return ok;
}

static bool add_attn(lt_unet *u, const char *p, int ch)
{
    char q[LT_PARAM_NAME_MAX];
    const char *leaves[] = {"q", "k", "v", "proj_out"};
    snprintf(q, sizeof q, "%s.norm", p);
    if (!add_norm(u, q, ch))
        return false;
    for (int i = 0; i < 4; i++) {
        snprintf(q, sizeof q, "%s.%s", p, leaves[i]);
        if (!add_conv(u, q, ch, ch, 1))
            return false;
    }
    return true;
}

static bool has_attn(const lt_unet_config *c, int res)
{
    for (int i = 0; i < c->n_attn; i++)
        if (c->attn_res[i] == res)
            return true;
    return false;
}

static bool declare_down(lt_unet *u, int *block_in, int *res)
{
    const lt_unet_config *c = &u->cfg;
    char p[LT_PARAM_NAME_MAX];
    for (int l = 0; l < c->n_levels; l++) {
        int out = c->ch * c->ch_mult[l];
        for (int b = 0; b < c->blocks; b++) {
            snprintf(p, sizeof p, "down.%d.block.%d", l, b);
            if (!add_resblock(u, p, *block_in, out))
                return false;
            *block_in = out;
            snprintf(p, sizeof p, "down.%d.attn.%d", l, b);
            if (has_attn(c, *res) && !add_attn(u, p, out))
                return false;
        }
        if (l + 1 < c->n_levels) {
            snprintf(p, sizeof p, "down.%d.downsample.conv", l);
            if (!add_conv(u, p, *block_in, *block_in, 3))
                return false;
            *res /= 2;
        }
    }
    return true;
}

static bool declare_up(lt_unet *u, int *block_in, int *res)
{
    const lt_unet_config *c = &u->cfg;
    char p[LT_PARAM_NAME_MAX];
    for (int l = c->n_levels - 1; l >= 0; l--) {
        int out = c->ch * c->ch_mult[l];
        for (int b = 0; b <= c->blocks; b++) {
            int skip = b == c->blocks ? c->ch * (l ? c->ch_mult[l - 1] : 1)
                                      : out;
            snprintf(p, sizeof p, "up.%d.block.%d", l, b);
            if (!add_resblock(u, p, *block_in + skip, out))
                return false;
            *block_in = out;
            snprintf(p, sizeof p, "up.%d.attn.%d", l, b);
            if (has_attn(c, *res) && !add_attn(u, p, out))
                return false;
        }
        if (l) {
            snprintf(p, sizeof p, "up.%d.upsample.conv", l);
            if (!add_conv(u, p, *block_in, *block_in, 3))
                return false;
            *res *= 2;
        }
    }
    return true;
}

static bool declare(lt_unet *u)
{
    const lt_unet_config *c = &u->cfg;
    int ch = c->ch, block_in = ch, res = c->res;
    bool ok = add_linear(u, "temb.dense.0", ch, u->temb_ch) &&
              add_linear(u, "temb.dense.1", u->temb_ch, u->temb_ch) &&
              add(u, "classes_emb", "weight", 2,
                  (int64_t[]){c->classes, ch}) &&
              add(u, "null_classes_emb", "", 1, (int64_t[]){ch}) &&
              add_linear(u, "cemb.dense.0", ch, u->temb_ch) &&
              add_linear(u, "cemb.dense.1", u->temb_ch, u->temb_ch) &&
              add_conv(u, "conv_in", c->in_ch, ch, 3) &&
              declare_down(u, &block_in, &res);
    ok = ok && add_resblock(u, "mid.block_1", block_in, block_in) &&
         add_attn(u, "mid.attn_1", block_in) &&
         add_resblock(u, "mid.block_2", block_in, block_in) &&
         declare_up(u, &block_in, &res) &&
         add_norm(u, "norm_out", block_in) &&
         add_conv(u, "conv_out", block_in, c->in_ch, 3);
    return ok;
}

lt_status lt_unet_create(const char *spec, lt_unet **out)
{
    if (!out)
        return lt_set_error(LT_ERR_ARG, "unet: NULL output");
    *out = NULL;
    lt_unet_config cfg;
    if (lt_unet_config_parse(spec, &cfg) != LT_OK)
        return lt_last_status();
    lt_unet *u = calloc(1, sizeof *u);
    if (!u)
        return lt_set_error(LT_ERR_NOMEM, "unet: out of memory");
    snprintf(u->arch, sizeof u->arch, "%s", spec);
    u->cfg = cfg;
    u->temb_ch = 4 * cfg.ch;
    lt_params_init(&u->params);
    if (!declare(u) || lt_params_finalize(&u->params) != LT_OK) {
        lt_status s = lt_last_status();
        lt_unet_free(u);
        return s;
    }
    *out = u;
    return LT_OK;
}

void lt_unet_free(lt_unet *u)
{
    if (!u)
        return;
    lt_params_free(&u->params);
    free(u);
}

/* ---- initialisation -------------------------------------------------------------- */

static bool ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

/* fan_in of the weight beside a bias ("x.bias" -> "x.weight"), 0 if that
 * weight is a norm scale (1-D). */
static int64_t bias_fan_in(lt_unet *u, const char *bias_name)
{
    char w[LT_PARAM_NAME_MAX];
    size_t n = strlen(bias_name) - strlen("bias");
    snprintf(w, sizeof w, "%.*sweight", (int)n, bias_name);
    lt_tensor *t = NULL;
    for (int i = 0; i < u->params.count && !t; i++)
        if (!strcmp(u->params.p[i].name, w))
            t = &u->params.p[i].t;
    return t && t->ndim >= 2 ? t->numel / t->shape[0] : 0;
}

void lt_unet_init(lt_unet *u, uint64_t seed)
{
    for (int i = 0; i < u->params.count; i++) {
        lt_param *p = &u->params.p[i];
        lt_tensor *t = &p->t;
        lt_rng r;
        lt_rng_init(&r, seed * 1000003u + (uint64_t)i);
        if (!strcmp(p->name, "classes_emb.weight") ||
            !strcmp(p->name, "null_classes_emb")) {
            lt_rng_fill_normal(&r, t->data, t->numel, 0, 1);
        } else if (t->ndim >= 2) {
            float b = 1.0f / sqrtf((float)(t->numel / t->shape[0]));
            lt_rng_fill_uniform(&r, t->data, t->numel, -b, b);
        } else if (ends_with(p->name, ".bias") && bias_fan_in(u, p->name)) {
            float b = 1.0f / sqrtf((float)bias_fan_in(u, p->name));
            lt_rng_fill_uniform(&r, t->data, t->numel, -b, b);
        } else {
            float v = ends_with(p->name, ".weight") ? 1.0f : 0.0f;
            for (int64_t k = 0; k < t->numel; k++)
                t->data[k] = v;
        }
    }
}

/* ---- forward ---------------------------------------------------------------------- */

static lt_tensor *P(lt_unet *u, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static lt_tensor *P(lt_unet *u, const char *fmt, ...)
{
    char name[LT_PARAM_NAME_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    return lt_params_get(&u->params, name);
}

static lt_tensor *conv(lt_ctx *c, lt_unet *u, lt_tensor *x, const char *p,
                       int pad, int stride)
{
    lt_conv_args a = {.stride_h = stride, .stride_w = stride, .pad_h = pad,
                      .pad_w = pad};
    return lt_conv2d(c, x, P(u, "%s.weight", p), P(u, "%s.bias", p), a);
}

static lt_tensor *norm(lt_ctx *c, lt_unet *u, lt_tensor *x, const char *p)
{
    return lt_group_norm(c, x, u->cfg.groups, P(u, "%s.weight", p),
                         P(u, "%s.bias", p), UNET_GN_EPS);
}

static lt_tensor *linear(lt_ctx *c, lt_unet *u, lt_tensor *x, const char *p)
{
    return lt_linear(c, x, P(u, "%s.weight", p), P(u, "%s.bias", p));
}

/* tc [N, 2*temb_ch] is silu(cat(temb, cemb)), shared by every block. */
static lt_tensor *resblock(lt_ctx *c, lt_unet *u, lt_tensor *x, lt_tensor *tc,
                           const char *p, bool training)
{
    char q[LT_PARAM_NAME_MAX];
#define SUB(leaf) (snprintf(q, sizeof q, "%s.%s", p, leaf), q)
    lt_tensor *h = lt_silu(c, norm(c, u, x, SUB("norm1")));
    h = conv(c, u, h, SUB("conv1"), 1, 1);
    lt_tensor *e = linear(c, u, tc, SUB("temb_cemb_proj"));
    if (!h || !e)
        return NULL;
    int64_t out = h->shape[1];
    e = lt_reshape(c, e, 4, (int64_t[]){e->shape[0], out, 1, 1});
    h = lt_add(c, h, e);
    h = lt_silu(c, norm(c, u, h, SUB("norm2")));
    h = conv(c, u, lt_dropout(c, h, u->cfg.dropout, training), SUB("conv2"),
             1, 1);
    if (x && h && x->shape[1] != h->shape[1])
        x = conv(c, u, x, SUB("nin_shortcut"), 0, 1);
#undef SUB
    return lt_add(c, x, h);
}

/* Single-head self-attention over the H*W positions (scale C^-1/2). */
static lt_tensor *attnblock(lt_ctx *c, lt_unet *u, lt_tensor *x,
                            const char *p)
{
    if (!x)
        return NULL;
    char q[LT_PARAM_NAME_MAX];
    int64_t B = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
    snprintf(q, sizeof q, "%s.norm", p);
    lt_tensor *h = norm(c, u, x, q), *qkv[3];
    const char *names[3] = {"q", "k", "v"};
    for (int i = 0; i < 3; i++) {
        snprintf(q, sizeof q, "%s.%s", p, names[i]);
        lt_tensor *y = lt_reshape(c, conv(c, u, h, q, 0, 1), 3,
                                  (int64_t[]){B, C, H * W});
        y = lt_transpose(c, y, 1, 2);
        qkv[i] = lt_reshape(c, y, 4, (int64_t[]){B, 1, H * W, C});
    }
    lt_tensor *o = lt_attention(c, qkv[0], qkv[1], qkv[2], false, 0);
    o = lt_transpose(c, lt_reshape(c, o, 3, (int64_t[]){B, H * W, C}), 1, 2);
    o = lt_reshape(c, o, 4, (int64_t[]){B, C, H, W});
    snprintf(q, sizeof q, "%s.proj_out", p);
    return lt_add(c, x, conv(c, u, o, q, 0, 1));
}

/* Pad right and bottom by one zero, then a stride-2 3x3 conv. */
static lt_tensor *downsample(lt_ctx *c, lt_unet *u, lt_tensor *x, int level)
{
    if (!x)
        return NULL;
    int64_t B = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
    lt_tensor *zc = lt_zeros(c, 4, (int64_t[]){B, C, H, 1});
    lt_tensor *h = lt_concat(c, 2, (lt_tensor *[]){x, zc}, 3);
    lt_tensor *zr = lt_zeros(c, 4, (int64_t[]){B, C, 1, W + 1});
    h = lt_concat(c, 2, (lt_tensor *[]){h, zr}, 2);
    char p[48];
    snprintf(p, sizeof p, "down.%d.downsample.conv", level);
    return conv(c, u, h, p, 0, 2);
}

/* Sinusoidal embedding [N, ch] as the official get_timestep_embedding:
 * sin of the first half, cos of the second, float32 throughout. */
static lt_tensor *time_embedding(lt_ctx *c, const float *t, int64_t n,
                                 int ch)
{
    lt_tensor *e = lt_zeros(c, 2, (int64_t[]){n, ch});
    if (!e)
        return NULL;
    int half = ch / 2;
    float k = (float)(-log(10000.0) / (half - 1));
    for (int64_t i = 0; i < n; i++)
        for (int j = 0; j < half; j++) {
            float a = t[i] * expf((float)j * k);
            e->data[i * ch + j] = sinf(a);
            e->data[i * ch + half + j] = cosf(a);
        }
    return e;
}

/* silu(cat(temb, cemb)) [N, 2*temb_ch]. */
static lt_tensor *embeddings(lt_ctx *c, lt_unet *u, const float *t,
                             const int32_t *cls, int64_t n)
{
    const lt_unet_config *cf = &u->cfg;
    lt_tensor *te = time_embedding(c, t, n, cf->ch);
    te = linear(c, u, lt_silu(c, linear(c, u, te, "temb.dense.0")),
                "temb.dense.1");
    int32_t *ids = lt_alloc(c, (size_t)n * sizeof *ids);
    if (!ids)
        return NULL;
    for (int64_t i = 0; i < n; i++)
        ids[i] = cls[i] < 0 ? cf->classes : cls[i];
    lt_tensor *null = lt_reshape(c, P(u, "null_classes_emb"), 2,
                                 (int64_t[]){1, cf->ch});
    lt_tensor *table = lt_concat(
        c, 2, (lt_tensor *[]){P(u, "classes_emb.weight"), null}, 0);
    lt_tensor *ce = lt_embedding(c, table, ids, n);
    ce = linear(c, u, lt_silu(c, linear(c, u, ce, "cemb.dense.0")),
                "cemb.dense.1");
    return lt_silu(c, lt_concat(c, 2, (lt_tensor *[]){te, ce}, 1));
}

static lt_status check_inputs(const lt_unet *u, const lt_tensor *x,
                              const float *t, const int32_t *cls)
{
    const lt_unet_config *c = &u->cfg;
    if (!t || !cls)
        return lt_set_error(LT_ERR_ARG, "unet: NULL timesteps or classes");
    if (x->ndim != 4 || x->shape[1] != c->in_ch || x->shape[2] != c->res ||
        x->shape[3] != c->res) {
        char b[64];
        return lt_set_error(LT_ERR_SHAPE, "unet %s: input %s, expected "
                            "[N, %d, %d, %d]", u->arch,
                            lt_shape_str(x, b, sizeof b), c->in_ch, c->res,
                            c->res);
    }
    for (int64_t i = 0; i < x->shape[0]; i++)
        if (cls[i] < -1 || cls[i] >= c->classes)
            return lt_set_error(LT_ERR_ARG, "unet %s: class %d of sample "
                                "%lld outside [-1, %d)", u->arch, cls[i],
                                (long long)i, c->classes);
    return LT_OK;
}

lt_tensor *lt_unet_forward(lt_ctx *c, lt_unet *u, lt_tensor *x,
                           const float *t, const int32_t *cls, bool training)
{
    if (!x || !u)
        return NULL;
    if (check_inputs(u, x, t, cls) != LT_OK)
        return NULL;
    const lt_unet_config *cf = &u->cfg;
    lt_tensor *tc = embeddings(c, u, t, cls, x->shape[0]);
    lt_tensor *hs[4 * LT_UNET_MAX_LEVELS * 9];
    int nh = 0, res = cf->res;
    char p[48];
    hs[nh++] = conv(c, u, x, "conv_in", 1, 1);
    for (int l = 0; l < cf->n_levels; l++) {
        for (int b = 0; b < cf->blocks; b++) {
            snprintf(p, sizeof p, "down.%d.block.%d", l, b);
            lt_tensor *h = resblock(c, u, hs[nh - 1], tc, p, training);
            snprintf(p, sizeof p, "down.%d.attn.%d", l, b);
            hs[nh++] = has_attn(cf, res) ? attnblock(c, u, h, p) : h;
        }
        if (l + 1 < cf->n_levels) {
            hs[nh] = downsample(c, u, hs[nh - 1], l);
            nh++;
            res /= 2;
        }
    }
    lt_tensor *h = resblock(c, u, hs[nh - 1], tc, "mid.block_1", training);
    h = attnblock(c, u, h, "mid.attn_1");
    h = resblock(c, u, h, tc, "mid.block_2", training);
    for (int l = cf->n_levels - 1; l >= 0; l--) {
        for (int b = 0; b <= cf->blocks; b++) {
            lt_tensor *cat = lt_concat(c, 2, (lt_tensor *[]){h, hs[--nh]}, 1);
            snprintf(p, sizeof p, "up.%d.block.%d", l, b);
            h = resblock(c, u, cat, tc, p, training);
            snprintf(p, sizeof p, "up.%d.attn.%d", l, b);
            if (has_attn(cf, res))
                h = attnblock(c, u, h, p);
        }
        if (l) {
            snprintf(p, sizeof p, "up.%d.upsample.conv", l);
            h = conv(c, u, lt_upsample_nearest2d(c, h, 2), p, 1, 1);
            res *= 2;
        }
    }
    h = lt_silu(c, norm(c, u, h, "norm_out"));
    return conv(c, u, h, "conv_out", 1, 1);
}

size_t lt_unet_arena_bytes(const lt_unet *u, int n, bool training)
{
    /* Measured arena peaks in base-width activations (ch x res x res
     * floats) per sample: training 114 (cond:s) to 143 (cond:xs),
     * inference 87 to 119 (nothing is freed before the step ends);
     * tests/test_diffusion.c checks the bound on its golden model. */
    double per = (double)u->cfg.ch * u->cfg.res * u->cfg.res * sizeof(float);
    double k = training ? 170 : 140;
    return (size_t)(per * k * n) + ((size_t)64 << 20);
}
