/*
 * bench_train.c - training throughput of Lethe's classifiers: samples/s of
 * a full training step (train-mode forward, cross-entropy, backward, SGD
 * momentum step, zero the gradients) on random data, and the memory it
 * takes. bench/torch_train.py times the PyTorch twins of the same models
 * (tests/golden/gen_models.py) the same way and prints the joined table;
 * bench/run.sh runs both.
 *
 *   bench_train [--threads N] [--min-time S] [--only NAME] [--precision P]
 *   bench_train --model NAME [--threads N] [--min-time S] [--arena-mb MB]
 *               [--precision P]
 *
 * --precision fp32|bf16 (default fp32): the precision of the matrix
 * products (lt_set_default_precision); printed in every JSON line.
 *
 * Without --model it prints an "info" line and then runs every model (or
 * those whose name contains --only) in a fresh child process of its own
 * (fork + exec of itself with --model), so each model's peak RSS is its
 * own; each child prints one "model" JSON line.
 *
 * One measured step = lt_ctx_reset, lt_model_forward(train) on a wrapped
 * random batch, lt_cross_entropy (mean), lt_backward, lt_optim_step (SGD,
 * lr 0.01, momentum 0.9, weight decay 5e-4), lt_params_zero_grad: the step
 * of src/models/trainer.c without data loading and augmentation. Time: wall
 * clock (CLOCK_MONOTONIC) per step; after a warm-up (>= 1 step and
 * >= 0.5 s) the median of N steps, N chosen so the steps last >= min-time
 * (at least 3). Memory: the arena peak (lt_ctx_peak), parameter bytes
 * (theta + gradients), optimizer state (momentum), and the process's peak
 * RSS (getrusage ru_maxrss) before the first step and at the end.
 * MLPs also get "gemm_flop" (the FLOPs of the step's matrix products, see
 * gemm_flop) and "gemm_gflops" (gemm_flop / median step time).
 */
#include <lethe/lethe.h>

#include "bench_util.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_REPS 1000

typedef struct {
    const char *name;  /* bench name */
    const char *arch;  /* lt_model_create spec */
    lt_input_spec in;
    int batch;
} bench_model;

static const bench_model MODELS[] = {
    {"mlp", "mlp:784-512-512-10", {1, 28, 28, 10}, 256},
    {"resnet8", "resnet8", {1, 28, 28, 10}, 128},
    {"resnet18", "resnet18", {3, 32, 32, 10}, 128},
};
#define N_MODELS (int)(sizeof MODELS / sizeof MODELS[0])

/* FLOPs of the matrix products of one training step of an "mlp:D0-D1-..."
 * model on a batch: 3 GEMMs (forward, input gradient, weight gradient) of
 * 2*B*in*out each per linear layer; 0 for other architectures (conv-bound). */
static double gemm_flop(const bench_model *bm)
{
    if (strncmp(bm->arch, "mlp:", 4) != 0)
        return 0;
    double sum = 0;
    const char *p = bm->arch + 4;
    long prev = strtol(p, (char **)&p, 10);
    while (*p == '-') {
        long next = strtol(p + 1, (char **)&p, 10);
        sum += (double)prev * (double)next;
        prev = next;
    }
    return 6.0 * bm->batch * sum;
}

static double mb(double bytes) { return bytes / (1024.0 * 1024.0); }

typedef struct {
    lt_ctx *c;
    lt_model *m;
    lt_optim opt;
    float *x;
    int32_t *y;
    int64_t xshape[4];
    double loss;
} train_state;

/* One training step (trainer.c's, on the fixed batch). */
static int step(train_state *s)
{
    lt_ctx_reset(s->c);
    lt_tensor x;
    if (lt_tensor_wrap(&x, s->x, NULL, 4, s->xshape) != LT_OK)
        return -1;
    lt_tensor *logits = lt_model_forward(s->c, s->m, &x, true);
    lt_tensor *l = lt_cross_entropy(s->c, logits, s->y, LT_REDUCE_MEAN);
    if (!l || lt_backward(s->c, l) != LT_OK)
        return -1;
    s->loss = l->data[0];
    if (lt_optim_step(&s->opt, s->m->params.theta, s->m->params.grad, NULL,
                      s->opt.cfg.lr) != LT_OK)
        return -1;
    lt_params_zero_grad(&s->m->params);
    return 0;
}

