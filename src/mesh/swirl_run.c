/*
 * swirl_run.c - the time loop of the swirl case, as UM2N's
 * SwirlSolver.solve_problem runs it for the adapted mesh: before step n the
 * Monge-Ampere mover (one mover for the whole run, so phi and sigma carry
 * over from step to step) moves the computational mesh; for every
 * candidate mesh its monitor remaps the field of the previous mesh onto
 * the candidate, advances it one step there and takes the monitor of the
 * result; the field is then remapped onto the accepted mesh and advanced.
 * Without moving, the field is advanced on the fixed mesh. With a mover
 * in place of MA (lt_swirl_run_mover, a trained network), the mover sees
 * the monitor of the field advanced on the computational mesh and moves
 * the mesh once per step.
 */
#include "lethe/swirl.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    const lt_swirl_cfg *c;
    lt_dg1_adv *adv;
    lt_mesh x;      /* the mesh of the current field */
    double *u;      /* the field on x */
    double *tmp;    /* the candidate's field */
    double *vel;    /* [2 nv] */
    double h;       /* the smoother's cell size, of the initial mesh */
    int step;
    lt_swirl_mover_fn mover; /* in place of MA (NULL: MA or fixed) */
    void *mover_ud;
    double *mon;    /* [nv] the mover's monitor */
} sw_run;

/* The field of the previous mesh carried onto mesh and advanced one step. */
static lt_status sw_advance(sw_run *r, const lt_mesh *mesh, double *out)
{
    lt_status s = LT_OK;
    if (mesh == &r->x)
        memcpy(out, r->u, sizeof(double) * 3 * (size_t)mesh->nt);
    else
        s = lt_dg1_remap(&r->x, r->u, mesh, out);
    lt_swirl_velocity(r->c, r->step, mesh, r->vel);
    return s == LT_OK ? lt_dg1_ssprk3(r->adv, mesh, r->vel, r->c->dt, out) : s;
}

/* The monitor the mover evaluates on each candidate mesh. */
static lt_status sw_monitor(void *ud, const lt_mesh *moved, double *mon)
{
    sw_run *r = ud;
    int bad = lt_mesh_count_tangled(moved);
    if (bad)
        return lt_set_error(LT_ERR_STATE, "swirl: a candidate mesh of step "
                            "%d has %d tangled cells", r->step + 1, bad);
    lt_status s = sw_advance(r, moved, r->tmp);
    return s == LT_OK ? lt_swirl_monitor(r->c, moved, r->tmp, r->h, mon) : s;
}

static lt_status sw_warm_copy(lt_ma_warm *dst, const lt_ma_warm *src)
{
    if (!src->n) {
        lt_ma_warm_free(dst);
        return LT_OK;
    }
    if (dst->n != src->n) {
        lt_ma_warm_free(dst);
        dst->phi = malloc(sizeof(double) * (size_t)src->n);
        dst->sigma = malloc(sizeof(double) * 4 * (size_t)src->n);
        if (!dst->phi || !dst->sigma) {
            lt_ma_warm_free(dst);
            return lt_set_error(LT_ERR_NOMEM, "swirl: out of memory");
        }
        dst->n = src->n;
    }
    memcpy(dst->phi, src->phi, sizeof(double) * (size_t)src->n);
    memcpy(dst->sigma, src->sigma, sizeof(double) * 4 * (size_t)src->n);
    return LT_OK;
}

/* One MA move; a failed one (LT_ERR_STATE) keeps the previous mesh and
 * warm state. The accepted mesh goes to *next (r->x when it failed). */
static lt_status sw_move(sw_run *r, const lt_mesh *xi, lt_ma_warm *warm,
                         lt_ma_warm *keep, lt_mesh *moved,
                         lt_swirl_result *res, const lt_mesh **next)
{
    lt_ma_opts o = r->c->ma;
    o.warm = warm;
    lt_ma_result mr = {0};
    lt_status s = sw_warm_copy(keep, warm);
    if (s == LT_OK)
        s = lt_ma_move(xi, sw_monitor, r, &o, moved, &mr);
    res->ma_iters += mr.iters;
    res->ma_iters_max = mr.iters > res->ma_iters_max ? mr.iters : res->ma_iters_max;
    res->ma_seconds += mr.seconds;
    res->tangled_max = mr.tangled > res->tangled_max ? mr.tangled : res->tangled_max;
    res->tangled_steps += mr.tangled > 0;
    res->tangled_cells += mr.tangled;
    lt_ma_result_free(&mr);
    *next = moved;
    if (s == LT_ERR_STATE) {
        res->ma_failures++;
        *next = &r->x;
        s = sw_warm_copy(warm, keep);
    }
    return s;
}

/* One move by r->mover: the monitor of the field advanced on xi, the
 * moved mesh; a tangled one keeps the previous mesh (*next = &r->x). */
static lt_status sw_mover_move(sw_run *r, const lt_mesh *xi, lt_mesh *moved,
                               lt_swirl_result *res, const lt_mesh **next)
{
    *next = &r->x;
    lt_status s = sw_advance(r, xi, r->tmp);
    if (s == LT_OK)
        s = lt_swirl_monitor(r->c, xi, r->tmp, r->h, r->mon);
    if (s == LT_OK)
        s = lt_mesh_copy(moved, xi);
    double sec = 0;
    if (s == LT_OK)
        s = r->mover(r->mover_ud, xi, r->mon, moved->xy, &sec);
    if (s != LT_OK)
        return s;
    res->moves++;
    res->move_seconds += sec;
    int tg = lt_mesh_count_tangled(moved);
    res->tangled_cells += tg;
    res->tangled_max = tg > res->tangled_max ? tg : res->tangled_max;
    res->tangled_steps += tg > 0;
    if (!tg)
        *next = moved;
    return LT_OK;
}

