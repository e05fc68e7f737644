/*
 * muse.c - the MUSE metrics of lethe/muse.h on a language model: VerbMem
 * (ROUGE-L F1 of greedy continuations of forget-text prefixes), KnowMem
 * (ROUGE-L F1 of greedy cloze answers), the MIA AUCs of forget against
 * holdout texts, and PrivLeak. Generations run in parallel, one text per
 * OpenMP thread; tokenizing and decoding stay on the calling thread.
 */
#include "lethe/muse.h"
#include "lethe/rouge.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

lt_muse_opts lt_muse_defaults(void)
{
    return (lt_muse_opts){.prefix = 32, .max_new = 128, .min_cont = 4,
                          .qa_max_new = 32, .k = 0.4, .batch = 8};
}

static lt_status muse_check_opts(const lt_muse_opts *o)
{
    if (!o || o->prefix < 1 || o->max_new < 1 || o->min_cont < 1 ||
        o->qa_max_new < 1 || !(o->k > 0 && o->k <= 1) || o->batch < 1)
        return lt_set_error(LT_ERR_ARG, "muse: bad options (prefix, max_new, "
                            "min_cont, qa_max_new, batch >= 1, k in (0, 1])");
    return LT_OK;
}

/* ---- generation jobs ------------------------------------------------------- */

typedef struct {
    int32_t *prompt;   /* malloc'd */
    int64_t n_prompt, max_new;
    int32_t *out;      /* malloc'd by the run */
    int64_t n_out;
} muse_job;

static void muse_jobs_free(muse_job *j, int64_t n)
{
    for (int64_t i = 0; j && i < n; i++) {
        free(j[i].prompt);
        free(j[i].out);
    }
    free(j);
}

static int32_t muse_argmax(const float *x, int64_t n)
{
    int64_t b = 0;
    for (int64_t i = 1; i < n; i++)
        b = x[i] > x[b] ? i : b;
    return (int32_t)b;
}

/* Greedy decoding of one job with the KV cache (as lt_llama_generate at
 * temperature 0), stopping after the EOS or a token marked in stop (may be
 * NULL). */
static lt_status muse_greedy(lt_llama *m, muse_job *j, const uint8_t *stop)
{
    const lt_llama_config *cf = &m->cfg;
    int64_t total = j->n_prompt + j->max_new, V = cf->vocab_size;
    if (j->n_prompt < 1 || j->max_new < 1 ||
        total > cf->max_position_embeddings)
        return lt_set_error(LT_ERR_ARG, "muse: a prompt of %lld tokens and "
                            "%lld new ones do not fit the context of %d",
                            (long long)j->n_prompt, (long long)j->max_new,
                            cf->max_position_embeddings);
    size_t kv_bytes = (size_t)(2 * cf->n_layers * cf->n_kv_heads *
                               cf->head_dim * total) * sizeof(float);
    lt_llama_cache *kv = NULL;
    lt_ctx *c = lt_ctx_new(lt_llama_arena_bytes(cf, 1, total, false) +
                           kv_bytes);
    j->out = malloc((size_t)j->max_new * sizeof *j->out);
    lt_status s = c && j->out ? lt_llama_cache_new(m, 1, total, &kv)
                              : lt_set_error(LT_ERR_NOMEM, "muse: out of "
                                             "memory");
    const int32_t *feed = j->prompt;
    int64_t n_feed = j->n_prompt;
    j->n_out = 0;
    for (int64_t i = 0; s == LT_OK && i < j->max_new; i++) {
        lt_ctx_reset(c);
        lt_tensor *y = lt_llama_forward_cached(c, m, kv, feed, 1, n_feed);
        if (!y) {
            s = lt_last_status();
            break;
        }
        int32_t t = muse_argmax(y->data + (n_feed - 1) * V, V);
        j->out[j->n_out++] = t;
        if (t == cf->eos_token_id || (stop && stop[t]))
            break;
        feed = &j->out[i];
        n_feed = 1;
    }
    lt_llama_cache_free(kv);
    lt_ctx_free(c);
    return s;
}

