/*
 * conv_dnnl.c - the three convolution kernels of conv.c (forward, adjoint,
 * weight gradient) through oneDNN convolution primitives (forward,
 * backward data, backward weights), in fp32 and in bf16 mixed precision.
 *
 * Lethe's tensors stay NCHW (weights [O, C/g, kh, kw]). Each call runs up
 * to four cached primitives: reorders of the two inputs into the layout
 * and data type the convolution chose (format "any": oneDNN's blocked
 * layouts; in bf16 the reorder also rounds to bfloat16, to nearest even),
 * the convolution, and a reorder of its fp32 result back to NCHW, with a
 * sum post-op where the kernel accumulates (gradients: +=). Primitives are
 * cached by geometry, precision and kind under a mutex; every primitive
 * uses a user-managed scratchpad and every thread its own buffers and
 * stream, so concurrent calls never share memory. oneDNN parallelises each
 * primitive with OpenMP itself. Without LETHE_HAVE_DNNL, or when a
 * primitive cannot be created (e.g. a negative right padding), the entry
 * points return false and conv.c runs its own path (docs/performance.md).
 */
#include "conv_internal.h"

#include <stdlib.h>
#include <string.h>

/* fp32 convolutions with fewer input or output channels per group than
 * this stay on conv.c's path (measured: docs/performance.md). */
#define CONV_DNNL_FP32_MIN_CHANNELS 8
/* bf16 backward kernels (data and weight gradients) with fewer output
 * positions per image than these (stride 1 / strided) stay on conv.c's
 * path; the forward always runs on oneDNN. */
#define CONV_DNNL_BF16_MIN_P 32
#define CONV_DNNL_BF16_STRIDED_MIN_P 128

/* LETHE_CONV_BACKEND: 0 unset (automatic), 1 "im2col", 2 "onednn". Read
 * once; a race between threads reads the same value twice. */
static int backend_env(void)
{
    static int cached = -1;
    if (cached < 0) {
        const char *e = getenv("LETHE_CONV_BACKEND");
        cached = !e ? 0 : strcmp(e, "im2col") == 0 ? 1
                     : strcmp(e, "onednn") == 0   ? 2
                                                  : 0;
    }
    return cached;
}

/* bf16: oneDNN 2.6's AMX backward kernels are slow on small maps and
 * strided 1x1 kernels, where conv.c's GEMMs (AMX matmuls) win. */
static bool bf16_backward_pays(const cgeom *q)
{
    bool strided = q->sh > 1 || q->sw > 1;
    return strided ? q->kh * q->kw > 1 && q->P >= CONV_DNNL_BF16_STRIDED_MIN_P
                   : q->P >= CONV_DNNL_BF16_MIN_P;
}

bool lt_conv_dnnl_wanted(const cgeom *q, lt_conv_kind kind)
{
#ifdef LETHE_HAVE_DNNL
    int env = backend_env();
    if (env)
        return env == 2;
    if (q->prec == LT_PRECISION_BF16)
        return kind == LT_CONV_FWD || bf16_backward_pays(q);
    /* fp32: 1x1 kernels are plain GEMMs on conv.c's path already, and
     * with few channels per group oneDNN's layouts do not pay. */
    return q->kh * q->kw > 1 && q->Cg >= CONV_DNNL_FP32_MIN_CHANNELS &&
           q->Og >= CONV_DNNL_FP32_MIN_CHANNELS;
#else
    (void)q, (void)kind, (void)bf16_backward_pays;
    (void)backend_env;
    return false;
#endif
}

#ifndef LETHE_HAVE_DNNL

bool lt_conv_dnnl(lt_conv_kind kind, const cgeom *q, const float *in0,
                  const float *in1, const float *bias, float *out,
                  bool accumulate)
{
    (void)kind, (void)q, (void)in0, (void)in1, (void)bias, (void)out;
    (void)accumulate;
    return false;
}

void lt_conv_dnnl_share(bool on) { (void)on; }

#else
#include "ops/dnnl_rt.h"

#include <pthread.h>

typedef struct {
    int kind, prec, bias, acc;
    int64_t g[18]; /* N C H W O OH OW kh kw sh sw ph pw dh dw groups pr */
} cd_key;

/* Primitives: [0], [1] input reorders (NULL when the layout is the
 * user's), [2] the convolution, [3] the output reorder (NULL when the
 * convolution writes the user's buffer). */
