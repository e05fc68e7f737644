/*
 * lm_train.c - the language model's training loop (AdamW + warm-up/cosine,
 * gradient accumulation, clipping, NaN stop), batched answer scoring and
 * greedy answers. The data pipeline is lm_data.c; see lethe/lm.h for the
 * conventions. With cfg->dist set a step's examples are cut into shards
 * computed on the MPI ranks (lt_dp, lethe/train.h; docs/mpi.md).
 */
#include "lethe/lm.h"
#include "lethe/data.h"
#include "lethe/train.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- training --------------------------------------------------------------- */

lt_lm_train_cfg lt_lm_train_defaults(void)
{
    lt_lm_train_cfg c = {0};
    c.optim = lt_optim_defaults(LT_OPT_ADAMW);
    c.optim.lr = 3e-4f;
    c.optim.beta2 = 0.95f;
    c.optim.weight_decay = 0.01f;
    c.epochs = 1;
    c.batch = 8;
    c.accum = 1;
    c.clip = 1.0f;
    c.seed = 1;
    return c;
}

int64_t lt_lm_steps_per_epoch(const lt_lm_train_cfg *cfg, int64_t n)
{
    int64_t per = (int64_t)cfg->batch * (cfg->accum < 1 ? 1 : cfg->accum);
    return per > 0 ? (n + per - 1) / per : 0;
}

lt_schedule lt_lm_schedule(const lt_lm_train_cfg *cfg, int64_t total)
{
    lt_schedule s = {0};
    s.kind = LT_SCHED_COSINE;
    s.base_lr = cfg->optim.lr;
    s.warmup = cfg->warmup;
    s.total = total;
    s.min_lr = cfg->min_lr;
    return s;
}

typedef struct {
    lt_ctx *c;
    lt_optim opt;
    lt_schedule sched;
    int32_t *ids, *labels;
    uint8_t *mask;
    int64_t *perm;
    int64_t step, total, tokens;
    double t0;
    lt_dp *dp;           /* data parallel (cfg->dist), else NULL */
} lm_state;

/* Forward + backward of one micro-batch; its NLL sum is scaled by scale. */
static lt_status lm_micro(lm_state *st, lt_llama *m, const lt_lm_data *d,
                          const lt_lm_train_cfg *cfg, const int64_t *idx,
                          int64_t B, float scale, double *nll)
{
    int64_t T, nreal;
    lt_ctx_reset(st->c);
    lt_status s = lt_lm_batch(d, idx, B, cfg->t_fixed, cfg->pad_id, st->ids,
                              st->labels, st->mask, &T, NULL, &nreal);
    if (s != LT_OK)
        return s;
    lt_tensor *sum = lt_sum_all(st->c, lt_llama_seq_nll(st->c, m, st->ids,
                                st->labels, st->mask, B, T));
    if (!sum)
        return lt_last_status();
    if (!isfinite(sum->data[0]))
        return lt_set_error(LT_ERR_NAN, "lm train: the loss is not finite at "
                            "step %lld; lower the learning rate (--lr) or "
                            "clip the gradient (--clip)",
                            (long long)st->step + 1);
    *nll += sum->data[0];
    st->tokens += nreal;
    return lt_backward(st->c, lt_affine(st->c, sum, scale, 0.0f));
}

/* The gradient of examples perm[0..n) (token losses times scale) from
 * this rank's shards of them, summed over the ranks into m's gradient;
 * their NLL sum into *nll. */
static lt_status lm_dp_grad(lm_state *st, lt_llama *m, const lt_lm_data *d,
                            const lt_lm_train_cfg *cfg, const int64_t *perm,
                            int64_t n, float scale, double *nll)
{
    int first, count = lt_dp_local(st->dp, &first);
    int64_t tokens = st->tokens;
    for (int j = 0; j < count; j++) {
        int64_t lo, hi, t0 = st->tokens;
        double part = 0;
        lt_dp_range(st->dp, first + j, n, &lo, &hi);
        lt_dp_shard_begin(st->dp, &m->params, j);
        for (int64_t i = lo; i < hi; i += cfg->batch) {
            int64_t b = hi - i < cfg->batch ? hi - i : cfg->batch;
            lt_status s = lm_micro(st, m, d, cfg, perm + i, b, scale, &part);
            if (s != LT_OK)
                return s;
        }
        float vals[LT_DP_VALS] = {(float)part, (float)(st->tokens - t0)};
        lt_dp_shard_end(st->dp, &m->params, j, 1.0f,
                        (float)((double)(hi - lo) / (double)n), vals);
    }
    float vals[LT_DP_VALS] = {0};
    lt_status s = lt_dp_reduce(st->dp, &m->params, vals);
    *nll = vals[0];
    st->tokens = tokens + (int64_t)vals[1];
    return s;
}

