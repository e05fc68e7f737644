/*
 * um2n.c - `lethe bench um2n` (lethe/bench_um2n.h): uniform, MA, M2N,
 * UM2N and UM2N-coord on a Helmholtz test split: mean and std of the
 * error reduction, failed (tangled) meshes, tangled cells and the wall
 * time per mesh, as one Markdown/JSON table. --quick makes a tiny set and
 * tiny networks itself so that a ctest runs it in seconds. Under mpirun
 * the rows are spread over the ranks and every finished row is kept in
 * CACHE/runs (--resume skips it): bench_dist.h, docs/mpi.md.
 */
#include "lethe/bench_um2n.h"

#include "bench_dist.h"
#include "bench_util.h"
#include "lethe/dist.h"
#include "lethe/io.h"
#include "lethe/safetensors.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define U2_ARENA ((size_t)1 << 30)
#define U2_NETS 3

lt_bench_um2n_cfg lt_bench_um2n_defaults(void)
{
    lt_bench_um2n_cfg c;
    memset(&c, 0, sizeof c);
    c.split = "test";
    c.quick_samples = 4;
    c.quick_grid = 5;
    c.quick_epochs = 2;
    c.seed = 1;
    c.precision = LT_PRECISION_DEFAULT;
    return c;
}

lt_status lt_bench_um2n_check(const lt_bench_um2n_cfg *c)
{
    if (!c)
        return lt_set_error(LT_ERR_ARG, "bench um2n: NULL config");
    if (!c->quick && !c->data)
        return lt_set_error(LT_ERR_ARG, "bench um2n: --data DIR (a set made "
                            "by lethe mesh data) is required without --quick");
    if (c->quick && !c->data && !c->cache)
        return lt_set_error(LT_ERR_ARG, "bench um2n: --quick needs --cache");
    if (c->resume && !c->cache)
        return lt_set_error(LT_ERR_ARG, "bench um2n: --resume needs --cache "
                            "(the rows are kept in CACHE/runs)");
    if (c->quick && (c->quick_samples < 1 || c->quick_samples > 64 ||
                     c->quick_grid < 2 || c->quick_grid > 64 ||
                     c->quick_epochs < 1))
        return lt_set_error(LT_ERR_ARG, "bench um2n: quick settings out of "
                            "range (samples 1..64, grid 2..64, epochs >= 1)");
    if (!c->split || (strcmp(c->split, "train") && strcmp(c->split, "test") &&
                      strcmp(c->split, "val") && strcmp(c->split, "all")))
        return lt_set_error(LT_ERR_ARG, "bench um2n: --split: expected "
                            "train, test, val or all");
    const char *ck[U2_NETS] = {c->um2n, c->m2n, c->um2n_coord};
    for (int i = 0; i < U2_NETS; i++)
        if (ck[i] && !lt_bench_exists(ck[i]))
            return lt_set_error(LT_ERR_IO, "bench um2n: %s: no such file",
                                ck[i]);
    return LT_OK;
}

/* ---- the networks ------------------------------------------------------- */

typedef struct {
    const char *name, *file;
    lt_um2n_arch arch;
    lt_um2n_loss_kind loss;
} u2_net;

static const u2_net *nets(const lt_bench_um2n_cfg *c, u2_net out[U2_NETS])
{
    out[0] = (u2_net){"M2N", c->m2n, LT_UM2N_ARCH_M2N, LT_UM2N_LOSS_COORD};
    out[1] = (u2_net){"UM2N", c->um2n, LT_UM2N_ARCH_M2N_T,
                      LT_UM2N_LOSS_AREA_CHAMFER};
    out[2] = (u2_net){"UM2N-coord", c->um2n_coord, LT_UM2N_ARCH_M2N_T,
                      LT_UM2N_LOSS_COORD};
    return out;
}

