/*
 * bench_dm.c - throughput of Lethe's diffusion UNet: one training step of
 * the cond:s preset on a batch of 64 (images/s) and one DDIM-50 sampling
 * pass with guidance (images/s). bench/torch_dm.py times the PyTorch twin
 * (tests/golden/gen_unet.py, same architecture and parameter layout) the
 * same way and prints the joined table (torch_dm.py bench runs both).
 *
 *   bench_dm [--threads N] [--min-time S] [--spec SPEC] [--batch B]
 *            [--samples N] [--steps K] [--precision fp32|bf16]
 *
 * Both sides run with dropout 0 (the twin has none), so the work is equal.
 * One training step = lt_ctx_reset, lt_params_zero_grad, lt_dm_loss (the
 * official pixel-summed loss on fixed random x0, noise, timesteps and
 * classes), lt_backward, lt_optim_step (Adam lr 2e-4). One sampling pass =
 * lt_dm_sample of N (16) samples with K (50) DDIM steps (eta 0), guidance salun w=2
 * (two UNet evaluations per step, batched together). Time: wall clock;
 * after a warm-up (>= 1 run and >= 0.5 s) the median of the runs made in
 * >= min-time (at least 3). Output: one "info" JSON line, then one "dm"
 * line per part, each naming the precision (--precision, default fp32:
 * the precision of the matrix products, lt_set_default_precision) and the
 * peak RSS so far (the training step runs first, so its line has the
 * training step's own peak).
 */
#include <lethe/lethe.h>

#include "bench_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REPS 1000

typedef struct {
    const char *spec;
    int batch, samples, steps, threads;
    double min_time;
} bench_opts;

static int parse(int argc, char **argv, bench_opts *o)
{
    *o = (bench_opts){.spec = "cond:s,dropout=0", .batch = 64, .samples = 16,
                      .steps = 50, .threads = 1, .min_time = 3};
    if (argc % 2 == 0) {
        fprintf(stderr, "bench_dm: %s needs a value\n", argv[argc - 1]);
        return 2;
    }
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--threads"))
            o->threads = atoi(v);
        else if (!strcmp(k, "--min-time"))
            o->min_time = atof(v);
        else if (!strcmp(k, "--spec"))
            o->spec = v;
        else if (!strcmp(k, "--batch"))
            o->batch = atoi(v);
        else if (!strcmp(k, "--samples"))
            o->samples = atoi(v);
        else if (!strcmp(k, "--steps"))
            o->steps = atoi(v);
        else if (!strcmp(k, "--precision")) {
            if (bench_set_precision("bench_dm", v) != 0)
                return 2;
        }
        else {
            fprintf(stderr, "bench_dm: unknown option %s\n", k);
            return 2;
        }
    }
    return o->batch > 0 && o->samples > 0 && o->steps > 0 ? 0 : 2;
}

/* Median seconds of fn over runs lasting >= min_time after a warm-up. */
static double time_runs(int (*fn)(void *), void *ud, double min_time, int *n)
{
    double t0 = now_s();
    do {
        if (fn(ud))
            return -1;
    } while (now_s() - t0 < 0.5);
    double v[MAX_REPS];
    int k = 0;
    t0 = now_s();
    while (k < MAX_REPS && (k < 3 || now_s() - t0 < min_time)) {
        double a = now_s();
        if (fn(ud))
            return -1;
        v[k++] = now_s() - a;
    }
    *n = k;
    return median(v, k);
}

typedef struct {
    lt_unet *u;
    lt_dm_schedule s;
    lt_ctx *c;
    lt_optim opt;
    const bench_opts *o;
    float *x0, *e, *out;
    int32_t *t, *cls;
} bench_state;

static int train_step(void *ud)
{
    bench_state *b = ud;
    int64_t shape[4] = {b->o->batch, 1, b->u->cfg.res, b->u->cfg.res};
    lt_ctx_reset(b->c);
    lt_params_zero_grad(&b->u->params);
    lt_tensor *x0 = lt_from_data(b->c, 4, shape, b->x0);
    lt_tensor *e = lt_from_data(b->c, 4, shape, b->e);
    lt_tensor *loss = lt_dm_loss(b->c, b->u, &b->s, x0, e, b->t, b->cls, true);
    if (!loss || lt_backward(b->c, loss) != LT_OK ||
        lt_optim_step(&b->opt, b->u->params.theta, b->u->params.grad, NULL,
                      2e-4f) != LT_OK) {
        fprintf(stderr, "bench_dm: %s\n", lt_last_error());
        return 1;
    }
    return 0;
}

