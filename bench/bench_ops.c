/*
 * bench_ops.c - forward+backward timing of Lethe's heavy ops (linear,
 * conv2d, attention) at the shapes of Lethe's models, next to this
 * machine's GEMM peaks measured in the same run: OpenBLAS SGEMM and (in
 * the oneDNN build) a oneDNN bf16 matmul primitive, both 1024^3.
 *
 * Prints one JSON object per line (an "info" line, two "peak" lines, one
 * "case" line per op and shape, then the two peaks again); bench/perf.py
 * runs it next to bench/torch_ops.py, which times PyTorch on the same
 * cases, and writes the joined table.
 *
 *   bench_ops [--threads N] [--min-time SECONDS] [--only NAME]
 *             [--precision fp32|bf16] [--info | --peaks]
 * (--info: print the info line only, e.g. to see OpenBLAS's kernel choice;
 * --peaks: the info line and the peak lines only; --only: the cases whose
 * name contains NAME, or one of a comma-separated list of names;
 * --precision, default fp32: the precision of the ops' matrix products,
 * lt_set_default_precision; the info and case lines name it.)
 *
 * Peak lines: {"type":"peak","kind":"sgemm"|"bf16","impl":"openblas"|
 * "onednn","n":1024,"gflops":G} (best of 16 calls after 2 warm-up calls;
 * the bf16 one has bf16 inputs and an fp32 result, as Lethe's products,
 * and names oneDNN's implementation in "dnnl_impl", e.g.
 * brg:avx512_core_amx_bf16 where AMX runs it; gflops is null in a build
 * without oneDNN).
 *
 * One measured step = lt_ctx_reset, zero the parameter gradients, the op
 * (inputs require a gradient, parameters are wrapped with lt_tensor_wrap),
 * lt_backward_with(c, y, ones). Time: wall clock (CLOCK_MONOTONIC), median
 * of N steps after a warm-up, N chosen so that the steps last >= min-time.
 * FLOP convention: GEMM-likes forward 2*M*N*K (conv 2*N*O*Ho*Wo*C*kh*kw),
 * backward 2x forward; attention forward 4*B*H*Tq*Tk*D counting the full
 * Tq x Tk square even when causal, backward 2.5x forward.
 */
#include <cblas.h>
#include <lethe/core.h>
#include <lethe/ops.h>

#include "bench_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef LETHE_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif

#define MAX_REPS 2000
#define MAX_IN 3

typedef enum { OP_LINEAR, OP_CONV2D, OP_ATTENTION } op_kind;

typedef struct {
    const char *name;  /* model.layer */
    op_kind kind;
    int ndim;          /* of x (or q) */
    int64_t x[4];      /* linear [M, K]; conv NCHW; attention q [B,H,T,D] */
    int64_t out;       /* linear N; conv out channels; attention unused */
    int bias;          /* linear / conv bias */
    int causal;        /* attention */
} bench_case;

/* The shapes of Lethe's models. */
static const bench_case CASES[] = {
    {"mlp.fc1", OP_LINEAR, 2, {256, 784}, 512, 1, 0},
    {"lm.mlp_up", OP_LINEAR, 2, {16 * 128, 256}, 1024, 0, 0},
    {"resnet8.s1", OP_CONV2D, 4, {128, 16, 28, 28}, 16, 0, 0},
    {"resnet8.s2", OP_CONV2D, 4, {128, 32, 14, 14}, 32, 0, 0},
    {"resnet18.s1", OP_CONV2D, 4, {128, 64, 32, 32}, 64, 0, 0},
    {"resnet18.s2", OP_CONV2D, 4, {128, 128, 16, 16}, 128, 0, 0},
    {"resnet18.s3", OP_CONV2D, 4, {128, 256, 8, 8}, 256, 0, 0},
    {"lm.attn", OP_ATTENTION, 4, {16, 4, 128, 64}, 0, 0, 1},
};
#define N_CASES (int)(sizeof CASES / sizeof CASES[0])

/* Buffers and tensor headers of one case. */
typedef struct {
    const bench_case *bc;
    int n_in;                  /* inputs that get a gradient each step */
    lt_tensor in[MAX_IN];      /* x (or q, k, v) */
    float *in_data[MAX_IN];
    lt_tensor w, b;            /* parameters (linear, conv) */
    float *w_data, *w_grad, *b_data, *b_grad;
    float *ones;               /* upstream gradient, output-sized */
    int64_t out_numel;
    double flop_fwd, flop_total;
} bench_state;