/* The network of n: its checkpoint, or (quick) trained here on d. */
static lt_status net_get(const lt_bench_um2n_cfg *c, const u2_net *n,
                         const lt_um2n_data *d, lt_ctx *ctx, lt_um2n *m)
{
    lt_status s = lt_um2n_init_arch(m, n->arch, c->seed);
    if (s == LT_OK && n->file)
        return lt_um2n_load(m, n->file);
    lt_um2n_trainer t;
    if (s != LT_OK || (s = lt_um2n_trainer_init(&t, m, c->seed)) != LT_OK)
        return s;
    t.loss = n->loss;
    double loss = 0;
    for (int e = 0; s == LT_OK && e < c->quick_epochs; e++) {
        s = lt_um2n_train_epoch(ctx, &t, d->samples, d->n, &loss);
        lt_bench_note(c->progress, c->ud, "%s (quick): epoch %d loss %.4f",
                      n->name, e + 1, loss);
    }
    lt_um2n_trainer_free(&t);
    return s;
}

/* ---- the data ----------------------------------------------------------- */

/* quick: samples on a structured square, written into the cache (make),
 * or read from there (a rank after rank 0 made them). */
static lt_status quick_data(const lt_bench_um2n_cfg *c, bool make, char *dir,
                            size_t len, lt_um2n_data *d)
{
    snprintf(dir, len, "%s/um2n-quick-g%d-s%llu", c->cache, c->quick_grid,
             (unsigned long long)c->seed);
    char sub[4200], path[4200];
    snprintf(sub, sizeof sub, "%s/data", dir);
    lt_mesh m = {0};
    lt_status s = lt_mkdirs(sub);
    if (s == LT_OK)
        s = lt_mesh_square_grid(&m, c->quick_grid);
    lt_um2n_gen_opts g;
    lt_um2n_gen_opts_default(&g);
    g.seed = c->seed;
    memset(d, 0, sizeof *d);
    d->items = calloc((size_t)c->quick_samples, sizeof *d->items);
    d->samples = calloc((size_t)c->quick_samples, sizeof *d->samples);
    if (s == LT_OK && (!d->items || !d->samples))
        s = lt_set_error(LT_ERR_NOMEM, "bench um2n: out of memory");
    for (int i = 0; s == LT_OK && i < c->quick_samples; i++) {
        lt_um2n_sample_path(dir, i, path, sizeof path);
        if (make)
            s = lt_um2n_sample_generate(&m, &g, i, path, NULL);
        if (s == LT_OK && (s = lt_um2n_item_read(path, &d->items[i])) == LT_OK)
            d->samples[d->n++] = d->items[i].s;
    }
    lt_mesh_free(&m);
    return s;
}

/* The MA solve time stored with sample index of dir (0 if absent). */
static double ma_seconds(const char *dir, int64_t index)
{
    char p[4096];
    lt_st_file *f;
    double v = 0;
    lt_um2n_sample_path(dir, index, p, sizeof p);
    if (lt_st_open(p, &f) == LT_OK) {
        const char *m = lt_st_meta(f, "ma_seconds");
        v = m ? atof(m) : 0;
        lt_st_free(f);
    }
    return v;
}

/* ---- one row ------------------------------------------------------------ */

typedef struct {
    double er_sum, er_sq, seconds;
    int64_t meshes, failed, cells;
} u2_acc;

static void acc_add(u2_acc *a, double er, int tangled, double sec)
{
    a->meshes++;
    a->seconds += sec;
    a->cells += tangled;
    if (tangled) {
        a->failed++;
        return;
    }
    a->er_sum += er;
    a->er_sq += er * er;
}

static const lt_table_col u2_cols[] = {
    {"method", "Method", NULL, 0, false},
    {"timed", "Time of", NULL, 0, false},
    {"ER_mean", "ER mean (%)", "%.2f", 0, false},
    {"ER_std", "ER std (%)", "%.2f", 0, false},
    {"meshes", "Meshes", "%.0f", 0, false},
    {"tangled_meshes", "Tangled meshes", "%.0f", 0, false},
    {"tangled_cells", "Tangled cells", "%.0f", 0, false},
    {"ms_per_mesh", "Time per mesh (ms)", "%.3f", 0, false},
};
#define U2_NUM0 2