typedef struct {
    cd_key key;
    dnnl_primitive_t p[4];
    dnnl_memory_desc_t scr[4];     /* their scratchpads */
    dnnl_memory_desc_t uin[2], in[2], uout, out, bias;
} cd_entry;

#define CD_CACHE_MAX 256

static struct {
    pthread_mutex_t lock;
    cd_entry *e[CD_CACHE_MAX];
    int n;
} cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* LETHE_CONV_LAYOUT=plain: the convolutions on NCHW / OIHW directly
 * instead of the layouts oneDNN prefers (for measurements). */
static bool plain_layouts(void)
{
    static int cached = -1;
    if (cached < 0) {
        const char *e = getenv("LETHE_CONV_LAYOUT");
        cached = e && strcmp(e, "plain") == 0;
    }
    return cached == 1;
}
/* Per-thread buffers: reordered inputs [0], [1], result [2] (oneDNN's
 * scratchpad is dnnl_rt.c's). */
static _Thread_local void *tl_buf[3];
static _Thread_local size_t tl_cap[3];

static void *grow(void **buf, size_t *cap, size_t bytes)
{
    if (bytes > *cap) {
        free(*buf);
        *buf = malloc(bytes);
        *cap = *buf ? bytes : 0;
    }
    return *buf;
}

static void *buffer(int which, size_t bytes)
{
    return grow(&tl_buf[which], &tl_cap[which], bytes);
}

/* Reordered inputs kept between lt_conv_dnnl_share(true) and (false), so
 * that the two gradients of one node reorder their common input once:
 * the user pointer and both descriptors identify a slot. */
#define MEMO_SLOTS 2
static _Thread_local struct {
    bool on;
    int n;
    const void *src[MEMO_SLOTS];
    dnnl_memory_desc_t from[MEMO_SLOTS], to[MEMO_SLOTS];
    void *buf[MEMO_SLOTS];
    size_t cap[MEMO_SLOTS];
} tl_memo;

void lt_conv_dnnl_share(bool on)
{
    tl_memo.on = on;
    tl_memo.n = 0;
}

/* The memo slot holding src as to (*hit), or a free one, or -1. */
static int memo_slot(const void *src, const dnnl_memory_desc_t *from,
                     const dnnl_memory_desc_t *to, bool *hit)
{
    *hit = false;
    if (!tl_memo.on)
        return -1;
    for (int i = 0; i < tl_memo.n; i++)
        if (tl_memo.src[i] == src && dnnl_memory_desc_equal(&tl_memo.from[i],
                                                            from) &&
            dnnl_memory_desc_equal(&tl_memo.to[i], to)) {
            *hit = true;
            return i;
        }
    return tl_memo.n < MEMO_SLOTS ? tl_memo.n : -1;
}

static void key_make(cd_key *k, lt_conv_kind kind, const cgeom *q,
                     bool bias, bool acc)
{
    memset(k, 0, sizeof *k);
    k->kind = (int)kind, k->prec = (int)q->prec, k->bias = bias;
    k->acc = acc;
    int64_t v[16] = {q->N,  q->C,  q->H,  q->W,  q->O,  q->OH,
                     q->OW, q->kh, q->kw, q->sh, q->sw, q->ph,
                     q->pw, q->dh, q->dw, q->g};
    memcpy(k->g, v, sizeof v);
}

/* Right paddings that make oneDNN's output size equal q's. */
static void pad_right(const cgeom *q, int64_t *prh, int64_t *prw)
{
    *prh = (q->OH - 1) * q->sh + q->dh * (q->kh - 1) + 1 - q->H - q->ph;
    *prw = (q->OW - 1) * q->sw + q->dw * (q->kw - 1) + 1 - q->W - q->pw;
}

/* User (NCHW, f32) descriptors of conv input, weights and conv output. */
static bool user_mds(const cgeom *q, dnnl_data_type_t dt, bool any,
                     dnnl_memory_desc_t md[3])
{
    dnnl_dims_t a = {q->N, q->C, q->H, q->W}, b = {q->N, q->O, q->OH, q->OW};
    dnnl_dims_t w1 = {q->O, q->Cg, q->kh, q->kw};
    dnnl_dims_t wg = {q->g, q->Og, q->Cg, q->kh, q->kw};
    bool grp = q->g > 1;
    return dnnl_memory_desc_init_by_tag(&md[0], 4, a, dt,
                                        any ? dnnl_format_tag_any : dnnl_nchw) ==
               dnnl_success &&
           dnnl_memory_desc_init_by_tag(
               &md[1], grp ? 5 : 4, grp ? wg : w1, dt,
               any ? dnnl_format_tag_any : grp ? dnnl_goihw : dnnl_oihw) == dnnl_success &&
           dnnl_memory_desc_init_by_tag(&md[2], 4, b, dt,
                                        any ? dnnl_format_tag_any : dnnl_nchw) ==
               dnnl_success;
}