static float *alloc_random(lt_rng *r, int64_t n, float scale)
{
    float *p = malloc((size_t)n * sizeof *p);
    if (p)
        lt_rng_fill_uniform(r, p, n, -scale, scale);
    return p;
}

static float *alloc_zero(int64_t n)
{
    return calloc((size_t)n, sizeof(float));
}

/* Output numel and FLOP counts of a case. */
static void case_sizes(bench_state *s)
{
    const bench_case *bc = s->bc;
    const int64_t *x = bc->x;
    if (bc->kind == OP_LINEAR) {
        s->out_numel = x[0] * bc->out;
        s->flop_fwd = 2.0 * (double)x[0] * (double)bc->out * (double)x[1];
        s->flop_total = 3.0 * s->flop_fwd;
    } else if (bc->kind == OP_CONV2D) { /* 3x3, stride 1, pad 1 */
        s->out_numel = x[0] * bc->out * x[2] * x[3];
        s->flop_fwd = 2.0 * (double)s->out_numel * (double)x[1] * 9.0;
        s->flop_total = 3.0 * s->flop_fwd;
    } else {
        s->out_numel = x[0] * x[1] * x[2] * x[3];
        s->flop_fwd = 4.0 * (double)x[0] * (double)x[1] * (double)x[2] *
                      (double)x[2] * (double)x[3];
        s->flop_total = 3.5 * s->flop_fwd;
    }
}

static int state_init(bench_state *s, const bench_case *bc, uint64_t seed)
{
    memset(s, 0, sizeof *s);
    s->bc = bc;
    case_sizes(s);
    lt_rng r;
    lt_rng_init(&r, seed);
    int64_t xn = lt_shape_numel(bc->ndim, bc->x);
    s->n_in = bc->kind == OP_ATTENTION ? 3 : 1;
    for (int i = 0; i < s->n_in; i++)
        if (!(s->in_data[i] = alloc_random(&r, xn, 1.0f)))
            return -1;
    if (bc->kind != OP_ATTENTION) {
        int64_t fan_in = bc->kind == OP_LINEAR ? bc->x[1] : bc->x[1] * 9;
        int64_t wn = bc->out * fan_in;
        float sc = 1.0f / sqrtf((float)fan_in);
        s->w_data = alloc_random(&r, wn, sc);
        s->w_grad = alloc_zero(wn);
        s->b_data = alloc_random(&r, bc->out, sc);
        s->b_grad = alloc_zero(bc->out);
        if (!s->w_data || !s->w_grad || !s->b_data || !s->b_grad)
            return -1;
        int64_t ws[4] = {bc->out, bc->x[1], 3, 3};
        int wnd = bc->kind == OP_LINEAR ? 2 : 4;
        if (lt_tensor_wrap(&s->w, s->w_data, s->w_grad, wnd, ws) != LT_OK ||
            lt_tensor_wrap(&s->b, s->b_data, s->b_grad, 1, &bc->out) != LT_OK)
            return -1;
    }
    s->ones = malloc((size_t)s->out_numel * sizeof(float));
    if (!s->ones)
        return -1;
    for (int64_t i = 0; i < s->out_numel; i++)
        s->ones[i] = 1.0f;
    return 0;
}

static void state_free(bench_state *s)
{
    for (int i = 0; i < MAX_IN; i++)
        free(s->in_data[i]);
    free(s->w_data);
    free(s->w_grad);
    free(s->b_data);
    free(s->b_grad);
    free(s->ones);
}

static lt_tensor *run_op(lt_ctx *c, bench_state *s)
{
    const bench_case *bc = s->bc;
    lt_tensor *b = bc->bias ? &s->b : NULL;
    if (bc->kind == OP_LINEAR)
        return lt_linear(c, &s->in[0], &s->w, b);
    if (bc->kind == OP_CONV2D) {
        lt_conv_args a = {0};
        a.pad_h = a.pad_w = 1;
        return lt_conv2d(c, &s->in[0], &s->w, b, a);
    }
    return lt_attention(c, &s->in[0], &s->in[1], &s->in[2], bc->causal,
                        0.0f);
}