/* a's numbers into row (named name). */
static lt_status row_put(lt_table_row *row, const char *name, const u2_acc *a)
{
    int64_t ok = a->meshes - a->failed;
    double mean = ok ? a->er_sum / (double)ok : 0, var = 0;
    if (ok > 1)
        var = fmax(0, (a->er_sq - (double)ok * mean * mean) / (double)(ok - 1));
    double v[LT_TABLE_MAX_COLS] = {0};
    v[U2_NUM0] = 100 * mean;
    v[U2_NUM0 + 1] = 100 * sqrt(var);
    v[U2_NUM0 + 2] = (double)a->meshes;
    v[U2_NUM0 + 3] = (double)a->failed;
    v[U2_NUM0 + 4] = (double)a->cells;
    v[U2_NUM0 + 5] = a->meshes ? 1e3 * a->seconds / (double)a->meshes : 0;
    if (!ok && a->meshes) {
        row->failed = true;
        snprintf(row->message, sizeof row->message, "%s: every mesh "
                 "tangled", name);
    }
    return lt_table_row_add_run(row, v);
}

/* A mesh with item it's connectivity and coordinates xy. */
static lt_status moved_mesh(const lt_um2n_item *it, const float *xy,
                            lt_mesh *out)
{
    lt_status s = lt_mesh_copy(out, &it->mesh);
    for (int64_t i = 0; s == LT_OK && i < 2 * it->s.n_nodes; i++)
        out->xy[i] = xy[i];
    return s;
}

/* The uniform mesh (ma false: ER 0, nothing tangles) or the MA meshes
 * stored with the samples into row. */
static lt_status row_reference(const char *dir, const lt_um2n_data *d,
                               bool ma, lt_table_row *row)
{
    u2_acc a = {0};
    lt_status s = LT_OK;
    for (int64_t i = 0; s == LT_OK && i < d->n; i++) {
        const lt_um2n_item *it = &d->items[i];
        lt_mesh mm;
        if (!ma) {
            acc_add(&a, 0.0, 0, 0.0);
            continue;
        }
        if ((s = moved_mesh(it, it->target, &mm)) != LT_OK)
            break;
        int tg = lt_mesh_count_tangled(&mm);
        lt_mesh_free(&mm);
        acc_add(&a, (it->err_uniform - it->err_ma) / it->err_uniform, tg,
                ma_seconds(dir, it->index));
    }
    return s == LT_OK ? row_put(row, ma ? "MA" : "uniform", &a) : s;
}

/* One network over the split into row. */
static lt_status row_net(const lt_bench_um2n_cfg *c, const u2_net *n,
                         const lt_um2n_data *d, lt_ctx *ctx,
                         lt_table_row *row)
{
    lt_um2n m = {0};
    u2_acc a = {0};
    lt_status s = net_get(c, n, d, ctx, &m);
    for (int64_t i = 0; s == LT_OK && i < d->n; i++) {
        const lt_um2n_item *it = &d->items[i];
        const lt_um2n_sample *p = &it->s;
        lt_um2n_batch b = {p->n_nodes, 1, p->x, p->mesh_feat, p->src, p->dst,
                           p->n_edges, p->faces, p->n_faces, NULL, 0};
        lt_ctx_reset(ctx);
        double t0 = lt_clock_seconds();
        lt_tensor *out = lt_um2n_forward(ctx, &m, &b, false, NULL);
        double sec = lt_clock_seconds() - t0;
        lt_mesh mm;
        if (!out || (s = moved_mesh(it, out->data, &mm)) != LT_OK) {
            s = lt_last_status();
            break;
        }
        int tg = lt_mesh_count_tangled(&mm);
        double e1 = 0;
        if (!tg)
            s = lt_helmholtz_error(&mm, &it->field, &e1, NULL);
        lt_mesh_free(&mm);
        acc_add(&a, (it->err_uniform - e1) / it->err_uniform, tg, sec);
    }
    lt_um2n_free(&m);
    if (s != LT_OK)
        return lt_set_error(s, "bench um2n: %s: %s", n->name, lt_last_error());
    lt_bench_note(c->progress, c->ud, "%s: %lld meshes, %lld tangled",
                  n->name, (long long)a.meshes, (long long)a.failed);
    return row_put(row, n->name, &a);
}