/* Convolution descriptor of kind (a forward one for kind FWD_HINT). */
static bool conv_desc(lt_conv_kind kind, const cgeom *q, bool bias,
                      dnnl_convolution_desc_t *d)
{
    bool bf = q->prec == LT_PRECISION_BF16;
    dnnl_data_type_t lo = bf ? dnnl_bf16 : dnnl_f32;
    dnnl_memory_desc_t lo_md[3], hi_md[3], bmd;
    dnnl_dims_t bd = {q->O};
    bool any = !plain_layouts();
    if (!user_mds(q, lo, any, lo_md) || !user_mds(q, dnnl_f32, any, hi_md) ||
        dnnl_memory_desc_init_by_tag(&bmd, 1, bd, dnnl_f32, dnnl_x) !=
            dnnl_success)
        return false;
    int64_t prh, prw;
    pad_right(q, &prh, &prw);
    dnnl_dims_t st = {q->sh, q->sw}, dl = {q->dh - 1, q->dw - 1};
    dnnl_dims_t pl = {q->ph, q->pw}, pr = {prh, prw};
    dnnl_alg_kind_t alg = dnnl_convolution_direct;
    dnnl_status_t s;
    if (kind == LT_CONV_FWD)
        s = dnnl_dilated_convolution_forward_desc_init(
            d, dnnl_forward_training, alg, &lo_md[0], &lo_md[1],
            bias ? &bmd : NULL, &hi_md[2], st, dl, pl, pr);
    else if (kind == LT_CONV_BWD_DATA)
        s = dnnl_dilated_convolution_backward_data_desc_init(
            d, alg, &hi_md[0], &lo_md[1], &lo_md[2], st, dl, pl, pr);
    else
        s = dnnl_dilated_convolution_backward_weights_desc_init(
            d, alg, &lo_md[0], &hi_md[1], NULL, &lo_md[2], st, dl, pl, pr);
    return s == dnnl_success;
}

/* Attributes: user scratchpad, and a sum post-op when sum is true. */
static dnnl_primitive_attr_t make_attr(bool sum)
{
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    bool ok = dnnl_primitive_attr_create(&attr) == dnnl_success &&
              dnnl_primitive_attr_set_scratchpad_mode(
                  attr, dnnl_scratchpad_mode_user) == dnnl_success;
    if (ok && sum)
        ok = dnnl_post_ops_create(&po) == dnnl_success &&
             dnnl_post_ops_append_sum(po, 1.0f) == dnnl_success &&
             dnnl_primitive_attr_set_post_ops(attr, po) == dnnl_success;
    if (po)
        dnnl_post_ops_destroy(po);
    if (!ok && attr) {
        dnnl_primitive_attr_destroy(attr);
        attr = NULL;
    }
    return attr;
}

/* The primitive of pd and its scratchpad descriptor; destroys pd. */
static bool from_pd(dnnl_primitive_desc_t pd, dnnl_primitive_t *p,
                    dnnl_memory_desc_t *scr)
{
    const dnnl_memory_desc_t *s =
        dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    bool ok = s && dnnl_primitive_create(p, pd) == dnnl_success;
    if (ok)
        *scr = *s;
    else
        *p = NULL;
    dnnl_primitive_desc_destroy(pd);
    return ok;
}

/* A reorder from -> to (with accumulation when sum); none when the two
 * descriptors are equal and nothing is accumulated. */
static bool make_reorder(const dnnl_memory_desc_t *from,
                         const dnnl_memory_desc_t *to, bool sum,
                         dnnl_primitive_t *p, dnnl_memory_desc_t *scr)
{
    *p = NULL;
    if (!sum && dnnl_memory_desc_equal(from, to))
        return true;
    dnnl_primitive_attr_t attr = make_attr(sum);
    dnnl_primitive_desc_t pd = NULL;
    bool ok = attr && dnnl_reorder_primitive_desc_create(
                          &pd, from, lt_dnnl_engine(), to, lt_dnnl_engine(),
                          attr) == dnnl_success;
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    return ok && from_pd(pd, p, scr);
}

