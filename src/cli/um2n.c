/*
 * um2n.c - `lethe um2n train`: the released UM2N model (M2N_T) trained on
 * data sets made by `lethe mesh data`, as run_train_baselines.py trains it
 * (lt_um2n_train_epoch: Adam 5e-5, coupled weight decay 5e-4, batches of 5
 * in order), with the test loss after every epoch, resumable checkpoints
 * and the loss curve (CSV and PNG); `lethe um2n eval`, the error
 * reduction, tangles and forward time of a trained network over a split
 * against the MA meshes of the data set; and cli_um2n_move, the network's
 * forward pass on one mesh for `lethe mesh move --method um2n`. The M2N
 * baseline goes through the same paths (`um2n train --arch m2n`, eval
 * reading the checkpoint's architecture, `mesh move --method m2n`).
 * Under mpirun `um2n train` is data-parallel with either loss (--dp,
 * --shards; docs/mpi.md): rank 0 prints and writes the run folder.
 */
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UM2N_ARENA ((size_t)3 << 30)
#define UM2N_MOVE_ARENA ((size_t)1 << 30)
#define UM2N_MAX_SETS 8
#define UM2N_CSV_LINE 96

static const char *um2n_usage =
    "usage: lethe um2n train --data DIR[,DIR2] --out DIR --epochs N "
    "[--resume] [--arch um2n|m2n] [--loss area-chamfer|coord]\n"
    "       [--dp off|sum|ordered] [--shards S]\n"
    "       lethe um2n eval --data DIR --model F [--split test]";

int cli_um2n_move(const char *model, lt_um2n_arch arch, const lt_mesh *m,
                  lt_gauss_field *f, bool poly, lt_mesh *moved)
{
    lt_um2n net = {0};
    lt_ctx *c = NULL;
    double *mon = malloc((size_t)m->nv * sizeof *mon), t_fwd = 0;
    lt_status s = mon ? LT_OK : lt_set_error(LT_ERR_NOMEM, "out of memory");
    if (s == LT_OK && (s = lt_um2n_init_arch(&net, arch, 0)) == LT_OK)
        s = lt_um2n_load(&net, model);
    double t0 = lt_clock_seconds();
    if (s == LT_OK)
        s = lt_um2n_monitor(m, f, mon, NULL, NULL);
    double t1 = lt_clock_seconds();
    if (s == LT_OK && !(c = lt_ctx_new(UM2N_MOVE_ARENA)))
        s = lt_set_error(LT_ERR_NOMEM, "cannot make a context");
    if (s == LT_OK)
        s = lt_mesh_copy(moved, m);
    if (s == LT_OK &&
        (s = lt_um2n_move_mesh(c, &net, m, mon, poly, moved->xy, &t_fwd)) != LT_OK)
        lt_mesh_free(moved);
    if (s == LT_OK)
        printf("%s: monitor %.3f s, network forward %.3f s, %d tangled "
               "cells\n", arch == LT_UM2N_ARCH_M2N ? "m2n" : "um2n", t1 - t0,
               t_fwd, lt_mesh_count_tangled(moved));
    lt_ctx_free(c);
    lt_um2n_free(&net);
    free(mon);
    return s == LT_OK ? 0 : cli_fail("mesh move", model);
}

typedef struct {
    const char *data, *out, *loss, *init, *arch, *dp;
    int64_t epochs, save_every;
    int shards;
    uint64_t seed;
    bool resume, no_test;
} train_opts;

/* Concatenate split of every folder of the comma-separated list. */
static int um2n_open_sets(const char *list, const char *split,
                          lt_um2n_data *sets, int *nsets,
                          lt_um2n_sample **all, int64_t *n)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", list);
    *nsets = 0;
    *n = 0;
    for (char *save = NULL, *p = strtok_r(buf, ",", &save); p;
         p = strtok_r(NULL, ",", &save)) {
        if (*nsets == UM2N_MAX_SETS)
            return cli_usage("um2n train", "--data: at most 8 folders");
        if (lt_um2n_data_open(p, split, &sets[*nsets]) != LT_OK)
            return cli_fail("um2n train", NULL);
        *n += sets[(*nsets)++].n;
    }
    *all = malloc((size_t)(*n > 0 ? *n : 1) * sizeof **all);
    if (!*all)
        return cli_fail("um2n train", "out of memory");
    int64_t k = 0;
    for (int i = 0; i < *nsets; i++)
        for (int64_t j = 0; j < sets[i].n; j++)
            (*all)[k++] = sets[i].samples[j];
    return 0;
}

