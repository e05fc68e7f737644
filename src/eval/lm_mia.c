/*
 * lm_mia.c - sequence-level membership-inference attacks on a language
 * model (lethe/lm_mia.h): LOSS, zlib ratio, Min-K% and Min-K%++ from the
 * token log-probs of a text, the Mann-Whitney ROC AUC, and batched
 * scoring of a set of texts with one forward pass per batch.
 */
#include "lethe/lm_mia.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

const char *lt_mia_name(lt_mia_kind k)
{
    static const char *const names[LT_MIA_N] = {"loss", "zlib", "min_k",
                                                "min_k++"};
    return k >= 0 && k < LT_MIA_N ? names[k] : "?";
}

double lt_mia_loss(const float *logp, int64_t n)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++)
        s -= logp[i];
    return n > 0 ? s / (double)n : NAN;
}

lt_status lt_zlib_len(const void *text, size_t len, size_t *out)
{
    if (!out || (!text && len))
        return lt_set_error(LT_ERR_ARG, "zlib length: NULL argument");
    uLongf n = compressBound((uLong)len);
    Bytef *buf = malloc(n);
    if (!buf)
        return lt_set_error(LT_ERR_NOMEM, "zlib length: out of memory");
    int rc = compress2(buf, &n, (const Bytef *)(text ? text : ""),
                       (uLong)len, Z_DEFAULT_COMPRESSION);
    free(buf);
    if (rc != Z_OK)
        return lt_set_error(LT_ERR_STATE, "zlib length: compress2 failed "
                            "(%d)", rc);
    *out = (size_t)n;
    return LT_OK;
}

double lt_mia_zlib(const float *logp, int64_t n, size_t zlib_len)
{
    return zlib_len ? lt_mia_loss(logp, n) / (double)zlib_len : NAN;
}

static int mia_cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

double lt_mia_min_k(const float *x, int64_t n, double k)
{
    if (n < 1 || !(k > 0 && k <= 1))
        return NAN;
    float *v = malloc((size_t)n * sizeof *v);
    if (!v) {
        lt_set_error(LT_ERR_NOMEM, "min-k: out of memory");
        return NAN;
    }
    memcpy(v, x, (size_t)n * sizeof *v);
    qsort(v, (size_t)n, sizeof *v, mia_cmp_float);
    int64_t m = (int64_t)floor((double)n * k);
    m = m < 1 ? 1 : m;
    double s = 0;
    for (int64_t i = 0; i < m; i++)
        s += v[i];
    free(v);
    return s / (double)m;
}

/* log p(target) and the Min-K%++ z of one row of V logits. */
static void mia_token(const float *row, int64_t V, int32_t target,
                      double *logp, double *z)
{
    double mx = row[0], se = 0, mu = 0, var = 0;
    for (int64_t v = 1; v < V; v++)
        mx = row[v] > mx ? row[v] : mx;
    for (int64_t v = 0; v < V; v++)
        se += exp((double)row[v] - mx);
    double lse = mx + log(se);
    for (int64_t v = 0; v < V; v++) {
        double lp = (double)row[v] - lse;
        mu += exp(lp) * lp;
    }
    for (int64_t v = 0; v < V; v++) {
        double lp = (double)row[v] - lse;
        var += exp(lp) * (lp - mu) * (lp - mu);
    }
    *logp = (double)row[target] - lse;
    *z = sqrt(var) > 1e-6 ? (*logp - mu) / sqrt(var) : 0;
}

double lt_mia_minkpp_token(const float *logits, int64_t V, int32_t target)
{
    if (!logits || V < 1 || target < 0 || target >= V)
        return NAN;
    double lp, z;
    mia_token(logits, V, target, &lp, &z);
    return z;
}

double lt_mia_member_score(const lt_mia_seq *s, lt_mia_kind k)
{
    switch (k) {
    case LT_MIA_LOSS:
        return -s->loss;
    case LT_MIA_ZLIB:
        return -s->zlib;
    case LT_MIA_MINK:
        return s->min_k;
    case LT_MIA_MINKPP:
        return s->min_k_pp;
    default:
        return NAN;
    }
}

typedef struct {
    double v;
    int member;
} mia_lab;

static int mia_cmp_lab(const void *a, const void *b)
{
    double x = ((const mia_lab *)a)->v, y = ((const mia_lab *)b)->v;
    return (x > y) - (x < y);
}

