/*
 * demo.c - `lethe demo`: the main job until the unlearning benchmark lands.
 * Trains a two-layer MLP on the real Fashion-MNIST data with the engine
 * (linear, relu, cross-entropy, autograd, SGD with momentum) and reports
 * loss and test accuracy per epoch. It exercises every layer that exists
 * so far end to end on real data.
 */
#include "cli/cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    int epochs, hidden, batch, threads;
    float lr, momentum;
    uint64_t seed;
    const char *data;
} lt_demo_opts;

typedef struct {
    float *x;     /* [n, 784], normalised */
    int32_t *y;   /* [n] */
    int64_t n;
} lt_demo_split;

static double lt_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void lt_demo_usage(FILE *f)
{
    fprintf(f,
        "usage: lethe demo [options]\n"
        "Train an MLP 784-H-10 on Fashion-MNIST and report test accuracy.\n\n"
        "  --data DIR      folder with {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]\n"
        "                  (default: $LETHE_DATA or /usr/share/datasets/fashion-mnist)\n"
        "  --epochs N      passes over the training set (default 3)\n"
        "  --hidden H      hidden width (default 256)\n"
        "  --batch B       minibatch size (default 128)\n"
        "  --lr X          SGD learning rate (default 0.05)\n"
        "  --momentum X    SGD momentum (default 0.9)\n"
        "  --seed S        initialisation and shuffling seed (default 1)\n"
        "  --threads T     threads (default: all cores)\n");
}

static int lt_demo_parse(int argc, char **argv, lt_demo_opts *o)
{
    *o = (lt_demo_opts){3, 256, 128, 0, 0.05f, 0.9f, 1, NULL};
    o->data = getenv("LETHE_DATA");
    if (!o->data)
        o->data = "/usr/share/datasets/fashion-mnist";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            lt_demo_usage(stdout);
            return 1;
        }
        char *end = NULL;
        double num = v ? strtod(v, &end) : 0;
        bool isnum = v && end && *end == '\0' && end != v;
        if (!strcmp(a, "--data") && v)
            o->data = v;
        else if (!isnum) {
            fprintf(stderr, "lethe demo: %s: %s\n", a,
                    v ? "expects a number" : "unknown option or missing value");
            return 2;
        } else if (!strcmp(a, "--epochs") && num >= 1 && num <= 1000)
            o->epochs = (int)num;
        else if (!strcmp(a, "--hidden") && num >= 1 && num <= 65536)
            o->hidden = (int)num;
        else if (!strcmp(a, "--batch") && num >= 1 && num <= 65536)
            o->batch = (int)num;
        else if (!strcmp(a, "--lr") && num > 0 && num < 10)
            o->lr = (float)num;
        else if (!strcmp(a, "--momentum") && num >= 0 && num < 1)
            o->momentum = (float)num;
        else if (!strcmp(a, "--seed") && num >= 0)
            o->seed = (uint64_t)num;
        else if (!strcmp(a, "--threads") && num >= 1 && num <= 1024)
            o->threads = (int)num;
        else {
            fprintf(stderr, "lethe demo: %s %s: unknown option or value out "
                    "of range\n", a, v);
            return 2;
        }
        i++;
    }
    return 0;
}

/* Open <dir>/<stem> or <dir>/<stem>.gz. */
static lt_status lt_demo_idx(const char *dir, const char *stem, lt_idx *out)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.gz", dir, stem);
    if (access(path, R_OK) != 0)
        snprintf(path, sizeof path, "%s/%s", dir, stem);
    return lt_idx_load(path, out);
}