/* Greedy continuations of every job with a prompt, in parallel. */
static lt_status muse_run(lt_llama *m, muse_job *jobs, int64_t n,
                          const uint8_t *stop)
{
    lt_status first = LT_OK;
    char msg[512] = "";
    #pragma omp parallel for schedule(dynamic, 1)
    for (int64_t i = 0; i < n; i++) {
        muse_job *j = &jobs[i];
        if (!j->prompt)
            continue;
        lt_status s = muse_greedy(m, j, stop);
        if (s != LT_OK) {
            #pragma omp critical /* unnamed: a named one is an exported symbol */
            if (first == LT_OK) {
                first = s;
                snprintf(msg, sizeof msg, "%s", lt_last_error());
            }
        }
    }
    if (first != LT_OK)
        return lt_set_error(first, "%s", msg);
    return LT_OK;
}

/* stop[id] = 1 for the tokens whose text holds a line break (malloc'd). */
static uint8_t *muse_newline_tokens(const lt_tokenizer *tok, int64_t V)
{
    uint8_t *stop = calloc((size_t)V, 1);
    for (int64_t v = 0; stop && v < V; v++) {
        size_t len = 0;
        const char *b = lt_tokenizer_token(tok, (int32_t)v, &len);
        for (size_t i = 0; b && i < len; i++)
            stop[v] |= b[i] == '\n' || b[i] == '\r';
    }
    lt_clear_error(); /* unused ids */
    return stop;
}

/* The decoded new tokens of a job (EOS dropped), malloc'd. */
static lt_status muse_decode(lt_llama *m, const lt_tokenizer *tok,
                             const muse_job *j, char **text)
{
    int64_t n = j->n_out;
    if (n > 0 && j->out[n - 1] == m->cfg.eos_token_id)
        n--;
    size_t len = 0;
    return lt_tokenizer_decode(tok, j->out, (size_t)n, text, &len);
}

/* prompt = [BOS] + ids[0..n) (malloc'd); *n_prompt its length. */
static lt_status muse_prompt(const lt_tokenizer *tok, const int32_t *ids,
                             int64_t n, muse_job *j)
{
    int32_t bos = lt_tokenizer_start_id(tok);
    int64_t k = bos >= 0;
    j->prompt = malloc((size_t)(n + k) * sizeof *j->prompt);
    if (!j->prompt)
        return lt_set_error(LT_ERR_NOMEM, "muse: out of memory");
    if (k)
        j->prompt[0] = bos;
    memcpy(j->prompt + k, ids, (size_t)n * sizeof *ids);
    j->n_prompt = n + k;
    return LT_OK;
}

lt_status lt_muse_continue(lt_llama *m, const lt_tokenizer *tok,
                           const int32_t *prompt, int64_t n,
                           int64_t max_new, char **text)
{
    if (!m || !tok || !prompt || n < 1 || max_new < 1 || !text)
        return lt_set_error(LT_ERR_ARG, "muse continue: bad argument");
    *text = NULL;
    int64_t room = m->cfg.max_position_embeddings - n;
    if (room < 1)
        return lt_set_error(LT_ERR_ARG, "muse continue: the prompt fills the "
                            "model's %d positions",
                            m->cfg.max_position_embeddings);
    muse_job j = {(int32_t *)prompt, n, max_new < room ? max_new : room,
                  NULL, 0};
    lt_status s = muse_run(m, &j, 1, NULL);
    if (s == LT_OK)
        s = muse_decode(m, tok, &j, text);
    free(j.out);
    return s;
}

/* ---- VerbMem ----------------------------------------------------------------- */

/* The job of one text and its reference continuation (*ref NULL when the
 * text is too short). */
static lt_status muse_verb_job(lt_llama *m, const lt_tokenizer *tok,
                               const char *text, const lt_muse_opts *o,
                               muse_job *j, char **ref)
{
    int32_t *ids = NULL;
    size_t n = 0;
    *ref = NULL;
    lt_status s = lt_tokenizer_encode(tok, text, strlen(text), &ids, &n);
    int64_t P = o->prefix, rest = (int64_t)n - P;
    int64_t room = m->cfg.max_position_embeddings - P - 1;
    int64_t c = rest < o->max_new ? rest : o->max_new;
    c = c < room ? c : room;
    if (s == LT_OK && rest >= o->min_cont && c >= 1) {
        size_t len = 0;
        s = lt_tokenizer_decode(tok, ids + P, (size_t)c, ref, &len);
        if (s == LT_OK)
            s = muse_prompt(tok, ids, P, j);
        j->max_new = c;
    }
    free(ids);
    return s;
}