/* One training step of the op; fwd_s gets the forward time. */
static int step(lt_ctx *c, bench_state *s, double *fwd_s)
{
    double t0 = now_s();
    lt_ctx_reset(c);
    if (s->w_grad) {
        memset(s->w_grad, 0, (size_t)s->w.numel * sizeof(float));
        memset(s->b_grad, 0, (size_t)s->b.numel * sizeof(float));
    }
    for (int i = 0; i < s->n_in; i++) { /* fresh input gradient each step */
        if (lt_tensor_wrap(&s->in[i], s->in_data[i], NULL, s->bc->ndim,
                           s->bc->x) != LT_OK)
            return -1;
        lt_requires_grad(&s->in[i]);
    }
    lt_tensor *y = run_op(c, s);
    if (!y)
        return -1;
    *fwd_s = now_s() - t0;
    if (y->numel != s->out_numel) {
        lt_set_error(LT_ERR_SHAPE, "bench: %s gave %lld outputs, expected "
                     "%lld", s->bc->name, (long long)y->numel,
                     (long long)s->out_numel);
        return -1;
    }
    return lt_backward_with(c, y, s->ones) == LT_OK ? 0 : -1;
}

static void print_shape(const char *key, int ndim, const int64_t *d)
{
    printf(",\"%s\":[", key);
    for (int i = 0; i < ndim; i++)
        printf("%s%lld", i ? "," : "", (long long)d[i]);
    printf("]");
}

static void print_case_head(const bench_state *s)
{
    static const char *kinds[] = {"linear", "conv2d", "attention"};
    const bench_case *bc = s->bc;
    printf("{\"type\":\"case\",\"name\":\"%s\",\"op\":\"%s\","
           "\"precision\":\"%s\"", bc->name, kinds[bc->kind],
           bench_precision());
    print_shape("x", bc->ndim, bc->x);
    if (bc->kind == OP_LINEAR) {
        printf(",\"w\":[%lld,%lld]", (long long)bc->out, (long long)bc->x[1]);
        printf(",\"bias\":%s", bc->bias ? "true" : "false");
    } else if (bc->kind == OP_CONV2D) {
        printf(",\"w\":[%lld,%lld,3,3],\"stride\":1,\"pad\":1",
               (long long)bc->out, (long long)bc->x[1]);
        printf(",\"bias\":%s", bc->bias ? "true" : "false");
    } else {
        printf(",\"causal\":%s", bc->causal ? "true" : "false");
    }
    printf(",\"flop_fwd\":%.6g,\"flop_total\":%.6g", s->flop_fwd,
           s->flop_total);
}

/* Warm up, pick N, time N steps; prints the case line. */
static void bench_case_run(lt_ctx *c, bench_state *s, double min_time,
                           double peak)
{
    static double tot[MAX_REPS], fwd[MAX_REPS];
    print_case_head(s);
    double f, t0 = now_s();
    int warm = 0;
    do { /* warm-up: at least 1 step and 0.2 s */
        if (step(c, s, &f) != 0)
            goto fail;
        warm++;
    } while (now_s() - t0 < 0.2);
    double per = (now_s() - t0) / warm;
    int n = (int)(min_time / per) + 1;
    n = n < 3 ? 3 : n > MAX_REPS ? MAX_REPS : n;
    for (int i = 0; i < n; i++) {
        double t = now_s();
        if (step(c, s, &fwd[i]) != 0)
            goto fail;
        tot[i] = now_s() - t;
    }
    double best = tot[0];
    for (int i = 1; i < n; i++)
        best = tot[i] < best ? tot[i] : best;
    double med = median(tot, n), medf = median(fwd, n);
    double gf = s->flop_total / med * 1e-9;
    printf(",\"reps\":%d,\"ms\":%.6g,\"ms_min\":%.6g,\"ms_fwd\":%.6g,"
           "\"gflops\":%.6g,\"frac_peak\":%.4f,\"arena_mb\":%.1f}\n",
           n, 1e3 * med, 1e3 * best, 1e3 * medf, gf, gf / peak,
           (double)lt_ctx_peak(c) / (1 << 20));
    fflush(stdout);
    return;
fail:
    printf(",\"error\":\"");
    for (const char *m = lt_last_error(); m && *m; m++)
        if (*m != '"' && *m != '\\')
            putchar(*m);
    printf("\"}\n");
    fflush(stdout);
}