static lt_status lt_demo_load(const char *dir, const char *prefix,
                              lt_demo_split *s)
{
    char stem[64];
    lt_idx im, lb;
    snprintf(stem, sizeof stem, "%s-images-idx3-ubyte", prefix);
    if (lt_demo_idx(dir, stem, &im) != LT_OK)
        return lt_last_status();
    snprintf(stem, sizeof stem, "%s-labels-idx1-ubyte", prefix);
    if (lt_demo_idx(dir, stem, &lb) != LT_OK) {
        lt_idx_free(&im);
        return lt_last_status();
    }
    lt_status st = LT_OK;
    if (im.ndim != 3 || im.shape[1] != 28 || im.shape[2] != 28 ||
        lb.ndim != 1 || lb.shape[0] != im.shape[0])
        st = lt_set_error(LT_ERR_FORMAT, "%s/%s-*: expected N 28x28 images "
                          "and N labels", dir, prefix);
    s->n = im.shape[0];
    s->x = st == LT_OK ? malloc((size_t)im.numel * sizeof(float)) : NULL;
    s->y = st == LT_OK ? malloc((size_t)s->n * sizeof(int32_t)) : NULL;
    for (int64_t i = 0; s->x && s->y && i < im.numel; i++)
        s->x[i] = ((float)im.data[i] / 255.0f - 0.2860f) / 0.3530f;
    for (int64_t i = 0; s->x && s->y && i < s->n; i++) {
        s->y[i] = lb.data[i];
        if (lb.data[i] > 9)
            st = lt_set_error(LT_ERR_FORMAT, "%s: label %d at %lld is not in "
                              "0..9", prefix, lb.data[i], (long long)i);
    }
    lt_idx_free(&im);
    lt_idx_free(&lb);
    return st;
}

typedef struct {
    float *theta, *grad, *vel;
    int64_t n;
    lt_tensor w1, b1, w2, b2;
} lt_demo_mlp;

static void lt_demo_mlp_init(lt_demo_mlp *m, int hidden, uint64_t seed)
{
    int64_t sizes[4] = {(int64_t)hidden * 784, hidden, 10 * (int64_t)hidden, 10};
    m->n = sizes[0] + sizes[1] + sizes[2] + sizes[3];
    m->theta = calloc((size_t)m->n, sizeof(float));
    m->grad = calloc((size_t)m->n, sizeof(float));
    m->vel = calloc((size_t)m->n, sizeof(float));
    lt_rng r;
    lt_rng_init(&r, seed);
    /* PyTorch nn.Linear default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
    float *p = m->theta, *g = m->grad;
    float b1 = 1.0f / sqrtf(784.0f), b2 = 1.0f / sqrtf((float)hidden);
    lt_rng_fill_uniform(&r, p, sizes[0] + sizes[1], -b1, b1);
    lt_rng_fill_uniform(&r, p + sizes[0] + sizes[1], sizes[2] + sizes[3], -b2,
                        b2);
    lt_tensor_wrap(&m->w1, p, g, 2, (int64_t[]){hidden, 784});
    p += sizes[0], g += sizes[0];
    lt_tensor_wrap(&m->b1, p, g, 1, (int64_t[]){hidden});
    p += sizes[1], g += sizes[1];
    lt_tensor_wrap(&m->w2, p, g, 2, (int64_t[]){10, hidden});
    p += sizes[2], g += sizes[2];
    lt_tensor_wrap(&m->b2, p, g, 1, (int64_t[]){10});
}

static lt_tensor *lt_demo_forward(lt_ctx *c, lt_demo_mlp *m, const float *x,
                                  int64_t b)
{
    lt_tensor *in = lt_from_data(c, 2, (int64_t[]){b, 784}, x);
    return lt_linear(c, lt_relu(c, lt_linear(c, in, &m->w1, &m->b1)), &m->w2,
                     &m->b2);
}

static double lt_demo_accuracy(lt_ctx *c, lt_demo_mlp *m,
                               const lt_demo_split *s)
{
    int64_t correct = 0;
    bool old = lt_set_grad_enabled(c, false);
    for (int64_t i = 0; i < s->n; i += 1000) {
        int64_t b = s->n - i < 1000 ? s->n - i : 1000;
        lt_ctx_reset(c);
        lt_tensor *y = lt_demo_forward(c, m, s->x + i * 784, b);
        for (int64_t r = 0; y && r < b; r++) {
            int best = 0;
            for (int k = 1; k < 10; k++)
                if (y->data[r * 10 + k] > y->data[r * 10 + best])
                    best = k;
            correct += best == s->y[i + r];
        }
    }
    lt_set_grad_enabled(c, old);
    return 100.0 * (double)correct / (double)s->n;
}

static void lt_demo_sgd(lt_demo_mlp *m, float lr, float mu)
{
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < m->n; i++) {
        m->vel[i] = mu * m->vel[i] + m->grad[i];
        m->theta[i] -= lr * m->vel[i];
        m->grad[i] = 0;
    }
}

static int lt_demo_epoch(lt_ctx *c, lt_demo_mlp *m, const lt_demo_split *tr,
                         const lt_demo_opts *o, int epoch, double *loss_out)
{
    int64_t n = tr->n, nb = n / o->batch;
    int64_t *perm = malloc((size_t)n * sizeof *perm);
    float *xb = malloc((size_t)o->batch * 784 * sizeof(float));
    int32_t *yb = malloc((size_t)o->batch * sizeof(int32_t));
    lt_rng r;
    lt_rng_init(&r, o->seed * 1000003u + (uint64_t)epoch);
    for (int64_t i = 0; i < n; i++)
        perm[i] = i;
    for (int64_t i = n - 1; i > 0; i--) { /* Fisher-Yates */
        int64_t j = (int64_t)lt_rng_below(&r, (uint64_t)i + 1), t = perm[i];
        perm[i] = perm[j], perm[j] = t;
    }
    double sum = 0, t0 = lt_now();
    int rc = 0;
    for (int64_t bi = 0; bi < nb && rc == 0; bi++) {
        for (int64_t k = 0; k < o->batch; k++) {
            int64_t src = perm[bi * o->batch + k];
            memcpy(xb + k * 784, tr->x + src * 784, 784 * sizeof(float));
            yb[k] = tr->y[src];
        }
        lt_ctx_reset(c);
        lt_tensor *loss = lt_cross_entropy(c, lt_demo_forward(c, m, xb, o->batch),
                                           yb, LT_REDUCE_MEAN);
        if (!loss || lt_backward(c, loss) != LT_OK) {
            fprintf(stderr, "lethe demo: step %lld: %s\n", (long long)bi,
                    lt_last_error());
            rc = 1;
            break;
        }
        sum += loss->data[0];
        lt_demo_sgd(m, o->lr, o->momentum);
        if ((bi + 1) % 100 == 0 || bi + 1 == nb) {
            double el = lt_now() - t0;
            fprintf(stderr, "\repoch %d  %5lld/%lld batches  loss %.4f  "
                    "%.0f samples/s  ETA %.0fs   ", epoch, (long long)bi + 1,
                    (long long)nb, sum / (double)(bi + 1),
                    (double)(bi + 1) * o->batch / el,
                    el / (double)(bi + 1) * (double)(nb - bi - 1));
            if (!isatty(2))
                fputc('\n', stderr);
        }
    }
    if (isatty(2))
        fputc('\n', stderr);
    *loss_out = sum / (double)(nb ? nb : 1);
    free(perm);
    free(xb);
    free(yb);
    return rc;
}