lt_status lt_muse_verbmem(lt_llama *m, const lt_tokenizer *tok,
                          const lt_text_set *s, const lt_muse_opts *o,
                          double *mean, int64_t *n_used, int64_t *n_skipped,
                          double *per_text)
{
    if (!m || !tok || !s || !mean || !n_used || !n_skipped)
        return lt_set_error(LT_ERR_ARG, "verbmem: NULL argument");
    if (muse_check_opts(o) != LT_OK)
        return LT_ERR_ARG;
    size_t n = (size_t)(s->n ? s->n : 1);
    muse_job *jobs = calloc(n, sizeof *jobs);
    char **ref = calloc(n, sizeof *ref);
    lt_status st = jobs && ref ? LT_OK :
                   lt_set_error(LT_ERR_NOMEM, "verbmem: out of memory");
    for (int64_t i = 0; i < s->n && st == LT_OK; i++)
        st = muse_verb_job(m, tok, s->text[i], o, &jobs[i], &ref[i]);
    if (st == LT_OK)
        st = muse_run(m, jobs, s->n, NULL);
    double sum = 0;
    *n_used = *n_skipped = 0;
    for (int64_t i = 0; i < s->n && st == LT_OK; i++) {
        double f1 = NAN;
        char *gen = NULL;
        if (ref[i] && (st = muse_decode(m, tok, &jobs[i], &gen)) == LT_OK)
            f1 = lt_rouge_l(gen, ref[i], o->stem).f1;
        free(gen);
        sum += ref[i] ? f1 : 0;
        *n_used += ref[i] != NULL;
        *n_skipped += ref[i] == NULL;
        if (per_text)
            per_text[i] = f1;
    }
    *mean = *n_used ? sum / (double)*n_used : 0;
    for (int64_t i = 0; ref && i < s->n; i++)
        free(ref[i]);
    free(ref);
    muse_jobs_free(jobs, s->n);
    return st;
}

/* ---- KnowMem ------------------------------------------------------------------ */

char *lt_muse_answer_cut(char *gen)
{
    if (!gen)
        return gen;
    size_t k = 0;
    while (gen[k] == ' ' || gen[k] == '\t')
        k++;
    memmove(gen, gen + k, strlen(gen + k) + 1);
    char *nl = strpbrk(gen, "\r\n");
    if (nl)
        *nl = '\0';
    return gen;
}

/* The prompt of a cloze question: [BOS] + its tokens, or, when that and
 * the answer tokens would not fit the context, its last tokens. */
static lt_status muse_qa_job(lt_llama *m, const lt_tokenizer *tok,
                             const char *question, const lt_muse_opts *o,
                             muse_job *j)
{
    int32_t *ids = NULL;
    size_t n = 0;
    int64_t ctx = m->cfg.max_position_embeddings;
    j->max_new = o->qa_max_new < ctx / 2 ? o->qa_max_new : ctx / 2;
    lt_status s = lt_tokenizer_encode(tok, question, strlen(question), &ids,
                                      &n);
    int64_t keep = ctx - j->max_new;
    if (s == LT_OK && (int64_t)n + 1 > keep) {
        j->prompt = malloc((size_t)keep * sizeof *j->prompt);
        s = j->prompt ? LT_OK : lt_set_error(LT_ERR_NOMEM, "knowmem: out of "
                                             "memory");
        if (s == LT_OK)
            memcpy(j->prompt, ids + (int64_t)n - keep,
                   (size_t)keep * sizeof *ids);
        j->n_prompt = keep;
    } else if (s == LT_OK)
        s = muse_prompt(tok, ids, (int64_t)n, j);
    free(ids);
    return s;
}