/* The lines of an earlier loss.csv up to epoch (a resumed run). */
static char *um2n_old_csv(const char *path, int64_t epoch)
{
    char *text = NULL, *keep;
    size_t len = 0;
    if (lt_read_file(path, &text, &len) != LT_OK)
        return NULL;
    keep = calloc(len + 1, 1);
    char *save = NULL;
    for (char *l = strtok_r(text, "\n", &save); keep && l;
         l = strtok_r(NULL, "\n", &save)) {
        long long e = 0;
        if (sscanf(l, "%lld,", &e) == 1 && e >= 1 && e <= epoch)
            strcat(strcat(keep, l), "\n");
    }
    free(text);
    return keep;
}

typedef struct {
    char *csv;
    size_t len, cap;
    cli_curve curve;
} um2n_log;

static int um2n_log_add(um2n_log *g, int64_t epoch, double tr, double te,
                        bool has_test)
{
    if (g->len + UM2N_CSV_LINE >= g->cap) {
        size_t cap = 2 * g->cap + 4096;
        char *p = realloc(g->csv, cap);
        if (!p)
            return cli_fail("um2n train", "out of memory");
        g->csv = p, g->cap = cap;
    }
    g->len += (size_t)snprintf(g->csv + g->len, g->cap - g->len,
                               has_test ? "%lld,%.6f,%.6f\n" : "%lld,%.6f,\n",
                               (long long)epoch, tr, te);
    cli_curve_add(&g->curve, "train", (double)epoch, tr);
    if (has_test)
        cli_curve_add(&g->curve, "test", (double)epoch, te);
    return 0;
}

/* Checkpoint, weights, loss.csv and loss.png of the run so far. */
static int um2n_save(const train_opts *o, const lt_um2n_trainer *t,
                     const um2n_log *g)
{
    char p[4096];
    if (lt_dist_rank() != 0) /* data parallel: rank 0 writes */
        return 0;
    snprintf(p, sizeof p, "%s/train.safetensors", o->out);
    if (lt_um2n_trainer_save(t, p) != LT_OK)
        return cli_fail("um2n train", NULL);
    snprintf(p, sizeof p, "%s/model.safetensors", o->out);
    if (lt_um2n_save(t->model, p) != LT_OK)
        return cli_fail("um2n train", NULL);
    char *text = malloc(g->len + 64);
    if (!text)
        return cli_fail("um2n train", "out of memory");
    snprintf(text, g->len + 64, "epoch,train_loss,test_loss\n%.*s",
             g->len ? (int)g->len - 1 : 0, g->csv ? g->csv : "");
    snprintf(p, sizeof p, "%s/loss.csv", o->out);
    lt_status s = lt_write_text_atomic(p, text);
    free(text);
    if (s != LT_OK)
        return cli_fail("um2n train", NULL);
    snprintf(p, sizeof p, "%s/loss.png", o->out);
    return cli_curve_write("um2n train", &g->curve, p, "UM2N training loss",
                           "epoch", "loss");
}

/* Start or resume the trainer in --out. */
static int um2n_start(const train_opts *o, lt_um2n_trainer *t, um2n_log *g)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/train.safetensors", o->out);
    FILE *f = fopen(p, "rb");
    if (f)
        fclose(f);
    if (!o->resume && f) {
        fprintf(stderr, "lethe um2n train: %s exists: pass --resume to go "
                "on, or choose another --out\n", p);
        return 1;
    }
    if (o->resume) {
        if (!f) {
            fprintf(stderr, "lethe um2n train: --resume: %s is missing\n", p);
            return 1;
        }
        if (lt_um2n_trainer_load(t, p) != LT_OK)
            return cli_fail("um2n train", NULL);
        snprintf(p, sizeof p, "%s/loss.csv", o->out);
        char *old = um2n_old_csv(p, t->epoch);
        char *save = NULL;
        for (char *l = old ? strtok_r(old, "\n", &save) : NULL; l;
             l = strtok_r(NULL, "\n", &save)) {
            long long e;
            double tr, te = 0;
            int k = sscanf(l, "%lld,%lf,%lf", &e, &tr, &te);
            if (k >= 2 && um2n_log_add(g, e, tr, te, k == 3))
                return free(old), 1;
        }
        free(old);
        if (lt_dist_rank() == 0)
            printf("resumed at epoch %lld (step %lld)\n", (long long)t->epoch,
               (long long)t->opt.step);
    } else if (o->init && lt_um2n_load(t->model, o->init) != LT_OK) {
        return cli_fail("um2n train", NULL);
    }
    return 0;
}