double lt_auc(const double *members, int64_t n_members,
              const double *nonmembers, int64_t n_nonmembers)
{
    if (n_members < 1 || n_nonmembers < 1 || !members || !nonmembers)
        return NAN;
    int64_t n = n_members + n_nonmembers;
    mia_lab *a = malloc((size_t)n * sizeof *a);
    if (!a) {
        lt_set_error(LT_ERR_NOMEM, "auc: out of memory");
        return NAN;
    }
    for (int64_t i = 0; i < n; i++)
        a[i] = i < n_members ? (mia_lab){members[i], 1}
                             : (mia_lab){nonmembers[i - n_members], 0};
    qsort(a, (size_t)n, sizeof *a, mia_cmp_lab);
    double rank_sum = 0; /* 1-based ranks of members, ties averaged */
    for (int64_t i = 0; i < n;) {
        int64_t j = i, m = 0;
        while (j < n && a[j].v == a[i].v)
            m += a[j++].member;
        rank_sum += (double)m * (double)(i + 1 + j) / 2.0;
        i = j;
    }
    free(a);
    double nm = (double)n_members;
    return (rank_sum - nm * (nm + 1) / 2) / (nm * (double)n_nonmembers);
}

/* ---- scoring texts with the model ------------------------------------------ */

typedef struct {
    int32_t **ids;  /* per text: context token + tokens */
    int64_t *len;
    int64_t *order; /* texts sorted by length */
    int64_t n, max_len;
} mia_enc;

static void mia_enc_free(mia_enc *e)
{
    for (int64_t i = 0; e->ids && i < e->n; i++)
        free(e->ids[i]);
    free(e->ids);
    free(e->len);
    free(e->order);
}

typedef struct {
    int64_t len, idx;
} mia_len_idx;

static int mia_cmp_len(const void *a, const void *b)
{
    const mia_len_idx *x = a, *y = b;
    return x->len != y->len ? (x->len > y->len) - (x->len < y->len)
                            : (x->idx > y->idx) - (x->idx < y->idx);
}

/* e->order = the texts sorted by length (then index). */
static lt_status mia_sort(mia_enc *e)
{
    mia_len_idx *a = malloc((size_t)(e->n ? e->n : 1) * sizeof *a);
    if (!a)
        return lt_set_error(LT_ERR_NOMEM, "mia: out of memory");
    for (int64_t i = 0; i < e->n; i++)
        a[i] = (mia_len_idx){e->len[i], i};
    qsort(a, (size_t)e->n, sizeof *a, mia_cmp_len);
    for (int64_t i = 0; i < e->n; i++)
        e->order[i] = a[i].idx;
    free(a);
    return LT_OK;
}

static lt_status mia_encode_one(const lt_tokenizer *tok, const char *text,
                                int32_t bos, int64_t ctx, int32_t **ids,
                                int64_t *len)
{
    int32_t *t = NULL;
    size_t n = 0;
    lt_status s = lt_tokenizer_encode(tok, text, strlen(text), &t, &n);
    if (s != LT_OK)
        return s;
    int64_t k = bos >= 0, total = (int64_t)n + k;
    total = total < ctx ? total : ctx;
    *ids = malloc((size_t)(total > 0 ? total : 1) * sizeof **ids);
    if (!*ids) {
        free(t);
        return lt_set_error(LT_ERR_NOMEM, "mia: out of memory");
    }
    if (k)
        (*ids)[0] = bos;
    if (total > k)
        memcpy(*ids + k, t, (size_t)(total - k) * sizeof *t);
    free(t);
    *len = total;
    return LT_OK;
}

static lt_status mia_encode(const lt_llama *m, const lt_tokenizer *tok,
                            const lt_text_set *s, mia_enc *e)
{
    memset(e, 0, sizeof *e);
    size_t n = (size_t)(s->n ? s->n : 1);
    e->n = s->n;
    e->ids = calloc(n, sizeof *e->ids);
    e->len = calloc(n, sizeof *e->len);
    e->order = calloc(n, sizeof *e->order);
    if (!e->ids || !e->len || !e->order)
        return lt_set_error(LT_ERR_NOMEM, "mia: out of memory");
    int32_t bos = lt_tokenizer_start_id(tok);
    for (int64_t i = 0; i < s->n; i++) {
        lt_status st = mia_encode_one(tok, s->text[i], bos,
                                      m->cfg.max_position_embeddings,
                                      &e->ids[i], &e->len[i]);
        if (st != LT_OK)
            return st;
        if (e->len[i] < 2)
            return lt_set_error(LT_ERR_ARG, "mia: text %lld has no token to "
                                "score", (long long)i);
        e->max_len = e->len[i] > e->max_len ? e->len[i] : e->max_len;
    }
    return mia_sort(e);
}

/* The statistics of one text from its token log-probs lp and z-scores z
 * (n each). */
static lt_status mia_stats(const float *lp, const float *z, int64_t n,
                           const char *text, double k, lt_mia_seq *out)
{
    size_t zl = 0;
    lt_status s = lt_zlib_len(text, strlen(text), &zl);
    if (s != LT_OK)
        return s;
    out->loss = lt_mia_loss(lp, n);
    out->zlib = lt_mia_zlib(lp, n, zl);
    out->min_k = lt_mia_min_k(lp, n, k);
    out->min_k_pp = lt_mia_min_k(z, n, k);
    out->n_tokens = n;
    return isnan(out->min_k) || isnan(out->min_k_pp) ?
           lt_set_error(LT_ERR_NOMEM, "mia: out of memory") : LT_OK;
}