/* Best-of SGEMM GFLOP/s at n x n x n. */
static double sgemm_peak(int n, int reps)
{
    size_t sz = (size_t)n * (size_t)n;
    float *a = malloc(sz * sizeof *a), *b = malloc(sz * sizeof *b);
    float *cm = malloc(sz * sizeof *cm);
    if (!a || !b || !cm) {
        free(a), free(b), free(cm);
        return 0;
    }
    lt_rng r;
    lt_rng_init(&r, 7);
    lt_rng_fill_uniform(&r, a, (int64_t)sz, -1, 1);
    lt_rng_fill_uniform(&r, b, (int64_t)sz, -1, 1);
    double best = 1e30;
    for (int i = 0; i < reps + 2; i++) {
        double t = now_s();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f,
                    a, n, b, n, 0.0f, cm, n);
        t = now_s() - t;
        if (i >= 2 && t < best) /* two warm-up calls */
            best = t;
    }
    free(a), free(b), free(cm);
    return 2.0 * n * (double)n * n / best * 1e-9;
}

#ifdef LETHE_HAVE_DNNL
/* One n x n x n oneDNN matmul, bf16 A and B, fp32 C (row-major). */
typedef struct {
    dnnl_engine_t eng;
    dnnl_stream_t str;
    dnnl_primitive_t prim;
    dnnl_memory_t mem[3];
    void *buf[3];
    char impl[64]; /* oneDNN's implementation name, e.g. brg:avx512_core_amx */
} dnnl_mm;

static void dnnl_mm_free(dnnl_mm *d)
{
    for (int i = 0; i < 3; i++) {
        if (d->mem[i])
            dnnl_memory_destroy(d->mem[i]);
        free(d->buf[i]);
    }
    if (d->prim)
        dnnl_primitive_destroy(d->prim);
    if (d->str)
        dnnl_stream_destroy(d->str);
    if (d->eng)
        dnnl_engine_destroy(d->eng);
}

static bool dnnl_mm_init(dnnl_mm *d, int n)
{
    memset(d, 0, sizeof *d);
    dnnl_dims_t dims = {n, n};
    dnnl_memory_desc_t md[3];
    dnnl_data_type_t dt[3] = {dnnl_bf16, dnnl_bf16, dnnl_f32};
    size_t esz[3] = {2, 2, 4};
    bool ok = dnnl_engine_create(&d->eng, dnnl_cpu, 0) == dnnl_success &&
              dnnl_stream_create(&d->str, d->eng,
                                 dnnl_stream_default_flags) == dnnl_success;
    for (int i = 0; ok && i < 3; i++)
        ok = dnnl_memory_desc_init_by_tag(&md[i], 2, dims, dt[i], dnnl_ab) ==
                 dnnl_success &&
             (d->buf[i] = calloc((size_t)n * (size_t)n, esz[i])) != NULL &&
             dnnl_memory_create(&d->mem[i], &md[i], d->eng, d->buf[i]) ==
                 dnnl_success;
    dnnl_matmul_desc_t mm;
    dnnl_primitive_desc_t pd = NULL;
    ok = ok && dnnl_matmul_desc_init(&mm, &md[0], &md[1], NULL, &md[2]) ==
                   dnnl_success &&
         dnnl_primitive_desc_create(&pd, &mm, NULL, d->eng, NULL) ==
             dnnl_success &&
         dnnl_primitive_create(&d->prim, pd) == dnnl_success;
    const char *impl = NULL;
    if (ok && dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0,
                                        (void *)&impl) == dnnl_success &&
        impl)
        snprintf(d->impl, sizeof d->impl, "%s", impl);
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    if (!ok)
        return false;
    lt_rng r; /* bf16 bits of uniform [-1, 1) values (truncated) */
    lt_rng_init(&r, 11);
    float v;
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < (size_t)n * (size_t)n; i++) {
            lt_rng_fill_uniform(&r, &v, 1, -1, 1);
            uint32_t u;
            memcpy(&u, &v, sizeof u);
            ((uint16_t *)d->buf[k])[i] = (uint16_t)(u >> 16);
        }
    return true;
}

static char bf16_impl[64] = "-"; /* of the last bf16_peak */