static int um2n_epochs(const train_opts *o, lt_um2n_trainer *t, um2n_log *g,
                       const lt_um2n_sample *tr, int64_t ntr,
                       const lt_um2n_sample *te, int64_t nte)
{
    lt_ctx *c = lt_ctx_new(UM2N_ARENA);
    if (!c)
        return cli_fail("um2n train", "cannot make a context");
    int rc = 0;
    while (!rc && t->epoch < o->epochs) {
        double t0 = lt_clock_seconds(), ltr = 0, lte = 0;
        if (lt_um2n_train_epoch(c, t, tr, ntr, &ltr) != LT_OK ||
            (nte && lt_um2n_eval_loss(c, t, te, nte, &lte) != LT_OK)) {
            rc = cli_fail("um2n train", NULL);
            break;
        }
        bool say = lt_dist_rank() == 0; /* data parallel: rank 0 */
        if (say && nte)
            printf("epoch %lld/%lld: train loss %.6f  test loss %.6f  (%.1f "
                   "s)\n", (long long)t->epoch, (long long)o->epochs, ltr,
                   lte, lt_clock_seconds() - t0);
        else if (say)
            printf("epoch %lld/%lld: train loss %.6f  (%.1f s)\n",
                   (long long)t->epoch, (long long)o->epochs, ltr,
                   lt_clock_seconds() - t0);
        rc = um2n_log_add(g, t->epoch, ltr, lte, nte > 0);
        if (!rc && (t->epoch % o->save_every == 0 || t->epoch == o->epochs))
            rc = um2n_save(o, t, g);
    }
    lt_ctx_free(c);
    return rc;
}

