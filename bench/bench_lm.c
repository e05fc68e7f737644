/*
 * bench_lm.c - throughput of Lethe's Llama language model (issue #6 item
 * 7): training tokens/s and greedy generation tokens/s. bench/torch_lm.py
 * times the same model written in plain PyTorch the same way, and prints
 * the joined table (torch_lm.py bench runs both sides).
 *
 *   bench_lm [--threads N] [--min-time S] [--config tiny] [--vocab V]
 *            [--batch B] [--seq T] [--prompt P] [--new N] [--lr LR]
 *            [--precision fp32|bf16]
 *
 * Defaults: the "tiny" preset (4 layers, d 256, 4 heads, SwiGLU 688,
 * untied head) with a vocabulary of 4096; training on batches of 16 x 128
 * random tokens; generation from a 16-token random prompt, 128 new tokens,
 * batch 1, greedy, no EOS. --precision (default fp32) sets the precision
 * of the matrix products (lt_set_default_precision), training and
 * generation alike; every JSON line names it.
 *
 * One training step = lt_ctx_reset, lt_params_zero_grad, lt_llama_loss
 * (mean next-token cross-entropy over all B*(T-1) scored positions, the
 * forward included), lt_backward, lt_optim_step (AdamW lr 1e-3, betas
 * 0.9/0.999, eps 1e-8, weight decay 0.01: torch.optim.AdamW's defaults
 * but lr). tokens/s = B*T / step time. One generation = lt_llama_generate
 * (a fresh KV cache and arena, the prompt in one cached forward, then one
 * token per cached forward); tokens/s = new tokens / call time.
 * Time: wall clock (CLOCK_MONOTONIC); after a warm-up (>= 1 run and >= 0.5
 * s) the median of N runs, N chosen so they last >= min-time (at least 3).
 *
 * Output: JSON lines: "info" (threads, BLAS, the model config), then one
 * "lm" line per part ("train", "generate") with the timings, the loss of
 * the first and last step, the arena peak and the peak RSS; "train" also
 * gets gemm_flop (the FLOPs of the linear layers' matrix products, see
 * gemm_flop) and gemm_gflops (gemm_flop / median step time).
 */
#include <lethe/lethe.h>

#include "bench_util.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define MAX_REPS 1000

typedef struct {
    const char *config;
    int vocab, batch, seq, prompt, new_tokens, threads;
    double min_time, lr;
} bench_opts;

/* FLOPs of the matrix products of the linear layers in one training step
 * on tokens positions: q, k, v, o, gate, up, down per layer and the LM
 * head, 3 GEMMs (forward, input gradient, weight gradient) of 2 * tokens *
 * in * out each. Attention's own products (QK^T, PV) are not counted. */
static double gemm_flop(const lt_llama_config *c, double tokens)
{
    double d = c->hidden_size, q = (double)c->n_heads * c->head_dim;
    double kv = (double)c->n_kv_heads * c->head_dim;
    double layer = d * q + 2 * d * kv + q * d + 3 * d * c->intermediate_size;
    return 6.0 * tokens * (c->n_layers * layer + d * c->vocab_size);
}

static void stats(double *tot, int n, double *med, double *best, double *mean)
{
    double sum = 0;
    *best = 1e30;
    for (int i = 0; i < n; i++) {
        sum += tot[i];
        *best = tot[i] < *best ? tot[i] : *best;
    }
    *mean = sum / n;
    *med = median(tot, n);
}

/* ---- training ------------------------------------------------------------------ */

typedef struct {
    lt_llama *m;
    lt_ctx *c;
    lt_optim opt;
    int32_t *ids;
    int64_t B, T;
    float lr;
    double loss;
    int steps;
    double loss_first;
} train_state;

static int train_step(void *ud)
{
    train_state *s = ud;
    lt_ctx_reset(s->c);
    lt_params_zero_grad(&s->m->params);
    lt_tensor *l = lt_llama_loss(s->c, s->m, s->ids, NULL, NULL, s->B, s->T);
    if (!l || lt_backward(s->c, l) != LT_OK)
        return -1;
    s->loss = l->data[0];
    if (s->steps++ == 0)
        s->loss_first = s->loss;
    return lt_optim_step(&s->opt, s->m->params.theta, s->m->params.grad, NULL,
                         s->lr) == LT_OK ? 0 : -1;
}