int lt_cli_demo(int argc, char **argv)
{
    lt_demo_opts o;
    int rc = lt_demo_parse(argc, argv, &o);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (o.threads)
        lt_set_num_threads(o.threads);
    lt_demo_split tr = {0}, te = {0};
    if (lt_demo_load(o.data, "train", &tr) != LT_OK ||
        lt_demo_load(o.data, "t10k", &te) != LT_OK) {
        fprintf(stderr, "lethe demo: %s\n(install Debian's dataset-fashion-mnist"
                " or point --data / $LETHE_DATA at the IDX files)\n",
                lt_last_error());
        return 1;
    }
    printf("lethe demo: MLP 784-%d-10 on Fashion-MNIST (%lld train, %lld test),"
           " %d threads, seed %llu\n", o.hidden, (long long)tr.n,
           (long long)te.n, lt_num_threads(), (unsigned long long)o.seed);
    lt_demo_mlp m;
    lt_demo_mlp_init(&m, o.hidden, o.seed);
    lt_ctx *c = lt_ctx_new((size_t)64 << 20);
    double t0 = lt_now();
    for (int e = 1; e <= o.epochs && c && rc == 0; e++) {
        double loss;
        rc = lt_demo_epoch(c, &m, &tr, &o, e, &loss);
        if (rc == 0)
            printf("epoch %d  train loss %.4f  test accuracy %.2f%%  "
                   "(%.1f s)\n", e, loss, lt_demo_accuracy(c, &m, &te),
                   lt_now() - t0);
        fflush(stdout);
    }
    if (!c)
        fprintf(stderr, "lethe demo: %s\n", lt_last_error());
    lt_ctx_free(c);
    free(m.theta), free(m.grad), free(m.vel);
    free(tr.x), free(tr.y), free(te.x), free(te.y);
    return c && rc == 0 ? 0 : 1;
}