lt_status lt_muse_knowmem(lt_llama *m, const lt_tokenizer *tok,
                          const lt_tofu_set *qa, const lt_muse_opts *o,
                          double *mean, double *per_item, char **gen)
{
    if (!m || !tok || !qa || !mean)
        return lt_set_error(LT_ERR_ARG, "knowmem: NULL argument");
    if (muse_check_opts(o) != LT_OK)
        return LT_ERR_ARG;
    muse_job *jobs = calloc((size_t)(qa->n ? qa->n : 1), sizeof *jobs);
    lt_status st = jobs ? LT_OK :
                   lt_set_error(LT_ERR_NOMEM, "knowmem: out of memory");
    for (int64_t i = 0; i < qa->n && st == LT_OK; i++)
        st = muse_qa_job(m, tok, qa->qa[i].question, o, &jobs[i]);
    uint8_t *stop = st == LT_OK ?
        muse_newline_tokens(tok, m->cfg.vocab_size) : NULL;
    if (st == LT_OK && !stop)
        st = lt_set_error(LT_ERR_NOMEM, "knowmem: out of memory");
    if (st == LT_OK)
        st = muse_run(m, jobs, qa->n, stop);
    free(stop);
    double sum = 0;
    for (int64_t i = 0; i < qa->n && st == LT_OK; i++) {
        char *g = NULL;
        st = muse_decode(m, tok, &jobs[i], &g);
        double f1 = st == LT_OK ?
            lt_rouge_l(lt_muse_answer_cut(g), qa->qa[i].answer, o->stem).f1 : 0;
        sum += f1;
        if (per_item)
            per_item[i] = f1;
        if (gen)
            gen[i] = g;
        else
            free(g);
    }
    *mean = qa->n ? sum / (double)qa->n : 0;
    muse_jobs_free(jobs, qa->n);
    return st;
}

/* ---- PrivLeak and the whole evaluation ----------------------------------------- */

double lt_muse_privleak(double auc, double auc_retrain)
{
    if (isnan(auc) || isnan(auc_retrain))
        return NAN;
    double u = 1.0 - auc, r = 1.0 - auc_retrain; /* MUSE's orientation */
    return r > 0 ? (u - r) / r * 100.0 : NAN;
}

void lt_muse_data_free(lt_muse_data *d)
{
    if (!d)
        return;
    lt_text_set_free(&d->forget);
    lt_text_set_free(&d->holdout);
    lt_tofu_free(&d->qa_forget);
    lt_tofu_free(&d->qa_retain);
}

static lt_status muse_file(char *buf, size_t n, const char *dir,
                           const char *name)
{
    int k = snprintf(buf, n, "%s/%s", dir, name);
    return k < 0 || (size_t)k >= n ?
           lt_set_error(LT_ERR_ARG, "muse: directory name '%s' too long", dir)
           : LT_OK;
}

lt_status lt_muse_data_load(const char *dir, lt_muse_data *out)
{
    if (!dir || !out)
        return lt_set_error(LT_ERR_ARG, "muse data: NULL argument");
    memset(out, 0, sizeof *out);
    char p[4200];
    lt_status s = muse_file(p, sizeof p, dir, "forget.txt");
    if (s == LT_OK)
        s = lt_text_set_load(p, &out->forget);
    if (s == LT_OK && (s = muse_file(p, sizeof p, dir, "holdout.txt")) ==
        LT_OK)
        s = lt_text_set_load(p, &out->holdout);
    if (s == LT_OK && (s = muse_file(p, sizeof p, dir,
                                     "knowmem_forget.json")) == LT_OK)
        s = lt_tofu_load(p, &out->qa_forget);
    if (s == LT_OK && (s = muse_file(p, sizeof p, dir,
                                     "knowmem_retain.json")) == LT_OK)
        s = lt_tofu_load(p, &out->qa_retain);
    if (s != LT_OK)
        lt_muse_data_free(out);
    return s;
}

lt_status lt_muse_eval(lt_llama *m, const lt_tokenizer *tok,
                       const lt_muse_data *d, const lt_muse_opts *o,
                       lt_muse_result *r)
{
    if (!m || !tok || !d || !r)
        return lt_set_error(LT_ERR_ARG, "muse eval: NULL argument");
    if (muse_check_opts(o) != LT_OK)
        return LT_ERR_ARG;
    memset(r, 0, sizeof *r);
    double t0 = lt_clock_seconds();
    lt_status s = lt_muse_verbmem(m, tok, &d->forget, o, &r->verbmem,
                                  &r->verbmem_n, &r->verbmem_skipped, NULL);
    if (s == LT_OK)
        s = lt_muse_knowmem(m, tok, &d->qa_forget, o, &r->knowmem_forget,
                            NULL, NULL);
    if (s == LT_OK)
        s = lt_muse_knowmem(m, tok, &d->qa_retain, o, &r->knowmem_retain,
                            NULL, NULL);
    r->knowmem_forget_n = d->qa_forget.n;
    r->knowmem_retain_n = d->qa_retain.n;
    if (s == LT_OK)
        s = lt_mia_aucs(m, tok, &d->forget, &d->holdout, o->k, o->batch,
                        r->auc);
    r->seconds = lt_clock_seconds() - t0;
    return s;
}