static int um2n_train(int argc, char **argv)
{
    train_opts o = {.arch = "um2n", .epochs = 0, .save_every = 1};
    cli_opt opts[] = {
        {"--data", CLI_OPT_STR, &o.data, "data set folders (comma-separated; their train splits, in order)", 0, 0},
        {"--out", CLI_OPT_STR, &o.out, "run folder: train.safetensors, model.safetensors, loss.csv, loss.png", 0, 0},
        {"--epochs", CLI_OPT_I64, &o.epochs, "train until this many epochs are done (UM2N: 1000)", 1, 1000000},
        {"--resume", CLI_OPT_FLAG, &o.resume, "go on from --out/train.safetensors", 0, 0},
        {"--arch", CLI_OPT_STR, &o.arch, "um2n (M2N_T, default) or m2n (the M2N baseline)", 0, 0},
        {"--loss", CLI_OPT_STR, &o.loss, "area-chamfer (UM2N's default) or coord (the UM2N-coord ablation; M2N's default)", 0, 0},
        {"--seed", CLI_OPT_U64, &o.seed, "initialisation and dropout", 0, 0},
        {"--init", CLI_OPT_STR, &o.init, "start from these weights", 0, 0},
        {"--save-every", CLI_OPT_I64, &o.save_every, "checkpoint every K epochs (1)", 1, 1000000},
        {"--no-test", CLI_OPT_FLAG, &o.no_test, "skip the test loss", 0, 0},
        {"--dp", CLI_OPT_STR, &o.dp, "data-parallel reduction off|sum|ordered (sum under mpirun; docs/mpi.md)", 0, 0},
        {"--shards", CLI_OPT_INT, &o.shards, "parts of every batch of 5 meshes (a multiple of the ranks; default one per rank)", 0, LT_UM2N_BATCH},
    };
    int rc = cli_args_parse("um2n train", um2n_usage, opts, CLI_NOPTS(opts),
                            argc, argv);
    if (rc)
        return rc == 1 ? 0 : 2;
    if (!o.data || !o.out || !o.epochs)
        return cli_usage("um2n train", "--data, --out and --epochs are "
                         "required");
    lt_um2n_arch arch;
    if (lt_um2n_arch_parse(o.arch, &arch) != LT_OK)
        return cli_usage("um2n train", "--arch: expected um2n or m2n");
    if (!o.loss)
        o.loss = arch == LT_UM2N_ARCH_M2N ? "coord" : "area-chamfer";
    bool coord = !strcmp(o.loss, "coord");
    if (!coord && strcmp(o.loss, "area-chamfer"))
        return cli_usage("um2n train", "--loss: expected area-chamfer or "
                         "coord");
    lt_dist_mode dist;
    if ((rc = cli_dp_mode("um2n train", o.dp, o.shards, &dist)))
        return rc;
    lt_um2n_data tr[UM2N_MAX_SETS] = {{0}}, te[UM2N_MAX_SETS] = {{0}};
    int ntr = 0, nte = 0;
    lt_um2n_sample *str = NULL, *ste = NULL;
    int64_t n_tr = 0, n_te = 0;
    lt_um2n net = {0};
    lt_um2n_trainer t = {0};
    um2n_log g = {0};
    if ((rc = um2n_open_sets(o.data, "train", tr, &ntr, &str, &n_tr)) ||
        (!o.no_test &&
         (rc = um2n_open_sets(o.data, "test", te, &nte, &ste, &n_te))))
        goto done;
    if (n_tr < 1) {
        rc = cli_usage("um2n train", "--data: the train split is empty");
        goto done;
    }
    if (lt_mkdirs(o.out) != LT_OK ||
        lt_um2n_init_arch(&net, arch, o.seed) != LT_OK ||
        lt_um2n_trainer_init(&t, &net, o.seed) != LT_OK) {
        rc = cli_fail("um2n train", NULL);
        goto done;
    }
    t.loss = coord ? LT_UM2N_LOSS_COORD : LT_UM2N_LOSS_AREA_CHAMFER;
    t.dist = dist;
    t.shards = o.shards;
    if (lt_dist_rank() == 0)
        printf("um2n train: %s, %lld train and %lld test samples, %s loss, "
           "%lld parameters\n", lt_um2n_arch_name(arch), (long long)n_tr,
           (long long)n_te, o.loss, (long long)net.params.n_train);
    if (!(rc = um2n_start(&o, &t, &g)))
        rc = um2n_epochs(&o, &t, &g, str, n_tr, ste, n_te);
done:
    for (int i = 0; i < ntr; i++)
        lt_um2n_data_free(&tr[i]);
    for (int i = 0; i < nte; i++)
        lt_um2n_data_free(&te[i]);
    free(str), free(ste), free(g.csv);
    cli_curve_free(&g.curve);
    lt_um2n_trainer_free(&t);
    lt_um2n_free(&net);
    return rc;
}

/* The network on one sample: tangled cells, forward seconds, and the L2
 * errors on the uniform and the moved mesh (e1 < 0 when tangled). */
static int um2n_eval_item(lt_ctx *c, lt_um2n *net, const lt_um2n_item *it,
                          int *tangled, double *sec, double *e0, double *e1)
{
    const lt_um2n_sample *s = &it->s;
    lt_um2n_batch b = {s->n_nodes, 1, s->x, s->mesh_feat, s->src, s->dst,
                       s->n_edges, s->faces, s->n_faces, NULL, 0, NULL, 0};
    lt_ctx_reset(c);
    double t0 = lt_clock_seconds();
    lt_tensor *out = lt_um2n_forward(c, net, &b, false, NULL);
    *sec = lt_clock_seconds() - t0;
    lt_mesh moved;
    if (!out || lt_mesh_copy(&moved, &it->mesh) != LT_OK)
        return cli_fail("um2n eval", NULL);
    for (int64_t i = 0; i < 2 * s->n_nodes; i++)
        moved.xy[i] = out->data[i];
    *tangled = lt_mesh_count_tangled(&moved);
    *e1 = -1;
    lt_status st = lt_helmholtz_error(&it->mesh, &it->field, e0, NULL);
    if (st == LT_OK && !*tangled)
        st = lt_helmholtz_error(&moved, &it->field, e1, NULL);
    lt_mesh_free(&moved);
    return st == LT_OK ? 0 : cli_fail("um2n eval", NULL);
}

