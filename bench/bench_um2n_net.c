/*
 * bench_um2n_net.c - the time of UM2N's network (M2N_T, src/models/um2n.c):
 * the inference forward pass on one mesh (dropout off) and one training
 * step on a batch of 5 meshes (train-mode forward, area + Chamfer loss,
 * backward, Adam as run_train_baselines.py: lt_um2n_train_epoch on exactly
 * one batch). bench/torch_um2n.py times the PyTorch twin of
 * tests/golden/gen_um2n.py on the same meshes the same way; bench/perf.py
 * runs both (`make bench`, part um2n).
 *
 *   bench_um2n_net [--threads N] [--min-time S] [--grid G] [--precision P]
 *
 * The mesh: the unit square cut into G x G squares along one diagonal
 * (lt_mesh_square_grid; G 22: 529 nodes, about the 513 of UM2N's lc 0.05
 * gmsh square), the monitor 1 + 5 exp(-|x - c|^2 / 0.02) / its maximum
 * with c moving from mesh to mesh, the target x + 0.03 sin(pi x) sin(pi y)
 * (c - x). Weights: PyTorch's default initialisation (seed 1). Time: wall
 * clock per pass; after a warm-up (>= 1 pass and >= 0.5 s) the median of N
 * passes lasting >= min-time (at least 3). One JSON line per pass kind:
 * {"type":"um2n","name":"forward"|"train",...}.
 */
#include <lethe/lethe.h>

#include "bench_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REPS 1000
#define N_MESH LT_UM2N_BATCH
#define PI 3.14159265358979323846

typedef struct {
    lt_mesh mesh;
    int32_t *faces, *src, *dst;
    int64_t n_edges;
    float *x, *feat, *target; /* [N_MESH][n][3 | 3 | 2] */
    lt_um2n_sample s[N_MESH];
} um2n_case;

static int case_make(um2n_case *k, int grid)
{
    memset(k, 0, sizeof *k);
    if (lt_mesh_square_grid(&k->mesh, grid) != LT_OK)
        return -1;
    const lt_mesh *m = &k->mesh;
    int n = m->nv;
    k->faces = malloc(sizeof(int32_t) * 3 * (size_t)m->nt);
    k->x = malloc(sizeof(float) * 3 * (size_t)n * N_MESH);
    k->feat = malloc(sizeof(float) * 3 * (size_t)n * N_MESH);
    k->target = malloc(sizeof(float) * 2 * (size_t)n * N_MESH);
    double *mon = malloc(sizeof(double) * (size_t)n);
    if (!k->faces || !k->x || !k->feat || !k->target || !mon) {
        free(mon);
        return -1;
    }
    for (int i = 0; i < 3 * m->nt; i++)
        k->faces[i] = m->tri[i];
    int rc = lt_um2n_edges(k->faces, m->nt, n, &k->src, &k->dst,
                           &k->n_edges) == LT_OK ? 0 : -1;
    for (int g = 0; rc == 0 && g < N_MESH; g++) {
        double cx = 0.2 + 0.15 * g, cy = 0.7 - 0.1 * g;
        for (int i = 0; i < n; i++) {
            double x = m->xy[2 * i] - cx, y = m->xy[2 * i + 1] - cy;
            mon[i] = 1 + 5 * exp(-(x * x + y * y) / 0.02);
        }
        float *xf = k->x + 3 * n * g, *ff = k->feat + 3 * n * g,
              *tf = k->target + 2 * n * g;
        rc = lt_um2n_features(m, mon, xf, ff) == LT_OK ? 0 : -1;
        for (int i = 0; i < n; i++) {
            double x = m->xy[2 * i], y = m->xy[2 * i + 1];
            double s = 0.03 * sin(PI * x) * sin(PI * y);
            tf[2 * i] = (float)(x + s * (cx - x));
            tf[2 * i + 1] = (float)(y + s * (cy - y));
        }
        k->s[g] = (lt_um2n_sample){n, xf, ff, tf, k->faces, m->nt, k->src,
                                   k->dst, k->n_edges};
    }
    free(mon);
    return rc;
}

static void case_free(um2n_case *k)
{
    lt_mesh_free(&k->mesh);
    free(k->faces), free(k->src), free(k->dst);
    free(k->x), free(k->feat), free(k->target);
}