/* The convolution's primitive descriptor (and, for the backward kinds,
 * the forward one it needs as a hint). */
static dnnl_primitive_desc_t conv_pd(lt_conv_kind kind, const cgeom *q,
                                     bool bias)
{
    dnnl_convolution_desc_t d, fd;
    dnnl_primitive_desc_t pd = NULL, hint = NULL;
    dnnl_primitive_attr_t attr = make_attr(false);
    bool ok = attr && conv_desc(kind, q, bias, &d);
    if (ok && kind != LT_CONV_FWD)
        ok = conv_desc(LT_CONV_FWD, q, false, &fd) &&
             dnnl_primitive_desc_create(&hint, &fd, NULL, lt_dnnl_engine(),
                                        NULL) == dnnl_success;
    if (ok && dnnl_primitive_desc_create(&pd, &d, attr, lt_dnnl_engine(),
                                         hint) != dnnl_success)
        pd = NULL;
    if (hint)
        dnnl_primitive_desc_destroy(hint);
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    return pd;
}

/* Which descriptors the inputs and the output of each kind are. */
static const dnnl_query_t in_query[3][2] = {
    {dnnl_query_src_md, dnnl_query_weights_md},
    {dnnl_query_diff_dst_md, dnnl_query_weights_md},
    {dnnl_query_src_md, dnnl_query_diff_dst_md}};
static const dnnl_query_t out_query[3] = {
    dnnl_query_dst_md, dnnl_query_diff_src_md, dnnl_query_diff_weights_md};
static const int in_arg[3][2] = {{DNNL_ARG_SRC, DNNL_ARG_WEIGHTS},
                                 {DNNL_ARG_DIFF_DST, DNNL_ARG_WEIGHTS},
                                 {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST}};
static const int out_arg[3] = {DNNL_ARG_DST, DNNL_ARG_DIFF_SRC,
                               DNNL_ARG_DIFF_WEIGHTS};
/* Index (in user_mds order) of the user tensor of each input / output. */
static const int in_user[3][2] = {{0, 1}, {2, 1}, {0, 2}};
static const int out_user[3] = {2, 0, 1};

static bool make_entry(const cd_key *k, const cgeom *q, cd_entry *e)
{
    lt_conv_kind kind = (lt_conv_kind)k->kind;
    dnnl_memory_desc_t u[3];
    dnnl_primitive_desc_t pd = conv_pd(kind, q, k->bias);
    if (!pd || !user_mds(q, dnnl_f32, false, u)) {
        if (pd)
            dnnl_primitive_desc_destroy(pd);
        return false;
    }
    for (int i = 0; i < 2; i++) {
        e->in[i] = *dnnl_primitive_desc_query_md(pd, in_query[kind][i], 0);
        e->uin[i] = u[in_user[kind][i]];
    }
    e->out = *dnnl_primitive_desc_query_md(pd, out_query[kind], 0);
    e->uout = u[out_user[kind]];
    if (k->bias)
        e->bias = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 1);
    e->key = *k;
    return from_pd(pd, &e->p[2], &e->scr[2]) &&
           make_reorder(&e->uin[0], &e->in[0], false, &e->p[0],
                        &e->scr[0]) &&
           make_reorder(&e->uin[1], &e->in[1], false, &e->p[1],
                        &e->scr[1]) &&
           make_reorder(&e->out, &e->uout, k->acc, &e->p[3], &e->scr[3]);
}

static void entry_free(cd_entry *e)
{
    for (int i = 0; e && i < 4; i++)
        if (e->p[i])
            dnnl_primitive_destroy(e->p[i]);
    free(e);
}

/* The cached entry for k (created on first use); *temp is set when the
 * cache is full and the caller must free the entry. */