static int um2n_eval(int argc, char **argv)
{
    const char *data = NULL, *split = "test", *model = NULL;
    bool verbose = false;
    cli_opt opts[] = {
        {"--data", CLI_OPT_STR, &data, "data set folder", 0, 0},
        {"--split", CLI_OPT_STR, &split, "train, test (default), val or all", 0, 0},
        {"--model", CLI_OPT_STR, &model, "UM2N or M2N weights (safetensors; the kind is read from the file)", 0, 0},
        {"--verbose", CLI_OPT_FLAG, &verbose, "one line per sample", 0, 0},
    };
    int rc = cli_args_parse("um2n eval", "usage: lethe um2n eval --data DIR "
                            "--model F [--split test]", opts, CLI_NOPTS(opts),
                            argc, argv);
    if (rc)
        return rc == 1 ? 0 : 2;
    if (!data || !model)
        return cli_usage("um2n eval", "--data and --model are required");
    lt_um2n_data d = {0};
    lt_um2n net = {0};
    lt_ctx *c = NULL;
    lt_um2n_arch arch = LT_UM2N_ARCH_M2N_T;
    if (lt_um2n_data_open(data, split, &d) != LT_OK ||
        lt_um2n_file_arch(model, &arch) != LT_OK ||
        lt_um2n_init_arch(&net, arch, 0) != LT_OK ||
        lt_um2n_load(&net, model) != LT_OK ||
        !(c = lt_ctx_new(UM2N_MOVE_ARENA)))
        rc = cli_fail("um2n eval", NULL);
    double er_net = 0, er_ma = 0, t_net = 0, t_ma = 0;
    int64_t ok = 0, bad = 0;
    for (int64_t i = 0; !rc && i < d.n; i++) {
        const lt_um2n_item *it = &d.items[i];
        int tg = 0;
        double sec = 0, e0 = 0, e1 = 0;
        if ((rc = um2n_eval_item(c, &net, it, &tg, &sec, &e0, &e1)))
            break;
        double ma = (it->err_uniform - it->err_ma) / it->err_uniform;
        er_ma += ma;
        t_net += sec;
        if (tg)
            bad++;
        else
            ok++, er_net += (e0 - e1) / e0;
        if (verbose)
            printf("sample %lld: um2n %d tangled, ER %.2f%%  MA ER %.2f%%\n",
                   (long long)it->index, tg, tg ? 0.0 : 100 * (e0 - e1) / e0,
                   100 * ma);
    }
    if (!rc && d.n > 0) {
        for (int64_t i = 0; i < d.n; i++) {
            lt_st_file *f; /* MA's time, from the sample's metadata */
            char p[4096];
            lt_um2n_sample_path(data, d.items[i].index, p, sizeof p);
            if (lt_st_open(p, &f) == LT_OK) {
                const char *v = lt_st_meta(f, "ma_seconds");
                t_ma += v ? atof(v) : 0;
                lt_st_free(f);
            }
        }
        printf("%s (%s, %lld samples): %s mean ER %.2f%% over %lld meshes "
               "without tangles, %lld tangled; MA mean ER %.2f%%\n"
               "time per mesh: network forward %.4f s, MA %.4f s (as "
               "generated)\n", data, split, (long long)d.n,
               arch == LT_UM2N_ARCH_M2N ? "M2N" : "UM2N",
               ok ? 100 * er_net / (double)ok : 0.0, (long long)ok,
               (long long)bad, 100 * er_ma / (double)d.n,
               t_net / (double)d.n, t_ma / (double)d.n);
    }
    lt_ctx_free(c);
    lt_um2n_free(&net);
    lt_um2n_data_free(&d);
    return rc;
}

int cli_um2n(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        printf("%s\n", um2n_usage);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "train"))
        return um2n_train(argc - 1, argv + 1);
    if (!strcmp(argv[1], "eval"))
        return um2n_eval(argc - 1, argv + 1);
    fprintf(stderr, "lethe um2n: unknown subcommand '%s'\n%s\n", argv[1],
            um2n_usage);
    return 2;
}