/* ---- rows over the ranks, kept rows ------------------------------------- */

typedef struct {
    const lt_bench_um2n_cfg *c;
    const char *dir;
    const lt_um2n_data *d;
    lt_ctx *ctx;
    lt_table *t;
    int n;             /* rows so far */
    char row[64];      /* the row under way (for a failure's message) */
} u2_rows;

/* The key of a row's run file: the commit, the data, the row's network
 * (its file, or the quick training) and the precision. */
static uint64_t row_key(const u2_rows *r, const char *name, const char *file)
{
    const lt_bench_um2n_cfg *c = r->c;
    char key[9000];
    snprintf(key, sizeof key, "um2n-row|v1|%s|%s|%s|%s|%s|%d|%d|%d|%d|%llu",
             lt_bench_commit(), r->dir, c->data ? c->split : "all (quick)",
             name, file ? file : c->quick ? "quick" : "", c->quick,
             c->quick_samples, c->quick_grid, c->quick_epochs,
             (unsigned long long)c->seed);
    return lt_bench_fnv_precision(lt_bench_fnv(key));
}

/* The next row (net NULL: uniform or MA): its placeholder in the table,
 * computed here when this rank owns it (or loaded with --resume) and
 * kept. */
static lt_status row_unit(u2_rows *r, const char *name, const char *timed,
                          const u2_net *net)
{
    const lt_bench_um2n_cfg *c = r->c;
    lt_table_row *row = lt_table_add_row(r->t);
    if (!row)
        return lt_last_status();
    snprintf(row->text[0], LT_TABLE_TEXT, "%s", name);
    snprintf(row->text[1], LT_TABLE_TEXT, "%s", timed);
    snprintf(r->row, sizeof r->row, "%s", name);
    if (!lt_bench_mine(r->n++))
        return LT_OK;
    uint64_t key = c->cache ? row_key(r, name, net ? net->file : NULL) : 0;
    if (key && c->resume &&
        lt_bench_row_load(c->cache, key, row, LT_TABLE_MAX_COLS)) {
        lt_bench_note(c->progress, c->ud, "%s: done before (--resume)",
                      name);
        return LT_OK;
    }
    if (lt_dist_size() > 1) /* names the row if this rank is killed */
        lt_bench_note(c->progress, c->ud, "%s: running", name);
    lt_status s = net ? row_net(c, net, r->d, r->ctx, row)
                      : row_reference(r->dir, r->d, !strcmp(name, "MA"), row);
    if (s == LT_OK && key &&
        (s = lt_bench_row_save(c->cache, key, row, LT_TABLE_MAX_COLS)) !=
            LT_OK)
        s = lt_set_error(s, "bench um2n: keeping the row: %s",
                         lt_last_error());
    return s;
}

/* Every row: row q is rank q mod K's; a failure stops the sweep after
 * every rank's rows, naming its rank and row; then every rank receives
 * the others' rows. */
static lt_status rows_all(u2_rows *r)
{
    lt_status s = row_unit(r, "uniform", "-", NULL);
    if (s == LT_OK)
        s = row_unit(r, "MA", "MA solve (stored)", NULL);
    u2_net ns[U2_NETS];
    nets(r->c, ns);
    for (int i = 0; s == LT_OK && i < U2_NETS; i++)
        if (ns[i].file || r->c->quick)
            s = row_unit(r, ns[i].name, "forward", &ns[i]);
    s = lt_bench_agree(s, r->row);
    int n = r->t->n_rows, size = lt_dist_size();
    if (s != LT_OK || size == 1) /* the ranks may hold different counts */
        return s;
    int owner[2 + U2_NETS];
    for (int i = 0; i < n; i++)
        owner[i] = i % size;
    return lt_bench_share(r->t->rows, sizeof *r->t->rows, n, owner);
}