/* Time one model in this process; prints its "model" line. */
static int run_model(const bench_model *bm, double min_time, size_t arena)
{
    static double tot[MAX_REPS];
    train_state s = {0};
    int rc = 1;
    int64_t item = (int64_t)bm->in.channels * bm->in.height * bm->in.width;
    int64_t n_x = (int64_t)bm->batch * item;
    if (lt_model_create(bm->arch, bm->in, &s.m) != LT_OK)
        goto fail;
    lt_model_init(s.m, 1);
    lt_optim_config oc = lt_optim_defaults(LT_OPT_SGD);
    oc.lr = 0.01f;
    oc.momentum = 0.9f;
    oc.weight_decay = 5e-4f;
    if (lt_optim_init(&s.opt, &oc, s.m->params.n_train) != LT_OK)
        goto fail;
    s.c = lt_ctx_new(arena);
    s.x = malloc((size_t)n_x * sizeof *s.x);
    s.y = malloc((size_t)bm->batch * sizeof *s.y);
    if (!s.c || !s.x || !s.y) {
        lt_set_error(LT_ERR_NOMEM, "bench_train: out of memory");
        goto fail;
    }
    lt_rng r;
    lt_rng_init(&r, 12345);
    lt_rng_fill_normal(&r, s.x, n_x, 0.0f, 1.0f);
    for (int i = 0; i < bm->batch; i++)
        s.y[i] = (int32_t)lt_rng_below(&r, (uint64_t)bm->in.classes);
    s.xshape[0] = bm->batch;
    s.xshape[1] = bm->in.channels;
    s.xshape[2] = bm->in.height;
    s.xshape[3] = bm->in.width;
    lt_params_zero_grad(&s.m->params);
    double rss_base = peak_rss_mb();

    double t0 = now_s(), loss_first = 0;
    int warm = 0;
    do { /* warm-up: >= 1 step and >= 0.5 s (touches the arena's pages) */
        if (step(&s) != 0)
            goto fail;
        if (warm++ == 0)
            loss_first = s.loss;
    } while (now_s() - t0 < 0.5);
    double per = (now_s() - t0) / warm;
    int n = (int)(min_time / per) + 1;
    n = n < 3 ? 3 : n > MAX_REPS ? MAX_REPS : n;
    double sum = 0, best = 1e30;
    for (int i = 0; i < n; i++) {
        double t = now_s();
        if (step(&s) != 0)
            goto fail;
        tot[i] = now_s() - t;
        sum += tot[i];
        best = tot[i] < best ? tot[i] : best;
    }
    if (!isfinite(s.loss)) {
        lt_set_error(LT_ERR_NAN, "bench_train: the loss is not finite");
        goto fail;
    }
    double med = median(tot, n);
    double arena_mb = mb((double)lt_ctx_peak(s.c));
    double param_mb = mb(4.0 * (double)(s.m->params.n_total +
                                        s.m->params.n_train));
    double optim_mb = mb(4.0 * (double)s.m->params.n_train);
    double gf = gemm_flop(bm);
    printf("{\"type\":\"model\",\"name\":\"%s\",\"precision\":\"%s\","
           "\"backend\":\"%s\",\"gemm_flop\":%.6g,\"gemm_gflops\":%.6g,"
           "\"arch\":\"%s\","
           "\"input\":[%d,%d,%d],\"classes\":%d,\"batch\":%d,"
           "\"params\":%lld,\"warmup\":%d,\"reps\":%d,\"ms\":%.6g,"
           "\"ms_min\":%.6g,\"ms_mean\":%.6g,\"samples_s\":%.6g,"
           "\"arena_mb\":%.2f,\"param_mb\":%.2f,\"optim_mb\":%.2f,"
           "\"lethe_mb\":%.2f,\"rss_base_mb\":%.1f,\"rss_peak_mb\":%.1f,"
           "\"loss_first\":%.5g,\"loss_last\":%.5g}\n",
           bm->name, bench_precision(), lt_backend_name(), gf,
           gf / med * 1e-9, bm->arch, bm->in.channels, bm->in.height, bm->in.width,
           bm->in.classes, bm->batch, (long long)s.m->params.n_train, warm, n,
           1e3 * med, 1e3 * best, 1e3 * sum / n, bm->batch / med, arena_mb,
           param_mb, optim_mb, arena_mb + param_mb + optim_mb, rss_base,
           peak_rss_mb(), loss_first, s.loss);
    fflush(stdout);
    rc = 0;
fail:
    if (rc)
        bench_print_error("model", bm->name, lt_last_error());
    lt_ctx_free(s.c);
    lt_optim_free(&s.opt);
    lt_model_free(s.m);
    free(s.x);
    free(s.y);
    return rc;
}