static int sample_pass(void *ud)
{
    bench_state *b = ud;
    lt_dm_sample_config cfg = lt_dm_sample_defaults();
    cfg.steps = b->o->steps;
    cfg.eta = 0;
    cfg.batch = b->o->samples;
    if (lt_dm_sample(b->u, &b->s, &cfg, b->o->samples, b->cls, b->out, NULL,
                     NULL) != LT_OK) {
        fprintf(stderr, "bench_dm: %s\n", lt_last_error());
        return 1;
    }
    return 0;
}

static int setup(bench_state *b, const bench_opts *o)
{
    memset(b, 0, sizeof *b);
    b->o = o;
    if (lt_unet_create(o->spec, &b->u) != LT_OK ||
        lt_dm_schedule_make("linear", 1000, &b->s) != LT_OK) {
        fprintf(stderr, "bench_dm: %s\n", lt_last_error());
        return 1;
    }
    lt_unet_init(b->u, 1);
    int64_t per = (int64_t)b->u->cfg.res * b->u->cfg.res;
    int n = o->batch > o->samples ? o->batch : o->samples;
    b->x0 = malloc((size_t)(n * per) * sizeof(float));
    b->e = malloc((size_t)(n * per) * sizeof(float));
    b->out = malloc((size_t)(n * per) * sizeof(float));
    b->t = malloc((size_t)n * sizeof(int32_t));
    b->cls = malloc((size_t)n * sizeof(int32_t));
    lt_rng r;
    lt_rng_init(&r, 5);
    lt_rng_fill_uniform(&r, b->x0, n * per, -1, 1);
    lt_rng_fill_normal(&r, b->e, n * per, 0, 1);
    lt_dm_timesteps(&r, 1000, n, b->t);
    for (int i = 0; i < n; i++)
        b->cls[i] = i % b->u->cfg.classes;
    b->c = lt_ctx_new(lt_unet_arena_bytes(b->u, o->batch, true));
    lt_optim_config oc = lt_optim_defaults(LT_OPT_ADAM);
    return !b->c || lt_optim_init(&b->opt, &oc, b->u->params.n_train);
}

int main(int argc, char **argv)
{
    bench_opts o;
    if (parse(argc, argv, &o))
        return 2;
    lt_set_num_threads(o.threads);
    bench_state b;
    if (setup(&b, &o))
        return 1;
    printf("{\"type\":\"info\",\"side\":\"lethe\",\"threads\":%d,\"spec\":"
           "\"%s\",\"params\":%lld,\"precision\":\"%s\",\"backend\":\"%s\","
           "\"min_time\":%g}\n", o.threads, o.spec,
           (long long)b.u->params.n_train, bench_precision(),
           lt_backend_name(), o.min_time);
    fflush(stdout);
    int n1 = 0, n2 = 0;
    double tt = time_runs(train_step, &b, o.min_time, &n1);
    if (tt < 0)
        return 1;
    printf("{\"type\":\"dm\",\"part\":\"train\",\"precision\":\"%s\","
           "\"batch\":%d,\"seconds\":%.6f,\"runs\":%d,\"images_per_s\":%.2f,"
           "\"arena_peak_mb\":%.1f,\"rss_peak_mb\":%.1f}\n",
           bench_precision(), o.batch, tt, n1, o.batch / tt,
           lt_ctx_peak(b.c) / 1048576.0, peak_rss_mb());
    fflush(stdout);
    double ts = time_runs(sample_pass, &b, o.min_time, &n2);
    if (ts < 0)
        return 1;
    printf("{\"type\":\"dm\",\"part\":\"sample\",\"precision\":\"%s\","
           "\"samples\":%d,\"steps\":%d,\"seconds\":%.6f,\"runs\":%d,"
           "\"images_per_s\":%.3f,\"rss_peak_mb\":%.1f}\n",
           bench_precision(), o.samples, o.steps, ts, n2, o.samples / ts,
           peak_rss_mb());
    lt_optim_free(&b.opt);
    lt_ctx_free(b.c);
    lt_unet_free(b.u);
    lt_dm_schedule_free(&b.s);
    free(b.x0);
    free(b.e);
    free(b.out);
    free(b.t);
    free(b.cls);
    return 0;
}