/* One optimizer step over examples perm[0..n). */
static lt_status lm_step(lm_state *st, lt_llama *m, const lt_lm_data *d,
                         const lt_lm_train_cfg *cfg, const int64_t *perm,
                         int64_t n, lt_lm_event *ev)
{
    int64_t scored = 0;
    for (int64_t i = 0; i < n; i++)
        scored += lt_lm_example_scored(d, perm[i]);
    float scale = 1.0f / (float)(scored > 0 ? scored : 1);
    double nll = 0;
    lt_params_zero_grad(&m->params);
    for (int64_t i = 0; !st->dp && i < n; i += cfg->batch) {
        int64_t b = n - i < cfg->batch ? n - i : cfg->batch;
        lt_status s = lm_micro(st, m, d, cfg, perm + i, b, scale, &nll);
        if (s != LT_OK)
            return s;
    }
    if (st->dp) {
        lt_status s = lm_dp_grad(st, m, d, cfg, perm, n, scale, &nll);
        if (s != LT_OK)
            return s;
    }
    double norm = lt_clip_grad_norm(m->params.grad, m->params.n_train,
                                    cfg->clip > 0 ? cfg->clip : INFINITY);
    if (isnan(norm))
        return lt_set_error(LT_ERR_NAN, "lm train: the gradient is not finite "
                            "at step %lld; lower the learning rate (--lr)",
                            (long long)st->step + 1);
    float lr = lt_schedule_lr(&st->sched, st->step);
    lt_status s = lt_optim_step(&st->opt, m->params.theta, m->params.grad,
                                NULL, lr);
    if (s != LT_OK)
        return s;
    st->step++;
    double el = lt_clock_seconds() - st->t0;
    ev->step = st->step;
    ev->loss = nll * scale;
    ev->lr = lr;
    ev->grad_norm = norm;
    ev->tokens_per_s = el > 0 ? (double)st->tokens / el : 0;
    return LT_OK;
}

/* Sort key of length grouping: length, then position in the shuffle. */
typedef struct {
    int64_t len, pos, idx;
} lm_key;