/* Run one model in a fresh process: exec of this program with --model. */
static int spawn_model(const char *argv0, const bench_model *bm,
                       int threads, double min_time, long arena_mb)
{
    char th[32], mt[64], am[32], pr[16];
    snprintf(th, sizeof th, "%d", threads);
    snprintf(mt, sizeof mt, "%.17g", min_time);
    snprintf(am, sizeof am, "%ld", arena_mb);
    snprintf(pr, sizeof pr, "%s", bench_precision());
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        bench_print_error("model", bm->name, "fork failed");
        return 1;
    }
    if (pid == 0) {
        char *argv[] = {(char *)argv0, "--model", (char *)bm->name,
                        "--threads", th, "--min-time", mt, "--arena-mb", am,
                        "--precision", pr, NULL};
        execv("/proc/self/exe", argv); /* Linux; else the path we ran as */
        execvp(argv0, argv);
        _exit(127);
    }
    int st = 0;
    if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        char msg[96];
        snprintf(msg, sizeof msg, "child process failed (status %d)", st);
        /* a child that ran printed its own error line; this one is for a
         * crash or a failed exec */
        if (!WIFEXITED(st) || WEXITSTATUS(st) == 127)
            bench_print_error("model", bm->name, msg);
        return 1;
    }
    return 0;
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [--threads N] [--min-time S] [--only NAME] "
            "[--model NAME] [--arena-mb MB] [--precision fp32|bf16]\n"
            "models:", prog);
    for (int i = 0; i < N_MODELS; i++)
        fprintf(stderr, " %s", MODELS[i].name);
    fprintf(stderr, "\n");
}

int main(int argc, char **argv)
{
    int threads = 0;
    double min_time = 3.0;
    long arena_mb = 4096; /* virtual: only the pages used are touched */
    const char *only = NULL, *model = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--min-time") && i + 1 < argc)
            min_time = atof(argv[++i]);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else if (!strcmp(argv[i], "--model") && i + 1 < argc)
            model = argv[++i];
        else if (!strcmp(argv[i], "--arena-mb") && i + 1 < argc)
            arena_mb = atol(argv[++i]);
        else if (!strcmp(argv[i], "--precision") && i + 1 < argc) {
            if (bench_set_precision("bench_train", argv[++i]) != 0)
                return 2;
        } else {
            usage(argv[0]);
            return 2;
        }
    }
    if (threads > 0)
        lt_set_num_threads(threads);
    if (arena_mb < 1)
        arena_mb = 1;
    if (model) {
        for (int i = 0; i < N_MODELS; i++)
            if (!strcmp(MODELS[i].name, model))
                return run_model(&MODELS[i], min_time,
                                 (size_t)arena_mb << 20);
        usage(argv[0]);
        return 2;
    }
    printf("{\"type\":\"info\",\"threads\":%d,\"blas_threads\":%d,"
           "\"blas_core\":\"%s\",\"min_time\":%g,\"lethe\":\"%s\","
           "\"precision\":\"%s\",\"backend\":\"%s\","
           "\"optim\":\"SGD lr 0.01 momentum 0.9 weight_decay 5e-4\"}\n",
           lt_num_threads(), openblas_get_num_threads(),
           openblas_get_corename(), min_time, LETHE_VERSION,
           bench_precision(), lt_backend_name());
    int rc = 0;
    for (int i = 0; i < N_MODELS; i++) {
        if (only && !strstr(MODELS[i].name, only))
            continue;
        rc |= spawn_model(argv[0], &MODELS[i], lt_num_threads(), min_time,
                          arena_mb);
    }
    return rc;
}
