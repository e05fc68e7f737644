/*
 * um2n.c - `lethe bench um2n` (lethe/bench_um2n.h): uniform, MA, M2N,
 * UM2N and UM2N-coord on a Helmholtz test split of the square and of the
 * square with a hole: mean and std of the error reduction, failed
 * (tangled) meshes, tangled cells and the wall time per mesh, one
 * Markdown/JSON table per case; the swirl case's table is um2n_swirl.c's.
 * --quick makes tiny sets and tiny networks itself so that a ctest runs it
 * in seconds. Under mpirun the network rows (and the swirl's MA row) are
 * spread over the ranks and kept in CACHE/runs as they finish (--resume
 * skips them): u2_claim and friends below, bench_dist.h, docs/mpi.md.
 */
#include "lethe/bench_um2n.h"

#include "bench_dist.h"
#include "bench_util.h"
#include "lethe/dist.h"
#include "lethe/io.h"
#include "um2n_bench.h"
#include "lethe/safetensors.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define U2_ARENA ((size_t)1 << 30)
#define U2_HOLE_TAG 5 /* LT_MESH_HOLE_TAG: pinned by MA on the hole */
#define U2_SIDES 4    /* the square's sides, tags 1-4 */

lt_bench_um2n_cfg lt_bench_um2n_defaults(void)
{
    lt_bench_um2n_cfg c;
    memset(&c, 0, sizeof c);
    c.split = "test";
    c.quick_samples = 4;
    c.quick_grid = 5;
    c.quick_epochs = 2;
    c.quick_swirl_grid = 8;
    c.cases = LT_BENCH_UM2N_HELMHOLTZ;
    c.seed = 1;
    c.precision = LT_PRECISION_DEFAULT;
    return c;
}

lt_status lt_bench_um2n_check(const lt_bench_um2n_cfg *c)
{
    if (!c)
        return lt_set_error(LT_ERR_ARG, "bench um2n: NULL config");
    if (c->cases < 1 || c->cases > LT_BENCH_UM2N_ALL)
        return lt_set_error(LT_ERR_ARG, "bench um2n: --case: expected "
                            "helmholtz, swirl, hole or all");
    bool hz = c->cases & LT_BENCH_UM2N_HELMHOLTZ,
         ho = c->cases & LT_BENCH_UM2N_HOLE, sw = c->cases & LT_BENCH_UM2N_SWIRL;
    if (!c->quick && hz && !c->data)
        return lt_set_error(LT_ERR_ARG, "bench um2n: --data DIR (a set made "
                            "by lethe mesh data) is required without --quick");
    if (!c->quick && ho && !c->hole_data)
        return lt_set_error(LT_ERR_ARG, "bench um2n: --case hole needs "
                            "--hole-data DIR (lethe mesh data --mesh hole.msh "
                            "--pin-tags 5) without --quick");
    if (ho && c->quick && !c->hole_data && !c->hole_mesh)
        return lt_set_error(LT_ERR_ARG, "bench um2n: --quick --case hole "
                            "needs --hole-mesh F.msh (or --hole-data)");
    if (sw && !c->quick && !c->swirl_mesh)
        return lt_set_error(LT_ERR_ARG, "bench um2n: --case swirl needs "
                            "--swirl-mesh F.msh without --quick");
    if (sw && (c->swirl_steps < 0 || c->swirl_steps % 2 ||
               (c->quick && (c->quick_swirl_grid < 2 ||
                             c->quick_swirl_grid > 256))))
        return lt_set_error(LT_ERR_ARG, "bench um2n: --swirl-steps must be "
                            "even (0: the default), the quick swirl grid "
                            "2..256");
    if (c->quick && !c->cache)
        return lt_set_error(LT_ERR_ARG, "bench um2n: --quick needs --cache");
    if (c->quick && (c->quick_samples < 1 || c->quick_samples > 64 ||
                     c->quick_grid < 2 || c->quick_grid > 64 ||
                     c->quick_epochs < 1))
        return lt_set_error(LT_ERR_ARG, "bench um2n: quick settings out of "
                            "range (samples 1..64, grid 2..64, epochs >= 1)");
    if (!c->split || (strcmp(c->split, "train") && strcmp(c->split, "test") &&
                      strcmp(c->split, "val") && strcmp(c->split, "all")))
        return lt_set_error(LT_ERR_ARG, "bench um2n: --split: expected "
                            "train, test, val or all");
    const char *ck[] = {c->um2n, c->m2n, c->um2n_coord, c->swirl_mesh,
                        c->hole_mesh};
    for (size_t i = 0; i < sizeof ck / sizeof *ck; i++)
        if (ck[i] && !lt_bench_exists(ck[i]))
            return lt_set_error(LT_ERR_IO, "bench um2n: %s: no such file",
                                ck[i]);
    return LT_OK;
}