static cd_entry *lookup(const cd_key *k, const cgeom *q, bool *temp)
{
    cd_entry *hit = NULL;
    *temp = false;
    pthread_mutex_lock(&cache.lock);
    bool engine = lt_dnnl_engine() != NULL;
    for (int i = 0; engine && !hit && i < cache.n; i++)
        if (memcmp(&cache.e[i]->key, k, sizeof *k) == 0)
            hit = cache.e[i];
    if (engine && !hit) {
        cd_entry *e = calloc(1, sizeof *e);
        if (e && make_entry(k, q, e)) {
            hit = e;
            if (cache.n < CD_CACHE_MAX)
                cache.e[cache.n++] = e;
            else
                *temp = true;
        } else {
            entry_free(e);
        }
    }
    pthread_mutex_unlock(&cache.lock);
    return hit;
}

/* Run primitive p with args plus a scratchpad of descriptor scr; the
 * memory objects of args are destroyed. */
static bool run(dnnl_primitive_t p, const dnnl_memory_desc_t *scr, int n,
                dnnl_exec_arg_t *args)
{
    bool ok = lt_dnnl_execute(p, scr, n, args);
    for (int i = 0; i < n; i++)
        dnnl_memory_destroy(args[i].memory);
    return ok;
}

/* Reorder primitive i of e from src (descriptor a) to dst (b). */
static bool reorder(const cd_entry *e, int i, const dnnl_memory_desc_t *a,
                    const void *src, const dnnl_memory_desc_t *b, void *dst)
{
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_FROM, lt_dnnl_memory(a, src)},
                               {DNNL_ARG_TO, lt_dnnl_memory(b, dst)}};
    if (!args[0].memory || !args[1].memory) {
        for (int j = 0; j < 2; j++)
            if (args[j].memory)
                dnnl_memory_destroy(args[j].memory);
        return false;
    }
    return run(e->p[i], &e->scr[i], 2, args);
}

/* Input i of e in the convolution's layout: reordered into a per-thread
 * buffer, or found in / added to the memo. NULL on failure. */
static const void *reordered_input(const cd_entry *e, int i, const void *u)
{
    bool hit;
    int m = memo_slot(u, &e->uin[i], &e->in[i], &hit);
    if (hit)
        return tl_memo.buf[m];
    size_t bytes = dnnl_memory_desc_get_size(&e->in[i]);
    void *b = m >= 0 ? grow(&tl_memo.buf[m], &tl_memo.cap[m], bytes)
                     : buffer(i, bytes);
    if (!b || !reorder(e, i, &e->uin[i], u, &e->in[i], b))
        return NULL;
    if (m >= 0) {
        tl_memo.src[m] = u;
        tl_memo.from[m] = e->uin[i];
        tl_memo.to[m] = e->in[i];
        tl_memo.n = m + 1;
    }
    return b;
}

static bool execute(const cd_entry *e, const float *u0, const float *u1,
                    const float *bias, float *uout)
{
    const void *in[2] = {u0, u1};
    for (int i = 0; i < 2; i++)
        if (e->p[i] && !(in[i] = reordered_input(e, i, in[i])))
            return false;
    void *out = uout;
    if (e->p[3] && !(out = buffer(2, dnnl_memory_desc_get_size(&e->out))))
        return false;
    int kind = e->key.kind, n = 0;
    dnnl_exec_arg_t args[5];
    for (int i = 0; i < 2; i++)
        args[n++] = (dnnl_exec_arg_t){in_arg[kind][i],
                                      lt_dnnl_memory(&e->in[i], in[i])};
    args[n++] =
        (dnnl_exec_arg_t){out_arg[kind], lt_dnnl_memory(&e->out, out)};
    if (e->key.bias)
        args[n++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS,
                                      lt_dnnl_memory(&e->bias, bias)};
    bool ok = true;
    for (int i = 0; i < n; i++)
        ok = ok && args[i].memory;
    if (!ok) {
        for (int i = 0; i < n; i++)
            if (args[i].memory)
                dnnl_memory_destroy(args[i].memory);
        return false;
    }
    return run(e->p[2], &e->scr[2], n, args) &&
           (!e->p[3] || reorder(e, 3, &e->out, out, &e->uout, uout));
}

bool lt_conv_dnnl(lt_conv_kind kind, const cgeom *q, const float *in0,
                  const float *in1, const float *bias, float *out,
                  bool accumulate)
{
    cd_key k;
    bool temp;
    key_make(&k, kind, q, bias != NULL, accumulate);
    cd_entry *e = lookup(&k, q, &temp);
    if (!e)
        return false;
    bool ok = execute(e, in0, in1, bias, out);
    if (temp)
        entry_free(e);
    return ok;
}

#endif /* LETHE_HAVE_DNNL */