static int run_train(lt_llama *m, const bench_opts *o)
{
    static double tot[MAX_REPS];
    train_state s = {.m = m, .B = o->batch, .T = o->seq, .lr = (float)o->lr};
    int rc = 1;
    lt_optim_config oc = lt_optim_defaults(LT_OPT_ADAMW);
    oc.lr = (float)o->lr;
    oc.weight_decay = 0.01f;
    if (lt_optim_init(&s.opt, &oc, m->params.n_train) != LT_OK)
        goto done;
    s.c = lt_ctx_new(lt_llama_arena_bytes(&m->cfg, s.B, s.T, true));
    s.ids = malloc((size_t)(s.B * s.T) * sizeof *s.ids);
    if (!s.c || !s.ids) {
        lt_set_error(LT_ERR_NOMEM, "bench_lm: out of memory");
        goto done;
    }
    lt_rng r;
    lt_rng_init(&r, 12345);
    for (int64_t i = 0; i < s.B * s.T; i++)
        s.ids[i] = (int32_t)lt_rng_below(&r, (uint64_t)m->cfg.vocab_size);
    int warm = 0;
    int n = bench_time_runs(train_step, &s, o->min_time, MAX_REPS, tot,
                            &warm);
    if (n < 0)
        goto done;
    if (!isfinite(s.loss)) {
        lt_set_error(LT_ERR_NAN, "bench_lm: the loss is not finite");
        goto done;
    }
    double med, best, mean;
    stats(tot, n, &med, &best, &mean);
    double gf = gemm_flop(&m->cfg, (double)(s.B * s.T));
    printf("{\"type\":\"lm\",\"name\":\"train\",\"precision\":\"%s\","
           "\"gemm_flop\":%.6g,\"gemm_gflops\":%.6g,"
           "\"batch\":%lld,\"seq\":%lld,"
           "\"tokens\":%lld,\"warmup\":%d,\"reps\":%d,\"ms\":%.6g,"
           "\"ms_min\":%.6g,\"ms_mean\":%.6g,\"tokens_s\":%.6g,"
           "\"loss_first\":%.6g,\"loss_last\":%.6g,\"arena_mb\":%.1f,"
           "\"rss_peak_mb\":%.1f}\n",
           bench_precision(), gf, gf / med * 1e-9,
           (long long)s.B, (long long)s.T, (long long)(s.B * s.T), warm, n,
           1e3 * med, 1e3 * best, 1e3 * mean, (double)(s.B * s.T) / med,
           s.loss_first, s.loss, (double)lt_ctx_peak(s.c) / (1 << 20),
           peak_rss_mb());
    fflush(stdout);
    rc = 0;
done:
    if (rc)
        bench_print_error("lm", "train", lt_last_error());
    lt_ctx_free(s.c);
    lt_optim_free(&s.opt);
    free(s.ids);
    return rc;
}

/* ---- generation ---------------------------------------------------------------- */

typedef struct {
    lt_llama *m;
    int32_t *prompt, *out;
    int64_t n_prompt, n_out;
    lt_llama_gen_opts go;
} gen_state;

static int gen_once(void *ud)
{
    gen_state *g = ud;
    if (lt_llama_generate(g->m, g->prompt, g->n_prompt, &g->go, g->out,
                          &g->n_out) != LT_OK)
        return -1;
    if (g->n_out != g->go.max_new_tokens) {
        lt_set_error(LT_ERR_STATE, "bench_lm: generated %lld of %lld tokens",
                     (long long)g->n_out, (long long)g->go.max_new_tokens);
        return -1;
    }
    return 0;
}

static int run_generate(lt_llama *m, const bench_opts *o)
{
    static double tot[MAX_REPS];
    gen_state g = {.m = m, .n_prompt = o->prompt};
    int rc = 1;
    g.go = lt_llama_gen_defaults(m);
    g.go.max_new_tokens = o->new_tokens;
    g.go.temperature = 0.0f; /* greedy */
    g.go.eos_id = -1;        /* always the full length */
    g.prompt = malloc((size_t)o->prompt * sizeof *g.prompt);
    g.out = malloc((size_t)o->new_tokens * sizeof *g.out);
    if (!g.prompt || !g.out) {
        lt_set_error(LT_ERR_NOMEM, "bench_lm: out of memory");
        goto done;
    }
    lt_rng r;
    lt_rng_init(&r, 777);
    for (int i = 0; i < o->prompt; i++)
        g.prompt[i] = (int32_t)lt_rng_below(&r, (uint64_t)m->cfg.vocab_size);
    int warm = 0;
    int n = bench_time_runs(gen_once, &g, o->min_time, MAX_REPS, tot,
                            &warm);
    if (n < 0)
        goto done;
    double med, best, mean;
    stats(tot, n, &med, &best, &mean);
    printf("{\"type\":\"lm\",\"name\":\"generate\",\"precision\":\"%s\","
           "\"batch\":1,"
           "\"prompt\":%d,\"new\":%d,\"tokens\":%d,\"warmup\":%d,\"reps\":%d,"
           "\"ms\":%.6g,\"ms_min\":%.6g,\"ms_mean\":%.6g,\"tokens_s\":%.6g,"
           "\"first_ids\":[%d,%d,%d,%d],\"rss_peak_mb\":%.1f}\n",
           bench_precision(), o->prompt, o->new_tokens, o->new_tokens, warm,
           n, 1e3 * med,
           1e3 * best, 1e3 * mean, o->new_tokens / med, g.out[0],
           o->new_tokens > 1 ? g.out[1] : -1, o->new_tokens > 2 ? g.out[2] : -1,
           o->new_tokens > 3 ? g.out[3] : -1, peak_rss_mb());
    fflush(stdout);
    rc = 0;
done:
    if (rc)
        bench_print_error("lm", "generate", lt_last_error());
    free(g.prompt);
    free(g.out);
    return rc;
}