static lt_status u2_settings(const lt_bench_um2n_cfg *c, const char *dir,
                             const lt_um2n_data *d, lt_report *r)
{
    lt_status s = lt_bench_common_settings(r, c->command);
    if (s == LT_OK)
        s = lt_report_set(r, "data", dir);
    if (s == LT_OK)
        s = lt_report_set(r, "split", c->quick && !c->data ? "all (quick)"
                                                           : c->split);
    if (s == LT_OK)
        s = lt_report_set_num(r, "meshes", (double)d->n);
    if (s == LT_OK)
        s = lt_report_set(r, "um2n", c->um2n ? c->um2n : c->quick
                                         ? "trained here (quick)" : "");
    if (s == LT_OK)
        s = lt_report_set(r, "m2n", c->m2n ? c->m2n : c->quick
                                       ? "trained here (quick)" : "");
    if (s == LT_OK)
        s = lt_report_set(r, "um2n_coord", c->um2n_coord ? c->um2n_coord
                                           : c->quick ? "trained here (quick)"
                                                      : "");
    if (s == LT_OK && c->quick)
        s = lt_report_set_num(r, "quick_epochs", c->quick_epochs);
    if (s == LT_OK)
        s = lt_report_set(r, "cases", "Helmholtz square only (swirl and "
                          "hole not wired in)");
    return s;
}

static lt_status lt_bench_um2n_body(const lt_bench_um2n_cfg *c,
                                    lt_report *out)
{
    memset(out, 0, sizeof *out);
    if (lt_bench_um2n_check(c) != LT_OK)
        return lt_last_status();
    double t0 = lt_clock_seconds();
    snprintf(out->title, sizeof out->title, "UM2N benchmark");
    char dir[4096];
    lt_um2n_data d = {0};
    lt_status s;
    if (c->data) {
        snprintf(dir, sizeof dir, "%s", c->data);
        s = lt_bench_agree(lt_um2n_data_open(c->data, c->split, &d),
                           "reading the data");
    } else { /* rank 0 makes the samples while the others wait */
        bool lead = lt_dist_rank() == 0;
        s = lt_bench_agree(lead ? quick_data(c, true, dir, sizeof dir, &d)
                                : LT_OK, "the quick samples");
        if (s == LT_OK)
            s = lt_bench_agree(lead ? LT_OK : quick_data(c, false, dir,
                                                         sizeof dir, &d),
                               "reading the quick samples");
    }
    if (s == LT_OK && d.n < 1)
        s = lt_set_error(LT_ERR_ARG, "bench um2n: %s: the %s split is empty",
                         dir, c->split);
    lt_ctx *ctx = s == LT_OK ? lt_ctx_new(U2_ARENA) : NULL;
    if (s == LT_OK && !ctx)
        s = lt_set_error(LT_ERR_NOMEM, "bench um2n: cannot make a context");
    if (s == LT_OK)
        s = u2_settings(c, dir, &d, out);
    char title[256];
    snprintf(title, sizeof title, "Mesh movers on %lld Helmholtz meshes "
             "(ER over the meshes that did not tangle)", (long long)d.n);
    lt_table *t = NULL;
    if (s == LT_OK && !(t = lt_report_table(out, title, u2_cols,
                                            (int)(sizeof u2_cols /
                                                  sizeof *u2_cols))))
        s = lt_last_status();
    u2_rows rows = {c, dir, &d, ctx, t, 0, ""};
    if (s == LT_OK)
        s = rows_all(&rows);
    lt_ctx_free(ctx);
    lt_um2n_data_free(&d);
    out->seconds = lt_clock_seconds() - t0;
    return s;
}

/* The run in the precision its config asks for (core.h). */
lt_status lt_bench_um2n(const lt_bench_um2n_cfg *c, lt_report *out)
{
    lt_precision old =
        lt_precision_enter(c ? c->precision : LT_PRECISION_DEFAULT);
    lt_status r = lt_bench_um2n_body(c, out);
    lt_set_default_precision(old);
    return r;
}