typedef struct {
    lt_ctx *c;
    lt_um2n *m;
    lt_um2n_trainer *t;
    const um2n_case *k;
    double loss;
} pass_state;

static int pass_forward(pass_state *p)
{
    const lt_um2n_sample *s = &p->k->s[0];
    lt_um2n_batch b = {s->n_nodes, 1, s->x, s->mesh_feat, s->src, s->dst,
                       s->n_edges, s->faces, s->n_faces, NULL, 0, NULL, 0};
    lt_ctx_reset(p->c);
    return lt_um2n_forward(p->c, p->m, &b, false, NULL) ? 0 : -1;
}

static int pass_train(pass_state *p)
{
    return lt_um2n_train_epoch(p->c, p->t, p->k->s, N_MESH, &p->loss) ==
                   LT_OK
               ? 0
               : -1;
}

/* A pass kind and its state, for bench_time_runs. */
typedef struct {
    int (*fn)(pass_state *);
    pass_state *p;
} pass_call;

static int pass_run(void *ud)
{
    pass_call *c = ud;
    return c->fn(c->p);
}

/* Time one pass kind; prints its line. */
static int run_pass(const char *name, int (*fn)(pass_state *), pass_state *p,
                    double min_time, int graphs)
{
    static double tot[MAX_REPS];
    pass_call call = {fn, p};
    int warm = 0;
    int n = bench_time_runs(pass_run, &call, min_time, MAX_REPS, tot, &warm);
    if (n < 0) {
        bench_print_error("um2n", name, lt_last_error());
        return 1;
    }
    double med = median(tot, n);
    printf("{\"type\":\"um2n\",\"name\":\"%s\",\"precision\":\"%s\","
           "\"backend\":\"%s\",\"nodes\":%lld,\"graphs\":%d,\"params\":%lld,"
           "\"warmup\":%d,\"reps\":%d,\"ms\":%.6g,\"ms_min\":%.6g,"
           "\"arena_mb\":%.2f,\"rss_peak_mb\":%.1f}\n",
           name, bench_precision(), lt_backend_name(),
           (long long)p->k->mesh.nv, graphs,
           (long long)p->m->params.n_train, warm, n, 1e3 * med, 1e3 * tot[0],
           (double)lt_ctx_peak(p->c) / (1024.0 * 1024.0), peak_rss_mb());
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    int threads = 0, grid = 22;
    double min_time = 3.0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--min-time") && i + 1 < argc)
            min_time = atof(argv[++i]);
        else if (!strcmp(argv[i], "--grid") && i + 1 < argc)
            grid = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--precision") && i + 1 < argc) {
            if (bench_set_precision("bench_um2n_net", argv[++i]) != 0)
                return 2;
        } else {
            fprintf(stderr, "usage: %s [--threads N] [--min-time S] "
                    "[--grid G] [--precision fp32|bf16]\n", argv[0]);
            return 2;
        }
    }
    if (threads > 0)
        lt_set_num_threads(threads);
    if (grid < 2 || grid > 200) {
        fprintf(stderr, "bench_um2n_net: --grid %d: expected 2..200\n", grid);
        return 2;
    }
    um2n_case k;
    lt_um2n m = {0};
    lt_um2n_trainer t;
    int rc = 1;
    pass_state p = {lt_ctx_new((size_t)4 << 30), &m, &t, &k, 0};
    if (case_make(&k, grid) != 0 || !p.c || lt_um2n_init(&m, 1) != LT_OK ||
        lt_um2n_trainer_init(&t, &m, 1) != LT_OK) {
        bench_print_error("um2n", "setup", lt_last_error());
        goto done;
    }
    printf("{\"type\":\"info\",\"threads\":%d,\"min_time\":%g,"
           "\"lethe\":\"%s\",\"precision\":\"%s\",\"backend\":\"%s\","
           "\"optim\":\"Adam lr 5e-5 weight_decay 5e-4\"}\n", lt_num_threads(),
           min_time, LETHE_VERSION, bench_precision(), lt_backend_name());
    rc = run_pass("forward", pass_forward, &p, min_time, 1);
    rc |= run_pass("train", pass_train, &p, min_time, N_MESH);
    lt_um2n_trainer_free(&t);
done:
    lt_um2n_free(&m);
    lt_ctx_free(p.c);
    case_free(&k);
    return rc;
}