/* One batch of texts e->order[first .. first + B): forward, then the
 * per-token values (lp, z: B * T floats) and the statistics. */
static lt_status mia_batch(lt_ctx *c, lt_llama *m, const mia_enc *e,
                           const lt_text_set *s, int64_t first, int64_t B,
                           double k, int32_t *ids, float *lp, float *z,
                           lt_mia_seq *out)
{
    int64_t T = 0;
    for (int64_t b = 0; b < B; b++)
        T = e->len[e->order[first + b]] > T ? e->len[e->order[first + b]] : T;
    for (int64_t b = 0; b < B; b++) {
        int64_t i = e->order[first + b];
        for (int64_t t = 0; t < T; t++)
            ids[b * T + t] = t < e->len[i] ? e->ids[i][t] : 0;
    }
    lt_ctx_reset(c);
    lt_tensor *lg = lt_llama_forward(c, m, ids, B, T);
    if (!lg)
        return lt_last_status();
    int64_t V = m->cfg.vocab_size;
    #pragma omp parallel for schedule(dynamic, 16)
    for (int64_t bt = 0; bt < B * T; bt++) {
        int64_t b = bt / T, t = bt % T;
        if (t + 1 >= e->len[e->order[first + b]])
            continue;
        double l, q;
        mia_token(lg->data + bt * V, V, ids[bt + 1], &l, &q);
        lp[bt] = (float)l;
        z[bt] = (float)q;
    }
    for (int64_t b = 0; b < B; b++) {
        int64_t i = e->order[first + b];
        lt_status st = mia_stats(lp + b * T, z + b * T, e->len[i] - 1,
                                 s->text[i], k, &out[i]);
        if (st != LT_OK)
            return st;
    }
    return LT_OK;
}

lt_status lt_mia_score_texts(lt_llama *m, const lt_tokenizer *tok,
                             const lt_text_set *s, double k, int batch,
                             lt_mia_seq *out)
{
    if (!m || !tok || !s || !out || batch < 1 || !(k > 0 && k <= 1))
        return lt_set_error(LT_ERR_ARG, "mia: bad argument (batch %d, k %g)",
                            batch, k);
    if (s->n == 0)
        return LT_OK;
    mia_enc e;
    lt_status st = mia_encode(m, tok, s, &e);
    int64_t B = batch < s->n ? batch : s->n, T = e.max_len;
    int32_t *ids = st == LT_OK ? malloc((size_t)(B * T) * sizeof *ids) : NULL;
    float *lp = ids ? malloc((size_t)(B * T) * sizeof *lp) : NULL;
    float *z = lp ? malloc((size_t)(B * T) * sizeof *z) : NULL;
    lt_ctx *c = z ? lt_ctx_new(lt_llama_arena_bytes(&m->cfg, B, T, false))
                  : NULL;
    if (st == LT_OK && !c)
        st = lt_set_error(LT_ERR_NOMEM, "mia: out of memory");
    if (c)
        lt_set_grad_enabled(c, false);
    for (int64_t i = 0; st == LT_OK && i < s->n; i += B)
        st = mia_batch(c, m, &e, s, i, s->n - i < B ? s->n - i : B, k, ids,
                       lp, z, out);
    lt_ctx_free(c);
    free(ids);
    free(lp);
    free(z);
    mia_enc_free(&e);
    return st;
}

lt_status lt_mia_aucs(lt_llama *m, const lt_tokenizer *tok,
                      const lt_text_set *members,
                      const lt_text_set *nonmembers, double k, int batch,
                      double auc[LT_MIA_N])
{
    if (!members || !nonmembers || !auc)
        return lt_set_error(LT_ERR_ARG, "mia auc: NULL argument");
    int64_t nm = members->n, nn = nonmembers->n;
    lt_mia_seq *sm = calloc((size_t)(nm + 1), sizeof *sm);
    lt_mia_seq *sn = calloc((size_t)(nn + 1), sizeof *sn);
    double *xm = calloc((size_t)(nm + 1), sizeof *xm);
    double *xn = calloc((size_t)(nn + 1), sizeof *xn);
    lt_status s = sm && sn && xm && xn ? LT_OK :
                  lt_set_error(LT_ERR_NOMEM, "mia auc: out of memory");
    if (s == LT_OK)
        s = lt_mia_score_texts(m, tok, members, k, batch, sm);
    if (s == LT_OK)
        s = lt_mia_score_texts(m, tok, nonmembers, k, batch, sn);
    for (int a = 0; s == LT_OK && a < LT_MIA_N; a++) {
        for (int64_t i = 0; i < nm; i++)
            xm[i] = lt_mia_member_score(&sm[i], (lt_mia_kind)a);
        for (int64_t i = 0; i < nn; i++)
            xn[i] = lt_mia_member_score(&sn[i], (lt_mia_kind)a);
        auc[a] = lt_auc(xm, nm, xn, nn);
    }
    free(sm);
    free(sn);
    free(xm);
    free(xn);
    return s;
}