/* ---- main ---------------------------------------------------------------------- */

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [--threads N] [--min-time S] [--config NAME] "
            "[--vocab V] [--batch B] [--seq T] [--prompt P] [--new N] "
            "[--lr LR] [--precision fp32|bf16]\n", prog);
}

static int parse(int argc, char **argv, bench_opts *o)
{
    *o = (bench_opts){.config = "tiny", .vocab = 4096, .batch = 16,
                      .seq = 128, .prompt = 16, .new_tokens = 128,
                      .min_time = 3.0, .lr = 1e-3};
    for (int i = 1; i < argc; i += 2) { /* options come in pairs */
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return -1;
        if (!strcmp(a, "--threads"))
            o->threads = atoi(v);
        else if (!strcmp(a, "--min-time"))
            o->min_time = atof(v);
        else if (!strcmp(a, "--config"))
            o->config = v;
        else if (!strcmp(a, "--vocab"))
            o->vocab = atoi(v);
        else if (!strcmp(a, "--batch"))
            o->batch = atoi(v);
        else if (!strcmp(a, "--seq"))
            o->seq = atoi(v);
        else if (!strcmp(a, "--prompt"))
            o->prompt = atoi(v);
        else if (!strcmp(a, "--new"))
            o->new_tokens = atoi(v);
        else if (!strcmp(a, "--lr"))
            o->lr = atof(v);
        else if (!strcmp(a, "--precision")) {
            if (bench_set_precision("bench_lm", v) != 0)
                return -1;
        } else
            return -1;
    }
    if (o->vocab < 2 || o->batch < 1 || o->seq < 2 || o->prompt < 1 ||
        o->new_tokens < 1)
        return -1;
    return 0;
}

static void print_info(const lt_llama *m, const bench_opts *o)
{
    const lt_llama_config *c = &m->cfg;
    printf("{\"type\":\"info\",\"threads\":%d,\"blas_threads\":%d,"
           "\"blas_core\":\"%s\",\"min_time\":%g,\"lethe\":\"%s\","
           "\"precision\":\"%s\",\"backend\":\"%s\","
           "\"optim\":\"AdamW lr %g betas 0.9/0.999 eps 1e-8 weight_decay "
           "0.01\",\"lr\":%g,\"config\":\"%s\",\"vocab\":%d,\"hidden\":%d,"
           "\"layers\":%d,\"heads\":%d,\"kv_heads\":%d,\"head_dim\":%d,"
           "\"ffn\":%d,\"rope_theta\":%g,\"rms_eps\":%g,\"tied\":%s,"
           "\"max_pos\":%d,\"params\":%lld}\n",
           lt_num_threads(), openblas_get_num_threads(),
           openblas_get_corename(), o->min_time, LETHE_VERSION,
           bench_precision(), lt_backend_name(), o->lr, o->lr,
           o->config, c->vocab_size, c->hidden_size, c->n_layers, c->n_heads,
           c->n_kv_heads, c->head_dim, c->intermediate_size, c->rope_theta,
           c->rms_norm_eps, c->tie_word_embeddings ? "true" : "false",
           c->max_position_embeddings, (long long)m->params.n_train);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    bench_opts o;
    if (parse(argc, argv, &o) != 0) {
        usage(argv[0]);
        return 2;
    }
    if (o.threads > 0)
        lt_set_num_threads(o.threads);
    lt_llama_config cfg;
    lt_llama *m = NULL;
    if (lt_llama_preset(o.config, o.vocab, &cfg) != LT_OK ||
        lt_llama_create(&cfg, &m) != LT_OK) {
        bench_print_error("lm", "train", lt_last_error());
        return 1;
    }
    if (o.prompt + o.new_tokens > cfg.max_position_embeddings ||
        o.seq > cfg.max_position_embeddings) {
        fprintf(stderr, "bench_lm: --seq, --prompt + --new exceed the "
                "context of %d\n", cfg.max_position_embeddings);
        lt_llama_free(m);
        return 2;
    }
    lt_llama_init(m, 1);
    print_info(m, &o);
    int rc = run_train(m, &o);
    lt_llama_init(m, 1); /* generation from the initial weights */
    rc |= run_generate(m, &o);
    lt_llama_free(m);
    return rc;
}
