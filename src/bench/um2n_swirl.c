/*
 * um2n_swirl.c - the swirl table of `lethe bench um2n` (lethe/bench_um2n.h):
 * the ring carried out and back by UM2N's swirl (lt_swirl_run) on the
 * uniform mesh, with Monge-Ampere moving the mesh at every step, and with
 * each trained network moving it at every step in MA's place
 * (lt_swirl_run_mover); per row the L2 error at T against the exact
 * state, ER at T against the uniform run, tangled moves and cells, MA's
 * failed moves and the time per move. Under mpirun every rank runs the
 * uniform mesh (each row's ER needs its error); the MA row and the
 * networks' rows are spread over the ranks (u2_claim, um2n.c).
 */
#include "bench_dist.h"
#include "bench_util.h"
#include "lethe/swirl.h"
#include "um2n_bench.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define SW_STEPS_DEFAULT 1000 /* the official T = 1 with dt 1e-3 */
#define SW_MA_TIMED "MA relaxation (with its monitor)"

static const lt_table_col sw_cols[] = {
    {"method", "Method", NULL, 0, false},
    {"timed", "Time of", NULL, 0, false},
    {"L2_error_T", "L2 error at T", "%.4e", 0, false},
    {"ER", "ER at T (%)", "%.2f", 0, false},
    {"moves", "Moves", "%.0f", 0, false},
    {"tangled_moves", "Tangled moves", "%.0f", 0, false},
    {"tangled_cells", "Tangled cells", "%.0f", 0, false},
    {"failed_moves", "Failed MA moves", "%.0f", 0, false},
    {"ms_per_move", "Time per move (ms)", "%.3f", 0, false},
};
#define SW_NUM0 2

/* One row from a finished run (e0: the uniform run's error; seconds: of
 * all moves). */
static lt_status sw_row(lt_table *t, const char *name, const char *timed,
                        const lt_swirl_result *r, double e0, double seconds)
{
    lt_table_row *row = lt_table_add_row(t);
    if (!row)
        return lt_last_status();
    snprintf(row->text[0], LT_TABLE_TEXT, "%s", name);
    snprintf(row->text[1], LT_TABLE_TEXT, "%s", timed);
    double v[LT_TABLE_MAX_COLS] = {0};
    v[SW_NUM0] = r->l2_error;
    v[SW_NUM0 + 1] = 100 * (e0 - r->l2_error) / e0;
    v[SW_NUM0 + 2] = r->moves;
    v[SW_NUM0 + 3] = r->tangled_steps;
    v[SW_NUM0 + 4] = (double)r->tangled_cells;
    v[SW_NUM0 + 5] = r->ma_failures;
    v[SW_NUM0 + 6] = r->moves ? 1e3 * seconds / r->moves : 0;
    return lt_table_row_add_run(row, v);
}

typedef struct {
    lt_ctx *ctx;
    lt_um2n *net;
} sw_net;

static lt_status sw_net_move(void *ud, const lt_mesh *xi, const double *mon,
                             double *xy, double *seconds)
{
    sw_net *n = ud;
    return lt_um2n_move_mesh(n->ctx, n->net, xi, mon, false, xy, seconds);
}

/* The swirl's mesh: the given file, or (quick) a structured square. */
static lt_status sw_mesh(const lt_bench_um2n_cfg *c, lt_mesh *m)
{
    if (c->swirl_mesh)
        return lt_mesh_read_msh(c->swirl_mesh, m);
    return lt_mesh_square_grid(m, c->quick_swirl_grid);
}

/* The uniform row (every rank); *e0 its error. */
static lt_status sw_uniform(const lt_bench_um2n_cfg *c,
                            const lt_swirl_cfg *sc, const lt_mesh *m,
                            lt_table *t, double *e0)
{
    lt_swirl_cfg fixed = *sc;
    fixed.move = false;
    lt_swirl_result r;
    lt_status s = lt_swirl_run(&fixed, m, NULL, NULL, &r);
    if (s != LT_OK)
        return lt_set_error(s, "bench um2n: swirl, uniform: %s",
                            lt_last_error());
    *e0 = r.l2_error;
    s = sw_row(t, "uniform", "-", &r, *e0, 0);
    lt_swirl_result_free(&r);
    lt_bench_note(c->progress, c->ud, "swirl uniform: L2 error at T %.4e",
                  *e0);
    return s;
}