lt_status lt_bench_um2n_cases(const char *s, int *cases)
{
    static const struct { const char *name; int bit; } k[] = {
        {"helmholtz", LT_BENCH_UM2N_HELMHOLTZ}, {"swirl", LT_BENCH_UM2N_SWIRL},
        {"hole", LT_BENCH_UM2N_HOLE}, {"all", LT_BENCH_UM2N_ALL}};
    *cases = 0;
    while (s && *s) {
        size_t len = strcspn(s, ",");
        int bit = 0;
        for (size_t i = 0; i < sizeof k / sizeof *k; i++)
            if (strlen(k[i].name) == len && !strncmp(s, k[i].name, len))
                bit = k[i].bit;
        if (!bit)
            break;
        *cases |= bit;
        s += len + (s[len] == ',');
    }
    if (!s || *s || !*cases)
        return lt_set_error(LT_ERR_ARG, "bench um2n: --case %s: expected "
                            "helmholtz, swirl, hole, all or a comma-separated "
                            "list", s ? s : "(none)");
    return LT_OK;
}

/* ---- rows spread over the ranks ----------------------------------------- */

/* The key of a row in CACHE/runs: everything that shapes it. */
static uint64_t u2_key(const lt_bench_um2n_cfg *c, const char *title,
                       const char *name)
{
    char k[8192];
    const char *none = "-";
    snprintf(k, sizeof k, "um2n-row|v1|%s|%s|%s|%s|%s|%s|%s|%s|%d|%d|%d|%d|"
             "%d|%d|%llu|%s|%s|%s|%s", lt_bench_commit(), title, name,
             c->split, c->data ? c->data : none,
             c->hole_data ? c->hole_data : none,
             c->hole_mesh ? c->hole_mesh : none,
             c->swirl_mesh ? c->swirl_mesh : none, c->swirl_steps, c->quick,
             c->quick_samples, c->quick_grid, c->quick_epochs,
             c->quick_swirl_grid, (unsigned long long)c->seed,
             c->um2n ? c->um2n : none, c->m2n ? c->m2n : none,
             c->um2n_coord ? c->um2n_coord : none, lt_bench_precision_key());
    return lt_bench_fnv(k);
}

void u2_table_begin(u2_units *u)
{
    memset(u->owner, 0, sizeof u->owner);
    u->row[0] = 0;
}

bool u2_claim(const lt_bench_um2n_cfg *c, u2_units *u, lt_table *t,
              const char *name, const char *timed, uint64_t *key)
{
    int64_t unit = u->unit++;
    int at = t->n_rows;
    if (at < U2_MAX_ROWS)
        u->owner[at] = (int)(unit % lt_dist_size());
    snprintf(u->row, sizeof u->row, "%s", name);
    *key = u2_key(c, t->title, name);
    if (!lt_bench_mine(unit)) { /* another rank's: u2_table_done fills it */
        lt_table_add_row(t);
        return false;
    }
    lt_table_row kept = {0};
    if (!c->resume || !c->cache ||
        !lt_bench_row_load(c->cache, *key, &kept, t->n_cols))
        return true; /* computed now; its row is added then */
    lt_table_row *row = lt_table_add_row(t);
    if (row) {
        *row = kept;
        snprintf(row->text[0], LT_TABLE_TEXT, "%s", name);
        snprintf(row->text[1], LT_TABLE_TEXT, "%s", timed);
    }
    lt_bench_note(c->progress, c->ud, "%s: done before (--resume)", name);
    return false;
}