static int lm_key_cmp(const void *a, const void *b)
{
    const lm_key *x = a, *y = b;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Sort perm[0..n) by length, cut it into micro-batches of b and put those
 * in a seeded random order. */
static lt_status lm_group(const lt_lm_data *d, int64_t *perm, int64_t n,
                          int64_t b, uint64_t seed)
{
    int64_t nb = (n + b - 1) / b;
    lm_key *k = malloc((size_t)n * sizeof *k);
    int64_t *order = malloc((size_t)nb * sizeof *order);
    if (!k || !order) {
        free(k);
        free(order);
        return lt_set_error(LT_ERR_NOMEM, "lm train: out of memory");
    }
    for (int64_t i = 0; i < n; i++)
        k[i] = (lm_key){lt_lm_example_len(d, perm[i]), i, perm[i]};
    qsort(k, (size_t)n, sizeof *k, lm_key_cmp);
    lt_permutation(order, nb, seed);
    int64_t o = 0;
    for (int64_t j = 0; j < nb; j++)
        for (int64_t i = order[j] * b; i < n && i < (order[j] + 1) * b; i++)
            perm[o++] = k[i].idx;
    free(k);
    free(order);
    return LT_OK;
}

lt_status lt_lm_epoch_order(const lt_lm_data *d, const lt_lm_train_cfg *cfg,
                            int epoch, int64_t *perm)
{
    if (!d || !cfg || !perm || d->n < 1 || cfg->batch < 1)
        return lt_set_error(LT_ERR_ARG, "lm epoch order: bad argument");
    lt_permutation(perm, d->n, cfg->seed * 1000003u + (uint64_t)epoch);
    if (cfg->group <= 1)
        return LT_OK;
    int64_t span = (int64_t)cfg->group * cfg->batch;
    for (int64_t i = 0; i < d->n; i += span) {
        lt_status s = lm_group(d, perm + i, d->n - i < span ? d->n - i : span,
                               cfg->batch, cfg->seed * 7919u +
                               (uint64_t)epoch * 104729u + (uint64_t)i);
        if (s != LT_OK)
            return s;
    }
    return LT_OK;
}

static lt_status lm_epoch(lm_state *st, lt_llama *m, const lt_lm_data *d,
                          const lt_lm_train_cfg *cfg, int epoch,
                          lt_lm_report *rep)
{
    int64_t per = (int64_t)cfg->batch * cfg->accum;
    lt_status s = lt_lm_epoch_order(d, cfg, epoch, st->perm);
    if (s != LT_OK)
        return s;
    double sum = 0;
    int64_t k = 0;
    for (int64_t i = 0; i < d->n && st->step < st->total; i += per, k++) {
        lt_lm_event ev = {epoch, cfg->epochs, 0, st->total, 0, 0, 0, 0};
        s = lm_step(st, m, d, cfg, st->perm + i,
                    d->n - i < per ? d->n - i : per, &ev);
        if (s != LT_OK)
            return s;
        if (st->step == 1)
            rep->first_loss = ev.loss;
        rep->last_loss = ev.loss;
        sum += ev.loss;
        if (cfg->progress)
            cfg->progress(cfg->ud, &ev);
    }
    rep->epoch_loss = sum / (double)(k ? k : 1);
    return LT_OK;
}

static lt_status lm_check_cfg(const lt_llama *m, const lt_lm_data *d,
                              const lt_lm_train_cfg *cfg)
{
    if (!m || !d || !cfg || d->n < 1)
        return lt_set_error(LT_ERR_ARG, "lm train: no model or no data");
    if (cfg->batch < 1 || cfg->accum < 1 || cfg->epochs < 1)
        return lt_set_error(LT_ERR_ARG, "lm train: batch %d, accum %d and "
                            "epochs %d must be >= 1", cfg->batch, cfg->accum,
                            cfg->epochs);
    int64_t T = cfg->t_fixed > 0 ? cfg->t_fixed : d->max_len;
    if (T > m->cfg.max_position_embeddings)
        return lt_set_error(LT_ERR_ARG, "lm train: examples of %lld tokens "
                            "exceed the model's %d positions", (long long)T,
                            m->cfg.max_position_embeddings);
    if (cfg->pad_id < 0 || cfg->pad_id >= m->cfg.vocab_size)
        return lt_set_error(LT_ERR_ARG, "lm train: pad id %d outside the "
                            "vocabulary", cfg->pad_id);
    return LT_OK;
}

static lt_status lt_lm_train_body(lt_llama *m, const lt_lm_data *d,
    const lt_lm_train_cfg *cfg, lt_lm_report *rep)
{
    lt_lm_report local;
    rep = rep ? rep : &local;
    memset(rep, 0, sizeof *rep);
    lt_status s = lm_check_cfg(m, d, cfg);
    if (s != LT_OK)
        return s;
    int64_t T = cfg->t_fixed > 0 ? cfg->t_fixed : d->max_len;
    int64_t cells = (int64_t)cfg->batch * T;
    lm_state st = {0};
    st.total = cfg->epochs * lt_lm_steps_per_epoch(cfg, d->n);
    if (cfg->max_steps > 0 && cfg->max_steps < st.total)
        st.total = cfg->max_steps;
    st.sched = lt_lm_schedule(cfg, st.total);
    st.c = lt_ctx_new(cfg->arena_bytes ? cfg->arena_bytes :
                      lt_llama_arena_bytes(&m->cfg, cfg->batch, T, true));
    st.ids = malloc((size_t)cells * sizeof *st.ids);
    st.labels = malloc((size_t)cells * sizeof *st.labels);
    st.mask = malloc((size_t)cells);
    st.perm = malloc((size_t)d->n * sizeof *st.perm);
    if (!st.c || !st.ids || !st.labels || !st.mask || !st.perm)
        s = lt_set_error(LT_ERR_NOMEM, "lm train: out of memory");
    if (s == LT_OK)
        s = lt_optim_init(&st.opt, &cfg->optim, m->params.n_train);
    if (s == LT_OK && cfg->dist != LT_DIST_OFF &&
        !(st.dp = lt_dp_new(&m->params, cfg->dist, cfg->shards,
                            cfg->batch * cfg->accum)))
        s = lt_last_status();
    st.t0 = lt_clock_seconds();
    for (int e = 1; e <= cfg->epochs && s == LT_OK && st.step < st.total; e++)
        s = lm_epoch(&st, m, d, cfg, e, rep);
    rep->seconds = lt_clock_seconds() - st.t0;
    rep->steps = st.step;
    rep->tokens = st.tokens;
    rep->tokens_per_s = rep->seconds > 0 ? (double)st.tokens / rep->seconds
                                         : 0;
    rep->arena_peak = st.c ? lt_ctx_peak(st.c) : 0;
    lt_params_zero_grad(&m->params);
    lt_optim_free(&st.opt);
    lt_dp_free(st.dp);
    lt_ctx_free(st.c);
    free(st.ids);
    free(st.labels);
    free(st.mask);
    free(st.perm);
    return s;
}

/* The run in the precision its config asks for (core.h). */
lt_status lt_lm_train(lt_llama *m, const lt_lm_data *d,
                      const lt_lm_train_cfg *cfg, lt_lm_report *rep)
{
    lt_precision old =
        lt_precision_enter(cfg ? cfg->precision : LT_PRECISION_DEFAULT);
    lt_status r = lt_lm_train_body(m, d, cfg, rep);
    lt_set_default_precision(old);
    return r;
}

/* ---- scoring ---------------------------------------------------------------- */

static lt_status lm_score_batch(lt_ctx *c, lt_llama *m, const lt_lm_data *d,
                                const int64_t *idx, int64_t B, int32_t pad,
                                int32_t *ids, int32_t *lab, uint8_t *mask,
                                double *nll, int32_t *count)
{
    int64_t T;
    int32_t *lens = lt_alloc(c, (size_t)B * sizeof *lens);
    if (!lens)
        return lt_last_status();
    lt_status s = lt_lm_batch(d, idx, B, 0, pad, ids, lab, mask, &T, NULL,
                              NULL);
    for (int64_t b = 0; b < B; b++)
        lens[b] = (int32_t)lt_lm_example_len(d, idx[b]);
    float *lp = s == LT_OK ? lt_alloc(c, (size_t)(B * T) * sizeof *lp) : NULL;
    if (s == LT_OK && !lp)
        s = lt_last_status();
    if (s == LT_OK)
        s = lt_llama_token_logprobs(c, m, ids, B, T, lens, lp);
    for (int64_t b = 0; b < B && s == LT_OK; b++) {
        double sum = 0;
        int32_t k = 0;
        for (int64_t t = 1; t < T; t++)
            if (mask[b * T + t]) {
                sum -= lp[b * (T - 1) + t - 1];
                k++;
            }
        if (nll)
            nll[idx[b]] = sum;
        if (count)
            count[idx[b]] = k;
    }
    return s;
}

lt_status lt_lm_score(lt_llama *m, const lt_lm_data *d, int batch,
                      int32_t pad_id, double *nll, int32_t *count)
{
    if (!m || !d || d->n < 1 || batch < 1)
        return lt_set_error(LT_ERR_ARG, "lm score: no model, data or batch");
    if (d->max_len > m->cfg.max_position_embeddings)
        return lt_set_error(LT_ERR_ARG, "lm score: examples of %lld tokens "
                            "exceed the model's %d positions",
                            (long long)d->max_len,
                            m->cfg.max_position_embeddings);
    int64_t cells = (int64_t)batch * d->max_len;
    lt_ctx *c = lt_ctx_new(lt_llama_arena_bytes(&m->cfg, batch, d->max_len,
                                                false) +
                           (size_t)cells * sizeof(float));
    int32_t *ids = malloc((size_t)cells * sizeof *ids);
    int32_t *lab = malloc((size_t)cells * sizeof *lab);
    uint8_t *mask = malloc((size_t)cells);
    int64_t *idx = malloc((size_t)batch * sizeof *idx);
    lt_status s = c && ids && lab && mask && idx ? LT_OK :
                  lt_set_error(LT_ERR_NOMEM, "lm score: out of memory");
    for (int64_t i = 0; i < d->n && s == LT_OK; i += batch) {
        int64_t B = d->n - i < batch ? d->n - i : batch;
        for (int64_t b = 0; b < B; b++)
            idx[b] = i + b;
        lt_ctx_reset(c);
        s = lm_score_batch(c, m, d, idx, B, pad_id, ids, lab, mask, nll,
                           count);
    }
    lt_ctx_free(c);
    free(ids);
    free(lab);
    free(mask);
    free(idx);
    return s;
}

lt_status lt_lm_answer(lt_llama *m, const lt_tokenizer *tok,
                       const char *question, const lt_llama_gen_opts *o,
                       char **answer)
{
    if (!m || !tok || !question || !o || !answer)
        return lt_set_error(LT_ERR_ARG, "lm answer: NULL argument");
    *answer = NULL;
    int32_t *p = NULL, *out = NULL;
    size_t np = 0, nt = 0;
    int64_t n_out = 0;
    lt_status s = lt_lm_prompt_ids(tok, question, &p, &np);
    lt_llama_gen_opts g = *o;
    int64_t room = m->cfg.max_position_embeddings - (int64_t)np;
    g.max_new_tokens = g.max_new_tokens < room ? g.max_new_tokens : room;
    if (s == LT_OK && g.max_new_tokens < 1)
        s = lt_set_error(LT_ERR_ARG, "lm answer: the prompt fills the "
                         "model's %d positions",
                         m->cfg.max_position_embeddings);
    if (s == LT_OK && !(out = malloc((size_t)g.max_new_tokens * sizeof *out)))
        s = lt_set_error(LT_ERR_NOMEM, "lm answer: out of memory");
    if (s == LT_OK)
        s = lt_llama_generate(m, p, (int64_t)np, &g, out, &n_out);
    if (s == LT_OK && n_out > 0 && out[n_out - 1] == g.eos_id)
        n_out--;
    char *text = NULL;
    if (s == LT_OK)
        s = lt_tokenizer_decode(tok, out, (size_t)n_out, &text, &nt);
    if (s == LT_OK) {
        size_t k = 0;
        while (k < nt && isspace((unsigned char)text[k]))
            k++;
        memmove(text, text + k, nt - k + 1);
        *answer = text;
    }
    free(p);
    free(out);
    return s;
}

lt_status lt_lm_continue(lt_llama *m, const lt_tokenizer *tok,
                         const char *prompt, const lt_llama_gen_opts *o,
                         char **text)
{
    if (!m || !tok || !prompt || !o || !text)
        return lt_set_error(LT_ERR_ARG, "lm continue: NULL argument");
    *text = NULL;
    int32_t *ids = NULL, *p = NULL;
    int32_t *out = malloc((size_t)(o->max_new_tokens > 0 ?
                                   o->max_new_tokens : 1) * sizeof *out);
    size_t n = 0, nt = 0;
    int64_t n_out = 0;
    int32_t bos = lt_tokenizer_special_id(tok, LT_TOK_BOS);
    size_t k = bos >= 0;
    lt_status s = out ? lt_tokenizer_encode(tok, prompt, strlen(prompt),
                                            &ids, &n)
                      : lt_set_error(LT_ERR_NOMEM, "out of memory");
    if (s == LT_OK && !(p = malloc((n + 1) * sizeof *p)))
        s = lt_set_error(LT_ERR_NOMEM, "out of memory");
    if (s == LT_OK) {
        p[0] = bos;
        if (n)
            memcpy(p + k, ids, n * sizeof *ids);
        s = lt_llama_generate(m, p, (int64_t)(n + k), o, out, &n_out);
    }
    if (s == LT_OK && n_out > 0 && out[n_out - 1] == o->eos_id)
        n_out--;
    if (s == LT_OK)
        s = lt_tokenizer_decode(tok, out, (size_t)n_out, text, &nt);
    free(ids);
    free(p);
    free(out);
    return s;
}