/* The MA row (e0: the uniform run's error). */
static lt_status sw_ma(const lt_bench_um2n_cfg *c, const lt_swirl_cfg *sc,
                       const lt_mesh *m, lt_table *t, double e0)
{
    lt_swirl_result r;
    lt_status s = lt_swirl_run(sc, m, NULL, NULL, &r);
    if (s != LT_OK)
        return lt_set_error(s, "bench um2n: swirl, MA: %s", lt_last_error());
    r.moves = sc->steps;
    s = sw_row(t, "MA", SW_MA_TIMED, &r, e0, r.ma_seconds);
    lt_bench_note(c->progress, c->ud, "swirl MA: L2 error at T %.4e, %d "
                  "failed moves", r.l2_error, r.ma_failures);
    lt_swirl_result_free(&r);
    return s;
}

/* Network i's row. */
static lt_status sw_net_row(const lt_bench_um2n_cfg *c, const lt_swirl_cfg *sc,
                            const lt_mesh *m, u2_nets *ns, int i,
                            lt_ctx *ctx, lt_table *t, double e0)
{
    sw_net n = {ctx, &ns->model[i]};
    lt_swirl_result r;
    lt_status s = lt_swirl_run_mover(sc, m, sw_net_move, &n, NULL, NULL, &r);
    if (s != LT_OK)
        return lt_set_error(s, "bench um2n: swirl, %s: %s", ns->spec[i].name,
                            lt_last_error());
    s = sw_row(t, ns->spec[i].name, "forward", &r, e0, r.move_seconds);
    lt_bench_note(c->progress, c->ud, "swirl %s: L2 error at T %.4e, %d "
                  "tangled moves", ns->spec[i].name, r.l2_error,
                  r.tangled_steps);
    lt_swirl_result_free(&r);
    return s;
}

/* Every row after the uniform one, each on its rank. */
static lt_status sw_units(const lt_bench_um2n_cfg *c, const lt_swirl_cfg *sc,
                          const lt_mesh *m, u2_nets *ns, lt_ctx *ctx,
                          u2_units *u, lt_table *t, double e0)
{
    uint64_t key;
    lt_status s = LT_OK;
    if (u2_claim(c, u, t, "MA", SW_MA_TIMED, &key) &&
        (s = sw_ma(c, sc, m, t, e0)) == LT_OK)
        s = u2_keep(c, t, key);
    for (int i = 0; s == LT_OK && i < U2_NETS; i++)
        if (ns->have[i] &&
            u2_claim(c, u, t, ns->spec[i].name, "forward", &key) &&
            (s = sw_net_row(c, sc, m, ns, i, ctx, t, e0)) == LT_OK)
            s = u2_keep(c, t, key);
    return s;
}

lt_status lt_bench_um2n_swirl(const lt_bench_um2n_cfg *c, u2_nets *ns,
                              lt_ctx *ctx, u2_units *u, lt_report *rep)
{
    lt_swirl_cfg sc;
    lt_swirl_cfg_default(&sc);
    sc.steps = c->swirl_steps ? c->swirl_steps
               : c->quick ? LT_BENCH_UM2N_QUICK_SWIRL_STEPS
                          : SW_STEPS_DEFAULT;
    lt_mesh m = {0};
    lt_status s = sw_mesh(c, &m);
    char title[256];
    snprintf(title, sizeof title, "Mesh movers on the swirl (%d vertices, %d "
             "steps, the mesh moved every step)", m.nv, sc.steps);
    lt_table *t = NULL;
    if (s == LT_OK && !(t = lt_report_table(rep, title, sw_cols,
                                            (int)(sizeof sw_cols /
                                                  sizeof *sw_cols))))
        s = lt_last_status();
    if (s == LT_OK)
        s = lt_report_set(rep, "swirl_mesh", c->swirl_mesh ? c->swirl_mesh
                          : "structured square (quick)");
    if (s == LT_OK)
        s = lt_report_set_num(rep, "swirl_steps", sc.steps);
    double e0 = 0;
    u2_table_begin(u);
    if (s == LT_OK)
        s = sw_uniform(c, &sc, &m, t, &e0);
    if (s == LT_OK)
        s = sw_units(c, &sc, &m, ns, ctx, u, t, e0);
    lt_mesh_free(&m);
    return t ? u2_table_done(u, t, s) : lt_bench_agree(s, "the swirl mesh");
}