lt_status u2_keep(const lt_bench_um2n_cfg *c, const lt_table *t,
                  uint64_t key)
{
    if (!c->cache || !t->n_rows)
        return LT_OK;
    lt_status s = lt_mkdirs(c->cache);
    if (s == LT_OK)
        s = lt_bench_row_save(c->cache, key, &t->rows[t->n_rows - 1],
                              t->n_cols);
    return s == LT_OK ? LT_OK : lt_set_error(s, "bench um2n: keeping the "
                                             "row: %s", lt_last_error());
}

lt_status u2_table_done(u2_units *u, lt_table *t, lt_status st)
{
    st = lt_bench_agree(st, u->row);
    if (st != LT_OK || lt_dist_size() == 1)
        return st;
    if (t->n_rows > U2_MAX_ROWS)
        return lt_set_error(LT_ERR_ARG, "bench um2n: %d rows in a table",
                            t->n_rows);
    return lt_bench_share(t->rows, sizeof *t->rows, t->n_rows, u->owner);
}

/* ---- the networks ------------------------------------------------------- */

static void nets_spec(const lt_bench_um2n_cfg *c, u2_net out[U2_NETS])
{
    out[0] = (u2_net){"M2N", c->m2n, LT_UM2N_ARCH_M2N, LT_UM2N_LOSS_COORD};
    out[1] = (u2_net){"UM2N", c->um2n, LT_UM2N_ARCH_M2N_T,
                      LT_UM2N_LOSS_AREA_CHAMFER};
    out[2] = (u2_net){"UM2N-coord", c->um2n_coord, LT_UM2N_ARCH_M2N_T,
                      LT_UM2N_LOSS_COORD};
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

/* Every network with a row: loaded, or (quick) trained on d. */
static lt_status nets_get(const lt_bench_um2n_cfg *c, const lt_um2n_data *d,
                          lt_ctx *ctx, u2_nets *ns)
{
    lt_status s = LT_OK;
    nets_spec(c, ns->spec);
    for (int i = 0; s == LT_OK && i < U2_NETS; i++) {
        if (!ns->spec[i].file && !c->quick)
            continue;
        ns->have[i] = true;
        s = net_get(c, &ns->spec[i], d, ctx, &ns->model[i]);
        if (s != LT_OK)
            s = lt_set_error(s, "bench um2n: %s: %s", ns->spec[i].name,
                             lt_last_error());
    }
    return s;
}

static void nets_free(u2_nets *ns)
{
    for (int i = 0; i < U2_NETS; i++)
        if (ns->have[i])
            lt_um2n_free(&ns->model[i]);
}

/* ---- the data ----------------------------------------------------------- */

/* quick: samples on a structured square (hole: on c->hole_mesh, the
 * hole pinned), written into the cache. */
static lt_status quick_data(const lt_bench_um2n_cfg *c, bool hole, char *dir,
                            size_t len, lt_um2n_data *d)
{
    lt_mesh m = {0};
    lt_status s = hole ? lt_mesh_read_msh(c->hole_mesh, &m)
                       : lt_mesh_square_grid(&m, c->quick_grid);
    if (hole)
        snprintf(dir, len, "%s/um2n-quick-hole-n%d-s%llu", c->cache,
                 s == LT_OK ? m.nv : 0, (unsigned long long)c->seed);
    else
        snprintf(dir, len, "%s/um2n-quick-g%d-s%llu", c->cache, c->quick_grid,
                 (unsigned long long)c->seed);
    char sub[4200], path[4200];
    snprintf(sub, sizeof sub, "%s/data", dir);
    if (s == LT_OK)
        s = lt_mkdirs(sub);
    static const int pin[1] = {U2_HOLE_TAG};
    lt_um2n_gen_opts g;
    lt_um2n_gen_opts_default(&g);
    g.seed = c->seed;
    if (hole) {
        g.ma.pin_tags = pin;
        g.ma.npin_tags = 1;
    }
    memset(d, 0, sizeof *d);
    d->items = calloc((size_t)c->quick_samples, sizeof *d->items);
    d->samples = calloc((size_t)c->quick_samples, sizeof *d->samples);
    if (s == LT_OK && (!d->items || !d->samples))
        s = lt_set_error(LT_ERR_NOMEM, "bench um2n: out of memory");
    for (int i = 0; s == LT_OK && i < c->quick_samples; i++) {
        lt_um2n_sample_path(dir, i, path, sizeof path);
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

static lt_status row_put(lt_table *t, const char *name, const char *timed,
                         const u2_acc *a)
{
    lt_table_row *row = lt_table_add_row(t);
    if (!row)
        return lt_last_status();
    snprintf(row->text[0], LT_TABLE_TEXT, "%s", name);
    snprintf(row->text[1], LT_TABLE_TEXT, "%s", timed);
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

/* uniform and MA rows. */
static lt_status rows_reference(const char *dir, const lt_um2n_data *d,
                                lt_table *t)
{
    u2_acc un = {0}, ma = {0};
    lt_status s = LT_OK;
    for (int64_t i = 0; s == LT_OK && i < d->n; i++) {
        const lt_um2n_item *it = &d->items[i];
        lt_mesh mm;
        if ((s = moved_mesh(it, it->target, &mm)) != LT_OK)
            break;
        int tg = lt_mesh_count_tangled(&mm);
        lt_mesh_free(&mm);
        acc_add(&un, 0.0, 0, 0.0);
        acc_add(&ma, (it->err_uniform - it->err_ma) / it->err_uniform, tg,
                ma_seconds(dir, it->index));
    }
    if (s == LT_OK)
        s = row_put(t, "uniform", "-", &un);
    return s == LT_OK ? row_put(t, "MA", "MA solve (stored)", &ma) : s;
}

/* One network over the split (poly: M2N samples its grid in the corner
 * polygon of sides 1-4, the official path for a domain that is not the
 * square). */
static lt_status row_net(const lt_bench_um2n_cfg *c, const char *name,
                         lt_um2n *m, const lt_um2n_data *d, bool poly,
                         lt_ctx *ctx, lt_table *t)
{
    u2_acc a = {0};
    lt_status s = LT_OK;
    float corners[2 * U2_SIDES];
    for (int64_t i = 0; s == LT_OK && i < d->n; i++) {
        const lt_um2n_item *it = &d->items[i];
        const lt_um2n_sample *p = &it->s;
        if (poly && (s = lt_m2n_corners(&it->mesh, U2_SIDES, corners)) != LT_OK)
            break;
        lt_um2n_batch b = {p->n_nodes, 1, p->x, p->mesh_feat, p->src, p->dst,
                           p->n_edges, p->faces, p->n_faces, NULL, 0,
                           poly ? corners : NULL, poly ? U2_SIDES : 0};
        lt_ctx_reset(ctx);
        double t0 = lt_clock_seconds();
        lt_tensor *out = lt_um2n_forward(ctx, m, &b, false, NULL);
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
    if (s != LT_OK)
        return lt_set_error(s, "bench um2n: %s: %s", name, lt_last_error());
    lt_bench_note(c->progress, c->ud, "%s: %lld meshes, %lld tangled", name,
                  (long long)a.meshes, (long long)a.failed);
    return row_put(t, name, "forward", &a);
}

/* One Helmholtz table (the square or the hole) over split d of dir: the
 * reference rows on every rank, each network's row on its rank. */
static lt_status table_helmholtz(const lt_bench_um2n_cfg *c, const char *what,
                                 const char *dir, const lt_um2n_data *d,
                                 bool poly, u2_nets *ns, lt_ctx *ctx,
                                 u2_units *u, lt_report *r)
{
    char title[256];
    snprintf(title, sizeof title, "Mesh movers on %lld %s meshes (ER over "
             "the meshes that did not tangle)", (long long)d->n, what);
    lt_table *t = lt_report_table(r, title, u2_cols,
                                  (int)(sizeof u2_cols / sizeof *u2_cols));
    if (!t)
        return lt_last_status();
    u2_table_begin(u);
    lt_status s = rows_reference(dir, d, t);
    for (int i = 0; s == LT_OK && i < U2_NETS; i++) {
        uint64_t key;
        if (ns->have[i] &&
            u2_claim(c, u, t, ns->spec[i].name, "forward", &key) &&
            (s = row_net(c, ns->spec[i].name, &ns->model[i], d, poly, ctx,
                         t)) == LT_OK)
            s = u2_keep(c, t, key);
    }
    return u2_table_done(u, t, s);
}

static const char *net_setting(const lt_bench_um2n_cfg *c, const char *f)
{
    return f ? f : c->quick ? "trained here (quick)" : "";
}

static lt_status u2_settings(const lt_bench_um2n_cfg *c, lt_report *r)
{
    lt_status s = lt_bench_common_settings(r, c->command);
    char cases[64];
    snprintf(cases, sizeof cases, "%s%s%s",
             c->cases & LT_BENCH_UM2N_HELMHOLTZ ? "helmholtz " : "",
             c->cases & LT_BENCH_UM2N_HOLE ? "hole " : "",
             c->cases & LT_BENCH_UM2N_SWIRL ? "swirl" : "");
    if (s == LT_OK)
        s = lt_report_set(r, "cases", cases);
    if (s == LT_OK)
        s = lt_report_set(r, "split", c->quick && !c->data ? "all (quick)"
                                                           : c->split);
    if (s == LT_OK)
        s = lt_report_set(r, "um2n", net_setting(c, c->um2n));
    if (s == LT_OK)
        s = lt_report_set(r, "m2n", net_setting(c, c->m2n));
    if (s == LT_OK)
        s = lt_report_set(r, "um2n_coord", net_setting(c, c->um2n_coord));
    if (s == LT_OK && c->quick)
        s = lt_report_set_num(r, "quick_epochs", c->quick_epochs);
    return s;
}

/* Open the split of dir, or (quick, no dir) make the quick samples. */
static lt_status data_get(const lt_bench_um2n_cfg *c, const char *given,
                          bool hole, char *dir, size_t len, lt_um2n_data *d)
{
    lt_status s;
    memset(d, 0, sizeof *d);
    if (given) {
        snprintf(dir, len, "%s", given);
        s = lt_um2n_data_open(given, c->split, d);
    } else {
        s = quick_data(c, hole, dir, len, d);
    }
    if (s == LT_OK && d->n < 1)
        s = lt_set_error(LT_ERR_ARG, "bench um2n: %s: the %s split is empty",
                         dir, c->split);
    return s;
}

/* The hole table: its data set (or quick samples) and every row. */
static lt_status case_hole(const lt_bench_um2n_cfg *c, u2_nets *ns,
                           lt_ctx *ctx, u2_units *u, lt_report *r)
{
    char dir[4096];
    lt_um2n_data d;
    lt_status s = lt_bench_agree(data_get(c, c->hole_data, true, dir,
                                          sizeof dir, &d), "the hole data");
    if (s == LT_OK)
        s = lt_report_set(r, "hole_data", dir);
    if (s == LT_OK)
        s = lt_report_set(r, "hole_m2n_grid", "32 x 32 in the corner polygon "
                          "(get_conv_feat_poly), 0 in the hole");
    if (s == LT_OK)
        s = table_helmholtz(c, "hole (Helmholtz)", dir, &d, true, ns, ctx, u,
                            r);
    lt_um2n_data_free(&d);
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
    char dir[4096] = "";
    lt_um2n_data d = {0};
    u2_nets ns;
    memset(&ns, 0, sizeof ns);
    u2_units u = {0};
    lt_ctx *ctx = lt_ctx_new(U2_ARENA);
    lt_status s = ctx ? u2_settings(c, out)
                      : lt_set_error(LT_ERR_NOMEM, "bench um2n: cannot make "
                                     "a context");
    /* the square's set: its table, and the quick networks' training set */
    bool square = c->quick || (c->cases & LT_BENCH_UM2N_HELMHOLTZ);
    if (s == LT_OK && square)
        s = data_get(c, c->data, false, dir, sizeof dir, &d);
    if (s == LT_OK && square)
        s = lt_report_set(out, "data", dir);
    if (s == LT_OK)
        s = nets_get(c, &d, ctx, &ns);
    s = lt_bench_agree(s, "the data and networks");
    if (s == LT_OK && (c->cases & LT_BENCH_UM2N_HELMHOLTZ))
        s = table_helmholtz(c, "Helmholtz", dir, &d, false, &ns, ctx, &u,
                            out);
    if (s == LT_OK && (c->cases & LT_BENCH_UM2N_HOLE))
        s = case_hole(c, &ns, ctx, &u, out);
    if (s == LT_OK && (c->cases & LT_BENCH_UM2N_SWIRL))
        s = lt_bench_um2n_swirl(c, &ns, ctx, &u, out);
    nets_free(&ns);
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