static lt_status sw_check(const lt_swirl_cfg *c, const lt_mesh *mesh)
{
    if (c->steps < 2 || c->steps % 2 || !(c->dt > 0) || !(c->sigma > 0) ||
        c->n_smooth < 0 || !(c->alpha == c->alpha))
        return lt_set_error(LT_ERR_ARG, "swirl: bad setting (steps %d must be "
                            "even and >= 2, dt %g > 0, sigma %g > 0, N %d >= "
                            "0)", c->steps, c->dt, c->sigma, c->n_smooth);
    int bad = lt_mesh_count_tangled(mesh);
    if (bad)
        return lt_set_error(LT_ERR_ARG, "swirl: the input mesh has %d tangled "
                            "cells", bad);
    return LT_OK;
}

/* The steps; r->x and r->u hold the state. */
static lt_status sw_loop(sw_run *r, const lt_mesh *xi, lt_swirl_snap_fn snap,
                         void *ud, lt_swirl_result *res)
{
    lt_ma_warm warm = {0}, keep = {0};
    lt_mesh moved = {0};
    lt_status s = LT_OK;
    for (r->step = 0; r->step < r->c->steps && s == LT_OK; r->step++) {
        const lt_mesh *next = &r->x;
        if (r->mover)
            s = sw_mover_move(r, xi, &moved, res, &next);
        else if (r->c->move)
            s = sw_move(r, xi, &warm, &keep, &moved, res, &next);
        if (s == LT_OK)
            s = sw_advance(r, next, r->tmp);
        if (s == LT_OK && next != &r->x)
            memcpy(r->x.xy, next->xy, sizeof(double) * 2 * (size_t)xi->nv);
        if (s == LT_OK)
            memcpy(r->u, r->tmp, sizeof(double) * 3 * (size_t)xi->nt);
        lt_mesh_free(&moved);
        if (s == LT_OK && snap)
            s = snap(ud, r->step + 1, &r->x, r->u);
    }
    lt_ma_warm_free(&warm);
    lt_ma_warm_free(&keep);
    return s;
}

static lt_status sw_run_any(const lt_swirl_cfg *c, const lt_mesh *mesh,
                            lt_swirl_mover_fn mover, void *mover_ud,
                            lt_swirl_snap_fn snap, void *ud,
                            lt_swirl_result *res)
{
    memset(res, 0, sizeof *res);
    lt_status s = sw_check(c, mesh);
    if (s != LT_OK)
        return s;
    sw_run r = {.c = c, .mover = mover, .mover_ud = mover_ud};
    size_t nd = 3 * (size_t)mesh->nt;
    r.u = malloc(sizeof(double) * nd);
    r.tmp = malloc(sizeof(double) * nd);
    r.vel = malloc(sizeof(double) * 2 * (size_t)mesh->nv);
    r.mon = malloc(sizeof(double) * (size_t)mesh->nv);
    s = lt_mesh_copy(&r.x, mesh);
    if (s == LT_OK && (!r.u || !r.tmp || !r.vel || !r.mon))
        s = lt_set_error(LT_ERR_NOMEM, "swirl: out of memory");
    if (s == LT_OK)
        s = lt_dg1_adv_new(mesh, &r.adv);
    if (s == LT_OK)
        s = lt_mesh_cell_size_mean(mesh, &r.h);
    if (s == LT_OK) {
        lt_dg1_interpolate(mesh, lt_swirl_u0, (void *)c, r.u);
        res->mass0 = lt_dg1_integral(mesh, r.u);
        s = sw_loop(&r, mesh, snap, ud, res);
    }
    if (s == LT_OK) {
        res->mass = lt_dg1_integral(&r.x, r.u);
        res->l2_error = lt_dg1_l2_error(&r.x, r.u, lt_swirl_u0, (void *)c);
        res->mesh = r.x;
        res->u = r.u;
        r.u = NULL;
        memset(&r.x, 0, sizeof r.x);
    }
    lt_mesh_free(&r.x);
    lt_dg1_adv_free(r.adv);
    free(r.u);
    free(r.tmp);
    free(r.vel);
    free(r.mon);
    return s;
}

lt_status lt_swirl_run(const lt_swirl_cfg *c, const lt_mesh *mesh,
                       lt_swirl_snap_fn snap, void *ud, lt_swirl_result *res)
{
    return sw_run_any(c, mesh, NULL, NULL, snap, ud, res);
}

lt_status lt_swirl_run_mover(const lt_swirl_cfg *c, const lt_mesh *mesh,
                             lt_swirl_mover_fn mover, void *mover_ud,
                             lt_swirl_snap_fn snap, void *ud,
                             lt_swirl_result *res)
{
    if (!mover) {
        memset(res, 0, sizeof *res);
        return lt_set_error(LT_ERR_ARG, "swirl: no mesh mover");
    }
    return sw_run_any(c, mesh, mover, mover_ud, snap, ud, res);
}

void lt_swirl_result_free(lt_swirl_result *r)
{
    if (!r)
        return;
    lt_mesh_free(&r->mesh);
    free(r->u);
    memset(r, 0, sizeof *r);
}