/* Best-of oneDNN bf16 matmul GFLOP/s at n x n x n; 0 when it fails. */
static double bf16_peak(int n, int reps)
{
    dnnl_mm d;
    double best = 1e30;
    if (!dnnl_mm_init(&d, n)) {
        dnnl_mm_free(&d);
        return 0;
    }
    snprintf(bf16_impl, sizeof bf16_impl, "%s", d.impl[0] ? d.impl : "-");
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, d.mem[0]},
                               {DNNL_ARG_WEIGHTS, d.mem[1]},
                               {DNNL_ARG_DST, d.mem[2]}};
    for (int i = 0; i < reps + 2; i++) {
        double t = now_s();
        if (dnnl_primitive_execute(d.prim, d.str, 3, args) != dnnl_success ||
            dnnl_stream_wait(d.str) != dnnl_success) {
            best = 1e30;
            break;
        }
        t = now_s() - t;
        if (i >= 2 && t < best) /* two warm-up calls */
            best = t;
    }
    dnnl_mm_free(&d);
    return best < 1e30 ? 2.0 * n * (double)n * n / best * 1e-9 : 0;
}
#else
static const char bf16_impl[] = "-";

static double bf16_peak(int n, int reps)
{
    (void)n, (void)reps;
    return 0; /* no oneDNN in this build */
}
#endif

/* The two peak lines; returns the SGEMM peak. */
static double print_peaks(void)
{
    double sg = sgemm_peak(1024, 16), bf = bf16_peak(1024, 16);
    printf("{\"type\":\"peak\",\"kind\":\"sgemm\",\"impl\":\"openblas\","
           "\"n\":1024,\"gflops\":%.6g}\n", sg);
    printf("{\"type\":\"peak\",\"kind\":\"bf16\",\"impl\":\"onednn\","
           "\"dnnl_impl\":\"%s\",\"n\":1024,\"gflops\":", bf16_impl);
    if (bf > 0)
        printf("%.6g}\n", bf);
    else
        printf("null}\n");
    fflush(stdout);
    return sg;
}

/* Whether name contains one of the comma-separated parts of list. */
static bool name_matches(const char *name, const char *list)
{
    char part[64];
    while (*list) {
        size_t n = strcspn(list, ",");
        if (n > 0 && n < sizeof part) {
            memcpy(part, list, n);
            part[n] = '\0';
            if (strstr(name, part))
                return true;
        }
        list += n + (list[n] == ',');
    }
    return false;
}

int main(int argc, char **argv)
{
    int threads = 0;
    double min_time = 0.5;
    const char *only = NULL;
    int info_only = 0, peaks_only = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--min-time") && i + 1 < argc)
            min_time = atof(argv[++i]);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else if (!strcmp(argv[i], "--info"))
            info_only = 1;
        else if (!strcmp(argv[i], "--peaks"))
            peaks_only = 1;
        else if (!strcmp(argv[i], "--precision") && i + 1 < argc) {
            if (bench_set_precision("bench_ops", argv[++i]) != 0)
                return 2;
        } else {
            fprintf(stderr, "usage: %s [--threads N] [--min-time S] "
                    "[--only NAME] [--precision fp32|bf16] [--info | "
                    "--peaks]\n",
                    argv[0]);
            return 2;
        }
    }
    if (threads > 0)
        lt_set_num_threads(threads);
    printf("{\"type\":\"info\",\"threads\":%d,\"blas_threads\":%d,"
           "\"blas_core\":\"%s\",\"min_time\":%g,\"precision\":\"%s\","
           "\"backend\":\"%s\",\"flop_convention\":"
           "\"gemm/conv fwd 2MNK, bwd 2x fwd; attention fwd 4BHTqTkD full "
           "square (causal too), bwd 2.5x fwd\"}\n", lt_num_threads(),
           openblas_get_num_threads(), openblas_get_corename(), min_time,
           bench_precision(), lt_backend_name());
    if (info_only)
        return 0;
    double peak = print_peaks();
    if (peaks_only)
        return 0;
    lt_ctx *c = lt_ctx_new((size_t)3 << 30); /* pages touched on use only */
    if (!c) {
        fprintf(stderr, "bench_ops: %s\n", lt_last_error());
        return 1;
    }
    int rc = 0;
    for (int i = 0; i < N_CASES; i++) {
        if (only && !name_matches(CASES[i].name, only))
            continue;
        bench_state s;
        if (state_init(&s, &CASES[i], 1000 + (uint64_t)i) != 0) {
            fprintf(stderr, "bench_ops: out of memory\n");
            rc = 1;
        } else {
            bench_case_run(c, &s, min_time, peak);
        }
        state_free(&s);
    }
    lt_ctx_free(c);
    print_peaks(); /* again at the end: the table uses the best */
    return rc;
}
